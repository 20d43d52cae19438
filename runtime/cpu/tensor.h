//===- tensor.h - Host tensors of the CPU backend ---------------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// A dense row-major tensor that shares its storage: reshapes alias, and a
// parameter can view the checkpoint's mmap directly (zero copy) when the
// dtypes agree.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_CPU_TENSOR_H_
#define INFIR2_RUNTIME_CPU_TENSOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/io/dtype.h"

namespace infir2::cpu {
class Tensor {
public:
  Tensor() = default;

  /// Uninitialized storage of |shape| (64-byte aligned).
  static Tensor empty(DType dtype, std::vector<int64_t> shape);
  static Tensor zeros(DType dtype, std::vector<int64_t> shape);
  /// A view of memory owned by |owner| (kept alive by the tensor).
  static Tensor view(DType dtype, std::vector<int64_t> shape, const void *data,
                     std::shared_ptr<const void> owner);
  /// Copies |n| = numel(shape) elements of |data|.
  static Tensor copyOf(DType dtype, std::vector<int64_t> shape,
                       const void *data);

  bool defined() const { return data_ != nullptr || numel() == 0; }
  DType dtype() const { return dtype_; }
  const std::vector<int64_t> &shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t dim(int64_t i) const { return shape_[i < 0 ? i + rank() : i]; }
  int64_t numel() const;
  int64_t nbytes() const { return numel() * dtypeSize(dtype_); }

  template <typename T>
  T *data() {
    return static_cast<T *>(data_);
  }
  template <typename T>
  const T *data() const {
    return static_cast<const T *>(data_);
  }
  void *raw() { return data_; }
  const void *raw() const { return data_; }

  /// Rows [begin, begin + count) of dimension 0, sharing the storage.
  Tensor rows(int64_t begin, int64_t count) const;

  /// The same storage with another shape of the same element count.
  Tensor reshaped(std::vector<int64_t> shape) const;

private:
  std::shared_ptr<const void> owner_;
  void *data_ = nullptr;
  DType dtype_ = DType::kF32;
  std::vector<int64_t> shape_;
};
} // namespace infir2::cpu

#endif // INFIR2_RUNTIME_CPU_TENSOR_H_
