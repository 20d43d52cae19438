//===- balance.h - Micro-batch counts and balanced partitions ---*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// The two algorithms of slime's dynamic micro-batching (recipe.md §4.4):
// the first-fit bin count that fixes how many micro-batches a rank needs,
// and verl's Karmarkar-Karp largest-differencing partition that spreads
// the samples over them. The partition reproduces verl's
// get_seqlen_balanced_partitions exactly, ties included (its heap is
// Python's heapq, emulated here), so runs are comparable with slime's
// (test/golden/packing).
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_DATA_BALANCE_H_
#define INFIR2_RUNTIME_DATA_BALANCE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace infir2::data {
/// Bins needed when |lengths|, in order, go into the first bin with room
/// (capacity |capacity|); a length above the capacity gets a bin of its own.
int64_t firstFitBinCount(const std::vector<int64_t> &lengths, int64_t capacity);

/// Indices of |lengths| split into |k| parts with balanced sums: verl's
/// karmarkar_karp + the ascending sort of each part that
/// get_seqlen_balanced_partitions applies. With |equalSize| every part has
/// lengths.size() / k items (k must divide it, as verl asserts). With fewer
/// items than |k|, the extra parts are empty.
absl::StatusOr<std::vector<std::vector<int64_t>>>
balancedPartitions(const std::vector<int64_t> &lengths, int64_t k,
                   bool equalSize);
} // namespace infir2::data

#endif // INFIR2_RUNTIME_DATA_BALANCE_H_
