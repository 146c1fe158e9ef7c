/*
 * gencmd.c: `adgen [OPTION]... FILE`, the command that generates C: reads the options, runs
 * the stages in one straight line (compile.c), writes the outputs only when every stage
 * succeeded (output.c), or shows the graph, the sweeps or the report instead (--dot,
 * --explain, --report). Returns the exit status: 0 success, 1 bad input, 2 usage or I/O
 * error.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

/* What adgen writes: C, or (to standard output) a text about the input. */
typedef enum { SHOW_C, SHOW_DOT, SHOW_DOT_ADJOINT, SHOW_EXPLAIN, SHOW_REPORT } Show;

typedef struct {
    const char *input, *out_path, *header_path, *dep_path;
    char *self_header;       /* the header's path from the source's directory (allocated) */
    const char **dep_targets;
    int ndep_targets, write_deps, check, force, keep;
    Show show;
    ExplainStyle style;
    EmitOptions emit;
} Options;

/* The make rule of the outputs: the -MT targets, or the files written. Returns the length of
 * the first target's text. */
static size_t depfile_text(const Options *o, Buf *b)
{
    const char *written[2] = {o->out_path, o->header_path};
    if (o->ndep_targets)
        return output_depfile(b, o->dep_targets, o->ndep_targets, o->input);
    return output_depfile(b, written, o->header_path ? 2 : 1, o->input);
}

/* No output may replace the input or another output. */
static int check_paths(const Options *o)
{
    const char *outs[] = {o->out_path, o->header_path, o->write_deps ? o->dep_path : NULL};
    for (int i = 0; i < 3; i++) {
        if (output_same_file(outs[i], o->input))
            return cli_usage_error("the output '%s' is the input file", outs[i]);
        for (int j = 0; j < i; j++)
            if (output_same_file(outs[i], outs[j]))
                return cli_usage_error("'%s' is given for two outputs", outs[i]);
    }
    return 0;
}

/* The C file being written, while it is printed. */
typedef struct {
    Output *out;
    int force;
} Spill;

static int spill(void *ctx, const char *data, size_t len)
{
    const Spill *s = ctx;
    return output_stream(s->out, s->force, data, len);
}

static int compile(Options *o)
{
    if (check_paths(o) != 0)
        return EXIT_USAGE;
    Buf src = {0};
    if (output_read(o->input, &src) != 0) {
        buf_free(&src);
        return EXIT_USAGE;
    }
    const char *shown = strcmp(o->input, "-") == 0 ? "<stdin>" : o->input;
    char *stem = output_stem(o->input);
    Buf texts[3] = {{0}, {0}, {0}};
    /* what the first line of a file adgen wrote starts with */
    const char *mark = "/* " GENERATED_MARK " ";
    Output outs[3] = {{o->out_path, PROTECT_C, mark, NULL, NULL, NULL, 0},
                      {o->header_path, PROTECT_C, mark, NULL, NULL, NULL, 0},
                      {o->dep_path, PROTECT_DEPS, NULL, NULL, NULL, NULL, 0}};
    char *first_target = NULL;
    int n = 1;
    int status = EXIT_INPUT;
    /* a large C file goes into its temporary file as it is printed, unless it is compared
     * with what is there (printing starts only once the input compiled without an error) */
    Spill to = {&outs[0], o->force};
    Stream stream = {spill, &to};
    EmitOptions emit = o->emit;
    emit.stream = o->check || o->keep ? NULL : &stream;

    if (compile_source(shown, src.data, src.len, stem, &emit, stderr, &texts[0],
                       o->header_path ? &texts[1] : NULL) == 0) {
        if (o->header_path)
            n = 2;
        if (o->check) {
            status = output_check(outs, texts, n);
        } else {
            if (o->write_deps) {
                if (n == 1)
                    outs[1] = outs[2];
                size_t len = depfile_text(o, &texts[n]);
                first_target = strndup(texts[n].data, len);
                outs[n++].mine = first_target;
            }
            status = output_write(outs, texts, n, o->force, o->keep);
        }
    }
    for (int i = 0; i < 3; i++)
        buf_free(&texts[i]);
    free(first_target);
    free(stem);
    buf_free(&src);
    return status;
}

/* --dot, --explain, --report: the graph, the sweeps or the report, to standard output. */
static int show(const Options *o)
{
    Buf src = {0}, text = {0};
    if (output_read(o->input, &src) != 0) {
        buf_free(&src);
        return EXIT_USAGE;
    }
    char *stem = output_stem(o->input);
    /* the pictures and the report are of the graph unrolled whole, with its default entry
     * points; the report counts those --emit asks for too, where they fit */
    Unit u = {.opt = o->emit.compile};
    u.opt.unroll = 0;
    u.opt.emit = o->show == SHOW_REPORT && o->emit.compile.emit ?
                 o->emit.compile.emit | EMIT_FITTING | 1u << ENTRY_GRAD | 1u << ENTRY_JAC : 0;
    int status = EXIT_INPUT;
    if (unit_compile(&u, strcmp(o->input, "-") == 0 ? "<stdin>" : o->input, src.data, src.len,
                     stem, stderr) == 0) {
        /* the pictures and the sweeps are of one value and its gradient, and both of
         * constant sizes: the others are left out, and a file of none of those is an error;
         * the report counts kept loops by the iteration */
        int shown = 0, report = o->show == SHOW_REPORT;
        for (int i = 0; report && o->emit.compile.emit && i < u.prog.nfuncs; i++) {
            Func *f = &u.prog.funcs[i]; /* those asked for, and the default it is compared with */
            f->entries &= o->emit.compile.emit | 1u << ENTRY_VALUE |
                          1u << (f->vector ? ENTRY_JAC : ENTRY_GRAD);
        }
        /* kept loops are drawn and explained one iteration each, in a cluster or after the
         * function's sweeps; --explain gives several values a reverse sweep each, where the
         * function has no kept loop */
        int explain = o->show == SHOW_EXPLAIN;
        for (int i = 0; i < u.prog.nfuncs; i++)
            shown += report || !u.prog.funcs[i].vector || (explain && !u.prog.funcs[i].nloops);
        for (int i = 0; i < u.prog.nfuncs; i++) {
            const Func *f = &u.prog.funcs[i];
            Loc loc = f->def->bare ? f->def->loc : f->def->name_loc;
            if (report || !f->vector || (explain && !f->nloops))
                continue;
            Buf what = {0};
            if (f->result_loop)
                buf_puts(&what, "a number of values known only at run time");
            else
                buf_printf(&what, "%d value%s", f->nroots, f->nroots == 1 ? "" : "s");
            const char *shows = explain ? "--explain shows functions of several values "
                                          "without kept loops" :
                                          "--dot shows functions of one value";
            if (shown)
                diag_warning(&u.diag, loc, "'%s' returns %s and is left out: %s", f->name,
                             what.data, shows);
            else
                diag_error(&u.diag, loc, "'%s' returns %s; %s", f->name, what.data, shows);
            buf_free(&what);
        }
    }
    if (u.diag.errors == 0) {
        if (o->show == SHOW_DOT || o->show == SHOW_DOT_ADJOINT)
            explain_dot(&u.prog, o->show == SHOW_DOT_ADJOINT, &text);
        else if (o->show == SHOW_EXPLAIN)
            explain_program(&u.prog, o->style, &text);
        else
            report_program(&u.prog, &u.diag, &text);
        fwrite(text.data, 1, text.len, stdout);
        status = EXIT_OK;
    }
    unit_free(&u);
    buf_free(&text);
    free(stem);
    buf_free(&src);
    return status;
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
    OPT_STATIC, OPT_ACCUMULATE, OPT_SPARSE, OPT_ABI, OPT_MAX_STACK, OPT_LINE, OPT_NO_LINE, OPT_FORCE, OPT_KEEP, OPT_MAX_NODES, OPT_UNROLL, OPT_EMIT,
    OPT_DOT, OPT_EXPLAIN, OPT_REPORT
};

/* --dot[=adjoint], --explain[=text|latex|markdown], --report: one of them. */
static int set_show(Options *o, int opt, const char *arg)
{
    if (o->show != SHOW_C)
        return cli_usage_error("%s", "--dot, --explain and --report exclude each other");
    if (opt == OPT_REPORT) {
        o->show = SHOW_REPORT;
    } else if (opt == OPT_DOT) {
        if (arg && strcmp(arg, "adjoint") != 0)
            return cli_usage_error("--dot takes 'adjoint' or nothing, not '%s'", arg);
        o->show = arg ? SHOW_DOT_ADJOINT : SHOW_DOT;
    } else {
        o->show = SHOW_EXPLAIN;
        if (!arg || strcmp(arg, "text") == 0)
            o->style = EXPLAIN_TEXT;
        else if (strcmp(arg, "latex") == 0)
            o->style = EXPLAIN_LATEX;
        else if (strcmp(arg, "markdown") == 0)
            o->style = EXPLAIN_MARKDOWN;
        else
            return cli_usage_error("--explain takes text, latex or markdown, not '%s'", arg);
    }
    return 0;
}

/* The directory of a path, resolved ("." for a bare file name); NULL when it cannot be. */
static char *resolved_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    char *real = dir ? realpath(dir, NULL) : NULL;
    free(dir);
    return real;
}

/* The header's path from the source's directory ("model.h", "../include/model.h"), for the
 * source's #include; NULL when a directory cannot be resolved. */
static char *header_from_source(const char *source, const char *header)
{
    char *from = resolved_dir(source), *to = resolved_dir(header);
    const char *base = strrchr(header, '/') ? strrchr(header, '/') + 1 : header;
    Buf rel = {0};
    if (from && to) {
        /* the common directories, whole components only */
        size_t common = 0;
        for (size_t k = 0; from[k] && from[k] == to[k]; k++)
            if (from[k + 1] == '/' || from[k + 1] == '\0')
                if (to[k + 1] == '/' || to[k + 1] == '\0')
                    common = k + 1;
        for (const char *c = from + common; *c; c++)
            if (*c == '/')
                buf_puts(&rel, "../");
        if (to[common] == '/')
            buf_printf(&rel, "%s/", to + common + 1);
        buf_puts(&rel, base);
    }
    free(from);
    free(to);
    return rel.data;
}

/* What the options say together: the combinations that cannot be, and what the emitter
 * needs of the paths. -1 to go on, else an exit status. */
static int finish_options(Options *o, int lines)
{
    int to_stdout = strcmp(o->out_path, "-") == 0;
    if (o->show != SHOW_C && (!to_stdout || o->header_path || o->check || o->write_deps))
        return cli_usage_error("%s", "--dot, --explain and --report write to standard output: "
                                     "-o, --header, --check and -MD do not apply");
    if (o->header_path && strcmp(o->header_path, "-") == 0)
        return cli_usage_error("%s", "the header cannot go to standard output");
    if (o->header_path && o->emit.file_static)
        return cli_usage_error("%s", "--static functions cannot be declared in a --header");
    if (o->emit.casadi && o->emit.accumulate)
        return cli_usage_error("%s", "--abi=casadi stores its outputs: --accumulate does not "
                                     "apply");
    if (o->emit.casadi) { /* the native entry points, which CasADi's call, are the source's */
        o->emit.abi_static = o->emit.file_static;
        o->emit.file_static = 1;
    }
    if (o->check && to_stdout)
        return cli_usage_error("%s", "--check compares with the -o FILE: give one");
    if (o->write_deps && !o->dep_path && to_stdout)
        return cli_usage_error("%s", "-MD names its file after -o FILE: give one, or -MF FILE");
    if (o->write_deps && !o->ndep_targets && to_stdout)
        return cli_usage_error("%s", "the dependency file needs -o FILE or -MT TARGET");
    if (lines)
        o->emit.line_file = strcmp(o->input, "-") == 0 ? "<stdin>" : o->input;
    if (!to_stdout)
        o->emit.out_file = o->out_path;
    o->emit.header_name = o->header_path;
    if (!to_stdout && o->header_path)
        o->emit.self_header = o->self_header = header_from_source(o->out_path, o->header_path);
    return -1;
}

static int parse_options(int argc, char **argv, Options *o)
{
    static const struct option options[] = {
        {"output", required_argument, NULL, 'o'},
        {"header", required_argument, NULL, OPT_HEADER},
        {"check", no_argument, NULL, OPT_CHECK},
        {"force", no_argument, NULL, OPT_FORCE},
        {"keep-unchanged", no_argument, NULL, OPT_KEEP},
        {"define", required_argument, NULL, 'D'},
        {"max-nodes", required_argument, NULL, OPT_MAX_NODES},
        {"unroll", required_argument, NULL, OPT_UNROLL},
        {"MD", no_argument, NULL, OPT_MD},
        {"MF", required_argument, NULL, OPT_MF},
        {"MT", required_argument, NULL, OPT_MT},
        {"real", required_argument, NULL, OPT_REAL},
        {"prefix", required_argument, NULL, OPT_PREFIX},
        {"name", required_argument, NULL, OPT_NAME},
        {"static", no_argument, NULL, OPT_STATIC},
        {"accumulate", no_argument, NULL, OPT_ACCUMULATE},
        {"sparse", required_argument, NULL, OPT_SPARSE},
        {"abi", required_argument, NULL, OPT_ABI},
        {"max-stack", required_argument, NULL, OPT_MAX_STACK},
        {"emit", required_argument, NULL, OPT_EMIT},
        {"line", no_argument, NULL, OPT_LINE},
        {"no-line", no_argument, NULL, OPT_NO_LINE},
        {"dot", optional_argument, NULL, OPT_DOT},
        {"explain", optional_argument, NULL, OPT_EXPLAIN},
        {"report", no_argument, NULL, OPT_REPORT},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int lines = 1;
    for (int c; (c = getopt_long(argc, argv, ":o:D:hV", options, NULL)) != -1;) {
        switch (c) {
        case 'o': o->out_path = optarg; break;
        case OPT_HEADER: o->header_path = optarg; break;
        case OPT_CHECK: o->check = 1; break;
        case OPT_FORCE: o->force = 1; break;
        case OPT_KEEP: o->keep = 1; break;
        case 'D':
            if (cli_add_define(&o->emit.compile.defines, &o->emit.compile.ndefines, optarg) != 0)
                return EXIT_USAGE;
            break;
        case OPT_MAX_NODES:
            if (cli_max_nodes(optarg, &o->emit.compile.max_nodes) != 0)
                return EXIT_USAGE;
            break;
        case OPT_UNROLL:
            if (strcmp(optarg, "all") == 0)
                o->emit.compile.unroll = 0;
            else if (cli_count("--unroll", "a count of terms from 1 to 4000000000, or all",
                               optarg, &o->emit.compile.unroll) != 0)
                return EXIT_USAGE;
            break;
        case OPT_MD: o->write_deps = 1; break;
        case OPT_MF: o->write_deps = 1; o->dep_path = optarg; break;
        case OPT_MT:
            o->dep_targets = xrealloc(o->dep_targets,
                                      (size_t)(o->ndep_targets + 1) * sizeof *o->dep_targets);
            o->dep_targets[o->ndep_targets++] = optarg;
            break;
        case OPT_REAL:
            if (strcmp(optarg, "double") == 0)
                o->emit.compile.real = REAL_DOUBLE;
            else if (strcmp(optarg, "float") == 0)
                o->emit.compile.real = REAL_FLOAT;
            else if (strcmp(optarg, "long double") == 0 || strcmp(optarg, "long-double") == 0)
                o->emit.compile.real = REAL_LONG_DOUBLE;
            else
                return cli_usage_error("--real takes float, double or 'long double', not '%s'",
                                   optarg);
            break;
        case OPT_PREFIX:
            if (!is_identifier(optarg, 1))
                return cli_usage_error("--prefix '%s' cannot start a C identifier", optarg);
            o->emit.prefix = optarg;
            break;
        case OPT_NAME:
            if (!is_identifier(optarg, 0))
                return cli_usage_error("--name '%s' is not a C identifier", optarg);
            o->emit.name = optarg;
            break;
        case OPT_STATIC: o->emit.file_static = 1; break;
        case OPT_ACCUMULATE: o->emit.accumulate = 1; break;
        case OPT_SPARSE:
            if (strcmp(optarg, "triplet") != 0 && strcmp(optarg, "csc") != 0)
                return cli_usage_error("--sparse takes triplet or csc, not '%s'", optarg);
            o->emit.csc = strcmp(optarg, "csc") == 0;
            break;
        case OPT_ABI:
            if (strcmp(optarg, "native") != 0 && strcmp(optarg, "casadi") != 0)
                return cli_usage_error("--abi takes native or casadi, not '%s'", optarg);
            o->emit.casadi = strcmp(optarg, "casadi") == 0;
            break;
        case OPT_MAX_STACK:
            if (cli_count("--max-stack", "a number of bytes from 1024 to 4000000000", optarg,
                          &o->emit.max_stack) != 0)
                return EXIT_USAGE;
            if (o->emit.max_stack < 1024)
                return cli_usage_error("--max-stack takes a number of bytes from 1024 to "
                                       "4000000000, not '%s'", optarg);
            break;
        case OPT_EMIT:
            if (cli_emit(optarg, &o->emit.compile.emit) != 0)
                return EXIT_USAGE;
            break;
        case OPT_LINE: lines = 1; break;
        case OPT_NO_LINE: lines = 0; break;
        case OPT_DOT: case OPT_EXPLAIN: case OPT_REPORT:
            if (set_show(o, c, optarg) != 0)
                return EXIT_USAGE;
            break;
        case 'h': fputs(cli_usage, stdout); return EXIT_OK;
        case 'V': printf("adgen %s\n", ADGEN_VERSION); return EXIT_OK;
        default: return cli_bad_option(c, argv);
        }
    }
    if (optind == argc)
        return cli_usage_error("%s", "no input file");
    if (argc - optind > 1)
        return cli_usage_error("more than one input file ('%s')", argv[optind + 1]);
    o->input = argv[optind];
    return finish_options(o, lines);
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

int gencmd_main(int argc, char **argv)
{
    Arena arena = {0};
    argv = gcc_dep_options(argc, argv, &arena);
    Options o = {.out_path = "-"};
    int status = parse_options(argc, argv, &o);
    if (status < 0) {
        char *dep_path = o.write_deps && !o.dep_path ? default_depfile(o.out_path) : NULL;
        if (dep_path)
            o.dep_path = dep_path;
        status = o.show == SHOW_C ? compile(&o) : show(&o);
        free(dep_path);
    }
    free(o.dep_targets);
    free(o.self_header);
    free(o.emit.compile.defines);
    arena_free(&arena);
    return status;
}
