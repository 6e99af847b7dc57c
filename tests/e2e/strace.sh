#!/usr/bin/env bash
# Usage: strace.sh MOAT [BUSYBOX]
#
# `moat do --strace` traces the guest's system calls, strace-style, on
# stderr, and never mixes them into the guest's stdout.
set -u
. "$(dirname "$0")/tap.sh"

MOAT=${1:-}
BUSYBOX=${2:-/bin/busybox}
need_moat
[ -x "$BUSYBOX" ] || skip_all "no static busybox at $BUSYBOX"

run "$MOAT" do --strace -- "$BUSYBOX" echo hi
is "$RUN_STATUS" 0 "echo under --strace exits 0"
out_is 'hi\n' "stdout is exactly the guest's output"
like "$RUN_ERR" 'write\(1, "hi\\n", 3\) += 3' 'the write is traced: write(1, "hi\n", 3) = 3'
like "$RUN_ERR" 'exit_group\(0\)' "exit_group(0) is traced"
like "$RUN_ERR" 'uname\(|getuid\(\)' "start-up calls are traced too"
no_crash_report "no crash report under --strace"

run "$MOAT" do --strace -- "$BUSYBOX" false
is "$RUN_STATUS" 1 "false under --strace still exits 1"
like "$RUN_ERR" 'exit_group\(1\)' "exit_group(1) is traced"

run "$MOAT" do -- "$BUSYBOX" echo hi
unlike "$RUN_ERR" 'write\(1, "hi' "without --strace nothing is traced"

done_testing
