//===- trainer.h - The language-model training loop (SFT, CPT) --*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// One optimizer step per global batch (recipe.md §4): the step's packed
// micro-batches of every data-parallel rank run the gradient entry point
// one after another, gradients accumulate in f32, the loss is normalized
// per token over the whole global batch, then a global-norm clip and AdamW
// on FP32 master weights. Evaluation on a held-out split, checkpoints with
// exact resume, metrics (JSONL, TensorBoard, an SVG loss curve) and a
// progress line. docs/guide/sft.md describes the run directory.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RECIPES_TRAIN_TRAINER_H_
#define INFIR2_RECIPES_TRAIN_TRAINER_H_

#include <atomic>
#include <string>

#include "absl/status/statusor.h"
#include "recipes/train/config.h"
#include "runtime/artifact/manifest.h"

namespace infir2::recipes {
struct TrainOptions {
  TrainRecipe recipe;
  std::string outputDir;
  /// Continue from the newest complete checkpoint of outputDir.
  bool resume = false;
  /// The training artifact: entry points forward (loss only) and
  /// forward_grad, compiled for recipe.precision.
  artifact::Manifest manifest;
  std::string artifactDir; ///< for the log
  /// Set (to the signal number) by SIGINT/SIGTERM: finish the step, save,
  /// return.
  const std::atomic<int> *stop = nullptr;
  /// Testing aid: stop (as if signalled) after this many steps; 0: never.
  int64_t stopAfterSteps = 0;
  /// Time per op of the forward/backward programs, printed at the end.
  bool profile = false;
};

struct TrainSummary {
  int64_t firstStep = 0;  ///< the first step this call ran (1-based)
  int64_t lastStep = 0;   ///< optimizer steps done at the end
  int64_t totalSteps = 0; ///< the run's planned steps
  double firstLoss = 0, lastLoss = 0;
  std::string lastCheckpoint;
  bool interrupted = false;
  double seconds = 0;
};

absl::StatusOr<TrainSummary> runTraining(const TrainOptions &options);
} // namespace infir2::recipes

#endif // INFIR2_RECIPES_TRAIN_TRAINER_H_
