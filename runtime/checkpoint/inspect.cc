//===- inspect.cc - What a checkpoint holds, and what is wrong with it ----===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/checkpoint/inspect.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "runtime/base/json_text.h"
#include "runtime/io/safetensors.h"
#include "runtime/numerics/float8.h"

namespace infir2::checkpoint {
namespace {
namespace fs = std::filesystem;
using nlohmann::ordered_json;

constexpr const char *kIndexName = "model.safetensors.index.json";
constexpr const char *kSingleName = "model.safetensors";

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string humanBytes(int64_t b) {
  const char *units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  return u == 0 ? absl::StrCat(b, " B")
                : absl::StrFormat("%.2f %s", v, units[u]);
}

/// Scale values as f32 (F32/BF16/F16), or empty for another dtype.
std::vector<float> scaleValues(const io::TensorView &t) {
  std::vector<float> v(static_cast<size_t>(t.elements()));
  for (size_t i = 0; i < v.size(); ++i) {
    if (t.dtype == DType::kF32) {
      std::memcpy(&v[i], t.data + 4 * i, 4);
    } else if (t.dtype == DType::kBF16 || t.dtype == DType::kF16) {
      uint16_t b;
      std::memcpy(&b, t.data + 2 * i, 2);
      v[i] = t.dtype == DType::kBF16 ? numerics::bf16ToF32(b)
                                     : numerics::f16ToF32(b);
    } else {
      return {};
    }
  }
  return v;
}

bool isPow2(float f) {
  const uint32_t u = numerics::floatBits(f);
  return f > 0 && (u & 0x7FFFFFu) == 0 && (u >> 23) != 0 && (u >> 23) != 255;
}

struct Checks {
  std::map<std::string, const io::TensorView *> byName;
  ordered_json qconfig; ///< quantization_config or null
  std::vector<std::string> &problems;

  const io::TensorView *find(const std::string &n) const {
    auto it = byName.find(n);
    return it == byName.end() ? nullptr : it->second;
  }

  void run() {
    int64_t blockR = 128, blockC = 128;
    const std::optional<std::string> method =
        jsonField<std::string>(qconfig, "quant_method", "");
    const std::optional<std::string> format =
        jsonField<std::string>(qconfig, "format", "");
    if (!method || !format)
      problems.push_back(
          "config.json: quantization_config.quant_method and .format must be "
          "strings");
    const bool fp8Config = method == std::optional<std::string>("fp8");
    const bool int4Config =
        method == std::optional<std::string>("compressed-tensors") &&
        format == std::optional<std::string>("pack-quantized");
    bool ue8m0 = false;
    if (fp8Config) {
      if (qconfig.contains("weight_block_size")) {
        const ordered_json &b = qconfig["weight_block_size"];
        if (b.is_array() && b.size() == 2 && b[0].is_number_integer() &&
            b[1].is_number_integer() && b[0].get<int64_t>() > 0 &&
            b[1].get<int64_t>() > 0 && b[0].get<int64_t>() <= (1 << 20) &&
            b[1].get<int64_t>() <= (1 << 20)) {
          blockR = b[0].get<int64_t>();
          blockC = b[1].get<int64_t>();
        } else {
          problems.push_back(absl::StrCat(
              "config.json: quantization_config.weight_block_size is ",
              briefJson(b),
              ", not [rows, cols] of positive integers; "
              "scales are checked against 128x128 blocks"));
        }
      }
      ue8m0 = jsonField<std::string>(qconfig, "scale_fmt", "") ==
              std::optional<std::string>("ue8m0");
    }
    std::set<std::string> unconverted;
    if (fp8Config && qconfig.contains("modules_to_not_convert") &&
        qconfig["modules_to_not_convert"].is_array())
      for (const auto &m : qconfig["modules_to_not_convert"])
        if (m.is_string())
          unconverted.insert(m.get<std::string>());

    int64_t fp8 = 0, packedCount = 0, notPow2 = 0;
    std::string firstNotPow2;
    std::set<std::string> usedScales;
    for (const auto &[name, t] : byName) {
      if (t->dtype == DType::kF8E4M3 || t->dtype == DType::kF8E5M2) {
        ++fp8;
        if (endsWith(name, ".weight") &&
            unconverted.count(name.substr(0, name.size() - 7)))
          problems.push_back(absl::StrCat(
              "tensor '", name, "' is ", dtypeName(t->dtype),
              " but config.json lists its module in modules_to_not_convert"));
        const io::TensorView *s = find(name + "_scale_inv");
        std::string sname = name + "_scale_inv";
        if (!s) {
          sname = name + "_scale";
          s = find(sname);
        }
        if (!s) {
          problems.push_back(absl::StrCat("FP8 tensor '", name, "' has no ",
                                          name, "_scale_inv or ", name,
                                          "_scale"));
          continue;
        }
        usedScales.insert(sname);
        if (endsWith(sname, "_scale_inv")) {
          if (t->shape.size() != 2) {
            problems.push_back(
                absl::StrCat("FP8 tensor '", name, "' ", formatShape(t->shape),
                             " has block scales but is not 2-D"));
            continue;
          }
          const std::vector<int64_t> want = {
              (t->shape[0] + blockR - 1) / blockR,
              (t->shape[1] + blockC - 1) / blockC};
          if (s->shape != want)
            problems.push_back(absl::StrCat(
                "scale shape mismatch: '", sname, "' is ",
                formatShape(s->shape), ", '", name, "' ", formatShape(t->shape),
                " needs ", formatShape(want), " (", blockR, "x", blockC,
                " blocks)"));
        }
        std::vector<float> v = scaleValues(*s);
        if (v.empty())
          problems.push_back(absl::StrCat("scale tensor '", sname, "' is ",
                                          dtypeName(s->dtype),
                                          "; expected F32, BF16 or F16"));
        if (ue8m0)
          for (float f : v)
            if (!isPow2(f)) {
              if (notPow2++ == 0)
                firstNotPow2 = absl::StrCat(sname, " holds ", f);
            }
      }
      if (endsWith(name, ".weight_packed")) {
        ++packedCount;
        checkInt4(name, *t, usedScales, int4Config);
      }
    }
    for (const auto &[name, t] : byName)
      if ((endsWith(name, "_scale_inv") || endsWith(name, ".weight_scale")) &&
          !usedScales.count(name))
        problems.push_back(absl::StrCat("scale tensor '", name,
                                        "' belongs to no quantized tensor"));
    if (notPow2)
      problems.push_back(absl::StrCat(
          "config.json says scale_fmt ue8m0 but ", notPow2,
          " scales are not powers of two (first: ", firstNotPow2, ")"));
    if (fp8 && !fp8Config)
      problems.push_back(absl::StrCat(
          fp8, " FP8 tensors but config.json has no fp8 quantization_config "
               "(engines will not know how to load them)"));
    if (fp8Config && fp8 == 0)
      problems.push_back("config.json has an fp8 quantization_config but no "
                         "tensor is FP8");
    if (packedCount && !int4Config)
      problems.push_back(absl::StrCat(
          packedCount,
          " .weight_packed tensors but config.json has no "
          "compressed-tensors pack-quantized quantization_config"));
    if (int4Config && packedCount == 0)
      problems.push_back("config.json has a pack-quantized quantization_config "
                         "but no .weight_packed tensor");
  }

  void checkInt4(const std::string &name, const io::TensorView &t,
                 std::set<std::string> &used, bool int4Config) {
    const std::string base = name.substr(0, name.size() - 14);
    const io::TensorView *sh = find(base + ".weight_shape");
    const io::TensorView *sc = find(base + ".weight_scale");
    const io::TensorView *zp = find(base + ".weight_zero_point");
    if (sc)
      used.insert(sc->name);
    if (!sh || !sc) {
      problems.push_back(absl::StrCat("INT4 tensor '", name, "' has no ",
                                      !sh ? ".weight_shape" : ".weight_scale"));
      return;
    }
    int64_t dims[2] = {-1, -1};
    if (sh->elements() == 2 &&
        (sh->dtype == DType::kI64 || sh->dtype == DType::kI32))
      for (int i = 0; i < 2; ++i) {
        if (sh->dtype == DType::kI64) {
          std::memcpy(&dims[i], sh->data + 8 * i, 8);
        } else {
          int32_t v;
          std::memcpy(&v, sh->data + 4 * i, 4);
          dims[i] = v;
        }
      }
    if (dims[0] < 0 || dims[1] <= 0) {
      problems.push_back(
          absl::StrCat("'", sh->name, "' does not hold 2 integer dimensions"));
      return;
    }
    const std::vector<int64_t> want = {dims[0], (dims[1] + 7) / 8};
    if (t.dtype != DType::kI32 || t.shape != want)
      problems.push_back(absl::StrCat(
          "INT4 packed shape mismatch: '", name, "' is ", dtypeName(t.dtype),
          " ", formatShape(t.shape), "; weight_shape ", dims[0], "x", dims[1],
          " needs I32 ", formatShape(want)));
    if (sc->shape.size() != 2 || sc->shape[0] != dims[0] || sc->shape[1] <= 0 ||
        dims[1] % sc->shape[1] != 0) {
      problems.push_back(absl::StrCat(
          "scale shape mismatch: '", sc->name, "' is ", formatShape(sc->shape),
          "; expected [", dims[0], ", groups] with groups dividing ", dims[1]));
      return;
    }
    int64_t groups = sc->shape[1];
    if (int4Config && qconfigGroupSize() > 0 &&
        dims[1] / groups != qconfigGroupSize())
      problems.push_back(absl::StrCat(
          "'", sc->name, "' has groups of ", dims[1] / groups,
          " columns; config.json says group_size ", qconfigGroupSize()));
    if (zp) {
      const std::vector<int64_t> zwant = {(dims[0] + 7) / 8, groups};
      if (zp->dtype != DType::kI32 || zp->shape != zwant)
        problems.push_back(absl::StrCat("zero point shape mismatch: '",
                                        zp->name, "' is ", dtypeName(zp->dtype),
                                        " ", formatShape(zp->shape),
                                        "; expected I32 ", formatShape(zwant)));
    } else if (int4Config && !qconfigSymmetric()) {
      problems.push_back(absl::StrCat("'", name,
                                      "' is asymmetric (config.json) but has "
                                      "no .weight_zero_point"));
    }
  }

  const ordered_json *weightsArgs() const {
    if (!qconfig.is_object() || !qconfig.contains("config_groups") ||
        !qconfig["config_groups"].is_object())
      return nullptr;
    for (const auto &[k, g] : qconfig["config_groups"].items())
      if (g.is_object() && g.contains("weights") && g["weights"].is_object())
        return &g["weights"];
    return nullptr;
  }
  int64_t qconfigGroupSize() const {
    const ordered_json *w = weightsArgs();
    return w && (*w).contains("group_size") &&
                   (*w)["group_size"].is_number_integer()
               ? (*w)["group_size"].get<int64_t>()
               : -1;
  }
  bool qconfigSymmetric() const {
    const ordered_json *w = weightsArgs();
    return !w || jsonField<bool>(*w, "symmetric", true).value_or(true);
  }
};
} // namespace

absl::StatusOr<InspectReport> inspect(const std::string &path) {
  InspectReport r;
  r.path = path;
  std::error_code ec;
  std::vector<std::unique_ptr<io::SafetensorsFile>> files;
  std::map<std::string, const io::TensorView *> byName;
  std::map<std::string, std::string> shardOf;
  ordered_json qconfig;

  auto addFile = [&](const fs::path &p) -> absl::Status {
    absl::StatusOr<std::unique_ptr<io::SafetensorsFile>> f =
        io::SafetensorsFile::open(p.string());
    if (!f.ok())
      return f.status();
    for (const io::TensorView &t : (*f)->tensors()) {
      if (byName.count(t.name)) {
        r.problems.push_back(absl::StrCat("tensor '", t.name, "' is in both ",
                                          shardOf[t.name], " and ",
                                          p.filename().string()));
        continue;
      }
      byName[t.name] = &t;
      shardOf[t.name] = p.filename().string();
    }
    files.push_back(std::move(*f));
    return absl::OkStatus();
  };

  // The quantization config of a checkpoint directory, or of the
  // directory holding the file inspected.
  const bool isFile = fs::is_regular_file(path, ec);
  const fs::path config =
      (isFile ? fs::absolute(path).parent_path() : fs::path(path)) /
      "config.json";
  if (isFile || fs::is_directory(path, ec)) {
    if (fs::exists(config, ec)) {
      std::ifstream in(config);
      std::stringstream text;
      text << in.rdbuf();
      ordered_json c = ordered_json::parse(text.str(), nullptr, false);
      if (c.is_discarded() || !c.is_object())
        return absl::InvalidArgumentError(
            absl::StrCat(config.string(), ": not a JSON object"));
      if (c.contains("quantization_config")) {
        qconfig = c["quantization_config"];
        r.quantizationConfig = qconfig.dump(2);
      }
    }
  }
  if (isFile) {
    r.shards.push_back(fs::path(path).filename().string());
    if (absl::Status s = addFile(path); !s.ok())
      return s;
  } else if (fs::is_directory(path, ec)) {
    const fs::path index = fs::path(path) / kIndexName;
    if (fs::exists(index, ec)) {
      r.indexed = true;
      std::ifstream in(index);
      std::stringstream text;
      text << in.rdbuf();
      ordered_json j = ordered_json::parse(text.str(), nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("weight_map") ||
          !j["weight_map"].is_object())
        return absl::InvalidArgumentError(absl::StrCat(
            index.string(), ": not a JSON object with a weight_map object"));
      std::map<std::string, std::string> weightMap;
      for (auto &[name, shard] : j["weight_map"].items()) {
        if (!shard.is_string()) {
          r.problems.push_back(
              absl::StrCat("index entry '", name, "' is not a file name"));
          continue;
        }
        weightMap[name] = shard.get<std::string>();
        if (std::find(r.shards.begin(), r.shards.end(), weightMap[name]) ==
            r.shards.end())
          r.shards.push_back(weightMap[name]);
      }
      std::vector<std::string> present;
      for (const std::string &s : r.shards) {
        if (s.find('/') != std::string::npos ||
            !fs::is_regular_file(fs::path(path) / s, ec)) {
          r.problems.push_back(absl::StrCat("missing shard: the index names ",
                                            s, ", which does not exist"));
          continue;
        }
        present.push_back(s);
        if (absl::Status st = addFile(fs::path(path) / s); !st.ok())
          return st;
      }
      for (const auto &[name, shard] : weightMap) {
        if (std::find(present.begin(), present.end(), shard) == present.end())
          continue;
        auto it = shardOf.find(name);
        if (it == shardOf.end())
          r.problems.push_back(absl::StrCat("index entry '", name, "' names ",
                                            shard, ", which does not hold it"));
        else if (it->second != shard)
          r.problems.push_back(absl::StrCat("index entry '", name, "' names ",
                                            shard, "; the tensor is in ",
                                            it->second));
      }
      for (const auto &[name, shard] : shardOf)
        if (!weightMap.count(name))
          r.problems.push_back(absl::StrCat("missing index entry: tensor '",
                                            name, "' of ", shard,
                                            " is not in the index"));
      int64_t bytes = 0;
      for (const auto &[name, t] : byName)
        bytes += t->nbytes;
      if (j.contains("metadata") && j["metadata"].is_object() &&
          j["metadata"].contains("total_size")) {
        const ordered_json &ts = j["metadata"]["total_size"];
        if (!ts.is_number_integer() || ts.get<int64_t>() != bytes)
          r.problems.push_back(absl::StrCat("index metadata.total_size is ",
                                            ts.dump(), "; the tensors hold ",
                                            bytes, " bytes"));
      }
    } else if (fs::exists(fs::path(path) / kSingleName, ec)) {
      r.shards.push_back(kSingleName);
      if (absl::Status s = addFile(fs::path(path) / kSingleName); !s.ok())
        return s;
    } else {
      return absl::NotFoundError(
          absl::StrCat(path, ": no ", kSingleName, " or ", kIndexName,
                       "; is this a Hugging Face checkpoint directory?"));
    }
  } else {
    return absl::NotFoundError(
        absl::StrCat(path, ": no such file or directory"));
  }

  for (const auto &[name, t] : byName) {
    r.tensors.push_back({name, shardOf[name], t->dtype, t->shape, t->nbytes});
    InspectReport::Total &d = r.byDtype[dtypeName(t->dtype)];
    ++d.tensors;
    d.elements += t->elements();
    d.bytes += t->nbytes;
    ++r.total.tensors;
    r.total.elements += t->elements();
    r.total.bytes += t->nbytes;
  }
  Checks checks{byName, qconfig, r.problems};
  checks.run();
  return r;
}

std::string formatInspectReport(const InspectReport &r, bool listTensors) {
  std::string out = absl::StrCat(
      "checkpoint: ", r.path, " (", r.shards.size(),
      r.shards.size() == 1 ? " file" : " files",
      r.indexed ? ", indexed by model.safetensors.index.json" : "", ")\n");
  if (listTensors) {
    size_t w = 4;
    for (const InspectedTensor &t : r.tensors)
      w = std::max(w, t.name.size());
    absl::StrAppend(&out, "\n",
                    absl::StrFormat("%-*s  %-8s  %-16s  %14s  %s\n",
                                    static_cast<int>(w), "name", "dtype",
                                    "shape", "bytes", "shard"));
    for (const InspectedTensor &t : r.tensors)
      absl::StrAppend(
          &out, absl::StrFormat("%-*s  %-8s  %-16s  %14d  %s\n",
                                static_cast<int>(w), t.name, dtypeName(t.dtype),
                                formatShape(t.shape), t.bytes, t.shard));
  }
  absl::StrAppend(&out, "\ntotals by dtype:\n");
  for (const auto &[dtype, d] : r.byDtype)
    absl::StrAppend(&out, absl::StrFormat("  %-8s %6d tensors %16d elements "
                                          "%12s\n",
                                          dtype, d.tensors, d.elements,
                                          humanBytes(d.bytes)));
  absl::StrAppend(&out,
                  absl::StrFormat("  %-8s %6d tensors %16d elements %12s\n",
                                  "all", r.total.tensors, r.total.elements,
                                  humanBytes(r.total.bytes)));
  if (r.quantizationConfig.empty())
    absl::StrAppend(&out, "\nquantization_config: none\n");
  else
    absl::StrAppend(&out, "\nquantization_config (config.json):\n",
                    r.quantizationConfig, "\n");
  if (r.problems.empty()) {
    absl::StrAppend(&out, "\nproblems: none\n");
  } else {
    absl::StrAppend(&out, "\nproblems (", r.problems.size(), "):\n");
    for (const std::string &p : r.problems)
      absl::StrAppend(&out, "  - ", p, "\n");
  }
  return out;
}
} // namespace infir2::checkpoint
