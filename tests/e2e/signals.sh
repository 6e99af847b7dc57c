#!/usr/bin/env bash
# Signals sent to moat reach the guest's init with Linux's rules for pid 1:
# its handlers run at once, a default action does nothing, and the third
# interrupt ends the sandbox.
# usage: signals.sh MOAT BUSYBOX
set -u
. "$(dirname "$0")/tap.sh"
moat=$1 bb=$2

wait_running() {
    for _ in $(seq 50); do
        [ -n "$(cat /proc/$1/task/$1/children 2>/dev/null)" ] && break
        sleep 0.1
    done
    sleep 0.3
}

# The guest's first process is pid 1 of its sandbox: as Linux's init, it
# is not killed by a signal it has no handler for, even from outside.
for sig in INT TERM HUP; do
    "$moat" do -- "$bb" sleep 3 2>/dev/null &
    pid=$!
    wait_running "$pid"
    kill -s "$sig" "$pid"
    wait "$pid"
    is "$?" 0 "SIG$sig without a handler leaves init running to its end"
done

# With a handler, the signal reaches it at once. The shell says when its
# trap is set: on a busy machine that can take longer than any fixed pause.
ready=$(mktemp)
for sig in INT TERM HUP; do
    start=$(date +%s)
    : >"$ready"
    "$moat" do -- "$bb" sh -c "trap 'exit 42' $sig; echo ready; sleep 20 & wait" \
        >"$ready" 2>/dev/null &
    pid=$!
    wait_running "$pid"
    for _ in $(seq 100); do
        grep -q ready "$ready" && break
        sleep 0.1
    done
    kill -s "$sig" "$pid"
    wait "$pid"
    rc=$?
    took=$(($(date +%s) - start))
    is "$rc" 42 "SIG$sig runs init's handler"
    if [ "$took" -lt 10 ]; then
        pass "SIG$sig interrupts init's wait (${took}s)"
    else
        fail "SIG$sig interrupts init's wait (${took}s)"
    fi
done
rm -f "$ready"

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
