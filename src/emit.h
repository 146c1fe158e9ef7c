/*
 * emit.h: the private header of the emit stage, which prints differentiated Programs as C
 * (emit_source and emit_header, declared in adgen.h), a section per file:
 *
 *   emit_c.c  the C file's frame: names, prototypes, comments, the header, and their order
 *   lines.c   #line directives
 */
#ifndef EMIT_H
#define EMIT_H

#include "adgen.h"

/* ---- lines.c: #line directives --------------------------------------------------------------- */

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
} Emitter;

/* Makes the next output line stand for input line `line` (when #line is on and the line is
 * known), writing a directive only when the current mapping does not already say so. */
void lines_at_source(Emitter *em, int line);
/* Points the compiler back at the generated file, if its name is known. */
void lines_at_output(Emitter *em);
/* The input line of node id of f: its own, else its definition's first. */
int lines_of(const Func *f, NodeId id);

#endif
