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
done_testing
