//===- GraphOpFolders.cpp - graph folders ---------------------------------===//
//
// Part of infir2.
//
// Folders only forward existing values (or rewrite an op in place); none
// creates constants, so the dialect needs no constant materializer.
//
// Note: x + 0 -> x also for a +0.0 constant, which turns x = -0.0 into -0.0
// instead of +0.0; like XLA and fast-math compilers, the graph dialect does
// not distinguish signed zeros in folds.
//
//===----------------------------------------------------------------------===//

#include "dialects/graph/IR/GraphOps.h"

#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::infir2::graph;

/// True if |v| is a splat constant equal to 0 (floats: either sign).
static bool isZeroConstant(Value v) {
  return matchPattern(v, m_AnyZeroFloat()) || matchPattern(v, m_Zero());
}

/// True if |v| is a splat constant equal to 1.
static bool isOneConstant(Value v) {
  return matchPattern(v, m_OneFloat()) || matchPattern(v, m_One());
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

OpFoldResult AddOp::fold(FoldAdaptor) {
  if (isZeroConstant(getRhs()))
    return getLhs();
  if (isZeroConstant(getLhs()))
    return getRhs();
  return {};
}

OpFoldResult SubOp::fold(FoldAdaptor) {
  if (isZeroConstant(getRhs()))
    return getLhs();
  return {};
}

OpFoldResult MulOp::fold(FoldAdaptor) {
  if (isOneConstant(getRhs()))
    return getLhs();
  if (isOneConstant(getLhs()))
    return getRhs();
  return {};
}

OpFoldResult DivOp::fold(FoldAdaptor) {
  if (isOneConstant(getRhs()))
    return getLhs();
  return {};
}

OpFoldResult NegOp::fold(FoldAdaptor) {
  if (auto inner = getInput().getDefiningOp<NegOp>())
    return inner.getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// Type and shape ops
//===----------------------------------------------------------------------===//

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // reshape(reshape(x)) -> reshape(x): the element order is row-major in
  // both, so only the last shape matters.
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    if (inner.getInput().getType() == getType())
      return inner.getInput();
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  ArrayRef<int64_t> perm = getPermutation();
  bool identity = llvm::equal(perm, llvm::seq<int64_t>(0, perm.size()));
  if (identity && getInput().getType() == getType())
    return getInput();
  // transpose(transpose(x, p1), p2) -> transpose(x, p1[p2]).
  if (auto inner = getInput().getDefiningOp<TransposeOp>()) {
    ArrayRef<int64_t> innerPerm = inner.getPermutation();
    SmallVector<int64_t> composed;
    for (int64_t p : perm)
      composed.push_back(innerPerm[p]);
    if (llvm::equal(composed, llvm::seq<int64_t>(0, composed.size())) &&
        inner.getInput().getType() == getType())
      return inner.getInput();
    getInputMutable().assign(inner.getInput());
    setPermutation(composed);
    return getResult();
  }
  return {};
}

OpFoldResult BroadcastOp::fold(FoldAdaptor) {
  ArrayRef<int64_t> dims = getDims();
  if (getInput().getType() == getType() &&
      llvm::equal(dims, llvm::seq<int64_t>(0, dims.size())))
    return getInput();
  return {};
}

OpFoldResult SliceOp::fold(FoldAdaptor) {
  auto type = cast<RankedTensorType>(getInput().getType());
  if (type != getType() || !type.hasStaticShape())
    return {};
  for (auto [start, limit, stride, size] :
       llvm::zip(getStart(), getLimit(), getStride(), type.getShape()))
    if (start != 0 || limit != size || stride != 1)
      return {};
  return getInput();
}

OpFoldResult ConcatOp::fold(FoldAdaptor) {
  if (getInputs().size() == 1 && getInputs().front().getType() == getType())
    return getInputs().front();
  return {};
}
