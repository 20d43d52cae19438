//===- optimizer.h - AdamW with FP32 master weights -------------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// The optimizer of every training recipe (recipe.md §3–§5): AdamW with
// decoupled weight decay, FP32 master weights and FP32 moments, after a
// global-L2-norm gradient clip. The update is torch.optim.AdamW's (and
// Megatron's fused Adam's, which is the same arithmetic):
//
//   p <- p * (1 - lr * wd)                      (decay groups only)
//   m <- m + (1 - b1) * (g - m)
//   v <- v * b2 + (1 - b2) * g * g
//   p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
//
// in f32 with the scalars formed in double, as PyTorch does. Parameters
// that are 1-D (norm weights) or biases get no weight decay (Megatron's
// default parameter groups).
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_TRAIN_OPTIMIZER_H_
#define INFIR2_RUNTIME_TRAIN_OPTIMIZER_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/cpu/tensor.h"

namespace infir2::train {
struct AdamWConfig {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weightDecay = 0.0;
  /// Global L2 norm the gradients are clipped to; 0 disables clipping.
  double clipGrad = 1.0;
};

/// Whether Megatron decays parameter |name| of |rank|: not biases, not 1-D.
bool decays(const std::string &name, int64_t rank);

struct StepStats {
  double gradNorm = 0;  ///< global L2 norm before clipping
  double clipScale = 1; ///< factor applied to the gradients (<= 1)
  bool finite = true;   ///< false: a gradient was NaN/inf; nothing changed
  /// false: the update made a master weight NaN/inf (a too large lr).
  bool weightsFinite = true;
};

/// One parameter's optimizer state, as AdamWKernels::update sees it.
struct AdamWState {
  cpu::Tensor *master = nullptr, *expAvg = nullptr, *expAvgSq = nullptr;
};

/// The per-element part of AdamW::step done elsewhere: by the generated
/// kernels of a training artifact's `grad_norm` and `optimizer_step` entry
/// points (graph-adamw). The scalars (norm, clip, bias corrections) stay in
/// AdamW::step; the kernels get them as graph.adamw's 8 f32 values:
/// clip, decay, 1 - beta1, beta2, 1 - beta2, sqrt(1 - beta2^t), eps,
/// lr / (1 - beta1^t).
class AdamWKernels {
public:
  virtual ~AdamWKernels() = default;
  /// The sum of the squares of every gradient element.
  virtual absl::StatusOr<double>
  sumOfSquares(const std::map<std::string, cpu::Tensor> &grads) = 0;
  /// Replaces every parameter's state by its update, with |decay| for the
  /// parameters that decay and |noDecay| for the others.
  virtual absl::Status update(const std::array<float, 8> &decay,
                              const std::array<float, 8> &noDecay,
                              const std::map<std::string, cpu::Tensor> &grads,
                              std::map<std::string, AdamWState> &state) = 0;
};

class AdamW {
public:
  explicit AdamW(AdamWConfig config) : config_(config) {}

  /// Adds a parameter with its initial value (any float dtype; kept in f32).
  absl::Status addParameter(const std::string &name, const cpu::Tensor &value);

  /// One update with learning rate |lr|. |grads| holds an f32 gradient of
  /// every parameter's shape (scaled in place by the clip, unless
  /// |kernels| do the update). With a non-finite gradient norm nothing is
  /// updated and stats.finite is false. With |kernels|, they compute the
  /// norm's sum and the per-element update with the same arithmetic.
  absl::StatusOr<StepStats> step(std::map<std::string, cpu::Tensor> &grads,
                                 double lr, AdamWKernels *kernels = nullptr);

  /// The global L2 norm of |grads| (f64 accumulation over a fixed order).
  static double globalNorm(const std::map<std::string, cpu::Tensor> &grads);

  const AdamWConfig &config() const { return config_; }
  int64_t steps() const { return steps_; }
  /// Parameter names in the order they were added.
  const std::vector<std::string> &names() const { return names_; }
  /// FP32 master weights, first and second moments, by name.
  const cpu::Tensor &master(const std::string &name) const;
  const cpu::Tensor &expAvg(const std::string &name) const;
  const cpu::Tensor &expAvgSq(const std::string &name) const;

  /// Restores a saved state: step count and, for every parameter, its
  /// master weight and moments (f32, the parameter's shape).
  absl::Status restore(int64_t steps,
                       const std::map<std::string, cpu::Tensor> &master,
                       const std::map<std::string, cpu::Tensor> &expAvg,
                       const std::map<std::string, cpu::Tensor> &expAvgSq);

private:
  struct Slot {
    cpu::Tensor master, expAvg, expAvgSq;
    bool decay = true;
  };
  AdamWConfig config_;
  int64_t steps_ = 0;
  std::vector<std::string> names_;
  std::map<std::string, Slot> slots_;
};
} // namespace infir2::train

#endif // INFIR2_RUNTIME_TRAIN_OPTIMIZER_H_
