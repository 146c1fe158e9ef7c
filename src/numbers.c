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
        buf_printf(out, "%.1f%s", v, literal_suffix[real]);
        return;
    }
    /* reading back is exact from some precision on (9 digits for float, 17 for double):
     * search for the first */
    int lo = 1, hi = 17;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        snprintf(s, sizeof s, "%.*g", mid, v);
        if (real == REAL_FLOAT ? strtof(s, NULL) == (float)v : strtod(s, NULL) == v)
            hi = mid;
        else
            lo = mid + 1;
    }
    snprintf(s, sizeof s, "%.*g", lo, v);
    buf_printf(out, "%s%s%s", s, strpbrk(s, ".e") ? "" : ".0", literal_suffix[real]);
}

void put_spelled(Buf *out, const char *spelled, RealType real)
{
    /* the digits as written: '.0' where C needs a floating constant */
    buf_printf(out, "%s%s%s", spelled, strpbrk(spelled, ".eE") ? "" : ".0", literal_suffix[real]);
}
