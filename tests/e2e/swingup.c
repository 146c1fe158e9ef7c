/*
 * swingup.c: checks samples/swingup.expr (the pendulum's swing-up for IPOPT) against the
 * derivatives written by hand from the mathematics in tests/bench/swingup_hand.c (included
 * with its names prefixed hand_): effort and effort_grad, defects and defects_jac (100 x 153,
 * row-major, against the hand's sparse entries placed by their pattern) and lag and lag_grad
 * (sigma times the effort's gradient plus each multiplier times its defect's row), at the
 * straight-line guess samples/ipopt starts from and at random trajectories.
 */
#include <stdlib.h>

#include "check.h"
#include "swingup.h"

#define HAND_PREFIX
#include "../bench/swingup_hand.c"

enum { NC = 2 * N };

static double draw(void)
{
    return 4.0 * rand() / RAND_MAX - 2.0;
}

int main(void)
{
    static char label[NZ][16];
    const char *names[NZ];
    for (int i = 0; i < NZ; i++) {
        snprintf(label[i], sizeof label[i], "z[%d]", i);
        names[i] = label[i];
    }
    Check ce = check_begin("effort", TOL_CLOSED, TOL_CLOSED);
    Check cd = check_begin("defects", TOL_CLOSED, TOL_CLOSED);
    Check cl = check_begin("lag", TOL_CLOSED, TOL_CLOSED);
    static double z[NZ], g[NZ], eg[NZ], r[NZ], d[NC], rd[NC], J[NC * NZ], rJ[NC * NZ], hj[10 * N];
    double lambda[NC];
    for (int p = 0; p < 4; p++) {
        for (int k = 0; k <= N; k++) { /* p = 0: the straight line up, as samples/ipopt */
            z[TH(k)] = p ? draw() : E2E_PI * k / N;
            z[OM(k)] = p ? draw() : E2E_PI / 4;
            z[U(k)] = p ? draw() : 0;
        }
        double v = effort(z), gv = effort_grad(z, g), rv = hand_effort_grad(z, eg);
        check_point(&ce, NZ, z, names, v, gv, g, rv, eg);
        defects(z, d);
        defects_jac(z, rd, J);
        for (int i = 0; i < NC; i++)
            check_one(&cd, NZ, z, "value returned by _jac", rd[i], d[i], cd.vtol,
                      &cd.worst_value);
        hand_defects_jac_sparse(z, rd, hj);
        for (int i = 0; i < NC * NZ; i++)
            rJ[i] = 0;
        for (int k = 0; k < 10 * N; k++)
            rJ[hand_defects_jac_sparse_row[k] * NZ + hand_defects_jac_sparse_col[k]] = hj[k];
        for (int i = 0; i < NC; i++)
            check_one(&cd, NZ, z, "value", d[i], rd[i], cd.vtol, &cd.worst_value);
        for (int i = 0; i < NC * NZ; i++)
            check_one(&cd, NZ, z, "Jacobian entry", J[i], rJ[i], cd.gtol, &cd.worst_grad);
        for (int m = 0; m < 2; m++) {
            double sigma = m ? 0.7 : 1, rl = sigma * rv;
            for (int i = 0; i < NC; i++) {
                lambda[i] = draw();
                rl += lambda[i] * rd[i];
            }
            for (int j = 0; j < NZ; j++) {
                r[j] = sigma * eg[j];
                for (int i = 0; i < NC; i++)
                    r[j] += lambda[i] * rJ[i * NZ + j];
            }
            double lv = lag(z, sigma, lambda), lgv = lag_grad(z, sigma, lambda, g);
            check_point(&cl, NZ, z, names, lv, lgv, g, rl, r);
        }
    }
    int failed = check_end(&ce);
    failed |= check_end(&cd);
    failed |= check_end(&cl);
    return failed;
}
