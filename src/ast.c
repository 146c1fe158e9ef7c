/*
 * ast.c: the syntax tree the parser builds, and the identifier interner. Nodes live in the
 * run's arena; identifiers are interned once so later stages compare names by pointer.
 */
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

struct Interner {
    const char **slots;
    size_t cap, len;
};

Interner *intern_new(void)
{
    Interner *in = xrealloc(NULL, sizeof *in);
    in->cap = 256;
    in->len = 0;
    in->slots = xrealloc(NULL, in->cap * sizeof *in->slots);
    memset(in->slots, 0, in->cap * sizeof *in->slots);
    return in;
}

void intern_free(Interner *in)
{
    if (!in)
        return;
    free(in->slots);
    free(in);
}

static size_t hash_bytes(const char *s, size_t n)
{
    size_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static void grow(Interner *in)
{
    const char **old = in->slots;
    size_t oldcap = in->cap;
    in->cap *= 2;
    in->slots = xrealloc(NULL, in->cap * sizeof *in->slots);
    memset(in->slots, 0, in->cap * sizeof *in->slots);
    for (size_t i = 0; i < oldcap; i++) {
        if (!old[i])
            continue;
        size_t j = hash_bytes(old[i], strlen(old[i])) & (in->cap - 1);
        while (in->slots[j])
            j = (j + 1) & (in->cap - 1);
        in->slots[j] = old[i];
    }
    free(old);
}

const char *intern(Interner *in, Arena *a, const char *s, size_t n)
{
    if (2 * (in->len + 1) > in->cap)
        grow(in);
    size_t j = hash_bytes(s, n) & (in->cap - 1);
    while (in->slots[j]) {
        if (strncmp(in->slots[j], s, n) == 0 && in->slots[j][n] == '\0')
            return in->slots[j];
        j = (j + 1) & (in->cap - 1);
    }
    in->slots[j] = arena_strndup(a, s, n);
    in->len++;
    return in->slots[j];
}

Ast *ast_new(Parse *p, AstKind kind, Loc loc)
{
    Ast *n = arena_alloc(p->tree ? p->tree : p->arena, sizeof *n);
    n->kind = kind;
    n->loc = loc;
    return n;
}

Ast *ast_binary(Parse *p, AstKind kind, Loc loc, Ast *lhs, Ast *rhs)
{
    Ast *n = ast_new(p, kind, loc);
    n->lhs = lhs;
    n->rhs = rhs;
    return n;
}
