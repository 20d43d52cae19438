//===- plan.cc - `infir2 plan` --------------------------------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// infir2 plan --model DIR --tokens N [--seq-len L] [--precision bf16|fp8]
//             [--artifact ART] [--top K]
// The CUDA backend's plan of one training step (forward_grad of the fused
// training artifact) for N tokens packed as N / L sequences: every buffer's
// shape and lifetime, the device arena they are packed into, and the device
// memory of the whole step with the optimizer's state (docs/guide/gpu.md).
// Needs only the model's config.json; runs without a GPU.
//
//===----------------------------------------------------------------------===//

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/cuda/exec_plan.h"
#include "tools/infir2/commands.h"
#include "tools/infir2/jit.h"

namespace infir2::runner {
namespace {
constexpr const char *kUsage =
    "usage: infir2 plan --model DIR --tokens N [--seq-len L] "
    "[--precision bf16|fp8]\n"
    "                   [--artifact ART] [--top K]\n"
    "\n"
    "  --model DIR      a Hugging Face model directory (config.json is "
    "enough)\n"
    "  --tokens N       tokens per micro-batch\n"
    "  --seq-len L      tokens per packed sequence (default N: one "
    "sequence)\n"
    "  --precision P    bf16 (default) or fp8 (the FP8 recipe's GEMMs)\n"
    "  --artifact ART   a precompiled fused training artifact\n"
    "  --top K          list the K largest temporaries (default 8)\n";

/// cuBLASLt's workspace (NVIDIA recommends 32 MiB on Hopper).
constexpr int64_t kCublasWorkspace = int64_t{32} << 20;

int fail(const std::string &message, int code = 1) {
  std::fprintf(stderr, "infir2 plan: %s\n", message.c_str());
  return code;
}

bool parseCount(const char *text, int64_t &out) {
  char *end = nullptr;
  out = std::strtoll(text, &end, 10);
  return end && *end == '\0' && out > 0;
}
} // namespace

int runPlan(int argc, char **argv) {
  ArtifactRequest request;
  request.precision = "bf16";
  request.gradients = true;
  request.fusion = true;
  int64_t tokens = 0, seqLen = 0, top = 8;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (i + 1 >= argc)
      return fail(absl::StrCat(arg, " needs a value\n", kUsage), 2);
    const char *value = argv[++i];
    if (arg == "--model") {
      request.modelDir = value;
    } else if (arg == "--artifact") {
      request.artifactDir = value;
    } else if (arg == "--precision") {
      request.precision = value;
      if (request.precision != "bf16" && request.precision != "fp8")
        return fail(
            absl::StrCat("--precision '", value, "': expected bf16 or fp8"), 2);
    } else if (arg == "--tokens" || arg == "--seq-len" || arg == "--top") {
      int64_t &out = arg == "--tokens" ? tokens : arg == "--top" ? top : seqLen;
      if (!parseCount(value, out))
        return fail(
            absl::StrCat(arg, " '", value, "': expected a positive integer"),
            2);
    } else {
      return fail(absl::StrCat("unknown argument '", arg, "'\n", kUsage), 2);
    }
  }
  if (request.modelDir.empty() || tokens == 0)
    return fail(absl::StrCat("--model and --tokens are required\n", kUsage), 2);
  if (seqLen == 0)
    seqLen = tokens;
  if (tokens % seqLen != 0)
    return fail(absl::StrCat("--tokens ", tokens,
                             " is not a multiple of --seq-len ", seqLen),
                2);

  absl::StatusOr<ResolvedArtifact> art = resolveArtifact(request);
  if (!art.ok())
    return fail(std::string(art.status().message()));
  std::map<std::string, std::vector<int64_t>> inputs;
  const artifact::EntryPoint *ep = art->manifest.entryPoint("forward_grad");
  if (!ep)
    return fail(absl::StrCat(art->dir,
                             " is not a training artifact (no forward_grad)"));
  for (const artifact::Binding &in : ep->inputs)
    inputs[in.name] = {in.name == "cu_seqlens" ? tokens / seqLen + 1 : tokens};
  absl::StatusOr<cuda::ExecPlan> plan =
      cuda::planEntryPoint(art->manifest, "forward_grad", inputs);
  if (!plan.ok())
    return fail(std::string(plan.status().message()));

  // The persistent state of a step: bf16 weights (the parameters), f32
  // gradients (the entry's outputs), and AdamW's f32 master weights and
  // two moments for every parameter.
  int64_t elements = 0;
  for (const artifact::Parameter &p : ep->parameters) {
    int64_t n = 1;
    for (int64_t d : p.shape)
      n *= d;
    elements += n;
  }
  const int64_t optimizer = 3 * 4 * elements;
  const int64_t total = plan->parameterBytes + plan->outputBytes + optimizer +
                        plan->arenaBytes + kCublasWorkspace;
  std::printf("%s, %s, %lld tokens as %lld x %lld (artifact %s)\n\n",
              request.modelDir.c_str(), request.precision.c_str(),
              static_cast<long long>(tokens),
              static_cast<long long>(tokens / seqLen),
              static_cast<long long>(seqLen), art->dir.c_str());
  std::fputs(cuda::formatPlan(*plan, static_cast<int>(top)).c_str(), stdout);
  auto gb = [](int64_t b) { return absl::StrFormat("%9.3f GB", b / 1e9); };
  std::printf("\ndevice memory of a training step (%lld parameters):\n"
              "  weights              %s\n"
              "  gradients (f32)      %s\n"
              "  AdamW master+moments %s\n"
              "  activations (arena)  %s\n"
              "  cuBLASLt workspace   %s\n"
              "  total                %s\n",
              static_cast<long long>(elements),
              gb(plan->parameterBytes).c_str(), gb(plan->outputBytes).c_str(),
              gb(optimizer).c_str(), gb(plan->arenaBytes).c_str(),
              gb(kCublasWorkspace).c_str(), gb(total).c_str());
  return 0;
}
} // namespace infir2::runner
