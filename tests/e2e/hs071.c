/*
 * hs071.c: checks samples/hs071.expr, IPOPT's example problem, against its closed forms: f and
 * f_grad, g and g_jac (2 x 4, row-major), and lag and lag_grad, the Lagrangian written from
 * f and the two values of g that `c = g(x)` binds (and lag_sum, the same from g(x)[i]), at
 * points of the box 1 <= x <= 5 and outside it, with several sigma and lambda.
 */
#include "check.h"
#include "hs071.h"

static double ref_f(const double *x, double *g)
{
    double s = x[0] + x[1] + x[2];
    g[0] = x[3] * (2 * x[0] + x[1] + x[2]);
    g[1] = x[0] * x[3];
    g[2] = x[0] * x[3] + 1;
    g[3] = x[0] * s;
    return x[0] * x[3] * s + x[2];
}

/* the constraints' values and their Jacobian, row-major */
static void ref_g(const double *x, double *v, double *J)
{
    v[0] = x[0] * x[1] * x[2] * x[3];
    v[1] = x[0] * x[0] + x[1] * x[1] + x[2] * x[2] + x[3] * x[3];
    for (int j = 0; j < 4; j++) {
        double p = 1;
        for (int k = 0; k < 4; k++)
            p *= k == j ? 1 : x[k];
        J[j] = p;
        J[4 + j] = 2 * x[j];
    }
}

int main(void)
{
    static const double pts[][4] = {
        {1, 5, 5, 1}, {1, 4.743, 3.821, 1.379}, {2, 2, 2, 2}, {-1.5, 0.25, 3, -2}, {0, 0, 0, 0},
    };
    static const double mult[][3] = {{1, 0, 0}, {0.5, -0.3, 2}, {0, 1, -1}};
    static const char *const names[] = {"x[0]", "x[1]", "x[2]", "x[3]"};
    Check cf = check_begin("f", TOL_CLOSED, TOL_CLOSED), cg = check_begin("g", TOL_CLOSED,
                                                                          TOL_CLOSED);
    Check cl = check_begin("lag", TOL_CLOSED, TOL_CLOSED);
    Check cs = check_begin("lag_sum", TOL_CLOSED, TOL_CLOSED);
    for (size_t i = 0; i < sizeof pts / sizeof *pts; i++) {
        const double *x = pts[i];
        double fg[4], r[4], v[2], out[2], J[8], rv[2], rJ[8];
        double fv = f(x), gv = f_grad(x, fg), rf = ref_f(x, r);
        check_point(&cf, 4, x, names, fv, gv, fg, rf, r);
        g_jac(x, out, J);
        ref_g(x, rv, rJ);
        g(x, v);
        for (int k = 0; k < 2; k++) {
            check_one(&cg, 4, x, "value", v[k], rv[k], cg.vtol, &cg.worst_value);
            check_one(&cg, 4, x, "value returned by _jac", out[k], rv[k], cg.vtol,
                      &cg.worst_value);
        }
        for (int k = 0; k < 8; k++)
            check_one(&cg, 4, x, "Jacobian entry", J[k], rJ[k], cg.gtol, &cg.worst_grad);
        for (size_t m = 0; m < sizeof mult / sizeof *mult; m++) {
            double sigma = mult[m][0], lambda[2] = {mult[m][1], mult[m][2]}, lg[4], rl[4];
            double lv = lag(x, sigma, lambda), lgv = lag_grad(x, sigma, lambda, lg);
            double rlv = sigma * rf + lambda[0] * rv[0] + lambda[1] * rv[1];
            for (int j = 0; j < 4; j++)
                rl[j] = sigma * r[j] + lambda[0] * rJ[j] + lambda[1] * rJ[4 + j];
            check_point(&cl, 4, x, names, lv, lgv, lg, rlv, rl);
            lv = lag_sum(x, sigma, lambda);
            lgv = lag_sum_grad(x, sigma, lambda, lg);
            check_point(&cs, 4, x, names, lv, lgv, lg, rlv, rl);
        }
    }
    int failed = check_end(&cf);
    failed |= check_end(&cg);
    failed |= check_end(&cl);
    failed |= check_end(&cs);
    return failed;
}
