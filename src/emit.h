/*
 * emit.h: the private header of the emit stage, which prints differentiated Programs as C
 * (emit_source and emit_header, declared in adgen.h), a section per file:
 *
 *   emit_c.c  the C file's frame: names, prototypes, comments, the header, and their order
 *   lines.c   #line directives
 *   print.c   expressions and statements
 *   runs.c    kept loops: the runs of an entry point, planned
 *   ckp.c     a recurrence's checkpointed variants: the schedule around their iterations
 *   matrix.c  the layout of some entry points' matrices: columns of jvp, compressed columns
 *   loops.c   an entry point's body, its runs printed as C loops among its statements
 *   chunks.c  a large body in chunks
 *   casadi.c  CasADi's external functions around the entry points (--abi=casadi)
 *   batch.c   the batched variants: an entry point's body in a loop over many points
 *
 * After emit_c.c, which calls them all, a file calls only the files before it in this list.
 */
#ifndef EMIT_H
#define EMIT_H

#include "adgen.h"

/* ---- emit_c.c: the C file's frame; per definition, what the files print from ---------------- */

/* Per definition: the names of its C functions and locals, and what printing it needs. */
typedef struct DefOut DefOut;

/* The locals and parameters of the functions of a Hessian of run-time size (matrix.c). */
enum { BAND_VARS = 14 };
extern const char *const band_var_names[BAND_VARS];

/* The file's checkpointing helpers (ckp.c), and a checkpointed variant's locals. */
enum { CKP_SPLIT, CKP_NEXT, CKP_STEP, CKP_SAVE, CKP_FNS };
enum { CKP_SNAPS, CKP_STATES, CKP_STEPS, CKP_LEVEL, CKP_NEXT_AT, CKP_END, CKP_TO, CKP_VARS };

struct DefOut {
    Sched s;
    const EmitOptions *opt;
    const char *fn[ENTRY_KINDS]; /* the C names of the entry points */
    const char *abi_fn[ENTRY_KINDS]; /* --abi=casadi: the CasADi functions' names (those of
                                        the entry points; theirs then end in _native) */
    const char *row[ENTRY_KINDS], *col[ENTRY_KINDS]; /* a sparse entry's pattern arrays */
    const char *nnz[ENTRY_KINDS];                    /* and its count's macro; a pattern of
                                                        run-time size (src/band.c) has the
                                                        functions NAME_pattern (row), its
                                                        walk (col) and NAME_nnz (nnz) */
    const char *index;           /* the loop variable that zeroes a dense matrix */
    unsigned helpers;            /* entry points printed as static helpers, not asked for: the
                                    columns of a Jacobian or a Hessian of kept loops */
    const char *col_var[4];      /* such a matrix's locals: the direction, the column, the row
                                    index and the value */
    const char *band_var[BAND_VARS]; /* a Hessian of run-time size's (matrix.c) */
    const char *work;            /* the work array of a chunked body */
    const char **literal;        /* per constant node: its text, once printed */
    uint8_t *one;                /* a kept loop's iteration's (else NULL): per node, an input
                                    the run being printed binds to the constant 1 (a seed),
                                    which products and quotients by it print without */
    const char *work_macro;      /* NAME_WORK(sizes): the doubles `work` must hold */
    DefOut *loops;               /* per kept loop: its iteration's */
    const char **loop_var;       /* per kept loop: its index's C name */
    const char *step_var;        /* the outer variable of the sums per step (Loop.per_step),
                                    which are not inside one another */
    const char *never;           /* a condition a loop's iteration takes that is never true */
    const char **old;            /* copies of carried values' old ones in an iteration where
                                    states trade values: as many as a loop has states */
    uint32_t nold;
    const char *ckp_fn[CKP_FNS]; /* the file's checkpointing helpers, when a definition has a
                                    checkpointed variant */
    const char *work_ckp_macro;  /* NAME_WORK_CKP(sizes, snaps), or NULL */
    const char *ckp_var[CKP_VARS]; /* a checkpointed variant's locals */
    const char **ckp_state;      /* per state of the recurrence: its copy the reverse loop steps */
    const char ***state_zero;    /* per kept loop, per state with a flag (Loop.state_flag):
                                    the carried flags of its adjoint ([2 j]) and of its
                                    tangent ([2 j + 1]) */
    /* the Jacobians and Hessians of a definition with kept loops in one pass along all
     * their directions (func_directions): jvp's (hvp's) nodes, each tangent a value per
     * direction */
    const char *dir_var;         /* the loop variable over the directions */
    Entry dir_of[4];             /* the jvp entry point whose nodes jac ([0]) and jac-sparse
                                    ([1]) print, the hvp one of hess ([2]) and hess-sparse
                                    ([3]) */
    uint32_t ndir;               /* while one prints: the directions, else 0 */
    const Entry *dir_jac;        /* then: its entry point, whose parameters it has */
    const char *dir_mat;         /* the matrix it stores: jac, jac_nz (every entry), hess, or
                                    hess_nz (the lower triangle) */
    int dir_csc;                 /* 1: a sparse one by columns (--sparse=csc), else by rows */
    uint8_t *dir_dep;            /* then: per node, 1 where it depends on the direction (an
                                    array of ndir, named dir_base[node] + "[d]") */
    const char **dir_base;       /* then: per node, its name as the other entry points have
                                    it */
};

/* ---- lines.c: #line directives -------------------------------------------------------------- */

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
    Buf escaped;         /* the file name escaped_of, escaped */
    const char *escaped_of;
    int ckp_helpers;     /* the checkpointing helpers are printed (before their first use) */
    int kept;            /* the stream took no text: the rest stays in out */
} Emitter;

/* Text is handed to the stream in pieces of at least this many bytes. */
enum { SPILL_BYTES = 1 << 20 };

/* Makes the next output line stand for input line `line` (when #line is on and the line is
 * known), writing a directive only when the current mapping does not already say so. */
void lines_at_source(Emitter *em, int line);
/* Points the compiler back at the generated file, if its name is known. */
void lines_at_output(Emitter *em);
/* At the end of a function: the text printed so far to the stream, if there is one and the
 * text is large enough; out then starts empty. */
void lines_spill(Emitter *em);
/* The input line of node id of f: its own, else its definition's first. */
int lines_of(const Func *f, NodeId id);

/* ---- print.c: expressions and statements ---------------------------------------------------- */

/* The precedence of C's expressions that adgen prints, loosest first. */
enum { P_TERNARY, P_ADD, P_MUL, P_UNARY, P_PRIMARY };

/* A body being printed. */
typedef struct {
    const DefOut *e;
    const Body *b;
    int batch;         /* in a batched variant's loop: stores at [j * points + p] */
} Printer;

/* A reference to a node: its name when it has one, else its expression inlined. */
void print_expr(Buf *out, const Printer *p, NodeId id);
/* The same in parentheses when its precedence is below min_prec (a P_ value). */
void print_operand(Buf *out, const Printer *p, NodeId id, int min_prec);
/* An operation node's expression in terms of its operands. */
void print_node(Buf *out, const Printer *p, NodeId id);
/* A test as C writes it: a comparison or logic spelled out, anything else compared with
 * zero. */
void print_test(Buf *out, const Printer *p, NodeId id);
/* A test, or the name of the boolean local that holds it. */
void print_condition(Buf *out, const Printer *p, NodeId id);
/* Whether a kind is a comparison or logic, which C computes as an int. */
int print_is_boolean(NodeKind k);
/* Whether node id is a local of the body being printed. */
int print_is_local(const Printer *p, NodeId id);
/* An affine integer of the generated code: "3 * i + 1", "N - 1". */
void print_affine(Buf *out, const DefOut *e, const char *var, const Affine *a);
/* The elements of a run-time array: "3 * N". */
void print_rt_length(Buf *out, const DefOut *e, const Param *pa);
/* A local's statement: `const double t1 = ...;` */
void print_local(Emitter *em, const Printer *pr, NodeId id, const char *indent);
/* Local k of the body and its partner (Body.partner), the sin and the cos of one value, by
 * one ADGEN_SIN_COS call, declared first unless saved[pos] (a chunk's slot of w); marks both
 * printed. */
void print_sin_cos(Emitter *em, const Printer *pr, long k, const char *const *saved,
                   const char *indent);
/* Store r of the entry: `x_bar[3] = ...;`, or with --accumulate `+=`, where a constant 0 is
 * no statement. */
void print_store(Emitter *em, const Printer *pr, const Entry *entry, uint32_t r);
/* The return statement (when the entry returns a value) and the end of the function. */
void print_return(Emitter *em, const Printer *pr, const Entry *entry);
/* The loops zeroing the dense matrices whose nonzeros alone are stored. */
void print_fill_loops(Buf *out, const DefOut *e, const Entry *entry);
/* Whether a store through a adds (--accumulate: the partial derivatives of a gradient or a
 * vector-Jacobian product, not the values). */
int print_adds_into(const DefOut *e, const Entry *entry, const Arg *a);
/* Store r of entry prints nothing (it adds a zero, and another store names the argument). */
int print_store_silent(const DefOut *e, const Entry *entry, uint32_t r);

/* ---- runs.c: kept loops: the runs of an entry point, planned -------------------------------- */

/* A kept loop printed in an entry point: the sum or the recurrence (and its tangent), or the
 * reverse loop that sums the captures' adjoint terms and adds into the run-time arrays'
 * gradients (and for a Hessian-vector product, their tangents too). */
typedef enum { RUN_VALUE, RUN_TANGENT, RUN_REVERSE, RUN_REVERSE_TANGENT, RUN_KINDS } RunKind;

typedef struct {
    int loop;
    RunKind kind;
    int fused;         /* a reverse run that also computes the sum (its value run is gone) */
} Run;

/* A gradient (or Hessian-vector product) of a run-time array that one forward reverse run
 * writes whole, element after element (the sum's loads x[i + lo] .. x[i + hi] cover the
 * array exactly): its elements' terms carried in registers, as a hand adjoint carries them,
 * each stored once when no later step adds to it, instead of the array zeroed and added into
 * at every step. */
typedef struct {
    int run;
    int param;
    int hv;              /* the Hessian-vector product's (OUT_LOAD_HV), else the gradient's */
    int64_t lo, hi;      /* the loads' offsets from the loop's index */
    const char **carry;  /* hi - lo + 1 registers: elements index + lo .. index + hi */
    const char *end;     /* the index after the last step (the first when there is none) */
} Rotation;

/* An entry point's runs, in an order that gives each what it reads: the sums in the order of
 * the source, then the reverse loops backwards; each printed just before the first statement
 * that reads what it defines. */
typedef struct {
    Run *run;
    int n;
    int next;          /* the first not printed yet */
    int *slot_run;     /* per input slot: the run defining it, or -1 */
    uint32_t nslots;
    uint8_t *done;     /* per position of the body: its local is printed */
    Rotation *rot;     /* the arrays carried in registers */
    int nrot;
} Runs;

/* What a run's iteration computes: a node of its body, and where it goes. */
typedef enum {
    OUT_RESULT,     /* result idx: added into a sum, or a state's next value */
    OUT_RESULT_DOT, /* its tangent */
    OUT_LOAD_BAR,   /* added into load idx's element of the gradient */
    OUT_LOAD_HV,    /* of the Hessian-vector product */
    OUT_STATE_BAR,  /* state idx's adjoint, the next iteration's (backwards) */
    OUT_STATE_HV,   /* its tangent (hvp's reverse loop) */
    OUT_STATE_ZERO, /* whether state idx's adjoint is a strong zero, the next iteration's:
                       its flag (Loop.state_flag) the reverse loop carries */
    OUT_STATE_HV_ZERO, /* the same of its tangent */
    OUT_STEP,       /* hvp's forward loop: state idx at the step's start (idx < nstate), or
                       the tangent of state idx - nstate, stored for the reverse loop */
    OUT_CAP_BAR,    /* capture idx's adjoint term, summed */
    OUT_CAP_HV,     /* its tangent */
    OUT_TAPE,       /* a recurrence's tape entry idx, stored for the reverse loop */
    OUT_VALUE,      /* a returned map's value idx of the step, stored through out */
    OUT_VALUE_DOT,  /* its tangent, through out_dot */
    OUT_TRAJ,       /* state idx's next value, stored in its trajectory */
    OUT_TRAJ_DOT,   /* its tangent, stored after the trajectory */
    OUT_TRAJ_ZERO,  /* the trajectory's adjoint at the next value zeroed (a reverse sweep's
                       forward loop, before the readers add into it) */
    OUT_TRAJ_HV_ZERO, /* and its tangent (hvp's) */
    OUT_LIVE        /* slot idx gets 1 where the node, a strong-zero condition of a term
                       summed (0: none), is false: the sum had a live term */
} OutKind;

typedef struct {
    NodeId node;
    OutKind kind;
    uint32_t idx;
} RunOut;

/* The runs of an entry point, and its body: collected from its roots and the nodes its runs
 * read, until they need nothing more (what a run reads can only add to the body); those
 * nodes are kept as locals, computed once outside the loops. */
void runs_plan(DefOut *e, const Entry *entry, Body *b, Runs *rs);
/* Frees what runs_plan allocated in rs. */
void runs_free(Runs *rs);
/* The rotation of run j's output of param's gradient (hv: its Hessian-vector product's), or
 * NULL. */
const Rotation *runs_rotation(const Runs *rs, int j, int param, int hv);
/* The outputs of run r the entry point needs, into *outs (allocated); their number. */
uint32_t runs_outputs(const DefOut *e, const Entry *entry, const Body *b, const Run *r,
                      RunOut **outs);
/* The function's slot an output sums into (a sum nobody reads is not computed), or none. */
uint32_t runs_out_slot(const Func *f, const Loop *lp, EntryKind k, const RunOut *o);
/* Per flag slot of run r's iteration (see Loop.flag_slot), the condition of the function it
 * stands for (0: none); allocated. */
NodeId *runs_flags(const Func *f, const Loop *lp, const Entry *entry, const Run *r);
/* The function's nodes run r reads (through the names of its iteration's inputs), added to
 * roots[*n...]: the captures, tangents and seeds its outputs need, and a recurrence's first
 * states. */
void runs_reads(const DefOut *e, const Body *b, const Entry *entry, const Run *r,
                NodeId **roots, uint32_t *n);
/* What the entry point's kept loops read and write, per parameter: USE_VALUE when a run
 * reads its elements, USE_DOT its tangent's, USE_WRITE when it adds into its gradient (or its
 * Hessian-vector product's); per size, 1 when a run or a zeroed gradient names it. */
enum { USE_VALUE = 1, USE_DOT = 2, USE_WRITE = 4 };
void runs_use(const DefOut *e, const Entry *entry, const Body *b, const Runs *rs,
              uint8_t *param, uint8_t *size);
/* C names of what the kept loops define, after the bodies are scheduled (a capture's
 * adjoint term is named after the capture): "sum_n", a recurrence's state "x_k". */
void runs_name_loops(DefOut *e);

/* ---- ckp.c: a recurrence's checkpointed variants, around their iterations ------------------ */

/* Whether f has a checkpointed variant to print. */
int ckp_wanted(const Func *f);
/* Claims the file's helpers' names (after `first`, the file's first function) in fn. */
void ckp_name_functions(const char **fn, NameSet *file_names, const char *first);
/* Claims the locals of e's checkpointed variants, lp its recurrence. */
void ckp_name_locals(DefOut *e, const Loop *lp);
/* The helpers, once per file (static functions). */
void ckp_put_helpers(Buf *out, const char *const *fn, RealType real);
/* #define NAME_WORK_CKP(sizes, snaps) ...: one step's tape, the saved states and their steps. */
void ckp_put_work_macro(Buf *out, const DefOut *e, const Loop *lp);
/* The first pass's start: the stack in the work array, level 0 saved from the states named
 * state[j], the `for` over the recurrence's steps (variable var) and the save of a level in
 * it; the value iteration follows, then the loop's closing brace. */
void ckp_put_first_head(Buf *out, const DefOut *e, const Loop *lp, const char *var,
                        const char *const *state);
/* The reverse loop's start: the states restored from the top level into e->ckp_state, then the
 * `for` advancing them, which the value iteration follows. */
void ckp_put_reverse_head(Buf *out, const DefOut *e, const Loop *lp, const char *var);
/* After the advancing loop: the level saved when more than one step is left (and the next
 * round begun); the taped iteration and the reverse one follow. */
void ckp_put_reverse_save(Buf *out, const DefOut *e, const Loop *lp, const char *var);
/* After the reverse iteration: the step reversed, its level dropped when it was saved there. */
void ckp_put_reverse_tail(Buf *out, const DefOut *e, const char *var);

/* ---- matrix.c: the layout of some entry points' matrices -------------------------------------- */

/* The number of values of e's returned map plus `plus`, as C: "2 * n - 1". */
void matrix_put_values_count(Buf *out, const DefOut *e, int64_t plus);
/* Per structural nonzero k of sp (by row, then column), its position in compressed column
 * storage; *colptr (allocated) gets where each of the ncols columns starts, and the count. */
uint32_t *matrix_csc_positions(const Sparse *sp, uint32_t ncols, uint32_t **colptr);
/* With --sparse=csc, a sparse entry's stores go to its nonzeros' positions in that storage. */
void matrix_csc_stores(const DefOut *e, Entry *entry);
/* The body of a Jacobian or a Hessian of a definition with kept loops: the columns of its jvp
 * or hvp (func_columns), one call per differentiated scalar. */
void matrix_put_columns(Buf *out, const DefOut *e, const Entry *entry);
/* A Hessian or a returned map's Jacobian of run-time size (hess-sparse and jac-sparse with
 * kept loops, src/band.c): the walk over its pattern and the functions of its count and
 * pattern, before the entry point (or, when `declare`, their declarations); and the entry
 * point's body: one call of hvp (jvp) per colour, or (Band.elements) a loop per sum adding
 * its terms' Hessians into those products, the nonzeros then read off the products by the
 * walk. */
void matrix_put_band_functions(Buf *out, const DefOut *e, int declare);
/* The count and the pattern functions of e's sparse entry point whose pattern is code
 * (func_pattern_code): banded, or a returned map's dense Jacobian (or, when `declare`, their
 * declarations). */
void matrix_put_pattern_code(Buf *out, const DefOut *e, int declare);
void matrix_put_band(Emitter *em, const DefOut *e, const Entry *entry);
/* The one differentiated array whose hess-sparse is computed row by row from the terms'
 * Hessians (Band.elements, triplets, loads that move by one a step: no products, no work
 * array), or -1. */
int matrix_band_pull(const DefOut *e);
/* The steps of a returned map's loop (hi - lo + 1), in the sizes. */
Affine matrix_map_steps(const Func *f);
/* Whether the loads of parameter p that a returned map's values read all move alike with the
 * step and the sizes, so that its Jacobian's pattern by columns has a fixed order. */
int matrix_map_loads_alike(const Func *f, int p);

/* ---- loops.c: an entry point's body, with its kept loops' runs ------------------------------ */

/* The body b of the entry point, its runs rs (NULL: it has none) each printed just before
 * the first statement that reads what it computes: from the opening brace to the closing one. */
void loops_put_body(Emitter *em, const DefOut *e, const Entry *entry, const Body *b, Runs *rs);
/* The body of a Jacobian or a Hessian (the entry point `jac`) along all its directions in one
 * pass (func_dir_entry): the body b and runs rs of jvp's nodes (a Hessian's: hvp's;
 * e->dir_of), each value (and adjoint) once and each tangent in a loop over the directions
 * (an outer one an array of them), the tangents stored as the columns (jac-sparse: every
 * entry, by rows, or by columns under --sparse=csc; hess: its lower triangle mirrored, as
 * hess by hvp's calls; hess-sparse: the lower triangle, by rows or by columns). */
void loops_put_jac(Emitter *em, DefOut *e, const Entry *jac, const Body *b, Runs *rs);
/* A Jacobian's or a Hessian's place in DefOut.dir_of. */
static inline int emit_dir_index(EntryKind k)
{
    return k == ENTRY_JAC ? 0 : k == ENTRY_JAC_SPARSE ? 1 : k == ENTRY_HESS ? 2 : 3;
}
/* Kept loop `loop` of entry point entry's definition, its iteration adding node roots[k] of
 * its body into into[k] (C text reading the loop's variable), under the comment `what`; the
 * values of the definition it reads are b's locals. */
void loops_put_terms(Emitter *em, const DefOut *e, const Entry *entry, const Body *b, int loop,
                     const NodeId *roots, const char **into, uint32_t n, const char *what);
/* The same of one iteration, in a block that head opens (setting the loop's variable, C text
 * ending in a newline) and that ends at indent. */
void loops_put_step(Emitter *em, const DefOut *e, const Entry *entry, const Body *b, int loop,
                    const NodeId *roots, const char **into, uint32_t n, const char *head,
                    const char *indent);
/* Whether the entry point's runs rs checkpoint a recurrence (call ckp.c's helpers). */
int loops_checkpoints(const DefOut *e, const Entry *entry, const Runs *rs);

/* ---- chunks.c: a large body in chunks ------------------------------------------------------- */

/* A statement of a chunked body: a local (its position in the body) or a store (-1 - its
 * index among the entry's stores). */
typedef struct {
    long *stmt;
    uint32_t nstmts;
    uint32_t *start;     /* chunk c is stmt[start[c] .. start[c + 1]) */
    uint32_t nchunks;
    uint32_t *def;       /* per body position: the chunk defining it */
    uint32_t *last;      /* per body position: the last chunk that reads it */
    uint32_t nslots;     /* the work array */
    const char **saved;  /* per body position: its name before it became w[j] */
    /* per chunk, the parameters it reads or stores through (inputs, then the entry's args) */
    uint32_t **uses;
    uint32_t *nuses, *caps;
    uint32_t *stamp;     /* per parameter: 1 + the last chunk that listed it */
    uint32_t *owner;     /* per input slot: its parameter (args after the inputs) */
} Chunks;

/* Splits a large body into chunks, finds what crosses from one to a later one and gives it a
 * slot of the work array w (a slot is reused once no later chunk reads its value). */
void chunks_plan(Chunks *ch, DefOut *e, const Entry *entry, const Body *b);
/* Whether b, a body of e's definition, is printed in chunks. */
int chunks_wanted(const DefOut *e, const Body *b);
/* The chunks but the last, each a static function taking the parameters it reads and w. */
void chunks_put_functions(Emitter *em, DefOut *e, const Entry *entry, const Body *b,
                          const Chunks *ch, NameSet *file_names, const char **names);
/* The entry point's body: the work array, the calls of the chunks, the last chunk, the
 * return. */
void chunks_put_body(Emitter *em, const DefOut *e, const Entry *entry, const Body *b,
                     const Chunks *ch, const char **names);
/* The names back, for the definition's other bodies. */
void chunks_restore(Chunks *ch, DefOut *e, const Body *b);
/* Frees what chunks_plan allocated in ch. */
void chunks_free(Chunks *ch);

/* Under #ifdef ADGEN_CHECK, an entry point's checks of its run-time sizes (ADGEN_REQUIRE):
 * each in 0..the largest its index arithmetic takes, a recurrence's steps not negative. */
void emit_put_size_checks(Buf *out, const DefOut *e);

/* ---- casadi.c: CasADi's external-function ABI (--abi=casadi) --------------------------------- */

/* casadi_real (the --real type) and casadi_int, unless the includer defines them. */
void casadi_put_types(Buf *out, RealType real);
/* Per entry point asked for: the CasADi functions' prototypes and NAME_SZ_* macros. */
void casadi_put_declarations(Buf *out, const DefOut *e);
/* Per entry point asked for: the CasADi functions, which call the (static) native one. */
void casadi_put_functions(Buf *out, const DefOut *e);

/* ---- batch.c: the batched variants ------------------------------------------------------- */

/* Once per file with batched entry points: ADGEN_BATCH_LOOP, the pragma of their loops, and
 * the vector forms of the libm functions they call (-DADGEN_LIBMVEC). */
void batch_put_macros(Buf *out, const Program *prog, const EmitOptions *opt);
/* What a batched entry point computes, for its comment. */
void batch_comment(Buf *t, const DefOut *e, const Entry *entry);
/* Its body: the loop over the points around the body b of the entry point it varies. */
void batch_put_body(Emitter *em, DefOut *e, const Entry *entry, const Body *b);

#endif
