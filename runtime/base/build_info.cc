//===- build_info.cc - How this runtime was built -------------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/base/build_info.h"

#include <cstdlib>

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

std::string cacheDir(const std::string &kind) {
  if (const char *d = std::getenv("INFIR2_CACHE_DIR"); d && *d)
    return absl::StrCat(d, "/", kind);
  if (const char *x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return absl::StrCat(x, "/infir2/", kind);
  if (const char *h = std::getenv("HOME"); h && *h)
    return absl::StrCat(h, "/.cache/infir2/", kind);
  return absl::StrCat("/tmp/infir2-cache/", kind);
}
} // namespace infir2
