/*
 * print_f.c: prints, in hexadecimal floating point, what f and f_grad compute at a dozen
 * points, one line per point: f(x), the value f_grad returns, the derivative it stores.
 * tests/test_e2e.c builds it once with the C generated from samples/eq5109.expr and once with
 * the C from samples/eq5123.expr (ADGEN_HEADER names the header) and compares the two outputs
 * byte for byte: the one-line formula and the book's chain a..f lower to the same DAG.
 */
#include <stdio.h>

#include ADGEN_HEADER

int main(void)
{
    static const double xs[] = {-2.9, -2.2, -1.6, -1,  -0.55, -1e-5,
                                0,    3e-3, 0.4,  0.9, 1.45,  2.35};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        double dfdx = 0;
        double v = f_grad(xs[i], &dfdx);
        printf("%a %a %a\n", f(xs[i]), v, dfdx);
    }
    return 0;
}
