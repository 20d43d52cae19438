//===- qwen2_config_test.cpp - The HF Qwen2 config importer ---------------===//
//
// Part of infir2.
//
// Config texts are the published Qwen2.5 configs (recipe.md §1.1) and the
// transformers 5 form that test/golden/qwen2/make_golden.py writes.
//
//===----------------------------------------------------------------------===//

#include <string>

#include "frontends/hf/Qwen2Config.h"
#include "nlohmann/json.hpp"
#include "gtest/gtest.h"

namespace {
using infir2::parseQwen2Config;
using infir2::Qwen2Config;

// Qwen/Qwen2.5-0.5B-Instruct's config.json (transformers 4 form).
constexpr const char *kQwen25_05B = R"({
  "architectures": ["Qwen2ForCausalLM"],
  "attention_dropout": 0.0,
  "bos_token_id": 151643,
  "eos_token_id": 151645,
  "hidden_act": "silu",
  "hidden_size": 896,
  "initializer_range": 0.02,
  "intermediate_size": 4864,
  "max_position_embeddings": 32768,
  "max_window_layers": 21,
  "model_type": "qwen2",
  "num_attention_heads": 14,
  "num_hidden_layers": 24,
  "num_key_value_heads": 2,
  "rms_norm_eps": 1e-06,
  "rope_theta": 1000000.0,
  "sliding_window": 32768,
  "tie_word_embeddings": true,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.43.1",
  "use_cache": true,
  "use_sliding_window": false,
  "vocab_size": 151936
})";

// Qwen/Qwen2.5-7B-Instruct, with rope_scaling null.
constexpr const char *kQwen25_7B = R"({
  "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0,
  "bos_token_id": 151643, "eos_token_id": 151645, "hidden_act": "silu",
  "hidden_size": 3584, "initializer_range": 0.02,
  "intermediate_size": 18944, "max_position_embeddings": 32768,
  "max_window_layers": 28, "model_type": "qwen2",
  "num_attention_heads": 28, "num_hidden_layers": 28,
  "num_key_value_heads": 4, "rms_norm_eps": 1e-06, "rope_scaling": null,
  "rope_theta": 1000000.0, "sliding_window": 131072,
  "tie_word_embeddings": false, "torch_dtype": "bfloat16",
  "use_cache": true, "use_sliding_window": false, "vocab_size": 152064
})";

nlohmann::json base() { return nlohmann::json::parse(kQwen25_05B); }

absl::StatusOr<Qwen2Config> parse(const nlohmann::json &j) {
  return parseQwen2Config(j.dump(), "test/config.json");
}

/// The error message of parsing |j|, which must fail.
std::string error(const nlohmann::json &j) {
  absl::StatusOr<Qwen2Config> c = parse(j);
  EXPECT_FALSE(c.ok());
  return c.ok() ? "" : std::string(c.status().message());
}

TEST(Qwen2Config, ReadsQwen25_05B) {
  absl::StatusOr<Qwen2Config> c = parseQwen2Config(kQwen25_05B, "0.5B");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->vocabSize, 151936);
  EXPECT_EQ(c->hiddenSize, 896);
  EXPECT_EQ(c->intermediateSize, 4864);
  EXPECT_EQ(c->numHiddenLayers, 24);
  EXPECT_EQ(c->numAttentionHeads, 14);
  EXPECT_EQ(c->numKeyValueHeads, 2);
  EXPECT_EQ(c->headDim, 64); // hidden / heads
  EXPECT_EQ(c->maxPositionEmbeddings, 32768);
  EXPECT_EQ(c->ropeTheta, 1e6);
  EXPECT_EQ(c->rmsNormEps, 1e-6);
  EXPECT_TRUE(c->tieWordEmbeddings);
  EXPECT_EQ(c->dtype, "bfloat16");
  EXPECT_EQ(c->bosTokenId, 151643);
  EXPECT_EQ(c->eosTokenId, 151645);
}

TEST(Qwen2Config, ReadsQwen25_7BWithNullRopeScaling) {
  absl::StatusOr<Qwen2Config> c = parseQwen2Config(kQwen25_7B, "7B");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->headDim, 128);
  EXPECT_EQ(c->numAttentionHeads / c->numKeyValueHeads, 7);
  EXPECT_FALSE(c->tieWordEmbeddings);
  EXPECT_EQ(c->vocabSize, 152064);
}

TEST(Qwen2Config, ReadsTransformers5Form) {
  nlohmann::json j = base();
  j.erase("rope_theta");
  j.erase("torch_dtype");
  j["rope_parameters"] = {{"rope_theta", 10000.0}, {"rope_type", "default"}};
  j["dtype"] = "float32";
  j["layer_types"] = nlohmann::json::array({"full_attention"});
  j["head_dim"] = 32;
  absl::StatusOr<Qwen2Config> c = parse(j);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->ropeTheta, 1e4);
  EXPECT_EQ(c->dtype, "float32");
  EXPECT_EQ(c->headDim, 32); // explicit head_dim wins over hidden / heads
}

TEST(Qwen2Config, CanonicalFormChangesWithEveryField) {
  Qwen2Config a = *parseQwen2Config(kQwen25_05B, "a");
  nlohmann::json j = base();
  j["rope_theta"] = 10000.0;
  Qwen2Config b = *parse(j);
  EXPECT_NE(a.canonical(), b.canonical());
  j = base();
  j["tie_word_embeddings"] = false;
  EXPECT_NE(a.canonical(), parse(j)->canonical());
}

TEST(Qwen2Config, RejectsSlidingWindow) {
  nlohmann::json j = base();
  j["use_sliding_window"] = true;
  EXPECT_NE(error(j).find("use_sliding_window true is not supported"),
            std::string::npos);
}

TEST(Qwen2Config, RejectsRopeScaling) {
  nlohmann::json j = base();
  j["rope_scaling"] = {{"type", "yarn"},
                       {"factor", 4.0},
                       {"original_max_position_embeddings", 32768}};
  std::string e = error(j);
  EXPECT_NE(e.find("rope_scaling"), std::string::npos) << e;
  EXPECT_NE(e.find("set it to null"), std::string::npos) << e;
  j = base();
  j["rope_parameters"] = {{"rope_theta", 1e6}, {"rope_type", "yarn"}};
  EXPECT_NE(error(j).find("rope_type \"yarn\" is not supported"),
            std::string::npos);
}

TEST(Qwen2Config, RejectsOtherActivations) {
  nlohmann::json j = base();
  j["hidden_act"] = "gelu";
  EXPECT_NE(error(j).find("hidden_act \"gelu\" is not supported"),
            std::string::npos);
}

TEST(Qwen2Config, RejectsOtherModelTypes) {
  nlohmann::json j = base();
  j["model_type"] = "llama";
  EXPECT_NE(error(j).find("model_type \"llama\" is not supported"),
            std::string::npos);
}

TEST(Qwen2Config, EveryRequiredFieldIsRequired) {
  for (const char *field :
       {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
        "num_attention_heads", "num_key_value_heads", "max_position_embeddings",
        "rms_norm_eps", "rope_theta", "hidden_act", "tie_word_embeddings",
        "torch_dtype", "model_type"}) {
    nlohmann::json j = base();
    j.erase(field);
    std::string e = error(j);
    EXPECT_NE(e.find(field), std::string::npos) << field << ": " << e;
    EXPECT_NE(e.find("test/config.json"), std::string::npos) << e;
  }
}

TEST(Qwen2Config, RejectsInconsistentShapes) {
  nlohmann::json j = base();
  j["num_key_value_heads"] = 3; // 14 % 3 != 0
  EXPECT_NE(error(j).find("not a multiple of num_key_value_heads"),
            std::string::npos);
  j = base();
  j["hidden_size"] = 900; // 900 % 14 != 0 and no head_dim
  EXPECT_NE(error(j).find("no head_dim"), std::string::npos);
  j = base();
  j["vocab_size"] = -1;
  EXPECT_NE(error(j).find("vocab_size"), std::string::npos);
  j = base();
  j["head_dim"] = 63;
  EXPECT_NE(error(j).find("odd"), std::string::npos);
}

TEST(Qwen2Config, RejectsDropoutAndUnknownDtypes) {
  nlohmann::json j = base();
  j["attention_dropout"] = 0.1;
  EXPECT_NE(error(j).find("attention_dropout"), std::string::npos);
  j = base();
  j["torch_dtype"] = "float8";
  EXPECT_NE(error(j).find("dtype \"float8\""), std::string::npos);
  j = base();
  j["layer_types"] = nlohmann::json::array({"sliding_attention"});
  EXPECT_NE(error(j).find("sliding_attention"), std::string::npos);
}

TEST(Qwen2Config, RejectsMalformedJson) {
  absl::StatusOr<Qwen2Config> c = parseQwen2Config("{\"model_type\": ", "x");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("not a JSON object"),
            std::string::npos);
}
} // namespace
