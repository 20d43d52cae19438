//===- dataset.cc - JSONL datasets, tokenized once into a cache -----------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// Cache file (little-endian; every section 8-byte aligned):
//   0   "INFIR2DS"
//   8   u64 format version (1)
//   16  u64 footer offset, 24 u64 footer length
//   32  sections: tokens i32[T], loss masks u8[T] (sft), offsets u64[N+1],
//       source lines i64[N], label offsets u64[N+1] + label bytes (rl)
//   footer: JSON {key, kind, source, counts, skipped lines, sections}
// Tokens are streamed to the file chunk by chunk, so memory stays bounded
// by one chunk of lines, and the file is renamed into place when complete.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/dataset.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/file.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "runtime/base/build_info.h"
#include "runtime/base/json_text.h"
#include "runtime/numerics/parallel.h"

namespace infir2::data {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kMagic[8] = {'I', 'N', 'F', 'I', 'R', '2', 'D', 'S'};
constexpr uint64_t kFormatVersion = 1;
constexpr int64_t kChunkLines = 4096;
constexpr int kMaxSkipExamples = 10;

uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 33;
  return h;
}

std::string defaultCacheDir() { return cacheDir("datasets"); }

/// A read-only mapping of a whole file.
class MappedFile {
public:
  static absl::StatusOr<MappedFile> open(const std::string &path) {
    int fd = ::open(path.c_str(), O_RDONLY);
    struct stat st;
    if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      if (fd >= 0)
        ::close(fd);
      return absl::NotFoundError(
          absl::StrCat(path, ": cannot read the dataset (not a readable "
                             "file)"));
    }
    MappedFile f;
    f.size_ = static_cast<size_t>(st.st_size);
    if (f.size_ > 0) {
      void *p = ::mmap(nullptr, f.size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        ::close(fd);
        return absl::InternalError(absl::StrCat(path, ": cannot map"));
      }
      f.data_ = p;
      ::madvise(p, f.size_, MADV_SEQUENTIAL);
    }
    ::close(fd);
    return f;
  }
  MappedFile(MappedFile &&o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(o.size_) {}
  ~MappedFile() {
    if (data_)
      ::munmap(data_, size_);
  }
  std::string_view view() const {
    return {static_cast<const char *>(data_), size_};
  }

private:
  MappedFile() = default;
  void *data_ = nullptr;
  size_t size_ = 0;
};

/// An exclusive advisory lock (flock) on |path|, held while in scope.
class FileLock {
public:
  explicit FileLock(const std::string &path)
      : fd_(::open(path.c_str(), O_CREAT | O_RDWR, 0644)) {
    if (fd_ >= 0)
      ::flock(fd_, LOCK_EX);
  }
  ~FileLock() {
    if (fd_ >= 0) {
      ::flock(fd_, LOCK_UN);
      ::close(fd_);
    }
  }

private:
  int fd_;
};

/// A name part no other process (on any host sharing the directory) uses.
std::string uniqueSuffix() {
  char host[64] = {};
  ::gethostname(host, sizeof host - 1);
  std::random_device rd;
  return absl::StrFormat("%s.%d.%08x%08x", host, ::getpid(), rd(), rd());
}

/// What one line became.
struct Sample {
  std::vector<int32_t> ids;
  std::vector<uint8_t> mask;
  std::string label;
  std::string error; ///< non-empty: the line is bad
};

class Builder {
public:
  Builder(const DatasetConfig &c, const text::Tokenizer &t,
          const text::ChatTemplate *chat, std::optional<int32_t> eod)
      : config_(c), tokenizer_(t), chat_(chat), eod_(eod) {}

  Sample process(std::string_view line) const {
    Sample s;
    std::string parseError;
    json j = parseJson(line, parseError);
    if (j.is_discarded()) {
      s.error = absl::StrCat("not valid JSON: ", parseError);
      return s;
    }
    if (!j.is_object()) {
      s.error = "not a JSON object";
      return s;
    }
    auto field = [&](const std::string &key) -> const json * {
      auto it = j.find(key);
      return it == j.end() ? nullptr : &*it;
    };
    switch (config_.kind) {
    case DatasetKind::kSft: {
      const json *m = field(config_.messagesKey);
      if (!m) {
        s.error = absl::StrCat("no \"", config_.messagesKey, "\" field");
        return s;
      }
      absl::StatusOr<std::vector<text::Message>> msgs = text::parseMessages(*m);
      if (!msgs.ok()) {
        s.error =
            absl::StrCat(config_.messagesKey, ": ", msgs.status().message());
        return s;
      }
      absl::StatusOr<text::TokenizedConversation> conv =
          chat_->tokenizeWithLossMask(*msgs);
      if (!conv.ok()) {
        s.error = std::string(conv.status().message());
        return s;
      }
      s.ids = std::move(conv->ids);
      s.mask = std::move(conv->lossMask);
      return s;
    }
    case DatasetKind::kRl: {
      const json *p = field(config_.promptKey);
      const json *l = field(config_.labelKey);
      if (!p || !l) {
        s.error = absl::StrCat("needs \"", config_.promptKey, "\" and \"",
                               config_.labelKey, "\" fields");
        return s;
      }
      if (p->is_string()) { // a prompt already in its final text form
        absl::StatusOr<std::vector<int32_t>> ids =
            tokenizer_.encode(p->get<std::string>());
        if (!ids.ok()) {
          s.error = std::string(ids.status().message());
          return s;
        }
        s.ids = std::move(*ids);
      } else {
        absl::StatusOr<std::vector<text::Message>> msgs =
            text::parseMessages(*p);
        if (!msgs.ok()) {
          s.error =
              absl::StrCat(config_.promptKey, ": ", msgs.status().message());
          return s;
        }
        absl::StatusOr<text::TokenizedConversation> conv =
            chat_->tokenize(*msgs, /*addGenerationPrompt=*/true);
        if (!conv.ok()) {
          s.error = std::string(conv.status().message());
          return s;
        }
        s.ids = std::move(conv->ids);
      }
      if (l->is_string())
        s.label = l->get<std::string>();
      else if (l->is_number())
        s.label = l->dump();
      else
        s.error = absl::StrCat("\"", config_.labelKey,
                               "\" is not a string or a number");
      return s;
    }
    case DatasetKind::kCpt: {
      const json *t = field(config_.textKey);
      if (!t || !t->is_string()) {
        s.error = absl::StrCat("no string \"", config_.textKey, "\" field");
        return s;
      }
      absl::StatusOr<std::vector<int32_t>> ids =
          tokenizer_.encode(t->get<std::string>());
      if (!ids.ok()) {
        s.error = std::string(ids.status().message());
        return s;
      }
      s.ids = std::move(*ids);
      if (eod_)
        s.ids.push_back(*eod_);
      return s;
    }
    }
    return s;
  }

private:
  const DatasetConfig &config_;
  const text::Tokenizer &tokenizer_;
  const text::ChatTemplate *chat_;
  std::optional<int32_t> eod_;
};

/// A file written section by section, each padded to 8 bytes.
class SectionWriter {
public:
  explicit SectionWriter(std::FILE *f) : f_(f) {}
  bool write(const void *data, size_t n) {
    if (n && std::fwrite(data, 1, n, f_) != n)
      return false;
    pos_ += n;
    return true;
  }
  bool pad() {
    static const char zeros[8] = {};
    return write(zeros, (8 - pos_ % 8) % 8);
  }
  uint64_t pos() const { return pos_; }

private:
  std::FILE *f_;
  uint64_t pos_ = 0;
};
} // namespace

const char *datasetKindName(DatasetKind kind) {
  switch (kind) {
  case DatasetKind::kSft:
    return "sft";
  case DatasetKind::kRl:
    return "rl";
  case DatasetKind::kCpt:
    return "cpt";
  }
  return "?";
}

uint64_t hashBytes(const void *data, size_t n, uint64_t seed) {
  const auto *p = static_cast<const uint8_t *>(data);
  uint64_t h = mix(seed ^ (n * 0x9E3779B97F4A7C15ull));
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ mix(w)) * 0x9E3779B97F4A7C15ull;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p + i, n - i);
  return mix(h ^ mix(tail ^ (n - i)));
}

Dataset::~Dataset() {
  if (map_)
    ::munmap(map_, mapSize_);
}

bool Dataset::validate(int32_t vocabSize, std::string &why) const {
  // A flipped bit must not become an out-of-range embedding row or a loss
  // weight of 255.
  const int64_t n = totalTokens();
  for (int64_t t = 0; t < n; ++t)
    if (tokens_[t] < 0 || tokens_[t] >= vocabSize) {
      why = absl::StrCat("token ", t, " is ", tokens_[t],
                         ", outside the vocabulary");
      return false;
    }
  if (masks_)
    for (int64_t t = 0; t < n; ++t)
      if (masks_[t] > 1) {
        why = absl::StrCat("loss mask ", t, " is ", int(masks_[t]));
        return false;
      }
  return true;
}

std::string_view Dataset::label(int64_t i) const {
  if (!labelOffsets_)
    return {};
  return {labels_ + labelOffsets_[i],
          static_cast<size_t>(labelOffsets_[i + 1] - labelOffsets_[i])};
}

absl::StatusOr<std::shared_ptr<Dataset>>
Dataset::open(const DatasetConfig &config, const text::Tokenizer &tokenizer,
              const ProgressFn &progress) {
  // The source, mapped (not read into memory): its content is part of the
  // cache key, and tokenizing walks it chunk by chunk.
  std::error_code ec;
  absl::StatusOr<MappedFile> mapped = MappedFile::open(config.path);
  if (!mapped.ok())
    return mapped.status();
  const std::string_view source = mapped->view();
  std::unique_ptr<text::ChatTemplate> chat;
  if (config.kind != DatasetKind::kCpt) {
    absl::StatusOr<std::unique_ptr<text::ChatTemplate>> t =
        text::ChatTemplate::fromTokenizer(tokenizer);
    if (!t.ok())
      return t.status();
    chat = std::move(*t);
  }
  std::optional<int32_t> eod;
  if (config.kind == DatasetKind::kCpt && !config.eodToken.empty()) {
    eod = tokenizer.tokenToId(config.eodToken);
    if (!eod)
      return absl::InvalidArgumentError(
          absl::StrCat("the end-of-document token '", config.eodToken,
                       "' is not a token of the tokenizer"));
  }
  const std::string options = absl::StrCat(
      "v", kFormatVersion, "|", datasetKindName(config.kind), "|",
      config.messagesKey, "|", config.promptKey, "|", config.labelKey, "|",
      config.textKey, "|", config.skipBadLines, "|", config.eodToken, "|",
      tokenizer.fingerprint());
  const uint64_t sourceHash = hashBytes(source.data(), source.size());
  const std::string key = absl::StrFormat(
      "%016x", hashBytes(options.data(), options.size(), sourceHash));
  const fs::path dir =
      fs::path(config.cacheDir.empty() ? defaultCacheDir() : config.cacheDir);
  const fs::path cachePath =
      dir / absl::StrCat(fs::path(config.path).stem().string(), "-",
                         datasetKindName(config.kind), "-", key, ".i2ds");

  std::string why;
  auto cached = [&]() -> std::shared_ptr<Dataset> {
    if (!fs::exists(cachePath, ec))
      return nullptr;
    std::shared_ptr<Dataset> d = mapCache(cachePath.string(), key, why);
    if (d && !d->validate(tokenizer.vocabSize(), why))
      d.reset();
    if (d)
      d->fromCache_ = true;
    return d;
  };
  if (std::shared_ptr<Dataset> d = cached())
    return d;

  fs::create_directories(dir, ec);
  if (ec)
    return absl::InternalError(absl::StrCat("cannot create the dataset cache ",
                                            dir.string(), ": ", ec.message(),
                                            "; set cache_dir"));
  // One process builds a cache; the others (ranks of one node sharing the
  // directory) wait for it and then map it.
  FileLock lock(cachePath.string() + ".lock");
  if (std::shared_ptr<Dataset> d = cached())
    return d;
  const std::string tmp =
      absl::StrCat(cachePath.string(), ".tmp.", uniqueSuffix());
  const std::string maskTmp = tmp + ".masks";
  std::FILE *f = std::fopen(tmp.c_str(), "wb");
  std::FILE *mf = config.kind == DatasetKind::kSft
                      ? std::fopen(maskTmp.c_str(), "wb+")
                      : nullptr;
  auto cleanup = [&] {
    if (f)
      std::fclose(f);
    if (mf)
      std::fclose(mf);
    std::remove(tmp.c_str());
    std::remove(maskTmp.c_str());
  };
  if (!f || (config.kind == DatasetKind::kSft && !mf)) {
    cleanup();
    return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  SectionWriter out(f);
  uint64_t preamble[4] = {0, kFormatVersion, 0, 0};
  std::memcpy(&preamble[0], kMagic, 8);
  out.write(preamble, sizeof preamble);

  Builder builder(config, tokenizer, chat.get(), eod);
  std::vector<uint64_t> offsets = {0}, labelOffsets = {0};
  std::vector<int64_t> sourceLines;
  std::string labels;
  int64_t skipped = 0;
  std::vector<std::string> skipExamples;
  const int saved = numerics::numThreads();
  if (config.threads > 0)
    numerics::setNumThreads(config.threads);
  // Lines are taken chunk by chunk (1-based numbers, blank ones dropped),
  // so only one chunk of samples is in memory at a time.
  const int64_t total =
      static_cast<int64_t>(std::count(source.begin(), source.end(), '\n')) +
      (!source.empty() && source.back() != '\n');
  size_t cursor = 0;
  int64_t lineNumber = 0, done = 0;
  std::vector<std::pair<int64_t, std::string_view>> lines;
  bool ioError = false;
  while (cursor < source.size() && !ioError) {
    lines.clear();
    while (cursor < source.size() &&
           static_cast<int64_t>(lines.size()) < kChunkLines) {
      size_t end = source.find('\n', cursor);
      if (end == std::string_view::npos)
        end = source.size();
      std::string_view line = source.substr(cursor, end - cursor);
      ++lineNumber;
      if (line.find_first_not_of(" \t\r") != std::string_view::npos)
        lines.emplace_back(lineNumber, line);
      cursor = end + 1;
    }
    const int64_t n = static_cast<int64_t>(lines.size());
    std::vector<Sample> samples(static_cast<size_t>(n));
    numerics::parallelFor(n, 16, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i)
        samples[i] = builder.process(lines[i].second);
    });
    for (int64_t i = 0; i < n; ++i) {
      Sample &s = samples[i];
      const std::string where =
          absl::StrCat(config.path, ":", lines[i].first, ": ");
      if (s.error.empty() && s.ids.empty())
        s.error = "the sample has no tokens";
      if (!s.error.empty()) {
        if (!config.skipBadLines) {
          numerics::setNumThreads(saved);
          cleanup();
          return absl::InvalidArgumentError(absl::StrCat(
              where, s.error,
              " (set skip_bad_lines to skip such lines and count them)"));
        }
        ++skipped;
        if (static_cast<int>(skipExamples.size()) < kMaxSkipExamples)
          skipExamples.push_back(where + s.error);
        continue;
      }
      ioError |= !out.write(s.ids.data(), s.ids.size() * sizeof(int32_t));
      if (mf)
        ioError |=
            std::fwrite(s.mask.data(), 1, s.mask.size(), mf) != s.mask.size();
      offsets.push_back(offsets.back() + s.ids.size());
      sourceLines.push_back(lines[i].first);
      if (config.kind == DatasetKind::kRl) {
        labels += s.label;
        labelOffsets.push_back(labels.size());
      }
    }
    done = lineNumber;
    if (progress)
      progress(done, total);
  }
  numerics::setNumThreads(saved);

  json sections = json::object();
  auto section = [&](const char *name, const void *data, size_t bytes) {
    ioError |= !out.pad();
    sections[name] = {out.pos(), bytes};
    ioError |= !out.write(data, bytes);
  };
  const uint64_t tokenCount = offsets.back();
  sections["tokens"] = {32, tokenCount * sizeof(int32_t)};
  if (mf) {
    ioError |= !out.pad();
    sections["masks"] = {out.pos(), tokenCount};
    std::rewind(mf);
    std::vector<char> buf(1 << 20);
    size_t got;
    while ((got = std::fread(buf.data(), 1, buf.size(), mf)) > 0)
      ioError |= !out.write(buf.data(), got);
  }
  section("offsets", offsets.data(), offsets.size() * sizeof(uint64_t));
  section("lines", sourceLines.data(), sourceLines.size() * sizeof(int64_t));
  if (config.kind == DatasetKind::kRl) {
    section("label_offsets", labelOffsets.data(),
            labelOffsets.size() * sizeof(uint64_t));
    section("labels", labels.data(), labels.size());
  }
  json footer = {{"key", key},
                 {"kind", datasetKindName(config.kind)},
                 {"source", config.path},
                 {"source_bytes", source.size()},
                 {"samples", sourceLines.size()},
                 {"tokens", tokenCount},
                 {"skipped", skipped},
                 {"skip_examples", skipExamples},
                 {"sections", sections}};
  const std::string footerText =
      footer.dump(-1, ' ', false, json::error_handler_t::replace);
  ioError |= !out.pad();
  const uint64_t footerOffset = out.pos();
  ioError |= !out.write(footerText.data(), footerText.size());
  preamble[2] = footerOffset;
  preamble[3] = footerText.size();
  ioError |= std::fseek(f, 0, SEEK_SET) != 0 ||
             std::fwrite(preamble, sizeof preamble, 1, f) != 1;
  ioError |= std::fflush(f) != 0 || ::fsync(fileno(f)) != 0;
  if (ioError) {
    cleanup();
    return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  std::fclose(f);
  f = nullptr;
  if (mf) {
    std::fclose(mf);
    mf = nullptr;
    std::remove(maskTmp.c_str());
  }
  if (std::rename(tmp.c_str(), cachePath.c_str()) != 0) {
    cleanup();
    return absl::InternalError(
        absl::StrCat("cannot rename ", tmp, " to ", cachePath.string()));
  }
  std::shared_ptr<Dataset> d = mapCache(cachePath.string(), key, why);
  if (d && !d->validate(tokenizer.vocabSize(), why))
    d.reset();
  if (!d)
    return absl::InternalError(absl::StrCat("the cache just written, ",
                                            cachePath.string(),
                                            ", does not load: ", why));
  return d;
}

std::shared_ptr<Dataset> Dataset::mapCache(const std::string &path,
                                           const std::string &key,
                                           std::string &why) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) {
    why = "cannot open";
    return nullptr;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || st.st_size < 32) {
    ::close(fd);
    why = "shorter than its preamble";
    return nullptr;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  void *map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) {
    why = "cannot map";
    return nullptr;
  }
  std::shared_ptr<Dataset> d(new Dataset());
  d->map_ = map; // unmapped by ~Dataset, whatever happens below
  d->mapSize_ = size;
  d->cachePath_ = path;
  d->key_ = key;
  const auto *bytes = static_cast<const uint8_t *>(map);
  uint64_t preamble[4];
  std::memcpy(preamble, bytes, sizeof preamble);
  if (std::memcmp(bytes, kMagic, 8) != 0 || preamble[1] != kFormatVersion ||
      preamble[2] > size || preamble[3] > size - preamble[2]) {
    why = "not an infir2 dataset cache of this version";
    return nullptr;
  }
  std::string parseError;
  json footer = parseJson(
      std::string_view(reinterpret_cast<const char *>(bytes + preamble[2]),
                       preamble[3]),
      parseError);
  if (!footer.is_object() || !footer.contains("key") ||
      !footer["key"].is_string() || !footer.contains("kind") ||
      !footer["kind"].is_string() ||
      (footer.contains("skipped") && !footer["skipped"].is_number_unsigned())) {
    why = "a damaged footer";
    return nullptr;
  }
  if (!footer.is_object() || footer.value("key", "") != key ||
      !footer.contains("sections") || !footer["sections"].is_object()) {
    why = "another key or a damaged footer";
    return nullptr;
  }
  // A section: [offset, bytes] inside the file and 8-byte aligned.
  auto section = [&](const char *name, size_t unit,
                     uint64_t &count) -> const uint8_t * {
    const json &s = footer["sections"].value(name, json());
    if (!s.is_array() || s.size() != 2 || !s[0].is_number_unsigned() ||
        !s[1].is_number_unsigned())
      return nullptr;
    const uint64_t off = s[0].get<uint64_t>(), n = s[1].get<uint64_t>();
    if (off % 8 != 0 || off > size || n > size - off || n % unit != 0)
      return nullptr;
    count = n / unit;
    return bytes + off;
  };
  uint64_t nOffsets = 0, nTokens = 0, nLines = 0, nMasks = 0;
  d->offsets_ = reinterpret_cast<const uint64_t *>(
      section("offsets", sizeof(uint64_t), nOffsets));
  d->tokens_ = reinterpret_cast<const int32_t *>(
      section("tokens", sizeof(int32_t), nTokens));
  d->lines_ = reinterpret_cast<const int64_t *>(
      section("lines", sizeof(int64_t), nLines));
  const std::string kind = footer.value("kind", "");
  d->kind_ = kind == "sft"  ? DatasetKind::kSft
             : kind == "rl" ? DatasetKind::kRl
                            : DatasetKind::kCpt;
  if (!d->offsets_ || !d->tokens_ || !d->lines_ || nOffsets < 1 ||
      nLines != nOffsets - 1 || d->offsets_[0] != 0 ||
      d->offsets_[nOffsets - 1] != nTokens) {
    why = "inconsistent sections";
    return nullptr;
  }
  for (uint64_t i = 0; i + 1 < nOffsets; ++i)
    if (d->offsets_[i] > d->offsets_[i + 1]) {
      why = "offsets decrease";
      return nullptr;
    }
  d->count_ = static_cast<int64_t>(nLines);
  if (d->kind_ == DatasetKind::kSft) {
    d->masks_ = section("masks", 1, nMasks);
    if (!d->masks_ || nMasks != nTokens) {
      why = "no loss masks";
      return nullptr;
    }
  }
  if (d->kind_ == DatasetKind::kRl) {
    uint64_t nLabelOffsets = 0, nLabels = 0;
    d->labelOffsets_ = reinterpret_cast<const uint64_t *>(
        section("label_offsets", sizeof(uint64_t), nLabelOffsets));
    d->labels_ = reinterpret_cast<const char *>(section("labels", 1, nLabels));
    if (!d->labelOffsets_ || nLabelOffsets != nOffsets ||
        d->labelOffsets_[0] != 0 ||
        d->labelOffsets_[nLabelOffsets - 1] != nLabels ||
        (nLabels > 0 && !d->labels_)) {
      why = "no labels";
      return nullptr;
    }
    for (uint64_t i = 0; i + 1 < nLabelOffsets; ++i)
      if (d->labelOffsets_[i] > d->labelOffsets_[i + 1]) {
        why = "label offsets decrease";
        return nullptr;
      }
  }
  d->skipped_ = footer.value("skipped", int64_t{0});
  if (footer.contains("skip_examples") && footer["skip_examples"].is_array())
    for (const json &e : footer["skip_examples"])
      if (e.is_string())
        d->skipExamples_.push_back(e.get<std::string>());
  return d;
}
} // namespace infir2::data
