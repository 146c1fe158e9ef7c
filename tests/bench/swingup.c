/*
 * swingup.c: the swing-up's table of `make bench` (issue 21), run by build/bench/bench in its
 * section `swingup` (BENCH_SECTIONS=swingup). Built once per compiler (build/bench/swingup-gcc,
 * swingup-clang) with adgen's code for samples/swingup.expr (prefix sw_) and the derivatives
 * written by hand in tests/bench/swingup_hand.c (prefix hand_). First, at 5 random points (z,
 * sigma, lambda), adgen's defects' Jacobian and Lagrangian Hessian must equal the hand-written
 * ones entry by entry (placed by their patterns into dense matrices; relative 1e-13), and the
 * Hessian's pattern be exactly the hand's (the union of the effort's and the defects'
 * Hessian patterns, no entry zero for every multiplier). With --check it stops there (as
 * test_build runs it). Then medians of interleaved batches: the Jacobian and the Hessian
 * against the hand-written ones (target <= 1.5 each); a row that misses says MISSES and the
 * exit status is 1.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw_nlp.h"
#include "timing.h"

enum { N = 50, NZ = 3 * N + 3, NC = 2 * N };
#define TARGET 1.5

void hand_defects_jac_sparse(const double *z, double *out, double *jac_nz);
double hand_lag_hess_sparse(const double *z, double sigma, const double *lambda,
                            double *hess_nz);
extern const int hand_defects_jac_sparse_row[10 * N], hand_defects_jac_sparse_col[10 * N];
extern const int hand_lag_hess_sparse_row[2 * N + 2], hand_lag_hess_sparse_col[2 * N + 2];

static double z[NZ], lambda[NC], sigma, d[NC], jac[SW_DEFECTS_JAC_SPARSE_NNZ],
    hess[SW_LAG_HESS_SPARSE_NNZ];

static double uniform(double lo, double hi)
{
    return lo + (hi - lo) * (rand() / (double)RAND_MAX);
}

/* The sparse values v of pattern (row, col) summed into the dense rows x cols matrix m. */
static void densify(double *m, int cols, const int *row, const int *col, const double *v,
                    int nnz)
{
    for (int k = 0; k < nnz; k++)
        m[row[k] * cols + col[k]] += v[k];
}

/* Whether two dense matrices agree to rel relative to the larger's largest entry. */
static int agree(const double *a, const double *b, int n, double rel)
{
    double scale = 0, worst = 0;
    for (int i = 0; i < n; i++) {
        scale = fmax(scale, fmax(fabs(a[i]), fabs(b[i])));
        worst = fmax(worst, fabs(a[i] - b[i]));
    }
    return worst <= rel * scale;
}

/* Whether the two patterns hold the same (row, col) pairs. */
static int same_pattern(const int *r1, const int *c1, int n1, const int *r2, const int *c2,
                        int n2, int cols)
{
    static unsigned char seen[NZ * NZ];
    memset(seen, 0, sizeof seen);
    for (int k = 0; k < n1; k++)
        seen[r1[k] * cols + c1[k]] |= 1;
    for (int k = 0; k < n2; k++)
        seen[r2[k] * cols + c2[k]] |= 2;
    for (int i = 0; i < NZ * NZ; i++)
        if (seen[i] == 1 || seen[i] == 2)
            return 0;
    return n1 == n2;
}

static int check(void)
{
    static double a[NZ * NZ], b[NZ * NZ], hj[10 * N], hh[2 * N + 2], hd[NC];
    int ok = same_pattern(sw_lag_hess_sparse_row, sw_lag_hess_sparse_col,
                          SW_LAG_HESS_SPARSE_NNZ, hand_lag_hess_sparse_row,
                          hand_lag_hess_sparse_col, 2 * N + 2, NZ) &&
             SW_DEFECTS_JAC_SPARSE_NNZ == 10 * N;
    for (int p = 0; p < 5 && ok; p++) {
        for (int i = 0; i < NZ; i++)
            z[i] = uniform(-4, 4);
        for (int i = 0; i < NC; i++)
            lambda[i] = uniform(-2, 2);
        sigma = uniform(0.5, 2);
        sw_defects_jac_sparse(z, d, jac);
        hand_defects_jac_sparse(z, hd, hj);
        memset(a, 0, sizeof a);
        memset(b, 0, sizeof b);
        densify(a, NZ, sw_defects_jac_sparse_row, sw_defects_jac_sparse_col, jac,
                SW_DEFECTS_JAC_SPARSE_NNZ);
        densify(b, NZ, hand_defects_jac_sparse_row, hand_defects_jac_sparse_col, hj, 10 * N);
        ok &= agree(a, b, NC * NZ, 1e-13) && agree(d, hd, NC, 1e-13);
        double v = sw_lag_hess_sparse(z, sigma, lambda, hess);
        double hv = hand_lag_hess_sparse(z, sigma, lambda, hh);
        memset(a, 0, sizeof a);
        memset(b, 0, sizeof b);
        densify(a, NZ, sw_lag_hess_sparse_row, sw_lag_hess_sparse_col, hess,
                SW_LAG_HESS_SPARSE_NNZ);
        densify(b, NZ, hand_lag_hess_sparse_row, hand_lag_hess_sparse_col, hh, 2 * N + 2);
        ok &= agree(a, b, NZ * NZ, 1e-13) && fabs(v - hv) <= 1e-12 * fabs(hv);
    }
    printf("swing-up: adgen's Jacobian (%d nonzeros) and Lagrangian Hessian (%d, the hand's "
           "pattern) %s the hand-written ones at 5 points\n", SW_DEFECTS_JAC_SPARSE_NNZ,
           SW_LAG_HESS_SPARSE_NNZ, ok ? "equal" : "DIFFER FROM");
    return ok;
}

static double adgen_jac(double *g)
{
    (void)g;
    sw_defects_jac_sparse(z, d, jac);
    return jac[4];
}

static double hand_jac(double *g)
{
    (void)g;
    hand_defects_jac_sparse(z, d, jac);
    return jac[4];
}

static double adgen_hess(double *g)
{
    (void)g;
    return sw_lag_hess_sparse(z, sigma, lambda, hess);
}

static double hand_hess(double *g)
{
    (void)g;
    return hand_lag_hess_sparse(z, sigma, lambda, hess);
}

int main(int argc, char **argv)
{
    if (!check())
        return 1;
    if (argc > 1 && strcmp(argv[1], "--check") == 0)
        return 0;
    printf("Swing-up (samples/swingup.expr, %s -O2): against derivatives written by hand, "
           "median us\n", compiler());
    int status = 0;
    Fn *const pairs[2][2] = {{adgen_jac, hand_jac}, {adgen_hess, hand_hess}};
    static const char *const what[] = {"defects' sparse Jacobian", "Lagrangian's sparse Hessian"};
    for (int i = 0; i < 2; i++) {
        double t[3];
        time_each(pairs[i], 2, t);
        double r = t[0] / t[1];
        printf("  %-28s adgen %7.2f, hand %7.2f: %.2f (target <= %.1f)%s\n", what[i],
               1e6 * t[0], 1e6 * t[1], r, TARGET, r <= TARGET ? "" : "  MISSES");
        status |= !(r <= TARGET);
    }
    return status;
}
