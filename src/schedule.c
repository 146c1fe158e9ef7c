/*
 * schedule.c: what each function body computes, and the names of its locals. Input: a
 * differentiated Func and the roots of one entry point (what it returns and stores). Output:
 * a Body, the operations and inputs those roots need in id order (a topological order, so
 * the forward sweep comes first and the reverse sweep after it), each marked as a named local
 * or as printed inside its single consumer; and, per definition, one C name per node, the
 * same in all its bodies. Printers (emit_c.c today) take it from there.
 *
 * A body is collected by a walk from its roots, so its cost follows the body's size, not the
 * DAG's (ordering it scans at most 16 ids per node): several entry points of one definition
 * cost the sum of their bodies. A node gets a
 * local when it is a named intermediate of the source, an adjoint or tangent a transform made
 * (named `p_bar` or `p_dot` after a named primal p), used more than once, or would make an
 * inlined expression deeper than MAX_INLINE; that bound keeps the printer's recursion depth
 * constant whatever the input. An operand a template names twice (relu's) counts as used
 * twice. Comparisons are always inlined into the selection they test.
 */
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

#define MAX_INLINE 6

void sched_init(Sched *s, const Func *f, Arena *arena, const NameSet *file_names)
{
    uint32_t n = f->dag.len;
    memset(s, 0, sizeof *s);
    s->f = f;
    s->arena = arena;
    names_init(&s->names, arena, 16, file_names);
    s->local = arena_alloc(arena, n * sizeof *s->local);
    s->stamp = xrealloc(NULL, n * sizeof *s->stamp);
    memset(s->stamp, 0, n * sizeof *s->stamp);
    s->pos = xrealloc(NULL, n * sizeof *s->pos);
    s->param = arena_alloc(arena, (size_t)(f->nparams + 1) * sizeof *s->param);
    s->gparam = arena_alloc(arena, (size_t)(f->nparams + 1) * sizeof *s->gparam);
    /* parameters and gradient pointers are claimed before any local; an element of an array
     * input is named by its place in the row-major array */
    for (int p = 0; p < f->nparams; p++) {
        const Param *pa = &f->params[p];
        s->param[p] = names_claim(&s->names, pa->name);
        for (uint32_t i = 0; i < pa->size; i++) {
            if (!pa->rank) {
                s->local[f->input[pa->first]] = s->param[p];
                continue;
            }
            Buf elem = {0};
            buf_printf(&elem, "%s[%u]", s->param[p], i);
            s->local[f->input[pa->first + i]] = arena_strndup(arena, elem.data, elem.len);
            buf_free(&elem);
        }
    }
    for (int p = 0; p < f->nparams; p++) {
        if (f->params[p].kind != PARAM_DIFF)
            continue;
        Buf want = {0};
        buf_printf(&want, "%s_bar", f->params[p].name);
        s->gparam[p] = names_claim(&s->names, want.data);
        buf_free(&want);
    }
}

void sched_free(Sched *s)
{
    names_free(&s->names);
    free(s->stamp);
    free(s->pos);
    s->stamp = NULL;
    s->pos = NULL;
}

void sched_entry(const Func *f, EntryKind k, Arena *arena, Entry *e)
{
    e->kind = k;
    e->nroots = f->nroots;
    if (k == ENTRY_GRAD)
        for (int p = 0; p < f->nparams; p++)
            if (f->params[p].kind == PARAM_DIFF)
                e->nroots += (int)f->params[p].size;
    e->roots = arena_alloc(arena, (size_t)e->nroots * sizeof *e->roots);
    e->param = arena_alloc(arena, (size_t)e->nroots * sizeof *e->param);
    e->elem = arena_alloc(arena, (size_t)e->nroots * sizeof *e->elem);
    int r = 0;
    for (; r < f->nroots; r++) {
        e->roots[r] = f->roots[r];
        e->param[r] = -1;
    }
    for (int p = 0; k == ENTRY_GRAD && p < f->nparams; p++) {
        for (uint32_t i = 0; f->params[p].kind == PARAM_DIFF && i < f->params[p].size; i++) {
            e->roots[r] = f->grad[f->params[p].first + i];
            e->elem[r] = i;
            e->param[r++] = p;
        }
    }
}

static int by_id(const void *x, const void *y)
{
    NodeId a = *(const NodeId *)x, b = *(const NodeId *)y;
    return (a > b) - (a < b);
}

long body_find(const Sched *s, const Body *b, NodeId id)
{
    return s->stamp[id] == b->generation ? (long)s->pos[id] : -1;
}

void sched_activate(Sched *s, Body *b)
{
    b->generation = ++s->generation;
    for (uint32_t k = 0; k < b->n; k++) {
        s->stamp[b->nodes[k]] = b->generation;
        s->pos[b->nodes[k]] = k;
    }
}

/* The operations and inputs reachable from the roots, ascending: sorted when they are few
 * against the span of their ids, else read off the marks in id order. */
static void collect(Sched *s, const NodeId *roots, int nroots, Body *b)
{
    const Dag *d = &s->f->dag;
    uint32_t cap = 64, top = 0, nodes_cap = 0;
    NodeId *stack = xrealloc(NULL, cap * sizeof *stack), lo = UINT32_MAX, hi = 0;
    uint32_t mark = ++s->generation;
    b->n = 0;
    b->nodes = NULL;
    for (int r = 0; r < nroots; r++) {
        stack[top++] = roots[r];
        while (top > 0) {
            NodeId id = stack[--top];
            if (!id || d->nodes[id].kind == N_CONST || s->stamp[id] == mark)
                continue;
            s->stamp[id] = mark;
            if (b->n == nodes_cap) {
                nodes_cap = nodes_cap ? 2 * nodes_cap : 64;
                b->nodes = xrealloc(b->nodes, nodes_cap * sizeof *b->nodes);
            }
            b->nodes[b->n++] = id;
            lo = id < lo ? id : lo;
            hi = id > hi ? id : hi;
            const Node *nd = &d->nodes[id];
            NodeId ops[3] = {nd->a, nd->b, nd->c};
            for (int i = 0; i < node_arity(nd->kind); i++) {
                if (top == cap) {
                    cap *= 2;
                    stack = xrealloc(stack, cap * sizeof *stack);
                }
                stack[top++] = ops[i];
            }
        }
    }
    free(stack);
    if (b->n && (uint64_t)b->n * 16 < (uint64_t)(hi - lo)) {
        qsort(b->nodes, b->n, sizeof *b->nodes, by_id);
    } else if (b->n) {
        uint32_t k = 0;
        for (NodeId id = lo; id <= hi; id++)
            if (s->stamp[id] == mark)
                b->nodes[k++] = id;
    }
    sched_activate(s, b);
}

/* How often the C of a node of kind k names its operands: once, but a template once per '@',
 * so that an operand it names twice gets a local instead of being computed twice. */
static uint32_t operand_uses(NodeKind k)
{
    if (op_info[k].form != F_TEMPLATE)
        return 1;
    uint32_t n = 0;
    for (const char *s = op_info[k].c; *s; s++)
        n += *s == '@';
    return n;
}

/* Which nodes get a local: see the comment at the top. */
static void choose_locals(const Sched *s, const NodeId *roots, int nroots, Body *b)
{
    const Dag *d = &s->f->dag;
    uint32_t *uses = xrealloc(NULL, (b->n + 1) * sizeof *uses);
    uint8_t *height = xrealloc(NULL, b->n + 1);
    memset(uses, 0, (b->n + 1) * sizeof *uses);
    memset(height, 0, b->n + 1);
    b->local = xrealloc(NULL, b->n + 1);
    memset(b->local, 0, b->n + 1);
    for (int r = 0; r < nroots; r++) {
        long p = body_find(s, b, roots[r]);
        if (p >= 0)
            uses[p]++;
    }
    for (uint32_t k = 0; k < b->n; k++) {
        const Node *nd = &d->nodes[b->nodes[k]];
        NodeId ops[3] = {nd->a, nd->b, nd->c};
        for (int i = 0; i < node_arity(nd->kind); i++) {
            long p = body_find(s, b, ops[i]);
            if (p >= 0)
                uses[p] += operand_uses(nd->kind);
        }
    }
    for (uint32_t k = 0; k < b->n; k++) {
        NodeId id = b->nodes[k];
        if (!node_is_op(d, id))
            continue;
        const Node *nd = &d->nodes[id];
        NodeId ops[3] = {nd->a, nd->b, nd->c};
        int h = 0;
        for (int i = 0; i < node_arity(nd->kind); i++) {
            long p = body_find(s, b, ops[i]);
            if (p >= 0 && height[p] > h)
                h = height[p];
        }
        int named = d->meta[id].label || d->meta[id].role != ROLE_NONE;
        if (op_info[nd->kind].form != F_CMP && (named || uses[k] > 1 || h + 1 > MAX_INLINE))
            b->local[k] = 1;
        else
            height[k] = (uint8_t)(h + 1);
    }
    free(uses);
    free(height);
}

static void name_locals(Sched *s, const Body *b)
{
    const Dag *d = &s->f->dag;
    for (uint32_t k = 0; k < b->n; k++) {
        NodeId id = b->nodes[k];
        if (!b->local[k] || s->local[id])
            continue;
        const NodeMeta *m = &d->meta[id];
        if (m->label) {
            s->local[id] = names_claim(&s->names, m->label);
        } else if (m->role != ROLE_NONE && s->local[m->of]) {
            Buf want = {0};
            buf_printf(&want, "%s_%s", s->local[m->of], m->role == ROLE_ADJOINT ? "bar" : "dot");
            s->local[id] = names_claim(&s->names, want.data);
            buf_free(&want);
        } else {
            char want[24];
            do
                snprintf(want, sizeof want, "t%u", ++s->temps);
            while (names_taken(&s->names, want));
            s->local[id] = names_claim(&s->names, want);
        }
    }
}

void sched_body(Sched *s, const NodeId *roots, int nroots, Body *b)
{
    collect(s, roots, nroots, b);
    choose_locals(s, roots, nroots, b);
    name_locals(s, b);
}

void body_free(Body *b)
{
    free(b->nodes);
    free(b->local);
    b->nodes = NULL;
    b->local = NULL;
}
