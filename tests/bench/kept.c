/*
 * kept.c: the kept-loops tables of `make bench` (issue 13), run by build/bench/bench in its
 * section `kept` (BENCH_SECTIONS=kept). Built once per compiler (build/bench/kept-gcc,
 * build/bench/kept-clang) with adgen's code for two inputs whose sizes are known only at run
 * time, each in its own translation unit beside the adjoints of tests/bench/hand.c:
 *
 *   logistic regression (tests/bench/logistic.expr, 3 weights and a bias) over N = 10^3, 10^5
 *   and 10^7 points of fixed synthetic data: logistic, logistic_grad and hand_logistic (one
 *   fused pass); targets grad/hand <= 1.1 and grad/f <= 3 at every N.
 *
 *   the recurrence x[k+1] = x[k] + h sin(x[k]) cos(x[k] + 0.3) (tests/bench/chain_n.expr) over
 *   n = 10^6 steps, h = 0.001: chain, chain_grad with its CHAIN_WORK(n) doubles, and
 *   hand_chain_n (2n doubles of stored partials; chain_grad stores CHAIN_WORK(n)); target
 *   grad/f <= 3.
 *
 *   a Gaussian mixture's log-likelihood (tests/bench/gmm.expr: a sum per step, the log-sum-exp
 *   over K = 16 centres inside the sum over N = 10^5 points): gmm, gmm_grad with its
 *   GMM_WORK(K, N) doubles, and hand_gmm; targets grad/hand <= 1.1 and grad/f <= 3.
 *
 *   a filter's log-likelihood (tests/bench/pfilt.expr: sums over P = 1000 particles of the
 *   state in a recurrence's step, over T = 1000 steps, computed in its loop): pfilt,
 *   pfilt_grad with its PFILT_WORK(P, T) doubles, and hand_pfilt (its two sums in one loop);
 *   the same targets.
 *
 * Before timing, the gradients are checked: against the hand adjoints (relative 1e-12), the
 * kept recurrence against its unrolled form (the same .expr with -D n=50) and against central
 * differences at n = 10^6. A failed check prints GRADIENTS DIFFER and the exit status is 1.
 *
 * Timing as in grad.c: f, grad and hand interleaved, a batch of each in turn (about
 * BENCH_BATCH_MS ms, default 2, or one call where a call takes longer), medians. A call at
 * N = 10^7 takes a tenth of a second or more, so the number of batches per row is what fits
 * in about 3 s, at least 11 and at most BENCH_RUNS (default 101).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain_n.h"
#include "chain_n50.h"
#include "gmm.h"
#include "hand.h"
#include "logistic.h"
#include "pfilt.h"
#include "timing.h"

enum { F, GRAD, HAND, NKIND };

#define TARGET_VS_HAND 1.1
#define TARGET_VS_F 3.0
#define ROW_SECONDS 3.0
#define MIN_RUNS 11

/* ---- the inputs and the calls ------------------------------------------------------------- */

#define N_MAX 10000000L
#define CHAIN_N 1000000L

static long size;                  /* the N or n the calls below pass */
static double *X, *Y;              /* N_MAX points; smaller N use the first N */
static double W[3] = {0.2, -0.1, 0.4}, B = -0.05;
static double X0 = 0.7, H = 0.001;
static double *work, *hand_work;   /* CHAIN_WORK(CHAIN_N) and 2 CHAIN_N doubles */

static double lr_f(double *g) { (void)g; return logistic(size, W, B, X, Y); }
static double lr_g(double *g) { return logistic_grad(size, W, B, X, Y, g, g + 3); }
static double lr_h(double *g) { return hand_logistic(size, W, B, X, Y, g, g + 3); }

static double ch_f(double *g) { (void)g; return chain(size, X0, H); }
static double ch_g(double *g) { return chain_grad(size, X0, H, g, g + 1, work); }
static double ch_h(double *g) { return hand_chain_n(size, X0, H, g, g + 1, hand_work); }

#define GMM_K 16
#define GMM_N 100000L
static double Mu[GMM_K], S = 1.3, *gmm_work;

static double gm_f(double *g) { (void)g; return gmm(GMM_K, size, Mu, S, X, gmm_work); }
static double gm_g(double *g) { return gmm_grad(GMM_K, size, Mu, S, X, g, g + GMM_K, gmm_work); }
static double gm_h(double *g) { return hand_gmm(GMM_K, size, Mu, S, X, g, g + GMM_K); }

#define PF_P 1000
#define PF_T 1000L
static double Aw = 0.8, Wp[PF_P], *Obs, *pf_work, *pf_hand_work;

static double pf_f(double *g) { (void)g; return pfilt(PF_P, size, Aw, Wp, Obs, pf_work); }
static double pf_g(double *g) { return pfilt_grad(PF_P, size, Aw, Wp, Obs, g, g + 1, pf_work); }
static double pf_h(double *g) { return hand_pfilt(PF_P, size, Aw, Wp, Obs, g, g + 1, pf_hand_work); }

static Fn *const lr_fn[NKIND] = {lr_f, lr_g, lr_h};
static Fn *const pf_fn[NKIND] = {pf_f, pf_g, pf_h};
static Fn *const gm_fn[NKIND] = {gm_f, gm_g, gm_h};
static Fn *const ch_fn[NKIND] = {ch_f, ch_g, ch_h};

static uint64_t rng = 0x9E3779B97F4A7C15u;

/* splitmix64, as a uniform double in [0, 1) */
static double uniform(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes);
    if (!p) {
        fprintf(stderr, "kept: out of memory (%zu bytes)\n", bytes);
        exit(2);
    }
    return p;
}

/* Points uniform in [-2, 2)^3, labels drawn from the model with w = (1.5, -2, 0.5) and
 * b = 0.3; the gradient is taken elsewhere (W, B), where it is far from 0. */
static void init_inputs(void)
{
    X = xmalloc(3 * N_MAX * sizeof *X);
    Y = xmalloc(N_MAX * sizeof *Y);
    for (long n = 0; n < N_MAX; n++) {
        double *x = X + 3 * n;
        for (int j = 0; j < 3; j++)
            x[j] = 4.0 * uniform() - 2.0;
        double z = 1.5 * x[0] - 2.0 * x[1] + 0.5 * x[2] + 0.3;
        Y[n] = uniform() < 1.0 / (1.0 + exp(-z)) ? 1.0 : 0.0;
    }
    work = xmalloc(CHAIN_WORK(CHAIN_N) * sizeof *work);
    gmm_work = xmalloc(GMM_WORK(GMM_K, GMM_N) * sizeof *gmm_work);
    for (int k = 0; k < GMM_K; k++)
        Mu[k] = -2.0 + 0.25 * k;
    pf_work = xmalloc(PFILT_WORK(PF_P, PF_T) * sizeof *pf_work);
    pf_hand_work = xmalloc(3 * PF_T * sizeof *pf_hand_work);
    Obs = xmalloc(PF_T * sizeof *Obs);
    for (int p = 0; p < PF_P; p++)
        Wp[p] = 2.0 * uniform() - 1.0;
    for (long k = 0; k < PF_T; k++)
        Obs[k] = sin(0.01 * k) + 0.2 * uniform();
    hand_work = xmalloc(2 * CHAIN_N * sizeof *hand_work);
}

/* ---- checks ------------------------------------------------------------------------------- */

/* The largest relative difference between two results (value first, then the gradient),
 * each gradient component relative to itself (to a millionth of the largest, for components
 * near 0). */
static double difference(int len, const double *a, const double *b)
{
    double scale = 0;
    for (int i = 1; i < len; i++)
        scale = fmax(scale, fabs(b[i]));
    double err = fabs(a[0] - b[0]) / fmax(fabs(b[0]), 1e-300);
    for (int i = 1; i < len; i++)
        err = fmax(err, fabs(a[i] - b[i]) / fmax(fabs(b[i]), fmax(1e-6 * scale, 1e-300)));
    return isnan(err) ? INFINITY : err;
}

/* grad and hand at the current size: value and gradient of each, and f's value. */
static double against_hand(Fn *const *fn, int len)
{
    double g[PF_P + 2], h[PF_P + 2];
    g[0] = fn[GRAD](g + 1);
    h[0] = fn[HAND](h + 1);
    double f = fn[F](NULL);
    return fmax(difference(len, g, h), fabs(f - h[0]) / fmax(fabs(h[0]), 1e-300));
}

/* The kept recurrence at n = 50 against the same .expr unrolled (-D n=50). */
static double against_unrolled(void)
{
    double g[3], u[3];
    g[0] = chain_grad(50, X0, H, g + 1, g + 2, work);
    u[0] = u50_chain_grad(X0, H, u + 1, u + 2);
    return fmax(difference(3, g, u), fabs(chain(50, X0, H) - u[0]) / fabs(u[0]));
}

/* chain_grad at n = CHAIN_N and step h against central differences, each input's step
 * cbrt(eps) times its size. */
static double against_differences(double h)
{
    double g[3], d[3], e = cbrt(2.220446049250313e-16);
    double dx = e * fabs(X0), dh = e * fabs(h);
    g[0] = chain_grad(CHAIN_N, X0, h, g + 1, g + 2, work);
    d[0] = chain(CHAIN_N, X0, h);
    d[1] = (chain(CHAIN_N, X0 + dx, h) - chain(CHAIN_N, X0 - dx, h)) / (2 * dx);
    d[2] = (chain(CHAIN_N, X0, h + dh) - chain(CHAIN_N, X0, h - dh)) / (2 * dh);
    return difference(3, g, d);
}

/* ---- timing ------------------------------------------------------------------------------- */

/* Median seconds per call of f, grad and hand in t; returns the number of batches. */
static int time_row(Fn *const *fn, double *t)
{
    int max_runs = (int)env_long("BENCH_RUNS", 101, 1, MAX_RUNS);
    double batch_s = env_long("BENCH_BATCH_MS", 2, 1, 10000) * 1e-3, round = 0;
    long reps[NKIND];
    for (int k = 0; k < NKIND; k++) {
        long r;
        double e = calibrate(fn[k], &r);
        reps[k] = (long)(batch_s / e) + 1;
        round += reps[k] * e;
    }
    int runs = (int)(ROW_SECONDS / round);
    runs = runs < MIN_RUNS ? MIN_RUNS : runs;
    runs = runs > max_runs ? max_runs : runs;
    static double v[NKIND][MAX_RUNS];
    for (int r = 0; r < runs; r++)
        for (int k = 0; k < NKIND; k++)
            v[k][r] = batch(fn[k], reps[k]);
    for (int k = 0; k < NKIND; k++)
        t[k] = median(v[k], runs);
    return runs;
}

/* One row, labelled `label`: the check, the times and what misses; returns 1 if the
 * gradients differ. */
static int row(const char *label, Fn *const *fn, int len, long n, int vs_hand, char *miss)
{
    double t[NKIND];
    size = n;
    double err = against_hand(fn, len);
    int runs = time_row(fn, t);
    miss[0] = '\0';
    if (vs_hand && t[GRAD] / t[HAND] > TARGET_VS_HAND)
        strcat(miss, " grad/hand");
    if (t[GRAD] / t[F] > TARGET_VS_F)
        strcat(miss, " grad/f");
    if (!(err <= 1e-12))
        strcat(miss, " GRADIENTS DIFFER");
    printf("  %-9s %5d %9.3f %8.1f %7.2f %7.2f %9.2f %9.1e", label, runs, t[F] * 1e3,
           t[F] / n * 1e9, t[GRAD] / t[F], t[HAND] / t[F], t[GRAD] / t[HAND], err);
    return !(err <= 1e-12);
}

static int logistic_table(void)
{
    static const long sizes[] = {1000, 100000, 10000000};
    int status = 0;
    printf("Logistic regression, 3 weights and a bias (tests/bench/logistic.expr), %s -O2\n"
           "(medians of interleaved batches of ~2 ms, or of one call where a call takes longer)\n",
           compiler());
    printf("  %-9s %5s %9s %8s %7s %7s %9s %9s  %s\n", "N", "runs", "f ms", "f ns/pt",
           "grad/f", "hand/f", "grad/hand", "rel. diff", "misses");
    for (int i = 0; i < 3; i++) {
        char label[32], miss[80];
        snprintf(label, sizeof label, "%ld", sizes[i]);
        status |= row(label, lr_fn, 5, sizes[i], 1, miss);
        printf(" %s\n", *miss ? miss : " -");
        fflush(stdout);
    }
    printf("  targets: grad/hand <= %.1f and grad/f <= %.0f at every N\n", TARGET_VS_HAND,
           TARGET_VS_F);
    return status;
}

static int chain_table(void)
{
    static const double steps[] = {0.001, 0.0005};
    int status = 0;
    printf("Recurrence x[k+1] = x[k] + h sin(x[k]) cos(x[k] + 0.3), n = %ld steps, %s -O2\n"
           "(tests/bench/chain_n.expr; medians of interleaved calls)\n", CHAIN_N, compiler());
    printf("  %-9s %5s %9s %8s %7s %7s %9s %9s %7s  %s\n", "h", "runs", "f ms", "f ns/st",
           "grad/f", "hand/f", "grad/hand", "rel. diff", "work MB", "misses");
    for (int i = 0; i < 2; i++) {
        char label[32], miss[80];
        H = steps[i];
        snprintf(label, sizeof label, "%g", H);
        status |= row(label, ch_fn, 3, CHAIN_N, 0, miss);
        printf(" %7.1f %s\n", CHAIN_WORK(CHAIN_N) * sizeof *work / 1e6, *miss ? miss : " -");
        fflush(stdout);
    }
    double d[2][2];
    for (int i = 0; i < 2; i++)
        chain_grad(CHAIN_N, X0, steps[i], &d[i][0], &d[i][1], work);
    H = steps[0];
    printf("  memory: chain_grad's work, CHAIN_WORK(n) = %ld doubles (%.0f bytes a step); the "
           "hand adjoint keeps 2 a step\n", (long)CHAIN_WORK(CHAIN_N),
           8.0 * CHAIN_WORK(CHAIN_N) / CHAIN_N);
    printf("  at h = %g the states settle on x = pi/2 - 0.3 and dx[n]/dx[k], about "
           "exp(-0.955 h (n - k)),\n  goes subnormal over the reverse loop's last ~3%% of steps "
           "(dx[n]/dx0 = %.1e), which the CPU\n  pays for in microcode; at h = %g it stays "
           "normal (dx[n]/dx0 = %.1e)\n", steps[0], d[0][0], steps[1], d[1][0]);
    double unrolled = against_unrolled(), diff = against_differences(1e-6);
    printf("  against the unrolled form (-D n=50, h = 0.001): rel. diff %.1e; against central "
           "differences\n  at n = 10^6, h = 1e-6 (where they are not 0): %.1e\n", unrolled,
           diff);
    if (!(unrolled <= 1e-13) || !(diff <= 1e-6)) {
        printf("  GRADIENTS DIFFER\n");
        status = 1;
    }
    printf("  target: grad/f <= %.0f (grad/hand for reference)\n", TARGET_VS_F);
    fflush(stdout);
    return status;
}

/* A table of one row at size n (label: its column's head; per: the unit of ns per call),
 * after its title, with its misses and the targets. */
static int one_row_table(const char *title, const char *label, const char *per,
                         Fn *const *fn, int len, long n)
{
    printf("%s", title);
    printf("  %-9s %5s %9s %8s %7s %7s %9s %9s  %s\n", label, "runs", "f ms", per, "grad/f",
           "hand/f", "grad/hand", "rel. diff", "misses");
    char size[32], miss[80];
    snprintf(size, sizeof size, "%ld", n);
    int status = row(size, fn, len, n, 1, miss);
    printf(" %s\n  targets: grad/hand <= %.1f and grad/f <= %.0f\n", *miss ? miss : " -",
           TARGET_VS_HAND, TARGET_VS_F);
    fflush(stdout);
    return status;
}

static int gmm_table(void)
{
    char title[256];
    snprintf(title, sizeof title, "Gaussian mixture, K = %d centres of one width, N = %ld "
             "points (tests/bench/gmm.expr: a sum per step), %s -O2\n(x the logistic table's "
             "first coordinates; medians of interleaved batches)\n", GMM_K, GMM_N, compiler());
    return one_row_table(title, "N", "f ns/pt", gm_fn, GMM_K + 2, GMM_N);
}

static int pfilt_table(void)
{
    char title[256];
    snprintf(title, sizeof title, "Filter, P = %d particles, T = %ld steps (tests/bench/pfilt.expr: "
             "sums over the particles of the\nstate in the recurrence's loop), %s -O2 (medians of "
             "interleaved batches)\n", PF_P, PF_T, compiler());
    return one_row_table(title, "T", "ns/step", pf_fn, PF_P + 2, PF_T);
}

int main(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: kept-CC (no arguments)\n");
        return 2;
    }
    init_inputs();
    int status = logistic_table();
    status |= chain_table();
    status |= gmm_table();
    status |= pfilt_table();
    return status;
}
