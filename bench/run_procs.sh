#!/usr/bin/env bash
# Usage: run_procs.sh MOAT PROCS
#
# Process, thread and pipe costs natively, in moat (ptrace) and in runsc
# (ptrace), median of $RUNS runs (default 3), as ratios; then a `make -j2`
# of a small C project in the sandbox's /tmp. Never fails on a timing.
set -u
MOAT=${1:-} PROG=${2:-}
RUNS=${RUNS:-3}
RUNSC=${RUNSC:-$(command -v runsc || true)}
if [ -z "$MOAT" ] || [ ! -x "$PROG" ]; then
    echo "usage: $0 MOAT PROCS" >&2
    exit 2
fi
TRUE=/bin/true

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}'; }
measure() {
    local field=$1 vals=() out i
    shift
    for ((i = 0; i < RUNS; i++)); do
        out=$(timeout -s KILL 300 "$@" 2>/dev/null) || { echo ""; return; }
        vals+=("$(sed -n "s/.*$field=\([0-9.]*\).*/\1/p" <<<"$out")")
    done
    median "${vals[@]}"
}
ratio() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }' || echo "-"; }

printf '%-30s %12s %12s %12s %10s %10s\n' "operation (us/op)" native moat runsc "moat/nat" "moat/runsc"
row() {
    local name=$1 n=$2
    shift 2
    local nat moat rs=""
    nat=$(measure us_per_op "$PROG" "$@")
    moat=$(measure us_per_op "$MOAT" do -- "$PROG" "$@")
    [ -n "$RUNSC" ] && rs=$(measure us_per_op "$RUNSC" --network=none --platform=ptrace do -- "$PROG" "$@")
    printf '%-30s %12s %12s %12s %10s %10s\n' "$name" "${nat:--}" "${moat:--}" "${rs:--}" \
        "$(ratio "$moat" "$nat")" "$(ratio "$moat" "$rs")"
}
row "fork+wait" 200 fork 200
row "fork+exec(/bin/true)+wait" 100 forkexec 100 "$TRUE"
row "pipe ping-pong (round trip)" 2000 pipe 2000
row "thread create+join" 200 thread 200

# make -j2 of a small C project (8 files), built in the sandbox's /tmp.
if command -v gcc >/dev/null && command -v make >/dev/null; then
    script='set -e; d=$(mktemp -d /tmp/mk.XXXXXX); cd $d
for i in 1 2 3 4 5 6 7 8; do printf "int f%d(int x){return x*%d;}\n" $i $i > f$i.c; done
printf "int f1(int);\nint main(void){return f1(0);}\n" > main.c
printf "OBJS=main.o f1.o f2.o f3.o f4.o f5.o f6.o f7.o f8.o\nprog: \$(OBJS)\n\tgcc -o prog \$(OBJS)\n%%.o: %%.c\n\tgcc -O2 -c \$< -o \$@\n" > Makefile
s=$(date +%s%N); make -s -j2 >/dev/null; e=$(date +%s%N); ./prog; echo "make_ms=$(( (e - s) / 1000000 ))"; rm -rf $d'
    nat=$(measure make_ms bash -c "$script")
    moat=$(measure make_ms "$MOAT" do -- /bin/bash -c "$script")
    rs=""
    [ -n "$RUNSC" ] && rs=$(measure make_ms "$RUNSC" --network=none --platform=ptrace do -- /bin/bash -c "$script")
    printf '%-30s %12s %12s %12s %10s %10s\n' "make -j2, 9 C files (ms)" "${nat:--}" "${moat:--}" \
        "${rs:--}" "$(ratio "$moat" "$nat")" "$(ratio "$moat" "$rs")"
fi
