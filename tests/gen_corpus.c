/*
 * gen_corpus.c: writes programs of the random generators (gen.h) as files, DIR/gNNNN.expr from
 * gen_program and DIR/kNNNN.expr from gen_kept_program, seeds 1..N. They are inputs for the
 * byte-for-byte comparison of two adgens (make same-output) and seeds of the fuzz target
 * (make fuzz), so that both reach arrays, loops, kept sizes and vector results.
 *
 *   build/gen_corpus DIR N
 */
#include <stdio.h>

#include "gen.h"

static int spit(const char *dir, char kind, unsigned long i, const Buf *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%c%04lu.expr", dir, kind, i);
    FILE *f = fopen(path, "w");
    if (!f || fwrite(text->data, 1, text->len, f) != text->len || fclose(f) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen_corpus DIR N\n");
        return 2;
    }
    unsigned long n = strtoul(argv[2], NULL, 10);
    GenSize small = {3, 4, 5, 8}, large = {4, 4, 8, 24};
    for (unsigned long i = 1; i <= n; i++) {
        Buf a = {0}, b = {0};
        GenKept k;
        gen_program(&a, i, i % 8 == 0 ? &large : &small);
        gen_kept_program(&b, i, &k);
        int bad = spit(argv[1], 'g', i, &a) || spit(argv[1], 'k', i, &b);
        buf_free(&a);
        buf_free(&b);
        if (bad)
            return 1;
    }
    return 0;
}
