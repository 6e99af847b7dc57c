#!/usr/bin/env bash
# A guest that sends each socket over itself and closes it leaves sockets
# only their own queues reference: moat has no cycle collector, so what can
# be in flight is bounded (ETOOMANYREFS) and the Sentry's memory stays bounded.
# usage: unix_inflight.sh MOAT
set -u
. "$(dirname "$0")/tap.sh"
MOAT=${1:-}
need_moat
moat=$1
[ -x /usr/bin/python3 ] || skip_all "python3 is not installed"
py='
import socket, errno
refused = 0
for i in range(70000):
    a, b = socket.socketpair()
    try:
        socket.send_fds(a, [b"x"], [a.fileno(), b.fileno()])
    except OSError as e:
        if e.errno != errno.ETOOMANYREFS:
            raise
        refused += 1
    a.close(); b.close()
print("refused" if refused else "all sent")'
# 70,000 rounds of four calls: under ptrace on a busy VM that can take
# minutes (every call is two stops), more than tap.sh's usual minute.
RUN_TIMEOUT=280
run timeout -s KILL 300 "$moat" do -- /usr/bin/python3 -c "$py"
is "$RUN_STATUS" 0 "70,000 self-referencing sends: the Sentry survives"
is "$RUN_OUT" "refused" "beyond the in-flight bound, sends fail with ETOOMANYREFS"
done_testing
