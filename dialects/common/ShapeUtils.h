//===- ShapeUtils.h - Shape helpers shared by the dialects ------*- C++ -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_COMMON_SHAPEUTILS_H
#define INFIR2_DIALECTS_COMMON_SHAPEUTILS_H

#include <cstdint>
#include <string>

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir::infir2 {
/// Renders a shape as "256x300", with "?" for dynamic dimensions and "[]" for
/// rank 0, the way diagnostics quote shapes.
std::string formatShape(llvm::ArrayRef<int64_t> shape);

/// Two dimensions agree unless both are static and differ.
bool dimsCompatible(int64_t a, int64_t b);

/// Same rank and every dimension pair compatible.
bool shapesCompatible(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b);

/// Joins two sizes of one dimension: a static size wins over a dynamic one.
/// Returns false (leaving |out| alone) when both are static and differ.
bool joinDim(int64_t a, int64_t b, int64_t &out);

/// Joins two shapes of equal rank dimension by dimension into |a|. Returns
/// false on a rank mismatch or a conflicting pair.
bool joinShape(llvm::SmallVectorImpl<int64_t> &a, llvm::ArrayRef<int64_t> b);
} // namespace mlir::infir2

#endif // INFIR2_DIALECTS_COMMON_SHAPEUTILS_H
