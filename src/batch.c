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

/* The <math.h> functions of double that glibc's libmvec has in vector form on x86-64, sorted:
 * since glibc 2.22 the first five, since 2.35 the others (the symbols' versions). */
static const char *const vector_libm[] = {
    "cos", "exp", "log", "pow", "sin",
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "cbrt", "cosh", "erf", "erfc",
    "exp2", "expm1", "hypot", "log10", "log1p", "log2", "sinh", "tan", "tanh"};
enum { VECTOR_LIBM = sizeof vector_libm / sizeof *vector_libm, VECTOR_LIBM_2_22 = 5 };

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
                  "#else\n#define ADGEN_BATCH_LOOP\n#endif\n#endif\n"
                  "/* Their arrays do not overlap (but inputs may share one): restrict, so that "
                  "compilers need\n * not check. */\n"
                  "#ifndef ADGEN_RESTRICT\n"
                  "#if !defined(__cplusplus)\n#define ADGEN_RESTRICT restrict\n"
                  "#elif defined(__GNUC__)\n#define ADGEN_RESTRICT __restrict__\n"
                  "#else\n#define ADGEN_RESTRICT\n#endif\n#endif\n");
    for (int k = 0; k < N_KINDS; k++)
        if (kinds[k])
            mark_calls((NodeKind)k, used);
    int calls = 0;
    for (int i = 0; i < VECTOR_LIBM; i++)
        calls |= used[i];
    if (calls && opt->compile.real != REAL_LONG_DOUBLE) {
        buf_puts(out, "/* -DADGEN_LIBMVEC (gcc, glibc on x86-64; with -fno-math-errno): loops "
                      "gcc vectorises call glibc's\n * vector forms of these, which its <math.h> "
                      "declares only under -ffast-math; any loop of this\n * file, so that the "
                      "one-point entry points' loops may round differently too (clang:\n * "
                      "-fveclib=libmvec) */\n"
                      "#if defined(ADGEN_LIBMVEC) && defined(__GNUC__) && !defined(__clang__) && "
                      "defined(__x86_64__) && \\\n    defined(__GLIBC__)\n");
        const char *real = real_type[opt->compile.real], *suffix = real_suffix[opt->compile.real];
        int newer = 0;
        for (int i = 0; i < VECTOR_LIBM; i++) {
            if (!used[i])
                continue;
            if (i >= VECTOR_LIBM_2_22 && !newer++)
                buf_puts(out, "#if __GLIBC_PREREQ(2, 35)\n");
            int two = !strcmp(vector_libm[i], "atan2") || !strcmp(vector_libm[i], "pow") ||
                      !strcmp(vector_libm[i], "hypot");
            buf_printf(out, "__attribute__((__simd__(\"notinbranch\"))) %s %s%s(%s%s%s);\n", real,
                       vector_libm[i], suffix, real, two ? ", " : "", two ? real : "");
        }
        buf_puts(out, newer ? "#endif\n#endif\n" : "#endif\n");
    }
    buf_puts(out, "\n");
}

/* The names of entry's arguments of inputs, outputs (`out`) or not, "x_bar, y_bar and z_bar". */
static void put_args(Buf *t, const Entry *entry, int out)
{
    int n = 0, k = 0;
    for (int i = 0; i < entry->nargs; i++)
        n += entry->args[i].param >= 0 && entry->args[i].out == out;
    for (int i = 0; i < entry->nargs; i++)
        if (entry->args[i].param >= 0 && entry->args[i].out == out)
            buf_printf(t, "%s%s", k++ == 0 ? "" : k == n ? " and " : ", ", entry->args[i].name);
}

void batch_comment(Buf *t, const DefOut *e, const Entry *entry)
{
    const Func *f = e->s.f;
    EntryKind of = entry_of(entry->kind);
    const char *s = f->vector ? "s" : "", *one = e->fn[of];
    buf_printf(t, "At each of the points %s = 0..%s - 1: the value%s of %s in %s", e->s.point,
               e->s.points, s, e->fn[ENTRY_VALUE], e->s.out);
    switch (of) {
    case ENTRY_GRAD: case ENTRY_VJP:
        buf_puts(t, of == ENTRY_GRAD ? ", and its partial derivatives " :
                                       ", and the product of the cotangents ");
        if (of == ENTRY_VJP)
            buf_printf(t, "%s and the Jacobian ", e->s.out_bar);
        buf_puts(t, e->opt->accumulate ? "added to " : "in ");
        put_args(t, entry, 1);
        break;
    case ENTRY_JVP:
        buf_printf(t, ", and in %s the derivative along the direction ", e->s.out_dot);
        put_args(t, entry, 0);
        break;
    default:
        break;
    }
    if (one)
        buf_printf(t, ", as %s computes them", one);
    buf_printf(t, ". Element j of an argument (0 of a scalar) at point %s is at [j * %s + %s], "
               "inputs and outputs alike (structure of arrays); the arrays do not overlap, but "
               "inputs may share one. The points are independent, and the loop over them is "
               "ADGEN_BATCH_LOOP, which compilers vectorise. Each point's numbers are those of "
               "one point, but where the vector forms of libm's functions round differently "
               "(-DADGEN_LIBMVEC, clang's -fveclib) or a compiler contracts a * b + c into one "
               "rounding in one loop and not in the other (GNU C with FMA; -std=c99 or "
               "-ffp-contract=off does not)", e->s.point, e->s.points, e->s.point);
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
    lines_at_output(em); /* the loop's lines are the file's own */
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
