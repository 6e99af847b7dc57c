#!/usr/bin/env bash
# Usage: run_programs.sh MOAT
#
# Whole-program wall time for Debian's own dynamically linked programs:
# natively, under `moat do` (ptrace; the host's root through the Gofer and
# the overlay) and under `runsc do` (ptrace), median of $RUNS runs (default
# 5), as ratios. Start-up dominates the small ones: sandbox creation, ld.so
# and its shared libraries through file-backed mmap. "-" marks a program that
# failed there (Debian 12's runsc fails `ls -l`: its statx refuses
# AT_STATX_DONT_SYNC). Never fails on a timing.
set -u
MOAT=${1:-}
RUNS=${RUNS:-5}
RUNSC=${RUNSC:-$(command -v runsc || true)}
if [ -z "$MOAT" ] || [ ! -x "$MOAT" ]; then
    echo "usage: $0 MOAT" >&2
    exit 2
fi

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}'; }

# ms CMD...: median wall milliseconds over $RUNS runs, "" if a run fails
ms() {
    local vals=() i t0 t1
    for ((i = 0; i < RUNS; i++)); do
        t0=$(date +%s%N)
        timeout 300 "$@" >/dev/null 2>&1 || { echo ""; return; }
        t1=$(date +%s%N)
        vals+=("$(( (t1 - t0) / 1000 ))")
    done
    awk -v us="$(median "${vals[@]}")" 'BEGIN { printf "%.1f", us / 1000 }'
}

ratio() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }' || echo "-"; }

printf '%-44s %10s %10s %10s %10s %10s\n' "program (wall ms, median)" native moat runsc \
    "moat/nat" "moat/runsc"
row() {
    local name=$1 nat moat rs=""
    shift
    nat=$(ms "$@")
    moat=$(ms "$MOAT" do -- "$@")
    [ -n "$RUNSC" ] && rs=$(ms "$RUNSC" --network=none --platform=ptrace do -- "$@")
    printf '%-44s %10s %10s %10s %10s %10s\n' "$name" "${nat:--}" "${moat:--}" "${rs:--}" \
        "$(ratio "$moat" "$nat")" "$(ratio "$moat" "$rs")"
}
row "/bin/true" /bin/true
row "/bin/cat /etc/os-release" /bin/cat /etc/os-release
row "/bin/ls -la /usr/bin" /bin/ls -la /usr/bin
row "/usr/bin/find /usr/share/doc" /usr/bin/find /usr/share/doc
row "/usr/bin/sha256sum /usr/bin/python3" /usr/bin/sha256sum /usr/bin/python3
row "python3 -c 'import json, sqlite3'" /usr/bin/python3 -c 'import json, sqlite3'
