/*
 * bench.c: `make bench`, run from the top directory after `make`, after the gradient tables of
 * tests/bench/grad.c (build/bench/grad-gcc and grad-clang). Four questions:
 *
 * 1. How fast is adgen on big inputs? It writes large expressions to build/bench/, runs
 *    ./adgen on each (best of three), and reports wall time and peak memory against the
 *    target: a million operations in about a second.
 * 2. How do adgen and the C compiler scale? The scaling table: synthetic inputs of 10^3 to
 *    10^6 operations in four shapes (a wide sum, a deep chain, many statements, heavy
 *    sharing): adgen's CPU time and peak memory, the bytes of C it writes per operation,
 *    `gcc -O2 -c` on that C (capped) and the largest stack frame of the generated functions
 *    at -O0 and -O2 (`gcc -fstack-usage`), with the growth from one size to the next.
 * 3. How fast are the other entry points? jvp, grad, hvp and the Hessian relative to f for
 *    eq. 5.109 and the seed's network; for the extended Rosenbrock function in 1000
 *    variables also the sparse Hessian, beside a hand-written tridiagonal one (checked equal
 *    to adgen's).
 *
 * 4. Kept loops (issue 13): adgen's time and the C's size for a logistic regression and a
 *    recurrence whose sizes are known at run time, then build/bench/kept-gcc and kept-clang
 *    (tests/bench/kept.c): their gradients beside hand-written loop adjoints at N = 10^3 to
 *    10^7 points and n = 10^6 steps.
 *
 * 5. Checkpointing (issue 20): build/bench/ckp-gcc and ckp-clang (tests/bench/ckp.c): memory
 *    and time of grad-ckp against grad for two recurrences, and 10^8 steps in bounded memory.
 *
 * 6. The oscillator fit (issue 19): adgen and gcc on samples/oscfit/model.expr, then
 *    build/bench/oscfit-gcc and oscfit-clang (tests/bench/oscfit.c): its residuals' Jacobian
 *    through the kept recurrence's trajectory against the unrolled one and the value.
 *
 * 7. The swing-up (issue 21): build/bench/swingup-gcc and swingup-clang
 *    (tests/bench/swingup.c): the sparse Jacobian and Lagrangian Hessian IPOPT asks for,
 *    against derivatives written by hand.
 *
 * 8. Newton with N at run time (issue 19): build/bench/newton-gcc and newton-clang
 *    (tests/bench/newton.c): the sparse Hessian of the extended Rosenbrock function through
 *    its kept sum against its gradient at N = 10^6.
 *
 * 9. Batched gradients (issue 23): build/bench/batch-gcc and batch-clang (tests/bench/batch.c):
 *    eq. 5.109's and the network's NAME_grad_batch over 10^4 points against a loop of
 *    NAME_grad calls, on one core and (gcc, OpenMP) on all.
 *
 * BENCH_SECTIONS (a comma list of large, scaling, samples, modes, kept, ckp, oscfit, swingup,
 * newton, batch;
 * default all) chooses what runs, BENCH_CC_TIMEOUT the cap on each compile of the scaling table
 * (seconds, default 120).
 * The inputs are made by a fixed-seed generator, so runs compare. Times are measured on
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

/* ---- scaling: adgen and the C compiler from 10^3 to 10^6 operations ---------------------- */

/* Heavy sharing: each statement spells the sum u = t[i-1]*c + t[i-2] three times, which
 * hash-consing makes one node: 9 operations written, 5 in the graph (u, its product, u*u,
 * sin u and the sum); the count returned is the graph's. */
static long gen_shared(const char *path, long stmts)
{
    FILE *f = create(path);
    fputs("f(x, y) {\n    t0 = x\n    t1 = y\n", f);
    for (long i = 2; i < stmts + 2; i++) {
        double c = uniform();
        fprintf(f, "    t%ld = (t%ld*%.6f + t%ld)*(t%ld*%.6f + t%ld) + sin(t%ld*%.6f + t%ld)\n", i,
                i - 1, c, i - 2, i - 1, c, i - 2, i - 1, c, i - 2);
    }
    fprintf(f, "    return t%ld\n}\n", stmts + 1);
    finish(f, path);
    return 5 * stmts;
}

typedef struct {
    double wall, cpu, rss_mb; /* seconds; CPU is user + system of the process and its children */
    int status;               /* exit status, or 128 + the signal */
} Usage;

/* Starts argv (looked up in PATH); finish() waits for it. */
static pid_t start(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
    return pid;
}

/* Waits for a process start() began at `began` (now()'s clock); status 127 if it failed. */
static Usage finish_run(pid_t pid, double began)
{
    Usage u = {0, 0, 0, 127};
    int status;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &status, 0, &ru) != pid)
        return u;
    u.wall = now() - began;
    u.cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec +
            ru.ru_stime.tv_usec * 1e-6;
    u.rss_mb = ru.ru_maxrss / 1024.0;
    u.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return u;
}

static Usage spawn(char *const argv[])
{
    double began = now();
    return finish_run(start(argv), began);
}

/* The largest frame in a gcc -fstack-usage file, in bytes; -1 if none could be read. */
static long largest_frame(const char *su)
{
    FILE *f = fopen(su, "r");
    if (!f)
        return -1;
    char line[4096];
    long most = -1;
    while (fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');
        long n = tab ? strtol(tab + 1, NULL, 10) : -1;
        most = n > most ? n : most;
    }
    fclose(f);
    return most;
}

#define SCALE_SIZES 4
#define TARGET_FRAME 65536

/* A compile of the scaling table: `gcc OPT -fstack-usage -c`, capped at `cap` seconds
 * through timeout(1). A compile is not started when the one of the size before took over a
 * tenth of the cap (skip): at 10 times the C, linear growth would already pass the cap, and
 * gcc on such code grows faster than that. The -O2 and -O0 compiles of one size run side by
 * side (the machine's 2 cores; the table reports CPU time, which that barely changes). */
typedef struct {
    const char *opt;
    int skip;         /* the size before went over the cap or a tenth of it */
    pid_t pid;        /* running, or -1 */
    double began;
    char obj[256], su[256];
    double secs;      /* CPU seconds, -1 over the cap or not run */
    long frame;       /* the largest frame, -1 none */
} Compile;

static void cc_start(Compile *c, const char *c_file, int cap)
{
    static char capstr[32];
    c->pid = -1;
    c->secs = -1;
    c->frame = -1;
    if (c->skip)
        return;
    snprintf(capstr, sizeof capstr, "%d", cap);
    snprintf(c->obj, sizeof c->obj, DIR "/scale%s.o", c->opt);
    snprintf(c->su, sizeof c->su, DIR "/scale%s.su", c->opt);
    remove(c->su);
    char *argv[] = {"timeout", capstr, "gcc", "-std=c99", "-Wall", "-Wextra", "-pedantic",
                    "-Werror", (char *)c->opt, "-fstack-usage", "-c", (char *)c_file, "-o",
                    c->obj, NULL};
    c->began = now();
    c->pid = start(argv);
}

static void cc_finish(Compile *c, const char *c_file, int cap)
{
    if (c->pid < 0)
        return;
    Usage u = finish_run(c->pid, c->began);
    if (u.status == 0) {
        c->secs = u.cpu;
        c->frame = largest_frame(c->su);
    } else if (u.status != 124) {
        fprintf(stderr, "bench: gcc %s on %s failed (status %d)\n", c->opt, c_file, u.status);
    }
    c->skip = u.status != 0 || u.cpu * 10 > cap;
}

static void print_secs(double secs, int cap, double before)
{
    if (secs < 0)
        printf(" %8s %6s", cap > 0 ? ">cap" : "-", "");
    else if (before > 0)
        printf(" %8.3f %5.1fx", secs, secs / before);
    else
        printf(" %8.3f %6s", secs, "");
}

static void print_frame(long frame)
{
    if (frame < 0)
        printf(" %9s", "-");
    else
        printf(" %8.1fK%s", frame / 1024.0, frame > TARGET_FRAME ? "!" : "");
}

static void scaling(void)
{
    static const struct {
        const char *name;
        long (*gen)(const char *, long);
        long ops_per_unit; /* operations a unit of gen's size argument makes */
    } shapes[] = {
        {"wide sum", gen_sum, 8},
        {"deep chain", gen_chain, 1},
        {"statements", gen_block, 4},
        {"sharing", gen_shared, 5},
    };
    const char *t = getenv("BENCH_CC_TIMEOUT");
    int cap = t && atoi(t) > 0 ? atoi(t) : 120;
    printf("Scaling: adgen (default options) and gcc on its output, CPU seconds (adgen: best "
           "of 3 below 10^6\noperations); gcc -O2 -c and -O0 -c side by side, each capped at "
           "%d s (>cap: over it, or not started\nwhen the size before took over %d s); frames: "
           "the largest of the generated functions (gcc\n-fstack-usage, ! above 64 KB)\n", cap,
           cap / 10);
    printf("  %-10s %8s %8s %6s %8s %6s %7s %8s %6s %8s %6s %9s %9s\n", "shape", "ops",
           "adgen s", "growth", "peak MB", "B/op", "C B/op", "-O2 s", "growth", "-O0 s",
           "growth", "frame -O0", "frame -O2");
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        double adgen_before = 0, o2_before = 0, o0_before = 0;
        Compile o2 = {.opt = "-O2"}, o0 = {.opt = "-O0"};
        long ops = 1000;
        for (int k = 0; k < SCALE_SIZES; k++, ops *= 10) {
            const char *in = DIR "/scale.expr", *out = DIR "/scale.c";
            rng = 0x9E3779B97F4A7C15u;
            long n = shapes[s].gen(in, (ops + shapes[s].ops_per_unit / 2) /
                                           shapes[s].ops_per_unit);
            char *argv[] = {"./adgen", (char *)in, "-o", (char *)out, NULL};
            Usage best = {0, 1e30, 0, 0};
            for (int r = 0; r < (ops < 1000000 ? 3 : 1); r++) {
                Usage u = spawn(argv);
                if (u.status != 0) {
                    fprintf(stderr, "bench: adgen failed on %s (status %d)\n", in, u.status);
                    exit(1);
                }
                if (u.cpu < best.cpu)
                    best = u;
            }
            cc_start(&o2, out, cap);
            cc_start(&o0, out, cap);
            cc_finish(&o2, out, cap);
            cc_finish(&o0, out, cap);
            printf("  %-10s %8ld", k ? "" : shapes[s].name, n);
            print_secs(best.cpu, 0, adgen_before);
            printf(" %8.0f %6.0f %7.1f", best.rss_mb, best.rss_mb * 1048576 / n,
                   (double)file_size(out) / n);
            print_secs(o2.secs, cap, o2_before);
            print_secs(o0.secs, cap, o0_before);
            print_frame(o0.frame);
            print_frame(o2.frame);
            putchar('\n');
            fflush(stdout);
            adgen_before = best.cpu;
            o2_before = o2.secs;
            o0_before = o0.secs;
        }
    }
    printf("  targets: 10^6 operations in 1 s, growth <= 11x per 10x; <= 400 B/op of memory; "
           "gcc -O2 on 10^5\n  operations in 30 s, linear; no frame above 64 KB at -O0 and "
           "-O2\n\n");
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

/* Lines in a file; -1 if it cannot be read. */
static long file_lines(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    long n = 0;
    for (int c; (c = getc(f)) != EOF;)
        n += c == '\n';
    fclose(f);
    return n;
}

/* adgen on `input` with `define` (a -D option, or NULL) into DIR/NAME.c: best wall time of
 * three, printed with the C's size. */
static double kept_adgen(const char *what, const char *input, const char *define,
                         const char *name)
{
    char c_file[256], h_file[256];
    snprintf(c_file, sizeof c_file, DIR "/%s.c", name);
    snprintf(h_file, sizeof h_file, DIR "/%s.h", name);
    char *argv[] = {"./adgen", "--no-line", (char *)input, "-o", c_file, "--header", h_file,
                    define ? "-D" : NULL, (char *)define, NULL};
    double best = 1e30, rss;
    for (int i = 0; i < 3; i++) {
        double t = run(argv, &rss);
        best = t < best ? t : best;
    }
    printf("  %-48s %7.3f s %8ld B %6ld lines\n", what, best, file_size(c_file),
           file_lines(c_file));
    return best;
}

/* Runs build/bench/NAME-gcc and NAME-clang, tables of their own; 1 when one is missing or
 * fails. */
static int run_drivers(const char *name)
{
    int status = 0;
    static const char *const compilers[] = {"gcc", "clang"};
    for (int i = 0; i < 2; i++) {
        char driver[256];
        snprintf(driver, sizeof driver, DIR "/%s-%s", name, compilers[i]);
        if (access(driver, X_OK) != 0) {
            fprintf(stderr, "bench: no %s (make bench builds it)\n", driver);
            status = 1;
            continue;
        }
        putchar('\n');
        fflush(stdout);
        status |= system(driver) != 0;
    }
    return status;
}

/* Kept loops (issue 13): adgen on the inputs whose sizes are known at run time (N and n are
 * arguments of the generated code, so adgen's time and the C's size are the same for every
 * N), the logistic regression unrolled at N = 1000 beside them, then the tables of
 * build/bench/kept-gcc and kept-clang (tests/bench/kept.c), which `make bench` builds. */
static int kept_speed(void)
{
    printf("\nKept loops: adgen and the C it writes (best of 3, --no-line), the same for "
           "every N\n");
    kept_adgen("logistic regression (tests/bench/logistic.expr)", "tests/bench/logistic.expr",
               NULL, "kept_logistic");
    kept_adgen("recurrence (tests/bench/chain_n.expr)", "tests/bench/chain_n.expr", NULL,
               "kept_chain");
    kept_adgen("logistic regression unrolled, -D N=1000", "tests/bench/logistic.expr",
               "N=1000", "kept_logistic1000");
    fflush(stdout);
    return run_drivers("kept");
}

/* Checkpointing (issue 20): the tables of build/bench/ckp-gcc and ckp-clang
 * (tests/bench/ckp.c), which `make bench` builds. */
static int ckp_speed(void)
{
    return run_drivers("ckp");
}

/* The oscillator fit (issue 19): adgen and gcc -O2 on samples/oscfit/model.expr for its
 * Jacobian with T known at run time (targets: adgen under 0.05 s, gcc -O2 under 2 s of CPU),
 * and the same unrolled at T = 200; then the tables of build/bench/oscfit-gcc and oscfit-clang
 * (tests/bench/oscfit.c), which `make bench` builds. */
static int oscfit_speed(void)
{
    printf("\nOscillator fit (samples/oscfit/model.expr, --emit=jac): adgen (best of 3, "
           "--no-line), then gcc -O2 -c (CPU)\n");
    static const char *const what[] = {"T at run time", "unrolled, -D T=200"};
    static const char *const define[] = {NULL, "T=200"}, *const name[] = {"oscfit", "oscfit200"};
    int status = 0;
    for (int i = 0; i < 2; i++) {
        double secs = kept_adgen(what[i], "samples/oscfit/model.expr", define[i], name[i]);
        char c_file[256], obj[256];
        snprintf(c_file, sizeof c_file, DIR "/%s.c", name[i]);
        snprintf(obj, sizeof obj, DIR "/%s.o", name[i]);
        char *argv[] = {"gcc", "-std=c99", "-O2", "-c", c_file, "-o", obj, NULL};
        Usage u = finish_run(start(argv), now());
        int miss = i == 0 && (secs > 0.05 || u.cpu > 2.0);
        printf("  %-48s %7.3f s CPU%s\n", "  gcc -O2", u.cpu,
               i == 0 ? (miss ? "  (targets 0.05 s, 2 s) MISSES" : "  (targets 0.05 s, 2 s)") :
                        "");
        status |= miss || u.status != 0;
    }
    fflush(stdout);
    return status | run_drivers("oscfit");
}

/* Whether BENCH_SECTIONS (a comma list; unset or empty: all) names `name`. */
static int section(const char *name)
{
    const char *list = getenv("BENCH_SECTIONS");
    if (!list || !*list)
        return 1;
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

int main(void)
{
    if (system("mkdir -p " DIR) != 0)
        return 2;
    int status = 0;
    if (section("large"))
        compile_speed();
    if (section("scaling"))
        scaling();
    if (section("samples"))
        status |= samples_speed();
    if (section("modes"))
        status |= modes_speed();
    if (section("kept"))
        status |= kept_speed();
    if (section("ckp"))
        status |= ckp_speed();
    if (section("oscfit"))
        status |= oscfit_speed();
    if (section("swingup"))
        status |= run_drivers("swingup");
    if (section("newton"))
        status |= run_drivers("newton");
    if (section("batch"))
        status |= run_drivers("batch");
    return status;
}
