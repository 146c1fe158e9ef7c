/*
 * deriv.c: the local partials, one rule per kind of ops.h, and the strong zeros. Input: a node
 * w of a DAG, an operand position i and a node x. Output: the node (d w / d operand i) * x,
 * built in the same DAG so that it reuses primal values (d exp(a)/da is exp(a) itself,
 * d sqrt(c)/dc = 0.5/sqrt(c) reuses sqrt(c)). Reverse mode passes the adjoint of w as x and
 * forward mode the tangent of the operand: the partial is a scalar, so the two transforms
 * share every rule (and forward over reverse composes for second order).
 *
 * Conventions where a derivative does not exist (README, "Domain edges") are selections, not
 * products: abs'(0) = 0, a tie of min or max splits x evenly, and the guards of pow, atan2 and
 * hypot give an exact 0. Such a 0 is a strong zero: when x may be one (it comes from a
 * selection), a term that multiplies x by a computed partial is itself selected away where x
 * is 0, so an infinite partial on an untaken path (max(1, sqrt(x)) at 0) cannot make a NaN.
 */
#include <math.h>

#include "adgen.h"

typedef NodeId (*Rule)(Dag *d, Node n, NodeId w, int i, NodeId x);

#define MUL(x, y) dag_binary(d, N_MUL, x, y)
#define DIV(x, y) dag_binary(d, N_DIV, x, y)
#define ADD(x, y) dag_binary(d, N_ADD, x, y)
#define SUB(x, y) dag_binary(d, N_SUB, x, y)
#define NEG(x) dag_unary(d, N_NEG, x)
#define K(v) dag_const(d, v)
#define IF(c, x, y) dag_op(d, N_IF, c, x, y)
#define CMP(k, x, y) dag_binary(d, k, x, y)
/* p == 0 ? 0 : v: a guarded term, an exact 0 where the factor p is */
#define UNLESS_ZERO(p, v) IF(CMP(N_EQ, p, K(0.0)), K(0.0), v)

/* Kinds without value operands: no terms. Comparisons are flat: their derivative is 0. */
static NodeId no_term(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    (void)d, (void)n, (void)w, (void)i, (void)x;
    return 0;
}

#define rule_NONE no_term
#define rule_CONST no_term
#define rule_INPUT no_term
#define rule_EQ no_term
#define rule_NE no_term
#define rule_LT no_term
#define rule_LE no_term
#define rule_GT no_term
#define rule_GE no_term

static NodeId rule_NEG(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    (void)n, (void)w, (void)i;
    return NEG(x);
}

static NodeId rule_SIN(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    (void)w, (void)i;
    return MUL(x, dag_unary(d, N_COS, n.a));
}

static NodeId rule_COS(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    (void)w, (void)i;
    return NEG(MUL(x, dag_unary(d, N_SIN, n.a)));
}

static NodeId rule_TAN(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    (void)n, (void)i;
    return MUL(x, ADD(K(1.0), MUL(w, w)));
}

static NodeId arcsine_root(Dag *d, NodeId a)
{
    return dag_unary(d, N_SQRT, SUB(K(1.0), MUL(a, a)));
}

static NodeId rule_ASIN(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    (void)w, (void)i;
    return DIV(x, arcsine_root(d, n.a));
}

static NodeId rule_ACOS(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    (void)w, (void)i;
    return NEG(DIV(x, arcsine_root(d, n.a)));
}

static NodeId rule_ATAN(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    (void)w, (void)i;
    return DIV(x, ADD(K(1.0), MUL(n.a, n.a)));
}

static NodeId rule_SINH(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    (void)w, (void)i;
    return MUL(x, dag_unary(d, N_COSH, n.a));
}

static NodeId rule_COSH(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    (void)w, (void)i;
    return MUL(x, dag_unary(d, N_SINH, n.a));
}

static NodeId rule_TANH(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    (void)n, (void)i;
    return MUL(x, SUB(K(1.0), MUL(w, w)));
}

static NodeId rule_EXP(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    (void)n, (void)i;
    return MUL(x, w);
}

static NodeId rule_LOG(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    (void)w, (void)i;
    return DIV(x, n.a);
}

static NodeId rule_SQRT(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    (void)n, (void)i;
    return MUL(x, DIV(K(0.5), w));
}

/* abs'(0) = 0 by selection: the third branch is the operand itself, an exact zero at the kink
 * (and NaN for NaN), never x times 0 */
static NodeId rule_ABS(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    (void)w, (void)i;
    NodeId zero = K(0.0);
    return IF(CMP(N_GT, n.a, zero), x, IF(CMP(N_LT, n.a, zero), NEG(x), n.a));
}

static NodeId rule_ADD(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    (void)d, (void)n, (void)w, (void)i;
    return x;
}

static NodeId rule_SUB(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    (void)n, (void)w;
    return i == 0 ? x : NEG(x);
}

static NodeId rule_MUL(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    (void)w;
    if (n.a == n.b) /* a square: one term 2*(x*a), which equals x*a + x*a exactly */
        return i == 0 ? MUL(K(2.0), MUL(x, n.a)) : 0;
    return MUL(x, i == 0 ? n.b : n.a);
}

static NodeId rule_DIV(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    NodeId q = DIV(x, n.b);
    return i == 0 ? q : NEG(MUL(q, w));
}

/* d(a^b)/da = b a^(b-1), 0 at b = 0 (a^0 = 1 for every a), not 0 * 0^-1; d(a^b)/db =
 * a^b log(a), 0 at a = 0 (0^b is flat in b), not 0 * -inf */
static NodeId rule_POW(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    if (i == 0)
        return UNLESS_ZERO(n.b, MUL(x, MUL(n.b, dag_pow(d, n.a, SUB(n.b, K(1.0))))));
    return UNLESS_ZERO(n.a, MUL(x, MUL(w, dag_unary(d, N_LOG, n.a))));
}

/* The partials of atan2 and hypot have the other (atan2) or the same (hypot) operand as a
 * factor: where that operand is 0 the partial is 0 even at the origin, where the formula
 * would be 0/0 (atan2 is constant along either axis on each side of 0; hypot's gradient 0
 * there matches abs'(0) = 0 for hypot(x, 0) = |x|). */
static NodeId rule_ATAN2(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    (void)w;
    NodeId q = DIV(x, ADD(MUL(n.a, n.a), MUL(n.b, n.b)));
    if (i == 0)
        return UNLESS_ZERO(n.b, MUL(q, n.b));
    return UNLESS_ZERO(n.a, NEG(MUL(q, n.a)));
}

static NodeId rule_HYPOT(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    NodeId q = DIV(x, w), mine = i == 0 ? n.a : n.b;
    return UNLESS_ZERO(mine, MUL(q, mine));
}

/* The operand the result equals gets x; on a tie each gets half, the average of the two
 * sides' derivatives (as abs'(0) = 0 averages -1 and 1), which is the derivative wherever the
 * function is smooth through the tie (softplus as max(z, 0) + log(1 + exp(-|z|))). */
static NodeId min_max(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    NodeId mine = i == 0 ? n.a : n.b;
    return IF(CMP(N_EQ, n.a, n.b), MUL(K(0.5), x), IF(CMP(N_EQ, w, mine), x, K(0.0)));
}

#define rule_MIN min_max
#define rule_MAX min_max

/* Only the chosen branch gets x; the condition is flat. */
static NodeId rule_IF(Dag *d, Node n, NodeId w, int i, NodeId x)
{
    (void)w;
    if (i == 0)
        return 0;
    return i == 1 ? IF(n.a, x, K(0.0)) : IF(n.a, K(0.0), x);
}

static const Rule rules[N_KINDS] = {
#define X(kind, lang, ar, c, form, fold, cost, sel, lin, value) [N_##kind] = rule_##kind,
    OPS(X)
#undef X
};

static int finite_const(const Dag *d, NodeId n)
{
    return d->nodes[n].kind == N_CONST && isfinite(d->nodes[n].k);
}

/* Whether t is x times finite constants (x / 2, -(2 * x)): 0 wherever x is. */
static int scales(const Dag *d, NodeId t, NodeId x)
{
    for (int depth = 0; t != x && depth < 4; depth++) {
        const Node *n = &d->nodes[t];
        if (n->kind == N_NEG)
            t = n->a;
        else if (n->kind == N_MUL && finite_const(d, n->a))
            t = n->b;
        else if (n->kind == N_MUL && finite_const(d, n->b))
            t = n->a;
        else if (n->kind == N_DIV && finite_const(d, n->b) && d->nodes[n->b].k != 0)
            t = n->a;
        else
            return 0;
    }
    return t == x;
}

NodeId deriv_term(Dag *d, NodeId w, int i, NodeId x, int x_sel, int *term_sel)
{
    Node n = d->nodes[w];
    NodeId t = rules[n.kind](d, n, w, i, x);
    *term_sel = x_sel || op_info[n.kind].sel;
    if (t && x_sel && !op_info[n.kind].lin && !scales(d, t, x))
        t = UNLESS_ZERO(x, t);
    return t;
}
