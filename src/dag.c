/*
 * dag.c: the expression DAG. Nodes live in one growable array addressed by NodeId; a node's
 * operands always have smaller ids, so id order is a topological order (the forward sweep is
 * a loop up, the reverse sweep a loop down). dag_op hash-conses: building a node equal to an
 * existing one returns the existing id, which is what turns x^2 + exp(x^2) into the book's
 * shared a..f (eqs. 5.123-5.128). Before interning, dag_op folds constants and applies only
 * rewrites that give bit-identical IEEE results for every input: x*1 -> x, x + (-y) -> x - y,
 * -(-x) -> x; never x*0 -> 0 or x-x -> 0 (wrong for NaN, inf, -0), and never a fold whose
 * result is not finite. Only correctly rounded operations are folded, so the folded constant
 * is the value the generated code would compute at run time.
 *
 * Hash-consing finds an operation among those of its home: the operand of the largest id
 * whose chain of homed operations holds fewer than CHAIN_MAX, the chain walked from head to
 * next; an operation whose operands' chains are full, and a constant or an input, is in a
 * hash table. Nodes are built mostly from those just built, whose chains are in the cache:
 * a hash table's slot for every node missed it (a fifth of adgen's time at 10^6 operations).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

/* Largest |n| for which x^n becomes multiplications; beyond it pow() is more accurate. */
#define MAX_INT_POWER 64

/* Operations a node's chain holds at most: past that, the hash table has those of it. */
#define CHAIN_MAX 8

const OpInfo op_info[N_KINDS] = {
#define X(kind, lang, ar, c, form, fold, cost, lin, value, word, tex, edge, kink, note) \
    [N_##kind] = {lang, ar, c, form, fold, cost, lin, word, tex, edge, kink, note},
    OPS(X)
#undef X
};

/* Room for cap nodes in every per-node array. */
static void resize(Dag *d, uint32_t cap)
{
    d->cap = cap;
    d->nodes = xrealloc(d->nodes, cap * sizeof *d->nodes);
    d->meta = xrealloc(d->meta, cap * sizeof *d->meta);
    d->head = xrealloc(d->head, cap * sizeof *d->head);
    d->next = xrealloc(d->next, cap * sizeof *d->next);
}

void dag_init(Dag *d)
{
    memset(d, 0, sizeof *d);
    resize(d, 64);
    memset(&d->nodes[0], 0, sizeof d->nodes[0]);
    memset(&d->meta[0], 0, sizeof d->meta[0]);
    d->head[0] = 0;
    d->len = 1;
    d->fold = 1;
    d->tcap = 128;
    d->table = xrealloc(NULL, d->tcap * sizeof *d->table);
    memset(d->table, 0, d->tcap * sizeof *d->table);
}

void dag_reserve(Dag *d, uint32_t n)
{
    if (n > d->cap)
        resize(d, n);
}

void dag_free(Dag *d)
{
    free(d->nodes);
    free(d->meta);
    free(d->head);
    free(d->next);
    free(d->table);
    memset(d, 0, sizeof *d);
}

void dag_seal(Dag *d)
{
    free(d->head);
    free(d->next);
    free(d->table);
    d->head = d->next = NULL;
    d->table = NULL;
    d->tcap = d->tlen = 0;
}

static uint64_t bits_of(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

static uint32_t hash_node(const Node *n)
{
    uint64_t h = n->kind;
    h = h * 0x9E3779B97F4A7C15u + n->a;
    h = h * 0x9E3779B97F4A7C15u + n->b;
    h = h * 0x9E3779B97F4A7C15u + n->c;
    h = h * 0x9E3779B97F4A7C15u + bits_of(n->k);
    /* a multiply carries low bits only upwards: fold the high half back before masking */
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93u;
    return (uint32_t)(h ^ (h >> 32));
}

static int same_node(const Node *x, const Node *y)
{
    return x->kind == y->kind && x->a == y->a && x->b == y->b && x->c == y->c &&
           bits_of(x->k) == bits_of(y->k);
}

static void grow_table(Dag *d)
{
    DagSlot *old = d->table;
    uint32_t old_cap = d->tcap;
    d->tcap *= 2;
    d->table = xrealloc(NULL, d->tcap * sizeof *d->table);
    memset(d->table, 0, d->tcap * sizeof *d->table);
    for (uint32_t i = 0; i < old_cap; i++) {
        if (!old[i].id)
            continue;
        uint32_t j = old[i].hash & (d->tcap - 1);
        while (d->table[j].id)
            j = (j + 1) & (d->tcap - 1);
        d->table[j] = old[i];
    }
    free(old);
}

/* Operation n if it was built, else 0 and in *home where it goes: its operands from the
 * largest id down, each's chain searched until one is not full (n would be in it); 0 when
 * all are (then n is in the table, if anywhere). */
static NodeId find_homed(const Dag *d, const Node *n, NodeId *home)
{
    NodeId op[3] = {n->a, n->b, n->c};
    for (int i = 1; i < 3; i++)
        for (int j = i; j > 0 && op[j] > op[j - 1]; j--) {
            NodeId t = op[j];
            op[j] = op[j - 1];
            op[j - 1] = t;
        }
    for (int i = 0; i < 3 && op[i]; i++) {
        if (i && op[i] == op[i - 1])
            continue;
        uint32_t len = 0;
        for (NodeId id = d->head[op[i]]; id; id = d->next[id], len++)
            if (same_node(&d->nodes[id], n))
                return id;
        if (len < CHAIN_MAX) {
            *home = op[i];
            return 0;
        }
    }
    *home = 0;
    return 0;
}

static NodeId intern_node(Dag *d, Node n)
{
    if (!d->table) {
        fputs("adgen: internal error: a node built in a sealed DAG\n", stderr);
        abort();
    }
    NodeId home = 0, id = n.a ? find_homed(d, &n, &home) : 0;
    uint32_t h = 0, j = 0;
    if (!id && !home) {
        h = hash_node(&n);
        j = h & (d->tcap - 1);
        while ((id = d->table[j].id) != 0 &&
               !(d->table[j].hash == h && same_node(&d->nodes[id], &n)))
            j = (j + 1) & (d->tcap - 1);
    }
    if (id) {
        d->hits += node_is_op(d, id);
        return id;
    }
    if (d->len == UINT32_MAX) {
        fputs("adgen: expression too large\n", stderr);
        abort();
    }
    if (d->len == d->cap)
        resize(d, 2 * d->cap);
    id = d->len++;
    d->nodes[id] = n;
    memset(&d->meta[id], 0, sizeof d->meta[id]);
    d->head[id] = 0;
    if (home) {
        d->next[id] = d->head[home];
        d->head[home] = id;
        return id;
    }
    d->table[j].id = id;
    d->table[j].hash = h;
    if (2 * (uint64_t)++d->tlen > d->tcap)
        grow_table(d);
    return id;
}

NodeId dag_const(Dag *d, double v)
{
    Node n = {.kind = N_CONST, .k = v};
    return intern_node(d, n);
}

NodeId dag_input(Dag *d, uint32_t slot)
{
    Node n = {.kind = N_INPUT, .k = slot};
    return intern_node(d, n);
}

int dag_is_const(const Dag *d, NodeId n, double v)
{
    return d->nodes[n].kind == N_CONST && bits_of(d->nodes[n].k) == bits_of(v);
}

static int is_const(const Dag *d, NodeId n)
{
    return n && d->nodes[n].kind == N_CONST;
}

static int is_kind(const Dag *d, NodeId n, NodeKind k)
{
    return n && d->nodes[n].kind == k;
}

/* The IEEE-exact rewrites of op(a, b, c), or 0 when none applies. */
static NodeId rewrite(Dag *d, NodeKind k, NodeId a, NodeId b, NodeId c)
{
    if (k == N_NEG && is_kind(d, a, N_NEG))
        return d->nodes[a].a;
    if (k == N_ADD) {
        if (a == b) /* x + x and 2 * x round identically, overflow included */
            return dag_op(d, N_MUL, a, dag_const(d, 2.0), 0);
        if (dag_is_const(d, b, -0.0))
            return a;
        if (dag_is_const(d, a, -0.0))
            return b;
        if (is_kind(d, b, N_NEG))
            return dag_op(d, N_SUB, a, d->nodes[b].a, 0);
        if (is_kind(d, a, N_NEG))
            return dag_op(d, N_SUB, b, d->nodes[a].a, 0);
        if (is_const(d, b) && d->nodes[b].k < 0)
            return dag_op(d, N_SUB, a, dag_const(d, -d->nodes[b].k), 0);
    }
    if (k == N_SUB) {
        if (dag_is_const(d, b, 0.0))
            return a;
        if (is_kind(d, b, N_NEG))
            return dag_op(d, N_ADD, a, d->nodes[b].a, 0);
        if (is_const(d, b) && d->nodes[b].k < 0)
            return dag_op(d, N_ADD, a, dag_const(d, -d->nodes[b].k), 0);
    }
    if (k == N_MUL || k == N_DIV) {
        /* (-a) * b = -(a * b) and a / (-b) = -(a / b) exactly (rounding is symmetric): the
         * negation moves out, where a sum takes it as a subtraction */
        if (is_kind(d, a, N_NEG))
            return dag_op(d, N_NEG, dag_op(d, k, d->nodes[a].a, b, 0), 0, 0);
        if (is_kind(d, b, N_NEG))
            return dag_op(d, N_NEG, dag_op(d, k, a, d->nodes[b].a, 0), 0, 0);
        if (k == N_MUL && dag_is_const(d, a, 1.0))
            return b;
        if (k == N_MUL && dag_is_const(d, a, -1.0))
            return dag_op(d, N_NEG, b, 0, 0);
        if (dag_is_const(d, b, 1.0))
            return a;
        if (dag_is_const(d, b, -1.0))
            return dag_op(d, N_NEG, a, 0, 0);
    }
    if ((k == N_AND || k == N_OR) && d->fold) {
        /* a constant operand decides, or leaves the other, when that one is 0 or 1 itself */
        for (int i = 0; i < 2; i++) {
            NodeId x = i ? b : a, y = i ? a : b;
            if (!is_const(d, x))
                continue;
            int t = d->nodes[x].k != 0;
            if (t == (k == N_OR))
                return dag_const(d, t ? 1.0 : 0.0);
            OpForm form = op_info[d->nodes[y].kind].form;
            if (form == F_CMP || form == F_LOGIC || form == F_NOT)
                return y;
        }
    }
    if (k == N_IF) {
        /* a test between constants is decided here, whatever the other operands are */
        if (d->fold && is_const(d, a))
            return d->nodes[a].k != 0 ? b : c;
        if (b == c)
            return b;
    }
    return 0;
}

NodeId dag_op(Dag *d, NodeKind k, NodeId a, NodeId b, NodeId c)
{
    int ar = node_arity(k);
    if (d->fold && op_info[k].fold && is_const(d, a) && (ar < 2 || is_const(d, b)) &&
        (ar < 3 || is_const(d, c))) {
        double v = eval_op(k, d->nodes[a].k, ar > 1 ? d->nodes[b].k : 0,
                           ar > 2 ? d->nodes[c].k : 0);
        if (isfinite(v))
            return dag_const(d, v);
    }
    NodeId r = rewrite(d, k, a, b, c);
    if (r)
        return r;
    /* IEEE addition and multiplication commute exactly: one canonical operand order. */
    if ((k == N_ADD || k == N_MUL) && a > b) {
        NodeId t = a;
        a = b;
        b = t;
    }
    Node n = {.kind = (uint8_t)k, .a = a, .b = b, .c = c};
    return intern_node(d, n);
}

NodeId dag_unary(Dag *d, NodeKind k, NodeId a)
{
    return dag_op(d, k, a, 0, 0);
}

NodeId dag_binary(Dag *d, NodeKind k, NodeId a, NodeId b)
{
    return dag_op(d, k, a, b, 0);
}

/* x^b: integer constant exponents become multiplications by repeated squaring (x^2 is x*x,
 * x^-2 is 1/(x*x)), x^0.5 is sqrt(x), x^0 is 1 (as pow gives even for NaN), x^1 is x. */
NodeId dag_pow(Dag *d, NodeId a, NodeId b)
{
    if (!is_const(d, b))
        return dag_binary(d, N_POW, a, b);
    double e = d->nodes[b].k;
    if (e == 0)
        return dag_const(d, 1.0);
    if (e == 0.5)
        return dag_unary(d, N_SQRT, a);
    if (e != floor(e) || fabs(e) > MAX_INT_POWER)
        return dag_binary(d, N_POW, a, b);
    long n = labs((long)e);
    NodeId result = 0, base = a;
    for (;;) {
        if (n & 1)
            result = result ? dag_binary(d, N_MUL, result, base) : base;
        n >>= 1;
        if (!n)
            break;
        base = dag_binary(d, N_MUL, base, base);
    }
    return e < 0 ? dag_binary(d, N_DIV, dag_const(d, 1.0), result) : result;
}

void dag_mark_lines(Dag *d, NodeId from, int line)
{
    for (NodeId id = from; id < d->len; id++)
        if (!d->meta[id].line)
            d->meta[id].line = line;
}

void dag_mark_loc(Dag *d, NodeId from, int line, int column)
{
    for (NodeId id = from; id < d->len; id++) {
        if (d->meta[id].line)
            continue;
        d->meta[id].line = line;
        d->meta[id].column = column > 0 && column <= UINT16_MAX ? (uint16_t)column : 0;
    }
}

void dag_set_role(Dag *d, NodeId from, NodeId q, Role role, NodeId p)
{
    if (q >= from && node_is_op(d, q) && node_is_op(d, p) && d->meta[q].role == ROLE_NONE) {
        d->meta[q].role = (uint8_t)role;
        d->meta[q].of = p;
    }
}

int node_id_order(const void *x, const void *y)
{
    NodeId a = *(const NodeId *)x, b = *(const NodeId *)y;
    return (a > b) - (a < b);
}

void nodemap_init(NodeMap *m, uint32_t len)
{
    m->len = len;
    m->of = xrealloc(NULL, (len ? len : 1) * sizeof *m->of);
    memset(m->of, 0, (len ? len : 1) * sizeof *m->of);
}

void nodemap_free(NodeMap *m)
{
    free(m->of);
    m->of = NULL;
    m->len = 0;
}

void dag_reach(const Dag *d, NodeId top, uint8_t *mark)
{
    for (NodeId id = top; id > 0; id--)
        if (mark[id])
            mark[d->nodes[id].a] = mark[d->nodes[id].b] = mark[d->nodes[id].c] = 1;
}

void dag_mark_readers(const Dag *d, uint8_t *mark)
{
    for (NodeId id = 0; id < d->len; id++) {
        if (!node_is_op(d, id))
            continue;
        const Node *nd = &d->nodes[id];
        NodeId ops[3] = {nd->a, nd->b, nd->c};
        for (int i = 0; i < node_arity(nd->kind); i++)
            mark[id] |= mark[ops[i]];
    }
}
