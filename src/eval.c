/*
 * eval.c: an interpreter over the DAG, with the same C library calls the generated code
 * makes. It is the reference the unit tests use for the derivative rules and what constant
 * folding computes with; its values come from the table of ops.h. eval_tangent differentiates
 * in forward mode over the primal nodes alone, with its own copy of every derivative rule
 * and of the strong zeros: the tests check deriv.c, both transforms and the generated C
 * against it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

#define PI 3.14159265358979323846

double eval_op(NodeKind k, double a, double b, double c)
{
    (void)a, (void)b, (void)c;
    switch (k) {
#define X(kind, lang, ar, cname, form, fold, cost, lin, value, ...) \
    case N_##kind: return value;
    OPS(X)
#undef X
    }
    return NAN;
}

/* Evaluates nodes 1..len-1. */
static void eval_nodes(const Dag *d, uint32_t len, const double *inputs, double *values)
{
    values[0] = NAN;
    for (NodeId id = 1; id < len; id++) {
        const Node *n = &d->nodes[id];
        if (n->kind == N_CONST)
            values[id] = n->k;
        else if (n->kind == N_INPUT)
            values[id] = inputs[(uint32_t)n->k];
        else
            values[id] = eval_op(n->kind, values[n->a], values[n->b], values[n->c]);
    }
}

void eval_dag(const Dag *d, const double *inputs, double *values)
{
    eval_nodes(d, d->len, inputs, values);
}

double *eval_func(const Func *f, const double *x)
{
    uint32_t slots = f->nslots > f->ninputs ? f->nslots : f->ninputs;
    double *in = xrealloc(NULL, (slots + 1) * sizeof *in);
    memset(in, 0, (slots + 1) * sizeof *in);
    memcpy(in, x, f->ninputs * sizeof *in);
    double *values = xrealloc(NULL, (size_t)f->dag.len * sizeof *values);
    eval_dag(&f->dag, in, values);
    free(in);
    return values;
}

double eval_grad(const Func *f, const double *x, double *grad)
{
    double *values = eval_func(f, x);
    for (uint32_t i = 0; i < f->ninputs; i++)
        grad[i] = values[f->mode[ENTRY_GRAD].node[i]];
    double value = values[f->roots[0]];
    free(values);
    return value;
}

/* The term of operand j (0: a, 1: b) of node n with value w and operand values a, b, when
 * that operand's tangent is x: the partial times x, with the conventions of the README's
 * "Domain edges" written as selections (an exact 0 whatever x is). *zero tells whether a
 * selection made it that 0 (a strong zero). */
static double term(const Node *n, int j, double w, double a, double b, double x, int *zero)
{
    *zero = 0;
    switch ((NodeKind)n->kind) {
    case N_NONE: case N_CONST: case N_INPUT:
    case N_EQ: case N_NE: case N_LT: case N_LE: case N_GT: case N_GE:
    case N_AND: case N_OR: case N_NOT: case N_FLOOR: case N_CEIL: case N_SIGN:
        return 0;
    case N_NEG: return -x;
    case N_ADD: return x;
    case N_SUB: return j == 0 ? x : -x;
    case N_MUL: return j == 0 ? x * b : a * x;
    case N_DIV: return j == 0 ? x / b : -(x * w / b);
    case N_SIN: return cos(a) * x;
    case N_COS: return -sin(a) * x;
    case N_TAN: return (1 + w * w) * x;
    case N_ASIN: return x / sqrt(1 - a * a);
    case N_ACOS: return -x / sqrt(1 - a * a);
    case N_ATAN: return x / (1 + a * a);
    case N_SINH: return cosh(a) * x;
    case N_COSH: return sinh(a) * x;
    case N_TANH: return (1 - w * w) * x;
    case N_EXP: return w * x;
    case N_LOG: return x / a;
    case N_SQRT: return 0.5 / w * x;
    case N_ASINH: return x / hypot(1, a);
    case N_ACOSH: return x / (sqrt(a - 1) * sqrt(a + 1));
    case N_ATANH: return x / ((1 - a) * (1 + a));
    case N_EXPM1: return exp(a) * x;
    case N_LOG1P: return x / (1 + a);
    case N_LOG2: return x / (a * log(2.0));
    case N_LOG10: return x / (a * log(10.0));
    case N_CBRT: return x / (3 * w * w);
    case N_ERF: return 2 / sqrt(PI) * exp(-(a * a)) * x;
    case N_ERFC: return -(2 / sqrt(PI) * exp(-(a * a)) * x);
    case N_ABS: /* abs'(0) = 0 */
        *zero = a == 0;
        return a > 0 ? x : a < 0 ? -x : a;
    /* the logistic function's derivative e^-|a| / (1 + e^-|a|)^2, symmetric in a */
    case N_SIGMOID: return exp(-fabs(a)) / ((1 + exp(-fabs(a))) * (1 + exp(-fabs(a)))) * x;
    case N_SOFTPLUS: return x / (1 + exp(-a));
    case N_RELU: /* relu'(0) = 0, and 0 for NaN, where relu is 0 */
        *zero = !(a > 0);
        return a > 0 ? x : 0;
    case N_POW:
        /* d(a^b)/da is 0 at b = 0 (a^0 = 1 for every a); d(a^b)/db = a^b log(a) is 0 at
         * a = 0, where a^b is flat in b */
        *zero = (j == 0 ? b : a) == 0;
        if (j == 0)
            return b == 0 ? 0 : b * pow(a, b - 1) * x;
        return a == 0 ? 0 : w * log(a) * x;
    /* a partial with a zero factor is 0, also at the origin where the formula is 0/0 */
    case N_ATAN2:
        *zero = (j == 0 ? b : a) == 0;
        if (j == 0)
            return b == 0 ? 0 : x * b / (a * a + b * b);
        return a == 0 ? 0 : -(x * a / (a * a + b * b));
    case N_HYPOT:
        *zero = (j == 0 ? a : b) == 0;
        if (j == 0)
            return a == 0 ? 0 : x * a / w;
        return b == 0 ? 0 : x * b / w;
    case N_MIN:
    case N_MAX:
        /* the operand the result equals carries the tangent; on a tie, each half */
        *zero = a != b && w != (j == 0 ? a : b);
        if (a == b)
            return x / 2;
        return *zero ? 0 : x;
    case N_IF:
        /* a is the condition, b and c the branches: only the chosen one carries x */
        if (j == 0)
            return 0;
        *zero = (a != 0) != (j == 1);
        return *zero ? 0 : x;
    }
    abort();
}

/* Whether operand j of n passes no tangent on, not even a 0 that a consumer's infinite
 * partial would make a NaN: comparisons, logic, the test of a selection, and the steps floor,
 * ceil and sign (flat, and taken as flat at their steps). */
static int flat(const Node *n, int j)
{
    OpForm form = op_info[n->kind].form;
    return form == F_CMP || form == F_LOGIC || form == F_NOT || (n->kind == N_IF && j == 0) ||
           n->kind == N_FLOOR || n->kind == N_CEIL || n->kind == N_SIGN;
}

/* Kinds whose every term is x, -x, x/2 or a selected 0, never x times a computed partial: a
 * strong zero x needs no guard there. */
static int linear(NodeKind k)
{
    return k == N_NEG || k == N_ADD || k == N_SUB || k == N_ABS || k == N_RELU || k == N_MIN ||
           k == N_MAX || k == N_IF;
}

double eval_tangent(const Func *f, const double *x, double *grad, double *scale)
{
    const Dag *d = &f->dag;
    uint32_t n = f->nprimal ? f->nprimal : d->len; /* before reverse, all nodes are primal */
    double *v = xrealloc(NULL, 2 * (size_t)n * sizeof *v), *t = v + n;
    /* has: the node depends on the swept input; zero: its tangent is a strong zero */
    uint8_t *has = xrealloc(NULL, 2 * (size_t)n), *zero = has + n;
    eval_nodes(d, n, x, v);
    for (uint32_t i = 0; i < f->ninputs; i++) {
        double largest = 0;
        memset(has, 0, 2 * (size_t)n);
        for (NodeId id = 1; id < n; id++) {
            const Node *nd = &d->nodes[id];
            t[id] = 0;
            if (nd->kind == N_INPUT) {
                has[id] = (uint32_t)nd->k == i;
                t[id] = has[id];
                continue;
            }
            NodeId ops[3] = {nd->a, nd->b, nd->c};
            int all = 1;
            for (int j = 0; j < node_arity(nd->kind); j++) {
                NodeId o = ops[j];
                int own;
                double tj = term(nd, j, v[id], v[nd->a], v[nd->b], t[o], &own);
                if (!has[o] || flat(nd, j))
                    continue;
                /* a strong zero stays zero whatever its partial: no 0 * inf */
                if (zero[o] && !linear(nd->kind))
                    tj = 0;
                t[id] = has[id] ? t[id] + tj : tj;
                has[id] = 1;
                all = all && (zero[o] || own);
            }
            zero[id] = has[id] && all;
            if (isfinite(t[id]) && fabs(t[id]) > largest)
                largest = fabs(t[id]);
        }
        grad[i] = has[f->roots[0]] ? t[f->roots[0]] : 0;
        if (scale)
            scale[i] = largest;
    }
    double value = v[f->roots[0]];
    free(v);
    free(has);
    return value;
}
