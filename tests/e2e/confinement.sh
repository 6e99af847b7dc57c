#!/usr/bin/env bash
# Usage: confinement.sh MOAT [ALLOWED_CAP_MASK] [BUSYBOX]
#
# Looks at a running sandbox from the host:
#   - the moat front end has exactly one child, the Sentry;
#   - the Sentry runs under a seccomp filter with no_new_privs, holds no
#     capabilities (or only those in ALLOWED_CAP_MASK, hex, default 0), has
#     an empty root directory and its own mnt/pid/net/ipc/uts namespaces;
#   - the stub running the guest (the Sentry's child) is filtered too.
# Then checks that the sandbox still finishes with status 0.
#
# Needs to run as root, or as the user running moat, to read /proc/PID/root.
set -u
. "$(dirname "$0")/tap.sh"

MOAT=${1:-}
ALLOWED_CAPS=$((16#${2:-0}))
BUSYBOX=${3:-/bin/busybox}
need_moat
[ -x "$BUSYBOX" ] || skip_all "no static busybox at $BUSYBOX"

# children PID: direct children, from /proc/PID/task/*/children when the
# kernel has it, else by scanning every process's parent.
children() {
    local pid=$1 files
    files=$(ls /proc/"$pid"/task/*/children 2>/dev/null)
    if [ -n "$files" ]; then
        # shellcheck disable=SC2086
        cat $files 2>/dev/null | tr ' ' '\n' | grep -v '^$' | sort -u
        return
    fi
    local stat
    for stat in /proc/[0-9]*/stat; do
        # Field 4 is the parent; the command name in (...) may hold spaces.
        awk -v want="$pid" '{ sub(/^.*\) /, ""); if ($2 == want) print FILENAME }' "$stat" \
            2>/dev/null
    done | sed -E 's|/proc/([0-9]+)/stat|\1|' | sort -u
}

status_field() {
    awk -v key="$2:" '$1 == key { $1 = ""; sub(/^ /, ""); print; exit }' /proc/"$1"/status \
        2>/dev/null
}

"$MOAT" do -- "$BUSYBOX" sleep 3 >"$TAP_TMP/out" 2>"$TAP_TMP/err" &
front=$!
sentry=""
stub=""
factory=""
# If anything below goes wrong, do not leave a sandbox behind.
tap_on_exit 'for p in $stub $factory $sentry $front; do kill -KILL "$p" 2>/dev/null; done'

# The front end's children: the Sentry, which is pid 1 of a pid namespace of
# its own, and (once the front end starts one) the Gofer, which is not.
gofer=""
is_sentry() { [ "$(status_field "$1" NSpid | awk '{print $NF}')" = 1 ]; }
for _ in $(seq 1 50); do
    for kid in $(children "$front"); do
        if is_sentry "$kid"; then sentry=$kid; else gofer=$kid; fi
    done
    if [ -n "$sentry" ]; then
        stub=$(children "$sentry" | head -n 1)
        # systrap: the Sentry's child is the stub factory; stubs are its.
        if [ -n "$stub" ] && [ -n "$(children "$stub")" ]; then
            factory=$stub
            stub=$(children "$factory" | head -n 1)
        fi
        [ -n "$stub" ] && break
    fi
    sleep 0.1
done
# Give the Sentry a moment to finish confining itself around the guest.
sleep 0.3

kids=$(children "$front")
nkids=$(grep -c . <<<"$kids")
if [ "$nkids" -ge 1 ] && [ "$nkids" -le 2 ]; then
    pass "the front end (pid $front) has the Sentry and at most a Gofer as children"
else
    fail "the front end (pid $front) has the Sentry and at most a Gofer as children" "$kids"
fi
if [ -z "$sentry" ] || [ -z "$stub" ]; then
    fail "found the Sentry and the stub within 5 s" "sentry=${sentry:-none} stub=${stub:-none}"
    diag "moat stderr: $(cat "$TAP_TMP/err")"
    done_testing
fi
pass "found the Sentry ($sentry) and the stub ($stub) within 5 s"

is "$(status_field "$sentry" Seccomp)" 2 "Sentry: Seccomp is 2 (filter mode)"
is "$(status_field "$sentry" NoNewPrivs)" 1 "Sentry: NoNewPrivs is 1"
for cap in CapEff CapPrm CapInh CapAmb; do
    value=$(status_field "$sentry" "$cap")
    if [ -z "$value" ]; then
        fail "Sentry: $cap readable"
        continue
    fi
    extra=$(((16#$value) & ~ALLOWED_CAPS))
    is "$(printf '%x' "$extra")" 0 "Sentry: $cap ($value) has nothing beyond the allowed mask"
done

if root_list=$(ls -A "/proc/$sentry/root/" 2>&1); then
    is "$root_list" "" "Sentry: its root directory is empty"
else
    fail "Sentry: its root directory can be listed" "$root_list"
fi

for ns in mnt pid net ipc uts; do
    mine=$(readlink "/proc/self/ns/$ns")
    theirs=$(readlink "/proc/$sentry/ns/$ns")
    if [ -n "$theirs" ] && [ "$theirs" != "$mine" ]; then
        pass "Sentry: own $ns namespace ($theirs)"
    else
        fail "Sentry: own $ns namespace" "host $mine, Sentry ${theirs:-unreadable}"
    fi
done

is "$(status_field "$stub" Seccomp)" 2 "stub: Seccomp is 2 (filter mode)"
is "$(status_field "$stub" NoNewPrivs)" 1 "stub: NoNewPrivs is 1"
is "$(status_field "$stub" CapEff)" "$(status_field "$sentry" CapEff)" \
    "stub: no more capabilities than the Sentry"
if root_list=$(ls -A "/proc/$stub/root/" 2>&1); then
    is "$root_list" "" "stub: its root directory is empty"
else
    fail "stub: its root directory can be listed" "$root_list"
fi
diag "stub TracerPid: $(status_field "$stub" TracerPid) (Sentry is $sentry)"

# systrap's stub factory: as confined as the stubs it forks.
if [ -n "$factory" ]; then
    is "$(status_field "$factory" Seccomp)" 2 "stub factory: Seccomp is 2 (filter mode)"
    is "$(status_field "$factory" NoNewPrivs)" 1 "stub factory: NoNewPrivs is 1"
    is "$(status_field "$factory" CapEff)" 0000000000000000 "stub factory: no capabilities"
    if root_list=$(ls -A "/proc/$factory/root/" 2>&1); then
        is "$root_list" "" "stub factory: its root directory is empty"
    else
        fail "stub factory: its root directory can be listed" "$root_list"
    fi
fi

# The Gofer, when the front end started one: confined before serving.
if [ -n "$gofer" ]; then
    is "$(status_field "$gofer" Seccomp)" 2 "Gofer: Seccomp is 2 (filter mode)"
    is "$(status_field "$gofer" NoNewPrivs)" 1 "Gofer: NoNewPrivs is 1"
    # CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID and nothing else.
    capeff=$(status_field "$gofer" CapEff)
    if [ $((16#$capeff & ~16#1f)) -eq 0 ]; then
        pass "Gofer: no capability beyond file access ($capeff)"
    else
        fail "Gofer: no capability beyond file access" "CapEff $capeff"
    fi
    for ns in mnt net; do
        mine=$(readlink "/proc/self/ns/$ns")
        theirs=$(readlink "/proc/$gofer/ns/$ns" 2>/dev/null)
        if [ -n "$theirs" ] && [ "$theirs" != "$mine" ]; then
            pass "Gofer: own $ns namespace"
        else
            fail "Gofer: own $ns namespace" "host $mine, Gofer ${theirs:-unreadable}"
        fi
    done
    if [ -z "$(ls -A "/proc/$gofer/root/proc" 2>/dev/null)" ]; then
        pass "Gofer: the host's /proc is not in its tree"
    else
        fail "Gofer: the host's /proc is not in its tree"
    fi
else
    skip "this moat starts no Gofer" "Gofer checks"
fi

# The guest sleeps 3 s; allow a slow platform 60 s before giving up.
for _ in $(seq 1 600); do
    kill -0 "$front" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$front" 2>/dev/null; then
    fail "moat finished within 60 s"
    kill -KILL "$front" 2>/dev/null
fi
wait "$front"
is "$?" 0 "moat do -- busybox sleep 3 exits 0"
RUN_ERR=$(cat "$TAP_TMP/err")
no_crash_report "no crash report from moat"

done_testing
