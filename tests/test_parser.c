/* test_parser.c: the grammar of parser.y: precedence, associativity, the three kinds of
 * item, line structure and syntax error messages. */
#include "testutil.h"

typedef struct {
    Arena arena;
    Diag diag;
    Parse parse;
    char *messages;
    size_t messages_len;
} Parsed;

static int parse(Parsed *p, const char *src)
{
    memset(p, 0, sizeof *p);
    p->diag.file = "t.expr";
    p->diag.src = src;
    p->diag.len = strlen(src);
    p->diag.out = open_memstream(&p->messages, &p->messages_len);
    p->parse.arena = &p->arena;
    p->parse.diag = &p->diag;
    p->parse.names = intern_new();
    int errors = parse_source(&p->parse);
    fflush(p->diag.out);
    return errors;
}

static void parsed_free(Parsed *p)
{
    fclose(p->diag.out);
    free(p->messages);
    intern_free(p->parse.names);
    arena_free(&p->arena);
}

/* The tree in a fully parenthesized prefix form, e.g. (+ x (^ y 2)). */
static void show(Buf *b, const Ast *e)
{
    static const char *const ops[] = {[A_NEG] = "neg", [A_POS] = "pos", [A_ADD] = "+",
                                      [A_SUB] = "-", [A_MUL] = "*", [A_DIV] = "/", [A_POW] = "^",
                                      [A_AND] = "&&", [A_OR] = "||", [A_NOT] = "!"};
    switch (e->kind) {
    case A_NUM: buf_printf(b, "%g", e->num); return;
    case A_VAR: buf_printf(b, "%s", e->name); return;
    case A_CALL: case A_INDEX:
        buf_printf(b, "(%s%s", e->name, e->kind == A_INDEX ? "[]" : "");
        for (const Ast *a = e->args; a; a = a->next) {
            buf_printf(b, " ");
            show(b, a);
        }
        buf_printf(b, ")");
        return;
    case A_RANGE: buf_printf(b, "(= %s ", e->name); break;
    case A_CMP: buf_printf(b, "(%s ", op_info[e->op].c); break;
    default: buf_printf(b, "(%s ", ops[e->kind]); break;
    }
    show(b, e->lhs);
    if (e->rhs) {
        buf_printf(b, " ");
        show(b, e->rhs);
    }
    buf_printf(b, ")");
}

static void expect_tree(const char *src, const char *tree)
{
    Parsed p;
    assert_int_equal(parse(&p, src), 0);
    assert_non_null(p.parse.defs);
    Buf b = {0};
    show(&b, p.parse.defs->expr);
    assert_string_equal(b.data, tree);
    buf_free(&b);
    parsed_free(&p);
}

static void test_parser_precedence(void **state)
{
    (void)state;
    expect_tree("f(x) = -x^2", "(neg (^ x 2))");
    expect_tree("f(x) = 2^-x", "(^ 2 (neg x))");
    expect_tree("f(x) = x^2^3", "(^ x (^ 2 3))");
    expect_tree("f(x) = x**2**3", "(^ x (^ 2 3))");
    expect_tree("f(a, b, c) = a - b - c", "(- (- a b) c)");
    expect_tree("f(a, b, c) = a / b / c", "(/ (/ a b) c)");
    expect_tree("f(a, b, c) = a + b * c", "(+ a (* b c))");
    expect_tree("f(a, b, c) = (a + b) * c", "(* (+ a b) c)");
    expect_tree("f(a, b) = a * -b", "(* a (neg b))");
    expect_tree("f(a) = +a - -a", "(- (pos a) (neg a))");
    expect_tree("f(x, y) = atan2(y, x) + pi", "(+ (atan2 y x) pi)");
    expect_tree("f(x) = -2^2", "(neg (^ 2 2))");
    /* comparisons below arithmetic, && below them, || lowest; ! as C's */
    expect_tree("f(x, y, z, w) = x + 1 < y * 2 && !z || w",
                "(|| (&& (< (+ x 1) (* y 2)) (! z)) w)");
    expect_tree("f(x) = if(x >= 0, x, -x)", "(if (>= x 0) x (neg x))");
    /* indices and the range of a sum: 0..N is not the number 0. */
    expect_tree("f(A[2][3]) = A[1][2*i]", "(A[] 1 (* 2 i))");
    expect_tree("f(x[3]) = sum(i = 0..N-1, x[i]^i)", "(sum (= i 0 (- N 1)) (^ (x[] i) i))");
}

static void test_parser_model_heads_and_statements(void **state)
{
    (void)state;
    Parsed p;
    assert_int_equal(parse(&p, "N = 3\nf(x[N], b; y[N], d) {\n    for i = 0..N-1 {\n"
                               "        h[i] = x[i]*y[i]\n    }\n    return sum(i = 0..N-1, "
                               "h[i]) + b*d\n}\n"), 0);
    assert_non_null(p.parse.consts);
    assert_string_equal(p.parse.consts->name, "N");
    const Def *d = p.parse.defs;
    assert_int_equal(d->nparams, 4);
    assert_int_equal(d->ndiff, 2);
    assert_int_equal(d->params->kind, A_INDEX);
    const Stmt *loop = d->body;
    assert_int_equal(loop->kind, S_FOR);
    assert_string_equal(loop->name, "i");
    assert_int_equal(loop->body->kind, S_ELEM);
    assert_int_equal(loop->body->nindex, 1);
    assert_int_equal(loop->next->kind, S_RETURN);
    parsed_free(&p);
    /* `for` stays a name where no loop is written (v1 files may use it) */
    assert_int_equal(parse(&p, "f(for) {\n    if = for * 2\n    return if\n}\n"), 0);
    assert_int_equal(p.parse.defs->body->kind, S_ASSIGN);
    parsed_free(&p);
}

static void test_parser_line_structure(void **state)
{
    (void)state;
    /* a line break inside parentheses continues the expression, and so does one after an
     * operator (blank lines and comments between too); a block's '{' may start a line */
    expect_tree("f(x) = (x +\n  1) * sin(x,\n 2)\n", "(* (+ x 1) (sin x 2))");
    expect_tree("f(x) = x *\n\n  # two\n  2\n", "(* x 2)");
    expect_tree("f(x) =\n  x\n", "x");
    /* a line that starts with a binary operator continues the one before, whose operand it
     * takes (a statement never starts with one): the long sums people break before the sign */
    expect_tree("f(x, y) = x\n  + y\n  - 2*x\n", "(- (+ x y) (* 2 x))");
    expect_tree("f(x, y) = x\n  # then\n\n  * y ^ 2\n", "(* x (^ y 2))");
    expect_tree("f(x, y) = (x > 0)\n  && (y <= 1)\n  || x\n  == y\n",
                "(|| (&& (> x 0) (<= y 1)) (== x y))");
    Parsed q;
    assert_int_equal(parse(&q, "g(x)\n# the body\n{\n    return x\n}\n"), 0);
    assert_int_equal(q.parse.defs->body->kind, S_RETURN);
    parsed_free(&q);
    Parsed p;
    assert_int_equal(parse(&p, "\n# a comment\nf(x) = x; g(y) = y\n\nh(z) = z"), 0);
    const char *names[] = {"f", "g", "h"};
    int i = 0;
    for (const Def *d = p.parse.defs; d; d = d->next, i++) {
        assert_true(i < 3);
        assert_string_equal(d->name, names[i]);
        assert_int_equal(d->nparams, 1);
        assert_false(d->bare);
    }
    assert_int_equal(i, 3);
    parsed_free(&p);
}

static void test_parser_block(void **state)
{
    (void)state;
    Parsed p;
    assert_int_equal(parse(&p, "g(x, y) {\n  a = x^2; b = exp(a)\n\n  return a + b }"), 0);
    const Def *d = p.parse.defs;
    assert_non_null(d);
    assert_null(d->next);
    assert_int_equal(d->nparams, 2);
    assert_null(d->expr);
    const Stmt *s = d->body;
    assert_string_equal(s->name, "a");
    assert_string_equal(s->next->name, "b");
    assert_null(s->next->next->name); /* return */
    assert_null(s->next->next->next);
    assert_int_equal(d->close_loc.first_line, 4);
    parsed_free(&p);
}

static void test_parser_bare_expression(void **state)
{
    (void)state;
    Parsed p;
    assert_int_equal(parse(&p, "# comment\nsin(x) * y\n"), 0);
    assert_true(p.parse.defs->bare);
    assert_null(p.parse.defs->next);
    parsed_free(&p);
}

static void test_parser_locations(void **state)
{
    (void)state;
    Parsed p;
    const char *src = "f(x) = 1\ng(y) =\t y * (2 + y)\n";
    assert_int_equal(parse(&p, src), 0);
    const Def *g = p.parse.defs->next;
    assert_int_equal(g->loc.first_line, 2);
    assert_int_equal(g->loc.first_column, 1);
    assert_int_equal(g->loc.begin, 9);
    assert_int_equal(g->loc.end, strlen(src) - 1);
    const Ast *sum = g->expr->rhs;
    assert_int_equal(sum->kind, A_ADD);
    assert_int_equal(sum->loc.first_column, 14); /* 2 + y: the '(' is not part of it */
    parsed_free(&p);
}

static void expect_syntax_error(const char *src, const char *message)
{
    Parsed p;
    assert_int_equal(parse(&p, src), 1);
    if (!strstr(p.messages, message))
        fail_msg("expected \"%s\" in:\n%s", message, p.messages);
    parsed_free(&p);
}

static void test_parser_syntax_errors(void **state)
{
    (void)state;
    /* a line ending in an operator continues; at the end of the input the message points at
     * the operator */
    expect_syntax_error("f(x) = x +\n", "t.expr:1:10: error: expected expression after '+', "
                                        "found end of file");
    expect_syntax_error("f(x) = (x + 1\ng(x) = x",
                        "t.expr:2:1: error: expected operator or ')', found identifier 'g'");
    expect_syntax_error("f(x) = x)", "t.expr:1:9: error: ");
    /* comparisons do not chain: a < b < c is not what it reads as */
    expect_syntax_error("f(a, b, c) = a < b < c", "t.expr:1:20: error: expected operator");
    expect_syntax_error("f(x+1) = x", "t.expr:1:3: error: expected an input name in the "
                                      "definition of 'f'");
    expect_syntax_error("f(x) {\n  a = x\n", "t.expr:3:1: error: ");
    expect_syntax_error("f(x) = x y", "found identifier 'y'");
    expect_syntax_error("f(x) = 2 3", "found number '3'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parser_precedence),
        cmocka_unit_test(test_parser_line_structure),
        cmocka_unit_test(test_parser_block),
        cmocka_unit_test(test_parser_model_heads_and_statements),
        cmocka_unit_test(test_parser_bare_expression),
        cmocka_unit_test(test_parser_locations),
        cmocka_unit_test(test_parser_syntax_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
