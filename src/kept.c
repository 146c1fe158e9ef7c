/*
 * kept.c: loops over a range that depends on a size known at run time, kept as C loops.
 * Input: a sum over such a range, or a `for` loop over one, met by lower.c. Output: a Loop of
 * the function, whose body is a Func of one iteration, and the input slots through which the
 * function reads its results. The iteration is lowered into a DAG of its own (Kept), which
 * reads the index, the loads of run-time arrays, a recurrence's states and captures (values
 * of the function) through its input slots; kept_finish then hoists what does not change
 * with the index into the function. A `for` loop is a recurrence (states assigned before it,
 * the rest in it: x[k+1] = f(x[k])), lowered once with its states as inputs, or maps, whose
 * elements are lowered where a kept sum reads them. Invariants: one loop is kept at a time
 * (none inside another); every index an iteration reads is proven in bounds for all sizes; a
 * map's statements are lowered once with its own variable for their errors, else muted.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sema.h"

/* ---- an iteration and its input slots ----------------------------------------------------- */

/* Makes room for element n of an array grown by doubling. */
static void *grow(void *p, uint32_t n, size_t size)
{
    if (n == 0 || (n & (n - 1)) == 0)
        p = xrealloc(p, (size_t)(n ? 2 * n : 1) * size);
    return p;
}

static Affine aff_var(void)
{
    Affine a = affine_num(0);
    a.c[0] = 1;
    return a;
}

/* A node of the function read by the kept loop's iteration: an input slot of the iteration. */
NodeId kept_capture(Lower *L, NodeId outer)
{
    Kept *k = L->kept;
    const Node *nd = &L->f->dag.nodes[outer];
    if (!outer)
        return 0;
    if (nd->kind == N_CONST) {
        NodeId c = dag_const(L->d, nd->k);
        if (L->f->dag.meta[outer].label && !L->d->meta[c].label)
            L->d->meta[c].label = L->f->dag.meta[outer].label;
        return c;
    }
    for (uint32_t s = 0; s < k->nslots; s++)
        if (k->slot_kind[s] == SLOT_CAPTURE && k->cap[k->slot_ref[s]] == outer)
            return dag_input(L->d, s);
    k->cap = grow(k->cap, k->ncap, sizeof *k->cap);
    k->slot_kind = grow(k->slot_kind, k->nslots, sizeof *k->slot_kind);
    k->slot_ref = grow(k->slot_ref, k->nslots, sizeof *k->slot_ref);
    k->slot_kind[k->nslots] = SLOT_CAPTURE;
    k->slot_ref[k->nslots] = k->ncap;
    k->cap[k->ncap++] = outer;
    return dag_input(L->d, k->nslots++);
}

static NodeId kept_load(Lower *L, int param, const Affine *at)
{
    Kept *k = L->kept;
    for (uint32_t s = 0; s < k->nslots; s++) {
        if (k->slot_kind[s] != SLOT_LOAD) /* k->load may be NULL: no pointer into it */
            continue;
        const Load *ld = &k->load[k->slot_ref[s]];
        if (ld->param == param && affine_eq(&ld->at, at))
            return dag_input(L->d, s);
    }
    k->load = grow(k->load, k->nload, sizeof *k->load);
    k->slot_kind = grow(k->slot_kind, k->nslots, sizeof *k->slot_kind);
    k->slot_ref = grow(k->slot_ref, k->nslots, sizeof *k->slot_ref);
    k->slot_kind[k->nslots] = SLOT_LOAD;
    k->slot_ref[k->nslots] = k->nload;
    k->load[k->nload].param = param;
    k->load[k->nload++].at = *at;
    return dag_input(L->d, k->nslots++);
}

NodeId kept_outer_index(Lower *L)
{
    Affine t = affine_num(0);
    t.o = 1;
    return kept_load(L, LOAD_INDEX, &t);
}

/* An index of the outer loop's iteration as the sum per step inside it reads it: the outer
 * variable is its Affine.o. */
static Affine outer_affine(const Affine *a)
{
    Affine r = *a;
    r.o = r.c[0];
    r.c[0] = 0;
    return r;
}

/* outer_affine undone: the outer variable as the kept loop's again. */
static Affine inner_affine(const Affine *a)
{
    Affine r = *a;
    r.c[0] = r.o;
    r.o = 0;
    return r;
}

/* The loop variables of the scope's first mark bindings rebound: to the outer variable
 * (`out`: lowering a sum per step) or back to the kept loop's (lowering a sum of the outer
 * step there); their bindings before, for restore_loops. */
static Affine *rebind_loops(Lower *L, uint32_t mark, int out)
{
    Affine *saved = xrealloc(NULL, ((size_t)mark + 1) * sizeof *saved);
    for (uint32_t b = 0; b < mark; b++) {
        Binding *bd = &L->scope.v[b];
        saved[b] = bd->aff;
        if (bd->kind == B_LOOP && (out ? bd->aff.c[0] : bd->aff.o))
            bd->aff = out ? outer_affine(&bd->aff) : inner_affine(&bd->aff);
    }
    return saved;
}

static void restore_loops(Lower *L, Affine *saved, uint32_t mark)
{
    for (uint32_t b = 0; b < mark; b++)
        L->scope.v[b].aff = saved[b];
    free(saved);
}

static void kept_begin(Lower *L, Kept *k, const Affine *lo, const Affine *hi, const char *var)
{
    memset(k, 0, sizeof *k);
    dag_init(&k->dag);
    k->dag.fold = L->f->dag.fold;
    k->lo = *lo;
    k->hi = *hi;
    k->var = var;
    k->slot_kind = grow(NULL, 0, 1);
    k->slot_ref = grow(NULL, 0, sizeof *k->slot_ref);
    k->slot_kind[0] = SLOT_INDEX;
    k->slot_ref[0] = 0;
    k->nslots = 1;
    dag_input(&k->dag, 0);
    L->kept = k;
    L->scope.dag = L->d = &k->dag;
}

static void kept_end(Lower *L, Kept *k)
{
    for (uint32_t j = 0; j < k->nopen; j++) { /* after an error: never made loops */
        kept_end(L, k->open[j]);
        free(k->open[j]);
    }
    free(k->open);
    free(k->roots);
    free(k->trajs);
    free(k->vars);
    L->kept = NULL;
    L->scope.dag = L->d = &L->f->dag;
    dag_free(&k->dag);
    free(k->slot_kind);
    free(k->slot_ref);
    free(k->load);
    free(k->cap);
    free(k->iters);
    free(k->elems);
}

/* ---- the iteration made a Loop: hoisting -------------------------------------------------- */

/* Copies what a reader sees of node `from` of d (its source name and place) to node `to` of
 * nd, unless `to` has its own. */
static void copy_meta(Dag *nd, NodeId to, const Dag *d, NodeId from)
{
    NodeMeta *m = &nd->meta[to];
    if (!m->label)
        m->label = d->meta[from].label;
    if (!m->line) {
        m->line = d->meta[from].line;
        m->column = d->meta[from].column;
    }
}

/* The iteration's node of a value that does not change with the index: a capture. */
static NodeId finish_capture(Dag *nb, NodeId **cap, uint32_t *ncap, uint32_t first, NodeId outer)
{
    for (uint32_t c = 0; c < *ncap; c++)
        if ((*cap)[c] == outer)
            return dag_input(nb, first + c);
    *cap = grow(*cap, *ncap, sizeof **cap);
    (*cap)[*ncap] = outer;
    return dag_input(nb, first + (*ncap)++);
}

/* The iteration's node of root r of k, rebuilt in nb. */
static NodeId finish_root(Dag *nb, const Dag *d, NodeId r, const uint8_t *varies,
                          const NodeId *to, NodeId **cap, uint32_t *ncap, uint32_t first)
{
    if (d->nodes[r].kind == N_CONST)
        return dag_const(nb, d->nodes[r].k);
    return varies[r] ? to[r] : finish_capture(nb, cap, ncap, first, to[r]);
}

/* The iteration k rebuilt into nb, whose slots are the index, the loads, the states, then
 * the captures: a node that depends on none of the first three is built in the function
 * instead (hoisted out of the loop) and read as a capture, cap[c] the function's node of
 * capture c. Returns the roots' nodes in nb. */
static NodeId *hoist(Lower *L, Kept *k, const NodeId *roots, uint32_t nroots, Dag *nb,
                     NodeId **cap, uint32_t *ncap)
{
    Dag *d = &k->dag, *outer = &L->f->dag;
    uint32_t n = d->len;
    uint8_t *live = xrealloc(NULL, n), *varies = xrealloc(NULL, n);
    NodeId *to = xrealloc(NULL, n * sizeof *to), top = 0;
    memset(live, 0, n);
    memset(varies, 0, n);
    for (uint32_t r = 0; r < nroots; r++) {
        live[roots[r]] = 1;
        top = roots[r] > top ? roots[r] : top;
    }
    dag_reach(d, top, live);
    dag_init(nb);
    nb->fold = d->fold;
    uint32_t first = 1 + k->nload + k->nstate;
    for (uint32_t s = 0; s < first; s++)
        dag_input(nb, s);
    for (NodeId id = 1; id < n; id++) {
        if (!live[id])
            continue;
        const Node *nd = &d->nodes[id];
        if (nd->kind == N_CONST) {
            to[id] = 0;
            continue;
        }
        if (nd->kind == N_INPUT) {
            uint32_t s = (uint32_t)nd->k;
            uint8_t kind = k->slot_kind[s];
            varies[id] = kind != SLOT_CAPTURE;
            to[id] = kind == SLOT_INDEX ? dag_input(nb, 0) :
                     kind == SLOT_LOAD ? dag_input(nb, 1 + k->slot_ref[s]) :
                     kind == SLOT_STATE ? dag_input(nb, 1 + k->nload + k->slot_ref[s]) :
                     k->cap[k->slot_ref[s]];
            continue;
        }
        NodeId ops[3] = {nd->a, nd->b, nd->c}, m[3] = {0, 0, 0};
        int ar = node_arity(nd->kind);
        for (int i = 0; i < ar; i++)
            varies[id] |= varies[ops[i]];
        Dag *into = varies[id] ? nb : outer;
        for (int i = 0; i < ar; i++) {
            const Node *o = &d->nodes[ops[i]];
            if (o->kind == N_CONST) {
                m[i] = dag_const(into, o->k);
                copy_meta(into, m[i], d, ops[i]);
            } else if (varies[ops[i]] || !varies[id]) {
                m[i] = to[ops[i]];
            } else {
                m[i] = finish_capture(nb, cap, ncap, first, to[ops[i]]);
            }
        }
        to[id] = dag_op(into, (NodeKind)nd->kind, m[0], m[1], m[2]);
        copy_meta(into, to[id], d, id);
    }
    NodeId *body_roots = arena_alloc(L->arena, (nroots + 1) * sizeof *body_roots);
    for (uint32_t r = 0; r < nroots; r++)
        body_roots[r] = finish_root(nb, d, roots[r], varies, to, cap, ncap, first);
    free(live);
    free(varies);
    free(to);
    return body_roots;
}

/* The Func of one iteration, of DAG nb and these roots: its slots are hoist's (the index, the
 * loads, the states, the ncap captures), then flags. */
static Func *iteration_func(Lower *L, const Kept *k, const Dag *nb, NodeId *roots,
                            uint32_t nroots, uint32_t ncap, Loc loc)
{
    uint32_t first = 1 + k->nload + k->nstate;
    Func *body = arena_alloc(L->arena, sizeof *body);
    body->name = k->var;
    body->def = L->f->def;
    body->iteration = 1;
    body->dag = *nb;
    /* and the strong-zero conditions of what crosses into the loop: per capture (of its
     * tangent), per result (of its seed), per result (of its seed's tangent) */
    body->ninputs = first + ncap + ncap + 2 * nroots;
    body->input = xrealloc(NULL, (body->ninputs + 1) * sizeof *body->input);
    body->nparams = (int)body->ninputs;
    body->params = arena_alloc(L->arena, (body->ninputs + 1) * sizeof *body->params);
    for (uint32_t s = 0; s < body->ninputs; s++) {
        body->input[s] = dag_input(&body->dag, s);
        body->params[s].name = s == 0 ? k->var : s <= k->nload ? "load" :
                               s < first ? "state" : s < first + ncap ? "capture" : "flag";
        body->params[s].loc = loc;
        body->params[s].kind = PARAM_DATA;
        body->params[s].rt_size = body->params[s].rt_size2 = -1;
        body->params[s].first = s;
        body->params[s].size = 1;
    }
    body->nroots = (int)nroots;
    body->roots = roots;
    body->vector = nroots > 1;
    body->entries = 1u << ENTRY_VALUE;
    return body;
}

/* A loop of f computing what the sum or product k would, of iteration nb (the same range,
 * loads, first states, captures and nodes): one lowered again (a map's iteration lowered
 * where each loop reads it, a sum hoisted out of it each time) or written twice; -1 if none. */
static int same_loop(const Func *f, const Kept *k, const Dag *nb, NodeId root,
                     const NodeId *cap, uint32_t ncap)
{
    for (int i = 0; i < f->nloops; i++) {
        const Loop *lp = &f->loops[i];
        const Dag *d = &lp->body->dag;
        int same = !lp->result && lp->nstate == k->nstate && lp->nload == k->nload &&
                   lp->ncap == ncap && lp->body->roots[0] == root && d->len >= nb->len &&
                   affine_eq(&lp->lo, &k->lo) && affine_eq(&lp->hi, &k->hi) &&
                   lp->per_step == (k->ovar != NULL) &&
                   (!lp->per_step || (affine_eq(&lp->olo, &k->olo) && affine_eq(&lp->ohi, &k->ohi)));
        for (uint32_t j = 0; same && j < k->nload; j++)
            same = lp->load[j].param == k->load[j].param &&
                   affine_eq(&lp->load[j].at, &k->load[j].at);
        for (uint32_t j = 0; same && j < k->nstate; j++)
            same = lp->init[j] == k->state[j].init;
        for (uint32_t c = 0; same && c < ncap; c++)
            same = lp->cap[c] == cap[c];
        /* nb's nodes (the loop's body has the inputs of its flags after them) */
        for (NodeId id = 1; same && id < nb->len; id++) {
            const Node *x = &d->nodes[id], *y = &nb->nodes[id];
            same = x->kind == y->kind && x->a == y->a && x->b == y->b && x->c == y->c &&
                   memcmp(&x->k, &y->k, sizeof x->k) == 0;
        }
        if (same)
            return i;
    }
    return -1;
}

static void flush_steps(Lower *L, Kept *outer, const NodeId *roots, uint32_t nroots);

/* The kept loop of the iteration k over its range: a Loop of the function, whose results (a
 * sum, or a recurrence's last states) are read through new input slots (the first returned).
 * The roots are the summand, or the states' next values; with reuse (a sum or a product of
 * one root), a loop of the function that computes the same is read instead. The iteration is
 * rebuilt: the nodes that do not depend on the index, a load or a state are built in the
 * function instead (hoisted out of the loop), and the iteration reads those it needs as
 * captures; its slots become the index, the loads, the states, then the captures. */
static NodeId kept_finish(Lower *L, Kept *k, const NodeId *roots, uint32_t nroots, Loc loc,
                          int reuse)
{
    Func *f = L->f;
    flush_steps(L, k, roots, nroots); /* its sums per step: loops before it */
    Dag nb;
    uint32_t first = 1 + k->nload + k->nstate, ncap = 0;
    NodeId *cap = NULL;
    NodeId *body_roots = hoist(L, k, roots, nroots, &nb, &cap, &ncap);
    int same = reuse ? same_loop(f, k, &nb, body_roots[0], cap, ncap) : -1;
    if (same >= 0) {
        dag_free(&nb);
        free(cap);
        return f->input[f->loops[same].slot];
    }
    Func *body = iteration_func(L, k, &nb, body_roots, nroots, ncap, loc);

    f->loops = grow(f->loops, (uint32_t)f->nloops, sizeof *f->loops);
    Loop *lp = &f->loops[f->nloops++];
    memset(lp, 0, sizeof *lp);
    lp->loc = loc;
    lp->var = k->var;
    lp->lo = k->lo;
    lp->hi = k->hi;
    lp->body = body;
    lp->nload = k->nload;
    lp->load = xrealloc(NULL, (k->nload + 1) * sizeof *lp->load);
    if (k->nload)
        memcpy(lp->load, k->load, k->nload * sizeof *lp->load);
    lp->nstate = k->nstate;
    lp->init = xrealloc(NULL, (k->nstate + 1) * sizeof *lp->init);
    for (uint32_t j = 0; j < k->nstate; j++)
        lp->init[j] = k->state[j].init;
    lp->ncap = ncap;
    lp->cap = cap ? cap : xrealloc(NULL, sizeof *cap);
    lp->flag_slot = first + ncap;
    NodeId out = lower_new_slot(L, &lp->slot);
    for (uint32_t j = 1; j < nroots; j++) {
        uint32_t slot;
        lower_new_slot(L, &slot);
    }
    return out;
}

/* Drops trajectory t of f, which no loop reads: those after it move down, and the loads and
 * loops naming them follow. */
static void drop_traj(Func *f, int t)
{
    memmove(&f->traj[t], &f->traj[t + 1], (size_t)(f->ntraj - t - 1) * sizeof *f->traj);
    f->ntraj--;
    for (int j = 0; j < f->nloops; j++) {
        Loop *lp = &f->loops[j];
        for (uint32_t l = 0; l < lp->nload; l++)
            lp->load[l].param += load_traj(&lp->load[l]) && -1 - lp->load[l].param > t;
        for (uint32_t s = 0; lp->traj && s < (lp->per_step ? loop_results(lp) : lp->nstate); s++)
            lp->traj[s] -= lp->traj[s] > t + 1;
    }
}

/* The loads of trajectory t (its number + 1), which nothing reaches, made numbers (never
 * read), before the trajectory goes. */
static void unload_traj(Func *f, int t)
{
    for (int j = 0; j < f->nloops; j++)
        for (uint32_t l = 0; l < f->loops[j].nload; l++)
            if (f->loops[j].load[l].param == -t) {
                f->loops[j].load[l].param = LOAD_INDEX;
                memset(&f->loops[j].load[l].at, 0, sizeof f->loops[j].load[l].at);
            }
}

/* Drops loop i of f, a sum per step no loop reads, and its trajectories: the loops after it
 * move down, and the trajectories and loops naming them follow. */
static void drop_step(Func *f, int i)
{
    uint32_t n = loop_results(&f->loops[i]);
    int *gone = xrealloc(NULL, n * sizeof *gone);
    memcpy(gone, f->loops[i].traj, n * sizeof *gone);
    loop_free(&f->loops[i]);
    memmove(&f->loops[i], &f->loops[i + 1], (size_t)(f->nloops - i - 1) * sizeof *f->loops);
    f->nloops--;
    for (int j = 0; j < f->ntraj; j++)
        f->traj[j].loop -= f->traj[j].loop > i;
    for (int j = 0; j < f->nloops; j++)
        f->loops[j].host -= f->loops[j].host > i + 1;
    for (uint32_t g = 0; g < n; g++) { /* the later ones first: the numbers stay right */
        int t = 0;
        for (uint32_t h = 0; h < n; h++)
            t = gone[h] > t ? gone[h] : t;
        for (uint32_t h = 0; h < n; h++)
            gone[h] = gone[h] == t ? 0 : gone[h];
        drop_traj(f, t - 1);
    }
    free(gone);
    f->result_loop -= f->result_loop > i + 1;
}

/* Whether loop lp of f is a sum whose value nothing reaches (reach: the function's nodes
 * its roots and loops reach), which is not printed. */
static int sum_unread(const Func *f, const Loop *lp, const uint8_t *reach)
{
    if (!reach || lp->nstate || lp->per_step || lp->result)
        return 0;
    for (uint32_t r = 0; r < loop_results(lp); r++)
        if (reach[f->input[lp->slot + r]])
            return 0;
    return 1;
}

/* Whether some loop of f reads trajectory t (its number + 1), but the sums per step computed
 * in loop `in` (Loop.host; -1: none) and, with reach, the sums nothing reads (sum_unread): a
 * load of it that the loop's iteration reaches from its roots (a statement whose value the
 * roots do not read leaves its loads in the iteration's slots). */
static int traj_read(const Func *f, int t, int in, const uint8_t *reach_f)
{
    int read = 0;
    for (int j = 0; j < f->nloops && !read; j++) {
        if ((in >= 0 && f->loops[j].host == in + 1) || sum_unread(f, &f->loops[j], reach_f))
            continue;
        const Func *body = f->loops[j].body;
        uint8_t *reach = NULL;
        for (uint32_t l = 0; l < f->loops[j].nload && !read; l++) {
            if (f->loops[j].load[l].param != -t)
                continue;
            if (!reach) {
                reach = memset(xrealloc(NULL, body->dag.len), 0, body->dag.len);
                for (int r = 0; r < body->nroots; r++)
                    reach[body->roots[r]] = 1;
                dag_reach(&body->dag, body->dag.len - 1, reach);
            }
            read = reach[body->input[loop_load_slot(&f->loops[j], l)]];
        }
        free(reach);
    }
    return read;
}

/* Whether loop h of f reads a result of loop g (a sum per step's trajectory). */
static int reads_step(const Func *f, int h, int g)
{
    const Loop *hp = &f->loops[h], *gp = &f->loops[g];
    for (uint32_t l = 0; l < hp->nload; l++)
        for (uint32_t r = 0; gp->per_step && r < loop_results(gp); r++)
            if (hp->load[l].param == -gp->traj[r])
                return 1;
    return 0;
}

/* Whether loop h of f is a sum per step that only recurrence i's step and the sums per step
 * computed in its loop (Loop.host) read. */
static int step_of(const Func *f, int i, int h)
{
    if (h == i || !f->loops[h].per_step)
        return 0;
    int read = 0;
    for (int j = 0; j < f->nloops; j++) {
        if (j == h || !reads_step(f, j, h))
            continue;
        if (j != i && f->loops[j].host != i + 1)
            return 0;
        read = 1;
    }
    return read;
}

/* One round of the liveness of recurrence i of f (kept_dead_states): what the live states'
 * steps read (states, and the sums per step only its loop reads, step_of) is live, and what
 * those sums read (their states, other such sums). Returns whether it marked more. */
static int mark_live(const Func *f, int i, uint8_t *live, uint8_t *sums)
{
    const Loop *lp = &f->loops[i];
    const Func *body = lp->body;
    uint8_t *reach = memset(xrealloc(NULL, body->dag.len), 0, body->dag.len);
    for (uint32_t j = 0; j < lp->nstate; j++)
        if (live[j])
            reach[body->roots[j]] = 1;
    dag_reach(&body->dag, body->dag.len - 1, reach);
    int more = 0;
    for (uint32_t s = 0; s < lp->nstate; s++)
        if (!live[s] && reach[body->input[loop_state_slot(lp, s)]])
            more = live[s] = 1;
    for (int h = 0; h < f->nloops; h++) {
        const Loop *hp = &f->loops[h];
        if (sums[h] || !step_of(f, i, h))
            continue;
        for (uint32_t l = 0; l < lp->nload && !sums[h]; l++)
            for (uint32_t r = 0; r < loop_results(hp); r++)
                if (lp->load[l].param == -hp->traj[r] && reach[body->input[loop_load_slot(lp, l)]])
                    more = sums[h] = 1;
        for (int g = 0; g < f->nloops && !sums[h]; g++)
            if (sums[g] && reads_step(f, g, h))
                more = sums[h] = 1;
    }
    for (int h = 0; h < f->nloops; h++)
        for (uint32_t m = 0; sums[h] && m < f->loops[h].nload; m++)
            for (uint32_t s = 0; lp->traj && s < lp->nstate; s++)
                if (!live[s] && lp->traj[s] && f->loops[h].load[m].param == -lp->traj[s])
                    more = live[s] = 1;
    free(reach);
    return more;
}

/* Whether loop lp is a recurrence's (not a product's, not a sum per step's). */
static int is_recurrence(const Loop *lp)
{
    return lp->nstate && !lp->per_step && !lp->product;
}

uint32_t kept_dead_states(const Lower *L, const Func *f, StateKey **dead)
{
    const Dag *d = &f->dag;
    uint8_t *reach = memset(xrealloc(NULL, d->len), 0, d->len);
    for (int k = 0; k < f->nroots; k++)
        reach[f->roots[k]] = 1;
    for (int i = 0; i < f->nloops; i++) {
        for (uint32_t c = 0; c < f->loops[i].ncap; c++)
            reach[f->loops[i].cap[c]] = 1;
        for (uint32_t s = 0; s < f->loops[i].nstate; s++)
            reach[f->loops[i].init[s]] = 1;
    }
    dag_reach(d, d->len - 1, reach);
    uint8_t *sums = xrealloc(NULL, (size_t)f->nloops + 1);
    uint32_t n = 0;
    *dead = NULL;
    for (int i = 0; i < f->nloops; i++) {
        const Loop *lp = &f->loops[i];
        if (!is_recurrence(lp))
            continue;
        uint8_t *live = xrealloc(NULL, lp->nstate);
        for (uint32_t j = 0; j < lp->nstate; j++)
            live[j] = reach[f->input[lp->slot + j]] ||
                      (lp->traj && lp->traj[j] && traj_read(f, lp->traj[j], i, reach));
        memset(sums, 0, (size_t)f->nloops + 1);
        while (mark_live(f, i, live, sums))
            ;
        for (uint32_t j = 0; j < lp->nstate; j++)
            for (uint32_t m = 0; !live[j] && m < L->nkeys; m++)
                if (L->keys[m].rec == lp->rec && L->keys[m].state == j) {
                    *dead = grow(*dead, n, sizeof **dead);
                    (*dead)[n++] = L->keys[m];
                }
        free(live);
    }
    free(sums);
    free(reach);
    return n;
}

void kept_drop_unread(Func *f)
{
    /* the trajectories of sums no iteration made a loop reads: of an iteration lowered for its
     * errors only (a map's statements, with their sums per step), or read by nothing
     * (flush_steps); their loads (in no statement the roots read) a number */
    for (int t = f->ntraj - 1; t >= 0; t--) {
        if (f->traj[t].loop >= 0)
            continue;
        unload_traj(f, t + 1);
        drop_traj(f, t);
    }
    for (int i = f->nloops - 1; i >= 0; i--) {
        const Loop *lp = &f->loops[i];
        int read = !lp->per_step;
        for (uint32_t r = 0; !read && r < loop_results(lp); r++)
            read = traj_read(f, lp->traj[r], -1, NULL);
        if (read)
            continue;
        for (uint32_t r = 0; r < loop_results(lp); r++)
            unload_traj(f, lp->traj[r]);
        drop_step(f, i);
    }
}

/* ---- sums --------------------------------------------------------------------------------- */

/* The value of the function that kept loop k's node `node` captured, or 0. */
static NodeId captured(const Kept *k, NodeId node)
{
    const Node *nd = &k->dag.nodes[node];
    uint32_t s = nd->kind == N_INPUT ? (uint32_t)nd->k : UINT32_MAX;
    return s < k->nslots && k->slot_kind[s] == SLOT_CAPTURE ? k->cap[k->slot_ref[s]] : 0;
}

/* The loop a sum is being taken out of whose iteration's DAG is dag, or NULL. */
static const Kept *hoisted_from(const Lower *L, const Dag *dag)
{
    for (int h = 0; h < L->nhoist; h++)
        if (dag == &L->hoist[h]->dag)
            return L->hoist[h];
    return NULL;
}

/* The nodes of kept loop k's iteration that node n reads (itself included), ascending (ids
 * are a topological order), into *out; returns their number, or 0 when one of them is an
 * input the loop did not capture (the index, a load, a state): n changes with the step. */
static uint32_t step_cone(const Kept *k, NodeId n, NodeId **out)
{
    const Dag *d = &k->dag;
    uint8_t *mark = xrealloc(NULL, (size_t)n + 1);
    memset(mark, 0, (size_t)n + 1);
    mark[n] = 1;
    dag_reach(d, n, mark);
    NodeId *cone = xrealloc(NULL, ((size_t)n + 1) * sizeof *cone);
    uint32_t count = 0;
    for (NodeId id = 1; id <= n; id++) {
        if (!mark[id])
            continue;
        if (d->nodes[id].kind == N_INPUT && !captured(k, id)) {
            count = 0;
            break;
        }
        cone[count++] = id;
    }
    free(mark);
    if (!count) {
        free(cone);
        cone = NULL;
    }
    *out = cone;
    return count;
}

/* Whether node n of kept loop k's iteration reads only values the loop captured (and
 * numbers): the same in every step. */
static int step_invariant(const Kept *k, NodeId n)
{
    NodeId *cone;
    uint32_t count = step_cone(k, n, &cone);
    free(cone);
    return count > 0;
}

/* Node n of kept loop k's iteration built again in DAG `into`, with what it reads: to[id] gets
 * each node of its cone not built yet (a memo, zeroed by the caller), input(L, k, id) an input
 * of the iteration's; 0 when input gives 0 for one. */
static NodeId rebuild(Lower *L, const Kept *k, NodeId n, Dag *into, NodeId *to,
                      NodeId (*input)(Lower *, const Kept *, NodeId))
{
    const Dag *d = &k->dag;
    if (to[n])
        return to[n];
    uint8_t *mark = xrealloc(NULL, (size_t)n + 1);
    memset(mark, 0, (size_t)n + 1);
    mark[n] = 1;
    dag_reach(d, n, mark);
    for (NodeId id = 1; id <= n; id++) {
        if (!mark[id] || to[id])
            continue;
        const Node *nd = &d->nodes[id];
        if (nd->kind == N_CONST)
            to[id] = dag_const(into, nd->k);
        else if (nd->kind == N_INPUT)
            to[id] = input(L, k, id);
        else
            to[id] = dag_op(into, (NodeKind)nd->kind, nd->a ? to[nd->a] : 0,
                            nd->b ? to[nd->b] : 0, nd->c ? to[nd->c] : 0);
        if (!to[id])
            break;
        if (nd->kind != N_INPUT)
            copy_meta(into, to[id], d, id); /* its source name and line, as hoist's */
    }
    free(mark);
    return to[n];
}

/* rebuild's input of a value the loop captured: the function's node, or 0 (the index, a load,
 * a state: the node changes with the step). */
static NodeId captured_input(Lower *L, const Kept *k, NodeId id)
{
    (void)L;
    return captured(k, id);
}

/* Node n of kept loop k's iteration, which is the same in every step, built again in the
 * function's DAG from the values the loop captured (a local of the loop's body that does not
 * change with the step, read by a sum taken out of the loop); 0 when it changes. */
static NodeId uncaptured(Lower *L, const Kept *k, NodeId n)
{
    if (!step_invariant(k, n)) /* before anything is built */
        return 0;
    NodeId *to = memset(xrealloc(NULL, ((size_t)n + 1) * sizeof *to), 0,
                        ((size_t)n + 1) * sizeof *to);
    NodeId r = rebuild(L, k, n, &L->f->dag, to, captured_input);
    free(to);
    return r;
}

/* In a sum per step of a recurrence's loop, the recurrence's state j at element `at` of its
 * trajectory (its first value's is 0), which the recurrence's forward loop stores as it goes:
 * before each step, where the sum is computed (Loop.host; lower_recurrence gives the
 * trajectory its loop), it holds the states up to the step's. */
static NodeId state_traj(Lower *L, uint32_t j, const Affine *at)
{
    Kept *o = L->kept->outer;
    Func *f = L->f;
    if (!o->state[j].traj) {
        f->traj = grow(f->traj, (uint32_t)f->ntraj, sizeof *f->traj);
        Traj *t = &f->traj[f->ntraj];
        memset(t, 0, sizeof *t);
        t->loop = -1;
        t->state = j;
        t->len = affine_add(o->hi, &o->lo, -1); /* the states before the steps, and the last */
        t->len.k += 2;
        o->state[j].traj = ++f->ntraj;
    }
    return kept_load(L, -o->state[j].traj, at);
}

/* The state at the step (x[k] in the step from x[k] to x[k+1]). */
static NodeId state_at_step(Lower *L, uint32_t j)
{
    Affine at = affine_num(-L->kept->outer->lo.k);
    at.o = 1;
    return state_traj(L, j, &at);
}

/* rebuild's input of the outer loop's iteration o in the iteration of the sum per step being
 * lowered: the outer index, a load with the outer variable as Affine.o, a capture, a
 * recurrence's state at the step. */
static NodeId outer_input(Lower *L, const Kept *o, NodeId id)
{
    uint32_t s = (uint32_t)o->dag.nodes[id].k;
    switch (o->slot_kind[s]) {
    case SLOT_INDEX: return kept_outer_index(L);
    case SLOT_LOAD: {
        Affine at = outer_affine(&o->load[o->slot_ref[s]].at);
        return kept_load(L, o->load[o->slot_ref[s]].param, &at);
    }
    case SLOT_CAPTURE: return kept_capture(L, o->cap[o->slot_ref[s]]);
    case SLOT_STATE: return state_at_step(L, o->slot_ref[s]);
    default:
        diag_error(L->diag, DIAG_WHOLE_FILE, "internal error: a sum per step reads an input of "
                                             "the outer iteration it cannot build again");
        return 0;
    }
}

/* Node n of the outer loop's iteration, built again in the iteration of the sum per step
 * being lowered from what it reads. */
static NodeId from_outer(Lower *L, NodeId n)
{
    Kept *k = L->kept;
    return rebuild(L, k->outer, n, L->d, k->from_outer, outer_input);
}

NodeId kept_node(Lower *L, const Dag *dag, NodeId node)
{
    if (!node || dag == L->d)
        return node;
    if (L->kept && L->kept->outer && dag == &L->kept->outer->dag)
        return from_outer(L, node);
    if (dag == &L->f->dag)
        return L->kept ? kept_capture(L, node) : node;
    const Kept *k = hoisted_from(L, dag);
    NodeId outer = k ? captured(k, node) : 0;
    if (k && !outer)
        outer = uncaptured(L, k, node);
    if (!outer) { /* reads_iteration keeps it from coming here */
        diag_error(L->diag, DIAG_WHOLE_FILE, "internal error: a value of a kept loop's "
                                             "iteration read outside it");
        return 0;
    }
    return L->kept ? kept_capture(L, outer) : outer;
}

/* Whether binding b holds something of the kept loop's iteration being lowered (or of a loop
 * a sum is being taken out of), for a reduction written at `at` that would be taken out of
 * it: a value it computed that changes with the step (not one it captured: a call's
 * argument), its variable, an array of its values, or a map the reduction is written in the
 * loop of (another map's elements are functions of their own index: the reduction lowers its
 * iterations again). `inner`: in a sum per step's iteration, of that iteration itself, not
 * of the outer one's (its variable and values). */
static int in_iteration(Lower *L, const Binding *b, Loc at, int inner)
{
    switch (b->kind) {
    case B_SCALAR: {
        if (!b->node || b->dag == &L->f->dag || (inner && b->dag == &L->kept->outer->dag))
            return 0;
        const Kept *k = b->dag == &L->kept->dag ? L->kept : hoisted_from(L, b->dag);
        return !k || (!captured(k, b->node) && !step_invariant(k, b->node));
    }
    case B_LOOP: case B_SIZE: /* o: the outer variable, in a sum per step */
        return b->aff.c[0] != 0 || (!inner && b->aff.o != 0);
    case B_CONST: return 0;
    case B_ARRAY: {
        const Array *a = b->array;
        if (a->param)
            return 0;
        if (!a->map) /* a call's values or a callee's local array, made in the iteration */
            return b->dag != &L->f->dag;
        if (a->state && L->kept->rec == a->map)
            return 1;
        if (inner && a->state && L->kept->outer->rec == a->map)
            return 0; /* the outer recurrence's state (refused there, with the way round) */
        return at.begin >= a->map->loc.begin && at.end <= a->map->loc.end;
    }
    }
    return 1;
}

enum { MAX_BOUND = 16 }; /* reductions inside a sum that reads_iteration looks into */

/* Whether expression e (in a reduction of a kept loop's iteration) reads anything of that
 * iteration; bound[0..nbound) are the variables of the reductions around e inside it. Deep or
 * crowded expressions count as reading it. *why gets the first binding found that does; the
 * reduction is written at `at`. */
static int reads_iteration(Lower *L, const Ast *e, const char **bound, int nbound, int depth,
                           const Binding **why, Loc at, int inner)
{
    enum { MAX_DEPTH = 200 };
    if (!e)
        return 0;
    if (depth > MAX_DEPTH)
        return 1;
    int named = e->kind == A_VAR || (e->kind == A_INDEX && !e->lhs);
    for (int i = 0; named && i < nbound; i++)
        named = bound[i] != e->name;
    Binding *b = named ? scope_lookup(&L->scope, e->name, lower_frame(L)) : NULL;
    if (b && in_iteration(L, b, at, inner)) {
        *why = b;
        return 1;
    }
    if (e->kind == A_CALL && (strcmp(e->name, "sum") == 0 || strcmp(e->name, "prod") == 0) &&
        e->args && e->args->kind == A_RANGE) {
        const Ast *range = e->args;
        if (nbound == MAX_BOUND ||
            reads_iteration(L, range->lhs, bound, nbound, depth + 1, why, at, inner) ||
            reads_iteration(L, range->rhs, bound, nbound, depth + 1, why, at, inner))
            return 1;
        bound[nbound] = range->name;
        for (const Ast *a = range->next; a; a = a->next)
            if (reads_iteration(L, a, bound, nbound + 1, depth + 1, why, at, inner))
                return 1;
        return 0;
    }
    if (reads_iteration(L, e->lhs, bound, nbound, depth + 1, why, at, inner) ||
        reads_iteration(L, e->rhs, bound, nbound, depth + 1, why, at, inner))
        return 1;
    for (const Ast *a = e->args; a; a = a->next)
        if (reads_iteration(L, a, bound, nbound, depth + 1, why, at, inner))
            return 1;
    return 0;
}

/* Why a reduction over a run-time range cannot be taken out of the kept loop it is in (its
 * range, or binding b it reads), for the error, into t. */
static void why_nested(const Affine *lo, const Affine *hi, const Binding *b, Buf *t)
{
    buf_putn(t, "", 0);
    if (lo->c[0] || hi->c[0] || lo->o || hi->o) {
        buf_puts(t, " (its range changes with the step)");
        return;
    }
    if (!b)
        return;
    switch (b->kind) {
    case B_SCALAR: buf_printf(t, " ('%s', computed in each step)", b->name); break;
    case B_ARRAY: buf_printf(t, " ('%s', assigned in each step)", b->name); break;
    default: buf_printf(t, " ('%s', which changes with the step)", b->name); break;
    }
}

/* In a sum per step's iteration, what a reduction three loops deep gives: an input that is an
 * error where the sum reads it (a map's iteration lowered again for another of its elements
 * lowers every statement, but the sum may read none of theirs). */
static NodeId deep_slot(Lower *L)
{
    Kept *k = L->kept;
    for (uint32_t s = 0; s < k->nslots; s++)
        if (k->slot_kind[s] == SLOT_DEEP)
            return dag_input(L->d, s);
    k->slot_kind = grow(k->slot_kind, k->nslots, sizeof *k->slot_kind);
    k->slot_ref = grow(k->slot_ref, k->nslots, sizeof *k->slot_ref);
    k->slot_kind[k->nslots] = SLOT_DEEP;
    k->slot_ref[k->nslots] = 0;
    return dag_input(L->d, k->nslots++);
}

/* Whether node g of sum per step k's iteration reads a SLOT_DEEP input. */
static int reads_deep(const Kept *k, NodeId g)
{
    const Dag *d = &k->dag;
    uint8_t *mark = xrealloc(NULL, (size_t)g + 1);
    memset(mark, 0, (size_t)g + 1);
    mark[g] = 1;
    dag_reach(d, g, mark);
    int deep = 0;
    for (NodeId id = 1; id <= g && !deep; id++)
        deep = mark[id] && d->nodes[id].kind == N_INPUT &&
               k->slot_kind[(uint32_t)d->nodes[id].k] == SLOT_DEEP;
    free(mark);
    return deep;
}

/* A new trajectory of a sum per step of outer: its steps, hi - lo + 1, at least (a sum's range
 * may be reversed at some sizes, 1..n-2 at n = 1, where the region must not be negative; each
 * term's positive part bounds it from above and from 0: n - 1 takes n), its loop to come
 * (finish_step). Returns its number + 1. */
static int step_traj(Func *f, const Kept *outer)
{
    f->traj = grow(f->traj, (uint32_t)f->ntraj, sizeof *f->traj);
    Traj *t = &f->traj[f->ntraj];
    memset(t, 0, sizeof *t);
    t->loop = -1;
    t->len = affine_add(outer->hi, &outer->lo, -1);
    t->len.k = t->len.k + 1 > 0 ? t->len.k + 1 : 0;
    for (int s = 1; s <= MAX_SIZES; s++)
        t->len.c[s] = t->len.c[s] > 0 ? t->len.c[s] : 0;
    return ++f->ntraj;
}

/* Sum per step k (its n summands roots, their trajectories trajs, or NULL: new ones) made a
 * loop of the function, which stores each step's sums in them; a sum of one summand may be a
 * loop the function has (lowered again). Ends k. Returns the first trajectory, 0 after an
 * error. */
static int finish_step(Lower *L, Kept *k, const NodeId *roots, uint32_t n, const int *trajs)
{
    Func *f = L->f;
    L->kept = k;
    L->d = &f->dag;
    int loops = f->nloops, traj = 0;
    NodeId r = kept_finish(L, k, roots, n, k->at, !trajs);
    for (int j = 0; r && f->nloops == loops && j < f->nloops; j++)
        if (f->input[f->loops[j].slot] == r) /* the same sums, lowered again: theirs */
            traj = f->loops[j].traj[0];
    if (r && f->nloops > loops) {
        Loop *lp = &f->loops[f->nloops - 1];
        lp->per_step = 1;
        lp->ovar = k->ovar;
        lp->olo = k->olo;
        lp->ohi = k->ohi;
        lp->traj = xrealloc(NULL, n * sizeof *lp->traj);
        for (uint32_t j = 0; j < n; j++) {
            lp->traj[j] = trajs ? trajs[j] : step_traj(f, k->outer);
            f->traj[lp->traj[j] - 1].loop = f->nloops - 1;
        }
        traj = lp->traj[0];
    }
    kept_end(L, k);
    return traj;
}

/* Whether outer's iteration, from its n roots, reads trajectory t (its number + 1). */
static int reads_traj(const Kept *outer, const NodeId *roots, uint32_t n, int t)
{
    const Dag *d = &outer->dag;
    uint8_t *reach = memset(xrealloc(NULL, d->len), 0, d->len);
    for (uint32_t r = 0; r < n; r++) {
        reach[roots[r]] = 1;
        dag_reach(d, roots[r], reach);
    }
    int read = 0;
    for (NodeId id = 1; id < d->len && !read; id++) {
        uint32_t s = (uint32_t)d->nodes[id].k;
        read = reach[id] && d->nodes[id].kind == N_INPUT && outer->slot_kind[s] == SLOT_LOAD &&
               outer->load[outer->slot_ref[s]].param == -t;
    }
    free(reach);
    return read;
}

/* The sums per step of outer not yet loops made loops, in the order they were opened; when
 * outer's iteration is being made a loop (its n roots given), only the sums it reads (a map's
 * statement that nothing reads lowers its sums too: their trajectories are then read by
 * nothing, and dropped with them, kept_drop_unread). */
static void flush_steps(Lower *L, Kept *outer, const NodeId *roots, uint32_t n)
{
    if (!outer->nopen)
        return;
    Kept *kept = L->kept;
    Dag *d = L->d;
    const Dag *sd = L->scope.dag;
    for (uint32_t j = 0; j < outer->nopen; j++) {
        Kept *k = outer->open[j];
        uint32_t m = 0;
        for (uint32_t r = 0; r < k->nroots; r++)
            if (!roots || reads_traj(outer, roots, n, k->trajs[r])) {
                k->roots[m] = k->roots[r];
                k->vars[m] = k->vars[r];
                k->trajs[m++] = k->trajs[r];
            }
        k->var = m ? k->vars[0] : k->var;
        if (m)
            finish_step(L, k, k->roots, m, k->trajs);
        else
            kept_end(L, k);
        free(k);
    }
    outer->nopen = 0;
    L->kept = kept;
    L->d = d;
    L->scope.dag = sd;
}

/* rebuild's input of sum per step k's iteration in another one of the same outer loop and
 * ranges (L->kept): the index, a load, a capture. */
static NodeId merged_input(Lower *L, const Kept *k, NodeId id)
{
    uint32_t s = (uint32_t)k->dag.nodes[id].k;
    switch (k->slot_kind[s]) {
    case SLOT_INDEX: return dag_input(L->d, 0);
    case SLOT_LOAD: return kept_load(L, k->load[k->slot_ref[s]].param, &k->load[k->slot_ref[s]].at);
    case SLOT_CAPTURE: return kept_capture(L, k->cap[k->slot_ref[s]]);
    default: return 0;
    }
}

/* Sum per step k of outer, of summand g: a summand of a sum per step of outer over the same
 * ranges not yet a loop, into whose iteration it is built again (one loop computes both,
 * their common values once: a weighted mean's sum(p, w[p]*e) / sum(p, e)), or the first of
 * one of its own, made a loop when outer's iteration is (flush_steps); one that reads a sum
 * not yet a loop (a normaliser inside it) is made a loop at once, after those. Ends k.
 * Returns its trajectory (its number + 1), 0 after an error. */
static int step_sum(Lower *L, Kept *outer, Kept *k, NodeId g)
{
    Func *f = L->f;
    int reads_open = 0;
    for (uint32_t l = 0; l < k->nload; l++)
        for (uint32_t j = 0; load_traj(&k->load[l]) && j < outer->nopen; j++)
            for (uint32_t r = 0; r < outer->open[j]->nroots; r++)
                reads_open |= k->load[l].param == -outer->open[j]->trajs[r];
    if (reads_open) {
        flush_steps(L, outer, NULL, 0);
        return finish_step(L, k, &g, 1, NULL);
    }
    for (uint32_t j = 0; j < outer->nopen; j++) {
        Kept *o = outer->open[j];
        if (!affine_eq(&o->lo, &k->lo) || !affine_eq(&o->hi, &k->hi))
            continue;
        NodeId *to = memset(xrealloc(NULL, (size_t)k->dag.len * sizeof *to), 0,
                            (size_t)k->dag.len * sizeof *to);
        L->kept = o;
        L->d = &o->dag;
        NodeId r = rebuild(L, k, g, &o->dag, to, merged_input);
        const char *var = k->var;
        free(to);
        kept_end(L, k);
        if (!r)
            return 0;
        for (uint32_t s = 0; s < o->nroots; s++)
            if (o->roots[s] == r)
                return o->trajs[s];
        o->roots = grow(o->roots, o->nroots, sizeof *o->roots);
        o->trajs = grow(o->trajs, o->nroots, sizeof *o->trajs);
        o->vars = grow(o->vars, o->nroots, sizeof *o->vars);
        o->roots[o->nroots] = r;
        o->vars[o->nroots] = var;
        return o->trajs[o->nroots++] = step_traj(f, outer);
    }
    Kept *o = xrealloc(NULL, sizeof *o);
    *o = *k;
    o->roots = grow(NULL, 0, sizeof *o->roots);
    o->trajs = grow(NULL, 0, sizeof *o->trajs);
    o->vars = grow(NULL, 0, sizeof *o->vars);
    o->roots[0] = g;
    o->vars[0] = o->var;
    o->trajs[0] = step_traj(f, outer);
    o->nroots = 1;
    outer->open = grow(outer->open, outer->nopen, sizeof *outer->open);
    outer->open[outer->nopen++] = o;
    return o->trajs[0];
}

/* A sum over a run-time range inside a kept loop's iteration that reads the iteration: a sum
 * per step (Loop.per_step), a loop of the function over the outer range around the sum,
 * lowered with the outer variable as Affine.o (the bindings of the outer iteration's
 * variables rebound so), whose values of the outer iteration are built again from what they
 * read; the outer iteration loads its step's sum from the trajectory the loop stores. */
static NodeId per_step_sum(Lower *L, const Ast *range, Ast *body, const Affine *lo,
                           const Affine *hi)
{
    Kept *outer = L->kept;
    if (!lower_enter(L, range->loc))
        return 0;
    uint32_t mark = L->scope.len;
    Affine *saved = rebind_loops(L, mark, 1);
    Kept k;
    Affine klo = outer_affine(lo), khi = outer_affine(hi);
    kept_begin(L, &k, &klo, &khi, range->name);
    k.outer = outer;
    k.at = range->loc;
    k.ovar = outer->var;
    k.olo = outer->lo;
    k.ohi = outer->hi;
    k.from_outer = xrealloc(NULL, ((size_t)outer->dag.len + 1) * sizeof *k.from_outer);
    memset(k.from_outer, 0, ((size_t)outer->dag.len + 1) * sizeof *k.from_outer);
    Affine i = aff_var();
    lower_bind_loop(L, range->name, range->loc, &i);
    int errors = L->diag->errors, printed = L->diag->printed;
    NodeId g = lower_expr(L, body);
    if (g && reads_deep(&k, g)) {
        diag_error(L->diag, range->loc, "this sum over a run-time range inside a loop over one "
                                        "reads a sum over a third (a map's element that one "
                                        "computes): three loops deep are not supported yet");
        g = 0;
    } else if (L->diag->errors > errors && L->diag->printed == printed && !L->diag->muted) {
        diag_error(L->diag, range->loc, "this sum over a run-time range inside a loop over one "
                                        "cannot be kept: %s", L->diag->held[0] ? L->diag->held :
                                        "what it reads cannot be computed in its steps");
        g = 0;
    }
    scope_unbind_to(&L->scope, mark);
    restore_loops(L, saved, mark);
    free(k.from_outer);
    k.from_outer = NULL;
    int traj = 0;
    if (g && !L->stop)
        traj = step_sum(L, outer, &k, g);
    else
        kept_end(L, &k);
    L->kept = outer;
    L->scope.dag = L->d = &outer->dag;
    L->depth--;
    if (!traj)
        return 0;
    Affine at = affine_add(aff_var(), &outer->lo, -1);
    return kept_load(L, -traj, &at);
}

/* In a sum per step's iteration, a sum over a run-time range that reads the outer iteration's
 * values but none of this one's (a softmax's normaliser sum(l = 0..n-1, exp(q[i]*k[l]))
 * inside the sum over j in the loop over i): a sum per step of the outer loop, lowered there
 * (the outer variable bound as that loop's again), which this iteration loads at its step. */
static NodeId outer_step_sum(Lower *L, const Ast *range, Ast *body, const Affine *lo,
                             const Affine *hi)
{
    Kept *inner = L->kept, *outer = inner->outer;
    uint32_t mark = L->scope.len, len = outer->dag.len;
    Affine *saved = rebind_loops(L, mark, 0);
    Affine olo = inner_affine(lo), ohi = inner_affine(hi);
    L->kept = outer;
    L->scope.dag = L->d = &outer->dag;
    NodeId g = per_step_sum(L, range, body, &olo, &ohi);
    restore_loops(L, saved, mark);
    L->kept = inner;
    L->scope.dag = L->d = &inner->dag;
    if (!g)
        return 0;
    if (outer->dag.len > len) { /* the outer iteration's nodes built here, by node */
        inner->from_outer = xrealloc(inner->from_outer,
                                     ((size_t)outer->dag.len + 1) * sizeof *inner->from_outer);
        memset(inner->from_outer + len + 1, 0,
               ((size_t)outer->dag.len - len) * sizeof *inner->from_outer);
    }
    return from_outer(L, g);
}

/* A reduction over a run-time range met inside a kept loop's iteration: when it reads nothing
 * of the iteration (a normalisation, sum(j = 0..n-1, exp(z[j])), or a call's sum over a whole
 * array), it is kept as a loop of the function before the outer one, which captures its
 * value; else 0 after the error (loops inside loops cannot be kept yet). */
static NodeId hoisted(Lower *L, Ast *e, const Ast *range, Ast *body, const Affine *lo,
                      const Affine *hi, int is_sum)
{
    const char *bound[MAX_BOUND] = {range->name};
    const Binding *why = NULL;
    int reads = reads_iteration(L, body, bound, 1, 0, &why, e->loc, 0);
    int moves = lo->c[0] || hi->c[0]; /* the range changes with the step: sum(j = 0..i, ...) */
    reads |= lo->o || hi->o; /* in a sum per step's, with the outer step: sum(l = 0..i, ...) */
    if ((reads || moves) && is_sum && !L->nhoist && !L->kept->outer)
        return per_step_sum(L, range, body, lo, hi);
    if (reads && L->kept->outer && L->kept->lazy)
        return deep_slot(L);
    if (reads && is_sum && L->kept->outer && !lo->c[0] && !hi->c[0] &&
        !reads_iteration(L, body, bound, 1, 0, &why, e->loc, 1))
        return outer_step_sum(L, range, body, lo, hi);
    if (reads && L->kept->outer) {
        Buf t = {0};
        why_nested(lo, hi, why, &t);
        diag_error(L->diag, range->loc, "a %s over a run-time range inside a sum over one in a "
                                        "loop over a third, reading their values%s: loops two "
                                        "deep are kept, not three (not supported yet)",
                   is_sum ? "sum" : "product", t.data);
        buf_free(&t);
        return 0;
    }
    if (L->nhoist == MAX_HOIST || moves || reads) {
        Buf t = {0};
        why_nested(lo, hi, why, &t);
        diag_error(L->diag, range->loc, "a %s over a run-time range inside a loop over one, "
                                        "reading the loop's values%s: %s (not supported yet)",
                   is_sum ? "sum" : "product", t.data,
                   !is_sum ? "a sum inside is kept, a product is not" :
                             "only the outer loop can be kept");
        buf_free(&t);
        return 0;
    }
    Kept *outer = L->kept;
    L->hoist[L->nhoist++] = outer;
    L->kept = NULL;
    L->scope.dag = L->d = &L->f->dag;
    NodeId r = is_sum ? kept_sum(L, e, range, body, lo, hi) :
                        kept_prod(L, e, range, body, lo, hi);
    L->nhoist--;
    L->kept = outer;
    L->scope.dag = L->d = &outer->dag;
    return r ? kept_capture(L, r) : 0;
}

/* sum(i = lo..hi, body) over a range that depends on a run-time size: kept as a loop. */
NodeId kept_sum(Lower *L, Ast *e, const Ast *range, Ast *body, const Affine *lo,
                const Affine *hi)
{
    if (L->kept)
        return hoisted(L, e, range, body, lo, hi, 1);
    if (!lower_enter(L, e->loc))
        return 0;
    Kept k;
    kept_begin(L, &k, lo, hi, range->name);
    uint32_t mark = L->scope.len;
    Affine i = aff_var();
    lower_bind_loop(L, range->name, range->loc, &i);
    NodeId g = lower_expr(L, body);
    scope_unbind_to(&L->scope, mark);
    L->d = &L->f->dag;
    NodeId r = g && !L->stop ? kept_finish(L, &k, &g, 1, e->loc, 1) : 0;
    kept_end(L, &k);
    L->depth--;
    return r;
}

/* prod(i = lo..hi, body) over a range that depends on a run-time size: a recurrence of one
 * state, p = 1 before the loop and p * body each step, so that its derivatives are a
 * recurrence's (the reverse loop reads each step's factor off the tape). */
NodeId kept_prod(Lower *L, Ast *e, const Ast *range, Ast *body, const Affine *lo,
                 const Affine *hi)
{
    if (L->kept)
        return hoisted(L, e, range, body, lo, hi, 0);
    if (!affine_is_const(lo)) {
        diag_error(L->diag, range->lhs->loc, "a product over a run-time range starts at a "
                                             "number: it is kept as a recurrence, whose first "
                                             "value is before its loop");
        return 0;
    }
    if (!lower_enter(L, e->loc))
        return 0;
    Kept k;
    kept_begin(L, &k, lo, hi, range->name);
    k.state = grow(NULL, 0, sizeof *k.state);
    memset(k.state, 0, sizeof *k.state);
    k.state[0].init = dag_const(&L->f->dag, 1.0);
    k.state[0].slot = k.nslots;
    k.slot_kind = grow(k.slot_kind, k.nslots, sizeof *k.slot_kind);
    k.slot_ref = grow(k.slot_ref, k.nslots, sizeof *k.slot_ref);
    k.slot_kind[k.nslots] = SLOT_STATE;
    k.slot_ref[k.nslots] = 0;
    k.nstate = 1;
    NodeId p = dag_input(L->d, k.nslots++);
    uint32_t mark = L->scope.len;
    Affine i = aff_var();
    lower_bind_loop(L, range->name, range->loc, &i);
    NodeId g = lower_expr(L, body);
    scope_unbind_to(&L->scope, mark);
    NodeId next = g && !L->stop ? dag_binary(L->d, N_MUL, p, g) : 0;
    L->d = &L->f->dag;
    uint32_t loops = (uint32_t)L->f->nloops;
    NodeId r = next ? kept_finish(L, &k, &next, 1, e->loc, 1) : 0;
    if (r && (uint32_t)L->f->nloops > loops) {
        Loop *lp = &L->f->loops[L->f->nloops - 1];
        lp->state_name = arena_alloc(L->arena, sizeof *lp->state_name);
        lp->state_name[0] = "prod";
        lp->product = 1;
    }
    free(k.state);
    kept_end(L, &k);
    L->depth--;
    return r;
}

/* ---- elements an iteration reads: loads and maps ------------------------------------------ */

/* The constant trailing indices of a state or map element into rest; 0 after an error. */
static int trailing(Lower *L, const Array *a, const Ast *first, const Affine *idx, int64_t *rest)
{
    const Ast *x = first;
    memset(rest, 0, MAX_RANK * sizeof *rest);
    for (int i = 1; i < a->rank; i++) {
        x = x->next;
        if (!affine_is_const(&idx[i])) {
            diag_error(L->diag, x->loc, "only the first index of '%s' may change with a loop "
                                        "over a run-time range", a->name);
            return 0;
        }
        rest[i] = idx[i].k;
    }
    return 1;
}

/* Lowers the statements of the kept `for` loop with its variable at `at` (in the current kept
 * loop's iteration): the elements they assign are recorded as that iteration's. check: this
 * is the loop's own lowering, once, which reports its errors; the others are muted. The
 * statements see the bindings of frame (the loop's, also when a callee reads the array). */
static uint32_t lower_map_iter(Lower *L, const Stmt *loop, const Affine *at, int check,
                               uint32_t scope, int frame)
{
    Kept *k = L->kept;
    k->iters = grow(k->iters, k->niters, sizeof *k->iters);
    uint32_t it = k->niters++, prev = k->iter;
    int lazy = k->lazy;
    k->iters[it].loop = loop;
    k->iters[it].at = *at;
    k->iters[it].frame = frame;
    k->iters[it].done = 0;
    if (!lower_enter(L, loop->loc))
        return it;
    k->iter = it;
    k->lazy = !check;
    L->diag->muted += !check;
    uint32_t mark = L->scope.len, hide_lo = L->scope.hide_lo, hide_hi = L->scope.hide_hi;
    if (!check) { /* what was bound after the loop (a sum's variable) is out of sight */
        L->scope.hide_lo = scope;
        L->scope.hide_hi = mark;
    }
    int had = lower_set_frame(L, frame);
    lower_bind_loop(L, loop->name, loop->name_loc, at);
    Stmt *returned = NULL;
    Result r = {0};
    lower_stmts(L, L->f->def, loop->body, 1, &r, &returned);
    lower_set_frame(L, had);
    scope_unbind_to(&L->scope, mark);
    L->scope.hide_lo = hide_lo;
    L->scope.hide_hi = hide_hi;
    L->diag->muted -= !check;
    k->iters[it].done = 1;
    k->iter = prev;
    k->lazy = lazy;
    L->depth--;
    return it;
}

/* Element rest[1..] of map a at its loop's iteration `at` (in the current kept loop's
 * iteration): that iteration's statements lowered where they are not yet. */
static NodeId map_elem(Lower *L, const Array *a, const Affine *at, const int64_t *rest, Loc loc)
{
    Kept *k = L->kept;
    /* in a sum per step: an element of the map the outer iteration assigns, at that iteration
     * (as the loop unrolled reads it) */
    for (uint32_t j = 0; k->outer && j < k->outer->niters; j++) {
        const Kept *o = k->outer;
        if (o->iters[j].loop != a->map || o->iters[j].frame != a->map_frame || o->iters[j].done)
            continue;
        Affine cur = outer_affine(&o->iters[j].at);
        for (uint32_t m = 0; affine_eq(&cur, at) && m < o->nelems; m++)
            if (o->elems[m].iter == j && o->elems[m].array == a &&
                memcmp(o->elems[m].idx + 1, rest + 1, (size_t)(a->rank - 1) * sizeof *rest) == 0)
                return from_outer(L, o->elems[m].node);
        diag_error(L->diag, loc, affine_eq(&cur, at) ?
                                 "this element of '%s' is read before it is assigned" :
                                 "'%s' is read at another iteration of the loop over a run-time "
                                 "range that assigns it: a recurrence, which such a loop cannot "
                                 "be yet", a->name);
        return 0;
    }
    uint32_t it = 0;
    while (it < k->niters && !(k->iters[it].loop == a->map && k->iters[it].frame == a->map_frame &&
                               affine_eq(&k->iters[it].at, at)))
        it++;
    if (it == k->niters) {
        for (uint32_t j = 0; j < k->niters; j++) {
            if (k->iters[j].loop == a->map && k->iters[j].frame == a->map_frame &&
                !k->iters[j].done) {
                diag_error(L->diag, loc, "'%s' is read at another iteration of the loop "
                                         "over a run-time range that assigns it: a "
                                         "recurrence, which such a loop cannot be yet",
                           a->name);
                return 0;
            }
        }
        it = lower_map_iter(L, a->map, at, 0, a->map_scope, a->map_frame);
    }
    for (uint32_t j = 0; j < k->nelems; j++) {
        const MapElem *m = &k->elems[j];
        if (m->iter == it && m->array == a &&
            memcmp(m->idx + 1, rest + 1, (size_t)(a->rank - 1) * sizeof *rest) == 0)
            return m->node;
    }
    if (L->diag->errors == L->def_errors)
        diag_error(L->diag, loc, k->iters[it].done ? "this element of '%s' is never assigned "
                                                     "by the loop over a run-time range" :
                                                     "this element of '%s' is read before "
                                                     "it is assigned", a->name);
    return 0;
}

static NodeId lower_map_elem(Lower *L, const Array *a, const Affine *idx, const Ast *e)
{
    Affine off = affine_num(a->map_off), at = affine_add(idx[0], &off, -1);
    int64_t rest[MAX_RANK];
    if (!trailing(L, a, e->args, idx, rest))
        return 0;
    Affine lo = affine_add(a->map_lo, &off, 1), hi = affine_add(a->map_hi, &off, 1);
    Buf what = {0};
    buf_printf(&what, "index '%s' of '%s'", lower_source_text(L, e->args->loc), a->name);
    int ok = affine_in_range(L, &idx[0], &lo, &hi, e->args->loc, what.data);
    buf_free(&what);
    return ok ? map_elem(L, a, &at, rest, e->loc) : 0;
}

int kept_map_result(Lower *L, const Ast *e, Array *a, Result *r)
{
    Affine off = affine_num(a->map_off), first = affine_add(a->map_lo, &off, 1);
    if (!affine_is_const(&first) || first.k != 0) {
        Buf t = {0};
        func_put_affine(&t, &first, a->map->name, NULL, L->f->size, "*");
        diag_error(L->diag, e->loc, "'%s' is returned, so its elements count from '%s[0]', but "
                                    "its loop assigns them from '%s[%s]'", a->name, a->name,
                   a->name, t.data);
        buf_free(&t);
        return 0;
    }
    if (L->ncalls > 1) { /* an inlined call's: the caller reads the array */
        r->map = a;
        r->n = 0;
        r->nodes = NULL;
        return 1;
    }
    if (!lower_enter(L, e->loc))
        return 0;
    Kept k;
    kept_begin(L, &k, &a->map_lo, &a->map_hi, a->map->name);
    Affine at = aff_var();
    /* the iteration lowered, its elements' extents beyond the first index are what it assigns */
    int64_t first_elem[MAX_RANK] = {0}, extent[MAX_RANK] = {0};
    int ok = map_elem(L, a, &at, first_elem, e->loc) != 0 && !L->stop;
    for (uint32_t j = 0; ok && j < k.nelems; j++)
        for (int d = 1; k.elems[j].array == a && d < a->rank; d++)
            extent[d] = k.elems[j].idx[d] + 1 > extent[d] ? k.elems[j].idx[d] + 1 : extent[d];
    uint32_t inner = 1;
    for (int d = 1; d < a->rank; d++)
        inner *= (uint32_t)extent[d];
    NodeId *roots = xrealloc(NULL, (inner + 1) * sizeof *roots);
    for (uint32_t t = 0; ok && t < inner; t++) {
        int64_t rest[MAX_RANK] = {0};
        for (int d = a->rank - 1, q = (int)t; d >= 1; q /= (int)extent[d], d--)
            rest[d] = q % extent[d];
        roots[t] = map_elem(L, a, &at, rest, e->loc);
        ok = roots[t] && !L->stop;
    }
    L->d = &L->f->dag;
    if (ok) { /* placed at the loop, whose values a message about them means */
        kept_finish(L, &k, roots, inner, a->map->loc, 0);
        L->f->loops[L->f->nloops - 1].result = inner;
        L->f->result_loop = L->f->nloops;
    }
    free(roots);
    kept_end(L, &k);
    L->depth--;
    r->vector = 1;
    r->n = 0;
    r->nodes = arena_alloc(L->arena, sizeof *r->nodes);
    return ok;
}

/* An element of a run-time array or of a map, or one whose index changes with the kept
 * loop's variable: a load, or a map's iteration. */
NodeId kept_index(Lower *L, const Ast *e, const Array *a, const Affine *idx)
{
    if (!L->kept) {
        diag_error(L->diag, e->loc, a->map ? "'%s' is assigned in a loop over a run-time range: "
                                             "read its elements in a sum over such a range" :
                                             "'%s' has a size known only at run time: read its "
                                             "elements in a sum over a run-time range", a->name);
        return 0;
    }
    if (a->map)
        return lower_map_elem(L, a, idx, e);
    if (!a->param) {
        diag_error(L->diag, e->loc, "'%s' is assigned element by element, so its indices must "
                                    "be numbers when adgen runs", a->name);
        return 0;
    }
    int p = (int)(a->param - L->f->params);
    Affine flat = affine_num(0);
    const Ast *x = e->args;
    for (int i = 0; i < a->rank; i++, x = x->next) {
        Affine lo = affine_num(0), hi = affine_num(a->dims[i] - 1);
        int rt = i == 0 ? a->param->rt_size : i == 1 ? a->param->rt_size2 : -1;
        if (rt >= 0) {
            hi = affine_num(-1);
            hi.c[1 + rt] = 1;
        }
        Buf what = {0};
        buf_printf(&what, "index '%s' of '%s'", lower_source_text(L, x->loc), a->name);
        int ok = affine_in_range(L, &idx[i], &lo, &hi, x->loc, what.data);
        buf_free(&what);
        if (!ok)
            return 0;
        if (i == 1 && rt >= 0) { /* X[i][j] of X[n][m]: i m + j */
            Affine row;
            if (!affine_times_size(&flat, rt, &row)) {
                Buf t = {0};
                affine_put(&t, L, &flat);
                diag_error(L->diag, e->args->loc, "the first index of '%s' (%s here), whose "
                                                  "second size is known at run time too, "
                                                  "reads a size: not supported yet", a->name,
                           t.data);
                buf_free(&t);
                return 0;
            }
            flat = affine_add(idx[i], &row, 1);
            continue;
        }
        flat = affine_add(idx[i], &flat, a->dims[i]);
    }
    L->f->params[p].loaded = 1;
    return kept_load(L, p, &flat);
}

/* An element assignment inside a kept `for` loop's iteration. */
void kept_map_assign(Lower *L, Stmt *s, Array *a, NodeId n)
{
    Kept *k = L->kept;
    if (!k || !k->niters || k->iters[k->iter].loop != a->map) {
        diag_error(L->diag, s->name_loc, "'%s' is assigned in a loop over a run-time range "
                                         "(line %d), so not elsewhere", s->name,
                   a->map->loc.first_line);
        return;
    }
    Affine v[MAX_RANK];
    if (!affine_indices(L, a, s->index, s->nindex, s->name_loc, v))
        return;
    Affine off = affine_add(v[0], &k->iters[k->iter].at, -1);
    if (!affine_is_const(&off) || off.k != a->map_off)
        return; /* mark_loops found the form */
    MapElem m = {a, {0}, n, k->iter};
    if (!trailing(L, a, s->index, v, m.idx))
        return;
    for (uint32_t j = 0; j < k->nelems; j++) {
        const MapElem *o = &k->elems[j];
        if (o->iter == m.iter && o->array == a &&
            memcmp(o->idx + 1, m.idx + 1, (size_t)(a->rank - 1) * sizeof *m.idx) == 0) {
            diag_error(L->diag, s->name_loc, "this element of '%s' is assigned twice in one "
                                             "iteration", s->name);
            return;
        }
    }
    k->elems = grow(k->elems, k->nelems, sizeof *k->elems);
    k->elems[k->nelems++] = m;
    if (n && node_is_op(L->d, n) && !L->d->meta[n].label)
        L->d->meta[n].label = s->name;
}

/* ---- recurrences -------------------------------------------------------------------------- */

/* A recurrence's state element idx (idx[0] unused) in the iteration being lowered: its slot,
 * made on first use from its value before the loop. */
static NodeId state_slot(Lower *L, const Array *a, const int64_t *idx, Loc loc)
{
    Kept *k = L->kept;
    for (uint32_t j = 0; j < k->nstate; j++)
        if (k->state[j].array == a &&
            memcmp(k->state[j].idx + 1, idx + 1, (size_t)(a->rank - 1) * sizeof *idx) == 0)
            return dag_input(L->d, k->state[j].slot);
    int64_t at[MAX_RANK];
    memcpy(at, idx, sizeof at);
    at[0] = k->lo.k + a->map_off - 1;
    Elem *el = scope_elem_find(&L->elems, a, at, 0);
    if (!el || !el->node) {
        if (!el) {
            Buf t = {0};
            scope_put_elem(&t, a, at);
            diag_error(L->diag, loc, "the recurrence starts from '%s%s', which is not assigned "
                                     "before its loop", a->name, t.data);
            buf_free(&t);
        }
        return 0;
    }
    k->state = grow(k->state, k->nstate, sizeof *k->state);
    k->slot_kind = grow(k->slot_kind, k->nslots, sizeof *k->slot_kind);
    k->slot_ref = grow(k->slot_ref, k->nslots, sizeof *k->slot_ref);
    RecState *st = &k->state[k->nstate];
    memset(st, 0, sizeof *st);
    st->array = a;
    memcpy(st->idx, idx, sizeof st->idx);
    st->init = el->node;
    st->slot = k->nslots;
    k->slot_kind[k->nslots] = SLOT_STATE;
    k->slot_ref[k->nslots] = k->nstate++;
    return dag_input(L->d, k->nslots++);
}

/* Element m of the state of final fi's recurrence, read in another kept loop's iteration: a
 * load of its trajectory, which the recurrence's loop stores, at m - (its first element). */
static NodeId trajectory(Lower *L, const Final *fi, const Affine *m, Loc loc)
{
    Func *f = L->f;
    Loop *rec = &f->loops[fi->loop];
    Affine first = rec->lo, last = fi->at;
    first.k += fi->array->map_off - 1;
    Buf what = {0};
    buf_printf(&what, "index '%s' of '%s'", lower_source_text(L, loc), fi->array->name);
    int ok = affine_in_range(L, m, &first, &last, loc, what.data);
    buf_free(&what);
    if (!ok)
        return 0;
    if (!rec->traj)
        rec->traj = memset(xrealloc(NULL, rec->nstate * sizeof *rec->traj), 0,
                           rec->nstate * sizeof *rec->traj);
    if (!rec->traj[fi->state]) {
        f->traj = grow(f->traj, (uint32_t)f->ntraj, sizeof *f->traj);
        Traj *t = &f->traj[f->ntraj];
        memset(t, 0, sizeof *t);
        t->loop = fi->loop;
        t->state = fi->state;
        t->len = affine_add(last, &first, -1);
        t->len.k++;
        rec->traj[fi->state] = ++f->ntraj;
    }
    Affine at = affine_add(*m, &first, -1);
    return kept_load(L, -rec->traj[fi->state], &at);
}

/* In a sum per step of recurrence o's loop, element idx of its state array a (rest: the other
 * indices) at a step before the sum's (a memory term, sum(j = 0..k, c[k-j]*x[j])): a load of
 * its trajectory, stored when the sum runs at the top of its step; 0 after an error, which
 * names what may not be stored yet. */
static NodeId past_state(Lower *L, const Ast *e, const Array *a, const Affine *idx,
                         const int64_t *rest)
{
    Kept *k = L->kept, *o = k->outer;
    L->kept = o;
    L->d = &o->dag;
    NodeId s = state_slot(L, a, rest, e->loc);
    L->kept = k;
    L->d = &k->dag;
    if (!s)
        return 0;
    Affine first = affine_num(o->lo.k + a->map_off - 1), off = affine_num(a->map_off);
    Affine last = affine_add(o->hi, &off, 1);
    Buf what = {0};
    buf_printf(&what, "index '%s' of '%s'", lower_source_text(L, e->args->loc), a->name);
    int ok = affine_in_range(L, &idx[0], &first, &last, e->args->loc, what.data);
    buf_free(&what);
    if (!ok)
        return 0;
    /* at most the step's: the index less the step in first - (the last step)..map_off - 1,
     * proven quietly, the error saying why */
    Affine past = idx[0], lo = affine_add(first, &o->hi, -1), hi = affine_num(a->map_off - 1);
    past.o--;
    int errors = L->diag->errors;
    L->diag->trial++;
    ok = affine_in_range(L, &past, &lo, &hi, e->args->loc, "");
    L->diag->trial--;
    L->diag->errors = errors;
    if (!ok) {
        Affine prev = affine_num(a->map_off - 1);
        prev.o = 1;
        Buf t = {0};
        affine_put(&t, L, &prev);
        diag_error(L->diag, e->args->loc, "a sum over a run-time range in the loop of the "
                                          "recurrence '%s' may read a state after the step's "
                                          "('%s[%s]') for some sizes: the sum is computed at the "
                                          "top of the step, where the states up to that one "
                                          "are known", a->name, a->name, t.data);
        buf_free(&t);
        return 0;
    }
    Affine at = affine_add(idx[0], &first, -1);
    return state_traj(L, o->slot_ref[(uint32_t)o->dag.nodes[s].k], &at);
}

/* Whether the state of array a at constant indices idx (idx[0] unused) is one L->dead leaves
 * out: of recurrence number rec, or of any (UINT32_MAX). */
static int dead_state(const Lower *L, uint32_t rec, const Array *a, const int64_t *idx)
{
    for (uint32_t j = 0; j < L->ndead; j++)
        if ((rec == UINT32_MAX || L->dead[j].rec == rec) && L->dead[j].array == a->name &&
            memcmp(L->dead[j].idx + 1, idx + 1, (size_t)(a->rank - 1) * sizeof *idx) == 0)
            return 1;
    return 0;
}

/* An element of a recurrence's state array: the previous or this iteration's inside its loop,
 * one assigned before it, or the last after it. */
NodeId kept_state_index(Lower *L, const Ast *e, const Array *a, const Affine *idx)
{
    Kept *k = L->kept;
    int64_t rest[MAX_RANK];
    if (!trailing(L, a, e->args, idx, rest))
        return 0;
    if (k && k->outer && k->outer->rec == a->map) { /* a sum per step of its loop */
        Kept *o = k->outer;
        Affine prev = affine_num(a->map_off - 1), cur = affine_num(a->map_off);
        prev.o = cur.o = 1;
        if (affine_eq(&idx[0], &prev)) {
            L->kept = o;
            L->d = &o->dag;
            NodeId s = state_slot(L, a, rest, e->loc);
            L->kept = k;
            L->d = &k->dag;
            return s ? state_at_step(L, o->slot_ref[(uint32_t)o->dag.nodes[s].k]) : 0;
        }
        for (uint32_t j = 0; affine_eq(&idx[0], &cur) && j < o->nstate; j++)
            if (o->state[j].array == a && o->state[j].next &&
                memcmp(o->state[j].idx + 1, rest + 1, (size_t)(a->rank - 1) * sizeof *rest) == 0)
                return from_outer(L, o->state[j].next); /* built again from the step's */
        return past_state(L, e, a, idx, rest);
    }
    if (k && k->rec == a->map && dead_state(L, k->ordinal, a, rest))
        return dag_const(L->d, 0.0); /* left out (L->dead): this read reaches nothing */
    /* a state this step already reads; else one a column lowered before computed
     * (kept_final_of) is read as its trajectory */
    int own = 0;
    for (uint32_t j = 0; k && k->rec == a->map && j < k->nstate; j++)
        own |= k->state[j].array == a &&
               memcmp(k->state[j].idx + 1, rest + 1, (size_t)(a->rank - 1) * sizeof *rest) == 0;
    if (k && k->rec == a->map && (own || !kept_final_of(L, a, rest))) {
        Affine prev = aff_var(), cur = aff_var();
        prev.k = a->map_off - 1;
        cur.k = a->map_off;
        if (affine_eq(&idx[0], &prev))
            return state_slot(L, a, rest, e->loc);
        for (uint32_t j = 0; affine_eq(&idx[0], &cur) && j < k->nstate; j++)
            if (k->state[j].array == a && k->state[j].next &&
                memcmp(k->state[j].idx + 1, rest + 1, (size_t)(a->rank - 1) * sizeof *rest) == 0)
                return k->state[j].next;
        Buf t = {0};
        affine_put(&t, L, &prev);
        diag_error(L->diag, e->loc, "inside the loop that assigns it, the recurrence '%s' is "
                                    "read only at the element before the one it assigns "
                                    "('%s[%s]'), or at that one once assigned", a->name,
                   a->name, t.data);
        buf_free(&t);
        return 0;
    }
    if (affine_is_const(&idx[0])) {
        int64_t at[MAX_RANK];
        memcpy(at, rest, sizeof at);
        at[0] = idx[0].k;
        Elem *el = scope_elem_find(&L->elems, a, at, 0);
        if (el)
            return L->kept ? kept_capture(L, el->node) : el->node;
    }
    for (uint32_t j = 0; j < L->nfinals; j++) {
        const Final *fi = &L->finals[j];
        if (fi->array != a ||
            memcmp(fi->idx + 1, rest + 1, (size_t)(a->rank - 1) * sizeof *rest) != 0)
            continue;
        if (affine_eq(&fi->at, &idx[0]))
            return L->kept ? kept_capture(L, fi->node) : fi->node;
        if (L->kept)
            return trajectory(L, fi, &idx[0], e->args->loc);
    }
    if (dead_state(L, UINT32_MAX, a, rest)) /* left out (L->dead): this read reaches nothing */
        return dag_const(L->d, 0.0);
    diag_error(L->diag, e->loc, "'%s' is the state of a recurrence over a run-time range: "
                                "outside a loop over such a range, only its elements before "
                                "the loop and its last can be read (a sum over a run-time range "
                                "reads the others)", a->name);
    return 0;
}

int kept_final_of(const Lower *L, const Array *a, const int64_t *idx)
{
    for (uint32_t j = 0; j < L->nfinals; j++)
        if (L->finals[j].array == a &&
            memcmp(L->finals[j].idx + 1, idx + 1, (size_t)(a->rank - 1) * sizeof *idx) == 0)
            return 1;
    return 0;
}

/* An element assignment of a recurrence's state in its loop: the next value. */
void kept_state_assign(Lower *L, Stmt *s, Array *a, NodeId n)
{
    Kept *k = L->kept;
    if (!k || k->rec != a->map) {
        diag_error(L->diag, s->name_loc, "'%s' is the state of the recurrence at line %d: only "
                                         "that loop assigns its elements after the first",
                   s->name, a->map->loc.first_line);
        return;
    }
    Affine v[MAX_RANK], cur = aff_var();
    int64_t rest[MAX_RANK];
    if (!affine_indices(L, a, s->index, s->nindex, s->name_loc, v) ||
        !trailing(L, a, s->index, v, rest))
        return;
    cur.k = a->map_off;
    if (!affine_eq(&v[0], &cur))
        return; /* mark_loops found the form */
    if (!state_slot(L, a, rest, s->name_loc))
        return;
    for (uint32_t j = 0; j < k->nstate; j++) {
        RecState *st = &k->state[j];
        if (st->array != a ||
            memcmp(st->idx + 1, rest + 1, (size_t)(a->rank - 1) * sizeof *rest) != 0)
            continue;
        if (st->next) {
            diag_error(L->diag, s->name_loc, "this element of '%s' is assigned twice in one "
                                             "iteration", s->name);
            return;
        }
        st->next = n;
        if (n && node_is_op(L->d, n) && !L->d->meta[n].label)
            L->d->meta[n].label = s->name;
    }
}

/* Whether an element of recurrence k's states was assigned before its loop at an index the
 * loop assigns too (x[5] = b before `for k = 0..n-1 { x[k+1] = ... }`: at k = 4, or for
 * some sizes): then an error at that assignment. */
static int assigned_before(Lower *L, const Kept *k, const Stmt *s)
{
    const ElemTable *t = &L->elems;
    for (uint32_t j = 0; j < k->nstate; j++) {
        const Array *a = k->state[j].array;
        for (size_t e = 0; e < t->cap; e++) {
            const Elem *el = &t->slots[e];
            if (el->array != a || !el->stmt ||
                memcmp(el->idx + 1, k->state[j].idx + 1,
                       (size_t)(a->rank - 1) * sizeof *el->idx) != 0)
                continue;
            int64_t step = el->idx[0] - a->map_off;
            if (step < k->lo.k || (affine_is_const(&k->hi) && step > k->hi.k))
                continue;
            diag_error(L->diag, el->stmt->name_loc, "this element of '%s' is assigned before "
                                                   "the recurrence and by it (%s = %lld)",
                       a->name, s->name, (long long)step);
            diag_note(L->diag, s->loc, "the recurrence");
            return 1;
        }
    }
    return 0;
}

/* The trajectories of the states of recurrence k, the function's last loop, that its sums per
 * step read at the step (state_at_step): theirs, and those sums computed in its loop. */
static void host_steps(Func *f, const Kept *k)
{
    int r = f->nloops - 1;
    Loop *lp = &f->loops[r];
    for (uint32_t j = 0; j < k->nstate; j++) {
        if (!k->state[j].traj)
            continue;
        if (!lp->traj)
            lp->traj = memset(xrealloc(NULL, lp->nstate * sizeof *lp->traj), 0,
                              lp->nstate * sizeof *lp->traj);
        lp->traj[j] = k->state[j].traj;
        f->traj[k->state[j].traj - 1].loop = r;
        f->traj[k->state[j].traj - 1].state = j;
        for (int i = 0; i < r; i++)
            for (uint32_t l = 0; f->loops[i].per_step && l < f->loops[i].nload; l++)
                if (f->loops[i].load[l].param == -k->state[j].traj)
                    f->loops[i].host = 1 + r;
    }
}

/* The name of recurrence state st in the Loop (Loop.state_name): its array's, with its
 * constant indices. */
static const char *state_name(Lower *L, const RecState *st)
{
    Buf t = {0};
    buf_puts(&t, st->array->name);
    for (int d = 1; d < st->array->rank; d++)
        buf_printf(&t, "_%lld", (long long)st->idx[d]);
    const char *name = arena_strndup(L->arena, t.data, t.len);
    buf_free(&t);
    return name;
}

/* A recurrence over a run-time range: its iteration lowered once, with the states as inputs,
 * into a Loop whose last states the function reads after it. */
static int lower_recurrence(Lower *L, Stmt *s, const Affine *lo, const Affine *hi)
{
    if (!affine_is_const(lo)) {
        diag_error(L->diag, s->from->loc, "a recurrence over a run-time range starts at a "
                                          "number (its first states are assigned before it)");
        return 0;
    }
    int errors = L->diag->errors;
    Kept k;
    kept_begin(L, &k, lo, hi, s->name);
    k.rec = s;
    k.ordinal = L->nrec++;
    k.iters = grow(NULL, 0, sizeof *k.iters);
    k.iters[0].loop = s;
    k.iters[0].at = aff_var();
    k.iters[0].frame = lower_frame(L);
    k.iters[0].done = 0;
    k.niters = 1;
    uint32_t mark = L->scope.len;
    Affine i = aff_var();
    lower_bind_loop(L, s->name, s->name_loc, &i);
    Stmt *returned = NULL;
    Result r = {0};
    int ok = lower_stmts(L, L->f->def, s->body, 1, &r, &returned) && !L->stop &&
             L->diag->errors == errors;
    scope_unbind_to(&L->scope, mark);
    k.iters[0].done = 1;
    NodeId *roots = xrealloc(NULL, (k.nstate + 1) * sizeof *roots);
    for (uint32_t j = 0; ok && j < k.nstate; j++) {
        roots[j] = k.state[j].next;
        if (!roots[j]) {
            diag_error(L->diag, s->loc, "the loop reads the state '%s' but does not assign its "
                                        "next element", k.state[j].array->name);
            ok = 0;
        }
    }
    if (ok && k.nstate && assigned_before(L, &k, s))
        ok = 0;
    if (ok && k.nstate) {
        kept_finish(L, &k, roots, k.nstate, s->loc, 0);
        Loop *lp = &L->f->loops[L->f->nloops - 1];
        host_steps(L->f, &k);
        lp->rec = k.ordinal;
        lp->state_name = arena_alloc(L->arena, k.nstate * sizeof *lp->state_name);
        for (uint32_t j = 0; j < k.nstate; j++) {
            lp->state_name[j] = state_name(L, &k.state[j]);
            L->keys = grow(L->keys, L->nkeys, sizeof *L->keys);
            StateKey *key = &L->keys[L->nkeys++];
            key->rec = k.ordinal;
            key->state = j;
            key->array = k.state[j].array->name;
            memcpy(key->idx, k.state[j].idx, sizeof key->idx);
        }
        for (uint32_t j = 0; j < k.nstate; j++) {
            L->finals = grow(L->finals, L->nfinals, sizeof *L->finals);
            Final *fi = &L->finals[L->nfinals++];
            fi->array = k.state[j].array;
            memcpy(fi->idx, k.state[j].idx, sizeof fi->idx);
            Affine off = affine_num(fi->array->map_off);
            fi->at = affine_add(*hi, &off, 1);
            fi->node = L->f->input[lp->slot + j];
            fi->loop = L->f->nloops - 1;
            fi->state = j;
        }
    }
    free(roots);
    free(k.state);
    kept_end(L, &k);
    return ok;
}

/* ---- for loops over run-time ranges ------------------------------------------------------- */

/* Whether x is the loop variable plus an integer (k, k + 1, 1 + k, k - 2): *off gets it. */
static int var_plus(Lower *L, const Ast *x, const char *var, int64_t *off)
{
    const Ast *num = NULL;
    int64_t sign = 1;
    *off = 0;
    if (x->kind == A_VAR && x->name == var)
        return 1;
    if ((x->kind == A_ADD || x->kind == A_SUB) && x->lhs->kind == A_VAR && x->lhs->name == var) {
        num = x->rhs;
        sign = x->kind == A_ADD ? 1 : -1;
    } else if (x->kind == A_ADD && x->rhs->kind == A_VAR && x->rhs->name == var) {
        num = x->lhs;
    }
    double v = num && num->kind == A_NUM ? num->num : NAN;
    if (num && num->kind == A_VAR) {
        Binding *b = scope_lookup(&L->scope, num->name, lower_frame(L));
        v = b && b->kind == B_CONST ? b->value : NAN;
    }
    if (!(fabs(v) <= 1e9) || v != floor(v))
        return 0;
    *off = sign * (int64_t)v;
    return 1;
}

/* Whether expression e (an index: short) names `name`. */
static int mentions(const Ast *e, const char *name, int depth)
{
    if (!e || depth > 100)
        return e != NULL;
    if (e->kind == A_VAR && e->name == name)
        return 1;
    for (const Ast *a = e->args; a; a = a->next)
        if (mentions(a, name, depth + 1))
            return 1;
    return mentions(e->lhs, name, depth + 1) || mentions(e->rhs, name, depth + 1);
}

/* Whether expression e (a loop's bound) reads a size known only at run time. */
static int reads_size(Lower *L, const Ast *e, int depth)
{
    if (!e || depth > 100)
        return 0;
    if (e->kind == A_VAR) {
        const Binding *b = scope_lookup(&L->scope, e->name, lower_frame(L));
        return b && b->kind == B_SIZE && !affine_is_const(&b->aff);
    }
    for (const Ast *a = e->args; a; a = a->next)
        if (reads_size(L, a, depth + 1))
            return 1;
    return reads_size(L, e->lhs, depth + 1) || reads_size(L, e->rhs, depth + 1);
}

int kept_reads_size(Lower *L, const Ast *index)
{
    for (const Ast *x = index; x; x = x->next)
        if (reads_size(L, x, 0))
            return 1;
    return 0;
}

/* Whether the statements from first (and in loops among them) assign an element whose first
 * index reads the variable v. */
static int first_index_reads(const Stmt *first, const char *v)
{
    for (const Stmt *s = first; s; s = s->next)
        if ((s->kind == S_ELEM && mentions(s->index, v, 0)) ||
            (s->kind == S_FOR && first_index_reads(s->body, v)))
            return 1;
    return 0;
}

/* The error of `for` loop s over a run-time range inside a kept loop over `outer`: the way
 * round is the size of the loop whose variable the arrays' first indices do not read given
 * with -D (that loop unrolled, the other kept). */
static void nested_for(Lower *L, const Stmt *s, const char *outer)
{
    int inner_first = first_index_reads(s->body, s->name);
    int outer_first = first_index_reads(s->body, outer);
    if (inner_first == outer_first)
        diag_error(L->diag, s->loc, "a loop over a run-time range inside another: only one of "
                                    "them can be kept (not supported yet); give with -D the "
                                    "size of the one whose variable is not the first index of "
                                    "the arrays assigned");
    else
        diag_error(L->diag, s->loc, "a loop over a run-time range inside another: only one of "
                                    "them can be kept (not supported yet); give %s size with "
                                    "-D, and %s (x[%s%s][%s])", inner_first ? "the outer one's" :
                                    "this one's", inner_first ? "this one is kept at each of "
                                    "its steps" : "it is unrolled in each step of the outer one",
                   inner_first ? s->name : outer, inner_first ? "+1" : "",
                   inner_first ? outer : s->name);
}

/* Whether statements first, in a kept loop's body, hold a `for` loop over a run-time range
 * (then the error). */
static int nests_runtime_for(Lower *L, const Stmt *first, const char *outer)
{
    for (const Stmt *s = first; s; s = s->next) {
        if (s->kind != S_FOR)
            continue;
        if (reads_size(L, s->from, 0) || reads_size(L, s->to, 0)) {
            nested_for(L, s, outer);
            return 1;
        }
        if (nests_runtime_for(L, s->body, outer))
            return 1;
    }
    return 0;
}

/* Marks the local arrays a kept `for` loop assigns: the states of a recurrence (elements
 * assigned before the loop, which assigns the rest at its variable plus a number), or maps.
 * *states: whether there is a state. */
static int mark_loops(Lower *L, const Stmt *loop, const Stmt *first, const Affine *lo,
                      const Affine *hi, int *states)
{
    for (const Stmt *s = first; s; s = s->next) {
        if (s->kind == S_FOR && !mark_loops(L, loop, s->body, lo, hi, states))
            return 0;
        if (s->kind != S_ELEM)
            continue;
        Binding *b = scope_lookup(&L->scope, s->name, lower_frame(L));
        if (!b || b->kind != B_ARRAY || b->array->param)
            continue; /* assign_elem reports it */
        Array *a = b->array;
        if (a->map && a->map != loop) {
            diag_error(L->diag, s->name_loc, "'%s' is also assigned in the loop over a "
                                             "run-time range at line %d", s->name,
                       a->map->loc.first_line);
            return 0;
        }
        int64_t off;
        int later = 0;
        for (const Ast *x = s->index->next; x; x = x->next)
            later |= mentions(x, loop->name, 0);
        if (!mentions(s->index, loop->name, 0) && later) {
            diag_error(L->diag, s->name_loc, "'%s' is assigned at the loop's variable in an "
                                             "index after the first, inside a loop over a "
                                             "run-time range: such a loop assigns an array at "
                                             "its variable in the first index (%s[%s][0]; a "
                                             "recurrence may be written state first where every "
                                             "use of '%s' names one element); an array over two "
                                             "run-time ranges (a grid over time) is not "
                                             "supported yet", s->name, s->name, loop->name,
                       s->name);
            return 0;
        }
        if (!mentions(s->index, loop->name, 0)) {
            diag_error(L->diag, s->index->loc, "'%s' is assigned at an index without the "
                                               "loop's variable, inside a loop over a run-time "
                                               "range: an iteration's own values are scalars "
                                               "(%s0 = ..., %s1 = ...), its arrays are assigned "
                                               "at the variable (%s[%s])", s->name, s->name,
                       s->name, s->name, loop->name);
            return 0;
        }
        if (!var_plus(L, s->index, loop->name, &off)) {
            if (a->assigned)
                diag_error(L->diag, s->index->loc, "a recurrence over a run-time range assigns "
                                                   "its state at the loop's variable plus a "
                                                   "number (%s[%s + 1] = f(%s[%s]))", s->name,
                           loop->name, s->name, loop->name);
            else
                diag_error(L->diag, s->index->loc, "a loop over a run-time range assigns the "
                                                   "elements of an array at its variable plus "
                                                   "a number (%s[%s], %s[%s + 1])", s->name,
                           loop->name, s->name, loop->name);
            return 0;
        }
        if (a->map && a->map_off != off) {
            diag_error(L->diag, s->index->loc, "'%s' is assigned at two offsets from the "
                                               "loop's variable", s->name);
            return 0;
        }
        a->map = loop;
        a->map_lo = *lo;
        a->map_hi = *hi;
        a->map_off = off;
        a->map_scope = L->scope.len;
        a->map_frame = lower_frame(L);
        a->state = a->assigned;
        *states |= a->state;
    }
    return 1;
}

int kept_skips(Lower *L, const Stmt *s)
{
    const Kept *k = L->kept;
    if (!k || s->kind != S_ELEM || (!k->lazy && !L->ndead))
        return 0;
    Binding *b = scope_lookup(&L->scope, s->name, lower_frame(L));
    if (!b || b->kind != B_ARRAY || !b->array->state)
        return 0;
    const Array *a = b->array;
    if (k->lazy)
        return a->map == k->iters[k->iter].loop;
    Affine v[MAX_RANK];
    int64_t rest[MAX_RANK];
    return L->ndead && k->rec == a->map &&
           affine_indices(L, a, s->index, s->nindex, s->name_loc, v) &&
           trailing(L, a, s->index, v, rest) && dead_state(L, k->ordinal, a, rest);
}

/* A `for` loop over a run-time range: a recurrence, or maps, whose elements a kept sum
 * computes where it reads them (the loop itself prints nothing); a map's statements are
 * lowered once here with its own variable, for their errors. */
int kept_for(Lower *L, Stmt *s, const Affine *lo, const Affine *hi)
{
    if (L->kept) {
        nested_for(L, s, L->kept->var);
        return 0;
    }
    int states = 0;
    if (!lower_assignable(L, s->name, s->name_loc) || nests_runtime_for(L, s->body, s->name) ||
        !mark_loops(L, s, s->body, lo, hi, &states))
        return 0;
    if (states)
        return lower_recurrence(L, s, lo, hi);
    int errors = L->diag->errors;
    Kept k;
    kept_begin(L, &k, lo, hi, s->name);
    Affine i = aff_var();
    lower_map_iter(L, s, &i, 1, 0, lower_frame(L));
    kept_end(L, &k);
    return L->diag->errors == errors;
}
