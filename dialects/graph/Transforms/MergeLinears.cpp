//===- MergeLinears.cpp - One GEMM for linears that share an input -------===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#include "dialects/graph/IR/GraphOps.h"
#include "dialects/graph/Transforms/Passes.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::infir2::graph {
#define GEN_PASS_DEF_GRAPHMERGELINEARSPASS
#include "dialects/graph/Transforms/Passes.h.inc"

namespace {
RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// The module path of a linear ("model.layers.0.self_attn.q_proj"), or "".
StringRef nameOf(Operation *op) {
  if (auto name = dyn_cast<NameLoc>(op->getLoc()))
    return name.getName().strref();
  return "";
}

/// "a.b.q_proj" + "a.b.k_proj" -> "a.b.{q_proj,k_proj}": the name a merged
/// linear reports and errors quote.
std::string mergedName(ArrayRef<LinearOp> group) {
  SmallVector<StringRef> names;
  for (LinearOp op : group)
    names.push_back(nameOf(op));
  StringRef first = names.front();
  size_t common = first.size();
  for (StringRef n : names) {
    size_t i = 0;
    while (i < common && i < n.size() && n[i] == first[i])
      ++i;
    common = i;
  }
  // Back to the last '.' of the common prefix (npos + 1 == 0: none).
  size_t prefix = first.substr(0, common).rfind('.') + 1;
  std::string out = first.substr(0, prefix).str() + "{";
  for (auto [i, n] : llvm::enumerate(names))
    out += (i ? "," : "") + n.drop_front(prefix).str();
  return out + "}";
}

/// What merged linears must share besides their input.
struct Key {
  Type weightElem, resultElem;
  int64_t inFeatures;
  bool bias;
  Attribute fp8;
  bool operator==(const Key &o) const {
    return weightElem == o.weightElem && resultElem == o.resultElem &&
           inFeatures == o.inFeatures && bias == o.bias && fp8 == o.fp8;
  }
};

class GraphMergeLinearsPass
    : public impl::GraphMergeLinearsPassBase<GraphMergeLinearsPass> {
public:
  using impl::GraphMergeLinearsPassBase<
      GraphMergeLinearsPass>::GraphMergeLinearsPassBase;

  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (fp8Alignment < 1) {
      fn.emitError() << "graph-merge-linears: fp8-alignment must be >= 1";
      return signalPassFailure();
    }
    // Linears by input, in program order.
    llvm::MapVector<Value, SmallVector<LinearOp>> byInput;
    fn.walk([&](LinearOp op) { byInput[op.getInput()].push_back(op); });
    for (auto &[input, linears] : byInput) {
      SmallVector<std::pair<Key, SmallVector<LinearOp>>> groups;
      for (LinearOp op : linears) {
        auto w = tensorType(op.getWeight());
        if (w.getRank() != 2 || !w.hasStaticShape())
          continue;
        Key key{w.getElementType(), tensorType(op.getResult()).getElementType(),
                w.getDimSize(1), static_cast<bool>(op.getBias()),
                op.getFp8Attr()};
        auto it =
            llvm::find_if(groups, [&](auto &g) { return g.first == key; });
        if (it == groups.end())
          groups.push_back({key, {op}});
        else
          it->second.push_back(op);
      }
      for (auto &[key, group] : groups)
        if (group.size() > 1 && mergeable(group))
          merge(group);
    }
  }

private:
  bool mergeable(ArrayRef<LinearOp> group) {
    LinearOp first = group.front();
    // The merged op goes where the first one was: every weight and bias
    // must be available there.
    auto availableAtFirst = [&](Value v) {
      if (!v)
        return true;
      if (isa<BlockArgument>(v))
        return true;
      Operation *def = v.getDefiningOp();
      return def->getBlock() == first->getBlock() &&
             def->isBeforeInBlock(first);
    };
    for (LinearOp op : group) {
      if (op->getBlock() != first->getBlock() ||
          !availableAtFirst(op.getWeight()) || !availableAtFirst(op.getBias()))
        return false;
      if (first.getFp8Attr() &&
          tensorType(op.getWeight()).getDimSize(0) % fp8Alignment != 0)
        return false;
    }
    return true;
  }

  void merge(ArrayRef<LinearOp> group) {
    LinearOp first = group.front();
    OpBuilder b(first);
    Location loc =
        NameLoc::get(b.getStringAttr(mergedName(group)), first.getLoc());
    SmallVector<Value> weights, biases;
    SmallVector<int64_t> sizes;
    for (LinearOp op : group) {
      weights.push_back(op.getWeight());
      if (op.getBias())
        biases.push_back(op.getBias());
      sizes.push_back(tensorType(op.getWeight()).getDimSize(0));
    }
    Value weight = ConcatOp::create(b, loc, weights, 0);
    Value bias =
        biases.empty() ? Value() : Value(ConcatOp::create(b, loc, biases, 0));
    auto merged = LinearOp::create(b, loc, first.getInput(), weight, bias,
                                   first.getFp8Attr());
    auto resultType = tensorType(first.getResult());
    int64_t axis = resultType.getRank() - 1;
    auto split = SplitOp::create(b, loc, merged.getResult(), axis, sizes);
    for (auto [i, part] : llvm::enumerate(split.getResults())) {
      LinearOp op = group[i];
      op.getResult().replaceAllUsesWith(part);
      op.erase();
    }
  }
};
} // namespace
} // namespace mlir::infir2::graph
