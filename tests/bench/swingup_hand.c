/*
 * swingup_hand.c: the derivatives of samples/swingup.expr written by hand from the mathematics
 * (not from adgen's output), under the names adgen gives them, so that samples/ipopt/swingup.c
 * links with this file in place of the generated one (test_build: IPOPT must take the same
 * iterations to the same optimum), and tests/bench/swingup.c checks and times adgen's against
 * it (compiled with -DHAND_PREFIX: its names start with hand_). With z = (theta[0..N],
 * omega[0..N], u[0..N]),
 * a_j = u_j - gl sin(theta_j) - b omega_j and k = 0..N-1:
 *   effort = h/2 sum_k (u_k^2 + u_{k+1}^2)
 *   d[2k]   = theta_{k+1} - theta_k - h/2 (omega_k + omega_{k+1})
 *   d[2k+1] = omega_{k+1} - omega_k - h/2 (a_k + a_{k+1})
 * The Jacobian has 4 + 6 nonzeros a step; the Lagrangian's Hessian is diagonal: sigma h (1 or
 * 2) for u_j, and -(h gl / 2) sin(theta_j) times the multipliers of the one or two d[2k+1]
 * that hold a_j for theta_j.
 */
#include <math.h>

#ifdef HAND_PREFIX
#define HAND(name) hand_##name
#else
#define HAND(name) name
#endif

enum { N = 50, NZ = 3 * N + 3 };
#define H (4.0 / N)
#define GL 9.81
#define B 0.1

#define TH(j) (j)
#define OM(j) (N + 1 + (j))
#define U(j) (2 * N + 2 + (j))

double HAND(effort)(const double *z);
double HAND(effort_grad)(const double *z, double *z_bar);
void HAND(defects)(const double *z, double *out);
void HAND(defects_jac_sparse)(const double *z, double *out, double *jac_nz);
double HAND(lag_hess_sparse)(const double *z, double sigma, const double *lambda,
                             double *hess_nz);
extern const int HAND(defects_jac_sparse_row)[10 * N], HAND(defects_jac_sparse_col)[10 * N];
extern const int HAND(lag_hess_sparse_row)[2 * N + 2], HAND(lag_hess_sparse_col)[2 * N + 2];

/* the weight of u_j in the trapezoidal rule: 1 at the ends, 2 inside */
static double weight(int j)
{
    return j == 0 || j == N ? 1.0 : 2.0;
}

double HAND(effort)(const double *z)
{
    double s = 0;
    for (int j = 0; j <= N; j++)
        s += weight(j) * z[U(j)] * z[U(j)];
    return H / 2 * s;
}

double HAND(effort_grad)(const double *z, double *z_bar)
{
    for (int i = 0; i < NZ; i++)
        z_bar[i] = 0;
    for (int j = 0; j <= N; j++)
        z_bar[U(j)] = H * weight(j) * z[U(j)];
    return HAND(effort)(z);
}

/* each node's acceleration once (one sin a node), then the defects */
void HAND(defects)(const double *z, double *out)
{
    double a[N + 1];
    for (int j = 0; j <= N; j++)
        a[j] = z[U(j)] - GL * sin(z[TH(j)]) - B * z[OM(j)];
    for (int k = 0; k < N; k++) {
        out[2 * k] = z[TH(k + 1)] - z[TH(k)] - H / 2 * (z[OM(k)] + z[OM(k + 1)]);
        out[2 * k + 1] = z[OM(k + 1)] - z[OM(k)] - H / 2 * (a[k] + a[k + 1]);
    }
}

/* The pattern: per step k, row 2k at theta_k, theta_{k+1}, omega_k, omega_{k+1}; row 2k+1 at
 * theta_k, theta_{k+1}, omega_k, omega_{k+1}, u_k, u_{k+1}. */
#define ROWS(k) 2 * (k), 2 * (k), 2 * (k), 2 * (k), 2 * (k) + 1, 2 * (k) + 1, 2 * (k) + 1, \
                2 * (k) + 1, 2 * (k) + 1, 2 * (k) + 1
#define COLS(k) TH(k), TH(k) + 1, OM(k), OM(k) + 1, TH(k), TH(k) + 1, OM(k), OM(k) + 1, U(k), \
                U(k) + 1
#define STEPS10(M, k) M(k), M(k + 1), M(k + 2), M(k + 3), M(k + 4), M(k + 5), M(k + 6), \
                      M(k + 7), M(k + 8), M(k + 9)
#define STEPS50(M) STEPS10(M, 0), STEPS10(M, 10), STEPS10(M, 20), STEPS10(M, 30), \
                   STEPS10(M, 40)
const int HAND(defects_jac_sparse_row)[10 * N] = {STEPS50(ROWS)};
const int HAND(defects_jac_sparse_col)[10 * N] = {STEPS50(COLS)};

void HAND(defects_jac_sparse)(const double *z, double *out, double *jac_nz)
{
    double c[N + 1];
    HAND(defects)(z, out);
    for (int j = 0; j <= N; j++)
        c[j] = H / 2 * GL * cos(z[TH(j)]);
    for (int k = 0; k < N; k++) {
        double *v = jac_nz + 10 * k;
        v[0] = -1;
        v[1] = 1;
        v[2] = v[3] = -H / 2;
        v[4] = c[k];
        v[5] = c[k + 1];
        v[6] = -1 + H / 2 * B;
        v[7] = 1 + H / 2 * B;
        v[8] = v[9] = -H / 2;
    }
}

/* The pattern: the diagonal of theta, then of u. */
#define DIAG_TH(j) TH(j)
#define DIAG_U(j) U(j)
#define NODES51(M) STEPS50(M), M(50)
const int HAND(lag_hess_sparse_row)[2 * N + 2] = {NODES51(DIAG_TH), NODES51(DIAG_U)};
const int HAND(lag_hess_sparse_col)[2 * N + 2] = {NODES51(DIAG_TH), NODES51(DIAG_U)};

double HAND(lag_hess_sparse)(const double *z, double sigma, const double *lambda,
                             double *hess_nz)
{
    double sn[N + 1], a[N + 1], value = sigma * HAND(effort)(z);
    for (int j = 0; j <= N; j++) { /* each sin once: for the value and the Hessian */
        sn[j] = sin(z[TH(j)]);
        a[j] = z[U(j)] - GL * sn[j] - B * z[OM(j)];
    }
    for (int k = 0; k < N; k++)
        value += lambda[2 * k] * (z[TH(k + 1)] - z[TH(k)] - H / 2 * (z[OM(k)] + z[OM(k + 1)])) +
                 lambda[2 * k + 1] * (z[OM(k + 1)] - z[OM(k)] - H / 2 * (a[k] + a[k + 1]));
    for (int j = 0; j <= N; j++) {
        double m = (j > 0 ? lambda[2 * (j - 1) + 1] : 0) + (j < N ? lambda[2 * j + 1] : 0);
        hess_nz[j] = -(H * GL / 2) * sn[j] * m;
        hess_nz[N + 1 + j] = sigma * H * weight(j);
    }
    return value;
}
