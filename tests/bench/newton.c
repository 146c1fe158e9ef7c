/*
 * newton.c: the Newton step's table of `make bench` (issue 19), run by build/bench/bench in
 * its section `newton` (BENCH_SECTIONS=newton). Built once per compiler (build/bench/newton-gcc,
 * newton-clang) with adgen's code for tests/bench/rosen_n.expr, the extended Rosenbrock
 * function with N known only at run time: nt_rosen_grad and nt_rosen_hess_sparse, whose pattern
 * comes from nt_rosen_hess_sparse_pattern.
 *
 * Before timing, at N = 1000, the pattern is checked against the closed form of the
 * tridiagonal Hessian (its 2N - 1 lower-triangle entries, by row then column) and the values
 * against it: H[i][i] = 2 + 1200 x_i^2 - 400 x_{i+1} (i < N - 1) + 200 (i > 0),
 * H[i+1][i] = -400 x_i (relative 1e-13). The number of products along colours is
 * NT_ROSEN_WORK(N) / N (0: hess-sparse computes each row from the terms that meet it, in one
 * pass; target <= 3 sweeps). Then, medians of interleaved batches at N = 10^6: hess-sparse
 * against the gradient (target <= 3). A row that misses says MISSES and the exit status is 1.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nt_rosen.h"
#include "timing.h"

#define N_BIG 1000000L
#define N_CHECK 1000L
#define TARGET_SWEEPS 3
#define TARGET_RATIO 3.0

static double *x, *g, *h, *work;
static long n;

static double grad(double *unused)
{
    (void)unused;
    return nt_rosen_grad(n, x, g);
}

static double hess(double *unused)
{
    (void)unused;
    return nt_rosen_hess_sparse(n, x, h, work);
}

/* The pattern and the values at N_CHECK against the closed form; 0 when they agree. */
static int check(void)
{
    n = N_CHECK;
    long nnz = nt_rosen_hess_sparse_nnz(n), *row = malloc(2 * (size_t)n * sizeof *row),
         *col = malloc(2 * (size_t)n * sizeof *col);
    if (!row || !col || nnz != 2 * n - 1) {
        printf("WRONG PATTERN: %ld nonzeros at N = %ld, not %ld\n", nnz, n, 2 * n - 1);
        return 1;
    }
    nt_rosen_hess_sparse_pattern(n, row, col);
    hess(NULL);
    int bad = 0;
    for (long i = 0, k = 0; i < n; i++) {
        if (i > 0) { /* H[i][i - 1] */
            double want = -400 * x[i - 1];
            bad |= row[k] != i || col[k] != i - 1 || fabs(h[k] - want) > 1e-13 * fabs(want);
            k++;
        }
        double want = (i < n - 1 ? 2 + 1200 * x[i] * x[i] - 400 * x[i + 1] : 0) +
                      (i > 0 ? 200 : 0);
        bad |= row[k] != i || col[k] != i || fabs(h[k] - want) > 1e-13 * (1 + fabs(want));
        k++;
    }
    free(row);
    free(col);
    if (bad)
        printf("HESSIANS DIFFER: hess-sparse at N = %ld against the closed form\n", n);
    return bad;
}

int main(void)
{
    x = malloc(N_BIG * sizeof *x);
    g = malloc(N_BIG * sizeof *g);
    h = malloc(2 * N_BIG * sizeof *h);
    work = malloc(NT_ROSEN_WORK(N_BIG) * sizeof *work);
    if (!x || !g || !h || !work)
        return 1;
    for (long i = 0; i < N_BIG; i++)
        x[i] = 1 + 0.1 * sin((double)i);
    int status = check();
    long sweeps = NT_ROSEN_WORK(N_BIG) / N_BIG;
    printf("Newton on Rosenbrock (tests/bench/rosen_n.expr, N at run time, %s -O2), median ms\n",
           compiler());
    printf("  products along colours: %ld (0: each row from its terms, one pass; target <= %d "
           "sweeps)%s\n", sweeps, TARGET_SWEEPS, sweeps <= TARGET_SWEEPS ? "" : "  MISSES");
    status |= sweeps > TARGET_SWEEPS;
    n = N_BIG;
    double t[2];
    Fn *const fn[] = {hess, grad};
    time_each(fn, 2, t);
    double r = t[0] / t[1];
    printf("  N = %ld: hess-sparse %8.2f, grad %8.2f: %.2f (target <= %.1f)%s\n", n, 1e3 * t[0],
           1e3 * t[1], r, TARGET_RATIO, r <= TARGET_RATIO ? "" : "  MISSES");
    status |= !(r <= TARGET_RATIO);
    free(x);
    free(g);
    free(h);
    free(work);
    return status;
}
