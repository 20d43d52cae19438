//===- kernels.h - CPU implementations of the graph ops ---------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// One function per graph-dialect op, with the semantics its ODS description
// states (docs/dialects/graph.md): float math in f32, one rounding to the
// result type, matrix products through OpenBLAS's cblas_sgemm. Inputs are
// never written. Errors that depend on data (an id outside the vocabulary,
// malformed cu_seqlens) come back as statuses naming the value.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_CPU_KERNELS_H_
#define INFIR2_RUNTIME_CPU_KERNELS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/cpu/tensor.h"

namespace infir2::cpu {
bool isFloat(DType dtype); ///< F32, BF16, F16: the float storage the ops use
bool isIndex(DType dtype); ///< I32, I64

/// Elements [begin, begin + n) of a float tensor, as f32.
void loadF32(const Tensor &t, int64_t begin, int64_t n, float *out);
/// Rounds |n| floats to t's dtype (nearest even) into [begin, begin + n).
void storeF32(const float *in, int64_t n, Tensor &t, int64_t begin);
/// The tensor as f32 (the same tensor when it already is).
Tensor toF32(const Tensor &t);

enum class UnaryKind { kNeg, kExp, kLog, kRsqrt, kSilu };
enum class BinaryKind { kAdd, kSub, kMul, kDiv };
enum class ReduceKind { kSum, kMax, kMean };
enum class RopeStyle { kRotateHalf, kInterleaved };

absl::StatusOr<Tensor> embedding(const Tensor &table, const Tensor &ids);
/// x[..., K] * w[N, K]^T + bias[N] -> [..., N] of |outType|.
absl::StatusOr<Tensor> linear(const Tensor &x, const Tensor &w,
                              const Tensor *bias, DType outType);
absl::StatusOr<Tensor> matmul(const Tensor &lhs, const Tensor &rhs,
                              bool transposeLhs, bool transposeRhs,
                              DType outType);
absl::StatusOr<Tensor> rmsNorm(const Tensor &x, const Tensor &weight,
                               double epsilon, DType outType);
absl::StatusOr<Tensor> rope(const Tensor &x, const Tensor &positions,
                            double theta, RopeStyle style);
/// rope's rotation by +angle, or by -angle (|inverse|: rope_grad).
absl::StatusOr<Tensor> rotate(const Tensor &x, const Tensor &positions,
                              double theta, RopeStyle style, bool inverse);
absl::StatusOr<Tensor> attention(const Tensor &q, const Tensor &k,
                                 const Tensor &v, const Tensor &cuSeqlens,
                                 double scale, bool causal);
absl::StatusOr<Tensor> crossEntropy(const Tensor &logits, const Tensor &labels,
                                    const Tensor &mask);
absl::StatusOr<Tensor> unary(UnaryKind kind, const Tensor &x);
absl::StatusOr<Tensor> swiglu(const Tensor &gate, const Tensor &up);
absl::StatusOr<Tensor> binary(BinaryKind kind, const Tensor &lhs,
                              const Tensor &rhs);
absl::StatusOr<Tensor> reduce(ReduceKind kind, const Tensor &x,
                              const std::vector<int64_t> &axes, bool keepDims);
absl::StatusOr<Tensor> cast(const Tensor &x, DType outType);
/// |shape| may hold one -1, solved from the element count.
absl::StatusOr<Tensor> reshape(const Tensor &x, std::vector<int64_t> shape);
absl::StatusOr<Tensor> transpose(const Tensor &x,
                                 const std::vector<int64_t> &permutation);
/// |shape| is the result shape (-1: from |like|, else from the mapped input
/// dimension).
absl::StatusOr<Tensor> broadcast(const Tensor &x,
                                 const std::vector<int64_t> &dims,
                                 std::vector<int64_t> shape,
                                 const Tensor *like);
absl::StatusOr<Tensor> slice(const Tensor &x, const std::vector<int64_t> &start,
                             const std::vector<int64_t> &limit,
                             const std::vector<int64_t> &stride);
absl::StatusOr<Tensor> concat(const std::vector<const Tensor *> &inputs,
                              int64_t axis);
/// Consecutive pieces of |sizes| along |axis| (graph.split).
absl::StatusOr<std::vector<Tensor>> split(const Tensor &x, int64_t axis,
                                          const std::vector<int64_t> &sizes);
//===--- Gradient ops (graph-autodiff's vector-Jacobian products) --------===//

/// Scatter-add of |grad| rows into a [numEmbeddings, D] f32 table.
absl::StatusOr<Tensor> embeddingGrad(const Tensor &grad, const Tensor &ids,
                                     int64_t numEmbeddings);
/// {input_grad (|x|'s dtype), weight_grad (f32)}.
absl::StatusOr<std::vector<Tensor>> rmsNormGrad(const Tensor &grad,
                                                const Tensor &x,
                                                const Tensor &weight,
                                                double epsilon);
absl::StatusOr<Tensor> ropeGrad(const Tensor &grad, const Tensor &positions,
                                double theta, RopeStyle style);
/// {query_grad, key_grad, value_grad}: recomputes the probabilities per
/// block of query rows; key/value gradients accumulate in f32 over the
/// query heads of each group.
absl::StatusOr<std::vector<Tensor>>
attentionGrad(const Tensor &grad, const Tensor &q, const Tensor &k,
              const Tensor &v, const Tensor &cuSeqlens, double scale,
              bool causal);
absl::StatusOr<Tensor> crossEntropyGrad(const Tensor &grad,
                                        const Tensor &logits,
                                        const Tensor &labels,
                                        const Tensor &mask);
absl::StatusOr<Tensor> siluGrad(const Tensor &grad, const Tensor &x);
/// {gate_grad, up_grad}.
absl::StatusOr<std::vector<Tensor>>
swigluGrad(const Tensor &grad, const Tensor &gate, const Tensor &up);

/// graph.adamw: {param', exp_avg', exp_avg_sq'} (f32) from the f32 master
/// weight, gradient and moments and the step's 8 scalars (GraphOps.td).
absl::StatusOr<std::vector<Tensor>>
adamw(const Tensor &param, const Tensor &grad, const Tensor &expAvg,
      const Tensor &expAvgSq, const Tensor &hyper);

/// A tensor of |shape| with every element |value| (rounded to |dtype|).
absl::StatusOr<Tensor> splat(DType dtype, std::vector<int64_t> shape,
                             double value);
} // namespace infir2::cpu

#endif // INFIR2_RUNTIME_CPU_KERNELS_H_
