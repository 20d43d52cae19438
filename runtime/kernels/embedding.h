//===- embedding.h - Embedding gather and its gradient ----------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// graph.embedding and graph.embedding_grad for the CUDA backend, written
// against the prelude (include it first):
//   - infir2_embedding_{bf16,f32}: out[t, :] = table[ids[t], :], one block
//     per token; an id outside the table is reported through the
//     workspace header (error 2, the row and the id) and its row zeroed;
//   - infir2_embedding_grad_{bf16,f32}: table_grad[v, :] (f32, zeroed by
//     the kernel) = sum of grad[t, :] over the tokens t with ids[t] = v.
//     One block per 32 columns walks every token in order, so each sum is
//     taken in token order (deterministic, no atomics) — as the CPU
//     backend sums.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_KERNEL_EMBEDDING_H_
#define INFIR2_KERNEL_EMBEDDING_H_

namespace infir2 {
namespace embed {
constexpr int kThreads = 128;
constexpr int kCols = 32; ///< columns per gradient block

struct Args {
  const void *table_or_grad; ///< [V, D] table, or [T, D] gradient
  const i32 *ids;            ///< [T]
  void *out;                 ///< [T, D] rows, or [V, D] f32 table gradient
  i64 *ws;                   ///< error header (embedding)
  i64 tokens, vocab, dim;
};

INFIR2_FN float ld(const float *p, i64 i) { return p[i]; }
INFIR2_FN float ld(const u16 *p, i64 i) { return bf16_to_f32(p[i]); }

template <typename T>
INFIR2_FN void gather_body(const Args &a) {
  const T *table = static_cast<const T *>(a.table_or_grad);
  T *out = static_cast<T *>(a.out);
  for (i64 t = block(); t < a.tokens; t += nblocks()) {
    const i64 id = a.ids[t];
    const bool ok = id >= 0 && id < a.vocab;
    if (!ok && tid() == 0)
      report_error(a.ws, 2, t, id);
    for (i64 d = tid(); d < a.dim; d += nthreads())
      out[t * a.dim + d] = ok ? table[id * a.dim + d] : T(0);
  }
}

template <typename T>
INFIR2_FN void grad_body(const Args &a) {
  const T *grad = static_cast<const T *>(a.table_or_grad);
  float *out = static_cast<float *>(a.out);
  const i64 c0 = block() * kCols;
  const i64 cols = a.dim - c0 < kCols ? a.dim - c0 : kCols;
  for (i64 e = tid(); e < a.vocab * cols; e += nthreads())
    out[(e / cols) * a.dim + c0 + e % cols] = 0.0f;
  sync();
  // Thread c owns column c0 + c: it alone adds to it, in token order.
  for (i64 c = tid(); c < cols; c += nthreads())
    for (i64 t = 0; t < a.tokens; ++t) {
      const i64 id = a.ids[t];
      if (id >= 0 && id < a.vocab)
        out[id * a.dim + c0 + c] += ld(grad, t * a.dim + c0 + c);
    }
}
} // namespace embed
} // namespace infir2

#ifdef INFIR2_GPU
#define INFIR2_EMBED_ENTRY(name, body, T)                                      \
  extern "C" __global__ void __launch_bounds__(infir2::embed::kThreads)        \
      name(infir2::embed::Args a) {                                            \
    infir2::embed::body<T>(a);                                                 \
  }
#else
#define INFIR2_EMBED_ENTRY(name, body, T)                                      \
  extern "C" void name(const void *args, i64 grid, i64 smem) {                 \
    infir2::embed::Args a;                                                     \
    std::memcpy(&a, args, sizeof(a));                                          \
    infir2::run_blocks(grid, smem, [&] { infir2::embed::body<T>(a); });        \
  }
#endif
INFIR2_EMBED_ENTRY(infir2_embedding_bf16, gather_body, u16)
INFIR2_EMBED_ENTRY(infir2_embedding_f32, gather_body, float)
INFIR2_EMBED_ENTRY(infir2_embedding_grad_bf16, grad_body, u16)
INFIR2_EMBED_ENTRY(infir2_embedding_grad_f32, grad_body, float)

#endif // INFIR2_KERNEL_EMBEDDING_H_
