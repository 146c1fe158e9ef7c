/*
 * test_sparse_formats.c: the sparse entry points' two pattern formats (issue 21): triplets,
 * the default (NAME_row, NAME_col, by row, then column), and --sparse=csc, compressed column
 * storage (NAME_colptr, NAME_row, by column, then row). The same inputs are generated both
 * ways, under two prefixes, and one driver decodes every sparse entry point's nonzeros into a
 * dense matrix both ways: the two are the same to the bit, and each equals the dense entry
 * point (jac, hess) where it is not a structural zero and is 0 elsewhere; the compressed
 * pattern's column starts ascend from 0 to the count, its rows ascend within a column.
 */
#include "testutil.h"

#define OUT "build/tests/sparse_formats"
#define STRICT "-std=c99 -Wall -Wextra -pedantic -Werror"

/* The functions checked: NAME, its differentiated scalars, rows (values; 0 for a scalar) and
 * the C arguments after which the entry points' own come. */
typedef struct {
    const char *name;
    int n, rows;
    const char *args;
} Fn;

static const Fn fns[] = {
    {"f", 4, 0, "x"},
    {"g", 4, 2, "x"},
    {"lag", 4, 0, "x, 0.75, lambda"},
    {"rosen", 8, 0, "y"},
};

static const char driver_head[] =
    "#include <stdio.h>\n#include <string.h>\n#include \"t.h\"\n#include \"c.h\"\n\n"
    "static long n_checks, n_fail;\n"
    "static void check(int ok, const char *fn, const char *what, int k)\n{\n"
    "    n_checks++;\n"
    "    if (!ok && n_fail++ < 20)\n        printf(\"FAIL %s: %s [%d]\\n\", fn, what, k);\n}\n\n"
    "int main(void)\n{\n"
    "    const double x[4] = {1.25, 4.5, 3.75, 1.5}, lambda[2] = {-0.5, 2.0};\n"
    "    const double y[8] = {0.5, -1.25, 2, 0.75, -0.5, 1.5, 1, -2};\n"
    "    double out[2], cout[64], v, nz[64], dense[64], tri[64], csc[64];\n"
    "    (void)v;\n";

/* One sparse entry point (kind "jac" or "hess") of fn, decoded both ways and compared. */
static void put_sparse(Buf *d, const Fn *fn, const char *kind)
{
    int hess = strcmp(kind, "hess") == 0, rows = hess ? fn->n : fn->rows ? fn->rows : 1;
    int vec = fn->rows > 0;
    const char *N = fn->name;
    char up[64];
    snprintf(up, sizeof up, "%s_%s_SPARSE_NNZ", N, kind);
    for (char *c = up; *c; c++)
        *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
    buf_printf(d, "    /* %s_%s_sparse */\n", N, kind);
    buf_printf(d, "    %st_%s_%s(%s%s, dense);\n", vec ? "" : "v = ", N, kind, fn->args,
               vec ? ", out" : "");
    buf_printf(d, "    memset(tri, 0, sizeof tri);\n    memset(csc, 0, sizeof csc);\n");
    buf_printf(d, "    %st_%s_%s_sparse(%s%s, nz);\n", vec ? "" : "v = ", N, kind, fn->args,
               vec ? ", out" : "");
    buf_printf(d, "    for (int k = 0; k < T_%s; k++)\n"
                  "        tri[t_%s_%s_sparse_row[k] * %d + t_%s_%s_sparse_col[k]] = nz[k];\n",
               up, N, kind, fn->n, N, kind);
    /* a list's values where the triplets' entry point put them, and nothing past them */
    buf_printf(d, "    memset(cout, 0, sizeof cout);\n");
    buf_printf(d, "    %sc_%s_%s_sparse(%s%s, nz);\n", vec ? "" : "v = ", N, kind, fn->args,
               vec ? ", cout" : "");
    if (vec)
        buf_printf(d, "    for (int i = 0; i < 64; i++)\n"
                      "        check(cout[i] == (i < %d ? out[i] : 0), \"%s\", \"csc's values\", "
                      "i);\n", fn->rows, N);
    buf_printf(d, "    check(c_%s_%s_sparse_colptr[0] == 0 && c_%s_%s_sparse_colptr[%d] == C_%s, "
                  "\"%s\", \"column starts\", 0);\n", N, kind, N, kind, fn->n, up, N);
    buf_printf(d, "    for (int j = 0; j < %d; j++)\n"
                  "        for (int k = c_%s_%s_sparse_colptr[j]; k < c_%s_%s_sparse_colptr[j + 1]; "
                  "k++) {\n"
                  "            check(k == c_%s_%s_sparse_colptr[j] || c_%s_%s_sparse_row[k - 1] < "
                  "c_%s_%s_sparse_row[k], \"%s\", \"rows ascend\", k);\n"
                  "            csc[c_%s_%s_sparse_row[k] * %d + j] = nz[k];\n        }\n",
               fn->n, N, kind, N, kind, N, kind, N, kind, N, kind, N, N, kind, fn->n);
    buf_printf(d, "    for (int i = 0; i < %d; i++)\n"
                  "        for (int j = 0; j < %d; j++) {\n"
                  "            int at = i * %d + j;\n"
                  "            check(memcmp(&tri[at], &csc[at], sizeof tri[at]) == 0, \"%s\", "
                  "\"triplets = csc (%s)\", at);\n"
                  "            if (%d && j > i)\n                continue; /* the lower triangle */\n"
                  "            check(tri[at] == dense[at], \"%s\", \"sparse = dense (%s)\", at);\n"
                  "        }\n", rows, fn->n, fn->n, N, kind, hess, N, kind);
}

static void test_csc_and_triplets_agree(void **state)
{
    (void)state;
    assert_int_equal(runf(NULL, "mkdir -p " OUT), 0);
    char *log = NULL;
    int rc = runf(&log, "cat samples/hs071.expr samples/rosenbrock.expr | sed -e 's/^N = 100/N = "
                        "8/' -e 's/^rosen(x\\[N\\])/rosen(y[N])/' -e 's/x\\[i+1\\]/y[i+1]/' -e "
                        "'s/x\\[i\\]/y[i]/g' > " OUT "/in.expr && "
                        ADGEN_CMD " --emit=jac,jac-sparse,hess,hess-sparse --prefix=t_ " OUT
                        "/in.expr -o " OUT "/t.c --header " OUT "/t.h && "
                        ADGEN_CMD " --emit=jac,jac-sparse,hess,hess-sparse --sparse=csc "
                        "--prefix=c_ " OUT "/in.expr -o " OUT "/c.c --header " OUT "/c.h 2>&1");
    if (rc != 0)
        fail_msg("adgen: status %d\n%s", rc, log);
    free(log);
    Buf d = {0};
    buf_puts(&d, driver_head);
    for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) {
        put_sparse(&d, &fns[i], "jac");
        if (!fns[i].rows)
            put_sparse(&d, &fns[i], "hess");
    }
    buf_puts(&d, "    printf(\"checks %ld failures %ld\\n\", n_checks, n_fail);\n"
                 "    return n_fail != 0;\n}\n");
    spit(OUT "/main.c", d.data);
    buf_free(&d);
    rc = runf(&log, "cd " OUT " && gcc " STRICT " -o main main.c t.c c.c -lm 2>&1 && clang "
                    STRICT " -fsyntax-only c.c 2>&1 && g++ -x c++ -Wall -Wextra -pedantic -Werror "
                    "-fsyntax-only c.c 2>&1 && ./main 2>&1");
    printf("%s", log ? log : "");
    if (rc != 0)
        fail_msg("the sparse formats: status %d", rc);
    long checks = count_after(log, "checks "), failures = count_after(log, "failures ");
    free(log);
    assert_int_equal(failures, 0);
    assert_true(checks > 200);
}

/* --sparse takes one of the two words. */
static void test_sparse_option_words(void **state)
{
    (void)state;
    char *log = NULL;
    int rc = runf(&log, ADGEN_CMD " --sparse=ccs samples/hs071.expr -o /dev/null 2>&1");
    assert_int_equal(rc, 2);
    assert_contains(log, "--sparse takes triplet or csc, not 'ccs'");
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sparse_option_words),
        cmocka_unit_test(test_csc_and_triplets_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
