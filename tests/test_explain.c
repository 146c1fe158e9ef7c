/* test_explain.c: --explain, --dot and --report against independent routes. The sweeps of
 * eq. 5.109 are checked line by line against the book's equations 5.123-5.142, written here
 * from the book: names and structure as text, each right-hand side that is a formula by its
 * value at a point against the book's formula computed in C. The DOT output parses with
 * Graphviz and has the book's graph (fig. 5.11). --report's counts are checked against the
 * operators and calls counted in the generated C's text, and its notes' places against the
 * source text. Scratch files go to build/tests/explain. */
#include "testutil.h"

#include <ctype.h>

#define OUT "build/tests/explain"

/* ---- helpers -------------------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    return runf(NULL, "rm -rf " OUT " && mkdir -p " OUT);
}

/* The lines of text (modified in place), at most max; returns their number. */
static int split_lines(char *text, char **lines, int max)
{
    int n = 0;
    for (char *s = text; *s && n < max;) {
        char *nl = strchr(s, '\n');
        lines[n++] = s;
        if (!nl)
            break;
        *nl = '\0';
        s = nl + 1;
    }
    return n;
}

/* The value of expression expr (in adgen's language) of the named values, through adgen's
 * parser and interpreter: the text is what is being checked, the book's formula in C is the
 * reference it is compared with. */
static double value_of(const char *expr, const char *const *names, const double *values, int n)
{
    Buf src = {0};
    buf_puts(&src, "g(");
    for (int i = 0; i < n; i++)
        buf_printf(&src, "%s%s", i ? ", " : "", names[i]);
    buf_printf(&src, ") = %s\n", expr);
    Compiled c;
    if (compile_string(&c, src.data, 0) != 0)
        fail_msg("'%s' is not an expression of %s...: %s", expr, names[0], c.messages);
    Func *f = &c.prog.funcs[0];
    double *v = malloc(f->dag.len * sizeof *v);
    assert_non_null(v);
    eval_dag(&f->dag, values, v);
    double r = v[f->roots[0]];
    free(v);
    compiled_free(&c);
    buf_free(&src);
    return r;
}

/* ---- --explain: eqs. 5.123-5.142 ------------------------------------------------------------ */

/* The book's names of example 5.14 in the names the explanation uses. */
typedef struct {
    const char *a, *b, *c, *d, *e;
} Letters;

/* "d<p>/d<q>" in the explanation's names */
static const char *dd(char *buf, const char *p, const char *q)
{
    snprintf(buf, 32, "d%s/d%s", p, q);
    return buf;
}

static void check_book(const char *file, Letters L)
{
    char *out = NULL;
    assert_int_equal(runf(&out, ADGEN_CMD " --explain %s", file), 0);
    char *lines[64];
    int n = split_lines(out, lines, 64);
    /* a heading, then 4 groups: each a heading and its equations */
    assert_int_equal(n, 1 + (1 + 6) + (1 + 8) + (1 + 4) + (1 + 4));
    assert_string_equal(lines[0], "f(x)");
    const char *names[] = {"x", L.a, L.b, L.c, L.d, L.e};
    double x = 0.7, a = x * x, b = exp(a), c = a + b, d = sqrt(c), e = cos(c);
    double at[] = {x, a, b, c, d, e};
    char want[256], p[32], q[32];

    /* eqs. 5.123-5.128, with x^2 and exp as the language writes them */
    assert_contains(lines[1], "forward sweep");
    const char *forward[6][2] = {
        {L.a, "x^2"}, {L.b, "exp(%s)"}, {L.c, "%s + %s"}, {L.d, "sqrt(%s)"}, {L.e, "cos(%s)"},
        {"f", "%s + %s"}};
    const char *operands[6][2] = {{"", ""}, {L.a, ""}, {L.a, L.b}, {L.c, ""}, {L.c, ""},
                                  {L.d, L.e}};
    for (int i = 0; i < 6; i++) {
        char rhs[64];
        snprintf(rhs, sizeof rhs, forward[i][1], operands[i][0], operands[i][1]);
        snprintf(want, sizeof want, "    %s = %s", forward[i][0], rhs);
        assert_string_equal(lines[2 + i], want);
    }

    /* eqs. 5.129-5.134: the names exactly, each partial by its value */
    assert_contains(lines[8], "local partials");
    struct { const char *of, *by; double value; } partial[8] = {
        {L.a, "x", 2 * x},            /* 5.129 */
        {L.b, L.a, exp(a)},           /* 5.130 */
        {L.c, L.a, 1}, {L.c, L.b, 1}, /* 5.131 */
        {L.d, L.c, 1 / (2 * sqrt(c))}, /* 5.132 */
        {L.e, L.c, -sin(c)},          /* 5.133 */
        {"f", L.d, 1}, {"f", L.e, 1}, /* 5.134 */
    };
    for (int i = 0; i < 8; i++) {
        char *s = lines[9 + i];
        snprintf(want, sizeof want, "    %s = ", dd(p, partial[i].of, partial[i].by));
        assert_true(strncmp(s, want, strlen(want)) == 0);
        assert_near(value_of(s + strlen(want), names, at, 6), partial[i].value, 1e-15);
    }

    /* eqs. 5.135-5.138, word for word */
    assert_contains(lines[17], "reverse sweep");
    char adj_c[32], adj_b[32], adj_a[32], adj_d[32], adj_e[32];
    dd(adj_c, "f", L.c);
    dd(adj_b, "f", L.b);
    dd(adj_a, "f", L.a);
    dd(adj_d, "f", L.d);
    dd(adj_e, "f", L.e);
    snprintf(want, sizeof want, "    %s = %s %s + %s %s", adj_c, adj_d, dd(p, L.d, L.c), adj_e,
             dd(q, L.e, L.c));
    assert_string_equal(lines[18], want);
    snprintf(want, sizeof want, "    %s = %s %s", adj_b, adj_c, dd(p, L.c, L.b));
    assert_string_equal(lines[19], want);
    snprintf(want, sizeof want, "    %s = %s %s + %s %s", adj_a, adj_b, dd(p, L.b, L.a), adj_c,
             dd(q, L.c, L.a));
    assert_string_equal(lines[20], want);
    snprintf(want, sizeof want, "    %s = %s %s", "df/dx", adj_a, dd(p, L.a, "x"));
    assert_string_equal(lines[21], want);

    /* eqs. 5.139-5.142: each term an adjoint (or the 1 of df/dd) times a partial by value */
    assert_contains(lines[22], "substituted");
    struct { const char *lhs; int nterms; const char *factor[2]; double partial[2]; } sub[4] = {
        {adj_c, 2, {"1", "1"}, {1 / (2 * sqrt(c)), -sin(c)}}, /* 5.139 */
        {adj_b, 1, {adj_c, NULL}, {1, 0}},                     /* 5.140 */
        {adj_a, 2, {adj_b, adj_c}, {exp(a), 1}},               /* 5.141 */
        {"df/dx", 1, {adj_a, NULL}, {2 * x, 0}},               /* 5.142 */
    };
    for (int i = 0; i < 4; i++) {
        char *s = lines[23 + i];
        snprintf(want, sizeof want, "    %s = ", sub[i].lhs);
        assert_true(strncmp(s, want, strlen(want)) == 0);
        s += strlen(want);
        for (int t = 0; t < sub[i].nterms; t++) {
            char *end = t + 1 < sub[i].nterms ? strstr(s, " + ") : s + strlen(s);
            assert_non_null(end);
            *end = '\0';
            char *times = strstr(s, " * ");
            assert_non_null(times);
            *times = '\0';
            assert_string_equal(s, sub[i].factor[t]);
            assert_near(value_of(times + 3, names, at, 6), sub[i].partial[t], 1e-15);
            s = end + 3;
        }
    }
    free(out);
}

/* The book's letters, where the source names the intermediates as the book does */
static void test_explain_eq5123_book(void **state)
{
    (void)state;
    check_book("samples/eq5123.expr", (Letters){"a", "b", "c", "d", "e"});
}

/* eq. 5.109 as one line: the same structure, the intermediates named t1..t5 in order */
static void test_explain_eq5109_book(void **state)
{
    (void)state;
    check_book("samples/eq5109.expr", (Letters){"t1", "t2", "t3", "t4", "t5"});
}

/* Braces, \left and \right, and the environments balance; every equation is aligned at =. */
static void check_latex(const char *text, const char *env)
{
    char begin[32], end[32];
    snprintf(begin, sizeof begin, "\\begin{%s}", env);
    snprintf(end, sizeof end, "\\end{%s}", env);
    int braces = 0, begins = 0, ends = 0;
    for (const char *s = text; *s; s++) {
        if (*s == '\\' && (s[1] == '{' || s[1] == '}')) {
            s++;
            continue;
        }
        braces += (*s == '{') - (*s == '}');
        assert_true(braces >= 0);
    }
    assert_int_equal(braces, 0);
    int left = 0, right = 0;
    for (const char *s = text; (s = strstr(s, "\\left")) != NULL; s++)
        left++;
    for (const char *s = text; (s = strstr(s, "\\right")) != NULL; s++)
        right++;
    assert_int_equal(left, right);
    for (const char *s = text; (s = strstr(s, begin)) != NULL; s++)
        begins++;
    for (const char *s = text; (s = strstr(s, end)) != NULL; s++)
        ends++;
    assert_int_equal(begins, ends);
    assert_true(begins >= 1);
}

static void test_explain_latex(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(runf(&out, ADGEN_CMD " --explain=latex samples/eq5123.expr"), 0);
    check_latex(out, "align*");
    /* eqs. 5.130, 5.135 and 5.142 as LaTeX writes them */
    assert_contains(out, "\\frac{\\partial b}{\\partial a} &= \\exp\\left(a\\right)");
    assert_contains(out, "\\frac{\\partial f}{\\partial c} &= \\frac{\\partial f}{\\partial d} "
                         "\\frac{\\partial d}{\\partial c} + \\frac{\\partial f}{\\partial e} "
                         "\\frac{\\partial e}{\\partial c}");
    assert_contains(out, "\\frac{\\partial f}{\\partial x} &= \\frac{\\partial f}{\\partial a} "
                         "\\cdot \\left(2 x\\right)");
    /* 6 + 8 + 4 + 4 equations, separated by 21 line breaks */
    int breaks = 0, aligned = 0;
    for (const char *s = out; (s = strstr(s, "\\\\\n")) != NULL; s++)
        breaks++;
    for (const char *s = out; (s = strstr(s, "&=")) != NULL; s++)
        aligned++;
    assert_int_equal(aligned, 22);
    assert_int_equal(breaks, 21);
    /* compiled where LaTeX is installed */
    if (runf(NULL, "command -v pdflatex >/dev/null") == 0) {
        FILE *f = fopen(OUT "/eq5123.tex", "w");
        assert_non_null(f);
        fprintf(f, "\\documentclass{article}\\usepackage{amsmath}\\begin{document}\n%s"
                   "\\end{document}\n", out);
        fclose(f);
        assert_int_equal(runf(NULL, "cd " OUT " && pdflatex -interaction=nonstopmode -halt-on-"
                                    "error eq5123.tex >/dev/null"), 0);
    }
    free(out);
    /* every sample, in both LaTeX forms */
    const char *samples[] = {"eq5109", "huber", "logistic", "mlp", "rosenbrock"};
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        assert_int_equal(runf(&out, ADGEN_CMD " --explain=latex samples/%s.expr", samples[i]),
                         0);
        check_latex(out, "align*");
        free(out);
        assert_int_equal(runf(&out, ADGEN_CMD " --explain=markdown samples/%s.expr",
                              samples[i]), 0);
        check_latex(out, "aligned");
        free(out);
    }
    /* a head's arrays with their sizes, as the source has them (the file's N = 100) */
    assert_int_equal(runf(&out, ADGEN_CMD " --explain samples/rosenbrock.expr"), 0);
    assert_contains(out, "\nrosen(x[100])\n");
    free(out);
}

/* ---- --dot: fig. 5.11 ------------------------------------------------------------------------- */

/* Whether Graphviz reads the DOT; its node and edge counts (dot -Tplain) and dashed edges. */
static void dot_counts(const char *args, int *nodes, int *edges, int *dashed)
{
    char *plain = NULL;
    assert_int_equal(runf(&plain, ADGEN_CMD " %s > " OUT "/g.dot && dot -Tplain " OUT "/g.dot",
                          args), 0);
    *nodes = *edges = *dashed = 0;
    char *lines[4096];
    int n = split_lines(plain, lines, 4096);
    for (int i = 0; i < n; i++) {
        *nodes += strncmp(lines[i], "node ", 5) == 0;
        *edges += strncmp(lines[i], "edge ", 5) == 0;
        *dashed += strncmp(lines[i], "edge ", 5) == 0 && strstr(lines[i], " dashed ") != NULL;
    }
    free(plain);
}

static void test_dot_book_graph(void **state)
{
    (void)state;
    if (runf(NULL, "command -v dot >/dev/null") != 0)
        fail_msg("Graphviz's dot is missing (apt-get install graphviz)");
    int nodes, edges, dashed;
    /* fig. 5.11: x, a..f; edges x-a, a-b, a-c, b-c, c-d, c-e, d-f, e-f */
    dot_counts("--dot samples/eq5109.expr", &nodes, &edges, &dashed);
    assert_int_equal(nodes, 7);
    assert_int_equal(edges, 8);
    assert_int_equal(dashed, 0);
    /* and against the data flow, one dashed edge per local partial (eqs. 5.129-5.134) */
    dot_counts("--dot=adjoint samples/eq5109.expr", &nodes, &edges, &dashed);
    assert_int_equal(nodes, 7);
    assert_int_equal(edges, 16);
    assert_int_equal(dashed, 8);

    /* which nodes the edges join, by the names in the labels */
    char *dot = NULL;
    assert_int_equal(runf(&dot, ADGEN_CMD " --dot=adjoint samples/eq5123.expr"), 0);
    const char *book[][2] = {{"x", "a"}, {"a", "b"}, {"a", "c"}, {"b", "c"},
                             {"c", "d"}, {"c", "e"}, {"d", "f"}, {"e", "f"}};
    char *lines[128];
    int n = split_lines(dot, lines, 128);
    char id_of[128][16] = {{0}};  /* per letter: its DOT id */
    for (int i = 0; i < n; i++) {
        char id[16], name;
        if (sscanf(lines[i], " %15s [%*[^\"]\"%c", id, &name) == 2 && strchr("xabcdef", name))
            snprintf(id_of[(unsigned char)name], sizeof id_of[0], "%s", id);
    }
    for (size_t k = 0; k < sizeof book / sizeof *book; k++) {
        char edge[64];
        snprintf(edge, sizeof edge, "    %s -> %s;", id_of[(unsigned char)book[k][0][0]],
                 id_of[(unsigned char)book[k][1][0]]);
        int found = 0;
        for (int i = 0; i < n; i++)
            found += strcmp(lines[i], edge) == 0;
        assert_int_equal(found, 1);
    }
    free(dot);
    assert_int_equal(runf(&dot, ADGEN_CMD " --dot=adjoint samples/eq5123.expr"), 0);
    /* the examples, eqs. 5.130 and 5.131 */
    assert_contains(dot, "label=\"db/da = exp(a)\"");
    assert_contains(dot, "label=\"dc/da = 1\"");
    free(dot);
}

/* The seed's network collapses to a readable graph: arrays one node each, elements of a local
 * array clustered. */
static void test_dot_network_collapsed(void **state)
{
    (void)state;
    if (runf(NULL, "command -v dot >/dev/null") != 0)
        fail_msg("Graphviz's dot is missing (apt-get install graphviz)");
    int nodes, edges, dashed;
    dot_counts("--dot=adjoint samples/mlp.expr", &nodes, &edges, &dashed);
    /* A0, b0, A1, b1, x, y; 8 pre-activations and f1[0..7]; 2 partial sums and f2[0..1];
     * the loss */
    assert_int_equal(nodes, 6 + 16 + 4 + 1);
    assert_true(dashed > 0 && dashed < edges);
    char *dot = NULL;
    assert_int_equal(runf(&dot, ADGEN_CMD " --dot samples/mlp.expr"), 0);
    assert_contains(dot, "subgraph cluster_f0_f1 {");
    assert_contains(dot, "label=\"A0[8][4]\"");
    free(dot);
}

/* The operation nodes (ellipses: no shape=box) of a DOT text, between `from` and `to` (NULL:
 * the start and the end). */
static int dot_operations_between(const char *dot, const char *from, const char *to)
{
    const char *s = from ? strstr(dot, from) : dot;
    assert_non_null(s);
    const char *end = to ? strstr(s, to) : s + strlen(s);
    assert_non_null(end);
    int n = 0;
    for (const char *l = s; l && l < end; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(len < 511 ? len : 511), l);
        n += strstr(line, " [") && strstr(line, "label=") && !strstr(line, "shape=box") &&
             !strstr(line, "->");
    }
    return n;
}

/* A kept loop is drawn as one iteration in a cluster (issue 19): the extended Rosenbrock
 * function with N left open has as many operations in its cluster as the graph unrolled at
 * N = 2 (one term) has in all; its loads are read from the array's box, the term goes into
 * the sum, and a recurrence's next state goes back to its state. */
static void test_dot_kept_loops(void **state)
{
    (void)state;
    if (runf(NULL, "command -v dot >/dev/null") != 0)
        fail_msg("Graphviz's dot is missing (apt-get install graphviz)");
    int nodes, edges, dashed;
    dot_counts("--dot tests/bench/rosen_n.expr", &nodes, &edges, &dashed);
    char *kept = NULL, *unrolled = NULL;
    assert_int_equal(runf(&kept, ADGEN_CMD " --dot tests/bench/rosen_n.expr"), 0);
    assert_int_equal(runf(&unrolled, ADGEN_CMD " --dot -D N=2 tests/bench/rosen_n.expr"), 0);
    int term = dot_operations_between(kept, "subgraph cluster_f0l0 {", "\n    }");
    assert_int_equal(term, dot_operations_between(unrolled, NULL, NULL));
    assert_int_equal(term, 7);
    assert_contains(kept, "label=\"sum over i = 0..N - 2\"");
    assert_contains(kept, "f0p0 [shape=box, label=\"x[N]\"];");
    assert_contains(kept, "[shape=box, label=\"x[i + 1]\"];");
    assert_contains(kept, "f0p0 -> f0l0n2 [style=dotted];");
    assert_contains(kept, "[label=\"sum\"];");
    free(kept);
    free(unrolled);
    /* the iteration's partials, against the data flow */
    dot_counts("--dot=adjoint tests/bench/rosen_n.expr", &nodes, &edges, &dashed);
    assert_true(dashed >= 7);
    spit(OUT "/rec.expr", "f(a; n) {\n    s[0] = a\n    for k = 0..n-1 { s[k+1] = 2*s[k] + a }\n"
                          "    return s[n]^2\n}\n");
    dot_counts("--dot " OUT "/rec.expr", &nodes, &edges, &dashed);
    assert_int_equal(runf(&kept, ADGEN_CMD " --dot " OUT "/rec.expr"), 0);
    assert_contains(kept, "label=\"recurrence over k = 0..n - 1\"");
    assert_contains(kept, " -> f0l0n2 [style=dashed, constraint=false, label=\"next step\"];");
    assert_contains(kept, "[label=\"last\"];");
    assert_contains(kept, "label=\"s[k + 1]\\n");
    assert_contains(kept, "f0n1 -> f0l0n2 [style=dotted];"); /* s[0] = a */
    free(kept);
}

/* text with every `from` replaced by `to` (malloc'ed) */
static char *replaced(const char *text, const char *from, const char *to)
{
    Buf b = {0};
    buf_putn(&b, "", 0);
    for (const char *s = text, *hit; *s; s = hit + strlen(from)) {
        hit = strstr(s, from);
        if (!hit) {
            buf_puts(&b, s);
            break;
        }
        buf_putn(&b, s, (size_t)(hit - s));
        buf_puts(&b, to);
    }
    return b.data;
}

/* --explain on a kept recurrence: the function reads the last state; then one step's sweeps,
 * which are those of the step written as a function of its own (s_next(s_k, a)) with the
 * state named as the loop reads it; with two states, a reverse sweep from each. */
static void test_explain_kept_recurrence(void **state)
{
    (void)state;
    spit(OUT "/rec1.expr", "f(a; n) {\n    s[0] = a\n    for k = 0..n-1 { s[k+1] = sin(s[k]) - a }\n"
                           "    return s[n]^2\n}\n");
    spit(OUT "/step1.expr", "s_next(s_k, a) = sin(s_k) - a\n");
    char *kept = NULL, *step = NULL;
    assert_int_equal(runf(&kept, ADGEN_CMD " --explain " OUT "/rec1.expr"), 0);
    assert_int_equal(runf(&step, ADGEN_CMD " --explain " OUT "/step1.expr"), 0);
    assert_contains(kept, "f(a; n)\nforward sweep (eq. 5.143):\n    f = s_last^2\n");
    assert_contains(kept, "    df/da = (the steps' terms, below)\n");
    assert_contains(kept, "s_last = the last state of the recurrence over k = 0..n - 1, from "
                          "s[0] = a:\n");
    assert_contains(kept, "seeded\nwith df/ds[k + 1] (here ds[k + 1]/ds[k + 1] = 1)");
    const char *in_kept = strstr(kept, "step(k, s[k])\nforward sweep");
    assert_non_null(in_kept);
    char *a = replaced(in_kept + strlen("step(k, s[k])\n"), "s[k + 1]", "s_next");
    char *b = replaced(a, "s[k]", "s_k");
    assert_string_equal(b, step + strlen("s_next(s_k, a)\n"));
    free(a);
    free(b);
    free(kept);
    free(step);
    /* two states: one forward sweep, a reverse sweep from each next state */
    assert_int_equal(runf(&kept, ADGEN_CMD " --explain samples/oscillator.expr"), 0);
    assert_contains(kept, "x_last, v_last = the last states of the recurrence over i = 0..n - 1, "
                          "from x[0] = x0, v[0] = 0:\n");
    assert_contains(kept, "step(i, x[i], v[i])\nforward sweep (eq. 5.143):\n");
    assert_contains(kept, "reverse sweep (eq. 5.145), from dx[i + 1]/dx[i + 1] = 1:\n");
    assert_contains(kept, "reverse sweep (eq. 5.145), from dv[i + 1]/dv[i + 1] = 1:\n");
    assert_contains(kept, "    dx[i + 1]/dk = "); /* k is differentiated, dt is data */
    assert_null(strstr(kept, "/ddt"));
    assert_null(strstr(kept, "/d(dt"));
    const char *fwd = strstr(kept, "forward sweep");
    assert_non_null(fwd = strstr(fwd + 1, "forward sweep"));
    assert_null(strstr(fwd + 1, "forward sweep"));
    free(kept);
    /* a differentiated value of the function the step reads unnamed is written out; the
     * function is one of two states */
    spit(OUT "/rec2.expr", "g(a, h; n) {\n    s[0] = a\n    for k = 0..n-1 { s[k+1] = s[k] + "
                           "h/2*sin(s[k]) }\n    return s[n]\n}\n"
                           "e(a, b; n) {\n    v[0][0] = a\n    v[0][1] = b\n"
                           "    for k = 0..n-1 {\n        v[k+1][0] = v[k][0] + 0.1*v[k][1]\n"
                           "        v[k+1][1] = v[k][1] - 0.1*sin(v[k][0])\n    }\n"
                           "    return v[n][0]\n}\n");
    assert_int_equal(runf(&kept, ADGEN_CMD " --explain " OUT "/rec2.expr"), 0);
    assert_contains(kept, "    ds[k + 1]/d(h/2) = 1 * t1\n");
    assert_contains(kept, "e = v_0_last; v_0_last, v_1_last = the last states");
    free(kept);
    /* a returned map is a vector result with kept loops, which --explain does not show */
    assert_int_equal(runf(&kept, ADGEN_CMD " --explain samples/oscfit/model.expr 2>&1"), 1);
    assert_contains(kept, "'resid' returns a number of values known only at run time; "
                          "--explain shows functions of several values without kept loops");
    free(kept);
}

/* --explain of a list: the forward sweep once, then a reverse sweep from each value, which is
 * the sweep of that value written as a function of its own (names aside). */
static void test_explain_several_values(void **state)
{
    (void)state;
    spit(OUT "/two.expr", "g(x, y; c) = [x*y + sin(x), exp(y)*x*c]\n");
    spit(OUT "/one.expr", "g(x, y; c) = x*y + sin(x)\n");
    char *two = NULL, *one = NULL;
    assert_int_equal(runf(&two, ADGEN_CMD " --explain " OUT "/two.expr"), 0);
    assert_int_equal(runf(&one, ADGEN_CMD " --explain " OUT "/one.expr"), 0);
    assert_contains(two, "    g[0] = t1 + t2\n");
    assert_contains(two, "reverse sweep (eq. 5.145), from dg[1]/dg[1] = 1:\n");
    assert_null(strstr(two, "/dc")); /* data */
    /* g[0]'s local partials and sweeps are those of g alone */
    const char *from = strstr(two, "local partials:"), *to = strstr(two, "dg[0]/dx = 1 * y + 1 * "
                                                                  "cos(x)\n");
    assert_non_null(from);
    assert_non_null(to);
    size_t len = (size_t)(to - from) + strlen("dg[0]/dx = 1 * y + 1 * cos(x)\n");
    char *part = malloc(len + 1);
    memcpy(part, from, len);
    part[len] = '\0';
    char *renamed = replaced(part, "g[0]", "g");
    const char *alone = strstr(one, "local partials:");
    assert_non_null(alone);
    assert_string_equal(renamed, alone);
    free(part);
    free(renamed);
    free(one);
    free(two);
    /* --dot still draws functions of one value */
    assert_int_equal(runf(&two, ADGEN_CMD " --dot " OUT "/two.expr 2>&1"), 1);
    assert_contains(two, "'g' returns 2 values; --dot shows functions of one value");
    free(two);
}

/* --explain on a kept sum: the function, then one term's sweeps; those are the sweeps of the
 * graph unrolled at N = 2 (one term) with its elements named as the loop reads them. */
static void test_explain_kept_sum(void **state)
{
    (void)state;
    char *kept = NULL, *unrolled = NULL;
    assert_int_equal(runf(&kept, ADGEN_CMD " --explain tests/bench/rosen_n.expr"), 0);
    assert_int_equal(runf(&unrolled, ADGEN_CMD " --explain -D N=2 tests/bench/rosen_n.expr"), 0);
    assert_contains(kept, "rosen = sum_i = the sum of term over i = 0..N - 2:\n");
    assert_contains(kept, "seeded with drosen/dsum_i");
    const char *term = strstr(kept, "term(i, x[i + 1], x[i])\nforward sweep");
    assert_non_null(term);
    char *a = replaced(unrolled, "x[0]", "x[i]"), *b = replaced(a, "x[1]", "x[i + 1]");
    char *c = replaced(b, "rosen", "term");
    const char *want = strstr(c, "forward sweep"), *got = strstr(term, "forward sweep");
    size_t n = (size_t)(strstr(want, "reverse sweep") - want);
    assert_true(n > 100);
    if (strncmp(got, want, n) != 0)
        fail_msg("the term's sweeps differ from the unrolled ones:\n%s\n---\n%.*s", got, (int)n,
                 want);
    free(a);
    free(b);
    free(c);
    free(kept);
    free(unrolled);
    /* a function reading the values a sum captures: their adjoints come from the steps */
    assert_int_equal(runf(&kept, ADGEN_CMD " --explain samples/logreg.expr"), 0);
    assert_contains(kept, "    dlogreg/dw[0] = (the steps' terms, below)\n");
    assert_contains(kept, "term(n, X[n][0], X[n][1], X[n][2], y[n])\n");
    free(kept);
}

/* ---- --report --------------------------------------------------------------------------------- */

/* The text of C function `name`'s body in the C source, comments removed (malloc'ed). */
/* The body of the function `type name(...)` without comments and directives; NULL when
 * there is none. */
static char *one_body(const char *c, const char *type, const char *name)
{
    char head[128];
    snprintf(head, sizeof head, "\n%s %s(", type, name);
    const char *s = c;
    for (;;) {
        s = strstr(s, head);
        if (!s)
            return NULL;
        const char *close = strchr(s, ')');
        if (close && strncmp(close, ")\n{", 3) == 0)
            break;
        s++;
    }
    s = strstr(s, "\n{");
    const char *end = strstr(s, "\n}");
    Buf b = {0};
    for (const char *p = s; p < end; p++) {
        if (p[0] == '/' && p[1] == '*') {
            p = strstr(p, "*/") + 1;
            continue;
        }
        if (p[0] == '#' && (p == s || p[-1] == '\n')) {
            p = strchr(p, '\n');
            continue;
        }
        buf_putn(&b, p, 1);
    }
    return b.data;
}

/* A function's body and, when adgen printed it in chunks, its chunks' (NAME_part1, ...). */
static char *c_body(const char *c, const char *name)
{
    char *body = one_body(c, "ADGEN_FUNC double", name);
    if (!body)
        fail_msg("no definition of %s in the C", name);
    Buf all = {0};
    buf_puts(&all, body);
    free(body);
    for (int k = 1;; k++) {
        char part[128];
        snprintf(part, sizeof part, "%s_part%d", name, k);
        char *more = one_body(c, "static ADGEN_NOINLINE ADGEN_FUNC void", part);
        if (!more)
            break;
        buf_puts(&all, more);
        free(more);
    }
    return all.data;
}

/* "\n    W[": a line storing into the work array of name's chunks, W their last parameter
 * (w, or w_ when the function has an input w); "" if name has no chunks. */
static void work_store(const char *c, const char *name, char *out, size_t size)
{
    char head[128];
    snprintf(head, sizeof head, " %s_part1(", name);
    const char *s = strstr(c, head), *close = s ? strchr(s, ')') : NULL;
    out[0] = '\0';
    if (!close)
        return;
    const char *star = close;
    while (star > s && star[-1] != '*')
        star--;
    snprintf(out, size, "\n    %.*s[", (int)(close - star), star);
}

static int count_str(const char *text, const char *needle)
{
    int n = 0;
    size_t len = strlen(needle);
    for (const char *s = text; (s = strstr(s, needle)) != NULL; s += len)
        n += s == text || !(isalnum((unsigned char)s[-1]) || s[-1] == '_');
    return n;
}

/* Operators of the C text: '+', '*' (not a store through a pointer), '/', '?' and '-' as an
 * operator (not the sign of a number's exponent or of a negative constant). */
static void count_operators(const char *text, int *plus, int *minus, int *star, int *slash,
                            int *question)
{
    *plus = *minus = *star = *slash = *question = 0;
    for (const char *s = text; *s; s++) {
        int in_number = s > text && (s[-1] == 'e' || s[-1] == 'E') && s > text + 1 &&
                        (isdigit((unsigned char)s[-2]) || s[-2] == '.');
        if (*s == '+' && !in_number)
            (*plus)++;
        if (*s == '-' && !in_number && !isdigit((unsigned char)s[1]) && s[1] != '.')
            (*minus)++;
        /* not the '*' of a store through a gradient pointer, which starts a statement */
        const char *before = s;
        while (before > text && before[-1] == ' ')
            before--;
        *star += *s == '*' && before > text && before[-1] != '\n';
        *slash += *s == '/';
        *question += *s == '?';
    }
}

/* The count in the column (1: the function, 2: the gradient) of the report's row. */
static int report_count(const char *section, const char *row, int column)
{
    char want[64];
    snprintf(want, sizeof want, "\n  %s ", row);
    const char *s = strstr(section, want);
    if (!s)
        return 0;
    s += strlen(want);
    long a = strtol(s, (char **)&s, 10), b = strtol(s, NULL, 10);
    return (int)(column == 1 ? a : b);
}

/* Every function of every sample: the operators and calls of its C, and its temporaries. */
static void test_report_counts_match_c(void **state)
{
    (void)state;
    const char *samples[] = {"eq5109", "eq5123", "huber", "logistic", "mlp", "rosenbrock"};
    int functions = 0;
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        char *c = NULL, *report = NULL;
        assert_int_equal(runf(&c, ADGEN_CMD " --no-line samples/%s.expr", samples[i]), 0);
        assert_int_equal(runf(&report, ADGEN_CMD " --report samples/%s.expr", samples[i]), 0);
        /* each function's section starts with "NAME: file:line:col" at a line start */
        for (char *sec = report; sec && *sec;) {
            char *next = strstr(sec, "\n\n");
            if (next)
                *next = '\0';
            char name[64];
            assert_int_equal(sscanf(sec, "%63[^:]:", name), 1);
            char grad_name[80];
            snprintf(grad_name, sizeof grad_name, "%s_grad", name);
            for (int col = 1; col <= 2; col++) {
                char *body = c_body(c, col == 1 ? name : grad_name);
                int plus, minus, star, slash, question;
                count_operators(body, &plus, &minus, &star, &slash, &question);
                assert_int_equal(report_count(sec, "add (+)", col), plus);
                assert_int_equal(report_count(sec, "sub (-)", col) +
                                 report_count(sec, "neg (-)", col), minus);
                assert_int_equal(report_count(sec, "mul (*)", col), star);
                assert_int_equal(report_count(sec, "div (/)", col), slash);
                assert_int_equal(report_count(sec, "if (?:)", col), question);
                const char *calls[][2] = {{"sqrt", "sqrt("}, {"exp", "exp("}, {"cos", "cos("},
                                          {"sin", "sin("}, {"log", "log("}, {"tanh", "tanh("},
                                          {"abs", "fabs("}, {"max", "fmax("}};
                /* the sin and the cos of one value: two locals, one call */
                int pairs = count_str(body, "ADGEN_SIN_COS(");
                for (size_t k = 0; k < sizeof calls / sizeof *calls; k++)
                    assert_int_equal(report_count(sec, calls[k][0], col),
                                     count_str(body, calls[k][1]) +
                                     (k == 2 || k == 3 ? pairs : 0));
                /* locals: values, and tests kept for several selections; in a chunked
                 * body those a later chunk reads live in the work array */
                char work[80];
                work_store(c, col == 1 ? name : grad_name, work, sizeof work);
                assert_int_equal(report_count(sec, "temporaries", col),
                                 count_str(body, "const double ") +
                                 count_str(body, "const int ") +
                                 (work[0] ? count_str(body, work) : 0) + 2 * pairs);
                free(body);
            }
            functions++;
            sec = next ? next + 2 : NULL;
        }
        free(c);
        free(report);
    }
    assert_int_equal(functions, 9);
}

/* eq. 5.109 writes 11 operations (x^2 four times, exp(x^2) and x^2 + exp(x^2) twice each);
 * the book's chain has 6 (eqs. 5.123-5.128): sharing removed 5. */
/* Each entry point asked for, with its sweeps: a sparse one's nonzeros are the header's count,
 * its colours at most its columns (or rows), at least one. */
static void test_report_entry_points(void **state)
{
    (void)state;
    char *report = NULL, *header = NULL;
    assert_int_equal(runf(&report, ADGEN_CMD " --report --emit=jac-sparse,hess-sparse "
                                   "samples/hs071.expr"), 0);
    assert_int_equal(runf(&header, ADGEN_CMD " --emit=jac-sparse,hess-sparse samples/hs071.expr "
                                   "-o /dev/null --header=/dev/stdout"), 0);
    static const char *const macros[] = {"G_JAC_SPARSE_NNZ ", "LAG_HESS_SPARSE_NNZ "};
    static const char *const rows[] = {"\ng: ", "\nlag: "};
    static const char *const entries[] = {"  jac-sparse ", "  hess-sparse "};
    static const int lines[] = {2, 4}; /* g's 2 rows, lag's 4 columns */
    for (int i = 0; i < 2; i++) {
        const char *m = strstr(header, macros[i]);
        assert_non_null(m);
        long nnz = strtol(m + strlen(macros[i]), NULL, 10);
        const char *at = strstr(report, rows[i]);
        assert_non_null(at);
        at = strstr(at, entries[i]);
        assert_non_null(at);
        long ops, colours, got;
        assert_int_equal(sscanf(at + strlen(entries[i]), "%ld %ld", &ops, &colours), 2);
        assert_true(colours >= 1 && colours <= lines[i]);
        const char *nz = strstr(at, "), ");
        assert_non_null(nz);
        got = strtol(nz + 3, NULL, 10);
        assert_int_equal(got, nnz);
        assert_true(ops > 0);
    }
    free(report);
    free(header);
}

static void test_report_sharing(void **state)
{
    (void)state;
    char *report = NULL;
    assert_int_equal(runf(&report, ADGEN_CMD " --report samples/eq5109.expr"), 0);
    assert_contains(report, "sharing: 5 operations");
    assert_int_equal(report_count(report, "all", 1), 6);
    free(report);
}

/* The column of needle's first occurrence at or after `from` in line `line` of text. */
static int column_of(const char *text, int line, const char *needle, int from)
{
    const char *s = text;
    for (int l = 1; l < line; l++)
        s = strchr(s, '\n') + 1;
    const char *hit = strstr(s + from - 1, needle);
    const char *eol = strchr(s, '\n');
    if (!hit || (eol && hit > eol))
        fail_msg("no '%s' on line %d", needle, line);
    return (int)(hit - s) + 1;
}

static void test_report_domain_notes(void **state)
{
    (void)state;
    const char *src =
        "g(x, y; k) {\n"
        "    u = sqrt(x) + log(y) + abs(x - 1)\n"
        "    v = if(x > y, x^y, min(x, y)) + max(x, k) + pow(y, 0.3)\n"
        "    w = x / y + k / 2 + sqrt(k)\n"
        "    return u + v + w\n"
        "}\n";
    spit(OUT "/notes.expr", src);
    char *report = NULL;
    assert_int_equal(runf(&report, ADGEN_CMD " --report " OUT "/notes.expr"), 0);
    struct { int line; const char *at; int from; const char *says; } notes[] = {
        {2, "sqrt(", 1, "sqrt: derivative infinite where its argument is 0"},
        {2, "log(", 1, "log: undefined where its argument is <= 0"},
        {2, "abs(", 1, "abs: kink at 0"},
        {3, "if(", 1, "if: branch switch"},
        {3, "x^y", 1, "pow with a variable base"},
        {3, "min(", 1, "min: kink where its operands are equal"},
        {3, "max(", 1, "max: kink"},
        {3, "pow(", 1, "power of a variable base"},
        {4, "x / y", 1, "division: unbounded where the divisor is 0"},
    };
    int expected = 0;
    for (size_t i = 0; i < sizeof notes / sizeof *notes; i++) {
        char want[256];
        snprintf(want, sizeof want, OUT "/notes.expr:%d:%d: note: %s", notes[i].line,
                 notes[i].line == 4 ? column_of(src, 4, notes[i].at, 1) :
                 column_of(src, notes[i].line, notes[i].at, notes[i].from), notes[i].says);
        assert_contains(report, want);
        expected++;
    }
    /* one line per place; k is data, so sqrt(k) and k / 2 have none */
    int lines = 0;
    for (const char *s = report; (s = strstr(s, ": note: ")) != NULL; s++)
        lines++;
    assert_int_equal(lines, expected);
    free(report);
}

/* ---- usage ------------------------------------------------------------------------------------ */

static void test_explain_usage_errors(void **state)
{
    (void)state;
    assert_int_equal(runf(NULL, ADGEN_CMD " --dot --report samples/eq5109.expr 2>/dev/null"),
                     2);
    assert_int_equal(runf(NULL, ADGEN_CMD " --dot=forward samples/eq5109.expr 2>/dev/null"), 2);
    assert_int_equal(runf(NULL, ADGEN_CMD " --explain=html samples/eq5109.expr 2>/dev/null"),
                     2);
    assert_int_equal(runf(NULL, ADGEN_CMD " --explain -o " OUT "/x samples/eq5109.expr "
                                          "2>/dev/null"), 2);
    assert_false(exists(OUT "/x"));
    /* an input error is located, exit 1 */
    char *err = NULL;
    assert_int_equal(runf(&err, "echo 'f(x) = sine(x)' | " ADGEN_CMD " --explain - 2>&1"), 1);
    assert_contains(err, "<stdin>:1:8: error: unknown function 'sine'");
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_explain_eq5123_book),
        cmocka_unit_test(test_explain_eq5109_book),
        cmocka_unit_test(test_explain_latex),
        cmocka_unit_test(test_dot_book_graph),
        cmocka_unit_test(test_dot_network_collapsed),
        cmocka_unit_test(test_dot_kept_loops),
        cmocka_unit_test(test_explain_kept_sum),
        cmocka_unit_test(test_explain_kept_recurrence),
        cmocka_unit_test(test_explain_several_values),
        cmocka_unit_test(test_report_counts_match_c),
        cmocka_unit_test(test_report_sharing),
        cmocka_unit_test(test_report_entry_points),
        cmocka_unit_test(test_report_domain_notes),
        cmocka_unit_test(test_explain_usage_errors),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
