/*
 * sparse.c: the Jacobian and the Hessian of a definition, as few compressed sweeps. Input: a
 * Func being differentiated by modes.c (its gradient built first for the Hessian). Output: in
 * f->mode[ENTRY_JAC] and f->mode[ENTRY_HESS], the structural nonzeros with the node computing
 * each, and the number of sweeps that computed them.
 *
 * The pattern is what the sweeps themselves build: a tangent or an adjoint that no term
 * reached is no node, so an entry is structurally zero exactly when the sweep from its column
 * (or row) makes nothing there. The columns (rows) are then colored greedily so that two of
 * one color never share a row (column), and one sweep per color seeded with all of its
 * columns gives every entry directly (distance-2 coloring, as in Curtis, Powell and Reid).
 * Invariants: forward sweeps visit only the cone of their seeds (modes.h); a scalar's
 * Jacobian is its gradient's one reverse sweep, to the bit.
 */
#include <stdlib.h>
#include <string.h>

#include "modes.h"

/* ---- patterns and their coloring --------------------------------------------------------- */

/* A pattern as lists: per line (row or column) the ascending indices of its nonzeros. */
typedef struct {
    uint32_t n;
    uint32_t *start;  /* line i: idx[start[i] .. start[i + 1]) */
    uint32_t *idx;
    uint32_t len, cap;
} Lines;

static void lines_add(Lines *l, uint32_t i)
{
    if (l->len == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->idx = xrealloc(l->idx, l->cap * sizeof *l->idx);
    }
    l->idx[l->len++] = i;
}

/* Starts line l->n (call after its last one's entries). */
static void lines_next(Lines *l)
{
    l->start = xrealloc(l->start, (l->n + 2) * sizeof *l->start);
    if (l->n == 0)
        l->start[0] = 0;
    l->start[++l->n] = l->len;
}

static void lines_free(Lines *l)
{
    free(l->start);
    free(l->idx);
}

/* The transpose of a pattern of lines over `other` indices. */
static Lines transpose(const Lines *l, uint32_t other)
{
    Lines t = {0};
    t.n = other;
    t.start = xrealloc(NULL, (other + 1) * sizeof *t.start);
    memset(t.start, 0, (other + 1) * sizeof *t.start);
    for (uint32_t k = 0; k < l->len; k++)
        t.start[l->idx[k] + 1]++;
    for (uint32_t i = 0; i < other; i++)
        t.start[i + 1] += t.start[i];
    t.len = t.cap = l->len;
    t.idx = xrealloc(NULL, (t.len + 1) * sizeof *t.idx);
    uint32_t *fill = xrealloc(NULL, (other + 1) * sizeof *fill);
    memcpy(fill, t.start, (other + 1) * sizeof *fill);
    for (uint32_t i = 0; i < l->n; i++)
        for (uint32_t k = l->start[i]; k < l->start[i + 1]; k++)
            t.idx[fill[l->idx[k]]++] = i;
    free(fill);
    return t;
}

/* Colors the lines of `lines` (each a list of `cross` indices; `cross` lists per cross index
 * the lines through it) so that no two lines of a color share a cross index. Returns the
 * number of colors; color[i] per line. */
static uint32_t color_lines(const Lines *lines, const Lines *cross, uint32_t *color)
{
    uint32_t ncolors = 0;
    uint32_t *seen = xrealloc(NULL, (lines->n + 1) * sizeof *seen);
    memset(seen, 0, (lines->n + 1) * sizeof *seen);
    for (uint32_t i = 0; i < lines->n; i++) {
        /* seen[c] == i + 1: color c is taken by a line sharing a cross index with line i */
        for (uint32_t k = lines->start[i]; k < lines->start[i + 1]; k++) {
            uint32_t x = lines->idx[k];
            for (uint32_t m = cross->start[x]; m < cross->start[x + 1]; m++)
                if (cross->idx[m] < i)
                    seen[color[cross->idx[m]]] = i + 1;
        }
        uint32_t c = 0;
        while (seen[c] == i + 1)
            c++;
        color[i] = c;
        if (c + 1 > ncolors)
            ncolors = c + 1;
    }
    free(seen);
    return ncolors;
}

/* ---- Jacobians and Hessians -------------------------------------------------------------- */

/* What a compressed matrix is made of: targets (the roots of a Jacobian, the gradient of a
 * Hessian) as rows, the differentiated scalars as columns. */
typedef struct {
    Func *f;
    const NodeId *target;
    uint32_t rows;
    Cone cone;
} Matrix;

/* Per column: the rows whose target its forward sweep reaches. */
static Lines forward_pattern(Matrix *m)
{
    Func *f = m->f;
    Lines cols = {0};
    NodeId one = dag_const(&f->dag, 1.0);
    NodeId *seeds = new_ids(f->nslots);
    for (uint32_t j = 0; j < f->ndiff; j++) {
        seeds[f->diff[j]] = one;
        cone_sweep(&m->cone, &f->diff[j], 1, f->input, seeds);
        for (uint32_t i = 0; i < m->rows; i++)
            if (m->target[i] < m->cone.n && nonzero(&f->dag, m->cone.tan[m->target[i]]))
                lines_add(&cols, i);
        lines_next(&cols);
        cone_clear(&m->cone);
        seeds[f->diff[j]] = 0;
    }
    free(seeds);
    return cols;
}

/* Per row (a root of f): the columns its reverse sweep reaches. */
static Lines reverse_pattern(Func *f, uint8_t *wrt)
{
    Lines rows = {0};
    NodeId one = dag_const(&f->dag, 1.0);
    for (int r = 0; r < f->nroots; r++) {
        NodeMap adj;
        reverse_sweep(&f->dag, 1, &f->roots[r], &one, wrt, &adj);
        for (uint32_t j = 0; j < f->ndiff; j++)
            if (nonzero(&f->dag, adj.of[f->input[f->diff[j]]]))
                lines_add(&rows, j);
        lines_next(&rows);
        nodemap_free(&adj);
    }
    return rows;
}

/* The nonzeros of the pattern `rows` (per row its columns) into s, row by row, the lower
 * triangle only when `lower`. */
static void sparse_from(Sparse *s, const Lines *rows, int lower)
{
    s->nnz = 0;
    for (uint32_t i = 0; i < rows->n; i++)
        for (uint32_t k = rows->start[i]; k < rows->start[i + 1]; k++)
            s->nnz += !lower || rows->idx[k] <= i;
    s->row = xrealloc(NULL, (s->nnz + 1) * sizeof *s->row);
    s->col = xrealloc(NULL, (s->nnz + 1) * sizeof *s->col);
    s->node = new_ids(s->nnz);
    uint32_t n = 0;
    for (uint32_t i = 0; i < rows->n; i++)
        for (uint32_t k = rows->start[i]; k < rows->start[i + 1]; k++)
            if (!lower || rows->idx[k] <= i) {
                s->row[n] = i;
                s->col[n++] = rows->idx[k];
            }
}

/* Forward sweeps, one per color of columns (color[j], groups of them): entry (i, j) is row
 * i's tangent in j's sweep. */
static void forward_compressed(Matrix *m, const uint32_t *color, uint32_t groups, Sparse *s)
{
    Func *f = m->f;
    s->groups = groups;
    s->reverse = 0;
    NodeId one = dag_const(&f->dag, 1.0);
    NodeId *seeds = new_ids(f->nslots);
    uint32_t *slots = new_ids(f->ndiff);
    for (uint32_t c = 0; c < s->groups; c++) {
        uint32_t n = 0;
        for (uint32_t j = 0; j < f->ndiff; j++)
            if (color[j] == c) {
                slots[n++] = f->diff[j];
                seeds[f->diff[j]] = one;
            }
        cone_sweep(&m->cone, slots, n, f->input, seeds);
        for (uint32_t k = 0; k < s->nnz; k++)
            if (color[s->col[k]] == c)
                s->node[k] = m->cone.tan[m->target[s->row[k]]];
        cone_clear(&m->cone);
        for (uint32_t k = 0; k < n; k++)
            seeds[slots[k]] = 0;
    }
    free(seeds);
    free(slots);
}

/* Reverse sweeps, one per color of rows (roots of f; color[r], groups of them). */
static void reverse_compressed(Func *f, const uint32_t *color, uint32_t groups, uint8_t *wrt,
                               Sparse *s)
{
    s->groups = groups;
    s->reverse = 1;
    NodeId *roots = new_ids((uint32_t)f->nroots), *seeds = new_ids((uint32_t)f->nroots);
    NodeId one = dag_const(&f->dag, 1.0);
    for (uint32_t c = 0; c < s->groups; c++) {
        int n = 0;
        for (int r = 0; r < f->nroots; r++)
            if (color[r] == c) {
                roots[n] = f->roots[r];
                seeds[n++] = one;
            }
        NodeMap adj;
        reverse_sweep(&f->dag, n, roots, seeds, wrt, &adj);
        for (uint32_t k = 0; k < s->nnz; k++)
            if (color[s->row[k]] == c)
                s->node[k] = adj.of[f->input[f->diff[s->col[k]]]];
        nodemap_free(&adj);
    }
    free(roots);
    free(seeds);
}

/* The pattern and nodes of the Jacobian: reverse sweeps over rows when there are fewer rows
 * than columns (so a scalar's Jacobian is its gradient's one sweep), else forward sweeps
 * over columns; either compressed by the coloring of the fewer groups. */
void modes_jacobian(Func *f)
{
    uint8_t *wrt = diff_mask(f);
    Lines rows, cols;
    Matrix m = {f, f->roots, (uint32_t)f->nroots, {0}};
    int by_rows = (uint32_t)f->nroots < f->ndiff;
    cone_init(&m.cone, &f->dag, f->roots, (uint32_t)f->nroots);
    begin_sweep(f, by_rows ? "reverse sweeps (eq. 5.145)" : "tangent sweeps (eq. 5.121)");
    if (by_rows) {
        rows = reverse_pattern(f, wrt);
        cols = transpose(&rows, f->ndiff);
    } else {
        cols = forward_pattern(&m);
        rows = transpose(&cols, (uint32_t)f->nroots);
    }
    Sparse *jac = &f->mode[ENTRY_JAC].sparse;
    sparse_from(jac, &rows, 0);
    uint32_t *col_color = new_ids(f->ndiff), *row_color = new_ids((uint32_t)f->nroots);
    uint32_t col_groups = color_lines(&cols, &rows, col_color);
    uint32_t row_groups = color_lines(&rows, &cols, row_color);
    /* a tie goes to reverse sweeps when there are fewer rows (so a scalar's Jacobian is its
     * gradient, to the bit) */
    if (row_groups < col_groups || (row_groups == col_groups && f->nroots <= (int)f->ndiff))
        reverse_compressed(f, row_color, row_groups, wrt, jac);
    else
        forward_compressed(&m, col_color, col_groups, jac);
    free(col_color);
    free(row_color);
    cone_free(&m.cone);
    lines_free(&rows);
    lines_free(&cols);
    free(wrt);
}

uint32_t sparse_find(const Sparse *s, uint32_t i, uint32_t j)
{
    uint32_t lo = 0, hi = s->nnz;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->row[mid] < i || (s->row[mid] == i && s->col[mid] < j))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->nnz && s->row[lo] == i && s->col[lo] == j ? lo : s->nnz;
}

/* The Hessian's lower triangle, forward over reverse: the tangents of the gradient in sweeps
 * over groups of columns. Entry (i, j) of the lower triangle is taken from column j's sweep,
 * or from column i's when only (j, i) is in the pattern; the full Hessian mirrors it, so it
 * is exactly symmetric. */
void modes_hessian(Func *f)
{
    NodeId *g = gradient_targets(f);
    Matrix m = {f, g, f->ndiff, {0}};
    begin_sweep(f, "tangent sweeps of both (forward over reverse)");
    cone_init(&m.cone, &f->dag, g, f->ndiff);
    Lines cols = forward_pattern(&m), rows = transpose(&cols, f->ndiff);
    /* symmetric closure: (i, j) or (j, i) makes both */
    Lines both = {0};
    uint8_t *mark = xrealloc(NULL, f->ndiff + 1);
    memset(mark, 0, f->ndiff + 1);
    for (uint32_t i = 0; i < f->ndiff; i++) {
        for (uint32_t k = rows.start[i]; k < rows.start[i + 1]; k++)
            mark[rows.idx[k]] = 1;
        for (uint32_t k = cols.start[i]; k < cols.start[i + 1]; k++)
            mark[cols.idx[k]] = 1;
        for (uint32_t j = 0; j < f->ndiff; j++)
            if (mark[j]) {
                lines_add(&both, j);
                mark[j] = 0;
            }
        lines_next(&both);
    }
    free(mark);
    Sparse full = {0};
    sparse_from(&full, &rows, 0);
    uint32_t *color = new_ids(f->ndiff);
    forward_compressed(&m, color, color_lines(&cols, &rows, color), &full);
    free(color);
    Sparse *hess = &f->mode[ENTRY_HESS].sparse;
    sparse_from(hess, &both, 1);
    hess->groups = full.groups;
    /* each lower entry from the computed one at (i, j), else at (j, i) */
    for (uint32_t k = 0; k < hess->nnz; k++) {
        uint32_t i = hess->row[k], j = hess->col[k], a = sparse_find(&full, i, j);
        if (a == full.nnz)
            a = sparse_find(&full, j, i);
        hess->node[k] = full.node[a];
    }
    free(full.row);
    free(full.col);
    free(full.node);
    cone_free(&m.cone);
    lines_free(&rows);
    lines_free(&cols);
    lines_free(&both);
    free(g);
}

