/*
 * fit.c: estimates the parameters (phi, sigma) of the state-space model of model.expr from T
 * observations by maximising its filter's log-likelihood with Newton's method. loglik_grad and
 * loglik_hess (the 2 x 2 Hessian, row-major) come from adgen; T and P are arguments, and the
 * work array holds the states and the sums per step the loops store (LOGLIK_WORK(P, T)
 * doubles). The data are simulated from the model at known parameters with deterministic
 * noise; the P particles sit at evenly spaced quantiles of the standard normal. Each step
 * solves H d = -g and halves d until the likelihood rises (a gradient step where H is not
 * negative definite). Exits 0 when the gradient vanishes at the estimate and the likelihood
 * there is at least the true parameters' (what a maximum is).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "model.h"

static long steps = 500, particles = 32;

/* A standard normal deviate from a fixed sequence (Box-Muller on a linear congruential
 * generator): the same data on every machine. */
static double normal(void)
{
    static unsigned long long state = 42;
    double u[2];
    for (int i = 0; i < 2; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        u[i] = ((double)(state >> 11) + 0.5) / 9007199254740992.0;
    }
    return sqrt(-2.0 * log(u[0])) * cos(6.283185307179586 * u[1]);
}

/* The standard normal's quantile at q in (0, 1), by Newton's method on its distribution. */
static double quantile(double q)
{
    double z = 0.0;
    for (int i = 0; i < 60; i++)
        z -= (0.5 * erfc(-z / sqrt(2.0)) - q) / (exp(-0.5 * z * z) / sqrt(6.283185307179586));
    return z;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        steps = strtol(argv[1], NULL, 10);
    if (argc > 2)
        particles = strtol(argv[2], NULL, 10);
    if (steps < 1 || particles < 2) {
        fprintf(stderr, "usage: fit [STEPS [PARTICLES]]  (STEPS >= 1, default 500; "
                        "PARTICLES >= 2, default 32)\n");
        return 2;
    }
    double *obs = malloc((size_t)steps * sizeof *obs), *e = malloc((size_t)particles * sizeof *e);
    double *work = malloc((size_t)LOGLIK_WORK(particles, steps) * sizeof *work);
    if (!obs || !e || !work) {
        fprintf(stderr, "fit: out of memory\n");
        return 2;
    }
    for (long p = 0; p < particles; p++)
        e[p] = quantile(((double)p + 0.5) / (double)particles);
    /* the data: the state moved by the true parameters, observed with noise of scale 1 */
    const double truth[2] = {0.8, 1.5};
    double z = 0.0;
    for (long k = 0; k < steps; k++) {
        z = truth[0] * z + truth[1] * normal();
        obs[k] = z + normal();
    }

    double th[2] = {0.3, 0.5}, g[2], h[4];
    double l = loglik(particles, steps, th[0], th[1], e, obs, work);
    printf("step  log-likelihood     phi       sigma     |gradient|\n");
    for (int it = 0; it <= 50; it++) {
        loglik_grad(particles, steps, th[0], th[1], e, obs, &g[0], &g[1], work);
        double gn = hypot(g[0], g[1]);
        printf("%4d  %.10e  %.6f  %.6f  %.3e\n", it, l, th[0], th[1], gn);
        if (gn < 1e-8 * (double)steps)
            break;
        loglik_hess(particles, steps, th[0], th[1], e, obs, h, work);
        /* Newton's step where the Hessian is negative definite, else along the gradient */
        double det = h[0] * h[3] - h[1] * h[2], d[2] = {g[0], g[1]};
        if (h[0] < 0 && det > 0) {
            d[0] = -(h[3] * g[0] - h[1] * g[1]) / det;
            d[1] = -(h[0] * g[1] - h[2] * g[0]) / det;
        } else {
            d[0] = g[0] / gn * 0.1;
            d[1] = g[1] / gn * 0.1;
        }
        double t = 1.0, lt = -INFINITY;
        for (int halve = 0; halve < 40; halve++, t /= 2) {
            lt = loglik(particles, steps, th[0] + t * d[0], th[1] + t * d[1], e, obs, work);
            if (lt > l)
                break;
        }
        if (!(lt > l))
            break;
        th[0] += t * d[0];
        th[1] += t * d[1];
        l = lt;
    }
    loglik_grad(particles, steps, th[0], th[1], e, obs, &g[0], &g[1], work);
    double at_truth = loglik(particles, steps, truth[0], truth[1], e, obs, work);
    int ok = hypot(g[0], g[1]) < 1e-6 * (double)steps && l >= at_truth;
    printf("estimated phi=%.4f sigma=%.4f from %ld steps with %ld particles (data made with "
           "phi=%.1f sigma=%.1f; log-likelihood %.6f there, %.6f at the estimate): %s\n", th[0],
           th[1], steps, particles, truth[0], truth[1], at_truth, l, ok ? "ok" : "FAILED");
    free(obs);
    free(e);
    free(work);
    return ok ? 0 : 1;
}
