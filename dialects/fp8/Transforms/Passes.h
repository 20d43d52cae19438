//===- Passes.h - fp8 dialect passes ----------------------------*- C++ -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_FP8_TRANSFORMS_PASSES_H
#define INFIR2_DIALECTS_FP8_TRANSFORMS_PASSES_H

#include "dialects/fp8/IR/Fp8Dialect.h"
#include "dialects/graph/IR/GraphDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::infir2::fp8 {
#define GEN_PASS_DECL
#include "dialects/fp8/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dialects/fp8/Transforms/Passes.h.inc"
} // namespace mlir::infir2::fp8

#endif // INFIR2_DIALECTS_FP8_TRANSFORMS_PASSES_H
