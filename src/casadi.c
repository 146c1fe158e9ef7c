/*
 * casadi.c: CasADi's external-function C ABI (--abi=casadi). Input: a scheduled definition
 * (DefOut), whose entry points are printed as static functions named NAME_native. Output: per
 * entry point asked for, the functions CasADi loads by name (NAME, NAME_n_in, NAME_n_out,
 * NAME_name_in and _out, NAME_sparsity_in and _out, NAME_work, NAME_default_in, and the trivial
 * NAME_incref, _decref, _checkout, _release) and the NAME_SZ_ARG, _RES, _IW, _W macros. Each
 * input and output is a column vector of its elements (an array row-major), but a Jacobian or
 * a Hessian: a matrix, dense or with its structural pattern, in compressed column storage. A
 * NULL input reads as zeros and a NULL output is not stored; what the native entry point
 * stores in another order (a row-major Jacobian, triplets by row) goes through `w` first.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "adgen.h"
#include "emit.h"

/* One input or output of the CasADi function: nrow x ncol, dense, or with pattern sp. */
typedef struct {
    const char *name;
    uint32_t nrow, ncol;
    const Sparse *sp;     /* a sparse entry's pattern, else NULL (dense) */
    int param;            /* an input of the definition (its index), or -1 */
    const Arg *arg;       /* else the native's argument; NULL: its returned value */
    int scalar;           /* passed to the native as a value (x[0]), or through a pointer */
    int reorder;          /* the native stores it in another order: through w, then copied */
    uint32_t w;           /* an output's scratch in w (where a NULL output goes) */
} Io;

typedef struct {
    Io *in, *out;
    int nin, nout;
    int *order;           /* per native argument after the inputs: its input k, -1 - its
                             output k, or ABI_WORK */
    int nargs;
    uint32_t sz_w, max_in;
    uint32_t work;        /* where the native's work array (its chunks' values) starts in w */
} Abi;

enum { ABI_WORK = INT_MIN }; /* the native's work array: a part of w */

static uint32_t io_numel(const Io *io)
{
    return io->sp ? io->sp->nnz : io->nrow * io->ncol;
}

/* The inputs and outputs of entry point en of e's definition. */
static void abi_make(const DefOut *e, const Entry *en, Abi *abi)
{
    const Func *f = e->s.f;
    abi->in = xrealloc(NULL, ((size_t)f->nparams + en->nargs + 1) * sizeof *abi->in);
    abi->out = xrealloc(NULL, ((size_t)en->nargs + 2) * sizeof *abi->out);
    abi->order = xrealloc(NULL, ((size_t)en->nargs + 1) * sizeof *abi->order);
    abi->nargs = en->nargs;
    abi->nin = abi->nout = 0;
    abi->sz_w = abi->max_in = 0;
    for (int p = 0; p < f->nparams; p++)
        abi->in[abi->nin++] = (Io){f->params[p].name, f->params[p].size, 1, NULL, p, NULL,
                                   f->params[p].rank == 0, 0, 0};
    if (en->ret)
        abi->out[abi->nout++] = (Io){f->name, 1, 1, NULL, -1, NULL, 0, 0, 0};
    for (int i = 0; i < en->nargs; i++) {
        const Arg *a = &en->args[i];
        if (a->name == e->s.work) {
            abi->order[i] = ABI_WORK;
            continue;
        }
        uint32_t n = a->size ? a->size : 1;
        Io io = {a->name, n, 1, NULL, -1, a, !a->array && !a->out, 0, 0};
        if (a->name == e->s.jac || a->name == e->s.hess) { /* row-major: transposed */
            io.nrow = a->name == e->s.jac ? (uint32_t)f->nroots : f->ndiff;
            io.ncol = f->ndiff;
            io.reorder = 1;
        } else if (a->name == e->s.jac_nz || a->name == e->s.hess_nz) {
            io.sp = en->pattern;
            io.nrow = a->name == e->s.jac_nz ? (uint32_t)f->nroots : f->ndiff;
            io.ncol = f->ndiff;
            io.reorder = !e->opt->csc; /* triplets by row: by column */
        }
        abi->order[i] = a->out ? -1 - abi->nout : abi->nin;
        if (a->out)
            abi->out[abi->nout++] = io;
        else
            abi->in[abi->nin++] = io;
    }
    for (int i = 0; i < abi->nin; i++)
        abi->max_in = io_numel(&abi->in[i]) > abi->max_in ? io_numel(&abi->in[i]) : abi->max_in;
    for (int i = 0; i < abi->nout; i++) {
        abi->out[i].w = abi->sz_w;
        abi->sz_w += io_numel(&abi->out[i]);
    }
    abi->work = abi->sz_w;
    abi->sz_w += e->s.chunk_work[en->kind];
}

static void abi_free(Abi *abi)
{
    free(abi->in);
    free(abi->out);
    free(abi->order);
}

/* {nrow, ncol, colind[0..ncol], row[0..nnz)} */
static void put_sparsity(Buf *out, const Io *io, int k)
{
    buf_printf(out, "    static const casadi_int s%d[] = {%u, %u", k, io->nrow, io->ncol);
    if (!io->sp) {
        for (uint32_t j = 0; j <= io->ncol; j++)
            buf_printf(out, ", %u", j * io->nrow);
        for (uint32_t j = 0; j < io->ncol; j++)
            for (uint32_t i = 0; i < io->nrow; i++)
                buf_printf(out, ", %u", i);
    } else {
        uint32_t *colptr, *pos = matrix_csc_positions(io->sp, io->ncol, &colptr);
        uint32_t *rows = xrealloc(NULL, (io->sp->nnz + 1) * sizeof *rows);
        for (uint32_t k2 = 0; k2 < io->sp->nnz; k2++)
            rows[pos[k2]] = io->sp->row[k2];
        for (uint32_t j = 0; j <= io->ncol; j++)
            buf_printf(out, ", %u", colptr[j]);
        for (uint32_t k2 = 0; k2 < io->sp->nnz; k2++)
            buf_printf(out, ", %u", rows[k2]);
        free(rows);
        free(pos);
        free(colptr);
    }
    buf_puts(out, "};\n");
}

/* NAME_sparsity_in or _out, and NAME_name_in or _out. */
static void put_table(Buf *out, const char *st, const char *fn, const Io *io, int n,
                      const char *which)
{
    buf_printf(out, "\n%sADGEN_FUNC const char *%s_name_%s(casadi_int i)\n{\n"
                    "    switch (i) {\n", st, fn, which);
    for (int k = 0; k < n; k++)
        buf_printf(out, "    case %d: return \"%s\";\n", k, io[k].name);
    buf_puts(out, "    default: return 0;\n    }\n}\n");
    buf_printf(out, "\n%sADGEN_FUNC const casadi_int *%s_sparsity_%s(casadi_int i)\n{\n", st, fn,
               which);
    for (int k = 0; k < n; k++)
        put_sparsity(out, &io[k], k);
    buf_puts(out, "    switch (i) {\n");
    for (int k = 0; k < n; k++)
        buf_printf(out, "    case %d: return s%d;\n", k, k);
    buf_puts(out, "    default: return 0;\n    }\n}\n");
}

/* An output the native stores in another order, copied from w into res[k]. */
static void put_reorder(Buf *out, const Io *io, int k)
{
    if (!io->sp) { /* row-major nrow x ncol: column-major */
        buf_printf(out, "    if (res[%d])\n        for (casadi_int i = 0; i < %u; i++)\n"
                        "            for (casadi_int j = 0; j < %u; j++)\n"
                        "                res[%d][j * %u + i] = w[%u + i * %u + j];\n",
                   k, io->nrow, io->ncol, k, io->nrow, io->w, io->ncol);
        return;
    }
    uint32_t *colptr, *pos = matrix_csc_positions(io->sp, io->ncol, &colptr);
    buf_printf(out, "    if (res[%d]) {\n        static const int to[%u] = {", k,
               io->sp->nnz ? io->sp->nnz : 1);
    for (uint32_t n = 0; n < io->sp->nnz || n == 0; n++)
        buf_printf(out, "%s%u", n ? ", " : "", io->sp->nnz ? pos[n] : 0);
    buf_printf(out, "};\n        for (casadi_int k = 0; k < %u; k++)\n"
                    "            res[%d][to[k]] = w[%u + k];\n    }\n", io->sp->nnz, k, io->w);
    free(pos);
    free(colptr);
}

/* The evaluation function: the inputs (zeros for NULL), the outputs (w for NULL or for a
 * reordered one), the native's call, the reordering. */
static void put_eval(Buf *out, const DefOut *e, EntryKind kind, const Abi *abi)
{
    const char *fn = e->abi_fn[kind], *st = e->opt->abi_static ? "static ADGEN_UNUSED " : "";
    buf_printf(out, "\n%sADGEN_FUNC int %s(const casadi_real **arg, casadi_real **res, "
                    "casadi_int *iw, casadi_real *w, int mem)\n{\n", st, fn);
    if (abi->nin)
        buf_printf(out, "    static const casadi_real zero[%u] = {0};\n",
                   abi->max_in ? abi->max_in : 1);
    for (int k = 0; k < abi->nin; k++)
        buf_printf(out, "    const casadi_real *a%d = arg[%d] ? arg[%d] : zero;\n", k, k, k);
    for (int k = 0; k < abi->nout; k++) {
        char at[32] = "w";
        if (abi->out[k].w)
            snprintf(at, sizeof at, "w + %u", abi->out[k].w);
        if (abi->out[k].reorder)
            buf_printf(out, "    casadi_real *r%d = %s;\n", k, at);
        else
            buf_printf(out, "    casadi_real *r%d = res[%d] ? res[%d] : %s;\n", k, k, k, at);
    }
    buf_puts(out, "    (void)iw;\n    (void)mem;\n");
    if (!abi->nin)
        buf_puts(out, "    (void)arg;\n");
    if (!abi->sz_w)
        buf_puts(out, "    (void)w;\n");
    buf_puts(out, "    ");
    if (abi->nout && !abi->out[0].arg)
        buf_puts(out, "r0[0] = ");
    buf_printf(out, "%s(", e->fn[kind]);
    int n = 0;
    for (int k = 0; k < abi->nin; k++)
        if (abi->in[k].param >= 0)
            buf_printf(out, "%sa%d%s", n++ ? ", " : "", k, abi->in[k].scalar ? "[0]" : "");
    for (int i = 0; i < abi->nargs; i++) { /* the native's other arguments, in its order */
        int k = abi->order[i];
        if (k == ABI_WORK)
            buf_printf(out, abi->work ? "%sw + %u" : "%sw", n++ ? ", " : "", abi->work);
        else if (k >= 0)
            buf_printf(out, "%sa%d%s", n++ ? ", " : "", k, abi->in[k].scalar ? "[0]" : "");
        else
            buf_printf(out, "%sr%d", n++ ? ", " : "", -1 - k);
    }
    buf_puts(out, ");\n");
    for (int k = 0; k < abi->nout; k++)
        if (abi->out[k].reorder)
            put_reorder(out, &abi->out[k], k);
    buf_puts(out, "    return 0;\n}\n");
}

/* The trivial rest: the number of inputs and outputs, their defaults, the work sizes, and
 * reference counting and memory, which the functions do not need. */
static void put_rest(Buf *out, const char *st, const char *fn, const Abi *abi)
{
    buf_printf(out, "\n%sADGEN_FUNC casadi_int %s_n_in(void)\n{\n    return %d;\n}\n", st, fn,
               abi->nin);
    buf_printf(out, "\n%sADGEN_FUNC casadi_int %s_n_out(void)\n{\n    return %d;\n}\n", st, fn,
               abi->nout);
    buf_printf(out, "\n%sADGEN_FUNC casadi_real %s_default_in(casadi_int i)\n{\n    (void)i;\n"
                    "    return 0;\n}\n", st, fn);
    buf_printf(out, "\n%sADGEN_FUNC int %s_work(casadi_int *sz_arg, casadi_int *sz_res, "
                    "casadi_int *sz_iw, casadi_int *sz_w)\n{\n", st, fn);
    buf_printf(out, "    if (sz_arg)\n        *sz_arg = %d;\n"
                    "    if (sz_res)\n        *sz_res = %d;\n"
                    "    if (sz_iw)\n        *sz_iw = 0;\n    if (sz_w)\n        *sz_w = %u;\n"
                    "    return 0;\n}\n", abi->nin, abi->nout, abi->sz_w);
    buf_printf(out, "\n%sADGEN_FUNC void %s_incref(void)\n{\n}\n", st, fn);
    buf_printf(out, "\n%sADGEN_FUNC void %s_decref(void)\n{\n}\n", st, fn);
    buf_printf(out, "\n%sADGEN_FUNC int %s_checkout(void)\n{\n    return 0;\n}\n", st, fn);
    buf_printf(out, "\n%sADGEN_FUNC void %s_release(int mem)\n{\n    (void)mem;\n}\n", st, fn);
}

void casadi_put_functions(Buf *out, const DefOut *e)
{
    const Func *f = e->s.f;
    const char *st = e->opt->abi_static ? "static ADGEN_UNUSED " : ""; /* --static: these too */
    for (int k = 0; k < ENTRY_KINDS; k++) {
        if (!(f->entries & 1u << k))
            continue;
        Entry en;
        Abi abi;
        sched_entry(&e->s, (EntryKind)k, &en);
        abi_make(e, &en, &abi);
        buf_printf(out, "\n/* %s: CasADi's external function of %s (--abi=casadi) */\n",
                   e->abi_fn[k], e->fn[k]);
        put_eval(out, e, (EntryKind)k, &abi);
        put_table(out, st, e->abi_fn[k], abi.in, abi.nin, "in");
        put_table(out, st, e->abi_fn[k], abi.out, abi.nout, "out");
        put_rest(out, st, e->abi_fn[k], &abi);
        abi_free(&abi);
        entry_free(&en);
    }
}

void casadi_put_types(Buf *out, RealType real)
{
    buf_printf(out, "#ifndef casadi_real\n#define casadi_real %s\n#endif\n"
                    "#ifndef casadi_int\n#define casadi_int long long int\n#endif\n",
               real_type[real]);
}

void casadi_put_declarations(Buf *out, const DefOut *e)
{
    const Func *f = e->s.f;
    for (int k = 0; k < ENTRY_KINDS; k++) {
        if (!(f->entries & 1u << k))
            continue;
        const char *fn = e->abi_fn[k], *st = e->opt->abi_static ? "static ADGEN_UNUSED " : "";
        Entry en;
        Abi abi;
        sched_entry(&e->s, (EntryKind)k, &en);
        abi_make(e, &en, &abi);
        buf_printf(out, "%sADGEN_FUNC int %s(const casadi_real **arg, casadi_real **res, "
                        "casadi_int *iw, casadi_real *w, int mem);\n", st, fn);
        static const char *const rest[] = {
            "casadi_int %s_n_in(void)", "casadi_int %s_n_out(void)",
            "casadi_real %s_default_in(casadi_int i)", "const char *%s_name_in(casadi_int i)",
            "const char *%s_name_out(casadi_int i)",
            "const casadi_int *%s_sparsity_in(casadi_int i)",
            "const casadi_int *%s_sparsity_out(casadi_int i)",
            ("int %s_work(casadi_int *sz_arg, casadi_int *sz_res, casadi_int *sz_iw, "
             "casadi_int *sz_w)"),
            "void %s_incref(void)", "void %s_decref(void)", "int %s_checkout(void)",
            "void %s_release(int mem)"};
        for (size_t r = 0; r < sizeof rest / sizeof *rest; r++) {
            buf_printf(out, "%sADGEN_FUNC ", st);
            buf_printf(out, rest[r], fn);
            buf_puts(out, ";\n");
        }
        buf_printf(out, "#define %s_SZ_ARG %d\n#define %s_SZ_RES %d\n#define %s_SZ_IW 0\n"
                        "#define %s_SZ_W %u\n", fn, abi.nin, fn, abi.nout, fn, fn, abi.sz_w);
        abi_free(&abi);
        entry_free(&en);
    }
}
