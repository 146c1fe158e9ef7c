/* test_ops.c: every row of the operation table (src/ops.h) is complete and right. For each
 * kind with operands: the interpreter computes it, its derivative rule (deriv.c) gives in
 * reverse mode and in forward mode, and eval_tangent's own rule gives, the partials that
 * central differences of the interpreter give at a point inside its domain, and a kind with a
 * name in the language is reachable from the language with the table's arity; a kind's edge
 * column is where its rule's partial is infinite or undefined. A kind added without a rule,
 * or without a case in eval_tangent (-Werror=switch), does not compile; one whose rule is
 * wrong or empty fails here. */
#include "testutil.h"

/* Candidate points, one of which lies inside every kind's domain away from its kinks. */
static const double points[][3] = {
    {0.3, 0.7, 0.45}, {0.6, -0.8, 1.7}, {1.3, 2.2, -0.5}, {-0.4, 0.9, 2.5},
};
#define NPOINTS (sizeof points / sizeof *points)
#define H 1e-6

static double value_at(NodeKind k, const double *p)
{
    return eval_op(k, p[0], p[1], p[2]);
}

/* Central difference of kind k in operand i at p, or NaN where it is not defined. */
static double central(NodeKind k, const double *p, int i)
{
    double q[3] = {p[0], p[1], p[2]}, h = H * fmax(1, fabs(p[i]));
    q[i] = p[i] + h;
    double up = value_at(k, q);
    q[i] = p[i] - h;
    double down = value_at(k, q);
    return (up - down) / (2 * h);
}

/* A point where k and its neighbours are finite, and not on a tie (min, max, comparisons). */
static const double *point_for(NodeKind k)
{
    for (size_t j = 0; j < NPOINTS; j++) {
        const double *p = points[j];
        int ok = isfinite(value_at(k, p));
        for (int i = 0; i < node_arity(k); i++)
            ok = ok && isfinite(central(k, p, i));
        if (ok)
            return p;
    }
    return NULL;
}

/* op(x0, x1, x2) over fresh inputs, unfolded. */
static NodeId build(Dag *d, NodeKind k)
{
    dag_init(d);
    NodeId in[3] = {dag_input(d, 0), dag_input(d, 1), dag_input(d, 2)};
    int ar = node_arity(k);
    return dag_op(d, k, in[0], ar > 1 ? in[1] : 0, ar > 2 ? in[2] : 0);
}

static void test_ops_table_complete(void **state)
{
    (void)state;
    for (int k = 0; k < N_KINDS; k++) {
        const OpInfo *op = &op_info[k];
        assert_non_null(op->c);
        if (op->arity == 0)
            continue;
        /* what --report lists it as and --explain writes it with */
        if (!op->lang && op->form != F_CMP && !op->word)
            fail_msg("kind %s has neither a name in the language nor a word", op->c);
        if ((op->form == F_CMP || op->form == F_LOGIC) && !op->tex)
            fail_msg("operator %s has no LaTeX", op->c);
        if (!point_for((NodeKind)k))
            fail_msg("kind %s: the interpreter gives no finite value at any test point", op->c);
        assert_true(op->cost >= 1);
    }
}

static void test_ops_rules_match_differences(void **state)
{
    (void)state;
    for (int k = 0; k < N_KINDS; k++) {
        if (node_arity((NodeKind)k) == 0)
            continue;
        const double *p = point_for((NodeKind)k);
        Func f;
        memset(&f, 0, sizeof f);
        Dag d;
        NodeId w = build(&d, (NodeKind)k);
        /* eval_tangent, the oracle, sees the primal alone: op(x0, x1, x2) */
        f.dag = d;
        f.ninputs = 3;
        f.roots = &w;
        f.nroots = 1;
        f.nprimal = w + 1;
        double oracle[3];
        eval_tangent(&f, p, oracle, NULL);
        NodeId one = dag_const(&d, 1.0);
        NodeMap adj;
        reverse_sweep(&d, 1, &w, &one, NULL, &adj);
        NodeId grads[3];
        for (int i = 0; i < 3; i++)
            grads[i] = adj.of[dag_input(&d, (uint32_t)i)];
        NodeId tangents[3] = {0, 0, 0};
        for (int i = 0; i < node_arity((NodeKind)k); i++) {
            NodeId seeds[3] = {0, 0, 0};
            seeds[i] = one;
            NodeMap tan;
            forward_sweep(&d, w + 1, seeds, &tan);
            tangents[i] = tan.of[w];
            nodemap_free(&tan);
        }
        double *v = xrealloc(NULL, d.len * sizeof *v);
        eval_dag(&d, p, v);
        assert_true(v[w] == value_at((NodeKind)k, p));
        for (int i = 0; i < node_arity((NodeKind)k); i++) {
            double want = central((NodeKind)k, p, i);
            double rev = grads[i] ? v[grads[i]] : 0, fwd = tangents[i] ? v[tangents[i]] : 0;
            double tol = 1e-6 * fmax(1, fabs(want));
            if (fabs(rev - want) > tol || fabs(fwd - want) > tol || fabs(oracle[i] - want) > tol)
                fail_msg("kind %s, operand %d at (%g, %g, %g): reverse %.10g, forward %.10g, "
                         "eval_tangent %.10g, central differences %.10g", op_info[k].c, i, p[0],
                         p[1], p[2], rev, fwd, oracle[i], want);
        }
        free(v);
        nodemap_free(&adj);
        dag_free(&d);
    }
}

static void test_ops_language_names(void **state)
{
    (void)state;
    for (int k = 0; k < N_KINDS; k++) {
        const OpInfo *op = &op_info[k];
        if (!op->lang)
            continue;
        Buf src = {0};
        buf_printf(&src, "f(x, y, z) = %s(", op->lang);
        for (int i = 0; i < op->arity; i++)
            buf_printf(&src, "%s%c", i ? ", " : "", "xyz"[i]);
        buf_printf(&src, ") + 0*x*y*z\n");
        Compiled c;
        if (compile_string(&c, src.data, 1) != 0)
            fail_msg("%s: %s", src.data, c.messages);
        const double *p = point_for((NodeKind)k);
        double g[3];
        double value = eval_grad(&c.prog.funcs[0], p, g);
        assert_near(value, value_at((NodeKind)k, p), 1e-15);
        compiled_free(&c);
        /* one argument too many is an error naming the arity */
        buf_free(&src);
        buf_printf(&src, "f(x) = %s(x, x, x, x)\n", op->lang);
        assert_int_equal(compile_string(&c, src.data, 0), 1);
        assert_contains(c.messages, "takes");
        compiled_free(&c);
        buf_free(&src);
    }
}

/* A template is one parenthesized expression naming its operand; the operand is computed
 * once, in a local, however often the template names it. */
static void test_ops_templates(void **state)
{
    (void)state;
    for (int k = 0; k < N_KINDS; k++) {
        const OpInfo *op = &op_info[k];
        if (op->form != F_TEMPLATE)
            continue;
        assert_int_equal(op->arity, 1);
        assert_non_null(strchr(op->c, '@'));
        size_t n = strlen(op->c);
        int depth = 0;
        for (size_t i = 0; i < n; i++) {
            depth += (op->c[i] == '(') - (op->c[i] == ')');
            if (depth == 0 && i + 1 < n)
                fail_msg("template %s is not one parenthesized expression", op->c);
        }
        assert_int_equal(depth, 0);
        Buf src = {0}, c_text = {0};
        buf_printf(&src, "f(x, y) = %s(x*y)\n", op->lang);
        EmitOptions opt = {0};
        assert_int_equal(compile_source("t.expr", src.data, src.len, "t", &opt, stderr, &c_text,
                                        NULL), 0);
        /* once in f, once in f_grad */
        const char *s = c_text.data;
        int products = 0;
        while ((s = strstr(s, "x * y")) != NULL) {
            products++;
            s++;
        }
        if (products != 2)
            fail_msg("%s(x*y) computes x * y %d times:\n%s", op->lang, products, c_text.data);
        buf_free(&src);
        buf_free(&c_text);
    }
}

/* The edge column is where the kind's derivative rule (deriv.c) gives an infinite or
 * undefined partial in the operand the column names; a kind with an edge or a kink has the
 * note --report and check print there. */
static void test_ops_edges_and_kinks(void **state)
{
    (void)state;
    for (int k = 0; k < N_KINDS; k++) {
        const OpInfo *op = &op_info[k];
        if ((op->edge != EDGE_NONE || op->kink != KINK_NONE) && !op->note)
            fail_msg("kind %s has an edge or a kink and no note", op->c);
        /* the operand at the edge, the others 0.5 */
        int at = op->edge == EDGE_DIVISOR;
        double edges[2] = {NAN, NAN};
        switch (op->edge) {
        case EDGE_NONE: continue;
        case EDGE_ZERO: case EDGE_DIVISOR: case EDGE_BASE: edges[0] = 0; break;
        case EDGE_ONE: edges[0] = 1; break;
        case EDGE_MINUS_ONE: edges[0] = -1; break;
        case EDGE_UNIT: edges[0] = -1, edges[1] = 1; break;
        }
        for (int e = 0; e < 2 && !isnan(edges[e]); e++) {
            double p[3] = {0.5, 0.5, 0.5};
            p[at] = edges[e];
            Dag d;
            NodeId w = build(&d, (NodeKind)k), one = dag_const(&d, 1.0);
            NodeMap adj;
            reverse_sweep(&d, 1, &w, &one, NULL, &adj);
            NodeId g = adj.of[dag_input(&d, (uint32_t)at)];
            double *v = xrealloc(NULL, d.len * sizeof *v);
            eval_dag(&d, p, v);
            if (!g || isfinite(v[g]))
                fail_msg("kind %s: operand %d at %g is no edge: partial %g", op->c, at,
                         edges[e], g ? v[g] : 0);
            free(v);
            nodemap_free(&adj);
            dag_free(&d);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ops_table_complete),
        cmocka_unit_test(test_ops_rules_match_differences),
        cmocka_unit_test(test_ops_language_names),
        cmocka_unit_test(test_ops_templates),
        cmocka_unit_test(test_ops_edges_and_kinks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
