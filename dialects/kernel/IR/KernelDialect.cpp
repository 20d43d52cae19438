//===- KernelDialect.cpp - The kernel dialect -----------------------------===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#include "dialects/kernel/IR/KernelDialect.h"

#include "dialects/kernel/IR/KernelOps.h"
#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::infir2::kernel;

#include "dialects/kernel/IR/KernelDialect.cpp.inc"
#include "dialects/kernel/IR/KernelEnums.cpp.inc"

void KernelDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/kernel/IR/KernelOps.cpp.inc"
      >();
}
