#!/usr/bin/env bash
# The runner's JIT cache: the first run compiles, the second reuses the
# entry, a corrupted entry is compiled over.
# usage: jit_cache.sh INFIR2 MODEL_DIR WORK_DIR
set -u
infir2=$1 model=$2 work=$3
export INFIR2_CACHE_DIR=$work/cache
rm -rf "$work" && mkdir -p "$work"
run() {
  "$infir2" logits --model "$model" --input "$model/tokens.jsonl" \
    --output "$work/out.safetensors" 2>&1
}
fail() { echo "jit_cache: FAIL: $*"; exit 1; }

first=$(run) || fail "first run: $first"
grep -q "compiled artifact" <<<"$first" || fail "first run did not compile: $first"
entries=("$INFIR2_CACHE_DIR"/artifacts/*)
[[ ${#entries[@]} -eq 1 && -f ${entries[0]}/manifest.json ]] ||
  fail "expected one cache entry, found: ${entries[*]}"

second=$(run) || fail "second run: $second"
grep -q "using artifact ${entries[0]}" <<<"$second" ||
  fail "second run did not reuse ${entries[0]}: $second"

echo '{"schema": "infir2-artifact", "version": 1' >"${entries[0]}/manifest.json"
third=$(run) || fail "run over a corrupted entry: $third"
grep -q "compiled artifact ${entries[0]}" <<<"$third" ||
  fail "a corrupted entry was not recompiled: $third"

bf16=$("$infir2" logits --model "$model" --input "$model/tokens.jsonl" \
  --output "$work/out.safetensors" --precision bf16 2>&1) || fail "bf16: $bf16"
count=$(ls "$INFIR2_CACHE_DIR/artifacts" | wc -l)
[[ $count -eq 2 ]] || fail "fp32 and bf16 should be two entries, found $count"
# Concurrent first uses of one key: both succeed, one entry, no leftovers.
rm -rf "$INFIR2_CACHE_DIR"
for i in 1 2 3; do
  "$infir2" logits --model "$model" --input "$model/tokens.jsonl" \
    --output "$work/out$i.safetensors" >"$work/log$i" 2>&1 &
done
for i in 1 2 3; do
  wait -n || fail "a concurrent run failed: $(cat "$work"/log*)"
done
count=$(ls -A "$INFIR2_CACHE_DIR/artifacts" | wc -l)
[[ $count -eq 1 ]] || fail "concurrent runs left $(ls -A "$INFIR2_CACHE_DIR/artifacts")"
echo "jit_cache: PASS (compile, reuse, recompile a corrupted entry, one entry per precision, concurrent first use)"
