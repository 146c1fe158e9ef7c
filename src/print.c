/*
 * print.c: expressions and statements in C. Input: a node of a scheduled body, with the
 * definition's C names and the body's locals (a Printer). Output: a reference to it (a
 * local's name, or its expression with the operands that are not locals printed inside it,
 * in the parentheses C's precedence needs and those gcc asks for), or a statement: a local's
 * declaration, a store through a pointer parameter, the return; and the integers of the
 * generated code (affine indices, run-time lengths). Invariants: an expression nests no deeper
 * than schedule.c's MAX_INLINE, whatever the input, and each constant of a definition is
 * formatted once.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adgen.h"
#include "emit.h"

/* ---- expressions ---------------------------------------------------------------------------- */

static const Dag *dag_of(const Printer *p)
{
    return &p->e->s.f->dag;
}

int print_is_local(const Printer *p, NodeId id)
{
    long k = body_find(&p->e->s, p->b, id);
    return k >= 0 && p->b->local[k];
}

/* The operand a product or quotient by an input bound to 1 (e->one) prints as, else 0: x * 1
 * and x / 1 are x exactly. */
static NodeId times_one(const Printer *p, const Node *nd)
{
    if (!p->e->one)
        return 0;
    if (nd->kind == N_MUL && p->e->one[nd->a])
        return nd->b;
    if ((nd->kind == N_MUL || nd->kind == N_DIV) && p->e->one[nd->b])
        return nd->a;
    return 0;
}

static int prec_of(const Printer *p, NodeId id)
{
    const Node *nd = &dag_of(p)->nodes[id];
    if (times_one(p, nd) && !print_is_local(p, id) && p->e->s.keep[id] != KEEP_LEAF)
        return prec_of(p, times_one(p, nd));
    if (nd->kind == N_CONST)
        return nd->k < 0 || (nd->k == 0 && signbit(nd->k)) ? P_UNARY : P_PRIMARY;
    if (nd->kind == N_INPUT || print_is_local(p, id) || p->e->s.keep[id] == KEEP_LEAF)
        return P_PRIMARY;
    switch (op_info[nd->kind].form) {
    case F_ADD: return P_ADD;
    case F_MUL: return P_MUL;
    case F_NEG: return P_UNARY;
    case F_LEAF: case F_CMP: case F_LOGIC: case F_NOT: case F_IF: case F_CALL: case F_TEMPLATE:
        return P_PRIMARY;
    }
    return P_PRIMARY;
}

void print_operand(Buf *out, const Printer *p, NodeId id, int min_prec)
{
    if (prec_of(p, id) < min_prec) {
        buf_puts(out, "(");
        print_expr(out, p, id);
        buf_puts(out, ")");
    } else {
        print_expr(out, p, id);
    }
}

void print_expr(Buf *out, const Printer *p, NodeId id)
{
    const Dag *d = dag_of(p);
    const Node *nd = &d->nodes[id];
    if (nd->kind == N_CONST) {
        /* a constant is printed in several functions and often several times: format it once */
        const char **text = &p->e->literal[id];
        if (!*text) {
            Buf t = {0};
            if (d->meta[id].label)
                put_spelled(&t, d->meta[id].label, p->e->opt->compile.real);
            else
                put_real(&t, nd->k, p->e->opt->compile.real);
            *text = arena_strndup(p->e->s.arena, t.data, t.len);
            buf_free(&t);
        }
        buf_puts(out, *text);
    } else if (nd->kind == N_INPUT || print_is_local(p, id) || p->e->s.keep[id] == KEEP_LEAF) {
        buf_puts(out, p->e->s.local[id]);
    } else {
        print_node(out, p, id);
    }
}

int print_is_boolean(NodeKind k)
{
    OpForm f = op_info[k].form;
    return f == F_CMP || f == F_LOGIC || f == F_NOT;
}

/* An operand of && or || or !: a nested logic operation in parentheses (gcc asks for them
 * around && within ||), a comparison or a name bare. */
static void put_logic_operand(Buf *out, const Printer *p, NodeId id)
{
    NodeKind k = dag_of(p)->nodes[id].kind;
    int paren = (op_info[k].form == F_LOGIC || op_info[k].form == F_NOT) && !print_is_local(p, id);
    buf_puts(out, paren ? "(" : "");
    print_condition(out, p, id);
    buf_puts(out, paren ? ")" : "");
}

void print_test(Buf *out, const Printer *p, NodeId id)
{
    const Node *nd = &dag_of(p)->nodes[id];
    OpForm form = op_info[nd->kind].form;
    if (form == F_CMP) {
        print_operand(out, p, nd->a, P_ADD);
        buf_printf(out, " %s ", op_info[nd->kind].c);
        print_operand(out, p, nd->b, P_ADD);
    } else if (form == F_LOGIC) {
        put_logic_operand(out, p, nd->a);
        buf_printf(out, " %s ", op_info[nd->kind].c);
        put_logic_operand(out, p, nd->b);
    } else if (form == F_NOT) {
        /* bare only before a boolean local's name: !(x != 0.0), not !x != 0.0 */
        int bare = print_is_boolean(dag_of(p)->nodes[nd->a].kind) && print_is_local(p, nd->a);
        buf_puts(out, bare ? "!" : "!(");
        print_condition(out, p, nd->a);
        buf_puts(out, bare ? "" : ")");
    } else {
        print_operand(out, p, id, P_ADD);
        buf_puts(out, " != ");
        put_real(out, 0.0, p->e->opt->compile.real);
    }
}

void print_condition(Buf *out, const Printer *p, NodeId id)
{
    if (print_is_boolean(dag_of(p)->nodes[id].kind) && print_is_local(p, id))
        buf_puts(out, p->e->s.local[id]);
    else
        print_test(out, p, id);
}

/* A template of ops.h (see OpForm) with the node `operand` for '@': bare where it is a whole
 * argument, exp(@), else in parentheses unless it is primary, as -@ must not make --1.0 of a
 * constant -1. */
static void put_template(Buf *out, const Printer *p, const char *text, NodeId operand)
{
    RealType real = p->e->opt->compile.real;
    for (const char *t = text; *t;) {
        if (*t == '@') {
            int whole = t > text && (t[-1] == '(' || t[-1] == ',') &&
                        (t[1] == ')' || t[1] == ',');
            print_operand(out, p, operand, whole ? P_TERNARY : P_PRIMARY);
            t++;
        } else if (*t >= '0' && *t <= '9') {
            char *end;
            put_real(out, strtod(t, &end), real);
            t = end;
        } else if (*t >= 'a' && *t <= 'z') {
            size_t n = strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789");
            buf_putn(out, t, n);
            if (t[n] == '(')
                buf_puts(out, real_suffix[real]);
            t += n;
        } else {
            buf_putn(out, t++, 1);
        }
    }
}

void print_node(Buf *out, const Printer *p, NodeId id)
{
    const Node *nd = &dag_of(p)->nodes[id];
    const OpInfo *op = &op_info[nd->kind];
    RealType real = p->e->opt->compile.real;
    if (times_one(p, nd)) {
        print_expr(out, p, times_one(p, nd));
        return;
    }
    switch (op->form) {
    case F_ADD: case F_MUL: {
        int prec = op->form == F_ADD ? P_ADD : P_MUL;
        print_operand(out, p, nd->a, prec);
        buf_printf(out, " %s ", op->c);
        print_operand(out, p, nd->b, prec + 1); /* (a + b) + c but a + (b + c): keep the order */
        break;
    }
    case F_NEG:
        buf_puts(out, "-");
        print_operand(out, p, nd->a, P_PRIMARY);
        break;
    case F_CMP: case F_LOGIC: case F_NOT: /* as a value: 1 or 0 */
        buf_puts(out, "(");
        print_test(out, p, id);
        buf_puts(out, " ? ");
        put_real(out, 1.0, real);
        buf_puts(out, " : ");
        put_real(out, 0.0, real);
        buf_puts(out, ")");
        break;
    case F_IF: {
        /* (!c ? u : v) reads better as (c ? v : u) */
        NodeId test = nd->a, yes = nd->b, no = nd->c;
        if (dag_of(p)->nodes[test].kind == N_NOT && !print_is_local(p, test)) {
            test = dag_of(p)->nodes[test].a;
            yes = nd->c;
            no = nd->b;
        }
        buf_puts(out, "(");
        print_condition(out, p, test);
        buf_puts(out, " ? ");
        print_operand(out, p, yes, P_ADD);
        buf_puts(out, " : ");
        print_operand(out, p, no, P_ADD);
        buf_puts(out, ")");
        break;
    }
    case F_CALL: {
        NodeId ops[3] = {nd->a, nd->b, nd->c};
        buf_printf(out, "%s%s(", op->c, real_suffix[real]);
        for (int i = 0; i < op->arity; i++) {
            buf_puts(out, i ? ", " : "");
            print_expr(out, p, ops[i]);
        }
        buf_puts(out, ")");
        break;
    }
    case F_TEMPLATE:
        put_template(out, p, op->c, nd->a);
        break;
    case F_LEAF:
        abort(); /* constants and inputs are printed by print_expr */
    }
}

/* ---- statements ----------------------------------------------------------------------------- */

int print_adds_into(const DefOut *e, const Entry *entry, const Arg *a)
{
    return e->opt->accumulate && entry_reverse(entry->kind) &&
           a->param >= 0;
}

/* Store r adds into its argument and adds a zero: it prints no statement, but for (void) of
 * the argument once (*once, for its first element) when nothing else names it. */
static int adds_zero(const DefOut *e, const Entry *entry, uint32_t r, int *once)
{
    const Func *f = e->s.f;
    const Arg *a = &entry->args[entry->arg[r]];
    /* a kept loop adds into the gradient of the arrays it reads, zeroed first */
    int loaded = a->param >= 0 && f->params[a->param].loaded;
    *once = !loaded && (!a->array || entry->elem[r] == 0);
    return (print_adds_into(e, entry, a) || loaded) && dag_is_const(&f->dag, entry->roots[r], 0.0);
}

int print_store_silent(const DefOut *e, const Entry *entry, uint32_t r)
{
    int once;
    return adds_zero(e, entry, r, &once) && !once;
}

void print_store(Emitter *em, const Printer *pr, const Entry *entry, uint32_t r)
{
    const DefOut *e = pr->e;
    const Func *f = e->s.f;
    Buf *out = em->out;
    const Arg *a = &entry->args[entry->arg[r]];
    int loaded = a->param >= 0 && f->params[a->param].loaded, once;
    int adds = print_adds_into(e, entry, a) || loaded;
    const char *indent = pr->batch ? "        " : "    ";
    if (adds_zero(e, entry, r, &once)) {
        /* (void) once for the whole array: no statement per untouched element */
        if (once)
            buf_printf(out, "%s(void)%s; /* %s does not depend on %s */\n", indent, a->name,
                       e->fn[ENTRY_VALUE], a->array ? "some of its elements" : "it");
        return;
    }
    lines_at_source(em, lines_of(f, entry->roots[r]));
    if (pr->batch && entry->elem[r])
        buf_printf(out, "%s%s[%u * %s + %s] %s= ", indent, a->name, entry->elem[r], e->s.points,
                   e->s.point, adds ? "+" : "");
    else if (pr->batch)
        buf_printf(out, "%s%s[%s] %s= ", indent, a->name, e->s.point, adds ? "+" : "");
    else if (a->array)
        buf_printf(out, "    %s[%u] %s= ", a->name, entry->elem[r], adds ? "+" : "");
    else
        buf_printf(out, "    *%s %s= ", a->name, adds ? "+" : "");
    print_expr(out, pr, entry->roots[r]);
    buf_puts(out, ";\n");
}

void print_return(Emitter *em, const Printer *pr, const Entry *entry)
{
    if (entry->ret) {
        lines_at_source(em, lines_of(pr->e->s.f, entry->ret));
        buf_puts(em->out, "    return ");
        print_expr(em->out, pr, entry->ret);
        buf_puts(em->out, ";\n");
    }
    buf_puts(em->out, "}\n");
    lines_at_output(em);
}

void print_fill_loops(Buf *out, const DefOut *e, const Entry *entry)
{
    for (int i = 0; i < entry->nargs; i++)
        if (entry->args[i].fill)
            buf_printf(out, "    for (int %s = 0; %s < %u; %s++)\n        %s[%s] = %s;\n",
                       e->index, e->index, entry->args[i].size, e->index, entry->args[i].name,
                       e->index, e->opt->compile.real == REAL_FLOAT ? "0.0f" :
                       e->opt->compile.real == REAL_LONG_DOUBLE ? "0.0L" : "0.0");
}

/* The macros of the generated file's preamble that store the sin and the cos of one value,
 * per real type (emit_c.c) */
static const char *const sin_cos_macro[] = {"ADGEN_SIN_COS", "ADGEN_SIN_COSF", "ADGEN_SIN_COSL"};

void print_sin_cos(Emitter *em, const Printer *pr, long k, const char *const *saved,
                   const char *indent)
{
    const DefOut *e = pr->e;
    const Body *b = pr->b;
    const Dag *d = &e->s.f->dag;
    long q = (long)b->partner[k] - 1;
    long pos[2] = {d->nodes[b->nodes[k]].kind == N_SIN ? k : q, 0}; /* the sin, the cos */
    pos[1] = pos[0] == k ? q : k;
    Buf *out = em->out;
    int declared = 0;
    for (int i = 0; i < 2; i++) {
        if (saved && saved[pos[i]]) /* a chunk's slot of w */
            continue;
        if (declared++)
            buf_puts(out, ", ");
        else
            buf_printf(out, "%s%s ", indent, real_type[e->opt->compile.real]);
        buf_puts(out, e->s.local[b->nodes[pos[i]]]);
    }
    if (declared)
        buf_puts(out, ";\n");
    lines_at_source(em, lines_of(e->s.f, b->nodes[k]));
    buf_printf(out, "%s%s(", indent, sin_cos_macro[e->opt->compile.real]);
    print_expr(out, pr, d->nodes[b->nodes[k]].a);
    buf_printf(out, ", &%s, &%s);\n", e->s.local[b->nodes[pos[0]]], e->s.local[b->nodes[pos[1]]]);
    b->printed[k] = b->printed[q] = 1;
}

void print_local(Emitter *em, const Printer *pr, NodeId id, const char *indent)
{
    const DefOut *e = pr->e;
    const Func *f = e->s.f;
    Buf *out = em->out;
    if (pr->b->partner && !pr->batch) {
        long k = body_find(&e->s, pr->b, id);
        if (pr->b->partner[k]) {
            if (!pr->b->printed[k])
                print_sin_cos(em, pr, k, NULL, indent);
            return;
        }
    }
    lines_at_source(em, lines_of(f, id));
    if (print_is_boolean(f->dag.nodes[id].kind)) { /* a test several selections share */
        buf_printf(out, "%sconst int %s = ", indent, e->s.local[id]);
        print_test(out, pr, id);
    } else {
        buf_printf(out, "%sconst %s %s = ", indent, real_type[e->opt->compile.real],
                   e->s.local[id]);
        print_node(out, pr, id);
    }
    buf_puts(out, ";\n");
}

/* ---- integers of the generated code --------------------------------------------------------- */

void print_affine(Buf *out, const DefOut *e, const char *var, const Affine *a)
{
    func_put_affine(out, a, var, e->step_var, e->s.size, " * ");
}

void print_rt_length(Buf *out, const DefOut *e, const Param *pa)
{
    uint64_t row = 1;
    for (int i = 1; i < pa->rank; i++)
        row *= pa->dims[i];
    if (pa->rt_size < 0) {
        buf_printf(out, "%u", pa->size);
        return;
    }
    if (pa->rt_size2 >= 0) {
        buf_printf(out, "%s * %s", e->s.size[pa->rt_size], e->s.size[pa->rt_size2]);
        return;
    }
    if (row != 1)
        buf_printf(out, "%llu * ", (unsigned long long)row);
    buf_puts(out, e->s.size[pa->rt_size]);
}
