/*
 * diag.c: diagnostics. Every message is `FILE:LINE:COL: severity: message`, then the source
 * line and a `^~~~` marker under the span, as gcc prints them. Stages count errors here and
 * return; main maps the count to the exit status.
 */
#include <string.h>

#include "adgen.h"

#define SHOW_BEFORE 80   /* at most this many bytes of a long line are shown before loc */
#define SHOW_WIDTH 160   /* and this many in all; cuts are marked "..." */

static int line_ends_at(const Diag *d, size_t i)
{
    return i >= d->len || d->src[i] == '\n' ||
           (d->src[i] == '\r' && (i + 1 == d->len || d->src[i + 1] == '\n'));
}

/* Prints the line holding loc and a caret under its span; of a long line, only a window
 * around loc, so that a message about a 10 MB one-line expression stays readable (and each
 * message costs a bounded time). Tabs in the line are copied into the marker line so the
 * caret stays aligned however the terminal expands them. */
static void show_line(const Diag *d, Loc loc)
{
    if (!d->src || loc.begin > d->len)
        return;
    size_t start = loc.begin;
    while (start > 0 && d->src[start - 1] != '\n' && loc.begin - start < SHOW_BEFORE)
        start--;
    int cut_left = start > 0 && d->src[start - 1] != '\n';
    size_t end = loc.begin;
    while (!line_ends_at(d, end) && end - start < SHOW_WIDTH)
        end++;
    int cut_right = !line_ends_at(d, end);
    fputs(cut_left ? " ..." : " ", d->out);
    for (size_t i = start; i < end; i++) {
        unsigned char c = (unsigned char)d->src[i];
        fputc(c == '\t' || (c >= 0x20 && c != 0x7f) ? c : ' ', d->out);
    }
    fputs(cut_right ? "...\n " : "\n ", d->out);
    if (cut_left)
        fputs("   ", d->out);
    /* one column per character: UTF-8 continuation bytes take none */
    for (size_t i = start; i < loc.begin; i++)
        if (((unsigned char)d->src[i] & 0xC0) != 0x80)
            fputc(d->src[i] == '\t' ? '\t' : ' ', d->out);
    fputc('^', d->out);
    size_t last = loc.end < end ? loc.end : end;
    for (size_t i = loc.begin + 1; i < last; i++)
        if (((unsigned char)d->src[i] & 0xC0) != 0x80)
            fputc('~', d->out);
    fputc('\n', d->out);
}

/* A loc with line 0 (DIAG_WHOLE_FILE) is about the whole input: no position, no quote. */
static void report(Diag *d, Loc loc, const char *severity, const char *fmt, va_list ap)
{
    int error = strcmp(severity, "error") == 0;
    if (d->trial)
        return;
    if (d->muted && error && !d->held[0]) {
        vsnprintf(d->held, sizeof d->held, fmt, ap);
        d->held_loc = loc;
    }
    if (d->muted)
        return;
    d->printed += error;
    if (loc.first_line > 0)
        fprintf(d->out, "%s:%d:%d: %s: ", d->file, loc.first_line, loc.first_column, severity);
    else
        fprintf(d->out, "%s: %s: ", d->file, severity);
    vfprintf(d->out, fmt, ap);
    fputc('\n', d->out);
    if (loc.first_line > 0)
        show_line(d, loc);
}

void diag_error(Diag *d, Loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(d, loc, "error", fmt, ap);
    va_end(ap);
    d->errors++;
}

void diag_warning(Diag *d, Loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(d, loc, "warning", fmt, ap);
    va_end(ap);
}

void diag_note(Diag *d, Loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(d, loc, "note", fmt, ap);
    va_end(ap);
}
