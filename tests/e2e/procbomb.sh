#!/usr/bin/env bash
# A guest making tasks without end: the sandbox caps its threads and its
# processes, zombies included (clone answers EAGAIN), and lives on. And
# init's end still ends the sandbox while other processes fork as fast as
# they can (a child forked just then must not escape the kill of every
# process, or the sandbox never ends).
# usage: procbomb.sh MOAT GUEST_PROCBOMB
set -u
. "$(dirname "$0")/tap.sh"
moat=$1 guest=$2

ended=0
for i in 1 2 3 4 5 6; do
    timeout -s KILL 60 "$moat" do -- "$guest" orphans >/dev/null 2>"$TAP_TMP/orphans.err"
    rc=$?
    [ "$rc" = 7 ] && ended=$((ended + 1))
done
is "$ended" 6 "init exits while children fork: the sandbox ends with init's status, 6 runs of 6"

out=$(timeout -s KILL 300 "$moat" do -- "$guest" threads 2>&1)
like "$out" "^threads [0-9]+ err Resource temporarily unavailable" \
    "threads until pthread_create fails: EAGAIN"
n=$(sed -n 's/^threads \([0-9]*\) err.*/\1/p' <<<"$out")
if [ -n "$n" ] && [ "$n" -lt 4096 ] && [ "$n" -ge 1000 ]; then
    pass "the sandbox's ceiling stops them ($n threads besides the main one)"
else
    fail "the sandbox's ceiling stops them" "$out"
fi
like "$out" "^joined $n\$" "every thread then ran to its end and was joined"
out=$(timeout -s KILL 500 "$moat" do -- "$guest" zombies 2>&1)
n=$(sed -n 's/^zombies \([0-9]*\) err Resource temporarily unavailable$/\1/p' <<<"$out")
if [ -n "$n" ] && [ "$n" -lt 4096 ] && [ "$n" -ge 1000 ]; then
    pass "unreaped zombies count: fork fails with EAGAIN after $n"
else
    fail "unreaped zombies count: fork fails with EAGAIN" "$out"
fi
like "$out" "^reaped $n, fork again works\$" "once they are reaped, fork works again"
done_testing
