//===- jit.cc - Find or compile the artifact a command runs ---------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here
// (compiler/driver/Compile.h is plain C++).
//
//===----------------------------------------------------------------------===//

#include "tools/infir2/jit.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "runtime/artifact/manifest.h"

#ifdef INFIR2_RUNNER_HAS_COMPILER
#include "compiler/driver/Compile.h"
#endif

namespace infir2::runner {
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
    if (m->precision != request.precision)
      return absl::InvalidArgumentError(absl::StrCat(
          "the artifact ", request.artifactDir, " was compiled for precision ",
          m->precision, ", not ", request.precision, "; pass --precision ",
          m->precision, " or recompile"));
    out.dir = request.artifactDir;
    return out;
  }
#ifdef INFIR2_RUNNER_HAS_COMPILER
  absl::StatusOr<Precision> precision = parsePrecision(request.precision);
  if (!precision.ok())
    return precision.status();
  CompileOptions options{request.modelDir, *precision, "cpu"};
  absl::StatusOr<std::string> key = artifactKey(options);
  if (!key.ok())
    return key.status();
  out.key = *key;
  out.dir = absl::StrCat(cacheRoot(), "/artifacts/", *key);
  // A cache entry is reused only when it parses and carries the same key;
  // anything else (a partial copy, an older schema) is compiled over.
  absl::StatusOr<artifact::Manifest> cached = artifact::loadManifest(out.dir);
  if (cached.ok() && cached->modelKey == *key)
    return out;
  std::error_code ec;
  std::filesystem::create_directories(absl::StrCat(cacheRoot(), "/artifacts"),
                                      ec);
  if (ec)
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create the artifact cache under ", cacheRoot(),
                     ": ", ec.message(), "; set INFIR2_CACHE_DIR"));
  auto start = std::chrono::steady_clock::now();
  if (absl::Status s = compileArtifact(options, out.dir); !s.ok())
    return s;
  out.compiled = true;
  out.compileSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return out;
#else
  return absl::FailedPreconditionError(
      "this infir2 was built without the compiler (INFIR2_BUILD_COMPILER="
      "OFF), so it cannot compile on first use; compile the artifact with "
      "'infir2c --model DIR --emit artifact --precision P -o ART' and pass "
      "--artifact ART");
#endif
}
} // namespace infir2::runner
