#!/usr/bin/env bash
# --volume HOST:GUEST[:ro]: a host directory served by a Gofer of its own.
# Writes to a read-write volume reach the host (that is what a volume is
# for); a read-only one refuses them; the mount point is resolved inside the
# sandbox, so symlinks in the root cannot aim it at the host; and nothing
# outside the volume's directory becomes reachable.
# usage: volumes.sh MOAT BUSYBOX
set -u
. "$(dirname "$0")/tap.sh"
MOAT=${1:-}
need_moat
moat=$1 bb=$2

vol="$TAP_TMP/vol"
root="$TAP_TMP/root"
mkdir -p "$vol/sub" "$root/bin" "$root/etc"
echo "OUTSIDE-SECRET" >"$TAP_TMP/secret"
echo "in-volume" >"$vol/file"
ln -s ../../../../../../.. "$vol/up"
ln -s "$TAP_TMP" "$vol/abs"
cp "$bb" "$root/bin/busybox"
# A symlink in the root aimed at the host's parent directories.
ln -s ../../../../../.. "$root/evil"

g() { run "$moat" do "$@"; }

g --volume="$vol:/data" -- "$bb" cat /data/file
is "$RUN_OUT" "in-volume" "a volume's files are readable"
# Shell builtins only: the guest cannot fork yet.
g --volume="$vol:/data" -- "$bb" sh -c 'echo "echo new" > /data/created && . /data/created'
is "$RUN_OUT" "new" "a read-write volume takes writes"
g --volume="$vol:/data" -- "$bb" mkdir /data/newdir
is "$(cat "$vol/created" 2>/dev/null)" "echo new" "and they reach the host directory"
[ -d "$vol/newdir" ] && pass "mkdir reaches the host" || fail "mkdir reaches the host"

g --volume="$vol:/data:ro" -- "$bb" sh -c 'echo x > /data/ro-write'
unlike "$RUN_STATUS" '^0$' "a read-only volume refuses a write"
like "$RUN_ERR" "Read-only file system" "with EROFS"
[ ! -e "$vol/ro-write" ] && pass "and nothing reaches the host" || fail "and nothing reaches the host"

g --volume="$vol:/new/deep/mount" -- "$bb" cat /new/deep/mount/file
is "$RUN_OUT" "in-volume" "a missing mount point is created in the sandbox"
[ ! -e /new ] && pass "not on the host" || fail "not on the host"

for p in /data/up/secret "/data/up$TAP_TMP/secret" "/data/abs/secret" /data/../secret \
    "/data/../../..$TAP_TMP/secret"; do
    g --root="$root" --volume="$vol:/data" -- /bin/busybox cat "$p"
    unlike "$RUN_OUT" "OUTSIDE-SECRET" "$p does not reach the host's file"
done

# (out and err are this script's own captures of each run.)
snapshot() {
    (cd "$TAP_TMP" && find . \( -path ./vol -o -name out -o -name err \) -prune -o \
        -printf '%p %s %m\n' | sort | sha256sum)
}
before=$(snapshot)
g --root="$root" --volume="$vol:/evil/target" -- /bin/busybox cat /evil/target/file
is "$RUN_OUT" "in-volume" "a mount point through a symlink lands inside the sandbox"
after=$(snapshot)
is "$after" "$before" "and the host tree outside the volume is unchanged"
[ ! -e "$TAP_TMP/target" ] && [ ! -e /target ] && pass "no mount point was made on the host" ||
    fail "no mount point was made on the host"

ln -s "$vol" "$TAP_TMP/vol-link"
g --volume="$TAP_TMP/vol-link:/data:ro" -- "$bb" cat /data/file
is "$RUN_OUT" "in-volume" "a volume source that is a symlink is resolved on the host"

g --volume="$TAP_TMP/missing:/data" -- "$bb" true
is "$RUN_STATUS" 125 "a missing volume source exits 125"
like "$RUN_ERR" "^moat: --volume: .*missing: No such file or directory" "and names it"
g --volume="$vol:data" -- "$bb" true
is "$RUN_STATUS:$RUN_ERR" "125:moat: --volume '$vol:data': the sandbox path must be absolute" \
    "a relative sandbox path is refused"
g --volume="$vol:/data:rx" -- "$bb" true
like "$RUN_STATUS:$RUN_ERR" "^125:.*unknown option 'rx'" "an unknown option is refused"
done_testing
