#!/usr/bin/env bash
# Usage: run_handoff.sh MOAT GETPID [ITERATIONS] [TRAP_FLOOR]
#
# The getpid round trip and systrap's handoff in each direction, idle and
# loaded (one busy loop per CPU), unpinned and pinned to CPU 0, for native,
# moat-ptrace and moat-systrap. Handoff times come from the platform's own
# time stamps (MOAT_PLATFORM_STATS=1): guest->sentry is the handler's publish
# to the Sentry seeing it, sentry->guest the Sentry's go to the handler seeing
# it. TRAP_FLOOR (bench/trap_floor.c), if given, first measures the native
# cost of a seccomp trap, its SIGSYS handler and rt_sigreturn: the floor
# under systrap's round trip. Each figure is the median of $RUNS runs
# (default 3). Never fails on a timing.
set -u

MOAT=${1:-}
GETPID=${2:-}
ITERS=${3:-50000}
FLOOR=${4:-}
RUNS=${RUNS:-3}
if [ -z "$MOAT" ] || [ ! -x "$GETPID" ]; then
    echo "usage: $0 MOAT GETPID [ITERATIONS]" >&2
    exit 2
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/moat-handoff.XXXXXX")
hogs=""
cleanup() {
    [ -n "$hogs" ] && kill $hogs 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "-" }'; }

# one PIN CMD...: "ns_per_call to_sentry_ns to_guest_ns", medians over RUNS
one() {
    local pin=$1 i
    shift
    : >"$TMP/ns"
    : >"$TMP/a"
    : >"$TMP/b"
    for ((i = 0; i < RUNS; i++)); do
        # shellcheck disable=SC2086
        MOAT_PLATFORM_STATS=1 timeout 120 $pin "$@" >"$TMP/out" 2>&1
        sed -n 's/.*ns_per_call=\([0-9.]*\).*/\1/p' "$TMP/out" >>"$TMP/ns"
        sed -n 's/.*guest->sentry \([0-9]*\) ns.*/\1/p' "$TMP/out" >>"$TMP/a"
        sed -n 's/.*sentry->guest \([0-9]*\) ns.*/\1/p' "$TMP/out" >>"$TMP/b"
    done
    echo "$(median <"$TMP/ns") $(median <"$TMP/a") $(median <"$TMP/b")"
}

if [ -n "$FLOOR" ] && [ -x "$FLOOR" ]; then
    read -r f _ _ <<<"$(one "" "$FLOOR" $((ITERS * 4)))"
    echo "native seccomp trap + SIGSYS handler + rt_sigreturn: $f ns"
fi
printf '%-7s %-9s %10s %12s %13s %13s %13s\n' load pinning native "moat-ptrace" "moat-systrap" \
    "guest->sentry" "sentry->guest"
for load in idle loaded; do
    if [ "$load" = loaded ]; then
        for c in $(seq 0 $(($(nproc) - 1))); do
            taskset -c "$c" sh -c 'while :; do :; done' &
            hogs="$hogs $!"
        done
        sleep 0.5
    fi
    for pinning in unpinned pinned; do
        pin=""
        [ "$pinning" = pinned ] && pin="taskset -c 0"
        read -r n _ _ <<<"$(one "$pin" "$GETPID" $((ITERS * 10)))"
        read -r p _ _ <<<"$(one "$pin" "$MOAT" do --platform=ptrace -- "$GETPID" "$ITERS")"
        read -r s a b <<<"$(one "$pin" "$MOAT" do --platform=systrap -- "$GETPID" "$ITERS")"
        printf '%-7s %-9s %10s %12s %13s %13s %13s\n' "$load" "$pinning" "$n" "$p" "$s" "$a" "$b"
    done
    if [ -n "$hogs" ]; then
        kill $hogs 2>/dev/null
        wait $hogs 2>/dev/null
        hogs=""
    fi
done
echo "(ns per getpid; handoffs: mean ns per direction under systrap)"
