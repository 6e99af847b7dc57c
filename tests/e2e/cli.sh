#!/usr/bin/env bash
# The moat command line: version, help, usage errors, flags of `moat do`.
# usage: cli.sh MOAT BUSYBOX
set -u
. "$(dirname "$0")/tap.sh"
moat=$1 bb=$2

out=$("$moat" --version 2>&1); rc=$?
is "$rc" 0 "moat --version exits 0"
like "$out" "^moat version [0-9]+\.[0-9]+" "moat --version names the version"
out=$("$moat" version 2>&1)
like "$out" "^moat version" "moat version works as a command"
out=$("$moat" --help 2>&1); rc=$?
is "$rc" 0 "moat --help exits 0"
like "$out" "moat do" "help mentions moat do"
out=$("$moat" do --help 2>&1); rc=$?
is "$rc" 0 "moat do --help exits 0"
like "$out" "--platform" "moat do --help lists --platform"

out=$("$moat" frobnicate 2>&1); rc=$?
is "$rc" 125 "an unknown command exits 125"
like "$out" "unknown command 'frobnicate'" "and names the command"
out=$("$moat" 2>&1); rc=$?
is "$rc" 125 "no command exits 125"
out=$("$moat" do 2>&1); rc=$?
is "$rc" 125 "moat do without a program exits 125"
like "$out" "no program" "and says so"
out=$("$moat" do --platform=kvm -- "$bb" true 2>&1); rc=$?
is "$rc" 125 "an unknown platform exits 125"
like "$out" "unknown platform 'kvm'" "and names it"
out=$("$moat" do --hostname= -- "$bb" true 2>&1); rc=$?
is "$rc" 125 "an empty hostname is refused"
out=$("$moat" do --hostname="$(printf 'h%.0s' $(seq 65))" -- "$bb" true 2>&1); rc=$?
is "$rc" 125 "a 65-character hostname is refused"
out=$("$moat" do --bogus -- "$bb" true 2>&1); rc=$?
is "$rc" 125 "an unknown flag of moat do exits 125"

# PATH lookup, as a shell does it.
out=$(PATH=$(dirname "$bb") "$moat" do -- "$(basename "$bb")" echo found 2>/dev/null); rc=$?
is "$rc" 0 "a program name is looked up in PATH"
is "$out" "found" "and runs"
out=$(PATH=/nonexistent "$moat" do -- no-such-program-xyz 2>&1); rc=$?
is "$rc" 127 "a name not in PATH exits 127"
like "$out" "^moat: no-such-program-xyz: No such file or directory" "with a one-line message"
out=$("$moat" do -- /tmp 2>&1); rc=$?
is "$rc" 126 "a directory exits 126"

# --debug-log receives strace output and diagnostics instead of stderr.
log="$TAP_TMP/debug.log"
out=$("$moat" do --strace --debug-log="$log" -- "$bb" echo logged 2>"$TAP_TMP/err"); rc=$?
is "$rc" 0 "moat do --debug-log runs"
is "$out" "logged" "the guest's stdout is untouched"
like "$(cat "$log")" "write\(1, \"logged\\\\n\", 7\) = 7" "the strace lines are in the log"
is "$(cat "$TAP_TMP/err")" "" "and stderr stays clean"
out=$("$moat" do --debug-log=/nonexistent/dir/log -- "$bb" true 2>&1); rc=$?
is "$rc" 125 "an unwritable --debug-log exits 125"
like "$out" "/nonexistent/dir/log" "and names the path"

# The guest sees its argv and environment.
out=$(FOO=bar "$moat" do -- "$bb" sh -c 'echo $FOO' 2>/dev/null)
is "$out" "bar" "the environment reaches the guest"
# --root must name a directory, and the error says which problem it is.
: >"$TAP_TMP/plainfile"
out=$("$moat" do --root="$TAP_TMP/plainfile" -- "$bb" true 2>&1); rc=$?
is "$rc" 125 "--root on a file exits 125"
like "$out" "^moat: --root .*plainfile: Not a directory" "and says it is not a directory"
out=$("$moat" do --root="$TAP_TMP/missing" -- "$bb" true 2>&1); rc=$?
is "$rc" 125 "--root on a missing path exits 125"
like "$out" "missing: No such file or directory" "and says it does not exist"
done_testing
