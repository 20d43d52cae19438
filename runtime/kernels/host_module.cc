//===- host_module.cc - An artifact's kernels built for the host ----------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/host_module.h"

#include <dlfcn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "runtime/base/build_info.h"
#include "runtime/kernels/prelude_text.h"

namespace infir2::kernels {
namespace fs = std::filesystem;
namespace {
uint64_t fnv1a64(const std::string &s, uint64_t h = 0xCBF29CE484222325ull) {
  for (unsigned char c : s)
    h = (h ^ c) * 0x100000001B3ull;
  return h;
}

std::string hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(v));
  return buf;
}

std::string readFile(const fs::path &path, bool &ok) {
  std::ifstream in(path, std::ios::binary);
  ok = static_cast<bool>(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The host compiler: $INFIR2_HOST_CXX, else the one that built infir2.
std::string hostCompiler() {
  if (const char *cxx = std::getenv("INFIR2_HOST_CXX"); cxx && *cxx)
    return cxx;
  return INFIR2_HOST_CXX;
}

/// Exact IEEE f32 as the CPU kernels and the GPU compute it (no contraction
/// into FMA, no fast math); OpenMP runs the blocks; -march=native is safe
/// because nothing reassociates, and the CPU's flags enter the cache key.
const char *kFlags = "-std=c++17 -O2 -march=native -fPIC -shared -fopenmp "
                     "-ffp-contract=off -fno-fast-math -w";

/// What identifies the machine code: the compiler's version line and the
/// CPU's feature flags.
std::string machineKey(const std::string &cxx) {
  std::string key = cxx;
  if (FILE *p = popen((cxx + " --version 2>/dev/null").c_str(), "r")) {
    std::array<char, 256> line{};
    if (std::fgets(line.data(), line.size(), p))
      key += line.data();
    pclose(p);
  }
  std::ifstream cpu("/proc/cpuinfo");
  for (std::string l; std::getline(cpu, l);)
    if (l.rfind("flags", 0) == 0) {
      key += l;
      break;
    }
  return key;
}

/// Runs |command| (through the shell); its output lands in |log|.
int run(const std::string &command, const fs::path &log) {
  const std::string full = command + " > '" + log.string() + "' 2>&1";
  int status = std::system(full.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::mutex &cacheMutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, std::weak_ptr<const HostModule>> &loaded() {
  static auto *m = new std::map<std::string, std::weak_ptr<const HostModule>>;
  return *m;
}
} // namespace

std::string hostKernelCacheDir() { return cacheDir("kernels"); }

HostModule::~HostModule() {
  if (handle_)
    dlclose(handle_);
}

HostKernelFn HostModule::find(const std::string &name) const {
  return reinterpret_cast<HostKernelFn>(dlsym(handle_, name.c_str()));
}

absl::StatusOr<std::shared_ptr<const HostModule>>
HostModule::load(const artifact::Manifest &manifest) {
  const fs::path sourcePath = fs::path(manifest.dir) / manifest.kernelSource;
  bool ok = false;
  const std::string source = readFile(sourcePath, ok);
  if (!ok)
    return absl::NotFoundError(absl::StrCat(
        sourcePath.string(),
        ": cannot read the artifact's kernel source; recompile the artifact"));
  const std::string cxx = hostCompiler();
  static const std::string machine = machineKey(cxx);
  const std::string prelude = preludeText();
  const std::string key =
      hex(fnv1a64(source, fnv1a64(prelude, fnv1a64(kFlags, fnv1a64(machine)))));

  std::lock_guard<std::mutex> lock(cacheMutex());
  if (auto cached = loaded()[key].lock()) {
    for (const artifact::Kernel &k : manifest.kernels)
      if (!cached->find(k.name))
        return absl::InternalError(absl::StrCat(
            cached->path(), " has no kernel '", k.name,
            "' of the manifest; the artifact's kernels.cu does not match its "
            "manifest (recompile the artifact)"));
    return cached;
  }
  const fs::path dir = hostKernelCacheDir();
  const fs::path so = dir / (key + ".so");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::exists(so)) {
    // Build in a private directory, then rename into place: concurrent
    // processes never see a half-written module.
    std::string pattern = (dir / (key + ".tmp.XXXXXX")).string();
    if (!mkdtemp(pattern.data()))
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create a directory in ", dir.string(),
                       "; set INFIR2_CACHE_DIR to a writable directory"));
    const fs::path work = pattern;
    {
      std::ofstream(work / kPreludeName, std::ios::binary) << prelude;
      std::ofstream(work / "kernels.cc", std::ios::binary) << source;
    }
    const fs::path out = work / "kernels.so";
    const std::string command = absl::StrCat(
        "'", cxx, "' ", kFlags, " -I '", work.string(), "' '",
        (work / "kernels.cc").string(), "' -o '", out.string(), "'");
    const int rc = run(command, work / "build.log");
    if (rc != 0) {
      std::string log = readFile(work / "build.log", ok);
      if (log.size() > 4000)
        log = log.substr(0, 4000) + "\n...";
      fs::remove_all(work, ec);
      return absl::InternalError(absl::StrCat(
          "building the kernels of ", sourcePath.string(),
          " for the CPU failed (exit ", rc, "): ", command, "\n", log,
          "\nset INFIR2_HOST_CXX to a C++17 compiler with OpenMP"));
    }
    std::error_code moved, ignored;
    fs::rename(out, so, moved);
    fs::remove_all(work, ignored);
    // Another process may have installed the same module first.
    if (moved && !fs::exists(so))
      return absl::InternalError(absl::StrCat("cannot move the kernel module "
                                              "into ",
                                              so.string(), ": ",
                                              moved.message()));
  }
  std::shared_ptr<HostModule> module(new HostModule());
  module->path_ = so.string();
  module->handle_ = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!module->handle_)
    return absl::InternalError(absl::StrCat("cannot load ", so.string(), ": ",
                                            dlerror(),
                                            "; delete it to rebuild"));
  for (const artifact::Kernel &k : manifest.kernels)
    if (!module->find(k.name))
      return absl::InternalError(
          absl::StrCat(so.string(), " has no kernel '", k.name,
                       "' of the manifest; the artifact's kernels.cu does not "
                       "match its manifest (recompile the artifact)"));
  loaded()[key] = module;
  return std::shared_ptr<const HostModule>(module);
}
} // namespace infir2::kernels
