/*
 * bench.c: `make bench`, run from the top directory after `make`. Two questions:
 *
 * 1. How fast is adgen on big inputs? It writes large expressions to build/bench/, runs
 *    ./adgen on each (best of three), and reports wall time and peak memory against the
 *    target: a million operations in about a second.
 * 2. How fast is the gradient it generates? For the extended Rosenbrock function in 100
 *    variables it compiles adgen's f and f_grad beside a careful hand-written adjoint, checks
 *    that the gradients agree, and reports the cost of a gradient relative to one evaluation
 *    of f (reverse mode promises a small constant) and to the hand-written one.
 *
 * 3. How fast are the other entry points? jvp, grad, hvp and the Hessian relative to f for
 *    eq. 5.109 and the seed's network; for the extended Rosenbrock function in 1000
 *    variables also the sparse Hessian, beside a hand-written tridiagonal one (checked equal
 *    to adgen's).
 *
 * The inputs are made by a fixed-seed generator, so runs compare. Times are wall-clock on
 * whatever else the machine is doing: read them as a trend, not to the millisecond.
 */
#define _DEFAULT_SOURCE /* wait4, for the memory a run used */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DIR "build/bench"

/* The clock every timing driver reads. */
static const char driver_clock[] =
    "#include <time.h>\n"
    "static double now(void)\n{\n    struct timespec t;\n"
    "    clock_gettime(CLOCK_MONOTONIC, &t);\n    return t.tv_sec + t.tv_nsec * 1e-9;\n}\n";
#define TARGET_OPS_PER_SECOND 1e6

static uint64_t rng = 0x9E3779B97F4A7C15u;

/* splitmix64, as a uniform double in [0, 1) */
static double uniform(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

static FILE *create(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    return f;
}

static void finish(FILE *f, const char *path)
{
    if (ferror(f) || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

/* A bare sum of `terms` terms a*sin(x*b) + c*exp(y*d) over 50 + 50 inputs, with random
 * constants so no two terms share a node: 8 operations per term (4 products, sin, exp and
 * 2 sums), 8 * terms - 1 in all. */
static long gen_sum(const char *path, long terms)
{
    FILE *f = create(path);
    for (long i = 0; i < terms; i++)
        fprintf(f, "%s%.6f*sin(x%ld*%.6f) + %.6f*exp(y%ld*%.6f)", i ? " +\n  " : "(",
                uniform(), i % 50, uniform(), uniform(), (i * 7) % 50, uniform() / 10);
    fputs(")\n", f);
    finish(f, path);
    return 8 * terms - 1;
}

/* A block of `stmts` statements, each using the two before it: 4 operations a statement. */
static long gen_block(const char *path, long stmts)
{
    FILE *f = create(path);
    fputs("f(x, y) {\n    t0 = x\n    t1 = y\n", f);
    for (long i = 2; i < stmts + 2; i++)
        fprintf(f, "    t%ld = t%ld * %.6f + sin(t%ld) * t%ld\n", i, i - 1, uniform(), i - 2,
                i - 1);
    fprintf(f, "    return t%ld\n}\n", stmts + 1);
    finish(f, path);
    return 4 * stmts;
}

/* sin(sin(...sin(x)...)): the deepest expression, one operation per level. */
static long gen_chain(const char *path, long depth)
{
    FILE *f = create(path);
    for (long i = 0; i < depth; i++)
        fputs("sin(", f);
    fputc('x', f);
    for (long i = 0; i < depth; i++)
        fputc(')', f);
    fputc('\n', f);
    finish(f, path);
    return depth;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Runs argv; returns its wall time, and its peak resident memory in MB through rss_mb. */
static double run(char *const argv[], double *rss_mb)
{
    double start = now();
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench: %s failed\n", argv[0]);
        exit(1);
    }
    *rss_mb = ru.ru_maxrss / 1024.0;
    return now() - start;
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0)
        return -1;
    long n = ftell(f);
    fclose(f);
    return n;
}

static void compile_speed(void)
{
    static const struct {
        const char *name;
        long (*gen)(const char *, long);
        long size;
    } cases[] = {
        {"sum, 125,000 terms", gen_sum, 125000},
        {"sum, 250,000 terms", gen_sum, 250000},
        {"block, 100,000 statements", gen_block, 100000},
        {"sin chain, 100,000 deep", gen_chain, 100000},
    };
    printf("adgen on large inputs (best of 3; --no-line)\n");
    printf("  %-28s %10s %8s %9s %8s %9s %12s\n", "input", "operations", "in MB", "out MB",
           "seconds", "peak MB", "ops/second");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char in[256], out[256];
        snprintf(in, sizeof in, DIR "/input%zu.expr", i);
        snprintf(out, sizeof out, DIR "/input%zu.c", i);
        long ops = cases[i].gen(in, cases[i].size);
        char *argv[] = {"./adgen", "--no-line", in, "-o", out, NULL};
        double best = 1e30, rss = 0;
        for (int r = 0; r < 3; r++) {
            double mb, t = run(argv, &mb);
            if (t < best)
                best = t, rss = mb;
        }
        double rate = ops / best;
        printf("  %-28s %10ld %8.1f %9.1f %8.2f %9.0f %12.0f%s\n", cases[i].name, ops,
               file_size(in) / 1e6, file_size(out) / 1e6, best, rss, rate,
               rate < TARGET_OPS_PER_SECOND ? "  (below target)" : "");
    }
    printf("  target: %.0f operations a second (a million-node expression in about a "
           "second)\n\n", TARGET_OPS_PER_SECOND);
}

#define N 100

/* The driver: adgen's rosen and rosen_grad (the array API: rosen(x[N])) beside a hand-written
 * adjoint over the same array, timed on the same points. */
static void write_driver(const char *path)
{
    FILE *f = create(path);
    fputs(driver_clock, f);
    fputs("#include <math.h>\n#include <stdio.h>\n#include \"rosen.h\"\n"
          "#define N 100\n"
          "/* the careful hand-written adjoint: one forward loop, adjoints accumulated */\n"
          "static double hand_grad(const double *x, double *g)\n{\n    double f = 0;\n"
          "    for (int i = 0; i < N; i++)\n        g[i] = 0;\n"
          "    for (int i = 0; i < N - 1; i++) {\n"
          "        double a = x[i + 1] - x[i] * x[i], b = 1 - x[i];\n"
          "        f += 100 * a * a + b * b;\n"
          "        g[i] += -400 * a * x[i] - 2 * b;\n        g[i + 1] += 200 * a;\n    }\n"
          "    return f;\n}\n",
          f);
    fputs("static double gen_value(const double *x)\n{\n    return rosen(x);\n}\n"
          "static double gen_grad(const double *x, double *g)\n{\n    return rosen_grad(x, g);"
          "\n}\n", f);
    fputs("int main(void)\n{\n    static double x[N], g1[N], g2[N];\n"
          "    volatile double sink = 0;\n    const long reps = 200000;\n"
          "    for (int i = 0; i < N; i++)\n        x[i] = 0.5 + 0.01 * i;\n"
          "    double v1 = gen_grad(x, g1), v2 = hand_grad(x, g2), err = fabs(v1 - v2);\n"
          "    for (int i = 0; i < N; i++)\n"
          "        err = fmax(err, fabs(g1[i] - g2[i]) / fmax(1, fabs(g2[i])));\n"
          "    if (err > 1e-12) {\n        printf(\"gradients differ: %g\\n\", err);\n"
          "        return 1;\n    }\n"
          "    double t[3];\n    for (int k = 0; k < 3; k++) {\n"
          "        double best = 1e30;\n        for (int r = 0; r < 5; r++) {\n"
          "            double start = now();\n"
          "            for (long i = 0; i < reps; i++) {\n"
          "                x[i % N] += 1e-12;\n"
          "                sink = sink + (k == 0 ? gen_value(x) : k == 1 ? gen_grad(x, g1)\n"
          "                                                          : hand_grad(x, g2));\n"
          "            }\n            double e = (now() - start) / reps;\n"
          "            best = e < best ? e : best;\n        }\n        t[k] = best;\n    }\n"
          "    printf(\"  f                        %7.1f ns\\n\", t[0] * 1e9);\n"
          "    printf(\"  f_grad (adgen)           %7.1f ns  %5.2f x f\\n\", t[1] * 1e9, "
          "t[1] / t[0]);\n"
          "    printf(\"  hand-written adjoint     %7.1f ns  %5.2f x f\\n\", t[2] * 1e9, "
          "t[2] / t[0]);\n"
          "    printf(\"  adgen / hand-written     %7.2f\\n\", t[1] / t[2]);\n"
          "    printf(\"  largest gradient difference %.1e\\n\", err);\n"
          "    return 0;\n}\n",
          f);
    finish(f, path);
}

static int gradient_speed(void)
{
    FILE *f = create(DIR "/rosen.expr");
    fprintf(f, "# the extended Rosenbrock function in %d variables\n"
               "rosen(x[%d]) = sum(i = 0..%d, 100*(x[i+1] - x[i]^2)^2 + (1 - x[i])^2)\n",
            N, N, N - 2);
    finish(f, DIR "/rosen.expr");
    write_driver(DIR "/rosen_bench.c");
    const char *cc = getenv("CC") ? getenv("CC") : "cc";
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "./adgen " DIR "/rosen.expr -o " DIR "/rosen.c --header " DIR "/rosen.h && "
             "%s -std=c99 -D_POSIX_C_SOURCE=200809L -O2 -I" DIR " -o " DIR "/rosen_bench "
             DIR "/rosen_bench.c " DIR "/rosen.c -lm",
             cc);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench: building the gradient benchmark failed\n");
        return 1;
    }
    printf("Generated gradient, extended Rosenbrock in %d variables (%s -O2, best of 5):\n", N,
           cc);
    fflush(stdout);
    return system(DIR "/rosen_bench") != 0;
}

/* ---- derivative modes on Rosenbrock-1000 ------------------------------------------------ */

#define NM 1000

/* Times f, its jvp, grad, hvp, sparse and dense Hessian, and a hand-written tridiagonal
 * Hessian, each relative to f; checks the sparse Hessian against the hand one. */
static void write_modes_driver(const char *path)
{
    FILE *f = create(path);
    fputs(driver_clock, f);
    fputs("#include <math.h>\n#include <stdio.h>\n#include \"rosen1000.h\"\n"
          "#define N 1000\n"
          "/* the hand-written Hessian's lower triangle, in the pattern's order (row, then\n"
          " * column: (i, i-1) before (i, i)) */\n"
          "static double hand_hess(const double *x, double *h)\n{\n    double f = 0;\n"
          "    int k = 0;\n"
          "    for (int i = 0; i < N; i++) {\n"
          "        double d = 0;\n"
          "        if (i > 0) {\n"
          "            h[k++] = -400 * x[i - 1];\n            d += 200;\n        }\n"
          "        if (i < N - 1) {\n"
          "            double a = x[i + 1] - x[i] * x[i];\n"
          "            d += 1200 * x[i] * x[i] - 400 * x[i + 1] + 2;\n"
          "            f += 100 * a * a + (1 - x[i]) * (1 - x[i]);\n        }\n"
          "        h[k++] = d;\n    }\n    return f;\n}\n"
          "static double x[N], v[N], o[N], hs[3 * N], hh[3 * N];\n"
          "static double H[N * N];\n"
          "static double run(int k)\n{\n"
          "    switch (k) {\n"
          "    case 0: return rosen(x);\n"
          "    case 1: { double d; return rosen_jvp(x, v, &d) + d; }\n"
          "    case 2: return rosen_grad(x, o);\n"
          "    case 3: return rosen_hvp(x, v, o);\n"
          "    case 4: return rosen_hess_sparse(x, hs);\n"
          "    case 5: return hand_hess(x, hh);\n"
          "    default: return rosen_hess(x, H);\n    }\n}\n"
          "int main(void)\n{\n    volatile double sink = 0;\n"
          "    static const char *name[] = {\"f\", \"rosen_jvp\", \"rosen_grad\", \"rosen_hvp\",\n"
          "        \"rosen_hess_sparse\", \"hand-written sparse Hessian\", \"rosen_hess (dense)\"};\n"
          "    for (int i = 0; i < N; i++) {\n        x[i] = 0.5 + 0.001 * i;\n"
          "        v[i] = 1.0 / (i + 1);\n    }\n"
          "    if (ROSEN_HESS_SPARSE_NNZ != 2 * N - 1) {\n"
          "        printf(\"sparse Hessian: %d nonzeros, expected %d\\n\", ROSEN_HESS_SPARSE_NNZ,\n"
          "               2 * N - 1);\n        return 1;\n    }\n"
          "    run(4);\n    run(5);\n    double err = 0;\n"
          "    for (int k = 0; k < 2 * N - 1; k++)\n"
          "        err = fmax(err, fabs(hs[k] - hh[k]) / fmax(1, fabs(hh[k])));\n"
          "    if (err > 1e-12) {\n        printf(\"sparse Hessians differ: %g\\n\", err);\n"
          "        return 1;\n    }\n"
          "    double t[7];\n"
          "    for (int k = 0; k < 7; k++) {\n"
          "        long reps = k == 6 ? 200 : 20000;\n"
          "        double best = 1e30;\n        for (int r = 0; r < 5; r++) {\n"
          "            double start = now();\n"
          "            for (long i = 0; i < reps; i++) {\n"
          "                x[i % N] += 1e-12;\n                sink = sink + run(k);\n"
          "            }\n            double e = (now() - start) / reps;\n"
          "            best = e < best ? e : best;\n        }\n        t[k] = best;\n"
          "        printf(\"  %-28s %9.2f us  %7.2f x f  %6.2f x grad\\n\", name[k], t[k] * 1e6,\n"
          "               t[k] / t[0], k >= 2 ? t[k] / t[2] : 0.0);\n    }\n"
          "    printf(\"  sparse Hessian: %d lower-triangle nonzeros, largest difference from\"\n"
          "           \" the hand one %.1e\\n\", ROSEN_HESS_SPARSE_NNZ, err);\n"
          "    return 0;\n}\n",
          f);
    finish(f, path);
}

static int modes_speed(void)
{
    FILE *f = create(DIR "/rosen1000.expr");
    fprintf(f, "rosen(x[%d]) = sum(i = 0..%d, 100*(x[i+1] - x[i]^2)^2 + (1 - x[i])^2)\n", NM,
            NM - 2);
    finish(f, DIR "/rosen1000.expr");
    write_modes_driver(DIR "/modes_bench.c");
    char *const argv[] = {"./adgen", "--emit=grad,jvp,hvp,hess,hess-sparse", "--no-line",
                          DIR "/rosen1000.expr", "-o", DIR "/rosen1000.c", "--header",
                          DIR "/rosen1000.h", NULL};
    double mb, secs = run(argv, &mb);
    if (secs < 0)
        return 1;
    const char *cc = getenv("CC") ? getenv("CC") : "cc";
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "%s -std=c99 -D_POSIX_C_SOURCE=200809L -O2 -I" DIR " -o " DIR "/modes_bench "
             DIR "/modes_bench.c " DIR "/rosen1000.c -lm", cc);
    double start = now();
    if (system(cmd) != 0) {
        fprintf(stderr, "bench: building the modes benchmark failed\n");
        return 1;
    }
    printf("\nDerivative modes, extended Rosenbrock in %d variables (%s -O2, best of 5):\n"
           "  adgen --emit=grad,jvp,hvp,hess,hess-sparse: %.2f s, %.0f MB, %.1f MB of C; "
           "%s -O2: %.1f s\n", NM, cc, secs, mb, file_size(DIR "/rosen1000.c") / 1e6, cc,
           now() - start);
    fflush(stdout);
    return system(DIR "/modes_bench") != 0;
}

/* ---- derivative modes on the samples ------------------------------------------------------ */

/* eq. 5.109 and the seed's network (58 parameters): each entry point's time over f's. */
static void write_samples_driver(const char *path)
{
    FILE *f = create(path);
    fputs(driver_clock, f);
    fputs("#include <stdio.h>\n#include \"e.h\"\n#include \"m.h\"\n"
          "static double x = 0.7, P[58], D[58], G[58], HV[58], H[58 * 58], xy[6] = {0.1, -0.2, "
          "0.3, 0.4, 0.5, -0.6};\n"
          "#define MLP(p) p, p + 32, p + 40, p + 56\n"
          "static double run(int c, int k)\n{\n    double o;\n"
          "    if (c == 0) {\n        switch (k) {\n"
          "        case 0: return e_f(x);\n"
          "        case 1: return e_f_jvp(x, 1.0, &o) + o;\n"
          "        case 2: return e_f_grad(x, G);\n"
          "        case 3: return e_f_hvp(x, 1.0, HV);\n"
          "        default: return e_f_hess(x, H);\n        }\n    }\n"
          "    switch (k) {\n"
          "    case 0: return m_mlp(MLP(P), xy, xy + 4);\n"
          "    case 1: return m_mlp_jvp(MLP(P), xy, xy + 4, MLP(D), &o) + o;\n"
          "    case 2: return m_mlp_grad(MLP(P), xy, xy + 4, MLP(G));\n"
          "    case 3: return m_mlp_hvp(MLP(P), xy, xy + 4, MLP(D), MLP(HV));\n"
          "    default: return m_mlp_hess(MLP(P), xy, xy + 4, H);\n    }\n}\n"
          "int main(void)\n{\n    volatile double sink = 0;\n"
          "    static const char *name[] = {\"eq. 5.109\", \"network (mlp.expr, 58)\"};\n"
          "    for (int i = 0; i < 58; i++) {\n        P[i] = 0.1 * ((i * 7) % 11) - 0.5;\n"
          "        D[i] = 1.0 / (i + 1);\n    }\n"
          "    printf(\"  %-24s %9s %7s %7s %7s %7s\\n\", \"\", \"f\", \"jvp\", \"grad\", \"hvp\","
          " \"hess\");\n"
          "    for (int c = 0; c < 2; c++) {\n        double t[5];\n"
          "        for (int k = 0; k < 5; k++) {\n"
          "            long reps = c == 0 ? 2000000 : k == 4 ? 2000 : 200000;\n"
          "            double best = 1e30;\n"
          "            for (int r = 0; r < 5; r++) {\n                double start = now();\n"
          "                for (long i = 0; i < reps; i++) {\n"
          "                    x += 1e-15;\n                    P[i % 58] += 1e-15;\n"
          "                    sink = sink + run(c, k);\n                }\n"
          "                double e = (now() - start) / reps;\n"
          "                best = e < best ? e : best;\n            }\n            t[k] = best;\n"
          "        }\n"
          "        printf(\"  %-24s %6.1f ns %6.2fx %6.2fx %6.2fx %6.2fx\\n\", name[c], t[0] * 1e9,\n"
          "               t[1] / t[0], t[2] / t[0], t[3] / t[0], t[4] / t[0]);\n    }\n"
          "    return 0;\n}\n",
          f);
    finish(f, path);
}

static int samples_speed(void)
{
    write_samples_driver(DIR "/samples_bench.c");
    const char *cc = getenv("CC") ? getenv("CC") : "cc";
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "./adgen --emit=grad,jvp,hvp,hess --no-line --prefix=e_ samples/eq5109.expr -o "
             DIR "/e.c --header " DIR "/e.h && ./adgen --emit=grad,jvp,hvp,hess --no-line "
             "--prefix=m_ samples/mlp.expr -o " DIR "/m.c --header " DIR "/m.h && "
             "%s -std=c99 -D_POSIX_C_SOURCE=200809L -O2 -I" DIR " -o " DIR "/samples_bench "
             DIR "/samples_bench.c " DIR "/e.c " DIR "/m.c -lm", cc);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench: building the samples benchmark failed\n");
        return 1;
    }
    printf("\nDerivative modes on the samples, time over f (%s -O2, best of 5):\n", cc);
    fflush(stdout);
    return system(DIR "/samples_bench") != 0;
}

int main(void)
{
    if (system("mkdir -p " DIR) != 0)
        return 2;
    compile_speed();
    int status = gradient_speed();
    status |= samples_speed();
    return modes_speed() || status;
}
