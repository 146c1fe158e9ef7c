/*
 * explain.c: the graph and the sweeps for readers, from the DAG the C is generated from.
 * Input: differentiated Funcs. Output: Graphviz DOT of the computational graph (fig. 5.11),
 * optionally with the reverse sweep's edges labelled by their local partials (--dot,
 * --dot=adjoint), or the sweeps as equations in the book's notation (--explain): the forward
 * sweep (eqs. 5.123-5.128), the local partials (eqs. 5.129-5.134), the reverse sweep
 * (eqs. 5.135-5.138) and the same with the partials substituted (eqs. 5.139-5.142), as plain
 * text, a LaTeX align* block or Markdown.
 *
 * Every operation of the primal is one equation and has a name: its source name, the
 * function's name for the output (the book's f), else t1, t2, ... in id order. A local partial
 * is what deriv.c builds for a factor 1 (so it is the rule the gradient uses, after the same
 * folding), printed with the differentiated node spelled out (d exp(a)/da = exp(a), not b).
 * Printing recurses only into expressions of bounded depth: a partial's own nodes (at most
 * MAX_DEPTH deep) and, in a collapsed DOT graph, operations inlined at most MAX_INLINE deep.
 * The walks over the graph are loops in id order.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

#define MAX_DEPTH 12    /* a partial's expression: deeper parts print as "..." */
#define MAX_INLINE 4    /* a collapsed DOT node shows at most this many levels of operations */
#define COLLAPSE_OVER 40 /* DOT graphs with more operations inline the unnamed single-use ones */

/* One term of eq. 5.145: consumer w of node v (its operand i) and the partial dw/dv. */
typedef struct {
    NodeId v, w, partial;
    uint32_t next;
} Term;

typedef struct {
    Func *f;
    Dag *d;
    uint32_t n;          /* the primal's nodes: ids below n */
    ExplainStyle style;
    Arena arena;
    NameSet names;
    const char **name;   /* per primal node in the body: its name */
    uint8_t *body;       /* per primal node: reached from the output */
    uint8_t *inlined;    /* DOT: printed inside its one consumer */
    uint8_t *looped;     /* --explain: per primal node, a kept sum reads it (its adjoint has
                            the steps' terms too), or NULL */
    uint8_t *reaches;    /* per primal node, its adjoint from root is not structurally 0 (a
                            step of several states, which has no gradient of its own), or NULL:
                            the function's gradient says */
    NodeId root, expand; /* expand: printed as its definition, not its name */
    uint32_t *head, *tail, *count; /* per primal node: its terms, in consumer order */
    Term *terms;
    uint32_t nterms;
    int lines;           /* LaTeX: equations since the last heading (each ends with \\) */
    const char *scope;   /* DOT: what its node ids start with ("f0", a loop's "f0l1") */
    const char **ovar;   /* per kept loop of a sum per step, its outer variable's name: the
                            source's, with a _ where it is the sum's own (a callee's i in the
                            caller's loop over i) */
} Ex;

/* ---- names ------------------------------------------------------------------------------- */

static const char *element_name(Ex *x, const Param *pa, uint32_t k)
{
    Buf t = {0};
    buf_puts(&t, pa->name);
    for (int r = 0, stride = (int)pa->size; r < pa->rank; r++) {
        stride /= (int)pa->dims[r];
        buf_printf(&t, "[%u]", (unsigned)(k / (uint32_t)stride % pa->dims[r]));
    }
    const char *s = arena_strndup(&x->arena, t.data, t.len);
    buf_free(&t);
    return s;
}

static void choose_inlined(Ex *x);

/* The body (a loop down from the output, ids being topological) and the names of its nodes;
 * collapse: inline unnamed single-use operations (choose_inlined), which get no name. */
static void ex_init(Ex *x, Func *f, ExplainStyle style, int collapse)
{
    memset(x, 0, sizeof *x);
    x->f = f;
    x->d = &f->dag;
    x->n = f->nprimal;
    x->style = style;
    x->root = f->roots[0];
    x->name = arena_alloc(&x->arena, x->n * sizeof *x->name);
    memset(x->name, 0, x->n * sizeof *x->name);
    x->body = xrealloc(NULL, x->n);
    x->inlined = xrealloc(NULL, x->n);
    memset(x->body, 0, x->n);
    memset(x->inlined, 0, x->n);
    /* from every root (a recurrence's iteration has one a state), and what kept loops read
     * of the function: their captures and the states' first values */
    NodeId top = 0;
    for (int r = 0; r < f->nroots; r++) {
        x->body[f->roots[r]] = 1;
        top = f->roots[r] > top ? f->roots[r] : top;
    }
    for (int l = 0; l < f->nloops; l++) {
        const Loop *lp = &f->loops[l];
        for (uint32_t c = 0; c < lp->ncap + lp->nstate; c++) {
            NodeId id = c < lp->ncap ? lp->cap[c] : lp->init[c - lp->ncap];
            x->body[id] = id < x->n;
            top = id < x->n && id > top ? id : top;
        }
    }
    dag_reach(x->d, top, x->body);
    x->body[0] = 0;
    x->ovar = arena_alloc(&x->arena, ((size_t)f->nloops + 1) * sizeof *x->ovar);
    for (int l = 0; l < f->nloops; l++) {
        const Loop *lp = &f->loops[l];
        x->ovar[l] = lp->ovar;
        if (lp->ovar && strcmp(lp->ovar, lp->var) == 0) {
            size_t n = strlen(lp->ovar);
            char *o = arena_alloc(&x->arena, n + 2);
            memcpy(o, lp->ovar, n);
            memcpy(o + n, "_", 2);
            x->ovar[l] = o;
        }
    }
    if (collapse)
        choose_inlined(x);
    names_init(&x->names, &x->arena, 16, NULL);
    for (int p = 0; p < f->nparams; p++) {
        const Param *pa = &f->params[p];
        names_claim(&x->names, pa->name);
        for (uint32_t k = 0; k < pa->size; k++)
            x->name[f->input[pa->first + k]] = pa->rank ? element_name(x, pa, k) : pa->name;
    }
    for (NodeId id = 1; id < x->n; id++)
        if (x->body[id] && node_is_op(x->d, id) && x->d->meta[id].label)
            x->name[id] = names_claim(&x->names, x->d->meta[id].label);
    if (!x->name[x->root] && node_is_op(x->d, x->root) && (f->nroots == 1 || f->iteration))
        x->name[x->root] = names_claim(&x->names, f->name);
    for (int r = 0; !f->iteration && f->nroots > 1 && r < f->nroots; r++) {
        NodeId v = f->roots[r]; /* a list's values: f[0], f[1], ... */
        if (x->name[v] || !node_is_op(x->d, v))
            continue;
        char want[64];
        snprintf(want, sizeof want, "%.40s[%d]", f->name, r);
        x->name[v] = arena_strndup(&x->arena, want, strlen(want));
    }
    unsigned temps = 0;
    for (NodeId id = 1; id < x->n; id++) {
        if (!x->body[id] || x->name[id] || !node_is_op(x->d, id) || x->inlined[id])
            continue;
        char want[24];
        do
            snprintf(want, sizeof want, "t%u", ++temps);
        while (names_taken(&x->names, want));
        x->name[id] = names_claim(&x->names, want);
    }
}

static void ex_free(Ex *x)
{
    names_free(&x->names);
    free(x->reaches);
    free(x->body);
    free(x->inlined);
    free(x->head);
    free(x->tail);
    free(x->count);
    free(x->terms);
    arena_free(&x->arena);
}

static int has_adjoint(const Ex *x, NodeId id)
{
    if (x->reaches)
        return id && id < x->n && x->reaches[id];
    return id && id < x->n && id < x->f->adj.len && x->f->adj.of[id];
}

/* x's root made `root`, one of its function's several: the nodes with an adjoint are those
 * that depend on a differentiated input (a kept loop's iteration: a load of a differentiated
 * array, an active state or capture) and from which a chain of partials not structurally 0
 * leads to it (ids are topological). */
static void ex_root(Ex *x, NodeId root)
{
    const Func *f = x->f;
    uint8_t *active = xrealloc(NULL, x->n);
    memset(active, 0, x->n);
    for (int p = 0; p < f->nparams; p++) /* an iteration's index is data */
        for (uint32_t k = 0; f->params[p].kind == PARAM_DIFF && k < f->params[p].size; k++)
            if (f->input[f->params[p].first + k] < x->n)
                active[f->input[f->params[p].first + k]] = 1;
    for (NodeId id = 1; id < x->n; id++) {
        const Node *nd = &x->d->nodes[id];
        NodeId ops[3] = {nd->a, nd->b, nd->c};
        for (int i = 0; node_is_op(x->d, id) && i < node_arity(nd->kind); i++)
            active[id] |= active[ops[i]];
    }
    x->root = root;
    free(x->reaches);
    x->reaches = xrealloc(NULL, x->n);
    memset(x->reaches, 0, x->n);
    if (root < x->n && node_is_op(x->d, root) && active[root])
        x->reaches[root] = 1;
    NodeId one = dag_const(x->d, 1.0);
    for (NodeId w = root < x->n ? root : 0; w > 0; w--) {
        if (!x->reaches[w] || !node_is_op(x->d, w))
            continue;
        const Node *nd = &x->d->nodes[w];
        NodeId ops[3] = {nd->a, nd->b, nd->c}, zero;
        for (int i = 0; i < node_arity(nd->kind); i++) {
            NodeId p = deriv_term(x->d, w, i, one, 0, &zero);
            if (p && !dag_is_const(x->d, p, 0.0) && ops[i] < x->n && active[ops[i]])
                x->reaches[ops[i]] = 1;
        }
    }
    free(active);
}

/* The local partials, from deriv.c's rules with the factor 1, chained per operand in the
 * order of the consumers' ids (the book's order of terms in eqs. 5.135-5.138). */
static void ex_terms(Ex *x)
{
    x->head = xrealloc(NULL, x->n * sizeof *x->head);
    x->tail = xrealloc(NULL, x->n * sizeof *x->tail);
    x->count = xrealloc(NULL, x->n * sizeof *x->count);
    memset(x->head, 0, x->n * sizeof *x->head);
    memset(x->tail, 0, x->n * sizeof *x->tail);
    memset(x->count, 0, x->n * sizeof *x->count);
    uint32_t cap = 64;
    x->terms = xrealloc(NULL, cap * sizeof *x->terms);
    x->nterms = 1; /* term 0 means none */
    NodeId one = dag_const(x->d, 1.0);
    for (NodeId w = 1; w < x->n; w++) {
        if (!x->body[w] || !has_adjoint(x, w) || !node_is_op(x->d, w))
            continue;
        Node nd = x->d->nodes[w];
        NodeId ops[3] = {nd.a, nd.b, nd.c};
        for (int i = 0; i < node_arity(nd.kind); i++) {
            NodeId zero, v = ops[i];
            if (!has_adjoint(x, v))
                continue;
            NodeId p = deriv_term(x->d, w, i, one, 0, &zero);
            if (!p || dag_is_const(x->d, p, 0.0))
                continue;
            if (x->nterms == cap) {
                cap *= 2;
                x->terms = xrealloc(x->terms, cap * sizeof *x->terms);
            }
            uint32_t t = x->nterms++;
            x->terms[t] = (Term){v, w, p, 0};
            if (x->tail[v])
                x->terms[x->tail[v]].next = t;
            else
                x->head[v] = t;
            x->tail[v] = t;
            x->count[v]++;
        }
    }
}

/* A node whose one term comes from the output: its adjoint is that local partial. */
static int direct(const Ex *x, NodeId v)
{
    return x->count[v] == 1 && x->terms[x->head[v]].w == x->root;
}

/* ---- expressions ------------------------------------------------------------------------- */

enum { P_OR = 1, P_AND, P_CMP, P_ADD, P_MUL, P_UNARY, P_POW, P_PRIMARY };

static int is_latex(const Ex *x)
{
    return x->style != EXPLAIN_TEXT;
}

/* Whether id prints as a name (or a number), not as an operation. */
static int is_named(const Ex *x, NodeId id)
{
    return id < x->n && x->name[id] && id != x->expand && !x->inlined[id];
}

/* The language writes an operation as C does (its form), but a power as x^y. */
static int prec_of(const Ex *x, NodeId id)
{
    const Node *nd = &x->d->nodes[id];
    if (nd->kind == N_CONST)
        return signbit(nd->k) ? P_UNARY : P_PRIMARY;
    if (is_named(x, id))
        return P_PRIMARY;
    switch (op_info[nd->kind].form) {
    case F_ADD: return P_ADD;
    case F_MUL:
        if (nd->kind == N_DIV)
            return is_latex(x) ? P_PRIMARY : P_MUL;
        return nd->a == nd->b ? P_POW : P_MUL;
    case F_NEG: case F_NOT: return P_UNARY;
    case F_CMP: return P_CMP;
    case F_LOGIC: return nd->kind == N_AND ? P_AND : P_OR;
    case F_CALL: return nd->kind == N_POW ? P_POW : P_PRIMARY;
    case F_LEAF: case F_IF: case F_TEMPLATE: return P_PRIMARY;
    }
    return P_PRIMARY;
}

/* A number as the language writes it: the shortest form that reads back to it. */
static void put_number(Buf *out, double v)
{
    char s[40];
    if (isinf(v)) {
        buf_puts(out, v < 0 ? "-inf" : "inf");
        return;
    }
    int p = 1;
    do
        snprintf(s, sizeof s, "%.*g", p, v);
    while (strtod(s, NULL) != v && ++p <= 17);
    buf_puts(out, s);
}

/* A name in LaTeX: one letter and digits as a subscript (t1: t_{1}), longer ones upright
 * italic; the [i][j] of an element as a subscript i,j. */
static void put_latex_name(Buf *out, const char *s)
{
    size_t stem = strcspn(s, "[");
    size_t letters = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
    int simple = letters == 1 && strspn(s + 1, "0123456789") == stem - 1;
    if (simple) {
        buf_putn(out, s, 1);
        if (stem > 1) {
            buf_puts(out, "_{");
            buf_putn(out, s + 1, stem - 1);
            buf_puts(out, "}");
        }
    } else {
        buf_puts(out, "\\mathit{");
        for (size_t i = 0; i < stem; i++)
            buf_puts(out, s[i] == '_' ? "\\_" : (char[]){s[i], 0});
        buf_puts(out, "}");
    }
    if (!s[stem])
        return;
    buf_puts(out, "_{"); /* the indices as written, x_{k+1}, X_{i,0} */
    for (const char *c = s + stem; *c; c++)
        if (*c == '[' && c != s + stem)
            buf_puts(out, ",");
        else if (*c == '_')
            buf_puts(out, "\\_");
        else if (*c != '[' && *c != ']' && *c != ' ')
            buf_putn(out, c, 1);
    buf_puts(out, "}");
}

static void put_name(const Ex *x, Buf *out, const char *s)
{
    if (is_latex(x))
        put_latex_name(out, s);
    else
        buf_puts(out, s);
}

static void put_expr(Ex *x, Buf *out, NodeId id, int depth);

static void put_operand(Ex *x, Buf *out, NodeId id, int min_prec, int depth)
{
    int paren = prec_of(x, id) < min_prec;
    buf_puts(out, paren ? (is_latex(x) ? "\\left(" : "(") : "");
    put_expr(x, out, id, depth);
    buf_puts(out, paren ? (is_latex(x) ? "\\right)" : ")") : "");
}

static void put_call(Ex *x, Buf *out, const Node *nd, int depth)
{
    const OpInfo *op = &op_info[nd->kind];
    const char *name = op->lang ? op->lang : op->word;
    if (is_latex(x) && op->tex)
        buf_puts(out, op->tex);
    else if (is_latex(x))
        buf_printf(out, "\\operatorname{%s}", name);
    else
        buf_puts(out, name);
    buf_puts(out, is_latex(x) ? "\\left(" : "(");
    NodeId ops[3] = {nd->a, nd->b, nd->c};
    for (int i = 0; i < node_arity(nd->kind); i++) {
        buf_puts(out, i ? ", " : "");
        put_expr(x, out, ops[i], depth + 1);
    }
    buf_puts(out, is_latex(x) ? "\\right)" : ")");
}

/* A node as an expression of named nodes; recursion only through unnamed nodes, which are a
 * partial's own (bounded by its rule) or inlined ones (bounded by MAX_INLINE). */
static void put_expr(Ex *x, Buf *out, NodeId id, int depth)
{
    const Node *nd = &x->d->nodes[id];
    if (nd->kind == N_CONST) {
        put_number(out, nd->k);
        return;
    }
    if (is_named(x, id)) {
        put_name(x, out, x->name[id]);
        return;
    }
    if (depth > MAX_DEPTH) {
        buf_puts(out, is_latex(x) ? "\\ldots" : "...");
        return;
    }
    int tex = is_latex(x);
    const OpInfo *op = &op_info[nd->kind];
    depth++;
    switch (op->form) {
    case F_NEG:
        buf_puts(out, "-");
        put_operand(x, out, nd->a, P_UNARY, depth);
        break;
    case F_NOT:
        buf_puts(out, tex ? "\\lnot " : "!");
        put_operand(x, out, nd->a, P_UNARY, depth);
        break;
    case F_ADD:
        put_operand(x, out, nd->a, P_ADD, depth);
        buf_printf(out, " %s ", op->c);
        put_operand(x, out, nd->b, P_MUL, depth);
        break;
    case F_MUL:
        if (nd->kind == N_MUL && nd->a == nd->b) {
            put_operand(x, out, nd->a, P_PRIMARY, depth);
            buf_puts(out, tex ? "^{2}" : "^2");
        } else if (nd->kind == N_MUL) {
            /* a constant factor first, as the book writes 2x (operands are ordered by id) */
            int swap = x->d->nodes[nd->b].kind == N_CONST && x->d->nodes[nd->a].kind != N_CONST;
            NodeId l = swap ? nd->b : nd->a, r = swap ? nd->a : nd->b;
            put_operand(x, out, l, P_MUL, depth);
            buf_puts(out, !tex ? "*" : x->d->nodes[l].kind == N_CONST &&
                     prec_of(x, r) == P_PRIMARY ? " " : " \\cdot ");
            put_operand(x, out, r, P_UNARY, depth);
        } else if (tex) {
            buf_puts(out, "\\frac{");
            put_expr(x, out, nd->a, depth);
            buf_puts(out, "}{");
            put_expr(x, out, nd->b, depth);
            buf_puts(out, "}");
        } else {
            put_operand(x, out, nd->a, P_MUL, depth);
            buf_puts(out, "/");
            put_operand(x, out, nd->b, P_UNARY, depth);
        }
        break;
    case F_CMP: case F_LOGIC: {
        int p = op->form == F_CMP ? P_CMP + 1 : prec_of(x, id) + 1;
        put_operand(x, out, nd->a, p - 1, depth);
        buf_printf(out, " %s ", tex ? op->tex : op->c);
        put_operand(x, out, nd->b, p, depth);
        break;
    }
    case F_CALL:
        if (nd->kind == N_POW) {
            put_operand(x, out, nd->a, P_PRIMARY, depth);
            buf_puts(out, tex ? "^{" : "^");
            if (tex)
                put_expr(x, out, nd->b, depth);
            else
                put_operand(x, out, nd->b, P_POW, depth);
            buf_puts(out, tex ? "}" : "");
        } else if (tex && nd->kind == N_SQRT) {
            buf_puts(out, "\\sqrt{");
            put_expr(x, out, nd->a, depth);
            buf_puts(out, "}");
        } else if (tex && nd->kind == N_ABS) {
            buf_puts(out, "\\left\\lvert ");
            put_expr(x, out, nd->a, depth);
            buf_puts(out, "\\right\\rvert ");
        } else {
            put_call(x, out, nd, depth);
        }
        break;
    case F_LEAF: case F_IF: case F_TEMPLATE:
        put_call(x, out, nd, depth);
        break;
    }
}

/* A node's definition: its operation over named operands. */
static void put_definition(Ex *x, Buf *out, NodeId id)
{
    NodeId saved = x->expand;
    x->expand = id;
    put_expr(x, out, id, 0);
    x->expand = saved;
}

/* A local partial, with the node differentiated spelled out. */
static void put_partial_value(Ex *x, Buf *out, const Term *t, int min_prec)
{
    NodeId saved = x->expand;
    x->expand = t->w;
    put_operand(x, out, t->partial, min_prec, 0);
    x->expand = saved;
}

/* d<of>/d<by> in the style: df/dc, or \frac{\partial f}{\partial c}. */
static void put_d(const Ex *x, Buf *out, NodeId of, NodeId by)
{
    if (is_latex(x)) {
        buf_puts(out, "\\frac{\\partial ");
        put_name(x, out, x->name[of]);
        buf_puts(out, "}{\\partial ");
        put_name(x, out, x->name[by]);
        buf_puts(out, "}");
    } else {
        buf_printf(out, "d%s/d%s", x->name[of], x->name[by]);
    }
}

/* ---- --explain ----------------------------------------------------------------------------- */

/* Equations in LaTeX are separated by \\, which must not follow the last one. */
static void line_start(Ex *x, Buf *out)
{
    if (!is_latex(x))
        buf_puts(out, "    ");
    else if (x->lines++ > 0)
        buf_puts(out, " \\\\\n");
}

static void line_mid(const Ex *x, Buf *out)
{
    buf_puts(out, is_latex(x) ? " &= " : " = ");
}

static void line_end(const Ex *x, Buf *out)
{
    buf_puts(out, is_latex(x) ? "" : "\n");
}

/* A heading before a group of equations (in LaTeX \intertext, which follows a \\). */
static void heading(Ex *x, Buf *out, const char *text)
{
    switch (x->style) {
    case EXPLAIN_TEXT: buf_printf(out, "%s:\n", text); break;
    case EXPLAIN_LATEX:
        if (x->lines)
            buf_printf(out, " \\\\\n\\intertext{%s:}\n", text);
        else
            buf_printf(out, "%% %s:\n", text);
        break;
    case EXPLAIN_MARKDOWN: buf_printf(out, "\n%s:\n\n$$\n\\begin{aligned}\n", text); break;
    }
    x->lines = 0;
}

static void heading_end(Ex *x, Buf *out)
{
    if (x->style == EXPLAIN_MARKDOWN) {
        buf_puts(out, "\n\\end{aligned}\n$$\n");
        x->lines = 0;
    }
}

/* Whether x's function computes anything (else it is a kept loop's result: rosen = sum_i). */
static int ex_computes(const Ex *x)
{
    for (NodeId id = 1; id < x->n; id++)
        if (x->body[id] && node_is_op(x->d, id))
            return 1;
    return 0;
}

static void ex_forward(Ex *x, Buf *out)
{
    heading(x, out, "forward sweep (eq. 5.143)");
    for (NodeId id = 1; id < x->n; id++) {
        if (!x->body[id] || !node_is_op(x->d, id))
            continue;
        line_start(x, out);
        put_name(x, out, x->name[id]);
        line_mid(x, out);
        put_definition(x, out, id);
        line_end(x, out);
    }
    heading_end(x, out);
}

/* In the order of the consumers and their operands (eqs. 5.129-5.134). */
static void ex_partials(Ex *x, Buf *out)
{
    heading(x, out, "local partials");
    for (uint32_t t = 1; t < x->nterms; t++) {
        line_start(x, out);
        put_d(x, out, x->terms[t].w, x->terms[t].v);
        line_mid(x, out);
        put_partial_value(x, out, &x->terms[t], 0);
        line_end(x, out);
    }
    heading_end(x, out);
}

/* The adjoint sweep, eq. 5.145 per node, from the output down: symbolically (eqs.
 * 5.135-5.138), or with the partials substituted (eqs. 5.139-5.142). A node whose adjoint is
 * its one local partial (consumed by the output alone) has no line of its own: its partial is
 * its adjoint; the substituted form writes its value. */
static void ex_reverse(Ex *x, Buf *out, int substituted)
{
    const char *times = is_latex(x) ? " \\cdot " : " * ";
    for (NodeId v = x->root; v > 0; v--) {
        if (v == x->root || !x->body[v] || !has_adjoint(x, v))
            continue;
        int input = x->d->nodes[v].kind == N_INPUT;
        if (direct(x, v) && !(substituted && input))
            continue;
        line_start(x, out);
        put_d(x, out, x->root, v);
        line_mid(x, out);
        if (!x->head[v] && !(x->looped && x->looped[v]))
            buf_puts(out, "0");
        for (uint32_t t = x->head[v]; t; t = x->terms[t].next) {
            const Term *term = &x->terms[t];
            buf_puts(out, t == x->head[v] ? "" : " + ");
            if (term->w == x->root) {
                put_partial_value(x, out, term, P_ADD + 1);
            } else if (!substituted) {
                put_d(x, out, x->root, term->w);
                buf_puts(out, " ");
                put_d(x, out, term->w, v);
            } else {
                if (direct(x, term->w))
                    put_partial_value(x, out, &x->terms[x->head[term->w]], P_MUL);
                else
                    put_d(x, out, x->root, term->w);
                buf_puts(out, times);
                put_partial_value(x, out, term, P_PRIMARY);
            }
        }
        if (x->looped && x->looped[v]) /* what the kept sums add, each step's */
            buf_printf(out, "%s%s", x->head[v] ? " + " : "",
                       is_latex(x) ? "\\text{(the steps' terms, below)}" :
                                     "(the steps' terms, below)");
        line_end(x, out);
    }
}

/* The sweeps of x's function under the title `name(head)`; without the forward sweep when
 * head is NULL (the reverse sweep from another of its results). */
static void explain_ex(Ex *x, const char *name, const char *head, Buf *out)
{
    if (head) {
        switch (x->style) {
        case EXPLAIN_TEXT: buf_printf(out, "%s(%s)\n", name, head); break;
        case EXPLAIN_LATEX: buf_printf(out, "%% %s(%s)\n", name, head); break;
        case EXPLAIN_MARKDOWN: buf_printf(out, "### `%s(%s)`\n", name, head); break;
        }
        if (!ex_computes(x))
            return;
        buf_puts(out, x->style == EXPLAIN_LATEX ? "\\begin{align*}\n" : "");
        ex_forward(x, out);
    } else if (x->style == EXPLAIN_LATEX) {
        buf_puts(out, "\\begin{align*}\n");
    }
    if (node_is_op(x->d, x->root) && has_adjoint(x, x->root)) {
        ex_partials(x, out);
        Buf h = {0};
        buf_puts(&h, "reverse sweep (eq. 5.145), from ");
        if (x->style == EXPLAIN_TEXT) {
            put_d(x, &h, x->root, x->root);
        } else {
            buf_puts(&h, "$");
            put_d(x, &h, x->root, x->root);
            buf_puts(&h, "$");
        }
        buf_puts(&h, " = 1");
        heading(x, out, h.data);
        buf_free(&h);
        ex_reverse(x, out, 0);
        heading_end(x, out);
        heading(x, out, "the partials substituted");
        ex_reverse(x, out, 1);
        heading_end(x, out);
    }
    if (x->style == EXPLAIN_LATEX)
        buf_puts(out, "\n\\end{align*}\n");
}

static void name_loop_results(Ex *x);
static void name_iteration(Ex *b, Ex *x, const Loop *lp, int enclose);

/* A function node as a title names it: its name, else its definition. */
static void put_value(Ex *x, Buf *out, NodeId id)
{
    if (node_is_op(x->d, id) && !x->d->meta[id].label)
        put_definition(x, out, id);
    else if (x->name[id])
        buf_puts(out, x->name[id]);
    else
        put_expr(x, out, id, 0);
}

/* Kept recurrence lp of x's function: one step's forward sweep, a function of the index, the
 * states and the loads, then per state that a differentiated input moves, the reverse sweep
 * from its next value, which the loop runs backwards seeded with the function's adjoint of it
 * (the step's reverse sweeps of all the states, added, give the states' adjoints a step
 * before). */
static void explain_recurrence(Ex *x, const Loop *lp, Buf *out)
{
    const Func *f = x->f;
    Func *body = lp->body;
    const char *sep = x->style == EXPLAIN_LATEX ? "\n% " : "\n", *first = NULL;
    Buf t = {0};
    buf_putn(&t, "", 0);
    for (uint32_t j = 0; j < lp->nstate; j++)
        if (x->root == f->input[lp->slot + j]) /* the function is this state */
            buf_printf(&t, lp->nstate > 1 ? "%s = %s; " : "%s = ", f->name,
                       x->name[f->input[lp->slot + j]]);
    for (uint32_t j = 0; j < lp->nstate; j++)
        buf_printf(&t, "%s%s", j ? ", " : "", x->name[f->input[lp->slot + j]]);
    buf_printf(&t, " = the last %s of the %s over %s = ", lp->nstate > 1 ? "states" : "state",
               lp->product ? "product" : "recurrence", lp->var);
    func_put_affine(&t, &lp->lo, lp->var, NULL, f->size, "*");
    buf_puts(&t, "..");
    func_put_affine(&t, &lp->hi, lp->var, NULL, f->size, "*");
    buf_puts(&t, ", from ");
    for (uint32_t j = 0; j < lp->nstate; j++) {
        buf_printf(&t, "%s%s[", j ? ", " : "", lp->state_name[j]);
        func_put_affine(&t, &lp->lo, lp->var, NULL, f->size, "*");
        buf_puts(&t, "] = ");
        put_value(x, &t, lp->init[j]);
    }
    for (uint32_t j = 0; j < lp->nstate && !first; j++)
        if (lp->state_active && lp->state_active[j])
            first = lp->state_name[j];
    if (first)
        buf_printf(&t, ":%sone step's sweeps: the loop runs it forwards, then its reverse sweeps "
                       "backwards, each seeded%swith d%s/d%s[%s + 1] (here d%s[%s + 1]/d%s[%s + "
                       "1] = 1), which give the states' adjoints a step%sbefore; the adjoints of "
                       "what a step reads add up over the steps", sep, sep, f->name, first,
                   lp->var, first, lp->var, first, lp->var, sep);
    else
        buf_printf(&t, ":%sone step, which the loop runs forwards (no differentiated input moves "
                       "its states)", sep);
    buf_printf(out, x->style == EXPLAIN_LATEX ? "\n%% %s\n" :
                    x->style == EXPLAIN_MARKDOWN ? "\n%s\n\n" : "\n%s\n", t.data);
    t.len = 0;
    buf_printf(&t, "%s", lp->var);
    Ex b;
    for (uint32_t j = 0; j < lp->nstate; j++) {
        int active = lp->state_active && lp->state_active[j];
        if (j && !active)
            continue;
        ex_init(&b, body, x->style, 0);
        name_iteration(&b, x, lp, 1);
        ex_root(&b, body->roots[j]); /* an inactive state's next value: no adjoint */
        ex_terms(&b);
        if (!j) {
            for (uint32_t k = 0; k < lp->nstate; k++)
                buf_printf(&t, ", %s", b.name[body->input[1 + lp->nload + k]]);
            for (uint32_t k = 0; k < lp->nload; k++)
                buf_printf(&t, ", %s", b.name[body->input[1 + k]]);
        }
        explain_ex(&b, "step", j ? NULL : t.data, out);
        ex_free(&b);
    }
    buf_free(&t);
}

/* Sum j of kept loop l of x's function (a sum per step's loop may compute several): its
 * heading, then one term's sweeps. */
static void explain_sum(Ex *x, int l, uint32_t j, Buf *out)
{
    const Func *f = x->f;
    const Loop *lp = &f->loops[l];
    ExplainStyle style = x->style;
    Ex b;
    ex_init(&b, lp->body, style, 0);
    if (j)
        ex_root(&b, lp->body->roots[j]);
    name_iteration(&b, x, lp, 1);
    ex_terms(&b);
    Buf head = {0};
    buf_putn(&head, "", 0);
    if (x->root == f->input[lp->slot + j]) /* the function is the sum */
        buf_printf(&head, "%s = ", f->name);
    Buf sum = {0}; /* a sum per step's at the outer step: sum_k[i] */
    const char *ovar = x->ovar[l];
    buf_printf(&sum, lp->per_step ? "%s[%s]" : "%s", x->name[f->input[lp->slot + j]], ovar);
    buf_printf(&head, "%s = the sum of term over %s = ", sum.data, lp->var);
    func_put_affine(&head, &lp->lo, lp->var, ovar, f->size, "*");
    buf_puts(&head, "..");
    func_put_affine(&head, &lp->hi, lp->var, ovar, f->size, "*");
    if (lp->per_step) {
        buf_printf(&head, ", for each %s = ", ovar);
        func_put_affine(&head, &lp->olo, lp->var, ovar, f->size, "*");
        buf_puts(&head, "..");
        func_put_affine(&head, &lp->ohi, lp->var, ovar, f->size, "*");
    }
    const char *sep = style == EXPLAIN_LATEX ? "\n% " : "\n";
    for (uint32_t k = 0, with = 0; k < loop_results(lp); k++) /* the others of its loop */
        if (k != j)
            buf_printf(&head, "%s%s[%s]", with++ ? ", " : ", in one loop with ",
                       x->name[f->input[lp->slot + k]], ovar);
    if (lp->host) /* it reads the recurrence's states */
        buf_printf(&head, ",%scomputed in the loop of the recurrence over %s at each step, "
                          "before the step (backwards: after it)", sep, ovar);
    buf_printf(&head, ":%sone term's sweeps, which each step runs seeded with d%s/d%s (here "
                      "dterm/dterm = 1);%sthe adjoints of what a term reads add up over the "
                      "steps", sep, f->name, sum.data, sep);
    buf_free(&sum);
    buf_printf(out, style == EXPLAIN_LATEX ? "\n%% %s\n" :
                    style == EXPLAIN_MARKDOWN ? "\n%s\n\n" : "\n%s\n", head.data);
    head.len = 0;
    buf_printf(&head, "%s", lp->var);
    for (uint32_t k = 0; k < lp->nload; k++) /* what the term reads */
        if (b.body[lp->body->input[1 + k]])
            buf_printf(&head, ", %s", b.name[lp->body->input[1 + k]]);
    explain_ex(&b, "term", head.data, out);
    ex_free(&b);
    buf_free(&head);
}

/* f's sweeps, then each kept sum's: one iteration, a function of the loop's index, its loads
 * and the values it reads, whose sweeps every iteration runs, seeded with the sum's adjoint;
 * and each kept recurrence's step. */
static void explain_func(Func *f, ExplainStyle style, Buf *out)
{
    Ex x;
    ex_init(&x, f, style, 0);
    name_loop_results(&x);
    ex_terms(&x);
    if (f->nloops) {
        x.looped = arena_alloc(&x.arena, x.n);
        for (int l = 0; l < f->nloops; l++) {
            const Loop *lp = &f->loops[l];
            for (uint32_t c = 0; c < lp->ncap + lp->nstate; c++) {
                NodeId v = c < lp->ncap ? lp->cap[c] : lp->init[c - lp->ncap];
                x.looped[v] = v < x.n;
            }
        }
    }
    Buf head = {0};
    buf_putn(&head, "", 0);
    for (int p = 0; p < f->nparams; p++) { /* the head as the source has it */
        buf_printf(&head, "%s%s", p == 0 ? "" : p == f->def->ndiff ? "; " : ", ",
                   f->params[p].name);
        for (int d = 0; d < f->params[p].rank; d++) {
            int rt = d == 0 ? f->params[p].rt_size : d == 1 ? f->params[p].rt_size2 : -1;
            if (rt >= 0)
                buf_printf(&head, "[%s]", f->size[rt]);
            else
                buf_printf(&head, "[%u]", f->params[p].dims[d]);
        }
    }
    for (int k = 0, data = f->nparams > f->def->ndiff; k < f->nsizes; k++) {
        int named = 0; /* by an array's size; else a data input of its own (n in chain(x0;
                          n)), listed with the data */
        for (int p = 0; p < f->nparams; p++)
            named |= f->params[p].rt_size == k || f->params[p].rt_size2 == k;
        if (!named) {
            buf_printf(&head, "%s%s", data ? ", " : head.len ? "; " : "", f->size[k]);
            data = 1;
        }
    }
    if (f->vector) { /* several values (no kept loops): a reverse sweep from each */
        for (int r = 0; r < f->nroots; r++) {
            Ex v;
            ex_init(&v, f, style, 0);
            ex_root(&v, f->roots[r]);
            ex_terms(&v);
            explain_ex(&v, f->name, r ? NULL : head.data, out);
            ex_free(&v);
        }
    } else {
        explain_ex(&x, f->name, head.data, out);
    }
    for (int l = 0; l < f->nloops; l++) {
        const Loop *lp = &f->loops[l];
        if (lp->nstate) {
            explain_recurrence(&x, lp, out);
            continue;
        }
        for (uint32_t j = 0; j < loop_results(lp); j++) /* sums per step of one loop: each */
            explain_sum(&x, l, j, out);
    }
    buf_free(&head);
    ex_free(&x);
}

void explain_program(Program *prog, ExplainStyle style, Buf *out)
{
    for (int i = 0, shown = 0; i < prog->nfuncs; i++) {
        /* several values: without kept loops */
        if (prog->funcs[i].vector && prog->funcs[i].nloops)
            continue;
        buf_puts(out, shown++ ? "\n" : "");
        explain_func(&prog->funcs[i], style, out);
    }
    if (!out->data)
        buf_putn(out, "", 0);
}

/* ---- --dot ----------------------------------------------------------------------------------- */

/* The operations a DOT graph of f shows: all of them, unless there are more than
 * COLLAPSE_OVER; then array inputs are one node each and operations without a source name
 * used by one operation are printed inside it, at most MAX_INLINE deep. */
static uint32_t count_ops(const Func *f)
{
    const Dag *d = &f->dag;
    uint8_t *seen = xrealloc(NULL, f->nprimal);
    memset(seen, 0, f->nprimal);
    seen[f->roots[0]] = 1;
    uint32_t ops = 0;
    for (NodeId id = f->roots[0]; id > 0; id--) {
        if (!seen[id])
            continue;
        ops += node_is_op(d, id);
        seen[d->nodes[id].a] = seen[d->nodes[id].b] = seen[d->nodes[id].c] = 1;
    }
    free(seen);
    return ops;
}

static void choose_inlined(Ex *x)
{
    uint32_t *uses = xrealloc(NULL, x->n * sizeof *uses);
    uint8_t *height = xrealloc(NULL, x->n);
    memset(uses, 0, x->n * sizeof *uses);
    memset(height, 0, x->n);
    for (NodeId w = 1; w < x->n; w++) {
        const Node *nd = &x->d->nodes[w];
        if (!x->body[w] || !node_is_op(x->d, w))
            continue;
        uses[nd->a]++;
        uses[nd->b] += nd->b != nd->a;
        uses[nd->c] += nd->c != nd->a && nd->c != nd->b;
    }
    for (NodeId id = 1; id < x->n; id++) {
        const Node *nd = &x->d->nodes[id];
        if (!x->body[id] || !node_is_op(x->d, id))
            continue;
        int h = 0;
        NodeId ops[3] = {nd->a, nd->b, nd->c};
        for (int i = 0; i < node_arity(nd->kind); i++)
            if (x->inlined[ops[i]] && height[ops[i]] > h)
                h = height[ops[i]];
        height[id] = (uint8_t)(h + 1);
        x->inlined[id] = id != x->root && !x->d->meta[id].label && uses[id] == 1 &&
                         h + 1 <= MAX_INLINE;
    }
    free(uses);
    free(height);
}

/* What a DOT node stands for: an array input (collapsed) or the node itself. */
static long dot_node(const Ex *x, NodeId id, int collapse)
{
    const Node *nd = &x->d->nodes[id];
    if (collapse && nd->kind == N_INPUT) {
        for (int p = 0; p < x->f->nparams; p++) {
            const Param *pa = &x->f->params[p];
            if (pa->rank && (uint32_t)nd->k >= pa->first && (uint32_t)nd->k < pa->first + pa->size)
                return -1 - p;
        }
    }
    return id;
}

static void put_dot_id(Buf *out, const char *scope, long node)
{
    if (node < 0)
        buf_printf(out, "%sp%ld", scope, -1 - node);
    else
        buf_printf(out, "%sn%ld", scope, node);
}

/* A DOT string: quotes and backslashes escaped; a newline as \n. */
static void put_dot_string(Buf *out, const char *s)
{
    buf_puts(out, "\"");
    for (; *s; s++) {
        if (*s == '\n')
            buf_puts(out, "\\n");
        else if (*s == '"' || *s == '\\')
            buf_printf(out, "\\%c", *s);
        else
            buf_putn(out, s, 1);
    }
    buf_puts(out, "\"");
}

/* The nodes a shown node reads: its operands, through the operations inlined in it. */
static uint32_t shown_operands(const Ex *x, NodeId w, int collapse, long **list, uint32_t *cap)
{
    uint32_t n = 0, top = 0, scap = 16;
    NodeId *stack = xrealloc(NULL, scap * sizeof *stack);
    const Node *nd = &x->d->nodes[w];
    stack[top++] = nd->c;
    stack[top++] = nd->b;
    stack[top++] = nd->a;
    while (top > 0) {
        NodeId id = stack[--top];
        if (!id || x->d->nodes[id].kind == N_CONST)
            continue;
        if (x->inlined[id]) {
            const Node *op = &x->d->nodes[id];
            if (top + 3 > scap) {
                scap *= 2;
                stack = xrealloc(stack, scap * sizeof *stack);
            }
            stack[top++] = op->c;
            stack[top++] = op->b;
            stack[top++] = op->a;
            continue;
        }
        long node = dot_node(x, id, collapse);
        uint32_t k = 0;
        while (k < n && (*list)[k] != node)
            k++;
        if (k < n)
            continue;
        if (n == *cap) {
            *cap = *cap ? 2 * *cap : 16;
            *list = xrealloc(*list, *cap * sizeof **list);
        }
        (*list)[n++] = node;
    }
    free(stack);
    return n;
}

typedef struct {
    const char *stem;
    NodeId id;
} Clustered;

static int by_stem(const void *p, const void *q)
{
    const Clustered *a = p, *b = q;
    int c = strcmp(a->stem, b->stem);
    return c ? c : (a->id > b->id) - (a->id < b->id);
}

/* A source name's stem when it names an element of a local array (f1_3: f1), else NULL. */
static const char *element_stem(Ex *x, const char *label)
{
    size_t n = strlen(label), end = n;
    while (end > 0) {
        size_t k = end;
        while (k > 0 && label[k - 1] >= '0' && label[k - 1] <= '9')
            k--;
        if (k == end || k < 2 || label[k - 1] != '_')
            break;
        end = k - 1;
    }
    return end < n ? arena_strndup(&x->arena, label, end) : NULL;
}

/* A box: node (an id of put_dot_id) labelled. */
static void dot_box(const Ex *x, long node, const char *label, const char *indent, Buf *out)
{
    buf_puts(out, indent);
    put_dot_id(out, x->scope, node);
    buf_puts(out, " [shape=box, label=");
    put_dot_string(out, label);
    buf_puts(out, "];\n");
}

/* A function's inputs in DOT, as boxes; arrays collapsed into one box each. */
static void dot_inputs(const Ex *x, int collapse, const char *indent, Buf *out)
{
    const Func *f = x->f;
    for (int p = 0; p < f->nparams; p++) {
        const Param *pa = &f->params[p];
        if (pa->rt_size >= 0) { /* no element of its own: one box, read by the loops */
            Buf label = {0};
            buf_printf(&label, "%s[%s]", pa->name, f->size[pa->rt_size]);
            if (pa->rt_size2 >= 0)
                buf_printf(&label, "[%s]", f->size[pa->rt_size2]);
            for (int r = 1 + (pa->rt_size2 >= 0); r < pa->rank; r++)
                buf_printf(&label, "[%u]", pa->dims[r]);
            if (pa->kind == PARAM_DATA)
                buf_puts(&label, "\n(data)");
            dot_box(x, -1 - p, label.data, indent, out);
            buf_free(&label);
            continue;
        }
        for (uint32_t k = 0; k < pa->size; k++) {
            NodeId in = f->input[pa->first + k];
            if (!x->body[in] && !(collapse && pa->rank))
                continue;
            if (collapse && pa->rank && k > 0)
                break;
            Buf label = {0};
            buf_puts(&label, collapse && pa->rank ? pa->name : x->name[in]);
            for (int r = 0; collapse && r < pa->rank; r++)
                buf_printf(&label, "[%u]", pa->dims[r]);
            if (pa->kind == PARAM_DATA)
                buf_puts(&label, "\n(data)");
            buf_puts(out, indent);
            put_dot_id(out, x->scope, dot_node(x, in, collapse));
            buf_puts(out, " [shape=box, label=");
            put_dot_string(out, label.data);
            buf_puts(out, "];\n");
            buf_free(&label);
        }
    }
}

/* Whether node id is one of the function's results (an iteration's: a recurrence's states). */
static int is_root(const Ex *x, NodeId id)
{
    for (int r = 0; r < x->f->nroots; r++)
        if (x->f->roots[r] == id)
            return 1;
    return 0;
}

/* Its operations; the elements of a local array in a cluster. */
static void dot_operations(Ex *x, const char *indent, Buf *out)
{
    Clustered *cl = xrealloc(NULL, (x->n + 1) * sizeof *cl);
    uint32_t ncl = 0;
    for (NodeId id = 1; id < x->n; id++) {
        if (!x->body[id] || !node_is_op(x->d, id) || x->inlined[id])
            continue;
        const char *stem = x->d->meta[id].label ? element_stem(x, x->d->meta[id].label) : NULL;
        if (stem) {
            cl[ncl++] = (Clustered){stem, id};
            continue;
        }
        Buf label = {0};
        buf_printf(&label, "%s\n", x->name[id]);
        put_definition(x, &label, id);
        buf_puts(out, indent);
        put_dot_id(out, x->scope, id);
        buf_puts(out, is_root(x, id) ? " [peripheries=2, label=" : " [label=");
        put_dot_string(out, label.data);
        buf_puts(out, "];\n");
        buf_free(&label);
    }
    qsort(cl, ncl, sizeof *cl, by_stem);
    for (uint32_t k = 0; k < ncl; k++) {
        if (k == 0 || strcmp(cl[k].stem, cl[k - 1].stem) != 0) {
            buf_printf(out, "%ssubgraph cluster_%s_%s {\n%s    label=", indent, x->scope,
                       cl[k].stem, indent);
            put_dot_string(out, cl[k].stem);
            buf_printf(out, "; style=rounded;\n");
        }
        Buf label = {0};
        buf_printf(&label, "%s\n", x->name[cl[k].id]);
        put_definition(x, &label, cl[k].id);
        buf_printf(out, "%s    ", indent);
        put_dot_id(out, x->scope, cl[k].id);
        buf_puts(out, is_root(x, cl[k].id) ? " [peripheries=2, label=" : " [label=");
        put_dot_string(out, label.data);
        buf_puts(out, "];\n");
        buf_free(&label);
        if (k + 1 == ncl || strcmp(cl[k].stem, cl[k + 1].stem) != 0)
            buf_printf(out, "%s}\n", indent);
    }
    free(cl);
}

/* The data flow, and against it the adjoints' flow (eq. 5.145), labelled with the partials. */
static void dot_edges(Ex *x, int adjoint, int collapse, const char *indent, Buf *out)
{
    long *list = NULL;
    uint32_t cap = 0;
    for (NodeId w = 1; w < x->n; w++) {
        if (!x->body[w] || !node_is_op(x->d, w) || x->inlined[w])
            continue;
        uint32_t n = shown_operands(x, w, collapse, &list, &cap);
        for (uint32_t k = 0; k < n; k++) {
            buf_puts(out, indent);
            put_dot_id(out, x->scope, list[k]);
            buf_puts(out, " -> ");
            put_dot_id(out, x->scope, w);
            buf_puts(out, ";\n");
        }
        if (!adjoint || !has_adjoint(x, w))
            continue;
        for (uint32_t k = 0; collapse && k < n; k++) {
            if (list[k] >= 0 && !has_adjoint(x, (NodeId)list[k]))
                continue;
            buf_puts(out, indent);
            put_dot_id(out, x->scope, w);
            buf_puts(out, " -> ");
            put_dot_id(out, x->scope, list[k]);
            buf_puts(out, " [style=dashed, color=red, constraint=false];\n");
        }
    }
    for (uint32_t t = 1; adjoint && !collapse && t < x->nterms; t++) {
        Buf label = {0};
        put_d(x, &label, x->terms[t].w, x->terms[t].v);
        buf_puts(&label, " = ");
        put_partial_value(x, &label, &x->terms[t], 0);
        buf_puts(out, indent);
        put_dot_id(out, x->scope, x->terms[t].w);
        buf_puts(out, " -> ");
        put_dot_id(out, x->scope, x->terms[t].v);
        buf_puts(out, " [style=dashed, color=red, fontcolor=red, constraint=false, label=");
        put_dot_string(out, label.data);
        buf_puts(out, "];\n");
        buf_free(&label);
    }
    free(list);
}

/* An index as the source would write it: its terms that add first, then those that subtract
 * (i - j, m - 1 - j where func_put_affine prints -j + i). */
static void put_index(Buf *out, const Affine *a, const char *var, const char *ovar,
                      const char *const *size)
{
    Affine add = *a, sub;
    memset(&sub, 0, sizeof sub);
    int adds = add.k > 0 || add.c[0] > 0 || add.o > 0;
    sub.k = add.k < 0 ? -add.k : 0, add.k = add.k < 0 ? 0 : add.k;
    sub.o = add.o < 0 ? -add.o : 0, add.o = add.o < 0 ? 0 : add.o;
    for (int j = 0; j <= MAX_SIZES; j++) {
        adds |= add.c[j] > 0;
        sub.c[j] = add.c[j] < 0 ? -add.c[j] : 0, add.c[j] = add.c[j] < 0 ? 0 : add.c[j];
    }
    for (int j = 0; j < MAX_SIZES; j++) {
        adds |= add.cv[j] > 0 || add.ov[j] > 0;
        sub.cv[j] = add.cv[j] < 0 ? -add.cv[j] : 0, add.cv[j] = add.cv[j] < 0 ? 0 : add.cv[j];
        sub.ov[j] = add.ov[j] < 0 ? -add.ov[j] : 0, add.ov[j] = add.ov[j] < 0 ? 0 : add.ov[j];
    }
    if (!adds) {
        func_put_affine(out, a, var, ovar, size, "*");
        return;
    }
    func_put_affine(out, &add, var, ovar, size, "*");
    Buf t = {0};
    func_put_affine(&t, &sub, var, ovar, size, "*");
    if (strcmp(t.data, "0") != 0) { /* sub's terms are positive, joined by + */
        buf_puts(out, " - ");
        for (const char *c = t.data; *c; c++)
            buf_putn(out, *c == '+' ? "-" : c, 1);
    }
    buf_free(&t);
}

/* An element a kept loop reads, as the source writes it: X[i][0], x[i + 1]; in a sum per
 * step, the outer variable read as a number (i), and a step's sum as its name in x at that
 * step (sum_k[i]). */
static void put_load(Buf *out, const Ex *x, const Loop *lp, const Load *ld)
{
    const Func *f = x->f;
    const char *ovar = x->ovar[lp - f->loops];
    if (ld->param == LOAD_INDEX) {
        put_index(out, &ld->at, lp->var, ovar, f->size);
        return;
    }
    if (ld->param < 0) { /* a state of an earlier recurrence, or the sums per step */
        const Traj *t = &f->traj[-1 - ld->param];
        const Loop *from = &f->loops[t->loop];
        Affine at = ld->at;
        for (int j = 0; from->per_step && j <= MAX_SIZES; j++) /* the step, not its offset */
            at.c[j] += from->olo.c[j];
        at.k += from->per_step ? from->olo.k : 0;
        uint32_t sum = 0; /* which of the loop's sums */
        while (from->per_step && from->traj[sum] != -ld->param)
            sum++;
        buf_printf(out, "%s[", from->per_step ? x->name[f->input[from->slot + sum]] :
                                                from->state_name[t->state]);
        put_index(out, &at, lp->var, ovar, f->size);
        buf_puts(out, "]");
        return;
    }
    const Param *pa = &f->params[ld->param];
    Affine at = ld->at;
    if (pa->rt_size2 >= 0) { /* X[n][m] at i m + j: the products are the first index (in a
                                sum per step, of the outer variable); a term m is the row's
                                (X[i + 1][j]) unless the column counts down from it, or is a
                                number below 0 without it (X[i][m - 1 - j]) */
        int s = pa->rt_size2;
        Affine row;
        memset(&row, 0, sizeof row);
        row.c[0] = at.cv[s];
        row.o = at.ov[s];
        int col_m = at.c[0] < 0 || at.o < 0 || (!at.c[0] && !at.o && at.k < 0);
        row.k = col_m ? 0 : at.c[1 + s];
        at.cv[s] = at.ov[s] = 0;
        at.c[1 + s] = col_m ? at.c[1 + s] : 0;
        buf_printf(out, "%s[", pa->name);
        put_index(out, &row, lp->var, ovar, f->size);
        buf_puts(out, "][");
        put_index(out, &at, lp->var, ovar, f->size);
        buf_puts(out, "]");
        return;
    }
    int64_t idx[MAX_RANK];
    for (int r = pa->rank - 1; r > 0; r--) { /* the constant trailing indices */
        int64_t k = ((at.k % (int64_t)pa->dims[r]) + pa->dims[r]) % pa->dims[r];
        idx[r] = k;
        at.k = (at.k - k) / pa->dims[r];
        for (int j = 0; j <= MAX_SIZES; j++)
            at.c[j] /= pa->dims[r];
        at.o /= pa->dims[r];
    }
    buf_printf(out, "%s[", pa->name);
    put_index(out, &at, lp->var, ovar, f->size);
    buf_puts(out, "]");
    for (int r = 1; r < pa->rank; r++)
        buf_printf(out, "[%lld]", (long long)idx[r]);
}

/* The names of kept loop lp's iteration b (of function x): the index, its loads as the source
 * writes them (x[i + 1]), its states (s[k]; the next ones s[k + 1]), the values it reads by
 * their names in x (an unnamed one by its definition, dt/2; in parentheses when `enclose`,
 * for d.../d(dt/2)), and a sum's term. */
static void name_iteration(Ex *b, Ex *x, const Loop *lp, int enclose)
{
    const Func *f = x->f, *body = lp->body;
    Buf t = {0};
    uint32_t st0 = 1 + lp->nload, cap0 = st0 + lp->nstate;
    b->name[body->input[0]] = lp->var;
    for (uint32_t k = 0; k < lp->nload; k++) {
        t.len = 0;
        put_load(&t, x, lp, &lp->load[k]);
        b->name[body->input[1 + k]] = arena_strndup(&b->arena, t.data, t.len);
    }
    for (uint32_t j = 0; j < lp->nstate; j++) {
        t.len = 0;
        buf_printf(&t, "%s[%s]", lp->state_name[j], lp->var);
        b->name[body->input[st0 + j]] = arena_strndup(&b->arena, t.data, t.len);
        t.len = 0;
        buf_printf(&t, "%s[%s + 1]", lp->state_name[j], lp->var);
        if (node_is_op(&body->dag, body->roots[j])) /* else an input, by its own name */
            b->name[body->roots[j]] = arena_strndup(&b->arena, t.data, t.len);
    }
    for (uint32_t c = 0; c < lp->ncap; c++) { /* an unnamed value by its definition (dt/2) */
        NodeId cap = lp->cap[c];
        t.len = 0;
        if (node_is_op(&f->dag, cap) && !f->dag.meta[cap].label) {
            buf_puts(&t, enclose ? "(" : "");
            put_definition(x, &t, cap);
            buf_puts(&t, enclose ? ")" : "");
        } else {
            buf_puts(&t, x->name[cap] ? x->name[cap] : "(value)");
        }
        b->name[body->input[cap0 + c]] = arena_strndup(&b->arena, t.data, t.len);
    }
    if (!lp->nstate && node_is_op(&body->dag, b->root))
        b->name[b->root] = "term";
    for (uint32_t j = 0; !lp->nstate && j < loop_results(lp); j++) { /* the loop's other sums' */
        if (body->roots[j] == b->root || !node_is_op(&body->dag, body->roots[j]))
            continue;
        t.len = 0;
        buf_printf(&t, "term%u", j + 1);
        b->name[body->roots[j]] = arena_strndup(&b->arena, t.data, t.len);
    }
    buf_free(&t);
}

/* Kept loop l of f (x its picture) as a cluster: one iteration's graph, its loads and captures
 * read from f's boxes and nodes, and where its results go (a sum's into f, a recurrence's
 * next states back to its states, the last into f). */
static void dot_loop(Ex *x, int l, int adjoint, const char *indent, Buf *out)
{
    Func *f = x->f;
    const Loop *lp = &f->loops[l];
    Func *body = lp->body;
    Buf scope = {0}, in = {0}, t = {0};
    buf_printf(&scope, "%sl%d", x->scope, l);
    buf_printf(&in, "%s    ", indent);
    Ex b;
    int collapse = count_ops(body) > COLLAPSE_OVER; /* its edges then carry no partials */
    ex_init(&b, body, EXPLAIN_TEXT, collapse);
    b.scope = scope.data;
    if (adjoint && !collapse)
        ex_terms(&b);
    uint32_t st0 = 1 + lp->nload, cap0 = st0 + lp->nstate;
    name_iteration(&b, x, lp, 0);
    t.len = 0;
    buf_printf(&t, "%s over %s = ", lp->product ? "product" : lp->nstate ? "recurrence" : "sum",
               lp->var);
    func_put_affine(&t, &lp->lo, lp->var, x->ovar[l], f->size, "*");
    buf_puts(&t, "..");
    func_put_affine(&t, &lp->hi, lp->var, x->ovar[l], f->size, "*");
    if (lp->per_step) {
        buf_printf(&t, " per %s = ", x->ovar[l]);
        func_put_affine(&t, &lp->olo, lp->var, x->ovar[l], f->size, "*");
        buf_puts(&t, "..");
        func_put_affine(&t, &lp->ohi, lp->var, x->ovar[l], f->size, "*");
    }
    buf_printf(out, "%ssubgraph cluster_%s {\n%s    label=", indent, scope.data, indent);
    put_dot_string(out, t.data);
    buf_printf(out, "; style=dashed;\n");
    for (uint32_t s = 0; s < cap0 + lp->ncap; s++)
        if (b.body[body->input[s]])
            dot_box(&b, body->input[s], b.name[body->input[s]], in.data, out);
    dot_operations(&b, in.data, out);
    dot_edges(&b, adjoint, collapse, in.data, out);
    buf_printf(out, "%s}\n", indent);
    /* into the loop: an array's box to its loads, a value to its capture, a state's first
     * value to the state */
    for (uint32_t k = 0; k < lp->nload; k++) {
        const Load *ld = &lp->load[k];
        if (!b.body[body->input[1 + k]] || ld->param < 0)
            continue;
        buf_puts(out, indent);
        put_dot_id(out, x->scope, -1 - ld->param);
        buf_puts(out, " -> ");
        put_dot_id(out, b.scope, body->input[1 + k]);
        buf_puts(out, " [style=dotted];\n");
    }
    for (uint32_t c = 0; c < lp->ncap + lp->nstate; c++) {
        NodeId from = c < lp->ncap ? lp->cap[c] : lp->init[c - lp->ncap];
        NodeId to = body->input[c < lp->ncap ? cap0 + c : st0 + c - lp->ncap];
        if (!b.body[to] || f->dag.nodes[from].kind == N_CONST)
            continue;
        buf_puts(out, indent);
        put_dot_id(out, x->scope, dot_node(x, from, 0));
        buf_puts(out, " -> ");
        put_dot_id(out, b.scope, to);
        buf_puts(out, " [style=dotted];\n");
    }
    /* out of it: a sum per step to the loads of its step's sum in the loops that read it */
    for (int r = 0; lp->per_step && r < f->nloops; r++)
        for (uint32_t k = 0; k < f->loops[r].nload; k++) {
            uint32_t j = 0;
            while (j < loop_results(lp) && f->loops[r].load[k].param != -lp->traj[j])
                j++;
            if (j == loop_results(lp))
                continue;
            buf_puts(out, indent);
            put_dot_id(out, b.scope, body->roots[j]);
            buf_printf(out, " -> %sl%dn%u [label=\"per step\"];\n", x->scope, r,
                       (unsigned)f->loops[r].body->input[1 + k]);
        }
    /* the sum, or each state's next value to the state and its last to f */
    for (uint32_t j = 0; j < loop_results(lp); j++) {
        NodeId root = body->roots[j], slot = f->input[lp->slot + j];
        if (lp->nstate && b.body[body->input[st0 + j]]) {
            buf_puts(out, indent);
            put_dot_id(out, b.scope, root);
            buf_puts(out, " -> ");
            put_dot_id(out, b.scope, body->input[st0 + j]);
            buf_puts(out, " [style=dashed, constraint=false, label=\"next step\"];\n");
        }
        if (!x->body[slot])
            continue;
        buf_puts(out, indent);
        put_dot_id(out, b.scope, root);
        buf_puts(out, " -> ");
        put_dot_id(out, x->scope, slot);
        buf_printf(out, " [label=\"%s\"];\n", lp->nstate ? "last" : "sum");
    }
    ex_free(&b);
    buf_free(&scope);
    buf_free(&in);
    buf_free(&t);
}

/* The boxes of what f reads besides its parameters: its sizes read as numbers, and its kept
 * loops' results (a sum, a recurrence's last states), named for the expressions that read
 * them. */
static void name_loop_results(Ex *x)
{
    const Func *f = x->f;
    for (int k = 0; k < f->nsizes; k++)
        if (f->size_slot[k] != UINT32_MAX)
            x->name[f->input[f->size_slot[k]]] = f->size[k];
    for (int l = 0; l < f->nloops; l++) {
        const Loop *lp = &f->loops[l];
        for (uint32_t j = 0; j < loop_results(lp); j++) {
            Buf name = {0};
            if (lp->nstate)
                buf_printf(&name, "%s_last", lp->state_name[j]);
            else
                buf_printf(&name, "sum_%s", lp->var);
            x->name[f->input[lp->slot + j]] = names_claim(&x->names, name.data);
            buf_free(&name);
        }
    }
}

static void dot_loop_results(Ex *x, const char *indent, Buf *out)
{
    const Func *f = x->f;
    name_loop_results(x);
    for (int k = 0; k < f->nsizes; k++)
        if (f->size_slot[k] != UINT32_MAX && x->body[f->input[f->size_slot[k]]])
            dot_box(x, f->input[f->size_slot[k]], f->size[k], indent, out);
    for (int l = 0; l < f->nloops; l++) {
        const Loop *lp = &f->loops[l];
        for (uint32_t j = 0; j < loop_results(lp); j++) {
            NodeId in = f->input[lp->slot + j];
            if (!x->body[in])
                continue;
            buf_puts(out, indent);
            put_dot_id(out, x->scope, in);
            buf_puts(out, in == x->root ? " [shape=box, style=rounded, peripheries=2, label=" :
                                          " [shape=box, style=rounded, label=");
            put_dot_string(out, x->name[in]);
            buf_puts(out, "];\n");
        }
    }
}

static void dot_func(Func *f, int fn, int nfuncs, int adjoint, Buf *out)
{
    int collapse = count_ops(f) > COLLAPSE_OVER;
    Ex x;
    ex_init(&x, f, EXPLAIN_TEXT, collapse);
    char scope[16];
    snprintf(scope, sizeof scope, "f%d", fn);
    x.scope = scope;
    if (adjoint && !collapse)
        ex_terms(&x);
    const char *indent = nfuncs > 1 ? "        " : "    ";
    if (nfuncs > 1) {
        buf_printf(out, "    subgraph cluster_f%d {\n        label=", fn);
        put_dot_string(out, f->name);
        buf_puts(out, ";\n");
    }
    dot_loop_results(&x, indent, out);
    dot_inputs(&x, collapse, indent, out);
    dot_operations(&x, indent, out);
    dot_edges(&x, adjoint, collapse, indent, out);
    for (int l = 0; l < f->nloops; l++)
        dot_loop(&x, l, adjoint, indent, out);
    if (nfuncs > 1)
        buf_puts(out, "    }\n");
    ex_free(&x);
}

void explain_dot(Program *prog, int adjoint, Buf *out)
{
    buf_printf(out, "/* " GENERATED_MARK " %s: the computational graph (fig. 5.11)%s. */\n"
               "digraph adgen {\n", ADGEN_VERSION,
               adjoint ? " and, dashed, its reverse sweep" : "");
    buf_puts(out, "    rankdir=LR;\n    node [fontname=\"Helvetica\"];\n"
                  "    edge [fontname=\"Helvetica\", fontsize=10];\n");
    for (int i = 0; i < prog->nfuncs; i++)
        /* one value; kept loops drawn as one iteration each */
        if (!prog->funcs[i].vector)
            dot_func(&prog->funcs[i], i, prog->nfuncs, adjoint, out);
    buf_puts(out, "}\n");
}
