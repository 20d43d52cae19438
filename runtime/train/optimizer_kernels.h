//===- optimizer_kernels.h - AdamW on an artifact's kernels -----*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// AdamWKernels backed by a training artifact's `grad_norm` and
// `optimizer_step` entry points (the compiler's graph-adamw pass), which
// compile into generated kernels like the model: the update of AdamW::step,
// operation for operation.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_TRAIN_OPTIMIZER_KERNELS_H_
#define INFIR2_RUNTIME_TRAIN_OPTIMIZER_KERNELS_H_

#include <map>
#include <memory>
#include <string>

#include "runtime/cpu/executor.h"
#include "runtime/train/optimizer.h"

namespace infir2::train {
class ArtifactAdamW : public AdamWKernels {
public:
  /// |norm| and |step| are the artifact's grad_norm and optimizer_step.
  ArtifactAdamW(std::unique_ptr<cpu::Program> norm,
                std::unique_ptr<cpu::Program> step)
      : norm_(std::move(norm)), step_(std::move(step)) {}

  /// Both entry points of |manifest|, or an error naming the missing one.
  static absl::StatusOr<std::unique_ptr<ArtifactAdamW>>
  create(const artifact::Manifest &manifest);

  absl::StatusOr<double>
  sumOfSquares(const std::map<std::string, cpu::Tensor> &grads) override;
  absl::Status update(const std::array<float, 8> &decay,
                      const std::array<float, 8> &noDecay,
                      const std::map<std::string, cpu::Tensor> &grads,
                      std::map<std::string, AdamWState> &state) override;

  /// The model-type copies of the last update's masters, by parameter
  /// (empty for an f32 model).
  const std::map<std::string, cpu::Tensor> &copies() const { return copies_; }

private:
  std::unique_ptr<cpu::Program> norm_, step_;
  std::map<std::string, cpu::Tensor> copies_;
};
} // namespace infir2::train

#endif // INFIR2_RUNTIME_TRAIN_OPTIMIZER_KERNELS_H_
