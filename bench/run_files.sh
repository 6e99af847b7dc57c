#!/usr/bin/env bash
# Usage: run_files.sh MOAT FILEOPS
#
# File operation costs natively, in moat (ptrace, the root served by the
# Gofer, /tmp on the sandbox's tmpfs) and in runsc (ptrace), unpinned, median
# of $RUNS runs (default 3), as ratios. Builds nothing; never fails on a timing.
set -u
MOAT=${1:-} PROG=${2:-}
RUNS=${RUNS:-3}
RUNSC=${RUNSC:-$(command -v runsc || true)}
if [ -z "$MOAT" ] || [ ! -x "$PROG" ]; then
    echo "usage: $0 MOAT FILEOPS" >&2
    exit 2
fi
BIG=/usr/bin/busybox
[ -r "$BIG" ] || BIG=/bin/busybox

# median VALUE... : the middle of the sorted values
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}'; }

# measure FIELD CMD...: median of FIELD over $RUNS runs, "" on failure
measure() {
    local field=$1 vals=() out i
    shift
    for ((i = 0; i < RUNS; i++)); do
        out=$(timeout 300 "$@" 2>/dev/null) || { echo ""; return; }
        vals+=("$(sed -n "s/.*$field=\([0-9.]*\).*/\1/p" <<<"$out")")
    done
    median "${vals[@]}"
}

ratio() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }' || echo "-"; }

printf '%-34s %12s %12s %12s %10s %10s\n' "operation (ns/op, read: MB/s)" native moat runsc \
    "moat/nat" "moat/runsc"
row() {
    local name=$1 field=$2 n_native=$3 n_sandbox=$4 mode=$5 path=$6
    local nat moat rs
    nat=$(measure "$field" "$PROG" "$mode" "$n_native" "$path")
    moat=$(measure "$field" "$MOAT" do -- "$PROG" "$mode" "$n_sandbox" "$path")
    rs=""
    [ -n "$RUNSC" ] && rs=$(measure "$field" "$RUNSC" --network=none --platform=ptrace do -- \
        "$PROG" "$mode" "$n_sandbox" "$path")
    printf '%-34s %12s %12s %12s %10s %10s\n' "$name" "${nat:--}" "${moat:--}" "${rs:--}" \
        "$(ratio "$moat" "$nat")" "$(ratio "$moat" "$rs")"
}
row "open+close $BIG" ns_per_op 20000 2000 open "$BIG"
row "stat $BIG" ns_per_op 20000 2000 stat "$BIG"
row "pread 4 KiB" ns_per_op 20000 2000 pread "$BIG"
row "create+unlink in /tmp" ns_per_op 20000 2000 create /tmp
row "sequential read $BIG (MB/s)" mb_per_s 20 5 read "$BIG"
echo "(MB/s: higher is better, so moat/native below 1 means slower)"
