/* test_eval.c: `adgen eval FILE NAME=VALUE...`, as a user runs it: the value and gradient it
 * prints against closed forms, choosing a function with --function, standard input, and the
 * errors (a missing, unknown or repeated input, a malformed or out-of-range value, an
 * ambiguous file, an error in the source, a full standard output) with their exit statuses. Scratch files go to build/tests/eval-out. */
#include "testutil.h"

#define OUT "build/tests/eval-out"

/* The number printed after "label = " in out. */
static double value_of(const char *out, const char *label)
{
    char key[64];
    snprintf(key, sizeof key, "%s = ", label);
    const char *at = strstr(out, key);
    if (!at)
        fail_msg("no '%s' in:\n%s", key, out);
    return strtod(at + strlen(key), NULL);
}

static const char models[] =
    "# two functions: eval needs --function to choose\n"
    "gauss(x, mu, s) = -0.5*((x - mu)/s)^2 - log(s) - 0.5*log(2*pi)\n"
    "arm(t1, t2) {\n"
    "    px = cos(t1) + 0.5*cos(t1 + t2)\n"
    "    py = sin(t1) + 0.5*sin(t1 + t2)\n"
    "    return hypot(px, py)\n"
    "}\n";

static int setup(void **state)
{
    (void)state;
    if (runf(NULL, "rm -rf " OUT " && mkdir -p " OUT) != 0)
        return -1;
    spit(OUT "/models.expr", models);
    return 0;
}

static void test_eval_gaussian_log_likelihood(void **state)
{
    (void)state;
    char *out = NULL;
    double x = 1.3, mu = 0.4, s = 0.7;
    assert_int_equal(runf(&out, ADGEN_CMD " eval --function=gauss " OUT "/models.expr x=1.3 "
                                "mu=0.4 s=0.7"), 0);
    double z = (x - mu) / s;
    assert_near(value_of(out, "gauss"), -0.5 * z * z - log(s) - 0.5 * log(2 * 3.14159265358979323846), 1e-15);
    assert_near(value_of(out, "dgauss/dx"), -z / s, 1e-15);
    assert_near(value_of(out, "dgauss/dmu"), z / s, 1e-15);
    assert_near(value_of(out, "dgauss/ds"), z * z / s - 1 / s, 1e-15);
    free(out);
}

static void test_eval_arm_reach_in_any_order(void **state)
{
    (void)state;
    char *out = NULL;
    /* inputs in any order, a negative value, and the option after them */
    assert_int_equal(runf(&out, ADGEN_CMD " eval " OUT "/models.expr t2=0.9 t1=-0.2 -f arm"), 0);
    /* |p|^2 = 1.25 + cos(t2): the reach depends on t2 only */
    double t2 = 0.9, r = sqrt(1.25 + cos(t2));
    assert_near(value_of(out, "arm"), r, 1e-15);
    assert_near(value_of(out, "darm/dt1"), 0.0, 1e-15);
    assert_near(value_of(out, "darm/dt2"), -sin(t2) / (2 * r), 1e-15);
    free(out);
}

static void test_eval_stdin_and_bare_expression(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(runf(&out, "echo 'x*y + sin(x)' | " ADGEN_CMD " eval - x=0 y=2"), 0);
    assert_string_equal(out, "f = 0\ndf/dx = 3\ndf/dy = 0\n");
    free(out);
}

static void test_eval_errors(void **state)
{
    (void)state;
    const struct {
        const char *args;
        int status;
        const char *message;
    } cases[] = {
        {OUT "/models.expr x=1", 2, "defines 2 functions; choose one with --function"},
        {"--function=nope " OUT "/models.expr", 2, "defines no function 'nope'"},
        {"-f arm " OUT "/models.expr t1=1", 2, "no value for input 't2' of 'arm'"},
        {"-f arm " OUT "/models.expr t1=1 t2=2 t3=3", 2, "'arm' has no input 't3'"},
        {"-f arm " OUT "/models.expr t1=1 t2=2 t1=3", 2, "input 't1' is given twice"},
        {"-f arm " OUT "/models.expr t1=1 t2=abc", 2, "'abc' is not a number"},
        {"-f arm " OUT "/models.expr t1=1 t2=", 2, "'' is not a number"},
        {"-f arm " OUT "/models.expr t1=1 t2=1e999", 2, "'1e999' is out of the range of a double"},
        {"-f arm " OUT "/models.expr t1=1 t2", 2, "'t2' is not NAME=VALUE"},
        {OUT "/missing.expr x=1", 2, "cannot open"},
        {"", 2, "no input file"},
        {"--bogus " OUT "/models.expr", 2, "unrecognized option '--bogus'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *out = NULL;
        int rc = runf(&out, ADGEN_CMD " eval %s 2>&1", cases[i].args);
        if (rc != cases[i].status)
            fail_msg("adgen eval %s: exit %d, expected %d:\n%s", cases[i].args, rc,
                     cases[i].status, out);
        assert_contains(out, cases[i].message);
        free(out);
    }
    /* help goes to standard output, and a failure to write it is an error */
    char *help = NULL;
    assert_int_equal(runf(&help, ADGEN_CMD " eval --help"), 0);
    assert_contains(help, "adgen eval");
    free(help);
    assert_int_equal(runf(NULL, "echo x | " ADGEN_CMD " eval - x=1 > /dev/full 2>/dev/null"), 2);

    /* an error in the source is located, as when compiling, and is exit status 1 */
    spit(OUT "/bad.expr", "f(x) = sine(x)\n");
    char *out = NULL;
    assert_int_equal(runf(&out, ADGEN_CMD " eval " OUT "/bad.expr x=1 2>&1"), 1);
    assert_contains(out, OUT "/bad.expr:1:8: error: unknown function 'sine'");
    free(out);
}

/* Arrays as comma lists in row-major order, data inputs without derivatives, -D for a size,
 * and the errors of a list of the wrong length. */
static void test_eval_arrays_data_and_defines(void **state)
{
    (void)state;
    spit(OUT "/lin.expr", "N = 3\n"
                          "lin(w[N], b; X[2][N], y[2]) = sum(n = 0..1, "
                          "(sum(j = 0..N-1, w[j]*X[n][j]) + b - y[n])^2)\n");
    char *out = NULL;
    assert_int_equal(runf(&out, ADGEN_CMD " eval " OUT "/lin.expr w=1,2,3 b=0.5 "
                                "X=1,0,2,0,1,1 y=3,4"), 0);
    /* residuals r0 = 1 + 6 + 0.5 - 3 = 4.5, r1 = 2 + 3 + 0.5 - 4 = 1.5 */
    assert_near(value_of(out, "lin"), 4.5 * 4.5 + 1.5 * 1.5, 1e-15);
    assert_near(value_of(out, "dlin/dw[0]"), 2 * 4.5 * 1, 1e-15);
    assert_near(value_of(out, "dlin/dw[1]"), 2 * 1.5 * 1, 1e-15);
    assert_near(value_of(out, "dlin/dw[2]"), 2 * 4.5 * 2 + 2 * 1.5 * 1, 1e-15);
    assert_near(value_of(out, "dlin/db"), 2 * 4.5 + 2 * 1.5, 1e-15);
    assert_null(strstr(out, "dlin/dX"));
    assert_null(strstr(out, "dlin/dy"));
    free(out);
    /* -D N=2: two weights and two columns */
    assert_int_equal(runf(&out, ADGEN_CMD " eval -D N=2 " OUT "/lin.expr w=1,2 b=0 X=1,1,1,1 "
                                "y=0,0"), 0);
    assert_near(value_of(out, "lin"), 18, 1e-15);
    assert_null(strstr(out, "dlin/dw[2]"));
    free(out);
    assert_int_equal(runf(&out, ADGEN_CMD " eval " OUT "/lin.expr w=1,2 b=0 X=1,1,1,1,1,1 "
                                "y=0,0 2>&1"), 2);
    assert_contains(out, "'w' has 3 elements");
    free(out);
    assert_int_equal(runf(&out, ADGEN_CMD " eval -D 2N=1 " OUT "/lin.expr 2>&1"), 2);
    assert_contains(out, "-D takes NAME=VALUE");
    free(out);
    assert_int_equal(runf(&out, ADGEN_CMD " eval -D N=three " OUT "/lin.expr 2>&1"), 2);
    assert_contains(out, "not a finite number");
    free(out);
}

/* A size known only at run time may be given as a value, N=2 beside the inputs, as users
 * write it (the same as -D N=2); its value must be a number, and without it the message says
 * how to give it. */
static void test_eval_run_time_size_as_value(void **state)
{
    (void)state;
    spit(OUT "/run.expr", "ls(w[2]; X[N][2], y[N]) = sum(n = 0..N-1, "
                          "(w[0]*X[n][0] + w[1]*X[n][1] - y[n])^2)\n");
    char *out = NULL;
    assert_int_equal(runf(&out, ADGEN_CMD " eval " OUT "/run.expr w=1,2 N=2 X=1,0,1,1 "
                                "y=0,1"), 0);
    /* residuals r0 = 1 - 0 = 1, r1 = 1 + 2 - 1 = 2 */
    assert_near(value_of(out, "ls"), 1 + 4, 1e-15);
    assert_near(value_of(out, "dls/dw[0]"), 2 * 1 * 1 + 2 * 2 * 1, 1e-15);
    assert_near(value_of(out, "dls/dw[1]"), 2 * 2 * 1, 1e-15);
    free(out);
    assert_int_equal(runf(&out, ADGEN_CMD " check " OUT "/run.expr N=3"), 0);
    assert_contains(out, "ls: ok");
    free(out);
    assert_int_equal(runf(&out, ADGEN_CMD " eval " OUT "/run.expr w=1,2 N=two 2>&1"), 2);
    assert_contains(out, "size N=two: the value is not a number");
    free(out);
    assert_int_equal(runf(&out, ADGEN_CMD " eval " OUT "/run.expr w=1,2 2>&1"), 2);
    assert_contains(out, "give them as NAME=VALUE (or -D NAME=VALUE)");
    free(out);
}

/* Unrolling past --max-nodes is an error at the loop, not an exhausted memory. */
static void test_eval_unroll_limit(void **state)
{
    (void)state;
    spit(OUT "/big.expr", "f(x) = sum(i = 0..9999, sin(x + i))\n");
    char *out = NULL;
    assert_int_equal(runf(&out, ADGEN_CMD " eval --max-nodes=1000 " OUT "/big.expr x=1 2>&1"),
                     1);
    assert_contains(out, "big.expr:1:8: error: this unrolls to more than 1000 operations");
    free(out);
    assert_int_equal(runf(&out, ADGEN_CMD " eval --max-nodes=0 " OUT "/big.expr x=1 2>&1"), 2);
    free(out);
    /* a sum whose terms alone pass the limit is refused at its first term: 10^15 of them
     * would otherwise unroll for days (timeout only catches that) */
    spit(OUT "/huge.expr", "f(x; n) = sum(i = 0..n-1, x*i)\n");
    assert_int_equal(runf(&out, "timeout 60 " ADGEN_CMD " eval -D n=1000000000000000 " OUT
                                "/huge.expr x=1 2>&1"), 1);
    assert_contains(out, "huge.expr:1:11: error: this unrolls to more than 10000000 operations");
    free(out);
    assert_int_equal(runf(&out, ADGEN_CMD " eval " OUT "/big.expr x=1"), 0);
    double want = 0;
    for (int i = 0; i < 10000; i++)
        want += sin(1.0 + i);
    assert_near(value_of(out, "f"), want, 1e-12);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval_arrays_data_and_defines),
        cmocka_unit_test(test_eval_unroll_limit),
        cmocka_unit_test(test_eval_run_time_size_as_value),
        cmocka_unit_test(test_eval_gaussian_log_likelihood),
        cmocka_unit_test(test_eval_arm_reach_in_any_order),
        cmocka_unit_test(test_eval_stdin_and_bare_expression),
        cmocka_unit_test(test_eval_errors),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
