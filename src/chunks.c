/*
 * chunks.c: a large body in chunks. Input: a scheduled Body of more than LARGE_BODY nodes, of a
 * definition without kept loops, and its entry point. Output: its statements (each local, each
 * store right after its value) cut into chunks of CHUNK_STATEMENTS, each but the last a static
 * function taking the parameters it reads and the work array w; and the entry point's body,
 * which calls them in order, then has the last chunk and the return. The chunks are
 * ADGEN_NOINLINE (noinline for GNU C): inlined back into one, they cost clang -O2 7 times the
 * compile time (Rosenbrock-1000's gradient: 10.8 s against 1.4 s) for no faster code. A value
 * read in a later chunk than its own lives in a slot of w, reused once no later chunk reads
 * it. Invariant: chunks_restore gives back the names chunks_plan changed to w[j], so the
 * definition's other bodies print as before. w is the caller's where it would take over half
 * of the frame's bound (DEFAULT_FRAME, or --max-stack's, under which the chunks are smaller).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adgen.h"
#include "emit.h"

/* Store r's place: after its root, or first when the root is a constant or an input. */
static long store_after(const DefOut *e, const Body *b, const Entry *entry, uint32_t r)
{
    return body_find(&e->s, b, entry->roots[r]);
}

static void use_param(Chunks *ch, uint32_t c, uint32_t param)
{
    if (ch->stamp[param] == c + 1)
        return;
    ch->stamp[param] = c + 1;
    if (ch->nuses[c] == ch->caps[c]) {
        ch->caps[c] = ch->caps[c] ? 2 * ch->caps[c] : 16;
        ch->uses[c] = xrealloc(ch->uses[c], ch->caps[c] * sizeof **ch->uses);
    }
    ch->uses[c][ch->nuses[c]++] = param;
}

/* What the expression of node id, printed in chunk c, reads: locals and inputs. */
static void note_uses(Chunks *ch, const DefOut *e, const Body *b, NodeId id, uint32_t c, int top)
{
    const Dag *d = &e->s.f->dag;
    const Node *nd = &d->nodes[id];
    if (nd->kind == N_CONST)
        return;
    if (nd->kind == N_INPUT) {
        use_param(ch, c, ch->owner[(uint32_t)nd->k]);
        return;
    }
    long k = body_find(&e->s, b, id);
    if (!top && b->local[k]) {
        ch->last[k] = c > ch->last[k] ? c : ch->last[k];
        return;
    }
    NodeId ops[3] = {nd->a, nd->b, nd->c};
    for (int i = 0; i < node_arity(nd->kind); i++)
        note_uses(ch, e, b, ops[i], c, 0);
}

void chunks_free(Chunks *ch)
{
    for (uint32_t c = 0; c < ch->nchunks; c++)
        free(ch->uses[c]);
    free(ch->uses);
    free(ch->nuses);
    free(ch->caps);
    free(ch->stmt);
    free(ch->start);
    free(ch->def);
    free(ch->last);
    free(ch->saved);
    free(ch->stamp);
    free(ch->owner);
}

/* The body's statements into ch->stmt: each local, each store right after its root. */
static void order_statements(Chunks *ch, const DefOut *e, const Entry *entry, const Body *b)
{
    uint32_t *after = xrealloc(NULL, (b->n + 2) * sizeof *after), nstores = entry->nstores;
    memset(after, 0, (b->n + 2) * sizeof *after);
    for (uint32_t r = 0; r < nstores; r++)
        after[store_after(e, b, entry, r) + 1]++;
    ch->stmt = xrealloc(NULL, (b->n + nstores + 1) * sizeof *ch->stmt);
    for (uint32_t r = 0; r < nstores; r++)
        if (store_after(e, b, entry, r) < 0)
            ch->stmt[ch->nstmts++] = -1 - (long)r;
    /* stores by their root's position: a counting sort */
    uint32_t *first = xrealloc(NULL, (b->n + 2) * sizeof *first), *order;
    first[0] = 0;
    for (uint32_t k = 0; k <= b->n; k++)
        first[k + 1] = first[k] + after[k];
    order = xrealloc(NULL, (nstores + 1) * sizeof *order);
    for (uint32_t r = 0; r < nstores; r++)
        order[first[store_after(e, b, entry, r) + 1]++] = r;
    uint32_t next = after[0];
    for (uint32_t k = 0; k < b->n; k++) {
        if (b->local[k])
            ch->stmt[ch->nstmts++] = (long)k;
        for (uint32_t m = 0; m < after[k + 1]; m++)
            ch->stmt[ch->nstmts++] = -1 - (long)order[next++];
    }
    free(after);
    free(first);
    free(order);
}

/* The C parameters a chunk may read or store through: the inputs, the entry's args, the
 * sizes. */
static uint32_t owners(const Func *f, const Entry *entry)
{
    return (uint32_t)f->nparams + (uint32_t)entry->nargs + (uint32_t)f->nsizes;
}

/* Per chunk, the parameters it reads or stores through; per local, the chunk defining it and
 * the last that reads it. */
static void find_uses(Chunks *ch, const DefOut *e, const Entry *entry, const Body *b)
{
    const Func *f = e->s.f;
    /* parameters: the inputs, the entry's args, then the sizes; an input slot's owner */
    uint32_t nowners = owners(f, entry);
    ch->stamp = xrealloc(NULL, (nowners + 1) * sizeof *ch->stamp);
    memset(ch->stamp, 0, (nowners + 1) * sizeof *ch->stamp);
    uint32_t nslots = f->nslots > f->ninputs ? f->nslots : f->ninputs;
    ch->owner = xrealloc(NULL, (nslots + 1) * sizeof *ch->owner);
    for (int p = 0; p < f->nparams; p++)
        for (uint32_t i = 0; i < f->params[p].size; i++)
            ch->owner[f->params[p].first + i] = (uint32_t)p;
    for (int a = 0; a < entry->nargs; a++)
        for (uint32_t i = 0; !entry->args[a].out && i < entry->args[a].size; i++)
            ch->owner[entry->args[a].slot + i] = (uint32_t)f->nparams + (uint32_t)a;
    for (int k = 0; k < f->nsizes; k++) /* a size read as a number */
        if (f->size_slot[k] != UINT32_MAX)
            ch->owner[f->size_slot[k]] = nowners - (uint32_t)f->nsizes + (uint32_t)k;
    ch->uses = xrealloc(NULL, ch->nchunks * sizeof *ch->uses);
    ch->nuses = xrealloc(NULL, ch->nchunks * sizeof *ch->nuses);
    ch->caps = xrealloc(NULL, ch->nchunks * sizeof *ch->caps);
    memset(ch->uses, 0, ch->nchunks * sizeof *ch->uses);
    memset(ch->nuses, 0, ch->nchunks * sizeof *ch->nuses);
    memset(ch->caps, 0, ch->nchunks * sizeof *ch->caps);
    ch->def = xrealloc(NULL, (b->n + 1) * sizeof *ch->def);
    ch->last = xrealloc(NULL, (b->n + 1) * sizeof *ch->last);
    memset(ch->last, 0, (b->n + 1) * sizeof *ch->last);
    for (uint32_t c = 0; c < ch->nchunks; c++) {
        for (uint32_t i = ch->start[c]; i < ch->start[c + 1]; i++) {
            long st = ch->stmt[i];
            if (st >= 0) {
                ch->def[st] = ch->last[st] = c;
                note_uses(ch, e, b, b->nodes[st], c, 1);
            } else {
                uint32_t r = (uint32_t)(-1 - st);
                if (print_store_silent(e, entry, r))
                    continue;
                use_param(ch, c, (uint32_t)f->nparams + (uint32_t)entry->arg[r]);
                note_uses(ch, e, b, entry->roots[r], c, 0);
            }
        }
    }
    uint32_t lastc = ch->nchunks - 1;
    if (entry->ret)
        note_uses(ch, e, b, entry->ret, lastc, 0);
    for (int a = 0; a < entry->nargs; a++)
        if (entry->args[a].fill)
            use_param(ch, lastc, (uint32_t)f->nparams + (uint32_t)a);
}

/* Slots of w for the values read in a later chunk than their own, reused when their last
 * reader is done; such a value is named w[j], its name before kept in ch->saved. */
static void assign_slots(Chunks *ch, DefOut *e, const Body *b)
{
    ch->saved = xrealloc(NULL, (b->n + 1) * sizeof *ch->saved);
    uint32_t *free_slots = xrealloc(NULL, (b->n + 1) * sizeof *free_slots), nfree = 0;
    uint32_t *slot_of = xrealloc(NULL, (b->n + 1) * sizeof *slot_of);
    /* per chunk, the values whose last reader it is, chained through next_ending */
    long *ending = xrealloc(NULL, (ch->nchunks + 1) * sizeof *ending);
    long *next_ending = xrealloc(NULL, (b->n + 1) * sizeof *next_ending);
    for (uint32_t c = 0; c <= ch->nchunks; c++)
        ending[c] = -1;
    for (uint32_t c = 0; c < ch->nchunks; c++) {
        for (long k = c ? ending[c - 1] : -1; k >= 0; k = next_ending[k])
            free_slots[nfree++] = slot_of[k];
        for (uint32_t i = ch->start[c]; i < ch->start[c + 1]; i++) {
            long st = ch->stmt[i];
            if (st < 0 || ch->last[st] == c)
                continue;
            slot_of[st] = nfree ? free_slots[--nfree] : ch->nslots++;
            next_ending[st] = ending[ch->last[st]];
            ending[ch->last[st]] = st;
            NodeId id = b->nodes[st];
            char name[32];
            snprintf(name, sizeof name, "%s[%u]", e->work, slot_of[st]);
            ch->saved[st] = e->s.local[id];
            e->s.local[id] = arena_strndup(e->s.arena, name, strlen(name));
        }
    }
    free(free_slots);
    free(ending);
    free(next_ending);
    /* a value kept in w is marked by its saved name */
    for (uint32_t k = 0; k < b->n; k++)
        if (!(b->local[k] && ch->last[k] != ch->def[k]))
            ch->saved[k] = NULL;
    free(slot_of);
}

/* Statements a chunk: CHUNK_STATEMENTS, or under --max-stack one per 16 bytes of the bound
 * (a chunk's frame holds at most its values, spilled), 64 at least. */
static uint32_t chunk_statements(const EmitOptions *opt)
{
    uint32_t n = opt->max_stack / 16;
    return !opt->max_stack || n > CHUNK_STATEMENTS ? CHUNK_STATEMENTS : n < 64 ? 64 : n;
}

int chunks_wanted(const DefOut *e, const Body *b)
{
    uint32_t large = e->opt->max_stack ? chunk_statements(e->opt) : LARGE_BODY;
    return b->n > large && !e->s.f->nloops;
}

void chunks_plan(Chunks *ch, DefOut *e, const Entry *entry, const Body *b)
{
    memset(ch, 0, sizeof *ch);
    order_statements(ch, e, entry, b);
    uint32_t size = chunk_statements(e->opt);
    ch->nchunks = (ch->nstmts + size - 1) / size;
    ch->nchunks = ch->nchunks ? ch->nchunks : 1;
    ch->start = xrealloc(NULL, (ch->nchunks + 1) * sizeof *ch->start);
    for (uint32_t c = 0; c <= ch->nchunks; c++)
        ch->start[c] = c * size < ch->nstmts ? c * size : ch->nstmts;
    find_uses(ch, e, entry, b);
    /* a sin and a cos of one value are one call when one chunk has both, else apart */
    for (uint32_t k = 0; b->partner && k < b->n; k++)
        if (b->partner[k] && ch->def[k] != ch->def[b->partner[k] - 1])
            b->partner[k] = 0;
    assign_slots(ch, e, b);
}

void chunks_restore(Chunks *ch, DefOut *e, const Body *b)
{
    for (uint32_t k = 0; k < b->n; k++)
        if (ch->saved[k])
            e->s.local[b->nodes[k]] = ch->saved[k];
}

/* The C name of parameter p (an input, then the entry's args) and whether it is a pointer. */
static const char *param_name(const DefOut *e, const Entry *entry, uint32_t p)
{
    const Func *f = e->s.f;
    uint32_t nargs = (uint32_t)entry->nargs;
    return p < (uint32_t)f->nparams ? e->s.param[p] :
           p < f->nparams + nargs ? entry->args[p - f->nparams].name :
           e->s.size[p - f->nparams - nargs];
}

static void put_param_decl(Buf *out, const DefOut *e, const Entry *entry, uint32_t p)
{
    const Func *f = e->s.f;
    const char *real = real_type[e->opt->compile.real];
    if (p < (uint32_t)f->nparams) {
        int array = f->params[p].rank > 0;
        buf_printf(out, "%s%s %s%s", array ? "const " : "", real, array ? "*" : "",
                   e->s.param[p]);
        return;
    }
    if (p >= f->nparams + (uint32_t)entry->nargs) {
        buf_printf(out, "long %s", param_name(e, entry, p));
        return;
    }
    const Arg *a = &entry->args[p - f->nparams];
    buf_printf(out, "%s%s %s%s", !a->out && a->array ? "const " : "", real,
               a->out || a->array ? "*" : "", a->name);
}

/* The statements of chunk c. */
static void put_chunk_statements(Emitter *em, const DefOut *e, const Entry *entry,
                                 const Body *b, const Chunks *ch, uint32_t c)
{
    Buf *out = em->out;
    const Func *f = e->s.f;
    const Dag *d = &f->dag;
    Printer pr = {e, b, 0};
    for (uint32_t i = ch->start[c]; i < ch->start[c + 1]; i++) {
        long st = ch->stmt[i];
        if (st >= 0 && b->partner && b->partner[st]) {
            if (!b->printed[st])
                print_sin_cos(em, &pr, st, ch->saved, "    ");
            continue;
        }
        if (st >= 0) {
            NodeId id = b->nodes[st];
            lines_at_source(em, lines_of(f, id));
            if (ch->saved[st])
                buf_printf(out, "    %s = ", e->s.local[id]);
            else
                buf_printf(out, "    const %s %s = ", print_is_boolean(d->nodes[id].kind) ?
                           "int" : real_type[e->opt->compile.real], e->s.local[id]);
            if (print_is_boolean(d->nodes[id].kind))
                print_test(out, &pr, id);
            else
                print_node(out, &pr, id);
            buf_puts(out, ";\n");
            continue;
        }
        print_store(em, &pr, entry, (uint32_t)(-1 - st));
    }
}

void chunks_put_functions(Emitter *em, DefOut *e, const Entry *entry, const Body *b,
                          const Chunks *ch, NameSet *file_names, const char **names)
{
    Buf *out = em->out;
    for (uint32_t c = 0; c + 1 < ch->nchunks; c++) {
        char want[64];
        snprintf(want, sizeof want, "part%u", c + 1);
        Buf full = {0};
        buf_printf(&full, "%s_%s", e->fn[entry->kind], want);
        names[c] = names_claim(file_names, full.data);
        buf_free(&full);
        buf_printf(out, "\n/* %s, statements %u to %u of %u */\nstatic ADGEN_NOINLINE ADGEN_FUNC void %s(",
                   e->fn[entry->kind], ch->start[c] + 1, ch->start[c + 1], ch->nstmts, names[c]);
        for (uint32_t u = 0; u < ch->nuses[c]; u++) {
            put_param_decl(out, e, entry, ch->uses[c][u]);
            buf_puts(out, ", ");
        }
        buf_printf(out, "%s *%s)\n{\n    (void)%s;\n", real_type[e->opt->compile.real], e->work,
                   e->work);
        put_chunk_statements(em, e, entry, b, ch, c);
        buf_puts(out, "}\n");
        lines_at_output(em);
        lines_spill(em);
    }
}

void chunks_put_body(Emitter *em, const DefOut *e, const Entry *entry, const Body *b,
                     const Chunks *ch, const char **names)
{
    Buf *out = em->out;
    const Func *f = e->s.f;
    Printer pr = {e, b, 0};
    uint32_t lastc = ch->nchunks - 1, nowners = owners(f, entry);
    buf_puts(out, "{\n");
    emit_put_size_checks(out, e);
    /* parameters no chunk reads */
    uint8_t *used = xrealloc(NULL, nowners + 1);
    memset(used, 0, nowners + 1);
    for (uint32_t c = 0; c < ch->nchunks; c++)
        for (uint32_t u = 0; u < ch->nuses[c]; u++)
            used[ch->uses[c][u]] = 1;
    const char *work = e->s.chunk_work[entry->kind] ? e->s.work : NULL; /* the caller's */
    for (uint32_t p = 0; p < nowners; p++)
        if (!used[p] && param_name(e, entry, p) != work)
            buf_printf(out, "    (void)%s;\n", param_name(e, entry, p));
    free(used);
    const char *real = real_type[e->opt->compile.real];
    if (work)
        buf_printf(out, "    %s *const %s = %s;\n", real, e->work, work);
    else if (ch->nslots)
        buf_printf(out, "    %s %s[%u];\n", real, e->work, ch->nslots);
    /* the zeros first: the chunks store the nonzeros */
    print_fill_loops(out, e, entry);
    for (uint32_t c = 0; c < lastc; c++) {
        buf_printf(out, "    %s(", names[c]);
        for (uint32_t u = 0; u < ch->nuses[c]; u++)
            buf_printf(out, "%s, ", param_name(e, entry, ch->uses[c][u]));
        buf_printf(out, "%s);\n", ch->nslots ? e->work : "0");
    }
    put_chunk_statements(em, e, entry, b, ch, lastc);
    print_return(em, &pr, entry);
}
