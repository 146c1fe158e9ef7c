/*
 * reverse.c: reverse mode as a graph transformation. Input: a Func whose DAG holds the
 * primal (the forward sweep, eq. 5.143). Output: new nodes in the same DAG computing every
 * input's adjoint, and f->grad. The derivative rules build nodes that reuse primal nodes
 * (d exp(a)/da is the node exp(a) itself, d sqrt(c)/dc = 0.5/sqrt(c) reuses sqrt(c)), and
 * hash-consing shares work across both sweeps. Nodes are visited from the output down in id
 * order, which is a reverse topological order, so a node's adjoint is complete, the sum over
 * its consumers of eq. 5.145, before it is propagated to its operands. Only nodes that depend
 * on an input and lie on a path to the output get adjoints.
 */
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

/* One term of a sum of eq. 5.145, chained per node in the order the consumers made them. */
typedef struct {
    NodeId term;
    uint32_t next;
} Term;

typedef struct {
    Dag *d;
    uint8_t *active;
    uint32_t *head, *tail; /* per primal node: its terms, 0 when none */
    Term *terms;
    uint32_t nterms, cap;
} Rev;

/* A term that is the constant +0 (a derivative decided zero at compile time, such as
 * d(0^y)/dy) is left out: adding it could only turn a -0 sum into +0. */
static void contribute(Rev *r, NodeId to, NodeId term)
{
    if (!r->active[to] || dag_is_const(r->d, term, 0.0))
        return;
    if (r->nterms >= r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->terms = xrealloc(r->terms, r->cap * sizeof *r->terms);
    }
    uint32_t t = r->nterms++;
    r->terms[t].term = term;
    r->terms[t].next = 0;
    if (r->tail[to])
        r->terms[r->tail[to]].next = t;
    else
        r->head[to] = t;
    r->tail[to] = t;
}

/* eq. 5.145: the adjoint of a node is the sum of its consumers' terms. */
static NodeId sum_terms(Rev *r, NodeId id)
{
    NodeId s = 0;
    for (uint32_t t = r->head[id]; t; t = r->terms[t].next)
        s = s ? dag_binary(r->d, N_ADD, s, r->terms[t].term) : r->terms[t].term;
    return s ? s : dag_const(r->d, 0.0);
}

/* The local derivative rules: w = op(a, b) with adjoint wbar adds terms to a and b. Terms
 * for an operand that is not active are never built. */
static void propagate(Rev *r, NodeId w, NodeId wbar)
{
    Dag *d = r->d;
    const Node n = d->nodes[w];
    NodeId a = n.a, b = n.b;
    NodeId one = dag_const(d, 1.0);
    int da = r->active[a], db = b && r->active[b];
#define MUL(x, y) dag_binary(d, N_MUL, x, y)
#define DIV(x, y) dag_binary(d, N_DIV, x, y)
#define NEG(x) dag_unary(d, N_NEG, x)
#define IFNZ(p, v) dag_op(d, N_IFNE, p, dag_const(d, 0.0), v) /* p == 0 ? 0 : v */
    switch ((NodeKind)n.kind) {
    case N_NEG: contribute(r, a, NEG(wbar)); break;
    case N_ADD: contribute(r, a, wbar); contribute(r, b, wbar); break;
    case N_SUB: contribute(r, a, wbar); if (db) contribute(r, b, NEG(wbar)); break;
    case N_MUL:
        if (a == b) { /* a square: one term 2*(wbar*a), which equals wbar*a + wbar*a exactly */
            contribute(r, a, MUL(dag_const(d, 2.0), MUL(wbar, a)));
            break;
        }
        if (da)
            contribute(r, a, MUL(wbar, b));
        if (db)
            contribute(r, b, MUL(wbar, a));
        break;
    case N_DIV: {
        NodeId q = DIV(wbar, b);
        if (da)
            contribute(r, a, q);
        if (db)
            contribute(r, b, NEG(MUL(q, w)));
        break;
    }
    case N_SIN: contribute(r, a, MUL(wbar, dag_unary(d, N_COS, a))); break;
    case N_COS: contribute(r, a, NEG(MUL(wbar, dag_unary(d, N_SIN, a)))); break;
    case N_TAN: contribute(r, a, MUL(wbar, dag_binary(d, N_ADD, one, MUL(w, w)))); break;
    case N_ASIN:
    case N_ACOS: {
        NodeId root = dag_unary(d, N_SQRT, dag_binary(d, N_SUB, one, MUL(a, a)));
        NodeId t = DIV(wbar, root);
        contribute(r, a, n.kind == N_ASIN ? t : NEG(t));
        break;
    }
    case N_ATAN: contribute(r, a, DIV(wbar, dag_binary(d, N_ADD, one, MUL(a, a)))); break;
    case N_SINH: contribute(r, a, MUL(wbar, dag_unary(d, N_COSH, a))); break;
    case N_COSH: contribute(r, a, MUL(wbar, dag_unary(d, N_SINH, a))); break;
    case N_TANH: contribute(r, a, MUL(wbar, dag_binary(d, N_SUB, one, MUL(w, w)))); break;
    case N_EXP: contribute(r, a, MUL(wbar, w)); break;
    case N_LOG: contribute(r, a, DIV(wbar, a)); break;
    case N_SQRT: contribute(r, a, MUL(wbar, DIV(dag_const(d, 0.5), w))); break;
    case N_ABS: contribute(r, a, MUL(wbar, dag_unary(d, N_SIGN, a))); break;
    case N_POW:
        /* d(a^b)/da = b a^(b-1); at b = 0 it is 0 (a^0 = 1 for every a), not 0 * 0^-1 */
        if (da) {
            NodeId p = dag_pow(d, a, dag_binary(d, N_SUB, b, one));
            contribute(r, a, IFNZ(b, MUL(wbar, MUL(b, p))));
        }
        /* d(a^b)/db = a^b log(a); at a = 0 it is 0 (0^b is flat in b), not 0 * -inf */
        if (db)
            contribute(r, b, IFNZ(a, MUL(wbar, MUL(w, dag_unary(d, N_LOG, a)))));
        break;
    /* The partials of atan2 and hypot have the other (atan2) or the same (hypot) operand as
     * a factor: where that operand is 0 the partial is 0 even at the origin, where the
     * formula would be 0/0 (atan2 is constant along either axis on each side of 0; hypot's
     * gradient 0 there matches abs'(0) = 0 for hypot(x, 0) = |x|). */
    case N_ATAN2: {
        NodeId q = DIV(wbar, dag_binary(d, N_ADD, MUL(a, a), MUL(b, b)));
        if (da)
            contribute(r, a, IFNZ(b, MUL(q, b)));
        if (db)
            contribute(r, b, IFNZ(a, NEG(MUL(q, a))));
        break;
    }
    case N_HYPOT: {
        NodeId q = DIV(wbar, w);
        if (da)
            contribute(r, a, IFNZ(a, MUL(q, a)));
        if (db)
            contribute(r, b, IFNZ(b, MUL(q, b)));
        break;
    }
    case N_MIN:
    case N_MAX:
        /* the operand the result equals gets the adjoint; a tie goes to the first */
        if (da)
            contribute(r, a, dag_op(d, N_IFEQ, w, a, wbar));
        if (db)
            contribute(r, b, dag_op(d, N_IFNE, w, a, wbar));
        break;
    default:
        break;
    }
#undef MUL
#undef DIV
#undef NEG
#undef IFNZ
}

void reverse_func(Func *f)
{
    Dag *d = &f->dag;
    uint32_t n = d->len;
    Rev r = {.d = d};
    r.active = xrealloc(NULL, n);
    r.head = xrealloc(NULL, n * sizeof *r.head);
    r.tail = xrealloc(NULL, n * sizeof *r.tail);
    uint8_t *reached = xrealloc(NULL, n);
    memset(r.active, 0, n);
    memset(r.head, 0, n * sizeof *r.head);
    memset(r.tail, 0, n * sizeof *r.tail);
    memset(reached, 0, n);
    r.nterms = 1; /* term 0 means "none" */

    /* active = depends on an input (a loop up) and reaches the output (a loop down) */
    for (NodeId id = 1; id < n; id++) {
        const Node *nd = &d->nodes[id];
        r.active[id] = nd->kind == N_INPUT || r.active[nd->a] || r.active[nd->b] ||
                       r.active[nd->c];
    }
    if (f->output)
        reached[f->output] = 1;
    for (NodeId id = f->output; id > 0; id--) {
        if (!reached[id])
            continue;
        const Node *nd = &d->nodes[id];
        reached[nd->a] = reached[nd->b] = reached[nd->c] = 1;
    }
    for (NodeId id = 1; id < n; id++)
        r.active[id] = r.active[id] && reached[id];

    f->grad = xrealloc(NULL, (size_t)(f->ninputs + 1) * sizeof *f->grad);
    f->nprimal = n;
    f->adj = xrealloc(NULL, n * sizeof *f->adj);
    memset(f->adj, 0, n * sizeof *f->adj);
    NodeId zero = dag_const(d, 0.0);
    for (int i = 0; i < f->ninputs; i++)
        f->grad[i] = zero;
    for (NodeId id = f->output; id > 0; id--) {
        if (!r.active[id])
            continue;
        NodeId mark = d->len;
        NodeId wbar = id == f->output ? dag_const(d, 1.0) : sum_terms(&r, id); /* eq. 5.144 */
        f->adj[id] = wbar;
        if (d->nodes[id].kind == N_INPUT)
            f->grad[(int)d->nodes[id].k] = wbar;
        else
            propagate(&r, id, wbar);
        /* an adjoint statement points at the line of the primal it differentiates */
        func_mark_lines(f, mark, id < f->lines_cap ? f->node_line[id] : 0);
    }
    free(r.active);
    free(r.head);
    free(r.tail);
    free(r.terms);
    free(reached);
}
