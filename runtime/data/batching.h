//===- batching.h - Shuffled steps, packed micro-batches, resume -*- C++
//-*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// The data side of a training step (recipe.md §4.4):
//  1. the next `global_batch_size` samples of a deterministic order, shuffled
//     per epoch from (seed, epoch) and continuing into the next epoch when
//     one runs out;
//  2. split over the data-parallel ranks by striding (rank r: r, r+DP, ...);
//  3. micro-batch count = the largest first-fit bin count over the ranks,
//     capacity max_tokens_per_micro_batch x context_parallel;
//  4. each rank's samples spread over that many micro-batches by verl's
//     Karmarkar-Karp partition (balance.h);
//  5. each micro-batch packed: ids back to back, positions restarting per
//     sequence, cu_seqlens, next-token labels and the loss mask of the
//     predicted token, right-padded with id 0 (a pseudo-sequence) to a
//     multiple of pad_multiple.
// CPT datasets are a stream of documents (shuffled per epoch) cut into
// samples of seq_length + 1 tokens that overlap by one (Megatron's
// GPTDataset); with keep_document_boundaries each document inside a sample
// is its own sequence. The iterator's position serializes to JSON and a
// resumed iterator continues with exactly the next step.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_DATA_BATCHING_H_
#define INFIR2_RUNTIME_DATA_BATCHING_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/data/dataset.h"

namespace infir2::data {
struct BatchConfig {
  int64_t globalBatchSize = 64; ///< samples per optimizer step
  int64_t dataParallel = 1;
  int64_t contextParallel = 1;
  int64_t maxTokensPerMicroBatch = 32768; ///< per GPU (times CP)
  int64_t padMultiple = 128;
  uint64_t seed = 42;
  bool shuffle = true;
  int64_t seqLength = 4096;            ///< cpt only
  bool keepDocumentBoundaries = false; ///< cpt only
};

/// One packed micro-batch: the inputs of the Qwen2 forward (Qwen2Model.h).
struct MicroBatch {
  std::vector<int32_t> tokens, positions, cuSeqlens, labels;
  std::vector<float> lossMask;  ///< for labels[t]: 1 where it is trained
  std::vector<int64_t> samples; ///< dataset (or cpt stream) sample ids
  int64_t realTokens = 0;       ///< tokens before padding
};

struct StepBatch {
  int64_t step = 0;  ///< 0-based
  int64_t epoch = 0; ///< the epoch of the step's first sample
  /// ranks[r][m]: micro-batch m of data-parallel rank r; every rank has the
  /// same count (some may be only padding when a rank has fewer samples).
  std::vector<std::vector<MicroBatch>> ranks;
};

/// Where an iterator is: the next step, and the position of its first
/// sample in the order.
struct IteratorState {
  int64_t step = 0;
  int64_t epoch = 0;
  int64_t offset = 0; ///< into the epoch's order (cpt: samples of the stream)
  std::string fingerprint; ///< dataset + batch config it belongs to
  std::string toJson() const;
  static absl::StatusOr<IteratorState> fromJson(const std::string &text);
};

class BatchIterator {
public:
  /// An iterator over |dataset| from |state| (default: the start). Fails
  /// on a bad config or a state saved for another dataset or config. With
  /// |samples| (sft/rl), only those sample ids are drawn (a training split);
  /// an epoch is one pass over them.
  static absl::StatusOr<std::unique_ptr<BatchIterator>>
  create(std::shared_ptr<const Dataset> dataset, const BatchConfig &config,
         const IteratorState *state = nullptr,
         std::vector<int64_t> samples = {});
  ~BatchIterator();

  absl::StatusOr<StepBatch> next();
  IteratorState state() const;
  /// Samples per epoch (cpt: seq_length windows of one pass over the data).
  int64_t samplesPerEpoch() const;
  /// global_batch_size samples per step; the last step of an epoch runs into
  /// the next.
  double stepsPerEpoch() const;

private:
  struct Impl;
  explicit BatchIterator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// The sample order of |epoch|: 0..n-1, Fisher-Yates shuffled by a
/// splitmix64 stream seeded from (seed, epoch) when |shuffle|.
std::vector<int64_t> epochOrder(int64_t n, uint64_t seed, int64_t epoch,
                                bool shuffle);

/// Splits sample ids 0..n-1 into a training set and |holdout| evaluation
/// samples, chosen by a seeded shuffle of its own (independent of the
/// epochs' orders); both lists ascending.
void splitHoldout(int64_t n, int64_t holdout, uint64_t seed,
                  std::vector<int64_t> &train, std::vector<int64_t> &eval);
} // namespace infir2::data

#endif // INFIR2_RUNTIME_DATA_BATCHING_H_
