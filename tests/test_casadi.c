/*
 * test_casadi.c: the CasADi external-function ABI (--abi=casadi, issue 22). adgen writes
 * samples/hs071.expr (IPOPT's example: f, the constraints g, the Lagrangian lag) with every
 * entry point twice: as CasADi functions, and natively with the prefix n_. The driver below is
 * written from CasADi's description of the ABI, not from adgen's output: a function is known
 * by its symbols (NAME, NAME_n_in, NAME_n_out, NAME_sparsity_in/out, NAME_name_in/out,
 * NAME_work, NAME_incref/decref, NAME_checkout/release), its inputs and outputs are matrices
 * in compressed column storage {nrow, ncol, colind[ncol + 1], row[nnz]}, a NULL input reads as
 * zeros and a NULL output is skipped. It checks each pattern is well formed, evaluates each
 * function with arrays malloc'ed to exactly the sizes NAME_work and the patterns give (under
 * ASan and UBSan), and compares every output, matrix entry by matrix entry, with the native
 * entry points at the same point: the value, the gradient, jvp, vjp, hvp, the dense and the
 * sparse Jacobian of g, the dense and the sparse (lower) Hessian of the Lagrangian. Then a
 * NULL input equals zeros, and a NULL output leaves the others as they were.
 */
#include "testutil.h"

#define OUT "build/tests/casadi"

static const char driver[] =
    "#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
    "#include \"c.h\"\n#include \"n.h\"\n\n"
    "typedef struct {\n"
    "    const char *name;\n"
    "    int (*eval)(const casadi_real **, casadi_real **, casadi_int *, casadi_real *, int);\n"
    "    casadi_int (*n_in)(void), (*n_out)(void);\n"
    "    const casadi_int *(*sp_in)(casadi_int), *(*sp_out)(casadi_int);\n"
    "    const char *(*name_in)(casadi_int), *(*name_out)(casadi_int);\n"
    "    int (*work)(casadi_int *, casadi_int *, casadi_int *, casadi_int *);\n"
    "    void (*incref)(void), (*decref)(void);\n"
    "    int (*checkout)(void);\n"
    "    void (*release)(int);\n"
    "} Fun;\n"
    "#define FUN(n) {#n, n, n##_n_in, n##_n_out, n##_sparsity_in, n##_sparsity_out, \\\n"
    "    n##_name_in, n##_name_out, n##_work, n##_incref, n##_decref, n##_checkout, n##_release}\n"
    "static int fails;\n"
    "static void check(int ok, const char *fn, const char *what)\n{\n"
    "    if (!ok && fails++ < 20)\n        printf(\"FAIL %s: %s\\n\", fn, what);\n}\n"
    "static casadi_int nnz(const casadi_int *sp) { return sp[2 + sp[1]]; }\n"
    "/* a pattern in compressed column storage: colind from 0, nondecreasing, rows ascending\n"
    " * within a column and below nrow */\n"
    "static void well_formed(const char *fn, const casadi_int *sp)\n{\n"
    "    casadi_int nrow = sp[0], ncol = sp[1];\n"
    "    const casadi_int *colind = sp + 2, *row = sp + 3 + ncol;\n"
    "    check(nrow >= 1 && ncol >= 1 && colind[0] == 0, fn, \"pattern's head\");\n"
    "    for (casadi_int j = 0; j < ncol; j++) {\n"
    "        check(colind[j] <= colind[j + 1], fn, \"colind nondecreasing\");\n"
    "        for (casadi_int k = colind[j]; k < colind[j + 1]; k++)\n"
    "            check(row[k] >= 0 && row[k] < nrow && (k == colind[j] || row[k - 1] < row[k]),\n"
    "                  fn, \"rows in range and ascending\");\n    }\n}\n"
    "/* entry (i, j) of output values v with pattern sp, 0 where not structural */\n"
    "static double entry(const casadi_int *sp, const double *v, casadi_int i, casadi_int j)\n{\n"
    "    const casadi_int *colind = sp + 2, *row = sp + 3 + sp[1];\n"
    "    for (casadi_int k = colind[j]; k < colind[j + 1]; k++)\n"
    "        if (row[k] == i)\n            return v[k];\n"
    "    return 0;\n}\n"
    "/* evaluates f at the inputs `in` (NULL where null_in says) into freshly malloc'ed outputs\n"
    " * of exactly their sizes (NULL where null_out says); returns them */\n"
    "static double **eval(const Fun *f, double *const *in, int null_in, int null_out)\n{\n"
    "    casadi_int sz_arg, sz_res, sz_iw, sz_w;\n"
    "    check(f->work(&sz_arg, &sz_res, &sz_iw, &sz_w) == 0, f->name, \"work\");\n"
    "    check(sz_arg >= f->n_in() && sz_res >= f->n_out(), f->name, \"sz_arg, sz_res\");\n"
    "    const double **arg = malloc((size_t)sz_arg * sizeof *arg);\n"
    "    double **res = malloc((size_t)sz_res * sizeof *res);\n"
    "    long long *iw = malloc((size_t)(sz_iw ? sz_iw : 1) * sizeof *iw);\n"
    "    double *w = malloc((size_t)(sz_w ? sz_w : 1) * sizeof *w);\n"
    "    for (casadi_int i = 0; i < f->n_in(); i++)\n"
    "        arg[i] = i == null_in ? NULL : in[i];\n"
    "    for (casadi_int i = 0; i < f->n_out(); i++) {\n"
    "        well_formed(f->name, f->sp_out(i));\n"
    "        res[i] = i == null_out ? NULL : malloc((size_t)nnz(f->sp_out(i)) * sizeof **res);\n"
    "    }\n"
    "    f->incref();\n"
    "    int mem = f->checkout();\n"
    "    check(f->eval(arg, res, iw, w, mem) == 0, f->name, \"status\");\n"
    "    f->release(mem);\n"
    "    f->decref();\n"
    "    free(arg);\n    free(iw);\n    free(w);\n"
    "    return res;\n}\n"
    "static void release(const Fun *f, double **res)\n{\n"
    "    for (casadi_int i = 0; i < f->n_out(); i++)\n        free(res[i]);\n"
    "    free(res);\n}\n"
    "/* the inputs of f: deterministic values, arrays of exactly the patterns' sizes */\n"
    "static double **inputs(const Fun *f)\n{\n"
    "    double **in = malloc((size_t)f->n_in() * sizeof *in);\n"
    "    for (casadi_int i = 0; i < f->n_in(); i++) {\n"
    "        well_formed(f->name, f->sp_in(i));\n"
    "        in[i] = malloc((size_t)nnz(f->sp_in(i)) * sizeof **in);\n"
    "        for (casadi_int k = 0; k < nnz(f->sp_in(i)); k++)\n"
    "            in[i][k] = 1 + 0.37 * (double)k + 0.11 * (double)i;\n"
    "    }\n"
    "    return in;\n}\n"
    "static void near(const char *fn, const char *what, double got, double want)\n{\n"
    "    check(fabs(got - want) <= 1e-13 * (1 + fabs(want)), fn, what);\n}\n"
    "/* NULL inputs are zeros; a NULL output leaves the others unchanged */\n"
    "static void nulls(const Fun *f)\n{\n"
    "    double **in = inputs(f), **all = eval(f, in, -1, -1);\n"
    "    for (casadi_int i = 0; i < f->n_in(); i++) {\n"
    "        double **a = eval(f, in, (int)i, -1);\n"
    "        double *saved = in[i];\n"
    "        in[i] = calloc((size_t)nnz(f->sp_in(i)) + 1, sizeof *saved);\n"
    "        double **z = eval(f, in, -1, -1);\n"
    "        for (casadi_int o = 0; o < f->n_out(); o++)\n"
    "            for (casadi_int k = 0; k < nnz(f->sp_out(o)); k++)\n"
    "                check(memcmp(&a[o][k], &z[o][k], sizeof **a) == 0, f->name,\n"
    "                      \"a NULL input reads as zeros\");\n"
    "        free(in[i]);\n        in[i] = saved;\n"
    "        release(f, a);\n        release(f, z);\n    }\n"
    "    for (casadi_int o = 0; o < f->n_out(); o++) {\n"
    "        double **s = eval(f, in, -1, (int)o);\n"
    "        for (casadi_int p = 0; p < f->n_out(); p++)\n"
    "            for (casadi_int k = 0; p != o && k < nnz(f->sp_out(p)); k++)\n"
    "                check(s[p][k] == all[p][k], f->name, \"a NULL output changes no other\");\n"
    "        release(f, s);\n    }\n"
    "    release(f, all);\n"
    "    for (casadi_int i = 0; i < f->n_in(); i++)\n        free(in[i]);\n"
    "    free(in);\n}\n"
    "int main(void)\n{\n"
    "    static const Fun funs[] = {FUN(f), FUN(f_grad), FUN(f_jvp), FUN(f_vjp), FUN(f_hvp),\n"
    "        FUN(g), FUN(g_jac), FUN(g_jac_sparse), FUN(g_jvp), FUN(g_vjp), FUN(lag_hess),\n"
    "        FUN(lag_hess_sparse)};\n"
    "    int nfuns = (int)(sizeof funs / sizeof *funs), checked = 0;\n"
    "    for (int i = 0; i < nfuns; i++)\n        nulls(&funs[i]);\n"
    "    /* every function at the same point: x = (1, 1.37, 1.74, 2.11) */\n"
    "    double x[4] = {1, 1.37, 1.74, 2.11}, d[4] = {1.11, 1.48, 1.85, 2.22}, v, g_n[2];\n"
    "    double grad[4], hv[4], jac[8], hess[16], jd[2], ub[2] = {1.11, 1.48}, vb[4];\n"
    "    double lam[2] = {1.22, 1.59}, sigma = 1.11;\n"
    "    for (int i = 0; i < nfuns; i++) {\n"
    "        const Fun *f = &funs[i];\n"
    "        double **in = inputs(f), **r = eval(f, in, -1, -1);\n"
    "        const char *n = f->name;\n"
    "        check(strcmp(f->name_in(0), \"x\") == 0 && f->name_in(f->n_in()) == NULL &&\n"
    "              f->name_out(f->n_out()) == NULL && f->sp_out(f->n_out()) == NULL, n, \"names\");\n"
    "        if (!strcmp(n, \"f\") || !strcmp(n, \"f_grad\") || !strcmp(n, \"f_hvp\")) {\n"
    "            v = n_f_hvp(x, d, hv);\n"
    "            n_f_grad(x, grad);\n"
    "            near(n, \"value\", r[0][0], v);\n"
    "            for (int k = 0; k < 4 && f->n_out() > 1; k++)\n"
    "                near(n, \"gradient or hvp\", r[1][k], !strcmp(n, \"f_grad\") ? grad[k] : hv[k]);\n"
    "        } else if (!strcmp(n, \"f_jvp\")) {\n"
    "            double jv;\n"
    "            near(n, \"value\", r[0][0], n_f_jvp(x, d, &jv));\n"
    "            near(n, \"jvp\", r[1][0], jv);\n"
    "        } else if (!strcmp(n, \"f_vjp\")) {\n"
    "            near(n, \"value\", r[0][0], n_f_vjp(x, in[1][0], vb));\n"
    "            for (int k = 0; k < 4; k++)\n                near(n, \"vjp\", r[1][k], vb[k]);\n"
    "        } else if (!strcmp(n, \"g\") || !strcmp(n, \"g_jac\") || !strcmp(n, \"g_jac_sparse\")) {\n"
    "            n_g_jac(x, g_n, jac);\n"
    "            for (int k = 0; k < 2; k++)\n                near(n, \"values\", r[0][k], g_n[k]);\n"
    "            for (int a = 0; a < 2 && f->n_out() > 1; a++)\n"
    "                for (int b = 0; b < 4; b++)\n"
    "                    near(n, \"Jacobian (a, b)\", entry(f->sp_out(1), r[1], a, b), jac[a * 4 + b]);\n"
    "        } else if (!strcmp(n, \"g_jvp\")) {\n"
    "            n_g_jvp(x, d, g_n, jd);\n"
    "            for (int k = 0; k < 2; k++)\n                near(n, \"jvp\", r[1][k], jd[k]);\n"
    "        } else if (!strcmp(n, \"g_vjp\")) {\n"
    "            n_g_vjp(x, ub, g_n, vb);\n"
    "            for (int k = 0; k < 4; k++)\n                near(n, \"vjp\", r[1][k], vb[k]);\n"
    "        } else {\n"
    "            near(n, \"value\", r[0][0], n_lag_hess(x, sigma, lam, hess));\n"
    "            for (int a = 0; a < 4; a++)\n"
    "                for (int b = 0; b < 4; b++)\n"
    "                    if (!strcmp(n, \"lag_hess\") || a >= b) /* the sparse one: lower */\n"
    "                        near(n, \"Hessian (a, b)\", entry(f->sp_out(1), r[1], a, b),\n"
    "                             hess[a * 4 + b]);\n"
    "        }\n"
    "        checked++;\n"
    "        release(f, r);\n"
    "        for (casadi_int k = 0; k < f->n_in(); k++)\n            free(in[k]);\n"
    "        free(in);\n    }\n"
    "    printf(\"functions %d failures %d\\n\", checked, fails);\n"
    "    return fails != 0;\n}\n";

static void test_casadi_abi(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(runf(NULL, "rm -rf " OUT " && mkdir -p " OUT), 0);
    int rc = runf(&out, ADGEN_CMD " --abi=casadi --emit=all samples/hs071.expr -o " OUT "/c.c "
                        "--header " OUT "/c.h 2>&1 && " ADGEN_CMD " --emit=all --prefix=n_ "
                        "samples/hs071.expr -o " OUT "/n.c --header " OUT "/n.h 2>&1");
    if (rc != 0)
        fail_msg("adgen: status %d\n%s", rc, out);
    free(out);
    spit(OUT "/driver.c", driver);
    rc = runf(&out, "cd " OUT " && gcc -std=c99 -Wall -Wextra -pedantic -Werror -O0 "
                    "-fsanitize=address,undefined -fno-sanitize-recover=all -o driver driver.c "
                    "c.c n.c -lm 2>&1 && clang -std=c99 -Wall -Wextra -pedantic -Werror "
                    "-fsyntax-only c.c 2>&1 && g++ -x c++ -Wall -Wextra -pedantic -Werror "
                    "-fsyntax-only c.c 2>&1 && ./driver 2>&1");
    printf("%s", out ? out : "");
    if (rc != 0)
        fail_msg("the CasADi functions: status %d", rc);
    assert_int_equal(count_after(out, "functions "), 12);
    assert_int_equal(count_after(out, "failures "), 0);
    free(out);
}

/* What the ABI cannot take is an error before anything is written; a function of no input
 * has CasADi functions of no input, warning-free. */
static void test_casadi_refusals(void **state)
{
    (void)state;
    char *out = NULL;
    spit(OUT "/none.expr", "c() = 3\n");
    spit(OUT "/none_main.c", "#include <stdio.h>\n#include \"none.h\"\n"
                             "int main(void)\n{\n    double v = 0, *res[1] = {&v};\n"
                             "    int rc = c(NULL, res, NULL, NULL, 0);\n"
                             "    printf(\"%d %g %lld\\n\", rc, v, c_n_in());\n    return 0;\n}\n");
    assert_int_equal(runf(&out, ADGEN_CMD " --abi=casadi --emit=all " OUT "/none.expr -o " OUT
                                "/none.c --header " OUT "/none.h 2>&1 && cd " OUT " && gcc "
                                "-std=c99 -Wall -Wextra -pedantic -Werror -o none none_main.c "
                                "none.c -lm 2>&1 && ./none"), 0);
    assert_string_equal(out, "0 3 0\n");
    free(out);
    spit(OUT "/rt.expr", "lsq(x[n]) = sum(i = 0..n-1, x[i]^2)\n");
    assert_int_equal(runf(&out, ADGEN_CMD " --abi=casadi " OUT "/rt.expr -o " OUT "/rt.c 2>&1"),
                     1);
    assert_contains(out, "rt.expr:1:1: error: --abi=casadi: 'lsq' has sizes known only at run "
                         "time");
    free(out);
    assert_int_equal(runf(NULL, "test -e " OUT "/rt.c"), 1);
    assert_int_equal(runf(&out, ADGEN_CMD " --abi=casadi --accumulate samples/hs071.expr 2>&1"),
                     2);
    assert_contains(out, "--accumulate does not apply");
    free(out);
    assert_int_equal(runf(&out, ADGEN_CMD " --abi=fortran samples/hs071.expr 2>&1"), 2);
    assert_contains(out, "--abi takes native or casadi");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_casadi_abi),
        cmocka_unit_test(test_casadi_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
