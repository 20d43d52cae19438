//===- balance.cc - Micro-batch counts and balanced partitions ------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/balance.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"

namespace infir2::data {
namespace {
/// verl's Set: items (index, length) in insertion order and their sum.
struct Set {
  int64_t sum = 0;
  std::vector<std::pair<int64_t, int64_t>> items;
  // Python: by sum, then item count, then the item lists.
  bool operator<(const Set &o) const {
    if (sum != o.sum)
      return sum < o.sum;
    if (items.size() != o.items.size())
      return items.size() < o.items.size();
    return items < o.items;
  }
};

/// verl's State: k sets kept in descending order (a stable sort, as
/// Python's sorted(reverse=True) is).
struct State {
  std::vector<Set> sets;
  explicit State(const std::vector<std::pair<int64_t, int64_t>> &items,
                 int64_t k)
      : sets(static_cast<size_t>(k)) {
    for (size_t i = 0; i < items.size(); ++i) {
      sets[i].items.push_back(items[i]);
      sets[i].sum += items[i].second;
    }
    sortSets();
  }
  void sortSets() {
    std::stable_sort(sets.begin(), sets.end(),
                     [](const Set &a, const Set &b) { return b < a; });
  }
  void merge(const State &other) {
    const size_t k = sets.size();
    for (size_t i = 0; i < k; ++i) {
      const Set &o = other.sets[k - 1 - i];
      sets[i].items.insert(sets[i].items.end(), o.items.begin(), o.items.end());
      sets[i].sum += o.sum;
    }
    sortSets();
  }
  int64_t spread() const { return sets.front().sum - sets.back().sum; }
  // heapq pops the "smallest": the largest spread, then the largest set.
  bool operator<(const State &o) const {
    if (spread() != o.spread())
      return spread() > o.spread();
    return o.sets[0] < sets[0];
  }
};

using Heap = std::vector<std::unique_ptr<State>>;
bool less(const std::unique_ptr<State> &a, const std::unique_ptr<State> &b) {
  return *a < *b;
}

// Python's heapq, step for step, so that ties pop in the same order.
void siftDown(Heap &heap, size_t start, size_t pos) {
  std::unique_ptr<State> item = std::move(heap[pos]);
  while (pos > start) {
    size_t parent = (pos - 1) >> 1;
    if (less(item, heap[parent])) {
      heap[pos] = std::move(heap[parent]);
      pos = parent;
      continue;
    }
    break;
  }
  heap[pos] = std::move(item);
}

void siftUp(Heap &heap, size_t pos) {
  const size_t end = heap.size(), start = pos;
  std::unique_ptr<State> item = std::move(heap[pos]);
  size_t child = 2 * pos + 1;
  while (child < end) {
    size_t right = child + 1;
    if (right < end && !less(heap[child], heap[right]))
      child = right;
    heap[pos] = std::move(heap[child]);
    pos = child;
    child = 2 * pos + 1;
  }
  heap[pos] = std::move(item);
  siftDown(heap, start, pos);
}

void heapPush(Heap &heap, std::unique_ptr<State> s) {
  heap.push_back(std::move(s));
  siftDown(heap, 0, heap.size() - 1);
}

std::unique_ptr<State> heapPop(Heap &heap) {
  std::unique_ptr<State> last = std::move(heap.back());
  heap.pop_back();
  if (heap.empty())
    return last;
  std::unique_ptr<State> top = std::move(heap[0]);
  heap[0] = std::move(last);
  siftUp(heap, 0);
  return top;
}
} // namespace

int64_t firstFitBinCount(const std::vector<int64_t> &lengths,
                         int64_t capacity) {
  std::vector<int64_t> bins;
  for (int64_t len : lengths) {
    bool placed = false;
    for (int64_t &b : bins)
      if (b + len <= capacity) {
        b += len;
        placed = true;
        break;
      }
    if (!placed)
      bins.push_back(len);
  }
  return static_cast<int64_t>(bins.size());
}

absl::StatusOr<std::vector<std::vector<int64_t>>>
balancedPartitions(const std::vector<int64_t> &lengths, int64_t k,
                   bool equalSize) {
  const int64_t n = static_cast<int64_t>(lengths.size());
  if (k < 1)
    return absl::InvalidArgumentError("a partition needs at least one part");
  if (equalSize && n % k != 0)
    return absl::InvalidArgumentError(
        absl::StrCat(n, " items do not split into ", k, " equal parts"));
  std::vector<std::vector<int64_t>> parts(static_cast<size_t>(k));
  if (n == 0)
    return parts;
  // sorted([(seqlen, i) ...]): ascending length, then index.
  std::vector<std::pair<int64_t, int64_t>> sorted;
  for (int64_t i = 0; i < n; ++i)
    sorted.emplace_back(lengths[i], i);
  std::sort(sorted.begin(), sorted.end());
  Heap heap;
  if (equalSize) {
    for (int64_t off = 0; off + k <= n; off += k) {
      std::vector<std::pair<int64_t, int64_t>> items;
      for (int64_t i = 0; i < k; ++i)
        items.emplace_back(sorted[off + i].second, sorted[off + i].first);
      heapPush(heap, std::make_unique<State>(items, k));
    }
  } else {
    for (const auto &[len, idx] : sorted)
      heapPush(heap,
               std::make_unique<State>(
                   std::vector<std::pair<int64_t, int64_t>>{{idx, len}}, k));
  }
  while (heap.size() > 1) {
    std::unique_ptr<State> a = heapPop(heap);
    std::unique_ptr<State> b = heapPop(heap);
    a->merge(*b);
    heapPush(heap, std::move(a));
  }
  const State &final = *heap[0];
  for (size_t p = 0; p < final.sets.size(); ++p) {
    for (const auto &[idx, len] : final.sets[p].items)
      parts[p].push_back(idx);
    std::sort(parts[p].begin(), parts[p].end());
  }
  return parts;
}
} // namespace infir2::data
