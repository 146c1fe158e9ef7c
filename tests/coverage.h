/*
 * coverage.h: what a random program generator drew. A generator is only as good as what it
 * draws (issue 24: bug A's shape was never drawn), so each run of a random test counts, per
 * construct of the language, the programs that have it, prints the table, and fails when a
 * construct its generator is meant to draw comes in under COVERAGE_MIN of the programs.
 *
 * Constructs are read off the compiled program where it says (parameters, kept loops, the
 * kinds of the primal DAG and of the loops' iterations, the entry points) and off the text
 * where only the source says (sum, for, a scalar local to an iteration, calls, empty ranges).
 */
#ifndef COVERAGE_H
#define COVERAGE_H

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "adgen.h"

#define COVERAGE_MIN 0.02

enum {
    CV_ARRAY, CV_ARRAY2, CV_DATA, CV_SUM, CV_PROD, CV_FOR, CV_ITER_SCALAR, CV_REC_CONST,
    CV_KEPT_SUM, CV_REC_KEPT, CV_REC_READS_OUTSIDE, CV_STATES2, CV_CAPTURE, CV_IF, CV_CALL,
    CV_CALL_ARRAY, CV_INLINE, CV_VECTOR_CALL, CV_VECTOR, CV_EMPTY_RANGE, CV_SIZE_NUMBER, CV_RUNTIME_SIZE,
    CV_TRAJECTORY, CV_REC_HVP, CV_REC_DATA, CV_KEPT_PROD, CV_CALL_RUNTIME, CV_CALL_MAP,
    CV_ITER_VECTOR_CALL, CV_KEPT_READS_KEPT, CV_HOIST_LOCAL, CV_MAP_TWICE, CV_DIRECTIONS,
    CV_PER_STEP, CV_MOVING, CV_OUTER_STEP, CV_TWO_SIZES, CV_HOSTED, CV_COLUMNS,
    CV_DEAD_STATE, CV_STATE_FIRST, CV_FIXED
};

static const char *const coverage_fixed[CV_FIXED] = {
    [CV_ARRAY] = "array inputs",
    [CV_ARRAY2] = "two-dimensional arrays",
    [CV_DATA] = "data inputs (after ';')",
    [CV_SUM] = "sum",
    [CV_PROD] = "prod",
    [CV_FOR] = "for loops (maps)",
    [CV_ITER_SCALAR] = "scalars local to an iteration",
    [CV_REC_CONST] = "recurrences over a constant range",
    [CV_KEPT_SUM] = "sums kept at run time",
    [CV_REC_KEPT] = "recurrences kept at run time",
    [CV_REC_READS_OUTSIDE] = "kept recurrences adding a value read from outside",
    [CV_STATES2] = "kept recurrences of several states",
    [CV_CAPTURE] = "values of the function read inside kept loops",
    [CV_IF] = "if",
    [CV_CALL] = "calls of definitions",
    [CV_CALL_ARRAY] = "calls passing arrays",
    [CV_INLINE] = "inline definitions",
    [CV_VECTOR_CALL] = "calls of definitions returning lists",
    [CV_VECTOR] = "vector results",
    [CV_EMPTY_RANGE] = "empty constant ranges",
    [CV_SIZE_NUMBER] = "sizes read as numbers",
    [CV_RUNTIME_SIZE] = "sizes known at run time",
    [CV_TRAJECTORY] = "kept recurrences' states read at every step after the loop",
    [CV_REC_HVP] = "kept recurrences differentiated twice (hvp)",
    [CV_REC_DATA] = "kept recurrences of data only",
    [CV_KEPT_PROD] = "products kept at run time",
    [CV_CALL_RUNTIME] = "calls passing arrays of run-time sizes",
    [CV_CALL_MAP] = "calls returning values of a run-time number",
    [CV_ITER_VECTOR_CALL] = "calls of several values inside loops",
    [CV_KEPT_READS_KEPT] = "kept loops reading another's value (sums taken out of loops)",
    [CV_HOIST_LOCAL] = "sums inside loops reading a local of the loop's body",
    [CV_MAP_TWICE] = "maps read by a sum and by a sum inside it",
    [CV_DIRECTIONS] = "kept Jacobians and Hessians in one pass along their directions",
    [CV_PER_STEP] = "sums per step (a kept sum inside a kept loop, reading it)",
    [CV_MOVING] = "sums per step over ranges moving with the step (0..i)",
    [CV_OUTER_STEP] = "sums of the outer step inside sums per step",
    [CV_TWO_SIZES] = "arrays of two run-time sizes (W[n][nw])",
    [CV_HOSTED] = "sums per step in a recurrence's step reading its state",
    [CV_COLUMNS] = "kept recurrences lowered again at each step of a constant loop",
    [CV_DEAD_STATE] = "a recurrence's state nothing reads, left out of its loop",
    [CV_STATE_FIRST] = "recurrences written state first (e9[0][k+1], cz[m][k+1])",
};

/* The rows: the fixed constructs, then one per kind of ops.h that is an operation, then one
 * per entry point. */
enum { CV_KINDS = CV_FIXED, CV_ENTRIES = CV_KINDS + N_KINDS, CV_ROWS = CV_ENTRIES + ENTRY_KINDS };

typedef struct {
    const char *generator;
    long programs;
    long hits[CV_ROWS];
    unsigned char want[CV_ROWS]; /* the generator is meant to draw it */
} Coverage;

/* Whether word (an identifier) stands in text as a whole word at p. */
static int cv_word_at(const char *text, const char *p, const char *word)
{
    size_t n = strlen(word);
    return strncmp(p, word, n) == 0 && (p == text || !(isalnum((unsigned char)p[-1]) ||
                                                       p[-1] == '_')) &&
           !(isalnum((unsigned char)p[n]) || p[n] == '_');
}

/* Whether the text calls the function `name` (not only defines it: a definition starts a
 * line). */
static int cv_calls(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (int k = 0; k < N_KINDS; k++) /* a definition named so is never called by it */
        if (op_info[k].lang && strcmp(op_info[k].lang, name) == 0)
            return 0;
    for (const char *p = strstr(text, name); p; p = strstr(p + 1, name))
        if (cv_word_at(text, p, name) && p[n] == '(' && p != text && p[-1] != '\n')
            return 1;
    return 0;
}

/* Calls of definitions (inline ones too, which the program has no function of) whose head
 * names an array size (x[n]: a size known at run time): *runtime when one is called, *map
 * when one with a loop is assigned (c = hm(x): values of a run-time number). */
static void cv_runtime_calls(const char *text, unsigned char *runtime, unsigned char *map)
{
    for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line) {
        const char *p = strncmp(line, "inline ", 7) == 0 ? line + 7 : line, *q = p;
        while (isalnum((unsigned char)*q) || *q == '_')
            q++;
        const char *close = *q == '(' ? strchr(q, ')') : NULL, *nl = strchr(q, '\n');
        if (q == p || !close || (nl && nl < close))
            continue;
        int sized = 0;
        for (const char *b = q; b < close; b++)
            sized |= b[0] == '[' && isalpha((unsigned char)b[1]);
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(q - p), p);
        if (!sized || !cv_calls(text, name))
            continue;
        *runtime = 1;
        char assigned[80];
        snprintf(assigned, sizeof assigned, "= %s(", name);
        const char *end = strstr(close, "\n}");
        const char *loop = strstr(close, "for ");
        *map |= strstr(text, assigned) != NULL && end && loop && loop < end;
    }
}

/* A range lo..hi of two integers with lo > hi. */
static int cv_empty_range(const char *text)
{
    for (const char *p = strstr(text, ".."); p; p = strstr(p + 2, "..")) {
        const char *q = p;
        while (q > text && (isdigit((unsigned char)q[-1]) || q[-1] == '-'))
            q--;
        if (q == p || !isdigit((unsigned char)p[2]) || (q > text && (isalpha((unsigned char)
                                                                       q[-1]) || q[-1] == '_')))
            continue;
        char *end;
        long lo = strtol(q, NULL, 10), hi = strtol(p + 2, &end, 10);
        if (lo > hi && !(isalnum((unsigned char)*end) || *end == '_' || *end == '-' ||
                         *end == '+'))
            return 1;
    }
    return 0;
}

/* The name of the definition whose head ends at p (`) = [`: one returning a list): where its
 * line starts, after `inline `. */
static const char *cv_list_head(const char *text, const char *p)
{
    const char *line = p;
    while (line > text && line[-1] != '\n')
        line--;
    return strncmp(line, "inline ", 7) == 0 ? line + 7 : line;
}

/* A definition returning a list whose name the text calls later: `name(`. */
static int cv_vector_call(const char *text)
{
    for (const char *p = strstr(text, ") = ["); p; p = strstr(p + 1, ") = [")) {
        const char *line = cv_list_head(text, p);
        size_t n = strcspn(line, "(");
        for (const char *c = strchr(p, '\n'); c && *c; c++)
            if (strncmp(c, line, n + 1) == 0 && !(isalnum((unsigned char)c[-1]) || c[-1] == '_'))
                return 1;
    }
    return 0;
}

/* Whether text defines the n-character name as a list: a line `[inline ]name(...) = [`. */
static int cv_list_def(const char *text, const char *name, size_t n)
{
    for (const char *p = strstr(text, ") = ["); p; p = strstr(p + 1, ") = [")) {
        const char *line = cv_list_head(text, p);
        if (strncmp(line, name, n) == 0 && line[n] == '(')
            return 1;
    }
    return 0;
}

/* A scalar assigned inside a for block: `name =` on a line of a block opened by `for`; and
 * *vector_call when one is the values of a call of a definition of a list (c = dyn(x)). */
static int cv_iteration_scalar(const char *text, unsigned char *vector_call)
{
    int found = 0;
    int depth = 0, in_for = 0;
    for (const char *line = text; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 :
                                                                      line + strlen(line)) {
        const char *p = line;
        while (*p == ' ')
            p++;
        if (strncmp(p, "for ", 4) == 0 && strchr(p, '{') && strchr(p, '{') < strchr(p, '\n')) {
            in_for = depth + 1;
            depth++;
            continue;
        }
        const char *q = p;
        while (isalnum((unsigned char)*q) || *q == '_')
            q++;
        if (in_for && q > p && strncmp(q, " = ", 3) == 0) {
            const char *r = q + 3, *e = r;
            while (isalnum((unsigned char)*e) || *e == '_')
                e++;
            found = 1;
            *vector_call |= e > r && *e == '(' && cv_list_def(text, r, (size_t)(e - r));
        }
        for (const char *c = p; *c && *c != '\n'; c++) {
            depth += *c == '{';
            depth -= *c == '}';
        }
        if (depth < in_for)
            in_for = 0;
    }
    return found;
}

/* A sum inside a `for` loop's body reading a scalar assigned earlier in that body: over a
 * constant range, or over a run-time one taken out of the loop (gen_kept_program's u7, the
 * same in every step). */
static int cv_sum_reads_local(const char *text)
{
    char local[8][32];
    int nlocal = 0, depth = 0, in_for = 0;
    for (const char *line = text; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 :
                                                                      line + strlen(line)) {
        const char *p = line, *end = strchr(line, '\n') ? strchr(line, '\n') : line + strlen(line);
        while (*p == ' ')
            p++;
        if (strncmp(p, "for ", 4) == 0 && memchr(p, '{', (size_t)(end - p))) {
            in_for = ++depth;
            nlocal = 0;
            continue;
        }
        const char *q = p;
        while (isalnum((unsigned char)*q) || *q == '_')
            q++;
        const char *sum = strstr(p, "sum(");
        for (int i = 0; in_for && sum && sum < end && i < nlocal; i++)
            for (const char *w = strstr(sum, local[i]); w && w < end; w = strstr(w + 1, local[i]))
                if (cv_word_at(text, w, local[i]))
                    return 1;
        if (in_for && q > p && q - p < 32 && nlocal < 8 && strncmp(q, " = ", 3) == 0) {
            memcpy(local[nlocal], p, (size_t)(q - p));
            local[nlocal++][q - p] = '\0';
        }
        for (const char *c = p; c < end; c++)
            depth += (*c == '{') - (*c == '}');
        if (depth < in_for)
            in_for = 0;
    }
    return 0;
}

/* A line with a sum inside a sum where an array a `for` loop assigns (`NAME[i] = ` in the
 * text) is read both inside the inner sum and before it (log-softmax's `z[c] - log(sum(k,
 * exp(z[k])))`). */
static int cv_map_read_twice(const char *text)
{
    for (const char *line = text; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 :
                                                                      line + strlen(line)) {
        const char *end = strchr(line, '\n') ? strchr(line, '\n') : line + strlen(line);
        const char *outer = strstr(line, "sum(");
        const char *inner = outer ? strstr(outer + 4, "sum(") : NULL;
        if (!inner || inner >= end)
            continue;
        for (const char *p = inner; p < end; p++) {
            const char *q = p;
            while (q < end && (isalnum((unsigned char)*q) || *q == '_'))
                q++;
            int starts = p == line || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
            if (q == p || *q != '[' || !starts)
                continue;
            char name[32], assigned[40];
            if (q - p >= 24)
                continue;
            memcpy(name, p, (size_t)(q - p));
            name[q - p] = '\0';
            snprintf(assigned, sizeof assigned, "%s[i] = ", name);
            for (const char *w = strstr(outer, name); w && w < inner; w = strstr(w + 1, name))
                if (cv_word_at(text, w, name) && w[q - p] == '[' && strstr(text, assigned))
                    return 1;
            p = q;
        }
    }
    return 0;
}

/* A size (a file constant or a run-time size) read as a number: outside [] and ranges. */
static int cv_size_number(const char *text, const char *size)
{
    size_t n = strlen(size);
    for (const char *p = strstr(text, size); p; p = strstr(p + 1, size)) {
        if (!cv_word_at(text, p, size))
            continue;
        int bracket = 0;
        for (const char *b = p; b > text && b[-1] != '\n'; b--)
            bracket += (b[-1] == '[') - (b[-1] == ']');
        const char *after = p + n;
        while (*after == ' ' || *after == '-' || *after == '+' || isdigit((unsigned char)*after))
            after++;
        int bound = strncmp(after, "..", 2) == 0 || (p >= text + 2 && p[-1] == '.' &&
                                                    p[-2] == '.');
        int defined = p == text || p[-1] == '\n' || (p[n] == ' ' && p[n + 1] == '=');
        if (!bracket && !bound && !defined && p[n] != '[' && p[n] != ']')
            return 1;
    }
    return 0;
}

static void cv_kinds(Coverage *cv, uint8_t *seen, const Dag *d, uint32_t n)
{
    for (NodeId id = 1; id < n; id++) {
        NodeKind k = (NodeKind)d->nodes[id].kind;
        if (node_is_op(d, id) && !seen[k]) {
            seen[k] = 1;
            cv->hits[CV_KINDS + k]++;
        }
    }
}

/* Per node of f: whether it depends on a kept loop's result (malloc'ed). */
static uint8_t *cv_loop_dependents(const Func *f)
{
    uint8_t *dep = calloc(f->dag.len + 1, 1);
    for (NodeId id = 1; dep && id < f->dag.len; id++) {
        const Node *nd = &f->dag.nodes[id];
        if (nd->kind == N_CONST)
            continue;
        for (int o = 0; nd->kind == N_INPUT && o < f->nloops; o++)
            dep[id] |= id == f->input[f->loops[o].slot];
        if (nd->kind != N_INPUT)
            dep[id] = dep[nd->a] | dep[nd->b] | dep[nd->c];
    }
    return dep;
}

/* Counts one program: its text, and what it compiled to. */
static void coverage_count(Coverage *cv, const char *text, const Program *prog)
{
    unsigned char has[CV_FIXED] = {0};
    uint8_t seen[N_KINDS] = {0};
    unsigned entries = 0;
    cv->programs++;
    /* gen_kept_program's state nothing reads, left out (in every function), and its live one,
     * which is e9_0 when the two are written state first */
    int g9 = 0, e9 = 0;
    has[CV_SUM] = strstr(text, "sum(") != NULL;
    has[CV_PROD] = strstr(text, "prod(") != NULL;
    has[CV_FOR] = strstr(text, "for ") != NULL;
    has[CV_IF] = strstr(text, "if(") != NULL;
    has[CV_INLINE] = strstr(text, "inline ") != NULL;
    has[CV_VECTOR_CALL] = cv_vector_call(text);
    has[CV_ITER_SCALAR] = (unsigned char)cv_iteration_scalar(text, &has[CV_ITER_VECTOR_CALL]);
    has[CV_EMPTY_RANGE] = cv_empty_range(text);
    has[CV_HOIST_LOCAL] = cv_sum_reads_local(text);
    has[CV_MAP_TWICE] = cv_map_read_twice(text);
    has[CV_ARRAY2] = strstr(text, "][") != NULL;
    int recurrence_text = strstr(text, "+1] =") || strstr(text, "+ 1] =");
    has[CV_SIZE_NUMBER] = cv_size_number(text, "K");
    cv_runtime_calls(text, &has[CV_CALL_RUNTIME], &has[CV_CALL_MAP]);
    for (int i = 0; i < prog->nfuncs; i++) {
        const Func *f = &prog->funcs[i];
        entries |= f->entries;
        has[CV_VECTOR] |= f->vector;
        has[CV_RUNTIME_SIZE] |= f->nsizes > 0;
        has[CV_TRAJECTORY] |= f->ntraj > 0;
        has[CV_DIRECTIONS] |= func_directions(f) > 0;
        has[CV_PER_STEP] |= func_per_step(f);
        for (int l = 0; l < f->nloops; l++)
            for (uint32_t j = 0; f->loops[l].state_name && j < f->loops[l].nstate; j++) {
                g9 |= strcmp(f->loops[l].state_name[j], "g9") == 0 ||
                      strcmp(f->loops[l].state_name[j], "e9_1") == 0;
                e9 |= strcmp(f->loops[l].state_name[j], "e9_0") == 0;
            }

        for (int l = 0; l < f->nloops; l++) {
            has[CV_MOVING] |= f->loops[l].lo.o != 0 || f->loops[l].hi.o != 0;
            has[CV_HOSTED] |= f->loops[l].host != 0;
            for (int o = 0; o < l; o++) /* one `for` statement, two recurrences */
                has[CV_COLUMNS] |= f->loops[l].nstate && f->loops[o].nstate &&
                                   f->loops[o].loc.begin == f->loops[l].loc.begin;
            for (uint32_t d = 0; f->loops[l].per_step && d < f->loops[l].nload; d++) {
                const Load *ld = &f->loops[l].load[d]; /* another sum per step's sums */
                has[CV_OUTER_STEP] |= load_traj(ld) && f->loops[f->traj[-1 - ld->param].loop].per_step;
            }
        }
        has[CV_STATE_FIRST] |= strstr(text, "cz[m][k+1] =") && has[CV_COLUMNS];
        for (int p = 0; p < f->nparams; p++)
            has[CV_TWO_SIZES] |= f->params[p].rt_size2 >= 0;
        for (int s = 0; s < f->nsizes; s++)
            has[CV_SIZE_NUMBER] |= cv_size_number(text, f->size[s]);
        int array_param = 0;
        for (int p = 0; p < f->nparams; p++) {
            has[CV_ARRAY] |= f->params[p].rank > 0;
            has[CV_ARRAY2] |= f->params[p].rank > 1;
            has[CV_DATA] |= f->params[p].kind == PARAM_DATA;
            array_param |= f->params[p].rank > 0;
        }
        if (cv_calls(text, f->name)) {
            has[CV_CALL] = 1;
            has[CV_CALL_ARRAY] |= array_param;
        }
        cv_kinds(cv, seen, &f->dag, f->nprimal ? f->nprimal : f->dag.len);
        uint8_t *dep = cv_loop_dependents(f);
        for (int l = 0; l < f->nloops; l++) {
            const Loop *lp = &f->loops[l];
            const Func *body = lp->body;
            has[lp->nstate ? CV_REC_KEPT : CV_KEPT_SUM] = 1;
            has[CV_REC_HVP] |= lp->nstate && f->entries & 1u << ENTRY_HVP;
            has[CV_REC_DATA] |= lp->nstate && !lp->active;
            has[CV_STATES2] |= lp->nstate > 1;
            has[CV_KEPT_PROD] |= lp->product;
            for (uint32_t c = 0; dep && c < lp->ncap; c++)
                has[CV_KEPT_READS_KEPT] |= dep[lp->cap[c]];
            has[CV_CAPTURE] |= lp->ncap > 0;
            cv_kinds(cv, seen, &body->dag, body->nprimal ? body->nprimal : body->dag.len);
            /* a next state that adds a capture: its adjoint term is the state's own */
            for (uint32_t j = 0; j < lp->nstate; j++) {
                const Node *nd = &body->dag.nodes[body->roots[j]];
                uint32_t cap0 = 1 + lp->nload + lp->nstate;
                for (int o = 0; o < 2 && nd->kind == N_ADD; o++) {
                    const Node *x = &body->dag.nodes[o ? nd->b : nd->a];
                    has[CV_REC_READS_OUTSIDE] |= x->kind == N_INPUT && (uint32_t)x->k >= cap0 &&
                                                 (uint32_t)x->k < cap0 + lp->ncap;
                }
            }
        }
        free(dep);
    }
    has[CV_REC_CONST] = recurrence_text && !has[CV_REC_KEPT];
    has[CV_DEAD_STATE] = (strstr(text, "g9[k+1] =") || strstr(text, "e9[1][k+1] =")) && !g9;
    has[CV_STATE_FIRST] |= strstr(text, "e9[0][k+1] =") && e9;
    for (int c = 0; c < CV_FIXED; c++)
        cv->hits[c] += has[c];
    for (int k = 0; k < ENTRY_KINDS; k++)
        cv->hits[CV_ENTRIES + k] += (entries >> k) & 1;
}

/* The generator is meant to draw these: the fixed rows named, every operation (when ops is
 * set), and the entry points of `entries`. */
static void coverage_want(Coverage *cv, const int *fixed, int nfixed, int ops, unsigned entries)
{
    for (int i = 0; i < nfixed; i++)
        cv->want[fixed[i]] = 1;
    for (int k = 0; ops && k < N_KINDS; k++)
        cv->want[CV_KINDS + k] = op_info[k].form != F_LEAF;
    for (int k = 0; k < ENTRY_KINDS; k++)
        cv->want[CV_ENTRIES + k] = (entries >> k) & 1;
}

static const char *cv_row_name(int r, char *buf, size_t n)
{
    if (r < CV_FIXED)
        return coverage_fixed[r];
    if (r < CV_ENTRIES) {
        int k = r - CV_KINDS;
        snprintf(buf, n, "operation %s", op_info[k].lang ? op_info[k].lang : op_info[k].c);
        return buf;
    }
    snprintf(buf, n, "entry point %s", entry_info[r - CV_ENTRIES].word);
    return buf;
}

/* Prints the table (the rows drawn, and the wanted ones even when never drawn; a wanted row
 * under COVERAGE_MIN is marked) and returns how many wanted rows are under it. */
static int coverage_report(const Coverage *cv, FILE *out)
{
    int low = 0;
    char buf[64];
    fprintf(out, "coverage of %s: %ld programs\n", cv->generator, cv->programs);
    for (int r = 0; r < CV_ROWS; r++) {
        if (!cv->hits[r] && !cv->want[r])
            continue;
        double share = cv->programs ? (double)cv->hits[r] / (double)cv->programs : 0;
        int under = cv->want[r] && share < COVERAGE_MIN;
        low += under;
        fprintf(out, "  %-52s %6ld  %5.1f%%%s\n", cv_row_name(r, buf, sizeof buf), cv->hits[r],
                100 * share, under ? "  UNDER 2%" : cv->want[r] ? "" : "  (not required)");
    }
    return low;
}

#endif
