/* test_domain.c: the gradient at the edges of the functions' domains and at kinks, as the
 * README's "Domain edges" promises it. Each case states its expected value and gradient, from
 * the mathematics or the documented convention; the interpreter over the reverse sweep
 * (eval_grad), forward mode (eval_tangent) and the generated C, compiled with gcc and run,
 * must all give exactly that: finite values to rounding, infinities with their sign, NaN
 * only where the README says there is no derivative. Scratch files go to build/tests/domain. */
#include "testutil.h"

#include <float.h>
#include <sys/stat.h>

#define OUT "build/tests/domain"
#define GCC "gcc -std=c99 -O2 -Wall -Wextra -pedantic -Werror"
#define PI 3.14159265358979323846

typedef struct {
    const char *src;  /* one definition */
    double x[2];      /* the point */
    double value, grad[2];
} Edge;

static const Edge edges[] = {
    /* sqrt: the derivative 1/(2 sqrt(x)) is genuinely infinite at 0 */
    {"f(x) = sqrt(x)", {0}, 0, {INFINITY}},
    {"f(x) = x^0.5", {0}, 0, {INFINITY}},
    /* sqrt(x^2) = |x| has no derivative at 0: 1/(2|x|) * 2x is inf * 0 */
    {"f(x) = sqrt(x^2)", {0}, 0, {NAN}},
    /* log: -inf with derivative +inf */
    {"f(x) = log(x)", {0}, -INFINITY, {INFINITY}},
    /* 0^y with a variable exponent: d/dx is y 0^(y-1), except 0 at y = 0, where x^0 = 1 for
     * every x; d/dy is 0 at x = 0 */
    {"f(x, y) = pow(x, y)", {0, 0}, 1, {0, 0}},
    {"f(x, y) = x^y", {0, 1}, 0, {1, 0}},
    {"f(x, y) = x^y", {0, 2}, 0, {0, 0}},
    {"f(x, y) = x**y", {0, 0.5}, 0, {INFINITY, 0}},
    {"f(x, y) = x^y", {0, -1}, INFINITY, {-INFINITY, 0}},
    /* the same with constant exponents, which become 1, x, x*x, sqrt(x) and 1/x */
    {"f(x) = x^0", {0}, 1, {0}},
    {"f(x) = x^1", {0}, 0, {1}},
    {"f(x) = x^2", {0}, 0, {0}},
    {"f(x) = pow(x, 0.5)", {0}, 0, {INFINITY}},
    {"f(x) = x^-1", {0}, INFINITY, {-INFINITY}},
    /* a negative base with an integer exponent: d/dx = y x^(y-1); x^y is undefined for x < 0
     * and non-integer y, so d/dy (x^y log x) is NaN */
    {"f(x) = x^3", {-2}, -8, {12}},
    {"f(x) = x^-3", {-2}, -0.125, {-0.1875}},
    {"f(x) = x^65", {-1}, -1, {65}},
    {"f(x, y) = x^y", {-2, 3}, -8, {12, NAN}},
    {"f(x, y) = pow(x, y)", {-2, -2}, 0.25, {0.25, NAN}},
    /* acosh' = 1/sqrt((x - 1)(x + 1)) is infinite at 1; at 1e200 (x^2 overflows) it is
     * 1e-200, as asinh' = 1/hypot(1, x) is */
    {"f(x) = acosh(x)", {1}, 0, {INFINITY}},
    {"f(x) = acosh(x)", {1e200}, 461.21016577936908, {1e-200}},
    {"f(x) = asinh(x)", {-1e200}, -461.21016577936908, {1e-200}},
    /* atanh' = 1/((1 - x)(1 + x)) at +-1, log1p' = 1/(1 + x) at -1, cbrt' = 1/(3 cbrt(x)^2)
     * at 0, log2' = 1/(x ln 2) and log10' = 1/(x ln 10) at 0: genuinely infinite */
    {"f(x) = atanh(x)", {1}, INFINITY, {INFINITY}},
    {"f(x) = atanh(x)", {-1}, -INFINITY, {INFINITY}},
    {"f(x) = log1p(x)", {-1}, -INFINITY, {INFINITY}},
    {"f(x) = cbrt(x)", {0}, 0, {INFINITY}},
    {"f(x) = log2(x)", {0}, -INFINITY, {INFINITY}},
    {"f(x) = log10(x)", {0}, -INFINITY, {INFINITY}},
    {"f(x) = log2(x) + log10(x)", {8}, 3.9030899869919438, {0.2346236903490269}},
    /* erf' = 2/sqrt(pi) exp(-x^2) is 0 at +-inf, and erfc' = -erf' */
    {"f(x) = erf(x)", {INFINITY}, 1, {0}},
    {"f(x) = erf(x)", {-INFINITY}, -1, {0}},
    {"f(x) = erfc(x)", {INFINITY}, 0, {0}},
    {"f(x) = erfc(x)", {-INFINITY}, 2, {0}},
    {"f(x) = erf(x) - erfc(x)", {0}, -1, {2.2567583341910251}},
    /* floor and ceil: derivative 0, also at their steps, and no term at all, so that an
     * infinite partial above them makes no NaN */
    {"f(x) = floor(x)", {1}, 1, {0}},
    {"f(x) = ceil(x)", {1}, 1, {0}},
    {"f(x) = floor(x) + ceil(x) + x", {-0.5}, -1.5, {1}},
    {"f(x) = sqrt(floor(x)) + x", {0.5}, 0.5, {1}},
    {"f(x) = 1 / ceil(x) + x", {-0.5}, -INFINITY, {1}},
    /* relu'(0) = 0, as abs'(0), a strong zero; relu(NaN) = 0, as max(x, 0) */
    {"f(x) = relu(x)", {0}, 0, {0}},
    {"f(x) = relu(x) + x", {0}, 0, {1}},
    {"f(x) = relu(x)", {2}, 2, {1}},
    {"f(x) = relu(x)", {-1}, 0, {0}},
    {"f(x) = relu(x)", {NAN}, 0, {0}},
    {"f(x) = relu(-sqrt(x))", {0}, 0, {0}},
    /* sign: a step, derivative 0, no term; sign(NaN) is NaN */
    {"f(x) = sign(x)", {0}, 0, {0}},
    {"f(x) = sign(x)", {NAN}, NAN, {0}},
    {"f(x) = sign(x) * x", {-2}, 2, {-1}},
    {"f(x) = sqrt(sign(x)) + x", {0}, 0, {1}},
    /* the stable forms at extreme arguments: sigmoid and softplus take exp of -|x| only, so
     * neither inf / inf nor an overflow; sigmoid' = s (1 - s) and softplus' = sigmoid are 0
     * or 1 there; erf' and erfc' underflow to 0 */
    {"f(x) = sigmoid(x)", {1000}, 1, {0}},
    {"f(x) = sigmoid(x)", {-1000}, 0, {0}},
    {"f(x) = sigmoid(x)", {0}, 0.5, {0.25}},
    {"f(x) = softplus(x)", {1000}, 1000, {1}},
    {"f(x) = softplus(x)", {-1000}, 0, {0}},
    {"f(x) = softplus(x)", {0}, 0.69314718055994531, {0.5}},
    {"f(x) = erf(x) + erfc(x)", {40}, 1, {0}},
    {"f(x) = erf(x)", {-40}, -1, {0}},
    /* abs'(0) = 0 */
    {"f(x) = abs(x)", {0}, 0, {0}},
    {"f(x) = abs(x) + x", {0}, 0, {1}},
    /* min and max: a tie gives each operand half the derivative, the average of the two
     * sides, which is the derivative of a function smooth through the tie */
    {"f(x, y) = min(x, y)", {1, 1}, 1, {0.5, 0.5}},
    {"f(x, y) = max(x, y)", {1, 1}, 1, {0.5, 0.5}},
    {"f(x, y) = max(y, x)", {1, 1}, 1, {0.5, 0.5}},
    {"f(x) = max(x, 1)", {1}, 1, {0.5}},
    {"f(x) = min(1, x)", {1}, 1, {0.5}},
    {"f(x) = max(x, x)", {2}, 2, {1}},
    /* smooth through a tie: the stable softplus has derivative 1/2 at 0; min(x, 1)^2 +
     * 2 log(max(x, 1)) is C^1 with derivative 2 at 1 */
    {"f(z) = max(z, 0) + log(1 + exp(-abs(z)))", {0}, 0.69314718055994531, {0.5}},
    {"f(x) = min(x, 1)^2 + 2*log(max(x, 1))", {1}, 1, {2}},
    /* hypot(0, 0): gradient 0, as abs'(0) for hypot(x, 0) = |x|; off the origin, a zero
     * operand has partial 0 */
    {"f(x, y) = hypot(x, y)", {0, 0}, 0, {0, 0}},
    {"f(x, y) = hypot(x, y)", {0, 2}, 2, {0, 1}},
    {"f(x) = hypot(x, 0)", {0}, 0, {0}},
    /* atan2(0, 0): gradient 0 (atan2 is constant along each half-axis through the origin);
     * off the origin the usual x/(x^2+y^2), -y/(x^2+y^2) */
    {"f(y, x) = atan2(y, x)", {0, 0}, 0, {0, 0}},
    {"f(y, x) = atan2(y, x)", {0, 1}, 0, {1, 0}},
    {"f(y, x) = atan2(y, x)", {0, -1}, PI, {-1, 0}},
    {"f(y, x) = atan2(y, x)", {2, 0}, PI / 2, {0, -0.5}},
    /* these zeros are exact: asin'(1) = inf above them makes no NaN */
    {"f(x) = asin(0.5^atan2(x, x)) + x", {0}, PI / 2, {1}},
    /* and strong: an infinite derivative below them, on the path they select away, makes
     * no NaN either (the function is flat there) */
    {"f(x) = max(1, sqrt(x))", {0}, 1, {0}},
    {"f(x) = atan2(sqrt(x), sqrt(x))", {0}, 0, {0}},
    {"f(x) = sqrt(max(0, x))", {-1}, 0, {0}},
    {"f(x) = max(log(x), 0) + x", {0}, 0, {1}},
    {"f(x) = sqrt(abs(x))", {0}, 0, {0}},
    {"f(x, y) = hypot(sqrt(x), y)", {0, 3}, 3, {0, 1}},
    /* also where the selection is decided when adgen runs (atan2(0, x) is flat in x) */
    {"f(x) = sqrt(atan2(0, x))", {1}, 0, {0}},
    {"f(x) = sqrt(atan2(-0.0, x)) + x", {2}, 2, {1}},
    /* the branch an if does not take puts no NaN or infinity into the value or the gradient */
    {"f(x) = if(x > 0, sqrt(x), 0)", {-1}, 0, {0}},
    {"f(x) = if(x > 0, sqrt(x), 0)", {4}, 2, {0.25}},
    {"f(x) = if(x > 1e-8, sin(x)/x, 1 - x^2/6)", {0}, 1, {0}},
    {"f(x) = if(x > 0, log(x), x)", {0}, 0, {1}},
    {"f(x) = if(x >= 0, x, sqrt(x))", {0}, 0, {1}},
    {"f(x, y) = if(x < y, log(y - x), sqrt(x - y))", {1, 1}, 0, {INFINITY, -INFINITY}},
    {"f(x) = if(x > 0 && x < 1, x^2, 1/x)", {0.5}, 0.25, {1}},
    {"f(x) = if(!(x > 0), -x, x)", {-2}, 2, {-1}},
    /* but a zero that arithmetic makes is an ordinary one, also below a selection: 0 * inf
     * is NaN (the function has no derivative there, or another one than 0) */
    {"f(x) = max(sqrt(x)^2, -1)", {0}, 0, {NAN}},
    {"f(x, y) = max((sqrt(x) - y)^2, -1)", {0, 0}, 0, {NAN, 0}},
    {"f(x, y) = 0*sqrt(x) + y", {0, 1}, 1, {NAN, 1}},
    {"f(x) = (x^2.5)^0.4", {0}, 0, {NAN}},
};
#define NEDGES (sizeof edges / sizeof *edges)

/* got equals want: NaN for NaN, the same infinity, or finite within rounding. */
static void assert_same(double got, double want, const char *what, size_t k)
{
    int ok = isnan(want) ? isnan(got)
             : isinf(want) ? got == want
                           : fabs(got - want) <= 4 * DBL_EPSILON * fmax(1, fabs(want));
    if (!ok)
        fail_msg("%s of case %zu (%s at %g, %g): %.17g, expected %.17g", what, k,
                 edges[k].src, edges[k].x[0], edges[k].x[1], got, want);
}

static void check(size_t k, double value, const double *grad, const char *who, int n)
{
    char what[64];
    snprintf(what, sizeof what, "%s value", who);
    assert_same(value, edges[k].value, what, k);
    for (int i = 0; i < n; i++) {
        snprintf(what, sizeof what, "%s d/dx%d", who, i + 1);
        assert_same(grad[i], edges[k].grad[i], what, k);
    }
}

static void test_domain_interpreters(void **state)
{
    (void)state;
    for (size_t k = 0; k < NEDGES; k++) {
        Compiled c;
        if (compile_string(&c, edges[k].src, 1) != 0)
            fail_msg("%s: %s", edges[k].src, c.messages);
        const Func *f = &c.prog.funcs[0];
        double g[2];
        double v = eval_grad(f, edges[k].x, g);
        check(k, v, g, "eval_grad", (int)f->ninputs);
        v = eval_tangent(f, edges[k].x, g, NULL);
        check(k, v, g, "eval_tangent", (int)f->ninputs);
        compiled_free(&c);
    }
}

/* x as a C constant: %a, which prints inf and nan, HUGE_VAL and NAN for those. */
static void put_arg(Buf *b, double x)
{
    if (isinf(x))
        buf_printf(b, "%sHUGE_VAL", x < 0 ? "-" : "");
    else if (isnan(x))
        buf_puts(b, "NAN");
    else
        buf_printf(b, "%a", x);
}

/* Every case's C in one file (prefix eK_), a driver printing value and gradient with %a. */
static void test_domain_generated_c(void **state)
{
    (void)state;
    mkdir("build/tests", 0777);
    mkdir(OUT, 0777);
    Buf src = {0}, drv = {0};
    int nin[NEDGES];
    buf_printf(&drv, "#include <math.h>\n#include <stdio.h>\n");
    for (size_t k = 0; k < NEDGES; k++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "e%zu_", k);
        EmitOptions opt = {.prefix = prefix};
        Buf c_text = {0};
        if (compile_source("edge.expr", edges[k].src, strlen(edges[k].src), "edge", &opt,
                           stderr, &c_text, NULL) != 0)
            fail_msg("%s does not compile", edges[k].src);
        buf_printf(&src, "%s", c_text.data);
        buf_free(&c_text);
        nin[k] = edges[k].src[3] == ')' ? 1 : 2; /* "f(x) ..." or "f(x, y) ..." */
        if (nin[k] == 1)
            buf_printf(&drv, "double e%zu_f_grad(double, double *);\n", k);
        else
            buf_printf(&drv, "double e%zu_f_grad(double, double, double *, double *);\n", k);
    }
    buf_printf(&drv, "int main(void)\n{\n    double g[2] = {0, 0}, v;\n");
    for (size_t k = 0; k < NEDGES; k++) {
        buf_printf(&drv, "    v = e%zu_f_grad(", k);
        for (int i = 0; i < nin[k]; i++) {
            put_arg(&drv, edges[k].x[i]);
            buf_puts(&drv, ", ");
        }
        buf_printf(&drv, nin[k] == 1 ? "&g[0]);\n" : "&g[0], &g[1]);\n");
        buf_printf(&drv, "    printf(\"%%a %%a %%a\\n\", v, g[0], g[1]);\n");
    }
    buf_printf(&drv, "    return 0;\n}\n");
    FILE *f = fopen(OUT "/edges.c", "w");
    assert_non_null(f);
    fputs(src.data, f);
    fclose(f);
    f = fopen(OUT "/main.c", "w");
    assert_non_null(f);
    fputs(drv.data, f);
    fclose(f);
    buf_free(&src);
    buf_free(&drv);
    char *out = NULL;
    int rc = run_command(GCC " -o " OUT "/edges " OUT "/edges.c " OUT "/main.c -lm 2>&1 && "
                         OUT "/edges", &out);
    if (rc != 0)
        fail_msg("building or running the generated C failed:\n%s", out);
    char *p = out;
    for (size_t k = 0; k < NEDGES; k++) {
        double v = strtod(p, &p), g[2];
        g[0] = strtod(p, &p);
        g[1] = strtod(p, &p);
        check(k, v, g, "generated C", nin[k]);
    }
    free(out);
}

/* The calls of exp in the body of the function `name` in c. */
static int exp_calls(const char *c, const char *name)
{
    char head[64];
    snprintf(head, sizeof head, "%s(double z, double *z_bar)\n{", name);
    const char *s = strstr(c, head), *end = s ? strstr(s, "\n}\n") : NULL;
    assert_non_null(end);
    int n = 0;
    for (const char *p = s; (p = strstr(p, "exp(")) && p < end; p++)
        n++;
    return n;
}

/* The README's answer to softplus's second exp ("Domain edges"): spelled out as max(z, 0) +
 * log1p(exp(-abs(z))) the gradient calls exp once, softplus's two or three times, and both
 * gradients are sigmoid(z) = 1 / (1 + e^-z) at every z, the tie at 0 (1/2) and both tails
 * included. */
static void test_softplus_spelled_out(void **state)
{
    (void)state;
    static const char src[] = "sp(z) = softplus(z)\nso(z) = max(z, 0) + log1p(exp(-abs(z)))\n";
    EmitOptions opt = {0};
    Buf c = {0};
    if (compile_source("sp.expr", src, strlen(src), "sp", &opt, stderr, &c, NULL) != 0)
        fail_msg("%s does not compile", src);
    /* softplus's: the value's, and the sigmoid's branches (one call for z >= 0, two below) */
    assert_int_equal(exp_calls(c.data, "sp_grad"), 4);
    assert_int_equal(exp_calls(c.data, "so_grad"), 1);
    mkdir("build/tests", 0777);
    mkdir(OUT, 0777);
    spit(OUT "/sp.c", c.data);
    buf_free(&c);
    spit(OUT "/sp_main.c",
         "#include <math.h>\n#include <stdio.h>\n"
         "double sp_grad(double z, double *z_bar);\ndouble so_grad(double z, double *z_bar);\n"
         "int main(void)\n{\n"
         "    static const double zs[] = {-700, -30, -2, -0.5, -1e-300, 0, 1e-300, 0.5, 2, 30, 700};\n"
         "    int bad = 0;\n"
         "    for (int i = 0; i < (int)(sizeof zs / sizeof *zs); i++) {\n"
         "        double z = zs[i], s = 1 / (1 + exp(-z)), g1, g2;\n"
         "        double v1 = sp_grad(z, &g1), v2 = so_grad(z, &g2);\n"
         "        if (fabs(g1 - s) > 1e-15 * s || fabs(g2 - s) > 1e-15 * s ||\n"
         "            fabs(v1 - v2) > 1e-15 * fabs(v1)) {\n"
         "            printf(\"z = %g: %a %a, sigmoid %a\\n\", z, g1, g2, s);\n"
         "            bad = 1;\n"
         "        }\n"
         "    }\n"
         "    puts(bad ? \"differ\" : \"same\");\n"
         "    return bad;\n}\n");
    char *out = NULL;
    int rc = run_command(GCC " -o " OUT "/sp " OUT "/sp.c " OUT "/sp_main.c -lm 2>&1 && " OUT
                         "/sp", &out);
    if (rc != 0)
        fail_msg("softplus spelled out:\n%s", out);
    assert_string_equal(out, "same\n");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_domain_interpreters),
        cmocka_unit_test(test_domain_generated_c),
        cmocka_unit_test(test_softplus_spelled_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
