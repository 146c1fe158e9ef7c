/*
 * fuzz_adgen.c: libFuzzer entry point over the whole pipeline in memory (compile_source:
 * parse, sema, DAG, reverse, emit). The first input byte chooses the emission options, so
 * every combination the command line can ask for is reached; the rest is the source text.
 * A crash, a sanitizer report, a leak, a timeout or output that differs between two runs on
 * the same input (a quarter of the inputs) is a finding. Built and run by `make fuzz`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Diagnostics are formatted in full (that code is fuzzed too) and thrown away. */
static FILE *sink(void)
{
    static FILE *null;
    if (!null)
        null = fopen("/dev/null", "w");
    if (!null)
        abort();
    return null;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned bits = data[0];
    /* static, not accumulating, real 3 % 3 (double): CasADi's ABI */
    int casadi = (bits & 0x33) == 0x13;
    EmitOptions opt = {
        .compile.real = (RealType)(bits % 3),
        /* unrolling past 500 operations (or more than 500 inputs) is the --max-nodes error:
         * the dense Hessian of a 4051-element Rosenbrock took 12 s a run, and a corpus that
         * grows such inputs ran 75 units a second; sizes past the 125-statement chunk and the
         * 1 KB stack limit below are reached all the same */
        .compile.max_nodes = 500,
        /* every entry point each function has, and the batched variants but for CasADi */
        .compile.emit = bits & 0x08 ? EMIT_ALL | (casadi ? 0 : ENTRIES_BATCH) : 0,
        .prefix = bits & 0x04 ? "p_" : NULL,
        .csc = (bits & 0x04) != 0,
        .name = (bits & 0x0c) == 0x0c ? "g" : NULL,
        .file_static = (bits & 0x10) != 0,
        .accumulate = (bits & 0x20) != 0,
        .casadi = casadi,
        .max_stack = (bits & 0x60) == 0x60 ? 1024 : 0, /* chunks of 64, work the caller's */
        .line_file = bits & 0x40 ? "in.expr" : NULL,
        .out_file = bits & 0x40 ? "out.c" : NULL,
        .header_name = "out.h",
    };
    const char *src = (const char *)data + 1;
    Buf c_text = {0}, h_text = {0};
    if (compile_source("in.expr", src, size - 1, "in", &opt, sink(), &c_text,
                       bits & 0x80 ? &h_text : NULL) == 0 && size % 4 == 0) {
        /* reproducible builds: a second run (other addresses) must write the same bytes;
         * for a quarter of the inputs, by their length, which no option bit decides */
        Buf c2 = {0}, h2 = {0};
        compile_source("in.expr", src, size - 1, "in", &opt, sink(), &c2, &h2);
        if (c2.len != c_text.len || memcmp(c2.data, c_text.data, c_text.len) != 0 ||
            (h_text.len && (h2.len != h_text.len || memcmp(h2.data, h_text.data, h2.len) != 0)))
            abort();
        buf_free(&c2);
        buf_free(&h2);
    }
    buf_free(&c_text);
    buf_free(&h_text);
    return 0;
}
