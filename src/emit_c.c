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

/* ---- per-definition state -------------------------------------------------------------------- */

typedef struct {
    Sched s;
    const EmitOptions *opt;
    const char *fn[ENTRY_KINDS]; /* the C names of the entry points */
    const char *row[ENTRY_KINDS], *col[ENTRY_KINDS]; /* a sparse entry's pattern arrays */
    const char *index;           /* the loop variable that zeroes a dense matrix */
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

static void put_prototype(Buf *out, const DefOut *e, const Entry *entry)
{
    const Func *f = e->s.f;
    const char *real = real_type[e->opt->real];
    if (e->opt->file_static)
        buf_puts(out, "static ADGEN_UNUSED ");
    buf_printf(out, "%s %s(", entry->ret ? real : "void", e->fn[entry->kind]);
    if (f->nparams + entry->nargs == 0)
        buf_puts(out, "void");
    for (int i = 0; i < f->nparams; i++)
        buf_printf(out, "%s%s%s %s%s", i ? ", " : "", f->params[i].rank ? "const " : "", real,
                   f->params[i].rank ? "*" : "", e->s.param[i]);
    for (int i = 0; i < entry->nargs; i++) {
        const Arg *a = &entry->args[i];
        buf_printf(out, "%s%s%s %s%s", f->nparams + i ? ", " : "",
                   !a->out && a->array ? "const " : "", real, a->out || a->array ? "*" : "",
                   a->name);
    }
    buf_puts(out, ")");
}

/* "name" for a scalar argument (*name for a pointer), "name[0..n-1]" for an array. */
static void put_arg_ref(Buf *out, const Arg *a)
{
    if (a->array)
        buf_printf(out, "%s[0..%u]", a->name, a->size ? a->size - 1 : 0);
    else
        buf_printf(out, "%s%s", a->out ? "*" : "", a->name);
}

/* The args of `entry` that belong to inputs, `out` or not, listed "a, b and c". */
static void put_arg_list(Buf *out, const Entry *entry, int outs)
{
    int n = 0, k = 0;
    for (int i = 0; i < entry->nargs; i++)
        n += entry->args[i].param >= 0 && entry->args[i].out == outs;
    for (int i = 0; i < entry->nargs; i++) {
        const Arg *a = &entry->args[i];
        if (a->param < 0 || a->out != outs)
            continue;
        buf_printf(out, "%s", k++ == 0 ? "" : k == n ? " and " : ", ");
        put_arg_ref(out, a);
    }
}

static const Arg *find_arg(const Entry *entry, const char *name)
{
    for (int i = 0; i < entry->nargs; i++)
        if (entry->args[i].name == name)
            return &entry->args[i];
    return NULL;
}

/* The differentiated scalars in order, the columns of a Jacobian: "x[0..9], then y". */
static void put_columns(Buf *out, const DefOut *e)
{
    const Func *f = e->s.f;
    int n = 0, k = 0;
    for (int i = 0; i < f->nparams; i++)
        n += f->params[i].kind == PARAM_DIFF;
    for (int i = 0; i < f->nparams; i++) {
        const Param *p = &f->params[i];
        if (p->kind != PARAM_DIFF)
            continue;
        buf_printf(out, "%s%s", k++ == 0 ? "" : k == n ? " then " : ", ", e->s.param[i]);
        if (p->rank)
            buf_printf(out, "[0..%u]", p->size - 1);
    }
}

/* What a gradient or a vector-Jacobian product stores. */
static void put_what(Buf *t, const Entry *entry, const DefOut *e)
{
    const Func *f = e->s.f;
    if (entry->kind == ENTRY_GRAD)
        buf_printf(t, "the partial derivative%s", f->ndiff > 1 ? "s" : "");
    else if (f->vector)
        buf_printf(t, "the product of %s[0..%d] and the Jacobian (J^T %s)", e->s.out_bar,
                   f->nroots - 1, e->s.out_bar);
    else
        buf_printf(t, "%s times the partial derivative%s", e->s.out_bar,
                   f->ndiff > 1 ? "s" : "");
}

/* What an entry point computes, in a comment before its prototype. */
static void put_entry_comment(Buf *out, const DefOut *e, const Entry *entry)
{
    const Func *f = e->s.f;
    const char *value = e->fn[ENTRY_VALUE];
    Buf t = {0};
    if (f->vector)
        buf_printf(&t, "Stores the %d values of %s in %s[0..%d]", f->nroots, value, e->s.out,
                   f->nroots - 1);
    else
        buf_printf(&t, "Returns %s(", value);
    for (int i = 0; !f->vector && i < f->nparams; i++)
        buf_printf(&t, "%s%s", i ? ", " : "", e->s.param[i]);
    buf_puts(&t, f->vector ? "" : ")");
    int accumulate = e->opt->accumulate && (entry->kind == ENTRY_GRAD || entry->kind == ENTRY_VJP);
    const char *verb = accumulate ? "adds" : "stores";
    switch (entry->kind) {
    case ENTRY_VALUE:
        if (!f->vector) {
            buf_free(&t);
            return;
        }
        break;
    case ENTRY_GRAD: case ENTRY_VJP:
        if (!f->ndiff)
            break;
        buf_puts(&t, accumulate ? " and adds " : " and overwrites ");
        if (accumulate) {
            put_what(&t, entry, e);
            buf_puts(&t, " to ");
            put_arg_list(&t, entry, 1);
        } else {
            put_arg_list(&t, entry, 1);
            buf_puts(&t, " with ");
            put_what(&t, entry, e);
        }
        break;
    case ENTRY_JVP:
        buf_printf(&t, " and %s in ", verb);
        put_arg_ref(&t, find_arg(entry, e->s.out_dot));
        buf_puts(&t, " the derivative along the direction ");
        put_arg_list(&t, entry, 0);
        buf_puts(&t, " (J times it)");
        break;
    case ENTRY_JAC: case ENTRY_HESS: {
        int jac = entry->kind == ENTRY_JAC;
        uint32_t rows = jac ? (uint32_t)f->nroots : f->ndiff;
        buf_printf(&t, " and stores its %s in %s[0..%llu], row-major, %u x %u: entry (i, j) is "
                   "the derivative of %s by the %s scalar j, in the order ", jac ? "Jacobian" :
                   "Hessian (symmetric)", jac ? e->s.jac : e->s.hess,
                   (unsigned long long)rows * f->ndiff - ((uint64_t)rows * f->ndiff > 0),
                   rows, f->ndiff, jac ? (f->vector ? "value i" : "the value") :
                   "partial derivative i", "differentiated");
        put_columns(&t, e);
        break;
    }
    case ENTRY_JAC_SPARSE: case ENTRY_HESS_SPARSE: {
        int jac = entry->kind == ENTRY_JAC_SPARSE;
        buf_printf(&t, " and stores the %u structural nonzeros of its %s in %s[0..%u]: entry k "
                   "is (%s[k], %s[k]), by row, then column; the columns are ", entry->pattern->nnz,
                   jac ? "Jacobian" : "Hessian's lower triangle", jac ? e->s.jac_nz : e->s.hess_nz,
                   entry->pattern->nnz ? entry->pattern->nnz - 1 : 0, e->row[entry->kind],
                   e->col[entry->kind]);
        put_columns(&t, e);
        break;
    }
    case ENTRY_HVP:
        buf_printf(&t, " and %s in ", verb);
        put_arg_list(&t, entry, 1);
        buf_puts(&t, " the Hessian times the direction ");
        put_arg_list(&t, entry, 0);
        break;
    case ENTRY_KINDS:
        abort();
    }
    buf_puts(&t, ".");
    /* wrapped at 96 columns */
    buf_puts(out, "/*");
    size_t col = 2;
    for (char *w = t.data, *sp; *w; w = sp ? sp + 1 : w + strlen(w)) {
        sp = strchr(w, ' ');
        size_t n = sp ? (size_t)(sp - w) : strlen(w);
        if (col + 1 + n > 96) {
            buf_puts(out, "\n *");
            col = 2;
        }
        buf_printf(out, " %.*s", (int)n, w);
        col += 1 + n;
    }
    buf_puts(out, " */\n");
    buf_free(&t);
}

static int line_of(const Func *f, NodeId id)
{
    int line = f->dag.meta[id].line;
    return line ? line : f->def->loc.first_line;
}

/* Which of f's sweeps node id belongs to. */
static int sweep_of(const Func *f, NodeId id)
{
    int k = 0;
    while (k + 1 < f->nsweeps && f->sweeps[k + 1].first <= id)
        k++;
    return k;
}

static void put_body(Emitter *em, const DefOut *e, const Entry *entry, const Body *b)
{
    Buf *out = em->out;
    const Func *f = e->s.f;
    const Dag *d = &f->dag;
    Printer pr = {e, b};
    /* a forward sweep carrying the tangents (eq. 5.121) is one section */
    int titled = entry->kind != ENTRY_VALUE && entry->kind != ENTRY_JVP;
    buf_puts(out, "{\n");
    for (int i = 0; i < f->nparams; i++) {
        const Param *pa = &f->params[i];
        uint32_t k = 0;
        while (k < pa->size && body_find(&e->s, b, f->input[pa->first + k]) < 0)
            k++;
        if (k == pa->size)
            buf_printf(out, "    (void)%s;\n", e->s.param[i]);
    }
    /* an argument nothing reads or stores (a direction the result does not depend on) */
    for (int i = 0; i < entry->nargs; i++) {
        const Arg *a = &entry->args[i];
        int used = a->fill;
        for (uint32_t r = 0; r < entry->nstores && !used; r++)
            used = entry->arg[r] == i;
        for (uint32_t k = 0; !a->out && k < a->size && !used; k++)
            used = body_find(&e->s, b, f->input[a->slot + k]) >= 0;
        if (!used)
            buf_printf(out, "    (void)%s;\n", a->name);
    }
    int section = -1;
    for (uint32_t k = 0; k < b->n; k++) {
        NodeId id = b->nodes[k];
        if (!b->local[k])
            continue;
        int want = sweep_of(f, id);
        if (titled && section != want) {
            buf_printf(out, "%s    /* %s */\n", section >= 0 ? "\n" : "", f->sweeps[want].title);
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
    if (titled && section >= 0)
        buf_puts(out, "\n");
    int accumulate = e->opt->accumulate && (entry->kind == ENTRY_GRAD || entry->kind == ENTRY_VJP);
    for (int i = 0; i < entry->nargs; i++)
        if (entry->args[i].fill)
            buf_printf(out, "    for (int %s = 0; %s < %u; %s++)\n        %s[%s] = %s;\n",
                       e->index, e->index, entry->args[i].size, e->index, entry->args[i].name,
                       e->index, e->opt->real == REAL_FLOAT ? "0.0f" :
                       e->opt->real == REAL_LONG_DOUBLE ? "0.0L" : "0.0");
    for (uint32_t r = 0; r < entry->nstores; r++) {
        const Arg *a = &entry->args[entry->arg[r]];
        if (accumulate && dag_is_const(d, entry->roots[r], 0.0)) {
            /* (void) once for the whole array: no statement per untouched element */
            if (!a->array || entry->elem[r] == 0)
                buf_printf(out, "    (void)%s; /* %s does not depend on %s */\n", a->name,
                           e->fn[ENTRY_VALUE], a->array ? "some of its elements" : "it");
            continue;
        }
        at_source_line(em, line_of(f, entry->roots[r]));
        if (a->array)
            buf_printf(out, "    %s[%u] %s= ", a->name, entry->elem[r], accumulate ? "+" : "");
        else
            buf_printf(out, "    *%s %s= ", a->name, accumulate ? "+" : "");
        put_expr(out, &pr, entry->roots[r]);
        buf_puts(out, ";\n");
    }
    if (entry->ret) {
        at_source_line(em, line_of(f, entry->ret));
        buf_puts(out, "    return ");
        put_expr(out, &pr, entry->ret);
        buf_puts(out, ";\n");
    }
    buf_puts(out, "}\n");
    at_output_line(em);
}

/* A sparse entry's pattern arrays: declared (the header, the prototypes), or defined. An
 * empty pattern has arrays of one unused element, as C has no empty arrays. */
static void put_pattern(Buf *out, const DefOut *e, const Entry *entry, int define)
{
    const Sparse *sp = entry->pattern;
    const uint32_t *lists[2] = {sp->row, sp->col};
    const char *names[2] = {e->row[entry->kind], e->col[entry->kind]};
    for (int w = 0; w < 2; w++) {
        if (define && e->opt->file_static)
            buf_puts(out, "static ADGEN_UNUSED ");
        else if (!define)
            buf_puts(out, "extern ");
        buf_printf(out, "const int %s[%u]", names[w], sp->nnz ? sp->nnz : 1);
        if (!define) {
            buf_puts(out, ";\n");
            continue;
        }
        buf_puts(out, " = {");
        for (uint32_t k = 0; k < sp->nnz || k == 0; k++) {
            buf_printf(out, "%s%s%u", k ? "," : "", k % 16 ? " " : "\n    ",
                       sp->nnz ? lists[w][k] : 0);
        }
        buf_puts(out, "\n};\n");
    }
}

/* A C name upper-cased, for a macro. */
static void put_upper(Buf *out, const char *name)
{
    for (const char *c = name; *c; c++)
        buf_printf(out, "%c", *c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
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
                buf_printf(&want, "%s%s", base, entry_suffix[k]);
            else
                buf_printf(&want, "%s%s%s", opt->prefix ? opt->prefix : "",
                           opt->name ? opt->name : f->name, entry_suffix[k]);
            defs[i].fn[k] = names_claim(file_names, want.data);
            if (!base)
                base = defs[i].fn[k];
            if (k == ENTRY_JAC_SPARSE || k == ENTRY_HESS_SPARSE) {
                buf_printf(&want, "_row");
                defs[i].row[k] = names_claim(file_names, want.data);
                want.len -= 4;
                buf_printf(&want, "_col");
                defs[i].col[k] = names_claim(file_names, want.data);
            }
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
        for (int j = 0; j < prog->nfuncs; j++) {
            const Func *g = &prog->funcs[j];
            size_t m = strlen(g->name);
            for (int k = 1; k < ENTRY_KINDS; k++)
                if (g->entries & 1u << k && n > m && strncmp(f->name, g->name, m) == 0 &&
                    strcmp(f->name + m, entry_suffix[k]) == 0)
                    diag_error(diag, f->def->bare ? f->def->loc : f->def->name_loc,
                               "'%s' is also the name of the %s entry point of '%s'", f->name,
                               entry_name[k], g->name);
        }
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
    /* the bodies, scheduled before anything prints: those with two sweeps first, so that a
     * node they share with the value function has the same name in both */
    Entry(*entries)[ENTRY_KINDS] = arena_alloc(&arena, (size_t)prog->nfuncs * sizeof *entries);
    Body(*bodies)[ENTRY_KINDS] = arena_alloc(&arena, (size_t)prog->nfuncs * sizeof *bodies);
    for (int i = 0; i < prog->nfuncs; i++) {
        DefOut *e = &defs[i];
        for (int k = ENTRY_KINDS - 1; k >= 0; k--) {
            if (e->s.f->entries & 1u << k) {
                sched_entry(&e->s, (EntryKind)k, &entries[i][k]);
                sched_body(&e->s, entries[i][k].roots, (int)entries[i][k].nroots,
                           &bodies[i][k], k == ENTRY_JVP);
            }
        }
        e->index = names_claim(&e->s.names, "k");
    }
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
                put_prototype(out, &defs[i], &entries[i][k]);
                buf_puts(out, ";\n");
                if (entries[i][k].pattern && !opt->file_static)
                    put_pattern(out, &defs[i], &entries[i][k], 0);
            }
        }
    }
    buf_puts(out, "#ifdef __cplusplus\n}\n#endif\n");
    for (int i = 0; i < prog->nfuncs; i++) {
        DefOut *e = &defs[i];
        const Func *f = e->s.f;
        buf_puts(out, "\n");
        put_source_comment(out, diag, e);
        for (int k = 0; k < ENTRY_KINDS; k++) {
            if (!(f->entries & 1u << k))
                continue;
            Entry *entry = &entries[i][k];
            if (k != ENTRY_VALUE)
                buf_puts(out, "\n");
            if (entry->pattern)
                put_pattern(out, e, entry, 1);
            put_entry_comment(out, e, entry);
            at_source_line(&em, f->def->loc.first_line);
            put_prototype(out, e, entry);
            buf_puts(out, "\n");
            sched_activate(&e->s, &bodies[i][k]);
            put_body(&em, e, entry, &bodies[i][k]);
            body_free(&bodies[i][k]);
            entry_free(entry);
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
            Entry entry;
            sched_entry(&e->s, (EntryKind)k, &entry);
            put_entry_comment(out, e, &entry);
            put_prototype(out, e, &entry);
            buf_puts(out, ";\n");
            if (entry.pattern) {
                buf_puts(out, "#define ");
                put_upper(out, e->fn[k]);
                buf_printf(out, "_NNZ %u\n", entry.pattern->nnz);
                put_pattern(out, e, &entry, 0);
            }
            entry_free(&entry);
        }
        sched_free(&e->s);
    }
    buf_puts(out, "\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
    names_free(&file_names);
    arena_free(&arena);
}
