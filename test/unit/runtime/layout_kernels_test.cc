//===- layout_kernels_test.cc - GEMM operand preparation kernels ----------===//
//
// Part of infir2. runtime/kernels/layout.h built as host C++ (the prelude's
// CPU target) against the definitions of a transpose and of the scale
// repacks of runtime/cuda/gemm_plan.h, on the plans of a linear layer's
// three GEMMs.
//
//===----------------------------------------------------------------------===//

// clang-format off
#include "runtime/kernels/prelude.h"
#include "runtime/kernels/layout.h"
// clang-format on

#include <random>
#include <vector>

#include <gtest/gtest.h>

#ifdef INFIR2_TEST_CUDA_DRIVER
#include "runtime/cuda/gemm_plan.h"
#endif

namespace infir2 {
namespace {
TEST(LayoutKernels, TransposeU8) {
  std::mt19937 rng(3);
  for (auto [rows, cols] :
       {std::pair<i64, i64>{1, 1}, {33, 70}, {128, 300}, {257, 31}}) {
    std::vector<u8> src(rows * cols), dst(rows * cols, 0xAB);
    for (u8 &b : src)
      b = static_cast<u8>(rng());
    layout::TransposeArgs a = {src.data(), dst.data(), rows, cols};
    const i64 tiles = ((rows + layout::kTile - 1) / layout::kTile) *
                      ((cols + layout::kTile - 1) / layout::kTile);
    infir2_transpose_u8(&a, tiles, layout::transpose_smem());
    for (i64 r = 0; r < rows; ++r)
      for (i64 c = 0; c < cols; ++c)
        ASSERT_EQ(dst[c * rows + r], src[r * cols + c])
            << rows << "x" << cols << " at " << r << "," << c;
  }
}

TEST(LayoutKernels, CopyRowsTakesOneColumnRangeOfEveryRow) {
  // A split of [5, 3, 8] bytes-per-element-1 along axis 1 into {1, 2}:
  // piece 1 is, per outer row, bytes [8, 24) of each 24-byte row.
  std::vector<u8> src(5 * 24), dst(5 * 16, 0xEE);
  for (size_t i = 0; i < src.size(); ++i)
    src[i] = static_cast<u8>(i);
  layout::CopyRowsArgs a = {src.data() + 8, dst.data(), 5, 16, 24, 16};
  infir2_copy_rows(&a, 2, 0);
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < 16; ++c)
      ASSERT_EQ(dst[r * 16 + c], src[r * 24 + 8 + c]) << r << "," << c;
}

/// Runs the repack kernel for one ScaleRepack-like description.
std::vector<float> repack(const std::vector<float> &src, i64 rows, i64 cols,
                          bool transpose, i64 ld, i64 elements) {
  std::vector<float> dst(elements, -1.0f); // poisoned: every one is written
  layout::RepackArgs a = {src.data(), dst.data(), rows,     cols,
                          ld,         elements,   transpose};
  infir2_repack_scales(&a, 3, 0);
  return dst;
}

TEST(LayoutKernels, RepackByDefinition) {
  const std::vector<float> ours = {1, 2, 3, 4, 5, 6}; // [2, 3]
  EXPECT_EQ(repack(ours, 2, 3, false, 4, 8),
            (std::vector<float>{1, 2, 3, 0, 4, 5, 6, 0}));
  EXPECT_EQ(repack(ours, 2, 3, true, 2, 6),
            (std::vector<float>{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(repack(ours, 2, 3, true, 4, 12),
            (std::vector<float>{1, 4, 0, 0, 2, 5, 0, 0, 3, 6, 0, 0}));
}

#ifdef INFIR2_TEST_CUDA_DRIVER
/// The kernel agrees with gemm_plan.h's repackScales (the emulation's
/// reference) on every scale operand of a linear layer's GEMMs.
TEST(LayoutKernels, RepackMatchesThePlans) {
  using cuda::GemmOperand;
  using cuda::GemmType;
  using cuda::ScaleLayout;
  auto fp8 = [](i64 r, i64 c, ScaleLayout s, bool t) {
    return GemmOperand{r, c, GemmType::kE4M3, s, t};
  };
  const i64 M = 272, K = 400, N = 208; // multiples of 16, not of 128
  const std::pair<GemmOperand, GemmOperand> gemms[] = {
      {fp8(M, K, ScaleLayout::kTile1x128, false),
       fp8(N, K, ScaleLayout::kTile128x128, true)},
      {fp8(M, N, ScaleLayout::kTile1x128, false),
       fp8(N, K, ScaleLayout::kTile128x128, false)},
      {fp8(N, M, ScaleLayout::kTile1x128, false),
       fp8(K, M, ScaleLayout::kTile1x128, true)}};
  std::mt19937 rng(5);
  int checked = 0;
  for (const auto &[l, r] : gemms) {
    absl::StatusOr<cuda::LtPlan> plan = cuda::planGemm(l, r, GemmType::kBF16);
    ASSERT_TRUE(plan.ok()) << plan.status();
    for (const cuda::LtOperand *op : {&plan->a, &plan->b}) {
      const cuda::ScaleRepack &s = op->scales;
      std::vector<float> ours(s.srcRows * s.srcCols);
      for (float &f : ours)
        f = std::uniform_real_distribution<float>(0.5f, 2.0f)(rng);
      EXPECT_EQ(
          repack(ours, s.srcRows, s.srcCols, s.transpose, s.ld, s.elements),
          cuda::repackScales(ours.data(), s))
          << plan->describe();
      ++checked;
    }
  }
  EXPECT_EQ(checked, 6);
}
#endif
} // namespace
} // namespace infir2
