//===- Fp8Dialect.h - The fp8 dialect ---------------------------*- C++ -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_FP8_IR_FP8DIALECT_H
#define INFIR2_DIALECTS_FP8_IR_FP8DIALECT_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

#include "dialects/fp8/IR/Fp8Dialect.h.inc"
#include "dialects/fp8/IR/Fp8Enums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/fp8/IR/Fp8Attrs.h.inc"

namespace mlir::infir2::fp8 {
/// True for the FP8 data element types: f8E4M3FN and f8E5M2.
bool isFp8DataType(Type type);
/// The largest finite value of an FP8 data type (448 or 57344).
double getMaxFinite(Type fp8DataType);
/// True for the scale element types: f32 and f8E8M0FNU.
bool isScaleType(Type type);
/// The element type a scale rule stores: f32, or f8E8M0FNU for e8m0.
Type getScaleElementType(MLIRContext *ctx, ScaleRule rule);
} // namespace mlir::infir2::fp8

#endif // INFIR2_DIALECTS_FP8_IR_FP8DIALECT_H
