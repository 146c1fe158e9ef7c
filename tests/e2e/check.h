/*
 * check.h: the bookkeeping shared by the end-to-end checkers of tests/e2e. A checker calls
 * the C that adgen generated, compares it with a hand-written reference and counts, per
 * function, the checks made, the failures and the largest relative error of the value and
 * of the gradient. It is compiled by tests/test_e2e.c with the generated source at
 * -std=c99 -Wall -Wextra -pedantic -Werror, so everything here is plain C99.
 */
#ifndef E2E_CHECK_H
#define E2E_CHECK_H

#include <math.h>
#include <stdio.h>

/* pi to double precision, spelled out: M_PI is not C99. */
#define E2E_PI 3.14159265358979323846

/* Tolerances of the brief: closed forms agree to rounding, central differences to their
 * truncation and cancellation error (see the step chosen in cd_step). */
#define TOL_CLOSED 1e-12
#define TOL_CD 1e-7

typedef struct {
    const char *name; /* the generated function under test */
    double vtol, gtol; /* tolerance of the value and of each partial derivative */
    double worst_value, worst_grad;
    int checks, failures;
} Check;

static inline Check check_begin(const char *name, double vtol, double gtol)
{
    Check c = {name, vtol, gtol, 0, 0, 0, 0};
    return c;
}

/* The measure of testutil.h's assert_near: |a - e| / max(1, |e|); 0 when a == e (also for
 * infinities of the same sign), NaN when either is NaN. */
static inline double relerr(double actual, double expected)
{
    if (actual == expected)
        return 0;
    double scale = fabs(expected) > 1 ? fabs(expected) : 1;
    return fabs(actual - expected) / scale;
}

static inline void print_inputs(const Check *c, int n, const double *in)
{
    printf("%s(", c->name);
    for (int i = 0; i < n; i++)
        printf("%s%.17g", i ? ", " : "", in[i]);
    printf(")");
}

/* One comparison; `what` names the quantity ("value", "d/dx", ...). A NaN error fails. */
static inline void check_one(Check *c, int n, const double *in, const char *what, double actual,
                      double expected, double tol, double *worst)
{
    double err = relerr(actual, expected);
    c->checks++;
    if (err > *worst || err != err)
        *worst = err;
    if (err <= tol)
        return;
    c->failures++;
    printf("FAIL ");
    print_inputs(c, n, in);
    printf(": %s = %.17g, expected %.17g (relative error %.3g, tolerance %.0e)\n", what, actual,
           expected, err, tol);
}

/* One point: the value returned by NAME and by NAME_grad, and the n partials NAME_grad
 * stored, against the reference value and gradient. names[i] labels partial i. */
static inline void check_point(Check *c, int n, const double *in, const char *const *names,
                        double value, double grad_value, const double *grad, double ref_value,
                        const double *ref_grad)
{
    char what[64];
    check_one(c, n, in, "value of the function", value, ref_value, c->vtol, &c->worst_value);
    check_one(c, n, in, "value returned by _grad", grad_value, ref_value, c->vtol,
              &c->worst_value);
    for (int i = 0; i < n; i++) {
        snprintf(what, sizeof what, "d/d%s", names[i]);
        check_one(c, n, in, what, grad[i], ref_grad[i], c->gtol, &c->worst_grad);
    }
}

/* Prints the function's summary line; returns 1 when a check failed. */
static inline int check_end(const Check *c)
{
    printf("%-12s %3d checks  largest relative error: value %.3g, gradient %.3g "
           "(tolerance %.0e)  %s\n",
           c->name, c->checks, c->worst_value, c->worst_grad, c->gtol,
           c->failures ? "FAILED" : "ok");
    return c->failures != 0;
}

/*
 * Central differences, for references whose derivative is too long to write by hand:
 * f'(x) ~ (f(x+h) - f(x-h)) / 2h has truncation error h^2 |f'''| / 6 and rounding error
 * about eps |f| / h. The two balance near h = cbrt(3 eps |f| / |f'''|); where |f'''| / |f| is
 * of order 1, h = cbrt(eps) * max(1, |x|) ~ 6e-6 max(1, |x|) makes each about 1e-11. A
 * checker keeps its points where |f'''| stays below about 1e4 (then h^2 |f'''| / 6 < 1e-7)
 * and away from kinks by far more than h. The step is made exactly representable
 * ((x + h) - x) so the quotient divides by the step really taken.
 */
static inline double cd_step(double x)
{
    volatile double xp = x + 6.0554544523933395e-6 * (fabs(x) > 1 ? fabs(x) : 1);
    return xp - x;
}

#endif
