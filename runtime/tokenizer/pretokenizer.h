//===- pretokenizer.h - Split text into pieces before BPE -------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// A tokenizer.json `Split` pre-tokenizer with a regex and "Isolated"
// behaviour: every match is a piece, and so is any text between matches.
// The Qwen2 pattern (also Qwen1.5/Qwen3's) runs on a hand-written matcher
// with Unicode 16.0 classes, which is what Hugging Face tokenizers matches
// with; any other pattern runs on PCRE2 (JIT), whose Unicode data is its
// own (14.0 in Debian 12) and whose \s omits U+0085.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_TOKENIZER_PRETOKENIZER_H_
#define INFIR2_RUNTIME_TOKENIZER_PRETOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace infir2::text {
/// A piece: bytes [begin, end) of the text.
struct Span {
  uint32_t begin, end;
};

/// The Qwen2 split pattern, byte for byte as tokenizer.json stores it.
extern const char *const kQwen2SplitPattern;

class Splitter {
public:
  virtual ~Splitter() = default;
  /// Appends the pieces of valid UTF-8 |text| to |out| (in order, covering
  /// all of it).
  virtual void split(std::string_view text, std::vector<Span> &out) const = 0;
  /// "qwen2" (the built-in matcher) or "pcre2".
  virtual const char *engine() const = 0;

  /// The splitter for |pattern|: the built-in matcher for the Qwen2 pattern
  /// unless |forcePcre2|, PCRE2 otherwise. Fails on a pattern PCRE2 rejects.
  static absl::StatusOr<std::unique_ptr<Splitter>>
  create(const std::string &pattern, bool forcePcre2 = false);
};
} // namespace infir2::text

#endif // INFIR2_RUNTIME_TOKENIZER_PRETOKENIZER_H_
