/*
 * eq5123.c: checks the f and f_grad that adgen generates from samples/eq5123.expr, eq. 5.109
 * written as the book's chain of intermediates (eqs. 5.123-5.128). The reference below
 * follows that chain for the value; the derivative is the closed form of eq. 5.110,
 *     df/dx = 2x [1 / (2 sqrt(c)) - sin(c)] (1 + exp(x^2)),  c = x^2 + exp(x^2).
 * (tests/test_e2e.c separately checks that this sample and eq5109 compute the same bits.)
 */
#include <stdlib.h>

#include "check.h"
#include "eq5123.h"

/* eqs. 5.123-5.128 */
static double ref_f(double x)
{
    double a = pow(x, 2);
    double b = exp(a);
    double c = a + b;
    double d = sqrt(c);
    double e = cos(c);
    return d + e;
}

/* eq. 5.110, in terms of c */
static double ref_dfdx(double x)
{
    double b = exp(pow(x, 2));
    double c = pow(x, 2) + b;
    return 2 * x * (1 / (2 * sqrt(c)) - sin(c)) * (1 + b);
}

int main(void)
{
    static const double xs[] = {-2.75, -2, -1.25, -0.8, -0.1, 0, 1e-6, 0.2, 0.9, 1.5, 2.2, 2.9};
    static const char *const names[] = {"x"};
    Check c = check_begin("f", TOL_CLOSED, TOL_CLOSED);
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        double x = xs[i];
        double g[1] = {NAN}; /* NAN: f_grad must overwrite it */
        double v = f_grad(x, &g[0]);
        double r[1] = {ref_dfdx(x)};
        check_point(&c, 1, &xs[i], names, f(x), v, g, ref_f(x), r);
    }
    return check_end(&c) ? EXIT_FAILURE : EXIT_SUCCESS;
}
