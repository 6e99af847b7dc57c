#!/usr/bin/env bash
# Usage: busybox.sh MOAT [BUSYBOX]
#
# Runs static busybox applets under `moat do` that need only what the first
# milestone offers (stdio, memory, uname, clocks) and checks their output,
# their exit status and what happens to a stdout that is a regular file.
#
# Applets are chosen by their native syscall trace: echo, true, false, uname,
# seq, wc, head, sleep. cat also tries sendfile first and falls back to
# read/write on any error, so it works with sendfile returning ENOSYS.
# `sh -c` is left out: ash stats $PWD and "." at startup.
set -u
. "$(dirname "$0")/tap.sh"

MOAT=${1:-}
BUSYBOX=${2:-/bin/busybox}
need_moat
[ -x "$BUSYBOX" ] || skip_all "no static busybox at $BUSYBOX"

run "$MOAT" do -- "$BUSYBOX" echo hello
is "$RUN_STATUS" 0 "busybox echo exits 0"
out_is 'hello\n' "busybox echo prints exactly hello"
no_crash_report "no crash report from echo"

run "$MOAT" do -- "$BUSYBOX" true
is "$RUN_STATUS" 0 "busybox true exits 0"
out_is '' "busybox true prints nothing"

run "$MOAT" do -- "$BUSYBOX" false
is "$RUN_STATUS" 1 "busybox false exits 1"

run "$MOAT" do -- "$BUSYBOX" uname -a
is "$RUN_STATUS" 0 "busybox uname -a exits 0"
like "$RUN_OUT" '(^| )moat( |$)' "uname -a shows the default hostname moat"
like "$RUN_OUT" 'x86_64' "uname -a shows x86_64"
like "$RUN_OUT" '^Linux ' "uname -a starts with Linux"

run "$MOAT" do -- "$BUSYBOX" uname -n
is "$RUN_OUT" moat "uname -n is moat"
run "$MOAT" do -- "$BUSYBOX" uname -r
like "$RUN_OUT" '^6\.[0-9]+' "uname -r reports a 6.x release"

run "$MOAT" do --hostname=box -- "$BUSYBOX" uname -a
is "$RUN_STATUS" 0 "uname -a with --hostname exits 0"
like "$RUN_OUT" '(^| )box( |$)' "--hostname=box shows in uname -a"
unlike "$RUN_OUT" '(^| )moat( |$)' "--hostname=box replaces moat"
run "$MOAT" do --hostname=box -- "$BUSYBOX" hostname
is "$RUN_OUT" box "busybox hostname prints box"

run "$MOAT" do -- "$BUSYBOX" seq 1 20000
is "$RUN_STATUS" 0 "seq 1 20000 exits 0"
is "$(wc -l <"$TAP_TMP/out" | tr -d ' ')" 20000 "seq printed 20000 lines"
is "$(tail -n 1 "$TAP_TMP/out")" 20000 "last line is 20000"
is "$(md5sum <"$TAP_TMP/out")" "$(seq 1 20000 | md5sum)" "seq output is byte-identical to native"

run "$MOAT" do -- "$BUSYBOX" sleep 0.2
is "$RUN_STATUS" 0 "busybox sleep 0.2 exits 0"

# stdin is passed through: a pipe, then a regular file.
printf 'one\ntwo\nthree\n' >"$TAP_TMP/in"
run "$MOAT" do -- "$BUSYBOX" cat <"$TAP_TMP/in"
is "$RUN_STATUS" 0 "cat from a file on stdin exits 0"
out_is 'one\ntwo\nthree\n' "cat copies stdin to stdout"
run "$MOAT" do -- "$BUSYBOX" wc -c < <(printf 'piped input\n')
is "$RUN_OUT" 12 "wc -c counts a piped stdin"
run "$MOAT" do -- "$BUSYBOX" head -c 3 < <(printf 'abcdefgh')
out_is 'abc' "head -c 3 reads only what it needs from a pipe"

# stdout appended to a regular file that already holds text.
f="$TAP_TMP/append"
echo first >"$f"
timeout 60 "$MOAT" do -- "$BUSYBOX" echo second >>"$f"
is "$?" 0 "echo with stdout appended to a file exits 0"
is "$(od -An -c "$f" | tr -s ' ')" "$(printf 'first\nsecond\n' | od -An -c | tr -s ' ')" \
    "file holds first then second"

# The guest shares the open file description: it writes at the offset the
# host left, and the host continues after the guest's bytes.
f="$TAP_TMP/offset"
exec 3>"$f"
printf 'AAAA' >&3
timeout 60 "$MOAT" do -- "$BUSYBOX" echo second >&3
status=$?
printf 'BBBB' >&3
exec 3>&-
is "$status" 0 "echo with stdout on a shared descriptor exits 0"
is "$(cat "$f")" "$(printf 'AAAAsecond\nBBBB')" "guest wrote at the shared offset, host continued after it"

# Same, with a descriptor positioned inside existing text: the guest
# overwrites from there on, exactly as a native process would.
f="$TAP_TMP/inside"
printf '0123456789abcdef' >"$f"
exec 3<>"$f"
read -r -n 4 _ <&3
timeout 60 "$MOAT" do -- "$BUSYBOX" echo XY >&3
exec 3>&-
is "$(cat "$f")" "$(printf '0123XY\n789abcdef')" "guest writes at the inherited offset 4"

# Closed stdio stays closed in the guest: nothing of moat's own (the program
# file, the status pipe) may take its place.
"$MOAT" do -- "$BUSYBOX" echo lost >&- 2>"$TAP_TMP/closed.err"
is "$?" 1 "echo with stdout closed fails, as natively"
"$BUSYBOX" echo lost >&- 2>/dev/null
is "$?" 1 "natively too"
"$MOAT" do -- "$BUSYBOX" sh -c 'exit 3' <&- >/dev/null 2>&1
is "$?" 3 "a closed stdin does not disturb the exit status"
out=$("$MOAT" do -- "$BUSYBOX" cat <&- 2>&1)
like "$out" "Bad file descriptor" "cat of a closed stdin sees EBADF"
done_testing
