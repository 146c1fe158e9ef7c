/*
 * forward.c: forward (tangent) mode as a graph transformation, eq. 5.121's order. Input: a DAG
 * and a tangent seed per input slot. Output: new nodes in the same DAG computing each node's
 * tangent, the sum over its operands of the terms of deriv.c, the rules reverse mode uses.
 * Nodes are visited up in id order, a topological order, so an operand's tangent is complete
 * before its consumers use it. No tangent is a structural zero: an input without a seed, and
 * a node none of whose operands has a tangent, build nothing (no x * 0 nodes).
 */
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

void forward_sweep(Dag *d, uint32_t n, const NodeId *seeds, NodeMap *tan)
{
    uint8_t *sel = xrealloc(NULL, n ? n : 1); /* per node: its tangent may be a strong zero */
    memset(sel, 0, n ? n : 1);
    nodemap_init(tan, n);
    NodeId from = d->len;
    for (NodeId id = 1; id < n; id++) {
        Node nd = d->nodes[id];
        if (nd.kind == N_INPUT) {
            tan->of[id] = seeds[(uint32_t)nd.k];
            continue;
        }
        NodeId mark = d->len, sum = 0, ops[3] = {nd.a, nd.b, nd.c};
        int all_sel = 1;
        for (int i = 0; i < node_arity(nd.kind); i++) {
            if (!tan->of[ops[i]])
                continue;
            int term_sel;
            NodeId t = deriv_term(d, id, i, tan->of[ops[i]], sel[ops[i]], &term_sel);
            if (!t || dag_is_const(d, t, 0.0))
                continue;
            sum = sum ? dag_binary(d, N_ADD, sum, t) : t;
            all_sel = all_sel && term_sel;
        }
        tan->of[id] = sum;
        sel[id] = sum && all_sel;
        dag_set_role(d, from, sum, ROLE_TANGENT, id);
        dag_mark_lines(d, mark, d->meta[id].line);
    }
    free(sel);
}
