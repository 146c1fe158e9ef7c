/*
 * runs.c: the kept loops' runs of an entry point, planned: scheduling, as schedule.c's is,
 * done before anything prints. Input: a definition with kept loops (Func.loops), one of its
 * entry points and its roots. Output: the entry's Body and its Runs: which loops it runs and
 * as what (the sum or the recurrence, its tangent, the reverse loop, the reverse loop's
 * tangent), a sum fused with its reverse loop where one loop can do both, in an order that
 * gives each run what it reads (the forward runs as the source has them, the reverse runs
 * backwards), and which input slots each defines; per run, the outputs its iteration computes
 * (none that nobody reads) and the function's nodes it reads; and the C names of what the
 * loops define. Invariant: the body holds every node a run reads, as a local computed once
 * outside the loops (runs_plan schedules the body again until it does).
 */
#include <stdlib.h>
#include <string.h>

#include "adgen.h"
#include "emit.h"

/* Whether the body has one of the n input slots from `slot`. */
static int has_slots(const Sched *s, const Body *b, uint32_t slot, uint32_t n)
{
    for (uint32_t j = 0; j < n; j++)
        if (body_find(s, b, s->f->input[slot + j]) >= 0)
            return 1;
    return 0;
}

/* Whether the statement of node id (top) reads node `target` inside its expression. */
static int inline_reads(const Sched *s, const Body *b, NodeId id, NodeId target, int top)
{
    const Node *nd = &s->f->dag.nodes[id];
    if (id == target)
        return 1;
    if (!node_is_op(&s->f->dag, id))
        return 0;
    long k = body_find(s, b, id);
    if (!top && k >= 0 && b->local[k])
        return 0;
    NodeId ops[3] = {nd->a, nd->b, nd->c};
    for (int i = 0; i < node_arity(nd->kind); i++)
        if (inline_reads(s, b, ops[i], target, 0))
            return 1;
    return 0;
}

/* Per loop: 1 when its sum and its reverse loop can be one loop: the adjoint of the sum (the
 * seed) reads no loop's result, and no statement of the body reads the sum (only what is
 * stored and returned does), so the loop can run where the reverse loop runs. */
static uint8_t *fusible(const DefOut *e, const Entry *entry, const Body *b, const uint8_t *on)
{
    const Func *f = e->s.f;
    uint8_t *fuse = xrealloc(NULL, (size_t)f->nloops + 1);
    memset(fuse, 0, (size_t)f->nloops + 1);
    uint8_t *seen = xrealloc(NULL, f->dag.len), *mask = xrealloc(NULL, f->nslots + 1);
    memset(mask, 0, f->nslots + 1);
    for (int i = 0; i < f->nloops; i++) {
        const Loop *lp = &f->loops[i];
        uint32_t nout = loop_results(lp);
        for (uint32_t j = 0; j < nout; j++)
            mask[lp->slot + j] = 1;
        for (uint32_t c = 0; c < lp->ncap + lp->nstate; c++)
            mask[loop_bar(f, lp, entry->kind) + c] = 1;
        for (uint32_t j = 0; j < lp->nstate; j++)
            mask[loop_sweep(f, lp, entry->kind == ENTRY_HVP ? ENTRY_GRAD : entry->kind)->zero_bar +
                 j] = 1;
        for (uint32_t c = 0; c < lp->ncap; c++)
            mask[loop_sweep(f, lp, entry->kind == ENTRY_HVP ? ENTRY_GRAD : entry->kind)->live_bar +
                 c] = 1;
        const LoopSweep *hs = loop_sweep(f, lp, ENTRY_HVP);
        for (uint32_t c = 0; entry->kind == ENTRY_HVP && c < lp->ncap; c++)
            mask[hs->bar + c] = mask[hs->live_bar + c] = 1;
    }
    for (int i = 0; i < f->nloops; i++) {
        const Loop *lp = &f->loops[i];
        const uint8_t *o = &on[RUN_KINDS * i];
        if (lp->nstate || lp->per_step || !o[RUN_VALUE] ||
            !(o[RUN_REVERSE] || o[RUN_REVERSE_TANGENT]))
            continue;
        /* the seeds of the reverse loop (and of its tangent) must not read a loop's result */
        memset(seen, 0, f->dag.len);
        if (func_reads_slots(f, loop_sweep(f, lp, o[RUN_REVERSE] ? entry->kind : ENTRY_GRAD)->seed[0],
                        mask, seen))
            continue;
        memset(seen, 0, f->dag.len);
        if (o[RUN_REVERSE_TANGENT] &&
            func_reads_slots(f, loop_sweep(f, lp, ENTRY_HVP)->seed[0], mask, seen))
            continue;
        fuse[i] = 1;
        for (uint32_t k = 0; k < b->n && fuse[i]; k++)
            if (b->local[k] && inline_reads(&e->s, b, b->nodes[k], f->input[lp->slot], 1))
                fuse[i] = 0;
    }
    free(seen);
    free(mask);
    return fuse;
}

uint32_t runs_out_slot(const Func *f, const Loop *lp, EntryKind k, const RunOut *o)
{
    switch (o->kind) {
    case OUT_RESULT: return lp->nstate ? UINT32_MAX : lp->slot + o->idx;
    case OUT_RESULT_DOT: return lp->nstate ? UINT32_MAX : lp->dot_slot + o->idx;
    case OUT_CAP_BAR: return loop_bar(f, lp, k) + o->idx;
    case OUT_CAP_HV: return loop_sweep(f, lp, ENTRY_HVP)->bar + o->idx;
    case OUT_LIVE: return o->idx;
    case OUT_LOAD_BAR: case OUT_LOAD_HV: case OUT_STATE_BAR: case OUT_STATE_HV:
    case OUT_STATE_ZERO: case OUT_STATE_HV_ZERO: case OUT_STEP:
    case OUT_TAPE: case OUT_VALUE: case OUT_VALUE_DOT: case OUT_TRAJ: case OUT_TRAJ_DOT:
    case OUT_TRAJ_ZERO: case OUT_TRAJ_HV_ZERO:
        return UINT32_MAX;
    }
    return UINT32_MAX;
}

/* Drops from the n outputs o of a loop those that do nothing: a zero added into a
 * gradient's element, and a state's adjoint nobody reads (neither the function after the
 * loop, as the adjoint of the state's first value, nor another output's statement in the
 * iteration). Returns how many are left. */
static uint32_t drop_idle_outputs(const DefOut *e, const Body *b, const Loop *lp, RunOut *o,
                                  uint32_t n, uint32_t bar, uint32_t zb)
{
    const Func *f = e->s.f, *body = lp->body;
    const Dag *d = &body->dag;
    uint32_t hv = loop_sweep(f, lp, ENTRY_HVP)->bar, hzb = loop_sweep(f, lp, ENTRY_HVP)->zero_bar;
    uint8_t *need = xrealloc(NULL, n + 1), *reach = xrealloc(NULL, d->len);
    for (uint32_t k = 0; k < n; k++)
        need[k] = o[k].kind == OUT_STATE_BAR ?
                  body_find(&e->s, b, f->input[bar + lp->ncap + o[k].idx]) >= 0 :
                  o[k].kind == OUT_STATE_HV ?
                  body_find(&e->s, b, f->input[hv + lp->ncap + o[k].idx]) >= 0 :
                  o[k].kind == OUT_STATE_ZERO ?
                  body_find(&e->s, b, f->input[zb + o[k].idx]) >= 0 :
                  o[k].kind == OUT_STATE_HV_ZERO ?
                  body_find(&e->s, b, f->input[hzb + o[k].idx]) >= 0 :
                  !((o[k].kind == OUT_LOAD_BAR || o[k].kind == OUT_LOAD_HV) &&
                    dag_is_const(d, o[k].node, 0.0));
    for (int changed = 1; changed;) {
        changed = 0;
        memset(reach, 0, d->len);
        for (uint32_t k = 0; k < n; k++) /* outputs may share a node */
            reach[o[k].node] |= need[k] && o[k].node != 0;
        dag_reach(d, d->len - 1, reach);
        for (uint32_t k = 0; k < n; k++) /* a state's adjoint (or tangent) read by what is kept */
            if (!need[k] && ((o[k].kind == OUT_STATE_BAR &&
                              reach[body->input[body->bar_slot + o[k].idx]]) ||
                             (o[k].kind == OUT_STATE_HV &&
                              reach[body->input[body->bar_dot_slot + o[k].idx]]) ||
                             (o[k].kind == OUT_STATE_ZERO &&
                              reach[body->input[loop_seed_flag(lp, o[k].idx)]]) ||
                             (o[k].kind == OUT_STATE_HV_ZERO &&
                              reach[body->input[loop_seed_dot_flag(lp, o[k].idx)]])))
                need[k] = changed = 1;
    }
    uint32_t kept = 0;
    for (uint32_t k = 0; k < n; k++)
        if (need[k])
            o[kept++] = o[k];
    free(need);
    free(reach);
    return kept;
}

uint32_t runs_outputs(const DefOut *e, const Entry *entry, const Body *b, const Run *r,
                      RunOut **outs)
{
    const Func *f = e->s.f;
    const Loop *lp = &f->loops[r->loop];
    const Func *body = lp->body;
    const Derived *jvp = &body->mode[ENTRY_JVP], *vjp = &body->mode[ENTRY_VJP],
                  *hvp = &body->mode[ENTRY_HVP];
    uint32_t nout = loop_results(lp), st0 = 1 + lp->nload, cap0 = st0 + lp->nstate, n = 0;
    RunOut *o = xrealloc(NULL, (9 * nout + 4 * body->ndiff + lp->ntape + 2) * sizeof *o);
    EntryKind bar = r->kind == RUN_REVERSE_TANGENT ? ENTRY_GRAD : entry->kind;
    /* the tape first: it reads the states before the new ones replace them */
    for (uint32_t t = 0; r->kind == RUN_VALUE && entry_reverse(entry->kind) && t < lp->ntape; t++)
        o[n++] = (RunOut){lp->tape[t], OUT_TAPE, t};
    /* hvp's tape: each step's states and the active ones' tangents */
    for (uint32_t j = 0; r->kind == RUN_TANGENT && entry->kind == ENTRY_HVP && j < lp->nstate;
         j++) {
        o[n++] = (RunOut){body->input[st0 + j], OUT_STEP, j};
        for (uint32_t k = 0; k < body->ndiff; k++)
            if (body->diff[k] == st0 + j)
                o[n++] = (RunOut){body->input[body->dot_slot + k], OUT_STEP, lp->nstate + j};
    }
    for (uint32_t j = 0; lp->traj && !lp->per_step && r->kind < RUN_REVERSE && j < nout; j++) {
        if (!lp->traj[j])
            continue;
        o[n++] = (RunOut){body->roots[j], OUT_TRAJ, j};
        if (r->kind == RUN_TANGENT)
            o[n++] = (RunOut){jvp->node[j], OUT_TRAJ_DOT, j};
        if (entry_reverse(entry->kind) || entry->kind == ENTRY_HVP)
            o[n++] = (RunOut){body->zero, OUT_TRAJ_ZERO, j};
        if (entry->kind == ENTRY_HVP)
            o[n++] = (RunOut){body->zero, OUT_TRAJ_HV_ZERO, j};
    }
    if (r->kind < RUN_REVERSE || r->fused)
        for (uint32_t j = 0; j < nout; j++)
            o[n++] = (RunOut){body->roots[j], lp->result ? OUT_VALUE : OUT_RESULT, j};
    for (uint32_t j = 0; r->kind == RUN_TANGENT && j < nout; j++) {
        if (!lp->result && !loop_result_active(lp, j)) /* a state of data only: no tangent */
            continue;
        o[n++] = (RunOut){jvp->node[j], lp->result ? OUT_VALUE_DOT : OUT_RESULT_DOT, j};
        if (!lp->nstate && !lp->result)
            o[n++] = (RunOut){jvp->zero[j], OUT_LIVE, loop_sweep(f, lp, entry->kind)->live_dot};
    }
    for (uint32_t k = 0; r->kind >= RUN_REVERSE && k < body->ndiff; k++) {
        uint32_t slot = body->diff[k];
        /* hvp: a trajectory's adjoint too, which its recurrence's reverse loop carries */
        if (slot < st0 && (r->kind == RUN_REVERSE || load_traj(&lp->load[slot - 1]))) {
            o[n++] = (RunOut){vjp->node[k], OUT_LOAD_BAR, slot - 1};
        } else if (slot >= st0 && slot < cap0) {
            o[n++] = (RunOut){vjp->node[k], OUT_STATE_BAR, slot - st0};
            if (loop_state_flag(lp, slot - st0))
                o[n++] = (RunOut){vjp->zero[k] ? vjp->zero[k] : body->zero, OUT_STATE_ZERO,
                                  slot - st0};
        } else if (slot >= cap0) {
            o[n++] = (RunOut){vjp->node[k], OUT_CAP_BAR, slot - cap0};
            o[n++] = (RunOut){vjp->zero[k], OUT_LIVE,
                              loop_sweep(f, lp, bar)->live_bar + slot - cap0};
        }
        if (r->kind != RUN_REVERSE_TANGENT)
            continue;
        if (slot < st0) {
            o[n++] = (RunOut){hvp->node[k], OUT_LOAD_HV, slot - 1};
        } else if (slot < cap0) {
            o[n++] = (RunOut){hvp->node[k], OUT_STATE_HV, slot - st0};
            if (loop_state_flag(lp, slot - st0))
                o[n++] = (RunOut){hvp->zero[k] ? hvp->zero[k] : body->zero, OUT_STATE_HV_ZERO,
                                  slot - st0};
        } else {
            o[n++] = (RunOut){hvp->node[k], OUT_CAP_HV, slot - cap0};
            o[n++] = (RunOut){hvp->zero[k], OUT_LIVE,
                              loop_sweep(f, lp, ENTRY_HVP)->live_bar + slot - cap0};
        }
    }
    uint32_t kept = 0;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t slot = runs_out_slot(f, lp, entry->kind, &o[k]);
        /* a sum per step's sum is stored, not read by the function */
        if (slot == UINT32_MAX || body_find(&e->s, b, f->input[slot]) >= 0 ||
            (lp->per_step && (o[k].kind == OUT_RESULT || o[k].kind == OUT_RESULT_DOT)))
            o[kept++] = o[k];
    }
    *outs = o;
    return drop_idle_outputs(e, b, lp, o, kept, loop_bar(f, lp, entry->kind),
                             loop_sweep(f, lp, entry_of(entry->kind) == ENTRY_VJP ? ENTRY_VJP :
                                                                     ENTRY_GRAD)->zero_bar);
}

NodeId *runs_flags(const Func *f, const Loop *lp, const Entry *entry, const Run *r)
{
    uint32_t nout = loop_results(lp), n = lp->ncap + 2 * nout;
    const LoopSweep *own = loop_sweep(f, lp, entry->kind), *hs = loop_sweep(f, lp, ENTRY_HVP);
    const LoopSweep *seed = r->kind == RUN_REVERSE_TANGENT ? loop_sweep(f, lp, ENTRY_GRAD) : own;
    NodeId *flag = xrealloc(NULL, (n + 1) * sizeof *flag);
    for (uint32_t i = 0; i < n; i++) {
        flag[i] = 0;
        if (i < lp->ncap && (r->kind == RUN_TANGENT || r->kind == RUN_REVERSE_TANGENT) &&
            own->cap_dot_zero)
            flag[i] = own->cap_dot_zero[i];
        else if (i >= lp->ncap && i < lp->ncap + nout && r->kind >= RUN_REVERSE &&
                 seed->seed_zero)
            flag[i] = seed->seed_zero[i - lp->ncap];
        else if (i >= lp->ncap + nout && r->kind == RUN_REVERSE_TANGENT && hs->seed_zero)
            flag[i] = hs->seed_zero[i - lp->ncap - nout];
        /* a condition folded to false is none: the iteration names it `never`, a variable,
         * not the constant C compilers warn about as an operand of && and ||; but a flag
         * the loop carries starts at it */
        if (i >= lp->ncap && lp->nstate) /* a recurrence's: the flags it carries only */
            flag[i] = !loop_state_flag(lp, (i - lp->ncap) % nout) || r->kind < RUN_REVERSE ||
                      (i >= lp->ncap + nout && r->kind != RUN_REVERSE_TANGENT) ? 0 :
                      flag[i] ? flag[i] : f->zero;
        else if (flag[i] && dag_is_const(&f->dag, flag[i], 0.0))
            flag[i] = 0;
    }
    return flag;
}

void runs_reads(const DefOut *e, const Body *b, const Entry *entry, const Run *r,
                NodeId **roots, uint32_t *n)
{
    const Func *f = e->s.f;
    const Loop *lp = &f->loops[r->loop];
    const Func *body = lp->body;
    const Dag *d = &body->dag;
    RunOut *o;
    uint32_t nouts = runs_outputs(e, entry, b, r, &o), st0 = 1 + lp->nload,
             cap0 = st0 + lp->nstate;
    uint8_t *reach = xrealloc(NULL, d->len);
    memset(reach, 0, d->len);
    for (uint32_t k = 0; k < nouts; k++)
        reach[o[k].node] = o[k].node != 0;
    dag_reach(d, d->len - 1, reach);
    const LoopSweep *own = loop_sweep(f, lp, entry->kind);
    *roots = xrealloc(*roots, (*n + 3 * (lp->ncap + lp->nstate) + 4) * sizeof **roots);
    int tangent = r->kind == RUN_TANGENT || r->kind == RUN_REVERSE_TANGENT;
    for (uint32_t c = 0; c < lp->ncap; c++)
        if (reach[body->input[cap0 + c]])
            (*roots)[(*n)++] = lp->cap[c];
    for (uint32_t j = 0; j < lp->nstate; j++) {
        if (r->kind < RUN_REVERSE)
            (*roots)[(*n)++] = lp->init[j];
        if (r->kind == RUN_TANGENT && loop_result_active(lp, j))
            (*roots)[(*n)++] = own->cap_dot[lp->ncap + j];
    }
    const LoopSweep *gs = loop_sweep(f, lp, ENTRY_GRAD);
    for (uint32_t k = 0; k < nouts; k++) /* the adjoints of the states the loop carries */
        if (o[k].kind == OUT_STATE_BAR || o[k].kind == OUT_STATE_HV)
            (*roots)[(*n)++] = (r->kind == RUN_REVERSE_TANGENT && o[k].kind == OUT_STATE_BAR ?
                                gs : own)->seed[o[k].idx];
    for (uint32_t k = 0; tangent && k < body->ndiff; k++)
        if (body->diff[k] >= cap0 && reach[body->input[body->dot_slot + k]])
            (*roots)[(*n)++] = own->cap_dot[body->diff[k] - cap0];
    if (!lp->nstate && !lp->result && !lp->per_step && r->kind == RUN_REVERSE &&
        reach[body->input[body->bar_slot]])
        (*roots)[(*n)++] = own->seed[0];
    if (r->kind == RUN_REVERSE_TANGENT && !lp->nstate && !lp->per_step) {
        if (reach[body->input[body->bar_slot]])
            (*roots)[(*n)++] = loop_sweep(f, lp, ENTRY_GRAD)->seed[0];
        if (reach[body->input[body->bar_dot_slot]])
            (*roots)[(*n)++] = loop_sweep(f, lp, ENTRY_HVP)->seed[0];
    }
    /* the strong-zero conditions of the tangents and seeds it reads */
    NodeId *flag = runs_flags(f, lp, entry, r);
    uint32_t nflag = lp->ncap + 2 * loop_results(lp);
    *roots = xrealloc(*roots, (*n + nflag + 1) * sizeof **roots);
    for (uint32_t i = 0; i < nflag; i++)
        if (flag[i] && reach[body->input[lp->flag_slot + i]])
            (*roots)[(*n)++] = flag[i];
    free(flag);
    free(reach);
    free(o);
}

/* Recurrence i's runs and those of the sums per step it computes in its loop (Loop.host), in
 * on (choose_runs'): the sums run where the recurrence runs, forwards (their tangents with its
 * tangents) and backwards; a reverse loop of one is the other's too. */
static void host_runs(const Func *f, uint8_t *on, int i)
{
    uint8_t *ro = &on[RUN_KINDS * i];
    for (int h = 0; h < i; h++) {
        const Loop *ps = &f->loops[h];
        uint8_t *po = &on[RUN_KINDS * h];
        if (ps->host != i + 1)
            continue;
        for (int k = RUN_REVERSE; ps->active && k <= RUN_REVERSE_TANGENT; k++)
            ro[k] |= po[k];
    }
    if (ro[RUN_REVERSE_TANGENT]) /* hvp's reverse loop steps from its tangent loop's states */
        ro[RUN_TANGENT] = 1;
    ro[RUN_VALUE] = (ro[RUN_VALUE] || ro[RUN_REVERSE]) && !ro[RUN_TANGENT];
    for (int h = 0; h < i; h++) {
        const Loop *ps = &f->loops[h];
        uint8_t *po = &on[RUN_KINDS * h];
        if (ps->host != i + 1)
            continue;
        po[RUN_TANGENT] = ro[RUN_TANGENT] && ps->active;
        po[RUN_VALUE] = (ro[RUN_VALUE] || ro[RUN_TANGENT]) && !po[RUN_TANGENT];
        po[RUN_REVERSE] = ro[RUN_REVERSE] && ps->active;
        po[RUN_REVERSE_TANGENT] = ro[RUN_REVERSE_TANGENT] && ps->active;
    }
}

/* Which runs the body b needs (on[RUN_KINDS * loop + kind]), then their order in rs. */
static void choose_runs(DefOut *e, const Entry *entry, const Body *b, Runs *rs)
{
    Sched *s = &e->s;
    const Func *f = s->f;
    int hvp = entry->kind == ENTRY_HVP;
    uint8_t *on = xrealloc(NULL, (size_t)f->nloops * RUN_KINDS + 1);
    memset(on, 0, (size_t)f->nloops * RUN_KINDS + 1);
    for (int i = 0; i < f->nloops; i++) {
        const Loop *lp = &f->loops[i];
        uint32_t nout = loop_results(lp);
        /* a returned map's values are stored by every entry point (its tangents by jvp,
         * zeros when it is not active) */
        int tangent = (entry->kind == ENTRY_JVP || hvp) && (lp->active || lp->result);
        int sum = lp->result || has_slots(s, b, lp->slot, nout);
        int dot = tangent && (lp->result || has_slots(s, b, lp->dot_slot, nout));
        int bar = has_slots(s, b, loop_bar(f, lp, entry->kind), lp->ncap + lp->nstate) ||
                  (hvp && has_slots(s, b, loop_sweep(f, lp, ENTRY_HVP)->bar,
                                    lp->ncap + lp->nstate));
        for (uint32_t l = 0; l < lp->nload; l++)
            bar |= load_diff(f, &lp->load[l]);
        int reverse = (entry_reverse(entry->kind) || hvp) && lp->active && bar;
        /* a recurrence's reverse loop reads the states its forward loop stored (hvp's: and
         * their tangents) */
        dot |= hvp && reverse && lp->nstate;
        on[RUN_KINDS * i + RUN_VALUE] = (sum || (reverse && lp->nstate)) && !(tangent && dot);
        on[RUN_KINDS * i + RUN_TANGENT] = tangent && dot;
        on[RUN_KINDS * i + RUN_REVERSE] = reverse && !hvp;
        on[RUN_KINDS * i + RUN_REVERSE_TANGENT] = reverse && hvp;
    }
    /* a recurrence whose trajectory a loop reads runs before that loop: its values, its
     * tangents before a tangent run, its reverse loop after a reverse run (later loops
     * first: a reader may be a recurrence whose trajectory another reads) */
    for (int i = f->nloops - 1; i >= 0; i--) {
        const Loop *lp = &f->loops[i];
        const uint8_t *ro = &on[RUN_KINDS * i];
        if (lp->nstate)
            host_runs(f, on, i);
        for (uint32_t l = 0; l < lp->nload; l++) {
            if (!load_traj(&lp->load[l]) || !(ro[RUN_VALUE] || ro[RUN_TANGENT] ||
                                            ro[RUN_REVERSE] || ro[RUN_REVERSE_TANGENT]))
                continue;
            int t = f->traj[-1 - lp->load[l].param].loop;
            uint8_t *to = &on[RUN_KINDS * t];
            to[RUN_REVERSE] |= ro[RUN_REVERSE] && f->loops[t].active;
            to[RUN_REVERSE_TANGENT] |= ro[RUN_REVERSE_TANGENT] && f->loops[t].active;
            /* hvp's reverse loop steps from the states and tangents its tangent loop stored */
            to[RUN_TANGENT] |= (ro[RUN_TANGENT] || to[RUN_REVERSE_TANGENT]) &&
                               f->loops[t].active;
            to[RUN_VALUE] = !to[RUN_TANGENT];
        }
    }
    uint8_t *fuse = fusible(e, entry, b, on);
    rs->rot = NULL;
    rs->nrot = 0;
    rs->n = 0;
    rs->next = 0;
    rs->run = xrealloc(NULL, ((size_t)f->nloops * 2 + 1) * sizeof *rs->run);
    for (int i = 0; i < f->nloops; i++)
        for (int r = RUN_VALUE; r <= RUN_TANGENT; r++)
            if (on[RUN_KINDS * i + r] && !(r == RUN_VALUE && fuse[i]))
                rs->run[rs->n++] = (Run){i, (RunKind)r, 0};
    for (int i = f->nloops - 1; i >= 0; i--)
        for (int r = RUN_REVERSE; r <= RUN_REVERSE_TANGENT; r++)
            if (on[RUN_KINDS * i + r])
                rs->run[rs->n++] = (Run){i, (RunKind)r, fuse[i]};
    free(on);
    free(fuse);
    rs->nslots = f->nslots;
    rs->slot_run = xrealloc(NULL, (rs->nslots + 1) * sizeof *rs->slot_run);
    for (uint32_t k = 0; k < rs->nslots; k++)
        rs->slot_run[k] = -1;
    for (int j = 0; j < rs->n; j++) {
        const Loop *lp = &f->loops[rs->run[j].loop];
        if (rs->run[j].kind >= RUN_REVERSE) {
            EntryKind bar = rs->run[j].kind == RUN_REVERSE_TANGENT ? ENTRY_GRAD : entry->kind;
            for (uint32_t c = 0; c < lp->ncap + lp->nstate; c++)
                rs->slot_run[loop_bar(f, lp, entry->kind) + c] = j;
            for (uint32_t c = 0; c < lp->ncap; c++)
                rs->slot_run[loop_sweep(f, lp, bar)->live_bar + c] = j;
            const LoopSweep *hs = loop_sweep(f, lp, ENTRY_HVP);
            for (uint32_t c = 0; c < lp->nstate; c++) {
                rs->slot_run[loop_sweep(f, lp, bar)->zero_bar + c] = j;
                if (rs->run[j].kind == RUN_REVERSE_TANGENT)
                    rs->slot_run[hs->zero_bar + c] = j;
            }
            for (uint32_t c = 0; rs->run[j].kind == RUN_REVERSE_TANGENT && c < lp->ncap; c++)
                rs->slot_run[hs->live_bar + c] = j;
            for (uint32_t c = 0; rs->run[j].kind == RUN_REVERSE_TANGENT &&
                                 c < lp->ncap + lp->nstate; c++)
                rs->slot_run[hs->bar + c] = j;
            if (rs->run[j].fused)
                rs->slot_run[lp->slot] = j;
            continue;
        }
        for (uint32_t k = 0; k < loop_results(lp); k++) {
            rs->slot_run[lp->slot + k] = j;
            if (rs->run[j].kind == RUN_TANGENT)
                rs->slot_run[lp->dot_slot + k] = j;
        }
        if (rs->run[j].kind == RUN_TANGENT && !lp->nstate)
            rs->slot_run[loop_sweep(f, lp, entry->kind)->live_dot] = j;
    }
}

const Rotation *runs_rotation(const Runs *rs, int j, int param, int hv)
{
    for (int k = 0; k < rs->nrot; k++)
        if (rs->rot[k].run == j && rs->rot[k].param == param && rs->rot[k].hv == hv)
            return &rs->rot[k];
    return NULL;
}

enum { MAX_CARRY = 8 }; /* registers a rotation may carry */

/* Whether the loads of `param` that run j adds into the gradient (hv: the Hessian-vector
 * product) of are at index + offset, offsets *lo..*hi, covering the 1-D array exactly, and no
 * other run adds into it. */
static int rotates(const DefOut *e, const Entry *entry, const Body *b, const Runs *rs, int j,
                   int param, int hv, int64_t *lo, int64_t *hi)
{
    const Func *f = e->s.f;
    const Param *pa = &f->params[param];
    int found = 0, ok = pa->rank == 1;
    *lo = *hi = 0;
    for (int r = 0; r < rs->n && ok; r++) {
        RunOut *o;
        uint32_t n = runs_outputs(e, entry, b, &rs->run[r], &o);
        const Loop *lp = &f->loops[rs->run[r].loop];
        for (uint32_t k = 0; k < n && ok; k++) {
            if (o[k].kind != (hv ? OUT_LOAD_HV : OUT_LOAD_BAR) ||
                lp->load[o[k].idx].param != param)
                continue;
            const Affine *at = &lp->load[o[k].idx].at;
            ok = r == j && at->c[0] == 1 && !lp->per_step; /* it runs once a step */
            for (int s = 1; s <= MAX_SIZES && ok; s++)
                ok = at->c[s] == 0;
            *lo = found && *lo < at->k ? *lo : at->k;
            *hi = found && *hi > at->k ? *hi : at->k;
            found = 1;
        }
        free(o);
    }
    if (!ok || !found || *hi - *lo >= MAX_CARRY)
        return 0;
    /* the first element is the first step's, the last the last step's: lo + *lo is 0 and
     * hi + *hi is the array's length - 1 (a run-time size's, or a constant one's) */
    const Loop *lp = &f->loops[rs->run[j].loop];
    for (int s = 0; s <= MAX_SIZES; s++)
        ok = ok && lp->lo.c[s] == 0 && lp->hi.c[s] == (pa->rt_size >= 0 && s == 1 + pa->rt_size);
    return ok && lp->lo.k + *lo == 0 &&
           lp->hi.k + *hi == (pa->rt_size >= 0 ? -1 : (int64_t)pa->size - 1);
}

/* The gradients the entry point's forward reverse runs carry in registers (Rotation). */
static void plan_rotations(DefOut *e, const Entry *entry, const Body *b, Runs *rs)
{
    const Func *f = e->s.f;
    rs->rot = NULL;
    rs->nrot = 0;
    for (int j = 0; j < rs->n; j++) {
        const Run *r = &rs->run[j];
        if (r->kind < RUN_REVERSE || f->loops[r->loop].nstate)
            continue;
        for (int p = 0; p < f->nparams; p++) {
            for (int hv = 0; hv < 2; hv++) {
                int64_t lo, hi;
                if (!rotates(e, entry, b, rs, j, p, hv, &lo, &hi))
                    continue;
                rs->rot = xrealloc(rs->rot, ((size_t)rs->nrot + 1) * sizeof *rs->rot);
                Rotation *ro = &rs->rot[rs->nrot++];
                const char *array = hv ? e->s.hparam[p] : e->s.gparam[p];
                *ro = (Rotation){j, p, hv, lo, hi, NULL, NULL};
                ro->carry = arena_alloc(e->s.arena, (size_t)(hi - lo + 1) * sizeof *ro->carry);
                for (int64_t d = 0; d <= hi - lo; d++) {
                    Buf name = {0};
                    buf_printf(&name, "%s_%lld", array, (long long)d);
                    ro->carry[d] = names_claim(&e->s.names, name.data);
                    buf_free(&name);
                }
                Buf name = {0};
                buf_printf(&name, "%s_end", array);
                ro->end = names_claim(&e->s.names, name.data);
                buf_free(&name);
            }
        }
    }
}

void runs_plan(DefOut *e, const Entry *entry, Body *b, Runs *rs)
{
    Sched *s = &e->s;
    uint32_t n = entry->nroots, nread = 0;
    NodeId *roots = xrealloc(NULL, (n + 1) * sizeof *roots), *read = NULL;
    uint8_t *seen = xrealloc(NULL, s->f->dag.len);
    memset(seen, 0, s->f->dag.len);
    memcpy(roots, entry->roots, n * sizeof *roots);
    /* until the runs read nothing the body lacks: what they read only grows (a read no
     * longer needed when the runs change stays a local, so the body never shrinks back
     * and the plan cannot cycle) */
    for (;;) {
        sched_body(s, roots, (int)n, b, 0);
        choose_runs(e, entry, b, rs);
        nread = 0;
        for (int j = 0; j < rs->n; j++)
            runs_reads(e, b, entry, &rs->run[j], &read, &nread);
        uint32_t before = n;
        roots = xrealloc(roots, ((size_t)n + nread + 1) * sizeof *roots);
        for (uint32_t k = 0; k < nread; k++)
            if (!seen[read[k]]) {
                seen[read[k]] = 1;
                s->keep[read[k]] = KEEP_LOCAL;
                roots[n++] = read[k];
            }
        if (n == before)
            break;
        body_free(b);
        runs_free(rs);
    }
    for (uint32_t k = entry->nroots; k < n; k++)
        s->keep[roots[k]] = 0;
    free(roots);
    free(read);
    free(seen);
    plan_rotations(e, entry, b, rs);
}

void runs_free(Runs *rs)
{
    free(rs->rot);
    free(rs->run);
    free(rs->slot_run);
    free(rs->done);
}

/* A C identifier made of text ("w[0]" -> "w_0"), then suffix; "c" + suffix when none. */
static const char *claim_ident(Sched *s, const char *text, const char *suffix)
{
    Buf want = {0};
    for (const char *x = text; *x; x++)
        if ((*x >= 'a' && *x <= 'z') || (*x >= 'A' && *x <= 'Z') || (*x >= '0' && *x <= '9') ||
            (*x == '_' && want.len))
            buf_printf(&want, "%c", *x);
        else if (want.len && want.data[want.len - 1] != '_')
            buf_puts(&want, "_");
    if (want.len && want.data[want.len - 1] == '_')
        want.len--;
    buf_printf(&want, "%s%s", want.len ? "" : "c", suffix);
    const char *name = names_claim(&s->names, want.data);
    buf_free(&want);
    return name;
}

void runs_name_loops(DefOut *e)
{
    Sched *s = &e->s;
    const Func *f = s->f;
    unsigned built = func_built(f);
    e->state_zero = arena_alloc(s->arena, ((size_t)f->nloops + 1) * sizeof *e->state_zero);
    for (int i = 0; i < f->nloops; i++) {
        const Loop *lp = &f->loops[i];
        const LoopSweep *gs = loop_sweep(f, lp, ENTRY_GRAD), *vs = loop_sweep(f, lp, ENTRY_VJP);
        e->loop_var[i] = names_claim(&s->names, lp->var);
        if (lp->per_step && !e->step_var)
            e->step_var = names_claim(&s->names, lp->ovar);
        for (int h = 0; h < i; h++) /* its sums per step read its variable as theirs */
            if (f->loops[h].host == i + 1)
                e->loop_var[i] = e->step_var;
        e->never = e->never ? e->never : names_claim(&s->names, "never");
        /* a cycle of carried values takes a copy: states trade values, their tangents,
         * adjoints and the adjoints' strong-zero flags too */
        if (2 * lp->nstate > e->nold && lp->nstate > 1) {
            e->old = xrealloc(e->old, 2 * lp->nstate * sizeof *e->old);
            while (e->nold < 2 * lp->nstate)
                e->old[e->nold++] = names_claim(&s->names, "old");
        }
        for (uint32_t j = 0; j < loop_results(lp); j++) {
            Buf want = {0};
            if (lp->nstate)
                buf_printf(&want, "%s_%s", lp->state_name[j], lp->var);
            else
                buf_printf(&want, "sum_%s", lp->var);
            const char *v = s->local[f->input[lp->slot + j]] = names_claim(&s->names, want.data);
            if (lp->active && built & ENTRIES_TANGENTS)
                s->local[f->input[lp->dot_slot + j]] = claim_ident(s, v, "_dot");
            const char *bar = lp->nstate ? claim_ident(s, v, "_bar") : NULL;
            if (bar)
                s->local[f->input[gs->bar + lp->ncap + j]] = bar;
            if (bar && built & 1u << ENTRY_VJP)
                s->local[f->input[vs->bar + lp->ncap + j]] = bar;
            if (bar && built & 1u << ENTRY_HVP) /* its tangent, hvp's reverse loop carries */
                s->local[f->input[loop_sweep(f, lp, ENTRY_HVP)->bar + lp->ncap + j]] =
                    claim_ident(s, bar, "_dot");
            buf_free(&want);
        }
        e->state_zero[i] = arena_alloc(s->arena, (2 * (size_t)lp->nstate + 1) *
                                                 sizeof *e->state_zero[i]);
        for (uint32_t j = 0; j < lp->nstate; j++) {
            if (!loop_state_flag(lp, j))
                continue;
            const char *bar = s->local[f->input[gs->bar + lp->ncap + j]];
            const char *z = e->state_zero[i][2 * j] = claim_ident(s, bar, "_zero");
            s->local[f->input[gs->zero_bar + j]] = z;
            if (built & 1u << ENTRY_VJP)
                s->local[f->input[vs->zero_bar + j]] = z;
            if (built & 1u << ENTRY_HVP)
                s->local[f->input[loop_sweep(f, lp, ENTRY_HVP)->zero_bar + j]] =
                    e->state_zero[i][2 * j + 1] = claim_ident(s, bar, "_dot_zero");
        }
        for (uint32_t c = 0; c < lp->ncap; c++) {
            const char *acc = s->local[f->input[gs->bar + c]] =
                claim_ident(s, s->local[lp->cap[c]] ? s->local[lp->cap[c]] : "", "_acc");
            if (built & 1u << ENTRY_VJP)
                s->local[f->input[vs->bar + c]] = acc;
            if (built & 1u << ENTRY_HVP)
                s->local[f->input[loop_sweep(f, lp, ENTRY_HVP)->bar + c]] =
                    claim_ident(s, acc, "_dot");
            static const EntryKind bars[] = {ENTRY_GRAD, ENTRY_VJP, ENTRY_HVP};
            for (int k = 0; k < 3; k++)
                if (bars[k] == ENTRY_GRAD || built & 1u << bars[k])
                    s->local[f->input[loop_sweep(f, lp, bars[k])->live_bar + c]] =
                        claim_ident(s, acc, bars[k] == ENTRY_HVP ? "_dot_live" : "_live");
        }
        for (int k = 0; !lp->nstate && k < ENTRY_KINDS; k++)
            if (entry_tangents(k) && entry_of(k) == (EntryKind)k && built & 1u << k)
                s->local[f->input[loop_sweep(f, lp, k)->live_dot]] =
                    claim_ident(s, s->local[f->input[lp->slot]], "_dot_live");
    }
}

void runs_use(const DefOut *e, const Entry *entry, const Body *b, const Runs *rs,
              uint8_t *param, uint8_t *size)
{
    const Func *f = e->s.f;
    for (int j = 0; rs && j < rs->n; j++) {
        const Loop *lp = &f->loops[rs->run[j].loop];
        const Func *body = lp->body;
        const Dag *d = &body->dag;
        RunOut *o;
        uint32_t n = runs_outputs(e, entry, b, &rs->run[j], &o);
        uint8_t *reach = xrealloc(NULL, d->len);
        memset(reach, 0, d->len);
        for (uint32_t k = 0; k < n; k++) {
            reach[o[k].node] = o[k].node != 0;
            if ((o[k].kind == OUT_LOAD_BAR || o[k].kind == OUT_LOAD_HV) &&
                !dag_is_const(d, o[k].node, 0.0) && lp->load[o[k].idx].param >= 0)
                param[lp->load[o[k].idx].param] |= USE_WRITE;
        }
        dag_reach(d, d->len - 1, reach);
        const Affine *ends[2] = {&lp->lo, &lp->hi};
        for (int i = 0; n && i < 2; i++)
            for (int k = 0; k < f->nsizes; k++)
                size[k] |= ends[i]->c[1 + k] != 0;
        for (uint32_t l = 0; l < lp->nload; l++) {
            if (!reach[body->input[1 + l]])
                continue;
            if (lp->load[l].param >= 0)
                param[lp->load[l].param] |= USE_VALUE;
            for (int k = 0; k < f->nsizes; k++)
                size[k] |= lp->load[l].at.c[1 + k] != 0;
        }
        for (uint32_t k = 0; body->entries & 1u << ENTRY_JVP && k < body->ndiff; k++)
            if (body->diff[k] <= lp->nload && reach[body->input[body->dot_slot + k]] &&
                lp->load[body->diff[k] - 1].param >= 0)
                param[lp->load[body->diff[k] - 1].param] |= USE_DOT;
        free(reach);
        free(o);
    }
    for (int p = 0; p < f->nparams; p++)
        if (f->params[p].rt_size >= 0 && f->params[p].kind == PARAM_DIFF &&
            ((entry_reverse(entry->kind) && !e->opt->accumulate) || entry->kind == ENTRY_HVP)) {
            size[f->params[p].rt_size] = 1;
            if (f->params[p].rt_size2 >= 0)
                size[f->params[p].rt_size2] = 1;
        }
}
