//===- gradients.cc - Run a model's gradient entry point ------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/lm/gradients.h"

#include "absl/strings/str_cat.h"

namespace infir2::lm {
std::map<std::string, cpu::Tensor> batchInputs(const PackedBatch &batch) {
  return {{"token_ids", batch.tokenIds},
          {"position_ids", batch.positionIds},
          {"cu_seqlens", batch.cuSeqlens},
          {"labels", batch.labels},
          {"loss_mask", batch.lossMask}};
}

absl::StatusOr<GradientResult>
runGradients(const cpu::Program &program,
             const std::map<std::string, cpu::Tensor> &inputs,
             cpu::RunProfile *profile) {
  absl::StatusOr<std::map<std::string, cpu::Tensor>> outputs =
      program.run(inputs, profile);
  if (!outputs.ok())
    return outputs.status();
  const std::string &entry = program.entryPoint().name;
  auto take = [&](const std::string &name, const std::vector<int64_t> &shape,
                  cpu::Tensor &out) -> absl::Status {
    auto it = outputs->find(name);
    if (it == outputs->end() || it->second.dtype() != DType::kF32 ||
        it->second.shape() != shape)
      return absl::InvalidArgumentError(absl::StrCat(
          "the entry point '", entry, "' has no F32 ", formatShape(shape),
          " output '", name,
          "'; is it a gradient entry point (compiled with gradients)?"));
    out = std::move(it->second);
    return absl::OkStatus();
  };
  GradientResult result;
  cpu::Tensor loss, count;
  if (absl::Status s = take("loss", {}, loss); !s.ok())
    return s;
  if (absl::Status s = take("token_count", {}, count); !s.ok())
    return s;
  result.nllSum = loss.data<float>()[0];
  result.tokenCount = count.data<float>()[0];
  for (const artifact::Parameter &p : program.entryPoint().parameters) {
    cpu::Tensor g;
    if (absl::Status s = take("grad." + p.name, p.shape, g); !s.ok())
      return s;
    result.grads.emplace(p.name, std::move(g));
  }
  return result;
}
} // namespace infir2::lm
