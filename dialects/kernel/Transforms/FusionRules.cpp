//===- FusionRules.cpp - Which ops a generated kernel can compute ---------===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#include "dialects/kernel/Transforms/FusionRules.h"

#include "dialects/fp8/IR/Fp8Ops.h"
#include "dialects/graph/IR/GraphOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"

namespace mlir::infir2::kernel {
namespace {
RankedTensorType tensorType(Value v) {
  return dyn_cast<RankedTensorType>(v.getType());
}

/// f32 or bf16: the float storage generated kernels load and store.
bool isKernelFloat(Type t) { return t.isF32() || t.isBF16(); }

bool floatTensor(Value v) {
  auto t = tensorType(v);
  return t && isKernelFloat(t.getElementType());
}

bool indexTensor(Value v) {
  auto t = tensorType(v);
  return t &&
         (t.getElementType().isInteger(32) || t.getElementType().isInteger(64));
}

/// Every dimension but the first is static (the row length is a constant
/// of the generated code).
bool staticRows(Value v) {
  auto t = tensorType(v);
  if (!t)
    return false;
  for (int64_t d = 1; d < t.getRank(); ++d)
    if (t.isDynamicDim(d))
      return false;
  return true;
}

bool allFloatStatic(Operation *op) {
  for (Value v : op->getOperands())
    if (!floatTensor(v) || !staticRows(v))
      return false;
  for (Value v : op->getResults())
    if (!floatTensor(v) || !staticRows(v))
      return false;
  return true;
}

bool sameDim0(RankedTensorType a, RankedTensorType b) {
  return a.getRank() >= 1 && b.getRank() >= 1 &&
         a.getDimSize(0) == b.getDimSize(0);
}

OpClass classifyBroadcast(graph::BroadcastOp op) {
  auto x = tensorType(op.getInput()), r = tensorType(op.getResult());
  if (!isKernelFloat(x.getElementType()) || !staticRows(op.getResult()))
    return OpClass::kOther;
  ArrayRef<int64_t> dims = op.getDims();
  if (x.getRank() == 0)
    return OpClass::kView;
  // [d1..dn] along the rows of [R, d1..dn].
  if (x.getRank() == r.getRank() - 1 && x.hasStaticShape() &&
      x.getShape() == r.getShape().drop_front() &&
      llvm::equal(dims, llvm::seq<int64_t>(1, r.getRank())))
    return OpClass::kView;
  // [R] across the row of [R, ...].
  if (x.getRank() == 1 && dims.size() == 1 && dims[0] == 0 && sameDim0(x, r))
    return OpClass::kView;
  return OpClass::kOther;
}

OpClass classifyReduce(Operation *op, Value input, ArrayRef<int64_t> axes) {
  auto x = tensorType(input);
  if (!floatTensor(input) || !staticRows(input) || x.getRank() < 1)
    return OpClass::kOther;
  if (axes.size() == 1 && axes[0] == 0)
    return OpClass::kColumnReduction;
  if (x.getRank() >= 2 && llvm::equal(axes, llvm::seq<int64_t>(1, x.getRank())))
    return OpClass::kRowReduction;
  return OpClass::kOther;
}

OpClass classifyQuantize(fp8::QuantizeOp q) {
  auto x = tensorType(q.getInput());
  if (!x || x.getRank() != 2 || !floatTensor(q.getInput()) ||
      !staticRows(q.getInput()))
    return OpClass::kOther;
  fp8::LayoutAttr layout = q.getLayout();
  if (layout.isBlock2D())
    return q.getTransposedLayoutAttr() || !x.hasStaticShape()
               ? OpClass::kOther
               : OpClass::kQuantize;
  auto is1x128 = [](fp8::LayoutAttr l) {
    return l && l.getKind() == fp8::LayoutKind::Tile && l.getRows() == 1 &&
           l.getCols() == 128;
  };
  if (!is1x128(layout))
    return OpClass::kOther;
  if (q.getTransposedLayoutAttr() && !is1x128(q.getTransposedLayoutAttr()))
    return OpClass::kOther;
  return OpClass::kQuantize;
}
} // namespace

OpClass classify(Operation *op) {
  if (auto c = dyn_cast<arith::ConstantOp>(op)) {
    auto attr = dyn_cast<SplatElementsAttr>(c.getValue());
    auto t = tensorType(c.getResult());
    return attr && t && isKernelFloat(t.getElementType()) && t.hasStaticShape()
               ? OpClass::kView
               : OpClass::kOther;
  }
  if (auto r = dyn_cast<graph::ReshapeOp>(op)) {
    auto x = tensorType(r.getInput()), y = tensorType(r.getResult());
    return floatTensor(r.getInput()) && staticRows(r.getInput()) &&
                   staticRows(r.getResult()) && sameDim0(x, y)
               ? OpClass::kView
               : OpClass::kOther;
  }
  if (auto b = dyn_cast<graph::BroadcastOp>(op))
    return classifyBroadcast(b);
  // A split along the rows gives results with different row counts: each
  // is a contiguous part of the input, an alias rather than a kernel.
  if (auto sp = dyn_cast<graph::SplitOp>(op))
    return allFloatStatic(op) && sp.getAxis() >= 1 ? OpClass::kView
                                                   : OpClass::kOther;
  // Along the rows only when every input's row count is known.
  if (auto c = dyn_cast<graph::ConcatOp>(op)) {
    if (!allFloatStatic(op) || tensorType(op->getOperand(0)).getRank() < 1)
      return OpClass::kOther;
    if (c.getAxis() == 0)
      for (Value in : c.getInputs())
        if (tensorType(in).isDynamicDim(0))
          return OpClass::kOther;
    return OpClass::kView;
  }
  if (auto s = dyn_cast<graph::SliceOp>(op)) {
    auto x = tensorType(s.getInput());
    if (!allFloatStatic(op) || x.getRank() < 1)
      return OpClass::kOther;
    // A slice's bounds are static; so must be the rows it slices.
    return x.isDynamicDim(0) ? OpClass::kOther : OpClass::kView;
  }
  if (isa<graph::AddOp, graph::SubOp, graph::MulOp, graph::DivOp, graph::NegOp,
          graph::ExpOp, graph::LogOp, graph::RsqrtOp, graph::SiluOp,
          graph::SwigluOp, graph::SiluGradOp, graph::SwigluGradOp,
          graph::CastOp, graph::AdamwOp>(op))
    return allFloatStatic(op) ? OpClass::kElementwise : OpClass::kOther;
  if (isa<graph::RopeOp, graph::RopeGradOp>(op)) {
    Value x = op->getOperand(0), pos = op->getOperand(1);
    auto t = tensorType(x);
    return floatTensor(x) && staticRows(x) && t.getRank() == 3 &&
                   t.getDimSize(2) % 2 == 0 && indexTensor(pos) &&
                   tensorType(pos).getRank() == 1
               ? OpClass::kElementwise
               : OpClass::kOther;
  }
  if (auto d = dyn_cast<fp8::DequantizeOp>(op)) {
    auto t = tensorType(d.getData());
    fp8::LayoutAttr l = d.getLayout();
    return t && t.getRank() == 2 && staticRows(d.getData()) &&
                   floatTensor(d.getResult()) &&
                   isa<FloatType>(tensorType(d.getScales()).getElementType()) &&
                   tensorType(d.getScales()).getElementType().isF32() &&
                   l.getKind() == fp8::LayoutKind::Tile &&
                   (l.getRows() == 1 || l.getRows() == 128) &&
                   (l.getCols() == 1 || l.getCols() == 128)
               ? OpClass::kElementwise
               : OpClass::kOther;
  }
  if (isa<graph::RmsNormOp, graph::RmsNormGradOp>(op)) {
    auto t = tensorType(op->getOperand(0));
    return allFloatStatic(op) && t.getRank() == 2 ? OpClass::kRowReduction
                                                  : OpClass::kOther;
  }
  if (auto ce = dyn_cast<graph::CrossEntropyOp>(op))
    return staticRows(ce.getLogits()) &&
                   tensorType(ce.getLogits()).getRank() == 2
               ? OpClass::kRowReduction
               : OpClass::kOther;
  if (auto ce = dyn_cast<graph::CrossEntropyGradOp>(op))
    return staticRows(ce.getLogits()) &&
                   tensorType(ce.getLogits()).getRank() == 2
               ? OpClass::kRowReduction
               : OpClass::kOther;
  if (auto r = dyn_cast<graph::ReduceSumOp>(op))
    return classifyReduce(op, r.getInput(), r.getAxes());
  if (auto r = dyn_cast<graph::ReduceMaxOp>(op))
    return classifyReduce(op, r.getInput(), r.getAxes()) ==
                   OpClass::kRowReduction
               ? OpClass::kRowReduction
               : OpClass::kOther;
  if (auto r = dyn_cast<graph::ReduceMeanOp>(op))
    return classifyReduce(op, r.getInput(), r.getAxes());
  if (auto q = dyn_cast<fp8::QuantizeOp>(op))
    return classifyQuantize(q);
  return OpClass::kOther;
}

std::optional<int64_t> iterationRows(Operation *op) {
  Value walked;
  if (isa<arith::ConstantOp>(op))
    return std::nullopt;
  if (isa<fp8::QuantizeOp, graph::ReduceSumOp, graph::ReduceMaxOp,
          graph::ReduceMeanOp, graph::SplitOp>(op))
    walked = op->getOperand(0);
  else if (op->getNumResults() > 0)
    walked = op->getResult(0);
  auto t = walked ? tensorType(walked) : RankedTensorType();
  if (!t)
    return std::nullopt;
  if (t.getRank() == 0)
    return isa<graph::BroadcastOp>(op) ? std::nullopt
                                       : std::optional<int64_t>(1);
  return t.getDimSize(0);
}

StringRef shortName(Operation *op) {
  StringRef name = op->getName().getStringRef();
  return name.substr(name.find('.') + 1);
}
} // namespace mlir::infir2::kernel
