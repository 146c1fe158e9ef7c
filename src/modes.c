/*
 * modes.c: every entry point of a definition as a composition of the two transformations on
 * its one DAG. Input: a Func from sema, with f->entries saying which entry points to build.
 * Output: nodes in the same DAG and, in f->mode[kind], the roots of each entry point:
 *
 *   grad        reverse sweep seeded with 1 (eq. 5.144)
 *   jvp         forward sweep seeded with the input tangents (eq. 5.121)
 *   vjp         reverse sweep seeded with the output cotangents
 *   hvp         forward sweep over the gradient's nodes (forward over reverse)
 *   jac, hess   compressed sweeps: forward over groups of columns, or reverse over groups of
 *               rows, that share no row (column) of the structural pattern
 *
 * The Jacobian and the Hessian are in sparse.c. Forward sweeps visit only the cone of their
 * seeds: the nodes that depend on them and lead to what the entry returns, so a sweep of the
 * tridiagonal Hessian of the extended Rosenbrock function costs a few nodes, not the whole
 * graph.
 *
 * Kept loops: the function sees a loop's results (a sum, a recurrence's last states) as input
 * slots, and the loops' reverse results (the adjoint terms of the values an iteration reads)
 * as more slots, each seeding its value as one more root of the reverse sweep; the iterations
 * are Funcs of their own, differentiated here too (vjp, jvp, and the tangent of vjp for hvp)
 * once the function's sweeps say which strong zeros enter them.
 */
#include <stdlib.h>
#include <string.h>

#include "modes.h"

const EntryInfo entry_info[ENTRY_KINDS] = {
#define X(kind, word, suffix, sweep, scalar, kept, sparse, of, batch) \
    [ENTRY_##kind] = {word, suffix, sweep, scalar, kept, sparse, ENTRY_##of, batch},
    ENTRIES(X)
#undef X
};

EntryKind entry_of(EntryKind k)
{
    return entry_info[k].of;
}

int func_recurrences(const Func *f)
{
    int n = 0;
    for (int i = 0; i < f->nloops; i++)
        n += f->loops[i].nstate > 0;
    return n;
}

int func_runtime_columns(const Func *f)
{
    for (int p = 0; p < f->nparams; p++)
        if (f->params[p].kind == PARAM_DIFF && f->params[p].rt_size >= 0)
            return 1;
    return 0;
}

int func_dense_runtime(const Func *f)
{
    return func_runtime_columns(f) && f->entries & (1u << ENTRY_JAC | 1u << ENTRY_HESS);
}

/* Whether a kept loop reads elements of a differentiated array (of a run-time size, or one
 * kept by --unroll): its Hessian and Jacobian couple elements by the loop's index. */
static int loads_diff_array(const Func *f)
{
    for (int i = 0; i < f->nloops; i++)
        for (uint32_t l = 0; l < f->loops[i].nload; l++) {
            int p = f->loops[i].load[l].param;
            if (p >= 0 && f->params[p].kind == PARAM_DIFF)
                return 1;
        }
    return 0;
}

int func_dense_sparse(const Func *f)
{
    return func_kept(f) && !func_runtime_columns(f) && !loads_diff_array(f);
}

int func_pattern_code(const Func *f, EntryKind k)
{
    return entry_info[k].sparse &&
           (f->band.colours || (k == ENTRY_JAC_SPARSE && f->result_loop && func_dense_sparse(f)));
}

unsigned func_misfits(const Func *f)
{
    int recurrence = func_recurrences(f);
    unsigned shape = (f->vector ? ENTRIES_SCALAR : 0) |
                     (recurrence == 1 && !f->ntraj ? 0 : ENTRIES_CKP);
    if (!func_kept(f))
        return shape;
    unsigned fits = ENTRIES_KEPT;
    int dense = func_dense_sparse(f);
    /* a sparse Hessian, or a returned map's Jacobian, of run-time size: the arrays' band
     * (inputs of constant sizes beside them: the Hessian's arrow, the Jacobian's dense
     * columns); or, with inputs of constant sizes only, read by the loops as values, every
     * entry: the dense matrix's columns */
    if (!dense && !func_runtime_columns(f))
        fits &= ~(1u << ENTRY_HESS_SPARSE | 1u << ENTRY_JAC_SPARSE);
    if (!dense && !f->result_loop)
        fits &= ~(1u << ENTRY_JAC_SPARSE);
    if (recurrence)
        fits &= ~(dense ? 0 : 1u << ENTRY_HESS_SPARSE | 1u << ENTRY_JAC_SPARSE);
    for (int p = 0; p < f->nparams; p++) /* X[n][m] differentiated: n m columns */
        if (f->params[p].rt_size2 >= 0 && f->params[p].kind == PARAM_DIFF)
            fits &= ~(1u << ENTRY_JAC | 1u << ENTRY_JAC_SPARSE | ENTRIES_HESSIAN);
    if (f->result_loop) /* values of a run-time number: their products, jvp's columns */
        fits &= 1u << ENTRY_VALUE | 1u << ENTRY_JVP | 1u << ENTRY_VJP | 1u << ENTRY_JAC |
                1u << ENTRY_JAC_SPARSE;
    return (((1u << ENTRY_KINDS) - 1) & ~fits) | shape;
}

EntryKind func_columns(const Func *f, EntryKind k)
{
    if (!func_kept(f))
        return ENTRY_KINDS;
    return k == ENTRY_JAC || k == ENTRY_JAC_SPARSE ? ENTRY_JVP :
           k == ENTRY_HESS || k == ENTRY_HESS_SPARSE ? ENTRY_HVP : ENTRY_KINDS;
}

uint32_t func_directions(const Func *f)
{
    return f->directions;
}

uint8_t *func_dir_dep(const Func *f, int hessian)
{
    uint8_t *dep = xrealloc(NULL, f->dag.len);
    memset(dep, 0, f->dag.len);
    for (uint32_t k = 0; k < f->ndiff; k++)
        dep[f->input[f->dot_slot + k]] = 1;
    for (int i = 0; i < f->nloops; i++) {
        const Loop *lp = &f->loops[i];
        for (uint32_t j = 0; lp->active && j < loop_results(lp); j++)
            dep[f->input[lp->dot_slot + j]] = 1;
        for (uint32_t c = 0; hessian && c < lp->ncap + lp->nstate; c++)
            dep[f->input[loop_sweep(f, lp, ENTRY_HVP)->bar + c]] = 1;
    }
    dag_mark_readers(&f->dag, dep);
    return dep;
}

/* func_directions, once f is differentiated: the differentiated scalars when the Jacobians
 * and Hessians asked for may take one pass along them all. */
static uint32_t directions_fit(const Func *f)
{
    if (!(f->entries & (1u << ENTRY_JAC | 1u << ENTRY_JAC_SPARSE | ENTRIES_HESSIAN)) ||
        !f->nloops || func_runtime_columns(f))
        return 0;
    for (int i = 0; i < f->nloops; i++) {
        if (f->loops[i].per_step) /* its steps' tangents in the work array: by columns */
            return 0;
        for (uint32_t l = 0; l < f->loops[i].nload; l++)
            if (f->loops[i].load[l].param >= 0 &&
                f->params[f->loops[i].load[l].param].kind == PARAM_DIFF)
                return 0;
    }
    uint32_t n = f->ndiff, values = 0;
    if (n > MAX_DIRECTIONS)
        return 0;
    uint8_t *dep = func_dir_dep(f, (f->entries & ENTRIES_HESSIAN) != 0);
    for (NodeId id = 0; id < f->dag.len; id++)
        values += dep[id] && node_is_op(&f->dag, id);
    free(dep);
    return (uint64_t)values * n <= MAX_DIRECTION_VALUES ? n : 0;
}

int func_dir_entry(const Func *f, EntryKind k)
{
    return (k == ENTRY_JAC || k == ENTRY_JAC_SPARSE || k == ENTRY_HESS ||
            k == ENTRY_HESS_SPARSE) && func_directions(f);
}

unsigned func_printed(const Func *f)
{
    unsigned kinds = f->entries;
    for (int k = 0; k < ENTRY_KINDS; k++)
        if (f->entries & 1u << k && func_columns(f, (EntryKind)k) != ENTRY_KINDS &&
            !(k == ENTRY_HESS_SPARSE && f->band.elements) && /* no products: the terms' own */
            !func_dir_entry(f, (EntryKind)k)) /* its own pass of jvp's nodes */
            kinds |= 1u << func_columns(f, (EntryKind)k);
    return kinds;
}

unsigned func_built(const Func *f)
{
    unsigned kinds = func_printed(f);
    if (func_directions(f) && f->entries & (1u << ENTRY_JAC | 1u << ENTRY_JAC_SPARSE))
        kinds |= 1u << ENTRY_JVP;
    if (func_directions(f) && f->entries & ENTRIES_HESSIAN)
        kinds |= 1u << ENTRY_HVP;
    for (int k = 0; k < ENTRY_KINDS; k++)
        if (kinds & 1u << k)
            kinds |= 1u << entry_info[k].of;
    return kinds;
}

int func_check_entries(const Func *f, unsigned asked, Diag *diag)
{
    unsigned wrong = asked & func_misfits(f);
    if (!wrong)
        return 0;
    Buf names = {0}, fits = {0};
    for (int k = 0; k < ENTRY_KINDS; k++) {
        if (wrong & 1u << k)
            buf_printf(&names, "%s%s", names.len ? ", " : "", entry_info[k].word);
        else if (k != ENTRY_VALUE && !(func_misfits(f) & 1u << k))
            buf_printf(&fits, "%s%s", fits.len ? ", " : "", entry_info[k].word);
    }
    const Def *def = f->def;
    int recurrence = func_recurrences(f);
    const Param *two_sizes = NULL; /* a differentiated X[n][m] */
    for (int p = 0; p < f->nparams; p++)
        if (f->params[p].rt_size2 >= 0 && f->params[p].kind == PARAM_DIFF)
            two_sizes = &f->params[p];
    if (f->vector && (wrong & ENTRIES_SCALAR) && func_kept(f))
        diag_error(diag, def->bare ? def->loc : def->name_loc,
                   "'%s' returns several values, so it has no %s (a scalar result's); its "
                   "modes are %s", f->name, names.data, fits.data);
    else if (two_sizes && (wrong & (1u << ENTRY_JAC | 1u << ENTRY_JAC_SPARSE | ENTRIES_HESSIAN)))
        diag_error(diag, def->bare ? def->loc : def->name_loc,
                   "'%s' differentiates '%s', an array of two sizes known only at run time, so "
                   "it has no %s (a column per element); its modes are %s (or give the sizes "
                   "with -D)", f->name, two_sizes->name, names.data, fits.data);
    else if (f->result_loop)
        diag_error(diag, def->bare ? def->loc : def->name_loc,
                   "'%s' returns a number of values known only at run time, so it has no %s "
                   "yet; its modes are %s (or give the sizes with -D)", f->name, names.data,
                   fits.data);
    else if (!(wrong & ~ENTRIES_BATCH) && !(wrong & ENTRIES_SCALAR && f->vector))
        diag_error(diag, def->bare ? def->loc : def->name_loc,
                   "'%s' has %s, so it has no %s (a batched entry point is one loop over "
                   "points of one constant size); its modes are %s (or %s)", f->name,
                   f->nsizes ? "sizes known only at run time" : "loops kept by --unroll",
                   names.data, fits.data, f->nsizes ? "give the sizes with -D" :
                                                      "leave out --unroll");
    else if (!(wrong & ~ENTRIES_CKP) && recurrence && func_per_step(f))
        diag_error(diag, def->bare ? def->loc : def->name_loc,
                   "'%s' has a sum over a run-time range inside a loop over another, so it "
                   "has no %s (its sums per step are stored, which a checkpointed variant "
                   "means not to); its modes are %s", f->name, names.data, fits.data);
    else if (!(wrong & ~ENTRIES_CKP) && recurrence && f->ntraj)
        diag_error(diag, def->bare ? def->loc : def->name_loc,
                   "'%s' reads the states of its recurrence at every step after its loop, so "
                   "it has no %s (it stores them all, which a checkpointed variant means not "
                   "to); its modes are %s", f->name, names.data, fits.data);
    else if (!(wrong & ~ENTRIES_CKP) && recurrence > 1)
        diag_error(diag, def->bare ? def->loc : def->name_loc,
                   "'%s' has %d recurrences (or products) kept as loops, so it has no %s (a "
                   "checkpointed variant schedules one, not yet several); its modes are %s",
                   f->name, recurrence, names.data, fits.data);
    else if (!(wrong & ~ENTRIES_CKP))
        diag_error(diag, def->bare ? def->loc : def->name_loc,
                   "'%s' has no recurrence kept as a loop, so it has no %s (a checkpointed "
                   "variant recomputes a recurrence's steps from saved states); its modes are %s",
                   f->name, names.data, fits.data);
    else if (func_kept(f))
        diag_error(diag, def->bare ? def->loc : def->name_loc,
                   "'%s' has %s, so it has no %s yet; its modes are %s (or %s)", f->name,
                   recurrence && !(wrong & ~(1u << ENTRY_HESS_SPARSE | 1u << ENTRY_JAC_SPARSE)) ?
                   (func_dense_sparse(f) ? "a recurrence kept as a loop" :
                    "a recurrence kept as a loop and a differentiated input of a run-time "
                    "size") :
                   f->nsizes ? "sizes known only at run time" : "loops kept by --unroll",
                   names.data, fits.data, f->nsizes ? "give the sizes with -D" :
                                                      "leave out --unroll");
    else
        diag_error(diag, def->bare ? def->loc : def->name_loc,
                   "'%s' returns %d value%s, so it has no %s (a scalar result's); the modes of "
                   "a vector result are %s", f->name, f->nroots, f->nroots == 1 ? "" : "s",
                   names.data, fits.data);
    buf_free(&names);
    buf_free(&fits);
    return 1;
}

/* ---- helpers ----------------------------------------------------------------------------- */

void begin_sweep(Func *f, const char *title)
{
    NodeId first = f->dag.len;
    if (f->nsweeps > 0 && f->sweeps[f->nsweeps - 1].first == first)
        f->nsweeps--; /* the one before added nothing */
    if (f->nsweeps < MAX_SWEEPS) {
        f->sweeps[f->nsweeps].first = first;
        f->sweeps[f->nsweeps++].title = title;
    }
}

NodeId *new_ids(uint32_t n)
{
    NodeId *v = xrealloc(NULL, (n ? n : 1) * sizeof *v);
    memset(v, 0, (n ? n : 1) * sizeof *v);
    return v;
}

int nonzero(const Dag *d, NodeId n)
{
    return n && !dag_is_const(d, n, 0.0);
}

/* ---- cones: the nodes a seed reaches, on the way to what is wanted ----------------------- */

void cone_init(Cone *c, Dag *d, const NodeId *targets, uint32_t ntargets)
{
    uint32_t n = d->len;
    memset(c, 0, sizeof *c);
    c->d = d;
    c->n = n;
    c->need = xrealloc(NULL, n);
    memset(c->need, 0, n);
    for (uint32_t k = 0; k < ntargets; k++)
        c->need[targets[k]] = 1;
    c->start = xrealloc(NULL, (n + 1) * sizeof *c->start);
    memset(c->start, 0, (n + 1) * sizeof *c->start);
    for (NodeId id = n - 1; id > 0; id--) {
        if (!c->need[id])
            continue;
        const Node *nd = &d->nodes[id];
        NodeId ops[3] = {nd->a, nd->b, nd->c};
        for (int i = 0; i < node_arity(nd->kind); i++) {
            c->need[ops[i]] = 1;
            c->start[ops[i] + 1]++;
        }
    }
    for (uint32_t id = 0; id < n; id++)
        c->start[id + 1] += c->start[id];
    c->user = xrealloc(NULL, (c->start[n] + 1) * sizeof *c->user);
    uint32_t *fill = xrealloc(NULL, (n + 1) * sizeof *fill);
    memcpy(fill, c->start, (n + 1) * sizeof *fill);
    for (NodeId id = 1; id < n; id++) {
        if (!c->need[id])
            continue;
        const Node *nd = &d->nodes[id];
        NodeId ops[3] = {nd->a, nd->b, nd->c};
        for (int i = 0; i < node_arity(nd->kind); i++)
            c->user[fill[ops[i]]++] = id;
    }
    free(fill);
    c->stamp = xrealloc(NULL, n * sizeof *c->stamp);
    memset(c->stamp, 0, n * sizeof *c->stamp);
    c->tan = new_ids(n);
    c->zero = new_ids(n);
}

void cone_free(Cone *c)
{
    free(c->need);
    free(c->start);
    free(c->user);
    free(c->stamp);
    free(c->tan);
    free(c->zero);
    free(c->list);
}

static void cone_push(Cone *c, NodeId id)
{
    if (c->stamp[id] == c->generation || !c->need[id])
        return;
    c->stamp[id] = c->generation;
    if (c->nlist == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->list = xrealloc(c->list, c->cap * sizeof *c->list);
    }
    c->list[c->nlist++] = id;
}

void cone_sweep(Cone *c, const uint32_t *slots, uint32_t nslots, const NodeId *input,
                       const NodeId *seeds)
{
    c->generation++;
    c->nlist = 0;
    for (uint32_t k = 0; k < nslots; k++)
        cone_push(c, input[slots[k]]);
    for (uint32_t k = 0; k < c->nlist; k++)
        for (uint32_t u = c->start[c->list[k]]; u < c->start[c->list[k] + 1]; u++)
            cone_push(c, c->user[u]);
    if (c->nlist > 1)
        qsort(c->list, c->nlist, sizeof *c->list, node_id_order);
    forward_sweep_nodes(c->d, c->list, c->nlist, seeds, c->tan, c->zero);
}

void cone_clear(Cone *c)
{
    for (uint32_t k = 0; k < c->nlist; k++)
        c->tan[c->list[k]] = c->zero[c->list[k]] = 0;
}
/* ---- the gradient, jvp, vjp, hvp --------------------------------------------------------- */

uint8_t *diff_mask(const Func *f)
{
    uint8_t *wrt = xrealloc(NULL, f->nslots + 1);
    memset(wrt, 0, f->nslots + 1);
    for (uint32_t k = 0; k < f->ndiff; k++)
        wrt[f->diff[k]] = 1;
    return wrt;
}

/* A result's strong-zero condition, given the sweep's, cond, for its node (0: none): in a
 * loop's iteration, a result that is structurally 0 always is one, as the unrolled form has no
 * term there (what the loop sums of it makes nothing live). */
static NodeId strong_zero(Func *f, NodeId node, NodeId cond)
{
    if (f->iteration && !nonzero(&f->dag, node))
        return dag_const(&f->dag, 1.0);
    return node ? cond : 0;
}

/* Per differentiated scalar: its adjoint in adj, the constant 0 where it has none. */
static NodeId *input_adjoints(Func *f, const NodeMap *adj)
{
    NodeId *v = new_ids(f->ndiff), zero = dag_const(&f->dag, 0.0);
    for (uint32_t k = 0; k < f->ndiff; k++) {
        NodeId a = adj->of[f->input[f->diff[k]]];
        v[k] = a ? a : zero;
    }
    return v;
}

/* ---- kept loops -------------------------------------------------------------------------- */

char *func_sizes_list(const Func *f)
{
    if (!f->nsizes)
        return NULL;
    Buf b = {0};
    for (int k = 0; k < f->nsizes; k++)
        buf_printf(&b, "%s%s", k ? ", " : "", f->size[k]);
    return b.data;
}

/* Per state of recurrence lp: whether it is active, from what state_active holds (its first
 * value's), growing it: a state is also when its next value reads an active input. Returns
 * whether it grew. */
static int states_activity(Loop *lp)
{
    Func *body = lp->body;
    int grown = 0;
    uint8_t *reach = xrealloc(NULL, body->dag.len);
    for (int changed = lp->active && lp->nstate; changed;) {
        changed = 0;
        for (uint32_t j = 0; j < lp->nstate; j++) {
            if (lp->state_active[j])
                continue;
            memset(reach, 0, body->dag.len);
            reach[body->roots[j]] = 1;
            dag_reach(&body->dag, body->roots[j], reach);
            for (uint32_t s = 0; s < body->ninputs && !lp->state_active[j]; s++) {
                int in = s >= loop_state_slot(lp, 0) && s < loop_cap_slot(lp, 0) ?
                         lp->state_active[s - loop_state_slot(lp, 0)] :
                         s > 0 && body->params[s].kind == PARAM_DIFF;
                lp->state_active[j] = in && reach[body->input[s]];
            }
            changed |= lp->state_active[j];
        }
        grown |= changed;
    }
    free(reach);
    for (uint32_t j = 0; j < lp->nstate; j++)
        body->params[loop_state_slot(lp, j)].kind = lp->state_active[j] ? PARAM_DIFF : PARAM_DATA;
    return grown;
}

/* The kinds of loop lp's loads in its iteration: differentiated where load_diff says. */
static int loads_activity(const Func *f, Loop *lp)
{
    int active = 0;
    for (uint32_t l = 0; l < lp->nload; l++) {
        int diff = load_diff(f, &lp->load[l]);
        lp->body->params[loop_load_slot(lp, l)].kind = diff ? PARAM_DIFF : PARAM_DATA;
        active |= diff;
    }
    return active;
}

static void loop_activity(const Func *f, Loop *lp, const uint8_t *dep);

/* Recurrence lp (loop r) and the sums per step it computes in its loop, which read its states
 * and which it reads, active together: a sum read the states at a step before the
 * recurrence's activity was known, the recurrence read the sums' before theirs was. */
static void hosted_activity(const Func *f, int r, const uint8_t *dep)
{
    Loop *lp = &f->loops[r];
    for (int grown = 1; grown;) { /* until no state becomes active (the sums read each) */
        int hosts = 0;
        for (int i = 0; i < r; i++) {
            Loop *ps = &f->loops[i];
            if (ps->host != r + 1)
                continue;
            if (!ps->cap_active)
                loop_activity(f, ps, dep);
            ps->active |= lp->active;
            loads_activity(f, ps);
            hosts = 1;
        }
        if (hosts)
            lp->active |= loads_activity(f, lp);
        grown = hosts && states_activity(lp);
    }
}

/* Whether kept loop lp depends on a differentiated input (`active`), and which of its
 * captures do, given dep (per node of the function before it: whether it does). A sum per
 * step a recurrence computes in its loop is the recurrence's (hosted_activity). */
static void loop_activity(const Func *f, Loop *lp, const uint8_t *dep)
{
    Func *body = lp->body;
    if (lp->host && !f->loops[lp->host - 1].cap_active) {
        loop_activity(f, &f->loops[lp->host - 1], dep);
        return;
    }
    lp->cap_active = xrealloc(NULL, lp->ncap + 1);
    for (uint32_t j = 0; j < lp->nstate; j++)
        lp->active |= dep[lp->init[j]];
    for (uint32_t l = 0; l < lp->nload; l++) {
        Loop *rec = load_traj(&lp->load[l]) ? &f->loops[f->traj[-1 - lp->load[l].param].loop] :
                                            NULL;
        if (rec && !rec->cap_active) /* a trajectory: the recurrence's activity first */
            loop_activity(f, rec, dep);
    }
    lp->active |= loads_activity(f, lp);
    uint32_t cap0 = loop_cap_slot(lp, 0);
    for (uint32_t c = 0; c < lp->ncap; c++) {
        lp->cap_active[c] = dep[lp->cap[c]];
        body->params[cap0 + c].kind = dep[lp->cap[c]] ? PARAM_DIFF : PARAM_DATA;
        lp->active |= dep[lp->cap[c]];
    }
    /* a state is active when its first value is, or its next one reads an active input */
    lp->state_active = xrealloc(NULL, lp->nstate + 1);
    for (uint32_t j = 0; j < lp->nstate; j++)
        lp->state_active[j] = dep[lp->init[j]];
    states_activity(lp);
    if (lp->nstate)
        hosted_activity(f, (int)(lp - f->loops), dep);
}

/* Which kept sums depend on a differentiated input (`active`), and which of their captures do;
 * the iterations differentiate with respect to those and to the loads of differentiated
 * arrays. */
static void loops_activity(Func *f, const uint8_t *wrt)
{
    const Dag *d = &f->dag;
    uint8_t *dep = xrealloc(NULL, f->nprimal);
    int *loop_of = xrealloc(NULL, (f->ninputs + 1) * sizeof *loop_of);
    for (uint32_t s = 0; s < f->ninputs; s++)
        loop_of[s] = -1;
    for (int i = 0; i < f->nloops; i++)
        for (uint32_t j = 0; j < loop_results(&f->loops[i]); j++)
            loop_of[f->loops[i].slot + j] = i;
    dep[0] = 0;
    for (NodeId id = 1; id <= f->nprimal; id++) {
        if (id == f->nprimal) { /* then the loops the function does not read: a result */
            for (int i = 0; i < f->nloops; i++)
                if (!f->loops[i].cap_active)
                    loop_activity(f, &f->loops[i], dep);
            break;
        }
        const Node *nd = &d->nodes[id];
        if (nd->kind != N_INPUT) {
            dep[id] = dep[nd->a] | dep[nd->b] | dep[nd->c];
            continue;
        }
        uint32_t s = (uint32_t)nd->k;
        dep[id] = s < f->ninputs && wrt[s];
        /* a sum its recurrence computes in its loop: with the recurrence, whose sums' captures
         * all come before its results (the function reads the sum only through it) */
        if (s >= f->ninputs || loop_of[s] < 0 || f->loops[loop_of[s]].host)
            continue;
        Loop *lp = &f->loops[loop_of[s]];
        if (!lp->cap_active)
            loop_activity(f, lp, dep);
        dep[id] = (uint8_t)lp->active;
    }
    free(dep);
    free(loop_of);
}

/* A recurrence's tape: the nodes its reverse loop reads that depend on the states and not on
 * the adjoints (the bar slots), and that a node depending on the adjoints reads (or that are
 * an output): what the forward loop stores for it. */
static void loop_tape(Loop *lp)
{
    const Func *body = lp->body;
    const Dag *d = &body->dag;
    uint32_t n = d->len, st0 = loop_state_slot(lp, 0);
    uint8_t *reach = xrealloc(NULL, n), *bar = xrealloc(NULL, n), *state = xrealloc(NULL, n);
    uint8_t *tape = xrealloc(NULL, n);
    memset(reach, 0, n);
    memset(tape, 0, n);
    bar[0] = state[0] = 0;
    const NodeId *vjp = body->mode[ENTRY_VJP].node;
    for (uint32_t k = 0; k < body->ndiff; k++)
        reach[vjp[k]] = 1;
    dag_reach(d, n - 1, reach);
    for (NodeId id = 1; id < n; id++) {
        const Node *nd = &d->nodes[id];
        if (nd->kind == N_INPUT) { /* k: a slot (a constant's is a number, maybe 1e308) */
            uint32_t s = (uint32_t)nd->k;
            bar[id] = s >= body->bar_slot && s < body->bar_slot + (uint32_t)body->nroots;
            state[id] = s >= st0 && s < st0 + lp->nstate;
        } else {
            bar[id] = bar[nd->a] | bar[nd->b] | bar[nd->c];
            state[id] = state[nd->a] | state[nd->b] | state[nd->c];
        }
    }
    for (NodeId id = 1; id < n; id++) {
        if (!reach[id] || !bar[id])
            continue;
        const Node *nd = &d->nodes[id];
        NodeId ops[3] = {nd->a, nd->b, nd->c};
        for (int i = 0; i < node_arity(nd->kind); i++)
            tape[ops[i]] |= !bar[ops[i]] && state[ops[i]];
    }
    for (uint32_t k = 0; k < body->ndiff; k++)
        tape[vjp[k]] |= !bar[vjp[k]] && state[vjp[k]];
    /* what an addition or a product of taped values gives is computed again, not taped */
    for (NodeId id = n - 1; id > 0; id--) {
        const Node *nd = &d->nodes[id];
        if (!tape[id] || nd->kind == N_INPUT || op_info[nd->kind].cost > 1)
            continue;
        tape[id] = 0;
        NodeId ops[3] = {nd->a, nd->b, nd->c};
        for (int i = 0; i < node_arity(nd->kind); i++)
            tape[ops[i]] |= state[ops[i]];
    }
    lp->tape = new_ids(n);
    lp->ntape = 0;
    for (NodeId id = 1; id < n; id++)
        if (tape[id])
            lp->tape[lp->ntape++] = id;
    free(reach);
    free(bar);
    free(state);
    free(tape);
}

/* Whether the sweep of an entry point in `kinds` has a strong-zero condition at i: of a
 * seed (per result), else of a capture's tangent. */
static int any_zero(const Func *f, const Loop *lp, unsigned kinds, int seed, uint32_t i)
{
    for (int k = 0; k < ENTRY_KINDS; k++) {
        const LoopSweep *sw = loop_sweep(f, lp, k);
        const NodeId *z = seed ? sw->seed_zero : sw->cap_dot_zero;
        if ((kinds >> k & 1) && z && z[i])
            return 1;
    }
    return 0;
}

/* Which states of a recurrence carry a strong-zero flag through its reverse loops
 * (lp->state_flag, set before the sweeps by unread_states): those whose seed may be a strong
 * zero in some sweep (once they are made), then each state whose step reads it into no next
 * value but such states' (its adjoint's terms are all theirs). A state a later loop reads at
 * every step never is one: the readers' adjoints join its own at every step. */
static void state_flags(const Func *f, Loop *lp)
{
    const Func *body = lp->body;
    uint32_t n = lp->nstate;
    uint8_t *flag = lp->state_flag;
    if (!n || !lp->active)
        return;
    uint8_t *reads = xrealloc(NULL, (size_t)n * n), *reach = xrealloc(NULL, body->dag.len);
    for (uint32_t j = 0; j < n; j++) { /* reads[s * n + j]: state j's next value reads s */
        memset(reach, 0, body->dag.len);
        reach[body->roots[j]] = 1;
        dag_reach(&body->dag, body->roots[j], reach);
        for (uint32_t s = 0; s < n; s++)
            reads[(size_t)s * n + j] = lp->state_active[j] &&
                                       reach[body->input[loop_state_slot(lp, s)]];
    }
    for (uint32_t j = 0; j < n; j++)
        flag[j] |= lp->state_active[j] && !(lp->traj && lp->traj[j]) &&
                   any_zero(f, lp, ENTRIES_REVERSE, 1, j);
    for (int changed = 1; changed;) {
        changed = 0;
        for (uint32_t s = 0; s < n; s++) {
            int all = lp->state_active[s] && !flag[s] && !(lp->traj && lp->traj[s]);
            for (uint32_t j = 0; all && j < n; j++)
                all = !reads[(size_t)s * n + j] || flag[j];
            flag[s] |= all;
            changed |= all;
        }
    }
    free(reads);
    free(reach);
}

/* A body's strong-zero conditions of what crosses into it, its flag slots: per capture (its
 * tangent), per result (its cotangent, its cotangent's tangent). Only a flag some entry
 * point has a condition for, or a recurrence carries, is read: the others are never. */
static void body_flags(const Func *f, Loop *lp)
{
    Func *body = lp->body;
    uint32_t nout = loop_results(lp);
    NodeId *z = new_ids(body->ninputs + 2 * nout);
    state_flags(f, lp);
    for (uint32_t c = 0; c < lp->ncap; c++)
        if (any_zero(f, lp, ENTRIES_TANGENTS, 0, c))
            z[loop_cap_slot(lp, c)] = body->input[loop_cap_flag(lp, c)];
    /* a recurrence's seeds are the adjoints it carries: a flag where it carries one */
    for (uint32_t j = 0; j < nout; j++) {
        if (lp->nstate ? loop_state_flag(lp, j) : any_zero(f, lp, ENTRIES_REVERSE, 1, j))
            z[body->ninputs + j] = body->input[loop_seed_flag(lp, j)];
        if (lp->nstate ? loop_state_flag(lp, j) && func_built(f) & 1u << ENTRY_HVP :
                         any_zero(f, lp, 1u << ENTRY_HVP, 1, j))
            z[body->ninputs + nout + j] = body->input[loop_seed_dot_flag(lp, j)];
    }
    body->slot_zero = z;
    body->root_zero = z + body->ninputs;
    body->root_dot_zero = z + body->ninputs + nout;
    uint8_t *none = body->none = xrealloc(NULL, body->ninputs + 2 * nout);
    memset(none, 0, body->ninputs);
    /* a recurrence's seeds are the states' adjoints it carries, a returned map's the caller's,
     * a sum per step's its readers' in the work array */
    memset(none + body->ninputs, !lp->result && !lp->nstate && !lp->per_step, 2 * nout);
    for (uint32_t c = 0; c < lp->ncap; c++)
        none[loop_cap_slot(lp, c)] = 1;
    for (int k = 0; k < ENTRY_KINDS; k++) {
        const LoopSweep *sw = loop_sweep(f, lp, (EntryKind)k);
        if (entry_of((EntryKind)k) != (EntryKind)k)
            continue;
        for (uint32_t c = 0; sw->cap_dot && c < lp->ncap; c++)
            none[loop_cap_slot(lp, c)] &= !nonzero(&f->dag, sw->cap_dot[c]);
        for (uint32_t j = 0; sw->seed && !lp->result && !lp->nstate && !lp->per_step && j < nout;
             j++)
            none[body->ninputs + (k == ENTRY_HVP ? nout : 0) + j] &=
                !nonzero(&f->dag, sw->seed[j]);
    }
    /* a sum's seed that is one number in every reverse sweep through it (1 for a sum
     * returned): the iteration multiplies by that number, which folds (t * 1.0 is t) */
    body->root_seed = new_ids(nout);
    for (uint32_t j = 0; !lp->result && !lp->nstate && !lp->per_step && j < nout; j++) {
        NodeId c = 0;
        int same = 1;
        static const EntryKind reverse[] = {ENTRY_GRAD, ENTRY_VJP};
        for (int r = 0; r < 2; r++) {
            const LoopSweep *sw = loop_sweep(f, lp, reverse[r]);
            if (!sw->seed)
                continue;
            NodeId sd = sw->seed[j];
            same = same && f->dag.nodes[sd].kind == N_CONST && !sw->seed_zero[j] &&
                   (!c || memcmp(&f->dag.nodes[c].k, &f->dag.nodes[sd].k, sizeof(double)) == 0);
            c = sd;
        }
        if (same && c && nonzero(&f->dag, c))
            body->root_seed[j] = dag_const(&body->dag, f->dag.nodes[c].k);
    }
}

/* The condition that what a kept loop summed into slot `slot` is exactly 0: it then counts
 * as a strong zero, as where every term of the unrolled sum is one (and the empty sum). */
static NodeId summed_zero(Func *f, uint32_t slot)
{
    return dag_binary(&f->dag, N_EQ, f->input[slot], f->zero);
}

/* Before the sweeps: the states of recurrences whose last values nothing the sweeps
 * differentiate reads (no root of the function, no first value or capture of a kept loop),
 * which start their reverse loops as strong zeros, and those that are one through them
 * (state_flags): the adjoints of their first values are strong zeros where the flags the
 * loop carries say so (LoopSweep.zero_bar). Seeds that are strong zeros under a condition
 * add theirs once the sweeps are made (body_flags), for the loop only. */
static void unread_states(Func *f)
{
    const Dag *d = &f->dag;
    uint8_t *reach = xrealloc(NULL, d->len);
    memset(reach, 0, d->len);
    for (int k = 0; k < f->nroots; k++)
        reach[f->roots[k]] = 1;
    for (int i = 0; i < f->nloops; i++) {
        const Loop *lp = &f->loops[i];
        for (uint32_t c = 0; lp->active && c < lp->ncap + lp->nstate; c++)
            reach[c < lp->ncap ? lp->cap[c] : lp->init[c - lp->ncap]] = 1;
    }
    dag_reach(d, d->len - 1, reach);
    for (int i = 0; i < f->nloops; i++) {
        Loop *lp = &f->loops[i];
        lp->state_flag = xrealloc(NULL, lp->nstate + 1);
        memset(lp->state_flag, 0, lp->nstate + 1);
        for (uint32_t j = 0; lp->active && j < lp->nstate; j++)
            lp->state_flag[j] = lp->state_active[j] && !(lp->traj && lp->traj[j]) &&
                                !reach[f->input[lp->slot + j]];
        state_flags(f, lp);
    }
    free(reach);
}

/* The strong-zero condition of the seed of a kept loop's result j that has no adjoint (no
 * tangent of one): always one for an active recurrence's state (its adjoint starts as a
 * strong zero, which the reverse loop carries until a term comes), else none. */
static NodeId unread_state(Func *f, const Loop *lp, uint32_t j)
{
    return lp->active && lp->nstate && lp->state_active[j] ? dag_const(&f->dag, 1.0) : 0;
}

/* A reverse sweep through kept sums: each active capture is one more root, seeded with its
 * slot of the terms the reverse loop sums, and each active sum's slot is differentiated, so
 * that its adjoint is the seed of that loop. */
static void loop_reverse(Func *f, int nroots, const NodeId *roots, const NodeId *seeds,
                         const uint8_t *wrt, NodeMap *adj, NodeMap *adj_zero, EntryKind kind)
{
    uint32_t n = (uint32_t)nroots;
    for (int i = 0; i < f->nloops; i++)
        n += f->loops[i].active ? f->loops[i].ncap + f->loops[i].nstate : 0;
    NodeId *r = new_ids(n), *sd = new_ids(n), *sz = new_ids(n);
    uint8_t *w = xrealloc(NULL, f->nslots + 1);
    memcpy(w, wrt, f->nslots + 1);
    memcpy(r, roots, (size_t)nroots * sizeof *r);
    memcpy(sd, seeds, (size_t)nroots * sizeof *sd);
    n = (uint32_t)nroots;
    for (int i = 0; i < f->nloops; i++) {
        Loop *lp = &f->loops[i];
        if (!lp->active)
            continue;
        for (uint32_t j = 0; j < loop_results(lp); j++)
            w[lp->slot + j] = 1;
        for (uint32_t c = 0; c < lp->ncap + lp->nstate; c++, n++) {
            r[n] = c < lp->ncap ? lp->cap[c] : lp->init[c - lp->ncap];
            sd[n] = f->input[loop_bar(f, lp, kind) + c];
            const LoopSweep *sw = loop_sweep(f, lp, kind);
            sz[n] = c < lp->ncap ? summed_zero(f, sw->live_bar + c) :
                    loop_state_flag(lp, c - lp->ncap) ? f->input[sw->zero_bar + c - lp->ncap] : 0;
        }
    }
    for (int k = 0; f->root_zero && k < nroots; k++)
        sz[k] = f->root_zero[k];
    reverse_sweep_z(&f->dag, (int)n, r, sd, sz, w, adj, adj_zero);
    for (int i = 0; i < f->nloops; i++) {
        const Loop *lp = &f->loops[i];
        LoopSweep *sw = loop_sweep(f, lp, kind);
        sw->seed = new_ids(loop_results(lp));
        sw->seed_zero = new_ids(loop_results(lp));
        for (uint32_t j = 0; j < loop_results(lp); j++) {
            NodeId a = lp->active ? adj->of[f->input[lp->slot + j]] : 0;
            sw->seed[j] = a ? a : f->zero;
            /* a trajectory's adjoints join the state's in the loop: never a strong zero; a
             * state whose last value is not read starts as one */
            sw->seed_zero[j] = lp->traj && lp->traj[j] ? 0 :
                               a ? adj_zero->of[f->input[lp->slot + j]] :
                               unread_state(f, lp, j);
        }
    }
    free(r);
    free(sd);
    free(sz);
    free(w);
}

static void gradient(Func *f)
{
    Dag *d = &f->dag;
    uint8_t *wrt = diff_mask(f);
    begin_sweep(f, "reverse sweep (eq. 5.145)");
    NodeId seed = dag_const(d, 1.0);
    NodeMap adj_zero;
    loop_reverse(f, 1, f->roots, &seed, wrt, &f->adj, &adj_zero, ENTRY_GRAD);
    nodemap_free(&adj_zero);
    NodeId zero = dag_const(d, 0.0);
    NodeId *grad = f->mode[ENTRY_GRAD].node = new_ids(f->ninputs);
    for (uint32_t s = 0; s < f->ninputs; s++)
        grad[s] = f->adj.of[f->input[s]] ? f->adj.of[f->input[s]] : zero;
    free(wrt);
}

/* Seeds per slot: the tangent inputs on the differentiated slots, 0 elsewhere (and where a
 * loop's iteration gets none). */
static NodeId *tangent_seeds(const Func *f)
{
    NodeId *seeds = new_ids(f->nslots);
    for (uint32_t k = 0; k < f->ndiff; k++)
        if (!f->none || !f->none[f->diff[k]])
            seeds[f->diff[k]] = f->input[f->dot_slot + k];
    return seeds;
}

static void jvp(Func *f)
{
    Dag *d = &f->dag;
    NodeId *seeds = tangent_seeds(f), zero = dag_const(d, 0.0);
    NodeMap tan, tan_zero;
    NodeId *sz = new_ids(f->nslots);
    for (uint32_t s = 0; f->slot_zero && s < f->ninputs; s++)
        sz[s] = f->slot_zero[s];
    for (int i = 0; i < f->nloops; i++) {
        const Loop *lp = &f->loops[i];
        for (uint32_t j = 0; j < loop_results(lp); j++)
            if (loop_result_active(lp, j))
                seeds[lp->slot + j] = f->input[lp->dot_slot + j];
        sz[lp->slot] = lp->nstate || !lp->active ? 0 :
                       summed_zero(f, loop_sweep(f, lp, ENTRY_JVP)->live_dot);
    }
    begin_sweep(f, "tangent sweep (eq. 5.121)");
    forward_sweep_z(d, f->nprimal, seeds, sz, &tan, &tan_zero);
    free(sz);
    for (int i = 0; i < f->nloops; i++) {
        const Loop *lp = &f->loops[i];
        LoopSweep *sw = loop_sweep(f, lp, ENTRY_JVP);
        sw->cap_dot = new_ids(lp->ncap + lp->nstate);
        sw->cap_dot_zero = new_ids(lp->ncap);
        for (uint32_t c = 0; c < lp->ncap + lp->nstate; c++) {
            NodeId v = c < lp->ncap ? lp->cap[c] : lp->init[c - lp->ncap];
            sw->cap_dot[c] = tan.of[v] ? tan.of[v] : zero;
            if (c < lp->ncap)
                sw->cap_dot_zero[c] = tan_zero.of[v];
        }
    }
    Derived *m = &f->mode[ENTRY_JVP];
    m->node = new_ids((uint32_t)f->nroots);
    m->zero = new_ids((uint32_t)f->nroots);
    for (int r = 0; r < f->nroots; r++) {
        m->node[r] = tan.of[f->roots[r]] ? tan.of[f->roots[r]] : zero;
        m->zero[r] = strong_zero(f, tan.of[f->roots[r]], tan_zero.of[f->roots[r]]);
    }
    nodemap_free(&tan_zero);
    nodemap_free(&tan);
    free(seeds);
}

static void vjp(Func *f)
{
    uint8_t *wrt = diff_mask(f);
    NodeId *seeds = new_ids((uint32_t)f->nroots);
    for (int r = 0; r < f->nroots; r++)
        if (f->root_seed && f->root_seed[r])
            seeds[r] = f->root_seed[r];
        else if (!f->none || !f->none[f->ninputs + (uint32_t)r])
            seeds[r] = f->input[f->bar_slot + (uint32_t)r];
    NodeMap adj, adj_zero;
    begin_sweep(f, "reverse sweep (eq. 5.145)");
    loop_reverse(f, f->nroots, f->roots, seeds, wrt, &adj, &adj_zero, ENTRY_VJP);
    Derived *m = &f->mode[ENTRY_VJP];
    m->node = input_adjoints(f, &adj);
    m->zero = new_ids(f->ndiff);
    for (uint32_t k = 0; k < f->ndiff; k++)
        m->zero[k] = strong_zero(f, adj.of[f->input[f->diff[k]]],
                                 adj_zero.of[f->input[f->diff[k]]]);
    nodemap_free(&adj);
    nodemap_free(&adj_zero);
    free(seeds);
    free(wrt);
}

NodeId *gradient_targets(const Func *f)
{
    NodeId *g = new_ids(f->ndiff);
    for (uint32_t k = 0; k < f->ndiff; k++)
        g[k] = f->mode[ENTRY_GRAD].node[f->diff[k]];
    return g;
}

/* Forward over reverse: the tangent of the gradient along the tangent inputs. Through kept
 * sums: their slots are seeded with their tangents, and the slots of the captures' adjoint
 * terms with theirs (which the loops compute), and the captures and the sums' adjoints are
 * targets too (the loops read their tangents). */
static void hvp(Func *f)
{
    Dag *d = &f->dag;
    NodeId *seeds = tangent_seeds(f), zero = dag_const(d, 0.0), *g = gradient_targets(f);
    uint32_t nt = f->ndiff, ns = f->ndiff;
    for (int i = 0; i < f->nloops; i++)
        if (f->loops[i].active)
            nt += f->loops[i].ncap + 2 * loop_results(&f->loops[i]),
            ns += f->loops[i].ncap + 2 * loop_results(&f->loops[i]);
    NodeId *targets = new_ids(nt);
    uint32_t *slots = xrealloc(NULL, (ns + 1) * sizeof *slots);
    memcpy(targets, g, f->ndiff * sizeof *g);
    memcpy(slots, f->diff, f->ndiff * sizeof *slots);
    nt = ns = f->ndiff;
    /* a loop's results, seeded with their tangents; the adjoints it gives (a sum's captures',
     * a recurrence's also its states' first values'), with theirs; the seeds of its reverse
     * loop and what it reads of the function are targets */
    for (int i = 0; i < f->nloops; i++) {
        const Loop *lp = &f->loops[i];
        if (!lp->active)
            continue;
        const LoopSweep *gs = loop_sweep(f, lp, ENTRY_GRAD), *hs = loop_sweep(f, lp, ENTRY_HVP);
        for (uint32_t j = 0; j < loop_results(lp); j++) {
            if (loop_result_active(lp, j))
                seeds[lp->slot + j] = f->input[lp->dot_slot + j];
            slots[ns++] = lp->slot + j;
            targets[nt++] = gs->seed[j];
        }
        for (uint32_t c = 0; c < lp->ncap + lp->nstate; c++) {
            seeds[gs->bar + c] = f->input[hs->bar + c];
            slots[ns++] = gs->bar + c;
            targets[nt++] = c < lp->ncap ? lp->cap[c] : lp->init[c - lp->ncap];
        }
    }
    Cone cone;
    cone_init(&cone, d, targets, nt);
    for (int i = 0; i < f->nloops; i++) {
        const Loop *lp = &f->loops[i];
        if (!lp->active || lp->nstate) /* a recurrence's results and adjoints are no sums */
            continue;
        const LoopSweep *gs = loop_sweep(f, lp, ENTRY_GRAD), *hs = loop_sweep(f, lp, ENTRY_HVP);
        cone.zero[f->input[lp->slot]] = summed_zero(f, hs->live_dot);
        for (uint32_t c = 0; c < lp->ncap; c++)
            cone.zero[f->input[gs->bar + c]] = summed_zero(f, hs->live_bar + c);
    }
    for (int i = 0; i < f->nloops; i++) {
        const Loop *lp = &f->loops[i];
        const LoopSweep *gs = loop_sweep(f, lp, ENTRY_GRAD), *hs = loop_sweep(f, lp, ENTRY_HVP);
        for (uint32_t j = 0; lp->active && j < lp->nstate; j++)
            if (loop_state_flag(lp, j))
                cone.zero[f->input[gs->bar + lp->ncap + j]] = f->input[hs->zero_bar + j];
    }
    begin_sweep(f, "tangent sweep of both (forward over reverse)");
    cone_sweep(&cone, slots, ns, f->input, seeds);
    NodeId *hv = f->mode[ENTRY_HVP].node = new_ids(f->ndiff);
    for (uint32_t k = 0; k < f->ndiff; k++)
        hv[k] = cone.tan[g[k]] ? cone.tan[g[k]] : zero;
    for (int i = 0; i < f->nloops; i++) {
        const Loop *lp = &f->loops[i];
        LoopSweep *hs = loop_sweep(f, lp, ENTRY_HVP);
        uint32_t nout = loop_results(lp);
        hs->seed = new_ids(nout);
        hs->seed_zero = new_ids(nout);
        for (uint32_t j = 0; j < nout; j++) {
            NodeId s = loop_sweep(f, lp, ENTRY_GRAD)->seed[j];
            hs->seed[j] = lp->active && cone.tan[s] ? cone.tan[s] : zero;
            /* a trajectory's adjoints' tangents join the state's in the loop */
            hs->seed_zero[j] = lp->traj && lp->traj[j] ? 0 :
                               lp->active && cone.tan[s] ? cone.zero[s] :
                               unread_state(f, lp, j);
        }
        hs->cap_dot = new_ids(lp->ncap + lp->nstate);
        hs->cap_dot_zero = new_ids(lp->ncap + lp->nstate);
        for (uint32_t c = 0; c < lp->ncap + lp->nstate; c++) {
            NodeId v = c < lp->ncap ? lp->cap[c] : lp->init[c - lp->ncap];
            int has = lp->active && cone.tan[v];
            hs->cap_dot[c] = has ? cone.tan[v] : zero;
            hs->cap_dot_zero[c] = has ? cone.zero[v] : 0;
        }
    }
    cone_free(&cone);
    free(seeds);
    free(g);
    free(targets);
    free(slots);
}

/* A kept loop's iteration: the tangent of its vjp along the dot and bar_dot slots (what the
 * loop of a Hessian-vector product sums). */
static void vjp_tangent(Func *f)
{
    Dag *d = &f->dag;
    NodeId *seeds = tangent_seeds(f), zero = dag_const(d, 0.0);
    uint32_t *slots = xrealloc(NULL, (f->ndiff + (uint32_t)f->nroots + 1) * sizeof *slots);
    memcpy(slots, f->diff, f->ndiff * sizeof *slots);
    for (int r = 0; r < f->nroots; r++) {
        if (!f->none[f->ninputs + (uint32_t)f->nroots + (uint32_t)r])
            seeds[f->bar_slot + (uint32_t)r] = f->input[f->bar_dot_slot + (uint32_t)r];
        slots[f->ndiff + (uint32_t)r] = f->bar_slot + (uint32_t)r;
    }
    Cone cone;
    const NodeId *vjp = f->mode[ENTRY_VJP].node;
    cone_init(&cone, d, vjp, f->ndiff);
    for (uint32_t k = 0; f->slot_zero && k < f->ndiff; k++)
        cone.zero[f->input[f->diff[k]]] = f->slot_zero[f->diff[k]];
    for (int r = 0; f->root_dot_zero && r < f->nroots; r++)
        cone.zero[f->input[f->bar_slot + (uint32_t)r]] = f->root_dot_zero[r];
    begin_sweep(f, "tangent sweep of both (forward over reverse)");
    cone_sweep(&cone, slots, f->ndiff + (uint32_t)f->nroots, f->input, seeds);
    Derived *m = &f->mode[ENTRY_HVP];
    m->node = new_ids(f->ndiff);
    m->zero = new_ids(f->ndiff);
    for (uint32_t k = 0; k < f->ndiff; k++) {
        m->node[k] = cone.tan[vjp[k]] ? cone.tan[vjp[k]] : zero;
        m->zero[k] = strong_zero(f, cone.tan[vjp[k]], cone.zero[vjp[k]]);
    }
    cone_free(&cone);
    free(seeds);
    free(slots);
}

/* ---- the whole --------------------------------------------------------------------------- */

/* The patterns of a sparse Jacobian (of a constant number of values) and Hessian through
 * kept loops whose columns are all of constant sizes: every entry, by row then column (the
 * Hessian's lower triangle), computed by the dense matrix's columns. */
static void dense_patterns(Func *f)
{
    for (int h = 0; h < 2; h++) {
        EntryKind k = h ? ENTRY_HESS_SPARSE : ENTRY_JAC_SPARSE;
        if (!(f->entries & 1u << k) || (!h && f->result_loop))
            continue;
        Sparse *sp = &f->mode[h ? ENTRY_HESS : ENTRY_JAC].sparse;
        uint32_t rows = h ? f->ndiff : (uint32_t)f->nroots;
        sp->nnz = 0;
        sp->row = xrealloc(NULL, ((size_t)rows * f->ndiff + 1) * sizeof *sp->row);
        sp->col = xrealloc(NULL, ((size_t)rows * f->ndiff + 1) * sizeof *sp->col);
        for (uint32_t i = 0; i < rows; i++)
            for (uint32_t j = 0; j < (h ? i + 1 : f->ndiff); j++, sp->nnz++) {
                sp->row[sp->nnz] = i;
                sp->col[sp->nnz] = j;
            }
        sp->groups = f->ndiff;
    }
}

void func_differentiate(Func *f)
{
    Dag *d = &f->dag;
    unsigned want = func_built(f);
    f->nprimal = d->len;
    /* a gradient takes about twice the primal's nodes more (its adjoints and their terms) */
    dag_reserve(d, (uint32_t)(3 * (uint64_t)d->len < UINT32_MAX ? 3 * (uint64_t)d->len :
                              UINT32_MAX));
    f->ndiff = 0;
    for (int p = 0; p < f->nparams; p++)
        f->ndiff += f->params[p].kind == PARAM_DIFF ? f->params[p].size : 0;
    f->diff = new_ids(f->ndiff);
    for (int p = 0, k = 0; p < f->nparams; p++)
        for (uint32_t i = 0; f->params[p].kind == PARAM_DIFF && i < f->params[p].size; i++)
            f->diff[k++] = f->params[p].first + i;
    /* the seeds' input slots, after the inputs' */
    f->nslots = f->ninputs;
    f->dot_slot = f->nslots;
    if (want & ENTRIES_TANGENTS)
        f->nslots += f->ndiff;
    f->bar_slot = f->nslots;
    if (want & 1u << ENTRY_VJP)
        f->nslots += (uint32_t)f->nroots;
    f->bar_dot_slot = f->nslots;
    if (f->iteration && want & 1u << ENTRY_HVP)
        f->nslots += (uint32_t)f->nroots;
    /* the kept loops': their iterations differentiated, the terms they sum */
    uint8_t *wrt = diff_mask(f);
    loops_activity(f, wrt);
    free(wrt);
    for (int k = 0; f->nloops && k < ENTRY_KINDS; k++) {
        size_t bytes = (size_t)f->nloops * sizeof *f->mode[k].loop;
        f->mode[k].loop = memset(xrealloc(NULL, bytes), 0, bytes);
    }
    for (int i = 0; i < f->nloops; i++) {
        Loop *lp = &f->loops[i];
        loop_sweep(f, lp, ENTRY_GRAD)->bar = f->nslots;
        f->nslots += lp->ncap + lp->nstate;
        loop_sweep(f, lp, ENTRY_VJP)->bar = f->nslots;
        f->nslots += want & 1u << ENTRY_VJP ? lp->ncap + lp->nstate : 0;
        lp->dot_slot = f->nslots;
        f->nslots += want & ENTRIES_TANGENTS ? loop_results(lp) : 0;
        loop_sweep(f, lp, ENTRY_HVP)->bar = f->nslots;
        f->nslots += want & 1u << ENTRY_HVP ? lp->ncap + lp->nstate : 0;
        /* whether the sums above had a live term */
        static const EntryKind bars[] = {ENTRY_GRAD, ENTRY_VJP, ENTRY_HVP};
        for (int k = 0; k < 3; k++) {
            loop_sweep(f, lp, bars[k])->live_bar = f->nslots;
            f->nslots += bars[k] == ENTRY_GRAD || want & 1u << bars[k] ? lp->ncap : 0;
            loop_sweep(f, lp, bars[k])->zero_bar = f->nslots;
            f->nslots += bars[k] == ENTRY_GRAD || want & 1u << bars[k] ? lp->nstate : 0;
        }
        for (int k = 0; k < ENTRY_KINDS; k++) {
            if (!entry_tangents(k) || entry_of(k) != (EntryKind)k) /* a variant: its own's */
                continue;
            loop_sweep(f, lp, k)->live_dot = f->nslots;
            f->nslots += want & 1u << k ? 1 : 0;
        }
        lp->body->entries = 1u << ENTRY_VALUE | (want & 1u << ENTRY_HVP) |
                            (want & ENTRIES_TANGENTS ? 1u << ENTRY_JVP : 0) |
                            (want & (1u << ENTRY_GRAD | 1u << ENTRY_VJP | 1u << ENTRY_HVP) ?
                             1u << ENTRY_VJP : 0);
    }
    f->input = xrealloc(f->input, (f->nslots + 1) * sizeof *f->input);
    for (uint32_t s = f->ninputs; s < f->nslots; s++)
        f->input[s] = dag_input(d, s);
    f->zero = dag_const(d, 0.0);
    unread_states(f);
    f->nsweeps = 0;
    begin_sweep(f, "forward sweep (eq. 5.143)");
    f->sweeps[0].first = 1;

    if (!f->vector)
        gradient(f); /* also what `adgen eval` and the tests read */
    if (want & 1u << ENTRY_JVP)
        jvp(f);
    if (want & 1u << ENTRY_VJP)
        vjp(f);
    /* with kept loops, jvp's and hvp's columns make the Jacobian and the Hessian */
    int kept = func_columns(f, ENTRY_JAC) != ENTRY_KINDS;
    if (!kept && want & (1u << ENTRY_JAC | 1u << ENTRY_JAC_SPARSE))
        modes_jacobian(f);
    if (f->iteration && want & 1u << ENTRY_HVP)
        vjp_tangent(f);
    else if (!f->vector && want & 1u << ENTRY_HVP)
        hvp(f);
    if (!kept && !f->vector && want & (1u << ENTRY_HESS | 1u << ENTRY_HESS_SPARSE))
        modes_hessian(f);
    if (f->nsweeps > 1 && f->sweeps[f->nsweeps - 1].first == d->len)
        f->nsweeps--;
    /* the iterations, once the function's sweeps say which strong zeros enter them; and
     * whether its matrices take one pass along all directions, which lays out the work */
    f->directions = directions_fit(f);
    uint32_t hess_dirs = f->entries & ENTRIES_HESSIAN ? f->directions : 0;
    Affine at;
    memset(&at, 0, sizeof at);
    for (int i = 0; i < f->nloops; i++) {
        Loop *lp = &f->loops[i];
        body_flags(f, lp);
        /* a sum's term's own Hessian, times its seed (a number, or the value the iteration's
         * seed input reads): what a banded hess-sparse adds up, where the seed is never a
         * strong zero */
        const LoopSweep *gs = loop_sweep(f, lp, ENTRY_GRAD);
        int elements = want & 1u << ENTRY_HESS_SPARSE && func_runtime_columns(f) &&
                       !lp->nstate && !lp->result && lp->active && !gs->seed_zero[0] &&
                       lp->body->entries & 1u << ENTRY_VJP;
        lp->body->entries |= elements ? 1u << ENTRY_HESS : 0;
        func_differentiate(lp->body);
        Func *body = lp->body;
        NodeId seed = body->root_seed[0] ? body->root_seed[0] : body->input[body->bar_slot];
        Sparse *eh = &body->mode[ENTRY_HESS].sparse;
        for (uint32_t k = 0; elements && k < eh->nnz; k++)
            eh->node[k] = dag_binary(&body->dag, N_MUL, seed, eh->node[k]);
        if (lp->nstate && want & ENTRIES_REVERSE)
            loop_tape(lp);
        lp->wstride = lp->ntape;
        /* hvp's steps: the states and their tangents (hess: along each direction) */
        uint32_t steps = (1 + (hess_dirs ? hess_dirs : 1)) * lp->nstate;
        if (lp->nstate && want & 1u << ENTRY_HVP && steps > lp->wstride)
            lp->wstride = steps;
        /* the recurrences' tapes one after another: wstride values a step each */
        lp->work_at = at;
        for (int s = 1; s <= MAX_SIZES; s++)
            at.c[s] += (int64_t)lp->wstride * (lp->hi.c[s] - lp->lo.c[s]);
        at.k += (int64_t)lp->wstride * (lp->hi.k - lp->lo.k + 1);
    }
    if (func_runtime_columns(f) && f->entries & (1u << ENTRY_HESS_SPARSE | 1u << ENTRY_JAC_SPARSE))
        band_find(f);
    if (func_dense_sparse(f))
        dense_patterns(f);
    /* then the trajectories: len values, and len tangents or adjoints (hvp: both, and the
     * adjoints' tangents) */
    for (int t = 0; t < f->ntraj; t++) {
        f->traj[t].at = at;
        f->traj[t].areas = want & 1u << ENTRY_HVP ? 4 : 2;
        f->traj[t].bar_area = want & 1u << ENTRY_HVP ? 2 : 1;
        f->traj[t].hv_area = 3;
        if (func_directions(f) + 1 > f->traj[t].areas)
            f->traj[t].areas = func_directions(f) + 1;
        if (hess_dirs) { /* the tangents, the adjoints, the adjoints' tangents */
            f->traj[t].bar_area = 1 + hess_dirs;
            f->traj[t].hv_area = 2 + hess_dirs;
            f->traj[t].areas = 2 + 2 * hess_dirs;
        }
        for (int s = 1; s <= MAX_SIZES; s++)
            at.c[s] += f->traj[t].areas * f->traj[t].len.c[s];
        at.k += f->traj[t].areas * f->traj[t].len.k;
    }
}
