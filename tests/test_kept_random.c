/*
 * test_kept_random.c: random programs with loops kept at run time (tests/gen.h,
 * gen_kept_program: sums over 0..n-1 and 0..n-2 reading x[i], x[i+1] and values computed
 * outside, maps a sum reads, recurrences, products, calls of helpers over arrays of run-time
 * size, one returning a map, sums inside kept loops reading their values), each compiled twice: kept (n a parameter) and
 * unrolled (-D n=K, for K = 1, 2 and 5). A driver calls both at random points and directions
 * and checks, in C, that the value, the gradient, jvp, vjp and hvp agree to rounding: the
 * unrolled form is the independent route, the one the rest of the tests check against
 * finite differences and the interpreter. The generated C must compile warning-free with gcc
 * and clang at -std=c99 -pedantic -Werror, and with clang as C++. Then every kept entry point
 * runs under ASan and UBSan at n = 0, 1, 2 and 1000 with each array malloc'ed to exactly its
 * size (the work arrays to NAME_WORK's and NAME_WORK_CKP's).
 * ADGEN_KEPT_N programs (default 30) from seed ADGEN_KEPT_SEED (default 1).
 */
#include "testutil.h"

#include "coverage.h"
#include "gen.h"

#define OUT "build/tests/kept_random"
#define GCC "gcc -std=c99 -O0 -Wall -Wextra -pedantic -Werror"
#define CLANG "clang -std=c99 -Wall -Wextra -pedantic -Werror -fsyntax-only"
#define CLANGXX "clang++ -x c++ -Wall -Wextra -Werror -fsyntax-only"
#define SAN "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

static const int sizes[] = {1, 2, 5};
enum { NSIZES = sizeof sizes / sizeof *sizes };

/* The comparisons, shared by every program's driver. */
static const char driver_head[] =
    "#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\n"
    "static long n_checks, n_fail;\n"
    "/* a checkpointed variant against the stored one, a matrix's value against grad's: the\n"
    " * same bits, but for a NaN's sign, which C leaves to the order of the operands */\n"
    "static void bits(const char *what, int K, double got, double want)\n"
    "{\n"
    "    n_checks++;\n"
    "    if (memcmp(&got, &want, sizeof got) == 0 || (isnan(got) && isnan(want)))\n"
    "        return;\n"
    "    n_fail++;\n"
    "    printf(\"%s at n = %d: %.17g, expected %.17g\\n\", what, K, got, want);\n"
    "}\n"
    "static double scale;\n"
    "/* the value is NaN at this point (0/0 of the index, j/j at j = 0): its derivatives are\n"
    " * not compared, the unrolled form's modes disagree among themselves there (its jvp\n"
    " * folds a term to 0 that its grad multiplies by NaN) */\n"
    "static int nan_value;\n"
    "/* to rounding: relative to the larger value, or to the scale of the vector it is in\n"
    " * (terms summed in another order cancel differently); NaN and infinities must match */\n"
    "static void same(const char *what, int K, double kept, double unrolled)\n"
    "{\n"
    "    if (nan_value)\n"
    "        return;\n"
    "    n_checks++;\n"
    "    if (kept == unrolled || (isnan(kept) && isnan(unrolled)))\n"
    "        return;\n"
    "    double big = fabs(kept) > fabs(unrolled) ? fabs(kept) : fabs(unrolled);\n"
    "    if (isfinite(kept) && isfinite(unrolled) &&\n"
    "        fabs(kept - unrolled) <= 1e-9 * (big > scale ? big : scale))\n"
    "        return;\n"
    "    n_fail++;\n"
    "    printf(\"%s at n = %d: kept %.17g, unrolled %.17g\\n\", what, K, kept, unrolled);\n"
    "}\n"
    "static double mag(const double *v, int n)\n"
    "{\n"
    "    double m = 1;\n"
    "    for (int i = 0; i < n; i++)\n"
    "        if (isfinite(v[i]) && fabs(v[i]) > m)\n"
    "            m = fabs(v[i]);\n"
    "    return m;\n"
    "}\n"
    "static unsigned long rnd = 12345;\n"
    "static double draw(void)\n"
    "{\n"
    "    rnd = rnd * 6364136223846793005ul + 1442695040888963407ul;\n"
    "    return (double)(rnd >> 11) / 9007199254740992.0 * 2 - 1;\n"
    "}\n";

/* The checks at one size K: the kept entry points (prefix k_) against the unrolled ones
 * (prefix uK_). Arguments in the order of f(p[2], q, x[n]; y[n]) or f(p[2], q; x[n], y[n]). */
/* The width of W[n][nw] (GenKept.matrix) beside n = K: in the drivers against the unrolled
 * form, and under the sanitizers (0 at K = 1: rows of no element). */
static int matrix_width(int K, int san)
{
    return san ? (K == 1 ? 0 : 2) : K % 3 + 1;
}

/* With W[n][nw], the text a driver printed from `from` on, its calls given nw after n and W
 * after y, the work array's macros nw after n; W declared at the block's start (after the line
 * that declares K). */
static void put_matrix(Buf *d, size_t from, int K, int san)
{
    static const char *const edits[][2] = {
        {"(K, p, q", "(K, M, p, q"}, {", x, y", ", x, y, W"}, {"WORK(K", "WORK(K, M"},
        {"free(y)", "free(y), free(W)"}};
    Buf t = {0};
    buf_putn(&t, d->data + from, d->len - from);
    for (size_t e = 0; e < sizeof edits / sizeof *edits; e++) {
        Buf u = {0};
        buf_putn(&u, "", 0);
        for (const char *c = t.data, *hit; *c; c = hit + strlen(edits[e][0])) {
            hit = strstr(c, edits[e][0]);
            if (!hit) {
                buf_puts(&u, c);
                break;
            }
            buf_putn(&u, c, (size_t)(hit - c));
            buf_puts(&u, edits[e][1]);
        }
        buf_free(&t);
        t = u;
    }
    const char *line = strchr(t.data, '\n'), *nl = line ? strchr(line + 1, '\n') : NULL;
    size_t at = nl ? (size_t)(nl + 1 - t.data) : t.len;
    d->len = from;
    buf_putn(d, t.data, at);
    if (san)
        buf_printf(d, "        long M = %d;\n        double *W = get(K * M);\n",
                   matrix_width(K, 1));
    else
        buf_printf(d, "        enum { M = %d };\n        double W[K * M];\n"
                      "        for (int i = 0; i < K * M; i++)\n            W[i] = draw();\n",
                   matrix_width(K, 0));
    buf_putn(d, t.data + at, t.len - at);
    buf_free(&t);
}

static void put_size(Buf *d, int K, const GenKept *g)
{
    size_t from = d->len;
    const char *work = g->recurrence || g->step || g->matrix ? ", work" : "";
    buf_printf(d, "    {\n        enum { K = %d };\n        double work[%s];\n", K,
               g->recurrence || g->step || g->matrix || g->x_diff ? "K_F_WORK(K) + 1" : "1");
    buf_puts(d, "        double p[2] = {draw(), draw()}, q = draw(), x[K], y[K];\n"
                "        double pd[2] = {draw(), draw()}, qd = draw(), xd[K];\n"
                "        double gk[2 + 1 + K], gu[2 + 1 + K], hk[2 + 1 + K], hu[2 + 1 + K];\n"
                "        double ok, ou, u = 1.5 + draw();\n"
                "        for (int i = 0; i < K; i++) {\n"
                "            x[i] = draw();\n            y[i] = draw();\n"
                "            xd[i] = draw();\n        }\n");
    /* the value */
    /* a trajectory: every entry point takes the work array */
    const char *all = g->traj || g->step || g->matrix ? ", work" : "";
    buf_printf(d, "        scale = 1;\n        nan_value = 0;\n"
                  "        same(\"value\", K, k_f(K, p, q, x, y%s), u%d_f(p, q, x, y));\n"
                  "        nan_value = isnan(u%d_f(p, q, x, y));\n", all, K, K);
    /* the gradient: p_bar, q_bar, then x_bar when x is differentiated */
    const char *xb = g->x_diff ? ", gk + 3" : "", *xbu = g->x_diff ? ", gu + 3" : "";
    int ng = 3;
    buf_printf(d, "        double vk = k_f_grad(K, p, q, x, y, gk, gk + 2%s%s);\n", xb, work);
    buf_printf(d, "        double vu = u%d_f_grad(p, q, x, y, gu, gu + 2%s);\n", K, xbu);
    buf_printf(d, "        scale = mag(gu, %d%s);\n", ng, g->x_diff ? " + K" : "");
    buf_printf(d, "        same(\"grad's value\", K, vk, vu);\n"
                  "        for (int i = 0; i < %d%s; i++)\n"
                  "            same(\"grad\", K, gk[i], gu[i]);\n", ng, g->x_diff ? " + K" : "");
    /* the checkpointed gradient: grad's numbers to the bit, at every number of snapshots
     * up to past the steps */
    int ckp = g->recurrence && !g->second && !g->traj && !g->step && !g->matrix;
    for (int c = 0; ckp && c <= K + 1; c++) {
        buf_printf(d, "        {\n            double ck[K_F_WORK_CKP(K, %d)], gc[2 + 1 + K];\n", c);
        buf_printf(d, "            bits(\"grad-ckp's value\", K, k_f_grad_ckp(K, p, q, x, y, gc, "
                      "gc + 2%s, %d, ck), vk);\n", g->x_diff ? ", gc + 3" : "", c);
        buf_printf(d, "            for (int i = 0; i < %d%s; i++)\n"
                      "                bits(\"grad-ckp\", K, gc[i], gk[i]);\n        }\n", ng,
                   g->x_diff ? " + K" : "");
    }
    /* jvp along (pd, qd, xd) */
    const char *xdot = g->x_diff ? ", xd" : "";
    buf_printf(d, "        k_f_jvp(K, p, q, x, y, pd, qd%s, &ok%s);\n", xdot, all);
    buf_printf(d, "        u%d_f_jvp(p, q, x, y, pd, qd%s, &ou);\n", K, xdot);
    buf_puts(d, "        same(\"jvp\", K, ok, ou);\n");
    /* vjp with the cotangent u */
    buf_printf(d, "        k_f_vjp(K, p, q, x, y, u, gk, gk + 2%s%s);\n", xb, work);
    buf_printf(d, "        u%d_f_vjp(p, q, x, y, u, gu, gu + 2%s);\n", K, xbu);
    buf_printf(d, "        for (int i = 0; i < %d%s; i++)\n"
                  "            same(\"vjp\", K, gk[i], gu[i]);\n", ng, g->x_diff ? " + K" : "");
    for (int c = 0; ckp && c <= K + 1; c++) {
        buf_printf(d, "        {\n            double ck[K_F_WORK_CKP(K, %d)], bc[2 + 1 + K];\n", c);
        buf_printf(d, "            k_f_vjp_ckp(K, p, q, x, y, u, bc, bc + 2%s, %d, ck);\n",
                   g->x_diff ? ", bc + 3" : "", c);
        buf_printf(d, "            for (int i = 0; i < %d%s; i++)\n"
                      "                bits(\"vjp-ckp\", K, bc[i], gk[i]);\n        }\n", ng,
                   g->x_diff ? " + K" : "");
    }
    /* with x data, the Jacobian (one row) and the Hessian are jvp's and hvp's columns: each
     * against the unrolled jvp (hvp) along that unit direction (whose zeros, as jvp's, are
     * not strong: 0 times an infinite partial is NaN in both) */
    if (!g->x_diff) {
        buf_printf(d, "        {\n            double J[3], uJ, e[3];\n"
                      "            bits(\"jac's value\", K, k_f_jac(K, p, q, x, y, J%s), vk);\n"
                      "            for (int j = 0; j < 3; j++) {\n"
                      "                for (int i = 0; i < 3; i++)\n"
                      "                    e[i] = i == j;\n"
                      "                u%d_f_jvp(p, q, x, y, e, e[2], &uJ);\n"
                      "                scale = fabs(uJ) > 1 ? fabs(uJ) : 1;\n"
                      "                same(\"jac\", K, J[j], uJ);\n            }\n", all, K);
        /* jac-sparse by those columns: every entry, jac's bits */
        buf_printf(d, "            double Jz[K_F_JAC_SPARSE_NNZ];\n"
                      "            bits(\"jac-sparse's value\", K, k_f_jac_sparse(K, p, q, x, y, "
                      "Jz%s), vk);\n"
                      "            for (int k = 0; k < K_F_JAC_SPARSE_NNZ; k++)\n"
                      "                bits(\"jac-sparse\", K, Jz[k], J[k_f_jac_sparse_row[k] * 3 + "
                      "k_f_jac_sparse_col[k]]);\n        }\n", all);
    }
    if (!g->x_diff) {
        buf_printf(d, "        {\n            double H[9], uH[3], e[3];\n"
                      "            bits(\"hess's value\", K, k_f_hess(K, p, q, x, y, H%s), vk);\n"
                      "            for (int j = 0; j < 3; j++) {\n"
                      "                for (int i = 0; i < 3; i++)\n"
                      "                    e[i] = i == j;\n"
                      "                u%d_f_hvp(p, q, x, y, e, e[2], uH, uH + 2);\n"
                      "                scale = mag(uH, 3);\n"
                      "                for (int i = j; i < 3; i++)\n"
                      "                    same(\"hess\", K, H[i * 3 + j], uH[i]);\n"
                      "            }\n", work, K);
        buf_printf(d, "            double Hz[K_F_HESS_SPARSE_NNZ];\n"
                      "            bits(\"hess-sparse's value\", K, k_f_hess_sparse(K, p, q, x, y, "
                      "Hz%s), vk);\n"
                      "            for (int k = 0; k < K_F_HESS_SPARSE_NNZ; k++)\n"
                      "                bits(\"hess-sparse\", K, Hz[k], H[k_f_hess_sparse_row[k] * 3 + "
                      "k_f_hess_sparse_col[k]]);\n        }\n", work);
    }
    if (g->x_diff) { /* dense, K + 3 columns of jvp and hvp, their directions in work */
        buf_printf(d, "        {\n            double J[3 + K], H[(3 + K) * (3 + K)], uJ, uH[3 + K], "
                      "e[3 + K];\n"
                      "            bits(\"jac's value\", K, k_f_jac(K, p, q, x, y, J, work), vk);\n"
                      "            bits(\"hess's value\", K, k_f_hess(K, p, q, x, y, H, work), vk);\n"
                      "            for (int j = 0; j < 3 + K; j++) {\n"
                      "                for (int i = 0; i < 3 + K; i++)\n"
                      "                    e[i] = i == j;\n"
                      "                u%d_f_jvp(p, q, x, y, e, e[2], e + 3, &uJ);\n"
                      "                scale = fabs(uJ) > 1 ? fabs(uJ) : 1;\n"
                      "                same(\"jac\", K, J[j], uJ);\n"
                      "                u%d_f_hvp(p, q, x, y, e, e[2], e + 3, uH, uH + 2, uH + 3);\n"
                      "                scale = mag(uH, 3 + K);\n"
                      "                for (int i = j; i < 3 + K; i++) {\n"
                      "                    same(\"hess\", K, H[i * (3 + K) + j], uH[i]);\n"
                      "                    bits(\"hess symmetric\", K, H[j * (3 + K) + i], "
                      "H[i * (3 + K) + j]);\n"
                      "                }\n            }\n        }\n", K, K);
    }
    { /* a recurrence's hvp stores its steps in the work array */
        const char *xh = g->x_diff ? ", hk + 3" : "", *xhu = g->x_diff ? ", hu + 3" : "";
        buf_printf(d, "        k_f_hvp(K, p, q, x, y, pd, qd%s, hk, hk + 2%s%s);\n", xdot, xh,
                   work);
        buf_printf(d, "        u%d_f_hvp(p, q, x, y, pd, qd%s, hu, hu + 2%s);\n", K, xdot, xhu);
        buf_printf(d, "        scale = mag(hu, %d%s);\n", ng, g->x_diff ? " + K" : "");
        buf_printf(d, "        for (int i = 0; i < %d%s; i++)\n"
                      "            same(\"hvp\", K, hk[i], hu[i]);\n", ng,
                   g->x_diff ? " + K" : "");
    }
    buf_puts(d, "        (void)work;\n        (void)hk;\n        (void)hu;\n        (void)xd;\n    }\n");
    if (g->matrix)
        put_matrix(d, from, K, 0);
}

/* The kept entry points at size K under ASan and UBSan (san.c), every array malloc'ed to its
 * exact size (none at K = 0, the work array NAME_WORK's or NAME_WORK_CKP's): what they read
 * and write must stay inside. */
static void put_san_size(Buf *d, int K, const GenKept *g)
{
    size_t from = d->len;
    const char *work = g->recurrence || g->step || g->matrix ? ", work" : "";
    const char *all = g->traj || g->step || g->matrix ? ", work" : "";
    buf_printf(d, "    {\n        long K = %d;\n", K);
    buf_printf(d, "        double *work = get(%s), *p = get(2), *q = get(1), *x = get(K), "
                  "*y = get(K);\n", g->recurrence || g->step || g->matrix ? "K_F_WORK(K)" : "0");
    buf_puts(d, "        double *pd = get(2), *xd = get(K), *gp = get(2), *gq = get(1), "
                "*gx = get(K);\n        double v = k_f(K, p, q[0], x, y");
    buf_printf(d, "%s);\n", all);
    const char *xb = g->x_diff ? ", gx" : "", *xdot = g->x_diff ? ", xd" : "";
    buf_printf(d, "        v += k_f_grad(K, p, q[0], x, y, gp, gq%s%s);\n", xb, work);
    buf_printf(d, "        k_f_jvp(K, p, q[0], x, y, pd, 0.5%s, &v%s);\n", xdot, all);
    buf_printf(d, "        k_f_vjp(K, p, q[0], x, y, 1.5, gp, gq%s%s);\n", xb, work);
    buf_printf(d, "        k_f_hvp(K, p, q[0], x, y, pd, 0.5%s, gp, gq%s%s);\n", xdot, xb, work);
    if (g->recurrence && !g->second && !g->traj && !g->step && !g->matrix)
        for (int c = 1; c <= 3; c += 2) {
            buf_printf(d, "        double *ck%d = get(K_F_WORK_CKP(K, %d));\n", c, c);
            buf_printf(d, "        v += k_f_grad_ckp(K, p, q[0], x, y, gp, gq%s, %d, ck%d);\n",
                       xb, c, c);
            buf_printf(d, "        k_f_vjp_ckp(K, p, q[0], x, y, 1.5, gp, gq%s, %d, ck%d);\n"
                          "        free(ck%d);\n", xb, c, c, c);
        }
    if (!g->x_diff) {
        buf_printf(d, "        double *J = get(3);\n        v += k_f_jac(K, p, q[0], x, y, J%s);\n",
                   all);
        buf_printf(d, "        double *H = get(9);\n        v += k_f_hess(K, p, q[0], x, y, "
                      "H%s);\n        free(H);\n", work);
        buf_puts(d, "        free(J);\n");
    }
    buf_puts(d, "        sink += v;\n        free(work), free(p), free(q), free(x), free(y);\n"
                "        free(pd), free(xd), free(gp), free(gq), free(gx);\n    }\n");
    if (g->matrix)
        put_matrix(d, from, K, 1);
}

/* One program: adgen kept and unrolled, the driver, compiled and run. Returns the driver's
 * output (malloc'ed); fails the test on any error. */
static char *check_program(uint64_t seed)
{
    Buf text = {0}, drv = {0};
    GenKept g;
    gen_kept_program(&text, seed, &g);
    char dir[128], *log = NULL;
    snprintf(dir, sizeof dir, OUT "/%llu", (unsigned long long)seed);
    assert_int_equal(runf(NULL, "mkdir -p %s", dir), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/f.expr", dir);
    spit(path, text.data);
    char modes[128];
    snprintf(modes, sizeof modes, "grad,jvp,vjp,hvp,jac,hess%s",
             g.x_diff ? "" : ",jac-sparse,hess-sparse");
    if (g.recurrence && !g.second && !g.traj && !g.step && !g.matrix)
        strcat(modes, ",grad-ckp,vjp-ckp");
    const char *umodes = "grad,jvp,vjp,hvp";
    int rc = runf(&log, "cd %s && \"${ADGEN:-../../../../adgen}\" --emit=%s --prefix=k_ f.expr "
                        "-o k.c --header k.h 2>&1", dir, modes);
    if (rc != 0)
        fail_msg("adgen (kept) on seed %llu: status %d\n%s\n%s", (unsigned long long)seed, rc,
                 log, text.data);
    free(log);
    buf_puts(&drv, driver_head);
    buf_puts(&drv, "#include \"k.h\"\n");
    Buf files = {0};
    buf_puts(&files, "k.c");
    for (int s = 0; s < NSIZES; s++) {
        char width[32] = ""; /* W[n][nw]: both sizes given */
        if (g.matrix)
            snprintf(width, sizeof width, " -D nw=%d", matrix_width(sizes[s], 0));
        rc = runf(&log, "cd %s && \"${ADGEN:-../../../../adgen}\" -D n=%d%s --emit=%s "
                        "--prefix=u%d_ f.expr -o u%d.c --header u%d.h 2>&1", dir, sizes[s],
                  width, umodes, sizes[s], sizes[s], sizes[s]);
        if (rc != 0)
            fail_msg("adgen -D n=%d on seed %llu: status %d\n%s", sizes[s],
                     (unsigned long long)seed, rc, log);
        free(log);
        buf_printf(&drv, "#include \"u%d.h\"\n", sizes[s]);
        buf_printf(&files, " u%d.c", sizes[s]);
    }
    buf_puts(&drv, "\nint main(void)\n{\n    (void)bits; /* read where there is a recurrence */\n");
    for (int s = 0; s < NSIZES; s++)
        put_size(&drv, sizes[s], &g);
    buf_puts(&drv, "    printf(\"checks %ld failures %ld\\n\", n_checks, n_fail);\n"
                   "    return n_fail != 0;\n}\n");
    snprintf(path, sizeof path, "%s/main.c", dir);
    spit(path, drv.data);
    Buf san = {0};
    buf_puts(&san, "#include <stdlib.h>\n#include \"k.h\"\n\nstatic volatile double sink;\n"
                   "static unsigned long rnd = 99;\n"
                   "/* n values, exactly: nothing past them is the array's */\n"
                   "static double *get(long n)\n{\n"
                   "    double *v = malloc((size_t)n * sizeof *v);\n"
                   "    for (long i = 0; i < n; i++) {\n"
                   "        rnd = rnd * 6364136223846793005ul + 1442695040888963407ul;\n"
                   "        v[i] = (double)(rnd >> 11) / 9007199254740992.0 * 2 - 1;\n    }\n"
                   "    return v;\n}\n\nint main(void)\n{\n");
    static const int san_sizes[] = {0, 1, 2, 1000};
    for (int s = 0; s < 4; s++)
        put_san_size(&san, san_sizes[s], &g);
    buf_puts(&san, "    return 0;\n}\n");
    char san_path[256];
    snprintf(san_path, sizeof san_path, "%s/san.c", dir);
    spit(san_path, san.data);
    buf_free(&san);
    /* what adgen and the driver wrote; the second pass of make test has the first's bytes and
     * does not build them again */
    char names[2 + 2 * NSIZES][160];
    const char *inputs[2 + 2 * NSIZES + 3] = {path, san_path}, *made[] = {NULL};
    int ni = 2;
    snprintf(names[0], sizeof names[0], "%s/k.c", dir);
    snprintf(names[1], sizeof names[1], "%s/k.h", dir);
    for (int s = 0; s < NSIZES; s++) {
        snprintf(names[2 + 2 * s], sizeof names[0], "%s/u%d.c", dir, sizes[s]);
        snprintf(names[3 + 2 * s], sizeof names[0], "%s/u%d.h", dir, sizes[s]);
    }
    for (int i = 0; i < 2 + 2 * NSIZES; i++)
        inputs[ni++] = names[i];
    Buf cmd = {0};
    buf_printf(&cmd, "cd %s && " GCC " -o main main.c %s -lm 2>&1 && " CLANG " k.c 2>&1 && "
                     CLANGXX " k.c 2>&1 && " GCC " " SAN " -o san san.c k.c -lm 2>&1 && ./san "
                     "2>&1 && ./main 2>&1", dir, files.data);
    rc = run_cached(&log, cmd.data, inputs, made);
    buf_free(&cmd);
    if (rc != 0)
        fail_msg("seed %llu: status %d\n%s\n%s", (unsigned long long)seed, rc, log, text.data);
    buf_free(&text);
    buf_free(&drv);
    buf_free(&files);
    return log;
}

static unsigned long env_or(const char *name, unsigned long dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtoul(v, NULL, 10) : dflt;
}

/* The number of checks a driver's log reports ("checks N failures 0"). */
static long log_checks(const char *log)
{
    long got = -1;
    assert_int_equal(sscanf(strstr(log, "checks ") ? strstr(log, "checks ") : "", "checks %ld",
                            &got), 1);
    return got;
}

/* Adds what program `text` drew to cv: it is compiled in memory with the kept modes. */
static void count_program(Coverage *cv, const char *text)
{
    Unit u = {.opt.emit = EMIT_FITTING | ENTRIES_KEPT};
    FILE *quiet = fopen("/dev/null", "w");
    assert_int_equal(unit_compile(&u, "f.expr", text, strlen(text), "f", quiet), 0);
    fclose(quiet);
    coverage_count(cv, text, &u.prog);
    unit_free(&u);
}

static void test_kept_random_programs(void **state)
{
    (void)state;
    unsigned long n = env_or("ADGEN_KEPT_N", 30), seed = env_or("ADGEN_KEPT_SEED", 1);
    long checks = 0, recurrences = 0, diff_x = 0, seconds = 0, trajs = 0;
    Coverage cv = {.generator = "gen_kept_program"};
    for (unsigned long i = 0; i < n; i++) {
        GenKept g;
        Buf probe = {0};
        gen_kept_program(&probe, seed + i, &g);
        count_program(&cv, probe.data);
        buf_free(&probe);
        recurrences += g.recurrence;
        seconds += g.second;
        trajs += g.traj;
        diff_x += g.x_diff;
        char *log = check_program(seed + i);
        checks += log_checks(log);
        free(log);
    }
    printf("%lu programs (%ld with a recurrence, %ld with two, %ld reading a trajectory, %ld "
           "with x differentiated), %ld checks, 0 failures\n", n, recurrences, seconds, trajs,
           diff_x, checks);
    assert_true(checks > (long)n * 30);
    static const int drawn[] = {CV_ARRAY, CV_DATA, CV_SUM, CV_FOR, CV_ITER_SCALAR, CV_IF,
                                CV_KEPT_SUM, CV_REC_KEPT, CV_REC_READS_OUTSIDE, CV_STATES2,
                                CV_CAPTURE, CV_RUNTIME_SIZE, CV_TRAJECTORY, CV_REC_HVP,
                                CV_REC_DATA, CV_KEPT_PROD, CV_CALL_RUNTIME, CV_CALL_MAP,
                                CV_ITER_VECTOR_CALL, CV_KEPT_READS_KEPT, CV_HOIST_LOCAL,
                                CV_MAP_TWICE, CV_DIRECTIONS, CV_PER_STEP, CV_MOVING,
                                CV_OUTER_STEP, CV_TWO_SIZES, CV_HOSTED, CV_COLUMNS,
                                CV_DEAD_STATE, CV_STATE_FIRST};
    /* the sparse matrices of run-time size are the banded generator's (below) */
    coverage_want(&cv, drawn, sizeof drawn / sizeof *drawn, 0,
                  ENTRIES_KEPT & ~(1u | 1u << ENTRY_JAC_SPARSE | 1u << ENTRY_HESS_SPARSE));
    int low = coverage_report(&cv, stdout);
    /* too few programs to tell a rare construct from a missing one: from 200 on */
    if (low && n >= 200)
        fail_msg("%d constructs gen_kept_program is meant to draw came in under 2%% of "
                 "programs", low);
}

/* ---- banded patterns of run-time size (hess-sparse, jac-sparse) ---------------------------- */

static const int band_sizes[] = {2, 3, 5};

/* The driver of one banded program (gen_band_program): at n = 2, 3 and 5 the kept sparse
 * entry point's count, rows, columns and values against the unrolled form's (-D n=K), and at
 * n = 0, 1, 2, 3, 5 and 1000 the matrix it gives times a random direction against the kept
 * hvp (jvp), with every array malloc'ed to exactly its size (work to K_F_WORK(n)). */
static void put_band_driver(Buf *d, int map, int two, int arrow, int csc)
{
    /* with Z[n][2]: its elements after x's, its direction and product after x's; with q
     * differentiated (the arrow), its element last */
    static const char *const all_args[2][2] = {{"x, p, q, y", "x, Z, p, q, y"},
                                               {"x, q, p, y", "x, Z, q, p, y"}};
    static const char *const all_dirs[2][2] = {{"dd", "dd, dd + n"},
                                               {"dd, dd[n]", "dd, dd + n, dd[3 * n]"}};
    static const char *const all_hv[2][2] = {{"prod", "prod, prod + n"},
                                             {"prod, prod + n", "prod, prod + n, prod + 3 * n"}};
    const char *args = all_args[arrow][two], *dirs = all_dirs[arrow][two];
    const char *kind = map ? "jac_sparse" : "hess_sparse", *KIND = map ? "JAC_SPARSE" :
                                                                          "HESS_SPARSE";
    buf_puts(d, driver_head);
    buf_puts(d, csc ? "#include \"k.h\"\n#include \"c.h\"\n" : "#include \"k.h\"\n");
    for (size_t s = 0; s < sizeof band_sizes / sizeof *band_sizes; s++)
        buf_printf(d, "#include \"u%d.h\"\n", band_sizes[s]);
    buf_puts(d, "static double *vec(long len)\n{\n"
                "    double *v = malloc((size_t)(len > 0 ? len : 1) * sizeof *v);\n"
                "    if (!v)\n        exit(2);\n"
                "    for (long i = 0; i < len; i++)\n        v[i] = draw();\n    return v;\n}\n"
                "int main(void)\n{\n"
                "    static const long ns[] = {2, 3, 5, 0, 1, 1000};\n"
                "    (void)bits;\n"
                "    for (int s = 0; s < 6; s++) {\n"
                "        const long n = ns[s];\n");
    buf_printf(d, "        const long nd = %s%s, nv = %s, nnz = k_f_%s_nnz(n);\n",
               two ? "3 * n" : "n", arrow ? " + 1" : "", map ? "n > 1 ? 2 * (n - 1) : 0" : "nd",
               kind);
    buf_printf(d, "        double *x = vec(n), *Z = vec(%s), *p = vec(2), q = draw(), *y = vec(n);\n"
                  "        double *dd = vec(nd);\n"
                  "        (void)Z;\n", two ? "2 * n" : "0");
    buf_printf(d, ""
                  "        double *work = vec((long)K_F_WORK(n)), *nz = vec(nnz), *out = vec(nv);\n"
                  "        double *prod = vec(nv), *md = vec(nv), *o2 = vec(nv), *odd = vec(nv);\n"
                  "        long *row = malloc((size_t)(nnz > 0 ? nnz : 1) * sizeof *row);\n"
                  "        long *col = malloc((size_t)(nnz > 0 ? nnz : 1) * sizeof *col);\n"
                  "        k_f_%s_pattern(n, row, col);\n", kind);
    if (map)
        buf_printf(d, "        k_f_jac_sparse(n, %s, out, nz, work);\n"
                      "        k_f_jvp(n, %s, %s, o2, prod);\n", args, args, dirs);
    else
        buf_printf(d, "        double v1 = k_f_hess_sparse(n, %s, nz, work);\n"
                      "        double v2 = k_f_hvp(n, %s, %s, %s);\n"
                      "        same(\"hess-sparse's value\", (int)n, v1, v2);\n", args, args,
                   dirs, all_hv[arrow][two]);
    buf_printf(d, "        for (long i = 0; i < nv; i++)\n            md[i] = odd[i] = 0;\n"
                  "        for (long k = 0; k < nnz; k++) {\n"
                  "            n_checks++;\n"
                  "            if (row[k] < 0 || row[k] >= nv || col[k] < 0 || col[k] >= nd || "
                  "%s(k > 0 && (row[k] < row[k - 1] || (row[k] == row[k - 1] && col[k] <= "
                  "col[k - 1])))) {\n"
                  "                n_fail++;\n"
                  "                printf(\"entry %%ld at (%%ld, %%ld), n = %%ld\\n\", k, row[k], "
                  "col[k], n);\n                continue;\n            }\n"
                  "            md[row[k]] += nz[k] * dd[col[k]];\n"
                  "            if (!isfinite(nz[k]))\n                odd[row[k]] = 1;\n", map ? "" :
               "row[k] < col[k] || ");
    if (!map)
        buf_puts(d, "            if (row[k] != col[k])\n"
                    "                md[col[k]] += nz[k] * dd[row[k]];\n"
                    "            if (!isfinite(nz[k]))\n                odd[col[k]] = 1;\n");
    /* a row meeting an entry that is not a number (a domain edge) is not compared: NaN in one
     * entry reaches the row of its column in the sum, where the product may have none */
    buf_puts(d, "        }\n        scale = mag(prod, (int)nv);\n"
                "        for (long i = 0; i < nv; i++)\n"
                "            if (!odd[i])\n"
                "                same(\"the matrix times d against the product\", (int)n, md[i], "
                "prod[i]);\n");
    if (map)
        buf_puts(d, "        for (long i = 0; i < nv; i++)\n"
                    "            same(\"the values\", (int)n, out[i], o2[i]);\n");
    /* by columns (--sparse=csc): each column's rows ascending, the triplets' numbers (a
     * Jacobian's to the bit; a Hessian's to rounding: an entry below the diagonal comes from
     * the product of its row's colour, not its column's, H's other half), but where its row
     * or column meets an entry that is not a number (which the two halves' products spread
     * to different entries: 0 times NaN) */
    if (csc)
        buf_printf(d, "        {\n            scale = mag(nz, (int)nnz);\n"
                      "            long *cp = malloc((size_t)(nd + 1) * sizeof *cp), *rs = "
                      "malloc((size_t)(nv + 1) * sizeof *rs);\n"
                      "            long *cr = malloc((size_t)(nnz > 0 ? nnz : 1) * sizeof *cr);\n"
                      "            double *cz = vec(nnz), *cw = vec((long)C_F_WORK(n)), *o3 = "
                      "vec(nv);\n"
                      "            c_f_%s_pattern(n, cp, cr);\n", kind);
    if (csc && map)
        buf_printf(d, "            c_f_jac_sparse(n, %s, o3, cz, cw);\n"
                      "            for (long i = 0; i < nv; i++)\n"
                      "                bits(\"csc's values\", (int)n, o3[i], out[i]);\n", args);
    else if (csc)
        buf_printf(d, "            bits(\"csc's value\", (int)n, c_f_hess_sparse(n, %s, cz, cw), "
                      "v1);\n", args);
    if (csc)
        buf_printf(d, "            n_checks++;\n"
                    "            if (cp[0] != 0 || cp[nd] != nnz)\n"
                    "                n_fail++, printf(\"csc: colptr ends %%ld %%ld, n = %%ld\\n\", "
                    "cp[0], cp[nd], n);\n"
                    "            for (long i = 0, k = 0; i <= nv; i++) /* the triplets' rows */\n"
                    "                for (rs[i] = k; k < nnz && row[k] == i; k++)\n"
                    "                    ;\n"
                    "            for (long j = 0; j < nd && cp[nd] == nnz; j++)\n"
                    "                for (long q = cp[j]; q < cp[j + 1]; q++) {\n"
                    "                    long k = cr[q] >= %s && cr[q] < nv ? rs[cr[q]] : nnz;\n"
                    "                    while (k < nnz && row[k] == cr[q] && col[k] != j)\n"
                    "                        k++;\n"
                    "                    n_checks++;\n"
                    "                    if (k == nnz || row[k] != cr[q] || (q > cp[j] && cr[q] "
                    "<= cr[q - 1])) {\n"
                    "                        n_fail++;\n"
                    "                        printf(\"csc: (%%ld, %%ld) at %%ld, n = %%ld\\n\", "
                    "cr[q], j, q, n);\n"
                    "                    } else %s {\n"
                    "                        %s(\"csc\", (int)n, cz[q], nz[k]);\n"
                    "                    }\n                }\n"
                    "            free(cp);\n            free(rs);\n            free(cr);\n"
                    "            free(cz);\n            free(cw);\n            free(o3);\n"
                    "        }\n", map ? "0" : "j", map ? "" : "if (!odd[cr[q]] && !odd[j])",
                   map ? "bits" : "same");
    buf_puts(d, "        switch (n) {\n");
    for (size_t s = 0; s < sizeof band_sizes / sizeof *band_sizes; s++) {
        int K = band_sizes[s];
        buf_printf(d, "        case %d: {\n            double *unz = vec(U%d_F_%s_NNZ);\n", K, K,
                   KIND);
        if (map)
            buf_printf(d, "            u%d_f_jac_sparse(%s, o2, unz);\n", K, args);
        else
            buf_printf(d, "            u%d_f_hess_sparse(%s, unz);\n", K, args);
        char colodd[64] = ""; /* a Hessian's entry is in its column's row too */
        if (!map)
            snprintf(colodd, sizeof colodd, "odd[u%d_f_%s_col[k]] = ", K, kind);
        const char *odd = map ? "odd[row[k]]" : "(odd[row[k]] || odd[col[k]])";
        /* the rows where an unrolled entry is not a number: there the product along a colour
         * carries it into the row's other entries of that colour (0 times NaN), where the
         * unrolled sweeps, which know which inputs they carry, have numbers. The kept pattern
         * holds the unrolled one, in the same order; an entry more is an explicit zero (a term
         * that cancels, x - x, folds to 0 in the unrolled sweeps' constant seeds but not in
         * the iteration's, which are the direction's). */
        buf_printf(d, "            scale = mag(unz, U%d_F_%s_NNZ);\n"
                      "            for (long i = 0; i < nv; i++)\n                odd[i] = 0;\n"
                      "            for (long k = 0; k < U%d_F_%s_NNZ; k++)\n"
                      "                if (!isfinite(unz[k]))\n"
                      "                    odd[u%d_f_%s_row[k]] = %s1;\n"
                      "            long u = 0;\n"
                      "            for (long k = 0; k < nnz; k++) {\n"
                      "                if (u < U%d_F_%s_NNZ && row[k] == u%d_f_%s_row[u] && "
                      "col[k] == u%d_f_%s_col[u]) {\n"
                      "                    if (!%s)\n"
                      "                        same(\"an entry\", %d, nz[k], unz[u]);\n"
                      "                    u++;\n"
                      "                } else if (!%s) {\n"
                      "                    same(\"an entry beyond the unrolled pattern\", %d, "
                      "nz[k], 0);\n"
                      "                }\n            }\n"
                      "            same(\"the unrolled entries found\", %d, (double)u, "
                      "(double)U%d_F_%s_NNZ);\n"
                      "            free(unz);\n            break;\n        }\n",
                   K, KIND, K, KIND, K, kind, colodd, K, KIND, K, kind, K, kind, odd, K, odd, K, K,
                   K, KIND);
    }
    buf_puts(d, "        default:\n            break;\n        }\n"
                "        free(x);\n        free(Z);\n        free(p);\n        free(y);\n"
                "        free(dd);\n"
                "        free(work);\n        free(nz);\n        free(out);\n        free(prod);\n"
                "        free(md);\n        free(o2);\n        free(odd);\n        free(row);\n"
                "        free(col);\n"
                "    }\n"
                "    printf(\"checks %ld failures %ld\\n\", n_checks, n_fail);\n"
                "    return n_fail != 0;\n}\n");
}

/* One banded program: generated, kept and unrolled, its driver compiled by gcc under ASan and
 * UBSan (and the kept code by clang) and run; its log. */
static char *check_band_program(uint64_t seed)
{
    Buf text = {0}, d = {0};
    int map, two, arrow;
    gen_band_program(&text, seed, &map, &two, &arrow);
    spit(OUT "/band/f.expr", text.data);
    char *out = NULL;
    int rc = runf(&out, "cd " OUT "/band && " "\"${ADGEN:-../../../../adgen}\""
                        " --emit=%s --prefix=k_ f.expr -o k.c --header k.h 2>&1",
                  map ? "jvp,jac-sparse" : "hvp,hess-sparse");
    if (rc != 0)
        fail_msg("seed %llu: adgen: status %d\n%s\n%s", (unsigned long long)seed, rc, out,
                 text.data);
    free(out);
    Buf units = {0};
    buf_puts(&units, " k.c");
    /* by columns; a map whose values read an array both ways has no such pattern */
    rc = runf(&out, "cd " OUT "/band && " "\"${ADGEN:-../../../../adgen}\""
                    " --emit=%s --sparse=csc --prefix=c_ f.expr -o c.c --header c.h 2>&1",
              map ? "jac-sparse" : "hess-sparse");
    int csc = rc == 0;
    if (rc != 0 && !(map && rc == 1 && strstr(out, "move apart with the step")))
        fail_msg("seed %llu: adgen --sparse=csc: status %d\n%s\n%s", (unsigned long long)seed,
                 rc, out, text.data);
    free(out);
    if (csc)
        buf_puts(&units, " c.c");
    for (size_t s = 0; s < sizeof band_sizes / sizeof *band_sizes; s++) {
        int K = band_sizes[s];
        rc = runf(&out, "cd " OUT "/band && " "\"${ADGEN:-../../../../adgen}\"" " --emit=%s -D n=%d "
                        "--prefix=u%d_ f.expr -o u%d.c --header u%d.h 2>&1",
                  map ? "jac-sparse" : "hess-sparse", K, K, K, K);
        if (rc != 0)
            fail_msg("seed %llu: adgen -D n=%d: status %d\n%s\n%s", (unsigned long long)seed, K,
                     rc, out, text.data);
        free(out);
        buf_printf(&units, " u%d.c", K);
    }
    put_band_driver(&d, map, two, arrow, csc);
    spit(OUT "/band/driver.c", d.data);
    rc = runf(&out, "cd " OUT "/band && " GCC " " SAN " -o driver driver.c%s -lm 2>&1 && "
                    CLANG " k.c 2>&1 && ./driver 2>&1", units.data);
    if (rc != 0)
        fail_msg("seed %llu: status %d\n%s\n%s", (unsigned long long)seed, rc, out, text.data);
    buf_free(&text);
    buf_free(&d);
    buf_free(&units);
    return out;
}

static void test_kept_random_sparse(void **state)
{
    (void)state;
    unsigned long n = env_or("ADGEN_SPARSE_N", 20), seed = env_or("ADGEN_KEPT_SEED", 1);
    long checks = 0, maps = 0, twos = 0, arrows = 0, rows = 0, terms = 0, by_columns = 0;
    Coverage cv = {.generator = "gen_band_program"};
    runf(NULL, "mkdir -p " OUT "/band");
    for (unsigned long i = 0; i < n; i++) {
        Buf probe = {0};
        int map, two, arrow;
        gen_band_program(&probe, seed + i, &map, &two, &arrow);
        count_program(&cv, probe.data);
        buf_free(&probe);
        maps += map;
        twos += two;
        arrows += arrow;
        char *log = check_band_program(seed + i);
        checks += log_checks(log);
        free(log);
        /* hess-sparse by the terms' own Hessians: row by row (the triplets), into the
         * products along the colours (--sparse=csc), not by Hessian-vector products */
        rows += runf(NULL, "grep -q ' value\\[' " OUT "/band/k.c") == 0;
        terms += !map && runf(NULL, "grep -q 'second derivatives of the sum' " OUT
                                    "/band/c.c") == 0;
        by_columns += map && runf(NULL, "grep -q c_f_jac_sparse_pattern " OUT
                                        "/band/driver.c") == 0;
    }
    printf("%lu banded programs (%ld returned maps: jac-sparse, %ld also by columns; the "
           "others hess-sparse, %ld of "
           "them by the terms' Hessians row by row, %ld into products under --sparse=csc; %ld "
           "with Z[n][2] beside x[n]; %ld with q differentiated beside them: an arrow, a dense "
           "column), %ld checks, 0 failures\n", n, maps, by_columns, rows, terms, twos, arrows,
           checks);
    assert_true(checks > (long)n * 20);
    assert_true(n < 20 || (rows > 0 && terms > 0 && by_columns > 0));
    static const int drawn[] = {CV_ARRAY, CV_DATA, CV_SUM, CV_FOR, CV_KEPT_SUM, CV_CAPTURE,
                                CV_RUNTIME_SIZE};
    coverage_want(&cv, drawn, sizeof drawn / sizeof *drawn, 0,
                  1u << ENTRY_JAC_SPARSE | 1u << ENTRY_HESS_SPARSE);
    int low = coverage_report(&cv, stdout);
    if (low && n >= 200)
        fail_msg("%d constructs gen_band_program is meant to draw came in under 2%% of "
                 "programs", low);
}

/* The generator is deterministic: a seed gives the same text. */
static void test_kept_generator_is_reproducible(void **state)
{
    (void)state;
    Buf a = {0}, b = {0};
    GenKept ga, gb;
    gen_kept_program(&a, 77, &ga);
    gen_kept_program(&b, 77, &gb);
    assert_string_equal(a.data, b.data);
    assert_int_equal(ga.recurrence, gb.recurrence);
    buf_free(&a);
    buf_free(&b);
}

static int setup(void **state)
{
    (void)state;
    if (!exists_adgen() || run_command("command -v gcc >/dev/null && command -v clang "
                                       ">/dev/null && command -v clang++ >/dev/null",
                                       NULL) != 0) {
        fprintf(stderr, "test_kept_random: needs adgen (make), gcc, clang and clang++\n");
        return -1;
    }
    return runf(NULL, "mkdir -p " OUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kept_generator_is_reproducible),
        cmocka_unit_test(test_kept_random_sparse),
        cmocka_unit_test(test_kept_random_programs),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
