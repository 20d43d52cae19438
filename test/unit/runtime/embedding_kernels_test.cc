//===- embedding_kernels_test.cc - Embedding kernels on the host ----------===//
//
// Part of infir2. runtime/kernels/embedding.h built as host C++ against the
// CPU backend's embedding and embedding_grad.
//
//===----------------------------------------------------------------------===//

// clang-format off
#include "runtime/kernels/prelude.h"
#include "runtime/kernels/embedding.h"
// clang-format on

#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/cpu/kernels.h"
#include "runtime/cpu/tensor.h"

namespace infir2 {
namespace {
using cpu::Tensor;

TEST(EmbeddingKernels, GatherAndGradientMatchTheCpuBackend) {
  const i64 vocab = 37, dim = 70, tokens = 53; // dim: 3 column blocks
  std::mt19937 rng(9);
  std::vector<float> table(vocab * dim), grad(tokens * dim);
  for (float &f : table)
    f = std::uniform_real_distribution<float>(-1, 1)(rng);
  for (float &f : grad)
    f = std::uniform_real_distribution<float>(-1, 1)(rng);
  std::vector<int32_t> ids(tokens);
  for (int32_t &id : ids)
    id = static_cast<int32_t>(rng() % 9); // repeated ids: sums of several
  std::vector<float> rows(tokens * dim, -1.0f), tgrad(vocab * dim, -1.0f);
  std::vector<i64> ws(8, 0);
  embed::Args g = {table.data(), ids.data(), rows.data(), ws.data(),
                   tokens,       vocab,      dim};
  infir2_embedding_f32(&g, tokens, 0);
  embed::Args b = {grad.data(), ids.data(), tgrad.data(), ws.data(),
                   tokens,      vocab,      dim};
  infir2_embedding_grad_f32(&b, (dim + embed::kCols - 1) / embed::kCols, 0);
  EXPECT_EQ(ws[0], 0);

  const Tensor tt = Tensor::copyOf(DType::kF32, {vocab, dim}, table.data());
  const Tensor it = Tensor::copyOf(DType::kI32, {tokens}, ids.data());
  const Tensor gt = Tensor::copyOf(DType::kF32, {tokens, dim}, grad.data());
  absl::StatusOr<Tensor> ref = cpu::embedding(tt, it);
  ASSERT_TRUE(ref.ok()) << ref.status();
  absl::StatusOr<Tensor> refGrad = cpu::embeddingGrad(gt, it, vocab);
  ASSERT_TRUE(refGrad.ok()) << refGrad.status();
  for (i64 i = 0; i < tokens * dim; ++i)
    ASSERT_EQ(rows[i], ref->data<float>()[i]) << i;
  // Both sum each row's tokens in token order: bit-identical.
  for (i64 i = 0; i < vocab * dim; ++i)
    ASSERT_EQ(tgrad[i], refGrad->data<float>()[i]) << i;
}

TEST(EmbeddingKernels, IdOutsideTheTableIsReported) {
  std::vector<float> table(4 * 8, 1.0f), rows(3 * 8, -1.0f);
  std::vector<int32_t> ids = {1, 4, 0};
  std::vector<i64> ws(8, 0);
  embed::Args g = {table.data(), ids.data(), rows.data(), ws.data(), 3, 4, 8};
  infir2_embedding_f32(&g, 3, 0);
  EXPECT_EQ(ws[0], 2);
  EXPECT_EQ(ws[1], 1); // the position
  EXPECT_EQ(ws[2], 4); // the id
  EXPECT_EQ(rows[8], 0.0f);
}
} // namespace
} // namespace infir2
