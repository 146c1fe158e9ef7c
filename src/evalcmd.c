/*
 * evalcmd.c: `adgen eval FILE NAME=VALUE...`: a function's value and gradient at a point,
 * computed by interpreting the graph the C is generated from (eval.c).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

/* NAME=VALUE into x[the input's position]; 0 on success, -1 after a message. */
static int assign_input(const Func *f, const char *assignment, double *x, char *given)
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
    uint32_t i = f->params[p].first;
    if (given[i]) {
        fprintf(stderr, "adgen: input '%s' is given twice\n", f->params[p].name);
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
    if (output_read(path, &src) != 0) {
        buf_free(&src);
        return EXIT_USAGE;
    }
    char *stem = output_stem(path);
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
    for (int p = 0; p < f->nparams && ok; p++)
        if (!given[f->params[p].first]) {
            fprintf(stderr, "adgen: no value for input '%s' of '%s'\n", f->params[p].name,
                    f->name);
            ok = 0;
        }
    if (ok) {
        double value = eval_grad(f, x, grad);
        printf("%s = %.17g\n", f->name, value);
        for (int p = 0; p < f->nparams; p++)
            if (f->params[p].kind == PARAM_DIFF)
                printf("d%s/d%s = %.17g\n", f->name, f->params[p].name,
                       grad[f->params[p].first]);
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

int evalcmd_main(int argc, char **argv)
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
        case 'h': fputs(cli_usage, stdout); return EXIT_OK;
        default: return cli_bad_option(c, argv);
        }
    }
    if (optind == argc)
        return cli_usage_error("%s", "eval: no input file");
    return evaluate(argv[optind], function, argv + optind + 1, argc - optind - 1);
}

