/*
 * batch.c: the batched gradients' table of `make bench` (issue 23), run by build/bench/bench in
 * its section `batch` (BENCH_SECTIONS=batch). Built once per compiler (build/bench/batch-gcc,
 * batch-clang) from three files of adgen's per model, eq. 5.109 and the seed's network
 * (samples/mlp.expr):
 *   bs_  NAME_grad, compiled as a user would the one-point gradient (-O3 -march=native);
 *   bb_  NAME_grad_batch, compiled with the README's flags for vectorised batches (BATCH_CFLAGS
 *        of the Makefile: the vector libm, 256-bit vectors);
 *   bp_  NAME_grad_batch again, for gcc also with -fopenmp -DADGEN_PARALLEL (the points split
 *        across the machine's cores: the line printed when BATCH_OPENMP is defined; clang's
 *        OpenMP runtime is not among the README's packages, so its bp_ is bb_ again).
 * At K = 10^4 points (inputs drawn in [-1.5, 1.5]) each batched gradient is first checked
 * against the loop of one-point calls (relative 1e-9: the vector libm rounds differently),
 * then timed in interleaved batches, medians: the loop of NAME_grad calls over the points,
 * each with its own arguments (the layout that entry point reads), against NAME_grad_batch
 * over the same points in its structure-of-arrays layout. Target: the batch's throughput at
 * least 4x the loop's on one core. Then the 2-core line (gcc). A row that misses says MISSES
 * and the exit status is 1.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bb_f.h"
#include "bb_mlp.h"
#include "bp_f.h"
#include "bp_mlp.h"
#include "bs_f.h"
#include "bs_mlp.h"
#include "timing.h"

#define K 10000L
#define TARGET 4.0
enum { NP = 58, ND = 6 }; /* the network's parameters and data */

static double *x, *o, *g, *xb, *ob, *gb;           /* eq. 5.109: K points */
static double *P, *D, *G, *Pb, *Db, *Gb, *om, *omb; /* the network: per point, and SoA */

static double f_loop(double *unused)
{
    (void)unused;
    for (long p = 0; p < K; p++)
        o[p] = bs_f_grad(x[p], &g[p]);
    return o[0];
}

static double f_batch(double *unused)
{
    (void)unused;
    bb_f_grad_batch(K, xb, ob, gb);
    return ob[0];
}

static double f_parallel(double *unused)
{
    (void)unused;
    bp_f_grad_batch(K, xb, ob, gb);
    return ob[0];
}

static double mlp_loop(double *unused)
{
    (void)unused;
    for (long p = 0; p < K; p++) {
        double *q = P + p * NP, *d = D + p * ND, *h = G + p * NP;
        om[p] = bs_mlp_grad(q, q + 32, q + 40, q + 56, d, d + 4, h, h + 32, h + 40, h + 56);
    }
    return om[0];
}

/* the network's arguments in the batched layout: parameter j of point p at [j * K + p] */
#define MLP_SOA Pb, Pb + 32 * K, Pb + 40 * K, Pb + 56 * K, Db, Db + 4 * K, omb, Gb, \
                Gb + 32 * K, Gb + 40 * K, Gb + 56 * K

static double mlp_batch(double *unused)
{
    (void)unused;
    bb_mlp_grad_batch(K, MLP_SOA);
    return omb[0];
}

static double mlp_parallel(double *unused)
{
    (void)unused;
    bp_mlp_grad_batch(K, MLP_SOA);
    return omb[0];
}

static int near(double a, double b)
{
    return fabs(a - b) <= 1e-9 * (1 + fabs(b));
}

/* The batched gradients (bb_ and bp_) against the loops'; 0 when they agree. */
static int check(void)
{
    int bad = 0;
    f_loop(NULL);
    mlp_loop(NULL);
    Fn *const batches[2][2] = {{f_batch, mlp_batch}, {f_parallel, mlp_parallel}};
    for (int b = 0; b < 2; b++) {
        batches[b][0](NULL);
        for (long p = 0; p < K; p++)
            bad |= !near(ob[p], o[p]) || !near(gb[p], g[p]);
        batches[b][1](NULL);
        for (long p = 0; p < K; p++) {
            bad |= !near(omb[p], om[p]);
            for (int j = 0; j < NP; j++)
                bad |= !near(Gb[j * K + p], G[p * NP + j]);
        }
    }
    if (bad)
        printf("GRADIENTS DIFFER: a batched gradient against the loop of one-point calls\n");
    return bad;
}

static double *values(long n)
{
    double *v = malloc((size_t)n * sizeof *v);
    if (!v)
        exit(1);
    return v;
}

int main(void)
{
    unsigned long long r = 88172645463325252ull;
    x = values(K), o = values(K), g = values(K), xb = values(K), ob = values(K), gb = values(K);
    P = values(K * NP), D = values(K * ND), G = values(K * NP), om = values(K);
    Pb = values(K * NP), Db = values(K * ND), Gb = values(K * NP), omb = values(K);
    for (long p = 0; p < K; p++) {
        xb[p] = x[p] = -1.5 + 3.0 * (double)p / K;
        for (int j = 0; j < NP + ND; j++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            double v = -1.5 + 3.0 * (double)(r >> 11) / 9007199254740992.0;
            if (j < NP)
                P[p * NP + j] = Pb[j * K + p] = v;
            else
                D[p * ND + j - NP] = Db[(j - NP) * K + p] = v;
        }
    }
    int status = check();
    printf("Batched gradients (%s, K = %ld points; the loop at -O3 -march=native, the batch with "
           "the\nvector flags), median us per K points and the batch's throughput over the "
           "loop's\n", compiler(), K);
    struct {
        const char *name;
        Fn *loop, *batch, *parallel;
    } rows[] = {
        {"eq. 5.109", f_loop, f_batch, f_parallel},
        {"network (mlp, 58)", mlp_loop, mlp_batch, mlp_parallel},
    };
    for (int i = 0; i < 2; i++) {
        double t[3];
        Fn *const fn[] = {rows[i].loop, rows[i].batch, rows[i].parallel};
        time_each(fn, 3, t);
        double one = t[0] / t[1], two = t[0] / t[2];
        printf("  %-18s loop %9.1f  batch %9.1f: %5.2fx (target >= %.0fx)%s\n", rows[i].name,
               1e6 * t[0], 1e6 * t[1], one, TARGET, one >= TARGET ? "" : "  MISSES");
#ifdef BATCH_OPENMP
        printf("  %-18s batch on every core (OpenMP) %9.1f: %5.2fx\n", "", 1e6 * t[2], two);
#else
        (void)two;
#endif
        status |= !(one >= TARGET);
    }
    return status;
}
