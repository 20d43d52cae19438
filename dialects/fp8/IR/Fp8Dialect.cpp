//===- Fp8Dialect.cpp - The fp8 dialect -----------------------------------===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#include "dialects/fp8/IR/Fp8Dialect.h"

#include "dialects/fp8/IR/Fp8Ops.h"
#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::infir2::fp8;

#include "dialects/fp8/IR/Fp8Dialect.cpp.inc"

void Fp8Dialect::initialize() {
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "dialects/fp8/IR/Fp8Ops.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Type helpers
//===----------------------------------------------------------------------===//

namespace mlir::infir2::fp8 {
bool isFp8DataType(Type type) {
  return isa<Float8E4M3FNType, Float8E5M2Type>(type);
}

double getMaxFinite(Type fp8DataType) {
  return isa<Float8E5M2Type>(fp8DataType) ? 57344.0 : 448.0;
}

bool isScaleType(Type type) {
  return isa<Float32Type, Float8E8M0FNUType>(type);
}

Type getScaleElementType(MLIRContext *ctx, ScaleRule rule) {
  if (rule == ScaleRule::E8M0)
    return Float8E8M0FNUType::get(ctx);
  return Float32Type::get(ctx);
}
} // namespace mlir::infir2::fp8
