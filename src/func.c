/*
 * func.c: what every stage reads of a Func and a Loop beside their fields, and their release.
 * Input: a Func as sema built it, differentiated by modes or not (the arrays a stage has not
 * made are NULL, which free takes). Output: a kept loop's counts of slots, and nothing left
 * allocated of a Func. Invariants: below sema and modes, which both call it; it calls neither,
 * only dag.c.
 */
#include <stdlib.h>

#include "adgen.h"

LoopSweep *loop_sweep(const Func *f, const Loop *lp, EntryKind k)
{
    return &f->mode[entry_of(k)].loop[lp - f->loops];
}

uint32_t loop_bar(const Func *f, const Loop *lp, EntryKind k)
{
    return loop_sweep(f, lp, entry_of(k) == ENTRY_VJP ? ENTRY_VJP : ENTRY_GRAD)->bar;
}

int func_per_step(const Func *f)
{
    for (int i = 0; i < f->nloops; i++)
        if (f->loops[i].per_step)
            return 1;
    return 0;
}

uint32_t loop_results(const Loop *lp)
{
    return lp->nstate ? lp->nstate : lp->result ? lp->result : (uint32_t)lp->body->nroots;
}

int load_diff(const Func *f, const Load *ld)
{
    if (ld->param >= 0)
        return f->params[ld->param].kind == PARAM_DIFF;
    if (!load_traj(ld))
        return 0;
    const Traj *t = &f->traj[-1 - ld->param];
    const Loop *lp = &f->loops[t->loop];
    /* a recurrence's state of data only carries no tangent, as unrolled: its reader does not
     * differentiate it (a domain edge of it, sqrt(t[k]) at t = 0, makes no NaN) */
    return lp->active && (lp->per_step || !lp->state_active || lp->state_active[t->state]);
}

void loop_free(Loop *lp)
{
    func_free(lp->body);
    free(lp->load);
    free(lp->cap);
    free(lp->cap_active);
    free(lp->init);
    free(lp->tape);
    free(lp->state_active);
    free(lp->state_flag);
    free(lp->traj);
}

void func_free(Func *f)
{
    free(f->slot_zero);
    free(f->none);
    free(f->root_seed);
    for (int k = 0; k < ENTRY_KINDS; k++) {
        Derived *m = &f->mode[k];
        for (int i = 0; m->loop && i < f->nloops; i++) {
            free(m->loop[i].seed);
            free(m->loop[i].cap_dot);
            free(m->loop[i].seed_zero);
            free(m->loop[i].cap_dot_zero);
        }
        free(m->loop);
        free(m->node);
        free(m->zero);
        free(m->sparse.row);
        free(m->sparse.col);
        free(m->sparse.node);
    }
    for (int i = 0; i < f->nloops; i++)
        loop_free(&f->loops[i]);
    free(f->loops);
    free(f->traj);
    free(f->band.pair);
    free(f->band.colours);
    dag_free(&f->dag);
    free(f->input);
    nodemap_free(&f->adj);
    free(f->diff);
}

void func_put_affine(Buf *out, const Affine *a, const char *var, const char *ovar,
                     const char *const *size, const char *times)
{
    size_t start = out->len;
    enum { TERMS = MAX_SIZES + 2 + 2 * MAX_SIZES };
    for (int t = 0; t < TERMS; t++) {
        /* the products first (a row's start, i*m + j), var (p < MAX_SIZES) or ovar times a
         * size; then var, the sizes and ovar */
        int j = (t + MAX_SIZES + 2) % TERMS, p = j - MAX_SIZES - 2;
        int64_t c = j <= MAX_SIZES ? a->c[j] : p < 0 ? a->o :
                    p < MAX_SIZES ? a->cv[p] : a->ov[p - MAX_SIZES];
        if (!c)
            continue;
        if (out->len > start)
            buf_puts(out, c < 0 ? " - " : " + ");
        else if (c < 0)
            buf_puts(out, "-");
        if (c != 1 && c != -1)
            buf_printf(out, "%lld%s", (long long)(c < 0 ? -c : c), times);
        if (p >= 0)
            buf_printf(out, "%s%s%s", p < MAX_SIZES ? var : ovar, times,
                       size[p % MAX_SIZES]);
        else
            buf_puts(out, j == 0 ? var : j <= MAX_SIZES ? size[j - 1] : ovar);
    }
    if (out->len == start)
        buf_printf(out, "%lld", (long long)a->k);
    else if (a->k)
        buf_printf(out, " %c %lld", a->k < 0 ? '-' : '+', (long long)(a->k < 0 ? -a->k : a->k));
}

int func_reads_slots(const Func *f, NodeId id, const uint8_t *mask, uint8_t *seen)
{
    uint32_t top = 0, cap = 64;
    NodeId *stack = xrealloc(NULL, cap * sizeof *stack);
    int found = 0;
    stack[top++] = id;
    while (top && !found) {
        NodeId n = stack[--top];
        const Node *nd = &f->dag.nodes[n];
        if (!n || seen[n])
            continue;
        seen[n] = 1;
        if (nd->kind == N_INPUT) {
            found = mask[(uint32_t)nd->k];
            continue;
        }
        if (top + 3 > cap) {
            cap *= 2;
            stack = xrealloc(stack, cap * sizeof *stack);
        }
        stack[top++] = nd->a;
        stack[top++] = nd->b;
        stack[top++] = nd->c;
    }
    free(stack);
    return found;
}
