//===- GraphVjp.cpp - Vector-Jacobian products of the graph ops -----------===//
//
// Part of infir2.
//
// VjpOpInterface for every differentiable graph op: the gradient of each
// operand from the gradient of the result, as graph ops. Gradients of
// operands that are integers, masks or shape donors are null. Weights and
// tables get f32 gradients (the ops that produce them accumulate in f32);
// activations get gradients of their own type.
//
//===----------------------------------------------------------------------===//

#include "dialects/graph/IR/GraphOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace mlir::infir2::graph;

namespace {
constexpr int64_t kDyn = ShapedType::kDynamic;

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

bool isFloatTensor(Value v) {
  return isa<FloatType>(tensorType(v).getElementType());
}

/// |v| with element type |elem| (a cast when it differs).
Value castTo(OpBuilder &b, Location loc, Value v, Type elem) {
  if (tensorType(v).getElementType() == elem)
    return v;
  return CastOp::create(b, loc, v, elem);
}

/// A scalar constant broadcast to the shape of |like| (in its element type).
Value scalarLike(OpBuilder &b, Location loc, double value, Value like) {
  RankedTensorType t = tensorType(like);
  auto scalarType = RankedTensorType::get({}, t.getElementType());
  auto attr = DenseElementsAttr::get(
      scalarType, b.getFloatAttr(t.getElementType(), value).getValue());
  Value scalar = arith::ConstantOp::create(b, loc, scalarType, attr);
  return BroadcastOp::create(b, loc, scalar, ArrayRef<int64_t>{}, t, like);
}

/// |v| reshaped to 2-D [rows, last] (itself when it is 2-D already).
Value flatten2d(OpBuilder &b, Location loc, Value v) {
  RankedTensorType t = tensorType(v);
  if (t.getRank() == 2)
    return v;
  int64_t rows = 1;
  for (int64_t d : t.getShape().drop_back())
    rows = ShapedType::isDynamic(d) || ShapedType::isDynamic(rows) ? kDyn
                                                                   : rows * d;
  return ReshapeOp::create(b, loc, v,
                           ArrayRef<int64_t>{rows, t.getShape().back()});
}

/// Sets the operand gradients (one per operand, null for none).
void setGrads(SmallVectorImpl<Value> &grads, std::initializer_list<Value> g) {
  grads.assign(g.begin(), g.end());
}

/// The count of dynamic dimensions: reshape can infer only one.
int64_t dynamicDims(RankedTensorType t) {
  return llvm::count_if(t.getShape(),
                        [](int64_t d) { return ShapedType::isDynamic(d); });
}
} // namespace

//===----------------------------------------------------------------------===//
// Transformer ops
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::buildVjp(OpBuilder &b, Value dy,
                                    SmallVectorImpl<Value> &grads) {
  int64_t rows = tensorType(getTable()).getDimSize(0);
  if (ShapedType::isDynamic(rows))
    return emitOpError() << "the table's row count must be static to build "
                            "its gradient";
  setGrads(grads,
           {EmbeddingGradOp::create(b, getLoc(), dy, getIds(), rows), Value()});
  return success();
}

LogicalResult LinearOp::buildVjp(OpBuilder &b, Value dy,
                                 SmallVectorImpl<Value> &grads) {
  Location loc = getLoc();
  RankedTensorType x = tensorType(getInput());
  if (x.getRank() > 2 && dynamicDims(x) > 1)
    return emitOpError() << "input " << x
                         << " has more than one dynamic dimension; its "
                            "gradient cannot be reshaped back";
  Value x2 = flatten2d(b, loc, getInput()), dy2 = flatten2d(b, loc, dy);
  // dX = dY W, in the activations' type.
  MatmulOp dgrad = MatmulOp::create(b, loc, dy2, getWeight(), false, false,
                                    x.getElementType());
  Value dx = dgrad;
  if (x.getRank() != 2)
    dx = ReshapeOp::create(b, loc, dx, x.getShape());
  // dW = dY^T X and db = sum over rows of dY, in f32.
  Type f32 = b.getF32Type();
  MatmulOp wgrad = MatmulOp::create(b, loc, dy2, x2, true, false, f32);
  Value dw = wgrad;
  // An FP8 linear's gradient GEMMs are FP8 too: fp8-lower quantizes them
  // with the same recipe.
  if (fp8::RecipeAttr recipe = getFp8Attr()) {
    MLIRContext *ctx = getContext();
    dgrad.setFp8Attr(recipe);
    dgrad.setFp8GemmAttr(Fp8GemmAttr::get(ctx, Fp8Gemm::Dgrad));
    wgrad.setFp8Attr(recipe);
    wgrad.setFp8GemmAttr(Fp8GemmAttr::get(ctx, Fp8Gemm::Wgrad));
  }
  Value db;
  if (getBias())
    db = ReduceSumOp::create(b, loc, castTo(b, loc, dy2, f32),
                             ArrayRef<int64_t>{0});
  setGrads(grads, {dx, dw});
  if (getBias())
    grads.push_back(db);
  return success();
}

LogicalResult MatmulOp::buildVjp(OpBuilder &b, Value dc,
                                 SmallVectorImpl<Value> &grads) {
  Location loc = getLoc();
  Value a = getLhs(), bm = getRhs();
  const bool ta = getTransposeLhs(), tb = getTransposeRhs();
  Type elem = tensorType(a).getElementType();
  dc = castTo(b, loc, dc, elem);
  // With A' = op(A), B' = op(B) and C = A' B': dA' = dC B'^T, dB' = A'^T dC;
  // a transposed operand gets the transpose of its gradient.
  Value da = ta ? MatmulOp::create(b, loc, bm, dc, tb, true, elem)
                : MatmulOp::create(b, loc, dc, bm, false, !tb, elem);
  Value db = tb ? MatmulOp::create(b, loc, dc, a, true, ta, elem)
                : MatmulOp::create(b, loc, a, dc, !ta, false, elem);
  setGrads(grads, {da, db});
  return success();
}

LogicalResult RmsNormOp::buildVjp(OpBuilder &b, Value dy,
                                  SmallVectorImpl<Value> &grads) {
  auto op = RmsNormGradOp::create(b, getLoc(), dy, getInput(), getWeight(),
                                  getEpsilon().convertToDouble());
  setGrads(grads, {op.getInputGrad(), op.getWeightGrad()});
  return success();
}

LogicalResult RopeOp::buildVjp(OpBuilder &b, Value dy,
                               SmallVectorImpl<Value> &grads) {
  setGrads(grads, {RopeGradOp::create(b, getLoc(), dy, getPositions(),
                                      getTheta().convertToDouble(), getStyle()),
                   Value()});
  return success();
}

LogicalResult AttentionOp::buildVjp(OpBuilder &b, Value dy,
                                    SmallVectorImpl<Value> &grads) {
  auto op = AttentionGradOp::create(b, getLoc(), dy, getQuery(), getKey(),
                                    getValue(), getCuSeqlens(),
                                    getScale().convertToDouble(), getCausal());
  setGrads(grads,
           {op.getQueryGrad(), op.getKeyGrad(), op.getValueGrad(), Value()});
  return success();
}

LogicalResult CrossEntropyOp::buildVjp(OpBuilder &b, Value dy,
                                       SmallVectorImpl<Value> &grads) {
  Value dlogits =
      CrossEntropyGradOp::create(b, getLoc(), getLogits().getType(), dy,
                                 getLogits(), getLabels(), getLossMask());
  setGrads(grads, {dlogits, Value(), Value()});
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

LogicalResult SiluOp::buildVjp(OpBuilder &b, Value dy,
                               SmallVectorImpl<Value> &grads) {
  setGrads(grads, {SiluGradOp::create(b, getLoc(), dy, getInput())});
  return success();
}

LogicalResult SwigluOp::buildVjp(OpBuilder &b, Value dy,
                                 SmallVectorImpl<Value> &grads) {
  auto op = SwigluGradOp::create(b, getLoc(), getGate().getType(),
                                 getUp().getType(), dy, getGate(), getUp());
  setGrads(grads, {op.getGateGrad(), op.getUpGrad()});
  return success();
}

LogicalResult AddOp::buildVjp(OpBuilder &b, Value dy,
                              SmallVectorImpl<Value> &grads) {
  if (!isFloatTensor(dy))
    return setGrads(grads, {Value(), Value()}), success();
  setGrads(grads, {dy, dy});
  return success();
}

LogicalResult SubOp::buildVjp(OpBuilder &b, Value dy,
                              SmallVectorImpl<Value> &grads) {
  if (!isFloatTensor(dy))
    return setGrads(grads, {Value(), Value()}), success();
  setGrads(grads, {dy, NegOp::create(b, getLoc(), dy)});
  return success();
}

LogicalResult MulOp::buildVjp(OpBuilder &b, Value dy,
                              SmallVectorImpl<Value> &grads) {
  if (!isFloatTensor(dy))
    return setGrads(grads, {Value(), Value()}), success();
  setGrads(grads, {MulOp::create(b, getLoc(), dy, getRhs()),
                   MulOp::create(b, getLoc(), dy, getLhs())});
  return success();
}

LogicalResult DivOp::buildVjp(OpBuilder &b, Value dy,
                              SmallVectorImpl<Value> &grads) {
  if (!isFloatTensor(dy))
    return setGrads(grads, {Value(), Value()}), success();
  Location loc = getLoc();
  // d(l / r) = dl / r - (l / r) dr / r.
  Value dl = DivOp::create(b, loc, dy, getRhs());
  Value dr = NegOp::create(
      b, loc,
      DivOp::create(b, loc, MulOp::create(b, loc, dy, getResult()), getRhs()));
  setGrads(grads, {dl, dr});
  return success();
}

LogicalResult NegOp::buildVjp(OpBuilder &b, Value dy,
                              SmallVectorImpl<Value> &grads) {
  setGrads(grads, {isFloatTensor(dy) ? Value(NegOp::create(b, getLoc(), dy))
                                     : Value()});
  return success();
}

LogicalResult ExpOp::buildVjp(OpBuilder &b, Value dy,
                              SmallVectorImpl<Value> &grads) {
  setGrads(grads, {MulOp::create(b, getLoc(), dy, getResult())});
  return success();
}

LogicalResult LogOp::buildVjp(OpBuilder &b, Value dy,
                              SmallVectorImpl<Value> &grads) {
  setGrads(grads, {DivOp::create(b, getLoc(), dy, getInput())});
  return success();
}

LogicalResult RsqrtOp::buildVjp(OpBuilder &b, Value dy,
                                SmallVectorImpl<Value> &grads) {
  // d(x^-1/2) = -1/2 x^-3/2 = -1/2 r^3.
  Location loc = getLoc();
  Value r = getResult();
  Value r3 = MulOp::create(b, loc, MulOp::create(b, loc, r, r), r);
  Value half = scalarLike(b, loc, -0.5, dy);
  setGrads(grads, {MulOp::create(b, loc, MulOp::create(b, loc, dy, r3), half)});
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

/// The gradient of a reduction over |axes| spread back over |input|.
static Value spreadBack(OpBuilder &b, Location loc, Value dy, Value input,
                        ArrayRef<int64_t> axes, bool keepDims) {
  RankedTensorType x = tensorType(input);
  SmallVector<int64_t> dims;
  for (int64_t d = 0; d < x.getRank(); ++d)
    if (keepDims || !llvm::is_contained(axes, d))
      dims.push_back(d);
  return BroadcastOp::create(
      b, loc, dy, dims,
      RankedTensorType::get(x.getShape(), tensorType(dy).getElementType()),
      input);
}

LogicalResult ReduceSumOp::buildVjp(OpBuilder &b, Value dy,
                                    SmallVectorImpl<Value> &grads) {
  if (!isFloatTensor(dy))
    return setGrads(grads, {Value()}), success();
  setGrads(grads,
           {spreadBack(b, getLoc(), dy, getInput(), getAxes(), getKeepDims())});
  return success();
}

LogicalResult ReduceMeanOp::buildVjp(OpBuilder &b, Value dy,
                                     SmallVectorImpl<Value> &grads) {
  RankedTensorType x = tensorType(getInput());
  int64_t count = 1;
  for (int64_t a : getAxes()) {
    if (ShapedType::isDynamic(x.getDimSize(a)))
      return emitOpError() << "reduces a dynamic dimension; its gradient "
                              "needs the static element count";
    count *= x.getDimSize(a);
  }
  Location loc = getLoc();
  Value spread = spreadBack(b, loc, dy, getInput(), getAxes(), getKeepDims());
  setGrads(grads, {DivOp::create(
                      b, loc, spread,
                      scalarLike(b, loc, static_cast<double>(count), spread))});
  return success();
}

//===----------------------------------------------------------------------===//
// Type and shape ops
//===----------------------------------------------------------------------===//

LogicalResult CastOp::buildVjp(OpBuilder &b, Value dy,
                               SmallVectorImpl<Value> &grads) {
  Type in = tensorType(getInput()).getElementType();
  if (!isa<FloatType>(in) || !isFloatTensor(dy))
    return setGrads(grads, {Value()}), success();
  setGrads(grads, {CastOp::create(b, getLoc(), dy, in)});
  return success();
}

LogicalResult ReshapeOp::buildVjp(OpBuilder &b, Value dy,
                                  SmallVectorImpl<Value> &grads) {
  RankedTensorType x = tensorType(getInput());
  if (dynamicDims(x) > 1)
    return emitOpError() << "input " << x
                         << " has more than one dynamic dimension; its "
                            "gradient cannot be reshaped back";
  setGrads(grads, {ReshapeOp::create(b, getLoc(), dy, x.getShape())});
  return success();
}

LogicalResult TransposeOp::buildVjp(OpBuilder &b, Value dy,
                                    SmallVectorImpl<Value> &grads) {
  ArrayRef<int64_t> perm = getPermutation();
  SmallVector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    inverse[perm[i]] = static_cast<int64_t>(i);
  setGrads(grads, {TransposeOp::create(b, getLoc(), dy, inverse)});
  return success();
}

LogicalResult BroadcastOp::buildVjp(OpBuilder &b, Value dy,
                                    SmallVectorImpl<Value> &grads) {
  RankedTensorType x = tensorType(getInput()), r = tensorType(getResult());
  ArrayRef<int64_t> dims = getDims();
  // Sum over the new dimensions and over the repeated size-1 ones.
  SmallVector<int64_t> axes;
  for (int64_t d = 0; d < r.getRank(); ++d) {
    auto it = llvm::find(dims, d);
    if (it == dims.end()) {
      axes.push_back(d);
      continue;
    }
    int64_t in = x.getDimSize(it - dims.begin());
    if (in == 1 && r.getDimSize(d) != 1)
      axes.push_back(d);
  }
  Value g = dy;
  if (!axes.empty())
    g = ReduceSumOp::create(b, getLoc(), dy, axes, /*keepDims=*/true);
  if (tensorType(g).getShape() != x.getShape()) {
    if (dynamicDims(x) > 1)
      return emitOpError() << "input " << x
                           << " has more than one dynamic dimension; its "
                              "gradient cannot be reshaped back";
    g = ReshapeOp::create(b, getLoc(), g, x.getShape());
  }
  setGrads(grads, {g});
  if (getLike())
    grads.push_back(Value());
  return success();
}

LogicalResult ConcatOp::buildVjp(OpBuilder &b, Value dy,
                                 SmallVectorImpl<Value> &grads) {
  // The gradient is dy split back into the inputs' parts along the axis.
  const int64_t axis = getAxis();
  SmallVector<int64_t> sizes;
  for (Value in : getInputs()) {
    int64_t size = tensorType(in).getDimSize(axis);
    if (ShapedType::isDynamic(size))
      return emitOpError() << "input " << in.getType()
                           << " has a dynamic size along the concatenation "
                              "axis; its gradient needs static split sizes";
    sizes.push_back(size);
  }
  grads.clear();
  if (sizes.size() == 1) {
    grads.push_back(dy);
    return success();
  }
  auto split = SplitOp::create(b, getLoc(), dy, axis, sizes);
  for (Value part : split.getResults())
    grads.push_back(part);
  return success();
}
