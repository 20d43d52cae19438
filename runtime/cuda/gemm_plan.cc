//===- gemm_plan.cc - Our GEMMs as cuBLASLt calls -------------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/cuda/gemm_plan.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace infir2::cuda {
namespace {
int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

bool isFp8(GemmType t) { return t == GemmType::kE4M3 || t == GemmType::kE5M2; }

const char *typeName(GemmType t) {
  switch (t) {
  case GemmType::kE4M3:
    return "e4m3";
  case GemmType::kE5M2:
    return "e5m2";
  case GemmType::kBF16:
    return "bf16";
  case GemmType::kF32:
    return "f32";
  }
  return "?";
}

const char *modeName(LtScaleMode m) {
  switch (m) {
  case LtScaleMode::kNone:
    return "none";
  case LtScaleMode::kVec128:
    return "VEC128_32F";
  case LtScaleMode::kBlk128x128:
    return "BLK128x128_32F";
  }
  return "?";
}

/// The scale mode and repack of one operand whose (possibly copied) storage
/// is [x, k] row-major, k the contraction.
void scalesFor(const GemmOperand &op, LtOperand &lt, int64_t x, int64_t k) {
  const int64_t kb = ceilDiv(k, 128), xb = ceilDiv(x, 128);
  if (op.scales == ScaleLayout::kTile1x128) {
    // Ours: [x, kb] row-major; cuBLASLt: M-major, dst[kb * x + i].
    lt.scaleMode = LtScaleMode::kVec128;
    lt.scales = {x, kb, /*transpose=*/true, /*ld=*/x, kb * x};
  } else if (op.scales == ScaleLayout::kTile128x128) {
    // Ours: [xb, kb] row-major, or [kb, xb] when the data is copied
    // transposed; cuBLASLt: K-major, dst[xb_i * L4 + kb_i].
    const int64_t l4 = ceilDiv(kb, 4) * 4;
    lt.scaleMode = LtScaleMode::kBlk128x128;
    if (lt.transposeCopy)
      lt.scales = {kb, xb, /*transpose=*/true, l4, l4 * xb};
    else
      lt.scales = {xb, kb, /*transpose=*/false, l4, l4 * xb};
  }
}
} // namespace

std::string LtPlan::describe() const {
  auto op = [](const char *which, const LtOperand &o) {
    return absl::StrCat(
        which, "=", o.isLhs ? "lhs" : "rhs", " ", typeName(o.type), " ",
        o.trans ? "T" : "N", " ", o.rows, "x", o.cols, " ld ", o.ld,
        o.transposeCopy ? " (transposed copy)" : "",
        o.scaleMode == LtScaleMode::kNone
            ? ""
            : absl::StrCat(" scales ", modeName(o.scaleMode), " ld ",
                           o.scales.ld, " (", o.scales.elements, ")"));
  };
  return absl::StrCat("m=", m, " n=", n, " k=", k, "; ", op("A", a), "; ",
                      op("B", b), "; D ", typeName(resultType), " ", m, "x", n,
                      " ld ", ldd);
}

absl::StatusOr<LtPlan> planGemm(const GemmOperand &lhs, const GemmOperand &rhs,
                                GemmType resultType) {
  // Our op: A_op [M, K] from lhs, B_op [K, N] from rhs.
  const int64_t M = lhs.transposed ? lhs.cols : lhs.rows;
  const int64_t K = lhs.transposed ? lhs.rows : lhs.cols;
  const int64_t Krhs = rhs.transposed ? rhs.cols : rhs.rows;
  const int64_t N = rhs.transposed ? rhs.rows : rhs.cols;
  if (M < 0 || N < 0 || K <= 0)
    return absl::InvalidArgumentError(
        absl::StrCat("GEMM with dimensions M=", M, " N=", N, " K=", K));
  if (K != Krhs)
    return absl::InvalidArgumentError(absl::StrCat(
        "GEMM operands disagree on K: lhs gives ", K, ", rhs ", Krhs));
  if (resultType != GemmType::kBF16 && resultType != GemmType::kF32)
    return absl::InvalidArgumentError(
        absl::StrCat("GEMM result type ", typeName(resultType),
                     ": cuBLASLt's block-scaled GEMMs write bf16, f16 or f32"));
  const bool fp8 = isFp8(lhs.type);
  if (fp8 != isFp8(rhs.type))
    return absl::InvalidArgumentError(
        absl::StrCat("GEMM of ", typeName(lhs.type), " and ",
                     typeName(rhs.type), ": both operands FP8 or neither"));

  // result[M, N] row-major is D = B_op^T * A_op^T, column-major N x M.
  LtPlan plan;
  plan.m = N;
  plan.n = M;
  plan.k = K;
  plan.ldd = N;
  plan.resultRows = M;
  plan.resultCols = N;
  plan.resultType = resultType;
  // A = rhs: stored [N, K] (transposed) is column-major K x N -> op T;
  // stored [K, N] is column-major N x K -> op N.
  plan.a.isLhs = false;
  plan.a.type = rhs.type;
  plan.a.trans = rhs.transposed;
  plan.a.rows = rhs.cols;
  plan.a.cols = rhs.rows;
  plan.a.ld = rhs.cols;
  // B = lhs: stored [M, K] is column-major K x M -> op N; stored [K, M]
  // (transposed) is column-major M x K -> op T.
  plan.b.isLhs = true;
  plan.b.type = lhs.type;
  plan.b.trans = lhs.transposed;
  plan.b.rows = lhs.cols;
  plan.b.cols = lhs.rows;
  plan.b.ld = lhs.cols;
  if (!fp8)
    return plan;

  if (lhs.type == GemmType::kE5M2 && rhs.type == GemmType::kE5M2)
    return absl::InvalidArgumentError(
        "FP8 GEMM of two e5m2 operands: cuBLASLt needs at least one e4m3");
  if (lhs.scales == ScaleLayout::kTile128x128 &&
      rhs.scales == ScaleLayout::kTile128x128)
    return absl::InvalidArgumentError(
        "FP8 GEMM with 128x128 scales on both operands: cuBLASLt allows "
        "BLK128x128 on at most one (quantize one operand 1x128)");
  if (lhs.scales == ScaleLayout::kNone || rhs.scales == ScaleLayout::kNone)
    return absl::InvalidArgumentError(
        "FP8 GEMM operand without block scales: the CUDA backend runs "
        "1x128 and 128x128 scaled GEMMs only");
  // 1x128 tiles must run along K in the stored orientation.
  if (lhs.scales == ScaleLayout::kTile1x128 && lhs.transposed)
    return absl::InvalidArgumentError(
        "FP8 GEMM: lhs is 1x128-scaled but stored [K, M]; its tiles do not run "
        "along K (quantize the transposed copy instead)");
  if (rhs.scales == ScaleLayout::kTile1x128 && !rhs.transposed)
    return absl::InvalidArgumentError(
        "FP8 GEMM: rhs is 1x128-scaled but stored [K, N]; its tiles do not run "
        "along K (quantize the transposed copy instead)");
  // FP8 on Hopper is TN only: A must be op T, B op N. A 128x128-scaled
  // operand in the other orientation is copied transposed, data and scale
  // grid together, which is exact.
  if (!plan.a.trans) {
    plan.a.transposeCopy = true;
    plan.a.trans = true;
    plan.a.rows = K;
    plan.a.cols = N;
    plan.a.ld = K;
  }
  if (plan.b.trans) {
    plan.b.transposeCopy = true;
    plan.b.trans = false;
    plan.b.rows = K;
    plan.b.cols = M;
    plan.b.ld = K;
  }
  scalesFor(rhs, plan.a, N, K);
  scalesFor(lhs, plan.b, M, K);

  // Alignment (performance-anchors.md §2b): 16-byte leading dimensions and
  // M, N multiples of 4.
  if (K % 16 != 0)
    return absl::InvalidArgumentError(absl::StrCat(
        "FP8 GEMM: K = ", K,
        " is not a multiple of 16; cuBLASLt needs 16-byte aligned FP8 rows "
        "(pad the contraction dimension)"));
  if (N % 4 != 0 || M % 4 != 0)
    return absl::InvalidArgumentError(
        absl::StrCat("FP8 GEMM: M = ", M, " and N = ", N,
                     " must be multiples of 4 for cuBLASLt's block-scaled "
                     "GEMMs (pad the rows; packed batches pad the tokens)"));
  const int64_t outBytes = resultType == GemmType::kBF16 ? 2 : 4;
  if ((N * outBytes) % 16 != 0)
    return absl::InvalidArgumentError(
        absl::StrCat("FP8 GEMM: N = ", N, " ", typeName(resultType),
                     " results are not 16-byte aligned rows; N must be a "
                     "multiple of ",
                     16 / outBytes));
  return plan;
}

std::vector<float> repackScales(const float *ours, const ScaleRepack &r) {
  std::vector<float> dst(static_cast<size_t>(r.elements), 0.0f);
  for (int64_t i = 0; i < r.srcRows; ++i)
    for (int64_t j = 0; j < r.srcCols; ++j)
      dst[r.transpose ? j * r.ld + i : i * r.ld + j] = ours[i * r.srcCols + j];
  return dst;
}

namespace {
/// The values cuBLASLt reads for |lt|: the stored tensor, or its transposed
/// copy.
std::vector<double> prepared(const LtOperand &lt, const HostOperand &op,
                             const GemmOperand &desc) {
  if (!lt.transposeCopy)
    return op.values;
  std::vector<double> t(op.values.size());
  for (int64_t r = 0; r < desc.rows; ++r)
    for (int64_t c = 0; c < desc.cols; ++c)
      t[c * desc.rows + r] = op.values[r * desc.cols + c];
  return t;
}

/// op(X)(i, kk) of a column-major operand.
double element(const LtOperand &lt, const std::vector<double> &v, int64_t i,
               int64_t kk) {
  return lt.trans ? v[i * lt.ld + kk] : v[kk * lt.ld + i];
}

/// The scale cuBLASLt applies to op(X)(i, kk).
double scaleOf(const LtOperand &lt, const std::vector<float> &s, int64_t i,
               int64_t kk) {
  switch (lt.scaleMode) {
  case LtScaleMode::kNone:
    return 1.0;
  case LtScaleMode::kVec128:
    return s[(kk / 128) * lt.scales.ld + i];
  case LtScaleMode::kBlk128x128:
    return s[(i / 128) * lt.scales.ld + kk / 128];
  }
  return 0.0;
}
} // namespace

std::vector<double> emulateLtMatmul(const LtPlan &plan, const HostOperand &lhs,
                                    const GemmOperand &lhsDesc,
                                    const HostOperand &rhs,
                                    const GemmOperand &rhsDesc) {
  const HostOperand &aOp = plan.a.isLhs ? lhs : rhs;
  const GemmOperand &aDesc = plan.a.isLhs ? lhsDesc : rhsDesc;
  const HostOperand &bOp = plan.b.isLhs ? lhs : rhs;
  const GemmOperand &bDesc = plan.b.isLhs ? lhsDesc : rhsDesc;
  const std::vector<double> a = prepared(plan.a, aOp, aDesc);
  const std::vector<double> b = prepared(plan.b, bOp, bDesc);
  std::vector<float> sa, sb;
  if (plan.a.scaleMode != LtScaleMode::kNone)
    sa = repackScales(aOp.scales.data(), plan.a.scales);
  if (plan.b.scaleMode != LtScaleMode::kNone)
    sb = repackScales(bOp.scales.data(), plan.b.scales);
  // D (m x n, column-major, ldd) = op(A) (m x k) * op(B) (k x n).
  std::vector<double> d(static_cast<size_t>(plan.n * plan.ldd), 0.0);
  for (int64_t j = 0; j < plan.n; ++j)
    for (int64_t i = 0; i < plan.m; ++i) {
      double acc = 0.0;
      for (int64_t kk = 0; kk < plan.k; ++kk)
        acc += element(plan.a, a, i, kk) * scaleOf(plan.a, sa, i, kk) *
               element(plan.b, b, kk, j) * scaleOf(plan.b, sb, j, kk);
      d[j * plan.ldd + i] = acc;
    }
  // Row-major result [M, N] is D read with ldd = N.
  return d;
}

std::vector<double> referenceScaledMatmul(const HostOperand &lhs,
                                          const GemmOperand &l,
                                          const HostOperand &rhs,
                                          const GemmOperand &r) {
  auto value = [](const HostOperand &op, const GemmOperand &d, int64_t row,
                  int64_t col) {
    double s = 1.0;
    const int64_t cb = ceilDiv(d.cols, 128);
    if (d.scales == ScaleLayout::kTile1x128)
      s = op.scales[row * cb + col / 128];
    else if (d.scales == ScaleLayout::kTile128x128)
      s = op.scales[(row / 128) * cb + col / 128];
    return op.values[row * d.cols + col] * s;
  };
  const int64_t M = l.transposed ? l.cols : l.rows;
  const int64_t K = l.transposed ? l.rows : l.cols;
  const int64_t N = r.transposed ? r.rows : r.cols;
  std::vector<double> out(static_cast<size_t>(M * N), 0.0);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0.0;
      for (int64_t k = 0; k < K; ++k)
        acc += (l.transposed ? value(lhs, l, k, m) : value(lhs, l, m, k)) *
               (r.transposed ? value(rhs, r, n, k) : value(rhs, r, k, n));
      out[m * N + n] = acc;
    }
  return out;
}
} // namespace infir2::cuda
