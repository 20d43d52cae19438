//===- build_info.cc - How this runtime was built -------------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/base/build_info.h"

#include "absl/strings/str_cat.h"
#include "runtime/base/build_config.h"

namespace infir2 {
const BuildInfo &getBuildInfo() {
  static const BuildInfo info{INFIR2_VERSION_STRING, INFIR2_CUDA_ENABLED != 0,
                              INFIR2_CUDA_VERSION_STRING,
                              INFIR2_CUDA_INCLUDE_DIR,
                              INFIR2_COMPILER_ENABLED != 0};
  return info;
}

std::string formatBuildInfo(const BuildInfo &info) {
  return absl::StrCat(
      "version: ", info.version, "\n", "cuda: ",
      info.cudaEnabled ? absl::StrCat("on (toolkit ", info.cudaVersion, ")")
                       : std::string("off"),
      "\n", "compiler: ", info.compilerEnabled ? "on" : "off", "\n");
}
} // namespace infir2
