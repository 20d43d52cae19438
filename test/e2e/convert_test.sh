#!/usr/bin/env bash
# End-to-end tests of `infir2 convert` and `infir2 inspect` on the golden
# checkpoint of test/golden/convert (references from numpy + ml_dtypes +
# safetensors, see its make_golden.py).
#
#   convert_test.sh INFIR2 SRC_DIR WORK_DIR SCENARIO
#
# Scenarios: fp8 (four scale variants and their dequantization, foreign
# per-tensor/per-channel scales), int4 (symmetric g128, asymmetric g64, and
# back), errors (bad input, existing output, a failure half way leaves
# nothing), interrupt (SIGINT during a run leaves nothing), inspect.
set -euo pipefail
infir2=$1 src=$2 work=$3 scenario=$4
golden=$src/test/golden/convert
check=$src/test/e2e/convert_check.py
dir=$work/$scenario
rm -rf "$dir" && mkdir -p "$dir"

fail() { echo "convert_test $scenario: FAIL: $*"; exit 1; }

# convert NAME ARGS...: runs infir2 convert ARGS, output in $dir/NAME.log.
convert() {
  local name=$1; shift
  "$infir2" convert "$@" >"$dir/$name.log" 2>&1 ||
    fail "$name: $(tail -3 "$dir/$name.log")"
}

# expect_error NAME CODE REGEX ARGS...: infir2 ARGS exits with CODE and its
# output matches REGEX (grep -E).
expect_error() {
  local name=$1 code=$2 regex=$3; shift 3
  set +e
  "$infir2" "$@" >"$dir/$name.log" 2>&1
  local rc=$?
  set -e
  [[ $rc == "$code" ]] || fail "$name: exit $rc, expected $code: $(cat "$dir/$name.log")"
  grep -Eq -e "$regex" "$dir/$name.log" ||
    fail "$name: message does not match '$regex': $(cat "$dir/$name.log")"
  echo "$name: exit $rc: $(grep -E -e "$regex" "$dir/$name.log" | head -1)"
}

# write_st FILE SPEC: a safetensors file from a Python dict literal
# {name: (dtype, shape, bytes)}.
write_st() {
  python3 - "$1" "$2" <<'PY'
import json, struct, sys
spec = eval(sys.argv[2])
header, data = {"__metadata__": {"format": "pt"}}, b""
for name, (dtype, shape, raw) in spec.items():
    header[name] = {"dtype": dtype, "shape": shape,
                    "data_offsets": [len(data), len(data) + len(raw)]}
    data += raw
h = json.dumps(header).encode()
h += b" " * ((8 - len(h) % 8) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h + data)
PY
}

case $scenario in
fp8)
  for v in "fp8_pow2 --scale pow2" "fp8_f32 --scale f32" \
           "fp8_pow2_f16 --scale pow2 --scale-dtype f16" \
           "fp8_f32_bf16 --scale f32 --scale-dtype bf16"; do
    set -- $v
    name=$1; shift
    convert "$name" hf-to-fp8 --input "$golden/input" --output "$dir/$name" "$@"
    python3 "$check" "$golden" "$name" "$dir/$name" "$golden/input"
  done
  # The default is the exact f32 rule.
  convert default hf-to-fp8 --input "$golden/input" --output "$dir/default"
  python3 "$check" "$golden" fp8_f32 "$dir/default" "$golden/input"
  # InfiR2's f16 scales underflow for tiny blocks: said, not hidden.
  grep -q "scales in .* tensors are not exact in F16" "$dir/fp8_pow2_f16.log" ||
    fail "no warning about inexact f16 scales"
  for name in fp8_pow2 fp8_f32 fp8_f32_bf16; do
    convert "${name}_to_bf16" fp8-to-bf16 --input "$dir/$name" \
      --output "$dir/${name}_to_bf16"
    python3 "$check" "$golden" "${name}_to_bf16" "$dir/${name}_to_bf16" \
      "$dir/$name"
  done
  convert foreign fp8-to-bf16 --input "$golden/fp8_foreign" \
    --output "$dir/foreign" --threads 1
  python3 "$check" "$golden" fp8_foreign_to_bf16 "$dir/foreign" \
    "$golden/fp8_foreign"
  grep -q "peak RSS: .* MB (bound 2 x largest tensor" "$dir/foreign.log" ||
    fail "no peak RSS in the summary"
  ;;
int4)
  convert int4_sym_g128 hf-to-int4 --input "$golden/input" \
    --output "$dir/int4_sym_g128" --group-size 128 --symmetric \
    --exclude 'o_proj|down_proj'
  python3 "$check" "$golden" int4_sym_g128 "$dir/int4_sym_g128" "$golden/input"
  convert int4_asym_g64 hf-to-int4 --input "$golden/input" \
    --output "$dir/int4_asym_g64" --group-size 64 --asymmetric \
    --exclude o_proj --exclude down_proj
  python3 "$check" "$golden" int4_asym_g64 "$dir/int4_asym_g64" "$golden/input"
  for name in int4_sym_g128 int4_asym_g64; do
    convert "${name}_to_bf16" int4-to-bf16 --input "$dir/$name" \
      --output "$dir/${name}_to_bf16"
    python3 "$check" "$golden" "${name}_to_bf16" "$dir/${name}_to_bf16" \
      "$dir/$name"
  done
  ;;
errors)
  in=$golden/input
  mkdir -p "$dir/full" && echo keep >"$dir/full/file"
  expect_error exists 1 "full exists and is not empty; pass --force to replace it" \
    convert hf-to-fp8 --input "$in" --output "$dir/full"
  [[ -f $dir/full/file ]] || fail "the existing output was touched"
  convert force hf-to-fp8 --input "$in" --output "$dir/full" --force
  [[ ! -e $dir/full/file && -f $dir/full/config.json ]] ||
    fail "--force did not replace the output"
  expect_error same 1 "is the input directory" \
    convert hf-to-fp8 --input "$in" --output "$in" --force
  expect_error requantize 1 "already quantized.*fp8-to-bf16" \
    convert hf-to-fp8 --input "$dir/full" --output "$dir/x"
  expect_error group 1 "down_proj.weight' \[256, 300\] has 300 columns, not a multiple of --group-size 128; choose a group size that divides it or --exclude the tensor" \
    convert hf-to-int4 --input "$in" --output "$dir/x"
  expect_error badopt 2 "--scale 'e8m0': expected pow2 or f32" \
    convert hf-to-fp8 --input "$in" --output "$dir/x" --scale e8m0
  expect_error notapplies 2 "--group-size does not apply to hf-to-fp8" \
    convert hf-to-fp8 --input "$in" --output "$dir/x" --group-size 64
  expect_error badregex 1 "--exclude '\(' is not a regular expression" \
    convert hf-to-fp8 --input "$in" --output "$dir/x" --exclude '('
  expect_error block 1 "--block 64x64 is not supported" \
    convert hf-to-fp8 --input "$in" --output "$dir/x" --block 64x64
  # Malformed inputs name the file and the tensor.
  cp -r "$in" "$dir/truncated"
  shard2=$dir/truncated/model-00002-of-00002.safetensors
  head -c 5000 "$shard2" >"$shard2.cut" && mv "$shard2.cut" "$shard2"
  expect_error truncated 1 "model-00002-of-00002.safetensors: tensor .*(truncated|runs past|outside)" \
    convert hf-to-fp8 --input "$dir/truncated" --output "$dir/x"
  cp -r "$in" "$dir/noshard" && rm "$dir/noshard/model-00002-of-00002.safetensors"
  expect_error noshard 1 "names shard model-00002-of-00002.safetensors, which does not exist" \
    convert hf-to-fp8 --input "$dir/noshard" --output "$dir/x"
  mkdir -p "$dir/badscale"
  write_st "$dir/badscale/model.safetensors" \
    "{'w.weight': ('F8_E4M3', [256, 256], bytes(65536)), 'w.weight_scale_inv': ('F32', [2, 1], bytes(8))}"
  expect_error badscale 1 "scale tensor 'w.weight_scale_inv' has shape \[2, 1\]; tensor 'w.weight' \[256, 256\] needs \[2, 2\]" \
    convert fp8-to-bf16 --input "$dir/badscale" --output "$dir/x"
  mkdir -p "$dir/noscale"
  write_st "$dir/noscale/model.safetensors" \
    "{'w.weight': ('F8_E4M3', [4, 4], bytes(16))}"
  expect_error noscale 1 "tensor 'w.weight' is F8_E4M3 but the checkpoint has no w.weight_scale_inv or w.weight_scale" \
    convert fp8-to-bf16 --input "$dir/noscale" --output "$dir/x"
  # An output nested in the input (or around it) is refused before --force
  # could delete the input.
  expect_error nested 1 "is inside the input directory" \
    convert hf-to-fp8 --input "$in" --output "$in/fp8" --force
  expect_error around 1 "contains the input directory" \
    convert hf-to-fp8 --input "$dir/full" --output "$dir" --force
  [[ -f $dir/full/config.json ]] || fail "a refused run touched its input"
  # Malformed quantization configs name the field instead of crashing.
  mkdir -p "$dir/zeroblock"
  cp "$dir/badscale/model.safetensors" "$dir/zeroblock/"
  echo '{"quantization_config": {"quant_method": "fp8", "weight_block_size": [0, 128]}}' \
    >"$dir/zeroblock/config.json"
  expect_error zeroblock 1 "weight_block_size \[0, 128\] must be positive" \
    convert fp8-to-bf16 --input "$dir/zeroblock" --output "$dir/x"
  expect_error inspectzero 1 "weight_block_size is \[0, 128\], not \[rows, cols\] of positive integers" \
    inspect "$dir/zeroblock"
  mkdir -p "$dir/floatct"
  cp "$dir/badscale/model.safetensors" "$dir/floatct/"
  echo '{"quantization_config": {"quant_method": "compressed-tensors", "format": "float-quantized"}}' \
    >"$dir/floatct/config.json"
  expect_error floatct 1 "compressed-tensors format \"float-quantized\" is not supported" \
    convert fp8-to-bf16 --input "$dir/floatct" --output "$dir/x"
  mkdir -p "$dir/strbits"
  cp "$dir/badscale/model.safetensors" "$dir/strbits/"
  echo '{"quantization_config": {"quant_method": "compressed-tensors", "format": "pack-quantized", "config_groups": {"group_0": {"weights": {"num_bits": "4"}}}}}' \
    >"$dir/strbits/config.json"
  expect_error strbits 1 "config group group_0 weights: num_bits must be an integer" \
    convert int4-to-bf16 --input "$dir/strbits" --output "$dir/x"
  # A Hugging Face cache snapshot: every file a symlink into blobs/. The
  # output holds files, all inside it.
  mkdir -p "$dir/hub/blobs" "$dir/hub/snapshots/abc"
  for f in "$in"/*; do
    if [[ -d $f ]]; then
      cp -r "$f" "$dir/hub/snapshots/abc/"
    else
      cp "$f" "$dir/hub/blobs/$(basename "$f").blob"
      ln -s "../../blobs/$(basename "$f").blob" "$dir/hub/snapshots/abc/$(basename "$f")"
    fi
  done
  convert hub hf-to-fp8 --input "$dir/hub/snapshots/abc" --output "$dir/hub_out"
  [[ -f $dir/hub_out/tokenizer_config.json && ! -L $dir/hub_out/tokenizer_config.json ]] ||
    fail "the snapshot's tokenizer_config.json was not copied as a file"
  [[ ! -e $dir/hub/blobs/tokenizer_config.json ]] || fail "a copy landed outside the output"
  rm -rf "$dir/hub" "$dir/hub_out"
  # A failure in the second shard (a NaN INT4 cannot hold) leaves nothing:
  # no output, no temporary directory.
  cp -r "$in" "$dir/nan"
  python3 - "$dir/nan/model-00002-of-00002.safetensors" <<'PY'
import json, struct, sys
raw = bytearray(open(sys.argv[1], "rb").read())
n = struct.unpack("<Q", raw[:8])[0]
t = json.loads(raw[8:8 + n])["model.layers.0.mlp.gate_proj.weight"]
assert t["dtype"] == "F16"
at = 8 + n + t["data_offsets"][0] + 2 * (3 * 256 + 7)
raw[at:at + 2] = struct.pack("<H", 0x7E00)
open(sys.argv[1], "wb").write(raw)
PY
  expect_error nan 1 "tensor 'model.layers.0.mlp.gate_proj.weight' holds nan at \[3, 7\]; INT4 cannot represent it" \
    convert hf-to-int4 --input "$dir/nan" --output "$dir/nan_out" \
    --exclude 'o_proj|down_proj'
  [[ ! -e $dir/nan_out ]] || fail "a failed run left $dir/nan_out"
  ! ls -a "$dir" | grep -q '^\.nan_out\.tmp' || fail "a failed run left its temporary directory"
  [[ ! -e $dir/x ]] || fail "a failed run left $dir/x"
  ;;
interrupt)
  # A checkpoint big enough to be stopped half way: 8 shards of 16 tensors
  # of 4 MB (values in [-2, 2], never NaN).
  python3 - "$dir/big" <<'PY'
import json, os, struct, sys
d = sys.argv[1]
os.makedirs(d)
table = bytes(b & 0xBF for b in range(256))
wm, total = {}, 0
for s in range(8):
    name = f"model-{s + 1:05d}-of-00008.safetensors"
    header, off = {}, 0
    for i in range(16):
        t = f"model.layers.{s * 16 + i}.mlp.up_proj.weight"
        header[t] = {"dtype": "BF16", "shape": [1024, 2048],
                     "data_offsets": [off, off + (4 << 20)]}
        off += 4 << 20
        wm[t] = name
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(os.path.join(d, name), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for i in range(16):
            f.write(os.urandom(4 << 20).translate(table))
    total += off
json.dump({"metadata": {"total_size": total}, "weight_map": wm},
          open(os.path.join(d, "model.safetensors.index.json"), "w"))
json.dump({"model_type": "qwen2"}, open(os.path.join(d, "config.json"), "w"))
PY
  "$infir2" convert hf-to-fp8 --input "$dir/big" --output "$dir/out" \
    --threads 1 >"$dir/interrupt.log" 2>&1 &
  pid=$!
  # Stop it once the first shard is written (seven are left to do).
  for _ in $(seq 1 3000); do
    if ls "$dir"/.out.tmp-*/model-00002-of-00008.safetensors >/dev/null 2>&1; then
      break
    fi
    sleep 0.01
  done
  kill -INT $pid || fail "the conversion ended before SIGINT: $(cat "$dir/interrupt.log")"
  set +e
  wait $pid
  rc=$?
  set -e
  [[ $rc == 130 ]] || fail "exit $rc after SIGINT, expected 130: $(cat "$dir/interrupt.log")"
  grep -q "interrupted; nothing was written to" "$dir/interrupt.log" ||
    fail "no interruption message: $(cat "$dir/interrupt.log")"
  [[ ! -e $dir/out ]] || fail "an interrupted run left $dir/out"
  ! ls -a "$dir" | grep -q '^\.out\.tmp' || fail "an interrupted run left its temporary directory"
  echo "SIGINT: exit 130, nothing left at the output"
  ;;
inspect)
  in=$golden/input
  "$infir2" inspect "$in" >"$dir/input.txt" || fail "inspect input: $(cat "$dir/input.txt")"
  grep -Eq "^model.layers.0.mlp.gate_proj.weight +F16 +\[300, 256\] +153600 +model-00002-of-00002.safetensors$" \
    "$dir/input.txt" || fail "tensor line: $(cat "$dir/input.txt")"
  grep -Eq "^  all +14 tensors +[0-9]+ elements" "$dir/input.txt" || fail "totals"
  grep -q "problems: none" "$dir/input.txt" || fail "problems in the input"
  "$infir2" convert hf-to-fp8 --input "$in" --output "$dir/fp8" --scale f32 >/dev/null 2>&1
  "$infir2" inspect "$dir/fp8" --summary >"$dir/fp8.txt" || fail "inspect fp8: $(cat "$dir/fp8.txt")"
  grep -Eq "^  F8_E4M3 +7 tensors" "$dir/fp8.txt" || fail "fp8 totals: $(cat "$dir/fp8.txt")"
  grep -q '"weight_block_size"' "$dir/fp8.txt" || fail "no quantization_config"
  "$infir2" convert hf-to-int4 --input "$in" --output "$dir/int4" --asymmetric \
    --group-size 64 --exclude 'o_proj|down_proj' >/dev/null 2>&1
  "$infir2" inspect "$dir/int4" --summary >"$dir/int4.txt" || fail "inspect int4: $(cat "$dir/int4.txt")"
  "$infir2" inspect "$dir/fp8/model-00001-of-00002.safetensors" >"$dir/file.txt" ||
    fail "inspect one file: $(cat "$dir/file.txt")"
  # A broken checkpoint: an index entry dropped, one pointing nowhere, a
  # wrong total_size, a scale of the wrong shape, a ue8m0 claim with exact
  # scales; every problem is listed and the exit status is 1.
  cp -r "$dir/fp8" "$dir/broken"
  python3 - "$dir/broken" <<'PY'
import json, os, sys
d = sys.argv[1]
p = os.path.join(d, "model.safetensors.index.json")
idx = json.load(open(p))
del idx["weight_map"]["model.norm.weight"]
idx["weight_map"]["model.ghost.weight"] = "model-00001-of-00002.safetensors"
idx["metadata"]["total_size"] = 12345
json.dump(idx, open(p, "w"))
c = json.load(open(os.path.join(d, "config.json")))
c["quantization_config"]["scale_fmt"] = "ue8m0"
json.dump(c, open(os.path.join(d, "config.json"), "w"))
PY
  set +e
  "$infir2" inspect "$dir/broken" --summary >"$dir/broken.txt" 2>&1
  rc=$?
  set -e
  [[ $rc == 1 ]] || fail "inspect broken: exit $rc"
  for want in "missing index entry: tensor 'model.norm.weight' of model-00002-of-00002.safetensors is not in the index" \
              "index entry 'model.ghost.weight' names model-00001-of-00002.safetensors, which does not hold it" \
              "index metadata.total_size is 12345; the tensors hold" \
              "config.json says scale_fmt ue8m0 but"; do
    grep -qF "$want" "$dir/broken.txt" || fail "inspect broken: no '$want': $(cat "$dir/broken.txt")"
  done
  mkdir -p "$dir/badscale"
  write_st "$dir/badscale/model.safetensors" \
    "{'w.weight': ('F8_E4M3', [256, 130], bytes(33280)), 'w.weight_scale_inv': ('F32', [2, 1], bytes(8)), 'v.weight_scale_inv': ('F32', [1, 1], bytes(4))}"
  set +e
  "$infir2" inspect "$dir/badscale" >"$dir/badscale.txt" 2>&1
  rc=$?
  set -e
  [[ $rc == 1 ]] || fail "inspect badscale: exit $rc"
  for want in "scale shape mismatch: 'w.weight_scale_inv' is [2, 1], 'w.weight' [256, 130] needs [2, 2] (128x128 blocks)" \
              "scale tensor 'v.weight_scale_inv' belongs to no quantized tensor" \
              "1 FP8 tensors but config.json has no fp8 quantization_config"; do
    grep -qF "$want" "$dir/badscale.txt" || fail "inspect badscale: no '$want': $(cat "$dir/badscale.txt")"
  done
  head -c 100 "$in/model-00001-of-00002.safetensors" >"$dir/cut.safetensors"
  expect_error malformed 1 "cut.safetensors.*(runs past|truncated)" inspect "$dir/cut.safetensors"
  cat "$dir/broken.txt"
  ;;
*)
  fail "unknown scenario"
  ;;
esac
echo "convert_test $scenario: PASS"
