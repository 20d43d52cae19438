//===- Passes.h - kernel dialect passes -------------------------*- C++ -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_KERNEL_TRANSFORMS_PASSES_H
#define INFIR2_DIALECTS_KERNEL_TRANSFORMS_PASSES_H

#include "dialects/kernel/IR/KernelDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::infir2::kernel {
#define GEN_PASS_DECL
#include "dialects/kernel/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dialects/kernel/Transforms/Passes.h.inc"
} // namespace mlir::infir2::kernel

#endif // INFIR2_DIALECTS_KERNEL_TRANSFORMS_PASSES_H
