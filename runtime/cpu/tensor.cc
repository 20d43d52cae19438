//===- tensor.cc - Host tensors of the CPU backend ------------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace infir2::cpu {
int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape_)
    n *= d;
  return n;
}

Tensor Tensor::empty(DType dtype, std::vector<int64_t> shape) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  size_t bytes = static_cast<size_t>(t.nbytes());
  // aligned_alloc wants a multiple of the alignment.
  size_t padded = (bytes + 63) / 64 * 64;
  void *p = std::aligned_alloc(64, padded == 0 ? 64 : padded);
  if (!p)
    throw std::bad_alloc();
  t.data_ = p;
  t.owner_ = std::shared_ptr<void>(p, [](void *q) { std::free(q); });
  return t;
}

Tensor Tensor::zeros(DType dtype, std::vector<int64_t> shape) {
  Tensor t = empty(dtype, std::move(shape));
  std::memset(t.data_, 0, static_cast<size_t>(t.nbytes()));
  return t;
}

Tensor Tensor::view(DType dtype, std::vector<int64_t> shape, const void *data,
                    std::shared_ptr<const void> owner) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  // Views of parameters are read-only by contract: no kernel writes an
  // operand.
  t.data_ = const_cast<void *>(data);
  t.owner_ = std::move(owner);
  return t;
}

Tensor Tensor::copyOf(DType dtype, std::vector<int64_t> shape,
                      const void *data) {
  Tensor t = empty(dtype, std::move(shape));
  if (t.nbytes() > 0)
    std::memcpy(t.data_, data, static_cast<size_t>(t.nbytes()));
  return t;
}

Tensor Tensor::reshaped(std::vector<int64_t> shape) const {
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}
} // namespace infir2::cpu
