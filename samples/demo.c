/* demo.c: the driver of `make demo`. Calls the f and f_grad that adgen generated from
 * samples/eq5109.expr and prints them beside the closed-form derivative of eq. 5.110. */
#include <math.h>
#include <stdio.h>

#include "eq5109.h"

int main(void)
{
    static const double xs[] = {-1.5, -0.5, 0.0, 0.5, 1.0, 1.5};
    printf("%6s  %22s  %22s  %22s\n", "x", "f(x)", "f_grad: df/dx", "eq. 5.110: df/dx");
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        double x = xs[i], dfdx;
        double fx = f_grad(x, &dfdx);
        double e = exp(x * x), c = x * x + e;
        double closed = 2 * x * (1 / (2 * sqrt(c)) - sin(c)) * (1 + e);
        printf("%6.2f  %22.15g  %22.15g  %22.15g\n", x, fx, dfdx, closed);
    }
    return 0;
}
