//===- ShapeUtils.cpp - Shape helpers shared by the dialects --------------===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#include "dialects/common/ShapeUtils.h"

#include "mlir/IR/BuiltinTypeInterfaces.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::infir2 {
std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "[]";
  std::string out;
  llvm::raw_string_ostream os(out);
  llvm::interleave(
      shape, os,
      [&](int64_t d) {
        if (ShapedType::isDynamic(d))
          os << '?';
        else
          os << d;
      },
      "x");
  return out;
}

bool dimsCompatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

bool shapesCompatible(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b) {
  if (a.size() != b.size())
    return false;
  for (auto [x, y] : llvm::zip_equal(a, b))
    if (!dimsCompatible(x, y))
      return false;
  return true;
}
bool joinDim(int64_t a, int64_t b, int64_t &out) {
  if (!dimsCompatible(a, b))
    return false;
  out = ShapedType::isDynamic(a) ? b : a;
  return true;
}

bool joinShape(llvm::SmallVectorImpl<int64_t> &a, llvm::ArrayRef<int64_t> b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!joinDim(a[i], b[i], a[i]))
      return false;
  return true;
}
} // namespace mlir::infir2
