//===- cubin_cache.h - NVRTC cubins cached on disk ---------------*- C++
//-*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// NVRTC takes 0.1-2 s per kernel source; a train step has ~100 kernels. The
// CUDA backend compiles each source once per machine: the cubin and NVRTC's
// log (for the ptxas resources) are kept under a key that covers the
// source, every header given by content, the architecture, every option and
// the NVRTC version. Entries are written to a temporary name and renamed,
// so concurrent processes never read half a cubin.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_CUDA_CUBIN_CACHE_H_
#define INFIR2_RUNTIME_CUDA_CUBIN_CACHE_H_

#include <string>

#include "absl/status/statusor.h"
#include "runtime/cuda/nvrtc_compiler.h"

namespace infir2::cuda {
/// $INFIR2_CACHE_DIR/cubin, else $XDG_CACHE_HOME/infir2/cubin, else
/// ~/.cache/infir2/cubin.
std::string cubinCacheDir();

/// The cache key of a compilation (32 hex digits).
std::string cubinCacheKey(const std::string &source,
                          const NvrtcOptions &options);

struct CachedCubin {
  NvrtcResult result;
  bool hit = false; ///< read from the cache, NVRTC not run
  std::string path; ///< the cubin's file in the cache
};

/// compileToCubin through the cache in |dir| (cubinCacheDir() when empty).
/// A damaged entry (not an ELF image) is recompiled and replaced. A cache
/// that cannot be written is not an error: the cubin is returned uncached.
absl::StatusOr<CachedCubin> compileCached(const std::string &source,
                                          const std::string &name,
                                          const NvrtcOptions &options = {},
                                          const std::string &dir = {});
} // namespace infir2::cuda

#endif // INFIR2_RUNTIME_CUDA_CUBIN_CACHE_H_
