//===- Autodiff.cpp - Reverse-mode differentiation of graph functions -----===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#include "dialects/graph/IR/GraphOps.h"
#include "dialects/graph/Transforms/Passes.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringExtras.h"

namespace mlir::infir2::graph {
#define GEN_PASS_DEF_GRAPHAUTODIFFPASS
#include "dialects/graph/Transforms/Passes.h.inc"

namespace {
RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// A splat constant of a static shape.
Value splat(OpBuilder &b, Location loc, RankedTensorType type, double value) {
  auto attr = DenseElementsAttr::get(
      type, b.getFloatAttr(type.getElementType(), value).getValue());
  return arith::ConstantOp::create(b, loc, type, attr);
}

Value castTo(OpBuilder &b, Location loc, Value v, Type elem) {
  if (tensorType(v).getElementType() == elem)
    return v;
  return CastOp::create(b, loc, v, elem);
}

class GraphAutodiffPass
    : public impl::GraphAutodiffPassBase<GraphAutodiffPass> {
public:
  using impl::GraphAutodiffPassBase<GraphAutodiffPass>::GraphAutodiffPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>(function);
    if (!forward) {
      module.emitError() << "graph-autodiff: no function @" << function
                         << " to differentiate";
      return signalPassFailure();
    }
    if (failed(differentiate(forward)))
      signalPassFailure();
  }

private:
  template <typename Accumulate>
  static LogicalResult
  splitVjp(OpBuilder &b, SplitOp split, llvm::DenseMap<Value, Value> &grads,
           Accumulate &accumulate, const llvm::DenseSet<Value> &active) {
    if (!active.contains(split.getInput()))
      return success();
    SmallVector<Value> pieces;
    bool any = false, mixed = false;
    Type elem;
    for (Value r : split.getResults()) {
      auto it = grads.find(r);
      Value g = it == grads.end() ? Value() : it->second;
      pieces.push_back(g);
      if (!g)
        continue;
      Type e = tensorType(g).getElementType();
      mixed |= any && e != elem;
      elem = e;
      any = true;
    }
    if (!any)
      return success();
    if (mixed)
      elem = b.getF32Type();
    Location loc = split.getLoc();
    for (auto [g, r] : llvm::zip(pieces, split.getResults())) {
      if (g) {
        g = castTo(b, loc, g, elem);
        continue;
      }
      Value zero = splat(b, loc, RankedTensorType::get({}, elem), 0.0);
      auto t = tensorType(r);
      g = BroadcastOp::create(b, loc, zero, ArrayRef<int64_t>{},
                              RankedTensorType::get(t.getShape(), elem), r);
    }
    accumulate(split.getInput(),
               ConcatOp::create(b, loc, pieces, split.getAxis()), loc);
    return success();
  }

  LogicalResult differentiate(func::FuncOp forward) {
    if (!forward.getBody().hasOneBlock())
      return forward.emitError()
             << "graph-autodiff differentiates single-block functions";
    // The results to keep, by their graph.output names.
    auto outputIndex = [&](StringRef name) -> std::optional<unsigned> {
      for (unsigned i = 0; i < forward.getNumResults(); ++i)
        if (auto n = forward.getResultAttrOfType<StringAttr>(i, kOutputAttr))
          if (n.getValue() == name)
            return i;
      return std::nullopt;
    };
    std::optional<unsigned> lossIndex = outputIndex(loss);
    if (!lossIndex)
      return forward.emitError() << "graph-autodiff: @" << forward.getSymName()
                                 << " has no result named '" << loss << "'";
    auto lossType =
        dyn_cast<RankedTensorType>(forward.getResultTypes()[*lossIndex]);
    if (!lossType || lossType.getRank() != 0 ||
        !lossType.getElementType().isF32())
      return forward.emitError() << "graph-autodiff: the loss '" << loss
                                 << "' must be a scalar tensor<f32>, not "
                                 << forward.getResultTypes()[*lossIndex];
    SmallVector<std::pair<std::string, unsigned>> kept;
    SmallVector<StringRef> keepNames;
    StringRef(keep).split(keepNames, ',', -1, false);
    for (StringRef name : keepNames) {
      std::optional<unsigned> i = outputIndex(name.trim());
      if (!i)
        return forward.emitError()
               << "graph-autodiff: @" << forward.getSymName()
               << " has no result named '" << name.trim() << "' to keep";
      kept.emplace_back(name.trim().str(), *i);
    }

    // The gradient function: the forward arguments, then loss, kept
    // results and one f32 gradient per parameter.
    OpBuilder b(forward);
    b.setInsertionPointAfter(forward);
    SmallVector<unsigned> params;
    SmallVector<Type> results = {lossType};
    for (auto &[name, i] : kept)
      results.push_back(forward.getResultTypes()[i]);
    for (unsigned a = 0; a < forward.getNumArguments(); ++a)
      if (forward.getArgAttrOfType<StringAttr>(a, kParamAttr)) {
        auto t = dyn_cast<RankedTensorType>(forward.getArgument(a).getType());
        if (!t || !isa<FloatType>(t.getElementType()) || !t.hasStaticShape())
          return forward.emitError()
                 << "graph-autodiff: parameter " << a
                 << " must be a float tensor of static shape, not "
                 << forward.getArgument(a).getType();
        params.push_back(a);
        results.push_back(RankedTensorType::get(t.getShape(), b.getF32Type()));
      }
    const std::string name = gradFunction.empty()
                                 ? (forward.getSymName() + "_grad").str()
                                 : gradFunction.getValue();
    if (forward->getParentOfType<ModuleOp>().lookupSymbol(name))
      return forward.emitError()
             << "graph-autodiff: a symbol @" << name << " exists already";
    auto fn = func::FuncOp::create(
        b, forward.getLoc(), name,
        b.getFunctionType(forward.getArgumentTypes(), results));
    for (unsigned a = 0; a < forward.getNumArguments(); ++a)
      fn.setArgAttrs(a, forward.getArgAttrDict(a));
    fn.setResultAttr(0, kOutputAttr, b.getStringAttr("loss"));
    for (auto [k, entry] : llvm::enumerate(kept))
      fn.setResultAttr(1 + k, kOutputAttr, b.getStringAttr(entry.first));
    for (auto [k, a] : llvm::enumerate(params))
      fn.setResultAttr(
          1 + kept.size() + k, kOutputAttr,
          b.getStringAttr(
              "grad." +
              forward.getArgAttrOfType<StringAttr>(a, kParamAttr).getValue()));

    IRMapping map;
    forward.getBody().cloneInto(&fn.getBody(), map);
    Block &body = fn.front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    Value lossValue = ret.getOperand(*lossIndex);
    SmallVector<Value> keptValues;
    for (auto &[n, i] : kept)
      keptValues.push_back(ret.getOperand(i));

    // Values that depend on a parameter: the only ones differentiated.
    llvm::DenseSet<Value> active;
    for (unsigned a : params)
      active.insert(body.getArgument(a));
    for (Operation &op : body.without_terminator())
      if (llvm::any_of(op.getOperands(),
                       [&](Value v) { return active.contains(v); }))
        for (Value r : op.getResults())
          if (isa<FloatType>(tensorType(r).getElementType()))
            active.insert(r);
    if (!active.contains(lossValue))
      return forward.emitError() << "graph-autodiff: the loss '" << loss
                                 << "' does not depend on any parameter";

    // Reverse sweep.
    b.setInsertionPoint(ret);
    llvm::DenseMap<Value, Value> grads;
    grads[lossValue] = splat(b, ret.getLoc(), lossType, 1.0);
    auto accumulate = [&](Value v, Value g, Location loc) {
      auto it = grads.find(v);
      if (it == grads.end()) {
        grads[v] = g;
        return;
      }
      Value prev = it->second;
      if (tensorType(prev).getElementType() != tensorType(g).getElementType()) {
        prev = castTo(b, loc, prev, b.getF32Type());
        g = castTo(b, loc, g, b.getF32Type());
      }
      it->second = AddOp::create(b, loc, prev, g);
    };
    SmallVector<Operation *> order;
    for (Operation &op : body.without_terminator())
      order.push_back(&op);
    for (Operation *op : llvm::reverse(order)) {
      // A split's gradient is the concatenation of its results' gradients
      // (zeros for results the loss does not reach).
      if (auto split = dyn_cast<SplitOp>(op)) {
        if (failed(splitVjp(b, split, grads, accumulate, active)))
          return failure();
        continue;
      }
      Value resultGrad;
      for (Value r : op->getResults())
        if (auto it = grads.find(r); it != grads.end()) {
          if (op->getNumResults() != 1)
            return op->emitOpError()
                   << "has " << op->getNumResults()
                   << " results; graph-autodiff differentiates single-result "
                      "ops";
          resultGrad = it->second;
        }
      if (!resultGrad)
        continue;
      auto vjp = dyn_cast<VjpOpInterface>(op);
      if (!vjp)
        return op->emitOpError()
               << "has no vector-Jacobian product (VjpOpInterface); "
                  "graph-autodiff cannot differentiate through it";
      SmallVector<Value> operandGrads;
      if (failed(vjp.buildVjp(b, resultGrad, operandGrads)))
        return failure();
      for (auto [operand, g] : llvm::zip(op->getOperands(), operandGrads))
        if (g && active.contains(operand))
          accumulate(operand, g, op->getLoc());
    }

    SmallVector<Value> returned = {lossValue};
    returned.append(keptValues);
    for (unsigned a : params) {
      Value arg = body.getArgument(a);
      auto t = tensorType(arg);
      auto it = grads.find(arg);
      returned.push_back(
          it == grads.end()
              ? splat(b, ret.getLoc(),
                      RankedTensorType::get(t.getShape(), b.getF32Type()), 0.0)
              : castTo(b, ret.getLoc(), it->second, b.getF32Type()));
    }
    func::ReturnOp::create(b, ret.getLoc(), returned);
    ret.erase();

    // Drop what the gradient function does not use: forward results that
    // were only returned, gradients of inactive operands.
    IRRewriter rewriter(fn.getContext());
    (void)runRegionDCE(rewriter, fn.getBody());
    return success();
  }
};
} // namespace
} // namespace mlir::infir2::graph
