/*
 * oscillator.c: checks osc and osc_grad from samples/oscillator.expr (RK4 steps of a damped
 * pendulum, the number of steps n known at run time) against the same integration written by
 * hand in forward mode: each quantity carries its derivatives by k, c and x0 (dual numbers),
 * an independent route to the gradient. n = 0, 1, 2, 50 and 2000, the work array exactly
 * OSC_WORK(n) doubles.
 */
#include <stdlib.h>

#include "check.h"
#include "oscillator.h"

/* A value and its derivatives by k, c and x0. */
typedef struct {
    double v, d[3];
} Dual;

static Dual num(double v)
{
    Dual r = {v, {0, 0, 0}};
    return r;
}

static Dual add(Dual a, Dual b)
{
    Dual r = {a.v + b.v, {a.d[0] + b.d[0], a.d[1] + b.d[1], a.d[2] + b.d[2]}};
    return r;
}

/* a + s b for a number s */
static Dual axpy(Dual a, double s, Dual b)
{
    Dual r = {a.v + s * b.v, {a.d[0] + s * b.d[0], a.d[1] + s * b.d[1], a.d[2] + s * b.d[2]}};
    return r;
}

static Dual mul(Dual a, Dual b)
{
    Dual r;
    r.v = a.v * b.v;
    for (int i = 0; i < 3; i++)
        r.d[i] = a.d[i] * b.v + a.v * b.d[i];
    return r;
}

static Dual dsin(Dual a)
{
    Dual r;
    r.v = sin(a.v);
    for (int i = 0; i < 3; i++)
        r.d[i] = cos(a.v) * a.d[i];
    return r;
}

/* -k sin(x) - c v */
static Dual accel(Dual k, Dual c, Dual x, Dual v)
{
    Dual a = add(mul(k, dsin(x)), mul(c, v));
    for (int i = 0; i < 3; i++)
        a.d[i] = -a.d[i];
    a.v = -a.v;
    return a;
}

static double ref_osc(long n, double kv, double cv, double x0, double dt, double xt, double *g)
{
    Dual k = num(kv), c = num(cv), x = num(x0), v = num(0);
    k.d[0] = c.d[1] = x.d[2] = 1;
    for (long i = 0; i < n; i++) {
        Dual a1 = accel(k, c, x, v);
        Dual x2 = axpy(x, dt / 2, v), v2 = axpy(v, dt / 2, a1), a2 = accel(k, c, x2, v2);
        Dual x3 = axpy(x, dt / 2, v2), v3 = axpy(v, dt / 2, a2), a3 = accel(k, c, x3, v3);
        Dual x4 = axpy(x, dt, v3), v4 = axpy(v, dt, a3), a4 = accel(k, c, x4, v4);
        Dual sv = add(add(v, v4), add(axpy(num(0), 2, v2), axpy(num(0), 2, v3)));
        Dual sa = add(add(a1, a4), add(axpy(num(0), 2, a2), axpy(num(0), 2, a3)));
        x = axpy(x, dt / 6, sv);
        v = axpy(v, dt / 6, sa);
    }
    double miss = x.v - xt;
    for (int i = 0; i < 3; i++)
        g[i] = 2 * miss * x.d[i];
    return miss * miss;
}

int main(void)
{
    static const long steps[] = {0, 1, 2, 50, 2000};
    static const double pts[][3] = {
        {4.0, 0.3, 1.0}, {1.0, 0.0, -0.5}, {9.81, 1.5, 2.5}, {0.5, 0.1, 0.0}, {25, 0.02, 3.0},
    };
    static const char *const names[] = {"k", "c", "x0"};
    Check ch = check_begin("osc", TOL_CLOSED, TOL_CLOSED);
    for (size_t s = 0; s < sizeof steps / sizeof *steps; s++) {
        long n = steps[s];
        double dt = n ? 2.0 / (double)n : 0.1, xt = 0.2;
        double *work = malloc((OSC_WORK(n) ? OSC_WORK(n) : 1) * sizeof *work);
        if (!work)
            return 2;
        for (size_t i = 0; i < sizeof pts / sizeof *pts; i++) {
            double g[3], r[3];
            double v = osc(n, pts[i][0], pts[i][1], pts[i][2], dt, xt);
            double gv = osc_grad(n, pts[i][0], pts[i][1], pts[i][2], dt, xt, &g[0], &g[1],
                                 &g[2], work);
            double rv = ref_osc(n, pts[i][0], pts[i][1], pts[i][2], dt, xt, r);
            check_point(&ch, 3, pts[i], names, v, gv, g, rv, r);
        }
        free(work);
    }
    return check_end(&ch);
}
