//===- parallel.h - Data-parallel loops over index ranges -------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_NUMERICS_PARALLEL_H_
#define INFIR2_RUNTIME_NUMERICS_PARALLEL_H_

#include <cstdint>
#include <functional>

namespace infir2::numerics {
/// Threads parallel loops use: INFIR2_NUM_THREADS when set (>= 1), else the
/// hardware concurrency.
int numThreads();

/// Overrides numThreads() (n >= 1); for tests and benchmarks. Not
/// synchronized with loops already running.
void setNumThreads(int n);

/// Calls |fn(begin, end)| on disjoint chunks covering [0, n). Runs on the
/// calling thread alone when n < 2 * |grain| or only one thread is allowed;
/// otherwise splits [0, n) into at most numThreads() chunks of at least
/// |grain| indices, one per thread (a chunk whose thread the system refuses
/// runs on the calling thread). Workers use the caller's floating-point
/// mode. Chunk boundaries depend only on n, grain and numThreads(), and
/// callers write disjoint outputs, so results do not depend on scheduling.
void parallelFor(int64_t n, int64_t grain,
                 const std::function<void(int64_t, int64_t)> &fn);
} // namespace infir2::numerics

#endif // INFIR2_RUNTIME_NUMERICS_PARALLEL_H_
