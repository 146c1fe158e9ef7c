/*
 * test_embedded.c: the embedded profile (issue 22). samples/oscillator.expr unrolled at n = 25
 * RK4 steps (-D n=25) has bodies of thousands of operations: by default the Hessian-vector
 * product's frame holds its chunks' values, about 7 KB. With --max-stack=4096 every function
 * adgen writes, compiled by gcc and by clang at -O2 (-fstack-usage), has a frame such that an
 * entry point's plus the largest helper's stays within 4096 bytes, with no dynamic frame; the
 * values move to the caller's work array, and the entry points give the same bits as the
 * default build's (under ASan and UBSan, work malloc'ed to exactly OSC_WORK()), natively and
 * through the CasADi ABI (its sz_w). ADGEN_FUNC, defined as a section attribute, reaches
 * every function of a chunked, a checkpointing and a CasADi file (objdump -t: all in that
 * section). A long sum's gradient keeps a small frame without --max-stack; a deep chain's,
 * whose chunks pass on more than 32 KB, takes them in the caller's work array without it, so
 * that no frame is above 64 KB.
 */
#include "testutil.h"

#define OUT "build/tests/embedded"
#define FLAGS "-std=c99 -Wall -Wextra -pedantic -Werror"
#define SAN "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
#define MODEL "samples/oscillator.expr -D n=25"

static int setup(void **state)
{
    (void)state;
    return runf(NULL, "rm -rf " OUT " && mkdir -p " OUT);
}

/* Runs adgen with args (a shell fragment), failing with its messages when it fails. */
static void adgen(const char *args)
{
    char *out = NULL;
    int rc = runf(&out, ADGEN_CMD " %s 2>&1", args);
    if (rc != 0)
        fail_msg("adgen %s: status %d\n%s", args, rc, out);
    free(out);
}

/* The largest frame in a .su file among functions whose name has (or, when `has` is 0, has
 * not) "_part"; a dynamic frame fails. */
static long largest_frame(const char *su, int has)
{
    char *text = read_file(su);
    assert_non_null(text);
    long most = -1;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *tab = strchr(line, '\t');
        assert_non_null(tab);
        *tab = '\0';
        if (strstr(tab + 1, "dynamic"))
            fail_msg("%s: a dynamic frame: %s", su, line);
        long size = strtol(tab + 1, NULL, 10);
        if ((strstr(line, "_part") != NULL) == has && size > most)
            most = size;
    }
    free(text);
    return most;
}

/* Frames of the bounded and the default file, compiled by cc at -O2. */
static void check_frames(const char *cc)
{
    char *out = NULL;
    int rc = runf(&out, "cd " OUT " && %s " FLAGS " -O2 -fstack-usage -c s.c -o s-%s.o 2>&1 && "
                        "%s " FLAGS " -O2 -fstack-usage -c d.c -o d-%s.o 2>&1", cc, cc, cc, cc);
    if (rc != 0)
        fail_msg("%s: status %d\n%s", cc, rc, out);
    free(out);
    char su[64];
    snprintf(su, sizeof su, OUT "/s-%s.su", cc);
    long entry = largest_frame(su, 0), helper = largest_frame(su, 1);
    printf("%s --max-stack=4096: largest entry point frame %ld, largest helper frame %ld\n", cc,
           entry, helper);
    assert_true(entry > 0);
    assert_true(entry + (helper > 0 ? helper : 0) <= 4096); /* none (-1): all inlined */
    snprintf(su, sizeof su, OUT "/d-%s.su", cc);
    long plain = largest_frame(su, 0);
    printf("%s default: largest entry point frame %ld\n", cc, plain);
    assert_true(plain > 4096); /* the bound is not met by chance */
}

static const char driver[] =
    "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
    "#include \"s.h\"\n#include \"d.h\"\n#include \"c.h\"\n"
    "static int same(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }\n"
    "int main(void)\n{\n"
    "    double k = 1.3, c = 0.2, x0 = 0.9, dt = 0.01, xt = 0.3;\n"
    "    double g[3], h[3], sg[3], sh[3], v[3] = {0.3, -1.1, 0.7};\n"
    "    double *work = malloc(S_OSC_WORK() * sizeof *work);\n"
    "    int bad = 0;\n"
    "    double f = d_osc_grad(k, c, x0, dt, xt, g, g + 1, g + 2);\n"
    "    double sf = s_osc_grad(k, c, x0, dt, xt, sg, sg + 1, sg + 2, work);\n"
    "    bad |= !same(f, sf) || !same(f, s_osc(k, c, x0, dt, xt));\n"
    "    d_osc_hvp(k, c, x0, dt, xt, v[0], v[1], v[2], h, h + 1, h + 2);\n"
    "    s_osc_hvp(k, c, x0, dt, xt, v[0], v[1], v[2], sh, sh + 1, sh + 2, work);\n"
    "    for (int i = 0; i < 3; i++)\n"
    "        bad |= !same(g[i], sg[i]) || !same(h[i], sh[i]);\n"
    "    /* the CasADi function with a w of exactly sz_w values */\n"
    "    casadi_int sz_arg, sz_res, sz_iw, sz_w;\n"
    "    osc_grad_work(&sz_arg, &sz_res, &sz_iw, &sz_w);\n"
    "    double *w = malloc((size_t)sz_w * sizeof *w), cf, cg[3];\n"
    "    const double *arg[5] = {&k, &c, &x0, &dt, &xt};\n"
    "    double *res[4] = {&cf, cg, cg + 1, cg + 2};\n"
    "    bad |= osc_grad(arg, res, NULL, w, 0) != 0 || !same(cf, f);\n"
    "    for (int i = 0; i < 3; i++)\n"
    "        bad |= !same(g[i], cg[i]);\n"
    "    printf(\"%s: work %d values, casadi sz_w %lld\\n\", bad ? \"DIFFER\" : \"same bits\",\n"
    "           (int)S_OSC_WORK(), sz_w);\n"
    "    free(work);\n    free(w);\n"
    "    return bad;\n}\n";

static void test_max_stack(void **state)
{
    (void)state;
    adgen("--emit=grad,hvp --max-stack=4096 --prefix=s_ " MODEL " -o " OUT "/s.c --header "
          OUT "/s.h");
    adgen("--emit=grad,hvp --prefix=d_ " MODEL " -o " OUT "/d.c --header " OUT "/d.h");
    adgen("--emit=grad --abi=casadi --max-stack=1024 " MODEL " -o " OUT "/c.c --header " OUT
          "/c.h");
    char *h = read_file(OUT "/s.h");
    assert_non_null(h);
    assert_contains(h, "double *work);");
    assert_contains(h, "work must hold S_OSC_WORK() values");
    free(h);
    /* a bound the parts' values fit in half of: they stay on the stack, no work array (the
     * value's already at 4096) */
    adgen("--emit=grad,hvp --max-stack=1000000 " MODEL " -o " OUT "/b.c --header " OUT "/b.h");
    h = read_file(OUT "/b.h");
    assert_non_null(h);
    if (strstr(h, "work"))
        fail_msg("--max-stack=1000000 takes a work array:\n%s", h);
    free(h);
    check_frames("gcc");
    check_frames("clang");
    spit(OUT "/driver.c", driver);
    char *out = NULL;
    int rc = runf(&out, "cd " OUT " && gcc " FLAGS " " SAN " -o driver driver.c s.c d.c c.c "
                        "-lm 2>&1 && ./driver 2>&1");
    printf("%s", out ? out : "");
    if (rc != 0)
        fail_msg("the bounded build: status %d", rc);
    assert_contains(out, "same bits");
    free(out);
}

/* A definition with no kept loop but a size read as a number (y's, n), whose bodies are long
 * enough to be split into parts, and one that does not read its size: the parts take the size
 * they read, the entry points that read none mark it unused, and a Jacobian made of calls of
 * a chunked jvp passes the work array on. Checked against the form with the size given (-D),
 * where the division by n + 1 is by a constant. */
static const char sizes_model[] =
    "wide(x[100]; y[n]) = sum(i = 0..98, sin(x[i]*x[i+1])) *\n"
    "    sum(i = 0..98, exp(x[i+1] - x[i]) * sin(x[i]*x[i+1])^2) / (n + 1)\n"
    "wide2(x[100]; y[n]) = sum(i = 0..98, sin(x[i]*x[i+1])) *\n"
    "    sum(i = 0..98, exp(x[i+1] - x[i]) * sin(x[i]*x[i+1])^2)\n";

static const char sizes_driver[] =
    "#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n"
    "#include \"k.h\"\n#include \"u.h\"\n"
    "static int bad;\n"
    "static void near(const char *what, double a, double b)\n{\n"
    "    if (!(fabs(a - b) <= 1e-13 * (1 + fabs(b)))) {\n"
    "        printf(\"%s: %.17g, expected %.17g\\n\", what, a, b);\n        bad = 1;\n    }\n}\n"
    "int main(void)\n{\n"
    "    double x[100], v[100], y[3] = {0}, g[100], ug[100], jac[100], ujac[100], hv[100];\n"
    "    double uhv[100], d, ud;\n"
    "    double *work = malloc((K_WIDE_WORK() > K_WIDE2_WORK() ? K_WIDE_WORK() : K_WIDE2_WORK()) *\n"
    "                          sizeof *work);\n"
    "    for (int i = 0; i < 100; i++) {\n        x[i] = sin(1.3 * i);\n        v[i] = cos(0.7 * i);\n    }\n"
    "    near(\"wide\", k_wide(3, x, y, work), u_wide(x, y));\n"
    "    near(\"wide grad value\", k_wide_grad(3, x, y, g, work), u_wide_grad(x, y, ug));\n"
    "    near(\"wide jvp value\", k_wide_jvp(3, x, y, v, &d, work), u_wide_jvp(x, y, v, &ud));\n"
    "    near(\"wide jvp\", d, ud);\n"
    "    k_wide_jac(3, x, y, jac, work);\n    u_wide_jac(x, y, ujac);\n"
    "    k_wide_hvp(3, x, y, v, hv, work);\n    u_wide_hvp(x, y, v, uhv);\n"
    "    for (int i = 0; i < 100; i++) {\n"
    "        near(\"wide grad\", g[i], ug[i]);\n        near(\"wide jac\", jac[i], ujac[i]);\n"
    "        near(\"wide hvp\", hv[i], uhv[i]);\n    }\n"
    "    near(\"wide2\", k_wide2_grad(3, x, y, g, work), u_wide2_grad(x, y, ug));\n"
    "    k_wide2_jac(3, x, y, jac, work);\n    u_wide2_jac(x, y, ujac);\n"
    "    for (int i = 0; i < 100; i++) {\n"
    "        near(\"wide2 grad\", g[i], ug[i]);\n        near(\"wide2 jac\", jac[i], ujac[i]);\n    }\n"
    "    free(work);\n    printf(\"%s\\n\", bad ? \"DIFFER\" : \"same numbers\");\n"
    "    return bad;\n}\n";

static void test_sizes_in_parts(void **state)
{
    (void)state;
    spit(OUT "/wide.expr", sizes_model);
    adgen("--emit=grad,jvp,jac,hvp --max-stack=1024 --prefix=k_ " OUT "/wide.expr -o " OUT
          "/k.c --header " OUT "/k.h");
    adgen("--emit=grad,jvp,jac,hvp --prefix=u_ -D n=3 " OUT "/wide.expr -o " OUT "/u.c --header "
          OUT "/u.h");
    char *k = read_file(OUT "/k.c");
    assert_non_null(k);
    assert_contains(k, "k_wide_grad_part1(");
    free(k);
    spit(OUT "/sizes.c", sizes_driver);
    char *out = NULL;
    int rc = runf(&out, "cd " OUT " && gcc " FLAGS " -O0 -c k.c 2>&1 && "
                        "clang " FLAGS " -O0 -c k.c -o k-clang.o 2>&1 && "
                        "gcc " FLAGS " " SAN " -o sizes sizes.c k.c u.c -lm 2>&1 && ./sizes 2>&1");
    if (rc != 0)
        fail_msg("the parts with a size: status %d\n%s", rc, out ? out : "");
    assert_contains(out, "same numbers");
    free(out);
}

/* --accumulate drops the stores that add a zero: a part whose stores were all such names no
 * gradient (it once took it unused, which -Wextra rejects). */
static void test_accumulate_parts(void **state)
{
    (void)state;
    adgen("--accumulate --max-stack=1024 samples/swingup.expr -o " OUT "/acc.c");
    char *out = NULL;
    int rc = runf(&out, "cd " OUT " && gcc " FLAGS " -O0 -c acc.c 2>&1 && clang " FLAGS
                        " -O0 -c acc.c -o acc-clang.o 2>&1");
    if (rc != 0)
        fail_msg("--accumulate in parts: status %d\n%s", rc, out ? out : "");
    free(out);
}

/* Every function symbol of object o is in section .text.adgen; returns how many there are. */
static int functions_in_section(const char *o)
{
    char *out = NULL;
    assert_int_equal(runf(&out, "objdump -t %s | awk '$3 == \"F\" || $2 == \"F\" || "
                                "/ F / { print }'", o), 0);
    int n = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strstr(line, ".text.adgen"))
            fail_msg("%s: a function outside ADGEN_FUNC's section: %s", o, line);
        n++;
    }
    free(out);
    return n;
}

static void test_func_macro(void **state)
{
    (void)state;
    adgen("--max-stack=4096 " MODEL " -o " OUT "/m1.c --header " OUT "/m1.h");
    adgen("--emit=grad-ckp samples/oscillator.expr -o " OUT "/m2.c --header " OUT "/m2.h");
    adgen("--abi=casadi --emit=all samples/hs071.expr -o " OUT "/m3.c --header " OUT "/m3.h");
    int counts[3];
    for (int i = 0; i < 3; i++) {
        char *out = NULL;
        int rc = runf(&out, "cd " OUT " && gcc " FLAGS " -O0 '-DADGEN_FUNC=__attribute__(("
                            "section(\".text.adgen\")))' -c m%d.c -o m%d.o 2>&1", i + 1, i + 1);
        if (rc != 0)
            fail_msg("m%d.c with ADGEN_FUNC: status %d\n%s", i + 1, rc, out);
        free(out);
        char o[64];
        snprintf(o, sizeof o, OUT "/m%d.o", i + 1);
        counts[i] = functions_in_section(o);
    }
    /* inline needs --static: every function, the CasADi ABI's too, is then static; parts
     * (m5) with ADGEN_NOINLINE empty */
    adgen("--static --abi=casadi --emit=all samples/hs071.expr -o " OUT "/m4.c");
    adgen("--static --max-stack=4096 " MODEL " -o " OUT "/m5.c");
    char *out = NULL;
    int rc = runf(&out, "cd " OUT " && gcc " FLAGS " -O0 -DADGEN_FUNC=inline -c m4.c 2>&1 && "
                        "clang " FLAGS " -O0 -DADGEN_FUNC=inline -c m4.c -o m4-clang.o 2>&1 && "
                        "gcc " FLAGS " -O0 -DADGEN_FUNC=inline -DADGEN_NOINLINE= -c m5.c 2>&1");
    if (rc != 0)
        fail_msg("--static --abi=casadi with ADGEN_FUNC=inline: status %d\n%s", rc, out);
    free(out);
    printf("functions in .text.adgen: %d chunked, %d checkpointing, %d CasADi\n", counts[0],
           counts[1], counts[2]);
    assert_true(counts[0] > 4); /* osc, osc_grad and their parts */
    assert_true(counts[1] >= 6); /* osc, osc_grad_ckp and the schedule's helpers */
    assert_true(counts[2] > 12 * 10); /* 12 entry points, their natives and ABI functions */
}

/* A long sum's gradient: each input's adjoint adds its terms in the forward sweep's order, so
 * that between chunks only its partial sum lives, not every term's share (1500 terms over 10
 * inputs: a 12 KB frame at -O2, 1495 values in the entry point's work array, when the shares
 * were added in the reverse sweep's order; about 5 KB now, and no more at 12,500 terms). */
static void test_sum_frame(void **state)
{
    (void)state;
    Buf expr = {0};
    buf_puts(&expr, "s(x0, x1, x2, x3, x4, x5, x6, x7, x8, x9) = ");
    for (int k = 0; k < 1500; k++)
        buf_printf(&expr, "%s%d.%03d*sin(x%d*0.%03d)", k ? " + " : "", k % 7 + 1, k % 997, k % 10,
                   (k * 37) % 1000 + 1);
    buf_puts(&expr, "\n");
    spit(OUT "/sum.expr", expr.data);
    buf_free(&expr);
    adgen(OUT "/sum.expr -o " OUT "/sum.c");
    char *out = NULL;
    int rc = runf(&out, "cd " OUT " && gcc " FLAGS " -O2 -fstack-usage -c sum.c -o sum.o 2>&1 && "
                        "grep -w s_grad sum.su");
    if (rc != 0)
        fail_msg("the sum's gradient: status %d\n%s", rc, out ? out : "");
    const char *tab = strchr(out, '\t');
    assert_non_null(tab);
    long frame = strtol(tab + 1, NULL, 10);
    printf("a 1500-term sum's gradient: a frame of %ld bytes at -O2\n", frame);
    assert_true(frame > 0 && frame < 8192);
    free(out);
}

/* 9000 sines deep: the reverse sweep reads 9000 cosines, 72 KB, so that by default the
 * gradient takes them in the caller's work array (no frame above 64 KB with gcc or clang at
 * -O2), with the bits of the same gradient holding them on its stack (--max-stack=1000000)
 * and the product of the cosines to rounding. */
enum { DEEP = 9000 };

static const char deep_driver[] =
    "#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
    "#include \"deep.h\"\n#include \"deep1.h\"\n"
    "int main(void)\n{\n"
    "    double *work = malloc(CH_WORK() * sizeof *work), g, g1, x = 0.7, slope = 1;\n"
    "    double f = ch_grad(0.7, &g, work), f1 = big_ch_grad(0.7, &g1);\n"
    "    for (int i = 0; i < DEEP; i++) {\n"
    "        slope *= cos(x);\n"
    "        x = sin(x);\n"
    "    }\n"
    "    int same = memcmp(&f, &f1, sizeof f) == 0 && memcmp(&g, &g1, sizeof g) == 0;\n"
    "    int near = fabs(f - x) <= 1e-12 * fabs(x) && fabs(g - slope) <= 1e-9 * fabs(slope);\n"
    "    printf(\"%s, %s: work %d values, f %.17g, f' %.17g\\n\", same ? \"same bits\" : "
    "\"DIFFER\",\n"
    "           near ? \"the closed form\" : \"NOT the closed form\", (int)CH_WORK(), f, g);\n"
    "    free(work);\n"
    "    return !(same && near);\n}\n";

static void test_default_frame(void **state)
{
    (void)state;
    Buf expr = {0};
    buf_puts(&expr, "ch(x) = ");
    for (int k = 0; k < DEEP; k++)
        buf_puts(&expr, "sin(");
    buf_puts(&expr, "x");
    for (int k = 0; k < DEEP; k++)
        buf_puts(&expr, ")");
    buf_puts(&expr, "\n");
    spit(OUT "/deep.expr", expr.data);
    buf_free(&expr);
    adgen(OUT "/deep.expr -o " OUT "/deep.c --header " OUT "/deep.h");
    adgen("--max-stack=1000000 --prefix=big_ " OUT "/deep.expr -o " OUT "/deep1.c --header " OUT
          "/deep1.h");
    char *h = read_file(OUT "/deep.h");
    assert_non_null(h);
    assert_contains(h, "double ch_grad(double x, double *x_bar, double *work);");
    assert_contains(h, "#define CH_WORK() ");
    free(h);
    h = read_file(OUT "/deep1.h");
    assert_non_null(h);
    assert_contains(h, "double big_ch_grad(double x, double *x_bar);");
    free(h);
    static const char *const cc[] = {"gcc", "clang"};
    for (int i = 0; i < 2; i++) {
        char *out = NULL;
        int rc = runf(&out, "cd " OUT " && %s " FLAGS " -O2 -fstack-usage -c deep.c -o deep-%s.o "
                            "2>&1 && %s " FLAGS " -O2 -fstack-usage -c deep1.c -o deep1-%s.o 2>&1",
                      cc[i], cc[i], cc[i], cc[i]);
        if (rc != 0)
            fail_msg("%s: status %d\n%s", cc[i], rc, out);
        free(out);
        char su[64];
        snprintf(su, sizeof su, OUT "/deep-%s.su", cc[i]);
        long entry = largest_frame(su, 0), helper = largest_frame(su, 1);
        snprintf(su, sizeof su, OUT "/deep1-%s.su", cc[i]);
        long held = largest_frame(su, 0);
        printf("%s, 9000 sines deep: largest entry point frame %ld, helper %ld; with its values "
               "on the stack %ld\n", cc[i], entry, helper, held);
        assert_true(entry > 0 && entry <= 65536 && helper <= 65536);
        assert_true(held > 65536); /* the bound is not met by chance */
    }
    spit(OUT "/deep_driver.c", deep_driver);
    char *out = NULL;
    int rc = runf(&out, "cd " OUT " && gcc " FLAGS " " SAN " -DDEEP=%d -o deep_driver "
                        "deep_driver.c deep.c deep1.c -lm 2>&1 && ./deep_driver 2>&1", DEEP);
    printf("%s", out ? out : "");
    if (rc != 0)
        fail_msg("the deep chain: status %d", rc);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_stack),
        cmocka_unit_test(test_func_macro),
        cmocka_unit_test(test_sizes_in_parts),
        cmocka_unit_test(test_accumulate_parts),
        cmocka_unit_test(test_sum_frame),
        cmocka_unit_test(test_default_frame),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
