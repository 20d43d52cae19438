//===- optimizer_kernels.cc - AdamW on an artifact's kernels --------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/train/optimizer_kernels.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace infir2::train {
namespace {
/// Output |name| of an optimizer entry point.
absl::StatusOr<cpu::Tensor>
output(const std::map<std::string, cpu::Tensor> &out, const std::string &name,
       const char *entry) {
  auto it = out.find(name);
  if (it == out.end())
    return absl::InvalidArgumentError(
        absl::StrCat("the artifact's ", entry, " has no output '", name,
                     "'; recompile it (infir2c --gradients --optimizer)"));
  return it->second;
}
} // namespace

absl::StatusOr<std::unique_ptr<ArtifactAdamW>>
ArtifactAdamW::create(const artifact::Manifest &manifest) {
  absl::StatusOr<std::unique_ptr<cpu::Program>> norm =
      cpu::Program::create(manifest, "grad_norm");
  if (!norm.ok())
    return norm.status();
  absl::StatusOr<std::unique_ptr<cpu::Program>> step =
      cpu::Program::create(manifest, "optimizer_step");
  if (!step.ok())
    return step.status();
  return std::make_unique<ArtifactAdamW>(std::move(*norm), std::move(*step));
}

absl::StatusOr<double>
ArtifactAdamW::sumOfSquares(const std::map<std::string, cpu::Tensor> &grads) {
  std::map<std::string, cpu::Tensor> in;
  for (const auto &[name, g] : grads)
    in["grad." + name] = g;
  absl::StatusOr<std::map<std::string, cpu::Tensor>> out = norm_->run(in);
  if (!out.ok())
    return out.status();
  double total = 0; // parameter order: the same sum every run
  for (const auto &[name, g] : grads) {
    absl::StatusOr<cpu::Tensor> s = output(*out, "sumsq." + name, "grad_norm");
    if (!s.ok())
      return s.status();
    total += s->data<float>()[0];
  }
  return total;
}

absl::Status
ArtifactAdamW::update(const std::array<float, 8> &decay,
                      const std::array<float, 8> &noDecay,
                      const std::map<std::string, cpu::Tensor> &grads,
                      std::map<std::string, AdamWState> &state) {
  std::map<std::string, cpu::Tensor> in;
  for (auto &[name, s] : state) {
    in["master." + name] = *s.master;
    in["exp_avg." + name] = *s.expAvg;
    in["exp_avg_sq." + name] = *s.expAvgSq;
    in["grad." + name] = grads.at(name);
  }
  for (auto [key, values] : {std::pair{"adamw.hyper", &decay},
                             std::pair{"adamw.hyper_no_decay", &noDecay}}) {
    cpu::Tensor h = cpu::Tensor::empty(DType::kF32, {8});
    std::copy(values->begin(), values->end(), h.data<float>());
    in[key] = h;
  }
  absl::StatusOr<std::map<std::string, cpu::Tensor>> out = step_->run(in);
  if (!out.ok())
    return out.status();
  copies_.clear();
  for (auto &[name, s] : state) {
    for (auto [prefix, target] :
         {std::pair{"master.", s.master}, std::pair{"exp_avg.", s.expAvg},
          std::pair{"exp_avg_sq.", s.expAvgSq}}) {
      absl::StatusOr<cpu::Tensor> t =
          output(*out, prefix + name, "optimizer_step");
      if (!t.ok())
        return t.status();
      *target = std::move(*t);
    }
    if (auto it = out->find("param." + name); it != out->end())
      copies_[name] = it->second;
  }
  return absl::OkStatus();
}
} // namespace infir2::train
