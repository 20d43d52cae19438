//===- dataset.h - JSONL datasets, tokenized once into a cache --*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// Three kinds of JSON-lines datasets (recipe.md §3–§5):
//   sft  {"messages": [{role, content[, step_loss_mask]}, ...]}: the chat
//        template's ids and slime's loss mask (chat_template.h);
//   rl   {"prompt": [messages] or "text", "label": "..."}: the prompt with
//        the default system block and the generation prompt, plus the label;
//   cpt  {"text": "..."}: the text's ids, then the end-of-document token.
// Field names are configurable. A malformed line is an error naming
// file:line, or, with skip_bad_lines, counted and reported.
//
// Tokenizing is done once, on all cores, into a binary cache file keyed by
// the source's content, the tokenizer and these options
// (docs/guide/data.md gives the format); later loads map the cache.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_DATA_DATASET_H_
#define INFIR2_RUNTIME_DATA_DATASET_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/tokenizer/chat_template.h"
#include "runtime/tokenizer/tokenizer.h"

namespace infir2::data {
enum class DatasetKind { kSft, kRl, kCpt };
const char *datasetKindName(DatasetKind kind);

struct DatasetConfig {
  DatasetKind kind = DatasetKind::kSft;
  std::string path; ///< the JSONL file
  std::string messagesKey = "messages";
  std::string promptKey = "prompt";
  std::string labelKey = "label";
  std::string textKey = "text";
  bool skipBadLines = false;
  /// cpt: end every document with this token (Megatron's --append-eod);
  /// empty: nothing.
  std::string eodToken = "<|endoftext|>";
  /// Where cache files go; empty: $INFIR2_CACHE_DIR/datasets (or
  /// ~/.cache/infir2/datasets).
  std::string cacheDir;
  int threads = 0; ///< 0: all cores
};

/// Progress of a tokenization: lines done of lines total.
using ProgressFn = std::function<void(int64_t done, int64_t total)>;

/// A tokenized dataset, mapped from its cache file.
class Dataset {
public:
  /// Loads the cache for |config| + |tokenizer|, tokenizing the source into
  /// it first when there is none (or it is stale or damaged).
  static absl::StatusOr<std::shared_ptr<Dataset>>
  open(const DatasetConfig &config, const text::Tokenizer &tokenizer,
       const ProgressFn &progress = nullptr);
  ~Dataset();

  DatasetKind kind() const { return kind_; }
  int64_t size() const { return count_; }
  int64_t length(int64_t i) const {
    return static_cast<int64_t>(offsets_[i + 1] - offsets_[i]);
  }
  std::span<const int32_t> tokens(int64_t i) const {
    return {tokens_ + offsets_[i], static_cast<size_t>(length(i))};
  }
  /// sft: 1 where the token is trained; empty for rl and cpt.
  std::span<const uint8_t> lossMask(int64_t i) const {
    if (!masks_)
      return {};
    return {masks_ + offsets_[i], static_cast<size_t>(length(i))};
  }
  /// rl: the label.
  std::string_view label(int64_t i) const;
  /// The 1-based line of the source file sample |i| came from.
  int64_t sourceLine(int64_t i) const { return lines_[i]; }

  int64_t totalTokens() const { return static_cast<int64_t>(offsets_[count_]); }
  int64_t skippedLines() const { return skipped_; }
  /// The first few skipped lines' errors (file:line: why).
  const std::vector<std::string> &skipExamples() const { return skipExamples_; }
  const std::string &cachePath() const { return cachePath_; }
  /// The cache key: a digest of the source content, tokenizer and options.
  const std::string &key() const { return key_; }
  /// True when open() found the cache instead of tokenizing.
  bool fromCache() const { return fromCache_; }

private:
  Dataset() = default;
  /// Maps the cache at |path| and checks it completely; nullptr, with
  /// |why|, when it is not a cache for |key|.
  static std::shared_ptr<Dataset>
  mapCache(const std::string &path, const std::string &key, std::string &why);
  /// Token ids inside the vocabulary, loss masks 0 or 1.
  bool validate(int32_t vocabSize, std::string &why) const;
  DatasetKind kind_ = DatasetKind::kSft;
  int64_t count_ = 0, skipped_ = 0;
  std::vector<std::string> skipExamples_;
  const uint64_t *offsets_ = nullptr;
  const int32_t *tokens_ = nullptr;
  const uint8_t *masks_ = nullptr;
  const uint64_t *labelOffsets_ = nullptr;
  const char *labels_ = nullptr;
  const int64_t *lines_ = nullptr;
  void *map_ = nullptr;
  size_t mapSize_ = 0;
  std::string cachePath_, key_;
  bool fromCache_ = false;
};

/// 64-bit content hash used for cache keys (not cryptographic).
uint64_t hashBytes(const void *data, size_t n, uint64_t seed = 0);
} // namespace infir2::data

#endif // INFIR2_RUNTIME_DATA_DATASET_H_
