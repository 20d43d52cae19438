//===- tensor.cc - Host tensors of the CPU backend ------------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>

#include <sys/mman.h>
#include <unistd.h>

namespace infir2::cpu {
int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape_)
    n *= d;
  return n;
}

namespace {
/// Large buffers freed by one step are mostly the size the next layer (or
/// the next micro-batch) asks for. Keeping them (up to a cap) saves the
/// kernel from zeroing fresh pages for every activation: a third of a CPU
/// forward pass's time otherwise. A cached buffer serves any request up to
/// 1/8 smaller than it, since packed micro-batches vary in length.
class BufferPool {
public:
  static BufferPool &get() {
    static BufferPool *pool = new BufferPool(); // outlives every Tensor
    return *pool;
  }
  /// A 64-byte aligned buffer of at least |bytes|; |capacity| receives its
  /// real size, which give() needs back.
  void *take(size_t bytes, size_t &capacity) {
    // Huge-page buffers are cached at their rounded capacity, so match on
    // it: a 5 MiB request must find the 6 MiB buffer it was given before.
    const size_t want =
        bytes >= kHuge ? (bytes + kHuge - 1) / kHuge * kHuge : bytes;
    if (bytes >= kMinPooled) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.lower_bound(want);
      if (it != free_.end() && it->first - want <= want / 8) {
        void *p = it->second;
        capacity = it->first;
        cached_ -= it->first;
        free_.erase(it);
        return p;
      }
    }
    capacity = bytes;
    if (bytes >= kHuge) {
      // 2 MiB pages where the kernel allows them on request
      // (transparent_hugepage=madvise): 512x fewer page faults.
      capacity = want;
      void *p = std::aligned_alloc(kHuge, capacity);
      if (!p)
        throw std::bad_alloc();
      ::madvise(p, capacity, MADV_HUGEPAGE);
      return p;
    }
    void *p = std::aligned_alloc(64, bytes);
    if (!p)
      throw std::bad_alloc();
    return p;
  }
  void give(void *p, size_t capacity) {
    if (capacity >= kMinPooled) {
      std::lock_guard<std::mutex> lock(mu_);
      if (cached_ + capacity <= maxCached_) {
        free_.emplace(capacity, p);
        cached_ += capacity;
        return;
      }
    }
    std::free(p);
  }

private:
  BufferPool() {
    // A quarter of the memory, at most 8 GiB, may sit in the pool.
    const long pages = ::sysconf(_SC_PHYS_PAGES),
               size = ::sysconf(_SC_PAGESIZE);
    if (pages > 0 && size > 0)
      maxCached_ = std::min<size_t>(size_t{8} << 30,
                                    static_cast<size_t>(pages) * size / 4);
  }
  static constexpr size_t kMinPooled = size_t{1} << 20;
  static constexpr size_t kHuge = size_t{2} << 20;
  size_t maxCached_ = size_t{2} << 30;
  std::mutex mu_;
  std::multimap<size_t, void *> free_;
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
  size_t capacity = 0;
  void *p = BufferPool::get().take(bytes, capacity);
  t.data_ = p;
  t.owner_ = std::shared_ptr<void>(
      p, [capacity](void *q) { BufferPool::get().give(q, capacity); });
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
