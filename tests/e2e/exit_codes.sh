#!/usr/bin/env bash
# Usage: exit_codes.sh MOAT GUEST_EXIT [MALFORMED_ELF_DIR]
#
# The exit status of `moat do` is the guest's: N for exit(N), 128+N for a
# guest killed by signal N. moat's own failures: 127 program not found,
# 126 not executable or not a loadable ELF (with one "moat: " line on
# stderr), 125 other internal errors.
#
# GUEST_EXIT is tests/syscalls/exit.c built static. MALFORMED_ELF_DIR holds
# make_samples.py (tests/e2e/malformed_elf); when present, every sample in
# its MANIFEST.tsv is run too.
set -u
. "$(dirname "$0")/tap.sh"

MOAT=${1:-}
GUEST_EXIT=${2:-}
SAMPLES_DIR=${3:-$(dirname "$0")/malformed_elf}
need_moat
if [ -z "$GUEST_EXIT" ] || [ ! -x "$GUEST_EXIT" ]; then
    echo "usage: $0 MOAT GUEST_EXIT [MALFORMED_ELF_DIR]" >&2
    exit 2
fi

# expect_exit WANT-STATUS ARGS...: run the exit guest with ARGS.
expect_exit() {
    local want=$1
    shift
    run "$MOAT" do -- "$GUEST_EXIT" "$@"
    is "$RUN_STATUS" "$want" "exit $*: status $want"
    is "$(head -n 1 "$TAP_TMP/out")" "mode: $1" "exit $*: output written before the end is kept"
    no_crash_report "exit $*: no crash report"
}

expect_exit 0 code 0
expect_exit 3 code 3
expect_exit 255 code 255
expect_exit 0 code 256
expect_exit 7 exit 7
expect_exit 9 return 9
expect_exit 139 segv
expect_exit 139 segv-write
expect_exit 139 stack
expect_exit 132 ill
expect_exit 136 fpe
expect_exit 133 trap
expect_exit 135 bus

# expect_moat_error WANT-STATUS NAME PROGRAM: moat refuses to start PROGRAM.
expect_moat_error() {
    local want=$1 name=$2 prog=$3
    run "$MOAT" do -- "$prog"
    is "$RUN_STATUS" "$want" "$name: status $want"
    like "$RUN_ERR" '^moat: ' "$name: stderr starts with \"moat: \""
    is "$(grep -c '' "$TAP_TMP/err")" 1 "$name: exactly one line on stderr"
    out_is '' "$name: nothing on stdout"
    no_crash_report "$name: no crash report"
}

expect_moat_error 127 "missing program" "$TAP_TMP/does-not-exist"
expect_moat_error 127 "missing directory in the path" "$TAP_TMP/no/such/dir/prog"

head -c 4096 /dev/urandom >"$TAP_TMP/garbage"
chmod 755 "$TAP_TMP/garbage"
expect_moat_error 126 "garbage file" "$TAP_TMP/garbage"

cp "$GUEST_EXIT" "$TAP_TMP/noexec"
chmod 644 "$TAP_TMP/noexec"
expect_moat_error 126 "ELF without execute permission" "$TAP_TMP/noexec"

mkdir "$TAP_TMP/dir"
expect_moat_error 126 "a directory" "$TAP_TMP/dir"

: >"$TAP_TMP/empty"
chmod 755 "$TAP_TMP/empty"
expect_moat_error 126 "empty file" "$TAP_TMP/empty"

head -c 40 "$GUEST_EXIT" >"$TAP_TMP/short"
chmod 755 "$TAP_TMP/short"
expect_moat_error 126 "truncated ELF header" "$TAP_TMP/short"

# The loader's own samples, with the message each must contain.
if [ -f "$SAMPLES_DIR/make_samples.py" ] && command -v python3 >/dev/null; then
    samples="$TAP_TMP/samples"
    if python3 "$SAMPLES_DIR/make_samples.py" "$samples" && [ -f "$samples/MANIFEST.tsv" ]; then
        while IFS=$'\t' read -r name outcome why; do
            case $name in '#'* | '') continue ;; esac
            case $outcome in
            exit42)
                run "$MOAT" do -- "$samples/$name"
                is "$RUN_STATUS" 42 "sample $name: runs and exits 42"
                no_crash_report "sample $name: no crash report"
                ;;
            same)
                run "$samples/$name"
                nst=$RUN_STATUS nout=$RUN_OUT
                run "$MOAT" do -- "$samples/$name"
                is "$RUN_STATUS:$RUN_OUT" "$nst:$nout" "sample $name: status and output as natively"
                no_crash_report "sample $name: no crash report"
                ;;
            EACCES | ENOEXEC)
                expect_moat_error 126 "sample $name" "$samples/$name"
                if [ -n "$why" ]; then
                    like "$RUN_ERR" "$(printf '%s' "$why" | sed 's/[][\.*^$(){}?+|/]/\\&/g')" \
                        "sample $name: message says \"$why\""
                fi
                ;;
            *)
                fail "sample $name: unknown outcome $outcome in MANIFEST.tsv"
                ;;
            esac
        done <"$samples/MANIFEST.tsv"
    else
        fail "make_samples.py produced a MANIFEST.tsv"
    fi
else
    skip "no $SAMPLES_DIR/make_samples.py or no python3" "loader samples"
fi

done_testing
