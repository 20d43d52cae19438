//===- nvrtc_compiler.h - CUDA C++ to cubin through NVRTC -------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_CUDA_NVRTC_COMPILER_H_
#define INFIR2_RUNTIME_CUDA_NVRTC_COMPILER_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace infir2::cuda {
/// Options of one NVRTC compilation.
struct NvrtcOptions {
  /// Real architecture to emit SASS for; "sm_90a" enables Hopper's wgmma and
  /// FP8 tensor-core instructions. Must be a real (sm_*) architecture because
  /// the result is a cubin.
  std::string arch = "sm_90a";
  /// Directories searched by #include; the toolkit's include directory
  /// (for cuda_fp8.h, cuda_bf16.h) is added automatically.
  std::vector<std::string> includeDirs;
  /// Headers given by content: (include name, text).
  std::vector<std::pair<std::string, std::string>> headers;
  /// Contract a * b + c into FMA (NVRTC's default). Generated kernels turn
  /// it off: their f32 results then equal the CPU's bit for bit.
  bool fmad = true;
  /// Ask ptxas for each kernel's resources (NvrtcResult::usage).
  bool resourceUsage = false;
  /// Further NVRTC options, passed verbatim (e.g. "-DTILE=128").
  std::vector<std::string> extraOptions;
};

/// What ptxas reports for one kernel.
struct KernelUsage {
  int64_t registers = 0;
  int64_t stackBytes = 0; ///< stack frame (local memory)
  int64_t spillStores = 0, spillLoads = 0;
  int64_t staticSmem = 0; ///< bytes of static shared memory
};

/// The product of a successful compilation.
struct NvrtcResult {
  std::string cubin; ///< ELF image for cuModuleLoadData.
  std::string log;   ///< NVRTC's log (warnings); may be empty.
  /// By kernel name, with NvrtcOptions::resourceUsage.
  std::map<std::string, KernelUsage> usage;
};

/// The per-kernel resources of a ptxas -v log.
std::map<std::string, KernelUsage> parsePtxasUsage(const std::string &log);

/// Compiles |source| (named |name| in diagnostics) to a cubin. On a compile
/// error the status message holds the name, the architecture and NVRTC's log.
absl::StatusOr<NvrtcResult> compileToCubin(const std::string &source,
                                           const std::string &name,
                                           const NvrtcOptions &options = {});

/// The NVRTC library version, as "major.minor".
std::string getNvrtcVersion();
} // namespace infir2::cuda

#endif // INFIR2_RUNTIME_CUDA_NVRTC_COMPILER_H_
