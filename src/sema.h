/*
 * sema.h: the private header of the semantic stage, a section per file; its public API
 * (sema_program, Func, Loop) is in adgen.h. The files share one lowering state, Lower.
 */
#ifndef SEMA_H
#define SEMA_H

#include "adgen.h"

typedef struct Lower Lower;

/* What a definition returns: one value, or the elements of a list or of an array. */
typedef struct Array Array;

typedef struct {
    NodeId *nodes;
    uint32_t n;
    int vector;
    Array *map;         /* an inlined call's map returned whole (values of a run-time number):
                           the caller reads it as an array; nodes is then NULL */
    int rank;           /* an array returned whole: its shape (0: a list, of n values) */
    int64_t dims[MAX_RANK];
} Result;

/* ---- scope.c: names in sight, arrays' elements, definitions and suggestions --------------- */

/* An input array (elements are input slots) or a local one (elements assigned one by one). */
struct Array {
    const char *name;
    Loc loc;
    int rank;
    int64_t dims[MAX_RANK];   /* an input's sizes (dims[0] is 0 for a run-time size); a
                                 local array's extents so far */
    const Param *param;       /* an input: its parameter; NULL for a local array */
    const Stmt *map;          /* a local array a loop over a run-time range assigns: that loop */
    int64_t map_off;          /* its first index is the loop's variable plus this */
    int time_at;              /* written state first: where the source has its first index
                                 (Stmt.time_at), for messages */
    Affine map_lo, map_hi;    /* the loop's range */
    int assigned;             /* an element was assigned outside such a loop */
    int state;                /* and the loop assigns the rest: a recurrence's state */
    int flat;                 /* the values of a call: also read by one index, row-major */
    int call_map;             /* a callee's map its caller reads (c = con(x)), named as the
                                 caller names it */
    uint32_t map_scope;       /* the bindings in sight at the loop */
    int map_frame;            /* and the frame they are in (a caller's, for a callee reading
                                 the array as an argument; a callee's, for a caller reading
                                 its returned map) */
};

/* An element of a local array, keyed by the array and its indices. */
typedef struct {
    const Array *array;       /* NULL: an empty slot */
    int64_t idx[MAX_RANK];
    NodeId node;
    const Stmt *stmt;         /* the assignment */
    const Dag *dag;           /* the DAG of node: the function's or a kept iteration's */
} Elem;

typedef struct {
    Elem *slots;
    size_t cap, len;
} ElemTable;

typedef enum { B_SCALAR, B_ARRAY, B_LOOP, B_CONST, B_SIZE } BindKind;

typedef struct {
    const char *name;
    BindKind kind;
    NodeId node;        /* B_SCALAR */
    Array *array;       /* B_ARRAY */
    double value;       /* B_LOOP, B_CONST */
    Affine aff;         /* B_LOOP: its value, in a kept loop's variable; B_SIZE: the size */
    const Dag *dag;     /* B_SCALAR, B_ARRAY: the DAG its node (elements) belong to: the
                           function's, or a kept loop's iteration's */
    const char *text;   /* B_CONST: its spelling, when it is a number */
    Loc loc;
    int frame;          /* the inlined body it belongs to; 0: the file */
    int input;          /* an input of the definition */
    int failed;         /* B_CONST: its expression failed; uses stay silent */
    int *used;          /* set when it is read */
    uint32_t prev;      /* the binding of the same name it shadows (index + 1), 0: none */
} Binding;

typedef struct {
    const char *name;
    uint32_t top;       /* index + 1 of the innermost binding, 0: none */
} NameSlot;

/* A stack of bindings, and per name its innermost one. */
typedef struct {
    Binding *v;
    uint32_t len, cap;
    NameSlot *slots;
    size_t scap, slen;
    const Dag *dag;     /* what new bindings get */
    uint32_t hide_lo, hide_hi; /* bindings hide_lo..hide_hi-1 are out of sight (a map's
                                  statements lowered again in a sum see the map's scope) */
} Scope;

/* The element idx of local array a: NULL when it has none, unless add makes it. */
Elem *scope_elem_find(ElemTable *t, const Array *a, const int64_t *idx, int add);
/* Element idx of a as the source writes it: "[2][0]". */
void scope_put_elem(Buf *t, const Array *a, const int64_t *idx);
/* A new binding of name, innermost, in frame (0: the file's). */
Binding *scope_bind(Scope *s, const char *name, BindKind kind, Loc loc, int frame);
/* Drops the bindings made since s->len was mark. */
void scope_unbind_to(Scope *s, uint32_t mark);
Binding *scope_lookup(Scope *s, const char *name, int frame);
/* The definition called name, or NULL. */
Def *scope_find_def(const Lower *L, const char *name);
Def *scope_add_def(Lower *L, Def *def);
int scope_function_kind(const char *name);
/* The error of a call of an unknown function, with a suggestion when one is near. */
void scope_unknown_function(Lower *L, const Ast *e);

/* ---- affine.c: integers of indices, ranges and sizes; proofs of bounds -------------------- */

int affine_is_const(const Affine *a);
Affine affine_num(int64_t k);
Affine affine_add(Affine a, const Affine *b, int64_t m);
int affine_eq(const Affine *a, const Affine *b);
/* a times run-time size s into *out, when a reads no size (k + c[0] i + o t); else 0. */
int affine_times_size(const Affine *a, int s, Affine *out);
int affine_eval(Lower *L, const Ast *e, Affine *out, int depth);
int affine_indices(Lower *L, const Array *a, const Ast *first, int n, Loc loc, Affine *idx);
void affine_put(Buf *t, const Lower *L, const Affine *a);
int affine_in_range(Lower *L, const Affine *v, const Affine *lo, const Affine *hi, Loc loc,
                    const char *what);

/* ---- kept.c: loops over run-time ranges, kept as loops ------------------------------------ */

/* An iteration of a loop over a run-time range that assigns arrays (a map), lowered where a
 * kept sum reads one of its elements: the elements it assigns with its variable at `at`, in
 * the bindings of frame (a callee's loop is a map of each call). */
typedef struct {
    const Stmt *loop;
    Affine at;
    int frame;
    int done;
} MapIter;

typedef struct {
    const Array *array;
    int64_t idx[MAX_RANK];    /* idx[0] unused: the iteration's */
    NodeId node;
    uint32_t iter;
} MapElem;

/* A scalar a recurrence carries from one iteration to the next: element idx (idx[0] unused) of
 * the array, its value before the loop, its slot in the iteration and its next value. */
typedef struct {
    const Array *array;
    int64_t idx[MAX_RANK];
    NodeId init;
    uint32_t slot;
    NodeId next;
    int traj;     /* 1 + its trajectory (Func.traj) when a sum per step of the loop reads it at
                     the step, else 0 */
} RecState;

/* A recurrence's last state: element `at` of the array, read after the loop; state `state`
 * of the function's kept loop `loop`. */
typedef struct {
    const Array *array;
    int64_t idx[MAX_RANK];
    Affine at;
    NodeId node;
    int loop;
    uint32_t state;
} Final;

/* A state of a recurrence: of the rec-th recurrence the definition lowers (Kept.ordinal,
 * Loop.rec), state number `state` of its Loop, its array's name and constant indices (idx[0]
 * unused): the same in every lowering of the definition. */
typedef struct {
    uint32_t rec;
    uint32_t state;
    const char *array;
    int64_t idx[MAX_RANK];
} StateKey;

/* The iteration of a kept sum being lowered into a DAG of its own. Its input slots come in
 * the order the body meets them: the index (slot 0), loads and captures; kept_finish orders
 * them and moves what does not change with the index out of the loop. */
typedef struct Kept {
    Dag dag;
    Affine lo, hi;            /* the range (checks of indices) */
    const char *var;
    uint32_t nslots;
    uint8_t *slot_kind;       /* per slot: SLOT_INDEX, SLOT_LOAD, SLOT_CAPTURE */
    uint32_t *slot_ref;       /* its load's or capture's number */
    Load *load;
    uint32_t nload;
    NodeId *cap;              /* per capture: the function's node */
    uint32_t ncap;
    MapIter *iters;
    uint32_t niters;
    MapElem *elems;
    uint32_t nelems;
    int lazy;                 /* lowering a map's iteration: its indices were checked */
    uint32_t iter;            /* that iteration */
    const Stmt *rec;          /* a recurrence being lowered: its loop */
    uint32_t ordinal;         /* and the number of recurrences lowered before it */
    RecState *state;          /* its state scalars */
    uint32_t nstate;
    /* a sum per step (Loop.per_step): the loop whose iteration it is in, its variable (the
     * Affine.o of indices) and range */
    struct Kept *outer;
    Loc at;                   /* its range, for errors */
    const char *ovar;
    Affine olo, ohi;
    NodeId *from_outer;       /* per node of the outer iteration: its node here, once built */
    /* its sums per step not yet made loops (step_sum), each a Kept of its own with roots (the
     * summands) and their trajectories; and, in such a sum, those */
    struct Kept **open;
    uint32_t nopen;
    NodeId *roots;
    int *trajs;
    const char **vars;        /* per root, its sum's variable (the loop's is the first kept) */
    uint32_t nroots;
} Kept;

/* SLOT_DEEP: in a sum per step, what a sum three loops deep gave (a map's iteration lowered
 * again there for another element): an error where it is read */
enum { SLOT_INDEX, SLOT_LOAD, SLOT_CAPTURE, SLOT_STATE, SLOT_DEEP };

NodeId kept_capture(Lower *L, NodeId outer);
/* Drops the sums per step no loop reads: lowered for a statement whose value no loop's
 * iteration reads (a map's statements lowered for their errors, a recurrence's beside its
 * states), so that every loop left runs. */
void kept_drop_unread(Func *f);
/* The states of f's recurrences that nothing reads: no root of the function, no other loop,
 * no live state's step, no sum per step a live one reads. The unrolled form has no code for
 * them, and the kept one may have none either (a variable set and never read; their sums'
 * terms' adjoints, 0 times a NaN partial, a NaN gradient where the unrolled one is a number):
 * their definition is lowered again without them (L->dead). f is L's last lowering (L->keys
 * name its states); *dead gets them (malloc'ed); returns how many. */
uint32_t kept_dead_states(const Lower *L, const Func *f, StateKey **dead);
/* In a sum per step, the outer loop's variable as a value. */
NodeId kept_outer_index(Lower *L);
/* The node of `node` (of DAG dag) in the DAG being built: itself; a value of the function,
 * captured in a kept loop; or, in a sum taken out of kept loops, the value of the function a
 * loop it is taken out of captured (a call's argument). 0 after an error. */
NodeId kept_node(Lower *L, const Dag *dag, NodeId node);
NodeId kept_index(Lower *L, const Ast *e, const Array *a, const Affine *idx);
NodeId kept_state_index(Lower *L, const Ast *e, const Array *a, const Affine *idx);
void kept_map_assign(Lower *L, Stmt *s, Array *a, NodeId n);
void kept_state_assign(Lower *L, Stmt *s, Array *a, NodeId n);
/* Whether an index of the chain `index` reads a size known only at run time. */
int kept_reads_size(Lower *L, const Ast *index);
/* Whether a recurrence computes the elements of state array a at the constant indices of
 * element idx after its first (idx[0] is not read). */
int kept_final_of(const Lower *L, const Array *a, const int64_t *idx);
/* `return r` of a map r over a run-time range: a kept loop whose iteration's roots are its
 * elements, the function's values; r gets no node. 0 after an error. */
int kept_map_result(Lower *L, const Ast *e, Array *a, Result *r);
NodeId kept_sum(Lower *L, Ast *e, const Ast *range, Ast *body, const Affine *lo,
                const Affine *hi);
NodeId kept_prod(Lower *L, Ast *e, const Ast *range, Ast *body, const Affine *lo,
                 const Affine *hi);
int kept_for(Lower *L, Stmt *s, const Affine *lo, const Affine *hi);
/* Whether statement s is left out where it is lowered: a recurrence's next state, in the
 * recurrence's iteration lowered again for a map it assigns beside its states (another loop
 * reads the map; the states it reads are then their trajectory's), or of a state L->dead
 * leaves out. */
int kept_skips(Lower *L, const Stmt *s);

/* ---- lower.c: the lowering state; expressions, calls and statements ----------------------- */

typedef struct {
    Ast *e;
    int expanded;
} Frame;

typedef struct {
    const Def *def;
    int id;
    Loc at;             /* the call, for notes on what fails inside it */
} Call;

/* An inlined body's error that is not its own, told at the call once the callee's own
 * lowering is known to be clean. */
typedef struct {
    Loc call;
    Def *def;
    char why[sizeof ((Diag *)0)->held];
    Loc where;
} Pending;

#define MAX_HOIST 8 /* sums taken out of kept loops inside one another */

struct Lower {
    Parse *p;
    Diag *diag;
    Func *f;
    Dag *d;                 /* the function's DAG, or a kept loop's iteration's */
    Kept *kept;             /* the kept loop being lowered, or NULL */
    Kept *hoist[MAX_HOIST]; /* the kept loops sums inside them are being taken out of */
    int nhoist;
    Final *finals;          /* the last states of the definition's recurrences */
    uint32_t nfinals;
    StateKey *keys;         /* the states of the recurrences lowered so far */
    uint32_t nkeys;
    uint32_t nrec;          /* recurrences lowered so far */
    const StateKey *dead;   /* the states a lowering again leaves out (kept_dead_states): their
                               next values are not lowered, and they read as 0 */
    uint32_t ndead;
    Scope scope;
    ElemTable elems;
    Frame *stack;           /* the explicit stack of lower_expr */
    size_t stack_top, stack_cap;
    Call *calls;            /* the bodies being lowered, outermost first */
    int ncalls, calls_cap, next_frame;
    int depth;              /* sums, loops and calls open */
    int stop;               /* the node limit was hit: lower nothing more */
    int recursion_reported; /* a cycle of calls has been reported */
    int def_errors;         /* the error count when the current definition began */
    uint32_t max_nodes;
    uint64_t steps;         /* the definition's `for` loops' steps unrolled so far: counted
                               with its nodes against max_nodes (a loop of constants builds
                               none, but its elements take memory and its steps time) */
    uint32_t unroll;        /* --unroll: sums of constant ranges past this many terms are kept */
    int keep_for;           /* and `for` loops over more steps than that, outside other `for`
                               loops (lower_def's first attempt) */
    int in_for;             /* `for` loops being unrolled around what is lowered */
    const Ast *values_call; /* a call whose several values an assignment binds (c = cons(x)) */
    Result *values;         /* where they go */
    Pending *pending;
    int npending, pending_cap;
    int called_failed;      /* the definition being lowered inlines a failed one (whose
                               errors were told) */
    Def **defs;             /* every definition, by name */
    size_t defs_cap;
    Arena *arena;
};

/* The frame of the body being lowered: the definition's own, or an inlined call's. */
static inline int lower_frame(const Lower *L)
{
    return L->calls[L->ncalls - 1].id;
}

/* Makes frame the current one's bindings (a callee's sizes while the call's arguments are
 * bound, a map's while a callee reads it); returns the frame it had. */
static inline int lower_set_frame(Lower *L, int frame)
{
    int had = L->calls[L->ncalls - 1].id;
    L->calls[L->ncalls - 1].id = frame;
    return had;
}

/* The source text at loc (allocated in the arena). */
const char *lower_source_text(Lower *L, Loc loc);
/* Enters a sum, loop or call: 0 after an error when they nest too deep. */
int lower_enter(Lower *L, Loc loc);
NodeId lower_new_slot(Lower *L, uint32_t *slot);
/* Binds a loop's (or sum's) variable to its value. */
void lower_bind_loop(Lower *L, const char *name, Loc loc, const Affine *value);
/* Pushes an expression onto the explicit stack of the walks over expressions. */
void lower_push(Lower *L, Ast *e);
int lower_assignable(Lower *L, const char *name, Loc loc);
NodeId lower_expr(Lower *L, Ast *root);
/* Reports the pending errors of calls whose callee has been lowered on its own, cleanly. */
void lower_tell_pending(Lower *L);
int lower_stmts(Lower *L, Def *def, Stmt *first, int in_loop, Result *ret, Stmt **returned);
int lower_body(Lower *L, Def *def, Result *r);

/* A visit of an expression node (sema_walk). */
typedef void SemaVisit(Ast *a, void *ctx);
/* Calls visit on every node of the expressions from a (through next too), with a stack of its
 * own: a 10 MB expression nests a million deep. */
void sema_walk(Ast *a, SemaVisit *visit, void *ctx);
/* sema_walk over every expression of the statements from s, loops' bodies too. */
void sema_walk_stmts(Stmt *s, SemaVisit *visit, void *ctx);

/* ---- timefirst.c: recurrences written state first ------------------------------------------ */

/* Reorders the indices of the arrays def's recurrences write state first (x[0][t+1] = ...),
 * time first (x[t+1][0]), as sema reads a recurrence; before any definition is lowered. */
void timefirst_reorder(Lower *L, Def *def);

/* ---- sema.c: definitions' heads ----------------------------------------------------------- */

/* Whether parameter `position` of def is a size known at run time: a data scalar read in an
 * index or a bound, passed as a size to a definition it calls, or an array's size. */
int sema_size_param(Lower *L, Def *def, int position);

#endif
