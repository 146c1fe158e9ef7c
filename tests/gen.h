/*
 * gen.h: a random program generator for the differential test. gen_program(seed) writes a
 * valid adgen program drawn from the whole language: every builtin, every operator and
 * spelling (^ and **, unary - and +), pi, numbers in every form, one-line definitions, blocks
 * with named intermediates used several times, bare expressions, several definitions per
 * file, deep chains and nests, integer, fractional and negative powers, and names that clash
 * with C keywords, <math.h> and the names adgen generates; and the language of models: a
 * file constant K (a size and a number), array inputs (sized by numbers or K), data inputs
 * after ';', elements by constant and loop-variable indices, sum and prod (sometimes over an
 * empty range), for loops filling local arrays of one or two indices (with scalars local to
 * an iteration), if with comparisons, &&, || and !, and calls of earlier definitions (passing
 * scalars and arrays). Each function argument is usually wrapped in a guard that keeps it in
 * the function's domain at moderate inputs (log(1 + e^2), asin(tanh(e)), ...); unguarded
 * forms come often enough that the test also meets points out of the domain. The PRNG is splitmix64 and nothing else feeds the choices,
 * so a seed always gives the same text.
 */
#ifndef GEN_H
#define GEN_H

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

typedef struct {
    uint64_t state;
} Rng;

static inline uint64_t rng_next(Rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* Uniform in [0, n); the bias of the modulo is far below what the tests could notice. */
static inline unsigned rng_below(Rng *r, unsigned n)
{
    return (unsigned)(rng_next(r) % n);
}

/* Uniform in [0, 1), from the top 53 bits. */
static inline double rng_unit(Rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1p-53;
}

static inline int rng_chance(Rng *r, unsigned percent)
{
    return rng_below(r, 100) < percent;
}

/* Size limits of a program. */
typedef struct {
    int max_defs;    /* definitions per file */
    int max_inputs;  /* inputs per definition */
    int max_depth;   /* nesting of one expression */
    int max_stmts;   /* named intermediates per block */
} GenSize;

/* Names for inputs, intermediates and definitions: plain ones, and ones adgen must rename
 * because they are C or C++ keywords, <math.h> names (builtins used as variables included),
 * names it generates itself, or reserved to the C implementation. */
static const char *const gen_names[] = {
    "x", "y", "z", "w", "a", "b", "c", "u", "v", "s", "q", "r2",
    "int", "double", "float", "const", "if", "for", "while", "auto", "class", "new", "this",
    "exp", "sin", "log", "sqrt", "abs", "min", "max", "pow", "hypot", "sinf", "cosl",
    "fabs", "y0", "j1", "gamma", "NAN", "INFINITY", "HUGE_VAL", "M_PI", "errno",
    "main", "f_grad", "x_bar", "t1", "t2", "t1_bar", "g_grad", "f", "g", "_x", "__y", "_Bool",
};
#define GEN_NNAMES (sizeof gen_names / sizeof *gen_names)

/* The state of one definition being written. */
typedef struct {
    Rng *rng;
    Buf *out;
    const GenSize *size;
    const char *vars[64];  /* names in scope: inputs, then intermediates as they appear */
    int used[64];          /* intermediates: read at least once */
    int nvars, ninputs;
    char *pool[8];         /* recent subexpressions, repeated to make shared nodes */
    int npool;
    struct {
        const char *name;
        int size;
        int cols;          /* a local array of two indices: its second size; else 0 */
    } arr[8];              /* arrays in scope: inputs, data and local ones */
    int narr;
    const char *loopvar;   /* inside a sum or a for loop: its variable, 0..looplen-1 */
    int looplen;
    const char *const *callable; /* earlier definitions, their arity and per input its size
                                    (0: a scalar) */
    const int *arity;
    const int (*shape)[8];
    const int *nvalues;    /* per callable: 0 for one value, else a list's length */
    int ncallable;
    int konst;             /* the file's constant K, a number in expressions too; 0: none */
    int calling;           /* the definition gen_can_call checked */
    int bound[8];          /* the arrays of arr that bind a list's values (c = cons(x)) */
    int nbound;
} Gen;

static void gen_expr(Gen *g, int depth);

static void gen_number(Gen *g)
{
    static const char *const forms[] = {
        "0.5", ".5", "1", "1.", "2", "3", "0.25", "1.5e-3", "2E+1", "1.5", "0.1", "7", "1e0",
        "2.5", "0.75", "10", "3e-1", "0", "0.0",
    };
    buf_printf(g->out, "%s", forms[rng_below(g->rng, sizeof forms / sizeof *forms)]);
}

/* An element of an array in scope: indexed by the loop variable where the sizes match, else
 * by a constant index (sometimes written as arithmetic). */
static void gen_element(Gen *g)
{
    int a = (int)rng_below(g->rng, (unsigned)g->narr);
    int size = g->arr[a].size;
    if (g->loopvar && size == g->looplen && rng_chance(g->rng, 75)) {
        buf_printf(g->out, "%s[%s]", g->arr[a].name, g->loopvar);
    } else {
        int k = (int)rng_below(g->rng, (unsigned)size);
        if (rng_chance(g->rng, 20))
            buf_printf(g->out, "%s[%d - 1]", g->arr[a].name, k + 1);
        else
            buf_printf(g->out, "%s[%d]", g->arr[a].name, k);
    }
    if (g->arr[a].cols)
        buf_printf(g->out, "[%u]", rng_below(g->rng, (unsigned)g->arr[a].cols));
}

static void gen_leaf(Gen *g)
{
    if (g->narr && rng_chance(g->rng, 30)) {
        gen_element(g);
        return;
    }
    if (g->loopvar && rng_chance(g->rng, 8)) {
        buf_printf(g->out, "%s", g->loopvar); /* a loop variable is a number too */
        return;
    }
    if (g->konst && rng_chance(g->rng, 3)) {
        buf_printf(g->out, "K"); /* and so is a size */
        return;
    }
    unsigned k = rng_below(g->rng, 10);
    if (g->nvars == 0 || k == 0) {
        gen_number(g);
    } else if (k == 1) {
        buf_printf(g->out, "pi");
    } else {
        /* lean towards the latest intermediates, so that chains form and get reused */
        int recent = g->nvars - g->ninputs < 3 ? g->nvars - g->ninputs : 3;
        int i = (int)rng_below(g->rng, (unsigned)g->nvars);
        if (recent > 0 && rng_chance(g->rng, 40))
            i = g->nvars - 1 - (int)rng_below(g->rng, (unsigned)recent);
        g->used[i] = 1;
        buf_printf(g->out, "%s", g->vars[i]);
    }
}

/* (e) for a fresh subexpression e; sometimes a line break inside the parentheses, which
 * continues the expression. */
static void gen_paren(Gen *g, int depth)
{
    buf_printf(g->out, rng_chance(g->rng, 3) ? "(\n        " : "(");
    gen_expr(g, depth);
    buf_printf(g->out, ")");
}

/* A value kept positive and moderate for log, log1p, log2, log10, sqrt, pow bases and
 * divisors. */
static void gen_positive(Gen *g, int depth)
{
    Buf *o = g->out;
    switch (rng_below(g->rng, 7)) {
    case 0: buf_printf(o, "(1 + "); gen_paren(g, depth); buf_printf(o, "^2)"); break;
    case 1: buf_printf(o, "exp(sin"); gen_paren(g, depth); buf_printf(o, ")"); break;
    case 2: buf_printf(o, "cosh(tanh"); gen_paren(g, depth); buf_printf(o, ")"); break;
    case 3: buf_printf(o, "(abs"); gen_paren(g, depth); buf_printf(o, " + 0.5)"); break;
    case 4: buf_printf(o, "hypot("); gen_expr(g, depth); buf_printf(o, ", 0.75)"); break;
    case 5: buf_printf(o, "(2 + cos"); gen_paren(g, depth); buf_printf(o, ")"); break;
    default: buf_printf(o, "(0.5 + "); gen_paren(g, depth); buf_printf(o, " ** 2)"); break;
    }
}

/* A value in (-1, 1) for asin, acos and atanh. */
static void gen_unit_interval(Gen *g, int depth)
{
    Buf *o = g->out;
    switch (rng_below(g->rng, 3)) {
    case 0: buf_printf(o, "tanh"); gen_paren(g, depth); break;
    case 1: buf_printf(o, "(0.9 * sin"); gen_paren(g, depth); buf_printf(o, ")"); break;
    default: buf_printf(o, "(atan"); gen_paren(g, depth); buf_printf(o, " / 2)"); break;
    }
}

/* A value of at least 1 for acosh: 1 exactly, its domain edge, at 0 for the first two. */
static void gen_above_one(Gen *g, int depth)
{
    Buf *o = g->out;
    switch (rng_below(g->rng, 4)) {
    case 0: buf_printf(o, "(1 + "); gen_paren(g, depth); buf_printf(o, "^2)"); break;
    case 1: buf_printf(o, "hypot("); gen_expr(g, depth); buf_printf(o, ", 1)"); break;
    case 2: buf_printf(o, "(1.25 + abs"); gen_paren(g, depth); buf_printf(o, ")"); break;
    default: buf_printf(o, "(2 + cos"); gen_paren(g, depth); buf_printf(o, ")"); break;
    }
}

/* A moderate value for exp, expm1, sinh, cosh and tan. */
static void gen_moderate(Gen *g, int depth)
{
    Buf *o = g->out;
    switch (rng_below(g->rng, 3)) {
    case 0: buf_printf(o, "sin"); gen_paren(g, depth); break;
    case 1: buf_printf(o, "tanh"); gen_paren(g, depth); break;
    default: buf_printf(o, "(atan"); gen_paren(g, depth); buf_printf(o, " * 0.6)"); break;
    }
}

/* An argument: guarded by `guard` most of the time, raw otherwise. */
static void gen_arg(Gen *g, int depth, void (*guard)(Gen *, int))
{
    if (rng_chance(g->rng, 88))
        guard(g, depth);
    else
        gen_expr(g, depth);
}

/* One of a list of names. */
#define GEN_PICK_RNG(rng, list) ((list)[rng_below((rng), sizeof(list) / sizeof *(list))])
#define GEN_PICK(g, list) GEN_PICK_RNG((g)->rng, list)

static void gen_call(Gen *g, int depth)
{
    /* defined everywhere; the steps floor, ceil and sign among them */
    static const char *const plain[] = {"sin", "cos", "atan", "tanh", "abs", "asinh", "cbrt",
                                        "erf", "erfc", "floor", "ceil", "sign", "relu",
                                        "sigmoid", "softplus"};
    static const char *const moderate[] = {"exp", "expm1", "sinh", "cosh", "tan"};
    static const char *const positive[] = {"log", "log1p", "log2", "log10", "sqrt"};
    static const char *const unit[] = {"asin", "acos", "atanh"};
    Buf *o = g->out;
    switch (rng_below(g->rng, 10)) {
    case 0:
    case 1:
        buf_printf(o, "%s(", GEN_PICK(g, plain));
        gen_expr(g, depth);
        break;
    case 2:
        buf_printf(o, "%s(", GEN_PICK(g, moderate));
        gen_arg(g, depth, gen_moderate);
        break;
    case 3:
        buf_printf(o, "%s(", GEN_PICK(g, positive));
        gen_arg(g, depth, gen_positive);
        break;
    case 4:
        buf_printf(o, "%s(", GEN_PICK(g, unit));
        gen_arg(g, depth, gen_unit_interval);
        break;
    case 5:
        buf_printf(o, "pow(");
        gen_arg(g, depth, gen_positive);
        buf_printf(o, ", ");
        gen_expr(g, depth);
        break;
    case 6:
        buf_printf(o, "acosh(");
        gen_arg(g, depth, gen_above_one);
        break;
    default: {
        static const char *const two[] = {"atan2", "hypot", "min", "max"};
        buf_printf(o, "%s(", GEN_PICK(g, two));
        gen_expr(g, depth);
        buf_printf(o, ", ");
        gen_expr(g, depth);
        break;
    }
    }
    buf_printf(o, ")");
}

static void gen_power(Gen *g, int depth)
{
    static const char *const whole[] = {"2", "3", "4", "5", "7", "-1", "-2", "-3", "0", "1",
                                        "64", "65", "-65", "2."};
    static const char *const fraction[] = {"0.5", "1.5", "-0.5", "2.5", "0.3", "-1.5", "1.25"};
    Buf *o = g->out;
    const char *op = rng_chance(g->rng, 25) ? "**" : "^";
    switch (rng_below(g->rng, 4)) {
    case 0:
        /* an integer power of anything: it becomes multiplications; large ones of a small
         * base keep the value finite */
        if (rng_chance(g->rng, 80)) {
            gen_paren(g, depth);
            buf_printf(o, "%s%s", op, whole[rng_below(g->rng, 10)]);
        } else {
            buf_printf(o, "(0.5 + 0.5 * tanh");
            gen_paren(g, depth);
            buf_printf(o, ")%s%s", op, whole[10 + rng_below(g->rng, 4)]);
        }
        break;
    case 1:
        gen_arg(g, depth, gen_positive);
        buf_printf(o, "%s%s", op, fraction[rng_below(g->rng, 7)]);
        break;
    case 2:
        /* a variable exponent, which may carry a sign: 2^-x */
        gen_arg(g, depth, gen_positive);
        buf_printf(o, "%s%s", op, rng_chance(g->rng, 30) ? "-" : "");
        gen_paren(g, depth);
        break;
    default:
        buf_printf(o, "%s%s", rng_chance(g->rng, 50) ? "2" : "pi", op);
        gen_moderate(g, depth);
        break;
    }
}

/* Appends a copy of out[from..] to the pool of subexpressions to repeat. */
static void gen_remember(Gen *g, size_t from)
{
    size_t n = g->out->len - from;
    if (n > 200 || g->loopvar) /* a loop's text names its variable: not valid elsewhere */
        return;
    int slot = g->npool < 8 ? g->npool++ : (int)rng_below(g->rng, 8);
    free(g->pool[slot]);
    g->pool[slot] = strndup(g->out->data + from, n);
}

/* A condition: comparisons joined by && and ||, or negated. */
static void gen_condition(Gen *g, int depth)
{
    static const char *const cmp[] = {" < ", " <= ", " > ", " >= ", " == ", " != "};
    Buf *o = g->out;
    switch (depth > 0 ? rng_below(g->rng, 5) : 4) {
    case 0:
        buf_printf(o, "(");
        gen_condition(g, depth - 1);
        buf_printf(o, ") %s (", rng_chance(g->rng, 50) ? "&&" : "||");
        gen_condition(g, depth - 1);
        buf_printf(o, ")");
        break;
    case 1:
        buf_printf(o, "!(");
        gen_condition(g, depth - 1);
        buf_printf(o, ")");
        break;
    default:
        gen_paren(g, depth);
        buf_printf(o, "%s", cmp[rng_below(g->rng, 6)]);
        gen_paren(g, depth);
        break;
    }
}

/* An array in scope of one index and that size, drawn, or -1. */
static int gen_array_of(Gen *g, int size)
{
    int found[8], n = 0;
    for (int a = 0; a < g->narr; a++)
        if (g->arr[a].size == size && !g->arr[a].cols)
            found[n++] = a;
    return n ? found[rng_below(g->rng, (unsigned)n)] : -1;
}

/* Whether definition d can be called here: an array of the size of each array input is in
 * scope. Sets g->calling. */
static int gen_can_call(Gen *g, int d)
{
    g->calling = d;
    for (int i = 0; i < g->arity[d]; i++) {
        int a = -1;
        for (int b = 0; b < g->narr && a < 0; b++)
            a = g->arr[b].size == g->shape[d][i] && !g->arr[b].cols ? b : -1;
        if (g->shape[d][i] && a < 0)
            return 0;
    }
    return 1;
}

/* A call of callable d: its name and arguments (an array in scope of each array input's
 * size). */
static void gen_call_args(Gen *g, int d, int depth)
{
    buf_printf(g->out, "%s(", g->callable[d]);
    for (int i = 0; i < g->arity[d]; i++) {
        buf_printf(g->out, i ? ", " : "");
        if (g->shape[d][i])
            buf_printf(g->out, "%s", g->arr[gen_array_of(g, g->shape[d][i])].name);
        else
            gen_expr(g, depth);
    }
    buf_printf(g->out, ")");
}

/* A callable returning a list, drawn among them; -1 (and nothing drawn) when there is none. */
static int gen_vector_callable(Gen *g)
{
    int found[16], n = 0;
    for (int d = 0; d < g->ncallable && n < 16; d++)
        if (g->nvalues[d])
            found[n++] = d;
    return n ? found[rng_below(g->rng, (unsigned)n)] : -1;
}

/* The model language: if(c, a, b); a sum or prod over an array in scope; a call of an
 * earlier definition. `which` picks; what does not fit falls back to a leaf. */
static void gen_model(Gen *g, int depth, unsigned which)
{
    Buf *o = g->out;
    if (which == 0 || which == 1) {
        buf_printf(o, "if(");
        gen_condition(g, depth);
        buf_printf(o, ", ");
        gen_expr(g, depth);
        buf_printf(o, ", ");
        gen_expr(g, depth);
        buf_printf(o, ")");
    } else if (which == 2 && g->narr && !g->loopvar) {
        /* prod only over few factors: the product of four moderate values stays moderate */
        int a = (int)rng_below(g->rng, (unsigned)g->narr), is_prod = rng_chance(g->rng, 25);
        g->loopvar = "i";
        g->looplen = g->arr[a].size;
        /* an empty range: the sum is 0, the product 1, and what the term reads is unread */
        int empty = rng_chance(g->rng, 8), used[64];
        memcpy(used, g->used, sizeof used);
        buf_printf(o, "%s(i = %d..%d, ", is_prod ? "prod" : "sum", empty ? g->looplen : 0,
                   g->looplen - 1);
        if (is_prod)
            buf_printf(o, "tanh");
        gen_paren(g, depth);
        buf_printf(o, ")");
        if (empty)
            memcpy(g->used, used, sizeof used);
        g->loopvar = NULL;
    } else if (which == 3 && g->ncallable && gen_can_call(g, (int)rng_below(g->rng,
                                                                         (unsigned)g->ncallable))) {
        int d = g->calling;
        gen_call_args(g, d, depth);
        if (g->nvalues[d]) /* one value of a list, indexed where it is read */
            buf_printf(o, "[%u]", rng_below(g->rng, (unsigned)g->nvalues[d]));
    } else {
        gen_leaf(g);
    }
}

static void gen_expr(Gen *g, int depth)
{
    Buf *o = g->out;
    if (depth <= 0 || rng_chance(g->rng, 12)) {
        gen_leaf(g);
        return;
    }
    if (g->npool && rng_chance(g->rng, 10)) {
        /* the same text again: hash-consing makes it one node with two consumers */
        buf_printf(o, "(%s)", g->pool[rng_below(g->rng, (unsigned)g->npool)]);
        return;
    }
    size_t from = o->len;
    unsigned k = rng_below(g->rng, 20);
    if (k >= 16) {
        gen_model(g, depth - 1, k - 16);
        gen_remember(g, from);
        return;
    }
    if (k < 5) {
        static const char *const ops[] = {" + ", " - ", " * ", "+", "*"};
        gen_paren(g, depth - 1);
        buf_printf(o, "%s", ops[k]);
        gen_paren(g, depth - 1);
    } else if (k < 7) {
        gen_paren(g, depth - 1);
        buf_printf(o, " / ");
        gen_arg(g, depth - 1, gen_positive);
    } else if (k < 8) {
        buf_printf(o, "%s", rng_chance(g->rng, 70) ? "-" : "+");
        gen_paren(g, depth - 1);
    } else if (k < 13) {
        gen_call(g, depth - 1);
    } else {
        gen_power(g, depth - 1);
    }
    gen_remember(g, from);
}

/* A name not yet in scope (nor the definition's own: adgen allows it, but it reads badly). */
static const char *gen_fresh_name(Gen *g, const char *def_name)
{
    for (;;) {
        const char *name = gen_names[rng_below(g->rng, GEN_NNAMES)];
        int taken = strcmp(name, def_name) == 0;
        for (int i = 0; i < g->nvars && !taken; i++)
            taken = strcmp(g->vars[i], name) == 0;
        for (int i = 0; i < g->narr && !taken; i++)
            taken = strcmp(g->arr[i].name, name) == 0;
        if (!taken)
            return name;
    }
}

/* A deep nest of bounded functions around one expression: tanh(sin(atan(... x ...))). */
static void gen_nest(Gen *g, int n)
{
    static const char *const bounded[] = {"sin", "tanh", "atan", "cos", "sigmoid", "erf"};
    for (int i = 0; i < n; i++)
        buf_printf(g->out, "%s(", GEN_PICK(g, bounded));
    gen_expr(g, 2);
    for (int i = 0; i < n; i++)
        buf_printf(g->out, i % 3 == 1 ? " * 1.1)" : ")");
}

/* A for loop filling a local array of an array's size, element by element, sometimes with
 * a scalar local to each iteration; the array is in scope after it. */
static void gen_loop(Gen *g)
{
    static const char *const locals[] = {"h", "h2", "h3", "h4", "h5", "h6", "h7", "h8"};
    Buf *o = g->out;
    int a = (int)rng_below(g->rng, (unsigned)g->narr), per_iteration = rng_chance(g->rng, 40);
    const char *name = locals[g->narr - 1];
    g->loopvar = "k";
    g->looplen = g->arr[a].size;
    buf_printf(o, "    for k = 0..%d%s{\n", g->looplen - 1, rng_chance(g->rng, 20) ? "\n    " : " ");
    int cols = rng_chance(g->rng, 25) ? 2 : 0; /* h[k][0] and h[k][1] */
    if (per_iteration) {
        buf_printf(o, "        zk = ");
        gen_expr(g, 2);
        buf_printf(o, "\n        %s[k]%s = zk * ", name, cols ? "[0]" : "");
    } else {
        buf_printf(o, "        %s[k]%s = ", name, cols ? "[0]" : "");
    }
    gen_paren(g, 2);
    if (cols) {
        buf_printf(o, "\n        %s[k][1] = ", name);
        gen_paren(g, 2);
    }
    buf_printf(o, "\n    }\n");
    g->loopvar = NULL;
    g->arr[g->narr].name = name;
    g->arr[g->narr].cols = cols;
    g->arr[g->narr++].size = g->looplen;
}

/* The body of a block: intermediates, each a fresh expression or a link of a long chain,
 * then a return that reads every intermediate nothing else has read. */
static void gen_block(Gen *g, const char *def_name)
{
    Buf *o = g->out;
    int chain = rng_chance(g->rng, 15);
    int n = 1 + (int)rng_below(g->rng, (unsigned)g->size->max_stmts);
    if (chain)
        n = 20 + (int)rng_below(g->rng, 28);
    if (n > 48 - g->nvars) /* leave names free for gen_fresh_name to find */
        n = 48 - g->nvars;
    for (int i = 0; i < n; i++) {
        if (g->narr && g->narr < 8 && !chain && rng_chance(g->rng, 20))
            gen_loop(g);
        int d = gen_vector_callable(g);
        if (d >= 0 && g->narr < 8 && !chain && rng_chance(g->rng, 50) && gen_can_call(g, d)) {
            /* the values of a list bound as a local array: c = cons(x), then c[0], c[1] */
            const char *name = gen_fresh_name(g, def_name);
            buf_printf(o, "    %s = ", name);
            gen_call_args(g, d, 1);
            buf_printf(o, "\n");
            g->bound[g->nbound++] = g->narr;
            g->arr[g->narr].name = name;
            g->arr[g->narr].cols = 0;
            g->arr[g->narr++].size = g->nvalues[d];
            continue;
        }
        const char *name = gen_fresh_name(g, def_name);
        buf_printf(o, "    %s = ", name);
        if (chain && g->nvars > g->ninputs) {
            /* a contraction of the previous link, so that a long chain stays moderate */
            const char *prev = g->vars[g->nvars - 1];
            g->used[g->nvars - 1] = 1;
            buf_printf(o, "%s(%s) * 0.9 + ", rng_chance(g->rng, 50) ? "sin" : "tanh", prev);
            gen_paren(g, 1);
        } else {
            gen_expr(g, 1 + (int)rng_below(g->rng, (unsigned)g->size->max_depth));
        }
        buf_printf(o, rng_chance(g->rng, 20) ? "; " : rng_chance(g->rng, 10) ?
                                                         "  # an intermediate\n" : "\n");
        g->used[g->nvars] = 0;
        g->vars[g->nvars++] = name;
    }
    buf_printf(o, "    return ");
    gen_expr(g, 1 + (int)rng_below(g->rng, (unsigned)g->size->max_depth));
    for (int i = g->ninputs; i < g->nvars; i++)
        if (!g->used[i])
            buf_printf(o, " %s %s", rng_chance(g->rng, 50) ? "+" : "-", g->vars[i]);
    for (int i = 0; i < g->nbound; i++) /* each read once at least */
        buf_printf(o, " + %s[%u]", g->arr[g->bound[i]].name,
                   rng_below(g->rng, (unsigned)g->arr[g->bound[i]].size));
    buf_printf(o, "\n}\n");
}

/* One definition, named `name`; a bare expression when `bare`. Some inputs are arrays
 * (`v[3]`, or sized by the file's constant K), and some data after ';'. */
static void gen_def(Rng *rng, Buf *out, const GenSize *size, const char *name, int bare,
                    const char *const *callable, const int *arity, const int (*shape)[8],
                    const int *nvalues, int ncallable, int konst)
{
    Gen g = {.rng = rng, .out = out, .size = size, .callable = callable, .arity = arity,
             .shape = shape, .nvalues = nvalues, .ncallable = ncallable, .konst = konst};
    int ninputs = (int)rng_below(rng, (unsigned)size->max_inputs + 1);
    if (ninputs == 0 && (bare || rng_chance(rng, 70)))
        ninputs = 1; /* a definition without inputs is rare; a bare one needs a variable */
    /* per input: 0 a scalar, else an array of that size; the last ndata are data */
    int sizes[8] = {0}, ndata = 0;
    const char *names[8];
    for (int i = 0; i < ninputs; i++) {
        if (!bare && rng_chance(rng, 30))
            sizes[i] = konst && rng_chance(rng, 40) ? -konst : 1 + (int)rng_below(rng, 4);
        names[i] = gen_fresh_name(&g, name);
        if (sizes[i]) {
            /* an array is no scalar variable: it is reached through gen_element */
            g.arr[g.narr].name = names[i];
            g.arr[g.narr++].size = sizes[i] < 0 ? -sizes[i] : sizes[i];
            g.vars[g.nvars] = names[i];
            g.used[g.nvars] = 1;
            continue;
        }
        g.vars[g.nvars] = names[i];
        g.used[g.nvars++] = 1;
    }
    if (!bare && ninputs > 1 && rng_chance(rng, 25))
        ndata = 1 + (int)rng_below(rng, (unsigned)(ninputs > 2 ? 2 : 1));
    g.ninputs = g.nvars;
    if (bare) {
        gen_expr(&g, size->max_depth);
        buf_printf(out, "\n");
    } else {
        buf_printf(out, "%s(", name);
        for (int i = 0; i < ninputs; i++) {
            buf_printf(out, "%s%s", i == 0 ? "" : i == ninputs - ndata ? "; " : ", ", names[i]);
            if (sizes[i] < 0)
                buf_printf(out, "[K]");
            else if (sizes[i])
                buf_printf(out, "[%d]", sizes[i]);
        }
        if (rng_chance(rng, 60)) {
            buf_printf(out, ") {\n");
            gen_block(&g, name);
        } else {
            buf_printf(out, ") = ");
            if (rng_chance(rng, 8))
                gen_nest(&g, 20 + (int)rng_below(rng, 60));
            else
                gen_expr(&g, 1 + (int)rng_below(rng, (unsigned)size->max_depth));
            buf_printf(out, "\n");
        }
    }
    for (int i = 0; i < g.npool; i++)
        free(g.pool[i]);
}

/* `inline NAME(u, v) = [..., ...]`: a helper of one or two scalar inputs returning two or
 * three values; its arity and its number of values. */
static void gen_vector_def(Rng *rng, Buf *out, const GenSize *size, const char *name,
                           int *arity, int *nvalues)
{
    Gen g = {.rng = rng, .out = out, .size = size};
    int n = 1 + (int)rng_below(rng, 2), m = 2 + (int)rng_below(rng, 2);
    buf_printf(out, "inline %s(", name);
    for (int i = 0; i < n; i++) {
        const char *input = gen_fresh_name(&g, name);
        buf_printf(out, "%s%s", i ? ", " : "", input);
        g.used[g.nvars] = 1;
        g.vars[g.nvars++] = input;
    }
    g.ninputs = g.nvars;
    buf_printf(out, ") = [");
    for (int k = 0; k < m; k++) {
        buf_printf(out, k ? ", " : "");
        gen_expr(&g, 1 + (int)rng_below(rng, (unsigned)size->max_depth));
    }
    buf_printf(out, "]\n");
    for (int i = 0; i < g.npool; i++)
        free(g.pool[i]);
    *arity = n;
    *nvalues = m;
}

/* Whether a definition's name is one the language calls a function of its own: a call of it
 * means that function, not the definition. */
static int gen_is_language_function(const char *name)
{
    if (strcmp(name, "if") == 0 || strcmp(name, "sum") == 0 || strcmp(name, "prod") == 0)
        return 1;
    for (int k = 0; k < N_KINDS; k++)
        if (op_info[k].lang && strcmp(op_info[k].lang, name) == 0)
            return 1;
    return 0;
}

/* Whether a is b_grad: adgen rejects a definition named after another's gradient. */
static int gen_is_grad_of(const char *a, const char *b)
{
    size_t n = strlen(b);
    return strncmp(a, b, n) == 0 && strcmp(a + n, "_grad") == 0;
}

/* Whether text calls `name(`, apart from longer names that end with it. */
static int gen_called_after(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strstr(text, name); p; p = strstr(p + 1, name))
        if (p[n] == '(' && (p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '_')))
            return 1;
    return 0;
}

/* A whole program drawn from seed, appended to out. */
static inline void gen_program(Buf *out, uint64_t seed, const GenSize *size)
{
    Rng rng = {seed};
    buf_printf(out, "# adgen differential test, seed %llu\n", (unsigned long long)seed);
    if (rng_chance(&rng, 8)) {
        gen_def(&rng, out, size, "", 1, NULL, NULL, NULL, NULL, 0, 0);
        return;
    }
    int konst = 0;
    if (rng_chance(&rng, 20)) {
        konst = 1 + (int)rng_below(&rng, 4);
        buf_printf(out, "K = %d\n", konst);
    }
    int ndefs = 1 + (int)rng_below(&rng, (unsigned)size->max_defs);
    const char *names[16], *callable[16];
    int arity[16], shape[16][8] = {{0}}, nvalues[16] = {0}, ncallable = 0, called[16] = {0};
    size_t starts[16];
    /* sometimes first a helper returning a list, which later definitions call (indexed, or
     * bound to a local array) and which is only inlined; dropped when none calls it. Its
     * own stream of draws. */
    Rng vrng = {seed ^ 0x9e3779b97f4a7c15ull};
    const char *vname = NULL;
    size_t vstart = out->len, vend = out->len;
    if (ndefs > 1 && rng_chance(&vrng, 30)) {
        do
            vname = gen_names[rng_below(&vrng, GEN_NNAMES)];
        while (gen_is_language_function(vname));
        gen_vector_def(&vrng, out, size, vname, &arity[0], &nvalues[0]);
        callable[ncallable++] = vname;
        vend = out->len;
    }
    for (int d = 0; d < ndefs && d < 16; d++) {
        const char *name;
        int taken;
        do {
            name = gen_names[rng_below(&rng, GEN_NNAMES)];
            taken = vname && (strcmp(vname, name) == 0 || gen_is_grad_of(vname, name) ||
                              gen_is_grad_of(name, vname));
            for (int e = 0; e < d; e++)
                taken |= strcmp(names[e], name) == 0 || gen_is_grad_of(names[e], name) ||
                         gen_is_grad_of(name, names[e]);
        } while (taken);
        names[d] = name;
        size_t start = starts[d] = out->len;
        gen_def(&rng, out, size, name, 0, callable, arity, (const int (*)[8])shape, nvalues,
                ncallable, konst);
        /* a definition without data may be called by later ones, with arrays of its sizes */
        const char *head = out->data + start + strlen(name) + 1;
        size_t head_len = strcspn(head, ")");
        if (!gen_is_language_function(name) && !memchr(head, ';', head_len)) {
            int n = 0;
            for (const char *p = head; p < head + head_len; p++) {
                if (p == head || p[-1] == ',')
                    shape[ncallable][n++] = 0;
                if (*p == '[')
                    shape[ncallable][n - 1] = p[1] == 'K' ? konst : atoi(p + 1);
            }
            callable[ncallable] = name;
            arity[ncallable++] = n;
            called[d] = 1;
        }
        if (rng_chance(&rng, 30))
            buf_printf(out, "\n");
    }
    /* some helpers that later definitions call only inlined (`inline`), last first so that
     * the earlier offsets hold */
    for (int d = ndefs < 16 ? ndefs - 2 : 14; d >= 0; d--) {
        if (!called[d] || !gen_called_after(out->data + starts[d + 1], names[d]) ||
            !rng_chance(&rng, 40))
            continue;
        static const char word[] = "inline ";
        size_t n = sizeof word - 1, tail = out->len - starts[d];
        buf_puts(out, word); /* room for it */
        memmove(out->data + starts[d] + n, out->data + starts[d], tail);
        memcpy(out->data + starts[d], word, n);
    }
    if (vname && !gen_called_after(out->data + vend, vname)) {
        memmove(out->data + vstart, out->data + vend, out->len - vend + 1);
        out->len -= vend - vstart;
    }
}

/* ---- programs with loops kept at run time -------------------------------------------- */

/* What gen_kept_program chose: the head is always f(p[2], q, x[n]; y[n]) (x differentiated)
 * or f(p[2], q; x[n], y[n]) (x data), n a size known at run time. */
typedef struct {
    int x_diff;      /* x is differentiated */
    int recurrence;  /* the body has a recurrence (a work array) */
    int second;      /* and a second one after it, from its last state (no checkpointing) */
    int traj;        /* a sum after it reads its trajectory (and the second one, if any, does
                        too): every entry point takes the work array, no checkpointing */
    int data_rec;    /* a recurrence of data only (no tangent, no adjoint), counted in
                        recurrence and, beside another, in second */
    int prod;        /* a product over 0..n-1 (a recurrence: counted as data_rec is) */
    int call;        /* an inline helper over arrays of run-time size, 1: a sum, called
                        with x and y; 2: a map of x, assigned and read by a kept sum */
    int step;        /* a sum per step, 1: in a kept sum's iteration; 2: in a map's, beside a
                        local of the step: every entry point takes the work array (its
                        sums' trajectory), no checkpointing */
    int moving;      /* the sum per step's range moves with the step (0..i, i..n-1, ...) */
    int matrix;      /* data W[n][nw] of two run-time sizes, read by a sum per step over
                        0..nw-1: the entry points take nw after n, and W after y */
    int hosted;      /* a recurrence whose step has a sum over 0..n-1 or 0..k reading its
                        state (the step's, the next once assigned, over 0..k a past one:
                        computed in its loop): counted in recurrence (and second, beside
                        another) and traj, as it stores its states */
    int columns;     /* a recurrence in a loop over 0..1, lowered again at each of its steps
                        (two recurrences, over two columns of one array): counted in
                        recurrence and second */
    int dead;        /* a recurrence whose second state nothing reads (left out of its loop),
                        sometimes with sums per step: counted in recurrence and second (and
                        traj with the sums, which store its states) */
    int state_first; /* and its two states are one array written state first */
    int columns_first; /* the columns' recurrences written state first (cz[m][k]) */
} GenKept;

/* An expression of depth about `depth` over the given names (they are printed as they are:
 * "x[i]" is a name here) and, inside a loop, its variable. */
static void gen_kept_expr(Rng *rng, Buf *out, const char *const *names, int n,
                          const char *loopvar, int depth)
{
    static const GenSize size = {1, 4, 3, 4};
    Gen g = {.rng = rng, .out = out, .size = &size, .loopvar = loopvar};
    for (int i = 0; i < n; i++) {
        g.vars[i] = names[i];
        g.used[i] = 1;
    }
    g.nvars = g.ninputs = n;
    gen_expr(&g, depth);
    for (int i = 0; i < g.npool; i++)
        free(g.pool[i]);
}

/* A definition with sums over a run-time range (one of them reading x[i+1]), sometimes a map
 * a sum reads and sometimes a recurrence (a bounded step, a value from outside added as it
 * is, or two states trading values; sometimes a second one after it, sometimes a sum over its
 * trajectory; sometimes a recurrence of data only), a product, an inline helper over the
 * arrays (a sum, a map assigned whole), a definition of two values called in a map or a
 * recurrence, a sum inside a kept sum that reads none of its values (of the data, or of a
 * map whose iteration has a scalar of its own), a sum inside a kept sum or map that reads
 * its values (a sum per step), drawn from seed: the same text with -D n=K is its unrolled
 * form. */
static inline void gen_kept_program(Buf *out, uint64_t seed, GenKept *k)
{
    Rng rng = {seed};
    k->x_diff = rng_chance(&rng, 50);
    k->recurrence = rng_chance(&rng, 35);
    int map = rng_chance(&rng, 40);
    buf_printf(out, "# adgen kept-loop test, seed %llu\n", (unsigned long long)seed);
    size_t head = out->len; /* where the helpers go, drawn last */
    /* drawn apart, so that a seed gives the program it gave before */
    Rng wide = {seed * 2654435761u + 7};
    k->matrix = rng_chance(&wide, 25);
    buf_printf(out, "f(p[2], q%s; %sy[n]%s) {\n", k->x_diff ? ", x[n]" : "",
               k->x_diff ? "" : "x[n], ", k->matrix ? ", W[n][nw]" : "");
    static const char *const outer[] = {"p[0]", "p[1]", "q"};
    buf_printf(out, "    a = ");
    gen_kept_expr(&rng, out, outer, 3, NULL, 2);
    if (map) {
        static const char *const in_map[] = {"p[0]", "a", "x[i]", "y[i]"};
        static const char *const in_map2[] = {"z", "p[1]", "x[i]"};
        buf_printf(out, "\n    for i = 0..n-1 {\n        z = ");
        gen_kept_expr(&rng, out, in_map, 4, "i", 2);
        buf_printf(out, "\n        h[i] = ");
        gen_kept_expr(&rng, out, in_map2, 3, "i", 2);
        buf_printf(out, "\n    }");
    }
    static const char *const in_sum[] = {"p[0]", "p[1]", "q", "a", "x[i]", "y[i]", "h[i]"};
    buf_printf(out, "\n    s1 = sum(i = 0..n-1, ");
    gen_kept_expr(&rng, out, in_sum, map ? 7 : 6, "i", 3);
    static const char *const in_sum2[] = {"p[0]", "a", "x[i]", "x[i+1]", "y[i+1]"};
    buf_printf(out, ")\n    s2 = sum(i = 0..n-2, ");
    gen_kept_expr(&rng, out, in_sum2, 5, "i", 3);
    buf_printf(out, ")\n");
    if (k->recurrence) {
        static const char *const init[] = {"p[1]", "q"};
        static const char *const step[] = {"r[k]", "x[k]", "p[0]", "q"};
        static const char *const step2[] = {"r[k]", "u[k]", "x[k]", "p[0]", "q", "a"};
        static const char *const outside[] = {"p[0]", "q", "a", "a*q"};
        buf_printf(out, "    r[0] = ");
        gen_kept_expr(&rng, out, init, 2, NULL, 1);
        switch (rng_below(&rng, 3)) {
        case 0:
            buf_printf(out, "\n    for k = 0..n-1 { r[k+1] = r[k] + 0.25*tanh(");
            gen_kept_expr(&rng, out, step, 4, "k", 2);
            buf_printf(out, ") }\n");
            break;
        case 1: /* a value read from outside added as it is: its adjoint term is r's own */
            buf_printf(out, "\n    for k = 0..n-1 { r[k+1] = 0.5*r[k] + %s }\n",
                       GEN_PICK_RNG(&rng, outside));
            break;
        default: /* two states that trade values */
            buf_printf(out, "\n    u[0] = ");
            gen_kept_expr(&rng, out, init, 2, NULL, 1);
            buf_printf(out, "\n    for k = 0..n-1 {\n        r[k+1] = u[k] + 0.25*tanh(");
            gen_kept_expr(&rng, out, step2, 6, "k", 2);
            buf_printf(out, ")\n        u[k+1] = r[k]\n    }\n");
            break;
        }
    }
    k->second = k->recurrence && rng_chance(&rng, 30);
    k->traj = k->recurrence && rng_chance(&rng, 40);
    if (k->second) { /* a second recurrence from the first's last state (its trajectory) */
        static const char *const step3[] = {"w[k]", "r[n]", "p[1]", "a", "r[k+1]"};
        buf_printf(out, "    w[0] = 0.5*r[n]\n    for k = 0..n-1 { w[k+1] = 0.5*w[k] + 0.25*sin(");
        gen_kept_expr(&rng, out, step3, k->traj ? 5 : 4, "k", 2);
        buf_printf(out, ") }\n");
    }
    if (k->traj) { /* a sum over the first recurrence's trajectory */
        static const char *const in_traj[] = {"r[j]", "r[j+1]", "y[j]", "p[1]", "a"};
        buf_printf(out, "    s3 = sum(j = 0..n-1, (r[j+1] - ");
        gen_kept_expr(&rng, out, in_traj, 5, "j", 2);
        buf_printf(out, ")^2)\n");
    }
    int rec = k->recurrence, second = k->second;
    k->data_rec = rng_chance(&rng, 25);
    if (k->data_rec) { /* it carries no tangent and stores no step */
        buf_printf(out, "    d[0] = 0.5\n    for k = 0..n-1 { d[k+1] = 0.5*d[k] + 0.25*y[k] }\n");
        k->second |= k->recurrence;
        k->recurrence = 1;
    }
    static const char *const result[] = {"a", "s1", "s2", "p[0]", "q", "r[n]"};
    Buf ret = {0};
    gen_kept_expr(&rng, &ret, result, rec ? 6 : 5, NULL, 2);
    /* drawn after the rest, so that a seed without them gives the program it gave before */
    k->prod = rng_chance(&rng, 25);
    if (k->prod) { /* factors near 1: the product stays finite at large n */
        static const char *const in_prod[] = {"p[1]", "q", "a", "x[i]", "y[i]"};
        buf_printf(out, "    s4 = prod(i = 0..n-1, 1 + 0.25*tanh(");
        gen_kept_expr(&rng, out, in_prod, 5, "i", 2);
        buf_printf(out, "))\n");
        k->second |= k->recurrence;
        k->recurrence = 1;
    }
    k->call = rng_chance(&rng, 40) ? 1 + (int)rng_below(&rng, 2) : 0;
    int vcall = rng_chance(&rng, 35) ? 1 + (int)rng_below(&rng, 2) : 0;
    Buf helper = {0};
    if (k->call == 1) {
        static const char *const in_helper[] = {"v[i]", "w[i]", "c"};
        buf_printf(&helper, "inline hs(v[m], c; w[m]) = sum(i = 0..m-1, ");
        gen_kept_expr(&rng, &helper, in_helper, 3, "i", 2);
        buf_printf(&helper, ")\n");
    } else if (k->call == 2) {
        static const char *const in_helper[] = {"v[i]", "v[i+1]"};
        buf_printf(&helper, "inline hm(v[m]) {\n    for i = 0..m-2 { e[i] = ");
        gen_kept_expr(&rng, &helper, in_helper, 2, "i", 2);
        buf_printf(&helper, " }\n    return e\n}\n");
        buf_printf(out, "    g = hm(x)\n    s5 = sum(i = 0..n-2, g[i]*y[i])\n");
    }
    if (vcall) { /* a definition of two values called in a kept map or recurrence */
        static const char *const in_pair[] = {"a", "b", "c"};
        buf_printf(&helper, "inline pair(a, b, c) = [");
        gen_kept_expr(&rng, &helper, in_pair, 3, NULL, 2);
        buf_printf(&helper, ", ");
        gen_kept_expr(&rng, &helper, in_pair, 3, NULL, 2);
        buf_printf(&helper, "]\n");
        if (vcall == 1)
            buf_printf(out, "    for i = 0..n-1 {\n        t = pair(x[i], y[i], q)\n"
                            "        m2[i] = t[0]*tanh(t[1])\n    }\n"
                            "    s6 = sum(i = 0..n-1, m2[i])\n");
        else
            buf_printf(out, "    zz[0] = p[1]\n    for k = 0..n-1 {\n"
                            "        t = pair(zz[k], x[k], q)\n"
                            "        zz[k+1] = 0.5*zz[k] + 0.25*tanh(t[0] - t[1])\n    }\n");
    }
    if (vcall == 2) {
        k->second |= k->recurrence;
        k->recurrence = 1;
    }
    int hoist = rng_chance(&rng, 30); /* a sum inside a kept sum, reading none of its values */
    if (hoist && rng_chance(&rng, 50)) {
        /* inside a map, beside a local of its body that does not change with the step */
        static const char *const in_local[] = {"q", "p[0]", "a"};
        static const char *const in_inner[] = {"x[j]", "y[j]", "u7", "p[0]", "a"};
        buf_printf(out, "    for i = 0..n-1 {\n        u7 = ");
        gen_kept_expr(&rng, out, in_local, 3, NULL, 2);
        buf_printf(out, "\n        h7[i] = y[i]*tanh(0.1*sum(j = 0..n-1, ");
        gen_kept_expr(&rng, out, in_inner, 5, "j", 2);
        /* the map read by the sum and by a sum inside it (log-softmax's normaliser) */
        buf_printf(out, "))\n    }\n    s7 = sum(i = 0..n-1, h7[i]%s%s)\n",
                   vcall == 1 ? " + x[i]*sum(j = 0..n-1, m2[j])" : "",
                   rng_chance(&rng, 50) ? " - 0.1*y[i]*log(sum(j = 0..n-1, exp(h7[j])))" : "");
    } else if (hoist) {
        static const char *const in_inner[] = {"x[j]", "y[j]", "q", "p[0]", "a"};
        buf_printf(out, "    s7 = sum(i = 0..n-1, y[i]*tanh(0.1*sum(j = 0..n-1, ");
        gen_kept_expr(&rng, out, in_inner, 5, "j", 2);
        buf_printf(out, "))%s)\n", vcall == 1 ? " + x[i]*sum(j = 0..n-1, m2[j])" : "");
    }
    /* a sum over 0..n-1 inside a kept loop's iteration that reads it (drawn apart, so that a
     * seed gives the program it gave before) */
    Rng stepped = {seed * 2246822519u + 3};
    k->step = rng_chance(&stepped, 30) ? 1 + (int)rng_below(&stepped, 2) : 0;
    /* its range: 0..n-1, or one that moves with the step, the last name of in_step then
     * x[i-j] where j = 0..i (drawn apart again) */
    static const char *const ranges[] = {"0..n-1", "0..i", "0..i-1", "i..n-1", "i+1..n-1"};
    Rng moved = {seed * 3266489917u + 5};
    int range = k->step && rng_chance(&moved, 50) ? 1 + (int)rng_below(&moved, 4) : 0;
    k->moving = range != 0;
    /* a normaliser of the outer step inside the sum over j, over 0..n-1 or a range that
     * moves with the outer step (drawn apart again) */
    Rng normed = {seed * 2246822519u + 11};
    static const char *const norms[] = {
        " / (1 + sum(l = 0..n-1, exp(0.3*tanh(x[i]*y[l]))))",
        " / (1 + sum(l = 0..i, exp(0.3*tanh(x[i]*y[l]))))", " / (1 + sum(l = i..n-1, y[l]^2))"};
    const char *norm = k->step && rng_chance(&normed, 40) ? norms[rng_below(&normed, 3)] : "";
    if (k->step == 1) {
        static const char *const in_step[] = {"x[i]", "x[j]", "y[j]", "q", "a", "x[i-j]"};
        buf_printf(out, "    s8 = sum(i = 0..n-1, y[i]*log(1 + sum(j = %s, exp(0.5*tanh(x[i] - ",
                   ranges[range]);
        gen_kept_expr(&stepped, out, in_step, range == 1 ? 6 : 5, "j", 2);
        buf_printf(out, "))%s)))\n", norm);
    } else if (k->step == 2) {
        static const char *const in_local[] = {"x[i]", "y[i]", "p[1]"};
        static const char *const in_step[] = {"u8", "x[j]", "y[j]", "p[0]", "x[i-j]"};
        buf_printf(out, "    for i = 0..n-1 {\n        u8 = y[i] + x[i]*(");
        gen_kept_expr(&stepped, out, in_local, 3, "i", 2);
        buf_printf(out, ")\n        h8[i] = tanh(0.1*sum(j = %s, u8*", ranges[range]);
        gen_kept_expr(&stepped, out, in_step, range == 1 ? 5 : 4, "j", 2);
        buf_printf(out, "%s))\n    }\n    s8 = sum(i = 0..n-1, h8[i]*x[i])\n", norm);
    }
    /* a recurrence whose step's sum reads its state, x[k] or, once assigned, the next
     * one's: a particle filter's (drawn apart again) */
    Rng hosted = {seed * 2654435761u + 13};
    int s3 = k->traj;
    k->hosted = rng_chance(&hosted, 25);
    if (k->hosted) {
        /* over 0..k, a past state too (a memory term) */
        static const char *const in_part[] = {"v[k]", "x[j]", "y[j]", "p[1]", "a", "y[k]", "v[j]"};
        static const char *const in_part2[] = {"v[k+1]", "x[j]", "c[k]", "q"};
        int two = rng_chance(&hosted, 40), moves = rng_chance(&hosted, 30);
        buf_printf(out, "    v[0] = 0.5\n%s    for k = 0..n-1 {\n        v[k+1] = v[k] + "
                        "0.2*tanh(sum(j = %s, sin(v[k] + ",
                   two ? "    c[0] = 0\n" : "", moves ? "0..k" : "0..n-1");
        gen_kept_expr(&hosted, out, in_part, moves ? 7 : 6, "j", 2);
        buf_printf(out, ")) / (1 + n))\n");
        if (two) { /* a second state reading the first's new value in its sum */
            buf_printf(out, "        c[k+1] = 0.5*c[k] + 0.1*sum(j = 0..n-1, sin(c[k] - v[k+1] + ");
            gen_kept_expr(&hosted, out, in_part2, 4, "j", 2);
            buf_printf(out, "))\n");
        }
        buf_printf(out, "    }\n");
        k->second |= k->recurrence;
        k->recurrence = 1;
        k->traj = 1;
    }
    /* a recurrence in a loop of a constant range: one per step, over a column of cz */
    Rng cols = {seed * 2246822519u + 29};
    k->columns = rng_chance(&cols, 20);
    Rng first = {seed * 2246822519u + 37}; /* sometimes written state first, cz[m][k] */
    k->columns_first = k->columns && rng_chance(&first, 40);
    if (k->columns) {
        int sf = k->columns_first;
        const char *in_col[] = {sf ? "cz[m][k]" : "cz[k][m]", "p[m]", "q", "y[k]", "x[k]"};
        buf_printf(out, "    for m = 0..1 {\n        cz[%s] = 0.5*p[m]\n        for k = 0..n-1 "
                        "{ cz[%s] = %s + 0.2*sin(%s + p[m]*(", sf ? "m][0" : "0][m",
                   sf ? "m][k+1" : "k+1][m", in_col[0], in_col[0]);
        gen_kept_expr(&cols, out, in_col, 5, "k", 3);
        buf_printf(out, ")) }\n    }\n");
        k->second = 1;
        k->recurrence = 1;
    }
    /* a recurrence with a state nothing reads (g9: its step does not read it), sometimes
     * with a sum per step of the range of e9's, whose terms' partials are NaN; sometimes the
     * two written as one array, state first (e9[0][k], e9[1][k]) */
    Rng dead = {seed * 2246822519u + 31};
    k->dead = rng_chance(&dead, 20);
    if (k->dead) {
        int sums = rng_chance(&dead, 50);
        k->state_first = rng_chance(&dead, 40);
        const char *e = k->state_first ? "e9[0]" : "e9", *g = k->state_first ? "e9[1]" : "g9";
        const char *ek = k->state_first ? "e9[0][k]" : "e9[k]";
        const char *ek1 = k->state_first ? "e9[0][k+1]" : "e9[k+1]";
        const char *in_live[] = {ek, "x[k]", "y[k]", "p[1]", "a"};
        const char *in_dead[] = {ek, "x[k]", "p[0]", "y[k]", "a", ek1};
        buf_printf(out, "    %s[0] = 0.5\n    %s[0] = 0.5\n    for k = 0..n-1 {\n"
                        "        %s = %s + 0.2*tanh(", e, g, ek1, ek);
        gen_kept_expr(&dead, out, in_live, 5, "k", 2);
        buf_printf(out, ")");
        if (sums)
            buf_printf(out, " + 0.1*sum(j = 0..n-1, sin(%s - y[j]))", ek);
        buf_printf(out, "\n        %s[k+1] = ", g);
        gen_kept_expr(&dead, out, in_dead, 6, "k", 2);
        if (sums)
            buf_printf(out, " + sum(j = 0..n-1, log2(y[j] - 3)*%s)", ek);
        buf_printf(out, "\n    }\n");
        k->second = 1;
        k->recurrence = 1;
        k->traj |= sums;
    }
    if (k->matrix) {
        static const char *const in_row[] = {"W[i][j]", "x[i]", "p[0]", "q", "y[i]"};
        buf_printf(out, "    s9 = sum(i = 0..n-1, y[i]*tanh(sum(j = 0..nw-1, W[i][j]*(");
        gen_kept_expr(&wide, out, in_row, 5, "j", 2);
        buf_printf(out, "))))\n");
    }
    if (helper.len) {
        size_t n = helper.len;
        buf_putn(out, helper.data, n); /* grows the buffer by n */
        memmove(out->data + head + n, out->data + head, out->len - n - head);
        memcpy(out->data + head, helper.data, n);
    }
    buf_free(&helper);
    buf_printf(out, "    return %s + s1 - s2%s%s%s%s%s%s%s%s%s%s%s%s%s\n}\n", ret.data,
               rec ? " + r[n]" : "", second ? " + w[n]" : "", s3 ? " + s3" : "",
               k->data_rec ? " + p[0]*d[n]" : "", k->prod ? " + s4" : "",
               k->call == 1 ? " + hs(x, q, y)" : k->call == 2 ? " + s5" : "",
               vcall == 1 ? " + s6" : vcall == 2 ? " + zz[n]" : "", hoist ? " + s7" : "",
               k->step ? " + s8" : "", k->matrix ? " + s9" : "",
               k->hosted ? " + v[n]*q" : "",
               !k->columns ? "" : k->columns_first ? " + cz[0][n] - q*cz[1][n]" :
                                                     " + cz[n][0] - q*cz[n][1]",
               !k->dead ? "" : k->state_first ? " + e9[0][n]" : " + e9[n]");
    buf_free(&ret);
}

/* A definition whose Hessian or Jacobian has a size known only at run time and a banded
 * pattern (hess-sparse, jac-sparse with the pattern as code, src/band.c): x[n] differentiated
 * (and, when *two is set, Z[n][2] after it, read a row a step: arrays of different steps; when
 * *arrow is set, the scalar q after them: a dense row and column), p, q and y data. A scalar is a sum of kept sums reading x[i], x[i+1] (and, in a third, x[i+2])
 * and data, each scaled by a number or a data scalar (linear in the sums: a banded Hessian); a
 * vector result (*map set) is a map over 0..n-2 of two values a step reading x[i] and x[i+1].
 * The loop variable is not read as a number: where it makes a term vanish (x[i]*i at i = 0)
 * the unrolled pattern loses an entry the kept one keeps (README: an explicit zero). Whether
 * Z comes, and q's place, are drawn apart, so that a seed without them gives the program it
 * gave before they were added. */
static inline void gen_band_program(Buf *out, uint64_t seed, int *map, int *two, int *arrow)
{
    Rng rng = {seed}, apart = {seed * 2654435761u + 7}, bordered = {seed * 40503u + 11};
    *map = rng_chance(&rng, 35);
    *two = rng_chance(&apart, 30);
    /* q differentiated too: the Hessian's arrow (q's row and column dense), the Jacobian's
     * dense column */
    *arrow = rng_chance(&bordered, 35);
    int z = *two ? 2 : 0;
    buf_printf(out, "# adgen banded-pattern test, seed %llu\n", (unsigned long long)seed);
    buf_printf(out, "f(x[n]%s%s; p[2]%s, y[n]) {\n    a = ", *two ? ", Z[n][2]" : "",
               *arrow ? ", q" : "", *arrow ? "" : ", q");
    static const char *const outer[] = {"p[0]", "p[1]", "q"};
    gen_kept_expr(&rng, out, outer, 3, NULL, 2);
    buf_puts(out, "\n");
    if (*map) {
        static const char *const in_map[] = {"x[i]", "x[i+1]", "a", "y[i]", "p[1]",
                                             "Z[i][1]", "Z[i+1][0]"};
        buf_puts(out, "    for i = 0..n-2 {\n        r[i][0] = ");
        gen_kept_expr(&rng, out, in_map, 5 + z, NULL, 3);
        buf_puts(out, "\n        r[i][1] = ");
        gen_kept_expr(&rng, out, in_map, rng_chance(&rng, 50) ? 5 + z : 1, NULL, 2);
        buf_puts(out, " + x[i+1]\n    }\n    return r\n}\n");
        return;
    }
    static const char *const in1[] = {"x[i]", "a", "y[i]", "q", "Z[i][0]", "Z[i][1]"};
    static const char *const in2[] = {"x[i]", "x[i+1]", "p[0]", "y[i+1]", "Z[i+1][0]",
                                      "Z[i][1]"};
    static const char *const in3[] = {"x[i+2]", "x[i]", "a"};
    static const char *const scale[] = {"1", "0.5", "q", "p[1]", "-2"};
    buf_puts(out, "    s1 = sum(i = 0..n-1, ");
    gen_kept_expr(&rng, out, in1, 4 + z, NULL, 3);
    buf_puts(out, ")\n    s2 = sum(i = 0..n-2, ");
    gen_kept_expr(&rng, out, in2, 4 + z, NULL, 3);
    buf_puts(out, ")\n");
    int third = rng_chance(&rng, 40);
    if (third) {
        buf_puts(out, "    s3 = sum(i = 0..n-3, ");
        gen_kept_expr(&rng, out, in3, 3, NULL, 2);
        buf_puts(out, ")\n");
    }
    buf_printf(out, "    return %s*s1 + %s*s2%s%s + a\n}\n", GEN_PICK_RNG(&rng, scale),
               GEN_PICK_RNG(&rng, scale), third ? " - " : "", third ? "s3" : "");
}

#endif
