//===- build_info.h - How this runtime was built ----------------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_BASE_BUILD_INFO_H_
#define INFIR2_RUNTIME_BASE_BUILD_INFO_H_

#include <string>

namespace infir2 {
/// What was compiled into this binary. Printed by `infir2 info` and recorded
/// in every artifact manifest so that a run can be traced to its build.
struct BuildInfo {
  std::string version;     ///< infir2 version, e.g. "0.1.0".
  bool cudaEnabled;        ///< Built with INFIR2_ENABLE_CUDA.
  std::string cudaVersion; ///< Toolkit version at build time, "" without CUDA.
  std::string cudaIncludeDir; ///< Toolkit headers NVRTC compiles against.
  bool compilerEnabled;       ///< This build tree has the compiler
                              ///< (INFIR2_BUILD_COMPILER=ON).
};

/// Returns the build configuration of this binary.
const BuildInfo &getBuildInfo();

/// Renders |info| as "key: value" lines, one per field.
std::string formatBuildInfo(const BuildInfo &info);

/// The directory of one of infir2's caches (|kind|: "kernels", "cubin",
/// "datasets", ...): $INFIR2_CACHE_DIR/KIND, else
/// $XDG_CACHE_HOME/infir2/KIND, else ~/.cache/infir2/KIND.
std::string cacheDir(const std::string &kind);
} // namespace infir2

#endif // INFIR2_RUNTIME_BASE_BUILD_INFO_H_
