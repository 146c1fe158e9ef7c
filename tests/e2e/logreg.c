/*
 * logreg.c: checks logreg and logreg_grad from samples/logreg.expr (the number of points N
 * known at run time) against the closed form of the mean negative log-likelihood of logistic
 * regression, as tests/e2e/logistic.c does for N = 20, here at N = 1, 2, 20 and 1000 with
 * each array allocated to exactly its size; at N = 0 the mean of no point is 0/0, NaN.
 */
#include <stdlib.h>

#include "check.h"
#include "logreg.h"

static double softplus(double z)
{
    return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

static double sigmoid(double z)
{
    return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
}

static double ref_logreg(long n, const double *w, double b, const double *X, const double *y,
                         double *g)
{
    double L = 0;
    g[0] = g[1] = g[2] = g[3] = 0;
    for (long i = 0; i < n; i++) {
        double z = w[0] * X[3 * i] + w[1] * X[3 * i + 1] + w[2] * X[3 * i + 2] + b;
        L += softplus(z) - y[i] * z;
        double d = sigmoid(z) - y[i];
        for (int j = 0; j < 3; j++)
            g[j] += d * X[3 * i + j] / (double)n;
        g[3] += d / (double)n;
    }
    return L / (double)n;
}

int main(void)
{
    static const long sizes[] = {1, 2, 20, 1000};
    static const double pts[][4] = {
        {0, 0, 0, 0}, {1, 0.5, -1, -0.3}, {-2, 3, 0.25, 1}, {10, -10, 5, 2}, {100, 80, -90, 7},
    };
    static const char *const names[] = {"w[0]", "w[1]", "w[2]", "b"};
    Check c = check_begin("logreg", TOL_CLOSED, TOL_CLOSED);
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        long n = sizes[k];
        double *X = malloc((size_t)n * 3 * sizeof *X), *y = malloc((size_t)n * sizeof *y);
        if (!X || !y)
            return 2;
        unsigned long state = 20 + (unsigned long)n;
        for (long i = 0; i < n; i++) {
            for (int j = 0; j < 3; j++) {
                state = state * 6364136223846793005ul + 1442695040888963407ul;
                X[3 * i + j] = (double)(state >> 11) / 9007199254740992.0 * 4 - 2;
            }
            y[i] = X[3 * i] + 0.5 * X[3 * i + 1] - X[3 * i + 2] > 0.3;
        }
        for (size_t i = 0; i < sizeof pts / sizeof *pts; i++) {
            double g[4], r[4];
            double v = logreg(n, pts[i], pts[i][3], X, y);
            double gv = logreg_grad(n, pts[i], pts[i][3], X, y, g, &g[3]);
            double rv = ref_logreg(n, pts[i], pts[i][3], X, y, r);
            check_point(&c, 4, pts[i], names, v, gv, g, rv, r);
        }
        free(X);
        free(y);
    }
    double g[4];
    double v = logreg(0, pts[1], pts[1][3], NULL, NULL);
    double gv = logreg_grad(0, pts[1], pts[1][3], NULL, NULL, g, &g[3]);
    if (!isnan(v) || !isnan(gv)) {
        printf("logreg at N = 0: %g and %g, expected NaN (0/0)\n", v, gv);
        return 1;
    }
    return check_end(&c);
}
