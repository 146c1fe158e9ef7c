/*
 * schedule.c: what each function body computes, and the names of its locals. Input: a
 * differentiated Func and the roots of one entry point (what it returns and stores). Output:
 * a Body, the operations and inputs those roots need in id order (a topological order, so
 * the forward sweep comes first and the reverse sweep after it) or interleaved (each node a
 * transform made right after the primal it needs: a jvp in eq. 5.121's order, and a large
 * body, so that few values live long), each marked as a named local or as printed inside its
 * single consumer; and, per definition, one C name per node, the same in all its bodies, and
 * the entry points' parameters. Printers (the emit stage, emit.h) take it from there.
 *
 * A body is collected by a walk from its roots, so its cost follows the body's size, not the
 * DAG's (ordering it scans at most 16 ids per node): several entry points of one definition
 * cost the sum of their bodies. A node gets a
 * local when it is a named intermediate of the source, an adjoint or tangent a transform made
 * (named `p_bar` or `p_dot` after a named primal p), used more than once, or would make an
 * inlined expression deeper than MAX_INLINE (that bound keeps the printer's recursion depth
 * constant whatever the input), or is the sin or the cos of a value whose other the body has
 * too (printed together by one sincos). An operand a template names twice (relu's) counts as
 * used twice. Comparisons are always inlined into the selection they test.
 */
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

#define MAX_INLINE 6

/* Claims name + suffix, e.g. "x_bar". */
static const char *claim2(Sched *s, const char *name, const char *suffix)
{
    Buf want = {0};
    buf_printf(&want, "%s%s", name, suffix);
    const char *got = names_claim(&s->names, want.data);
    buf_free(&want);
    return got;
}

/* Names input slots first .. first + size - 1 as the scalar `name` or the elements name[k]. */
static void name_slots(Sched *s, uint32_t first, uint32_t size, int array, const char *name)
{
    const Func *f = s->f;
    for (uint32_t i = 0; i < size; i++) {
        if (!array) {
            s->local[f->input[first + i]] = name;
            continue;
        }
        Buf elem = {0};
        buf_printf(&elem, "%s[%u]", name, i);
        s->local[f->input[first + i]] = arena_strndup(s->arena, elem.data, elem.len);
        buf_free(&elem);
    }
}

void sched_init(Sched *s, const Func *f, Arena *arena, const NameSet *file_names)
{
    uint32_t n = f->dag.len;
    unsigned want = func_built(f);
    memset(s, 0, sizeof *s);
    s->f = f;
    s->arena = arena;
    names_init(&s->names, arena, 16, file_names);
    s->local = arena_alloc(arena, n * sizeof *s->local);
    s->stamp = xrealloc(NULL, n * sizeof *s->stamp);
    memset(s->stamp, 0, n * sizeof *s->stamp);
    s->pos = xrealloc(NULL, n * sizeof *s->pos);
    s->keep = xrealloc(NULL, n);
    memset(s->keep, 0, n);
    for (int k = 0; k < f->nsizes; k++)
        s->size[k] = names_claim(&s->names, f->size[k]);
    size_t np = (size_t)(f->nparams + 1);
    s->param = arena_alloc(arena, np * sizeof *s->param);
    s->gparam = arena_alloc(arena, np * sizeof *s->gparam);
    s->dparam = arena_alloc(arena, np * sizeof *s->dparam);
    s->hparam = arena_alloc(arena, np * sizeof *s->hparam);
    /* parameters, then the pointers and seeds of the entry points, before any local; an
     * element of an array is named by its place in the row-major array */
    for (int p = 0; p < f->nparams; p++) {
        const Param *pa = &f->params[p];
        s->param[p] = names_claim(&s->names, pa->name);
        name_slots(s, pa->first, pa->size, pa->rank > 0, s->param[p]);
    }
    uint32_t dot = f->dot_slot;
    for (int p = 0; p < f->nparams; p++) {
        const Param *pa = &f->params[p];
        if (pa->kind != PARAM_DIFF)
            continue;
        if (want & ENTRIES_REVERSE)
            s->gparam[p] = claim2(s, pa->name, "_bar");
        if (want & ENTRIES_TANGENTS) {
            s->dparam[p] = claim2(s, pa->name, "_dot");
            name_slots(s, dot, pa->size, pa->rank > 0, s->dparam[p]);
            dot += pa->size;
        }
        if (want & 1u << ENTRY_HVP)
            s->hparam[p] = claim2(s, pa->name, "_hv");
    }
    if (f->vector)
        s->out = names_claim(&s->names, "out");
    if (want & 1u << ENTRY_JVP)
        s->out_dot = names_claim(&s->names, "out_dot");
    if (want & 1u << ENTRY_VJP) {
        s->out_bar = names_claim(&s->names, "out_bar");
        name_slots(s, f->bar_slot, (uint32_t)f->nroots, f->vector, s->out_bar);
    }
    if (want & 1u << ENTRY_JAC)
        s->jac = names_claim(&s->names, "jac");
    if (want & 1u << ENTRY_JAC_SPARSE)
        s->jac_nz = names_claim(&s->names, "jac_nz");
    if (want & 1u << ENTRY_HESS)
        s->hess = names_claim(&s->names, "hess");
    if (want & 1u << ENTRY_HESS_SPARSE)
        s->hess_nz = names_claim(&s->names, "hess_nz");
    /* a recurrence's tapes and trajectories; the products of a sparse matrix of run-time
     * size (their pattern is code) */
    int work = f->band.colours && want & (1u << ENTRY_HESS_SPARSE | 1u << ENTRY_JAC_SPARSE);
    for (int i = 0; i < f->nloops; i++)
        work |= (f->loops[i].nstate && (want & (ENTRIES_REVERSE | 1u << ENTRY_HVP) || f->ntraj)) ||
                f->loops[i].per_step;
    work |= func_dense_runtime(f); /* the columns' direction */
    if (work)
        s->work = names_claim(&s->names, "work");
    if (want & ENTRIES_CKP)
        s->snaps = names_claim(&s->names, "snaps");
}

void sched_claim_batch(Sched *s)
{
    if (!s->f->vector)
        s->out = names_claim(&s->names, "out");
    s->points = names_claim(&s->names, "points");
    s->point = names_claim(&s->names, "p");
}

void sched_free(Sched *s)
{
    names_free(&s->names);
    free(s->stamp);
    free(s->pos);
    free(s->keep);
    s->stamp = NULL;
    s->pos = NULL;
    s->keep = NULL;
}

/* ---- entry points ------------------------------------------------------------------------- */

typedef struct {
    const Sched *s;
    Entry *e;
    uint32_t cap;
} EntryBuilder;

static int add_arg(EntryBuilder *eb, const char *name, int out, int array, uint32_t size,
                   int param, uint32_t slot)
{
    Entry *e = eb->e;
    e->args = xrealloc(e->args, (size_t)(e->nargs + 1) * sizeof *e->args);
    Arg *a = &e->args[e->nargs];
    a->name = name;
    a->out = out;
    a->array = array;
    a->size = size;
    a->param = param;
    a->slot = slot;
    a->fill = 0;
    a->count = 0;
    return e->nargs++;
}

static void add_store(EntryBuilder *eb, int arg, uint32_t elem, NodeId node)
{
    Entry *e = eb->e;
    if (e->nstores == eb->cap) {
        eb->cap = eb->cap ? 2 * eb->cap : 16;
        e->roots = xrealloc(e->roots, (eb->cap + 1) * sizeof *e->roots);
        e->arg = xrealloc(e->arg, eb->cap * sizeof *e->arg);
        e->elem = xrealloc(e->elem, eb->cap * sizeof *e->elem);
    }
    e->roots[e->nstores] = node;
    e->arg[e->nstores] = arg;
    e->elem[e->nstores++] = elem;
}

/* The values of f: returned, or stored through `out` (a batched variant's too). */
static void add_values(EntryBuilder *eb)
{
    const Func *f = eb->s->f;
    if (!f->vector && !entry_info[eb->e->kind].batch) {
        eb->e->ret = f->roots[0];
        return;
    }
    int out = add_arg(eb, eb->s->out, 1, 1, (uint32_t)f->nroots, -1, 0);
    for (int r = 0; r < f->nroots; r++)
        add_store(eb, out, (uint32_t)r, f->roots[r]);
}

/* Per differentiated input, a pointer (`names` per parameter) that gets the values of nodes
 * (one per differentiated scalar). */
static void add_per_input(EntryBuilder *eb, const char **names, int out, const NodeId *nodes)
{
    const Func *f = eb->s->f;
    uint32_t k = 0;
    for (int p = 0; p < f->nparams; p++) {
        const Param *pa = &f->params[p];
        if (pa->kind != PARAM_DIFF)
            continue;
        int a = add_arg(eb, names[p], out, pa->rank > 0, pa->size, p, f->dot_slot + k);
        for (uint32_t i = 0; nodes && i < pa->size; i++)
            add_store(eb, a, i, nodes[k + i]);
        k += pa->size;
    }
}

/* A dense matrix of rows x cols from the nonzeros of sp (mirrored too when `mirror`). */
static void add_dense(EntryBuilder *eb, const char *name, uint32_t rows, uint32_t cols,
                      const Sparse *sp, int mirror)
{
    uint64_t size = (uint64_t)rows * cols;
    int a = add_arg(eb, name, 1, 1, (uint32_t)size, -1, 0);
    uint64_t stored = (uint64_t)sp->nnz * (mirror ? 2 : 1);
    /* a loop zeroes a matrix with more than a few zeros; the nonzeros are stored after */
    if (size > stored + 8) {
        eb->e->args[a].fill = 1;
        for (uint32_t k = 0; k < sp->nnz; k++) {
            add_store(eb, a, sp->row[k] * cols + sp->col[k], sp->node[k]);
            if (mirror && sp->row[k] != sp->col[k])
                add_store(eb, a, sp->col[k] * cols + sp->row[k], sp->node[k]);
        }
        return;
    }
    for (uint32_t i = 0; i < rows; i++) {
        for (uint32_t j = 0; j < cols; j++) {
            /* above the diagonal, (i, j) of a mirrored matrix is (j, i) */
            uint32_t k = mirror && j > i ? sparse_find(sp, j, i) : sparse_find(sp, i, j);
            add_store(eb, a, i * cols + j, k < sp->nnz ? sp->node[k] : eb->s->f->zero);
        }
    }
}

static void add_sparse(EntryBuilder *eb, const char *name, const Sparse *sp)
{
    int a = add_arg(eb, name, 1, 1, sp->nnz, -1, 0);
    for (uint32_t k = 0; k < sp->nnz; k++)
        add_store(eb, a, k, sp->node[k]);
    eb->e->pattern = sp;
}

void sched_entry(const Sched *s, EntryKind k, Entry *e)
{
    const Func *f = s->f;
    EntryBuilder eb = {s, e, 0};
    memset(e, 0, sizeof *e);
    e->kind = k;
    switch (entry_of(k)) {
    case ENTRY_VALUE:
        add_values(&eb);
        break;
    case ENTRY_GRAD: {
        NodeId *g = xrealloc(NULL, (f->ndiff + 1) * sizeof *g);
        for (uint32_t i = 0; i < f->ndiff; i++)
            g[i] = f->mode[ENTRY_GRAD].node[f->diff[i]];
        add_values(&eb);
        add_per_input(&eb, s->gparam, 1, g);
        free(g);
        break;
    }
    case ENTRY_JVP:
        add_per_input(&eb, s->dparam, 0, NULL);
        add_values(&eb);
        if (f->vector) {
            int a = add_arg(&eb, s->out_dot, 1, 1, (uint32_t)f->nroots, -1, 0);
            for (int r = 0; r < f->nroots; r++)
                add_store(&eb, a, (uint32_t)r, f->mode[ENTRY_JVP].node[r]);
        } else {
            add_store(&eb, add_arg(&eb, s->out_dot, 1, 0, 1, -1, 0), 0,
                      f->mode[ENTRY_JVP].node[0]);
        }
        break;
    case ENTRY_VJP:
        add_arg(&eb, s->out_bar, 0, f->vector, (uint32_t)f->nroots, -1, f->bar_slot);
        add_values(&eb);
        add_per_input(&eb, s->gparam, 1, f->mode[ENTRY_VJP].node);
        break;
    case ENTRY_JAC:
        add_values(&eb);
        if (func_columns(f, k) != ENTRY_KINDS) /* calls of jvp fill it */
            add_arg(&eb, s->jac, 1, 1, (uint32_t)f->nroots * f->ndiff, -1, 0);
        else
            add_dense(&eb, s->jac, (uint32_t)f->nroots, f->ndiff, &f->mode[ENTRY_JAC].sparse, 0);
        break;
    case ENTRY_JAC_SPARSE:
        add_values(&eb);
        if (func_columns(f, k) != ENTRY_KINDS) { /* calls of jvp (along colours) fill it */
            add_arg(&eb, s->jac_nz, 1, 1, 0, -1, 0);
            if (f->mode[ENTRY_JAC].sparse.row) /* dense, of a constant number of values */
                e->pattern = &f->mode[ENTRY_JAC].sparse;
        } else
            add_sparse(&eb, s->jac_nz, &f->mode[ENTRY_JAC].sparse);
        break;
    case ENTRY_HVP:
        e->ret = f->roots[0];
        add_per_input(&eb, s->dparam, 0, NULL);
        add_per_input(&eb, s->hparam, 1, f->mode[ENTRY_HVP].node);
        break;
    case ENTRY_HESS:
        e->ret = f->roots[0];
        if (func_columns(f, k) != ENTRY_KINDS) /* calls of hvp fill it */
            add_arg(&eb, s->hess, 1, 1, f->ndiff * f->ndiff, -1, 0);
        else
            add_dense(&eb, s->hess, f->ndiff, f->ndiff, &f->mode[ENTRY_HESS].sparse, 1);
        break;
    case ENTRY_HESS_SPARSE:
        e->ret = f->roots[0];
        if (func_columns(f, k) != ENTRY_KINDS) { /* calls of hvp (along colours) fill it */
            add_arg(&eb, s->hess_nz, 1, 1, 0, -1, 0);
            if (f->mode[ENTRY_HESS].sparse.row) /* dense */
                e->pattern = &f->mode[ENTRY_HESS].sparse;
        } else
            add_sparse(&eb, s->hess_nz, &f->mode[ENTRY_HESS].sparse);
        break;
    case ENTRY_GRAD_CKP: case ENTRY_VJP_CKP: case ENTRY_VALUE_BATCH: case ENTRY_GRAD_BATCH:
    case ENTRY_JVP_BATCH: case ENTRY_VJP_BATCH: case ENTRY_KINDS:
        abort();
    }
    if (ENTRIES_CKP >> k & 1) {
        int a = add_arg(&eb, s->snaps, 0, 0, 0, -1, 0);
        e->args[a].count = 1;
    }
    /* a recurrence's tape (trajectories: every entry point), or a chunked body's values */
    int taped = func_recurrences(f) > 0 || f->ntraj; /* a sum per step's trajectory */
    if (s->work && (s->chunk_work[k] ||
                    (taped && (entry_reverse(k) || f->ntraj || k == ENTRY_HVP ||
                               k == ENTRY_HESS || k == ENTRY_HESS_SPARSE)) ||
                    (f->band.colours && entry_info[k].sparse) ||
                    (func_runtime_columns(f) && (k == ENTRY_JAC || k == ENTRY_HESS))))
        add_arg(&eb, s->work, 1, 1, 0, -1, 0);
    e->nroots = e->nstores;
    if (!e->roots)
        e->roots = xrealloc(NULL, sizeof *e->roots);
    if (e->ret)
        e->roots[e->nroots++] = e->ret;
}

void entry_free(Entry *e)
{
    free(e->args);
    free(e->roots);
    free(e->arg);
    free(e->elem);
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

/* Bodies that reach more nodes than this are collected by a pass down the ids. */
#define SMALL_BODY 4096

/* The operations and inputs reachable from the roots, ascending. A small body is searched
 * from its roots and sorted; past SMALL_BODY nodes the search stops and the ids are read
 * down from the largest root instead, each marked node marking its operands, so that the
 * nodes are read in order rather than at random (a large body's search missed the cache at
 * nearly every node). */
static void collect(Sched *s, const NodeId *roots, int nroots, Body *b)
{
    const Dag *d = &s->f->dag;
    uint32_t cap = 64, top = 0;
    NodeId *stack = xrealloc(NULL, cap * sizeof *stack), hi = 0;
    uint32_t mark = ++s->generation;
    b->n = 0;
    b->nodes = xrealloc(NULL, (SMALL_BODY + 1) * sizeof *b->nodes);
    for (int r = 0; r < nroots && b->n <= SMALL_BODY; r++) {
        stack[top++] = roots[r];
        while (top > 0 && b->n <= SMALL_BODY) {
            NodeId id = stack[--top];
            if (!id || d->nodes[id].kind == N_CONST || s->stamp[id] == mark)
                continue;
            s->stamp[id] = mark;
            b->nodes[b->n++] = id;
            if (s->keep[id] == KEEP_LEAF)
                continue;
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
    if (b->n <= SMALL_BODY) {
        qsort(b->nodes, b->n, sizeof *b->nodes, node_id_order);
        sched_activate(s, b);
        return;
    }
    /* marked: reached (constants too, passed over where they are read) */
    mark = ++s->generation;
    uint32_t pending = 0, n = 0, nodes_cap = 2 * SMALL_BODY;
    for (int r = 0; r < nroots; r++)
        if (roots[r] && s->stamp[roots[r]] != mark) {
            s->stamp[roots[r]] = mark;
            pending++;
            hi = roots[r] > hi ? roots[r] : hi;
        }
    b->nodes = xrealloc(b->nodes, nodes_cap * sizeof *b->nodes);
    for (NodeId id = hi; pending; id--) {
        if (s->stamp[id] != mark)
            continue;
        pending--;
        const Node *nd = &d->nodes[id];
        if (nd->kind == N_CONST)
            continue;
        if (n == nodes_cap) {
            nodes_cap *= 2;
            b->nodes = xrealloc(b->nodes, nodes_cap * sizeof *b->nodes);
        }
        b->nodes[n++] = id;
        if (s->keep[id] == KEEP_LEAF)
            continue;
        NodeId ops[3] = {nd->a, nd->b, nd->c};
        for (int i = 0; i < node_arity(nd->kind); i++)
            if (s->stamp[ops[i]] != mark) {
                s->stamp[ops[i]] = mark;
                pending++;
            }
    }
    b->n = n;
    for (uint32_t i = 0; i < n / 2; i++) {
        NodeId t = b->nodes[i];
        b->nodes[i] = b->nodes[n - 1 - i];
        b->nodes[n - 1 - i] = t;
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

/* Sorted by key, then id. */
typedef struct {
    NodeId key, id;
} Keyed;

static int by_key(const void *x, const void *y)
{
    const Keyed *a = x, *b = y;
    return a->key != b->key ? (a->key > b->key) - (a->key < b->key) : (a->id > b->id) - (a->id < b->id);
}

/* The sin and the cos of one value in one body (the forward sweep's sin x and the reverse
 * sweep's cos x): both get locals, printed by one sincos call (print.c), and in a large body
 * an interleaved order puts them side by side after x, in one chunk. Not of a constant,
 * which gcc folds when it compiles (correctly rounded; sincos at run time, not always). Per
 * position: the other's position + 1, or 0; NULL when the body has no such pair. */
static uint32_t *trig_partners(const Sched *s, const Body *b)
{
    const Dag *d = &s->f->dag;
    Keyed *t = NULL; /* each sin and cos by its operand (key), at its position (id) */
    uint32_t n = 0, cap = 0, *partner = NULL;
    for (uint32_t k = 0; k < b->n; k++) {
        NodeId id = b->nodes[k];
        const Node *nd = &d->nodes[id];
        if ((nd->kind != N_SIN && nd->kind != N_COS) || s->keep[id] == KEEP_LEAF ||
            d->nodes[nd->a].kind == N_CONST)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            t = xrealloc(t, cap * sizeof *t);
        }
        t[n++] = (Keyed){nd->a, k};
    }
    if (n > 1)
        qsort(t, n, sizeof *t, by_key);
    for (uint32_t i = 0; i + 1 < n; i++) {
        uint32_t p = t[i].id, q = t[i + 1].id;
        if (t[i].key != t[i + 1].key ||
            d->nodes[b->nodes[p]].kind == d->nodes[b->nodes[q]].kind)
            continue;
        if (!partner) {
            partner = xrealloc(NULL, (b->n + 1) * sizeof *partner);
            memset(partner, 0, (b->n + 1) * sizeof *partner);
        }
        partner[p] = q + 1;
        partner[q] = p + 1;
        i++;
    }
    free(t);
    return partner;
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
    b->partner = trig_partners(s, b);
    b->printed = NULL;
    if (b->partner) {
        b->printed = xrealloc(NULL, b->n + 1);
        memset(b->printed, 0, b->n + 1);
    }
    for (int r = 0; r < nroots; r++) {
        long p = body_find(s, b, roots[r]);
        if (p >= 0)
            uses[p]++;
    }
    for (uint32_t k = 0; k < b->n; k++) {
        const Node *nd = &d->nodes[b->nodes[k]];
        NodeId ops[3] = {nd->a, nd->b, nd->c};
        for (int i = 0; s->keep[b->nodes[k]] != KEEP_LEAF && i < node_arity(nd->kind); i++) {
            long p = body_find(s, b, ops[i]);
            if (p >= 0)
                uses[p] += operand_uses(nd->kind);
        }
    }
    for (uint32_t k = 0; k < b->n; k++) {
        NodeId id = b->nodes[k];
        if (!node_is_op(d, id) || s->keep[id] == KEEP_LEAF)
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
        if (op_info[nd->kind].form != F_CMP &&
            (named || uses[k] > 1 || h + 1 > MAX_INLINE || (b->partner && b->partner[k]) ||
             s->keep[id]))
            b->local[k] = 1;
        else
            height[k] = (uint8_t)(h + 1);
    }
    free(uses);
    free(height);
}

/* Names the locals: the primal's first, so that an adjoint or a tangent scheduled before its
 * primal (a tangent of an interleaved body) is still named after it. */
static void name_locals(Sched *s, const Body *b)
{
    const Dag *d = &s->f->dag;
    Buf want = {0}; /* one buffer for every name made */
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t k = 0; k < b->n; k++) {
            NodeId id = b->nodes[k];
            const NodeMeta *m = &d->meta[id];
            if (!b->local[k] || s->local[id] || (m->role != ROLE_NONE) != pass)
                continue;
            if (m->label) {
                s->local[id] = names_claim(&s->names, m->label);
            } else if (m->role != ROLE_NONE && s->local[m->of]) {
                want.len = 0;
                buf_printf(&want, "%s_%s", s->local[m->of],
                           m->role == ROLE_ADJOINT ? "bar" : "dot");
                s->local[id] = names_claim(&s->names, want.data);
            } else {
                do {
                    want.len = 0;
                    buf_printf(&want, "t%u", ++s->temps);
                } while (!(s->local[id] = names_claim_free(&s->names, want.data)));
            }
        }
    }
    buf_free(&want);
}

/* Puts the nodes of b, which are in id order, in the order of k (their keys, in b's order):
 * by key, then id. A counting sort when the keys span few values per node (it is stable, and
 * the nodes are in id order), else qsort. */
static void sort_by_key(Keyed *k, Body *b)
{
    if (!b->n)
        return;
    NodeId lo = k[0].key, hi = k[0].key;
    for (uint32_t i = 1; i < b->n; i++) {
        lo = k[i].key < lo ? k[i].key : lo;
        hi = k[i].key > hi ? k[i].key : hi;
    }
    if ((uint64_t)b->n * 16 < (uint64_t)(hi - lo)) {
        qsort(k, b->n, sizeof *k, by_key);
        for (uint32_t i = 0; i < b->n; i++)
            b->nodes[i] = k[i].id;
        return;
    }
    size_t span = (size_t)(hi - lo) + 2;
    uint32_t *start = xrealloc(NULL, span * sizeof *start);
    memset(start, 0, span * sizeof *start);
    for (uint32_t i = 0; i < b->n; i++)
        start[k[i].key - lo + 1]++;
    for (size_t j = 1; j < span; j++)
        start[j] += start[j - 1];
    for (uint32_t i = 0; i < b->n; i++)
        b->nodes[start[k[i].key - lo]++] = k[i].id;
    free(start);
}

/* Moves each node a transform made to just after the last primal node it depends on, so a
 * tangent follows its primal (eq. 5.121: a, a', b, b', ...); still a topological order, as
 * a node's key is at least its operands' (and a tangent's at least its primal's). */
static void interleave(Sched *s, Body *b)
{
    const Func *f = s->f;
    Keyed *k = xrealloc(NULL, (b->n + 1) * sizeof *k);
    for (uint32_t i = 0; i < b->n; i++) {
        NodeId id = b->nodes[i], key = 0;
        const Node *nd = &f->dag.nodes[id];
        if (id < f->nprimal) {
            key = id;
        } else if (node_is_op(&f->dag, id)) {
            NodeId ops[3] = {nd->a, nd->b, nd->c};
            for (int o = 0; o < node_arity(nd->kind); o++) {
                long p = body_find(s, b, ops[o]);
                if (p >= 0 && k[p].key > key)
                    key = k[p].key;
            }
            /* and the tangent of p after p */
            if (f->dag.meta[id].role != ROLE_NONE && f->dag.meta[id].of > key &&
                body_find(s, b, f->dag.meta[id].of) >= 0)
                key = f->dag.meta[id].of;
        }
        k[i].key = key;
        k[i].id = id;
    }
    sort_by_key(k, b);
    free(k);
    sched_activate(s, b);
}

void sched_body(Sched *s, const NodeId *roots, int nroots, Body *b, int interleaved)
{
    collect(s, roots, nroots, b);
    if (!s->f->nloops && (interleaved || b->n > LARGE_BODY))
        interleave(s, b);
    choose_locals(s, roots, nroots, b);
    name_locals(s, b);
}

void body_free(Body *b)
{
    free(b->nodes);
    free(b->local);
    free(b->partner);
    free(b->printed);
    b->nodes = NULL;
    b->local = NULL;
    b->partner = NULL;
    b->printed = NULL;
}
