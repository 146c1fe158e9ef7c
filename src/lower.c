/*
 * lower.c: lowering of expressions, calls and statements to the DAG. Input: a definition's
 * body, in the scope of its parameters. Output: nodes of the function's DAG (or of a kept
 * loop's iteration's), the roots of its result, located and counted errors. `for` loops and
 * `sum`/`prod` over constant ranges are unrolled and calls to definitions inlined, so the DAG
 * holds plain arithmetic and hash-consing shares work across iterations and calls; over a
 * range that depends on a run-time size they are kept as loops (kept.c; --unroll for sums
 * over constant ranges). Invariants: the walk over an expression is iterative (an explicit
 * stack), and what recurses (loops, sums and calls inside each other) is bounded by
 * MAX_NESTING; unrolling stops at the node limit; a failed operand fails its parent
 * silently, one message per mistake; an inlined body's own errors are muted (its definition
 * reports them).
 */
#include <stdlib.h>
#include <string.h>

#include "sema.h"

/* Sums, loops and calls inside each other: the source's nesting, not its size. */
#define MAX_NESTING 1000

/* pi to more digits than any long double holds */
#define PI_DIGITS "3.14159265358979323846264338327950288"

/* The constant v, written `text` in the source. Code that computes in float or long double
 * prints the text, so that the C compiler rounds what the user wrote to that type directly
 * (0.1f, or pi to long double precision) rather than a double's digits. */
static NodeId spelled_const(Lower *L, double v, const char *text)
{
    NodeId n = dag_const(L->d, v);
    if (text && L->p->real != REAL_DOUBLE && !L->d->meta[n].label)
        L->d->meta[n].label = text;
    return n;
}

const char *lower_source_text(Lower *L, Loc loc)
{
    return arena_strndup(L->arena, L->diag->src + loc.begin, loc.end - loc.begin);
}

/* An error that depends on the caller's arrays or on the whole unrolling: reported even inside
 * a muted inlined body (whose own lowering cannot see it), with a note at each call on the
 * way there. */
static void context_error(Lower *L, Loc loc, const char *fmt, const char *a, const char *b)
{
    int muted = L->diag->muted;
    L->diag->muted = 0;
    diag_error(L->diag, loc, fmt, a, b);
    for (int i = L->ncalls - 1; i > 0; i--)
        diag_note(L->diag, L->calls[i].at, "in this call of '%s'", L->calls[i].def->name);
    L->diag->muted = muted;
}

/* The node limit: unrolling a loop or sum past it is an error at the loop; `sure` when the
 * loop will pass it before it does. A `for` loop's step counts as a node. */
static int over_limit(Lower *L, Loc loc, int sure)
{
    if (L->stop)
        return 1;
    if (L->d->len + L->steps <= L->max_nodes && !sure)
        return 0;
    char limit[32];
    snprintf(limit, sizeof limit, "%u", L->max_nodes);
    context_error(L, loc, "this unrolls to more than %s operations (the limit; --max-nodes "
                          "raises it)%s", limit, "");
    L->stop = 1;
    return 1;
}

int lower_enter(Lower *L, Loc loc)
{
    if (L->depth >= MAX_NESTING) {
        diag_error(L->diag, loc, "sums, loops and calls nested more than %d deep", MAX_NESTING);
        return 0;
    }
    L->depth++;
    return 1;
}

/* ---- names, elements and run-time sizes --------------------------------------------------- */

/* A new input slot of the function (a run-time size's value, a kept sum), and its node. */
NodeId lower_new_slot(Lower *L, uint32_t *slot)
{
    Func *f = L->f;
    f->input = xrealloc(f->input, (f->ninputs + 2) * sizeof *f->input);
    *slot = f->ninputs;
    f->input[f->ninputs] = dag_input(&f->dag, f->ninputs);
    return f->input[f->ninputs++];
}

/* The value of run-time size s in expressions: an input slot of the function. */
static NodeId size_value(Lower *L, int s)
{
    Func *f = L->f;
    if (f->size_slot[s] == UINT32_MAX)
        lower_new_slot(L, &f->size_slot[s]);
    NodeId n = f->input[f->size_slot[s]];
    return L->kept ? kept_capture(L, n) : n;
}

/* An affine integer as a value of the current DAG. */
static NodeId affine_value(Lower *L, const Affine *a)
{
    Dag *d = L->d;
    NodeId v = a->k ? dag_const(d, (double)a->k) : 0;
    for (int j = 0; j <= MAX_SIZES + 1; j++) {
        int64_t c = j <= MAX_SIZES ? a->c[j] : a->o;
        if (!c)
            continue;
        NodeId x = j == 0 ? dag_input(d, 0) : j <= MAX_SIZES ? size_value(L, j - 1) :
                                                               kept_outer_index(L);
        if (c != 1)
            x = dag_binary(d, N_MUL, dag_const(d, (double)c), x);
        v = v ? dag_binary(d, N_ADD, v, x) : x;
    }
    return v ? v : dag_const(d, 0.0);
}

static NodeId lower_var(Lower *L, const Ast *e)
{
    Binding *b = scope_lookup(&L->scope, e->name, lower_frame(L));
    if (b) {
        if (b->used)
            *b->used = 1;
        switch (b->kind) {
        case B_SCALAR: return kept_node(L, b->dag, b->node);
        case B_LOOP: return affine_is_const(&b->aff) ? dag_const(L->d, (double)b->aff.k) :
                                                    affine_value(L, &b->aff);
        case B_SIZE: return affine_value(L, &b->aff);
        case B_CONST: return b->failed ? 0 : spelled_const(L, b->value, b->text);
        case B_ARRAY:
            diag_error(L->diag, e->loc, "'%s' is an array: index it (%s[i])", e->name, e->name);
            return 0;
        }
    }
    if (strcmp(e->name, "pi") == 0)
        return spelled_const(L, 3.14159265358979323846, PI_DIGITS);
    diag_error(L->diag, e->loc, "unknown variable '%s'", e->name);
    return 0;
}

/* An index, bound or size (affine_eval) where a number is needed when adgen runs. */
static int int_eval(Lower *L, const Ast *e, int64_t *out, int depth)
{
    Affine a;
    if (!affine_eval(L, e, &a, depth))
        return 0;
    if (!affine_is_const(&a)) {
        diag_error(L->diag, e->loc, "this must be a number when adgen runs, but it depends on "
                                    "a size known only at run time");
        return 0;
    }
    *out = a.k;
    return 1;
}

static NodeId lower_index(Lower *L, const Ast *e)
{
    Binding *b = scope_lookup(&L->scope, e->name, lower_frame(L));
    if (b && b->kind == B_SCALAR && !b->node) /* its assignment failed, and said why */
        return 0;
    if (!b || b->kind != B_ARRAY) {
        diag_error(L->diag, e->loc, b ? "'%s' is not an array" : "unknown array '%s'", e->name);
        return 0;
    }
    if (b->used)
        *b->used = 1;
    const Array *a = b->array;
    Affine v[MAX_RANK];
    if (a->flat && e->nargs == 1 && a->rank > 1) { /* the values of a call, by one index */
        int64_t k, n = 1;
        for (int i = 0; i < a->rank; i++)
            n *= a->dims[i];
        if (!int_eval(L, e->args, &k, 0))
            return 0;
        if (k < 0 || k >= n) {
            diag_error(L->diag, e->args->loc, "index %lld is out of bounds: '%s' has %lld "
                                              "values, 0..%lld", (long long)k, e->name,
                       (long long)n, (long long)n - 1);
            return 0;
        }
        for (int i = a->rank - 1; i >= 0; k /= a->dims[i], i--)
            v[i] = affine_num(k % a->dims[i]);
    } else if (a->call_map && e->nargs != a->rank) {
        diag_error(L->diag, e->loc, "'%s' has %d ind%s, but %d %s given: the values of a call "
                                    "of a run-time number have its array's shape", e->name,
                   a->rank, a->rank == 1 ? "ex" : "ices", e->nargs,
                   e->nargs == 1 ? "was" : "were");
        return 0;
    } else if (!affine_indices(L, a, e->args, e->nargs, e->loc, v)) {
        return 0;
    }
    if (a->state)
        return kept_state_index(L, e, a, v);
    int numbers = 1;
    for (int i = 0; i < a->rank; i++)
        numbers = numbers && affine_is_const(&v[i]);
    if (!numbers || a->map || (a->param && a->param->rt_size >= 0))
        return kept_index(L, e, a, v);
    int64_t idx[MAX_RANK];
    for (int i = 0; i < a->rank; i++)
        idx[i] = v[i].k;
    NodeId n;
    if (a->param) {
        int64_t flat = 0;
        for (int i = 0; i < a->rank; i++)
            flat = flat * a->dims[i] + idx[i];
        n = L->f->input[a->param->first + (uint32_t)flat];
    } else {
        Elem *el = scope_elem_find(&L->elems, a, idx, 0);
        if (!el) {
            /* after another error this is most likely its consequence (a loop that did not
             * run) */
            if (L->diag->errors == L->def_errors) {
                Buf t = {0};
                scope_put_elem(&t, a, idx);
                context_error(L, e->loc, "'%s%s' is read before it is assigned", a->name, t.data);
                buf_free(&t);
            }
            return 0;
        }
        return kept_node(L, el->dag, el->node);
    }
    return L->kept ? kept_capture(L, n) : n;
}

/* ---- sums and calls ----------------------------------------------------------------------- */

void lower_bind_loop(Lower *L, const char *name, Loc loc, const Affine *value)
{
    Binding *b = scope_bind(&L->scope, name, B_LOOP, loc, lower_frame(L));
    b->aff = *value;
    b->value = (double)value->k;
}

/* sum(i = a..b, body) and prod(...), unrolled. An empty range is written b = a - 1. */
static NodeId lower_reduction(Lower *L, Ast *e, int is_sum)
{
    Ast *range = e->args, *body = range ? range->next : NULL;
    if (e->nargs != 2 || range->kind != A_RANGE) {
        diag_error(L->diag, e->loc, "'%s' takes a range and an expression: %s(i = 0..N-1, "
                                    "x[i])", e->name, e->name);
        return 0;
    }
    Affine lo, hi;
    if (!affine_eval(L, range->lhs, &lo, 0) || !affine_eval(L, range->rhs, &hi, 0))
        return 0;
    int64_t from = lo.k, to = hi.k;
    int kept = !affine_is_const(&lo) || !affine_is_const(&hi);
    if (!kept && to < from - 1) {
        diag_error(L->diag, range->loc, "the range %lld..%lld is reversed (an empty range is "
                                        "written a..a-1)", (long long)from, (long long)to);
        return 0;
    }
    Binding *shadowed = scope_lookup(&L->scope, range->name, lower_frame(L));
    /* an enclosing sum's or loop's variable may be reused; an input or local may not */
    if (strcmp(range->name, "pi") == 0 ||
        (shadowed && shadowed->frame == lower_frame(L) && shadowed->kind != B_LOOP)) {
        diag_error(L->diag, range->loc, "the range's variable '%s' would hide %s", range->name,
                   shadowed ? "a name of this definition" : "the constant pi");
        return 0;
    }
    if (kept)
        return is_sum ? kept_sum(L, e, range, body, &lo, &hi) :
                        kept_prod(L, e, range, body, &lo, &hi);
    if (is_sum && L->unroll && to - from + 1 > (int64_t)L->unroll && !L->kept) {
        /* a trial: what cannot be kept is unrolled, and the trial's messages are not the
         * source's mistakes (the unrolled sum reports its own) */
        int errors = L->diag->errors, held = L->diag->held[0] != 0;
        L->diag->muted++;
        NodeId r = kept_sum(L, e, range, body, &lo, &hi);
        L->diag->muted--;
        if (r)
            return r;
        L->diag->errors = errors;
        if (!held)
            L->diag->held[0] = 0;
    }
    if (!lower_enter(L, e->loc))
        return 0;
    NodeId acc = 0;
    int failed = 0;
    for (int64_t i = from; i <= to && !failed; i++) {
        uint32_t mark = L->scope.len;
        Affine at = affine_num(i);
        lower_bind_loop(L, range->name, range->loc, &at);
        NodeId t = lower_expr(L, body);
        scope_unbind_to(&L->scope, mark);
        /* a first term that is not a number: each one after it adds an operation at least
         * (the sum's), so a range that would pass the limit does now, not after minutes of
         * unrolling */
        failed = !t || over_limit(L, e->loc, i == from && L->d->nodes[t].kind != N_CONST &&
                                                 (int64_t)L->d->len + (to - from) >
                                                     (int64_t)L->max_nodes);
        if (!failed)
            acc = !acc ? t : dag_binary(L->d, is_sum ? N_ADD : N_MUL, acc, t);
    }
    L->depth--;
    if (failed)
        return 0;
    return acc ? acc : dag_const(L->d, is_sum ? 0.0 : 1.0);
}

/* Whether def is being lowered already: a call closes a cycle. A cycle is reported where it
 * closes, once, even inside a muted inlined body (where each definition of the cycle would
 * otherwise wait for another to report it). */
static int calls_itself(Lower *L, const Ast *e, const Def *def)
{
    for (int i = 0; i < L->ncalls; i++) {
        if (L->calls[i].def != def)
            continue;
        int muted = L->diag->muted;
        L->diag->muted = 0;
        if (!L->recursion_reported) {
            diag_error(L->diag, e->loc, "'%s' calls itself%s: recursion cannot be unrolled",
                       def->name, i + 1 < L->ncalls ? " through other definitions" : "");
            diag_note(L->diag, def->name_loc, "'%s' is defined here", def->name);
        }
        L->recursion_reported = 1;
        L->diag->muted = muted;
        return 1;
    }
    return 0;
}

/* affine_eval of e in the bindings of frame (a callee's, while its arguments are bound in the
 * caller's). */
static int eval_in_frame(Lower *L, const Ast *e, int frame, Affine *out)
{
    int caller = lower_set_frame(L, frame);
    int ok = affine_eval(L, e, out, 0);
    lower_set_frame(L, caller);
    return ok;
}

/* Size i of array a as an integer of the sizes: its number; a run-time input's first size;
 * a map's first, when its elements count from 0 (1 + the last). 0 when it has none (a
 * recurrence's states, a map from another element). */
static int array_extent(const Array *a, int i, Affine *out)
{
    *out = affine_num(a->dims[i]);
    if (i < 2 && a->param && (i ? a->param->rt_size2 : a->param->rt_size) >= 0) {
        *out = affine_num(0);
        out->c[1 + (i ? a->param->rt_size2 : a->param->rt_size)] = 1;
    } else if (a->map) {
        Affine off = affine_num(a->map_off), first = affine_add(a->map_lo, &off, 1);
        if (a->state || a->rank > 1 || !affine_is_const(&first) || first.k != 0)
            return 0;
        *out = affine_add(a->map_hi, &off, 1);
        out->k++;
    }
    return 1;
}

/* "N - 1" */
static void put_size(Buf *t, const Lower *L, const Affine *a)
{
    func_put_affine(t, a, L->kept ? L->kept->var : "i", L->kept ? L->kept->ovar : NULL,
                    L->f->size, "*");
}

/* "[N][3]" */
static void put_shape(Buf *t, const Lower *L, const Affine *dims, int rank)
{
    for (int i = 0; i < rank; i++) {
        buf_puts(t, "[");
        put_size(t, L, &dims[i]);
        buf_puts(t, "]");
    }
}

/* Binds array parameter p of def, in the callee's frame, to argument a: an array of the
 * caller, by name, of p's shape. A size of p's that the callee's frame does not know yet (a
 * size known at run time in its head, x[n]) is bound to the argument's: the callee's loops
 * over it are then the caller's, kept or unrolled as its sizes are. 0 after an error. */
static int bind_array_arg(Lower *L, const Ast *a, const Ast *p, const Def *def, int frame)
{
    Binding *ab = a->kind == A_VAR ? scope_lookup(&L->scope, a->name, lower_frame(L)) : NULL;
    if (!ab || ab->kind != B_ARRAY) {
        diag_error(L->diag, a->loc, "'%s' of '%s' is an array: pass a whole array by its "
                                    "name", p->name, def->name);
        return 0;
    }
    if (ab->used)
        *ab->used = 1;
    Array *arr = ab->array;
    int rank = 0, ok = 1;
    Affine want[MAX_RANK], have[MAX_RANK];
    for (int i = 0; i < arr->rank; i++)
        if (!array_extent(arr, i, &have[i])) {
            diag_error(L->diag, a->loc, arr->state ? "'%s' holds a recurrence's states, which "
                                                     "a call cannot pass (not supported yet)" :
                                                     "'%s' is assigned by a loop over a "
                                                     "run-time range from an element other "
                                                     "than '%s[0]', or at several indices, "
                                                     "which a call cannot pass (not supported "
                                                     "yet)", a->name, a->name);
            return 0;
        }
    /* the sizes are the callee's, whose own lowering reports their errors */
    L->diag->muted++;
    for (const Ast *x = p->args; x && rank < MAX_RANK; x = x->next, rank++) {
        if (x->kind == A_VAR && strcmp(x->name, "pi") != 0 && rank < arr->rank &&
            !scope_lookup(&L->scope, x->name, frame)) {
            Binding *b = scope_bind(&L->scope, x->name, B_SIZE, x->loc, frame);
            b->aff = want[rank] = have[rank];
        } else if (!eval_in_frame(L, x, frame, &want[rank])) {
            ok = 0;
        }
    }
    L->diag->muted--;
    if (!ok)
        return 0;
    /* a local array's shape is the extent of the elements assigned so far */
    int same = rank == arr->rank;
    for (int i = 0; same && i < rank; i++)
        same = affine_eq(&want[i], &have[i]);
    if (!same) {
        Buf w = {0}, h = {0}, src = {0};
        put_shape(&w, L, want, rank);
        put_shape(&h, L, have, arr->rank);
        for (const Ast *x = p->args; x; x = x->next)
            buf_printf(&src, "[%s]", lower_source_text(L, x->loc));
        int sized = strcmp(src.data, w.data) != 0; /* its sizes are the call's */
        diag_error(L->diag, a->loc, "'%s' is %s, but '%s' of '%s' is %s%s%s%s", a->name, h.data,
                   p->name, def->name, sized ? src.data : w.data,
                   sized ? ", which is " : "", sized ? w.data : "", sized ? " in this call" : "");
        buf_free(&w);
        buf_free(&h);
        buf_free(&src);
        return 0;
    }
    scope_bind(&L->scope, p->name, B_ARRAY, p->loc, frame)->array = arr;
    return 1;
}

/* Binds size parameter p of def (a data scalar read in an index or a bound), in the callee's
 * frame, to argument a, which must then be an integer of the caller's sizes; or checks it
 * against the size an array before it gave. 0 after an error. */
static int bind_size_arg(Lower *L, const Ast *a, const Ast *p, const Def *def, int frame)
{
    Affine v;
    L->diag->muted++;
    int ok = affine_eval(L, a, &v, 0);
    L->diag->muted--;
    if (!ok) {
        diag_error(L->diag, a->loc, "'%s' of '%s' is a size (it is read in an index or a "
                                    "bound): pass an integer linear in the sizes (n, 2*n + 1, "
                                    "3), not a value", p->name, def->name);
        return 0;
    }
    Binding *b = scope_lookup(&L->scope, p->name, frame);
    if (b && !affine_eq(&b->aff, &v)) {
        Buf w = {0}, h = {0};
        put_size(&w, L, &b->aff);
        put_size(&h, L, &v);
        diag_error(L->diag, a->loc, "'%s' of '%s' is %s here, but the array before it gives "
                                    "it %s", p->name, def->name, h.data, w.data);
        buf_free(&w);
        buf_free(&h);
        return 0;
    }
    if (!b)
        scope_bind(&L->scope, p->name, B_SIZE, p->loc, frame)->aff = v;
    return 1;
}

/* Binds the parameters of def, in the callee's frame, to the arguments of call e: the
 * arguments are bound in the caller's frame before the callee's is entered. 0 after an
 * error. */
static int bind_args(Lower *L, const Ast *e, Def *def, int frame)
{
    const Ast *p = def->params;
    int position = 0;
    for (const Ast *a = e->args; a; a = a->next, p = p->next, position++) {
        if (p->kind == A_VAR) {
            if (a->kind == A_VAR) {
                Binding *ab = scope_lookup(&L->scope, a->name, lower_frame(L));
                if (ab && ab->kind == B_ARRAY) {
                    diag_error(L->diag, a->loc, "'%s' is an array, but '%s' of '%s' is a "
                                                "scalar", a->name, p->name, def->name);
                    return 0;
                }
            }
            if (sema_size_param(L, def, position)) {
                if (!bind_size_arg(L, a, p, def, frame))
                    return 0;
                continue;
            }
            NodeId n = a->node;
            if (!n)
                return 0;
            scope_bind(&L->scope, p->name, B_SCALAR, p->loc, frame)->node = n;
            continue;
        }
        if (!bind_array_arg(L, a, p, def, frame))
            return 0;
    }
    return 1;
}

/* The body of def lowered for call e in frame, muted: its one value, or 0. */
static NodeId inline_body(Lower *L, const Ast *e, Def *def, int frame)
{
    if (L->ncalls == L->calls_cap) {
        L->calls_cap *= 2;
        L->calls = xrealloc(L->calls, (size_t)L->calls_cap * sizeof *L->calls);
    }
    L->calls[L->ncalls].def = def;
    L->calls[L->ncalls].at = e->loc;
    L->calls[L->ncalls++].id = frame;
    Diag *dg = L->diag;
    int errors = dg->errors, printed = dg->printed;
    char held[sizeof dg->held];
    Loc held_loc = dg->held_loc;
    memcpy(held, dg->held, sizeof held);
    dg->held[0] = 0;
    Result r = {0};
    dg->muted++;
    int lowered = lower_body(L, def, &r);
    dg->muted--;
    L->ncalls--;
    /* an error of the body where it is inlined, not of its own (which its own lowering
     * reports): a kept loop inside the caller's; told once the callee's own is known */
    if (dg->errors != errors && dg->printed == printed && !dg->muted && !def->failed &&
        dg->held[0]) {
        if (L->npending == L->pending_cap) {
            L->pending_cap = L->pending_cap ? 2 * L->pending_cap : 4;
            L->pending = xrealloc(L->pending, (size_t)L->pending_cap * sizeof *L->pending);
        }
        Pending *pd = &L->pending[L->npending++];
        pd->call = e->loc;
        pd->def = def;
        memcpy(pd->why, dg->held, sizeof pd->why);
        pd->where = dg->held_loc;
        if (def->lowered)
            lower_tell_pending(L);
    }
    if (held[0]) {
        memcpy(dg->held, held, sizeof held);
        dg->held_loc = held_loc;
    }
    L->called_failed |= dg->errors != errors && def->failed; /* its own errors were told */
    NodeId result = lowered && dg->errors == errors && !r.map ? r.nodes[0] : 0;
    if (lowered && r.vector && e == L->values_call && dg->errors == errors) {
        *L->values = r; /* an assignment binds them: c = cons(x) */
        result = 0;
    } else if (lowered && r.map) {
        diag_error(L->diag, e->loc, "'%s' returns values of a number known only at run time: "
                                    "assign them (c = %s(...)), then read c[i] in a loop over a "
                                    "run-time range", def->name, def->name);
        diag_note(L->diag, def->name_loc, "'%s' is defined here", def->name);
    } else if (lowered && r.vector) {
        diag_error(L->diag, e->loc, "'%s' returns %u values; a call takes one value, or an "
                                    "assignment binds them all (c = %s(...), then c[0], ...)",
                   def->name, r.n, def->name);
        diag_note(L->diag, def->name_loc, "'%s' is defined here", def->name);
        result = 0;
    }
    return result;
}

/* A call of a definition, inlined: its parameters bound to the arguments' nodes and arrays,
 * its body lowered in a frame of its own. Its errors are muted: its own definition's are
 * reported when that is lowered, and the call's own mistakes (its arguments; a body that
 * cannot be where it is inlined) at the call. */
static NodeId lower_call_def(Lower *L, Ast *e, Def *def)
{
    if (e->ndiff >= 0) {
        diag_error(L->diag, e->loc, "a call lists its arguments with ','; ';' separates data "
                                    "inputs in a definition's head");
        return 0;
    }
    if (calls_itself(L, e, def))
        return 0;
    if (e->nargs != def->nparams) {
        diag_error(L->diag, e->loc, "'%s' takes %d argument%s, but %d %s given", def->name,
                   def->nparams, def->nparams == 1 ? "" : "s", e->nargs,
                   e->nargs == 1 ? "was" : "were");
        diag_note(L->diag, def->name_loc, "'%s' is defined here", def->name);
        return 0;
    }
    if (!lower_enter(L, e->loc))
        return 0;
    int frame = ++L->next_frame;
    uint32_t mark = L->scope.len;
    NodeId result = bind_args(L, e, def, frame) ? inline_body(L, e, def, frame) : 0;
    /* a map it returns is lowered where the caller reads it, in the callee's bindings */
    if (!(e == L->values_call && L->values->map))
        scope_unbind_to(&L->scope, mark);
    L->depth--;
    return result;
}

/* Whether e is sum or prod, whose arguments lower_reduction lowers itself, once per
 * iteration. */
static int is_reduction(const Ast *e)
{
    return e->kind == A_CALL && (strcmp(e->name, "sum") == 0 || strcmp(e->name, "prod") == 0);
}

static NodeId lower_call(Lower *L, Ast *e)
{
    if (is_reduction(e))
        return lower_reduction(L, e, e->name[0] == 's');
    if (strcmp(e->name, "if") == 0) {
        if (e->nargs != 3) {
            diag_error(L->diag, e->loc, "'if' takes 3 arguments, a condition and two values, "
                                        "but %d %s given", e->nargs,
                       e->nargs == 1 ? "was" : "were");
            return 0;
        }
        NodeId c = e->args->node, a = e->args->next->node, b = e->args->next->next->node;
        return c && a && b ? dag_op(L->d, N_IF, c, a, b) : 0;
    }
    int k = scope_function_kind(e->name);
    if (k == N_KINDS) {
        Def *def = scope_find_def(L, e->name);
        if (def)
            return lower_call_def(L, e, def);
        scope_unknown_function(L, e);
        return 0;
    }
    int arity = op_info[k].arity;
    if (e->nargs != arity || e->ndiff >= 0) {
        diag_error(L->diag, e->loc, "'%s' takes %d argument%s, but %d %s given", e->name,
                   arity, arity == 1 ? "" : "s", e->nargs, e->nargs == 1 ? "was" : "were");
        return 0;
    }
    NodeId arg[3] = {0, 0, 0};
    int i = 0;
    for (const Ast *a = e->args; a; a = a->next) {
        if (!a->node)
            return 0;
        arg[i++] = a->node;
    }
    if (k == N_POW)
        return dag_pow(L->d, arg[0], arg[1]);
    return dag_op(L->d, (NodeKind)k, arg[0], arg[1], arg[2]);
}

/* The values of call e (a definition returning several) into *values, as an assignment binds
 * them; its node when it has one value. */
static NodeId lower_values(Lower *L, Ast *e, Result *values)
{
    const Ast *outer_call = L->values_call;
    Result *outer_values = L->values;
    L->values_call = e->kind == A_CALL ? e : NULL;
    L->values = values;
    NodeId n = lower_expr(L, e);
    L->values_call = outer_call;
    L->values = outer_values;
    return n;
}

/* cons(x)[i]: one of the values of a definition returning several, i a number when adgen
 * runs (a constant, or the variable of a loop unrolled). */
static NodeId lower_call_index(Lower *L, Ast *e)
{
    Result values = {0};
    NodeId n = lower_values(L, e->lhs, &values);
    if (L->stop || (!n && !values.vector))
        return 0;
    const char *callee = e->lhs->name;
    if (values.map) {
        diag_error(L->diag, e->loc, "'%s' returns values of a number known only at run time: "
                                    "assign them (c = %s(...)), then read c[i] in a loop over a "
                                    "run-time range", callee, callee);
        return 0;
    }
    if (!values.vector) {
        diag_error(L->diag, e->loc, "'%s' returns one value, which is not indexed", callee);
        return 0;
    }
    int64_t k;
    if (e->nargs != 1) {
        diag_error(L->diag, e->loc, "the values of '%s' take one index, not %d", callee,
                   e->nargs);
        return 0;
    }
    if (!int_eval(L, e->args, &k, 0))
        return 0;
    if (k < 0 || k >= (int64_t)values.n) {
        diag_error(L->diag, e->args->loc, "index %lld of the %u values of '%s' is out of "
                                          "0..%u", (long long)k, values.n, callee,
                   values.n - 1);
        return 0;
    }
    return values.nodes[k];
}

/* Whether an argument of call is lowered to a value first: not an array passed by name to
 * anything but a function of the language (a range is lowered to its error). */
static int lowered_arg(Lower *L, const Ast *call, const Ast *a)
{
    if (a->kind != A_VAR || is_reduction(call))
        return 1;
    Binding *b = scope_lookup(&L->scope, a->name, lower_frame(L));
    if (!b || b->kind != B_ARRAY)
        return 1;
    /* a function of the language takes values: an array there is an error of lower_var; any
     * other call passes arrays by name (or fails as an unknown function, once) */
    return strcmp(call->name, "if") == 0 || scope_function_kind(call->name) < N_KINDS;
}

void lower_tell_pending(Lower *L)
{
    int kept = 0;
    for (int i = 0; i < L->npending; i++) {
        Pending *pd = &L->pending[i];
        if (!pd->def->lowered) {
            L->pending[kept++] = *pd;
            continue;
        }
        if (pd->def->failed)
            continue;
        diag_error(L->diag, pd->call, "'%s' cannot be inlined here: %s", pd->def->name,
                   pd->why);
        if (pd->where.first_line > 0)
            diag_note(L->diag, pd->where, "in the body inlined here");
    }
    L->npending = kept;
}

/* ---- the walk over an expression ---------------------------------------------------------- */

void lower_push(Lower *L, Ast *e)
{
    if (L->stack_top == L->stack_cap) {
        L->stack_cap = L->stack_cap ? 2 * L->stack_cap : 256;
        L->stack = xrealloc(L->stack, L->stack_cap * sizeof *L->stack);
    }
    L->stack[L->stack_top].e = e;
    L->stack[L->stack_top].expanded = 0;
    L->stack_top++;
}

/* Post-order over the tree with an explicit stack: an entry is seen once to push its
 * operands and once more, when they are done, to build its node. Operands are pushed right
 * to left so that errors come out in source order. A failed operand yields 0 and its
 * parent fails silently: one message per mistake. Sums and calls lower their bodies with a
 * nested lower_expr on the same stack, above this one's entries. */
NodeId lower_expr(Lower *L, Ast *root)
{
    Dag *d = L->d;
    size_t base = L->stack_top;
    if (L->stop)
        return 0;
    lower_push(L, root);
    while (L->stack_top > base) {
        Frame *fr = &L->stack[L->stack_top - 1];
        Ast *e = fr->e;
        if (!fr->expanded) {
            fr->expanded = 1;
            size_t first = L->stack_top;
            if (e->kind == A_CALL && !is_reduction(e)) {
                for (Ast *a = e->args; a; a = a->next)
                    if (lowered_arg(L, e, a))
                        lower_push(L, a);
                    else
                        a->node = 0;
            } else if (e->kind != A_INDEX && e->kind != A_CALL) {
                if (e->lhs)
                    lower_push(L, e->lhs);
                if (e->rhs)
                    lower_push(L, e->rhs);
            }
            for (size_t i = first, j = L->stack_top - 1; i < j && j > 0; i++, j--) {
                Frame t = L->stack[i];
                L->stack[i] = L->stack[j];
                L->stack[j] = t;
            }
            continue;
        }
        L->stack_top--;
        NodeId a = e->lhs ? e->lhs->node : 0, b = e->rhs ? e->rhs->node : 0;
        NodeId mark = d->len;
        int failed = (e->lhs && !a) || (e->rhs && !b);
        switch (e->kind) {
        case A_NUM:
            e->node = spelled_const(L, e->num, NULL);
            if (L->p->real != REAL_DOUBLE && !d->meta[e->node].label)
                d->meta[e->node].label = lower_source_text(L, e->loc);
            break;
        case A_VAR: e->node = lower_var(L, e); break;
        case A_INDEX: e->node = e->lhs ? lower_call_index(L, e) : lower_index(L, e); break;
        case A_CALL: e->node = lower_call(L, e); break;
        case A_RANGE:
            diag_error(L->diag, e->loc, "a range 'i = a..b' is the first argument of sum or "
                                        "prod only");
            e->node = 0;
            break;
        case A_LIST:
            diag_error(L->diag, e->loc, "a list [...] is only the whole result of a definition "
                                        "(return [u, v])");
            e->node = 0;
            break;
        case A_POS: e->node = a; break;
        case A_NEG: e->node = failed ? 0 : dag_unary(d, N_NEG, a); break;
        case A_NOT: e->node = failed ? 0 : dag_unary(d, N_NOT, a); break;
        case A_ADD: e->node = failed ? 0 : dag_binary(d, N_ADD, a, b); break;
        case A_SUB: e->node = failed ? 0 : dag_binary(d, N_SUB, a, b); break;
        case A_MUL: e->node = failed ? 0 : dag_binary(d, N_MUL, a, b); break;
        case A_DIV: e->node = failed ? 0 : dag_binary(d, N_DIV, a, b); break;
        case A_POW: e->node = failed ? 0 : dag_pow(d, a, b); break;
        case A_CMP: e->node = failed ? 0 : dag_binary(d, (NodeKind)e->op, a, b); break;
        case A_AND: e->node = failed ? 0 : dag_binary(d, N_AND, a, b); break;
        case A_OR: e->node = failed ? 0 : dag_binary(d, N_OR, a, b); break;
        }
        dag_mark_loc(d, mark, e->loc.first_line, e->loc.first_column);
    }
    return L->stop ? 0 : root->node;
}

/* ---- statements --------------------------------------------------------------------------- */

static void name_node(Lower *L, NodeId n, const char *name)
{
    if (node_is_op(L->d, n) && !L->d->meta[n].label)
        L->d->meta[n].label = name;
}

/* Whether name may be assigned here: not pi, an input, a loop variable, a constant, or a name
 * this body already assigned. */
int lower_assignable(Lower *L, const char *name, Loc loc)
{
    if (strcmp(name, "pi") == 0) {
        diag_error(L->diag, loc, "cannot assign to 'pi', a predefined constant");
        return 0;
    }
    Binding *b = scope_lookup(&L->scope, name, lower_frame(L));
    if (!b)
        return 1;
    if (b->input)
        diag_error(L->diag, loc, "cannot assign to input '%s'", name);
    else if (b->kind == B_LOOP)
        diag_error(L->diag, loc, "cannot assign to loop variable '%s'", name);
    else if (b->kind == B_CONST)
        diag_error(L->diag, loc, "cannot assign to '%s', a constant of the file", name);
    else if (b->kind == B_ARRAY)
        diag_error(L->diag, loc, "'%s' is an array: assign its elements (%s[i] = ...)", name,
                   name);
    else
        diag_error(L->diag, loc, "'%s' is assigned twice", name);
    diag_note(L->diag, b->loc, b->input ? "'%s' is declared as an input here" :
                               b->kind == B_LOOP ? "'%s' is the loop variable here" :
                               "'%s' first assigned here", name);
    return 0;
}

/* An element's indices (affine_indices) where each must be a number when adgen runs. */
static int eval_indices(Lower *L, const Array *a, const Ast *first, int n, Loc loc, int64_t *idx)
{
    Affine v[MAX_RANK];
    if (!affine_indices(L, a, first, n, loc, v))
        return 0;
    const Ast *x = first;
    for (int i = 0; i < n; i++, x = x->next) {
        if (!affine_is_const(&v[i])) {
            diag_error(L->diag, x->loc, "this index must be a number when adgen runs, but it "
                                        "depends on a size known only at run time");
            return 0;
        }
        idx[i] = v[i].k;
    }
    return 1;
}

static void assign_elem(Lower *L, Stmt *s, NodeId n)
{
    Binding *b = scope_lookup(&L->scope, s->name, lower_frame(L));
    if (!b || b->kind != B_ARRAY || b->array->param) {
        if (b && b->kind == B_ARRAY)
            diag_error(L->diag, s->name_loc, "cannot assign to input '%s'", s->name);
        else
            lower_assignable(L, s->name, s->name_loc);
        return;
    }
    Array *a = b->array;
    int64_t idx[MAX_RANK];
    if (a->map && a->state && !L->kept && !kept_reads_size(L, s->index)) {
        /* an element no recurrence computes: the first of one its loop computes when it is
         * lowered again (a loop around it unrolled: x[0][i] = y0[i], then
         * x[t+1][i] = f(x[t][i]) for each i) */
        if (!eval_indices(L, a, s->index, s->nindex, s->name_loc, idx))
            return;
        if (kept_final_of(L, a, idx)) {
            kept_state_assign(L, s, a, n);
            return;
        }
    } else if (a->map) {
        if (a->state)
            kept_state_assign(L, s, a, n);
        else
            kept_map_assign(L, s, a, n);
        return;
    } else if (!eval_indices(L, a, s->index, s->nindex, s->name_loc, idx)) {
        return;
    }
    a->assigned = 1;
    Elem *el = scope_elem_find(&L->elems, a, idx, 1);
    if (el->stmt) {
        Buf t = {0};
        scope_put_elem(&t, a, idx);
        diag_error(L->diag, s->name_loc, "'%s%s' is assigned twice", s->name, t.data);
        diag_note(L->diag, el->stmt->loc, "'%s%s' first assigned here", s->name, t.data);
        buf_free(&t);
        return;
    }
    el->node = n;
    el->stmt = s;
    el->dag = L->d;
    for (int i = 0; i < a->rank; i++)
        if (idx[i] + 1 > a->dims[i])
            a->dims[i] = idx[i] + 1;
    if (n && !L->diag->muted) {
        Buf t = {0};
        buf_puts(&t, s->name);
        for (int i = 0; i < a->rank; i++)
            buf_printf(&t, "_%lld", (long long)idx[i]);
        name_node(L, n, arena_strndup(L->arena, t.data, t.len));
        buf_free(&t);
    }
}

/* c = cons(x) of a definition returning several values: c becomes a local array of them, in
 * order, c[0] the first. */
static void bind_values(Lower *L, Stmt *s, const Result *values)
{
    if (values->map) { /* the callee's array, its elements lowered where they are read */
        Binding *b = scope_bind(&L->scope, s->name, B_ARRAY, s->name_loc, lower_frame(L));
        b->array = values->map;
        values->map->name = s->name; /* this call's: the caller's messages name it */
        values->map->call_map = 1;
        b->used = &s->used;
        return;
    }
    Array *a = arena_alloc(L->arena, sizeof *a);
    a->name = s->name;
    a->loc = s->name_loc;
    a->rank = values->rank ? values->rank : 1;
    a->dims[0] = values->n;
    if (values->rank)
        memcpy(a->dims, values->dims, sizeof a->dims);
    a->flat = 1;
    a->assigned = 1;
    Binding *b = scope_bind(&L->scope, s->name, B_ARRAY, s->name_loc, lower_frame(L));
    b->array = a;
    b->used = &s->used;
    for (uint32_t k = 0; k < values->n; k++) {
        int64_t idx[MAX_RANK] = {0};
        for (int i = a->rank - 1, rest = (int)k; i >= 0; rest /= (int)a->dims[i], i--)
            idx[i] = rest % a->dims[i];
        Elem *el = scope_elem_find(&L->elems, a, idx, 1);
        el->node = values->nodes[k];
        el->stmt = s;
        el->dag = L->d;
        if (!L->diag->muted) {
            Buf t = {0};
            buf_printf(&t, "%s_%u", s->name, k);
            name_node(L, values->nodes[k], arena_strndup(L->arena, t.data, t.len));
            buf_free(&t);
        }
    }
}

/* The elements of an array named as a result, row-major; 0 after an error. */
static int array_result(Lower *L, const Ast *e, Array *a, Result *r)
{
    if (a->map && !a->state)
        return kept_map_result(L, e, a, r);
    if (a->map || (a->param && a->param->rt_size >= 0)) {
        diag_error(L->diag, e->loc, "'%s' has a size known only at run time, which a result "
                                    "cannot have", a->name);
        return 0;
    }
    uint64_t n = 1;
    for (int i = 0; i < a->rank; i++)
        n *= (uint64_t)a->dims[i];
    if (n > L->max_nodes) {
        diag_error(L->diag, e->loc, "'%s' has more than %u elements", a->name, L->max_nodes);
        return 0;
    }
    r->n = (uint32_t)n;
    r->rank = a->rank;
    memcpy(r->dims, a->dims, sizeof r->dims);
    r->nodes = arena_alloc(L->arena, r->n * sizeof *r->nodes);
    for (uint32_t k = 0; k < r->n; k++) {
        if (a->param) {
            r->nodes[k] = L->f->input[a->param->first + k];
            continue;
        }
        int64_t idx[MAX_RANK];
        for (int i = a->rank - 1, rest = (int)k; i >= 0; rest /= (int)a->dims[i], i--)
            idx[i] = rest % a->dims[i];
        const Elem *el = scope_elem_find(&L->elems, a, idx, 0);
        if (!el) {
            Buf t = {0};
            for (int i = 0; i < a->rank; i++)
                buf_printf(&t, "[%lld]", (long long)idx[i]);
            diag_error(L->diag, e->loc, "'%s' is returned, but '%s%s' is never assigned",
                       a->name, a->name, t.data);
            buf_free(&t);
            return 0;
        }
        if (!el->node)
            return 0;
        r->nodes[k] = el->node;
    }
    return 1;
}

/* A definition's result: a list [u, v], a whole array, or one value. 0 after an error. */
static int lower_result(Lower *L, Ast *e, Result *r)
{
    r->vector = 1;
    if (e->kind == A_VAR) {
        Binding *b = scope_lookup(&L->scope, e->name, lower_frame(L));
        if (b && b->kind == B_ARRAY) {
            if (b->used)
                *b->used = 1;
            return array_result(L, e, b->array, r);
        }
    }
    if (e->kind != A_LIST) {
        r->vector = 0;
        r->n = 1;
        r->nodes = arena_alloc(L->arena, sizeof *r->nodes);
        r->nodes[0] = lower_expr(L, e);
        return r->nodes[0] != 0;
    }
    r->n = (uint32_t)e->nargs;
    r->nodes = arena_alloc(L->arena, r->n * sizeof *r->nodes);
    int ok = 1;
    uint32_t k = 0;
    for (Ast *x = e->args; x; x = x->next) {
        r->nodes[k] = x->kind == A_LIST ? 0 : lower_expr(L, x);
        if (x->kind == A_LIST)
            diag_error(L->diag, x->loc, "a list inside a list: a result is one flat list");
        ok = ok && r->nodes[k++] && !L->stop;
    }
    return ok;
}

/* Lowers statements; sets *ret to the result (when one returns). 0 on an error that stops the
 * body. */
int lower_stmts(Lower *L, Def *def, Stmt *first, int in_loop, Result *ret, Stmt **returned)
{
    for (Stmt *s = first; s; s = s->next) {
        if (*returned) {
            diag_error(L->diag, s->loc, "statement after 'return' in '%s'", def->name);
            return 0;
        }
        switch (s->kind) {
        case S_ASSIGN: {
            Result values = {0};
            NodeId n = lower_values(L, s->expr, &values);
            if (L->stop)
                return 0;
            if (!lower_assignable(L, s->name, s->name_loc)) {
                s->used = 1; /* no warning about what was never assigned */
                break;
            }
            if (values.vector) {
                bind_values(L, s, &values);
                break;
            }
            /* bound even when its expression failed (n == 0): later uses then stay silent */
            Binding *b = scope_bind(&L->scope, s->name, B_SCALAR, s->name_loc, lower_frame(L));
            b->node = n;
            b->used = &s->used;
            if (n && (!L->diag->muted || L->kept))
                name_node(L, n, s->name);
            break;
        }
        case S_ELEM:
            if (kept_skips(L, s))
                break;
            assign_elem(L, s, lower_expr(L, s->expr));
            if (L->stop)
                return 0;
            break;
        case S_RETURN:
            if (in_loop) {
                diag_error(L->diag, s->loc, "'return' inside a loop");
                return 0;
            }
            if (!lower_result(L, s->expr, ret))
                return 0;
            *returned = s;
            break;
        case S_FOR: {
            Affine lo, hi;
            if (!affine_eval(L, s->from, &lo, 0) || !affine_eval(L, s->to, &hi, 0))
                break;
            if (!affine_is_const(&lo) || !affine_is_const(&hi) ||
                (L->keep_for && !L->in_for && !L->kept &&
                 hi.k - lo.k + 1 > (int64_t)L->unroll)) {
                if (!kept_for(L, s, &lo, &hi))
                    return 0;
                break;
            }
            int64_t from = lo.k, to = hi.k;
            if (to < from - 1) {
                Loc range = s->from->loc;
                range.end = s->to->loc.end;
                diag_error(L->diag, range, "the range %lld..%lld is reversed (an empty range "
                                           "is written a..a-1)", (long long)from, (long long)to);
                break;
            }
            if (!lower_assignable(L, s->name, s->name_loc) ||
                over_limit(L, s->loc, L->d->len + L->steps + (uint64_t)(to - from + 1) >
                                          L->max_nodes) ||
                !lower_enter(L, s->loc))
                break;
            for (int64_t i = from; i <= to; i++, L->steps++) {
                uint32_t mark = L->scope.len;
                int errors = L->diag->errors;
                Affine at = affine_num(i);
                lower_bind_loop(L, s->name, s->name_loc, &at);
                Stmt *inner_return = NULL;
                L->in_for++;
                int ok = lower_stmts(L, def, s->body, 1, ret, &inner_return);
                L->in_for--;
                scope_unbind_to(&L->scope, mark);
                /* an error in one iteration would be the same in the next: one message */
                if (!ok || L->diag->errors != errors || over_limit(L, s->loc, 0)) {
                    L->depth--;
                    return 0;
                }
            }
            L->depth--;
            break;
        }
        }
    }
    return 1;
}

/* Whether the statements (or a loop among them) assign the scalar name. */
static int assigns_scalar(const Stmt *first, const char *name)
{
    for (const Stmt *s = first; s; s = s->next)
        if ((s->kind == S_ASSIGN && s->name == name) ||
            (s->kind == S_FOR && assigns_scalar(s->body, name)))
            return 1;
    return 0;
}

/* Binds the local arrays a body assigns (in loops too), so that they outlive the loop's
 * iterations. */
static void declare_arrays(Lower *L, const Stmt *body, Stmt *first)
{
    for (Stmt *s = first; s; s = s->next) {
        if (s->kind == S_FOR)
            declare_arrays(L, body, s->body);
        if (s->kind != S_ELEM)
            continue;
        Binding *b = scope_lookup(&L->scope, s->name, lower_frame(L));
        if (b && b->kind == B_ARRAY && !b->array->param && b->frame == lower_frame(L))
            continue; /* assign_elem checks each assignment's indices */
        if (assigns_scalar(body, s->name))
            continue; /* a scalar: assign_elem reports its elements */
        if (b && b->frame == lower_frame(L))
            continue; /* an input or a constant: assign_elem reports it */
        if (s->nindex > MAX_RANK) {
            diag_error(L->diag, s->name_loc, "'%s' has %d indices; at most %d", s->name,
                       s->nindex, MAX_RANK);
            continue;
        }
        Array *a = arena_alloc(L->arena, sizeof *a);
        a->name = s->name;
        a->loc = s->name_loc;
        a->rank = s->nindex;
        a->time_at = s->time_at;
        scope_bind(&L->scope, s->name, B_ARRAY, s->name_loc, lower_frame(L))->array = a;
    }
}

/* A definition's body: its local arrays, then its statements or its expression. */
int lower_body(Lower *L, Def *def, Result *r)
{
    if (def->expr)
        return lower_result(L, def->expr, r) && !L->stop;
    declare_arrays(L, def->body, def->body);
    Stmt *returned = NULL;
    if (!lower_stmts(L, def, def->body, 0, r, &returned) || L->stop)
        return 0;
    if (!returned) {
        diag_error(L->diag, def->close_loc, "missing 'return' in the body of '%s'", def->name);
        return 0;
    }
    return 1;
}
