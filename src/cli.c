/*
 * cli.c: what adgen's commands share: the help text, usage errors in GNU style, and the check
 * that what went to standard output got there.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

const char cli_usage[] =
    "Usage: adgen [OPTION]... FILE\n"
    "  or:  adgen eval [--function=NAME] [--jac] [--hess] [-D NAME=VALUE]... FILE\n"
    "                  [NAME=VALUE]...\n"
    "  or:  adgen check [--function=NAME] [--tol=T] [-D NAME=VALUE]... FILE [NAME=VALUE]...\n"
    "Compile the scalar functions defined in FILE to C: each function NAME and its\n"
    "reverse-mode gradient NAME_grad. With FILE '-', read standard input.\n"
    "'adgen eval' prints a function's value and gradient (--jac: Jacobian, --hess:\n"
    "also Hessian) at a point, computed by interpreting the graph the C comes from.\n"
    "'adgen check' compares that gradient with central differences (a step per input)\n"
    "at the point, or at 3 fixed points with the inputs not given in [0.5, 1.5], and\n"
    "names the kink, branch switch, domain edge or cancellation where they disagree by\n"
    "more than T (relative, default 1e-6): then the exit status is 1.\n"
    "\n"
    "Output:\n"
    "  -o, --output=FILE     write the C source to FILE instead of standard output\n"
    "      --header=FILE     also write a header declaring the functions to FILE,\n"
    "                        which the source includes\n"
    "      --check           write nothing; exit 0 if the -o (and --header) files hold\n"
    "                        exactly what would be written, 1 if not\n"
    "  -MD                   also write a make dependency file (the -o FILE with .d)\n"
    "  -MF FILE              write the dependency file to FILE (implies -MD)\n"
    "  -MT TARGET            name TARGET in it instead of the output files (repeatable)\n"
    "      --force           replace an output file even if adgen did not write it\n"
    "      --keep-unchanged  leave an output that already holds what would be written\n"
    "                        as it is, its time too (for make and Ninja rules that\n"
    "                        look at the files' times after a run: adgen.mk)\n"
    "\n"
    "Generated code:\n"
    "      --real=TYPE       float, double (the default) or 'long double'\n"
    "      --prefix=PREFIX   start every generated function name with PREFIX\n"
    "      --name=NAME       call the file's only function NAME (and NAME_grad)\n"
    "      --static          make the functions static, for #include-ing the source\n"
    "      --emit=LIST       the entry points to write besides NAME: a comma-separated\n"
    "                        list of grad, jvp, vjp, jac, jac-sparse, hvp, hess,\n"
    "                        hess-sparse, grad-ckp, vjp-ckp (checkpointed: a kept\n"
    "                        recurrence in little memory), value-batch, grad-batch,\n"
    "                        jvp-batch, vjp-batch (many points in one vectorised\n"
    "                        loop), or 'all' (every one-point entry point each\n"
    "                        function has); the default is grad (jac for a function\n"
    "                        returning a list)\n"
    "      --accumulate      NAME_grad and NAME_vjp (and their batched variants) add to\n"
    "                        *x_bar instead of overwriting\n"
    "      --sparse=FORMAT   the sparse entry points' pattern: triplet (the default:\n"
    "                        NAME_row, NAME_col, by row) or csc (compressed column\n"
    "                        storage: NAME_colptr, NAME_row, by column)\n"
    "      --abi=ABI         native (the default: the functions above), or casadi:\n"
    "                        each entry point asked for as CasADi's external\n"
    "                        function of its name (int NAME(arg, res, iw, w, mem),\n"
    "                        NAME_n_in, NAME_sparsity_out, NAME_work, ...)\n"
    "      --max-stack=BYTES keep each function's stack frame near BYTES or less (for\n"
    "                        small stacks: 4096): a large body without kept loops is\n"
    "                        cut in parts, and the values they pass live in a work\n"
    "                        array the caller gives (NAME_WORK() of them); a batched\n"
    "                        variant's loop body is not cut (default: those values\n"
    "                        are the caller's above 32 KB)\n"
    "      --no-line         no #line directives (the default, --line: statements\n"
    "                        point at the lines of FILE they came from)\n"
    "\n"
    "Explain (to standard output, instead of C):\n"
    "      --dot[=adjoint]   the computational graph in Graphviz DOT (fig. 5.11); with\n"
    "                        'adjoint' also the reverse sweep, each edge labelled with\n"
    "                        its local partial: adgen --dot f.expr | dot -Tsvg >f.svg\n"
    "      --explain[=STYLE] the forward sweep, the local partials and the reverse sweep\n"
    "                        as equations in the source's names; STYLE text (the\n"
    "                        default), latex (an align* block) or markdown\n"
    "      --report          per function: operations of the function and its gradient\n"
    "                        by kind, their weighted ratio, sharing, temporaries, and a\n"
    "                        FILE:LINE:COL: note per place where the derivative is\n"
    "                        undefined, infinite or jumps\n"
    "\n"
    "Input:\n"
    "  -D, --define NAME=VALUE  set the file constant NAME (as cc -D does)\n"
    "      --max-nodes=N     unrolling loops, sums and calls past N operations (a\n"
    "                        for loop's step counts as one) is an error (default\n"
    "                        10000000)\n"
    "      --unroll=N        keep a sum over a constant range of more than N terms as\n"
    "                        a C loop where it can be (reading arrays at indices linear\n"
    "                        in its variable), and a for loop of more than N steps\n"
    "                        (a recurrence) where the whole function can be; 'all'\n"
    "                        (the default) unrolls every one\n"
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

int cli_emit(const char *arg, unsigned *out)
{
    for (const char *s = arg; *s;) {
        size_t n = strcspn(s, ",");
        int found = n == 3 && strncmp(s, "all", 3) == 0;
        if (found)
            *out |= EMIT_ALL;
        for (int k = 0; k < ENTRY_KINDS && !found; k++) {
            if (strlen(entry_info[k].word) == n && strncmp(s, entry_info[k].word, n) == 0) {
                *out |= 1u << k;
                found = 1;
            }
        }
        if (!found) {
            fprintf(stderr, "adgen: --emit: unknown entry point '%.*s' (grad, jvp, vjp, jac, "
                            "jac-sparse, hvp, hess, hess-sparse, grad-ckp, vjp-ckp, "
                            "value-batch, grad-batch, jvp-batch, vjp-batch or all)\n"
                            "Try 'adgen --help' for more information.\n", (int)n, s);
            return EXIT_USAGE;
        }
        s += n;
        if (*s == ',' && !s[1])
            return cli_usage_error("--emit: '%s' ends with ','", arg);
        s += *s == ',';
    }
    if (!*arg)
        return cli_usage_error("%s", "--emit needs at least one entry point");
    return 0;
}

int cli_unit_option(int c, Unit *u, const char **function, int *status)
{
    switch (c) {
    case 'f': *function = optarg; return 1;
    case 'D':
        if (cli_add_define(&u->opt.defines, &u->opt.ndefines, optarg) != 0)
            *status = EXIT_USAGE;
        return 1;
    case 'M':
        if (cli_max_nodes(optarg, &u->opt.max_nodes) != 0)
            *status = EXIT_USAGE;
        return 1;
    case 'h': fputs(cli_usage, stdout); *status = EXIT_OK; return 1;
    default: return 0;
    }
}

int cli_usage_error(const char *fmt, const char *arg)
{
    fputs("adgen: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry 'adgen --help' for more information.\n", stderr);
    return EXIT_USAGE;
}

/* getopt's complaint ('?' or ':') as a usage error. A long option is the word just read,
 * which GNU getopt has moved to argv[optind - 1] (shown as the user spelled -MF and -MT); a
 * short one is named by optopt, as it may sit inside a cluster such as -xV. */
int cli_bad_option(int c, char **argv)
{
    char name[3] = {'-', (char)optopt, '\0'};
    const char *word = optind > 0 ? argv[optind - 1] : "";
    const char *option = strncmp(word, "--", 2) != 0 ? name :
                         strncmp(word, "--M", 3) == 0 && strlen(word) == 4 ? word + 1 : word;
    if (c == ':')
        return cli_usage_error("option '%s' requires an argument", option);
    return cli_usage_error("unrecognized option '%s'", option);
}

/* What went to standard output (help, version, eval's results) must have got there. */
int cli_flush_stdout(int status)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return status;
    fprintf(stderr, "adgen: error writing standard output: %s\n", strerror(errno));
    return EXIT_USAGE;
}


/* -D NAME=VALUE: NAME an identifier, VALUE a finite number. */
int cli_add_define(const char ***defines, int *n, const char *arg)
{
    size_t len = strcspn(arg, "=");
    int ok = len > 0 && arg[len] == '=' && !(arg[0] >= '0' && arg[0] <= '9');
    for (size_t i = 0; ok && i < len; i++)
        ok = (arg[i] >= 'a' && arg[i] <= 'z') || (arg[i] >= 'A' && arg[i] <= 'Z') ||
             (arg[i] >= '0' && arg[i] <= '9') || arg[i] == '_';
    if (!ok)
        return cli_usage_error("-D takes NAME=VALUE, not '%s'", arg);
    char *end;
    double v = strtod(arg + len + 1, &end);
    if (end == arg + len + 1 || *end || !isfinite(v))
        return cli_usage_error("-D %s: the value is not a finite number", arg);
    *defines = xrealloc(*defines, (size_t)(*n + 1) * sizeof **defines);
    (*defines)[(*n)++] = arg;
    return 0;
}

int cli_sizes_given(Unit *u, int at, char **assignments, int *n, const char *file,
                    const Buf *src, const char *stem)
{
    const Func *f = &u->prog.funcs[at];
    int kept = 0, moved = 0;
    for (int a = 0; a < *n; a++) {
        size_t len = strcspn(assignments[a], "=");
        int s = 0;
        while (s < f->nsizes && !(assignments[a][len] == '=' && strlen(f->size[s]) == len &&
                                  strncmp(f->size[s], assignments[a], len) == 0))
            s++;
        if (s == f->nsizes) {
            assignments[kept++] = assignments[a];
            continue;
        }
        char *end;
        double v = strtod(assignments[a] + len + 1, &end);
        if (end == assignments[a] + len + 1 || *end || !isfinite(v))
            return cli_usage_error("size %s: the value is not a number", assignments[a]);
        cli_add_define(&u->opt.defines, &u->opt.ndefines, assignments[a]);
        moved++;
    }
    *n = kept;
    if (!moved)
        return 0;
    unit_free(u);
    return unit_compile(u, file, src->data, src->len, stem, stderr) != 0 ? EXIT_INPUT : 0;
}

int cli_sizes_refused(const Func *f, const char *verb)
{
    char *sizes = func_sizes_list(f);
    if (sizes)
        fprintf(stderr, "adgen: '%s' has sizes known only at run time (%s): give them as "
                        "NAME=VALUE (or -D NAME=VALUE) to %s it\n", f->name, sizes, verb);
    free(sizes);
    return sizes != NULL;
}

int cli_count(const char *option, const char *what, const char *arg, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(arg, &end, 10);
    if (end == arg || *end || errno || n == 0 || n > 4000000000ull || arg[0] == '-') {
        Buf msg = {0};
        buf_printf(&msg, "%s takes %s, not '%s'", option, what, arg);
        int status = cli_usage_error("%s", msg.data);
        buf_free(&msg);
        return status;
    }
    *out = (uint32_t)n;
    return 0;
}

int cli_max_nodes(const char *arg, uint32_t *out)
{
    return cli_count("--max-nodes", "a count from 1 to 4000000000", arg, out);
}

int cli_assign(const Func *f, const char *assignment, double *x, char *given)
{
    const char *eq = strchr(assignment, '=');
    if (!eq) {
        fprintf(stderr, "adgen: '%s' is not NAME=VALUE\n", assignment);
        return -1;
    }
    size_t len = (size_t)(eq - assignment);
    int p = 0;
    while (p < f->nparams && !(strlen(f->params[p].name) == len &&
                               strncmp(f->params[p].name, assignment, len) == 0))
        p++;
    if (p == f->nparams) {
        fprintf(stderr, "adgen: '%s' has no input '%.*s'\n", f->name, (int)len, assignment);
        return -1;
    }
    const Param *pa = &f->params[p];
    if (given[pa->first]) {
        fprintf(stderr, "adgen: input '%s' is given twice\n", pa->name);
        return -1;
    }
    /* an array's elements in row-major order, separated by commas */
    const char *s = eq + 1;
    for (uint32_t k = 0; k < pa->size; k++) {
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        size_t n = strcspn(s, ",");
        if (end == s || end != s + n) {
            fprintf(stderr, "adgen: '%.*s' is not a number\n", (int)n, s);
            return -1;
        }
        if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL)) {
            fprintf(stderr, "adgen: '%.*s' is out of the range of a double\n", (int)n, s);
            return -1;
        }
        if ((k + 1 < pa->size) != (*end == ',')) {
            fprintf(stderr, "adgen: '%s' has %u element%s: give %s\n", pa->name, pa->size,
                    pa->size == 1 ? "" : "s", pa->size == 1 ? "one number" :
                    "that many numbers separated by ','");
            return -1;
        }
        x[pa->first + k] = v;
        s = end + (*end == ',');
    }
    given[pa->first] = 1;
    return 0;
}
