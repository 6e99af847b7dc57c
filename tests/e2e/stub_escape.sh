#!/usr/bin/env bash
# Guest code that jumps into the stub page with the registers of a host mmap
# of the memory file maps nothing, on every platform (the guest program
# tries every syscall instruction of the stub; see tests/syscalls/stub_escape.c).
# usage: stub_escape.sh MOAT GUEST_STUB_ESCAPE
set -u
. "$(dirname "$0")/tap.sh"
moat=$1 prog=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for platform in ptrace systrap; do
    timeout -s KILL 300 "$moat" do --platform="$platform" -- "$prog" >"$out" 2>&1
    rc=$?
    total=$(grep -c '^ok\|^not ok' "$out")
    if [ "$rc" = 0 ] && [ "$total" -gt 2 ] && ! grep -q '^not ok' "$out"; then
        pass "$platform: $total escape attempts, none mapped the memory file"
    else
        fail "$platform: no escape through the stub page (exit $rc)" \
            "$(grep -m3 '^not ok\|SKIP' "$out")"
    fi
done
done_testing
