//===- tokenizer.h - Hugging Face byte-level BPE tokenizers -----*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// Loads a Hugging Face `tokenizer.json` (+ `tokenizer_config.json`) of the
// kind Qwen2/2.5 ships and encodes exactly as the `tokenizers` library:
//  1. added tokens are found in the raw text, leftmost first and longest at
//     a position, and become their ids (options.matchSpecialTokens = false
//     leaves the special ones to be tokenized as text, like transformers'
//     split_special_tokens);
//  2. the text between them is NFC-normalized, split by the pre-tokenizer
//     (pretokenizer.h), each piece's UTF-8 bytes mapped to byte-level
//     symbols and merged by BPE rank (lowest rank first, leftmost among
//     equals), with a per-thread cache of pieces.
// Decoding maps tokens back to bytes and replaces invalid UTF-8 like
// `tokenizers` (one U+FFFD per maximal invalid subpart). Anything in the
// file this implementation does not do (other normalizers, dropout, byte
// fallback, added-token stripping, post-processors that add tokens) is
// refused at load with the field's name.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_TOKENIZER_TOKENIZER_H_
#define INFIR2_RUNTIME_TOKENIZER_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/tokenizer/pretokenizer.h"

namespace infir2::text {
struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool special = false;
};

struct EncodeOptions {
  /// Match special added tokens in the text (transformers' default). When
  /// false they are tokenized as ordinary text; non-special added tokens
  /// are still matched (tokenizers' encode_special_tokens).
  bool matchSpecialTokens = true;
};

class Tokenizer {
public:
  /// Loads <dir>/tokenizer.json and, when present, <dir>/tokenizer_config.json.
  static absl::StatusOr<std::unique_ptr<Tokenizer>>
  load(const std::string &dir);
  /// Loads from the two files' text (|configJson| may be empty); |source|
  /// names them in errors.
  static absl::StatusOr<std::unique_ptr<Tokenizer>>
  fromJson(const std::string &tokenizerJson, const std::string &configJson,
           const std::string &source);
  ~Tokenizer();

  /// Token ids of |text|, which must be valid UTF-8.
  absl::StatusOr<std::vector<int32_t>>
  encode(std::string_view text, const EncodeOptions &options = {}) const;
  /// encode() of every text, on |threads| threads (0: all cores). The
  /// first failure (invalid UTF-8) is returned, naming the text's index.
  absl::StatusOr<std::vector<std::vector<int32_t>>>
  encodeBatch(const std::vector<std::string> &texts,
              const EncodeOptions &options = {}, int threads = 0) const;

  /// The text of |ids|; invalid UTF-8 becomes U+FFFD. Ids without a token
  /// (above the vocabulary, e.g. an embedding's padding rows) decode to
  /// nothing, as in tokenizers; a negative id is an error.
  absl::StatusOr<std::string> decode(const std::vector<int32_t> &ids,
                                     bool skipSpecialTokens = false) const;

  /// Number of ids (the highest id + 1).
  int32_t vocabSize() const { return static_cast<int32_t>(idToBytes_.size()); }
  std::optional<int32_t> tokenToId(std::string_view token) const;
  /// The token's string as tokenizer.json stores it (byte-level form for
  /// BPE tokens, the content for added tokens).
  std::string idToToken(int32_t id) const;
  const std::vector<AddedToken> &addedTokens() const { return added_; }
  bool isSpecial(int32_t id) const;

  /// tokenizer_config.json values (absent when the file or key is).
  std::optional<int32_t> eosTokenId() const { return eos_; }
  std::optional<int32_t> padTokenId() const { return pad_; }
  std::optional<int32_t> bosTokenId() const { return bos_; }
  /// The raw chat_template of tokenizer_config.json (or chat_template.jinja).
  const std::string &chatTemplate() const { return chatTemplate_; }
  /// "qwen2" or "pcre2": which engine runs the split pattern.
  const char *splitEngine() const { return splitter_->engine(); }
  /// A digest of everything that determines encode() (for caches).
  const std::string &fingerprint() const { return fingerprint_; }

private:
  Tokenizer();
  static absl::StatusOr<std::unique_ptr<Tokenizer>>
  fromJsonChecked(const std::string &tokenizerJson,
                  const std::string &configJson, const std::string &source);
  void encodeText(std::string_view text, std::vector<int32_t> &out) const;
  void encodePiece(std::string_view piece, std::vector<int32_t> &out) const;

  // BPE: the byte symbols' ids, merges (left id, right id) -> (rank, id).
  int32_t byteIds_[256] = {};
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges_;
  std::unordered_map<std::string, int32_t> vocab_; // token string -> id
  std::vector<std::string> idToToken_;
  std::vector<std::string> idToBytes_; ///< decoded bytes of each id
  std::vector<bool> special_;
  bool ignoreMerges_ = false;
  bool nfc_ = false;
  std::unique_ptr<Splitter> splitter_;
  std::vector<AddedToken> added_;
  /// Added tokens by first byte, longest first.
  std::vector<std::vector<const AddedToken *>> addedByFirstByte_;
  std::optional<int32_t> eos_, pad_, bos_;
  std::string chatTemplate_;
  std::string fingerprint_;
  uint64_t instance_ = 0; ///< keys the per-thread piece caches
};
} // namespace infir2::text

#endif // INFIR2_RUNTIME_TOKENIZER_TOKENIZER_H_
