/*
 * band.c: the Hessian pattern of a definition whose differentiated inputs are arrays of
 * run-time size, read by kept sums (and inputs of constant sizes beside them: the arrow), and
 * the Jacobian pattern of a returned map of them. Input: a Func with its kept loops differentiated (their
 * iterations' hvp, the tangent of the reverse loop's seeds and captures). Output: f->band, the
 * pairs of loads that meet in a term and the colours of the columns, or why there are none.
 *
 * An iteration's Hessian-vector product reaches the tangent of load b from the adjoint of load
 * a exactly when the second derivative in the two is structurally nonzero: those pairs, over
 * the loop's range, are the Hessian's entries, when the loop's sum enters the result linearly
 * (the seed of its reverse loop has no tangent) and reads no value computed from the arrays
 * outside it (no capture has a tangent); either would couple every element with every other.
 * When the two loads of every pair move together with the step (the same coefficient of the
 * loop variable and of the sizes), the distance between a row and its columns is a constant
 * of the pair, so the columns of one array that meet a row lie in a window as wide as the
 * spread of those distances: colouring the array's elements by their index modulo the widest
 * window gives two columns of one colour no common row, and one Hessian-vector product per
 * colour gives every entry directly (the banded case of Curtis, Powell and Reid).
 *
 * A returned map's Jacobian likewise: each value of a step reads some loads, whose elements
 * move with the step; the columns of one array that a value meets lie in a window as wide as
 * the spread of their offsets, and one Jacobian-vector product per colour gives every entry.
 */
#include <stdlib.h>
#include <string.h>

#include "modes.h"

/* What a walk of an iteration's nodes to the tangents they read keeps: per node, the
 * differentiated scalar whose tangent input it is (or UINT32_MAX) and the walk that last
 * visited it; the scalars a walk found. */
typedef struct {
    uint32_t *dot_of, *seen, *found;
} Reach;

static void reach_init(Reach *r, const Func *body)
{
    const Dag *d = &body->dag;
    r->dot_of = xrealloc(NULL, (d->len + 1) * sizeof *r->dot_of);
    r->seen = xrealloc(NULL, (d->len + 1) * sizeof *r->seen);
    r->found = xrealloc(NULL, (body->ndiff + 1) * sizeof *r->found);
    memset(r->dot_of, 0xff, (d->len + 1) * sizeof *r->dot_of);
    memset(r->seen, 0, (d->len + 1) * sizeof *r->seen);
    for (uint32_t k = 0; k < body->ndiff; k++)
        r->dot_of[body->input[body->dot_slot + k]] = k;
}

static void reach_free(Reach *r)
{
    free(r->dot_of);
    free(r->seen);
    free(r->found);
}

/* The differentiated scalars of body whose tangents node `from` reads, into
 * re->found[0..*nfound); the walk marks what it visits with `stamp`. */
static void reach_tangents(const Func *body, NodeId from, Reach *re, uint32_t stamp,
                           uint32_t *nfound)
{
    uint32_t *seen = re->seen, *dot_of = re->dot_of, *found = re->found;
    const Dag *d = &body->dag;
    NodeId *stack = xrealloc(NULL, (d->len + 1) * sizeof *stack);
    uint32_t top = 0;
    stack[top++] = from;
    seen[from] = stamp;
    while (top) {
        NodeId id = stack[--top];
        const Node *nd = &d->nodes[id];
        if (nd->kind == N_INPUT) {
            if (dot_of[id] != UINT32_MAX)
                found[(*nfound)++] = dot_of[id];
            continue;
        }
        NodeId ops[3] = {nd->a, nd->b, nd->c};
        for (int i = 0; i < node_arity(nd->kind); i++)
            if (seen[ops[i]] != stamp) {
                seen[ops[i]] = stamp;
                stack[top++] = ops[i];
            }
    }
    free(stack);
}

static void add_pair(Band *b, int loop, uint32_t a, uint32_t c)
{
    for (uint32_t k = 0; k < b->npairs; k++)
        if (b->pair[k].loop == loop && b->pair[k].a == a && b->pair[k].b == c)
            return;
    b->pair = xrealloc(b->pair, (b->npairs + 1) * sizeof *b->pair);
    b->pair[b->npairs++] = (BandPair){loop, a, c};
}

/* Whether two loads move together with the step: their offsets differ by a constant. */
static int together(const Load *a, const Load *b)
{
    if (a->at.c[0] == 0 || b->at.c[0] == 0)
        return 0;
    if (a->param == b->param) { /* one array: the same coefficients, a constant distance */
        for (int s = 0; s <= MAX_SIZES; s++)
            if (a->at.c[s] != b->at.c[s])
                return 0;
        return 1;
    }
    /* two arrays, maybe of different steps (a row of X[n][2] beside u[n]): the sizes move
     * them in the same proportion, so that one's element fixes the other's */
    for (int s = 1; s <= MAX_SIZES; s++)
        if (a->at.c[s] * b->at.c[0] != b->at.c[s] * a->at.c[0])
            return 0;
    return 1;
}

/* Why two loads that meet in a term do not move together. */
static const char *apart(const Load *a, const Load *b)
{
    if (a->at.c[0] == 0 || b->at.c[0] == 0)
        return "a term reads an element at an index that does not move with the step, so "
               "that element meets every other (a dense row and column)";
    if (a->param != b->param)
        return "a term reads two arrays whose indices move apart as the sizes grow, so the "
               "Hessian is not banded";
    return "two elements meet in a term of this sum at a distance that changes with the "
           "step or the sizes (their indices do not move together), so the Hessian is not "
           "banded";
}

/* Pair k's row (end 0) or column (end 1) load. */
static const Load *pair_load(const Func *f, uint32_t k, int end)
{
    const BandPair *bp = &f->band.pair[k];
    return &f->loops[bp->loop].load[end ? bp->b : bp->a];
}

int64_t band_offset(const Func *f, uint32_t k)
{
    const Load *a = pair_load(f, k, 0), *b = pair_load(f, k, 1);
    if (a->param == b->param)
        return b->at.k - a->at.k;
    return b->at.k * a->at.c[0] - b->at.c[0] * a->at.k;
}

static int64_t floor_mod(int64_t a, int64_t m)
{
    int64_t r = a % m;
    return r < 0 ? r + m : r;
}

/* Whether node `id` of f (of jvp, or of hvp) reads a tangent along the arrays: a kept loop's
 * tangent or (hvp) adjoint's tangent, of a loop that reads a differentiated array (the
 * function's own tangent inputs are its inputs of constant sizes'). */
static int along_arrays(const Func *f, NodeId id)
{
    const Dag *d = &f->dag;
    uint8_t *mask = xrealloc(NULL, f->nslots + 1);
    memset(mask, 0, f->nslots + 1);
    for (int i = 0; i < f->nloops; i++) {
        const Loop *lp = &f->loops[i];
        int reads = 0;
        for (uint32_t l = 0; l < lp->nload; l++)
            reads |= load_diff(f, &lp->load[l]);
        if (!reads)
            continue;
        const LoopSweep *hs = loop_sweep(f, lp, ENTRY_HVP);
        for (uint32_t j = 0; j < loop_results(lp); j++)
            mask[lp->dot_slot + j] = 1;
        for (uint32_t c = 0; func_built(f) >> ENTRY_HVP & 1 && c < lp->ncap + lp->nstate; c++)
            mask[hs->bar + c] = 1;
    }
    uint8_t *seen = xrealloc(NULL, d->len + 1);
    memset(seen, 0, d->len + 1);
    int found = func_reads_slots(f, id, mask, seen);
    free(seen);
    free(mask);
    return found;
}

/* A returned map's pairs: per value of a step, the loads its tangent reads; 0, or why there is
 * no band. */
static const char *map_pairs(Func *f, int li)
{
    const Loop *lp = &f->loops[li];
    const Func *body = lp->body;
    const LoopSweep *js = loop_sweep(f, lp, ENTRY_JVP);
    for (uint32_t c = 0; c < lp->ncap; c++)
        if (along_arrays(f, js->cap_dot[c]))
            return "its values read a value computed from the differentiated arrays outside "
                   "the loop, so each meets every element (the Jacobian is dense)";
    Reach re;
    reach_init(&re, body);
    const char *why = NULL;
    for (uint32_t r = 0; r < lp->result && !why; r++) {
        uint32_t nfound = 0, first = f->band.npairs;
        reach_tangents(body, body->mode[ENTRY_JVP].node[r], &re, r + 1, &nfound);
        for (uint32_t m = 0; m < nfound && !why; m++) {
            uint32_t slot = body->diff[re.found[m]];
            if (slot < 1 || slot > lp->nload || !load_diff(f, &lp->load[slot - 1]))
                continue;
            const Load *lb = &lp->load[slot - 1];
            for (uint32_t k = first; k < f->band.npairs && !why; k++) {
                const Load *other = &lp->load[f->band.pair[k].b];
                if (other->param == lb->param && !together(other, lb))
                    why = "a value reads two elements of one array at a distance that "
                          "changes with the step, so the Jacobian is not banded";
            }
            if (lb->at.c[0] == 0)
                why = "a value reads an element at an index that does not move with the "
                      "step, so that column meets every row (it is dense)";
            add_pair(&f->band, li, r, slot - 1);
        }
    }
    reach_free(&re);
    return why;
}

/* The pairs of one loop's iteration; 0, or why there is no band. A seed or a capture whose
 * tangent is along inputs of constant sizes only is the arrow's border (every element
 * meets those inputs), not a coupling of the elements. */
static const char *loop_pairs(Func *f, int li)
{
    const Loop *lp = &f->loops[li];
    const Func *body = lp->body;
    const LoopSweep *hs = loop_sweep(f, lp, ENTRY_HVP);
    if (along_arrays(f, hs->seed[0]))
        return "the result is a nonlinear function of this sum, so every element the sum "
               "reads meets every other in the Hessian (it is dense)";
    for (uint32_t c = 0; c < lp->ncap; c++)
        if (along_arrays(f, hs->cap_dot[c]))
            return "this sum reads a value computed from the differentiated arrays outside "
                   "it, so every element meets every other in the Hessian (it is dense)";
    Reach re;
    reach_init(&re, body);
    const char *why = NULL;
    for (uint32_t k = 0; k < body->ndiff && !why; k++) {
        uint32_t slot = body->diff[k];
        if (slot < 1 || slot > lp->nload || !load_diff(f, &lp->load[slot - 1]))
            continue;
        uint32_t nfound = 0;
        reach_tangents(body, body->mode[ENTRY_HVP].node[k], &re, k + 1, &nfound);
        for (uint32_t m = 0; m < nfound; m++) {
            uint32_t other = body->diff[re.found[m]];
            if (other < 1 || other > lp->nload)
                continue; /* a capture's tangent: along inputs of constant sizes (above) */
            const Load *la = &lp->load[slot - 1], *lb = &lp->load[other - 1];
            if (!together(la, lb)) {
                why = apart(la, lb);
                break;
            }
            add_pair(&f->band, li, slot - 1, other - 1);
            add_pair(&f->band, li, other - 1, slot - 1);
        }
    }
    reach_free(&re);
    return why;
}

/* The colours of parameter p's elements: the widest spread of the distances from a row to
 * its columns in p, over the rows that can meet (one array, one residue of the step). */
static uint32_t param_colours(const Func *f, int p)
{
    const Band *b = &f->band;
    int64_t most = 0;
    for (uint32_t k = 0; b->jac && k < b->npairs; k++) { /* per value: its loads' spread */
        const Loop *lp = &f->loops[b->pair[k].loop];
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (uint32_t m = 0; m < b->npairs; m++) {
            const Load *l = &lp->load[b->pair[m].b];
            if (b->pair[m].a != b->pair[k].a || l->param != p)
                continue;
            lo = l->at.k < lo ? l->at.k : lo;
            hi = l->at.k > hi ? l->at.k : hi;
        }
        most = lo <= hi && hi - lo + 1 > most ? hi - lo + 1 : most;
    }
    if (b->jac)
        return (uint32_t)most;
    for (uint32_t k = 0; k < b->npairs; k++) {
        const Loop *lp = &f->loops[b->pair[k].loop];
        const Load *row = &lp->load[b->pair[k].a];
        if (lp->load[b->pair[k].b].param != p)
            continue;
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (uint32_t m = 0; m < b->npairs; m++) {
            const Loop *lm = &f->loops[b->pair[m].loop];
            const Load *rm = &lm->load[b->pair[m].a], *cm = &lm->load[b->pair[m].b];
            if (cm->param != p || rm->param != row->param)
                continue;
            /* rows of one residue modulo a common step only (else all of them) */
            int64_t step = row->at.c[0] < 0 ? -row->at.c[0] : row->at.c[0];
            int same = rm->at.c[0] == row->at.c[0] || rm->at.c[0] == -row->at.c[0];
            for (int s = 1; s <= MAX_SIZES; s++)
                same &= rm->at.c[s] % step == 0 && row->at.c[s] % step == 0;
            if (same && floor_mod(rm->at.k, step) != floor_mod(row->at.k, step))
                continue;
            int64_t dist = band_offset(f, m);
            lo = dist < lo ? dist : lo;
            hi = dist > hi ? dist : hi;
        }
        /* two arrays: the offsets are in steps of the row's array (columns an integer apart
         * in a window of (hi - lo) / step) */
        int64_t step = row->at.c[0] < 0 ? -row->at.c[0] : row->at.c[0];
        int64_t width = row->param == p ? hi - lo : (hi - lo) / step;
        most = width + 1 > most ? width + 1 : most;
    }
    return (uint32_t)most;
}

void band_find(Func *f)
{
    Band *b = &f->band;
    memset(b, 0, sizeof *b);
    b->jac = f->result_loop > 0;
    for (int i = 0; i < f->nloops && !b->why; i++) {
        if (!f->loops[i].active && !f->loops[i].per_step)
            continue;
        b->why = f->loops[i].per_step ? "a sum over a run-time range inside another loop's "
                                        "iteration (its sums are stored in the work array), "
                                        "which the colouring does not handle yet" :
                 b->jac ? map_pairs(f, i) : loop_pairs(f, i);
        b->loc = f->loops[i].loc;
    }
    /* two arrays meet at one proportion of steps (their windows line up row by row) */
    for (uint32_t k = 0; !b->why && !b->jac && k < b->npairs; k++)
        for (uint32_t m = 0; m < k && !b->why; m++) {
            const Load *ka = pair_load(f, k, 0), *kb = pair_load(f, k, 1);
            const Load *ma = pair_load(f, m, 0), *mb = pair_load(f, m, 1);
            if (ka->param == kb->param || ka->param != ma->param || kb->param != mb->param)
                continue;
            if (ka->at.c[0] != ma->at.c[0] || kb->at.c[0] != mb->at.c[0] ||
                (ka->at.c[0] != kb->at.c[0] && (ka->at.c[0] < 0 || kb->at.c[0] < 0))) {
                b->why = "two arrays meet in terms whose indices move by different steps in "
                         "different loops, which the colouring does not handle yet";
                b->loc = f->loops[b->pair[k].loop].loc;
            }
        }
    if (b->why) {
        free(b->pair);
        b->pair = NULL;
        b->npairs = 0;
        return;
    }
    b->colours = xrealloc(NULL, ((size_t)f->nparams + 1) * sizeof *b->colours);
    b->elements = !b->jac;
    for (int p = 0; p < f->nparams; p++) {
        /* an input of a constant size: a colour per element (a unit direction each) */
        b->colours[p] = f->params[p].kind != PARAM_DIFF ? 0 :
                        f->params[p].rt_size < 0 ? f->params[p].size : param_colours(f, p);
        b->ncolours += b->colours[p];
        b->elements &= f->params[p].kind != PARAM_DIFF || f->params[p].rt_size >= 0;
    }
    /* every pair in a term whose Hessian was made (a sum whose seed is never a strong zero),
     * whose seed and captures are values before every loop (computed ahead of the terms,
     * not a sum the function makes) */
    uint8_t *mask = xrealloc(NULL, f->nslots + 1), *seen = xrealloc(NULL, f->dag.len);
    memset(mask, 0, f->nslots + 1);
    for (int i = 0; i < f->nloops; i++)
        for (uint32_t j = 0; j < loop_results(&f->loops[i]); j++)
            mask[f->loops[i].slot + j] = 1;
    for (uint32_t k = 0; b->elements && k < b->npairs; k++) {
        const Loop *lp = &f->loops[b->pair[k].loop];
        b->elements = lp->body->mode[ENTRY_HESS].sparse.node != NULL;
        memset(seen, 0, f->dag.len);
        b->elements &= !func_reads_slots(f, loop_sweep(f, lp, ENTRY_GRAD)->seed[0], mask, seen);
        for (uint32_t c = 0; b->elements && c < lp->ncap; c++)
            b->elements = !func_reads_slots(f, lp->cap[c], mask, seen);
    }
    b->elements &= b->ncolours > 0; /* none: no product to make (a linear function) */
    free(mask);
    free(seen);
}
