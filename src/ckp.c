/*
 * ckp.c: the checkpointed variants of a kept recurrence's reverse entry points (grad-ckp,
 * vjp-ckp), the parts that are not an iteration. Input: a definition whose entry point sweeps
 * a recurrence backwards. Output: C text: the file's schedule helpers, the NAME_WORK_CKP
 * macro, and the bookkeeping around the iterations loops.c prints: the first pass saving
 * states, and the reverse loop that restores one, advances, saves, tapes a step and reverses it.
 *
 * The schedule is Griewank and Walther's binomial one (revolve, ACM TOMS 26(1), 2000). With c
 * saved states, reversing l steps takes t(l, c) = r l - C(c + r, r - 1) forward steps, r the
 * least integer with C(c + r, c) >= l. Recursively: from the saved state at a, with the steps
 * a..b-1 left to reverse, advance m steps, save the state there, reverse a+m..b-1 with c - 1
 * states, then a..a+m-1 with c; it is optimal exactly for the m in
 * [max(1, l - C(c - 1 + r, r), C(c + r - 2, c)), min(C(c + r - 1, c), l - C(c + r - 2, c - 1))],
 * and the helper takes the least. The generated code keeps the saved states as a stack in
 * the work array: level 0 is the first state, each further level one saved by the recursion,
 * and the step it was saved at, so no recursion and no allocation is needed.
 *
 * The first pass runs every step once (the value and the seeds of the reverse loop need the
 * last state), saving the states of the recursion's first descent and the state before the
 * last step (one level more than c): so it takes t(l, c) + 1 forward steps in all, and each
 * step is taped once, just before it is reversed, by the same statements as the stored
 * variant's forward loop: the numbers are the same to the bit.
 */
#include <string.h>

#include "adgen.h"
#include "emit.h"

static const char *const ckp_fn_want[CKP_FNS] = {"ckp_split", "ckp_next", "ckp_step",
                                                  "ckp_save"};
static const char *const ckp_var_want[CKP_VARS] = {"ckp_snaps", "ckp", "ckp_steps",
                                                   "ckp_level", "ckp_next", "ckp_end",
                                                   "ckp_to"};

int ckp_wanted(const Func *f)
{
    return (f->entries & ENTRIES_CKP) != 0;
}

void ckp_name_functions(const char **fn, NameSet *file_names, const char *first)
{
    for (int k = 0; k < CKP_FNS; k++) {
        Buf want = {0};
        buf_printf(&want, "%s_%s", first, ckp_fn_want[k]);
        fn[k] = names_claim(file_names, want.data);
        buf_free(&want);
    }
}

void ckp_name_locals(DefOut *e, const Loop *lp)
{
    Sched *s = &e->s;
    for (int k = 0; k < CKP_VARS; k++)
        if (!e->ckp_var[k])
            e->ckp_var[k] = names_claim(&s->names, ckp_var_want[k]);
    e->ckp_state = arena_alloc(s->arena, (lp->nstate + 1) * sizeof *e->ckp_state);
    for (uint32_t j = 0; j < lp->nstate; j++) {
        Buf want = {0};
        buf_printf(&want, "%s_at", s->local[s->f->input[lp->slot + j]]);
        e->ckp_state[j] = names_claim(&s->names, want.data);
        buf_free(&want);
    }
}

void ckp_put_helpers(Buf *out, const char *const *fn, RealType real)
{
    const char *t = real_type[real];
    buf_printf(out,
        "\n/* Binomial checkpointing, Griewank and Walther's revolve schedule (ACM TOMS 26(1),\n"
        " * 2000), for the _ckp entry points. With l >= 2 steps of a recurrence to reverse from\n"
        " * a saved state and c >= 1 states to save them with (that one among them), advance\n"
        " * this many steps before saving the next: the least of the splits that take the fewest\n"
        " * forward steps in all, r l - C(c + r, r - 1) for the least r with C(c + r, c) >= l. */\n"
        "static ADGEN_FUNC long %s(long l, long c)\n{\n"
        "    long r = 0, b = 1, b1 = 0, b2 = 0, m;\n"
        "    if (c >= l - 1)\n        return 1;\n"
        "    if (c == 1)\n        return l - 1;\n"
        "    while (b < l) { /* b = C(c + r, c), b1 and b2 the two before it */\n"
        "        b2 = b1;\n        b1 = b;\n        r++;\n"
        "        b = b1 > LONG_MAX / (c + r) ? l : b1 * (c + r) / r;\n    }\n"
        "    m = b1 > LONG_MAX / c ? 1 : l - b1 * c / r; /* l - C(c - 1 + r, r) */\n"
        "    m = m > b2 ? m : b2;\n"
        "    return m > 1 ? m : 1;\n}\n", fn[CKP_SPLIT]);
    buf_printf(out,
        "\n/* The step at which the first pass saves the next state after step `at` on its way\n"
        " * to step `end`, with `c` states left to save (`end` for none). */\n"
        "static ADGEN_FUNC long %s(long at, long end, long c)\n{\n"
        "    return end - at > 1 && c > 1 ? at + %s(end - at, c) : end;\n}\n",
        fn[CKP_NEXT], fn[CKP_SPLIT]);
    buf_printf(out,
        "\n/* The step at which the state of level `level` was saved: the steps are longs after\n"
        " * the states in the work array. */\n"
        "static ADGEN_FUNC long %s(const %s *steps, long level)\n{\n"
        "    long step;\n"
        "    memcpy(&step, (const unsigned char *)steps + (size_t)level * sizeof step, "
        "sizeof step);\n"
        "    return step;\n}\n", fn[CKP_STEP], t);
    buf_printf(out,
        "\n/* Saves the step of level `level` for %s, which reads it back (as the only use of\n"
        " * it where the recurrences' adjoints are all zero, and no reverse pass reads it). */\n"
        "static ADGEN_FUNC void %s(%s *steps, long level, long step)\n{\n"
        "    (void)%s;\n"
        "    memcpy((unsigned char *)steps + (size_t)level * sizeof step, &step, sizeof step);\n"
        "}\n", fn[CKP_STEP], fn[CKP_SAVE], t, fn[CKP_STEP]);
}

/* "((snaps) > 1 ? (snaps) : 1)": the snapshots a caller's number stands for. */
static void put_snaps(Buf *out, const char *snaps)
{
    buf_printf(out, "((%s) > 1 ? (%s) : 1)", snaps, snaps);
}

void ckp_put_work_macro(Buf *out, const DefOut *e, const Loop *lp)
{
    const Func *f = e->s.f;
    const char *t = real_type[e->opt->compile.real];
    buf_printf(out, "#define %s(", e->work_ckp_macro);
    for (int k = 0; k < f->nsizes; k++)
        buf_printf(out, "%s, ", e->s.size[k]);
    buf_printf(out, "%s) (%u + (", e->s.snaps, lp->ntape);
    put_snaps(out, e->s.snaps);
    buf_printf(out, " + 1) * %u + ((", lp->nstate);
    put_snaps(out, e->s.snaps);
    buf_printf(out, " + 1) * sizeof(long) + sizeof(%s) - 1) / sizeof(%s))\n", t, t);
}

/* The stack's level `level` (an expression) gets the states of `from` (per state) and the
 * step `step`. */
static void put_save(Buf *out, const DefOut *e, const Loop *lp, const char *const *from,
                     const char *step, const char *indent)
{
    const char *const *v = e->ckp_var;
    for (uint32_t j = 0; j < lp->nstate; j++)
        buf_printf(out, "%s%s[%u * %s + %u] = %s;\n", indent, v[CKP_STATES], lp->nstate,
                   v[CKP_LEVEL], j, from[j]);
    buf_printf(out, "%s%s(%s, %s, %s);\n", indent, e->ckp_fn[CKP_SAVE], v[CKP_STEPS],
               v[CKP_LEVEL], step);
}

/* "n - 1 + 1": the end of the recurrence's range (one past its last step). */
static void put_end(Buf *out, const DefOut *e, const Loop *lp)
{
    Affine end = lp->hi;
    end.k++;
    print_affine(out, e, lp->var, &end);
}

void ckp_put_first_head(Buf *out, const DefOut *e, const Loop *lp, const char *var,
                        const char *const *state)
{
    const char *const *v = e->ckp_var;
    const char *t = real_type[e->opt->compile.real];
    buf_printf(out, "    /* the recurrence, kept as a loop: the states of a binomial schedule "
                    "are saved */\n");
    buf_printf(out, "    const long %s = %s > 1 ? %s : 1;\n", v[CKP_SNAPS], e->s.snaps,
               e->s.snaps);
    buf_printf(out, "    %s *const %s = %s + %u;\n", t, v[CKP_STATES], e->s.work, lp->ntape);
    buf_printf(out, "    %s *const %s = %s + (%s + 1) * %u;\n", t, v[CKP_STEPS], v[CKP_STATES],
               v[CKP_SNAPS], lp->nstate);
    buf_printf(out, "    long %s = 0;\n", v[CKP_LEVEL]);
    buf_printf(out, "    long %s = %s(%lld, ", v[CKP_NEXT_AT], e->ckp_fn[CKP_NEXT],
               (long long)lp->lo.k);
    put_end(out, e, lp);
    buf_printf(out, ", %s);\n", v[CKP_SNAPS]);
    Buf lo = {0};
    buf_printf(&lo, "%lld", (long long)lp->lo.k);
    put_save(out, e, lp, state, lo.data, "    ");
    buf_free(&lo);
    buf_printf(out, "    for (long %s = %lld; %s < ", var, (long long)lp->lo.k, var);
    put_end(out, e, lp);
    buf_printf(out, "; %s++) {\n", var);
    /* the state before the last step too: the reverse loop starts from it */
    buf_printf(out, "        if (%s == %s || %s == ", var, v[CKP_NEXT_AT], var);
    print_affine(out, e, var, &lp->hi);
    buf_printf(out, ") {\n            %s++;\n", v[CKP_LEVEL]);
    put_save(out, e, lp, state, var, "            ");
    buf_printf(out, "            %s = %s(%s, ", v[CKP_NEXT_AT], e->ckp_fn[CKP_NEXT], var);
    put_end(out, e, lp);
    buf_printf(out, ", %s - %s);\n        }\n", v[CKP_SNAPS], v[CKP_LEVEL]);
}

void ckp_put_reverse_head(Buf *out, const DefOut *e, const Loop *lp, const char *var)
{
    const char *const *v = e->ckp_var;
    const char *t = real_type[e->opt->compile.real];
    buf_printf(out, "    /* the recurrence backwards: each step computed again from the last "
                    "state saved before it, taped, and reversed; the steps from %s on are "
                    "reversed */\n", v[CKP_END]);
    buf_printf(out, "    for (long %s = ", v[CKP_END]);
    put_end(out, e, lp);
    buf_printf(out, "; %s > %lld;) {\n", v[CKP_END], (long long)lp->lo.k);
    buf_printf(out, "        long %s = %s(%s, %s);\n", var, e->ckp_fn[CKP_STEP], v[CKP_STEPS],
               v[CKP_LEVEL]);
    for (uint32_t j = 0; j < lp->nstate; j++)
        buf_printf(out, "        %s %s = %s[%u * %s + %u];\n", t, e->ckp_state[j],
                   v[CKP_STATES], lp->nstate, v[CKP_LEVEL], j);
    buf_printf(out, "        if (%s - %s > 1) {\n", v[CKP_END], var);
    buf_printf(out, "            const long %s = %s + %s(%s - %s, %s - %s);\n", v[CKP_TO], var,
               e->ckp_fn[CKP_SPLIT], v[CKP_END], var, v[CKP_SNAPS], v[CKP_LEVEL]);
    buf_printf(out, "            for (; %s < %s; %s++) {\n", var, v[CKP_TO], var);
}

void ckp_put_reverse_save(Buf *out, const DefOut *e, const Loop *lp, const char *var)
{
    const char *const *v = e->ckp_var;
    buf_printf(out, "            }\n            if (%s - %s > 1) {\n", v[CKP_END], var);
    buf_printf(out, "                %s++;\n", v[CKP_LEVEL]);
    put_save(out, e, lp, e->ckp_state, var, "                ");
    buf_puts(out, "                continue;\n            }\n        }\n");
}

void ckp_put_reverse_tail(Buf *out, const DefOut *e, const char *var)
{
    const char *const *v = e->ckp_var;
    buf_printf(out, "        %s = %s;\n", v[CKP_END], var);
    buf_printf(out, "        if (%s > 0 && %s(%s, %s) == %s)\n            %s--;\n    }\n",
               v[CKP_LEVEL], e->ckp_fn[CKP_STEP], v[CKP_STEPS], v[CKP_LEVEL], var, v[CKP_LEVEL]);
}
