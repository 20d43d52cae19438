//===- trainer.cc - The language-model training loop (SFT, CPT) -----------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "recipes/train/trainer.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "runtime/cpu/executor.h"
#include "runtime/cpu/kernels.h"
#include "runtime/data/batching.h"
#include "runtime/data/dataset.h"
#include "runtime/io/safetensors.h"
#include "runtime/lm/gradients.h"
#include "runtime/numerics/parallel.h"
#include "runtime/tokenizer/tokenizer.h"
#include "runtime/train/checkpoint.h"
#include "runtime/train/metrics.h"
#include "runtime/train/optimizer.h"
#include "runtime/train/optimizer_kernels.h"

namespace infir2::recipes {
namespace {
namespace fs = std::filesystem;

using Clock = std::chrono::steady_clock;
using nlohmann::json;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string hms(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0)
    return "--:--";
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600)
    return absl::StrFormat("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  return absl::StrFormat("%02d:%02d", s / 60, s % 60);
}

absl::StatusOr<std::string> readText(const fs::path &path) {
  std::ifstream in(path);
  if (!in)
    return absl::NotFoundError(absl::StrCat(path.string(), ": cannot read"));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

uint64_t splitmix64(uint64_t &state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// transformers' Qwen2 initialization (_init_weights), seeded per tensor so
/// the values do not depend on the order: N(0, std) for linear and
/// embedding weights, 0 for biases, 1 for RMSNorm weights.
cpu::Tensor randomInit(const artifact::Parameter &p, double stdev,
                       uint64_t seed) {
  cpu::Tensor t = cpu::Tensor::zeros(DType::kF32, p.shape);
  float *v = t.data<float>();
  const int64_t n = t.numel();
  const bool bias =
      p.name.size() > 5 && p.name.compare(p.name.size() - 5, 5, ".bias") == 0;
  if (bias)
    return t;
  if (p.shape.size() == 1) { // RMSNorm weights
    std::fill(v, v + n, 1.0f);
    return t;
  }
  uint64_t state = seed ^ data::hashBytes(p.name.data(), p.name.size());
  for (int64_t i = 0; i < n; i += 2) { // Box-Muller, two values per draw
    const double u1 =
        (static_cast<double>(splitmix64(state) >> 11) + 1.0) * 0x1p-53;
    const double u2 = static_cast<double>(splitmix64(state) >> 11) * 0x1p-53;
    const double r = std::sqrt(-2.0 * std::log(u1)) * stdev;
    v[i] = static_cast<float>(r * std::cos(2 * M_PI * u2));
    if (i + 1 < n)
      v[i + 1] = static_cast<float>(r * std::sin(2 * M_PI * u2));
  }
  return t;
}

/// The tensors of a micro-batch as entry-point inputs.
std::map<std::string, cpu::Tensor> inputsOf(const data::MicroBatch &mb) {
  const int64_t n = static_cast<int64_t>(mb.tokens.size());
  const int64_t s = static_cast<int64_t>(mb.cuSeqlens.size());
  return {
      {"token_ids", cpu::Tensor::copyOf(DType::kI32, {n}, mb.tokens.data())},
      {"position_ids",
       cpu::Tensor::copyOf(DType::kI32, {n}, mb.positions.data())},
      {"cu_seqlens",
       cpu::Tensor::copyOf(DType::kI32, {s}, mb.cuSeqlens.data())},
      {"labels", cpu::Tensor::copyOf(DType::kI32, {n}, mb.labels.data())},
      {"loss_mask", cpu::Tensor::copyOf(DType::kF32, {n}, mb.lossMask.data())}};
}

/// a += b, elementwise (f32, same shape).
void accumulate(cpu::Tensor &a, const cpu::Tensor &b) {
  float *pa = a.data<float>();
  const float *pb = b.data<float>();
  numerics::parallelFor(a.numel(), 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      pa[i] += pb[i];
  });
}

void scale(cpu::Tensor &a, float s) {
  float *p = a.data<float>();
  numerics::parallelFor(a.numel(), 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      p[i] *= s;
  });
}

/// The progress display: one rewritten line on a terminal, log lines
/// otherwise.
class Progress {
public:
  explicit Progress(int64_t logInterval)
      : tty_(::isatty(STDERR_FILENO)), interval_(logInterval) {}

  void step(int64_t step, int64_t total, const std::string &line) {
    if (tty_) {
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
      open_ = true;
    } else if (step % interval_ == 0 || step == total || step == 1) {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
  }
  /// A message on its own line (the progress line is redrawn after it).
  void note(const std::string &text) {
    if (open_)
      std::fprintf(stderr, "\n");
    open_ = false;
    std::fprintf(stderr, "%s\n", text.c_str());
    std::fflush(stderr);
  }
  void finish() {
    if (open_)
      std::fprintf(stderr, "\n");
    open_ = false;
  }

private:
  bool tty_;
  int64_t interval_;
  bool open_ = false;
};

/// metrics.jsonl: the lines of steps <= |step| (a resumed run drops what a
/// killed run logged after its checkpoint); returns the curves they hold.
absl::Status trimMetrics(const fs::path &path, int64_t step,
                         std::vector<train::CurvePoint> &trainCurve,
                         std::vector<train::CurvePoint> &evalCurve) {
  std::ifstream in(path);
  if (!in)
    return absl::OkStatus();
  std::string kept, line;
  while (std::getline(in, line)) {
    json j = json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("step") || !j["step"].is_number())
      continue; // a torn last line
    const int64_t s = j["step"].get<int64_t>();
    if (s > step)
      continue;
    kept += line + "\n";
    if (j.contains("loss") && j["loss"].is_number())
      trainCurve.push_back({s, j["loss"].get<double>()});
    if (j.contains("eval_loss") && j["eval_loss"].is_number())
      evalCurve.push_back({s, j["eval_loss"].get<double>()});
  }
  return train::writeFileAtomic(path.string(), kept);
}

std::string jsonNumber(double v) {
  if (!std::isfinite(v))
    return "null";
  return absl::StrFormat("%.17g", v);
}
} // namespace

absl::StatusOr<TrainSummary> runTraining(const TrainOptions &options) {
  const TrainRecipe &r = options.recipe;
  const fs::path out(options.outputDir);
  const fs::path checkpoints = out / "checkpoints";
  std::error_code ec;
  fs::create_directories(checkpoints, ec);
  if (ec)
    return absl::InternalError(absl::StrCat(
        "cannot create ", checkpoints.string(), ": ", ec.message()));
  const int stale = train::removeIncompleteSaves(checkpoints.string());
  auto existing = train::listCheckpoints(checkpoints.string());
  if (!options.resume && !existing.empty())
    return absl::FailedPreconditionError(
        absl::StrCat(out.string(), " already holds checkpoints (newest: step-",
                     existing.back().first,
                     "); pass --resume to continue that run, or choose another "
                     "--output-dir"));
  if (options.resume && existing.empty())
    std::fprintf(stderr,
                 "infir2 train: --resume: no complete checkpoint in %s; "
                 "starting from step 0\n",
                 checkpoints.string().c_str());
  if (stale > 0)
    std::fprintf(stderr,
                 "infir2 train: removed %d incomplete checkpoint(s) of an "
                 "interrupted save\n",
                 stale);

  // Data.
  absl::StatusOr<std::unique_ptr<text::Tokenizer>> tokenizer =
      text::Tokenizer::load(r.data.tokenizerDir);
  if (!tokenizer.ok())
    return tokenizer.status();
  const auto tokStart = Clock::now();
  auto tokProgress = [&](const std::string &path) {
    return [&, path](int64_t done, int64_t total) {
      const double rate = done / std::max(since(tokStart), 1e-9);
      std::fprintf(
          stderr, "infir2 train: tokenizing %s: %lld/%lld lines, ETA %.0f s\n",
          path.c_str(), static_cast<long long>(done),
          static_cast<long long>(total), (total - done) / std::max(rate, 1e-9));
    };
  };
  absl::StatusOr<std::shared_ptr<data::Dataset>> dataset = data::Dataset::open(
      r.data.dataset, **tokenizer, tokProgress(r.data.dataset.path));
  if (!dataset.ok())
    return dataset.status();
  std::shared_ptr<const data::Dataset> evalSet;
  std::vector<int64_t> trainIds, evalIds;
  if (r.holdoutSamples > 0) {
    if (r.holdoutSamples >= (*dataset)->size())
      return absl::InvalidArgumentError(
          absl::StrCat(r.path, ": eval.holdout_samples ", r.holdoutSamples,
                       " leaves no training data (the dataset has ",
                       (*dataset)->size(), " samples)"));
    data::splitHoldout((*dataset)->size(), r.holdoutSamples, r.data.batch.seed,
                       trainIds, evalIds);
    evalSet = *dataset;
  } else if (!r.evalPath.empty()) {
    data::DatasetConfig ec2 = r.data.dataset;
    ec2.path = r.evalPath;
    absl::StatusOr<std::shared_ptr<data::Dataset>> e =
        data::Dataset::open(ec2, **tokenizer, tokProgress(r.evalPath));
    if (!e.ok())
      return e.status();
    evalSet = *e;
    for (int64_t i = 0; i < (*e)->size(); ++i)
      evalIds.push_back(i);
  }
  const int64_t trainSamples = trainIds.empty()
                                   ? (*dataset)->size()
                                   : static_cast<int64_t>(trainIds.size());
  const bool cpt = (*dataset)->kind() == data::DatasetKind::kCpt;

  // Evaluation micro-batches: the whole held-out set as one packed step.
  std::vector<data::MicroBatch> evalBatches;
  if (evalSet) {
    data::BatchConfig ebc = r.data.batch;
    ebc.globalBatchSize = static_cast<int64_t>(evalIds.size());
    ebc.dataParallel = 1;
    ebc.shuffle = false;
    absl::StatusOr<std::unique_ptr<data::BatchIterator>> it =
        data::BatchIterator::create(evalSet, ebc, nullptr, evalIds);
    if (!it.ok())
      return it.status();
    absl::StatusOr<data::StepBatch> b = (*it)->next();
    if (!b.ok())
      return b.status();
    evalBatches = std::move(b->ranks[0]);
  }

  // The schedule.
  const int64_t gbs = r.data.batch.globalBatchSize;
  int64_t samplesPerEpoch = trainSamples;
  if (cpt)
    samplesPerEpoch = (*dataset)->totalTokens() / r.data.batch.seqLength;
  const int64_t stepsPerEpoch = samplesPerEpoch / gbs;
  if (r.trainSteps <= 0 && stepsPerEpoch < 1)
    return absl::InvalidArgumentError(
        absl::StrCat(r.path, ": an epoch has ", samplesPerEpoch,
                     " samples, fewer than batch.global_batch_size ", gbs,
                     "; lower the batch size or set train.train_steps"));
  const int64_t totalSteps =
      r.trainSteps > 0 ? r.trainSteps : r.epochs * stepsPerEpoch;
  absl::StatusOr<train::LrSchedule> schedule = r.schedule(totalSteps);
  if (!schedule.ok())
    return schedule.status();

  // Programs.
  absl::StatusOr<std::unique_ptr<cpu::Program>> gradProgram =
      cpu::Program::create(options.manifest, "forward_grad");
  if (!gradProgram.ok())
    return gradProgram.status();
  absl::StatusOr<std::unique_ptr<cpu::Program>> evalProgram =
      cpu::Program::create(options.manifest, "forward");
  if (!evalProgram.ok())
    return evalProgram.status();
  // The optimizer's kernels, when the artifact has them (fusion).
  std::unique_ptr<train::ArtifactAdamW> adamKernels;
  if (options.manifest.entryPoint("optimizer_step")) {
    absl::StatusOr<std::unique_ptr<train::ArtifactAdamW>> k =
        train::ArtifactAdamW::create(options.manifest);
    if (!k.ok())
      return k.status();
    adamKernels = std::move(*k);
  }
  const std::vector<artifact::Parameter> &params =
      (*gradProgram)->entryPoint().parameters;
  // fp8 trains BF16 weights whose decoder linears the artifact quantizes.
  const DType modelType = r.precision == "fp32" ? DType::kF32 : DType::kBF16;
  for (const artifact::Parameter &p : params)
    if (p.dtype != modelType)
      return absl::InvalidArgumentError(absl::StrCat(
          "the training artifact ", options.artifactDir, " holds ",
          dtypeName(p.dtype), " parameters; the recipe trains in ", r.precision,
          ": drop --artifact, or compile one with "
          "infir2c --model ",
          r.modelDir, " --emit artifact --gradients --precision ", r.precision,
          " -o ART"));

  // Weights: the source model, random, or the checkpoint resumed from.
  train::AdamW optimizer(r.optimizer);
  std::shared_ptr<io::Checkpoint> source;
  if (!r.randomInit) {
    absl::StatusOr<std::unique_ptr<io::Checkpoint>> c =
        io::Checkpoint::open(r.modelDir);
    if (!c.ok())
      return c.status();
    source = std::move(*c);
  }
  for (const artifact::Parameter &p : params) {
    cpu::Tensor init;
    if (source) {
      const io::TensorView *t = source->find(p.name);
      if (!t)
        return absl::NotFoundError(
            absl::StrCat("model ", r.modelDir, " has no tensor '", p.name,
                         "'; is it a Qwen2 checkpoint of this config.json?"));
      if (t->shape != p.shape || !cpu::isFloat(t->dtype))
        return absl::InvalidArgumentError(absl::StrCat(
            "model ", r.modelDir, ": tensor '", p.name, "' is ",
            dtypeName(t->dtype), " ", formatShape(t->shape), "; expected ",
            formatShape(p.shape), " (F32, BF16 or F16)"));
      init = cpu::Tensor::copyOf(t->dtype, t->shape, t->data);
    } else {
      init = randomInit(p, r.initStd, r.data.batch.seed);
    }
    if (absl::Status s = optimizer.addParameter(p.name, init); !s.ok())
      return s;
  }
  source.reset();

  train::TrainerState state;
  state.seed = r.data.batch.seed;
  state.recipeHash = r.resumeHash;
  state.schedule = absl::StrFormat(
      "%s lr=%g min_lr=%g warmup_steps=%g decay_steps=%d",
      train::lrStyleName(schedule->style), schedule->maxLr, schedule->minLr,
      schedule->warmupSteps, schedule->decaySteps);
  if (schedule->style == train::LrStyle::kWsd)
    absl::StrAppendFormat(&state.schedule, " wsd_decay_steps=%d (%s)",
                          schedule->wsdDecaySteps,
                          train::wsdDecayStyleName(schedule->wsdStyle));
  std::unique_ptr<data::IteratorState> iterState;
  std::string resumedFrom;
  existing = train::listCheckpoints(checkpoints.string());
  if (options.resume && !existing.empty()) {
    resumedFrom = existing.back().second;
    absl::StatusOr<train::LoadedTrainerState> loaded =
        train::loadTrainerState(resumedFrom);
    if (!loaded.ok())
      return loaded.status();
    if (loaded->state.recipeHash != r.resumeHash)
      return absl::FailedPreconditionError(absl::StrCat(
          resumedFrom,
          " was written by a run with other settings (recipe "
          "hash ",
          loaded->state.recipeHash, ", this recipe ", r.resumeHash,
          "): [model], [tokenizer], [data], [batch], [optimizer], "
          "[lr_schedule], the step count, train.loss_normalization and the "
          "eval split must stay the same "
          "to resume; start a new --output-dir instead"));
    if (absl::Status s = optimizer.restore(loaded->state.step, loaded->master,
                                           loaded->expAvg, loaded->expAvgSq);
        !s.ok())
      return absl::Status(s.code(),
                          absl::StrCat(resumedFrom, ": ", s.message()));
    absl::StatusOr<data::IteratorState> is =
        data::IteratorState::fromJson(loaded->state.iterator);
    if (!is.ok())
      return absl::Status(
          is.status().code(),
          absl::StrCat(resumedFrom, "/trainer_state: ", is.status().message()));
    iterState = std::make_unique<data::IteratorState>(*is);
    state = loaded->state;
  }
  absl::StatusOr<std::unique_ptr<data::BatchIterator>> iterator =
      data::BatchIterator::create(*dataset, r.data.batch, iterState.get(),
                                  trainIds);
  if (!iterator.ok())
    return resumedFrom.empty()
               ? iterator.status()
               : absl::Status(iterator.status().code(),
                              absl::StrCat("resuming from ", resumedFrom, ": ",
                                           iterator.status().message()));

  // The run directory.
  if (absl::Status s = train::writeFileAtomic(
          (out / "recipe.toml").string(),
          absl::StrCat("# Resolved from ", r.path,
                       " (overrides applied, paths absolute)\n", r.resolvedToml,
                       "\n"));
      !s.ok())
    return s;
  std::vector<train::CurvePoint> trainCurve, evalCurve;
  const fs::path metricsPath = out / "metrics.jsonl";
  if (!resumedFrom.empty() || options.resume) {
    if (absl::Status s =
            trimMetrics(metricsPath, state.step, trainCurve, evalCurve);
        !s.ok())
      return s;
  } else {
    // Starting at step 0: the logs of an earlier attempt that saved nothing
    // would show its steps twice.
    fs::remove(metricsPath, ec);
    for (const fs::directory_entry &e : fs::directory_iterator(out, ec))
      if (absl::StartsWith(e.path().filename().string(),
                           "events.out.tfevents."))
        fs::remove(e.path(), ec);
  }
  std::FILE *metrics = std::fopen(metricsPath.c_str(), "a");
  if (!metrics)
    return absl::InternalError(
        absl::StrCat("cannot open ", metricsPath.string()));
  std::unique_ptr<std::FILE, int (*)(std::FILE *)> metricsCloser(metrics,
                                                                 std::fclose);
  absl::StatusOr<std::unique_ptr<train::EventWriter>> events =
      train::EventWriter::create(out.string(),
                                 resumedFrom.empty() ? -1 : state.step);
  if (!events.ok())
    return events.status();

  // What every save exports besides the weights.
  train::ModelExport exportInfo;
  {
    absl::StatusOr<std::string> config =
        readText(fs::path(r.modelDir) / "config.json");
    if (!config.ok())
      return config.status();
    json c = json::parse(*config, nullptr, false);
    if (!c.is_object())
      return absl::InvalidArgumentError(
          absl::StrCat(r.modelDir, "/config.json is not a JSON object"));
    // The saved weights are bf16 (transformers 5 names the key "dtype").
    c[c.contains("dtype") && !c.contains("torch_dtype") ? "dtype"
                                                        : "torch_dtype"] =
        "bfloat16";
    exportInfo.configJson = c.dump(2) + "\n";
    absl::StatusOr<std::string> gen =
        readText(fs::path(r.modelDir) / "generation_config.json");
    if (gen.ok()) {
      exportInfo.generationConfigJson = *gen;
    } else {
      json g = {{"_from_model_config", true}};
      for (const char *k : {"bos_token_id", "eos_token_id"})
        if (c.contains(k))
          g[k] = c[k];
      exportInfo.generationConfigJson = g.dump(2) + "\n";
    }
    exportInfo.tokenizerDir = r.data.tokenizerDir;
    exportInfo.maxShardBytes = r.maxShardBytes;
  }

  Progress progress(r.logInterval);
  progress.note(absl::StrFormat(
      "infir2 train: %s: %lld steps (%lld samples/step, %lld steps/epoch), "
      "%s, %zu parameters (%.1fM), %s, output %s%s",
      r.name, static_cast<long long>(totalSteps), static_cast<long long>(gbs),
      static_cast<long long>(stepsPerEpoch), r.precision, params.size(),
      [&] {
        double n = 0;
        for (const auto &p : params) {
          double e = 1;
          for (int64_t d : p.shape)
            e *= d;
          n += e;
        }
        return n / 1e6;
      }(),
      evalSet ? absl::StrCat(evalIds.size(), " eval samples")
              : std::string("no eval split"),
      out.string(),
      resumedFrom.empty() ? "" : absl::StrCat("; resumed from ", resumedFrom)));

  TrainSummary summary;
  summary.totalSteps = totalSteps;
  summary.firstStep = state.step + 1;
  summary.lastStep = state.step;
  const auto sessionStart = Clock::now();
  const double elapsedBefore = state.elapsedSeconds;
  auto elapsed = [&] { return elapsedBefore + since(sessionStart); };

  std::map<std::string, cpu::Tensor> bound;
  auto bindWeights = [&]() -> absl::Status {
    bound.clear();
    for (const artifact::Parameter &p : params) {
      const cpu::Tensor &m = optimizer.master(p.name);
      if (modelType == DType::kF32) {
        bound[p.name] = m;
      } else if (adamKernels && adamKernels->copies().count(p.name)) {
        // The update kernel rounded the new master to the model's type.
        bound[p.name] = adamKernels->copies().at(p.name);
      } else {
        absl::StatusOr<cpu::Tensor> c = cpu::cast(m, modelType);
        if (!c.ok())
          return c.status();
        bound[p.name] = std::move(*c);
      }
    }
    if (absl::Status s = (*gradProgram)->bindTensors(bound); !s.ok())
      return s;
    return (*evalProgram)->bindTensors(bound);
  };

  auto evaluate = [&]() -> absl::StatusOr<std::pair<double, double>> {
    double nll = 0, count = 0;
    for (const data::MicroBatch &mb : evalBatches) {
      absl::StatusOr<std::map<std::string, cpu::Tensor>> o =
          (*evalProgram)->run(inputsOf(mb));
      if (!o.ok())
        return o.status();
      nll += (*o)["nll_sum"].data<float>()[0];
      count += (*o)["token_count"].data<float>()[0];
    }
    return std::make_pair(count > 0 ? nll / count : NAN, count);
  };

  auto save = [&]() -> absl::Status {
    const auto t = Clock::now();
    state.elapsedSeconds = elapsed();
    state.iterator = (*iterator)->state().toJson();
    absl::StatusOr<std::string> path = train::saveCheckpoint(
        checkpoints.string(), exportInfo, optimizer, state);
    if (!path.ok())
      return path.status();
    summary.lastCheckpoint = *path;
    if (absl::Status s =
            train::pruneCheckpoints(checkpoints.string(), r.keepLast);
        !s.ok())
      return s;
    if (absl::Status s = train::writeFileAtomic(
            (out / "loss.svg").string(),
            train::lossCurveSvg(trainCurve, evalCurve,
                                absl::StrCat(r.name, ": loss")));
        !s.ok())
      return s;
    progress.note(
        absl::StrFormat("infir2 train: saved %s (%.2f s)", *path, since(t)));
    return absl::OkStatus();
  };

  std::vector<double> stepSeconds;
  cpu::RunProfile runProfile;
  bool savedThisStep = false;
  // A signal during the setup (tokenizing, compiling): nothing to save.
  if (options.stop && options.stop->load() != 0) {
    summary.interrupted = true;
    return summary;
  }
  while (state.step < totalSteps) {
    const auto stepStart = Clock::now();
    const int64_t n = state.step; // 0-based index of this update
    const double lr = schedule->lr(n);
    absl::StatusOr<data::StepBatch> batch = (*iterator)->next();
    if (!batch.ok())
      return batch.status();
    if (absl::Status s = bindWeights(); !s.ok())
      return s;

    std::map<std::string, cpu::Tensor> grads;
    double nllSum = 0, tokenCount = 0;
    int64_t realTokens = 0, microBatches = 0;
    for (const auto &rank : batch->ranks)
      for (const data::MicroBatch &mb : rank) {
        absl::StatusOr<lm::GradientResult> g =
            lm::runGradients(**gradProgram, inputsOf(mb),
                             options.profile ? &runProfile : nullptr);
        if (!g.ok())
          return absl::Status(
              g.status().code(),
              absl::StrCat("step ", n + 1, ": ", g.status().message()));
        nllSum += g->nllSum;
        tokenCount += g->tokenCount;
        realTokens += mb.realTokens;
        ++microBatches;
        if (grads.empty())
          grads = std::move(g->grads);
        else
          for (auto &[name, t] : g->grads)
            accumulate(grads.at(name), t);
      }
    const int64_t step = n + 1;
    if (tokenCount <= 0)
      return absl::InvalidArgumentError(
          absl::StrCat("step ", step,
                       ": no token of the global batch is trained (every "
                       "loss mask is 0); check the dataset's assistant "
                       "turns"));
    const double loss = nllSum / tokenCount;
    auto lastGood = [&] {
      auto all = train::listCheckpoints(checkpoints.string());
      return all.empty()
                 ? std::string("No checkpoint was saved yet.")
                 : absl::StrCat(
                       "The last good checkpoint is ", all.back().second,
                       " (--resume continues from it with the same "
                       "settings; to change optimizer.lr or the data, start "
                       "a new run with model.path set to it).");
    };
    if (!std::isfinite(loss))
      return absl::InternalError(absl::StrCat("step ", step, ": the loss is ",
                                              loss, "; training stopped. ",
                                              lastGood()));
    // Gradient of the mean token NLL over the global batch (times slime's
    // constant c when asked).
    double gradScale = 1.0 / tokenCount;
    if (r.lossNormalization == LossNormalization::kSlime)
      gradScale *= static_cast<double>(microBatches) / static_cast<double>(gbs);
    for (auto &[name, t] : grads)
      scale(t, static_cast<float>(gradScale));
    absl::StatusOr<train::StepStats> stats =
        optimizer.step(grads, lr, adamKernels.get());
    if (!stats.ok())
      return stats.status();
    if (!stats->finite)
      return absl::InternalError(absl::StrCat(
          "step ", step, ": the gradient norm is not finite (loss ", loss,
          "); training stopped. ", lastGood()));
    // Not saved: the next step would start from inf/NaN weights.
    if (!stats->weightsFinite)
      return absl::InternalError(absl::StrCat(
          "step ", step, ": the update made a master weight inf or NaN (lr ",
          lr, ", gradient norm ", stats->gradNorm, "); training stopped. ",
          lastGood()));
    state.step = step;
    state.consumedSamples += gbs;
    state.tokens += static_cast<int64_t>(tokenCount);
    const double seconds = since(stepStart);
    stepSeconds.push_back(seconds);
    const double tokensPerS = realTokens / std::max(seconds, 1e-9);
    if (summary.lastStep == summary.firstStep - 1)
      summary.firstLoss = loss;
    summary.lastLoss = loss;
    summary.lastStep = step;
    trainCurve.push_back({step, loss});

    // Evaluation.
    double evalLoss = NAN, evalTokens = 0;
    const bool last = step == totalSteps;
    const bool evaluated =
        evalSet && ((r.evalInterval > 0 && step % r.evalInterval == 0) || last);
    if (evaluated) {
      if (absl::Status s = bindWeights(); !s.ok()) // the updated weights
        return s;
      absl::StatusOr<std::pair<double, double>> e = evaluate();
      if (!e.ok())
        return e.status();
      std::tie(evalLoss, evalTokens) = *e;
      if (std::isfinite(evalLoss))
        evalCurve.push_back({step, evalLoss});
    }

    // Metrics.
    std::string line = absl::StrFormat(
        "{\"step\": %d, \"loss\": %s, \"lr\": %s, \"grad_norm\": %s, "
        "\"clip_scale\": %s, \"tokens\": %d, \"real_tokens\": %d, "
        "\"tokens_per_s\": %.1f, \"elapsed_s\": %.3f, \"epoch\": %d, "
        "\"samples\": %d, \"micro_batches\": %d",
        step, jsonNumber(loss), jsonNumber(lr), jsonNumber(stats->gradNorm),
        jsonNumber(stats->clipScale), static_cast<int64_t>(tokenCount),
        realTokens, tokensPerS, elapsed(), batch->epoch, state.consumedSamples,
        microBatches);
    if (evaluated) // null when not finite
      absl::StrAppendFormat(&line, ", \"eval_loss\": %s, \"eval_tokens\": %d",
                            jsonNumber(evalLoss),
                            static_cast<int64_t>(evalTokens));
    line += "}\n";
    if (std::fputs(line.c_str(), metrics) < 0 || std::fflush(metrics) != 0)
      return absl::InternalError(
          absl::StrCat("cannot write ", metricsPath.string()));
    std::vector<std::pair<std::string, double>> scalars = {
        {"train/loss", loss},
        {"train/lr", lr},
        {"train/grad_norm", stats->gradNorm},
        {"train/tokens_per_s", tokensPerS}};
    if (std::isfinite(evalLoss))
      scalars.push_back({"eval/loss", evalLoss});
    if (absl::Status s = (*events)->write(step, scalars); !s.ok())
      return s;
    if (absl::Status s = (*events)->flush(); !s.ok())
      return s;

    // Progress: ETA from the mean step time of this session.
    double mean = 0;
    for (double s : stepSeconds)
      mean += s;
    mean /= static_cast<double>(stepSeconds.size());
    progress.step(
        step, totalSteps,
        absl::StrFormat("step %d/%d | loss %.4f | lr %.3e | grad %.3f | "
                        "%.0f tok/s | %s elapsed | ETA %s",
                        step, totalSteps, loss, lr, stats->gradNorm, tokensPerS,
                        hms(elapsed()),
                        hms(mean * static_cast<double>(totalSteps - step))));
    if (evaluated)
      progress.note(absl::StrFormat(
          "infir2 train: eval at step %d: loss %.4f over %.0f tokens", step,
          evalLoss, evalTokens));

    // Saves: every save_interval steps, at epoch ends, at the end, and when
    // stopped.
    const bool stopping =
        (options.stop && options.stop->load() != 0) ||
        (options.stopAfterSteps > 0 &&
         step - summary.firstStep + 1 >= options.stopAfterSteps);
    savedThisStep = false;
    if ((r.saveInterval > 0 && step % r.saveInterval == 0) ||
        (r.saveEpochEnd && stepsPerEpoch > 0 && step % stepsPerEpoch == 0) ||
        last || stopping) {
      if (absl::Status s = save(); !s.ok())
        return s;
      savedThisStep = true;
    }
    if (stopping && !last) {
      summary.interrupted = true;
      break;
    }
  }
  (void)savedThisStep;
  progress.finish();
  if (options.profile)
    std::fprintf(stderr, "infir2 train: forward+backward time per op\n%s",
                 runProfile.format().c_str());
  summary.seconds = since(sessionStart);
  return summary;
}
} // namespace infir2::recipes
