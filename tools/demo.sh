#!/usr/bin/env bash
# Sets up (Debian packages), builds and runs the embedded demo: a Qwen2.5-style
# decoder layer annotated with the InfiR2 FP8 recipe and the FP8 form of one
# linear, built with the C++ op builders, verified, canonicalized and printed;
# then a tiny Qwen2 checkpoint compiled on first use and run on the CPU.
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
