//===- KernelDialect.h - The kernel dialect ---------------------*- C++ -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_KERNEL_IR_KERNELDIALECT_H
#define INFIR2_DIALECTS_KERNEL_IR_KERNELDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dialects/kernel/IR/KernelDialect.h.inc"
#include "dialects/kernel/IR/KernelEnums.h.inc"

#endif // INFIR2_DIALECTS_KERNEL_IR_KERNELDIALECT_H
