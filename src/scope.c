/*
 * scope.c: what a name means where sema reads it. Input: the names of the source, interned by
 * the parser. Output: the bindings in sight (inputs, locals, loop variables, file constants,
 * run-time sizes, arrays), the elements assigned so far of local arrays, the definitions by
 * name, the language's functions by name, and for a call of none of them an error suggesting
 * the nearest name. Invariants: names are compared by pointer; a binding is seen from its own
 * frame (an inlined body) or from the file's, innermost first; the tables are open addressing,
 * at most half full.
 */
#include <stdlib.h>
#include <string.h>

#include "sema.h"

/* ---- bindings ----------------------------------------------------------------------------- */

static size_t hash_ptr(const void *p)
{
    uintptr_t u = (uintptr_t)p;
    return (size_t)((u >> 4) * 0x9E3779B97F4A7C15u >> 7);
}

static NameSlot *name_slot(Scope *s, const char *name)
{
    if (2 * (s->slen + 1) > s->scap) {
        Scope bigger = {NULL, 0, 0, NULL, s->scap ? 2 * s->scap : 64, 0, 0, 0, 0};
        bigger.slots = xrealloc(NULL, bigger.scap * sizeof *bigger.slots);
        memset(bigger.slots, 0, bigger.scap * sizeof *bigger.slots);
        for (size_t i = 0; i < s->scap; i++)
            if (s->slots[i].name)
                *name_slot(&bigger, s->slots[i].name) = s->slots[i];
        free(s->slots);
        s->slots = bigger.slots;
        s->scap = bigger.scap;
        s->slen = bigger.slen;
    }
    size_t j = hash_ptr(name) & (s->scap - 1);
    for (; s->slots[j].name; j = (j + 1) & (s->scap - 1))
        if (s->slots[j].name == name)
            return &s->slots[j];
    s->slen++;
    s->slots[j].name = name;
    return &s->slots[j];
}

Binding *scope_bind(Scope *s, const char *name, BindKind kind, Loc loc, int frame)
{
    if (s->len == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    NameSlot *slot = name_slot(s, name);
    Binding *b = &s->v[s->len];
    memset(b, 0, sizeof *b);
    b->name = name;
    b->kind = kind;
    b->loc = loc;
    b->frame = frame;
    b->dag = s->dag;
    b->prev = slot->top;
    slot->top = ++s->len;
    return b;
}

void scope_unbind_to(Scope *s, uint32_t mark)
{
    while (s->len > mark) {
        Binding *b = &s->v[--s->len];
        name_slot(s, b->name)->top = b->prev;
    }
}

/* The binding of name visible in frame: its own or the file's. */
Binding *scope_lookup(Scope *s, const char *name, int frame)
{
    uint32_t i = name_slot(s, name)->top;
    while (i && ((s->v[i - 1].frame != frame && s->v[i - 1].frame != 0) ||
                 (i - 1 >= s->hide_lo && i - 1 < s->hide_hi)))
        i = s->v[i - 1].prev;
    return i ? &s->v[i - 1] : NULL;
}

/* ---- local arrays' elements --------------------------------------------------------------- */

static size_t elem_hash(const Array *a, const int64_t *idx)
{
    uint64_t h = (uint64_t)(uintptr_t)a * 0x9E3779B97F4A7C15u;
    for (int i = 0; i < a->rank; i++)
        h = (h ^ (uint64_t)idx[i]) * 0x100000001B3u;
    return (size_t)(h ^ (h >> 29));
}

void scope_put_elem(Buf *t, const Array *a, const int64_t *idx)
{
    for (int i = 0; i < a->rank; i++) /* the time index was moved first (timefirst.c) */
        buf_printf(t, "[%lld]", (long long)idx[i == a->time_at ? 0 : i < a->time_at ? i + 1 : i]);
}

Elem *scope_elem_find(ElemTable *t, const Array *a, const int64_t *idx, int add)
{
    if (add && 2 * (t->len + 1) > t->cap) {
        ElemTable bigger = {NULL, t->cap ? 2 * t->cap : 256, 0};
        bigger.slots = xrealloc(NULL, bigger.cap * sizeof *bigger.slots);
        memset(bigger.slots, 0, bigger.cap * sizeof *bigger.slots);
        for (size_t i = 0; i < t->cap; i++)
            if (t->slots[i].array)
                *scope_elem_find(&bigger, t->slots[i].array, t->slots[i].idx, 1) = t->slots[i];
        free(t->slots);
        *t = bigger;
    }
    if (!t->cap)
        return NULL;
    size_t j = elem_hash(a, idx) & (t->cap - 1);
    for (; t->slots[j].array; j = (j + 1) & (t->cap - 1))
        if (t->slots[j].array == a &&
            memcmp(t->slots[j].idx, idx, (size_t)a->rank * sizeof *idx) == 0)
            return &t->slots[j];
    if (!add)
        return NULL;
    t->len++;
    t->slots[j].array = a;
    memcpy(t->slots[j].idx, idx, (size_t)a->rank * sizeof *idx);
    return &t->slots[j];
}

/* ---- definitions by name ------------------------------------------------------------------ */

Def *scope_find_def(const Lower *L, const char *name)
{
    for (size_t j = hash_ptr(name) & (L->defs_cap - 1); L->defs[j];
         j = (j + 1) & (L->defs_cap - 1))
        if (L->defs[j]->name == name)
            return L->defs[j];
    return NULL;
}

/* Adds def to the definitions by name, unless one of its name is there: then that one. */
Def *scope_add_def(Lower *L, Def *def)
{
    Def *prev = scope_find_def(L, def->name);
    if (prev)
        return prev;
    size_t j = hash_ptr(def->name) & (L->defs_cap - 1);
    while (L->defs[j])
        j = (j + 1) & (L->defs_cap - 1);
    L->defs[j] = def;
    return NULL;
}

/* ---- the language's functions, and suggestions -------------------------------------------- */

/* The optimal string alignment distance: insertions, deletions, substitutions, and swaps of
 * two neighbours (sqtr for sqrt is one edit). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 16 || lb > 16)
        return 99;
    size_t d[17][17];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

/* The kind of the table's function called `name` in the language, or N_KINDS. */
int scope_function_kind(const char *name)
{
    int k = 0;
    while (k < N_KINDS && !(op_info[k].lang && strcmp(op_info[k].lang, name) == 0))
        k++;
    return k;
}

/* The language's functions beside the table's: if, sum and prod. */
static const char *const special_functions[] = {"if", "sum", "prod"};

/* Names users know from C or mathematics that adgen spells otherwise or lacks: what to say
 * instead of a guess by spelling, which could name a function of another meaning (log for
 * log1p, fmax for fma). */
static const struct {
    const char *name, *advice;
} known_names[] = {
    {"ln", "the natural logarithm is 'log'"},
    {"fabs", "the absolute value is 'abs'"},
    {"fmin", "the minimum is 'min'"},
    {"fmax", "the maximum is 'max'"},
    {"arcsin", "the inverse sine is 'asin'"},
    {"arccos", "the inverse cosine is 'acos'"},
    {"arctan", "the inverse tangent is 'atan' (or 'atan2')"},
    {"fma", "not supported: write x*y + z"},
    {"exp2", "not supported: write 2^x"},
    {"exp10", "not supported: write 10^x"},
    {"pow10", "not supported: write 10^x"},
    {"sqr", "not supported: write x^2"},
    {"square", "not supported: write x^2"},
    {"fmod", "not supported (it has jumps)"},
    {"round", "not supported (it has jumps)"},
    {"trunc", "not supported (it has jumps)"},
};

void scope_unknown_function(Lower *L, const Ast *e)
{
    Loc at = e->loc;
    at.end = at.begin + strlen(e->name);
    for (size_t i = 0; i < sizeof known_names / sizeof *known_names; i++) {
        if (strcmp(e->name, known_names[i].name) == 0) {
            diag_error(L->diag, at, "unknown function '%s': %s", e->name, known_names[i].advice);
            return;
        }
    }
    const char *best = NULL;
    size_t best_d = 3;
    for (int k = 0; k < N_KINDS; k++) {
        size_t dist = op_info[k].lang ? edit_distance(e->name, op_info[k].lang) : 99;
        if (dist < best_d) {
            best_d = dist;
            best = op_info[k].lang;
        }
    }
    for (size_t i = 0; i < sizeof special_functions / sizeof *special_functions; i++) {
        size_t dist = edit_distance(e->name, special_functions[i]);
        if (dist < best_d) {
            best_d = dist;
            best = special_functions[i];
        }
    }
    for (size_t j = 0; j < L->defs_cap; j++) {
        size_t dist = L->defs[j] ? edit_distance(e->name, L->defs[j]->name) : 99;
        if (dist < best_d) {
            best_d = dist;
            best = L->defs[j]->name;
        }
    }
    /* a short name is as close to many others: one edit, or two in a name of six letters or
     * more (g is not a misspelled log, nor foo a misspelled cos) */
    if (best && (best_d >= strlen(e->name) || (best_d == 2 && strlen(e->name) < 6)))
        best = NULL;
    Loc loc = e->loc;
    loc.end = loc.begin + strlen(e->name);
    if (best)
        diag_error(L->diag, loc, "unknown function '%s'; did you mean '%s'?", e->name, best);
    else
        diag_error(L->diag, loc, "unknown function '%s'", e->name);
}
