/*
 * modes.h: what modes.c (the entry points' sweeps) and sparse.c (the Jacobian and Hessian)
 * share, private to the two: the bookkeeping of a definition's sweeps, and cones, the nodes
 * a forward sweep from some seeds visits on the way to what is wanted.
 */
#ifndef ADGEN_MODES_H
#define ADGEN_MODES_H

#include "adgen.h"

/* Starts a run of nodes titled `title` in f->sweeps (what the --explain reader sees). */
void begin_sweep(Func *f, const char *title);
/* n node ids, all 0 (at least one, so that 0 of them is not NULL). */
NodeId *new_ids(uint32_t n);
/* A tangent or adjoint that is a node and not the constant 0 (which a selection decided). */
int nonzero(const Dag *d, NodeId n);
/* Per input slot: 1 on the differentiated scalars (allocated, f->nslots + 1 bytes). */
uint8_t *diff_mask(const Func *f);
/* The gradient's node per differentiated scalar (allocated). */
NodeId *gradient_targets(const Func *f);

/* The consumers of every node below n that leads to a target, and marks for collecting. */
typedef struct {
    Dag *d;
    uint32_t n;
    uint8_t *need;      /* per node: a target is reached from it */
    uint32_t *start;    /* per node: its consumers are user[start[id] .. start[id + 1]) */
    NodeId *user;
    uint32_t *stamp;
    uint32_t generation;
    NodeId *tan, *zero; /* the sweep's, per node, cleared after each */
    NodeId *list;
    uint32_t nlist, cap;
} Cone;

/* The cone of targets[0..ntargets) in d: every node that leads to one, with its consumers. */
void cone_init(Cone *c, Dag *d, const NodeId *targets, uint32_t ntargets);
void cone_free(Cone *c);
/* A forward sweep from the input slots slots[0..nslots) with seeds (per slot), over their
 * cone; c->tan and c->zero hold the tangents and their strong-zero conditions until
 * cone_clear. */
void cone_sweep(Cone *c, const uint32_t *slots, uint32_t nslots, const NodeId *input,
                const NodeId *seeds);
void cone_clear(Cone *c);

/* sparse.c: the Jacobian's and the Hessian's patterns and nodes, into f->mode[ENTRY_JAC] and
 * f->mode[ENTRY_HESS]. */
void modes_jacobian(Func *f);
void modes_hessian(Func *f);

/* band.c: hess-sparse of a definition with kept sums: its pattern's pairs and colours, or why
 * it has none, into f->band. */
void band_find(Func *f);

#endif
