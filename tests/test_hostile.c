/* test_hostile.c: adgen against hostile and huge inputs, as other people's builds may feed
 * it: 100,000-deep parentheses, unary minus and calls (no stack overflow, also in the ASan
 * pass), a 10 MB expression, 20,000 definitions, inputs over 2 GB, NUL bytes, invalid UTF-8,
 * a 10,000-character identifier, an unreadable input, a full disk (/dev/full and a file size
 * limit) and unwritable outputs for the source, the header and the dependency file, an
 * output of megabytes (written while it is printed), and --check against a directory. Each run ends with correct output or a located message, the
 * documented exit status, and no partial or temporary file. What test_cli.c and tests/errors/
 * cover already (empty and comment-only files, CRLF, no final newline, 1e999, 0x1p3, a
 * missing or directory input, -o /dev/full) is not repeated. Inputs are generated here, into
 * build/tests/hostile. */
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT "build/tests/hostile"
#define C99 "gcc -std=c99 -Wall -Wextra -pedantic -Werror"
#define DEEP 100000

/* ---- helpers -------------------------------------------------------------------------------- */

static void write_bytes(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Fails when OUT holds a file whose name starts with `prefix`: an output (or the temporary
 * file of one) that a failed run left behind. */
static void assert_no_file(const char *prefix)
{
    DIR *dir = opendir(OUT);
    assert_non_null(dir);
    for (struct dirent *ent; (ent = readdir(dir));)
        if (strncmp(ent->d_name, prefix, strlen(prefix)) == 0)
            fail_msg("a failed run left " OUT "/%s behind", ent->d_name);
    closedir(dir);
}

static char *must_read(const char *path)
{
    char *text = read_file(path);
    if (!text)
        fail_msg("cannot read %s", path);
    return text;
}

/* Runs adgen with args, standard error to OUT/stderr; returns the status and the message. */
static int adgen_err(char **err, const char *args)
{
    int status = runf(NULL, "timeout 120 " ADGEN_CMD " %s >/dev/null 2>" OUT "/stderr", args);
    *err = must_read(OUT "/stderr");
    return status;
}

/* The value and derivative `adgen eval` prints for the one-input function in path at x. */
static void eval_at(const char *path, const char *x, double *value, double *slope)
{
    char *out;
    assert_int_equal(runf(&out, "timeout 120 " ADGEN_CMD " eval %s x=%s", path, x), 0);
    const char *d = strstr(out, "\nd");
    if (sscanf(out, "%*s = %lf", value) != 1 || !d || sscanf(d, "%*s = %lf", slope) != 1)
        fail_msg("unexpected output of adgen eval %s:\n%s", path, out);
    free(out);
}

/* A source made of `head`, then `n` copies of `repeat`, then `middle`, then `n` copies of
 * `close`, then a line break. */
static void write_nested(const char *path, const char *head, const char *repeat,
                         const char *middle, const char *close, size_t n)
{
    Buf b = {0};
    buf_printf(&b, "%s", head);
    for (size_t i = 0; i < n; i++)
        buf_printf(&b, "%s", repeat);
    buf_printf(&b, "%s", middle);
    for (size_t i = 0; i < n; i++)
        buf_printf(&b, "%s", close);
    buf_printf(&b, "\n");
    write_bytes(path, b.data, b.len);
    buf_free(&b);
}

/* f(x) = x + sin(1*x) + ... + sin(n*x), into path. */
static void write_sines(const char *path, int n)
{
    Buf src = {0};
    buf_printf(&src, "f(x) = x");
    for (int i = 1; i <= n; i++)
        buf_printf(&src, " + sin(%d*x)", i);
    buf_printf(&src, "\n");
    spit(path, src.data);
    buf_free(&src);
}

/* adgen path -o OUT/<name>.c must succeed and write C that compiles. */
static void assert_compiles(const char *path, const char *name)
{
    assert_int_equal(runf(NULL, "timeout 120 " ADGEN_CMD " %s -o " OUT "/%s.c", path, name), 0);
    assert_int_equal(runf(NULL, C99 " -c -o " OUT "/%s.o " OUT "/%s.c", name, name), 0);
}

static int setup(void **state)
{
    (void)state;
    if (run_command("rm -rf " OUT " && mkdir -p " OUT, NULL) != 0 || !exists_adgen()) {
        fprintf(stderr, "test_hostile: run from the top directory after `make`\n");
        return -1;
    }
    return 0;
}

/* ---- deep and huge -------------------------------------------------------------------------- */

static void test_hostile_nested_parentheses(void **state)
{
    (void)state;
    write_nested(OUT "/parens.expr", "f(x) = 2 * ", "(", "x + 1", ")", DEEP);
    assert_compiles(OUT "/parens.expr", "parens");
    double v, d;
    eval_at(OUT "/parens.expr", "3", &v, &d);
    assert_near(v, 8, 0);
    assert_near(d, 2, 0);
}

/* An even and an odd number of signs: the chain must not be cut short anywhere. */
static void test_hostile_unary_minus_chain(void **state)
{
    (void)state;
    write_nested(OUT "/minus.expr", "f(x) = ", "-", "x*x", "", DEEP);
    write_nested(OUT "/minus1.expr", "f(x) = ", "-", "x*x", "", DEEP + 1);
    assert_compiles(OUT "/minus.expr", "minus");
    assert_compiles(OUT "/minus1.expr", "minus1");
    double v, d;
    eval_at(OUT "/minus.expr", "3", &v, &d);
    assert_near(v, 9, 0);
    assert_near(d, 6, 0);
    eval_at(OUT "/minus1.expr", "3", &v, &d);
    assert_near(v, -9, 0);
    assert_near(d, -6, 0);
}

/* sin(sin(...sin(x)...)): unlike parentheses and signs this does not fold away, so the DAG,
 * the adjoint sweep and the emitted C are all 100,000 deep. Checked against the chain rule
 * computed here. */
static void test_hostile_nested_calls(void **state)
{
    (void)state;
    write_nested(OUT "/sines.expr", "f(x) = ", "sin(", "x", ")", DEEP);
    assert_int_equal(runf(NULL, "timeout 120 " ADGEN_CMD " --no-line " OUT "/sines.expr -o " OUT
                                "/sines.c --header " OUT "/sines.h"),
                     0);
    char *c = must_read(OUT "/sines.c");
    size_t n = strlen(c);
    assert_true(n > 2 && strcmp(c + n - 2, "}\n") == 0);
    /* the 100,000 cosines the reverse sweep reads are the caller's, not an 800 KB frame */
    assert_contains(c, "double f_grad(double x, double *x_bar, double *work)");
    free(c);
    c = must_read(OUT "/sines.h");
    assert_contains(c, "#define F_WORK() ");
    free(c);
    double x = 0.5, slope = 1, v, d;
    for (int i = 0; i < DEEP; i++) {
        slope *= cos(x);
        x = sin(x);
    }
    eval_at(OUT "/sines.expr", "0.5", &v, &d);
    assert_near(v, x, 1e-9);
    assert_near(d, slope, 1e-9);
}

/* 10 MB on one line: x + x*1.5 + x*1.5 + ... */
static void test_hostile_ten_megabyte_expression(void **state)
{
    (void)state;
    static const char term[] = " + x*1.5";
    size_t n = 10 * 1024 * 1024 / (sizeof term - 1);
    write_nested(OUT "/huge.expr", "f(x) = x", term, "", "", n);
    assert_int_equal(runf(NULL, "timeout 120 " ADGEN_CMD " --no-line " OUT "/huge.expr -o " OUT
                                "/huge.c --header " OUT "/huge.h"),
                     0);
    char *c = must_read(OUT "/huge.c");
    size_t len = strlen(c);
    assert_true(len > 10 * 1024 * 1024 && strcmp(c + len - 2, "}\n") == 0);
    free(c);
    double v, d;
    eval_at(OUT "/huge.expr", "2", &v, &d);
    assert_near(v, 2 * (1 + 1.5 * (double)n), 1e-12);
    assert_near(d, 1 + 1.5 * (double)n, 1e-12);
}

/* 20,000 one-line definitions (400 kB). Each definition's names used to start as a copy of
 * all the file's names: quadratic, 74 s and 20 GB here. The first definition's inputs are
 * named after generated functions, so they must still be renamed. The limit is 60 s of CPU
 * time, which make test's other jobs beside this one do not eat into as they do into
 * seconds of the clock (timeout only catches a hang). */
static void test_hostile_many_definitions(void **state)
{
    (void)state;
    Buf src = {0};
    buf_printf(&src, "f0(f1, f0_grad) = f1 * f0_grad\n");
    for (int i = 1; i < 20000; i++)
        buf_printf(&src, "f%d(x) = x*%d\n", i, i);
    spit(OUT "/many.expr", src.data);
    buf_free(&src);
    assert_int_equal(runf(NULL, "ulimit -t 60; timeout 600 " ADGEN_CMD " " OUT "/many.expr -o " OUT
                                "/many.c --header " OUT "/many.h"),
                     0);
    char *c = must_read(OUT "/many.c");
    assert_contains(c, "double f0(double f1_, double f0_grad_)");
    assert_contains(c, "double f19999_grad(double x, double *x_bar)");
    free(c);
}

/* Inputs longer than an int, through the pipeline in memory (zero pages that are never
 * touched): flex's int length made the first abort in the scanner and cut the second to its
 * last 16 bytes, without a word. */
static void test_hostile_input_too_large(void **state)
{
    (void)state;
    static const size_t lengths[] = {(size_t)INT_MAX + 16, ((size_t)1 << 32) + 16};
    int fd = open("/dev/zero", O_RDONLY);
    assert_true(fd >= 0);
    for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++) {
        char *src = mmap(NULL, lengths[i], PROT_READ, MAP_PRIVATE, fd, 0);
        assert_true(src != MAP_FAILED);
        char *messages, expected[128];
        size_t size;
        FILE *f = open_memstream(&messages, &size);
        EmitOptions opt = {0};
        Buf c = {0};
        assert_int_equal(compile_source("big.expr", src, lengths[i], "big", &opt, f, &c, NULL),
                         1);
        fclose(f);
        snprintf(expected, sizeof expected,
                 "big.expr: error: input too large: %zu bytes, at most %d\n", lengths[i],
                 INT_MAX - 2);
        assert_string_equal(messages, expected);
        assert_int_equal(c.len, 0);
        free(messages);
        assert_int_equal(munmap(src, lengths[i]), 0);
    }
    close(fd);
}

static void test_hostile_long_identifier(void **state)
{
    (void)state;
    Buf name = {0}, src = {0};
    for (int i = 0; i < 10000; i++)
        buf_putn(&name, &"abcdefghijklmnopqrstuvwxyz_"[i % 27], 1);
    buf_printf(&src, "f(%s) = %s * %s\n", name.data, name.data, name.data);
    spit(OUT "/longid.expr", src.data);
    assert_compiles(OUT "/longid.expr", "longid");
    char *c = must_read(OUT "/longid.c");
    assert_contains(c, name.data);
    free(c);
    buf_free(&name);
    buf_free(&src);
}

/* ---- bytes that are not the language -------------------------------------------------------- */

static void test_hostile_nul_bytes(void **state)
{
    (void)state;
    static const char in_expr[] = "f(x) = x\0 + 1\n";
    write_bytes(OUT "/nul.expr", in_expr, sizeof in_expr - 1);
    char *err;
    assert_int_equal(adgen_err(&err, OUT "/nul.expr -o " OUT "/nul.c"), 1);
    assert_contains(err, OUT "/nul.expr:1:9: error: invalid byte 0x00\n");
    assert_no_file("nul.c");
    free(err);

    /* a comment may hold anything up to the line break */
    static const char in_comment[] = "# a\0b\nf(x) = x\n";
    write_bytes(OUT "/nulc.expr", in_comment, sizeof in_comment - 1);
    assert_compiles(OUT "/nulc.expr", "nulc");
}

static void test_hostile_invalid_utf8(void **state)
{
    (void)state;
    char *err;
    spit(OUT "/utf.expr", "f(x) = (x +\n    \xc3\x28 + 1)\n");
    assert_int_equal(adgen_err(&err, OUT "/utf.expr -o " OUT "/utf.c"), 1);
    assert_contains(err, OUT "/utf.expr:2:5: error: invalid byte 0xc3\n");
    assert_no_file("utf.c");
    free(err);

    spit(OUT "/utf2.expr", "g(y) = y * \xff\xfe\n");
    assert_int_equal(adgen_err(&err, OUT "/utf2.expr -o " OUT "/utf2.c"), 1);
    assert_contains(err, OUT "/utf2.expr:1:12: error: invalid byte 0xff\n");
    assert_no_file("utf2.c");
    free(err);

    /* valid UTF-8 is not an identifier either */
    spit(OUT "/utf3.expr", "f(\xc3\xa9) = 1\n");
    assert_int_equal(adgen_err(&err, OUT "/utf3.expr -o " OUT "/utf3.c"), 1);
    assert_contains(err, OUT "/utf3.expr:1:3: error: invalid character '\xc3\xa9' (U+00E9)\n");
    free(err);

    spit(OUT "/utfc.expr", "# caf\xc3\xa9 \xff\xfe\nf(x) = x\n");
    assert_compiles(OUT "/utfc.expr", "utfc");
}

/* ---- files that cannot be read or written --------------------------------------------------- */

/* chmod 000 stops reads only for other users than root. As root, adgen runs as nobody
 * (setpriv), after a control run that shows nobody can read the same file once it is
 * readable again. */
static void test_hostile_unreadable_input(void **state)
{
    (void)state;
    const char *as = geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
    if (*as && runf(NULL, "command -v setpriv >/dev/null") != 0)
        fail_msg("running as root: setpriv (util-linux) is needed to test an unreadable file");
    spit(OUT "/locked.expr", "f(x) = x*x\n");
    char *out;
    assert_int_equal(chmod(OUT "/locked.expr", 0644), 0);
    assert_int_equal(runf(&out, "%s" ADGEN_CMD " " OUT "/locked.expr", as), 0);
    assert_contains(out, "double f_grad(");
    free(out);

    assert_int_equal(chmod(OUT "/locked.expr", 0), 0);
    assert_int_equal(runf(&out, "%s" ADGEN_CMD " " OUT "/locked.expr 2>" OUT "/stderr", as), 2);
    assert_string_equal(out, "");
    free(out);
    char *err = must_read(OUT "/stderr");
    assert_string_equal(err, "adgen: cannot open '" OUT "/locked.expr': Permission denied\n");
    free(err);
    assert_int_equal(chmod(OUT "/locked.expr", 0644), 0);
}

/* A file that opens but fails at the read: /proc/self/mem at offset 0 (EIO). */
static void test_hostile_read_error(void **state)
{
    (void)state;
    char *err;
    assert_int_equal(adgen_err(&err, "/proc/self/mem -o " OUT "/mem.c"), 2);
    assert_string_equal(err, "adgen: cannot read '/proc/self/mem': Input/output error\n");
    assert_no_file("mem.c");
    free(err);
}

static void test_hostile_full_device(void **state)
{
    (void)state;
    spit(OUT "/ok.expr", "f(x, y) = x*y + sin(x)\n");
    char *err;
    assert_int_equal(adgen_err(&err, OUT "/ok.expr -o " OUT "/full.c --header /dev/full"), 2);
    assert_string_equal(err, "adgen: cannot write '/dev/full': No space left on device\n");
    free(err);
    assert_no_file("full.");

    assert_int_equal(adgen_err(&err, OUT "/ok.expr -o /dev/full --header " OUT "/full.h"), 2);
    free(err);
    assert_int_equal(adgen_err(&err, OUT "/ok.expr -o " OUT "/full.c --header " OUT
                                    "/full.h -MF /dev/full"),
                     2);
    assert_string_equal(err, "adgen: cannot write '/dev/full': No space left on device\n");
    free(err);
    assert_no_file("full.");
}

/* Standard output cannot be taken back once written: a header or dependency file that
 * cannot be written must fail the run before the C reaches it. */
static void test_hostile_stdout_untouched_on_failure(void **state)
{
    (void)state;
    spit(OUT "/ok.expr", "f(x, y) = x*y + sin(x)\n");
    static const char *const args[] = {
        OUT "/ok.expr --header /nonexistent-dir/x.h",
        OUT "/ok.expr -o /dev/stdout --header /nonexistent-dir/x.h",
        OUT "/ok.expr -o /dev/stdout -MF /nonexistent-dir/x.d",
    };
    for (size_t i = 0; i < sizeof args / sizeof *args; i++) {
        char *out;
        int status = runf(&out, ADGEN_CMD " %s 2>/dev/null", args[i]);
        if (status != 2 || out[0])
            fail_msg("adgen %s: status %d, expected 2, and standard output:\n%s", args[i],
                     status, out);
        free(out);
    }
}

/* A disk that fills up under a regular file: the file size limit makes writes fail with
 * EFBIG (SIGXFSZ ignored), so adgen's temporary file fails midway and must vanish. */
static void test_hostile_disk_full_midway(void **state)
{
    (void)state;
    write_sines(OUT "/long.expr", 299);
    static const char *const outputs[] = {
        "-o " OUT "/limit.c",
        "-o " OUT "/limit.c --header " OUT "/limit.h -MD",
    };
    for (size_t i = 0; i < sizeof outputs / sizeof *outputs; i++) {
        int status = runf(NULL, "trap '' XFSZ; ulimit -f 8 && " ADGEN_CMD " " OUT
                                "/long.expr %s 2>" OUT "/stderr", outputs[i]);
        char *err = must_read(OUT "/stderr");
        assert_int_equal(status, 2);
        assert_string_equal(err, "adgen: cannot write '" OUT "/limit.c': File too large\n");
        free(err);
        assert_no_file("limit.");
    }
}

/* Whether every `#line N "path"` in text, on line L, says N = L + 1. */
static void assert_lines_point_back(const char *text, const char *path)
{
    char want[512];
    int n = snprintf(want, sizeof want, "\"%s\"\n", path), directives = 0;
    long line = 1;
    for (const char *at = text; *at; line++) {
        const char *end = strchr(at, '\n');
        long said;
        if (sscanf(at, "#line %ld ", &said) == 1 && strncmp(strchr(at, '"'), want, n) == 0) {
            if (said != line + 1)
                fail_msg("%s:%ld: #line %ld, the next line is %ld", path, line, said, line + 1);
            directives++;
        }
        at = end ? end + 1 : at + strlen(at);
    }
    assert_true(directives > 100);
}

/* An output of megabytes goes into its temporary file while it is printed: the same bytes as
 * on standard output (which is written whole), its #line directives counted across the
 * pieces, and a full disk, a file adgen did not write and a symbolic link handled as for a
 * small one. */
static void test_hostile_large_output_streamed(void **state)
{
    (void)state;
    write_sines(OUT "/big.expr", 20000);
    char *piped;
    assert_int_equal(runf(&piped, ADGEN_CMD " --no-line " OUT "/big.expr -o -"), 0);
    assert_int_equal(runf(NULL, ADGEN_CMD " --no-line " OUT "/big.expr -o " OUT "/big.c"), 0);
    char *file = must_read(OUT "/big.c");
    assert_true(strlen(file) > 3 * 1024 * 1024);
    assert_string_equal(file, piped);
    free(file);
    free(piped);
    assert_no_file("big.c.");

    assert_int_equal(runf(NULL, "chmod 600 " OUT "/big.c && " ADGEN_CMD " " OUT "/big.expr -o "
                                OUT "/big.c && test \"$(stat -c %%a " OUT "/big.c)\" = 600"), 0);
    file = must_read(OUT "/big.c");
    assert_lines_point_back(file, OUT "/big.c");
    free(file);

    char *err;
    int status = runf(NULL, "trap '' XFSZ; ulimit -f 2048 && " ADGEN_CMD " " OUT "/big.expr -o "
                            OUT "/bigfull.c 2>" OUT "/stderr");
    err = must_read(OUT "/stderr");
    assert_int_equal(status, 2);
    assert_string_equal(err, "adgen: cannot write '" OUT "/bigfull.c': File too large\n");
    free(err);
    assert_no_file("bigfull.");

    spit(OUT "/bigmine.c", "int mine;\n");
    assert_int_equal(adgen_err(&err, OUT "/big.expr -o " OUT "/bigmine.c"), 2);
    assert_contains(err, "refusing to overwrite '" OUT "/bigmine.c'");
    free(err);
    file = must_read(OUT "/bigmine.c");
    assert_string_equal(file, "int mine;\n");
    free(file);
    /* a header adgen did not write is refused once the C is printed into its file */
    spit(OUT "/bigmine.h", "int mine;\n");
    assert_int_equal(adgen_err(&err, OUT "/big.expr -o " OUT "/bigother.c --header " OUT
                                    "/bigmine.h"), 2);
    assert_contains(err, "refusing to overwrite '" OUT "/bigmine.h'");
    free(err);
    assert_no_file("bigother.");
    DIR *dir = opendir(OUT);
    assert_non_null(dir);
    for (struct dirent *ent; (ent = readdir(dir));)
        if (strncmp(ent->d_name, "bigmine.c.", 10) == 0 ||
            strncmp(ent->d_name, "bigmine.h.", 10) == 0)
            fail_msg("a refused run left " OUT "/%s behind", ent->d_name);
    closedir(dir);

    assert_int_equal(runf(NULL, "ln -sf big.c " OUT "/biglink.c && " ADGEN_CMD " --no-line " OUT
                                "/big.expr -o " OUT "/biglink.c && test -L " OUT "/biglink.c"),
                     0);

    /* stopped while it prints (SIGTERM, once its temporary file is there): nothing is left.
     * The shell looks for the file with builtins only, without sleeping: its printing takes
     * a few tenths of a second, which a poll forking ls and sleep missed on a loaded machine */
    write_sines(OUT "/bigger.expr", 200000);
    char *out;
    assert_int_equal(runf(&out, "{ " ADGEN_CMD " " OUT "/bigger.expr -o " OUT "/sig.c & p=$!; "
                                "i=0; until set -- " OUT "/sig.c.adgen-*; [ -e \"$1\" ] || "
                                "[ $i -gt 20000000 ]; do i=$((i+1)); done; "
                                "kill -TERM $p; wait $p; echo $?; } 2>/dev/null"),
                     0);
    assert_string_equal(out, "143\n");
    free(out);
    assert_no_file("sig.");
}

/* -MF that cannot be written: neither the source nor the header may appear. */
static void test_hostile_unwritable_depfile(void **state)
{
    (void)state;
    spit(OUT "/ok.expr", "f(x, y) = x*y + sin(x)\n");
    static const char *const depfiles[] = {"/nonexistent-dir/x.d", OUT};
    for (size_t i = 0; i < sizeof depfiles / sizeof *depfiles; i++) {
        char args[512], *err;
        snprintf(args, sizeof args, OUT "/ok.expr -o " OUT "/dep.c --header " OUT
                 "/dep.h -MF %s", depfiles[i]);
        assert_int_equal(adgen_err(&err, args), 2);
        assert_contains(err, depfiles[i]);
        free(err);
        assert_no_file("dep.");
    }
}

/* --check compares with what is there; a directory there is an I/O error, not stale output. */
static void test_hostile_check_directory(void **state)
{
    (void)state;
    spit(OUT "/ok.expr", "f(x, y) = x*y + sin(x)\n");
    char *err;
    assert_int_equal(adgen_err(&err, "--check " OUT "/ok.expr -o " OUT), 2);
    assert_string_equal(err, "adgen: cannot read '" OUT "': Is a directory\n");
    free(err);

    assert_int_equal(runf(NULL, ADGEN_CMD " " OUT "/ok.expr -o " OUT "/chk.c"), 0);
    assert_int_equal(adgen_err(&err, "--check " OUT "/ok.expr -o " OUT "/chk.c --header " OUT),
                     2);
    assert_string_equal(err, "adgen: cannot read '" OUT "': Is a directory\n");
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_nested_parentheses),
        cmocka_unit_test(test_hostile_unary_minus_chain),
        cmocka_unit_test(test_hostile_nested_calls),
        cmocka_unit_test(test_hostile_ten_megabyte_expression),
        cmocka_unit_test(test_hostile_many_definitions),
        cmocka_unit_test(test_hostile_input_too_large),
        cmocka_unit_test(test_hostile_long_identifier),
        cmocka_unit_test(test_hostile_nul_bytes),
        cmocka_unit_test(test_hostile_invalid_utf8),
        cmocka_unit_test(test_hostile_unreadable_input),
        cmocka_unit_test(test_hostile_read_error),
        cmocka_unit_test(test_hostile_full_device),
        cmocka_unit_test(test_hostile_stdout_untouched_on_failure),
        cmocka_unit_test(test_hostile_disk_full_midway),
        cmocka_unit_test(test_hostile_large_output_streamed),
        cmocka_unit_test(test_hostile_unwritable_depfile),
        cmocka_unit_test(test_hostile_check_directory),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
