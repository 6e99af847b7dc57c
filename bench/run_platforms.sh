#!/usr/bin/env bash
# Usage: run_platforms.sh MOAT GETPID FILEOPS PROCS
#
# One run that compares platforms: the getpid round trip, open+close of a
# served file, fork+exec(/bin/true)+wait and a `make -j2` of nine C files,
# natively, in moat (ptrace, systrap with and without syscall patching) and
# in runsc (ptrace, and kvm when /dev/kvm is usable). Each figure is the
# median of $RUNS runs (default 3), unpinned. Prints the figures, then the
# ratios of each moat column against native, runsc-ptrace, runsc-kvm and
# moat-ptrace. Builds nothing; never fails on a timing: a configuration that
# does not run shows "-" and a note says why.
#
# Environment: RUNS, RUNSC (path), CONFIGS (the columns to run, default all
# six), PROBE_TIMEOUT (seconds a configuration gets to prove it runs, 20),
# RUN_TIMEOUT (seconds one timed run may take, 300).
set -u

MOAT=${1:-} GETPID=${2:-} FILEOPS=${3:-} PROCS=${4:-}
RUNS=${RUNS:-3}
RUNSC=${RUNSC:-$(command -v runsc || true)}
CONFIGS=${CONFIGS:-native moat-ptrace moat-systrap moat-systrap-nopatch runsc-ptrace runsc-kvm}
PROBE_TIMEOUT=${PROBE_TIMEOUT:-20}
RUN_TIMEOUT=${RUN_TIMEOUT:-300}
if [ -z "$MOAT" ] || [ ! -x "$GETPID" ] || [ ! -x "$FILEOPS" ] || [ ! -x "$PROCS" ]; then
    echo "usage: $0 MOAT GETPID FILEOPS PROCS" >&2
    exit 2
fi
BIG=/usr/bin/busybox
[ -r "$BIG" ] || BIG=/bin/busybox
TRUE=/bin/true

TMP=$(mktemp -d "${TMPDIR:-/tmp}/moat-bench-platforms.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
: >"$TMP/notes"
# measure runs in a command substitution: notes and dead columns go through files.
note() { echo "$1" >>"$TMP/notes"; }
dead() { [ -e "$TMP/dead.$1" ]; }
kill_column() {
    touch "$TMP/dead.$1"
    note "$1: $2"
}

# launch CONFIG CMD...: CMD run natively or in the sandbox CONFIG names.
launch() {
    local config=$1
    shift
    case $config in
    native) "$@" ;;
    moat-ptrace) "$MOAT" do --platform=ptrace -- "$@" ;;
    moat-systrap) "$MOAT" do --platform=systrap --systrap-patching=true -- "$@" ;;
    moat-systrap-nopatch) "$MOAT" do --platform=systrap --systrap-patching=false -- "$@" ;;
    runsc-ptrace) "$RUNSC" --network=none --platform=ptrace do -- "$@" ;;
    runsc-kvm) "$RUNSC" --network=none --platform=kvm do -- "$@" ;;
    *) echo "unknown configuration $config" >&2 && return 2 ;;
    esac
}

# first_line FILE: the first non-empty line of FILE, short enough for a note.
first_line() { grep -m 1 . "$1" | cut -c1-110; }

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}'; }

# measure CONFIG LABEL FIELD CMD...: median of FIELD over $RUNS runs of CMD
# in CONFIG, or "" with a note naming LABEL. A timeout stops the column for good, so that a
# hanging platform costs one timeout, not one per workload.
measure() {
    local config=$1 label=$2 field=$3 vals=() out i rc v
    shift 3
    dead "$config" && return
    for ((i = 0; i < RUNS; i++)); do
        out=$(timeout -k 5 "$RUN_TIMEOUT" bash -c 'launch "$@"' bash "$config" "$@" 2>"$TMP/err")
        rc=$?
        if [ $rc = 124 ] || [ $rc = 137 ]; then
            kill_column "$config" "timed out after $RUN_TIMEOUT s on $label; its later rows skipped"
            return
        fi
        v=$(sed -n "s/.*$field=\([0-9.]*\).*/\1/p" <<<"$out" | tail -n 1)
        if [ $rc != 0 ] || [ -z "$v" ]; then
            note "$config: $label failed (exit $rc: $(first_line "$TMP/err"))"
            return
        fi
        vals+=("$v")
    done
    median "${vals[@]}"
}

ratio() {
    if [ -n "$1" ] && [ -n "$2" ]; then
        awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'
    else
        echo "-"
    fi
}

# launch is called through `bash -c` so that timeout can run it: export
# what it needs.
export -f launch
export MOAT RUNSC

# Decide which sandbox columns can run at all before timing anything.
for config in $CONFIGS; do
    case $config in
    native) continue ;;
    moat-*)
        [ -x "$MOAT" ] || {
            kill_column "$config" "moat not found at $MOAT"
            continue
        }
        ;;
    runsc-*)
        [ -n "$RUNSC" ] && [ -x "$RUNSC" ] || {
            kill_column "$config" "runsc not installed"
            continue
        }
        ;;
    esac
    if [ "$config" = runsc-kvm ] && ! { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }; then
        kill_column "$config" "/dev/kvm missing or not usable"
        continue
    fi
    timeout -k 5 "$PROBE_TIMEOUT" bash -c 'launch "$@"' bash "$config" "$GETPID" 100 \
        >"$TMP/probe" 2>"$TMP/err"
    rc=$?
    if [ $rc = 124 ] || [ $rc = 137 ]; then
        kill_column "$config" "does not run here (getpid probe hung for ${PROBE_TIMEOUT} s)"
    elif [ $rc != 0 ] || ! grep -q ns_per_call "$TMP/probe"; then
        kill_column "$config" "does not run here (exit $rc: $(first_line "$TMP/err"))"
    fi
done

# The make -j2 project: the same nine C files as run_procs.sh, built in a
# fresh directory of the sandbox's /tmp and timed by the guest's own date.
MAKE_SCRIPT='set -e; d=$(mktemp -d /tmp/mk.XXXXXX); cd $d
for i in 1 2 3 4 5 6 7 8; do printf "int f%d(int x){return x*%d;}\n" $i $i > f$i.c; done
printf "int f1(int);\nint main(void){return f1(0);}\n" > main.c
printf "OBJS=main.o f1.o f2.o f3.o f4.o f5.o f6.o f7.o f8.o\nprog: \$(OBJS)\n\tgcc -o prog \$(OBJS)\n%%.o: %%.c\n\tgcc -O2 -c \$< -o \$@\n" > Makefile
s=$(date +%s%N); make -s -j2 >/dev/null; e=$(date +%s%N); ./prog; echo "make_ms=$(( (e - s) / 1000000 ))"; rm -rf $d'
have_make=1
command -v gcc >/dev/null && command -v make >/dev/null || {
    have_make=0
    note "gcc or make missing: make -j2 row skipped"
}

# run_workload NAME CONFIG: the figure of one row in one column.
# Sandboxes get fewer iterations where each call is a trap (as in run.sh
# and run_files.sh).
WORKLOADS=(getpid open forkexec make)
declare -A TITLE=(
    [getpid]="getpid round trip (ns)"
    [open]="open+close $BIG (ns)"
    [forkexec]="fork+exec(/bin/true)+wait (us)"
    [make]="make -j2, 9 C files (ms)"
)
run_workload() {
    local w=$1 config=$2 n
    case $w in
    getpid)
        n=20000
        [ "$config" = native ] && n=200000
        measure "$config" "$w" ns_per_call "$GETPID" "$n"
        ;;
    open)
        n=2000
        [ "$config" = native ] && n=20000
        measure "$config" "$w" ns_per_op "$FILEOPS" open "$n" "$BIG"
        ;;
    forkexec) measure "$config" "$w" us_per_op "$PROCS" forkexec 100 "$TRUE" ;;
    make) [ $have_make = 1 ] && measure "$config" "$w" make_ms /bin/bash -c "$MAKE_SCRIPT" ;;
    esac
}

declare -A V
start=$(date +%s)
for w in "${WORKLOADS[@]}"; do
    for config in $CONFIGS; do
        V[$w,$config]=$(run_workload "$w" "$config")
    done
done
elapsed=$(($(date +%s) - start))

ALL=(native moat-ptrace moat-systrap moat-systrap-nopatch runsc-ptrace runsc-kvm)
echo "platforms: median of $RUNS runs, unpinned; getpid: native 200000 calls, sandboxes 20000;"
echo "open+close: native 20000, sandboxes 2000; fork+exec: 100; took ${elapsed} s"
echo "host: $(uname -sr), $(nproc) cpus, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
[ -n "$RUNSC" ] && [ -x "$RUNSC" ] && echo "runsc: $("$RUNSC" --version 2>/dev/null | head -n 1)"
echo
# Each column as wide as its name, so that the figures stay under it.
printf '%-32s' "workload"
for c in "${ALL[@]}"; do printf ' %12s' "$c"; done
echo
for w in "${WORKLOADS[@]}"; do
    printf '%-32s' "${TITLE[$w]}"
    for c in "${ALL[@]}"; do printf ' %*s' $((${#c} > 12 ? ${#c} : 12)) "${V[$w,$c]:--}"; done
    echo
done

# The vs runsc-kvm column only appears when runsc-kvm gave a figure.
with_kvm=0
for w in "${WORKLOADS[@]}"; do [ -n "${V[$w,runsc-kvm]:-}" ] && with_kvm=1; done
echo
echo "ratios (time of the moat column / time of the other; below 1.00x: moat is faster)"
printf '%-32s %-20s %9s %15s' "workload" "moat column" "vs native" "vs runsc-ptrace"
[ $with_kvm = 1 ] && printf ' %12s' "vs runsc-kvm"
printf ' %14s\n' "vs moat-ptrace"
for w in "${WORKLOADS[@]}"; do
    for m in moat-ptrace moat-systrap moat-systrap-nopatch; do
        mv=${V[$w,$m]:-}
        printf '%-32s %-20s %9s %15s' "${TITLE[$w]}" "$m" "$(ratio "$mv" "${V[$w,native]:-}")" \
            "$(ratio "$mv" "${V[$w,runsc-ptrace]:-}")"
        [ $with_kvm = 1 ] && printf ' %12s' "$(ratio "$mv" "${V[$w,runsc-kvm]:-}")"
        if [ $m = moat-ptrace ]; then
            printf ' %14s\n' "-"
        else
            printf ' %14s\n' "$(ratio "$mv" "${V[$w,moat-ptrace]:-}")"
        fi
    done
done

for c in "${ALL[@]}"; do
    case " $CONFIGS " in
    *" $c "*) ;;
    *) note "$c: not selected (CONFIGS)" ;;
    esac
done
if [ -s "$TMP/notes" ]; then
    echo
    sed 's/^/note: /' "$TMP/notes"
fi
exit 0
