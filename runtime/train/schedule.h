//===- schedule.h - Learning-rate schedules ---------------------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// Megatron's OptimizerParamScheduler (recipe.md §3, §4.1, §5), counted in
// optimizer steps: the update of step n (0-based) uses lr(n), so with a
// warmup the first update has lr 0, as in Megatron and slime.
//
//   n <= W (W > 0):    init + (max - init) * n / W
//   constant:          max
//   n > D:             min
//   cosine:            min + (max - min) * 0.5 * (1 + cos(pi * (n - W) / (D -
//   W))) linear:            min + (max - min) * (1 - (n - W) / (D - W)) wsd:
//   max until D - Dw, then min + (max - min) * f(r) with
//                      r = (n - (D - Dw)) / Dw and f the decay style:
//                      cosine 0.5 (1 + cos(pi r)), linear 1 - r,
//                      exponential 2 * 0.5^r - 1, minus_sqrt 1 - sqrt(r)
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_TRAIN_SCHEDULE_H_
#define INFIR2_RUNTIME_TRAIN_SCHEDULE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace infir2::train {
enum class LrStyle { kConstant, kLinear, kCosine, kWsd };
enum class WsdDecayStyle { kCosine, kLinear, kExponential, kMinusSqrt };

struct LrSchedule {
  LrStyle style = LrStyle::kCosine;
  double initLr = 0.0; ///< where the warmup starts
  double maxLr = 1e-5;
  double minLr = 0.0;
  /// W; may be fractional (Megatron's warmup fraction x decay steps).
  double warmupSteps = 0;
  int64_t decaySteps = 1; ///< D: the step the decay ends at
  int64_t wsdDecaySteps = 0;
  WsdDecayStyle wsdStyle = WsdDecayStyle::kCosine;

  /// Checks Megatron's constraints (min <= max, init <= max, W < D, ...).
  absl::Status validate() const;
  /// The learning rate of optimizer step |n| (0-based).
  double lr(int64_t n) const;
};

absl::StatusOr<LrStyle> parseLrStyle(const std::string &name);
absl::StatusOr<WsdDecayStyle> parseWsdDecayStyle(const std::string &name);
const char *lrStyleName(LrStyle style);
const char *wsdDecayStyleName(WsdDecayStyle style);
} // namespace infir2::train

#endif // INFIR2_RUNTIME_TRAIN_SCHEDULE_H_
