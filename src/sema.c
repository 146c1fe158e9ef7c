/*
 * sema.c: checks the definitions and lowers each to a DAG. Input: the Def and Const lists of
 * the parser. Output: a Program with one Func per definition: its parameters (scalars and
 * arrays, differentiated or data, one input slot per scalar), its output node and the source
 * names of named intermediates. File constants, loop variables and indices are evaluated here;
 * `for` loops and `sum`/`prod` are unrolled and calls to definitions inlined, so the DAG holds
 * plain arithmetic and hash-consing shares work across iterations and calls. A loop over a
 * range that depends on a size known at run time is kept instead (a Loop: its iteration a
 * Func of its own, read by the function through input slots; see kept.c, and --unroll for
 * sums over constant ranges). Every error is located and counted; the walk over an expression
 * is iterative (an explicit stack), and what
 * recurses (loops, sums and calls inside each other) is bounded by MAX_NESTING. Beside it
 * (private header sema.h), scope.c names in scope and suggests names for unknown ones; affine.c
 * evaluates indices, bounds and sizes and proves indices in bounds; kept.c keeps the loops over
 * run-time ranges.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sema.h"

/* Sums, loops and calls inside each other: the source's nesting, not its size. */
#define MAX_NESTING 1000
#define DEFAULT_MAX_NODES 10000000u

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

/* The node limit: unrolling a loop or sum past it is an error at the loop. */
static int over_limit(Lower *L, Loc loc)
{
    if (L->stop)
        return 1;
    if (L->d->len <= L->max_nodes)
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

/* ---- integer and constant arithmetic ------------------------------------------------------ */

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

/* A file constant's value: arithmetic and functions of numbers and earlier constants. */
static int const_eval(Lower *L, const Ast *e, double *out, int depth)
{
    if (depth > 100) {
        diag_error(L->diag, e->loc, "constant expression nested too deeply");
        return 0;
    }
    double a = 0, b = 0;
    switch (e->kind) {
    case A_NUM:
        *out = e->num;
        return 1;
    case A_VAR: {
        Binding *bd = scope_lookup(&L->scope, e->name, 0);
        if (bd && bd->kind == B_CONST) {
            *out = bd->value;
            return 1;
        }
        if (strcmp(e->name, "pi") == 0) {
            *out = 3.14159265358979323846;
            return 1;
        }
        diag_error(L->diag, e->loc, "'%s' is not a constant defined before this one", e->name);
        return 0;
    }
    case A_POS:
        return const_eval(L, e->lhs, out, depth + 1);
    case A_NEG: case A_ADD: case A_SUB: case A_MUL: case A_DIV: case A_POW:
        if (!const_eval(L, e->lhs, &a, depth + 1) ||
            (e->rhs && !const_eval(L, e->rhs, &b, depth + 1)))
            return 0;
        *out = e->kind == A_NEG ? -a : e->kind == A_ADD ? a + b : e->kind == A_SUB ? a - b :
               e->kind == A_MUL ? a * b : e->kind == A_DIV ? a / b : pow(a, b);
        break;
    case A_CALL: {
        int k = scope_function_kind(e->name);
        if (k == N_KINDS || e->nargs != op_info[k].arity) {
            diag_error(L->diag, e->loc, "a constant may call only the language's functions "
                                        "(not if, sum, prod or a definition), with their "
                                        "number of arguments");
            return 0;
        }
        double v[3] = {0, 0, 0};
        int i = 0;
        for (const Ast *x = e->args; x; x = x->next)
            if (!const_eval(L, x, &v[i++], depth + 1))
                return 0;
        *out = eval_op((NodeKind)k, v[0], v[1], v[2]);
        break;
    }
    case A_CMP: case A_AND: case A_OR: case A_NOT: case A_INDEX: case A_RANGE: case A_LIST:
        diag_error(L->diag, e->loc, "a constant is a number, arithmetic or a function of "
                                    "numbers and earlier constants");
        return 0;
    }
    if (!isfinite(*out)) {
        diag_error(L->diag, e->loc, "this constant is not finite (%g)", *out);
        return 0;
    }
    return 1;
}

/* ---- expressions -------------------------------------------------------------------------- */

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
    for (int j = 0; j <= MAX_SIZES; j++) {
        if (!a->c[j])
            continue;
        NodeId x = j == 0 ? dag_input(d, 0) : size_value(L, j - 1);
        if (a->c[j] != 1)
            x = dag_binary(d, N_MUL, dag_const(d, (double)a->c[j]), x);
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
        case B_SCALAR: return L->kept && b->level == 0 ? kept_capture(L, b->node) : b->node;
        case B_LOOP: return affine_is_const(&b->aff) ? dag_const(L->d, (double)b->aff.k) :
                                                    affine_value(L, &b->aff);
        case B_SIZE: return size_value(L, (int)b->value);
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

static NodeId lower_index(Lower *L, const Ast *e)
{
    Binding *b = scope_lookup(&L->scope, e->name, lower_frame(L));
    if (!b || b->kind != B_ARRAY) {
        diag_error(L->diag, e->loc, b ? "'%s' is not an array" : "unknown array '%s'", e->name);
        return 0;
    }
    if (b->used)
        *b->used = 1;
    const Array *a = b->array;
    Affine v[MAX_RANK];
    if (!affine_indices(L, a, e->args, e->nargs, e->loc, v))
        return 0;
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
                for (int i = 0; i < a->rank; i++)
                    buf_printf(&t, "[%lld]", (long long)idx[i]);
                context_error(L, e->loc, "'%s%s' is read before it is assigned", a->name, t.data);
                buf_free(&t);
            }
            return 0;
        }
        n = el->node;
    }
    return L->kept ? kept_capture(L, n) : n;
}

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
    if (kept && !is_sum) {
        diag_error(L->diag, range->loc, "a product over a run-time range is not supported: "
                                        "for positive factors write exp(sum(..., log(...)))");
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
        return kept_sum(L, e, range, body, &lo, &hi);
    if (is_sum && L->unroll && to - from + 1 > (int64_t)L->unroll && !L->kept) {
        /* a trial: what cannot be kept is unrolled, and the trial's messages are not the
         * source's mistakes (the unrolled sum reports its own) */
        int errors = L->diag->errors;
        L->diag->muted++;
        NodeId r = kept_sum(L, e, range, body, &lo, &hi);
        L->diag->muted--;
        if (r)
            return r;
        L->diag->errors = errors;
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
        failed = !t || over_limit(L, e->loc);
        if (!failed)
            acc = !acc ? t : dag_binary(L->d, is_sum ? N_ADD : N_MUL, acc, t);
    }
    L->depth--;
    if (failed)
        return 0;
    return acc ? acc : dag_const(L->d, is_sum ? 0.0 : 1.0);
}

static int lower_body(Lower *L, Def *def, Result *r);

/* A call of a definition, inlined: its parameters bound to the arguments' nodes and arrays,
 * its body lowered in a frame of its own. Its errors are its own definition's, reported when
 * that is lowered: here they are muted, and only the call's own mistakes are reported. */
static NodeId lower_call_def(Lower *L, Ast *e, Def *def)
{
    if (e->ndiff >= 0) {
        diag_error(L->diag, e->loc, "a call lists its arguments with ','; ';' separates data "
                                    "inputs in a definition's head");
        return 0;
    }
    for (int i = 0; i < L->ncalls; i++) {
        if (L->calls[i].def != def)
            continue;
        /* a cycle is reported where it closes, once, even inside a muted inlined body (where
         * each definition of the cycle would otherwise wait for another to report it) */
        int muted = L->diag->muted;
        L->diag->muted = 0;
        if (!L->recursion_reported) {
            diag_error(L->diag, e->loc, "'%s' calls itself%s: recursion cannot be unrolled",
                       def->name, i + 1 < L->ncalls ? " through other definitions" : "");
            diag_note(L->diag, def->name_loc, "'%s' is defined here", def->name);
        }
        L->recursion_reported = 1;
        L->diag->muted = muted;
        return 0;
    }
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
    /* the arguments are bound in the caller's frame before the callee's is entered */
    const Ast *p = def->params;
    int ok = 1;
    for (Ast *a = e->args; a && ok; a = a->next, p = p->next) {
        if (p->kind == A_VAR) {
            if (a->kind == A_VAR) {
                Binding *ab = scope_lookup(&L->scope, a->name, lower_frame(L));
                if (ab && ab->kind == B_ARRAY) {
                    diag_error(L->diag, a->loc, "'%s' is an array, but '%s' of '%s' is a "
                                                "scalar", a->name, p->name, def->name);
                    ok = 0;
                    break;
                }
            }
            NodeId n = a->node;
            ok = n != 0;
            if (ok)
                scope_bind(&L->scope, p->name, B_SCALAR, p->loc, frame)->node = n;
            continue;
        }
        Binding *ab = a->kind == A_VAR ? scope_lookup(&L->scope, a->name, lower_frame(L)) : NULL;
        if (!ab || ab->kind != B_ARRAY) {
            diag_error(L->diag, a->loc, "'%s' of '%s' is an array: pass a whole array by its "
                                        "name", p->name, def->name);
            ok = 0;
            break;
        }
        if (ab->used)
            *ab->used = 1;
        Array *arr = ab->array;
        int rank = 0;
        int64_t dims[MAX_RANK];
        /* the sizes are the callee's, whose own lowering reports their errors */
        L->diag->muted++;
        for (const Ast *x = p->args; x && rank < MAX_RANK; x = x->next)
            if (!int_eval(L, x, &dims[rank++], 0))
                ok = 0;
        L->diag->muted--;
        if (!ok)
            break;
        /* a local array's shape is the extent of the elements assigned so far */
        if (rank != arr->rank || memcmp(dims, arr->dims, (size_t)rank * sizeof *dims) != 0) {
            Buf want = {0}, have = {0};
            for (int i = 0; i < rank; i++)
                buf_printf(&want, "[%lld]", (long long)dims[i]);
            for (int i = 0; i < arr->rank; i++)
                buf_printf(&have, "[%lld]", (long long)arr->dims[i]);
            diag_error(L->diag, a->loc, "'%s' is %s, but '%s' of '%s' is %s", a->name,
                       have.data, p->name, def->name, want.data);
            buf_free(&want);
            buf_free(&have);
            ok = 0;
        }
        if (ok)
            scope_bind(&L->scope, p->name, B_ARRAY, p->loc, frame)->array = arr;
    }
    NodeId result = 0;
    if (ok) {
        if (L->ncalls == L->calls_cap) {
            L->calls_cap *= 2;
            L->calls = xrealloc(L->calls, (size_t)L->calls_cap * sizeof *L->calls);
        }
        L->calls[L->ncalls].def = def;
        L->calls[L->ncalls].at = e->loc;
        L->calls[L->ncalls++].id = frame;
        int errors = L->diag->errors;
        Result r;
        L->diag->muted++;
        int lowered = lower_body(L, def, &r);
        L->diag->muted--;
        L->ncalls--;
        result = lowered && L->diag->errors == errors ? r.nodes[0] : 0;
        if (lowered && r.vector) {
            diag_error(L->diag, e->loc, "'%s' returns %u values; a call takes one value",
                       def->name, r.n);
            diag_note(L->diag, def->name_loc, "'%s' is defined here", def->name);
            result = 0;
        }
    }
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

/* Whether an argument of call is lowered to a value first: not a range, nor an array passed
 * by name to anything but a function of the language. */
static int lowered_arg(Lower *L, const Ast *call, const Ast *a)
{
    if (a->kind == A_RANGE)
        return 0;
    if (a->kind != A_VAR || is_reduction(call))
        return 1;
    Binding *b = scope_lookup(&L->scope, a->name, lower_frame(L));
    if (!b || b->kind != B_ARRAY)
        return 1;
    /* a function of the language takes values: an array there is an error of lower_var; any
     * other call passes arrays by name (or fails as an unknown function, once) */
    return strcmp(call->name, "if") == 0 || scope_function_kind(call->name) < N_KINDS;
}

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
        case A_INDEX: e->node = lower_index(L, e); break;
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
    if (a->map) {
        if (a->state)
            kept_state_assign(L, s, a, n);
        else
            kept_map_assign(L, s, a, n);
        return;
    }
    int64_t idx[MAX_RANK];
    if (!eval_indices(L, a, s->index, s->nindex, s->name_loc, idx))
        return;
    a->assigned = 1;
    Elem *el = scope_elem_find(&L->elems, a, idx, 1);
    if (el->stmt) {
        Buf t = {0};
        for (int i = 0; i < a->rank; i++)
            buf_printf(&t, "[%lld]", (long long)idx[i]);
        diag_error(L->diag, s->name_loc, "'%s%s' is assigned twice", s->name, t.data);
        diag_note(L->diag, el->stmt->loc, "'%s%s' first assigned here", s->name, t.data);
        buf_free(&t);
        return;
    }
    el->node = n;
    el->stmt = s;
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

/* The elements of an array named as a result, row-major; 0 after an error. */
static int array_result(Lower *L, const Ast *e, const Array *a, Result *r)
{
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
            NodeId n = lower_expr(L, s->expr);
            if (L->stop)
                return 0;
            if (!lower_assignable(L, s->name, s->name_loc)) {
                s->used = 1; /* no warning about what was never assigned */
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
            if (!affine_is_const(&lo) || !affine_is_const(&hi)) {
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
            if (!lower_assignable(L, s->name, s->name_loc) || !lower_enter(L, s->loc))
                break;
            for (int64_t i = from; i <= to; i++) {
                uint32_t mark = L->scope.len;
                int errors = L->diag->errors;
                Affine at = affine_num(i);
                lower_bind_loop(L, s->name, s->name_loc, &at);
                Stmt *inner_return = NULL;
                int ok = lower_stmts(L, def, s->body, 1, ret, &inner_return);
                scope_unbind_to(&L->scope, mark);
                /* an error in one iteration would be the same in the next: one message */
                if (!ok || L->diag->errors != errors || over_limit(L, s->loc)) {
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
        scope_bind(&L->scope, s->name, B_ARRAY, s->name_loc, lower_frame(L))->array = a;
    }
}

static void warn_unused(Lower *L, Stmt *first)
{
    for (Stmt *s = first; s; s = s->next) {
        if (s->kind == S_FOR)
            warn_unused(L, s->body);
        else if (s->kind == S_ASSIGN && !s->used && s->name_loc.first_line)
            diag_warning(L->diag, s->name_loc, "'%s' is assigned but never used", s->name);
    }
}

/* A definition's body: its local arrays, then its statements or its expression. */
static int lower_body(Lower *L, Def *def, Result *r)
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

/* ---- definitions -------------------------------------------------------------------------- */

/* A name a definition's head uses as an array's size without defining it: a size known at run
 * time (a C parameter of every entry point). */
static int declare_size(Lower *L, const Ast *x)
{
    Func *f = L->f;
    if (f->nsizes == MAX_SIZES) {
        diag_error(L->diag, x->loc, "'%s' is unknown, and a definition has at most %d sizes "
                                    "known at run time", x->name, MAX_SIZES);
        return 0;
    }
    Binding *b = scope_bind(&L->scope, x->name, B_SIZE, x->loc, lower_frame(L));
    b->value = f->nsizes;
    b->aff = affine_num(0);
    b->aff.c[1 + f->nsizes] = 1;
    f->size_slot[f->nsizes] = UINT32_MAX;
    f->size[f->nsizes++] = x->name;
    return 1;
}

/* Whether `name` is read in an index or a range's bound of the expression. Iterative: an
 * expression may be deep; its indices and bounds are short. */
static int in_index(Lower *L, Ast *root, const char *name, int bound)
{
    size_t base = L->stack_top;
    int found = 0;
    lower_push(L, root);
    L->stack[L->stack_top - 1].expanded = bound;
    while (L->stack_top > base) {
        Frame fr = L->stack[--L->stack_top];
        const Ast *e = fr.e;
        found |= fr.expanded && e->kind == A_VAR && e->name == name;
        if (e->kind == A_RANGE) {
            lower_push(L, e->lhs);
            lower_push(L, e->rhs);
            L->stack[L->stack_top - 1].expanded = L->stack[L->stack_top - 2].expanded = 1;
            continue;
        }
        for (Ast *a = e->kind == A_CALL || e->kind == A_INDEX || e->kind == A_LIST ? e->args :
                      NULL; a; a = a->next) {
            lower_push(L, a);
            L->stack[L->stack_top - 1].expanded = fr.expanded || e->kind == A_INDEX;
        }
        Ast *ops[2] = {e->lhs, e->rhs};
        for (int i = 0; i < 2 && e->kind != A_RANGE; i++) {
            if (!ops[i])
                continue;
            lower_push(L, ops[i]);
            L->stack[L->stack_top - 1].expanded = fr.expanded;
        }
    }
    return found;
}

static int stmts_index(Lower *L, Stmt *first, const char *name)
{
    for (Stmt *s = first; s; s = s->next) {
        for (Ast *x = s->index; x; x = x->next)
            if (in_index(L, x, name, 1))
                return 1;
        if ((s->expr && in_index(L, s->expr, name, 0)) ||
            (s->kind == S_FOR && (in_index(L, s->from, name, 1) || in_index(L, s->to, name, 1) ||
                                  stmts_index(L, s->body, name))))
            return 1;
    }
    return 0;
}

/* A name in a size's expression that is neither a constant nor a size, or NULL. Depth-limited
 * recursion: affine_eval reports what is deeper. */
static const Ast *unknown_name(Lower *L, const Ast *e, int depth)
{
    if (!e || depth > 100)
        return NULL;
    if (e->kind == A_VAR)
        return strcmp(e->name, "pi") != 0 && !scope_lookup(&L->scope, e->name, lower_frame(L)) ?
               e : NULL;
    const Ast *u = unknown_name(L, e->lhs, depth + 1);
    return u ? u : unknown_name(L, e->rhs, depth + 1);
}

/* Whether a data input of a definition is a size: a scalar read in an index or a bound. */
static int is_size_input(Lower *L, const Def *def, const Ast *a, int position)
{
    if (a->kind != A_VAR || position < def->ndiff)
        return 0;
    Binding *b = scope_lookup(&L->scope, a->name, lower_frame(L));
    if (b && b->kind == B_SIZE)
        return 1;
    return (def->expr && in_index(L, def->expr, a->name, 0)) ||
           stmts_index(L, def->body, a->name);
}

/* The parameters: names, sizes, kinds; each scalar an input slot. */
static int lower_params(Lower *L, Def *def, Func *f)
{
    int ok = 1;
    f->params = arena_alloc(L->arena, (size_t)(def->nparams + 1) * sizeof *f->params);
    uint64_t slots = 0;
    int i = 0, position = 0;
    for (Ast *a = def->params; a; a = a->next, position++) {
        if (is_size_input(L, def, a, position)) {
            if (!scope_lookup(&L->scope, a->name, lower_frame(L)) && !declare_size(L, a))
                return 0;
            continue;
        }
        Param *p = &f->params[i++];
        p->name = a->name;
        p->loc = a->loc;
        p->kind = position < def->ndiff ? PARAM_DIFF : PARAM_DATA;
        p->rt_size = -1;
        p->size = 1;
        for (Ast *x = a->kind == A_INDEX ? a->args : NULL; x; x = x->next) {
            if (p->rank == MAX_RANK) {
                diag_error(L->diag, x->loc, "an array has at most %d indices", MAX_RANK);
                ok = 0;
                break;
            }
            if (x->kind == A_VAR && strcmp(x->name, "pi") != 0 &&
                !scope_lookup(&L->scope, x->name, lower_frame(L))) {
                if (p->rank > 0) {
                    diag_error(L->diag, x->loc, "'%s' is not a constant, and only an array's "
                                                "first size may be known at run time "
                                                "(x[%s][3])", x->name, x->name);
                    ok = 0;
                    break;
                }
                if (!declare_size(L, x))
                    return 0;
            }
            const Ast *unknown = x->kind != A_VAR ? unknown_name(L, x, 0) : NULL;
            if (unknown) {
                diag_error(L->diag, unknown->loc, "'%s' is not a constant, and a size known at "
                                                  "run time is a name alone (x[%s], not an "
                                                  "expression of it)", unknown->name,
                           unknown->name);
                ok = 0;
                break;
            }
            Affine v;
            if (!affine_eval(L, x, &v, 0)) {
                ok = 0;
                break;
            }
            if (!affine_is_const(&v)) {
                int s = 0;
                while (s < MAX_SIZES && !v.c[1 + s])
                    s++;
                Affine just = affine_num(0);
                just.c[1 + s] = 1;
                if (p->rank > 0 || !affine_eq(&v, &just)) {
                    diag_error(L->diag, x->loc, "only an array's first size may be known at "
                                                "run time, and it is then a name alone "
                                                "(x[n][3])");
                    ok = 0;
                    break;
                }
                p->rt_size = s;
                p->dims[p->rank++] = 0;
                continue;
            }
            int64_t n = v.k;
            if (n < 1 || n > (int64_t)UINT32_MAX) {
                diag_error(L->diag, x->loc, "an array size must be at least 1, not %lld",
                           (long long)n);
                ok = 0;
                break;
            }
            p->dims[p->rank++] = (uint32_t)n;
            p->size = (uint32_t)((uint64_t)p->size * (uint64_t)n > UINT32_MAX ? 0 :
                                 (uint64_t)p->size * (uint64_t)n);
        }
        if (p->rt_size >= 0)
            p->size = 0;
        p->first = (uint32_t)slots;
        slots += p->size;
        if ((!p->size && p->rt_size < 0) || slots > L->max_nodes) {
            diag_error(L->diag, a->loc, "the inputs have more than %u elements", L->max_nodes);
            return 0;
        }
    }
    f->nparams = i;
    f->ninputs = (uint32_t)slots;
    return ok;
}

static void bind_params(Lower *L, Func *f)
{
    for (int i = 0; i < f->nparams; i++) {
        Param *p = &f->params[i];
        const char *name = p->name;
        if (strcmp(name, "pi") == 0) {
            diag_error(L->diag, p->loc, "'pi' is a predefined constant and cannot name an input");
            continue;
        }
        Binding *b = scope_lookup(&L->scope, name, lower_frame(L));
        if (b && b->frame != 0) {
            diag_error(L->diag, p->loc, "duplicate input '%s'", name);
            diag_note(L->diag, b->loc, "'%s' first declared here", name);
            continue;
        }
        b = scope_bind(&L->scope, name, p->rank ? B_ARRAY : B_SCALAR, p->loc, lower_frame(L));
        b->input = 1;
        if (!p->rank) {
            b->node = f->input[p->first];
            continue;
        }
        Array *a = arena_alloc(L->arena, sizeof *a);
        a->name = name;
        a->loc = p->loc;
        a->rank = p->rank;
        for (int k = 0; k < p->rank; k++)
            a->dims[k] = p->dims[k];
        a->param = p;
        b->array = a;
    }
}

static void lower_def_once(Lower *L, Def *def, Func *f)
{
    L->f = f;
    L->d = &f->dag;
    f->def = def;
    f->name = def->name;
    dag_init(&f->dag);
    f->dag.fold = L->p->real == REAL_DOUBLE;
    f->nroots = 1;
    f->roots = arena_alloc(L->arena, sizeof *f->roots);
    f->entries = 1u << ENTRY_VALUE | 1u << ENTRY_GRAD;
    L->calls[0].def = def;
    L->calls[0].id = ++L->next_frame;
    L->ncalls = 1;
    L->stop = 0;
    L->nfinals = 0;
    L->def_errors = L->diag->errors;
    uint32_t mark = L->scope.len;
    int ok = lower_params(L, def, f);
    f->input = xrealloc(NULL, (f->ninputs + 1) * sizeof *f->input);
    for (uint32_t s = 0; ok && s < f->ninputs; s++)
        f->input[s] = dag_input(&f->dag, s);
    if (ok) {
        int errors = L->diag->errors;
        bind_params(L, f);
        Result r;
        int lowered = lower_body(L, def, &r);
        if (lowered && r.vector && !f->nsizes && f->nloops) {
            f->vector = 1; /* sums kept by --unroll: lower_def unrolls them */
        } else if (lowered && r.vector && f->nsizes) {
            diag_error(L->diag, def->name_loc, "'%s' has sizes known only at run time, so it "
                                               "returns one value (not a list or an array)",
                       def->name);
        } else if (lowered) {
            f->roots = r.nodes;
            f->nroots = (int)r.n;
            f->vector = r.vector;
            f->entries = 1u << ENTRY_VALUE | 1u << (r.vector ? ENTRY_JAC : ENTRY_GRAD);
        }
        if (def->body && L->diag->errors == errors)
            warn_unused(L, def->body);
    }
    scope_unbind_to(&L->scope, mark);
    L->elems.len = 0;
    if (L->elems.slots)
        memset(L->elems.slots, 0, L->elems.cap * sizeof *L->elems.slots);
}

/* A definition; one of several values is lowered again without kept sums (--unroll), which
 * only a function of one value has. */
static void lower_def(Lower *L, Def *def, Func *f)
{
    lower_def_once(L, def, f);
    if (!f->vector || !f->nloops || f->nsizes)
        return;
    func_free(f);
    memset(f, 0, sizeof *f);
    uint32_t unroll = L->unroll;
    L->unroll = 0;
    lower_def_once(L, def, f);
    L->unroll = unroll;
}

/* A file name's stem made a C identifier: "dir/my-model.expr" -> "my_model". */
static const char *stem_identifier(Parse *p, const char *stem)
{
    Buf b = {0};
    if (!isalpha((unsigned char)stem[0]) && stem[0] != '_')
        buf_printf(&b, "f_");
    for (const char *c = stem; *c; c++)
        buf_printf(&b, "%c", isalnum((unsigned char)*c) ? *c : '_');
    const char *name = intern(p->names, p->arena, b.data, b.len);
    buf_free(&b);
    return name;
}

/* A bare expression's inputs: its free variables in order of first appearance (not pi, a
 * constant of the file or a range's variable). */
static void free_variables(Lower *L, Def *def)
{
    Parse *p = L->p;
    Scope seen = {0};
    Ast *params = NULL, *last = NULL;
    size_t base = L->stack_top;
    lower_push(L, def->expr);
    while (L->stack_top > base) {
        Ast *e = L->stack[--L->stack_top].e;
        if (e->kind == A_RANGE)
            scope_bind(&seen, e->name, B_LOOP, e->loc, 1);
        if (e->kind == A_VAR && strcmp(e->name, "pi") != 0 && !scope_lookup(&seen, e->name, 1) &&
            !scope_lookup(&L->scope, e->name, 0)) {
            scope_bind(&seen, e->name, B_SCALAR, e->loc, 1);
            Ast *param = ast_new(p, A_VAR, e->loc);
            param->name = e->name;
            if (last)
                last->next = param;
            else
                params = param;
            last = param;
            def->nparams++;
        }
        size_t first = L->stack_top;
        if (e->kind == A_CALL || e->kind == A_INDEX || e->kind == A_LIST) {
            for (Ast *a = e->args; a; a = a->next)
                lower_push(L, a);
        } else {
            if (e->lhs)
                lower_push(L, e->lhs);
            if (e->rhs)
                lower_push(L, e->rhs);
        }
        for (size_t i = first, j = L->stack_top ? L->stack_top - 1 : 0; i < j; i++, j--) {
            Frame t = L->stack[i];
            L->stack[i] = L->stack[j];
            L->stack[j] = t;
        }
    }
    def->params = params;
    def->ndiff = def->nparams;
    free(seen.v);
    free(seen.slots);
}

/* The file constants, in order, with -D overrides (and additions). */
static void lower_consts(Lower *L)
{
    Parse *p = L->p;
    for (Const *c = p->consts; c; c = c->next) {
        Binding *prev = scope_lookup(&L->scope, c->name, 0);
        if (prev) {
            diag_error(L->diag, c->loc, "constant '%s' is defined twice", c->name);
            diag_note(L->diag, prev->loc, "'%s' first defined here", c->name);
            continue;
        }
        if (strcmp(c->name, "pi") == 0) {
            diag_error(L->diag, c->loc, "cannot redefine 'pi', a predefined constant");
            continue;
        }
        double v = 0;
        const char *text = NULL;
        for (int i = 0; i < p->ndefines; i++) {
            size_t n = strcspn(p->defines[i], "=");
            if (strncmp(p->defines[i], c->name, n) == 0 && c->name[n] == '\0')
                text = p->defines[i] + n + 1; /* the last -D wins, as with cc */
        }
        int failed = 0;
        if (text)
            v = strtod(text, NULL);
        else if (!const_eval(L, c->expr, &v, 0))
            failed = 1;
        else if (c->expr->kind == A_NUM)
            text = lower_source_text(L, c->expr->loc);
        Binding *b = scope_bind(&L->scope, c->name, B_CONST, c->loc, 0);
        b->value = v;
        b->text = text;
        b->failed = failed;
    }
    for (int i = p->ndefines - 1; i >= 0; i--) { /* the last -D of a name wins, as with cc */
        size_t n = strcspn(p->defines[i], "=");
        const char *name = intern(p->names, p->arena, p->defines[i], n);
        if (strcmp(name, "pi") == 0) {
            diag_error(L->diag, DIAG_WHOLE_FILE, "-D cannot redefine 'pi', a predefined "
                                                 "constant");
            continue;
        }
        if (scope_lookup(&L->scope, name, 0))
            continue;
        Binding *b = scope_bind(&L->scope, name, B_CONST, DIAG_WHOLE_FILE, 0);
        b->text = p->defines[i] + n + 1;
        b->value = strtod(b->text, NULL);
    }
}

int sema_program(Parse *p, const char *stem, Program *prog)
{
    Diag *diag = p->diag;
    int errors_before = diag->errors;
    int ndefs = 0;
    for (Def *d = p->defs; d; d = d->next)
        ndefs++;
    if (ndefs == 0) {
        Loc start = {1, 1, 1, 1, 0, 0};
        diag_error(diag, start, "empty file: expected a definition or an expression");
        return 1;
    }
    for (Def *d = p->defs; d; d = d->next) {
        if (!d->bare)
            continue;
        if (ndefs > 1) {
            diag_error(diag, d->loc, "a bare expression must be alone in its file; "
                                     "write it as a definition such as 'g(x) = ...'");
            return diag->errors - errors_before;
        }
        d->name = stem_identifier(p, stem);
        d->name_loc = d->loc;
    }

    Lower L = {.p = p, .diag = diag, .arena = p->arena};
    L.max_nodes = p->max_nodes ? p->max_nodes : DEFAULT_MAX_NODES;
    L.unroll = p->unroll;
    L.calls_cap = 16;
    L.calls = xrealloc(NULL, (size_t)L.calls_cap * sizeof *L.calls);
    L.defs_cap = 16;
    while (L.defs_cap < 2 * (size_t)ndefs)
        L.defs_cap *= 2;
    L.defs = xrealloc(NULL, L.defs_cap * sizeof *L.defs);
    memset(L.defs, 0, L.defs_cap * sizeof *L.defs);
    lower_consts(&L);

    prog->funcs = xrealloc(NULL, (size_t)ndefs * sizeof *prog->funcs);
    memset(prog->funcs, 0, (size_t)ndefs * sizeof *prog->funcs);
    prog->nfuncs = 0;
    for (Def *d = p->defs; d; d = d->next) {
        Def *prev = scope_add_def(&L, d);
        if (prev) {
            diag_error(diag, d->name_loc, "redefinition of '%s'", d->name);
            diag_note(diag, prev->name_loc, "previous definition of '%s' is here", d->name);
            d->name = NULL;
            continue;
        }
    }
    for (Def *d = p->defs; d; d = d->next) {
        if (!d->name)
            continue;
        if (d->bare)
            free_variables(&L, d);
        lower_def(&L, d, &prog->funcs[prog->nfuncs++]);
    }
    free(L.scope.v);
    free(L.scope.slots);
    free(L.elems.slots);
    free(L.stack);
    free(L.finals);
    free(L.calls);
    free(L.defs);
    return diag->errors - errors_before;
}

void program_free(Program *prog)
{
    for (int i = 0; i < prog->nfuncs; i++)
        func_free(&prog->funcs[i]);
    free(prog->funcs);
    prog->funcs = NULL;
    prog->nfuncs = 0;
}
