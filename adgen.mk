# adgen.mk: generate C from .expr files with adgen, in a GNU make build.
#
# Include it, then say which objects use the generated code:
#
#     include /usr/local/share/adgen/adgen.mk
#     app: app.o model.o
#     app.o: model.h
#
# `make` then runs adgen on model.expr to make model.c and model.h (one run makes both),
# again only when model.expr, or anything it reads, changes. Variables, set before the
# include line or on the command line:
#   ADGEN        the adgen to run (default: adgen from PATH)
#   ADGENFLAGS   options for it, such as --real=float, --prefix=model_ or --no-line
#   ADGEN_EXPR   the .expr files of the project (default: those in this directory)

ADGEN      ?= adgen
ADGENFLAGS ?=
ADGEN_EXPR ?= $(wildcard *.expr)

# A pattern rule with two targets is made by one run of its recipe, whatever the make -j.
# adgen writes its files only when it succeeded (each through a temporary file and a
# rename), so a failed run leaves no target behind and the next make retries. The depfile
# is named *.adgen.d so that it does not collide with the compiler's model.d. When ADGEN
# is a path to a file (../adgen, /opt/bin/adgen), a newer adgen remakes the outputs.
%.c %.h: %.expr $(wildcard $(ADGEN))
	$(ADGEN) $(ADGENFLAGS) -MD -MF $*.adgen.d -o $*.c --header $*.h $<

# Generated sources are worth keeping to read and to debug: not intermediate files to delete.
.SECONDARY: $(ADGEN_EXPR:.expr=.c) $(ADGEN_EXPR:.expr=.h)

-include $(ADGEN_EXPR:.expr=.adgen.d)
