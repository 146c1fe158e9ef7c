/*
 * eval.c: an interpreter over the DAG, with the same C library calls the generated code
 * makes. It is the reference the unit tests use for the derivative rules and what constant
 * folding computes with. eval_tangent differentiates in forward mode over the primal nodes
 * alone, with its own copy of every derivative rule: the differential test checks reverse.c
 * and the generated C against it.
 */
#include <math.h>
#include <stdlib.h>

#include "adgen.h"

double eval_op(NodeKind k, double a, double b, double c)
{
    switch (k) {
    case N_NEG: return -a;
    case N_SIN: return sin(a);
    case N_COS: return cos(a);
    case N_TAN: return tan(a);
    case N_ASIN: return asin(a);
    case N_ACOS: return acos(a);
    case N_ATAN: return atan(a);
    case N_SINH: return sinh(a);
    case N_COSH: return cosh(a);
    case N_TANH: return tanh(a);
    case N_EXP: return exp(a);
    case N_LOG: return log(a);
    case N_SQRT: return sqrt(a);
    case N_ABS: return fabs(a);
    case N_SIGN: return a > 0 ? 1.0 : a < 0 ? -1.0 : a;
    case N_ADD: return a + b;
    case N_SUB: return a - b;
    case N_MUL: return a * b;
    case N_DIV: return a / b;
    case N_POW: return pow(a, b);
    case N_ATAN2: return atan2(a, b);
    case N_HYPOT: return hypot(a, b);
    case N_MIN: return fmin(a, b);
    case N_MAX: return fmax(a, b);
    case N_IFEQ: return a == b ? c : 0.0;
    case N_IFNE: return a == b ? 0.0 : c;
    default: return NAN;
    }
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
            values[id] = inputs[(int)n->k];
        else
            values[id] = eval_op(n->kind, values[n->a], values[n->b], values[n->c]);
    }
}

void eval_dag(const Dag *d, const double *inputs, double *values)
{
    eval_nodes(d, d->len, inputs, values);
}

double eval_grad(const Func *f, const double *x, double *grad)
{
    double *values = xrealloc(NULL, (size_t)f->dag.len * sizeof *values);
    eval_dag(&f->dag, x, values);
    for (int i = 0; i < f->ninputs; i++)
        grad[i] = values[f->grad[i]];
    double value = values[f->output];
    free(values);
    return value;
}

/* An operand's term of a tangent sum, built only when the operand depends on the swept
 * input: reverse.c builds no term for an inactive operand, so neither may an infinite
 * partial times a zero tangent here (0 * inf would be a NaN reverse mode never makes). */
#define TERM(dep, expr) ((dep) ? (expr) : 0.0)

/* The tangent of node n with value w, from its operands' values v, tangents t and
 * dependence on the swept input. */
static double tangent(const Node *n, double w, const double *v, const double *t,
                      const uint8_t *dep)
{
    double a = v[n->a], b = v[n->b], ta = t[n->a], tb = t[n->b];
    int ha = dep[n->a], hb = dep[n->b];
    switch ((NodeKind)n->kind) {
    case N_NEG: return -ta;
    case N_ADD: return TERM(ha, ta) + TERM(hb, tb);
    case N_SUB: return TERM(ha, ta) - TERM(hb, tb);
    case N_MUL: return TERM(ha, ta * b) + TERM(hb, a * tb);
    case N_DIV: return TERM(ha, ta / b) - TERM(hb, tb * w / b);
    case N_SIN: return cos(a) * ta;
    case N_COS: return -sin(a) * ta;
    case N_TAN: return (1 + w * w) * ta;
    case N_ASIN: return ta / sqrt(1 - a * a);
    case N_ACOS: return -ta / sqrt(1 - a * a);
    case N_ATAN: return ta / (1 + a * a);
    case N_SINH: return cosh(a) * ta;
    case N_COSH: return sinh(a) * ta;
    case N_TANH: return (1 - w * w) * ta;
    case N_EXP: return w * ta;
    case N_LOG: return ta / a;
    case N_SQRT: return 0.5 / w * ta;
    case N_ABS: return eval_op(N_SIGN, a, 0, 0) * ta; /* abs'(0) = 0 */
    case N_POW:
        /* d(a^b)/da is 0 at b = 0 (a^0 = 1 for every a); d(a^b)/db = a^b log(a) is 0 at
         * a = 0, where a^b is flat in b */
        return TERM(ha, b == 0 ? 0.0 : b * pow(a, b - 1) * ta) +
               TERM(hb, a == 0 ? 0.0 : w * log(a) * tb);
    /* a partial with a zero factor is 0, also at the origin where the formula is 0/0 */
    case N_ATAN2:
        return TERM(ha, b == 0 ? 0.0 : ta * b / (a * a + b * b)) -
               TERM(hb, a == 0 ? 0.0 : tb * a / (a * a + b * b));
    case N_HYPOT:
        return TERM(ha, a == 0 ? 0.0 : ta * a / w) + TERM(hb, b == 0 ? 0.0 : tb * b / w);
    case N_MIN:
    case N_MAX:
        /* the operand the result equals carries the tangent; on a tie, the first */
        return w == a ? TERM(ha, ta) : TERM(hb, tb);
    default:
        /* sema builds only the kinds above into a primal */
        abort();
    }
}

#undef TERM

/* Whether node n depends on the swept input through a term that is not a guarded zero. A tie
 * of min or max, and the guards of pow, atan2 and hypot, are selections in reverse.c (p == q
 * ? 0 : v), which give an exact 0 whatever v is; here the node then stops depending on that
 * operand, so that no 0 * inf further on turns the exact 0 into a NaN reverse mode never
 * makes. (abs'(0) = 0 is a product in both, and stays one.) */
static int depends(const Node *n, double w, const double *v, const uint8_t *dep)
{
    double a = v[n->a], b = v[n->b];
    int ha = dep[n->a], hb = dep[n->b];
    switch ((NodeKind)n->kind) {
    case N_MIN:
    case N_MAX: return w == a ? ha : hb;
    case N_POW:
    case N_ATAN2: return (ha && b != 0) || (hb && a != 0);
    case N_HYPOT: return (ha && a != 0) || (hb && b != 0);
    default: return ha || hb || dep[n->c];
    }
}

double eval_tangent(const Func *f, const double *x, double *grad, double *scale)
{
    const Dag *d = &f->dag;
    uint32_t n = f->nprimal ? f->nprimal : d->len; /* before reverse, all nodes are primal */
    double *v = xrealloc(NULL, 2 * (size_t)n * sizeof *v), *t = v + n;
    uint8_t *dep = xrealloc(NULL, n);
    eval_nodes(d, n, x, v);
    t[0] = 0;
    dep[0] = 0;
    for (int i = 0; i < f->ninputs; i++) {
        double largest = 0;
        for (NodeId id = 1; id < n; id++) {
            const Node *nd = &d->nodes[id];
            if (nd->kind == N_INPUT)
                dep[id] = (int)nd->k == i;
            else
                dep[id] = depends(nd, v[id], v, dep);
            if (!dep[id])
                t[id] = 0;
            else
                t[id] = nd->kind == N_INPUT ? 1.0 : tangent(nd, v[id], v, t, dep);
            if (isfinite(t[id]) && fabs(t[id]) > largest)
                largest = fabs(t[id]);
        }
        grad[i] = t[f->output];
        if (scale)
            scale[i] = largest;
    }
    double value = v[f->output];
    free(v);
    free(dep);
    return value;
}
