//===- unicode.cc - The Unicode the tokenizer needs -----------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/unicode.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>

namespace infir2::text {
namespace {
struct CodepointRange {
  uint32_t first, last;
};

#include "runtime/tokenizer/unicode_tables.inc"

enum : uint8_t { kLetter = 1, kNumber = 2, kSpace = 4 };

bool inRanges(const CodepointRange *begin, const CodepointRange *end,
              uint32_t cp) {
  const CodepointRange *it =
      std::upper_bound(begin, end, cp, [](uint32_t c, const CodepointRange &r) {
        return c < r.first;
      });
  return it != begin && cp <= (it - 1)->last;
}

/// Classes of the Basic Multilingual Plane, looked up directly; the other
/// planes search the range tables.
const std::array<uint8_t, 0x10000> &bmpClasses() {
  static const auto *table = [] {
    auto *t = new std::array<uint8_t, 0x10000>();
    for (const CodepointRange &r : kLetterRanges)
      for (uint32_t c = r.first; c <= r.last && c < 0x10000; ++c)
        (*t)[c] |= kLetter;
    for (const CodepointRange &r : kNumberRanges)
      for (uint32_t c = r.first; c <= r.last && c < 0x10000; ++c)
        (*t)[c] |= kNumber;
    for (uint32_t c : {0x09u, 0x0Au, 0x0Bu, 0x0Cu, 0x0Du, 0x20u, 0x85u, 0xA0u,
                       0x1680u, 0x2028u, 0x2029u, 0x202Fu, 0x205Fu, 0x3000u})
      (*t)[c] |= kSpace;
    for (uint32_t c = 0x2000; c <= 0x200A; ++c)
      (*t)[c] |= kSpace;
    return t;
  }();
  return *table;
}
/// Characters tokenizers' (older) NFC data does not know: they stay as they
/// are, and NFC applies to the text between them.
bool isNfcOpaque(uint32_t cp) {
  return cp >= kNfcOpaqueRanges[0].first &&
         inRanges(std::begin(kNfcOpaqueRanges), std::end(kNfcOpaqueRanges), cp);
}

std::string utf8procNfc(std::string_view s) {
  utf8proc_uint8_t *out = nullptr;
  utf8proc_ssize_t n = utf8proc_map(
      reinterpret_cast<const utf8proc_uint8_t *>(s.data()),
      static_cast<utf8proc_ssize_t>(s.size()), &out,
      static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) // only for invalid UTF-8, which callers never pass
    return std::string(s);
  std::unique_ptr<utf8proc_uint8_t, void (*)(void *)> owner(out, std::free);
  return std::string(reinterpret_cast<const char *>(out),
                     static_cast<size_t>(n));
}
} // namespace

const char *unicodeTableVersion() { return INFIR2_UNICODE_TABLE_VERSION; }

bool isLetter(uint32_t cp) {
  if (cp < 0x10000)
    return bmpClasses()[cp] & kLetter;
  return inRanges(std::begin(kLetterRanges), std::end(kLetterRanges), cp);
}

bool isNumber(uint32_t cp) {
  if (cp < 0x10000)
    return bmpClasses()[cp] & kNumber;
  return inRanges(std::begin(kNumberRanges), std::end(kNumberRanges), cp);
}

bool isWhiteSpace(uint32_t cp) {
  return cp < 0x10000 && (bmpClasses()[cp] & kSpace);
}

void appendUtf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

namespace {
/// Length of the well-formed sequence at |p| (Unicode table 3-7), or, when
/// it is ill-formed, minus the length of its maximal subpart (>= 1).
int sequenceAt(const unsigned char *p, size_t n) {
  const unsigned char b = p[0];
  if (b < 0x80)
    return 1;
  int len;
  unsigned char lo = 0x80, hi = 0xBF; // range of the second byte
  if (b >= 0xC2 && b <= 0xDF) {
    len = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    len = 3;
    if (b == 0xE0)
      lo = 0xA0;
    else if (b == 0xED)
      hi = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    len = 4;
    if (b == 0xF0)
      lo = 0x90;
    else if (b == 0xF4)
      hi = 0x8F;
  } else {
    return -1; // 80..C1, F5..FF never start a sequence
  }
  size_t i = 1;
  for (; i < static_cast<size_t>(len); ++i) {
    if (i >= n)
      return -static_cast<int>(i);
    const unsigned char c = p[i];
    const unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
    if (c < l || c > h)
      return -static_cast<int>(i);
  }
  return len;
}
} // namespace

int64_t firstInvalidUtf8(std::string_view s) {
  const auto *p = reinterpret_cast<const unsigned char *>(s.data());
  size_t i = 0;
  while (i < s.size()) {
    int len = sequenceAt(p + i, s.size() - i);
    if (len < 0)
      return static_cast<int64_t>(i);
    i += static_cast<size_t>(len);
  }
  return -1;
}

std::string decodeUtf8Lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  const auto *p = reinterpret_cast<const unsigned char *>(bytes.data());
  size_t i = 0;
  while (i < bytes.size()) {
    int len = sequenceAt(p + i, bytes.size() - i);
    if (len > 0) {
      out.append(bytes.data() + i, static_cast<size_t>(len));
      i += static_cast<size_t>(len);
    } else {
      out.append("\xEF\xBF\xBD"); // U+FFFD
      i += static_cast<size_t>(-len);
    }
  }
  return out;
}

std::string nfc(std::string_view s) {
  bool ascii = true;
  for (unsigned char c : s)
    if (c >= 0x80) {
      ascii = false;
      break;
    }
  if (ascii)
    return std::string(s);
  std::string out;
  const char *p = s.data(), *end = p + s.size(), *segment = p;
  while (p < end) {
    const char *at = p;
    if (!isNfcOpaque(nextCodepoint(p)))
      continue;
    out += utf8procNfc(std::string_view(segment, at - segment));
    out.append(at, p);
    segment = p;
  }
  if (segment == s.data())
    return utf8procNfc(s);
  out += utf8procNfc(std::string_view(segment, end - segment));
  return out;
}
} // namespace infir2::text
