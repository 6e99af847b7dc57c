#!/usr/bin/env bash
# Usage: run.sh MOAT GETPID [NATIVE_ITERATIONS] [SANDBOX_ITERATIONS]
#
# Prints one table of the getpid round trip: native, moat and runsc (gVisor)
# per platform, unpinned and pinned to CPU 0 with taskset. Each figure is the
# median of $RUNS runs (default 3). Ratios are against native and against
# runsc on the same platform and pinning. Builds nothing; never fails on a
# timing. Environment: PLATFORMS (default "ptrace"), RUNS, RUNSC (path).
set -u

MOAT=${1:-}
GETPID=${2:-}
NATIVE_ITERS=${3:-200000}
SANDBOX_ITERS=${4:-20000}
RUNS=${RUNS:-3}
PLATFORMS=${PLATFORMS:-ptrace}
RUNSC=${RUNSC:-$(command -v runsc || true)}

if [ -z "$MOAT" ] || [ -z "$GETPID" ] || [ ! -x "$GETPID" ]; then
    echo "usage: $0 MOAT GETPID [NATIVE_ITERATIONS] [SANDBOX_ITERATIONS]" >&2
    exit 2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/moat-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
: >"$TMP/notes"
# measure runs in a subshell: notes go through a file.
note() { echo "$1" >>"$TMP/notes"; }

# measure LABEL CMD...: median ns_per_call of $RUNS runs, or "" on failure
# (with a note saying why).
measure() {
    local label=$1
    shift
    local values=() out i v
    for ((i = 0; i < RUNS; i++)); do
        if ! out=$(timeout 300 "$@" 2>"$TMP/err"); then
            note "$label: failed ($(head -n 1 "$TMP/err" | cut -c1-100))"
            echo ""
            return
        fi
        v=$(sed -n 's/.*ns_per_call=\([0-9.]*\).*/\1/p' <<<"$out" | tail -n 1)
        if [ -z "$v" ]; then
            note "$label: no ns_per_call in output"
            echo ""
            return
        fi
        values+=("$v")
    done
    printf '%s\n' "${values[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

ratio() {
    if [ -n "$1" ] && [ -n "$2" ]; then
        awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'
    else
        echo "-"
    fi
}

have_taskset=0
command -v taskset >/dev/null && have_taskset=1
[ $have_taskset = 1 ] || note "taskset missing: pinned rows skipped"

native=$(measure native "$GETPID" "$NATIVE_ITERS")
native_pinned=""
[ $have_taskset = 1 ] && native_pinned=$(measure "native pinned" taskset -c 0 "$GETPID" "$NATIVE_ITERS")

ROWS=()
row() { ROWS+=("$(printf '%-26s %14s %12s %14s' "$1" "${2:--}" "$3" "$4")"); }

row "native" "$native" "1.00x" "-"
[ $have_taskset = 1 ] && row "native, pinned cpu0" "$native_pinned" "$(ratio "$native_pinned" "$native")" "-"

have_moat=1
if [ ! -x "$MOAT" ]; then
    have_moat=0
    note "moat not found at $MOAT"
fi
have_runsc=1
if [ -z "$RUNSC" ] || [ ! -x "$RUNSC" ]; then
    have_runsc=0
    note "runsc not installed: gVisor rows skipped"
fi

for platform in $PLATFORMS; do
    for pin in unpinned pinned; do
        prefix=()
        if [ $pin = pinned ]; then
            [ $have_taskset = 1 ] || continue
            prefix=(taskset -c 0)
        fi
        rs=""
        if [ $have_runsc = 1 ]; then
            rs=$(measure "runsc $platform $pin" "${prefix[@]}" "$RUNSC" --network=none \
                --platform="$platform" do "$GETPID" "$SANDBOX_ITERS")
        fi
        ms=""
        if [ $have_moat = 1 ]; then
            ms=$(measure "moat $platform $pin" "${prefix[@]}" "$MOAT" do --platform="$platform" \
                -- "$GETPID" "$SANDBOX_ITERS")
        fi
        row "moat-$platform, $pin" "$ms" "$(ratio "$ms" "$native")" "$(ratio "$ms" "$rs")"
        if [ $have_runsc = 1 ]; then
            row "runsc-$platform, $pin" "$rs" "$(ratio "$rs" "$native")" "1.00x"
        fi
    done
done

echo "getpid round trip: median of $RUNS runs; native $NATIVE_ITERS calls, sandboxes $SANDBOX_ITERS"
echo "host: $(uname -sr), $(nproc) cpus, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
echo
printf '%-26s %14s %12s %14s\n' "configuration" "ns/call" "vs native" "vs runsc same"
printf '%-26s %14s %12s %14s\n' "-------------" "-------" "---------" "-------------"
printf '%s\n' "${ROWS[@]}"
if [ -s "$TMP/notes" ]; then
    echo
    sed 's/^/note: /' "$TMP/notes"
fi
exit 0
