/* data.h: the samples fit.c fits, made from known parameters. */
#ifndef DATA_H
#define DATA_H

/* y[i] = a*exp(-k*t[i]) + c plus a small deterministic disturbance, t[i] = 0.1*i. */
void make_data(double a, double k, double c, double *t, double *y, int n);

#endif
