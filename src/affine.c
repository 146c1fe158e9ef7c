/*
 * affine.c: the integers of indices, ranges and sizes, and the proofs that indices stay in
 * bounds. Input: an expression of the syntax tree in the lowering's scope. Output: its affine
 * form k + c[0] i + c[1] n_0 + ... in the variable i of the kept loop being lowered and the
 * run-time sizes n_s (an Affine), or a located error; the form as the source would write it;
 * and whether a form stays within bounds over a kept loop's whole range for every value of
 * the sizes (Farkas' lemma). Invariants: every constant and coefficient stays within 2^52 in
 * magnitude (exact in a double, far from overflow); a product has a constant factor.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sema.h"

#define INT_LIMIT 4503599627370496.0 /* 2^52: integers exact in a double, and far from overflow */

int affine_is_const(const Affine *a)
{
    for (int j = 0; j <= MAX_SIZES; j++)
        if (a->c[j] || (j < MAX_SIZES && (a->cv[j] || a->ov[j])))
            return 0;
    return a->o == 0;
}

Affine affine_num(int64_t k)
{
    Affine a;
    memset(&a, 0, sizeof a);
    a.k = k;
    return a;
}

/* a + m b */
Affine affine_add(Affine a, const Affine *b, int64_t m)
{
    a.k += m * b->k;
    for (int j = 0; j <= MAX_SIZES; j++)
        a.c[j] += m * b->c[j];
    for (int j = 0; j < MAX_SIZES; j++) {
        a.cv[j] += m * b->cv[j];
        a.ov[j] += m * b->ov[j];
    }
    a.o += m * b->o;
    return a;
}

int affine_times_size(const Affine *a, int s, Affine *out)
{
    *out = affine_num(0);
    for (int j = 1; j <= MAX_SIZES; j++)
        if (a->c[j] || a->cv[j - 1] || a->ov[j - 1])
            return 0;
    out->c[1 + s] = a->k;
    out->cv[s] = a->c[0];
    out->ov[s] = a->o;
    return 1;
}

int affine_eq(const Affine *a, const Affine *b)
{
    Affine d = affine_add(*a, b, -1);
    return d.k == 0 && affine_is_const(&d);
}

/* a with the kept loop's variable replaced by v (v in the sizes only). */
static Affine aff_at(const Affine *a, const Affine *v)
{
    Affine r = *a;
    r.c[0] = 0;
    return affine_add(r, v, a->c[0]);
}

static int aff_too_large(const Affine *a)
{
    if (fabs((double)a->k) > INT_LIMIT || fabs((double)a->o) > INT_LIMIT)
        return 1;
    for (int j = 0; j < MAX_SIZES; j++)
        if (fabs((double)a->cv[j]) > INT_LIMIT || fabs((double)a->ov[j]) > INT_LIMIT)
            return 1;
    for (int j = 0; j <= MAX_SIZES; j++)
        if (fabs((double)a->c[j]) > INT_LIMIT)
            return 1;
    return 0;
}

/* ---- evaluation --------------------------------------------------------------------------- */

/* An index or bound: integer arithmetic (+ - *, unary minus, parentheses) over numbers, integer
 * constants, loop variables and run-time sizes, affine in the kept loop's variable and the
 * sizes. Returns 0 after an error. Depth-limited recursion: such an expression is written by
 * hand and short. */
int affine_eval(Lower *L, const Ast *e, Affine *out, int depth)
{
    if (depth > 100) {
        diag_error(L->diag, e->loc, "index expression nested too deeply");
        return 0;
    }
    double v = 0;
    Affine a, b;
    switch (e->kind) {
    case A_NUM:
        v = e->num;
        break;
    case A_VAR: {
        Binding *bd = scope_lookup(&L->scope, e->name, lower_frame(L));
        if (!bd) {
            diag_error(L->diag, e->loc, "unknown constant '%s'", e->name);
            return 0;
        }
        if (bd->kind != B_LOOP && bd->kind != B_CONST && bd->kind != B_SIZE) {
            diag_error(L->diag, e->loc, "'%s' in an index, bound or size: only numbers, "
                                        "constants and loop variables may appear there",
                       e->name);
            return 0;
        }
        if (bd->failed)
            return 0;
        if (bd->used)
            *bd->used = 1;
        if (bd->kind != B_CONST) {
            *out = bd->aff;
            return 1;
        }
        v = bd->value;
        break;
    }
    case A_POS:
        return affine_eval(L, e->lhs, out, depth + 1);
    case A_NEG:
        if (!affine_eval(L, e->lhs, &a, depth + 1))
            return 0;
        *out = affine_add(affine_num(0), &a, -1);
        return 1;
    case A_ADD: case A_SUB: case A_MUL:
        if (!affine_eval(L, e->lhs, &a, depth + 1) || !affine_eval(L, e->rhs, &b, depth + 1))
            return 0;
        if (e->kind == A_MUL) {
            if (!affine_is_const(&a) && !affine_is_const(&b)) {
                diag_error(L->diag, e->loc, "a product of two values known only at run time "
                                            "(sizes, or the variable of a loop over a run-time "
                                            "range): an index or bound is linear in them");
                return 0;
            }
            if (!affine_is_const(&a)) {
                Affine t = a;
                a = b;
                b = t;
            }
            int big = fabs((double)a.k * (double)b.k) > INT_LIMIT;
            for (int j = 0; j <= MAX_SIZES; j++)
                big = big || fabs((double)a.k * (double)b.c[j]) > INT_LIMIT;
            big = big || fabs((double)a.k * (double)b.o) > INT_LIMIT;
            if (big) {
                diag_error(L->diag, e->loc, "an index, bound or size is too large");
                return 0;
            }
            *out = affine_add(affine_num(0), &b, a.k);
        } else {
            *out = affine_add(a, &b, e->kind == A_ADD ? 1 : -1);
        }
        if (aff_too_large(out)) {
            diag_error(L->diag, e->loc, "an index, bound or size is too large");
            return 0;
        }
        return 1;
    case A_DIV: case A_POW: case A_CMP: case A_AND: case A_OR: case A_NOT: case A_CALL:
    case A_INDEX: case A_RANGE: case A_LIST:
        diag_error(L->diag, e->loc, "an index, bound or size is integer arithmetic: + - * of "
                                    "numbers, constants and loop variables");
        return 0;
    }
    if (fabs(v) > INT_LIMIT) {
        diag_error(L->diag, e->loc, "an index, bound or size of %.17g is too large", v);
        return 0;
    }
    if (v != floor(v)) {
        diag_error(L->diag, e->loc, "an index, bound or size must be an integer, not %.17g", v);
        return 0;
    }
    *out = affine_num((int64_t)v);
    return 1;
}

/* The indices of e (an A_INDEX or S_ELEM's list) into idx; those that are numbers checked
 * against the array. */
int affine_indices(Lower *L, const Array *a, const Ast *first, int n, Loc loc, Affine *idx)
{
    if (n != a->rank) {
        diag_error(L->diag, loc, "'%s' has %d ind%s, but %d %s given", a->name, a->rank,
                   a->rank == 1 ? "ex" : "ices", n, n == 1 ? "was" : "were");
        return 0;
    }
    int i = 0;
    for (const Ast *x = first; x; x = x->next, i++) {
        if (!affine_eval(L, x, &idx[i], 0))
            return 0;
        if (!affine_is_const(&idx[i]))
            continue;
        int64_t v = idx[i].k;
        int bounded = a->param && (i > 0 || a->param->rt_size < 0) &&
                      !(i == 1 && a->param->rt_size2 >= 0);
        if (v < 0 || (bounded && v >= a->dims[i])) {
            if (bounded)
                diag_error(L->diag, x->loc, "index %lld is out of bounds: '%s' has indices "
                                            "0..%lld there", (long long)v, a->name,
                           (long long)a->dims[i] - 1);
            else
                diag_error(L->diag, x->loc, "index %lld is negative", (long long)v);
            return 0;
        }
    }
    return 1;
}

/* ---- printing and range proofs ------------------------------------------------------------ */

/* a as the source would write it: "N - 1", "2*i + 1". */
void affine_put(Buf *t, const Lower *L, const Affine *a)
{
    func_put_affine(t, a, L->kept->var, L->kept->ovar, L->f->size, "*");
}

/* Whether e >= 0 for all sizes >= 0 with g >= 0 (e and g in the sizes only). By Farkas'
 * lemma this holds (when some sizes satisfy g >= 0) exactly when e - l g has no negative
 * coefficient for some l >= 0: an interval of l per coefficient. */
static int aff_nonneg_given(const Affine *e, const Affine *g)
{
    double lo = 0, hi = INFINITY;
    for (int j = 0; j <= MAX_SIZES; j++) {
        double ej = j == 0 ? (double)e->k : (double)e->c[j];
        double gj = j == 0 ? (double)g->k : (double)g->c[j];
        if (gj > 0)
            hi = fmin(hi, ej / gj);
        else if (gj < 0)
            lo = fmax(lo, ej / gj);
        else if (ej < 0)
            return 0;
    }
    return lo <= hi;
}

/* a with the outer loop's variable of a sum per step replaced by v (v in the sizes only). */
static Affine aff_at_outer(const Affine *a, const Affine *v)
{
    Affine r = *a;
    r.o = 0;
    return affine_add(r, v, a->o);
}

/* Whether e >= 0 for all sizes >= 0 that make kept loop k's range (in a sum per step: or the
 * outer one) non-empty: one of the two conditions at a time, which suffices for an index of
 * one of the two variables. */
static int aff_nonneg_in(const Kept *k, const Affine *e)
{
    Affine g = affine_add(k->hi, &k->lo, -1), go = affine_add(k->ohi, &k->olo, -1);
    return aff_nonneg_given(e, &g) || (k->ovar && aff_nonneg_given(e, &go));
}

/* "lo..hi" as the source writes it, for an error. */
static void put_span(Buf *t, const Lower *L, const Affine *lo, const Affine *hi)
{
    affine_put(t, L, lo);
    buf_puts(t, "..");
    affine_put(t, L, hi);
}

/* Whether e >= 0 for all sizes >= 0 with g[0] >= 0 and g[1] >= 0 (all in the sizes only): by
 * Farkas' lemma, when e - l0 g[0] - l1 g[1] has no negative coefficient for some l0, l1 >= 0.
 * Those (l0, l1) are a polygon in the quadrant, which when not empty has a corner where two of
 * its lines meet (a coefficient's bound, or an axis): each such point is tried, in exact
 * integer arithmetic (unproven when a coefficient is too large for it). */
static int aff_nonneg_given2(const Affine *e, const Affine g[2])
{
    enum { LINES = MAX_SIZES + 3, LIMIT = 1 << 20 };
    int64_t a[LINES], b[LINES], c[LINES]; /* a l0 + b l1 <= c, then the axes l0, l1 = 0 */
    for (int j = 0; j <= MAX_SIZES; j++) {
        a[j] = j ? g[0].c[j] : g[0].k;
        b[j] = j ? g[1].c[j] : g[1].k;
        c[j] = j ? e->c[j] : e->k;
        if (llabs(a[j]) > LIMIT || llabs(b[j]) > LIMIT || llabs(c[j]) > LIMIT)
            return 0;
    }
    a[LINES - 2] = b[LINES - 1] = 1;
    a[LINES - 1] = b[LINES - 2] = c[LINES - 2] = c[LINES - 1] = 0;
    for (int p = 0; p < LINES; p++)
        for (int q = p + 1; q < LINES; q++) {
            int64_t det = a[p] * b[q] - a[q] * b[p];
            if (!det)
                continue;
            /* l0 = n0 / det, l1 = n1 / det, with det > 0 */
            int64_t n0 = c[p] * b[q] - c[q] * b[p], n1 = a[p] * c[q] - a[q] * c[p];
            if (det < 0)
                det = -det, n0 = -n0, n1 = -n1;
            int ok = n0 >= 0 && n1 >= 0;
            for (int j = 0; ok && j <= MAX_SIZES; j++)
                ok = a[j] * n0 + b[j] * n1 <= c[j] * det;
            if (ok)
                return 1;
        }
    return 0;
}

/* In a sum per step whose range moves with the outer variable t (j = lo(t)..hi(t) for t =
 * olo..ohi, sum(j = 0..i, ...)), v(t, j) is linear, so it stays within bounds when it does at
 * each vertex of the polygon the range fills. Vertex w: 0..3 the corner at outer end w % 2
 * and inner end w / 2, under the conditions that the outer range and that inner one are not
 * empty; 4 where the inner range closes (lo(t) = hi(t)), when t is within the outer range,
 * everything times the closing's step s to stay in the integers. Gives v's value there times
 * *scale, and the two conditions (each >= 0); 0 when there is no such vertex (a range whose
 * width does not change closes nowhere). */
static int moving_vertex(const Kept *k, const Affine *v, int w, Affine *at, int64_t *scale,
                         Affine cond[2])
{
    Affine width = affine_add(k->hi, &k->lo, -1), end = aff_at(v, w / 2 % 2 ? &k->hi : &k->lo);
    *scale = 1;
    if (w < 4) {
        const Affine *t = w % 2 ? &k->ohi : &k->olo;
        *at = aff_at_outer(&end, t);
        cond[0] = affine_add(k->ohi, &k->olo, -1);
        cond[1] = aff_at_outer(&width, t);
        return 1;
    }
    if (!width.o)
        return 0;
    /* t* = -d0 / d1 for the width d0 + d1 t: s t* with s = |d1| */
    int64_t s = width.o < 0 ? -width.o : width.o;
    Affine d0 = width, e0 = end;
    d0.o = e0.o = 0;
    Affine st = affine_add(affine_num(0), &d0, width.o < 0 ? 1 : -1);
    *at = affine_add(affine_add(affine_num(0), &e0, s), &st, end.o);
    *scale = s;
    cond[0] = affine_add(st, &k->olo, -s);
    cond[1] = affine_add(affine_add(affine_num(0), &k->ohi, s), &st, -1);
    return 1;
}

/* Whether lo <= at / s <= hi for all sizes that make c[0] >= 0 and c[1] >= 0. */
static int vertex_in_range(const Affine *at, int64_t s, const Affine *lo, const Affine *hi,
                           const Affine c[2])
{
    Affine below = affine_add(*at, lo, -s), above = affine_add(affine_add(affine_num(0), hi, s),
                                                                at, -1);
    return aff_nonneg_given2(&below, c) && aff_nonneg_given2(&above, c);
}

/* a at the sizes, the kept loop's variable j and the outer one t */
static int64_t aff_value(const Affine *a, const int64_t *size, int64_t t, int64_t j)
{
    int64_t r = a->k + a->c[0] * j + a->o * t;
    for (int s = 0; s < MAX_SIZES; s++)
        r += (a->c[1 + s] + a->cv[s] * j + a->ov[s] * t) * size[s];
    return r;
}

/* A point of a moving range, its sizes each 0..WITNESS_MAX, where v is out of lo..hi: 1 with
 * the sizes, the step t, j and v there (ranges past WITNESS_STEPS steps are not searched). */
static int moving_witness(const Kept *k, const Affine *v, const Affine *lo, const Affine *hi,
                          int nsizes, int64_t *size, int64_t *point)
{
    enum { WITNESS_MAX = 6, WITNESS_STEPS = 256 };
    int64_t count = 1;
    for (int s = 0; s < nsizes; s++)
        count *= WITNESS_MAX + 1;
    for (int64_t m = 0; m < count; m++) {
        int64_t rest = m;
        memset(size, 0, MAX_SIZES * sizeof *size);
        for (int s = 0; s < nsizes; s++, rest /= WITNESS_MAX + 1)
            size[s] = rest % (WITNESS_MAX + 1);
        int64_t t1 = aff_value(&k->ohi, size, 0, 0), l = aff_value(lo, size, 0, 0),
                h = aff_value(hi, size, 0, 0);
        for (int64_t t = aff_value(&k->olo, size, 0, 0), n = 0; t <= t1 && n < WITNESS_STEPS;
             t++, n++) {
            int64_t j1 = aff_value(&k->hi, size, t, 0);
            for (int64_t j = aff_value(&k->lo, size, t, 0), n2 = 0; j <= j1 && n2 < WITNESS_STEPS;
                 j++, n2++) {
                int64_t x = aff_value(v, size, t, j);
                if (x < l || x > h) {
                    point[0] = t, point[1] = j, point[2] = x;
                    return 1;
                }
            }
        }
    }
    return 0;
}

/* A moving range's error: v out of lo..hi at a point the search finds (the sizes, the step and
 * the value there), else at a vertex not proven (in the sizes). */
static int moving_in_range(Lower *L, const Affine *v, const Affine *lo, const Affine *hi,
                           Loc loc, const char *what)
{
    const Kept *k = L->kept;
    int bad = -1;
    int64_t scale;
    Affine at, c[2];
    for (int w = 0; w < 5 && bad < 0; w++)
        if (moving_vertex(k, v, w, &at, &scale, c) && !vertex_in_range(&at, scale, lo, hi, c))
            bad = w;
    if (bad < 0)
        return 1;
    int64_t size[MAX_SIZES], point[3];
    int found = moving_witness(k, v, lo, hi, L->f->nsizes, size, point);
    moving_vertex(k, v, bad, &at, &scale, c);
    Buf t = {0};
    buf_printf(&t, "%s = ", k->var);
    put_span(&t, L, &k->lo, &k->hi);
    buf_printf(&t, " and %s = ", k->ovar);
    put_span(&t, L, &k->olo, &k->ohi);
    if (found) {
        buf_printf(&t, " make it %lld at %s = %lld, %s = %lld when ", (long long)point[2],
                   k->ovar, (long long)point[0], k->var, (long long)point[1]);
        for (int s = 0; s < L->f->nsizes; s++)
            buf_printf(&t, "%s%s = %lld", s ? ", " : "", L->f->size[s], (long long)size[s]);
        int64_t l = aff_value(lo, size, 0, 0), h = aff_value(hi, size, 0, 0);
        buf_printf(&t, ", outside %lld..%lld%s", (long long)l, (long long)h,
                   h < l ? " (no element)" : "");
    } else if (bad == 4) {
        buf_puts(&t, " make it (");
        affine_put(&t, L, &at);
        buf_printf(&t, ") / %lld where the range of %s closes, outside ", (long long)scale,
                   k->var);
    } else {
        const Affine *o = bad % 2 ? &k->ohi : &k->olo;
        Affine j = aff_at_outer(bad / 2 ? &k->hi : &k->lo, o);
        buf_puts(&t, " make it ");
        affine_put(&t, L, &at);
        buf_printf(&t, " at %s = ", k->ovar);
        affine_put(&t, L, o);
        buf_printf(&t, ", %s = ", k->var);
        affine_put(&t, L, &j);
        buf_puts(&t, ", outside ");
    }
    if (!found)
        put_span(&t, L, lo, hi);
    diag_error(L->diag, loc, "%s may be out of bounds for some sizes: %s", what, t.data);
    buf_free(&t);
    return 0;
}

/* Whether lo <= v(i) <= hi for every i of the kept loop's range (v affine in i and the sizes,
 * and in a sum per step the outer variable over its range; lo and hi in the sizes). When
 * not, an error names what may be out of bounds. */
int affine_in_range(Lower *L, const Affine *v, const Affine *lo, const Affine *hi,
                    Loc loc, const char *what)
{
    Kept *k = L->kept;
    if (k->lazy)
        return 1; /* a map's iteration: its reads were checked for the map's range */
    if (k->lo.o || k->hi.o)
        return moving_in_range(L, v, lo, hi, loc, what);
    Affine ends[2] = {aff_at(v, &k->lo), aff_at(v, &k->hi)};
    for (int i = 0; i < 4; i++) {
        Affine end = aff_at_outer(&ends[i / 2], i % 2 ? &k->ohi : &k->olo);
        Affine below = affine_add(end, lo, -1), above = affine_add(*hi, &end, -1);
        if ((i % 2 && !ends[i / 2].o) ||
            (aff_nonneg_in(k, &below) && aff_nonneg_in(k, &above)))
            continue;
        /* in a sum per step, of the outer variable: the ends at the outer range's ends */
        Buf t = {0};
        if (v->c[0] || !v->o) {
            buf_printf(&t, "%s = ", k->var);
            put_span(&t, L, &k->lo, &k->hi);
        }
        if (v->o) {
            buf_printf(&t, "%s%s = ", v->c[0] ? " and " : "", k->ovar);
            put_span(&t, L, &k->olo, &k->ohi);
            ends[0] = aff_at_outer(&ends[0], &k->olo);
            ends[1] = aff_at_outer(&ends[1], &k->ohi);
        }
        buf_puts(&t, v->c[0] && v->o ? " make it " : " makes it ");
        put_span(&t, L, &ends[0], &ends[1]);
        buf_puts(&t, ", outside ");
        put_span(&t, L, lo, hi);
        diag_error(L->diag, loc, "%s may be out of bounds for some sizes: %s", what, t.data);
        buf_free(&t);
        return 0;
    }
    return 1;
}
