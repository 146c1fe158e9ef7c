/*
 * checkcmd.c: `adgen check FILE [NAME=VALUE...]`, a numerical health check of a model. At the
 * given point, or at CHECK_POINTS deterministic points (inputs not given drawn uniformly from
 * [0.5, 1.5] by a fixed sequence), the gradient interpreted from the graph the C is generated
 * from (eval_grad) is compared with central differences, per differentiated input with its own
 * step h = cbrt(DBL_EPSILON) max(|x|, 1). A disagreement beyond the tolerance (relative, plus
 * the rounding error the difference quotient itself makes, bounded through the adjoints) is
 * an error, and the check says
 * why where it can, at the source place: a kink or branch switch within the step (abs, relu,
 * min, max, if, floor, ceil, sign), a domain edge within the step or an infinite derivative
 * (sqrt, log, ...), or cancellation in f(x + h) - f(x - h). Exit status 0: every input agrees;
 * 1: one does not (or the input has errors); 2: usage errors.
 */
#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

#define CHECK_POINTS 3
#define DEFAULT_TOL 1e-6

typedef struct {
    const Func *f;
    const Diag *diag;
    double tol;
    uint32_t n;                /* nodes of the DAG */
    double *v0, *vp, *vm;      /* node values at x, x + h e_i, x - h e_i */
    double *vt;                /* at x +- h/2 e_i, one after the other */
    double *x, *grad;
    double rounding;           /* a first-order bound of f's rounding error at x */
    int failed;
} Check;

/* The input slot's name as the source writes it: x, or A[1][2]. */
static void put_slot(Buf *out, const Func *f, uint32_t slot)
{
    for (int p = 0; p < f->nparams; p++) {
        const Param *pa = &f->params[p];
        if (slot < pa->first || slot >= pa->first + pa->size)
            continue;
        buf_puts(out, pa->name);
        uint32_t k = slot - pa->first;
        for (int r = 0, stride = (int)pa->size; r < pa->rank; r++) {
            stride /= (int)pa->dims[r];
            buf_printf(out, "[%u]", (unsigned)(k / (uint32_t)stride % pa->dims[r]));
        }
    }
}

/* %.17g, but NaN as "nan" whatever its sign (printf may write -nan). */
static void put_value(Buf *out, double v)
{
    if (isnan(v))
        buf_puts(out, "nan");
    else
        buf_printf(out, "%.17g", v);
}

/* Which side of its kink or branch point a node is on, from the values of its operands (a
 * step's from its own); -2 for a node without one. */
static double side(const Check *c, const double *v, NodeId id)
{
    const Node *nd = &c->f->dag.nodes[id];
    double a = v[nd->a], b = nd->b ? v[nd->b] : 0;
    switch (op_info[nd->kind].kink) {
    case KINK_NONE: return -2;
    case KINK_SIGN: return (a > 0) - (a < 0);
    case KINK_ORDER: return (a > b) - (a < b);
    case KINK_ORIGIN: return a != 0 || b != 0;
    case KINK_STEP: return v[id];
    case KINK_BRANCH: return a != 0;
    }
    return -2;
}

/* How far an operation's argument is from where its derivative is infinite or undefined;
 * -1 for an operation without such a place. */
static double edge_distance(const Check *c, const double *v, NodeId id)
{
    NodeId arg = report_edge_operand(c->f, id);
    if (!arg)
        return -1;
    double a = v[arg];
    switch (op_info[c->f->dag.nodes[id].kind].edge) {
    case EDGE_NONE: return -1;
    case EDGE_ZERO: case EDGE_DIVISOR: case EDGE_BASE: return fabs(a);
    case EDGE_ONE: return fabs(a - 1);
    case EDGE_MINUS_ONE: return fabs(a + 1);
    case EDGE_UNIT: return fabs(1 - fabs(a));
    }
    return -1;
}

/* Whether node id's operands put it exactly on its kink or tie at the values v (max(a, b)
 * with a = b, abs(0), floor of an integer, a comparison of equal values). */
static int on_kink(const Check *c, const double *v, NodeId id)
{
    const Node *nd = &c->f->dag.nodes[id];
    double a = v[nd->a], b = nd->b ? v[nd->b] : 0;
    switch (op_info[nd->kind].kink) {
    case KINK_NONE: case KINK_BRANCH: return 0;
    case KINK_SIGN: return a == 0;
    case KINK_ORDER: return a == b;
    case KINK_ORIGIN: return a == 0 && b == 0;
    case KINK_STEP: return a == floor(a);
    }
    return 0;
}

/* Notes on the places where the point (c->v0) is exactly on a kink or tie, which the check
 * passes or fails like any other: the gradient there is adgen's convention for it. Once per
 * source place over the whole check (seen: "line:column;" of those noted). */
static void note_kinks(const Check *c, Buf *seen, Buf *out)
{
    const Func *f = c->f;
    for (NodeId id = 1; id < f->nprimal; id++) {
        if (!node_is_op(&f->dag, id) || !on_kink(c, c->v0, id))
            continue;
        char key[32];
        snprintf(key, sizeof key, ";%d:%d;", f->dag.meta[id].line, f->dag.meta[id].column);
        if (seen->data && strstr(seen->data, key))
            continue;
        buf_puts(seen, key);
        report_put_loc(out, c->diag, f, id);
        buf_printf(out, ": note: a point checked is exactly on this kink or tie, where the "
                        "gradient is adgen's convention (README, \"Domain edges\"): %s\n",
                   report_domain_note(f, id));
    }
}

/* Notes on why input slot i disagrees: the kinks, branch switches and domain edges within
 * its step, once per source place; returns how many. */
static int explain_places(Check *c, Buf *out)
{
    const Func *f = c->f;
    int notes = 0;
    Buf seen = {0}; /* "line:column;" of the places noted */
    for (NodeId id = 1; id < f->nprimal; id++) {
        if (!node_is_op(&f->dag, id))
            continue;
        const char *why = NULL;
        double sm = side(c, c->vm, id), sp = side(c, c->vp, id);
        if (sm != -2 && sm != sp)
            why = op_info[f->dag.nodes[id].kind].kink == KINK_BRANCH ?
                  "the branch switches within the step" : "a kink or jump within the step";
        double dist = edge_distance(c, c->v0, id);
        NodeId arg = report_edge_operand(f, id);
        if (!why && dist >= 0 &&
            (dist == 0 || (c->vp[arg] != c->vm[arg] &&
                           (!isfinite(c->v0[id]) || dist <= fabs(c->vp[arg] - c->vm[arg])))))
            why = dist == 0 ? "an infinite derivative: the argument is at the edge" :
                  "an infinite or undefined derivative within the step";
        if (!why)
            continue;
        char key[32];
        snprintf(key, sizeof key, ";%d:%d;", f->dag.meta[id].line, f->dag.meta[id].column);
        if (seen.data && strstr(seen.data, key))
            continue;
        buf_puts(&seen, key);
        report_put_loc(out, c->diag, f, id);
        buf_printf(out, ": note: %s: %s\n", why, report_domain_note(f, id));
        notes++;
    }
    buf_free(&seen);
    return notes;
}

/* Where the value at x is NaN: the operations that make a NaN of operands that are not. */
static int explain_nan(Check *c, Buf *out)
{
    const Func *f = c->f;
    int notes = 0;
    buf_printf(out, "  %s is not a number at this point\n", f->name);
    for (NodeId id = 1; id < f->nprimal; id++) {
        const Node *nd = &f->dag.nodes[id];
        if (!node_is_op(&f->dag, id) || !isnan(c->v0[id]) || isnan(c->v0[nd->a]) ||
            (nd->b && isnan(c->v0[nd->b])) || (nd->c && isnan(c->v0[nd->c])))
            continue;
        const char *note = report_domain_note(f, id);
        report_put_loc(out, c->diag, f, id);
        if (note) {
            buf_printf(out, ": note: not a number here: %s\n", note);
        } else { /* no domain edge: infinite operands (inf - inf, 0 * inf) */
            buf_printf(out, ": note: not a number here, from the operand%s %g",
                       node_arity(nd->kind) > 1 ? "s" : "", c->v0[nd->a]);
            for (int i = 1; i < node_arity(nd->kind); i++)
                buf_printf(out, "%s %g", i + 1 == node_arity(nd->kind) ? " and" : ",",
                           c->v0[i == 1 ? nd->b : nd->c]);
            buf_puts(out, "\n");
        }
        notes++;
    }
    return notes;
}

/* Each operation rounds its result v by up to DBL_EPSILON/2 relative, which moves f by about
 * that times v times v's adjoint: the sum bounds f's rounding error to first order, however
 * long the computation (a 100,000-deep chain of sin rounds 100,000 times). */
static double rounding_bound(const Check *c)
{
    const Func *f = c->f;
    double sum = 0;
    for (NodeId id = 1; id < f->nprimal && id < f->adj.len; id++) {
        double term = f->adj.of[id] && node_is_op(&f->dag, id) ?
                      fabs(c->v0[id] * c->v0[f->adj.of[id]]) : 0;
        if (isfinite(term))
            sum += term;
    }
    return DBL_EPSILON * sum;
}

/* Central differences for slot i against the graph's gradient; returns the relative
 * disagreement, after reporting a failure. */
static double check_slot(Check *c, uint32_t i, double *allowed, Buf *out)
{
    const Func *f = c->f;
    const Dag *d = &f->dag;
    NodeId root = f->roots[0];
    double xi = c->x[i], h = cbrt(DBL_EPSILON) * (fabs(xi) > 1 ? fabs(xi) : 1);
    volatile double up = xi + h; /* a step the arithmetic represents exactly */
    h = up - xi;
    c->x[i] = xi + h;
    eval_dag(d, c->x, c->vp);
    c->x[i] = xi - h;
    eval_dag(d, c->x, c->vm);
    c->x[i] = xi;
    /* and at +-h/2, for Richardson's extrapolation: its error is O(h^4), so a function that
     * curves within the step is not taken for a wrong derivative (sin(1000 x)) */
    c->x[i] = xi + h / 2;
    eval_dag(d, c->x, c->vt);
    double fp2 = c->vt[root];
    c->x[i] = xi - h / 2;
    eval_dag(d, c->x, c->vt);
    double fm2 = c->vt[root];
    c->x[i] = xi;
    double fp = c->vp[root], fm = c->vm[root], ad = c->grad[i];
    double fd1 = (fp - fm) / (2 * h), fd2 = (fp2 - fm2) / h, fd = (4 * fd2 - fd1) / 3;
    double big = fabs(ad) > fabs(fd) ? fabs(ad) : fabs(fd);
    double noise = (4 * DBL_EPSILON * (fabs(fp) + fabs(fm)) + 2 * c->rounding) / (2 * h) / 3 +
                   (4 * DBL_EPSILON * (fabs(fp2) + fabs(fm2)) + 2 * c->rounding) / h * 4 / 3;
    double err = ad == fd ? 0 : fabs(ad - fd);
    double rel = err == 0 ? 0 : big > 0 && isfinite(big) ? err / big : INFINITY;
    if (isnan(err))
        rel = INFINITY; /* a NaN on either side, or both: nothing agrees */
    *allowed = big > 0 && isfinite(big) ? (c->tol * big + noise) / big : c->tol;
    if (rel == 0 || err <= c->tol * big + noise)
        return rel;
    c->failed = 1;
    buf_printf(out, "%s at", f->name);
    for (uint32_t s = 0; s < f->ninputs; s++) {
        buf_puts(out, " ");
        put_slot(out, f, s);
        buf_puts(out, "=");
        put_value(out, c->x[s]);
    }
    buf_printf(out, ":\n  d%s/d", f->name);
    put_slot(out, f, i);
    buf_puts(out, " = ");
    put_value(out, ad);
    buf_puts(out, " from the graph, ");
    put_value(out, fd);
    buf_printf(out, " by central differences (step %.3g, extrapolated): disagreement %.3g, "
                    "allowed %.3g\n", h, rel, *allowed);
    int notes = isnan(c->v0[root]) ? explain_nan(c, out) : 0;
    notes += explain_places(c, out);
    /* rounding in the largest intermediate, magnified by 1/h */
    double largest = 0;
    for (NodeId id = 1; id < f->nprimal; id++)
        if (isfinite(c->v0[id]) && fabs(c->v0[id]) > largest)
            largest = fabs(c->v0[id]);
    if (!notes && 8 * DBL_EPSILON * largest / (2 * h) > c->tol * big) {
        buf_printf(out, "  cancellation: intermediate values up to %.3g lose digits in "
                        "f(x + h) - f(x - h)\n", largest);
        notes++;
    }
    if (!notes)
        buf_puts(out, "  no kink, branch switch, domain edge or cancellation explains it\n");
    return rel;
}

/* One input slot's value at point k: given, or drawn from [0.5, 1.5]. */
static double default_value(int k, uint32_t slot)
{
    uint64_t z = (uint64_t)k * 0x9E3779B97F4A7C15u + slot * 0xBF58476D1CE4E5B9u + 1;
    z = (z ^ (z >> 31)) * 0x94D049BB133111EBu;
    z ^= z >> 29;
    return 0.5 + (double)(z >> 11) / 9007199254740992.0;
}

static int check_func(const Func *f, const Diag *diag, double tol, char **assignments, int n,
                      Buf *out)
{
    Check c = {.f = f, .diag = diag, .tol = tol, .n = f->dag.len};
    c.v0 = xrealloc(NULL, 4 * (size_t)c.n * sizeof *c.v0);
    c.vp = c.v0 + c.n;
    c.vm = c.vp + c.n;
    c.vt = c.vm + c.n;
    c.x = xrealloc(NULL, 2 * ((size_t)f->ninputs + 1) * sizeof *c.x);
    c.grad = c.x + f->ninputs + 1;
    char *given = xrealloc(NULL, (size_t)f->ninputs + 1);
    memset(given, 0, (size_t)f->ninputs + 1);
    for (int a = 0; a < n; a++)
        if (cli_assign(f, assignments[a], c.x, given) != 0) {
            free(c.v0);
            free(c.x);
            free(given);
            return -1;
        }
    int all_given = 1;
    for (int p = 0; p < f->nparams; p++)
        all_given = all_given && given[f->params[p].first];
    int points = all_given ? 1 : CHECK_POINTS;
    /* per parameter: its worst disagreement, and what was allowed there (the tolerance and
     * the rounding error of the differences, relative to the derivative) */
    double *worst = xrealloc(NULL, 2 * ((size_t)f->ninputs + 1) * sizeof *worst);
    double *allowed = worst + f->ninputs + 1;
    memset(worst, 0, 2 * ((size_t)f->ninputs + 1) * sizeof *worst);
    Buf failures = {0}, kinks = {0}, seen = {0};
    for (int k = 0; k < points; k++) {
        for (int p = 0; p < f->nparams; p++)
            for (uint32_t s = 0; !given[f->params[p].first] && s < f->params[p].size; s++)
                c.x[f->params[p].first + s] = default_value(k, f->params[p].first + s);
        eval_grad(f, c.x, c.grad);
        eval_dag(&f->dag, c.x, c.v0);
        c.rounding = rounding_bound(&c);
        note_kinks(&c, &seen, &kinks);
        for (int p = 0; p < f->nparams; p++) {
            const Param *pa = &f->params[p];
            for (uint32_t s = pa->first; pa->kind == PARAM_DIFF && s < pa->first + pa->size;
                 s++) {
                double allow, rel = check_slot(&c, s, &allow, &failures);
                if (!(rel <= worst[p])) {
                    worst[p] = rel;
                    allowed[p] = allow;
                }
            }
        }
    }
    buf_printf(out, "%s: %d point%s, central differences, tolerance %g\n", f->name, points,
               points == 1 ? "" : "s", tol);
    buf_printf(out, "  %-12s %-20s %s\n", "input", "worst disagreement", "allowed there");
    int rounding = 0;
    for (int p = 0; p < f->nparams; p++) {
        if (f->params[p].kind != PARAM_DIFF)
            continue;
        double allow = worst[p] > 0 ? allowed[p] : tol;
        buf_printf(out, "  %-12s %-20.3g %.3g\n", f->params[p].name, worst[p], allow);
        rounding |= allow > 1.1 * tol;
    }
    if (rounding)
        buf_puts(out, "  (relative; allowed there: the tolerance, and beyond it the rounding "
                      "error the central differences make at that point)\n");
    if (kinks.data)
        buf_puts(out, kinks.data);
    if (failures.data)
        buf_puts(out, failures.data);
    buf_printf(out, "%s: %s\n", f->name, c.failed ? "FAILED" : "ok");
    buf_free(&failures);
    buf_free(&kinks);
    buf_free(&seen);
    free(worst);
    free(given);
    free(c.v0);
    free(c.x);
    return c.failed;
}

static int check(Unit *u, const char *path, const char *function, double tol,
                 char **assignments, int n)
{
    Buf src = {0}, out = {0};
    if (output_read(path, &src) != 0) {
        buf_free(&src);
        return EXIT_USAGE;
    }
    char *stem = output_stem(path);
    const char *file = strcmp(path, "-") == 0 ? "<stdin>" : path;
    int status = EXIT_INPUT;
    if (unit_compile(u, file, src.data, src.len, stem, stderr) != 0)
        goto done;
    int chosen = 0, failed = 0, checked = 0;
    for (int i = 0; i < u->prog.nfuncs; i++)
        chosen += !function || strcmp(u->prog.funcs[i].name, function) == 0;
    status = EXIT_USAGE;
    if (!chosen) {
        fprintf(stderr, "adgen: '%s' defines no function '%s'\n", path, function);
        goto done;
    }
    if (n > 0 && chosen > 1) {
        fprintf(stderr, "adgen: '%s' defines %d functions; choose one with --function to give "
                        "values\n", path, chosen);
        goto done;
    }
    /* sizes given as values (N=3) are -D defines: compiled again with them, and the other
     * values kept for the inputs */
    for (int i = 0; n > 0 && i < u->prog.nfuncs; i++) {
        const Func *f = &u->prog.funcs[i];
        if ((function && strcmp(f->name, function) != 0) || !f->nsizes)
            continue;
        int r = cli_sizes_given(u, i, assignments, &n, file, &src, stem);
        if (r) {
            status = r;
            goto done;
        }
        break;
    }
    for (int i = 0; i < u->prog.nfuncs; i++) {
        const Func *f = &u->prog.funcs[i];
        if (function && strcmp(f->name, function) != 0)
            continue;
        if (f->vector && function) {
            fprintf(stderr, "adgen: check compares a gradient, and '%s' returns %d values\n",
                    f->name, f->nroots);
            goto done;
        }
        if (cli_sizes_refused(f, "check"))
            goto done;
        if (f->vector) {
            buf_printf(&out, "%s: not checked (it returns %d values; check compares "
                             "gradients)\n", f->name, f->nroots);
            continue;
        }
        checked++;
        int r = check_func(&u->prog.funcs[i], &u->diag, tol, assignments, n, &out);
        if (r < 0) {
            fputs("Try 'adgen --help' for more information.\n", stderr);
            goto done;
        }
        failed |= r;
    }
    if (out.data)
        fwrite(out.data, 1, out.len, stdout);
    status = failed ? EXIT_INPUT : EXIT_OK;
    if (!checked) {
        /* a gate that checked nothing must not pass */
        fprintf(stderr, "adgen: check compares gradients, and no function of '%s' returns one "
                        "value\n", path);
        status = EXIT_USAGE;
    }
done:
    unit_free(u);
    buf_free(&out);
    free(stem);
    buf_free(&src);
    return status;
}

int checkcmd_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"function", required_argument, NULL, 'f'},
        {"tol", required_argument, NULL, 't'},
        {"define", required_argument, NULL, 'D'},
        {"max-nodes", required_argument, NULL, 'M'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *function = NULL;
    double tol = DEFAULT_TOL;
    Unit u = {0};
    int status = -1;
    for (int c; status < 0 && (c = getopt_long(argc, argv, ":f:D:h", options, NULL)) != -1;) {
        char *end;
        switch (c) {
        case 't':
            errno = 0;
            tol = strtod(optarg, &end);
            if (end == optarg || *end || errno || !(tol > 0) || !isfinite(tol))
                status = cli_usage_error("--tol takes a positive number, not '%s'", optarg);
            break;
        default:
            if (!cli_unit_option(c, &u, &function, &status))
                status = cli_bad_option(c, argv);
            break;
        }
    }
    if (status < 0 && optind == argc)
        status = cli_usage_error("%s", "check: no input file");
    if (status < 0)
        status = check(&u, argv[optind], function, tol, argv + optind + 1, argc - optind - 1);
    free(u.opt.defines);
    return status;
}
