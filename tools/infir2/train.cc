//===- train.cc - `infir2 train` ------------------------------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// infir2 train RECIPE.toml [--output-dir DIR] [--resume] [--set k=v ...]
//              [--artifact ART] [--stop-after-steps N] [--print-config]
// Runs a training recipe (docs/guide/sft.md). SIGINT/SIGTERM finish the
// current step, save a checkpoint and exit 0; a second signal exits at once.
//
//===----------------------------------------------------------------------===//

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "recipes/train/config.h"
#include "recipes/train/trainer.h"
#include "tools/infir2/commands.h"
#include "tools/infir2/jit.h"

namespace infir2::runner {
namespace {
constexpr const char *kUsage =
    "usage: infir2 train RECIPE.toml [--output-dir DIR] [--resume]\n"
    "                    [--set table.key=value ...] [--artifact ART]\n"
    "                    [--stop-after-steps N] [--print-config] "
    "[--profile]\n"
    "\n"
    "  RECIPE.toml          a training recipe (docs/guide/sft.md)\n"
    "  --output-dir DIR     the run directory (default: [run] output_dir, "
    "else\n"
    "                       runs/<name>)\n"
    "  --resume             continue from the newest complete checkpoint of "
    "the\n"
    "                       run directory\n"
    "  --set T.K=V          override a recipe value (TOML syntax; e.g.\n"
    "                       --set optimizer.lr=1e-4 --set train.epochs=2)\n"
    "  --artifact ART       a precompiled training artifact (infir2c "
    "--gradients);\n"
    "                       default: compile on first use\n"
    "  --stop-after-steps N save and stop after N steps of this invocation\n"
    "                       (a time-boxed run; continue with --resume)\n"
    "  --print-config       print the resolved recipe and exit\n"
    "  --profile            print the time per op of the training steps\n";

std::atomic<int> gStop{0};

extern "C" void onSignal(int sig) {
  if (gStop.exchange(sig) != 0) { // the second one: stop now
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}

int fail(const std::string &message, int code = 1) {
  std::fprintf(stderr, "infir2 train: %s\n", message.c_str());
  return code;
}
} // namespace

int runTrain(int argc, char **argv) {
  std::string recipePath, outputDir, artifactDir;
  std::vector<std::string> overrides;
  bool resume = false, printConfig = false, profile = false;
  int64_t stopAfter = 0;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--resume") {
      resume = true;
      continue;
    }
    if (arg == "--profile") {
      profile = true;
      continue;
    }
    if (arg == "--print-config") {
      printConfig = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      if (!recipePath.empty())
        return fail(absl::StrCat("one recipe only (got '", recipePath,
                                 "' and '", arg, "')\n", kUsage),
                    2);
      recipePath = arg;
      continue;
    }
    if (i + 1 >= argc)
      return fail(absl::StrCat("'", arg, "' needs a value\n", kUsage), 2);
    std::string value = argv[++i];
    if (arg == "--output-dir")
      outputDir = value;
    else if (arg == "--set")
      overrides.push_back(value);
    else if (arg == "--artifact")
      artifactDir = value;
    else if (arg == "--stop-after-steps") {
      char *end = nullptr;
      stopAfter = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || stopAfter < 1)
        return fail(absl::StrCat("--stop-after-steps '", value,
                                 "' is not a positive integer"),
                    2);
    } else
      return fail(absl::StrCat("unknown option '", arg, "'\n", kUsage), 2);
  }
  if (recipePath.empty())
    return fail(absl::StrCat("a recipe is required\n", kUsage), 2);

  absl::StatusOr<recipes::TrainRecipe> recipe =
      recipes::loadTrainRecipe(recipePath, overrides);
  if (!recipe.ok())
    return fail(std::string(recipe.status().message()));
  if (printConfig) {
    std::fputs(recipe->resolvedToml.c_str(), stdout);
    std::printf("\n# resume hash: %s\n", recipe->resumeHash.c_str());
    return 0;
  }

  absl::StatusOr<std::string> modelDir =
      recipes::resolveModelDir(recipe->modelDir);
  if (!modelDir.ok())
    return fail(std::string(modelDir.status().message()));
  if (*modelDir != recipe->modelDir)
    std::fprintf(stderr, "infir2 train: model %s\n", modelDir->c_str());
  recipe->modelDir = *modelDir;
  ArtifactRequest request;
  request.modelDir = recipe->modelDir;
  request.precision = recipe->precision;
  request.artifactDir = artifactDir;
  request.gradients = true;
  request.fusion = recipe->fusion;
  // With fusion the optimizer runs as generated kernels too.
  request.optimizer = recipe->fusion;
  absl::StatusOr<ResolvedArtifact> art = resolveArtifact(request);
  if (!art.ok())
    return fail(std::string(art.status().message()));
  std::fprintf(stderr, "infir2 train: %s artifact %s%s\n",
               art->compiled ? "compiled" : "using", art->dir.c_str(),
               art->compiled
                   ? absl::StrFormat(" in %.3f s", art->compileSeconds).c_str()
                   : "");

  recipes::TrainOptions options;
  options.recipe = *recipe;
  options.outputDir = outputDir.empty() ? recipe->outputDir : outputDir;
  options.resume = resume;
  options.manifest = art->manifest;
  options.artifactDir = art->dir;
  options.stop = &gStop;
  options.stopAfterSteps = stopAfter;
  options.profile = profile;
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  absl::StatusOr<recipes::TrainSummary> summary = recipes::runTraining(options);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (!summary.ok())
    return fail(std::string(summary.status().message()));
  if (summary->lastStep < summary->firstStep && summary->interrupted) {
    std::printf("infir2 train: stopped by signal %d before the first step; "
                "nothing was saved\n",
                gStop.load());
    return 0;
  }
  if (summary->lastStep < summary->firstStep) {
    std::printf("infir2 train: nothing to do: the run in %s already "
                "finished its %lld steps\n",
                options.outputDir.c_str(),
                static_cast<long long>(summary->totalSteps));
    return 0;
  }
  const int sig = gStop.load();
  std::printf(
      "infir2 train: %s after step %lld/%lld: loss %.4f -> %.4f (%.1f%% "
      "lower) over steps %lld-%lld in %.1f s; checkpoint %s\n",
      summary->interrupted
          ? (sig ? absl::StrCat("stopped by signal ", sig).c_str() : "stopped")
          : "finished",
      static_cast<long long>(summary->lastStep),
      static_cast<long long>(summary->totalSteps), summary->firstLoss,
      summary->lastLoss,
      100.0 * (summary->firstLoss - summary->lastLoss) / summary->firstLoss,
      static_cast<long long>(summary->firstStep),
      static_cast<long long>(summary->lastStep), summary->seconds,
      summary->lastCheckpoint.c_str());
  if (summary->interrupted) {
    // The overrides are part of the resume hash: repeat them.
    auto quote = [](const std::string &s) {
      return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "'\\''"}}), "'");
    };
    std::string sets;
    for (const std::string &o : overrides)
      absl::StrAppend(&sets, " --set ", quote(o));
    std::printf("infir2 train: continue with: infir2 train %s --output-dir "
                "%s%s --resume\n",
                quote(recipePath).c_str(), quote(options.outputDir).c_str(),
                sets.c_str());
  }
  return 0;
}
} // namespace infir2::runner
