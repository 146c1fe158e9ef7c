/*
 * forward.c: forward (tangent) mode as a graph transformation, eq. 5.121's order. Input: a DAG
 * and a tangent seed per input slot. Output: new nodes in the same DAG computing each node's
 * tangent, the sum over its operands of the terms of deriv.c, the rules reverse mode uses.
 * Nodes are visited up in id order, a topological order, so an operand's tangent is complete
 * before its consumers use it. No tangent is a structural zero: an input without a seed, and
 * a node none of whose operands has a tangent, build nothing (no x * 0 nodes). Each tangent
 * also has the condition under which it is a strong zero (deriv.c).
 */
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

/* The tangent of node id from its operands' (an input's from its seed), and its strong-zero
 * condition. */
static void tangent_of(Dag *d, NodeId id, const NodeId *seeds, const NodeId *seed_zero,
                       NodeId *tan, NodeId *zero)
{
    Node nd = d->nodes[id];
    if (nd.kind == N_INPUT) {
        tan[id] = seeds[(uint32_t)nd.k];
        if (seed_zero)
            zero[id] = seed_zero[(uint32_t)nd.k];
        return;
    }
    NodeId from = d->len, sum = 0, all = 0, ops[3] = {nd.a, nd.b, nd.c};
    int touched = 0, live = 0;
    for (int i = 0; i < node_arity(nd.kind); i++) {
        if (!tan[ops[i]])
            continue;
        NodeId z, t = deriv_term(d, id, i, tan[ops[i]], zero[ops[i]], &z);
        if (!t)
            continue;
        touched = 1;
        if (!z)
            live = 1;
        else if (!live)
            all = all ? deriv_both(d, all, z) : z;
        /* a constant +0 term (a selection decided when adgen ran, or 0 * constant) adds
         * nothing but could turn a -0 sum into +0; its condition still counts */
        if (dag_is_const(d, t, 0.0))
            continue;
        sum = sum ? dag_binary(d, N_ADD, sum, t) : t;
    }
    tan[id] = sum ? sum : touched ? dag_const(d, 0.0) : 0;
    zero[id] = live ? 0 : all;
    dag_set_role(d, from, sum, ROLE_TANGENT, id);
    dag_mark_lines(d, from, d->meta[id].line);
}

void forward_sweep(Dag *d, uint32_t n, const NodeId *seeds, NodeMap *tan)
{
    forward_sweep_z(d, n, seeds, NULL, tan, NULL);
}

void forward_sweep_z(Dag *d, uint32_t n, const NodeId *seeds, const NodeId *seed_zero,
                     NodeMap *tan, NodeMap *tan_zero)
{
    /* per node: when its tangent is a strong zero (0: never) */
    NodeId *zero = xrealloc(NULL, (n ? n : 1) * sizeof *zero);
    memset(zero, 0, (n ? n : 1) * sizeof *zero);
    nodemap_init(tan, n);
    for (NodeId id = 1; id < n; id++)
        tangent_of(d, id, seeds, seed_zero, tan->of, zero);
    if (tan_zero) {
        nodemap_init(tan_zero, n);
        memcpy(tan_zero->of, zero, (n ? n : 1) * sizeof *zero);
    }
    free(zero);
}

void forward_sweep_nodes(Dag *d, const NodeId *ids, uint32_t count, const NodeId *seeds,
                         NodeId *tan, NodeId *zero)
{
    for (uint32_t k = 0; k < count; k++)
        tangent_of(d, ids[k], seeds, NULL, tan, zero);
}
