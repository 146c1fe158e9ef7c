/*
 * allfuncs.c: checks the functions adgen generates from tests/e2e/allfuncs.expr, the input
 * that uses every operation. Each function has a reference written from its formula and
 * a gradient derived by hand (mixed, too long to derive, uses central differences of its
 * reference instead). The points lie inside every domain and away from every kink, tie and
 * branch cut, so that the derivative exists and a wrong branch shows.
 */
#include <stdlib.h>

#include "allfuncs.h"
#include "check.h"

#define LN2 0.69314718055994530942
#define LN2_5 0.91629073187415506518 /* log(2.5) */

static double sign(double v)
{
    return v > 0 ? 1 : -1; /* only called away from 0 */
}

/* ---- references: value returned, gradient stored in g -------------------------------------- */

/* (x + y)(x - y) / (xy + 3) + x + y; with N = x^2 - y^2 and D = xy + 3:
 * d/dx = 2x/D - N y/D^2 + 1, d/dy = -2y/D - N x/D^2 + 1 */
static double ref_arith(const double *in, double *g)
{
    double x = in[0], y = in[1];
    double n = x * x - y * y, d = x * y + 3;
    g[0] = 2 * x / d - n * y / (d * d) + 1;
    g[1] = -2 * y / d - n * x / (d * d) + 1;
    return n / d + x + y;
}

/* x^3 - 2x^2 + x + 1 + x^4/8 + (-x)^5/20 - x^2, term by term */
static double ref_intpow(const double *in, double *g)
{
    double x = in[0];
    g[0] = 3 * x * x - 4 * x + 1 + 0 + x * x * x / 2 - pow(x, 4) / 4 - 2 * x;
    return pow(x, 3) - 2 * pow(x, 2) + x + 1 + pow(x, 4) / 8 - pow(x, 5) / 20 - pow(x, 2);
}

/* w = x/2: w^64 - w^-63 + w^70, d/dx = (64 w^63 + 63 w^-64 + 70 w^69) / 2 */
static double ref_bigpow(const double *in, double *g)
{
    double w = in[0] / 2;
    g[0] = (64 * pow(w, 63) + 63 * pow(w, -64) + 70 * pow(w, 69)) / 2;
    return pow(w, 64) - pow(w, -63) + pow(w, 70);
}

/* x^-2 + 3/x - x^-3 + 2^-x, d/dx = -2x^-3 - 3x^-2 + 3x^-4 - ln 2 * 2^-x */
static double ref_recip(const double *in, double *g)
{
    double x = in[0];
    g[0] = -2 / (x * x * x) - 3 / (x * x) + 3 / (x * x * x * x) - LN2 * exp2(-x);
    return 1 / (x * x) + 3 / x - 1 / (x * x * x) + exp2(-x);
}

/* d/dx = 0.5 x^-0.5 + 1.5 x^0.5 + x^-1.5 + x^(-2/3)/3 + 2.25 x^1.25 */
static double ref_fracpow(const double *in, double *g)
{
    double x = in[0];
    g[0] = 0.5 / sqrt(x) + 1.5 * sqrt(x) + 1 / (x * sqrt(x)) + 1 / (3 * cbrt(x * x)) +
           2.25 * pow(x, 1.25);
    return sqrt(x) + x * sqrt(x) - 2 / sqrt(x) + cbrt(x) + pow(x, 2.25);
}

/* x^y + y^x + 2.5^y + x^(y^2) + x^(y/2):
 * d/dx = y x^(y-1) + y^x ln y + y^2 x^(y^2-1) + (y/2) x^(y/2-1)
 * d/dy = x^y ln x + x y^(x-1) + 2.5^y ln 2.5 + 2y x^(y^2) ln x + x^(y/2) ln x / 2 */
static double ref_varpow(const double *in, double *g)
{
    double x = in[0], y = in[1], lx = log(x);
    g[0] = y * pow(x, y - 1) + pow(y, x) * log(y) + y * y * pow(x, y * y - 1) +
           y / 2 * pow(x, y / 2 - 1);
    g[1] = pow(x, y) * lx + x * pow(y, x - 1) + pow(2.5, y) * LN2_5 +
           2 * y * pow(x, y * y) * lx + pow(x, y / 2) * lx / 2;
    return pow(x, y) + pow(y, x) + pow(2.5, y) + pow(x, y * y) + pow(x, y / 2);
}

/* x^y for x > 0, or x = 0 and y > 1: d/dx = y x^(y-1); d/dy = x^y ln x for x > 0, and 0 at
 * x = 0, where 0^y = 0 for every y > 0 (not 0 * log(0) = NaN) */
static double ref_powzero(const double *in, double *g)
{
    double x = in[0], y = in[1];
    g[0] = y * pow(x, y - 1);
    g[1] = x == 0 ? 0 : pow(x, y) * log(x);
    return pow(x, y);
}

/* d/dx = cos x - 2 sin 2x + 1 / (3 cos^2(x/3)) + 1/sqrt(16 - x^2) - 1/sqrt(25 - x^2)
 *        + 3 / (1 + 9x^2) */
static double ref_trig(const double *in, double *g)
{
    double x = in[0], c3 = cos(x / 3);
    g[0] = cos(x) - 2 * sin(2 * x) + 1 / (3 * c3 * c3) + 1 / sqrt(16 - x * x) -
           1 / sqrt(25 - x * x) + 3 / (1 + 9 * x * x);
    return sin(x) + cos(2 * x) + tan(x / 3) + asin(x / 4) + acos(x / 5) + atan(3 * x);
}

/* d/dx = cosh x cosh(x/2) + sinh x sinh(x/2) / 2 - 2 tanh x / cosh^2 x
 *        - e^-x ln(x^2 + 1) + 2x e^-x / (x^2 + 1) + x / sqrt(x^2 + 2) + pi */
static double ref_hyper(const double *in, double *g)
{
    double x = in[0], ch = cosh(x);
    g[0] = ch * cosh(x / 2) + sinh(x) * sinh(x / 2) / 2 - 2 * tanh(x) / (ch * ch) -
           exp(-x) * log(x * x + 1) + 2 * x * exp(-x) / (x * x + 1) + x / sqrt(x * x + 2) +
           E2E_PI;
    return sinh(x) * cosh(x / 2) - tanh(x) * tanh(x) + exp(-x) * log(x * x + 1) +
           sqrt(x * x + 2) + E2E_PI * x;
}

/* atan2(y, x) + hypot(x, y) + m M + |x - 2y|, m = min(x, y), M = max(x^2, y):
 * d/dx = -y/r^2 + x/r + [x < y] M + [x^2 > y] 2x m + sign(x - 2y)
 * d/dy =  x/r^2 + y/r + [y < x] M + [y > x^2] m - 2 sign(x - 2y) */
static double ref_twoarg(const double *in, double *g)
{
    double x = in[0], y = in[1];
    double r2 = x * x + y * y, r = sqrt(r2);
    double m = x < y ? x : y, big = x * x > y ? x * x : y, s = sign(x - 2 * y);
    g[0] = -y / r2 + x / r + (x < y ? big : 0) + (x * x > y ? 2 * x * m : 0) + s;
    g[1] = x / r2 + y / r + (y < x ? big : 0) + (y > x * x ? m : 0) - 2 * s;
    return atan2(y, x) + r + m * big + fabs(x - 2 * y);
}

#define LN10 2.30258509299404568402
#define TWO_OVER_SQRT_PI 1.12837916709551257390

/* d/dx = 2/sqrt(1 + 4x^2) + 2x/sqrt((x^2 + 1.5)^2 - 1) + (1/3)/(1 - x^2/9) + e^(x/2)/2
 *        + 2x/(1 + x^2) + 2x/((x^2 + 1) ln 2) + 1/((3 + x) ln 10) + 1/(3 x^(2/3))
 *        + 2/sqrt(pi) (e^-x^2 + e^(-x^2/4)) */
static double ref_special(const double *in, double *g)
{
    double x = in[0], x2 = x * x, c = cbrt(x);
    g[0] = 2 / sqrt(1 + 4 * x2) + 2 * x / sqrt((x2 + 1.5) * (x2 + 1.5) - 1) +
           1 / (3 * (1 - x2 / 9)) + exp(x / 2) / 2 + 2 * x / (1 + x2) +
           2 * x / ((x2 + 1) * LN2) + 1 / ((3 + x) * LN10) + 1 / (3 * c * c) +
           TWO_OVER_SQRT_PI * (exp(-x2) + exp(-x2 / 4));
    return asinh(2 * x) + acosh(x2 + 1.5) + atanh(x / 3) + expm1(x / 2) + log1p(x2) +
           log2(x2 + 1) + log10(3 + x) + c + erf(x) - 2 * erfc(x / 2);
}

static double logistic(double t)
{
    return 1 / (1 + exp(-t)); /* 0 for t << 0, where exp(-t) is inf */
}

/* with a = x - y, s = sigmoid(xy), q = 2x - y:
 * d/dx = [a > 0] s + relu(a) s (1 - s) y + 2 sigmoid(q) + sign(y)
 * d/dy = -[a > 0] s + relu(a) s (1 - s) x - sigmoid(q) + floor(x) */
static double ref_neural(const double *in, double *g)
{
    double x = in[0], y = in[1], a = x - y, r = a > 0 ? a : 0, s = logistic(x * y);
    double q = 2 * x - y, softplus = q > 0 ? q + log1p(exp(-q)) : log1p(exp(q));
    g[0] = (a > 0) * s + r * s * (1 - s) * y + 2 * logistic(q) + sign(y);
    g[1] = -(a > 0) * s + r * s * (1 - s) * x - logistic(q) + floor(x);
    return r * s + softplus + sign(y) * x + floor(x) * y + ceil(y);
}

static double ref_unused(const double *in, double *g)
{
    g[0] = 0;
    g[1] = 3;
    g[2] = -0.5;
    return 3 * in[1] - in[2] / 2;
}

static double mixed_value(const double *in)
{
    double a = in[0], b = in[1], c = in[2];
    double s = a * b - c;
    double t = exp(-s * s / 2);
    double u = s / (1 + t);
    double v = log(fabs(c) + u * u);
    return u * t + v * sqrt(a * a + 1) - (s > t ? s : t) / (b < 3 ? b : 3) + atan(u) * cos(s);
}

/* Central differences of mixed_value (step: see cd_step in check.h). */
static double ref_mixed(const double *in, double *g)
{
    for (int i = 0; i < 3; i++) {
        double p[3] = {in[0], in[1], in[2]}, m[3] = {in[0], in[1], in[2]};
        double h = cd_step(in[i]);
        p[i] += h;
        m[i] -= h;
        g[i] = (mixed_value(p) - mixed_value(m)) / (p[i] - m[i]);
    }
    return mixed_value(in);
}

/* ---- adgen's functions behind one signature ------------------------------------------------ */

#define NAN3 {NAN, NAN, NAN} /* the _grad functions must overwrite every partial */

static double gen_arith(const double *in, double *g, int grad)
{
    return grad ? arith_grad(in[0], in[1], &g[0], &g[1]) : arith(in[0], in[1]);
}
static double gen_intpow(const double *in, double *g, int grad)
{
    return grad ? intpow_grad(in[0], &g[0]) : intpow(in[0]);
}
static double gen_bigpow(const double *in, double *g, int grad)
{
    return grad ? bigpow_grad(in[0], &g[0]) : bigpow(in[0]);
}
static double gen_recip(const double *in, double *g, int grad)
{
    return grad ? recip_grad(in[0], &g[0]) : recip(in[0]);
}
static double gen_fracpow(const double *in, double *g, int grad)
{
    return grad ? fracpow_grad(in[0], &g[0]) : fracpow(in[0]);
}
static double gen_varpow(const double *in, double *g, int grad)
{
    return grad ? varpow_grad(in[0], in[1], &g[0], &g[1]) : varpow(in[0], in[1]);
}
static double gen_powzero(const double *in, double *g, int grad)
{
    return grad ? powzero_grad(in[0], in[1], &g[0], &g[1]) : powzero(in[0], in[1]);
}
static double gen_trig(const double *in, double *g, int grad)
{
    return grad ? trig_grad(in[0], &g[0]) : trig(in[0]);
}
static double gen_hyper(const double *in, double *g, int grad)
{
    return grad ? hyper_grad(in[0], &g[0]) : hyper(in[0]);
}
static double gen_twoarg(const double *in, double *g, int grad)
{
    return grad ? twoarg_grad(in[0], in[1], &g[0], &g[1]) : twoarg(in[0], in[1]);
}
static double gen_special(const double *in, double *g, int grad)
{
    return grad ? special_grad(in[0], &g[0]) : special(in[0]);
}
static double gen_neural(const double *in, double *g, int grad)
{
    return grad ? neural_grad(in[0], in[1], &g[0], &g[1]) : neural(in[0], in[1]);
}
static double gen_unused(const double *in, double *g, int grad)
{
    return grad ? unused_grad(in[0], in[1], in[2], &g[0], &g[1], &g[2])
                : unused(in[0], in[1], in[2]);
}
static double gen_mixed(const double *in, double *g, int grad)
{
    return grad ? mixed_grad(in[0], in[1], in[2], &g[0], &g[1], &g[2])
                : mixed(in[0], in[1], in[2]);
}

typedef double (*GenFn)(const double *in, double *g, int grad);
typedef double (*RefFn)(const double *in, double *g);

/* Checks `name` at npts points of n inputs each (pts holds them row after row). */
static int run(const char *name, int n, const char *const *names, const double *pts, size_t npts,
               GenFn gen, RefFn ref, double gtol)
{
    Check c = check_begin(name, TOL_CLOSED, gtol);
    for (size_t i = 0; i < npts; i++) {
        const double *in = pts + i * (size_t)n;
        double g[3] = NAN3, r[3] = NAN3, scratch[3] = NAN3;
        double v = gen(in, g, 1);
        double rv = ref(in, r);
        check_point(&c, n, in, names, gen(in, scratch, 0), v, g, rv, r);
    }
    return check_end(&c);
}

#define RUN(name, n, pts, gtol) \
    run(#name, n, names##n, &pts[0][0], sizeof pts / sizeof pts[0], gen_##name, ref_##name, gtol)

int main(void)
{
    static const char *const names1[] = {"x"};
    static const char *const names2[] = {"x", "y"};
    static const char *const names3[] = {"x", "y", "z"};
    static const char *const mixed_names[] = {"a", "b", "c"};

    /* xy + 3 stays away from 0 */
    static const double arith_pts[][2] = {{1, 2},  {-1.5, 0.5}, {0, 0},     {3, -0.5},
                                          {-2, -4}, {10, 7},    {0.25, -8}, {-5, 0.5}};
    /* zero included: every term is a polynomial */
    static const double intpow_pts[][1] = {{-3}, {-1}, {-0.5}, {0}, {0.5}, {1}, {2.5}, {4}, {10}};
    static const double bigpow_pts[][1] = {{-2.5}, {-2.2}, {-1.9}, {-1.6}, {1.5},
                                           {1.8},  {2},    {2.1},  {2.4},  {2.6}};
    static const double recip_pts[][1] = {{-4}, {-1.5}, {-0.3}, {0.2}, {1}, {2.75}, {10}};
    static const double fracpow_pts[][1] = {{0.01}, {0.3}, {1}, {2}, {7.5}, {100}};
    static const double varpow_pts[][2] = {{0.5, 1.5}, {2, 0.25}, {1, 3},   {3.5, 1.2},
                                           {0.1, 2.5}, {1.7, 0.8}, {5, 2},  {0.8, 0.4}};
    /* the zero base, and control points inside the domain */
    static const double powzero_pts[][2] = {{0, 2.5}, {0, 3},   {0, 1.5},
                                            {2, 0.5}, {0.5, 3}, {4, -1.5}};
    /* |x| < 4 for asin(x/4); tan(x/3) stays finite */
    static const double trig_pts[][1] = {{-3.9}, {-2}, {-0.6}, {0}, {0.45}, {1.3}, {3}, {3.95}};
    static const double hyper_pts[][1] = {{-6}, {-2.5}, {-0.7}, {0}, {0.4}, {1.8}, {5}, {9}};
    /* away from x = y, x^2 = y, x = 2y, the origin and the atan2 cut y = 0, x < 0 */
    static const double twoarg_pts[][2] = {{1.5, 0.5}, {-2, 1}, {-0.5, -3}, {3, -1},
                                           {0.3, 2},   {2, 5},  {0, 1},     {-1, -0.2}};
    static const double special_pts[][1] = {{-2.5}, {-1.2}, {-0.3}, {0.4}, {1.1}, {2.7}};
    /* away from x = y, y = 0 and integers; the last two where exp(-xy) and exp(2x - y)
     * overflow in the naive forms */
    static const double neural_pts[][2] = {{1.5, 0.5},  {-0.7, 1.3},   {2.3, -1.6},
                                           {0.2, 2.6},  {-1.4, -0.45}, {3.7, 2.2},
                                           {40.5, -30.5}, {-800.5, 2.5}};
    static const double unused_pts[][3] = {{1, 2, 3}, {-4, 0, 7.5}, {0, -1, 0}};
    /* away from s = t, b = 3 and c = 0 by far more than the difference step. The last point
     * is the hardest for central differences: log(|c| + u^2) at c = 0.05 has a third
     * derivative near 2 / c^3 = 1.6e4, a truncation error near 1e-7 absolute, 5e-9 relative
     * to d/dc = 19.5 (1e-11 to 1e-9 at the other points) */
    static const double mixed_pts[][3] = {{1, 2, 0.5},     {-0.7, 1.3, -1.2}, {2.5, 4, 3},
                                          {0.4, -2, 1.1},  {-1.5, 0.6, -2.4}, {3, 3.5, -0.3},
                                          {0.1, 0.2, 0.05}};

    int failed = 0;
    failed |= RUN(arith, 2, arith_pts, TOL_CLOSED);
    failed |= RUN(intpow, 1, intpow_pts, TOL_CLOSED);
    failed |= RUN(bigpow, 1, bigpow_pts, TOL_CLOSED);
    failed |= RUN(recip, 1, recip_pts, TOL_CLOSED);
    failed |= RUN(fracpow, 1, fracpow_pts, TOL_CLOSED);
    failed |= RUN(varpow, 2, varpow_pts, TOL_CLOSED);
    failed |= RUN(powzero, 2, powzero_pts, TOL_CLOSED);
    failed |= RUN(trig, 1, trig_pts, TOL_CLOSED);
    failed |= RUN(hyper, 1, hyper_pts, TOL_CLOSED);
    failed |= RUN(twoarg, 2, twoarg_pts, TOL_CLOSED);
    failed |= RUN(special, 1, special_pts, TOL_CLOSED);
    failed |= RUN(neural, 2, neural_pts, TOL_CLOSED);
    failed |= RUN(unused, 3, unused_pts, TOL_CLOSED);
    failed |= run("mixed", 3, mixed_names, &mixed_pts[0][0],
                  sizeof mixed_pts / sizeof mixed_pts[0], gen_mixed, ref_mixed, TOL_CD);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
