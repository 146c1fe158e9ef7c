/*
 * sema.c: checks the definitions and lowers each to a DAG. Input: the Def list of the parser.
 * Output: a Program with one Func per definition, its inputs as nodes 1..n, its output node
 * and the source names of named intermediates. Every error is located and counted; the walk
 * over an expression is iterative (an explicit stack), so nesting depth is bounded by memory,
 * not by the C stack.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

/* A name in scope: an input or a named intermediate, or a defined function. */
typedef struct {
    const char *name;
    NodeId node;
    Loc loc;
    int is_input;
    int used;
} Binding;

/* Open addressing over interned name pointers. */
typedef struct {
    Binding *slots;
    size_t cap, len;
} Scope;

static size_t hash_ptr(const void *p)
{
    uintptr_t u = (uintptr_t)p;
    return (size_t)((u >> 4) * 0x9E3779B97F4A7C15u >> 7);
}

static void scope_init(Scope *s)
{
    s->cap = 64;
    s->len = 0;
    s->slots = xrealloc(NULL, s->cap * sizeof *s->slots);
    memset(s->slots, 0, s->cap * sizeof *s->slots);
}

static Binding *scope_find(Scope *s, const char *name)
{
    size_t j = hash_ptr(name) & (s->cap - 1);
    for (; s->slots[j].name; j = (j + 1) & (s->cap - 1))
        if (s->slots[j].name == name)
            return &s->slots[j];
    return NULL;
}

static Binding *scope_add(Scope *s, const char *name)
{
    if (2 * (s->len + 1) > s->cap) {
        Scope bigger = {NULL, s->cap * 2, 0};
        bigger.slots = xrealloc(NULL, bigger.cap * sizeof *bigger.slots);
        memset(bigger.slots, 0, bigger.cap * sizeof *bigger.slots);
        for (size_t i = 0; i < s->cap; i++)
            if (s->slots[i].name)
                *scope_add(&bigger, s->slots[i].name) = s->slots[i];
        free(s->slots);
        *s = bigger;
    }
    size_t j = hash_ptr(name) & (s->cap - 1);
    while (s->slots[j].name)
        j = (j + 1) & (s->cap - 1);
    s->len++;
    s->slots[j].name = name;
    return &s->slots[j];
}

static void scope_free(Scope *s)
{
    free(s->slots);
}

typedef struct {
    Ast *e;
    int expanded;
} Frame;

typedef struct {
    Parse *p;
    Func *f;
    Scope scope;
    Frame *stack;
    size_t stack_cap;
} Lower;

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 16 || lb > 16)
        return 99;
    size_t row[17];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static void unknown_function(Lower *L, const Ast *e)
{
    const char *best = NULL;
    size_t best_d = 3;
    for (int k = 0; k < N_KINDS; k++) {
        size_t dist = op_info[k].lang ? edit_distance(e->name, op_info[k].lang) : 99;
        if (dist < best_d) {
            best_d = dist;
            best = op_info[k].lang;
        }
    }
    Loc loc = e->loc;
    loc.end = loc.begin + strlen(e->name);
    if (best)
        diag_error(L->p->diag, loc, "unknown function '%s'; did you mean '%s'?", e->name, best);
    else
        diag_error(L->p->diag, loc, "unknown function '%s'", e->name);
}

/* pi to more digits than any long double holds */
#define PI_DIGITS "3.14159265358979323846264338327950288"

/* The constant v, written `text` in the source. Code that computes in float or long double
 * prints the text, so that the C compiler rounds what the user wrote to that type directly
 * (0.1f, or pi to long double precision) rather than a double's digits. */
static NodeId spelled_const(Lower *L, double v, const char *text, size_t len)
{
    Dag *d = &L->f->dag;
    NodeId n = dag_const(d, v);
    if (L->p->real != REAL_DOUBLE && !d->meta[n].label)
        d->meta[n].label = arena_strndup(L->p->arena, text, len);
    return n;
}

static NodeId lower_var(Lower *L, const Ast *e)
{
    Binding *b = scope_find(&L->scope, e->name);
    if (b) {
        b->used = 1;
        return b->node;
    }
    if (strcmp(e->name, "pi") == 0)
        return spelled_const(L, 3.14159265358979323846, PI_DIGITS, strlen(PI_DIGITS));
    diag_error(L->p->diag, e->loc, "unknown variable '%s'", e->name);
    return 0;
}

static NodeId lower_call(Lower *L, const Ast *e)
{
    int k = 0;
    while (k < N_KINDS && !(op_info[k].lang && strcmp(op_info[k].lang, e->name) == 0))
        k++;
    if (k == N_KINDS) {
        unknown_function(L, e);
        return 0;
    }
    int arity = op_info[k].arity;
    if (e->nargs != arity) {
        diag_error(L->p->diag, e->loc, "'%s' takes %d argument%s, but %d %s given", e->name,
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
    Dag *d = &L->f->dag;
    if (k == N_POW)
        return dag_pow(d, arg[0], arg[1]);
    return dag_op(d, (NodeKind)k, arg[0], arg[1], arg[2]);
}

static void push(Lower *L, size_t *top, Ast *e)
{
    if (*top == L->stack_cap) {
        L->stack_cap = L->stack_cap ? 2 * L->stack_cap : 256;
        L->stack = xrealloc(L->stack, L->stack_cap * sizeof *L->stack);
    }
    L->stack[*top].e = e;
    L->stack[*top].expanded = 0;
    (*top)++;
}

/* Post-order over the tree with an explicit stack: an entry is seen once to push its
 * operands and once more, when they are done, to build its node. Operands are pushed right
 * to left so that errors come out in source order. A failed operand yields 0 and its
 * parent fails silently: one message per mistake. */
static NodeId lower_expr(Lower *L, Ast *root)
{
    Dag *d = &L->f->dag;
    size_t top = 0;
    push(L, &top, root);
    while (top > 0) {
        Frame *fr = &L->stack[top - 1];
        Ast *e = fr->e;
        if (!fr->expanded) {
            fr->expanded = 1;
            size_t base = top;
            if (e->kind == A_CALL) {
                for (Ast *a = e->args; a; a = a->next)
                    push(L, &top, a);
            } else {
                if (e->lhs)
                    push(L, &top, e->lhs);
                if (e->rhs)
                    push(L, &top, e->rhs);
            }
            for (size_t i = base, j = top - 1; i < j; i++, j--) {
                Frame t = L->stack[i];
                L->stack[i] = L->stack[j];
                L->stack[j] = t;
            }
            continue;
        }
        top--;
        NodeId a = e->lhs ? e->lhs->node : 0, b = e->rhs ? e->rhs->node : 0;
        NodeId mark = d->len;
        int failed = (e->lhs && !a) || (e->rhs && !b);
        switch (e->kind) {
        case A_NUM:
            e->node = spelled_const(L, e->num, L->p->diag->src + e->loc.begin,
                                    e->loc.end - e->loc.begin);
            break;
        case A_VAR: e->node = lower_var(L, e); break;
        case A_CALL: e->node = lower_call(L, e); break;
        case A_POS: e->node = a; break;
        case A_NEG: e->node = failed ? 0 : dag_unary(d, N_NEG, a); break;
        case A_ADD: e->node = failed ? 0 : dag_binary(d, N_ADD, a, b); break;
        case A_SUB: e->node = failed ? 0 : dag_binary(d, N_SUB, a, b); break;
        case A_MUL: e->node = failed ? 0 : dag_binary(d, N_MUL, a, b); break;
        case A_DIV: e->node = failed ? 0 : dag_binary(d, N_DIV, a, b); break;
        case A_POW: e->node = failed ? 0 : dag_pow(d, a, b); break;
        }
        dag_mark_lines(d, mark, e->loc.first_line);
    }
    return root->node;
}

static void name_node(Func *f, NodeId n, const char *name)
{
    if (node_is_op(&f->dag, n) && !f->dag.meta[n].label)
        f->dag.meta[n].label = name;
}

static void add_input(Lower *L, Ast *param, uint32_t slot)
{
    Diag *diag = L->p->diag;
    if (strcmp(param->name, "pi") == 0) {
        diag_error(diag, param->loc, "'pi' is a predefined constant and cannot name an input");
        return;
    }
    Binding *b = scope_find(&L->scope, param->name);
    if (b) {
        diag_error(diag, param->loc, "duplicate input '%s'", param->name);
        diag_note(diag, b->loc, "'%s' first declared here", param->name);
        return;
    }
    b = scope_add(&L->scope, param->name);
    b->node = dag_input(&L->f->dag, slot);
    b->loc = param->loc;
    b->is_input = 1;
    b->used = 1;
}

static void assign(Lower *L, Stmt *s, NodeId n)
{
    Diag *diag = L->p->diag;
    if (strcmp(s->name, "pi") == 0) {
        diag_error(diag, s->name_loc, "cannot assign to 'pi', a predefined constant");
        return;
    }
    Binding *b = scope_find(&L->scope, s->name);
    if (b && b->is_input) {
        diag_error(diag, s->name_loc, "cannot assign to input '%s'", s->name);
        diag_note(diag, b->loc, "'%s' is declared as an input here", s->name);
        return;
    }
    if (b) {
        diag_error(diag, s->name_loc, "'%s' is assigned twice", s->name);
        diag_note(diag, b->loc, "'%s' first assigned here", s->name);
        return;
    }
    /* bound even when its expression failed (n == 0): later uses then stay silent */
    b = scope_add(&L->scope, s->name);
    b->node = n;
    b->loc = s->name_loc;
    if (n)
        name_node(L->f, n, s->name);
}

static void lower_block(Lower *L, Def *def)
{
    Diag *diag = L->p->diag;
    Stmt *ret = NULL;
    for (Stmt *s = def->body; s; s = s->next) {
        if (ret) {
            diag_error(diag, s->loc, "statement after 'return' in '%s'", def->name);
            return;
        }
        NodeId n = lower_expr(L, s->expr);
        if (s->name) {
            assign(L, s, n);
        } else {
            ret = s;
            L->f->roots[0] = n;
        }
    }
    if (!ret) {
        diag_error(diag, def->close_loc, "missing 'return' in the body of '%s'", def->name);
        return;
    }
    for (Stmt *s = def->body; s; s = s->next) {
        Binding *b = s->name ? scope_find(&L->scope, s->name) : NULL;
        if (b && !b->is_input && !b->used && b->loc.begin == s->name_loc.begin)
            diag_warning(diag, s->name_loc, "'%s' is assigned but never used", s->name);
    }
}

/* A bare expression's inputs: its free variables in order of first appearance. */
static void free_variables(Lower *L, Def *def)
{
    Parse *p = L->p;
    Scope seen;
    scope_init(&seen);
    Ast *params = NULL, *last = NULL;
    size_t top = 0;
    push(L, &top, def->expr);
    while (top > 0) {
        Ast *e = L->stack[--top].e;
        if (e->kind == A_VAR && strcmp(e->name, "pi") != 0 && !scope_find(&seen, e->name)) {
            scope_add(&seen, e->name);
            Ast *param = ast_new(p, A_VAR, e->loc);
            param->name = e->name;
            if (last)
                last->next = param;
            else
                params = param;
            last = param;
            def->nparams++;
        }
        size_t base = top;
        if (e->kind == A_CALL) {
            for (Ast *a = e->args; a; a = a->next)
                push(L, &top, a);
        } else {
            if (e->lhs)
                push(L, &top, e->lhs);
            if (e->rhs)
                push(L, &top, e->rhs);
        }
        for (size_t i = base, j = top ? top - 1 : 0; i < j; i++, j--) {
            Frame t = L->stack[i];
            L->stack[i] = L->stack[j];
            L->stack[j] = t;
        }
    }
    def->params = params;
    scope_free(&seen);
}

static void lower_def(Lower *L, Def *def, Func *f)
{
    L->f = f;
    f->def = def;
    f->name = def->name;
    dag_init(&f->dag);
    f->dag.fold = L->p->real == REAL_DOUBLE;
    scope_init(&L->scope);
    f->nparams = def->nparams;
    f->ninputs = (uint32_t)def->nparams;
    f->params = arena_alloc(L->p->arena, (size_t)(def->nparams + 1) * sizeof *f->params);
    f->input = xrealloc(NULL, (f->ninputs + 1) * sizeof *f->input);
    uint32_t slot = 0;
    for (Ast *a = def->params; a; a = a->next, slot++) {
        Param *p = &f->params[slot];
        p->name = a->name;
        p->loc = a->loc;
        p->kind = PARAM_DIFF;
        p->first = slot;
        p->size = 1;
        add_input(L, a, slot);
        f->input[slot] = dag_input(&f->dag, slot);
    }
    f->nroots = 1;
    f->roots = arena_alloc(L->p->arena, sizeof *f->roots);
    f->roots[0] = 0;
    f->entries = 1u << ENTRY_VALUE | 1u << ENTRY_GRAD;
    /* a block's body may be empty ("f(x) { }"); only one-line definitions have an expr */
    if (def->expr)
        f->roots[0] = lower_expr(L, def->expr);
    else
        lower_block(L, def);
    scope_free(&L->scope);
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

    Scope defined;
    scope_init(&defined);
    Lower L = {.p = p};
    prog->funcs = xrealloc(NULL, (size_t)ndefs * sizeof *prog->funcs);
    memset(prog->funcs, 0, (size_t)ndefs * sizeof *prog->funcs);
    prog->nfuncs = 0;
    for (Def *d = p->defs; d; d = d->next) {
        Binding *b = scope_find(&defined, d->name);
        if (b) {
            diag_error(diag, d->name_loc, "redefinition of '%s'", d->name);
            diag_note(diag, b->loc, "previous definition of '%s' is here", d->name);
            continue;
        }
        b = scope_add(&defined, d->name);
        b->loc = d->name_loc;
        if (d->bare)
            free_variables(&L, d);
        lower_def(&L, d, &prog->funcs[prog->nfuncs++]);
    }
    scope_free(&defined);
    free(L.stack);
    return diag->errors - errors_before;
}

void program_free(Program *prog)
{
    for (int i = 0; i < prog->nfuncs; i++) {
        dag_free(&prog->funcs[i].dag);
        free(prog->funcs[i].input);
        free(prog->funcs[i].grad);
        nodemap_free(&prog->funcs[i].adj);
    }
    free(prog->funcs);
    prog->funcs = NULL;
    prog->nfuncs = 0;
}
