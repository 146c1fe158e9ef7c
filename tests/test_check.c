/* test_check.c: `adgen check`. Every sample passes at the default points; a point next to a
 * kink (abs(x - 1) at x = 1 + 1e-9), next to a branch switch of an `if`, or at an infinite
 * derivative fails with exit status 1 and a note at the source place responsible (its column
 * found here in the source text), and only there; usage errors exit 2. Scratch files go to
 * build/tests/check. */
#include "testutil.h"

#define OUT "build/tests/check"

static int setup(void **state)
{
    (void)state;
    return runf(NULL, "rm -rf " OUT " && mkdir -p " OUT);
}

/* "FILE:LINE:COL: note: " of the first `needle` on line 1 of src (one-line models). */
static void place(char *buf, size_t n, const char *file, const char *src, const char *needle)
{
    const char *hit = strstr(src, needle);
    assert_non_null(hit);
    snprintf(buf, n, "%s:1:%d: note: ", file, (int)(hit - src) + 1);
}

static int notes(const char *text)
{
    int n = 0;
    for (const char *s = text; (s = strstr(s, ": note: ")) != NULL; s++)
        n++;
    return n;
}

static void test_check_samples_pass(void **state)
{
    (void)state;
    const char *samples[] = {"eq5109", "eq5123", "huber", "logistic", "mlp", "rosenbrock"};
    int functions = 0;
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        char *out = NULL;
        int rc = runf(&out, ADGEN_CMD " check samples/%s.expr", samples[i]);
        if (rc != 0)
            fail_msg("adgen check samples/%s.expr: status %d\n%s", samples[i], rc, out);
        for (const char *s = out; (s = strstr(s, ": ok\n")) != NULL; s++)
            functions++;
        assert_true(strstr(out, "FAILED") == NULL);
        free(out);
    }
    assert_int_equal(functions, 9);
    /* and at points given by hand, an array element by element */
    assert_int_equal(runf(NULL, ADGEN_CMD " check samples/eq5109.expr x=-0.3 >/dev/null"), 0);
    assert_int_equal(runf(NULL, ADGEN_CMD " check --function=huber samples/huber.expr "
                                          "r=0.25 delta=1 >/dev/null"), 0);
}

static void test_check_kink(void **state)
{
    (void)state;
    const char *src = "f(x) = abs(x - 1) + abs(x - 5)\n";
    spit(OUT "/kink.expr", src);
    char *out = NULL, want[128];
    assert_int_equal(runf(&out, ADGEN_CMD " check " OUT "/kink.expr x=1.000000001"), 1);
    place(want, sizeof want, OUT "/kink.expr", src, "abs(x - 1)");
    assert_contains(out, want);
    assert_contains(out, "kink");
    assert_contains(out, "f: FAILED");
    /* the other abs is far from its kink: not named */
    assert_int_equal(notes(out), 1);
    free(out);
    /* away from the kinks, and with a tolerance the disagreement is under */
    assert_int_equal(runf(NULL, ADGEN_CMD " check " OUT "/kink.expr x=3 >/dev/null"), 0);
    assert_int_equal(runf(NULL, ADGEN_CMD " check --tol=2 " OUT "/kink.expr x=1.000000001 "
                                          ">/dev/null"), 0);
}

/* The summary says what was allowed where the rounding of the differences widens the
 * tolerance (the network's weights), in the same digits as the detail; a point exactly on a
 * tie passes with a note naming the place and the convention there. */
static void test_check_allowance_and_ties(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(runf(&out, ADGEN_CMD " check samples/mlp.expr"), 0);
    assert_contains(out, "  input        worst disagreement   allowed there\n");
    assert_contains(out, "allowed there: the tolerance, and beyond it the rounding error");
    /* A0's worst disagreement is above the tolerance and below its allowance */
    const char *row = strstr(out, "\n  A0 ");
    assert_non_null(row);
    double worst = 0, allowed = 0;
    assert_int_equal(sscanf(row, " A0 %lf %lf", &worst, &allowed), 2);
    assert_true(worst > 1e-6 && worst < allowed);
    free(out);
    const char *src = "f(x, y) = max(x, y) + abs(x - 1)\n";
    spit(OUT "/tie.expr", src);
    char want[128];
    assert_int_equal(runf(&out, ADGEN_CMD " check " OUT "/tie.expr x=1 y=1"), 0);
    place(want, sizeof want, OUT "/tie.expr", src, "max(x, y)");
    assert_contains(out, want);
    assert_contains(out, "exactly on this kink or tie");
    assert_contains(out, "each gets half there");
    place(want, sizeof want, OUT "/tie.expr", src, "abs(x - 1)");
    assert_contains(out, want);
    assert_contains(out, "f: ok");
    free(out);
    /* off the ties: no note */
    assert_int_equal(runf(&out, ADGEN_CMD " check " OUT "/tie.expr x=1.5 y=0.5"), 0);
    assert_int_equal(notes(out), 0);
    free(out);
}

static void test_check_branch_switch(void **state)
{
    (void)state;
    const char *src = "g(x, y) = y*if(x < 2, x^2, 3*x) + max(y, 0.5)\n";
    spit(OUT "/branch.expr", src);
    char *out = NULL, want[128];
    assert_int_equal(runf(&out, ADGEN_CMD " check " OUT "/branch.expr x=1.999999999 y=1"), 1);
    place(want, sizeof want, OUT "/branch.expr", src, "if(");
    assert_contains(out, want);
    assert_contains(out, "branch");
    assert_int_equal(notes(out), 1);
    free(out);
    assert_int_equal(runf(NULL, ADGEN_CMD " check " OUT "/branch.expr x=1.5 y=1 >/dev/null"),
                     0);
    /* y = 0.5 + 1e-9: the max's kink is within y's step, x's branch is not */
    assert_int_equal(runf(&out, ADGEN_CMD " check " OUT "/branch.expr x=1 y=0.500000001"), 1);
    place(want, sizeof want, OUT "/branch.expr", src, "max(");
    assert_contains(out, want);
    assert_int_equal(notes(out), 1);
    free(out);
}

static void test_check_infinite_derivative(void **state)
{
    (void)state;
    const char *src = "h(x, y) = sqrt(x) + y\n";
    spit(OUT "/edge.expr", src);
    char *out = NULL, want[128];
    assert_int_equal(runf(&out, ADGEN_CMD " check " OUT "/edge.expr x=0 y=1"), 1);
    place(want, sizeof want, OUT "/edge.expr", src, "sqrt(");
    assert_contains(out, want);
    assert_contains(out, "infinite derivative");
    assert_contains(out, "dh/dx = inf from the graph");
    free(out);
}

/* A NaN no domain edge explains (inf - inf): check used to crash printing a missing note. */
static void test_check_nan_of_infinities(void **state)
{
    (void)state;
    const char *src = "f(x) = exp(1000*x) - exp(1000*x)\n";
    spit(OUT "/infs.expr", src);
    char *out = NULL, want[128];
    assert_int_equal(runf(&out, ADGEN_CMD " check " OUT "/infs.expr x=1"), 1);
    place(want, sizeof want, OUT "/infs.expr", src, "exp(1000*x) -");
    assert_contains(out, want);
    assert_contains(out, "note: not a number here, from the operands inf and inf");
    assert_contains(out, "f: FAILED");
    free(out);
}

static void test_check_usage(void **state)
{
    (void)state;
    assert_int_equal(runf(NULL, ADGEN_CMD " check 2>/dev/null"), 2);
    assert_int_equal(runf(NULL, ADGEN_CMD " check --tol=-1 samples/eq5109.expr 2>/dev/null"),
                     2);
    assert_int_equal(runf(NULL, ADGEN_CMD " check samples/eq5109.expr z=1 2>/dev/null"), 2);
    assert_int_equal(runf(NULL, ADGEN_CMD " check samples/rosenbrock.expr x=1 2>/dev/null"), 2);
    assert_int_equal(runf(NULL, ADGEN_CMD " check --function=nope samples/eq5109.expr "
                                          "2>/dev/null"), 2);
    char *err = NULL;
    assert_int_equal(runf(&err, "echo 'f(x) = sine(x)' | " ADGEN_CMD " check - 2>&1"), 1);
    assert_contains(err, "<stdin>:1:8: error: unknown function 'sine'");
    free(err);
}

/* A function that curves within the step is not a wrong derivative (the differences are
 * extrapolated); sqrt at 0 is named even where its argument is the same on both sides; a NaN
 * at the point fails, naming where it comes from; a file of vector results checks nothing and
 * says so, with status 2. */
static void test_check_curvature_nan_and_vectors(void **state)
{
    (void)state;
    char *out = NULL;
    spit(OUT "/curve.expr", "f(x) = sin(1000*x) + exp(30*x)\n");
    assert_int_equal(runf(&out, ADGEN_CMD " check " OUT "/curve.expr x=1"), 0);
    free(out);
    spit(OUT "/sq.expr", "f(x) = sqrt(x^2)\n");
    assert_int_equal(runf(&out, ADGEN_CMD " check " OUT "/sq.expr x=0"), 1);
    assert_contains(out, "sq.expr:1:8: note: an infinite derivative");
    free(out);
    spit(OUT "/nan.expr", "g(x, y) = x + acos(y)\n");
    assert_int_equal(runf(&out, ADGEN_CMD " check " OUT "/nan.expr x=1 y=2"), 1);
    assert_contains(out, "g is not a number at this point");
    assert_contains(out, "nan.expr:1:15: note: not a number here");
    free(out);
    spit(OUT "/vec.expr", "r(x) = [x, abs(x - 1)]\n");
    assert_int_equal(runf(&out, ADGEN_CMD " check " OUT "/vec.expr x=1.000000001 2>&1"), 2);
    assert_contains(out, "no function of");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_samples_pass),
        cmocka_unit_test(test_check_kink),
        cmocka_unit_test(test_check_allowance_and_ties),
        cmocka_unit_test(test_check_branch_switch),
        cmocka_unit_test(test_check_infinite_derivative),
        cmocka_unit_test(test_check_nan_of_infinities),
        cmocka_unit_test(test_check_usage),
        cmocka_unit_test(test_check_curvature_nan_and_vectors),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
