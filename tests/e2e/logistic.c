/*
 * logistic.c: checks logistic and logistic_grad from samples/logistic.expr against the closed
 * form of the mean negative log-likelihood of logistic regression over N = 20 points:
 *     L = (1/N) sum_n [log(1 + exp(z_n)) - y_n z_n],   z_n = w . x_n + b,
 *     dL/dw_j = (1/N) sum_n (s(z_n) - y_n) x_nj,   dL/db = (1/N) sum_n (s(z_n) - y_n),
 * with s the logistic function. Points: weights of growing size, up to |z| near 500 where a
 * naive log(1 + exp(z)) overflows; the stable form must stay finite and exact.
 */
#include <stdlib.h>

#include "check.h"
#include "logistic.h"

#define N 20

static double softplus(double z)
{
    return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

static double sigmoid(double z)
{
    return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
}

static double ref_logistic(const double *w, double b, const double X[N][3], const double *y,
                           double *g)
{
    double L = 0;
    g[0] = g[1] = g[2] = g[3] = 0;
    for (int n = 0; n < N; n++) {
        double z = w[0] * X[n][0] + w[1] * X[n][1] + w[2] * X[n][2] + b;
        L += softplus(z) - y[n] * z;
        double d = sigmoid(z) - y[n];
        for (int j = 0; j < 3; j++)
            g[j] += d * X[n][j] / N;
        g[3] += d / N;
    }
    return L / N;
}

int main(void)
{
    double X[N][3], y[N];
    unsigned long state = 20;
    for (int n = 0; n < N; n++) {
        for (int j = 0; j < 3; j++) {
            state = state * 6364136223846793005ul + 1442695040888963407ul;
            X[n][j] = (double)(state >> 11) / 9007199254740992.0 * 4 - 2;
        }
        y[n] = X[n][0] + 0.5 * X[n][1] - X[n][2] > 0.3;
    }
    static const double pts[][4] = {
        {0, 0, 0, 0}, {1, 0.5, -1, -0.3}, {-2, 3, 0.25, 1}, {10, -10, 5, 2}, {100, 80, -90, 7},
        {0.01, -0.02, 0.03, -0.04},
    };
    static const char *const names[] = {"w[0]", "w[1]", "w[2]", "b"};
    Check c = check_begin("logistic", TOL_CLOSED, TOL_CLOSED);
    for (size_t i = 0; i < sizeof pts / sizeof *pts; i++) {
        double g[4], r[4];
        double v = logistic(pts[i], pts[i][3], &X[0][0], y);
        double gv = logistic_grad(pts[i], pts[i][3], &X[0][0], y, g, &g[3]);
        double rv = ref_logistic(pts[i], pts[i][3], (const double(*)[3])X, y, r);
        check_point(&c, 4, pts[i], names, v, gv, g, rv, r);
    }
    return check_end(&c);
}
