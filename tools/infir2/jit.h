//===- jit.h - Find or compile the artifact a command runs ------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// With the compiler built in (INFIR2_BUILD_COMPILER=ON), the runner compiles
// on first use into a cache keyed by a hash of the model config and the
// compile options, and reuses the entry afterwards (docs/guide/infir2.md).
// Without it, the caller names an artifact compiled by infir2c.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_TOOLS_INFIR2_JIT_H_
#define INFIR2_TOOLS_INFIR2_JIT_H_

#include <string>

#include "absl/status/statusor.h"
#include "runtime/artifact/manifest.h"

namespace infir2::runner {
struct ArtifactRequest {
  std::string modelDir;
  std::string precision = "fp32"; ///< fp32 | bf16
  std::string artifactDir;        ///< precompiled; empty: use the cache
  /// A training artifact: forward (loss only) and forward_grad.
  bool gradients = false;
  /// With gradients: the AdamW step as entry points (grad_norm,
  /// optimizer_step).
  bool optimizer = false;
  /// Generated (fused) kernels; off: one runtime op per graph op (the
  /// CPU's default: its reference kernels are faster).
  bool fusion = false;
};

struct ResolvedArtifact {
  std::string dir;
  artifact::Manifest manifest; ///< the loaded manifest.json
  std::string key;             ///< the cache key (empty for an explicit dir)
  bool compiled = false;       ///< compiled by this call
  double compileSeconds = 0;
};

/// $INFIR2_CACHE_DIR, else $XDG_CACHE_HOME/infir2, else ~/.cache/infir2.
std::string cacheRoot();

/// The artifact to load for |request|, compiling it if needed. An explicit
/// artifact must have been compiled from the same config.json (rope_theta
/// or eps differences would not show in the parameter shapes).
absl::StatusOr<ResolvedArtifact>
resolveArtifact(const ArtifactRequest &request);
} // namespace infir2::runner

#endif // INFIR2_TOOLS_INFIR2_JIT_H_
