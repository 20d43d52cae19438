//===- parallel.cc - Data-parallel loops over index ranges ----------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/numerics/parallel.h"

#include "runtime/numerics/float_env.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <system_error>
#include <thread>
#include <utility>
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
  // Workers compute in the caller's floating-point mode.
  const uint32_t control = currentFloatControl();
  auto work = [&fn, control](int64_t begin, int64_t end) {
    setFloatControl(control);
    fn(begin, end);
  };
  // Threads are started per call: the callers are bulk conversions of
  // hundreds of thousands of elements or more, for which thread start-up
  // (~20 us) is noise. If the system refuses a thread, its chunk runs here.
  std::vector<std::thread> workers;
  std::vector<std::pair<int64_t, int64_t>> inline_chunks;
  workers.reserve(chunks - 1);
  int64_t begin = 0;
  for (int64_t i = 0; i < chunks; ++i) {
    int64_t end = begin + (n - begin) / (chunks - i);
    bool started = false;
    if (i + 1 < chunks) {
      try {
        workers.emplace_back(work, begin, end);
        started = true;
      } catch (const std::system_error &) {
      }
    }
    if (!started)
      inline_chunks.emplace_back(begin, end);
    begin = end;
  }
  for (auto [b, e] : inline_chunks)
    fn(b, e);
  for (std::thread &t : workers)
    t.join();
}
} // namespace infir2::numerics
