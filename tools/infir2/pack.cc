//===- pack.cc - `infir2 pack` --------------------------------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// infir2 pack --config recipe.toml --dry-run [--steps N]
//             [--state-in FILE] [--state-out FILE] [--dump FILE]
// Tokenizes the recipe's dataset into its cache (once), runs the step
// iterator and prints micro-batch statistics (docs/guide/infir2-pack.md).
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/data/batching.h"
#include "runtime/data/dataset.h"
#include "runtime/data/recipe_config.h"
#include "runtime/tokenizer/tokenizer.h"
#include "tools/infir2/commands.h"

namespace infir2::runner {
namespace {
constexpr const char *kUsage =
    "usage: infir2 pack --config RECIPE.toml --dry-run [--steps N]\n"
    "                   [--state-in FILE] [--state-out FILE] [--dump FILE]\n"
    "\n"
    "  --dry-run        tokenize the dataset (cached) and print micro-batch\n"
    "                   statistics; nothing else is written\n"
    "  --steps N        steps to run (default: one epoch)\n"
    "  --state-in FILE  resume from an iterator state (JSON)\n"
    "  --state-out FILE write the iterator state after the steps\n"
    "  --dump FILE      write the micro-batches as JSON lines\n";

int fail(const std::string &message, int code = 1) {
  std::fprintf(stderr, "infir2 pack: %s\n", message.c_str());
  return code;
}

bool readText(const std::string &path, std::string &out) {
  std::ifstream in(path);
  if (!in)
    return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

template <typename T>
std::string list(const std::vector<T> &v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i)
    absl::StrAppend(&s, i ? "," : "", v[i]);
  return s + "]";
}

struct Summary {
  int64_t steps = 0, samples = 0, microBatches = 0, minK = INT64_MAX, maxK = 0;
  int64_t realTokens = 0, paddedTokens = 0, maxReal = 0;
  int64_t overCapacity = 0;  ///< micro-batches holding more than the capacity
  double worstImbalance = 1; ///< max/min real tokens across a step's ranks
};
} // namespace

int runPack(int argc, char **argv) {
  std::string config, stateIn, stateOut, dump;
  bool dryRun = false;
  int64_t steps = -1;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--dry-run") {
      dryRun = true;
      continue;
    }
    if (i + 1 >= argc)
      return fail(absl::StrCat("'", arg, "' needs a value\n", kUsage), 2);
    std::string v = argv[++i];
    if (arg == "--config")
      config = v;
    else if (arg == "--steps") {
      char *end = nullptr;
      steps = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || steps < 0)
        return fail(
            absl::StrCat("--steps '", v, "' is not a non-negative integer"), 2);
    } else if (arg == "--state-in")
      stateIn = v;
    else if (arg == "--state-out")
      stateOut = v;
    else if (arg == "--dump")
      dump = v;
    else
      return fail(absl::StrCat("unknown option '", arg, "'\n", kUsage), 2);
  }
  if (config.empty())
    return fail(absl::StrCat("--config is required\n", kUsage), 2);
  if (!dryRun)
    return fail("only --dry-run exists: packing writes nothing of its own "
                "(training consumes the micro-batches directly); pass "
                "--dry-run to see the statistics",
                2);

  absl::StatusOr<data::DataRecipe> recipe = data::loadDataRecipe(config);
  if (!recipe.ok())
    return fail(std::string(recipe.status().message()));
  absl::StatusOr<std::unique_ptr<text::Tokenizer>> tok =
      text::Tokenizer::load(recipe->tokenizerDir);
  if (!tok.ok())
    return fail(std::string(tok.status().message()));

  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  };
  absl::StatusOr<std::shared_ptr<data::Dataset>> ds = data::Dataset::open(
      recipe->dataset, **tok, [&](int64_t done, int64_t total) {
        const double s = elapsed(), rate = done / std::max(s, 1e-9);
        std::fprintf(stderr,
                     "infir2 pack: tokenizing %s: %lld/%lld lines, %.0f "
                     "lines/s, ETA %.0f s\n",
                     recipe->dataset.path.c_str(), static_cast<long long>(done),
                     static_cast<long long>(total), rate,
                     (total - done) / std::max(rate, 1e-9));
      });
  if (!ds.ok())
    return fail(std::string(ds.status().message()));
  const data::Dataset &d = **ds;
  std::printf(
      "dataset: %s (%s), %lld samples, %lld tokens, %s %s\n",
      recipe->dataset.path.c_str(), data::datasetKindName(d.kind()),
      static_cast<long long>(d.size()), static_cast<long long>(d.totalTokens()),
      d.fromCache() ? "cache hit" : "tokenized into", d.cachePath().c_str());
  if (d.skippedLines() > 0) {
    std::printf("skipped %lld bad lines (skip_bad_lines), e.g.:\n",
                static_cast<long long>(d.skippedLines()));
    for (const std::string &e : d.skipExamples())
      std::printf("  %s\n", e.c_str());
  }

  std::unique_ptr<data::IteratorState> state;
  if (!stateIn.empty()) {
    std::string text;
    if (!readText(stateIn, text))
      return fail(absl::StrCat(stateIn, ": cannot read"));
    absl::StatusOr<data::IteratorState> s = data::IteratorState::fromJson(text);
    if (!s.ok())
      return fail(absl::StrCat(stateIn, ": ", s.status().message()));
    state = std::make_unique<data::IteratorState>(*s);
  }
  const data::BatchConfig &bc = recipe->batch;
  absl::StatusOr<std::unique_ptr<data::BatchIterator>> it =
      data::BatchIterator::create(*ds, bc, state.get());
  if (!it.ok())
    return fail(std::string(it.status().message()));
  if (steps < 0)
    steps = static_cast<int64_t>(std::ceil((*it)->stepsPerEpoch()));
  const int64_t capacity = bc.maxTokensPerMicroBatch * bc.contextParallel;
  std::printf("batch: %lld samples/step over %lld data-parallel ranks, "
              "micro-batch capacity %lld tokens, padded to %lld; %.2f "
              "steps/epoch\n",
              static_cast<long long>(bc.globalBatchSize),
              static_cast<long long>(bc.dataParallel),
              static_cast<long long>(capacity),
              static_cast<long long>(bc.padMultiple), (*it)->stepsPerEpoch());

  std::ofstream dumpOut;
  if (!dump.empty()) {
    dumpOut.open(dump);
    if (!dumpOut)
      return fail(absl::StrCat("cannot write ", dump));
  }
  Summary sum;
  for (int64_t s = 0; s < steps; ++s) {
    absl::StatusOr<data::StepBatch> b = (*it)->next();
    if (!b.ok())
      return fail(std::string(b.status().message()));
    const int64_t k = static_cast<int64_t>(b->ranks[0].size());
    sum.minK = std::min(sum.minK, k);
    sum.maxK = std::max(sum.maxK, k);
    ++sum.steps;
    int64_t rankMin = INT64_MAX, rankMax = 0;
    for (size_t r = 0; r < b->ranks.size(); ++r) {
      int64_t rankReal = 0;
      for (size_t m = 0; m < b->ranks[r].size(); ++m) {
        const data::MicroBatch &mb = b->ranks[r][m];
        ++sum.microBatches;
        sum.samples += static_cast<int64_t>(mb.samples.size());
        sum.realTokens += mb.realTokens;
        sum.paddedTokens += static_cast<int64_t>(mb.tokens.size());
        sum.maxReal = std::max(sum.maxReal, mb.realTokens);
        sum.overCapacity += mb.realTokens > capacity;
        rankReal += mb.realTokens;
        if (dumpOut)
          dumpOut << absl::StrCat(
              "{\"step\":", b->step, ",\"epoch\":", b->epoch, ",\"rank\":", r,
              ",\"micro_batch\":", m, ",\"samples\":", list(mb.samples),
              ",\"tokens\":", list(mb.tokens),
              ",\"positions\":", list(mb.positions),
              ",\"cu_seqlens\":", list(mb.cuSeqlens),
              ",\"labels\":", list(mb.labels),
              ",\"loss_mask\":", list(mb.lossMask), "}\n");
      }
      rankMin = std::min(rankMin, rankReal);
      rankMax = std::max(rankMax, rankReal);
    }
    if (rankMin > 0)
      sum.worstImbalance =
          std::max(sum.worstImbalance, static_cast<double>(rankMax) / rankMin);
    if (s < 5 || s + 1 == steps)
      std::printf("step %lld (epoch %lld): %lld micro-batches/rank, real "
                  "tokens per rank %lld..%lld\n",
                  static_cast<long long>(b->step),
                  static_cast<long long>(b->epoch), static_cast<long long>(k),
                  static_cast<long long>(rankMin),
                  static_cast<long long>(rankMax));
    else if (s == 5)
      std::printf("...\n");
  }
  if (sum.steps > 0) {
    std::printf(
        "\n| steps | samples | micro-batches/step (min..max) | tokens per "
        "micro-batch (mean, max) | capacity used | padding | over capacity | "
        "worst rank imbalance |\n"
        "| ---: | ---: | --- | --- | ---: | ---: | ---: | ---: |\n"
        "| %lld | %lld | %lld..%lld per rank | %.0f, %lld | %.1f%% | %.2f%% | "
        "%lld | %.3f |\n",
        static_cast<long long>(sum.steps), static_cast<long long>(sum.samples),
        static_cast<long long>(sum.minK), static_cast<long long>(sum.maxK),
        static_cast<double>(sum.realTokens) / sum.microBatches,
        static_cast<long long>(sum.maxReal),
        100.0 * sum.realTokens /
            (static_cast<double>(sum.microBatches) *
             static_cast<double>(capacity)),
        100.0 * (sum.paddedTokens - sum.realTokens) /
            std::max<int64_t>(sum.paddedTokens, 1),
        static_cast<long long>(sum.overCapacity), sum.worstImbalance);
  }
  std::printf("%.2f s\n", elapsed());
  if (!stateOut.empty()) {
    std::ofstream out(stateOut);
    out << (*it)->state().toJson() << "\n";
    if (!out)
      return fail(absl::StrCat("cannot write ", stateOut));
  }
  return 0;
}
} // namespace infir2::runner
