# adgen.mk: generate C from .expr files with adgen, in a GNU make build.
#
# Include it, then say which objects use the generated code:
#
#     include /usr/local/share/adgen/adgen.mk
#     app: app.o model.o
#     app.o: model.h
#
# `make` then runs adgen on model.expr to make model.c and model.h (one run makes both),
# again only when model.expr changes, and links with -lm, which the generated code needs.
# Variables, set before the include line or on the command line:
#   ADGEN        the adgen to run (default: adgen from PATH)
#   ADGENFLAGS   options for it, such as --real=float, --prefix=model_ or --no-line
#   ADGEN_EXPR   the .expr files whose outputs make must keep rather than delete as
#                intermediate files (default: those in this directory)

ADGEN      ?= adgen
ADGENFLAGS ?=
ADGEN_EXPR ?= $(wildcard *.expr)
LDLIBS     += -lm

# One run of adgen makes model.c and model.h, whatever the make -j, and then gives the stamp
# model.adgen.stamp the time of the newest of what it ran on. adgen writes its files only
# when it succeeded (each through a temporary file and a rename), so a failed run leaves no
# target and no stamp behind and the next make retries; and it leaves a file that already
# holds what it would write as it is, time included (--keep-unchanged), so that make, which
# looks at the files' times again after the run, builds nothing more when an edit of
# model.expr (or a touch) changes nothing in the C (make -q then still names model.c, whose
# empty rule has nothing to do). The depfile is named *.adgen.d so that it does not collide
# with the compiler's model.d. When ADGEN is a path to a file (../adgen, /opt/bin/adgen), a
# newer adgen runs again.
%.adgen.stamp: %.expr $(wildcard $(ADGEN))
	$(ADGEN) $(ADGENFLAGS) --keep-unchanged -MD -MF $*.adgen.d -MT $@ -o $*.c --header $*.h $<
	@touch -r "$$(ls -t $^ | head -n 1)" $@
%.c: %.adgen.stamp ;
%.h: %.adgen.stamp ;

# Generated sources are worth keeping to read and to debug: not intermediate files to
# delete. (An empty .SECONDARY would make every target of the project secondary.)
ifneq ($(strip $(ADGEN_EXPR)),)
.SECONDARY: $(ADGEN_EXPR:.expr=.c) $(ADGEN_EXPR:.expr=.h) $(ADGEN_EXPR:.expr=.adgen.stamp)
endif

# The depfiles' rules must not become the project's default goal, when this file is
# included before the project's first rule.
adgen_default_goal := $(.DEFAULT_GOAL)
-include $(ADGEN_EXPR:.expr=.adgen.d)
.DEFAULT_GOAL := $(adgen_default_goal)
