#!/usr/bin/env bash
# A host where seccomp-trap cannot work still runs the guest: on ptrace, with
# a message saying why (MOAT_SYSTRAP_UNAVAILABLE plays such a host).
# usage: platform_fallback.sh MOAT BUSYBOX
set -u
. "$(dirname "$0")/tap.sh"
moat=$1 bb=$2
unset MOAT_PLATFORM
out=$(MOAT_SYSTRAP_UNAVAILABLE=1 "$moat" do --platform=systrap -- "$bb" echo hi 2>"$TAP_TMP/err")
is "$?" 0 "systrap unavailable: the guest still runs"
is "$out" "hi" "and prints what it should"
like "$(cat "$TAP_TMP/err")" "systrap platform cannot run here \(MOAT_SYSTRAP_UNAVAILABLE is set\); falling back to ptrace" \
    "the message names the reason and the fallback"
out=$("$moat" do --platform=systrap -- "$bb" echo hi 2>"$TAP_TMP/err")
if grep -q "falling back to ptrace" "$TAP_TMP/err"; then
    skip "this host cannot run systrap: $(head -n 1 "$TAP_TMP/err")" \
        "where systrap works, nothing is said"
else
    is "$(cat "$TAP_TMP/err")" "" "where systrap works, nothing is said"
fi
done_testing
