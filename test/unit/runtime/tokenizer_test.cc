//===- tokenizer_test.cc - Tokenizer and chat template vs Hugging Face ----===//
//
// Part of infir2.
//
// Golden data: test/golden/tokenizer/make_golden.py (Hugging Face tokenizers
// and transformers). Tokenizer: test/data/qwen2.5-tokenizer.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/tokenizer.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "runtime/tokenizer/chat_template.h"
#include "runtime/tokenizer/pretokenizer.h"
#include "runtime/tokenizer/unicode.h"
#include "gtest/gtest.h"

namespace {
using namespace infir2::text;
using nlohmann::json;

const std::string kTokenizerDir =
    std::string(INFIR2_TEST_DATA_DIR) + "/qwen2.5-tokenizer";
const std::string kGoldenDir = std::string(INFIR2_GOLDEN_DIR) + "/tokenizer";

#define EXPECT_CONTAINS(haystack, needle)                                      \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos)             \
      << "'" << (haystack) << "' lacks '" << (needle) << "'"

std::vector<json> readJsonl(const std::string &path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::vector<json> out;
  std::string line;
  while (std::getline(in, line))
    out.push_back(json::parse(line));
  return out;
}

const Tokenizer &qwen() {
  static const Tokenizer *t = [] {
    auto loaded = Tokenizer::load(kTokenizerDir);
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return loaded.ok() ? loaded->release() : nullptr;
  }();
  return *t;
}

std::vector<int32_t> ids(const json &j) {
  return j.get<std::vector<int32_t>>();
}

TEST(Tokenizer, LoadsQwen25) {
  const Tokenizer &t = qwen();
  EXPECT_EQ(t.vocabSize(), 151665);
  EXPECT_EQ(t.addedTokens().size(), 22u);
  EXPECT_EQ(t.eosTokenId(), 151645);
  EXPECT_EQ(t.padTokenId(), 151643);
  EXPECT_FALSE(t.bosTokenId().has_value());
  EXPECT_STREQ(t.splitEngine(), "qwen2");
  EXPECT_TRUE(t.isSpecial(151644));
  EXPECT_FALSE(t.isSpecial(151657)); // <tool_call>
  EXPECT_EQ(t.tokenToId("<|im_end|>"), 151645);
  EXPECT_EQ(t.idToToken(9707), "Hello");
}

TEST(Tokenizer, MatchesHuggingFaceOnTheGoldenCorpus) {
  std::vector<json> corpus = readJsonl(kGoldenDir + "/corpus.jsonl");
  ASSERT_GE(corpus.size(), 5000u);
  std::map<std::string, int> mismatches, counts;
  int shown = 0;
  int64_t tokens = 0;
  for (const json &c : corpus) {
    const std::string kind = c["kind"].get<std::string>();
    ++counts[kind];
    auto got = qwen().encode(c["text"].get<std::string>());
    ASSERT_TRUE(got.ok()) << got.status();
    tokens += static_cast<int64_t>(got->size());
    if (*got != ids(c["ids"])) {
      ++mismatches[kind];
      if (shown++ < 5)
        ADD_FAILURE() << kind << ": " << c["text"].dump().substr(0, 200);
    }
  }
  EXPECT_TRUE(mismatches.empty());
  EXPECT_EQ(counts.size(), 14u); // every category of the generator
  RecordProperty("strings", std::to_string(corpus.size()));
  RecordProperty("tokens", std::to_string(tokens));
}

TEST(Tokenizer, DecodeOfEncodeIsNfc) {
  for (const json &c : readJsonl(kGoldenDir + "/corpus.jsonl")) {
    const std::string text = c["text"].get<std::string>();
    const std::string expected =
        c.contains("nfc") ? c["nfc"].get<std::string>() : text;
    auto decoded = qwen().decode(*qwen().encode(text));
    ASSERT_TRUE(decoded.ok());
    ASSERT_EQ(*decoded, expected) << c["kind"];
  }
}

TEST(Tokenizer, DecodesLikeHuggingFaceIncludingInvalidUtf8) {
  int invalid = 0;
  for (const json &d : readJsonl(kGoldenDir + "/decode.jsonl")) {
    auto text = qwen().decode(ids(d["ids"]));
    auto skipped = qwen().decode(ids(d["ids"]), /*skipSpecialTokens=*/true);
    ASSERT_TRUE(text.ok() && skipped.ok());
    EXPECT_EQ(*text, d["text"].get<std::string>()) << d["ids"];
    EXPECT_EQ(*skipped, d["text_skip_special"].get<std::string>());
    invalid += text->find("\xEF\xBF\xBD") != std::string::npos;
  }
  EXPECT_GT(invalid, 100); // the golden exercises replacement
}

TEST(Tokenizer, EncodeOptionsAndErrors) {
  const Tokenizer &t = qwen();
  EXPECT_EQ(*t.encode("<|im_start|>user"), (std::vector<int32_t>{151644, 872}));
  // Special tokens as text; non-special added tokens still match.
  EncodeOptions asText;
  asText.matchSpecialTokens = false;
  auto plain = t.encode("<|im_start|><tool_call>", asText);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->back(), 151657);
  EXPECT_EQ(std::count(plain->begin(), plain->end(), 151644), 0);
  auto bad = t.encode("ok \xC3\x28");
  ASSERT_FALSE(bad.ok());
  EXPECT_CONTAINS(bad.status().message(), "not valid UTF-8 (byte 3)");
  // Ids past the vocabulary (Qwen2.5's embedding has 151936 rows) decode
  // to nothing, as in tokenizers; negative ids are errors.
  EXPECT_EQ(*t.decode({9707, 151700, 1879}), "Hello world");
  auto out = t.decode({9707, -1});
  ASSERT_FALSE(out.ok());
  EXPECT_CONTAINS(out.status().message(), "id -1 at position 1 is negative");
}

TEST(Tokenizer, BatchEncodingEqualsOneByOne) {
  std::vector<std::string> texts;
  for (const json &c : readJsonl(kGoldenDir + "/corpus.jsonl"))
    texts.push_back(c["text"].get<std::string>());
  texts.resize(1500);
  auto batch = qwen().encodeBatch(texts, {}, 3);
  ASSERT_TRUE(batch.ok()) << batch.status();
  for (size_t i = 0; i < texts.size(); ++i)
    ASSERT_EQ((*batch)[i], *qwen().encode(texts[i])) << i;
  texts.push_back("\xFF");
  auto failed = qwen().encodeBatch(texts);
  ASSERT_FALSE(failed.ok());
  EXPECT_CONTAINS(failed.status().message(), "text 1500: ");
}

TEST(Pretokenizer, Pcre2AgreesWithTheBuiltInMatcher) {
  // PCRE2 has its own Unicode (14.0 in Debian 12) and \s without U+0085;
  // on text without such code points the two engines must agree.
  auto builtIn = Splitter::create(kQwen2SplitPattern);
  auto pcre = Splitter::create(kQwen2SplitPattern, /*forcePcre2=*/true);
  ASSERT_TRUE(builtIn.ok() && pcre.ok());
  EXPECT_STREQ((*builtIn)->engine(), "qwen2");
  EXPECT_STREQ((*pcre)->engine(), "pcre2");
  int compared = 0;
  for (const json &c : readJsonl(kGoldenDir + "/corpus.jsonl")) {
    const std::string kind = c["kind"].get<std::string>();
    if (kind == "unicode" || kind == "whitespace")
      continue;
    const std::string text = nfc(c["text"].get<std::string>());
    std::vector<Span> a, b;
    (*builtIn)->split(text, a);
    (*pcre)->split(text, b);
    ASSERT_EQ(a.size(), b.size()) << kind << ": " << c["text"].dump();
    for (size_t i = 0; i < a.size(); ++i)
      ASSERT_TRUE(a[i].begin == b[i].begin && a[i].end == b[i].end)
          << kind << " piece " << i << ": " << c["text"].dump();
    ++compared;
  }
  EXPECT_GT(compared, 4000);
  EXPECT_FALSE(Splitter::create("(unclosed").ok());
}

TEST(Unicode, LossyDecodingReplacesMaximalSubparts) {
  // Unicode's "U+FFFD substitution of maximal subparts" examples.
  EXPECT_EQ(decodeUtf8Lossy("a\xE2\x82"
                            "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(decodeUtf8Lossy("\xF0\x80\x80"),
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(decodeUtf8Lossy("\xED\xA0\x80"), // a surrogate
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(decodeUtf8Lossy("\xF4\x8F\xBF\xBF"), "\xF4\x8F\xBF\xBF");
  EXPECT_EQ(decodeUtf8Lossy("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(firstInvalidUtf8("ok\xE2\x82"), 2);
  EXPECT_EQ(nfc("A\xCC\x8A"), "\xC3\x85"); // A + ring -> Å
  // U+07FD is newer than tokenizers' normalization data: it stays put and
  // blocks the acute from reaching (and composing with) the a.
  EXPECT_EQ(nfc("a\xDF\xBD\xCC\x81"), "a\xDF\xBD\xCC\x81");
  EXPECT_EQ(nfc("e\xCC\x81\xDF\xBD"), "\xC3\xA9\xDF\xBD");
  EXPECT_STREQ(unicodeTableVersion(), "16.0.0");
  EXPECT_TRUE(isLetter(0x10D50)); // Garay, new in Unicode 16.0
  EXPECT_TRUE(isNumber(0x10D40));
  EXPECT_TRUE(isWhiteSpace(0x85));
  EXPECT_FALSE(isWhiteSpace(0x180E));
}

/// A byte-level tokenizer.json with all 256 byte tokens plus |extra|.
std::string tinyTokenizer(const std::vector<std::string> &extra,
                          const json &merges, const json &added,
                          const json &normalizer = json{{"type", "NFC"}}) {
  json vocab = json::object();
  int id = 0;
  // GPT-2's byte table, written out here independently of the tokenizer.
  int next = 256;
  for (int b = 0; b < 256; ++b) {
    bool direct = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) ||
                  (b >= 0xAE && b <= 0xFF);
    std::string s;
    appendUtf8(s, direct ? static_cast<uint32_t>(b) : next++);
    vocab[s] = id++;
  }
  for (const std::string &e : extra)
    vocab[e] = id++;
  json pre = {{"type", "Sequence"},
              {"pretokenizers",
               {{{"type", "Split"},
                 {"pattern", {{"Regex", kQwen2SplitPattern}}},
                 {"behavior", "Isolated"},
                 {"invert", false}},
                {{"type", "ByteLevel"},
                 {"add_prefix_space", false},
                 {"use_regex", false}}}}};
  json j = {{"normalizer", normalizer},
            {"pre_tokenizer", pre},
            {"decoder", {{"type", "ByteLevel"}}},
            {"post_processor", nullptr},
            {"added_tokens", added},
            {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}}};
  return j.dump();
}

TEST(Tokenizer, BpeMergesLowestRankThenLeftmost) {
  // "aaa": merges a+a only -> [aa, a] (leftmost pair first).
  auto t = Tokenizer::fromJson(
      tinyTokenizer({"aa", "ab", "aab"}, {"a a", "a b", "aa b"}, json::array()),
      "", "tiny");
  ASSERT_TRUE(t.ok()) << t.status();
  const int32_t a = *(*t)->tokenToId("a"), aa = *(*t)->tokenToId("aa"),
                aab = *(*t)->tokenToId("aab");
  EXPECT_EQ(*(*t)->encode("aaa"), (std::vector<int32_t>{aa, a}));
  // "aab": a+a (rank 0) before a+b (rank 1), then aa+b.
  EXPECT_EQ(*(*t)->encode("aab"), (std::vector<int32_t>{aab}));
  // A long piece takes the heap path and must give the same answer.
  std::string longWord(1001, 'a');
  auto longIds = (*t)->encode(longWord);
  ASSERT_TRUE(longIds.ok());
  EXPECT_EQ(longIds->size(), 501u);
  EXPECT_EQ(longIds->back(), a);
  EXPECT_EQ(*(*t)->decode(*longIds), longWord);
}

TEST(Tokenizer, SplitSpecialTokensStillClaimTheirText) {
  // tokenizers matches every added token, then leaves split special ones
  // as text: the non-special "xy|>z" inside "<|xy|>z" is not matched.
  json added =
      json::array({{{"id", 300}, {"content", "<|xy|>"}, {"special", true}},
                   {{"id", 301}, {"content", "xy|>z"}, {"special", false}}});
  auto t =
      Tokenizer::fromJson(tinyTokenizer({}, json::array(), added), "", "tiny");
  ASSERT_TRUE(t.ok()) << t.status();
  EncodeOptions split;
  split.matchSpecialTokens = false;
  auto ids = (*t)->encode("<|xy|>z", split);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(std::count(ids->begin(), ids->end(), 301), 0);
  EXPECT_EQ(*(*t)->decode(*ids), "<|xy|>z");
  EXPECT_EQ(*(*t)->encode("<|xy|>z"),
            (std::vector<int32_t>{300, *(*t)->tokenToId("z")}));
}

TEST(Tokenizer, AddedTokensAreLeftmostLongest) {
  json added =
      json::array({{{"id", 300}, {"content", "<a>"}, {"special", true}},
                   {{"id", 301}, {"content", "<a><b>"}, {"special", false}},
                   {{"id", 302}, {"content", "b>"}, {"special", false}}});
  auto t =
      Tokenizer::fromJson(tinyTokenizer({}, json::array(), added), "", "tiny");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*(*t)->encode("<a><b>"), (std::vector<int32_t>{301}));
  auto mixed = (*t)->encode("x<a>b>");
  EXPECT_EQ((*mixed)[1], 300);
  EXPECT_EQ((*mixed)[2], 302);
  EXPECT_EQ(*(*t)->decode({300, 302}, /*skipSpecialTokens=*/true), "b>");
}

TEST(Tokenizer, RefusesWhatItDoesNotImplement) {
  auto error = [](const std::string &json, const std::string &config = "") {
    auto t = Tokenizer::fromJson(json, config, "t/tokenizer.json");
    EXPECT_FALSE(t.ok());
    return t.ok() ? std::string() : std::string(t.status().message());
  };
  EXPECT_CONTAINS(error(tinyTokenizer({}, json::array(), json::array(),
                                      json{{"type", "NFKC"}})),
                  "t/tokenizer.json: normalizer: {\"type\": \"NFKC\"} is not "
                  "supported");
  json j = json::parse(tinyTokenizer({}, json::array(), json::array()));
  j["model"]["dropout"] = 0.1;
  EXPECT_CONTAINS(error(j.dump()), "dropout");
  j = json::parse(tinyTokenizer({}, json::array(), json::array()));
  j["model"]["merges"] = {"a zz"};
  EXPECT_CONTAINS(error(j.dump()), "model.merges[0]: 'a zz' names a token");
  j = json::parse(tinyTokenizer({}, json::array(), json::array()));
  j["model"]["vocab"].erase("a");
  EXPECT_CONTAINS(error(j.dump()), "has no token for byte 0x61");
  j = json::parse(tinyTokenizer({}, json::array(), json::array()));
  j["post_processor"] = {{"type", "TemplateProcessing"}};
  EXPECT_CONTAINS(error(j.dump()), "post_processor");
  j = json::parse(tinyTokenizer(
      {}, json::array(),
      json::array({{{"id", 300}, {"content", "<x>"}, {"lstrip", true}}})));
  EXPECT_CONTAINS(error(j.dump()), "added_tokens[0]: 'lstrip'");
  EXPECT_CONTAINS(error(tinyTokenizer({}, json::array(), json::array()),
                        R"({"eos_token": "<|nope|>"})"),
                  "eos_token: '<|nope|>' is not a token");
  EXPECT_CONTAINS(error("[1, 2]"), "not a JSON object");
  auto missing = Tokenizer::load("/nonexistent");
  ASSERT_FALSE(missing.ok());
  EXPECT_CONTAINS(missing.status().message(), "tokenizer.json: cannot read");
}

TEST(ChatTemplate, MatchesTransformersAndSlimeMasks) {
  auto chat = ChatTemplate::fromTokenizer(qwen());
  ASSERT_TRUE(chat.ok()) << chat.status();
  EXPECT_EQ((*chat)->defaultSystemPrompt(),
            "You are Qwen, created by Alibaba Cloud. You are a helpful "
            "assistant.");
  EXPECT_EQ((*chat)->systemBlockLength(), 21);
  EXPECT_EQ((*chat)->generationPrefixLength(), 3);
  int conversations = 0, trained = 0;
  for (const json &g : readJsonl(kGoldenDir + "/chat.jsonl")) {
    auto messages = parseMessages(g["messages"]);
    ASSERT_TRUE(messages.ok()) << messages.status();
    EXPECT_EQ(*(*chat)->render(*messages, false), g["text"].get<std::string>());
    EXPECT_EQ(*(*chat)->render(*messages, true),
              g["text_gen"].get<std::string>());
    EXPECT_EQ((*chat)->tokenize(*messages, false)->ids, ids(g["ids"]));
    EXPECT_EQ((*chat)->tokenize(*messages, true)->ids, ids(g["ids_gen"]));
    auto sft = (*chat)->tokenizeWithLossMask(*messages);
    ASSERT_TRUE(sft.ok());
    EXPECT_EQ(sft->ids, ids(g["sft_ids"]));
    std::vector<uint8_t> mask = g["sft_loss_mask"].get<std::vector<uint8_t>>();
    EXPECT_EQ(sft->lossMask, mask);
    trained += std::count(mask.begin(), mask.end(), 1);
    ++conversations;
  }
  EXPECT_EQ(conversations, 200);
  EXPECT_GT(trained, 1000);
}

TEST(ChatTemplate, LossMaskTrainsAssistantContentEndAndNewline) {
  auto chat = ChatTemplate::fromTokenizer(qwen());
  auto messages = parseMessages(json::parse(
      R"([{"role":"user","content":"Hi"},{"role":"assistant","content":"Yo"}])"));
  auto sft = (*chat)->tokenizeWithLossMask(*messages);
  ASSERT_TRUE(sft.ok());
  // ... <|im_start|> assistant \n Yo <|im_end|> \n (ids from tokenizers)
  const size_t n = sft->ids.size();
  EXPECT_EQ(std::vector<int32_t>(sft->ids.end() - 6, sft->ids.end()),
            (std::vector<int32_t>{151644, 77091, 198, 64725, 151645, 198}));
  EXPECT_EQ(std::vector<uint8_t>(sft->lossMask.end() - 6, sft->lossMask.end()),
            (std::vector<uint8_t>{0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(std::count(sft->lossMask.begin(), sft->lossMask.end(), 1), 3);
  EXPECT_EQ(n, 21u + 6u + 6u); // system, user "Hi", assistant "Yo"
}

TEST(ChatTemplate, LossMaskWithSplitSpecialTokens) {
  // With special tokens split the system block and the assistant prefix
  // are longer; the mask must still train exactly the assistant's reply.
  auto chat = ChatTemplate::fromTokenizer(qwen());
  auto messages = parseMessages(json::parse(
      R"([{"role":"user","content":"Hi"},{"role":"assistant","content":"Yo"}])"));
  EncodeOptions split;
  split.matchSpecialTokens = false;
  auto sft = (*chat)->tokenizeWithLossMask(*messages, split);
  ASSERT_TRUE(sft.ok());
  EXPECT_EQ(sft->ids, (*chat)->tokenize(*messages, false, split)->ids);
  const size_t trained =
      std::count(sft->lossMask.begin(), sft->lossMask.end(), 1);
  EXPECT_EQ(trained, qwen().encode("Yo<|im_end|>\n", split)->size());
  EXPECT_EQ(std::count(sft->ids.begin(), sft->ids.end(), 151644), 0);
}

TEST(ChatTemplate, RefusesUnknownTemplatesAndMessages) {
  auto other = ChatTemplate::fromText(
      "{% for m in messages %}{{ m.content }}{% endfor %}", qwen());
  ASSERT_FALSE(other.ok());
  EXPECT_CONTAINS(other.status().message(), "not the Qwen2.5 template");
  // The same template with another default system prompt is accepted.
  std::string math = qwen().chatTemplate();
  const std::string sys =
      "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
  for (size_t at; (at = math.find(sys)) != std::string::npos;)
    math.replace(at, sys.size(),
                 "Please reason step by step, and put your final answer "
                 "within \\\\boxed{}.");
  auto t = ChatTemplate::fromText(math, qwen());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->defaultSystemPrompt(),
            "Please reason step by step, and put your final answer within "
            "\\boxed{}.");
  // step_loss_mask as slime reads it: true trains, null and false mask.
  auto flags = parseMessages(json::parse(
      R"([{"role":"assistant","content":"a","step_loss_mask":true},)"
      R"({"role":"assistant","content":"b","step_loss_mask":null}])"));
  ASSERT_TRUE(flags.ok());
  EXPECT_EQ((*flags)[0].stepLossMask, 1);
  EXPECT_EQ((*flags)[1].stepLossMask, 0);
  for (const char *bad :
       {R"([])", R"([{"role":"tool","content":"x"}])",
        R"([{"role":"assistant","content":"","tool_calls":[{"name":"f"}]}])",
        R"([{"role":"critic","content":"x"}])", R"([{"role":"user"}])",
        R"([{"role":"user","content":"x","step_loss_mask":"no"}])"})
    EXPECT_FALSE(parseMessages(json::parse(bad)).ok()) << bad;
}
} // namespace
