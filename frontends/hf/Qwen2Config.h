//===- Qwen2Config.h - Hugging Face Qwen2 config.json importer --*- C++ -*-===//
//
// Part of infir2.
//
// Reads the config.json of a Hugging Face Qwen2 / Qwen2.5 checkpoint. Every
// field the model needs must be present; features infir2 does not implement
// (sliding-window attention, RoPE scaling, activations other than SiLU) are
// errors, never silently ignored. Both spellings transformers has used are
// accepted: `torch_dtype` / `dtype`, and `rope_theta` / `rope_parameters`.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_FRONTENDS_HF_QWEN2CONFIG_H
#define INFIR2_FRONTENDS_HF_QWEN2CONFIG_H

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace infir2 {
/// The architecture of a Qwen2 model (recipe facts: Qwen2.5-0.5B has 24
/// layers, 14 heads, 2 kv heads, head_dim 64, tied embeddings; 7B has 28
/// layers, 28 heads, 4 kv heads, head_dim 128, untied).
struct Qwen2Config {
  int64_t vocabSize = 0;
  int64_t hiddenSize = 0;
  int64_t intermediateSize = 0;
  int64_t numHiddenLayers = 0;
  int64_t numAttentionHeads = 0;
  int64_t numKeyValueHeads = 0;
  int64_t headDim = 0; ///< `head_dim`, or hidden_size / num_attention_heads.
  int64_t maxPositionEmbeddings = 0;
  double ropeTheta = 0;
  double rmsNormEps = 0;
  bool tieWordEmbeddings = false;
  std::string dtype; ///< "bfloat16", "float32" or "float16".
  std::optional<int64_t> bosTokenId, eosTokenId;

  /// A canonical one-line rendering of every field, for hashing and logs.
  std::string canonical() const;
};

/// Parses config.json text; |source| names it in errors.
absl::StatusOr<Qwen2Config> parseQwen2Config(const std::string &text,
                                             const std::string &source);

/// Reads and parses |modelDir|/config.json.
absl::StatusOr<Qwen2Config> loadQwen2Config(const std::string &modelDir);
} // namespace infir2

#endif // INFIR2_FRONTENDS_HF_QWEN2CONFIG_H
