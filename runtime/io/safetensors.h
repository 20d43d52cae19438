//===- safetensors.h - Read and write safetensors checkpoints ---*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// The Hugging Face safetensors format: an 8-byte little-endian header length
// N, N bytes of UTF-8 JSON mapping tensor names to {dtype, shape,
// data_offsets} (plus an optional "__metadata__" map of strings), then the
// tensors' bytes. Files are memory-mapped and tensors are zero-copy views.
//
// Every header field is validated; a bad file gets an error that names the
// file, the tensor and the rule it breaks:
//   R1 the file holds the 8-byte length and N more bytes; N <= 100 MB
//   R2 the header is UTF-8 JSON, an object of objects
//   R3 each dtype is a known one
//   R4 each shape is a list of non-negative integers
//   R5 each data_offsets is [begin, end] with begin <= end inside the data
//   R6 shape x dtype size = end - begin
//   R7 the tensors tile the data section: no overlap, no gap, no tail
//   R8 __metadata__ maps strings to strings
// A sharded checkpoint (model.safetensors.index.json) adds
//   R9 every weight_map entry names a shard that exists and holds it.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_IO_SAFETENSORS_H_
#define INFIR2_RUNTIME_IO_SAFETENSORS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/io/dtype.h"

namespace infir2::io {
/// A tensor inside a mapped file. |data| stays valid while the file (or the
/// Checkpoint holding it) lives.
struct TensorView {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const uint8_t *data = nullptr;
  int64_t nbytes = 0;

  int64_t elements() const { return nbytes / dtypeSize(dtype); }
};

/// One memory-mapped safetensors file.
class SafetensorsFile {
public:
  /// Maps and validates |path|.
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>>
  open(const std::string &path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile &) = delete;
  SafetensorsFile &operator=(const SafetensorsFile &) = delete;

  const std::string &path() const { return path_; }
  /// Tensors in data order.
  const std::vector<TensorView> &tensors() const { return tensors_; }
  /// The tensor called |name|, or null.
  const TensorView *find(const std::string &name) const;
  const std::map<std::string, std::string> &metadata() const {
    return metadata_;
  }
  /// Size of the file in bytes.
  int64_t fileBytes() const { return static_cast<int64_t>(mapSize_); }
  /// Asks the kernel to read |t|'s bytes ahead (streaming converters).
  void prefetch(const TensorView &t) const;
  /// Drops |t|'s pages from this process's memory (they stay in the page
  /// cache): a converter that is done with a tensor keeps its resident set
  /// at one tensor, not the whole file. |t| stays readable (pages fault back
  /// in).
  void release(const TensorView &t) const;

private:
  SafetensorsFile() = default;
  std::string path_;
  void *map_ = nullptr;
  size_t mapSize_ = 0;
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t> byName_;
  std::map<std::string, std::string> metadata_;
};

/// A Hugging Face checkpoint directory: model.safetensors, or the shards a
/// model.safetensors.index.json names.
class Checkpoint {
public:
  static absl::StatusOr<std::unique_ptr<Checkpoint>>
  open(const std::string &dir);

  const std::string &dir() const { return dir_; }
  /// The tensor called |name|, or null.
  const TensorView *find(const std::string &name) const;
  /// Every tensor name, sorted.
  std::vector<std::string> names() const;

private:
  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorView *> byName_;
};

/// A tensor to write: |nbytes| bytes at |data|, which must equal the shape's
/// element count times the dtype size.
struct TensorData {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const void *data = nullptr;
  int64_t nbytes = 0;
};

/// Writes |tensors| (in order) to |path| with __metadata__ |metadata| (HF
/// convention: {"format": "pt"}); the header is padded with spaces to a
/// multiple of 8 bytes. Written to a temporary name in the same directory
/// and renamed, so |path| is never left half-written.
absl::Status writeSafetensors(
    const std::string &path, const std::vector<TensorData> &tensors,
    const std::map<std::string, std::string> &metadata = {{"format", "pt"}});

/// Writes a safetensors file tensor by tensor: the header (names, dtypes,
/// shapes) is fixed up front, then the tensors' bytes arrive in that order,
/// possibly in pieces, so a converter holds one tensor at a time. It writes
/// |path| directly (callers stream into a temporary directory and rename
/// it); finish() checks that every byte came and flushes the file to disk.
class SafetensorsWriter {
public:
  struct Entry {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
  };
  static absl::StatusOr<std::unique_ptr<SafetensorsWriter>> create(
      const std::string &path, const std::vector<Entry> &entries,
      const std::map<std::string, std::string> &metadata = {{"format", "pt"}});
  ~SafetensorsWriter();
  SafetensorsWriter(const SafetensorsWriter &) = delete;
  SafetensorsWriter &operator=(const SafetensorsWriter &) = delete;

  /// Appends |nbytes| of the current tensor (the next entry once the
  /// current one is complete).
  absl::Status write(const void *data, int64_t nbytes);
  /// Fails unless every entry's bytes were written; fsyncs and closes.
  absl::Status finish();
  /// Bytes of the whole file.
  int64_t fileBytes() const { return fileBytes_; }

private:
  SafetensorsWriter() = default;
  std::string path_;
  int fd_ = -1;
  int64_t fileBytes_ = 0, written_ = 0, dataStart_ = 0;
};

/// Writes |tensors| into directory |dir| (created if needed): one
/// model.safetensors if they fit in |maxShardBytes|, otherwise shards
/// model-0000i-of-0000n.safetensors and model.safetensors.index.json
/// (metadata.total_size = sum of tensor bytes). The index is written last,
/// so an interrupted write leaves no loadable half-checkpoint.
absl::Status writeCheckpoint(const std::string &dir,
                             const std::vector<TensorData> &tensors,
                             int64_t maxShardBytes = int64_t{5} << 30);
} // namespace infir2::io

#endif // INFIR2_RUNTIME_IO_SAFETENSORS_H_
