//===- gemm_plan.h - Our GEMMs as cuBLASLt calls ----------------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// The compiler's GEMMs are row-major: linear (y = x * W^T), matmul and
// fp8.scaled_matmul with transpose flags (docs/dialects/fp8-semantics.md
// §4). cuBLASLt is column-major, and its block-scaled FP8 GEMMs on Hopper
// accept only the TN layout, 16-byte aligned operands, M and N multiples
// of 4, at most one 128x128-scaled operand, and scales in their own
// layouts (performance-anchors.md §2b):
//   - VEC128 (one f32 per 128 elements along K): M-major, [ceil(K/128)] x M
//     with M contiguous;
//   - BLK128x128: K-major, ceil(K/128) rows padded to L4 (a multiple of 4)
//     per 128-row block.
// This file decides, in plain C++ (unit-tested on the CPU), which operand is
// cuBLASLt's A and B, the transposes, dimensions and leading dimensions,
// whether an operand needs a transposed copy first (exact only for 128x128
// blocks), and how our scale tensors are repacked. emulateLtMatmul runs a
// plan with cuBLASLt's documented semantics in f64, so a test can check the
// layout logic against the op's definition without a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_CUDA_GEMM_PLAN_H_
#define INFIR2_RUNTIME_CUDA_GEMM_PLAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace infir2::cuda {
/// The element types a GEMM operand or result can have.
enum class GemmType { kE4M3, kE5M2, kBF16, kF32 };

/// How an FP8 operand is scaled, in our row-major terms.
enum class ScaleLayout {
  kNone,       ///< BF16 / F32 operand
  kTile1x128,  ///< [rows, ceil(cols/128)], along the stored rows
  kTile128x128 ///< [ceil(rows/128), ceil(cols/128)]
};

/// One operand as the compiler stores it: row-major [rows, cols]. |transposed|
/// follows fp8.scaled_matmul: lhs is read as [M, K] or, transposed, from
/// [K, M]; rhs as [K, N] or, transposed, from [N, K].
struct GemmOperand {
  int64_t rows = 0, cols = 0;
  GemmType type = GemmType::kBF16;
  ScaleLayout scales = ScaleLayout::kNone;
  bool transposed = false;
};

/// cuBLASLt's scale modes (CUBLASLT_MATMUL_MATRIX_SCALE_*).
enum class LtScaleMode { kNone, kVec128, kBlk128x128 };

/// How one of our scale tensors becomes the buffer cuBLASLt reads: element
/// (r, c) of ours ([srcRows, srcCols] row-major) goes to dst[c * ld + r]
/// when |transpose|, else dst[r * ld + c]. |elements| is the buffer's size
/// (padding included, zero-filled).
struct ScaleRepack {
  int64_t srcRows = 0, srcCols = 0;
  bool transpose = false;
  int64_t ld = 0;
  int64_t elements = 0;
};

/// One cuBLASLt operand: which of ours it is and how it is prepared.
struct LtOperand {
  bool isLhs = false; ///< our lhs (else our rhs)
  bool trans = false; ///< CUBLAS_OP_T
  /// Storage as cuBLASLt reads it: column-major rows x cols with ld.
  int64_t rows = 0, cols = 0, ld = 0;
  GemmType type = GemmType::kBF16;
  /// The stored tensor is transposed (data and 128x128 scale grid) into a
  /// scratch buffer first; cuBLASLt then reads the copy.
  bool transposeCopy = false;
  LtScaleMode scaleMode = LtScaleMode::kNone;
  ScaleRepack scales;
};

/// D = op(A) * op(B) in column-major: result[M, N] row-major is D [N x M].
struct LtPlan {
  int64_t m = 0, n = 0, k = 0; ///< cuBLASLt's
  LtOperand a, b;
  GemmType resultType = GemmType::kBF16;
  int64_t ldd = 0;
  /// Row-major result shape [M, N] of the op.
  int64_t resultRows = 0, resultCols = 0;
  std::string describe() const;
};

/// The plan of result[M, N] = op(lhs) * op(rhs). BF16/F32 operands may take
/// any transposes; FP8 ones are brought to TN (a 128x128-scaled operand in
/// the wrong orientation gets a transposed copy; a 1x128-scaled one cannot,
/// and is an error naming the fix). Errors name the violated cuBLASLt rule.
absl::StatusOr<LtPlan> planGemm(const GemmOperand &lhs, const GemmOperand &rhs,
                                GemmType resultType);

/// Our scales of |op| repacked as cuBLASLt reads them (|repack| of the plan).
std::vector<float> repackScales(const float *ours, const ScaleRepack &repack);

/// Dequantized values of an FP8 or BF16/F32 operand, row-major as stored.
struct HostOperand {
  std::vector<double> values; ///< [rows, cols] of the stored tensor, unscaled
  std::vector<float> scales;  ///< ours, row-major; empty when unscaled
};

/// Runs |plan| on the CPU the way cuBLASLt defines it: reads A and B (after
/// the plan's transposed copies) column-major with their ld, applies the
/// repacked scales per 128-element block of K, accumulates in f64, and
/// returns result[M, N] row-major (read from D [N x M] with ldd).
std::vector<double> emulateLtMatmul(const LtPlan &plan, const HostOperand &lhs,
                                    const GemmOperand &lhsDesc,
                                    const HostOperand &rhs,
                                    const GemmOperand &rhsDesc);

/// The op's definition (fp8-semantics.md §4) in f64, from our storage.
std::vector<double> referenceScaledMatmul(const HostOperand &lhs,
                                          const GemmOperand &lhsDesc,
                                          const HostOperand &rhs,
                                          const GemmOperand &rhsDesc);
} // namespace infir2::cuda

#endif // INFIR2_RUNTIME_CUDA_GEMM_PLAN_H_
