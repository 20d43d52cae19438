//===- checkpoint.cc - Training checkpoints with exact resume -------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/train/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "runtime/io/safetensors.h"
#include "runtime/numerics/convert.h"

namespace infir2::train {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char *kStateFile = "trainer_state/state.json";
constexpr const char *kOptimizerFile = "trainer_state/optimizer.safetensors";
constexpr int kStateVersion = 1;

/// Files a Hugging Face tokenizer may consist of.
constexpr const char *kTokenizerFiles[] = {
    "tokenizer.json",     "tokenizer_config.json",   "vocab.json",
    "merges.txt",         "special_tokens_map.json", "added_tokens.json",
    "chat_template.jinja"};

/// Flushes |path| to the disk: a checkpoint renamed into place must not
/// hold a file the page cache never wrote.
absl::Status syncFile(const fs::path &path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0 || ::fsync(fd) != 0) {
    const int err = errno;
    if (fd >= 0)
      ::close(fd);
    return absl::InternalError(absl::StrCat("cannot flush ", path.string(),
                                            " to disk: ", std::strerror(err)));
  }
  ::close(fd);
  return absl::OkStatus();
}

absl::Status writeText(const fs::path &path, const std::string &text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    out.close();
    if (!out)
      return absl::InternalError(absl::StrCat("cannot write ", tmp.string()));
  }
  if (absl::Status s = syncFile(tmp); !s.ok())
    return s;
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec)
    return absl::InternalError(
        absl::StrCat("cannot write ", path.string(), ": ", ec.message()));
  return absl::OkStatus();
}

void syncDir(const fs::path &dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

/// "step-N" -> N; anything else (step-N.tmp.123, other files) -> nullopt.
std::optional<int64_t> stepOf(const std::string &name) {
  if (!absl::StartsWith(name, "step-"))
    return std::nullopt;
  int64_t n;
  if (!absl::SimpleAtoi(name.substr(5), &n) || n < 0 ||
      absl::StrCat("step-", n) != name)
    return std::nullopt;
  return n;
}
} // namespace

std::string TrainerState::toJson() const {
  json j = {{"version", kStateVersion},
            {"step", step},
            {"consumed_samples", consumedSamples},
            {"tokens", tokens},
            {"elapsed_s", elapsedSeconds},
            {"iterator", json::parse(iterator.empty() ? "{}" : iterator)},
            {"rng", {{"seed", seed}}},
            {"recipe_hash", recipeHash},
            {"schedule", schedule}};
  return j.dump(2) + "\n";
}

absl::StatusOr<TrainerState> TrainerState::fromJson(const std::string &text,
                                                    const std::string &where) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  auto bad = [&](const std::string &what) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", what, "; the checkpoint is damaged"));
  };
  if (!j.is_object())
    return bad("not a JSON object");
  if (!j.contains("version") || j["version"] != kStateVersion)
    return bad(absl::StrCat("not a version-", kStateVersion, " trainer state"));
  TrainerState s;
  try {
    s.step = j.at("step").get<int64_t>();
    s.consumedSamples = j.at("consumed_samples").get<int64_t>();
    s.tokens = j.at("tokens").get<int64_t>();
    s.elapsedSeconds = j.at("elapsed_s").get<double>();
    s.iterator = j.at("iterator").dump();
    s.seed = j.at("rng").at("seed").get<uint64_t>();
    s.recipeHash = j.at("recipe_hash").get<std::string>();
    s.schedule = j.value("schedule", "");
  } catch (const json::exception &e) {
    return bad(e.what());
  }
  if (s.step < 0)
    return bad("a negative step");
  return s;
}

absl::StatusOr<std::string> saveCheckpoint(const std::string &checkpointsDir,
                                           const ModelExport &model,
                                           const AdamW &optimizer,
                                           const TrainerState &state) {
  const fs::path root(checkpointsDir);
  const fs::path final = root / absl::StrCat("step-", state.step);
  const fs::path tmp =
      root / absl::StrCat("step-", state.step, ".tmp.", ::getpid());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp / "trainer_state", ec);
  if (ec)
    return absl::InternalError(
        absl::StrCat("cannot create ", tmp.string(), ": ", ec.message()));
  auto fail = [&](absl::Status s) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    return s;
  };

  // The Hugging Face model: bf16 weights.
  std::vector<std::vector<uint16_t>> bf16;
  bf16.reserve(optimizer.names().size());
  std::vector<io::TensorData> weights;
  for (const std::string &name : optimizer.names()) {
    const cpu::Tensor &m = optimizer.master(name);
    bf16.emplace_back(static_cast<size_t>(m.numel()));
    numerics::convertF32ToBf16(m.data<float>(), bf16.back().data(), m.numel());
    weights.push_back(
        {name, DType::kBF16, m.shape(), bf16.back().data(), m.numel() * 2});
  }
  if (absl::Status s =
          io::writeCheckpoint(tmp.string(), weights, model.maxShardBytes);
      !s.ok())
    return fail(s);
  bf16.clear();
  // Fault injection for the crash-during-save test (docs/guide/sft.md):
  // die here, with the weights written and the trainer state not.
  if (const char *kill = std::getenv("INFIR2_FAULT_KILL_IN_SAVE");
      kill && absl::StrCat(state.step) == kill)
    std::raise(SIGKILL);
  if (absl::Status s = writeText(tmp / "config.json", model.configJson);
      !s.ok())
    return fail(s);
  if (!model.generationConfigJson.empty())
    if (absl::Status s = writeText(tmp / "generation_config.json",
                                   model.generationConfigJson);
        !s.ok())
      return fail(s);
  if (!model.tokenizerDir.empty())
    for (const char *file : kTokenizerFiles) {
      const fs::path from = fs::path(model.tokenizerDir) / file;
      if (!fs::exists(from, ec))
        continue;
      fs::copy_file(from, tmp / file, fs::copy_options::overwrite_existing, ec);
      if (ec)
        return fail(absl::InternalError(
            absl::StrCat("cannot copy ", from.string(),
                         " into the checkpoint: ", ec.message())));
      if (absl::Status s = syncFile(tmp / file); !s.ok())
        return fail(s);
    }

  // The optimizer: f32 master weights and moments.
  std::vector<io::TensorData> opt;
  for (const auto &[prefix, get] : std::vector<
           std::pair<std::string,
                     const cpu::Tensor &(AdamW::*)(const std::string &) const>>{
           {"master.", &AdamW::master},
           {"exp_avg.", &AdamW::expAvg},
           {"exp_avg_sq.", &AdamW::expAvgSq}})
    for (const std::string &name : optimizer.names()) {
      const cpu::Tensor &t = (optimizer.*get)(name);
      opt.push_back(
          {prefix + name, DType::kF32, t.shape(), t.raw(), t.nbytes()});
    }
  if (absl::Status s = io::writeSafetensors(
          (tmp / kOptimizerFile).string(), opt,
          {{"format", "pt"},
           {"producer", "infir2 train"},
           {"optimizer", "adamw"},
           {"optimizer_steps", absl::StrCat(optimizer.steps())}});
      !s.ok())
    return fail(s);
  // state.json last: its presence marks the trainer state complete.
  if (absl::Status s = writeText(tmp / kStateFile, state.toJson()); !s.ok())
    return fail(s);
  syncDir(tmp / "trainer_state");
  syncDir(tmp);

  // Rename into place (a checkpoint of the same step moves aside first).
  const fs::path old =
      root / absl::StrCat("step-", state.step, ".old.", ::getpid());
  const bool replacing = fs::exists(final, ec);
  if (replacing) {
    fs::remove_all(old, ec);
    fs::rename(final, old, ec);
    if (ec)
      return fail(absl::InternalError(absl::StrCat(
          "cannot move ", final.string(), " aside: ", ec.message())));
  }
  fs::rename(tmp, final, ec);
  if (ec) {
    std::error_code ignored;
    if (replacing)
      fs::rename(old, final, ignored);
    return fail(
        absl::InternalError(absl::StrCat("cannot rename ", tmp.string(), " to ",
                                         final.string(), ": ", ec.message())));
  }
  syncDir(root);
  if (replacing)
    fs::remove_all(old, ec);
  return final.string();
}

absl::Status writeFileAtomic(const std::string &path, const std::string &text) {
  return writeText(path, text);
}

std::vector<std::pair<int64_t, std::string>>
listCheckpoints(const std::string &checkpointsDir) {
  std::vector<std::pair<int64_t, std::string>> out;
  std::error_code ec;
  for (const fs::directory_entry &e :
       fs::directory_iterator(checkpointsDir, ec)) {
    std::optional<int64_t> step = stepOf(e.path().filename().string());
    if (step && fs::exists(e.path() / kStateFile, ec))
      out.push_back({*step, e.path().string()});
  }
  std::sort(out.begin(), out.end());
  return out;
}

int removeIncompleteSaves(const std::string &checkpointsDir) {
  int removed = 0;
  std::error_code ec;
  std::vector<fs::path> stale;
  for (const fs::directory_entry &e :
       fs::directory_iterator(checkpointsDir, ec)) {
    const std::string name = e.path().filename().string();
    const size_t tmp = name.find(".tmp."), old = name.find(".old.");
    const size_t dot = tmp != std::string::npos ? tmp : old;
    if (!absl::StartsWith(name, "step-") || dot == std::string::npos)
      continue;
    // A save of a process that still runs (another invocation on this
    // directory) is not ours to remove.
    int64_t pid = 0;
    if (absl::SimpleAtoi(name.substr(dot + 5), &pid) && pid > 0 &&
        pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) == 0)
      continue;
    // A crash between moving a same-step checkpoint aside and renaming its
    // replacement into place leaves only step-N.old.<pid>: put it back.
    const fs::path final = e.path().parent_path() / name.substr(0, dot);
    if (old != std::string::npos && !fs::exists(final, ec) &&
        fs::exists(e.path() / kStateFile, ec)) {
      fs::rename(e.path(), final, ec);
      if (!ec)
        continue;
    }
    stale.push_back(e.path());
  }
  for (const fs::path &p : stale) {
    fs::remove_all(p, ec);
    removed += !ec;
  }
  return removed;
}

absl::Status pruneCheckpoints(const std::string &checkpointsDir, int keep) {
  if (keep <= 0)
    return absl::OkStatus();
  auto all = listCheckpoints(checkpointsDir);
  for (size_t i = 0; i + keep < all.size(); ++i) {
    std::error_code ec;
    fs::remove_all(all[i].second, ec);
    if (ec)
      return absl::InternalError(absl::StrCat(
          "cannot remove old checkpoint ", all[i].second, ": ", ec.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<LoadedTrainerState> loadTrainerState(const std::string &dir) {
  const fs::path root(dir);
  std::ifstream in(root / kStateFile);
  if (!in)
    return absl::NotFoundError(absl::StrCat(
        (root / kStateFile).string(),
        ": cannot read; is this a checkpoint written by infir2 train?"));
  std::ostringstream text;
  text << in.rdbuf();
  absl::StatusOr<TrainerState> state =
      TrainerState::fromJson(text.str(), (root / kStateFile).string());
  if (!state.ok())
    return state.status();
  absl::StatusOr<std::unique_ptr<io::SafetensorsFile>> file =
      io::SafetensorsFile::open((root / kOptimizerFile).string());
  if (!file.ok())
    return file.status();
  LoadedTrainerState out;
  out.state = *state;
  for (const io::TensorView &t : (*file)->tensors()) {
    std::map<std::string, cpu::Tensor> *target = nullptr;
    std::string name;
    for (auto [prefix, map] : {std::make_pair("master.", &out.master),
                               std::make_pair("exp_avg.", &out.expAvg),
                               std::make_pair("exp_avg_sq.", &out.expAvgSq)})
      if (absl::StartsWith(t.name, prefix)) {
        target = map;
        name = t.name.substr(std::string(prefix).size());
      }
    if (!target || t.dtype != DType::kF32)
      return absl::InvalidArgumentError(
          absl::StrCat((root / kOptimizerFile).string(), ": tensor '", t.name,
                       "' is not an f32 master.*, exp_avg.* or exp_avg_sq.*"));
    (*target)[name] = cpu::Tensor::copyOf(DType::kF32, t.shape, t.data);
  }
  return out;
}
} // namespace infir2::train
