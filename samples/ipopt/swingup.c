/*
 * swingup.c: a pendulum swung up (samples/swingup.expr: trapezoidal collocation on 50
 * intervals, 153 unknowns, 100 equality constraints) solved by IPOPT through its C interface
 * with the exact Hessian, every derivative from adgen: the effort's gradient (effort_grad),
 * the defects' sparse Jacobian (defects_jac_sparse and its pattern) and the lower triangle of
 * the Lagrangian's Hessian, sigma effort + sum_i lambda[i] defects[i] (lag_hess_sparse, the
 * multipliers passed as data), in IPOPT's triplet convention. The boundary values and the
 * torque limit are bounds on the unknowns. Prints the iterations, the effort, the largest
 * defect and how far back the pendulum swings first; exits 0 when IPOPT converged to a
 * feasible trajectory.
 */
#include <math.h>
#include <stdio.h>

#include <IpStdCInterface.h>

#include "swingup_nlp.h"

/* as in swingup.expr: N intervals, z = (theta[0..N], omega[0..N], u[0..N]) */
enum { N = 50, NZ = 3 * N + 3, NC = 2 * N };
#define PI 3.14159265358979323846
#define T 4.0
#define UMAX 5.0

static int iterations;

static Bool eval_f(Index n, Number *z, Bool new_z, Number *obj, UserDataPtr data)
{
    (void)n, (void)new_z, (void)data;
    *obj = effort(z);
    return TRUE;
}

static Bool eval_grad_f(Index n, Number *z, Bool new_z, Number *grad, UserDataPtr data)
{
    (void)n, (void)new_z, (void)data;
    effort_grad(z, grad);
    return TRUE;
}

static Bool eval_g(Index n, Number *z, Bool new_z, Index m, Number *values, UserDataPtr data)
{
    (void)n, (void)new_z, (void)m, (void)data;
    defects(z, values);
    return TRUE;
}

/* The pattern when values is NULL, else the nonzeros in its order. */
static Bool eval_jac_g(Index n, Number *z, Bool new_z, Index m, Index nele, Index *row,
                       Index *col, Number *values, UserDataPtr data)
{
    (void)n, (void)new_z, (void)m, (void)data;
    if (!values) {
        for (Index k = 0; k < nele; k++) {
            row[k] = defects_jac_sparse_row[k];
            col[k] = defects_jac_sparse_col[k];
        }
    } else {
        double d[NC];
        defects_jac_sparse(z, d, values);
    }
    return TRUE;
}

static Bool eval_h(Index n, Number *z, Bool new_z, Number sigma, Index m, Number *lambda,
                   Bool new_lambda, Index nele, Index *row, Index *col, Number *values,
                   UserDataPtr data)
{
    (void)n, (void)new_z, (void)m, (void)new_lambda, (void)data;
    if (!values) {
        for (Index k = 0; k < nele; k++) {
            row[k] = lag_hess_sparse_row[k];
            col[k] = lag_hess_sparse_col[k];
        }
    } else {
        lag_hess_sparse(z, sigma, lambda, values);
    }
    return TRUE;
}

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
    Number z_lo[NZ], z_up[NZ], g_lo[NC] = {0}, g_up[NC] = {0}, z[NZ];
    for (int k = 0; k <= N; k++) {
        z_lo[k] = z_lo[N + 1 + k] = -2e19; /* theta, omega free */
        z_up[k] = z_up[N + 1 + k] = 2e19;
        z_lo[2 * N + 2 + k] = -UMAX;
        z_up[2 * N + 2 + k] = UMAX;
        z[k] = PI * k / N; /* a straight line up, at the speed it needs, no torque */
        z[N + 1 + k] = PI / T;
        z[2 * N + 2 + k] = 0;
    }
    z_lo[0] = z_up[0] = 0; /* at rest, hanging down */
    z_lo[N + 1] = z_up[N + 1] = 0;
    z_lo[N] = z_up[N] = PI; /* at rest, upright */
    z_lo[2 * N + 1] = z_up[2 * N + 1] = 0;
    IpoptProblem problem = CreateIpoptProblem(NZ, z_lo, z_up, NC, g_lo, g_up,
                                              DEFECTS_JAC_SPARSE_NNZ, LAG_HESS_SPARSE_NNZ, 0,
                                              eval_f, eval_g, eval_grad_f, eval_jac_g, eval_h);
    AddIpoptIntOption(problem, "print_level", 0);
    AddIpoptStrOption(problem, "sb", "yes");
    SetIntermediateCallback(problem, count_iterations);
    Number mult_g[NC], mult_lo[NZ], mult_up[NZ], obj = 0;
    enum ApplicationReturnStatus status =
        IpoptSolve(problem, z, NULL, &obj, mult_g, mult_lo, mult_up, NULL);
    FreeIpoptProblem(problem);
    double d[NC], worst = 0, lowest = 0;
    defects(z, d);
    for (int i = 0; i < NC; i++)
        worst = fmax(worst, fabs(d[i]));
    for (int k = 0; k <= N; k++)
        lowest = fmin(lowest, z[k]);
    int ok = status == Solve_Succeeded && worst < 1e-8;
    printf("IPOPT status %d after %d iterations: effort %.10f, largest defect %.1e, swings back "
           "to theta = %.4f first: %s\n", (int)status, iterations, obj, worst, lowest,
           ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
