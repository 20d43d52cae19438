//===- nvrtc_compiler.cc - CUDA C++ to cubin through NVRTC ----------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/cuda/nvrtc_compiler.h"

#include <nvrtc.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/build_info.h"

namespace infir2::cuda {
namespace {
struct ProgramDeleter {
  void operator()(nvrtcProgram program) const { nvrtcDestroyProgram(&program); }
};
using ProgramPtr =
    std::unique_ptr<std::remove_pointer_t<nvrtcProgram>, ProgramDeleter>;

// Debian's Abseil has its own string_view (ABSL_OPTION_USE_STD_STRING_VIEW
// is 0), so strings cross into absl::StrCat as std::string or const char *.
absl::Status nvrtcError(nvrtcResult result, const char *what,
                        const std::string &name) {
  return absl::InternalError(absl::StrCat("NVRTC ", what, " failed for '", name,
                                          "': ", nvrtcGetErrorString(result)));
}

std::string programLog(nvrtcProgram program) {
  size_t size = 0;
  if (nvrtcGetProgramLogSize(program, &size) != NVRTC_SUCCESS || size <= 1)
    return {};
  std::string log(size, '\0');
  if (nvrtcGetProgramLog(program, log.data()) != NVRTC_SUCCESS)
    return {};
  log.resize(size - 1); // drop the terminating NUL
  return log;
}
} // namespace

absl::StatusOr<NvrtcResult> compileToCubin(const std::string &source,
                                           const std::string &name,
                                           const NvrtcOptions &options) {
  if (options.arch.rfind("sm_", 0) != 0)
    return absl::InvalidArgumentError(
        absl::StrCat("NVRTC arch '", options.arch, "' for '", name,
                     "' is not a real architecture; use e.g. sm_90a (a cubin "
                     "needs SASS, not PTX)"));

  nvrtcProgram raw = nullptr;
  if (nvrtcResult r = nvrtcCreateProgram(&raw, source.c_str(), name.c_str(), 0,
                                         nullptr, nullptr);
      r != NVRTC_SUCCESS)
    return nvrtcError(r, "program creation", name);
  ProgramPtr program(raw);

  std::vector<std::string> args = {
      absl::StrCat("--gpu-architecture=", options.arch), "-std=c++17",
      "--fmad=true"};
  const std::string &toolkitInclude = getBuildInfo().cudaIncludeDir;
  if (!toolkitInclude.empty())
    args.push_back(absl::StrCat("--include-path=", toolkitInclude));
  for (const std::string &dir : options.includeDirs)
    args.push_back(absl::StrCat("--include-path=", dir));
  args.insert(args.end(), options.extraOptions.begin(),
              options.extraOptions.end());
  std::vector<const char *> argv;
  argv.reserve(args.size());
  for (const std::string &a : args)
    argv.push_back(a.c_str());

  nvrtcResult compiled = nvrtcCompileProgram(
      program.get(), static_cast<int>(argv.size()), argv.data());
  std::string log = programLog(program.get());
  if (compiled != NVRTC_SUCCESS)
    return absl::InvalidArgumentError(
        absl::StrCat("NVRTC could not compile '", name, "' for ", options.arch,
                     " (", nvrtcGetErrorString(compiled), "):\n", log));

  size_t size = 0;
  if (nvrtcResult r = nvrtcGetCUBINSize(program.get(), &size);
      r != NVRTC_SUCCESS)
    return nvrtcError(r, "nvrtcGetCUBINSize", name);
  NvrtcResult result;
  result.cubin.resize(size);
  if (nvrtcResult r = nvrtcGetCUBIN(program.get(), result.cubin.data());
      r != NVRTC_SUCCESS)
    return nvrtcError(r, "nvrtcGetCUBIN", name);
  result.log = std::move(log);
  return result;
}

std::string getNvrtcVersion() {
  int major = 0, minor = 0;
  if (::nvrtcVersion(&major, &minor) != NVRTC_SUCCESS)
    return "unknown";
  return absl::StrCat(major, ".", minor);
}
} // namespace infir2::cuda
