//===- Compile.cpp - Compile a model into an executable artifact ----------===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/Compile.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "compiler/InitAll.h"
#include "compiler/driver/ArtifactWriter.h"
#include "compiler/driver/CompilerFingerprint.h"
#include "compiler/driver/Pipeline.h"
#include "dialects/fp8/IR/Fp8Ops.h"
#include "dialects/graph/IR/GraphOps.h"
#include "dialects/kernel/IR/KernelOps.h"
#include "frontends/hf/Qwen2Config.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "models/qwen2/Qwen2Model.h"
#include "nlohmann/json.hpp"
#include "runtime/artifact/schema.h"
#include "runtime/base/build_config.h"
#include "runtime/kernels/prelude_text.h"
#if INFIR2_CUDA_ENABLED
#include "runtime/cuda/nvrtc_compiler.h"
#endif
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

/// The GPU architecture of a "cuda:<arch>" target, "" for cpu.
std::string cudaArch(const std::string &target) {
  return target.rfind("cuda:", 0) == 0 ? target.substr(5) : "";
}

absl::Status checkOptions(const CompileOptions &options) {
  const std::string arch = cudaArch(options.target);
  if (options.target != "cpu" && (arch.rfind("sm_", 0) != 0 || arch.size() < 5))
    return absl::InvalidArgumentError(absl::StrCat(
        "target '", options.target,
        "' is not cpu or cuda:<arch> with a real architecture (e.g. "
        "cuda:sm_90a)"));
  if (!arch.empty() && !fusionEnabled(options))
    return absl::InvalidArgumentError(
        "a cuda target runs generated kernels only; it needs --fusion");
  return absl::OkStatus();
}

/// NVRTC's compilation of a translation unit of generated kernels for
/// |arch|: the cubin and each kernel's resources.
absl::StatusOr<std::string> compileForGpu(const std::string &tu,
                                          const std::string &arch,
                                          mlir::infir2::KernelTable &table) {
#if INFIR2_CUDA_ENABLED
  cuda::NvrtcOptions o;
  o.arch = arch;
  o.fmad = false;
  o.resourceUsage = true;
  o.headers.push_back({kernels::kPreludeName, kernels::preludeText()});
  absl::StatusOr<cuda::NvrtcResult> r =
      cuda::compileToCubin(tu, "kernels.cu", o);
  if (!r.ok())
    return r.status();
  for (const auto &[name, u] : r->usage)
    table.resources[name].push_back({arch, u.registers, u.stackBytes,
                                     u.spillStores, u.spillLoads,
                                     u.staticSmem});
  return r->cubin;
#else
  (void)tu;
  (void)table;
  return absl::FailedPreconditionError(absl::StrCat(
      "target cuda:", arch,
      " needs NVRTC; this infir2c was built without the CUDA Toolkit"));
#endif
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
  mlir::Type elem = options.precision == Precision::kFp32 ||
                            options.precision == Precision::kFp8Fp32
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

/// The generated kernels of |module|, with the code generator's
/// diagnostics in the error.
absl::StatusOr<mlir::infir2::KernelTable> kernelsOf(mlir::MLIRContext &ctx,
                                                    mlir::ModuleOp module) {
  mlir::infir2::KernelTable table;
  absl::Status s = withDiagnostics(ctx, "generating the kernels", [&] {
    mlir::FailureOr<mlir::infir2::KernelTable> t =
        mlir::infir2::generateKernels(module);
    if (mlir::failed(t))
      return mlir::failure();
    table = std::move(*t);
    return mlir::success();
  });
  if (!s.ok())
    return s;
  return table;
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

bool fusionEnabled(const CompileOptions &options) {
  return options.fusion.value_or(options.target != "cpu");
}

const char *precisionName(Precision precision) {
  switch (precision) {
  case Precision::kFp32:
    return "fp32";
  case Precision::kBf16:
    return "bf16";
  case Precision::kFp8:
    return "fp8";
  case Precision::kFp8Fp32:
    return "fp8-fp32";
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
  if (name == "fp8-fp32")
    return Precision::kFp8Fp32;
  return absl::InvalidArgumentError(absl::StrCat(
      "precision '", name, "' is not fp32, bf16 or fp8 (or fp8-fp32)"));
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
      "|gradients=", options.withGradients ? 1 : 0,
      "|fusion=", fusionEnabled(options) ? 1 : 0,
      "|optimizer=", options.withOptimizer ? 1 : 0, "|infir2=", INFIR2_VERSION,
      "|compiler=", INFIR2_COMPILER_FINGERPRINT,
      "|schema=", artifact::kSchemaVersion);
  return absl::StrFormat("%016x", fnv1a64(text));
}

namespace {
/// The model's graph, verified.
absl::StatusOr<std::unique_ptr<Built>>
buildVerified(const CompileOptions &options) {
  absl::StatusOr<std::unique_ptr<Built>> built = build(options);
  if (!built.ok())
    return built.status();
  mlir::ModuleOp module = *(*built)->module;
  if (absl::Status s = withDiagnostics((*built)->context, "verifying the graph",
                                       [&] { return mlir::verify(module); });
      !s.ok())
    return s;
  return built;
}

/// Builds the model and runs the pipeline up to |stop|.
absl::StatusOr<std::unique_ptr<Built>>
buildAndRun(const CompileOptions &options, mlir::infir2::PipelineStop stop) {
  absl::StatusOr<std::unique_ptr<Built>> built = buildVerified(options);
  if (!built.ok())
    return built.status();
  mlir::ModuleOp module = *(*built)->module;
  mlir::PassManager pm(&(*built)->context);
  mlir::infir2::buildArtifactPipeline(
      pm, options.withGradients, usesFp8(options.precision), stop,
      fusionEnabled(options), options.withGradients && options.withOptimizer);
  if (options.usePassManagerCLOptions &&
      mlir::failed(mlir::applyPassManagerCLOptions(pm)))
    return absl::InvalidArgumentError("bad pass manager options");
  if (absl::Status s =
          withDiagnostics((*built)->context, "the compiler pipeline",
                          [&] { return pm.run(module); });
      !s.ok())
    return s;
  return built;
}

std::string dimText(int64_t d) {
  return mlir::ShapedType::isDynamic(d) ? "T" : std::to_string(d);
}

std::string typeText(mlir::Type t) {
  if (llvm::isa<mlir::Float8E4M3FNType>(t))
    return "e4m3";
  if (llvm::isa<mlir::Float8E5M2Type>(t))
    return "e5m2";
  std::string s;
  llvm::raw_string_ostream os(s);
  t.print(os);
  return s;
}

std::string locName(mlir::Operation *op) {
  if (auto name = llvm::dyn_cast<mlir::NameLoc>(op->getLoc()))
    return name.getName().str();
  return "";
}
} // namespace

absl::StatusOr<std::string> emitGraph(const CompileOptions &options) {
  absl::StatusOr<std::unique_ptr<Built>> built = buildVerified(options);
  if (!built.ok())
    return built.status();
  return print(*(*built)->module);
}

absl::StatusOr<std::string> emitStage(const CompileOptions &options,
                                      const std::string &stage) {
  if (stage == "graph")
    return emitGraph(options);
  using mlir::infir2::PipelineStop;
  PipelineStop stop;
  CompileOptions o = options;
  if (stage == "autodiff") {
    stop = PipelineStop::kAutodiff;
    o.withGradients = true;
    o.withLogits = false;
  } else if (stage == "fp8") {
    if (!usesFp8(options.precision))
      return absl::InvalidArgumentError(
          "--emit fp8 shows the FP8 lowering; it needs --precision fp8");
    stop = PipelineStop::kFp8;
  } else if (stage == "fused" || stage == "cuda") {
    stop = PipelineStop::kAll;
    o.fusion = true;
  } else if (stage == "artifact") {
    stop = PipelineStop::kAll;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--emit ", stage,
                     " is not one of: graph, autodiff, fp8, fused, cuda, "
                     "artifact"));
  }
  absl::StatusOr<std::unique_ptr<Built>> built = buildAndRun(o, stop);
  if (!built.ok())
    return built.status();
  if (stage == "cuda") {
    absl::StatusOr<mlir::infir2::KernelTable> table =
        kernelsOf((*built)->context, *(*built)->module);
    if (!table.ok())
      return table.status();
    return mlir::infir2::codegen::kernelsTranslationUnit(table->kernels);
  }
  return print(*(*built)->module);
}

absl::StatusOr<std::string> gemmReport(const CompileOptions &options) {
  absl::StatusOr<std::unique_ptr<Built>> built =
      buildAndRun(options, mlir::infir2::PipelineStop::kAll);
  if (!built.ok())
    return built.status();
  const Qwen2Config &c = (*built)->config;
  std::string out = absl::StrFormat(
      "infir2c --report: qwen2 hidden=%d layers=%d heads=%d/%d "
      "intermediate=%d vocab=%d, precision %s (T: tokens of the "
      "micro-batch)\n",
      c.hiddenSize, c.numHiddenLayers, c.numAttentionHeads, c.numKeyValueHeads,
      c.intermediateSize, c.vocabSize, precisionName(options.precision));
  (*built)->module->walk([&](mlir::func::FuncOp fn) {
    std::string rows;
    int fp8Gemms = 0, otherGemms = 0, attention = 0;
    std::map<std::string, int> byKind;
    std::string attentionType;
    fn.walk([&](mlir::Operation *op) {
      std::string kind, m, n, k, precision, lhs = "-", rhs = "-";
      if (auto mm = llvm::dyn_cast<mlir::infir2::fp8::ScaledMatmulOp>(op)) {
        auto a = llvm::cast<mlir::RankedTensorType>(mm.getLhs().getType());
        auto b = llvm::cast<mlir::RankedTensorType>(mm.getRhs().getType());
        const bool ta = mm.getTransposeLhs(), tb = mm.getTransposeRhs();
        m = dimText(a.getShape()[ta ? 1 : 0]);
        k = dimText(a.getShape()[ta ? 0 : 1]);
        n = dimText(b.getShape()[tb ? 0 : 1]);
        const bool block = mm.getRhsLayout().isBlock2D();
        kind = block ? (tb ? "forward" : "dgrad") : "wgrad";
        precision = absl::StrCat(
            "fp8 ", typeText(a.getElementType()), " x ",
            typeText(b.getElementType()), " -> ",
            typeText(llvm::cast<mlir::RankedTensorType>(mm.getType())
                         .getElementType()));
        lhs = absl::StrCat(mm.getLhsLayout().str(), ta ? " (T)" : "");
        rhs = absl::StrCat(mm.getRhsLayout().str(), tb ? " (T)" : "");
        ++fp8Gemms;
      } else if (auto lin = llvm::dyn_cast<mlir::infir2::graph::LinearOp>(op)) {
        auto x = llvm::cast<mlir::RankedTensorType>(lin.getInput().getType());
        auto w = llvm::cast<mlir::RankedTensorType>(lin.getWeight().getType());
        int64_t rows = 1;
        for (int64_t d : x.getShape().drop_back())
          rows = mlir::ShapedType::isDynamic(d) ? d : rows * d;
        m = dimText(rows);
        n = dimText(w.getShape()[0]);
        k = dimText(w.getShape()[1]);
        kind = "forward";
        precision = typeText(x.getElementType());
        ++otherGemms;
      } else if (auto mm = llvm::dyn_cast<mlir::infir2::graph::MatmulOp>(op)) {
        auto a = llvm::cast<mlir::RankedTensorType>(mm.getLhs().getType());
        auto b = llvm::cast<mlir::RankedTensorType>(mm.getRhs().getType());
        if (a.getRank() != 2)
          return;
        const bool ta = mm.getTransposeLhs(), tb = mm.getTransposeRhs();
        m = dimText(a.getShape()[ta ? 1 : 0]);
        k = dimText(a.getShape()[ta ? 0 : 1]);
        n = dimText(b.getShape()[tb ? 0 : 1]);
        kind = ta ? "wgrad" : "dgrad";
        precision = typeText(a.getElementType());
        ++otherGemms;
      } else if (auto att =
                     llvm::dyn_cast<mlir::infir2::graph::AttentionOp>(op)) {
        ++attention;
        attentionType = typeText(
            llvm::cast<mlir::RankedTensorType>(att.getQuery().getType())
                .getElementType());
        return;
      } else {
        return;
      }
      ++byKind[kind];
      absl::StrAppend(&rows, "| ", locName(op), " | ", kind, " | ", m, " x ", n,
                      " x ", k, " | ", precision, " | ", lhs, " | ", rhs,
                      " |\n");
    });
    absl::StrAppend(&out, "\n@", fn.getSymName().str(), ": ", fp8Gemms,
                    " FP8 GEMMs, ", otherGemms, " GEMMs in high precision (");
    bool first = true;
    for (auto &[kind, count] : byKind) {
      absl::StrAppend(&out, first ? "" : ", ", count, " ", kind);
      first = false;
    }
    absl::StrAppend(&out, "), ", attention, " attention cores",
                    attention ? absl::StrCat(" in ", attentionType) : "",
                    "\n| name | GEMM | M x N x K | precision | lhs tiles | "
                    "rhs tiles |\n| --- | --- | --- | --- | --- | --- |\n",
                    rows);
  });
  if (!fusionEnabled(options))
    return out;
  // The generated kernels, by function: each distinct kernel once, with
  // how often the function launches it.
  absl::StatusOr<mlir::infir2::KernelTable> generated =
      kernelsOf((*built)->context, *(*built)->module);
  if (!generated.ok())
    return generated.status();
  mlir::infir2::KernelTable &table = *generated;
  const std::string arch = cudaArch(options.target);
  if (!arch.empty()) {
    absl::StatusOr<std::string> cubin = compileForGpu(
        mlir::infir2::codegen::kernelsTranslationUnit(table.kernels), arch,
        table);
    if (!cubin.ok())
      return cubin.status();
  }
  (*built)->module->walk([&](mlir::func::FuncOp fn) {
    std::vector<size_t> order;
    std::map<size_t, int> launches;
    fn.walk([&](mlir::infir2::kernel::FusedOp op) {
      size_t k = table.byOp.lookup(op);
      if (launches[k]++ == 0)
        order.push_back(k);
    });
    int total = 0;
    for (auto &[k, n] : launches)
      total += n;
    absl::StrAppend(&out, "\n@", fn.getSymName().str(), ": ", total,
                    " kernel launches, ", order.size(), " distinct kernels",
                    arch.empty() ? "" : absl::StrCat(" (NVRTC, ", arch, ")"),
                    "\n| kernel | launches | ops fused | schedule | bytes per "
                    "token | bytes per launch | registers | stack / spill "
                    "bytes |\n| --- | --- | --- | --- | --- | --- | --- | --- "
                    "|\n");
    for (size_t k : order) {
      const mlir::infir2::codegen::GeneratedKernel &g = table.kernels[k];
      std::string regs = "-", spills = "-";
      if (auto it = table.resources.find(g.name);
          it != table.resources.end() && !it->second.empty()) {
        const mlir::infir2::KernelResources &r = it->second.front();
        regs = std::to_string(r.registers);
        spills =
            absl::StrCat(r.stackBytes, " / ", r.spillStores, "+", r.spillLoads);
      }
      std::string ops;
      for (const std::string &o : g.ops)
        absl::StrAppend(&ops, ops.empty() ? "" : " ",
                        o.substr(o.find('.') + 1));
      absl::StrAppend(&out, "| ", g.name, " | ", launches[k], " | ", ops, " | ",
                      mlir::infir2::kernel::stringifySchedule(g.schedule).str(),
                      " | ", g.bytesPerRow, " | ", g.staticBytes, " | ", regs,
                      " | ", spills, " |\n");
    }
  });
  return out;
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
  mlir::infir2::buildArtifactPipeline(
      pm, options.withGradients, usesFp8(options.precision),
      mlir::infir2::PipelineStop::kAll, fusionEnabled(options),
      options.withGradients && options.withOptimizer);
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

  // The generated kernels: kernels/kernels.cu, and for a GPU target the
  // cubin NVRTC makes of it with each kernel's resources.
  absl::StatusOr<mlir::infir2::KernelTable> generated =
      kernelsOf(built.context, module);
  if (!generated.ok())
    return fail(generated.status());
  mlir::infir2::KernelTable &table = *generated;
  if (!table.kernels.empty()) {
    const std::string tu =
        mlir::infir2::codegen::kernelsTranslationUnit(table.kernels);
    fs::create_directories(tmp / "kernels", ec);
    if (absl::Status s = writeFile(tmp / "kernels" / "kernels.cu", tu); !s.ok())
      return fail(s);
    if (const std::string arch = cudaArch(options.target); !arch.empty()) {
      absl::StatusOr<std::string> cubin = compileForGpu(tu, arch, table);
      if (!cubin.ok())
        return fail(cubin.status());
      std::ofstream bin(tmp / "kernels" / (arch + ".cubin"), std::ios::binary);
      bin.write(cubin->data(), static_cast<std::streamsize>(cubin->size()));
      bin.close();
      if (!bin)
        return fail(absl::InternalError(
            absl::StrCat("cannot write the cubin into ", tmp.string())));
    }
  }
  mlir::infir2::ArtifactInfo info{options.target,
                                  precisionName(options.precision), "qwen2",
                                  built.config.canonical(), *key};
  std::string manifest;
  if (absl::Status s = withDiagnostics(
          built.context, "writing the artifact manifest",
          [&] {
            return mlir::infir2::writeManifest(module, info, table, manifest);
          });
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
