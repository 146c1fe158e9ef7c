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
 *   of      the entry point whose nodes it prints: its own, or for a checkpointed variant
 *           (which recomputes a kept recurrence from saved states instead of storing every
 *           step, src/ckp.c) the entry point it is a variant of
 */
#ifndef ADGEN_ENTRIES_H
#define ADGEN_ENTRIES_H

#define ENTRIES(X)                                                                                    \
    /* kind        word           suffix          sweep                   scalar kept sparse of */    \
    X(VALUE,       "value",       "",             SWEEP_NONE,             0,     1,   0, VALUE)       \
    X(GRAD,        "grad",        "_grad",        SWEEP_REVERSE,          1,     1,   0, GRAD)        \
    X(JVP,         "jvp",         "_jvp",         SWEEP_FORWARD,          0,     1,   0, JVP)         \
    X(VJP,         "vjp",         "_vjp",         SWEEP_REVERSE,          0,     1,   0, VJP)         \
    X(JAC,         "jac",         "_jac",         SWEEP_COMPRESSED,       0,     1,   0, JAC)         \
    X(JAC_SPARSE,  "jac-sparse",  "_jac_sparse",  SWEEP_COMPRESSED,       0,     1,   1, JAC_SPARSE)  \
    X(HVP,         "hvp",         "_hvp",         SWEEP_FORWARD_REVERSE,  1,     1,   0, HVP)         \
    X(HESS,        "hess",        "_hess",        SWEEP_COMPRESSED_HESS,  1,     1,   0, HESS)        \
    X(HESS_SPARSE, "hess-sparse", "_hess_sparse", SWEEP_COMPRESSED_HESS,  1,     1,   1, HESS_SPARSE) \
    X(GRAD_CKP,    "grad-ckp",    "_grad_ckp",    SWEEP_REVERSE,          1,     1,   0, GRAD)        \
    X(VJP_CKP,     "vjp-ckp",     "_vjp_ckp",     SWEEP_REVERSE,          0,     1,   0, VJP)

#endif
