//===- exec_plan.cc - An entry point laid out in one device arena ---------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/cuda/exec_plan.h"

#include <algorithm>
#include <numeric>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/cuda/gemm_plan.h"
#include "runtime/kernels/launch.h"

namespace infir2::cuda {
namespace {
using Shape = std::vector<int64_t>;

/// Grid cap the CUDA backend launches kernels with (8 blocks per SM on a
/// 132-SM H100); it sizes kernel workspaces.
constexpr int64_t kMaxGrid = 1056;

int64_t align(int64_t n) {
  return (n + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

int64_t numel(const Shape &s) {
  return std::accumulate(s.begin(), s.end(), int64_t{1},
                         std::multiplies<int64_t>());
}

std::string shapeText(const Shape &s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i)
    absl::StrAppend(&out, i ? ", " : "", s[i]);
  return out + "]";
}

bool flag(const artifact::Step &s, const char *key) {
  const artifact::AttrValue *v = s.attr(key);
  return v && std::holds_alternative<bool>(*v) && std::get<bool>(*v);
}

int64_t integer(const artifact::Step &s, const char *key, int64_t fallback) {
  const artifact::AttrValue *v = s.attr(key);
  return v && std::holds_alternative<int64_t>(*v) ? std::get<int64_t>(*v)
                                                  : fallback;
}

std::string text(const artifact::Step &s, const char *key) {
  const artifact::AttrValue *v = s.attr(key);
  return v && std::holds_alternative<std::string>(*v)
             ? std::get<std::string>(*v)
             : "";
}

/// The dtypes and attributes the CUDA backend's library steps run with;
/// anything else is an error naming the step rather than a misread buffer.
absl::Status checkLibraryStep(const artifact::Manifest &m,
                              const artifact::Step &s,
                              const std::vector<Shape> &ops,
                              const std::string &where) {
  auto dt = [&](size_t operand) {
    return m.buffers[s.operands[operand]].dtype;
  };
  auto floaty = [](DType d) { return d == DType::kBF16 || d == DType::kF32; };
  auto unsupported = [&](const std::string &what) {
    return absl::UnimplementedError(
        absl::StrCat(where, ": the CUDA backend does not run ", what));
  };
  if (s.op == "graph.embedding" || s.op == "graph.embedding_grad") {
    if (!floaty(dt(0)) || dt(1) != DType::kI32 || ops[0].size() != 2 ||
        ops[1].size() != 1)
      return unsupported(absl::StrCat(
          dtypeName(dt(0)), " ", shapeText(ops[0]), " with ", dtypeName(dt(1)),
          " ids ", shapeText(ops[1]), " (bf16/f32 rows, 1-D i32 ids)"));
  } else if (s.op == "graph.linear" || s.op == "graph.matmul") {
    const DType out = m.buffers[s.results[0]].dtype;
    // A bias goes through cuBLASLt's BIAS epilogue: one value of D's type
    // per output feature.
    if (s.op == "graph.linear" && s.operands.size() == 3 &&
        (dt(2) != out || ops[2].size() != 1 || ops[2][0] != ops[1][0]))
      return unsupported(absl::StrCat("a linear bias ", dtypeName(dt(2)), " ",
                                      shapeText(ops[2]), " into ",
                                      dtypeName(out),
                                      " (one value per output feature, of "
                                      "the result's type)"));
    if (!floaty(dt(0)) || dt(0) != dt(1) || !floaty(out))
      return unsupported(absl::StrCat(
          "a GEMM of ", dtypeName(dt(0)), " and ", dtypeName(dt(1)), " into ",
          dtypeName(out), " (both bf16 or both f32)"));
  } else if (s.op == "fp8.scaled_matmul") {
    if (dt(1) != DType::kF32 || dt(3) != DType::kF32)
      return unsupported("FP8 GEMMs with e8m0 scales (cuBLASLt's 128-element "
                         "block scales are f32)");
    for (const char *key : {"lhs_layout", "rhs_layout"})
      if (text(s, key) != "1x128" && text(s, key) != "128x128")
        return unsupported(absl::StrCat("FP8 GEMM operands with layout ",
                                        text(s, key),
                                        " (1x128 and 128x128 only)"));
  } else if (s.op == "graph.attention" || s.op == "graph.attention_grad") {
    const size_t q = s.op == "graph.attention" ? 0 : 1;
    const artifact::AttrValue *scale = s.attr("scale");
    if (!scale || !(std::holds_alternative<double>(*scale) ||
                    std::holds_alternative<int64_t>(*scale)))
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": no numeric scale attribute"));
    if (!floaty(dt(q)) || dt(q + 1) != dt(q) || dt(q + 2) != dt(q) ||
        dt(q + 3) != DType::kI32 || ops[q].size() != 3 ||
        ops[q + 1].size() != 3 || (ops[q][2] != 64 && ops[q][2] != 128) ||
        ops[q + 1][1] <= 0 || ops[q][1] % ops[q + 1][1] != 0)
      return unsupported(absl::StrCat(
          "attention of ", dtypeName(dt(q)), " q ", shapeText(ops[q]), ", k ",
          shapeText(ops[q + 1]),
          " (kernels: bf16/f32, head dim 64 or 128, query heads a multiple "
          "of the key/value heads)"));
  } else if (s.op == "graph.split") {
    const int64_t axis = integer(s, "axis", -1);
    const artifact::AttrValue *sizes = s.attr("sizes");
    if (axis < 0 || axis >= static_cast<int64_t>(ops[0].size()) || !sizes ||
        !std::holds_alternative<std::vector<int64_t>>(*sizes))
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": axis ", axis, " or sizes invalid for ", shapeText(ops[0])));
    int64_t total = 0;
    for (int64_t n : std::get<std::vector<int64_t>>(*sizes))
      total += n;
    if (total != ops[0][axis])
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": sizes add up to ", total, ", not ", ops[0][axis]));
  }
  return absl::OkStatus();
}

/// First-fit-by-size allocator over one growing arena, with coalescing.
class Arena {
public:
  int64_t allocate(int64_t bytes) {
    bytes = align(std::max<int64_t>(bytes, 1));
    auto best = free_.end();
    for (auto it = free_.begin(); it != free_.end(); ++it)
      if (it->second >= bytes &&
          (best == free_.end() || it->second < best->second))
        best = it;
    if (best == free_.end()) {
      // Grow, reusing a free block at the end.
      int64_t at = end_;
      if (!free_.empty() &&
          std::prev(free_.end())->first + std::prev(free_.end())->second ==
              end_) {
        at = std::prev(free_.end())->first;
        free_.erase(std::prev(free_.end()));
      }
      end_ = at + bytes;
      return at;
    }
    const int64_t at = best->first, size = best->second;
    free_.erase(best);
    if (size > bytes)
      free_[at + bytes] = size - bytes;
    return at;
  }
  void release(int64_t at, int64_t bytes) {
    bytes = align(std::max<int64_t>(bytes, 1));
    auto it = free_.emplace(at, bytes).first;
    if (auto next = std::next(it);
        next != free_.end() && it->first + it->second == next->first) {
      it->second += next->second;
      free_.erase(next);
    }
    if (it != free_.begin()) {
      auto prev = std::prev(it);
      if (prev->first + prev->second == it->first) {
        prev->second += it->second;
        free_.erase(it);
      }
    }
  }
  int64_t size() const { return end_; }

private:
  std::map<int64_t, int64_t> free_; ///< offset -> bytes
  int64_t end_ = 0;
};
} // namespace

absl::StatusOr<ExecPlan>
planEntryPoint(const artifact::Manifest &manifest, const std::string &entry,
               const std::map<std::string, std::vector<int64_t>> &inputs) {
  const artifact::EntryPoint *ep = manifest.entryPoint(entry);
  if (!ep)
    return absl::NotFoundError(
        absl::StrCat("the artifact has no entry point '", entry, "'"));
  ExecPlan plan;
  plan.entry = entry;
  plan.buffers.resize(manifest.buffers.size());
  std::vector<bool> known(manifest.buffers.size(), false);
  auto define = [&](int64_t id, Shape shape) {
    PlannedBuffer &b = plan.buffers[id];
    b.id = id;
    b.dtype = manifest.buffers[id].dtype;
    b.shape = std::move(shape);
    b.bytes = numel(b.shape) * dtypeSize(b.dtype);
    known[id] = true;
  };
  for (const artifact::Binding &in : ep->inputs) {
    auto it = inputs.find(in.name);
    if (it == inputs.end())
      return absl::InvalidArgumentError(absl::StrCat(
          "entry point ", entry, ": no shape for input '", in.name, "'"));
    define(in.buffer, it->second);
    plan.inputBytes += plan.buffers[in.buffer].bytes;
    if (in.name == "token_ids" && !it->second.empty())
      plan.tokens = it->second[0];
  }
  for (const artifact::Parameter &p : ep->parameters) {
    define(p.buffer, p.shape);
    plan.buffers[p.buffer].placement = Placement::kParameter;
    plan.parameterBytes += plan.buffers[p.buffer].bytes;
  }

  // Shapes, step by step.
  plan.steps.resize(ep->steps.size());
  for (size_t i = 0; i < ep->steps.size(); ++i) {
    const artifact::Step &s = ep->steps[i];
    const std::string where =
        absl::StrCat("entry point ", entry, ", step ", i, " (",
                     s.kind == "kernel" ? "kernel" : s.op,
                     s.name.empty() ? "" : " " + s.name, ")");
    std::vector<Shape> ops;
    for (int64_t id : s.operands) {
      if (!known[id])
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": operand %", id, " has no shape yet"));
      ops.push_back(plan.buffers[id].shape);
    }
    std::vector<Shape> results;
    if (s.kind != "kernel")
      if (absl::Status st = checkLibraryStep(manifest, s, ops, where); !st.ok())
        return st;
    if (s.kind == "kernel") {
      const artifact::Kernel &k = manifest.kernels[s.kernel];
      absl::StatusOr<int64_t> rows = kernels::launchRows(k, ops);
      if (!rows.ok())
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": ", rows.status().message()));
      for (size_t r = 0; r < s.results.size(); ++r)
        results.push_back(kernels::resultShape(k, r, *rows));
      if (k.workspace)
        plan.steps[i].scratchBytes =
            kernels::launchShape(k, *rows, kMaxGrid).workspaceBytes;
    } else if (s.op == "graph.embedding" && ops.size() == 2) {
      results.push_back({ops[1][0], ops[0][1]});
    } else if (s.op == "graph.embedding_grad" && ops.size() == 2) {
      results.push_back({integer(s, "num_embeddings", -1), ops[0][1]});
    } else if (s.op == "graph.linear" && ops.size() >= 2) {
      Shape out = ops[0];
      out.back() = ops[1][0];
      results.push_back(out);
    } else if ((s.op == "graph.matmul" && ops.size() == 2) ||
               (s.op == "fp8.scaled_matmul" && ops.size() == 4)) {
      const bool mm = s.op == "graph.matmul";
      const Shape &l = ops[0], &r = ops[mm ? 1 : 2];
      const bool tl = flag(s, "transpose_lhs"), tr = flag(s, "transpose_rhs");
      results.push_back({tl ? l[1] : l[0], tr ? r[0] : r[1]});
      if (!mm) {
        auto layout = [&](const char *key) {
          const std::string t = text(s, key);
          return t == "1x128"     ? ScaleLayout::kTile1x128
                 : t == "128x128" ? ScaleLayout::kTile128x128
                                  : ScaleLayout::kNone;
        };
        auto type = [&](int64_t id) {
          return manifest.buffers[id].dtype == DType::kF8E5M2 ? GemmType::kE5M2
                                                              : GemmType::kE4M3;
        };
        const GemmOperand lhs{l[0], l[1], type(s.operands[0]),
                              layout("lhs_layout"), tl};
        const GemmOperand rhs{r[0], r[1], type(s.operands[2]),
                              layout("rhs_layout"), tr};
        absl::StatusOr<LtPlan> gemm =
            planGemm(lhs, rhs,
                     manifest.buffers[s.results[0]].dtype == DType::kBF16
                         ? GemmType::kBF16
                         : GemmType::kF32);
        if (!gemm.ok())
          return absl::Status(
              gemm.status().code(),
              absl::StrCat(where, ": ", gemm.status().message()));
        // Transposed copies and repacked scales live for the step.
        int64_t scratch = 0;
        for (const LtOperand *o : {&gemm->a, &gemm->b}) {
          if (o->transposeCopy)
            scratch += align(o->rows * o->cols);
          scratch += align(o->scales.elements * 4);
        }
        plan.steps[i].scratchBytes = scratch;
      }
    } else if (s.op == "graph.reshape" && ops.size() == 1) {
      Shape out = manifest.buffers[s.results[0]].shape;
      int64_t known1 = 1, unknown = -1;
      for (size_t d = 0; d < out.size(); ++d)
        if (out[d] < 0)
          unknown = static_cast<int64_t>(d);
        else
          known1 *= out[d];
      if (unknown >= 0)
        out[unknown] = known1 ? numel(ops[0]) / known1 : 0;
      results.push_back(out);
    } else if (s.op == "graph.split" && ops.size() == 1) {
      const int64_t axis = integer(s, "axis", 0);
      const artifact::AttrValue *sizes = s.attr("sizes");
      if (!sizes || !std::holds_alternative<std::vector<int64_t>>(*sizes))
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": no sizes attribute"));
      for (int64_t n : std::get<std::vector<int64_t>>(*sizes)) {
        Shape out = ops[0];
        out[axis] = n;
        results.push_back(out);
      }
    } else if (s.op == "graph.attention" && ops.size() == 4) {
      results.push_back(ops[0]);
      // The log-sum-exp the forward kernel writes.
      plan.steps[i].scratchBytes = align(ops[0][0] * ops[0][1] * 4);
    } else if (s.op == "graph.attention_grad" && ops.size() == 5) {
      results = {ops[1], ops[2], ops[3]};
      // The forward recomputed for its output and log-sum-exp, and the
      // row sums dO . O.
      plan.steps[i].scratchBytes =
          align(numel(ops[1]) *
                dtypeSize(manifest.buffers[s.operands[1]].dtype)) +
          2 * align(ops[1][0] * ops[1][1] * 4);
    } else {
      // Anything else must be static in the manifest.
      for (int64_t id : s.results) {
        const Shape &d = manifest.buffers[id].shape;
        if (std::find(d.begin(), d.end(), -1) != d.end())
          return absl::UnimplementedError(absl::StrCat(
              where,
              ": the CUDA plan has no shape rule for this op and its "
              "result ",
              shapeText(d), " is dynamic"));
        results.push_back(d);
      }
    }
    if (results.size() != s.results.size())
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", results.size(), " result shapes for ",
                       s.results.size(), " results"));
    for (size_t r = 0; r < results.size(); ++r) {
      const Shape &declared = manifest.buffers[s.results[r]].shape;
      bool ok = declared.size() == results[r].size();
      for (size_t d = 0; ok && d < declared.size(); ++d)
        ok = declared[d] < 0 || declared[d] == results[r][d];
      if (!ok)
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": result %", s.results[r], " comes out ",
                         shapeText(results[r]), " but the manifest declares ",
                         shapeText(declared)));
      define(s.results[r], results[r]);
      plan.buffers[s.results[r]].def = static_cast<int64_t>(i);
    }
    // Views share their source's memory.
    if ((s.op == "graph.reshape") ||
        (s.op == "graph.split" && integer(s, "axis", 0) == 0))
      for (int64_t id : s.results) {
        PlannedBuffer &b = plan.buffers[id];
        b.placement = Placement::kView;
        const PlannedBuffer &src = plan.buffers[s.operands[0]];
        b.aliasOf = src.placement == Placement::kView ? src.aliasOf : src.id;
      }
  }

  // Lifetimes: a buffer's owner lives until the last reader of any view.
  auto owner = [&](int64_t id) {
    const PlannedBuffer &b = plan.buffers[id];
    return b.placement == Placement::kView ? b.aliasOf : id;
  };
  for (size_t i = 0; i < ep->steps.size(); ++i)
    for (int64_t id : ep->steps[i].operands) {
      plan.buffers[id].lastRead = static_cast<int64_t>(i);
      plan.buffers[id].lastUse =
          std::max(plan.buffers[id].lastUse, static_cast<int64_t>(i));
      PlannedBuffer &o = plan.buffers[owner(id)];
      o.lastUse = std::max(o.lastUse, static_cast<int64_t>(i));
    }
  const int64_t end = static_cast<int64_t>(ep->steps.size());
  for (const artifact::Binding &out : ep->outputs) {
    PlannedBuffer &o = plan.buffers[owner(out.buffer)];
    if (o.placement == Placement::kArena)
      o.placement = Placement::kOutput;
    plan.buffers[out.buffer].lastUse = end;
    o.lastUse = end;
  }

  // Outputs first, one after the other; then the arena in step order.
  std::set<int64_t> outputs;
  for (const artifact::Binding &out : ep->outputs)
    outputs.insert(owner(out.buffer));
  for (int64_t id : outputs) {
    PlannedBuffer &b = plan.buffers[id];
    if (b.placement != Placement::kOutput)
      continue;
    b.offset = plan.outputBytes;
    plan.outputBytes += align(b.bytes);
  }
  Arena arena;
  std::vector<std::vector<int64_t>> dying(ep->steps.size() + 1);
  int64_t live = 0;
  auto place = [&](int64_t id) {
    PlannedBuffer &b = plan.buffers[id];
    b.offset = arena.allocate(b.bytes);
    live += align(std::max<int64_t>(b.bytes, 1));
    // Dead after its last reader; never read: freed after its own step.
    dying[std::min(end, std::max(b.lastUse, b.def) + 1)].push_back(id);
  };
  for (const artifact::Binding &in : ep->inputs)
    if (plan.buffers[in.buffer].placement == Placement::kArena)
      place(in.buffer);
  plan.peakLiveBytes = live;
  for (size_t i = 0; i < ep->steps.size(); ++i) {
    for (int64_t id : dying[i]) {
      arena.release(plan.buffers[id].offset, plan.buffers[id].bytes);
      live -= align(std::max<int64_t>(plan.buffers[id].bytes, 1));
    }
    for (int64_t id : ep->steps[i].results)
      if (plan.buffers[id].placement == Placement::kArena)
        place(id);
    PlannedStep &st = plan.steps[i];
    if (st.scratchBytes > 0)
      st.scratchOffset = arena.allocate(st.scratchBytes);
    plan.peakLiveBytes =
        std::max(plan.peakLiveBytes, live + align(st.scratchBytes));
    if (st.scratchBytes > 0)
      arena.release(st.scratchOffset, st.scratchBytes);
  }
  plan.arenaBytes = arena.size();
  return plan;
}

std::string formatPlan(const ExecPlan &plan, int topBuffers) {
  auto gb = [](int64_t b) { return absl::StrFormat("%9.3f GB", b / 1e9); };
  std::string out = absl::StrFormat(
      "entry point %s, %d tokens\n  arena       %s  (peak live %s, %.1f%% "
      "packed)\n  outputs     %s\n  parameters  %s\n  inputs      %s\n",
      plan.entry, plan.tokens, gb(plan.arenaBytes), gb(plan.peakLiveBytes),
      plan.arenaBytes ? 100.0 * plan.peakLiveBytes / plan.arenaBytes : 100.0,
      gb(plan.outputBytes), gb(plan.parameterBytes), gb(plan.inputBytes));
  std::vector<const PlannedBuffer *> arena;
  for (const PlannedBuffer &b : plan.buffers)
    if (b.id >= 0 && b.placement == Placement::kArena)
      arena.push_back(&b);
  std::sort(arena.begin(), arena.end(),
            [](auto *a, auto *b) { return a->bytes > b->bytes; });
  if (!arena.empty() && topBuffers > 0) {
    out += "  largest temporaries (buffer, shape, dtype, steps):\n";
    for (int i = 0; i < topBuffers && i < static_cast<int>(arena.size()); ++i)
      out += absl::StrFormat("    %%%-6d %-20s %-8s %s  %d..%d\n", arena[i]->id,
                             shapeText(arena[i]->shape),
                             dtypeName(arena[i]->dtype), gb(arena[i]->bytes),
                             arena[i]->def, arena[i]->lastUse);
  }
  return out;
}
} // namespace infir2::cuda
