#!/usr/bin/env bash
# Sets up (Debian packages), builds and runs the embedded demo: a Qwen2.5-style
# decoder layer annotated with the InfiR2 FP8 recipe and the FP8 form of one
# linear, built with the C++ op builders, verified, canonicalized and printed;
# then a tiny Qwen2 checkpoint compiled on first use and run on the CPU; then
# the tiny SFT recipe trained for 124 steps and its checkpoint read back;
# then the same recipe with FP8 GEMMs, and the two loss curves.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$INFIR2_ROOT"

infir2_install_packages
infir2_configure build
infir2_log "Building the demo"
cmake --build build --target infir2 infir2c infir2-opt infir2-demo golden_check

infir2_log "infir2 info"
build/bin/infir2 info

infir2_log "infir2-demo"
build/bin/infir2-demo

infir2_log "The same IR through infir2-opt (parse, verify, canonicalize, print)"
build/bin/infir2-demo | sed -n '/built with/,/after canonicalize/p' |
  grep -v '^// =====' |
  build/bin/infir2-opt --canonicalize --cse --mlir-print-local-scope |
  sed -n '/func.func @foldable/,/^  }/p'

model=test/golden/qwen2/tied_hd64_r7
infir2_log "infir2 logits: $model (random weights) compiled on first use, run on the CPU"
rm -rf build/demo
INFIR2_CACHE_DIR=build/demo/cache build/bin/infir2 logits --model "$model" \
  --input "$model/tokens.jsonl" --output build/demo/logits.safetensors
infir2_log "Again (the cached artifact is reused), then against transformers' logits"
INFIR2_CACHE_DIR=build/demo/cache build/bin/infir2 logits --model "$model" \
  --input "$model/tokens.jsonl" --output build/demo/logits.safetensors 2>&1 |
  grep 'using artifact'
if [[ -x build/bin/golden_check ]]; then
  build/bin/golden_check --actual build/demo/logits.safetensors \
    --expected "$model/expected_fp32.safetensors" --precision fp32
fi

infir2_log "infir2 train: the tiny SFT recipe (recipes/tiny/sft_bf16.toml)"
# A 2-layer Qwen2 with the real Qwen2.5 tokenizer and vocabulary, random
# init, BF16 with FP32 master weights, on synthetic arithmetic with <think>
# and \boxed{} answers: 124 AdamW steps, evaluation on 64 held-out samples,
# checkpoints, TensorBoard, metrics.jsonl and loss.svg in build/demo/sft.
start=$SECONDS
INFIR2_CACHE_DIR=build/demo/cache build/bin/infir2 train \
  recipes/tiny/sft_bf16.toml --output-dir build/demo/sft
infir2_log "Tiny SFT took $((SECONDS - start)) s; the run directory:"
ls build/demo/sft build/demo/sft/checkpoints
last=$(ls -d build/demo/sft/checkpoints/step-* | sort -t- -k2 -n | tail -1)
infir2_log "infir2 logits on the saved Hugging Face checkpoint $last"
echo '[151644, 8948, 198, 50, 3948, 279, 3491, 13, 151645]' >build/demo/prompt.jsonl
INFIR2_CACHE_DIR=build/demo/cache build/bin/infir2 logits --model "$last" \
  --input build/demo/prompt.jsonl --output build/demo/sft_logits.safetensors \
  --precision bf16
echo "(python3 tools/dev/check_checkpoint.py $last compares it with transformers)"

infir2_log "The FP8 training step of one Qwen2.5 layer after kernel-fuse: fused kernels between the library ops"
build/bin/infir2c --model test/tools/infir2c/Inputs/qwen2_one_layer --precision fp8 \
  --gradients --emit fused |
  sed -n '/func.func @forward_grad/,$p' |
  grep -E 'kernel.fused|fp8.scaled_matmul|graph\.(attention|embedding|linear|matmul)' |
  sed -e 's/ : .*//' -e 's/ {$//'
if build/bin/infir2 info | grep -q '^cuda: on'; then
  infir2_log "NVRTC compiles every kernel of the Qwen2.5-1.5B FP8 training step for sm_90a (no GPU needed)"
  build/bin/infir2c --model test/data/qwen2.5-1.5b --precision fp8 --gradients \
    --target cuda:sm_90a --report | sed -n '/@forward_grad: [0-9]* kernel launches/,$p'
fi

infir2_log "infir2 train: the same recipe in FP8 (recipes/tiny/sft_fp8.toml)"
# The decoder layers' QKV, O, gate/up and down GEMMs on E4M3 operands
# (forward, dgrad, wgrad), everything else as in the BF16 run.
start=$SECONDS
INFIR2_CACHE_DIR=build/demo/cache build/bin/infir2 train \
  recipes/tiny/sft_fp8.toml --output-dir build/demo/sft_fp8
infir2_log "Tiny FP8 SFT took $((SECONDS - start)) s; the two loss curves:"
python3 - build/demo/sft/metrics.jsonl build/demo/sft_fp8/metrics.jsonl <<'PY'
import json, sys
bf16, fp8 = ([json.loads(l) for l in open(p)] for p in sys.argv[1:3])
print(f"{'step':>5} {'bf16 loss':>10} {'fp8 loss':>10} {'fp8/bf16':>9}")
for a, b in zip(bf16, fp8):
    if a["step"] % 10 == 0 or a["step"] in (1, len(bf16)):
        print(f"{a['step']:>5} {a['loss']:>10.4f} {b['loss']:>10.4f} "
              f"{b['loss'] / a['loss']:>9.4f}")
ea = [r for r in bf16 if "eval_loss" in r][-1]["eval_loss"]
eb = [r for r in fp8 if "eval_loss" in r][-1]["eval_loss"]
print(f"final held-out loss: bf16 {ea:.4f}, fp8 {eb:.4f} ({100 * (eb / ea - 1):+.2f}%)")
PY
