/*
 * names.c: the C names of the generated code. Every name of a definition is claimed in one
 * set, inside the file's set holding C and C++ keywords, <math.h> names and the generated
 * functions, so no user name can capture or shadow one; a taken name gets `_`, then `_2`,
 * `_3`, ... appended, and no claimed name starts with '_' or holds "__".
 */
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

static const char *const reserved_words[] = {
    /* C99 */
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch",
    "typedef", "union", "unsigned", "void", "volatile", "while",
    /* C++ */
    "alignas", "alignof", "and", "and_eq", "asm", "bitand", "bitor", "bool", "catch",
    "char8_t", "char16_t", "char32_t", "class", "compl", "concept", "consteval", "constexpr",
    "constinit", "const_cast", "co_await", "co_return", "co_yield", "decltype", "delete",
    "dynamic_cast", "explicit", "export", "false", "friend", "mutable", "namespace", "new",
    "noexcept", "not", "not_eq", "nullptr", "operator", "or", "or_eq", "private",
    "protected", "public", "reinterpret_cast", "requires", "static_assert", "static_cast",
    "template", "this", "thread_local", "throw", "true", "try", "typeid", "typename",
    "using", "virtual", "wchar_t", "xor", "xor_eq",
    /* macros and names <math.h> may bring in */
    "fpclassify", "isfinite", "isinf", "isnan", "isnormal", "signbit", "isgreater",
    "isgreaterequal", "isless", "islessequal", "islessgreater", "isunordered", "HUGE_VAL",
    "HUGE_VALF", "HUGE_VALL", "INFINITY", "NAN", "FP_INFINITE", "FP_NAN", "FP_NORMAL",
    "FP_SUBNORMAL", "FP_ZERO", "FP_FAST_FMA", "FP_FAST_FMAF", "FP_FAST_FMAL", "FP_ILOGB0",
    "FP_ILOGBNAN", "MATH_ERRNO", "MATH_ERREXCEPT", "math_errhandling", "float_t",
    "double_t", "signgam", "M_E", "M_LOG2E", "M_LOG10E", "M_LN2", "M_LN10", "M_PI",
    "M_PI_2", "M_PI_4", "M_1_PI", "M_2_PI", "M_2_SQRTPI", "M_SQRT2", "M_SQRT1_2", "NULL",
    "abs", "labs", "div", "std", "errno", "main",
};

/* <math.h> functions; each also reserves its float (f) and long double (l) variant. */
static const char *const math_functions[] = {
    "acos", "asin", "atan", "atan2", "cos", "sin", "tan", "acosh", "asinh", "atanh", "cosh",
    "sinh", "tanh", "exp", "exp2", "expm1", "frexp", "ilogb", "ldexp", "log", "log10",
    "log1p", "log2", "logb", "modf", "scalbn", "scalbln", "cbrt", "fabs", "hypot", "pow",
    "sqrt", "erf", "erfc", "lgamma", "tgamma", "ceil", "floor", "nearbyint", "rint", "lrint",
    "llrint", "round", "lround", "llround", "trunc", "fmod", "remainder", "remquo",
    "copysign", "nan", "nextafter", "nexttoward", "fdim", "fmax", "fmin", "fma", "j0", "j1",
    "jn", "y0", "y1", "yn", "gamma", "drem", "finite", "significand", "exp10", "pow10",
    "sincos", "scalb", "lgamma_r", "gamma_r", "isinf", "isnan",
};

static size_t hash_str(const char *s)
{
    size_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static const char *const name_suffix[NAME_SUFFIXES] = {"", "_bar", "_dot", "_hv"};

/* The suffix of a name t<n><suffix> (NameSet), n into *n; else -1. */
static int numbered(const char *name, uint32_t *n)
{
    if (name[0] != 't' || name[1] < '1' || name[1] > '9')
        return -1;
    uint64_t v = 0;
    const char *c = name + 1;
    for (; *c >= '0' && *c <= '9'; c++) {
        v = 10 * v + (uint64_t)(*c - '0');
        if (v >= NAME_BITS)
            return -1;
    }
    for (int k = 0; k < NAME_SUFFIXES; k++)
        if (strcmp(c, name_suffix[k]) == 0) {
            *n = (uint32_t)v;
            return k;
        }
    return -1;
}

static int has_bit(const NameSet *s, int k, uint32_t n)
{
    return n / 64 < s->nwords[k] && s->bits[k][n / 64] >> (n % 64) & 1;
}

static void set_bit(NameSet *s, int k, uint32_t n)
{
    if (n / 64 >= s->nwords[k]) {
        size_t words = s->nwords[k] ? 2 * s->nwords[k] : 64;
        while (words <= n / 64)
            words *= 2;
        s->bits[k] = xrealloc(s->bits[k], words * sizeof *s->bits[k]);
        memset(s->bits[k] + s->nwords[k], 0, (words - s->nwords[k]) * sizeof *s->bits[k]);
        s->nwords[k] = words;
    }
    s->bits[k][n / 64] |= (uint64_t)1 << (n % 64);
}

/* The sets are probed with one hash of the name (or, numbered, k >= 0, with n). */
static int taken(const NameSet *s, const char *name, size_t h, int k, uint32_t n)
{
    for (; s; s = s->outer) {
        if (k >= 0) {
            if (has_bit(s, k, n))
                return 1;
            continue;
        }
        for (size_t j = h & (s->cap - 1); s->slots[j]; j = (j + 1) & (s->cap - 1))
            if (strcmp(s->slots[j], name) == 0)
                return 1;
    }
    return 0;
}

int names_taken(const NameSet *s, const char *name)
{
    uint32_t n;
    int k = numbered(name, &n);
    return taken(s, name, k < 0 ? hash_str(name) : 0, k, n);
}

static void add_hashed(NameSet *s, const char *name, size_t h)
{
    if (2 * (s->len + 1) > s->cap) {
        NameSet bigger = {NULL, s->cap * 2, 0, s->arena, s->outer, {NULL}, {0}};
        bigger.slots = xrealloc(NULL, bigger.cap * sizeof *bigger.slots);
        memset(bigger.slots, 0, bigger.cap * sizeof *bigger.slots);
        for (size_t i = 0; i < s->cap; i++)
            if (s->slots[i])
                add_hashed(&bigger, s->slots[i], hash_str(s->slots[i]));
        free(s->slots);
        s->slots = bigger.slots;
        s->cap = bigger.cap;
        s->len = bigger.len;
    }
    size_t j = h & (s->cap - 1);
    while (s->slots[j])
        j = (j + 1) & (s->cap - 1);
    s->slots[j] = name;
    s->len++;
}

static void add(NameSet *s, const char *name)
{
    uint32_t n;
    int k = numbered(name, &n);
    if (k >= 0)
        set_bit(s, k, n);
    else
        add_hashed(s, name, hash_str(name));
}

void names_init(NameSet *s, Arena *arena, size_t cap, const NameSet *outer)
{
    memset(s, 0, sizeof *s);
    s->cap = cap;
    s->len = 0;
    s->arena = arena;
    s->outer = outer;
    s->slots = xrealloc(NULL, s->cap * sizeof *s->slots);
    memset(s->slots, 0, s->cap * sizeof *s->slots);
}

void names_free(NameSet *s)
{
    free(s->slots);
    s->slots = NULL;
    for (int k = 0; k < NAME_SUFFIXES; k++) {
        free(s->bits[k]);
        s->bits[k] = NULL;
        s->nwords[k] = 0;
    }
}

const char *names_claim_free(NameSet *s, const char *want)
{
    if (want[0] == '_' || strstr(want, "__"))
        return NULL;
    uint32_t n;
    int k = numbered(want, &n);
    size_t h = k < 0 ? hash_str(want) : 0;
    if (taken(s, want, h, k, n))
        return NULL;
    const char *name = arena_strndup(s->arena, want, strlen(want));
    if (k >= 0)
        set_bit(s, k, n);
    else
        add_hashed(s, name, h);
    return name;
}

/* Claims `want` made a name C and C++ leave to programs: no leading '_' (C reserves those
 * at file scope) and no "__" (C++ reserves it anywhere); a taken name gets `_`, then `_2`,
 * `_3`, ... appended. */
const char *names_claim(NameSet *s, const char *want)
{
    const char *name = names_claim_free(s, want); /* the usual case */
    if (name)
        return name;
    Buf b = {0};
    if (want[0] == '_')
        buf_puts(&b, "v");
    for (const char *c = want; *c; c++)
        if (*c != '_' || !b.len || b.data[b.len - 1] != '_')
            buf_putn(&b, c, 1);
    if (names_taken(s, b.data)) {
        if (b.data[b.len - 1] != '_')
            buf_puts(&b, "_");
        size_t base = b.len;
        for (unsigned k = 2; names_taken(s, b.data); k++) {
            b.len = base;
            buf_printf(&b, "%u", k);
        }
    }
    name = arena_strndup(s->arena, b.data, b.len);
    buf_free(&b);
    add(s, name);
    return name;
}

void names_reserve_c(NameSet *s)
{
    for (size_t i = 0; i < sizeof reserved_words / sizeof *reserved_words; i++)
        add(s, reserved_words[i]);
    char variant[32];
    for (size_t i = 0; i < sizeof math_functions / sizeof *math_functions; i++) {
        add(s, math_functions[i]);
        snprintf(variant, sizeof variant, "%sf", math_functions[i]);
        add(s, arena_strndup(s->arena, variant, strlen(variant)));
        snprintf(variant, sizeof variant, "%sl", math_functions[i]);
        add(s, arena_strndup(s->arena, variant, strlen(variant)));
    }
    add(s, "ADGEN_UNUSED");
    add(s, "ADGEN_FUNC");
    add(s, "ADGEN_NOINLINE");
    add(s, "ADGEN_SINCOS");
    add(s, "ADGEN_SIN_COS");
    add(s, "ADGEN_SIN_COSF");
    add(s, "ADGEN_SIN_COSL");
}
