//===- Compile.h - Compile a model into an executable artifact --*- C++ -*-===//
//
// Part of infir2.
//
// The compiler's plain C++ interface: no MLIR type appears here, so the
// `infir2` runner (a runtime-half program) can call it to compile on first
// use when it is built with the compiler.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_COMPILER_COMPILE_H
#define INFIR2_COMPILER_COMPILE_H

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace infir2 {
/// What the compiled artifact computes in.
enum class Precision {
  kFp32, ///< everything f32 (for exact comparison with references)
  kBf16, ///< bf16 parameters and activations, f32 statistics and logits
  /// kBf16 with InfiR2's FP8 recipe on the decoder layers' linears
  /// (fp8-annotate, then fp8-lower after graph-autodiff).
  kFp8,
  /// kFp32 with the same FP8 GEMMs: the FP8 arithmetic without BF16
  /// roundings around it, for comparison with a float64 reference.
  kFp8Fp32,
};

struct CompileOptions;
/// Whether the compilation generates fused kernels (CompileOptions::fusion
/// resolved for the target).
bool fusionEnabled(const CompileOptions &options);

/// Whether |precision| puts the FP8 recipe on the decoder linears.
inline bool usesFp8(Precision precision) {
  return precision == Precision::kFp8 || precision == Precision::kFp8Fp32;
}

const char *precisionName(Precision precision);
/// Parses "fp32" / "bf16" / "fp8" / "fp8-fp32".
absl::StatusOr<Precision> parsePrecision(const std::string &name);

struct CompileOptions {
  /// A Hugging Face model directory (config.json; the weights are bound at
  /// run time, not compiled in).
  std::string modelDir;
  Precision precision = Precision::kFp32;
  /// Execution target: "cpu", or "cuda:<arch>" (e.g. cuda:sm_90a), whose
  /// kernels NVRTC compiles to a cubin when the artifact is written.
  std::string target = "cpu";
  /// Group everything but the library ops (GEMMs, attention, embedding)
  /// into generated kernels (kernel-fuse + the CUDA C++ code generator);
  /// off: one runtime op per graph op (the CPU backend's reference
  /// kernels). Unset: on for GPU targets, which need it, off for the CPU,
  /// where the hand-vectorized reference kernels are faster than the
  /// generated code compiled for the host (docs/codegen.md).
  std::optional<bool> fusion;
  /// Whether the forward entry point returns the logits [T, V] besides the
  /// loss (training does not need them).
  bool withLogits = true;
  /// Adds the entry point `forward_grad` (graph-autodiff): the loss
  /// `nll_sum`, `token_count` and `grad.<param>` (f32) for every parameter.
  /// Training artifacts set it and clear withLogits.
  bool withGradients = false;
  /// With withGradients: adds the entry points `grad_norm` and
  /// `optimizer_step` (graph-adamw), the AdamW update as kernels.
  bool withOptimizer = false;
  /// Apply MLIR's pass-manager command-line options (--mlir-print-ir-*,
  /// --mlir-timing, ...); only for tools that registered them.
  bool usePassManagerCLOptions = false;
};

/// The artifact cache key: a hex digest of the model configuration, the
/// options, the compiler version and the artifact schema version.
absl::StatusOr<std::string> artifactKey(const CompileOptions &options);

/// Compiles into |outDir|: manifest.json (docs/artifact.md) and ir/*.mlir,
/// one dump per compiler stage. The directory is assembled under a
/// temporary name and renamed into place, so a crash never leaves half an
/// artifact; an existing |outDir| is replaced.
absl::Status compileArtifact(const CompileOptions &options,
                             const std::string &outDir);

/// The model's forward graph in the graph dialect, as text.
absl::StatusOr<std::string> emitGraph(const CompileOptions &options);

/// The IR after a stage of the pipeline, as text: "graph" (the model, as
/// emitGraph), "autodiff" (after fp8-annotate and graph-autodiff: the
/// gradient function added), "fp8" (after fp8-lower; needs --precision
/// fp8), "fused" (after kernel-fuse), "artifact" (the whole pipeline, as the
/// artifact's ir/01-pipeline.mlir) or "cuda" (the generated kernels'
/// CUDA C++, as the artifact's kernels/kernels.cu).
absl::StatusOr<std::string> emitStage(const CompileOptions &options,
                                      const std::string &stage);

/// A table of every GEMM of the compiled functions (name, forward / dgrad /
/// wgrad, M x N x K, precision, operand layouts) and the ops that stay in
/// high precision around them; with fusion, a table of every generated
/// kernel (ops fused, bytes moved per token and per launch, and for a cuda
/// target the registers, stack and spills NVRTC reports).
absl::StatusOr<std::string> gemmReport(const CompileOptions &options);
} // namespace infir2

#endif // INFIR2_COMPILER_COMPILE_H
