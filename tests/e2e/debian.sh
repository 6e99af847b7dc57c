#!/usr/bin/env bash
# Debian's own dynamically linked programs, run from the host's root through
# the Gofer: ld.so and shared libraries are loaded through the Sentry's VFS
# and file-backed mmap. Each result is compared with the same program run
# natively.
# usage: debian.sh MOAT
set -u
. "$(dirname "$0")/tap.sh"
MOAT=${1:-}
need_moat
moat=$1

for p in /bin/ls /bin/cat /usr/bin/sha256sum /usr/bin/python3; do
    [ -x "$p" ] || skip_all "$p is not installed"
done

run "$moat" do -- /bin/ls -la /
is "$RUN_STATUS" 0 "ls -la / exits 0"
no_crash_report "ls -la /: no crash report"
like "$RUN_OUT" "^total [0-9]+" "ls -la / prints a total"
like "$RUN_OUT" " etc$" "and lists /etc"
run "$moat" do -- /bin/ls -1a /
native=$(/bin/ls -1a /)
is "$RUN_OUT" "$native" "ls -1a / lists the same names as natively"

run "$moat" do -- /bin/cat /etc/os-release
is "$RUN_STATUS:$RUN_OUT" "0:$(cat /etc/os-release)" "cat /etc/os-release prints the host's file"

run "$moat" do -- /usr/bin/sha256sum /usr/bin/python3
is "$RUN_OUT" "$(/usr/bin/sha256sum /usr/bin/python3)" "sha256sum /usr/bin/python3: the native digest"

run "$moat" do -- /usr/bin/python3 -c 'import json, os, sqlite3; print(os.listdir("/"))'
is "$RUN_STATUS" 0 "python3 imports json, os and sqlite3"
no_crash_report "python3: no crash report"
py_sorted='import os; print(sorted(os.listdir("/")))'
is "$("$moat" do -- /usr/bin/python3 -c "$py_sorted" 2>&1)" "$(/usr/bin/python3 -c "$py_sorted")" \
    "python3 lists / as natively"

sql='import sqlite3, json
db = sqlite3.connect("/tmp/moat-debian-test.db")
db.execute("create table t (k text, v integer)")
db.executemany("insert into t values (?, ?)", [("a", 1), ("b", 2), ("c", 3)])
db.commit()
print(json.dumps(db.execute("select k, v * 10 from t order by k").fetchall()))'
run "$moat" do -- /usr/bin/python3 -c "$sql"
is "$RUN_STATUS:$RUN_OUT" '0:[["a", 10], ["b", 20], ["c", 30]]' "python3 writes and queries a sqlite file in /tmp"
[ ! -e /tmp/moat-debian-test.db ] && pass "the database never reaches the host" ||
    fail "the database never reaches the host"
done_testing
