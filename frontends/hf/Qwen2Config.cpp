//===- Qwen2Config.cpp - Hugging Face Qwen2 config.json importer ----------===//
//
// Part of infir2.
//
// Built with LLVM's -fno-exceptions: nlohmann::json is used only through its
// non-throwing calls (parse without exceptions, find, typed checks before
// get).
//
//===----------------------------------------------------------------------===//

#include "frontends/hf/Qwen2Config.h"

#include <climits>
#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "runtime/base/json_text.h"

namespace infir2 {
namespace {
using nlohmann::json;

class Reader {
public:
  Reader(const json &j, std::string source)
      : j_(j), source_(std::move(source)) {}

  absl::Status error(const std::string &what) const {
    return absl::InvalidArgumentError(absl::StrCat(source_, ": ", what));
  }
  absl::Status missing(const std::string &key, const std::string &hint) const {
    return error(absl::StrCat("missing required field '", key,
                              "' (every Qwen2 config.json has it", hint, ")"));
  }

  const json *get(const std::string &key) const {
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }

  absl::Status positiveInt(const std::string &key, int64_t &out,
                           const std::string &hint = "") const {
    const json *v = get(key);
    if (!v)
      return missing(key, hint);
    // Sizes stay below 2^31 so that products of two of them fit 64 bits.
    if (!v->is_number_integer() || v->get<int64_t>() <= 0 ||
        v->get<int64_t>() > INT32_MAX)
      return error(absl::StrCat("'", key, "' is ", briefJson(*v),
                                "; it must be a positive integer below "
                                "2^31"));
    out = v->get<int64_t>();
    return absl::OkStatus();
  }

  absl::Status positiveNumber(const json &v, const std::string &key,
                              double &out) const {
    if (!v.is_number() || !(v.get<double>() > 0) ||
        !std::isfinite(v.get<double>()))
      return error(absl::StrCat("'", key, "' is ", briefJson(v),
                                "; it must be a positive number"));
    out = v.get<double>();
    return absl::OkStatus();
  }

  absl::Status optionalTokenId(const std::string &key,
                               std::optional<int64_t> &out) const {
    const json *v = get(key);
    if (!v || v->is_null())
      return absl::OkStatus();
    if (v->is_number_integer()) {
      out = v->get<int64_t>();
      return absl::OkStatus();
    }
    if (v->is_array()) // several end-of-sequence ids: keep the first
      for (const json &e : *v)
        if (e.is_number_integer()) {
          out = e.get<int64_t>();
          return absl::OkStatus();
        }
    return error(absl::StrCat("'", key, "' is ", briefJson(*v),
                              "; expected a token id"));
  }

private:
  const json &j_;
  std::string source_;
};

#define RETURN_IF_ERROR(expr)                                                  \
  do {                                                                         \
    if (absl::Status _s = (expr); !_s.ok())                                    \
      return _s;                                                               \
  } while (0)
} // namespace

std::string Qwen2Config::canonical() const {
  return absl::StrCat("qwen2 vocab=", vocabSize, " hidden=", hiddenSize,
                      " intermediate=", intermediateSize,
                      " layers=", numHiddenLayers, " heads=", numAttentionHeads,
                      " kv_heads=", numKeyValueHeads, " head_dim=", headDim,
                      " max_pos=", maxPositionEmbeddings,
                      " rope_theta=", absl::StrFormat("%.17g", ropeTheta),
                      " eps=", absl::StrFormat("%.17g", rmsNormEps),
                      " tied=", tieWordEmbeddings ? 1 : 0, " dtype=", dtype);
}

absl::StatusOr<Qwen2Config> parseQwen2Config(const std::string &text,
                                             const std::string &source) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  Reader r(j, source);
  if (j.is_discarded() || !j.is_object())
    return r.error("not a JSON object");

  const json *modelType = r.get("model_type");
  if (!modelType)
    return r.missing("model_type", "");
  if (!modelType->is_string() || modelType->get<std::string>() != "qwen2")
    return r.error(absl::StrCat("model_type ", briefJson(*modelType),
                                " is not supported; infir2 runs \"qwen2\" "
                                "(Qwen2 / Qwen2.5) models"));

  Qwen2Config c;
  RETURN_IF_ERROR(r.positiveInt("vocab_size", c.vocabSize));
  RETURN_IF_ERROR(r.positiveInt("hidden_size", c.hiddenSize));
  RETURN_IF_ERROR(r.positiveInt("intermediate_size", c.intermediateSize));
  RETURN_IF_ERROR(r.positiveInt("num_hidden_layers", c.numHiddenLayers));
  RETURN_IF_ERROR(r.positiveInt("num_attention_heads", c.numAttentionHeads));
  RETURN_IF_ERROR(r.positiveInt("num_key_value_heads", c.numKeyValueHeads));
  RETURN_IF_ERROR(
      r.positiveInt("max_position_embeddings", c.maxPositionEmbeddings));
  if (c.numAttentionHeads % c.numKeyValueHeads != 0)
    return r.error(absl::StrCat("num_attention_heads ", c.numAttentionHeads,
                                " is not a multiple of num_key_value_heads ",
                                c.numKeyValueHeads));

  if (const json *hd = r.get("head_dim"); hd && !hd->is_null()) {
    RETURN_IF_ERROR(r.positiveInt("head_dim", c.headDim));
  } else {
    if (c.hiddenSize % c.numAttentionHeads != 0)
      return r.error(absl::StrCat("no head_dim, and hidden_size ", c.hiddenSize,
                                  " is not a multiple of num_attention_heads ",
                                  c.numAttentionHeads));
    c.headDim = c.hiddenSize / c.numAttentionHeads;
  }
  if (c.headDim % 2 != 0)
    return r.error(absl::StrCat("head_dim ", c.headDim,
                                " is odd; rotary embeddings need pairs"));

  const json *eps = r.get("rms_norm_eps");
  if (!eps)
    return r.missing("rms_norm_eps", "; Qwen2.5 uses 1e-6");
  RETURN_IF_ERROR(r.positiveNumber(*eps, "rms_norm_eps", c.rmsNormEps));

  // RoPE: `rope_theta` (+ `rope_scaling`, which must be null), or
  // transformers 5's `rope_parameters` {rope_theta, rope_type: "default"}.
  if (const json *scaling = r.get("rope_scaling");
      scaling && !scaling->is_null())
    return r.error(absl::StrCat("rope_scaling ", briefJson(*scaling),
                                " is not supported (infir2 implements plain "
                                "RoPE; remove rope_scaling or set it to "
                                "null)"));
  const json *theta = r.get("rope_theta");
  if (const json *params = r.get("rope_parameters");
      params && !params->is_null()) {
    if (!params->is_object())
      return r.error("rope_parameters is not an object");
    for (auto &[key, value] : params->items()) {
      if (key == "rope_theta")
        theta = &value;
      else if (key == "rope_type") {
        if (!value.is_string() || value.get<std::string>() != "default")
          return r.error(absl::StrCat("rope_parameters.rope_type ",
                                      briefJson(value),
                                      " is not supported; infir2 implements "
                                      "\"default\" RoPE"));
      } else {
        return r.error(absl::StrCat("rope_parameters.", key,
                                    " is not supported (RoPE scaling)"));
      }
    }
  }
  if (!theta)
    return r.missing("rope_theta",
                     "; Qwen2.5 uses 1000000, Qwen2.5-Math 10000");
  RETURN_IF_ERROR(r.positiveNumber(*theta, "rope_theta", c.ropeTheta));

  const json *act = r.get("hidden_act");
  if (!act)
    return r.missing("hidden_act", "");
  if (!act->is_string() || act->get<std::string>() != "silu")
    return r.error(absl::StrCat("hidden_act ", briefJson(*act),
                                " is not supported; Qwen2 uses \"silu\""));

  const json *tie = r.get("tie_word_embeddings");
  if (!tie)
    return r.missing("tie_word_embeddings",
                     "; true for Qwen2.5-0.5B/1.5B, false for 7B");
  if (!tie->is_boolean())
    return r.error("tie_word_embeddings is not true or false");
  c.tieWordEmbeddings = tie->get<bool>();

  if (const json *sw = r.get("use_sliding_window");
      sw && !(sw->is_boolean() && !sw->get<bool>()))
    return r.error(absl::StrCat("use_sliding_window ", briefJson(*sw),
                                " is not supported; infir2 implements full "
                                "attention (Qwen2.5 sets false)"));
  if (const json *lt = r.get("layer_types"); lt && !lt->is_null()) {
    if (!lt->is_array())
      return r.error("layer_types is not a list");
    for (const json &t : *lt)
      if (!t.is_string() || t.get<std::string>() != "full_attention")
        return r.error(absl::StrCat("layer_types holds ", briefJson(t),
                                    "; infir2 implements \"full_attention\" "
                                    "only"));
  }
  if (const json *drop = r.get("attention_dropout");
      drop && !(drop->is_number() && drop->get<double>() == 0.0))
    return r.error(absl::StrCat("attention_dropout ", briefJson(*drop),
                                " is not supported; infir2 trains without "
                                "dropout, as the recipe does"));

  const json *dtype = r.get("torch_dtype");
  if (!dtype || dtype->is_null())
    dtype = r.get("dtype");
  if (!dtype || dtype->is_null())
    return r.missing("torch_dtype", " (or 'dtype' since transformers 5)");
  if (!dtype->is_string() || (dtype->get<std::string>() != "bfloat16" &&
                              dtype->get<std::string>() != "float32" &&
                              dtype->get<std::string>() != "float16"))
    return r.error(absl::StrCat("dtype ", briefJson(*dtype),
                                " is not one of \"bfloat16\", \"float32\", "
                                "\"float16\""));
  c.dtype = dtype->get<std::string>();

  RETURN_IF_ERROR(r.optionalTokenId("bos_token_id", c.bosTokenId));
  RETURN_IF_ERROR(r.optionalTokenId("eos_token_id", c.eosTokenId));
  return c;
}

absl::StatusOr<Qwen2Config> loadQwen2Config(const std::string &modelDir) {
  std::string path = modelDir + "/config.json";
  std::ifstream in(path);
  if (!in)
    return absl::NotFoundError(absl::StrCat(
        path, ": cannot read; a Hugging Face model directory holds "
              "config.json next to its safetensors files"));
  std::stringstream text;
  text << in.rdbuf();
  return parseQwen2Config(text.str(), path);
}
} // namespace infir2
