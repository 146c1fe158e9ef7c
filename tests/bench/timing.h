/*
 * timing.h: the clock and the statistics the timing tables of `make bench` share
 * (tests/bench/grad.c, tests/bench/kept.c). Static functions: each table includes it once.
 */
#ifndef ADGEN_BENCH_TIMING_H
#define ADGEN_BENCH_TIMING_H

#include <stdlib.h>
#include <time.h>

/* One timed call: a function value, with its gradient (if any) written to g. */
typedef double Fn(double *g);

#define MAX_RUNS 1001

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static volatile double sink;

/* Seconds per call over `reps` calls; g holds the widest gradient of any table. */
static double batch(Fn *fn, long reps)
{
    static double g[1000];
    double s = 0, start = now();
    for (long i = 0; i < reps; i++)
        s += fn(g);
    double t = now() - start;
    sink = s;
    return t / reps;
}

/* Warm-up and calibration: seconds per call of fn, its batch doubled until it takes 20 ms;
 * *reps gets that batch's calls. */
static double calibrate(Fn *fn, long *reps)
{
    long r = 1;
    double e;
    while ((e = batch(fn, r)) * r < 2e-2)
        r *= 2;
    *reps = r;
    return e;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The integer in environment variable `name`, clamped to [lo, hi]; dflt when unset. */
static long env_long(const char *name, long dflt, long lo, long hi)
{
    const char *s = getenv(name);
    long v = s && *s ? strtol(s, NULL, 10) : dflt;
    return v < lo ? lo : v > hi ? hi : v;
}

/* Median seconds per call of each of the nfn functions (at most 8), interleaved: a calibrated
 * batch of each in turn, BENCH_RUNS rounds (default 7), into t. Inline: the tables that time
 * rows their own way (grad.c, kept.c) do not call it. */
static inline void time_each(Fn *const *fn, int nfn, double *t)
{
    int runs = (int)env_long("BENCH_RUNS", 7, 1, MAX_RUNS);
    static double v[8][MAX_RUNS];
    long reps[8];
    for (int k = 0; k < nfn; k++)
        calibrate(fn[k], &reps[k]);
    for (int r = 0; r < runs; r++)
        for (int k = 0; k < nfn; k++)
            v[k][r] = batch(fn[k], reps[k]);
    for (int k = 0; k < nfn; k++)
        t[k] = median(v[k], runs);
}

/* The compiler that built the table, for its title. */
static const char *compiler(void)
{
#if defined(__clang__)
    return "clang";
#elif defined(__GNUC__)
    return "gcc";
#else
    return "cc";
#endif
}

#endif
