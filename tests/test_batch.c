/*
 * test_batch.c: the batched variants (--emit=value-batch,grad-batch,jvp-batch,vjp-batch) the
 * way a user builds them. For models of every kind of argument (eq. 5.109's scalar; the
 * network's arrays and data, with --accumulate; a vector result with a selection, max, hypot
 * and data, under --static; a float model), a driver written from the definition's
 * parameters calls each batched entry point at k = 0, 1, 7 and 1000 points, every array
 * malloc'ed to exactly its size, and compares each point with the one-point entry points
 * (test_modes checks those against the Jacobian, differences and each other):
 *   - bit for bit when compiled by gcc and clang at -O2 and at -O3 -march=native (gcc with
 *     OpenMP's simd: the loops vectorised), under ASan and UBSan, and split across threads
 *     (gcc -fopenmp -DADGEN_PARALLEL);
 *   - to 1e-9 (float: 1e-5) with glibc's vector libm (gcc -DADGEN_LIBMVEC, clang
 *     -fveclib=libmvec), whose functions round differently (within 4 ulp, its manual says).
 * gcc's and clang's reports must say they vectorised every batched loop of eq. 5.109 and
 * gcc's those of the network, with the README's flags. Errors: batched variants of a
 * definition with run-time sizes, grad-batch of a vector result, --abi=casadi; `all` has none.
 * The flags are x86-64's (-mprefer-vector-width).
 */
#include "testutil.h"

#include <sys/stat.h>

#define OUT "build/tests/batch"
#define WARN "-std=c99 -Wall -Wextra -pedantic -Werror"
#define SAN "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
#define SIMD "-fopenmp-simd -DADGEN_SIMD"
/* gcc: 256-bit vectors (znver1's tuning prefers 128), the vector libm, and sin and cos kept
 * apart (gcc fuses a pair into sincos, which stops the vectoriser) */
#define GCC_VEC "-O3 -march=native -mprefer-vector-width=256 " SIMD " -fno-math-errno " \
                "-DADGEN_LIBMVEC -fno-builtin-sin -fno-builtin-cos"

static const char network[] =
    "net(A0[8][4], b0[8], A1[2][8], b1[2]; x[4], y[2]) {\n"
    "    for i = 0..7 { f1[i] = tanh(sum(j = 0..3, A0[i][j]*x[j]) + b0[i]) }\n"
    "    for k = 0..1 { f2[k] = sum(i = 0..7, A1[k][i]*f1[i]) + b1[k] }\n"
    "    return sum(k = 0..1, (y[k] - f2[k])^2)\n"
    "}\n";

static const char vector_model[] =
    "g(x[3], s; w[2]) {\n"
    "    r[0] = x[0] * s + w[0]\n"
    "    r[1] = if(x[1] > 0, sin(x[1]), x[1]^2) * w[1]\n"
    "    r[2] = max(x[2], s) + hypot(x[0], s) + exp(s) / (1 + x[2]^2)\n"
    "    return r\n"
    "}\n";

static const char float_model[] =
    "q(a, b[2]; c) = a / (1 + b[0]^2) + log(1 + b[1]^2) * c + sqrt(a^2 + 1) / c\n";

/* The driver's text for f (compiled from the model by adgen's library): it calls every
 * batched entry point and compares each point with the one-point ones. */
static void put_driver(Buf *d, const Func *f, const char *real, int included)
{
    int vec = f->vector, m = f->nroots;
    buf_printf(d, "#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n"
                  "#include \"%s\"\n"
                  "typedef %s real;\n"
                  "static long checks, fails;\n"
                  "static int tolerant; /* a vector libm: to 1e-9 (float: 1e-5) */\n"
                  "static unsigned long long rng = 88172645463325252ull;\n"
                  "static real uniform(double lo, double hi)\n{\n"
                  "    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;\n"
                  "    return (real)(lo + (hi - lo) * (double)(rng >> 11) / 9007199254740992.0);\n}\n"
                  "static void cmp(const char *what, long p, int i, real got, real want)\n{\n"
                  "    checks++;\n"
                  "    if (got == want || (isnan(got) && isnan(want)))\n        return;\n"
                  "    double tol = sizeof(real) == sizeof(float) ? 1e-5 : 1e-9;\n"
                  "    if (tolerant && fabs((double)got - (double)want) <= tol * (1 + fabs((double)want)))\n"
                  "        return;\n"
                  "    if (fails++ < 10)\n"
                  "        printf(\"FAIL %%s point %%ld element %%d: %%.17g, expected %%.17g\\n\", what, p, i,\n"
                  "               (double)got, (double)want);\n}\n"
                  "static real *alloc(long n)\n{\n"
                  "    return malloc((size_t)n * sizeof(real));\n}\n"
                  "int main(int argc, char **argv)\n{\n"
                  "    static const long ks[] = {0, 1, 7, 1000};\n"
                  "    tolerant = argc > 1;\n"
                  "    (void)argv;\n"
                  "    for (int t = 0; t < 4; t++) {\n"
                  "        long k = ks[t];\n", included ? "m.c" : "m.h", real);
    /* per parameter: its points (P), a point's copy (a); per differentiated one: directions
     * (D, d) and the gradients of grad-batch (G, g) and vjp-batch (H, h) */
    for (int i = 0; i < f->nparams; i++) {
        const Param *pa = &f->params[i];
        buf_printf(d, "        real *P%d = alloc(%u * k), a%d[%u];\n", i, pa->size, i, pa->size);
        buf_printf(d, "        for (long e = 0; e < %u * k; e++)\n"
                      "            P%d[e] = uniform(-1.5, 1.5);\n", pa->size, i);
        if (pa->kind != PARAM_DIFF)
            continue;
        /* gradients zeroed: --accumulate adds into them */
        buf_printf(d, "        real *D%d = alloc(%u * k), *G%d = alloc(%u * k), *H%d = alloc(%u * k);\n"
                      "        real d%d[%u], h%d[%u];\n"
                      "        for (long e = 0; e < %u * k; e++) {\n"
                      "            D%d[e] = uniform(-1, 1);\n"
                      "            G%d[e] = H%d[e] = 0;\n"
                      "        }\n",
                   i, pa->size, i, pa->size, i, pa->size, i, pa->size, i, pa->size, pa->size, i,
                   i, i);
        if (!vec)
            buf_printf(d, "        real g%d[%u];\n", i, pa->size);
    }
    buf_printf(d, "        real *U = alloc(%d * k), *O = alloc(%d * k), *OD = alloc(%d * k);\n"
                  "        real u[%d], o[%d], od[%d];\n"
                  "        for (long e = 0; e < %d * k; e++)\n"
                  "            U[e] = uniform(-1, 1);\n", m, m, m, m, m, m, m);
    if (!vec)
        buf_puts(d, "        real y;\n");
    Buf params = {0}, one = {0}, dirs = {0}, grads = {0}, hgrads = {0}, bdirs = {0}, bg = {0},
        bh = {0};
    buf_putn(&params, "", 0);
    for (int i = 0; i < f->nparams; i++) {
        const Param *pa = &f->params[i];
        buf_printf(&params, ", P%d", i);
        buf_printf(&one, "%s%s%d%s", i ? ", " : "", "a", i, pa->rank ? "" : "[0]");
        if (pa->kind != PARAM_DIFF)
            continue;
        buf_printf(&dirs, ", d%d%s", i, pa->rank ? "" : "[0]");
        buf_printf(&grads, ", g%d", i);
        buf_printf(&hgrads, ", h%d", i);
        buf_printf(&bdirs, ", D%d", i);
        buf_printf(&bg, ", G%d", i);
        buf_printf(&bh, ", H%d", i);
    }
    buf_printf(d, "        %s_batch(k%s, O);\n", f->name, params.data);
    buf_printf(d, "        for (long p = 0; p < k; p++) {\n");
    for (int i = 0; i < f->nparams; i++)
        buf_printf(d, "            for (int j = 0; j < %u; j++)\n"
                      "                a%d[j] = P%d[j * k + p];\n", f->params[i].size, i, i);
    if (vec)
        buf_printf(d, "            %s(%s, o);\n", f->name, one.data);
    else
        buf_printf(d, "            o[0] = %s(%s);\n", f->name, one.data);
    buf_printf(d, "            for (int i = 0; i < %d; i++)\n"
                  "                cmp(\"value-batch\", p, i, O[i * k + p], o[i]);\n"
                  "        }\n", m);
    /* the batched variants of f's derivatives, each point against the one-point entry */
    struct {
        const char *what, *call, *one;
    } modes[] = {
        {"grad", "%s_grad_batch(k%s, O%s);\n", "y = %s_grad(%s%s);\n"},
        {"jvp", "%s_jvp_batch(k%s%s, O, OD);\n", vec ? "%s_jvp(%s%s, o, od);\n" :
                                                         "y = %s_jvp(%s%s, od);\n"},
        {"vjp", "%s_vjp_batch(k%s, U, O%s);\n", vec ? "%s_vjp(%s, u%s);\n" :
                                                      "y = %s_vjp(%s, u[0]%s);\n"},
    };
    for (int md = vec ? 1 : 0; md < 3; md++) {
        const char *bargs = md == 0 ? bg.data : md == 1 ? bdirs.data : bh.data;
        const char *oargs = md == 0 ? grads.data : md == 1 ? dirs.data : hgrads.data;
        buf_puts(d, "        ");
        buf_printf(d, modes[md].call, f->name, params.data, bargs ? bargs : "");
        buf_printf(d, "        for (long p = 0; p < k; p++) {\n");
        for (int i = 0; i < f->nparams; i++) {
            const Param *pa = &f->params[i];
            buf_printf(d, "            for (int j = 0; j < %u; j++) {\n"
                          "                a%d[j] = P%d[j * k + p];\n", pa->size, i, i);
            if (pa->kind == PARAM_DIFF)
                buf_printf(d, "                d%d[j] = D%d[j * k + p];\n", i, i);
            if (pa->kind == PARAM_DIFF && md != 1)
                buf_printf(d, "                %c%d[j] = 0;\n", md ? 'h' : 'g', i);
            buf_puts(d, "            }\n");
        }
        buf_printf(d, "            for (int i = 0; i < %d; i++)\n"
                      "                u[i] = U[i * k + p];\n"
                      "            ", m);
        if (md == 2 && vec)
            buf_printf(d, "%s_vjp(%s, u, o%s);\n", f->name, one.data, hgrads.data);
        else
            buf_printf(d, modes[md].one, f->name, one.data, oargs ? oargs : "");
        if (!vec)
            buf_puts(d, "            o[0] = y;\n");
        buf_printf(d, "            for (int i = 0; i < %d; i++) {\n"
                      "                cmp(\"%s-batch value\", p, i, O[i * k + p], o[i]);\n", m,
                   modes[md].what);
        if (md == 1)
            buf_printf(d, "                cmp(\"jvp-batch\", p, i, OD[i * k + p], od[i]);\n");
        buf_puts(d, "            }\n");
        for (int i = 0; md != 1 && i < f->nparams; i++)
            if (f->params[i].kind == PARAM_DIFF)
                buf_printf(d, "            for (int j = 0; j < %u; j++)\n"
                              "                cmp(\"%s-batch\", p, j, %c%d[j * k + p], %c%d[j]);\n",
                           f->params[i].size, modes[md].what, md ? 'H' : 'G', i,
                           md ? 'h' : 'g', i);
        buf_puts(d, "        }\n");
    }
    for (int i = 0; i < f->nparams; i++) {
        buf_printf(d, "        free(P%d);\n", i);
        if (f->params[i].kind == PARAM_DIFF)
            buf_printf(d, "        free(D%d);\n        free(G%d);\n        free(H%d);\n", i, i, i);
    }
    buf_puts(d, "        free(U);\n        free(O);\n        free(OD);\n    }\n"
                "    printf(\"checks %ld failures %ld\\n\", checks, fails);\n"
                "    return fails != 0 || checks == 0;\n}\n");
    buf_free(&params);
    buf_free(&one);
    buf_free(&dirs);
    buf_free(&grads);
    buf_free(&hgrads);
    buf_free(&bdirs);
    buf_free(&bg);
    buf_free(&bh);
}

/* Writes OUT/<stem>/: the model, its C (every batched variant and the one-point entry points
 * they are checked against) and the driver, which includes the C under --static (then
 * without a header). */
static void prepare(const char *stem, const char *model, const char *options)
{
    char *out = NULL;
    int included = strstr(options, "--static") != NULL;
    assert_int_equal(runf(NULL, "rm -rf " OUT "/%s && mkdir -p " OUT "/%s", stem, stem), 0);
    char path[128];
    snprintf(path, sizeof path, OUT "/%s/m.expr", stem);
    spit(path, model);
    Compiled c;
    if (compile_string(&c, model, 0) != 0)
        fail_msg("%s does not compile", stem);
    char header[128] = "";
    if (!included)
        snprintf(header, sizeof header, "--header=" OUT "/%s/m.h", stem);
    int rc = runf(&out, ADGEN_CMD " %s --emit=jvp,vjp,value-batch,jvp-batch,vjp-batch%s " OUT
                        "/%s/m.expr -o " OUT "/%s/m.c %s 2>&1", options,
                  c.prog.funcs[0].vector ? "" : ",grad,grad-batch", stem, stem, header);
    if (rc != 0)
        fail_msg("adgen %s: status %d\n%s", stem, rc, out);
    free(out);
    Buf d = {0};
    put_driver(&d, &c.prog.funcs[0], strstr(options, "float") ? "float" : "double", included);
    snprintf(path, sizeof path, OUT "/%s/main.c", stem);
    spit(path, d.data);
    buf_free(&d);
    compiled_free(&c);
}

/* Builds the model's C and driver with cc and flags, runs it (`tolerant`: to 1e-9), and
 * returns its number of checks. */
static long build_and_run(const char *stem, const char *cc, const char *flags, int tolerant)
{
    char *out = NULL;
    /* under --static main.c includes m.c */
    int rc = runf(&out, "cd " OUT "/%s && %s " WARN " %s -o main $(grep -q '\"m.c\"' main.c || "
                        "echo m.c) main.c -lm 2>&1 && ./main %s 2>&1", stem, cc, flags,
                  tolerant ? "tolerant" : "");
    if (rc != 0)
        fail_msg("%s, %s %s: status %d\n%s", stem, cc, flags, rc, out);
    long checks = count_after(out, "checks ");
    printf("%s, %s %s: %ld checks\n", stem, cc, flags, checks);
    free(out);
    return checks;
}

/* Every build of a model: the same bits as the one-point entry points but with the vector
 * libm. */
static void check_model(const char *stem, const char *model, const char *options)
{
    prepare(stem, model, options);
    static const struct {
        const char *cc, *flags;
        int tolerant;
    } builds[] = {
        {"gcc", "-O2", 0},
        {"clang", "-O2", 0},
        {"gcc", "-O3 -march=native " SIMD, 0},
        {"clang", "-O3 -march=native", 0},
        {"gcc", "-O1 -g " SAN " " SIMD, 0},
        {"gcc", "-O2 -fopenmp -DADGEN_PARALLEL", 0},
        {"gcc", GCC_VEC, 1},
        {"clang", "-O3 -march=native -fno-math-errno -fveclib=libmvec", 1},
    };
    long first = 0;
    for (size_t i = 0; i < sizeof builds / sizeof *builds; i++) {
        long checks = build_and_run(stem, builds[i].cc, builds[i].flags, builds[i].tolerant);
        assert_true(checks > 1000);
        if (i == 0)
            first = checks;
        assert_int_equal(checks, first);
    }
}

static void test_batch_eq5109(void **state)
{
    (void)state;
    char *model = read_file("samples/eq5109.expr");
    assert_non_null(model);
    check_model("eq5109", model, "");
    free(model);
}

static void test_batch_network(void **state)
{
    (void)state;
    check_model("network", network, "--accumulate");
}

static void test_batch_vector_result(void **state)
{
    (void)state;
    check_model("vector", vector_model, "--static");
}

static void test_batch_float(void **state)
{
    (void)state;
    check_model("float", float_model, "--real=float --no-line");
}

/* Distinct places a compiler's report in out says it vectorised a loop (`marker`). */
static int vectorised_loops(const char *out, const char *marker)
{
    int n = 0;
    char seen[64][64];
    for (const char *l = out; (l = strstr(l, marker)) != NULL; l++) {
        const char *start = l;
        while (start > out && start[-1] != '\n')
            start--;
        size_t len = (size_t)(l - start) < 63 ? (size_t)(l - start) : 63;
        int dup = 0;
        for (int i = 0; i < n; i++)
            dup |= strncmp(seen[i], start, len) == 0 && seen[i][len] == '\0';
        if (!dup && n < 64) {
            memcpy(seen[n], start, len);
            seen[n++][len] = '\0';
        }
    }
    return n;
}

/* The four batched loops of a model's file are vectorised by cc with flags. */
static void expect_vectorised(const char *stem, const char *cc, const char *flags,
                              const char *report, const char *marker)
{
    char *out = NULL;
    int rc = runf(&out, "cd " OUT "/%s && %s " WARN " %s %s -c m.c -o m.o 2>&1", stem, cc, flags,
                  report);
    if (rc != 0)
        fail_msg("%s, %s %s: status %d\n%s", stem, cc, flags, rc, out);
    int n = vectorised_loops(out, marker);
    printf("%s, %s %s: %d loops vectorised\n", stem, cc, flags, n);
    assert_int_equal(n, 4);
    free(out);
}

/* With the README's flags, gcc vectorises the loop of each of the four batched variants of
 * eq. 5.109 (exp, sqrt, sin, cos) and of the network (tanh), with OpenMP's simd and at -O3
 * without it; clang those of eq. 5.109 (its libmvec has no tanh). */
static void test_batch_vectorised(void **state)
{
    (void)state;
    char *model = read_file("samples/eq5109.expr");
    prepare("eq5109", model, "--no-line");
    free(model);
    static const char gcc_report[] = "-fopt-info-vec-optimized",
                      gcc_marker[] = ": optimized: loop vectorized",
                      clang_report[] = "-Rpass=loop-vectorize",
                      clang_marker[] = "remark: vectorized loop";
    expect_vectorised("eq5109", "gcc", GCC_VEC, gcc_report, gcc_marker);
    expect_vectorised("eq5109", "gcc", "-O3 -march=native -mprefer-vector-width=256 "
                      "-fno-math-errno -DADGEN_LIBMVEC -fno-builtin-sin -fno-builtin-cos",
                      gcc_report, gcc_marker);
    expect_vectorised("eq5109", "clang", "-O2 -march=native -fno-math-errno -fveclib=libmvec",
                      clang_report, clang_marker);
    prepare("network", network, "--no-line");
    expect_vectorised("network", "gcc", GCC_VEC, gcc_report, gcc_marker);
    /* several arrays: clang needs them restrict (no pragma asks it) */
    prepare("two", "pl(x, y) = x*y + exp(y)\n", "--no-line");
    expect_vectorised("two", "clang", "-O2 -march=native -fno-math-errno -fveclib=libmvec",
                      clang_report, clang_marker);
}

/* What has no batched variant says why, where. */
static void test_batch_refused(void **state)
{
    (void)state;
    char *out = NULL;
    spit(OUT "/sizes.expr", "f(x[N]) = sum(i = 0..N-1, x[i]^2)\n");
    assert_int_equal(runf(&out, ADGEN_CMD " --emit=grad-batch " OUT "/sizes.expr 2>&1"), 1);
    assert_contains(out, "sizes.expr:1:1: error: 'f' has sizes known only at run time, so it "
                         "has no grad-batch (a batched entry point is one loop over points of "
                         "one constant size)");
    free(out);
    spit(OUT "/vec.expr", "r(x[2]) = [x[0]*x[1], x[1]]\n");
    assert_int_equal(runf(&out, ADGEN_CMD " --emit=grad-batch " OUT "/vec.expr 2>&1"), 1);
    assert_contains(out, "'r' returns 2 values, so it has no grad-batch (a scalar result's)");
    free(out);
    assert_int_equal(runf(&out, ADGEN_CMD " --emit=jvp-batch --abi=casadi " OUT
                                "/vec.expr 2>&1"), 1);
    assert_contains(out, "--abi=casadi: 'r' has batched entry points, but a CasADi function "
                         "is of one point");
    free(out);
    /* 'all' is every one-point entry point: no batched variant */
    assert_int_equal(runf(&out, ADGEN_CMD " --emit=all " OUT "/vec.expr"), 0);
    assert_null(strstr(out, "_batch"));
    free(out);
    /* constant sizes kept as loops by --unroll: leave it out */
    spit(OUT "/unroll.expr", "su(x[50]) = sum(i = 0..49, x[i]^2*exp(x[i]))\n");
    assert_int_equal(runf(&out, ADGEN_CMD " --emit=grad-batch --unroll=10 " OUT
                                "/unroll.expr 2>&1"), 1);
    assert_contains(out, "'su' has loops kept by --unroll, so it has no grad-batch");
    assert_contains(out, "(or leave out --unroll)");
    free(out);
}

/* Asking for a batched variant renames nothing in the one-point entry points: its own names
 * (points, p, out) come after theirs. */
static void test_batch_names_after(void **state)
{
    (void)state;
    spit(OUT "/names.expr", "lo(x, y) {\n    p = x*y\n    points = p + sin(x)\n"
                            "    out = points*points\n    return out + p\n}\n");
    char *one = NULL, *both = NULL;
    assert_int_equal(runf(&one, ADGEN_CMD " --emit=grad --no-line " OUT "/names.expr"), 0);
    assert_int_equal(runf(&both, ADGEN_CMD " --emit=grad,grad-batch --no-line " OUT
                                 "/names.expr"), 0);
    const char *head = "ADGEN_FUNC double lo_grad(double x, double y, double *x_bar, "
                       "double *y_bar)\n{";
    const char *a = strstr(one, head), *b = strstr(both, head);
    assert_non_null(a);
    assert_non_null(b);
    size_t n = strstr(a, "\n}\n") - a;
    assert_true(strncmp(a, b, n + 3) == 0);
    assert_contains(a, "const double points = p + ");
    assert_contains(both, "lo_grad_batch(long points_, ");
    free(one);
    free(both);
}

int main(void)
{
    mkdir("build/tests", 0777);
    mkdir(OUT, 0777);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_refused),
        cmocka_unit_test(test_batch_eq5109),
        cmocka_unit_test(test_batch_network),
        cmocka_unit_test(test_batch_vector_result),
        cmocka_unit_test(test_batch_float),
        cmocka_unit_test(test_batch_vectorised),
        cmocka_unit_test(test_batch_names_after),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
