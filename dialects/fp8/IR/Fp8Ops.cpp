//===- Fp8Ops.cpp - fp8 operations ----------------------------------------===//
//
// Part of infir2.
//
// Every check is tagged with its rule in docs/dialects/fp8-semantics.md, and
// the diagnostic starts with the rule id so a reader can go from an error to
// the spec and to the test named after it (invalid.mlir, @<op>_c<N>).
//
//===----------------------------------------------------------------------===//

#include "dialects/fp8/IR/Fp8Ops.h"

#include "dialects/common/ShapeUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::infir2;
using namespace mlir::infir2::fp8;

//===----------------------------------------------------------------------===//
// Shared checks
//===----------------------------------------------------------------------===//

static bool isHighPrecisionType(Type type) {
  return isa<Float32Type, BFloat16Type, Float16Type>(type);
}

static SmallVector<int64_t, 2> transposedShape(ArrayRef<int64_t> shape) {
  return {shape[1], shape[0]};
}

/// (C3): |layout| is one of the legal tiles.
static LogicalResult verifyLegalLayout(Operation *op, StringRef rule,
                                       StringRef what, LayoutAttr layout) {
  if (layout.isLegal())
    return success();
  return op->emitOpError() << rule << " " << what << " " << layout.str()
                           << " is not a legal tile; legal layouts are 1x128, "
                              "128x1, 128x128, per_row and per_tensor";
}

/// Scale tensor of |dataShape| under |layout|: rank 2, shape
/// ceildiv(data, tile). |what| names the scale tensor in the message.
static LogicalResult verifyScaleShape(Operation *op, StringRef rule,
                                      StringRef what,
                                      ArrayRef<int64_t> dataShape,
                                      LayoutAttr layout,
                                      RankedTensorType scaleType) {
  if (scaleType.getRank() != 2)
    return op->emitOpError()
           << rule << " " << what << " must be a 2-D tensor, got rank "
           << scaleType.getRank();
  SmallVector<int64_t, 2> expected = layout.getScaleShape(dataShape);
  if (shapesCompatible(scaleType.getShape(), expected))
    return success();
  return op->emitOpError() << rule << " " << what << " shape "
                           << formatShape(scaleType.getShape())
                           << " does not match ceil-div of data shape "
                           << formatShape(dataShape) << " by tile "
                           << formatShape(layout.getTileShape(dataShape))
                           << ", which is " << formatShape(expected);
}

//===----------------------------------------------------------------------===//
// QuantizeOp
//===----------------------------------------------------------------------===//

/// Result type of quantizing a tensor of |shape|: the layout's scale shape
/// when the shape is 2-D, otherwise a 2-D dynamic shape (the verifier reports
/// the rank error).
static RankedTensorType scaleTypeFor(ArrayRef<int64_t> shape, LayoutAttr layout,
                                     Type scaleElement) {
  if (shape.size() != 2)
    return RankedTensorType::get({ShapedType::kDynamic, ShapedType::kDynamic},
                                 scaleElement);
  return RankedTensorType::get(layout.getScaleShape(shape), scaleElement);
}

void QuantizeOp::build(OpBuilder &builder, OperationState &state, Value input,
                       Type dataElementType, LayoutAttr layout,
                       ScaleRule scaleRule, LayoutAttr transposedLayout,
                       QuantMethod method, std::optional<Role> role) {
  auto inputType = cast<RankedTensorType>(input.getType());
  ArrayRef<int64_t> shape = inputType.getShape();
  Type scaleElement = getScaleElementType(builder.getContext(), scaleRule);
  Type dataType = RankedTensorType::get(shape, dataElementType);
  Type scaleType = scaleTypeFor(shape, layout, scaleElement);
  Type dataTType, scaleTType;
  if (transposedLayout) {
    SmallVector<int64_t, 2> tShape = shape.size() == 2
                                         ? transposedShape(shape)
                                         : SmallVector<int64_t, 2>(shape);
    dataTType = RankedTensorType::get(tShape, dataElementType);
    scaleTType = scaleTypeFor(tShape, transposedLayout, scaleElement);
  }
  build(builder, state, dataType, scaleType, dataTType, scaleTType, input,
        layout, transposedLayout, scaleRule, method,
        role ? RoleAttr::get(builder.getContext(), *role) : RoleAttr());
}

LogicalResult QuantizeOp::verify() {
  auto inputType = cast<RankedTensorType>(getInput().getType());
  auto dataType = cast<RankedTensorType>(getData().getType());
  auto scaleType = cast<RankedTensorType>(getScales().getType());

  // quantize_c1
  if (inputType.getRank() != 2 ||
      !isHighPrecisionType(inputType.getElementType()))
    return emitOpError() << "(C1) input must be a 2-D tensor of f32, bf16 or "
                            "f16, got "
                         << inputType;

  // quantize_c2. |shape| collects what every operand and result says about
  // [M, K]; scale shapes are checked against it.
  if (!isFp8DataType(dataType.getElementType()))
    return emitOpError() << "(C2) data element type must be f8E4M3FN or "
                            "f8E5M2, got "
                         << dataType.getElementType();
  SmallVector<int64_t> shape(inputType.getShape());
  if (!joinShape(shape, dataType.getShape()))
    return emitOpError() << "(C2) data shape "
                         << formatShape(dataType.getShape())
                         << " does not match input shape "
                         << formatShape(inputType.getShape());

  // quantize_c3
  if (failed(verifyLegalLayout(*this, "(C3)", "layout", getLayout())))
    return failure();
  if (LayoutAttr t = getTransposedLayoutAttr())
    if (failed(verifyLegalLayout(*this, "(C3)", "transposed layout", t)))
      return failure();

  // quantize_c6
  bool hasAttr = static_cast<bool>(getTransposedLayoutAttr());
  bool hasResults = getDataT() && getScalesT();
  if (static_cast<bool>(getDataT()) != static_cast<bool>(getScalesT()))
    return emitOpError() << "(C6) data_t and scales_t come together; got only "
                         << (getDataT() ? "data_t" : "scales_t");
  if (hasAttr != hasResults)
    return emitOpError() << "(C6) "
                         << (hasAttr ? "a transposed layout needs the data_t "
                                       "and scales_t results"
                                     : "data_t and scales_t need a transposed "
                                       "layout");
  if (hasAttr) {
    auto dataTType = cast<RankedTensorType>(getDataT().getType());
    if (dataTType.getElementType() != dataType.getElementType())
      return emitOpError() << "(C6) transposed data element type "
                           << dataTType.getElementType()
                           << " differs from data element type "
                           << dataType.getElementType();
    SmallVector<int64_t, 2> tShape = transposedShape(shape);
    if (dataTType.getRank() != 2 ||
        !joinShape(shape, transposedShape(dataTType.getShape())))
      return emitOpError() << "(C6) transposed data shape "
                           << formatShape(dataTType.getShape())
                           << " does not match the transposed input shape "
                           << formatShape(tShape);
  }

  // quantize_c4
  Type scaleElement = getScaleElementType(getContext(), getScaleRule());
  auto checkScaleElement = [&](RankedTensorType type,
                               StringRef what) -> LogicalResult {
    if (type.getElementType() == scaleElement)
      return success();
    return emitOpError() << "(C4) " << what << " element type "
                         << type.getElementType() << " does not match scale "
                         << "rule " << stringifyScaleRule(getScaleRule())
                         << ", which stores " << scaleElement;
  };
  if (failed(checkScaleElement(scaleType, "scale")))
    return failure();
  if (hasAttr &&
      failed(checkScaleElement(cast<RankedTensorType>(getScalesT().getType()),
                               "transposed scale")))
    return failure();

  // quantize_c5
  if (failed(verifyScaleShape(*this, "(C5)", "scale", shape, getLayout(),
                              scaleType)))
    return failure();
  if (!hasAttr)
    return success();
  return verifyScaleShape(*this, "(C5)", "transposed scale",
                          transposedShape(shape), getTransposedLayoutAttr(),
                          cast<RankedTensorType>(getScalesT().getType()));
}

//===----------------------------------------------------------------------===//
// DequantizeOp
//===----------------------------------------------------------------------===//

void DequantizeOp::build(OpBuilder &builder, OperationState &state, Value data,
                         Value scales, LayoutAttr layout,
                         Type resultElementType) {
  auto dataType = cast<RankedTensorType>(data.getType());
  build(builder, state,
        RankedTensorType::get(dataType.getShape(), resultElementType), data,
        scales, layout);
}

LogicalResult DequantizeOp::verify() {
  auto dataType = cast<RankedTensorType>(getData().getType());
  auto scaleType = cast<RankedTensorType>(getScales().getType());
  auto resultType = cast<RankedTensorType>(getResult().getType());

  // dequantize_c1
  if (dataType.getRank() != 2 || !isFp8DataType(dataType.getElementType()))
    return emitOpError() << "(C1) data must be a 2-D tensor of f8E4M3FN or "
                            "f8E5M2, got "
                         << dataType;
  // dequantize_c2
  if (!isScaleType(scaleType.getElementType()))
    return emitOpError() << "(C2) scale element type must be f32 or "
                            "f8E8M0FNU, got "
                         << scaleType.getElementType();
  // dequantize_c3
  if (failed(verifyLegalLayout(*this, "(C3)", "layout", getLayout())))
    return failure();
  // dequantize_c5, checked before c4 so the scale shape is checked against
  // what both data and result say about [M, K].
  if (!isHighPrecisionType(resultType.getElementType()))
    return emitOpError() << "(C5) result element type must be f32, bf16 or "
                            "f16, got "
                         << resultType.getElementType();
  SmallVector<int64_t> shape(dataType.getShape());
  if (!joinShape(shape, resultType.getShape()))
    return emitOpError() << "(C5) result shape "
                         << formatShape(resultType.getShape())
                         << " does not match data shape "
                         << formatShape(dataType.getShape());
  // dequantize_c4
  return verifyScaleShape(*this, "(C4)", "scale", shape, getLayout(),
                          scaleType);
}

//===----------------------------------------------------------------------===//
// ScaledMatmulOp
//===----------------------------------------------------------------------===//

namespace {
/// One operand of a scaled_matmul as the verifier sees it.
struct MatmulOperand {
  StringRef name;
  RankedTensorType data;
  RankedTensorType scales;
  LayoutAttr layout;
  /// The dimension of |data| that is contracted (0 or 1).
  unsigned contractDim;
};
} // namespace

void ScaledMatmulOp::build(OpBuilder &builder, OperationState &state, Value lhs,
                           Value lhsScales, LayoutAttr lhsLayout,
                           bool transposeLhs, Value rhs, Value rhsScales,
                           LayoutAttr rhsLayout, bool transposeRhs,
                           Type resultElementType) {
  ArrayRef<int64_t> l = cast<RankedTensorType>(lhs.getType()).getShape();
  ArrayRef<int64_t> r = cast<RankedTensorType>(rhs.getType()).getShape();
  int64_t m = ShapedType::kDynamic, n = ShapedType::kDynamic;
  if (l.size() == 2)
    m = transposeLhs ? l[1] : l[0];
  if (r.size() == 2)
    n = transposeRhs ? r[0] : r[1];
  build(builder, state, RankedTensorType::get({m, n}, resultElementType), lhs,
        lhsScales, rhs, rhsScales, lhsLayout, rhsLayout, transposeLhs,
        transposeRhs);
}

LogicalResult ScaledMatmulOp::verify() {
  MatmulOperand ops[2] = {{"lhs", cast<RankedTensorType>(getLhs().getType()),
                           cast<RankedTensorType>(getLhsScales().getType()),
                           getLhsLayout(), getTransposeLhs() ? 0u : 1u},
                          {"rhs", cast<RankedTensorType>(getRhs().getType()),
                           cast<RankedTensorType>(getRhsScales().getType()),
                           getRhsLayout(), getTransposeRhs() ? 1u : 0u}};

  // scaled_matmul_c1
  for (const MatmulOperand &o : ops)
    if (o.data.getRank() != 2 || !isFp8DataType(o.data.getElementType()))
      return emitOpError() << "(C1) " << o.name
                           << " must be a 2-D tensor of f8E4M3FN or f8E5M2, "
                              "got "
                           << o.data;
  if (isa<Float8E5M2Type>(ops[0].data.getElementType()) &&
      isa<Float8E5M2Type>(ops[1].data.getElementType()))
    return emitOpError() << "(C1) lhs and rhs are both f8E5M2; at most one "
                            "operand may be f8E5M2 (cuBLASLt's FP8 GEMMs, "
                            "which the CUDA backend uses, have no E5M2 x E5M2 "
                            "form)";

  // scaled_matmul_c2
  for (const MatmulOperand &o : ops)
    if (!isScaleType(o.scales.getElementType()))
      return emitOpError() << "(C2) " << o.name
                           << " scale element type must be f32 or f8E8M0FNU, "
                              "got "
                           << o.scales.getElementType();
  if (ops[0].scales.getElementType() != ops[1].scales.getElementType())
    return emitOpError() << "(C2) lhs scales are "
                         << ops[0].scales.getElementType()
                         << " but rhs scales are "
                         << ops[1].scales.getElementType()
                         << "; both operands must use the same scale type";

  // scaled_matmul_c3
  for (const MatmulOperand &o : ops)
    if (failed(verifyLegalLayout(*this, "(C3)", (o.name + " layout").str(),
                                 o.layout)))
      return failure();

  // scaled_matmul_c5
  int64_t kl = ops[0].data.getDimSize(ops[0].contractDim);
  int64_t kr = ops[1].data.getDimSize(ops[1].contractDim);
  int64_t k;
  if (!joinDim(kl, kr, k))
    return emitOpError() << "(C5) contraction dimensions differ: lhs "
                         << formatShape(ops[0].data.getShape())
                         << " contracts dimension " << ops[0].contractDim
                         << " of size " << kl << ", rhs "
                         << formatShape(ops[1].data.getShape())
                         << " contracts dimension " << ops[1].contractDim
                         << " of size " << kr;

  // scaled_matmul_c4, with K as both operands say
  for (const MatmulOperand &o : ops) {
    SmallVector<int64_t> shape(o.data.getShape());
    shape[o.contractDim] = k;
    if (failed(verifyScaleShape(*this, "(C4)", (o.name + " scale").str(), shape,
                                o.layout, o.scales)))
      return failure();
  }

  // scaled_matmul_c6
  for (const MatmulOperand &o : ops) {
    LayoutAttr layout = o.layout;
    if (layout.getKind() == LayoutKind::PerTensor || layout.isBlock2D())
      continue;
    // 1x128 and per_row run along dimension 1, 128x1 along dimension 0.
    unsigned runDim =
        layout.getKind() == LayoutKind::PerRow || layout.getRows() == 1 ? 1 : 0;
    if (runDim != o.contractDim)
      return emitOpError() << "(C6) " << o.name << " layout " << layout.str()
                           << " runs along dimension " << runDim << " but "
                           << o.name << " contracts dimension " << o.contractDim
                           << "; 1-D tiles must run along the contraction "
                              "dimension";
  }

  // scaled_matmul_c7
  if (ops[0].layout.isBlock2D() && ops[1].layout.isBlock2D())
    return emitOpError() << "(C7) both operands use 128x128 blocks; at most "
                            "one operand may";

  // scaled_matmul_c8
  auto resultType = cast<RankedTensorType>(getResult().getType());
  if (!isa<BFloat16Type, Float32Type>(resultType.getElementType()))
    return emitOpError() << "(C8) result element type must be bf16 or f32, "
                            "got "
                         << resultType.getElementType();
  int64_t m = ops[0].data.getDimSize(1 - ops[0].contractDim);
  int64_t n = ops[1].data.getDimSize(1 - ops[1].contractDim);
  SmallVector<int64_t, 2> expected = {m, n};
  if (!shapesCompatible(resultType.getShape(), expected))
    return emitOpError() << "(C8) result shape "
                         << formatShape(resultType.getShape())
                         << " does not match [M, N] = "
                         << formatShape(expected);
  return success();
}

//===----------------------------------------------------------------------===//
// TableGen'd op definitions
//===----------------------------------------------------------------------===//

#define GET_OP_CLASSES
#include "dialects/fp8/IR/Fp8Ops.cpp.inc"
