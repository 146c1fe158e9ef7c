/*
 * test_kept.c: loops kept as C loops over sizes known only at run time (issue 13). Each model
 * below has a size that is not a constant; adgen writes its kept entry points once (grad, jvp,
 * vjp and hvp, and again with --accumulate), and per size K the same file with -D SIZE=K,
 * unrolled as before, under a prefix of its own: the independent reference. One driver
 * #includes all that C (so gcc and clang compile every generated line at -std=c99 -pedantic
 * -Werror -Wvla) and checks, at three random points and directions per size:
 *   - the kept value, gradient, jvp, vjp and hvp against the unrolled ones at n = 1, 2, 3, 7, to
 *     rounding (relative 1e-12 of the larger of the value and the magnitude of the vector
 *     compared, or of the terms a jvp sums);
 *   - at the sizes the unrolled form cannot have (n = 0: an array has at least one element;
 *     a range that reverses) against the model's closed form: an empty sum is 0, 0/0 is NaN;
 *   - each entry's value is the value function's, bit for bit; jvp = <grad, v> where the
 *     value is finite; vjp = u grad; a gradient overwrites its output, and with --accumulate
 *     adds to what the caller's x_bar held (run-time arrays included).
 * The kept C has no allocation (no malloc, alloca or variable-length array) and keeps its
 * loops; it is generated once, whatever n, and called at every n. A second driver, of the
 * kept code only, runs under ASan and UBSan at n = 0, 1 and 100000 with every array malloc'ed
 * to exactly its size, so that a read past an end is caught; there it checks the closed form
 * at 0, finite results and the modes against each other elsewhere. The kept code alone is
 * also compiled at -O1 and as C++, and in float (--real=float). The three compilations run
 * at once. Errors of kept loops are golden files in tests/errors (runtime_*.expr); the modes
 * a kept function lacks, and the commands that need the sizes (eval, --explain, ...) are
 * checked here.
 *
 * A recurrence's grad and vjp take a work array, malloc'ed to exactly NAME_WORK(sizes)
 * doubles (the header's macro), as does every entry point of a definition with a trajectory
 * (a recurrence's states read at every step, a sum per step's sums).
 */
#include "testutil.h"

#include <ctype.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT "build/tests/kept"
#define STRICT "-std=c99 -Wall -Wextra -pedantic -Werror -Wvla"
#define GCC "gcc " STRICT
#define CLANG "clang " STRICT " -fsyntax-only"
#define GXX "g++ -x c++ -Wall -Wextra -pedantic -Werror -fsyntax-only"
#define SAN "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

typedef struct {
    const char *name; /* the function checked, and the stem of its files */
    const char *src;
    /* C statements: at the sizes below kmin, the value want_v, the gradient want_g_NAME[k]
     * and the Hessian times the direction d_NAME, want_hv_NAME[k] (all 0 before them), from
     * the inputs p_NAME[k]; a NaN value skips the derivatives */
    const char *closed;
    int kmin;     /* the least size the unrolled form has (1 unless a range reverses) */
    int rec;         /* recurrences: grad, vjp and hvp take a work array (hvp's closed form
                        is not written: the unrolled form checks it); with one, the
                        checkpointed variants too */
    int traj;        /* a recurrence's states read at every step after its loop: every entry
                        point takes the work array, and there is no checkpointed variant */
    int nested;      /* a sum per step: its time is the product of two sizes, so that the
                        sanitizers' large size is NESTED_LARGE */
} Model;

static const Model models[] = {
    {"logistic",
     "# logistic regression: a map inlined in a kept sum, its mean\n"
     "logistic(w[3], b; X[N][3], y[N]) {\n"
     "    for n = 0..N-1 {\n"
     "        z = sum(j = 0..2, w[j]*X[n][j]) + b\n"
     "        loss[n] = max(z, 0) + log(1 + exp(-abs(z))) - y[n]*z\n"
     "    }\n"
     "    return sum(n = 0..N-1, loss[n]) / N\n"
     "}\n",
     "want_v = NAN; /* 0/0 */", 1, 0, 0, 0},
    {"lsq", "# least squares: a differentiated run-time array\n"
            "lsq(x[n]; a[n]) = sum(i = 0..n-1, (x[i] - a[i])^2)\n",
     "want_v = 0;", 1, 0, 0, 0},
    {"rosen", "# Rosenbrock: x[i+1], a range ending at n-2\n"
              "rosen(x[n]) = sum(i = 0..n-2, 100*(x[i+1] - x[i]^2)^2 + (1 - x[i])^2)\n",
     "want_v = 0;", 1, 0, 0, 0},
    {"net",
     "# a 3-4-1 network over n data points: a two-dimensional map, an inner constant loop\n"
     "net(W[4][3], c[4], v[4]; X[n][3], y[n]) {\n"
     "    for i = 0..n-1 {\n"
     "        for j = 0..3 {\n"
     "            h[i][j] = tanh(sum(k = 0..2, W[j][k]*X[i][k]) + c[j])\n"
     "        }\n"
     "    }\n"
     "    return sum(i = 0..n-1, (sum(j = 0..3, v[j]*h[i][j]) - y[i])^2) +\n"
     "        sum(j = 0..3, v[j]^2)/2\n"
     "}\n",
     "for (int j = 0; j < 4; j++) {\n"
     "                want_v += p_v[j] * p_v[j] / 2;\n"
     "                want_g_v[j] = p_v[j];\n"
     "                want_hv_v[j] = d_v[j];\n"
     "            }",
     1, 0, 0, 0},
    {"net2",
     "# a 3-4-1 network over n data points: a two-dimensional map, an inner constant loop\n"
     "# (the inner sum's variable q: see 'net')\n"
     "net2(W[4][3], c[4], v[4]; X[n][3], y[n]) {\n"
     "    for i = 0..n-1 {\n"
     "        for j = 0..3 {\n"
     "            h[i][j] = tanh(sum(k = 0..2, W[j][k]*X[i][k]) + c[j])\n"
     "        }\n"
     "    }\n"
     "    return sum(i = 0..n-1, (sum(q = 0..3, v[q]*h[i][q]) - y[i])^2) +\n"
     "        sum(j = 0..3, v[j]^2)/2\n"
     "}\n",
     "for (int j = 0; j < 4; j++) {\n"
     "                want_v += p_v[j] * p_v[j] / 2;\n"
     "                want_g_v[j] = p_v[j];\n"
     "                want_hv_v[j] = d_v[j];\n"
     "            }",
     1, 0, 0, 0},
    {"var",
     "# mean, then variance: a kept sum that reads an earlier one\n"
     "var(x[n]) {\n"
     "    m = sum(i = 0..n-1, x[i])/n\n"
     "    return sum(i = 0..n-1, (x[i] - m)^2)/n\n"
     "}\n",
     "want_v = NAN; /* 0/0 */", 1, 0, 0, 0},
    {"wsum", "# the loop variable as a number\n"
             "wsum(x[n], b) = b^2 + sum(i = 0..n-1, i*x[i]*b + cos(i*b)/(i + 1))\n",
     "want_v = p_b[0] * p_b[0];\n"
     "            want_g_b[0] = 2 * p_b[0];\n"
     "            want_hv_b[0] = 2 * d_b[0];", 1, 0, 0, 0},
    {"rev", "# reversed indexing\n"
            "rev(x[n]; a[n]) = sum(i = 0..n-1, a[i]*x[n-1-i]^2 + x[i]*x[n-1-i])\n",
     "want_v = 0;", 1, 0, 0, 0},
    {"cst", "# a summand that does not depend on the index (and data never read)\n"
            "cst(b; y[n]) = b^2 + sum(i = 0..n-1, sin(b)*b)\n",
     "want_v = p_b[0] * p_b[0];\n"
     "            want_g_b[0] = 2 * p_b[0];\n"
     "            want_hv_b[0] = 2 * d_b[0];", 1, 0, 0, 0},
    {"cst2", "# a summand that does not depend on the index, but reads an array at n-1\n"
             "cst2(b, x[n]) = b^2 + sum(i = 0..n-1, b*x[n-1])\n",
     "want_v = p_b[0] * p_b[0];\n"
     "            want_g_b[0] = 2 * p_b[0];\n"
     "            want_hv_b[0] = 2 * d_b[0];", 1, 0, 0, 0},
    {"lse", "# a function of a kept sum\n"
            "lse(x[n], b) = b^2 + log(1 + sum(i = 0..n-1, exp(b*x[i])))\n",
     "want_v = p_b[0] * p_b[0];\n"
     "            want_g_b[0] = 2 * p_b[0];\n"
     "            want_hv_b[0] = 2 * d_b[0];", 1, 0, 0, 0},
    {"pair", "# two sizes: they come first, in the order the head names them (m, then n)\n"
             "pair(a, x[m]; y[n]) = a^2 + sum(i = 0..m-1, a*x[i]^2) +\n"
             "    sum(j = 0..n-1, sin(a*y[j]))\n",
     "want_v = p_a[0] * p_a[0];\n"
     "            want_g_a[0] = 2 * p_a[0];\n"
     "            want_hv_a[0] = 2 * d_a[0];", 1, 0, 0, 0},
    {"huber", "# a branch in the summand, a data scalar\n"
              "huber(r[n]; d) = sum(i = 0..n-1, if(abs(r[i]) <= d, r[i]^2/2, "
              "d*(abs(r[i]) - d/2)))\n",
     "want_v = 0;", 1, 0, 0, 0},
    {"callee", "# a call in the summand, a constant of the file\n"
               "c0 = 0.25\n"
               "sq(u) = u*u\n"
               "callee(x[n], b) = sum(i = 0..n-1, sq(x[i] - b)*c0)\n",
     "want_v = 0;", 1, 0, 0, 0},
    {"shift", "# a map read at i and i+1\n"
              "shift(x[n]; a[n]) {\n"
              "    for i = 0..n-1 {\n"
              "        r[i] = x[i] - a[i]\n"
              "    }\n"
              "    return sum(i = 0..n-2, r[i]*r[i+1])\n"
              "}\n",
     "want_v = 0;", 1, 0, 0, 0},
    {"prod2", "# a product of two kept sums; a range 1..n; the size and the loop variable as\n"
              "# numbers, the latter in a condition\n"
              "prod2(x[n], y[n], b) = b^2 + sum(i = 1..n, x[i-1]*n) *\n"
              "    sum(i = 0..n-1, y[i]/n + if(i < 2, x[i], b))\n",
     "want_v = p_b[0] * p_b[0];\n"
     "            want_g_b[0] = 2 * p_b[0];\n"
     "            want_hv_b[0] = 2 * d_b[0];", 1, 0, 0, 0},
    {"maps2", "# two maps, one of the other, read at i and i-1\n"
              "maps2(x[n], b) {\n"
              "    for i = 0..n-1 {\n"
              "        r[i] = x[i]*b\n"
              "        s[i] = sin(r[i])\n"
              "    }\n"
              "    return b^2 + sum(i = 1..n-1, r[i-1]*s[i] + s[i-1])\n"
              "}\n",
     "want_v = p_b[0] * p_b[0];\n"
     "            want_g_b[0] = 2 * p_b[0];\n"
     "            want_hv_b[0] = 2 * d_b[0];", 1, 0, 0, 0},
    {"softmean", "# a kept sum divided by another (read after the loop, not in it)\n"
                 "softmean(x[n], b) {\n"
                 "    q = sum(i = 0..n-1, exp(x[i]*b))\n"
                 "    return b^2 + sum(i = 0..n-1, x[i]*exp(x[i]*b))/q\n"
                 "}\n",
     "want_v = NAN; /* 0/0 */", 1, 0, 0, 0},
    {"edges", "# indices in bounds only where the loop runs: a range from -1, x[0], x[1]\n"
              "edges(x[n], b) = b^2 + sum(i = -1..n-2, x[i+1]*x[0]*b) +\n"
              "    sum(i = 0..n-2, x[i]*x[1])\n",
     "want_v = p_b[0] * p_b[0];\n"
     "            want_g_b[0] = 2 * p_b[0];\n"
     "            want_hv_b[0] = 2 * d_b[0];", 1, 0, 0, 0},
    {"chain", "# a recurrence over a run-time range, reading data (grad and vjp take a work\n"
              "# array of CHAIN_WORK(n) doubles)\n"
              "chain(x0, h; c[n]) {\n"
              "    x[0] = x0\n"
              "    for k = 0..n-1 { x[k+1] = x[k] + 0.1*h*sin(x[k])*cos(x[k] + c[k]) }\n"
              "    return x[n]\n"
              "}\n",
     "want_v = p_x0[0];\n"
     "            want_g_x0[0] = 1;",
     1, 1, 0, 0},
    {"affine", "# a recurrence that reads a value of the function (issue 24, A, halved to stay\n"
               "# finite at large n: the reverse loop added a's term after it had moved the\n"
               "# state's adjoint back a step)\n"
               "affine(a; y[n]) {\n"
               "    s[0] = 0\n"
               "    for k = 0..n-1 { s[k+1] = s[k]/2 + a }\n"
               "    return s[n]\n"
               "}\n",
     "want_v = 0;", 1, 1, 0, 0},
    {"hold", "# a state that is the value read, whatever the last one\n"
             "hold(a, b; y[n]) {\n"
             "    s[0] = b\n"
             "    for k = 0..n-1 { s[k+1] = a }\n"
             "    return s[n] + a*b\n"
             "}\n",
     "want_v = p_b[0] + p_a[0] * p_b[0];\n"
     "            want_g_a[0] = p_b[0];\n"
     "            want_g_b[0] = 1 + p_a[0];", 1, 1, 0, 0},
    {"floors", "# a state whose adjoint is zero (issue 24, B: set but not used)\n"
               "floors(x[n]) {\n"
               "    s[0] = 0\n"
               "    for k = 0..n-1 { s[k+1] = floor(x[k]) }\n"
               "    return s[n]\n"
               "}\n",
     "want_v = 0;", 1, 1, 0, 0},
    {"trade", "# states that take each other's old values, one through a product\n"
              "trade(a, b, c; d[n]) {\n"
              "    x[0] = a\n"
              "    y[0] = b\n"
              "    for k = 0..n-1 {\n"
              "        x[k+1] = y[k]\n"
              "        y[k+1] = x[k]*c\n"
              "    }\n"
              "    return x[n] + 3*y[n]\n"
              "}\n",
     "want_v = p_a[0] + 3 * p_b[0];\n"
     "            want_g_a[0] = 1;\n"
     "            want_g_b[0] = 3;", 1, 1, 0, 0},
    {"swap", "# states that swap values (a cycle of plain copies), and a third in a chain\n"
             "swap(a, b, c; d[n]) {\n"
             "    x[0] = a\n"
             "    y[0] = b\n"
             "    z[0] = c\n"
             "    for k = 0..n-1 {\n"
             "        x[k+1] = y[k]\n"
             "        y[k+1] = x[k]\n"
             "        z[k+1] = y[k]*d[k] + z[k]\n"
             "    }\n"
             "    return x[n] + 3*y[n] + 5*z[n]\n"
             "}\n",
     "want_v = p_a[0] + 3 * p_b[0] + 5 * p_c[0];\n"
     "            want_g_a[0] = 1;\n"
     "            want_g_b[0] = 3;\n"
     "            want_g_c[0] = 5;", 1, 1, 0, 0},
    {"seq", "# two recurrences one after the other, the second from the first's last state\n"
            "seq(a, b; d[n]) {\n"
            "    x[0] = a\n"
            "    for k = 0..n-1 { x[k+1] = x[k] + 0.1*sin(x[k]*b + d[k]) }\n"
            "    y[0] = x[n]*b\n"
            "    for j = 0..n-1 { y[j+1] = y[j]*cos(a) + 0.2*tanh(y[j]) }\n"
            "    return y[n] + x[n]^2\n"
            "}\n",
     "want_v = p_a[0] * p_b[0] + p_a[0] * p_a[0];\n"
     "            want_g_a[0] = p_b[0] + 2 * p_a[0];\n"
     "            want_g_b[0] = p_a[0];", 1, 2, 0, 0},
    {"multi", "# a recurrence in a loop of a constant range, lowered again for each i: three\n"
              "# recurrences over one array's columns, each from its own first element\n"
              "multi(k, y0[3], c[3]; u[T]) {\n"
              "    for i = 0..2 {\n"
              "        x[0][i] = y0[i]\n"
              "        for t = 0..T-1 { x[t+1][i] = x[t][i] + 0.1*(u[t] - k*c[i]*sin(x[t][i])) }\n"
              "    }\n"
              "    return sum(i = 0..2, (x[T][i] - 0.5)^2)\n"
              "}\n",
     "want_v = 0;\n"
     "            for (int i = 0; i < 3; i++) {\n"
     "                want_v += (p_y0[i] - 0.5) * (p_y0[i] - 0.5);\n"
     "                want_g_y0[i] = 2 * (p_y0[i] - 0.5);\n"
     "            }", 1, 3, 0, 0},
    {"unread", "# a state whose last value is not read (its adjoint's seed is 0) but whose\n"
               "# adjoint the loop carries into the one read\n"
               "unread(a, b; d[n]) {\n"
               "    x[0] = a\n"
               "    y[0] = b\n"
               "    for k = 0..n-1 {\n"
               "        x[k+1] = 0.5*y[k]*sin(a)\n"
               "        y[k+1] = 0.5*x[k] + 0.25*y[k]\n"
               "    }\n"
               "    return x[n]\n"
               "}\n",
     "want_v = p_a[0];\n"
     "            want_g_a[0] = 1;", 1, 1, 0, 0},
    {"pick", "# a result that reads one state or the other by a condition: the seed of the\n"
             "# other is a strong zero, until the reverse loop adds a term into it (the flag\n"
             "# of it the loop carries; a flag fixed at the seed's lost those terms)\n"
             "pick(a, b; c[n]) {\n"
             "    x[0] = a\n"
             "    y[0] = 1\n"
             "    for k = 0..n-1 {\n"
             "        x[k+1] = 0.5*x[k] + 0.25*y[k]*b\n"
             "        y[k+1] = 0.5*y[k] + 0.25*x[k]*c[k]\n"
             "    }\n"
             "    return if(b > 0, y[n], x[n])\n"
             "}\n",
     "want_v = p_b[0] > 0 ? 1 : p_a[0];\n"
     "            want_g_a[0] = p_b[0] > 0 ? 0 : 1;", 1, 1, 0, 0},
    {"dead", "# a state nothing reads, whose first value has an infinite partial times 0 (NaN\n"
             "# where an adjoint reaches it): its adjoint is a strong zero through the loop\n"
             "dead(a, b; c[n]) {\n"
             "    x[0] = a\n"
             "    v[0] = sqrt(abs(b) - abs(b))\n"
             "    for k = 0..n-1 {\n"
             "        x[k+1] = 0.5*x[k]*sin(b) + c[k]\n"
             "        v[k+1] = c[k]*x[k] + v[k]\n"
             "    }\n"
             "    return x[n]\n"
             "}\n",
     "want_v = p_a[0];\n"
     "            want_g_a[0] = 1;", 1, 1, 0, 0},
    {"reads", "# a recurrence reading a value of the function twice and a hoisted one\n"
              "reads(a, x0; c[n]) {\n"
              "    s[0] = x0\n"
              "    for k = 0..n-1 { s[k+1] = sin(s[k]*a) + a*c[k] + a^2 }\n"
              "    return s[n]\n"
              "}\n",
     "want_v = p_x0[0];\n"
     "            want_g_x0[0] = 1;", 1, 1, 0, 0},
    {"diff2", "# a stencil: a range from 1, x[i-1] and x[i+1] (empty up to n = 2)\n"
              "diff2(x[n]) = sum(i = 1..n-2, (x[i-1] - 2*x[i] + x[i+1])^2)\n",
     "want_v = 0;", 2, 0, 0, 0},
    {"select", "# a summand that selects a number or an input: the adjoint of x[i] is a zero\n"
               "# adgen drops (it read past its outputs when choosing which to keep)\n"
               "select(q, x[n]; y[n]) = sum(i = 0..n-1, if(y[i] == x[i], 1, q))\n",
     "want_v = 0;", 1, 0, 0, 0},
    {"calls", "# definitions called with run-time arrays: a map passed to a helper that sums\n"
              "# it, a recurrence over a size passed on, a sum over a data array\n"
              "inline sq(u) = u*u\n"
              "inline sumsq(v[m]) = sum(i = 0..m-1, sq(v[i]))\n"
              "walk(x0, h; c[m]) {\n"
              "    x[0] = x0\n"
              "    for k = 0..m-1 { x[k+1] = x[k] + 0.1*h*sin(x[k]) + 0.01*c[k] }\n"
              "    return x[m]\n"
              "}\n"
              "calls(p, q; t[n], y[n]) {\n"
              "    for i = 0..n-1 { r[i] = p*exp(-q*t[i]) - y[i] }\n"
              "    return sumsq(r) + walk(p, q, y) + sumsq(t)*q\n"
              "}\n",
     "want_v = p_p[0];\n"
     "            want_g_p[0] = 1;", 1, 1, 0, 0},
    {"vcall", "# a definition of two values called in kept loops (d = dyn(...)): its values\n"
              "# are the iteration's own (they were taken for the function's: wrong numbers)\n"
              "inline dyn(x, v, u) = [v, -sin(x) - 0.1*v + u]\n"
              "vcall(x0, u[n]; h) {\n"
              "    x[0] = x0\n"
              "    v[0] = 0\n"
              "    for k = 0..n-1 {\n"
              "        d = dyn(x[k], v[k], u[k])\n"
              "        x[k+1] = x[k] + 0.01*tanh(h*d[0])\n"
              "        v[k+1] = 0.9*v[k] + 0.01*tanh(d[1])\n"
              "    }\n"
              "    for i = 0..n-1 {\n"
              "        e = dyn(u[i], x0, h)\n"
              "        r[i] = e[1]*u[i]\n"
              "    }\n"
              "    return (x[n] - 3)^2 + v[n]^2 + 0.01*sum(k = 0..n-1, r[k]^2)\n"
              "}\n",
     "want_v = (p_x0[0] - 3) * (p_x0[0] - 3);\n"
     "            want_g_x0[0] = 2 * (p_x0[0] - 3);", 1, 1, 0, 0},
    {"prod1", "# a product from 1: at n = 0 its range is reversed when it runs, and empty\n"
              "prod1(x[n]) = prod(i = 1..n-1, 1 + 0.1*x[i]*x[i-1])\n",
     "want_v = 1;", 1, 1, 0, 0},
    {"pzero", "# a product whose adjoints are all zero (sign'): its checkpointed variant saves\n"
              "# states no reverse pass reads (a static helper was left unused: -Werror); its\n"
              "# factors near 1, so that 100000 of them stay finite whatever the point\n"
              "pzero(p; y[n]) = p*prod(i = 0..n-1, 1 + 0.001*tanh(sign(p) + y[i]))\n",
     "want_v = p_p[0];\n"
     "            want_g_p[0] = 1;", 1, 1, 0, 0},
    {"xent", "# softmax cross-entropy over a run-time number of classes: a sum inside a kept\n"
             "# sum that reads none of its values (an inline log-sum-exp), kept before it\n"
             "inline lse(z[m]) = log(sum(j = 0..m-1, exp(z[j])))\n"
             "xent(z[n]; y[n]) = -sum(i = 0..n-1, y[i]*(z[i] - lse(z))) +\n"
             "    sum(i = 0..n-1, z[i]*sum(j = 0..n-1, 0.01*z[j]^2))\n",
     "want_v = 0;", 1, 0, 0, 0},
    {"devw", "# a call's sum over a run-time range inside a kept sum, given a value the sum\n"
             "# captured (w): kept before it\n"
             "inline dev(v[m], c) = sum(i = 0..m-1, (v[i] - c)^2)\n"
             "devw(x[n], w) = sum(i = 0..n-1, x[i]*dev(x, w)) + w^2\n",
     "want_v = p_w[0] * p_w[0];\n"
     "            want_g_w[0] = 2 * p_w[0];\n"
     "            want_hv_w[0] = 2 * d_w[0];", 1, 0, 0, 0},
    {"hmap", "# a sum taken out of a kept loop reading a map whose iteration has a scalar of its\n"
             "# own (its node was taken for one of the outer loop's captures: wrong numbers)\n"
             "hmap(x[n]; w) {\n"
             "    for j = 0..n-1 {\n        a = x[j]\n        q[j] = a*a + 1\n    }\n"
             "    return sum(i = 0..n-1, w*x[i]*sum(j = 0..n-1, q[j]))\n}\n",
     "want_v = 0;", 1, 0, 0, 0},
    {"hnest", "# sums taken out of loops inside one another, a call's argument read two loops\n"
              "# out (it was read in the wrong loop's DAG)\n"
              "inline sq(u) = u*u\n"
              "inline mid(v[m], w, a) = sum(j = 0..m-1, a*v[j]*sum(k = 0..m-1, sq(v[k] - w)))\n"
              "hnest(x[n]; w, a) = sum(i = 0..n-1, mid(x, w, a)*x[i])\n",
     "want_v = 0;", 1, 0, 0, 0},
    {"twomaps", "# two calls of one definition returning a map, read in one loop\n"
                "con(v[m]) {\n    for i = 0..m-1 { r[i] = v[i]^2 + 0.5*v[i] }\n    return r\n}\n"
                "twomaps(x[n], y[n]) {\n    c = con(x)\n    d = con(y)\n"
                "    return sum(i = 0..n-1, c[i]*d[i])\n}\n",
     "want_v = 0;", 1, 0, 0, 0},
    {"hoistp", "# a product over a run-time range inside a kept sum, reading none of its values\n"
               "hoistp(x[n]; c) = sum(i = 0..n-1, x[i]*prod(j = 0..n-1, 1 + 0.1*c*tanh(x[j])))\n",
     "want_v = 0;", 1, 1, 0, 0},
    {"hloc", "# a normalisation reading locals of the loop's body that do not change with the\n"
             "# step (they were taken for the iteration's: refused)\n"
             "hloc(x[n], sigma) {\n"
             "    for i = 0..n-1 {\n"
             "        s2 = sigma^2\n"
             "        s4 = s2*s2 + 1\n"
             "        p[i] = exp(-x[i]^2/s2)*s4/sum(j = 0..n-1, exp(-x[j]^2/s4) + s2)\n"
             "    }\n"
             "    return sum(i = 0..n-1, p[i]*x[i])\n}\n",
     "want_v = 0;", 1, 0, 0, 0},
    {"hcall", "# a call's sum over a whole array inside a kept sum, given an expression of\n"
              "# values the sum captured (2*s)\n"
              "inline norm(v[m], c) = sum(j = 0..m-1, (v[j]*c)^2)\n"
              "hcall(x[n], s) = sum(i = 0..n-1, x[i]/(1 + norm(x, 2*s)))\n",
     "want_v = 0;", 1, 0, 0, 0},
    {"lsm", "# log-softmax cross-entropy: the logits a map that the sum reads and the sum\n"
            "# inside it reads too (it lowers the map's iterations again); the square keeps the\n"
            "# gradient at n = 1, where the rest cancels, from being all rounding\n"
            "lsm(w[2]; X[n][2], y[n]) {\n"
            "    for c = 0..n-1 { z[c] = w[0]*X[c][0] + w[1]*X[c][1]*X[c][0] }\n"
            "    return 0.01*sum(c = 0..n-1, z[c]^2)\n"
            "           - sum(c = 0..n-1, y[c]*(z[c] - log(sum(k = 0..n-1, exp(z[k])))))\n}\n",
     "want_v = 0;", 1, 0, 0, 0},
    {"hvpord", "# a sum the same at every step beside another sum: hvp's tangent loop of the\n"
               "# first read values printed after it (the plan stopped when the runs read as\n"
               "# many values as before, not the same ones)\n"
               "hvpord(p[2]; y[n]) {\n"
               "    for i = 0..n-1 { h[i] = 1.5/(2 + cos(p[1])) }\n"
               "    s1 = sum(i = 0..n-1, max(0.75, sinh(h[i])))\n"
               "    s2 = sum(i = 0..n-1, y[i]*p[0]/(2 + cos(p[0])))\n"
               "    return 2^sin(1.5/(1 + s1^2)) + s1 - s2\n}\n",
     "want_v = pow(2, sin(1.5));", 1, 0, 0, 0},
    {"prodx", "# a product over a run-time range (a recurrence of one state), the loop\n"
              "# variable as a number in its factors\n"
              "prodx(a, x[n]; c[n]) = a*prod(i = 0..n-1, 1 + 0.1*x[i]*c[i] + 0.05*sin(a*i))\n",
     "want_v = p_a[0];\n"
     "            want_g_a[0] = 1;", 1, 1, 0, 0},
    {"traj", "# an ODE fitted to observations after every step: a sum over the trajectory\n"
             "# (x[k+1] for k = 0..n-1), beside the first and last states\n"
             "traj(a, x0; obs[n]) {\n"
             "    x[0] = x0\n"
             "    for k = 0..n-1 { x[k+1] = x[k] + 0.1*sin(a*x[k]) }\n"
             "    return sum(k = 0..n-1, (x[k+1] - obs[k])^2) + x[0]*x[n]\n"
             "}\n",
     "want_v = p_x0[0] * p_x0[0];\n"
     "            want_g_x0[0] = 2 * p_x0[0];", 1, 1, 1, 0},
    {"traj2", "# two states' trajectories read at two offsets, one by a second recurrence\n"
              "# that starts from a sum over the other\n"
              "traj2(a, b; d[n]) {\n"
              "    x[0] = a\n"
              "    v[0] = b\n"
              "    for k = 0..n-1 {\n"
              "        x[k+1] = x[k] + 0.1*v[k]\n"
              "        v[k+1] = v[k] - 0.1*sin(x[k]) + 0.01*d[k]\n"
              "    }\n"
              "    s = sum(k = 0..n-1, x[k]*x[k+1]*d[k])\n"
              "    y[0] = s\n"
              "    for j = 0..n-1 { y[j+1] = 0.5*y[j] + v[j+1]*a }\n"
              "    return y[n] + s + v[n]\n"
              "}\n",
     "want_v = p_b[0];\n"
     "            want_g_b[0] = 1;", 1, 2, 1, 0},
    {"ctl", "# an optimal control's objective: states X[n][2] (a row a step) beside controls u[n]\n"
            "# (an element a step), so that hess-sparse colours arrays read at different steps\n"
            "ctl(X[n][2], u[n]; h) = sum(i = 0..n-2, (X[i+1][0] - X[i][0] - h*X[i][1])^2 +\n"
            "    (X[i+1][1] - X[i][1] - h*sin(X[i][0])*u[i])^2) + sum(i = 0..n-1, u[i]^2*X[i][1])\n",
     "want_v = 0;", 1, 0, 0, 0},
    {"scope",
     "# a sum's variable named like a scalar of the map it reads: the map's statements see\n"
     "# the map's scope\n"
     "scope(w; X[N]) {\n"
     "    for n = 0..N-1 {\n"
     "        z = w*X[n]\n"
     "        loss[n] = z^2\n"
     "    }\n"
     "    return sum(z = 0..N-1, loss[z])\n"
     "}\n",
     "want_v = 0;", 1, 0, 0, 0},
    {"ratio", "# a sum scaled by a sum over the data: hess-sparse's terms' seed is a kept\n"
              "# loop's result (computed before the terms' Hessians are added up)\n"
              "ratio(x[n]; c[n]) =\n"
              "    sum(i = 0..n-2, x[i]^2*x[i+1] + x[i+1]^3) / sum(i = 0..n-1, c[i]^2 + 1)\n",
     "want_v = NAN; /* 0/0 */", 1, 0, 0, 0},
    {"gmm", "# a sum over a run-time range inside a kept sum's iteration, reading it (a sum per\n"
            "# step): a Gaussian mixture's log-likelihood, log-sum-exp over K centres per point\n"
            "gmm(mu[K], s; x[N]) = sum(i = 0..N-1, log(sum(k = 0..K-1, exp(-(x[i] - mu[k])^2 / s))))\n",
     "want_v = 0;", 1, 1, 1, 1},
    {"pmap", "# a sum per step in a map's iteration, reading the step's local, its variable as a\n"
             "# number and a size\n"
             "pmap(a, b; z[P], y[T]) {\n"
             "    for t = 0..T-1 {\n"
             "        u = a*y[t] + b*t\n"
             "        r[t] = sum(p = 0..P-1, (u - z[p])^2) / (1 + P)\n"
             "    }\n"
             "    return sum(t = 0..T-1, sqrt(1 + r[t]))\n"
             "}\n",
     "want_v = 0;", 1, 1, 1, 1},
    {"pstep", "# a sum per step in a recurrence's step, reading the step's data, not its states\n"
              "pstep(a, c; z[P], u[T]) {\n"
              "    x[0] = 1\n"
              "    for k = 0..T-1 {\n"
              "        x[k+1] = x[k] + 0.1*sin(a*x[k])*sum(p = 0..P-1, z[p]*u[k]*c) / (1 + P)\n"
              "    }\n"
              "    return x[T]\n"
              "}\n",
     "want_v = 1;", 1, 1, 1, 1},
    {"ptraj", "# sums per step over a recurrence's trajectory, of a differentiated array\n"
              "ptraj(a, w[P]; obs[T]) {\n"
              "    x[0] = 1\n"
              "    for k = 0..T-1 { x[k+1] = x[k] + 0.1*sin(a*x[k]) }\n"
              "    return sum(k = 0..T-1, log(1 + sum(p = 0..P-1, exp(-(x[k+1]*w[p] - obs[k])^2))))\n"
              "}\n",
     "want_v = 0;", 1, 1, 1, 1},
    {"sumsum", "# a sum per step over the same range, of one array at both indices\n"
               "sumsum(x[n]) = sum(i = 0..n-1, sin(sum(j = 0..n-1, x[i]*x[j])))\n",
     "want_v = 0;", 1, 1, 1, 1},
    {"soft", "# a softmax's normaliser per point: a sum per step reading a local of the step\n"
             "soft(x[n]; sigma) {\n"
             "    for i = 0..n-1 {\n"
             "        s2 = sigma^2 + x[i]^2\n"
             "        p[i] = exp(-x[i]^2/s2)/(1 + sum(j = 0..n-1, exp(-x[j]^2/s2)))\n"
             "    }\n"
             "    return sum(i = 0..n-1, p[i]*x[i])\n"
             "}\n",
     "want_v = 0;", 1, 1, 1, 1},
    {"lreg", "# logistic regression over a run-time number of features: X[N][M], its row's\n"
             "# dot product a sum per step\n"
             "lreg(w[M], b; X[N][M], y[N]) =\n"
             "    sum(i = 0..N-1, log(1 + exp(-y[i]*(sum(j = 0..M-1, w[j]*X[i][j]) + b))))\n",
     "want_v = 0;", 1, 1, 1, 1},
    {"mf", "# a differentiated array of two run-time sizes, read in a sum per step\n"
           "mf(U[N][M], v[M]; R[N][M]) =\n"
           "    sum(i = 0..N-1, sqrt(1 + sum(j = 0..M-1, (U[i][j]*v[j] - R[i][j])^2)))\n",
     "want_v = 0;", 1, 1, 1, 1},
    {"revstep", "# a sum per step whose outer range is reversed at n = 0 (1..n-2): its sums'\n"
                "# region of the work array is not negative\n"
                "revstep(mu[K]; x[n]) = sum(i = 1..n-2, log(sum(k = 0..K-1, exp(x[i]*mu[k])))) +\n"
                "    sum(i = 0..n-1, log(sum(k = 0..K-1, exp(x[i] - mu[k]))))\n",
     "want_v = 0;", 1, 1, 1, 1},
    {"stepmap", "# a map's statements with sums per step that nothing reads (dropped), and one\n"
               "# read by a sum per step through the map's iteration lowered again there\n"
               "stepmap(w[P], a; y[T]) {\n"
               "    for t = 0..T-1 {\n"
               "        v[t] = sum(q = 0..P-1, w[q]*y[t])\n"
               "        u[t] = a*y[t]^2\n"
               "        g[t] = log(sum(p = 0..P-1, exp(w[p] - a*y[t])))\n"
               "    }\n"
               "    return sum(t = 0..T-1, log(sum(p = 0..P-1, exp(w[p]*u[t])))) + sum(t = 0..T-1, g[t])\n"
               "}\n",
     "want_v = 0;", 1, 1, 1, 1},
    {"cox", "# a sum per step whose range moves with the step: Cox's partial likelihood, each\n"
            "# event's risk set the later times (j = i..N-1), with a ridge penalty\n"
            "cox(b[3]; X[N][3], d[N]) {\n"
            "    for i = 0..N-1 { eta[i] = sum(k = 0..2, b[k]*X[i][k]) }\n"
            "    return sum(i = 0..N-1, d[i]*(eta[i] - log(sum(j = i..N-1, exp(eta[j]))))) -\n"
            "        0.5*sum(k = 0..2, b[k]^2)\n"
            "}\n",
     "want_v = -0.5 * (p_b[0] * p_b[0] + p_b[1] * p_b[1] + p_b[2] * p_b[2]);\n"
     "            for (int k = 0; k < 3; k++)\n"
     "                want_g_b[k] = -p_b[k], want_hv_b[k] = -d_b[k];", 1, 1, 1, 1},
    {"cox2", "# Cox's partial likelihood with its risk sets a recurrence's running total from the\n"
             "# end (README), read at every step after it\n"
             "cox2(b[3]; X[N][3], d[N]) {\n"
             "    for i = 0..N-1 { eta[i] = sum(k = 0..2, b[k]*X[i][k]) }\n"
             "    r[0] = 0\n"
             "    for k = 0..N-1 { r[k+1] = r[k] + exp(eta[N-1-k]) }\n"
             "    return sum(i = 0..N-1, d[i]*(eta[i] - log(r[N-i]))) - 0.5*sum(k = 0..2, b[k]^2)\n"
             "}\n",
     "want_v = -0.5 * (p_b[0] * p_b[0] + p_b[1] * p_b[1] + p_b[2] * p_b[2]);\n"
     "            for (int k = 0; k < 3; k++)\n"
     "                want_g_b[k] = -p_b[k], want_hv_b[k] = -d_b[k];", 1, 1, 1, 0},
    {"pairs", "# pairs i < j: a range that starts after the step and is empty at the last one\n"
             "pairs(x[n]) = sum(i = 0..n-1, sum(j = i+1..n-1, 1/(1 + (x[i] - x[j])^2)))\n",
     "want_v = 0;", 1, 1, 1, 1},
    {"conv", "# a causal convolution fitted to data: a map of sums over j = 0..i, the kernel read\n"
             "# backwards\n"
             "conv(h[n]; u[n], y[n]) {\n"
             "    for i = 0..n-1 { c[i] = sum(j = 0..i, h[i-j]*u[j]) }\n"
             "    return sum(i = 0..n-1, (c[i] - y[i])^2)\n"
             "}\n",
     "want_v = 0;", 1, 1, 1, 1},
    {"window", "# a moving window, i-2..i, over a range that starts at 2, and a correlation's\n"
               "# lags (j = i..n-1, x[j-i])\n"
               "window(x[n]; w) = sum(i = 2..n-1, (x[i] - sum(j = i-2..i, w*x[j])/3)^2 +\n"
               "    sin(sum(j = i..n-1, x[j-i]*x[j])))\n",
     "want_v = 0;", 2, 1, 1, 1},
    {"volt", "# a recurrence whose step reads a sum over its past data, j = 0..k (a memory term)\n"
             "volt(a, c; u[T]) {\n"
             "    x[0] = 1\n"
             "    for k = 0..T-1 {\n"
             "        x[k+1] = x[k] + 0.1*sin(a*x[k]) + c*sum(j = 0..k, u[j]*exp(0.5*(j - k))) / (1 + k)\n"
             "    }\n"
             "    return x[T]\n"
             "}\n",
     "want_v = 1;", 1, 1, 1, 1},
    {"att", "# a softmax's normaliser written inside the sum over j it divides, reading the\n"
            "# outer step (i) but not j: a sum per step of the loop over i\n"
            "att(q[n], k[n]; v[n]) =\n"
            "    sum(i = 0..n-1, sin(q[i] + sum(j = 0..n-1, v[j]*exp(q[i]*k[j]) / sum(l = 0..n-1, exp(q[i]*k[l])))))\n",
     "want_v = 0;", 1, 1, 1, 1},
    {"cumsoft", "# the same over ranges that move with the step: j = 0..i, normalised over l = 0..i\n"
                "cumsoft(x[n]; w) = sum(i = 0..n-1, log(1 + sum(j = 0..i, w^2*x[j]^2 / sum(l = 0..i, exp(x[l] - x[i])))))\n",
     "want_v = 0;", 1, 1, 1, 1},
    {"normmove", "# normalisers that read the outer step only through their range (l = 0..i,\n"
                 "# l = i..n-1: they were taken out of both loops)\n"
                 "normmove(x[n]) = sum(i = 0..n-1, sum(j = 0..n-1, x[j] / sum(l = 0..i, x[l]^2 + 1))) +\n"
                 "    sum(i = 0..n-1, sum(j = 0..i, x[j] / sum(l = i..n-1, x[l]^2 + 1)))\n",
     "want_v = 0;", 1, 1, 1, 1},
    {"recmove", "# a recurrence's step whose sum per step holds a normaliser over the past data\n"
                "recmove(a, c[P]; u[T]) {\n"
                "    x[0] = 1\n"
                "    for t = 0..T-1 {\n"
                "        x[t+1] = x[t] + 0.1*sin(a*x[t])*sum(j = 0..P-1, c[j]*u[t] / sum(l = 0..t, exp(u[l])))\n"
                "    }\n"
                "    return x[T]\n"
                "}\n",
     "want_v = 1;", 1, 1, 1, 1},
    {"pstate", "# a sum over particles in a recurrence's step that reads the state: computed in\n"
               "# the recurrence's loop at each step\n"
               "pstate(a, w[P]; u[T]) {\n"
               "    x[0] = 1\n"
               "    for k = 0..T-1 { x[k+1] = x[k] + 0.1*u[k]*sum(p = 0..P-1, sin(a*x[k]*w[p])) / (1 + P) }\n"
               "    return x[T]\n"
               "}\n",
     "want_v = 1;", 1, 1, 1, 1},
    {"pfilt", "# a filter's step: two sums over the particles of the state and the observation,\n"
              "# one a local of the step, and the log-likelihood a second state\n"
              "pfilt(a, w[P]; obs[T]) {\n"
              "    x[0] = 0.5\n"
              "    l[0] = 0\n"
              "    for k = 0..T-1 {\n"
              "        s = sum(p = 0..P-1, exp(-(x[k] + a*w[p] - obs[k])^2))\n"
              "        x[k+1] = x[k] + 0.1*sum(p = 0..P-1, w[p]*exp(-(x[k] + a*w[p] - obs[k])^2)) / (s + 1)\n"
              "        l[k+1] = l[k] + log(s + 1)\n"
              "    }\n"
              "    return l[T] + x[T]\n"
              "}\n",
     "want_v = 0.5;", 1, 1, 1, 1},
    {"patt", "# a normaliser of the state inside the sum over the particles, both computed at\n"
             "# each step; the state read through a local of the step\n"
             "patt(a, w[P]; u[T]) {\n"
             "    x[0] = 1\n"
             "    for t = 0..T-1 {\n"
             "        v = a*x[t]\n"
             "        x[t+1] = x[t] + 0.1*u[t]*sum(j = 0..P-1, w[j]*exp(v*w[j]) / (1 + sum(l = 0..P-1, exp(v*w[l]))))\n"
             "    }\n"
             "    return x[T]\n"
             "}\n",
     "want_v = 1;", 1, 1, 1, 1},
    {"pfit", "# a step's sum over particles reading the state, and the trajectory fitted to\n"
             "# observations after the loop\n"
             "pfit(a, w[P]; obs[T]) {\n"
             "    x[0] = 1\n"
             "    for k = 0..T-1 { x[k+1] = x[k] + 0.1*sum(p = 0..P-1, tanh(a*x[k] - w[p])) / (1 + P) }\n"
             "    return sum(k = 0..T-1, (x[k+1] - obs[k])^2)\n"
             "}\n",
     "want_v = 0;", 1, 1, 1, 1},
    {"pmem", "# a memory term: the step's sum over the past states, x[j] for j = 0..k, with a\n"
             "# differentiated kernel\n"
             "pmem(a, c[T]; u[T]) {\n"
             "    x[0] = 1\n"
             "    for k = 0..T-1 {\n"
             "        x[k+1] = x[k] + 0.1*u[k] - a*sum(j = 0..k, c[k-j]*sin(x[j])) / (1 + k)\n"
             "    }\n"
             "    return x[T]\n"
             "}\n",
     "want_v = 1;", 1, 1, 1, 1},
    {"wmean", "# a weighted mean per step: the two sums over j of one range in one loop, their\n"
              "# common exponential once\n"
              "wmean(q[n], k[n]; v[n]) =\n"
              "    sum(i = 0..n-1, sin(q[i] + sum(j = 0..n-1, v[j]*exp(q[i]*k[j])) / sum(j = 0..n-1, exp(q[i]*k[j]))))\n",
     "want_v = 0;", 1, 1, 1, 1},
    {"pdata", "# a state of data only (t, from 0) read with a domain edge by the step's sum over\n"
              "# particles: it carries no tangent (a tangent of 0 times sqrt's infinite\n"
              "# derivative made NaN)\n"
              "pdata(a, w[P]; h, u[T]) {\n"
              "    t[0] = 0\n"
              "    x[0] = 1\n"
              "    for k = 0..T-1 {\n"
              "        t[k+1] = t[k] + h\n"
              "        x[k+1] = x[k] + 0.1*u[k]*sum(p = 0..P-1, tanh(sqrt(t[k]^2))*sin(a*x[k] + w[p])) / (1 + P)\n"
              "    }\n"
              "    return x[T]\n"
              "}\n",
     "want_v = 1;", 1, 1, 1, 1},
    {"tdata", "# the same read by a sum over the trajectory after the loop\n"
              "tdata(a; h, u[T]) {\n"
              "    t[0] = 0\n"
              "    x[0] = 1\n"
              "    for k = 0..T-1 {\n"
              "        t[k+1] = t[k] + h\n"
              "        x[k+1] = x[k] + 0.1*u[k]*sin(a*x[k])\n"
              "    }\n"
              "    return sum(k = 0..T-1, sqrt(t[k]^2)*x[k+1])\n"
              "}\n",
     "want_v = 0;", 1, 1, 1, 1},
    {"pnext", "# a step's sum over particles reading a state once the step assigned it\n"
              "pnext(a, w[P]; u[T]) {\n"
              "    x[0] = 1\n"
              "    y[0] = 0\n"
              "    for k = 0..T-1 {\n"
              "        x[k+1] = x[k] + 0.1*sin(a*x[k])*u[k]\n"
              "        y[k+1] = y[k] + sum(p = 0..P-1, cos(x[k+1]*w[p] + y[k])) / (1 + P)\n"
              "    }\n"
              "    return x[T]*y[T]\n"
              "}\n",
     "want_v = 0;", 1, 1, 1, 1},
    {"callin", "# a call whose kept sum reads a value of the kept loop it is called in\n"
               "dev(v[m], c) = sum(i = 0..m-1, (v[i] - c)^2)\n"
               "callin(x[n]) = sum(i = 0..n-1, sqrt(1 + dev(x, x[i])))\n",
     "want_v = 0;", 1, 1, 1, 1},
    {"inlocal", "# an inline callee's kept sum reading its local array, in a kept loop\n"
                "inline h(a; v[m]) {\n"
                "    t[0] = a*2\n"
                "    return sum(j = 0..m-1, v[j]*t[0])\n"
                "}\n"
                "inlocal(x[n]) = sum(i = 0..n-1, sin(h(x[i], x)))\n",
     "want_v = 0;", 1, 1, 1, 1},
    {"steps", "# arrays read at different steps (X[i+1][0] beside w[i+1]): the pattern's column\n"
              "# of a row is chosen by which pair holds (a ?: that must be parenthesised)\n"
              "steps(u[n], X[n][2], w[n]) =\n"
              "    sum(i = 0..n-2, (X[i+1][0] - X[i][0]*w[i+1])^2 + X[i][1]^2*w[i]^3 + u[i]*w[i]) +\n"
              "    sum(i = 0..n-1, w[i]*X[i][1]*X[i][0])\n",
     "want_v = 0;", 1, 0, 0, 0},
    {"colread", "# columns lowered one after another, each step reading column 0's state at\n"
                "# the step: a trajectory of the recurrence lowered before (until stop 43, an\n"
                "# error saying the loop does not assign the state it reads)\n"
                "colread(k, z0[3]; u[T]) {\n"
                "    for i = 0..2 {\n"
                "        x[0][i] = z0[i]\n"
                "        for t = 0..T-1 { x[t+1][i] = 0.9*x[t][i] + 0.1*tanh(u[t] - "
                "k*sin(x[t][0]*x[t][i]) + x[t][i]*x[t][0]) }\n"
                "    }\n"
                "    return x[T][0]^2 + x[T][1]^2 + x[T][2]*x[T][1]\n"
                "}\n",
     "want_v = p_z0[0] * p_z0[0] + p_z0[1] * p_z0[1] + p_z0[2] * p_z0[1];\n"
     "            want_g_z0[0] = 2 * p_z0[0];\n"
     "            want_g_z0[1] = 2 * p_z0[1] + p_z0[2];\n"
     "            want_g_z0[2] = p_z0[1];", 1, 1, 1, 0},
    {"sfirst", "# a damped pendulum's two states written state first (CasADi's X[:, k]):\n"
               "# reordered, time first, before sema reads it\n"
               "sfirst(k, c, a; u[T]) {\n"
               "    x[0][0] = a\n"
               "    x[1][0] = 0.5*a\n"
               "    for t = 0..T-1 {\n"
               "        x[0][t+1] = 0.9*x[0][t] + 0.05*x[1][t]\n"
               "        x[1][t+1] = 0.9*x[1][t] - 0.05*tanh(k*sin(x[0][t]) + c*x[1][t] - u[t])\n"
               "    }\n"
               "    return x[0][T]^2 + x[1][T]^2\n"
               "}\n",
     "want_v = 1.25 * p_a[0] * p_a[0];\n"
     "            want_g_a[0] = 2.5 * p_a[0];", 1, 1, 0, 0},
    {"dname", "# a live state x_1 beside a dead one x[k][1], whose C names are one (x_1): the\n"
              "# states left out are told by array and indices, not by that name\n"
              "dname(a, b; c[T]) {\n"
              "    x_1[0] = a\n"
              "    x[0][1] = b\n"
              "    x[0][0] = b\n"
              "    for k = 0..T-1 {\n"
              "        x_1[k+1] = 0.9*x_1[k] + b*c[k]\n"
              "        x[k+1][1] = 0.5*x[k][1] + sin(x[k][0])\n"
              "        x[k+1][0] = 0.5*x[k][0] + c[k]\n"
              "    }\n"
              "    return x_1[T] + x[T][0]\n"
              "}\n",
     "want_v = p_a[0] + p_b[0];\n"
     "            want_g_a[0] = 1;\n"
     "            want_g_b[0] = 1;", 1, 1, 0, 0},
    {"dmerge", "# a dead state's sum per step of the live one's range, made one loop with it when\n"
               "# another sum reads the new state (x[k+1]): not lowered, it leaves no term whose\n"
               "# adjoint is 0 times the NaN partial of sqrt(w[p] - 2)\n"
               "dmerge(a, w[P]; obs[T]) {\n"
               "    x[0] = 0.5\n"
               "    y[0] = 0\n"
               "    z[0] = 1\n"
               "    for k = 0..T-1 {\n"
               "        s = sum(p = 0..P-1, exp(-(x[k] + a*w[p] - obs[k])^2))\n"
               "        x[k+1] = 0.5*x[k] + 0.1*log(s + 1)\n"
               "        y[k+1] = y[k] + sum(p = 0..P-1, sqrt(w[p] - 2)*x[k])\n"
               "        z[k+1] = z[k]*0.9 + 0.1*tanh(sum(p = 0..P-1, w[p]*x[k+1]))\n"
               "    }\n"
               "    return x[T] + z[T]\n"
               "}\n",
     "want_v = 1.5;", 1, 1, 1, 1},
    {"dchain", "# a recurrence nothing reads whose first value reads a state of another, which\n"
               "# nothing else reads: left out, it leaves that one unread, left out in turn\n"
               "dchain(a, b; c[T]) {\n"
               "    x[0] = a\n"
               "    y[0] = b\n"
               "    for k = 0..T-1 {\n"
               "        x[k+1] = 0.9*x[k] + b*c[k]\n"
               "        y[k+1] = sin(x[k])\n"
               "    }\n"
               "    z[0] = y[T]\n"
               "    for k = 0..T-1 { z[k+1] = a + c[k] }\n"
               "    return x[T]\n"
               "}\n",
     "want_v = p_a[0];\n"
     "            want_g_a[0] = 1;", 1, 1, 0, 0},
    {"dunread", "# a state whose trajectory only a sum nothing reads reads (a sum not printed):\n"
                "# left out, with its trajectory and work\n"
                "dunread(a, b; c[T]) {\n"
                "    x[0] = a\n"
                "    y[0] = b\n"
                "    for k = 0..T-1 {\n"
                "        x[k+1] = 0.9*x[k] + b*c[k]\n"
                "        y[k+1] = sin(x[k]) + 0.5*y[k]\n"
                "    }\n"
                "    s = sum(k = 0..T-1, y[k+1]*c[k])\n"
                "    return x[T]\n"
                "}\n",
     "want_v = p_a[0];\n"
     "            want_g_a[0] = 1;", 1, 1, 0, 0},
};
enum { NMODELS = sizeof models / sizeof *models };

/* The models whose Hessian hess-sparse refuses, with a word of the reason: elements that meet
 * at a distance that changes with the step, a nonlinear function of a sum (dense). */
static const char *refused_band(const char *name)
{
    static const char *const refused[][2] = {
        {"rev", "a distance that changes with the step"},
        {"var", "a nonlinear function of this sum"},
        {"xent", "a nonlinear function of this sum"},
        {"devw", "reads a value computed from the arrays outside it"},
        {"hmap", "a nonlinear function of this sum"},
        {"hnest", "a nonlinear function of this sum"},
        {"hloc", "a nonlinear function of this sum"},
        {"hcall", "a nonlinear function of this sum"},
        {"lsm", "a nonlinear function of this sum"},
        {"hvpord", "a nonlinear function of this sum"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        if (strcmp(name, refused[i][0]) == 0)
            return refused[i][1];
    return NULL;
}

/* The sizes the kept code is checked at against the unrolled form or the closed form, and
 * under the sanitizers. */
static const long plain_sizes[] = {0, 1, 2, 3, 7};
static const long san_sizes[] = {0, 1, 100000};
enum { NESTED_LARGE = 2000 };

/* ---- the head: parameters, their shapes, the sizes in order of first appearance ---------- */

typedef struct {
    char name[32];
    int diff, rank;
    char dim[2][32]; /* a number or a size's name */
} HParam;

typedef struct {
    int np, nsizes;
    HParam p[16];
    char size[4][32];
} Head;

static void parse_head(const Model *m, Head *h)
{
    memset(h, 0, sizeof *h);
    char pat[64];
    snprintf(pat, sizeof pat, "\n%s(", m->name);
    const char *s = strstr(m->src, pat);
    assert_non_null(s);
    s += strlen(pat);
    int diff = 1;
    while (*s != ')') {
        if (*s == ';' || *s == ',' || *s == ' ') {
            diff &= *s++ != ';';
            continue;
        }
        assert_true(h->np < 16);
        HParam *p = &h->p[h->np++];
        size_t n = 0;
        while (isalnum((unsigned char)s[n]) || s[n] == '_')
            n++;
        assert_true(n > 0 && n < sizeof p->name);
        snprintf(p->name, sizeof p->name, "%.*s", (int)n, s);
        p->diff = diff;
        for (s += n; *s == '['; p->rank++) {
            size_t k = strcspn(++s, "]");
            assert_true(p->rank < 2 && k < sizeof p->dim[0]);
            snprintf(p->dim[p->rank], sizeof p->dim[0], "%.*s", (int)k, s);
            s += k + 1;
            if (isdigit((unsigned char)p->dim[p->rank][0]))
                continue;
            int known = 0;
            for (int z = 0; z < h->nsizes; z++)
                known |= strcmp(h->size[z], p->dim[p->rank]) == 0;
            if (!known) {
                assert_true(h->nsizes < 4);
                strcpy(h->size[h->nsizes++], p->dim[p->rank]);
            }
        }
    }
}

/* The value of the z-th size in a run at base size K: K, K + 1, ... (distinct, so that sizes
 * passed in the wrong order show), all 0 at K = 0. */
static long size_value(long K, int z)
{
    return K == 0 ? 0 : K + z;
}

/* ---- the driver -------------------------------------------------------------------------- */

static const char driver_head[] =
    "#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\n"
    "static long n_checks, n_fail;\n"
    "static unsigned long long rng = 88172645463325252ull;\n"
    "static double uniform(double lo, double hi)\n{\n"
    "    rng ^= rng << 13;\n    rng ^= rng >> 7;\n    rng ^= rng << 17;\n"
    "    return lo + (hi - lo) * (double)(rng >> 11) / 9007199254740992.0;\n}\n"
    "/* len doubles from [lo, hi], malloc'ed to exactly that size */\n"
    "static double *vec(long len, double lo, double hi)\n{\n"
    "    double *v = malloc((size_t)len * sizeof *v);\n"
    "    if (len > 0 && !v) {\n        printf(\"out of memory\\n\");\n        exit(2);\n    }\n"
    "    for (long k = 0; k < len; k++)\n        v[k] = uniform(lo, hi);\n"
    "    return v;\n}\n"
    "/* len copies of v, malloc'ed to exactly that size (drawing no random number) */\n"
    "static double *fill(long len, double v)\n{\n"
    "    double *f = malloc((size_t)len * sizeof *f);\n"
    "    if (len > 0 && !f) {\n        printf(\"out of memory\\n\");\n        exit(2);\n    }\n"
    "    for (long k = 0; k < len; k++)\n        f[k] = v;\n"
    "    return f;\n}\n"
    "static double *dup(const double *v, long len)\n{\n"
    "    double *c = fill(len, 0);\n"
    "    if (len > 0)\n        memcpy(c, v, (size_t)len * sizeof *c);\n"
    "    return c;\n}\n"
    "static double *copy(const double *v, long len)\n{\n"
    "    double *c = vec(len, 0, 0);\n"
    "    if (len > 0)\n        memcpy(c, v, (size_t)len * sizeof *c);\n"
    "    return c;\n}\n"
    "static void fail(const char *m, const char *what, long n, long k, double got, double want)\n"
    "{\n"
    "    if (n_fail++ < 30)\n"
    "        printf(\"FAIL %s at n = %ld: %s [%ld]: %.17g, expected %.17g\\n\", m, n, what, k,\n"
    "               got, want);\n}\n"
    "static int same(double a, double b)\n{\n    return a == b || (isnan(a) && isnan(b));\n}\n"
    "static void exact(const char *m, const char *what, long n, long k, double got, double want)\n"
    "{\n    n_checks++;\n    if (!same(got, want))\n        fail(m, what, n, k, got, want);\n}\n"
    "static void bits(const char *m, const char *what, long n, long k, double got, double want)\n"
    "{\n    n_checks++;\n    if (memcmp(&got, &want, sizeof got) != 0)\n"
    "        fail(m, what, n, k, got, want);\n}\n"
    "/* got = want to rounding: relative to want, or to scale, the magnitude of the vector or\n"
    " * of the terms want sums, when that is larger; near the subnormals (a recurrence's\n"
    " * derivatives decay) absolutely */\n"
    "static void near(const char *m, const char *what, long n, long k, double got, double want,\n"
    "                 double scale, double tol)\n{\n"
    "    n_checks++;\n"
    "    double s = fabs(want) > scale ? fabs(want) : scale;\n"
    "    if (!same(got, want) && !(fabs(got - want) <= tol * s + 1e-290))\n"
    "        fail(m, what, n, k, got, want);\n}\n"
    "static void finite(const char *m, const char *what, long n, long k, double got)\n{\n"
    "    n_checks++;\n    if (!isfinite(got))\n        fail(m, what, n, k, got, 0);\n}\n"
    "static double maxabs(const double *v, long len, double m)\n{\n"
    "    for (long k = 0; k < len; k++)\n        m = fabs(v[k]) > m ? fabs(v[k]) : m;\n"
    "    return m;\n}\n\n";

/* The arguments of a call: the sizes (kept > 0), the inputs (kept >= 0), then per differentiated
 * input `scalar` or `array` (NULL: none) with the input's name for %s, then `tail`; a tail
 * "BEFORE:X" puts X before the per-input arguments instead (a vjp's out_bar), "BEFORE:X|Y"
 * X before and Y after them. */
static char *call_args(const Head *h, int kept, const char *scalar, const char *array,
                       const char *tail)
{
    Buf b = {0};
    buf_putn(&b, "", 0);
    for (int z = 0; kept > 0 && z < h->nsizes; z++)
        arg(&b, "s_%s", h->size[z]);
    for (int k = 0; kept >= 0 && k < h->np; k++)
        arg(&b, h->p[k].rank ? "p_%s" : "p_%s[0]", h->p[k].name);
    if (tail && strncmp(tail, "BEFORE:", 7) == 0) {
        size_t n = strcspn(tail + 7, "|");
        arg(&b, "%.*s", (int)n, tail + 7);
        tail = tail[7 + n] ? tail + 8 + n : NULL;
    }
    for (int k = 0; scalar && k < h->np; k++)
        if (h->p[k].diff)
            arg(&b, h->p[k].rank ? array : scalar, h->p[k].name);
    if (tail)
        arg(&b, "%s", tail);
    return b.data;
}

/* for (long k = 0; k < len_P; k++) STMT, for each differentiated input P (`@` in STMT). */
static void each_diff(Buf *d, const Head *h, const char *indent, const char *stmt)
{
    for (int k = 0; k < h->np; k++) {
        if (!h->p[k].diff)
            continue;
        const char *n = h->p[k].name;
        buf_printf(d, "%sfor (long k = 0; k < len_%s; k++)\n%s    ", indent, n, indent);
        for (const char *s = stmt; *s; s++)
            if (*s == '@')
                buf_puts(d, n);
            else
                buf_putn(d, s, 1);
        buf_puts(d, "\n");
    }
}

/* A recurrence's checkpointed variants (grad-ckp, vjp-ckp, and grad-ckp adding into its
 * gradient) against the stored ones, to the bit, at every number of snapshots from 0 (taken as
 * 1) to past the number of steps, with the work array malloc'ed to exactly NAME_WORK_CKP; at a
 * large size (under the sanitizers), at 10 and 30. */
static void put_ckp_check(Buf *d, const Model *m, const Head *h, const char *work)
{
    const char *M = m->name;
    buf_printf(d, "        for (long c = 0; c <= (K > 1000 ? 1 : K + 4); c++) {\n"
                  "            const long snaps = K > 1000 ? 10 + 20 * c : c;\n"
                  "            double *cw = fill((long)%s_CKP(", work);
    for (int z = 0; z < h->nsizes; z++)
        buf_printf(d, "s_%s, ", h->size[z]);
    buf_puts(d, "snaps), 7.5);\n");
    for (int k = 0; k < h->np; k++)
        if (h->p[k].diff)
            buf_printf(d, "            double *gc_%s = fill(len_%s, 7.5), *bc_%s = fill(len_%s, "
                          "7.5), *ac_%s = dup(ra_%s, len_%s);\n", h->p[k].name, h->p[k].name,
                       h->p[k].name, h->p[k].name, h->p[k].name, h->p[k].name, h->p[k].name);
    char *a = call_args(h, 1, "gc_%s", "gc_%s", "snaps, cw");
    buf_printf(d, "            bits(M, \"grad-ckp's value\", K, snaps, k_%s_grad_ckp(%s), vk);\n",
               M, a);
    free(a);
    each_diff(d, h, "            ", "bits(M, \"grad-ckp\", K, snaps, gc_@[k], gk_@[k]);");
    a = call_args(h, 1, "bc_%s", "bc_%s", "BEFORE:ub|snaps, cw");
    buf_printf(d, "            bits(M, \"vjp-ckp's value\", K, snaps, k_%s_vjp_ckp(%s), vk);\n",
               M, a);
    free(a);
    each_diff(d, h, "            ", "bits(M, \"vjp-ckp\", K, snaps, bc_@[k], bk_@[k]);");
    a = call_args(h, 1, "ac_%s", "ac_%s", "snaps, cw");
    buf_printf(d, "            a_%s_grad_ckp(%s);\n", M, a);
    free(a);
    each_diff(d, h, "            ", "bits(M, \"accumulating grad-ckp\", K, snaps, ac_@[k], "
                                   "ga_@[k]);");
    for (int k = 0; k < h->np; k++)
        if (h->p[k].diff)
            buf_printf(d, "            free(gc_%s);\n            free(bc_%s);\n"
                          "            free(ac_%s);\n", h->p[k].name, h->p[k].name,
                       h->p[k].name);
    buf_puts(d, "            free(cw);\n        }\n");
}

/* The sparse Hessian of run-time size (s_NAME_hess_sparse, its pattern from s_NAME_hess_sparse_
 * pattern): its value is the function's; its pattern is the lower triangle, by row then column,
 * each entry once; the matrix it gives times the direction d is the kept hvp's product hk; and
 * against the unrolled build's uK_ (when `unrolled`), the same count, rows, columns and values
 * to rounding. The work array is malloc'ed to exactly S_NAME_WORK(sizes). */
static void put_band_check(Buf *d, const Model *m, const Head *h, int unrolled, long K)
{
    const char *M = m->name;
    char upper[64];
    size_t n = 0;
    for (; M[n] && n + 1 < sizeof upper; n++)
        upper[n] = (char)toupper((unsigned char)M[n]);
    upper[n] = '\0';
    Buf sizes = {0};
    buf_putn(&sizes, "", 0);
    for (int z = 0; z < h->nsizes; z++)
        buf_printf(&sizes, "%ss_%s", z ? ", " : "", h->size[z]);
    buf_puts(d, "        {\n            long len = 0, at = 0;\n");
    each_diff(d, h, "            ", "len++;");
    buf_printf(d, "            const long nnz = s_%s_hess_sparse_nnz(%s);\n", M, sizes.data);
    buf_puts(d, "            long *row = malloc((size_t)(nnz + 1) * sizeof *row), *col = "
                "malloc((size_t)(nnz + 1) * sizeof *col);\n"
                "            double *hz = fill(nnz, 7.5), *hd = fill(len, 0), *dd = fill(len, 0), "
                "*hh = fill(len, 0);\n");
    buf_printf(d, "            double *sw = fill(S_%s_WORK(%s), 7.5);\n", upper, sizes.data);
    buf_printf(d, "            s_%s_hess_sparse_pattern(%s%srow, col);\n", M, sizes.data,
               h->nsizes ? ", " : "");
    char *a = call_args(h, 1, NULL, NULL, "hz, sw");
    buf_printf(d, "            exact(M, \"hess-sparse's value\", K, 0, s_%s_hess_sparse(%s), vk);\n",
               M, a);
    free(a);
    each_diff(d, h, "            ", "dd[at] = d_@[k], hh[at++] = hk_@[k];");
    buf_puts(d, "            double hmax = maxabs(hh, len, 0);\n"
                "            for (long k = 0; k < nnz; k++) {\n"
                "                n_checks++;\n"
                "                if (col[k] < 0 || row[k] < col[k] || row[k] >= len || (k > 0 && "
                "(row[k] < row[k - 1] || (row[k] == row[k - 1] && col[k] <= col[k - 1]))))\n"
                "                    fail(M, \"hess-sparse's pattern\", K, k, (double)row[k], "
                "(double)col[k]);\n"
                "                else {\n"
                "                    hd[row[k]] += hz[k] * dd[col[k]];\n"
                "                    if (row[k] != col[k])\n"
                "                        hd[col[k]] += hz[k] * dd[row[k]];\n"
                "                }\n            }\n"
                "            for (long k = 0; k < len; k++)\n"
                "                near(M, \"hess-sparse times d = hvp\", K, k, hd[k], hh[k], hmax, "
                "K > 1000 ? 1e-9 : 1e-12);\n");
    if (unrolled) {
        buf_printf(d, "            exact(M, \"hess-sparse's count\", K, 0, (double)nnz, "
                      "(double)U%ld_%s_HESS_SPARSE_NNZ);\n", K, upper);
        buf_printf(d, "            double *hu = fill(U%ld_%s_HESS_SPARSE_NNZ, 7.5), umax = 0;\n",
                   K, upper);
        a = call_args(h, 0, NULL, NULL, "hu");
        buf_printf(d, "            u%ld_%s_hess_sparse(%s);\n", K, M, a);
        free(a);
        buf_printf(d, "            umax = maxabs(hu, U%ld_%s_HESS_SPARSE_NNZ, 0);\n", K, upper);
        buf_printf(d, "            for (long k = 0; k < nnz && nnz == U%ld_%s_HESS_SPARSE_NNZ; "
                      "k++) {\n"
                      "                exact(M, \"hess-sparse's row\", K, k, (double)row[k], "
                      "(double)u%ld_%s_hess_sparse_row[k]);\n"
                      "                exact(M, \"hess-sparse's column\", K, k, (double)col[k], "
                      "(double)u%ld_%s_hess_sparse_col[k]);\n"
                      "                near(M, \"hess-sparse\", K, k, hz[k], hu[k], umax, "
                      "1e-12);\n            }\n            free(hu);\n",
                   K, upper, K, M, K, M);
    }
    buf_puts(d, "            free(row);\n            free(col);\n            free(hz);\n"
                "            free(hd);\n            free(dd);\n            free(hh);\n"
                "            free(sw);\n        }\n");
    buf_free(&sizes);
}

/* check_NAME(K, how): one model at base size K at `points` random points; how is 0 for the
 * closed form, K for the unrolled build uK_, -1 for finite results only. */
static void put_check(Buf *d, const Model *m, const Head *h, const char *work, int band,
                      int unrolled, int nk, const long *ks)
{
    const char *M = m->name;
    buf_printf(d, "static void check_%s(long K, int how, int points)\n{\n", M);
    buf_printf(d, "    const char *M = \"%s\";\n", M);
    for (int z = 0; z < h->nsizes; z++)
        buf_printf(d, "    const long s_%s = K == 0 ? 0 : K + %d;\n", h->size[z], z);
    buf_puts(d, "    for (int point = 0; point < points; point++) {\n");
    for (int k = 0; k < h->np; k++) {
        const HParam *p = &h->p[k];
        buf_printf(d, "        const long len_%s = 1", p->name);
        for (int r = 0; r < p->rank; r++)
            buf_printf(d, isdigit((unsigned char)p->dim[r][0]) ? " * %s" : " * s_%s",
                       p->dim[r]);
        buf_printf(d, ";\n        double *p_%s = vec(len_%s, -1.5, 1.5);\n", p->name, p->name);
    }
    /* per differentiated input: a direction, the outputs (filled with what must be
     * overwritten), what --accumulate adds to */
    for (int k = 0; k < h->np; k++) {
        if (!h->p[k].diff)
            continue;
        const char *n = h->p[k].name;
        buf_printf(d, "        double *d_%s = vec(len_%s, -1, 1), *gk_%s = vec(len_%s, 7, 8),\n"
                      "               *bk_%s = vec(len_%s, 7, 8), *ra_%s = vec(len_%s, -1, 1),\n"
                      "               *rv_%s = vec(len_%s, -1, 1), *ga_%s = copy(ra_%s, len_%s),\n"
                      "               *va_%s = copy(rv_%s, len_%s), *hk_%s = vec(len_%s, 7, 8);\n",
                   n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n);
    }
    buf_puts(d, "        const double ub = uniform(-1, 1);\n        double jk = 0;\n"
                "        (void)ub;\n        (void)jk;\n");
    if (work[0]) {
        buf_printf(d, "        double *work = vec(%s(", work);
        for (int z = 0; z < h->nsizes; z++)
            buf_printf(d, "%ss_%s", z ? ", " : "", h->size[z]);
        buf_puts(d, "), 7, 8);\n");
    }
    const char *w = work[0] ? "work" : NULL;
    char *a = call_args(h, 1, NULL, NULL, m->traj ? w : NULL);
    buf_printf(d, "        const double vk = k_%s(%s);\n", M, a);
    free(a);
    a = call_args(h, 1, "gk_%s", "gk_%s", w);
    buf_printf(d, "        exact(M, \"grad's value\", K, 0, k_%s_grad(%s), vk);\n", M, a);
    free(a);
    a = call_args(h, 1, "d_%s[0]", "d_%s", m->traj ? "&jk, work" : "&jk");
    buf_printf(d, "        exact(M, \"jvp's value\", K, 0, k_%s_jvp(%s), vk);\n", M, a);
    free(a);
    a = call_args(h, 1, "bk_%s", "bk_%s", w ? "BEFORE:ub|work" : "BEFORE:ub");
    buf_printf(d, "        exact(M, \"vjp's value\", K, 0, k_%s_vjp(%s), vk);\n", M, a);
    free(a);
    a = call_args(h, 1, "va_%s", "va_%s", w ? "BEFORE:ub|work" : "BEFORE:ub");
    buf_printf(d, "        exact(M, \"accumulating vjp's value\", K, 0, a_%s_vjp(%s), vk);\n",
               M, a);
    free(a);
    a = call_args(h, 1, "ga_%s", "ga_%s", w);
    buf_printf(d, "        exact(M, \"accumulating grad's value\", K, 0, a_%s_grad(%s), "
                  "vk);\n", M, a);
    free(a);
    {
        char *hv = call_args(h, -1, "hk_%s", "hk_%s", m->rec ? w : NULL);
        a = call_args(h, 1, "d_%s[0]", "d_%s", hv);
        buf_printf(d, "        exact(M, \"hvp's value\", K, 0, k_%s_hvp(%s), vk);\n", M, a);
        free(a);
        free(hv);
    }
    if (m->rec == 1 && !m->traj)
        put_ckp_check(d, m, h, work);
    if (band && !unrolled)
        put_band_check(d, m, h, 0, 0);
    /* the modes against each other (their sums in different orders at large n) */
    buf_puts(d, "        const double tol = K > 1000 ? 1e-9 : 1e-12;\n"
                "        double gmax = 0, gd = 0, gdscale = 0;\n"
                "        (void)tol;\n        (void)gd;\n        (void)gdscale;\n");
    each_diff(d, h, "        ", "gmax = maxabs(gk_@ + k, 1, gmax);");
    /* a gradient whose every component is small by cancellation (normmove's at n = 1, 6e-5
     * from terms near 1) is compared to a thousandth of the value at least: vjp and grad add
     * the terms in other orders, which differ there by a rounding of the terms */
    buf_puts(d, "        if (isfinite(vk))\n            gmax = fmax(gmax, 1e-3 * fabs(vk));\n");
    each_diff(d, h, "        ", "gd += gk_@[k] * d_@[k], gdscale += fabs(gk_@[k] * d_@[k]);");
    /* where the value is NaN (0/0 at n = 0) the jvp is NaN, the gradient what the empty
     * loops leave: 0 */
    buf_puts(d, "        if (isfinite(vk))\n"
                "            near(M, \"jvp = <grad, v>\", K, 0, jk, gd, gdscale, tol);\n");
    each_diff(d, h, "        ", "near(M, \"vjp = u grad\", K, k, bk_@[k], ub * gk_@[k], "
                                "fabs(ub) * gmax, tol);");
    /* --accumulate adds into the caller's element: at the end, or where a loop adds a term a
     * step, from its first (a sum per step adds into an element it reads at the inner index
     * once per outer step: K terms, summed in another order) */
    const char *acc_tol = m->nested ? "1e-14 * (1 + K)" : "1e-14";
    Buf acc = {0}, acc2 = {0};
    buf_printf(&acc, "near(M, \"accumulated vjp\", K, k, va_@[k], rv_@[k] + bk_@[k], "
                     "1 + fabs(ub) * gmax, %s);", acc_tol);
    each_diff(d, h, "        ", acc.data);
    buf_printf(&acc2, "near(M, \"accumulated grad\", K, k, ga_@[k], ra_@[k] + gk_@[k], "
                      "1 + gmax, %s);", acc_tol);
    each_diff(d, h, "        ", acc2.data);
    buf_free(&acc);
    buf_free(&acc2);
    buf_puts(d, "        switch (how) {\n");
    /* the closed form at the sizes the unrolled form cannot have */
    buf_puts(d, "        case 0: {\n            double want_v = 0;\n");
    for (int k = 0; k < h->np; k++)
        if (h->p[k].diff)
            buf_printf(d, "            double *want_g_%s = vec(len_%s, 0, 0), "
                          "*want_hv_%s = vec(len_%s, 0, 0);\n",
                       h->p[k].name, h->p[k].name, h->p[k].name, h->p[k].name);
    buf_printf(d, "            %s\n", m->closed);
    buf_puts(d, "            near(M, \"value (closed form)\", K, 0, vk, want_v, 1, 1e-14);\n"
                "            if (!isnan(want_v)) {\n"
                "                double wmax = 0, wd = 0;\n"
                "                (void)wd;\n");
    each_diff(d, h, "                ", "wmax = maxabs(want_g_@ + k, 1, wmax), "
                                        "wd += want_g_@[k] * d_@[k];");
    each_diff(d, h, "                ", "near(M, \"grad (closed form)\", K, k, gk_@[k], "
                                        "want_g_@[k], wmax, 1e-14);");
    buf_puts(d, "                near(M, \"jvp (closed form)\", K, 0, jk, wd, wmax, "
                "1e-14);\n");
    if (!m->rec) {
        buf_puts(d, "                double hmax = 0;\n");
        each_diff(d, h, "                ", "hmax = maxabs(want_hv_@ + k, 1, hmax);");
        each_diff(d, h, "                ", "near(M, \"hvp (closed form)\", K, k, hk_@[k], "
                                            "want_hv_@[k], hmax, 1e-14);");
    }
    buf_puts(d, "            }\n");
    for (int k = 0; k < h->np; k++)
        if (h->p[k].diff)
            buf_printf(d, "            free(want_g_%s);\n            free(want_hv_%s);\n",
                       h->p[k].name, h->p[k].name);
    buf_puts(d, "            break;\n        }\n");
    /* finite results where the closed form is not wanted: the sanitized runs */
    buf_puts(d, "        case -1:\n            finite(M, \"value\", K, 0, vk);\n");
    each_diff(d, h, "            ", "finite(M, \"grad\", K, k, gk_@[k]);");
    buf_puts(d, "            finite(M, \"jvp\", K, 0, jk);\n");
    each_diff(d, h, "            ", "finite(M, \"hvp\", K, k, hk_@[k]);");
    buf_puts(d, "            break;\n");
    /* the unrolled builds */
    for (int u = 0; unrolled && u < nk; u++) {
        long K = ks[u];
        buf_printf(d, "        case %ld: {\n", K);
        for (int k = 0; k < h->np; k++)
            if (h->p[k].diff)
                buf_printf(d, "            double *gu_%s = vec(len_%s, 7, 8), *bu_%s = "
                              "vec(len_%s, 7, 8), *hu_%s = vec(len_%s, 7, 8);\n",
                           h->p[k].name, h->p[k].name, h->p[k].name, h->p[k].name,
                           h->p[k].name, h->p[k].name);
        a = call_args(h, 0, NULL, NULL, NULL);
        buf_printf(d, "            near(M, \"value\", K, 0, vk, u%ld_%s(%s), 1, 1e-12);\n", K,
                   M, a);
        free(a);
        a = call_args(h, 0, "gu_%s", "gu_%s", NULL);
        buf_printf(d, "            u%ld_%s_grad(%s);\n", K, M, a);
        free(a);
        buf_puts(d, "            double umax = 0, uscale = 0, ju = 0;\n"
                    "            (void)uscale;\n            (void)ju;\n");
        each_diff(d, h, "            ", "umax = maxabs(gu_@ + k, 1, umax), uscale += "
                                        "fabs(gu_@[k] * d_@[k]);");
        each_diff(d, h, "            ", "near(M, \"grad\", K, k, gk_@[k], gu_@[k], umax, 1e-12);");
        a = call_args(h, 0, "d_%s[0]", "d_%s", "&ju");
        buf_printf(d, "            u%ld_%s_jvp(%s);\n", K, M, a);
        free(a);
        buf_puts(d, "            near(M, \"jvp\", K, 0, jk, ju, uscale, 1e-12);\n");
        a = call_args(h, 0, "bu_%s", "bu_%s", "BEFORE:ub");
        buf_printf(d, "            u%ld_%s_vjp(%s);\n", K, M, a);
        free(a);
        each_diff(d, h, "            ", "near(M, \"vjp\", K, k, bk_@[k], bu_@[k], "
                                        "fabs(ub) * umax, 1e-12);");
        {
            char *hv = call_args(h, -1, "hu_%s", "hu_%s", NULL);
            a = call_args(h, 0, "d_%s[0]", "d_%s", hv);
            buf_printf(d, "            u%ld_%s_hvp(%s);\n", K, M, a);
            free(a);
            free(hv);
            buf_puts(d, "            double hmax = 0;\n");
            each_diff(d, h, "            ", "hmax = maxabs(hu_@ + k, 1, hmax);");
            each_diff(d, h, "            ", "near(M, \"hvp\", K, k, hk_@[k], hu_@[k], hmax, "
                                            "1e-12);");
        }
        if (band)
            put_band_check(d, m, h, 1, K);
        for (int k = 0; k < h->np; k++)
            if (h->p[k].diff)
                buf_printf(d, "            free(gu_%s);\n            free(bu_%s);\n"
                              "            free(hu_%s);\n",
                           h->p[k].name, h->p[k].name, h->p[k].name);
        buf_puts(d, "            break;\n        }\n");
    }
    buf_puts(d, "        default:\n            printf(\"no check for n = %ld\\n\", K);\n"
                "            n_fail++;\n        }\n");
    for (int k = 0; k < h->np; k++) {
        const char *n = h->p[k].name;
        buf_printf(d, "        free(p_%s);\n", n);
        if (h->p[k].diff)
            buf_printf(d, "        free(d_%s);\n        free(gk_%s);\n        free(bk_%s);\n"
                          "        free(ra_%s);\n        free(rv_%s);\n        free(ga_%s);\n"
                          "        free(va_%s);\n        free(hk_%s);\n",
                       n, n, n, n, n, n, n, n);
    }
    if (work[0])
        buf_puts(d, "        free(work);\n");
    buf_puts(d, "    }\n}\n\n");
}

/* ---- generating, compiling, running ------------------------------------------------------ */

/* Runs adgen on a model's file with the given options into OUT/NAME_SUFFIX.c; the text. */
static char *generate(const Model *m, const char *suffix, const char *options)
{
    char *out = NULL, path[256];
    snprintf(path, sizeof path, OUT "/%s_%s.c", m->name, suffix);
    int rc = runf(&out, ADGEN_CMD " %s " OUT "/%s.expr -o %s 2>&1", options, m->name, path);
    if (rc != 0)
        fail_msg("adgen %s %s.expr: status %d\n%s", options, m->name, rc, out);
    free(out);
    char *text = read_file(path);
    assert_non_null(text);
    return text;
}

/* The kept code allocates nothing and keeps its loops. */
static void check_kept_text(const Model *m, const char *text)
{
    static const char *const banned[] = {"malloc", "calloc", "realloc", "alloca", "free("};
    for (size_t i = 0; i < sizeof banned / sizeof *banned; i++)
        if (strstr(text, banned[i]))
            fail_msg("%s: the kept code calls %s:\n%s", m->name, banned[i], text);
    if (!strstr(text, "for (long "))
        fail_msg("%s: no loop in the kept code:\n%s", m->name, text);
}

/* Writes the models' files, generates their C, and the drivers: OUT/check.c (kept against
 * unrolled) and OUT/check_san.c (the kept code alone, for the sanitizers). */
static void build_drivers(void)
{
    Buf plain = {0}, san = {0}, plain_main = {0}, san_main = {0}, all = {0}, flt = {0};
    buf_puts(&plain, driver_head);
    buf_puts(&san, driver_head);
    for (int i = 0; i < NMODELS; i++) {
        const Model *m = &models[i];
        Head h;
        parse_head(m, &h);
        char path[256], emit[64], *text;
        snprintf(path, sizeof path, OUT "/%s.expr", m->name);
        spit(path, m->src);
        /* the unrolled form has no recurrence to checkpoint */
        snprintf(emit, sizeof emit, "--emit=grad,jvp,vjp,hvp");
        Buf opt = {0};
        int ckp = m->rec == 1 && !m->traj;
        buf_printf(&opt, "%s%s --prefix=k_", emit, ckp ? ",grad-ckp,vjp-ckp" : "");
        if (m->rec)
            buf_printf(&opt, " --header=" OUT "/%s_k.h", m->name);
        text = generate(m, "k", opt.data);
        check_kept_text(m, text);
        free(text);
        /* a recurrence's work array: its size is the header's macro NAME_WORK(sizes) */
        char work[64] = "";
        if (m->rec) {
            snprintf(path, sizeof path, OUT "/%s_k.h", m->name);
            text = read_file(path);
            assert_non_null(text);
            const char *w = strstr(text, "_WORK(");
            assert_non_null(w);
            while (w > text && w[-1] != ' ')
                w--;
            snprintf(work, sizeof work, "%.*s", (int)strcspn(w, "("), w);
            free(text);
        }
        /* hess-sparse: where every differentiated input is an array of run-time size, and
         * no recurrence; found, or refused with its reason */
        int band = !m->rec && h.np > 0;
        for (int k = 0; k < h.np; k++)
            band &= !h.p[k].diff || (h.p[k].rank > 0 && !isdigit((unsigned char)h.p[k].dim[0][0]));
        if (band) {
            char *msg = NULL;
            int rc = runf(&msg, ADGEN_CMD " --emit=hess-sparse --prefix=s_ " OUT "/%s.expr -o "
                                OUT "/%s_s.c --header " OUT "/%s_s.h 2>&1", m->name, m->name,
                          m->name);
            const char *why = refused_band(m->name);
            if (why && (rc != 1 || !strstr(msg, why)))
                fail_msg("%s: hess-sparse should be refused (%s): status %d\n%s", m->name, why,
                         rc, msg);
            if (!why && rc != 0)
                fail_msg("%s: hess-sparse: status %d\n%s", m->name, rc, msg);
            free(msg);
            band = !why;
        }
        if (band) {
            Buf *to[] = {&plain, &san, &all};
            for (int t = 0; t < 3; t++)
                buf_printf(to[t], "#include \"%s_s.h\"\n#include \"%s_s.c\"\n", m->name,
                           m->name);
        }
        opt.len = 0;
        buf_printf(&opt, "--emit=grad,vjp%s --accumulate --prefix=a_", ckp ? ",grad-ckp" : "");
        free(generate(m, "a", opt.data));
        opt.len = 0;
        buf_printf(&opt, "%s%s --real=float --prefix=f_", emit, ckp ? ",grad-ckp,vjp-ckp" : "");
        free(generate(m, "f", opt.data));
        if (m->rec) {
            buf_printf(&plain, "#include \"%s_k.h\"\n", m->name);
            buf_printf(&san, "#include \"%s_k.h\"\n", m->name);
        }
        Buf *to[] = {&plain, &san, &all};
        for (int t = 0; t < 3; t++) {
            buf_printf(to[t], "#include \"%s_k.c\"\n", m->name);
            buf_printf(to[t], "#include \"%s_a.c\"\n", m->name);
        }
        buf_printf(&flt, "#include \"%s_f.c\"\n", m->name);
        long ks[8];
        int nk = 0;
        for (size_t s = 0; s < sizeof plain_sizes / sizeof *plain_sizes; s++) {
            long K = plain_sizes[s];
            if (K < m->kmin)
                continue;
            opt.len = 0;
            buf_printf(&opt, "%s%s --prefix=u%ld_", emit, band ? ",hess-sparse" : "", K);
            if (band) /* the count's macro is the header's */
                buf_printf(&opt, " --header=" OUT "/%s_u%ld.h", m->name, K);
            for (int z = 0; z < h.nsizes; z++)
                buf_printf(&opt, " -D %s=%ld", h.size[z], size_value(K, z));
            char suffix[32];
            snprintf(suffix, sizeof suffix, "u%ld", K);
            free(generate(m, suffix, opt.data));
            if (band)
                buf_printf(&plain, "#include \"%s_%s.h\"\n", m->name, suffix);
            buf_printf(&plain, "#include \"%s_%s.c\"\n", m->name, suffix);
            ks[nk++] = K;
        }
        buf_free(&opt);
        buf_puts(&plain, "\n");
        buf_puts(&san, "\n");
        put_check(&plain, m, &h, work, band, 1, nk, ks);
        put_check(&san, m, &h, work, band, 0, 0, NULL);
        for (size_t s = 0; s < sizeof plain_sizes / sizeof *plain_sizes; s++)
            buf_printf(&plain_main, "    check_%s(%ld, %ld, 3);\n", m->name, plain_sizes[s],
                       plain_sizes[s] < m->kmin ? 0 : plain_sizes[s]);
        for (size_t s = 0; s < sizeof san_sizes / sizeof *san_sizes; s++) {
            long size = m->nested && san_sizes[s] > NESTED_LARGE ? NESTED_LARGE : san_sizes[s];
            buf_printf(&san_main, "    check_%s(%ld, %d, %d);\n", m->name, size,
                       size < m->kmin ? 0 : -1, size > 1000 ? 1 : 3);
        }
    }
    static const char tail[] = "    printf(\"checks %ld failures %ld\\n\", n_checks, n_fail);\n"
                               "    return n_fail != 0;\n}\n";
    buf_printf(&plain, "int main(void)\n{\n%s", plain_main.data);
    buf_puts(&plain, tail);
    buf_printf(&san, "int main(void)\n{\n%s", san_main.data);
    buf_puts(&san, tail);
    spit(OUT "/check.c", plain.data);
    spit(OUT "/check_san.c", san.data);
    spit(OUT "/kept_all.c", all.data);
    spit(OUT "/kept_float.c", flt.data);
    buf_free(&all);
    buf_free(&flt);
    buf_free(&plain);
    buf_free(&san);
    buf_free(&plain_main);
    buf_free(&san_main);
}

/* The three compilations, at once (each a test below): the driver against the unrolled code
 * with gcc and clang; the kept code's driver under the sanitizers; the kept code alone,
 * optimized (gcc warns of more then) and as C++ (the generated code's contract), and in
 * float. Each job leaves OUT/JOB.log and its status in OUT/JOB.rc. */
static const char *const jobs[][2] = {
    {"plain", GCC " -O0 -o check check.c -lm && " CLANG " check.c"},
    {"san", GCC " -O0 " SAN " -o check_san check_san.c -lm"},
    {"kept", GCC " -O1 -c -o kept_all.o kept_all.c && " GXX " kept_all.c && " GCC
             " -fsyntax-only kept_float.c"},
};

static enum { NOT_YET, BUILT, FAILED } compiled;

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void compile_all(void)
{
    if (compiled == FAILED)
        fail_msg("the drivers could not be made: see the first test that failed");
    if (compiled == BUILT)
        return;
    compiled = FAILED;
    build_drivers();
    Buf cmd = {0};
    buf_puts(&cmd, "cd " OUT " && rm -f *.rc && { ");
    for (size_t i = 0; i < sizeof jobs / sizeof *jobs; i++)
        buf_printf(&cmd, "{ %s; } >%s.log 2>&1; echo $? >%s.rc & ", jobs[i][1], jobs[i][0],
                   jobs[i][0]);
    /* fails when a job did (job_done says which): a failure is not kept by run_cached */
    buf_puts(&cmd, "wait; } && ! grep -qvx 0 *.rc");
    /* what the jobs read: every .c and .h of OUT (the drivers and what adgen wrote), which
     * the second pass of make test writes byte for byte as the first did */
    DIR *dir = opendir(OUT);
    assert_non_null(dir);
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *ent; (ent = readdir(dir));) {
        size_t len = strlen(ent->d_name);
        if (len < 3 || ent->d_name[len - 2] != '.' || !strchr("ch", ent->d_name[len - 1]))
            continue;
        names = realloc(names, (n + 2) * sizeof *names);
        assert_non_null(names);
        names[n] = malloc(sizeof OUT + len + 1);
        assert_non_null(names[n]);
        snprintf(names[n++], sizeof OUT + len + 1, OUT "/%s", ent->d_name);
    }
    closedir(dir);
    assert_non_null(names);
    qsort(names, n, sizeof *names, by_name);
    names[n] = NULL;
    static const char *const made[] = {OUT "/check", OUT "/check_san", OUT "/kept_all.o",
                                       OUT "/plain.log", OUT "/plain.rc", OUT "/san.log",
                                       OUT "/san.rc", OUT "/kept.log", OUT "/kept.rc", NULL};
    run_cached(NULL, cmd.data, (const char *const *)names, made);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    buf_free(&cmd);
    compiled = BUILT;
}

/* Fails the test when the job failed, with its messages. */
static void job_done(int i)
{
    char path[128];
    snprintf(path, sizeof path, OUT "/%s.rc", jobs[i][0]);
    char *rc = read_file(path);
    snprintf(path, sizeof path, OUT "/%s.log", jobs[i][0]);
    char *log = read_file(path);
    if (!rc || atoi(rc) != 0)
        fail_msg("%s: status %s\n%s", jobs[i][1], rc ? rc : "(none)", log ? log : "");
    free(rc);
    free(log);
}

static void test_kept_against_unrolled(void **state)
{
    (void)state;
    compile_all();
    job_done(0);
    char *log = NULL;
    int rc = runf(&log, "cd " OUT " && ./check 2>&1");
    printf("%s", log ? log : "");
    if (rc != 0)
        fail_msg("the kept code against the unrolled: status %d", rc);
    assert_int_equal(count_after(log, "failures "), 0);
    assert_true(count_after(log, "checks ") > 2000);
    free(log);
}

static void test_kept_sanitized_large_n(void **state)
{
    (void)state;
    compile_all();
    job_done(1);
    char *log = NULL;
    int rc = runf(&log, "cd " OUT " && ./check_san 2>&1");
    printf("%s", log ? log : "");
    if (rc != 0)
        fail_msg("the kept code under ASan and UBSan: status %d", rc);
    assert_int_equal(count_after(log, "failures "), 0);
    assert_true(count_after(log, "checks ") > 500);
    free(log);
}

static void test_kept_compiles_optimized_and_as_cxx(void **state)
{
    (void)state;
    compile_all();
    job_done(2);
}

/* The contract: sizes first, in the order the head names them; run-time arrays and their
 * gradients as pointers. */
/* A comment's lines joined: "\n * " read as one space. */
static void unwrap(char *text)
{
    char *to = text;
    for (const char *from = text; *from;)
        if (strncmp(from, "\n * ", 4) == 0) {
            *to++ = ' ';
            from += 4;
        } else {
            *to++ = *from++;
        }
    *to = '\0';
}

static void test_kept_signatures(void **state)
{
    (void)state;
    char *out = NULL;
    spit(OUT "/sig.expr", models[0].src);
    assert_int_equal(runf(&out, ADGEN_CMD " --emit=grad,jvp,vjp " OUT "/sig.expr"), 0);
#define INPUTS "long N, const double *w, double b, const double *X, const double *y"
    assert_contains(out, "double logistic(" INPUTS ");\n");
    assert_contains(out, "double logistic_grad(" INPUTS ", double *w_bar, double *b_bar);\n");
    assert_contains(out, "double logistic_jvp(" INPUTS ", const double *w_dot, double b_dot, "
                         "double *out_dot);\n");
    assert_contains(out, "double logistic_vjp(" INPUTS ", double out_bar, double *w_bar, "
                         "double *b_bar);\n");
#undef INPUTS
    free(out);
    spit(OUT "/sig2.expr", "f(a, x[m]; y[n], z[m][2]) = a*sum(i = 0..m-1, x[i]*z[i][1]) + "
                           "sum(j = 0..n-1, y[j]*a)\n");
    assert_int_equal(runf(&out, ADGEN_CMD " " OUT "/sig2.expr"), 0);
    assert_contains(out, "double f_grad(long m, long n, double a, const double *x, "
                         "const double *y, const double *z, double *a_bar, double *x_bar);\n");
    free(out);
    /* differentiated only through an array of run-time size: the entries' comments say what
     * they store, not that there is no derivative */
    spit(OUT "/sig3.expr", "rosen(x[N]) = sum(i = 0..N-2, 100*(x[i+1] - x[i]^2)^2 + "
                           "(1 - x[i])^2)\n");
    assert_int_equal(runf(&out, ADGEN_CMD " --emit=grad,hvp " OUT "/sig3.expr"), 0);
    unwrap(out);
    assert_null(strstr(out, "no differentiated input"));
    /* with the sizes' preconditions: x_bar's length 1 * N and an index i + 1 */
    assert_contains(out, "Returns rosen(N, x) and overwrites x_bar[0..N-1] with the partial "
                         "derivatives; it needs N in 0..LONG_MAX / 6 (so that its index "
                         "arithmetic fits a long; -DADGEN_CHECK checks this).");
    assert_contains(out, "stores in x_hv[0..N-1] the Hessian times the direction "
                         "x_dot[0..N-1]");
    free(out);
    /* the ';' before the data forgotten: the entry points say what they differentiate */
    spit(OUT "/sig4.expr", "logit(w[3], b, X[N][3], y[N]) = sum(i = 0..N-1, y[i]*(w[0]*X[i][0] "
                           "+ w[1]*X[i][1] + w[2]*X[i][2] + b))\n");
    assert_int_equal(runf(&out, ADGEN_CMD " " OUT "/sig4.expr"), 0);
    unwrap(out);
    assert_contains(out, "X_bar[0..3 * N - 1] and y_bar[0..N-1] with the partial derivatives; ");
    assert_contains(out, "; X and y, of sizes known only at run time, are differentiated, as "
                         "every input before a ';' is: data goes after one (logit(...; ...)).");
    free(out);
    /* with the ';', or with only run-time arrays differentiated, no such note */
    spit(OUT "/sig5.expr", "logit(w[3], b; X[N][3], y[N]) = sum(i = 0..N-1, y[i]*(w[0]*X[i][0] "
                           "+ w[1]*X[i][1] + w[2]*X[i][2] + b))\n");
    static const char *const plain[] = {OUT "/sig5.expr", OUT "/sig3.expr"};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(runf(&out, ADGEN_CMD " %s", plain[i]), 0);
        assert_null(strstr(out, "as every input before a ';'"));
        free(out);
    }
}

/* Compiled with -DADGEN_CHECK, an entry point checks its sizes before it reads an element: a
 * negative size, one whose index arithmetic would overflow a long and a recurrence's range
 * reversed abort with the message (ADGEN_REQUIRE's default), or go to the includer's
 * ADGEN_REQUIRE (here: print and exit, before any array is read); a size in range runs as
 * without the checks. */
/* OUT/<stem>.expr kept (--emit=<emit> --prefix=k_) and unrolled at `size` (-D size, prefix u_),
 * each with its header, and the driver OUT/<stem>_main.c over both: built warning-free (the
 * kept C by clang too) and run; a failing status fails the test. */
static void kept_beside_unrolled(const char *stem, const char *emit, const char *size)
{
    char *out = NULL;
    int rc = runf(&out, ADGEN_CMD " --emit=%s --prefix=k_ " OUT "/%s.expr -o " OUT "/%s_k.c "
                        "--header " OUT "/%s_k.h && " ADGEN_CMD " -D %s --emit=%s --prefix=u_ "
                        OUT "/%s.expr -o " OUT "/%s_u.c --header " OUT "/%s_u.h && cd " OUT
                        " && " GCC " -o %s %s_k.c %s_u.c %s_main.c -lm && " CLANG " %s_k.c && "
                        "./%s 2>&1", emit, stem, stem, stem, size, emit, stem, stem, stem, stem,
                  stem, stem, stem, stem, stem);
    if (rc != 0)
        fail_msg("%s: status %d\n%s", stem, rc, out);
    free(out);
}

/* A state of data only carries no tangent: at its domain edge (sqrt(w) at w = 0, an infinite
 * partial) jvp and hvp are the unrolled form's numbers, not 0 times infinity. */
static void test_kept_data_state_at_edge(void **state)
{
    (void)state;
    spit(OUT "/dz.expr", "dz(a; n, c) {\n    x[0] = a\n    w[0] = c\n"
                         "    for k = 0..n-1 { x[k+1] = x[k] + sqrt(w[k])*a\n"
                         "                     w[k+1] = w[k]*0.5 }\n    return x[n]^2\n}\n");
    spit(OUT "/dz_main.c",
         "#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n"
         "#include \"dz_k.h\"\n#include \"dz_u.h\"\n"
         "int main(void)\n{\n"
         "    double *w = malloc(K_DZ_WORK(2) * sizeof *w), jk, ju, hk, hu;\n"
         "    k_dz_jvp(2, 0.5, 0.0, 1.0, &jk);\n    u_dz_jvp(0.5, 0.0, 1.0, &ju);\n"
         "    k_dz_hvp(2, 0.5, 0.0, 1.0, &hk, w);\n    u_dz_hvp(0.5, 0.0, 1.0, &hu);\n"
         "    printf(\"jvp %.17g %.17g hvp %.17g %.17g\\n\", jk, ju, hk, hu);\n"
         "    free(w);\n    return !(jk == ju && hk == hu && isfinite(jk) && isfinite(hk));\n}\n");
    kept_beside_unrolled("dz", "jvp,hvp", "n=2");
}

/* hvp beside a recurrence that depends on data only (it stores no step, and reads no work):
 * warning-free, and the unrolled form's numbers at n = 3. */
static void test_kept_hvp_inactive_recurrence(void **state)
{
    (void)state;
    spit(OUT "/inact.expr", "f(a, b; n, c) {\n    s[0] = c\n"
                            "    for k = 0..n-1 { s[k+1] = s[k]*0.5 + 1 }\n"
                            "    return a^3 * s[n] + sin(b)*a\n}\n");
    spit(OUT "/inact_main.c",
         "#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n"
         "#include \"inact_k.h\"\n#include \"inact_u.h\"\n"
         "int main(void)\n{\n"
         "    double *w = malloc(K_F_WORK(3) * sizeof *w), hk[2], hu[2];\n"
         "    double vk = k_f_hvp(3, 0.7, 0.4, 1.5, 0.3, -0.8, &hk[0], &hk[1], w);\n"
         "    double vu = u_f_hvp(0.7, 0.4, 1.5, 0.3, -0.8, &hu[0], &hu[1]);\n"
         "    int bad = fabs(vk - vu) > 1e-14;\n"
         "    for (int i = 0; i < 2; i++)\n"
         "        bad |= fabs(hk[i] - hu[i]) > 1e-13 * (1 + fabs(hu[i]));\n"
         "    printf(\"%.17g %.17g %.17g / %.17g %.17g %.17g\\n\", vk, hk[0], hk[1], vu, hu[0],\n"
         "           hu[1]);\n"
         "    free(w);\n    return bad;\n}\n");
    kept_beside_unrolled("inact", "hvp,hess", "n=3");
}

/* --unroll=N keeps a `for` loop of a constant range over more than N steps as a recurrence
 * where the whole definition can be (the RK4 pendulum at n = 40: its value, gradient, jvp,
 * hvp and Hessian against the unrolled build's to rounding), and unrolls it where it cannot
 * (a state read at a constant index: no loop, no error, the warnings once); the trial
 * lowerings print nothing, so that every message comes once, and the status is the one
 * without the option. */
static void test_kept_unroll_keeps_recurrences(void **state)
{
    (void)state;
    spit(OUT "/ur_main.c",
         "#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n"
         "#include \"ur_k.h\"\n#include \"ur_u.h\"\n"
         "static int far(double a, double b) { return fabs(a - b) > 1e-12 * (1 + fabs(b)); }\n"
         "int main(void)\n{\n"
         "    double *w = malloc(K_OSC_WORK() * sizeof *w), p[5] = {1.3, 0.2, 0.9, 0.05, 0.3};\n"
         "    double v[3] = {0.3, -1.1, 0.7}, gk[3], gu[3], hk[3], hu[3], Hk[9], Hu[9], jk, ju;\n"
         "    int bad = far(k_osc(p[0], p[1], p[2], p[3], p[4]), u_osc(p[0], p[1], p[2], p[3], p[4]));\n"
         "    bad |= far(k_osc_grad(p[0], p[1], p[2], p[3], p[4], gk, gk + 1, gk + 2, w),\n"
         "               u_osc_grad(p[0], p[1], p[2], p[3], p[4], gu, gu + 1, gu + 2));\n"
         "    k_osc_jvp(p[0], p[1], p[2], p[3], p[4], v[0], v[1], v[2], &jk);\n"
         "    u_osc_jvp(p[0], p[1], p[2], p[3], p[4], v[0], v[1], v[2], &ju);\n"
         "    k_osc_hvp(p[0], p[1], p[2], p[3], p[4], v[0], v[1], v[2], hk, hk + 1, hk + 2, w);\n"
         "    u_osc_hvp(p[0], p[1], p[2], p[3], p[4], v[0], v[1], v[2], hu, hu + 1, hu + 2);\n"
         "    k_osc_hess(p[0], p[1], p[2], p[3], p[4], Hk, w);\n"
         "    u_osc_hess(p[0], p[1], p[2], p[3], p[4], Hu);\n"
         "    bad |= far(jk, ju);\n"
         "    for (int i = 0; i < 3; i++)\n"
         "        bad |= far(gk[i], gu[i]) || far(hk[i], hu[i]);\n"
         "    for (int i = 0; i < 9; i++)\n"
         "        bad |= far(Hk[i], Hu[i]);\n"
         "    printf(\"%s: grad %.17g %.17g %.17g, hess[0] %.17g\\n\", bad ? \"DIFFER\" : \"same\",\n"
         "           gk[0], gk[1], gk[2], Hk[0]);\n"
         "    free(w);\n    return bad;\n}\n");
    char *out = NULL;
    int rc = runf(&out, ADGEN_CMD " -D n=40 --unroll=10 --emit=grad,jvp,hvp,hess --prefix=k_ "
                        "samples/oscillator.expr -o " OUT "/ur_k.c --header " OUT "/ur_k.h && "
                        ADGEN_CMD " -D n=40 --emit=grad,jvp,hvp,hess --prefix=u_ "
                        "samples/oscillator.expr -o " OUT "/ur_u.c --header " OUT "/ur_u.h && "
                        "cd " OUT " && " GCC " " SAN " -o ur ur_k.c ur_u.c ur_main.c -lm && "
                        CLANG " ur_k.c && ./ur 2>&1");
    printf("%s", out ? out : "");
    if (rc != 0)
        fail_msg("the pendulum kept by --unroll: status %d", rc);
    free(out);
    char *k = read_file(OUT "/ur_k.c"), *u = read_file(OUT "/ur_u.c");
    assert_non_null(strstr(k, "for (long i = 0; i < 40; i++)"));
    assert_null(strstr(u, "for (long"));
    free(k);
    free(u);
    /* an intermediate state read: unrolled as without the option, its warning printed once */
    spit(OUT "/ur2.expr", "f(a) {\n    x[0] = a\n    for k = 0..29 { x[k+1] = sin(x[k]) + a }\n"
                          "    unused = a*2\n    return x[10] + x[30]\n}\n");
    rc = runf(&out, ADGEN_CMD " --unroll=5 " OUT "/ur2.expr -o " OUT "/ur2.c 2>&1");
    if (rc != 0)
        fail_msg("status %d\n%s", rc, out);
    const char *warn = strstr(out, "'unused' is assigned but never used");
    assert_non_null(warn);
    assert_null(strstr(warn + 1, "'unused' is assigned but never used"));
    assert_null(strstr(out, "error"));
    free(out);
    k = read_file(OUT "/ur2.c");
    assert_null(strstr(k, "for (long"));
    free(k);
    /* the trials print nothing: an error is printed once, with the status of the file
     * without --unroll (recursion, a read before the assignment, an element the loop assigns
     * again), and a list's warning once */
    static const struct {
        const char *stem, *text, *message;
        int status;
    } once[] = {
        {"ur3", "f(a) {\n    x[0] = a\n    for k = 0..9 { x[k+1] = 0.5*sin(x[k]) + a }\n"
                "    return x[10] + f(a)\n}\n", "recursion cannot be unrolled", 1},
        {"ur4", "f(a) {\n    x[0] = a\n    for k = 0..9 { x[k+1] = 0.5*sin(x[k]) + z[0] }\n"
                "    z[0] = a\n    return x[10]\n}\n", "is read before it is assigned", 1},
        {"ur5", "f(a, b) {\n    x[0] = a\n    x[5] = b\n"
                "    for k = 0..19 { x[k+1] = 0.5*sin(x[k]) + a }\n    return x[20]\n}\n",
         "is assigned twice", 1},
        {"ur6", "f(a, b) {\n    x[0] = a\n    v[0] = b\n    unused = a*2\n"
                "    for k = 0..19 { x[k+1] = x[k] + 0.1*v[k]\n"
                "                    v[k+1] = v[k] - 0.1*sin(x[k]) }\n"
                "    return [x[20], v[20]]\n}\n", "'unused' is assigned but never used", 0},
    };
    for (size_t i = 0; i < sizeof once / sizeof *once; i++) {
        char path[64];
        snprintf(path, sizeof path, OUT "/%s.expr", once[i].stem);
        spit(path, once[i].text);
        for (int unroll = 0; unroll < 2; unroll++) {
            rc = runf(&out, ADGEN_CMD " %s %s -o " OUT "/%s.c 2>&1", unroll ? "--unroll=3" : "",
                      path, once[i].stem);
            const char *hit = strstr(out, once[i].message);
            if (rc != once[i].status || !hit || strstr(hit + 1, once[i].message))
                fail_msg("%s%s: status %d, expected %d, and '%s' once:\n%s", once[i].stem,
                         unroll ? " --unroll=3" : "", rc, once[i].status, once[i].message, out);
            free(out);
        }
    }
}

/* A constant beyond 2^32 in a recurrence's step: the tape's walk read every node's number as
 * a slot, a float-to-integer conversion out of range (UBSan, in the sanitized pass; fuzz). */
static void test_kept_huge_constant_in_step(void **state)
{
    (void)state;
    spit(OUT "/huge.expr", "f(a; n) {\n    s[0] = a\n    for k = 0..n-1 { s[k+1] = sin(s[k]*1e308) + "
                           "a }\n    return s[n]\n}\n");
    char *out = NULL;
    int rc = runf(&out, ADGEN_CMD " --emit=grad,hvp " OUT "/huge.expr 2>&1");
    if (rc != 0)
        fail_msg("status %d\n%s", rc, out);
    free(out);
}

/* Definitions called with arrays of run-time sizes (a Lagrangian from its objective and a
 * constraint helper or the constraints' map, c = con(x); a residual map passed to a sum of
 * squares; a recurrence over a size passed on; a data scalar named like the caller's size,
 * which stays a value) against the same functions inlined by hand: value, gradient, jvp and
 * the sparse Hessian (its pattern as code, to the entry), to rounding, at several sizes. */
static void test_kept_calls_like_inlined(void **state)
{
    (void)state;
    spit(OUT "/called.expr",
         "inline c1(a, b) = b - a^2 + 0.1*sin(a)\n"
         "obj(x[N]) = sum(i = 0..N-2, 100*(x[i+1] - x[i]^2)^2 + (1 - x[i])^2)\n"
         "sumsq(v[m]) = sum(i = 0..m-1, v[i]^2)\n"
         "walk(x0, h; m) {\n    x[0] = x0\n"
         "    for k = 0..m-1 { x[k+1] = x[k] + h*sin(x[k]) }\n    return x[m]\n}\n"
         "lag(x[N]; sigma, lam[N]) {\n"
         "    for i = 0..N-2 { r[i] = c1(x[i], x[i+1]) }\n"
         "    return sigma*obj(x) + sum(i = 0..N-2, lam[i]*r[i]) + sumsq(r)\n}\n"
         "scale(a; n) = a*n\n"
         "tr(a; y[n]) = walk(a, 0.2, n) + sumsq(y)*a + scale(a, 2.5)\n"
         "con(x[N]) {\n    for i = 0..N-2 { r[i] = c1(x[i], x[i+1]) }\n    return r\n}\n"
         "lag2(x[N]; sigma, lam[N]) {\n    c = con(x)\n"
         "    return sigma*obj(x) + sum(i = 0..N-2, lam[i]*c[i]) + sumsq(c)\n}\n"
         "res(x[N]) {\n    c = con(x)\n    return c\n}\n");
    spit(OUT "/inlined.expr",
         "lag(x[N]; sigma, lam[N]) {\n"
         "    for i = 0..N-2 { r[i] = x[i+1] - x[i]^2 + 0.1*sin(x[i]) }\n"
         "    return sigma*sum(i = 0..N-2, 100*(x[i+1] - x[i]^2)^2 + (1 - x[i])^2) +\n"
         "        sum(i = 0..N-2, lam[i]*r[i]) + sum(i = 0..N-2, r[i]^2)\n}\n"
         "tr(a; y[n]) {\n    x[0] = a\n"
         "    for k = 0..n-1 { x[k+1] = x[k] + 0.2*sin(x[k]) }\n"
         "    return x[n] + sum(i = 0..n-1, y[i]^2)*a + a*2.5\n}\n"
         "res(x[N]) {\n    for i = 0..N-2 { r[i] = x[i+1] - x[i]^2 + 0.1*sin(x[i]) }\n"
         "    return r\n}\n");
    spit(OUT "/calls_main.c",
         "#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n"
         "#include \"called.h\"\n#include \"inlined.h\"\n"
         "static int far(double a, double b)\n{\n"
         "    return !(fabs(a - b) <= 1e-13 * (1 + fabs(b)));\n}\n"
         "int main(void)\n{\n    int bad = 0;\n"
         "    for (long n = 0; n <= 9; n++) {\n"
         "        double x[10], lam[10], y[10], gc[10], gh[10], hc[40], hh[40], ac, ah;\n"
         "        long rc[40], cc[40], rh[40], ch[40], nnz = c_lag_hess_sparse_nnz(n);\n"
         "        double *w = malloc((C_TR_WORK(n) + H_TR_WORK(n) + 1) * sizeof *w);\n"
         "        for (long i = 0; i < n; i++) {\n"
         "            x[i] = 0.4 + 0.3 * sin(1.7 * i);\n"
         "            lam[i] = 0.5 - 0.1 * i;\n"
         "            y[i] = 0.2 * i - 0.3;\n        }\n"
         "        double r[10], rd[10], hr[10], hrd[10], d[10];\n"
         "        for (long i = 0; i < n; i++)\n            d[i] = cos(1.0 + i);\n"
         "        c_res_jvp(n, x, d, r, rd);\n        h_res_jvp(n, x, d, hr, hrd);\n"
         "        for (long i = 0; i + 1 < n; i++)\n"
         "            bad |= far(r[i], hr[i]) || far(rd[i], hrd[i]);\n"
         "        bad |= far(c_lag2(n, x, 1.3, lam), h_lag(n, x, 1.3, lam));\n"
         "        c_lag2_hess_sparse(n, x, 1.3, lam, hc, w);\n"
         "        h_lag_hess_sparse(n, x, 1.3, lam, hh, w);\n"
         "        for (long k = 0; k < nnz && k < 40; k++)\n"
         "            bad |= far(hc[k], hh[k]);\n"
         "        bad |= nnz != c_lag2_hess_sparse_nnz(n);\n"
         "        bad |= far(c_lag(n, x, 1.3, lam), h_lag(n, x, 1.3, lam));\n"
         "        bad |= far(c_lag_grad(n, x, 1.3, lam, gc), h_lag_grad(n, x, 1.3, lam, gh));\n"
         "        for (long i = 0; i < n; i++)\n            bad |= far(gc[i], gh[i]);\n"
         "        bad |= nnz != h_lag_hess_sparse_nnz(n) || nnz > 40 || (n > 1 && nnz == 0);\n"
         "        c_lag_hess_sparse_pattern(n, rc, cc);\n"
         "        h_lag_hess_sparse_pattern(n, rh, ch);\n"
         "        c_lag_hess_sparse(n, x, 1.3, lam, hc, w);\n"
         "        h_lag_hess_sparse(n, x, 1.3, lam, hh, w);\n"
         "        for (long k = 0; k < nnz && k < 40; k++)\n"
         "            bad |= rc[k] != rh[k] || cc[k] != ch[k] || far(hc[k], hh[k]);\n"
         "        bad |= far(c_tr(n, 0.7, y), h_tr(n, 0.7, y));\n"
         "        bad |= far(c_tr_grad(n, 0.7, y, &ac, w), h_tr_grad(n, 0.7, y, &ah, w));\n"
         "        bad |= far(ac, ah);\n"
         "        printf(\"n %ld: nnz %ld, tr' %.17g %.17g%s\\n\", n, nnz, ac, ah,\n"
         "               bad ? \" BAD\" : \"\");\n"
         "        free(w);\n    }\n    return bad;\n}\n");
    char *out = NULL;
    int rc = runf(&out, ADGEN_CMD " --emit=grad,jvp,hess-sparse --prefix=c_ " OUT "/called.expr "
                        "-o " OUT "/called.c --header " OUT "/called.h && " ADGEN_CMD
                        " --emit=grad,jvp,hess-sparse --prefix=h_ " OUT "/inlined.expr -o " OUT
                        "/inlined.c --header " OUT "/inlined.h && cd " OUT " && " GCC
                        " -o calls called.c inlined.c calls_main.c -lm && " CLANG
                        " called.c && ./calls 2>&1");
    if (rc != 0)
        fail_msg("status %d\n%s", rc, out);
    free(out);
}

/* Residuals assigned in the loop of a recurrence beside its states, returned (and another
 * map there read by a sum): the recurrence's iteration is lowered again for them, its states
 * read from their trajectory. Values, jvp, vjp and jac against the unrolled form at n = 4, and
 * the sum's value and gradient against its own. */
static void test_kept_map_in_recurrence(void **state)
{
    (void)state;
    spit(OUT "/rm.expr",
         "res(p[2]; x0, y[n]) {\n    x[0] = x0\n    v[0] = 0\n    for k = 0..n-1 {\n"
         "        a = -p[0]*sin(x[k]) - p[1]*v[k]\n        x[k+1] = x[k] + 0.1*v[k]\n"
         "        v[k+1] = v[k] + 0.1*a\n        r[k] = x[k+1] - y[k] + 0.01*a\n    }\n"
         "    return r\n}\n"
         "loss(b; y[n]) {\n    x[0] = b\n    for j = 0..n-1 {\n"
         "        x[j+1] = x[j] + 0.1*sin(x[j]) + y[j]\n        z[j] = x[j]*y[j]\n    }\n"
         "    return sum(i = 0..n-1, z[i]^2) + x[n]\n}\n");
    spit(OUT "/rm_main.c",
         "#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n"
         "#include \"rm_k.h\"\n#include \"rm_u.h\"\n"
         "static int far(double a, double b)\n{\n"
         "    return !(fabs(a - b) <= 1e-13 * (1 + fabs(b)));\n}\n"
         "int main(void)\n{\n"
         "    double p[2] = {0.8, 0.3}, y[4] = {0.1, -0.2, 0.35, 0.5}, pd[2] = {0.6, -1.1};\n"
         "    double ub[4] = {1, -2, 0.5, 0.25}, ok[4], ou[4], dk[4], du[4], gk[2], gu[2];\n"
         "    double jk[8], ju[8], bk, bu, *w = malloc(K_RES_WORK(4) * sizeof *w);\n"
         "    double *wl = malloc(K_LOSS_WORK(4) * sizeof *wl);\n    int bad = 0;\n"
         "    k_res_jvp(4, p, 0.4, y, pd, ok, dk, w);\n    u_res_jvp(p, 0.4, y, pd, ou, du);\n"
         "    for (int i = 0; i < 4; i++)\n        bad |= far(ok[i], ou[i]) || far(dk[i], du[i]);\n"
         "    k_res_vjp(4, p, 0.4, y, ub, ok, gk, w);\n    u_res_vjp(p, 0.4, y, ub, ou, gu);\n"
         "    bad |= far(gk[0], gu[0]) || far(gk[1], gu[1]);\n"
         "    k_res_jac(4, p, 0.4, y, ok, jk, w);\n    u_res_jac(p, 0.4, y, ou, ju);\n"
         "    for (int i = 0; i < 8; i++)\n        bad |= far(jk[i], ju[i]);\n"
         "    bad |= far(k_loss_grad(4, 0.3, y, &bk, wl), u_loss_grad(0.3, y, &bu));\n"
         "    bad |= far(bk, bu);\n"
         "    printf(\"jac %.17g %.17g, loss' %.17g %.17g\\n\", jk[5], ju[5], bk, bu);\n"
         "    free(w);\n    free(wl);\n    return bad;\n}\n");
    kept_beside_unrolled("rm", "grad,jvp,vjp,jac", "n=4");
}

/* jac and hess along all their directions in one pass (func_directions): a map of two values
 * a step reading a recurrence's trajectory and a sum over it (an outer tangent per direction,
 * read in the map's loop), and a fit's loss over a recurrence's trajectory (hess: the
 * adjoints' tangents per direction, in the reverse loop). Against the unrolled form at n = 3,
 * and against jvp (hvp) along each unit direction to the bit (what they were made of
 * before); a time grid, a recurrence of data only whose trajectory a sum reads (its regions
 * of adjoints' tangents are zeroed per direction in a loop that carries no tangent: it did
 * not compile). With more directions than it takes in one pass (65 scalars), jac calls jvp
 * per column, against the unrolled form too; and so does hess where the values that depend
 * on the direction outside the loops would take too much stack (64 scalars, 64 x 64
 * products). */
static void test_kept_jac_directions(void **state)
{
    (void)state;
    spit(OUT "/jd.expr",
         "w2(p[3], q; y[n]) {\n    x[0] = p[0]\n    v[0] = q\n    for k = 0..n-1 {\n"
         "        x[k+1] = x[k] + 0.1*v[k]*p[1]\n"
         "        v[k+1] = v[k] - 0.1*sin(x[k]) + p[2]*y[k]\n    }\n"
         "    s = sum(k = 0..n-1, x[k+1]*y[k])\n    for i = 0..n-1 {\n"
         "        r[i][0] = x[i+1] - y[i]*s\n        r[i][1] = v[i+1]*q*exp(s)\n    }\n"
         "    return r\n}\n"
         "wide(p[65]; y[n]) {\n"
         "    for i = 0..n-1 { r[i] = y[i]*sum(j = 0..64, p[j]*sin(j*y[i])) }\n"
         "    return r\n}\n"
         "fit(p[3]; y[n]) {\n    x[0] = p[0]\n    v[0] = 0.5\n    for k = 0..n-1 {\n"
         "        x[k+1] = x[k] + 0.1*v[k]*p[1]\n"
         "        v[k+1] = v[k] - 0.1*sin(x[k]) + p[2]*y[k]\n    }\n"
         "    s = sum(k = 0..n-1, (x[k+1] - y[k])^2)\n"
         "    return s + 0.5*v[n]^2 + log(1 + sum(k = 0..n-1, exp(p[2]*y[k])))\n}\n"
         "grid(c; y[n], h) {\n    t[0] = 0\n    for k = 0..n-1 { t[k+1] = t[k] + h }\n"
         "    return sum(k = 0..n-1, c^3*sqrt(t[k+1])*y[k])\n}\n");
    spit(OUT "/jd_main.c",
         "#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n"
         "#include \"jd_k.h\"\n#include \"jd_u.h\"\n"
         "static int far(double a, double b)\n{\n"
         "    return !(fabs(a - b) <= 1e-13 * (1 + fabs(b)));\n}\n"
         "int main(void)\n{\n"
         "    double p[65], q = 0.9, y[3] = {0.5, -0.25, 1.5}, ok[6], ou[6], ov[6], od[6];\n"
         "    double jk[65 * 3], ju[65 * 3], dir[4], *w = malloc(K_W2_WORK(3) * sizeof *w);\n"
         "    int bad = 0;\n"
         "    for (int j = 0; j < 65; j++)\n        p[j] = 0.7 + 0.1 * j;\n"
         "    k_w2_jac(3, p, q, y, ok, jk, w);\n    u_w2_jac(p, q, y, ou, ju);\n"
         "    for (int i = 0; i < 6; i++)\n        bad |= far(ok[i], ou[i]);\n"
         "    for (int i = 0; i < 24; i++)\n        bad |= far(jk[i], ju[i]);\n"
         "    for (int c = 0; c < 4; c++) {\n"
         "        for (int j = 0; j < 4; j++)\n            dir[j] = j == c;\n"
         "        k_w2_jvp(3, p, q, y, dir, dir[3], ov, od, w);\n"
         "        for (int i = 0; i < 6; i++)\n"
         "            bad |= od[i] != jk[4 * i + c] || ov[i] != ok[i];\n    }\n"
         "    k_wide_jac(3, p, y, ok, jk);\n    u_wide_jac(p, y, ou, ju);\n"
         "    for (int i = 0; i < 3; i++)\n        bad |= far(ok[i], ou[i]);\n"
         "    for (int i = 0; i < 65 * 3; i++)\n        bad |= far(jk[i], ju[i]);\n"
         "    printf(\"jac %.17g %.17g, wide %.17g %.17g\\n\", jk[5], ju[5], jk[100], ju[100]);\n"
         "    double *wf = malloc(K_FIT_WORK(3) * sizeof *wf), hk[9], hu[9], hv[3];\n"
         "    bad |= far(k_fit_hess(3, p, y, hk, wf), u_fit_hess(p, y, hu));\n"
         "    for (int i = 0; i < 9; i++)\n        bad |= far(hk[i], hu[i]);\n"
         "    for (int c = 0; c < 3; c++) {\n"
         "        for (int j = 0; j < 3; j++)\n            dir[j] = j == c;\n"
         "        k_fit_hvp(3, p, y, dir, hv, wf);\n"
         "        for (int i = c; i < 3; i++)\n"
         "            bad |= hv[i] != hk[3 * i + c] || hk[3 * c + i] != hk[3 * i + c];\n    }\n"
         "    printf(\"hess %.17g %.17g\\n\", hk[5], hu[5]);\n"
         "    double *wg = malloc(K_GRID_WORK(3) * sizeof *wg);\n"
         "    bad |= far(k_grid_hess(3, 0.8, y, 0.25, hk, wg), u_grid_hess(0.8, y, 0.25, hu));\n"
         "    bad |= far(hk[0], hu[0]);\n    free(wg);\n"
         "    free(wf);\n    free(w);\n    return bad;\n}\n");
    kept_beside_unrolled("jd", "jvp,jac,hvp,hess", "n=3");
    char *out = NULL;
    /* one pass, no call of jvp; the wide one by columns */
    assert_int_equal(runf(&out, "sed -n '/^ADGEN_FUNC void k_w2_jac(/,/^}/p' " OUT "/jd_k.c"), 0);
    assert_contains(out, "for (long d = 0; d < 4; d++) {");
    assert_null(strstr(out, "k_w2_jvp("));
    free(out);
    out = NULL;
    assert_int_equal(runf(&out, "sed -n '/^ADGEN_FUNC void k_wide_jac(/,/^}/p' " OUT "/jd_k.c"),
                     0);
    assert_contains(out, "k_wide_jvp(");
    free(out);
    out = NULL;
    assert_int_equal(runf(&out, "sed -n '/^ADGEN_FUNC double k_fit_hess(/,/^}/p' " OUT "/jd_k.c"),
                     0);
    assert_contains(out, "for (long d = 0; d < 3; d++) {");
    assert_null(strstr(out, "k_fit_hvp("));
    free(out);
    spit(OUT "/jdbig.expr",
         "big(p[64]; n, obs[n]) {\n    s = sum(k = 0..n-1, obs[k]*p[0]*p[1])\n"
         "    for i = 0..63 { z[i] = sin(p[i]*s) }\n"
         "    for i = 0..63 { y[i] = tanh(sum(j = 0..63, z[j]*p[j]*(i+1))) }\n"
         "    return sum(i = 0..63, y[i]^2)\n}\n");
    out = NULL;
    assert_int_equal(runf(&out, ADGEN_CMD " --emit=hess " OUT "/jdbig.expr -o " OUT "/jdbig.c && "
                                GCC " -c " OUT "/jdbig.c -o " OUT "/jdbig.o && sed -n "
                                "'/^ADGEN_FUNC double big_hess(/,/^}/p' " OUT "/jdbig.c"), 0);
    assert_contains(out, "big_hvp(");
    assert_null(strstr(out, "[d]"));
    free(out);
}

/* The values of a call have the callee's array's shape, kept or unrolled: c = con(x) of a map
 * of two values a step is read c[i][1] in both forms (the unrolled one took one index only);
 * a constant-size one also by one index, row-major: h against its closed form. */
static void test_kept_call_values_shape(void **state)
{
    (void)state;
    spit(OUT "/shape.expr",
         "con(x[N]) {\n    for i = 0..N-1 {\n        r[i][0] = x[i]\n"
         "        r[i][1] = x[i]^2\n    }\n    return r\n}\n"
         "s(x[N]) {\n    c = con(x)\n    return sum(i = 0..N-1, c[i][1]*c[i][0])\n}\n"
         "g(y[2]) {\n    q[0][0] = y[0]\n    q[0][1] = y[1]\n    q[1][0] = y[0]*y[1]\n"
         "    q[1][1] = y[1]^2\n    return q\n}\n"
         "h(y[2]) {\n    c = g(y)\n    return c[1][0] + c[3] + c[0][1]\n}\n");
    spit(OUT "/shape_main.c",
         "#include <math.h>\n#include <stdio.h>\n"
         "#include \"shape_k.h\"\n#include \"shape_u.h\"\n"
         "int main(void)\n{\n"
         "    double x[3] = {0.5, -1.5, 2}, gk[3], gu[3], y[2] = {2, 3}, gh[2];\n"
         "    double vk = k_s_grad(3, x, gk), vu = u_s_grad(x, gu);\n"
         "    int bad = fabs(vk - vu) > 1e-14 || fabs(vk - (0.125 - 3.375 + 8)) > 1e-14;\n"
         "    for (int i = 0; i < 3; i++)\n"
         "        bad |= fabs(gk[i] - 3 * x[i] * x[i]) > 1e-13 || fabs(gu[i] - gk[i]) > 1e-13;\n"
         "    /* h = y0 y1 + y1^2 + y1: 18, gradient (y1, y0 + 2 y1 + 1) = (3, 9) */\n"
         "    bad |= k_h_grad(y, gh) != 18 || gh[0] != 3 || gh[1] != 9;\n"
         "    printf(\"%.17g %.17g %g %g\\n\", vk, vu, gh[0], gh[1]);\n"
         "    return bad;\n}\n");
    kept_beside_unrolled("shape", "grad", "N=3");
}

/* A returned map's jac-sparse of constant-size inputs whose pattern (every entry) reads one
 * size of two: its count and pattern functions compile warning-free (the other size is
 * unused: it was an error under -Werror), and every entry is the unrolled form's, or 0 where
 * the unrolled pattern has none. The map's values read a sum per step. */
static void test_kept_map_pattern_other_size(void **state)
{
    (void)state;
    spit(OUT "/vmap.expr",
         "vmap(a, mu[3]; x[n], z[m]) {\n    for i = 0..n-1 {\n"
         "        r[i] = a*x[i] - log(sum(j = 0..m-1, exp(-(x[i] - z[j]*mu[1])^2)))\n"
         "    }\n    return r\n}\n");
    spit(OUT "/vmap_main.c",
         "#include <math.h>\n#include <stdio.h>\n"
         "#include \"vmap_k.h\"\n#include \"vmap_u.h\"\n"
         "int main(void)\n{\n"
         "    double mu[3] = {0.5, -1.5, 2}, x[3] = {0.25, -1, 0.75}, z[2] = {1.5, -0.5};\n"
         "    double ok[3], ou[3], work[K_VMAP_WORK(3, 2)], jk[12], ju[U_VMAP_JAC_SPARSE_NNZ];\n"
         "    long row[12], col[12];\n"
         "    int bad = k_vmap_jac_sparse_nnz(3, 2) != 12;\n"
         "    k_vmap_jac_sparse_pattern(3, 2, row, col);\n"
         "    k_vmap_jac_sparse(3, 2, 0.3, mu, x, z, ok, jk, work);\n"
         "    u_vmap_jac_sparse(0.3, mu, x, z, ou, ju);\n"
         "    for (int k = 0; k < 12; k++) {\n"
         "        double want = 0;\n"
         "        for (int u = 0; u < U_VMAP_JAC_SPARSE_NNZ; u++)\n"
         "            if (u_vmap_jac_sparse_row[u] == row[k] && u_vmap_jac_sparse_col[u] == col[k])\n"
         "                want = ju[u];\n"
         "        bad |= row[k] != k / 4 || col[k] != k % 4 ||\n"
         "               fabs(jk[k] - want) > 1e-13 * (1 + fabs(want));\n"
         "    }\n"
         "    for (int i = 0; i < 3; i++)\n"
         "        bad |= fabs(ok[i] - ou[i]) > 1e-13 * (1 + fabs(ou[i]));\n"
         "    printf(\"%.17g %.17g\\n\", jk[1], ju[1]);\n"
         "    return bad;\n}\n");
    kept_beside_unrolled("vmap", "jac-sparse", "n=3 -D m=2");
}

/* The bounds of a range that moves with the step: j = 2i..n-2-i is in bounds only where both
 * ranges are not empty at once (proven with both conditions), and runs under the sanitizers
 * at n = 0..9 with x malloc'ed to n, its value and gradient those of the loops written out in
 * the driver; x[3*i] in j = i..n-1-i is out of bounds at n = 3, i = 1 (j = 1), the point the
 * error names. */
static void test_kept_moving_bounds(void **state)
{
    (void)state;
    spit(OUT "/a1.expr", "a1(x[n]) = sum(i = 0..n-1, sin(sum(j = 2*i..n-2-i, x[j])))\n");
    spit(OUT "/a1_main.c",
         "#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include \"a1_k.h\"\n"
         "int main(void)\n{\n    int bad = 0;\n"
         "    for (long n = 0; n <= 9; n++) {\n"
         "        double *x = malloc((size_t)n * sizeof *x + 1), *g = malloc((size_t)n * sizeof *g + 1);\n"
         "        double *w = malloc(sizeof *w * (size_t)K_A1_WORK(n) + 1), *h = calloc((size_t)n + 1, sizeof *h);\n"
         "        double want = 0;\n"
         "        for (long j = 0; j < n; j++)\n            x[j] = 0.3 + 0.1 * (double)j;\n"
         "        for (long i = 0; i < n; i++) {\n            double s = 0;\n"
         "            for (long j = 2 * i; j <= n - 2 - i; j++)\n                s += x[j];\n"
         "            want += sin(s);\n"
         "            for (long j = 2 * i; j <= n - 2 - i; j++)\n                h[j] += cos(s);\n        }\n"
         "        double v = k_a1_grad(n, x, g, w);\n"
         "        bad |= fabs(v - want) > 1e-13 || fabs(k_a1(n, x, w) - want) > 1e-13;\n"
         "        for (long j = 0; j < n; j++)\n            bad |= fabs(g[j] - h[j]) > 1e-13;\n"
         "        free(x), free(g), free(w), free(h);\n    }\n    return bad;\n}\n");
    char *out = NULL;
    int rc = runf(&out, ADGEN_CMD " --emit=grad --prefix=k_ " OUT "/a1.expr -o " OUT "/a1_k.c "
                        "--header " OUT "/a1_k.h && cd " OUT " && " GCC " " SAN " -o a1 a1_k.c "
                        "a1_main.c -lm && ./a1 2>&1");
    if (rc != 0)
        fail_msg("a1: status %d\n%s", rc, out);
    free(out);
    spit(OUT "/e8.expr", "e8(x[n]) = sum(i = 0..n-1, sin(sum(j = i..n-1-i, x[j]*x[3*i])))\n");
    assert_int_equal(runf(&out, ADGEN_CMD " " OUT "/e8.expr -o " OUT "/e8.c 2>&1"), 1);
    assert_contains(out, "index '3*i' of 'x' may be out of bounds for some sizes: j = i..n - i - 1 "
                         "and i = 0..n - 1 make it 3 at i = 1, j = 1 when n = 3, outside 0..2\n");
    free(out);
}

/* A sum over a run-time range in a recurrence's step that reads its states is refused with
 * the way round: its size given with -D, which unrolls it in the step while the recurrence
 * stays a loop; that way gives the fully unrolled form's numbers. */
/* A sum over particles in a recurrence's step that reads the state: kept in the recurrence's
 * loop (the models pstate, pfilt, patt, pfit, pnext check it), or, its size given, unrolled in
 * the step, the recurrence staying a loop, as the fully unrolled form. */
static void test_kept_state_sum_in_recurrence(void **state)
{
    (void)state;
    spit(OUT "/pf.expr", "pf(a, c; z[P], y[T]) {\n    x[0] = 1\n    for k = 0..T-1 {\n"
                         "        x[k+1] = x[k] + 0.1*sum(p = 0..P-1, sin(a*x[k]*z[p]))/P + c*y[k]\n"
                         "    }\n    return x[T]\n}\n");
    char *out = NULL;
    assert_int_equal(runf(&out, ADGEN_CMD " " OUT "/pf.expr -o " OUT "/pf.c 2>&1"), 0);
    assert_int_equal(runf(NULL, "grep -c 'the sum over p at this step' " OUT "/pf.c"), 0);
    free(out);
    assert_int_equal(runf(&out, ADGEN_CMD " --explain " OUT "/pf.expr 2>&1"), 0);
    assert_contains(out, "sum_p[k] = the sum of term over p = 0..P - 1, for each k = 0..T - 1,\n"
                         "computed in the loop of the recurrence over k at each step");
    assert_contains(out, "step(k, x[k], sum_p[k], y[k])");
    free(out);
    spit(OUT "/pf_main.c",
         "#include <math.h>\n#include <stdio.h>\n"
         "#include \"pf_k.h\"\n#include \"pf_u.h\"\n"
         "static int far(double a, double b)\n{\n    return !(fabs(a - b) <= 1e-13 * (1 + fabs(b)));\n}\n"
         "int main(void)\n{\n"
         "    double z[3] = {0.3, -0.7, 1.1}, y[5] = {0.1, 0.2, -0.3, 0.4, 0.5};\n"
         "    double work[K_PF_WORK(5)], gk[2], gu[2], hk[2], hu[2];\n"
         "    int bad = far(k_pf_grad(5, 0.8, 0.3, z, y, gk, gk + 1, work),\n"
         "                  u_pf_grad(0.8, 0.3, z, y, gu, gu + 1));\n"
         "    k_pf_hvp(5, 0.8, 0.3, z, y, 1, -1, hk, hk + 1, work);\n"
         "    u_pf_hvp(0.8, 0.3, z, y, 1, -1, hu, hu + 1);\n"
         "    for (int i = 0; i < 2; i++)\n"
         "        bad |= far(gk[i], gu[i]) || far(hk[i], hu[i]) || gu[i] == 0 || hu[i] == 0;\n"
         "    printf(\"%.17g %.17g\\n\", gk[0], gu[0]);\n"
         "    return bad;\n}\n");
    /* P given to both (the kept one through its options), T kept in one */
    kept_beside_unrolled("pf", "grad,hvp -D P=3", "T=5");
}

/* A state nothing reads is no code in the unrolled form, nor in the kept one: y (whose next
 * value does not read it: its variable was set and never read, which -Werror refuses), g and
 * h with sums per step only they read (their terms' adjoints, 0 times the NaN partial of
 * sqrt(w[p] - 2), made the kept gradient NaN where the unrolled one is a number; h's sum is
 * of the range and the step of x's, one loop with it before it was left out), and x, whose
 * next value is the same node as y's, keeps its sum. grad, jvp and hvp against the unrolled
 * form, at -Werror. */
static void test_kept_dead_state_sums(void **state)
{
    (void)state;
    spit(OUT "/dsum.expr",
         "dsum(a, w[P]; obs[T]) {\n    x[0] = 0.5\n    y[0] = 0.5\n    g[0] = 0\n    h[0] = 0\n"
         "    for k = 0..T-1 {\n        s = sum(p = 0..P-1, exp(-(x[k] + a*w[p] - obs[k])^2))\n"
         "        x[k+1] = 0.5*x[k] + log(s + 1)\n        y[k+1] = 0.5*x[k] + log(s + 1)\n"
         "        g[k+1] = g[k] + sum(p = 0..P-1, sqrt(w[p] - 2)*sin(x[k+1] - obs[k]))\n"
         "        h[k+1] = h[k] + sum(p = 0..P-1, sqrt(w[p] - 2)*x[k])\n"
         "    }\n    return x[T] + sum(p = 0..P-1, w[p])\n}\n");
    spit(OUT "/dsum_main.c",
         "#include <math.h>\n#include <stdio.h>\n"
         "#include \"dsum_k.h\"\n#include \"dsum_u.h\"\n"
         "static int far(double a, double b)\n{\n"
         "    return !(fabs(a - b) <= 1e-13 * (1 + fabs(b))) || !isfinite(a);\n}\n"
         "int main(void)\n{\n"
         "    double w[3] = {0.3, -0.7, 1.1}, o[4] = {0.1, 0.2, -0.3, 0.4};\n"
         "    double d[3] = {0.5, -0.25, 2}, work[K_DSUM_WORK(3, 4)], gk[4], gu[4];\n"
         "    double jk, ju, hk[4], hu[4];\n"
         "    int bad = far(k_dsum_grad(3, 4, 0.8, w, o, gk, gk + 1, work),\n"
         "                  u_dsum_grad(0.8, w, o, gu, gu + 1));\n"
         "    k_dsum_jvp(3, 4, 0.8, w, o, 1.5, d, &jk, work);\n"
         "    u_dsum_jvp(0.8, w, o, 1.5, d, &ju);\n"
         "    k_dsum_hvp(3, 4, 0.8, w, o, 1.5, d, hk, hk + 1, work);\n"
         "    u_dsum_hvp(0.8, w, o, 1.5, d, hu, hu + 1);\n"
         "    bad |= far(jk, ju);\n"
         "    for (int i = 0; i < 4; i++)\n"
         "        bad |= far(gk[i], gu[i]) || far(hk[i], hu[i]);\n"
         "    printf(\"grad %.17g %.17g jvp %.17g %.17g hvp %.17g %.17g\\n\", gk[1], gu[1], jk, ju,\n"
         "           hk[1], hu[1]);\n"
         "    return bad;\n}\n");
    kept_beside_unrolled("dsum", "grad,jvp,hvp", "T=4 -D P=3");
}

/* A recurrence written state first (x[0][t+1] = f(x[0][t], x[1][t]); columns x[i][t+1] of a
 * loop over 0..2) is the one written time first: the same C, but for its comments and #line
 * directives, in every entry point, kept and unrolled; and an array whose other index reads a
 * loop of a run-time range around the recurrence's (a map over i of a recurrence over j)
 * keeps its order, and its kept map. */
static void test_kept_state_first(void **state)
{
    (void)state;
    spit(OUT "/sf.expr",
         "sf(k, c; u[T]) {\n    x[0][0] = 1\n    x[1][0] = 0\n    for t = 0..T-1 {\n"
         "        x[0][t+1] = x[0][t] + 0.05*x[1][t]\n"
         "        x[1][t+1] = x[1][t] - 0.05*(k*sin(x[0][t]) + c*x[1][t] - u[t])\n"
         "    }\n    return [x[0][T], x[1][T]^2]\n}\n");
    spit(OUT "/tf.expr",
         "sf(k, c; u[T]) {\n    x[0][0] = 1\n    x[0][1] = 0\n    for t = 0..T-1 {\n"
         "        x[t+1][0] = x[t][0] + 0.05*x[t][1]\n"
         "        x[t+1][1] = x[t][1] - 0.05*(k*sin(x[t][0]) + c*x[t][1] - u[t])\n"
         "    }\n    return [x[T][0], x[T][1]^2]\n}\n");
    /* columns of a loop over 0..2, each reading column 0's states */
    spit(OUT "/cf.expr",
         "cf(k, z0[3]; u[T]) {\n    for i = 0..2 {\n        x[i][0] = z0[i]\n"
         "        for t = 0..T-1 { x[i][t+1] = 0.9*x[i][t] + 0.1*tanh(u[t] - "
         "k*sin(x[0][t]*x[i][t])) }\n    }\n    return x[0][T]^2 + x[2][T]*x[1][T]\n}\n");
    spit(OUT "/ct.expr",
         "cf(k, z0[3]; u[T]) {\n    for i = 0..2 {\n        x[0][i] = z0[i]\n"
         "        for t = 0..T-1 { x[t+1][i] = 0.9*x[t][i] + 0.1*tanh(u[t] - "
         "k*sin(x[t][0]*x[t][i])) }\n    }\n    return x[T][0]^2 + x[T][2]*x[T][1]\n}\n");
    /* and over 0..P-1 with P given (-D) */
    spit(OUT "/pf.expr",
         "pf(k, z0[P]; u[T]) {\n    for i = 0..P-1 {\n        x[i][0] = z0[i]\n"
         "        for t = 0..T-1 { x[i][t+1] = 0.9*x[i][t] + 0.1*tanh(u[t] - k*x[i][t]) }\n"
         "    }\n    return sum(i = 0..P-1, x[i][T]^2)\n}\n");
    spit(OUT "/pt.expr",
         "pf(k, z0[P]; u[T]) {\n    for i = 0..P-1 {\n        x[0][i] = z0[i]\n"
         "        for t = 0..T-1 { x[t+1][i] = 0.9*x[t][i] + 0.1*tanh(u[t] - k*x[t][i]) }\n"
         "    }\n    return sum(i = 0..P-1, x[T][i]^2)\n}\n");
    /* three indices, time last: moved first, the others in their order (names x_0_1) */
    spit(OUT "/rf.expr",
         "rf(a; u[T]) {\n    x[0][1][0] = 1\n    x[1][0][0] = 0.5\n    for t = 0..T-1 {\n"
         "        x[0][1][t+1] = 0.9*x[0][1][t] + 0.1*x[1][0][t]\n"
         "        x[1][0][t+1] = 0.9*x[1][0][t] - 0.1*a*sin(x[0][1][t]) + u[t]\n"
         "    }\n    return x[0][1][T] + x[1][0][T]^2\n}\n");
    spit(OUT "/rt.expr",
         "rf(a; u[T]) {\n    x[0][0][1] = 1\n    x[0][1][0] = 0.5\n    for t = 0..T-1 {\n"
         "        x[t+1][0][1] = 0.9*x[t][0][1] + 0.1*x[t][1][0]\n"
         "        x[t+1][1][0] = 0.9*x[t][1][0] - 0.1*a*sin(x[t][0][1]) + u[t]\n"
         "    }\n    return x[T][0][1] + x[T][1][0]^2\n}\n");
    static const char *const cases[][3] = {
        {"sf", "tf", "--emit=all"}, {"sf", "tf", "--emit=all -D T=3"},
        {"cf", "ct", "--emit=all"}, {"cf", "ct", "--emit=all -D T=3"},
        {"pf", "pt", "--emit=all -D P=3"}, {"rf", "rt", "--emit=all"}};
    for (int i = 0; i < 6; i++) {
        const char *a = cases[i][0], *b = cases[i][1];
        char *out = NULL;
        int rc = runf(&out, "for f in %s %s; do " ADGEN_CMD " %s " OUT "/$f.expr -o - | "
                            "grep -v '^#line\\|^ \\*\\|^/\\*' > " OUT "/$f.%d.c || exit 1; "
                            "done && cmp " OUT "/%s.%d.c " OUT "/%s.%d.c && grep -c 'ADGEN_FUNC' "
                            OUT "/%s.%d.c", a, b, cases[i][2], i, a, i, b, i, a, i);
        if (rc != 0)
            fail_msg("%s %s: status %d\n%s", a, cases[i][2], rc, out);
        assert_true(atoi(out) >= 8);
        free(out);
    }
    spit(OUT "/cs.expr",
         "cs(w; X[N][3]) {\n    for i = 0..N-1 {\n        r[i][0] = X[i][0]\n"
         "        for j = 1..2 { r[i][j] = r[i][j-1]*w + X[i][j] }\n    }\n"
         "    return sum(i = 0..N-1, r[i][2]^2)\n}\n");
    char *out = NULL;
    assert_int_equal(runf(&out, ADGEN_CMD " --emit=value " OUT "/cs.expr -o - | grep -c "
                                "'the sum, kept as a loop'"), 0);
    assert_string_equal(out, "1\n");
    free(out);
}

/* A recurrence over a run-time range inside a loop over another is an error whose ways round
 * work: the outer size given, that loop is unrolled and the recurrence kept at each of its
 * steps (the model multi checks such recurrences against the unrolled form); the inner size
 * given (a grid of an explicit heat equation, written state first), the inner loop is
 * unrolled in each step of one kept recurrence, whose value is the closed form's. */
static void test_kept_nested_for_way_round(void **state)
{
    (void)state;
    static const char path[] = "tests/errors/runtime_for_nested.expr";
    char *out = NULL;
    assert_int_equal(runf(&out, ADGEN_CMD " %s -o " OUT "/nest.c 2>&1", path), 1);
    assert_contains(out, "give the outer one's size with -D, and this one is kept");
    free(out);
    assert_int_equal(runf(&out, ADGEN_CMD " -D N=2 --emit=value %s -o - | grep -c "
                                "'the recurrence, kept as a loop'", path), 0);
    assert_string_equal(out, "2\n");
    free(out);
    spit(OUT "/heat.expr",
         "heat(a; u0[N], T) {\n    for i = 0..N-1 { u[i][0] = u0[i] }\n"
         "    for t = 0..T-1 {\n        for i = 0..N-1 { u[i][t+1] = u[i][t] + a*u[i][t] }\n"
         "    }\n    return sum(i = 0..N-1, u[i][T])\n}\n");
    assert_int_equal(runf(&out, ADGEN_CMD " " OUT "/heat.expr -o " OUT "/heat.c 2>&1"), 1);
    assert_contains(out, "an array over two run-time ranges (a grid over time) is not supported");
    free(out);
    spit(OUT "/heat_main.c",
         "#include <math.h>\n#include <stdio.h>\n#include \"heat.h\"\n"
         "int main(void)\n{\n    double u0[3] = {1, 2, -0.5};\n"
         "    double v = heat(7, 0.1, u0), want = 2.5 * pow(1.1, 7);\n"
         "    printf(\"%.17g %.17g\\n\", v, want);\n"
         "    return !(fabs(v - want) <= 1e-14 * want);\n}\n");
    int rc = runf(&out, ADGEN_CMD " -D N=3 --emit=value " OUT "/heat.expr -o " OUT "/heat.c "
                        "--header " OUT "/heat.h && grep -c 'the recurrence, kept as a loop' " OUT "/heat.c && "
                        GCC " -o " OUT "/heat " OUT "/heat.c " OUT "/heat_main.c -lm && " OUT
                        "/heat 2>&1");
    if (rc != 0)
        fail_msg("heat: status %d\n%s", rc, out);
    assert_true(strncmp(out, "1\n", 2) == 0);
    free(out);
}

/* Sums per step of one outer loop and one range are one loop: a weighted mean's two sums, a
 * filter's in its recurrence's step; a normaliser inside one of them is a loop before it. */
static void test_kept_sibling_sums_one_loop(void **state)
{
    (void)state;
    static const char *const cases[][3] = {
        {"wm.expr", "wm(q[n], k[n]; v[n]) = sum(i = 0..n-1, sum(j = 0..n-1, v[j]*exp(q[i]*k[j])) "
                    "/ sum(j = 0..n-1, exp(q[i]*k[j])))\n", "the sums over j per step of i"},
        {"pf2.expr", "pf2(a, w[P]; o[T]) {\n    x[0] = 0.5\n    for k = 0..T-1 {\n"
                     "        s = sum(p = 0..P-1, exp(-(x[k] + a*w[p] - o[k])^2))\n"
                     "        x[k+1] = 0.9*x[k] + 0.1*sum(p = 0..P-1, w[p]*exp(-(x[k] + a*w[p] - "
                     "o[k])^2)) / s\n    }\n    return x[T]\n}\n", "the sums over p at this step"},
        {"nm.expr", "nm(q[n], k[n]; v[n]) = sum(i = 0..n-1, sum(j = 0..n-1, v[j]*exp(q[i]*k[j]) / "
                    "sum(l = 0..n-1, exp(q[i]*k[l]))))\n", "the sums over j per step of i"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        char path[256], *out = NULL;
        snprintf(path, sizeof path, OUT "/%s", cases[c][0]);
        spit(path, cases[c][1]);
        assert_int_equal(runf(&out, ADGEN_CMD " --emit=value %s -o - | grep -c '%s'", path,
                              cases[c][2]), 0);
        assert_int_equal(atoi(out), 1);
        free(out);
    }
    /* the normaliser: its own loop over l, before the one over j that reads it */
    char *out = NULL;
    assert_int_equal(runf(&out, ADGEN_CMD " --emit=value " OUT "/nm.expr -o - | grep -o "
                                "'the sums over [a-z] per step' | tr '\\n' ' '"), 0);
    assert_string_equal(out, "the sums over l per step the sums over j per step ");
    free(out);
}

/* An array of two run-time sizes: a Jacobian or Hessian of it differentiated is refused
 * naming it; one of its two sizes given (-D, or a value of eval) asks for both. */
static void test_kept_two_sizes_messages(void **state)
{
    (void)state;
    spit(OUT "/two.expr", "f(X[N][M]; y[N]) = sum(i = 0..N-1, sum(j = 0..M-1, X[i][j]^2*y[i]))\n");
    char *out = NULL;
    static const char *const modes[] = {"jac", "hess", "hess-sparse"};
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
        assert_int_equal(runf(&out, ADGEN_CMD " --emit=%s " OUT "/two.expr -o " OUT "/two.c "
                                    "2>&1", modes[i]), 1);
        assert_contains(out, "'f' differentiates 'X', an array of two sizes known only at run "
                             "time, so it has no ");
        assert_contains(out, "its modes are grad, jvp, vjp, hvp");
        free(out);
    }
    static const char *const one[] = {"-D N=2 " OUT "/two.expr -o " OUT "/two.c",
                                      "eval " OUT "/two.expr N=2 X=1,2 y=1,1"};
    for (size_t i = 0; i < sizeof one / sizeof *one; i++) {
        assert_int_not_equal(runf(&out, ADGEN_CMD " %s 2>&1", one[i]), 0);
        assert_contains(out, "error: 'M' is not a constant, but 'N' before it is: an array's "
                             "second size may be known at run time only with its first");
        free(out);
    }
    /* both given: X = [[1], [2]], y = [1, 1]: f = 1 + 4, df/dX = 2 X */
    assert_int_equal(runf(&out, ADGEN_CMD " eval " OUT "/two.expr N=2 M=1 X=1,2 y=1,1 2>&1"), 0);
    assert_contains(out, "f = 5\n");
    assert_contains(out, "df/dX[1][0] = 4\n");
    free(out);
}

/* Sizes but no loop (a sum over a range empty at every size): every entry point, hess-sparse's
 * pattern as code among them (it crashed adgen), warning-free and the unrolled form's. */
static void test_kept_sizes_without_loop(void **state)
{
    (void)state;
    spit(OUT "/none.expr", "none(x[n]) = sum(i = 1..n*0, x[n-i]) + 2\n");
    spit(OUT "/none_main.c",
         "#include <stdio.h>\n#include <stdlib.h>\n"
         "#include \"none_k.h\"\n#include \"none_u.h\"\n"
         "int main(void)\n{\n"
         "    double x[3] = {1, 2, 3}, g[3] = {7, 7, 7}, h[1], w[K_NONE_WORK(3) + 1];\n"
         "    long row[1], col[1];\n"
         "    int bad = k_none(3, x) != 2 || u_none(x) != 2 || k_none_grad(3, x, g) != 2;\n"
         "    for (int i = 0; i < 3; i++)\n        bad |= g[i] != 0;\n"
         "    bad |= k_none_hess_sparse_nnz(3) != U_NONE_HESS_SPARSE_NNZ ||\n"
         "           k_none_hess_sparse_nnz(3) != 0;\n"
         "    k_none_hess_sparse_pattern(3, row, col);\n"
         "    bad |= k_none_hess_sparse(3, x, h, w) != u_none_hess_sparse(x, h);\n"
         "    printf(\"%ld %d\\n\", k_none_hess_sparse_nnz(3), bad);\n"
         "    return bad;\n}\n");
    kept_beside_unrolled("none", "all", "n=3");
}

static void test_kept_size_checks(void **state)
{
    (void)state;
    spit(OUT "/chk.expr", "chk(a; y[n]) {\n    s[1] = a\n    for k = 1..n-1 { s[k+1] = s[k] + "
                          "y[k] }\n    return s[n] + sum(i = 0..n-1, a*y[i])\n}\n");
    spit(OUT "/chk_main.c",
         "#include <limits.h>\n#include <stdio.h>\n#include <stdlib.h>\n"
         "#define ADGEN_REQUIRE(ok, what) ((ok) ? (void)0 : "
         "(printf(\"refused: %s\\n\", what), exit(0)))\n"
         "#include \"chk.c\"\n"
         "int main(int argc, char **argv)\n{\n"
         "    static double y[4] = {1, 2, 3, 4}, work[64], g;\n"
         "    long n = strtol(argv[1], NULL, 10);\n    (void)argc;\n"
         "    printf(\"%g\\n\", chk_grad(n, 0.5, y, &g, work));\n"
         "    return 0;\n}\n");
    char *out = NULL;
    int rc = runf(&out, ADGEN_CMD " --emit=grad " OUT "/chk.expr -o " OUT "/chk.c 2>&1 && cd "
                        OUT " && gcc " STRICT " -DADGEN_CHECK -o chk_main chk_main.c -lm 2>&1 && "
                        "gcc " STRICT " -DADGEN_CHECK -o chk_abort chk.c -c 2>&1 && " CLANG
                        " -DADGEN_CHECK chk.c 2>&1 && " GXX " -DADGEN_CHECK chk.c 2>&1");
    if (rc != 0)
        fail_msg("-DADGEN_CHECK: status %d\n%s", rc, out);
    free(out);
    /* in range: the value, no failure; n = 0 reverses the recurrence 1..n-1; n = -1 is
     * negative; LONG_MAX / 2 overflows */
    assert_int_equal(runf(&out, OUT "/chk_main 3"), 0);
    assert_string_equal(out, "8.5\n"); /* s[3] = 0.5 + 2 + 3, plus 0.5 * 6 */
    free(out);
    assert_int_equal(runf(&out, OUT "/chk_main 0"), 0);
    assert_contains(out, "refused: chk: the recurrence at line 3 needs n - 1 >= 0");
    free(out);
    assert_int_equal(runf(&out, OUT "/chk_main -1"), 0);
    assert_contains(out, "refused: chk: n must be in 0..LONG_MAX / ");
    free(out);
    assert_int_equal(runf(&out, OUT "/chk_main 4611686018427387903"), 0);
    assert_contains(out, "refused: chk: n must be in 0..LONG_MAX / ");
    free(out);
    /* the default ADGEN_REQUIRE: the message on stderr, then abort */
    spit(OUT "/chk_default.c", "#include \"chk.c\"\nint main(void)\n{\n"
                               "    double y[1] = {1}, work[8], g;\n"
                               "    chk_grad(-3, 0.5, y, &g, work);\n    return 0;\n}\n");
    assert_int_equal(runf(&out, "cd " OUT " && gcc " STRICT " -DADGEN_CHECK -o chk_default "
                                "chk_default.c -lm 2>&1"), 0);
    free(out);
    assert_true(runf(&out, OUT "/chk_default 2>&1") != 0);
    assert_contains(out, "chk: n must be in 0..LONG_MAX / ");
    free(out);
}

/* A kept loop's body is one body: a node budget far below any data's size suffices, as the
 * code is the same whatever n is. */
static void test_kept_size_independent_of_n(void **state)
{
    (void)state;
    char *a = NULL, *b = NULL;
    spit(OUT "/small.expr", models[0].src);
    assert_int_equal(runf(&a, ADGEN_CMD " --emit=grad " OUT "/small.expr"), 0);
    assert_int_equal(runf(&b, ADGEN_CMD " --emit=grad --max-nodes=200 " OUT "/small.expr"), 0);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

/* hess-sparse (jac-sparse of a returned map) where no banded colouring exists: a located
 * error saying why, and --emit=all writes the others without it; where one exists, --emit=all
 * writes it with its pattern. */
static void test_kept_sparse_refused(void **state)
{
    (void)state;
    static const char *const cases[][4] = {
        {"lse(x[n]) = log(sum(i = 0..n-1, exp(x[i])))\n", "1:17",
         "the result is a nonlinear function of this sum", "hess-sparse"},
        {"rv(x[n]) = sum(i = 0..n-1, x[i]*x[n-1-i])\n", "1:12",
         "at a distance that changes with the step", "hess-sparse"},
        {"cv(x[n]) {\n    m = sum(i = 0..n-1, x[i]) / n\n"
         "    return sum(i = 0..n-1, (x[i] - m)^2)\n}\n", "2:9",
         "the result is a nonlinear function of this sum", "hess-sparse"},
        {"rm(x[n]) {\n    for i = 0..n-1 { r[i] = x[i]*x[n-1-i] }\n    return r\n}\n", "2:5",
         "at a distance that changes with the step", "jac-sparse"},
        {"cm(x[n]) {\n    m = sum(i = 0..n-1, x[i]) / n\n"
         "    for i = 0..n-1 { r[i] = (x[i] - m)^2 }\n    return r\n}\n", "3:5",
         "a value computed from the differentiated arrays outside the loop", "jac-sparse"},
        {"fx(x[n]) = sum(i = 0..n-1, exp(x[0])*x[i])\n", "1:12",
         "an index that does not move with the step", "hess-sparse"},
        {"st(x[n], y[n]) = sum(i = 0..n-1, x[i]*y[n-1-i])\n", "1:18",
         "two arrays whose indices move apart as the sizes grow", "hess-sparse"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        spit(OUT "/band.expr", cases[i][0]);
        char *out = NULL, want[64];
        int rc = runf(&out, ADGEN_CMD " --emit=%s " OUT "/band.expr -o " OUT "/band.c 2>&1",
                      cases[i][3]);
        snprintf(want, sizeof want, "band.expr:%s: error: ", cases[i][1]);
        char has[32];
        snprintf(has, sizeof has, "has no %s: ", cases[i][3]);
        if (rc != 1 || !strstr(out, want) || !strstr(out, cases[i][2]) || !strstr(out, has))
            fail_msg("%s: status %d, expected %s ... %s:\n%s", cases[i][0], rc, want,
                     cases[i][2], out);
        free(out);
        assert_int_equal(runf(&out, ADGEN_CMD " --emit=all " OUT "/band.expr"), 0);
        assert_contains(out, "_jvp(");
        if (strstr(out, "_sparse"))
            fail_msg("%s: --emit=all wrote a sparse entry point", cases[i][0]);
        free(out);
    }
    spit(OUT "/band.expr", "rosen(x[n]) = sum(i = 0..n-2, 100*(x[i+1] - x[i]^2)^2 + (1 - x[i])^2)\n");
    char *out = NULL;
    assert_int_equal(runf(&out, ADGEN_CMD " --emit=all " OUT "/band.expr"), 0);
    assert_contains(out, "long rosen_hess_sparse_nnz(long n)");
    assert_contains(out, "void rosen_hess_sparse_pattern(long n, long *row, long *col)");
    free(out);
    /* a map whose values read one array forwards and backwards has a banded Jacobian, but
     * its rows meet a column in an order that changes with the column: no compressed
     * columns, and --emit=all leaves them out */
    spit(OUT "/band.expr", "mir(x[n]) {\n    for i = 0..n-1 {\n        r[i][0] = x[i]^2\n"
                           "        r[i][1] = sin(x[n-1-i])\n    }\n    return r\n}\n");
    assert_int_equal(runf(&out, ADGEN_CMD " --emit=jac-sparse " OUT "/band.expr"), 0);
    assert_contains(out, "void mir_jac_sparse_pattern(long n, long *row, long *col)");
    free(out);
    assert_int_equal(runf(&out, ADGEN_CMD " --emit=jac-sparse --sparse=csc " OUT "/band.expr "
                                "2>&1 >/dev/null"), 1);
    assert_contains(out, "band.expr:1:1: error: --sparse=csc: the values of 'mir' read 'x' at "
                         "indices that move apart with the step");
    free(out);
    assert_int_equal(runf(&out, ADGEN_CMD " --emit=all --sparse=csc " OUT "/band.expr"), 0);
    assert_contains(out, "mir_jvp(");
    if (strstr(out, "_sparse"))
        fail_msg("mir: --emit=all --sparse=csc wrote a sparse entry point");
    free(out);
}

/* jac and hess of a differentiated array of a run-time size: dense, a column per element,
 * each a call of jvp or hvp along a unit direction that the work array holds (a Hessian's
 * column too, and after them what a recurrence's hvp needs). Against the unrolled forms
 * (-D n=K) at n = 1, 2 and 7 to rounding, each returned value the value function's to the
 * bit, the Hessian exactly symmetric; and under ASan and UBSan at n = 0 and 40, every array
 * and the work array malloc'ed to exactly its size. A sum (Rosenbrock), a recurrence whose
 * controls are differentiated, and a returned map beside a scalar (n + 1 columns). */
static void test_kept_dense_runtime_columns(void **state)
{
    (void)state;
    static const char *const srcs[][2] = {
        {"dr", "dr(x[n]) = sum(i = 0..n-2, 100*(x[i+1] - x[i]^2)^2 + (1 - x[i])^2)\n"},
        {"dc", "dc(u[n]) {\n    x[0] = 1\n    for k = 0..n-1 { x[k+1] = x[k] + 0.1*sin(x[k]) "
               "+ u[k]*x[k] }\n    return x[n]^2\n}\n"},
        {"dm", "dm(x[n], s) {\n    m = sum(i = 0..n-1, x[i])/n\n    for i = 0..n-1 {\n"
               "        r[i] = s*(x[i] - m)^2\n    }\n    return r\n}\n"},
    };
    static const int sizes[] = {1, 2, 7};
    Buf d = {0}, units = {0};
    buf_puts(&d, "#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n"
                 "#include <string.h>\n");
    for (size_t m = 0; m < 3; m++) {
        const char *name = srcs[m][0];
        char path[64];
        snprintf(path, sizeof path, OUT "/%s.expr", name);
        spit(path, srcs[m][1]);
        const char *emit = m < 2 ? "jac,hess" : "jac";
        char *out = NULL;
        int rc = runf(&out, ADGEN_CMD " --emit=%s --prefix=k_ " OUT "/%s.expr -o " OUT
                            "/%s_k.c --header " OUT "/%s_k.h 2>&1", emit, name, name, name);
        if (rc != 0)
            fail_msg("%s: status %d\n%s", name, rc, out);
        free(out);
        buf_printf(&d, "#include \"%s_k.h\"\n", name);
        buf_printf(&units, " %s_k.c", name);
        for (int k = 0; k < 3; k++) {
            rc = runf(&out, ADGEN_CMD " --emit=%s -D n=%d --prefix=u%d_ " OUT "/%s.expr -o "
                            OUT "/%s_u%d.c --header " OUT "/%s_u%d.h 2>&1", emit, sizes[k],
                      sizes[k], name, name, sizes[k], name, sizes[k]);
            if (rc != 0)
                fail_msg("%s -D n=%d: status %d\n%s", name, sizes[k], rc, out);
            free(out);
            buf_printf(&d, "#include \"%s_u%d.h\"\n", name, sizes[k]);
            buf_printf(&units, " %s_u%d.c", name, sizes[k]);
        }
    }
    buf_puts(&d,
        "static long checks, fails;\n"
        "static double *vec(long len, double seed)\n{\n"
        "    double *v = malloc((size_t)(len > 0 ? len : 1) * sizeof *v);\n"
        "    for (long i = 0; i < len; i++)\n        v[i] = 0.2 * sin(seed + 1.3 * (double)i);\n"
        "    return v;\n}\n"
        "static void same(const char *what, long n, long i, double got, double want, double scale,"
        "\n                 int exact)\n{\n"
        "    int bad = exact ? memcmp(&got, &want, sizeof got) != 0 :\n"
        "                      !(fabs(got - want) <= 1e-12 * scale);\n"
        "    checks++;\n"
        "    if (bad && fails++ < 20)\n"
        "        printf(\"FAIL %s at n = %ld [%ld]: %.17g, expected %.17g\\n\", what, n, i, got, "
        "want);\n}\n"
        "static double mag(const double *v, long len)\n{\n"
        "    double m = 1;\n    for (long i = 0; i < len; i++)\n"
        "        m = fabs(v[i]) > m ? fabs(v[i]) : m;\n    return m;\n}\n"
        "/* the kept Hessian and Jacobian (1 x n) of a scalar at n, against uH and uJ if given */\n"
        "static void scalar(const char *m, long n, double (*f)(long, const double *),\n"
        "                   double (*hess)(long, const double *, double *, double *),\n"
        "                   double (*jac)(long, const double *, double *, double *), long work,\n"
        "                   const double *x, const double *uH, const double *uJ)\n{\n"
        "    double *H = vec(n * n, 0), *J = vec(n, 0), *w = vec(work, 0);\n"
        "    double v = f(n, x);\n"
        "    same(m, n, -1, hess(n, x, H, w), v, 0, 1);\n"
        "    same(m, n, -2, jac(n, x, J, w), v, 0, 1);\n"
        "    for (long i = 0; i < n; i++)\n        for (long j = 0; j < n; j++)\n"
        "            same(m, n, i * n + j, H[i * n + j], H[j * n + i], 0, 1);\n"
        "    for (long i = 0; uH && i < n * n; i++)\n"
        "        same(m, n, i, H[i], uH[i], mag(uH, n * n), 0);\n"
        "    for (long i = 0; uJ && i < n; i++)\n"
        "        same(m, n, i, J[i], uJ[i], mag(uJ, n), 0);\n"
        "    free(H);\n    free(J);\n    free(w);\n}\n"
        "/* the map's n x (n + 1) Jacobian and values, against uJ and uv if given */\n"
        "static void map(long n, const double *x, double s, const double *uJ, const double *uv)\n"
        "{\n"
        "    double *J = vec(n * (n + 1), 0), *v = vec(n, 0), *v2 = vec(n, 0), *w = "
        "vec(K_DM_WORK(n), 0);\n"
        "    k_dm(n, x, s, v);\n    k_dm_jac(n, x, s, v2, J, w);\n"
        "    for (long i = 0; i < n; i++)\n        same(\"dm values\", n, i, v2[i], v[i], 0, 1);\n"
        "    for (long i = 0; uJ && i < n * (n + 1); i++)\n"
        "        same(\"dm\", n, i, J[i], uJ[i], mag(uJ, n * (n + 1)), 0);\n"
        "    for (long i = 0; uv && i < n; i++)\n        same(\"dm unrolled values\", n, i, v[i], "
        "uv[i], mag(uv, n), 0);\n"
        "    free(J);\n    free(v);\n    free(v2);\n    free(w);\n}\n"
        "int main(void)\n{\n");
    for (int k = 0; k < 3; k++) {
        int K = sizes[k];
        buf_printf(&d, "    {\n        double *x = vec(%d, 1), *uH = vec(%d, 0), *uJ = vec(%d, 0), "
                       "*uv = vec(%d, 0);\n", K, K * K, K * (K + 1), K);
        buf_printf(&d, "        u%d_dr_hess(x, uH);\n        u%d_dr_jac(x, uJ);\n"
                       "        scalar(\"dr\", %d, k_dr, k_dr_hess, k_dr_jac, K_DR_WORK(%d), x, uH, "
                       "uJ);\n", K, K, K, K);
        buf_printf(&d, "        u%d_dc_hess(x, uH);\n        u%d_dc_jac(x, uJ);\n"
                       "        scalar(\"dc\", %d, k_dc, k_dc_hess, k_dc_jac, K_DC_WORK(%d), x, uH, "
                       "uJ);\n", K, K, K, K);
        buf_printf(&d, "        u%d_dm_jac(x, 0.7, uv, uJ);\n        map(%d, x, 0.7, uJ, uv);\n"
                       "        free(x);\n        free(uH);\n        free(uJ);\n        free(uv);\n"
                       "    }\n", K, K);
    }
    buf_puts(&d, "    for (long n = 0; n <= 40; n += 40) {\n"
                 "        double *x = vec(n, 2);\n"
                 "        scalar(\"dr\", n, k_dr, k_dr_hess, k_dr_jac, K_DR_WORK(n), x, 0, 0);\n"
                 "        scalar(\"dc\", n, k_dc, k_dc_hess, k_dc_jac, K_DC_WORK(n), x, 0, 0);\n"
                 "        map(n, x, 0.7, 0, 0);\n        free(x);\n    }\n"
                 "    printf(\"checks %ld fails %ld\\n\", checks, fails);\n"
                 "    return fails != 0 || checks < 3000;\n}\n");
    spit(OUT "/dense_main.c", d.data);
    char *out = NULL;
    int rc = runf(&out, "cd " OUT " && " GCC " -O1 " SAN " -o dense dense_main.c%s -lm 2>&1 && "
                        CLANG "%s 2>&1 && ./dense 2>&1", units.data, units.data);
    if (rc != 0)
        fail_msg("dense Jacobians and Hessians of run-time columns: status %d\n%s", rc, out);
    printf("%s", out);
    free(out);
    buf_free(&d);
    buf_free(&units);
}

/* Modes a function of run-time sizes does not have yet: an error naming those it has, and
 * --emit=all gives it exactly those. */
static void test_kept_missing_modes_are_errors(void **state)
{
    (void)state;
    static const char *const modes[] = {"jac-sparse"};
    static const char prefix[] = "modes.expr:1:1: error: 'f' has sizes known only at run time, "
                                 "so it has no %s yet; its modes are ";
    spit(OUT "/modes.expr", "f(x[n], b) = b^2 + sum(i = 0..n-1, x[i]^2)\n");
    char has[128] = "";
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
        char *out = NULL, want[256];
        int rc = runf(&out, ADGEN_CMD " --emit=%s " OUT "/modes.expr 2>&1", modes[i]);
        if (rc != 1)
            fail_msg("--emit=%s: status %d\n%s", modes[i], rc, out);
        snprintf(want, sizeof want, prefix, modes[i]);
        assert_contains(out, want);
        /* the list, the same each time, and at least the first-order modes */
        const char *list = strstr(out, want) + strlen(want);
        char got[128];
        snprintf(got, sizeof got, "%.*s", (int)strcspn(list, "(\n"), list);
        assert_true(i == 0 || strcmp(got, has) == 0);
        strcpy(has, got);
        assert_contains(out, "(or give the sizes with -D)");
        free(out);
    }
    /* jac and hess are dense, a column per element of x (test_kept_dense_runtime_columns);
     * hess-sparse is b's arrow beside x's band */
    assert_contains(has, "grad, jvp, vjp, jac, hvp, hess, hess-sparse");
    char *out = NULL;
    assert_int_equal(runf(&out, ADGEN_CMD " --emit=all " OUT "/modes.expr"), 0);
    static const char *const all[] = {"grad", "jvp", "vjp", "hvp", "hess", "hess_sparse", "jac",
                                      "jac_sparse"};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        char entry[32], mode[32];
        snprintf(entry, sizeof entry, "double f_%s(long n,", all[i]);
        snprintf(mode, sizeof mode, "%s", all[i]);
        if (strchr(mode, '_'))
            *strchr(mode, '_') = '-';
        int listed = 0;
        for (const char *w = has; *w; w += strcspn(w, ",") + (w[strcspn(w, ",")] != 0)) {
            w += strspn(w, " ");
            size_t n = strcspn(w, ", ");
            listed |= n == strlen(mode) && strncmp(w, mode, n) == 0;
        }
        if (listed != (strstr(out, entry) != NULL))
            fail_msg("--emit=all: '%s' %s in the modes listed (%s), %s in the output", all[i],
                     listed ? "is" : "is not", has, listed ? "not" : "but");
    }
    free(out);
    /* a recurrence beside a differentiated array of run-time size: both named (a recurrence
     * of inputs of constant sizes has jac-sparse, its columns dense) */
    spit(OUT "/modes2.expr", "g(a, w[P]; u[T]) {\n    x[0] = 1\n    for k = 0..T-1 { x[k+1] = "
                             "x[k] + 0.1*sum(p = 0..P-1, sin(a*x[k]*w[p])) }\n    return x[T]\n}\n");
    assert_int_equal(runf(&out, ADGEN_CMD " --emit=jac-sparse " OUT "/modes2.expr 2>&1"), 1);
    assert_contains(out, "'g' has a recurrence kept as a loop and a differentiated input of a "
                         "run-time size, so it has no jac-sparse yet");
    free(out);
}

/* The commands that interpret the unrolled graph ask for the sizes; --dot draws the loop,
 * --explain a sum's iteration. */
static void test_kept_other_commands_ask_for_sizes(void **state)
{
    (void)state;
    static const struct {
        const char *command, *sized; /* without and with the size */
        int status;
    } runs[] = {
        {"eval %s x=1,2", "eval -D n=2 %s x=1,2", 2},
        {"check %s", "check -D n=2 %s", 2},
    };
    spit(OUT "/ask.expr", "f(x[n]) = sum(i = 0..n-1, x[i]^2)\n");
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
        char cmd[128], *out = NULL;
        snprintf(cmd, sizeof cmd, runs[i].command, OUT "/ask.expr");
        int rc = runf(&out, ADGEN_CMD " %s 2>&1", cmd);
        if (rc != runs[i].status)
            fail_msg("adgen %s: status %d, expected %d\n%s", cmd, rc, runs[i].status, out);
        assert_contains(out, "'f' has sizes known only at run time (n): give them ");
        assert_contains(out, "-D NAME=VALUE");
        free(out);
        /* and with the size given, the unrolled graph */
        snprintf(cmd, sizeof cmd, runs[i].sized, OUT "/ask.expr");
        rc = runf(&out, ADGEN_CMD " %s 2>&1", cmd);
        if (rc != 0)
            fail_msg("adgen %s: status %d\n%s", cmd, rc, out);
        if (i == 0)
            assert_contains(out, "f = 5\n");
        free(out);
    }
    /* --dot draws the loop as one iteration, --explain a sum's (test_explain checks them) */
    char *out = NULL;
    assert_int_equal(runf(&out, ADGEN_CMD " --dot " OUT "/ask.expr 2>&1"), 0);
    assert_contains(out, "label=\"sum over i = 0..n - 1\"");
    free(out);
    assert_int_equal(runf(&out, ADGEN_CMD " --explain=latex " OUT "/ask.expr 2>&1"), 0);
    assert_contains(out, "% f = sum_i = the sum of term over i = 0..n - 1:");
    free(out);
    /* a sum per step: its iteration, a function of the outer step's values too, with its
     * step's sum named by the outer variable where the outer loop reads it; its local partials
     * are the unrolled form's (K = N = 1), renamed; --dot draws it as a cluster, its sum going
     * to the outer loop's load of it */
    spit(OUT "/askstep.expr", "g(x, y) = x*y + sin(x)\n"
                              "h(mu[K]; x[N]) = sum(i = 0..N-1, log(sum(k = 0..K-1, "
                              "exp(x[i]*mu[k]))))\n");
    char *unrolled = NULL;
    assert_int_equal(runf(&out, ADGEN_CMD " --explain " OUT "/askstep.expr 2>&1"), 0);
    assert_int_equal(runf(&unrolled, ADGEN_CMD " --explain -D K=1 -D N=1 " OUT "/askstep.expr"),
                     0);
    assert_contains(out, "g = ");
    assert_contains(out, "\nsum_k[i] = the sum of term over k = 0..K - 1, for each i = "
                         "0..N - 1:\none term's sweeps, which each step runs seeded with "
                         "dh/dsum_k[i]");
    assert_contains(out, "\nterm(k, x[i], mu[k])\n");
    assert_contains(unrolled, "    dt1/dmu[0] = x[0]\n    dt2/dt1 = exp(t1)\n    dh/dt2 = 1/t2\n");
    assert_contains(out, "    dt1/dmu[k] = x[i]\n    dterm/dt1 = exp(t1)\n");
    assert_contains(out, "\nterm(i, sum_k[i])\n");
    assert_contains(out, "    dterm/dsum_k[i] = 1/sum_k[i]\n");
    free(out);
    free(unrolled);
    static const char *const dots[] = {"--dot", "--dot=adjoint"};
    for (size_t i = 0; i < sizeof dots / sizeof *dots; i++) {
        assert_int_equal(runf(&out, ADGEN_CMD " %s " OUT "/askstep.expr > " OUT "/askstep.dot "
                                    "&& dot -Tplain " OUT "/askstep.dot >/dev/null && cat " OUT
                                    "/askstep.dot", dots[i]), 0);
        assert_contains(out, "label=\"sum over k = 0..K - 1 per i = 0..N - 1\"");
        assert_contains(out, "label=\"sum_k[i]\"];");
        assert_contains(out, "[label=\"per step\"];");
        free(out);
    }
    /* a callee's i in the caller's loop over i: the outer one is i_; a dropped sum per step's
     * load and a load the term does not read are not the term's arguments; X[N][M]'s
     * elements as the source writes them; a term of more than 40 operations drawn collapsed
     * with its partials (it crashed) */
    spit(OUT "/askmore.expr",
         "dev(v[m], c) = sum(i = 0..m-1, (v[i] - c)^2)\n"
         "callin(x[n]) = sum(i = 0..n-1, sqrt(1 + dev(x, x[i])))\n"
         "sm5(a; w[P], y[T]) {\n    for t = 0..T-1 {\n        v[t] = sum(q = 0..P-1, w[q]*y[t])\n"
         "        g[t] = sin(a*y[t])\n    }\n    return sum(t = 0..T-1, g[t])\n}\n"
         "m29(w[M]; X[N][M]) = sum(i = 0..N-2, sin(sum(j = 0..M-2, w[j]*(X[i+1][j+1] - X[i][j]))))\n"
         "m30(w[M]; X[N][M]) = sum(i = 0..N-1, sin(sum(j = 0..M-1, w[j]*X[i][M-1-j])))\n"
         "big(mu[K]) = sum(k = 0..K-1, sin(2*mu[k]) + sin(3*mu[k]) + sin(4*mu[k]) + sin(5*mu[k]) +\n"
         "    sin(6*mu[k]) + sin(7*mu[k]) + sin(8*mu[k]) + sin(9*mu[k]) + sin(10*mu[k]) +\n"
         "    sin(11*mu[k]) + sin(12*mu[k]) + sin(13*mu[k]) + sin(14*mu[k]) + sin(15*mu[k]))\n");
    assert_int_equal(runf(&out, ADGEN_CMD " --explain " OUT "/askmore.expr 2>&1"), 0);
    assert_contains(out, "\nsum_i[i_] = the sum of term over i = 0..n - 1, for each i_ = 0..n - 1:");
    assert_contains(out, "\nterm(i, x[i], x[i_])\n");
    assert_contains(out, "\nterm(t, y[t])\n");
    assert_contains(out, "\nterm(j, w[j], X[i + 1][j + 1], X[i][j])\n");
    assert_contains(out, "\nterm(j, w[j], X[i][M - j - 1])\n");
    free(out);
    assert_int_equal(runf(&out, ADGEN_CMD " --dot=adjoint " OUT "/askmore.expr > " OUT
                                "/askmore.dot && dot -Tplain " OUT "/askmore.dot >/dev/null && cat "
                                OUT "/askmore.dot"), 0);
    assert_contains(out, "label=\"sum over i = 0..n - 1 per i_ = 0..n - 1\"");
    assert_contains(out, "label=\"sum over k = 0..K - 1\"");
    free(out);
}

/* --report counts a kept loop by the iteration: Rosenbrock's sum over 0..n-2 is one line,
 * whose operations a term, times the n - 1 terms, plus the n - 2 additions that join them, are
 * the unrolled form's at n = 5 (the independent count: its report of -D n=5). */
static void test_kept_report_counts_one_iteration(void **state)
{
    (void)state;
    spit(OUT "/rep.expr", "rosen(x[n]) = sum(i = 0..n-2, 100*(x[i+1] - x[i]^2)^2 + (1 - x[i])^2)\n");
    char *out = NULL;
    assert_int_equal(runf(&out, ADGEN_CMD " --report " OUT "/rep.expr 2>&1"), 0);
    const char *line = strstr(out, "sum over i (1:15)");
    if (!line)
        fail_msg("no line of the kept sum:\n%s", out);
    unsigned term = 0, grad = 0;
    assert_int_equal(sscanf(line, "sum over i (1:15) 0..n - 2 %u %u", &term, &grad), 2);
    free(out);
    assert_int_equal(runf(&out, ADGEN_CMD " --report -D n=5 " OUT "/rep.expr 2>&1"), 0);
    unsigned all = 0;
    line = strstr(out, "\n  all ");
    assert_non_null(line);
    assert_int_equal(sscanf(line, " all %u", &all), 1);
    free(out);
    printf("a term: %u operations (its gradient %u); unrolled at n = 5: %u\n", term, grad, all);
    assert_true(term > 0 && grad > term);
    assert_int_equal(all, 4 * term + 3);
}

int main(void)
{
    mkdir("build/tests", 0777);
    /* nothing of an earlier run: a driver not made now must not be run */
    if (run_command("rm -rf " OUT, NULL) != 0)
        return 1;
    mkdir(OUT, 0777);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kept_signatures),
        cmocka_unit_test(test_kept_missing_modes_are_errors),
        cmocka_unit_test(test_kept_sparse_refused),
        cmocka_unit_test(test_kept_dense_runtime_columns),
        cmocka_unit_test(test_kept_other_commands_ask_for_sizes),
        cmocka_unit_test(test_kept_report_counts_one_iteration),
        cmocka_unit_test(test_kept_size_independent_of_n),
        cmocka_unit_test(test_kept_hvp_inactive_recurrence),
        cmocka_unit_test(test_kept_data_state_at_edge),
        cmocka_unit_test(test_kept_huge_constant_in_step),
        cmocka_unit_test(test_kept_unroll_keeps_recurrences),
        cmocka_unit_test(test_kept_sizes_without_loop),
        cmocka_unit_test(test_kept_calls_like_inlined),
        cmocka_unit_test(test_kept_map_in_recurrence),
        cmocka_unit_test(test_kept_jac_directions),
        cmocka_unit_test(test_kept_call_values_shape),
        cmocka_unit_test(test_kept_map_pattern_other_size),
        cmocka_unit_test(test_kept_two_sizes_messages),
        cmocka_unit_test(test_kept_sibling_sums_one_loop),
        cmocka_unit_test(test_kept_state_first),
        cmocka_unit_test(test_kept_nested_for_way_round),
        cmocka_unit_test(test_kept_dead_state_sums),
        cmocka_unit_test(test_kept_state_sum_in_recurrence),
        cmocka_unit_test(test_kept_moving_bounds),
        cmocka_unit_test(test_kept_size_checks),
        cmocka_unit_test(test_kept_against_unrolled),
        cmocka_unit_test(test_kept_sanitized_large_n),
        cmocka_unit_test(test_kept_compiles_optimized_and_as_cxx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
