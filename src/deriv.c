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
 * hypot give an exact 0, as does the branch an `if` did not take. Such a 0 is a strong zero:
 * each term carries the condition (a node) under which a selection took it away, and a term
 * built on x by a computed partial is itself selected away under x's condition, so an infinite
 * partial on an untaken path (max(1, sqrt(x)) at 0) cannot make a NaN. The condition is the
 * selections' own tests, not x == 0: a zero that arithmetic makes stays an ordinary zero
 * (0 * inf is NaN, as IEEE says).
 */
#include <math.h>

#include "adgen.h"

/* What a rule sees: node w = op(a, b, c) and operand i, the term's factor x; a rule that
 * selects sets zero to the condition under which its term is a selected-away 0. */
typedef struct {
    Dag *d;
    Node n;
    NodeId w, x, zero;
    int i;
} Ctx;

typedef NodeId (*Rule)(Ctx *c);

#define MUL(p, q) dag_binary(c->d, N_MUL, p, q)
#define DIV(p, q) dag_binary(c->d, N_DIV, p, q)
#define ADD(p, q) dag_binary(c->d, N_ADD, p, q)
#define SUB(p, q) dag_binary(c->d, N_SUB, p, q)
#define NEG(p) dag_unary(c->d, N_NEG, p)
#define CALL(k, p) dag_unary(c->d, k, p)
#define K(v) dag_const(c->d, v)
#define IF(t, p, q) dag_op(c->d, N_IF, t, p, q)
#define CMP(k, p, q) dag_binary(c->d, k, p, q)
#define A (c->n.a)
#define B (c->n.b)

/* C leaves the order in which a call's arguments are evaluated open, and each node gets the
 * next id when it is made: a rule never makes nodes in two arguments of one call, so that the
 * DAG, and the C printed from it, do not depend on the compiler that built adgen. Where two
 * operands are new, the second is made first (the order of the C printed so far). */

/* p == 0 ? 0 : v: a guarded term, a strong zero where the factor p is 0 */
static NodeId unless_zero(Ctx *c, NodeId p, NodeId v)
{
    c->zero = CMP(N_EQ, p, K(0.0));
    return IF(c->zero, K(0.0), v);
}

/* Kinds without value operands: no terms. Comparisons, logic and the steps floor, ceil and
 * sign are flat wherever they have a derivative, and taken as flat at their steps too (0 on both
 * sides, the jump ignored): no term, a structural zero, so that no infinite partial of a
 * consumer makes a NaN of it (sqrt(floor(x)) at x = 0.5). */
static NodeId no_term(Ctx *c)
{
    (void)c;
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
#define rule_AND no_term
#define rule_OR no_term
#define rule_NOT no_term
#define rule_FLOOR no_term
#define rule_CEIL no_term
#define rule_SIGN no_term

static NodeId rule_NEG(Ctx *c) { return NEG(c->x); }
static NodeId rule_SIN(Ctx *c) { return MUL(c->x, CALL(N_COS, A)); }
static NodeId rule_COS(Ctx *c) { return NEG(MUL(c->x, CALL(N_SIN, A))); }
/* 1 + p, 1 - p */
static NodeId one_plus(Ctx *c, NodeId p) { return ADD(K(1.0), p); }
static NodeId one_minus(Ctx *c, NodeId p) { return SUB(K(1.0), p); }

static NodeId rule_TAN(Ctx *c) { return MUL(c->x, one_plus(c, MUL(c->w, c->w))); }
static NodeId arcsine_root(Ctx *c) { return CALL(N_SQRT, one_minus(c, MUL(A, A))); }
static NodeId rule_ASIN(Ctx *c) { return DIV(c->x, arcsine_root(c)); }
static NodeId rule_ACOS(Ctx *c) { return NEG(DIV(c->x, arcsine_root(c))); }
static NodeId rule_ATAN(Ctx *c) { return DIV(c->x, one_plus(c, MUL(A, A))); }
static NodeId rule_SINH(Ctx *c) { return MUL(c->x, CALL(N_COSH, A)); }
static NodeId rule_COSH(Ctx *c) { return MUL(c->x, CALL(N_SINH, A)); }
static NodeId rule_TANH(Ctx *c) { return MUL(c->x, one_minus(c, MUL(c->w, c->w))); }
static NodeId rule_EXP(Ctx *c) { return MUL(c->x, c->w); }
static NodeId rule_LOG(Ctx *c) { return DIV(c->x, A); }
static NodeId rule_SQRT(Ctx *c) { return MUL(c->x, DIV(K(0.5), c->w)); }

/* A constant of mathematics, spelled beyond any long double's precision: v to double
 * precision, and for code in float or long double (a DAG that does not fold, see sema.c) the
 * digits, which the C compiler rounds to that type directly, as sema does for pi. */
static NodeId math_const(Ctx *c, double v, const char *digits)
{
    NodeId n = K(v);
    if (!c->d->fold && !c->d->meta[n].label)
        c->d->meta[n].label = digits;
    return n;
}

#define MATH_CONST(v) math_const(c, v, #v)

/* asinh' = 1/sqrt(1 + a^2) as 1/hypot(1, a): no overflow of a^2 for |a| > 1e154 */
static NodeId rule_ASINH(Ctx *c) { return DIV(c->x, dag_binary(c->d, N_HYPOT, K(1.0), A)); }

/* acosh' = 1/sqrt((a - 1)(a + 1)), +inf at 1; the factors apart, exact near 1, and each
 * under its own root, so that no product overflows for a > 1e154 */
static NodeId rule_ACOSH(Ctx *c)
{
    NodeId above = CALL(N_SQRT, ADD(A, K(1.0)));
    return DIV(c->x, MUL(CALL(N_SQRT, SUB(A, K(1.0))), above));
}

/* atanh' = 1/(1 - a^2), factored: exact near +-1, where it is infinite */
static NodeId rule_ATANH(Ctx *c)
{
    NodeId above = one_plus(c, A);
    return DIV(c->x, MUL(one_minus(c, A), above));
}

static NodeId rule_EXPM1(Ctx *c) { return MUL(c->x, ADD(c->w, K(1.0))); }
static NodeId rule_LOG1P(Ctx *c) { return DIV(c->x, ADD(K(1.0), A)); }
static NodeId rule_LOG2(Ctx *c)
{
    return DIV(c->x, MUL(A, MATH_CONST(0.693147180559945309417232121458176568)));
}
static NodeId rule_LOG10(Ctx *c)
{
    return DIV(c->x, MUL(A, MATH_CONST(2.30258509299404568401799145468436421)));
}
/* cbrt' = 1/(3 w^2): w^2 neither overflows nor underflows where a is finite and not 0 */
static NodeId rule_CBRT(Ctx *c)
{
    NodeId square = MUL(c->w, c->w);
    return DIV(c->x, MUL(K(3.0), square));
}

/* erf' = 2/sqrt(pi) exp(-a^2), and erfc' its negative; one node for both */
static NodeId gaussian(Ctx *c)
{
    NodeId e = CALL(N_EXP, NEG(MUL(A, A)));
    return MUL(MATH_CONST(1.12837916709551257389615890312154517), e);
}
static NodeId rule_ERF(Ctx *c) { return MUL(c->x, gaussian(c)); }
static NodeId rule_ERFC(Ctx *c) { return NEG(MUL(c->x, gaussian(c))); }

/* abs'(0) = 0 by selection: the third branch is the operand itself, an exact zero at the kink
 * (and NaN for NaN), never x times 0 */
static NodeId rule_ABS(Ctx *c)
{
    c->zero = CMP(N_EQ, A, K(0.0));
    NodeId minus = NEG(c->x), below = IF(CMP(N_LT, A, K(0.0)), minus, A);
    return IF(CMP(N_GT, A, K(0.0)), c->x, below);
}

/* relu'(0) = 0 by selection: x where the operand is positive, else a selected 0 (also for
 * NaN, where relu is 0) */
static NodeId rule_RELU(Ctx *c)
{
    NodeId positive = CMP(N_GT, A, K(0.0));
    c->zero = dag_op(c->d, N_NOT, positive, 0, 0);
    return IF(positive, c->x, K(0.0));
}

/* sigmoid' = s (1 - s) with s the node itself; softplus' is the sigmoid of its operand */
static NodeId rule_SIGMOID(Ctx *c) { return MUL(c->x, MUL(c->w, SUB(K(1.0), c->w))); }
static NodeId rule_SOFTPLUS(Ctx *c) { return MUL(c->x, CALL(N_SIGMOID, A)); }

static NodeId rule_ADD(Ctx *c) { return c->x; }
static NodeId rule_SUB(Ctx *c) { return c->i == 0 ? c->x : NEG(c->x); }

/* 2 * y, with a constant factor of y doubled instead (2 * (100 * t) is 200 * t, the same
 * but where 100 * t is subnormal) */
static NodeId twice(Ctx *c, NodeId y)
{
    const Node *n = &c->d->nodes[y];
    for (int i = 0; n->kind == N_MUL && i < 2; i++) {
        NodeId k = i ? n->b : n->a, other = i ? n->a : n->b;
        if (c->d->fold && c->d->nodes[k].kind == N_CONST && isfinite(2 * c->d->nodes[k].k))
            return MUL(K(2 * c->d->nodes[k].k), other);
    }
    return MUL(K(2.0), y);
}

static NodeId rule_MUL(Ctx *c)
{
    if (A == B) /* a square: one term 2*(x*a), which equals x*a + x*a exactly */
        return c->i == 0 ? twice(c, MUL(c->x, A)) : 0;
    return MUL(c->x, c->i == 0 ? B : A);
}

static NodeId rule_DIV(Ctx *c)
{
    NodeId q = DIV(c->x, B);
    return c->i == 0 ? q : NEG(MUL(q, c->w));
}

/* d(a^b)/da = b a^(b-1), 0 at b = 0 (a^0 = 1 for every a), not 0 * 0^-1; d(a^b)/db =
 * a^b log(a), 0 at a = 0 (0^b is flat in b), not 0 * -inf */
static NodeId rule_POW(Ctx *c)
{
    if (c->i == 0)
        return unless_zero(c, B, MUL(c->x, MUL(B, dag_pow(c->d, A, SUB(B, K(1.0))))));
    return unless_zero(c, A, MUL(c->x, MUL(c->w, CALL(N_LOG, A))));
}

/* The partials of atan2 and hypot have the other (atan2) or the same (hypot) operand as a
 * factor: where that operand is 0 the partial is 0 even at the origin, where the formula
 * would be 0/0 (atan2 is constant along either axis on each side of 0; hypot's gradient 0
 * there matches abs'(0) = 0 for hypot(x, 0) = |x|). */
static NodeId rule_ATAN2(Ctx *c)
{
    NodeId b2 = MUL(B, B), q = DIV(c->x, ADD(MUL(A, A), b2));
    if (c->i == 0)
        return unless_zero(c, B, MUL(q, B));
    return unless_zero(c, A, NEG(MUL(q, A)));
}

static NodeId rule_HYPOT(Ctx *c)
{
    NodeId mine = c->i == 0 ? A : B;
    return unless_zero(c, mine, MUL(DIV(c->x, c->w), mine));
}

/* The operand the result equals gets x; on a tie each gets half, the average of the two
 * sides' derivatives (as abs'(0) = 0 averages -1 and 1), which is the derivative wherever the
 * function is smooth through the tie (softplus as max(z, 0) + log(1 + exp(-|z|))). */
static NodeId min_max(Ctx *c)
{
    NodeId mine = c->i == 0 ? A : B, tie = CMP(N_EQ, A, B), picked = CMP(N_EQ, c->w, mine);
    c->zero = dag_op(c->d, N_NOT, dag_binary(c->d, N_OR, tie, picked), 0, 0);
    NodeId alone = IF(picked, c->x, K(0.0));
    return IF(tie, MUL(K(0.5), c->x), alone);
}

#define rule_MIN min_max
#define rule_MAX min_max

/* Only the chosen branch gets x; the condition is flat. */
static NodeId rule_IF(Ctx *c)
{
    if (c->i == 0)
        return 0;
    c->zero = c->i == 1 ? dag_op(c->d, N_NOT, A, 0, 0) : A;
    return c->i == 1 ? IF(A, c->x, K(0.0)) : IF(A, K(0.0), c->x);
}

static const Rule rules[N_KINDS] = {
#define X(kind, ...) [N_##kind] = rule_##kind,
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

/* Conditions of strong zeros, 0 meaning never: a term is selected away when its factor is
 * or its own selection does; a sum when every term is. */
static NodeId either(Dag *d, NodeId p, NodeId q)
{
    return p && q ? dag_binary(d, N_OR, p, q) : p ? p : q;
}

NodeId deriv_both(Dag *d, NodeId p, NodeId q)
{
    return p && q ? (p == q ? p : dag_binary(d, N_AND, p, q)) : 0;
}

NodeId deriv_term(Dag *d, NodeId w, int i, NodeId x, NodeId x_zero, NodeId *term_zero)
{
    Ctx c = {d, d->nodes[w], w, x, 0, i};
    NodeId t = rules[c.n.kind](&c);
    if (t && x_zero && !op_info[c.n.kind].lin && !scales(d, t, x))
        t = dag_op(d, N_IF, x_zero, dag_const(d, 0.0), t);
    *term_zero = either(d, x_zero, c.zero);
    return t;
}
