#!/bin/bash
# The make -j2 workload of run_procs.sh, RUNS times (default 12) in each of
# moat-systrap, moat-systrap without patching and runsc-ptrace, taking turns
# so that a noisy stretch of the VM hits every column alike. Each run's CPU
# steal (ticks of /proc/stat's steal column taken by the host) is recorded;
# the summary gives each column's median over all runs and over the runs
# with at most 3 ticks stolen. Prints figures only: never fails on a time.
#
# Usage: run_make_interleaved.sh MOAT [RUNS]
set -u
MOAT=${1:-}
RUNS=${2:-12}
if [ -z "$MOAT" ] || [ ! -x "$MOAT" ]; then
    echo "usage: $0 MOAT [RUNS]" >&2
    exit 2
fi
command -v gcc >/dev/null && command -v make >/dev/null || { echo "needs gcc and make" >&2; exit 2; }
RUNSC=$(command -v runsc || true)
script='set -e; d=$(mktemp -d /tmp/mk.XXXXXX); cd $d
for i in 1 2 3 4 5 6 7 8; do printf "int f%d(int x){return x*%d;}\n" $i $i > f$i.c; done
printf "int f1(int);\nint main(void){return f1(0);}\n" > main.c
printf "OBJS=main.o f1.o f2.o f3.o f4.o f5.o f6.o f7.o f8.o\nprog: \$(OBJS)\n\tgcc -o prog \$(OBJS)\n%%.o: %%.c\n\tgcc -O2 -c \$< -o \$@\n" > Makefile
s=$(date +%s%N); make -s -j2 >/dev/null; e=$(date +%s%N); ./prog; echo "make_ms=$(( (e - s) / 1000000 ))"; rm -rf $d'
steal() { awk '/^cpu /{print $9}' /proc/stat; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for _ in $(seq 1 "$RUNS"); do
    for cfg in moat-systrap moat-systrap-nopatch runsc-ptrace; do
        s0=$(steal)
        case $cfg in
        moat-systrap) o=$("$MOAT" do --platform=systrap -- /bin/bash -c "$script" 2>/dev/null) ;;
        moat-systrap-nopatch) o=$("$MOAT" do --platform=systrap --systrap-patching=false -- /bin/bash -c "$script" 2>/dev/null) ;;
        runsc-ptrace) [ -n "$RUNSC" ] || continue
            o=$("$RUNSC" --network=none --platform=ptrace do -- /bin/bash -c "$script" 2>/dev/null) ;;
        esac
        ms=$(printf '%s\n' "$o" | sed -n 's/^make_ms=//p' | tail -1)
        [ -n "$ms" ] && echo "$cfg $ms $(( $(steal) - s0 ))" >>"$out"
    done
done
python3 - "$out" <<'PY'
import collections, statistics, sys
allr, calm = collections.defaultdict(list), collections.defaultdict(list)
for line in open(sys.argv[1]):
    cfg, ms, st = line.split()
    allr[cfg].append(int(ms))
    if int(st) <= 3:
        calm[cfg].append(int(ms))
print("make -j2, 9 C files (ms): median of every run, and of runs with <= 3 ticks stolen")
for cfg in ("moat-systrap", "moat-systrap-nopatch", "runsc-ptrace"):
    if cfg in allr:
        c = calm.get(cfg)
        print(f"{cfg:22s} {statistics.median(allr[cfg]):8.0f} ({len(allr[cfg])} runs)  "
              f"{statistics.median(c) if c else float('nan'):8.0f} ({len(c or [])} calm)")
if "runsc-ptrace" in allr:
    r = statistics.median(allr["runsc-ptrace"])
    for cfg in ("moat-systrap", "moat-systrap-nopatch"):
        if cfg in allr:
            print(f"{cfg} vs runsc-ptrace: {statistics.median(allr[cfg]) / r:.2f}x")
PY
