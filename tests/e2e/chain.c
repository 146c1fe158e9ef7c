/*
 * chain.c: checks samples/chain.expr (the hanging chain, its number of points M known at run
 * time) against closed forms at M = 2, 3, 10 and 1000, every array allocated to exactly its
 * size: the energy h sum y[i] and its gradient (0 for x, h for y); the links' squared lengths
 * less h^2, c[i] = dx^2 + dy^2 - h^2 with dx = x[i+1] - x[i], and their products with a
 * direction (2 dx (xd[i+1] - xd[i]) + 2 dy (yd[i+1] - yd[i])) and a cotangent u (x_bar[i] =
 * -2 dx u[i] + 2 dx' u[i-1], y likewise); the Lagrangian s h sum y[i] + sum lam[i] c[i] and
 * its gradient.
 */
#include <stdlib.h>

#include "chain.h"
#include "check.h"

static double *values(long n, unsigned long seed)
{
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v)
        exit(2);
    for (long i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ul + 1442695040888963407ul;
        v[i] = (double)(seed >> 11) / 9007199254740992.0 * 2 - 1;
    }
    return v;
}

/* The closed form of the links' cotangent along w: -2 dx w[i] into x[i], 2 dx w[i] into
 * x[i + 1], y likewise. */
static void cotangent(long m, const double *x, const double *y, const double *w, double *gx,
                      double *gy)
{
    for (long i = 0; i < m; i++)
        gx[i] = gy[i] = 0;
    for (long i = 0; i + 1 < m; i++) {
        double dx = x[i + 1] - x[i], dy = y[i + 1] - y[i];
        gx[i] -= 2 * dx * w[i];
        gx[i + 1] += 2 * dx * w[i];
        gy[i] -= 2 * dy * w[i];
        gy[i + 1] += 2 * dy * w[i];
    }
}

int main(void)
{
    static const long sizes[] = {2, 3, 10, 1000};
    static const char *const names[] = {"x[0]", "y[0]"};
    Check ce = check_begin("energy", TOL_CLOSED, TOL_CLOSED);
    Check cl = check_begin("links", TOL_CLOSED, TOL_CLOSED);
    Check cg = check_begin("lag", TOL_CLOSED, TOL_CLOSED);
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        long m = sizes[k], nc = m - 1;
        double h = 2.0 / (double)nc, s = 0.75;
        double *x = values(m, 1 + (unsigned long)m), *y = values(m, 2 + (unsigned long)m);
        double *xd = values(m, 3), *yd = values(m, 4), *u = values(nc, 5), *lam = values(m, 6);
        double *gx = values(m, 0), *gy = values(m, 0), *rx = values(m, 0), *ry = values(m, 0);
        double *out = values(nc, 0), *dot = values(nc, 0), *out2 = values(nc, 0);
        double in[2] = {x[0], y[0]}, ref[2];
        /* the energy */
        double e = 0;
        for (long i = 0; i < m; i++)
            e += h * y[i];
        double v = energy(m, x, y, h), gv = energy_grad(m, x, y, h, gx, gy);
        for (long i = 0; i < m; i++) {
            ref[0] = 0;
            ref[1] = h;
            double got[2] = {gx[i], gy[i]};
            check_point(&ce, 2, in, names, v, gv, got, e, ref);
        }
        /* the links, their tangent and their cotangent */
        links(m, x, y, h, out);
        links_jvp(m, x, y, h, xd, yd, out2, dot);
        links_vjp(m, x, y, h, u, out2, rx, ry);
        for (long i = 0; i < nc; i++) {
            double dx = x[i + 1] - x[i], dy = y[i + 1] - y[i];
            check_one(&cl, 2, in, "c[i]", out[i], dx * dx + dy * dy - h * h, cl.vtol,
                      &cl.worst_value);
            check_one(&cl, 2, in, "jvp", dot[i],
                      2 * dx * (xd[i + 1] - xd[i]) + 2 * dy * (yd[i + 1] - yd[i]), cl.gtol,
                      &cl.worst_grad);
        }
        cotangent(m, x, y, u, gx, gy);
        for (long i = 0; i < m; i++) {
            check_one(&cl, 2, in, "vjp of x", rx[i], gx[i], cl.gtol, &cl.worst_grad);
            check_one(&cl, 2, in, "vjp of y", ry[i], gy[i], cl.gtol, &cl.worst_grad);
        }
        /* the Lagrangian: its gradient is s h for y plus the links' cotangent along lam */
        double l = 0;
        for (long i = 0; i < m; i++)
            l += s * h * y[i];
        for (long i = 0; i < nc; i++) {
            double dx = x[i + 1] - x[i], dy = y[i + 1] - y[i];
            l += lam[i] * (dx * dx + dy * dy - h * h);
        }
        cotangent(m, x, y, lam, rx, ry);
        v = lag(m, x, y, h, s, lam);
        gv = lag_grad(m, x, y, h, s, lam, gx, gy);
        for (long i = 0; i < m; i++) {
            ref[0] = rx[i];
            ref[1] = ry[i] + s * h;
            double got[2] = {gx[i], gy[i]};
            check_point(&cg, 2, in, names, v, gv, got, l, ref);
        }
        free(x), free(y), free(xd), free(yd), free(u), free(lam), free(gx), free(gy);
        free(rx), free(ry), free(out), free(dot), free(out2);
    }
    int bad = check_end(&ce);
    bad |= check_end(&cl);
    bad |= check_end(&cg);
    return bad;
}
