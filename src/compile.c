/*
 * compile.c: the pipeline in memory, from source text to differentiated definitions
 * (unit_compile) and on to the C text of the source and the header (compile_source). The
 * command line, `adgen eval` and the fuzzer all go through here, so what is fuzzed is what
 * runs. Diagnostics go to the given stream; nothing here touches a file.
 */
#include <stdlib.h>

#include "adgen.h"

int unit_compile(Unit *u, const char *file, const char *src, size_t len, const char *stem,
                 FILE *messages)
{
    Diag diag = {.file = file, .src = src, .len = len, .out = messages};
    Parse parse = {.arena = &u->arena, .tree = &u->tree, .diag = &u->diag, .real = u->opt.real,
                   .defines = u->opt.defines, .ndefines = u->opt.ndefines,
                   .max_nodes = u->opt.max_nodes, .unroll = u->opt.unroll};
    u->diag = diag;
    u->names = parse.names = intern_new();
    int failed = parse_source(&parse) != 0 || sema_program(&parse, stem, &u->prog) != 0;
    /* the expressions are in the DAG now: later stages read only the definitions (Def), for
     * their names and places */
    arena_free(&u->tree);
    if (failed)
        return u->diag.errors;
    /* each function gets the entry points asked for that it has; one that no function has
     * is an error (with EMIT_FITTING, not even that) */
    unsigned had = 0;
    for (int i = 0; i < u->prog.nfuncs; i++) {
        Func *f = &u->prog.funcs[i];
        f->shared = f->dag.hits;
        if (u->opt.emit)
            f->entries = (1u << ENTRY_VALUE | (u->opt.emit & ~EMIT_FITTING)) & ~func_misfits(f);
        else if (f->entries & (func_misfits(f) | (func_runtime_columns(f) ? 1u << ENTRY_JAC :
                                                  0))) /* a default Jacobian of run-time */
            f->entries = 1u << ENTRY_VALUE | 1u << ENTRY_JVP | 1u << ENTRY_VJP; /* columns */
        had |= f->entries;
    }
    unsigned missing = u->opt.emit & ~EMIT_FITTING & ~had;
    if (missing && !(u->opt.emit & EMIT_FITTING))
        func_check_entries(&u->prog.funcs[0], missing, &u->diag);
    for (int i = 0; i < u->prog.nfuncs && !u->diag.errors; i++) {
        Func *f = &u->prog.funcs[i];
        func_differentiate(f);
        EntryKind sparse = f->band.jac ? ENTRY_JAC_SPARSE : ENTRY_HESS_SPARSE;
        if (f->band.why && u->opt.emit & EMIT_FITTING) /* --emit=all: what fits */
            f->entries &= ~(1u << sparse);
        else if (f->band.why) /* known once the iterations are differentiated */
            diag_error(&u->diag, f->band.loc, "'%s' has no %s: %s; %s gives its products (or "
                       "give the sizes with -D)", f->name, entry_info[sparse].word, f->band.why,
                       f->band.jac ? "jvp" : "hvp");
    }
    return u->diag.errors;
}

void unit_free(Unit *u)
{
    program_free(&u->prog);
    intern_free(u->names);
    arena_free(&u->arena);
}

int compile_source(const char *file, const char *src, size_t len, const char *stem,
                   const EmitOptions *opt, FILE *messages, Buf *c_text, Buf *h_text)
{
    Unit u = {.opt = opt->compile};
    int compiled = unit_compile(&u, file, src, len, stem, messages) == 0;
    for (int i = 0; compiled && opt->csc && opt->compile.emit & EMIT_FITTING &&
                    i < u.prog.nfuncs; i++) /* --emit=all: what compressed columns fit */
        if (emit_csc_misfit(&u.prog.funcs[i]) >= 0)
            u.prog.funcs[i].entries &= ~(1u << ENTRY_JAC_SPARSE);
    if (compiled && emit_check(&u.prog, &u.diag, opt) == 0) {
        /* printing builds no node: the tables go before the text grows */
        for (int i = 0; i < u.prog.nfuncs; i++)
            dag_seal(&u.prog.funcs[i].dag);
        uint32_t *work = xrealloc(NULL, ((size_t)u.prog.nfuncs * ENTRY_KINDS + 1) *
                                            sizeof *work);
        emit_source(&u.prog, &u.diag, opt, c_text, work);
        if (h_text)
            emit_header(&u.prog, &u.diag, opt, h_text, work);
        free(work);
    }
    int errors = u.diag.errors;
    unit_free(&u);
    return errors;
}
