//===- config.h - A training recipe (.toml), resolved -----------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// The tables of a language-model training recipe (SFT, and CPT with a cpt
// dataset): [run], [model], [train], [optimizer], [lr_schedule], [eval],
// [checkpoint], [parallel], plus the data tables runtime/data reads
// ([tokenizer], [data], [batch]). docs/guide/sft.md lists every key.
// `--set table.key=value` overrides are applied to the parsed document
// before it is read; the resolved recipe (overrides applied, paths made
// absolute) is what a run directory keeps.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RECIPES_TRAIN_CONFIG_H_
#define INFIR2_RECIPES_TRAIN_CONFIG_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/data/recipe_config.h"
#include "runtime/train/optimizer.h"
#include "runtime/train/schedule.h"

namespace infir2::recipes {
enum class LossNormalization {
  /// Sum of masked token NLLs over the global batch / their count: the
  /// gradient of the true token mean (default).
  kGlobalTokens,
  /// slime's: the same times c = micro-batches x DP / global_batch_size
  /// (recipe.md §4.5), for bit-level comparison with slime runs.
  kSlime,
};

struct TrainRecipe {
  std::string path;      ///< the recipe file
  std::string name;      ///< [run] name (default: the file's stem)
  std::string outputDir; ///< [run] output_dir (default: runs/<name>)

  // [model]
  std::string modelDir;
  bool randomInit = false;
  double initStd = 0.02;
  std::string precision = "bf16"; ///< fp32 | bf16
  /// Generated (fused) kernels for everything but the library ops (on the
  /// CPU off by default: its reference kernels are faster).
  bool fusion = false;

  data::DataRecipe data;

  // [train]
  int64_t epochs = 1;
  int64_t trainSteps = 0; ///< > 0: overrides epochs
  LossNormalization lossNormalization = LossNormalization::kGlobalTokens;
  int64_t logInterval = 1;

  train::AdamWConfig optimizer;
  double lr = 1e-5, minLr = 0.0;

  // [lr_schedule]
  train::LrStyle lrStyle = train::LrStyle::kCosine;
  double warmupFraction = -1; ///< of the decay steps; < 0: warmup_steps
  int64_t warmupSteps = 0;
  int64_t decaySteps = 0; ///< 0: the total steps
  int64_t wsdDecaySteps = 0;
  train::WsdDecayStyle wsdStyle = train::WsdDecayStyle::kCosine;

  // [eval]
  std::string evalPath;       ///< a held-out JSONL of the same kind
  int64_t holdoutSamples = 0; ///< or: samples taken out of the training set
  int64_t evalInterval = 0;   ///< steps; 0: only after the last step

  // [checkpoint]
  int64_t saveInterval = 1000;
  bool saveEpochEnd = true;
  int64_t keepLast = 0; ///< 0: keep all
  int64_t maxShardBytes = int64_t{5} << 30;

  // [parallel]: read and recorded; runs are single-process until the
  // distributed runtime lands.
  int64_t tensorParallel = 1, pipelineParallel = 1;
  bool sequenceParallel = false;
  std::string recompute = "none";

  /// The resolved recipe as TOML (overrides applied, absolute paths).
  std::string resolvedToml;
  /// Digest of the settings a resumed run must share (model, data, batch,
  /// optimizer, schedule, steps, loss normalization).
  std::string resumeHash;

  /// The schedule for |totalSteps| optimizer steps.
  absl::StatusOr<train::LrSchedule> schedule(int64_t totalSteps) const;
};

/// |dir| itself when it holds config.json; for a run's checkpoints/
/// directory, its newest complete checkpoint.
absl::StatusOr<std::string> resolveModelDir(const std::string &dir);

/// Reads |path| with |overrides| ("table.key=value"; the value is TOML,
/// and a bare word is taken as a string).
absl::StatusOr<TrainRecipe>
loadTrainRecipe(const std::string &path,
                const std::vector<std::string> &overrides = {});
} // namespace infir2::recipes

#endif // INFIR2_RECIPES_TRAIN_CONFIG_H_
