/*
 * test_ckp.c: checkpointed recurrences (issue 20). grad-ckp and vjp-ckp recompute a kept
 * recurrence's steps from a few saved states instead of storing every step. Two models, a
 * one-state chain and a two-state RK4 oscillator, are generated with the stored and the
 * checkpointed entry points, and one driver checks:
 *   - the checkpointed gradient and vector-Jacobian product equal the stored ones to the bit
 *     (value included), at every number of snapshots from 0 (taken as 1) to n + 1 for every
 *     n up to 50, and at 10, 30 and 100 snapshots for n = 100000;
 *   - the number of forward steps, counted by wrapping the libm sin the chain's step calls
 *     once, or sincos where a taped step needs its cos too (the link's --wrap: no hook in the
 *     generated code), is the fewest that reverse n
 *     steps with c saved states plus the one that gives the last state: the minimum over
 *     every split of the recursion, computed here by dynamic programming for n <= 50, and
 *     revolve's closed form r n - C(c + r, r - 1) (checked against it, and used at n = 100000);
 *   - the work array is malloc'ed to exactly NAME_WORK_CKP(n, c), under ASan and UBSan.
 * The test's memory and time against the stored variant are make bench's (tests/bench.c).
 */
#include "testutil.h"

#define OUT "build/tests/ckp"
#define STRICT "-std=c99 -Wall -Wextra -pedantic -Werror -Wvla"
#define SAN "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

static const char chain_src[] =
    "# one sin a step, whether the step is taped or not\n"
    "chain(x0, h; n) {\n"
    "    x[0] = x0\n"
    "    for k = 0..n-1 { x[k+1] = x[k] + h*sin(x[k]) }\n"
    "    return x[n]\n"
    "}\n";

static const char osc_src[] =
    "# a damped oscillator, RK4 steps of dt: two states, two parameters\n"
    "osc(k, c, x0; n, dt) {\n"
    "    x[0] = x0\n"
    "    v[0] = 0\n"
    "    for i = 0..n-1 {\n"
    "        a1 = -k*x[i] - c*v[i]\n"
    "        x2 = x[i] + dt/2*v[i]\n"
    "        v2 = v[i] + dt/2*a1\n"
    "        a2 = -k*x2 - c*v2\n"
    "        x3 = x[i] + dt/2*v2\n"
    "        v3 = v[i] + dt/2*a2\n"
    "        a3 = -k*x3 - c*v3\n"
    "        x4 = x[i] + dt*v3\n"
    "        v4 = v[i] + dt*a3\n"
    "        a4 = -k*x4 - c*v4\n"
    "        x[i+1] = x[i] + dt/6*(v[i] + 2*v2 + 2*v3 + v4)\n"
    "        v[i+1] = v[i] + dt/6*(a1 + 2*a2 + 2*a3 + a4)\n"
    "    }\n"
    "    return x[n]^2 + sin(v[n])\n"
    "}\n";

static const char driver[] =
    "#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
    "#include \"chain.h\"\n#include \"osc.h\"\n\n"
    "static long sins, n_checks, n_fail;\n"
    "double __real_sin(double x);\n"
    "double __wrap_sin(double x);\n"
    "double __wrap_sin(double x)\n{\n    sins++;\n    return __real_sin(x);\n}\n\n"
    "void __real_sincos(double x, double *s, double *c);\n"
    "void __wrap_sincos(double x, double *s, double *c);\n"
    "void __wrap_sincos(double x, double *s, double *c)\n{\n    sins++;\n"
    "    __real_sincos(x, s, c);\n}\n\n"
    "static void check(int ok, const char *what, long n, long c)\n{\n"
    "    n_checks++;\n"
    "    if (!ok && n_fail++ < 20)\n        printf(\"FAIL %s at n = %ld, c = %ld\\n\", what, n, c);\n}\n\n"
    "static int same(const double *a, const double *b, int len)\n{\n"
    "    return memcmp(a, b, (size_t)len * sizeof *a) == 0;\n}\n\n"
    "/* C(c + r, c), saturated at max */\n"
    "static long beta(long c, long r, long max)\n{\n"
    "    long b = 1;\n"
    "    if (r < 0)\n        return 0;\n"
    "    for (long j = 1; j <= r && b < max; j++)\n        b = b * (c + j) / j;\n"
    "    return b;\n}\n\n"
    "/* revolve's forward steps: r l - C(c + r, r - 1), r the least with C(c + r, c) >= l */\n"
    "static long revolve(long l, long c)\n{\n"
    "    long r = 0;\n"
    "    if (l <= 1)\n        return 0;\n"
    "    while (beta(c, r, l) < l)\n        r++;\n"
    "    return r * l - beta(c + 1, r - 1, r * l);\n}\n\n"
    "/* the same by the recursion: save after m steps, reverse the rest with c - 1 states,\n"
    " * then the first m with c; the least over every m (a single step needs no state) */\n"
    "enum { L = 52 };\n"
    "static long best[L + 1][L + 2];\n"
    "static void recursion(void)\n{\n"
    "    for (long l = 1; l <= L; l++)\n"
    "        for (long c = 0; c <= L + 1; c++) {\n"
    "            best[l][c] = l == 1 ? 0 : -1;\n"
    "            for (long m = 1; l > 1 && c > 0 && m < l; m++) {\n"
    "                long rest = best[l - m][c - 1], first = best[m][c];\n"
    "                if (rest >= 0 && first >= 0 && (best[l][c] < 0 || m + rest + first < best[l][c]))\n"
    "                    best[l][c] = m + rest + first;\n"
    "            }\n"
    "        }\n}\n\n"
    "/* the checkpointed entry points against the stored ones; the chain's forward steps */\n"
    "static void at(long n, long c, int counted)\n{\n"
    "    long snaps = c > 1 ? c : 1;\n"
    "    double *w = malloc(sizeof(double) * (size_t)(CHAIN_WORK(n) + 1));\n"
    "    double *wc = malloc(sizeof(double) * CHAIN_WORK_CKP(n, c));\n"
    "    double g[3], gc[3];\n"
    "    g[2] = chain_grad(n, 0.7, 0.1, &g[0], &g[1], w);\n"
    "    sins = 0;\n"
    "    gc[2] = chain_grad_ckp(n, 0.7, 0.1, &gc[0], &gc[1], c, wc);\n"
    "    long want = (n >= 1) + n + (counted ? best[n][snaps] : revolve(n, snaps));\n"
    "    check(sins == want, \"forward steps\", n, c);\n"
    "    if (sins != want && n_fail < 20)\n"
    "        printf(\"    %ld sin calls, expected %ld\\n\", sins, want);\n"
    "    check(same(g, gc, 3), \"chain grad-ckp\", n, c);\n"
    "    g[2] = chain_vjp(n, 0.7, 0.1, -1.5, &g[0], &g[1], w);\n"
    "    gc[2] = chain_vjp_ckp(n, 0.7, 0.1, -1.5, &gc[0], &gc[1], c, wc);\n"
    "    check(same(g, gc, 3), \"chain vjp-ckp\", n, c);\n"
    "    free(w);\n    free(wc);\n"
    "    w = malloc(sizeof(double) * (size_t)(OSC_WORK(n) + 1));\n"
    "    wc = malloc(sizeof(double) * OSC_WORK_CKP(n, c));\n"
    "    double o[4], oc[4];\n"
    "    o[3] = osc_grad(n, 4.0, 0.3, 1.0, 0.01, &o[0], &o[1], &o[2], w);\n"
    "    oc[3] = osc_grad_ckp(n, 4.0, 0.3, 1.0, 0.01, &oc[0], &oc[1], &oc[2], c, wc);\n"
    "    check(same(o, oc, 4), \"osc grad-ckp\", n, c);\n"
    "    o[3] = osc_vjp(n, 4.0, 0.3, 1.0, 0.01, 2.5, &o[0], &o[1], &o[2], w);\n"
    "    oc[3] = osc_vjp_ckp(n, 4.0, 0.3, 1.0, 0.01, 2.5, &oc[0], &oc[1], &oc[2], c, wc);\n"
    "    check(same(o, oc, 4), \"osc vjp-ckp\", n, c);\n"
    "    check(n == 0 || (isfinite(o[0]) && o[0] != 0), \"osc gradient finite\", n, c);\n"
    "    free(w);\n    free(wc);\n}\n\n"
    "int main(void)\n{\n"
    "    recursion();\n"
    "    for (long l = 1; l <= 50; l++)\n"
    "        for (long c = 1; c <= l + 1; c++)\n"
    "            check(best[l][c] == revolve(l, c), \"revolve's closed form\", l, c);\n"
    "    for (long n = 0; n <= 50; n++)\n"
    "        for (long c = 0; c <= n + 1; c++)\n"
    "            at(n, c, 1);\n"
    "    at(100000, 10, 0);\n    at(100000, 30, 0);\n    at(100000, 100, 0);\n"
    "    printf(\"checks %ld failures %ld\\n\", n_checks, n_fail);\n"
    "    return n_fail != 0;\n}\n";

static void generate(const char *name, const char *src)
{
    char path[128], *out = NULL;
    snprintf(path, sizeof path, OUT "/%s.expr", name);
    spit(path, src);
    int rc = runf(&out, ADGEN_CMD " --emit=grad,vjp,grad-ckp,vjp-ckp " OUT "/%s.expr -o " OUT
                        "/%s.c --header=" OUT "/%s.h 2>&1", name, name, name);
    if (rc != 0)
        fail_msg("adgen %s.expr: status %d\n%s", name, rc, out);
    free(out);
}

/* Builds the driver with both models (gcc under the sanitizers, clang for its warnings) and
 * runs it; its output into *out. */
static void build_and_run(char **out)
{
    runf(NULL, "mkdir -p " OUT);
    generate("chain", chain_src);
    generate("osc", osc_src);
    spit(OUT "/driver.c", driver);
    static const char *const inputs[] = {OUT "/chain.c", OUT "/chain.h", OUT "/osc.c",
                                         OUT "/osc.h", OUT "/driver.c", NULL};
    static const char *const made[] = {OUT "/driver", NULL};
    char *built = NULL;
    int rc = run_cached(&built, "cd " OUT " && gcc " STRICT " -O0 -fno-builtin " SAN
                                " -Wl,--wrap=sin,--wrap=sincos -o driver driver.c chain.c osc.c -lm 2>&1 && "
                                "clang " STRICT " -fsyntax-only chain.c osc.c 2>&1",
                        inputs, made);
    if (rc != 0)
        fail_msg("the checkpointing driver did not build: status %d\n%s", rc, built);
    free(built);
    rc = runf(out, "cd " OUT " && ./driver 2>&1");
    printf("%s", *out ? *out : "");
    if (rc != 0)
        fail_msg("the checkpointed entry points: status %d", rc);
}

static void test_ckp_equals_stored_with_fewest_steps(void **state)
{
    (void)state;
    char *out = NULL;
    build_and_run(&out);
    long checks = count_after(out, "checks "), failures = count_after(out, "failures ");
    free(out);
    assert_int_equal(failures, 0);
    assert_true(checks > 5000);
}

/* The checkpointed variants need a recurrence; the header says how much work they take. */
static void test_ckp_needs_a_recurrence(void **state)
{
    (void)state;
    runf(NULL, "mkdir -p " OUT);
    spit(OUT "/sum.expr", "s(x[n]) = sum(i = 0..n-1, x[i]^2)\n");
    char *out = NULL;
    int rc = runf(&out, ADGEN_CMD " --emit=grad-ckp " OUT "/sum.expr -o /dev/null 2>&1");
    assert_int_equal(rc, 1);
    assert_contains(out, "'s' has no recurrence kept as a loop, so it has no grad-ckp");
    free(out);
    spit(OUT "/c.expr", chain_src);
    rc = runf(&out, ADGEN_CMD " --emit=vjp-ckp " OUT "/c.expr -o /dev/null --header=/dev/stdout");
    assert_int_equal(rc, 0);
    assert_contains(out, "#define CHAIN_WORK_CKP(n, snaps)");
    assert_contains(out, "long snaps, double *work);");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ckp_needs_a_recurrence),
        cmocka_unit_test(test_ckp_equals_stored_with_fewest_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
