#!/usr/bin/env bash
# moat do as an unprivileged user: the sandbox is built from a user namespace
# alone, and works the same.
# usage: rootless.sh MOAT BUSYBOX
set -u
. "$(dirname "$0")/tap.sh"
moat=$(readlink -f "$1") bb=$2
[ "$(id -u)" = 0 ] || skip_all "needs root to switch to an unprivileged user"
command -v setpriv >/dev/null || skip_all "no setpriv"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
as_nobody test -x "$moat" || skip_all "the build directory is not reachable by nobody"
[ "$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null || echo 1)" = 1 ] ||
    skip_all "unprivileged user namespaces are disabled on this host"

out=$(as_nobody "$moat" do -- "$bb" echo rootless 2>/dev/null)
rc=$?
is "$rc" 0 "moat do runs as an unprivileged user"
is "$out" "rootless" "and the guest's output arrives"
out=$(as_nobody "$moat" do -- "$bb" id -u 2>/dev/null)
is "$out" "0" "the guest is root of its own sandbox"
as_nobody "$moat" do -- "$bb" false 2>/dev/null
is "$?" 1 "exit statuses pass through"
done_testing
