/* data.c: synthetic samples of an exponential decay. It does not use the generated code, so
 * a change to model.expr does not rebuild it. */
#include <math.h>

#include "data.h"

void make_data(double a, double k, double c, double *t, double *y, int n)
{
    for (int i = 0; i < n; i++) {
        t[i] = 0.1 * i;
        /* "noise" of amplitude 0.01 that is the same on every run */
        y[i] = a * exp(-k * t[i]) + c + 0.01 * sin(12.9898 * i);
    }
}
