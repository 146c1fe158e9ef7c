/*
 * test_modes.c: every entry point of --emit=all, checked through the compiled C. Programs (the
 * samples, vector-result models written here, and random programs of tests/gen.h) are
 * compiled with --emit=all into one C file, which must compile warning-free with gcc and
 * clang at -std=c99 -pedantic -Werror, and linked with a driver that calls every entry point
 * of every function at random points and directions and checks, in C:
 *   - each entry's value is the value function's, bit for bit;
 *   - jvp = J v and vjp = J^T u against the dense Jacobian, and <u, J v> = <J^T u, v>;
 *   - a scalar's gradient is its Jacobian's row, and <grad, v> = jvp(v);
 *   - the sparse entries equal the dense ones, and every entry outside the pattern is
 *     exactly zero in the dense matrix;
 *   - the Hessian is symmetric, hvp(v) = H v;
 *   - the Jacobian against central differences of the value function, the Hessian against
 *     central differences of the gradient (where one-sided differences agree: no kink within
 *     the step), the independent route;
 *   - the batched variants (value-batch, grad-batch, jvp-batch, vjp-batch) at 5 points, in
 *     their structure-of-arrays layout, against the one-point entry points at each point, bit
 *     for bit, and called at 0 points.
 * ADGEN_MODES_N random programs (default 20) from seed ADGEN_MODES_SEED (default 1).
 */
#include "testutil.h"

#include "coverage.h"
#include "gen.h"

#include <sys/stat.h>

#define OUT "build/tests/modes"
#define GCC "gcc -std=c99 -O0 -Wall -Wextra -pedantic -Werror"
#define CLANG "clang -std=c99 -Wall -Wextra -pedantic -Werror -fsyntax-only"

/* Vector results and sparse structure the samples lack. */
static const char vector_models[] =
    "# an exponential fit's residuals (Levenberg-Marquardt's Jacobian), data after ';'\n"
    "resid(p[2]; t[4], y[4]) {\n"
    "    for i = 0..3 { e[i] = p[0]*exp(p[1]*t[i]) - y[i] }\n"
    "    return e\n"
    "}\n"
    "lst(x[3]) = [x[0]*x[1], x[1]^2 + x[2], sin(x[2]), x[0]]\n"
    "# fewer values than inputs (reverse sweeps), banded\n"
    "band(x[6]) {\n"
    "    for i = 0..4 { c[i] = x[i+1] - x[i]^2 }\n"
    "    return c\n"
    "}\n"
    "# more values than inputs (forward sweeps)\n"
    "wide(x[2]) {\n"
    "    for i = 0..6 { w[i] = x[0]*i + x[1]^2*sin(i*x[0]) }\n"
    "    return w\n"
    "}\n"
    "mixed(a, b[2]; d) = [a*b[0], b[1]/(d*d + 1), a, 3]\n"
    "# bodies past LARGE_BODY nodes, printed in chunks with a work array\n"
    "chain(x0, h) {\n"
    "    s[0] = x0\n"
    "    for k = 0..149 { s[k+1] = s[k] + h*sin(s[k])*cos(s[k] + 0.3) }\n"
    "    return s[150]\n"
    "}\n"
    "many(x[4]) {\n"
    "    for i = 0..199 { v[i] = x[0]*sin(i*x[1]/200) + x[2]^2*cos(i*x[3]/200) }\n"
    "    return v\n"
    "}\n"
    "# the extended Rosenbrock function: a tridiagonal Hessian\n"
    "ext(x[8]) = sum(i = 0..6, 100*(x[i+1] - x[i]^2)^2 + (1 - x[i])^2)\n"
    "sep(x[4], y) = sum(i = 0..3, exp(x[i]/4)) + y^3 + x[0]*y\n"
    "noinput() = 2\n"
    "linear(x[3]) = x[0] - 2*x[1] + x[2]/4\n";

/* The checks, in C: the same for every function, through wrappers of one signature. */
static const char driver_checks[] =
    "#include <math.h>\n#include <stdio.h>\n#include <string.h>\n\n"
    "enum { NI = 64, NO = 1024 }; /* inputs and values a checked function has at most */\n"
    "typedef struct {\n"
    "    const char *name;\n"
    "    int n, nd, m, vec;\n"
    "    const int *diff;\n"
    "    double (*val)(const double *, double *);\n"
    "    double (*grad)(const double *, double *);\n"
    "    double (*jvp)(const double *, const double *, double *, double *);\n"
    "    double (*vjp)(const double *, const double *, double *, double *);\n"
    "    double (*jac)(const double *, double *, double *);\n"
    "    double (*jacs)(const double *, double *, double *);\n"
    "    int jnnz;\n    const int *jrow, *jcol;\n"
    "    double (*hvp)(const double *, const double *, double *);\n"
    "    double (*hess)(const double *, double *);\n"
    "    double (*hesss)(const double *, double *);\n"
    "    int hnnz;\n    const int *hrow, *hcol;\n"
    "    void (*bval)(long, const double *, double *);\n"
    "    void (*bgrad)(long, const double *, double *, double *);\n"
    "    void (*bjvp)(long, const double *, const double *, double *, double *);\n"
    "    void (*bvjp)(long, const double *, const double *, double *, double *);\n"
    "} Fn;\n\n"
    "static long n_checks, n_fd, n_fail;\n"
    "static unsigned long long rng = 88172645463325252ull;\n"
    "static double uniform(double lo, double hi)\n{\n"
    "    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;\n"
    "    return lo + (hi - lo) * (double)(rng >> 11) / 9007199254740992.0;\n}\n"
    "static void fail(const Fn *f, const char *what, int i, int j, double got, double want)\n{\n"
    "    if (n_fail++ < 20)\n"
    "        printf(\"FAIL %s: %s (%d, %d): %.17g, expected %.17g\\n\", f->name, what, i, j,\n"
    "               got, want);\n}\n"
    "static int same(double a, double b) { return a == b || (isnan(a) && isnan(b)); }\n"
    "static void exact(const Fn *f, const char *what, int i, int j, double got, double want)\n{\n"
    "    n_checks++;\n    if (!same(got, want))\n        fail(f, what, i, j, got, want);\n}\n"
    "/* got = the sum whose terms' magnitudes add up to scale, to rounding */\n"
    "static void near(const Fn *f, const char *what, int i, int j, double got, double want,\n"
    "                 double scale)\n{\n"
    "    if (!isfinite(got) || !isfinite(want) || !isfinite(scale))\n        return;\n"
    "    /* below 1e-150 products of intermediates underflow differently in the two modes */\n"
    "    if (fabs(got) < 1e-150 && fabs(want) < 1e-150)\n        return;\n"
    "    n_checks++;\n"
    "    if (fabs(got - want) > 1e-9 * scale + 1e-300)\n        fail(f, what, i, j, got, want);\n}\n"
    "/* a derivative against central differences of g along input slot s, where the one-sided\n"
    " * differences agree (no kink or branch within the step) and halving the step changes\n"
    " * the central one little (its truncation error is small) */\n"
    "static void fd(const Fn *f, const char *what, int i, int j, double d, double *x, int s,\n"
    "               double (*g)(const Fn *, const double *, int), int row)\n{\n"
    "    double h = 1e-5 * (fabs(x[s]) > 1 ? fabs(x[s]) : 1), x0 = x[s];\n"
    "    double g0 = g(f, x, row);\n"
    "    x[s] = x0 + h; double gp = g(f, x, row);\n"
    "    x[s] = x0 - h; double gm = g(f, x, row);\n"
    "    x[s] = x0 + h / 2; double gp2 = g(f, x, row);\n"
    "    x[s] = x0 - h / 2; double gm2 = g(f, x, row);\n"
    "    x[s] = x0;\n"
    "    double c = (gp2 - gm2) / h, c1 = (gp - gm) / (2 * h), fw = (gp - g0) / h,\n"
    "           bw = (g0 - gm) / h;\n"
    "    if (!isfinite(c) || !isfinite(c1) || !isfinite(d) || !isfinite(fw) || !isfinite(bw))\n"
    "        return;\n"
    "    if (fabs(c - c1) > 1e-6 * (fabs(c) + fabs(c1)) + 1e-8 * (fabs(g0) + 1))\n        return;\n"
    "    double mag = fabs(fw) + fabs(bw) + fabs(g0) * 1e-3 + 1e-6;\n"
    "    if (fabs(fw - bw) > 1e-3 * mag)\n        return;\n"
    "    n_fd++;\n"
    "    if (fabs(c - d) > 1e-5 * (fabs(c) + fabs(d)) + 1e-7 * (fabs(g0) + 1))\n"
    "        fail(f, what, i, j, d, c);\n}\n"
    "static double value_i(const Fn *f, const double *x, int i)\n{\n"
    "    static double out[NO];\n    f->val(x, out);\n    return out[i];\n}\n"
    "static double grad_i(const Fn *f, const double *x, int i)\n{\n"
    "    double g[NI];\n    f->grad(x, g);\n    return g[i];\n}\n"
    "static void check(const Fn *f)\n{\n"
    "    double x[NI], v[NI], g[NI], g2[NI], hv[NI];\n"
    "    static double u[NO], out[NO], o2[NO], jv[NO], J[NO * NI], H[NI * NI], nz[NO * NI];\n"
    "    for (int point = 0; point < 3; point++) {\n"
    "        int m = f->m, nd = f->nd;\n"
    "        for (int s = 0; s < f->n; s++)\n            x[s] = uniform(-1.5, 1.5);\n"
    "        for (int j = 0; j < nd; j++)\n            v[j] = uniform(-1, 1);\n"
    "        for (int i = 0; i < m; i++)\n            u[i] = uniform(-1, 1);\n"
    "        double y = f->val(x, out);\n"
    "        f->jac(x, o2, J);\n"
    "        for (int i = 0; i < m; i++)\n            exact(f, \"jac value\", i, 0, o2[i], out[i]);\n"
    "        /* forward mode against the Jacobian's rows */\n"
    "        f->jvp(x, v, o2, jv);\n"
    "        for (int i = 0; i < m; i++) {\n"
    "            double s = 0, scale = 0;\n"
    "            for (int j = 0; j < nd; j++) {\n"
    "                s += J[i * nd + j] * v[j];\n                scale += fabs(J[i * nd + j] * v[j]);\n"
    "            }\n"
    "            exact(f, \"jvp value\", i, 0, o2[i], out[i]);\n"
    "            near(f, \"jvp = J v\", i, 0, jv[i], s, scale);\n"
    "        }\n"
    "        /* reverse mode against its columns, and the two against each other */\n"
    "        f->vjp(x, u, o2, g);\n"
    "        double ujv = 0, gv = 0, scale2 = 0;\n"
    "        for (int j = 0; j < nd; j++) {\n"
    "            double s = 0, scale = 0;\n"
    "            for (int i = 0; i < m; i++) {\n"
    "                s += u[i] * J[i * nd + j];\n                scale += fabs(u[i] * J[i * nd + j]);\n"
    "            }\n"
    "            near(f, \"vjp = J^T u\", 0, j, g[j], s, scale);\n"
    "            gv += g[j] * v[j];\n            scale2 += fabs(g[j] * v[j]);\n"
    "        }\n"
    "        for (int i = 0; i < m; i++) {\n"
    "            exact(f, \"vjp value\", i, 0, o2[i], out[i]);\n"
    "            ujv += u[i] * jv[i];\n            scale2 += fabs(u[i] * jv[i]);\n"
    "        }\n"
    "        near(f, \"<u, J v> = <J^T u, v>\", 0, 0, ujv, gv, scale2);\n"
    "        /* the sparse Jacobian: its pattern holds every nonzero */\n"
    "        f->jacs(x, o2, nz);\n"
    "        static char in[NO * NI];\n"
    "        memset(in, 0, sizeof in);\n"
    "        for (int k = 0; k < f->jnnz; k++) {\n"
    "            exact(f, \"jac_sparse\", f->jrow[k], f->jcol[k], nz[k],\n"
    "                  J[f->jrow[k] * nd + f->jcol[k]]);\n"
    "            in[f->jrow[k] * nd + f->jcol[k]] = 1;\n"
    "        }\n"
    "        for (int k = 0; k < m * nd; k++)\n"
    "            if (!in[k])\n                exact(f, \"jac outside the pattern\", k / nd, k % nd,\n"
    "                                      J[k] == 0 ? 0.0 : J[k], 0.0);\n"
    "        /* the Jacobian against central differences of the values */\n"
    "        for (int i = 0; i < m; i++)\n"
    "            for (int j = 0; j < nd; j++)\n"
    "                fd(f, \"jac by differences\", i, j, J[i * nd + j], x, f->diff[j], value_i, i);\n"
    "        if (f->vec)\n            continue;\n"
    "        /* a scalar: its gradient, Hessian and their products */\n"
    "        exact(f, \"grad value\", 0, 0, f->grad(x, g2), y);\n"
    "        double dot = 0, scale = 0;\n"
    "        for (int j = 0; j < nd; j++) {\n"
    "            exact(f, \"grad = jac\", 0, j, g2[j], J[j]);\n"
    "            dot += g2[j] * v[j];\n            scale += fabs(g2[j] * v[j]);\n"
    "        }\n"
    "        near(f, \"<grad, v> = jvp(v)\", 0, 0, jv[0], dot, scale);\n"
    "        exact(f, \"hess value\", 0, 0, f->hess(x, H), y);\n"
    "        exact(f, \"hvp value\", 0, 0, f->hvp(x, v, hv), y);\n"
    "        exact(f, \"hess_sparse value\", 0, 0, f->hesss(x, nz), y);\n"
    "        memset(in, 0, sizeof in);\n"
    "        for (int k = 0; k < f->hnnz; k++) {\n"
    "            int i = f->hrow[k], j = f->hcol[k];\n"
    "            if (j > i)\n                fail(f, \"hess_sparse above the diagonal\", i, j, 0, 0);\n"
    "            exact(f, \"hess_sparse\", i, j, nz[k], H[i * nd + j]);\n"
    "            in[i * nd + j] = in[j * nd + i] = 1;\n"
    "        }\n"
    "        for (int i = 0; i < nd; i++) {\n"
    "            double s = 0, sc = 0;\n"
    "            for (int j = 0; j < nd; j++) {\n"
    "                exact(f, \"hess symmetric\", i, j, H[i * nd + j], H[j * nd + i]);\n"
    "                if (!in[i * nd + j])\n"
    "                    exact(f, \"hess outside the pattern\", i, j,\n"
    "                          H[i * nd + j] == 0 ? 0.0 : H[i * nd + j], 0.0);\n"
    "                s += H[i * nd + j] * v[j];\n                sc += fabs(H[i * nd + j] * v[j]);\n"
    "                fd(f, \"hess by differences\", i, j, H[i * nd + j], x, f->diff[j], grad_i, i);\n"
    "            }\n"
    "            near(f, \"hvp = H v\", i, 0, hv[i], s, sc);\n"
    "        }\n"
    "    }\n"
    "}\n\n"
    "/* the batched variants at K points: element s of point p at [s * K + p] */\n"
    "static void check_batch(const Fn *f)\n{\n"
    "    enum { K = 5 };\n"
    "    static double X[NI * K], V[NI * K], U[NO * K], O[NO * K], G[NI * K], JV[NO * K];\n"
    "    double x[NI], v[NI], g[NI];\n"
    "    static double u[NO], out[NO], jv[NO];\n"
    "    int m = f->m, nd = f->nd;\n"
    "    for (int p = 0; p < K; p++) {\n"
    "        for (int s = 0; s < f->n; s++)\n            X[s * K + p] = uniform(-1.5, 1.5);\n"
    "        for (int j = 0; j < nd; j++)\n            V[j * K + p] = uniform(-1, 1);\n"
    "        for (int i = 0; i < m; i++)\n            U[i * K + p] = uniform(-1, 1);\n"
    "    }\n"
    "    O[0] = 7;\n"
    "    f->bval(0, X, O);\n"
    "    exact(f, \"value-batch at 0 points\", 0, 0, O[0], 7);\n"
    "    for (int pass = 0; pass < 4; pass++) {\n"
    "        if (pass == 0)\n            f->bval(K, X, O);\n"
    "        else if (pass == 1 && f->bgrad)\n            f->bgrad(K, X, O, G);\n"
    "        else if (pass == 2)\n            f->bjvp(K, X, V, O, JV);\n"
    "        else if (pass == 3)\n            f->bvjp(K, X, U, O, G);\n"
    "        else\n            continue;\n"
    "        static const char *const what[] = {\"value-batch\", \"grad-batch\", \"jvp-batch\",\n"
    "                                           \"vjp-batch\"};\n"
    "        for (int p = 0; p < K; p++) {\n"
    "            for (int s = 0; s < f->n; s++)\n                x[s] = X[s * K + p];\n"
    "            for (int j = 0; j < nd; j++)\n                v[j] = V[j * K + p];\n"
    "            for (int i = 0; i < m; i++)\n                u[i] = U[i * K + p];\n"
    "            if (pass == 0)\n                f->val(x, out);\n"
    "            else if (pass == 1)\n                out[0] = f->grad(x, g);\n"
    "            else if (pass == 2)\n                f->jvp(x, v, out, jv);\n"
    "            else\n                f->vjp(x, u, out, g);\n"
    "            for (int i = 0; i < m; i++) {\n"
    "                exact(f, what[pass], p, i, O[i * K + p], out[i]);\n"
    "                if (pass == 2)\n                    exact(f, what[pass], p, i, JV[i * K + p], jv[i]);\n"
    "            }\n"
    "            for (int j = 0; (pass == 1 || pass == 3) && j < nd; j++)\n"
    "                exact(f, what[pass], p, j, G[j * K + p], g[j]);\n"
    "        }\n"
    "    }\n"
    "}\n\n";

typedef struct {
    Buf text;          /* the program */
    Buf c_text, h_text;
    Unit unit;
} Prog;

static void prog_init(Prog *p, const char *text, const char *prefix)
{
    memset(p, 0, sizeof *p);
    buf_puts(&p->text, text);
    EmitOptions opt = {.compile.emit = EMIT_ALL | ENTRIES_BATCH, .prefix = prefix,
                       .header_name = "modes.h"};
    char *messages = NULL;
    size_t mlen = 0;
    FILE *m = open_memstream(&messages, &mlen);
    int errors = compile_source("prog.expr", p->text.data, p->text.len, "prog", &opt, m,
                                &p->c_text, &p->h_text);
    p->unit.opt.emit = EMIT_ALL | ENTRIES_BATCH;
    errors += unit_compile(&p->unit, "prog.expr", p->text.data, p->text.len, "prog", m);
    fclose(m);
    if (errors)
        fail_msg("adgen rejected a program:\n%s\n%s", messages, text);
    free(messages);
}

static void prog_free(Prog *p)
{
    unit_free(&p->unit);
    buf_free(&p->text);
    buf_free(&p->c_text);
    buf_free(&p->h_text);
}

/* The n-th name the header declares after `kind` ("double ", "void " or "extern const int ",
 * after ADGEN_FUNC for a function),
 * reading from *at on; NULL when there is none. */
static char *next_name(const char **at, int array)
{
    for (const char *line = *at; line && *line; line = strchr(line, '\n'), line += !!line) {
        const char *name = NULL;
        if (strncmp(line, "ADGEN_FUNC ", 11) == 0)
            line += 11;
        if (!array && strncmp(line, "double ", 7) == 0)
            name = line + 7;
        else if (!array && strncmp(line, "void ", 5) == 0)
            name = line + 5;
        else if (array && strncmp(line, "extern const int ", 17) == 0)
            name = line + 17;
        if (!name)
            continue;
        size_t n = strcspn(name, array ? "[" : "(");
        *at = name + n;
        return strndup(name, n);
    }
    return NULL;
}

/* The inputs, from x: a scalar its slot, an array a pointer to its first. */
static void put_inputs(Buf *b, const Func *f)
{
    for (int k = 0; k < f->nparams; k++)
        if (f->params[k].rank)
            arg(b, "x + %u", f->params[k].first);
        else
            arg(b, "x[%u]", f->params[k].first);
}

/* The inputs of a batched variant from X (slot s of point p at X[s * k + p]): pointers. */
static void put_batch_inputs(Buf *b, const Func *f)
{
    for (int k = 0; k < f->nparams; k++)
        arg(b, "X + %u * k", f->params[k].first);
}

/* Per differentiated input, from `base` indexed by differentiated scalar, of k points. */
static void put_batch_per_diff(Buf *b, const Func *f, const char *base)
{
    uint32_t o = 0;
    for (int k = 0; k < f->nparams; k++) {
        if (f->params[k].kind != PARAM_DIFF)
            continue;
        arg(b, "%s + %u * k", base, o);
        o += f->params[k].size;
    }
}

/* Per differentiated input, from the array `base` indexed by differentiated scalar: a
 * scalar's element (`value`) or address, an array's pointer. */
static void put_per_diff(Buf *b, const Func *f, const char *base, int value)
{
    uint32_t o = 0;
    for (int k = 0; k < f->nparams; k++) {
        const Param *pa = &f->params[k];
        if (pa->kind != PARAM_DIFF)
            continue;
        if (pa->rank)
            arg(b, "%s + %u", base, o);
        else
            arg(b, value ? "%s[%u]" : "&%s[%u]", base, o);
        o += pa->size;
    }
}

/* Wrappers of one signature around a function's entry points, and its Fn. */
static void put_function(Buf *drv, const Func *f, const char *id, const char **at_fn,
                         const char **at_arr)
{
    char *fn[ENTRY_KINDS] = {0}, *arr[4] = {0};
    for (int k = 0; k < ENTRY_KINDS; k++)
        if (f->entries & 1u << k)
            assert_non_null(fn[k] = next_name(at_fn, 0));
    for (int k = 0; k < (f->vector ? 2 : 4); k++)
        assert_non_null(arr[k] = next_name(at_arr, 1));
    int vec = f->vector, scalar = !vec;
    Buf c = {0};
    buf_putn(&c, "", 0);
    put_inputs(&c, f);
    if (vec)
        arg(&c, "out");
    /* a vector's entry points are void: its wrappers return 0 */
    buf_printf(drv, "static double %s_val(const double *x, double *out)\n{\n    (void)x;\n", id);
    if (vec)
        buf_printf(drv, "    %s(%s);\n    return 0;\n}\n", fn[ENTRY_VALUE], c.data);
    else
        buf_printf(drv, "    return out[0] = %s(%s);\n}\n", fn[ENTRY_VALUE], c.data);
    /* the others: a vector's through a void function, so they are wrapped as statements */
    struct {
        EntryKind k;
        const char *what, *params;
    } w[] = {
        {ENTRY_JVP, "jvp", "const double *x, const double *v, double *out, double *jv"},
        {ENTRY_VJP, "vjp", "const double *x, const double *u, double *out, double *g"},
        {ENTRY_JAC, "jac", "const double *x, double *out, double *J"},
        {ENTRY_JAC_SPARSE, "jacs", "const double *x, double *out, double *nz"},
        {ENTRY_GRAD, "grad", "const double *x, double *g"},
        {ENTRY_HVP, "hvp", "const double *x, const double *v, double *hv"},
        {ENTRY_HESS, "hess", "const double *x, double *H"},
        {ENTRY_HESS_SPARSE, "hesss", "const double *x, double *nz"},
    };
    for (size_t i = 0; i < sizeof w / sizeof *w; i++) {
        if (!fn[w[i].k])
            continue;
        c.len = 0;
        c.data[0] = 0;
        put_inputs(&c, f);
        switch (w[i].k) {
        case ENTRY_JVP: put_per_diff(&c, f, "v", 1); arg(&c, vec ? "out, jv" : "jv"); break;
        case ENTRY_VJP: arg(&c, vec ? "u, out" : "u[0]"); put_per_diff(&c, f, "g", 0); break;
        case ENTRY_JAC: arg(&c, vec ? "out, J" : "J"); break;
        case ENTRY_JAC_SPARSE: arg(&c, vec ? "out, nz" : "nz"); break;
        case ENTRY_GRAD: put_per_diff(&c, f, "g", 0); break;
        case ENTRY_HVP: put_per_diff(&c, f, "v", 1); put_per_diff(&c, f, "hv", 0); break;
        case ENTRY_HESS: arg(&c, "H"); break;
        case ENTRY_HESS_SPARSE: arg(&c, "nz"); break;
        case ENTRY_VALUE: case ENTRY_GRAD_CKP: case ENTRY_VJP_CKP: case ENTRY_VALUE_BATCH:
        case ENTRY_GRAD_BATCH: case ENTRY_JVP_BATCH: case ENTRY_VJP_BATCH: case ENTRY_KINDS:
            break;
        }
        buf_printf(drv, "static double %s_%s(%s)\n{\n", id, w[i].what, w[i].params);
        /* every parameter is used or voided: (void) them all */
        for (const char *p = w[i].params; (p = strchr(p, '*')) != NULL; p++)
            buf_printf(drv, "    (void)%.*s;\n", (int)strcspn(p + 1, ","), p + 1);
        if (vec)
            buf_printf(drv, "    %s(%s);\n    return 0;\n}\n", fn[w[i].k], c.data);
        else
            buf_printf(drv, "    return %s%s(%s);\n}\n",
                       strstr(w[i].params, "double *out") ? "out[0] = " : "", fn[w[i].k],
                       c.data);
    }
    /* the batched variants, of one signature too */
    struct {
        EntryKind k;
        const char *what, *params;
    } bw[] = {
        {ENTRY_VALUE_BATCH, "bval", "long k, const double *X, double *O"},
        {ENTRY_GRAD_BATCH, "bgrad", "long k, const double *X, double *O, double *G"},
        {ENTRY_JVP_BATCH, "bjvp", "long k, const double *X, const double *V, double *O, double *JV"},
        {ENTRY_VJP_BATCH, "bvjp", "long k, const double *X, const double *U, double *O, double *G"},
    };
    for (size_t i = 0; i < sizeof bw / sizeof *bw; i++) {
        if (!fn[bw[i].k])
            continue;
        c.len = 0;
        c.data[0] = 0;
        arg(&c, "k");
        put_batch_inputs(&c, f);
        if (bw[i].k == ENTRY_JVP_BATCH)
            put_batch_per_diff(&c, f, "V");
        if (bw[i].k == ENTRY_VJP_BATCH)
            arg(&c, "U");
        arg(&c, bw[i].k == ENTRY_JVP_BATCH ? "O, JV" : "O");
        if (bw[i].k == ENTRY_GRAD_BATCH || bw[i].k == ENTRY_VJP_BATCH)
            put_batch_per_diff(&c, f, "G");
        buf_printf(drv, "static void %s_%s(%s)\n{\n", id, bw[i].what, bw[i].params);
        for (const char *p = bw[i].params; (p = strchr(p, '*')) != NULL; p++)
            buf_printf(drv, "    (void)%.*s;\n", (int)strcspn(p + 1, ","), p + 1);
        buf_printf(drv, "    %s(%s);\n}\n", fn[bw[i].k], c.data);
    }
    buf_printf(drv, "static const int %s_diff[] = {", id);
    for (uint32_t k = 0; k < f->ndiff || k == 0; k++)
        buf_printf(drv, "%s%u", k ? ", " : "", f->ndiff ? f->diff[k] : 0);
    buf_printf(drv, "};\nstatic const Fn %s_fn = {\"%s\", %u, %u, %d, %d, %s_diff, %s_val, ",
               id, fn[ENTRY_VALUE], f->ninputs, f->ndiff, f->nroots, vec, id, id);
    if (scalar)
        buf_printf(drv, "%s_grad, ", id);
    else
        buf_puts(drv, "0, ");
    buf_printf(drv, "%s_jvp, %s_vjp, %s_jac, %s_jacs, %u, %s, %s, ", id, id, id, id,
               f->mode[ENTRY_JAC].sparse.nnz, arr[0], arr[1]);
    if (scalar)
        buf_printf(drv, "%s_hvp, %s_hess, %s_hesss, %u, %s, %s, ", id, id, id,
                   f->mode[ENTRY_HESS].sparse.nnz, arr[2], arr[3]);
    else
        buf_puts(drv, "0, 0, 0, 0, 0, 0, ");
    buf_printf(drv, "%s_bval, ", id);
    if (scalar)
        buf_printf(drv, "%s_bgrad, ", id);
    else
        buf_puts(drv, "0, ");
    buf_printf(drv, "%s_bjvp, %s_bvjp};\n", id, id);
    buf_free(&c);
    for (int k = 0; k < ENTRY_KINDS; k++)
        free(fn[k]);
    for (int k = 0; k < 4; k++)
        free(arr[k]);
}

/* Compiles the programs into one C file with a driver, runs it; returns its output. */
static char *run_programs(Prog *progs, int n, const char *stem)
{
    Buf src = {0}, drv = {0};
    buf_puts(&drv, driver_checks);
    Buf calls = {0};
    buf_putn(&calls, "", 0);
    for (int i = 0; i < n; i++) {
        buf_puts(&src, progs[i].c_text.data);
        /* the header's declarations, without its include guard's #endif trouble: whole */
        buf_puts(&drv, progs[i].h_text.data);
        const char *at_fn = progs[i].h_text.data, *at_arr = progs[i].h_text.data;
        const Program *prog = &progs[i].unit.prog;
        for (int j = 0; j < prog->nfuncs; j++) {
            const Func *f = &prog->funcs[j];
            if (f->ninputs > 64 || f->nroots > 1024)
                continue; /* the driver's arrays */
            char id[32];
            snprintf(id, sizeof id, "w%d_%d", i, j);
            put_function(&drv, f, id, &at_fn, &at_arr);
            buf_printf(&calls, "    check(&%s_fn);\n    check_batch(&%s_fn);\n", id, id);
        }
    }
    buf_printf(&drv, "\nint main(void)\n{\n%s    printf(\"checks %%ld differences %%ld "
                     "failures %%ld\\n\", n_checks, n_fd, n_fail);\n    return n_fail != 0;\n}\n",
               calls.data);
    mkdir("build/tests", 0777);
    mkdir(OUT, 0777);
    char c_path[128], main_path[128], cmd[512], *log = NULL;
    snprintf(c_path, sizeof c_path, OUT "/%s.c", stem);
    spit(c_path, src.data);
    snprintf(main_path, sizeof main_path, OUT "/%s_main.c", stem);
    spit(main_path, drv.data);
    snprintf(cmd, sizeof cmd, "cd " OUT " && " GCC " -o %s %s.c %s_main.c -lm 2>&1 && " CLANG
             " %s.c 2>&1 && ./%s 2>&1", stem, stem, stem, stem, stem);
    /* the second pass of make test has the first's C: not built again */
    const char *inputs[] = {c_path, main_path, NULL}, *made[] = {NULL};
    int rc = run_cached(&log, cmd, inputs, made);
    if (rc != 0)
        fail_msg("%s: status %d\n%s", stem, rc, log);
    buf_free(&src);
    buf_free(&drv);
    buf_free(&calls);
    return log;
}

static void test_modes_samples_and_vector_models(void **state)
{
    (void)state;
    static const char *const samples[] = {
        "samples/eq5109.expr", "samples/eq5123.expr", "samples/huber.expr",
        "samples/logistic.expr", "samples/mlp.expr", "samples/rosenbrock.expr",
    };
    enum { NS = sizeof samples / sizeof *samples };
    Prog progs[NS + 1];
    char prefix[16];
    for (int i = 0; i < NS; i++) {
        char *text = read_file(samples[i]);
        snprintf(prefix, sizeof prefix, "s%d_", i);
        prog_init(&progs[i], text, prefix);
        free(text);
    }
    prog_init(&progs[NS], vector_models, "v_");
    char *log = run_programs(progs, NS + 1, "samples");
    printf("%s", log);
    assert_int_equal(count_after(log, "failures "), 0);
    assert_true(count_after(log, "checks ") > 2000);
    assert_true(count_after(log, "differences ") > 500);
    free(log);
    for (int i = 0; i <= NS; i++)
        prog_free(&progs[i]);
}

/* Vector results over a random program: per function of scalar inputs, a definition that
 * returns a list of calls of it (the inputs reversed, combined), so that every mode of a
 * vector result meets the generator's expressions, not only the models above. */
static void append_vector_results(Buf *text)
{
    Compiled c;
    if (compile_string(&c, text->data, 0) != 0)
        fail_msg("a generated program does not compile:\n%s", text->data);
    Buf more = {0};
    for (int i = 0; i < c.prog.nfuncs; i++) {
        const Func *f = &c.prog.funcs[i];
        int scalar = f->nparams > 0 && !f->vector && !f->def->bare &&
                     !gen_is_language_function(f->name);
        for (int p = 0; p < f->nparams; p++)
            scalar = scalar && f->params[p].rank == 0;
        if (!scalar)
            continue;
        Buf args = {0}, back = {0};
        for (int p = 0; p < f->nparams; p++) {
            buf_printf(&args, "%sa%d", p ? ", " : "", p);
            buf_printf(&back, "%sa%d", p ? ", " : "", f->nparams - 1 - p);
        }
        buf_printf(&more, "vec%d(%s) = [%s(%s), %s(%s)*a0, a0 + %s(%s)^2]\n", i, args.data,
                   f->name, args.data, f->name, back.data, f->name, args.data);
        buf_free(&args);
        buf_free(&back);
    }
    compiled_free(&c);
    if (more.data)
        buf_puts(text, more.data);
    buf_free(&more);
}

static void test_modes_random_programs(void **state)
{
    (void)state;
    const char *env = getenv("ADGEN_MODES_N");
    int n = env ? atoi(env) : 20;
    env = getenv("ADGEN_MODES_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 10) : 1;
    Prog *progs = calloc((size_t)n + 1, sizeof *progs);
    GenSize size = {3, 4, 5, 8};
    Coverage cv = {.generator = "gen_program with --emit=all"};
    for (int i = 0; i < n; i++) {
        Buf text = {0};
        gen_program(&text, seed + (uint64_t)i, &size);
        append_vector_results(&text);
        char prefix[16];
        snprintf(prefix, sizeof prefix, "r%d_", i);
        prog_init(&progs[i], text.data, prefix);
        coverage_count(&cv, text.data, &progs[i].unit.prog);
        buf_free(&text);
    }
    char *log = run_programs(progs, n, "random");
    printf("%s", log);
    assert_int_equal(count_after(log, "failures "), 0);
    assert_true(count_after(log, "checks ") > 20 * n);
    free(log);
    static const int drawn[] = {CV_ARRAY, CV_DATA, CV_SUM, CV_FOR, CV_IF, CV_CALL, CV_VECTOR_CALL,
                                CV_VECTOR};
    /* the checkpointed variants need a kept recurrence: test_kept_random draws those */
    coverage_want(&cv, drawn, sizeof drawn / sizeof *drawn, 0,
                  ((1u << ENTRY_KINDS) - 1) & ~ENTRIES_CKP);
    int low = coverage_report(&cv, stdout);
    /* too few programs to tell a rare construct from a missing one: from 200 on */
    if (low && n >= 200)
        fail_msg("%d constructs the modes test is meant to draw came in under 2%% of programs",
                 low);
    for (int i = 0; i < n; i++)
        prog_free(&progs[i]);
    free(progs);
}

/* A mode a vector result does not have is an error naming the definition and its modes. */
static void test_modes_misfit_is_an_error(void **state)
{
    (void)state;
    char *out = NULL;
    spit(OUT "/misfit.expr", "r(x[2]) = [x[0]*x[1], x[1]]\n");
    int rc = runf(&out, ADGEN_CMD " --emit=jvp,hess " OUT "/misfit.expr 2>&1");
    assert_int_equal(rc, 1);
    assert_contains(out, "misfit.expr:1:1: error: 'r' returns 2 values, so it has no hess");
    assert_contains(out, "jvp, vjp, jac, jac-sparse");
    free(out);
    /* hess-sparse alone: the same, not the message of a Hessian of run-time size */
    rc = runf(&out, ADGEN_CMD " --emit=hess-sparse " OUT "/misfit.expr 2>&1");
    assert_int_equal(rc, 1);
    assert_contains(out, "'r' returns 2 values, so it has no hess-sparse (a scalar result's); "
                         "the modes of a vector result are jvp, vjp, jac, jac-sparse");
    free(out);
    rc = runf(&out, ADGEN_CMD " --emit=jvp,gradient " OUT "/misfit.expr 2>&1");
    assert_int_equal(rc, 2);
    assert_contains(out, "unknown entry point 'gradient'");
    free(out);
}

static double value_after(const char *out, const char *name)
{
    const char *s = strstr(out, name);
    if (!s)
        fail_msg("no '%s' in:\n%s", name, out);
    return strtod(s + strlen(name), NULL);
}

/* adgen eval --jac --hess against closed forms. */
static void test_modes_eval_jacobian_and_hessian(void **state)
{
    (void)state;
    char *out = NULL;
    spit(OUT "/eval.expr", "f(x, y) = x*y + sin(x)\n"
                           "r(p[2]; t[2]) = [p[0]*exp(p[1]*t[0]), p[0]*exp(p[1]*t[1])]\n");
    assert_int_equal(runf(&out, ADGEN_CMD " eval --hess --function=f " OUT "/eval.expr x=0.7 "
                                "y=-2"), 0);
    assert_near(value_after(out, "d2f/dxdx = "), -sin(0.7), 1e-15);
    assert_near(value_after(out, "d2f/dxdy = "), 1.0, 0);
    assert_near(value_after(out, "d2f/dydx = "), 1.0, 0);
    assert_near(value_after(out, "d2f/dydy = "), 0.0, 0);
    assert_near(value_after(out, "df/dx = "), -2 + cos(0.7), 1e-15);
    free(out);
    assert_int_equal(runf(&out, ADGEN_CMD " eval --function=r " OUT "/eval.expr p=1.5,0.25 "
                                "t=2,-1"), 0);
    assert_near(value_after(out, "r[1] = "), 1.5 * exp(-0.25), 1e-15);
    assert_near(value_after(out, "dr[0]/dp[0] = "), exp(0.5), 1e-15);
    assert_near(value_after(out, "dr[0]/dp[1] = "), 1.5 * 2 * exp(0.5), 1e-15);
    assert_near(value_after(out, "dr[1]/dp[1] = "), -1.5 * exp(-0.25), 1e-15);
    free(out);
    assert_int_equal(runf(&out, ADGEN_CMD " eval --hess --function=r " OUT "/eval.expr "
                                "p=1,1 t=0,0 2>&1"), 2);
    assert_contains(out, "'r' returns 2 values, so it has no Hessian");
    free(out);
}

/* Review findings: --accumulate adds only into the partial derivatives, not the values; two
 * functions whose names differ in case get two count macros; a file of scalar and vector
 * functions takes each mode where it fits, and --emit may be repeated. */
static void test_modes_accumulate_names_and_mixed_files(void **state)
{
    (void)state;
    char *out = NULL;
    spit(OUT "/acc.expr", "polar(r, t) = [r*cos(t), r*sin(t)]\n");
    spit(OUT "/acc_main.c",
         "#include <math.h>\n#include <stdio.h>\n#include \"acc.h\"\n"
         "int main(void)\n{\n"
         "    double out[2] = {7, 7}, u[2] = {1, 0}, rb = 10, tb = 20;\n"
         "    polar_vjp(2.0, 0.5, u, out, &rb, &tb);\n"
         "    /* values stored; d out[0]/dr = cos t, d out[0]/dt = -r sin t added */\n"
         "    return !(out[0] == 2 * cos(0.5) && out[1] == 2 * sin(0.5) &&\n"
         "             fabs(rb - (10 + cos(0.5))) < 1e-15 && fabs(tb - (20 - 2 * sin(0.5))) < 1e-14);\n"
         "}\n");
    assert_int_equal(runf(&out, ADGEN_CMD " --emit=vjp --accumulate " OUT "/acc.expr -o " OUT
                                "/acc.c --header " OUT "/acc.h && " GCC " -o " OUT "/acc "
                                OUT "/acc.c " OUT "/acc_main.c -lm 2>&1 && " OUT "/acc"), 0);
    free(out);
    spit(OUT "/case.expr", "f(x, y) = x*y\nF(x) = x^3\n");
    spit(OUT "/case_main.c", "#include \"case.h\"\n"
                             "int main(void)\n{\n    double a[F_HESS_SPARSE_NNZ], b[F_HESS_SPARSE_NNZ_];\n"
                             "    return !(sizeof a / sizeof *a == 1 && sizeof b / sizeof *b == 1 &&\n"
                             "             F_JAC_SPARSE_NNZ == 2 && F_JAC_SPARSE_NNZ_ == 1 &&\n"
                             "             f_hess_sparse(1, 2, a) == 2 && F_hess_sparse(2, b) == 8 &&\n"
                             "             a[0] == 1 && b[0] == 12);\n}\n");
    assert_int_equal(runf(&out, ADGEN_CMD " --emit=jac-sparse,hess-sparse " OUT "/case.expr -o "
                                OUT "/case.c --header " OUT "/case.h && " GCC " -o " OUT
                                "/case " OUT "/case.c " OUT "/case_main.c -lm 2>&1 && " OUT
                                "/case"), 0);
    free(out);
    spit(OUT "/mixed.expr", "polar(r, t) = [r*cos(t), r*sin(t)]\nsq(x) = x^2\n");
    assert_int_equal(runf(&out, ADGEN_CMD " --emit=grad --emit=jac " OUT "/mixed.expr"), 0);
    assert_contains(out, "double sq_grad(double x, double *x_bar)");
    assert_contains(out, "void polar_jac(double r, double t, double *out, double *jac)");
    assert_null(strstr(out, "polar_grad"));
    free(out);
}

int main(void)
{
    mkdir("build/tests", 0777);
    mkdir(OUT, 0777);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modes_misfit_is_an_error),
        cmocka_unit_test(test_modes_accumulate_names_and_mixed_files),
        cmocka_unit_test(test_modes_eval_jacobian_and_hessian),
        cmocka_unit_test(test_modes_samples_and_vector_models),
        cmocka_unit_test(test_modes_random_programs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
