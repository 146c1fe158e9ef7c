/* test_tangent.c: eval_tangent, the forward-mode interpreter the differential test checks
 * reverse mode against: sums over paths, inputs the output ignores, the rounding scale it
 * reports; and forward.c's transform: structural and strong zeros. Each rule, and the
 * conventions at kinks that both modes share, is checked in test_rules.c. */
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
        cmocka_unit_test(test_forward_transform_structural_zero),
        cmocka_unit_test(test_forward_transform_folded_strong_zero),
        cmocka_unit_test(test_tangent_sums_paths_and_ignores_other_inputs),
        cmocka_unit_test(test_tangent_reports_its_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
