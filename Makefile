# adgen: a source-to-source reverse-mode automatic differentiator.
# Everything built goes to build/; `make`, `make test`, `make demo`, `make bench`, `make difftest`,
# `make install`, `make uninstall`, `make clean`.

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
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

test: adgen $(TESTS)
	@fail=0; for t in $(TESTS); do echo "== $$t"; $$t || fail=1; done; \
	if [ $$fail = 0 ]; then echo "all test programs passed"; else echo "FAILED"; exit 1; fi

-include $(wildcard build/*.d build/tests/*.d)

# More of the differential test than `make test` runs: make difftest N=100000 SEED=7
difftest: adgen build/tests/test_diff
	ADGEN_DIFF_N=$(N) ADGEN_DIFF_SEED=$(SEED) build/tests/test_diff

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

# ---- bench: adgen on large inputs, and its gradient against a hand-written adjoint ------------

bench: adgen build/bench/bench
	build/bench/bench

build/bench/bench: tests/bench.c | build/bench
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $<

build/bench:
	mkdir -p build/bench

# ---- install ----------------------------------------------------------------------------------

# bin/adgen, the manual page and the make rule projects include (adgen.mk).
install: adgen
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DATADIR)/adgen
	install -m 755 adgen $(DESTDIR)$(BINDIR)/adgen
	install -m 644 adgen.1 $(DESTDIR)$(MANDIR)/man1/adgen.1
	install -m 644 adgen.mk $(DESTDIR)$(DATADIR)/adgen/adgen.mk

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/adgen $(DESTDIR)$(MANDIR)/man1/adgen.1 \
	      $(DESTDIR)$(DATADIR)/adgen/adgen.mk
	rmdir $(DESTDIR)$(DATADIR)/adgen 2>/dev/null || true

.PHONY: all clean test demo bench install uninstall difftest
clean:
	rm -rf build adgen
