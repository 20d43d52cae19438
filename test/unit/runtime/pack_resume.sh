#!/usr/bin/env bash
# infir2 pack: the statistics, and a resumed run reproducing the exact
# micro-batches of an uninterrupted one.
# usage: pack_resume.sh INFIR2 RECIPE WORK_DIR
set -u
infir2=$1 recipe=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "pack_resume: FAIL: $*"; exit 1; }
# The recipe's cache_dir is unset: keep the cache in the work directory.
export INFIR2_CACHE_DIR=$work/cache

out=$("$infir2" pack --config "$recipe" --dry-run --steps 6 \
  --dump "$work/all.jsonl" 2>&1) || fail "pack: $out"
grep -q "8 samples, .* tokens, tokenized into" <<<"$out" || fail "no dataset line: $out"
grep -q "skipped 1 bad lines" <<<"$out" || fail "the bad line was not reported: $out"
grep -q "sft_small.jsonl:7: not valid JSON: parse error at line 1" <<<"$out" || fail "no file:line: $out"
grep -q "^| 6 | 24 |" <<<"$out" || fail "no summary row: $out"

"$infir2" pack --config "$recipe" --dry-run --steps 2 \
  --state-out "$work/state.json" >/dev/null 2>&1 || fail "first half"
again=$("$infir2" pack --config "$recipe" --dry-run --steps 4 \
  --state-in "$work/state.json" --dump "$work/resumed.jsonl" 2>&1) ||
  fail "resume: $again"
grep -q "cache hit" <<<"$again" || fail "the cache was not reused: $again"
grep -v '"step":[01],' "$work/all.jsonl" >"$work/expected.jsonl"
cmp -s "$work/expected.jsonl" "$work/resumed.jsonl" ||
  fail "steps 2..5 after resume differ from the uninterrupted run"
[[ $(wc -l <"$work/resumed.jsonl") -gt 0 ]] || fail "nothing dumped"
echo "pack_resume: PASS ($(wc -l <"$work/resumed.jsonl") micro-batches identical after resume)"
