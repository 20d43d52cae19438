//===- Fp8Ops.h - fp8 operations --------------------------------*- C++ -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_FP8_IR_FP8OPS_H
#define INFIR2_DIALECTS_FP8_IR_FP8OPS_H

#include "dialects/fp8/IR/Fp8Dialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/fp8/IR/Fp8Ops.h.inc"

#endif // INFIR2_DIALECTS_FP8_IR_FP8OPS_H
