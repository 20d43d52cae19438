//===- InitAll.cpp - Register every infir2 dialect and pass ---------------===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#include "compiler/InitAll.h"

#include "dialects/fp8/IR/Fp8Dialect.h"
#include "dialects/fp8/Transforms/Passes.h"
#include "dialects/graph/IR/GraphDialect.h"
#include "dialects/graph/Transforms/Passes.h"
#include "dialects/kernel/IR/KernelDialect.h"
#include "dialects/kernel/Transforms/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace mlir::infir2 {
void registerAllDialects(DialectRegistry &registry) {
  registry.insert<graph::GraphDialect, fp8::Fp8Dialect, kernel::KernelDialect,
                  func::FuncDialect, arith::ArithDialect, math::MathDialect,
                  tensor::TensorDialect>();
}

void registerAllPasses() {
  mlir::registerTransformsPasses();
  graph::registerGraphPasses();
  fp8::registerFp8Passes();
  kernel::registerKernelPasses();
}
} // namespace mlir::infir2
