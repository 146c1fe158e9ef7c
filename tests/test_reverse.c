/* test_reverse.c: reverse.c's transform, evaluated by the DAG interpreter: eq. 5.109 against
 * its closed form, the sum over consumers (eq. 5.145), adjoints only where they matter, primal
 * nodes reused, several seeded roots. Each rule is checked in test_rules.c. */
#include "testutil.h"

/* The gradient of the first function of src at in[], through the interpreter. */
static double gradient(const char *src, const double *in, double *grad)
{
    Compiled c;
    if (compile_string(&c, src, 1) != 0)
        fail_msg("unexpected errors:\n%s", c.messages);
    double value = eval_grad(&c.prog.funcs[0], in, grad);
    compiled_free(&c);
    return value;
}

static double d1(const char *src, double x)
{
    double g;
    gradient(src, &x, &g);
    return g;
}

static const double points[] = {-2.5, -0.7, -0.1, 0.3, 0.9, 1.7, 3.0};
#define NPOINTS (sizeof points / sizeof *points)

static void test_reverse_eq5109_matches_eq5110(void **state)
{
    (void)state;
    for (double x = -2; x <= 2; x += 0.125) {
        double e = exp(x * x), c = x * x + e;
        double closed = 2 * x * (1 / (2 * sqrt(c)) - sin(c)) * (1 + e); /* eq. 5.110 */
        double g;
        double v = gradient("f(x) = sqrt(x^2 + exp(x^2)) + cos(x^2 + exp(x^2))", &x, &g);
        assert_near(v, sqrt(c) + cos(c), 1e-15);
        assert_near(g, closed, 1e-13);
    }
}

static void test_reverse_sums_over_consumers(void **state)
{
    (void)state;
    /* x reaches the output along three paths: eq. 5.145 sums them */
    for (size_t i = 0; i < NPOINTS; i++) {
        double x = points[i];
        assert_near(d1("f(x) = x*x + x + sin(x)", x), 2 * x + 1 + cos(x), 1e-15);
        /* f = e^x + x e^2x, f' = e^x + (1 + 2x) e^2x */
        assert_near(d1("f(x) { a = exp(x); b = a * x; return a + b * a }", x),
                    exp(x) + (1 + 2 * x) * exp(2 * x), 1e-13);
    }
}

static int has_kind(const Dag *d, NodeKind k)
{
    for (NodeId id = 1; id < d->len; id++)
        if (d->nodes[id].kind == k)
            return 1;
    return 0;
}

static void test_reverse_only_active_nodes_get_adjoints(void **state)
{
    (void)state;
    Compiled c;
    /* sin(2) does not depend on x: no cos(2) is built for it */
    assert_int_equal(compile_string(&c, "f(x) = x * sin(2)", 1), 0);
    assert_false(has_kind(&c.prog.funcs[0].dag, N_COS));
    compiled_free(&c);
    /* an unused intermediate lies on no path to the output: no -sin(x) for its cos */
    assert_int_equal(compile_string(&c, "f(x) { u = cos(x); return x * x }", 1), 0);
    assert_false(has_kind(&c.prog.funcs[0].dag, N_SIN));
    compiled_free(&c);
    /* an input the output ignores has gradient exactly 0 */
    assert_int_equal(compile_string(&c, "f(x, y) = exp(x)", 1), 0);
    const Func *f = &c.prog.funcs[0];
    assert_true(dag_is_const(&f->dag, f->mode[ENTRY_GRAD].node[1], 0.0));
    assert_false(has_kind(&f->dag, N_LOG));
    compiled_free(&c);
    /* a constant exponent gets no log() term */
    assert_int_equal(compile_string(&c, "f(x) = pow(x, 2.5)", 1), 0);
    assert_false(has_kind(&c.prog.funcs[0].dag, N_LOG));
    compiled_free(&c);
}

static void test_reverse_reuses_primal_nodes(void **state)
{
    (void)state;
    Compiled c;
    /* d exp(x)/dx is the node exp(x) itself, so the gradient adds no second exp */
    assert_int_equal(compile_string(&c, "f(x) = exp(x)", 1), 0);
    const Func *f = &c.prog.funcs[0];
    assert_int_equal(f->mode[ENTRY_GRAD].node[0], f->roots[0]);
    compiled_free(&c);
    /* d sqrt(x)/dx = 0.5 / sqrt(x) divides by the primal node */
    assert_int_equal(compile_string(&c, "f(x) = sqrt(x)", 1), 0);
    f = &c.prog.funcs[0];
    const Node *g = &f->dag.nodes[f->mode[ENTRY_GRAD].node[0]];
    assert_int_equal(g->kind, N_DIV);
    assert_int_equal(g->b, f->roots[0]);
    compiled_free(&c);
}

/* Several roots, each seeded: a seed is one more term, so a root that feeds another keeps its
 * own. With roots a = x^2 and sin(a) and seeds 1 and 3, x's adjoint is d(a + 3 sin(a))/dx =
 * 2x (1 + 3 cos(x^2)); data slots (wrt 0) get no adjoint. */
static void test_reverse_several_roots_and_seeds(void **state)
{
    (void)state;
    Compiled c;
    assert_int_equal(compile_string(&c, "f(x, y) { a = x^2; return sin(a) * y }", 0), 0);
    Func *f = &c.prog.funcs[0];
    Dag *d = &f->dag;
    NodeId out = f->roots[0], a = d->nodes[d->nodes[out].a].a;
    if (d->nodes[a].kind != N_MUL) /* sin(a) * y: the operands are ordered by id */
        a = d->nodes[d->nodes[out].b].a;
    assert_int_equal(d->nodes[a].kind, N_MUL);
    NodeId roots[2] = {a, out}, seeds[2] = {dag_const(d, 1.0), dag_const(d, 3.0)};
    uint8_t wrt[2] = {1, 0};
    NodeMap adj;
    reverse_sweep(d, 2, roots, seeds, wrt, &adj);
    assert_int_equal(adj.of[f->input[1]], 0);
    double *v = xrealloc(NULL, d->len * sizeof *v);
    for (size_t i = 0; i < NPOINTS; i++) {
        double in[2] = {points[i], 0.7};
        eval_dag(d, in, v);
        double x = in[0];
        assert_near(v[adj.of[f->input[0]]], 2 * x * (1 + 3 * 0.7 * cos(x * x)), 1e-14);
    }
    free(v);
    nodemap_free(&adj);
    compiled_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reverse_eq5109_matches_eq5110),
        cmocka_unit_test(test_reverse_sums_over_consumers),
        cmocka_unit_test(test_reverse_only_active_nodes_get_adjoints),
        cmocka_unit_test(test_reverse_reuses_primal_nodes),
        cmocka_unit_test(test_reverse_several_roots_and_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
