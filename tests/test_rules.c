/* test_rules.c: every derivative rule, one row of a table, checked both ways against its
 * closed form: reverse mode (deriv.c's rules through reverse.c, evaluated by eval_grad) and
 * forward mode (eval_tangent, eval.c's own copy of the rules), at points spread over the
 * rule's domain. Then a few conventions at kinks that the two share, exactly, both ways. A
 * new operation gets its rows here; test_ops.c checks every row of ops.h against
 * differences at one point, test_domain.c the edges of the domains. */
#include "testutil.h"

/* A way to differentiate: the value of f at in[], its gradient into grad. */
typedef struct {
    const char *name;
    double (*gradient)(const Func *f, const double *in, double *grad);
} Mode;

static double tangent(const Func *f, const double *in, double *grad)
{
    return eval_tangent(f, in, grad, NULL);
}

static const Mode modes[] = {{"reverse", eval_grad}, {"tangent", tangent}};
#define NMODES (sizeof modes / sizeof *modes)

/* Checks the gradient of src's function (one or two inputs, x and y) at in[] against want[],
 * through each mode; a failure names the mode, the rule and the point. */
static void check(const char *src, const double *in, const double *want, double tol)
{
    Compiled c;
    if (compile_string(&c, src, 1) != 0)
        fail_msg("unexpected errors:\n%s", c.messages);
    const Func *f = &c.prog.funcs[0];
    assert_in_range(f->ninputs, 1, 2);
    for (size_t m = 0; m < NMODES; m++) {
        double grad[2];
        modes[m].gradient(f, in, grad);
        for (uint32_t k = 0; k < f->ninputs; k++) {
            Buf what = {0};
            buf_printf(&what, "%s mode, %s at (%.17g", modes[m].name, src, in[0]);
            if (f->ninputs == 2)
                buf_printf(&what, ", %.17g", in[1]);
            buf_printf(&what, "): d/d%c", "xy"[k]);
            assert_near_(grad[k], want[k], tol, what.data, __FILE__, __LINE__);
            buf_free(&what);
        }
    }
    compiled_free(&c);
}

static const double points[] = {-2.5, -0.7, -0.1, 0.3, 0.9, 1.7, 3.0};
#define NPOINTS (sizeof points / sizeof *points)

/* Where x is taken from a point p: p itself, |p| (a domain of positive numbers), or p / 3.5
 * (inside (-1, 1)). */
typedef enum { ANY, POSITIVE, UNIT } Domain;

static double at(Domain dom, double p)
{
    return dom == POSITIVE ? fabs(p) : dom == UNIT ? p / 3.5 : p;
}

/* The rules of one input: the source, where x is taken, d/dx in closed form, the tolerance. */
#define UNARY_RULES(R)                                                                        \
    R("f(x) = -x", ANY, -1, 0)                                                                \
    R("f(x) = +x", ANY, 1, 0)                                                                 \
    R("f(x) = sin(x)", ANY, cos(x), 1e-15)                                                    \
    R("f(x) = cos(x)", ANY, -sin(x), 1e-15)                                                   \
    R("f(x) = tan(x)", ANY, 1 / (cos(x) * cos(x)), 1e-14)                                     \
    R("f(x) = sinh(x)", ANY, cosh(x), 1e-15)                                                  \
    R("f(x) = cosh(x)", ANY, sinh(x), 1e-15)                                                  \
    R("f(x) = tanh(x)", ANY, 1 / (cosh(x) * cosh(x)), 1e-14)                                  \
    R("f(x) = exp(x)", ANY, exp(x), 1e-15)                                                    \
    R("f(x) = atan(x)", ANY, 1 / (1 + x * x), 1e-15)                                          \
    R("f(x) = abs(x)", ANY, x > 0 ? 1 : -1, 0)                                                \
    R("f(x) = x^3", ANY, 3 * x * x, 1e-15)                                                    \
    R("f(x) = x^-2", ANY, -2 / (x * x * x), 1e-14)                                            \
    R("f(x) = x**-2", ANY, -2 / (x * x * x), 1e-14)                                           \
    R("f(x) = 2^x", ANY, log(2) * pow(2, x), 1e-15)                                           \
    R("f(x) = x^67", ANY, 67 * pow(x, 66), 1e-14)                                             \
    R("f(x) = log(x)", POSITIVE, 1 / x, 1e-15)                                                \
    R("f(x) = sqrt(x)", POSITIVE, 0.5 / sqrt(x), 1e-15)                                       \
    R("f(x) = x^0.5", POSITIVE, 0.5 / sqrt(x), 1e-15)                                         \
    R("f(x) = x^1.5", POSITIVE, 1.5 * sqrt(x), 1e-15)                                         \
    R("f(x) = x^-0.25", POSITIVE, -0.25 * pow(x, -1.25), 1e-15)                               \
    R("f(x) = asin(x)", UNIT, 1 / sqrt(1 - x * x), 1e-15)                                     \
    R("f(x) = acos(x)", UNIT, -1 / sqrt(1 - x * x), 1e-15)

static void test_rules_of_one_input(void **state)
{
    (void)state;
#define R(src, dom, dx, tol)                                                                  \
    for (size_t i = 0; i < NPOINTS; i++) {                                                    \
        double x = at(dom, points[i]);                                                        \
        check(src, &x, (double[]){dx}, tol);                                                  \
    }
    UNARY_RULES(R)
#undef R
}

/* The rules of two inputs: the source, where x is taken (y is every point), d/dx and d/dy in
 * closed form, the tolerance. Every pair of points is checked, ties of min and max among
 * them: a tie gives each operand half. */
#define BINARY_RULES(R)                                                                       \
    R("f(x, y) = x + y", ANY, 1, 1, 0)                                                        \
    R("f(x, y) = x - y", ANY, 1, -1, 0)                                                       \
    R("f(x, y) = x * y", ANY, y, x, 0)                                                        \
    R("f(x, y) = x / y", ANY, 1 / y, -x / (y * y), 1e-15)                                     \
    R("f(x, y) = x * y - x / y", ANY, y - 1 / y, x + x / (y * y), 1e-15)                      \
    R("f(x, y) = atan2(y, x)", ANY, -y / (x * x + y * y), x / (x * x + y * y), 1e-15)         \
    R("f(x, y) = hypot(x, y)", ANY, x / sqrt(x * x + y * y), y / sqrt(x * x + y * y), 1e-15)  \
    R("f(x, y) = min(x, y)", ANY, x < y ? 1 : x > y ? 0 : 0.5, x < y ? 0 : x > y ? 1 : 0.5,  \
      0)                                                                                      \
    R("f(x, y) = max(x, y)", ANY, x > y ? 1 : x < y ? 0 : 0.5, x > y ? 0 : x < y ? 1 : 0.5,  \
      0)                                                                                      \
    R("f(x, y) = min(x, y) + 2 * max(x, y)", ANY, x < y ? 1 : x > y ? 2 : 1.5,                \
      x < y ? 2 : x > y ? 1 : 1.5, 0)                                                         \
    R("f(x, y) = pow(x, y)", POSITIVE, y * pow(x, y - 1), pow(x, y) * log(x), 1e-14)          \
    R("f(x, y) = x^y", POSITIVE, y * pow(x, y - 1), pow(x, y) * log(x), 1e-14)

static void test_rules_of_two_inputs(void **state)
{
    (void)state;
#define R(src, dom, dx, dy, tol)                                                              \
    for (size_t i = 0; i < NPOINTS; i++)                                                      \
        for (size_t j = 0; j < NPOINTS; j++) {                                                \
            double x = at(dom, points[i]), y = points[j];                                     \
            check(src, (double[]){x, y}, (double[]){dx, dy}, tol);                            \
        }
    BINARY_RULES(R)
#undef R
}

/* Where a derivative does not exist, or a partial is infinite on a path a guard takes away:
 * the value both modes give, exactly. A new convention goes to test_domain.c's table (README,
 * "Domain edges"), which checks the generated C too. */
static const struct {
    const char *src;
    double in[2], grad[2];
} kinks[] = {
    {"f(x) = abs(x)", {0}, {0}},
    {"f(x) = sqrt(x)", {0}, {INFINITY}},
    /* a tie gives each operand half */
    {"f(x, y) = min(x, y)", {0, 0}, {0.5, 0.5}},
    {"f(x, y) = max(y, x)", {0, 0}, {0.5, 0.5}},
    /* 0^y is flat in y */
    {"f(x, y) = x^y", {0, 2}, {0, 0}},
    /* atan2's guarded partials at the origin are an exact 0, whatever the infinite asin'(1)
     * above them: neither mode may make 0 * inf = NaN of them */
    {"f(x) = asin(0.5^atan2(x, x)) + x", {0}, {1}},
};
#define NKINKS (sizeof kinks / sizeof *kinks)

static void test_rules_conventions_at_kinks(void **state)
{
    (void)state;
    for (size_t i = 0; i < NKINKS; i++)
        check(kinks[i].src, kinks[i].in, kinks[i].grad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_of_one_input),
        cmocka_unit_test(test_rules_of_two_inputs),
        cmocka_unit_test(test_rules_conventions_at_kinks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
