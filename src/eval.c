/*
 * eval.c: an interpreter over the DAG, with the same C library calls the generated code
 * makes. It is the reference the unit tests use for the derivative rules and what constant
 * folding computes with.
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

void eval_dag(const Dag *d, const double *inputs, double *values)
{
    values[0] = NAN;
    for (NodeId id = 1; id < d->len; id++) {
        const Node *n = &d->nodes[id];
        if (n->kind == N_CONST)
            values[id] = n->k;
        else if (n->kind == N_INPUT)
            values[id] = inputs[(int)n->k];
        else
            values[id] = eval_op(n->kind, values[n->a], values[n->b], values[n->c]);
    }
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
