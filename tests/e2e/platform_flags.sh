#!/usr/bin/env bash
# Platform selection: the global --platform and --systrap-patching flags, the
# same flags of `moat do` overriding them, $MOAT_PLATFORM below both, and the
# errors for values moat does not know. The default is whatever `moat
# --version` names (systrap today); the platforms' own tests run guests.
# usage: platform_flags.sh MOAT BUSYBOX
set -u
. "$(dirname "$0")/tap.sh"
moat=$1 bb=$2
# The caller's own choice must not leak into what is checked here.
unset MOAT_PLATFORM

run "$moat" --version
is "$RUN_STATUS" 0 "moat --version exits 0"
like "$RUN_OUT" "^platforms: ptrace systrap$" "moat --version lists both platforms"
run "$moat" --help
like "$RUN_OUT" "--platform=" "moat --help lists the global --platform"
like "$RUN_OUT" "--systrap-patching" "and --systrap-patching"
run "$moat" do --help
like "$RUN_OUT" "--systrap-patching" "moat do --help lists --systrap-patching"

# Unknown values: 125, one message naming the value and the known platforms.
run "$moat" --platform=kvm do -- "$bb" true
is "$RUN_STATUS" 125 "a bad global --platform exits 125"
like "$RUN_ERR" "unknown platform 'kvm'" "and names the value"
like "$RUN_ERR" "ptrace" "and the known platforms"
run "$moat" do --platform=frob -- "$bb" true
is "$RUN_STATUS" 125 "a bad --platform of moat do exits 125"
like "$RUN_ERR" "unknown platform 'frob' \(known: ptrace systrap\)" "and names it and the known ones"
run "$moat" --systrap-patching=maybe do -- "$bb" true
is "$RUN_STATUS" 125 "a bad global --systrap-patching exits 125"
like "$RUN_ERR" "--systrap-patching.*'maybe'" "and names the value"
run "$moat" do --systrap-patching=yes -- "$bb" true
is "$RUN_STATUS" 125 "a bad --systrap-patching of moat do exits 125"
like "$RUN_ERR" "--systrap-patching.*'yes'" "and names the value"
run "$moat" do --systrap-patching= -- "$bb" true
is "$RUN_STATUS" 125 "an empty --systrap-patching= is refused"

# Good values run.
run "$moat" --platform=ptrace do -- /bin/true
is "$RUN_STATUS" 0 "moat --platform=ptrace do -- /bin/true runs"
is "$RUN_ERR" "" "quietly"
run "$moat" do --platform=ptrace --systrap-patching=false -- /bin/true
is "$RUN_STATUS" 0 "moat do --platform=ptrace --systrap-patching=false runs"
run "$moat" --platform=ptrace --systrap-patching do --systrap-patching=true -- "$bb" echo hi
is "$RUN_STATUS" 0 "--systrap-patching alone and =true are accepted"
is "$RUN_OUT" "hi" "and the guest runs"

# With --debug the front end says which platform won; a bad value on the
# losing side must not matter.
default=$("$moat" --version | sed -n 's/^default platform: //p')
run "$moat" --debug do -- "$bb" true
is "$RUN_STATUS" 0 "moat --debug do runs"
like "$RUN_ERR" "^moat: platform $default, systrap patching on$" \
    "the default: $default (as --version says), patching on"
run "$moat" --debug --platform=systrap do --platform=ptrace -- "$bb" true
is "$RUN_STATUS" 0 "moat do --platform overrides the global --platform"
like "$RUN_ERR" "platform ptrace," "(ptrace is used)"
run "$moat" --debug --systrap-patching=false do -- "$bb" true
like "$RUN_ERR" "systrap patching off" "the global --systrap-patching=false reaches moat do"
run "$moat" --debug --systrap-patching=false do --systrap-patching -- "$bb" true
like "$RUN_ERR" "systrap patching on" "moat do --systrap-patching overrides it"
run "$moat" --debug do --systrap-patching=true --systrap-patching=false -- "$bb" true
like "$RUN_ERR" "systrap patching off" "the last --systrap-patching wins"
run "$moat" --platform=ptrace do --platform=kvm -- "$bb" true
is "$RUN_STATUS" 125 "a bad moat do --platform is refused even after a good global one"
like "$RUN_ERR" "'kvm'" "and is the value reported"

# $MOAT_PLATFORM replaces the built-in default but no flag.
MOAT_PLATFORM=bogus run "$moat" do -- "$bb" true
is "$RUN_STATUS" 125 "a bad MOAT_PLATFORM exits 125 when no flag is given"
like "$RUN_ERR" "MOAT_PLATFORM.*'bogus'" "and names the variable and the value"
MOAT_PLATFORM=bogus run "$moat" --platform=ptrace do -- "$bb" true
is "$RUN_STATUS" 0 "the global --platform beats MOAT_PLATFORM"
MOAT_PLATFORM=bogus run "$moat" do --platform=ptrace -- "$bb" true
is "$RUN_STATUS" 0 "moat do --platform beats MOAT_PLATFORM"
MOAT_PLATFORM=systrap run "$moat" --debug --platform=ptrace do -- "$bb" true
like "$RUN_ERR" "platform ptrace," "(and ptrace is used, not MOAT_PLATFORM's systrap)"
MOAT_PLATFORM=systrap run "$moat" --debug do --platform=ptrace -- "$bb" true
like "$RUN_ERR" "platform ptrace," "(also with the flag on moat do)"
MOAT_PLATFORM=ptrace run "$moat" do -- "$bb" echo env
is "$RUN_STATUS" 0 "MOAT_PLATFORM=ptrace runs"
is "$RUN_OUT" "env" "and the guest's output is there"
MOAT_PLATFORM=bogus run "$moat" --version
is "$RUN_STATUS" 0 "--version does not depend on MOAT_PLATFORM"
done_testing
