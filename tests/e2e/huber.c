/*
 * huber.c: checks huber and line_fit from samples/huber.expr against closed forms.
 *     huber(r; d) = r^2/2 for |r| <= d, else d (|r| - d/2);  d/dr = r, else d sign(r).
 *     line_fit(a, b) = sum_i huber(a t_i + b - y_i; d):  d/da = sum_i huber'(r_i) t_i,
 *     d/db = sum_i huber'(r_i).
 * Points: both branches, both signs, and r = +-d exactly, where the branch `|r| <= d` is
 * taken (derivative r = +-d, equal to the other branch's there).
 */
#include <stdlib.h>

#include "check.h"
#include "huber.h"

static double ref_huber(double r, double d, double *g)
{
    if (fabs(r) <= d) {
        *g = r;
        return r * r / 2;
    }
    *g = d * (r > 0 ? 1 : -1);
    return d * (fabs(r) - d / 2);
}

int main(void)
{
    int failed = 0;
    static const double rs[] = {0, 0.3, -0.7, 1, -1, 1.5, -4, 100, -1e6};
    static const char *const rn[] = {"r"};
    Check c = check_begin("huber", TOL_CLOSED, TOL_CLOSED);
    for (size_t i = 0; i < sizeof rs / sizeof *rs; i++) {
        double g, r, in[1] = {rs[i]};
        double v = huber(rs[i], 1.0), gv = huber_grad(rs[i], 1.0, &g);
        double rv = ref_huber(rs[i], 1.0, &r);
        check_point(&c, 1, in, rn, v, gv, &g, rv, &r);
    }
    failed |= check_end(&c);

    static const double t[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    static const double y[8] = {1.1, 2.9, 5.2, 7.0, 30.0, 10.9, 13.1, 15.0}; /* y[4]: outlier */
    static const double pts[][2] = {{2, 1}, {0, 0}, {1.5, 3}, {-1, 20}, {2.02, 0.96}};
    static const char *const names[] = {"a", "b"};
    Check l = check_begin("line_fit", TOL_CLOSED, TOL_CLOSED);
    for (size_t p = 0; p < sizeof pts / sizeof *pts; p++) {
        double a = pts[p][0], b = pts[p][1], g[2], r[2] = {0, 0}, rv = 0;
        for (int i = 0; i < 8; i++) {
            double d;
            rv += ref_huber(a * t[i] + b - y[i], 1.5, &d);
            r[0] += d * t[i];
            r[1] += d;
        }
        double v = line_fit(a, b, t, y, 1.5), gv = line_fit_grad(a, b, t, y, 1.5, &g[0], &g[1]);
        check_point(&l, 2, pts[p], names, v, gv, g, rv, r);
    }
    failed |= check_end(&l);
    return failed;
}
