#!/usr/bin/env bash
# A hostile root filesystem: symlinks that point at the host's / , climb out
# with .., go through /proc/self/root, or name host paths absolutely, in the
# last component and in intermediate ones. Through the Gofer none of them may
# reach a host file outside the root, and nothing may be written there.
# usage: hostile_root.sh MOAT BUSYBOX
set -u
. "$(dirname "$0")/tap.sh"
moat=$1 bb=$2

outside="$TAP_TMP/outside"
root="$TAP_TMP/root"
# No /tmp in the root: the paths below resolve against the served tree
# itself (under the overlay that keeps the guest's writes in memory).
mkdir -p "$outside" "$root/etc" "$root/dir" "$root/bin"
# The program comes from the sandbox's root, as in a container image.
cp "$bb" "$root/bin/busybox"
bb=/bin/busybox
echo "HOST-SECRET" >"$outside/secret"
echo "inside" >"$root/inside.txt"
echo "root-etc" >"$root/etc/marker"
ln -s / "$root/link_root"
ln -s ../../../../../../../.. "$root/link_up"
ln -s /proc/self/root "$root/link_proc"
ln -s "$outside" "$root/dir/abs_outside"
ln -s "$outside/secret" "$root/abs_secret"
ln -s / "$root/mid"
before=$(cd "$TAP_TMP" && find . -printf '%p %s %m\n' | sort | sha256sum)

guest_cat() {
    "$moat" do --root="$root" -- "$bb" cat "$1" 2>/dev/null
}

# Each path, as the guest names it, that on the host would lead outside.
for p in \
    /link_root"$outside"/secret \
    /link_up"$outside"/secret \
    /link_proc"$outside"/secret \
    /dir/abs_outside/secret \
    /abs_secret \
    /mid"$outside"/secret \
    /mid/../..//link_up"$outside"/secret \
    /..'/'.."$outside"/secret; do
    out=$(guest_cat "$p")
    unlike "$out" "HOST-SECRET" "cat $p does not reach the host's file"
done

# Inside, the same links resolve within the root.
is "$(guest_cat /link_root/inside.txt)" "inside" "/link_root resolves to the sandbox's own root"
is "$(guest_cat /link_up/inside.txt)" "inside" ".. out of the root stays at the root"
is "$(guest_cat /mid/etc/marker)" "root-etc" "an intermediate absolute link stays inside"

# Writes through the links go nowhere on the host.
"$moat" do --root="$root" -- "$bb" sh -c "echo x > /link_root$outside/new" 2>/dev/null
"$moat" do --root="$root" -- "$bb" sh -c "echo x > /dir/abs_outside/new2" 2>/dev/null
"$moat" do --root="$root" -- "$bb" rm -f /abs_secret /link_root 2>/dev/null
after=$(cd "$TAP_TMP" && find . -printf '%p %s %m\n' | sort | sha256sum)
is "$after" "$before" "the host tree is unchanged, byte for byte in names, sizes and modes"
is "$(cat "$outside/secret")" "HOST-SECRET" "the host's file is intact"
[ ! -e "$outside/new" ] && [ ! -e "$outside/new2" ] && pass "nothing was created outside" ||
    fail "nothing was created outside"

# With a root that has /tmp, the guest writes there through the overlay:
# the writes never reach the host (shell builtins only: no fork yet).
mkdir "$root/tmp"
before=$(cd "$TAP_TMP" && find . -printf '%p %s %m\n' | sort | sha256sum)
out=$("$moat" do --root="$root" -- "$bb" sh -c 'echo "echo hello" > /tmp/f; . /tmp/f' 2>/dev/null)
is "$out" "hello" "the guest can write its own /tmp"
after=$(cd "$TAP_TMP" && find . -printf '%p %s %m\n' | sort | sha256sum)
is "$after" "$before" "and the host tree is unchanged"
done_testing
