//===- gradients.h - Run a model's gradient entry point ---------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// The gradient entry point `forward_grad` (graph-autodiff, compiled with
// gradients) returns the summed masked token NLL `loss`, `token_count` and
// `grad.<param>` (f32, the parameter's shape) for every parameter. This
// runs it and checks that every output is what the artifact promises.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_LM_GRADIENTS_H_
#define INFIR2_RUNTIME_LM_GRADIENTS_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "runtime/cpu/executor.h"
#include "runtime/lm/logits.h"

namespace infir2::lm {
/// The Qwen2 entry-point inputs of a packed batch.
std::map<std::string, cpu::Tensor> batchInputs(const PackedBatch &batch);

struct GradientResult {
  double nllSum = 0;     ///< the masked token-NLL sum
  double tokenCount = 0; ///< trained tokens
  /// d nllSum / d param, f32, keyed by the parameter's HF name.
  std::map<std::string, cpu::Tensor> grads;
};

/// Runs |program| (entry point forward_grad) on |inputs|.
absl::StatusOr<GradientResult>
runGradients(const cpu::Program &program,
             const std::map<std::string, cpu::Tensor> &inputs,
             cpu::RunProfile *profile = nullptr);
} // namespace infir2::lm

#endif // INFIR2_RUNTIME_LM_GRADIENTS_H_
