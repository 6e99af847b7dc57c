#!/usr/bin/env bash
# The program moat runs is found and loaded through the sandbox's own tree:
# "#!" scripts (nested, with an argument, too deep, missing interpreter),
# PATH lookup inside the sandbox, and programs that exist only on the host
# side of --root. Each case is compared with the same program run natively.
# usage: exec.sh MOAT BUSYBOX
set -u
. "$(dirname "$0")/tap.sh"
MOAT=${1:-}
need_moat
moat=$1 bb=$2

d="$TAP_TMP"
printf '#!%s sh\necho "script:$0:$*"\n' "$bb" >"$d/s1"
printf '#!%s\n' "$d/s1" >"$d/s2"
printf '#!%s -c\n' "$bb" >"$d/s_arg"
printf '#!%s/nonexistent-interp\n' "$d" >"$d/s_missing"
printf '#!%s/loop\n' "$d" >"$d/loop"
printf 'just text\n' >"$d/plain"
chmod +x "$d/s1" "$d/s2" "$d/s_arg" "$d/s_missing" "$d/loop" "$d/plain"

# same NAME CMD...: the sandbox gives the status and stdout Linux gives.
same() {
    local name=$1
    shift
    run "$@"
    local nst=$RUN_STATUS nout=$RUN_OUT
    run "$moat" do -- "$@"
    is "$RUN_STATUS:$RUN_OUT" "$nst:$nout" "$name: same status and output as natively"
    no_crash_report "$name: no crash report"
}

same "a script" "$d/s1" a b
same "a script whose interpreter is a script" "$d/s2" x y
same "a #! line with an argument" "$d/s_arg" 'echo from-arg'
same "a missing interpreter" "$d/s_missing"
run "$moat" do -- "$d/s_missing"
like "$RUN_ERR" "^moat: .*s_missing: its #! interpreter .*nonexistent-interp: No such file" \
    "a missing interpreter is named"
same "a script naming itself (too many levels)" "$d/loop"
run "$moat" do -- "$d/loop"
like "$RUN_ERR" "too many levels" "too many #! levels says so"
run "$moat" do -- "$d/plain"
is "$RUN_STATUS" 126 "a text file without #! exits 126"
like "$RUN_ERR" "^moat: .*plain: not an ELF file" "and says why"

# PATH is the guest's, searched inside the sandbox.
run env PATH="$d:/nonexistent" "$moat" do -- s1 via-path
is "$RUN_OUT" "script:$d/s1:via-path" "a name is found through the guest's PATH"
run env PATH=/nonexistent "$moat" do -- s1
is "$RUN_STATUS" 127 "a name not in the guest's PATH exits 127"

# With --root, the program must exist in that tree: the host's file of the
# same name is not reachable.
root="$d/root"
mkdir -p "$root/bin"
cp "$bb" "$root/bin/busybox"
run "$moat" do --root="$root" -- /bin/busybox echo inside
is "$RUN_OUT" "inside" "--root runs the program from that tree"
run "$moat" do --root="$root" -- "$d/s1"
is "$RUN_STATUS" 127 "a host path outside --root is not found (127)"
run "$moat" do --root="$root" -- busybox echo by-name
is "$RUN_OUT" "by-name" "PATH lookup happens inside --root"
done_testing
