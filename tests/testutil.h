/*
 * testutil.h: helpers shared by the cmocka tests. cmocka 1.1.5 has no double comparison,
 * so the one tolerance check lives here; so do the helpers that compile a source string in
 * memory and that run a shell command capturing its output.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "adgen.h"

/* |actual - expected| <= tol * max(1, |expected|): relative for large values, absolute near
 * zero, where a relative error means nothing. */
#define assert_near(actual, expected, tol) \
    assert_near_((actual), (expected), (tol), #actual, __FILE__, __LINE__)

static inline void assert_near_(double actual, double expected, double tol, const char *what,
                                const char *file, int line)
{
    double scale = fabs(expected) > 1 ? fabs(expected) : 1;
    if (actual == expected || fabs(actual - expected) <= tol * scale)
        return;
    print_error("%s = %.17g, expected %.17g (error %.3g, tolerance %.3g)\n", what, actual,
                expected, fabs(actual - expected) / scale, tol);
    _fail(file, line);
}

/* A source string taken through parse, sema and (optionally) reverse, in memory. Messages
 * are captured in `messages`. */
typedef struct {
    Arena arena;
    Parse parse;
    Diag diag;
    Program prog;
    char *messages;
    size_t messages_len;
    int errors;
} Compiled;

static inline int compile_string(Compiled *c, const char *src, int with_reverse)
{
    memset(c, 0, sizeof *c);
    c->diag.file = "test.expr";
    c->diag.src = src;
    c->diag.len = strlen(src);
    c->diag.out = open_memstream(&c->messages, &c->messages_len);
    c->parse.arena = &c->arena;
    c->parse.diag = &c->diag;
    c->parse.names = intern_new();
    c->errors = parse_source(&c->parse);
    if (c->errors == 0)
        c->errors = sema_program(&c->parse, "test", &c->prog);
    if (c->errors == 0 && with_reverse)
        for (int i = 0; i < c->prog.nfuncs; i++)
            reverse_func(&c->prog.funcs[i]);
    fflush(c->diag.out);
    return c->errors;
}

static inline void compiled_free(Compiled *c)
{
    fclose(c->diag.out);
    free(c->messages);
    program_free(&c->prog);
    intern_free(c->parse.names);
    arena_free(&c->arena);
}

/* Appends everything f holds to b; b ends NUL-terminated even when f is empty. */
static inline void read_stream(FILE *f, Buf *b)
{
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_putn(b, chunk, n);
    if (!b->data)
        buf_putn(b, "", 0);
}

/* The whole file, NUL-terminated (malloc'ed), or NULL when it cannot be opened. */
static inline char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    Buf b = {0};
    read_stream(f, &b);
    fclose(f);
    return b.data;
}

/* The adgen under test, as a word of a shell command: $ADGEN when set (the sanitized pass of
 * `make test` points it at build/asan/adgen), else ./adgen. */
#define ADGEN_CMD "\"${ADGEN:-./adgen}\""

/* Runs a shell command; returns its exit status (or -1 when it did not exit normally) and,
 * when out is not NULL, what it wrote to standard output (malloc'ed). */
static inline int run_command(const char *cmd, char **out)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    Buf b = {0};
    read_stream(p, &b);
    int status = pclose(p);
    if (out)
        *out = b.data;
    else
        buf_free(&b);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* run_command on the command made from fmt and its arguments, followed by suffix (a
 * redirection, say). */
static inline int run_vcommand(char **out, const char *suffix, const char *fmt, va_list ap)
{
    Buf cmd = {0};
    buf_vprintf(&cmd, fmt, ap);
    buf_printf(&cmd, "%s", suffix);
    int rc = run_command(cmd.data, out);
    buf_free(&cmd);
    return rc;
}

/* Runs the command made from fmt (through the shell) and returns its exit status; its
 * standard output goes to *out (malloc'ed) when out is not NULL. */
static inline int runf(char **out, const char *fmt, ...) PRINTF_LIKE(2, 3);

static inline int runf(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = run_vcommand(out, "", fmt, ap);
    va_end(ap);
    return rc;
}

/* Writes text to path, failing the test when it cannot. */
static inline void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static inline int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

#define assert_contains(text, needle) assert_contains_((text), (needle), __FILE__, __LINE__)

static inline void assert_contains_(const char *text, const char *needle, const char *file,
                                    int line)
{
    if (text && strstr(text, needle))
        return;
    print_error("expected to find\n%s\nin\n%s\n", needle, text ? text : "(no text)");
    _fail(file, line);
}

/* Whether the adgen under test is there to run. */
static inline int exists_adgen(void)
{
    return run_command("test -x " ADGEN_CMD, NULL) == 0;
}

#endif
