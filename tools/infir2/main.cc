//===- main.cc - The infir2 runner ----------------------------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// `infir2 <command> [args]`. Commands are added by the issues that build them
// (train, generate, serve, eval, convert, inspect, logits); this file only
// dispatches.
//
//===----------------------------------------------------------------------===//

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "runtime/base/build_info.h"
#include "tools/infir2/commands.h"

#ifdef INFIR2_RUNNER_HAS_NVRTC
#include "runtime/cuda/nvrtc_compiler.h"
#endif

namespace {
struct Command {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv);
};

int runInfo(int argc, char **argv);
int runHelp(int argc, char **argv);

constexpr Command kCommands[] = {
    {"info", "print how this binary was built (version, CUDA, compiler)",
     runInfo},
    {"logits", "next-token logits and NLL of token sequences (packed, CPU)",
     infir2::runner::runLogits},
    {"train", "run a training recipe (SFT; checkpoints, resume, metrics)",
     infir2::runner::runTrain},
    {"grads", "gradients of the mean NLL of token sequences (CPU)",
     infir2::runner::runGrads},
    {"tokenize", "text or chat conversations -> token ids (JSON lines)",
     infir2::runner::runTokenize},
    {"detokenize", "token ids -> text (JSON lines)",
     infir2::runner::runDetokenize},
    {"pack", "tokenize a recipe's dataset and show its micro-batches",
     infir2::runner::runPack},
    {"convert", "checkpoints: BF16 <-> block FP8, INT4 (compressed-tensors)",
     infir2::runner::runConvert},
    {"inspect", "a checkpoint's tensors, quantization and problems",
     infir2::runner::runInspect},
#ifdef INFIR2_RUNNER_HAS_NVRTC
    {"plan", "the CUDA backend's memory plan of a training step (no GPU)",
     infir2::runner::runPlan},
#endif
    {"help", "print this help", runHelp},
};

void printUsage(std::FILE *out) {
  std::fprintf(out, "usage: infir2 <command> [args]\n\ncommands:\n");
  for (const Command &c : kCommands)
    std::fprintf(out, "  %-8s %s\n", c.name, c.summary);
  std::fprintf(out, "\n  --version  print the version\n");
}

int runInfo(int argc, char **argv) {
  (void)argv;
  if (argc != 0) {
    std::fprintf(stderr, "infir2 info: takes no arguments\n");
    return 2;
  }
  std::string text = infir2::formatBuildInfo(infir2::getBuildInfo());
#ifdef INFIR2_RUNNER_HAS_NVRTC
  text += "nvrtc: " + infir2::cuda::getNvrtcVersion() + "\n";
#endif
  std::fputs(text.c_str(), stdout);
  return 0;
}

int runHelp(int, char **) {
  printUsage(stdout);
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    printUsage(stderr);
    return 2;
  }
  std::string_view command = argv[1];
  if (command == "--version" || command == "version") {
    std::printf("infir2 %s\n", infir2::getBuildInfo().version.c_str());
    return 0;
  }
  if (command == "--help" || command == "-h")
    return runHelp(0, nullptr);
  for (const Command &c : kCommands)
    if (command == c.name)
      return c.run(argc - 2, argv + 2);
  std::fprintf(stderr,
               "infir2: unknown command '%s'; run 'infir2 help' for "
               "the list of commands\n",
               argv[1]);
  return 2;
}
