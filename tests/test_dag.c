/* test_dag.c: hash-consing, canonical operand order, constant folding and the IEEE-exact
 * rewrites of dag.c, seen through the lowering of source text. */
#include "testutil.h"

static const Func *lower(Compiled *c, const char *src)
{
    if (compile_string(c, src, 0) != 0)
        fail_msg("unexpected errors:\n%s", c->messages);
    return &c->prog.funcs[0];
}

static int count_ops(const Dag *d)
{
    int n = 0;
    for (NodeId id = 1; id < d->len; id++)
        n += d->nodes[id].kind != N_CONST && d->nodes[id].kind != N_INPUT;
    return n;
}

static const Node *node(const Func *f, NodeId id)
{
    return &f->dag.nodes[id];
}

static void test_dag_eq5109_has_the_books_six_operations(void **state)
{
    (void)state;
    Compiled c;
    const Func *f = lower(&c, "f(x) = sqrt(x^2 + exp(x^2)) + cos(x^2 + exp(x^2))");
    assert_int_equal(count_ops(&f->dag), 6);
    /* f = d + e, d = sqrt(c), e = cos(c), c = a + b, b = exp(a), a = x*x */
    const Node *fn = node(f, f->roots[0]);
    assert_int_equal(fn->kind, N_ADD);
    const Node *d = node(f, fn->a), *e = node(f, fn->b);
    assert_int_equal(d->kind, N_SQRT);
    assert_int_equal(e->kind, N_COS);
    assert_int_equal(d->a, e->a);
    const Node *cn = node(f, d->a);
    assert_int_equal(cn->kind, N_ADD);
    const Node *a = node(f, cn->a), *b = node(f, cn->b);
    assert_int_equal(a->kind, N_MUL);
    assert_int_equal(a->a, a->b);
    assert_int_equal(node(f, a->a)->kind, N_INPUT);
    assert_int_equal(b->kind, N_EXP);
    assert_int_equal(b->a, cn->a);
    compiled_free(&c);
}

static void test_dag_eq5109_and_eq5123_lower_to_one_dag(void **state)
{
    (void)state;
    char *one = read_file("samples/eq5109.expr"), *chain = read_file("samples/eq5123.expr");
    assert_non_null(one);
    assert_non_null(chain);
    Compiled c1, c2;
    const Func *f1 = lower(&c1, one), *f2 = lower(&c2, chain);
    assert_int_equal(f1->dag.len, f2->dag.len);
    assert_int_equal(f1->roots[0], f2->roots[0]);
    for (NodeId id = 1; id < f1->dag.len; id++) {
        const Node *a = node(f1, id), *b = node(f2, id);
        assert_int_equal(a->kind, b->kind);
        assert_int_equal(a->a, b->a);
        assert_int_equal(a->b, b->b);
        assert_memory_equal(&a->k, &b->k, sizeof a->k);
    }
    /* the chain's names are kept: c names the node a + b */
    const Node *d = node(f2, node(f2, f2->roots[0])->a);
    assert_string_equal(f2->dag.meta[d->a].label, "c");
    compiled_free(&c1);
    compiled_free(&c2);
    free(one);
    free(chain);
}

static void test_dag_commutative_operands_share(void **state)
{
    (void)state;
    Compiled c;
    const Func *f = lower(&c, "f(a, b) = (a + b) * (b + a) + a*b*(b*a)");
    /* a+b, (a+b)^2, a*b, (a*b)^2, the sum: five */
    assert_int_equal(count_ops(&f->dag), 5);
    compiled_free(&c);
    f = lower(&c, "f(a, b) = (a - b) * (b - a)");
    assert_int_equal(count_ops(&f->dag), 3); /* subtraction does not commute */
    compiled_free(&c);
}

static void test_dag_folds_constants(void **state)
{
    (void)state;
    Compiled c;
    const Func *f = lower(&c, "f(x) = x * (2*3 - 1/4) + pi/2");
    const Node *sum = node(f, f->roots[0]);
    assert_int_equal(sum->kind, N_ADD);
    const Node *prod = node(f, sum->a), *half_pi = node(f, sum->b);
    assert_int_equal(half_pi->kind, N_CONST);
    assert_true(half_pi->k == 3.14159265358979323846 / 2);
    assert_int_equal(prod->kind, N_MUL);
    assert_int_equal(node(f, prod->b)->kind, N_CONST);
    assert_true(node(f, prod->b)->k == 5.75);
    compiled_free(&c);
}

static void test_dag_refuses_inexact_folds(void **state)
{
    (void)state;
    Compiled c;
    /* x*0 is NaN for x = inf, x-x is NaN for inf, x+0 is +0 for x = -0: all stay */
    const Func *f = lower(&c, "f(x) = x*0");
    assert_int_equal(node(f, f->roots[0])->kind, N_MUL);
    compiled_free(&c);
    f = lower(&c, "f(x) = x - x");
    assert_int_equal(node(f, f->roots[0])->kind, N_SUB);
    compiled_free(&c);
    f = lower(&c, "f(x) = x + 0");
    assert_int_equal(node(f, f->roots[0])->kind, N_ADD);
    compiled_free(&c);
    f = lower(&c, "f(x) = x + 1/0");        /* no folding to inf */
    assert_int_equal(node(f, node(f, f->roots[0])->b)->kind, N_DIV);
    compiled_free(&c);
    f = lower(&c, "f(x) = x + exp(1)");     /* libm results are not folded */
    assert_int_equal(node(f, node(f, f->roots[0])->b)->kind, N_EXP);
    compiled_free(&c);
    f = lower(&c, "f(x) = x*-0.0 + x*0.0"); /* -0.0 and 0.0 are distinct constants */
    assert_int_not_equal(node(f, f->roots[0])->a, node(f, f->roots[0])->b);
    compiled_free(&c);
}

static void test_dag_exact_rewrites(void **state)
{
    (void)state;
    Compiled c;
    const Func *f = lower(&c, "f(x) = x * 1 / 1");
    assert_int_equal(node(f, f->roots[0])->kind, N_INPUT);
    compiled_free(&c);
    f = lower(&c, "f(x) = -(-x)");
    assert_int_equal(node(f, f->roots[0])->kind, N_INPUT);
    compiled_free(&c);
    f = lower(&c, "f(x, y) = x + -y");
    assert_int_equal(node(f, f->roots[0])->kind, N_SUB);
    compiled_free(&c);
    f = lower(&c, "f(x) = x * -1");
    assert_int_equal(node(f, f->roots[0])->kind, N_NEG);
    compiled_free(&c);
    f = lower(&c, "f(x) = x + x");
    assert_int_equal(node(f, f->roots[0])->kind, N_MUL);
    compiled_free(&c);
    /* a negation moves out of a product or quotient, and a sum takes it as a subtraction:
     * z - x*y, one node fewer; -x*y and x*-y are one node */
    f = lower(&c, "f(x, y, z) = z + (-x)*y");
    assert_int_equal(node(f, f->roots[0])->kind, N_SUB);
    assert_int_equal(node(f, node(f, f->roots[0])->b)->kind, N_MUL);
    compiled_free(&c);
    f = lower(&c, "f(x, y) = (-x)*y - x*(-y) + x/(-y)");
    assert_int_equal(node(f, f->roots[0])->kind, N_SUB);
    compiled_free(&c);
}

/* The moved negations are exact: -(a*b) and (-a)*b, a/(-b) and -(a/b) are the same doubles
 * for every operand, signed zeros, infinities and subnormal results included (a NaN is a NaN
 * either way; IEEE gives its sign no meaning). */
static void test_dag_negation_moves_are_exact(void **state)
{
    (void)state;
    static const double v[] = {0.0, -0.0, 1.0, -3.5, 1e-310, -7e300, 0.1, INFINITY, -INFINITY,
                               2.5e-320};
    int n = (int)(sizeof v / sizeof *v);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            volatile double a = v[i], b = v[j];
            double p = (-a) * b, q = -(a * b), r = a / (-b), s = -(a / b);
            if (isnan(p) || isnan(q))
                assert_true(isnan(p) && isnan(q));
            else
                assert_memory_equal(&p, &q, sizeof p);
            if (isnan(r) || isnan(s))
                assert_true(isnan(r) && isnan(s));
            else
                assert_memory_equal(&r, &s, sizeof r);
        }
}

static void test_dag_integer_powers_are_multiplications(void **state)
{
    (void)state;
    Compiled c;
    const Func *f = lower(&c, "f(x) = x^2");
    const Node *sq = node(f, f->roots[0]);
    assert_int_equal(sq->kind, N_MUL);
    assert_int_equal(sq->a, sq->b);
    compiled_free(&c);
    f = lower(&c, "f(x) = x^4");
    assert_int_equal(count_ops(&f->dag), 2); /* (x*x)*(x*x) */
    compiled_free(&c);
    f = lower(&c, "f(x) = x^-2");
    assert_int_equal(node(f, f->roots[0])->kind, N_DIV);
    assert_int_equal(node(f, node(f, f->roots[0])->b)->kind, N_MUL);
    compiled_free(&c);
    f = lower(&c, "f(x) = x^0.5 + pow(x, 1.5)");
    assert_int_equal(node(f, node(f, f->roots[0])->a)->kind, N_SQRT);
    assert_int_equal(node(f, node(f, f->roots[0])->b)->kind, N_POW);
    compiled_free(&c);
    f = lower(&c, "f(x) = x^0 + x^1");
    assert_int_equal(node(f, f->roots[0])->kind, N_ADD);
    assert_int_equal(count_ops(&f->dag), 1);
    compiled_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dag_eq5109_has_the_books_six_operations),
        cmocka_unit_test(test_dag_eq5109_and_eq5123_lower_to_one_dag),
        cmocka_unit_test(test_dag_commutative_operands_share),
        cmocka_unit_test(test_dag_folds_constants),
        cmocka_unit_test(test_dag_refuses_inexact_folds),
        cmocka_unit_test(test_dag_exact_rewrites),
        cmocka_unit_test(test_dag_negation_moves_are_exact),
        cmocka_unit_test(test_dag_integer_powers_are_multiplications),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
