/*
 * eq5109.c: checks the f and f_grad that adgen generates from samples/eq5109.expr against
 * the textbook: f of eq. 5.109 and its closed-form derivative, eq. 5.110,
 *     df/dx = 2x [1 / (2 sqrt(x^2 + exp(x^2))) - sin(x^2 + exp(x^2))] (1 + exp(x^2)).
 * Points: negative, zero (where df/dx = 0), small, and up to |x| = 3, where x^2 + exp(x^2)
 * is about 8112 and the cosine term swings df/dx over +-5e4.
 */
#include <stdlib.h>

#include "check.h"
#include "eq5109.h"

/* eq. 5.109, written as printed */
static double ref_f(double x)
{
    return sqrt(pow(x, 2) + exp(pow(x, 2))) + cos(pow(x, 2) + exp(pow(x, 2)));
}

/* eq. 5.110 */
static double ref_dfdx(double x)
{
    return 2 * x * (1 / (2 * sqrt(pow(x, 2) + exp(pow(x, 2)))) - sin(pow(x, 2) + exp(pow(x, 2))))
           * (1 + exp(pow(x, 2)));
}

int main(void)
{
    static const double xs[] = {-3,  -2.25, -1.5, -1,  -0.5, -1e-3, 0,
                                1e-8, 0.3,  0.75, 1.2, 1.75, 2.5,   3};
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
