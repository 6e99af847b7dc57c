#!/usr/bin/env bash
# A host signal forwarded to the guest runs the guest's handler, and a wait
# it interrupts ends with EINTR, or restarts under SA_RESTART.
# usage: signal_handler.sh MOAT GUEST_SIGWAIT
set -u
. "$(dirname "$0")/tap.sh"
moat=$1 guest=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# Start the guest with extra arguments, wait for its "ready", send SIGINT.
start_and_interrupt() {
    "$moat" do -- "$guest" "$@" >"$out" 2>/dev/null &
    pid=$!
    for _ in $(seq 100); do
        grep -q ready "$out" && break
        sleep 0.05
    done
    sleep 0.2
    kill -s INT "$pid"
}

start_and_interrupt
for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
kill -s KILL "$pid" 2>/dev/null
wait "$pid"
is "$?" 0 "the guest survives SIGINT it handles"
grep -q 'caught SIGINT' "$out" && pass "the SIGINT handler ran" || fail "the SIGINT handler ran"
grep -q 'futex returned -1 errno 4' "$out" && pass "the wait ends with EINTR" ||
    fail "the wait ends with EINTR ($(tail -1 "$out"))"

start_and_interrupt restart
sleep 1
grep -q 'caught SIGINT' "$out" && pass "SA_RESTART: the handler ran" ||
    fail "SA_RESTART: the handler ran"
if kill -0 "$pid" 2>/dev/null && ! grep -q 'futex returned' "$out"; then
    pass "SA_RESTART: the wait restarted"
else
    fail "SA_RESTART: the wait restarted"
fi
kill -s TERM "$pid"
sleep 0.5
if kill -0 "$pid" 2>/dev/null; then
    pass "SIGTERM without a handler leaves init running, as on Linux"
else
    fail "SIGTERM without a handler leaves init running, as on Linux"
fi
kill -s INT "$pid"
kill -s INT "$pid"
wait "$pid"
is "$?" 137 "the third interrupt ends the sandbox"
done_testing
