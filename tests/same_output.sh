#!/usr/bin/env bash
# same_output.sh: whether two adgen binaries print the same, byte for byte, on every input the
# project has under every option set: the check of a change meant to keep behaviour (a
# refactoring, a faster compiler). `make same-output BASE=REV` builds REV's adgen and runs it.
#
#   tests/same_output.sh OLD_ADGEN NEW_ADGEN [INPUT]...
#
# The inputs default to the samples, the end-to-end, error and bench inputs, the random
# generators' programs in build/corpus (make build/corpus) and every .expr the test programs
# left under build/tests (kept models and more: run `make test` first to have them). Per input and option set it compares standard output, standard error,
# the exit status and the files written (-o, --header); it prints each difference and exits 1
# if there was one.
set -u
old=$(realpath "$1") new=$(realpath "$2")
shift 2
if [ $# -eq 0 ]; then
    set -- samples/*.expr tests/e2e/*.expr tests/errors/*.expr tests/bench/*.expr
    while IFS= read -r f; do set -- "$@" "$f"; done < <(find build/corpus build/tests -name '*.expr' 2>/dev/null |
                                                        LC_ALL=C sort)
fi
sizes=(-D n=3 -D N=3 -D m=2 -D M=2 -D T=3 -D K=2)
sets=(
    ""
    "--no-line"
    "--emit=all"
    "--emit=all --no-line"
    "--emit=all --real=float"
    "--emit=all --real=long_double"
    "--emit=all --accumulate --prefix=p_ --static"
    "--emit=all --unroll=4"
    "--emit=all --abi=casadi"
    "--emit=all --max-stack=1024"
    "--emit=all,value-batch,grad-batch,jvp-batch,vjp-batch --accumulate"
    "--emit=all --no-line SIZES"
    "--dot"
    "--dot=adjoint"
    "--explain"
    "--explain=latex"
    "--explain=markdown"
    "--report"
    "FILES"
    "eval"
    "check"
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { # run BINARY DIR ARGS...: everything it says into DIR
    local bin=$1 dir=$2
    shift 2
    mkdir -p "$dir"
    (cd "$dir" && "$bin" "$@" >out 2>err; echo $? >status)
}
differ=0 runs=0
for f in "$@"; do
    abs=$(cd "$(dirname "$f")" && pwd)/$(basename "$f")
    for s in "${sets[@]}"; do
        args=()
        case $s in
        eval) args=(eval "$abs") ;;
        check) args=(check "$abs") ;;
        FILES) args=(--emit=all "$abs" -o f.c --header f.h -MD) ;;
        *)
            for w in $s; do
                case $w in
                --real=long_double) args+=("--real=long double") ;;
                SIZES) args+=("${sizes[@]}") ;;
                *) args+=("$w") ;;
                esac
            done
            args+=("$abs")
            ;;
        esac
        rm -rf "$work/a" "$work/b"
        run "$old" "$work/a" "${args[@]}"
        run "$new" "$work/b" "${args[@]}"
        runs=$((runs + 1))
        if ! diff -r "$work/a" "$work/b" >"$work/diff" 2>&1; then
            differ=$((differ + 1))
            echo "== differs: adgen ${args[*]}"
            head -20 "$work/diff"
        fi
    done
done
echo "same_output: $runs runs over $# inputs, $differ differ"
[ $differ -eq 0 ]
