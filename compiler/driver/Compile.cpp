//===- Compile.cpp - Compile a model into an executable artifact ----------===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/Compile.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "compiler/InitAll.h"
#include "compiler/driver/ArtifactWriter.h"
#include "compiler/driver/CompilerFingerprint.h"
#include "compiler/driver/Pipeline.h"
#include "frontends/hf/Qwen2Config.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "models/qwen2/Qwen2Model.h"
#include "nlohmann/json.hpp"
#include "runtime/artifact/schema.h"
#include "llvm/Support/raw_ostream.h"

namespace infir2 {
namespace {
namespace fs = std::filesystem;

uint64_t fnv1a64(const std::string &s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : s)
    h = (h ^ c) * 0x100000001B3ull;
  return h;
}

absl::Status checkOptions(const CompileOptions &options) {
  if (options.target != "cpu")
    return absl::InvalidArgumentError(
        absl::StrCat("target '", options.target,
                     "' is not supported yet; the targets are: cpu"));
  return absl::OkStatus();
}

/// A module holding the model's forward function, with the MLIR diagnostics
/// it produced on the way.
struct Built {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::string diagnostics;
  Qwen2Config config;
};

absl::StatusOr<std::unique_ptr<Built>> build(const CompileOptions &options) {
  if (absl::Status s = checkOptions(options); !s.ok())
    return s;
  absl::StatusOr<Qwen2Config> config = loadQwen2Config(options.modelDir);
  if (!config.ok())
    return config.status();
  auto built = std::make_unique<Built>();
  built->config = *config;
  mlir::DialectRegistry registry;
  mlir::infir2::registerAllDialects(registry);
  built->context.appendDialectRegistry(registry);
  built->context.loadAllAvailableDialects();
  mlir::OpBuilder b(&built->context);
  mlir::Location loc = mlir::FileLineColLoc::get(
      &built->context, options.modelDir + "/config.json", 1, 1);
  built->module = mlir::ModuleOp::create(b, loc);
  b.setInsertionPointToStart(built->module->getBody());
  mlir::Type elem = options.precision == Precision::kFp32
                        ? mlir::Type(b.getF32Type())
                        : mlir::Type(b.getBF16Type());
  mlir::infir2::buildQwen2Forward(b, loc, *config, elem, "forward",
                                  options.withLogits);
  return built;
}

/// Runs |fn| with MLIR diagnostics collected; their text joins the error.
template <typename Fn>
absl::Status withDiagnostics(mlir::MLIRContext &ctx, const std::string &what,
                             Fn fn) {
  std::string messages;
  mlir::ScopedDiagnosticHandler handler(&ctx, [&](mlir::Diagnostic &d) {
    llvm::raw_string_ostream os(messages);
    os << "\n  " << d.getLocation() << ": " << d;
    return mlir::success();
  });
  if (mlir::succeeded(fn()))
    return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, " failed", messages));
}

std::string print(mlir::ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os);
  return text;
}

absl::Status writeFile(const fs::path &path, const std::string &text) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out)
    return absl::InternalError(absl::StrCat("cannot write ", path.string()));
  return absl::OkStatus();
}
/// The artifact directory |outDir| names, without a trailing separator. It
/// may not exist yet, be empty, or hold an earlier artifact (which is
/// replaced); anything else is refused, so `-o .` or `-o <model dir>`
/// cannot delete a user's files.
absl::StatusOr<fs::path> checkOutputDir(const std::string &outDir) {
  fs::path out = fs::path(outDir).lexically_normal();
  if (!out.has_filename())
    out = out.parent_path();
  if (out.empty() || out.filename() == "." || out.filename() == ".." ||
      out == out.root_path())
    return absl::InvalidArgumentError(
        absl::StrCat("'", outDir,
                     "' is not a directory name for an artifact; name a new "
                     "directory, e.g. -o model.art"));
  std::error_code ec;
  if (!fs::exists(out, ec))
    return out;
  if (!fs::is_directory(out, ec))
    return absl::InvalidArgumentError(absl::StrCat(
        out.string(), " exists and is not a directory; choose another -o"));
  if (fs::is_empty(out, ec))
    return out;
  std::ifstream in(out / "manifest.json");
  std::stringstream text;
  if (in)
    text << in.rdbuf();
  nlohmann::json manifest =
      nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!manifest.is_object() || !manifest.contains("schema") ||
      manifest["schema"] != artifact::kSchemaName)
    return absl::InvalidArgumentError(absl::StrCat(
        out.string(),
        " exists and is not an infir2 artifact (no manifest.json with schema "
        "\"",
        artifact::kSchemaName,
        "\"); refusing to replace it: choose another -o or remove it"));
  return out;
}
} // namespace

const char *precisionName(Precision precision) {
  switch (precision) {
  case Precision::kFp32:
    return "fp32";
  case Precision::kBf16:
    return "bf16";
  case Precision::kFp8:
    return "fp8";
  }
  return "?";
}

absl::StatusOr<Precision> parsePrecision(const std::string &name) {
  if (name == "fp32")
    return Precision::kFp32;
  if (name == "bf16")
    return Precision::kBf16;
  if (name == "fp8")
    return Precision::kFp8;
  return absl::InvalidArgumentError(
      absl::StrCat("precision '", name, "' is not fp32, bf16 or fp8"));
}

absl::StatusOr<std::string> artifactKey(const CompileOptions &options) {
  if (absl::Status s = checkOptions(options); !s.ok())
    return s;
  absl::StatusOr<Qwen2Config> config = loadQwen2Config(options.modelDir);
  if (!config.ok())
    return config.status();
  std::string text = absl::StrCat(
      config->canonical(), "|precision=", precisionName(options.precision),
      "|target=", options.target, "|logits=", options.withLogits ? 1 : 0,
      "|gradients=", options.withGradients ? 1 : 0, "|infir2=", INFIR2_VERSION,
      "|compiler=", INFIR2_COMPILER_FINGERPRINT,
      "|schema=", artifact::kSchemaVersion);
  return absl::StrFormat("%016x", fnv1a64(text));
}

absl::StatusOr<std::string> emitGraph(const CompileOptions &options) {
  absl::StatusOr<std::unique_ptr<Built>> built = build(options);
  if (!built.ok())
    return built.status();
  mlir::ModuleOp module = *(*built)->module;
  if (absl::Status s = withDiagnostics((*built)->context, "verifying the graph",
                                       [&] { return mlir::verify(module); });
      !s.ok())
    return s;
  return print(module);
}

absl::Status compileArtifact(const CompileOptions &options,
                             const std::string &outDir) {
  absl::StatusOr<std::string> key = artifactKey(options);
  if (!key.ok())
    return key.status();
  absl::StatusOr<std::unique_ptr<Built>> builtOr = build(options);
  if (!builtOr.ok())
    return builtOr.status();
  Built &built = **builtOr;
  mlir::ModuleOp module = *built.module;

  absl::StatusOr<fs::path> outOr = checkOutputDir(outDir);
  if (!outOr.ok())
    return outOr.status();
  const fs::path out = *outOr;
  const std::string pid = std::to_string(getpid());
  const fs::path tmp =
      out.parent_path() / (out.filename().string() + ".tmp." + pid);
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp / "ir", ec);
  if (ec)
    return absl::InternalError(
        absl::StrCat("cannot create ", tmp.string(), ": ", ec.message()));
  auto fail = [&](absl::Status s) {
    fs::remove_all(tmp, ec);
    return s;
  };

  if (absl::Status s = withDiagnostics(built.context, "verifying the graph",
                                       [&] { return mlir::verify(module); });
      !s.ok())
    return fail(s);
  if (absl::Status s = writeFile(tmp / "ir" / "00-graph.mlir", print(module));
      !s.ok())
    return fail(s);

  mlir::PassManager pm(&built.context);
  mlir::infir2::buildArtifactPipeline(pm, options.withGradients,
                                      options.precision == Precision::kFp8);
  // --mlir-print-ir-after-all and friends, when the tool registered them.
  if (options.usePassManagerCLOptions &&
      mlir::failed(mlir::applyPassManagerCLOptions(pm)))
    return fail(absl::InvalidArgumentError("bad pass manager options"));
  if (absl::Status s = withDiagnostics(built.context, "the compiler pipeline",
                                       [&] { return pm.run(module); });
      !s.ok())
    return fail(s);
  if (absl::Status s =
          writeFile(tmp / "ir" / "01-pipeline.mlir", print(module));
      !s.ok())
    return fail(s);

  mlir::infir2::ArtifactInfo info{options.target,
                                  precisionName(options.precision), "qwen2",
                                  built.config.canonical(), *key};
  std::string manifest;
  if (absl::Status s = withDiagnostics(
          built.context, "writing the artifact manifest",
          [&] { return mlir::infir2::writeManifest(module, info, manifest); });
      !s.ok())
    return fail(s);
  if (absl::Status s = writeFile(tmp / "manifest.json", manifest); !s.ok())
    return fail(s);

  // Swap: the old artifact moves aside, the new one moves in, the old one
  // goes; a failure in between puts the old one back.
  const fs::path old =
      out.parent_path() / (out.filename().string() + ".old." + pid);
  const bool replacing = fs::exists(out, ec);
  if (replacing) {
    fs::remove_all(old, ec);
    fs::rename(out, old, ec);
    if (ec)
      return fail(absl::InternalError(
          absl::StrCat("cannot move the previous artifact ", out.string(),
                       " aside: ", ec.message())));
  }
  fs::rename(tmp, out, ec);
  if (ec) {
    std::error_code ignored;
    if (replacing)
      fs::rename(old, out, ignored);
    return fail(
        absl::InternalError(absl::StrCat("cannot move ", tmp.string(), " to ",
                                         out.string(), ": ", ec.message())));
  }
  if (replacing)
    fs::remove_all(old, ec);
  return absl::OkStatus();
}
} // namespace infir2
