/*
 * test_kept_matrix.c: Jacobians and Hessians through loops kept at run time, and results of
 * several values (issue 19). The models below have a size known only at run time and
 * differentiated inputs of constant size; adgen writes their kept entry points once (jac, and
 * for a scalar hess; jvp and vjp for a vector result), and per size K the same file with
 * -D n=K, unrolled, whose Jacobian and Hessian come from the compressed sweeps of the
 * unrolled graph: an independent route. One driver checks, at n = 1, 2 and 7 and two points
 * each:
 *   - the kept value, jac (and hess) against the unrolled ones to rounding;
 *   - a vector result's kept jvp and vjp against the unrolled ones, and against its own
 *     Jacobian (J v, u^T J);
 *   - a Hessian is exactly symmetric;
 *   - a checkpointed vjp of a vector result equals the stored one to the bit.
 * The driver runs under ASan and UBSan with every array malloc'ed to exactly its size, and at
 * n = 0 and n = 1000 the kept code alone (finite results, the Jacobian against jvp).
 *
 * Results of a run-time number of values (a map returned, `return r` with r[i] assigned by a
 * loop over 0..n-1): their value, jvp and vjp against the unrolled form's (K values) at the same
 * sizes, each entry's values the value function's to the bit, and <u, J d> computed by jvp and
 * by vjp alike; under the same sanitizers, with out, out_dot and out_bar exactly n values a step.
 */
#include "testutil.h"

#define OUT "build/tests/kept_matrix"
#define STRICT "-std=c99 -Wall -Wextra -pedantic -Werror -Wvla"
#define SAN "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

typedef struct {
    const char *name;
    const char *src;
    int nout;    /* values: 1 is a scalar result */
    int ndiff;   /* differentiated scalars */
    int ckp;     /* a recurrence: vjp-ckp too */
    const char *args;  /* the inputs after n, in C: p (the differentiated scalars) and data */
    const char *dots, *bars; /* a direction d and a cotangent's result vb as arguments */
} Model;

static const Model models[] = {
    {"two",
     "# a pendulum's two states after a recurrence of n steps\n"
     "two(k, x0; n) {\n"
     "    x[0] = x0\n"
     "    v[0] = 0\n"
     "    for i = 0..n-1 {\n"
     "        x[i+1] = x[i] + 0.01*v[i]\n"
     "        v[i+1] = v[i] - 0.01*k*sin(x[i])\n"
     "    }\n"
     "    return [x[n], v[n]*x[n]]\n"
     "}\n",
     2, 2, 1, "p[0], p[1]", "d[0], d[1]", "vb, vb + 1"},
    {"moments",
     "# three values from kept sums over data of a run-time size\n"
     "moments(w[2], b; X[n]) {\n"
     "    m = sum(i = 0..n-1, w[0]*X[i] + b)\n"
     "    s = sum(i = 0..n-1, sin(w[1]*X[i]) * b)\n"
     "    return [m, s*m, exp(w[0]) + s]\n"
     "}\n",
     3, 3, 0, "p, p[2], X", "d, d[2]", "vb, vb + 2"},
    {"lr",
     "# logistic regression's loss: a scalar whose Hessian comes from hvp's columns\n"
     "lr(w[2], b; X[n][2], y[n]) {\n"
     "    return sum(i = 0..n-1, log(1 + exp(w[0]*X[i][0] + w[1]*X[i][1] + b)) -\n"
     "        y[i]*(w[0]*X[i][0] + w[1]*X[i][1] + b)) + (w[0]^2 + w[1]^2 + b^2)/2\n"
     "}\n",
     1, 3, 0, "p, p[2], X, y", NULL, NULL},
    {"decay",
     "# a scalar after a recurrence: its Jacobian is one row\n"
     "decay(a, s0; n) {\n"
     "    s[0] = s0\n"
     "    for k = 0..n-1 { s[k+1] = s[k]*cos(a) + 0.1*sin(s[k]) }\n"
     "    return s[n]^2\n"
     "}\n",
     1, 2, 1, "p[0], p[1]", NULL, NULL},
};
enum { NMODELS = sizeof models / sizeof *models };

/* A definition returning a map: its values a step, the C arguments after n of its kept
 * and unrolled calls (p: the differentiated scalars, X and Y data, x a differentiated array
 * of n), a direction d (xd for x) and where a vjp stores (g, xb for x). */
typedef struct {
    const char *name;
    const char *src;
    int per, nscal; /* values a step; differentiated scalars (in p, d and g) */
    int jac;        /* it has a Jacobian (its differentiated inputs have constant sizes) */
    const char *args, *dots, *bars;
    int work;       /* its values read a recurrence's trajectory: every kept entry point
                       takes a work array of K_NAME_WORK(n) values */
} MapModel;

static const MapModel maps[] = {
    {"res",
     "# residuals of an exponential decay fit, one a data point\n"
     "res(a, b; t[n], y[n]) {\n"
     "    for i = 0..n-1 {\n"
     "        r[i] = a*exp(-b*t[i]) - y[i]\n"
     "    }\n"
     "    return r\n"
     "}\n",
     1, 2, 1, "p[0], p[1], X, Y", "d[0], d[1]", "g, g + 1", 0},
    {"pts",
     "# two values a step, and a value of the function read in the loop\n"
     "pts(a, b; t[n]) {\n"
     "    c = cos(a)*b\n"
     "    for i = 0..n-1 {\n"
     "        r[i][0] = a*cos(t[i]) + c\n"
     "        r[i][1] = b*sin(a*t[i])\n"
     "    }\n"
     "    return r\n"
     "}\n",
     2, 2, 1, "p[0], p[1], X", "d[0], d[1]", "g, g + 1", 0},
    {"cen",
     "# a differentiated array of n, centred by a kept sum\n"
     "cen(x[n], s) {\n"
     "    m = sum(i = 0..n-1, x[i])/n\n"
     "    for i = 0..n-1 {\n"
     "        r[i] = s*(x[i] - m)^2\n"
     "    }\n"
     "    return r\n"
     "}\n",
     1, 1, 0, "x, p[0]", "xd, d[0]", "xb, g", 0},
    {"dat",
     "# values that depend on no differentiated input: vjp reads no cotangent\n"
     "dat(a; t[n]) {\n"
     "    for i = 0..n-1 {\n"
     "        r[i] = t[i]*t[i]\n"
     "    }\n"
     "    return r\n"
     "}\n",
     1, 1, 1, "p[0], X", "d[0]", "g", 0},
    {"osc",
     "# residuals along a recurrence's trajectory: an oscillator observed after every step\n"
     "osc(k, c; y[n]) {\n"
     "    x[0] = 1\n"
     "    v[0] = 0\n"
     "    for i = 0..n-1 {\n"
     "        x[i+1] = x[i] + 0.1*v[i]\n"
     "        v[i+1] = v[i] - 0.1*(k*sin(x[i]) + c*v[i])\n"
     "    }\n"
     "    for i = 0..n-1 {\n"
     "        r[i][0] = x[i+1] - y[i]\n"
     "        r[i][1] = v[i]*x[i]\n"
     "    }\n"
     "    return r\n"
     "}\n",
     2, 2, 1, "p[0], p[1], X", "d[0], d[1]", "g, g + 1", 1},
};
enum { NMAPS = sizeof maps / sizeof *maps };

static const int sizes[] = {1, 2, 7};
enum { NSIZES = sizeof sizes / sizeof *sizes };

static const char driver_head[] =
    "#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\n"
    "static long n_checks, n_fail;\n"
    "static void near(const char *m, const char *what, long n, long k, double got, double want,\n"
    "                 double scale)\n{\n"
    "    n_checks++;\n"
    "    double s = fabs(want) > scale ? fabs(want) : scale;\n"
    "    if (!(got == want || fabs(got - want) <= 1e-11 * s) && n_fail++ < 30)\n"
    "        printf(\"FAIL %s at n = %ld: %s [%ld]: %.17g, expected %.17g\\n\", m, n, what, k,\n"
    "               got, want);\n}\n"
    "static void bits(const char *m, const char *what, long n, long k, double got, double want)\n"
    "{\n    n_checks++;\n"
    "    if (memcmp(&got, &want, sizeof got) != 0 && n_fail++ < 30)\n"
    "        printf(\"FAIL %s at n = %ld: %s [%ld]: %.17g, expected the bits of %.17g\\n\", m, n,\n"
    "               what, k, got, want);\n}\n"
    "static double *vec(long len, double seed)\n{\n"
    "    double *v = malloc((size_t)(len > 0 ? len : 1) * sizeof *v);\n"
    "    if (!v)\n        exit(2);\n"
    "    for (long i = 0; i < len; i++)\n        v[i] = sin(seed + 1.7 * (double)i);\n"
    "    return v;\n}\n"
    "/* compressed columns cp, cr, cz of nd columns: the nnz triplets row, col, z (by row, then\n"
    " * column), each once, to the bit, rows ascending in each column */\n"
    "static void csc_same(const char *m, long n, long nd, long nnz, const long *row,\n"
    "                     const long *col, const double *z, const long *cp, const long *cr,\n"
    "                     const double *cz)\n{\n"
    "    n_checks++;\n"
    "    if ((cp[0] != 0 || cp[nd] != nnz) && n_fail++ < 30)\n"
    "        printf(\"FAIL %s at n = %ld: columns from %ld to %ld, %ld entries\\n\", m, n, cp[0],\n"
    "               cp[nd], nnz);\n"
    "    for (long j = 0; j < nd && cp[nd] == nnz; j++)\n"
    "        for (long q = cp[j]; q < cp[j + 1]; q++) {\n"
    "            long lo = 0, hi = nnz;\n"
    "            while (lo < hi) {\n"
    "                long mid = (lo + hi) / 2;\n"
    "                if (row[mid] < cr[q] || (row[mid] == cr[q] && col[mid] < j))\n"
    "                    lo = mid + 1;\n"
    "                else\n"
    "                    hi = mid;\n"
    "            }\n"
    "            n_checks++;\n"
    "            if (lo == nnz || row[lo] != cr[q] || col[lo] != j || (q > cp[j] && cr[q] <= "
    "cr[q - 1])) {\n"
    "                if (n_fail++ < 30)\n"
    "                    printf(\"FAIL %s at n = %ld: compressed entry %ld (%ld, %ld)\\n\", m, n, q,\n"
    "                           cr[q], j);\n"
    "            } else {\n"
    "                bits(m, \"compressed columns\", n, q, cz[q], z[lo]);\n"
    "            }\n"
    "        }\n}\n"
    "static double big(const double *v, long len)\n{\n"
    "    double m = 1;\n"
    "    for (long i = 0; i < len; i++)\n        m = fabs(v[i]) > m ? fabs(v[i]) : m;\n"
    "    return m;\n}\n\n";

/* The kept entry points of model m called at size n (variable `n` of the driver), into the
 * driver's arrays: value v, Jacobian J (NOUT x NDIFF), jvp jv along d, vjp vb of u, and for a
 * scalar the Hessian H. */
static void put_kept_calls(Buf *d, const Model *m)
{
    const char *N = m->name;
    int vec = m->nout > 1;
    if (vec) {
        buf_printf(d, "        k_%s(n, %s, v);\n", N, m->args);
        buf_printf(d, "        k_%s_jac(n, %s, vj, J);\n", N, m->args);
        buf_printf(d, "        k_%s_jvp(n, %s, %s, vj, jv);\n", N, m->args, m->dots);
        buf_printf(d, "        k_%s_vjp(n, %s, u, vj, %s%s);\n", N, m->args, m->bars,
                   m->ckp ? ", work" : "");
    } else {
        buf_printf(d, "        v[0] = k_%s(n, %s);\n", N, m->args);
        buf_printf(d, "        vj[0] = k_%s_jac(n, %s, J);\n", N, m->args);
    }
}

/* Model m's jac-sparse, and a scalar's hess-sparse (their columns of constant sizes: every
 * entry, a constant pattern), by rows (k_) and in compressed columns (c_): each entry the
 * dense matrix's (J, and H once computed below) to the bit, at the place its pattern says;
 * the pattern every entry, by row then column (the Hessian's lower triangle). */
static void put_sparse_checks(Buf *d, const Model *m, const char *upper)
{
    const char *N = m->name, *work = m->ckp ? ", work" : "";
    int vec = m->nout > 1, nd = m->ndiff;
    for (int h = 0; h < 2 - vec; h++) {
        const char *w = h ? "hess" : "jac", *W = h ? "HESS" : "JAC", *mat = h ? "H" : "J";
        char nd_1[16]; /* the last column of a row of the Jacobian */
        snprintf(nd_1, sizeof nd_1, "%d", nd - 1);
        buf_puts(d, "        {\n");
        if (h) /* H first: the dense Hessian's columns */
            buf_printf(d, "            k_%s_hess(n, %s, H%s);\n", N, m->args, work);
        buf_printf(d, "            double *z = vec(%s%s_SPARSE_NNZ, 0), *cz = vec(C%s%s_SPARSE_NNZ, "
                      "0), *sv = vec(%d, 0);\n", upper, W, upper + 1, W, m->nout);
        if (vec || h)
            buf_printf(d, "            k_%s_%s_sparse(n, %s, %sz%s);\n"
                          "            c_%s_%s_sparse(n, %s, %scz%s);\n", N, w, m->args,
                       h ? "" : "sv, ", h ? work : "", N, w, m->args, h ? "" : "sv, ",
                       h ? work : "");
        else
            buf_printf(d, "            sv[0] = k_%s_jac_sparse(n, %s, z);\n"
                          "            c_%s_jac_sparse(n, %s, cz);\n", N, m->args, N, m->args);
        if (!h)
            buf_printf(d, "            for (int i = 0; i < %d; i++)\n"
                          "                bits(M, \"jac-sparse's values\", n, i, sv[i], v[i]);\n",
                       m->nout);
        buf_printf(d, "            near(M, \"%s-sparse count\", n, 0, %s%s_SPARSE_NNZ, %d, 0);\n",
                   w, upper, W, h ? nd * (nd + 1) / 2 : m->nout * nd);
        buf_printf(d, "            for (int q = 0, i = 0, j = 0; q < %s%s_SPARSE_NNZ; q++) {\n"
                      "                near(M, \"%s-sparse row\", n, q, k_%s_%s_sparse_row[q], i, 0);\n"
                      "                near(M, \"%s-sparse column\", n, q, k_%s_%s_sparse_col[q], j, 0);\n"
                      "                bits(M, \"%s-sparse\", n, q, z[q], %s[i * %d + j]);\n"
                      "                if (++j > %s) {\n                    j = 0;\n"
                      "                    i++;\n                }\n            }\n",
                   upper, W, w, N, w, w, N, w, w, mat, nd, h ? "i" : nd_1);
        buf_printf(d, "            for (int j = 0; j < %d; j++)\n"
                      "                for (int q = c_%s_%s_sparse_colptr[j]; q < "
                      "c_%s_%s_sparse_colptr[j + 1]; q++)\n"
                      "                    bits(M, \"%s-sparse, compressed columns\", n, q, cz[q], "
                      "%s[c_%s_%s_sparse_row[q] * %d + j]);\n",
                   nd, N, w, N, w, w, mat, N, w, nd);
        buf_puts(d, "            free(z);\n            free(cz);\n            free(sv);\n"
                    "        }\n");
    }
}

static void put_model(Buf *d, const Model *m)
{
    const char *N = m->name;
    char upper[64]; /* the work macros' prefix: K_NAME_ */
    snprintf(upper, sizeof upper, "K_%s_", N);
    for (char *c = upper; *c; c++)
        *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
    int vec = m->nout > 1, no = m->nout, nd = m->ndiff;
    buf_printf(d, "static void check_%s(long n, int unrolled)\n{\n", N);
    buf_printf(d, "    const char *M = \"%s\";\n", N);
    buf_puts(d, "    for (int point = 0; point < 2; point++) {\n");
    buf_printf(d, "        double *p = vec(%d, 0.3 + point), *X = vec(2 * n, 1 + point), "
                  "*y = vec(n, 2 + point);\n", nd);
    buf_printf(d, "        double *v = vec(%d, 0), *vj = vec(%d, 0), *J = vec(%d, 0), "
                  "*H = vec(%d, 0);\n", no, no, no * nd, nd * nd);
    buf_printf(d, "        double *d = vec(%d, 5), *u = vec(%d, 6), *jv = vec(%d, 0), "
                  "*vb = vec(%d, 0);\n", nd, no, no, nd);
    if (m->ckp && vec)
        buf_printf(d, "        double *work = vec((long)%sWORK(n), 0), *cw = "
                      "vec((long)%sWORK_CKP(n, 2), 0), *cb = vec(%d, 0);\n", upper, upper, nd);
    else if (m->ckp) /* hvp's states and tangents */
        buf_printf(d, "        double *work = vec((long)%sWORK(n), 0), *cw = vec(1, 0), "
                      "*cb = vec(%d, 0);\n", upper, nd);
    else
        buf_printf(d, "        double *work = vec(1, 0), *cw = vec(1, 0), *cb = vec(%d, 0);\n",
                   nd);
    buf_puts(d, "        (void)X;\n        (void)y;\n        (void)work;\n        (void)cw;\n"
                "        (void)cb;\n        (void)H;\n        (void)u;\n        (void)jv;\n"
                "        (void)vb;\n        (void)d;\n");
    put_kept_calls(d, m);
    buf_printf(d, "        for (int i = 0; i < %d; i++)\n"
                  "            bits(M, \"jac's value\", n, i, vj[i], v[i]);\n", no);
    /* the Jacobian against the products */
    if (vec) {
        buf_printf(d, "        for (int i = 0; i < %d; i++) {\n"
                      "            double s = 0, sc = 0;\n"
                      "            for (int j = 0; j < %d; j++)\n"
                      "                s += J[i * %d + j] * d[j], sc += fabs(J[i * %d + j] * d[j]);\n"
                      "            near(M, \"J v = jvp\", n, i, jv[i], s, sc);\n        }\n",
                   no, nd, nd, nd);
        buf_printf(d, "        for (int j = 0; j < %d; j++) {\n"
                      "            double s = 0, sc = 0;\n"
                      "            for (int i = 0; i < %d; i++)\n"
                      "                s += u[i] * J[i * %d + j], sc += fabs(u[i] * J[i * %d + j]);\n"
                      "            near(M, \"u J = vjp\", n, j, vb[j], s, sc);\n        }\n",
                   nd, no, nd, nd);
    }
    if (m->ckp && vec) {
        buf_printf(d, "        k_%s_vjp_ckp(n, %s, u, vj, cb, cb + 1, 2, cw);\n", N, m->args);
        buf_printf(d, "        for (int j = 0; j < %d; j++)\n"
                      "            bits(M, \"vjp-ckp\", n, j, cb[j], vb[j]);\n", nd);
    }
    put_sparse_checks(d, m, upper);
    if (!vec) {
        buf_printf(d, "        vj[0] = k_%s_hess(n, %s, H%s);\n", N, m->args,
                   m->ckp ? ", work" : "");
        buf_printf(d, "        bits(M, \"hess's value\", n, 0, vj[0], v[0]);\n"
                      "        for (int i = 0; i < %d; i++)\n"
                      "            for (int j = 0; j < %d; j++)\n"
                      "                bits(M, \"hess symmetric\", n, i * %d + j, H[i * %d + j], "
                      "H[j * %d + i]);\n", nd, nd, nd, nd, nd);
    }
    /* against the unrolled form */
    buf_puts(d, "        switch (unrolled ? n : -1) {\n");
    for (int s = 0; s < NSIZES; s++) {
        int K = sizes[s];
        buf_printf(d, "        case %d: {\n", K);
        buf_printf(d, "            double *uv = vec(%d, 0), *uJ = vec(%d, 0), *uH = vec(%d, 0);\n",
                   no, no * nd, nd * nd);
        /* the unrolled form has no n parameter */
        const char *args = m->args;
        if (vec)
            buf_printf(d, "            u%d_%s_jac(%s, uv, uJ);\n", K, N, args);
        else
            buf_printf(d, "            uv[0] = u%d_%s_jac(%s, uJ);\n", K, N, args);
        buf_printf(d, "            for (int i = 0; i < %d; i++)\n"
                      "                near(M, \"value\", n, i, v[i], uv[i], 1);\n"
                      "            for (int i = 0; i < %d; i++)\n"
                      "                near(M, \"jac\", n, i, J[i], uJ[i], big(uJ, %d));\n",
                   no, no * nd, no * nd);
        if (!vec) {
            buf_printf(d, "            u%d_%s_hess(%s, uH);\n", K, N, args);
            buf_printf(d, "            for (int i = 0; i < %d; i++)\n"
                          "                near(M, \"hess\", n, i, H[i], uH[i], big(uH, %d));\n",
                       nd * nd, nd * nd);
        }
        buf_puts(d, "            free(uv);\n            free(uJ);\n            free(uH);\n"
                    "            break;\n        }\n");
    }
    buf_puts(d, "        default:\n");
    buf_printf(d, "            for (int i = 0; i < %d; i++)\n"
                  "                if (!isfinite(J[i]) && n_fail++ < 30)\n"
                  "                    printf(\"FAIL %%s at n = %%ld: jac not finite\\n\", M, n);\n",
               no * nd);
    buf_puts(d, "        }\n");
    buf_puts(d, "        free(p);\n        free(X);\n        free(y);\n        free(v);\n"
                "        free(vj);\n        free(J);\n        free(H);\n        free(d);\n"
                "        free(u);\n        free(jv);\n        free(vb);\n        free(work);\n"
                "        free(cw);\n        free(cb);\n    }\n}\n\n");
}

static void adgen(const char *name, const char *options, const char *stem)
{
    char *out = NULL;
    int rc = runf(&out, ADGEN_CMD " %s " OUT "/%s.expr -o " OUT "/%s.c --header " OUT
                        "/%s.h 2>&1", options, name, stem, stem);
    if (rc != 0)
        fail_msg("adgen %s %s.expr: status %d\n%s", options, name, rc, out);
    free(out);
}

/* check_NAME(n, unrolled) for a map model: its kept value, jvp and vjp (and the unrolled ones
 * at the sizes of `sizes`). */
static void put_map(Buf *d, const MapModel *m)
{
    const char *N = m->name;
    buf_printf(d, "static void check_%s(long n, int unrolled)\n{\n", N);
    buf_printf(d, "    const char *M = \"%s\";\n    const long len = %d * n;\n"
                  "    const int nscal = %d;\n", N, m->per, m->nscal);
    buf_puts(d, "    for (int point = 0; point < 2; point++) {\n"
                "        double *p = vec(2, 0.3 + point), *X = vec(n, 1 + point), "
                "*Y = vec(n, 2 + point);\n"
                "        double *x = vec(n, 3 + point), *xd = vec(n, 4), *xb = vec(n, 0);\n"
                "        double *d = vec(2, 5), *g = vec(2, 0), *u = vec(len, 6);\n"
                "        double *v = vec(len, 0), *v2 = vec(len, 0), *v3 = vec(len, 0), "
                "*jv = vec(len, 0);\n"
                "        (void)X;\n        (void)Y;\n        (void)x;\n        (void)xd;\n"
                "        (void)xb;\n");
    const char *work = m->work ? ", work" : "";
    if (m->work) {
        buf_puts(d, "        double *work = vec((long)K_");
        for (const char *c = N; *c; c++)
            buf_printf(d, "%c", *c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
        buf_puts(d, "_WORK(n), 0);\n");
    }
    buf_printf(d, "        k_%s(n, %s, v%s);\n", N, m->args, work);
    buf_printf(d, "        k_%s_jvp(n, %s, %s, v2, jv%s);\n", N, m->args, m->dots, work);
    buf_printf(d, "        k_%s_vjp(n, %s, u, v3, %s%s);\n", N, m->args, m->bars, work);
    buf_puts(d, "        for (long i = 0; i < len; i++) {\n"
                "            bits(M, \"jvp's values\", n, i, v2[i], v[i]);\n"
                "            bits(M, \"vjp's values\", n, i, v3[i], v[i]);\n        }\n"
                "        /* <u, J d> both ways */\n"
                "        double ujd = 0, jtud = 0, sc = 0;\n"
                "        for (long i = 0; i < len; i++)\n"
                "            ujd += u[i] * jv[i], sc += fabs(u[i] * jv[i]);\n"
                "        for (int j = 0; j < nscal; j++)\n"
                "            jtud += g[j] * d[j], sc += fabs(g[j] * d[j]);\n");
    if (strstr(m->args, "x,"))
        buf_puts(d, "        for (long i = 0; i < n; i++)\n"
                    "            jtud += xb[i] * xd[i], sc += fabs(xb[i] * xd[i]);\n");
    buf_puts(d, "        near(M, \"<u, J d> = <J^T u, d>\", n, 0, ujd, jtud, sc);\n");
    if (m->jac) { /* the Jacobian, n x nscal a value a step: J d is jvp's */
        buf_printf(d, "        {\n            double *J = vec(len * nscal, 0), *vj = vec(len, 0);\n"
                      "            k_%s_jac(n, %s, vj, J%s);\n", N, m->args, work);
        buf_puts(d, "            for (long i = 0; i < len; i++) {\n"
                    "                double s = 0, sc2 = 0;\n"
                    "                for (int j = 0; j < nscal; j++)\n"
                    "                    s += J[i * nscal + j] * d[j], sc2 += fabs(J[i * nscal + j] "
                    "* d[j]);\n"
                    "                near(M, \"J d = jvp\", n, i, jv[i], s, sc2);\n"
                    "                bits(M, \"jac's values\", n, i, vj[i], v[i]);\n"
                    "            }\n");
        /* jac-sparse: every entry, by row then column, the pattern as code; jac's numbers */
        buf_printf(d, "            const long nnz = k_%s_jac_sparse_nnz(n);\n"
                      "            long *row = malloc((size_t)(nnz > 0 ? nnz : 1) * sizeof *row);\n"
                      "            long *col = malloc((size_t)(nnz > 0 ? nnz : 1) * sizeof *col);\n"
                      "            double *jz = vec(nnz, 0);\n"
                      "            k_%s_jac_sparse_pattern(n, row, col);\n"
                      "            k_%s_jac_sparse(n, %s, vj, jz%s);\n", N, N, N, m->args, work);
        buf_puts(d, "            near(M, \"jac-sparse count\", n, 0, (double)nnz, "
                    "(double)(len * nscal), 0);\n"
                    "            for (long q = 0; q < nnz && nnz == len * nscal; q++) {\n"
                    "                near(M, \"jac-sparse row\", n, q, (double)row[q], "
                    "(double)(q / nscal), 0);\n"
                    "                near(M, \"jac-sparse column\", n, q, (double)col[q], "
                    "(double)(q % nscal), 0);\n"
                    "                bits(M, \"jac-sparse = jac\", n, q, jz[q], J[q]);\n"
                    "            }\n"
                    "            for (long i = 0; i < len; i++)\n"
                    "                bits(M, \"jac-sparse's values\", n, i, vj[i], v[i]);\n");
        buf_printf(d, "            long *cp = malloc((size_t)(nscal + 1) * sizeof *cp);\n"
                      "            long *cr = malloc((size_t)(nnz > 0 ? nnz : 1) * sizeof *cr);\n"
                      "            double *cz = vec(nnz, 0);\n"
                      "            near(M, \"compressed count\", n, 0, (double)c_%s_jac_sparse_nnz(n), "
                      "(double)nnz, 0);\n"
                      "            c_%s_jac_sparse_pattern(n, cp, cr);\n"
                      "            c_%s_jac_sparse(n, %s, vj, cz%s);\n"
                      "            csc_same(M, n, nscal, nnz, row, col, jz, cp, cr, cz);\n"
                      "            for (long i = 0; i < len; i++)\n"
                      "                bits(M, \"compressed columns' values\", n, i, vj[i], v[i]);\n"
                      "            free(cp);\n            free(cr);\n            free(cz);\n",
                   N, N, N, m->args, work);
        buf_puts(d, 
                    "            free(row);\n            free(col);\n            free(jz);\n"
                    "            free(J);\n            free(vj);\n        }\n");
    }
    buf_puts(d, "        switch (unrolled ? n : -1) {\n");
    for (int s = 0; s < NSIZES; s++) {
        int K = sizes[s];
        buf_printf(d, "        case %d: {\n", K);
        buf_puts(d, "            double *uv = vec(len, 0), *uv2 = vec(len, 0), *ujv = vec(len, 0), "
                    "*ug = vec(2, 0), *uxb = vec(n, 0);\n");
        char bars[64];
        snprintf(bars, sizeof bars, "%s", m->bars);
        /* the unrolled vjp stores into ug and uxb */
        buf_printf(d, "            u%d_%s(%s, uv);\n", K, N, m->args);
        buf_printf(d, "            u%d_%s_jvp(%s, %s, uv2, ujv);\n", K, N, m->args, m->dots);
        buf_printf(d, "            u%d_%s_vjp(%s, u, uv2, %s);\n", K, N, m->args,
                   strstr(m->args, "x,") ? "uxb, ug" : m->nscal == 1 ? "ug" : "ug, ug + 1");
        buf_puts(d, "            for (long i = 0; i < len; i++) {\n"
                    "                near(M, \"value\", n, i, v[i], uv[i], 1);\n"
                    "                near(M, \"jvp\", n, i, jv[i], ujv[i], big(ujv, len));\n"
                    "            }\n"
                    "            for (int j = 0; j < nscal; j++)\n"
                    "                near(M, \"vjp\", n, j, g[j], ug[j], big(ug, nscal));\n"
                    "            for (long i = 0; i < n; i++)\n"
                    "                near(M, \"vjp of x\", n, i, xb[i], uxb[i], big(uxb, n));\n"
                    "            free(uv);\n            free(uv2);\n            free(ujv);\n"
                    "            free(ug);\n            free(uxb);\n            break;\n        }\n");
    }
    buf_puts(d, "        default:\n"
                "            for (long i = 0; i < len; i++)\n"
                "                if (!isfinite(jv[i]) && n_fail++ < 30)\n"
                "                    printf(\"FAIL %s at n = %ld: jvp not finite\\n\", M, n);\n"
                "        }\n");
    buf_puts(d, "        free(p);\n        free(X);\n        free(Y);\n        free(x);\n"
                "        free(xd);\n        free(xb);\n        free(d);\n        free(g);\n"
                "        free(u);\n        free(v);\n        free(v2);\n        free(v3);\n"
                "        free(jv);\n");
    if (m->work)
        buf_puts(d, "        free(work);\n");
    buf_puts(d, "    }\n}\n\n");
}

/* Returned maps whose differentiated inputs are all arrays of run-time size: their jac-sparse,
 * with the pattern as code (NAME_jac_sparse_nnz, NAME_jac_sparse_pattern), against the
 * unrolled form's jac-sparse at the sizes of `sizes` (the same count, rows and columns, the
 * values to rounding, and the map's values to the bit), and at n = 0 and 1000 the matrix times
 * a direction against the kept jvp, all under ASan with every array exactly its size and the
 * work array exactly K_NAME_WORK(n). */
typedef struct {
    const char *name, *src;
    const char *inputs; /* C: the inputs at size n, one per line ("x = vec(n, 1)") */
    const char *args;   /* the inputs as arguments */
    const char *ndiff;  /* the differentiated scalars, a C expression of n */
    const char *nvals;  /* the values */
    const char *dirs;   /* the direction's arguments, from dd (ndiff values) */
} SparseMap;

static const SparseMap sparse_maps[] = {
    {"band2",
     "# two arrays, two values a step, each reading both arrays at i and i+1 (4 colours)\n"
     "band2(x[n], z[n]; t[n]) {\n"
     "    for i = 0..n-2 {\n"
     "        r[i][0] = x[i+1] - x[i] - 0.1*sin(z[i])*t[i]\n"
     "        r[i][1] = z[i+1] - z[i] + 0.1*x[i]*x[i+1]\n"
     "    }\n"
     "    return r\n"
     "}\n",
     "x = vec(n, 1), *z = vec(n, 2), *t = vec(n, 3)", "x, z, t", "2 * n",
     "n > 1 ? 2 * (n - 1) : 0", "dd, dd + n"},
    {"blk",
     "# a 2-D array: a block of two columns a value (2 colours)\n"
     "blk(X[n][2]; t[n]) {\n"
     "    for i = 0..n-1 {\n"
     "        r[i] = X[i][0]*X[i][1] - exp(t[i]*X[i][1])\n"
     "    }\n"
     "    return r\n"
     "}\n",
     "x = vec(2 * n, 1), *t = vec(n, 3)", "x, t", "2 * n", "n", "dd"},
};
enum { NSPARSE = sizeof sparse_maps / sizeof *sparse_maps };

/* sparse_NAME(n, unrolled) */
static void put_sparse_map(Buf *d, const SparseMap *m)
{
    const char *N = m->name;
    char upper[32];
    size_t k = 0;
    for (; N[k] && k + 1 < sizeof upper; k++)
        upper[k] = (char)(N[k] >= 'a' && N[k] <= 'z' ? N[k] - 'a' + 'A' : N[k]);
    upper[k] = '\0';
    buf_printf(d, "static void sparse_%s(long n, int unrolled)\n{\n", N);
    buf_printf(d, "    const char *M = \"%s jac-sparse\";\n    const long nd = %s, nv = %s;\n",
               N, m->ndiff, m->nvals);
    buf_printf(d, "    double *%s;\n", m->inputs);
    buf_printf(d, "    double *dd = vec(nd, 5), *out = vec(nv, 0), *v2 = vec(nv, 0), "
                  "*jv = vec(nv, 0), *work = vec((long)K_%s_WORK(n), 0);\n", upper);
    buf_printf(d, "    const long nnz = k_%s_jac_sparse_nnz(n);\n", N);
    buf_puts(d, "    long *row = malloc((size_t)(nnz > 0 ? nnz : 1) * sizeof *row);\n"
                "    long *col = malloc((size_t)(nnz > 0 ? nnz : 1) * sizeof *col);\n"
                "    double *jz = vec(nnz, 0), *Jd = vec(nv, 0);\n");
    buf_printf(d, "    k_%s_jac_sparse_pattern(n, row, col);\n", N);
    buf_printf(d, "    k_%s_jac_sparse(n, %s, out, jz, work);\n", N, m->args);
    buf_printf(d, "    k_%s_jvp(n, %s, %s, v2, jv);\n", N, m->args, m->dirs);
    buf_puts(d, "    for (long i = 0; i < nv; i++) {\n"
                "        bits(M, \"values\", n, i, out[i], v2[i]);\n        Jd[i] = 0;\n    }\n"
                "    for (long q = 0; q < nnz; q++) {\n"
                "        n_checks++;\n"
                "        if ((row[q] < 0 || row[q] >= nv || col[q] < 0 || col[q] >= nd || (q > 0 &&"
                " (row[q] < row[q - 1] || (row[q] == row[q - 1] && col[q] <= col[q - 1])))) &&\n"
                "            n_fail++ < 30)\n"
                "            printf(\"FAIL %s at n = %ld: entry %ld at (%ld, %ld)\\n\", M, n, q, "
                "row[q], col[q]);\n"
                "        else\n            Jd[row[q]] += jz[q] * dd[col[q]];\n    }\n"
                "    for (long i = 0; i < nv; i++)\n"
                "        near(M, \"J d = jvp\", n, i, Jd[i], jv[i], big(jv, nv));\n");
    buf_printf(d, "    long *cp = malloc((size_t)(nd + 1) * sizeof *cp);\n"
                  "    long *cr = malloc((size_t)(nnz > 0 ? nnz : 1) * sizeof *cr);\n"
                  "    double *cz = vec(nnz, 0), *cout = vec(nv, 0);\n"
                  "    near(M, \"compressed count\", n, 0, (double)c_%s_jac_sparse_nnz(n), "
                  "(double)nnz, 0);\n"
                  "    c_%s_jac_sparse_pattern(n, cp, cr);\n"
                  "    c_%s_jac_sparse(n, %s, cout, cz, work);\n"
                  "    csc_same(M, n, nd, nnz, row, col, jz, cp, cr, cz);\n"
                  "    for (long i = 0; i < nv; i++)\n"
                  "        bits(M, \"compressed columns' values\", n, i, cout[i], out[i]);\n"
                  "    free(cp);\n    free(cr);\n    free(cz);\n    free(cout);\n", N, N, N,
               m->args);
    buf_puts(d, "    switch (unrolled ? n : -1) {\n");
    for (int s = 0; s < NSIZES; s++) {
        int K = sizes[s];
        buf_printf(d, "    case %d: {\n        double *ujz = vec(U%d_%s_JAC_SPARSE_NNZ, 0), *uout = "
                      "vec(nv, 0);\n", K, K, upper);
        buf_printf(d, "        u%d_%s_jac_sparse(%s, uout, ujz);\n", K, N, m->args);
        buf_printf(d, "        near(M, \"count\", n, 0, (double)nnz, "
                      "(double)U%d_%s_JAC_SPARSE_NNZ, 0);\n", K, upper);
        buf_printf(d, "        for (long q = 0; q < nnz && nnz == U%d_%s_JAC_SPARSE_NNZ; q++) {\n"
                      "            near(M, \"row\", n, q, (double)row[q], "
                      "(double)u%d_%s_jac_sparse_row[q], 0);\n"
                      "            near(M, \"column\", n, q, (double)col[q], "
                      "(double)u%d_%s_jac_sparse_col[q], 0);\n"
                      "            near(M, \"entry\", n, q, jz[q], ujz[q], big(ujz, nnz));\n"
                      "        }\n", K, upper, K, N, K, N);
        buf_puts(d, "        for (long i = 0; i < nv; i++)\n"
                    "            near(M, \"unrolled values\", n, i, out[i], uout[i], 1);\n"
                    "        free(ujz);\n        free(uout);\n        break;\n    }\n");
    }
    buf_puts(d, "    default:\n        break;\n    }\n");
    for (const char *c = m->args; *c; c += strspn(c, ", ")) { /* the inputs */
        size_t len = strcspn(c, ",");
        buf_printf(d, "    free(%.*s);\n", (int)len, c);
        c += len;
    }
    buf_puts(d, "    free(dd);\n    free(out);\n    free(v2);\n    free(jv);\n    free(work);\n"
                "    free(row);\n    free(col);\n    free(jz);\n    free(Jd);\n}\n\n");
}

static char *build_and_run(void)
{
    runf(NULL, "mkdir -p " OUT);
    Buf d = {0}, main_body = {0}, files = {0};
    buf_puts(&d, driver_head);
    for (int i = 0; i < NMODELS; i++) {
        const Model *m = &models[i];
        char path[128], opt[256], stem[64];
        snprintf(path, sizeof path, OUT "/%s.expr", m->name);
        spit(path, m->src);
        int vec = m->nout > 1;
        snprintf(opt, sizeof opt, "--emit=jac,jac-sparse%s%s --prefix=k_ --name=%s",
                 vec ? ",jvp,vjp" : ",hess,hess-sparse", vec && m->ckp ? ",vjp-ckp" : "",
                 m->name);
        snprintf(stem, sizeof stem, "%s_k", m->name);
        adgen(m->name, opt, stem);
        buf_printf(&d, "#include \"%s.h\"\n", stem);
        buf_printf(&files, " %s.c", stem);
        snprintf(opt, sizeof opt, "--emit=jac-sparse%s --sparse=csc --prefix=c_ --name=%s",
                 vec ? "" : ",hess-sparse", m->name);
        snprintf(stem, sizeof stem, "%s_c", m->name);
        adgen(m->name, opt, stem);
        buf_printf(&d, "#include \"%s.h\"\n", stem);
        buf_printf(&files, " %s.c", stem);
        for (int s = 0; s < NSIZES; s++) {
            snprintf(opt, sizeof opt, "--emit=jac%s -D n=%d --prefix=u%d_", !vec ? ",hess" : "",
                     sizes[s], sizes[s]);
            snprintf(stem, sizeof stem, "%s_u%d", m->name, sizes[s]);
            adgen(m->name, opt, stem);
            buf_printf(&d, "#include \"%s.h\"\n", stem);
            buf_printf(&files, " %s.c", stem);
        }
        buf_puts(&d, "\n");
        put_model(&d, m);
        for (int s = 0; s < NSIZES; s++)
            buf_printf(&main_body, "    check_%s(%d, 1);\n", m->name, sizes[s]);
        buf_printf(&main_body, "    check_%s(0, 0);\n    check_%s(1000, 0);\n", m->name,
                   m->name);
    }
    for (int i = 0; i < NMAPS; i++) {
        const MapModel *m = &maps[i];
        char path[128], opt[128], stem[64];
        snprintf(path, sizeof path, OUT "/%s.expr", m->name);
        spit(path, m->src);
        snprintf(stem, sizeof stem, "%s_k", m->name);
        adgen(m->name, m->jac ? "--emit=jvp,vjp,jac,jac-sparse --prefix=k_" :
                                "--emit=jvp,vjp --prefix=k_", stem);
        buf_printf(&d, "#include \"%s.h\"\n", stem);
        buf_printf(&files, " %s.c", stem);
        if (m->jac) {
            snprintf(stem, sizeof stem, "%s_c", m->name);
            adgen(m->name, "--emit=jac-sparse --sparse=csc --prefix=c_", stem);
            buf_printf(&d, "#include \"%s.h\"\n", stem);
            buf_printf(&files, " %s.c", stem);
        }
        for (int s = 0; s < NSIZES; s++) {
            snprintf(opt, sizeof opt, "--emit=jvp,vjp -D n=%d --prefix=u%d_", sizes[s], sizes[s]);
            snprintf(stem, sizeof stem, "%s_u%d", m->name, sizes[s]);
            adgen(m->name, opt, stem);
            buf_printf(&d, "#include \"%s.h\"\n", stem);
            buf_printf(&files, " %s.c", stem);
        }
        buf_puts(&d, "\n");
        put_map(&d, m);
        for (int s = 0; s < NSIZES; s++)
            buf_printf(&main_body, "    check_%s(%d, 1);\n", m->name, sizes[s]);
        buf_printf(&main_body, "    check_%s(0, 0);\n    check_%s(1000, 0);\n", m->name,
                   m->name);
    }
    for (int i = 0; i < NSPARSE; i++) {
        const SparseMap *m = &sparse_maps[i];
        char path[128], opt[128], stem[64];
        snprintf(path, sizeof path, OUT "/%s.expr", m->name);
        spit(path, m->src);
        snprintf(stem, sizeof stem, "%s_k", m->name);
        adgen(m->name, "--emit=jvp,jac-sparse --prefix=k_", stem);
        buf_printf(&d, "#include \"%s.h\"\n", stem);
        buf_printf(&files, " %s.c", stem);
        snprintf(stem, sizeof stem, "%s_c", m->name);
        adgen(m->name, "--emit=jac-sparse --sparse=csc --prefix=c_", stem);
        buf_printf(&d, "#include \"%s.h\"\n", stem);
        buf_printf(&files, " %s.c", stem);
        for (int s = 0; s < NSIZES; s++) {
            snprintf(opt, sizeof opt, "--emit=jac-sparse -D n=%d --prefix=u%d_", sizes[s],
                     sizes[s]);
            snprintf(stem, sizeof stem, "%s_u%d", m->name, sizes[s]);
            adgen(m->name, opt, stem);
            buf_printf(&d, "#include \"%s.h\"\n", stem);
            buf_printf(&files, " %s.c", stem);
        }
        buf_puts(&d, "\n");
        put_sparse_map(&d, m);
        for (int s = 0; s < NSIZES; s++)
            buf_printf(&main_body, "    sparse_%s(%d, 1);\n", m->name, sizes[s]);
        buf_printf(&main_body, "    sparse_%s(0, 0);\n    sparse_%s(1000, 0);\n", m->name,
                   m->name);
    }
    buf_printf(&d, "int main(void)\n{\n%s    printf(\"checks %%ld failures %%ld\\n\", n_checks, "
                   "n_fail);\n    return n_fail != 0;\n}\n", main_body.data);
    spit(OUT "/driver.c", d.data);
    Buf cmd = {0};
    buf_printf(&cmd, "cd " OUT " && gcc " STRICT " -O0 " SAN " -o driver driver.c%s -lm 2>&1 && "
                     "clang " STRICT " -fsyntax-only%s 2>&1 && ./driver 2>&1", files.data,
               files.data);
    char *log = NULL;
    int rc = runf(&log, "%s", cmd.data);
    printf("%s", log ? log : "");
    if (rc != 0)
        fail_msg("the Jacobians through kept loops: status %d", rc);
    buf_free(&cmd);
    buf_free(&d);
    buf_free(&main_body);
    buf_free(&files);
    return log;
}

static void test_kept_jacobians_hessians_and_returned_maps(void **state)
{
    (void)state;
    char *log = build_and_run();
    long checks = count_after(log, "checks "), failures = count_after(log, "failures ");
    free(log);
    assert_int_equal(failures, 0);
    assert_true(checks > 300);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kept_jacobians_hessians_and_returned_maps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
