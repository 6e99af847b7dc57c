#!/bin/sh
# Builds the Gofer decoder fuzzer with clang (no meson needed) and runs it
# for a bounded time. Usage: tests/fuzz/run.sh [seconds] [extra libFuzzer args]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
secs=${1:-60}
[ $# -gt 0 ] && shift
out=${FUZZ_OUT:-/tmp/moat-fuzz}
mkdir -p "$out/corpus"
# The harness builds its tree under TMPDIR; each run starts clean.
rm -rf "$out/tmp"
mkdir -p "$out/tmp"
export TMPDIR="$out/tmp"
${CLANG:-clang} -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -fno-strict-aliasing -g -O1 \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$repo" "$here/fuzz_gofer_decode.c" "$repo/gofer/proto.c" "$repo/gofer/server.c" \
    -o "$out/fuzz_gofer_decode"
# Seeds: the harness writes a valid request of every type into the corpus.
export GOFER_FUZZ_SEEDS="$out/corpus"
exec "$out/fuzz_gofer_decode" -max_total_time="$secs" -max_len=4096 -timeout=10 \
    -artifact_prefix="$out/" "$@" "$out/corpus"
