//===- logits.cc - `infir2 logits` ----------------------------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// infir2 logits --model DIR --input tokens.jsonl --output out.safetensors
//               [--precision fp32|bf16|fp8] [--artifact ART]
// Packs every sequence of the input into one micro-batch, runs the model's
// forward pass on the CPU and writes logits.<i> [len_i, V] and nll.<i>
// [len_i - 1] (f32) per sequence (docs/guide/infir2-logits.md).
//
//===----------------------------------------------------------------------===//

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/artifact/manifest.h"
#include "runtime/cpu/executor.h"
#include "runtime/io/safetensors.h"
#include "runtime/lm/logits.h"
#include "tools/infir2/commands.h"
#include "tools/infir2/model_command.h"

namespace infir2::runner {
namespace {
constexpr const char *kUsage =
    "usage: infir2 logits --model DIR --input TOKENS.jsonl --output "
    "OUT.safetensors\n"
    "                     [--precision fp32|bf16|fp8] [--fusion on|off] "
    "[--artifact ART] [--profile]\n"
    "\n"
    "  --model DIR       Hugging Face model directory (config.json and "
    "safetensors)\n"
    "  --input FILE      one JSON array of token ids per line; all lines are\n"
    "                    packed into one micro-batch\n"
    "  --output FILE     safetensors with logits.<i> [len_i, vocab] and "
    "nll.<i>\n"
    "                    [len_i - 1] (f32) for line i\n"
    "  --precision P     fp32 (default), bf16 (bf16 weights and "
    "activations) or\n"
    "                    fp8 (bf16 with the decoder linears in FP8)\n"
    "  --fusion on|off   generated kernels for everything but GEMMs, "
    "attention\n"
    "                    and embeddings, or one reference kernel per graph op\n"
    "                    (default off: faster on the CPU)\n"
    "  --artifact ART    a precompiled artifact (infir2c --emit artifact); "
    "default:\n"
    "                    compile on first use into the cache "
    "($INFIR2_CACHE_DIR)\n"
    "  --profile         print the forward pass's time per op (stderr)\n";

int fail(const std::string &message, int code = 1) {
  std::fprintf(stderr, "infir2 logits: %s\n", message.c_str());
  return code;
}

double seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since)
      .count();
}
} // namespace

int runLogits(int argc, char **argv) {
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
  const ArtifactRequest &request = args->request;
  const std::string &output = args->output;
  const bool profile = args->profile;
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<LoadedModel> model = loadModel(*args, "forward", "logits");
  if (!model.ok())
    return fail(std::string(model.status().message()));
  const std::vector<lm::Sequence> *sequences = &model->sequences;
  const std::unique_ptr<cpu::Program> &program = model->program;

  cpu::RunProfile runProfile;
  const auto runStart = std::chrono::steady_clock::now();
  absl::StatusOr<lm::EvaluateResult> result =
      lm::evaluate(*program, *sequences, profile ? &runProfile : nullptr);
  if (!result.ok())
    return fail(std::string(result.status().message()));
  const double runSeconds = seconds(runStart);
  if (profile)
    std::fprintf(stderr, "infir2 logits: time per op\n%s",
                 runProfile.format().c_str());

  std::vector<io::TensorData> tensors;
  for (size_t i = 0; i < result->sequences.size(); ++i) {
    const lm::SequenceOutput &o = result->sequences[i];
    tensors.push_back({absl::StrCat("logits.", i), DType::kF32,
                       o.logits.shape(), o.logits.raw(), o.logits.nbytes()});
    tensors.push_back({absl::StrCat("nll.", i), DType::kF32, o.nll.shape(),
                       o.nll.raw(), o.nll.nbytes()});
  }
  if (absl::Status s = io::writeSafetensors(output, tensors,
                                            {{"format", "pt"},
                                             {"producer", "infir2 logits"},
                                             {"precision", request.precision},
                                             {"model", request.modelDir}});
      !s.ok())
    return fail(std::string(s.message()));

  int64_t tokens = 0;
  for (const lm::Sequence &s : *sequences)
    tokens += static_cast<int64_t>(s.size());
  const double meanNll =
      result->tokenCount > 0 ? result->nllSum / result->tokenCount : 0.0;
  std::printf("infir2 logits: %zu sequences, %lld tokens, %s: mean NLL %.6f "
              "(perplexity %.4g) over %.0f predicted tokens; forward %.3f s "
              "(%.0f tokens/s), total %.2f s; wrote %s\n",
              sequences->size(), static_cast<long long>(tokens),
              request.precision.c_str(), meanNll, std::exp(meanNll),
              result->tokenCount, runSeconds,
              runSeconds > 0 ? tokens / runSeconds : 0.0, seconds(start),
              output.c_str());
  return 0;
}
} // namespace infir2::runner
