/*
 * chain.c: the hanging chain of samples/chain.expr solved by IPOPT for a number of points M
 * given on the command line (default 200): M points (x[i], y[i]) joined by M - 1 links of
 * length h = 2 / (M - 1), the ends held at (0, 0) and (1, 0) by the variables' bounds, the
 * potential energy h * sum y[i] least. adgen wrote every derivative once, for any M: the
 * energy's gradient (energy_grad), the links' sparse Jacobian (links_jac_sparse, its pattern
 * from links_jac_sparse_pattern) and the Lagrangian's (lag_hess_sparse, its pattern from
 * lag_hess_sparse_pattern), all loops over the points, whose patterns are computed at run time
 * and copied into IPOPT's triplets.
 *
 * The continuous chain is a catenary y = c (cosh((x - 1/2) / c) - cosh(1 / (2 c))) whose
 * length, 2 c sinh(1 / (2 c)), is 2; its energy, the integral of y along it, is the limit of
 * the discrete one, which approaches it as h^2: this machine measured 0.33 / M^2 for the
 * energy and 1.45 / M^2 for the lowest point at M = 20, 200 and 2000. Exits 0 when IPOPT
 * reports an optimum whose energy is within 1 / M^2 of the catenary's and whose lowest point
 * is within 3 / M^2 of the catenary's sag.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <IpStdCInterface.h>

#include "chain_nlp.h"

typedef struct {
    long m;             /* points */
    double h;           /* a link's length */
    double *lam, *out;  /* the multipliers (m of them, the last 0), the links' values */
    double *jwork, *hwork;
} Chain;

static Bool eval_f(Index n, Number *z, Bool new_x, Number *obj, UserDataPtr data)
{
    const Chain *c = data;
    (void)n, (void)new_x;
    *obj = energy(c->m, z, z + c->m, c->h);
    return TRUE;
}

static Bool eval_grad_f(Index n, Number *z, Bool new_x, Number *grad, UserDataPtr data)
{
    const Chain *c = data;
    (void)n, (void)new_x;
    energy_grad(c->m, z, z + c->m, c->h, grad, grad + c->m);
    return TRUE;
}

static Bool eval_g(Index n, Number *z, Bool new_x, Index m, Number *values, UserDataPtr data)
{
    const Chain *c = data;
    (void)n, (void)new_x, (void)m;
    links(c->m, z, z + c->m, c->h, values);
    return TRUE;
}

/* Copies a pattern of run-time size into IPOPT's int triplets. */
static Bool copy_pattern(long nele, void (*pattern)(long, long *, long *), long m, Index *row,
                         Index *col)
{
    long *r = malloc((size_t)nele * sizeof *r), *k = malloc((size_t)nele * sizeof *k);
    if (!r || !k) {
        free(r);
        free(k);
        return FALSE;
    }
    pattern(m, r, k);
    for (long e = 0; e < nele; e++) {
        row[e] = (Index)r[e];
        col[e] = (Index)k[e];
    }
    free(r);
    free(k);
    return TRUE;
}

static Bool eval_jac_g(Index n, Number *z, Bool new_x, Index m, Index nele, Index *row,
                       Index *col, Number *values, UserDataPtr data)
{
    Chain *c = data;
    (void)n, (void)new_x, (void)m;
    if (!values)
        return copy_pattern(nele, links_jac_sparse_pattern, c->m, row, col);
    links_jac_sparse(c->m, z, z + c->m, c->h, c->out, values, c->jwork);
    return TRUE;
}

static Bool eval_h(Index n, Number *z, Bool new_x, Number sigma, Index m, Number *lambda,
                   Bool new_lambda, Index nele, Index *row, Index *col, Number *values,
                   UserDataPtr data)
{
    Chain *c = data;
    (void)n, (void)new_x, (void)new_lambda;
    if (!values)
        return copy_pattern(nele, lag_hess_sparse_pattern, c->m, row, col);
    for (Index i = 0; i < m; i++)
        c->lam[i] = lambda[i];
    lag_hess_sparse(c->m, z, z + c->m, c->h, sigma, c->lam, values, c->hwork);
    return TRUE;
}

/* The catenary through (0, 0) and (1, 0) of length 2: its c, by bisection on the length. */
static double catenary(void)
{
    double lo = 0.05, hi = 10;
    for (int k = 0; k < 200; k++) {
        double mid = (lo + hi) / 2;
        if (2 * mid * sinh(1 / (2 * mid)) > 2)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2;
}

int main(int argc, char **argv)
{
    long m = argc > 1 ? strtol(argv[1], NULL, 10) : 200;
    if (m < 3 || m > 100000) {
        fprintf(stderr, "usage: %s [POINTS, 3 to 100000]\n", argv[0]);
        return 2;
    }
    Chain c = {m, 2.0 / (double)(m - 1), NULL, NULL, NULL, NULL};
    Index n = (Index)(2 * m), ncon = (Index)(m - 1);
    Number *z = malloc((size_t)n * sizeof *z), *lo = malloc((size_t)n * sizeof *lo),
           *up = malloc((size_t)n * sizeof *up), *g_lo = calloc((size_t)ncon, sizeof *g_lo),
           *g_up = calloc((size_t)ncon, sizeof *g_up), *mult = malloc((size_t)ncon * sizeof *mult);
    c.lam = calloc((size_t)m, sizeof *c.lam);
    c.out = malloc((size_t)m * sizeof *c.out);
    c.jwork = malloc(LINKS_WORK(m) * sizeof *c.jwork);
    c.hwork = malloc(LAG_WORK(m) * sizeof *c.hwork);
    if (!z || !lo || !up || !g_lo || !g_up || !mult || !c.lam || !c.out || !c.jwork || !c.hwork)
        return 2;
    for (long i = 0; i < m; i++) { /* a V below the ends, of the right length */
        double t = (double)i / (double)(m - 1);
        z[i] = t;
        z[m + i] = -sqrt(3) / 2 * (t < 0.5 ? 2 * t : 2 - 2 * t);
        lo[i] = lo[m + i] = -2e19;
        up[i] = up[m + i] = 2e19;
    }
    lo[0] = up[0] = 0;                     /* x[0] = 0 */
    lo[m - 1] = up[m - 1] = 1;             /* x[M - 1] = 1 */
    lo[m] = up[m] = lo[2 * m - 1] = up[2 * m - 1] = 0;
    IpoptProblem problem = CreateIpoptProblem(n, lo, up, ncon, g_lo, g_up,
                                              (Index)links_jac_sparse_nnz(m),
                                              (Index)lag_hess_sparse_nnz(m), 0, eval_f, eval_g,
                                              eval_grad_f, eval_jac_g, eval_h);
    AddIpoptNumOption(problem, "tol", 1e-9);
    AddIpoptIntOption(problem, "print_level", 0);
    AddIpoptStrOption(problem, "sb", "yes");
    Number obj = 0;
    enum ApplicationReturnStatus status = IpoptSolve(problem, z, NULL, &obj, mult, NULL, NULL, &c);
    FreeIpoptProblem(problem);
    double k = catenary(), sag = k * (1 - cosh(1 / (2 * k))), want = 0;
    /* the catenary's energy: the integral of y ds over x in [0, 1], by Simpson's rule */
    for (int j = 0, steps = 2000; j <= steps; j++) {
        double x = (double)j / steps, y = k * (cosh((x - 0.5) / k) - cosh(1 / (2 * k)));
        double ds = cosh((x - 0.5) / k);
        want += (j == 0 || j == steps ? 1 : j % 2 ? 4 : 2) * y * ds / (3.0 * steps);
    }
    double low = 0;
    for (long i = 0; i < m; i++)
        low = z[m + i] < low ? z[m + i] : low;
    double mm = (double)m * (double)m;
    int ok = status == Solve_Succeeded && fabs(obj - want) <= 1 / mm && fabs(low - sag) <= 3 / mm;
    printf("IPOPT status %d, M = %ld points: energy %.9f (the catenary's %.9f), lowest point "
           "%.9f (its sag %.9f): %s\n", (int)status, m, obj, want, low, sag, ok ? "ok" : "FAILED");
    free(z);
    free(lo);
    free(up);
    free(g_lo);
    free(g_up);
    free(mult);
    free(c.lam);
    free(c.out);
    free(c.jwork);
    free(c.hwork);
    return ok ? 0 : 1;
}
