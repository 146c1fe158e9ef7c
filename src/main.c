/*
 * main.c: the command line. Reads the input, runs the stages in one straight line, writes
 * the outputs only when every stage succeeded (temporary file + rename, so a failed run
 * leaves no file and never touches an existing one), and maps the outcome to the exit
 * status: 0 success, 1 bad input, 2 usage or I/O error.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adgen.h"

enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
    "Usage: adgen [OPTION]... FILE\n"
    "  or:  adgen eval [--function=NAME] FILE [NAME=VALUE]...\n"
    "Compile the scalar functions defined in FILE to C: each function NAME and its\n"
    "reverse-mode gradient NAME_grad. With FILE '-', read standard input.\n"
    "'adgen eval' prints a function's value and gradient at a point, computed by\n"
    "interpreting the same graph the C is generated from.\n"
    "\n"
    "Output:\n"
    "  -o, --output=FILE     write the C source to FILE instead of standard output\n"
    "      --header=FILE     also write a header declaring the functions to FILE\n"
    "      --check           write nothing; exit 0 if the -o (and --header) files hold\n"
    "                        exactly what would be written, 1 if not\n"
    "  -MD                   also write a make dependency file (the -o FILE with .d)\n"
    "  -MF FILE              write the dependency file to FILE (implies -MD)\n"
    "  -MT TARGET            name TARGET in it instead of the output files (repeatable)\n"
    "\n"
    "Generated code:\n"
    "      --real=TYPE       float, double (the default) or 'long double'\n"
    "      --prefix=PREFIX   start every generated function name with PREFIX\n"
    "      --name=NAME       call the file's only function NAME (and NAME_grad)\n"
    "      --static          make the functions static, for #include-ing the source\n"
    "      --accumulate      NAME_grad adds to *x_bar instead of overwriting it\n"
    "      --no-line         no #line directives (the default, --line: statements\n"
    "                        point at the lines of FILE they came from)\n"
    "\n"
    "  -h, --help            display this help and exit\n"
    "  -V, --version         output version information and exit\n"
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
    "Exit status: 0 success, 1 errors in the input (or, with --check, stale output),\n"
    "2 usage or I/O errors.\n";

static int usage_error(const char *fmt, const char *arg)
{
    fputs("adgen: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry 'adgen --help' for more information.\n", stderr);
    return EXIT_USAGE;
}

/* getopt's complaint ('?' or ':') as a usage error. A long option is the word just read,
 * which GNU getopt has moved to argv[optind - 1] (shown as the user spelled -MF and -MT); a
 * short one is named by optopt, as it may sit inside a cluster such as -xV. */
static int bad_option(int c, char **argv)
{
    char name[3] = {'-', (char)optopt, '\0'};
    const char *word = optind > 0 ? argv[optind - 1] : "";
    const char *option = strncmp(word, "--", 2) != 0 ? name :
                         strncmp(word, "--M", 3) == 0 && strlen(word) == 4 ? word + 1 : word;
    if (c == ':')
        return usage_error("option '%s' requires an argument", option);
    return usage_error("unrecognized option '%s'", option);
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
    char *tmp;   /* NULL: write path directly (standard output or a device) */
    char *real;  /* when path is a symbolic link: the file it names, which tmp replaces */
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
    /* through a symbolic link, replace the file it names and keep the link, as a compiler
     * writing through it would (a dangling link, with nothing to name, is replaced) */
    if (lstat(o->path, &st) == 0 && S_ISLNK(st.st_mode))
        o->real = realpath(o->path, NULL);
    const char *path = o->real ? o->real : o->path;
    int exists = stat(path, &st) == 0;
    if (exists && !S_ISREG(st.st_mode)) {
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
    size_t n = strlen(path);
    o->tmp = xrealloc(NULL, n + 16);
    snprintf(o->tmp, n + 16, "%s.adgen-XXXXXX", path);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        fprintf(stderr, "adgen: cannot create '%s': %s\n", o->path, strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        return -1;
    }
    /* a new file gets the usual 0666 less the umask; a replaced one keeps its mode */
    mode_t mask = umask(0);
    umask(mask);
    mode_t mode = exists ? st.st_mode & 07777 : 0666 & ~mask;
    FILE *f = fdopen(fd, "wb");
    int ok = f && fchmod(fd, mode) == 0 && write_text(f, text) == 0;
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
    if (o->tmp)
        unlink(o->tmp);
    free(o->tmp);
    free(o->real);
    o->tmp = o->real = NULL;
}

static int commit(Output *o)
{
    if (!o->tmp)
        return 0;
    int rc = rename(o->tmp, o->real ? o->real : o->path);
    if (rc != 0) {
        fprintf(stderr, "adgen: cannot write '%s': %s\n", o->path, strerror(errno));
        unlink(o->tmp);
    }
    free(o->tmp);
    o->tmp = NULL;
    return rc;
}

/* Standard output and devices are written in place, which cannot be taken back. */
static int in_place(const Output *o)
{
    struct stat st;
    return strcmp(o->path, "-") == 0 || (stat(o->path, &st) == 0 && !S_ISREG(st.st_mode));
}

/* Writes every text to its path: all are prepared before any replaces its file, and the ones
 * written in place come last, so that a file that cannot be written leaves them untouched. */
static int write_outputs(Output *outs, const Buf *texts, int n)
{
    for (int last = 0; last < 2; last++) {
        for (int i = 0; i < n; i++) {
            if (in_place(&outs[i]) == last && prepare(&outs[i], &texts[i]) != 0) {
                for (int j = 0; j < n; j++)
                    discard(&outs[j]);
                return EXIT_USAGE;
            }
        }
    }
    int status = EXIT_OK;
    for (int i = 0; i < n; i++) {
        if (status == EXIT_OK && commit(&outs[i]) != 0)
            status = EXIT_USAGE;
        discard(&outs[i]);
    }
    return status;
}

/* --check: 0 when every file holds its text, 1 when one differs or is missing. */
static int check_outputs(const Output *outs, const Buf *texts, int n)
{
    int status = EXIT_OK;
    for (int i = 0; i < n; i++) {
        Buf old = {0};
        FILE *f = fopen(outs[i].path, "rb");
        /* a directory opens for reading on Linux and fails only at the read */
        int unreadable = f && read_all(f, &old) != 0;
        int same = f && !unreadable && old.len == texts[i].len &&
                   memcmp(old.data, texts[i].data, old.len) == 0;
        if ((!f && errno != ENOENT) || unreadable) {
            fprintf(stderr, "adgen: cannot %s '%s': %s\n", f ? "read" : "open", outs[i].path,
                    strerror(errno));
            status = EXIT_USAGE;
        } else if (!same && status == EXIT_OK) {
            fprintf(stderr, "adgen: '%s' is %s\n", outs[i].path,
                    f ? "out of date" : "missing");
            status = EXIT_INPUT;
        }
        if (f)
            fclose(f);
        buf_free(&old);
    }
    return status;
}

/* A file name in a make rule: spaces and '#' escaped with '\', '$' doubled. */
static void put_make_name(Buf *b, const char *name)
{
    for (const char *c = name; *c; c++) {
        if (*c == ' ' || *c == '\t' || *c == '#')
            buf_printf(b, "\\");
        buf_printf(b, *c == '$' ? "$$" : "%c", *c);
    }
}

typedef struct {
    const char *input, *out_path, *header_path, *dep_path;
    const char **dep_targets;
    int ndep_targets, write_deps, check;
    EmitOptions emit;
} Options;

/* The make rule of the outputs, like gcc -MD: targets, then every file the input read. */
static void depfile_text(const Options *o, Buf *b)
{
    for (int i = 0; i < o->ndep_targets; i++) {
        buf_printf(b, "%s", i ? " " : "");
        put_make_name(b, o->dep_targets[i]);
    }
    if (!o->ndep_targets) {
        put_make_name(b, o->out_path);
        if (o->header_path) {
            buf_printf(b, " ");
            put_make_name(b, o->header_path);
        }
    }
    buf_printf(b, ":");
    if (strcmp(o->input, "-") != 0) {
        buf_printf(b, " ");
        put_make_name(b, o->input);
    }
    buf_printf(b, "\n");
}

/* Whether two paths name one regular file (devices such as /dev/null may be shared). */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (!a || !b || strcmp(a, "-") == 0 || strcmp(b, "-") == 0)
        return 0;
    int ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
    if (ea && eb)
        return S_ISREG(sa.st_mode) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    return !ea && !eb && strcmp(a, b) == 0;
}

/* No output may replace the input or another output. */
static int check_paths(const Options *o)
{
    const char *outs[] = {o->out_path, o->header_path, o->write_deps ? o->dep_path : NULL};
    for (int i = 0; i < 3; i++) {
        if (same_file(outs[i], o->input))
            return usage_error("the output '%s' is the input file", outs[i]);
        for (int j = 0; j < i; j++)
            if (same_file(outs[i], outs[j]))
                return usage_error("'%s' is given for two outputs", outs[i]);
    }
    return 0;
}

static int compile(Options *o)
{
    if (check_paths(o) != 0)
        return EXIT_USAGE;
    Buf src = {0};
    if (read_input(o->input, &src) != 0) {
        buf_free(&src);
        return EXIT_USAGE;
    }
    const char *shown = strcmp(o->input, "-") == 0 ? "<stdin>" : o->input;
    char *stem = file_stem(o->input);
    Buf texts[3] = {{0}, {0}, {0}};
    Output outs[3] = {{o->out_path, NULL, NULL}, {o->header_path, NULL, NULL},
                      {o->dep_path, NULL, NULL}};
    int n = 1;
    int status = EXIT_INPUT;

    if (compile_source(shown, src.data, src.len, stem, &o->emit, stderr, &texts[0],
                       o->header_path ? &texts[1] : NULL) == 0) {
        if (o->header_path)
            n = 2;
        if (o->check) {
            status = check_outputs(outs, texts, n);
        } else {
            if (o->write_deps) {
                if (n == 1)
                    outs[1] = outs[2];
                depfile_text(o, &texts[n++]);
            }
            status = write_outputs(outs, texts, n);
        }
    }
    for (int i = 0; i < 3; i++)
        buf_free(&texts[i]);
    free(stem);
    buf_free(&src);
    return status;
}

/* ---- adgen eval FILE NAME=VALUE... ---------------------------------------------------------- */

/* NAME=VALUE into x[the input's position]; 0 on success, -1 after a message. */
static int assign_input(const Func *f, const char *assignment, double *x, char *given)
{
    const char *eq = strchr(assignment, '=');
    if (!eq) {
        fprintf(stderr, "adgen: '%s' is not NAME=VALUE\n", assignment);
        return -1;
    }
    size_t len = (size_t)(eq - assignment);
    int i = 0;
    while (i < f->ninputs && !(strlen(f->inputs[i]) == len &&
                               strncmp(f->inputs[i], assignment, len) == 0))
        i++;
    if (i == f->ninputs) {
        fprintf(stderr, "adgen: '%s' has no input '%.*s'\n", f->name, (int)len, assignment);
        return -1;
    }
    if (given[i]) {
        fprintf(stderr, "adgen: input '%s' is given twice\n", f->inputs[i]);
        return -1;
    }
    char *end;
    errno = 0;
    x[i] = strtod(eq + 1, &end);
    if (end == eq + 1 || *end) {
        fprintf(stderr, "adgen: '%s' is not a number\n", eq + 1);
        return -1;
    }
    if (errno == ERANGE && (x[i] == HUGE_VAL || x[i] == -HUGE_VAL)) {
        fprintf(stderr, "adgen: '%s' is out of the range of a double\n", eq + 1);
        return -1;
    }
    given[i] = 1;
    return 0;
}

static int evaluate(const char *path, const char *function, char **assignments, int n)
{
    Buf src = {0};
    if (read_input(path, &src) != 0) {
        buf_free(&src);
        return EXIT_USAGE;
    }
    char *stem = file_stem(path);
    Unit u = {0};
    int status = EXIT_INPUT;
    if (unit_compile(&u, strcmp(path, "-") == 0 ? "<stdin>" : path, src.data, src.len, stem,
                     stderr) != 0)
        goto done;
    const Func *f = NULL;
    for (int i = 0; i < u.prog.nfuncs; i++)
        if (!function || strcmp(u.prog.funcs[i].name, function) == 0)
            f = f ? f : &u.prog.funcs[i];
    status = EXIT_USAGE;
    if (!f) {
        fprintf(stderr, "adgen: '%s' defines no function '%s'\n", path, function);
        goto done;
    }
    if (!function && u.prog.nfuncs > 1) {
        fprintf(stderr, "adgen: '%s' defines %d functions; choose one with --function\n", path,
                u.prog.nfuncs);
        goto done;
    }
    double *x = xrealloc(NULL, (size_t)(f->ninputs + 1) * 2 * sizeof *x);
    double *grad = x + f->ninputs + 1;
    char *given = xrealloc(NULL, (size_t)f->ninputs + 1);
    memset(given, 0, (size_t)f->ninputs + 1);
    int ok = 1;
    for (int a = 0; a < n && ok; a++)
        ok = assign_input(f, assignments[a], x, given) == 0;
    for (int i = 0; i < f->ninputs && ok; i++)
        if (!given[i]) {
            fprintf(stderr, "adgen: no value for input '%s' of '%s'\n", f->inputs[i], f->name);
            ok = 0;
        }
    if (ok) {
        double value = eval_grad(f, x, grad);
        printf("%s = %.17g\n", f->name, value);
        for (int i = 0; i < f->ninputs; i++)
            printf("d%s/d%s = %.17g\n", f->name, f->inputs[i], grad[i]);
        status = EXIT_OK;
    } else {
        fputs("Try 'adgen --help' for more information.\n", stderr);
    }
    free(x);
    free(given);
done:
    unit_free(&u);
    free(stem);
    buf_free(&src);
    return status;
}

static int eval_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"function", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *function = NULL;
    /* options may come anywhere: NAME=VALUE never starts with '-', even for x=-1 */
    for (int c; (c = getopt_long(argc, argv, ":f:h", options, NULL)) != -1;) {
        switch (c) {
        case 'f': function = optarg; break;
        case 'h': fputs(usage_text, stdout); return EXIT_OK;
        default: return bad_option(c, argv);
        }
    }
    if (optind == argc)
        return usage_error("%s", "eval: no input file");
    return evaluate(argv[optind], function, argv + optind + 1, argc - optind - 1);
}

/* ---- options ---------------------------------------------------------------------------------- */

static int is_identifier(const char *s, int allow_empty)
{
    if (!*s)
        return allow_empty;
    if (*s >= '0' && *s <= '9')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

/* FILE.c -> FILE.d; a name with no extension gets .d appended. */
static char *default_depfile(const char *out)
{
    const char *base = strrchr(out, '/');
    const char *dot = strrchr(base ? base + 1 : out, '.');
    size_t n = dot ? (size_t)(dot - out) : strlen(out);
    char *d = xrealloc(NULL, n + 3);
    memcpy(d, out, n);
    memcpy(d + n, ".d", 3);
    return d;
}

enum {
    OPT_HEADER = 256, OPT_CHECK, OPT_MD, OPT_MF, OPT_MT, OPT_REAL, OPT_PREFIX, OPT_NAME,
    OPT_STATIC, OPT_ACCUMULATE, OPT_LINE, OPT_NO_LINE
};

static int parse_options(int argc, char **argv, Options *o)
{
    static const struct option options[] = {
        {"output", required_argument, NULL, 'o'},
        {"header", required_argument, NULL, OPT_HEADER},
        {"check", no_argument, NULL, OPT_CHECK},
        {"MD", no_argument, NULL, OPT_MD},
        {"MF", required_argument, NULL, OPT_MF},
        {"MT", required_argument, NULL, OPT_MT},
        {"real", required_argument, NULL, OPT_REAL},
        {"prefix", required_argument, NULL, OPT_PREFIX},
        {"name", required_argument, NULL, OPT_NAME},
        {"static", no_argument, NULL, OPT_STATIC},
        {"accumulate", no_argument, NULL, OPT_ACCUMULATE},
        {"line", no_argument, NULL, OPT_LINE},
        {"no-line", no_argument, NULL, OPT_NO_LINE},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int lines = 1;
    for (int c; (c = getopt_long(argc, argv, ":o:hV", options, NULL)) != -1;) {
        switch (c) {
        case 'o': o->out_path = optarg; break;
        case OPT_HEADER: o->header_path = optarg; break;
        case OPT_CHECK: o->check = 1; break;
        case OPT_MD: o->write_deps = 1; break;
        case OPT_MF: o->write_deps = 1; o->dep_path = optarg; break;
        case OPT_MT:
            o->dep_targets = xrealloc(o->dep_targets,
                                      (size_t)(o->ndep_targets + 1) * sizeof *o->dep_targets);
            o->dep_targets[o->ndep_targets++] = optarg;
            break;
        case OPT_REAL:
            if (strcmp(optarg, "double") == 0)
                o->emit.real = REAL_DOUBLE;
            else if (strcmp(optarg, "float") == 0)
                o->emit.real = REAL_FLOAT;
            else if (strcmp(optarg, "long double") == 0 || strcmp(optarg, "long-double") == 0)
                o->emit.real = REAL_LONG_DOUBLE;
            else
                return usage_error("--real takes float, double or 'long double', not '%s'",
                                   optarg);
            break;
        case OPT_PREFIX:
            if (!is_identifier(optarg, 1))
                return usage_error("--prefix '%s' cannot start a C identifier", optarg);
            o->emit.prefix = optarg;
            break;
        case OPT_NAME:
            if (!is_identifier(optarg, 0))
                return usage_error("--name '%s' is not a C identifier", optarg);
            o->emit.name = optarg;
            break;
        case OPT_STATIC: o->emit.file_static = 1; break;
        case OPT_ACCUMULATE: o->emit.accumulate = 1; break;
        case OPT_LINE: lines = 1; break;
        case OPT_NO_LINE: lines = 0; break;
        case 'h': fputs(usage_text, stdout); return EXIT_OK;
        case 'V': printf("adgen %s\n", ADGEN_VERSION); return EXIT_OK;
        default: return bad_option(c, argv);
        }
    }
    if (optind == argc)
        return usage_error("%s", "no input file");
    if (argc - optind > 1)
        return usage_error("more than one input file ('%s')", argv[optind + 1]);
    o->input = argv[optind];
    int to_stdout = strcmp(o->out_path, "-") == 0;
    if (o->header_path && strcmp(o->header_path, "-") == 0)
        return usage_error("%s", "the header cannot go to standard output");
    if (o->header_path && o->emit.file_static)
        return usage_error("%s", "--static functions cannot be declared in a --header");
    if (o->check && to_stdout)
        return usage_error("%s", "--check compares with the -o FILE: give one");
    if (o->write_deps && !o->dep_path && to_stdout)
        return usage_error("%s", "-MD names its file after -o FILE: give one, or -MF FILE");
    if (o->write_deps && !o->ndep_targets && to_stdout)
        return usage_error("%s", "the dependency file needs -o FILE or -MT TARGET");
    if (lines)
        o->emit.line_file = strcmp(o->input, "-") == 0 ? "<stdin>" : o->input;
    if (!to_stdout)
        o->emit.out_file = o->out_path;
    o->emit.header_name = o->header_path;
    return -1;
}

/* gcc's -MD, -MF FILE and -MT TARGET, spelled with one dash, become the long options --MD,
 * --MF and --MT, so that getopt_long can read them and other single-dash words stay errors. */
static char **gcc_dep_options(int argc, char **argv, Arena *arena)
{
    char **args = arena_alloc(arena, (size_t)(argc + 1) * sizeof *args);
    int i = 0;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        const char *a = argv[i];
        args[i] = argv[i];
        if (i == 0 || a[0] != '-' || a[1] != 'M' || !a[2] || !strchr("DFT", a[2]) ||
            (a[2] == 'D' && a[3]))
            continue;
        size_t n = strlen(a) + 3;
        args[i] = arena_alloc(arena, n);
        if (a[3]) /* -MFfile: the argument joined on */
            snprintf(args[i], n, "--M%c=%s", a[2], a + 3);
        else
            snprintf(args[i], n, "--M%c", a[2]);
    }
    for (; i <= argc; i++)
        args[i] = argv[i];
    return args;
}

/* What went to standard output (help, version, eval's results) must have got there. */
static int flush_stdout(int status)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return status;
    fprintf(stderr, "adgen: error writing standard output: %s\n", strerror(errno));
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    opterr = 0;
    if (argc > 1 && strcmp(argv[1], "eval") == 0)
        return flush_stdout(eval_main(argc - 1, argv + 1));
    Arena arena = {0};
    argv = gcc_dep_options(argc, argv, &arena);
    Options o = {.out_path = "-"};
    int status = parse_options(argc, argv, &o);
    if (status < 0) {
        char *dep_path = o.write_deps && !o.dep_path ? default_depfile(o.out_path) : NULL;
        if (dep_path)
            o.dep_path = dep_path;
        status = compile(&o);
        free(dep_path);
    }
    free(o.dep_targets);
    arena_free(&arena);
    return flush_stdout(status);
}
