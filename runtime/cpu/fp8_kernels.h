//===- fp8_kernels.h - CPU implementations of the fp8 ops -------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// fp8.quantize, fp8.dequantize and fp8.scaled_matmul on the CPU, with the
// semantics of docs/dialects/fp8-semantics.md: quantization by the numerics
// library (bit-exact with TransformerEngine's rule), the scaled GEMM as the
// f32 product of the dequantized operands (exact for power-of-two scales)
// through cblas_sgemm, rounded once to the result type.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_CPU_FP8_KERNELS_H_
#define INFIR2_RUNTIME_CPU_FP8_KERNELS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/cpu/tensor.h"
#include "runtime/numerics/block_quant.h"

namespace infir2::cpu {
/// "1x128", "128x1", "128x128", "per_row", "per_tensor" as the artifact
/// writes #fp8.layout.
absl::StatusOr<numerics::Layout> parseFp8Layout(const std::string &name);

/// x [M, K] (f32 or bf16) -> data [M, K] of |dataType| (F8_E4M3 or F8_E5M2)
/// and f32 scales; with |transposedLayout|, also the quantization of x^T
/// [K, M] (data_t, scales_t) made from x itself.
absl::StatusOr<std::vector<Tensor>>
fp8Quantize(const Tensor &x, DType dataType, numerics::Layout layout,
            std::optional<numerics::Layout> transposedLayout,
            numerics::ScaleMode mode, numerics::ScaleMethod method);

absl::StatusOr<Tensor> fp8Dequantize(const Tensor &data, const Tensor &scales,
                                     numerics::Layout layout, DType outType);

/// op(lhs) [M, K] * op(rhs) [K, N] of the dequantized operands in f32,
/// rounded once to |outType|.
absl::StatusOr<Tensor>
fp8ScaledMatmul(const Tensor &lhs, const Tensor &lhsScales,
                numerics::Layout lhsLayout, bool transposeLhs,
                const Tensor &rhs, const Tensor &rhsScales,
                numerics::Layout rhsLayout, bool transposeRhs, DType outType);
} // namespace infir2::cpu

#endif // INFIR2_RUNTIME_CPU_FP8_KERNELS_H_
