/*
 * test_colouring.c: the colourings of adgen's compressed Jacobians and Hessians against ColPack
 * (Gebremedhin, Manne and Pothen's library; Debian's libcolpack-dev), issue 21. For banded,
 * arrow, block-arrow and random patterns of 60 variables, a model whose Jacobian (a list of
 * 60 values, each a function of its row's variables) or Hessian (a sum of such functions: its
 * rows' variables form cliques) has that pattern goes through `adgen --report`; the pattern
 * adgen found is read from its .c, checked against the one the model was made from, and given
 * to tests/colpack_colours.cpp. adgen colours greedily in the natural order (distance-2: two
 * columns, or rows, of one colour share no row, or column) on the side that needs fewer, so
 * its count must be at least the widest row's (column's) nonzeros, a bound any valid colouring
 * meets, and at most ColPack's partial distance-2 colouring in the natural order on either
 * side. The table printed beside them gives ColPack's best over its orderings and, for
 * Hessians, its star colouring (which recovers entries through symmetry): what a star
 * colouring would save in sweeps. Scratch files go to build/tests/colouring.
 */
#include "testutil.h"

#define OUT "build/tests/colouring"
#define N 60

typedef struct {
    const char *name;
    int globals;   /* arrow: columns in every row */
    int block;     /* block-arrow: locals per row's block */
    int band;      /* banded: half-width */
} Family;

static const Family families[] = {
    {"banded, half-width 1", 0, 0, 1},
    {"banded, half-width 3", 0, 0, 3},
    {"arrow, 3 global columns", 3, 0, 0},
    {"block-arrow, blocks of 3, 2 global columns", 2, 3, 0},
    {"random, 3 a row", 0, 0, 0},
};
#define NFAMILIES (sizeof families / sizeof *families)

/* Row i's columns (ascending, distinct) of family f; returns their count. */
static int row_columns(const Family *f, int i, int *cols)
{
    int n = 0;
    if (f->band) {
        for (int j = i - f->band; j <= i + f->band; j++)
            if (j >= 0 && j < N)
                cols[n++] = j;
    } else if (f->block) {
        int locals = N - f->globals, b = i % (locals / f->block);
        for (int k = 0; k < f->block; k++)
            cols[n++] = b * f->block + k;
        for (int g = 0; g < f->globals; g++)
            cols[n++] = locals + g;
    } else if (f->globals) {
        int locals = N - f->globals;
        cols[n++] = i % locals;
        for (int g = 0; g < f->globals; g++)
            cols[n++] = locals + g;
    } else {
        unsigned s = 2654435761u * (unsigned)(i + 1);
        while (n < 3) {
            s = s * 1103515245u + 12345u;
            int j = (int)((s >> 16) % N), dup = 0;
            for (int k = 0; k < n; k++)
                dup |= cols[k] == j;
            if (!dup)
                cols[n++] = j;
        }
        for (int a = 1; a < n; a++) /* ascending */
            for (int b = a; b > 0 && cols[b - 1] > cols[b]; b--) {
                int t = cols[b];
                cols[b] = cols[b - 1];
                cols[b - 1] = t;
            }
    }
    return n;
}

/* sin(x[a] + 2*x[b] + ...): every variable of the row with a nonzero partial and every pair
 * with a nonzero second one */
static void put_row(Buf *b, const Family *f, int i)
{
    int cols[8], n = row_columns(f, i, cols);
    buf_puts(b, "sin(");
    for (int k = 0; k < n; k++)
        buf_printf(b, "%s%d*x[%d]", k ? " + " : "", k + 1, cols[k]);
    buf_puts(b, ")");
}

/* The model: j(x) returning the 60 rows, or h(x) their sum. */
static void write_model(const Family *f, int hessian, const char *path)
{
    Buf b = {0};
    if (hessian) {
        buf_printf(&b, "h(x[%d]) =", N);
        for (int i = 0; i < N; i++) {
            buf_puts(&b, i ? " +\n    " : " ");
            put_row(&b, f, i);
        }
        buf_puts(&b, "\n");
    } else {
        buf_printf(&b, "j(x[%d]) {\n", N);
        for (int i = 0; i < N; i++) {
            buf_printf(&b, "    r[%d] = ", i);
            put_row(&b, f, i);
            buf_puts(&b, "\n");
        }
        buf_puts(&b, "    return r\n}\n");
    }
    spit(path, b.data);
    buf_free(&b);
}

/* The ints of `const int NAME[...] = {...}` in c; returns how many. */
static int read_array(const char *c, const char *name, int *v, int max)
{
    char head[64];
    snprintf(head, sizeof head, "\nconst int %s[", name); /* the definition */
    const char *p = strstr(c, head);
    assert_non_null(p);
    p = strchr(p, '{') + 1;
    int n = 0;
    while (*p != '}') {
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        assert_true(n < max);
        v[n++] = (int)x;
        p = end;
    }
    return n;
}

/* The count before `word` in the report's line for `entry`. */
static int report_count(const char *report, const char *entry, const char *word)
{
    const char *line = strstr(report, entry);
    assert_non_null(line);
    const char *w = strstr(line, word);
    assert_non_null(w);
    while (w > line && w[-1] == ' ')
        w--;
    while (w > line && w[-1] >= '0' && w[-1] <= '9')
        w--;
    return atoi(w);
}

/* The most nonzeros in a row of m (a column when `columns`): a lower bound of the colours of
 * the other side's distance-2 colouring, whose lines through it must all differ. */
static int widest(unsigned char (*m)[N], int columns)
{
    int most = 0;
    for (int i = 0; i < N; i++) {
        int n = 0;
        for (int j = 0; j < N; j++)
            n += columns ? m[j][i] : m[i][j];
        most = n > most ? n : most;
    }
    return most;
}

/* The operations of `entry` in the report's table of entry points. */
static long report_ops(const char *report, const char *entry)
{
    char head[32];
    snprintf(head, sizeof head, "\n  %s", entry);
    const char *line = strstr(report, head);
    assert_non_null(line);
    return strtol(line + strlen(head), NULL, 10);
}

/* ColPack's natural and best count of `variant` in its output. */
static void colpack(const char *out, const char *variant, int *natural, int *best)
{
    char head[64];
    snprintf(head, sizeof head, "%s ", variant);
    const char *p = strstr(out, head);
    assert_non_null(p);
    assert_int_equal(sscanf(p + strlen(head), "%d %d", natural, best), 2);
}

static void check_family(const Family *f, int hessian)
{
    char expr[128], c_path[128];
    snprintf(expr, sizeof expr, OUT "/m.expr");
    snprintf(c_path, sizeof c_path, OUT "/m.c");
    write_model(f, hessian, expr);
    const char *emit = hessian ? "grad,hess-sparse" : "jac-sparse";
    char *report = NULL;
    assert_int_equal(runf(&report, ADGEN_CMD " --emit=%s --report %s", emit, expr), 0);
    assert_int_equal(runf(NULL, ADGEN_CMD " --emit=%s %s -o %s", emit, expr, c_path), 0);
    char *c = read_file(c_path);
    assert_non_null(c);
    static int row[N * N], col[N * N];
    char name[64];
    snprintf(name, sizeof name, "%s_sparse_row", hessian ? "h_hess" : "j_jac");
    int nnz = read_array(c, name, row, N * N);
    snprintf(name, sizeof name, "%s_sparse_col", hessian ? "h_hess" : "j_jac");
    assert_int_equal(read_array(c, name, col, N * N), nnz);
    free(c);
    /* the pattern is the model's: row i's columns, or the union of the cliques */
    static unsigned char want[N][N];
    memset(want, 0, sizeof want);
    for (int i = 0; i < N; i++) {
        int cols[8], n = row_columns(f, i, cols);
        for (int a = 0; a < n; a++)
            for (int b = hessian ? 0 : a; b < (hessian ? n : a + 1); b++)
                want[hessian ? cols[a] : i][cols[b]] = 1;
    }
    int expected = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            expected += want[i][j] && (!hessian || j <= i);
    assert_int_equal(nnz, expected);
    Buf in = {0};
    if (hessian)
        buf_printf(&in, "H %d %d\n", N, nnz);
    else
        buf_printf(&in, "J %d %d %d\n", N, N, nnz);
    for (int k = 0; k < nnz; k++) {
        assert_true(want[row[k]][col[k]]);
        buf_printf(&in, "%d %d\n", row[k], col[k]);
    }
    spit(OUT "/pattern.txt", in.data);
    buf_free(&in);
    char *out = NULL;
    assert_int_equal(runf(&out, OUT "/colpack_colours < " OUT "/pattern.txt"), 0);
    int mine, nat, best, nat2, best2;
    if (hessian) {
        mine = report_count(report, "hess-sparse", "forward over it");
        colpack(out, "DISTANCE_TWO", &nat, &best);
        colpack(out, "STAR", &nat2, &best2);
        /* what the sweeps cost: each visits its seeds' cone only */
        double ratio = (double)report_ops(report, "hess-sparse") / report_ops(report, "grad ");
        printf("  %-44s Hessian:  adgen %3d   distance-2 %3d (best %3d)   star %3d (best %3d)"
               "   operations %.1f x grad\n", f->name, mine, nat, best, nat2, best2, ratio);
        assert_true(widest(want, 0) <= mine && mine <= nat);
    } else {
        int by_rows = strstr(strstr(report, "jac-sparse"), "colours of the rows") != NULL;
        mine = report_count(report, "jac-sparse", by_rows ? "reverse" : "forward");
        colpack(out, "COLUMN_PARTIAL_DISTANCE_TWO", &nat, &best);
        colpack(out, "ROW_PARTIAL_DISTANCE_TWO", &nat2, &best2);
        printf("  %-44s Jacobian: adgen %3d %s   columns %3d (best %3d)   rows %3d (best %3d)\n",
               f->name, mine, by_rows ? "rows" : "cols", nat, best, nat2, best2);
        assert_true(widest(want, by_rows) <= mine && mine <= (nat < nat2 ? nat : nat2));
    }
    free(out);
    free(report);
}

static void test_colouring_against_colpack(void **state)
{
    (void)state;
    if (runf(NULL, "test -f /usr/include/ColPack/ColPackHeaders.h") != 0)
        fail_msg("ColPack is missing: the colourings cannot be compared (apt-get install "
                 "libcolpack-dev)");
    char *out = NULL;
    int rc = runf(&out, "rm -rf " OUT " && mkdir -p " OUT " && g++ -std=c++11 -O1 -Wall -Wextra "
                        "-Werror -o " OUT "/colpack_colours tests/colpack_colours.cpp "
                        "-lColPack 2>&1");
    if (rc != 0)
        fail_msg("building tests/colpack_colours.cpp: status %d\n%s", rc, out);
    free(out);
    printf("colours (sweeps) of %d-variable patterns; ColPack in the natural order and the best "
           "of its orderings\n", N);
    for (size_t k = 0; k < NFAMILIES; k++) {
        check_family(&families[k], 0);
        check_family(&families[k], 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_colouring_against_colpack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
