/*
 * emit_c.c: scheduling, naming and printing of C. Input: a Program whose Funcs have been
 * through reverse. Output: C99 text that includes only <math.h>, with NAME() and NAME_grad()
 * per definition (DESIGN.md, "The generated code").
 *
 * Schedule: the nodes a body needs are emitted in id order, which is topological. A node gets
 * a `const double` local when it is a named intermediate, the adjoint of a primal operation
 * (named `<primal>_bar`), used more than once, or would make an inlined expression deeper than
 * MAX_INLINE; otherwise it is printed inside its single consumer. That bound keeps the
 * printer's recursion depth constant whatever the input.
 *
 * Naming: every C name of a definition is claimed in one set holding C and C++ keywords,
 * <math.h> names and the file's function names, so no user name can capture or shadow one;
 * a taken name gets `_`, then `_2`, `_3`, ... appended. Doubles are printed in the shortest
 * form that reads back to the same bits, in the C locale, so output is byte-identical.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

#define MAX_INLINE 6
#define MAX_COMMENT_LINES 12
#define MAX_COMMENT_COLS 96

static const char *const reserved_words[] = {
    /* C99 */
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch",
    "typedef", "union", "unsigned", "void", "volatile", "while",
    /* C++ */
    "alignas", "alignof", "and", "and_eq", "asm", "bitand", "bitor", "bool", "catch",
    "char8_t", "char16_t", "char32_t", "class", "compl", "concept", "consteval", "constexpr",
    "constinit", "const_cast", "co_await", "co_return", "co_yield", "decltype", "delete",
    "dynamic_cast", "explicit", "export", "false", "friend", "mutable", "namespace", "new",
    "noexcept", "not", "not_eq", "nullptr", "operator", "or", "or_eq", "private",
    "protected", "public", "reinterpret_cast", "requires", "static_assert", "static_cast",
    "template", "this", "thread_local", "throw", "true", "try", "typeid", "typename",
    "using", "virtual", "wchar_t", "xor", "xor_eq",
    /* macros and names <math.h> may bring in */
    "fpclassify", "isfinite", "isinf", "isnan", "isnormal", "signbit", "isgreater",
    "isgreaterequal", "isless", "islessequal", "islessgreater", "isunordered", "HUGE_VAL",
    "HUGE_VALF", "HUGE_VALL", "INFINITY", "NAN", "FP_INFINITE", "FP_NAN", "FP_NORMAL",
    "FP_SUBNORMAL", "FP_ZERO", "FP_FAST_FMA", "FP_FAST_FMAF", "FP_FAST_FMAL", "FP_ILOGB0",
    "FP_ILOGBNAN", "MATH_ERRNO", "MATH_ERREXCEPT", "math_errhandling", "float_t",
    "double_t", "signgam", "M_E", "M_LOG2E", "M_LOG10E", "M_LN2", "M_LN10", "M_PI",
    "M_PI_2", "M_PI_4", "M_1_PI", "M_2_PI", "M_2_SQRTPI", "M_SQRT2", "M_SQRT1_2", "NULL",
    "abs", "labs", "div", "std", "errno", "main",
};

/* <math.h> functions; each also reserves its float (f) and long double (l) variant. */
static const char *const math_functions[] = {
    "acos", "asin", "atan", "atan2", "cos", "sin", "tan", "acosh", "asinh", "atanh", "cosh",
    "sinh", "tanh", "exp", "exp2", "expm1", "frexp", "ilogb", "ldexp", "log", "log10",
    "log1p", "log2", "logb", "modf", "scalbn", "scalbln", "cbrt", "fabs", "hypot", "pow",
    "sqrt", "erf", "erfc", "lgamma", "tgamma", "ceil", "floor", "nearbyint", "rint", "lrint",
    "llrint", "round", "lround", "llround", "trunc", "fmod", "remainder", "remquo",
    "copysign", "nan", "nextafter", "nexttoward", "fdim", "fmax", "fmin", "fma", "j0", "j1",
    "jn", "y0", "y1", "yn", "gamma", "drem", "finite", "significand", "exp10", "pow10",
    "sincos", "scalb", "lgamma_r", "gamma_r", "isinf", "isnan",
};

/* ---- a set of C names --------------------------------------------------------------------- */

/* A definition's own names sit in a small set whose `outer` holds the file's names (keywords,
 * <math.h>, the functions): copying those into every definition made many definitions cost
 * quadratic time and memory. */
typedef struct NameSet NameSet;
struct NameSet {
    const char **slots;
    size_t cap, len;
    Arena *arena;
    const NameSet *outer;  /* also taken, or NULL */
};

static size_t hash_str(const char *s)
{
    size_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static int set_has(const NameSet *s, const char *name)
{
    size_t j = hash_str(name) & (s->cap - 1);
    for (; s->slots[j]; j = (j + 1) & (s->cap - 1))
        if (strcmp(s->slots[j], name) == 0)
            return 1;
    return s->outer && set_has(s->outer, name);
}

static void set_add(NameSet *s, const char *name)
{
    if (2 * (s->len + 1) > s->cap) {
        NameSet bigger = {NULL, s->cap * 2, 0, s->arena, s->outer};
        bigger.slots = xrealloc(NULL, bigger.cap * sizeof *bigger.slots);
        memset(bigger.slots, 0, bigger.cap * sizeof *bigger.slots);
        for (size_t i = 0; i < s->cap; i++)
            if (s->slots[i])
                set_add(&bigger, s->slots[i]);
        free(s->slots);
        *s = bigger;
    }
    size_t j = hash_str(name) & (s->cap - 1);
    while (s->slots[j])
        j = (j + 1) & (s->cap - 1);
    s->slots[j] = name;
    s->len++;
}

/* cap: a power of two */
static void set_init(NameSet *s, Arena *arena, size_t cap, const NameSet *outer)
{
    s->cap = cap;
    s->len = 0;
    s->arena = arena;
    s->outer = outer;
    s->slots = xrealloc(NULL, s->cap * sizeof *s->slots);
    memset(s->slots, 0, s->cap * sizeof *s->slots);
}

static void set_free(NameSet *s)
{
    free(s->slots);
    s->slots = NULL;
}

static int usable(const NameSet *s, const char *name)
{
    return !set_has(s, name);
}

/* Claims `want` made a name C and C++ leave to programs: no leading '_' (C reserves those
 * at file scope) and no "__" (C++ reserves it anywhere); a taken name gets `_`, then `_2`,
 * `_3`, ... appended. */
static const char *claim(NameSet *s, const char *want)
{
    Buf b = {0};
    if (want[0] == '_')
        buf_puts(&b, "v");
    for (const char *c = want; *c; c++)
        if (*c != '_' || !b.len || b.data[b.len - 1] != '_')
            buf_putn(&b, c, 1);
    if (!usable(s, b.data)) {
        if (b.data[b.len - 1] != '_')
            buf_puts(&b, "_");
        size_t base = b.len;
        for (unsigned k = 2; !usable(s, b.data); k++) {
            b.len = base;
            buf_printf(&b, "%u", k);
        }
    }
    const char *name = arena_strndup(s->arena, b.data, b.len);
    buf_free(&b);
    set_add(s, name);
    return name;
}

/* ---- numbers -------------------------------------------------------------------------------- */

static const char *const real_type[] = {"double", "float", "long double"};
static const char *const real_suffix[] = {"", "f", "l"};   /* of the <math.h> functions */
static const char *const literal_suffix[] = {"", "f", "L"};

/* v as a constant of the given type: the shortest %g form that reads back to the same value
 * of that type, always with a '.' or an exponent, and the type's suffix. This prints the
 * constants adgen makes (0.5, 2.0, and folded ones in double); those of the source keep their
 * spelling in float and long double code. The C library prints '.' because adgen never calls
 * setlocale: the output is locale-independent. */
static void put_real(Buf *out, double v, RealType real)
{
    char s[40];
    if (real == REAL_FLOAT) {
        float f = (float)v;
        if (isinf(f)) {
            buf_printf(out, "%sHUGE_VALF", f < 0 ? "-" : "");
            return;
        }
        v = f;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        /* whole numbers in plain notation: 100.0, not 1e+02 */
        buf_printf(out, "%.1f%s", v, literal_suffix[real]);
        return;
    }
    /* reading back is exact from some precision on (9 digits for float, 17 for double):
     * search for the first */
    int lo = 1, hi = 17;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        snprintf(s, sizeof s, "%.*g", mid, v);
        if (real == REAL_FLOAT ? strtof(s, NULL) == (float)v : strtod(s, NULL) == v)
            hi = mid;
        else
            lo = mid + 1;
    }
    snprintf(s, sizeof s, "%.*g", lo, v);
    buf_printf(out, "%s%s%s", s, strpbrk(s, ".e") ? "" : ".0", literal_suffix[real]);
}

/* ---- per-definition state -------------------------------------------------------------------- */

typedef struct {
    const Func *f;
    const EmitOptions *opt;
    const char *name, *grad_name;
    const char **param;     /* per input */
    const char **gparam;    /* per input: its gradient pointer */
    const char **local;     /* per node: the C name when it is a parameter or a local */
    const char **literal;   /* per constant node: its text, once printed */
    Arena *arena;
    NodeId *adj_of;         /* per node: the primal op node whose adjoint it is, or 0 */
    NameSet names;
    unsigned temps;
} Def_;

typedef struct {
    const Def_ *e;
    uint8_t *needed;
    uint8_t *local;    /* materialized as a local in this body */
    uint32_t *uses;
} Body;

static int is_op(const Dag *d, NodeId n)
{
    NodeKind k = d->nodes[n].kind;
    return k != N_CONST && k != N_INPUT;
}

static void plan_body(Body *b, const Def_ *e, const NodeId *roots, int nroots)
{
    const Dag *d = &e->f->dag;
    uint32_t n = d->len;
    b->e = e;
    b->needed = xrealloc(NULL, n);
    b->local = xrealloc(NULL, n);
    b->uses = xrealloc(NULL, n * sizeof *b->uses);
    memset(b->needed, 0, n);
    memset(b->local, 0, n);
    memset(b->uses, 0, n * sizeof *b->uses);
    NodeId top = 0;
    for (int i = 0; i < nroots; i++) {
        b->needed[roots[i]] = 1;
        b->uses[roots[i]]++;
        if (roots[i] > top)
            top = roots[i];
    }
    for (NodeId id = top; id > 0; id--) {
        if (!b->needed[id] || !is_op(d, id))
            continue;
        const Node *nd = &d->nodes[id];
        int ar = node_arity(nd->kind);
        NodeId ops[3] = {nd->a, nd->b, nd->c};
        for (int i = 0; i < ar; i++) {
            b->needed[ops[i]] = 1;
            /* the sign test reads its operand three times */
            b->uses[ops[i]] += nd->kind == N_SIGN ? 3 : 1;
        }
    }
    uint8_t *height = xrealloc(NULL, n);
    memset(height, 0, n);
    for (NodeId id = 1; id <= top; id++) {
        if (!b->needed[id] || !is_op(d, id))
            continue;
        const Node *nd = &d->nodes[id];
        int ar = node_arity(nd->kind), h = 0;
        NodeId ops[3] = {nd->a, nd->b, nd->c};
        for (int i = 0; i < ar; i++)
            if (height[ops[i]] > h)
                h = height[ops[i]];
        int named = (e->f->node_names && id < e->f->names_cap && e->f->node_names[id]) ||
                    e->adj_of[id];
        if (named || b->uses[id] > 1 || h + 1 > MAX_INLINE)
            b->local[id] = 1;
        else
            height[id] = (uint8_t)(h + 1);
    }
    free(height);
}

static void free_body(Body *b)
{
    free(b->needed);
    free(b->local);
    free(b->uses);
}

static void name_locals(Def_ *e, const Body *b)
{
    const Func *f = e->f;
    for (NodeId id = 1; id < f->dag.len; id++) {
        if (!b->local[id] || e->local[id])
            continue;
        const char *src = id < f->names_cap ? f->node_names[id] : NULL;
        if (src) {
            e->local[id] = claim(&e->names, src);
        } else if (e->adj_of[id] && e->local[e->adj_of[id]]) {
            Buf want = {0};
            buf_printf(&want, "%s_bar", e->local[e->adj_of[id]]);
            e->local[id] = claim(&e->names, want.data);
            buf_free(&want);
        } else {
            char want[24];
            do
                snprintf(want, sizeof want, "t%u", ++e->temps);
            while (!usable(&e->names, want));
            e->local[id] = claim(&e->names, want);
        }
    }
}

/* ---- expressions ------------------------------------------------------------------------------ */

enum { P_TERNARY, P_ADD, P_MUL, P_UNARY, P_PRIMARY };

static int prec_of(const Body *b, NodeId id)
{
    const Node *nd = &b->e->f->dag.nodes[id];
    if (nd->kind == N_CONST)
        return nd->k < 0 || (nd->k == 0 && signbit(nd->k)) ? P_UNARY : P_PRIMARY;
    if (nd->kind == N_INPUT || b->local[id])
        return P_PRIMARY;
    switch (nd->kind) {
    case N_ADD: case N_SUB: return P_ADD;
    case N_MUL: case N_DIV: return P_MUL;
    case N_NEG: return P_UNARY;
    default: return P_PRIMARY;
    }
}

static void put_expr(Buf *out, const Body *b, NodeId id);

static void put_operand(Buf *out, const Body *b, NodeId id, int min_prec)
{
    if (prec_of(b, id) < min_prec) {
        buf_puts(out, "(");
        put_expr(out, b, id);
        buf_puts(out, ")");
    } else {
        put_expr(out, b, id);
    }
}

static void put_node(Buf *out, const Body *b, NodeId id);

/* A reference to a node: its name when it has one, else its expression inlined. */
static void put_expr(Buf *out, const Body *b, NodeId id)
{
    const Node *nd = &b->e->f->dag.nodes[id];
    if (nd->kind == N_CONST) {
        /* a constant is printed in both functions and often several times: format it once */
        const char **text = &b->e->literal[id];
        if (!*text) {
            const Func *f = b->e->f;
            const char *spelled = id < f->texts_cap ? f->node_text[id] : NULL;
            Buf t = {0};
            if (spelled) /* the digits as written: '.0' where C needs a floating constant */
                buf_printf(&t, "%s%s%s", spelled, strpbrk(spelled, ".eE") ? "" : ".0",
                           literal_suffix[b->e->opt->real]);
            else
                put_real(&t, nd->k, b->e->opt->real);
            *text = arena_strndup(b->e->arena, t.data, t.len);
            buf_free(&t);
        }
        buf_puts(out, *text);
    } else if (nd->kind == N_INPUT || b->local[id])
        buf_puts(out, b->e->local[id]);
    else
        put_node(out, b, id);
}

/* An operation node's expression in terms of its operands. */
static void put_node(Buf *out, const Body *b, NodeId id)
{
    const Node *nd = &b->e->f->dag.nodes[id];
    RealType real = b->e->opt->real;
    switch (nd->kind) {
    case N_ADD: case N_SUB: case N_MUL: case N_DIV: {
        int p = nd->kind == N_ADD || nd->kind == N_SUB ? P_ADD : P_MUL;
        put_operand(out, b, nd->a, p);
        buf_printf(out, " %s ", node_name(nd->kind));
        put_operand(out, b, nd->b, p + 1); /* (a + b) + c but a + (b + c): keep the order */
        break;
    }
    case N_NEG:
        buf_puts(out, "-");
        put_operand(out, b, nd->a, P_PRIMARY);
        break;
    case N_SIGN:
        buf_puts(out, "(");
        put_operand(out, b, nd->a, P_PRIMARY);
        buf_puts(out, " > 0 ? ");
        put_real(out, 1.0, real);
        buf_puts(out, " : ");
        put_operand(out, b, nd->a, P_PRIMARY);
        buf_puts(out, " < 0 ? ");
        put_real(out, -1.0, real);
        buf_puts(out, " : ");
        put_operand(out, b, nd->a, P_PRIMARY);
        buf_puts(out, ")");
        break;
    case N_IFEQ: case N_IFNE:
        buf_puts(out, "(");
        put_operand(out, b, nd->a, P_ADD);
        buf_puts(out, " == ");
        put_operand(out, b, nd->b, P_ADD);
        buf_puts(out, " ? ");
        if (nd->kind == N_IFNE) {
            put_real(out, 0.0, real);
            buf_puts(out, " : ");
        }
        put_operand(out, b, nd->c, P_ADD);
        if (nd->kind == N_IFEQ) {
            buf_puts(out, " : ");
            put_real(out, 0.0, real);
        }
        buf_puts(out, ")");
        break;
    default: {
        buf_printf(out, "%s%s(", node_name(nd->kind), real_suffix[real]);
        put_expr(out, b, nd->a);
        if (node_arity(nd->kind) == 2) {
            buf_puts(out, ", ");
            put_expr(out, b, nd->b);
        }
        buf_puts(out, ")");
        break;
    }
    }
}

/* ---- functions ---------------------------------------------------------------------------------- */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The definition's source as a comment: bytes that could end the comment, form a trigraph
 * or are not printable ASCII are replaced, and a long definition is cut. */
static void put_source_comment(Buf *out, const Diag *diag, const Def_ *e)
{
    const Def *def = e->f->def;
    const char *s = diag->src + def->loc.begin, *end = diag->src + def->loc.end;
    Buf text = {0};
    if (def->bare) {
        buf_printf(&text, "%s(", e->f->name);
        for (int i = 0; i < e->f->ninputs; i++)
            buf_printf(&text, "%s%s", i ? ", " : "", e->f->inputs[i]);
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

static void put_prototype(Buf *out, const Def_ *e, int grad)
{
    const Func *f = e->f;
    const char *real = real_type[e->opt->real];
    if (e->opt->file_static)
        buf_puts(out, "static ADGEN_UNUSED ");
    buf_printf(out, "%s %s(", real, grad ? e->grad_name : e->name);
    if (f->ninputs == 0)
        buf_puts(out, "void");
    for (int i = 0; i < f->ninputs; i++)
        buf_printf(out, "%s%s %s", i ? ", " : "", real, e->param[i]);
    for (int i = 0; grad && i < f->ninputs; i++)
        buf_printf(out, ", %s *%s", real, e->gparam[i]);
    buf_puts(out, ")");
}

static void put_grad_comment(Buf *out, const Def_ *e)
{
    const Func *f = e->f;
    int n = f->ninputs;
    buf_printf(out, "/* Returns %s(", e->name);
    for (int i = 0; i < n; i++)
        buf_printf(out, "%s%s", i ? ", " : "", e->param[i]);
    buf_puts(out, ")");
    if (n > 0 && e->opt->accumulate)
        buf_printf(out, " and adds the partial derivative%s to ", n > 1 ? "s" : "");
    else if (n > 0)
        buf_puts(out, " and overwrites ");
    for (int i = 0; i < n; i++)
        buf_printf(out, "%s*%s", i == 0 ? "" : i == n - 1 ? " and " : ", ", e->gparam[i]);
    if (n > 0 && !e->opt->accumulate)
        buf_printf(out, " with the partial derivative%s", n > 1 ? "s" : "");
    buf_puts(out, ". */\n");
}

static int line_of(const Func *f, NodeId id)
{
    int line = id < f->lines_cap ? f->node_line[id] : 0;
    return line ? line : f->def->loc.first_line;
}

static void put_body(Emitter *em, const Body *b, const NodeId *roots, int nroots, int grad)
{
    Buf *out = em->out;
    const Def_ *e = b->e;
    const Func *f = e->f;
    const Dag *d = &f->dag;
    buf_puts(out, "{\n");
    for (NodeId id = 1; id < d->len; id++)
        if (d->nodes[id].kind == N_INPUT && !b->needed[id])
            buf_printf(out, "    (void)%s;\n", e->local[id]);
    int section = 0;
    for (NodeId id = 1; id < d->len; id++) {
        if (!b->needed[id] || !b->local[id])
            continue;
        int want = id < f->nprimal ? 1 : 2;
        if (grad && section != want) {
            buf_printf(out, "%s    /* %s */\n", section ? "\n" : "",
                       want == 1 ? "forward sweep (eq. 5.143)" : "reverse sweep (eq. 5.145)");
            section = want;
        }
        at_source_line(em, line_of(f, id));
        buf_printf(out, "    const %s %s = ", real_type[e->opt->real], e->local[id]);
        put_node(out, b, id);
        buf_puts(out, ";\n");
    }
    if (grad && section)
        buf_puts(out, "\n");
    for (int i = 1; i < nroots; i++) {
        if (e->opt->accumulate && dag_is_const(d, roots[i], 0.0)) {
            buf_printf(out, "    (void)%s; /* %s does not depend on it */\n", e->gparam[i - 1],
                       e->name);
            continue;
        }
        at_source_line(em, line_of(f, roots[i]));
        buf_printf(out, "    *%s %s= ", e->gparam[i - 1], e->opt->accumulate ? "+" : "");
        put_expr(out, b, roots[i]);
        buf_puts(out, ";\n");
    }
    at_source_line(em, line_of(f, roots[0]));
    buf_puts(out, "    return ");
    put_expr(out, b, roots[0]);
    buf_puts(out, ";\n}\n");
    at_output_line(em);
}

static void global_names(const Program *prog, const EmitOptions *opt, NameSet *global,
                         Def_ *defs)
{
    for (size_t i = 0; i < sizeof reserved_words / sizeof *reserved_words; i++)
        set_add(global, reserved_words[i]);
    char variant[32];
    for (size_t i = 0; i < sizeof math_functions / sizeof *math_functions; i++) {
        set_add(global, math_functions[i]);
        snprintf(variant, sizeof variant, "%sf", math_functions[i]);
        set_add(global, arena_strndup(global->arena, variant, strlen(variant)));
        snprintf(variant, sizeof variant, "%sl", math_functions[i]);
        set_add(global, arena_strndup(global->arena, variant, strlen(variant)));
    }
    set_add(global, "ADGEN_UNUSED");
    for (int i = 0; i < prog->nfuncs; i++) {
        Buf want = {0};
        defs[i].f = &prog->funcs[i];
        defs[i].opt = opt;
        buf_printf(&want, "%s%s", opt->prefix ? opt->prefix : "",
                   opt->name ? opt->name : prog->funcs[i].name);
        defs[i].name = claim(global, want.data);
        want.len = 0;
        buf_printf(&want, "%s_grad", defs[i].name);
        defs[i].grad_name = claim(global, want.data);
        buf_free(&want);
    }
}

/* The C names of a definition's parameters and gradient pointers, claimed before any local. */
static void name_params(Def_ *e, const NameSet *global, Arena *arena)
{
    const Func *f = e->f;
    uint32_t n = f->dag.len;
    set_init(&e->names, arena, 16, global);
    e->local = arena_alloc(arena, n * sizeof *e->local);
    e->literal = arena_alloc(arena, n * sizeof *e->literal);
    e->arena = arena;
    e->param = arena_alloc(arena, (size_t)(f->ninputs + 1) * sizeof *e->param);
    e->gparam = arena_alloc(arena, (size_t)(f->ninputs + 1) * sizeof *e->gparam);
    for (NodeId id = 1; id < n; id++) {
        const Node *nd = &f->dag.nodes[id];
        if (nd->kind == N_INPUT)
            e->local[id] = e->param[(int)nd->k] = claim(&e->names, f->inputs[(int)nd->k]);
    }
    for (int i = 0; i < f->ninputs; i++) {
        Buf want = {0};
        buf_printf(&want, "%s_bar", f->inputs[i]);
        e->gparam[i] = claim(&e->names, want.data);
        buf_free(&want);
    }
}

/* Schedules and names both bodies. The gradient is planned first, so that a node has the
 * same name in both functions; roots[0] is the output, roots[1..n] the input adjoints. */
static void plan_bodies(Def_ *e, Arena *arena, Body *primal, Body *grad, NodeId **roots)
{
    const Func *f = e->f;
    uint32_t n = f->dag.len;
    NodeId *no_adjoints = arena_alloc(arena, n * sizeof *no_adjoints);
    e->adj_of = arena_alloc(arena, n * sizeof *e->adj_of);
    for (NodeId p = f->nprimal; p-- > 1;) {
        NodeId q = f->adj[p];
        if (is_op(&f->dag, p) && q >= f->nprimal && is_op(&f->dag, q) && !e->adj_of[q])
            e->adj_of[q] = p;
    }
    *roots = arena_alloc(arena, (size_t)(f->ninputs + 1) * sizeof **roots);
    (*roots)[0] = f->output;
    for (int i = 0; i < f->ninputs; i++)
        (*roots)[i + 1] = f->grad[i];
    plan_body(grad, e, *roots, f->ninputs + 1);
    name_locals(e, grad);
    e->adj_of = no_adjoints;
    plan_body(primal, e, *roots, 1);
    name_locals(e, primal);
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
    NameSet global;
    set_init(&global, &arena, 512, NULL);
    Def_ *defs = arena_alloc(&arena, (size_t)prog->nfuncs * sizeof *defs);
    global_names(prog, opt, &global, defs);
    Emitter em = {.out = out, .opt = opt};

    for (int i = 0; i < prog->nfuncs; i++)
        name_params(&defs[i], &global, &arena);
    header_comment(out, diag);
    buf_puts(out, "#include <math.h>\n\n");
    if (opt->file_static)
        buf_printf(out, "#ifndef ADGEN_UNUSED\n#if defined(__GNUC__)\n"
                        "#define ADGEN_UNUSED __attribute__((unused))\n#else\n"
                        "#define ADGEN_UNUSED\n#endif\n#endif\n\n");
    /* compiled as C++, the definitions take the C linkage the header declares */
    buf_puts(out, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n");
    for (int i = 0; i < prog->nfuncs; i++) {
        put_prototype(out, &defs[i], 0);
        buf_puts(out, ";\n");
        put_prototype(out, &defs[i], 1);
        buf_puts(out, ";\n");
    }
    buf_puts(out, "#ifdef __cplusplus\n}\n#endif\n");
    for (int i = 0; i < prog->nfuncs; i++) {
        Def_ *e = &defs[i];
        Body primal, grad;
        NodeId *roots;
        int line = e->f->def->loc.first_line;
        plan_bodies(e, &arena, &primal, &grad, &roots);
        buf_puts(out, "\n");
        put_source_comment(out, diag, e);
        at_source_line(&em, line);
        put_prototype(out, e, 0);
        buf_puts(out, "\n");
        put_body(&em, &primal, roots, 1, 0);
        buf_puts(out, "\n");
        put_grad_comment(out, e);
        at_source_line(&em, line);
        put_prototype(out, e, 1);
        buf_puts(out, "\n");
        put_body(&em, &grad, roots, e->f->ninputs + 1, 1);
        free_body(&primal);
        free_body(&grad);
        set_free(&e->names);
    }
    set_free(&global);
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
    NameSet global;
    set_init(&global, &arena, 512, NULL);
    Def_ *defs = arena_alloc(&arena, (size_t)prog->nfuncs * sizeof *defs);
    global_names(prog, opt, &global, defs);

    header_comment(out, diag);
    buf_puts(out, "#ifndef ");
    put_guard(out, header_name, defs[0].name);
    buf_puts(out, "\n#define ");
    put_guard(out, header_name, defs[0].name);
    buf_puts(out, "\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n");
    for (int i = 0; i < prog->nfuncs; i++) {
        Def_ *e = &defs[i];
        name_params(e, &global, &arena);
        buf_puts(out, "\n");
        put_source_comment(out, diag, e);
        put_prototype(out, e, 0);
        buf_puts(out, ";\n");
        put_grad_comment(out, e);
        put_prototype(out, e, 1);
        buf_puts(out, ";\n");
        set_free(&e->names);
    }
    buf_puts(out, "\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
    set_free(&global);
    arena_free(&arena);
}
