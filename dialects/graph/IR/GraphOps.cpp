//===- GraphOps.cpp - graph operations: builders and verifiers ------------===//
//
// Part of infir2.
//
// Builders infer result types without checking; verifiers check every rule
// and quote the shapes involved. Dynamic dimensions ("?") satisfy any rule
// they take part in.
//
//===----------------------------------------------------------------------===//

#include "dialects/graph/IR/GraphOps.h"

#include "dialects/common/ShapeUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/Support/InterleavedRange.h"

#include <cstdio>
#include <tuple>

using namespace mlir;
using namespace mlir::infir2;
using namespace mlir::infir2::graph;

static constexpr int64_t kDyn = ShapedType::kDynamic;

static RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// Checks that |actual| (the op's result) has |shape| and |elementType|.
static LogicalResult verifyResult(Operation *op, RankedTensorType actual,
                                  ArrayRef<int64_t> shape, Type elementType,
                                  StringRef why) {
  if (actual.getElementType() != elementType)
    return op->emitOpError()
           << "result element type " << actual.getElementType() << " must be "
           << elementType << " (" << why << ")";
  if (!shapesCompatible(actual.getShape(), shape))
    return op->emitOpError()
           << "result shape " << formatShape(actual.getShape())
           << " does not match the expected " << formatShape(shape) << " ("
           << why << ")";
  return success();
}

static bool isNarrowFloat(Type type) {
  auto f = dyn_cast<FloatType>(type);
  return f && f.getWidth() <= 8;
}

/// A double as diagnostics quote it: "-0.125", "1e-06".
static std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

/// Positive and finite, for scales, thetas and epsilons.
static bool isPositiveFinite(double v) { return v > 0 && std::isfinite(v); }

//===----------------------------------------------------------------------===//
// EmbeddingOp
//===----------------------------------------------------------------------===//

void EmbeddingOp::build(OpBuilder &builder, OperationState &state, Value table,
                        Value ids) {
  RankedTensorType t = tensorType(table);
  SmallVector<int64_t> shape(tensorType(ids).getShape());
  shape.push_back(t.getRank() == 2 ? t.getDimSize(1) : kDyn);
  build(builder, state, RankedTensorType::get(shape, t.getElementType()), table,
        ids);
}

LogicalResult EmbeddingOp::verify() {
  RankedTensorType table = tensorType(getTable());
  if (table.getRank() != 2)
    return emitOpError() << "table must be rank 2 ([vocab, hidden]), got rank "
                         << table.getRank();
  SmallVector<int64_t> shape(tensorType(getIds()).getShape());
  shape.push_back(table.getDimSize(1));
  return verifyResult(*this, tensorType(getResult()), shape,
                      table.getElementType(),
                      "the ids' shape followed by the table's hidden size, "
                      "with the table's element type");
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

void LinearOp::build(OpBuilder &builder, OperationState &state, Value input,
                     Value weight, Value bias, fp8::RecipeAttr fp8) {
  RankedTensorType x = tensorType(input), w = tensorType(weight);
  SmallVector<int64_t> shape(x.getShape());
  int64_t n = w.getRank() == 2 ? w.getDimSize(0) : kDyn;
  if (shape.empty())
    shape.push_back(n);
  else
    shape.back() = n;
  build(builder, state, RankedTensorType::get(shape, x.getElementType()), input,
        weight, bias, fp8);
}

LogicalResult LinearOp::verify() {
  RankedTensorType x = tensorType(getInput()), w = tensorType(getWeight());
  if (x.getRank() < 1)
    return emitOpError() << "input must have rank >= 1 ([..., in_features])";
  if (w.getRank() != 2)
    return emitOpError() << "weight must be rank 2 ([out_features, "
                            "in_features]), got rank "
                         << w.getRank();
  if (w.getElementType() != x.getElementType())
    return emitOpError() << "weight element type " << w.getElementType()
                         << " differs from input element type "
                         << x.getElementType();
  int64_t k = x.getShape().back();
  if (!dimsCompatible(k, w.getDimSize(1)))
    return emitOpError() << "input has " << k
                         << " features (last dimension) but weight "
                         << formatShape(w.getShape()) << " takes "
                         << w.getDimSize(1)
                         << " (weight is [out_features, in_features])";
  int64_t n = w.getDimSize(0);
  if (Value bias = getBias()) {
    RankedTensorType b = tensorType(bias);
    if (b.getRank() != 1 || !joinDim(n, b.getDimSize(0), n))
      return emitOpError() << "bias shape " << formatShape(b.getShape())
                           << " must be [out_features] = [" << n << "]";
    if (b.getElementType() != x.getElementType())
      return emitOpError() << "bias element type " << b.getElementType()
                           << " differs from input element type "
                           << x.getElementType();
  }
  SmallVector<int64_t> shape(x.getShape());
  shape.back() = n;
  return verifyResult(*this, tensorType(getResult()), shape, x.getElementType(),
                      "the input's shape with out_features last");
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

/// [M, K] and [K, N] of a (possibly transposed) matmul operand pair.
static std::pair<int64_t, int64_t> rowsCols(ArrayRef<int64_t> shape,
                                            bool transposed) {
  int64_t r = shape[shape.size() - 2], c = shape.back();
  return transposed ? std::make_pair(c, r) : std::make_pair(r, c);
}

void MatmulOp::build(OpBuilder &builder, OperationState &state, Value lhs,
                     Value rhs, bool transposeLhs, bool transposeRhs,
                     Type resultElementType) {
  RankedTensorType a = tensorType(lhs), b = tensorType(rhs);
  if (!resultElementType)
    resultElementType = a.getElementType();
  SmallVector<int64_t> shape;
  if (a.getRank() >= 2 && b.getRank() >= 2) {
    shape.assign(a.getShape().begin(), a.getShape().end() - 2);
    shape.push_back(rowsCols(a.getShape(), transposeLhs).first);
    shape.push_back(rowsCols(b.getShape(), transposeRhs).second);
  } else {
    shape = {kDyn, kDyn};
  }
  build(builder, state, RankedTensorType::get(shape, resultElementType), lhs,
        rhs, transposeLhs, transposeRhs, fp8::RecipeAttr(), Fp8GemmAttr());
}

LogicalResult MatmulOp::verify() {
  RankedTensorType a = tensorType(getLhs()), b = tensorType(getRhs());
  if (a.getRank() < 2 || a.getRank() != b.getRank())
    return emitOpError() << "operands must have one rank >= 2, got ranks "
                         << a.getRank() << " and " << b.getRank();
  if (a.getElementType() != b.getElementType())
    return emitOpError() << "operand element types differ: "
                         << a.getElementType() << " and " << b.getElementType();
  ArrayRef<int64_t> batchA = a.getShape().drop_back(2);
  ArrayRef<int64_t> batchB = b.getShape().drop_back(2);
  SmallVector<int64_t> batch(batchA);
  if (!joinShape(batch, batchB))
    return emitOpError() << "batch dimensions differ: " << formatShape(batchA)
                         << " and " << formatShape(batchB);
  auto [m, ka] = rowsCols(a.getShape(), getTransposeLhs());
  auto [kb, n] = rowsCols(b.getShape(), getTransposeRhs());
  if (!dimsCompatible(ka, kb))
    return emitOpError() << "contraction sizes differ: lhs "
                         << formatShape(a.getShape())
                         << (getTransposeLhs() ? " (transposed)" : "")
                         << " has K = " << ka << ", rhs "
                         << formatShape(b.getShape())
                         << (getTransposeRhs() ? " (transposed)" : "")
                         << " has K = " << kb;
  RankedTensorType result = tensorType(getResult());
  Type elem = result.getElementType();
  if (elem != a.getElementType() && !elem.isF32())
    return emitOpError() << "result element type " << elem
                         << " must be the operands' (" << a.getElementType()
                         << ") or f32";
  if (getFp8().has_value() != getFp8Gemm().has_value())
    return emitOpError() << "fp8 and fp8_gemm go together (an FP8 linear's "
                            "gradient GEMM has both)";
  if (getFp8Gemm()) {
    if (a.getRank() != 2)
      return emitOpError() << "an fp8 gradient GEMM has rank-2 operands, got "
                           << a;
    const bool dgrad = *getFp8Gemm() == Fp8Gemm::Dgrad;
    // dgrad: dy [P, N] * W [N, K]; wgrad: dy^T [N, P] * x [P, K].
    if (!elem.isBF16() && !elem.isF32())
      return emitOpError() << "an fp8 gradient GEMM produces bf16 or f32, not "
                           << elem;
    if (getTransposeRhs() || getTransposeLhs() == dgrad)
      return emitOpError() << "a " << stringifyFp8Gemm(*getFp8Gemm())
                           << " GEMM reads "
                           << (dgrad ? "dy * W (no transposes)"
                                     : "dy^T * x (transpose_lhs only)");
  }
  SmallVector<int64_t> shape(batch);
  shape.push_back(m);
  shape.push_back(n);
  return verifyResult(*this, result, shape, elem, "batch dims, then M, N");
}

//===----------------------------------------------------------------------===//
// RmsNormOp
//===----------------------------------------------------------------------===//

void RmsNormOp::build(OpBuilder &builder, OperationState &state, Value input,
                      Value weight, double epsilon) {
  build(builder, state, input.getType(), input, weight,
        builder.getF64FloatAttr(epsilon));
}

/// The operand rules rms_norm and rms_norm_grad share; |hidden| is the
/// normalized size.
static LogicalResult verifyRmsNormOperands(Operation *op, RankedTensorType x,
                                           RankedTensorType w, APFloat epsilon,
                                           int64_t &hidden) {
  if (x.getRank() < 1)
    return op->emitOpError() << "input must have rank >= 1";
  if (w.getRank() != 1 ||
      !joinDim(x.getShape().back(), w.getDimSize(0), hidden))
    return op->emitOpError()
           << "weight shape " << formatShape(w.getShape()) << " must be ["
           << x.getShape().back() << "], the input's last dimension";
  if (w.getElementType() != x.getElementType())
    return op->emitOpError()
           << "weight element type " << w.getElementType()
           << " differs from input element type " << x.getElementType();
  double eps = epsilon.convertToDouble();
  if (!(eps >= 0) || !std::isfinite(eps))
    return op->emitOpError()
           << "epsilon " << fmt(eps) << " must be finite and non-negative";
  return success();
}

LogicalResult RmsNormOp::verify() {
  RankedTensorType x = tensorType(getInput()), w = tensorType(getWeight());
  int64_t hidden;
  if (failed(verifyRmsNormOperands(*this, x, w, getEpsilon(), hidden)))
    return failure();
  SmallVector<int64_t> shape(x.getShape());
  shape.back() = hidden;
  return verifyResult(*this, tensorType(getResult()), shape, x.getElementType(),
                      "the input's type");
}

//===----------------------------------------------------------------------===//
// RopeOp
//===----------------------------------------------------------------------===//

void RopeOp::build(OpBuilder &builder, OperationState &state, Value input,
                   Value positions, double theta, RopeStyle style) {
  build(builder, state, input.getType(), input, positions,
        builder.getF64FloatAttr(theta),
        RopeStyleAttr::get(builder.getContext(), style));
}

/// The operand rules rope and rope_grad share for |x| (named |name|).
static LogicalResult verifyRopeOperands(Operation *op, RankedTensorType x,
                                        StringRef name, RankedTensorType p,
                                        APFloat theta, int64_t &tokens) {
  if (x.getRank() != 3)
    return op->emitOpError()
           << name << " must be rank 3 ([tokens, heads, head_dim]), got rank "
           << x.getRank();
  int64_t d = x.getDimSize(2);
  if (!ShapedType::isDynamic(d) && d % 2 != 0)
    return op->emitOpError()
           << "head_dim " << d << " must be even (rotary pairs)";
  if (p.getRank() != 1 || !joinDim(x.getDimSize(0), p.getDimSize(0), tokens))
    return op->emitOpError()
           << "positions shape " << formatShape(p.getShape()) << " must be ["
           << formatShape(x.getDimSize(0)) << "], one position per token";
  if (!isPositiveFinite(theta.convertToDouble()))
    return op->emitOpError() << "theta " << fmt(theta.convertToDouble())
                             << " must be positive and finite";
  return success();
}

LogicalResult RopeOp::verify() {
  RankedTensorType x = tensorType(getInput()), p = tensorType(getPositions());
  int64_t tokens;
  if (failed(verifyRopeOperands(*this, x, "input", p, getTheta(), tokens)))
    return failure();
  SmallVector<int64_t> shape(x.getShape());
  shape[0] = tokens;
  return verifyResult(*this, tensorType(getResult()), shape, x.getElementType(),
                      "the input's type");
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

void AttentionOp::build(OpBuilder &builder, OperationState &state, Value query,
                        Value key, Value value, Value cuSeqlens, double scale,
                        bool causal) {
  build(builder, state, query.getType(), query, key, value, cuSeqlens,
        builder.getF64FloatAttr(scale),
        causal ? builder.getUnitAttr() : UnitAttr());
}

/// The operand rules attention and attention_grad share: the heads layout,
/// grouped-query heads, cu_seqlens and the scale.
static LogicalResult
verifyAttentionOperands(Operation *op, RankedTensorType q, RankedTensorType k,
                        RankedTensorType v, RankedTensorType cuSeqlens,
                        APFloat scaleAttr, int64_t &tokens, int64_t &headDim) {
  for (auto [name, t] : {std::make_pair("query", q), std::make_pair("key", k),
                         std::make_pair("value", v)})
    if (t.getRank() != 3)
      return op->emitOpError()
             << name << " must be rank 3 ([tokens, heads, head_dim]), got rank "
             << t.getRank();
  if (k.getElementType() != q.getElementType() ||
      v.getElementType() != q.getElementType())
    return op->emitOpError() << "query, key and value element types differ: "
                             << q.getElementType() << ", " << k.getElementType()
                             << ", " << v.getElementType();
  SmallVector<int64_t> kv(k.getShape());
  if (!joinShape(kv, v.getShape()))
    return op->emitOpError()
           << "key shape " << formatShape(k.getShape())
           << " differs from value shape " << formatShape(v.getShape());
  if (!joinDim(q.getDimSize(0), kv[0], tokens))
    return op->emitOpError()
           << "query has " << q.getDimSize(0) << " tokens but key/value have "
           << kv[0] << "; packed self-attention needs the same tokens";
  if (!joinDim(q.getDimSize(2), kv[2], headDim))
    return op->emitOpError() << "query head_dim " << q.getDimSize(2)
                             << " differs from key/value head_dim " << kv[2];
  int64_t hq = q.getDimSize(1), hkv = kv[1];
  if (!ShapedType::isDynamic(hq) && !ShapedType::isDynamic(hkv) &&
      (hkv == 0 || hq % hkv != 0))
    return op->emitOpError()
           << "query heads " << hq << " are not a multiple of key/value heads "
           << hkv << " (grouped-query attention)";
  int64_t segments = cuSeqlens.getDimSize(0);
  if (!ShapedType::isDynamic(segments) && segments < 2)
    return op->emitOpError() << "cu_seqlens has " << segments
                             << " entries; it needs S + 1 >= 2 (one offset "
                                "per sequence plus the total)";
  double scale = scaleAttr.convertToDouble();
  if (!isPositiveFinite(scale))
    return op->emitOpError()
           << "scale " << fmt(scale) << " must be positive and finite";
  return success();
}

LogicalResult AttentionOp::verify() {
  RankedTensorType q = tensorType(getQuery());
  int64_t tokens, headDim;
  if (failed(verifyAttentionOperands(
          *this, q, tensorType(getKey()), tensorType(getValue()),
          tensorType(getCuSeqlens()), getScale(), tokens, headDim)))
    return failure();
  int64_t hq = q.getDimSize(1);
  return verifyResult(*this, tensorType(getResult()), {tokens, hq, headDim},
                      q.getElementType(), "the query's type");
}

//===----------------------------------------------------------------------===//
// CrossEntropyOp
//===----------------------------------------------------------------------===//

void CrossEntropyOp::build(OpBuilder &builder, OperationState &state,
                           Value logits, Value labels, Value lossMask) {
  RankedTensorType l = tensorType(logits);
  int64_t t = l.getRank() >= 1 ? l.getDimSize(0) : kDyn;
  build(builder, state, RankedTensorType::get({t}, builder.getF32Type()),
        logits, labels, lossMask);
}

LogicalResult CrossEntropyOp::verify() {
  RankedTensorType logits = tensorType(getLogits());
  if (logits.getRank() != 2)
    return emitOpError() << "logits must be rank 2 ([tokens, vocab]), got "
                            "rank "
                         << logits.getRank();
  int64_t t = logits.getDimSize(0);
  for (auto [name, v] : {std::make_pair("labels", getLabels()),
                         std::make_pair("loss_mask", getLossMask())}) {
    RankedTensorType type = tensorType(v);
    if (type.getRank() != 1 || !joinDim(t, type.getDimSize(0), t))
      return emitOpError() << name << " shape " << formatShape(type.getShape())
                           << " must be [" << formatShape(t)
                           << "], one per token";
  }
  return verifyResult(*this, tensorType(getResult()), {t},
                      Float32Type::get(getContext()), "one f32 loss per token");
}

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

/// Operands of an elementwise op must agree with each other, not only with
/// the result (which SameOperandsAndResultType checks).
static LogicalResult verifyOperandsAgree(Operation *op) {
  auto first = cast<RankedTensorType>(op->getOperand(0).getType());
  SmallVector<int64_t> shape(first.getShape());
  for (Value v : op->getOperands().drop_front()) {
    ArrayRef<int64_t> other = tensorType(v).getShape();
    if (!joinShape(shape, other))
      return op->emitOpError()
             << "operand shapes " << formatShape(first.getShape()) << " and "
             << formatShape(other)
             << " conflict; elementwise operands have one shape";
  }
  return success();
}

#define GRAPH_ELEMENTWISE_VERIFIER(OpTy)                                       \
  LogicalResult OpTy::verify() { return verifyOperandsAgree(*this); }
GRAPH_ELEMENTWISE_VERIFIER(AddOp)
GRAPH_ELEMENTWISE_VERIFIER(SubOp)
GRAPH_ELEMENTWISE_VERIFIER(MulOp)
GRAPH_ELEMENTWISE_VERIFIER(DivOp)
GRAPH_ELEMENTWISE_VERIFIER(SwigluOp)
#undef GRAPH_ELEMENTWISE_VERIFIER

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

static SmallVector<int64_t>
reducedShape(ArrayRef<int64_t> shape, ArrayRef<int64_t> axes, bool keepDims) {
  SmallVector<int64_t> out;
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (!llvm::is_contained(axes, static_cast<int64_t>(i)))
      out.push_back(d);
    else if (keepDims)
      out.push_back(1);
  }
  return out;
}

template <typename OpTy>
static void buildReduce(OpBuilder &builder, OperationState &state, Value input,
                        ArrayRef<int64_t> axes, bool keepDims) {
  RankedTensorType x = tensorType(input);
  OpTy::build(builder, state,
              RankedTensorType::get(reducedShape(x.getShape(), axes, keepDims),
                                    x.getElementType()),
              input, builder.getDenseI64ArrayAttr(axes), keepDims);
}

template <typename OpTy>
static LogicalResult verifyReduce(OpTy op) {
  RankedTensorType x = tensorType(op.getInput());
  ArrayRef<int64_t> axes = op.getAxes();
  for (auto [i, axis] : llvm::enumerate(axes)) {
    if (axis < 0 || axis >= x.getRank())
      return op.emitOpError()
             << "axis " << axis << " is out of range for rank " << x.getRank();
    if (i > 0 && axis <= axes[i - 1])
      return op.emitOpError() << "axes must be strictly increasing, got "
                              << axes[i - 1] << " then " << axis;
  }
  return verifyResult(op, tensorType(op.getResult()),
                      reducedShape(x.getShape(), axes, op.getKeepDims()),
                      x.getElementType(),
                      op.getKeepDims() ? "reduced axes kept as size 1"
                                       : "reduced axes removed");
}

#define GRAPH_REDUCE_OP(OpTy)                                                  \
  void OpTy::build(OpBuilder &builder, OperationState &state, Value input,     \
                   ArrayRef<int64_t> axes, bool keepDims) {                    \
    buildReduce<OpTy>(builder, state, input, axes, keepDims);                  \
  }                                                                            \
  LogicalResult OpTy::verify() { return verifyReduce(*this); }
GRAPH_REDUCE_OP(ReduceSumOp)
GRAPH_REDUCE_OP(ReduceMaxOp)
GRAPH_REDUCE_OP(ReduceMeanOp)
#undef GRAPH_REDUCE_OP

//===----------------------------------------------------------------------===//
// CastOp
//===----------------------------------------------------------------------===//

void CastOp::build(OpBuilder &builder, OperationState &state, Value input,
                   Type elementType) {
  build(builder, state, tensorType(input).clone(elementType), input);
}

LogicalResult CastOp::verify() {
  RankedTensorType x = tensorType(getInput()), r = tensorType(getResult());
  for (Type t : {x.getElementType(), r.getElementType()}) {
    if (isNarrowFloat(t))
      return emitOpError() << "cannot cast "
                           << (t == x.getElementType() ? "from " : "to ") << t
                           << "; FP8 values carry scales: use fp8.quantize "
                              "and fp8.dequantize";
    if (!isa<Float32Type, BFloat16Type, Float16Type>(t) &&
        !t.isSignlessInteger(1) && !t.isSignlessInteger(32) &&
        !t.isSignlessInteger(64))
      return emitOpError() << "element type " << t
                           << " is not one graph.cast converts (f32, bf16, "
                              "f16, i1, i32, i64)";
  }
  if (!shapesCompatible(x.getShape(), r.getShape()))
    return emitOpError() << "result shape " << formatShape(r.getShape())
                         << " differs from input shape "
                         << formatShape(x.getShape())
                         << "; cast changes only the element type";
  return success();
}

//===----------------------------------------------------------------------===//
// ReshapeOp
//===----------------------------------------------------------------------===//

void ReshapeOp::build(OpBuilder &builder, OperationState &state, Value input,
                      ArrayRef<int64_t> shape) {
  build(builder, state,
        RankedTensorType::get(shape, tensorType(input).getElementType()),
        input);
}

LogicalResult ReshapeOp::verify() {
  RankedTensorType x = tensorType(getInput()), r = tensorType(getResult());
  if (x.getElementType() != r.getElementType())
    return emitOpError() << "result element type " << r.getElementType()
                         << " differs from input element type "
                         << x.getElementType();
  if (r.getNumDynamicDims() > 1)
    return emitOpError() << "result shape " << formatShape(r.getShape())
                         << " has " << r.getNumDynamicDims()
                         << " dynamic dimensions; at most one can be inferred "
                            "from the element count";
  if (!x.hasStaticShape())
    return success(); // the runtime checks the element count
  int64_t count = x.getNumElements(), known = 1;
  for (int64_t d : r.getShape())
    if (!ShapedType::isDynamic(d))
      known *= d;
  bool ok = r.hasStaticShape() ? known == count
                               : (known == 0 ? count == 0 : count % known == 0);
  if (!ok)
    return emitOpError() << "input shape " << formatShape(x.getShape())
                         << " has " << count << " elements, which result shape "
                         << formatShape(r.getShape())
                         << (r.hasStaticShape() ? " does not hold (it has "
                                                : " cannot hold (its static "
                                                  "dimensions hold ")
                         << known << ")";
  return success();
}

//===----------------------------------------------------------------------===//
// TransposeOp
//===----------------------------------------------------------------------===//

static SmallVector<int64_t> permuted(ArrayRef<int64_t> shape,
                                     ArrayRef<int64_t> perm) {
  SmallVector<int64_t> out;
  for (int64_t p : perm)
    out.push_back(p >= 0 && p < static_cast<int64_t>(shape.size()) ? shape[p]
                                                                   : kDyn);
  return out;
}

void TransposeOp::build(OpBuilder &builder, OperationState &state, Value input,
                        ArrayRef<int64_t> permutation) {
  RankedTensorType x = tensorType(input);
  build(builder, state,
        RankedTensorType::get(permuted(x.getShape(), permutation),
                              x.getElementType()),
        input, builder.getDenseI64ArrayAttr(permutation));
}

LogicalResult TransposeOp::verify() {
  RankedTensorType x = tensorType(getInput());
  ArrayRef<int64_t> perm = getPermutation();
  SmallVector<bool> seen(x.getRank(), false);
  if (static_cast<int64_t>(perm.size()) != x.getRank())
    return emitOpError() << "permutation has " << perm.size()
                         << " entries but the input has rank " << x.getRank();
  for (int64_t p : perm) {
    if (p < 0 || p >= x.getRank() || seen[p])
      return emitOpError() << "permutation [" << llvm::interleaved(perm)
                           << "] is not a permutation of 0.."
                           << x.getRank() - 1;
    seen[p] = true;
  }
  return verifyResult(*this, tensorType(getResult()),
                      permuted(x.getShape(), perm), x.getElementType(),
                      "the input's dimensions in permutation order");
}

//===----------------------------------------------------------------------===//
// BroadcastOp
//===----------------------------------------------------------------------===//

void BroadcastOp::build(OpBuilder &builder, OperationState &state, Value input,
                        ArrayRef<int64_t> dims, Type resultType, Value like) {
  build(builder, state, resultType, input, builder.getDenseI64ArrayAttr(dims),
        like);
}

LogicalResult BroadcastOp::verify() {
  RankedTensorType x = tensorType(getInput()), r = tensorType(getResult());
  ArrayRef<int64_t> dims = getDims();
  if (Value like = getLike()) {
    RankedTensorType l = tensorType(like);
    if (l.getRank() != r.getRank())
      return emitOpError() << "like operand has rank " << l.getRank()
                           << " but the result has rank " << r.getRank();
    for (int64_t d = 0; d < r.getRank(); ++d)
      if (!dimsCompatible(l.getDimSize(d), r.getDimSize(d)))
        return emitOpError()
               << "like dimension " << d << " of size " << l.getDimSize(d)
               << " differs from result "
               << "dimension " << d << " of size " << r.getDimSize(d);
  }
  if (r.getElementType() != x.getElementType())
    return emitOpError() << "result element type " << r.getElementType()
                         << " differs from input element type "
                         << x.getElementType();
  if (static_cast<int64_t>(dims.size()) != x.getRank())
    return emitOpError() << "dims has " << dims.size()
                         << " entries but the input has rank " << x.getRank();
  for (auto [i, d] : llvm::enumerate(dims)) {
    if (d < 0 || d >= r.getRank())
      return emitOpError() << "dims entry " << d
                           << " is out of range for result rank "
                           << r.getRank();
    if (i > 0 && d <= dims[i - 1])
      return emitOpError() << "dims must be strictly increasing, got "
                           << dims[i - 1] << " then " << d;
    int64_t in = x.getDimSize(i), out = r.getDimSize(d);
    if (in != 1 && !dimsCompatible(in, out))
      return emitOpError() << "input dimension " << i << " of size " << in
                           << " maps to result dimension " << d << " of size "
                           << out << "; it must be 1 or equal";
  }
  // Without `like`, a dynamic result size must come from the input.
  if (!getLike())
    for (int64_t d = 0; d < r.getRank(); ++d) {
      if (!r.isDynamicDim(d))
        continue;
      const auto *it = llvm::find(dims, d);
      if (it == dims.end() || !x.isDynamicDim(it - dims.begin()))
        return emitOpError()
               << "result dimension " << d
               << " is dynamic but does not map from a dynamic input "
                  "dimension; give its size with a `like` operand";
    }
  return success();
}

//===----------------------------------------------------------------------===//
// SliceOp
//===----------------------------------------------------------------------===//

static int64_t sliceSize(int64_t start, int64_t limit, int64_t stride) {
  if (stride < 1 || limit < start)
    return 0;
  return llvm::divideCeil(limit - start, stride);
}

void SliceOp::build(OpBuilder &builder, OperationState &state, Value input,
                    ArrayRef<int64_t> start, ArrayRef<int64_t> limit,
                    ArrayRef<int64_t> stride) {
  SmallVector<int64_t> shape;
  for (auto [s, l, st] : llvm::zip(start, limit, stride))
    shape.push_back(sliceSize(s, l, st));
  build(builder, state,
        RankedTensorType::get(shape, tensorType(input).getElementType()), input,
        builder.getDenseI64ArrayAttr(start),
        builder.getDenseI64ArrayAttr(limit),
        builder.getDenseI64ArrayAttr(stride));
}

LogicalResult SliceOp::verify() {
  RankedTensorType x = tensorType(getInput());
  ArrayRef<int64_t> start = getStart(), limit = getLimit(),
                    stride = getStride();
  int64_t rank = x.getRank();
  if (static_cast<int64_t>(start.size()) != rank ||
      static_cast<int64_t>(limit.size()) != rank ||
      static_cast<int64_t>(stride.size()) != rank)
    return emitOpError() << "start, limit and stride need " << rank
                         << " entries each (the input rank), got "
                         << start.size() << ", " << limit.size() << " and "
                         << stride.size();
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t size = x.getDimSize(d);
    if (stride[d] < 1)
      return emitOpError() << "stride " << stride[d] << " of dimension " << d
                           << " must be >= 1";
    if (start[d] < 0 || start[d] > limit[d] ||
        (!ShapedType::isDynamic(size) && limit[d] > size))
      return emitOpError() << "dimension " << d << " slice [" << start[d]
                           << ", " << limit[d] << ") is not within [0, "
                           << formatShape(size) << "]";
    shape.push_back(sliceSize(start[d], limit[d], stride[d]));
  }
  return verifyResult(*this, tensorType(getResult()), shape, x.getElementType(),
                      "ceildiv(limit - start, stride)");
}

//===----------------------------------------------------------------------===//
// ConcatOp
//===----------------------------------------------------------------------===//

void ConcatOp::build(OpBuilder &builder, OperationState &state,
                     ValueRange inputs, int64_t axis) {
  RankedTensorType first = tensorType(inputs.front());
  SmallVector<int64_t> shape(first.getShape());
  if (axis >= 0 && axis < first.getRank()) {
    int64_t total = 0;
    for (Value v : inputs) {
      int64_t d = tensorType(v).getRank() > axis
                      ? tensorType(v).getDimSize(axis)
                      : kDyn;
      total = ShapedType::isDynamic(d) || ShapedType::isDynamic(total)
                  ? kDyn
                  : total + d;
    }
    shape[axis] = total;
  }
  build(builder, state, RankedTensorType::get(shape, first.getElementType()),
        inputs, builder.getI64IntegerAttr(axis));
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError() << "needs at least one input";
  RankedTensorType first = tensorType(getInputs().front());
  int64_t rank = first.getRank(), axis = getAxis();
  if (axis < 0 || axis >= rank)
    return emitOpError() << "axis " << axis << " is out of range for rank "
                         << rank;
  SmallVector<int64_t> shape(first.getShape());
  for (auto [i, v] : llvm::enumerate(getInputs().drop_front())) {
    RankedTensorType t = tensorType(v);
    if (t.getElementType() != first.getElementType() || t.getRank() != rank)
      return emitOpError() << "input " << i + 1 << " (" << t
                           << ") differs in element type or rank from input 0 ("
                           << first << ")";
    for (int64_t d = 0; d < rank; ++d) {
      if (d == axis) {
        shape[d] = ShapedType::isDynamic(shape[d]) || t.isDynamicDim(d)
                       ? kDyn
                       : shape[d] + t.getDimSize(d);
      } else if (!joinDim(shape[d], t.getDimSize(d), shape[d])) {
        return emitOpError()
               << "input " << i + 1 << " shape " << formatShape(t.getShape())
               << " differs from input 0 shape "
               << formatShape(first.getShape()) << " in dimension " << d
               << ", which is not the concatenation axis " << axis;
      }
    }
  }
  return verifyResult(*this, tensorType(getResult()), shape,
                      first.getElementType(),
                      "the inputs' sizes summed along the axis");
}

//===----------------------------------------------------------------------===//
// SplitOp
//===----------------------------------------------------------------------===//

void SplitOp::build(OpBuilder &builder, OperationState &state, Value input,
                    int64_t axis, ArrayRef<int64_t> sizes) {
  RankedTensorType x = tensorType(input);
  SmallVector<Type> types;
  for (int64_t size : sizes) {
    SmallVector<int64_t> shape(x.getShape());
    if (axis >= 0 && axis < x.getRank())
      shape[axis] = size;
    types.push_back(RankedTensorType::get(shape, x.getElementType()));
  }
  build(builder, state, types, input, builder.getI64IntegerAttr(axis),
        builder.getDenseI64ArrayAttr(sizes));
}

LogicalResult SplitOp::verify() {
  RankedTensorType x = tensorType(getInput());
  int64_t rank = x.getRank(), axis = getAxis();
  if (axis < 0 || axis >= rank)
    return emitOpError() << "axis " << axis << " is out of range for rank "
                         << rank;
  ArrayRef<int64_t> sizes = getSizes();
  if (sizes.size() != getNumResults())
    return emitOpError() << sizes.size() << " sizes for " << getNumResults()
                         << " results; give one size per result";
  int64_t total = 0;
  for (auto [i, size] : llvm::enumerate(sizes)) {
    if (size < 1)
      return emitOpError() << "size " << size << " of result " << i
                           << " must be >= 1";
    total += size;
  }
  if (!x.isDynamicDim(axis) && x.getDimSize(axis) != total)
    return emitOpError() << "sizes add up to " << total << " but dimension "
                         << axis << " of the input "
                         << formatShape(x.getShape()) << " is "
                         << x.getDimSize(axis);
  for (auto [i, r] : llvm::enumerate(getResults())) {
    SmallVector<int64_t> shape(x.getShape());
    shape[axis] = sizes[i];
    if (failed(verifyResult(*this, tensorType(r), shape, x.getElementType(),
                            "the input's shape with sizes[i] along the axis")))
      return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Gradient ops
//===----------------------------------------------------------------------===//

/// A gradient operand must have the shape of the value it is the gradient
/// of (dynamic sizes joined), and, unless |anyElement|, its element type.
static LogicalResult verifyGradLike(Operation *op, Value grad, Value of,
                                    StringRef name,
                                    StringRef gradName = "grad") {
  RankedTensorType g = tensorType(grad), v = tensorType(of);
  SmallVector<int64_t> shape(v.getShape());
  if (g.getRank() != v.getRank() || !joinShape(shape, g.getShape()))
    return op->emitOpError() << gradName << " shape "
                             << formatShape(g.getShape()) << " does not match "
                             << name << " shape " << formatShape(v.getShape());
  if (g.getElementType() != v.getElementType())
    return op->emitOpError() << gradName << " element type "
                             << g.getElementType() << " differs from " << name
                             << " element type " << v.getElementType();
  return success();
}

void EmbeddingGradOp::build(OpBuilder &builder, OperationState &state,
                            Value grad, Value ids, int64_t numEmbeddings) {
  RankedTensorType g = tensorType(grad);
  int64_t d = g.getRank() >= 1 ? g.getShape().back() : kDyn;
  build(builder, state,
        RankedTensorType::get({numEmbeddings, d}, builder.getF32Type()), grad,
        ids, builder.getI64IntegerAttr(numEmbeddings));
}

LogicalResult EmbeddingGradOp::verify() {
  RankedTensorType g = tensorType(getGrad()), ids = tensorType(getIds());
  if (g.getRank() != ids.getRank() + 1 ||
      !shapesCompatible(g.getShape().drop_back(), ids.getShape()))
    return emitOpError() << "grad shape " << formatShape(g.getShape())
                         << " must be the ids' shape "
                         << formatShape(ids.getShape())
                         << " followed by the embedding size";
  // Signed: an I64Attr's accessor is unsigned and would hide a negative.
  const int64_t numEmbeddings = getNumEmbeddingsAttr().getInt();
  if (numEmbeddings < 1)
    return emitOpError() << "num_embeddings " << numEmbeddings
                         << " must be positive";
  return verifyResult(
      *this, tensorType(getResult()), {numEmbeddings, g.getShape().back()},
      Float32Type::get(getContext()), "[num_embeddings, D] f32");
}

void RmsNormGradOp::build(OpBuilder &builder, OperationState &state, Value grad,
                          Value input, Value weight, double epsilon) {
  RankedTensorType w = tensorType(weight);
  build(builder, state, input.getType(),
        RankedTensorType::get(w.getShape(), builder.getF32Type()), grad, input,
        weight, builder.getF64FloatAttr(epsilon));
}

LogicalResult RmsNormGradOp::verify() {
  RankedTensorType x = tensorType(getInput()), w = tensorType(getWeight());
  if (failed(verifyGradLike(*this, getGrad(), getInput(), "input")))
    return failure();
  int64_t hidden;
  if (failed(verifyRmsNormOperands(*this, x, w, getEpsilon(), hidden)))
    return failure();
  if (failed(verifyResult(*this, tensorType(getInputGrad()), x.getShape(),
                          x.getElementType(), "the input's type")))
    return failure();
  return verifyResult(*this, tensorType(getWeightGrad()), {hidden},
                      Float32Type::get(getContext()),
                      "the weight's shape in f32");
}

void RopeGradOp::build(OpBuilder &builder, OperationState &state, Value grad,
                       Value positions, double theta, RopeStyle style) {
  build(builder, state, grad.getType(), grad, positions,
        builder.getF64FloatAttr(theta),
        RopeStyleAttr::get(builder.getContext(), style));
}

LogicalResult RopeGradOp::verify() {
  RankedTensorType g = tensorType(getGrad()), p = tensorType(getPositions());
  int64_t tokens;
  if (failed(verifyRopeOperands(*this, g, "grad", p, getTheta(), tokens)))
    return failure();
  return verifyResult(*this, tensorType(getResult()), g.getShape(),
                      g.getElementType(), "the grad's type");
}

void AttentionGradOp::build(OpBuilder &builder, OperationState &state,
                            Value grad, Value query, Value key, Value value,
                            Value cuSeqlens, double scale, bool causal) {
  build(builder, state, query.getType(), key.getType(), value.getType(), grad,
        query, key, value, cuSeqlens, builder.getF64FloatAttr(scale),
        causal ? builder.getUnitAttr() : UnitAttr());
}

LogicalResult AttentionGradOp::verify() {
  RankedTensorType q = tensorType(getQuery()), k = tensorType(getKey()),
                   v = tensorType(getValue());
  int64_t tokens, headDim;
  if (failed(verifyAttentionOperands(*this, q, k, v, tensorType(getCuSeqlens()),
                                     getScale(), tokens, headDim)))
    return failure();
  if (failed(verifyGradLike(*this, getGrad(), getQuery(), "query")))
    return failure();
  for (auto [result, of, why] :
       {std::make_tuple(getQueryGrad(), q, "the query's type"),
        std::make_tuple(getKeyGrad(), k, "the key's type"),
        std::make_tuple(getValueGrad(), v, "the value's type")})
    if (failed(verifyResult(*this, tensorType(result), of.getShape(),
                            of.getElementType(), why)))
      return failure();
  return success();
}

LogicalResult CrossEntropyGradOp::verify() {
  RankedTensorType logits = tensorType(getLogits());
  if (logits.getRank() != 2)
    return emitOpError() << "logits must be rank 2 ([tokens, vocab]), got "
                            "rank "
                         << logits.getRank();
  int64_t t = logits.getDimSize(0);
  for (auto [name, v] : {std::make_pair("grad", getGrad()),
                         std::make_pair("labels", getLabels()),
                         std::make_pair("loss_mask", getLossMask())}) {
    RankedTensorType type = tensorType(v);
    if (type.getRank() != 1 || !joinDim(t, type.getDimSize(0), t))
      return emitOpError() << name << " shape " << formatShape(type.getShape())
                           << " must be [" << formatShape(t)
                           << "], one per token";
  }
  return verifyResult(*this, tensorType(getResult()), logits.getShape(),
                      Float32Type::get(getContext()), "the logits' type");
}

LogicalResult SiluGradOp::verify() { return verifyOperandsAgree(*this); }

LogicalResult SwigluGradOp::verify() {
  if (failed(verifyGradLike(*this, getGrad(), getGate(), "gate")) ||
      failed(verifyGradLike(*this, getUp(), getGate(), "gate", "up")))
    return failure();
  RankedTensorType g = tensorType(getGate());
  for (Value r : {getGateGrad(), getUpGrad()})
    if (failed(verifyResult(*this, tensorType(r), g.getShape(),
                            g.getElementType(), "the gate's type")))
      return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// AdamwOp
//===----------------------------------------------------------------------===//

LogicalResult AdamwOp::verify() {
  RankedTensorType p = tensorType(getParam());
  for (auto [name, v] : {std::pair<StringRef, Value>{"grad", getGrad()},
                         {"exp_avg", getExpAvg()},
                         {"exp_avg_sq", getExpAvgSq()}})
    if (tensorType(v).getShape() != p.getShape())
      return emitOpError() << name << " shape "
                           << formatShape(tensorType(v).getShape())
                           << " differs from the parameter's "
                           << formatShape(p.getShape());
  if (!p.hasStaticShape())
    return emitOpError() << "parameter shape " << formatShape(p.getShape())
                         << " must be static";
  RankedTensorType h = tensorType(getHyper());
  if (h.getRank() != 1 || h.getDimSize(0) != 8)
    return emitOpError() << "hyper must be tensor<8xf32> (clip, decay, "
                            "1 - beta1, beta2, 1 - beta2, bc2, eps, step "
                            "size), got shape "
                         << formatShape(h.getShape());
  for (Value r : getResults())
    if (failed(verifyResult(*this, tensorType(r), p.getShape(),
                            p.getElementType(), "the parameter's type")))
      return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// TableGen'd op definitions
//===----------------------------------------------------------------------===//

#define GET_OP_CLASSES
#include "dialects/graph/IR/GraphOps.cpp.inc"
