#!/usr/bin/env bash
# Sets up (Debian packages), builds and runs the embedded demo: a Qwen2.5-style
# decoder layer annotated with the InfiR2 FP8 recipe and the FP8 form of one
# linear, built with the C++ op builders, verified, canonicalized and printed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$INFIR2_ROOT"

infir2_install_packages
infir2_configure build
infir2_log "Building the demo"
cmake --build build --target infir2 infir2-opt infir2-demo

infir2_log "infir2 info"
build/bin/infir2 info

infir2_log "infir2-demo"
build/bin/infir2-demo

infir2_log "The same IR through infir2-opt (parse, verify, canonicalize, print)"
build/bin/infir2-demo | sed -n '/built with/,/after canonicalize/p' |
  grep -v '^// =====' |
  build/bin/infir2-opt --canonicalize --cse --mlir-print-local-scope |
  sed -n '/func.func @foldable/,/^  }/p'
