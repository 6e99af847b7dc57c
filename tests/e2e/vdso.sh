#!/usr/bin/env bash
# Time through the vDSO never traps: 4000 libc time calls, none seen by --strace.
# usage: vdso.sh MOAT TIMELOOP
set -u
. "$(dirname "$0")/tap.sh"
moat=$1 prog=$2
out=$("$moat" do --strace -- "$prog" 2>&1)
rc=$?
is "$rc" 0 "timeloop exits 0 in the sandbox"
like "$out" "timeloop done 1" "timeloop ran to the end"
traps=$(printf '%s\n' "$out" | grep -cE '\] (clock_gettime|gettimeofday|time)\(' || true)
is "$traps" 0 "no time call trapped into the Sentry"
like "$out" "exit_group\\(0\\)" "strace saw the program's own exit"
done_testing
