/*
 * rosenbrock.c: checks the two functions adgen generates from samples/rosenbrock.expr.
 *
 * rosenbrock(x, y) = (1 - x)^2 + 100 (y - x^2)^2:
 *     d/dx = -2 (1 - x) - 400 x (y - x^2),   d/dy = 200 (y - x^2).
 * Points: the minimum (1, 1) where both vanish, the classic start (-1.2, 1), the origin,
 * points on the valley y = x^2, every quadrant, and large values.
 *
 * logloss(w1, w2, b) = -log(p), p = 1 / (1 + exp(-z)), z = 0.5 w1 - 1.25 w2 + b, which is
 * log(1 + exp(-z)); with dL/dz = -exp(-z) / (1 + exp(-z)) = -1 / (1 + exp(z)):
 *     dL/dw1 = 0.5 dL/dz,   dL/dw2 = -1.25 dL/dz,   dL/db = dL/dz.
 * Points: z = 0, moderate z of both signs, and |z| = 13, 14.5, 50 where p saturates.
 *
 * rosen(x[100]) = sum_i 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2, the extended form:
 *     d/dx[k] = -400 x[k] (x[k+1] - x[k]^2) - 2 (1 - x[k])   (k < 99)
 *             + 200 (x[k] - x[k-1]^2)                         (k > 0).
 * Points: the minimum (all 1), the classic start (-1.2, 1, -1.2, ...), and random vectors.
 */
#include <stdlib.h>

#include "check.h"
#include "rosenbrock.h"

static double ref_rosenbrock(double x, double y, double *g)
{
    g[0] = -2 * (1 - x) - 400 * x * (y - x * x);
    g[1] = 200 * (y - x * x);
    return (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x);
}

static double ref_logloss(double w1, double w2, double b, double *g)
{
    double z = 0.5 * w1 - 1.25 * w2 + b;
    double dz = -1 / (1 + exp(z));
    g[0] = 0.5 * dz;
    g[1] = -1.25 * dz;
    g[2] = dz;
    return log1p(exp(-z));
}

static int check_rosenbrock(void)
{
    static const double pts[][2] = {
        {1, 1},     {-1.2, 1},     {0, 0},      {2, 4},           {-3.5, 12.25},
        {0.5, 0.3}, {-0.75, 2.5},  {2, -3},     {-1.5, -2},       {10, -20},
        {-40, 30},  {1e3, 1e6 + 1}, {0.25, 1e-3},
    };
    static const char *const names[] = {"x", "y"};
    Check c = check_begin("rosenbrock", TOL_CLOSED, TOL_CLOSED);
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
        double x = pts[i][0], y = pts[i][1];
        double g[2] = {NAN, NAN}, r[2];
        double v = rosenbrock_grad(x, y, &g[0], &g[1]);
        double rv = ref_rosenbrock(x, y, r);
        check_point(&c, 2, pts[i], names, rosenbrock(x, y), v, g, rv, r);
    }
    return check_end(&c);
}

static int check_logloss(void)
{
    static const double pts[][3] = {
        {0, 0, 0},   {1, -1, 0.5},  {-2, 0.5, 1},   {0.3, 0.7, -0.1}, {4, 1, -2},
        {10, -4, 3}, {-10, 6, -2},  {40, -20, 5},   {-40, 20, -5},    {-0.5, -0.8, 2},
    };
    static const char *const names[] = {"w1", "w2", "b"};
    Check c = check_begin("logloss", TOL_CLOSED, TOL_CLOSED);
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
        double w1 = pts[i][0], w2 = pts[i][1], b = pts[i][2];
        double g[3] = {NAN, NAN, NAN}, r[3];
        double v = logloss_grad(w1, w2, b, &g[0], &g[1], &g[2]);
        double rv = ref_logloss(w1, w2, b, r);
        check_point(&c, 3, pts[i], names, logloss(w1, w2, b), v, g, rv, r);
    }
    return check_end(&c);
}

static double ref_rosen(const double *x, double *g)
{
    double f = 0;
    for (int k = 0; k < 100; k++)
        g[k] = 0;
    for (int i = 0; i < 99; i++) {
        double u = x[i + 1] - x[i] * x[i];
        f += 100 * u * u + (1 - x[i]) * (1 - x[i]);
        g[i] += -400 * x[i] * u - 2 * (1 - x[i]);
        g[i + 1] += 200 * u;
    }
    return f;
}

static int check_rosen(void)
{
    static char labels[100][8];
    const char *names[100];
    for (int k = 0; k < 100; k++) {
        snprintf(labels[k], sizeof labels[k], "x[%d]", k);
        names[k] = labels[k];
    }
    Check c = check_begin("rosen", TOL_CLOSED, TOL_CLOSED);
    unsigned long state = 100;
    for (int p = 0; p < 6; p++) {
        double x[100], g[100], r[100];
        for (int k = 0; k < 100; k++) {
            state = state * 6364136223846793005ul + 1442695040888963407ul;
            x[k] = p == 0 ? 1 : p == 1 ? (k % 2 ? 1 : -1.2) :
                   (double)(state >> 11) / 9007199254740992.0 * 4 - 2;
        }
        double v = rosen(x), gv = rosen_grad(x, g), rv = ref_rosen(x, r);
        check_point(&c, 100, x, names, v, gv, g, rv, r);
    }
    return check_end(&c);
}

int main(void)
{
    int failed = check_rosenbrock();
    failed |= check_logloss();
    failed |= check_rosen();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
