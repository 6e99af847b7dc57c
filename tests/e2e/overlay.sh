#!/usr/bin/env bash
# The writable overlay over the read-only root: the guest creates, appends,
# truncates, renames, removes, makes directories and symlinks, changes modes
# and times, in the host's /etc and in a scratch directory of the host's
# /var/tmp (the sandbox's /tmp is a tmpfs of its own), and in a tree given
# with --root. Inside the sandbox every change shows; afterwards the host
# trees are byte-for-byte what they were.
#
# Guests cannot fork yet, so one sandbox runs shell builtins (redirections,
# read, globbing) and ends by exec'ing one applet that shows the result;
# each other change is an applet of its own, checked by its exit status.
# A full shell script of changes and checks runs once fork exists.
# usage: overlay.sh MOAT BUSYBOX
set -u
. "$(dirname "$0")/tap.sh"
MOAT=${1:-}
BB=${2:-/bin/busybox}
need_moat
[ -x "$BB" ] || skip_all "no static busybox at $BB"

S=$(mktemp -d /var/tmp/moat-overlay-test.XXXXXX) || exit 99
tap_on_exit 'rm -rf "$S"'
mkdir -p "$S/sub/deeper" "$S/emptydir" "$S/moveme/inner"
printf 'echo original\n' >"$S/f1"
printf 'second file\n' >"$S/f2"
printf 'deep\n' >"$S/sub/deeper/g"
printf 'x\n' >"$S/sub/x"
printf 'in\n' >"$S/moveme/inner/file"
ln -s f1 "$S/link"
ln "$S/f2" "$S/f2.hard"
head -c 3000000 /dev/urandom >"$S/big"
chmod 0640 "$S/f1"
touch -d '2001-02-03 04:05:06' "$S/f1" "$S/sub"

# Names, modes, owners, sizes, mtimes, link targets, and every file's data.
snapshot() {
    find "$1" -xdev -printf '%p %m %U %G %s %T@ %l\n' 2>/dev/null | sort
    find "$1" -xdev -type f -print0 2>/dev/null | sort -z | xargs -0 -r sha256sum 2>/dev/null
}
etc_before=$(snapshot /etc)
s_before=$(snapshot "$S")
f1_ino=$(stat -c %i "$S/f1")
f1_size=$(stat -c %s "$S/f1")

# contains_lines TEXT LINES NAME: LINES appear in TEXT as consecutive whole
# lines (like's grep would take each line as an alternative).
contains_lines() {
    if [[ $'\n'"$1"$'\n' == *$'\n'"$2"$'\n'* ]]; then
        pass "$3"
    else
        fail "$3" "no lines $(printf '%q' "$2") in: $(printf '%q' "$1")"
    fi
}

host_unchanged() {
    is "$(snapshot "$S")" "$s_before" "$1: the scratch directory on the host is unchanged"
}

# ---- shell builtins in one sandbox ----
# ash's read builtin polls, so files are read back by sourcing them: the
# scratch files hold shell commands.
run "$MOAT" do -- "$BB" sh -c "
echo 'echo created' > $S/new
echo 'echo appended' >> $S/f1
echo 'etc-line' >> /etc/hostname
echo 'echo etcnew' > /etc/moat-overlay-new
. $S/new
. $S/f1
. /etc/moat-overlay-new
for x in $S/*; do echo ls:\${x##*/}; done
for x in /etc/moat-overlay-*; do echo etc:\${x##*/}; done
: > $S/f2
test -s $S/f2 || echo f2-empty
test -s $S/sub/x && echo x-nonempty
test -d $S/sub && echo sub-dir
test -L $S/link && echo link-symlink
test -x $S/f1 || echo f1-not-executable
test $S/new -nt $S/sub && echo new-newer"
is "$RUN_STATUS" 0 "create, append, truncate, source back and list exit 0"
no_crash_report "no crash report from the builtin script"
like "$RUN_OUT" '^created$' "a created file reads back"
contains_lines "$RUN_OUT" $'original\nappended' "an appended lower file has old and new data"
like "$RUN_OUT" '^etcnew$' "a file created in /etc reads back"
is "$(grep '^ls:' <<<"$RUN_OUT" | tr '\n' ' ')" \
    "ls:big ls:emptydir ls:f1 ls:f2 ls:f2.hard ls:link ls:moveme ls:new ls:sub " \
    "the glob lists the merged directory once per name, new file included"
like "$RUN_OUT" '^etc:moat-overlay-new$' "the glob finds the new file in /etc"
for w in f2-empty x-nonempty sub-dir link-symlink f1-not-executable new-newer; do
    like "$RUN_OUT" "^$w\$" "test builtin: $w"
done
host_unchanged "after the builtin script"

run "$MOAT" do -- "$BB" sh -c "exec $BB true"
if [ "$RUN_STATUS" = 0 ]; then
    run "$MOAT" do -- "$BB" sh -c "echo 'echo more' >> $S/f1; : > $S/f2; exec $BB stat -c '%n %s %i %a' $S/f1 $S/f2"
    is "$RUN_STATUS" 0 "append and truncate, then exec stat, exit 0"
    like "$RUN_OUT" "^$S/f1 $((f1_size + 10)) $f1_ino 640\$" \
        "after copy-up f1 has the new size, the host's inode number and mode"
    like "$RUN_OUT" "^$S/f2 0 " "a truncated file is empty"
else
    skip "guests cannot execve yet" "stat after copy-up keeps the inode number"
fi

run "$MOAT" do -- "$BB" stat -f -c %t /
is "$RUN_OUT" 794c7630 "statfs of / reports overlayfs"

# ---- one applet per change ----
applet() {
    local what=$1
    shift
    run "$MOAT" do -- "$BB" "$@"
    is "$RUN_STATUS" 0 "$what exits 0"
    [ "$RUN_STATUS" = 0 ] || diag "$RUN_ERR"
}
applet "mv of a lower file" mv "$S/f1" "$S/f1.moved"
applet "mv over a lower file" mv "$S/f1" "$S/f2"
applet "mv of a lower directory (EXDEV, copied)" mv "$S/moveme" "$S/moved"
applet "rm of a lower file" rm "$S/f2"
applet "rm -rf of a lower tree" rm -rf "$S/sub"
applet "rmdir of a lower directory" rmdir "$S/emptydir"
applet "mkdir -p" mkdir -p "$S/newdir/a/b"
applet "chmod of a lower file" chmod 600 "$S/f1"
applet "chmod of a lower directory" chmod 700 "$S/sub"
applet "touch of a lower file" touch "$S/f1"
applet "ln -s" ln -s f1 "$S/newlink"
applet "ln of a lower file" ln "$S/f1" "$S/hardlink"
applet "cp into a lower directory" cp "$S/big" "$S/big.copy"
applet "rm in /etc" rm /etc/hostname
applet "mkdir in /etc" mkdir /etc/moat-overlay-dir
applet "rm -rf of a lower directory twice removed" rm -rf "$S/sub/deeper"
run "$MOAT" do -- "$BB" rmdir "$S/sub"
like "$RUN_ERR" 'not empty' "rmdir of a non-empty lower directory fails"
applet "mv of a merged directory (EXDEV, copied)" mv "$S/sub" "$S/sub.moved"
host_unchanged "after the single changes"

# ---- a whole script, once guests can fork ----
run "$MOAT" do -- "$BB" sh -c "$BB true && echo forked"
if [ "$RUN_OUT" = forked ]; then
    run "$MOAT" do -- "$BB" sh -c "
set -e
cd $S
echo one > a; echo two >> a; $BB cat a
$BB mv a b; $BB test ! -e a; $BB cat b
$BB rm f2; $BB test ! -e f2
$BB mkdir d; $BB rmdir d; $BB test ! -e d
$BB rmdir emptydir; $BB test ! -e emptydir
$BB chmod 600 f1; $BB stat -c %a f1
$BB ln -s b sl; $BB readlink sl
$BB rm -rf sub; $BB test ! -e sub
$BB mkdir sub; $BB ls -A sub | $BB wc -l
$BB ls -la
echo hi >> /etc/hostname; $BB tail -n 1 /etc/hostname
echo done"
    is "$RUN_STATUS" 0 "the full script exits 0"
    contains_lines "$RUN_OUT" $'one\ntwo\none\ntwo' "created, appended and renamed file reads back"
    like "$RUN_OUT" '^600$' "chmod shows"
    like "$RUN_OUT" '^b$' "the symlink reads back"
    like "$RUN_OUT" '^0$' "a directory made where a lower one was removed is empty"
    like "$RUN_OUT" '^hi$' "/etc/hostname was appended to"
    like "$RUN_OUT" '^done$' "the script ran to its end"
    host_unchanged "after the full script"
else
    skip "guests cannot fork yet" "the full script of changes and checks"
fi

is "$(snapshot /etc)" "$etc_before" "the host's /etc is unchanged"

# ---- --root=DIR ----
R="$TAP_TMP/root"
mkdir -p "$R/bin" "$R/etc" "$R/data/sub"
cp "$BB" "$R/bin/busybox"
printf 'root:x:0:0::/root:/bin/sh\n' >"$R/etc/passwd"
printf 'echo keep\n' >"$R/data/file"
printf 'x\n' >"$R/data/sub/x"
ln -s ../etc/passwd "$R/data/pw"
r_before=$(snapshot "$R")
run "$MOAT" do --root="$R" -- /bin/busybox sh -c '
echo "echo added" >> /data/file
echo fresh > /etc/newfile
. /data/file
for x in /etc/* /data/*; do echo "ls:$x"; done'
is "$RUN_STATUS" 0 "--root: changes exit 0"
contains_lines "$RUN_OUT" $'keep\nadded' "--root: an appended file reads back"
is "$(grep '^ls:' <<<"$RUN_OUT" | tr '\n' ' ')" \
    "ls:/etc/newfile ls:/etc/passwd ls:/data/file ls:/data/pw ls:/data/sub " \
    "--root: a created file is listed with the served ones"
run "$MOAT" do --root="$R" -- /bin/busybox rm -rf /data
is "$RUN_STATUS" 0 "--root: rm -rf of a served directory exits 0"
run "$MOAT" do --root="$R" -- /bin/busybox mv /etc/passwd /etc/passwd.old
is "$RUN_STATUS" 0 "--root: mv exits 0"
is "$(snapshot "$R")" "$r_before" "--root: the served tree is unchanged"

done_testing
