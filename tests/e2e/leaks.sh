#!/usr/bin/env bash
# After 1,000 fork/exec/wait rounds and 100 rounds of 8 threads, the Sentry
# holds no more threads and stub processes than before them: counted from
# the host while the guest waits, against a run that did no rounds.
# usage: leaks.sh MOAT GUEST_STRESS
set -u
. "$(dirname "$0")/tap.sh"
moat=$1 guest=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT

descendants() {
    local k
    for k in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        echo "$k"
        descendants "$k"
    done
}

# count ROUNDS: "threads stubs" of the Sentry once the guest is done
count() {
    : >"$out"
    "$moat" do -- "$guest" hold 4 "$1" >"$out" 2>&1 &
    local fe=$! sentry="" i
    for i in $(seq 2400); do
        grep -q "stress done" "$out" && break
        sleep 0.1
    done
    # The front end's children are the Gofer and the Sentry, which is the
    # one with children of its own (the stubs).
    local c
    for c in $(cat /proc/$fe/task/*/children 2>/dev/null); do
        [ -n "$(cat /proc/$c/task/*/children 2>/dev/null)" ] && sentry=$c
    done
    local threads stubs=0 t
    if [ -z "$sentry" ] || ! grep -q "stress done" "$out"; then
        wait "$fe"
        echo "- -"
        return
    fi
    threads=$(ls /proc/$sentry/task 2>/dev/null | wc -l)
    # Every process below the Sentry: ptrace's stubs are its children,
    # systrap's are children of its stub factory.
    stubs=$(descendants "$sentry" | wc -w)
    wait "$fe"
    echo "$threads $stubs"
}

base=$(count 0)
after=$(count 1000)
if grep -q "stress done" "$out" && ! grep -q "^not ok" "$out"; then
    pass "the stress rounds passed"
else
    fail "the stress rounds passed ($(grep -m1 '^not ok' "$out"))"
fi
read -r bt bs <<<"$base"
read -r at as <<<"$after"
ok_cond() { if eval "$1"; then pass "$2"; else fail "$2"; fi; }
ok_cond "[ \"$at\" != - ] && [ \"$at\" -le \"$bt\" ]" "no Sentry thread left over ($at after, $bt at rest)"
ok_cond "[ \"$as\" != - ] && [ \"$as\" -le \"$bs\" ]" "no stub process left over ($as after, $bs at rest)"
# The front end returned once the Sentry ended; its stubs die with it.
for _ in $(seq 50); do
    left=$(pgrep -f "$guest hold" | wc -l)
    [ "$left" = 0 ] && break
    sleep 0.1
done
is "$left" 0 "nothing of the sandbox remains after it exits"
done_testing
