//===- unicode.h - The Unicode the tokenizer needs --------------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// Code point classes of the Qwen2 split pattern (\p{L}, \p{N}, \s) from
// Unicode 16.0 tables (unicode_tables.inc, the version Hugging Face
// tokenizers uses), NFC through utf8proc, and UTF-8 decoding with invalid
// sequences replaced the way Rust's from_utf8_lossy and Python's
// errors="replace" do (one U+FFFD per maximal invalid subpart).
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_TOKENIZER_UNICODE_H_
#define INFIR2_RUNTIME_TOKENIZER_UNICODE_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace infir2::text {
/// The Unicode version of the letter/number tables.
const char *unicodeTableVersion();

bool isLetter(uint32_t cp); ///< general category L*
bool isNumber(uint32_t cp); ///< general category N*
/// The White_Space property (Rust regex's and Oniguruma's \s).
bool isWhiteSpace(uint32_t cp);

/// Decodes the code point at |p| of valid UTF-8 and advances |p|.
inline uint32_t nextCodepoint(const char *&p) {
  const auto *u = reinterpret_cast<const unsigned char *>(p);
  if (u[0] < 0x80) {
    p += 1;
    return u[0];
  }
  if (u[0] < 0xE0) {
    p += 2;
    return ((u[0] & 0x1Fu) << 6) | (u[1] & 0x3Fu);
  }
  if (u[0] < 0xF0) {
    p += 3;
    return ((u[0] & 0x0Fu) << 12) | ((u[1] & 0x3Fu) << 6) | (u[2] & 0x3Fu);
  }
  p += 4;
  return ((u[0] & 0x07u) << 18) | ((u[1] & 0x3Fu) << 12) |
         ((u[2] & 0x3Fu) << 6) | (u[3] & 0x3Fu);
}

/// Appends the UTF-8 encoding of |cp|.
void appendUtf8(std::string &out, uint32_t cp);

/// Byte offset of the first invalid UTF-8 sequence in |s|, or -1.
int64_t firstInvalidUtf8(std::string_view s);

/// |bytes| as UTF-8 with every maximal invalid subpart replaced by U+FFFD.
std::string decodeUtf8Lossy(std::string_view bytes);

/// Unicode NFC of valid UTF-8 |s| as tokenizers computes it: utf8proc's
/// NFC (Unicode 15.0) of the text between the code points tokenizers'
/// older normalization data does not know (kept as they are; see
/// make_unicode_tables.py). ASCII is returned as is.
std::string nfc(std::string_view s);
} // namespace infir2::text

#endif // INFIR2_RUNTIME_TOKENIZER_UNICODE_H_
