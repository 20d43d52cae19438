//===- grads.cc - `infir2 grads` ------------------------------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// infir2 grads --model DIR --input tokens.jsonl --output grads.safetensors
//              [--precision fp32|bf16|fp8] [--artifact ART]
// The gradient of the mean next-token NLL over every sequence of the input
// (packed into one micro-batch as in `infir2 logits`) with respect to every
// parameter: writes `loss` (a scalar) and `grad.<hf_name>` (f32), the
// reference check of graph-autodiff against PyTorch autograd
// (docs/guide/infir2-grads.md).
//
//===----------------------------------------------------------------------===//

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/cpu/executor.h"
#include "runtime/io/safetensors.h"
#include "runtime/lm/gradients.h"
#include "runtime/lm/logits.h"
#include "tools/infir2/commands.h"
#include "tools/infir2/model_command.h"

namespace infir2::runner {
namespace {
constexpr const char *kUsage =
    "usage: infir2 grads --model DIR --input TOKENS.jsonl --output "
    "OUT.safetensors\n"
    "                    [--precision fp32|bf16|fp8] [--fusion on|off] "
    "[--artifact ART] [--profile]\n"
    "\n"
    "  --model DIR       Hugging Face model directory (config.json and "
    "safetensors)\n"
    "  --input FILE      one JSON array of token ids per line; all lines are\n"
    "                    packed into one micro-batch\n"
    "  --output FILE     safetensors with 'loss' (the mean next-token NLL, a\n"
    "                    scalar) and 'grad.<name>' (f32) for every parameter\n"
    "  --precision P     fp32 (default), bf16 (bf16 weights and "
    "activations;\n"
    "                    gradients still accumulate in f32) or fp8 (bf16 "
    "with the\n"
    "                    decoder linears' GEMMs in FP8)\n"
    "  --fusion on|off   generated kernels for everything but GEMMs, "
    "attention\n"
    "                    and embeddings, or one reference kernel per graph op\n"
    "                    (default off: faster on the CPU)\n"
    "  --profile         print the forward+backward time per op (stderr)\n"
    "  --artifact ART    a precompiled training artifact (infir2c --emit "
    "artifact\n"
    "                    --gradients); default: compile on first use\n";

int fail(const std::string &message, int code = 1) {
  std::fprintf(stderr, "infir2 grads: %s\n", message.c_str());
  return code;
}
} // namespace

int runGrads(int argc, char **argv) {
  absl::StatusOr<ModelCommandArgs> args =
      parseModelCommandArgs(argc, argv, /*allowProfile=*/true);
  if (!args.ok())
    return fail(absl::StrCat(args.status().message(),
                             absl::IsInvalidArgument(args.status())
                                 ? absl::StrCat("\n", kUsage)
                                 : ""),
                2);
  if (args->help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  args->request.gradients = true;
  const ArtifactRequest &request = args->request;
  const std::string &output = args->output;
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<LoadedModel> model = loadModel(*args, "forward_grad", "grads");
  if (!model.ok())
    return fail(std::string(model.status().message()));
  const std::vector<lm::Sequence> *sequences = &model->sequences;
  absl::StatusOr<lm::PackedBatch> batch = lm::packSequences(*sequences);
  if (!batch.ok())
    return fail(std::string(batch.status().message()));
  const std::unique_ptr<cpu::Program> &program = model->program;

  const auto runStart = std::chrono::steady_clock::now();
  cpu::RunProfile profile;
  absl::StatusOr<lm::GradientResult> result = lm::runGradients(
      *program, lm::batchInputs(*batch), args->profile ? &profile : nullptr);
  if (!result.ok())
    return fail(std::string(result.status().message()));
  const double runSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - runStart)
          .count();
  if (result->tokenCount <= 0)
    return fail("no token is predicted (every sequence has one token); the "
                "mean NLL is undefined");

  // d mean / d p = (d sum / d p) / count.
  const float inv = static_cast<float>(1.0 / result->tokenCount);
  const float loss = static_cast<float>(result->nllSum / result->tokenCount);
  std::vector<io::TensorData> tensors;
  tensors.push_back({"loss", DType::kF32, {}, &loss, sizeof(float)});
  for (auto &[name, g] : result->grads) {
    float *p = g.data<float>();
    for (int64_t i = 0; i < g.numel(); ++i)
      p[i] *= inv;
    tensors.push_back(
        {"grad." + name, DType::kF32, g.shape(), g.raw(), g.nbytes()});
  }
  if (absl::Status s = io::writeSafetensors(output, tensors,
                                            {{"format", "pt"},
                                             {"producer", "infir2 grads"},
                                             {"precision", request.precision},
                                             {"model", request.modelDir}});
      !s.ok())
    return fail(std::string(s.message()));
  if (args->profile)
    std::fprintf(stderr, "%s", profile.format().c_str());
  std::printf(
      "infir2 grads: %zu sequences, %s: mean NLL %.6f over %.0f "
      "predicted tokens, %zu gradients; forward+backward %.3f s, "
      "total %.2f s; wrote %s\n",
      sequences->size(), request.precision.c_str(), loss, result->tokenCount,
      result->grads.size(), runSeconds,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count(),
      output.c_str());
  return 0;
}
} // namespace infir2::runner
