/*
 * timefirst.c: recurrences written state first. Input: a definition's syntax tree. Output:
 * the same tree with the indices of each local array a recurrence writes state first
 * (x[0][t+1] = x[0][t] + h*x[1][t], CasADi's X[:, k]) reordered, its time index first
 * (x[t+1][0]), as sema reads a recurrence's states; the statements assigning it note where
 * its time index was (Stmt.time_at), so that messages print elements as the source does.
 * Invariants: an array is reordered only where every use of it names one element with as many
 * indices (no whole-array use, which would show the order) and every recurrence writing it
 * agrees on the position (an assignment reading no earlier step is not looked at: written
 * time first beside a state-first recurrence, it is moved too); the walks over expressions keep a
 * stack of their own (a 10 MB expression nests a million deep); those over statements recurse
 * by nested loops, which the parser bounds.
 */
#include <math.h>
#include <stdlib.h>

#include "sema.h"

/* A loop, and the loops around it. */
typedef struct Around {
    Stmt *loop;
    const struct Around *up;
} Around;

/* An array a recurrence writes: where its time index is, whether it may be reordered. */
typedef struct {
    const char *name;
    int at;     /* the time index's position */
    int rank;
    int bad;    /* a use that forbids reordering it */
} Later;

typedef struct {
    Later *v;
    int n;
} Laters;

/* Whether x is the variable v plus a whole number (v, v + 1, 1 + v, v - 2): *off gets it. */
static int plus_number(const Ast *x, const char *v, int64_t *off)
{
    *off = 0;
    if (x->kind == A_VAR)
        return x->name == v;
    if (x->kind != A_ADD && x->kind != A_SUB)
        return 0;
    const Ast *var = x->lhs, *num = x->rhs;
    if (x->kind == A_ADD && num->kind == A_VAR) {
        var = x->rhs;
        num = x->lhs;
    }
    if (var->kind != A_VAR || var->name != v || num->kind != A_NUM || !(fabs(num->num) < 1e15) ||
        num->num != floor(num->num))
        return 0;
    *off = x->kind == A_SUB ? -(int64_t)num->num : (int64_t)num->num;
    return 1;
}

typedef struct {
    const char *v;
    int found;
} Mention;

static void see_var(Ast *a, void *ctx)
{
    Mention *m = ctx;
    m->found |= a->kind == A_VAR && a->name == m->v;
}

/* Whether the expression x (not its next) reads the variable v. */
static int reads_var(Ast *x, const char *v)
{
    Mention m = {v, 0};
    see_var(x, &m);
    sema_walk(x->lhs, see_var, &m);
    sema_walk(x->rhs, see_var, &m);
    sema_walk(x->args, see_var, &m);
    return m.found;
}

/* The position of v + (a number) among the n indices from first, when exactly one is that and
 * no other reads v; -1 if not. */
static int time_position(Ast *first, int n, const char *v, int64_t *off)
{
    int at = -1, i = 0;
    for (Ast *x = first; x; x = x->next, i++) {
        int64_t o;
        if (plus_number(x, v, &o) && at < 0) {
            at = i;
            *off = o;
        } else if (reads_var(x, v)) {
            return -1;
        }
    }
    return i == n ? at : -1;
}

typedef struct {
    const char *name, *v;
    int at, rank;
    int64_t off;
    int read;
} Step;

/* A read of the array at its time position at an earlier step (x[0][t] in x[0][t+1]'s loop). */
static void see_earlier(Ast *a, void *ctx)
{
    Step *st = ctx;
    int64_t off;
    if (a->kind == A_INDEX && a->name == st->name && a->nargs == st->rank &&
        time_position(a->args, a->nargs, st->v, &off) == st->at && off < st->off)
        st->read = 1;
}

static Later *find_later(const Laters *ls, const char *name)
{
    for (int i = 0; i < ls->n; i++)
        if (ls->v[i].name == name)
            return &ls->v[i];
    return NULL;
}

static Later *later_of(Laters *ls, const char *name)
{
    Later *found = find_later(ls, name);
    if (found)
        return found;
    ls->v = xrealloc(ls->v, (size_t)(ls->n + 1) * sizeof *ls->v);
    Later *l = &ls->v[ls->n++];
    l->name = name;
    l->at = -1;
    l->rank = 0;
    l->bad = 0;
    return l;
}

typedef struct {
    Lower *L;
    int names;
} Names;

/* A name that is not a file constant (or -D's). */
static void see_name(Ast *a, void *ctx)
{
    Names *n = ctx;
    const Binding *b = a->kind == A_VAR ? scope_lookup(&n->L->scope, a->name, 0) : NULL;
    n->names |= a->kind == A_INDEX || a->kind == A_CALL ||
                (a->kind == A_VAR && (!b || b->kind != B_CONST));
}

/* Whether the range of loop s is of numbers and constants only (0..2, 0..N-1 with -D N=3): it
 * is unrolled, whatever the sizes. */
static int numbers_only(Lower *L, Stmt *s)
{
    Names n = {L, 0};
    sema_walk(s->from, see_name, &n);
    sema_walk(s->to, see_name, &n);
    return !n.names;
}

/* The recurrences among the statements of the loop at (and of the loops inside it): an
 * element assigned at one loop's variable plus a number in one index (the innermost such
 * loop's), whose loop reads the array there at an earlier step, and whose other indices read
 * no loop around that one but of a range of numbers (a map over i of a recurrence over j,
 * r[i][j+1] = r[i][j] + ..., stays as it is: its first index is the map's; with i over 0..2,
 * one recurrence per column, it is reordered). Each array's time position goes to ls (bad
 * where two disagree). */
static void find_recurrences(Lower *L, Laters *ls, const Around *at)
{
    for (Stmt *s = at->loop->body; s; s = s->next) {
        if (s->kind == S_FOR) {
            Around in = {s, at};
            find_recurrences(L, ls, &in);
            continue;
        }
        if (s->kind != S_ELEM)
            continue;
        Step st = {s->name, NULL, -1, s->nindex, 0, 0};
        const Around *rec = at;
        for (; rec && !st.read; rec = rec->up) {
            st.v = rec->loop->name;
            st.at = time_position(s->index, s->nindex, st.v, &st.off);
            const Later *known = st.at >= 0 ? find_later(ls, s->name) : NULL;
            if (known && known->at == st.at) /* another state of it: no walk again */
                st.read = 1;
            else if (st.at >= 0)
                sema_walk_stmts(rec->loop->body, see_earlier, &st);
        }
        int outer = 0; /* an index reads a loop around the recurrence's (rec, past it now),
                          of a range not of numbers only */
        for (Ast *x = s->index; st.read && x; x = x->next)
            for (const Around *o = rec; o; o = o->up)
                outer |= reads_var(x, o->loop->name) && !numbers_only(L, o->loop);
        if (!st.read || outer)
            continue;
        Later *l = later_of(ls, s->name);
        l->bad |= (l->at >= 0 && l->at != st.at) || (l->rank && l->rank != s->nindex) ||
                  s->nindex > MAX_RANK;
        l->at = st.at;
        l->rank = s->nindex;
    }
}

/* What forbids reordering: a whole-array use, a use with another number of indices, the name
 * bound as a scalar or a range's variable. */
static void see_use(Ast *a, void *ctx)
{
    Laters *ls = ctx;
    for (int i = 0; i < ls->n; i++) {
        Later *l = &ls->v[i];
        if (a->name != l->name)
            continue;
        l->bad |= a->kind == A_VAR || a->kind == A_RANGE || a->kind == A_CALL ||
                  (a->kind == A_INDEX && a->nargs != l->rank);
    }
}

static void check_stmts(Laters *ls, const Stmt *s)
{
    for (; s; s = s->next)
        for (int i = 0; i < ls->n; i++)
            if (s->name == ls->v[i].name)
                ls->v[i].bad |= s->kind != S_ELEM || s->nindex != ls->v[i].rank;
}

static void check_all(Laters *ls, Stmt *s)
{
    check_stmts(ls, s);
    for (; s; s = s->next)
        if (s->kind == S_FOR)
            check_all(ls, s->body);
}

/* The chain of indices from *first with the one at position `at` moved first, the others
 * after it in their order. */
static void time_first(Ast **first, int at)
{
    Ast *v[MAX_RANK] = {0}, **p = first;
    int n = 0;
    for (Ast *x = *first; x && n < MAX_RANK; x = x->next)
        v[n++] = x;
    Ast *rest = v[n - 1]->next, *t = v[at];
    for (int i = at; i > 0; i--)
        v[i] = v[i - 1];
    v[0] = t;
    for (int i = 0; i < n; i++) {
        *p = v[i];
        p = &v[i]->next;
    }
    *p = rest;
}

static void reorder_use(Ast *a, void *ctx)
{
    const Laters *ls = ctx;
    for (int i = 0; a->kind == A_INDEX && i < ls->n; i++)
        if (a->name == ls->v[i].name && !ls->v[i].bad && ls->v[i].at > 0)
            time_first(&a->args, ls->v[i].at);
}

static void reorder_stmts(const Laters *ls, Stmt *s)
{
    for (; s; s = s->next) {
        for (int i = 0; s->kind == S_ELEM && i < ls->n; i++)
            if (s->name == ls->v[i].name && !ls->v[i].bad && ls->v[i].at > 0) {
                time_first(&s->index, ls->v[i].at);
                s->time_at = ls->v[i].at;
            }
        reorder_stmts(ls, s->body);
    }
}

void timefirst_reorder(Lower *L, Def *def)
{
    Laters ls = {NULL, 0};
    for (Stmt *s = def->body; s; s = s->next)
        if (s->kind == S_FOR) {
            Around top = {s, NULL};
            find_recurrences(L, &ls, &top);
        }
    int some = 0;
    for (int i = 0; i < ls.n; i++)
        some |= ls.v[i].at > 0 && !ls.v[i].bad;
    if (some) {
        for (const Ast *p = def->params; p; p = p->next)
            for (int i = 0; i < ls.n; i++)
                ls.v[i].bad |= p->name == ls.v[i].name;
        check_all(&ls, def->body);
        sema_walk_stmts(def->body, see_use, &ls);
        sema_walk_stmts(def->body, reorder_use, &ls);
        reorder_stmts(&ls, def->body);
    }
    free(ls.v);
}
