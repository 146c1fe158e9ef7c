/*
 * numbers.c: constants in C. A constant adgen made (0.5, 2.0, a folded one in double) is
 * printed in the shortest form that reads back to the same value of the code's type, with a
 * '.' or an exponent and the type's suffix; one from the source in float or long double code
 * keeps its spelling, so the C compiler rounds what the user wrote to that type directly. The
 * C library prints '.' because adgen never calls setlocale: the output is locale-independent.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adgen.h"

const char *const real_type[] = {"double", "float", "long double"};
const char *const real_suffix[] = {"", "f", "l"};   /* of the <math.h> functions */
const char *const literal_suffix[] = {"", "f", "L"};

static int reads_back(const char *s, double v, RealType real)
{
    return real == REAL_FLOAT ? strtof(s, NULL) == (float)v : strtod(s, NULL) == v;
}

/* Writes into s the shortest "%.*g" form of v that reads back to v in the given type. A
 * normal double has a little under 16 significant digits, so a decimal of at most 15 digits
 * that reads back is the double's nearest 15-digit decimal: either %.15g reads back, and is
 * then the shortest form already (%g drops trailing zeros), or the shortest has 16 or 17
 * digits. One or two conversions where a search takes five. Floats and subnormals are
 * searched: reading back is exact from some precision on (9 digits for float, 17 for
 * double). */
static void shortest(char *s, size_t size, double v, RealType real)
{
    if (real != REAL_FLOAT && isnormal(v)) {
        for (int p = 15; p < 17; p++) {
            snprintf(s, size, "%.*g", p, v);
            if (reads_back(s, v, real))
                return;
        }
        snprintf(s, size, "%.17g", v);
        return;
    }
    int lo = 1, hi = 17;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        snprintf(s, size, "%.*g", mid, v);
        if (reads_back(s, v, real))
            hi = mid;
        else
            lo = mid + 1;
    }
    snprintf(s, size, "%.*g", lo, v);
}

/* v as a constant of the given type: the shortest %g form that reads back to the same value
 * of that type, always with a '.' or an exponent, and the type's suffix. This prints the
 * constants adgen makes (0.5, 2.0, and folded ones in double); those of the source keep their
 * spelling in float and long double code. The C library prints '.' because adgen never calls
 * setlocale: the output is locale-independent. */
void put_real(Buf *out, double v, RealType real)
{
    char s[40];
    if (real == REAL_FLOAT) {
        float f = (float)v;
        if (isinf(f)) {
            buf_printf(out, "%sHUGE_VALF", f < 0 ? "-" : "");
            return;
        }
        v = f;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        /* whole numbers in plain notation: 100.0, not 1e+02 */
        buf_printf(out, "%s%lld.0%s", signbit(v) ? "-" : "", (long long)fabs(v),
                   literal_suffix[real]);
        return;
    }
    shortest(s, sizeof s, v, real);
    buf_printf(out, "%s%s%s", s, strpbrk(s, ".e") ? "" : ".0", literal_suffix[real]);
}

void put_spelled(Buf *out, const char *spelled, RealType real)
{
    /* the digits as written: '.0' where C needs a floating constant */
    buf_printf(out, "%s%s%s", spelled, strpbrk(spelled, ".eE") ? "" : ".0", literal_suffix[real]);
}
