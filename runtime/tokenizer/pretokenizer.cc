//===- pretokenizer.cc - Split text into pieces before BPE ----------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "absl/strings/str_cat.h"
#include "runtime/tokenizer/unicode.h"

namespace infir2::text {
const char *const kQwen2SplitPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

namespace {
enum : uint8_t {
  kL = 1,    // \p{L}
  kN = 2,    // \p{N}
  kWs = 4,   // \s (White_Space)
  kCrLf = 8, // \r or \n
};

/// The Qwen2 pattern, alternative by alternative, with the backtracking a
/// regex engine would do (see the comments at each branch).
class Qwen2Splitter final : public Splitter {
public:
  const char *engine() const override { return "qwen2"; }

  void split(std::string_view text, std::vector<Span> &out) const override {
    thread_local std::vector<uint32_t> cps;
    thread_local std::vector<uint32_t> offsets;
    thread_local std::vector<uint8_t> cls;
    cps.clear();
    offsets.clear();
    cls.clear();
    const char *p = text.data(), *end = p + text.size();
    while (p < end) {
      offsets.push_back(static_cast<uint32_t>(p - text.data()));
      uint32_t c = nextCodepoint(p);
      cps.push_back(c);
      uint8_t k = 0;
      if (c < 0x80) {
        if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
          k = kL;
        else if (c >= '0' && c <= '9')
          k = kN;
        else if (c == ' ' || (c >= 0x09 && c <= 0x0D))
          k = kWs | (c == '\r' || c == '\n' ? kCrLf : 0);
      } else {
        k = isLetter(c) ? kL : isNumber(c) ? kN : isWhiteSpace(c) ? kWs : 0;
      }
      cls.push_back(k);
    }
    offsets.push_back(static_cast<uint32_t>(text.size()));
    const size_t n = cps.size();
    size_t i = 0;
    while (i < n) {
      size_t j = matchAt(cps.data(), cls.data(), i, n);
      out.push_back({offsets[i], offsets[j]});
      i = j;
    }
  }

private:
  static bool ci(uint32_t c, char lower) {
    return c == static_cast<uint32_t>(lower) ||
           c == static_cast<uint32_t>(lower - 32) ||
           (lower == 's' && c == 0x17F); // simple case folding: ſ -> s
  }

  /// The end of the match at code point |i| of |cp| (classes |k|).
  static size_t matchAt(const uint32_t *cp, const uint8_t *k, size_t i,
                        size_t n) {
    auto other = [&](size_t x) { return (k[x] & (kL | kN | kWs)) == 0; };
    // (?i:'s|'t|'re|'ve|'m|'ll|'d)
    if (cp[i] == '\'' && i + 1 < n) {
      const uint32_t a = cp[i + 1];
      if (ci(a, 's') || ci(a, 't'))
        return i + 2;
      if (i + 2 < n) {
        const uint32_t b = cp[i + 2];
        if ((ci(a, 'r') && ci(b, 'e')) || (ci(a, 'v') && ci(b, 'e')))
          return i + 3;
      }
      if (ci(a, 'm'))
        return i + 2;
      if (i + 2 < n && ci(a, 'l') && ci(cp[i + 2], 'l'))
        return i + 3;
      if (ci(a, 'd'))
        return i + 2;
    }
    // [^\r\n\p{L}\p{N}]?\p{L}+ : an optional non-letter, non-digit,
    // non-newline character, then letters.
    {
      size_t j = i;
      if (!(k[i] & (kL | kN | kCrLf)) && i + 1 < n && (k[i + 1] & kL))
        j = i + 1;
      if (k[j] & kL) {
        while (j < n && (k[j] & kL))
          ++j;
        return j;
      }
    }
    // \p{N}: one digit.
    if (k[i] & kN)
      return i + 1;
    // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
    {
      size_t j = i;
      if (cp[i] == ' ' && i + 1 < n && other(i + 1))
        j = i + 1;
      if (other(j)) {
        while (j < n && other(j))
          ++j;
        while (j < n && (k[j] & kCrLf))
          ++j;
        return j;
      }
    }
    // What is left starts with whitespace: the maximal run is [i, j).
    size_t j = i;
    size_t lastNewline = n;
    while (j < n && (k[j] & kWs)) {
      if (k[j] & kCrLf)
        lastNewline = j;
      ++j;
    }
    // \s*[\r\n]+ : backtracking from the right stops after the last newline.
    if (lastNewline != n)
      return lastNewline + 1;
    // \s+(?!\S) : all of it at the end of the text, else all but the last
    // whitespace character (which then prefixes the next piece); \s+ when
    // the run is one character.
    if (j == n || j - i < 2)
      return j;
    return j - 1;
  }
};

class PcreSplitter final : public Splitter {
public:
  ~PcreSplitter() override {
    if (code_)
      pcre2_code_free(code_);
  }
  const char *engine() const override { return "pcre2"; }

  static absl::StatusOr<std::unique_ptr<PcreSplitter>>
  compile(const std::string &pattern) {
    int error = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code *code = pcre2_compile(
        reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
        PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &error, &offset, nullptr);
    if (!code) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(error, message, sizeof message);
      return absl::InvalidArgumentError(
          absl::StrCat("the split pattern does not compile (PCRE2, at offset ",
                       offset, "): ", reinterpret_cast<char *>(message)));
    }
    auto s = std::unique_ptr<PcreSplitter>(new PcreSplitter());
    s->code_ = code;
    s->jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    return s;
  }

  void split(std::string_view text, std::vector<Span> &out) const override {
    thread_local struct Data {
      pcre2_match_data *md = nullptr;
      const pcre2_code *code = nullptr;
      ~Data() {
        if (md)
          pcre2_match_data_free(md);
      }
    } data;
    if (data.code != code_) {
      if (data.md)
        pcre2_match_data_free(data.md);
      data.md = pcre2_match_data_create_from_pattern(code_, nullptr);
      data.code = code_;
    }
    const auto *subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t start = 0, gap = 0;
    while (start <= text.size()) {
      int rc = jit_ ? pcre2_jit_match(code_, subject, text.size(), start, 0,
                                      data.md, nullptr)
                    : pcre2_match(code_, subject, text.size(), start,
                                  PCRE2_NO_UTF_CHECK, data.md, nullptr);
      if (rc < 0)
        break;
      const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(data.md);
      size_t b = ov[0], e = ov[1];
      if (e == b) { // an empty match: step over one character
        if (b >= text.size())
          break;
        const char *q = text.data() + b;
        nextCodepoint(q);
        start = static_cast<size_t>(q - text.data());
        continue;
      }
      if (b > gap)
        out.push_back({static_cast<uint32_t>(gap), static_cast<uint32_t>(b)});
      out.push_back({static_cast<uint32_t>(b), static_cast<uint32_t>(e)});
      gap = start = e;
    }
    if (gap < text.size())
      out.push_back(
          {static_cast<uint32_t>(gap), static_cast<uint32_t>(text.size())});
  }

private:
  PcreSplitter() = default;
  pcre2_code *code_ = nullptr;
  bool jit_ = false;
};
} // namespace

absl::StatusOr<std::unique_ptr<Splitter>>
Splitter::create(const std::string &pattern, bool forcePcre2) {
  if (pattern == kQwen2SplitPattern && !forcePcre2)
    return std::unique_ptr<Splitter>(new Qwen2Splitter());
  absl::StatusOr<std::unique_ptr<PcreSplitter>> s =
      PcreSplitter::compile(pattern);
  if (!s.ok())
    return s.status();
  return std::unique_ptr<Splitter>(std::move(*s));
}
} // namespace infir2::text
