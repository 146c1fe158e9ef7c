/* test_cli.c: adgen end to end, as a user runs it from the repository top: the golden error
 * files of tests/errors (exact stderr, exit status 1, no output written, an existing output
 * left untouched), exit statuses and messages of the command line, standard input, the
 * function named after a bare-expression file, --header, name mangling checked by compiling
 * the generated C as C and C++ and running it, and byte-identical output across runs.
 * Scratch files go to build/tests/out. */
#include "testutil.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT "build/tests/out"
#define C99 "gcc -std=c99 -Wall -Wextra -pedantic -Werror"
#define CXX "g++ -x c++ -Wall -Wextra -Werror"

/* ---- helpers -------------------------------------------------------------------------------- */

/* Names in OUT that start with prefix (leftover temporary files of an output). */
static int count_prefixed(const char *prefix)
{
    DIR *dir = opendir(OUT);
    assert_non_null(dir);
    int n = 0;
    for (struct dirent *ent; (ent = readdir(dir));)
        if (strncmp(ent->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(dir);
    return n;
}

/* Reads a file expected to exist. */
static char *must_read(const char *path)
{
    char *text = read_file(path);
    if (!text)
        fail_msg("cannot read %s", path);
    return text;
}

/* Compiles driver (C source text) with the generated source gen_c into OUT/<name> and runs
 * it; returns what it printed. */
static char *build_and_run(const char *name, const char *driver, const char *gen_c,
                           const char *defines)
{
    char path[512];
    snprintf(path, sizeof path, OUT "/%s_driver.c", name);
    spit(path, driver);
    int rc = runf(NULL, C99 " -I" OUT " %s -o " OUT "/%s %s %s -lm 2>" OUT "/%s_cc.stderr",
                  defines, name, path, gen_c, name);
    if (rc != 0) {
        snprintf(path, sizeof path, OUT "/%s_cc.stderr", name);
        char *msg = read_file(path);
        fail_msg("compiling the %s driver failed:\n%s", name, msg ? msg : "");
    }
    char *out;
    assert_int_equal(runf(&out, OUT "/%s", name), 0);
    return out;
}

/* Parses n doubles printed by a driver. */
static void parse_doubles(const char *text, double *v, int n)
{
    const char *s = text;
    for (int i = 0; i < n; i++) {
        char *end;
        v[i] = strtod(s, &end);
        if (end == s)
            fail_msg("expected %d numbers in \"%s\"", n, text);
        s = end;
    }
}

/* The expression source, written to OUT/<name>.expr. */
static void write_input(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, OUT "/%s.expr", name);
    spit(path, text);
}

static int setup(void **state)
{
    (void)state;
    if (run_command("mkdir -p " OUT, NULL) != 0 || !exists_adgen()) {
        fprintf(stderr, "test_cli: run from the top directory after `make`\n");
        return -1;
    }
    return 0;
}

/* ---- golden error files --------------------------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One failed run of tests/errors/<name>.expr into `out`: status 1, stderr as in the .err
 * file, nothing on standard output. Returns the number of problems; `again` shortens the
 * report of a second run. A hanging adgen is killed rather than stalling the suite. */
static int check_failed_run(const char *name, const char *out, const char *expected, int again)
{
    char expr[512], err[512];
    snprintf(expr, sizeof expr, "tests/errors/%s.expr", name);
    snprintf(err, sizeof err, OUT "/%s.stderr", name);
    char *stdout_text;
    int status = runf(&stdout_text, "timeout 10 " ADGEN_CMD " %s -o %s 2>%s", expr, out, err);
    char *actual = read_file(err);
    int problems = 0;
    if (status != 1) {
        print_error("%s: exit status %d, expected 1\n", expr, status);
        problems++;
    }
    if (again && (!actual || strcmp(actual, expected) != 0)) {
        print_error("%s: stderr differs over an existing output too\n", expr);
        problems++;
    } else if (!actual || strcmp(actual, expected) != 0) {
        print_error("%s: stderr differs\n--- expected:\n%s--- actual:\n%s---\n", expr,
                    expected, actual ? actual : "(none)");
        problems++;
    }
    if (stdout_text[0]) {
        print_error("%s: unexpected standard output:\n%s\n", expr, stdout_text);
        problems++;
    }
    free(stdout_text);
    free(actual);
    return problems;
}

/* Runs one error case twice: once with no output file (none may appear), once over an
 * existing one (it must keep its bytes and its inode). */
static int check_error_case(const char *name)
{
    char err_path[512], out[512], prefix[256];
    snprintf(err_path, sizeof err_path, "tests/errors/%s.err", name);
    snprintf(out, sizeof out, OUT "/%s.c", name);
    snprintf(prefix, sizeof prefix, "%s.c.", name);
    char *expected = read_file(err_path);
    if (!expected) {
        print_error("%s: missing\n", err_path);
        return 1;
    }
    unlink(out);
    int problems = check_failed_run(name, out, expected, 0);
    if (exists(out)) {
        print_error("%s: a failed run created %s\n", name, out);
        problems++;
    }

    static const char precious[] = "/* written before the failed run */\n";
    struct stat before, after;
    spit(out, precious);
    assert_int_equal(stat(out, &before), 0);
    problems += check_failed_run(name, out, expected, 1);
    char *kept = read_file(out);
    if (!kept || strcmp(kept, precious) != 0 || stat(out, &after) != 0 ||
        after.st_ino != before.st_ino) {
        print_error("%s: a failed run touched the existing %s\n", name, out);
        problems++;
    }
    if (count_prefixed(prefix) != 0) {
        print_error("%s: temporary files %s* left behind\n", name, prefix);
        problems++;
    }
    free(kept);
    free(expected);
    unlink(out);
    return problems;
}

static void test_errors_golden_files(void **state)
{
    (void)state;
    DIR *dir = opendir("tests/errors");
    assert_non_null(dir);
    char *names[256];
    size_t n = 0;
    for (struct dirent *ent; (ent = readdir(dir));) {
        size_t len = strlen(ent->d_name);
        if (len > 5 && strcmp(ent->d_name + len - 5, ".expr") == 0) {
            assert_true(n < sizeof names / sizeof *names);
            names[n++] = strndup(ent->d_name, len - 5);
        }
    }
    closedir(dir);
    qsort(names, n, sizeof *names, by_name);
    assert_true(n >= 20);

    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        if (check_error_case(names[i]) != 0) {
            print_error("FAILED error case %s\n", names[i]);
            failed++;
        }
        free(names[i]);
    }
    if (failed)
        fail_msg("%d of %zu error cases failed", failed, n);
}

/* A failed run with --header leaves both existing outputs as they were. */
static void test_errors_keep_existing_header(void **state)
{
    (void)state;
    spit(OUT "/keep.c", "old source\n");
    spit(OUT "/keep.h", "old header\n");
    assert_int_equal(runf(NULL, ADGEN_CMD " tests/errors/unknown_variable.expr -o " OUT "/keep.c "
                                "--header " OUT "/keep.h 2>/dev/null"),
                     1);
    char *c = must_read(OUT "/keep.c"), *h = must_read(OUT "/keep.h");
    assert_string_equal(c, "old source\n");
    assert_string_equal(h, "old header\n");
    free(c);
    free(h);
}

/* ---- the command line ----------------------------------------------------------------------- */

static void test_cli_help(void **state)
{
    (void)state;
    const char *forms[] = {"--help", "-h"};
    for (size_t i = 0; i < 2; i++) {
        char *out;
        assert_int_equal(runf(&out, ADGEN_CMD " %s 2>" OUT "/help.stderr", forms[i]), 0);
        assert_contains(out, "Usage:");
        assert_contains(out, "--header");
        free(out);
        char *err = must_read(OUT "/help.stderr");
        assert_string_equal(err, "");
        free(err);
    }
}

static void test_cli_version(void **state)
{
    (void)state;
    const char *forms[] = {"--version", "-V"};
    for (size_t i = 0; i < 2; i++) {
        char *out;
        assert_int_equal(runf(&out, ADGEN_CMD " %s", forms[i]), 0);
        assert_int_equal(strncmp(out, "adgen ", 6), 0);
        assert_true(out[6] >= '0' && out[6] <= '9');
        assert_non_null(strchr(out + 6, '.'));
        assert_int_equal(out[strlen(out) - 1], '\n');
        free(out);
    }
}

/* A usage error: status 2, nothing on standard output, an "adgen: " message on stderr that
 * contains `needle`. */
static void expect_usage_error(const char *args, const char *needle)
{
    char *out;
    int status = runf(&out, ADGEN_CMD " %s 2>" OUT "/usage.stderr", args);
    char *err = must_read(OUT "/usage.stderr");
    if (status != 2)
        fail_msg("adgen %s: exit status %d, expected 2; stderr:\n%s", args, status, err);
    assert_string_equal(out, "");
    assert_int_equal(strncmp(err, "adgen: ", 7), 0);
    assert_contains(err, needle);
    free(out);
    free(err);
}

static void test_cli_no_input_file(void **state)
{
    (void)state;
    expect_usage_error("", "no input file");
    expect_usage_error("-o " OUT "/none.c", "no input file");
    assert_false(exists(OUT "/none.c"));
}

static void test_cli_unknown_option(void **state)
{
    (void)state;
    write_input("ok", "f(x, y) = x*y + sin(x)\n");
    expect_usage_error("--frobnicate " OUT "/ok.expr", "'--frobnicate'");
    expect_usage_error("-z " OUT "/ok.expr", "-z");
    expect_usage_error("-o", "'-o'");
    expect_usage_error("--header - " OUT "/ok.expr", "standard output");
}

/* GNU getopt moves the file name behind the options; the message must still name the bad
 * option, not the file. */
static void test_cli_unknown_option_after_file(void **state)
{
    (void)state;
    write_input("ok", "f(x, y) = x*y + sin(x)\n");
    expect_usage_error(OUT "/ok.expr --frobnicate", "'--frobnicate'");
    expect_usage_error(OUT "/ok.expr -o", "'-o'");
}

static void test_cli_two_input_files(void **state)
{
    (void)state;
    write_input("ok", "f(x, y) = x*y + sin(x)\n");
    write_input("ok2", "g(x) = x\n");
    unlink(OUT "/two.c");
    expect_usage_error(OUT "/ok.expr " OUT "/ok2.expr -o " OUT "/two.c", "ok2.expr");
    assert_false(exists(OUT "/two.c"));
}

static void test_cli_missing_input_file(void **state)
{
    (void)state;
    unlink(OUT "/missing.c");
    expect_usage_error(OUT "/no-such-file.expr -o " OUT "/missing.c",
                       "'" OUT "/no-such-file.expr'");
    assert_false(exists(OUT "/missing.c"));
    assert_int_equal(count_prefixed("missing.c"), 0);
}

static void test_cli_input_is_directory(void **state)
{
    (void)state;
    expect_usage_error("tests -o " OUT "/dir.c", "'tests'");
    assert_false(exists(OUT "/dir.c"));
}

static void test_cli_unwritable_output(void **state)
{
    (void)state;
    write_input("ok", "f(x, y) = x*y + sin(x)\n");
    expect_usage_error(OUT "/ok.expr -o /nonexistent-dir/x.c", "/nonexistent-dir/x.c");
    expect_usage_error(OUT "/ok.expr -o " OUT, "'" OUT "'");
}

static void test_cli_output_device_full(void **state)
{
    (void)state;
    write_input("ok", "f(x, y) = x*y + sin(x)\n");
    expect_usage_error(OUT "/ok.expr -o /dev/full", "/dev/full");
    expect_usage_error(OUT "/ok.expr --output=/dev/full", "/dev/full");
    /* standard output on a full device: the write error must not go unnoticed */
    assert_int_equal(runf(NULL, ADGEN_CMD " " OUT "/ok.expr >/dev/full 2>/dev/null"), 2);
}

/* Both outputs are prepared before either replaces its file: a header that cannot be
 * written leaves no source behind either. */
static void test_cli_unwritable_header(void **state)
{
    (void)state;
    write_input("ok", "f(x, y) = x*y + sin(x)\n");
    unlink(OUT "/hfail.c");
    expect_usage_error(OUT "/ok.expr -o " OUT "/hfail.c --header /nonexistent-dir/x.h",
                       "/nonexistent-dir/x.h");
    assert_false(exists(OUT "/hfail.c"));
    assert_int_equal(count_prefixed("hfail.c"), 0);

    spit(OUT "/hfail.c", OLD_GENERATED "old\n");
    expect_usage_error(OUT "/ok.expr -o " OUT "/hfail.c --header=/nonexistent-dir/x.h",
                       "/nonexistent-dir/x.h");
    char *kept = must_read(OUT "/hfail.c");
    assert_string_equal(kept, OLD_GENERATED "old\n");
    free(kept);
}

/* A file adgen did not write is not replaced: status 2, a message naming it, the file and
 * every other output untouched; --force replaces it; an empty file is not worth protecting. */
static void test_cli_refuses_foreign_output(void **state)
{
    (void)state;
    write_input("ok", "f(x, y) = x*y + sin(x)\n");
    const char *mine = "/* my own robust.c */\ndouble f(double x) { return x; }\n";
    spit(OUT "/robust.c", mine);
    spit(OUT "/robust.h", OLD_GENERATED);
    expect_usage_error(OUT "/ok.expr -o " OUT "/robust.c --header " OUT "/robust.h",
                       OUT "/robust.c");
    char *kept = must_read(OUT "/robust.c");
    assert_string_equal(kept, mine);
    free(kept);
    kept = must_read(OUT "/robust.h");
    assert_string_equal(kept, OLD_GENERATED);
    free(kept);
    assert_int_equal(count_prefixed("robust.c."), 0);
    /* a header is protected as well, and so is the file a symbolic link names */
    expect_usage_error(OUT "/ok.expr -o " OUT "/robust2.c --header " OUT "/robust.c",
                       OUT "/robust.c");
    assert_false(exists(OUT "/robust2.c"));
    assert_int_equal(runf(NULL, "cd " OUT " && rm -f mine.c && ln -s robust.c mine.c"), 0);
    expect_usage_error(OUT "/ok.expr -o " OUT "/mine.c", "mine.c");
    kept = must_read(OUT "/robust.c");
    assert_string_equal(kept, mine);
    free(kept);

    assert_int_equal(runf(NULL, ADGEN_CMD " --force " OUT "/ok.expr -o " OUT "/robust.c"), 0);
    kept = must_read(OUT "/robust.c");
    assert_contains(kept, "f_grad");
    free(kept);
    spit(OUT "/empty.c", "");
    assert_int_equal(runf(NULL, ADGEN_CMD " " OUT "/ok.expr -o " OUT "/empty.c"), 0);
    /* the mark counts only where adgen writes it, at the start of the first line */
    const char *wrapper = "/* wrapper: calls the code Generated by adgen */\n";
    spit(OUT "/wrap.c", wrapper);
    expect_usage_error(OUT "/ok.expr -o " OUT "/wrap.c", OUT "/wrap.c");
    kept = must_read(OUT "/wrap.c");
    assert_string_equal(kept, wrapper);
    free(kept);
    /* a dependency file is replaced only when it is the rule adgen writes for the target */
    const char *deps = "ok.o: ok.c ok.h\n";
    spit(OUT "/ok.d", deps);
    expect_usage_error(OUT "/ok.expr -MD -o " OUT "/ok.c", OUT "/ok.d");
    kept = must_read(OUT "/ok.d");
    assert_string_equal(kept, deps);
    free(kept);
    unlink(OUT "/ok.d");
    assert_int_equal(runf(NULL, ADGEN_CMD " " OUT "/ok.expr -MD -o " OUT "/ok.c"), 0);
    assert_int_equal(runf(NULL, ADGEN_CMD " " OUT "/ok.expr -MD -o " OUT "/ok.c"), 0);
}

/* A successful run replaces an existing output, with the permissions of a new file, and
 * leaves no temporary file. */
static void test_cli_output_replaced_on_success(void **state)
{
    (void)state;
    write_input("ok", "f(x, y) = x*y + sin(x)\n");
    spit(OUT "/replace.c", OLD_GENERATED "junk\n");
    assert_int_equal(runf(NULL, ADGEN_CMD " " OUT "/ok.expr -o " OUT "/replace.c"), 0);
    char *text = must_read(OUT "/replace.c");
    assert_int_equal(strncmp(text, "/* Generated by adgen", 21), 0);
    free(text);
    mode_t mask = umask(022);
    umask(mask);
    struct stat st;
    assert_int_equal(stat(OUT "/replace.c", &st), 0);
    assert_int_equal(st.st_mode & 0777, 0666 & ~mask);
    assert_int_equal(count_prefixed("replace.c."), 0);
}

static const char grad_driver[] =
    "#include <stdio.h>\n"
    "#include HEADER\n"
    "int main(void)\n"
    "{\n"
    "    double gx, gy;\n"
    "    double v = FN_GRAD(X, Y, &gx, &gy);\n"
    "    printf(\"%.17g %.17g %.17g %.17g\\n\", FN(X, Y), v, gx, gy);\n"
    "    return 0;\n"
    "}\n";

/* An inline helper nothing calls is a warning (the file still compiles); one called only in
 * an empty range is called in the source, and no warning. */
static void test_cli_inline_uncalled(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(runf(&out, "printf 'inline h(x) = x^2\\nf(x) = x\\n' | " ADGEN_CMD
                                " - -o /dev/null 2>&1"), 0);
    assert_contains(out, "<stdin>:1:8: warning: 'h' is inline and nothing calls it, so it writes "
                         "nothing");
    free(out);
    assert_int_equal(runf(&out, "printf 'inline h(x) = x^2\\nf(x) = x + prod(i = 1..0, h(x))\\n' "
                                "| " ADGEN_CMD " - -o /dev/null 2>&1"), 0);
    assert_string_equal(out, "");
    free(out);
}

static void test_cli_stdin(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(runf(&out, "printf 'x*x + sin(y)\\n' | " ADGEN_CMD " -"), 0);
    assert_contains(out, "double f(double x, double y)");
    assert_contains(out, "double f_grad(double x, double y, double *x_bar, double *y_bar)");
    free(out);

    assert_int_equal(runf(NULL, "printf 'x*x + sin(y)\\n' | " ADGEN_CMD " - -o " OUT "/stdin.c "
                                "--header " OUT "/stdin.h"),
                     0);
    out = build_and_run("stdin", grad_driver, OUT "/stdin.c",
                        "-DHEADER='\"stdin.h\"' -DFN=f -DFN_GRAD=f_grad -DX=0.5 -DY=2.0");
    double v[4];
    parse_doubles(out, v, 4);
    assert_near(v[0], 0.25 + sin(2.0), 1e-15);
    assert_near(v[1], 0.25 + sin(2.0), 1e-15);
    assert_near(v[2], 1.0, 1e-15);
    assert_near(v[3], cos(2.0), 1e-15);
    free(out);
}

/* Diagnostics for standard input name it "<stdin>". */
static void test_cli_stdin_error(void **state)
{
    (void)state;
    assert_int_equal(runf(NULL, "printf 'x @ 1\\n' | " ADGEN_CMD " - 2>" OUT "/stdin.stderr"), 1);
    char *err = must_read(OUT "/stdin.stderr");
    assert_string_equal(err, "<stdin>:1:3: error: invalid character '@'\n"
                             " x @ 1\n"
                             "   ^\n");
    free(err);
}

static void test_cli_bare_expression_named_after_file(void **state)
{
    (void)state;
    write_input("my-model", "x*y + sin(x)\n");
    assert_int_equal(runf(NULL, ADGEN_CMD " " OUT "/my-model.expr -o " OUT "/my-model.c "
                                "--header " OUT "/my-model.h"),
                     0);
    char *c = must_read(OUT "/my-model.c");
    assert_contains(c, "double my_model(double x, double y)");
    assert_contains(c, "double my_model_grad(double x, double y, double *x_bar, double *y_bar)");
    free(c);
    char *out = build_and_run("my_model", grad_driver, OUT "/my-model.c",
                              "-DHEADER='\"my-model.h\"' -DFN=my_model -DFN_GRAD=my_model_grad "
                              "-DX=2.0 -DY=3.0");
    double v[4];
    parse_doubles(out, v, 4);
    assert_near(v[0], 6 + sin(2.0), 1e-15);
    assert_near(v[1], 6 + sin(2.0), 1e-15);
    assert_near(v[2], 3 + cos(2.0), 1e-15);
    assert_near(v[3], 2.0, 1e-15);
    free(out);
}

/* Inputs of a bare expression come in order of first appearance, not alphabetically; a stem
 * that does not start like an identifier gets a prefix. */
static void test_cli_bare_expression_input_order(void **state)
{
    (void)state;
    write_input("order", "b*exp(a) + c*b\n");
    char *out;
    assert_int_equal(runf(&out, ADGEN_CMD " " OUT "/order.expr"), 0);
    assert_contains(out, "double order(double b, double a, double c)");
    free(out);
    write_input("2d", "pi*r^2\n");
    assert_int_equal(runf(&out, ADGEN_CMD " " OUT "/2d.expr"), 0);
    assert_contains(out, "double f_2d(double r)");
    free(out);
}

static const char repro_src[] =
    "# several definitions, a block, sharing and mangled names\n"
    "f(x) = sqrt(x^2 + exp(x^2)) + cos(x^2 + exp(x^2))\n"
    "g(x) {\n"
    "    a = x^2\n"
    "    b = exp(a)\n"
    "    c = a + b\n"
    "    return sqrt(c) + cos(c)\n"
    "}\n"
    "h(int, exp, f, x_bar) = int*exp + f*x_bar + exp(int)\n"
    "k(x, y) = atan2(y, x) * hypot(x, y) + max(x, y) / min(x, 2) + pow(x, y)\n";

static void test_cli_reproducible(void **state)
{
    (void)state;
    assert_int_equal(runf(NULL, "mkdir -p " OUT "/r1 " OUT "/r2"), 0);
    write_input("repro", repro_src);
    /* the same command twice (the output's name is in its #line directives) */
    for (int i = 1; i <= 2; i++)
        assert_int_equal(runf(NULL, ADGEN_CMD " " OUT "/repro.expr -o " OUT "/repro.c --header "
                                    OUT "/repro.h && mv " OUT "/repro.c " OUT "/repro.h "
                                    OUT "/r%d/", i),
                         0);
    assert_int_equal(runf(NULL, "cmp " OUT "/r1/repro.c " OUT "/r2/repro.c"), 0);
    assert_int_equal(runf(NULL, "cmp " OUT "/r1/repro.h " OUT "/r2/repro.h"), 0);
    /* without --header, and to standard output: the same text, less the #line returns */
    assert_int_equal(runf(NULL, ADGEN_CMD " --no-line " OUT "/repro.expr -o " OUT "/r1/a.c"), 0);
    assert_int_equal(runf(NULL, ADGEN_CMD " --no-line " OUT "/repro.expr > " OUT "/r2/a.c"), 0);
    assert_int_equal(runf(NULL, "cmp " OUT "/r1/a.c " OUT "/r2/a.c"), 0);
    assert_int_equal(runf(NULL, C99 " -c -o " OUT "/repro.o " OUT "/r1/repro.c"), 0);
}

/* The text of line `prefix...` up to the end of the line, or NULL. */
static char *line_after(const char *text, const char *prefix)
{
    const char *s = strstr(text, prefix);
    if (!s)
        return NULL;
    s += strlen(prefix);
    return strndup(s, strcspn(s, "\n"));
}

static void test_cli_header(void **state)
{
    (void)state;
    write_input("repro", repro_src);
    assert_int_equal(runf(NULL, ADGEN_CMD " " OUT "/repro.expr -o " OUT "/hdr.c --header "
                                OUT "/hdr.h"),
                     0);
    char *h = must_read(OUT "/hdr.h"), *c = must_read(OUT "/hdr.c");
    /* an include guard around everything */
    char *guard = line_after(h, "\n#ifndef ");
    assert_non_null(guard);
    assert_true(strlen(guard) > 0);
    char define[256];
    /* gcc -fsanitize=undefined loses that assert_non_null returned: no null-format warning */
    snprintf(define, sizeof define, "\n#define %s\n", guard ? guard : "");
    assert_contains(h, define);
    assert_true(strstr(h, define) == strstr(h, "\n#ifndef ") + 9 + strlen(guard));
    size_t len = strlen(h);
    assert_true(len > 8 && strcmp(h + len - 8, "\n#endif\n") == 0);
    assert_contains(h, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n");
    assert_contains(h, "#ifdef __cplusplus\n}\n#endif\n");
    /* every prototype of the source, word for word */
    int protos = 0;
    for (const char *s = c; (s = strstr(s, "\nADGEN_FUNC double ")); s++) {
        const char *eol = strchr(s + 1, '\n');
        if (eol[-1] != ';')
            continue;
        char *proto = strndup(s + 1, (size_t)(eol - s));
        assert_contains(h, proto);
        free(proto);
        protos++;
    }
    assert_int_equal(protos, 8);
    assert_contains(h, "double g(double x);");
    assert_contains(h, "double g_grad(double x, double *x_bar);");
    free(guard);
    free(h);
    free(c);

    /* stands alone in C and C++; included twice it declares nothing twice (the guard) */
    spit(OUT "/hdr_twice.c", "#include \"hdr.h\"\n#include \"hdr.h\"\n");
    assert_int_equal(runf(NULL, C99 " -Wredundant-decls -fsyntax-only " OUT "/hdr_twice.c"), 0);
    assert_int_equal(runf(NULL, CXX " -Wredundant-decls -fsyntax-only " OUT "/hdr_twice.c"), 0);
}

/* Reads the two prototypes of the single function in a header: its C name and its
 * gradient's. */
static void function_names(const char *header, char *fn, char *grad, size_t size)
{
    fn[0] = grad[0] = '\0';
    for (const char *s = header; (s = strstr(s, "\nADGEN_FUNC double ")); s++) {
        const char *name = s + 19;
        size_t n = strcspn(name, "(");
        char *dst = n > 5 && strncmp(name + n - 5, "_grad", 5) == 0 ? grad : fn;
        assert_true(n < size);
        memcpy(dst, name, n);
        dst[n] = '\0';
    }
    assert_true(fn[0] && grad[0]);
}

static const char mangle_driver[] =
    "#include <stdio.h>\n"
    "#include \"mangle.h\"\n"
    "int main(void)\n"
    "{\n"
    "    double g[4];\n"
    "    double v = FN_GRAD(0.5, 1.5, -2.0, 3.0, &g[0], &g[1], &g[2], &g[3]);\n"
    "    printf(\"%.17g %.17g %.17g %.17g %.17g %.17g\\n\", FN(0.5, 1.5, -2.0, 3.0), v,\n"
    "           g[0], g[1], g[2], g[3]);\n"
    "    return 0;\n"
    "}\n";

/* Inputs named like a C keyword, a <math.h> function, the function itself and a generated
 * adjoint name. */
static void test_cli_mangling(void **state)
{
    (void)state;
    write_input("mangle", "f(int, exp, f, x_bar) = int*exp + f*x_bar + exp(int)\n");
    assert_int_equal(runf(NULL, ADGEN_CMD " " OUT "/mangle.expr -o " OUT "/mangle.c --header "
                                OUT "/mangle.h"),
                     0);
    assert_int_equal(runf(NULL, C99 " -c -o " OUT "/mangle.o " OUT "/mangle.c"), 0);
    assert_int_equal(runf(NULL, CXX " -c -o " OUT "/mangle_cxx.o " OUT "/mangle.c"), 0);

    char *h = must_read(OUT "/mangle.h");
    char fn[128], grad[128], defines[512];
    function_names(h, fn, grad, sizeof fn);
    free(h);
    snprintf(defines, sizeof defines, "-DFN=%s -DFN_GRAD=%s", fn, grad);
    char *out = build_and_run("mangle", mangle_driver, OUT "/mangle.c", defines);
    double v[6];
    parse_doubles(out, v, 6);
    free(out);
    double i = 0.5, e = 1.5, f = -2.0, xb = 3.0;
    assert_near(v[0], i * e + f * xb + exp(i), 1e-15);
    assert_near(v[1], i * e + f * xb + exp(i), 1e-15);
    assert_near(v[2], e + exp(i), 1e-15); /* d/dint */
    assert_near(v[3], i, 1e-15);           /* d/dexp */
    assert_near(v[4], xb, 1e-15);          /* d/df */
    assert_near(v[5], f, 1e-15);           /* d/dx_bar */

    /* a C++ driver links with the C object through the header's extern "C" */
    assert_int_equal(runf(NULL, "g++ -Wall -Wextra -Werror -I" OUT " %s -o " OUT "/mangle_cxx "
                                "-x c++ " OUT "/mangle_driver.c -x none " OUT "/mangle.o -lm",
                          defines),
                     0);
    char *out_cxx;
    assert_int_equal(runf(&out_cxx, OUT "/mangle_cxx"), 0);
    double w[6];
    parse_doubles(out_cxx, w, 6);
    free(out_cxx);
    for (int k = 0; k < 6; k++)
        assert_near(w[k], v[k], 0);
}

/* C++ keywords, <math.h> macros and names adgen uses for its temporaries. */
static void test_cli_mangling_keywords_and_macros(void **state)
{
    (void)state;
    write_input("keywords", "g(class, new, this, NAN, errno, t1, HUGE_VAL) {\n"
                            "    restrict = class*new + exp(this)\n"
                            "    t2 = restrict * NAN + errno*t1\n"
                            "    return t2 * sin(HUGE_VAL)\n"
                            "}\n"
                            "main(x) = x\n");
    assert_int_equal(runf(NULL, ADGEN_CMD " " OUT "/keywords.expr -o " OUT "/keywords.c"), 0);
    assert_int_equal(runf(NULL, C99 " -c -o " OUT "/keywords.o " OUT "/keywords.c"), 0);
    assert_int_equal(runf(NULL, CXX " -c -o " OUT "/keywords.o " OUT "/keywords.c"), 0);
}

/* Inputs and locals named like the temporaries and their derivatives (t<n>, t<n>_bar, _dot,
 * _hv, which names.c keeps as bits of n) or nearly so (t01, t9_bars, a number past 2^31) beside
 * hundreds of temporaries: every entry point compiles, under C and C++ with -Wshadow. */
static void test_cli_mangling_temporary_names(void **state)
{
    (void)state;
    Buf in = {0};
    buf_puts(&in, "g(t1, t1_bar, t2_dot, t01, t3_hv, t9_bars, t2147483648) {\n"
                  "    t4 = sin(t1)*t1_bar + t2_dot*t2147483648\n"
                  "    t4_bar = t4*t01 + cos(t3_hv)*t9_bars\n"
                  "    t5_dot = t4_bar*t4");
    static const char *const in_sum[] = {"t1", "t01", "t3_hv"};
    for (int k = 0; k < 300; k++)
        buf_printf(&in, " + sin(%s*t4_bar + %d)*t1_bar", in_sum[k % 3], k);
    buf_puts(&in, "\n    return t5_dot*t4\n}\n");
    write_input("temporaries", in.data);
    buf_free(&in);
    assert_int_equal(runf(NULL, ADGEN_CMD " --emit=all " OUT "/temporaries.expr -o " OUT
                                "/temporaries.c"), 0);
    assert_int_equal(runf(NULL, C99 " -Wshadow -c -o " OUT "/temporaries.o " OUT
                                "/temporaries.c"), 0);
    assert_int_equal(runf(NULL, CXX " -Wshadow -c -o " OUT "/temporaries.o " OUT
                                "/temporaries.c"), 0);
}

/* Identifiers C reserves to the implementation (C99 7.1.3) are legal adgen names and must be
 * mangled into usable ones. */
static void test_cli_mangling_reserved_identifiers(void **state)
{
    (void)state;
    write_input("reserved", "f(x, __y, _Z) = x*__y + _Z\n");
    int status = runf(NULL, "timeout 5 " ADGEN_CMD " " OUT "/reserved.expr -o " OUT "/reserved.c");
    if (status != 0)
        fail_msg("adgen exited with %d on inputs __y and _Z (124: killed after 5 s)", status);
    assert_int_equal(runf(NULL, C99 " -c -o " OUT "/reserved.o " OUT "/reserved.c"), 0);
}

static void test_cli_crlf_input(void **state)
{
    (void)state;
    write_input("crlf", "# written on Windows\r\n"
                        "g(x) {\r\n"
                        "    a = x*x  # squared\r\n"
                        "    return a + 1\r\n"
                        "}\r\n"
                        "h(x, y) = x*y\r\n");
    assert_int_equal(runf(NULL, ADGEN_CMD " " OUT "/crlf.expr -o " OUT "/crlf.c 2>" OUT
                                "/crlf.stderr"),
                     0);
    char *c = must_read(OUT "/crlf.c"), *err = must_read(OUT "/crlf.stderr");
    assert_string_equal(err, "");
    assert_null(strchr(c, '\r'));
    assert_contains(c, "double g_grad(double x, double *x_bar)");
    assert_contains(c, "double h(double x, double y)");
    free(c);
    free(err);
    assert_int_equal(runf(NULL, C99 " -c -o " OUT "/crlf.o " OUT "/crlf.c"), 0);
}

static void test_cli_no_final_newline(void **state)
{
    (void)state;
    static const char *const sources[] = {
        "f(x) = x*x",
        "g(x) {\n    return x*x\n}",
        "x*x + 1 # a comment at the end",
    };
    for (size_t i = 0; i < sizeof sources / sizeof *sources; i++) {
        write_input("nonl", sources[i]);
        int status = runf(NULL, ADGEN_CMD " " OUT "/nonl.expr -o " OUT "/nonl.c");
        if (status != 0)
            fail_msg("adgen exited with %d on \"%s\"", status, sources[i]);
        assert_int_equal(runf(NULL, C99 " -c -o " OUT "/nonl.o " OUT "/nonl.c"), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors_golden_files),
        cmocka_unit_test(test_errors_keep_existing_header),
        cmocka_unit_test(test_cli_help),
        cmocka_unit_test(test_cli_version),
        cmocka_unit_test(test_cli_no_input_file),
        cmocka_unit_test(test_cli_unknown_option),
        cmocka_unit_test(test_cli_unknown_option_after_file),
        cmocka_unit_test(test_cli_two_input_files),
        cmocka_unit_test(test_cli_missing_input_file),
        cmocka_unit_test(test_cli_input_is_directory),
        cmocka_unit_test(test_cli_unwritable_output),
        cmocka_unit_test(test_cli_output_device_full),
        cmocka_unit_test(test_cli_unwritable_header),
        cmocka_unit_test(test_cli_output_replaced_on_success),
        cmocka_unit_test(test_cli_refuses_foreign_output),
        cmocka_unit_test(test_cli_stdin),
        cmocka_unit_test(test_cli_inline_uncalled),
        cmocka_unit_test(test_cli_stdin_error),
        cmocka_unit_test(test_cli_bare_expression_named_after_file),
        cmocka_unit_test(test_cli_bare_expression_input_order),
        cmocka_unit_test(test_cli_reproducible),
        cmocka_unit_test(test_cli_header),
        cmocka_unit_test(test_cli_mangling),
        cmocka_unit_test(test_cli_mangling_keywords_and_macros),
        cmocka_unit_test(test_cli_mangling_temporary_names),
        cmocka_unit_test(test_cli_mangling_reserved_identifiers),
        cmocka_unit_test(test_cli_crlf_input),
        cmocka_unit_test(test_cli_no_final_newline),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
