/*
 * emit_c.c: the C file's frame. Input: a Program whose Funcs have been differentiated. Output:
 * the source, C99 that includes only <math.h> (and <limits.h> and <string.h> for ckp.c's
 * helpers), with the entry points of every definition (README, "The generated API"), and the
 * header declaring them. Per definition it claims the C names, and schedules every entry
 * point's body (schedule.c; with its kept loops' runs, runs.c) before anything prints, so that
 * a node two bodies share has one name in both; then it prints the definition's source as a
 * comment and, per entry point, a comment saying what it computes, the prototype and the body
 * (loops.c; a large one in chunks, chunks.c).
 * Invariant: the source and the header claim their names through one name_functions, in one
 * order, so that they agree.
 */
#include <stdlib.h>
#include <string.h>

#include "adgen.h"
#include "emit.h"

#define MAX_COMMENT_LINES 12
#define MAX_COMMENT_COLS 96

/* ---- names and the state of a definition ---------------------------------------------------- */

/* A C name upper-cased, for a macro. */
static void put_upper(Buf *out, const char *name)
{
    for (const char *c = name; *c; c++)
        buf_printf(out, "%c", *c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
}

/* The file's names, then each definition's entry points, claimed in order. */
static DefOut *name_functions(const Program *prog, const EmitOptions *opt, NameSet *file_names,
                              Arena *arena)
{
    names_init(file_names, arena, 512, NULL);
    names_reserve_c(file_names);
    DefOut *defs = arena_alloc(arena, (size_t)prog->nfuncs * sizeof *defs);
    for (int i = 0; i < prog->nfuncs; i++) {
        const Func *f = &prog->funcs[i];
        const char *base = NULL;
        defs[i].opt = opt;
        defs[i].helpers = func_printed(f) & ~f->entries;
        for (int k = 0; k < ENTRY_KINDS; k++) {
            if (!(func_printed(f) & 1u << k))
                continue;
            Buf want = {0};
            if (base)
                buf_printf(&want, "%s%s", base, entry_info[k].suffix);
            else
                buf_printf(&want, "%s%s%s", opt->prefix ? opt->prefix : "",
                           opt->name ? opt->name : f->name, entry_info[k].suffix);
            if (opt->casadi) { /* CasADi's functions take the names, the native ones follow */
                defs[i].abi_fn[k] = names_claim(file_names, want.data);
                if (!base)
                    base = defs[i].abi_fn[k];
                buf_puts(&want, "_native");
            }
            defs[i].fn[k] = names_claim(file_names, want.data);
            if (!base)
                base = defs[i].fn[k];
            if (func_pattern_code(f, (EntryKind)k)) {
                static const char *const fns[] = {"%s_pattern", "%s_entries", "%s_nnz"};
                const char **to[] = {&defs[i].row[k], &defs[i].col[k], &defs[i].nnz[k]};
                for (int j = 0; j < 3; j++) {
                    Buf name = {0};
                    buf_printf(&name, fns[j], defs[i].fn[k]);
                    *to[j] = names_claim(file_names, name.data);
                    buf_free(&name);
                }
            } else if (entry_info[k].sparse) {
                Buf name = {0};
                buf_printf(&name, "%s_row", defs[i].fn[k]);
                defs[i].row[k] = names_claim(file_names, name.data);
                name.len = 0;
                buf_printf(&name, opt->csc ? "%s_colptr" : "%s_col", defs[i].fn[k]);
                defs[i].col[k] = names_claim(file_names, name.data);
                /* the count's macro, upper-cased: f and F must not share one */
                name.len = 0;
                put_upper(&name, defs[i].fn[k]);
                buf_puts(&name, "_NNZ");
                defs[i].nnz[k] = names_claim(file_names, name.data);
                buf_free(&name);
            }
            buf_free(&want);
        }
        for (int l = 0; l < f->nloops; l++) {
            if ((!f->loops[l].nstate && !f->loops[l].per_step) ||
                !(f->entries & (ENTRIES_REVERSE | 1u << ENTRY_HVP | 1u << ENTRY_HESS) ||
                  f->ntraj) ||
                defs[i].work_macro || defs[i].work_ckp_macro)
                continue; /* one macro for all the recurrences */
            Buf name = {0};
            put_upper(&name, defs[i].fn[ENTRY_VALUE]);
            buf_puts(&name, "_WORK");
            if (f->entries & ((ENTRIES_REVERSE & ~ENTRIES_CKP) | 1u << ENTRY_HVP |
                              1u << ENTRY_HESS) || f->ntraj)
                defs[i].work_macro = names_claim(file_names, name.data);
            buf_puts(&name, "_CKP");
            if (ckp_wanted(f))
                defs[i].work_ckp_macro = names_claim(file_names, name.data);
            buf_free(&name);
        }
        if (((f->band.colours && f->entries & (1u << ENTRY_HESS_SPARSE |
                                                1u << ENTRY_JAC_SPARSE)) ||
             func_dense_runtime(f)) && !defs[i].work_macro) {
            Buf name = {0}; /* the directions and products of a matrix of run-time size */
            put_upper(&name, defs[i].fn[ENTRY_VALUE]);
            buf_puts(&name, "_WORK");
            defs[i].work_macro = names_claim(file_names, name.data);
            buf_free(&name);
        }
        if ((opt->max_stack || f->dag.len > LARGE_BODY) && !f->nloops) { /* the chunks'
                                                                              values, if any */
            Buf name = {0};
            put_upper(&name, defs[i].fn[ENTRY_VALUE]);
            buf_puts(&name, "_WORK");
            defs[i].work_macro = names_claim(file_names, name.data);
            buf_free(&name);
        }
    }
    const char *ckp_fn[CKP_FNS] = {NULL};
    for (int i = 0; i < prog->nfuncs; i++)
        if (ckp_wanted(&prog->funcs[i]) && !ckp_fn[0])
            ckp_name_functions(ckp_fn, file_names, defs[0].fn[ENTRY_VALUE]);
    for (int i = 0; i < prog->nfuncs; i++)
        memcpy(defs[i].ckp_fn, ckp_fn, sizeof ckp_fn);
    return defs;
}

static void start_definition(DefOut *e, const Func *f, const NameSet *file_names, Arena *arena)
{
    sched_init(&e->s, f, arena, file_names);
    e->literal = arena_alloc(arena, f->dag.len * sizeof *e->literal);
    for (int k = 0; k < f->nsizes; k++) {
        if (f->size_slot[k] == UINT32_MAX)
            continue;
        Buf t = {0};
        buf_printf(&t, "(%s)%s", real_type[e->opt->compile.real], e->s.size[k]);
        e->s.local[f->input[f->size_slot[k]]] = arena_strndup(arena, t.data, t.len);
        buf_free(&t);
    }
    e->loops = arena_alloc(arena, ((size_t)f->nloops + 1) * sizeof *e->loops);
    e->loop_var = arena_alloc(arena, ((size_t)f->nloops + 1) * sizeof *e->loop_var);
    for (int i = 0; i < f->nloops; i++) {
        e->loops[i].opt = e->opt;
        start_definition(&e->loops[i], f->loops[i].body, &e->s.names, arena);
        e->loops[i].one = arena_alloc(arena, f->loops[i].body->dag.len);
    }
}

/* A definition the file prints: a large body without kept loops may take the values its
 * chunks pass in a work array (named as a recurrence's). */
static void start_top_definition(DefOut *e, const Func *f, const NameSet *file_names,
                                 Arena *arena)
{
    start_definition(e, f, file_names, arena);
    if ((e->opt->max_stack || f->dag.len > LARGE_BODY) && !f->nloops)
        e->s.work = names_claim(&e->s.names, "work");
    int code = f->band.colours || /* a pattern of run-time size's */
               (f->entries >> ENTRY_JAC_SPARSE & 1 && func_pattern_code(f, ENTRY_JAC_SPARSE));
    for (int k = 0; code && k < BAND_VARS; k++)
        e->band_var[k] = names_claim(&e->s.names, band_var_names[k]);
}

static void end_definition(DefOut *e)
{
    for (int i = 0; i < e->s.f->nloops; i++)
        end_definition(&e->loops[i]);
    free(e->old);
    sched_free(&e->s);
}

/* ---- comments ------------------------------------------------------------------------------- */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* ADGEN_FUNC, empty unless the build defines it, qualifies every function the file defines
 * and declares. */
static void put_func_macro(Buf *out)
{
    buf_puts(out, "/* Define ADGEN_FUNC to qualify every function below (__host__ __device__, a "
                  "section\n * attribute, inline under --static); it goes after `static` where there is one. */\n"
                  "#ifndef ADGEN_FUNC\n#define ADGEN_FUNC\n#endif\n\n");
}

static void header_comment(Buf *out, const Diag *diag)
{
    buf_printf(out, "/* Generated by adgen %s from %s. Do not edit. */\n", ADGEN_VERSION,
               base_name(diag->file));
}

/* The definition's source as a comment: bytes that could end the comment, form a trigraph
 * or are not printable ASCII are replaced, and a long definition is cut. */
static void put_source_comment(Buf *out, const Diag *diag, const DefOut *e)
{
    const Func *f = e->s.f;
    const Def *def = f->def;
    const char *s = diag->src + def->loc.begin, *end = diag->src + def->loc.end;
    Buf text = {0};
    if (def->bare) {
        buf_printf(&text, "%s(", f->name);
        for (int i = 0; i < f->nparams; i++)
            buf_printf(&text, "%s%s", i ? ", " : "", f->params[i].name);
        buf_printf(&text, ") = ");
    }
    int lines = 1, cols = (int)text.len, cut = 0;
    for (; s < end; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\r')
            continue;
        if (c == '\n') {
            if (++lines > MAX_COMMENT_LINES) {
                cut = 1;
                break;
            }
            cols = 0;
            buf_printf(&text, "\n");
            continue;
        }
        if (cols >= MAX_COMMENT_COLS) {
            cut = 1;
            while (s + 1 < end && s[1] != '\n')
                s++;
            continue;
        }
        if (c == '\t')
            c = ' ';
        else if (c < 0x20 || c > 0x7e)
            c = '?';
        char prev = text.len ? text.data[text.len - 1] : 0;
        if ((prev == '*' && c == '/') || (prev == '/' && c == '*') || (prev == '?' && c == '?'))
            buf_printf(&text, " ");
        buf_printf(&text, "%c", c);
        cols++;
    }
    if (cut)
        buf_printf(&text, " ...");
    if (def->bare && f->nparams > 1)
        buf_printf(&text, "\n(a bare expression: its inputs in the order they first appear)");
    if (!strchr(text.data, '\n')) {
        buf_printf(out, "/* %s */\n", text.data);
    } else {
        buf_puts(out, "/*\n");
        for (char *line = text.data, *nl; line; line = nl ? nl + 1 : NULL) {
            nl = strchr(line, '\n');
            int n = nl ? (int)(nl - line) : (int)strlen(line);
            buf_printf(out, n ? " * %.*s\n" : " *\n", n, line);
        }
        buf_puts(out, " */\n");
    }
    buf_free(&text);
}

/* "out[0..2 * n - 1]": the values of a returned map (out, out_dot or out_bar). */
static void put_values_ref(Buf *out, const DefOut *e, const char *name)
{
    buf_printf(out, "%s[0..", name);
    matrix_put_values_count(out, e, -1);
    buf_puts(out, "]");
}

/* "name" for a scalar argument (*name for a pointer), "name[0..n-1]" for an array. */
static void put_arg_ref(Buf *out, const DefOut *e, const Arg *a)
{
    const Param *pa = a->param >= 0 ? &e->s.f->params[a->param] : NULL;
    if (!pa && e->s.f->result_loop && a->array) {
        put_values_ref(out, e, a->name);
    } else if (pa && pa->rt_size >= 0) {
        buf_printf(out, "%s[0..", a->name);
        print_rt_length(out, e, pa);
        buf_puts(out, pa->rank > 1 ? " - 1]" : "-1]"); /* "3 * N - 1", "N-1" */
    } else if (a->array)
        buf_printf(out, "%s[0..%u]", a->name, a->size ? a->size - 1 : 0);
    else
        buf_printf(out, "%s%s", a->out ? "*" : "", a->name);
}

/* The args of `entry` that belong to inputs, `out` or not, listed "a, b and c". */
static void put_arg_list(Buf *out, const DefOut *e, const Entry *entry, int outs)
{
    int n = 0, k = 0;
    for (int i = 0; i < entry->nargs; i++)
        n += entry->args[i].param >= 0 && entry->args[i].out == outs;
    for (int i = 0; i < entry->nargs; i++) {
        const Arg *a = &entry->args[i];
        if (a->param < 0 || a->out != outs)
            continue;
        buf_printf(out, "%s", k++ == 0 ? "" : k == n ? " and " : ", ");
        put_arg_ref(out, e, a);
    }
}

static const Arg *find_arg(const Entry *entry, const char *name)
{
    for (int i = 0; i < entry->nargs; i++)
        if (entry->args[i].name == name)
            return &entry->args[i];
    return NULL;
}

/* The differentiated scalars in order, the columns of a Jacobian: "x[0..9], then y". */
static void put_columns(Buf *out, const DefOut *e)
{
    const Func *f = e->s.f;
    int n = 0, k = 0;
    for (int i = 0; i < f->nparams; i++)
        n += f->params[i].kind == PARAM_DIFF;
    for (int i = 0; i < f->nparams; i++) {
        const Param *p = &f->params[i];
        if (p->kind != PARAM_DIFF)
            continue;
        buf_printf(out, "%s%s", k++ == 0 ? "" : k == n ? " then " : ", ", e->s.param[i]);
        if (p->rt_size >= 0) {
            buf_puts(out, "[0..");
            print_rt_length(out, e, p);
            buf_puts(out, p->rank > 1 ? " - 1]" : "-1]");
        } else if (p->rank) {
            buf_printf(out, "[0..%u]", p->size - 1);
        }
    }
}

/* The differentiated scalars: f->ndiff, and those of an array of a size known only at run
 * time, which has no input slots (counted as 2: several, for the grammar of a comment). */
static uint32_t differentiated(const Func *f)
{
    for (int i = 0; i < f->nparams; i++)
        if (f->params[i].kind == PARAM_DIFF && f->params[i].rt_size >= 0)
            return f->ndiff + 2;
    return f->ndiff;
}

/* What a gradient or a vector-Jacobian product stores. */
static void put_what(Buf *t, const Entry *entry, const DefOut *e)
{
    const Func *f = e->s.f;
    const char *s = differentiated(f) > 1 ? "s" : "";
    if (entry_of(entry->kind) == ENTRY_GRAD)
        buf_printf(t, "the partial derivative%s", s);
    else if (f->result_loop) {
        buf_puts(t, "the product of ");
        put_values_ref(t, e, e->s.out_bar);
        buf_printf(t, " and the Jacobian (J^T %s)", e->s.out_bar);
    } else if (f->vector)
        buf_printf(t, "the product of %s[0..%d] and the Jacobian (J^T %s)", e->s.out_bar,
                   f->nroots - 1, e->s.out_bar);
    else
        buf_printf(t, "%s times the partial derivative%s", e->s.out_bar, s);
}

/* The start of an entry point's comment: "Returns f(x, y)", or for a vector result where it
 * stores its values. */
static void put_returns(Buf *t, const DefOut *e)
{
    const Func *f = e->s.f;
    const char *value = e->fn[ENTRY_VALUE];
    if (f->result_loop) {
        buf_printf(t, "Stores the values of %s in ", value);
        put_values_ref(t, e, e->s.out);
    } else if (f->vector)
        buf_printf(t, "Stores the %d value%s of %s in %s[0..%d]", f->nroots,
                   f->nroots == 1 ? "" : "s", value, e->s.out, f->nroots - 1);
    else
        buf_printf(t, "Returns %s(", value);
    for (int k = 0; !f->vector && k < f->nsizes; k++)
        buf_printf(t, "%s, ", e->s.size[k]);
    for (int i = 0; !f->vector && i < f->nparams; i++)
        buf_printf(t, "%s%s", i ? ", " : "", e->s.param[i]);
    buf_puts(t, f->vector ? "" : ")");
}

/* What a Jacobian or a Hessian stores, dense or sparse. */
static void put_matrix(Buf *t, const DefOut *e, const Entry *entry)
{
    const Func *f = e->s.f;
    int jac = entry->kind == ENTRY_JAC;
    if ((jac && f->result_loop) || ((jac || entry->kind == ENTRY_HESS) &&
                                    func_runtime_columns(f))) {
        Buf rows = {0}, cols = {0};
        Affine len = matrix_diff_length(f);
        print_affine(&cols, e, "", &len);
        if (!jac)
            print_affine(&rows, e, "", &len);
        else if (f->result_loop)
            matrix_put_values_count(&rows, e, 0);
        else
            buf_printf(&rows, "%d", f->nroots);
        /* sums in parentheses: "(n + 1) x (n + 1)" */
        const char *rp = strchr(rows.data, ' ') ? "(" : "", *re = *rp ? ")" : "";
        const char *cp = strchr(cols.data, ' ') ? "(" : "", *ce = *cp ? ")" : "";
        buf_printf(t, " and stores its %s in %s[0..%s%s%s * %s%s%s - 1], row-major, %s%s%s x "
                      "%s%s%s: entry (i, j) is the derivative of %s by the differentiated scalar "
                      "j, in the order ", jac ? "Jacobian" : "Hessian (symmetric)", jac ?
                   e->s.jac : e->s.hess, rp, rows.data, re, cp, cols.data, ce, rp, rows.data, re,
                   cp, cols.data, ce, !jac ? "partial derivative i" : f->vector ? "value i" :
                   "the value");
        buf_free(&rows);
        buf_free(&cols);
    } else if (entry->kind == ENTRY_JAC || entry->kind == ENTRY_HESS) {
        uint32_t rows = jac ? (uint32_t)f->nroots : f->ndiff;
        buf_printf(t, " and stores its %s in %s[0..%llu], row-major, %u x %u: entry (i, j) is "
                   "the derivative of %s by the %s scalar j, in the order ", jac ? "Jacobian" :
                   "Hessian (symmetric)", jac ? e->s.jac : e->s.hess,
                   (unsigned long long)rows * f->ndiff - ((uint64_t)rows * f->ndiff > 0),
                   rows, f->ndiff, jac ? (f->vector ? "value i" : "the value") :
                   "partial derivative i", "differentiated");
    } else if (!entry->pattern) { /* of run-time size (src/band.c) */
        jac = entry->kind == ENTRY_JAC_SPARSE;
        if (jac) {
            buf_printf(t, " and the structural nonzeros of its Jacobian in %s[0..%s(",
                       e->s.jac_nz, e->nnz[entry->kind]);
        } else {
            buf_printf(t, " and stores the structural nonzeros of its Hessian's lower triangle "
                       "in %s[0..%s(", e->s.hess_nz, e->nnz[entry->kind]);
        }
        for (int k = 0; k < f->nsizes; k++)
            buf_printf(t, "%s%s", k ? ", " : "", e->s.size[k]);
        if (e->opt->csc)
            buf_printf(t, ") - 1]: compressed column storage, entry k is in the column and at "
                       "the row %s stores for it, by column, then row; the columns are ",
                       e->row[entry->kind]);
        else
            buf_printf(t, ") - 1]: entry k is at the row and the column %s stores at k, by "
                       "row, then column; the columns are ", e->row[entry->kind]);
    } else {
        jac = entry->kind == ENTRY_JAC_SPARSE;
        buf_printf(t, " and stores the %u structural nonzero%s of its %s in %s[0..%u]: ",
                   entry->pattern->nnz, entry->pattern->nnz == 1 ? "" : "s",
                   jac ? "Jacobian" : "Hessian's lower triangle", jac ? e->s.jac_nz : e->s.hess_nz,
                   entry->pattern->nnz ? entry->pattern->nnz - 1 : 0);
        if (e->opt->csc)
            buf_printf(t, "compressed column storage, entry k is in column j for %s[j] <= k < "
                       "%s[j + 1] and at row %s[k], by column, then row; the columns are ",
                       e->col[entry->kind], e->col[entry->kind], e->row[entry->kind]);
        else
            buf_printf(t, "entry k is (%s[k], %s[k]), by row, then column; the columns are ",
                       e->row[entry->kind], e->col[entry->kind]);
    }
    put_columns(t, e);
}

/* What the entry point stores through its pointers, after put_returns's text. 0 when there is
 * nothing to say: the value of a scalar result, which only returns it. */
static int put_effect(Buf *t, const DefOut *e, const Entry *entry)
{
    const Func *f = e->s.f;
    int accumulate = e->opt->accumulate && entry_reverse(entry->kind);
    const char *verb = accumulate ? "adds" : "stores";
    if (!differentiated(f) && entry->kind != ENTRY_VALUE)
        buf_puts(t, "; it has no differentiated input, so there is no derivative to store");
    else if (entry->pattern && !entry->pattern->nnz)
        buf_printf(t, "; its %s is structurally zero, so nothing is stored through %s",
                   entry->kind == ENTRY_JAC_SPARSE ? "Jacobian" : "Hessian",
                   entry->kind == ENTRY_JAC_SPARSE ? e->s.jac_nz : e->s.hess_nz);
    else switch (entry_of(entry->kind)) {
    case ENTRY_VALUE: /* a scalar's says what it returns only when it takes a work array */
        if (!f->vector && !e->s.chunk_work[ENTRY_VALUE] && !(f->nloops && f->ntraj))
            return 0;
        break;
    case ENTRY_GRAD: case ENTRY_VJP:
        buf_puts(t, accumulate ? " and adds " : " and overwrites ");
        if (accumulate) {
            put_what(t, entry, e);
            buf_puts(t, " to ");
            put_arg_list(t, e, entry, 1);
        } else {
            put_arg_list(t, e, entry, 1);
            buf_puts(t, " with ");
            put_what(t, entry, e);
        }
        break;
    case ENTRY_JVP:
        buf_printf(t, " and %s in ", verb);
        put_arg_ref(t, e, find_arg(entry, e->s.out_dot));
        buf_puts(t, " the derivative along the direction ");
        put_arg_list(t, e, entry, 0);
        buf_puts(t, " (J times it)");
        break;
    case ENTRY_JAC: case ENTRY_HESS: case ENTRY_JAC_SPARSE: case ENTRY_HESS_SPARSE:
        put_matrix(t, e, entry);
        break;
    case ENTRY_HVP:
        buf_printf(t, " and %s in ", verb);
        put_arg_list(t, e, entry, 1);
        buf_puts(t, " the Hessian times the direction ");
        put_arg_list(t, e, entry, 0);
        break;
    case ENTRY_GRAD_CKP: case ENTRY_VJP_CKP: case ENTRY_VALUE_BATCH: case ENTRY_GRAD_BATCH:
    case ENTRY_JVP_BATCH: case ENTRY_VJP_BATCH: case ENTRY_KINDS:
        abort();
    }
    return 1;
}

/* A head with no ';' that differentiates arrays of run-time sizes beside inputs of constant
 * sizes (logit(w[3], b, X[N][3], y[N])): the data was likely meant to follow a ';', and the
 * entry points store a derivative per element of it; said where they do. */
static void put_runtime_diff(Buf *t, const DefOut *e, const Entry *entry)
{
    const Func *f = e->s.f;
    int constant = 0, runtime = 0;
    for (int p = 0; p < f->nparams; p++) {
        if (f->params[p].kind != PARAM_DIFF)
            return; /* a ';' is there: what is before it is meant */
        runtime += f->params[p].rt_size >= 0;
        constant += f->params[p].rt_size < 0;
    }
    if (!runtime || !constant || !(entry_reverse(entry->kind) || entry_tangents(entry->kind)))
        return;
    buf_puts(t, "; ");
    for (int p = 0, k = 0; p < f->nparams; p++) {
        if (f->params[p].rt_size < 0)
            continue;
        k++;
        buf_printf(t, "%s%s", k == 1 ? "" : k == runtime ? " and " : ", ", f->params[p].name);
    }
    buf_printf(t, ", of %s known only at run time, %s differentiated, as every input before a "
                  "';' is: data goes after one (%s(...; ...))", runtime > 1 ? "sizes" : "a size",
               runtime > 1 ? "are" : "is", f->name);
}

/* What divides LONG_MAX to give the largest run-time size the generated index arithmetic
 * takes without overflowing a long: twice the largest sum of |coefficients| of an integer it
 * computes (a loop's bounds, an index, where a tape or a trajectory starts, an array's
 * length). */
static long long size_divisor(const Func *f)
{
    int64_t m = 1;
    const Affine *list[8];
    for (int i = 0; i < f->nloops; i++) {
        const Loop *lp = &f->loops[i];
        int n = 0;
        list[n++] = &lp->lo;
        list[n++] = &lp->hi;
        list[n++] = &lp->work_at;
        for (uint32_t l = 0; l <= lp->nload; l++) {
            if (l < lp->nload)
                list[n++] = &lp->load[l].at;
            for (int a = 0; a < n; a++) {
                int64_t sum = list[a]->k < 0 ? -list[a]->k : list[a]->k;
                for (int c = 0; c <= MAX_SIZES; c++)
                    sum += list[a]->c[c] < 0 ? -list[a]->c[c] : list[a]->c[c];
                sum += list[a]->o < 0 ? -list[a]->o : list[a]->o; /* a sum per step's */
                /* a tape's wstride values a step, a trajectory's regions */
                sum *= 1 + (int64_t)lp->wstride + (f->ntraj ? f->traj[0].areas : 0) * f->ntraj;
                m = sum > m ? sum : m;
            }
            n = 0;
        }
    }
    for (int p = 0; p < f->nparams; p++)
        if (f->params[p].rt_size >= 0) {
            int64_t row = 1;
            for (int d = 1; d < f->params[p].rank; d++)
                row *= f->params[p].dims[d];
            m = row > m ? row : m;
        }
    return (long long)(2 * m);
}

/* The preconditions on the run-time sizes: each between 0 and size_limit, and a recurrence's
 * number of steps not negative. `check`: as ADGEN_REQUIRE calls (compiled with -DADGEN_CHECK);
 * else as the entry comment's words. */
static void put_size_rules(Buf *t, const DefOut *e, int check)
{
    const Func *f = e->s.f;
    long long d = size_divisor(f);
    for (int k = 0; k < f->nsizes; k++) {
        const char *n = e->s.size[k];
        if (check)
            buf_printf(t, "    ADGEN_REQUIRE(%s >= 0 && %s <= LONG_MAX / %lld, \"%s: %s must be "
                          "in 0..LONG_MAX / %lld\");\n", n, n, d, e->fn[ENTRY_VALUE], n, d);
        else
            buf_printf(t, "%s%s", k ? ", " : "; it needs ", n);
    }
    if (!check)
        buf_printf(t, " in 0..LONG_MAX / %lld (so that its index arithmetic fits a long; "
                      "-DADGEN_CHECK checks this)", d);
    for (int p = 0; p < f->nparams; p++) { /* an array of two run-time sizes: their product */
        const Param *pa = &f->params[p];
        int seen = 0;
        for (int q = 0; q < p; q++)
            seen |= f->params[q].rt_size == pa->rt_size && f->params[q].rt_size2 == pa->rt_size2;
        if (pa->rt_size2 < 0 || seen)
            continue;
        const char *n = e->s.size[pa->rt_size], *m = e->s.size[pa->rt_size2];
        if (check)
            buf_printf(t, "    ADGEN_REQUIRE(%s == 0 || %s <= LONG_MAX / %lld / %s, \"%s: %s * %s "
                          "must be at most LONG_MAX / %lld\");\n", m, n, d, m,
                       e->fn[ENTRY_VALUE], n, m, d);
        else
            buf_printf(t, ", and %s * %s at most LONG_MAX / %lld", n, m, d);
    }
    for (int i = 0; i < f->nloops; i++) {
        const Loop *lp = &f->loops[i];
        Affine trips = lp->hi;
        trips.k += 1 - lp->lo.k;
        int sure = trips.k >= 0;
        for (int j = 1; j <= MAX_SIZES; j++)
            sure = sure && trips.c[j] >= 0;
        if (!lp->nstate || lp->product || sure)
            continue;
        Buf c = {0};
        print_affine(&c, e, lp->var, &trips);
        if (check)
            buf_printf(t, "    ADGEN_REQUIRE(%s >= 0, \"%s: the recurrence at line %d needs "
                          "%s >= 0\");\n", c.data, e->fn[ENTRY_VALUE], lp->loc.first_line,
                       c.data);
        else
            buf_printf(t, "; it needs %s >= 0 (the recurrence at line %d may run no step, not "
                          "fewer)", c.data, lp->loc.first_line);
        buf_free(&c);
    }
}

void emit_put_size_checks(Buf *out, const DefOut *e)
{
    if (!e->s.f->nsizes)
        return;
    buf_puts(out, "#ifdef ADGEN_CHECK\n");
    put_size_rules(out, e, 1);
    buf_puts(out, "#endif\n");
}

/* What a caller of an entry point with kept recurrences must see to: a range that must not
 * be reversed, the size of the work array. */
static void put_caveats(Buf *t, const DefOut *e, const Entry *entry)
{
    const Func *f = e->s.f;
    /* a negative size, one whose index arithmetic overflows, a recurrence's range reversed
     * (it would read a state the loop never computed) */
    if (f->nsizes)
        put_size_rules(t, e, 0);
    put_runtime_diff(t, e, entry);
    EntryKind columns = func_columns(f, entry->kind);
    int elements = f->band.elements && entry->kind == ENTRY_HESS_SPARSE;
    int hess = entry->kind == ENTRY_HESS || entry->kind == ENTRY_HESS_SPARSE;
    if (elements && matrix_band_pull(e) >= 0)
        buf_puts(t, "; each row's entries are the second derivatives of the terms that meet "
                    "it, computed at their steps, in one pass over the rows");
    else if (elements)
        buf_printf(t, "; it adds the second derivatives of each term of the sums into %u "
                   "products, the Hessian times the elements of one colour each (no row meets "
                   "two columns of one colour), in one pass per sum", f->band.ncolours);
    else if (columns != ENTRY_KINDS && f->band.colours && entry_info[entry->kind].sparse)
        buf_printf(t, "; it calls %s %u times, along the elements of one colour each (no row "
                   "meets two columns of one colour)", e->fn[columns], f->band.ncolours);
    else if (func_dir_entry(f, entry->kind))
        buf_printf(t, "; one pass of the loops %s the %u columns, each step's values %sonce "
                   "and their tangents%s along every differentiated scalar in a loop over "
                   "them%s", hess ? "forwards and one backwards compute" :
                   "computes the values and", func_directions(f), hess ? "and adjoints " : "",
                   entry->kind == ENTRY_HESS ? " (and the adjoints' tangents), its upper "
                   "triangle the lower one mirrored" : hess ? " (and the adjoints' tangents)" :
                   "",
                   entry_info[entry->kind].sparse ?
                   " (its pattern is every entry: the kept loops read those scalars as values, "
                   "and which entries are always zero is not looked into)" : "");
    else if (columns != ENTRY_KINDS)
        buf_printf(t, "; it calls %s once per differentiated scalar, a column each%s",
                   e->fn[columns], entry_info[entry->kind].sparse ?
                   " (its pattern is every entry: the kept loops read those scalars as values, "
                   "and which entries are always zero is not looked into)" : "");
    for (int k = 0; k < ENTRY_KINDS; k++)
        if (e->helpers >> entry->kind & 1 && f->entries >> k & 1 &&
            func_columns(f, (EntryKind)k) == entry->kind)
            buf_printf(t, "; %s's %s (a static helper, not in the header)", e->fn[k],
                       f->band.colours && entry_info[k].sparse ? "products along colours" :
                       "columns");
    int ckp = ENTRIES_CKP >> entry->kind & 1;
    if (ckp && e->work_ckp_macro) {
        buf_printf(t, "; it keeps %s + 1 states of the recurrence and computes the others "
                   "again (binomial checkpointing: revolve's fewest forward steps for %s "
                   "states, and one), each step taped just before it is reversed, with the "
                   "numbers of %s to the bit; %s must hold %s(", e->s.snaps, e->s.snaps,
                   e->fn[entry_of(entry->kind)] ? e->fn[entry_of(entry->kind)] : "the stored "
                   "variant", e->s.work, e->work_ckp_macro);
        for (int k = 0; k < f->nsizes; k++)
            buf_printf(t, "%s, ", e->s.size[k]);
        buf_printf(t, "%s) values of its type %s (one step's tape, the states saved and the "
                   "steps they were saved at); %s < 1 counts as 1", e->s.snaps,
                   real_type[e->opt->compile.real], e->s.snaps);
    } else if (e->s.chunk_work[entry->kind]) {
        buf_printf(t, "; %s must hold %s() values of its type %s (what the parts of its body "
                   "pass on: over half of the %u bytes its frame may take, which --max-stack "
                   "sets, so off the stack)", e->s.work, e->work_macro,
                   real_type[e->opt->compile.real],
                   e->opt->max_stack ? e->opt->max_stack : DEFAULT_FRAME);
    } else if (f->band.colours && entry_info[entry->kind].sparse &&
               matrix_band_pull(e) >= 0) {
        buf_printf(t, "; %s is not read (%s is 0: any pointer will do)", e->s.work,
                   e->work_macro);
    } else if (f->band.colours && entry_info[entry->kind].sparse) {
        buf_printf(t, "; %s must hold %s(", e->s.work, e->work_macro);
        for (int k = 0; k < f->nsizes; k++)
            buf_printf(t, "%s%s", k ? ", " : "", e->s.size[k]);
        buf_printf(t, ") values of its type %s (%sa product per colour)",
                   real_type[e->opt->compile.real], f->band.elements ? "" : "a direction, and ");
    } else if (func_runtime_columns(f) && (entry->kind == ENTRY_JAC ||
                                           entry->kind == ENTRY_HESS)) {
        buf_printf(t, "; %s must hold %s(", e->s.work, e->work_macro);
        for (int k = 0; k < f->nsizes; k++)
            buf_printf(t, "%s%s", k ? ", " : "", e->s.size[k]);
        buf_printf(t, ") values of its type %s (each column's unit direction%s", real_type[
                   e->opt->compile.real], entry->kind == ENTRY_HESS ? " and the column" : "");
        if (f->ntraj || (func_recurrences(f) && entry->kind == ENTRY_HESS)) /* its calls' */
            buf_printf(t, ", then what %s needs", e->fn[func_columns(f, entry->kind)]);
        buf_puts(t, ")");
    } else if (f->nloops && e->work_macro && find_arg(entry, e->s.work) && !ckp) {
        buf_printf(t, "; %s must hold %s(", e->s.work, e->work_macro);
        for (int k = 0; k < f->nsizes; k++)
            buf_printf(t, "%s%s", k ? ", " : "", e->s.size[k]);
        buf_printf(t, ") values of its type %s (%s)", real_type[e->opt->compile.real],
                   func_per_step(f) && func_recurrences(f) ?
                   "what its loops store: the recurrences' steps and trajectories, and the sums "
                   "per step" :
                   func_per_step(f) ?
                   (entry->kind == ENTRY_VALUE ? "the sums per step of its loops inside loops" :
                    entry->kind == ENTRY_HVP ? "the sums per step of its loops inside loops, "
                                               "their tangents, their adjoints and the "
                                               "adjoints' tangents" :
                    !entry_reverse(entry->kind) ? "the sums per step of its loops inside "
                                                  "loops, and their tangents" :
                    "the sums per step of its loops inside loops, and their adjoints") :
                   entry->kind == ENTRY_HVP || entry->kind == ENTRY_HESS ?
                   "each step's states and their tangents, from which the recurrence's reverse "
                   "loop computes the step again" :
                   !f->ntraj ? "what the recurrence's reverse loop reads of each iteration" :
                   entry->kind == ENTRY_VALUE ? "the states of the recurrence that the loops "
                                                "after it read at every step" :
                   !entry_reverse(entry->kind) ? "the states of the recurrence that the loops "
                                                 "after it read at every step, and their "
                                                 "tangents" :
                   "what the recurrence's reverse loop reads of each iteration, the states "
                   "that the loops after it read at every step, and their adjoints");
    }
}

/* text as a comment, its words wrapped at 96 columns. */
static void put_wrapped_comment(Buf *out, const char *text)
{
    buf_puts(out, "/*");
    size_t col = 2;
    for (const char *w = text, *sp; *w; w = sp ? sp + 1 : w + strlen(w)) {
        sp = strchr(w, ' ');
        size_t n = sp ? (size_t)(sp - w) : strlen(w);
        if (col + 1 + n > 96) {
            buf_puts(out, "\n *");
            col = 2;
        }
        buf_printf(out, " %.*s", (int)n, w);
        col += 1 + n;
    }
    buf_puts(out, " */\n");
}

/* What an entry point computes, in a comment before its prototype. */
static void put_entry_comment(Buf *out, const DefOut *e, const Entry *entry)
{
    Buf t = {0};
    if (entry_info[entry->kind].batch)
        batch_comment(&t, e, entry);
    else
        put_returns(&t, e);
    if (entry_info[entry->kind].batch || put_effect(&t, e, entry)) {
        put_caveats(&t, e, entry);
        buf_puts(&t, ".");
        put_wrapped_comment(out, t.data);
    }
    buf_free(&t);
}

/* ---- declarations --------------------------------------------------------------------------- */

/* An entry point's prototype; a definition's takes a batched variant's arrays restrict. */
static void put_prototype(Buf *out, const DefOut *e, const Entry *entry, int definition)
{
    const Func *f = e->s.f;
    const char *real = real_type[e->opt->compile.real];
    if (e->opt->file_static)
        buf_puts(out, "static ADGEN_UNUSED ");
    else if (e->helpers >> entry->kind & 1)
        buf_puts(out, "static ");
    buf_printf(out, "ADGEN_FUNC %s %s(", entry->ret ? real : "void", e->fn[entry->kind]);
    if (entry_info[entry->kind].batch) { /* every argument an array over the points */
        const char *restrict_ = definition ? "ADGEN_RESTRICT " : "";
        buf_printf(out, "long %s", e->s.points);
        for (int i = 0; i < f->nparams; i++)
            buf_printf(out, ", const %s *%s%s", real, restrict_, e->s.param[i]);
        for (int i = 0; i < entry->nargs; i++)
            buf_printf(out, ", %s%s *%s%s", entry->args[i].out ? "" : "const ", real, restrict_,
                       entry->args[i].name);
        buf_puts(out, ")");
        return;
    }
    if (f->nsizes + f->nparams + entry->nargs == 0)
        buf_puts(out, "void");
    for (int k = 0; k < f->nsizes; k++)
        buf_printf(out, "%slong %s", k ? ", " : "", e->s.size[k]);
    for (int i = 0; i < f->nparams; i++)
        buf_printf(out, "%s%s%s %s%s", i + f->nsizes ? ", " : "",
                   f->params[i].rank ? "const " : "", real, f->params[i].rank ? "*" : "",
                   e->s.param[i]);
    for (int i = 0; i < entry->nargs; i++) {
        const Arg *a = &entry->args[i];
        buf_printf(out, "%s%s%s %s%s", f->nsizes + f->nparams + i ? ", " : "",
                   !a->out && a->array ? "const " : "", a->count ? "long" : real,
                   a->out || a->array ? "*" : "", a->name);
    }
    buf_puts(out, ")");
}

/* A sparse entry's pattern arrays: declared (the header, the prototypes), or defined. An
 * empty pattern has arrays of one unused element, as C has no empty arrays. */
static void put_pattern(Buf *out, const DefOut *e, const Entry *entry, int define)
{
    const Sparse *sp = entry->pattern;
    uint32_t ncols = e->s.f->ndiff, *colptr = NULL, *rows = NULL;
    const uint32_t *lists[2] = {sp->row, sp->col};
    uint32_t len[2] = {sp->nnz, sp->nnz};
    if (e->opt->csc) { /* the rows by column, and where each column starts */
        uint32_t *pos = matrix_csc_positions(sp, ncols, &colptr);
        rows = xrealloc(NULL, (sp->nnz + 1) * sizeof *rows);
        for (uint32_t k = 0; k < sp->nnz; k++)
            rows[pos[k]] = sp->row[k];
        free(pos);
        lists[0] = rows;
        lists[1] = colptr;
        len[1] = ncols + 1;
    }
    const char *names[2] = {e->row[entry->kind], e->col[entry->kind]};
    for (int w = 0; w < 2; w++) {
        if (define && e->opt->file_static)
            buf_puts(out, "static ADGEN_UNUSED ");
        else if (!define)
            buf_puts(out, "extern ");
        buf_printf(out, "const int %s[%u]", names[w], len[w] ? len[w] : 1);
        if (!define) {
            buf_puts(out, ";\n");
            continue;
        }
        buf_puts(out, " = {");
        for (uint32_t k = 0; k < len[w] || k == 0; k++) {
            buf_printf(out, "%s%s%u", k ? "," : "", k % 16 ? " " : "\n    ",
                       len[w] ? lists[w][k] : 0);
        }
        buf_puts(out, "\n};\n");
    }
    free(colptr);
    free(rows);
}

/* A count in the sizes, as a macro's body has it: "(n) - 1". */
static void put_macro_count(Buf *t, const DefOut *e, const Affine *count)
{
    size_t start = t->len;
    for (int j = 1; j <= MAX_SIZES; j++) {
        int64_t c = count->c[j];
        if (!c)
            continue;
        buf_printf(t, "%s", t->len > start ? (c < 0 ? " - " : " + ") : (c < 0 ? "-" : ""));
        if (c != 1 && c != -1)
            buf_printf(t, "%lld * ", (long long)(c < 0 ? -c : c));
        buf_printf(t, "(%s)", e->s.size[j - 1]);
    }
    int some = t->len > start;
    if (count->k || !some)
        buf_printf(t, "%s%lld", some ? (count->k < 0 ? " - " : " + ") : "",
                   (long long)(some && count->k < 0 ? -count->k : count->k));
}

/* The values NAME_WORK counts but for a dense matrix's columns: a banded matrix's directions
 * and products, or the recurrences' tapes and the trajectories ("0" if none). */
static void put_work_count(Buf *out, const DefOut *e)
{
    const Func *f = e->s.f;
    if (f->band.colours) { /* a direction and a product per colour (for the terms' Hessians:
                            * no direction; row by row: nothing) */
        Affine len = matrix_diff_length(f);
        uint32_t c = f->band.ncolours;
        buf_puts(out, "(");
        if (f->band.jac) { /* a product has as many values as the map (none if its range is
                            * empty) */
            Affine steps = matrix_map_steps(f);
            Buf t = {0};
            put_macro_count(&t, e, &steps);
            put_macro_count(out, e, &len);
            buf_printf(out, " + ((%s) > 0 ? %u * (%s) : 0)", t.data,
                       c * f->loops[f->result_loop - 1].result, t.data);
            buf_free(&t);
        } else {
            uint32_t m = matrix_band_pull(e) >= 0 ? 0 : f->band.elements ? c : c + 1;
            for (int s = 0; s <= MAX_SIZES; s++)
                len.c[s] *= m;
            len.k *= m;
            put_macro_count(out, e, &len);
        }
        buf_puts(out, ")");
        return;
    }
    int terms = f->ntraj; /* several: their sum, in parentheses */
    for (int i = 0; i < f->nloops; i++)
        terms += f->loops[i].nstate && f->loops[i].wstride;
    int wrap = terms > 1 || f->ntraj; /* a product or a sum, in parentheses */
    buf_puts(out, wrap ? "(" : terms ? "" : "0");
    int first = 1;
    for (int i = 0; i < f->nloops; i++) {
        const Loop *lp = &f->loops[i];
        if (!lp->nstate || !lp->wstride)
            continue;
        buf_puts(out, first ? "" : " + ");
        first = 0;
        Affine trips = lp->hi;
        trips.k += 1 - lp->lo.k;
        Buf t = {0};
        put_macro_count(&t, e, &trips);
        buf_printf(out, "((%s) > 0 ? %u * (%s) : 0)", t.data, lp->wstride, t.data);
        buf_free(&t);
    }
    for (int i = 0; i < f->ntraj; i++) {
        buf_printf(out, "%s%u * (", first ? "" : " + ", f->traj[i].areas);
        first = 0;
        put_macro_count(out, e, &f->traj[i].len);
        buf_puts(out, ")");
    }
    buf_puts(out, wrap ? ")" : "");
}

/* #define NAME_WORK(n) ...: the states of the recurrence, for each iteration; then the
 * trajectories, twice (their values, and their tangents or adjoints); or a banded matrix's
 * directions and products; and before them, for a dense matrix of a run-time number of
 * columns, a column's direction (and a Hessian's column). */
static void put_work_macro(Buf *out, const DefOut *e)
{
    const Func *f = e->s.f;
    for (int i = 0; e->work_ckp_macro && i < f->nloops; i++)
        if (f->loops[i].nstate)
            ckp_put_work_macro(out, e, &f->loops[i]);
    if (!e->work_macro)
        return;
    /* without loops: the most any chunked entry point takes */
    if (!f->nloops && !f->band.colours && !func_dense_runtime(f)) {
        uint32_t most = 0;
        for (int k = 0; k < ENTRY_KINDS; k++)
            most = e->s.chunk_work[k] > most ? e->s.chunk_work[k] : most;
        if (most)
            buf_printf(out, "#define %s() %u\n", e->work_macro, most);
        return;
    }
    buf_printf(out, "#define %s(", e->work_macro);
    for (int k = 0; k < f->nsizes; k++)
        buf_printf(out, "%s%s", k ? ", " : "", e->s.size[k]);
    buf_puts(out, ") ");
    Buf x = {0};
    put_work_count(&x, e);
    if (func_dense_runtime(f)) {
        Affine len = matrix_diff_length(f);
        uint32_t per = f->entries & 1u << ENTRY_HESS ? 2 : 1;
        for (int s = 0; s <= MAX_SIZES; s++)
            len.c[s] *= per;
        len.k *= per;
        buf_puts(out, "(");
        if (strcmp(x.data, "0") != 0 && strcmp(x.data, "(0)") != 0)
            buf_printf(out, "%s + ", x.data);
        put_macro_count(out, e, &len);
        buf_puts(out, ")\n");
    } else {
        buf_printf(out, "%s\n", x.data);
    }
    buf_free(&x);
}

/* ---- the source and the header -------------------------------------------------------------- */

typedef struct {
    const char *name;
    int index;
} Named;

static int named_order(const void *a, const void *b)
{
    return strcmp(((const Named *)a)->name, ((const Named *)b)->name);
}

/* The index of the function named like the first m bytes of `name` among the n sorted by
 * name; -1 if none. */
static int find_stem(const Named *sorted, int n, const char *name, size_t m)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2, c = strncmp(sorted[mid].name, name, m);
        if (c == 0 && sorted[mid].name[m] == '\0')
            return sorted[mid].index;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int emit_csc_misfit(const Func *f)
{
    for (int p = 0; f->band.jac && p < f->nparams; p++)
        if (!matrix_map_loads_alike(f, p))
            return p;
    return -1;
}

int emit_check(const Program *prog, Diag *diag, const EmitOptions *opt)
{
    /* f_grad beside f: one of them would be renamed, and C calling f_grad would get the
     * other function. Each name is looked up without each suffix among the names sorted
     * (pairwise, 20,000 definitions took 25 s); a name's messages come in the order of the
     * functions it clashes with. */
    Named *sorted = xrealloc(NULL, ((size_t)prog->nfuncs + 1) * sizeof *sorted);
    for (int i = 0; i < prog->nfuncs; i++)
        sorted[i] = (Named){prog->funcs[i].name, i};
    qsort(sorted, (size_t)prog->nfuncs, sizeof *sorted, named_order);
    for (int i = 0; i < prog->nfuncs; i++) {
        const Func *f = &prog->funcs[i];
        size_t n = strlen(f->name);
        int clash[ENTRY_KINDS], kind[ENTRY_KINDS], nclash = 0;
        for (int k = 1; k < ENTRY_KINDS; k++) {
            size_t len = strlen(entry_info[k].suffix);
            if (n <= len || strcmp(f->name + n - len, entry_info[k].suffix) != 0)
                continue;
            int j = find_stem(sorted, prog->nfuncs, f->name, n - len), at = nclash;
            if (j < 0 || !(prog->funcs[j].entries & 1u << k))
                continue;
            for (nclash++; at > 0 && clash[at - 1] > j; at--) {
                clash[at] = clash[at - 1];
                kind[at] = kind[at - 1];
            }
            clash[at] = j;
            kind[at] = k;
        }
        for (int c = 0; c < nclash; c++)
            diag_error(diag, f->def->bare ? f->def->loc : f->def->name_loc,
                       "'%s' is also the name of the %s entry point of '%s'", f->name,
                       entry_info[kind[c]].word, prog->funcs[clash[c]].name);
    }
    free(sorted);
    for (int i = 0; opt->casadi && i < prog->nfuncs; i++) {
        const Func *f = &prog->funcs[i];
        const Def *d = f->def;
        if (func_kept(f))
            diag_error(diag, d->bare ? d->loc : d->name_loc, "--abi=casadi: '%s' has %s, but "
                       "CasADi's functions have inputs and outputs of fixed sizes (%s)", f->name,
                       f->nsizes ? "sizes known only at run time" : "loops kept by --unroll",
                       f->nsizes ? "give the sizes with -D, and no --unroll" :
                                   "leave out --unroll");
    }
    for (int i = 0; opt->casadi && i < prog->nfuncs; i++) {
        const Func *f = &prog->funcs[i];
        const Def *d = f->def;
        if (f->entries & ENTRIES_BATCH)
            diag_error(diag, d->bare ? d->loc : d->name_loc, "--abi=casadi: '%s' has batched "
                       "entry points, but a CasADi function is of one point (write them in a "
                       "file of their own, without --abi)", f->name);
    }
    for (int i = 0; opt->csc && i < prog->nfuncs; i++) {
        const Func *f = &prog->funcs[i];
        const Def *d = f->def;
        int p = f->entries & 1u << ENTRY_JAC_SPARSE ? emit_csc_misfit(f) : -1;
        if (p >= 0)
            diag_error(diag, d->bare ? d->loc : d->name_loc, "--sparse=csc: the values of '%s' "
                       "read '%s' at indices that move apart with the step (x[i] beside "
                       "x[n - 1 - i]), so the rows meeting a column are in no fixed order; its "
                       "pattern comes as triplets only (leave out --sparse=csc)", f->name,
                       f->params[p].name);
    }
    if (opt->name && prog->nfuncs > 1) {
        const Def *second = prog->funcs[1].def;
        diag_error(diag, second->bare ? second->loc : second->name_loc,
                   "--name renames a file's only function, but this file defines %d",
                   prog->nfuncs);
    }
    return diag->errors;
}

/* The bodies of e's entry points, scheduled before anything prints: those with two sweeps
 * first, so that a node they share with the value function has the same name in both; then
 * the names of what its kept loops define, and of the index and the work array. */
static void schedule_entry(DefOut *e, EntryKind k, Entry *entries, Body *bodies, Runs *runs)
{
    sched_entry(&e->s, k, &entries[k]);
    matrix_csc_stores(e, &entries[k]);
    if (func_dir_entry(e->s.f, k)) { /* jvp's nodes along every direction */
        Entry *of = &e->dir_of[emit_dir_index(k)];
        sched_entry(&e->s, k == ENTRY_HESS || k == ENTRY_HESS_SPARSE ? ENTRY_HVP : ENTRY_JVP,
                    of);
        runs_plan(e, of, &bodies[k], &runs[k]);
        return;
    }
    if (func_columns(e->s.f, k) != ENTRY_KINDS) /* calls, not a body of its own */
        return;
    if (e->s.f->nloops) {
        runs_plan(e, &entries[k], &bodies[k], &runs[k]);
        return;
    }
    sched_body(&e->s, entries[k].roots, (int)entries[k].nroots, &bodies[k],
               entry_of(k) == ENTRY_JVP);
    if (entry_info[k].batch || !chunks_wanted(e, &bodies[k]))
        return;
    /* the values the chunks pass, above half the frame's bound, are the caller's to hold, so
     * that the entry point takes a work array; a plan undone at once counts them */
    Chunks ch;
    sched_activate(&e->s, &bodies[k]);
    e->work = "w";
    chunks_plan(&ch, e, &entries[k], &bodies[k]);
    chunks_restore(&ch, e, &bodies[k]);
    e->work = NULL;
    /* on the stack still when they take at most half the bound (long double as 16 bytes, its
     * size on x86-64 and AArch64, whatever machine adgen runs on) */
    static const uint32_t bytes[] = {8, 4, 16};
    uint32_t bound = e->opt->max_stack ? e->opt->max_stack : DEFAULT_FRAME;
    if ((uint64_t)ch.nslots * bytes[e->opt->compile.real] > bound / 2)
        e->s.chunk_work[k] = ch.nslots;
    chunks_free(&ch);
    if (e->s.chunk_work[k]) {
        entry_free(&entries[k]);
        sched_entry(&e->s, k, &entries[k]);
        matrix_csc_stores(e, &entries[k]);
    }
}

static void schedule_definition(DefOut *e, Entry *entries, Body *bodies, Runs *runs)
{
    unsigned want = func_printed(e->s.f);
    for (int k = ENTRY_KINDS - 1; k >= 0; k--)
        if (want & ~ENTRIES_CKP & ~ENTRIES_BATCH & 1u << k)
            schedule_entry(e, (EntryKind)k, entries, bodies, runs);
    /* the variants after: a checkpointed variant's nodes are named as in its stored variant,
     * a batched one's names come after all of those */
    for (int k = ENTRY_KINDS - 1; k >= 0; k--)
        if (want & ENTRIES_CKP & 1u << k)
            schedule_entry(e, (EntryKind)k, entries, bodies, runs);
    if (want & ENTRIES_BATCH)
        sched_claim_batch(&e->s);
    for (int k = ENTRY_KINDS - 1; k >= 0; k--)
        if (want & ENTRIES_BATCH & 1u << k)
            schedule_entry(e, (EntryKind)k, entries, bodies, runs);
    /* a matrix made of calls of a chunked entry point passes its work array on */
    for (int k = 0; k < ENTRY_KINDS; k++) {
        EntryKind ck = func_columns(e->s.f, (EntryKind)k);
        if (want & 1u << k && ck != ENTRY_KINDS && e->s.chunk_work[ck]) {
            e->s.chunk_work[k] = e->s.chunk_work[ck];
            entry_free(&entries[k]);
            sched_entry(&e->s, (EntryKind)k, &entries[k]);
        }
    }
    runs_name_loops(e);
    static const char *const col_names[] = {"direction", "column", "i", "value"};
    int columns = func_printed(e->s.f) != e->s.f->entries;
    for (int k = 0; k < ENTRY_KINDS; k++)
        columns |= (e->s.f->entries >> k & 1) && func_columns(e->s.f, (EntryKind)k) != ENTRY_KINDS;
    for (int k = 0; columns && k < 4; k++)
        e->col_var[k] = names_claim(&e->s.names, col_names[k]);
    if (func_directions(e->s.f))
        e->dir_var = names_claim(&e->s.names, "d");
    for (int i = 0; ckp_wanted(e->s.f) && i < e->s.f->nloops; i++)
        if (e->s.f->loops[i].nstate)
            ckp_name_locals(e, &e->s.f->loops[i]);
    e->index = names_claim(&e->s.names, "k");
    e->work = names_claim(&e->s.names, "w");
}

/* Whether f's DAG, or an iteration's of its kept loops, has the sin and the cos of one value
 * not a constant (schedule.c's trig_partners pairs them). */
static int has_sin_cos(const Func *f)
{
    const Dag *d = &f->dag;
    uint8_t *sin_of = xrealloc(NULL, d->len + 1);
    memset(sin_of, 0, d->len + 1);
    int found = 0;
    for (NodeId id = 1; id < d->len; id++)
        if (d->nodes[id].kind == N_SIN && d->nodes[d->nodes[id].a].kind != N_CONST)
            sin_of[d->nodes[id].a] = 1;
    for (NodeId id = 1; id < d->len && !found; id++)
        found = d->nodes[id].kind == N_COS && sin_of[d->nodes[id].a];
    free(sin_of);
    for (int i = 0; i < f->nloops && !found; i++)
        found = has_sin_cos(f->loops[i].body);
    return found;
}

/* ADGEN_SIN_COS (F, L by the real type), which print_sin_cos prints, where a definition has
 * the sin and the cos of one value: one sincos call where the C library has it. */
static void put_sin_cos_macro(Buf *out, const Program *prog, RealType real)
{
    static const char *const suffix[] = {"", "F", "L"};
    int any = 0;
    for (int i = 0; i < prog->nfuncs && !any; i++)
        any = has_sin_cos(&prog->funcs[i]);
    if (!any)
        return;
    buf_printf(out, "/* ADGEN_SIN_COS%s(x, s, c) stores the sin and the cos of x through s and c: "
                    "one call of\n * sincos where the C library has it (glibc), else sin and cos; "
                    "-DADGEN_SINCOS=1 or 0 decides. */\n"
                    "#ifndef ADGEN_SINCOS\n#if defined(__GLIBC__)\n#define ADGEN_SINCOS 1\n"
                    "#else\n#define ADGEN_SINCOS 0\n#endif\n#endif\n"
                    "#ifndef ADGEN_SIN_COS%s\n#if ADGEN_SINCOS\n"
                    "#if !defined(__cplusplus) && !defined(_GNU_SOURCE) /* else <math.h> "
                    "declares it */\nvoid sincos%s(%s, %s *, %s *);\n#endif\n"
                    "#define ADGEN_SIN_COS%s(x, s, c) sincos%s(x, s, c)\n#else\n"
                    "#define ADGEN_SIN_COS%s(x, s, c) (*(s) = sin%s(x), *(c) = cos%s(x))\n"
                    "#endif\n#endif\n\n",
               suffix[real], suffix[real], real_suffix[real], real_type[real], real_type[real],
               real_type[real], suffix[real], real_suffix[real], suffix[real], real_suffix[real],
               real_suffix[real]);
}

/* The start of the source: the include, ADGEN_UNUSED for static functions, and every entry
 * point's prototype (and a sparse one's pattern arrays) in C linkage. */
static void put_preamble(Buf *out, const Program *prog, const Diag *diag,
                         const EmitOptions *opt, const DefOut *defs, Entry (*entries)[ENTRY_KINDS],
                         int chunked)
{
    header_comment(out, diag);
    buf_puts(out, "#include <math.h>\n");
    if (defs[0].ckp_fn[0]) /* the checkpointing helpers' */
        buf_puts(out, "#include <limits.h>\n#include <string.h>\n");
    if (opt->self_header)
        buf_printf(out, "#include \"%s\"\n", opt->self_header);
    int sizes = 0;
    for (int i = 0; i < prog->nfuncs; i++)
        sizes |= prog->funcs[i].nsizes > 0;
    if (sizes) /* what the entry points require of the sizes, checked on request */
        buf_puts(out, "#ifdef ADGEN_CHECK\n#include <limits.h>\n#include <stdio.h>\n"
                      "#include <stdlib.h>\n"
                      "#ifndef ADGEN_REQUIRE\n#define ADGEN_REQUIRE(ok, what) \\\n"
                      "    ((ok) ? (void)0 : (fprintf(stderr, \"%s\\n\", what), abort()))\n"
                      "#endif\n#endif\n");
    buf_puts(out, "\n");
    if (!opt->self_header) /* else the header has it */
        put_func_macro(out);
    if (chunked) /* inlined back into one function, the parts cost clang 7x the time */
        buf_puts(out, "#ifndef ADGEN_NOINLINE\n#if defined(__GNUC__)\n"
                      "#define ADGEN_NOINLINE __attribute__((noinline))\n#else\n"
                      "#define ADGEN_NOINLINE\n#endif\n#endif\n\n");
    put_sin_cos_macro(out, prog, opt->compile.real);
    if (opt->file_static)
        buf_printf(out, "#ifndef ADGEN_UNUSED\n#if defined(__GNUC__)\n"
                        "#define ADGEN_UNUSED __attribute__((unused))\n#else\n"
                        "#define ADGEN_UNUSED\n#endif\n#endif\n\n");
    batch_put_macros(out, prog, opt);
    if (opt->casadi && !opt->self_header) /* the CasADi functions' declarations */
        casadi_put_types(out, opt->compile.real);
    /* compiled as C++, the definitions take the C linkage the header declares */
    buf_puts(out, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n");
    for (int i = 0; opt->casadi && !opt->self_header && i < prog->nfuncs; i++)
        casadi_put_declarations(out, &defs[i]);
    for (int i = 0; i < prog->nfuncs; i++) {
        for (int k = 0; k < ENTRY_KINDS; k++) {
            if (prog->funcs[i].entries & 1u << k) {
                put_prototype(out, &defs[i], &entries[i][k], 0);
                buf_puts(out, ";\n");
                if (entries[i][k].pattern && !opt->file_static)
                    put_pattern(out, &defs[i], &entries[i][k], 0);
                else if (func_pattern_code(&prog->funcs[i], (EntryKind)k))
                    matrix_put_pattern_code(out, &defs[i], 1);
            }
        }
    }
    buf_puts(out, "#ifdef __cplusplus\n}\n#endif\n");
}

/* An entry point's definition: a large body's chunks first, as static functions, then the
 * pattern arrays, the comment, the prototype and the body (its runs rs, or NULL). Frees the
 * body, the runs and the entry. */
static void put_entry(Emitter *em, DefOut *e, Entry *entry, Body *b, Runs *rs,
                      NameSet *file_names)
{
    Buf *out = em->out;
    const Func *f = e->s.f;
    const EmitOptions *opt = e->opt;
    EntryKind k = entry->kind;
    sched_activate(&e->s, b);
    Chunks ch;
    const char **names = NULL;
    int chunked = !entry_info[k].batch && chunks_wanted(e, b);
    if (chunked) {
        chunks_plan(&ch, e, entry, b);
        names = xrealloc(NULL, ch.nchunks * sizeof *names);
        chunks_put_functions(em, e, entry, b, &ch, file_names, names);
    }
    if (rs && !em->ckp_helpers && loops_checkpoints(e, entry, rs)) {
        ckp_put_helpers(out, e->ckp_fn, opt->compile.real);
        em->ckp_helpers = 1;
    }
    if (k != ENTRY_VALUE)
        buf_puts(out, "\n");
    if (entry->pattern && opt->file_static) /* no header: the count here */
        buf_printf(out, "#define %s %u\n", e->nnz[k], entry->pattern->nnz);
    if (entry->pattern)
        put_pattern(out, e, entry, 1);
    else if (func_pattern_code(f, k))
        matrix_put_pattern_code(out, e, 0);
    put_entry_comment(out, e, entry);
    lines_at_source(em, f->def->loc.first_line);
    put_prototype(out, e, entry, 1);
    buf_puts(out, "\n");
    if (chunked) {
        chunks_put_body(em, e, entry, b, &ch, names);
        chunks_restore(&ch, e, b);
        chunks_free(&ch);
        free(names);
    } else if (entry_info[k].sparse && f->band.colours) {
        matrix_put_band(em, e, entry);
    } else if (func_dir_entry(f, k)) {
        loops_put_jac(em, e, entry, b, rs);
        entry_free(&e->dir_of[emit_dir_index(k)]);
    } else if (func_columns(f, k) != ENTRY_KINDS) {
        matrix_put_columns(out, e, entry);
    } else if (entry_info[k].batch) {
        batch_put_body(em, e, entry, b);
    } else {
        loops_put_body(em, e, entry, b, rs);
    }
    if (rs)
        runs_free(rs);
    body_free(b);
    entry_free(entry);
}

void emit_source(const Program *prog, const Diag *diag, const EmitOptions *opt, Buf *out,
                 uint32_t *work)
{
    Arena arena = {0};
    NameSet file_names;
    DefOut *defs = name_functions(prog, opt, &file_names, &arena);
    Emitter em = {.out = out, .opt = opt};

    for (int i = 0; i < prog->nfuncs; i++)
        start_top_definition(&defs[i], &prog->funcs[i], &file_names, &arena);
    Entry(*entries)[ENTRY_KINDS] = arena_alloc(&arena, (size_t)prog->nfuncs * sizeof *entries);
    Body(*bodies)[ENTRY_KINDS] = arena_alloc(&arena, (size_t)prog->nfuncs * sizeof *bodies);
    Runs(*runs)[ENTRY_KINDS] = arena_alloc(&arena, (size_t)prog->nfuncs * sizeof *runs);
    int chunked = 0;
    for (int i = 0; i < prog->nfuncs; i++) {
        schedule_definition(&defs[i], entries[i], bodies[i], runs[i]);
        memcpy(work + (size_t)i * ENTRY_KINDS, defs[i].s.chunk_work, sizeof defs[i].s.chunk_work);
        for (int k = 0; k < ENTRY_KINDS; k++)
            chunked |= (func_printed(&prog->funcs[i]) >> k & 1) && !entry_info[k].batch &&
                       bodies[i][k].nodes && chunks_wanted(&defs[i], &bodies[i][k]);
    }
    put_preamble(out, prog, diag, opt, defs, entries, chunked);
    for (int i = 0; i < prog->nfuncs; i++) {
        DefOut *e = &defs[i];
        const Func *f = e->s.f;
        buf_puts(out, "\n");
        put_source_comment(out, diag, e);
        if (opt->file_static) /* no header: the macro here */
            put_work_macro(out, e);
        for (int k = 0; k < ENTRY_KINDS; k++)
            if (func_printed(f) & 1u << k) {
                put_entry(&em, e, &entries[i][k], &bodies[i][k],
                          f->nloops ? &runs[i][k] : NULL, &file_names);
                lines_spill(&em);
            }
        if (opt->casadi) {
            buf_puts(out, "\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n");
            casadi_put_functions(out, e);
            buf_puts(out, "#ifdef __cplusplus\n}\n#endif\n");
        }
        end_definition(e);
    }
    buf_free(&em.escaped);
    names_free(&file_names);
    arena_free(&arena);
}

/* ADGEN_<FILE NAME>_<FIRST FUNCTION>: letters and digits upper-cased, runs of anything else
 * one '_' (C++ reserves "__" anywhere). The function keeps two model.h of different
 * directories apart. */
static void put_guard(Buf *out, const char *header_name, const char *function)
{
    Buf text = {0};
    buf_printf(&text, "ADGEN_%s_%s", base_name(header_name), function);
    for (const char *c = text.data; *c; c++) {
        unsigned char u = (unsigned char)*c;
        if ((u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9'))
            buf_printf(out, "%c", u);
        else if (u >= 'a' && u <= 'z')
            buf_printf(out, "%c", u - 'a' + 'A');
        else if (out->data[out->len - 1] != '_')
            buf_puts(out, "_");
    }
    buf_free(&text);
}

void emit_header(const Program *prog, const Diag *diag, const EmitOptions *opt, Buf *out,
                 const uint32_t *work)
{
    const char *header_name = opt->header_name ? opt->header_name : "adgen.h";
    Arena arena = {0};
    NameSet file_names;
    DefOut *defs = name_functions(prog, opt, &file_names, &arena);
    const char *first = defs[0].fn[ENTRY_VALUE];

    header_comment(out, diag);
    buf_puts(out, "#ifndef ");
    put_guard(out, header_name, first);
    buf_puts(out, "\n#define ");
    put_guard(out, header_name, first);
    buf_puts(out, "\n\n");
    put_func_macro(out);
    if (opt->casadi)
        casadi_put_types(out, opt->compile.real);
    buf_puts(out, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n");
    for (int i = 0; i < prog->nfuncs; i++) {
        DefOut *e = &defs[i];
        start_top_definition(e, &prog->funcs[i], &file_names, &arena);
        memcpy(e->s.chunk_work, work + (size_t)i * ENTRY_KINDS, sizeof e->s.chunk_work);
        buf_puts(out, "\n");
        put_source_comment(out, diag, e);
        if (opt->casadi) { /* the native entry points are the source's own */
            casadi_put_declarations(out, e);
            end_definition(e);
            continue;
        }
        put_work_macro(out, e);
        if (prog->funcs[i].entries & ENTRIES_BATCH) {
            /* the batched variants' names come after the bodies' locals, as in the source
             * (a definition with them has no kept loops, so no runs) */
            Entry entries[ENTRY_KINDS];
            Body bodies[ENTRY_KINDS];
            memset(entries, 0, sizeof entries);
            memset(bodies, 0, sizeof bodies);
            schedule_definition(e, entries, bodies, NULL);
            for (int k = 0; k < ENTRY_KINDS; k++) {
                body_free(&bodies[k]);
                entry_free(&entries[k]);
            }
        }
        for (int k = 0; k < ENTRY_KINDS; k++) {
            if (!(prog->funcs[i].entries & 1u << k))
                continue;
            Entry entry;
            sched_entry(&e->s, (EntryKind)k, &entry);
            put_entry_comment(out, e, &entry);
            put_prototype(out, e, &entry, 0);
            buf_puts(out, ";\n");
            if (entry.pattern) {
                buf_printf(out, "#define %s %u\n", e->nnz[k], entry.pattern->nnz);
                put_pattern(out, e, &entry, 0);
            } else if (func_pattern_code(e->s.f, (EntryKind)k)) {
                matrix_put_pattern_code(out, e, 1);
            }
            entry_free(&entry);
        }
        end_definition(e);
    }
    buf_puts(out, "\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
    names_free(&file_names);
    arena_free(&arena);
}
