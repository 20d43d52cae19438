//===- batching.cc - Shuffled steps, packed micro-batches, resume ---------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/batching.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "runtime/data/balance.h"

namespace infir2::data {
namespace {
using nlohmann::json;

uint64_t splitmix64(uint64_t &state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// A uniform integer in [0, bound) (Lemire's method, exact).
uint64_t bounded(uint64_t &state, uint64_t bound) {
  __uint128_t m = static_cast<__uint128_t>(splitmix64(state)) * bound;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < bound) {
    const uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      m = static_cast<__uint128_t>(splitmix64(state)) * bound;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

/// Appends one sequence to |mb|: |ids| are its tokens, |labels| the token
/// each position predicts and |mask| whether that is trained.
void appendSequence(MicroBatch &mb, const int32_t *ids, const int32_t *labels,
                    const float *mask, int64_t n) {
  if (mb.cuSeqlens.empty())
    mb.cuSeqlens.push_back(0);
  for (int64_t t = 0; t < n; ++t) {
    mb.tokens.push_back(ids[t]);
    mb.positions.push_back(static_cast<int32_t>(t));
    mb.labels.push_back(labels[t]);
    mb.lossMask.push_back(mask[t]);
  }
  mb.cuSeqlens.push_back(static_cast<int32_t>(mb.tokens.size()));
  mb.realTokens += n;
}

/// Right-pads |mb| with id 0 to a multiple of |multiple| (at least one
/// multiple): the padding is a pseudo-sequence of its own, never trained.
void pad(MicroBatch &mb, int64_t multiple) {
  if (mb.cuSeqlens.empty())
    mb.cuSeqlens.push_back(0);
  const int64_t n = static_cast<int64_t>(mb.tokens.size());
  const int64_t target =
      std::max<int64_t>(multiple, (n + multiple - 1) / multiple * multiple);
  if (target == n)
    return;
  for (int64_t t = 0; t < target - n; ++t) {
    mb.tokens.push_back(0);
    mb.positions.push_back(static_cast<int32_t>(t));
    mb.labels.push_back(0);
    mb.lossMask.push_back(0.0f);
  }
  mb.cuSeqlens.push_back(static_cast<int32_t>(target));
}
} // namespace

std::vector<int64_t> epochOrder(int64_t n, uint64_t seed, int64_t epoch,
                                bool shuffle) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    order[i] = i;
  if (!shuffle || n < 2)
    return order;
  uint64_t state = seed;
  state = splitmix64(state) ^ static_cast<uint64_t>(epoch);
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j =
        static_cast<int64_t>(bounded(state, static_cast<uint64_t>(i + 1)));
    std::swap(order[i], order[j]);
  }
  return order;
}

std::string IteratorState::toJson() const {
  return json{{"version", 1},
              {"step", step},
              {"epoch", epoch},
              {"offset", offset},
              {"fingerprint", fingerprint}}
      .dump();
}

absl::StatusOr<IteratorState> IteratorState::fromJson(const std::string &text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  IteratorState s;
  auto integer = [&](const char *key, int64_t &out) {
    if (!j.contains(key) || !j[key].is_number_integer() ||
        j[key].get<int64_t>() < 0)
      return false;
    out = j[key].get<int64_t>();
    return true;
  };
  if (!j.is_object() || !j.contains("version") || j["version"] != 1 ||
      !integer("step", s.step) || !integer("epoch", s.epoch) ||
      !integer("offset", s.offset) || !j.contains("fingerprint") ||
      !j["fingerprint"].is_string())
    return absl::InvalidArgumentError(
        "not an iterator state (version 1: step, epoch, offset, "
        "fingerprint)");
  s.fingerprint = j["fingerprint"].get<std::string>();
  return s;
}

void splitHoldout(int64_t n, int64_t holdout, uint64_t seed,
                  std::vector<int64_t> &train, std::vector<int64_t> &eval) {
  // Epoch -1: a shuffle no training epoch uses.
  std::vector<int64_t> order = epochOrder(n, seed, -1, /*shuffle=*/true);
  holdout = std::clamp<int64_t>(holdout, 0, n);
  eval.assign(order.begin(), order.begin() + holdout);
  train.assign(order.begin() + holdout, order.end());
  std::sort(eval.begin(), eval.end());
  std::sort(train.begin(), train.end());
}

struct BatchIterator::Impl {
  std::shared_ptr<const Dataset> ds;
  BatchConfig cfg;
  std::string fingerprint;
  int64_t step = 0, epoch = 0, offset = 0;

  // sft/rl: the sample ids drawn from (empty: all), the current epoch's
  // order.
  std::vector<int64_t> universe;
  int64_t orderEpoch = -1;
  std::vector<int64_t> order;

  int64_t count() const {
    return universe.empty() ? ds->size()
                            : static_cast<int64_t>(universe.size());
  }

  // cpt: document order and token prefix sums of recent epochs.
  struct Stream {
    std::vector<int64_t> docs;   ///< document order
    std::vector<int64_t> starts; ///< token offset of each, then the total
  };
  std::map<int64_t, Stream> streams;

  const std::vector<int64_t> &orderOf(int64_t e) {
    if (orderEpoch != e) {
      order = epochOrder(count(), cfg.seed, e, cfg.shuffle);
      if (!universe.empty())
        for (int64_t &i : order)
          i = universe[i];
      orderEpoch = e;
    }
    return order;
  }

  const Stream &streamOf(int64_t e) {
    auto it = streams.find(e);
    if (it != streams.end())
      return it->second;
    if (streams.size() >= 2)
      streams.erase(streams.begin());
    Stream s;
    s.docs = epochOrder(ds->size(), cfg.seed, e, cfg.shuffle);
    s.starts.reserve(s.docs.size() + 1);
    int64_t at = 0;
    for (int64_t d : s.docs) {
      s.starts.push_back(at);
      at += ds->length(d);
    }
    s.starts.push_back(at);
    return streams.emplace(e, std::move(s)).first->second;
  }

  /// Tokens [p, p + n) of the cpt stream, and where documents start in it
  /// (relative positions, 0 excluded).
  void streamTokens(int64_t p, int64_t n, std::vector<int32_t> &out,
                    std::vector<int64_t> &docStarts) {
    const int64_t total = ds->totalTokens();
    out.clear();
    docStarts.clear();
    while (static_cast<int64_t>(out.size()) < n) {
      const int64_t e = p / total, w = p % total;
      const Stream &s = streamOf(e);
      const size_t k = static_cast<size_t>(
          std::upper_bound(s.starts.begin(), s.starts.end(), w) -
          s.starts.begin() - 1);
      const int64_t within = w - s.starts[k];
      if (within == 0 && !out.empty())
        docStarts.push_back(static_cast<int64_t>(out.size()));
      std::span<const int32_t> doc = ds->tokens(s.docs[k]);
      const int64_t take =
          std::min<int64_t>(n - static_cast<int64_t>(out.size()),
                            static_cast<int64_t>(doc.size()) - within);
      out.insert(out.end(), doc.begin() + within, doc.begin() + within + take);
      p += take;
    }
  }

  /// Packs the samples of one rank: |lengths[i]| tokens each, |fill(i, mb)|
  /// appends sample i.
  template <typename Fill>
  std::vector<MicroBatch> microBatches(const std::vector<int64_t> &lengths,
                                       int64_t k, Fill fill) {
    std::vector<MicroBatch> out(static_cast<size_t>(k));
    // Unequal sizes: this cannot fail.
    std::vector<std::vector<int64_t>> parts =
        *balancedPartitions(lengths, k, /*equalSize=*/false);
    for (int64_t m = 0; m < k; ++m) {
      for (int64_t i : parts[m])
        fill(i, out[m]);
      pad(out[m], cfg.padMultiple);
    }
    return out;
  }
};

BatchIterator::BatchIterator(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
BatchIterator::~BatchIterator() = default;

absl::StatusOr<std::unique_ptr<BatchIterator>>
BatchIterator::create(std::shared_ptr<const Dataset> dataset,
                      const BatchConfig &c, const IteratorState *state,
                      std::vector<int64_t> samples) {
  auto bad = [](const std::string &what) {
    return absl::InvalidArgumentError(what);
  };
  if (c.globalBatchSize < 1 || c.dataParallel < 1 || c.contextParallel < 1 ||
      c.maxTokensPerMicroBatch < 1 || c.padMultiple < 1)
    return bad("global_batch_size, data_parallel, context_parallel, "
               "max_tokens_per_micro_batch and pad_multiple must be >= 1");
  if (c.globalBatchSize % c.dataParallel != 0)
    return bad(absl::StrCat("global_batch_size ", c.globalBatchSize,
                            " is not a multiple of data_parallel ",
                            c.dataParallel));
  if (dataset->size() == 0 || dataset->totalTokens() == 0)
    return bad("the dataset has no samples");
  const bool cpt = dataset->kind() == DatasetKind::kCpt;
  if (cpt && c.seqLength < 1)
    return bad("seq_length must be >= 1");
  if (!samples.empty()) {
    if (cpt)
      return bad("a sample subset is for sft/rl datasets, not cpt streams");
    for (int64_t s : samples)
      if (s < 0 || s >= dataset->size())
        return bad(absl::StrCat("sample id ", s, " is outside the dataset"));
  }
  auto impl = std::make_unique<Impl>();
  impl->ds = std::move(dataset);
  impl->cfg = c;
  impl->universe = std::move(samples);
  // What a resumed run must agree on: the dataset and every batch setting.
  const std::string settings = absl::StrCat(
      impl->ds->key(), "|gbs=", c.globalBatchSize, "|dp=", c.dataParallel,
      "|cp=", c.contextParallel, "|max=", c.maxTokensPerMicroBatch,
      "|pad=", c.padMultiple, "|seed=", c.seed, "|shuffle=", c.shuffle,
      "|seq=", cpt ? c.seqLength : 0, "|docs=", cpt && c.keepDocumentBoundaries,
      "|subset=",
      impl->universe.empty()
          ? uint64_t{0}
          : hashBytes(impl->universe.data(),
                      impl->universe.size() * sizeof(int64_t)));
  impl->fingerprint =
      absl::StrFormat("%016x", hashBytes(settings.data(), settings.size()));
  if (state) {
    if (state->fingerprint != impl->fingerprint)
      return bad(absl::StrCat(
          "the iterator state belongs to another dataset or batch config "
          "(state ",
          state->fingerprint, ", this run ", impl->fingerprint,
          "); resume with the same data and [batch] settings"));
    if (!cpt && state->offset >= impl->count())
      return bad("the iterator state's offset is past the dataset");
    impl->step = state->step;
    impl->epoch = state->epoch;
    impl->offset = state->offset;
  }
  return std::unique_ptr<BatchIterator>(new BatchIterator(std::move(impl)));
}

IteratorState BatchIterator::state() const {
  IteratorState s;
  s.step = impl_->step;
  s.epoch = impl_->epoch;
  s.offset = impl_->offset;
  s.fingerprint = impl_->fingerprint;
  return s;
}

int64_t BatchIterator::samplesPerEpoch() const {
  if (impl_->ds->kind() == DatasetKind::kCpt)
    return impl_->ds->totalTokens() / impl_->cfg.seqLength;
  return impl_->count();
}

double BatchIterator::stepsPerEpoch() const {
  return static_cast<double>(samplesPerEpoch()) /
         static_cast<double>(impl_->cfg.globalBatchSize);
}

absl::StatusOr<StepBatch> BatchIterator::next() {
  Impl &im = *impl_;
  const BatchConfig &c = im.cfg;
  const Dataset &ds = *im.ds;
  const bool cpt = ds.kind() == DatasetKind::kCpt;
  StepBatch batch;
  batch.step = im.step;

  // 1. The step's samples: dataset ids (sft/rl) or stream windows (cpt).
  std::vector<int64_t> picks;
  if (cpt) {
    batch.epoch = im.offset * c.seqLength / ds.totalTokens();
    for (int64_t i = 0; i < c.globalBatchSize; ++i)
      picks.push_back(im.offset + i);
    im.offset += c.globalBatchSize;
    im.epoch = im.offset * c.seqLength / ds.totalTokens();
  } else {
    batch.epoch = im.epoch;
    while (static_cast<int64_t>(picks.size()) < c.globalBatchSize) {
      const std::vector<int64_t> &order = im.orderOf(im.epoch);
      const int64_t take = std::min<int64_t>(c.globalBatchSize - picks.size(),
                                             im.count() - im.offset);
      picks.insert(picks.end(), order.begin() + im.offset,
                   order.begin() + im.offset + take);
      im.offset += take;
      if (im.offset == im.count()) {
        ++im.epoch;
        im.offset = 0;
      }
    }
  }
  ++im.step;

  // 2. Data-parallel ranks by striding.
  const int64_t dp = c.dataParallel;
  std::vector<std::vector<int64_t>> rankPicks(static_cast<size_t>(dp));
  for (size_t i = 0; i < picks.size(); ++i)
    rankPicks[i % dp].push_back(picks[i]);
  auto lengthOf = [&](int64_t pick) {
    return cpt ? c.seqLength : ds.length(pick);
  };

  // 3. Micro-batch count: the largest first-fit bin count over the ranks.
  const int64_t capacity = c.maxTokensPerMicroBatch * c.contextParallel;
  int64_t k = 1;
  std::vector<std::vector<int64_t>> rankLengths(static_cast<size_t>(dp));
  for (int64_t r = 0; r < dp; ++r) {
    for (int64_t p : rankPicks[r])
      rankLengths[r].push_back(lengthOf(p));
    k = std::max(k, firstFitBinCount(rankLengths[r], capacity));
  }

  // 4 + 5. Balanced partitions, packed.
  std::vector<int32_t> window, labels;
  std::vector<float> mask;
  std::vector<int64_t> docStarts;
  for (int64_t r = 0; r < dp; ++r) {
    batch.ranks.push_back(
        im.microBatches(rankLengths[r], k, [&](int64_t i, MicroBatch &mb) {
          const int64_t pick = rankPicks[r][i];
          mb.samples.push_back(pick);
          if (cpt) {
            const int64_t L = c.seqLength;
            im.streamTokens(pick * L, L + 1, window, docStarts);
            // Segments: the whole window, or one per document in it.
            std::vector<int64_t> cuts = {0};
            if (c.keepDocumentBoundaries)
              for (int64_t s : docStarts)
                if (s < L)
                  cuts.push_back(s);
            cuts.push_back(L);
            mask.assign(static_cast<size_t>(L), 1.0f);
            for (size_t s = 0; s + 1 < cuts.size(); ++s)
              appendSequence(mb, window.data() + cuts[s],
                             window.data() + cuts[s] + 1, mask.data() + cuts[s],
                             cuts[s + 1] - cuts[s]);
            return;
          }
          std::span<const int32_t> ids = ds.tokens(pick);
          std::span<const uint8_t> m = ds.lossMask(pick);
          const int64_t n = static_cast<int64_t>(ids.size());
          labels.assign(ids.begin() + 1, ids.end());
          labels.push_back(0);
          mask.assign(static_cast<size_t>(n), 0.0f);
          // Position t predicts token t + 1: its mask is that token's.
          for (int64_t t = 0; t + 1 < n && !m.empty(); ++t)
            mask[t] = m[t + 1];
          appendSequence(mb, ids.data(), labels.data(), mask.data(), n);
        }));
  }
  return batch;
}
} // namespace infir2::data
