/*
 * test_diff.c: the differential test. Random programs from tests/gen.h are taken through
 * compile_source; their C must compile warning-free with gcc -O2 and clang at -std=c99
 * -pedantic -Werror. It is compiled in batches, one C file of many programs told apart by
 * their prefix, and linked with a driver that calls every function and gradient at embedded
 * points and prints the results exactly (%a). Each result is compared with
 *   (a) eval_grad, the interpreter over the same reverse-mode DAG (tests emit_c.c),
 *   (b) eval_tangent, forward mode over the primal DAG (tests reverse.c by a second,
 *       independent implementation of every rule),
 *   (c) central differences of the interpreted primal (tests both rule sets against the
 *       function itself, away from kinks).
 * A mismatch prints the program's seed and text; `make difftest N=1 SEED=<seed>` reruns it.
 * ADGEN_DIFF_N programs (default 300) are run, seeds ADGEN_DIFF_SEED (default 1) onwards.
 */
#include "testutil.h"

#include "coverage.h"
#include "gen.h"

#include <errno.h>
#include <float.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT "build/tests/diff"
#define GCC "gcc -std=c99 -O2 -Wall -Wextra -pedantic -Werror"
#define CLANG "clang -std=c99 -Wall -Wextra -pedantic -Werror -fsyntax-only"
#define NPOINTS 4            /* points per function */
#define BATCH 40             /* programs per compiled file */
#define MAX_REPORTS 5        /* mismatching programs printed in full */
#define MAX_SLOTS 32         /* input slots of a generated function (gen.h keeps below) */

/* ---- one program ----------------------------------------------------------------------- */

typedef struct {
    uint64_t seed;
    Buf text;          /* the program */
    Buf c_text, h_text;
    Unit unit;         /* the same program in memory, for the interpreters */
    char **cname;      /* per function: the C names of NAME and NAME_grad, from the header */
    double **points;   /* per function: NPOINTS rows of its inputs */
    NodeId **forward;  /* per function and input: its derivative by forward.c's transform */
    uint32_t *swept;   /* per function: its DAG's length before those nodes were added */
    int failed;        /* a mismatch has been reported */
} Case;

static GenSize size_for(uint64_t seed)
{
    GenSize small = {3, 4, 5, 8}, large = {4, 4, 8, 24};
    return seed % 8 == 0 ? large : small;
}

/* The C names of the functions in a generated header, in order: NAME, NAME_grad, ... */
static char **header_names(const char *h, int nfuncs)
{
    char **names = calloc(2 * (size_t)nfuncs, sizeof *names);
    int n = 0;
    for (const char *line = h; line && n < 2 * nfuncs; line = strchr(line, '\n')) {
        line += *line == '\n';
        if (strncmp(line, "ADGEN_FUNC ", 11) == 0)
            line += 11;
        if (strncmp(line, "double ", 7) != 0)
            continue;
        const char *name = line + 7, *paren = strchr(name, '(');
        names[n++] = strndup(name, (size_t)(paren - name));
    }
    assert_int_equal(n, 2 * nfuncs);
    return names;
}

/* Points in [-2, 2]; one coordinate in six sits on a kink or edge value exactly (0, +-1,
 * 0.5, 2), where the conventions of the C and the interpreters must also agree. */
static void choose_points(Case *c)
{
    static const double special[] = {0, 1, -1, 0.5, 2, -0.5};
    Rng rng = {c->seed ^ 0x5DEECE66Du};
    Program *prog = &c->unit.prog;
    c->points = calloc((size_t)prog->nfuncs, sizeof *c->points);
    for (int i = 0; i < prog->nfuncs; i++) {
        int n = (int)prog->funcs[i].ninputs;
        c->points[i] = calloc((size_t)(NPOINTS * n + 1), sizeof **c->points);
        for (int k = 0; k < NPOINTS * n; k++)
            c->points[i][k] = rng_chance(&rng, 16) ? special[rng_below(&rng, 6)]
                                                   : 4 * rng_unit(&rng) - 2;
    }
}

/* forward.c's transform over each function's primal, one sweep per input seeded with 1: the
 * nodes (d) evaluates. */
static void forward_derivatives(Case *c)
{
    Program *prog = &c->unit.prog;
    c->forward = calloc((size_t)prog->nfuncs, sizeof *c->forward);
    c->swept = calloc((size_t)prog->nfuncs, sizeof *c->swept);
    for (int i = 0; i < prog->nfuncs; i++) {
        Func *f = &prog->funcs[i];
        c->swept[i] = f->dag.len;
        NodeId *seeds = calloc(f->ninputs + 1, sizeof *seeds);
        c->forward[i] = calloc(f->ninputs + 1, sizeof **c->forward);
        for (uint32_t s = 0; s < f->ninputs; s++) {
            NodeMap tan;
            seeds[s] = dag_const(&f->dag, 1.0);
            forward_sweep(&f->dag, f->nprimal, seeds, &tan);
            c->forward[i][s] = tan.of[f->roots[0]];
            nodemap_free(&tan);
            seeds[s] = 0;
        }
        free(seeds);
    }
}

/* What the programs of this run drew. */
static Coverage coverage = {.generator = "gen_program"};

/* Generates program `seed` and compiles it in memory; `prefix` names its C functions. */
static void case_init(Case *c, uint64_t seed, const char *prefix)
{
    memset(c, 0, sizeof *c);
    c->seed = seed;
    GenSize size = size_for(seed);
    gen_program(&c->text, seed, &size);
    char header[64];
    snprintf(header, sizeof header, "h%llu.h", (unsigned long long)seed);
    EmitOptions opt = {.prefix = prefix, .header_name = header};
    char *messages = NULL;
    size_t mlen = 0;
    FILE *m = open_memstream(&messages, &mlen);
    int errors = compile_source("prog.expr", c->text.data, c->text.len, "prog", &opt, m,
                                &c->c_text, &c->h_text);
    errors += unit_compile(&c->unit, "prog.expr", c->text.data, c->text.len, "prog", m);
    fclose(m);
    /* the generator writes only valid programs that read every intermediate */
    if (errors || mlen)
        fail_msg("seed %llu: adgen rejected a generated program:\n%s\n%s",
                 (unsigned long long)seed, messages, c->text.data);
    free(messages);
    coverage_count(&coverage, c->text.data, &c->unit.prog);
    c->cname = header_names(c->h_text.data, c->unit.prog.nfuncs);
    choose_points(c);
    forward_derivatives(c);
}

static void case_free(Case *c)
{
    for (int i = 0; i < c->unit.prog.nfuncs; i++) {
        free(c->cname[2 * i]);
        free(c->cname[2 * i + 1]);
        free(c->points[i]);
        free(c->forward[i]);
    }
    free(c->forward);
    free(c->swept);
    free(c->cname);
    free(c->points);
    unit_free(&c->unit);
    buf_free(&c->text);
    buf_free(&c->c_text);
    buf_free(&c->h_text);
}

/* ---- a batch: one C file of programs and a driver calling them -------------------------- */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) == EOF || fclose(f) != 0)
        fail_msg("cannot write %s: %s", path, strerror(errno));
}

/* The batch's C file, and its driver, which prints one line per function and point: f(x),
 * the value f_grad returns, and the gradient. The driver's own names start with drv_, which
 * no generated name does. */
static void write_batch(Case *cases, int n, int batch)
{
    Buf src = {0}, drv = {0};
    buf_printf(&drv, "#include <stdio.h>\n");
    for (int i = 0; i < n; i++) {
        buf_printf(&src, "%s", cases[i].c_text.data);
        buf_printf(&drv, "%s", cases[i].h_text.data);
    }
    buf_printf(&drv, "\nstatic void drv_put(double primal, double value, int n, const double *g)"
                     "\n{\n    printf(\"%%a %%a\", primal, value);\n"
                     "    for (int i = 0; i < n; i++)\n        printf(\" %%a\", g[i]);\n"
                     "    putchar('\\n');\n}\n\nint main(void)\n{\n");
    for (int i = 0; i < n; i++) {
        const Program *prog = &cases[i].unit.prog;
        for (int j = 0; j < prog->nfuncs; j++) {
            const Func *f = &prog->funcs[j];
            int nin = (int)f->ninputs;
            /* a scalar input passes its slot, an array a pointer to its first; the gradient
             * pointers of the differentiated ones point into drv_g, whose data slots stay 0 */
            Buf args = {0}, grads = {0};
            buf_putn(&args, "", 0);
            buf_putn(&grads, "", 0);
            for (int k = 0; k < f->nparams; k++) {
                const Param *pa = &f->params[k];
                buf_printf(&args, "%s%sdrv_x[%u]", k ? ", " : "", pa->rank ? "&" : "",
                           pa->first);
                if (pa->kind == PARAM_DIFF)
                    buf_printf(&grads, ", &drv_g[%u]", pa->first);
            }
            for (int p = 0; p < NPOINTS; p++) {
                buf_printf(&drv, "    {\n        double drv_x[%d] = {", nin ? nin : 1);
                for (int k = 0; k < nin; k++)
                    buf_printf(&drv, "%s%a", k ? ", " : "", cases[i].points[j][p * nin + k]);
                buf_printf(&drv, "%s};\n        double drv_g[%d] = {0};\n", nin ? "" : "0",
                           nin ? nin : 1);
                if (!nin) /* a function without inputs reads no slot */
                    buf_printf(&drv, "        (void)drv_x;\n");
                buf_printf(&drv, "        double drv_v = %s(%s%s);\n", cases[i].cname[2 * j + 1],
                           args.data, grads.data);
                buf_printf(&drv, "        drv_put(%s(%s), drv_v, %d, drv_g);\n    }\n",
                           cases[i].cname[2 * j], args.data, nin);
            }
            buf_free(&args);
            buf_free(&grads);
        }
    }
    buf_printf(&drv, "    return 0;\n}\n");
    char path[64];
    snprintf(path, sizeof path, OUT "/b%d.c", batch);
    write_text(path, src.data);
    snprintf(path, sizeof path, OUT "/b%d_main.c", batch);
    write_text(path, drv.data);
    buf_free(&src);
    buf_free(&drv);
}

/* Compiles and runs batches. The C must compile warning-free with gcc -O2 and clang; gcc
 * builds the program run, once, with -fno-builtin besides: gcc folds a libm call on constants, such as
 * sin(1), to the correctly rounded value where glibc may be 1 ulp off, and a long chain
 * amplified that ulp to 1e-9 of a gradient (seed 1560). Without the folding, the C calls the
 * same libm as the interpreter, so (a) can demand agreement to the last bits. The driver,
 * which passes constants and prints, is no part of what is checked: gcc builds it at -O0
 * (at -O2 it took a tenth of a batch's time, at -O0 a third of that). Batches 0..n-1
 * run `jobs` at a time; returns the shell's status and its messages in *log. In the second
 * pass of make test, the batches are the first's, byte for byte: they are not built again
 * (run_cached). */
static int run_batches(int n, int jobs, char **log)
{
    Buf cmd = {0};
    buf_printf(&cmd, "cd " OUT " && for b in");
    for (int b = 0; b < n; b++)
        buf_printf(&cmd, " %d", b);
    buf_printf(&cmd, "; do echo $b; done | xargs -P %d -I{} sh -c '" GCC " -fno-builtin "
                     "-c b{}.c && " GCC " -O0 -o b{} b{}.o b{}_main.c -lm && " CLANG " b{}.c "
                     "&& ./b{} > b{}.out' 2>&1", jobs);
    /* the batches' files, and the outputs compared afterwards */
    char (*names)[64] = calloc(3 * (size_t)n, sizeof *names);
    const char **inputs = calloc(2 * (size_t)n + 1, sizeof *inputs);
    const char **made = calloc((size_t)n + 1, sizeof *made);
    for (int b = 0; b < n; b++) {
        snprintf(names[3 * b], sizeof *names, OUT "/b%d.c", b);
        snprintf(names[3 * b + 1], sizeof *names, OUT "/b%d_main.c", b);
        snprintf(names[3 * b + 2], sizeof *names, OUT "/b%d.out", b);
        inputs[2 * b] = names[3 * b];
        inputs[2 * b + 1] = names[3 * b + 1];
        made[b] = names[3 * b + 2];
    }
    int rc = run_cached(log, cmd.data, inputs, made);
    free(names);
    free(inputs);
    free(made);
    buf_free(&cmd);
    return rc;
}

/* cmocka's print_error cuts long messages: a long text goes in pieces. */
static void print_long(const char *text)
{
    for (size_t n = strlen(text), i = 0; i < n; i += 512)
        print_error("%.512s", text + i);
    print_error("\n");
}

/* A batch failed to build: find and report the programs whose C alone fails. */
static void report_build_failure(Case *cases, int n, const char *log)
{
    print_error("building or running a batch failed:\n");
    print_long(log);
    for (int i = 0; i < n; i++) {
        write_text(OUT "/single.c", cases[i].c_text.data);
        char *out = NULL;
        if (run_command(GCC " -c -o " OUT "/single.o " OUT "/single.c 2>&1 && " CLANG " "
                        OUT "/single.c 2>&1", &out) != 0) {
            print_error("seed %llu: its C does not compile:\n",
                        (unsigned long long)cases[i].seed);
            print_long(out);
            print_error("program:\n");
            print_long(cases[i].text.data);
        }
        free(out);
    }
}

/* ---- comparisons ------------------------------------------------------------------------- */

typedef struct {
    const char *what;
    double tol;
    long compared;
    double worst;        /* the largest error seen, in units of the comparison's scale */
} Check;

typedef struct {
    Check a_value, a_grad, b_grad, c_grad, d_grad;
    long points, skipped;        /* function-points; those without a finite reference */
    long b_skipped;              /* finite ones where an intermediate overflowed */
    long components, fd_skipped; /* gradient components at finite points; not checked by (c) */
    int reported, failures;
} Stats;

static int same_class(double x, double y)
{
    if (isnan(x) || isnan(y))
        return isnan(x) && isnan(y);
    if (isinf(x) || isinf(y))
        return x == y;
    return 1;
}

/* |got - want| <= tol * scale, or both the same non-finite value. */
static int check(Check *k, double got, double want, double scale)
{
    k->compared++;
    if (!isfinite(got) || !isfinite(want))
        return same_class(got, want);
    double err = got == want ? 0 : fabs(got - want) / scale;
    if (err > k->worst)
        k->worst = err;
    return err <= k->tol;
}

/* The parameter that holds input slot i of f. */
static const Param *param_of(const Func *f, int i)
{
    int p = 0;
    while (p + 1 < f->nparams && (int)f->params[p + 1].first <= i)
        p++;
    return &f->params[p];
}

/* Slot i as the source names it: x, or v[2] of an array (flat). */
static const char *slot_name(const Func *f, int i, char *buf, size_t n)
{
    const Param *p = param_of(f, i);
    if (p->rank)
        snprintf(buf, n, "%s[%u]", p->name, (unsigned)i - p->first);
    else
        snprintf(buf, n, "%s", p->name);
    return buf;
}

static void report(Stats *st, Case *c, int fn, const double *x, const char *msg)
{
    st->failures++;
    const Func *f = &c->unit.prog.funcs[fn];
    Buf where = {0};
    char name[64];
    for (int k = 0; k < (int)f->ninputs; k++)
        buf_printf(&where, "%s%s = %.17g", k ? ", " : "", slot_name(f, k, name, sizeof name),
                   x[k]);
    buf_putn(&where, "", 0);
    print_error("seed %llu, function %s at %s: %s\n", (unsigned long long)c->seed, f->name,
                where.data, msg);
    if (!c->failed && st->reported++ < MAX_REPORTS) {
        print_error("program (seed %llu):\n", (unsigned long long)c->seed);
        print_long(c->text.data);
    }
    c->failed = 1;
    buf_free(&where);
}

/* The largest finite magnitude among nodes [from, to): a program's own scale of values,
 * below which an absolute difference is rounding noise of the sums that made it. */
static double magnitude(const double *v, uint32_t from, uint32_t to)
{
    double m = 0;
    for (uint32_t id = from; id < to; id++)
        if (isfinite(v[id]) && fabs(v[id]) > m)
            m = fabs(v[id]);
    return m;
}

/* Whether some node's operands sit exactly on its kink or step at x. */
static int on_kink(const Func *f, const double *x, double *v)
{
    eval_dag(&f->dag, x, v);
    for (NodeId id = 1; id < f->nprimal; id++) {
        const Node *nd = &f->dag.nodes[id];
        /* a comparison on its tie switches an if's branch there; one of a NaN (0/0 at x, a
         * number beside it) decides the branch at x alone */
        int tie = op_info[nd->kind].form == F_CMP || nd->kind == N_MIN || nd->kind == N_MAX;
        int step = nd->kind == N_FLOOR || nd->kind == N_CEIL;
        if (op_info[nd->kind].form == F_CMP && (isnan(v[nd->a]) || isnan(v[nd->b])))
            return 1;
        if (((nd->kind == N_ABS || nd->kind == N_RELU || nd->kind == N_SIGN) && v[nd->a] == 0) ||
            (step && v[nd->a] == floor(v[nd->a])) ||
            (tie && nd->a != nd->b && v[nd->a] == v[nd->b]))
            return 1;
    }
    return 0;
}

/* Which way each selection of f's primal goes at the values v, into way[]: a comparison's
 * outcome, an if's test, the operand min or max picks, and the step a step function (floor,
 * ceil, sign) is on, into step[]; 1 when one goes another way than way[] and step[] said
 * already (the first call: `was` 0). */
static int branches_moved(const Func *f, const double *v, uint8_t *way, double *step, int was)
{
    int moved = 0;
    for (NodeId id = 1; id < f->nprimal; id++) {
        const Node *nd = &f->dag.nodes[id];
        uint8_t w;
        if (nd->kind == N_FLOOR || nd->kind == N_CEIL || nd->kind == N_SIGN) {
            moved |= was && !(step[id] == v[id] || (isnan(step[id]) && isnan(v[id])));
            step[id] = v[id];
            continue;
        }
        if (op_info[nd->kind].form == F_CMP)
            w = v[id] != 0;
        else if (nd->kind == N_IF)
            w = v[nd->a] != 0;
        else if (nd->kind == N_MIN || nd->kind == N_MAX)
            w = v[nd->a] < v[nd->b] ? 1 : v[nd->a] > v[nd->b] ? 2 : v[nd->a] == v[nd->b] ? 3 : 4;
        else
            continue;
        moved |= was && way[id] != w;
        way[id] = w;
    }
    return moved;
}

/* f at x with x[i] moved by h, its values into v; *moved set when a selection or a step goes
 * another way than way[] and step[] say. */
static double primal_at(const Func *f, double *x, int i, double h, double *v, uint8_t *way,
                        double *step, int *moved)
{
    double saved = x[i];
    x[i] = saved + h;
    eval_dag(&f->dag, x, v);
    x[i] = saved;
    *moved |= branches_moved(f, v, way, step, h != 0);
    return v[f->roots[0]];
}

/*
 * (c) central differences. The step h = 1e-5 max(1, |x|) (about the cube root of the
 * rounding unit, which balances truncation error h^2 f'''/6 against rounding eps |f| / h).
 * Skipped, as no test of anything, where
 * - a primal value is not finite;
 * - the quotient's rounding error, eps M / h for the primal's largest intermediate M, is
 *   not small: w + 2^65 - 2^65 is flat in floating point but has derivative 1;
 * - the gradient's own rounding error, eps G for the reverse sweep's largest term G, is not
 *   small: terms of 1e21 that cancel leave no correct digit in any order of summation;
 * - the one-sided quotients disagree by more than the curvature explains: smooth, their
 *   difference is h f'' and doubles with h, while a kink at x (max(x, 1) at x = 1) leaves a
 *   jump that does not; or they disagree so much that no quotient approximates f';
 * - the central quotients at h and 2h disagree (a kink near x, or a truncation error too
 *   large by Richardson's estimate);
 * - forward mode's derivative changes between x - h and x + h by other than the 2h f''
 *   the second difference of f shows: a term like sin(6e8 x) has a derivative of 6e8 at x
 *   that no quotient over h resolves, while its amplitude is too small for the quotients
 *   to show it; or its derivative at x is not the mean of those at x - h and x + h: a
 *   feature narrower than h (atan2(y, c x) near x = 0 with y / c = 1e-8 turns by pi there)
 *   that the quotients step over;
 * - a selection goes another way at some point of the stencil than at x (a comparison, an
 *   if's test, min or max's pick): the quotients then measure another branch, even where the
 *   two meet continuously at x, or where a comparison with a NaN (pow of a negative base at
 *   x +- h, an integer power at x) decides it beside x only; or a step function (floor,
 *   ceil, sign) is on another step: floor of a steep value is a staircase whose quotients
 *   measure its slope, where its derivative is 0;
 * - x lies exactly on a kink or step of some node (abs, relu or sign at 0, floor or ceil at
 *   an integer, a tie of min or max): there the derivative follows the documented convention,
 *   which need not be the function's; min(2^|x|, 2^x) is smooth at 0 with derivative log 2,
 *   but the tie gives each operand half, and abs'(0) = 0 makes the first half 0: log(2)/2.
 * Otherwise the derivative must match within 1e-5 of max(1, |g|).
 */
static void check_fd(Stats *st, Case *c, int fn, double *x, int i, double g, double *v,
                     double mv, double mg)
{
    const Func *f = &c->unit.prog.funcs[fn];
    double h = 1e-5 * (fabs(x[i]) > 1 ? fabs(x[i]) : 1), tp[MAX_SLOTS], tm[MAX_SLOTS];
    double t0[MAX_SLOTS], saved = x[i];
    eval_tangent(f, x, t0, NULL);
    x[i] = saved + h;
    eval_tangent(f, x, tp, NULL);
    x[i] = saved - h;
    eval_tangent(f, x, tm, NULL);
    x[i] = saved;
    uint8_t *way = malloc(f->nprimal + 1);
    double *step = malloc((f->nprimal + 1) * sizeof *step);
    int moved = 0;
    double f0 = primal_at(f, x, i, 0, v, way, step, &moved);
    double fp = primal_at(f, x, i, h, v, way, step, &moved);
    double fm = primal_at(f, x, i, -h, v, way, step, &moved);
    double fp2 = primal_at(f, x, i, 2 * h, v, way, step, &moved);
    double fm2 = primal_at(f, x, i, -2 * h, v, way, step, &moved);
    free(way);
    free(step);
    double d1 = (fp - fm) / (2 * h), d2 = (fp2 - fm2) / (4 * h);
    double fwd = (fp - f0) / h, bwd = (f0 - fm) / h;
    double fwd2 = (fp2 - f0) / (2 * h), bwd2 = (f0 - fm2) / (2 * h);
    double curve = fwd - bwd; /* h f'' */
    double unit = fabs(d1) > 1 ? fabs(d1) : 1;
    double tol = st->c_grad.tol;
    double small = 0.1 * tol * unit;
    int finite = isfinite(f0) && isfinite(fp) && isfinite(fm) && isfinite(fp2) &&
                 isfinite(fm2) && isfinite(tp[i]) && isfinite(tm[i]) && isfinite(t0[i]);
    if (!finite || 64 * DBL_EPSILON * mv / h > small || 1024 * DBL_EPSILON * mg > small ||
        fabs(curve) > 1e-2 * unit || fabs((fwd2 - bwd2) - 2 * curve) > small ||
        fabs(d1 - d2) > small || fabs(tp[i] - tm[i] - 2 * curve) > small ||
        fabs(t0[i] - (tp[i] + tm[i]) / 2) > small || moved ||
        on_kink(f, x, v)) {
        st->fd_skipped++;
        return;
    }
    if (!check(&st->c_grad, g, d1, fabs(g) > 1 ? fabs(g) : 1)) {
        char msg[160], name[64];
        snprintf(msg, sizeof msg, "d/d%s: the C gives %.17g, central differences %.17g",
                 slot_name(f, i, name, sizeof name), g, d1);
        report(st, c, fn, x, msg);
    }
}

/* Compares one function at one point: the driver's line `primal value grad...` in *line. */
static void compare_point(Stats *st, Case *c, int fn, double *x, char **line)
{
    const Func *f = &c->unit.prog.funcs[fn];
    int n = (int)f->ninputs;
    double primal = strtod(*line, line), value = strtod(*line, line);
    double g[MAX_SLOTS], rg[MAX_SLOTS], tg[MAX_SLOTS], ts[MAX_SLOTS];
    char name[64];
    for (int i = 0; i < n; i++)
        g[i] = strtod(*line, line);
    double *v = xrealloc(NULL, (size_t)f->dag.len * sizeof *v);
    eval_dag(&f->dag, x, v);
    double fg[MAX_SLOTS]; /* (d): forward.c's derivatives, read before (c) reuses v */
    for (int i = 0; i < n; i++)
        fg[i] = c->forward[fn][i] ? v[c->forward[fn][i]] : 0;
    double rv = eval_grad(f, x, rg);
    eval_tangent(f, x, tg, ts);
    char msg[200];

    /*
     * (a) The C and eval_grad compute the same DAG with the same libm calls (the program is
     * built with -fno-builtin, see run_batches), and gcc in ISO C mode contracts no a*b+c
     * into an fma: the results must be the same doubles.
     */
    st->points++;
    if (!check(&st->a_value, primal, rv, fabs(rv)) || !check(&st->a_value, value, rv, fabs(rv))) {
        snprintf(msg, sizeof msg, "value: the C gives %.17g and %.17g, eval_grad %.17g",
                 primal, value, rv);
        report(st, c, fn, x, msg);
    }
    int finite = isfinite(rv);
    for (int i = 0; i < n; i++) {
        finite = finite && isfinite(rg[i]);
        if (!check(&st->a_grad, g[i], rg[i], fabs(rg[i]))) {
            snprintf(msg, sizeof msg, "d/d%s: the C gives %.17g, eval_grad %.17g",
                     slot_name(f, i, name, sizeof name), g[i], rg[i]);
            report(st, c, fn, x, msg);
        }
    }
    if (!finite) {
        st->skipped++;
        free(v);
        return;
    }
    /* an intermediate that overflowed makes the order of operations matter beyond rounding:
     * reverse mode's (wbar / b) * w is 0 for b = inf, forward mode's (tb / b) * w is NaN; a
     * tangent of 1e6 times a partial of 1e304 is inf, its adjoint times the partial is not */
    int overflow = 0;
    for (NodeId id = 1; id < f->nprimal; id++)
        overflow |= !isfinite(v[id]);
    for (int i = 0; i < n; i++)
        overflow |= param_of(f, i)->kind == PARAM_DIFF && !isfinite(tg[i]);
    st->b_skipped += overflow;
    double mv = magnitude(v, 1, f->nprimal), mg = magnitude(v, 1, c->swept[fn]);
    double mf = magnitude(v, c->swept[fn], f->dag.len);
    for (int i = 0; i < n; i++) {
        if (param_of(f, i)->kind == PARAM_DATA)
            continue; /* no derivative in the C, nor in eval_grad */
        slot_name(f, i, name, sizeof name);
        /*
         * (b) Forward and reverse mode sum the same products of the same partials over the
         * same paths, in other orders. Each result carries rounding errors of a few ulps of
         * the largest term it sums, so the difference is measured against the largest
         * magnitude of either sweep (the reverse sweep's nodes hold every adjoint term; a
         * forward sweep reached tangents of 3e53 that cancelled to 1e41 in seed 1010052) and
         * allowed 1e-10 of it: thousands of roundings, far below any wrong rule, which is
         * off by O(1).
         */
        double scale = fmax(fabs(tg[i]), fmax(mg, ts[i]));
        if (!overflow && !check(&st->b_grad, g[i], tg[i], scale)) {
            snprintf(msg, sizeof msg, "d/d%s: the C gives %.17g, eval_tangent %.17g", name,
                     g[i], tg[i]);
            report(st, c, fn, x, msg);
        }
        /* (d) forward.c's tangent nodes against eval_tangent: the same terms in other
         * orders of rounding, as in (b) */
        if (!overflow && !check(&st->d_grad, fg[i], tg[i], fmax(fmax(fabs(tg[i]), mf), ts[i]))) {
            snprintf(msg, sizeof msg, "d/d%s: forward.c gives %.17g, eval_tangent %.17g", name,
                     fg[i], tg[i]);
            report(st, c, fn, x, msg);
        }
        st->components++;
        check_fd(st, c, fn, x, i, g[i], v, mv, mg);
    }
    free(v);
}

/* Reads a batch's output and compares every line. */
static void compare_batch(Stats *st, Case *cases, int n, int batch)
{
    char path[64];
    snprintf(path, sizeof path, OUT "/b%d.out", batch);
    char *out = read_file(path);
    if (!out)
        fail_msg("no output from batch %d", batch);
    char *line = out;
    for (int i = 0; i < n; i++) {
        const Program *prog = &cases[i].unit.prog;
        for (int j = 0; j < prog->nfuncs; j++) {
            int nin = (int)prog->funcs[j].ninputs;
            for (int p = 0; p < NPOINTS; p++) {
                double x[MAX_SLOTS];
                memcpy(x, &cases[i].points[j][p * nin], (size_t)nin * sizeof *x);
                compare_point(st, &cases[i], j, x, &line);
            }
        }
    }
    free(out);
}

static long env_long(const char *name, long fallback)
{
    const char *s = getenv(name);
    return s && *s ? strtol(s, NULL, 10) : fallback;
}

static void print_check(const Check *k)
{
    print_message("  %-34s %8ld compared, largest error %.3g (tolerance %.0e)\n", k->what,
                  k->compared, k->worst, k->tol);
}

static void test_diff_random_programs(void **state)
{
    (void)state;
    if (run_command("command -v gcc && command -v clang && command -v xargs", NULL) != 0)
        fail_msg("the differential test needs gcc, clang and xargs");
    long n = env_long("ADGEN_DIFF_N", 300);
    uint64_t seed0 = (uint64_t)env_long("ADGEN_DIFF_SEED", 1);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int jobs = cpus > 1 ? (int)cpus : 1;
    mkdir("build/tests", 0777);
    mkdir(OUT, 0777);
    Stats st = {
        .a_value = {"(a) value, C vs eval_grad", 0, 0, 0},
        .a_grad = {"(a) gradient, C vs eval_grad", 0, 0, 0},
        .b_grad = {"(b) gradient, C vs eval_tangent", 1e-10, 0, 0},
        .c_grad = {"(c) gradient, C vs central differences", 1e-5, 0, 0},
        .d_grad = {"(d) forward.c vs eval_tangent", 1e-10, 0, 0},
    };
    Case *cases = calloc((size_t)(BATCH * jobs), sizeof *cases);
    for (long start = 0; start < n; start += (long)BATCH * jobs) {
        int count = n - start < (long)BATCH * jobs ? (int)(n - start) : BATCH * jobs;
        int nbatches = (count + BATCH - 1) / BATCH;
        for (int i = 0; i < count; i++) {
            char prefix[32];
            /* the first program of a batch has no prefix: its names meet <math.h> bare */
            snprintf(prefix, sizeof prefix, i % BATCH ? "p%ld_" : "", start + i);
            case_init(&cases[i], seed0 + (uint64_t)(start + i), prefix);
        }
        for (int b = 0; b < nbatches; b++)
            write_batch(cases + b * BATCH, b == nbatches - 1 ? count - b * BATCH : BATCH, b);
        char *log = NULL;
        if (run_batches(nbatches, jobs, &log) != 0) {
            report_build_failure(cases, count, log);
            fail_msg("a batch of generated C and its driver did not build or run");
        }
        free(log);
        for (int b = 0; b < nbatches; b++)
            compare_batch(&st, cases + b * BATCH,
                          b == nbatches - 1 ? count - b * BATCH : BATCH, b);
        for (int i = 0; i < count; i++)
            case_free(&cases[i]);
    }
    free(cases);
    print_message("%ld programs from seed %llu, %ld function-points, %ld of them without a "
                  "finite reference gradient\n", n, (unsigned long long)seed0, st.points,
                  st.skipped);
    print_check(&st.a_value);
    print_check(&st.a_grad);
    print_check(&st.b_grad);
    print_check(&st.c_grad);
    print_check(&st.d_grad);
    print_message("  eval_tangent skipped at %ld function-points (an intermediate overflowed)\n",
                  st.b_skipped);
    print_message("  central differences skipped at %ld of %ld components (kinks, "
                  "ill-conditioning)\n", st.fd_skipped, st.components);
    static const int drawn[] = {CV_ARRAY, CV_ARRAY2, CV_DATA, CV_SUM, CV_PROD, CV_FOR,
                                CV_ITER_SCALAR, CV_IF, CV_CALL, CV_CALL_ARRAY, CV_INLINE,
                                CV_VECTOR_CALL, CV_EMPTY_RANGE, CV_SIZE_NUMBER};
    coverage_want(&coverage, drawn, sizeof drawn / sizeof *drawn, 1, 1u << ENTRY_GRAD);
    int low = coverage_report(&coverage, stdout);
    if (st.failures)
        fail_msg("%d mismatches", st.failures);
    /* too few programs to tell a rare construct from a missing one: from 200 on */
    if (low && n >= 200)
        fail_msg("%d constructs gen_program is meant to draw came in under 2%% of programs",
                 low);
    /* a test that compares nothing passes vacuously: demand that most points count (a
     * rerun of one seed may have a few points only) */
    if (n >= 100) {
        assert_true(st.skipped * 4 < st.points);
        /* an if's untaken branch may hold an infinity or NaN that makes a point skipped */
        assert_true(st.b_skipped * 10 < st.points);
        assert_true(st.fd_skipped * 2 < st.components);
    }
}

static void test_diff_generator_is_reproducible(void **state)
{
    (void)state;
    GenSize size = {3, 4, 5, 8};
    for (uint64_t seed = 1; seed < 50; seed++) {
        Buf a = {0}, b = {0}, other = {0};
        gen_program(&a, seed, &size);
        gen_program(&b, seed, &size);
        gen_program(&other, seed + 1000, &size);
        assert_string_equal(a.data, b.data);
        assert_string_not_equal(a.data, other.data);
        buf_free(&a);
        buf_free(&b);
        buf_free(&other);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_generator_is_reproducible),
        cmocka_unit_test(test_diff_random_programs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
