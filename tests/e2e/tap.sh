# shellcheck shell=bash
# TAP helpers for the end-to-end scripts; source it, do not run it.
#
# Every script prints "1..N" last (done_testing), so a script that dies
# early is reported as failed by the harness, and exits non-zero when any
# test failed.

TAP_N=0
TAP_FAILED=0

# A scratch directory removed on exit; scripts add their own cleanup through
# tap_on_exit, which runs before the directory goes.
TAP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/moat-e2e.XXXXXX") || exit 99
TAP_EXIT_HOOKS=()
tap_on_exit() { TAP_EXIT_HOOKS+=("$1"); }
tap_cleanup() {
    local hook
    for hook in "${TAP_EXIT_HOOKS[@]}"; do
        eval "$hook"
    done
    rm -rf "$TAP_TMP"
}
trap tap_cleanup EXIT

diag() {
    local line
    while IFS= read -r line; do
        printf '# %s\n' "$line"
    done <<<"$*"
}

pass() {
    TAP_N=$((TAP_N + 1))
    printf 'ok %d - %s\n' "$TAP_N" "$1"
}

fail() {
    TAP_N=$((TAP_N + 1))
    TAP_FAILED=$((TAP_FAILED + 1))
    printf 'not ok %d - %s\n' "$TAP_N" "$1"
    if [ $# -gt 1 ]; then
        diag "$2"
    fi
}

# is GOT WANT NAME
is() {
    if [ "$1" == "$2" ]; then
        pass "$3"
    else
        fail "$3" "got:  $(printf '%q' "$1")
want: $(printf '%q' "$2")"
    fi
}

# like TEXT EXTENDED-REGEX NAME
like() {
    if grep -Eq -- "$2" <<<"$1"; then
        pass "$3"
    else
        fail "$3" "no match for /$2/ in: $(printf '%q' "$1")"
    fi
}

unlike() {
    if grep -Eq -- "$2" <<<"$1"; then
        fail "$3" "unexpected match for /$2/ in: $(printf '%q' "$1")"
    else
        pass "$3"
    fi
}

skip() {
    TAP_N=$((TAP_N + 1))
    printf 'ok %d - %s # SKIP %s\n' "$TAP_N" "$2" "$1"
}

skip_all() {
    printf '1..0 # SKIP %s\n' "$1"
    exit 0
}

done_testing() {
    printf '1..%d\n' "$TAP_N"
    if [ "$TAP_FAILED" -gt 0 ]; then
        diag "$TAP_FAILED of $TAP_N tests failed"
        exit 1
    fi
    exit 0
}

# run CMD...: runs with a time limit; sets RUN_STATUS, RUN_OUT and RUN_ERR
# (the exact bytes are kept in $TAP_TMP/out and $TAP_TMP/err; the variables
# lose trailing newlines, as command substitution does). stdin is /dev/null
# unless the caller redirects run's own stdin.
RUN_TIMEOUT=${RUN_TIMEOUT:-60}
run() {
    timeout --kill-after=5 "$RUN_TIMEOUT" "$@" >"$TAP_TMP/out" 2>"$TAP_TMP/err"
    RUN_STATUS=$?
    RUN_OUT=$(cat "$TAP_TMP/out")
    RUN_ERR=$(cat "$TAP_TMP/err")
}

# out_is BYTES NAME: stdout of the last run is exactly BYTES (printf format).
out_is() {
    if printf "$1" | cmp -s - "$TAP_TMP/out"; then
        pass "$2"
    else
        fail "$2" "stdout was: $(od -c "$TAP_TMP/out" | head -5)"
    fi
}

# No sanitizer or crash report from moat itself on stderr.
no_crash_report() {
    unlike "$RUN_ERR" 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$1"
}

need_moat() {
    if [ -z "${MOAT:-}" ] || [ ! -x "$MOAT" ]; then
        echo "usage: $0 MOAT-BINARY ..." >&2
        exit 2
    fi
}
