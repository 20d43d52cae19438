//===- logits.cc - `infir2 logits` ----------------------------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// infir2 logits --model DIR --input tokens.jsonl --output out.safetensors
//               [--precision fp32|bf16] [--artifact ART]
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
#include "tools/infir2/jit.h"

namespace infir2::runner {
namespace {
constexpr const char *kUsage =
    "usage: infir2 logits --model DIR --input TOKENS.jsonl --output "
    "OUT.safetensors\n"
    "                     [--precision fp32|bf16] [--artifact ART] "
    "[--profile]\n"
    "\n"
    "  --model DIR       Hugging Face model directory (config.json and "
    "safetensors)\n"
    "  --input FILE      one JSON array of token ids per line; all lines are\n"
    "                    packed into one micro-batch\n"
    "  --output FILE     safetensors with logits.<i> [len_i, vocab] and "
    "nll.<i>\n"
    "                    [len_i - 1] (f32) for line i\n"
    "  --precision P     fp32 (default) or bf16 (bf16 weights and "
    "activations)\n"
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
  ArtifactRequest request;
  std::string input, output;
  bool profile = false;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--profile") {
      profile = true;
      continue;
    }
    if (i + 1 >= argc)
      return fail(absl::StrCat("'", arg, "' needs a value\n", kUsage), 2);
    std::string value = argv[++i];
    if (arg == "--model")
      request.modelDir = value;
    else if (arg == "--input")
      input = value;
    else if (arg == "--output")
      output = value;
    else if (arg == "--precision")
      request.precision = value;
    else if (arg == "--artifact")
      request.artifactDir = value;
    else
      return fail(absl::StrCat("unknown option '", arg, "'\n", kUsage), 2);
  }
  if (request.modelDir.empty() || input.empty() || output.empty())
    return fail(
        absl::StrCat("--model, --input and --output are required\n", kUsage),
        2);
  if (request.precision != "fp32" && request.precision != "bf16")
    return fail(absl::StrCat("--precision '", request.precision,
                             "' is not fp32 or bf16"),
                2);

  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::vector<lm::Sequence>> sequences =
      lm::readTokenFile(input);
  if (!sequences.ok())
    return fail(std::string(sequences.status().message()));

  absl::StatusOr<std::unique_ptr<io::Checkpoint>> checkpoint =
      io::Checkpoint::open(request.modelDir);
  if (!checkpoint.ok())
    return fail(std::string(checkpoint.status().message()));

  absl::StatusOr<ResolvedArtifact> art = resolveArtifact(request);
  if (!art.ok())
    return fail(std::string(art.status().message()));
  if (art->compiled)
    std::fprintf(stderr, "infir2 logits: compiled artifact %s in %.3f s\n",
                 art->dir.c_str(), art->compileSeconds);
  else
    std::fprintf(stderr, "infir2 logits: using artifact %s\n",
                 art->dir.c_str());

  absl::StatusOr<std::unique_ptr<cpu::Program>> program =
      cpu::Program::create(art->manifest, "forward");
  if (!program.ok())
    return fail(std::string(program.status().message()));
  if (absl::Status s = (*program)->bindParameters(
          std::shared_ptr<const io::Checkpoint>(std::move(*checkpoint)));
      !s.ok())
    return fail(std::string(s.message()));
  if (!(*program)->unusedTensors().empty())
    std::fprintf(stderr,
                 "infir2 logits: warning: %zu checkpoint tensors are not "
                 "used by the model (first: %s)\n",
                 (*program)->unusedTensors().size(),
                 (*program)->unusedTensors().front().c_str());

  cpu::RunProfile runProfile;
  const auto runStart = std::chrono::steady_clock::now();
  absl::StatusOr<lm::EvaluateResult> result =
      lm::evaluate(**program, *sequences, profile ? &runProfile : nullptr);
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
