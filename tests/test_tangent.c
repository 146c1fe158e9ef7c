/* test_tangent.c: eval_tangent, the forward-mode interpreter the differential test checks
 * reverse mode against: every rule against its closed form, sums over paths, inputs the
 * output ignores, and the conventions at kinks that reverse.c implements. */
#include "testutil.h"

/* The value and forward-mode gradient of the first function of src at in[]. */
static double tangent_of(const char *src, const double *in, double *grad)
{
    Compiled c;
    if (compile_string(&c, src, 1) != 0)
        fail_msg("unexpected errors:\n%s", c.messages);
    double value = eval_tangent(&c.prog.funcs[0], in, grad, NULL);
    compiled_free(&c);
    return value;
}

static double t1(const char *src, double x)
{
    double g;
    tangent_of(src, &x, &g);
    return g;
}

static const double points[] = {-2.5, -0.7, -0.1, 0.3, 0.9, 1.7, 3.0};
#define NPOINTS (sizeof points / sizeof *points)

static void test_tangent_unary_rules(void **state)
{
    (void)state;
    for (size_t i = 0; i < NPOINTS; i++) {
        double x = points[i], y = fabs(x), u = x / 3.5;
        assert_near(t1("f(x) = -x", x), -1, 0);
        assert_near(t1("f(x) = +x", x), 1, 0);
        assert_near(t1("f(x) = sin(x)", x), cos(x), 1e-15);
        assert_near(t1("f(x) = cos(x)", x), -sin(x), 1e-15);
        assert_near(t1("f(x) = tan(x)", x), 1 / (cos(x) * cos(x)), 1e-14);
        assert_near(t1("f(x) = sinh(x)", x), cosh(x), 1e-15);
        assert_near(t1("f(x) = cosh(x)", x), sinh(x), 1e-15);
        assert_near(t1("f(x) = tanh(x)", x), 1 / (cosh(x) * cosh(x)), 1e-14);
        assert_near(t1("f(x) = exp(x)", x), exp(x), 1e-15);
        assert_near(t1("f(x) = atan(x)", x), 1 / (1 + x * x), 1e-15);
        assert_near(t1("f(x) = abs(x)", x), x > 0 ? 1 : -1, 0);
        assert_near(t1("f(x) = x^3", x), 3 * x * x, 1e-15);
        assert_near(t1("f(x) = x**-2", x), -2 / (x * x * x), 1e-14);
        assert_near(t1("f(x) = 2^x", x), log(2) * pow(2, x), 1e-15);
        assert_near(t1("f(x) = x^67", x), 67 * pow(x, 66), 1e-14);
        assert_near(t1("f(x) = log(x)", y), 1 / y, 1e-15);
        assert_near(t1("f(x) = sqrt(x)", y), 0.5 / sqrt(y), 1e-15);
        assert_near(t1("f(x) = x^1.5", y), 1.5 * sqrt(y), 1e-15);
        assert_near(t1("f(x) = x^-0.25", y), -0.25 * pow(y, -1.25), 1e-15);
        assert_near(t1("f(x) = asin(x)", u), 1 / sqrt(1 - u * u), 1e-15);
        assert_near(t1("f(x) = acos(x)", u), -1 / sqrt(1 - u * u), 1e-15);
    }
}

static void test_tangent_binary_rules(void **state)
{
    (void)state;
    for (size_t i = 0; i < NPOINTS; i++) {
        for (size_t j = 0; j < NPOINTS; j++) {
            double in[2] = {points[i], points[j]}, g[2];
            double x = in[0], y = in[1], r2 = x * x + y * y;
            tangent_of("f(x, y) = x * y - x / y", in, g);
            assert_near(g[0], y - 1 / y, 1e-15);
            assert_near(g[1], x + x / (y * y), 1e-15);
            tangent_of("f(x, y) = atan2(y, x)", in, g);
            assert_near(g[0], -y / r2, 1e-15);
            assert_near(g[1], x / r2, 1e-15);
            tangent_of("f(x, y) = hypot(x, y)", in, g);
            assert_near(g[0], x / sqrt(r2), 1e-15);
            assert_near(g[1], y / sqrt(r2), 1e-15);
            tangent_of("f(x, y) = min(x, y) + 2 * max(x, y)", in, g);
            assert_near(g[0], x < y ? 1 : x > y ? 2 : 1.5, 0); /* a tie: half each */
            assert_near(g[1], x < y ? 2 : x > y ? 1 : 1.5, 0);
            double px[2] = {fabs(x), y};
            tangent_of("f(x, y) = pow(x, y)", px, g);
            assert_near(g[0], y * pow(px[0], y - 1), 1e-14);
            assert_near(g[1], pow(px[0], y) * log(px[0]), 1e-14);
        }
    }
}

static void test_tangent_sums_paths_and_ignores_other_inputs(void **state)
{
    (void)state;
    for (size_t i = 0; i < NPOINTS; i++) {
        double x = points[i], in[2] = {x, 1e308}, g[2];
        assert_near(t1("f(x) { a = exp(x); b = a * x; return a + b * a }", x),
                    exp(x) + (1 + 2 * x) * exp(2 * x), 1e-13);
        /* y's huge value must not leak into x's derivative as 0 * inf; y's is exactly 0 */
        double v = tangent_of("f(x, y) = x * y * y + sin(x)", in, g);
        assert_true(isinf(v));
        assert_true(isinf(g[0]));
        tangent_of("f(x, y) = sin(x)", in, g);
        assert_near(g[0], cos(x), 1e-15);
        assert_true(g[1] == 0);
    }
}

static void test_tangent_reports_its_scale(void **state)
{
    (void)state;
    /* tangents of 1e20 cancel to 1: the rounding scale of the result is 1e20 */
    Compiled c;
    assert_int_equal(compile_string(&c, "f(x) { a = 1e20 * x; return a - a + x }", 1), 0);
    double x = 0.5, grad, scale;
    eval_tangent(&c.prog.funcs[0], &x, &grad, &scale);
    assert_true(grad == 1);
    assert_true(scale == 1e20);
    compiled_free(&c);
}

static void test_tangent_conventions_match_reverse(void **state)
{
    (void)state;
    double in[2] = {0, 0}, g[2];
    assert_true(t1("f(x) = abs(x)", 0) == 0);
    assert_true(t1("f(x) = sqrt(x)", 0) == INFINITY);
    /* a tie gives each operand half the tangent */
    tangent_of("f(x, y) = min(x, y)", in, g);
    assert_true(g[0] == 0.5 && g[1] == 0.5);
    tangent_of("f(x, y) = max(y, x)", in, g);
    assert_true(g[0] == 0.5 && g[1] == 0.5);
    /* 0^y is flat in y */
    in[1] = 2;
    tangent_of("f(x, y) = x^y", in, g);
    assert_true(g[0] == 0 && g[1] == 0);
    /* atan2's guarded partials at the origin are an exact 0 in reverse mode, whatever the
     * infinite asin'(1) above them: forward mode must not make 0 * inf = NaN of them */
    const char *guarded = "f(x) = asin(0.5^atan2(x, x)) + x";
    assert_true(t1(guarded, 0) == 1);
    Compiled c;
    assert_int_equal(compile_string(&c, guarded, 1), 0);
    double x = 0, grad;
    eval_grad(&c.prog.funcs[0], &x, &grad);
    assert_true(grad == 1);
    compiled_free(&c);
}

/* forward.c's transform: no tangent is a structural zero. Seeding x alone in x*y + sin(y)
 * gives y itself as the tangent (x*y's term is 1*y, folded), and builds no cos(y) and no
 * product with a zero. */
static void test_forward_transform_structural_zero(void **state)
{
    (void)state;
    Compiled c;
    assert_int_equal(compile_string(&c, "f(x, y) = x*y + sin(y)", 0), 0);
    Func *f = &c.prog.funcs[0];
    NodeId seeds[2] = {dag_const(&f->dag, 1.0), 0};
    NodeMap tan;
    uint32_t before = f->dag.len;
    forward_sweep(&f->dag, before, seeds, &tan);
    assert_int_equal(tan.of[f->roots[0]], f->input[1]);
    for (NodeId id = 1; id < f->dag.len; id++) {
        assert_int_not_equal(f->dag.nodes[id].kind, N_COS);
        if (f->dag.nodes[id].kind == N_MUL)
            assert_false(dag_is_const(&f->dag, f->dag.nodes[id].a, 0.0) ||
                         dag_is_const(&f->dag, f->dag.nodes[id].b, 0.0));
    }
    nodemap_free(&tan);
    compiled_free(&c);
}

/* forward.c's transform keeps a strong zero that a selection decided when adgen ran: atan2(0, x)
 * is flat in x, its guard folds to a constant 0 term, and sqrt's infinite partial at 0 above it
 * must not make 0 * inf (seed 20269848 of the differential test). */
static void test_forward_transform_folded_strong_zero(void **state)
{
    (void)state;
    Compiled c;
    assert_int_equal(compile_string(&c, "f(x) = sqrt(atan2(0, x)) + x", 0), 0);
    Func *f = &c.prog.funcs[0];
    NodeId seeds[1] = {dag_const(&f->dag, 1.0)};
    NodeMap tan;
    forward_sweep(&f->dag, f->dag.len, seeds, &tan);
    double x = 1, *v = xrealloc(NULL, f->dag.len * sizeof *v);
    eval_dag(&f->dag, &x, v);
    assert_true(v[tan.of[f->roots[0]]] == 1);
    free(v);
    nodemap_free(&tan);
    compiled_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tangent_unary_rules),
        cmocka_unit_test(test_forward_transform_structural_zero),
        cmocka_unit_test(test_forward_transform_folded_strong_zero),
        cmocka_unit_test(test_tangent_binary_rules),
        cmocka_unit_test(test_tangent_sums_paths_and_ignores_other_inputs),
        cmocka_unit_test(test_tangent_reports_its_scale),
        cmocka_unit_test(test_tangent_conventions_match_reverse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
