/*
 * batch.c: the batched variants of value, grad, jvp and vjp (--emit=grad-batch, ...): the
 * entry point's body at many points in one loop, which compilers vectorise across the points.
 * Input: a scheduled body of a definition of constant sizes (the same nodes and names as the
 * entry point it is a variant of). Output: the loop over the points, every argument read and
 * written in a structure-of-arrays layout (element j of an argument, at point p, is at
 * [j * points + p]); and, once per file, the macro that makes the loop OpenMP's simd and the
 * vector forms of the libm functions the loops call.
 */
#include <stdlib.h>
#include <string.h>

#include "adgen.h"
#include "emit.h"

/* The <math.h> functions of double that glibc's libmvec has in vector form on x86-64 (its
 * <bits/math-vector.h>), sorted. */
static const char *const vector_libm[] = {
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "cbrt", "cos", "cosh", "erfc",
    "exp", "exp2", "expm1", "hypot", "log", "log10", "log1p", "log2", "pow", "sin", "sinh",
    "tan", "tanh"};
enum { VECTOR_LIBM = sizeof vector_libm / sizeof *vector_libm };

static int find_vector_libm(const char *name, size_t n)
{
    for (int i = 0; i < VECTOR_LIBM; i++)
        if (strlen(vector_libm[i]) == n && strncmp(vector_libm[i], name, n) == 0)
            return i;
    return -1;
}

/* Marks in used[] the libmvec functions op k's C text calls. */
static void mark_calls(NodeKind k, uint8_t *used)
{
    const char *c = op_info[k].c;
    if (op_info[k].form == F_CALL) {
        int i = find_vector_libm(c, strlen(c));
        if (i >= 0)
            used[i] = 1;
        return;
    }
    if (op_info[k].form != F_TEMPLATE)
        return;
    for (const char *t = c; *t;) {
        size_t n = strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789");
        if (n && t[n] == '(' && find_vector_libm(t, n) >= 0)
            used[find_vector_libm(t, n)] = 1;
        t += n ? n : 1;
    }
}

void batch_put_macros(Buf *out, const Program *prog, const EmitOptions *opt)
{
    uint8_t used[VECTOR_LIBM] = {0}, kinds[N_KINDS] = {0};
    int any = 0;
    for (int i = 0; i < prog->nfuncs; i++) {
        const Func *f = &prog->funcs[i];
        if (!(f->entries & ENTRIES_BATCH))
            continue;
        any = 1;
        for (NodeId id = 1; id < f->dag.len; id++)
            kinds[f->dag.nodes[id].kind] = 1;
    }
    if (!any)
        return;
    buf_puts(out, "/* The batched entry points' loop over the points, which compilers "
                  "vectorise: gcc at -O3\n * (GCC ivdep: the points are independent) or with "
                  "OpenMP's simd (-fopenmp, or -fopenmp-simd\n * -DADGEN_SIMD); clang on its "
                  "own (a pragma that asks would make it warn where it cannot).\n * With "
                  "-fopenmp -DADGEN_PARALLEL also split across threads. Define it as another "
                  "pragma,\n * or as nothing. */\n"
                  "#ifndef ADGEN_BATCH_LOOP\n"
                  "#if defined(_OPENMP) && defined(ADGEN_PARALLEL) && defined(__clang__)\n"
                  "#define ADGEN_BATCH_LOOP _Pragma(\"omp parallel for\")\n"
                  "#elif defined(_OPENMP) && defined(ADGEN_PARALLEL)\n"
                  "#define ADGEN_BATCH_LOOP _Pragma(\"omp parallel for simd\")\n"
                  "#elif defined(__GNUC__) && !defined(__clang__) && "
                  "(defined(_OPENMP) || defined(ADGEN_SIMD))\n"
                  "#define ADGEN_BATCH_LOOP _Pragma(\"omp simd\")\n"
                  "#elif defined(__GNUC__) && !defined(__clang__)\n"
                  "#define ADGEN_BATCH_LOOP _Pragma(\"GCC ivdep\")\n"
                  "#else\n#define ADGEN_BATCH_LOOP\n#endif\n#endif\n");
    for (int k = 0; k < N_KINDS; k++)
        if (kinds[k])
            mark_calls((NodeKind)k, used);
    int calls = 0;
    for (int i = 0; i < VECTOR_LIBM; i++)
        calls |= used[i];
    if (calls && opt->compile.real != REAL_LONG_DOUBLE) {
        buf_puts(out, "/* -DADGEN_LIBMVEC (gcc, glibc on x86-64; with -fno-math-errno): the loops "
                      "call glibc's vector\n * forms of these, which its <math.h> declares only "
                      "under -ffast-math (clang: -fveclib=libmvec) */\n"
                      "#if defined(ADGEN_LIBMVEC) && defined(__GNUC__) && !defined(__clang__) && "
                      "defined(__x86_64__)\n");
        const char *real = real_type[opt->compile.real], *suffix = real_suffix[opt->compile.real];
        for (int i = 0; i < VECTOR_LIBM; i++) {
            if (!used[i])
                continue;
            int two = !strcmp(vector_libm[i], "atan2") || !strcmp(vector_libm[i], "pow") ||
                      !strcmp(vector_libm[i], "hypot");
            buf_printf(out, "__attribute__((__simd__(\"notinbranch\"))) %s %s%s(%s%s%s);\n", real,
                       vector_libm[i], suffix, real, two ? ", " : "", two ? real : "");
        }
        buf_puts(out, "#endif\n");
    }
    buf_puts(out, "\n");
}

void batch_comment(Buf *t, const DefOut *e, const Entry *entry)
{
    EntryKind of = entry_of(entry->kind);
    Buf one = {0}; /* the one-point entry point's name, printed or not */
    buf_printf(&one, "%s%s", e->fn[ENTRY_VALUE], entry_info[of].suffix);
    buf_printf(t, "At each of the points %s = 0..%s - 1, what %s computes, %s stored in %s: "
               "element j of an argument (0 of a scalar) at point %s is at [j * %s + %s], "
               "inputs and outputs alike (structure of arrays). The points are independent, "
               "and the loop over them is ADGEN_BATCH_LOOP, which compilers vectorise; each "
               "point's numbers are %s's, but where the vector forms of libm's functions "
               "(-DADGEN_LIBMVEC) round differently", e->s.point, e->s.points, one.data,
               e->s.f->vector ? "its values" : of == ENTRY_VALUE ? "its value" :
               "the value it returns", e->s.out, e->s.point, e->s.points, e->s.point, one.data);
    buf_free(&one);
}

/* Names the slots first.. of an argument as the batched loop reads them: name[p], then
 * name[j * points + p]; the old names into old[]. */
static void rename_slots(DefOut *e, uint32_t first, uint32_t size, const char *name,
                         const char **old)
{
    const Func *f = e->s.f;
    for (uint32_t j = 0; j < size; j++) {
        NodeId id = f->input[first + j];
        Buf t = {0};
        if (j)
            buf_printf(&t, "%s[%u * %s + %s]", name, j, e->s.points, e->s.point);
        else
            buf_printf(&t, "%s[%s]", name, e->s.point);
        old[first + j] = e->s.local[id];
        e->s.local[id] = arena_strndup(e->s.arena, t.data, t.len);
        buf_free(&t);
    }
}

/* Whether body b reads a slot of first..first + size - 1. */
static int reads_slots(const DefOut *e, const Body *b, uint32_t first, uint32_t size)
{
    for (uint32_t j = 0; j < size; j++)
        if (body_find(&e->s, b, e->s.f->input[first + j]) >= 0)
            return 1;
    return 0;
}

void batch_put_body(Emitter *em, DefOut *e, const Entry *entry, const Body *b)
{
    const Func *f = e->s.f;
    Buf *out = em->out;
    Printer pr = {e, b, 1};
    const char **old = xrealloc(NULL, ((size_t)f->nslots + 1) * sizeof *old);
    buf_puts(out, "{\n");
    for (int i = 0; i < f->nparams; i++) {
        const Param *pa = &f->params[i];
        if (!reads_slots(e, b, pa->first, pa->size))
            buf_printf(out, "    (void)%s;\n", e->s.param[i]);
        rename_slots(e, pa->first, pa->size, e->s.param[i], old);
    }
    for (int i = 0; i < entry->nargs; i++) {
        const Arg *a = &entry->args[i];
        if (a->out)
            continue;
        if (!reads_slots(e, b, a->slot, a->size))
            buf_printf(out, "    (void)%s;\n", a->name);
        rename_slots(e, a->slot, a->size, a->name, old);
    }
    buf_printf(out, "    ADGEN_BATCH_LOOP\n    for (long %s = 0; %s < %s; %s++) {\n", e->s.point,
               e->s.point, e->s.points, e->s.point);
    for (uint32_t k = 0; k < b->n; k++)
        if (b->local[k])
            print_local(em, &pr, b->nodes[k], "        ");
    for (uint32_t r = 0; r < entry->nstores; r++)
        print_store(em, &pr, entry, r);
    buf_puts(out, "    }\n");
    print_return(em, &pr, entry);
    for (int i = 0; i < f->nparams; i++)
        for (uint32_t j = 0; j < f->params[i].size; j++)
            e->s.local[f->input[f->params[i].first + j]] = old[f->params[i].first + j];
    for (int i = 0; i < entry->nargs; i++)
        for (uint32_t j = 0; !entry->args[i].out && j < entry->args[i].size; j++)
            e->s.local[f->input[entry->args[i].slot + j]] = old[entry->args[i].slot + j];
    free(old);
}
