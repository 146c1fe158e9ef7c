# adgen: a source-to-source reverse-mode automatic differentiator.
# Everything built goes to build/; `make`, `make test`, `make demo`, `make docs`, `make bench`,
# `make install`, `make uninstall`, `make clean`; for reliability `make memcheck`, `make fuzz` and
# `make difftest` (described in README.md, "Reliability" and "Domain edges").

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror=switch
CPPFLAGS += -Isrc -Ibuild
STD      := -std=c99 -D_POSIX_C_SOURCE=200809L
LDLIBS   += -lm
FLEX     ?= flex
BISON    ?= bison
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DATADIR  ?= $(PREFIX)/share

SRCS     := $(wildcard src/*.c)
LIB_OBJS := $(patsubst src/%.c,build/%.o,$(filter-out src/main.c,$(SRCS))) \
            build/parser.o build/lexer.o
OBJS     := $(LIB_OBJS) build/main.o

all: adgen

adgen: $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

build/%.o: src/%.c | build
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) -MMD -MP -c -o $@ $<

# bison writes the parser and its header in one run: a grouped target.
build/parser.c build/parser.h &: parser.y | build
	$(BISON) -Wall -Werror --defines=build/parser.h -o build/parser.c $<

build/lexer.c build/lexer.h &: lexer.l | build
	$(FLEX) --header-file=build/lexer.h -o build/lexer.c $<

# Generated code is not held to our warning set (flex emits unused helpers and sign mixing).
build/parser.o: build/parser.c build/lexer.h
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

build/lexer.o: build/lexer.c build/parser.h
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# Every object may include parser.h through adgen.h users; make the edge explicit.
$(patsubst src/%.c,build/%.o,$(SRCS)): build/parser.h

build:
	mkdir -p build

# ---- tests: each tests/test_*.c is one cmocka program, run from the top directory -------------

TESTS := $(patsubst tests/%.c,build/tests/%,$(wildcard tests/test_*.c))

build/tests/%: tests/%.c tests/testutil.h $(LIB_OBJS) | build/tests
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) -MMD -MP -o $@ $< $(LIB_OBJS) -lcmocka $(LDLIBS)

build/tests:
	mkdir -p build/tests

# ---- sanitizers: adgen and the tests under ASan and UBSan, objects apart in build/asan/ -------
# Built by clang: its UBSan checks pointer arithmetic on NULL too, which gcc's lacks; at -O1
# it builds these objects in half the time of gcc -O2 and runs the 10 MB input of
# test_hostile in 10 s against gcc's 22. The fuzz target's seeds run through the same objects
# (build/asan/fuzz_adgen, below).
SAN_CC       ?= clang
SAN_FLAGS    := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# line tables and function names, inlined frames included, which is all a sanitizer's report
# prints
SAN_CFLAGS   := -O1 -g1
SAN_LIB_OBJS := $(patsubst build/%,build/asan/%,$(LIB_OBJS))
SAN_OBJS     := $(SAN_LIB_OBJS) build/asan/main.o
SAN_TESTS    := $(patsubst build/%,build/asan/%,$(TESTS))
# A sanitizer report exits 99, which no test can mistake for one of adgen's statuses; leak
# checking is on for adgen and for the test programs. The path is absolute because some tests
# run make in other directories. SAN_SIZES: test_kept_random's programs are fewer in this pass
# (each costs four sanitized adgen runs); the other random tests run at their full sizes, as
# the C they give is the plain pass's and is not built again (TEST_CACHE).
SAN_SIZES    ?= ADGEN_KEPT_N=5
SAN_ENV      := ADGEN=$(CURDIR)/build/asan/adgen ASAN_OPTIONS=exitcode=99:detect_leaks=1 \
                UBSAN_OPTIONS=exitcode=99:print_stacktrace=1 $(SAN_SIZES)

build/asan/%.o: src/%.c build/parser.h
	@mkdir -p $(@D)
	$(SAN_CC) $(STD) $(CPPFLAGS) $(SAN_CFLAGS) $(SAN_FLAGS) $(WARN) -MMD -MP -c -o $@ $<

build/asan/%.o: build/%.c build/parser.h build/lexer.h
	@mkdir -p $(@D)
	$(SAN_CC) $(STD) $(CPPFLAGS) $(SAN_CFLAGS) $(SAN_FLAGS) -MMD -MP -c -o $@ $<

build/asan/adgen: $(SAN_OBJS)
	$(SAN_CC) $(SAN_FLAGS) $(LDFLAGS) -o $@ $(SAN_OBJS) $(LDLIBS)

build/asan/tests/%: tests/%.c tests/testutil.h $(SAN_LIB_OBJS)
	@mkdir -p $(@D)
	$(SAN_CC) $(STD) $(CPPFLAGS) $(SAN_CFLAGS) $(SAN_FLAGS) $(WARN) -MMD -MP -o $@ $< \
	    $(SAN_LIB_OBJS) -lcmocka $(LDLIBS)

# The fuzz target over the sanitized objects, without coverage: what make test runs its seeds
# through, once each (make fuzz builds its own, in build/fuzz/)
build/asan/fuzz_adgen: tests/fuzz_adgen.c $(SAN_LIB_OBJS)
	$(SAN_CC) $(STD) $(CPPFLAGS) $(SAN_CFLAGS) $(SAN_FLAGS) -fsanitize=fuzzer $(WARN) -o $@ $< \
	    $(SAN_LIB_OBJS) $(LDLIBS)

# ---- results: a run that fails leaves build/results/NAME.failed -----------------------------
# Runs are recipes that succeed whatever the program does, so that under make -k every run
# happens; the summaries below read the marks. Each run removes its own mark first.

RESULTS := build/results
# $(call mark,NAME): the file a failed run NAME leaves, holding NAME
mark = $(RESULTS)/$(subst /,_,$(1)).failed
# $(call failed,NAMES): a shell command that prints those of NAMES whose last run failed (the
# shell looks: make's cached view of build/results would not see marks left after it started)
failed = cat $(foreach n,$(1),$(call mark,$(n))) 2>/dev/null

# ---- memcheck: valgrind over adgen on every sample and every error case ----------------------
# Each run must end with its expected status (0 for samples, 1 for error cases), and valgrind
# must find no error and no leak of any kind (status 99 otherwise). Samples run twice, with
# files written and with other options to standard output. One target a run, so that make -j
# runs them side by side; logs go to build/memcheck/.

VALGRIND ?= valgrind
MEMCHECK := $(VALGRIND) -q --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all \
            --error-exitcode=99
MEMCHECK_OK   := $(wildcard samples/*.expr tests/e2e/*.expr)
MEMCHECK_BAD  := $(wildcard tests/errors/*.expr)
MEMCHECK_RUNS := $(MEMCHECK_OK:%=memcheck/%) $(MEMCHECK_OK:%=memcheck/%-opts) \
                 $(MEMCHECK_BAD:%=memcheck/%)

# $(call memcheck_run,EXPECTED STATUS,ADGEN ARGUMENTS), in the recipe of memcheck/NAME
memcheck_run = @m=$(call mark,$@); log=build/memcheck/$(subst /,_,$(@:memcheck/%=%)); \
	mkdir -p $(RESULTS) build/memcheck; rm -f $$m; \
	$(MEMCHECK) --log-file=$$log.log ./adgen $(2) >/dev/null 2>&1; rc=$$?; \
	if [ $$rc != $(1) ]; then echo $(@:memcheck/%=%) >$$m; \
	echo "memcheck: adgen $(2): status $$rc, expected $(1)"; cat $$log.log; fi

$(MEMCHECK_OK:%=memcheck/%): memcheck/%: % adgen | valgrind-present
	$(call memcheck_run,0,$< -o $$log.c --header $$log.h -MD)

$(MEMCHECK_OK:%=memcheck/%-opts): memcheck/%-opts: % adgen | valgrind-present
	$(call memcheck_run,0,--real=float --prefix=p_ --accumulate --no-line $<)

$(MEMCHECK_BAD:%=memcheck/%): memcheck/%: % adgen | valgrind-present
	$(call memcheck_run,1,$< -o $$log.c)

valgrind-present:
	@command -v $(VALGRIND) >/dev/null || { echo "memcheck: no $(VALGRIND)" >&2; exit 1; }

MEMCHECK_SUMMARY = f=$$($(call failed,$(MEMCHECK_RUNS))); if [ -z "$$f" ]; then \
	echo "memcheck: no error, no leak ($(words $(MEMCHECK_RUNS)) runs)"; else \
	echo "FAILED: memcheck:" $$f; false; fi

memcheck: $(MEMCHECK_RUNS)
	@$(MEMCHECK_SUMMARY)

# ---- make test --------------------------------------------------------------------------------
# Every test program runs twice: as built (the plain pass), then built with ASan and UBSan
# against build/asan/adgen (the sanitized pass); besides, memcheck, the fuzz target over its
# seeds (make fuzz-seeds), and the two adgens' output compared (run/same-compilers).
# SANITIZE=1 runs only the sanitized pass, the seeds and the comparison, SANITIZE=0 only the
# plain pass and memcheck.
#
# Two makes, each running TEST_JOBS things at a time (2, or the -j make test was given): the
# first builds everything, the second runs everything. The runs start in the order of
# test-runs's prerequisites (none waits for another, so make -j starts them in that order):
# the longest first, by CPU time, memcheck's 84 short ones last to fill the gaps. One test's
# runs are one job, the plain then the sanitized (they share scratch directories), printed
# in one piece when they end (-Otarget). Every run happens whatever the others did, and make
# test fails when one failed (or a build did), naming them at the end.
#
# The sanitized pass's adgen writes the C of the plain pass's, byte for byte: TEST_CACHE
# (build/cc-cache, emptied by each make test) is where the tests keep what building and
# running generated C gave, so that the second pass meets the same bytes and does not build
# them again (run_cached in tests/testutil.h). make check-all runs without it.
TEST_JOBS  ?= 2
TEST_CACHE ?= $(CURDIR)/build/cc-cache
TEST_ENV   := ADGEN_CC_CACHE=$(TEST_CACHE)
# with the -j of the make that runs make test, its job slots; else TEST_JOBS
TEST_J      = $(if $(findstring --jobserver,$(MAKEFLAGS)),,-j$(TEST_JOBS))

PLAIN      := $(if $(filter 1,$(SANITIZE)),,plain)
SANITIZED  := $(if $(filter 0,$(SANITIZE)),,sanitized)
# the tests by the CPU time of their two runs, most first (measured on two cores: hostile
# 28 + 85 s, diff 104 + 3, embedded 22 + 22, modes 32 + 1, kept 20 + 7, kept_random 25 + 1,
# build 13 + 12, cli 2 + 7, buf 3 + 6, e2e 8 + 1); the rest after them, in name order
LONG_TESTS := test_hostile test_diff test_embedded test_modes test_kept test_kept_random \
              test_build test_cli test_buf test_e2e
TEST_NAMES := $(LONG_TESTS) $(filter-out $(LONG_TESTS),$(TESTS:build/tests/%=%))
PLAIN_RUNS := $(if $(PLAIN),$(TEST_NAMES:%=build/tests/%))
SAN_RUNS   := $(if $(SANITIZED),$(TEST_NAMES:%=build/asan/tests/%))
RUN_TESTS  := $(TEST_NAMES:%=run/%)
RUN_MEM    := $(if $(PLAIN),$(MEMCHECK_RUNS))
RUN_FUZZ   := $(if $(SANITIZED),run/fuzz-seeds run/same-compilers)
TEST_BUILD := adgen $(PLAIN_RUNS) $(if $(SANITIZED),build/asan/adgen $(SAN_RUNS) \
              build/asan/fuzz_adgen build/fuzz/seeds)

# $(call run_test,PROGRAM,ENVIRONMENT): the program's output between two lines naming it, the
# second with its time on the clock and its CPU time (the shell's `times`: its children's)
run_test = @m=$(call mark,$(1)); mkdir -p $(RESULTS); rm -f $$m; start=$$(date +%s); \
	echo "== $(1)"; if $(TEST_ENV) $(2) $(1); then r=passed; else r=FAILED; echo $(1) >$$m; fi; \
	times >$$m.times; echo "== $(1): $$r in $$(( $$(date +%s) - start )) s, CPU $$(awk \
	    'NR == 2 { split($$1, u, /[ms]/); split($$2, s, /[ms]/); \
	    printf "%.0f", 60 * (u[1] + s[1]) + u[2] + s[2] }' $$m.times) s"; rm -f $$m.times

$(RUN_TESTS): run/%: adgen $(if $(PLAIN),build/tests/%) \
        $(if $(SANITIZED),build/asan/tests/% build/asan/adgen)
	$(if $(PLAIN),$(call run_test,build/tests/$*))
	$(if $(SANITIZED),$(call run_test,build/asan/tests/$*,$(SAN_ENV)))

run/fuzz-seeds: build/asan/fuzz_adgen build/fuzz/seeds
	@m=$(call mark,fuzz-seeds); mkdir -p $(RESULTS); rm -f $$m; \
	if $(FUZZ_SEEDS_RUN) >build/fuzz/seeds.log 2>&1; then \
	echo "every fuzz seed ran clean (clang ASan, UBSan: build/asan/fuzz_adgen)"; \
	else echo fuzz-seeds >$$m; tail -40 build/fuzz/seeds.log; \
	echo "FAILED: make fuzz-seeds (clang ASan, UBSan)"; fi

# adgen's output does not depend on the compiler that built it (C leaves the order of a call's
# arguments open, and a node's id is its order of making): the plain adgen (cc) and the
# sanitized one (clang) write the same bytes for the samples, the end-to-end and bench inputs
# under every option set of tests/same_output.sh. This is also what lets the sanitized pass
# reuse the plain pass's builds of generated C (TEST_CACHE).
SAME_INPUTS := $(wildcard samples/*.expr tests/e2e/*.expr tests/bench/*.expr)
run/same-compilers: adgen build/asan/adgen
	@m=$(call mark,same-compilers); mkdir -p $(RESULTS); rm -f $$m; \
	if ASAN_OPTIONS=detect_leaks=0 tests/same_output.sh adgen build/asan/adgen $(SAME_INPUTS) \
	    >build/same-compilers.log 2>&1; then tail -n 1 build/same-compilers.log; \
	else echo same-compilers >$$m; tail -40 build/same-compilers.log; \
	echo "FAILED: adgen built by $(CC) and by $(SAN_CC) write different C"; fi

# $(call pass_summary,RUNS,LABEL)
pass_summary = f=$$($(call failed,$(1))); if [ -z "$$f" ]; then \
	echo "all $(words $(1)) test programs passed$(2)"; else echo "FAILED$(2):" $$f; false; fi

test-build: $(TEST_BUILD)

test-runs: $(RUN_TESTS) $(RUN_FUZZ) $(RUN_MEM)
	@status=0; \
	$(if $(PLAIN),{ $(call pass_summary,$(PLAIN_RUNS)); } || status=1;) \
	$(if $(RUN_MEM),{ $(MEMCHECK_SUMMARY); } || status=1;) \
	$(if $(SANITIZED),{ $(call pass_summary,$(SAN_RUNS), (ASan, UBSan)); } || status=1;) \
	$(if $(RUN_FUZZ),[ -z "$$($(call failed,fuzz-seeds same-compilers))" ] || status=1;) \
	exit $$status

test:
	@rm -rf $(RESULTS) build/cc-cache
	@$(MAKE) --no-print-directory -k $(TEST_J) test-build; built=$$?; \
	$(MAKE) --no-print-directory -k $(TEST_J) -Otarget test-runs && [ $$built = 0 ] || \
	    { echo "FAILED: make test (see the runs and builds above)"; exit 1; }

# Everything make test runs, and at their full sizes: the sanitized pass's random programs
# too, and every pass building its own C (no TEST_CACHE), as make test did before it was
# fitted to five minutes on two cores.
check-all:
	@$(MAKE) --no-print-directory test TEST_CACHE= SAN_SIZES=

-include $(wildcard build/*.d build/tests/*.d build/asan/*.d build/asan/tests/*.d build/fuzz/*.d)

# ---- fuzzing: `make fuzz [FUZZ_TIME=seconds]` runs libFuzzer over compile_source ----------------
# Separate objects in build/fuzz/ (clang, coverage and sanitizers). The corpus grows in
# build/fuzz/corpus across runs; the seeds are the samples and the test inputs, each behind
# option bytes that pick a few emission-option sets (see tests/fuzz_adgen.c).

FUZZ_CC     ?= clang
FUZZ_TIME   ?= 60
FUZZ_FLAGS  ?=
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all
# Without comparison tracing: it took 60% of the time (its hooks in the scheduler's loops),
# and the dictionary and libFuzzer's strcmp hooks find the words of the language without it.
FUZZ_CFLAGS := -g -fno-omit-frame-pointer $(FUZZ_SAN) -fno-sanitize-coverage=trace-cmp
FUZZ_SEEDS  := $(wildcard samples/*.expr tests/errors/*.expr tests/e2e/*.expr)

FUZZ_OBJS   := $(patsubst build/%,build/fuzz/%,$(LIB_OBJS))

build/fuzz/%.o: src/%.c build/parser.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(STD) $(CPPFLAGS) -O2 $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(WARN) -MMD -MP \
	    -c -o $@ $<

build/fuzz/%.o: build/%.c build/parser.h build/lexer.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(STD) $(CPPFLAGS) -O2 $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP \
	    -c -o $@ $<

build/fuzz/fuzz_adgen: tests/fuzz_adgen.c $(FUZZ_OBJS)
	$(FUZZ_CC) $(STD) $(CPPFLAGS) -O2 $(FUZZ_CFLAGS) -fsanitize=fuzzer $(WARN) -o $@ $< \
	    $(FUZZ_OBJS) $(LDLIBS)

build/fuzz/seeds: $(FUZZ_SEEDS)
	rm -rf $@ && mkdir -p $@
	for f in $(FUZZ_SEEDS); do n=$$(echo $$f | tr / _); \
	    for o in 000 066 301 010 233; do printf "\\$$o" | cat - $$f > $@/$$o-$$n; done; \
	done

# Part of `make test`: every seed once through the fuzz target, built on the sanitized pass's
# objects (build/asan/fuzz_adgen), so that the fuzz target itself is checked in CI.
FUZZ_SEEDS_RUN  = build/asan/fuzz_adgen -runs=0 -timeout=10 -rss_limit_mb=2048 build/fuzz/seeds

fuzz-seeds: build/asan/fuzz_adgen build/fuzz/seeds
	$(FUZZ_SEEDS_RUN)

# The random generators' programs (build/corpus: arrays, loops, kept sizes, vector results)
# seed it too, so that mutations start inside the kept-loop extraction and the modes. A unit
# may take 60 s before it counts as a hang: the target stops at 500 operations, but every
# entry point of a 2 KB tower of powers of 20 inputs (27 MB of C, 1 s plain) took 21 s under
# ASan beside other work.
fuzz: build/fuzz/fuzz_adgen build/fuzz/seeds build/corpus
	mkdir -p build/fuzz/corpus build/fuzz/crashes
	build/fuzz/fuzz_adgen -max_total_time=$(FUZZ_TIME) -timeout=60 -rss_limit_mb=2048 \
	    -max_len=4096 -dict=tests/fuzz.dict -print_final_stats=1 $(FUZZ_FLAGS) \
	    -artifact_prefix=build/fuzz/crashes/ build/fuzz/corpus build/fuzz/seeds build/corpus

# More of the differential test than `make test` runs: make difftest N=100000 SEED=7
difftest: adgen build/tests/test_diff
	ADGEN_DIFF_N=$(N) ADGEN_DIFF_SEED=$(SEED) build/tests/test_diff

# A change meant to keep behaviour prints the same C: `make same-output BASE=REV` builds REV's
# adgen in build/base and compares the two on every input (tests/same_output.sh; run `make
# test` first so that the inputs the test programs write are there too).
BASE ?= HEAD
same-output: adgen build/corpus
	rm -rf build/base && mkdir -p build/base
	git archive $(BASE) | tar -x -C build/base
	$(MAKE) -C build/base adgen >/dev/null
	tests/same_output.sh build/base/adgen ./adgen

# Programs of the random generators as files (tests/gen_corpus.c): CORPUS_N of each kind.
CORPUS_N ?= 100
build/gen_corpus: tests/gen_corpus.c tests/gen.h $(LIB_OBJS)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $< $(LIB_OBJS) $(LDLIBS)

build/corpus: build/gen_corpus
	rm -rf $@ && mkdir -p $@ && build/gen_corpus $@ $(CORPUS_N)

# ---- demo: differentiate eq. 5.109, compile the result with a driver, run it ------------------

DEMO_CFLAGS := -std=c99 -Wall -Wextra -pedantic -Werror -O2

demo: adgen | build/demo
	./adgen samples/eq5109.expr -o build/demo/eq5109.c --header build/demo/eq5109.h
	@echo "--- generated C (build/demo/eq5109.c):"
	@cat build/demo/eq5109.c
	$(CC) $(DEMO_CFLAGS) -Ibuild/demo -o build/demo/demo samples/demo.c build/demo/eq5109.c -lm
	@echo "--- f and its gradient beside the closed form of eq. 5.110:"
	@build/demo/demo

build/demo:
	mkdir -p build/demo

# ---- docs: the picture of eq. 5.109 (as the book's chain a..f) and its reverse sweep ----------
# Committed, and shown in the README beside `adgen --explain`; needs Graphviz's dot.

docs: samples/eq5123-adjoint.svg

samples/eq5123-adjoint.svg: samples/eq5123.expr adgen | build
	./adgen --dot=adjoint $< >build/eq5123-adjoint.dot
	dot -Tsvg -o $@ build/eq5123-adjoint.dot

# ---- bench: adgen on large inputs, and its gradient against a hand-written adjoint ------------

# The gradient tables (issue 12): each case's adgen output, compiled with gcc and with clang
# at -O2 beside the hand-written adjoints of tests/bench/hand.c and the driver
# tests/bench/grad.c, into build/bench/grad-gcc and build/bench/grad-clang. `make bench` times
# them, then runs build/bench/bench (adgen on large inputs, the scaling table, the derivative
# modes); `make bench-ir` counts their instructions under callgrind.
BENCH_COMPILERS := gcc clang
BENCH_CASES     := eq5109 gauss mlp rosen100 rosen1000 rosen1000k chain chaink
BENCH_GEN       := build/bench/gen
BENCH_CFLAGS    := -std=c99 -Wall -Wextra -pedantic -Werror -O2

# $(call bench_case,NAME,INPUT,ADGEN OPTIONS): one adgen run writes NAME.c and NAME.h
define bench_case
$(BENCH_GEN)/$(1).c $(BENCH_GEN)/$(1).h &: $(2) adgen | $(BENCH_GEN)
	./adgen --no-line $(3) $(2) -o $(BENCH_GEN)/$(1).c --header $(BENCH_GEN)/$(1).h
endef
$(eval $(call bench_case,eq5109,samples/eq5109.expr,--name=eq5109))
$(eval $(call bench_case,gauss,tests/bench/gauss.expr,))
$(eval $(call bench_case,mlp,samples/mlp.expr,))
$(eval $(call bench_case,rosen100,samples/rosenbrock.expr,-D N=100 --prefix=r100_))
$(eval $(call bench_case,rosen1000,samples/rosenbrock.expr,-D N=1000 --prefix=r1k_))
$(eval $(call bench_case,rosen1000k,samples/rosenbrock.expr,-D N=1000 --unroll=100 --prefix=r1kk_))
$(eval $(call bench_case,chain,tests/bench/chain.expr,))
$(eval $(call bench_case,chaink,tests/bench/chain.expr,--unroll=100 --prefix=ck_))

# The kept-loops tables (issue 13): sizes known at run time, one generated file whatever the
# data's size, timed by tests/bench/kept.c (build/bench/kept-CC, run by the section `kept` of
# build/bench/bench); chain_n50 is the recurrence unrolled at n = 50, to check the kept one by.
BENCH_KEPT_CASES := logistic chain_n chain_n50 gmm pfilt
$(eval $(call bench_case,logistic,tests/bench/logistic.expr,))
$(eval $(call bench_case,gmm,tests/bench/gmm.expr,))
$(eval $(call bench_case,pfilt,tests/bench/pfilt.expr,))
$(eval $(call bench_case,chain_n,tests/bench/chain_n.expr,))
$(eval $(call bench_case,chain_n50,tests/bench/chain_n.expr,-D n=50 --prefix=u50_))

# The checkpointing table (issue 20): grad and grad-ckp of two kept recurrences, timed by
# tests/bench/ckp.c (build/bench/ckp-CC, run by the section `ckp` of build/bench/bench).
BENCH_CKP_CASES := ck_chain ck_osc
BENCH_CKP_EMIT  := --emit=grad --emit=grad-ckp --prefix=ck_
$(eval $(call bench_case,ck_chain,tests/bench/chain_n.expr,$(BENCH_CKP_EMIT)))
$(eval $(call bench_case,ck_osc,samples/oscillator.expr,$(BENCH_CKP_EMIT)))

# The oscillator fit of samples/oscfit (issue 19): the residuals through a kept recurrence's
# trajectory, and unrolled at T = 200; tests/bench/oscfit.c (build/bench/oscfit-CC, run by the
# section `oscfit` of build/bench/bench) times their Jacobians.
BENCH_OSCFIT_CASES := of_kept of_u200
$(eval $(call bench_case,of_kept,samples/oscfit/model.expr,--emit=jac --prefix=of_))
$(eval $(call bench_case,of_u200,samples/oscfit/model.expr,--emit=jac -D T=200 --prefix=u200_))

# The swing-up of samples/ipopt (issue 21): the defects' sparse Jacobian and the Lagrangian's
# sparse Hessian against tests/bench/swingup_hand.c, by tests/bench/swingup.c
# (build/bench/swingup-CC, run by the section `swingup` of build/bench/bench).
$(eval $(call bench_case,sw_nlp,samples/swingup.expr,--emit=jac-sparse --emit=hess-sparse --prefix=sw_))

# Newton with N known at run time (issue 19): the extended Rosenbrock function's sparse Hessian
# through its kept sum, by tests/bench/newton.c (build/bench/newton-CC, run by the section
# `newton` of build/bench/bench).
$(eval $(call bench_case,nt_rosen,tests/bench/rosen_n.expr,--emit=grad --emit=hess-sparse --prefix=nt_))

# The batched gradients (issue 23): eq. 5.109 and the network, their one-point gradients (bs_)
# against their batched ones (bb_; bp_ split across cores), by tests/bench/batch.c
# (build/bench/batch-CC, run by the section `batch` of build/bench/bench). BATCH_CFLAGS_CC are
# the README's flags for vectorised batches; the one-point file is built as a user would,
# -O3 -march=native.
BENCH_BATCH_CASES := bs_f bb_f bp_f bs_mlp bb_mlp bp_mlp
$(eval $(call bench_case,bs_f,samples/eq5109.expr,--emit=grad --prefix=bs_))
$(eval $(call bench_case,bb_f,samples/eq5109.expr,--emit=grad-batch --prefix=bb_))
$(eval $(call bench_case,bp_f,samples/eq5109.expr,--emit=grad-batch --prefix=bp_))
$(eval $(call bench_case,bs_mlp,samples/mlp.expr,--emit=grad --prefix=bs_))
$(eval $(call bench_case,bb_mlp,samples/mlp.expr,--emit=grad-batch --prefix=bb_))
$(eval $(call bench_case,bp_mlp,samples/mlp.expr,--emit=grad-batch --prefix=bp_))
BATCH_ONE_CFLAGS   := -std=c99 -Wall -Wextra -pedantic -Werror -O3 -march=native
BATCH_CFLAGS_gcc   := $(BATCH_ONE_CFLAGS) -mprefer-vector-width=256 -fno-math-errno \
                      -DADGEN_LIBMVEC -fno-builtin-sin -fno-builtin-cos
BATCH_CFLAGS_clang := $(BATCH_ONE_CFLAGS) -fno-math-errno -fveclib=libmvec
BATCH_OPENMP_gcc   := -fopenmp -DADGEN_PARALLEL

# $(call bench_compiler,CC): build/bench/CC/*.o and build/bench/grad-CC
define bench_compiler
build/bench/$(1)/%.o: $(BENCH_GEN)/%.c | build/bench/$(1)
	$(1) $(BENCH_CFLAGS) -c -o $$@ $$<

build/bench/$(1)/hand.o: tests/bench/hand.c tests/bench/hand.h | build/bench/$(1)
	$(1) $(BENCH_CFLAGS) -c -o $$@ $$<

build/bench/$(1)/grad.o: tests/bench/grad.c tests/bench/hand.h tests/bench/timing.h \
        $(BENCH_CASES:%=$(BENCH_GEN)/%.h) | build/bench/$(1)
	$(1) $(BENCH_CFLAGS) -D_POSIX_C_SOURCE=200809L -I$(BENCH_GEN) -Itests/bench -c -o $$@ $$<

build/bench/grad-$(1): $(patsubst %,build/bench/$(1)/%.o,grad hand $(BENCH_CASES))
	$(1) -o $$@ $$^ -lm

build/bench/$(1)/kept.o: tests/bench/kept.c tests/bench/hand.h tests/bench/timing.h \
        $(BENCH_KEPT_CASES:%=$(BENCH_GEN)/%.h) | build/bench/$(1)
	$(1) $(BENCH_CFLAGS) -D_POSIX_C_SOURCE=200809L -I$(BENCH_GEN) -Itests/bench -c -o $$@ $$<

build/bench/kept-$(1): $(patsubst %,build/bench/$(1)/%.o,kept hand $(BENCH_KEPT_CASES))
	$(1) -o $$@ $$^ -lm

build/bench/$(1)/ckp.o: tests/bench/ckp.c tests/bench/timing.h \
        $(BENCH_CKP_CASES:%=$(BENCH_GEN)/%.h) | build/bench/$(1)
	$(1) $(BENCH_CFLAGS) -D_POSIX_C_SOURCE=200809L -I$(BENCH_GEN) -Itests/bench -c -o $$@ $$<

build/bench/ckp-$(1): $(patsubst %,build/bench/$(1)/%.o,ckp $(BENCH_CKP_CASES))
	$(1) -o $$@ $$^ -lm

build/bench/$(1)/oscfit.o: tests/bench/oscfit.c tests/bench/timing.h \
        $(BENCH_OSCFIT_CASES:%=$(BENCH_GEN)/%.h) | build/bench/$(1)
	$(1) $(BENCH_CFLAGS) -D_POSIX_C_SOURCE=200809L -I$(BENCH_GEN) -Itests/bench -c -o $$@ $$<

build/bench/oscfit-$(1): $(patsubst %,build/bench/$(1)/%.o,oscfit $(BENCH_OSCFIT_CASES))
	$(1) -o $$@ $$^ -lm

build/bench/$(1)/swingup_hand.o: tests/bench/swingup_hand.c | build/bench/$(1)
	$(1) $(BENCH_CFLAGS) -DHAND_PREFIX -c -o $$@ $$<

build/bench/$(1)/swingup.o: tests/bench/swingup.c tests/bench/timing.h $(BENCH_GEN)/sw_nlp.h \
        | build/bench/$(1)
	$(1) $(BENCH_CFLAGS) -D_POSIX_C_SOURCE=200809L -I$(BENCH_GEN) -Itests/bench -c -o $$@ $$<

build/bench/swingup-$(1): $(patsubst %,build/bench/$(1)/%.o,swingup swingup_hand sw_nlp)
	$(1) -o $$@ $$^ -lm

build/bench/$(1)/newton.o: tests/bench/newton.c tests/bench/timing.h $(BENCH_GEN)/nt_rosen.h \
        | build/bench/$(1)
	$(1) $(BENCH_CFLAGS) -D_POSIX_C_SOURCE=200809L -I$(BENCH_GEN) -Itests/bench -c -o $$@ $$<

build/bench/newton-$(1): $(patsubst %,build/bench/$(1)/%.o,newton nt_rosen)
	$(1) -o $$@ $$^ -lm

build/bench/$(1)/bs_%.o: $(BENCH_GEN)/bs_%.c | build/bench/$(1)
	$(1) $(BATCH_ONE_CFLAGS) -c -o $$@ $$<

build/bench/$(1)/bb_%.o: $(BENCH_GEN)/bb_%.c | build/bench/$(1)
	$(1) $(BATCH_CFLAGS_$(1)) -c -o $$@ $$<

build/bench/$(1)/bp_%.o: $(BENCH_GEN)/bp_%.c | build/bench/$(1)
	$(1) $(BATCH_CFLAGS_$(1)) $(BATCH_OPENMP_$(1)) -c -o $$@ $$<

build/bench/$(1)/batch.o: tests/bench/batch.c tests/bench/timing.h \
        $(BENCH_BATCH_CASES:%=$(BENCH_GEN)/%.h) | build/bench/$(1)
	$(1) $(BENCH_CFLAGS) -D_POSIX_C_SOURCE=200809L $(if $(BATCH_OPENMP_$(1)),-DBATCH_OPENMP) \
	    -I$(BENCH_GEN) -Itests/bench -c -o $$@ $$<

build/bench/batch-$(1): $(patsubst %,build/bench/$(1)/%.o,batch $(BENCH_BATCH_CASES))
	$(1) $(BATCH_OPENMP_$(1)) -o $$@ $$^ -lm

build/bench/$(1):
	mkdir -p $$@
endef
$(foreach c,$(BENCH_COMPILERS),$(eval $(call bench_compiler,$(c))))

BENCH_GRAD := $(BENCH_COMPILERS:%=build/bench/grad-%)
BENCH_KEPT := $(BENCH_COMPILERS:%=build/bench/kept-%)
BENCH_CKP  := $(BENCH_COMPILERS:%=build/bench/ckp-%)
BENCH_OSCFIT := $(BENCH_COMPILERS:%=build/bench/oscfit-%)
BENCH_SWINGUP := $(BENCH_COMPILERS:%=build/bench/swingup-%)
BENCH_NEWTON := $(BENCH_COMPILERS:%=build/bench/newton-%)
BENCH_BATCH := $(BENCH_COMPILERS:%=build/bench/batch-%)

bench: adgen build/bench/bench $(BENCH_GRAD) $(BENCH_KEPT) $(BENCH_CKP) $(BENCH_OSCFIT) \
        $(BENCH_SWINGUP) $(BENCH_NEWTON) $(BENCH_BATCH)
	@for g in $(BENCH_GRAD); do $$g; echo; done
	@if [ -f /usr/include/adolc/adolc.h ]; then echo "ADOL-C: installed, but its" \
	    "taped-gradient column is not written yet"; else echo "ADOL-C: no" \
	    "/usr/include/adolc/adolc.h (libadolc-dev), so no taped-gradient column"; fi; echo
	build/bench/bench

bench-ir: $(BENCH_GRAD)
	@command -v $(VALGRIND) >/dev/null || { echo "bench-ir: no $(VALGRIND)" >&2; exit 1; }
	@for g in $(BENCH_GRAD); do $$g --ir build/bench; echo; done

build/bench/bench: tests/bench.c | build/bench
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $<

build/bench $(BENCH_GEN):
	mkdir -p $@

# ---- install ----------------------------------------------------------------------------------

# bin/adgen, the manual page, the make rule projects include (adgen.mk) and the CMake
# package (find_package(adgen) finds share/adgen/cmake/adgenConfig.cmake under the prefix).
install: adgen
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DATADIR)/adgen/cmake
	install -m 755 adgen $(DESTDIR)$(BINDIR)/adgen
	install -m 644 adgen.1 $(DESTDIR)$(MANDIR)/man1/adgen.1
	install -m 644 adgen.mk $(DESTDIR)$(DATADIR)/adgen/adgen.mk
	install -m 644 adgenConfig.cmake $(DESTDIR)$(DATADIR)/adgen/cmake/adgenConfig.cmake

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/adgen $(DESTDIR)$(MANDIR)/man1/adgen.1 \
	      $(DESTDIR)$(DATADIR)/adgen/adgen.mk $(DESTDIR)$(DATADIR)/adgen/cmake/adgenConfig.cmake
	rmdir $(DESTDIR)$(DATADIR)/adgen/cmake $(DESTDIR)$(DATADIR)/adgen 2>/dev/null || true

.PHONY: all clean test demo docs bench bench-ir install uninstall fuzz fuzz-seeds memcheck difftest \
        same-output check-all test-build test-runs valgrind-present $(MEMCHECK_RUNS) $(RUN_TESTS) \
        run/fuzz-seeds
clean:
	rm -rf build adgen
