#!/usr/bin/env bash
# The 32-bit syscall ABI is refused with ENOSYS, not misread as x86-64 calls.
# usage: int80.sh MOAT INT80
set -u
. "$(dirname "$0")/tap.sh"
moat=$1 prog=$2
"$prog"
native=$?
if [ "$native" = 7 ]; then
  pass "natively, int 0x80 runs i386 exit(7)"
else
  skip "the host has no IA-32 emulation (native exit $native)" "natively, int 0x80 runs i386 exit(7)"
fi
"$moat" do -- "$prog" 2>/dev/null
is "$?" 38 "in the sandbox, int 0x80 returns ENOSYS"
done_testing
