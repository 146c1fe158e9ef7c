/*
 * report.c: `adgen --report`, what a function and its gradient cost and where the gradient is
 * not to be trusted. Input: differentiated Funcs. Output, per function: the operations of the
 * function and of the gradient entry point by kind (the bodies the C is printed from, so each
 * count is the number of those operators or calls in the C), their weights from ops.h and the
 * ratio beside the cheap-gradient bound, the operations hash-consing shared, the named locals
 * (temporaries) of each C function, and a `file:line:col: note:` per source place where the
 * derivative is undefined, unbounded or jumps (domain edges, kinks, branch switches), once per
 * place. A definition with loops kept at run time counts its operations outside the loops
 * so, then one iteration of each loop (its value and its reverse step) with its range.
 * Walks are loops in id order.
 */
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

/* Reverse mode costs at most this many times the function (the cheap gradient principle,
 * Griewank and Walther, "Evaluating Derivatives", 2nd ed., section 4.6). */
#define CHEAP_GRADIENT_BOUND 4

NodeId report_edge_operand(const Func *f, NodeId id)
{
    const Node *nd = &f->dag.nodes[id];
    switch (op_info[nd->kind].edge) {
    case EDGE_NONE: return 0;
    case EDGE_ZERO: case EDGE_ONE: case EDGE_MINUS_ONE: case EDGE_UNIT: return nd->a;
    case EDGE_DIVISOR: return f->dag.nodes[nd->b].kind == N_CONST ? 0 : nd->b;
    case EDGE_BASE: return f->dag.nodes[nd->a].kind == N_CONST ? 0 : nd->a;
    }
    return 0;
}

const char *report_domain_note(const Func *f, NodeId id)
{
    const Node *nd = &f->dag.nodes[id];
    const OpInfo *op = &op_info[nd->kind];
    if (op->edge != EDGE_NONE && !report_edge_operand(f, id))
        return NULL;
    if (op->edge == EDGE_BASE && f->dag.nodes[nd->b].kind == N_CONST)
        return "power of a variable base: derivative infinite or undefined where the base "
               "is 0 (exponent below 1), undefined where it is negative";
    return op->note;
}

void report_put_loc(Buf *out, const Diag *diag, const Func *f, NodeId id)
{
    const NodeMeta *m = &f->dag.meta[id];
    buf_puts(out, diag->file);
    if (m->line)
        buf_printf(out, ":%d", m->line);
    if (m->line && m->column)
        buf_printf(out, ":%d", m->column);
}

/* Per kind, the operations of the body of the roots (the nodes they reach). */
static uint32_t count_body(const Func *f, const NodeId *roots, int nroots, uint32_t *per_kind)
{
    const Dag *d = &f->dag;
    uint8_t *seen = xrealloc(NULL, d->len);
    memset(seen, 0, d->len);
    NodeId top = 0;
    for (int r = 0; r < nroots; r++) {
        seen[roots[r]] = 1;
        top = roots[r] > top ? roots[r] : top;
    }
    uint32_t ops = 0;
    memset(per_kind, 0, N_KINDS * sizeof *per_kind);
    for (NodeId id = top; id > 0; id--) {
        if (!seen[id])
            continue;
        const Node *nd = &d->nodes[id];
        seen[nd->a] = seen[nd->b] = seen[nd->c] = 1;
        if (node_is_op(d, id)) {
            per_kind[nd->kind]++;
            ops++;
        }
    }
    free(seen);
    return ops;
}

static unsigned long weighted(const uint32_t *per_kind)
{
    unsigned long w = 0;
    for (int k = 0; k < N_KINDS; k++)
        w += (unsigned long)per_kind[k] * (unsigned long)op_info[k].cost;
    return w;
}

/* The named locals the C of the entry point declares (schedule.c decides them). */
static uint32_t temporaries(Sched *s, const Entry *e)
{
    Body b;
    sched_body(s, e->roots, (int)e->nroots, &b, 0);
    uint32_t n = 0;
    for (uint32_t k = 0; k < b.n; k++)
        n += b.local[k] && node_is_op(&s->f->dag, b.nodes[k]);
    body_free(&b);
    return n;
}

/* A kind as the report lists it: its name in the language, else a word for it and its C
 * operator (add (+)), else that operator. */
static const char *kind_name(NodeKind k, char *buf, size_t size)
{
    const OpInfo *op = &op_info[k];
    if (op->lang)
        return op->lang;
    if (!op->word)
        return op->c;
    snprintf(buf, size, "%s (%s)", op->word, op->c);
    return buf;
}

typedef struct {
    int line, column;
    const char *text;
    NodeId id;
} Note;

static int by_place(const void *p, const void *q)
{
    const Note *a = p, *b = q;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->column != b->column)
        return a->column < b->column ? -1 : 1;
    return strcmp(a->text, b->text);
}

/* The notes of the function's operations whose operands depend on a differentiated input,
 * one per place and text. */
static void domain_notes(const Func *f, const Diag *diag, Buf *out)
{
    const Dag *d = &f->dag;
    uint32_t n = f->nprimal;
    uint8_t *dep = xrealloc(NULL, n), *body = xrealloc(NULL, n);
    memset(body, 0, n);
    memset(dep, 0, n);
    for (int p = 0; p < f->nparams; p++)
        for (uint32_t k = 0; f->params[p].kind == PARAM_DIFF && k < f->params[p].size; k++)
            dep[f->input[f->params[p].first + k]] = 1;
    for (NodeId id = 1; id < n; id++) {
        const Node *nd = &d->nodes[id];
        if (nd->kind != N_INPUT)
            dep[id] = dep[nd->a] || dep[nd->b] || dep[nd->c];
    }
    NodeId top = 0;
    for (int r = 0; r < f->nroots; r++) {
        body[f->roots[r]] = 1;
        top = f->roots[r] > top ? f->roots[r] : top;
    }
    Note *notes = NULL;
    uint32_t nnotes = 0, cap = 0;
    for (NodeId id = top; id > 0; id--) {
        if (!body[id])
            continue;
        const Node *nd = &d->nodes[id];
        body[nd->a] = body[nd->b] = body[nd->c] = 1;
        const char *text = dep[id] ? report_domain_note(f, id) : NULL;
        if (!text)
            continue;
        if (nnotes == cap) {
            cap = cap ? 2 * cap : 16;
            notes = xrealloc(notes, cap * sizeof *notes);
        }
        notes[nnotes++] = (Note){d->meta[id].line, d->meta[id].column, text, id};
    }
    if (nnotes)
        qsort(notes, nnotes, sizeof *notes, by_place);
    for (uint32_t k = 0; k < nnotes; k++) {
        if (k > 0 && by_place(&notes[k], &notes[k - 1]) == 0)
            continue;
        report_put_loc(out, diag, f, notes[k].id);
        buf_printf(out, ": note: %s\n", notes[k].text);
    }
    free(notes);
    free(dep);
    free(body);
}

/* "0..N - 2": a kept loop's range, in its sizes. */
static void print_range(Buf *out, const Func *f, const Loop *lp)
{
    func_put_affine(out, &lp->lo, lp->var, lp->ovar, f->size, " * ");
    buf_puts(out, "..");
    func_put_affine(out, &lp->hi, lp->var, lp->ovar, f->size, " * ");
}

/* Per entry point asked for: its operations and the sweeps that make them (a compressed
 * Jacobian's or Hessian's colours: the groups of columns or rows a sweep carries at once). */
static void report_entries(const Func *f, const Sched *s, Buf *out)
{
    buf_printf(out, "  %-22s %10s   %s\n", "entry point", "operations", "sweeps");
    for (int k = 1; k < ENTRY_KINDS; k++) {
        if (!(f->entries & 1u << k))
            continue;
        Entry e;
        uint32_t per_kind[N_KINDS];
        sched_entry(s, (EntryKind)k, &e);
        uint32_t ops = count_body(f, e.roots, (int)e.nroots, per_kind);
        entry_free(&e);
        buf_printf(out, "  %-22s %10u   ", entry_info[k].word, ops);
        EntryKind columns = func_columns(f, (EntryKind)k);
        const Sparse *sp = &f->mode[entry_of((EntryKind)k) == ENTRY_JAC_SPARSE ? ENTRY_JAC :
                                    entry_of((EntryKind)k) == ENTRY_HESS_SPARSE ? ENTRY_HESS :
                                    entry_of((EntryKind)k)].sparse;
        if (k == ENTRY_HESS_SPARSE && f->band.elements)
            buf_printf(out, "the terms' second derivatives into %u products, a colour "
                       "of the columns each\n", f->band.ncolours);
        else if (func_dir_entry(f, (EntryKind)k))
            buf_printf(out, "%s, along the %u columns at once\n", ENTRIES_HESSIAN >> k & 1 ?
                       "1 forward, 1 reverse over it" : "1 forward", func_directions(f));
        else if (columns != ENTRY_KINDS && f->band.colours && entry_info[k].sparse)
            buf_printf(out, "%u calls of %s, along a colour of the columns each\n",
                       f->band.ncolours, entry_info[columns].word);
        else if (columns != ENTRY_KINDS) {
            Affine n = matrix_diff_length(f);
            func_put_affine(out, &n, "", NULL, f->size, " * ");
            buf_printf(out, " calls of %s, a column each\n", entry_info[columns].word);
        }
        else if (entry_info[k].sweep == SWEEP_COMPRESSED)
            buf_printf(out, "%u %s, %u nonzero%s\n", sp->groups, sp->reverse ?
                       "reverse (colours of the rows)" : "forward (colours of the columns)",
                       sp->nnz, sp->nnz == 1 ? "" : "s");
        else if (entry_info[k].sweep == SWEEP_COMPRESSED_HESS)
            buf_printf(out, "1 reverse, %u forward over it (colours of the columns), %u "
                       "nonzero%s in the lower triangle\n", sp->groups, sp->nnz,
                       sp->nnz == 1 ? "" : "s");
        else
            buf_printf(out, "%s\n", entry_info[k].sweep == SWEEP_REVERSE ? "1 reverse" :
                       entry_info[k].sweep == SWEEP_FORWARD ? "1 forward" :
                       "1 reverse, 1 forward over it");
    }
}

/* A definition's loops kept at run time: per loop, what one iteration costs (the C runs it
 * over the range), and where its derivative is not to be trusted. */
static void report_loops(const Func *f, const Diag *diag, Buf *out)
{
    buf_printf(out, "  kept loops: operations of one iteration (the C repeats it over the "
                    "range)\n  %-28s %-16s %8s %8s %6s\n", "loop", "range", f->name,
               f->vector ? "jacobian" : "gradient", "tape");
    for (int i = 0; i < f->nloops; i++) {
        const Loop *lp = &f->loops[i];
        const Func *body = lp->body;
        uint32_t per_kind[N_KINDS], nroots = (uint32_t)body->nroots, nd = body->ndiff;
        uint32_t value = count_body(body, body->roots, (int)nroots, per_kind), grad = value;
        /* the iteration's reverse step (a vector result's: its tangent step), its value too */
        const NodeId *step = f->vector ? body->mode[ENTRY_JVP].node : body->mode[ENTRY_VJP].node;
        uint32_t nstep = f->vector ? nroots : nd;
        if (step) {
            NodeId *all = xrealloc(NULL, (nroots + nstep + 1) * sizeof *all);
            memcpy(all, body->roots, nroots * sizeof *all);
            memcpy(all + nroots, step, nstep * sizeof *all);
            grad = count_body(body, all, (int)(nroots + nstep), per_kind);
            free(all);
        }
        Buf what = {0}, range = {0};
        buf_printf(&what, "%s over %s%s%s (%d:%d)", lp->product ? "product" :
                   lp->nstate ? "recurrence" : lp->result ? "map" : "sum", lp->var,
                   lp->per_step ? " per " : "", lp->per_step ? lp->ovar : "",
                   lp->loc.first_line, lp->loc.first_column);
        print_range(&range, f, lp);
        buf_printf(out, "  %-28s %-16s %8u %8u ", what.data, range.data, value, grad);
        if (lp->nstate)
            buf_printf(out, "%6u\n", lp->ntape);
        else
            buf_printf(out, "%6s\n", "-");
        buf_free(&what);
        buf_free(&range);
    }
    for (int i = 0; i < f->nloops; i++)
        domain_notes(f->loops[i].body, diag, out);
}

static void report_func(Func *f, const Diag *diag, NameSet *file_names, Arena *arena, Buf *out)
{
    uint32_t value[N_KINDS], grad[N_KINDS];
    /* the derivative entry point: the gradient, or a vector result's Jacobian */
    Entry ev, eg;
    Sched s;
    sched_init(&s, f, arena, file_names);
    sched_entry(&s, ENTRY_VALUE, &ev);
    sched_entry(&s, f->vector ? ENTRY_JAC : ENTRY_GRAD, &eg);
    uint32_t ops_value = count_body(f, ev.roots, (int)ev.nroots, value);
    uint32_t ops_grad = count_body(f, eg.roots, (int)eg.nroots, grad);
    uint32_t temps_value = temporaries(&s, &ev), temps_grad = temporaries(&s, &eg);
    entry_free(&ev);
    entry_free(&eg);

    buf_printf(out, "%s: %s:%d:%d\n  %-22s %10s %10s\n", f->name, diag->file, f->def->name_loc.first_line,
               f->def->name_loc.first_column, "operations", f->name,
               f->vector ? "jacobian" : "gradient");
    char name[32];
    for (int k = 0; k < N_KINDS; k++)
        if (value[k] || grad[k])
            buf_printf(out, "  %-22s %10u %10u\n", kind_name((NodeKind)k, name, sizeof name),
                       value[k], grad[k]);
    buf_printf(out, "  %-22s %10u %10u\n", "all", ops_value, ops_grad);
    unsigned long wv = weighted(value), wg = weighted(grad);
    buf_printf(out, "  %-22s %10lu %10lu", "weighted (ops.h cost)", wv, wg);
    if (wv)
        buf_printf(out, "   ratio %.2f (cheap-gradient bound %d)", (double)wg / (double)wv,
                   CHEAP_GRADIENT_BOUND);
    buf_printf(out, "\n  %-22s %10u %10u\n", "temporaries", temps_value, temps_grad);
    buf_printf(out, "  sharing: %u operation%s built again by the source, shared by "
                    "hash-consing\n", f->shared, f->shared == 1 ? "" : "s");
    report_entries(f, &s, out);
    sched_free(&s);
    if (f->nloops)
        report_loops(f, diag, out);
    domain_notes(f, diag, out);
}

void report_program(Program *prog, const Diag *diag, Buf *out)
{
    Arena arena = {0};
    NameSet file_names;
    names_init(&file_names, &arena, 16, NULL);
    for (int i = 0; i < prog->nfuncs; i++) {
        buf_puts(out, i ? "\n" : "");
        report_func(&prog->funcs[i], diag, &file_names, &arena, out);
    }
    if (!out->data)
        buf_putn(out, "", 0);
    names_free(&file_names);
    arena_free(&arena);
}
