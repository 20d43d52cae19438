//===- nvrtc_compiler.cc - CUDA C++ to cubin through NVRTC ----------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/cuda/nvrtc_compiler.h"

#include <nvrtc.h>

#include <cctype>
#include <memory>
#include <set>
#include <sstream>

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
  std::vector<const char *> headerText, headerNames;
  for (const auto &[include, text] : options.headers) {
    headerNames.push_back(include.c_str());
    headerText.push_back(text.c_str());
  }
  if (nvrtcResult r = nvrtcCreateProgram(&raw, source.c_str(), name.c_str(),
                                         static_cast<int>(headerText.size()),
                                         headerText.data(), headerNames.data());
      r != NVRTC_SUCCESS)
    return nvrtcError(r, "program creation", name);
  ProgramPtr program(raw);

  std::vector<std::string> args = {
      absl::StrCat("--gpu-architecture=", options.arch), "-std=c++17",
      options.fmad ? "--fmad=true" : "--fmad=false"};
  if (options.resourceUsage)
    args.push_back("--ptxas-options=-v");
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
  if (options.resourceUsage)
    result.usage = parsePtxasUsage(log);
  result.log = std::move(log);
  return result;
}

std::map<std::string, KernelUsage> parsePtxasUsage(const std::string &log) {
  // ptxas info    : Function properties for NAME
  // ptxas         .     0 bytes stack frame, 0 bytes spill stores, ...
  // ptxas info    : Used 40 registers, used 1 barriers, 16 bytes smem, ...
  // Only entry functions (kernels) are reported: a non-inlined device
  // function has properties of its own.
  std::map<std::string, KernelUsage> out;
  std::set<std::string> entries;
  std::string current;
  std::istringstream in(log);
  auto numberBefore = [](const std::string &line, const std::string &what) {
    size_t at = line.find(what);
    if (at == std::string::npos || at == 0)
      return int64_t{0};
    size_t end = at;
    while (end > 0 && line[end - 1] == ' ')
      --end;
    size_t begin = end;
    while (begin > 0 &&
           std::isdigit(static_cast<unsigned char>(line[begin - 1])))
      --begin;
    return begin < end ? static_cast<int64_t>(
                             std::stoll(line.substr(begin, end - begin)))
                       : int64_t{0};
  };
  for (std::string line; std::getline(in, line);) {
    const std::string entry = "Compiling entry function '";
    if (size_t at = line.find(entry); at != std::string::npos) {
      size_t end = line.find('\'', at + entry.size());
      entries.insert(
          line.substr(at + entry.size(), end == std::string::npos
                                             ? std::string::npos
                                             : end - at - entry.size()));
      continue;
    }
    const std::string props = "Function properties for ";
    if (size_t at = line.find(props); at != std::string::npos) {
      current = line.substr(at + props.size());
      while (!current.empty() &&
             std::isspace(static_cast<unsigned char>(current.back())))
        current.pop_back();
      if (entries.count(current))
        out[current];
      else
        current.clear();
      continue;
    }
    if (current.empty())
      continue;
    KernelUsage &u = out[current];
    if (line.find("stack frame") != std::string::npos) {
      u.stackBytes = numberBefore(line, "bytes stack frame");
      u.spillStores = numberBefore(line, "bytes spill stores");
      u.spillLoads = numberBefore(line, "bytes spill loads");
    } else if (line.find("Used ") != std::string::npos &&
               line.find("registers") != std::string::npos) {
      u.registers = numberBefore(line, "registers");
      u.staticSmem = numberBefore(line, "bytes smem");
    }
  }
  return out;
}

std::string getNvrtcVersion() {
  int major = 0, minor = 0;
  if (::nvrtcVersion(&major, &minor) != NVRTC_SUCCESS)
    return "unknown";
  return absl::StrCat(major, ".", minor);
}
} // namespace infir2::cuda
