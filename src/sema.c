/*
 * sema.c: checks the definitions and lowers each to a DAG (sema_program, the stage's entry).
 * Input: the Def and Const lists of the parser. Output: a Program with one Func per
 * definition: its parameters (scalars and arrays, differentiated or data, one input slot per
 * scalar; sizes known at run time), its output nodes and the source names of named
 * intermediates. This file holds the file constants (and -D), the definitions by name, each
 * definition's head and a bare expression's inputs; lower.c lowers the bodies, with scope.c,
 * affine.c and kept.c (the stage's private header is sema.h); timefirst.c reorders the
 * indices of recurrences written state first in every definition before any is lowered.
 * Invariants: every error is located and counted; a definition is lowered whole before the
 * next, once, or twice when --unroll kept a sum of a vector result (the second time without),
 * and again, quietly, while its recurrences have states nothing reads (lower_live).
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sema.h"

#define DEFAULT_MAX_NODES 10000000u

/* ---- file constants ----------------------------------------------------------------------- */

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

/* ---- a definition's head: its name, inputs and run-time sizes ----------------------------- */

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
            if (e->kind == A_INDEX && e->lhs) /* a call's value: cons(x)[1] */
                lower_push(L, e->lhs);
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
    b->aff = affine_num(0);
    b->aff.c[1 + f->nsizes] = 1;
    f->size_slot[f->nsizes] = UINT32_MAX;
    f->size[f->nsizes++] = x->name;
    return 1;
}

/* Whether `name` is read in an index or a range's bound of the expression, or passed as a
 * size of a definition it calls. Iterative: an expression may be deep; its indices and bounds
 * are short. */
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
        Def *callee = e->kind == A_CALL && scope_function_kind(e->name) == N_KINDS ?
                      scope_find_def(L, e->name) : NULL;
        int position = 0;
        for (Ast *a = e->kind == A_CALL || e->kind == A_INDEX || e->kind == A_LIST ? e->args :
                      NULL; a; a = a->next, position++) {
            int size = callee && position < callee->nparams &&
                       sema_size_param(L, callee, position);
            lower_push(L, a);
            L->stack[L->stack_top - 1].expanded = fr.expanded || e->kind == A_INDEX || size;
        }
        Ast *ops[2] = {e->lhs, e->rhs}; /* (an A_INDEX's lhs: the call it indexes) */
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

/* Whether a data input of a definition is a size: a scalar read in an index or a bound (or
 * passed as a callee's size), or bound as a size already (by an array of the head before
 * it). */
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

int sema_size_param(Lower *L, Def *def, int position)
{
    if (!def->sizes) {
        if (def->sizing)
            return 0;
        def->sizing = 1;
        /* in a frame of its own: no caller's binding of the same name counts */
        int had = lower_set_frame(L, ++L->next_frame);
        uint8_t *sizes = arena_alloc(L->arena, (size_t)def->nparams + 1);
        int j = 0;
        for (const Ast *a = def->params; a; a = a->next, j++) {
            int named = 0;
            for (const Ast *p = def->params; p != a && a->kind == A_VAR; p = p->next)
                for (const Ast *x = p->kind == A_INDEX ? p->args : NULL; x; x = x->next)
                    named |= x->kind == A_VAR && strcmp(x->name, a->name) == 0;
            sizes[j] = (uint8_t)(j >= def->ndiff && (named || is_size_input(L, def, a, j)));
        }
        lower_set_frame(L, had);
        def->sizes = sizes;
        def->sizing = 0;
    }
    return def->sizes[position];
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
        p->rt_size = p->rt_size2 = -1;
        p->size = 1;
        for (Ast *x = a->kind == A_INDEX ? a->args : NULL; x; x = x->next) {
            if (p->rank == MAX_RANK) {
                diag_error(L->diag, x->loc, "an array has at most %d indices", MAX_RANK);
                ok = 0;
                break;
            }
            if (x->kind == A_VAR && strcmp(x->name, "pi") != 0 &&
                !scope_lookup(&L->scope, x->name, lower_frame(L))) {
                if (p->rank == 1 && p->rt_size < 0 && !x->next && a->args->kind == A_VAR) {
                    diag_error(L->diag, x->loc, "'%s' is not a constant, but '%s' before it is: "
                                                "an array's second size may be known at run "
                                                "time only with its first (give both, or "
                                                "neither, with -D or as NAME=VALUE)", x->name,
                               a->args->name);
                    ok = 0;
                    break;
                }
                if (p->rank > 0 && !(p->rank == 1 && p->rt_size >= 0 && !x->next)) {
                    diag_error(L->diag, x->loc, "'%s' is not a constant, and only an array's "
                                                "first size, or both of two, may be known at "
                                                "run time (x[%s][3], X[rows][%s])",
                               x->name, x->name, x->name);
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
                int second = p->rank == 1 && p->rt_size >= 0 && !x->next;
                if ((p->rank > 0 && !second) || !affine_eq(&v, &just)) {
                    diag_error(L->diag, x->loc, "only an array's first size, or both of two, "
                                                "may be known at run time, each a name alone "
                                                "(x[n][3], X[n][m])");
                    ok = 0;
                    break;
                }
                *(second ? &p->rt_size2 : &p->rt_size) = s;
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

/* ---- definitions -------------------------------------------------------------------------- */

static void warn_unused(Lower *L, Stmt *first)
{
    for (Stmt *s = first; s; s = s->next) {
        if (s->kind == S_FOR)
            warn_unused(L, s->body);
        else if (s->kind == S_ASSIGN && !s->used && s->name_loc.first_line)
            diag_warning(L->diag, s->name_loc, "'%s' is assigned but never used", s->name);
    }
}

static void lower_def_once(Lower *L, Def *def, Func *f)
{
    L->f = f;
    L->scope.dag = L->d = &f->dag;
    f->def = def;
    f->name = def->name;
    dag_init(&f->dag);
    /* up to a node per 5 bytes of its text (`sin(` ... `)`: a call inlined is more, a sum
     * unrolled far more: the DAG grows as usual past it), and twice that for a gradient's
     * nodes, so that differentiating does not copy the DAG to grow it (room not written is
     * not memory; at most MAX_RESERVE nodes, a few GB of address space) */
    uint32_t text = def->loc.end - def->loc.begin;
    dag_reserve(&f->dag, text / 5 < MAX_RESERVE / 3 ? text / 5 * 3 : MAX_RESERVE);
    f->dag.fold = L->p->real == REAL_DOUBLE;
    f->nroots = 1;
    f->roots = arena_alloc(L->arena, sizeof *f->roots);
    f->entries = 1u << ENTRY_VALUE | 1u << ENTRY_GRAD;
    L->calls[0].def = def;
    L->calls[0].id = ++L->next_frame;
    L->ncalls = 1;
    L->stop = 0;
    L->nfinals = 0;
    L->nrec = 0;
    L->nkeys = 0;
    L->steps = 0;
    L->def_errors = L->diag->errors;
    L->called_failed = 0;
    int printed = L->diag->printed;
    uint32_t mark = L->scope.len;
    int ok = lower_params(L, def, f);
    f->input = xrealloc(NULL, (f->ninputs + 1) * sizeof *f->input);
    for (uint32_t s = 0; ok && s < f->ninputs; s++)
        f->input[s] = dag_input(&f->dag, s);
    if (ok) {
        int errors = L->diag->errors;
        bind_params(L, f);
        Result r = {0};
        int lowered = lower_body(L, def, &r);
        if (lowered && r.vector && !f->nsizes && f->nloops) {
            f->vector = 1; /* sums kept by --unroll: lower_def unrolls them */
        } else if (lowered) {
            f->roots = r.nodes;
            f->nroots = (int)r.n;
            f->vector = r.vector;
            f->entries = 1u << ENTRY_VALUE | 1u << (r.vector ? ENTRY_JAC : ENTRY_GRAD);
        }
        if (def->body && L->diag->errors == errors)
            warn_unused(L, def->body);
        kept_drop_unread(f);
    }
    def->failed = L->diag->errors > L->def_errors;
    /* an error counted where messages were muted (a map's iteration lowered again where a
     * loop reads it) and told by nothing after: said here, where it was found */
    if (def->failed && L->diag->printed == printed && !L->diag->trial && !L->diag->muted &&
        !L->called_failed && !L->npending)
        diag_error(L->diag, L->diag->held[0] ? L->diag->held_loc : def->loc, "%s",
                   L->diag->held[0] ? L->diag->held : "this definition cannot be lowered");
    def->lowered = 1;
    scope_unbind_to(&L->scope, mark);
    L->elems.len = 0;
    if (L->elems.slots)
        memset(L->elems.slots, 0, L->elems.cap * sizeof *L->elems.slots);
}

/* Whether the statements hold a `for` loop. */
static int has_for(const Stmt *s)
{
    for (; s; s = s->next)
        if (s->kind == S_FOR)
            return 1;
    return 0;
}

/* A lowering of def whose messages are counted, not printed, and whose result is thrown
 * away: whether it had an error; and *vector_loops, whether it gave several values with kept
 * loops of constant sizes. */
static int lower_trial(Lower *L, Def *def, Func *f, int *vector_loops)
{
    int errors = L->diag->errors, recursion = L->recursion_reported;
    L->diag->trial++;
    lower_def_once(L, def, f);
    L->diag->trial--;
    int failed = L->diag->errors != errors;
    *vector_loops = f->vector && f->nloops && !f->nsizes;
    L->diag->errors = errors;
    L->recursion_reported = recursion;
    func_free(f);
    memset(f, 0, sizeof *f);
    return failed;
}

/* Def, lowered into f, lowered again without the states of its recurrences that nothing
 * reads (kept_dead_states), quietly (its messages were told), as long as that finds more
 * (leaving a state out can leave the states only its first value read unread): each lowering
 * replaces f, unless it finds an error. */
static void lower_live(Lower *L, Def *def, Func *f)
{
    StateKey *dead = NULL, *more;
    uint32_t ndead = 0, n;
    while ((n = kept_dead_states(L, f, &more))) {
        dead = xrealloc(dead, (ndead + n) * sizeof *dead);
        memcpy(dead + ndead, more, n * sizeof *dead);
        ndead += n;
        free(more);
        int errors = L->diag->errors, recursion = L->recursion_reported;
        Func before = *f;
        memset(f, 0, sizeof *f);
        L->dead = dead;
        L->ndead = ndead;
        L->diag->trial++;
        lower_def_once(L, def, f);
        L->diag->trial--;
        L->dead = NULL;
        L->ndead = 0;
        int failed = L->diag->errors != errors;
        L->diag->errors = errors;
        L->recursion_reported = recursion;
        def->failed = 0;
        if (failed) {
            func_free(f);
            *f = before;
            break;
        }
        func_free(&before);
    }
    free(dead);
}

/* A definition. Under --unroll it is lowered first in trials, silently: with its `for` loops
 * over more steps than the option's number kept too, when it has some; where that has an
 * error (a state read at a constant index, a map read outside a kept loop), with them
 * unrolled, only its sums kept; and where that gives several values, with no loop kept,
 * which only a function of one value has. Then for good, its messages printed once, and
 * again without the states of its recurrences that nothing reads (lower_live). */
static void lower_def(Lower *L, Def *def, Func *f)
{
    uint32_t unroll = L->unroll;
    if (unroll) {
        int vector_loops = 0;
        L->keep_for = has_for(def->body);
        if (L->keep_for && lower_trial(L, def, f, &vector_loops))
            L->keep_for = 0;
        if (!L->keep_for)
            lower_trial(L, def, f, &vector_loops);
        if (vector_loops) {
            L->unroll = 0;
            L->keep_for = 0;
        }
    }
    lower_def_once(L, def, f);
    if (!def->failed)
        lower_live(L, def, f);
    L->unroll = unroll;
    L->keep_for = 0;
}

void sema_walk(Ast *a, SemaVisit *visit, void *ctx)
{
    Ast **stack = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        for (; a; a = a->next) {
            visit(a, ctx);
            Ast *kids[3] = {a->lhs, a->rhs, a->args};
            for (int k = 0; k < 3; k++) {
                if (!kids[k])
                    continue;
                if (n == cap) {
                    cap = cap ? 2 * cap : 64;
                    stack = xrealloc(stack, cap * sizeof *stack);
                }
                stack[n++] = kids[k];
            }
        }
        if (!n)
            break;
        a = stack[--n];
    }
    free(stack);
}

void sema_walk_stmts(Stmt *s, SemaVisit *visit, void *ctx)
{
    for (; s; s = s->next) {
        sema_walk(s->index, visit, ctx);
        sema_walk(s->expr, visit, ctx);
        sema_walk(s->from, visit, ctx);
        sema_walk(s->to, visit, ctx);
        sema_walk_stmts(s->body, visit, ctx);
    }
}

/* Marks the definition a calls by name (not the language's function of that name): a call
 * the unrolling never reaches (in an empty range) is a call in the source all the same. */
static void mark_called(Ast *a, void *ctx)
{
    const Lower *L = ctx;
    Def *d = a->kind == A_CALL && scope_function_kind(a->name) == N_KINDS ?
             scope_find_def(L, a->name) : NULL;
    if (d)
        d->called = 1;
}

int sema_program(Parse *p, const char *stem, Program *prog)
{
    Diag *diag = p->diag;
    int errors_before = diag->errors;
    int ndefs = 0;
    for (Def *d = p->defs; d; d = d->next)
        ndefs++;
    if (ndefs == 0) {
        Loc start = {1, 1, 0, 0};
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
    for (Def *d = p->defs; d; d = d->next)
        timefirst_reorder(&L, d);
    for (Def *d = p->defs; d; d = d->next) {
        if (!d->name)
            continue;
        if (d->bare)
            free_variables(&L, d);
        lower_def(&L, d, &prog->funcs[prog->nfuncs++]);
        if (d->inline_only) { /* lowered for its errors; its callers inline it */
            func_free(&prog->funcs[--prog->nfuncs]);
            memset(&prog->funcs[prog->nfuncs], 0, sizeof prog->funcs[prog->nfuncs]);
        }
        lower_tell_pending(&L);
    }
    free(L.pending);
    for (Def *d = p->defs; d; d = d->next) {
        sema_walk(d->expr, mark_called, &L);
        sema_walk_stmts(d->body, mark_called, &L);
    }
    for (Def *d = p->defs; prog->nfuncs && d; d = d->next)
        if (d->name && d->inline_only && !d->called)
            diag_warning(diag, d->name_loc, "'%s' is inline and nothing calls it, so it writes "
                                            "nothing", d->name);
    if (prog->nfuncs == 0 && diag->errors == errors_before)
        diag_error(diag, p->defs->loc, "every definition is inline, so there is no function "
                                       "to write: an inline definition is only inlined where "
                                       "another calls it");
    free(L.scope.v);
    free(L.scope.slots);
    free(L.elems.slots);
    free(L.stack);
    free(L.finals);
    free(L.keys);
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
