/*
 * evalcmd.c: `adgen eval FILE NAME=VALUE...`: a function's value and gradient (a vector
 * result's Jacobian) at a point, and with --jac, --hess its Jacobian and Hessian, computed
 * by interpreting the graph the C is generated from (eval.c).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

/* An input slot as the source writes it: x, or an element x[1][2]. */
static void put_element(const Func *f, uint32_t slot)
{
    const Param *pa = f->params;
    while (slot >= pa->first + pa->size)
        pa++;
    printf("%s", pa->name);
    uint32_t k = slot - pa->first;
    for (int r = 0, stride = (int)pa->size; r < pa->rank; r++) {
        stride /= (int)pa->dims[r];
        printf("[%u]", (unsigned)(k / (uint32_t)stride % pa->dims[r]));
    }
}

static int evaluate(Unit *u, const char *path, const char *function, char **assignments,
                    int n, int want_jac, int want_hess)
{
    Buf src = {0};
    if (output_read(path, &src) != 0) {
        buf_free(&src);
        return EXIT_USAGE;
    }
    char *stem = output_stem(path);
    const char *file = strcmp(path, "-") == 0 ? "<stdin>" : path;
    int status = EXIT_INPUT;
    if (unit_compile(u, file, src.data, src.len, stem, stderr) != 0)
        goto done;
    const Func *f = NULL;
    for (int i = 0; i < u->prog.nfuncs; i++)
        if (!function || strcmp(u->prog.funcs[i].name, function) == 0)
            f = f ? f : &u->prog.funcs[i];
    status = EXIT_USAGE;
    if (!f) {
        fprintf(stderr, "adgen: '%s' defines no function '%s'\n", path, function);
        goto done;
    }
    if (!function && u->prog.nfuncs > 1) {
        fprintf(stderr, "adgen: '%s' defines %d functions; choose one with --function\n", path,
                u->prog.nfuncs);
        goto done;
    }
    /* sizes given as values (N=3) are -D defines: compiled again with them */
    if (f->nsizes) {
        int at = (int)(f - u->prog.funcs), r = cli_sizes_given(u, at, assignments, &n, file,
                                                               &src, stem);
        if (r) {
            status = r;
            goto done;
        }
        f = &u->prog.funcs[at];
    }
    if (cli_sizes_refused(f, "evaluate"))
        goto done;
    double *x = xrealloc(NULL, (size_t)(f->ninputs + 1) * sizeof *x);
    char *given = xrealloc(NULL, (size_t)f->ninputs + 1);
    memset(given, 0, (size_t)f->ninputs + 1);
    int ok = 1;
    for (int a = 0; a < n && ok; a++)
        ok = cli_assign(f, assignments[a], x, given) == 0;
    for (int p = 0; p < f->nparams && ok; p++)
        if (!given[f->params[p].first]) {
            fprintf(stderr, "adgen: no value for input '%s' of '%s'\n", f->params[p].name,
                    f->name);
            ok = 0;
        }
    if (ok && want_hess && f->vector) {
        fprintf(stderr, "adgen: '%s' returns %d values, so it has no Hessian\n", f->name,
                f->nroots);
        ok = 0;
    }
    if (ok) {
        double *v = eval_func(f, x);
        for (int r = 0; r < f->nroots; r++) {
            printf("%s", f->name);
            if (f->vector)
                printf("[%d]", r);
            printf(" = %.17g\n", v[f->roots[r]]);
        }
        /* the gradient, or the Jacobian's rows, then the Hessian's */
        const Sparse *sp = f->vector || want_jac ? &f->mode[ENTRY_JAC].sparse : NULL;
        for (int r = 0; r < f->nroots; r++) {
            for (uint32_t k = 0; k < f->ndiff; k++) {
                printf("d%s", f->name);
                if (f->vector)
                    printf("[%d]", r);
                printf("/d");
                put_element(f, f->diff[k]);
                uint32_t at = sp ? sparse_find(sp, (uint32_t)r, k) : 0;
                double d = !sp ? v[f->mode[ENTRY_GRAD].node[f->diff[k]]] :
                           at < sp->nnz ? v[sp->node[at]] : 0.0;
                printf(" = %.17g\n", d);
            }
        }
        for (uint32_t i = 0; want_hess && i < f->ndiff; i++) {
            for (uint32_t k = 0; k < f->ndiff; k++) {
                printf("d2%s/d", f->name);
                put_element(f, f->diff[i]);
                printf("d");
                put_element(f, f->diff[k]);
                const Sparse *hess = &f->mode[ENTRY_HESS].sparse;
                uint32_t at = k > i ? sparse_find(hess, k, i) : sparse_find(hess, i, k);
                printf(" = %.17g\n", at < hess->nnz ? v[hess->node[at]] : 0.0);
            }
        }
        free(v);
        status = EXIT_OK;
    } else {
        fputs("Try 'adgen --help' for more information.\n", stderr);
    }
    free(x);
    free(given);
done:
    unit_free(u);
    free(stem);
    buf_free(&src);
    return status;
}

int evalcmd_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"function", required_argument, NULL, 'f'},
        {"define", required_argument, NULL, 'D'},
        {"max-nodes", required_argument, NULL, 'M'},
        {"jac", no_argument, NULL, 'J'},
        {"hess", no_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *function = NULL;
    Unit u = {0};
    int status = -1, want_jac = 0, want_hess = 0;
    /* options may come anywhere: NAME=VALUE never starts with '-', even for x=-1 */
    for (int c; status < 0 && (c = getopt_long(argc, argv, ":f:D:h", options, NULL)) != -1;) {
        switch (c) {
        case 'J': want_jac = 1; break;
        case 'H': want_hess = 1; break;
        default:
            if (!cli_unit_option(c, &u, &function, &status))
                status = cli_bad_option(c, argv);
            break;
        }
    }
    if (status < 0 && optind == argc)
        status = cli_usage_error("%s", "eval: no input file");
    /* what it may print, among what each function has */
    u.opt.emit = EMIT_FITTING | 1u << ENTRY_GRAD | 1u << ENTRY_JAC |
                 (want_hess ? 1u << ENTRY_HESS : 0);
    if (status < 0)
        status = evaluate(&u, argv[optind], function, argv + optind + 1, argc - optind - 1,
                          want_jac, want_hess);
    free(u.opt.defines);
    return status;
}
