/*
 * hand.h: the hand-written reverse-mode adjoints `make bench` times adgen's gradients
 * against (tests/bench/hand.c). Each has the signature of the generated NAME_grad, returns
 * the function's value and overwrites the gradient.
 */
#ifndef BENCH_HAND_H
#define BENCH_HAND_H

double hand_eq5109(double x, double *x_bar);
double hand_gauss(double x, double mu, double sigma, double *x_bar, double *mu_bar,
                  double *sigma_bar);
double hand_mlp(const double *A0, const double *b0, const double *A1, const double *b1,
                const double *x, const double *y, double *A0_bar, double *b0_bar,
                double *A1_bar, double *b1_bar);
double hand_rosen(int n, const double *x, double *x_bar);
double hand_chain(double x0, double *x0_bar);
/* The kept-loops cases (build/bench/kept-CC); hand_chain_n's work holds 2n doubles. */
double hand_logistic(long N, const double *w, double b, const double *X, const double *y,
                     double *w_bar, double *b_bar);
double hand_chain_n(long n, double x0, double h, double *x0_bar, double *h_bar, double *work);
double hand_gmm(long K, long N, const double *mu, double s, const double *x, double *mu_bar,
                double *s_bar);
/* work holds 3T doubles. */
double hand_pfilt(long P, long T, double a, const double *w, const double *obs, double *a_bar,
                  double *w_bar, double *work);

#endif
