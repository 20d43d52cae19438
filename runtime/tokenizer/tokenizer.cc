//===- tokenizer.cc - Hugging Face byte-level BPE tokenizers --------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/tokenizer.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <queue>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "runtime/base/json_text.h"
#include "runtime/numerics/parallel.h"
#include "runtime/tokenizer/unicode.h"

namespace infir2::text {
namespace {
using nlohmann::json;
namespace fs = std::filesystem;

/// GPT-2's byte <-> printable character table: bytes that are printable
/// Latin-1 map to themselves, the other 68 to U+0100 onwards.
struct ByteTable {
  uint32_t byteToChar[256];
  std::unordered_map<uint32_t, uint8_t> charToByte;
  ByteTable() {
    std::vector<bool> direct(256, false);
    for (int b = '!'; b <= '~'; ++b)
      direct[b] = true;
    for (int b = 0xA1; b <= 0xAC; ++b)
      direct[b] = true;
    for (int b = 0xAE; b <= 0xFF; ++b)
      direct[b] = true;
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      byteToChar[b] = direct[b] ? static_cast<uint32_t>(b) : next++;
      charToByte[byteToChar[b]] = static_cast<uint8_t>(b);
    }
  }
};

const ByteTable &byteTable() {
  static const ByteTable *table = new ByteTable();
  return *table;
}

/// The bytes a token string decodes to, as tokenizers' ByteLevel decoder
/// does it: every character through the byte table, or, if any character
/// is not in it, the string's own UTF-8.
std::string tokenBytes(const std::string &token) {
  const ByteTable &t = byteTable();
  std::string out;
  const char *p = token.data(), *end = p + token.size();
  while (p < end) {
    auto it = t.charToByte.find(nextCodepoint(p));
    if (it == t.charToByte.end())
      return token;
    out.push_back(static_cast<char>(it->second));
  }
  return out;
}

/// Bump when encode() changes its output for some input (invalidates
/// dataset caches): 2 = NFC as tokenizers computes it.
constexpr const char *kImplementationVersion = "infir2-tokenizer-2";

uint64_t pairKey(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) |
         static_cast<uint32_t>(b);
}

uint64_t fnv1a(std::string_view s, uint64_t h = 0xCBF29CE484222325ull) {
  for (unsigned char c : s)
    h = (h ^ c) * 0x100000001B3ull;
  return h;
}

absl::StatusOr<std::string> readFile(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(absl::StrCat(path.string(), ": cannot read"));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Loader errors name the file and the field.
class Loader {
public:
  explicit Loader(std::string source) : source_(std::move(source)) {}
  absl::Status error(const std::string &field, const std::string &what) const {
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ": ", field, ": ", what));
  }
  const std::string &source() const { return source_; }

private:
  std::string source_;
};

bool isNullOr(const json &j, const char *key, const json &value) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() || *it == value;
}
} // namespace

Tokenizer::Tokenizer() {
  static std::atomic<uint64_t> instances{0};
  instance_ = ++instances;
}

Tokenizer::~Tokenizer() = default;

absl::StatusOr<std::unique_ptr<Tokenizer>>
Tokenizer::load(const std::string &dir) {
  const fs::path base(dir);
  absl::StatusOr<std::string> text = readFile(base / "tokenizer.json");
  if (!text.ok())
    return absl::NotFoundError(
        absl::StrCat((base / "tokenizer.json").string(),
                     ": cannot read; a Hugging Face tokenizer directory holds "
                     "tokenizer.json (and tokenizer_config.json)"));
  std::string config;
  std::error_code ec;
  if (fs::exists(base / "tokenizer_config.json", ec)) {
    absl::StatusOr<std::string> c = readFile(base / "tokenizer_config.json");
    if (!c.ok())
      return c.status();
    config = std::move(*c);
  }
  absl::StatusOr<std::unique_ptr<Tokenizer>> tok =
      fromJson(*text, config, (base / "tokenizer.json").string());
  if (!tok.ok())
    return tok.status();
  // Newer transformers keep the template in its own file.
  if ((*tok)->chatTemplate_.empty() &&
      fs::exists(base / "chat_template.jinja", ec)) {
    absl::StatusOr<std::string> t = readFile(base / "chat_template.jinja");
    if (!t.ok())
      return t.status();
    (*tok)->chatTemplate_ = std::move(*t);
    (*tok)->fingerprint_ = absl::StrFormat(
        "%016x", fnv1a((*tok)->chatTemplate_, fnv1a((*tok)->fingerprint_)));
  }
  return tok;
}

absl::StatusOr<std::unique_ptr<Tokenizer>>
Tokenizer::fromJson(const std::string &tokenizerJson,
                    const std::string &configJson, const std::string &source) {
  // The loader checks the fields it reads; a value of an unexpected type
  // that slips through (nlohmann's value() throws) still becomes an error.
  try {
    return fromJsonChecked(tokenizerJson, configJson, source);
  } catch (const nlohmann::json::exception &e) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": a field has an unexpected type: ", e.what()));
  }
}

absl::StatusOr<std::unique_ptr<Tokenizer>>
Tokenizer::fromJsonChecked(const std::string &tokenizerJson,
                           const std::string &configJson,
                           const std::string &source) {
  Loader l(source);
  json j = json::parse(tokenizerJson, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return l.error("tokenizer.json", "not a JSON object");
  std::unique_ptr<Tokenizer> t(new Tokenizer());

  // normalizer: none, NFC, or a Sequence of NFC.
  const json &norm = j.value("normalizer", json());
  auto isNfc = [](const json &n) {
    return n.is_object() && n.value("type", "") == "NFC";
  };
  if (norm.is_null()) {
    t->nfc_ = false;
  } else if (isNfc(norm)) {
    t->nfc_ = true;
  } else if (norm.is_object() && norm.value("type", "") == "Sequence" &&
             norm.contains("normalizers") && norm["normalizers"].is_array() &&
             std::all_of(norm["normalizers"].begin(), norm["normalizers"].end(),
                         isNfc)) {
    t->nfc_ = !norm["normalizers"].empty();
  } else {
    return l.error("normalizer",
                   absl::StrCat(briefJson(norm),
                                " is not supported; infir2 implements none "
                                "and NFC"));
  }

  // pre_tokenizer: Split(regex, Isolated) + ByteLevel(no regex), or a
  // ByteLevel with its own (GPT-2) regex.
  const json &pre = j.value("pre_tokenizer", json());
  auto byteLevel = [](const json &p, bool regex) {
    return p.is_object() && p.value("type", "") == "ByteLevel" &&
           !p.value("add_prefix_space", false) &&
           p.value("use_regex", true) == regex;
  };
  std::string pattern;
  if (pre.is_object() && pre.value("type", "") == "Sequence" &&
      pre.contains("pretokenizers") && pre["pretokenizers"].is_array() &&
      pre["pretokenizers"].size() == 2 &&
      byteLevel(pre["pretokenizers"][1], false)) {
    const json &split = pre["pretokenizers"][0];
    if (!split.is_object() || split.value("type", "") != "Split" ||
        !split.contains("pattern") || !split["pattern"].is_object() ||
        !split["pattern"].contains("Regex") ||
        !split["pattern"]["Regex"].is_string())
      return l.error("pre_tokenizer.pretokenizers[0]",
                     "expected a Split with a Regex pattern");
    if (split.value("behavior", "") != "Isolated" ||
        split.value("invert", false))
      return l.error("pre_tokenizer.pretokenizers[0]",
                     "only behavior \"Isolated\" without invert is "
                     "supported");
    pattern = split["pattern"]["Regex"].get<std::string>();
  } else if (byteLevel(pre, true)) {
    pattern =
        R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
  } else {
    return l.error("pre_tokenizer",
                   absl::StrCat(briefJson(pre),
                                " is not supported; infir2 implements "
                                "Sequence[Split(Regex, Isolated), "
                                "ByteLevel(use_regex=false)] and "
                                "ByteLevel(use_regex=true), both without a "
                                "prefix space"));
  }
  absl::StatusOr<std::unique_ptr<Splitter>> splitter =
      Splitter::create(pattern);
  if (!splitter.ok())
    return l.error("pre_tokenizer", std::string(splitter.status().message()));
  t->splitter_ = std::move(*splitter);

  // decoder and post_processor
  const json &decoder = j.value("decoder", json());
  if (!decoder.is_object() || decoder.value("type", "") != "ByteLevel")
    return l.error("decoder",
                   absl::StrCat(briefJson(decoder), " is not supported; infir2 "
                                                    "decodes ByteLevel"));
  const json &post = j.value("post_processor", json());
  if (!post.is_null() &&
      !(post.is_object() && post.value("type", "") == "ByteLevel"))
    return l.error("post_processor",
                   absl::StrCat(briefJson(post),
                                " is not supported: it would add tokens; "
                                "infir2 implements none and ByteLevel"));

  // model: byte-level BPE.
  if (!j.contains("model") || !j["model"].is_object())
    return l.error("model", "missing");
  const json &m = j["model"];
  if (m.value("type", "") != "BPE")
    return l.error(
        "model.type",
        absl::StrCat(briefJson(m.value("type", json())), " is not BPE"));
  if (!isNullOr(m, "dropout", json()) || !isNullOr(m, "byte_fallback", false) ||
      !isNullOr(m, "continuing_subword_prefix", "") ||
      !isNullOr(m, "end_of_word_suffix", ""))
    return l.error("model",
                   "dropout, byte_fallback, continuing_subword_prefix and "
                   "end_of_word_suffix are not supported");
  t->ignoreMerges_ = m.value("ignore_merges", false);
  if (!m.contains("vocab") || !m["vocab"].is_object())
    return l.error("model.vocab", "missing or not an object");
  int32_t maxId = -1;
  for (auto it = m["vocab"].begin(); it != m["vocab"].end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
        it.value().get<int64_t>() > INT32_MAX / 2)
      return l.error("model.vocab",
                     absl::StrCat("token '", it.key(), "' has no valid id"));
    const int32_t id = it.value().get<int32_t>();
    t->vocab_[it.key()] = id;
    maxId = std::max(maxId, id);
  }

  // added_tokens
  if (j.contains("added_tokens") && !j["added_tokens"].is_null()) {
    if (!j["added_tokens"].is_array())
      return l.error("added_tokens", "not a list");
    for (size_t i = 0; i < j["added_tokens"].size(); ++i) {
      const json &a = j["added_tokens"][i];
      const std::string field = absl::StrCat("added_tokens[", i, "]");
      if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() ||
          !a.contains("content") || !a["content"].is_string() ||
          a["content"].get<std::string>().empty() ||
          a["id"].get<int64_t>() < 0 || a["id"].get<int64_t>() > INT32_MAX / 2)
        return l.error(field, "needs an id and a non-empty content");
      for (const char *flag : {"single_word", "lstrip", "rstrip", "normalized"})
        if (a.value(flag, false))
          return l.error(field,
                         absl::StrCat("'", flag,
                                      "' is not supported (Qwen2's added "
                                      "tokens set none of them)"));
      AddedToken tok{a["id"].get<int32_t>(), a["content"].get<std::string>(),
                     a.value("special", false)};
      maxId = std::max(maxId, tok.id);
      t->added_.push_back(std::move(tok));
    }
  }

  // id -> token, id -> bytes
  t->idToToken_.assign(static_cast<size_t>(maxId + 1), std::string());
  t->special_.assign(static_cast<size_t>(maxId + 1), false);
  for (const auto &[token, id] : t->vocab_)
    t->idToToken_[id] = token;
  for (const AddedToken &a : t->added_) {
    t->idToToken_[a.id] = a.content;
    t->special_[a.id] = a.special;
  }
  t->idToBytes_.resize(t->idToToken_.size());
  for (size_t id = 0; id < t->idToToken_.size(); ++id)
    t->idToBytes_[id] = tokenBytes(t->idToToken_[id]);

  // Byte symbols: every byte must be a token.
  const ByteTable &bt = byteTable();
  for (int b = 0; b < 256; ++b) {
    std::string s;
    appendUtf8(s, bt.byteToChar[b]);
    auto it = t->vocab_.find(s);
    if (it == t->vocab_.end())
      return l.error("model.vocab",
                     absl::StrFormat("has no token for byte 0x%02X ('%s'); a "
                                     "byte-level BPE needs all 256",
                                     b, s));
    t->byteIds_[b] = it->second;
  }

  // merges: "a b" strings or [a, b] pairs, in rank order.
  if (!m.contains("merges") || !m["merges"].is_array())
    return l.error("model.merges", "missing or not a list");
  const json &merges = m["merges"];
  t->merges_.reserve(merges.size() * 2);
  for (size_t r = 0; r < merges.size(); ++r) {
    std::string a, b;
    const json &e = merges[r];
    if (e.is_string()) {
      const std::string s = e.get<std::string>();
      size_t sp = s.find(' ');
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
        return l.error(absl::StrCat("model.merges[", r, "]"),
                       absl::StrCat("'", s, "' is not 'left right'"));
      a = s.substr(0, sp);
      b = s.substr(sp + 1);
    } else if (e.is_array() && e.size() == 2 && e[0].is_string() &&
               e[1].is_string()) {
      a = e[0].get<std::string>();
      b = e[1].get<std::string>();
    } else {
      return l.error(absl::StrCat("model.merges[", r, "]"),
                     "is not a string pair");
    }
    auto ia = t->vocab_.find(a), ib = t->vocab_.find(b),
         ic = t->vocab_.find(a + b);
    if (ia == t->vocab_.end() || ib == t->vocab_.end() || ic == t->vocab_.end())
      return l.error(absl::StrCat("model.merges[", r, "]"),
                     absl::StrCat("'", a, " ", b,
                                  "' names a token (or makes one) that is "
                                  "not in the vocab"));
    // A repeated pair keeps its last rank: tokenizers collects the merges
    // into a hash map, where later entries overwrite earlier ones.
    t->merges_.insert_or_assign(
        pairKey(ia->second, ib->second),
        std::make_pair(static_cast<int32_t>(r), ic->second));
  }

  // Added tokens by first byte, longest first.
  t->addedByFirstByte_.assign(256, {});
  for (const AddedToken &a : t->added_)
    t->addedByFirstByte_[static_cast<unsigned char>(a.content[0])].push_back(
        &a);
  for (auto &list : t->addedByFirstByte_)
    std::stable_sort(list.begin(), list.end(),
                     [](const AddedToken *x, const AddedToken *y) {
                       return x->content.size() > y->content.size();
                     });

  // tokenizer_config.json: special-token roles and the chat template.
  if (!configJson.empty()) {
    Loader lc(source + " (tokenizer_config.json)");
    json c = json::parse(configJson, nullptr, /*allow_exceptions=*/false);
    if (c.is_discarded() || !c.is_object())
      return lc.error("tokenizer_config.json", "not a JSON object");
    auto role = [&](const char *key,
                    std::optional<int32_t> &out) -> absl::Status {
      auto it = c.find(key);
      if (it == c.end() || it->is_null())
        return absl::OkStatus();
      std::string content;
      if (it->is_string())
        content = it->get<std::string>();
      else if (it->is_object() && it->contains("content") &&
               (*it)["content"].is_string())
        content = (*it)["content"].get<std::string>();
      else
        return lc.error(key, "is not a token string");
      std::optional<int32_t> id = t->tokenToId(content);
      if (!id)
        return lc.error(key, absl::StrCat("'", content, "' is not a token"));
      out = id;
      return absl::OkStatus();
    };
    for (auto [key, slot] :
         {std::pair{"eos_token", &t->eos_}, std::pair{"pad_token", &t->pad_},
          std::pair{"bos_token", &t->bos_}})
      if (absl::Status s = role(key, *slot); !s.ok())
        return s;
    if (c.value("add_bos_token", false))
      return lc.error("add_bos_token",
                      "true is not supported (infir2 adds no tokens when "
                      "encoding; Qwen2.5 sets false)");
    auto tmpl = c.find("chat_template");
    if (tmpl != c.end() && tmpl->is_string()) {
      t->chatTemplate_ = tmpl->get<std::string>();
    } else if (tmpl != c.end() && tmpl->is_array()) {
      for (const json &e : *tmpl)
        if (e.is_object() && e.value("name", "") == "default" &&
            e.contains("template") && e["template"].is_string())
          t->chatTemplate_ = e["template"].get<std::string>();
    }
  }
  // The implementation's version is part of the fingerprint, so caches of
  // ids made by an older encoder are not reused after a fix.
  t->fingerprint_ = absl::StrFormat(
      "%016x", fnv1a(t->chatTemplate_,
                     fnv1a(configJson, fnv1a(tokenizerJson,
                                             fnv1a(kImplementationVersion)))));
  return t;
}

std::optional<int32_t> Tokenizer::tokenToId(std::string_view token) const {
  for (const AddedToken &a : added_)
    if (a.content == token)
      return a.id;
  auto it = vocab_.find(std::string(token));
  if (it == vocab_.end())
    return std::nullopt;
  return it->second;
}

std::string Tokenizer::idToToken(int32_t id) const {
  if (id < 0 || id >= vocabSize())
    return std::string();
  return idToToken_[id];
}

bool Tokenizer::isSpecial(int32_t id) const {
  return id >= 0 && id < vocabSize() && special_[id];
}

void Tokenizer::encodePiece(std::string_view piece,
                            std::vector<int32_t> &out) const {
  // Pieces repeat (words, spaces, punctuation): a per-thread cache.
  thread_local std::unordered_map<std::string, std::vector<int32_t>> cache;
  thread_local uint64_t cacheOwner = 0;
  constexpr size_t kMaxCached = 1 << 16, kMaxPieceBytes = 256;
  if (cacheOwner != instance_) {
    cache.clear();
    cacheOwner = instance_;
  }
  const bool cacheable = piece.size() <= kMaxPieceBytes;
  if (cacheable) {
    auto it = cache.find(std::string(piece));
    if (it != cache.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  thread_local std::vector<int32_t> ids;
  ids.clear();
  bool done = false;
  if (ignoreMerges_) {
    std::string s;
    for (unsigned char b : piece)
      appendUtf8(s, byteTable().byteToChar[b]);
    auto it = vocab_.find(s);
    if (it != vocab_.end()) {
      ids.push_back(it->second);
      done = true;
    }
  }
  if (!done) {
    for (unsigned char b : piece)
      ids.push_back(byteIds_[b]);
    auto rankOf = [&](int32_t a, int32_t b, int32_t &merged) {
      auto it = merges_.find(pairKey(a, b));
      if (it == merges_.end())
        return INT32_MAX;
      merged = it->second.second;
      return it->second.first;
    };
    if (ids.size() <= 512) {
      // Lowest rank first, leftmost among equal ranks; ranks of the pairs
      // are kept and only the merged pair's neighbours are looked up again.
      thread_local std::vector<int32_t> rank, merged;
      const size_t n = ids.size();
      rank.assign(n, INT32_MAX);
      merged.assign(n, 0);
      for (size_t i = 0; i + 1 < n; ++i)
        rank[i] = rankOf(ids[i], ids[i + 1], merged[i]);
      size_t size = n;
      while (size > 1) {
        size_t best = 0;
        for (size_t i = 1; i + 1 < size; ++i)
          if (rank[i] < rank[best])
            best = i;
        if (rank[best] == INT32_MAX)
          break;
        ids[best] = merged[best];
        ids.erase(ids.begin() + best + 1);
        rank.erase(rank.begin() + best + 1);
        merged.erase(merged.begin() + best + 1);
        --size;
        rank[best] = best + 1 < size
                         ? rankOf(ids[best], ids[best + 1], merged[best])
                         : INT32_MAX;
        if (best > 0)
          rank[best - 1] = rankOf(ids[best - 1], ids[best], merged[best - 1]);
      }
    } else {
      // Long pieces: a heap of candidate merges over a linked list, as
      // tokenizers' Word::merge_all does.
      struct Cand {
        int32_t rank, pos, id;
        bool operator>(const Cand &o) const {
          return rank != o.rank ? rank > o.rank : pos > o.pos;
        }
      };
      const int32_t n = static_cast<int32_t>(ids.size());
      std::vector<int32_t> prev(n), next(n);
      std::vector<bool> alive(n, true);
      for (int32_t i = 0; i < n; ++i) {
        prev[i] = i - 1;
        next[i] = i + 1 < n ? i + 1 : -1;
      }
      std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
      for (int32_t i = 0; i + 1 < n; ++i) {
        int32_t m = 0;
        int32_t r = rankOf(ids[i], ids[i + 1], m);
        if (r != INT32_MAX)
          heap.push({r, i, m});
      }
      while (!heap.empty()) {
        Cand c = heap.top();
        heap.pop();
        if (!alive[c.pos] || next[c.pos] < 0)
          continue;
        int32_t m = 0;
        const int32_t right = next[c.pos];
        if (rankOf(ids[c.pos], ids[right], m) != c.rank || m != c.id)
          continue;
        ids[c.pos] = c.id;
        alive[right] = false;
        next[c.pos] = next[right];
        if (next[right] >= 0)
          prev[next[right]] = c.pos;
        if (prev[c.pos] >= 0) {
          int32_t r = rankOf(ids[prev[c.pos]], ids[c.pos], m);
          if (r != INT32_MAX)
            heap.push({r, prev[c.pos], m});
        }
        if (next[c.pos] >= 0) {
          int32_t r = rankOf(ids[c.pos], ids[next[c.pos]], m);
          if (r != INT32_MAX)
            heap.push({r, c.pos, m});
        }
      }
      std::vector<int32_t> kept;
      for (int32_t i = 0; i >= 0; i = next[i])
        kept.push_back(ids[i]);
      ids = std::move(kept);
    }
  }
  out.insert(out.end(), ids.begin(), ids.end());
  if (cacheable) {
    if (cache.size() >= kMaxCached)
      cache.clear();
    cache.emplace(std::string(piece), ids);
  }
}

void Tokenizer::encodeText(std::string_view text,
                           std::vector<int32_t> &out) const {
  if (text.empty())
    return;
  std::string normalized;
  if (nfc_) {
    normalized = nfc(text);
    text = normalized;
  }
  thread_local std::vector<Span> pieces;
  pieces.clear();
  splitter_->split(text, pieces);
  for (const Span &s : pieces)
    encodePiece(text.substr(s.begin, s.end - s.begin), out);
}

absl::StatusOr<std::vector<int32_t>>
Tokenizer::encode(std::string_view text, const EncodeOptions &options) const {
  if (int64_t bad = firstInvalidUtf8(text); bad >= 0)
    return absl::InvalidArgumentError(
        absl::StrCat("the text is not valid UTF-8 (byte ", bad, ")"));
  if (text.size() > UINT32_MAX) // pieces are 32-bit offsets
    return absl::InvalidArgumentError(
        absl::StrCat("the text is ", text.size(),
                     " bytes; texts of 4 GiB or more are not supported"));
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  size_t segment = 0, pos = 0;
  while (pos < text.size()) {
    const auto &candidates =
        addedByFirstByte_[static_cast<unsigned char>(text[pos])];
    const AddedToken *match = nullptr;
    for (const AddedToken *a : candidates) {
      if (text.compare(pos, a->content.size(), a->content) == 0) {
        match = a;
        break;
      }
    }
    if (!match) {
      ++pos;
      continue;
    }
    // Split special tokens are matched all the same (as tokenizers does),
    // then stay part of the surrounding text.
    if (match->special && !options.matchSpecialTokens) {
      pos += match->content.size();
      continue;
    }
    encodeText(text.substr(segment, pos - segment), out);
    out.push_back(match->id);
    pos += match->content.size();
    segment = pos;
  }
  encodeText(text.substr(segment), out);
  return out;
}

absl::StatusOr<std::vector<std::vector<int32_t>>>
Tokenizer::encodeBatch(const std::vector<std::string> &texts,
                       const EncodeOptions &options, int threads) const {
  std::vector<std::vector<int32_t>> out(texts.size());
  std::atomic<int64_t> firstBad{-1};
  std::string badMessage;
  std::mutex mu;
  const int saved = numerics::numThreads();
  if (threads > 0)
    numerics::setNumThreads(threads);
  numerics::parallelFor(
      static_cast<int64_t>(texts.size()), 16, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          absl::StatusOr<std::vector<int32_t>> ids = encode(texts[i], options);
          if (ids.ok()) {
            out[i] = std::move(*ids);
          } else {
            std::lock_guard<std::mutex> lock(mu);
            if (firstBad < 0 || i < firstBad) {
              firstBad = i;
              badMessage = std::string(ids.status().message());
            }
          }
        }
      });
  if (threads > 0)
    numerics::setNumThreads(saved);
  if (firstBad >= 0)
    return absl::InvalidArgumentError(
        absl::StrCat("text ", firstBad.load(), ": ", badMessage));
  return out;
}

absl::StatusOr<std::string> Tokenizer::decode(const std::vector<int32_t> &ids,
                                              bool skipSpecialTokens) const {
  std::string bytes;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int32_t id = ids[i];
    if (id < 0)
      return absl::OutOfRangeError(
          absl::StrCat("id ", id, " at position ", i, " is negative"));
    // Ids without a token (e.g. sampled from an embedding's padding rows)
    // decode to nothing, as in tokenizers.
    if (id >= vocabSize() || idToToken_[id].empty())
      continue;
    if (skipSpecialTokens && special_[id])
      continue;
    bytes += idToBytes_[id];
  }
  return decodeUtf8Lossy(bytes);
}
} // namespace infir2::text
