//===- InitAll.h - Register every infir2 dialect and pass -------*- C++ -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_COMPILER_INITALL_H
#define INFIR2_COMPILER_INITALL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mlir::infir2 {
/// Adds the dialects infir2 IR may contain: graph and fp8, plus upstream
/// func, arith, math and tensor.
void registerAllDialects(DialectRegistry &registry);

/// Registers, for command-line pipelines, upstream's general transforms
/// (canonicalize, cse, inline, ...) and every infir2 pass.
void registerAllPasses();
} // namespace mlir::infir2

#endif // INFIR2_COMPILER_INITALL_H
