//===- jit.cc - Find or compile the artifact a command runs ---------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here
// (compiler/driver/Compile.h is plain C++).
//
//===----------------------------------------------------------------------===//

#include "tools/infir2/jit.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "frontends/hf/Qwen2Config.h"

#ifdef INFIR2_RUNNER_HAS_COMPILER
#include "compiler/driver/Compile.h"
#endif

namespace infir2::runner {
namespace {
namespace fs = std::filesystem;

#ifdef INFIR2_RUNNER_HAS_COMPILER
/// The manifest of |dir| when it is a complete cache entry for |key|.
std::optional<artifact::Manifest> cachedEntry(const fs::path &dir,
                                              const std::string &key) {
  absl::StatusOr<artifact::Manifest> m = artifact::loadManifest(dir.string());
  if (m.ok() && m->modelKey == key)
    return std::move(*m);
  return std::nullopt;
}
#endif
} // namespace

std::string cacheRoot() {
  if (const char *dir = std::getenv("INFIR2_CACHE_DIR"); dir && *dir)
    return dir;
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return absl::StrCat(xdg, "/infir2");
  if (const char *home = std::getenv("HOME"); home && *home)
    return absl::StrCat(home, "/.cache/infir2");
  return "/tmp/infir2-cache";
}

absl::StatusOr<ResolvedArtifact>
resolveArtifact(const ArtifactRequest &request) {
  ResolvedArtifact out;
  if (!request.artifactDir.empty()) {
    absl::StatusOr<artifact::Manifest> m =
        artifact::loadManifest(request.artifactDir);
    if (!m.ok())
      return m.status();
    if (request.gradients && !m->entryPoint("forward_grad"))
      return absl::InvalidArgumentError(absl::StrCat(
          "the artifact ", request.artifactDir,
          " has no gradient entry point forward_grad; compile it with "
          "'infir2c --model ",
          request.modelDir, " --emit artifact --gradients --precision ",
          request.precision, " -o ART'"));
    if (m->precision != request.precision)
      return absl::InvalidArgumentError(absl::StrCat(
          "the artifact ", request.artifactDir, " was compiled for precision ",
          m->precision, ", not ", request.precision, "; pass --precision ",
          m->precision, " or recompile"));
    if (m->modelFamily == "qwen2") {
      absl::StatusOr<Qwen2Config> config = loadQwen2Config(request.modelDir);
      if (!config.ok())
        return config.status();
      if (config->canonical() != m->modelConfig)
        return absl::InvalidArgumentError(absl::StrCat(
            "the artifact ", request.artifactDir,
            " was compiled for another config.json:\n  artifact: ",
            m->modelConfig, "\n  model:    ", config->canonical(),
            "\nrecompile it: infir2c --model ", request.modelDir,
            " --emit artifact --precision ", request.precision, " -o ART"));
    }
    out.dir = request.artifactDir;
    out.manifest = std::move(*m);
    return out;
  }
#ifdef INFIR2_RUNNER_HAS_COMPILER
  absl::StatusOr<Precision> precision = parsePrecision(request.precision);
  if (!precision.ok())
    return precision.status();
  CompileOptions options;
  options.modelDir = request.modelDir;
  options.precision = *precision;
  options.target = "cpu";
  options.withGradients = request.gradients;
  options.withLogits = !request.gradients;
  options.fusion = request.fusion;
  options.withOptimizer = request.gradients && request.optimizer;
  absl::StatusOr<std::string> key = artifactKey(options);
  if (!key.ok())
    return key.status();
  out.key = *key;
  const fs::path entries = fs::path(cacheRoot()) / "artifacts";
  const fs::path entry = entries / *key;
  out.dir = entry.string();
  // A cache entry is reused only when it parses and carries the same key;
  // anything else (a partial copy, an older schema) is compiled over.
  if (std::optional<artifact::Manifest> m = cachedEntry(entry, *key)) {
    out.manifest = std::move(*m);
    return out;
  }
  std::error_code ec;
  fs::create_directories(entries, ec);
  if (ec)
    return absl::InternalError(
        absl::StrCat("cannot create the artifact cache ", entries.string(),
                     ": ", ec.message(), "; set INFIR2_CACHE_DIR"));
  // Compile into a private directory, then rename it into place: another
  // process compiling the same key at the same time either finds our entry
  // or we find its, and nobody reads a half-written one.
  const fs::path staging = entries / absl::StrCat(*key, ".jit.", ::getpid());
  auto start = std::chrono::steady_clock::now();
  if (absl::Status s = compileArtifact(options, staging.string()); !s.ok())
    return s;
  out.compileSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (fs::exists(entry, ec) && !cachedEntry(entry, *key))
    fs::remove_all(entry, ec); // a corrupt entry
  fs::rename(staging, entry, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    if (std::optional<artifact::Manifest> m = cachedEntry(entry, *key)) {
      out.manifest = std::move(*m); // another process installed it first
      return out;
    }
    return absl::InternalError(absl::StrCat(
        "cannot install the artifact ", entry.string(), ": ", ec.message()));
  }
  std::optional<artifact::Manifest> m = cachedEntry(entry, *key);
  if (!m)
    return absl::InternalError(
        absl::StrCat("the artifact just compiled into ", entry.string(),
                     " does not load; please report this"));
  out.manifest = std::move(*m);
  out.compiled = true;
  return out;
#else
  return absl::FailedPreconditionError(absl::StrCat(
      "this infir2 was built without the compiler (INFIR2_BUILD_COMPILER="
      "OFF), so it cannot compile on first use; compile the artifact with "
      "'infir2c --model DIR --emit artifact --precision P",
      request.gradients ? " --gradients" : "",
      " -o ART' and pass --artifact ART"));
#endif
}
} // namespace infir2::runner
