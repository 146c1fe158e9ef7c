/*
 * emit_c.c: the C printer. Input: a Program whose Funcs have been differentiated, and for
 * each entry point its Body from schedule.c. Output: C99 text that includes only <math.h>,
 * with the entry points of every definition (README, "The generated API"), and the header
 * declaring them. A body prints as `const` locals in id order, then the stores through the
 * pointer parameters, then the return; a node that is not a local is printed inside its one
 * consumer, to a depth schedule.c bounds. `#line` directives map statements to the lines of
 * the input they came from, written only where the mapping would otherwise be wrong.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

#define MAX_COMMENT_LINES 12
#define MAX_COMMENT_COLS 96

/* What each entry point is called after the definition, and whether it has two sweeps. */
static const struct {
    const char *suffix;
    int sweeps;
} entry_kind[ENTRY_KINDS] = {
    [ENTRY_VALUE] = {"", 1},
    [ENTRY_GRAD] = {"_grad", 2},
};

/* ---- per-definition state -------------------------------------------------------------------- */

typedef struct {
    Sched s;
    const EmitOptions *opt;
    const char *fn[ENTRY_KINDS]; /* the C names of the entry points */
    const char **literal;        /* per constant node: its text, once printed */
} DefOut;

/* A body being printed. */
typedef struct {
    const DefOut *e;
    const Body *b;
} Printer;

/* ---- expressions ------------------------------------------------------------------------------ */

enum { P_TERNARY, P_ADD, P_MUL, P_UNARY, P_PRIMARY };

static const Dag *dag_of(const Printer *p)
{
    return &p->e->s.f->dag;
}

static int is_local(const Printer *p, NodeId id)
{
    long k = body_find(&p->e->s, p->b, id);
    return k >= 0 && p->b->local[k];
}

static int prec_of(const Printer *p, NodeId id)
{
    const Node *nd = &dag_of(p)->nodes[id];
    if (nd->kind == N_CONST)
        return nd->k < 0 || (nd->k == 0 && signbit(nd->k)) ? P_UNARY : P_PRIMARY;
    if (nd->kind == N_INPUT || is_local(p, id))
        return P_PRIMARY;
    switch (op_info[nd->kind].form) {
    case F_ADD: return P_ADD;
    case F_MUL: return P_MUL;
    case F_NEG: return P_UNARY;
    case F_LEAF: case F_CMP: case F_LOGIC: case F_NOT: case F_IF: case F_CALL: case F_TEMPLATE:
        return P_PRIMARY;
    }
    return P_PRIMARY;
}

static void put_expr(Buf *out, const Printer *p, NodeId id);

static void put_operand(Buf *out, const Printer *p, NodeId id, int min_prec)
{
    if (prec_of(p, id) < min_prec) {
        buf_puts(out, "(");
        put_expr(out, p, id);
        buf_puts(out, ")");
    } else {
        put_expr(out, p, id);
    }
}

static void put_node(Buf *out, const Printer *p, NodeId id);

/* A reference to a node: its name when it has one, else its expression inlined. */
static void put_expr(Buf *out, const Printer *p, NodeId id)
{
    const Dag *d = dag_of(p);
    const Node *nd = &d->nodes[id];
    if (nd->kind == N_CONST) {
        /* a constant is printed in several functions and often several times: format it once */
        const char **text = &p->e->literal[id];
        if (!*text) {
            Buf t = {0};
            if (d->meta[id].label)
                put_spelled(&t, d->meta[id].label, p->e->opt->real);
            else
                put_real(&t, nd->k, p->e->opt->real);
            *text = arena_strndup(p->e->s.arena, t.data, t.len);
            buf_free(&t);
        }
        buf_puts(out, *text);
    } else if (nd->kind == N_INPUT || is_local(p, id)) {
        buf_puts(out, p->e->s.local[id]);
    } else {
        put_node(out, p, id);
    }
}

static int is_boolean(NodeKind k)
{
    OpForm f = op_info[k].form;
    return f == F_CMP || f == F_LOGIC || f == F_NOT;
}

static void put_condition(Buf *out, const Printer *p, NodeId id);

/* An operand of && or || or !: a nested logic operation in parentheses (gcc asks for them
 * around && within ||), a comparison or a name bare. */
static void put_logic_operand(Buf *out, const Printer *p, NodeId id)
{
    NodeKind k = dag_of(p)->nodes[id].kind;
    int paren = (op_info[k].form == F_LOGIC || op_info[k].form == F_NOT) && !is_local(p, id);
    buf_puts(out, paren ? "(" : "");
    put_condition(out, p, id);
    buf_puts(out, paren ? ")" : "");
}

/* A test as C writes it: a comparison or logic spelled out, anything else compared with
 * zero. */
static void put_test(Buf *out, const Printer *p, NodeId id)
{
    const Node *nd = &dag_of(p)->nodes[id];
    OpForm form = op_info[nd->kind].form;
    if (form == F_CMP) {
        put_operand(out, p, nd->a, P_ADD);
        buf_printf(out, " %s ", op_info[nd->kind].c);
        put_operand(out, p, nd->b, P_ADD);
    } else if (form == F_LOGIC) {
        put_logic_operand(out, p, nd->a);
        buf_printf(out, " %s ", op_info[nd->kind].c);
        put_logic_operand(out, p, nd->b);
    } else if (form == F_NOT) {
        buf_puts(out, "!");
        if (is_boolean(dag_of(p)->nodes[nd->a].kind) && !is_local(p, nd->a)) {
            buf_puts(out, "(");
            put_condition(out, p, nd->a);
            buf_puts(out, ")");
        } else {
            put_condition(out, p, nd->a);
        }
    } else {
        put_operand(out, p, id, P_ADD);
        buf_puts(out, " != ");
        put_real(out, 0.0, p->e->opt->real);
    }
}

/* A test, or the name of the boolean local that holds it. */
static void put_condition(Buf *out, const Printer *p, NodeId id)
{
    if (is_boolean(dag_of(p)->nodes[id].kind) && is_local(p, id))
        buf_puts(out, p->e->s.local[id]);
    else
        put_test(out, p, id);
}

/* A template of ops.h (see OpForm) with the node `operand` for '@': bare where it is a whole
 * argument, exp(@), else in parentheses unless it is primary, as -@ must not make --1.0 of a
 * constant -1. */
static void put_template(Buf *out, const Printer *p, const char *text, NodeId operand)
{
    RealType real = p->e->opt->real;
    for (const char *t = text; *t;) {
        if (*t == '@') {
            int whole = t > text && (t[-1] == '(' || t[-1] == ',') &&
                        (t[1] == ')' || t[1] == ',');
            put_operand(out, p, operand, whole ? P_TERNARY : P_PRIMARY);
            t++;
        } else if (*t >= '0' && *t <= '9') {
            char *end;
            put_real(out, strtod(t, &end), real);
            t = end;
        } else if (*t >= 'a' && *t <= 'z') {
            size_t n = strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789");
            buf_putn(out, t, n);
            if (t[n] == '(')
                buf_puts(out, real_suffix[real]);
            t += n;
        } else {
            buf_putn(out, t++, 1);
        }
    }
}

/* An operation node's expression in terms of its operands. */
static void put_node(Buf *out, const Printer *p, NodeId id)
{
    const Node *nd = &dag_of(p)->nodes[id];
    const OpInfo *op = &op_info[nd->kind];
    RealType real = p->e->opt->real;
    switch (op->form) {
    case F_ADD: case F_MUL: {
        int prec = op->form == F_ADD ? P_ADD : P_MUL;
        put_operand(out, p, nd->a, prec);
        buf_printf(out, " %s ", op->c);
        put_operand(out, p, nd->b, prec + 1); /* (a + b) + c but a + (b + c): keep the order */
        break;
    }
    case F_NEG:
        buf_puts(out, "-");
        put_operand(out, p, nd->a, P_PRIMARY);
        break;
    case F_CMP: case F_LOGIC: case F_NOT: /* as a value: 1 or 0 */
        buf_puts(out, "(");
        put_test(out, p, id);
        buf_puts(out, " ? ");
        put_real(out, 1.0, real);
        buf_puts(out, " : ");
        put_real(out, 0.0, real);
        buf_puts(out, ")");
        break;
    case F_IF: {
        /* (!c ? u : v) reads better as (c ? v : u) */
        NodeId test = nd->a, yes = nd->b, no = nd->c;
        if (dag_of(p)->nodes[test].kind == N_NOT && !is_local(p, test)) {
            test = dag_of(p)->nodes[test].a;
            yes = nd->c;
            no = nd->b;
        }
        buf_puts(out, "(");
        put_condition(out, p, test);
        buf_puts(out, " ? ");
        put_operand(out, p, yes, P_ADD);
        buf_puts(out, " : ");
        put_operand(out, p, no, P_ADD);
        buf_puts(out, ")");
        break;
    }
    case F_CALL: {
        NodeId ops[3] = {nd->a, nd->b, nd->c};
        buf_printf(out, "%s%s(", op->c, real_suffix[real]);
        for (int i = 0; i < op->arity; i++) {
            buf_puts(out, i ? ", " : "");
            put_expr(out, p, ops[i]);
        }
        buf_puts(out, ")");
        break;
    }
    case F_TEMPLATE:
        put_template(out, p, op->c, nd->a);
        break;
    case F_LEAF:
        abort(); /* constants and inputs are printed by put_expr */
    }
}

/* ---- comments ----------------------------------------------------------------------------------- */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The definition's source as a comment: bytes that could end the comment, form a trigraph
 * or are not printable ASCII are replaced, and a long definition is cut. */
static void put_source_comment(Buf *out, const Diag *diag, const DefOut *e)
{
    const Func *f = e->s.f;
    const Def *def = f->def;
    const char *s = diag->src + def->loc.begin, *end = diag->src + def->loc.end;
    Buf text = {0};
    if (def->bare) {
        buf_printf(&text, "%s(", f->name);
        for (int i = 0; i < f->nparams; i++)
            buf_printf(&text, "%s%s", i ? ", " : "", f->params[i].name);
        buf_printf(&text, ") = ");
    }
    int lines = 1, cols = (int)text.len, cut = 0;
    for (; s < end; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\r')
            continue;
        if (c == '\n') {
            if (++lines > MAX_COMMENT_LINES) {
                cut = 1;
                break;
            }
            cols = 0;
            buf_printf(&text, "\n");
            continue;
        }
        if (cols >= MAX_COMMENT_COLS) {
            cut = 1;
            while (s + 1 < end && s[1] != '\n')
                s++;
            continue;
        }
        if (c == '\t')
            c = ' ';
        else if (c < 0x20 || c > 0x7e)
            c = '?';
        char prev = text.len ? text.data[text.len - 1] : 0;
        if ((prev == '*' && c == '/') || (prev == '/' && c == '*') || (prev == '?' && c == '?'))
            buf_printf(&text, " ");
        buf_printf(&text, "%c", c);
        cols++;
    }
    if (cut)
        buf_printf(&text, " ...");
    if (def->bare && f->nparams > 1)
        buf_printf(&text, "\n(a bare expression: its inputs in the order they first appear)");
    if (!strchr(text.data, '\n')) {
        buf_printf(out, "/* %s */\n", text.data);
    } else {
        buf_puts(out, "/*\n");
        for (char *line = text.data, *nl; line; line = nl ? nl + 1 : NULL) {
            nl = strchr(line, '\n');
            int n = nl ? (int)(nl - line) : (int)strlen(line);
            buf_printf(out, n ? " * %.*s\n" : " *\n", n, line);
        }
        buf_puts(out, " */\n");
    }
    buf_free(&text);
}

/* ---- #line directives ---------------------------------------------------------------------- */

/* The output and what the compiler will take its current line to be: after a `#line N "in"`
 * the next output line is line N of the input, and each newline advances it. */
typedef struct {
    Buf *out;
    const EmitOptions *opt;
    int in_source;       /* a directive naming the input is in force */
    long source_line;    /* the input line that the line after the directive stands for */
    long mark_newlines;  /* the newlines written up to the end of that directive */
    size_t scanned;      /* out->data[0..scanned) has been counted: */
    long newlines;       /* this many newlines */
} Emitter;

static long count_newlines(Emitter *em, size_t upto)
{
    for (; em->scanned < upto; em->scanned++)
        em->newlines += em->out->data[em->scanned] == '\n';
    return em->newlines;
}

static void put_line_directive(Emitter *em, long line, const char *file)
{
    buf_printf(em->out, "#line %ld \"", line);
    for (const unsigned char *c = (const unsigned char *)file; *c; c++) {
        if (*c == '"' || *c == '\\')
            buf_printf(em->out, "\\%c", *c);
        else if (*c < 0x20 || *c > 0x7e)
            buf_printf(em->out, "\\%03o", *c);
        else
            buf_printf(em->out, "%c", *c);
    }
    buf_puts(em->out, "\"\n");
}

/* Makes the next output line stand for input line `line` (when #line is on and the line is
 * known), writing a directive only when the current mapping does not already say so. */
static void at_source_line(Emitter *em, int line)
{
    if (!em->opt->line_file || line <= 0)
        return;
    long now = count_newlines(em, em->out->len);
    if (em->in_source && em->source_line + (now - em->mark_newlines) == line)
        return;
    put_line_directive(em, line, em->opt->line_file);
    em->in_source = 1;
    em->source_line = line;
    em->mark_newlines = count_newlines(em, em->out->len);
}

/* Points the compiler back at the generated file, if its name is known. */
static void at_output_line(Emitter *em)
{
    if (!em->in_source || !em->opt->out_file)
        return;
    /* the directive sits on line newlines + 1; the line after it is line newlines + 2 */
    put_line_directive(em, count_newlines(em, em->out->len) + 2, em->opt->out_file);
    em->in_source = 0;
}

/* ---- functions ------------------------------------------------------------------------------ */

static void put_prototype(Buf *out, const DefOut *e, EntryKind k)
{
    const Func *f = e->s.f;
    const char *real = real_type[e->opt->real];
    if (e->opt->file_static)
        buf_puts(out, "static ADGEN_UNUSED ");
    buf_printf(out, "%s %s(", real, e->fn[k]);
    if (f->nparams == 0)
        buf_puts(out, "void");
    for (int i = 0; i < f->nparams; i++)
        buf_printf(out, "%s%s%s %s%s", i ? ", " : "", f->params[i].rank ? "const " : "", real,
                   f->params[i].rank ? "*" : "", e->s.param[i]);
    for (int i = 0; k == ENTRY_GRAD && i < f->nparams; i++)
        if (f->params[i].kind == PARAM_DIFF)
            buf_printf(out, ", %s *%s", real, e->s.gparam[i]);
    buf_puts(out, ")");
}

static void put_grad_comment(Buf *out, const DefOut *e)
{
    const Func *f = e->s.f;
    int n = 0;
    uint32_t scalars = 0;
    for (int i = 0; i < f->nparams; i++) {
        n += f->params[i].kind == PARAM_DIFF;
        scalars += f->params[i].kind == PARAM_DIFF ? f->params[i].size : 0;
    }
    buf_printf(out, "/* Returns %s(", e->fn[ENTRY_VALUE]);
    for (int i = 0; i < f->nparams; i++)
        buf_printf(out, "%s%s", i ? ", " : "", e->s.param[i]);
    buf_puts(out, ")");
    if (n > 0 && e->opt->accumulate)
        buf_printf(out, " and adds the partial derivative%s to ", scalars > 1 ? "s" : "");
    else if (n > 0)
        buf_puts(out, " and overwrites ");
    for (int i = 0, k = 0; i < f->nparams; i++) {
        const Param *p = &f->params[i];
        if (p->kind != PARAM_DIFF)
            continue;
        buf_printf(out, "%s", k++ == 0 ? "" : k == n ? " and " : ", ");
        if (p->rank)
            buf_printf(out, "%s[0..%u]", e->s.gparam[i], p->size - 1);
        else
            buf_printf(out, "*%s", e->s.gparam[i]);
    }
    if (n > 0 && !e->opt->accumulate)
        buf_printf(out, " with the partial derivative%s", scalars > 1 ? "s" : "");
    buf_puts(out, ". */\n");
}

static int line_of(const Func *f, NodeId id)
{
    int line = f->dag.meta[id].line;
    return line ? line : f->def->loc.first_line;
}

static void put_body(Emitter *em, const DefOut *e, const Entry *entry, const Body *b)
{
    Buf *out = em->out;
    const Func *f = e->s.f;
    const Dag *d = &f->dag;
    Printer pr = {e, b};
    int sweeps = entry_kind[entry->kind].sweeps;
    buf_puts(out, "{\n");
    for (int i = 0; i < f->nparams; i++) {
        const Param *pa = &f->params[i];
        uint32_t k = 0;
        while (k < pa->size && body_find(&e->s, b, f->input[pa->first + k]) < 0)
            k++;
        if (k == pa->size)
            buf_printf(out, "    (void)%s;\n", e->s.param[i]);
    }
    int section = 0;
    for (uint32_t k = 0; k < b->n; k++) {
        NodeId id = b->nodes[k];
        if (!b->local[k])
            continue;
        int want = id < f->nprimal ? 1 : 2;
        if (sweeps == 2 && section != want) {
            buf_printf(out, "%s    /* %s */\n", section ? "\n" : "",
                       want == 1 ? "forward sweep (eq. 5.143)" : "reverse sweep (eq. 5.145)");
            section = want;
        }
        at_source_line(em, line_of(f, id));
        if (is_boolean(d->nodes[id].kind)) { /* a test several selections share */
            buf_printf(out, "    const int %s = ", e->s.local[id]);
            put_test(out, &pr, id);
        } else {
            buf_printf(out, "    const %s %s = ", real_type[e->opt->real], e->s.local[id]);
            put_node(out, &pr, id);
        }
        buf_puts(out, ";\n");
    }
    if (sweeps == 2 && section)
        buf_puts(out, "\n");
    for (int r = 1; r < entry->nroots; r++) {
        const char *target = e->s.gparam[entry->param[r]];
        int array = f->params[entry->param[r]].rank > 0;
        if (e->opt->accumulate && dag_is_const(d, entry->roots[r], 0.0)) {
            /* (void) once for the whole array: no statement per untouched element */
            if (!array || entry->elem[r] == 0)
                buf_printf(out, "    (void)%s; /* %s does not depend on %s */\n", target,
                           e->fn[ENTRY_VALUE], array ? "some of its elements" : "it");
            continue;
        }
        at_source_line(em, line_of(f, entry->roots[r]));
        if (array)
            buf_printf(out, "    %s[%u] %s= ", target, entry->elem[r],
                       e->opt->accumulate ? "+" : "");
        else
            buf_printf(out, "    *%s %s= ", target, e->opt->accumulate ? "+" : "");
        put_expr(out, &pr, entry->roots[r]);
        buf_puts(out, ";\n");
    }
    at_source_line(em, line_of(f, entry->roots[0]));
    buf_puts(out, "    return ");
    put_expr(out, &pr, entry->roots[0]);
    buf_puts(out, ";\n}\n");
    at_output_line(em);
}

/* The file's names, then each definition's entry points, claimed in order. */
static DefOut *name_functions(const Program *prog, const EmitOptions *opt, NameSet *file_names,
                              Arena *arena)
{
    names_init(file_names, arena, 512, NULL);
    names_reserve_c(file_names);
    DefOut *defs = arena_alloc(arena, (size_t)prog->nfuncs * sizeof *defs);
    for (int i = 0; i < prog->nfuncs; i++) {
        const Func *f = &prog->funcs[i];
        const char *base = NULL;
        defs[i].opt = opt;
        for (int k = 0; k < ENTRY_KINDS; k++) {
            if (!(f->entries & 1u << k))
                continue;
            Buf want = {0};
            if (base)
                buf_printf(&want, "%s%s", base, entry_kind[k].suffix);
            else
                buf_printf(&want, "%s%s%s", opt->prefix ? opt->prefix : "",
                           opt->name ? opt->name : f->name, entry_kind[k].suffix);
            defs[i].fn[k] = names_claim(file_names, want.data);
            if (!base)
                base = defs[i].fn[k];
            buf_free(&want);
        }
    }
    return defs;
}

static void start_definition(DefOut *e, const Func *f, const NameSet *file_names, Arena *arena)
{
    sched_init(&e->s, f, arena, file_names);
    e->literal = arena_alloc(arena, f->dag.len * sizeof *e->literal);
}

static void header_comment(Buf *out, const Diag *diag)
{
    buf_printf(out, "/* Generated by adgen %s from %s. Do not edit. */\n", ADGEN_VERSION,
               base_name(diag->file));
}

int emit_check(const Program *prog, Diag *diag, const EmitOptions *opt)
{
    /* f_grad beside f: one of them would be renamed, and C calling f_grad would get the
     * other function */
    for (int i = 0; i < prog->nfuncs; i++) {
        const Func *f = &prog->funcs[i];
        size_t n = strlen(f->name);
        for (int j = 0; j < prog->nfuncs && n > 5; j++)
            if (strncmp(f->name, prog->funcs[j].name, n - 5) == 0 &&
                strlen(prog->funcs[j].name) == n - 5 && strcmp(f->name + n - 5, "_grad") == 0)
                diag_error(diag, f->def->bare ? f->def->loc : f->def->name_loc,
                           "'%s' is also the name of the gradient of '%s'", f->name,
                           prog->funcs[j].name);
    }
    if (opt->name && prog->nfuncs > 1) {
        const Def *second = prog->funcs[1].def;
        diag_error(diag, second->bare ? second->loc : second->name_loc,
                   "--name renames a file's only function, but this file defines %d",
                   prog->nfuncs);
    }
    return diag->errors;
}

void emit_source(const Program *prog, const Diag *diag, const EmitOptions *opt, Buf *out)
{
    Arena arena = {0};
    NameSet file_names;
    DefOut *defs = name_functions(prog, opt, &file_names, &arena);
    Emitter em = {.out = out, .opt = opt};

    for (int i = 0; i < prog->nfuncs; i++)
        start_definition(&defs[i], &prog->funcs[i], &file_names, &arena);
    header_comment(out, diag);
    buf_puts(out, "#include <math.h>\n\n");
    if (opt->file_static)
        buf_printf(out, "#ifndef ADGEN_UNUSED\n#if defined(__GNUC__)\n"
                        "#define ADGEN_UNUSED __attribute__((unused))\n#else\n"
                        "#define ADGEN_UNUSED\n#endif\n#endif\n\n");
    /* compiled as C++, the definitions take the C linkage the header declares */
    buf_puts(out, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n");
    for (int i = 0; i < prog->nfuncs; i++) {
        for (int k = 0; k < ENTRY_KINDS; k++) {
            if (prog->funcs[i].entries & 1u << k) {
                put_prototype(out, &defs[i], (EntryKind)k);
                buf_puts(out, ";\n");
            }
        }
    }
    buf_puts(out, "#ifdef __cplusplus\n}\n#endif\n");
    for (int i = 0; i < prog->nfuncs; i++) {
        DefOut *e = &defs[i];
        const Func *f = e->s.f;
        Entry entries[ENTRY_KINDS];
        Body bodies[ENTRY_KINDS];
        /* the bodies with two sweeps are scheduled first, so that a node they share with the
         * value function has the same name in both */
        for (int k = ENTRY_KINDS - 1; k >= 0; k--) {
            if (f->entries & 1u << k) {
                sched_entry(f, (EntryKind)k, &arena, &entries[k]);
                sched_body(&e->s, entries[k].roots, entries[k].nroots, &bodies[k]);
            }
        }
        buf_puts(out, "\n");
        put_source_comment(out, diag, e);
        for (int k = 0; k < ENTRY_KINDS; k++) {
            if (!(f->entries & 1u << k))
                continue;
            if (k == ENTRY_GRAD) {
                buf_puts(out, "\n");
                put_grad_comment(out, e);
            }
            at_source_line(&em, f->def->loc.first_line);
            put_prototype(out, e, (EntryKind)k);
            buf_puts(out, "\n");
            sched_activate(&e->s, &bodies[k]);
            put_body(&em, e, &entries[k], &bodies[k]);
            body_free(&bodies[k]);
        }
        sched_free(&e->s);
    }
    names_free(&file_names);
    arena_free(&arena);
}

/* ADGEN_<FILE NAME>_<FIRST FUNCTION>: letters and digits upper-cased, runs of anything else
 * one '_' (C++ reserves "__" anywhere). The function keeps two model.h of different
 * directories apart. */
static void put_guard(Buf *out, const char *header_name, const char *function)
{
    Buf text = {0};
    buf_printf(&text, "ADGEN_%s_%s", base_name(header_name), function);
    for (const char *c = text.data; *c; c++) {
        unsigned char u = (unsigned char)*c;
        if ((u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9'))
            buf_printf(out, "%c", u);
        else if (u >= 'a' && u <= 'z')
            buf_printf(out, "%c", u - 'a' + 'A');
        else if (out->data[out->len - 1] != '_')
            buf_puts(out, "_");
    }
    buf_free(&text);
}

void emit_header(const Program *prog, const Diag *diag, const EmitOptions *opt, Buf *out)
{
    const char *header_name = opt->header_name ? opt->header_name : "adgen.h";
    Arena arena = {0};
    NameSet file_names;
    DefOut *defs = name_functions(prog, opt, &file_names, &arena);
    const char *first = defs[0].fn[ENTRY_VALUE];

    header_comment(out, diag);
    buf_puts(out, "#ifndef ");
    put_guard(out, header_name, first);
    buf_puts(out, "\n#define ");
    put_guard(out, header_name, first);
    buf_puts(out, "\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n");
    for (int i = 0; i < prog->nfuncs; i++) {
        DefOut *e = &defs[i];
        start_definition(e, &prog->funcs[i], &file_names, &arena);
        buf_puts(out, "\n");
        put_source_comment(out, diag, e);
        for (int k = 0; k < ENTRY_KINDS; k++) {
            if (!(prog->funcs[i].entries & 1u << k))
                continue;
            if (k == ENTRY_GRAD)
                put_grad_comment(out, e);
            put_prototype(out, e, (EntryKind)k);
            buf_puts(out, ";\n");
        }
        sched_free(&e->s);
    }
    buf_puts(out, "\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
    names_free(&file_names);
    arena_free(&arena);
}
