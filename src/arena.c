/*
 * arena.c: memory. A bump arena holds the syntax tree (freed once lowered), another the
 * definitions and interned names (freed at the end of the run); each is freed at once, so no
 * stage frees single objects. Allocation failure is fatal (exit 2 is main's business, but an
 * out-of-memory compiler cannot recover, so it aborts with a message).
 */
#define _DEFAULT_SOURCE /* madvise's MADV_HUGEPAGE, where the system has it */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#ifdef __linux__
#include <sys/mman.h>
#endif

#include "adgen.h"

/* An arena's blocks double from FIRST_BLOCK to BLOCK_SIZE: a small input touches a few KB
 * (with a 1 MB first block, the fuzz target spent half its time mapping and faulting in
 * pages it never used), a large one gets blocks above malloc's usual mmap threshold (128 KB
 * in glibc), mapped apart, so that the syntax tree's arena, freed once lowered, goes back to
 * the system instead of staying in the heap beside what lives on; and from HUGE_ARRAY up,
 * blocks of 2 MB pages (the syntax tree of a 10^6-operation input is 200 MB). A block's
 * pages are touched only as it fills. */
#define FIRST_BLOCK (16 * 1024)
#define BLOCK_SIZE (16 * 1024 * 1024)

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

/* Arrays from HUGE_ARRAY bytes up ask Linux for 2 MB pages (a 10^6-operation input's DAG
 * and hash table are tens of MB read at random: with 4 KB pages nearly every probe missed
 * the TLB, and 512 times as many pages were faulted in). The advice covers the whole 2 MB
 * pages inside the block; it splits the block's mapping, so that growing it copies it
 * rather than moving its pages (the DAG reserves its room ahead: dag_reserve), which
 * measured faster than advising the whole mapping. Elsewhere (or where transparent huge
 * pages are off) it does nothing. */
#define HUGE_ARRAY (8u << 20)
#define HUGE_PAGE ((uintptr_t)2 << 20)

static void advise_huge(void *p, size_t size)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    uintptr_t lo = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uintptr_t hi = ((uintptr_t)p + size) & ~(HUGE_PAGE - 1);
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
    (void)p;
    (void)size;
#endif
}

/* glibc maps an allocation from 128 KB up apart and unmaps it when it is freed, and gives
 * the heap's free top back: each stage's arrays, sized by the graph and freed when it ends,
 * were pages faulted in and zeroed afresh by the kernel at every stage (a tenth of adgen's
 * time at 10^6 operations). Below 16 MB they are the heap's, whose free memory is kept for
 * the next stage's; the arena's blocks, of BLOCK_SIZE and more, are still mapped apart, so
 * that the syntax tree goes back to the system once lowered (the peak stays where it was). */
void memory_reuse(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, BLOCK_SIZE);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
#endif
}

void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        out_of_memory();
    if (size >= HUGE_ARRAY)
        advise_huge(q, size);
    return q;
}

/* A block of zeros: calloc knows that a fresh mapping is zero, where zeroing each object as
 * it is allocated wrote the syntax tree's 200 MB once more. */
static ArenaBlock *new_block(size_t cap)
{
    ArenaBlock *b = calloc(1, sizeof *b + cap);
    if (!b)
        out_of_memory();
    if (sizeof *b + cap >= HUGE_ARRAY)
        advise_huge(b, sizeof *b + cap);
    return b;
}

void *arena_alloc(Arena *a, size_t size)
{
    size = (size + sizeof(double) - 1) & ~(sizeof(double) - 1);
    ArenaBlock *b = a->head;
    if (!b || b->cap - b->used < size) {
        size_t cap = !b ? FIRST_BLOCK : b->cap < BLOCK_SIZE ? 2 * b->cap : BLOCK_SIZE;
        if (cap < size)
            cap = size;
        b = new_block(cap);
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += size;
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
