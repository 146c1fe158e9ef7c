/*
 * diag.c: diagnostics. Every message is `FILE:LINE:COL: severity: message`, then the source
 * line and a `^~~~` marker under the span, as gcc prints them. Stages count errors here and
 * return; main maps the count to the exit status.
 */
#include "adgen.h"

/* Prints the line holding loc and a caret under its span. Tabs in the line are copied into
 * the marker line so the caret stays aligned however the terminal expands them. */
static void show_line(const Diag *d, Loc loc)
{
    if (!d->src || loc.begin > d->len)
        return;
    size_t start = loc.begin;
    while (start > 0 && d->src[start - 1] != '\n')
        start--;
    size_t end = loc.begin;
    while (end < d->len && d->src[end] != '\n')
        end++;
    if (end > start && d->src[end - 1] == '\r')
        end--;
    fputc(' ', d->out);
    for (size_t i = start; i < end; i++) {
        unsigned char c = (unsigned char)d->src[i];
        fputc(c == '\t' || (c >= 0x20 && c != 0x7f) ? c : ' ', d->out);
    }
    fputs("\n ", d->out);
    for (size_t i = start; i < loc.begin; i++)
        fputc(d->src[i] == '\t' ? '\t' : ' ', d->out);
    fputc('^', d->out);
    size_t last = loc.end < end ? loc.end : end;
    for (size_t i = loc.begin + 1; i < last; i++)
        fputc('~', d->out);
    fputc('\n', d->out);
}

static void report(Diag *d, Loc loc, const char *severity, const char *fmt, va_list ap)
{
    fprintf(d->out, "%s:%d:%d: %s: ", d->file, loc.first_line, loc.first_column, severity);
    vfprintf(d->out, fmt, ap);
    fputc('\n', d->out);
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
