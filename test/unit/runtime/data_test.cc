//===- data_test.cc - Datasets, caches, balancing, packing, resume --------===//
//
// Part of infir2.
//
// Karmarkar-Karp partitions against verl's own function
// (test/golden/packing/make_golden.py); tokenization against the tokenizer
// and chat template (themselves checked against Hugging Face in
// tokenizer_test.cc); packing and resume by their invariants.
//
//===----------------------------------------------------------------------===//

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "runtime/data/balance.h"
#include "runtime/data/batching.h"
#include "runtime/data/dataset.h"
#include "runtime/data/recipe_config.h"
#include "runtime/tokenizer/chat_template.h"
#include "gtest/gtest.h"

namespace {
namespace fs = std::filesystem;
using namespace infir2;
using namespace infir2::data;
using nlohmann::json;

#define EXPECT_CONTAINS(haystack, needle)                                      \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos)             \
      << "'" << (haystack) << "' lacks '" << (needle) << "'"

const text::Tokenizer &qwen() {
  static const text::Tokenizer *t = [] {
    auto loaded = text::Tokenizer::load(std::string(INFIR2_TEST_DATA_DIR) +
                                        "/qwen2.5-tokenizer");
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return loaded->release();
  }();
  return *t;
}

TEST(Balance, KarmarkarKarpMatchesVerl) {
  std::ifstream in(std::string(INFIR2_GOLDEN_DIR) +
                   "/packing/karmarkar_karp.jsonl");
  ASSERT_TRUE(in);
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    json c = json::parse(line);
    auto parts =
        balancedPartitions(c["lengths"].get<std::vector<int64_t>>(),
                           c["k"].get<int64_t>(), c["equal_size"].get<bool>());
    ASSERT_TRUE(parts.ok());
    ASSERT_EQ(json(*parts), c["partitions"]) << line.substr(0, 200);
    ++cases;
  }
  EXPECT_EQ(cases, 400);
}

TEST(Balance, FirstFitCountsBins) {
  EXPECT_EQ(firstFitBinCount({}, 10), 0);
  EXPECT_EQ(firstFitBinCount({6, 5, 4, 5}, 10), 2); // [6,4] [5,5]
  EXPECT_EQ(firstFitBinCount({7, 7, 7}, 10), 3);
  EXPECT_EQ(firstFitBinCount({25, 3}, 10), 2); // too long: a bin of its own
  auto parts = balancedPartitions({5, 1}, 3, false);
  ASSERT_EQ(parts->size(), 3u); // fewer items than parts: empty ones
  EXPECT_TRUE((*parts)[2].empty());
  EXPECT_FALSE(balancedPartitions({1, 2, 3}, 2, /*equalSize=*/true).ok());
}

/// A temporary directory per test.
class DataTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("infir2-data-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string &name, const std::string &text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  DatasetConfig config(DatasetKind kind, const std::string &path) {
    DatasetConfig c;
    c.kind = kind;
    c.path = path;
    c.cacheDir = (dir_ / "cache").string();
    return c;
  }
  /// A SFT file of |n| conversations with distinct lengths.
  std::string sftFile(int n) {
    std::string text;
    for (int i = 0; i < n; ++i) {
      json msgs = json::array(
          {{{"role", "user"}, {"content", "question " + std::to_string(i)}},
           {{"role", "assistant"},
            {"content", std::string(static_cast<size_t>(1 + (i * 37) % 200),
                                    'a' + i % 26)}}});
      text += json{{"messages", msgs}}.dump() + "\n";
    }
    return write("sft.jsonl", text);
  }
  fs::path dir_;
};

TEST_F(DataTest, SftSamplesAreTheChatTemplatesIdsAndMasks) {
  const std::string path = write(
      "sft.jsonl",
      R"({"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Yo"}]})"
      "\n\n"
      R"({"conv":[{"role":"system","content":"S"},{"role":"user","content":"Q"},{"role":"assistant","content":"A","step_loss_mask":0}]})"
      "\n");
  DatasetConfig c = config(DatasetKind::kSft, path);
  auto err = Dataset::open(c, qwen());
  ASSERT_FALSE(err.ok());
  EXPECT_CONTAINS(err.status().message(),
                  "sft.jsonl:3: no \"messages\" field (set skip_bad_lines");
  c.messagesKey = "conv";
  c.skipBadLines = true;
  auto ds = Dataset::open(c, qwen());
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ((*ds)->size(), 1);
  EXPECT_EQ((*ds)->skippedLines(), 1);
  EXPECT_EQ((*ds)->sourceLine(0), 3);
  auto chat = text::ChatTemplate::fromTokenizer(qwen());
  auto expected =
      (*chat)->tokenizeWithLossMask(*text::parseMessages(json::parse(
          R"([{"role":"system","content":"S"},{"role":"user","content":"Q"},)"
          R"({"role":"assistant","content":"A","step_loss_mask":0}])")));
  std::span<const int32_t> ids = (*ds)->tokens(0);
  EXPECT_EQ(std::vector<int32_t>(ids.begin(), ids.end()), expected->ids);
  std::span<const uint8_t> mask = (*ds)->lossMask(0);
  EXPECT_EQ(std::vector<uint8_t>(mask.begin(), mask.end()), expected->lossMask);
}

TEST_F(DataTest, TheCacheIsReusedAndInvalidated) {
  const std::string path = sftFile(50);
  DatasetConfig c = config(DatasetKind::kSft, path);
  auto first = Dataset::open(c, qwen());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE((*first)->fromCache());
  auto second = Dataset::open(c, qwen());
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE((*second)->fromCache());
  EXPECT_EQ((*second)->cachePath(), (*first)->cachePath());
  EXPECT_EQ((*second)->totalTokens(), (*first)->totalTokens());
  // Another field name is another cache; so is another source.
  c.threads = 1;
  std::ofstream(path, std::ios::app)
      << json{{"messages", json::array({{{"role", "user"}, {"content", "x"}}})}}
             .dump()
      << "\n";
  auto third = Dataset::open(c, qwen());
  ASSERT_TRUE(third.ok());
  EXPECT_FALSE((*third)->fromCache());
  EXPECT_EQ((*third)->size(), 51);
  // A damaged cache is rebuilt, not trusted.
  const std::string cache = (*third)->cachePath();
  third->reset();
  {
    std::fstream f(cache, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8);
    f.put('\x07');
  }
  auto fourth = Dataset::open(c, qwen());
  ASSERT_TRUE(fourth.ok());
  EXPECT_FALSE((*fourth)->fromCache());
  EXPECT_EQ((*fourth)->size(), 51);
  // So is one whose data were damaged: a token id past the vocabulary.
  fourth->reset();
  {
    std::fstream f(cache, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(32); // the first token id
    const int32_t bad = 1 << 30;
    f.write(reinterpret_cast<const char *>(&bad), 4);
  }
  auto fifth = Dataset::open(c, qwen());
  ASSERT_TRUE(fifth.ok());
  EXPECT_FALSE((*fifth)->fromCache());
  EXPECT_LT((*fifth)->tokens(0)[0], qwen().vocabSize());
}

TEST_F(DataTest, RlAndCptDatasets) {
  const std::string rl = write(
      "rl.jsonl", R"({"prompt":[{"role":"user","content":"1+1?"}],"label":"2"})"
                  "\n"
                  R"({"prompt":"raw text","label":34})"
                  "\n");
  auto ds = Dataset::open(config(DatasetKind::kRl, rl), qwen());
  ASSERT_TRUE(ds.ok()) << ds.status();
  ASSERT_EQ((*ds)->size(), 2);
  EXPECT_EQ((*ds)->label(0), "2");
  EXPECT_EQ((*ds)->label(1), "34");
  std::span<const int32_t> p = (*ds)->tokens(0);
  // ... <|im_start|>assistant\n: the generation prompt ends the prompt.
  EXPECT_EQ(std::vector<int32_t>(p.end() - 3, p.end()),
            (std::vector<int32_t>{151644, 77091, 198}));
  EXPECT_TRUE((*ds)->lossMask(0).empty());

  const std::string cpt = write("cpt.jsonl", R"({"text":"Hello world"})"
                                             "\n"
                                             R"({"body":"no text"})"
                                             "\n");
  auto bad = Dataset::open(config(DatasetKind::kCpt, cpt), qwen());
  ASSERT_FALSE(bad.ok());
  EXPECT_CONTAINS(bad.status().message(), "cpt.jsonl:2: no string \"text\"");
  DatasetConfig c = config(DatasetKind::kCpt, cpt);
  c.skipBadLines = true;
  auto docs = Dataset::open(c, qwen());
  ASSERT_TRUE(docs.ok());
  std::span<const int32_t> t = (*docs)->tokens(0);
  EXPECT_EQ(std::vector<int32_t>(t.begin(), t.end()),
            (std::vector<int32_t>{9707, 1879, 151643})); // + <|endoftext|>
}

/// Checks the invariants of one step against the dataset.
void checkStep(const Dataset &ds, const BatchConfig &c, const StepBatch &b,
               std::multiset<int64_t> &seen) {
  ASSERT_EQ(static_cast<int64_t>(b.ranks.size()), c.dataParallel);
  const size_t k = b.ranks[0].size();
  int64_t samples = 0;
  for (const auto &rank : b.ranks) {
    ASSERT_EQ(rank.size(), k); // every rank runs the same count
    for (const MicroBatch &mb : rank) {
      const int64_t n = static_cast<int64_t>(mb.tokens.size());
      ASSERT_EQ(n % c.padMultiple, 0);
      ASSERT_GE(n, c.padMultiple);
      ASSERT_EQ(mb.positions.size(), mb.tokens.size());
      ASSERT_EQ(mb.labels.size(), mb.tokens.size());
      ASSERT_EQ(mb.lossMask.size(), mb.tokens.size());
      ASSERT_EQ(mb.cuSeqlens.front(), 0);
      ASSERT_EQ(mb.cuSeqlens.back(), n);
      // One sequence per sample, then at most one padding sequence.
      ASSERT_GE(mb.cuSeqlens.size(), mb.samples.size() + 1);
      for (size_t s = 0; s < mb.samples.size(); ++s) {
        const int64_t id = mb.samples[s];
        seen.insert(id);
        std::span<const int32_t> toks = ds.tokens(id);
        std::span<const uint8_t> mask = ds.lossMask(id);
        const int32_t at = mb.cuSeqlens[s];
        ASSERT_EQ(mb.cuSeqlens[s + 1] - at, static_cast<int32_t>(toks.size()));
        for (size_t t = 0; t < toks.size(); ++t) {
          ASSERT_EQ(mb.tokens[at + t], toks[t]); // nothing lost or moved
          ASSERT_EQ(mb.positions[at + t], static_cast<int32_t>(t));
          if (t + 1 < toks.size()) {
            ASSERT_EQ(mb.labels[at + t], toks[t + 1]);
            ASSERT_EQ(mb.lossMask[at + t], mask.empty() ? 0.0f : mask[t + 1]);
          } else {
            ASSERT_EQ(mb.lossMask[at + t], 0.0f);
          }
        }
      }
      for (int64_t t = mb.realTokens; t < n; ++t) { // the padding
        ASSERT_EQ(mb.tokens[t], 0);
        ASSERT_EQ(mb.lossMask[t], 0.0f);
      }
      samples += static_cast<int64_t>(mb.samples.size());
    }
  }
  ASSERT_EQ(samples, c.globalBatchSize);
}

TEST_F(DataTest, PackingKeepsEverySampleOnceAndBalances) {
  auto ds = Dataset::open(config(DatasetKind::kSft, sftFile(100)), qwen());
  ASSERT_TRUE(ds.ok());
  BatchConfig c;
  c.globalBatchSize = 20;
  c.dataParallel = 4;
  c.maxTokensPerMicroBatch = 256;
  c.padMultiple = 64;
  auto it = BatchIterator::create(*ds, c);
  ASSERT_TRUE(it.ok()) << it.status();
  EXPECT_DOUBLE_EQ((*it)->stepsPerEpoch(), 5.0);
  std::multiset<int64_t> seen;
  for (int s = 0; s < 5; ++s) {
    auto b = (*it)->next();
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->epoch, 0);
    checkStep(**ds, c, *b, seen);
    // Ranks get the step's samples by striding, and every rank runs the
    // largest first-fit bin count (capacity 256) of them.
    const std::vector<int64_t> order = epochOrder(100, c.seed, 0, true);
    int64_t expectK = 1;
    for (int64_t r = 0; r < 4; ++r) {
      std::vector<int64_t> lens;
      std::set<int64_t> expected, got;
      for (int64_t i = r; i < 20; i += 4) {
        expected.insert(order[s * 20 + i]);
        lens.push_back((*ds)->length(order[s * 20 + i]));
      }
      expectK = std::max(expectK, firstFitBinCount(lens, 256));
      for (const MicroBatch &mb : b->ranks[r])
        got.insert(mb.samples.begin(), mb.samples.end());
      EXPECT_EQ(got, expected) << "step " << s << " rank " << r;
    }
    EXPECT_EQ(static_cast<int64_t>(b->ranks[0].size()), expectK);
  }
  // One epoch: every sample exactly once.
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 100u);
  auto next = (*it)->next();
  EXPECT_EQ(next->epoch, 1);
}

TEST_F(DataTest, ShuffleIsDeterministicPerSeedAndEpoch) {
  EXPECT_EQ(epochOrder(1000, 42, 3, true), epochOrder(1000, 42, 3, true));
  EXPECT_NE(epochOrder(1000, 42, 3, true), epochOrder(1000, 42, 4, true));
  EXPECT_NE(epochOrder(1000, 42, 3, true), epochOrder(1000, 43, 3, true));
  std::vector<int64_t> order = epochOrder(1000, 42, 0, true);
  std::vector<int64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> identity(1000);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(sorted, identity);
  EXPECT_NE(order, identity);
  EXPECT_EQ(epochOrder(5, 42, 0, false), (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

bool sameBatch(const StepBatch &a, const StepBatch &b) {
  if (a.step != b.step || a.epoch != b.epoch ||
      a.ranks.size() != b.ranks.size())
    return false;
  for (size_t r = 0; r < a.ranks.size(); ++r) {
    if (a.ranks[r].size() != b.ranks[r].size())
      return false;
    for (size_t m = 0; m < a.ranks[r].size(); ++m) {
      const MicroBatch &x = a.ranks[r][m], &y = b.ranks[r][m];
      if (x.tokens != y.tokens || x.positions != y.positions ||
          x.cuSeqlens != y.cuSeqlens || x.labels != y.labels ||
          x.lossMask != y.lossMask || x.samples != y.samples)
        return false;
    }
  }
  return true;
}

TEST_F(DataTest, ResumeContinuesWithTheExactNextStep) {
  auto ds = Dataset::open(config(DatasetKind::kSft, sftFile(37)), qwen());
  BatchConfig c;
  c.globalBatchSize = 8; // 37 is not a multiple: steps straddle epochs
  c.dataParallel = 2;
  c.maxTokensPerMicroBatch = 300;
  auto a = BatchIterator::create(*ds, c);
  for (int s = 0; s < 11; ++s)
    ASSERT_TRUE((*a)->next().ok());
  const std::string saved = (*a)->state().toJson();
  auto state = IteratorState::fromJson(saved);
  ASSERT_TRUE(state.ok()) << state.status();
  auto b = BatchIterator::create(*ds, c, &*state);
  ASSERT_TRUE(b.ok()) << b.status();
  for (int s = 0; s < 7; ++s) {
    auto x = (*a)->next(), y = (*b)->next();
    ASSERT_TRUE(x.ok() && y.ok());
    ASSERT_TRUE(sameBatch(*x, *y)) << "step " << x->step;
  }
  // Another batch config cannot resume this state.
  c.globalBatchSize = 16;
  auto other = BatchIterator::create(*ds, c, &*state);
  ASSERT_FALSE(other.ok());
  EXPECT_CONTAINS(other.status().message(), "belongs to another dataset");
  EXPECT_FALSE(IteratorState::fromJson("{\"step\": 1}").ok());
}

TEST_F(DataTest, HoldoutSplitAndSubsetIterator) {
  std::vector<int64_t> train, eval, train2, eval2;
  splitHoldout(37, 5, 42, train, eval);
  ASSERT_EQ(eval.size(), 5u);
  ASSERT_EQ(train.size(), 32u);
  EXPECT_TRUE(std::is_sorted(train.begin(), train.end()));
  EXPECT_TRUE(std::is_sorted(eval.begin(), eval.end()));
  std::vector<int64_t> all = train;
  all.insert(all.end(), eval.begin(), eval.end());
  std::sort(all.begin(), all.end());
  for (int64_t i = 0; i < 37; ++i)
    ASSERT_EQ(all[i], i); // disjoint and complete
  splitHoldout(37, 5, 42, train2, eval2);
  EXPECT_EQ(eval, eval2);
  splitHoldout(37, 5, 43, train2, eval2);
  EXPECT_NE(eval, eval2);

  // The iterator over the training subset sees each of its samples once per
  // epoch and never a held-out one.
  auto ds = Dataset::open(config(DatasetKind::kSft, sftFile(37)), qwen());
  BatchConfig c;
  c.globalBatchSize = 8;
  c.maxTokensPerMicroBatch = 300;
  auto it = BatchIterator::create(*ds, c, nullptr, train);
  ASSERT_TRUE(it.ok()) << it.status();
  std::vector<int64_t> seen;
  for (int s = 0; s < 4; ++s) { // 32 samples: one epoch
    auto b = (*it)->next();
    ASSERT_TRUE(b.ok()) << b.status();
    for (const auto &rank : b->ranks)
      for (const MicroBatch &mb : rank)
        seen.insert(seen.end(), mb.samples.begin(), mb.samples.end());
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, train);
  // Another subset is another iterator: its state does not resume here.
  auto state = (*it)->state();
  auto other = BatchIterator::create(*ds, c, &state, {});
  ASSERT_FALSE(other.ok());
  EXPECT_CONTAINS(other.status().message(), "belongs to another dataset");
  // A subset id outside the dataset is an error.
  ASSERT_FALSE(BatchIterator::create(*ds, c, nullptr, {0, 37}).ok());
}

TEST_F(DataTest, CptWindowsOverlapByOneAndKeepDocumentBoundaries) {
  std::string text;
  for (int i = 0; i < 30; ++i)
    text += json{{"text", "document number " + std::to_string(i) + " " +
                              std::string(static_cast<size_t>(i * 3), 'x')}}
                .dump() +
            "\n";
  auto ds =
      Dataset::open(config(DatasetKind::kCpt, write("c.jsonl", text)), qwen());
  ASSERT_TRUE(ds.ok());
  BatchConfig c;
  c.globalBatchSize = 4;
  c.dataParallel = 2;
  c.seqLength = 16;
  c.maxTokensPerMicroBatch = 32;
  c.padMultiple = 16;
  c.shuffle = false;
  // The stream: documents in order, epoch after epoch.
  std::vector<int32_t> stream;
  for (int e = 0; e < 2; ++e)
    for (int64_t d = 0; d < (*ds)->size(); ++d)
      for (int32_t t : (*ds)->tokens(d))
        stream.push_back(t);
  for (bool boundaries : {false, true}) {
    c.keepDocumentBoundaries = boundaries;
    auto it = BatchIterator::create(*ds, c);
    ASSERT_TRUE(it.ok()) << it.status();
    for (int s = 0; s < 3; ++s) {
      auto b = (*it)->next();
      ASSERT_TRUE(b.ok());
      for (const auto &rank : b->ranks)
        for (const MicroBatch &mb : rank) {
          int64_t at = 0;
          size_t seq = 0;
          for (int64_t w : mb.samples) {
            for (int64_t t = 0; t < 16; ++t) {
              ASSERT_EQ(mb.tokens[at + t], stream[w * 16 + t]);
              ASSERT_EQ(mb.labels[at + t], stream[w * 16 + t + 1]);
              ASSERT_EQ(mb.lossMask[at + t], 1.0f);
              // Sequences start at the window or, with boundaries, at a
              // document's first token.
              if (mb.cuSeqlens[seq] == at + t) {
                ASSERT_EQ(mb.positions[at + t], 0);
                ++seq;
              }
            }
            at += 16;
          }
          if (!boundaries)
            ASSERT_EQ(mb.cuSeqlens.size(), mb.samples.size() + 1);
          else
            ASSERT_GT(mb.cuSeqlens.size(), mb.samples.size() + 1);
        }
    }
  }
}

TEST_F(DataTest, RecipeFilesAreReadStrictly) {
  const std::string toml = R"([tokenizer]
path = "tok"
[data]
kind = "sft"
path = "data/sft.jsonl"
seed = 7
[batch]
global_batch_size = 64
data_parallel = 4
max_tokens_per_micro_batch = 32768
[optimizer]
lr = 1e-5
)";
  auto r = parseDataRecipe(toml, "/recipes/sft.toml");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->tokenizerDir, "/recipes/tok");
  EXPECT_EQ(r->dataset.path, "/recipes/data/sft.jsonl");
  EXPECT_EQ(r->batch.seed, 7u);
  EXPECT_EQ(r->batch.dataParallel, 4);
  EXPECT_EQ(r->batch.padMultiple, 128);
  std::string t2 = toml;
  t2.replace(t2.find("seed"), 4, "sed");
  auto bad = parseDataRecipe(t2, "r.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_CONTAINS(bad.status().message(), "r.toml:6: unknown key data.sed");
  t2 = toml;
  t2.replace(t2.find("\"sft\""), 5, "\"dpo\"");
  EXPECT_CONTAINS(parseDataRecipe(t2, "r.toml").status().message(),
                  "r.toml:4: data.kind 'dpo' is not sft, rl or cpt");
  t2 = toml;
  t2.replace(t2.find("64"), 2, "\"64\"");
  EXPECT_CONTAINS(parseDataRecipe(t2, "r.toml").status().message(),
                  "r.toml:8: batch.global_batch_size is not a non-negative "
                  "integer");
  EXPECT_CONTAINS(parseDataRecipe("[data\n", "r.toml").status().message(),
                  "r.toml:1:");
}
} // namespace
