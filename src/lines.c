/*
 * lines.c: #line directives, which point a C compiler's messages and a debugger at the input
 * lines the statements came from. Input: the C text as it is printed (an Emitter's buffer) and
 * the input line each statement stands for. Output: a `#line N "in"` before a statement only
 * where the compiler's count of lines would otherwise map it elsewhere, and one pointing back
 * at the generated file after a function. Invariant: each byte of the text is scanned for
 * newlines once, however many statements ask where they stand; text handed to the stream
 * (a large output's temporary file) has been counted.
 */
#include <string.h>

#include "adgen.h"
#include "emit.h"

static long count_newlines(Emitter *em, size_t upto)
{
    const char *at = em->out->data + em->scanned, *end = em->out->data + upto;
    while (at < end && (at = memchr(at, '\n', (size_t)(end - at))) != NULL) {
        em->newlines++;
        at++;
    }
    em->scanned = upto;
    return em->newlines;
}

/* A file name as a string literal's body, escaped once per file (a directive per statement
 * would otherwise escape it again each time). */
static const char *escaped(Emitter *em, const char *file)
{
    if (file == em->escaped_of)
        return em->escaped.data;
    em->escaped.len = 0;
    buf_putn(&em->escaped, "", 0);
    for (const unsigned char *c = (const unsigned char *)file; *c; c++) {
        if (*c == '"' || *c == '\\')
            buf_printf(&em->escaped, "\\%c", *c);
        else if (*c < 0x20 || *c > 0x7e)
            buf_printf(&em->escaped, "\\%03o", *c);
        else
            buf_putn(&em->escaped, (const char *)c, 1);
    }
    em->escaped_of = file;
    return em->escaped.data;
}

static void put_line_directive(Emitter *em, long line, const char *file)
{
    buf_printf(em->out, "#line %ld \"%s\"\n", line, escaped(em, file));
}

void lines_at_source(Emitter *em, int line)
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

void lines_at_output(Emitter *em)
{
    if (!em->in_source || !em->opt->out_file)
        return;
    /* the directive sits on line newlines + 1; the line after it is line newlines + 2 */
    put_line_directive(em, count_newlines(em, em->out->len) + 2, em->opt->out_file);
    em->in_source = 0;
}

void lines_spill(Emitter *em)
{
    const Stream *s = em->opt->stream;
    if (!s || em->kept || em->out->len < SPILL_BYTES)
        return;
    if (em->opt->line_file)
        count_newlines(em, em->out->len);
    if (s->write(s->ctx, em->out->data, em->out->len) != 0) {
        em->kept = 1;
        return;
    }
    em->out->len = 0;
    em->scanned = 0;
}

int lines_of(const Func *f, NodeId id)
{
    int line = f->dag.meta[id].line;
    return line ? line : f->def->loc.first_line;
}
