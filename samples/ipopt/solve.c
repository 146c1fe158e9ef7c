/*
 * solve.c: IPOPT's example problem HS071 (samples/hs071.expr) solved by IPOPT through its C
 * interface, every derivative from adgen: the objective's gradient (f_grad), the constraints'
 * sparse Jacobian (g_jac_sparse, its pattern g_jac_sparse_row/col) and the lower triangle of
 * the Lagrangian's Hessian, sigma f + lambda[0] g[0] + lambda[1] g[1] (lag_hess_sparse, whose
 * multipliers IPOPT passes as data), both in IPOPT's triplet convention (0-based). IPOPT
 * runs with the options of its own C example (tol 1e-7, the adaptive barrier), whose
 * hand-written derivatives take 8 iterations. Exits 0 when IPOPT reports the optimum at
 * f* = 17.0140173 (Hock and Schittkowski's value) in at most those 8 iterations.
 */
#include <math.h>
#include <stdio.h>

#include <IpStdCInterface.h>

#include "hs071.h"

static Bool eval_f(Index n, Number *x, Bool new_x, Number *obj, UserDataPtr data)
{
    (void)n, (void)new_x, (void)data;
    *obj = f(x);
    return TRUE;
}

static Bool eval_grad_f(Index n, Number *x, Bool new_x, Number *grad, UserDataPtr data)
{
    (void)n, (void)new_x, (void)data;
    f_grad(x, grad);
    return TRUE;
}

static Bool eval_g(Index n, Number *x, Bool new_x, Index m, Number *values, UserDataPtr data)
{
    (void)n, (void)new_x, (void)m, (void)data;
    g(x, values);
    return TRUE;
}

/* The pattern when values is NULL, else the nonzeros in its order. */
static Bool eval_jac_g(Index n, Number *x, Bool new_x, Index m, Index nele, Index *row,
                       Index *col, Number *values, UserDataPtr data)
{
    (void)n, (void)new_x, (void)m, (void)data;
    if (!values) {
        for (Index k = 0; k < nele; k++) {
            row[k] = g_jac_sparse_row[k];
            col[k] = g_jac_sparse_col[k];
        }
    } else {
        double gx[2];
        g_jac_sparse(x, gx, values);
    }
    return TRUE;
}

static Bool eval_h(Index n, Number *x, Bool new_x, Number sigma, Index m, Number *lambda,
                   Bool new_lambda, Index nele, Index *row, Index *col, Number *values,
                   UserDataPtr data)
{
    (void)n, (void)new_x, (void)m, (void)new_lambda, (void)data;
    if (!values) {
        for (Index k = 0; k < nele; k++) {
            row[k] = lag_hess_sparse_row[k];
            col[k] = lag_hess_sparse_col[k];
        }
    } else {
        lag_hess_sparse(x, sigma, lambda, values);
    }
    return TRUE;
}

static int iterations;

static Bool count_iterations(Index alg_mod, Index iter_count, Number obj_value, Number inf_pr,
                             Number inf_du, Number mu, Number d_norm,
                             Number regularization_size, Number alpha_du, Number alpha_pr,
                             Index ls_trials, UserDataPtr data)
{
    (void)alg_mod, (void)obj_value, (void)inf_pr, (void)inf_du, (void)mu, (void)d_norm;
    (void)regularization_size, (void)alpha_du, (void)alpha_pr, (void)ls_trials, (void)data;
    iterations = iter_count;
    return TRUE;
}

int main(void)
{
    Number x_lo[4] = {1, 1, 1, 1}, x_up[4] = {5, 5, 5, 5};
    Number g_lo[2] = {25, 40}, g_up[2] = {2e19, 40}; /* g[0] >= 25, g[1] = 40 */
    IpoptProblem problem = CreateIpoptProblem(4, x_lo, x_up, 2, g_lo, g_up, G_JAC_SPARSE_NNZ,
                                              LAG_HESS_SPARSE_NNZ, 0, eval_f, eval_g,
                                              eval_grad_f, eval_jac_g, eval_h);
    AddIpoptNumOption(problem, "tol", 1e-7);
    AddIpoptStrOption(problem, "mu_strategy", "adaptive");
    AddIpoptIntOption(problem, "print_level", 0);
    AddIpoptStrOption(problem, "sb", "yes");
    SetIntermediateCallback(problem, count_iterations);
    Number x[4] = {1, 5, 5, 1}, mult_g[2], mult_lo[4], mult_up[4], obj = 0;
    enum ApplicationReturnStatus status =
        IpoptSolve(problem, x, NULL, &obj, mult_g, mult_lo, mult_up, NULL);
    FreeIpoptProblem(problem);
    int ok = status == Solve_Succeeded && fabs(obj - 17.0140173) < 1e-6 && iterations <= 8;
    printf("IPOPT status %d after %d iterations, f = %.9f at x = (%.7f, %.7f, %.7f, %.7f): "
           "%s\n", (int)status, iterations, obj, x[0], x[1], x[2], x[3], ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
