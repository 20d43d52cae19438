//===- tensor.cc - Host tensors of the CPU backend ------------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>

namespace infir2::cpu {
int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape_)
    n *= d;
  return n;
}

namespace {
/// Large buffers freed by one step are mostly the size the next layer asks
/// for. Keeping them (up to a cap) saves the kernel from zeroing fresh pages
/// for every activation: a third of a CPU forward pass's time otherwise.
class BufferPool {
public:
  static BufferPool &get() {
    static BufferPool *pool = new BufferPool(); // outlives every Tensor
    return *pool;
  }
  void *take(size_t bytes) {
    if (bytes >= kMinPooled) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        void *p = it->second.back();
        it->second.pop_back();
        cached_ -= bytes;
        return p;
      }
    }
    void *p = std::aligned_alloc(64, bytes);
    if (!p)
      throw std::bad_alloc();
    return p;
  }
  void give(void *p, size_t bytes) {
    if (bytes >= kMinPooled) {
      std::lock_guard<std::mutex> lock(mu_);
      if (cached_ + bytes <= kMaxCached) {
        free_[bytes].push_back(p);
        cached_ += bytes;
        return;
      }
    }
    std::free(p);
  }

private:
  static constexpr size_t kMinPooled = size_t{1} << 20;
  static constexpr size_t kMaxCached = size_t{2} << 30;
  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void *>> free_;
  size_t cached_ = 0;
};
} // namespace

Tensor Tensor::empty(DType dtype, std::vector<int64_t> shape) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  // aligned_alloc wants a multiple of the alignment.
  const size_t bytes =
      std::max<size_t>(64, (static_cast<size_t>(t.nbytes()) + 63) / 64 * 64);
  void *p = BufferPool::get().take(bytes);
  t.data_ = p;
  t.owner_ = std::shared_ptr<void>(
      p, [bytes](void *q) { BufferPool::get().give(q, bytes); });
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

Tensor Tensor::rows(int64_t begin, int64_t count) const {
  Tensor t = *this;
  const int64_t rowElements = rank() > 0 && dim(0) > 0 ? numel() / dim(0) : 0;
  t.data_ =
      static_cast<uint8_t *>(data_) + begin * rowElements * dtypeSize(dtype_);
  t.shape_[0] = count;
  return t;
}

Tensor Tensor::reshaped(std::vector<int64_t> shape) const {
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}
} // namespace infir2::cpu
