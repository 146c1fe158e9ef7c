/*
 * entries.h: the one table of entry points. Every fact about a kind of entry point that does
 * not depend on the function is one row here; the enum, the --emit words, the C suffixes, the
 * masks of what a vector result or a kept loop allows, and the predicates the stages ask
 * (entry_reverse, entry_tangents) are made from it. How the entry's nodes are built is its
 * sweep composition in modes.c; what its C signature holds is sched_entry in schedule.c.
 *
 * Columns:
 *   kind    the enum member is ENTRY_<kind>; the rows are in the order a file has them
 *   word    the name in --emit, in messages and in `adgen eval`'s output
 *   suffix  appended to the function's C name
 *   sweep   how its nodes come (Sweep below)
 *   scalar  only a scalar result has it (a gradient, second order)
 *   kept    a definition with loops kept at run time has it (a Jacobian and a Hessian when
 *           their columns are of a constant number: those of jvp and hvp; a sparse Hessian,
 *           or a returned map's sparse Jacobian, when they are all of run-time arrays: hvp's
 *           or jvp's along colours, src/band.c)
 *   sparse  it stores the structural nonzeros of a pattern, given as row and column arrays
 *   of      the entry point whose nodes it prints: its own, or for a variant the entry point
 *           it is a variant of: a checkpointed one recomputes a kept recurrence from saved
 *           states instead of storing every step (src/ckp.c), a batched one computes it at
 *           many points in one vectorisable loop (src/batch.c)
 *   batch   a batched variant: asked by name (`all` means one point's entry points)
 */
#ifndef ADGEN_ENTRIES_H
#define ADGEN_ENTRIES_H

#define ENTRIES(X)                                                                                \
    /* kind       word           suffix          sweep                  sc kp sp of          b */ \
    X(VALUE,       "value",       "",             SWEEP_NONE,            0, 1, 0, VALUE,       0) \
    X(GRAD,        "grad",        "_grad",        SWEEP_REVERSE,         1, 1, 0, GRAD,        0) \
    X(JVP,         "jvp",         "_jvp",         SWEEP_FORWARD,         0, 1, 0, JVP,         0) \
    X(VJP,         "vjp",         "_vjp",         SWEEP_REVERSE,         0, 1, 0, VJP,         0) \
    X(JAC,         "jac",         "_jac",         SWEEP_COMPRESSED,      0, 1, 0, JAC,         0) \
    X(JAC_SPARSE,  "jac-sparse",  "_jac_sparse",  SWEEP_COMPRESSED,      0, 1, 1, JAC_SPARSE,  0) \
    X(HVP,         "hvp",         "_hvp",         SWEEP_FORWARD_REVERSE, 1, 1, 0, HVP,         0) \
    X(HESS,        "hess",        "_hess",        SWEEP_COMPRESSED_HESS, 1, 1, 0, HESS,        0) \
    X(HESS_SPARSE, "hess-sparse", "_hess_sparse", SWEEP_COMPRESSED_HESS, 1, 1, 1, HESS_SPARSE, 0) \
    X(GRAD_CKP,    "grad-ckp",    "_grad_ckp",    SWEEP_REVERSE,         1, 1, 0, GRAD,        0) \
    X(VJP_CKP,     "vjp-ckp",     "_vjp_ckp",     SWEEP_REVERSE,         0, 1, 0, VJP,         0) \
    X(VALUE_BATCH, "value-batch", "_batch",       SWEEP_NONE,            0, 0, 0, VALUE,       1) \
    X(GRAD_BATCH,  "grad-batch",  "_grad_batch",  SWEEP_REVERSE,         1, 0, 0, GRAD,        1) \
    X(JVP_BATCH,   "jvp-batch",   "_jvp_batch",   SWEEP_FORWARD,         0, 0, 0, JVP,         1) \
    X(VJP_BATCH,   "vjp-batch",   "_vjp_batch",   SWEEP_REVERSE,         0, 0, 0, VJP,         1)

#endif
