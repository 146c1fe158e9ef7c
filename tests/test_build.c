/* test_build.c: adgen inside a build, as its users meet it. `make install DESTDIR=...` lays
 * out bin/adgen, the man page and adgen.mk; samples/project, copied clean, builds with the
 * installed rule under make -j, does nothing on a second make, rebuilds only what depends on
 * the .expr after a touch, and retries after a failed adgen run that left no target behind.
 * Also: --check, depfiles, byte-identical output in a German locale, #line directives as the
 * compiler reads them, and the emission options (--real, --prefix, --name, --static,
 * --accumulate) compiled, run and checked against closed forms. The man page renders
 * without groff warnings and documents every option --help lists. The CMake package, installed,
 * builds a tiny project that runs and rebuilds after an edit of its .expr.
 * Scratch files go to build/tests/build-out. */
#include "testutil.h"

#include <ctype.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT "build/tests/build-out"
#define ROOT OUT "/root"
#define WARN_FLAGS "-std=c99 -Wall -Wextra -pedantic -Werror"
/* a make of its own: not the flags (-s, -j, -n) of the make running the tests */
#define MAKE "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make"

/* ---- helpers -------------------------------------------------------------------------------- */

static time_t mtime(const char *dir, const char *name)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (stat(path, &st) != 0)
        fail_msg("%s is missing", path);
    return st.st_mtime;
}

static const char *cwd(void)
{
    static char dir[4096];
    if (!dir[0])
        assert_non_null(getcwd(dir, sizeof dir));
    return dir;
}

static int setup(void **state)
{
    (void)state;
    return runf(NULL, "rm -rf " OUT " && mkdir -p " OUT);
}

/* ---- install ---------------------------------------------------------------------------------- */

static void install(void)
{
    assert_int_equal(runf(NULL, MAKE " -s install DESTDIR=%s/" ROOT " PREFIX=/usr/local "
                                ">/dev/null", cwd()), 0);
}

static void test_install_tree(void **state)
{
    (void)state;
    install();
    struct stat st;
    assert_int_equal(stat(ROOT "/usr/local/bin/adgen", &st), 0);
    assert_true(st.st_mode & S_IXUSR);
    assert_true(exists(ROOT "/usr/local/share/man/man1/adgen.1"));
    assert_true(exists(ROOT "/usr/local/share/adgen/adgen.mk"));
    assert_true(exists(ROOT "/usr/local/share/adgen/cmake/adgenConfig.cmake"));
    char *out = NULL;
    assert_int_equal(runf(&out, ROOT "/usr/local/bin/adgen --version"), 0);
    assert_contains(out, "adgen ");
    free(out);
    assert_int_equal(runf(NULL, MAKE " -s uninstall DESTDIR=%s/" ROOT " PREFIX=/usr/local",
                          cwd()), 0);
    assert_false(exists(ROOT "/usr/local/bin/adgen"));
    assert_false(exists(ROOT "/usr/local/share/man/man1/adgen.1"));
    assert_false(exists(ROOT "/usr/local/share/adgen"));
}

/* ---- samples/project with the installed rule -------------------------------------------------- */

#define PROJECT OUT "/project"

/* make in the project copy with the installed adgen and adgen.mk; stdout and stderr to out */
static int make_project(char **out, const char *args)
{
    return runf(out, MAKE " -C " PROJECT " --no-print-directory %s ADGEN=%s/" ROOT
                     "/usr/local/bin/adgen ADGEN_MK=%s/" ROOT
                     "/usr/local/share/adgen/adgen.mk 2>&1",
                args, cwd(), cwd());
}

static void fresh_project(void)
{
    assert_int_equal(runf(NULL, "rm -rf " PROJECT " && cp -R samples/project " PROJECT), 0);
    assert_int_equal(make_project(NULL, "clean"), 0);
}

static void test_project_builds_and_runs(void **state)
{
    (void)state;
    install();
    fresh_project();
    char *out = NULL;
    assert_int_equal(make_project(&out, "-j4"), 0);
    free(out);
    assert_int_equal(runf(&out, PROJECT "/fit"), 0);
    assert_contains(out, ": ok");
    free(out);

    /* a second make has nothing to do */
    assert_int_equal(make_project(NULL, "-q"), 0);
    assert_int_equal(make_project(&out, "-j4"), 0);
    assert_contains(out, "Nothing to be done");
    assert_null(strstr(out, "adgen"));
    free(out);
}

/* Sample `name` built with the installed adgen, then its ./fit run with each of the n
 * argument lists: exit 0, and ": ok" said. */
static void sample_fits(const char *name, const char *const *args, int n)
{
    install();
    char dir[256];
    snprintf(dir, sizeof dir, OUT "/%s", name);
    assert_int_equal(runf(NULL, "rm -rf %s && cp -R samples/%s %s", dir, name, dir), 0);
    char *out = NULL;
    int rc = runf(&out, MAKE " -C %s --no-print-directory clean all ADGEN=%s/" ROOT
                        "/usr/local/bin/adgen ADGEN_MK=%s/" ROOT
                        "/usr/local/share/adgen/adgen.mk 2>&1", dir, cwd(), cwd());
    if (rc != 0)
        fail_msg("make in samples/%s: status %d\n%s", name, rc, out);
    free(out);
    for (int i = 0; i < n; i++) {
        assert_int_equal(runf(&out, "%s/fit %s", dir, args[i]), 0);
        assert_contains(out, ": ok");
        free(out);
    }
}

/* samples/oscfit: an ODE fitted by Levenberg-Marquardt, the residuals reading a kept
 * recurrence's trajectory; it recovers its parameters at the default 2,000 steps and at 300. */
static void test_oscfit_sample_fits(void **state)
{
    (void)state;
    static const char *const steps[] = {"", "300"};
    sample_fits("oscfit", steps, 2);
}

/* samples/pfilter: a state-space model's parameters estimated by Newton's method on its
 * filter's log-likelihood, a recurrence whose step sums over particles of its state; the
 * gradient vanishes at the estimate, whose likelihood is at least the true parameters', at
 * the default 500 steps and 32 particles and at 50 steps and 4. */
static void test_pfilter_sample_fits(void **state)
{
    (void)state;
    static const char *const sizes[] = {"", "50 4"};
    sample_fits("pfilter", sizes, 2);
}

/* samples/ipopt: IPOPT solves HS071, the pendulum's swing-up and the hanging chain with
 * adgen's gradient, sparse Jacobian and sparse Lagrangian Hessian: HS071 to Hock and
 * Schittkowski's optimum (solve checks it), the swing-up as it does with derivatives written
 * by hand, the chain (sizes known at run time, patterns computed at run time) at 200 and 2000
 * points to the catenary's energy and sag within the discretisation's error (chain checks
 * them). */
static void test_ipopt_sample_solves(void **state)
{
    (void)state;
    if (runf(NULL, "test -f /usr/include/coin/IpStdCInterface.h") != 0)
        fail_msg("IPOPT's C interface is missing: samples/ipopt cannot be tested (apt-get "
                 "install coinor-libipopt-dev)");
    const char *dir = OUT "/ipopt";
    assert_int_equal(runf(NULL, "rm -rf %s && mkdir -p %s/samples && cp -R samples/ipopt "
                                "samples/hs071.expr samples/swingup.expr samples/chain.expr "
                                "%s/samples/", dir, dir, dir), 0);
    char *out = NULL;
    int rc = runf(&out, MAKE " -C %s/samples/ipopt --no-print-directory ADGEN=\"$(realpath "
                        ADGEN_CMD ")\" 2>&1 && %s/samples/ipopt/solve", dir, dir);
    if (rc != 0)
        fail_msg("samples/ipopt: status %d\n%s", rc, out);
    /* in IPOPT's own example's 8 iterations (its options; hand-written derivatives) */
    assert_contains(out, "IPOPT status 0 after 8 iterations, f = 17.01401");
    assert_contains(out, ": ok");
    free(out);
    for (int points = 200; points <= 2000; points *= 10) {
        rc = runf(&out, "%s/samples/ipopt/chain %d", dir, points);
        printf("%s", out);
        if (rc != 0)
            fail_msg("samples/ipopt/chain %d: status %d\n%s", points, rc, out);
        assert_contains(out, ": ok");
        free(out);
    }
    /* the swing-up converges with the exact Hessian, in the iterations and to the optimum of
     * the same driver linked with derivatives written by hand */
    char *hand = NULL;
    rc = runf(&out, "%s/samples/ipopt/swingup", dir);
    if (rc != 0)
        fail_msg("samples/ipopt/swingup: status %d\n%s", rc, out);
    printf("%s", out);
    assert_contains(out, "IPOPT status 0 after ");
    assert_contains(out, "swings back to theta = -");
    rc = runf(&hand, "gcc -std=c99 -O2 -c tests/bench/swingup_hand.c -o %s/hand.o && gcc -o "
                     "%s/swingup_hand %s/samples/ipopt/swingup.o %s/hand.o -lipopt -lm && "
                     "%s/swingup_hand", dir, dir, dir, dir, dir);
    if (rc != 0)
        fail_msg("the swing-up with derivatives by hand: status %d\n%s", rc, hand);
    assert_string_equal(out, hand);
    free(out);
    free(hand);
    /* the Jacobian and the Lagrangian Hessian equal the hand's at random points, and the
     * Hessian's pattern is the hand's (the union of the parts', nothing more) */
    rc = runf(&out, ADGEN_CMD " --emit=jac-sparse,hess-sparse --prefix=sw_ samples/swingup.expr "
                    "-o %s/sw_nlp.c --header %s/sw_nlp.h 2>&1 && gcc -std=c99 -O2 -DHAND_PREFIX "
                    "-c tests/bench/swingup_hand.c -o %s/hand_p.o && gcc -std=c99 -O2 "
                    "-D_POSIX_C_SOURCE=200809L -I%s -Itests/bench -o %s/check "
                    "tests/bench/swingup.c %s/sw_nlp.c %s/hand_p.o -lm 2>&1 && %s/check --check",
              dir, dir, dir, dir, dir, dir, dir, dir);
    if (rc != 0)
        fail_msg("tests/bench/swingup.c --check: status %d\n%s", rc, out);
    assert_contains(out, "equal the hand-written ones");
    free(out);
}

static void test_project_touch_rebuilds_dependents_only(void **state)
{
    (void)state;
    install();
    fresh_project();
    assert_int_equal(make_project(NULL, "-j4"), 0);
    /* everything an hour old, then the model touched now: adgen runs, but the C it writes is
     * what the files hold, so they keep their time and nothing is compiled again */
    assert_int_equal(runf(NULL, "touch -d '1 hour ago' " PROJECT "/* && touch " PROJECT
                                "/model.expr"), 0);
    time_t old = mtime(PROJECT, "data.o");
    char *out = NULL;
    assert_int_equal(make_project(&out, "-j4"), 0);
    assert_contains(out, "adgen");
    free(out);
    static const char *const kept[] = {"model.c", "model.h", "model.o", "fit.o", "fit", "data.o"};
    for (size_t i = 0; i < sizeof kept / sizeof *kept; i++)
        if (mtime(PROJECT, kept[i]) != old)
            fail_msg("%s was rebuilt, though model.expr was only touched", kept[i]);
    assert_true(mtime(PROJECT, "model.adgen.stamp") > old);
    assert_int_equal(make_project(&out, "-j4"), 0); /* and then nothing at all */
    assert_contains(out, "Nothing to be done");
    free(out);
    /* the model edited: what uses its C is built again, and only that */
    assert_int_equal(runf(NULL, "touch -d '1 hour ago' " PROJECT "/* && printf '\\ng2(x) = x*x"
                                "\\n' >> " PROJECT "/model.expr"), 0);
    old = mtime(PROJECT, "data.o"); /* an hour before this touch, not the first one */
    assert_int_equal(make_project(&out, "-j4"), 0);
    free(out);
    const char *rebuilt[] = {"model.c", "model.h", "model.adgen.d", "model.adgen.stamp",
                             "model.o", "fit.o", "fit"};
    for (size_t i = 0; i < sizeof rebuilt / sizeof *rebuilt; i++)
        if (mtime(PROJECT, rebuilt[i]) <= old)
            fail_msg("%s was not rebuilt after model.expr changed", rebuilt[i]);
    assert_true(mtime(PROJECT, "data.o") == old);
    assert_true(mtime(PROJECT, "data.c") == old);
}

/* The README's "Use it in your build" lines, as they stand, make a working project: the
 * include first (its depfiles must not become the default goal) and no -lm of one's own. */
static void test_readme_three_lines(void **state)
{
    (void)state;
    install();
    char *readme = read_file("README.md");
    assert_non_null(readme);
    const char *start = strstr(readme, "    include /usr/local/share/adgen/adgen.mk\n");
    assert_non_null(start);
    Buf mk = {0};
    buf_printf(&mk, "include %s/" ROOT "/usr/local/share/adgen/adgen.mk\n", cwd());
    const char *line = strchr(start, '\n') + 1;
    for (int i = 0; i < 2; i++) {
        const char *end = strchr(line, '\n');
        assert_true(strncmp(line, "    ", 4) == 0);
        buf_putn(&mk, line + 4, (size_t)(end - line - 4));
        buf_puts(&mk, "\n");
        line = end + 1;
    }
    assert_string_equal(mk.data + mk.len - 34, "app: app.o model.o\napp.o: model.h\n");
    assert_int_equal(runf(NULL, "rm -rf " OUT "/readme && mkdir " OUT "/readme"), 0);
    spit(OUT "/readme/Makefile", mk.data);
    spit(OUT "/readme/model.expr", "f(x) = exp(x) * sin(x)\n");
    spit(OUT "/readme/app.c", "#include <stdio.h>\n#include \"model.h\"\n"
                              "int main(void) { double g, v = f_grad(1.0, &g);\n"
                              "    printf(\"%.6f %.6f\\n\", v, g); return 0; }\n");
    const char *make = MAKE " -C " OUT "/readme --no-print-directory ADGEN=%s/" ROOT
                       "/usr/local/bin/adgen 2>&1";
    char *out = NULL;
    assert_int_equal(runf(&out, make, cwd()), 0);
    free(out);
    assert_int_equal(runf(&out, OUT "/readme/app"), 0);
    /* f = e sin 1, f' = e (sin 1 + cos 1) */
    assert_string_equal(out, "2.287355 3.756049\n");
    free(out);
    /* after an edit of app.c, a plain make remakes app, not just a depfile's target */
    assert_int_equal(runf(NULL, "touch -d '1 hour ago' " OUT "/readme/* && touch " OUT
                                "/readme/app.c"), 0);
    assert_int_equal(runf(&out, make, cwd()), 0);
    assert_contains(out, "-o app");
    free(out);
    buf_free(&mk);
    free(readme);
}

/* A hand-written robust.c next to robust.expr: make runs the rule, adgen refuses to replace
 * the file, make fails naming it, and the file survives (and a second make fails again rather
 * than taking the file for up to date). */
static void test_project_keeps_hand_written_file(void **state)
{
    (void)state;
    install();
    assert_int_equal(runf(NULL, "rm -rf " OUT "/robust && mkdir " OUT "/robust"), 0);
    Buf mk = {0};
    buf_printf(&mk, "include %s/" ROOT "/usr/local/share/adgen/adgen.mk\n"
                    "app: app.o robust.o\napp.o: robust.h\n", cwd());
    spit(OUT "/robust/Makefile", mk.data);
    buf_free(&mk);
    const char *mine = "/* robust.c: my own, written by hand */\n"
                       "double robust(double x) { return x; }\n";
    spit(OUT "/robust/robust.c", mine);
    spit(OUT "/robust/robust.expr", "robust(x) = log(1 + x^2)\n");
    spit(OUT "/robust/app.c", "#include \"robust.h\"\nint main(void) { return 0; }\n");
    assert_int_equal(runf(NULL, "touch -d '1 hour ago' " OUT "/robust/robust.c"), 0);
    const char *make = MAKE " -C " OUT "/robust --no-print-directory ADGEN=%s/" ROOT
                       "/usr/local/bin/adgen 2>&1";
    for (int run = 0; run < 2; run++) {
        char *out = NULL;
        assert_int_not_equal(runf(&out, make, cwd()), 0);
        assert_contains(out, "refusing to overwrite 'robust.c'");
        free(out);
        char *kept = read_file(OUT "/robust/robust.c");
        assert_non_null(kept);
        assert_string_equal(kept, mine);
        free(kept);
    }
}

/* The README's examples of the model language, as they stand, go through adgen and the C
 * compiles warning-free: the documentation cannot drift from the language. */
static void test_readme_models(void **state)
{
    (void)state;
    char *readme = read_file("README.md");
    assert_non_null(readme);
    const char *start = strstr(readme, "### Models:");
    const char *end = start ? strstr(start, "- **Indices and bounds**") : NULL;
    assert_non_null(end);
    Buf src = {0};
    for (const char *line = start; line < end;) {
        const char *nl = strchr(line, '\n');
        if (strncmp(line, "    ", 4) == 0) {
            buf_putn(&src, line + 4, (size_t)(nl - line - 4));
            buf_puts(&src, "\n");
        }
        line = nl + 1;
    }
    assert_int_equal(runf(NULL, "mkdir -p " OUT "/models"), 0);
    spit(OUT "/models/models.expr", src.data);
    char *out = NULL;
    assert_int_equal(runf(&out, ADGEN_CMD " " OUT "/models/models.expr -o " OUT
                                "/models/models.c --header " OUT "/models/models.h 2>&1 && gcc "
                                WARN_FLAGS " -c -o " OUT "/models/models.o " OUT
                                "/models/models.c 2>&1"), 0);
    free(out);
    /* the signatures the README shows beside the examples */
    char *h = read_file(OUT "/models/models.h");
    assert_contains(h, "double rosen_grad(const double *x, double *x_bar);");
    assert_contains(h, "double huber_grad(double r, double delta, double *r_bar);");
    assert_contains(h, "double mlp(const double *A0, const double *b0, const double *A1, "
                       "const double *b1, const double *x, const double *y);");
    free(h);
    buf_free(&src);
    free(readme);
}

static const char broken_model[] = "resid(a, k, c, t, y) = a*exp(-k*t) + c - y +\n";

static void test_project_failed_run_retries(void **state)
{
    (void)state;
    install();
    char *out = NULL;

    /* from a clean copy: the failed run leaves no generated file at all */
    fresh_project();
    char *good = read_file(PROJECT "/model.expr");
    assert_non_null(good);
    spit(PROJECT "/model.expr", broken_model);
    assert_int_not_equal(make_project(&out, "-j4"), 0);
    assert_contains(out, "model.expr:1:");
    free(out);
    assert_false(exists(PROJECT "/model.c"));
    assert_false(exists(PROJECT "/model.h"));
    assert_false(exists(PROJECT "/model.adgen.d"));
    assert_false(exists(PROJECT "/model.adgen.stamp"));
    assert_int_equal(runf(&out, "ls " PROJECT), 0);
    assert_null(strstr(out, "adgen-")); /* no temporary file left either */
    free(out);

    /* with earlier outputs: they stay as they were, and the next make runs adgen again */
    spit(PROJECT "/model.expr", good);
    assert_int_equal(make_project(NULL, "-j4"), 0);
    char *before = read_file(PROJECT "/model.c");
    spit(PROJECT "/model.expr", broken_model);
    assert_int_equal(runf(NULL, "touch -d '1 hour ago' " PROJECT "/model.c " PROJECT
                                "/model.h"), 0);
    for (int attempt = 0; attempt < 2; attempt++) {
        assert_int_not_equal(make_project(&out, ""), 0);
        assert_contains(out, "adgen");
        assert_contains(out, "error:");
        free(out);
    }
    char *after = read_file(PROJECT "/model.c");
    assert_string_equal(before, after);
    spit(PROJECT "/model.expr", good);
    assert_int_equal(make_project(NULL, ""), 0);
    assert_int_equal(runf(NULL, PROJECT "/fit > /dev/null"), 0);
    free(before);
    free(after);
    free(good);
}

/* The source includes its header, by its path from the source's directory, so that a
 * prototype edited in one is a compile error, not a silent mismatch (issue 22). */
static void test_source_includes_its_header(void **state)
{
    (void)state;
    assert_int_equal(runf(NULL, "mkdir -p " OUT "/inc/a " OUT "/src"), 0);
    spit(OUT "/inc/own.expr", "f(x, y) = x*y + sin(x)\n");
    assert_int_equal(runf(NULL, ADGEN_CMD " " OUT "/inc/own.expr -o " OUT "/src/own.c "
                                "--header " OUT "/inc/a/own.h"), 0);
    char *c = read_file(OUT "/src/own.c");
    assert_non_null(c);
    assert_contains(c, "\n#include \"../inc/a/own.h\"\n");
    free(c);
    /* compiled from elsewhere, the include is found beside the source */
    assert_int_equal(runf(NULL, "cd / && gcc -std=c99 -Wall -Wextra -pedantic -Werror -c "
                                "\"$OLDPWD/" OUT "/src/own.c\" -o /dev/null"), 0);
    /* a declaration that no longer matches the definition does not compile */
    assert_int_equal(runf(NULL, "sed -i 's/^ADGEN_FUNC double f(double x, double y);/ADGEN_FUNC float "
                                "f(double x, double y);/' " OUT "/inc/a/own.h"), 0);
    char *h = read_file(OUT "/inc/a/own.h");
    assert_contains(h, "float f(double x, double y);");
    free(h);
    assert_int_not_equal(runf(NULL, "gcc -std=c99 -c " OUT "/src/own.c -o /dev/null "
                                    "2>/dev/null"), 0);
    /* the same directory: the file name alone */
    assert_int_equal(runf(NULL, ADGEN_CMD " " OUT "/inc/own.expr -o " OUT "/inc/own.c "
                                "--header " OUT "/inc/own.h"), 0);
    c = read_file(OUT "/inc/own.c");
    assert_contains(c, "\n#include \"own.h\"\n");
    free(c);
}

/* ---- --check and depfiles --------------------------------------------------------------------- */

static void test_check_fresh_and_stale(void **state)
{
    (void)state;
    spit(OUT "/chk.expr", "f(x, y) = x*y + sin(x)\n");
    const char *gen = ADGEN_CMD " " OUT "/chk.expr -o " OUT "/chk.c --header=" OUT "/chk.h";
    char *err = NULL;
    /* nothing generated yet: the outputs are missing */
    assert_int_equal(runf(&err, "%s --check 2>&1", gen), 1);
    assert_contains(err, "missing");
    free(err);
    assert_false(exists(OUT "/chk.c"));
    assert_int_equal(runf(NULL, "%s", gen), 0);
    assert_int_equal(runf(NULL, "%s --check", gen), 0);
    /* the same options matter: output made with others is not current */
    assert_int_equal(runf(NULL, "%s --check --real=float 2>/dev/null", gen), 1);

    char *c_before = read_file(OUT "/chk.c"), *h_before = read_file(OUT "/chk.h");
    spit(OUT "/chk.expr", "f(x, y) = x*y + cos(x)\n");
    assert_int_equal(runf(&err, "%s --check 2>&1", gen), 1);
    assert_contains(err, "out of date");
    /* and where: the first line that differs (the source's comment), as it was and would be */
    const char *at = strstr(c_before, "/* f(x, y) = x*y + sin(x) */");
    assert_non_null(at);
    int line = 1;
    for (const char *c = c_before; c < at; c++)
        line += *c == '\n';
    char want[200];
    snprintf(want, sizeof want, "/chk.c:%d: first difference:\n  was: /* f(x, y) = x*y + sin(x) "
                                "*/\n  now: /* f(x, y) = x*y + cos(x) */\n", line);
    assert_contains(err, want);
    free(err);
    /* --check wrote nothing */
    char *c_after = read_file(OUT "/chk.c"), *h_after = read_file(OUT "/chk.h");
    assert_string_equal(c_before, c_after);
    assert_string_equal(h_before, h_after);
    /* a header-only change is found as well */
    assert_int_equal(runf(NULL, "%s && echo '/* edited */' >> " OUT "/chk.h", gen), 0);
    assert_int_equal(runf(NULL, "%s --check 2>/dev/null", gen), 1);
    /* --check needs a file to compare with */
    assert_int_equal(runf(NULL, ADGEN_CMD " --check " OUT "/chk.expr 2>/dev/null"), 2);
    free(c_before);
    free(h_before);
    free(c_after);
    free(h_after);
}

static void test_depfile(void **state)
{
    (void)state;
    assert_int_equal(runf(NULL, "mkdir -p '" OUT "/dir with space'"), 0);
    spit(OUT "/dir with space/m$x.expr", "f(x) = x^2\n");
    assert_int_equal(runf(NULL, ADGEN_CMD " -MD -o " OUT "/dep.c --header " OUT "/dep.h '" OUT
                                "/dir with space/m$x.expr'"), 0);
    char *d = read_file(OUT "/dep.d");
    assert_non_null(d);
    /* make's escapes: a space as '\ ', a dollar doubled */
    assert_string_equal(d, OUT "/dep.c " OUT "/dep.h: " OUT "/dir\\ with\\ space/m$$x.expr\n");
    free(d);

    /* -MF names the file and -MT the targets */
    spit(OUT "/dep2.expr", "f(x) = x^2\n");
    assert_int_equal(runf(NULL, ADGEN_CMD " -MF " OUT "/deps.mk -MT gen -MT 'all files' -o " OUT
                                "/dep2.c " OUT "/dep2.expr"), 0);
    d = read_file(OUT "/deps.mk");
    assert_string_equal(d, "gen all\\ files: " OUT "/dep2.expr\n");
    free(d);

    /* make reads the first rule back: the escaped name is the input, so dep.c is remade
     * exactly when the input is newer */
    spit(OUT "/test.mk", "include " OUT "/dep.d\n" OUT "/dep.c:\n\t@echo remade\n");
    char *out = NULL;
    assert_int_equal(runf(NULL, "touch -d '1 hour ago' '" OUT "/dir with space/m$x.expr'"), 0);
    assert_int_equal(runf(&out, MAKE " -s -f " OUT "/test.mk " OUT "/dep.c 2>&1"), 0);
    assert_null(strstr(out, "remade"));
    free(out);
    assert_int_equal(runf(NULL, "touch '" OUT "/dir with space/m$x.expr'"), 0);
    assert_int_equal(runf(&out, MAKE " -s -f " OUT "/test.mk " OUT "/dep.c 2>&1"), 0);
    assert_contains(out, "remade");
    free(out);

    /* without -o there is no name to derive the depfile's from */
    assert_int_equal(runf(NULL, ADGEN_CMD " -MD " OUT "/dep2.expr > /dev/null 2>&1"), 2);
    /* a failed run writes no depfile */
    spit(OUT "/bad.expr", "f(x) = x +\n");
    assert_int_equal(runf(NULL, ADGEN_CMD " -MD -o " OUT "/bad.c " OUT "/bad.expr 2>/dev/null"),
                     1);
    assert_false(exists(OUT "/bad.d"));
    assert_false(exists(OUT "/bad.c"));
}

/* ---- reproducible output ---------------------------------------------------------------------- */

static void test_output_locale_independent(void **state)
{
    (void)state;
    char *out = NULL;
    /* a German locale, with a decimal comma, compiled into the build tree: no root needed,
     * only the locale sources of the `locales` package (the README's apt-get line) */
    assert_int_equal(runf(NULL, "rm -rf " OUT "/locale && mkdir -p " OUT "/locale"), 0);
    runf(NULL, "localedef -i de_DE -f UTF-8 " OUT "/locale/de_DE.UTF-8 >/dev/null 2>&1");
    /* the locale must exist and use a decimal comma, or this test proves nothing */
    assert_int_equal(runf(&out, "LOCPATH=" OUT "/locale LC_ALL=de_DE.UTF-8 locale decimal_point "
                                "2>&1"), 0);
    if (strcmp(out, ",\n") != 0)
        fail_msg("cannot make the de_DE.UTF-8 locale (locale decimal_point printed '%s'): "
                 "localedef needs /usr/share/i18n/locales/de_DE, from the locales package",
                 out);
    free(out);
    spit(OUT "/loc.expr", "f(x, y) = 0.5*x + 1.5e-3*y^2.5 + 1e-300*x/3 + 123456.789\n");
    assert_int_equal(runf(NULL, "LC_ALL=C " ADGEN_CMD " " OUT "/loc.expr -o " OUT "/loc_c.c"), 0);
    assert_int_equal(runf(NULL, "LOCPATH=" OUT "/locale LC_ALL=de_DE.UTF-8 LANG=de_DE.UTF-8 "
                                ADGEN_CMD " " OUT "/loc.expr -o " OUT "/loc_de.c"), 0);
    char *c = read_file(OUT "/loc_c.c"), *de = read_file(OUT "/loc_de.c");
    assert_contains(c, "0.5");
    /* the texts differ only in the output file's name in the #line directives */
    char *p;
    while ((p = strstr(de, "loc_de.c")) != NULL)
        memcpy(p, "loc_c.c", 8), memmove(p + 7, p + 8, strlen(p + 8) + 1);
    assert_string_equal(c, de);
    free(c);
    free(de);
}

/* ---- #line ------------------------------------------------------------------------------------ */

static const char line_src[] =
    "# a model over several lines\n"
    "m(x, y) {\n"
    "    a = x * y\n"
    "\n"
    "    b = min(a, y)    # a tie test: == in the gradient\n"
    "    c = (exp(b) +\n"
    "         sqrt(a^2 + 1))\n"
    "    return c / 3\n"
    "}\n";

/* The source line the compiler assigns to each line of text, from its #line directives
 * (0 for lines that stand for the generated file itself). */
static int mapped_line(const char *text, const char *upto, const char *file)
{
    int line = 0, in_file = 0;
    for (const char *s = text; s < upto; s = strchr(s, '\n') + 1) {
        int n;
        char name[256];
        if (sscanf(s, "#line %d \"%255[^\"]\"", &n, name) == 2) {
            line = n;
            in_file = strcmp(name, file) == 0;
        } else {
            line++;
        }
    }
    return in_file ? line : 0;
}

static void test_line_directives(void **state)
{
    (void)state;
    spit(OUT "/lines.expr", line_src);
    assert_int_equal(runf(NULL, ADGEN_CMD " " OUT "/lines.expr -o " OUT "/lines.c"), 0);
    char *c = read_file(OUT "/lines.c");
    const char *file = OUT "/lines.expr";

    /* each named statement stands for the line it is written on in lines.expr */
    const struct { const char *stmt; int line; } expect[] = {
        {"const double a = ", 3}, {"const double b = ", 5}, {"const double c = ", 6},
        {"\n    return ", 8},
    };
    for (size_t i = 0; i < sizeof expect / sizeof *expect; i++) {
        const char *at = strstr(c, expect[i].stmt);
        assert_non_null(at);
        at += at[0] == '\n';
        while (at > c && at[-1] != '\n')
            at--;
        int got = mapped_line(c, at, file);
        if (got != expect[i].line)
            fail_msg("'%s' maps to line %d of lines.expr, expected %d", expect[i].stmt, got,
                     expect[i].line);
    }
    /* every directive back to lines.c names the line that follows it */
    int physical = 1;
    for (const char *s = c; *s; s = strchr(s, '\n') + 1, physical++) {
        int n, matched = 0;
        if (sscanf(s, "#line %d \"" OUT "/lines.c\"%n", &n, &matched) == 1 && matched &&
            n != physical + 1)
            fail_msg("line %d: '#line %d' should say %d", physical, n, physical + 1);
    }

    /* what the compiler reports: -Wfloat-equal on min's tie test, which the adjoint of
     * `a = x * y` (line 3) holds, is reported in lines.expr, never in lines.c */
    char *out = NULL;
    assert_int_equal(runf(&out, "gcc -std=c99 -Wfloat-equal -c -o " OUT "/lines.o " OUT
                                "/lines.c 2>&1"), 0);
    assert_contains(out, "lines.expr:3:");
    assert_null(strstr(out, "lines.c:"));
    free(out);

    assert_int_equal(runf(&out, ADGEN_CMD " --no-line " OUT "/lines.expr"), 0);
    assert_null(strstr(out, "#line"));
    free(out);
    free(c);
}

/* ---- emission options, compiled and run ------------------------------------------------------- */

/* f(x, y) = x*y + sin(x)*exp(y/2): f_x = y + cos(x) exp(y/2), f_y = x + sin(x) exp(y/2)/2 */
static const char opt_src[] = "f(x, y, z) = x*y + sin(x)*exp(y/2)\n";

static const char real_driver[] =
    "#include <math.h>\n"
    "#include <stdio.h>\n"
    "#include \"fl.h\"\n"
    "#include \"ld.h\"\n"
    "int main(void)\n"
    "{\n"
    "    int bad = 0;\n"
    "    for (double x = -2.0; x <= 2.0; x += 0.25) {\n"
    "        double y = 0.7 - x / 3;\n"
    "        double fx = y + cos(x) * exp(y / 2), fy = x + sin(x) * exp(y / 2) / 2;\n"
    "        double v = x * y + sin(x) * exp(y / 2);\n"
    "        float g[3] = {9, 9, 9};\n"
    "        long double h[3] = {9, 9, 9};\n"
    "        double vf = (double)fl_f_grad((float)x, (float)y, 1.0f, &g[0], &g[1], &g[2]);\n"
    "        long double vl = ld_f_grad(x, y, 1.0L, &h[0], &h[1], &h[2]);\n"
    "        /* float: a few ulps of float; long double: of double, its inputs' precision */\n"
    "        bad |= fabs(vf - v) > 1e-5 * (1 + fabs(v))\n"
    "            || fabs((double)g[0] - fx) > 1e-5 * (1 + fabs(fx))\n"
    "            || fabs((double)g[1] - fy) > 1e-5 * (1 + fabs(fy)) || g[2] != 0.0f;\n"
    "        bad |= fabsl(vl - v) > 1e-14 * (1 + fabs(v)) || fabsl(h[0] - fx) > 1e-14 * (1 + fabs(fx))\n"
    "            || fabsl(h[1] - fy) > 1e-14 * (1 + fabs(fy)) || h[2] != 0.0L;\n"
    "        bad |= (double)fl_f((float)x, (float)y, 0.0f) != vf || ld_f(x, y, 0.0L) != vl;\n"
    "    }\n"
    "    puts(bad ? \"mismatch\" : \"ok\");\n"
    "    return bad;\n"
    "}\n";

/* OUT/<f>.c (float code) and OUT/<l>.c (long double code) compiled with gcc and with clang
 * under -Wdouble-promotion -Wfloat-conversion (the generated code must not promote: the flags
 * hold for it, not for the driver), linked with OUT/<driver>.c into OUT/<exe> and run: it must
 * print "ok". */
static void build_real_pair(const char *f, const char *l, const char *driver, const char *exe)
{
    const char *compilers[] = {"gcc", "clang"};
    for (int i = 0; i < 2; i++) {
        const char *cc = compilers[i];
        char *out = NULL;
        int rc = runf(&out, "%s " WARN_FLAGS " -Wdouble-promotion -Wfloat-conversion -c -o "
                            OUT "/%s.o " OUT "/%s.c 2>&1 && %s " WARN_FLAGS
                            " -Wdouble-promotion -Wfloat-conversion -c -o " OUT "/%s.o " OUT
                            "/%s.c 2>&1 && %s " WARN_FLAGS " -I" OUT " -o " OUT "/%s " OUT
                            "/%s.c " OUT "/%s.o " OUT "/%s.o -lm 2>&1 && " OUT "/%s",
                      cc, f, f, cc, l, l, cc, exe, driver, f, l, exe);
        if (rc != 0)
            fail_msg("%s: %s", cc, out);
        assert_contains(out, "ok");
        free(out);
    }
}

static void test_real_float_and_long_double(void **state)
{
    (void)state;
    spit(OUT "/real.expr", opt_src);
    spit(OUT "/real_driver.c", real_driver);
    assert_int_equal(runf(NULL, ADGEN_CMD " --real=float --prefix=fl_ " OUT "/real.expr -o " OUT
                                "/fl.c --header " OUT "/fl.h"), 0);
    assert_int_equal(runf(NULL, ADGEN_CMD " '--real=long double' --prefix=ld_ " OUT
                                "/real.expr -o " OUT "/ld.c --header " OUT "/ld.h"), 0);
    /* long double constants as written: pi and 0.1 to long double precision, not a
     * double's; checked against acosl(-1) and the C compiler's own 0.1L */
    spit(OUT "/ldpi.expr", "g(x) = pi*x + 0.1*x - 1/3\n");
    spit(OUT "/ldpi_main.c", "#include <math.h>\n#include \"ldpi.h\"\n"
                             "int main(void) { return g(1.0L) != acosl(-1.0L) + 0.1L - 1.0L / 3.0L; }\n");
    assert_int_equal(runf(NULL, ADGEN_CMD " '--real=long double' " OUT "/ldpi.expr -o " OUT
                                "/ldpi.c --header " OUT "/ldpi.h && gcc " WARN_FLAGS " -I" OUT
                                " -o " OUT "/ldpi " OUT "/ldpi_main.c " OUT "/ldpi.c -lm && "
                                OUT "/ldpi"), 0);
    /* so are the constants of derivatives: ln 2 of log2' to long double precision */
    char *ld = NULL;
    assert_int_equal(runf(&ld, "echo 'h(x) = log2(x)' | " ADGEN_CMD " '--real=long double' -"),
                     0);
    assert_contains(ld, "0.693147180559945309417232121458176568L");
    free(ld);
    char *fl = read_file(OUT "/fl.c");
    assert_contains(fl, "float fl_f(float x, float y, float z)");
    assert_contains(fl, "sinf(");
    assert_null(strstr(fl, "double"));
    free(fl);
    build_real_pair("fl", "ld", "real_driver", "real_test");
}

/* Every function of the language beyond opt_src's; the stable forms at extreme arguments. */
static const char funcs_src[] =
    "sig(x) = sigmoid(x)\n"
    "sp(x) = softplus(x)\n"
    "er(x) = erf(x) - erfc(x)\n"
    "all(x) = (asinh(x) + acosh(1 + x^2) + atanh(x/2) + expm1(x) + log1p(x^2) + log2(1 + x^2)\n"
    "          + log10(2 + x) + cbrt(x) + floor(x) + ceil(x) + sign(x) + relu(x))\n";

static const char funcs_driver[] =
    "#include <math.h>\n"
    "#include <stdio.h>\n"
    "#include \"fs.h\"\n"
    "#include \"ls.h\"\n"
    "/* all(x) and its derivative, in double, for x away from 0, the integers and +-2 */\n"
    "static double all(double x, double *d)\n"
    "{\n"
    "    double x2 = x * x, c = cbrt(x), s = x > 0 ? 1 : -1;\n"
    "    *d = 1 / sqrt(1 + x2) + 2 * s / sqrt(x2 + 2) + 0.5 / (1 - x2 / 4) + exp(x)\n"
    "         + 2 * x / (1 + x2) + 2 * x / ((1 + x2) * log(2.0)) + 1 / ((2 + x) * log(10.0))\n"
    "         + 1 / (3 * c * c) + (x > 0);\n"
    "    return asinh(x) + acosh(1 + x2) + atanh(x / 2) + expm1(x) + log1p(x2) + log2(1 + x2)\n"
    "           + log10(2 + x) + c + floor(x) + ceil(x) + s + (x > 0 ? x : 0);\n"
    "}\n"
    "int main(void)\n"
    "{\n"
    "    int bad = 0;\n"
    "    float g;\n"
    "    long double h;\n"
    "    /* exp(-x) underflows for x = 1e5 in long double too, and erfc(200) */\n"
    "    for (int i = 0; i < 2; i++) {\n"
    "        double x = i ? -1e5 : 1e5, one = x > 0;\n"
    "        bad |= fs_sig_grad((float)x, &g) != one || g != 0;\n"
    "        bad |= ls_sig_grad(x, &h) != one || h != 0;\n"
    "        bad |= fs_sp_grad((float)x, &g) != (x > 0 ? x : 0) || g != one;\n"
    "        bad |= ls_sp_grad(x, &h) != (x > 0 ? x : 0) || h != one;\n"
    "        bad |= fs_er_grad((float)x / 500, &g) != (x > 0 ? 1 : -3) || g != 0;\n"
    "        bad |= ls_er_grad(x / 500, &h) != (x > 0 ? 1 : -3) || h != 0;\n"
    "    }\n"
    "    static const double at[] = {0.7, -1.3, 1.6, -0.45};\n"
    "    for (int i = 0; i < 4; i++) {\n"
    "        double d, v = all(at[i], &d);\n"
    "        double vf = (double)fs_all_grad((float)at[i], &g);\n"
    "        long double vl = ls_all_grad(at[i], &h);\n"
    "        /* float: a few ulps of float; long double: of double, the reference's */\n"
    "        bad |= fabs(vf - v) > 1e-5 * (1 + fabs(v));\n"
    "        bad |= fabs((double)g - d) > 1e-5 * (1 + fabs(d));\n"
    "        bad |= fabsl(vl - v) > 1e-14 * (1 + fabs(v));\n"
    "        bad |= fabsl(h - d) > 1e-14 * (1 + fabs(d));\n"
    "    }\n"
    "    puts(bad ? \"mismatch\" : \"ok\");\n"
    "    return bad;\n"
    "}\n";

/* The functions beyond <math.h>'s and the stable forms print in the --real type: compiled
 * with the promotion warnings on, run at extreme arguments, checked against double. */
static void test_real_functions(void **state)
{
    (void)state;
    spit(OUT "/funcs.expr", funcs_src);
    spit(OUT "/funcs_driver.c", funcs_driver);
    assert_int_equal(runf(NULL, ADGEN_CMD " --real=float --prefix=fs_ " OUT "/funcs.expr -o "
                                OUT "/fs.c --header " OUT "/fs.h"), 0);
    assert_int_equal(runf(NULL, ADGEN_CMD " '--real=long double' --prefix=ls_ " OUT
                                "/funcs.expr -o " OUT "/ls.c --header " OUT "/ls.h"), 0);
    char *fs = read_file(OUT "/fs.c"), *ls = read_file(OUT "/ls.c");
    assert_contains(fs, "(x >= 0.0f ? 1.0f / (1.0f + expf(-x)) : expf(x) / (1.0f + expf(x)))");
    assert_contains(ls, "(fmaxl(x, 0.0L) + log1pl(expl(-fabsl(x))))");
    assert_null(strstr(fs, "double"));
    free(fs);
    free(ls);
    build_real_pair("fs", "ls", "funcs_driver", "funcs_test");
}

static const char static_tu1[] =
    "#include \"st.c\"\n"
    "double use_value(double x);\n"
    "double use_value(double x) { return st_f(x, 2.0, 0.0); }\n";

static const char static_tu2[] =
    "#include <math.h>\n"
    "#include <stdio.h>\n"
    "#include \"st.c\"\n"
    "double use_value(double x);\n"
    "int main(void)\n"
    "{\n"
    "    double gx = 10, gy = 20, gz = 30, x = 0.3, y = 2.0;\n"
    "    double v = st_f_grad(x, y, 5.0, &gx, &gy, &gz);\n"
    "    v = st_f_grad(x, y, 5.0, &gx, &gy, &gz);\n"
    "    /* --accumulate: two calls add twice the gradient to what was there */\n"
    "    double fx = y + cos(x) * exp(y / 2), fy = x + sin(x) * exp(y / 2) / 2;\n"
    "    int bad = fabs(gx - (10 + 2 * fx)) > 1e-13 || fabs(gy - (20 + 2 * fy)) > 1e-13\n"
    "              || gz != 30 || v != use_value(x);\n"
    "    puts(bad ? \"mismatch\" : \"ok\");\n"
    "    return bad;\n"
    "}\n";

static void test_static_accumulate_prefix(void **state)
{
    (void)state;
    spit(OUT "/st.expr", opt_src);
    spit(OUT "/tu1.c", static_tu1);
    spit(OUT "/tu2.c", static_tu2);
    assert_int_equal(runf(NULL, ADGEN_CMD " --static --accumulate --prefix=st_ " OUT
                                "/st.expr -o " OUT "/st.c"), 0);
    /* each unit #includes the source and uses one function: no unused-function warning, no
     * duplicate symbol at link time */
    const char *compilers[] = {"gcc", "clang"};
    for (int i = 0; i < 2; i++) {
        char *out = NULL;
        int rc = runf(&out, "%s " WARN_FLAGS " -Wmissing-prototypes -I" OUT " -o " OUT
                            "/st_test " OUT "/tu1.c " OUT "/tu2.c -lm 2>&1 && " OUT "/st_test",
                      compilers[i]);
        if (rc != 0)
            fail_msg("%s: %s", compilers[i], out);
        assert_contains(out, "ok");
        free(out);
    }
    /* a header cannot declare static functions */
    assert_int_equal(runf(NULL, ADGEN_CMD " --static --header " OUT "/st.h " OUT
                                "/st.expr > /dev/null 2>&1"), 2);
}

static void test_name_option(void **state)
{
    (void)state;
    spit(OUT "/bare.expr", "x*y + sin(x)\n");
    spit(OUT "/name_driver.c",
         "#include <math.h>\n#include \"energy.h\"\n"
         "int main(void) { double gx, gy; double v = energy_grad(1.0, 2.0, &gx, &gy);\n"
         "    return !(v == energy(1.0, 2.0) && fabs(gx - (2.0 + cos(1.0))) < 1e-15 && gy == 1.0); }\n");
    assert_int_equal(runf(NULL, ADGEN_CMD " --name=energy " OUT "/bare.expr -o " OUT
                                "/energy.c --header " OUT "/energy.h"), 0);
    assert_int_equal(runf(NULL, "gcc " WARN_FLAGS " -I" OUT " -o " OUT "/name_test " OUT
                                "/name_driver.c " OUT "/energy.c -lm && " OUT "/name_test"), 0);

    /* --name needs a file with one function: located error, nothing written */
    spit(OUT "/two.expr", "f(x) = x\ng(x) = 2*x\n");
    char *err = NULL;
    assert_int_equal(runf(&err, ADGEN_CMD " --name=h " OUT "/two.expr -o " OUT "/two.c 2>&1"), 1);
    assert_contains(err, OUT "/two.expr:2:1: error: --name");
    free(err);
    assert_false(exists(OUT "/two.c"));
    /* names that are not C identifiers are usage errors */
    assert_int_equal(runf(NULL, ADGEN_CMD " --name=2x " OUT "/bare.expr >/dev/null 2>&1"), 2);
    assert_int_equal(runf(NULL, ADGEN_CMD " --prefix=a-b " OUT "/bare.expr >/dev/null 2>&1"), 2);
    assert_int_equal(runf(NULL, ADGEN_CMD " --real=half " OUT "/bare.expr >/dev/null 2>&1"), 2);
    /* options are named as the user wrote them, inside a cluster or in gcc's spelling */
    assert_int_equal(runf(&err, ADGEN_CMD " " OUT "/bare.expr -MF 2>&1"), 2);
    assert_contains(err, "option '-MF' requires an argument");
    free(err);
    assert_int_equal(runf(&err, ADGEN_CMD " -xV " OUT "/bare.expr 2>&1"), 2);
    assert_contains(err, "unrecognized option '-x'");
    free(err);
}

/* Compiled as C++, the source has the C linkage its header declares; two headers named
 * model.h in different directories have different include guards. */
static void test_cxx_and_guards(void **state)
{
    (void)state;
    assert_int_equal(runf(NULL, "mkdir -p " OUT "/robot " OUT "/pend"), 0);
    spit(OUT "/robot/model.expr", "arm(t) = cos(t) + 0.5*cos(2*t)\n");
    spit(OUT "/pend/model.expr", "energy(t) = 1 - cos(t)\n");
    for (int i = 0; i < 2; i++)
        assert_int_equal(runf(NULL, ADGEN_CMD " " OUT "/%s/model.expr -o " OUT "/%s/model.cpp "
                                    "--header " OUT "/%s/model.h",
                              i ? "pend" : "robot", i ? "pend" : "robot", i ? "pend" : "robot"),
                         0);
    spit(OUT "/both.cpp", "#include <cmath>\n#include \"robot/model.h\"\n#include \"pend/model.h\"\n"
                          "int main() { double g; return !(arm(0) == 1.5 && energy_grad(1, &g) == "
                          "1 - std::cos(1.0) && g == std::sin(1.0)); }\n");
    char *out = NULL;
    int rc = runf(&out, "g++ -Wall -Wextra -Werror -I" OUT " -o " OUT "/both " OUT "/both.cpp "
                        OUT "/robot/model.cpp " OUT "/pend/model.cpp 2>&1 && " OUT "/both");
    if (rc != 0)
        fail_msg("%s", out);
    free(out);
}

/* An output never replaces the input or another output; a symbolic link is written
 * through, and a replaced file keeps its mode. */
static void test_output_paths(void **state)
{
    (void)state;
    spit(OUT "/in.expr", "f(x) = x^3\n");
    char *err = NULL;
    assert_int_equal(runf(&err, ADGEN_CMD " -o ./" OUT "/in.expr " OUT "/in.expr 2>&1"), 2);
    assert_contains(err, "is the input file");
    free(err);
    assert_int_equal(runf(&err, ADGEN_CMD " -o " OUT "/o.c --header " OUT "/o.c " OUT
                                "/in.expr 2>&1"), 2);
    assert_contains(err, "given for two outputs");
    free(err);
    assert_int_equal(runf(NULL, ADGEN_CMD " -MD -o " OUT "/o.d " OUT "/in.expr 2>/dev/null"), 2);
    char *in = read_file(OUT "/in.expr");
    assert_string_equal(in, "f(x) = x^3\n");
    free(in);
    assert_false(exists(OUT "/o.c"));
    /* devices are not files to protect */
    assert_int_equal(runf(NULL, ADGEN_CMD " -o /dev/null --header /dev/null " OUT "/in.expr"), 0);

    assert_int_equal(runf(NULL, "cd " OUT " && rm -f target.c link.c && echo '" OLD_GENERATED "' > target.c "
                                "&& chmod 640 target.c && ln -s target.c link.c"), 0);
    assert_int_equal(runf(NULL, ADGEN_CMD " -o " OUT "/link.c " OUT "/in.expr"), 0);
    struct stat st;
    assert_int_equal(lstat(OUT "/link.c", &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(stat(OUT "/target.c", &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    char *c = read_file(OUT "/target.c");
    assert_contains(c, "double f_grad(double x, double *x_bar)");
    free(c);
}

/* ---- the CMake package ---------------------------------------------------------------------- */

#define CMAKE_PROJECT OUT "/cmake"

/* The closed form of eq. 5.110 for the program to compare with. */
static const char cmake_app[] =
    "#include <math.h>\n#include <stdio.h>\n#include \"model.h\"\n"
    "int main(void)\n{\n"
    "    double x = 0.7, g, u = x * x + exp(x * x);\n"
    "    double f = m_f_grad(x, &g);\n"
    "    double want = 2 * x * (1 / (2 * sqrt(u)) - sin(u)) * (1 + exp(x * x));\n"
    "    if (fabs(f - (sqrt(u) + cos(u))) > 1e-14 || fabs(g - want) > 1e-13) {\n"
    "        printf(\"wrong: %.17g %.17g\\n\", f, g);\n        return 1;\n    }\n"
    "    puts(\"ok\");\n    return 0;\n}\n";

static void test_cmake_package(void **state)
{
    (void)state;
    if (runf(NULL, "command -v cmake >/dev/null") != 0)
        fail_msg("cmake is missing: the CMake package cannot be tested (apt-get install cmake)");
    install();
    assert_true(exists(ROOT "/usr/local/share/adgen/cmake/adgenConfig.cmake"));
    assert_int_equal(runf(NULL, "rm -rf " CMAKE_PROJECT " && mkdir -p " CMAKE_PROJECT), 0);
    spit(CMAKE_PROJECT "/CMakeLists.txt",
         "cmake_minimum_required(VERSION 3.13)\nproject(tiny C)\n"
         "find_package(adgen REQUIRED)\n"
         "add_executable(app app.c)\n"
         "adgen_generate(app model.expr OPTIONS --prefix=m_ --no-line)\n");
    spit(CMAKE_PROJECT "/app.c", cmake_app);
    spit(CMAKE_PROJECT "/model.expr", "f(x) = sqrt(x^2 + exp(x^2)) + cos(x^2 + exp(x^2))\n");
    char *out = NULL;
    int rc = runf(&out, "cmake -S " CMAKE_PROJECT " -B " CMAKE_PROJECT "/build "
                        "-DCMAKE_PREFIX_PATH=%s/" ROOT "/usr/local 2>&1 && "
                        "cmake --build " CMAKE_PROJECT "/build 2>&1", cwd());
    if (rc != 0)
        fail_msg("the CMake project does not build:\n%s", out);
    free(out);
    /* the installed adgen ran, into the binary directory, with the options and a depfile */
    assert_true(exists(CMAKE_PROJECT "/build/model.c"));
    assert_true(exists(CMAKE_PROJECT "/build/model.adgen.d"));
    assert_int_equal(runf(&out, CMAKE_PROJECT "/build/app"), 0);
    assert_string_equal(out, "ok\n");
    free(out);
    /* an edit of the .expr regenerates and rebuilds */
    spit(CMAKE_PROJECT "/model.expr", "f(x) = sqrt(x^2 + exp(x^2)) + cos(x^2 + exp(x^2))\n"
                                      "g(x) = x*x\n");
    assert_int_equal(runf(NULL, "touch -d '+2 seconds' " CMAKE_PROJECT "/model.expr"), 0);
    assert_int_equal(runf(NULL, "cmake --build " CMAKE_PROJECT "/build >/dev/null 2>&1"), 0);
    char *h = read_file(CMAKE_PROJECT "/build/model.h");
    assert_non_null(h);
    assert_contains(h, "m_g_grad");
    free(h);
    assert_int_equal(runf(&out, CMAKE_PROJECT "/build/app"), 0);
    free(out);
}

/* With Makefiles and Ninja, at cmake_minimum_required 3.13 (depfiles read as they are) and 3.20
 * (CMP0116 NEW), beside the project's own target_link_libraries of the plain signature: the
 * project builds and runs, and a second build runs nothing (an edit regenerates: above). */
static void test_cmake_generators_settle(void **state)
{
    (void)state;
    if (runf(NULL, "command -v cmake >/dev/null") != 0)
        fail_msg("cmake is missing: the CMake package cannot be tested (apt-get install cmake)");
    if (runf(NULL, "command -v ninja >/dev/null") != 0)
        fail_msg("ninja is missing: the CMake package cannot be tested with Ninja (apt-get "
                 "install ninja-build)");
    install();
    static const char *const generators[] = {"Unix Makefiles", "Ninja"};
    static const char *const versions[] = {"3.13", "3.20"};
    for (int g = 0; g < 2; g++) {
        for (int v = 0; v < 2; v++) {
            char text[512];
            assert_int_equal(runf(NULL, "rm -rf " CMAKE_PROJECT " && mkdir -p " CMAKE_PROJECT),
                             0);
            snprintf(text, sizeof text,
                     "cmake_minimum_required(VERSION %s)\nproject(tiny C)\n"
                     "find_package(adgen REQUIRED)\n"
                     "add_executable(app app.c)\n"
                     "adgen_generate(app model.expr OPTIONS --prefix=m_ --no-line)\n"
                     "target_link_libraries(app m)\n", versions[v]);
            spit(CMAKE_PROJECT "/CMakeLists.txt", text);
            spit(CMAKE_PROJECT "/app.c", cmake_app);
            spit(CMAKE_PROJECT "/model.expr",
                 "f(x) = sqrt(x^2 + exp(x^2)) + cos(x^2 + exp(x^2))\n");
            char *out = NULL;
            int rc = runf(&out, "cmake -G '%s' -S " CMAKE_PROJECT " -B " CMAKE_PROJECT "/build "
                                "-DCMAKE_PREFIX_PATH=%s/" ROOT "/usr/local 2>&1 && "
                                "cmake --build " CMAKE_PROJECT "/build 2>&1 && "
                                CMAKE_PROJECT "/build/app", generators[g], cwd());
            if (rc != 0)
                fail_msg("%s, cmake_minimum_required %s: the project does not build and run:\n%s",
                         generators[g], versions[v], out);
            free(out);
            assert_int_equal(runf(&out, "cmake --build " CMAKE_PROJECT "/build 2>&1"), 0);
            if (strstr(out, "adgen") || strstr(out, "Building") || strstr(out, "Linking"))
                fail_msg("%s, cmake_minimum_required %s: a second build with nothing changed "
                         "did work:\n%s", generators[g], versions[v], out);
            free(out);
            if (g == 0)
                continue;
            /* Ninja: a touch of the model runs adgen, which leaves the C as it was, and
             * compiles nothing (restat) */
            assert_int_equal(runf(NULL, "touch -d '+2 seconds' " CMAKE_PROJECT "/model.expr"),
                             0);
            assert_int_equal(runf(&out, "cmake --build " CMAKE_PROJECT "/build 2>&1"), 0);
            if (!strstr(out, "adgen") || strstr(out, "Building") || strstr(out, "Linking"))
                fail_msg("Ninja, cmake_minimum_required %s: after a touch of the model:\n%s",
                         versions[v], out);
            free(out);
        }
    }
}

/* ---- inline helpers ---------------------------------------------------------------------------- */

/* Two files, each with the helper `inline sq(u) = u*u`, link into one program: an inline
 * definition writes no C function (no sq, no sq_grad), only its callers, and their
 * gradients are the closed forms. */
static void test_inline_helpers_link_together(void **state)
{
    (void)state;
    const char *dir = OUT "/inline";
    assert_int_equal(runf(NULL, "rm -rf %s && mkdir -p %s", dir, dir), 0);
    spit(OUT "/inline/a.expr", "inline sq(u) = u*u\nf(x) = sq(x) + sin(x)\n");
    spit(OUT "/inline/b.expr", "inline sq(u) = u*u\ninline d2(a, b) = sq(a - b)\n"
                               "g(x, y) = d2(x, y)*sq(y)\n");
    spit(OUT "/inline/main.c",
         "#include <math.h>\n#include <stdio.h>\n#include \"a.h\"\n#include \"b.h\"\n"
         "int main(void)\n{\n"
         "    double x = 0.7, y = -1.3, d = x - y, fx, gx, gy;\n"
         "    f_grad(x, &fx);\n"
         "    g_grad(x, y, &gx, &gy);\n"
         "    if (fabs(fx - (2 * x + cos(x))) > 1e-15 || fabs(gx - 2 * d * y * y) > 1e-14 ||\n"
         "        fabs(gy - (-2 * d * y * y + 2 * y * d * d)) > 1e-14) {\n"
         "        puts(\"wrong\");\n        return 1;\n    }\n"
         "    puts(\"ok\");\n    return 0;\n}\n");
    char *out = NULL;
    int rc = runf(&out, "cd %s && %s/adgen a.expr -o a.c --header a.h 2>&1 && %s/adgen b.expr "
                        "-o b.c --header b.h 2>&1 && gcc -std=c99 -Wall -Wextra -pedantic -Werror "
                        "-o main main.c a.c b.c -lm 2>&1 && ./main", dir, cwd(), cwd());
    if (rc != 0)
        fail_msg("two files with the same inline helper:\n%s", out);
    assert_string_equal(out, "ok\n");
    free(out);
    for (int i = 0; i < 2; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s.c", dir, i ? "b" : "a");
        char *c = read_file(path);
        assert_non_null(c);
        assert_null(strstr(c, "double sq("));
        assert_null(strstr(c, "sq_grad"));
        free(c);
    }
}

/* ---- the man page ----------------------------------------------------------------------------- */

/* Whether word stands in text apart from longer words (log1p is not log). */
static int has_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *s = text; (s = strstr(s, word)) != NULL; s += n)
        if ((s == text || !isalnum((unsigned char)s[-1])) && !isalnum((unsigned char)s[n]))
            return 1;
    return 0;
}

static void test_man_page(void **state)
{
    (void)state;
    char *out = NULL;
    /* groff -ww: every warning; its messages go to stderr, the page to /dev/null */
    assert_int_equal(runf(&out, "groff -ww -man -Tutf8 adgen.1 2>&1 >/dev/null"), 0);
    assert_string_equal(out, "");
    free(out);
    char *page = NULL;
    assert_int_equal(runf(&page, "MANWIDTH=80 MANPAGER=cat man -l adgen.1 2>&1"), 0);
    /* every long option of --help is documented */
    char *help = NULL;
    assert_int_equal(runf(&help, ADGEN_CMD " --help"), 0);
    int options = 0;
    for (char *s = help; (s = strstr(s, "--")) != NULL; s += 2) {
        size_t n = strspn(s + 2, "abcdefghijklmnopqrstuvwxyz-");
        char option[64];
        snprintf(option, sizeof option, "--%.*s", (int)n, s + 2);
        if (!strstr(page, option))
            fail_msg("the man page does not document %s", option);
        options++;
    }
    assert_true(options >= 12);
    /* and every function of the language */
    for (int k = 0; k < N_KINDS; k++)
        if (op_info[k].lang && !has_word(page, op_info[k].lang))
            fail_msg("the man page does not list the function %s", op_info[k].lang);
    free(help);
    free(page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install_tree),
        cmocka_unit_test(test_project_builds_and_runs),
        cmocka_unit_test(test_oscfit_sample_fits),
        cmocka_unit_test(test_pfilter_sample_fits),
        cmocka_unit_test(test_ipopt_sample_solves),
        cmocka_unit_test(test_project_touch_rebuilds_dependents_only),
        cmocka_unit_test(test_project_failed_run_retries),
        cmocka_unit_test(test_readme_three_lines),
        cmocka_unit_test(test_readme_models),
        cmocka_unit_test(test_project_keeps_hand_written_file),
        cmocka_unit_test(test_source_includes_its_header),
        cmocka_unit_test(test_check_fresh_and_stale),
        cmocka_unit_test(test_depfile),
        cmocka_unit_test(test_output_locale_independent),
        cmocka_unit_test(test_line_directives),
        cmocka_unit_test(test_real_float_and_long_double),
        cmocka_unit_test(test_real_functions),
        cmocka_unit_test(test_static_accumulate_prefix),
        cmocka_unit_test(test_name_option),
        cmocka_unit_test(test_cxx_and_guards),
        cmocka_unit_test(test_output_paths),
        cmocka_unit_test(test_cmake_package),
        cmocka_unit_test(test_cmake_generators_settle),
        cmocka_unit_test(test_inline_helpers_link_together),
        cmocka_unit_test(test_man_page),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
