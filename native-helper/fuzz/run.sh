#!/bin/sh
# Fuzz the tunnel packet parsers with libFuzzer + ASan/UBSan.
#   native-helper/fuzz/run.sh [SECONDS]   (default 30: the bounded CI run; the bench uses longer)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dp="$here/../native/datapath"
out="${FUZZ_OUT:-$here/build}"
seconds="${1:-30}"
mkdir -p "$out/corpus"
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I"$dp" \
  "$here/fuzz_wire.c" "$dp/wire.c" "$dp/tso.c" "$dp/groupflow.c" -o "$out/fuzz_wire"
cp "$here"/seeds/* "$out/corpus/" 2>/dev/null || true
"$out/fuzz_wire" -artifact_prefix="$out/" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 "$out/corpus"
