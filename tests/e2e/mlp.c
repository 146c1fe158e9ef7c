/*
 * mlp.c: checks mlp and mlp_grad from samples/mlp.expr against a hand-written
 * backpropagation (eqs. 5.115-5.118) of the same 4-8-2 network:
 *     z1 = A0 x + b0, f1 = tanh(z1), f2 = A1 f1 + b1, L = |y - f2|^2,
 *     dL/df2 = -2 (y - f2); dL/dA1 = dL/df2 f1^T; dL/db1 = dL/df2;
 *     dL/df1 = A1^T dL/df2; dL/dz1 = dL/df1 (1 - f1^2); dL/dA0 = dL/dz1 x^T; dL/db0 = dL/dz1.
 * The parameters are passed in adgen's order A0 (row-major), b0, A1, b1; the sample x, y is
 * data. Points: random weights of several scales, to 1e-12 relative.
 */
#include <stdlib.h>

#include "check.h"
#include "mlp.h"

#define NP 58

static double ref_mlp(const double *A0, const double *b0, const double *A1, const double *b1,
                      const double *x, const double *y, double *g)
{
    double f1[8], df2[2], dz1[8], L = 0;
    for (int i = 0; i < 8; i++) {
        double z = b0[i];
        for (int j = 0; j < 4; j++)
            z += A0[4 * i + j] * x[j];
        f1[i] = tanh(z);
    }
    for (int k = 0; k < 2; k++) {
        double f2 = b1[k];
        for (int i = 0; i < 8; i++)
            f2 += A1[8 * k + i] * f1[i];
        L += (y[k] - f2) * (y[k] - f2);
        df2[k] = -2 * (y[k] - f2);
    }
    double *gA0 = g, *gb0 = g + 32, *gA1 = g + 40, *gb1 = g + 56;
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 8; i++)
            gA1[8 * k + i] = df2[k] * f1[i];
        gb1[k] = df2[k];
    }
    for (int i = 0; i < 8; i++) {
        double df1 = A1[i] * df2[0] + A1[8 + i] * df2[1];
        dz1[i] = df1 * (1 - f1[i] * f1[i]);
        for (int j = 0; j < 4; j++)
            gA0[4 * i + j] = dz1[i] * x[j];
        gb0[i] = dz1[i];
    }
    return L;
}

static double uniform(unsigned long *state)
{
    *state = *state * 6364136223846793005ul + 1442695040888963407ul;
    return (double)(*state >> 11) / 9007199254740992.0 * 2 - 1;
}

int main(void)
{
    static char labels[NP][16];
    const char *names[NP];
    for (int i = 0; i < NP; i++) {
        if (i < 32)
            snprintf(labels[i], sizeof labels[i], "A0[%d][%d]", i / 4, i % 4);
        else if (i < 40)
            snprintf(labels[i], sizeof labels[i], "b0[%d]", i - 32);
        else if (i < 56)
            snprintf(labels[i], sizeof labels[i], "A1[%d][%d]", (i - 40) / 8, (i - 40) % 8);
        else
            snprintf(labels[i], sizeof labels[i], "b1[%d]", i - 56);
        names[i] = labels[i];
    }
    Check c = check_begin("mlp", TOL_CLOSED, TOL_CLOSED);
    unsigned long state = 5112;
    static const double scales[] = {0.1, 0.5, 1, 3};
    for (int p = 0; p < 12; p++) {
        double theta[NP], x[4], y[2], g[NP], r[NP];
        double s = scales[p % 4];
        for (int i = 0; i < NP; i++)
            theta[i] = s * uniform(&state);
        for (int j = 0; j < 4; j++)
            x[j] = 2 * uniform(&state);
        for (int k = 0; k < 2; k++)
            y[k] = uniform(&state);
        double *A0 = theta, *b0 = theta + 32, *A1 = theta + 40, *b1 = theta + 56;
        double v = mlp(A0, b0, A1, b1, x, y);
        double gv = mlp_grad(A0, b0, A1, b1, x, y, g, g + 32, g + 40, g + 56);
        double rv = ref_mlp(A0, b0, A1, b1, x, y, r);
        check_point(&c, NP, theta, names, v, gv, g, rv, r);
    }
    return check_end(&c);
}
