/*
 * main.c: the command line. Reads the input, runs the stages in one straight line, writes
 * the outputs only when every stage succeeded (temporary file + rename, so a failed run
 * leaves no file and never touches an existing one), and maps the outcome to the exit
 * status: 0 success, 1 bad input, 2 usage or I/O error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adgen.h"

enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
    "Usage: adgen [OPTION]... FILE\n"
    "Compile the scalar functions defined in FILE to C: each function NAME and its\n"
    "reverse-mode gradient NAME_grad. With FILE '-', read standard input.\n"
    "\n"
    "  -o, --output=FILE   write the C source to FILE instead of standard output\n"
    "      --header=FILE   also write a header declaring the functions to FILE\n"
    "  -h, --help          display this help and exit\n"
    "  -V, --version       output version information and exit\n"
    "\n"
    "Input, one definition per line or block ('#' starts a comment):\n"
    "  f(x, y) = x*y + sin(x)\n"
    "  g(x) { a = x^2; b = exp(a); return sqrt(a + b) }\n"
    "A file holding a bare expression defines one function named after the file.\n"
    "\n"
    "Generated API, for f(x1, ..., xn):\n"
    "  double f(double x1, ..., double xn);\n"
    "  double f_grad(double x1, ..., double xn, double *x1_bar, ..., double *xn_bar);\n"
    "f_grad returns f and stores (overwrites) each partial derivative df/dxi in *xi_bar.\n"
    "\n"
    "Exit status: 0 success, 1 errors in the input, 2 usage or I/O errors.\n";

static int usage_error(const char *fmt, const char *arg)
{
    fputs("adgen: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry 'adgen --help' for more information.\n", stderr);
    return EXIT_USAGE;
}

static int read_all(FILE *in, Buf *b)
{
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, in)) > 0)
        buf_putn(b, chunk, n);
    if (!b->data)
        buf_putn(b, "", 0);
    return ferror(in) ? -1 : 0;
}

static int read_input(const char *path, Buf *src)
{
    if (strcmp(path, "-") == 0) {
        if (read_all(stdin, src) == 0)
            return 0;
        fprintf(stderr, "adgen: cannot read standard input: %s\n", strerror(errno));
        return -1;
    }
    FILE *in = fopen(path, "rb");
    if (!in) {
        fprintf(stderr, "adgen: cannot open '%s': %s\n", path, strerror(errno));
        return -1;
    }
    int rc = read_all(in, src);
    if (rc != 0)
        fprintf(stderr, "adgen: cannot read '%s': %s\n", path, strerror(errno));
    fclose(in);
    return rc;
}

/* The function name for a bare-expression file: its file name without the extension. */
static char *file_stem(const char *path)
{
    if (strcmp(path, "-") == 0)
        return strdup("f");
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    char *stem = xrealloc(NULL, n + 1);
    memcpy(stem, base, n);
    stem[n] = '\0';
    return stem;
}

/* A file prepared to replace `path`: text goes to `tmp`, renamed over `path` at commit. */
typedef struct {
    const char *path;
    char *tmp;  /* NULL: write path directly (standard output or a device) */
} Output;

static int write_text(FILE *f, const Buf *text)
{
    size_t n = text->len;
    if (n && fwrite(text->data, 1, n, f) != n)
        return -1;
    return fflush(f);
}

static int prepare(Output *o, const Buf *text)
{
    struct stat st;
    if (strcmp(o->path, "-") == 0) {
        if (write_text(stdout, text) == 0)
            return 0;
        fprintf(stderr, "adgen: error writing standard output: %s\n", strerror(errno));
        return -1;
    }
    if (stat(o->path, &st) == 0 && !S_ISREG(st.st_mode)) {
        /* a device or pipe (/dev/null, /dev/stdout) cannot be replaced: write it in place */
        FILE *f = fopen(o->path, "wb");
        int ok = f && write_text(f, text) == 0;
        if (f && fclose(f) != 0)
            ok = 0;
        if (ok)
            return 0;
        fprintf(stderr, "adgen: cannot write '%s': %s\n", o->path, strerror(errno));
        return -1;
    }
    size_t n = strlen(o->path);
    o->tmp = xrealloc(NULL, n + 16);
    snprintf(o->tmp, n + 16, "%s.adgen-XXXXXX", o->path);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        fprintf(stderr, "adgen: cannot create '%s': %s\n", o->path, strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        return -1;
    }
    mode_t mask = umask(0);
    umask(mask);
    FILE *f = fdopen(fd, "wb");
    int ok = f && fchmod(fd, 0666 & ~mask) == 0 && write_text(f, text) == 0;
    int saved = errno;
    if (f ? fclose(f) != 0 : close(fd) != 0)
        ok = 0;
    else
        errno = saved;
    if (ok)
        return 0;
    fprintf(stderr, "adgen: cannot write '%s': %s\n", o->path, strerror(errno));
    unlink(o->tmp);
    free(o->tmp);
    o->tmp = NULL;
    return -1;
}

static void discard(Output *o)
{
    if (o->tmp) {
        unlink(o->tmp);
        free(o->tmp);
        o->tmp = NULL;
    }
}

static int commit(Output *o)
{
    if (!o->tmp)
        return 0;
    int rc = rename(o->tmp, o->path);
    if (rc != 0) {
        fprintf(stderr, "adgen: cannot write '%s': %s\n", o->path, strerror(errno));
        unlink(o->tmp);
    }
    free(o->tmp);
    o->tmp = NULL;
    return rc;
}

/* Writes the source and the header: both are prepared before either replaces its file. */
static int write_outputs(const char *out_path, const Buf *c_text, const char *header_path,
                         const Buf *h_text)
{
    Output c = {out_path, NULL}, h = {header_path, NULL};
    if (header_path && prepare(&h, h_text) != 0)
        return EXIT_USAGE;
    if (prepare(&c, c_text) != 0) {
        discard(&h);
        return EXIT_USAGE;
    }
    if (commit(&h) != 0) {
        discard(&c);
        return EXIT_USAGE;
    }
    return commit(&c) == 0 ? EXIT_OK : EXIT_USAGE;
}

static int compile(const char *path, const char *out_path, const char *header_path)
{
    Buf src = {0};
    if (read_input(path, &src) != 0) {
        buf_free(&src);
        return EXIT_USAGE;
    }
    Diag diag = {strcmp(path, "-") == 0 ? "<stdin>" : path, src.data, src.len, stderr, 0};
    Arena arena = {0};
    Parse parse = {.arena = &arena, .diag = &diag, .names = intern_new()};
    Program prog = {0};
    char *stem = file_stem(path);
    Buf c_text = {0}, h_text = {0};
    int status = EXIT_INPUT;

    if (parse_source(&parse) == 0 && sema_program(&parse, stem, &prog) == 0) {
        for (int i = 0; i < prog.nfuncs; i++)
            reverse_func(&prog.funcs[i]);
        emit_source(&prog, &diag, &c_text);
        if (header_path)
            emit_header(&prog, &diag, header_path, &h_text);
        status = write_outputs(out_path, &c_text, header_path, &h_text);
    }

    buf_free(&c_text);
    buf_free(&h_text);
    free(stem);
    program_free(&prog);
    intern_free(parse.names);
    arena_free(&arena);
    buf_free(&src);
    return status;
}

int main(int argc, char **argv)
{
    enum { OPT_HEADER = 256 };
    static const struct option options[] = {
        {"output", required_argument, NULL, 'o'},
        {"header", required_argument, NULL, OPT_HEADER},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *out_path = "-", *header_path = NULL;
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, ":o:hV", options, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'o': out_path = optarg; break;
        case OPT_HEADER: header_path = optarg; break;
        case 'h': fputs(usage_text, stdout); return EXIT_OK;
        case 'V': printf("adgen %s\n", ADGEN_VERSION); return EXIT_OK;
        /* GNU getopt may have moved operands: the option just read is argv[optind - 1] */
        case ':': return usage_error("option '%s' requires an argument", argv[optind - 1]);
        default: return usage_error("unrecognized option '%s'", argv[optind - 1]);
        }
    }
    if (optind == argc)
        return usage_error("%s", "no input file");
    if (argc - optind > 1)
        return usage_error("more than one input file ('%s')", argv[optind + 1]);
    if (header_path && strcmp(header_path, "-") == 0)
        return usage_error("%s", "the header cannot go to standard output");
    return compile(argv[optind], out_path, header_path);
}
