//===- parallel.cc - Data-parallel loops over index ranges ----------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/numerics/parallel.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <thread>
#include <vector>

namespace infir2::numerics {
namespace {
std::atomic<int> &threadCount() {
  static std::atomic<int> threads{[] {
    if (const char *env = std::getenv("INFIR2_NUM_THREADS")) {
      int n = std::atoi(env);
      if (n >= 1)
        return n;
    }
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }()};
  return threads;
}
} // namespace

int numThreads() { return threadCount().load(std::memory_order_relaxed); }

void setNumThreads(int n) {
  threadCount().store(std::max(n, 1), std::memory_order_relaxed);
}

void parallelFor(int64_t n, int64_t grain,
                 const std::function<void(int64_t, int64_t)> &fn) {
  if (n <= 0)
    return;
  grain = std::max<int64_t>(grain, 1);
  int64_t chunks = std::min<int64_t>(numThreads(), n / grain);
  if (chunks < 2) {
    fn(0, n);
    return;
  }
  // Threads are started per call: the callers are bulk conversions of
  // millions of elements, for which thread start-up (~20 us) is noise.
  std::vector<std::thread> workers;
  workers.reserve(chunks - 1);
  int64_t begin = 0;
  for (int64_t i = 0; i < chunks; ++i) {
    int64_t end = begin + (n - begin) / (chunks - i);
    if (i + 1 < chunks)
      workers.emplace_back(fn, begin, end);
    else
      fn(begin, end);
    begin = end;
  }
  for (std::thread &t : workers)
    t.join();
}
} // namespace infir2::numerics
