//===- checkpoint.h - Training checkpoints with exact resume ----*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// A save writes <run>/checkpoints/step-N/ (docs/guide/checkpoints.md):
//
//   config.json, generation_config.json, tokenizer files   (copied)
//   model.safetensors | model-0000i-of-0000n.safetensors + index   (bf16)
//   trainer_state/state.json       step, data-iterator position, RNG seed,
//                                  schedule, recipe hash, counters
//   trainer_state/optimizer.safetensors   master.<p>, exp_avg.<p>,
//                                         exp_avg_sq.<p> (f32)
//
// The top level is a Hugging Face model directory that transformers loads.
// Everything is written under step-N.tmp.<pid> and renamed into place, so
// a directory named step-N is always complete; a crash mid-save leaves the
// previous checkpoints untouched and a .tmp directory the next run removes.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_TRAIN_CHECKPOINT_H_
#define INFIR2_RUNTIME_TRAIN_CHECKPOINT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/cpu/tensor.h"
#include "runtime/train/optimizer.h"

namespace infir2::train {
/// What a resumed run needs besides the optimizer's tensors.
struct TrainerState {
  int64_t step = 0;            ///< optimizer steps done
  int64_t consumedSamples = 0; ///< samples trained on
  int64_t tokens = 0;          ///< loss tokens trained on
  double elapsedSeconds = 0;   ///< training time before this checkpoint
  std::string iterator;        ///< data::IteratorState JSON
  uint64_t seed = 0;           ///< the run's RNG seed (init, data order)
  std::string recipeHash;      ///< of the settings a resume must keep
  std::string schedule;        ///< the LR schedule, for humans
  std::string toJson() const;
  static absl::StatusOr<TrainerState> fromJson(const std::string &text,
                                               const std::string &where);
};

/// The Hugging Face side of a save.
struct ModelExport {
  std::string configJson; ///< config.json's text
  /// generation_config.json's text; empty: none is written.
  std::string generationConfigJson;
  /// Tokenizer files (tokenizer.json, tokenizer_config.json, vocab.json,
  /// merges.txt, ...) are copied from here when present.
  std::string tokenizerDir;
  int64_t maxShardBytes = int64_t{5} << 30;
};

/// Writes checkpoint step-|state.step| under |checkpointsDir|; returns its
/// path. An existing step-N (a save of the same step) is replaced.
absl::StatusOr<std::string> saveCheckpoint(const std::string &checkpointsDir,
                                           const ModelExport &model,
                                           const AdamW &optimizer,
                                           const TrainerState &state);

/// The complete checkpoints under |checkpointsDir|, oldest first.
std::vector<std::pair<int64_t, std::string>>
listCheckpoints(const std::string &checkpointsDir);

/// Removes leftover step-N.tmp.* directories of interrupted saves; returns
/// how many.
int removeIncompleteSaves(const std::string &checkpointsDir);

/// Deletes all but the newest |keep| complete checkpoints (keep <= 0: none
/// is deleted).
absl::Status pruneCheckpoints(const std::string &checkpointsDir, int keep);

struct LoadedTrainerState {
  TrainerState state;
  std::map<std::string, cpu::Tensor> master, expAvg, expAvgSq;
};

/// Reads trainer_state/ of checkpoint directory |dir|.
absl::StatusOr<LoadedTrainerState> loadTrainerState(const std::string &dir);

/// Writes |text| to |path| through a temporary name, fsync and rename, so
/// readers see the old file or the whole new one.
absl::Status writeFileAtomic(const std::string &path, const std::string &text);
} // namespace infir2::train

#endif // INFIR2_RUNTIME_TRAIN_CHECKPOINT_H_
