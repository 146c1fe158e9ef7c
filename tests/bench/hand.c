/*
 * hand.c: careful hand-written reverse-mode adjoints of the bench cases, what an engineer
 * would write for speed with the book open: every shared subexpression computed once, one
 * reciprocal per divisor, each local partial taken where its operands are at hand, the
 * reverse step of a sum's term done right after its forward step (its adjoint is 1), loops
 * where the function has them. They are the yardstick of the target (adgen's
 * gradient at most 1.05 times these), so they must stay honest: no algebra beyond what the
 * chain rule gives (the chain's partial is cos x cos(x + 0.3) - sin x sin(x + 0.3), not
 * cos(2x + 0.3)). Compiled apart from the driver and from adgen's code, so that every
 * function timed is an out-of-line call.
 */
#include <math.h>

#include "hand.h"

/* eq. 5.109: f = sqrt(c) + cos(c), c = a + exp(a), a = x^2 (eqs. 5.123-5.128) */
double hand_eq5109(double x, double *x_bar)
{
    double a = x * x, b = exp(a), c = a + b, d = sqrt(c);
    double c_bar = 0.5 / d - sin(c);
    *x_bar = 2.0 * x * (c_bar * (1.0 + b));
    return d + cos(c);
}

/* f = e r k with r = 1/sigma, u = (x - mu) r, e = exp(-u^2/2), k = 1/sqrt(2 pi):
 * df/dx = -f u r, df/dmu = f u r, df/dsigma = f (u^2 - 1) r */
double hand_gauss(double x, double mu, double sigma, double *x_bar, double *mu_bar,
                  double *sigma_bar)
{
    const double k = 0.39894228040143267794; /* 1/sqrt(2 pi) */
    double r = 1.0 / sigma, u = (x - mu) * r;
    double f = exp(-0.5 * u * u) * (k * r);
    double fr = f * r, fur = fr * u;
    *x_bar = -fur;
    *mu_bar = fur;
    *sigma_bar = fur * u - fr;
    return f;
}

/* Backpropagation (eqs. 5.115-5.118) for 4 inputs, 8 tanh units, 2 linear outputs and the
 * squared loss; parameters and gradients row-major, as adgen lays them out. */
double hand_mlp(const double *A0, const double *b0, const double *A1, const double *b1,
                const double *x, const double *y, double *A0_bar, double *b0_bar,
                double *A1_bar, double *b1_bar)
{
    double h[8], d[2], loss = 0;
    for (int i = 0; i < 8; i++) {
        double z = b0[i];
        for (int j = 0; j < 4; j++)
            z += A0[4 * i + j] * x[j];
        h[i] = tanh(z);
    }
    for (int k = 0; k < 2; k++) {
        double o = b1[k];
        for (int i = 0; i < 8; i++)
            o += A1[8 * k + i] * h[i];
        double e = o - y[k];
        loss += e * e;
        d[k] = 2.0 * e;
        b1_bar[k] = d[k];
        for (int i = 0; i < 8; i++)
            A1_bar[8 * k + i] = d[k] * h[i];
    }
    for (int i = 0; i < 8; i++) {
        double z_bar = (d[0] * A1[i] + d[1] * A1[8 + i]) * (1.0 - h[i] * h[i]);
        b0_bar[i] = z_bar;
        for (int j = 0; j < 4; j++)
            A0_bar[4 * i + j] = z_bar * x[j];
    }
    return loss;
}

/* The extended Rosenbrock function: each term's reverse step right after its forward
 * step, the adjoint of x[i+1] carried in a register to the next term. */
double hand_rosen(int n, const double *x, double *x_bar)
{
    double f = 0, carry = 0;
    for (int i = 0; i < n - 1; i++) {
        double a = x[i + 1] - x[i] * x[i], b = 1.0 - x[i];
        f += 100.0 * a * a + b * b;
        x_bar[i] = carry - 400.0 * a * x[i] - 2.0 * b;
        carry = 200.0 * a;
    }
    x_bar[n - 1] = carry;
    return f;
}

/* x[k+1] = x[k] + 0.001 sin(x[k]) cos(x[k] + 0.3): the forward sweep stores each step's
 * local partial dx[k+1]/dx[k], the reverse sweep multiplies them from the top down. */
double hand_chain(double x0, double *x0_bar)
{
    double p[1000], x = x0;
    for (int k = 0; k < 1000; k++) {
        double s = sin(x), c = cos(x), y = x + 0.3, s3 = sin(y), c3 = cos(y);
        p[k] = 1.0 + 0.001 * (c * c3 - s * s3);
        x += 0.001 * s * c3;
    }
    double x_bar = 1.0;
    for (int k = 999; k >= 0; k--)
        x_bar *= p[k];
    *x0_bar = x_bar;
    return x;
}

/* Logistic regression over N points (tests/bench/logistic.expr), in one pass: each point's z,
 * its loss in the .expr's stable form max(z, 0) + log(1 + e^-|z|) - y z, and its reverse step
 * right away (the loss's adjoint is 1/N, applied once at the end). By the chain rule
 * dloss/dz = [z > 0] - sign(z) u/(1 + u) - y with u = e^-|z|: one exp, one reciprocal. */
double hand_logistic(long N, const double *w, double b, const double *X, const double *y,
                     double *w_bar, double *b_bar)
{
    double f = 0, g0 = 0, g1 = 0, g2 = 0, gb = 0;
    for (long n = 0; n < N; n++) {
        const double *x = X + 3 * n;
        double z = x[0] * w[0] + x[1] * w[1] + x[2] * w[2] + b;
        double u = exp(-fabs(z)), ur = u / (1.0 + u);
        f += fmax(z, 0.0) + log(1.0 + u) - y[n] * z;
        double z_bar = (z > 0 ? 1.0 - ur : ur) - y[n];
        g0 += z_bar * x[0];
        g1 += z_bar * x[1];
        g2 += z_bar * x[2];
        gb += z_bar;
    }
    double s = 1.0 / (double)N;
    w_bar[0] = g0 * s;
    w_bar[1] = g1 * s;
    w_bar[2] = g2 * s;
    *b_bar = gb * s;
    return f / (double)N;
}

/* chain.expr's recurrence over n steps with h an input (tests/bench/chain_n.expr): the
 * forward loop stores each step's partials dx[k+1]/dx[k] and dx[k+1]/dh in work (2n
 * doubles, twice what the generated code keeps), the reverse loop only multiplies and adds. */
double hand_chain_n(long n, double x0, double h, double *x0_bar, double *h_bar, double *work)
{
    double x = x0;
    for (long k = 0; k < n; k++) {
        double s = sin(x), c = cos(x), y = x + 0.3, s3 = sin(y), c3 = cos(y);
        work[2 * k] = 1.0 + h * (c * c3 - s * s3);
        work[2 * k + 1] = s * c3;
        x += h * s * c3;
    }
    double x_bar = 1.0, hb = 0.0;
    for (long k = n - 1; k >= 0; k--) {
        hb += x_bar * work[2 * k + 1];
        x_bar *= work[2 * k];
    }
    *x0_bar = x_bar;
    *h_bar = hb;
    return x;
}

/* The Gaussian mixture's log-likelihood (tests/bench/gmm.expr) and its gradient, point by
 * point: the sum over the centres, then its logarithm's adjoint 1/S spread over the centres
 * again, each term's exponential computed again (as the generated code does; storing K of
 * them a point takes memory the generated code does not), dividing by s as the .expr does
 * (a reciprocal is not exact: README, Performance). */
double hand_gmm(long K, long N, const double *mu, double s, const double *x, double *mu_bar,
                double *s_bar)
{
    double f = 0, sb = 0;
    for (long k = 0; k < K; k++)
        mu_bar[k] = 0;
    for (long i = 0; i < N; i++) {
        double S = 0;
        for (long k = 0; k < K; k++) {
            double d = x[i] - mu[k];
            S += exp(-d * d / s);
        }
        f += log(S);
        double w = 1.0 / S;
        for (long k = 0; k < K; k++) {
            double d = x[i] - mu[k], e = exp(-d * d / s) * w / s;
            mu_bar[k] += 2.0 * d * e;
            sb += d * d / s * e;
        }
    }
    *s_bar = sb;
    return f;
}

/* The filter's log-likelihood (tests/bench/pfilt.expr) and its gradient: forwards, each step's
 * two sums over the particles in one loop, the state and both sums stored (3T doubles);
 * backwards, the step's adjoints, then its terms' again in one loop, their exponentials
 * computed again, the state's adjoint summed in a register. */
double hand_pfilt(long P, long T, double a, const double *w, const double *obs, double *a_bar,
                  double *w_bar, double *work)
{
    double x = 0.5, l = 0, ab = 0, xb = 0;
    for (long p = 0; p < P; p++)
        w_bar[p] = 0;
    for (long k = 0; k < T; k++) {
        double s = 0, m = 0;
        for (long p = 0; p < P; p++) {
            double d = x + a * w[p] - obs[k], e = exp(-d * d);
            s += e;
            m += w[p] * e;
        }
        work[3 * k] = x;
        work[3 * k + 1] = s;
        work[3 * k + 2] = m;
        x = 0.9 * x + 0.1 * m / s;
        l += log(s);
    }
    for (long k = T - 1; k >= 0; k--) {
        double xk = work[3 * k], s = work[3 * k + 1], m = work[3 * k + 2];
        double mb = 0.1 * xb / s, sb = 1.0 / s - 0.1 * xb * m / (s * s), xs = 0.9 * xb;
        for (long p = 0; p < P; p++) {
            double d = xk + a * w[p] - obs[k], e = exp(-d * d);
            double db = -2.0 * d * e * (sb + mb * w[p]);
            xs += db;
            ab += db * w[p];
            w_bar[p] += mb * e + db * a;
        }
        xb = xs;
    }
    *a_bar = ab;
    return l;
}
