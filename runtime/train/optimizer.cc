//===- optimizer.cc - AdamW with FP32 master weights ----------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/train/optimizer.h"

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "runtime/cpu/kernels.h"
#include "runtime/numerics/parallel.h"

namespace infir2::train {
namespace {
constexpr int64_t kGrain = 1 << 15;

absl::Status checkF32Like(const std::string &what, const std::string &name,
                          const cpu::Tensor &t,
                          const std::vector<int64_t> &shape) {
  if (!t.defined() || t.dtype() != DType::kF32 || t.shape() != shape)
    return absl::InvalidArgumentError(absl::StrCat(
        what, " of '", name, "' is ", dtypeName(t.dtype()), " ",
        formatShape(t.shape()), "; expected F32 ", formatShape(shape)));
  return absl::OkStatus();
}
} // namespace

bool decays(const std::string &name, int64_t rank) {
  return rank > 1 && !absl::EndsWith(name, ".bias");
}

absl::Status AdamW::addParameter(const std::string &name,
                                 const cpu::Tensor &value) {
  if (slots_.count(name))
    return absl::InvalidArgumentError(
        absl::StrCat("parameter '", name, "' is added twice"));
  if (!cpu::isFloat(value.dtype()))
    return absl::InvalidArgumentError(
        absl::StrCat("parameter '", name, "' is ", dtypeName(value.dtype()),
                     "; AdamW trains float parameters"));
  Slot s;
  s.master = cpu::Tensor::empty(DType::kF32, value.shape());
  cpu::loadF32(value, 0, value.numel(), s.master.data<float>());
  s.expAvg = cpu::Tensor::zeros(DType::kF32, value.shape());
  s.expAvgSq = cpu::Tensor::zeros(DType::kF32, value.shape());
  s.decay = decays(name, value.rank());
  slots_.emplace(name, std::move(s));
  names_.push_back(name);
  return absl::OkStatus();
}

double AdamW::globalNorm(const std::map<std::string, cpu::Tensor> &grads) {
  double total = 0;
  for (const auto &[name, g] : grads) {
    const float *p = g.data<float>();
    const int64_t n = g.numel();
    // Fixed chunks summed in order: the same norm on every run.
    const int64_t chunks = (n + kGrain - 1) / kGrain;
    std::vector<double> partial(static_cast<size_t>(chunks), 0.0);
    numerics::parallelFor(chunks, 1, [&](int64_t b, int64_t e) {
      for (int64_t c = b; c < e; ++c) {
        double sum = 0;
        for (int64_t i = c * kGrain, end = std::min(n, (c + 1) * kGrain);
             i < end; ++i)
          sum += static_cast<double>(p[i]) * p[i];
        partial[c] = sum;
      }
    });
    for (double s : partial)
      total += s;
  }
  return std::sqrt(total);
}

absl::StatusOr<StepStats> AdamW::step(std::map<std::string, cpu::Tensor> &grads,
                                      double lr, AdamWKernels *kernels) {
  for (const std::string &name : names_) {
    auto it = grads.find(name);
    if (it == grads.end())
      return absl::InvalidArgumentError(
          absl::StrCat("no gradient for parameter '", name, "'"));
    if (absl::Status s = checkF32Like("the gradient", name, it->second,
                                      slots_.at(name).master.shape());
        !s.ok())
      return s;
  }
  StepStats stats;
  if (kernels) {
    absl::StatusOr<double> sum = kernels->sumOfSquares(grads);
    if (!sum.ok())
      return sum.status();
    stats.gradNorm = std::sqrt(*sum);
  } else {
    stats.gradNorm = globalNorm(grads);
  }
  if (!std::isfinite(stats.gradNorm)) {
    stats.finite = false;
    return stats;
  }
  // torch.nn.utils.clip_grad_norm_ / Megatron: coefficient max / (norm +
  // 1e-6), applied only when it is below 1.
  if (config_.clipGrad > 0) {
    const double coef = config_.clipGrad / (stats.gradNorm + 1e-6);
    if (coef < 1.0)
      stats.clipScale = coef;
  }
  ++steps_;
  const double b1 = config_.beta1, b2 = config_.beta2;
  const double bc1 = 1.0 - std::pow(b1, static_cast<double>(steps_));
  const double bc2 = 1.0 - std::pow(b2, static_cast<double>(steps_));
  const float stepSize = static_cast<float>(lr / bc1);
  const float bc2Sqrt = static_cast<float>(std::sqrt(bc2));
  const float oneMinusB1 = static_cast<float>(1.0 - b1);
  const float beta2 = static_cast<float>(b2);
  const float oneMinusB2 = static_cast<float>(1.0 - b2);
  const float eps = static_cast<float>(config_.eps);
  const float clip = static_cast<float>(stats.clipScale);
  const bool clipping = stats.clipScale != 1.0;
  if (kernels) {
    // A factor of 1 leaves a value's bits alone, so clip and decay are
    // always applied there.
    const std::array<float, 8> noDecay = {
        clip, 1.0f, oneMinusB1, beta2, oneMinusB2, bc2Sqrt, eps, stepSize};
    std::array<float, 8> decay = noDecay;
    decay[1] = static_cast<float>(1.0 - lr * config_.weightDecay);
    std::map<std::string, AdamWState> state;
    for (auto &[name, s] : slots_)
      state[name] = {&s.master, &s.expAvg, &s.expAvgSq};
    if (absl::Status st = kernels->update(decay, noDecay, grads, state);
        !st.ok())
      return st;
    for (const auto &[name, s] : slots_) {
      const float *p = s.master.data<float>();
      for (int64_t i = 0; i < s.master.numel(); ++i)
        if (!std::isfinite(p[i])) {
          stats.weightsFinite = false;
          break;
        }
    }
    return stats;
  }
  std::atomic<uint32_t> nonFinite{0};
  for (const std::string &name : names_) {
    Slot &s = slots_.at(name);
    float *g = grads.at(name).data<float>();
    float *p = s.master.data<float>();
    float *m = s.expAvg.data<float>();
    float *v = s.expAvgSq.data<float>();
    const float decay =
        static_cast<float>(1.0 - lr * (s.decay ? config_.weightDecay : 0.0));
    const bool decaying = s.decay && config_.weightDecay != 0.0;
    numerics::parallelFor(
        s.master.numel(), kGrain, [&](int64_t begin, int64_t end) {
          uint32_t bad = 0; // an all-ones exponent: inf or NaN
          for (int64_t i = begin; i < end; ++i) {
            if (clipping)
              g[i] *= clip;
            if (decaying)
              p[i] *= decay;
            m[i] += oneMinusB1 * (g[i] - m[i]);
            v[i] = v[i] * beta2 + oneMinusB2 * g[i] * g[i];
            const float denom = std::sqrt(v[i]) / bc2Sqrt + eps;
            p[i] += -stepSize * m[i] / denom;
            uint32_t bits;
            std::memcpy(&bits, &p[i], sizeof bits);
            bad |= (~bits & 0x7f800000u) == 0 ? 1u : 0u;
          }
          if (bad)
            nonFinite.fetch_or(1, std::memory_order_relaxed);
        });
  }
  stats.weightsFinite = nonFinite.load() == 0;
  return stats;
}

const cpu::Tensor &AdamW::master(const std::string &name) const {
  return slots_.at(name).master;
}
const cpu::Tensor &AdamW::expAvg(const std::string &name) const {
  return slots_.at(name).expAvg;
}
const cpu::Tensor &AdamW::expAvgSq(const std::string &name) const {
  return slots_.at(name).expAvgSq;
}

absl::Status
AdamW::restore(int64_t steps, const std::map<std::string, cpu::Tensor> &master,
               const std::map<std::string, cpu::Tensor> &expAvg,
               const std::map<std::string, cpu::Tensor> &expAvgSq) {
  if (steps < 0)
    return absl::InvalidArgumentError("a negative optimizer step count");
  for (const std::string &name : names_) {
    const std::vector<int64_t> &shape = slots_.at(name).master.shape();
    for (auto [what, source] : {std::make_pair("the master weight", &master),
                                std::make_pair("exp_avg", &expAvg),
                                std::make_pair("exp_avg_sq", &expAvgSq)}) {
      auto it = source->find(name);
      if (it == source->end())
        return absl::NotFoundError(absl::StrCat("the optimizer state has no ",
                                                what, " of '", name, "'"));
      if (absl::Status s = checkF32Like(what, name, it->second, shape); !s.ok())
        return s;
    }
  }
  for (const std::string &name : names_) {
    Slot &s = slots_.at(name);
    auto copy = [](const cpu::Tensor &from, cpu::Tensor &to) {
      std::memcpy(to.raw(), from.raw(), static_cast<size_t>(to.nbytes()));
    };
    copy(master.at(name), s.master);
    copy(expAvg.at(name), s.expAvg);
    copy(expAvgSq.at(name), s.expAvgSq);
  }
  steps_ = steps;
  return absl::OkStatus();
}
} // namespace infir2::train
