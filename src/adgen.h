/*
 * adgen.h: the one private header of adgen, a section per pipeline stage.
 *
 *   source text --lexer.l/parser.y--> Def list (AST) --sema--> Dag per definition
 *   --reverse--> adjoint nodes in the same Dag --emit_c--> C text --main--> files
 */
#ifndef ADGEN_H
#define ADGEN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ADGEN_VERSION "0.1.0"

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* ---- arena.c: one bump allocator per run, freed at once ---------------------------------- */

typedef struct ArenaBlock ArenaBlock;
typedef struct {
    ArenaBlock *head;
} Arena;

void *arena_alloc(Arena *a, size_t size);
char *arena_strndup(Arena *a, const char *s, size_t n);
void arena_free(Arena *a);
void *xrealloc(void *p, size_t size);

/* ---- buf.c: growable text buffer --------------------------------------------------------- */

typedef struct {
    char *data;
    size_t len, cap;
} Buf;

void buf_printf(Buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
void buf_vprintf(Buf *b, const char *fmt, va_list ap);
void buf_putn(Buf *b, const char *s, size_t n);
void buf_puts(Buf *b, const char *s);
void buf_free(Buf *b);

/* ---- diag.c: located diagnostics, gcc-style ---------------------------------------------- */

/* A source span: 1-based line and column of the first and last character, and byte offsets
 * [begin, end) into the source buffer. */
typedef struct {
    int first_line, first_column, last_line, last_column;
    size_t begin, end;
} Loc;

typedef struct {
    const char *file;    /* name shown in messages */
    const char *src;     /* the whole input */
    size_t len;
    FILE *out;           /* where messages go (stderr) */
    int errors;
} Diag;

/* The loc of a message about the whole input (printed without a position). */
#define DIAG_WHOLE_FILE ((Loc){0, 0, 0, 0, 0, 0})

void diag_error(Diag *d, Loc loc, const char *fmt, ...) PRINTF_LIKE(3, 4);
void diag_note(Diag *d, Loc loc, const char *fmt, ...) PRINTF_LIKE(3, 4);
void diag_warning(Diag *d, Loc loc, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* The C type the generated code computes in. */
typedef enum { REAL_DOUBLE, REAL_FLOAT, REAL_LONG_DOUBLE } RealType;

/* ---- ast.c: syntax tree and interned identifiers ------------------------------------------ */

typedef enum {
    A_NUM,    /* num */
    A_VAR,    /* name */
    A_NEG,    /* -lhs */
    A_POS,    /* +lhs */
    A_ADD, A_SUB, A_MUL, A_DIV, A_POW, /* lhs op rhs */
    A_CALL,   /* name(args...) */
} AstKind;

typedef struct Ast Ast;
struct Ast {
    AstKind kind;
    Loc loc;
    double num;
    const char *name;  /* interned */
    Ast *lhs, *rhs;
    Ast *args;         /* A_CALL: first argument, chained through next */
    int nargs;
    Ast *next;
    uint32_t node;     /* sema: the DAG node this expression lowered to */
};

typedef struct Stmt Stmt;
struct Stmt {
    Loc loc;
    const char *name;  /* assigned name; NULL for return */
    Loc name_loc;
    Ast *expr;
    Stmt *next;
};

typedef struct Def Def;
struct Def {
    Loc loc;           /* the whole definition */
    const char *name;
    Loc name_loc;
    Ast *params;       /* A_VAR nodes chained through next */
    int nparams;
    Stmt *body;        /* block definitions */
    Loc close_loc;     /* the closing brace of a block */
    Ast *expr;         /* one-line definitions and bare expressions */
    int bare;          /* a bare expression: sema names it and finds its inputs */
    Def *next;
};

typedef struct Interner Interner;

/* The state shared by parser actions and the scanner. */
typedef struct {
    Arena *arena;
    Diag *diag;
    Interner *names;
    Def *defs, *last;
    int paren_depth;      /* scanner: line breaks inside parentheses are spaces */
    Loc *parens;          /* scanner: where each of the paren_depth open '(' stands */
    size_t parens_cap;
    int eof_newline;      /* scanner: the end of the input has been reported as a line end */
    int line, column;     /* scanner: the position of the next character */
    size_t offset;
    RealType real;        /* sema: the type the code will compute in */
} Parse;

Interner *intern_new(void);
void intern_free(Interner *in);
const char *intern(Interner *in, Arena *a, const char *s, size_t n);

Ast *ast_new(Parse *p, AstKind kind, Loc loc);
Ast *ast_binary(Parse *p, AstKind kind, Loc loc, Ast *lhs, Ast *rhs);

/* Parses the diagnostics' source into p->defs; returns the number of errors. */
int parse_source(Parse *p);

/* ---- dag.c: hash-consed expression DAG ---------------------------------------------------- */

typedef uint32_t NodeId; /* 0 means none; children always have smaller ids than parents */

typedef enum {
    N_NONE,
    N_CONST, N_INPUT,
    /* unary */
    N_NEG, N_SIN, N_COS, N_TAN, N_ASIN, N_ACOS, N_ATAN, N_SINH, N_COSH, N_TANH,
    N_EXP, N_LOG, N_SQRT, N_ABS,
    N_SIGN,   /* internal: -1, +1, or x itself for zeros and NaN (the derivative of abs) */
    /* binary */
    N_ADD, N_SUB, N_MUL, N_DIV, N_POW, N_ATAN2, N_HYPOT, N_MIN, N_MAX,
    /* ternary, internal: p == q ? v : 0 and p == q ? 0 : v (derivatives of min and max) */
    N_IFEQ, N_IFNE,
    N_KINDS
} NodeKind;

typedef struct {
    uint8_t kind;
    NodeId a, b, c;
    double k;         /* N_CONST: the value; N_INPUT: the input's position */
} Node;

/* A hash-table entry keeps its node's hash, so that probing and growing compare and move
 * slots without touching the (much larger, randomly placed) nodes. */
typedef struct {
    NodeId id;        /* 0: empty */
    uint32_t hash;
} DagSlot;

typedef struct {
    Node *nodes;      /* nodes[0] is unused */
    uint32_t len, cap;
    DagSlot *table;   /* open addressing over node ids */
    uint32_t tcap;
    int fold;         /* fold constant operations that round: only right in double */
} Dag;

int node_arity(NodeKind k);
const char *node_name(NodeKind k); /* C function name or operator spelling */

void dag_init(Dag *d);
void dag_free(Dag *d);
NodeId dag_const(Dag *d, double v);
NodeId dag_input(Dag *d, int position);
/* Builds op(a, b, c) (unused operands 0) after IEEE-exact folding and rewriting. */
NodeId dag_op(Dag *d, NodeKind k, NodeId a, NodeId b, NodeId c);
NodeId dag_unary(Dag *d, NodeKind k, NodeId a);
NodeId dag_binary(Dag *d, NodeKind k, NodeId a, NodeId b);
NodeId dag_pow(Dag *d, NodeId a, NodeId b);
int dag_is_const(const Dag *d, NodeId n, double v);

/* ---- sema.c: names, arities, checks; lowering to the DAG ---------------------------------- */

typedef struct {
    const char *name;     /* the C name of the function */
    Def *def;
    int ninputs;
    const char **inputs;  /* source names, in order */
    Dag dag;
    NodeId output;
    const char **node_names; /* per node id: source name of a named intermediate, or NULL */
    uint32_t names_cap;
    int *node_line;       /* per node id: the source line it came from, 0 if none */
    uint32_t lines_cap;
    const char **node_text; /* per constant node, when not computing in double: its spelling */
    uint32_t texts_cap;
    NodeId *grad;         /* per input: its adjoint node, filled by reverse */
    NodeId *adj;          /* per primal node: its adjoint node (0: none), filled by reverse */
    uint32_t nprimal;     /* nodes below this id are the primal's */
} Func;

typedef struct {
    Func *funcs;
    int nfuncs;
} Program;

/* Checks the definitions and lowers each to a DAG. stem names a bare-expression file's
 * function. Returns the number of errors (diagnostics go through diag). */
int sema_program(Parse *p, const char *stem, Program *prog);
void program_free(Program *prog);
/* Gives nodes from..f->dag.len-1 that have no source line yet the line `line`. */
void func_mark_lines(Func *f, NodeId from, int line);

/* ---- reverse.c: reverse mode as a graph transformation ------------------------------------ */

/* Adds the adjoint sweep of f's output to f's DAG and sets f->grad[i] for every input. */
void reverse_func(Func *f);

/* ---- eval.c: interpreter over the DAG ----------------------------------------------------- */

/* Evaluates nodes 1..d->len-1 given the inputs; values has d->len entries. */
void eval_dag(const Dag *d, const double *inputs, double *values);
/* f's value at x, and its gradient through f's adjoint nodes (after reverse) into grad. */
double eval_grad(const Func *f, const double *x, double *grad);
double eval_op(NodeKind k, double a, double b, double c);
/* f's value at x, and its gradient into grad by forward mode (one tangent sweep per input)
 * over the primal nodes only: a second implementation of every derivative rule, independent
 * of reverse.c, with the same conventions at kinks and domain edges. Unless scale is NULL,
 * scale[i] gets the largest finite |tangent| of sweep i, the size of its rounding errors. */
double eval_tangent(const Func *f, const double *x, double *grad, double *scale);

/* ---- emit_c.c: scheduling, naming, printing C --------------------------------------------- */

typedef struct {
    RealType real;            /* the C type of every value, with its libm names and literals */
    const char *prefix;       /* prepended to every generated function name ("" for none) */
    const char *name;         /* the name of the file's one function, or NULL */
    int file_static;          /* static functions, for #include-ing the source */
    int accumulate;           /* the gradient adds into *x_bar instead of storing */
    const char *line_file;    /* #line directives name this input; NULL: none */
    const char *out_file;     /* where #line returns after a function; NULL: no return */
    const char *header_name;  /* the header's path: its file name makes the include guard */
} EmitOptions;

/* Reports (through diag) options that cannot apply to prog; returns the number of errors. */
int emit_check(const Program *prog, Diag *diag, const EmitOptions *opt);
void emit_source(const Program *prog, const Diag *diag, const EmitOptions *opt, Buf *out);
void emit_header(const Program *prog, const Diag *diag, const EmitOptions *opt, Buf *out);

/* ---- compile.c: the pipeline in memory ---------------------------------------------------- */

/* One input taken through parse, sema and reverse; prog lives until unit_free. */
typedef struct {
    Arena arena;
    Interner *names;
    Diag diag;
    Program prog;
    RealType real;    /* set before unit_compile: the type the code will compute in */
} Unit;

/* u must be zeroed but for u->real. Diagnostics name `file` and go to messages; stem names a bare
 * expression's function. Returns the number of errors (prog is usable only when 0). */
int unit_compile(Unit *u, const char *file, const char *src, size_t len, const char *stem,
                 FILE *messages);
void unit_free(Unit *u);

/* unit_compile, then emit the source, and the header when h_text is not NULL. Returns the
 * number of errors; the texts are complete only when it is 0. */
int compile_source(const char *file, const char *src, size_t len, const char *stem,
                   const EmitOptions *opt, FILE *messages, Buf *c_text, Buf *h_text);

#endif
