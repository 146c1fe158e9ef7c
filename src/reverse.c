/*
 * reverse.c: reverse mode as a graph transformation. Input: a DAG holding the primal (the
 * forward sweep, eq. 5.143), its roots with their seeds, and which input slots to
 * differentiate. Output: new nodes in the same DAG computing the adjoints, and the map from
 * each node to its adjoint. The terms come from deriv.c, so they reuse primal nodes, and
 * hash-consing shares work across both sweeps. Nodes are visited from the highest root down
 * in id order, a reverse topological order, so a node's adjoint is complete, the sum over its
 * consumers of eq. 5.145, before it is propagated to its operands. Only nodes that depend on
 * a differentiated input and lie on a path to a root get adjoints; a node none of whose
 * consumers made a term has none (a structural zero, which builds nothing further). Each
 * adjoint also has the condition under which it is a strong zero (deriv.c).
 */
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

/* One term of a sum of eq. 5.145, chained per node from the last consumer that made one, the
 * lowest in id order, so that the sum adds its terms in the forward sweep's order: in an
 * interleaved body (schedule.c) each partial sum is then ready right after its consumer,
 * and only it, not every term, lives on (a 12,500-term sum's gradient passed 24,889 values
 * between its chunks, 199 KB of stack; added in this order, 655). */
typedef struct {
    NodeId term;
    uint32_t next;
} Term;

/* Per node, what its consumers' terms have told so far. */
enum { TOUCHED = 1, LIVE = 2 }; /* a term was made; one has no strong-zero condition */

typedef struct {
    Dag *d;
    uint8_t *active;
    uint8_t *seen;         /* per node: TOUCHED, LIVE */
    NodeId *zero;          /* per node: when every term so far is a strong zero */
    uint32_t *head;        /* per primal node: its terms, 0 when none */
    Term *terms;
    uint32_t nterms, cap;
} Rev;

/* A term that is the constant +0 (a derivative decided zero at compile time, such as
 * d(0^y)/dy, or the seed times a constant 0 factor) is left out of the sum: adding it could
 * only turn a -0 sum into +0. Its strong-zero condition still counts, and the node still gets
 * an adjoint, that 0: strong where a selection decided it, so that an infinite partial below
 * it makes the NaN that 0 * inf is only where arithmetic made the 0. */
static void contribute(Rev *r, NodeId to, NodeId term, NodeId zero)
{
    if (!r->active[to] || !term)
        return;
    r->seen[to] |= TOUCHED | (zero ? 0 : LIVE);
    if (zero)
        r->zero[to] = r->zero[to] ? deriv_both(r->d, r->zero[to], zero) : zero;
    if (dag_is_const(r->d, term, 0.0))
        return;
    if (r->nterms >= r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->terms = xrealloc(r->terms, r->cap * sizeof *r->terms);
    }
    uint32_t t = r->nterms++;
    r->terms[t].term = term;
    r->terms[t].next = r->head[to];
    r->head[to] = t;
}

/* eq. 5.145: the adjoint of a node is the sum of its consumers' terms (0: none was made). */
static NodeId sum_terms(Rev *r, NodeId id)
{
    NodeId s = 0;
    for (uint32_t t = r->head[id]; t; t = r->terms[t].next)
        s = s ? dag_binary(r->d, N_ADD, s, r->terms[t].term) : r->terms[t].term;
    return s ? s : r->seen[id] ? dag_const(r->d, 0.0) : 0;
}

/* active = depends on a differentiated input (a loop up) and reaches a root (a loop down). */
static NodeId find_active(Rev *r, int nroots, const NodeId *roots, const uint8_t *wrt, uint32_t n)
{
    const Dag *d = r->d;
    uint8_t *reached = xrealloc(NULL, n);
    memset(reached, 0, n);
    r->active[0] = 0;
    for (NodeId id = 1; id < n; id++) {
        const Node *nd = &d->nodes[id];
        if (nd->kind == N_INPUT)
            r->active[id] = !wrt || wrt[(uint32_t)nd->k];
        else
            r->active[id] = r->active[nd->a] || r->active[nd->b] || r->active[nd->c];
    }
    NodeId top = 0;
    for (int k = 0; k < nroots; k++) {
        reached[roots[k]] = 1;
        if (roots[k] > top)
            top = roots[k];
    }
    for (NodeId id = top; id > 0; id--) {
        if (!reached[id])
            continue;
        const Node *nd = &d->nodes[id];
        reached[nd->a] = reached[nd->b] = reached[nd->c] = 1;
    }
    for (NodeId id = 1; id < n; id++)
        r->active[id] = r->active[id] && reached[id];
    free(reached);
    return top;
}

void reverse_sweep(Dag *d, int nroots, const NodeId *roots, const NodeId *seeds,
                   const uint8_t *wrt, NodeMap *adj)
{
    reverse_sweep_z(d, nroots, roots, seeds, NULL, wrt, adj, NULL);
}

void reverse_sweep_z(Dag *d, int nroots, const NodeId *roots, const NodeId *seeds,
                     const NodeId *seed_zero, const uint8_t *wrt, NodeMap *adj,
                     NodeMap *adj_zero)
{
    uint32_t n = d->len;
    Rev r = {.d = d};
    r.active = xrealloc(NULL, n);
    r.seen = xrealloc(NULL, n);
    r.zero = xrealloc(NULL, n * sizeof *r.zero);
    r.head = xrealloc(NULL, n * sizeof *r.head);
    memset(r.seen, 0, n);
    memset(r.zero, 0, n * sizeof *r.zero);
    memset(r.head, 0, n * sizeof *r.head);
    r.nterms = 1; /* term 0 means "none" */
    nodemap_init(adj, n);
    if (adj_zero)
        nodemap_init(adj_zero, n);

    NodeId top = find_active(&r, nroots, roots, wrt, n);
    for (int k = 0; k < nroots; k++)
        contribute(&r, roots[k], seeds[k], seed_zero ? seed_zero[k] : 0); /* eq. 5.144 */
    for (NodeId id = top; id > 0; id--) {
        if (!r.active[id])
            continue;
        NodeId mark = d->len;
        NodeId wbar = sum_terms(&r, id);
        if (!wbar)
            continue;
        adj->of[id] = wbar;
        dag_set_role(d, n, wbar, ROLE_ADJOINT, id);
        Node nd = d->nodes[id];
        NodeId ops[3] = {nd.a, nd.b, nd.c}, wzero = r.seen[id] & LIVE ? 0 : r.zero[id];
        if (adj_zero)
            adj_zero->of[id] = wzero;
        for (int i = 0; i < node_arity(nd.kind); i++) {
            if (!r.active[ops[i]])
                continue;
            NodeId zero;
            NodeId term = deriv_term(d, id, i, wbar, wzero, &zero);
            contribute(&r, ops[i], term, zero);
        }
        /* an adjoint statement points at the line of the primal it differentiates */
        dag_mark_lines(d, mark, d->meta[id].line);
    }
    free(r.active);
    free(r.seen);
    free(r.zero);
    free(r.head);
    free(r.terms);
}
