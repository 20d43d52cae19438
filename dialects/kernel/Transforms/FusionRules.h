//===- FusionRules.h - Which ops a generated kernel can compute -*- C++ -*-===//
//
// Part of infir2.
//
// The one classification that both kernel-fuse (what may go into a
// kernel.fused region) and the CUDA C++ code generator (what it emits code
// for) use, so that every region fusion forms can be generated.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_KERNEL_TRANSFORMS_FUSIONRULES_H
#define INFIR2_DIALECTS_KERNEL_TRANSFORMS_FUSIONRULES_H

#include <optional>

#include "mlir/IR/Operation.h"

namespace mlir::infir2::kernel {
/// How an op takes part in a generated kernel.
enum class OpClass {
  /// Not in kernels: library operations (GEMMs, attention, embedding) and
  /// anything the code generator does not handle.
  kOther,
  /// Index maps and constants (reshape keeping the rows, split, concat,
  /// slice, broadcast, splat constants): cloned into every kernel that
  /// reads them, never computed on their own unless a library op or the
  /// function's result needs them in memory.
  kView,
  /// One result element from the operands' elements of the same row
  /// (arithmetic, casts, activations, RoPE, dequantization).
  kElementwise,
  /// Needs a whole row first (RMSNorm and its gradient, cross entropy and
  /// its gradient, reductions over the trailing dimensions).
  kRowReduction,
  /// Sums over the rows (reduce over dimension 0: bias gradients, the loss
  /// sum).
  kColumnReduction,
  /// fp8.quantize: 1x128 tiles (with or without the transposed copy) or
  /// 128x128 blocks.
  kQuantize,
};

OpClass classify(Operation *op);

/// The rows |op| iterates over: the first dimension of the tensor it walks
/// (ShapedType::kDynamic for the token count), or nullopt for an op that
/// fits any row count (a scalar constant).
std::optional<int64_t> iterationRows(Operation *op);

/// The op's name without the dialect ("rms_norm", "quantize").
StringRef shortName(Operation *op);
} // namespace mlir::infir2::kernel

#endif // INFIR2_DIALECTS_KERNEL_TRANSFORMS_FUSIONRULES_H
