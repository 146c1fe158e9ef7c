/*
 * arena.c: memory. A bump arena holds the syntax tree (freed once lowered), another the
 * definitions and interned names (freed at the end of the run); each is freed at once, so no
 * stage frees single objects. Allocation failure is fatal (exit 2 is main's business, but an
 * out-of-memory compiler cannot recover, so it aborts with a message).
 */
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

/* An arena's blocks double from FIRST_BLOCK to BLOCK_SIZE: a small input touches a few KB
 * (with a 1 MB first block, the fuzz target spent half its time mapping and faulting in
 * pages it never used), a large one gets blocks above malloc's usual mmap threshold (128 KB
 * in glibc), mapped apart, so that the syntax tree's arena, freed once lowered, goes back to
 * the system instead of staying in the heap beside what lives on. */
#define FIRST_BLOCK (16 * 1024)
#define BLOCK_SIZE (1024 * 1024)

struct ArenaBlock {
    ArenaBlock *next;
    size_t used, cap;
    double data[]; /* double: the strictest alignment the tree needs */
};

static void out_of_memory(void)
{
    fputs("adgen: out of memory\n", stderr);
    abort();
}

void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        out_of_memory();
    return q;
}

void *arena_alloc(Arena *a, size_t size)
{
    size = (size + sizeof(double) - 1) & ~(sizeof(double) - 1);
    ArenaBlock *b = a->head;
    if (!b || b->cap - b->used < size) {
        size_t cap = !b ? FIRST_BLOCK : b->cap < BLOCK_SIZE ? 2 * b->cap : BLOCK_SIZE;
        if (cap < size)
            cap = size;
        b = xrealloc(NULL, sizeof *b + cap);
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

char *arena_strndup(Arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void arena_free(Arena *a)
{
    while (a->head) {
        ArenaBlock *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}
