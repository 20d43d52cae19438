//===- config.cc - A training recipe (.toml), resolved --------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "recipes/train/config.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "runtime/data/dataset.h"
#include "runtime/data/toml_reader.h"
#include "runtime/train/checkpoint.h"

namespace infir2::recipes {
namespace {
namespace fs = std::filesystem;

constexpr const char *kTables[] = {
    "run",       "model",       "tokenizer", "data",       "batch",   "train",
    "optimizer", "lr_schedule", "eval",      "checkpoint", "parallel"};

/// Sets dotted |key| of |root| to |value| (TOML; a bare word is a string).
absl::Status applyOverride(toml::table &root, const std::string &spec) {
  const size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0)
    return absl::InvalidArgumentError(absl::StrCat(
        "--set '", spec, "' is not key=value (e.g. optimizer.lr=1e-4)"));
  const std::string key = spec.substr(0, eq), text = spec.substr(eq + 1);
  std::vector<std::string> parts = absl::StrSplit(key, '.');
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty())
    return absl::InvalidArgumentError(absl::StrCat(
        "--set key '", key, "' must be table.key (e.g. optimizer.lr)"));
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + text);
  } catch (const toml::parse_error &) {
    parsed.insert_or_assign("v", text); // a bare word: a string
  }
  toml::table *t = root[parts[0]].as_table();
  if (!t) {
    if (root.contains(parts[0]))
      return absl::InvalidArgumentError(
          absl::StrCat("--set ", key, ": '", parts[0], "' is not a table"));
    root.insert_or_assign(parts[0], toml::table{});
    t = root[parts[0]].as_table();
  }
  t->insert_or_assign(parts[1], parsed["v"]);
  return absl::OkStatus();
}

/// Makes |table|.|key| absolute (relative to the recipe's directory).
void absolutize(toml::table &root, const char *table, const char *key,
                const fs::path &base) {
  toml::table *t = root[table].as_table();
  if (!t)
    return;
  auto v = (*t)[key].value<std::string>();
  if (!v || v->empty() || fs::path(*v).is_absolute())
    return;
  t->insert_or_assign(key, (base / *v).lexically_normal().string());
}

std::string canonicalTable(const toml::table &root, const char *name) {
  const toml::table *t = root[name].as_table();
  if (!t)
    return "";
  std::ostringstream os;
  os << toml::toml_formatter{*t};
  return os.str();
}
} // namespace

absl::StatusOr<train::LrSchedule>
TrainRecipe::schedule(int64_t totalSteps) const {
  train::LrSchedule s;
  s.style = lrStyle;
  s.initLr = 0.0;
  s.maxLr = lr;
  s.minLr = minLr;
  s.decaySteps = decaySteps > 0 ? decaySteps : totalSteps;
  // Megatron: warmup = fraction x decay steps, not rounded.
  s.warmupSteps = warmupFraction >= 0
                      ? warmupFraction * static_cast<double>(s.decaySteps)
                      : static_cast<double>(warmupSteps);
  s.wsdDecaySteps = wsdDecaySteps;
  s.wsdStyle = wsdStyle;
  if (absl::Status st = s.validate(); !st.ok())
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": ", st.message(), " (", totalSteps, " training steps)"));
  return s;
}

absl::StatusOr<std::string> resolveModelDir(const std::string &dir) {
  std::error_code ec;
  if (fs::exists(fs::path(dir) / "config.json", ec))
    return dir;
  auto checkpoints = train::listCheckpoints(dir);
  if (!checkpoints.empty())
    return checkpoints.back().second;
  return absl::NotFoundError(absl::StrCat(
      "model.path ", dir,
      " has no config.json and no complete checkpoint (step-N/); point it "
      "at a Hugging Face model directory or a run's checkpoints/"));
}

absl::StatusOr<TrainRecipe>
loadTrainRecipe(const std::string &path,
                const std::vector<std::string> &overrides) {
  std::ifstream in(path);
  if (!in)
    return absl::NotFoundError(absl::StrCat(path, ": cannot read the recipe"));
  std::ostringstream text;
  text << in.rdbuf();
  toml::table root;
  try {
    root = toml::parse(text.str(), path);
  } catch (const toml::parse_error &e) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ":", e.source().begin.line, ":", e.source().begin.column, ": ",
        std::string(e.description())));
  }
  for (const std::string &o : overrides)
    if (absl::Status s = applyOverride(root, o); !s.ok())
      return s;
  const fs::path base = fs::absolute(path).parent_path();
  absolutize(root, "model", "path", base);
  absolutize(root, "tokenizer", "path", base);
  absolutize(root, "data", "path", base);
  absolutize(root, "data", "cache_dir", base);
  absolutize(root, "eval", "path", base);
  absolutize(root, "run", "output_dir", base);

  data::TomlReader r(root, path);
  for (const auto &[k, v] : root) {
    bool known = false;
    for (const char *t : kTables)
      known |= k.str() == t;
    if (!known)
      r.fail(v.source(),
             absl::StrCat("unknown table [", std::string(k.str()),
                          "]; a training recipe has [run], [model], "
                          "[tokenizer], [data], [batch], [train], "
                          "[optimizer], [lr_schedule], [eval], "
                          "[checkpoint] and [parallel]"));
  }

  TrainRecipe out;
  out.path = path;
  out.name = fs::path(path).stem().string();
  const toml::table *run = r.table("run", false);
  r.get(run, "run", "name", out.name);
  r.get(run, "run", "output_dir", out.outputDir);
  r.checkUnknown(run, "run");

  const toml::table *model = r.table("model", true);
  std::string init = "pretrained";
  r.get(model, "model", "path", out.modelDir, true);
  r.get(model, "model", "init", init);
  r.get(model, "model", "init_std", out.initStd);
  r.get(model, "model", "precision", out.precision);
  r.get(model, "model", "fusion", out.fusion);
  r.checkUnknown(model, "model");
  if (r.status().ok()) {
    if (init == "random")
      out.randomInit = true;
    else if (init != "pretrained")
      r.failAt(
          model, "init",
          absl::StrCat("model.init '", init, "' is not pretrained or random"));
    if (out.precision != "fp32" && out.precision != "bf16" &&
        out.precision != "fp8")
      r.failAt(model, "precision",
               absl::StrCat("model.precision '", out.precision,
                            "' is not fp32, bf16 or fp8"));
    if (!(out.initStd > 0))
      r.failAt(model, "init_std", "model.init_std must be positive");
  }

  const toml::table *tr = r.table("train", true);
  std::string norm = "global_tokens";
  r.get(tr, "train", "epochs", out.epochs);
  r.get(tr, "train", "train_steps", out.trainSteps);
  r.get(tr, "train", "loss_normalization", norm);
  r.get(tr, "train", "log_interval", out.logInterval);
  r.checkUnknown(tr, "train");
  if (r.status().ok()) {
    if (norm == "slime")
      out.lossNormalization = LossNormalization::kSlime;
    else if (norm != "global_tokens")
      r.failAt(tr, "loss_normalization",
               absl::StrCat("train.loss_normalization '", norm,
                            "' is not global_tokens or slime"));
    if (out.epochs < 1 && out.trainSteps < 1)
      r.failAt(tr, "epochs", "train.epochs or train.train_steps must be >= 1");
    if (out.logInterval < 1)
      r.failAt(tr, "log_interval", "train.log_interval must be >= 1");
  }

  const toml::table *opt = r.table("optimizer", true);
  train::AdamWConfig &o = out.optimizer;
  r.get(opt, "optimizer", "lr", out.lr, true);
  r.get(opt, "optimizer", "min_lr", out.minLr);
  r.get(opt, "optimizer", "beta1", o.beta1);
  r.get(opt, "optimizer", "beta2", o.beta2);
  r.get(opt, "optimizer", "eps", o.eps);
  r.get(opt, "optimizer", "weight_decay", o.weightDecay);
  r.get(opt, "optimizer", "clip_grad", o.clipGrad);
  r.checkUnknown(opt, "optimizer");
  if (r.status().ok()) {
    auto range = [&](const char *key, double v, bool ok, const char *need) {
      if (!ok)
        r.failAt(opt, key,
                 absl::StrCat("optimizer.", key, " = ", v, " must be ", need));
    };
    range("lr", out.lr, out.lr > 0 && std::isfinite(out.lr), "positive");
    range("beta1", o.beta1, o.beta1 >= 0 && o.beta1 < 1, "in [0, 1)");
    range("beta2", o.beta2, o.beta2 >= 0 && o.beta2 < 1, "in [0, 1)");
    range("eps", o.eps, o.eps > 0, "positive");
    range("weight_decay", o.weightDecay, o.weightDecay >= 0, ">= 0");
    range("clip_grad", o.clipGrad, o.clipGrad >= 0, ">= 0 (0: no clipping)");
  }

  const toml::table *lrs = r.table("lr_schedule", false);
  std::string style = "cosine", wsdStyle = "cosine";
  r.get(lrs, "lr_schedule", "style", style);
  r.get(lrs, "lr_schedule", "warmup_fraction", out.warmupFraction);
  r.get(lrs, "lr_schedule", "warmup_steps", out.warmupSteps);
  r.get(lrs, "lr_schedule", "decay_steps", out.decaySteps);
  r.get(lrs, "lr_schedule", "wsd_decay_steps", out.wsdDecaySteps);
  r.get(lrs, "lr_schedule", "wsd_decay_style", wsdStyle);
  r.checkUnknown(lrs, "lr_schedule");
  if (r.status().ok()) {
    if (auto s = train::parseLrStyle(style); s.ok())
      out.lrStyle = *s;
    else
      r.failAt(lrs, "style", std::string(s.status().message()));
    if (auto s = train::parseWsdDecayStyle(wsdStyle); s.ok())
      out.wsdStyle = *s;
    else
      r.failAt(lrs, "wsd_decay_style", std::string(s.status().message()));
    if (lrs && lrs->contains("warmup_fraction") &&
        lrs->contains("warmup_steps"))
      r.failAt(lrs, "warmup_steps",
               "give lr_schedule.warmup_fraction or warmup_steps, not both");
    if (lrs && lrs->contains("warmup_fraction") &&
        !(out.warmupFraction >= 0 && out.warmupFraction < 1))
      r.failAt(lrs, "warmup_fraction",
               "lr_schedule.warmup_fraction must be in [0, 1)");
  }

  const toml::table *ev = r.table("eval", false);
  r.get(ev, "eval", "path", out.evalPath);
  r.get(ev, "eval", "holdout_samples", out.holdoutSamples);
  r.get(ev, "eval", "interval", out.evalInterval);
  r.checkUnknown(ev, "eval");
  if (r.status().ok() && !out.evalPath.empty() && out.holdoutSamples > 0)
    r.failAt(ev, "holdout_samples",
             "give eval.path or eval.holdout_samples, not both");

  const toml::table *ck = r.table("checkpoint", false);
  int64_t shardMb = out.maxShardBytes >> 20;
  r.get(ck, "checkpoint", "save_interval", out.saveInterval);
  r.get(ck, "checkpoint", "save_epoch_end", out.saveEpochEnd);
  r.get(ck, "checkpoint", "keep_last", out.keepLast);
  r.get(ck, "checkpoint", "max_shard_mb", shardMb);
  r.checkUnknown(ck, "checkpoint");
  out.maxShardBytes = shardMb << 20;
  if (r.status().ok() && shardMb < 1)
    r.failAt(ck, "max_shard_mb", "checkpoint.max_shard_mb must be >= 1");

  const toml::table *par = r.table("parallel", false);
  r.get(par, "parallel", "tensor_parallel", out.tensorParallel);
  r.get(par, "parallel", "pipeline_parallel", out.pipelineParallel);
  r.get(par, "parallel", "sequence_parallel", out.sequenceParallel);
  r.get(par, "parallel", "recompute", out.recompute);
  r.checkUnknown(par, "parallel");
  if (!r.status().ok())
    return r.status();

  std::ostringstream resolved;
  resolved << toml::toml_formatter{root};
  out.resolvedToml = resolved.str();
  // Without overrides the data tables are read from the file itself, so
  // their errors carry the file's line numbers.
  absl::StatusOr<data::DataRecipe> dataRecipe = data::parseDataRecipe(
      overrides.empty() ? text.str() : out.resolvedToml, path);
  if (!dataRecipe.ok())
    return dataRecipe.status();
  out.data = std::move(*dataRecipe);
  if (out.data.dataset.kind == data::DatasetKind::kRl)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": data.kind 'rl' is for GRPO recipes; a training "
                           "recipe takes sft or cpt data"));
  // A CPT stream is cut into fixed windows across documents; held-out
  // windows need their own stream, which the CPT issue brings.
  if (out.data.dataset.kind == data::DatasetKind::kCpt &&
      (out.holdoutSamples > 0 || !out.evalPath.empty()))
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": [eval] holdout_samples/path is for sft data; remove it for "
              "data.kind 'cpt' (CPT evaluation is not supported yet)"));
  if (out.outputDir.empty())
    out.outputDir = (fs::path("runs") / out.name).string();

  std::string hashed;
  for (const char *t :
       {"model", "tokenizer", "data", "batch", "optimizer", "lr_schedule"})
    absl::StrAppend(&hashed, "[", t, "]\n", canonicalTable(root, t));
  absl::StrAppend(&hashed, "epochs=", out.epochs, " steps=", out.trainSteps,
                  " norm=", int(out.lossNormalization), " eval=", out.evalPath,
                  "/", out.holdoutSamples);
  out.resumeHash =
      absl::StrFormat("%016x", data::hashBytes(hashed.data(), hashed.size()));
  return out;
}
} // namespace infir2::recipes
