/*
 * ckp.c: the checkpointing table of `make bench` (issue 20), run by build/bench/bench in its
 * section `ckp` (BENCH_SECTIONS=ckp). Built once per compiler (build/bench/ckp-gcc, ckp-clang)
 * with adgen's grad and grad-ckp of two kept recurrences:
 *
 *   the chain x[k+1] = x[k] + h sin(x[k]) cos(x[k] + 0.3) (tests/bench/chain_n.expr, 4 values
 *   taped a step) and the damped pendulum of samples/oscillator.expr (RK4, 9 values a step),
 *
 * at n = 10^4, 10^5 and 10^6 steps and c = 10, 30 and 100 snapshots: the work array of each
 * (bytes), the median seconds of the value function f, of grad (every step stored) and of
 * grad-ckp, and the bound the issue sets, 1.25 (t(n, c) + 1)/n t_f + t_grad: the forward steps
 * of revolve's schedule for c states (t(n, c) = r n - C(c + r, r - 1)) plus the one that gives
 * the last state, at the value function's speed, beside the stored variant's own time. Before
 * timing, grad-ckp is checked against grad to the bit. Then `ckp-CC huge` (a process of its
 * own, so that its peak memory is its own) differentiates 10^8 steps of the chain with 100
 * snapshots and prints its peak resident memory; the target is under 100 MB.
 *
 * A row that misses its target says MISSES; a gradient that differs says GRADIENTS DIFFER;
 * either makes the exit status 1.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "ck_chain.h"
#include "ck_osc.h"
#include "timing.h"

#define TARGET 1.25
#define HUGE_N 100000000L
#define HUGE_SNAPS 100
#define HUGE_MB 100.0

static long n, snaps;
static double *work, *ckp_work;

static double chain_f(double *g) { (void)g; return ck_chain(n, 0.7, 0.001); }
static double chain_g(double *g) { return ck_chain_grad(n, 0.7, 0.001, g, g + 1, work); }
static double chain_c(double *g)
{
    return ck_chain_grad_ckp(n, 0.7, 0.001, g, g + 1, snaps, ckp_work);
}

static double osc_f(double *g) { (void)g; return ck_osc(n, 4.0, 0.3, 1.0, 1e-4, 0.2); }
static double osc_g(double *g)
{
    return ck_osc_grad(n, 4.0, 0.3, 1.0, 1e-4, 0.2, g, g + 1, g + 2, work);
}
static double osc_c(double *g)
{
    return ck_osc_grad_ckp(n, 4.0, 0.3, 1.0, 1e-4, 0.2, g, g + 1, g + 2, snaps, ckp_work);
}

typedef struct {
    const char *name;
    Fn *fn[3]; /* f, grad, grad-ckp */
    int len;   /* value and gradient */
    size_t (*work)(long n);
    size_t (*ckp)(long n, long c);
} Model;

static size_t chain_work(long m) { return (size_t)CK_CHAIN_WORK(m); }
static size_t chain_ckp(long m, long c) { (void)m; return CK_CHAIN_WORK_CKP(m, c); }
static size_t osc_work(long m) { return (size_t)CK_OSC_WORK(m); }
static size_t osc_ckp(long m, long c) { (void)m; return CK_OSC_WORK_CKP(m, c); }

static const Model models[] = {
    {"chain", {chain_f, chain_g, chain_c}, 3, chain_work, chain_ckp},
    {"pendulum", {osc_f, osc_g, osc_c}, 4, osc_work, osc_ckp},
};

/* C(c + r, c), saturated at max */
static long beta(long c, long r, long max)
{
    long b = 1;
    if (r < 0)
        return 0;
    for (long j = 1; j <= r && b < max; j++)
        b = b * (c + j) / j;
    return b;
}

/* revolve's forward steps t(l, c) = r l - C(c + r, r - 1), r the least with C(c + r, c) >= l */
static long revolve(long l, long c)
{
    long r = 0;
    if (l <= 1)
        return 0;
    while (beta(c, r, l) < l)
        r++;
    return r * l - beta(c + 1, r - 1, r * l);
}

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "ckp: out of memory (%zu bytes)\n", bytes);
        exit(2);
    }
    return p;
}

/* 10^8 steps of the chain, checkpointed: the peak resident memory of this process. */
static int huge(void)
{
    size_t words = CK_CHAIN_WORK_CKP(HUGE_N, HUGE_SNAPS);
    double *w = xmalloc(words * sizeof *w), g[2];
    double start = now(), v = ck_chain_grad_ckp(HUGE_N, 0.7, 1e-8, g, g + 1, HUGE_SNAPS, w);
    double secs = now() - start;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double mb = ru.ru_maxrss / 1024.0;
    printf("  chain, n = 10^8, c = %d: work %zu B, %.1f s, peak resident %.1f MB (target < "
           "%.0f MB)%s; value %.6f, gradient %.6f %.6f\n", HUGE_SNAPS, words * sizeof *w, secs,
           mb, HUGE_MB, mb < HUGE_MB && isfinite(g[0]) ? "" : "  MISSES", v, g[0], g[1]);
    free(w);
    return !(mb < HUGE_MB && isfinite(g[0]));
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "huge") == 0)
        return huge();
    static const long sizes[] = {10000, 100000, 1000000}, cs[] = {10, 30, 100};
    int status = 0;
    printf("Checkpointing (%s -O2): grad stores every step, grad-ckp keeps c states; median "
           "ms\n", compiler());
    printf("  %-9s %8s %4s %11s %9s %8s %8s %9s %10s %8s\n", "model", "n", "c", "work grad",
           "work ckp", "f", "grad", "grad-ckp", "fwd steps", "vs bound");
    for (size_t m = 0; m < sizeof models / sizeof *models; m++) {
        const Model *md = &models[m];
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
            n = sizes[i];
            work = xmalloc(md->work(n) * sizeof *work);
            for (size_t j = 0; j < sizeof cs / sizeof *cs; j++) {
                snaps = cs[j];
                ckp_work = xmalloc(md->ckp(n, snaps) * sizeof *ckp_work);
                double a[5], b[5], t[3];
                a[0] = md->fn[1](a + 1);
                b[0] = md->fn[2](b + 1);
                int same = memcmp(a, b, (size_t)md->len * sizeof *a) == 0;
                time_each(md->fn, 3, t);
                double steps = (double)(revolve(n, snaps) + 1) / (double)n;
                double ratio = t[2] / (steps * t[0] + t[1]);
                int miss = ratio > TARGET;
                printf("  %-9s %8ld %4ld %9.1f MB %7zu B %8.3f %8.3f %9.3f %10.2f %8.2f%s%s\n",
                       md->name, n, snaps, md->work(n) * sizeof(double) / 1e6,
                       md->ckp(n, snaps) * sizeof(double), 1e3 * t[0], 1e3 * t[1], 1e3 * t[2],
                       steps, ratio, miss ? "  MISSES" : "", same ? "" : "  GRADIENTS DIFFER");
                status |= miss || !same;
                free(ckp_work);
            }
            free(work);
        }
    }
    printf("  (fwd steps: (t(n, c) + 1)/n, revolve's forward steps per step and one; vs bound: "
           "grad-ckp / ((fwd steps) t_f + t_grad), target <= %.2f)\n", TARGET);
    fflush(stdout);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s huge", argv[0]);
    status |= system(cmd) != 0;
    return status;
}
