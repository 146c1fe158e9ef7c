/*
 * loops.c: an entry point's body as C, with its kept loops' runs among its statements. Input: a
 * scheduled Body and, for a definition with kept loops, its Runs (runs.c). Output: the body:
 * the parameters it does not read marked (void), the run-time arrays' gradients zeroed, its
 * locals in order under the titles of their sweeps, each run a C `for` over its iteration's
 * body printed just before the first statement that reads what it computes, then the stores
 * and the return. Invariants: a run prints after every local it reads (a local the body has
 * later is pulled ahead, after what it reads in turn) and each local prints once; a run puts
 * back the marks it changes in its iteration's scheduler.
 */
#include <stdlib.h>
#include <string.h>

#include "adgen.h"
#include "emit.h"

static const char *const literal_zero[] = {"0.0", "0.0f", "0.0L"};
static const char *const literal_one[] = {"1.0", "1.0f", "1.0L"};

/* "for (long d = 0; d < 4; d++)": the loop over the directions of a Jacobian or a Hessian in
 * one pass, without the newline. */
static void put_dir_loop(Buf *out, const DefOut *e, const char *indent)
{
    buf_printf(out, "%sfor (long %s = 0; %s < %u; %s++)", indent, e->dir_var, e->dir_var, e->ndir,
               e->dir_var);
}

/* Where the tangent of value `row` (in iteration `var` of a returned map's loop) along
 * direction d goes: its row's column d of jac (row-major), or of jac-sparse's every entry by
 * rows, or by columns (--sparse=csc: column d's values after the d columns before it). */
static const char *dir_entry_text(const DefOut *e, const char *var, const Affine *row)
{
    const Func *f = e->s.f;
    Buf b = {0};
    Affine at = *row;
    buf_printf(&b, "%s[", e->dir_mat);
    if (e->dir_csc) {
        buf_printf(&b, "%s * ", e->dir_var);
        if (f->result_loop) {
            buf_puts(&b, "(");
            matrix_put_values_count(&b, e, 0);
            buf_puts(&b, ")");
        } else {
            buf_printf(&b, "%d", f->nroots);
        }
        buf_puts(&b, " + ");
        print_affine(&b, e, var, &at);
    } else {
        int first = at.k == 0; /* jac[d] for the first row, not jac[0 + d] */
        for (int s = 0; s <= MAX_SIZES; s++) {
            at.c[s] *= e->ndir;
            first &= at.c[s] == 0;
        }
        at.k *= e->ndir;
        if (!first) {
            print_affine(&b, e, var, &at);
            buf_puts(&b, " + ");
        }
        buf_puts(&b, e->dir_var);
    }
    buf_puts(&b, "]");
    const char *s = arena_strndup(e->s.arena, b.data, b.len);
    buf_free(&b);
    return s;
}

/* An array of the directions, `double x_dot[4];`, and the loop filling it, up to the value
 * its element `elem` (`x_dot[d]`) is assigned. */
static void put_dir_array(Buf *out, const DefOut *e, const char *base, const char *elem)
{
    buf_printf(out, "    %s %s[%u];\n", real_type[e->opt->compile.real], base, e->ndir);
    put_dir_loop(out, e, "    ");
    buf_printf(out, "\n        %s = ", elem);
}

/* ---- a run as a C loop ---------------------------------------------------------------------- */

/* A node of the function as the loop's statements read it. */
static const char *outer_text(const Printer *p, NodeId id)
{
    Buf t = {0};
    print_operand(&t, p, id, P_PRIMARY); /* the loop prints it as a name: "(-1.0)" */
    const char *s = arena_strndup(p->e->s.arena, t.data, t.len);
    buf_free(&t);
    return s;
}

/* "X[3 * i + 1]" */
static const char *load_text(const DefOut *e, const char *array, const char *var,
                             const Affine *at)
{
    Buf t = {0};
    buf_printf(&t, "%s[", array);
    print_affine(&t, e, var, at);
    buf_puts(&t, "]");
    const char *s = arena_strndup(e->s.arena, t.data, t.len);
    buf_free(&t);
    return s;
}

/* An element of jac's or hess's direction d: "work[k + 4]" with stride "(n + 1)" is
 * "work[k + 4 + d * (n + 1)]" (ref is an element, as load_text and work_text make it). */
static const char *dir_offset(const DefOut *e, const char *ref, const char *stride)
{
    Buf b = {0};
    if (strcmp(stride, "1") == 0)
        buf_printf(&b, "%.*s + %s]", (int)strlen(ref) - 1, ref, e->dir_var);
    else
        buf_printf(&b, "%.*s + %s * %s]", (int)strlen(ref) - 1, ref, e->dir_var, stride);
    const char *s = arena_strndup(e->s.arena, b.data, b.len);
    buf_free(&b);
    return s;
}

/* Where kept loop load ld's element of iteration `var` is, of `which`: its array's or its
 * trajectory's values (OUT_TRAJ), their tangents (OUT_TRAJ_DOT), their adjoints (OUT_LOAD_BAR,
 * OUT_TRAJ_ZERO: an array's gradient) or their adjoints' tangents (OUT_LOAD_HV,
 * OUT_TRAJ_HV_ZERO: an array's Hessian-vector product). */
static const char *load_ref(const DefOut *e, const Load *ld, const char *var, OutKind which)
{
    int hv = which == OUT_LOAD_HV || which == OUT_TRAJ_HV_ZERO;
    if (ld->param == LOAD_INDEX) { /* the outer variable of a sum per step, as a number */
        Buf t = {0};
        buf_printf(&t, "(%s)(", real_type[e->opt->compile.real]);
        print_affine(&t, e, var, &ld->at);
        buf_puts(&t, ")");
        const char *s = arena_strndup(e->s.arena, t.data, t.len);
        buf_free(&t);
        return s;
    }
    if (ld->param >= 0)
        return load_text(e, which == OUT_TRAJ ? e->s.param[ld->param] :
                            which == OUT_TRAJ_DOT ? e->s.dparam[ld->param] :
                            hv ? e->s.hparam[ld->param] : e->s.gparam[ld->param], var, &ld->at);
    const Traj *t = &e->s.f->traj[-1 - ld->param];
    /* its region: values, tangents, adjoints (after the values when there are no tangents),
     * the adjoints' tangents */
    int64_t region = which == OUT_TRAJ ? 0 : which == OUT_TRAJ_DOT ? 1 :
                     hv ? t->hv_area : t->bar_area;
    Affine at = ld->at;
    for (int s = 0; s <= MAX_SIZES; s++)
        at.c[s] += t->at.c[s] + region * t->len.c[s];
    at.k += t->at.k + region * t->len.k;
    const char *ref = load_text(e, e->s.work, var, &at);
    if (!e->ndir || (which != OUT_TRAJ_DOT && !hv))
        return ref;
    /* along direction d: the d-th of the regions of tangents (of adjoints' tangents) */
    Buf len = {0};
    buf_puts(&len, "(");
    print_affine(&len, e, var, &t->len);
    buf_puts(&len, ")");
    ref = dir_offset(e, ref, len.data);
    buf_free(&len);
    return ref;
}


/* Where a recurrence's state j is in its trajectory, of `which` (load_ref's): after the step
 * of iteration `var` (after: 1), or before the first step (after: 0). A recurrence starts at
 * a number. */
static const char *traj_text(const DefOut *e, const Loop *lp, uint32_t j, const char *var,
                             int after, OutKind which)
{
    Load ld;
    memset(&ld, 0, sizeof ld);
    ld.param = -lp->traj[j];
    ld.at.c[0] = after;
    ld.at.k = after ? 1 - lp->lo.k : 0;
    return load_ref(e, &ld, var, which);
}

/* A sum per step's element of its j-th sum's trajectory at the outer variable's step, of
 * `which` (load_ref's): its value, tangent, adjoint or the adjoint's tangent. */
static const char *step_ref(const DefOut *e, const Loop *lp, uint32_t j, OutKind which)
{
    Load ld;
    memset(&ld, 0, sizeof ld);
    ld.param = -lp->traj[j];
    for (int s = 1; s <= MAX_SIZES; s++)
        ld.at.c[s] = -lp->olo.c[s];
    ld.at.k = -lp->olo.k;
    ld.at.o = 1;
    return load_ref(e, &ld, "", which);
}

/* Where a recurrence's reverse loop finds tape entry t of iteration `var`: "work[2 * k + 1]";
 * in a checkpointed variant, which tapes one step at a time, "work[1]". */
static const char *work_text(const DefOut *e, const Loop *lp, const char *var, uint32_t t,
                             int ckp)
{
    Affine at = lp->work_at;
    if (ckp)
        memset(&at, 0, sizeof at);
    at.c[0] = ckp ? 0 : lp->wstride;
    at.k += (int64_t)t - at.c[0] * lp->lo.k;
    return load_text(e, e->s.work, var, &at);
}

/* Where hvp's forward loop stores state j of iteration `var` (dot: its tangent), which its
 * reverse loop steps from; with hess's directions, the tangent along direction d. */
static const char *step_text(const DefOut *e, const Loop *lp, const char *var, uint32_t j,
                             int dot)
{
    const char *ref = work_text(e, lp, var, dot ? lp->nstate + j : j, 0);
    if (!dot || !e->ndir)
        return ref;
    char stride[16];
    snprintf(stride, sizeof stride, "%u", lp->nstate);
    return dir_offset(e, ref, stride);
}

/* Whether run r of the entry point is printed as a checkpointed variant's: the forward or
 * the reverse loop of a recurrence whose reverse loop reads a tape. */
static int ckp_on(const DefOut *e, const Entry *entry, const Run *r)
{
    const Loop *lp = &e->s.f->loops[r->loop];
    return entry_of(entry->kind) != entry->kind && lp->nstate && lp->ntape &&
           (r->kind == RUN_VALUE || r->kind == RUN_REVERSE);
}

int loops_checkpoints(const DefOut *e, const Entry *entry, const Runs *rs)
{
    for (int j = 0; j < rs->n; j++)
        if (ckp_on(e, entry, &rs->run[j]))
            return 1;
    return 0;
}

/* Whether output o of a run of loop lp is a value per direction in jac's or hess's pass
 * along its directions: a tangent, an adjoint's tangent, or where one is stored. */
static int dir_output(const Loop *lp, const RunOut *o)
{
    switch (o->kind) {
    case OUT_RESULT_DOT: case OUT_TRAJ_DOT: case OUT_VALUE_DOT: case OUT_STATE_HV:
    case OUT_CAP_HV: case OUT_LOAD_HV: case OUT_TRAJ_HV_ZERO:
        return 1;
    case OUT_STEP:
        return o->idx >= lp->nstate;
    case OUT_RESULT: case OUT_LOAD_BAR: case OUT_STATE_BAR: case OUT_STATE_ZERO:
    case OUT_STATE_HV_ZERO: case OUT_CAP_BAR: case OUT_LIVE: case OUT_TAPE: case OUT_VALUE:
    case OUT_TRAJ: case OUT_TRAJ_ZERO:
        return 0;
    }
    return 0;
}

/* Keeps the outputs of kind `kind` among o[0..n) (in order); their number. */
static uint32_t keep_outputs(RunOut *o, uint32_t n, OutKind kind)
{
    uint32_t kept = 0;
    for (uint32_t k = 0; k < n; k++)
        if (o[k].kind == kind)
            o[kept++] = o[k];
    return kept;
}

/* Whether node id is a constant other than 0: a condition that always holds. */
static int nonzero_const(const Dag *d, NodeId id)
{
    return d->nodes[id].kind == N_CONST && d->nodes[id].k != 0;
}

/* Whether output k of a run assigns what the loop carries (a state, its tangent or its
 * adjoint), which the iteration's other statements read the old value of. */
static int carried(const RunOut *o, const uint8_t *adds, uint32_t k)
{
    return !adds[k] && (o[k].kind == OUT_RESULT || o[k].kind == OUT_RESULT_DOT ||
                        o[k].kind == OUT_STATE_BAR || o[k].kind == OUT_STATE_HV ||
                        o[k].kind == OUT_STATE_ZERO || o[k].kind == OUT_STATE_HV_ZERO);
}

/* Where a returned map's value j of iteration `var` is, in `array` (out, out_dot, out_bar):
 * "out[2 * i + 1]". */
static const char *value_text(const DefOut *e, const Loop *lp, const char *array,
                              const char *var, uint32_t j)
{
    Affine at;
    memset(&at, 0, sizeof at);
    at.c[0] = lp->result;
    for (int s = 1; s <= MAX_SIZES; s++)
        at.c[s] = -(int64_t)lp->result * lp->lo.c[s];
    at.k = (int64_t)j - (int64_t)lp->result * lp->lo.k;
    if (array == e->s.out_dot && e->ndir)
        return dir_entry_text(e, var, &at);
    return load_text(e, array, var, &at);
}

/* The statements of a run's iteration after its locals: first what reads the carried values
 * (sums, gradients, the tape), then the carried values' new ones, each assigned once no
 * statement left reads its old value; a cycle (states that trade values) goes through a copy
 * of one old value. */
static void put_run_outputs(Buf *out, const Printer *pr, const char *const *old,
                            const RunOut *o, const NodeId *roots, const char **into,
                            const uint8_t *adds, uint32_t n, const char *indent)
{
    const Func *body = pr->e->s.f;
    const char **name = pr->e->s.local, **from = xrealloc(NULL, (n + 1) * sizeof *from);
    uint8_t *done = xrealloc(NULL, n + 1);
    for (uint32_t k = 0; k < n; k++) {
        int input = body->dag.nodes[roots[k]].kind == N_INPUT;
        from[k] = input ? name[roots[k]] : NULL;
        done[k] = !carried(o, adds, k) || (input && from[k] == into[k]);
        if (o[k].kind == OUT_LIVE && roots[k] && nonzero_const(&body->dag, roots[k])) {
            continue; /* a term that is always a strong zero makes nothing live */
        } else if (o[k].kind == OUT_LIVE) {
            buf_puts(out, indent);
            if (roots[k]) {
                buf_puts(out, "if (!(");
                print_condition(out, pr, roots[k]);
                buf_puts(out, ")) ");
            }
            buf_printf(out, "%s = 1;\n", into[k]);
        } else if (!done[k] || (adds[k] && dag_is_const(&body->dag, roots[k], 0.0))) {
            continue;
        } else if (!(input && from[k] == into[k])) {
            buf_printf(out, "%s%s %s= ", indent, into[k], adds[k] ? "+" : "");
            print_expr(out, pr, roots[k]);
            buf_puts(out, ";\n");
        }
    }
    for (uint32_t copies = 0;;) {
        long next = -1, first = -1;
        for (uint32_t k = 0; k < n && next < 0; k++) {
            if (done[k])
                continue;
            first = first < 0 ? (long)k : first;
            int read = 0;
            for (uint32_t j = 0; j < n && !read; j++)
                read = j != k && !done[j] && from[j] == into[k];
            next = read ? -1 : (long)k;
        }
        if (first < 0)
            break;
        if (next < 0) { /* a cycle: keep the old value of the first before assigning it */
            buf_printf(out, "%sconst %s %s = %s;\n", indent,
                       real_type[pr->e->opt->compile.real], old[copies], into[first]);
            for (uint32_t j = 0; j < n; j++)
                if (!done[j] && from[j] == into[first])
                    from[j] = old[copies];
            copies++;
            next = first;
        }
        buf_printf(out, "%s%s = ", indent, into[next]);
        if (from[next])
            buf_puts(out, from[next]);
        else
            print_expr(out, pr, roots[next]);
        buf_puts(out, ";\n");
        done[next] = 1;
    }
    free(from);
    free(done);
}

/* Names the inputs of run r's iteration, as its statements read them: the index, the loads
 * and the captures, the states, the seeds of a reverse run, the tangents of a tangent run, and
 * the strong-zero flags of its tangents and seeds. Returns those flags' conditions
 * (runs_flags), allocated. */
static NodeId *name_iteration_inputs(const DefOut *e, const Entry *entry, const Body *b,
                                     const Run *r)
{
    const Func *f = e->s.f;
    const Loop *lp = &f->loops[r->loop];
    const Func *body = lp->body;
    Printer outer = {e, b, 0};
    const char *var = e->loop_var[r->loop], *real = real_type[e->opt->compile.real];
    const char **name = e->loops[r->loop].s.local, **local = e->s.local;
    uint32_t nout = loop_results(lp), st0 = 1 + lp->nload, cap0 = st0 + lp->nstate;
    uint32_t bar = loop_bar(f, lp, entry->kind);
    int rec = lp->nstate > 0, back = r->kind >= RUN_REVERSE;
    Buf t = {0};
    buf_printf(&t, "(%s)%s", real, var);
    name[body->input[0]] = arena_strndup(e->s.arena, t.data, t.len);
    buf_free(&t);
    for (uint32_t l = 0; l < lp->nload; l++)
        name[body->input[1 + l]] = load_ref(e, &lp->load[l], var, OUT_TRAJ);
    for (uint32_t c = 0; c < lp->ncap; c++)
        name[body->input[cap0 + c]] = outer_text(&outer, lp->cap[c]);
    /* the states: carried forwards; hvp's reverse loop reads them off its tape */
    int stepped = back && rec && r->kind == RUN_REVERSE_TANGENT;
    for (uint32_t j = 0; (!back || stepped) && j < lp->nstate; j++)
        name[body->input[st0 + j]] = stepped ? step_text(e, lp, var, j, 0) :
                                               local[f->input[lp->slot + j]];
    if (back) {
        uint8_t *one = e->loops[r->loop].one; /* only the reverse runs read the seeds */
        EntryKind seed = r->kind == RUN_REVERSE_TANGENT ? ENTRY_GRAD : entry->kind;
        for (uint32_t j = 0; j < nout; j++) {
            NodeId sd = rec || lp->result || lp->per_step ? 0 : loop_sweep(f, lp, seed)->seed[j];
            name[body->input[body->bar_slot + j]] =
                rec ? local[f->input[bar + lp->ncap + j]] :
                lp->result ? value_text(e, lp, e->s.out_bar, var, j) :
                lp->per_step ? step_ref(e, lp, j, OUT_TRAJ_ZERO) : outer_text(&outer, sd);
            one[body->input[body->bar_slot + j]] = sd && dag_is_const(&f->dag, sd, 1.0);
        }
        uint32_t hv = loop_sweep(f, lp, ENTRY_HVP)->bar + lp->ncap;
        for (uint32_t j = 0; r->kind == RUN_REVERSE_TANGENT && j < (rec || lp->per_step ? nout : 1);
             j++)
            name[body->input[body->bar_dot_slot + j]] =
                rec ? local[f->input[hv + j]] :
                lp->per_step ? step_ref(e, lp, j, OUT_TRAJ_HV_ZERO) :
                               outer_text(&outer, loop_sweep(f, lp, ENTRY_HVP)->seed[0]);
    }
    for (uint32_t k = 0; (r->kind == RUN_TANGENT || r->kind == RUN_REVERSE_TANGENT) &&
                         k < body->ndiff; k++) {
        uint32_t slot = body->diff[k];
        NodeId dot = body->input[body->dot_slot + k];
        if (slot < st0)
            name[dot] = load_ref(e, &lp->load[slot - 1], var, OUT_TRAJ_DOT);
        else if (slot < cap0 && stepped)
            name[dot] = step_text(e, lp, var, slot - st0, 1);
        else if (slot < cap0)
            name[dot] = local[f->input[lp->dot_slot + slot - st0]];
        else
            name[dot] = outer_text(&outer,
                                   loop_sweep(f, lp, entry->kind)->cap_dot[slot - cap0]);
    }
    NodeId *flag = runs_flags(f, lp, entry, r);
    for (uint32_t i = 0; i < lp->ncap + 2 * nout; i++)
        if (flag[i])
            name[body->input[lp->flag_slot + i]] = outer_text(&outer, flag[i]);
    /* the flags a recurrence's reverse loop carries */
    for (uint32_t j = 0; back && rec && j < nout; j++) {
        if (!loop_state_flag(lp, j))
            continue;
        name[body->input[loop_seed_flag(lp, j)]] = e->state_zero[r->loop][2 * j];
        if (r->kind == RUN_REVERSE_TANGENT)
            name[body->input[loop_seed_dot_flag(lp, j)]] = e->state_zero[r->loop][2 * j + 1];
    }
    return flag;
}

/* What a recurrence's reverse loop changes in the scheduler of its iteration's definition to
 * read the tape the forward loop stored, kept to be put back after: per tape entry its mark
 * (a leaf while the loop is scheduled and printed) and its name (its element of the work
 * array while the loop prints). */
typedef struct {
    int on;             /* a recurrence's reverse run: it reads the tape */
    uint8_t *keep;
    const char **name;
} TapeSaved;

/* Marks the tape as leaves, keeping the marks it had. */
static void tape_mark(DefOut *be, const Loop *lp, const Run *r, TapeSaved *ts)
{
    ts->on = lp->nstate > 0 && r->kind == RUN_REVERSE; /* hvp's reverse loop computes it */
    ts->name = xrealloc(NULL, (lp->ntape + 1) * sizeof *ts->name);
    ts->keep = xrealloc(NULL, lp->ntape + 1);
    for (uint32_t j = 0; ts->on && j < lp->ntape; j++) {
        ts->keep[j] = be->s.keep[lp->tape[j]];
        be->s.keep[lp->tape[j]] = KEEP_LEAF;
    }
}

/* Names the tape's entries after their elements of the work array, keeping their names. */
static void tape_name(const DefOut *e, const Run *r, TapeSaved *ts, int ckp)
{
    const Loop *lp = &e->s.f->loops[r->loop];
    const char **name = e->loops[r->loop].s.local;
    for (uint32_t j = 0; ts->on && j < lp->ntape; j++) {
        ts->name[j] = name[lp->tape[j]];
        name[lp->tape[j]] = work_text(e, lp, e->loop_var[r->loop], j, ckp);
    }
}

/* The tape's names and marks as they were. */
static void tape_put_back(DefOut *be, const Loop *lp, TapeSaved *ts)
{
    for (uint32_t j = 0; ts->on && j < lp->ntape; j++) {
        be->s.local[lp->tape[j]] = ts->name[j];
        be->s.keep[lp->tape[j]] = ts->keep[j];
    }
    free(ts->name);
    free(ts->keep);
}

/* Where each of run r's n outputs o goes, into[k]: added into a sum or a gradient (adds[k]),
 * or assigned (a state, a tape entry); roots[k] is the node computing it. */
static void route_outputs(const DefOut *e, const Entry *entry, const Run *r, const RunOut *o,
                          uint32_t n, NodeId *roots, const char **into, uint8_t *adds)
{
    const Func *f = e->s.f;
    const Loop *lp = &f->loops[r->loop];
    const char *var = e->loop_var[r->loop], **local = e->s.local;
    uint32_t bar = loop_bar(f, lp, entry->kind);
    int rec = lp->nstate > 0;
    for (uint32_t k = 0; k < n; k++) {
        const Load *ld = &lp->load[o[k].idx < lp->nload ? o[k].idx : 0];
        roots[k] = o[k].node;
        adds[k] = 1;
        switch (o[k].kind) {
        case OUT_RESULT:
            into[k] = local[f->input[lp->slot + o[k].idx]];
            adds[k] = !rec;
            break;
        case OUT_RESULT_DOT:
            into[k] = local[f->input[lp->dot_slot + o[k].idx]];
            adds[k] = !rec;
            break;
        case OUT_LOAD_BAR: into[k] = load_ref(e, ld, var, OUT_LOAD_BAR); break;
        case OUT_LOAD_HV: into[k] = load_ref(e, ld, var, OUT_LOAD_HV); break;
        case OUT_TRAJ: case OUT_TRAJ_DOT: case OUT_TRAJ_ZERO: case OUT_TRAJ_HV_ZERO:
            into[k] = traj_text(e, lp, o[k].idx, var, 1, o[k].kind);
            adds[k] = 0;
            break;
        case OUT_STATE_BAR:
            into[k] = local[f->input[bar + lp->ncap + o[k].idx]];
            adds[k] = 0;
            break;
        case OUT_STATE_HV:
            into[k] = local[f->input[loop_sweep(f, lp, ENTRY_HVP)->bar + lp->ncap + o[k].idx]];
            adds[k] = 0;
            break;
        case OUT_STATE_ZERO:
        case OUT_STATE_HV_ZERO:
            into[k] = e->state_zero[r->loop][2 * o[k].idx + (o[k].kind == OUT_STATE_HV_ZERO)];
            adds[k] = 0;
            break;
        case OUT_STEP: /* where hvp's tape keeps it, as a tape entry */
            into[k] = step_text(e, lp, var, o[k].idx % lp->nstate, o[k].idx >= lp->nstate);
            adds[k] = 0;
            break;
        case OUT_CAP_BAR: into[k] = local[f->input[bar + o[k].idx]]; break;
        case OUT_CAP_HV:
            into[k] = local[f->input[loop_sweep(f, lp, ENTRY_HVP)->bar + o[k].idx]];
            break;
        case OUT_TAPE:
            into[k] = work_text(e, lp, var, o[k].idx, ckp_on(e, entry, r));
            adds[k] = 0;
            break;
        case OUT_VALUE:
        case OUT_VALUE_DOT:
            into[k] = value_text(e, lp, o[k].kind == OUT_VALUE ? e->s.out : e->s.out_dot, var,
                                 o[k].idx);
            adds[k] = 0;
            break;
        case OUT_LIVE: into[k] = local[f->input[o[k].idx]]; break;
        }
    }
}

/* The body of run r's iteration, of its n roots, into bb; the flags that are never true in it
 * (flag[i] 0) are named e->never. Returns whether there is one. */
static int schedule_iteration(const DefOut *e, const Run *r, const NodeId *roots, uint32_t n,
                              const NodeId *flag, Body *bb)
{
    const Loop *lp = &e->s.f->loops[r->loop];
    DefOut *be = &e->loops[r->loop];
    const Func *body = lp->body;
    /* new states are assigned after every value that reads the old ones */
    for (uint32_t k = 0; lp->nstate && n > 1 && k < n; k++)
        be->s.keep[roots[k]] = 1;
    sched_body(&be->s, roots, (int)n, bb, 0);
    /* a condition that is never true here is a variable, not a constant: C++ compilers warn
     * about constant operands of && and || */
    int never = 0;
    for (uint32_t i = 0; i < lp->ncap + 2 * loop_results(lp); i++) {
        NodeId in = body->input[lp->flag_slot + i];
        if (!flag[i] && body_find(&be->s, bb, in) >= 0) {
            be->s.local[in] = e->never;
            never = 1;
        }
    }
    return never;
}

/* The declarations before the loop of what it carries: the sums at 0, the states and their
 * tangents at their first values, the states' adjoints at their seeds. */
static void put_carried(Buf *out, const DefOut *e, const Entry *entry, const Body *b,
                        const Run *r, const RunOut *o, const char *const *into, uint32_t n)
{
    const Func *f = e->s.f;
    const Loop *lp = &f->loops[r->loop];
    Printer outer = {e, b, 0};
    const char *real = real_type[e->opt->compile.real], *zero = literal_zero[e->opt->compile.real];
    const char **local = e->s.local;
    uint32_t nout = loop_results(lp);
    int rec = lp->nstate > 0, back = r->kind >= RUN_REVERSE;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t slot = runs_out_slot(f, lp, entry->kind, &o[k]);
        if (slot == UINT32_MAX)
            continue;
        if (e->ndir && dir_output(lp, &o[k])) /* a sum of tangents per direction */
            put_dir_array(out, e, e->dir_base[f->input[slot]], into[k]);
        else
            buf_printf(out, "    %s %s = ", real, into[k]);
        buf_printf(out, "%s;\n", zero);
    }
    for (uint32_t j = 0; rec && !back && j < nout; j++)
        buf_printf(out, "    %s %s = %s;\n", real, local[f->input[lp->slot + j]],
                   outer_text(&outer, lp->init[j]));
    for (uint32_t j = 0; rec && r->kind == RUN_TANGENT && j < nout; j++) {
        if (!loop_result_active(lp, j))
            continue;
        NodeId dot = f->input[lp->dot_slot + j];
        const char *first = outer_text(&outer,
                                       loop_sweep(f, lp, entry->kind)->cap_dot[lp->ncap + j]);
        if (e->ndir) /* a state's tangent per direction */
            put_dir_array(out, e, e->dir_base[dot], local[dot]);
        else
            buf_printf(out, "    %s %s = ", real, local[dot]);
        buf_printf(out, "%s;\n", first);
    }
    EntryKind seeds = r->kind == RUN_REVERSE_TANGENT ? ENTRY_GRAD : entry->kind;
    for (uint32_t k = 0; k < n; k++) {
        if (o[k].kind != OUT_STATE_BAR && o[k].kind != OUT_STATE_HV)
            continue;
        const LoopSweep *sw = loop_sweep(f, lp, o[k].kind == OUT_STATE_HV ? ENTRY_HVP : seeds);
        if (e->ndir && o[k].kind == OUT_STATE_HV) /* an adjoint's tangent per direction */
            put_dir_array(out, e, e->dir_base[f->input[sw->bar + lp->ncap + o[k].idx]],
                          into[k]);
        else
            buf_printf(out, "    %s %s = ", real, into[k]);
        buf_printf(out, "%s;\n", outer_text(&outer, sw->seed[o[k].idx]));
    }
    /* the flags of the states' adjoints (and their tangents') being strong zeros */
    for (uint32_t k = 0; k < n; k++) {
        if (o[k].kind != OUT_STATE_ZERO && o[k].kind != OUT_STATE_HV_ZERO)
            continue;
        const LoopSweep *sw = loop_sweep(f, lp, o[k].kind == OUT_STATE_HV_ZERO ? ENTRY_HVP :
                                                seeds);
        NodeId z = sw->seed_zero ? sw->seed_zero[o[k].idx] : 0;
        buf_printf(out, "    %s %s = %s;\n", real, into[k], z ? outer_text(&outer, z) : zero);
    }
    /* the trajectories' first elements: the states before the loop */
    for (uint32_t k = 0; k < n; k++) {
        uint32_t j = o[k].idx;
        if (e->ndir && (o[k].kind == OUT_TRAJ_DOT || o[k].kind == OUT_TRAJ_HV_ZERO)) {
            put_dir_loop(out, e, "    ");
            buf_puts(out, "\n    ");
        }
        if (o[k].kind == OUT_TRAJ || o[k].kind == OUT_TRAJ_DOT || o[k].kind == OUT_TRAJ_ZERO ||
            o[k].kind == OUT_TRAJ_HV_ZERO)
            buf_printf(out, "    %s = %s;\n", traj_text(e, lp, j, e->loop_var[r->loop], 0,
                                                        o[k].kind),
                       o[k].kind == OUT_TRAJ ? local[f->input[lp->slot + j]] :
                       o[k].kind == OUT_TRAJ_DOT && loop_result_active(lp, j) ?
                       local[f->input[lp->dot_slot + j]] : zero);
    }
}

/* In a recurrence's reverse loop, the adjoints the readers of its trajectories added (and
 * hvp's, their tangents), into its states' (routed into[k]): of the state after step `var` at
 * the top of the iteration (after: 1), of the state before the loop after it (0), where the
 * body b reads that. */
static void put_traj_adjoints(Buf *out, const DefOut *e, const Entry *entry, const Body *b,
                              const Run *r, const RunOut *o, const char *const *into,
                              uint32_t n, int after)
{
    const Func *f = e->s.f;
    const Loop *lp = &f->loops[r->loop];
    uint32_t bar = loop_bar(f, lp, entry->kind) + lp->ncap;
    uint32_t hv = loop_sweep(f, lp, ENTRY_HVP)->bar + lp->ncap;
    for (uint32_t k = 0; lp->traj && k < n; k++) {
        int tangent = o[k].kind == OUT_STATE_HV;
        if (!(o[k].kind == OUT_STATE_BAR || tangent) || !lp->traj[o[k].idx] ||
            !(after || body_find(&e->s, b, f->input[(tangent ? hv : bar) + o[k].idx]) >= 0))
            continue;
        if (tangent && e->ndir) { /* hess's directions: each one's */
            put_dir_loop(out, e, after ? "        " : "    ");
            buf_puts(out, "\n    ");
        }
        buf_printf(out, "%s%s += %s;\n", after ? "        " : "    ", into[k],
                   traj_text(e, lp, o[k].idx, e->loop_var[r->loop], after,
                             tangent ? OUT_TRAJ_HV_ZERO : OUT_TRAJ_ZERO));
    }
}

/* The loop's comment (`what`, unless NULL: the run's) and its `for`, forwards or (a
 * recurrence's reverse loop) backwards; in a checkpointed variant, the forward loop saving
 * states (state: their names). */
static void put_loop_head(Emitter *em, const DefOut *e, const Run *r, int ckp,
                          const char *const *state, const char *what)
{
    const Loop *lp = &e->s.f->loops[r->loop];
    Buf *out = em->out;
    const char *var = e->loop_var[r->loop];
    int rec = lp->nstate > 0, back = r->kind >= RUN_REVERSE;
    Affine end = lp->hi;
    end.k++;
    lines_at_source(em, lp->loc.first_line);
    if (ckp) {
        ckp_put_first_head(out, e, lp, var, state);
        return;
    }
    buf_printf(out, "    /* %s */\n", what ? what :
                                    back ? (lp->product ? "the product backwards: the "
                                                          "adjoints of its factors" :
                                            rec ? "the recurrence backwards: the adjoints of "
                                                       "its states and of what it reads" :
                                                 lp->result && r->fused ? "the values and what "
                                                                          "they add to the "
                                                                          "adjoints, in one loop" :
                                                 lp->result ? "what the values add to the "
                                                              "adjoints" :
                                                 r->fused && r->kind == RUN_REVERSE_TANGENT ?
                                                 "the sum and the tangents of its summands' "
                                                 "adjoints, in one loop" :
                                                 r->fused ? "the sum and its summands' "
                                                            "adjoints, in one loop" :
                                                 "the summands' adjoints, summed") :
                                          lp->product ? "the product, kept as a loop" :
                                          rec ? "the recurrence, kept as a loop" :
                                          lp->result ? "the values, kept as a loop" :
                                                "the sum, kept as a loop");
    buf_printf(out, "    for (long %s = ", var);
    print_affine(out, e, var, back && rec ? &lp->hi : &lp->lo);
    buf_printf(out, "; %s %s ", var, back && rec ? ">=" : "<");
    print_affine(out, e, var, back && rec ? &lp->lo : &end);
    buf_printf(out, "; %s%s) {\n", var, back && rec ? "--" : "++");
}

/* In jac's or hess's pass along its directions, per node of run r's iteration: 1 where it
 * depends on the direction (it reads a tangent of what the iteration reads, or of an
 * adjoint). */
static uint8_t *iteration_dep(const DefOut *e, const Run *r)
{
    const Func *body = e->s.f->loops[r->loop].body;
    uint8_t *dep = xrealloc(NULL, body->dag.len);
    memset(dep, 0, body->dag.len);
    for (uint32_t k = 0; k < body->ndiff; k++)
        dep[body->input[body->dot_slot + k]] = 1;
    for (int j = 0; r->kind == RUN_REVERSE_TANGENT && j < body->nroots; j++)
        dep[body->input[body->bar_dot_slot + j]] = 1; /* the adjoints' tangents */
    dag_mark_readers(&body->dag, dep);
    return dep;
}

/* Marks as locals the values the tangents of an iteration read (dep: iteration_dep), so that
 * the loop over the directions reads them, not computes them again per direction; returns
 * which it marked, for the marks to be taken back once the iteration is scheduled. */
static uint8_t *iteration_hold(DefOut *be, const uint8_t *dep)
{
    const Dag *d = &be->s.f->dag;
    uint8_t *held = xrealloc(NULL, d->len);
    memset(held, 0, d->len);
    for (NodeId id = 0; id < d->len; id++) {
        if (!dep[id] || !node_is_op(d, id))
            continue;
        const Node *nd = &d->nodes[id];
        NodeId ops[3] = {nd->a, nd->b, nd->c};
        for (int i = 0; i < node_arity(nd->kind); i++)
            if (!dep[ops[i]] && node_is_op(d, ops[i]) && !be->s.keep[ops[i]])
                be->s.keep[ops[i]] = held[ops[i]] = KEEP_LOCAL;
    }
    return held;
}

/* The iteration of run r computing its n outputs o (roots[k] into[k], added when adds[k]),
 * its inputs named: the flags never true in it, its locals, then its outputs, at `indent`.
 * Unless tape is NULL, the tape it reads is named once its body is scheduled (a local named
 * after a tape entry is named after the value, not after where it is stored). */
static void put_iteration(Emitter *em, const DefOut *e, const Run *r, const RunOut *o,
                          const NodeId *roots, const char **into, const uint8_t *adds,
                          uint32_t n, const NodeId *flag, TapeSaved *tape, int ckp,
                          const char *indent)
{
    DefOut *be = &e->loops[r->loop];
    Body bb;
    uint8_t *dep = e->ndir ? iteration_dep(e, r) : NULL;
    uint8_t *held = dep ? iteration_hold(be, dep) : NULL;
    if (schedule_iteration(e, r, roots, n, flag, &bb)) /* not const: C++ would take it for a
                                                           constant operand */
        buf_printf(em->out, "%sint %s = 0;\n", indent, e->never);
    for (NodeId id = 0; held && id < be->s.f->dag.len; id++)
        if (held[id])
            be->s.keep[id] = 0;
    free(held);
    if (tape)
        tape_name(e, r, tape, ckp);
    Printer pr = {be, &bb, 0};
    for (uint32_t k = 0; k < bb.n; k++)
        if (bb.local[k] && !(dep && dep[bb.nodes[k]]))
            print_local(em, &pr, bb.nodes[k], indent);
    int some = 0; /* something per direction: a tangent's local or output */
    for (uint32_t k = 0; dep && k < bb.n; k++)
        some |= bb.local[k] && dep[bb.nodes[k]];
    for (uint32_t k = 0; dep && k < n; k++)
        some |= dir_output(&e->s.f->loops[r->loop], &o[k]);
    if (!some) {
        free(dep);
        put_run_outputs(em->out, &pr, e->old, o, roots, into, adds, n, indent);
        body_free(&bb);
        return;
    }
    /* along the directions: the tangents in a loop over them, then the values */
    RunOut *so = xrealloc(NULL, (n + 1) * sizeof *so);
    NodeId *sr = xrealloc(NULL, (n + 1) * sizeof *sr);
    const char **si = xrealloc(NULL, (n + 1) * sizeof *si);
    uint8_t *sa = xrealloc(NULL, n + 1);
    Buf inner = {0};
    buf_printf(&inner, "%s    ", indent);
    put_dir_loop(em->out, e, indent);
    buf_puts(em->out, " {\n");
    for (uint32_t k = 0; k < bb.n; k++)
        if (bb.local[k] && dep[bb.nodes[k]])
            print_local(em, &pr, bb.nodes[k], inner.data);
    for (int tangents = 1; tangents >= 0; tangents--) {
        uint32_t m = 0;
        for (uint32_t k = 0; k < n; k++)
            if (dir_output(&e->s.f->loops[r->loop], &o[k]) == tangents) {
                so[m] = o[k];
                sr[m] = roots[k];
                si[m] = into[k];
                sa[m++] = adds[k];
            }
        put_run_outputs(em->out, &pr, e->old, so, sr, si, sa, m,
                        tangents ? inner.data : indent);
        if (tangents)
            buf_printf(em->out, "%s}\n", indent);
    }
    buf_free(&inner);
    free(so);
    free(sr);
    free(si);
    free(sa);
    free(dep);
    body_free(&bb);
}

/* The outputs o[0..n) of run r routed (route_outputs), into arrays allocated together. */
typedef struct {
    NodeId *roots;
    const char **into;
    uint8_t *adds;
} Routes;

static void routes_make(Routes *rt, const DefOut *e, const Entry *entry, const Run *r,
                        const RunOut *o, uint32_t n)
{
    rt->roots = xrealloc(NULL, (n + 1) * sizeof *rt->roots);
    rt->into = xrealloc(NULL, (n + 1) * sizeof *rt->into);
    rt->adds = xrealloc(NULL, n + 1);
    route_outputs(e, entry, r, o, n, rt->roots, rt->into, rt->adds);
}

static void routes_free(Routes *rt)
{
    free(rt->roots);
    free(rt->into);
    free(rt->adds);
}

/* A checkpointed variant's reverse loop (run r, whose outputs o are routed in rt): in each
 * round, the states restored from the top level of the saved ones and advanced (the value
 * iteration), and saved when more than one step is left; else the step taped (the forward
 * loop's tape iteration) and reversed (the iteration of run r). */
static void put_ckp_reverse(Emitter *em, const DefOut *e, const Entry *entry, const Body *b,
                            const Run *r, const RunOut *o, const Routes *rt, uint32_t n,
                            const NodeId *flag)
{
    const Loop *lp = &e->s.f->loops[r->loop];
    DefOut *be = &e->loops[r->loop];
    const char *var = e->loop_var[r->loop], **name = be->s.local;
    Buf *out = em->out;
    lines_at_source(em, lp->loc.first_line);
    ckp_put_reverse_head(out, e, lp, var);
    /* the forward loop's iteration, on the restored states: its values, then its tape */
    Run fwd = {r->loop, RUN_VALUE, 0};
    RunOut *fo, *to;
    uint32_t nf = runs_outputs(e, entry, b, &fwd, &fo);
    to = xrealloc(NULL, (nf + 1) * sizeof *to);
    memcpy(to, fo, nf * sizeof *fo);
    uint32_t nt = keep_outputs(to, nf, OUT_TAPE);
    nf = keep_outputs(fo, nf, OUT_RESULT);
    free(name_iteration_inputs(e, entry, b, &fwd));
    for (uint32_t j = 0; j < lp->nstate; j++)
        name[be->s.f->input[loop_state_slot(lp, j)]] = e->ckp_state[j];
    NodeId *none = xrealloc(NULL, (lp->ncap + 2 * loop_results(lp) + 1) * sizeof *none);
    memset(none, 0, (lp->ncap + 2 * loop_results(lp) + 1) * sizeof *none);
    Routes fr, tr;
    routes_make(&fr, e, entry, &fwd, fo, nf);
    for (uint32_t k = 0; k < nf; k++)
        fr.into[k] = e->ckp_state[fo[k].idx];
    put_iteration(em, e, &fwd, fo, fr.roots, fr.into, fr.adds, nf, none, NULL, 0,
                  "                ");
    ckp_put_reverse_save(out, e, lp, var);
    routes_make(&tr, e, entry, &fwd, to, nt);
    buf_puts(out, "        {\n");
    put_iteration(em, e, &fwd, to, tr.roots, tr.into, tr.adds, nt, none, NULL, 0,
                  "            ");
    buf_puts(out, "        }\n        {\n");
    free(name_iteration_inputs(e, entry, b, r));
    TapeSaved tape;
    tape_mark(be, lp, r, &tape);
    put_iteration(em, e, r, o, rt->roots, rt->into, rt->adds, n, flag, &tape, 1, "            ");
    buf_puts(out, "        }\n");
    tape_put_back(be, lp, &tape);
    ckp_put_reverse_tail(out, e, var);
    routes_free(&fr);
    routes_free(&tr);
    free(none);
    free(fo);
    free(to);
}

/* The gradients run j carries in registers (Rotation): declared before its loop (`where` 0),
 * each step's first element stored and the registers moved on at the end of its iteration
 * (1), and after the loop the last elements stored (2). */
static void put_rotations(Buf *out, const DefOut *e, const Runs *rs, int j, int where)
{
    const Func *f = e->s.f;
    const Loop *lp = &f->loops[rs->run[j].loop];
    const char *var = e->loop_var[rs->run[j].loop], *real = real_type[e->opt->compile.real];
    const char *zero = literal_zero[e->opt->compile.real];
    for (int k = 0; k < rs->nrot; k++) {
        const Rotation *ro = &rs->rot[k];
        if (ro->run != j)
            continue;
        const char *array = ro->hv ? e->s.hparam[ro->param] : e->s.gparam[ro->param];
        const char *op = e->opt->accumulate && !ro->hv ? "+=" : "=";
        int64_t w = ro->hi - ro->lo;
        Affine at;
        memset(&at, 0, sizeof at);
        if (where == 0) {
            for (int64_t d = 0; d <= w; d++)
                buf_printf(out, "    %s %s = %s;\n", real, ro->carry[d], zero);
        } else if (where == 1) {
            at.c[0] = 1;
            at.k = ro->lo;
            buf_printf(out, "        %s %s %s;\n", load_text(e, array, var, &at), op,
                       ro->carry[0]);
            for (int64_t d = 0; d < w; d++)
                buf_printf(out, "        %s = %s;\n", ro->carry[d], ro->carry[d + 1]);
            buf_printf(out, "        %s = %s;\n", ro->carry[w], zero);
        } else if (w > 0) {
            /* the last w elements, or the first ones when the loop ran no step */
            Affine after = lp->hi;
            after.k++;
            buf_printf(out, "    const long %s = ", ro->end);
            print_affine(out, e, var, &after);
            buf_puts(out, " > ");
            print_affine(out, e, var, &lp->lo);
            buf_puts(out, " ? ");
            print_affine(out, e, var, &after);
            buf_puts(out, " : ");
            print_affine(out, e, var, &lp->lo);
            buf_puts(out, ";\n");
            for (int64_t d = 0; d < w; d++) {
                Buf idx = {0};
                buf_printf(&idx, "%s", ro->end);
                if (ro->lo + d)
                    buf_printf(&idx, " %c %lld", ro->lo + d < 0 ? '-' : '+',
                               (long long)(ro->lo + d < 0 ? -(ro->lo + d) : ro->lo + d));
                buf_printf(out, "    if (%s < ", idx.data);
                print_rt_length(out, e, &f->params[ro->param]);
                buf_printf(out, ")\n        %s[%s] %s %s;\n", array, idx.data, op, ro->carry[d]);
                buf_free(&idx);
            }
        }
    }
}

/* Indents by one level the lines printed since `start`, a line's start (a sum per step's inner
 * loop, printed as a loop of the function is); #line directives stay at the margin. */
static void reindent(Emitter *em, size_t start)
{
    Buf *out = em->out, t = {0};
    size_t added = 0;
    for (size_t i = start; i < out->len; i++) {
        if ((i == start || out->data[i - 1] == '\n') && out->data[i] != '\n' &&
            out->data[i] != '#') {
            buf_puts(&t, "    ");
            added += i < em->scanned ? 4 : 0;
        }
        buf_putn(&t, out->data + i, 1);
    }
    out->len = start;
    buf_putn(out, t.data, t.len);
    if (em->scanned > start)
        em->scanned += added;
    buf_free(&t);
}

/* Which parts of a sum per step's run put_per_step prints: what its loop adds up over every
 * step, declared before the steps (PER_STEP_HEAD); a step (PER_STEP_STEP, the outer variable
 * the loop's of a recurrence that computes the sum in its loop); both, with the loop over the
 * steps (PER_STEP_ALL). */
enum { PER_STEP_HEAD = 1, PER_STEP_STEP = 2, PER_STEP_ALL = 3 };

/* Run r, of a sum per step (its n outputs o routed in rt): the loop over the outer steps
 * around the sum's loop, the step's sum (and tangent) declared in it and stored in the
 * trajectory after the sum's loop (and, in a sweep that goes back, the readers' adjoints
 * there zeroed); what the sum's loop adds up over every step (the captures' adjoint terms)
 * declared before; the parts in `parts`. */
static void put_per_step(Emitter *em, const DefOut *e, const Entry *entry, const Body *b,
                         const Run *r, const RunOut *o, const Routes *rt, uint32_t n,
                         const NodeId *flag, int parts)
{
    const Loop *lp = &e->s.f->loops[r->loop];
    Buf *out = em->out;
    RunOut *so = xrealloc(NULL, (n + 1) * sizeof *so);
    const char **si = xrealloc(NULL, (n + 1) * sizeof *si);
    for (int step = 0; step < 2; step++) {
        uint32_t m = 0;
        for (uint32_t k = 0; k < n; k++)
            if ((o[k].kind == OUT_RESULT || o[k].kind == OUT_RESULT_DOT) == step) {
                so[m] = o[k];
                si[m++] = rt->into[k];
            }
        if (step || !(parts & PER_STEP_HEAD))
            break;
        put_carried(out, e, entry, b, r, so, si, m);
    }
    if (!(parts & PER_STEP_STEP)) {
        free(so);
        free(si);
        return;
    }
    lines_at_source(em, lp->loc.first_line);
    int back = r->kind >= RUN_REVERSE;
    size_t start = out->len;
    if (parts == PER_STEP_ALL) {
        Affine end = lp->ohi;
        end.k++;
        buf_printf(out, "    /* the sums over %s per step of %s, kept as loops */\n", lp->var,
                   lp->ovar);
        buf_printf(out, "    for (long %s = ", e->step_var);
        print_affine(out, e, "", &lp->olo);
        buf_printf(out, "; %s < ", e->step_var);
        print_affine(out, e, "", &end);
        buf_printf(out, "; %s++) {\n", e->step_var);
        start = out->len;
    }
    uint32_t m = 0;
    for (uint32_t k = 0; k < n; k++)
        if (o[k].kind == OUT_RESULT || o[k].kind == OUT_RESULT_DOT) {
            so[m] = o[k];
            si[m++] = rt->into[k];
        }
    put_carried(out, e, entry, b, r, so, si, m);
    Buf what = {0};
    int sums = loop_results(lp) > 1;
    if (parts != PER_STEP_ALL)
        buf_printf(&what, "%sthe sum%s over %s at this step",
                   back ? "the adjoints of the terms of " : "", sums ? "s" : "", lp->var);
    else
        buf_puts(&what, back ? "the adjoints of its terms" : sums ? "its sums" : "its sum");
    put_loop_head(em, e, r, 0, NULL, what.data);
    buf_free(&what);
    put_iteration(em, e, r, o, rt->roots, rt->into, rt->adds, n, flag, NULL, 0, "        ");
    buf_puts(out, "    }\n");
    for (uint32_t k = 0; k < m; k++)
        buf_printf(out, "    %s = %s;\n",
                   step_ref(e, lp, so[k].idx, so[k].kind == OUT_RESULT ? OUT_TRAJ : OUT_TRAJ_DOT),
                   si[k]);
    int zero = !back && (entry_reverse(entry->kind) || entry->kind == ENTRY_HVP);
    for (uint32_t j = 0; zero && j < loop_results(lp); j++)
        for (int hv = 0; hv <= (entry->kind == ENTRY_HVP); hv++)
            buf_printf(out, "    %s = %s;\n",
                       step_ref(e, lp, j, hv ? OUT_TRAJ_HV_ZERO : OUT_TRAJ_ZERO),
                       literal_zero[e->opt->compile.real]);
    reindent(em, start);
    if (parts == PER_STEP_ALL)
        buf_puts(out, "    }\n");
    free(so);
    free(si);
}

/* Of the runs of the sums per step that recurrence run j of rs computes in its loop (Loop.host)
 * in its direction (forwards or backwards), the parts `parts` (put_per_step's): what they add
 * up before its loop, or their steps inside it, at the top of a forward loop's iteration (the
 * step reads their sums) and at the end of a reverse loop's (they read the adjoints of their
 * sums that the step added, and add into those of the states before it); parts 0 prints
 * nothing. Returns whether some such run computes something. */
static int put_hosted(Emitter *em, const DefOut *e, const Entry *entry, const Body *b,
                      const Runs *rs, int j, int parts)
{
    int some = 0;
    const Func *f = e->s.f;
    int back = rs->run[j].kind >= RUN_REVERSE;
    for (int q = 0; q < rs->n; q++) {
        const Run *h = &rs->run[q];
        if (f->loops[h->loop].host != rs->run[j].loop + 1 || (h->kind >= RUN_REVERSE) != back)
            continue;
        RunOut *o;
        uint32_t n = runs_outputs(e, entry, b, h, &o);
        some |= n > 0;
        if (!n || !parts) {
            free(o);
            continue;
        }
        NodeId *flag = name_iteration_inputs(e, entry, b, h);
        Routes rt;
        routes_make(&rt, e, entry, h, o, n);
        put_per_step(em, e, entry, b, h, o, &rt, n, flag, parts);
        free(flag);
        routes_free(&rt);
        free(o);
    }
    return some;
}

/* Run j of rs: the declarations of what it computes, the loop, its statements, then the sums
 * and the new states. */
static void put_run(Emitter *em, const DefOut *e, const Entry *entry, const Body *b,
                    const Runs *rs, int j)
{
    const Func *f = e->s.f;
    const Run *r = &rs->run[j];
    const Loop *lp = &f->loops[r->loop];
    DefOut *be = &e->loops[r->loop];
    RunOut *o;
    uint32_t n = runs_outputs(e, entry, b, r, &o);
    int ckp = ckp_on(e, entry, r);
    if (ckp && r->kind == RUN_VALUE) /* the first pass tapes nothing */
        n = keep_outputs(o, n, OUT_RESULT);
    if (!n) {
        free(o);
        return;
    }
    NodeId *flag = name_iteration_inputs(e, entry, b, r);
    Routes rt;
    routes_make(&rt, e, entry, r, o, n);
    for (uint32_t k = 0; k < n; k++) { /* a carried element's term into its register */
        const Load *ld = &lp->load[o[k].idx < lp->nload ? o[k].idx : 0];
        const Rotation *ro = o[k].kind == OUT_LOAD_BAR || o[k].kind == OUT_LOAD_HV ?
                             runs_rotation(rs, j, ld->param, o[k].kind == OUT_LOAD_HV) : NULL;
        if (ro)
            rt.into[k] = ro->carry[ld->at.k - ro->lo];
    }
    if (lp->per_step) {
        if (!lp->host) /* else its recurrence's run prints it (put_hosted) */
            put_per_step(em, e, entry, b, r, o, &rt, n, flag, PER_STEP_ALL);
        free(flag);
        routes_free(&rt);
        free(o);
        return;
    }
    put_carried(em->out, e, entry, b, r, o, rt.into, n);
    put_rotations(em->out, e, rs, j, 0);
    put_hosted(em, e, entry, b, rs, j, PER_STEP_HEAD);
    if (ckp && r->kind == RUN_REVERSE) {
        put_ckp_reverse(em, e, entry, b, r, o, &rt, n, flag);
    } else {
        const char **state = xrealloc(NULL, (lp->nstate + 1) * sizeof *state);
        for (uint32_t st = 0; st < lp->nstate; st++)
            state[st] = e->s.local[f->input[lp->slot + st]];
        TapeSaved tape;
        tape_mark(be, lp, r, &tape);
        put_loop_head(em, e, r, ckp, state, NULL);
        put_traj_adjoints(em->out, e, entry, b, r, o, rt.into, n, 1);
        /* a reverse loop's sums per step come after the step's locals' scope */
        int block = r->kind >= RUN_REVERSE && put_hosted(em, e, entry, b, rs, j, 0);
        if (r->kind < RUN_REVERSE)
            put_hosted(em, e, entry, b, rs, j, PER_STEP_STEP);
        if (block)
            buf_puts(em->out, "        {\n");
        put_iteration(em, e, r, o, rt.roots, rt.into, rt.adds, n, flag, &tape, 0,
                      block ? "            " : "        ");
        if (block)
            buf_puts(em->out, "        }\n");
        if (r->kind >= RUN_REVERSE)
            put_hosted(em, e, entry, b, rs, j, PER_STEP_STEP);
        put_rotations(em->out, e, rs, j, 1);
        buf_puts(em->out, "    }\n");
        put_rotations(em->out, e, rs, j, 2);
        put_traj_adjoints(em->out, e, entry, b, r, o, rt.into, n, 0);
        tape_put_back(be, lp, &tape);
        free(state);
    }
    free(flag);
    routes_free(&rt);
    free(o);
}

/* loops_put_terms and loops_put_step: the loop (head NULL) or the block. */
static void put_terms(Emitter *em, const DefOut *e, const Entry *entry, const Body *b, int loop,
                      const NodeId *roots, const char **into, uint32_t n, const char *what,
                      const char *head, const char *indent)
{
    Run r = {loop, RUN_VALUE, 0};
    RunOut *o = xrealloc(NULL, (n + 1) * sizeof *o);
    uint8_t *adds = xrealloc(NULL, n + 1);
    for (uint32_t k = 0; k < n; k++) {
        o[k] = (RunOut){roots[k], OUT_LOAD_HV, 0};
        adds[k] = 1;
    }
    NodeId *flag = name_iteration_inputs(e, entry, b, &r);
    const Func *body = e->s.f->loops[loop].body;
    Printer outer = {e, b, 0}; /* and the seed of the reverse loop, a value before it */
    e->loops[loop].s.local[body->input[body->bar_slot]] =
        outer_text(&outer, loop_sweep(e->s.f, &e->s.f->loops[loop], ENTRY_GRAD)->seed[0]);
    Buf in = {0};
    buf_printf(&in, "%s    ", indent);
    if (head)
        buf_puts(em->out, head);
    else
        put_loop_head(em, e, &r, 0, NULL, what);
    put_iteration(em, e, &r, o, roots, into, adds, n, flag, NULL, 0, in.data);
    buf_printf(em->out, "%s}\n", indent);
    buf_free(&in);
    free(flag);
    free(adds);
    free(o);
}

void loops_put_terms(Emitter *em, const DefOut *e, const Entry *entry, const Body *b, int loop,
                     const NodeId *roots, const char **into, uint32_t n, const char *what)
{
    put_terms(em, e, entry, b, loop, roots, into, n, what, NULL, "    ");
}

void loops_put_step(Emitter *em, const DefOut *e, const Entry *entry, const Body *b, int loop,
                    const NodeId *roots, const char **into, uint32_t n, const char *head,
                    const char *indent)
{
    put_terms(em, e, entry, b, loop, roots, into, n, NULL, head, indent);
}

/* ---- where the runs go among the statements ------------------------------------------------- */

/* The last run node id's expression reads (through the operands printed inside it), or -1. */
static int run_needed(const Printer *p, const Runs *rs, NodeId id, int top)
{
    const Node *nd = &p->e->s.f->dag.nodes[id];
    if (nd->kind == N_INPUT)
        return (uint32_t)nd->k < rs->nslots ? rs->slot_run[(uint32_t)nd->k] : -1;
    if (nd->kind == N_CONST || (!top && print_is_local(p, id)))
        return -1;
    NodeId ops[3] = {nd->a, nd->b, nd->c};
    int need = -1;
    for (int i = 0; i < node_arity(nd->kind); i++) {
        int r = run_needed(p, rs, ops[i], 0);
        need = r > need ? r : need;
    }
    return need;
}

/* Whether the statement at position k of b comes after every local run r reads. */
static int run_ready(const DefOut *e, const Entry *entry, const Body *b, const Run *r, long k)
{
    const Func *f = e->s.f;
    const Loop *lp = &f->loops[r->loop];
    for (uint32_t c = 0; c < lp->ncap + lp->nstate; c++) {
        NodeId v[2] = {c < lp->ncap ? lp->cap[c] : lp->init[c - lp->ncap],
                       r->kind == RUN_TANGENT ? loop_sweep(f, lp, entry->kind)->cap_dot[c] : 0};
        for (int i = 0; i < 2; i++)
            if (v[i] && body_find(&e->s, b, v[i]) >= k)
                return 0;
    }
    for (uint32_t j = 0; r->kind == RUN_REVERSE && !lp->result && j < loop_results(lp); j++)
        if (body_find(&e->s, b, loop_sweep(f, lp, entry->kind)->seed[j]) >= k)
            return 0;
    return 1;
}

/* The last run to print before the statement at position k of b, which reads run `need`:
 * that, and the loops the source has before it whose inputs are printed. */
static int runs_before(const DefOut *e, const Entry *entry, const Body *b, const Runs *rs,
                       long k, int need)
{
    const Func *f = e->s.f;
    for (int j = need < rs->next ? rs->next : need + 1; j < rs->n; j++) {
        const Run *r = &rs->run[j];
        if (r->kind >= RUN_REVERSE || f->input[f->loops[r->loop].slot] > b->nodes[k] ||
            !run_ready(e, entry, b, r, k))
            break;
        need = j;
    }
    return need;
}

static void pull_local(Emitter *em, const DefOut *e, const Entry *entry, const Body *b,
                       Runs *rs, long k);

/* A local of the body: in a matrix's pass along its directions, one that depends on the
 * direction is an array of them, filled by a loop. */
static void put_local(Emitter *em, const Printer *pr, NodeId id)
{
    const DefOut *e = pr->e;
    if (!e->ndir || !e->dir_dep[id]) {
        print_local(em, pr, id, "    ");
        return;
    }
    lines_at_source(em, lines_of(e->s.f, id));
    put_dir_array(em->out, e, e->dir_base[id], e->s.local[id]);
    print_node(em->out, pr, id);
    buf_puts(em->out, ";\n");
}

/* The locals node id's expression reads (through the operands printed inside it), printed
 * first if they are not yet. */
static void pull_operands(Emitter *em, const DefOut *e, const Entry *entry, const Body *b,
                          Runs *rs, NodeId id, int top)
{
    const Dag *d = &e->s.f->dag;
    if (!node_is_op(d, id) || e->s.keep[id] == KEEP_LEAF)
        return;
    long k = body_find(&e->s, b, id);
    if (!top && k >= 0 && b->local[k]) {
        pull_local(em, e, entry, b, rs, k);
        return;
    }
    const Node *nd = &d->nodes[id];
    NodeId ops[3] = {nd->a, nd->b, nd->c};
    for (int i = 0; i < node_arity(nd->kind); i++)
        pull_operands(em, e, entry, b, rs, ops[i], 0);
}

/* Prints the runs up to and including run `last`, each after the locals it reads. A run may
 * need a local the body has after the statement that needs the run (a tangent the tangent
 * loop reads, after a primal that reads the sum): that local is printed first, out of the
 * body's order, after what it reads in turn. */
static void put_runs_to(Emitter *em, const DefOut *e, const Entry *entry, const Body *b,
                        Runs *rs, int last)
{
    while (rs->next <= last && rs->next < rs->n) {
        int j = rs->next;
        NodeId *in = NULL;
        uint32_t n = 0;
        runs_reads(e, b, entry, &rs->run[j], &in, &n);
        for (int q = 0; q < rs->n; q++) /* and what the sums it computes in its loop read */
            if (e->s.f->loops[rs->run[q].loop].host == rs->run[j].loop + 1 &&
                (rs->run[q].kind >= RUN_REVERSE) == (rs->run[j].kind >= RUN_REVERSE))
                runs_reads(e, b, entry, &rs->run[q], &in, &n);
        for (uint32_t i = 0; i < n; i++) {
            long k = body_find(&e->s, b, in[i]);
            if (k >= 0 && b->local[k])
                pull_local(em, e, entry, b, rs, k);
        }
        free(in);
        if (rs->next != j)
            continue;
        put_run(em, e, entry, b, rs, j);
        rs->next = j + 1;
    }
}

/* The local at position k, after what it reads (locals and runs), unless it is printed. */
static void pull_local(Emitter *em, const DefOut *e, const Entry *entry, const Body *b,
                       Runs *rs, long k)
{
    if (rs->done[k])
        return;
    rs->done[k] = 1;
    NodeId id = b->nodes[k];
    Printer pr = {e, b, 0};
    pull_operands(em, e, entry, b, rs, id, 1);
    put_runs_to(em, e, entry, b, rs, run_needed(&pr, rs, id, 1));
    put_local(em, &pr, id);
}

/* ---- the body ------------------------------------------------------------------------------- */

/* Which of f's sweeps node id belongs to. */
static int sweep_of(const Func *f, NodeId id)
{
    int k = 0;
    while (k + 1 < f->nsweeps && f->sweeps[k + 1].first <= id)
        k++;
    return k;
}

void loops_put_body(Emitter *em, const DefOut *e, const Entry *entry, const Body *b, Runs *rs)
{
    Buf *out = em->out;
    const Func *f = e->s.f;
    Printer pr = {e, b, 0};
    uint8_t *loaded = xrealloc(NULL, (size_t)f->nparams + 1), size_used[MAX_SIZES] = {0};
    memset(loaded, 0, (size_t)f->nparams + 1);
    runs_use(e, entry, b, rs, loaded, size_used);
    /* a forward sweep carrying the tangents (eq. 5.121) is one section */
    int titled = entry->kind != ENTRY_VALUE && entry->kind != ENTRY_JVP;
    buf_puts(out, "{\n");
    emit_put_size_checks(out, e);
    for (int k = 0; k < f->nsizes; k++)
        if (!size_used[k] && (f->size_slot[k] == UINT32_MAX ||
                              body_find(&e->s, b, f->input[f->size_slot[k]]) < 0))
            buf_printf(out, "    (void)%s;\n", e->s.size[k]);
    for (int i = 0; i < f->nparams; i++) {
        const Param *pa = &f->params[i];
        uint32_t k = 0;
        while (k < pa->size && body_find(&e->s, b, f->input[pa->first + k]) < 0)
            k++;
        if (k == pa->size && !(loaded[i] & USE_VALUE))
            buf_printf(out, "    (void)%s;\n", e->s.param[i]);
    }
    /* an argument nothing reads or stores (a direction the result does not depend on); jac
     * along its directions has its own, and stores the columns */
    const Entry *has = e->ndir ? e->dir_jac : entry;
    for (int i = 0; i < has->nargs; i++) {
        const Arg *a = &has->args[i];
        int used = a->fill || (e->ndir && a->name == e->dir_mat);
        for (uint32_t r = 0; r < has->nstores && !used; r++)
            used = has->arg[r] == i;
        for (uint32_t k = 0; !a->out && k < a->size && !used; k++)
            used = body_find(&e->s, b, f->input[a->slot + k]) >= 0;
        if (a->param >= 0)
            used |= (loaded[a->param] & (a->out ? USE_WRITE : USE_DOT)) != 0;
        for (int j = 0; rs && a->name == e->s.work && j < rs->n; j++)
            used |= (f->loops[rs->run[j].loop].ntape > 0 && entry_reverse(entry->kind)) ||
                    f->loops[rs->run[j].loop].traj ||
                    (entry->kind == ENTRY_HVP && rs->run[j].kind == RUN_TANGENT &&
                     f->loops[rs->run[j].loop].nstate); /* hvp's stored steps */
        for (int j = 0; rs && a->count && j < rs->n; j++)
            used |= ckp_on(e, entry, &rs->run[j]);
        /* a returned map's values, tangents and cotangents: its loop's runs', the cotangents
         * when it has a reverse run (not when the values depend on no differentiated input) */
        for (int j = 0; rs && f->result_loop && a->param < 0 && j < rs->n; j++)
            if (rs->run[j].loop == f->result_loop - 1)
                used |= a->name == e->s.out ||
                        (a->name == e->s.out_dot && rs->run[j].kind == RUN_TANGENT) ||
                        (a->name == e->s.out_bar && rs->run[j].kind >= RUN_REVERSE);
        int rotated = 0; /* written whole by a run that carries it */
        for (int j = 0; rs && a->param >= 0 && j < rs->nrot; j++)
            rotated |= rs->rot[j].param == a->param &&
                       a->name == (rs->rot[j].hv ? e->s.hparam : e->s.gparam)[a->param];
        used |= rotated;
        if (a->param >= 0 && (f->params[a->param].rt_size >= 0 || f->params[a->param].loaded) &&
            a->out && !print_adds_into(e, entry, a) && !rotated) {
            /* a run-time array's gradient: zeroed here, added into by the reverse loops */
            buf_printf(out, "    for (long %s = 0; %s < ", e->index, e->index);
            print_rt_length(out, e, &f->params[a->param]);
            buf_printf(out, "; %s++)\n        %s[%s] = %s;\n", e->index, a->name, e->index,
                       literal_zero[e->opt->compile.real]);
            used = 1;
        }
        if (!used)
            buf_printf(out, "    (void)%s;\n", a->name);
    }
    free(loaded);
    int section = -1;
    if (rs) {
        rs->done = xrealloc(NULL, b->n + 1);
        memset(rs->done, 0, b->n + 1);
    }
    for (uint32_t k = 0; k < b->n; k++) {
        NodeId id = b->nodes[k];
        if (!b->local[k] || (rs && rs->done[k]))
            continue;
        int want = sweep_of(f, id);
        if (rs)
            put_runs_to(em, e, entry, b, rs,
                        runs_before(e, entry, b, rs, (long)k, run_needed(&pr, rs, id, 1)));
        if (titled && section != want) {
            buf_printf(out, "%s    /* %s */\n", section >= 0 ? "\n" : "", f->sweeps[want].title);
            section = want;
        }
        if (rs)
            pull_local(em, e, entry, b, rs, (long)k);
        else
            put_local(em, &pr, id);
    }
    if (rs)
        put_runs_to(em, e, entry, b, rs, rs->n - 1);
    if (titled && section >= 0)
        buf_puts(out, "\n");
    print_fill_loops(out, e, entry);
    for (uint32_t r = 0; r < entry->nstores; r++) {
        const Arg *a = &entry->args[entry->arg[r]];
        int tangent = a->name == e->s.out_dot, hvp = a->param >= 0 && a->out;
        if (!e->ndir || !(tangent || hvp)) {
            print_store(em, &pr, entry, r);
            continue;
        }
        /* along the directions: value r's tangents (the Hessian's: the tangents of the
         * adjoint of a differentiated scalar, after those of the inputs before it) are its
         * row */
        Affine row;
        memset(&row, 0, sizeof row);
        row.k = entry->elem[r];
        for (int p = 0; hvp && p < a->param; p++)
            row.k += f->params[p].kind == PARAM_DIFF ? f->params[p].size : 0;
        lines_at_source(em, lines_of(f, entry->roots[r]));
        if (e->dir_jac->kind != ENTRY_HESS_SPARSE) {
            put_dir_loop(out, e, "    ");
            buf_printf(out, "\n        %s = ", dir_entry_text(e, "", &row));
        } else {
            /* the lower triangle: by rows, row r's r + 1 entries after the r rows before it;
             * by columns, column d from row d on */
            long long at = e->dir_csc ? row.k : row.k * (row.k + 1) / 2;
            buf_printf(out, "    for (long %s = 0; %s <= %lld; %s++)\n        %s[", e->dir_var,
                       e->dir_var, (long long)row.k, e->dir_var, e->dir_mat);
            if (e->dir_csc)
                buf_printf(out, "%s * (%u - %s) / 2", e->dir_var, 2 * e->ndir - 1, e->dir_var);
            else
                buf_puts(out, e->dir_var);
            buf_printf(out, at ? " + %lld] = " : "] = ", at);
        }
        print_expr(out, &pr, entry->roots[r]);
        buf_puts(out, ";\n");
    }
    if (e->ndir && e->dir_jac->kind == ENTRY_HESS) /* the upper triangle the lower mirrored */
        buf_printf(out, "    for (long %s = 0; %s < %u; %s++)\n        for (long %s = 0; %s < %s; "
                        "%s++)\n            %s[%s * %u + %s] = %s[%s * %u + %s];\n", e->dir_var,
                   e->dir_var, e->ndir, e->dir_var, e->index, e->index, e->dir_var, e->index,
                   e->dir_mat, e->index, e->ndir, e->dir_var, e->dir_mat, e->dir_var, e->ndir,
                   e->index);
    print_return(em, &pr, entry);
}

void loops_put_jac(Emitter *em, DefOut *e, const Entry *jac, const Body *b, Runs *rs)
{
    const Func *f = e->s.f;
    const Dag *d = &f->dag;
    const char **local = e->s.local;
    uint8_t *dep = func_dir_dep(f, ENTRIES_HESSIAN >> jac->kind & 1);
    const char **base = xrealloc(NULL, d->len * sizeof *base);
    memcpy(base, local, d->len * sizeof *base);
    /* direction d is the unit one of differentiated scalar d; what depends on it is an
     * array of the directions, read at d */
    Buf t = {0};
    for (NodeId id = 0; id < d->len; id++) {
        if (!dep[id] || !local[id])
            continue;
        t.len = 0;
        buf_printf(&t, "%s[%s]", local[id], e->dir_var);
        local[id] = arena_strndup(e->s.arena, t.data, t.len);
    }
    for (uint32_t k = 0; k < f->ndiff; k++) {
        t.len = 0;
        buf_printf(&t, "(%s == %u ? %s : %s)", e->dir_var, k,
                   literal_one[e->opt->compile.real], literal_zero[e->opt->compile.real]);
        local[f->input[f->dot_slot + k]] = arena_strndup(e->s.arena, t.data, t.len);
    }
    buf_free(&t);
    e->ndir = f->ndiff;
    e->dir_jac = jac;
    e->dir_mat = jac->kind == ENTRY_JAC ? e->s.jac : jac->kind == ENTRY_HESS ? e->s.hess :
                 jac->kind == ENTRY_JAC_SPARSE ? e->s.jac_nz : e->s.hess_nz;
    e->dir_csc = entry_info[jac->kind].sparse && e->opt->csc;
    e->dir_dep = dep;
    e->dir_base = base;
    loops_put_body(em, e, &e->dir_of[emit_dir_index(jac->kind)], b, rs);
    e->ndir = 0;
    for (NodeId id = 0; id < d->len; id++)
        local[id] = base[id];
    free(dep);
    free(base);
}
