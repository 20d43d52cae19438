//===- safetensors.cc - Read and write safetensors checkpoints ------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "runtime/base/json_text.h"

namespace infir2::io {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

constexpr uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000;
constexpr const char *kIndexName = "model.safetensors.index.json";
constexpr const char *kSingleName = "model.safetensors";

absl::Status fileError(const std::string &path, const std::string &what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

absl::Status tensorError(const std::string &path, const std::string &tensor,
                         const std::string &what) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": tensor '", tensor, "': ", what));
}

/// Byte offset of the first invalid UTF-8 sequence, or -1.
int64_t firstInvalidUtf8(const std::string &s) {
  const auto *p = reinterpret_cast<const unsigned char *>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned c = p[i];
    int len = c < 0x80           ? 1
              : (c >> 5) == 0x6  ? 2
              : (c >> 4) == 0xE  ? 3
              : (c >> 3) == 0x1E ? 4
                                 : 0;
    if (len == 0 || i + len > n)
      return static_cast<int64_t>(i);
    for (int k = 1; k < len; ++k)
      if ((p[i + k] >> 6) != 0x2)
        return static_cast<int64_t>(i);
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (int k = 1; k < len; ++k)
      cp = (cp << 6) | (p[i + k] & 0x3F);
    // Overlong forms, surrogates and values past U+10FFFF.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return static_cast<int64_t>(i);
    i += len;
  }
  return -1;
}

/// An integer that fits int64 and is >= 0, from a JSON value.
bool nonNegativeInt(const json &v, int64_t &out) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX))
      return false;
    out = static_cast<int64_t>(u);
    return true;
  }
  if (v.is_number_integer()) {
    out = v.get<int64_t>();
    return out >= 0;
  }
  return false;
}

std::string tmpNameFor(const std::string &path) {
  return absl::StrCat(path, ".tmp.", getpid());
}

/// Writes all of |data| to |fd|.
bool writeAll(int fd, const void *data, size_t size) {
  const char *p = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t w = ::write(fd, p, size);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    p += w;
    size -= static_cast<size_t>(w);
  }
  return true;
}
/// Writes |chunks| to |path| through a temporary file, fsync and rename.
absl::Status
writeAtomically(const std::string &path,
                const std::vector<std::pair<const void *, size_t>> &chunks) {
  std::string tmp = tmpNameFor(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    return absl::InternalError(
        absl::StrCat("cannot create ", tmp, ": ", std::strerror(errno)));
  for (auto [data, size] : chunks) {
    if (!writeAll(fd, data, size)) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return absl::InternalError(
          absl::StrCat("cannot write ", tmp, ": ", std::strerror(err)));
    }
  }
  const bool synced = ::fsync(fd) == 0;
  int err = errno;
  const bool closed = ::close(fd) == 0;
  if (!closed && synced)
    err = errno;
  if (!synced || !closed) {
    ::unlink(tmp.c_str());
    return absl::InternalError(
        absl::StrCat("cannot flush ", tmp, ": ", std::strerror(err)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot rename ", tmp, " to ", path,
                                            ": ", std::strerror(err)));
  }
  return absl::OkStatus();
}
} // namespace

//===----------------------------------------------------------------------===//
// SafetensorsFile
//===----------------------------------------------------------------------===//

namespace {
/// The whole pages inside [data, data + nbytes) (release), or the pages
/// touching it (prefetch).
std::pair<uintptr_t, size_t> pageRange(const uint8_t *data, int64_t nbytes,
                                       bool inner) {
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  uintptr_t b = reinterpret_cast<uintptr_t>(data);
  uintptr_t e = b + static_cast<uintptr_t>(nbytes);
  b = inner ? (b + page - 1) / page * page : b / page * page;
  e = inner ? e / page * page : (e + page - 1) / page * page;
  return {b, e > b ? e - b : 0};
}
} // namespace

void SafetensorsFile::prefetch(const TensorView &t) const {
  auto [b, n] = pageRange(t.data, t.nbytes, /*inner=*/false);
  if (n)
    ::madvise(reinterpret_cast<void *>(b), n, MADV_WILLNEED);
}

void SafetensorsFile::release(const TensorView &t) const {
  auto [b, n] = pageRange(t.data, t.nbytes, /*inner=*/true);
  if (n)
    ::madvise(reinterpret_cast<void *>(b), n, MADV_DONTNEED);
}

SafetensorsFile::~SafetensorsFile() {
  if (map_)
    ::munmap(map_, mapSize_);
}

const TensorView *SafetensorsFile::find(const std::string &name) const {
  auto it = byName_.find(name);
  return it == byName_.end() ? nullptr : &tensors_[it->second];
}

absl::StatusOr<std::unique_ptr<SafetensorsFile>>
SafetensorsFile::open(const std::string &path) {
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0)
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return fileError(path, absl::StrCat("cannot stat: ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return fileError(path, "is not a regular file");
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < 8) {
    ::close(fd);
    return fileError(path, absl::StrCat("the file is ", size,
                                        " bytes, shorter than the 8-byte "
                                        "header length (R1); it is truncated "
                                        "or not a safetensors file"));
  }
  void *map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED)
    return fileError(path, absl::StrCat("cannot mmap: ", std::strerror(errno)));
  file->map_ = map;
  file->mapSize_ = size;
  const auto *bytes = static_cast<const uint8_t *>(map);

  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i)
    headerLen = (headerLen << 8) | bytes[i];
  if (headerLen > kMaxHeaderBytes)
    return fileError(path, absl::StrCat("header length ", headerLen,
                                        " exceeds the 100 MB limit (R1); the "
                                        "file is corrupt or not safetensors"));
  if (headerLen > size - 8)
    return fileError(path, absl::StrCat("header length ", headerLen,
                                        " runs past the end of the ", size,
                                        "-byte file (R1); it is truncated"));
  std::string text(reinterpret_cast<const char *>(bytes + 8), headerLen);
  if (int64_t bad = firstInvalidUtf8(text); bad >= 0)
    return fileError(path, absl::StrCat("the header is not UTF-8 (byte ", bad,
                                        " of the header) (R2)"));
  json header = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object())
    return fileError(path, "the header is not a JSON object (R2)");

  const uint8_t *dataStart = bytes + 8 + headerLen;
  const uint64_t dataSize = size - 8 - headerLen;
  struct Range {
    int64_t begin, end;
    std::string name;
  };
  std::vector<Range> ranges;
  for (auto &[name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object())
        return fileError(path, "__metadata__ is not an object (R8)");
      for (auto &[key, value] : entry.items()) {
        if (!value.is_string())
          return fileError(path, absl::StrCat("__metadata__ entry '", key,
                                              "' is not a string (R8)"));
        file->metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    if (!entry.is_object())
      return tensorError(path, name, "the header entry is not an object (R2)");
    for (auto &[key, value] : entry.items())
      if (key != "dtype" && key != "shape" && key != "data_offsets")
        return tensorError(path, name,
                           absl::StrCat("unknown field '", key,
                                        "'; entries have dtype, shape and "
                                        "data_offsets (R2)"));
    auto dtypeIt = entry.find("dtype");
    if (dtypeIt == entry.end() || !dtypeIt->is_string())
      return tensorError(path, name, "no dtype string (R3)");
    std::optional<DType> dtype = parseDType(dtypeIt->get<std::string>());
    if (!dtype)
      return tensorError(
          path, name,
          absl::StrCat("unknown dtype '", dtypeIt->get<std::string>(),
                       "'; known: ", knownDTypeNames(), " (R3)"));
    auto shapeIt = entry.find("shape");
    if (shapeIt == entry.end() || !shapeIt->is_array())
      return tensorError(path, name, "no shape list (R4)");
    std::vector<int64_t> shape;
    for (const json &d : *shapeIt) {
      int64_t v;
      if (!nonNegativeInt(d, v))
        return tensorError(path, name,
                           absl::StrCat("shape ", briefJson(*shapeIt),
                                        " has an entry that is not a "
                                        "non-negative integer (R4)"));
      shape.push_back(v);
    }
    auto offIt = entry.find("data_offsets");
    int64_t begin, end;
    if (offIt == entry.end() || !offIt->is_array() || offIt->size() != 2 ||
        !nonNegativeInt((*offIt)[0], begin) ||
        !nonNegativeInt((*offIt)[1], end))
      return tensorError(path, name,
                         "data_offsets is not a pair of non-negative "
                         "integers (R5)");
    if (begin > end)
      return tensorError(path, name,
                         absl::StrCat("data_offsets [", begin, ", ", end,
                                      "] end before they begin (R5)"));
    if (static_cast<uint64_t>(end) > dataSize)
      return tensorError(path, name,
                         absl::StrCat("data_offsets [", begin, ", ", end,
                                      "] lie outside the ", dataSize,
                                      "-byte data section (R5)"));
    std::optional<int64_t> count = elementCount(shape);
    if (!count || *count > INT64_MAX / dtypeSize(*dtype))
      return tensorError(path, name,
                         absl::StrCat("shape ", formatShape(shape),
                                      " overflows 64-bit sizes (R6)"));
    int64_t need = *count * dtypeSize(*dtype);
    if (need != end - begin)
      return tensorError(
          path, name,
          absl::StrCat("shape ", formatShape(shape), " of ", dtypeName(*dtype),
                       " (", dtypeSize(*dtype), " bytes each) needs ", need,
                       " bytes but data_offsets [", begin, ", ", end, "] hold ",
                       end - begin, " (R6)"));
    TensorView view;
    view.name = name;
    view.dtype = *dtype;
    view.shape = std::move(shape);
    view.data = dataStart + begin;
    view.nbytes = end - begin;
    file->tensors_.push_back(std::move(view));
    ranges.push_back({begin, end, name});
  }

  // R7: the byte ranges tile the data section exactly.
  std::vector<size_t> order(ranges.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::tie(ranges[a].begin, ranges[a].end) <
           std::tie(ranges[b].begin, ranges[b].end);
  });
  int64_t cursor = 0;
  std::string previous;
  for (size_t i : order) {
    const Range &r = ranges[i];
    if (r.begin < cursor)
      return tensorError(path, r.name,
                         absl::StrCat("data_offsets [", r.begin, ", ", r.end,
                                      "] overlap tensor '", previous,
                                      "', which ends at ", cursor, " (R7)"));
    if (r.begin > cursor)
      return tensorError(
          path, r.name,
          absl::StrCat("data_offsets [", r.begin, ", ", r.end,
                       "] leave a gap of ", r.begin - cursor, " bytes after ",
                       previous.empty() ? "the header" : "'" + previous + "'",
                       " (R7)"));
    cursor = r.end;
    previous = r.name;
  }
  if (static_cast<uint64_t>(cursor) != dataSize)
    return fileError(path, absl::StrCat(dataSize - cursor,
                                        " bytes follow the last tensor; the "
                                        "data section is ",
                                        dataSize, " bytes (R7)"));

  // Tensors in data order.
  std::vector<TensorView> sorted;
  sorted.reserve(order.size());
  for (size_t i : order)
    sorted.push_back(std::move(file->tensors_[i]));
  file->tensors_ = std::move(sorted);
  for (size_t i = 0; i < file->tensors_.size(); ++i)
    file->byName_[file->tensors_[i].name] = i;
  return file;
}

//===----------------------------------------------------------------------===//
// Checkpoint
//===----------------------------------------------------------------------===//

const TensorView *Checkpoint::find(const std::string &name) const {
  auto it = byName_.find(name);
  return it == byName_.end() ? nullptr : it->second;
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  for (const auto &[name, view] : byName_)
    out.push_back(name);
  return out;
}

absl::StatusOr<std::unique_ptr<Checkpoint>>
Checkpoint::open(const std::string &dir) {
  auto ckpt = std::make_unique<Checkpoint>();
  ckpt->dir_ = dir;
  const fs::path index = fs::path(dir) / kIndexName;
  const fs::path single = fs::path(dir) / kSingleName;
  std::error_code ec;
  if (!fs::exists(index, ec)) {
    if (!fs::exists(single, ec))
      return absl::NotFoundError(
          absl::StrCat(dir, ": no ", kSingleName, " or ", kIndexName,
                       "; is this a Hugging Face checkpoint directory?"));
    auto file = SafetensorsFile::open(single.string());
    if (!file.ok())
      return file.status();
    for (const TensorView &t : (*file)->tensors())
      ckpt->byName_[t.name] = &t;
    ckpt->files_.push_back(std::move(*file));
    return ckpt;
  }

  const std::string indexPath = index.string();
  std::ifstream in(index);
  std::stringstream text;
  if (!fs::is_regular_file(index, ec) || !(in && text << in.rdbuf()))
    return fileError(indexPath, "cannot read it (not a readable file)");
  json j = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return fileError(indexPath, "not a JSON object");
  auto mapIt = j.find("weight_map");
  if (mapIt == j.end() || !mapIt->is_object())
    return fileError(indexPath, "no weight_map object");
  std::map<std::string, SafetensorsFile *> shards;
  for (auto &[name, shardName] : mapIt->items()) {
    if (!shardName.is_string())
      return fileError(indexPath, absl::StrCat("weight_map entry '", name,
                                               "' is not a file name"));
    std::string shard = shardName.get<std::string>();
    if (shard.find('/') != std::string::npos || shard == ".." || shard == ".")
      return fileError(indexPath,
                       absl::StrCat("weight_map entry '", name, "' names '",
                                    shard, "', which is not a file in ", dir));
    auto it = shards.find(shard);
    if (it == shards.end()) {
      const fs::path shardPath = fs::path(dir) / shard;
      if (!fs::exists(shardPath, ec))
        return fileError(indexPath,
                         absl::StrCat("weight_map entry '", name,
                                      "' names shard ", shard,
                                      ", which does not exist (R9); the "
                                      "checkpoint is incomplete"));
      auto file = SafetensorsFile::open(shardPath.string());
      if (!file.ok())
        return file.status();
      it = shards.emplace(shard, file->get()).first;
      ckpt->files_.push_back(std::move(*file));
    }
    const TensorView *view = it->second->find(name);
    if (!view)
      return fileError(indexPath,
                       absl::StrCat("weight_map puts tensor '", name,
                                    "' in shard ", shard,
                                    ", which does not hold it (R9)"));
    ckpt->byName_[name] = view;
  }
  for (const auto &file : ckpt->files_)
    for (const TensorView &t : file->tensors())
      if (!ckpt->byName_.count(t.name))
        return fileError(file->path(),
                         absl::StrCat("tensor '", t.name,
                                      "' is missing from the weight_map of ",
                                      kIndexName, " (R9)"));
  return ckpt;
}

//===----------------------------------------------------------------------===//
// Writers
//===----------------------------------------------------------------------===//

namespace {
struct HeaderEntry {
  const std::string *name;
  DType dtype;
  const std::vector<int64_t> *shape;
  int64_t nbytes; ///< -1: the shape's size
};

/// The 8-byte length and the JSON header of a file holding |entries| in
/// order, padded with spaces to a multiple of 8 bytes.
absl::StatusOr<std::string>
headerBytes(const std::string &path, const std::vector<HeaderEntry> &entries,
            const std::map<std::string, std::string> &metadata) {
  ordered_json header = ordered_json::object();
  if (!metadata.empty()) {
    ordered_json meta = ordered_json::object();
    for (const auto &[k, v] : metadata)
      meta[k] = v;
    header["__metadata__"] = meta;
  }
  std::set<std::string> seen;
  int64_t offset = 0;
  for (const HeaderEntry &t : entries) {
    if (*t.name == "__metadata__" || !seen.insert(*t.name).second)
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": tensor name '", *t.name, "' is reserved or repeated"));
    if (firstInvalidUtf8(*t.name) >= 0)
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": tensor name '", *t.name, "' is not UTF-8"));
    std::optional<int64_t> count = elementCount(*t.shape);
    const int64_t nbytes =
        t.nbytes < 0 && count ? *count * dtypeSize(t.dtype) : t.nbytes;
    if (!count || *count * dtypeSize(t.dtype) != nbytes)
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": tensor '", *t.name, "': shape ",
                       formatShape(*t.shape), " of ", dtypeName(t.dtype),
                       " does not match its ", nbytes, " bytes"));
    header[*t.name] = {{"dtype", dtypeName(t.dtype)},
                       {"shape", *t.shape},
                       {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  // Metadata values are free text (e.g. a path); bytes that are not UTF-8
  // become U+FFFD rather than fail the write.
  std::string text =
      header.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<char>(static_cast<uint8_t>(n >> (8 * i)));
  return out + text;
}
} // namespace

absl::Status
writeSafetensors(const std::string &path,
                 const std::vector<TensorData> &tensors,
                 const std::map<std::string, std::string> &metadata) {
  std::vector<HeaderEntry> entries;
  for (const TensorData &t : tensors)
    entries.push_back({&t.name, t.dtype, &t.shape, t.nbytes});
  absl::StatusOr<std::string> header = headerBytes(path, entries, metadata);
  if (!header.ok())
    return header.status();
  std::vector<std::pair<const void *, size_t>> chunks = {
      {header->data(), header->size()}};
  for (const TensorData &t : tensors)
    chunks.push_back({t.data, static_cast<size_t>(t.nbytes)});
  return writeAtomically(path, chunks);
}

//===----------------------------------------------------------------------===//
// SafetensorsWriter
//===----------------------------------------------------------------------===//

absl::StatusOr<std::unique_ptr<SafetensorsWriter>>
SafetensorsWriter::create(const std::string &path,
                          const std::vector<Entry> &entries,
                          const std::map<std::string, std::string> &metadata) {
  std::vector<HeaderEntry> header;
  for (const Entry &e : entries)
    header.push_back({&e.name, e.dtype, &e.shape, -1});
  absl::StatusOr<std::string> bytes = headerBytes(path, header, metadata);
  if (!bytes.ok())
    return bytes.status();
  std::unique_ptr<SafetensorsWriter> w(new SafetensorsWriter());
  w->path_ = path;
  w->dataStart_ = static_cast<int64_t>(bytes->size());
  w->fileBytes_ = w->dataStart_;
  for (const Entry &e : entries)
    w->fileBytes_ += *elementCount(e.shape) * dtypeSize(e.dtype);
  w->fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (w->fd_ < 0)
    return absl::InternalError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  if (!writeAll(w->fd_, bytes->data(), bytes->size()))
    return absl::InternalError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  w->written_ = w->dataStart_;
  return w;
}

SafetensorsWriter::~SafetensorsWriter() {
  if (fd_ >= 0)
    ::close(fd_);
}

absl::Status SafetensorsWriter::write(const void *data, int64_t nbytes) {
  if (fd_ < 0)
    return absl::FailedPreconditionError(
        absl::StrCat(path_, ": written after finish()"));
  if (nbytes < 0 || written_ + nbytes > fileBytes_)
    return absl::InternalError(absl::StrCat(
        path_, ": ", nbytes, " more bytes exceed the tensors of the header"));
  if (!writeAll(fd_, data, static_cast<size_t>(nbytes)))
    return absl::InternalError(
        absl::StrCat("cannot write ", path_, ": ", std::strerror(errno)));
  written_ += nbytes;
  return absl::OkStatus();
}

absl::Status SafetensorsWriter::finish() {
  if (fd_ < 0)
    return absl::FailedPreconditionError(
        absl::StrCat(path_, ": finish() called twice"));
  if (written_ != fileBytes_)
    return absl::InternalError(absl::StrCat(path_, ": ", written_ - dataStart_,
                                            " of ", fileBytes_ - dataStart_,
                                            " tensor bytes were written"));
  const bool synced = ::fsync(fd_) == 0;
  int err = errno;
  const bool closed = ::close(fd_) == 0;
  fd_ = -1;
  if (!closed && synced)
    err = errno;
  if (!synced || !closed)
    return absl::InternalError(
        absl::StrCat("cannot flush ", path_, ": ", std::strerror(err)));
  return absl::OkStatus();
}

absl::Status writeCheckpoint(const std::string &dir,
                             const std::vector<TensorData> &tensors,
                             int64_t maxShardBytes) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return absl::InternalError(
        absl::StrCat("cannot create ", dir, ": ", ec.message()));
  int64_t total = 0;
  for (const TensorData &t : tensors)
    total += t.nbytes;
  // Stale files first: an old index would shadow a new single file, and an
  // old single file would be loaded if we crashed before the new index is
  // written (shards without an index are not loadable, which is the point).
  auto removeStale = [&](const char *name) -> absl::Status {
    std::error_code rec;
    fs::remove(fs::path(dir) / name, rec);
    if (rec)
      return absl::InternalError(absl::StrCat(
          "cannot remove the stale ", name, " in ", dir, ": ", rec.message()));
    return absl::OkStatus();
  };
  if (absl::Status s = removeStale(kIndexName); !s.ok())
    return s;
  if (total <= maxShardBytes)
    return writeSafetensors((fs::path(dir) / kSingleName).string(), tensors);
  if (absl::Status s = removeStale(kSingleName); !s.ok())
    return s;

  std::vector<std::vector<TensorData>> shards(1);
  int64_t current = 0;
  for (const TensorData &t : tensors) {
    if (!shards.back().empty() && current + t.nbytes > maxShardBytes) {
      shards.emplace_back();
      current = 0;
    }
    shards.back().push_back(t);
    current += t.nbytes;
  }
  ordered_json weightMap = ordered_json::object();
  for (size_t i = 0; i < shards.size(); ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", i + 1,
                  shards.size());
    if (absl::Status s =
            writeSafetensors((fs::path(dir) / name).string(), shards[i]);
        !s.ok())
      return s;
    for (const TensorData &t : shards[i])
      weightMap[t.name] = name;
  }
  ordered_json index = {{"metadata", {{"total_size", total}}},
                        {"weight_map", weightMap}};
  std::string text = index.dump(2) + "\n";
  return writeAtomically((fs::path(dir) / kIndexName).string(),
                         {{text.data(), text.size()}});
}
} // namespace infir2::io
