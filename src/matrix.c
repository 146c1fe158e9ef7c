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

/* The number of values of a returned map, its loop's steps times its values a step, plus
 * `plus`: "2 * n - 1". */
void matrix_put_values_count(Buf *out, const DefOut *e, int64_t plus)
{
    const Loop *lp = &e->s.f->loops[e->s.f->result_loop - 1];
    Affine count = lp->hi;
    for (int s = 0; s <= MAX_SIZES; s++)
        count.c[s] = (count.c[s] - lp->lo.c[s]) * lp->result;
    count.k = (count.k - lp->lo.k + 1) * lp->result + plus;
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

/* The offset of parameter p's first scalar among the differentiated ones. */
static uint32_t diff_offset(const Func *f, int p)
{
    uint32_t off = 0;
    for (int i = 0; i < p; i++)
        off += f->params[i].kind == PARAM_DIFF ? f->params[i].size : 0;
    return off;
}

/* The body of a Jacobian or a Hessian of a definition with kept loops: per differentiated
 * scalar, one call of the entry point whose columns make it (jvp, hvp) along that scalar's
 * unit direction, its column stored; a Hessian's upper triangle is then its lower one
 * mirrored, so that it is exactly symmetric. */
void matrix_put_columns(Buf *out, const DefOut *e, const Entry *entry)
{
    const Func *f = e->s.f;
    EntryKind ck = func_columns(f, entry->kind);
    int hess = entry->kind == ENTRY_HESS;
    uint32_t n = f->ndiff, rows = hess ? n : (uint32_t)f->nroots;
    const char *real = real_type[e->opt->compile.real], *mat = hess ? e->s.hess : e->s.jac;
    /* a returned map's column: jvp stores each value, then its tangent, through out */
    const char *dir = e->col_var[0], *col = f->result_loop ? e->s.out : e->col_var[1];
    const char *i = e->col_var[2];
    const char *value = e->col_var[3], *j = e->index;
    static const char *const one[] = {"1.0", "1.0f", "1.0L"}, *const zero[] = {"0.0", "0.0f",
                                                                               "0.0L"};
    Entry ce;
    sched_entry(&e->s, ck, &ce);
    Buf call = {0};
    for (int k = 0; k < f->nsizes; k++)
        buf_printf(&call, "%s, ", e->s.size[k]);
    for (int p = 0; p < f->nparams; p++)
        buf_printf(&call, "%s, ", e->s.param[p]);
    for (int a = 0; a < ce.nargs; a++) {
        const Arg *ar = &ce.args[a];
        uint32_t off = ar->param >= 0 ? diff_offset(f, ar->param) : 0;
        if (ar->param >= 0 && !ar->out && !ar->array)
            buf_printf(&call, "%s[%u]", dir, off);
        else if (ar->param >= 0 && off)
            buf_printf(&call, "%s + %u", ar->out ? col : dir, off);
        else if (ar->param >= 0)
            buf_puts(&call, ar->out ? col : dir);
        else
            buf_puts(&call, ar->name == e->s.out || ar->name == e->s.work ? ar->name : col);
        buf_puts(&call, a + 1 < ce.nargs ? ", " : "");
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
        buf_printf(&args, "%s%s", args.len ? ", " : "", e->s.work);
    buf_puts(out, "{\n");
    if (f->vector && !f->result_loop)
        buf_printf(out, "    %s(%s);\n", e->fn[ENTRY_VALUE], args.data);
    else if (!f->vector)
        buf_printf(out, "    const %s %s = %s(%s);\n", real, value, e->fn[ENTRY_VALUE],
                   args.data);
    if (f->result_loop) /* a column of run-time length: out, whose values come last */
        buf_printf(out, "    %s %s[%u];\n", real, dir, n ? n : 1);
    else
        buf_printf(out, "    %s %s[%u], %s[%u];\n", real, dir, n ? n : 1, col, rows ? rows : 1);
    buf_printf(out, "    for (long %s = 0; %s < %u; %s++) {\n", j, j, n, j);
    buf_printf(out, "        for (long %s = 0; %s < %u; %s++)\n", i, i, n, i);
    buf_printf(out, "            %s[%s] = %s == %s ? %s : %s;\n", dir, i, i, j,
               one[e->opt->compile.real], zero[e->opt->compile.real]);
    buf_printf(out, "        %s(%s);\n", e->fn[ck], call.data);
    buf_printf(out, "        for (long %s = 0; %s < ", i, i);
    if (f->result_loop)
        matrix_put_values_count(out, e, 0);
    else
        buf_printf(out, "%u", rows);
    buf_printf(out, "; %s++)\n            %s[%s * %u + %s] = %s[%s];\n    }\n", i, mat, i, n, j,
               col, i);
    if (f->result_loop)
        buf_printf(out, "    %s(%s);\n", e->fn[ENTRY_VALUE], args.data);
    buf_free(&args);
    if (hess)
        buf_printf(out, "    for (long %s = 0; %s < %u; %s++)\n        for (long %s = 0; %s < %s; "
                        "%s++)\n            %s[%s * %u + %s] = %s[%s * %u + %s];\n", j, j, n, j,
                   i, i, j, i, mat, i, n, j, mat, j, n, i);
    if (!f->vector)
        buf_printf(out, "    return %s;\n", value);
    buf_free(&call);
    buf_puts(out, "}\n");
}

