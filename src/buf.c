/*
 * buf.c: a growable text buffer. Output is built in memory and written only when every
 * stage succeeded, so a failed run never leaves a partial file.
 */
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

static void reserve(Buf *b, size_t extra)
{
    if (b->cap - b->len > extra)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len <= extra)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

/* Appends n bytes without the terminating '\0', which the caller writes last. */
static void append(Buf *b, const char *s, size_t n)
{
    reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

void buf_putn(Buf *b, const char *s, size_t n)
{
    append(b, s, n);
    b->data[b->len] = '\0';
}

static void put_decimal(Buf *b, unsigned long long v, int negative)
{
    char digits[24];
    size_t n = 0;
    do
        digits[sizeof digits - ++n] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    if (negative)
        digits[sizeof digits - ++n] = '-';
    append(b, digits + sizeof digits - n, n);
}

/* Formats the conversions the emitters use for nearly every statement here: %s %c %d %u %%,
 * with l, ll or z before d and u, and no flags, width or precision; vsnprintf sets up a
 * stream and a locale per call, which cost more than the few fields of a statement. Returns
 * 0, having consumed ap partly, at the first other conversion. */
static int plain_printf(Buf *b, const char *fmt, va_list ap)
{
    const char *p = fmt;
    for (;;) {
        const char *run = p;
        while (*p && *p != '%')
            p++;
        if (p > run)
            append(b, run, (size_t)(p - run));
        if (!*p++) {
            reserve(b, 0);
            b->data[b->len] = '\0';
            return 1;
        }
        char size = 0; /* 'l' long, 'L' long long, 'z' size_t, 0 int */
        if (*p == 'z' || *p == 'l')
            size = *p++;
        if (size == 'l' && *p == 'l') {
            size = 'L';
            p++;
        }
        char conv = *p++;
        if (size && conv != 'd' && conv != 'u')
            return 0;
        if (conv == '%' || conv == 'c') {
            reserve(b, 1);
            b->data[b->len++] = conv == '%' ? '%' : (char)va_arg(ap, int);
        } else if (conv == 's') {
            const char *arg = va_arg(ap, const char *);
            append(b, arg, strlen(arg));
        } else if (conv == 'u') {
            unsigned long long v = size == 'L'   ? va_arg(ap, unsigned long long)
                                   : size == 'l' ? va_arg(ap, unsigned long)
                                   : size == 'z' ? va_arg(ap, size_t)
                                                 : va_arg(ap, unsigned);
            put_decimal(b, v, 0);
        } else if (conv == 'd') {
            long long v = size == 'L'   ? va_arg(ap, long long)
                          : size == 'l' ? va_arg(ap, long)
                          : size == 'z' ? (long long)va_arg(ap, size_t)
                                        : va_arg(ap, int);
            put_decimal(b, v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v, v < 0);
        } else {
            return 0;
        }
    }
}

void buf_vprintf(Buf *b, const char *fmt, va_list ap)
{
    size_t len = b->len;
    va_list ap2;
    va_copy(ap2, ap);
    int plain = plain_printf(b, fmt, ap2);
    va_end(ap2);
    if (plain)
        return;
    /* anything else is the C library's: format into the room there is; only text that does
     * not fit is formatted twice */
    b->len = len;
    reserve(b, 64);
    va_copy(ap2, ap);
    size_t room = b->cap - b->len;
    int n = vsnprintf(b->data + b->len, room, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        b->data[b->len] = '\0';
        return;
    }
    if ((size_t)n >= room) {
        reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    }
    b->len += (size_t)n;
}

void buf_puts(Buf *b, const char *s)
{
    buf_putn(b, s, strlen(s));
}

void buf_printf(Buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void buf_free(Buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
