/*
 * matrix.c: how the matrices of some entry points are laid out and made. Input: a scheduled
 * definition (DefOut) and an entry point. Output: C text and store positions: a Jacobian or a
 * Hessian of a definition with kept loops, made of the columns of its jvp or hvp (one call per
 * differentiated scalar, the Hessian mirrored to be exactly symmetric, a returned map's
 * Jacobian through its values' array); the count of a returned map's values; the positions of
 * a sparse entry point's nonzeros in compressed column storage (--sparse=csc).
 */
#include <stdlib.h>
#include <string.h>

#include "adgen.h"
#include "emit.h"

static const char *const literal_one[] = {"1.0", "1.0f", "1.0L"},
                         *const literal_zero[] = {"0.0", "0.0f", "0.0L"};

/* The number of values of a returned map, its loop's steps times its values a step, plus
 * `plus`: "2 * n - 1". */
void matrix_put_values_count(Buf *out, const DefOut *e, int64_t plus)
{
    const Loop *lp = &e->s.f->loops[e->s.f->result_loop - 1];
    Affine count = matrix_map_steps(e->s.f);
    for (int s = 0; s <= MAX_SIZES; s++)
        count.c[s] *= lp->result;
    count.k = count.k * lp->result + plus;
    print_affine(out, e, lp->var, &count);
}

/* Per structural nonzero k of sp (by row, then column), its position in compressed column
 * storage (by column, then row); *colptr (allocated) gets where each of the ncols columns
 * starts, and the count at ncols. */
uint32_t *matrix_csc_positions(const Sparse *sp, uint32_t ncols, uint32_t **colptr)
{
    uint32_t *start = xrealloc(NULL, (ncols + 2) * sizeof *start);
    uint32_t *pos = xrealloc(NULL, (sp->nnz + 1) * sizeof *pos);
    memset(start, 0, (ncols + 2) * sizeof *start);
    for (uint32_t k = 0; k < sp->nnz; k++)
        start[sp->col[k] + 1]++;
    for (uint32_t j = 0; j < ncols; j++)
        start[j + 1] += start[j];
    *colptr = xrealloc(NULL, (ncols + 1) * sizeof **colptr);
    memcpy(*colptr, start, (ncols + 1) * sizeof **colptr);
    for (uint32_t k = 0; k < sp->nnz; k++)
        pos[k] = start[sp->col[k]]++;
    free(start);
    return pos;
}

/* In compressed column storage, a sparse entry's stores of nonzeros go to their positions
 * there (its stores of a list's values stay where they are). */
void matrix_csc_stores(const DefOut *e, Entry *entry)
{
    if (!e->opt->csc || !entry->pattern)
        return;
    uint32_t *colptr, *pos = matrix_csc_positions(entry->pattern, e->s.f->ndiff, &colptr);
    for (uint32_t r = 0; r < entry->nstores; r++) {
        const char *name = entry->args[entry->arg[r]].name;
        if (name == e->s.jac_nz || name == e->s.hess_nz)
            entry->elem[r] = pos[entry->elem[r]];
    }
    free(pos);
    free(colptr);
}

static Affine diff_start(const Func *f, int p);

/* Text: the number of differentiated scalars, a constant or an expression of the sizes,
 * in parentheses where it is a sum ("(2 * n + 1)") when `wrap`. */
static void put_columns_count(Buf *out, const DefOut *e, int wrap)
{
    Affine len = matrix_diff_length(e->s.f);
    Buf t = {0};
    print_affine(&t, e, "", &len);
    buf_printf(out, wrap && strchr(t.data, ' ') ? "(%s)" : "%s", t.data);
    buf_free(&t);
}

/* The body of a Jacobian or a Hessian of a definition with kept loops: per differentiated
 * scalar, one call of the entry point whose columns make it (jvp, hvp) along that scalar's
 * unit direction, its column stored; a Hessian's upper triangle is then its lower one
 * mirrored, so that it is exactly symmetric. With a run-time number of columns (an array of
 * a run-time size differentiated), the direction (and a Hessian's column) are the first
 * values of the work array, and the calls get the rest. */
void matrix_put_columns(Buf *out, const DefOut *e, const Entry *entry)
{
    const Func *f = e->s.f;
    EntryKind ck = func_columns(f, entry->kind);
    int hess = entry->kind == ENTRY_HESS || entry->kind == ENTRY_HESS_SPARSE;
    int lower = entry->kind == ENTRY_HESS_SPARSE; /* packed, by rows or by columns */
    int csc = e->opt->csc && entry_info[entry->kind].sparse;
    int rt = func_runtime_columns(f);
    uint32_t n = f->ndiff, rows = hess ? n : (uint32_t)f->nroots;
    const char *real = real_type[e->opt->compile.real];
    const char *mat = entry->kind == ENTRY_HESS ? e->s.hess : entry->kind == ENTRY_JAC ?
                      e->s.jac : lower ? e->s.hess_nz : e->s.jac_nz;
    /* a returned map's column: jvp stores each value, then its tangent, through out */
    const char *dir = e->col_var[0], *col = f->result_loop ? e->s.out : e->col_var[1];
    const char *i = e->col_var[2];
    const char *value = e->col_var[3], *j = e->index;
    /* the columns' count (N: in parentheses), the rows', and what the calls' work is */
    Buf cols = {0}, ncols = {0}, nrows = {0}, work = {0};
    put_columns_count(&cols, e, 0);
    put_columns_count(&ncols, e, 1);
    if (hess)
        buf_puts(&nrows, ncols.data);
    else if (f->result_loop)
        matrix_put_values_count(&nrows, e, 0);
    else
        buf_printf(&nrows, "%u", rows);
    if (rt && hess)
        buf_printf(&work, "%s + 2 * %s", e->s.work, ncols.data);
    else if (rt)
        buf_printf(&work, "%s + %s", e->s.work, cols.data);
    else
        buf_puts(&work, e->s.work ? e->s.work : "");
    Entry ce;
    sched_entry(&e->s, ck, &ce);
    Buf call = {0};
    for (int k = 0; k < f->nsizes; k++)
        buf_printf(&call, "%s, ", e->s.size[k]);
    for (int p = 0; p < f->nparams; p++)
        buf_printf(&call, "%s, ", e->s.param[p]);
    for (int a = 0; a < ce.nargs; a++) {
        const Arg *ar = &ce.args[a];
        Buf off = {0};
        if (ar->param >= 0) {
            Affine o = diff_start(f, ar->param);
            print_affine(&off, e, "", &o);
        }
        int at0 = ar->param >= 0 && strcmp(off.data, "0") == 0;
        if (ar->param >= 0 && !ar->out && !ar->array)
            buf_printf(&call, "%s[%s]", dir, off.data);
        else if (ar->param >= 0 && !at0)
            buf_printf(&call, "%s + %s", ar->out ? col : dir, off.data);
        else if (ar->param >= 0)
            buf_puts(&call, ar->out ? col : dir);
        else if (ar->name == e->s.work)
            buf_puts(&call, work.data);
        else
            buf_puts(&call, ar->name == e->s.out ? ar->name : col);
        buf_puts(&call, a + 1 < ce.nargs ? ", " : "");
        buf_free(&off);
    }
    entry_free(&ce);
    /* the value (the columns' calls compute it too, but there may be none) */
    Buf args = {0};
    buf_putn(&args, "", 0);
    for (int k = 0; k < f->nsizes + f->nparams; k++)
        buf_printf(&args, "%s%s", k ? ", " : "", k < f->nsizes ? e->s.size[k] :
                                                   e->s.param[k - f->nsizes]);
    if (f->vector)
        buf_printf(&args, "%s%s", args.len ? ", " : "", e->s.out);
    /* the value reads the trajectories from the work array, or passes its parts' values */
    if (f->ntraj || e->s.chunk_work[ENTRY_VALUE])
        buf_printf(&args, "%s%s", args.len ? ", " : "", work.data);
    buf_puts(out, "{\n");
    if (f->vector && !f->result_loop)
        buf_printf(out, "    %s(%s);\n", e->fn[ENTRY_VALUE], args.data);
    else if (!f->vector)
        buf_printf(out, "    const %s %s = %s(%s);\n", real, value, e->fn[ENTRY_VALUE],
                   args.data);
    if (rt && hess) /* both of run-time length: the work array's */
        buf_printf(out, "    %s *const %s = %s, *const %s = %s + %s;\n", real, dir, e->s.work,
                   col, e->s.work, cols.data);
    else if (rt && f->result_loop)
        buf_printf(out, "    %s *const %s = %s;\n", real, dir, e->s.work);
    else if (rt)
        buf_printf(out, "    %s *const %s = %s, %s[%u];\n", real, dir, e->s.work, col,
                   rows ? rows : 1);
    else if (f->result_loop) /* a column of run-time length: out, whose values come last */
        buf_printf(out, "    %s %s[%u];\n", real, dir, n ? n : 1);
    else
        buf_printf(out, "    %s %s[%u], %s[%u];\n", real, dir, n ? n : 1, col, rows ? rows : 1);
    buf_printf(out, "    for (long %s = 0; %s < %s; %s++) {\n", j, j, cols.data, j);
    buf_printf(out, "        for (long %s = 0; %s < %s; %s++)\n", i, i, cols.data, i);
    buf_printf(out, "            %s[%s] = %s == %s ? %s : %s;\n", dir, i, i, j,
               literal_one[e->opt->compile.real], literal_zero[e->opt->compile.real]);
    buf_printf(out, "        %s(%s);\n", e->fn[ck], call.data);
    buf_printf(out, "        for (long %s = %s; %s < %s", i, lower ? j : "0", i, nrows.data);
    /* entry (i, j): row-major; packed lower triangle by rows (i (i + 1) / 2 + j) or by
     * columns (column j starts at j (2 n - j - 1) / 2); compressed columns (j rows + i) */
    buf_printf(out, "; %s++)\n            %s[", i, mat);
    if (lower && csc)
        buf_printf(out, "%s * (%u - %s) / 2 + %s", j, 2 * n - 1, j, i);
    else if (lower)
        buf_printf(out, "%s * (%s + 1) / 2 + %s", i, i, j);
    else if (csc && f->result_loop) /* a column as long as the map */
        buf_printf(out, "%s * (%s) + %s", j, nrows.data, i);
    else if (csc)
        buf_printf(out, "%s * %u + %s", j, rows, i);
    else
        buf_printf(out, "%s * %s + %s", i, ncols.data, j);
    buf_printf(out, "] = %s[%s];\n    }\n", col, i);
    if (f->result_loop)
        buf_printf(out, "    %s(%s);\n", e->fn[ENTRY_VALUE], args.data);
    buf_free(&args);
    if (entry->kind == ENTRY_HESS)
        buf_printf(out, "    for (long %s = 0; %s < %s; %s++)\n        for (long %s = 0; %s < %s; "
                        "%s++)\n            %s[%s * %s + %s] = %s[%s * %s + %s];\n", j, j,
                   cols.data, j, i, i, j, i, mat, i, ncols.data, j, mat, j, ncols.data, i);
    if (!f->vector)
        buf_printf(out, "    return %s;\n", value);
    buf_free(&call);
    buf_free(&cols);
    buf_free(&ncols);
    buf_free(&nrows);
    buf_free(&work);
    buf_puts(out, "}\n");
}

/* ---- a Hessian of run-time size (src/band.c) ----------------------------------------------- */

const char *const band_var_names[BAND_VARS] = {"r", "from", "to", "count", "len", "a", "t",
                                                "row", "col", "nz", "product", "rows",
                                                "colptr", "value"};
enum { V_R, V_FROM, V_TO, V_COUNT, V_LEN, V_A, V_T, V_ROW, V_COL, V_NZ, V_PRODUCT, V_ROWS,
       V_COLPTR, V_VALUE };

/* Parameter p's number of elements, in the sizes. */
static Affine param_length(const Param *pa)
{
    Affine a;
    memset(&a, 0, sizeof a);
    uint64_t row = 1;
    for (int i = 1; i < pa->rank; i++)
        row *= pa->dims[i];
    if (pa->rt_size >= 0)
        a.c[1 + pa->rt_size] = (int64_t)row;
    else
        a.k = pa->size;
    return a;
}

static void affine_add(Affine *to, const Affine *a)
{
    for (int s = 0; s <= MAX_SIZES; s++)
        to->c[s] += a->c[s];
    to->k += a->k;
}

/* The first element of parameter p among the differentiated scalars, in the sizes. */
static Affine diff_start(const Func *f, int p)
{
    Affine off;
    memset(&off, 0, sizeof off);
    for (int i = 0; i < p; i++)
        if (f->params[i].kind == PARAM_DIFF) {
            Affine l = param_length(&f->params[i]);
            affine_add(&off, &l);
        }
    return off;
}

Affine matrix_diff_length(const Func *f)
{
    return diff_start(f, f->nparams);
}

Affine matrix_map_steps(const Func *f)
{
    const Loop *lp = &f->loops[f->result_loop - 1];
    Affine n;
    memset(&n, 0, sizeof n);
    for (int z = 0; z <= MAX_SIZES; z++)
        n.c[z] = lp->hi.c[z] - lp->lo.c[z];
    n.k = lp->hi.k - lp->lo.k + 1;
    return n;
}

/* The rows of the matrix: a Jacobian's values (none when the map's range is empty), a
 * Hessian's differentiated scalars. */
static void put_band_rows(Buf *out, const DefOut *e)
{
    const Func *f = e->s.f;
    if (!f->band.jac) {
        Affine l = matrix_diff_length(f);
        print_affine(out, e, "", &l);
        return;
    }
    Affine steps = matrix_map_steps(f);
    Buf t = {0};
    print_affine(&t, e, "", &steps);
    uint32_t per = f->loops[f->result_loop - 1].result;
    if (per == 1)
        buf_printf(out, "%s > 0 ? %s : 0", t.data, t.data);
    else
        buf_printf(out, "%s > 0 ? %u * (%s) : 0", t.data, per, t.data);
    buf_free(&t);
}

/* The first colour of parameter p's elements. */
static uint32_t colour_start(const Func *f, int p)
{
    uint32_t c = 0;
    for (int i = 0; i < p; i++)
        c += f->band.colours[i];
    return c;
}

/* "long n, long m, " */
static void put_size_params(Buf *out, const DefOut *e)
{
    for (int k = 0; k < e->s.f->nsizes; k++)
        buf_printf(out, "long %s, ", e->s.size[k]);
}

/* "n, m, " */
static void put_size_args(Buf *out, const DefOut *e)
{
    for (int k = 0; k < e->s.f->nsizes; k++)
        buf_printf(out, "%s, ", e->s.size[k]);
}

static void put_unused_sizes(Buf *out, const DefOut *e)
{
    for (int k = 0; k < e->s.f->nsizes; k++)
        buf_printf(out, "    (void)%s;\n", e->s.size[k]);
}

/* Whether pair k of the band gives entries of the lower triangle with rows of parameter q:
 * its column's parameter comes before q, or is q at a distance that is not positive; or (by
 * columns: the walk over q's elements is over columns, its pairs give their rows) after q, or
 * q at a distance that is not negative. */
static int half_pair(const Func *f, uint32_t k, int q, int csc)
{
    const BandPair *bp = &f->band.pair[k];
    const Loop *lp = &f->loops[bp->loop];
    const Load *ra = &lp->load[bp->a], *cb = &lp->load[bp->b];
    if (csc)
        return ra->param == q && (cb->param > q || (cb->param == q && cb->at.k >= ra->at.k));
    return ra->param == q && (cb->param < q || (cb->param == q && cb->at.k <= ra->at.k));
}

/* "name - (a)", simpler when a is a number: "name - 1", "name + 2", "name". */
static void put_minus(Buf *out, const DefOut *e, const char *name, const Affine *a)
{
    int sizes = 0;
    for (int z = 0; z <= MAX_SIZES; z++)
        sizes |= a->c[z] != 0;
    if (sizes) {
        buf_printf(out, "%s - (", name);
        print_affine(out, e, name, a);
        buf_puts(out, ")");
    } else if (a->k) {
        buf_printf(out, "%s %c %lld", name, a->k > 0 ? '-' : '+',
                   (long long)(a->k > 0 ? a->k : -a->k));
    } else {
        buf_puts(out, name);
    }
}

/* "a + ", or nothing when a is 0. */
static void put_plus(Buf *out, const DefOut *e, const Affine *a)
{
    Affine zero;
    memset(&zero, 0, sizeof zero);
    buf_putn(out, "", 0); /* text, if empty */
    if (memcmp(a, &zero, sizeof zero) == 0)
        return;
    print_affine(out, e, "", a);
    buf_puts(out, " + ");
}

/* " + 2", " - 1", or nothing. */
static void put_offset(Buf *out, int64_t d)
{
    if (d)
        buf_printf(out, " %c %lld", d < 0 ? '-' : '+', (long long)(d < 0 ? -d : d));
}

/* Whether pair k's column is its row plus a constant: one array, or two whose indices move
 * by the same step. */
static int pair_direct(const Func *f, uint32_t k)
{
    const BandPair *bp = &f->band.pair[k];
    const Loop *lp = &f->loops[bp->loop];
    const Load *a = &lp->load[bp->a], *b = &lp->load[bp->b];
    return a->param == b->param || a->at.c[0] == b->at.c[0];
}

/* That constant (column = row + it). */
static int64_t pair_distance(const Func *f, uint32_t k)
{
    const BandPair *bp = &f->band.pair[k];
    const Loop *lp = &f->loops[bp->loop];
    return lp->load[bp->b].at.k - lp->load[bp->a].at.k;
}

/* Pair k's column among its array's elements, for row r (reached by the pair): its load's
 * index at the step r is at. */
static void put_pair_column(Buf *out, const DefOut *e, uint32_t k)
{
    const Func *f = e->s.f;
    const char *r = e->band_var[V_R];
    if (pair_direct(f, k)) {
        buf_puts(out, r);
        put_offset(out, pair_distance(f, k));
        return;
    }
    const BandPair *bp = &f->band.pair[k];
    const Loop *lp = &f->loops[bp->loop];
    const Load *a = &lp->load[bp->a], *b = &lp->load[bp->b];
    Affine rest = a->at, off = b->at;
    rest.c[0] = off.c[0] = 0;
    Buf t = {0};
    put_minus(&t, e, r, &rest);
    buf_printf(out, "%lld * ((%s) / %lld)", (long long)b->at.c[0], t.data, (long long)a->at.c[0]);
    t.len = 0;
    print_affine(&t, e, "", &off);
    if (t.len && strcmp(t.data, "0") != 0)
        buf_printf(out, " + (%s)", t.data);
    buf_free(&t);
}

static int pair_column(const Func *f, uint32_t k)
{
    const BandPair *bp = &f->band.pair[k];
    return f->loops[bp->loop].load[bp->b].param;
}

/* The rows pair k reaches: r = step * i + rest for i in the loop's range, the least and the
 * greatest, into *from and *to, in the sizes. */
static void pair_rows(const Func *f, uint32_t k, Affine *from, Affine *to)
{
    const BandPair *bp = &f->band.pair[k];
    const Loop *lp = &f->loops[bp->loop];
    Affine rest = lp->load[bp->a].at;
    int64_t step = rest.c[0];
    rest.c[0] = 0;
    const Affine *ends[2] = {step > 0 ? &lp->lo : &lp->hi, step > 0 ? &lp->hi : &lp->lo};
    Affine *to_ends[2] = {from, to};
    for (int j = 0; j < 2; j++) {
        for (int z = 0; z <= MAX_SIZES; z++)
            to_ends[j]->c[z] = step * ends[j]->c[z] + rest.c[z];
        to_ends[j]->k = step * ends[j]->k + rest.k;
    }
}

/* One of the row's bounds arrays: the pairs' least (hi = 0) or greatest rows, in order. */
static void put_bounds(Buf *out, const DefOut *e, const uint32_t *order, uint32_t n,
                       const char *name, int hi, const char *indent)
{
    buf_printf(out, "%sconst long %s[%u] = {", indent, name, n);
    for (uint32_t k = 0; k < n; k++) {
        Affine from, to;
        memset(&from, 0, sizeof from);
        memset(&to, 0, sizeof to);
        pair_rows(e->s.f, order[k], &from, &to);
        print_affine(out, e, "", hi ? &to : &from);
        buf_puts(out, k + 1 < n ? ", " : "};\n");
    }
}

/* Whether parameter p is a differentiated input of a constant size beside the arrays: its
 * elements have a colour each, and their rows and columns hold every element (the arrow's
 * border). */
static int border_param(const Func *f, int p)
{
    return f->params[p].kind == PARAM_DIFF && f->params[p].rt_size < 0;
}

/* An entry of row `row` (text: "start + r"), column pstart + (column text), whose value is
 * the product of colour (colour text) at row `at`; counted. By columns (csc), the walk is over
 * columns: `row` is the column, `column` the row, and only the row is stored. */
static void put_entry(Buf *out, const DefOut *e, const char *indent, const char *row,
                      const char *column, const char *colour, const char *at, int csc)
{
    const char *const *v = e->band_var;
    if (csc)
        buf_printf(out, "%sif (%s)\n%s    %s[%s] = %s;\n", indent, v[V_ROW], indent, v[V_ROW],
                   v[V_COUNT], column);
    else
        buf_printf(out, "%sif (%s) {\n%s    %s[%s] = %s;\n%s    %s[%s] = %s;\n%s}\n", indent,
                   v[V_ROW], indent, v[V_ROW], v[V_COUNT], row, indent, v[V_COL], v[V_COUNT],
                   column, indent);
    buf_printf(out, "%sif (%s)\n%s    %s[%s] = %s[(%s) * %s + %s];\n%s%s++;\n", indent, v[V_NZ],
               indent, v[V_NZ], v[V_COUNT], v[V_PRODUCT], colour, v[V_ROWS], at, indent,
               v[V_COUNT]);
}

/* Text: "start + (name)". */
static char *start_plus(const DefOut *e, int p, const char *name)
{
    Affine o = diff_start(e->s.f, p);
    Buf t = {0};
    put_plus(&t, e, &o);
    buf_puts(&t, name);
    return t.data;
}

/* Row `row` (text, of the global order) meets every element of parameter p, whose product
 * of colour `colour` (text) holds the entry at the column's row (a border input's column,
 * by symmetry); in a loop over the elements when p has several. */
static void put_dense_columns(Buf *out, const DefOut *e, const char *indent, const char *row,
                              int p, const char *colour_of, int column_colour, int csc)
{
    const char *const *v = e->band_var;
    Affine l = param_length(&e->s.f->params[p]);
    Buf len = {0}, colour = {0};
    print_affine(&len, e, "", &l);
    char *column = start_plus(e, p, v[V_A]);
    buf_printf(out, "%sfor (long %s = 0; %s < %s; %s++) { /* %s */\n", indent, v[V_A], v[V_A],
               len.data, v[V_A], e->s.param[p]);
    if (column_colour) /* a border input's own colour, the column's */
        buf_printf(&colour, "%u + %s", colour_start(e->s.f, p), v[V_A]);
    else
        buf_puts(&colour, colour_of);
    Buf in = {0};
    buf_printf(&in, "%s    ", indent);
    put_entry(out, e, in.data, row, column, colour.data, column_colour ? row : column, csc);
    buf_printf(out, "%s}\n", indent);
    free(column);
    buf_free(&in);
    buf_free(&len);
    buf_free(&colour);
}

/* The rows of border input q: each meets every element of the inputs before it (of arrays
 * and of border inputs alike) and its own up to itself, their values its colour's product.
 * By columns (csc): its columns, each meeting its own elements from itself on, then every
 * element of the inputs after it. */
static void put_border_rows(Buf *out, const DefOut *e, int q, int csc)
{
    const Func *f = e->s.f;
    const char *const *v = e->band_var;
    char *row = start_plus(e, q, v[V_R]);
    Buf colour = {0};
    buf_printf(&colour, "%u + %s", colour_start(f, q), v[V_R]);
    buf_printf(out, "    for (long %s = 0; %s < %u; %s++) { /* the %s of %s */\n", v[V_R],
               v[V_R], f->params[q].size, v[V_R], csc ? "columns" : "rows", e->s.param[q]);
    if (csc)
        buf_printf(out, "        if (%s)\n            %s[%s] = %s;\n", v[V_COLPTR],
                   v[V_COLPTR], row, v[V_COUNT]);
    for (int p = 0; !csc && p < q; p++)
        if (f->params[p].kind == PARAM_DIFF)
            put_dense_columns(out, e, "        ", row, p, colour.data, 0, 0);
    char *column = start_plus(e, q, v[V_A]);
    if (csc)
        buf_printf(out, "        for (long %s = %s; %s < %u; %s++) { /* %s */\n", v[V_A],
                   v[V_R], v[V_A], f->params[q].size, v[V_A], e->s.param[q]);
    else
        buf_printf(out, "        for (long %s = 0; %s <= %s; %s++) { /* %s */\n", v[V_A],
                   v[V_A], v[V_R], v[V_A], e->s.param[q]);
    put_entry(out, e, "            ", row, column, colour.data, column, csc);
    buf_puts(out, "        }\n");
    for (int p = q + 1; csc && p < f->nparams; p++)
        if (f->params[p].kind == PARAM_DIFF)
            put_dense_columns(out, e, "        ", row, p, colour.data, 0, 1);
    buf_puts(out, "    }\n");
    free(column);
    free(row);
    buf_free(&colour);
}

/* The pairs of the band whose rows (by columns: columns) are q's elements, in the order a
 * row meets their columns: by column parameter, then distance; into *order (allocated), their
 * number. Pairs of one parameter and distance make one entry, a group. */
static uint32_t half_order(const Func *f, int q, int csc, uint32_t **order_out)
{
    uint32_t n = 0, *order = *order_out = xrealloc(NULL, (f->band.npairs + 1) * sizeof *order);
    for (uint32_t k = 0; k < f->band.npairs; k++)
        if (half_pair(f, k, q, csc))
            order[n++] = k;
    for (uint32_t a = 1; a < n; a++)
        for (uint32_t b = a; b > 0; b--) {
            uint32_t x = order[b - 1], y = order[b];
            int px = pair_column(f, x), py = pair_column(f, y);
            if (px < py || (px == py && band_offset(f, x) <= band_offset(f, y)))
                break;
            order[b - 1] = y;
            order[b] = x;
        }
    return n;
}

/* Whether order[m] starts a group (half_order). */
static int group_start(const Func *f, const uint32_t *order, uint32_t m)
{
    return m == 0 || pair_column(f, order[m]) != pair_column(f, order[m - 1]) ||
           band_offset(f, order[m]) != band_offset(f, order[m - 1]);
}

/* The rows of parameter q: per row, its entries by column, each once. Each column the row
 * meets is the row's element plus a distance, a group of pairs sharing the column's
 * parameter and the distance: in the order of the parameters, then of the distances, they
 * are ascending, and a group's entry is there when one of its pairs reaches the row (within
 * the pair's rows, and, for a step other than 1, on one); the border inputs' columns come in
 * their parameters' places. By columns (csc), the same walk over q's elements as columns,
 * with the band's other half and the border inputs after q as rows. */
static void put_rows(Buf *out, const DefOut *e, int q, int csc)
{
    const Func *f = e->s.f;
    const char *const *v = e->band_var;
    if (border_param(f, q)) {
        put_border_rows(out, e, q, csc);
        return;
    }
    /* the border inputs it meets: those before q (by columns: after) */
    int first = csc ? q + 1 : 0, bound = csc ? f->nparams : q, border = 0;
    for (int p = first; p < bound; p++)
        border |= border_param(f, p);
    uint32_t *order, n = half_order(f, q, csc, &order);
    if (!n && !border && !csc) { /* by columns, each column's start is stored */
        free(order);
        return;
    }
    Buf len = {0}, start = {0}, t = {0};
    Affine l = param_length(&f->params[q]), o = diff_start(f, q);
    print_affine(&len, e, "", &l);
    put_plus(&start, e, &o);
    char *row = start_plus(e, q, v[V_R]);
    buf_printf(out, "    { /* the %s of %s */\n", csc ? "columns" : "rows", e->s.param[q]);
    if (n) {
        put_bounds(out, e, order, n, v[V_FROM], 0, "        ");
        put_bounds(out, e, order, n, v[V_TO], 1, "        ");
    }
    buf_printf(out, "        for (long %s = 0; %s < %s; %s++) {\n", v[V_R], v[V_R], len.data,
               v[V_R]);
    if (csc)
        buf_printf(out, "            if (%s)\n                %s[%s] = %s;\n", v[V_COLPTR],
                   v[V_COLPTR], row, v[V_COUNT]);
    /* by column (by row): the border inputs before q (after q), and the arrays' groups, in
     * parameter order */
    for (uint32_t g = 0, pc = (uint32_t)first; g < n || (int)pc < bound;) {
        if ((int)pc < bound && border_param(f, (int)pc) &&
            (g == n || pair_column(f, order[g]) >= (int)pc)) {
            put_dense_columns(out, e, "            ", row, (int)pc, NULL, 1, csc);
            pc++;
            continue;
        }
        if (g == n || ((int)pc < bound && pair_column(f, order[g]) > (int)pc)) {
            pc++;
            continue;
        }
        int p = pair_column(f, order[g]);
        uint32_t end = g + 1;
        while (end < n && !group_start(f, order, end))
            end++;
        /* the group's pairs' conditions, and its column: the same for each pair that holds */
        Buf *cond = xrealloc(NULL, (end - g) * sizeof *cond), column = {0};
        memset(cond, 0, (end - g) * sizeof *cond);
        int direct = 1;
        for (uint32_t m = g; m < end; m++) {
            const BandPair *bp = &f->band.pair[order[m]];
            const Load *ra = &f->loops[bp->loop].load[bp->a];
            int64_t step = ra->at.c[0] < 0 ? -ra->at.c[0] : ra->at.c[0];
            buf_printf(&cond[m - g], "%s >= %s[%u] && %s <= %s[%u]", v[V_R], v[V_FROM], m,
                       v[V_R], v[V_TO], m);
            if (step != 1) {
                Affine rest = ra->at;
                rest.c[0] = 0;
                t.len = 0;
                print_affine(&t, e, "", &rest);
                buf_printf(&cond[m - g], " && (%s - (%s)) %% %lld == 0", v[V_R], t.data,
                           (long long)step);
            }
            direct &= pair_direct(f, order[m]);
        }
        int select = !direct && end - g > 1; /* the column of the pair that holds: in
                                                * parentheses, an operand of + and % */
        buf_puts(&column, select ? "(" : "");
        for (uint32_t m = g; m < end; m++) {
            if (direct && m > g)
                break;
            if (!direct && m + 1 < end)
                buf_printf(&column, "(%s) ? ", cond[m - g].data);
            put_pair_column(&column, e, order[m]);
            if (!direct && m + 1 < end)
                buf_puts(&column, " : ");
        }
        buf_puts(&column, select ? ")" : "");
        buf_puts(out, "            if (");
        for (uint32_t m = g; m < end; m++)
            buf_printf(out, "%s(%s)", m > g ? " ||\n                " : "", cond[m - g].data);
        Affine po = diff_start(f, p);
        Buf pstart = {0};
        put_plus(&pstart, e, &po);
        buf_printf(out, ") { /* %s[%s] */\n", e->s.param[p], column.data);
        if (csc) /* the walk's element is the column, the pair's the row */
            buf_printf(out, "                if (%s)\n                    %s[%s] = %s%s;\n",
                       v[V_ROW], v[V_ROW], v[V_COUNT], pstart.data, column.data);
        else
            buf_printf(out, "                if (%s) {\n                    %s[%s] = %s%s;\n"
                            "                    %s[%s] = %s%s;\n                }\n", v[V_ROW],
                       v[V_ROW], v[V_COUNT], start.data, v[V_R], v[V_COL], v[V_COUNT],
                       pstart.data, column.data);
        buf_printf(out, "                if (%s)\n                    %s[%s] = %s[(", v[V_NZ],
                   v[V_NZ], v[V_COUNT], v[V_PRODUCT]);
        if (colour_start(f, p))
            buf_printf(out, "%u + ", colour_start(f, p));
        buf_printf(out, "(%s) %% %u) * %s + %s%s];\n                %s++;\n            }\n",
                   column.data, f->band.colours[p], v[V_ROWS], start.data, v[V_R], v[V_COUNT]);
        buf_free(&pstart);
        buf_free(&column);
        for (uint32_t m = g; m < end; m++)
            buf_free(&cond[m - g]);
        free(cond);
        g = end;
    }
    buf_puts(out, "        }\n    }\n");
    free(row);
    buf_free(&len);
    buf_free(&start);
    buf_free(&t);
    free(order);
}

/* A returned map's rows, step by step: value k of step r is row result * (r - lo) + k, and
 * meets the loads its tangent reads, by parameter then offset, ascending. */
static void put_map_rows(Buf *out, const DefOut *e)
{
    const Func *f = e->s.f;
    const char *const *v = e->band_var;
    const Band *b = &f->band;
    const Loop *lp = &f->loops[f->result_loop - 1];
    Buf t = {0};
    Affine end = lp->hi;
    end.k++;
    buf_printf(out, "    for (long %s = ", v[V_R]);
    print_affine(out, e, v[V_R], &lp->lo);
    buf_printf(out, "; %s < ", v[V_R]);
    print_affine(out, e, v[V_R], &end);
    buf_printf(out, "; %s++) {\n", v[V_R]);
    for (uint32_t k = 0; k < lp->result; k++) {
        uint32_t n = 0, *order = xrealloc(NULL, (b->npairs + 1) * sizeof *order);
        for (uint32_t m = 0; m < b->npairs; m++)
            if (b->pair[m].a == k)
                order[n++] = m;
        for (uint32_t a = 1; a < n; a++) /* by parameter, then offset */
            for (uint32_t c = a; c > 0; c--) {
                const Load *x = &lp->load[b->pair[order[c - 1]].b];
                const Load *y = &lp->load[b->pair[order[c]].b];
                if (x->param < y->param || (x->param == y->param && x->at.k <= y->at.k))
                    break;
                uint32_t sw = order[c - 1];
                order[c - 1] = order[c];
                order[c] = sw;
            }
        Affine row;
        memset(&row, 0, sizeof row);
        for (int z = 0; z <= MAX_SIZES; z++)
            row.c[z] = -(int64_t)lp->result * lp->lo.c[z];
        row.c[0] = lp->result;
        row.k = -(int64_t)lp->result * lp->lo.k + k;
        Buf rowt = {0};
        print_affine(&rowt, e, v[V_R], &row);
        int border = 0; /* the inputs of constant sizes put: their columns are dense */
        for (uint32_t m = 0; m <= n; m++) {
            int before = m < n ? lp->load[b->pair[order[m]].b].param : f->nparams;
            for (; border < before; border++)
                if (border_param(f, border))
                    put_dense_columns(out, e, "        ", rowt.data, border, NULL, 1, 0);
            if (m == n)
                break;
            const Load *ld = &lp->load[b->pair[order[m]].b];
            Affine po = diff_start(f, ld->param);
            Buf start = {0};
            put_plus(&start, e, &po);
            t.len = 0;
            print_affine(&t, e, v[V_R], &ld->at);
            buf_printf(out, "        if (%s) {\n            %s[%s] = %s;\n            %s[%s] = "
                            "%s%s;\n        }\n", v[V_ROW], v[V_ROW], v[V_COUNT], rowt.data,
                       v[V_COL], v[V_COUNT], start.data, t.data);
            buf_printf(out, "        if (%s)\n            %s[%s] = %s[(", v[V_NZ], v[V_NZ],
                       v[V_COUNT], v[V_PRODUCT]);
            if (colour_start(f, ld->param))
                buf_printf(out, "%u + ", colour_start(f, ld->param));
            buf_printf(out, "(%s) %% %u) * %s + %s];\n        %s++;\n", t.data,
                       b->colours[ld->param], v[V_ROWS], rowt.data, v[V_COUNT]);
            buf_free(&start);
        }
        buf_free(&rowt);
        free(order);
    }
    buf_puts(out, "    }\n");
    buf_free(&t);
}

/* Whether every load of parameter p that a returned map's values read moves alike with the
 * step and the sizes (x[i] and x[i + 1], not x[i] beside x[n - 1 - i]): the rows meeting one
 * of its columns are then in the order of the loads' offsets, the pattern by columns. */
int matrix_map_loads_alike(const Func *f, int p)
{
    const Band *b = &f->band;
    const Loop *lp = &f->loops[f->result_loop - 1];
    const Load *first = NULL;
    for (uint32_t m = 0; m < b->npairs; m++) {
        const Load *l = &lp->load[b->pair[m].b];
        if (l->param != p)
            continue;
        for (int z = 0; first && z <= MAX_SIZES; z++)
            if (l->at.c[z] != first->at.c[z])
                return 0;
        first = first ? first : l;
    }
    return 1;
}

/* A returned map's columns (--sparse=csc), parameter by parameter: a border input's column
 * meets every row; an array's element meets, for each load of its array, the value of the
 * step whose load is that element, if the step is in the range. Rows grow with the step, so
 * the loads go by offset (descending when the index grows with the step), then by value;
 * each entry's value is the product of its column's colour at its row. */
static void put_map_columns(Buf *out, const DefOut *e)
{
    const Func *f = e->s.f;
    const char *const *v = e->band_var;
    const Band *b = &f->band;
    const Loop *lp = &f->loops[f->result_loop - 1];
    uint32_t *order = xrealloc(NULL, (b->npairs + 1) * sizeof *order);
    for (int p = 0; p < f->nparams; p++) {
        if (f->params[p].kind != PARAM_DIFF)
            continue;
        Affine l = param_length(&f->params[p]);
        Buf len = {0}, colour = {0};
        print_affine(&len, e, "", &l);
        char *column = start_plus(e, p, v[V_A]);
        buf_printf(out, "    for (long %s = 0; %s < %s; %s++) { /* the columns of %s */\n",
                   v[V_A], v[V_A], len.data, v[V_A], e->s.param[p]);
        buf_printf(out, "        if (%s)\n            %s[%s] = %s;\n", v[V_COLPTR], v[V_COLPTR],
                   column, v[V_COUNT]);
        uint32_t c0 = colour_start(f, p);
        if (border_param(f, p)) { /* a colour each */
            buf_printf(&colour, "%u + %s", c0, v[V_A]);
            buf_printf(out, "        for (long %s = 0; %s < %s; %s++) {\n", v[V_R], v[V_R],
                       v[V_ROWS], v[V_R]);
            put_entry(out, e, "            ", "", v[V_R], colour.data, v[V_R], 1);
            buf_puts(out, "        }\n");
        } else {
            if (c0)
                buf_printf(&colour, "%u + ", c0);
            buf_printf(&colour, "%s %% %u", v[V_A], b->colours[p]);
            uint32_t n = 0;
            for (uint32_t m = 0; m < b->npairs; m++)
                if (lp->load[b->pair[m].b].param == p)
                    order[n++] = m;
            for (uint32_t i = 1; i < n; i++) /* by step, then value */
                for (uint32_t j = i; j > 0; j--) {
                    const BandPair *x = &b->pair[order[j - 1]], *y = &b->pair[order[j]];
                    const Load *lx = &lp->load[x->b], *ly = &lp->load[y->b];
                    int64_t dx = lx->at.c[0] > 0 ? -lx->at.k : lx->at.k;
                    int64_t dy = ly->at.c[0] > 0 ? -ly->at.k : ly->at.k;
                    if (dx < dy || (dx == dy && x->a <= y->a))
                        break;
                    uint32_t sw = order[j - 1];
                    order[j - 1] = order[j];
                    order[j] = sw;
                }
            for (uint32_t i = 0; i < n; i++) {
                const BandPair *bp = &b->pair[order[i]];
                Affine base = lp->load[bp->b].at, row;
                memset(&row, 0, sizeof row);
                int64_t step = base.c[0];
                base.c[0] = 0;
                for (int z = 0; z <= MAX_SIZES; z++)
                    row.c[z] = -(int64_t)lp->result * lp->lo.c[z];
                row.c[0] = lp->result;
                row.k = -(int64_t)lp->result * lp->lo.k + bp->a;
                Buf at = {0}, rowt = {0};
                put_minus(&at, e, v[V_A], &base);
                print_affine(&rowt, e, v[V_T], &row);
                if (step == 1) {
                    buf_printf(out, "        {\n            const long %s = %s;\n", v[V_T],
                               at.data);
                } else {
                    buf_printf(out, "        if ((%s) %% %lld == 0) {\n            const long "
                                    "%s = (%s) / %lld;\n", at.data, (long long)step, v[V_T],
                               at.data, (long long)step);
                }
                buf_printf(out, "            if (%s >= ", v[V_T]);
                print_affine(out, e, "", &lp->lo);
                buf_printf(out, " && %s <= ", v[V_T]);
                print_affine(out, e, "", &lp->hi);
                buf_puts(out, ") {\n");
                put_entry(out, e, "                ", "", rowt.data, colour.data, rowt.data, 1);
                buf_puts(out, "            }\n        }\n");
                buf_free(&at);
                buf_free(&rowt);
            }
        }
        buf_puts(out, "    }\n");
        free(column);
        buf_free(&len);
        buf_free(&colour);
    }
    free(order);
}

void matrix_put_band_functions(Buf *out, const DefOut *e, int declare)
{
    const Func *f = e->s.f;
    const char *const *v = e->band_var;
    const char *real = real_type[e->opt->compile.real];
    const char *st = e->opt->file_static ? "static ADGEN_UNUSED " : "";
    int jac = f->band.jac, csc = e->opt->csc;
    EntryKind k = jac ? ENTRY_JAC_SPARSE : ENTRY_HESS_SPARSE;
    const char *what = jac ? "Jacobian" : "Hessian's lower triangle";
    const char *second = csc ? v[V_COLPTR] : v[V_COL];
    Buf sizes = {0}, args = {0};
    put_size_params(&sizes, e);
    put_size_args(&args, e);
    if (!declare) {
        Buf len = {0};
        put_band_rows(&len, e);
        if (csc)
            buf_printf(out, "\n/* The structural nonzeros of %s's %s, by column then row:\n * "
                            "where each column starts into %s (and the count after the last), "
                            "their rows\n * into %s, their values from the products along the "
                            "colours into %s (each NULL\n * or not); their count. */\n",
                       e->fn[ENTRY_VALUE], what, v[V_COLPTR], v[V_ROW], v[V_NZ]);
        else
            buf_printf(out, "\n/* The structural nonzeros of %s's %s, by row then column:\n * "
                            "their rows and columns into %s and %s, their values from the "
                            "products along the\n * colours into %s (each NULL or not); their "
                            "count. */\n", e->fn[ENTRY_VALUE], what, v[V_ROW], v[V_COL], v[V_NZ]);
        buf_printf(out, "static ADGEN_FUNC long %s(%slong *%s, long *%s, %s *%s, const %s *%s)\n{\n",
                   e->col[k], sizes.data, v[V_ROW], second, real, v[V_NZ], real, v[V_PRODUCT]);
        put_unused_sizes(out, e);
        if (!f->band.npairs) /* no entry */
            buf_printf(out, "    (void)%s;\n    (void)%s;\n    (void)%s;\n    (void)%s;\n",
                       v[V_ROW], second, v[V_NZ], v[V_PRODUCT]);
        buf_printf(out, "    const long %s = %s;\n    long %s = 0;\n    (void)%s;\n", v[V_ROWS],
                   len.data, v[V_COUNT], v[V_ROWS]);
        for (int q = 0; !jac && q < f->nparams; q++)
            if (f->params[q].kind == PARAM_DIFF)
                put_rows(out, e, q, csc);
        if (jac && csc)
            put_map_columns(out, e);
        else if (jac)
            put_map_rows(out, e);
        if (csc) { /* the count after the last column */
            Affine cols = matrix_diff_length(f);
            buf_printf(out, "    if (%s)\n        %s[", v[V_COLPTR], v[V_COLPTR]);
            print_affine(out, e, "", &cols);
            buf_printf(out, "] = %s;\n", v[V_COUNT]);
        }
        buf_printf(out, "    return %s;\n}\n", v[V_COUNT]);
        buf_free(&len);
    }
    /* the count and the pattern */
    buf_printf(out, "\n/* The number of structural nonzeros of %s's %s. */\n", e->fn[ENTRY_VALUE],
               what);
    buf_printf(out, "%sADGEN_FUNC long %s(", st, e->nnz[k]);
    if (f->nsizes)
        buf_putn(out, sizes.data, sizes.len - 2);
    else
        buf_puts(out, "void");
    if (declare) {
        buf_puts(out, ");\n");
    } else {
        buf_printf(out, ")\n{\n    return %s(%s0, 0, 0, 0);\n}\n", e->col[k], args.data);
    }
    if (csc) {
        Buf cols = {0};
        Affine ncols = matrix_diff_length(f);
        print_affine(&cols, e, "", &ncols);
        buf_printf(out, "%s/* Stores in %s[j] where column j of the %s starts, for j <= %s\n * "
                        "(%s[%s] = %s(", declare ? "" : "\n", v[V_COLPTR], what, cols.data,
                   v[V_COLPTR], cols.data, e->nnz[k]);
        if (f->nsizes)
            buf_putn(out, args.data, args.len - 2);
        buf_printf(out, ")), and in %s[k] the row of structural nonzero k\n * (%s's), by column "
                        "then row%s. */\n", v[V_ROW], e->fn[k], jac ? "" : " (row >= column)");
        buf_free(&cols);
    } else {
        buf_printf(out, "%s/* Stores in %s[k], %s[k] the row and the column of the %s's "
                        "structural nonzero k\n * (%s's), for k < %s(",
                   declare ? "" : "\n", v[V_ROW], v[V_COL], jac ? "Jacobian" : "Hessian",
                   e->fn[k], e->nnz[k]);
        if (f->nsizes)
            buf_putn(out, args.data, args.len - 2);
        buf_printf(out, "), by row then column%s. */\n", jac ? "" : " (row >= column)");
    }
    if (csc)
        buf_printf(out, "%sADGEN_FUNC void %s(%slong *%s, long *%s)", st, e->row[k], sizes.data,
                   v[V_COLPTR], v[V_ROW]);
    else
        buf_printf(out, "%sADGEN_FUNC void %s(%slong *%s, long *%s)", st, e->row[k], sizes.data,
                   v[V_ROW], v[V_COL]);
    if (declare)
        buf_puts(out, ";\n");
    else
        buf_printf(out, "\n{\n    %s(%s%s, %s, 0, 0);\n}\n\n", e->col[k], args.data, v[V_ROW],
                   second);
    buf_free(&sizes);
    buf_free(&args);
}

/* The count and the pattern of a returned map's dense Jacobian (jac-sparse with columns of
 * constant sizes): every entry, by row then column, the dense Jacobian's order. */
static void put_dense_pattern(Buf *out, const DefOut *e, int declare)
{
    const Func *f = e->s.f;
    const char *const *v = e->band_var;
    const char *st = e->opt->file_static ? "static ADGEN_UNUSED " : "";
    EntryKind k = ENTRY_JAC_SPARSE;
    Buf sizes = {0}, count = {0}, unused = {0};
    put_size_params(&sizes, e);
    matrix_put_values_count(&count, e, 0);
    Affine steps = matrix_map_steps(f); /* the sizes the values' count does not read */
    buf_putn(&unused, "", 0);
    for (int s = 0; s < f->nsizes; s++)
        if (!steps.c[1 + s])
            buf_printf(&unused, "    (void)%s;\n", e->s.size[s]);
    buf_printf(out, "\n/* The number of structural nonzeros of %s's Jacobian: every entry, as "
                    "many as\n * its values times %u. */\n", e->fn[ENTRY_VALUE], f->ndiff);
    buf_printf(out, "%sADGEN_FUNC long %s(%.*s)", st, e->nnz[k], (int)sizes.len - 2, sizes.data);
    if (declare)
        buf_puts(out, ";\n");
    else
        buf_printf(out, "\n{\n%s    const long %s = %s;\n    return %s > 0 ? %s * %u : 0;\n}\n",
                   unused.data, v[V_ROWS], count.data, v[V_ROWS], v[V_ROWS], f->ndiff);
    Buf args = {0};
    buf_putn(&args, "", 0);
    for (int s = 0; s < f->nsizes; s++)
        buf_printf(&args, "%s%s", s ? ", " : "", e->s.size[s]);
    if (e->opt->csc)
        buf_printf(out, "%s/* Stores in %s[j] where column j of the Jacobian starts, for j <= "
                        "%u\n * (%s[%u] = %s(%s)), and in %s[k] the row of structural nonzero "
                        "k\n * (%s's), by column then row. */\n", declare ? "" : "\n",
                   v[V_COLPTR], f->ndiff, v[V_COLPTR], f->ndiff, e->nnz[k], args.data,
                   v[V_ROW], e->fn[k]);
    else
        buf_printf(out, "%s/* Stores in %s[k], %s[k] the row and the column of the Jacobian's "
                        "structural nonzero k\n * (%s's), for k < %s(%s), by row then column. "
                        "*/\n", declare ? "" : "\n", v[V_ROW], v[V_COL], e->fn[k], e->nnz[k],
                   args.data);
    buf_free(&args);
    buf_printf(out, "%sADGEN_FUNC void %s(%slong *%s, long *%s)", st, e->row[k], sizes.data,
               e->opt->csc ? v[V_COLPTR] : v[V_ROW], e->opt->csc ? v[V_ROW] : v[V_COL]);
    if (declare) {
        buf_puts(out, ";\n");
    } else if (e->opt->csc) {
        buf_printf(out, "\n{\n%s    const long %s = %s;\n", unused.data, v[V_ROWS], count.data);
        buf_printf(out, "    for (long %s = 0; %s <= %u; %s++)\n        %s[%s] = %s * (%s > 0 ? "
                        "%s : 0);\n", v[V_A], v[V_A], f->ndiff, v[V_A], v[V_COLPTR], v[V_A],
                   v[V_A], v[V_ROWS], v[V_ROWS]);
        buf_printf(out, "    for (long %s = 0; %s < %u; %s++)\n", v[V_A], v[V_A], f->ndiff,
                   v[V_A]);
        buf_printf(out, "        for (long %s = 0; %s < %s; %s++)\n", v[V_R], v[V_R], v[V_ROWS],
                   v[V_R]);
        buf_printf(out, "            %s[%s * %s + %s] = %s;\n}\n\n", v[V_ROW], v[V_A], v[V_ROWS],
                   v[V_R], v[V_R]);
    } else {
        buf_printf(out, "\n{\n%s    const long %s = %s;\n", unused.data, v[V_ROWS], count.data);
        buf_printf(out, "    for (long %s = 0; %s < %s; %s++)\n", v[V_R], v[V_R], v[V_ROWS],
                   v[V_R]);
        buf_printf(out, "        for (long %s = 0; %s < %u; %s++) {\n", v[V_A], v[V_A],
                   f->ndiff, v[V_A]);
        buf_printf(out, "            %s[%s * %u + %s] = %s;\n", v[V_ROW], v[V_R], f->ndiff,
                   v[V_A], v[V_R]);
        buf_printf(out, "            %s[%s * %u + %s] = %s;\n        }\n}\n\n", v[V_COL],
                   v[V_R], f->ndiff, v[V_A], v[V_A]);
    }
    buf_free(&sizes);
    buf_free(&count);
    buf_free(&unused);
}

void matrix_put_pattern_code(Buf *out, const DefOut *e, int declare)
{
    if (e->s.f->band.colours)
        matrix_put_band_functions(out, e, declare);
    else
        put_dense_pattern(out, e, declare);
}

/* The node of pair k's second derivative in its loop's iteration (Band.elements): the lower
 * entry of the iteration's Hessian at its two loads' differentiated scalars (0 where it is
 * structurally zero). */
static NodeId pair_node(const Func *f, uint32_t k)
{
    const BandPair *bp = &f->band.pair[k];
    const Func *body = f->loops[bp->loop].body;
    uint32_t ka = 0, kb = 0;
    for (uint32_t j = 0; j < body->ndiff; j++) {
        ka = body->diff[j] == loop_load_slot(&f->loops[bp->loop], bp->a) ? j : ka;
        kb = body->diff[j] == loop_load_slot(&f->loops[bp->loop], bp->b) ? j : kb;
    }
    const Sparse *sp = &body->mode[ENTRY_HESS].sparse;
    uint32_t at = sparse_find(sp, ka > kb ? ka : kb, ka > kb ? kb : ka);
    return at < sp->nnz ? sp->node[at] : body->zero;
}

/* Where pair k of the band adds its term's second derivative, the entry (its row load's
 * element, its column load's) of the products: the column's colour's product, at the row:
 * "work[rows * (2 + (i + 1) % 3) + N + i]". */
static const char *pair_product(const DefOut *e, uint32_t k)
{
    const Func *f = e->s.f;
    const BandPair *bp = &f->band.pair[k];
    const Loop *lp = &f->loops[bp->loop];
    const Load *row = &lp->load[bp->a], *col = &lp->load[bp->b];
    const char *var = e->loop_var[bp->loop];
    uint32_t c0 = colour_start(f, col->param), nc = f->band.colours[col->param];
    Affine start = diff_start(f, row->param);
    Buf t = {0};
    buf_printf(&t, "%s[%s * ", e->s.work, e->band_var[V_ROWS]);
    if (nc == 1) {
        buf_printf(&t, "%u", c0);
    } else {
        buf_puts(&t, "(");
        if (c0)
            buf_printf(&t, "%u + ", c0);
        Buf at = {0};
        print_affine(&at, e, var, &col->at);
        buf_printf(&t, strchr(at.data, ' ') ? "(%s) %% %u)" : "%s %% %u)", at.data, nc);
        buf_free(&at);
    }
    buf_puts(&t, " + ");
    put_plus(&t, e, &start);
    print_affine(&t, e, var, &row->at);
    buf_puts(&t, "]");
    const char *s = arena_strndup(e->s.arena, t.data, t.len);
    buf_free(&t);
    return s;
}

/* The values of the definition that the sums' terms' Hessians read (their seeds among
 * them), scheduled into fb and printed. */
static void put_terms_values(Emitter *em, const DefOut *e, Body *fb)
{
    const Func *f = e->s.f;
    const Band *b = &f->band;
    NodeId *caps = NULL;
    uint32_t ncaps = 0;
    for (int i = 0; i < f->nloops; i++) {
        const Loop *lp = &f->loops[i];
        const Dag *d = &lp->body->dag;
        uint8_t *reach = xrealloc(NULL, d->len);
        memset(reach, 0, d->len);
        for (uint32_t k = 0; k < b->npairs; k++)
            if (b->pair[k].loop == i)
                reach[pair_node(f, k)] = 1;
        dag_reach(d, d->len - 1, reach);
        caps = xrealloc(caps, (ncaps + lp->ncap + 2) * sizeof *caps);
        for (uint32_t c = 0; c < lp->ncap; c++)
            if (reach[lp->body->input[loop_cap_slot(lp, c)]])
                caps[ncaps++] = lp->cap[c];
        if (reach[lp->body->input[lp->body->bar_slot]]) /* a seed that is not a number */
            caps[ncaps++] = loop_sweep(f, lp, ENTRY_GRAD)->seed[0];
        free(reach);
    }
    sched_body((Sched *)&e->s, caps, (int)ncaps, fb, 0);
    Printer pr = {e, fb, 0};
    for (uint32_t k = 0; k < fb->n; k++)
        if (fb->local[k])
            print_local(em, &pr, fb->nodes[k], "    ");
    free(caps);
}

/* hess-sparse by the terms' Hessians (Band.elements): the products zeroed, each sum's loop
 * adding its terms' second derivatives times its seed into them (the values of the
 * definition its iterations read, the seed among them, computed first), the nonzeros read
 * off them; the value the function's (rows: the matrix's rows, C text). */
static void put_band_elements(Emitter *em, const DefOut *e, const Entry *entry,
                              const char *args, const char *rows)
{
    const Func *f = e->s.f;
    const Band *b = &f->band;
    const char *const *v = e->band_var;
    Buf *out = em->out;
    buf_printf(out, "    const long %s = %s;\n", v[V_ROWS], rows);
    buf_printf(out, "    for (long %s = 0; %s < %u * %s; %s++)\n        %s[%s] = %s;\n", v[V_R],
               v[V_R], b->ncolours, v[V_ROWS], v[V_R], e->s.work, v[V_R],
               literal_zero[e->opt->compile.real]);
    NodeId *roots = xrealloc(NULL, (b->npairs + 1) * sizeof *roots);
    const char **into = xrealloc(NULL, (b->npairs + 1) * sizeof *into);
    Body fb;
    put_terms_values(em, e, &fb);
    for (int i = 0; i < f->nloops; i++) {
        uint32_t n = 0;
        for (uint32_t k = 0; k < b->npairs; k++)
            if (b->pair[k].loop == i) {
                roots[n] = pair_node(f, k);
                into[n++] = pair_product(e, k);
            }
        if (n)
            loops_put_terms(em, e, entry, &fb, i, roots, into, n,
                            "the second derivatives of the sum's terms, into the products of "
                            "the colours");
    }
    body_free(&fb);
    buf_printf(out, "    %s(", e->col[entry->kind]);
    put_size_args(out, e);
    buf_printf(out, "0, 0, %s, %s);\n", e->s.hess_nz, e->s.work);
    buf_printf(out, "    return %s(%.*s);\n}\n", e->fn[ENTRY_VALUE], (int)strlen(args) - 2, args);
    free(roots);
    free(into);
}

/* Whether loop lp's iteration's nodes roots[0..n) read its index or a load (not only numbers
 * and the values before the loop). */
static int reads_step(const Loop *lp, const NodeId *roots, uint32_t n)
{
    const Dag *d = &lp->body->dag;
    uint8_t *reach = xrealloc(NULL, d->len);
    memset(reach, 0, d->len);
    for (uint32_t k = 0; k < n; k++)
        reach[roots[k]] = 1;
    dag_reach(d, d->len - 1, reach);
    int reads = 0;
    for (uint32_t s = 0; s <= lp->nload; s++)
        reads |= reach[lp->body->input[s]];
    free(reach);
    return reads;
}

int matrix_band_pull(const DefOut *e)
{
    const Func *f = e->s.f;
    int q = -1;
    if (!f->band.elements || e->opt->csc)
        return -1;
    for (int p = 0; p < f->nparams; p++)
        if (f->params[p].kind == PARAM_DIFF) {
            if (q >= 0)
                return -1;
            q = p;
        }
    for (uint32_t k = 0; k < f->band.npairs; k++) {
        const BandPair *bp = &f->band.pair[k];
        const Loop *lp = &f->loops[bp->loop];
        if (!pair_direct(f, k) || lp->load[bp->a].at.c[0] != 1 || lp->load[bp->b].at.c[0] != 1)
            return -1;
    }
    return q;
}

/* hess-sparse row by row (matrix_band_pull: one array q): for each row, each term that meets
 * it computes its second derivatives at its step (the row less its load's offset), added
 * into the row's entries, which are stored in the pattern's order as the walk finds them
 * (no products, no work array); the value the function's. */
static void put_band_pull(Emitter *em, const DefOut *e, const Entry *entry, const char *args,
                          int q)
{
    const Func *f = e->s.f;
    const char *const *v = e->band_var, *real = real_type[e->opt->compile.real];
    Buf *out = em->out;
    uint32_t *order, n = half_order(f, q, 0, &order), ng = 0;
    uint32_t *group = xrealloc(NULL, (n + 1) * sizeof *group);
    for (uint32_t m = 0; m < n; m++) {
        ng += group_start(f, order, m);
        group[m] = ng - 1;
    }
    buf_printf(out, "    (void)%s;\n", e->s.work);
    if (n)
        buf_printf(out, "    long %s = 0;\n", v[V_COUNT]);
    else
        buf_printf(out, "    (void)%s;\n", e->s.hess_nz);
    Body fb;
    put_terms_values(em, e, &fb);
    if (n) {
        put_bounds(out, e, order, n, v[V_FROM], 0, "    ");
        put_bounds(out, e, order, n, v[V_TO], 1, "    ");
        Affine l = param_length(&f->params[q]);
        Buf len = {0}, t = {0}, head = {0};
        print_affine(&len, e, "", &l);
        buf_printf(out, "    for (long %s = 0; %s < %s; %s++) {\n", v[V_R], v[V_R], len.data,
                   v[V_R]);
        buf_printf(out, "        %s %s[%u] = {%s};\n", real, v[V_VALUE], ng,
                   literal_zero[e->opt->compile.real]);
        NodeId *roots = xrealloc(NULL, (n + 1) * sizeof *roots);
        const char **into = xrealloc(NULL, (n + 1) * sizeof *into);
        uint8_t *done = xrealloc(NULL, n + 1);
        memset(done, 0, n + 1);
        /* the pairs of one loop and row load: one step's Hessian, under one condition */
        for (uint32_t m = 0; m < n; m++) {
            if (done[m])
                continue;
            const BandPair *bm = &f->band.pair[order[m]];
            const Load *ra = &f->loops[bm->loop].load[bm->a];
            uint32_t cnt = 0;
            for (uint32_t j = m; j < n; j++) {
                const BandPair *bj = &f->band.pair[order[j]];
                if (done[j] || bj->loop != bm->loop ||
                    memcmp(&f->loops[bj->loop].load[bj->a].at, &ra->at, sizeof ra->at) != 0)
                    continue;
                done[j] = 1;
                roots[cnt] = pair_node(f, order[j]);
                t.len = 0;
                buf_printf(&t, "%s[%u]", v[V_VALUE], group[j]);
                into[cnt++] = arena_strndup(e->s.arena, t.data, t.len);
            }
            Affine rest = ra->at;
            rest.c[0] = 0;
            t.len = 0;
            put_minus(&t, e, v[V_R], &rest);
            head.len = 0;
            buf_printf(&head, "        if (%s >= %s[%u] && %s <= %s[%u]) {\n", v[V_R],
                       v[V_FROM], m, v[V_R], v[V_TO], m);
            if (reads_step(&f->loops[bm->loop], roots, cnt))
                buf_printf(&head, "            const long %s = %s;\n", e->loop_var[bm->loop],
                           t.data);
            loops_put_step(em, e, entry, &fb, (int)bm->loop, roots, into, cnt, head.data,
                           "        ");
        }
        /* the row's entries that some term meets, in the pattern's order */
        for (uint32_t m = 0; m < n; m++) {
            if (!group_start(f, order, m))
                continue;
            buf_puts(out, "        if (");
            for (uint32_t j = m; j < n && group[j] == group[m]; j++)
                buf_printf(out, "%s(%s >= %s[%u] && %s <= %s[%u])", j > m ?
                           " ||\n            " : "", v[V_R], v[V_FROM], j, v[V_R], v[V_TO], j);
            buf_printf(out, ")\n            %s[%s++] = %s[%u];\n", e->s.hess_nz, v[V_COUNT],
                       v[V_VALUE], group[m]);
        }
        buf_puts(out, "    }\n");
        free(roots);
        free(into);
        free(done);
        buf_free(&len);
        buf_free(&t);
        buf_free(&head);
    }
    body_free(&fb);
    buf_printf(out, "    return %s(%.*s);\n}\n", e->fn[ENTRY_VALUE], (int)strlen(args) - 2, args);
    free(order);
    free(group);
}


void matrix_put_band(Emitter *em, const DefOut *e, const Entry *entry)
{
    Buf *out = em->out;
    const Func *f = e->s.f;
    const Band *b = &f->band;
    const char *const *v = e->band_var;
    const char *real = real_type[e->opt->compile.real];
    EntryKind ck = func_columns(f, entry->kind);
    const char *nz = b->jac ? e->s.jac_nz : e->s.hess_nz;
    Buf args = {0};
    put_size_args(&args, e);
    for (int p = 0; p < f->nparams; p++)
        buf_printf(&args, "%s, ", e->s.param[p]);
    Affine l = matrix_diff_length(f);
    Buf len = {0}, rows = {0};
    print_affine(&len, e, "", &l);
    put_band_rows(&rows, e);
    buf_puts(out, "{\n");
    int pull = matrix_band_pull(e);
    if (pull >= 0 || b->elements) {
        if (pull >= 0)
            put_band_pull(em, e, entry, args.data, pull);
        else
            put_band_elements(em, e, entry, args.data, rows.data);
        buf_free(&args);
        buf_free(&len);
        buf_free(&rows);
        return;
    }
    if (!b->ncolours) { /* no derivative: no product (and the helper is not called) */
        buf_printf(out, "    (void)%s;\n    (void)%s;\n    (void)%s;\n", nz, e->s.work, e->fn[ck]);
        if (b->jac)
            buf_printf(out, "    %s(%s%s);\n}\n", e->fn[ENTRY_VALUE], args.data, e->s.out);
        else
            buf_printf(out, "    return %s(%.*s);\n}\n", e->fn[ENTRY_VALUE],
                       (int)args.len - 2, args.data);
        buf_free(&args);
        buf_free(&len);
        buf_free(&rows);
        return;
    }
    buf_printf(out, "    const long %s = %s, %s = %s;\n", v[V_LEN], len.data, v[V_ROWS],
               rows.data);
    if (!b->jac)
        buf_printf(out, "    %s %s = %s;\n", real, v[V_T], literal_zero[e->opt->compile.real]);
    /* the direction: zeros, but for the elements of colour a while its product is made */
    buf_printf(out, "    for (long %s = 0; %s < %s; %s++)\n        %s[%s] = %s;\n", v[V_R], v[V_R],
               v[V_LEN], v[V_R], e->s.work, v[V_R], literal_zero[e->opt->compile.real]);
    buf_printf(out, "    for (long %s = 0; %s < %u; %s++) {\n", v[V_A], v[V_A], b->ncolours,
               v[V_A]);
    Buf set = {0};
    for (int p = 0; p < f->nparams; p++) {
        if (f->params[p].kind != PARAM_DIFF || !b->colours[p])
            continue;
        Affine o = diff_start(f, p), pl = param_length(&f->params[p]);
        Buf start = {0}, plen = {0};
        put_plus(&start, e, &o);
        print_affine(&plen, e, "", &pl);
        uint32_t c0 = colour_start(f, p); /* colour a's elements of p, every colours[p] */
        buf_puts(&set, "        ");
        if (b->colours[p] < b->ncolours)
            buf_printf(&set, "if (%s >= %u && %s < %u)\n            ", v[V_A], c0, v[V_A],
                       c0 + b->colours[p]);
        buf_printf(&set, "for (long %s = %s", v[V_R], v[V_A]);
        if (c0)
            buf_printf(&set, " - %u", c0);
        buf_printf(&set, "; %s < %s; %s += %u)\n", v[V_R], plen.data, v[V_R], b->colours[p]);
        buf_printf(&set, "%s            %s[%s%s] = @;\n", b->colours[p] < b->ncolours ? "    " :
                   "", e->s.work, start.data, v[V_R]);
        buf_free(&start);
        buf_free(&plen);
    }
    /* the call: the direction from work, the product after it and the products before */
    Buf call = {0};
    buf_printf(&call, "%s(%s", e->fn[ck], args.data);
    Entry ce;
    sched_entry(&e->s, ck, &ce);
    for (int i = 0; i < ce.nargs; i++) {
        const Arg *ar = &ce.args[i];
        Buf start = {0};
        buf_putn(&start, "", 0);
        if (ar->param >= 0) {
            Affine o = diff_start(f, ar->param);
            put_plus(&start, e, &o);
        }
        if (ar->param >= 0 && !ar->out && !ar->array) /* an input of one scalar */
            buf_printf(&call, "%s[%.*s]", e->s.work, start.len ? (int)start.len - 3 : 1,
                       start.len ? start.data : "0");
        else if (ar->param >= 0 && !ar->out && start.len)
            buf_printf(&call, "%s + %.*s", e->s.work, (int)start.len - 3, start.data);
        else if (ar->param >= 0 && !ar->out)
            buf_puts(&call, e->s.work);
        else if (ar->name == e->s.out)
            buf_puts(&call, e->s.out);
        else
            buf_printf(&call, "%s + %s%s + %s * %s", e->s.work, start.data, v[V_LEN], v[V_ROWS],
                       v[V_A]);
        buf_puts(&call, i + 1 < ce.nargs ? ", " : ")");
        buf_free(&start);
    }
    entry_free(&ce);
    for (int value = 1; value >= 0; value--) { /* set, product, reset */
        for (const char *c = set.data; c && *c; c++)
            if (*c == '@')
                buf_puts(out, (value ? literal_one : literal_zero)[e->opt->compile.real]);
            else
                buf_putn(out, c, 1);
        if (value && b->jac)
            buf_printf(out, "        %s;\n", call.data);
        else if (value)
            buf_printf(out, "        %s = %s;\n", v[V_T], call.data);
    }
    buf_puts(out, "    }\n");
    buf_free(&set);
    buf_printf(out, "    %s(", e->col[entry->kind]);
    put_size_args(out, e);
    buf_printf(out, "0, 0, %s, %s + %s);\n", nz, e->s.work, v[V_LEN]);
    if (!b->jac)
        buf_printf(out, "    return %s;\n", v[V_T]);
    buf_puts(out, "}\n");
    buf_free(&call);
    buf_free(&args);
    buf_free(&len);
    buf_free(&rows);
}
