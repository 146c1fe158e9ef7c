/*
 * oscfit.c: the oscillator fit's table of `make bench` (issue 19), run by build/bench/bench in
 * its section `oscfit` (BENCH_SECTIONS=oscfit). Built once per compiler (build/bench/oscfit-gcc,
 * oscfit-clang) with adgen's code for samples/oscfit/model.expr: the residuals of a damped
 * pendulum (4 parameters, RK4) against positions observed after every step, read from the
 * recurrence's trajectory, twice:
 *
 *   of_: T known only at run time (the recurrence kept as a loop): of_resid and of_resid_jac;
 *   u200_: unrolled at T = 200 (-D T=200): u200_resid_jac.
 *
 * Before timing, the kept Jacobian at T = 200 is checked against the unrolled one (relative
 * 1e-12). Then, medians of interleaved batches: the kept Jacobian against the unrolled one at
 * T = 200 (target <= 1.5), and at T = 2,000 the kept Jacobian against 4 times the kept value
 * function (the budget of a tangent pass a parameter, which the one pass along all 4
 * directions undercuts; target <= 2.5). A row that misses says MISSES and the exit status
 * is 1.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "of_kept.h"
#include "of_u200.h"
#include "timing.h"

#define T_SMALL 200
#define T_BIG 2000
#define DT 0.01
#define TARGET_UNROLLED 1.5
#define TARGET_PER_PARAM 2.5

static const double P[4] = {2.0, 0.3, 1.0, 0.0};
static double obs[T_BIG], out[T_BIG], jac[4 * T_BIG], ujac[4 * T_SMALL];
static double work[OF_RESID_WORK(T_BIG)];
static long steps;

static double kept_value(double *g)
{
    (void)g;
    of_resid(steps, P, DT, obs, out, work);
    return out[0];
}

static double kept_jac(double *g)
{
    (void)g;
    of_resid_jac(steps, P, DT, obs, out, jac, work);
    return jac[0];
}

static double unrolled_jac(double *g)
{
    (void)g;
    u200_resid_jac(P, DT, obs, out, ujac);
    return ujac[0];
}

int main(void)
{
    for (long i = 0; i < T_BIG; i++)
        obs[i] = sin(0.01 * (double)i);
    int status = 0;
    steps = T_SMALL;
    kept_jac(NULL);
    unrolled_jac(NULL);
    double worst = 0, scale = 1;
    for (long i = 0; i < 4 * T_SMALL; i++)
        scale = fabs(ujac[i]) > scale ? fabs(ujac[i]) : scale;
    for (long i = 0; i < 4 * T_SMALL; i++)
        worst = fabs(jac[i] - ujac[i]) > worst ? fabs(jac[i] - ujac[i]) : worst;
    if (!(worst <= 1e-12 * scale)) {
        printf("GRADIENTS DIFFER: the kept Jacobian at T = %d is %.3g from the unrolled one\n",
               T_SMALL, worst / scale);
        status = 1;
    }
    printf("Oscillator fit (samples/oscfit, %s -O2): the residuals' Jacobian, 4 parameters, "
           "median us\n", compiler());
    double t[3];
    Fn *const small[] = {kept_jac, unrolled_jac};
    time_each(small, 2, t);
    double r = t[0] / t[1];
    printf("  T = %4d: kept jac %9.1f, unrolled jac %9.1f: %.2f (target <= %.1f)%s\n", T_SMALL,
           1e6 * t[0], 1e6 * t[1], r, TARGET_UNROLLED, r <= TARGET_UNROLLED ? "" : "  MISSES");
    status |= !(r <= TARGET_UNROLLED);
    steps = T_BIG;
    Fn *const big[] = {kept_jac, kept_value};
    time_each(big, 2, t);
    r = t[0] / (4 * t[1]);
    printf("  T = %4d: kept jac %9.1f, value %9.1f: per parameter %.2f (target <= %.1f)%s\n",
           T_BIG, 1e6 * t[0], 1e6 * t[1], r, TARGET_PER_PARAM,
           r <= TARGET_PER_PARAM ? "" : "  MISSES");
    status |= !(r <= TARGET_PER_PARAM);
    return status;
}
