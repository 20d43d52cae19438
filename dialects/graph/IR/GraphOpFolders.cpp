//===- GraphOpFolders.cpp - graph folders ---------------------------------===//
//
// Part of infir2.
//
// Folders only forward existing values (or rewrite an op in place); none
// creates constants, so the dialect needs no constant materializer.
//
// Folds are exact for every input, signed zeros and NaNs included: x + 0.0
// is not folded (-0.0 + 0.0 is +0.0), x + (-0.0) is.
//
//===----------------------------------------------------------------------===//

#include "dialects/graph/IR/GraphOps.h"

#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::infir2::graph;

/// True if |v| is a splat additive identity: -0.0 for floats, 0 for
/// integers (x + (-0.0) == x for every float x; x + 0.0 is not for -0.0).
static bool isAddIdentity(Value v) {
  return matchPattern(v, m_NegZeroFloat()) || matchPattern(v, m_Zero());
}

/// True if |v| is a splat subtractive identity: +0.0 for floats, 0 for
/// integers.
static bool isSubIdentity(Value v) {
  return matchPattern(v, m_PosZeroFloat()) || matchPattern(v, m_Zero());
}

/// True if |v| is a splat constant equal to 1.
static bool isOneConstant(Value v) {
  return matchPattern(v, m_OneFloat()) || matchPattern(v, m_One());
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

OpFoldResult AddOp::fold(FoldAdaptor) {
  if (isAddIdentity(getRhs()))
    return getLhs();
  if (isAddIdentity(getLhs()))
    return getRhs();
  return {};
}

OpFoldResult SubOp::fold(FoldAdaptor) {
  if (isSubIdentity(getRhs()))
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
  // With `like`, a dynamic dimension may repeat a size-1 input; without it,
  // the verifier makes equal types mean equal sizes.
  if (!getLike() && getInput().getType() == getType() &&
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
