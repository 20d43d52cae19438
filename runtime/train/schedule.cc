//===- schedule.cc - Learning-rate schedules ------------------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/train/schedule.h"

#include <cmath>
#include <numbers>

#include "absl/strings/str_cat.h"

namespace infir2::train {
absl::Status LrSchedule::validate() const {
  auto bad = [](const std::string &what) {
    return absl::InvalidArgumentError(absl::StrCat("lr schedule: ", what));
  };
  if (!(minLr >= 0) || !(maxLr >= minLr) || !std::isfinite(maxLr))
    return bad(
        absl::StrCat("need 0 <= min_lr (", minLr, ") <= lr (", maxLr, ")"));
  if (!(initLr >= 0) || !(initLr <= maxLr))
    return bad(absl::StrCat("need 0 <= the warmup's start (", initLr,
                            ") <= lr (", maxLr, ")"));
  if (warmupSteps < 0)
    return bad("warmup steps must be >= 0");
  if (style != LrStyle::kConstant &&
      static_cast<double>(decaySteps) <= warmupSteps)
    return bad(absl::StrCat("the warmup (", warmupSteps,
                            " steps) must end before the decay does (",
                            decaySteps, " steps)"));
  if (style == LrStyle::kWsd &&
      (wsdDecaySteps < 1 || static_cast<double>(wsdDecaySteps) >
                                static_cast<double>(decaySteps) - warmupSteps))
    return bad(absl::StrCat("wsd decay steps (", wsdDecaySteps,
                            ") must be in [1, decay steps - warmup steps = ",
                            static_cast<double>(decaySteps) - warmupSteps,
                            "]"));
  return absl::OkStatus();
}

double LrSchedule::lr(int64_t n) const {
  const double steps = static_cast<double>(n);
  if (warmupSteps > 0 && steps <= warmupSteps)
    return initLr + (maxLr - initLr) * steps / warmupSteps;
  if (style == LrStyle::kConstant)
    return maxLr;
  if (n > decaySteps)
    return minLr;
  const double ratio =
      (steps - warmupSteps) / (static_cast<double>(decaySteps) - warmupSteps);
  const double delta = maxLr - minLr;
  double coeff = 1.0;
  switch (style) {
  case LrStyle::kLinear:
    coeff = 1.0 - ratio;
    break;
  case LrStyle::kCosine:
    coeff = 0.5 * (std::cos(std::numbers::pi * ratio) + 1.0);
    break;
  case LrStyle::kWsd: {
    const int64_t annealStart = decaySteps - wsdDecaySteps;
    if (n <= annealStart)
      break;
    const double r = static_cast<double>(n - annealStart) /
                     static_cast<double>(wsdDecaySteps);
    switch (wsdStyle) {
    case WsdDecayStyle::kLinear:
      coeff = 1.0 - r;
      break;
    case WsdDecayStyle::kCosine:
      coeff = 0.5 * (std::cos(std::numbers::pi * r) + 1.0);
      break;
    case WsdDecayStyle::kExponential:
      coeff = 2.0 * std::pow(0.5, r) - 1.0;
      break;
    case WsdDecayStyle::kMinusSqrt:
      coeff = 1.0 - std::sqrt(r);
      break;
    }
    break;
  }
  case LrStyle::kConstant:
    break;
  }
  return minLr + coeff * delta;
}

absl::StatusOr<LrStyle> parseLrStyle(const std::string &name) {
  if (name == "constant")
    return LrStyle::kConstant;
  if (name == "linear")
    return LrStyle::kLinear;
  if (name == "cosine")
    return LrStyle::kCosine;
  if (name == "wsd")
    return LrStyle::kWsd;
  return absl::InvalidArgumentError(absl::StrCat(
      "lr style '", name, "' is not constant, linear, cosine or wsd"));
}

absl::StatusOr<WsdDecayStyle> parseWsdDecayStyle(const std::string &name) {
  if (name == "cosine")
    return WsdDecayStyle::kCosine;
  if (name == "linear")
    return WsdDecayStyle::kLinear;
  if (name == "exponential")
    return WsdDecayStyle::kExponential;
  if (name == "minus_sqrt")
    return WsdDecayStyle::kMinusSqrt;
  return absl::InvalidArgumentError(
      absl::StrCat("wsd decay style '", name,
                   "' is not cosine, linear, exponential or minus_sqrt"));
}

const char *lrStyleName(LrStyle style) {
  switch (style) {
  case LrStyle::kConstant:
    return "constant";
  case LrStyle::kLinear:
    return "linear";
  case LrStyle::kCosine:
    return "cosine";
  case LrStyle::kWsd:
    return "wsd";
  }
  return "?";
}

const char *wsdDecayStyleName(WsdDecayStyle style) {
  switch (style) {
  case WsdDecayStyle::kCosine:
    return "cosine";
  case WsdDecayStyle::kLinear:
    return "linear";
  case WsdDecayStyle::kExponential:
    return "exponential";
  case WsdDecayStyle::kMinusSqrt:
    return "minus_sqrt";
  }
  return "?";
}
} // namespace infir2::train
