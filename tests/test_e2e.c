/* test_e2e.c: adgen end to end, as a user builds against it. Every samples/NAME.expr, and the
 * test-only tests/e2e/allfuncs.expr that uses every operation, goes through ./adgen; the
 * generated C is compiled with gcc at -Werror together with its checker tests/e2e/<stem>.c,
 * which compares the value and every partial with a hand-written reference (closed forms,
 * central differences where a closed form is too long) and exits non-zero on a mismatch. The
 * generated C must also compile with clang and as C++, and eq5109 (one line) and eq5123 (the
 * book's chain a..f) must compute the same bits, with sincos or with sin and cos. Scratch
 * files go to build/tests/e2e. */
#include "testutil.h"

#include <dirent.h>
#include <sys/stat.h>

#define OUT "build/tests/e2e"
#define GCC "gcc -std=c99 -Wall -Wextra -pedantic -Werror -O2"
#define CLANG "clang -std=c99 -Wall -Wextra -pedantic -Werror"
#define GXX "g++ -x c++ -Wall -Wextra -pedantic -Werror"
#define ALLFUNCS "tests/e2e/allfuncs.expr"

/* ---- helpers -------------------------------------------------------------------------------- */

/* Runs the command made from fmt through the shell, standard error merged into standard
 * output; returns the exit status and stores the output (malloc'ed) in *out. */
static int run_merged(char **out, const char *fmt, ...) PRINTF_LIKE(2, 3);

static int run_merged(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = run_vcommand(out, " 2>&1", fmt, ap);
    va_end(ap);
    return rc;
}

/* run_merged for a command that builds what adgen wrote for stem (OUT/<stem>.c and .h) into
 * the file `made`: in the second pass of make test that C is the first's, byte for byte, and
 * is not built again (run_cached). */
static int build_merged(char **out, const char *stem, const char *made, const char *fmt, ...)
    PRINTF_LIKE(4, 5);

static int build_merged(char **out, const char *stem, const char *made, const char *fmt, ...)
{
    char c[256], h[256];
    snprintf(c, sizeof c, OUT "/%s.c", stem);
    snprintf(h, sizeof h, OUT "/%s.h", stem);
    const char *inputs[] = {c, h, NULL}, *outputs[] = {made, NULL};
    Buf cmd = {0};
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&cmd, fmt, ap);
    va_end(ap);
    buf_puts(&cmd, " 2>&1");
    int rc = run_cached(out, cmd.data, inputs, outputs);
    buf_free(&cmd);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The stems of samples/NAME.expr, sorted; *n gets their number. Free with free_list. */
static char **sample_stems(size_t *n)
{
    DIR *dir = opendir("samples");
    if (!dir)
        fail_msg("cannot open samples/: run from the repository top directory");
    char **stems = NULL;
    size_t len = 0;
    for (struct dirent *ent; (ent = readdir(dir));) {
        size_t l = strlen(ent->d_name);
        if (l <= 5 || strcmp(ent->d_name + l - 5, ".expr") != 0)
            continue;
        stems = realloc(stems, (len + 1) * sizeof *stems);
        assert_non_null(stems);
        stems[len] = strndup(ent->d_name, l - 5);
        assert_non_null(stems[len]);
        len++;
    }
    closedir(dir);
    if (len == 0)
        fail_msg("no samples/NAME.expr found");
    qsort(stems, len, sizeof *stems, by_name);
    *n = len;
    return stems;
}

static void free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

/* Runs adgen on expr, writing OUT/<stem>.c and OUT/<stem>.h; returns 0 on success, else
 * reports why and returns 1. */
static int generate(const char *expr, const char *stem)
{
    char *log;
    int rc = run_merged(&log, "timeout 60 " ADGEN_CMD " %s -o " OUT "/%s.c --header " OUT
                              "/%s.h", expr, stem, stem);
    if (rc != 0)
        print_error("adgen %s: exit status %d\n%s", expr, rc, log);
    free(log);
    return rc != 0;
}

/* The checker's report, a line at a time (print_message truncates long messages). */
static void print_lines(const char *expr, const char *stem, const char *text)
{
    print_message("%s (checker tests/e2e/%s.c):\n", expr, stem);
    for (const char *s = text; *s;) {
        const char *nl = strchr(s, '\n');
        int len = nl ? (int)(nl - s) : (int)strlen(s);
        print_message("    %.*s\n", len, s);
        s += nl ? len + 1 : len;
    }
}

/* adgen on expr, the generated C compiled with gcc together with tests/e2e/<stem>.c, the
 * checker run. Prints the checker's report; returns the number of problems. */
static int check_with_checker(const char *expr, const char *stem)
{
    char *log;
    if (generate(expr, stem))
        return 1;
    char made[256];
    snprintf(made, sizeof made, OUT "/%s", stem);
    int rc = build_merged(&log, stem, made, GCC " -I" OUT " -o " OUT "/%s tests/e2e/%s.c " OUT
                          "/%s.c -lm", stem, stem, stem);
    if (rc != 0) {
        print_error("%s: compiling the generated C with tests/e2e/%s.c failed (status %d):\n%s",
                    expr, stem, rc, log);
        free(log);
        return 1;
    }
    free(log);
    rc = run_merged(&log, "timeout 60 " OUT "/%s", stem);
    print_lines(expr, stem, log);
    if (rc != 0)
        print_error("%s: the checker failed (exit status %d)\n", expr, rc);
    free(log);
    return rc != 0;
}

/* Fails the test, loudly, when the compiler `tool` is not installed: the generated C is
 * promised to compile with it, so a missing compiler must not pass as a skip. */
static void require_tool(const char *tool)
{
    char *log;
    int rc = run_merged(&log, "command -v %s", tool);
    free(log);
    if (rc != 0)
        fail_msg("%s is not installed: the generated C must be checked with %s; install it "
                 "(apt-get install %s) or run .ci/run",
                 tool, tool, tool);
}

/* adgen on expr, then the generated C alone compiled by `compiler` (a command prefix);
 * returns the number of problems. */
static int compile_generated(const char *expr, const char *stem, const char *compiler,
                             const char *suffix)
{
    char *log;
    if (generate(expr, stem))
        return 1;
    char made[256];
    snprintf(made, sizeof made, OUT "/%s.%s.o", stem, suffix);
    int rc = build_merged(&log, stem, made, "%s -c -o %s " OUT "/%s.c", compiler, made, stem);
    if (rc != 0)
        print_error("%s: `%s` rejects the generated C (status %d):\n%s", expr, compiler, rc,
                    log);
    free(log);
    return rc != 0;
}

/* Every sample and allfuncs compiled by `compiler`. */
static void compile_all(const char *compiler, const char *suffix)
{
    size_t n;
    char **stems = sample_stems(&n);
    int problems = 0;
    for (size_t i = 0; i < n; i++) {
        char expr[512];
        snprintf(expr, sizeof expr, "samples/%s.expr", stems[i]);
        problems += compile_generated(expr, stems[i], compiler, suffix);
    }
    problems += compile_generated(ALLFUNCS, "allfuncs", compiler, suffix);
    free_list(stems, n);
    assert_int_equal(problems, 0);
}

static int setup(void **state)
{
    (void)state;
    if (run_command("mkdir -p " OUT, NULL) != 0 || !exists_adgen()) {
        fprintf(stderr, "test_e2e: run from the top directory after `make`\n");
        return -1;
    }
    return 0;
}

/* ---- tests ---------------------------------------------------------------------------------- */

/* A sample nobody checks is a sample whose gradient nobody knows to be right. */
static void test_samples_have_checkers(void **state)
{
    (void)state;
    size_t n;
    char **stems = sample_stems(&n);
    int missing = 0;
    for (size_t i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "tests/e2e/%s.c", stems[i]);
        if (!exists(path)) {
            print_error("samples/%s.expr has no checker %s\n", stems[i], path);
            missing++;
        }
    }
    free_list(stems, n);
    assert_int_equal(missing, 0);
}

static void test_samples_match_references(void **state)
{
    (void)state;
    size_t n;
    char **stems = sample_stems(&n);
    int problems = 0;
    for (size_t i = 0; i < n; i++) {
        char expr[512];
        snprintf(expr, sizeof expr, "samples/%s.expr", stems[i]);
        problems += check_with_checker(expr, stems[i]);
    }
    free_list(stems, n);
    assert_int_equal(problems, 0);
}

static void test_allfuncs_match_references(void **state)
{
    (void)state;
    assert_int_equal(check_with_checker(ALLFUNCS, "allfuncs"), 0);
}

static void test_generated_compiles_with_clang(void **state)
{
    (void)state;
    require_tool("clang");
    compile_all(CLANG, "clang");
}

static void test_generated_compiles_as_cxx(void **state)
{
    (void)state;
    require_tool("g++");
    compile_all(GXX, "cxx");
}

/* The book's structure: eq. 5.109 written on one line and as the chain of intermediates
 * a..f of eqs. 5.123-5.128 lower to the same DAG, so f and f_grad compute the same bits.
 * tests/e2e/print_f.c prints them in hexadecimal at a dozen points for each. */
static void test_eq5109_same_bits_as_eq5123(void **state)
{
    (void)state;
    static const char *const stems[] = {"eq5109", "eq5123"};
    char *printed[2];
    for (int i = 0; i < 2; i++) {
        char expr[512], *log;
        snprintf(expr, sizeof expr, "samples/%s.expr", stems[i]);
        assert_int_equal(generate(expr, stems[i]), 0);
        char made[256];
        snprintf(made, sizeof made, OUT "/print_%s", stems[i]);
        int rc = build_merged(&log, stems[i], made,
                              GCC " -I" OUT " '-DADGEN_HEADER=\"%s.h\"' -o %s "
                                  "tests/e2e/print_f.c " OUT "/%s.c -lm",
                              stems[i], made, stems[i]);
        if (rc != 0)
            fail_msg("compiling tests/e2e/print_f.c with %s failed:\n%s", expr, log);
        free(log);
        rc = run_merged(&printed[i], "timeout 60 " OUT "/print_%s", stems[i]);
        assert_int_equal(rc, 0);
    }
    int lines = 0;
    for (const char *s = printed[0]; (s = strchr(s, '\n')); s++)
        lines++;
    assert_int_equal(lines, 12);
    if (strcmp(printed[0], printed[1]) != 0)
        fail_msg("f(x), f_grad's value and df/dx differ in some bit\n--- eq5109:\n%s"
                 "--- eq5123:\n%s",
                 printed[0], printed[1]);
    free(printed[0]);
    free(printed[1]);
}

/* The sin and the cos of one value are one ADGEN_SIN_COS call (eq. 5.109's gradient needs
 * cos u for f and sin u for its derivative): sincos from glibc's libm by default, or with
 * _GNU_SOURCE, which has <math.h> declare it; sin and cos with -DADGEN_SINCOS=0. Each build,
 * gcc and clang, prints the same bits. A constant's sin and cos stay two calls. */
static void test_sin_cos_one_call(void **state)
{
    (void)state;
    static const struct {
        const char *cc, *flags;
        int sincos; /* the object calls sincos, not sin and cos */
    } builds[] = {
        /* gcc -O2 fuses sin and cos itself */
        {GCC, "", 1}, {GCC, "-DADGEN_SINCOS=0 -O0", 0}, {GCC, "-D_GNU_SOURCE", 1},
        {CLANG " -O2", "", 1}, {CLANG " -O2", "-DADGEN_SINCOS=0", 0},
    };
    require_tool("clang");
    assert_int_equal(generate("samples/eq5109.expr", "sincos"), 0);
    char *c;
    assert_int_equal(run_merged(&c, "grep -c '^ *ADGEN_SIN_COS(' " OUT "/sincos.c"), 0);
    assert_true(atoi(c) >= 1);
    free(c);
    char *first = NULL;
    for (size_t i = 0; i < sizeof builds / sizeof *builds; i++) {
        char *log;
        int rc = run_merged(&log, "%s %s -c -o " OUT "/sincos.o " OUT "/sincos.c && nm "
                                  OUT "/sincos.o | grep -c ' U sincos$'",
                            builds[i].cc, builds[i].flags);
        if ((rc == 0) != builds[i].sincos) /* grep -c exits 1 when it counts none */
            fail_msg("`%s %s`: the object %s sincos:\n%s", builds[i].cc, builds[i].flags,
                     builds[i].sincos ? "does not call" : "calls", log);
        free(log);
        rc = run_merged(&log, "%s %s -I" OUT " '-DADGEN_HEADER=\"sincos.h\"' -o " OUT
                              "/print_sincos tests/e2e/print_f.c " OUT "/sincos.c -lm && "
                              OUT "/print_sincos", builds[i].cc, builds[i].flags);
        if (rc != 0)
            fail_msg("`%s %s` on eq. 5.109 with print_f.c failed:\n%s", builds[i].cc,
                     builds[i].flags, log);
        if (!first)
            first = log;
        else if (strcmp(first, log) != 0)
            fail_msg("`%s %s` computes other bits:\n%s--- the first build's:\n%s",
                     builds[i].cc, builds[i].flags, log, first);
        else
            free(log);
    }
    free(first);
    /* not of a constant: gcc folds sin and cos of one when it compiles, correctly rounded,
     * where glibc's sincos at run time differs in the last bit for some (2.6929622508304663) */
    spit(OUT "/sincos_const.expr", "f(x) = x*sin(2.6929622508304663) + cos(2.6929622508304663)\n");
    assert_int_equal(generate(OUT "/sincos_const.expr", "sincos_const"), 0);
    assert_int_equal(run_merged(&c, "grep -c 'ADGEN_SIN_COS' " OUT "/sincos_const.c"), 1);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples_have_checkers),
        cmocka_unit_test(test_samples_match_references),
        cmocka_unit_test(test_allfuncs_match_references),
        cmocka_unit_test(test_generated_compiles_with_clang),
        cmocka_unit_test(test_generated_compiles_as_cxx),
        cmocka_unit_test(test_eq5109_same_bits_as_eq5123),
        cmocka_unit_test(test_sin_cos_one_call),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
