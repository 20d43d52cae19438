//===- cubin_cache.cc - NVRTC cubins cached on disk -----------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/cuda/cubin_cache.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "runtime/base/build_info.h"

namespace infir2::cuda {
namespace fs = std::filesystem;
namespace {
/// FNV-1a over a length-prefixed field, so ("ab","c") != ("a","bc").
struct Hasher {
  uint64_t a = 0xCBF29CE484222325ull, b = 0x84222325CBF29CE4ull;
  void byte(unsigned char c) {
    a = (a ^ c) * 0x100000001B3ull;
    b = (b ^ c) * 0x00000100000001B3ull + 0x9E3779B97F4A7C15ull;
  }
  void add(const std::string &s) {
    for (int i = 0; i < 8; ++i)
      byte(static_cast<unsigned char>(s.size() >> (8 * i)));
    for (unsigned char c : s)
      byte(c);
  }
};

bool readFile(const fs::path &path, std::string &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::ostringstream text;
  text << in.rdbuf();
  out = text.str();
  return static_cast<bool>(in) || in.eof();
}

/// Writes |text| to |path| through a unique temporary name and rename.
bool writeAtomically(const fs::path &path, const std::string &text) {
  const fs::path tmp =
      path.string() + absl::StrCat(".tmp.", ::getpid(), ".",
                                   reinterpret_cast<uintptr_t>(&text));
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      return false;
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec)
    fs::remove(tmp, ec);
  return !ec;
}

bool isElf(const std::string &image) {
  return image.size() > 64 && image.compare(0, 4,
                                            "\x7f"
                                            "ELF") == 0;
}
} // namespace

std::string cubinCacheDir() { return cacheDir("cubin"); }

std::string cubinCacheKey(const std::string &source,
                          const NvrtcOptions &options) {
  Hasher h;
  h.add("infir2-cubin-1");
  h.add(getNvrtcVersion());
  h.add(source);
  h.add(options.arch);
  h.add(options.fmad ? "fmad" : "nofmad");
  h.add(options.resourceUsage ? "usage" : "");
  // Each list tagged and counted, so that an entry cannot move from one
  // list to another with the same key.
  h.add("include-dirs " + std::to_string(options.includeDirs.size()));
  for (const std::string &dir : options.includeDirs)
    h.add(dir);
  h.add("headers " + std::to_string(options.headers.size()));
  for (const auto &[name, text] : options.headers) {
    h.add(name);
    h.add(text);
  }
  h.add("options " + std::to_string(options.extraOptions.size()));
  for (const std::string &opt : options.extraOptions)
    h.add(opt);
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx",
                static_cast<unsigned long long>(h.a),
                static_cast<unsigned long long>(h.b));
  return buf;
}

absl::StatusOr<CachedCubin> compileCached(const std::string &source,
                                          const std::string &name,
                                          const NvrtcOptions &options,
                                          const std::string &dir) {
  const fs::path root = dir.empty() ? fs::path(cubinCacheDir()) : fs::path(dir);
  const std::string key = cubinCacheKey(source, options);
  const fs::path cubinPath = root / (key + ".cubin");
  const fs::path logPath = root / (key + ".log");
  CachedCubin out;
  out.path = cubinPath.string();
  // The log is written before the cubin: a present cubin has its log.
  if (readFile(cubinPath, out.result.cubin) && isElf(out.result.cubin) &&
      readFile(logPath, out.result.log)) {
    if (options.resourceUsage)
      out.result.usage = parsePtxasUsage(out.result.log);
    out.hit = true;
    return out;
  }
  absl::StatusOr<NvrtcResult> compiled = compileToCubin(source, name, options);
  if (!compiled.ok())
    return compiled.status();
  out.result = std::move(*compiled);
  std::error_code ec;
  fs::create_directories(root, ec);
  if (!writeAtomically(logPath, out.result.log) ||
      !writeAtomically(cubinPath, out.result.cubin))
    out.path.clear();
  return out;
}
} // namespace infir2::cuda
