//===- convert.cc - Checkpoint conversion: block FP8, INT4, BF16 ----------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// One engine (read the input's shards, plan each output shard's tensors,
// stream them into a temporary directory, rename) and four plans: which
// output tensors each input tensor becomes and how their bytes are made.
//
//===----------------------------------------------------------------------===//

#include "runtime/checkpoint/convert.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "runtime/base/json_text.h"
#include "runtime/io/safetensors.h"
#include "runtime/numerics/convert.h"
#include "runtime/numerics/float8.h"
#include "runtime/numerics/float_env.h"
#include "runtime/numerics/parallel.h"

namespace infir2::checkpoint {
namespace {
namespace fs = std::filesystem;
using nlohmann::ordered_json;
using numerics::bf16ToF32;
using numerics::f16ToF32;
using numerics::f32ToBf16;
using numerics::f32ToF16;

constexpr const char *kIndexName = "model.safetensors.index.json";
constexpr const char *kSingleName = "model.safetensors";

//===----------------------------------------------------------------------===//
// The input
//===----------------------------------------------------------------------===//

/// A checkpoint's shards, in the order the index (or the single file)
/// gives them, and every tensor by name.
struct Input {
  struct Shard {
    std::string fileName;
    std::unique_ptr<io::SafetensorsFile> file;
  };
  struct Ref {
    const io::TensorView *view;
    size_t shard;
  };
  std::string dir;
  bool indexed = false;
  std::vector<Shard> shards;
  std::map<std::string, Ref> tensors;
  ordered_json config; ///< config.json, or null
  int64_t tensorBytes = 0, largest = 0;

  const io::TensorView *find(const std::string &name) const {
    auto it = tensors.find(name);
    return it == tensors.end() ? nullptr : it->second.view;
  }
  const io::SafetensorsFile &fileOf(const std::string &name) const {
    return *shards[tensors.at(name).shard].file;
  }
};

absl::StatusOr<std::string> readText(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  if (!in || !(text << in.rdbuf()))
    return absl::NotFoundError(absl::StrCat(path.string(), ": cannot read it"));
  return text.str();
}

absl::StatusOr<Input> openInput(const std::string &dir) {
  Input in;
  in.dir = dir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return absl::NotFoundError(
        absl::StrCat(dir, ": not a directory; --input takes a Hugging Face "
                          "checkpoint directory"));
  const fs::path index = fs::path(dir) / kIndexName;
  std::map<std::string, std::string> weightMap; // tensor -> shard
  if (fs::exists(index, ec)) {
    absl::StatusOr<std::string> text = readText(index);
    if (!text.ok())
      return text.status();
    ordered_json j =
        ordered_json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("weight_map") ||
        !j["weight_map"].is_object())
      return absl::InvalidArgumentError(
          absl::StrCat(index.string(), ": not a JSON object with a "
                                       "weight_map object"));
    for (auto &[name, shard] : j["weight_map"].items()) {
      if (!shard.is_string() ||
          shard.get<std::string>().find('/') != std::string::npos)
        return absl::InvalidArgumentError(
            absl::StrCat(index.string(), ": weight_map entry '", name,
                         "' does not name a file of ", dir));
      weightMap[name] = shard.get<std::string>();
      bool seen = false;
      for (const Input::Shard &s : in.shards)
        seen |= s.fileName == shard.get<std::string>();
      if (!seen)
        in.shards.push_back({shard.get<std::string>(), nullptr});
    }
    in.indexed = true;
  } else if (fs::exists(fs::path(dir) / kSingleName, ec)) {
    in.shards.push_back({kSingleName, nullptr});
  } else {
    return absl::NotFoundError(
        absl::StrCat(dir, ": no ", kSingleName, " or ", kIndexName,
                     "; is this a Hugging Face checkpoint directory?"));
  }
  for (size_t i = 0; i < in.shards.size(); ++i) {
    const fs::path path = fs::path(dir) / in.shards[i].fileName;
    if (!fs::exists(path, ec))
      return absl::NotFoundError(
          absl::StrCat(index.string(), ": names shard ", in.shards[i].fileName,
                       ", which does not exist; the checkpoint is incomplete"));
    absl::StatusOr<std::unique_ptr<io::SafetensorsFile>> file =
        io::SafetensorsFile::open(path.string());
    if (!file.ok())
      return file.status();
    in.shards[i].file = std::move(*file);
    for (const io::TensorView &t : in.shards[i].file->tensors()) {
      if (in.indexed) {
        auto it = weightMap.find(t.name);
        if (it == weightMap.end() || it->second != in.shards[i].fileName)
          return absl::InvalidArgumentError(absl::StrCat(
              path.string(), ": tensor '", t.name, "' is ",
              it == weightMap.end() ? "missing from the index"
                                    : absl::StrCat("indexed in ", it->second),
              " (", kIndexName,
              " is inconsistent; `infir2 inspect` lists every problem)"));
      }
      in.tensors[t.name] = {&t, i};
      in.tensorBytes += t.nbytes;
      in.largest = std::max(in.largest, t.nbytes);
    }
  }
  for (const auto &[name, shard] : weightMap)
    if (!in.tensors.count(name))
      return absl::InvalidArgumentError(absl::StrCat(
          index.string(), ": tensor '", name, "' is indexed in ", shard,
          ", which does not hold it; the checkpoint is incomplete"));
  const fs::path config = fs::path(dir) / "config.json";
  if (fs::exists(config, ec)) {
    absl::StatusOr<std::string> text = readText(config);
    if (!text.ok())
      return text.status();
    in.config = ordered_json::parse(*text, nullptr, false);
    if (in.config.is_discarded() || !in.config.is_object())
      return absl::InvalidArgumentError(
          absl::StrCat(config.string(), ": not a JSON object"));
  }
  return in;
}

//===----------------------------------------------------------------------===//
// The output
//===----------------------------------------------------------------------===//

bool isNonEmptyPath(const std::string &path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    return false;
  if (!fs::is_directory(path, ec))
    return true;
  return fs::directory_iterator(path, ec) != fs::directory_iterator();
}

/// A temporary directory next to the output, removed unless committed.
class Staging {
public:
  ~Staging() {
    if (!dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }
  absl::Status create(const std::string &output) {
    fs::path out = fs::absolute(output).lexically_normal();
    if (out.filename().empty())
      out = out.parent_path();
    std::error_code ec;
    fs::create_directories(out.parent_path(), ec);
    std::string pattern =
        (out.parent_path() /
         absl::StrCat(".", out.filename().string(), ".tmp-XXXXXX"))
            .string();
    if (!mkdtemp(pattern.data()))
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create a directory next to ", output, ": ",
                       std::strerror(errno)));
    dir_ = pattern;
    target_ = out.string();
    // mkdtemp makes it private; the checkpoint gets the usual mode.
    const mode_t mask = ::umask(0);
    ::umask(mask);
    fs::permissions(dir_, static_cast<fs::perms>(0777 & ~mask), ec);
    return absl::OkStatus();
  }
  const std::string &dir() const { return dir_; }

  /// Renames the staged directory to the output, replacing an old one.
  absl::Status commit() {
    std::error_code ec;
    std::string old;
    if (fs::exists(target_, ec)) {
      if (fs::is_directory(target_, ec) && fs::is_empty(target_, ec)) {
        fs::remove(target_, ec);
      } else {
        old = absl::StrCat(dir_, ".old");
        fs::rename(target_, old, ec);
        if (ec)
          return absl::InternalError(absl::StrCat(
              "cannot move the old ", target_, " aside: ", ec.message()));
      }
    }
    fs::rename(dir_, target_, ec);
    if (ec) {
      const std::string why = ec.message();
      // Put the old output back: a failed run must not lose it.
      if (!old.empty())
        fs::rename(old, target_, ec);
      return absl::InternalError(absl::StrCat(
          "cannot rename ", dir_, " to ", target_, ": ", why,
          old.empty() || !ec
              ? ""
              : absl::StrCat("; the previous output is in ", old)));
    }
    dir_.clear();
    if (!old.empty())
      fs::remove_all(old, ec);
    return absl::OkStatus();
  }

private:
  std::string dir_, target_;
};

/// fsync of a file or directory, so the rename that commits the output
/// never publishes data still in the page cache.
absl::Status syncPath(const fs::path &path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return absl::InternalError(absl::StrCat("cannot open ", path.string(), ": ",
                                            std::strerror(errno)));
  const bool ok = ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  // Some filesystems (FUSE, network mounts) cannot fsync a directory.
  if (!ok && !((err == EINVAL || err == ENOTSUP) && fs::is_directory(path)))
    return absl::InternalError(
        absl::StrCat("cannot fsync ", path.string(), ": ", std::strerror(err)));
  return absl::OkStatus();
}

absl::Status writeText(const fs::path &path, const std::string &text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.flush();
  if (!out)
    return absl::InternalError(absl::StrCat("cannot write ", path.string()));
  out.close();
  return syncPath(path);
}

/// Copies every file of the input that is not a weight shard, the index or
/// config.json (written separately), keeping subdirectories.
absl::StatusOr<int64_t> copyOtherFiles(const Input &in, const fs::path &to) {
  std::set<std::string> skip = {kIndexName, "config.json"};
  for (const Input::Shard &s : in.shards)
    skip.insert(s.fileName);
  int64_t copied = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(in.dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    // Lexical: a Hugging Face cache snapshot is a directory of symlinks,
    // which fs::relative would resolve to paths outside the output.
    const fs::path rel = it->path().lexically_relative(in.dir);
    if (rel.empty() || *rel.begin() == "..")
      return absl::InternalError(absl::StrCat(
          "cannot place ", it->path().string(), " relative to ", in.dir));
    if (rel.has_parent_path() == false && skip.count(rel.string()))
      continue;
    if (it->is_directory(ec)) {
      fs::create_directories(to / rel, ec);
    } else if (it->is_regular_file(ec)) {
      fs::create_directories((to / rel).parent_path(), ec);
      fs::copy_file(it->path(), to / rel, fs::copy_options::overwrite_existing,
                    ec);
      if (ec)
        return absl::InternalError(absl::StrCat(
            "cannot copy ", it->path().string(), ": ", ec.message()));
      if (absl::Status st = syncPath(to / rel); !st.ok())
        return st;
      ++copied;
    }
  }
  if (ec)
    return absl::InternalError(
        absl::StrCat("cannot list ", in.dir, ": ", ec.message()));
  return copied;
}

//===----------------------------------------------------------------------===//
// Plans
//===----------------------------------------------------------------------===//

/// One output tensor; its bytes are |copy|'s (a tensor copied unchanged) or
/// the job's buffer of the same index.
struct Out {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  int64_t bytes() const { return *elementCount(shape) * dtypeSize(dtype); }
};

/// What one input tensor becomes. |make| fills one buffer per output; a
/// job without |make| copies its input.
struct Job {
  const io::TensorView *in = nullptr;
  std::vector<Out> outs;
  std::vector<const io::TensorView *> uses; ///< other inputs (scales)
  std::function<absl::Status(std::vector<std::vector<uint8_t>> &)> make;
};

struct Plan {
  std::vector<std::vector<Job>> shards; ///< one list per input shard
  int64_t quantized = 0;
  std::vector<std::string> warnings;
  /// Warnings known only after the run (empty strings are dropped).
  std::vector<std::function<std::string()>> lateWarnings;
};

/// A job that copies |t| unchanged.
Job copyJob(const io::TensorView &t) {
  Job job;
  job.in = &t;
  job.outs.push_back({t.name, t.dtype, t.shape});
  return job;
}

/// What a dequantizing plan does with a tensor it did not convert.
enum class Leftover { kCopy, kDrop };

/// Puts |plan|'s conversion jobs (one per input tensor |converted| accepts,
/// in input order) back among copies of the other tensors, in input order;
/// |consumed| tensors (scales read by a conversion) are dropped, and
/// |leftover| decides about the rest (or fails on an orphan).
absl::Status mergeInInputOrder(
    const Input &in, Plan &plan,
    const std::function<bool(const io::TensorView &)> &converted,
    const std::set<std::string> &consumed,
    const std::function<absl::StatusOr<Leftover>(const io::TensorView &)>
        &leftover) {
  std::vector<std::vector<Job>> ordered(in.shards.size());
  for (size_t s = 0; s < in.shards.size(); ++s) {
    size_t next = 0;
    for (const io::TensorView &t : in.shards[s].file->tensors()) {
      if (converted(t)) {
        ordered[s].push_back(std::move(plan.shards[s][next++]));
        continue;
      }
      if (consumed.count(t.name))
        continue;
      absl::StatusOr<Leftover> what = leftover(t);
      if (!what.ok())
        return what.status();
      if (*what == Leftover::kCopy)
        ordered[s].push_back(copyJob(t));
    }
  }
  plan.shards = std::move(ordered);
  return absl::OkStatus();
}

/// config.json of a dequantized checkpoint: no quantization_config, bf16.
void dequantizedConfig(ordered_json &config) {
  if (!config.is_object())
    return;
  config.erase("quantization_config");
  config["torch_dtype"] = "bfloat16";
  if (config.contains("dtype"))
    config["dtype"] = "bfloat16";
}

/// A tensor's bytes as |T|: the mapped bytes when aligned, else a copy.
template <typename T>
class Aligned {
public:
  explicit Aligned(const io::TensorView &t) {
    if (reinterpret_cast<uintptr_t>(t.data) % alignof(T) == 0) {
      p_ = reinterpret_cast<const T *>(t.data);
    } else {
      copy_.resize(static_cast<size_t>(t.nbytes / sizeof(T)));
      std::memcpy(copy_.data(), t.data, static_cast<size_t>(t.nbytes));
      p_ = copy_.data();
    }
  }
  const T *get() const { return p_; }

private:
  const T *p_ = nullptr;
  std::vector<T> copy_;
};

/// |t|'s elements as f32 (exact for f32, bf16 and f16).
absl::StatusOr<std::vector<float>> toF32(const io::TensorView &t) {
  std::vector<float> out(static_cast<size_t>(t.elements()));
  switch (t.dtype) {
  case DType::kF32:
    std::memcpy(out.data(), t.data, static_cast<size_t>(t.nbytes));
    return out;
  case DType::kBF16:
    numerics::convertBf16ToF32(Aligned<uint16_t>(t).get(), out.data(),
                               t.elements());
    return out;
  case DType::kF16:
    numerics::convertF16ToF32(Aligned<uint16_t>(t).get(), out.data(),
                              t.elements());
    return out;
  default:
    return absl::InvalidArgumentError(
        absl::StrCat("tensor '", t.name, "' is ", dtypeName(t.dtype),
                     "; expected F32, BF16 or F16"));
  }
}

bool isFloatWeightDtype(DType d) {
  return d == DType::kBF16 || d == DType::kF16 || d == DType::kF32;
}

/// The exclusion rule both quantizers share: 2-D floating ".weight"
/// tensors of linear layers; embeddings, lm_head and norms stay as they are,
/// as do tensors the user excludes.
class Selector {
public:
  static absl::StatusOr<Selector> create(const std::vector<std::string> &res) {
    Selector s;
    for (const std::string &re : res) {
      try {
        s.exclude_.emplace_back(re, std::regex::ECMAScript);
      } catch (const std::regex_error &e) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--exclude '", re, "' is not a regular expression: ", e.what()));
      }
    }
    return s;
  }
  /// Whether |t| is a weight of the kind quantizers take at all.
  static bool isLinearWeight(const io::TensorView &t) {
    const std::string &n = t.name;
    return n.size() > 7 && n.compare(n.size() - 7, 7, ".weight") == 0 &&
           t.shape.size() == 2 && isFloatWeightDtype(t.dtype) &&
           n.find("embed") == std::string::npos &&
           n.find("norm") == std::string::npos &&
           n.find("lm_head") == std::string::npos;
  }
  bool excluded(const std::string &name) const {
    for (const std::regex &re : exclude_)
      if (std::regex_search(name, re))
        return true;
    return false;
  }
  bool quantizes(const io::TensorView &t) const {
    return isLinearWeight(t) && !excluded(t.name);
  }

private:
  std::vector<std::regex> exclude_;
};

/// Module names (".weight" removed) of the 2-D ".weight" tensors |quantized|
/// leaves alone, then "lm_head" (transformers must keep it a plain Linear
/// even when it is tied to the embedding).
ordered_json unconvertedModules(const Input &in,
                                const std::set<std::string> &quantized) {
  ordered_json list = ordered_json::array();
  bool lmHead = false;
  for (const auto &[name, ref] : in.tensors) {
    const io::TensorView &t = *ref.view;
    if (t.shape.size() != 2 || name.size() <= 7 ||
        name.compare(name.size() - 7, 7, ".weight") != 0 ||
        quantized.count(name))
      continue;
    const std::string module = name.substr(0, name.size() - 7);
    lmHead |= module == "lm_head";
    list.push_back(module);
  }
  if (!lmHead)
    list.push_back("lm_head");
  return list;
}

absl::Status alreadyQuantizedError(const Input &in, const char *command) {
  if (in.config.is_object() && in.config.contains("quantization_config")) {
    const ordered_json &q = in.config["quantization_config"];
    std::string method = q.is_object() && q.contains("quant_method") &&
                                 q["quant_method"].is_string()
                             ? q["quant_method"].get<std::string>()
                             : "?";
    return absl::FailedPreconditionError(absl::StrCat(
        in.dir, "/config.json has a quantization_config (quant_method '",
        method, "'): the checkpoint is already quantized; `infir2 convert ",
        command,
        "` takes BF16/F16/F32 weights (convert it back first: "
        "fp8-to-bf16 or int4-to-bf16)"));
  }
  for (const auto &[name, ref] : in.tensors)
    if (ref.view->dtype == DType::kF8E4M3 || ref.view->dtype == DType::kF8E5M2)
      return absl::FailedPreconditionError(absl::StrCat(
          in.fileOf(name).path(), ": tensor '", name, "' is ",
          dtypeName(ref.view->dtype),
          ": the checkpoint is already quantized; convert it to BF16 first "
          "(infir2 convert fp8-to-bf16)"));
  return absl::OkStatus();
}

//===----------------------------------------------------------------------===//
// hf-to-fp8
//===----------------------------------------------------------------------===//

/// Stores f32 |scales| as |dtype| bytes; counts the scales that change
/// value (the data was quantized with the f32 scale).
int64_t storeScales(const std::vector<float> &scales, DType dtype,
                    std::vector<uint8_t> &out) {
  const size_t n = scales.size();
  out.resize(n * static_cast<size_t>(dtypeSize(dtype)));
  int64_t inexact = 0;
  if (dtype == DType::kF32) {
    std::memcpy(out.data(), scales.data(), n * 4);
    return 0;
  }
  auto *o = reinterpret_cast<uint16_t *>(out.data());
  for (size_t i = 0; i < n; ++i) {
    o[i] = dtype == DType::kBF16 ? f32ToBf16(scales[i]) : f32ToF16(scales[i]);
    const float back = dtype == DType::kBF16 ? bf16ToF32(o[i]) : f16ToF32(o[i]);
    inexact += back != scales[i];
  }
  return inexact;
}

absl::StatusOr<Plan> planHfToFp8(const Input &in, const ConvertOptions &opt,
                                 ordered_json &config) {
  if (absl::Status s = alreadyQuantizedError(in, "hf-to-fp8"); !s.ok())
    return s;
  if (opt.blockRows != 128 || opt.blockCols != 128)
    return absl::UnimplementedError(absl::StrCat(
        "--block ", opt.blockRows, "x", opt.blockCols,
        " is not supported: the numerics library quantizes 128x128 weight "
        "blocks (the block every FP8 engine and DeepGEMM use)"));
  if (opt.scaleDtype != DType::kF32 && opt.scaleDtype != DType::kBF16 &&
      opt.scaleDtype != DType::kF16)
    return absl::InvalidArgumentError("--scale-dtype must be f32, bf16 or f16");
  absl::StatusOr<Selector> sel = Selector::create(opt.exclude);
  if (!sel.ok())
    return sel.status();
  Plan plan;
  plan.shards.resize(in.shards.size());
  std::set<std::string> quantized;
  auto inexact = std::make_shared<std::atomic<int64_t>>(0);
  auto inexactTensors = std::make_shared<std::atomic<int64_t>>(0);
  const numerics::QuantSpec spec{
      numerics::Fp8Format::kE4M3FN, numerics::Layout::kTile128x128,
      numerics::ScaleMethod::kCheckpoint, opt.scaleMode};
  const DType scaleDtype = opt.scaleDtype;
  for (size_t s = 0; s < in.shards.size(); ++s) {
    for (const io::TensorView &t : in.shards[s].file->tensors()) {
      if (!sel->quantizes(t)) {
        plan.shards[s].push_back(copyJob(t));
        continue;
      }
      Job job;
      job.in = &t;
      quantized.insert(t.name);
      ++plan.quantized;
      const int64_t rows = t.shape[0], cols = t.shape[1];
      const numerics::Extent se =
          numerics::scaleExtent(spec.layout, rows, cols);
      job.outs.push_back({t.name, DType::kF8E4M3, t.shape});
      job.outs.push_back(
          {t.name + "_scale_inv", scaleDtype, {se.rows, se.cols}});
      const io::TensorView *tp = &t;
      job.make = [tp, rows, cols, se, spec, scaleDtype, inexact,
                  inexactTensors](std::vector<std::vector<uint8_t>> &bufs) {
        const io::TensorView &t = *tp;
        bufs[0].resize(static_cast<size_t>(rows * cols));
        std::vector<float> scales(static_cast<size_t>(se.rows * se.cols));
        absl::Status st;
        if (t.dtype == DType::kBF16) {
          st = numerics::quantize(Aligned<uint16_t>(t).get(), rows, cols, spec,
                                  bufs[0].data(), scales.data());
        } else if (t.dtype == DType::kF32) {
          st = numerics::quantize(Aligned<float>(t).get(), rows, cols, spec,
                                  bufs[0].data(), scales.data());
        } else {
          // F16: 128-row bands through f32 (the tiles never span bands).
          Aligned<uint16_t> src(t);
          std::vector<float> band(static_cast<size_t>(128 * cols));
          for (int64_t r0 = 0; r0 < rows && st.ok(); r0 += 128) {
            const int64_t n = std::min<int64_t>(128, rows - r0);
            numerics::convertF16ToF32(src.get() + r0 * cols, band.data(),
                                      n * cols);
            st = numerics::quantize(band.data(), n, cols, spec,
                                    bufs[0].data() + r0 * cols,
                                    scales.data() + (r0 / 128) * se.cols);
          }
        }
        if (!st.ok())
          return absl::Status(st.code(),
                              absl::StrCat(t.name, ": ", st.message()));
        if (int64_t n = storeScales(scales, scaleDtype, bufs[1])) {
          *inexact += n;
          ++*inexactTensors;
        }
        return absl::OkStatus();
      };
      plan.shards[s].push_back(std::move(job));
    }
  }
  ordered_json q = ordered_json::object();
  q["quant_method"] = "fp8";
  q["fmt"] = "e4m3";
  q["activation_scheme"] = "dynamic";
  q["weight_block_size"] = {opt.blockRows, opt.blockCols};
  q["modules_to_not_convert"] = unconvertedModules(in, quantized);
  if (opt.scaleMode == numerics::ScaleMode::kPow2)
    q["scale_fmt"] = "ue8m0";
  if (config.is_object())
    config["quantization_config"] = q;
  plan.lateWarnings.push_back([inexact, inexactTensors, scaleDtype] {
    if (*inexact == 0)
      return std::string();
    return absl::StrCat(
        inexact->load(), " scales in ", inexactTensors->load(),
        " tensors are not exact in ", dtypeName(scaleDtype),
        " (rounded to nearest; the FP8 data was quantized with the f32 "
        "scale, as InfiR2's bf16_cast_fp8 does); --scale-dtype f32 keeps "
        "them exact");
  });
  return plan;
}

//===----------------------------------------------------------------------===//
// fp8-to-bf16
//===----------------------------------------------------------------------===//

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

absl::StatusOr<std::vector<float>> scalesAsF32(const io::TensorView &t) {
  if (!isFloatWeightDtype(t.dtype))
    return absl::InvalidArgumentError(
        absl::StrCat("scale tensor '", t.name, "' is ", dtypeName(t.dtype),
                     "; expected F32, BF16 or F16"));
  return toF32(t);
}

absl::StatusOr<Plan> planFp8ToBf16(const Input &in, ordered_json &config,
                                   const std::string &cfgPath) {
  int64_t blockR = 128, blockC = 128;
  if (config.is_object() && config.contains("quantization_config")) {
    const ordered_json &q = config["quantization_config"];
    if (q.is_object() && q.contains("weight_block_size")) {
      const ordered_json &b = q["weight_block_size"];
      if (!b.is_array() || b.size() != 2 || !b[0].is_number_integer() ||
          !b[1].is_number_integer())
        return absl::InvalidArgumentError(absl::StrCat(
            cfgPath, ": quantization_config.weight_block_size is not [rows, "
                     "cols]"));
      blockR = b[0].get<int64_t>();
      blockC = b[1].get<int64_t>();
      if (blockR <= 0 || blockC <= 0 || blockR > (1 << 20) ||
          blockC > (1 << 20))
        return absl::InvalidArgumentError(absl::StrCat(
            cfgPath, ": quantization_config.weight_block_size [", blockR, ", ",
            blockC, "] must be positive (and at most 2^20)"));
    }
    const std::optional<std::string> method =
        jsonField<std::string>(q, "quant_method", "fp8");
    if (!method || *method != "fp8") {
      const std::optional<std::string> format =
          jsonField<std::string>(q, "format", "");
      std::string hint = "infir2 reads block FP8 (quant_method \"fp8\")";
      if (method && *method == "compressed-tensors" && format &&
          *format == "pack-quantized")
        hint = "for compressed-tensors INT4 use `infir2 convert int4-to-bf16`";
      else if (method && *method == "compressed-tensors")
        hint = absl::StrCat("compressed-tensors format ",
                            format ? absl::StrCat("\"", *format, "\"")
                                   : "(not a string)",
                            " is not supported; infir2 reads block FP8 "
                            "(quant_method \"fp8\") and INT4 pack-quantized");
      return absl::FailedPreconditionError(
          absl::StrCat(cfgPath, ": quantization_config.quant_method is ",
                       q.is_object() && q.contains("quant_method")
                           ? briefJson(q["quant_method"])
                           : "missing",
                       ", not \"fp8\"; ", hint));
    }
  }
  Plan plan;
  plan.shards.resize(in.shards.size());
  std::set<std::string> consumed;
  for (size_t s = 0; s < in.shards.size(); ++s)
    for (const io::TensorView &t : in.shards[s].file->tensors()) {
      if (t.dtype != DType::kF8E4M3 && t.dtype != DType::kF8E5M2)
        continue;
      const std::string where = in.fileOf(t.name).path();
      const io::TensorView *scale = in.find(t.name + "_scale_inv");
      std::string scaleName = t.name + "_scale_inv";
      if (!scale && endsWith(t.name, ".weight")) {
        scaleName = t.name + "_scale";
        scale = in.find(scaleName);
      }
      if (!scale)
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": tensor '", t.name, "' is ", dtypeName(t.dtype),
            " but the checkpoint has no ", t.name, "_scale_inv or ", t.name,
            "_scale to dequantize it with"));
      if (!isFloatWeightDtype(scale->dtype))
        return absl::InvalidArgumentError(absl::StrCat(
            in.fileOf(scaleName).path(), ": scale tensor '", scaleName, "' is ",
            dtypeName(scale->dtype), "; expected F32, BF16 or F16"));
      const int64_t elems = t.elements();
      const int64_t rows = t.shape.size() == 2 ? t.shape[0] : 1;
      const int64_t cols = t.shape.size() == 2 ? t.shape[1] : elems;
      const int64_t se = scale->elements();
      numerics::Layout layout;
      const bool block2d = scale->shape.size() == 2 && t.shape.size() == 2 &&
                           scale->shape[0] == (rows + blockR - 1) / blockR &&
                           scale->shape[1] == (cols + blockC - 1) / blockC;
      if (se == 1) {
        layout = numerics::Layout::kPerTensor;
      } else if (endsWith(scaleName, "_scale_inv") || block2d) {
        if (blockR != 128 || blockC != 128)
          return absl::UnimplementedError(absl::StrCat(
              cfgPath, ": weight_block_size [", blockR, ", ", blockC,
              "] is not supported; the numerics library dequantizes 128x128 "
              "blocks"));
        if (!block2d)
          return absl::InvalidArgumentError(absl::StrCat(
              in.fileOf(scaleName).path(), ": scale tensor '", scaleName,
              "' has shape ", formatShape(scale->shape), "; tensor '", t.name,
              "' ", formatShape(t.shape), " needs [",
              (rows + blockR - 1) / blockR, ", ", (cols + blockC - 1) / blockC,
              "] (one scale per ", blockR, "x", blockC, " block)"));
        layout = numerics::Layout::kTile128x128;
      } else if (t.shape.size() == 2 && se == rows &&
                 (scale->shape.size() == 1 ||
                  (scale->shape.size() == 2 && scale->shape[1] == 1))) {
        layout = numerics::Layout::kPerRow;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat(in.fileOf(scaleName).path(), ": scale tensor '",
                         scaleName, "' has shape ", formatShape(scale->shape),
                         ", which is neither per tensor [1], per channel [",
                         rows, ", 1] nor per block [", (rows + 127) / 128, ", ",
                         (cols + 127) / 128, "] for tensor '", t.name, "' ",
                         formatShape(t.shape)));
      }
      consumed.insert(scaleName);
      Job job;
      job.in = &t;
      job.uses.push_back(scale);
      job.outs.push_back({t.name, DType::kBF16, t.shape});
      const io::TensorView *tp = &t;
      const numerics::Fp8Format format = t.dtype == DType::kF8E4M3
                                             ? numerics::Fp8Format::kE4M3FN
                                             : numerics::Fp8Format::kE5M2;
      job.make = [tp, scale, rows, cols, layout,
                  format](std::vector<std::vector<uint8_t>> &bufs) {
        absl::StatusOr<std::vector<float>> sc = scalesAsF32(*scale);
        if (!sc.ok())
          return sc.status();
        bufs[0].resize(static_cast<size_t>(rows * cols * 2));
        return numerics::dequantize(
            tp->data, sc->data(), rows, cols, layout, format,
            reinterpret_cast<uint16_t *>(bufs[0].data()));
      };
      ++plan.quantized;
      plan.shards[s].push_back(std::move(job));
    }
  // The rest, in input order: scales consumed above are dropped; an orphan
  // scale is an error; static activation scales mean nothing in BF16.
  int64_t dropped = 0;
  if (absl::Status st = mergeInInputOrder(
          in, plan,
          [](const io::TensorView &t) {
            return t.dtype == DType::kF8E4M3 || t.dtype == DType::kF8E5M2;
          },
          consumed,
          [&](const io::TensorView &t) -> absl::StatusOr<Leftover> {
            if (endsWith(t.name, "_scale_inv") ||
                endsWith(t.name, ".weight_scale"))
              return absl::InvalidArgumentError(absl::StrCat(
                  in.fileOf(t.name).path(), ": scale tensor '", t.name,
                  "' belongs to no FP8 tensor; the checkpoint is "
                  "inconsistent"));
            if (!endsWith(t.name, ".input_scale"))
              return Leftover::kCopy;
            ++dropped;
            return Leftover::kDrop;
          });
      !st.ok())
    return st;
  if (dropped)
    plan.warnings.push_back(absl::StrCat(
        "dropped ", dropped,
        " static activation scales (*.input_scale): BF16 has no use for them"));
  dequantizedConfig(config);
  return plan;
}

//===----------------------------------------------------------------------===//
// hf-to-int4 and int4-to-bf16 (compressed-tensors pack-quantized)
//===----------------------------------------------------------------------===//

/// Rounds an f32 result to |dtype| and back: torch's arithmetic on bf16 /
/// f16 tensors computes in f32 and rounds each op's result.
inline float roundTo(float v, DType dtype) {
  if (dtype == DType::kBF16)
    return bf16ToF32(f32ToBf16(v));
  if (dtype == DType::kF16)
    return f16ToF32(f32ToF16(v));
  return v;
}

inline float loadAs(const uint8_t *p, int64_t i, DType dtype) {
  if (dtype == DType::kF32) {
    float v;
    std::memcpy(&v, p + 4 * i, 4);
    return v;
  }
  uint16_t b;
  std::memcpy(&b, p + 2 * i, 2);
  return dtype == DType::kBF16 ? bf16ToF32(b) : f16ToF32(b);
}

inline void storeAs(float v, uint8_t *p, int64_t i, DType dtype) {
  if (dtype == DType::kF32) {
    std::memcpy(p + 4 * i, &v, 4);
    return;
  }
  const uint16_t b = dtype == DType::kBF16 ? f32ToBf16(v) : f32ToF16(v);
  std::memcpy(p + 2 * i, &b, 2);
}

/// Round half to even of |v| (|v| < 2^22), as torch.round, without a libm
/// call: adding and subtracting 1.5 * 2^23 rounds in the FPU's mode, which
/// ScopedFloatEnv holds at round-to-nearest-even (IEEE arithmetic, no
/// fast-math: the compiler keeps both operations).
inline float roundHalfEven(float v) {
  constexpr float m = 12582912.0f;
  return (v + m) - m;
}

/// torch.finfo(dtype).eps: the scale that replaces a zero scale.
float epsOf(DType dtype) {
  return dtype == DType::kBF16  ? 0x1p-7f
         : dtype == DType::kF16 ? 0x1p-10f
                                : 0x1p-23f;
}

/// Quantizes |t| [rows, cols] in groups of |g| columns into packed nibbles,
/// scales (|t|'s dtype) and zero points (int, [rows, groups]). |T| is
/// |t|'s dtype as a constant, so the per-element conversions inline
/// without branches.
template <DType T>
absl::Status quantizeInt4T(const io::TensorView &t, int64_t g, bool symmetric,
                           std::vector<uint8_t> &packed,
                           std::vector<uint8_t> &scales,
                           std::vector<int8_t> &zeros) {
  const int64_t rows = t.shape[0], cols = t.shape[1], groups = cols / g;
  const int64_t words = (cols + 7) / 8;
  packed.assign(static_cast<size_t>(rows * words * 4), 0);
  scales.assign(static_cast<size_t>(rows * groups * dtypeSize(T)), 0);
  zeros.assign(static_cast<size_t>(rows * groups), 0);
  std::atomic<int64_t> bad{-1};
  numerics::ScopedFloatEnv env;
  numerics::parallelFor(rows, 16, [&](int64_t r0, int64_t r1) {
    std::vector<uint32_t> row(static_cast<size_t>(words));
    for (int64_t r = r0; r < r1; ++r) {
      std::fill(row.begin(), row.end(), 0u);
      for (int64_t gi = 0; gi < groups; ++gi) {
        const int64_t c0 = gi * g;
        float mn = 0.0f, mx = 0.0f;
        for (int64_t c = c0; c < c0 + g; ++c) {
          const float x = loadAs(t.data, r * cols + c, T);
          if (!std::isfinite(x)) {
            int64_t expected = -1;
            bad.compare_exchange_strong(expected, r * cols + c);
          }
          mn = std::min(mn, x);
          mx = std::max(mx, x);
        }
        float scale, zf = 0.0f;
        int zp = 0;
        if (symmetric) {
          scale = roundTo(std::max(-mn, mx) / 7.5f, T);
        } else {
          scale = roundTo(roundTo(mx - mn, T) / 15.0f, T);
          zf = roundTo(-8.0f - roundTo(mn / scale, T), T);
          // All-zero group: 0/0 is NaN in torch too; any zero point
          // reproduces the zeros, 0 is the one we store.
          zp = std::isnan(zf) ? 0
                              : static_cast<int>(
                                    roundHalfEven(std::clamp(zf, -8.0f, 7.0f)));
        }
        if (scale == 0.0f)
          scale = epsOf(T);
        storeAs(scale, scales.data(), r * groups + gi, T);
        zeros[static_cast<size_t>(r * groups + gi)] = static_cast<int8_t>(zp);
        for (int64_t c = c0; c < c0 + g; ++c) {
          float s = roundTo(loadAs(t.data, r * cols + c, T) / scale, T);
          if (!symmetric)
            s = roundTo(s + static_cast<float>(zp), T);
          const int q =
              static_cast<int>(roundHalfEven(std::clamp(s, -8.0f, 7.0f)));
          row[static_cast<size_t>(c / 8)] |= static_cast<uint32_t>(q + 8)
                                             << (4 * (c % 8));
        }
      }
      std::memcpy(packed.data() + r * words * 4, row.data(),
                  static_cast<size_t>(words * 4));
    }
  });
  if (int64_t i = bad.load(); i >= 0)
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor '", t.name, "' holds ", loadAs(t.data, i, T), " at [", i / cols,
        ", ", i % cols,
        "]; INT4 cannot represent it (fix the checkpoint or --exclude the "
        "tensor)"));
  return absl::OkStatus();
}

absl::Status quantizeInt4(const io::TensorView &t, int64_t g, bool symmetric,
                          std::vector<uint8_t> &packed,
                          std::vector<uint8_t> &scales,
                          std::vector<int8_t> &zeros) {
  switch (t.dtype) {
  case DType::kBF16:
    return quantizeInt4T<DType::kBF16>(t, g, symmetric, packed, scales, zeros);
  case DType::kF16:
    return quantizeInt4T<DType::kF16>(t, g, symmetric, packed, scales, zeros);
  default:
    return quantizeInt4T<DType::kF32>(t, g, symmetric, packed, scales, zeros);
  }
}

/// Zero points [rows, groups] packed along the rows: [ceil(rows/8), groups].
std::vector<uint8_t> packZeros(const std::vector<int8_t> &zeros, int64_t rows,
                               int64_t groups) {
  std::vector<uint32_t> w(static_cast<size_t>((rows + 7) / 8 * groups), 0u);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t gi = 0; gi < groups; ++gi)
      w[static_cast<size_t>((r / 8) * groups + gi)] |=
          static_cast<uint32_t>(zeros[static_cast<size_t>(r * groups + gi)] + 8)
          << (4 * (r % 8));
  std::vector<uint8_t> out(w.size() * 4);
  std::memcpy(out.data(), w.data(), out.size());
  return out;
}

ordered_json int4Config(int64_t groupSize, bool symmetric,
                        const ordered_json &ignore) {
  ordered_json weights = {{"actorder", nullptr},
                          {"block_structure", nullptr},
                          {"dynamic", false},
                          {"group_size", groupSize},
                          {"num_bits", 4},
                          {"observer", "minmax"},
                          {"observer_kwargs", ordered_json::object()},
                          {"strategy", "group"},
                          {"symmetric", symmetric},
                          {"type", "int"}};
  ordered_json group = {{"format", "pack-quantized"},
                        {"input_activations", nullptr},
                        {"output_activations", nullptr},
                        {"targets", {"Linear"}},
                        {"weights", weights}};
  return {{"config_groups", {{"group_0", group}}},
          {"format", "pack-quantized"},
          {"global_compression_ratio", nullptr},
          {"ignore", ignore},
          {"kv_cache_scheme", nullptr},
          {"quant_method", "compressed-tensors"},
          {"quantization_status", "compressed"}};
}

absl::StatusOr<Plan> planHfToInt4(const Input &in, const ConvertOptions &opt,
                                  ordered_json &config) {
  if (absl::Status s = alreadyQuantizedError(in, "hf-to-int4"); !s.ok())
    return s;
  if (opt.groupSize < 8 || opt.groupSize % 8 != 0)
    return absl::InvalidArgumentError(
        absl::StrCat("--group-size ", opt.groupSize,
                     " must be a positive multiple of 8 (eight 4-bit values "
                     "per int32)"));
  absl::StatusOr<Selector> sel = Selector::create(opt.exclude);
  if (!sel.ok())
    return sel.status();
  Plan plan;
  plan.shards.resize(in.shards.size());
  std::set<std::string> quantized;
  const int64_t g = opt.groupSize;
  const bool symmetric = opt.symmetric;
  for (size_t s = 0; s < in.shards.size(); ++s)
    for (const io::TensorView &t : in.shards[s].file->tensors()) {
      if (!sel->quantizes(t)) {
        plan.shards[s].push_back(copyJob(t));
        continue;
      }
      Job job;
      job.in = &t;
      const int64_t rows = t.shape[0], cols = t.shape[1];
      if (cols % g != 0)
        return absl::InvalidArgumentError(absl::StrCat(
            in.fileOf(t.name).path(), ": tensor '", t.name, "' ",
            formatShape(t.shape), " has ", cols,
            " columns, not a multiple of --group-size ", g,
            "; choose a group size that divides it or --exclude the tensor"));
      quantized.insert(t.name);
      ++plan.quantized;
      const std::string base = t.name.substr(0, t.name.size() - 7);
      job.outs.push_back(
          {base + ".weight_packed", DType::kI32, {rows, (cols + 7) / 8}});
      job.outs.push_back({base + ".weight_scale", t.dtype, {rows, cols / g}});
      job.outs.push_back({base + ".weight_shape", DType::kI64, {2}});
      if (!symmetric)
        job.outs.push_back({base + ".weight_zero_point",
                            DType::kI32,
                            {(rows + 7) / 8, cols / g}});
      const io::TensorView *tp = &t;
      job.make = [tp, g, symmetric, rows,
                  cols](std::vector<std::vector<uint8_t>> &bufs) {
        std::vector<int8_t> zeros;
        if (absl::Status st =
                quantizeInt4(*tp, g, symmetric, bufs[0], bufs[1], zeros);
            !st.ok())
          return st;
        const int64_t shape[2] = {rows, cols};
        bufs[2].resize(16);
        std::memcpy(bufs[2].data(), shape, 16);
        if (!symmetric)
          bufs[3] = packZeros(zeros, rows, cols / g);
        return absl::OkStatus();
      };
      plan.shards[s].push_back(std::move(job));
    }
  if (config.is_object()) {
    // compressed-tensors' ignore list names Linear modules only.
    ordered_json ignore = ordered_json::array();
    for (const ordered_json &m : unconvertedModules(in, quantized))
      ignore.push_back(m);
    config["quantization_config"] = int4Config(g, symmetric, ignore);
  }
  return plan;
}

absl::StatusOr<Plan> planInt4ToBf16(const Input &in, ordered_json &config,
                                    const std::string &cfgPath) {
  std::optional<bool> symmetric;
  if (config.is_object() && config.contains("quantization_config")) {
    const ordered_json &q = config["quantization_config"];
    if (jsonField<std::string>(q, "quant_method", "") !=
            std::optional<std::string>("compressed-tensors") ||
        jsonField<std::string>(q, "format", "") !=
            std::optional<std::string>("pack-quantized"))
      return absl::FailedPreconditionError(absl::StrCat(
          cfgPath, ": quantization_config is not compressed-tensors "
                   "pack-quantized; for block FP8 use `infir2 convert "
                   "fp8-to-bf16`"));
    if (q.contains("config_groups") && q["config_groups"].is_object())
      for (auto &[name, grp] : q["config_groups"].items())
        if (grp.is_object() && grp.contains("weights") &&
            grp["weights"].is_object()) {
          const ordered_json &w = grp["weights"];
          const std::optional<int64_t> bits =
              jsonField<int64_t>(w, "num_bits", 4);
          const std::optional<std::string> type =
              jsonField<std::string>(w, "type", "int");
          const std::optional<bool> sym = jsonField<bool>(w, "symmetric", true);
          if (!bits || !type || !sym)
            return absl::InvalidArgumentError(absl::StrCat(
                cfgPath, ": config group ", name,
                " weights: num_bits must be an integer, type a string and "
                "symmetric a boolean; got ",
                briefJson(w)));
          if (*bits != 4 || *type != "int")
            return absl::UnimplementedError(absl::StrCat(
                cfgPath, ": config group ", name, " has num_bits ", *bits,
                " type ", *type, "; only 4-bit int weights are supported"));
          symmetric = *sym;
        }
  }
  Plan plan;
  plan.shards.resize(in.shards.size());
  std::set<std::string> consumed;
  for (size_t s = 0; s < in.shards.size(); ++s)
    for (const io::TensorView &t : in.shards[s].file->tensors()) {
      if (!endsWith(t.name, ".weight_packed"))
        continue;
      const std::string base = t.name.substr(0, t.name.size() - 14);
      const std::string file = in.fileOf(t.name).path();
      auto need = [&](const std::string &suffix)
          -> absl::StatusOr<const io::TensorView *> {
        const io::TensorView *v = in.find(base + suffix);
        if (!v)
          return absl::InvalidArgumentError(
              absl::StrCat(file, ": tensor '", t.name, "' has no ", base,
                           suffix, "; the checkpoint is incomplete"));
        consumed.insert(base + suffix);
        return v;
      };
      absl::StatusOr<const io::TensorView *> shapeT = need(".weight_shape");
      absl::StatusOr<const io::TensorView *> scaleT = need(".weight_scale");
      if (!shapeT.ok())
        return shapeT.status();
      if (!scaleT.ok())
        return scaleT.status();
      if (in.find(base + ".weight_g_idx"))
        return absl::UnimplementedError(absl::StrCat(
            file, ": tensor '", base,
            ".weight_g_idx' (activation ordering) is not supported"));
      const io::TensorView *zeroT = in.find(base + ".weight_zero_point");
      if (symmetric.value_or(zeroT == nullptr) == false && !zeroT)
        return absl::InvalidArgumentError(absl::StrCat(
            file, ": tensor '", t.name, "' is asymmetric (config.json) but ",
            base, ".weight_zero_point is missing"));
      if (zeroT)
        consumed.insert(zeroT->name);
      const io::TensorView &sh = **shapeT, &sc = **scaleT;
      int64_t rows = -1, cols = -1;
      if ((sh.dtype == DType::kI64 || sh.dtype == DType::kI32) &&
          sh.elements() == 2) {
        for (int i = 0; i < 2; ++i) {
          int64_t v;
          if (sh.dtype == DType::kI64) {
            std::memcpy(&v, sh.data + 8 * i, 8);
          } else {
            int32_t v32;
            std::memcpy(&v32, sh.data + 4 * i, 4);
            v = v32;
          }
          (i ? cols : rows) = v;
        }
      }
      if (rows < 0 || cols <= 0)
        return absl::InvalidArgumentError(absl::StrCat(
            in.fileOf(sh.name).path(), ": tensor '", sh.name,
            "' must hold the [rows, cols] of the weight as 2 integers"));
      if (t.dtype != DType::kI32 || t.shape.size() != 2 || t.shape[0] != rows ||
          t.shape[1] != (cols + 7) / 8)
        return absl::InvalidArgumentError(absl::StrCat(
            file, ": tensor '", t.name, "' is ", dtypeName(t.dtype), " ",
            formatShape(t.shape), "; weight_shape [", rows, ", ", cols,
            "] needs I32 [", rows, ", ", (cols + 7) / 8, "]"));
      if (!isFloatWeightDtype(sc.dtype) || sc.shape.size() != 2 ||
          sc.shape[0] != rows || sc.shape[1] <= 0 || cols % sc.shape[1] != 0)
        return absl::InvalidArgumentError(
            absl::StrCat(in.fileOf(sc.name).path(), ": scale tensor '", sc.name,
                         "' is ", dtypeName(sc.dtype), " ",
                         formatShape(sc.shape), "; expected a float [", rows,
                         ", groups] with groups dividing ", cols));
      const int64_t groups = sc.shape[1], g = cols / groups;
      if (zeroT &&
          (zeroT->dtype != DType::kI32 || zeroT->shape.size() != 2 ||
           zeroT->shape[0] != (rows + 7) / 8 || zeroT->shape[1] != groups))
        return absl::InvalidArgumentError(absl::StrCat(
            in.fileOf(zeroT->name).path(), ": tensor '", zeroT->name, "' is ",
            dtypeName(zeroT->dtype), " ", formatShape(zeroT->shape),
            "; expected I32 [", (rows + 7) / 8, ", ", groups, "]"));
      Job job;
      job.in = &t;
      job.uses = {&sc, &sh};
      if (zeroT)
        job.uses.push_back(zeroT);
      job.outs.push_back({base + ".weight", DType::kBF16, {rows, cols}});
      const io::TensorView *tp = &t, *scp = &sc;
      job.make = [tp, scp, zeroT, rows, cols, groups,
                  g](std::vector<std::vector<uint8_t>> &bufs) {
        bufs[0].resize(static_cast<size_t>(rows * cols * 2));
        auto *out = reinterpret_cast<uint16_t *>(bufs[0].data());
        const DType T = scp->dtype;
        const int64_t words = (cols + 7) / 8;
        numerics::ScopedFloatEnv env;
        numerics::parallelFor(rows, 16, [&](int64_t r0, int64_t r1) {
          for (int64_t r = r0; r < r1; ++r)
            for (int64_t c = 0; c < cols; ++c) {
              uint32_t w;
              std::memcpy(&w, tp->data + 4 * (r * words + c / 8), 4);
              const int q = static_cast<int>((w >> (4 * (c % 8))) & 15u) - 8;
              int zp = 0;
              if (zeroT) {
                uint32_t z;
                std::memcpy(&z, zeroT->data + 4 * ((r / 8) * groups + c / g),
                            4);
                zp = static_cast<int>((z >> (4 * (r % 8))) & 15u) - 8;
              }
              const float scale = loadAs(scp->data, r * groups + c / g, T);
              out[r * cols + c] =
                  f32ToBf16(roundTo(static_cast<float>(q - zp) * scale, T));
            }
        });
        return absl::OkStatus();
      };
      ++plan.quantized;
      plan.shards[s].push_back(std::move(job));
    }
  if (absl::Status st = mergeInInputOrder(
          in, plan,
          [](const io::TensorView &t) {
            return endsWith(t.name, ".weight_packed");
          },
          consumed,
          [&](const io::TensorView &t) -> absl::StatusOr<Leftover> {
            if (endsWith(t.name, ".weight_scale") ||
                endsWith(t.name, ".weight_zero_point") ||
                endsWith(t.name, ".weight_shape"))
              return absl::InvalidArgumentError(absl::StrCat(
                  in.fileOf(t.name).path(), ": tensor '", t.name,
                  "' belongs to no .weight_packed tensor; the checkpoint is "
                  "inconsistent"));
            return Leftover::kCopy;
          });
      !st.ok())
    return st;
  dequantizedConfig(config);
  return plan;
}

//===----------------------------------------------------------------------===//
// The engine
//===----------------------------------------------------------------------===//

enum class Mode { kHfToFp8, kFp8ToBf16, kHfToInt4, kInt4ToBf16 };

absl::StatusOr<ConvertReport> run(Mode mode, const ConvertOptions &opt) {
  const auto start = std::chrono::steady_clock::now();
  if (opt.input.empty() || opt.output.empty())
    return absl::InvalidArgumentError("--input and --output are required");
  std::error_code ec;
  if (fs::exists(opt.output, ec) && fs::exists(opt.input, ec) &&
      fs::equivalent(opt.input, opt.output, ec))
    return absl::InvalidArgumentError(
        absl::StrCat("--output ", opt.output, " is the input directory"));
  // The output as the staging directory will create and replace it: the
  // nesting check below and the commit use the same resolved path.
  std::error_code inEc, outEc;
  const fs::path inputPath = fs::weakly_canonical(opt.input, inEc);
  const fs::path outputPath = fs::weakly_canonical(opt.output, outEc);
  if (inEc || outEc || inputPath.empty() || outputPath.empty())
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot resolve ", inEc || inputPath.empty() ? opt.input : opt.output,
        ": ", (inEc ? inEc : outEc).message()));
  {
    // The copy walks the input and the commit replaces the output: one
    // inside the other would copy the output into itself or delete the
    // input with --force.
    auto inside = [](const fs::path &a, const fs::path &b) {
      const fs::path rel = a.lexically_relative(b);
      return !rel.empty() && *rel.begin() != "..";
    };
    if (inside(outputPath, inputPath) || inside(inputPath, outputPath))
      return absl::InvalidArgumentError(absl::StrCat(
          "--output ", opt.output,
          inside(outputPath, inputPath) ? " is inside" : " contains",
          " the input directory ", opt.input,
          "; choose an output next to the input"));
  }
  if (isNonEmptyPath(opt.output) && !opt.force)
    return absl::AlreadyExistsError(
        absl::StrCat(opt.output, " exists and is not empty; pass --force to "
                                 "replace it"));
  if (opt.threads > 0)
    numerics::setNumThreads(opt.threads);
  absl::StatusOr<Input> in = openInput(opt.input);
  if (!in.ok())
    return in.status();
  ordered_json config = in->config;
  const std::string cfgPath = (fs::path(opt.input) / "config.json").string();

  absl::StatusOr<Plan> plan;
  switch (mode) {
  case Mode::kHfToFp8:
    plan = planHfToFp8(*in, opt, config);
    break;
  case Mode::kFp8ToBf16:
    plan = planFp8ToBf16(*in, config, cfgPath);
    break;
  case Mode::kHfToInt4:
    plan = planHfToInt4(*in, opt, config);
    break;
  case Mode::kInt4ToBf16:
    plan = planInt4ToBf16(*in, config, cfgPath);
    break;
  }
  if (!plan.ok())
    return plan.status();

  ConvertReport report;
  report.tensorsIn = static_cast<int64_t>(in->tensors.size());
  report.tensorsQuantized = plan->quantized;
  // Dequantized outputs are 2x (FP8) or 4x (INT4) their input: the memory
  // bound is in terms of the larger side.
  report.largestTensorBytes = in->largest;
  for (const std::vector<Job> &jobs : plan->shards)
    for (const Job &j : jobs)
      for (const Out &o : j.outs)
        report.largestTensorBytes =
            std::max(report.largestTensorBytes, o.bytes());
  report.shards = static_cast<int64_t>(in->shards.size());
  report.warnings = plan->warnings;

  Staging staging;
  if (absl::Status s = staging.create(outputPath.string()); !s.ok())
    return s;
  const fs::path tmp = staging.dir();
  absl::StatusOr<int64_t> copied = copyOtherFiles(*in, tmp);
  if (!copied.ok())
    return copied.status();
  report.filesCopied = *copied;

  Progress progress{0, in->tensorBytes, ""};
  if (opt.progress)
    opt.progress(progress);
  ordered_json weightMap = ordered_json::object();
  int64_t totalOut = 0;
  for (size_t s = 0; s < in->shards.size(); ++s) {
    const std::vector<Job> &jobs = plan->shards[s];
    std::vector<io::SafetensorsWriter::Entry> entries;
    for (const Job &j : jobs)
      for (const Out &o : j.outs) {
        entries.push_back({o.name, o.dtype, o.shape});
        weightMap[o.name] = in->shards[s].fileName;
        totalOut += o.bytes();
      }
    const io::SafetensorsFile &file = *in->shards[s].file;
    absl::StatusOr<std::unique_ptr<io::SafetensorsWriter>> writer =
        io::SafetensorsWriter::create(
            (tmp / in->shards[s].fileName).string(), entries,
            file.metadata().empty()
                ? std::map<std::string, std::string>{{"format", "pt"}}
                : file.metadata());
    if (!writer.ok())
      return writer.status();
    // One tensor is written by a second thread while the next is made:
    // the disk and the cores work at the same time, and at most two
    // tensors' outputs are in memory.
    std::future<absl::Status> pending;
    auto wait = [&pending]() -> absl::Status {
      return pending.valid() ? pending.get() : absl::OkStatus();
    };
    io::SafetensorsWriter *w = writer->get();
    for (const Job &j : jobs) {
      if (opt.cancel && opt.cancel->load()) {
        (void)wait();
        return absl::CancelledError(
            absl::StrCat("interrupted; nothing was written to ", opt.output));
      }
      progress.tensor = j.in->name;
      file.prefetch(*j.in);
      auto bufs =
          std::make_shared<std::vector<std::vector<uint8_t>>>(j.outs.size());
      if (j.make) {
        if (absl::Status st = j.make(*bufs); !st.ok()) {
          (void)wait();
          if (absl::StrContains(st.message(), file.path()) ||
              absl::StrContains(st.message(), in->dir))
            return st;
          return absl::Status(st.code(),
                              absl::StrCat(file.path(), ": ", st.message()));
        }
        for (size_t o = 0; o < j.outs.size(); ++o)
          if (static_cast<int64_t>((*bufs)[o].size()) != j.outs[o].bytes())
            return absl::InternalError(
                absl::StrCat(j.outs[o].name, ": made ", (*bufs)[o].size(),
                             " bytes, expected ", j.outs[o].bytes()));
        file.release(*j.in);
        for (const io::TensorView *u : j.uses)
          in->fileOf(u->name).release(*u);
      }
      if (absl::Status st = wait(); !st.ok())
        return st;
      const io::TensorView *src = j.in;
      const io::SafetensorsFile *srcFile = &file;
      const bool copy = !j.make;
      pending = std::async(
          std::launch::async, [w, bufs, src, srcFile, copy]() -> absl::Status {
            if (copy) {
              // A copy: straight from the mapped input.
              absl::Status st = w->write(src->data, src->nbytes);
              srcFile->release(*src);
              return st;
            }
            for (const std::vector<uint8_t> &b : *bufs)
              if (absl::Status st =
                      w->write(b.data(), static_cast<int64_t>(b.size()));
                  !st.ok())
                return st;
            return absl::OkStatus();
          });
      report.tensorsOut += static_cast<int64_t>(j.outs.size());
      progress.bytesDone += j.in->nbytes;
      if (opt.progress)
        opt.progress(progress);
    }
    if (absl::Status st = wait(); !st.ok())
      return st;
    if (absl::Status st = w->finish(); !st.ok())
      return st;
  }
  // Scales folded into their weights and dropped tensors were never counted
  // on their own; the bar ends at its total.
  progress.bytesDone = progress.bytesTotal;
  progress.tensor.clear();
  if (opt.progress)
    opt.progress(progress);
  report.bytesIn = in->tensorBytes;
  report.bytesOut = totalOut;
  if (in->indexed) {
    ordered_json index = {{"metadata", {{"total_size", totalOut}}},
                          {"weight_map", weightMap}};
    if (absl::Status st = writeText(tmp / kIndexName, index.dump(2) + "\n");
        !st.ok())
      return st;
  }
  if (config.is_object()) {
    if (absl::Status st = writeText(tmp / "config.json", config.dump(2) + "\n");
        !st.ok())
      return st;
  } else if (mode == Mode::kHfToFp8 || mode == Mode::kHfToInt4) {
    report.warnings.push_back(
        absl::StrCat(opt.input, " has no config.json: the output has no "
                                "quantization_config for engines to read"));
  }
  if (absl::Status st = syncPath(tmp); !st.ok())
    return st;
  if (absl::Status st = staging.commit(); !st.ok())
    return st;
  (void)syncPath(fs::absolute(opt.output).lexically_normal().parent_path());
  for (const auto &late : plan->lateWarnings)
    if (std::string w = late(); !w.empty())
      report.warnings.push_back(w);
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return report;
}
} // namespace

absl::StatusOr<ConvertReport> convertHfToFp8(const ConvertOptions &options) {
  return run(Mode::kHfToFp8, options);
}
absl::StatusOr<ConvertReport> convertFp8ToBf16(const ConvertOptions &options) {
  return run(Mode::kFp8ToBf16, options);
}
absl::StatusOr<ConvertReport> convertHfToInt4(const ConvertOptions &options) {
  return run(Mode::kHfToInt4, options);
}
absl::StatusOr<ConvertReport> convertInt4ToBf16(const ConvertOptions &options) {
  return run(Mode::kInt4ToBf16, options);
}

int64_t peakRssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::strtoll(line.c_str() + 6, nullptr, 10) * 1024;
  return 0;
}
} // namespace infir2::checkpoint
