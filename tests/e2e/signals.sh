#!/usr/bin/env bash
# Signals sent to moat reach the guest: SIGINT or SIGTERM ends a sleeping
# guest at once, and moat exits 128+N as a shell would for the guest.
# usage: signals.sh MOAT BUSYBOX
set -u
. "$(dirname "$0")/tap.sh"
moat=$1 bb=$2

for sig in INT TERM HUP; do
    start=$(date +%s)
    "$moat" do -- "$bb" sleep 20 2>/dev/null &
    pid=$!
    # Wait until the sandbox is running (the front end has its Sentry child).
    for _ in $(seq 50); do
        [ -n "$(cat /proc/$pid/task/$pid/children 2>/dev/null)" ] && break
        sleep 0.1
    done
    sleep 0.3
    kill -s "$sig" "$pid"
    wait "$pid"
    rc=$?
    took=$(($(date +%s) - start))
    want=$((128 + $(kill -l "$sig")))
    is "$rc" "$want" "SIG$sig to moat ends the guest with status $want"
    if [ "$took" -lt 10 ]; then
        pass "SIG$sig interrupts the guest's sleep (${took}s)"
    else
        fail "SIG$sig interrupts the guest's sleep (${took}s)"
    fi
done

# A guest that ignores SIGINT and SIGTERM: the third one kills the sandbox,
# as docker does, so moat can always be stopped.
"$moat" do -- "$bb" sh -c 'trap "" INT TERM; while :; do :; done' 2>"$TAP_TMP/err3" &
pid=$!
for _ in $(seq 50); do
    [ -n "$(cat /proc/$pid/task/$pid/children 2>/dev/null)" ] && break
    sleep 0.1
done
sleep 0.5
kill -s INT "$pid"
sleep 0.3
kill -s TERM "$pid"
sleep 0.3
if kill -0 "$pid" 2>/dev/null; then
    pass "two ignored interrupts leave the guest running"
else
    fail "two ignored interrupts leave the guest running"
fi
kill -s INT "$pid"
wait "$pid"
is "$?" 137 "the third interrupt kills the sandbox (137)"
like "$(cat "$TAP_TMP/err3")" "third interrupt: killing the sandbox" "and says so"
sleep 0.5
left=$(pgrep -f "$bb sh -c trap" | grep -vx "$$" || true)
is "$left" "" "no process of the sandbox is left"
done_testing
