#!/usr/bin/env bash
# Random syscalls with hostile arguments, many seeds: the guest may die of its
# own actions, but the Sentry must always report an ordinary guest outcome,
# never crash, never leave a sanitizer report, never hang.
# usage: sysfuzz.sh MOAT SYSFUZZ [SEEDS [FIRST]]
set -u
. "$(dirname "$0")/tap.sh"
moat=$1 prog=$2 seeds=${3:-40} first=${4:-1}
completed=0
for seed in $(seq "$first" $((first + seeds - 1))); do
    # A Sentry stuck in a loop ignores the forwarded SIGTERM: KILL follows.
    # (137 alone is not a hang: the guest may end killed, 128 + SIGKILL.)
    start=$SECONDS
    timeout --kill-after=5 60 "$moat" do -- "$prog" "$seed" </dev/null >"$TAP_TMP/out" 2>"$TAP_TMP/err"
    rc=$?
    if [ $((SECONDS - start)) -ge 60 ]; then
        fail "seed $seed: the sandbox hung (status $rc)" "$(head -c 2000 "$TAP_TMP/err")"
        continue
    fi
    if [ "$rc" = 124 ] || [ "$rc" = 125 ] || [ "$rc" = 126 ] || [ "$rc" = 127 ]; then
        fail "seed $seed: moat itself failed (status $rc)" "$(head -c 2000 "$TAP_TMP/err")"
        continue
    fi
    if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer|the sentry (died|was killed|exited)' \
        "$TAP_TMP/err"; then
        fail "seed $seed: the sentry reported a problem (status $rc)" "$(head -c 2000 "$TAP_TMP/err")"
        continue
    fi
    grep -q "sysfuzz done" "$TAP_TMP/out" && completed=$((completed + 1))
    pass "seed $seed: guest outcome $rc, sentry intact"
done
# Most seeds kill the guest early through its own munmap or FS base; some
# must get through all their calls, or the fuzzer exercises nothing.
if [ "$completed" -gt 0 ]; then
    pass "$completed of $seeds seeds ran every call"
else
    fail "no seed ran all its calls"
fi
done_testing
