//===- layout.h - Operand preparation for cuBLASLt GEMMs --------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// What runtime/cuda/gemm_plan.h asks for before a block-scaled FP8 GEMM,
// as kernels written against the prelude (include it first), so they run on
// the GPU through NVRTC and on the host in the tests:
//   - infir2_transpose_u8: an FP8 tensor [rows, cols] copied transposed
//     (cuBLASLt's FP8 GEMMs on Hopper take TN only); 32x32 tiles through
//     shared memory so both the reads and the writes are coalesced;
//   - infir2_repack_scales: f32 scales in the compiler's row-major layout
//     moved to the layout cuBLASLt reads (gemm_plan.h's ScaleRepack:
//     (r, c) -> dst[c * ld + r] or dst[r * ld + c], padding zero-filled);
//   - infir2_copy_rows: |rows| rows of |row_bytes| bytes from a strided
//     source (graph.split along a dimension other than the first: each
//     piece is a column range of every row).
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_KERNEL_LAYOUT_H_
#define INFIR2_KERNEL_LAYOUT_H_

namespace infir2 {
namespace layout {
constexpr int kTile = 32;
constexpr int kThreads = 256; ///< GPU threads per block

struct TransposeArgs {
  const u8 *src;
  u8 *dst;
  i64 rows, cols;
};

/// One block per 32x32 tile: ceil(rows / 32) * ceil(cols / 32) blocks.
INFIR2_FN void transpose_body(const TransposeArgs &a) {
  const i64 tilesC = (a.cols + kTile - 1) / kTile;
  const i64 r0 = block() / tilesC * kTile, c0 = block() % tilesC * kTile;
  u8 *tile = reinterpret_cast<u8 *>(smem()); // [kTile][kTile + 1]
  for (int e = tid(); e < kTile * kTile; e += nthreads()) {
    const i64 r = r0 + e / kTile, c = c0 + e % kTile;
    if (r < a.rows && c < a.cols)
      tile[(e / kTile) * (kTile + 1) + e % kTile] = a.src[r * a.cols + c];
  }
  sync();
  // Thread e writes dst row c0 + e / kTile, column r0 + e % kTile.
  for (int e = tid(); e < kTile * kTile; e += nthreads()) {
    const i64 c = c0 + e / kTile, r = r0 + e % kTile;
    if (r < a.rows && c < a.cols)
      a.dst[c * a.rows + r] = tile[(e % kTile) * (kTile + 1) + e / kTile];
  }
}

struct RepackArgs {
  const float *src;
  float *dst;
  i64 src_rows, src_cols, ld, elements;
  i32 transpose;
};

/// Grid-stride over the destination: every element written once, padding
/// with 0.
INFIR2_FN void repack_body(const RepackArgs &a) {
  for (i64 i = block() * nthreads() + tid(); i < a.elements;
       i += nblocks() * nthreads()) {
    const i64 outer = i / a.ld, inner = i % a.ld;
    // dst[outer * ld + inner] holds (inner, outer) when transposed.
    const i64 r = a.transpose ? inner : outer, c = a.transpose ? outer : inner;
    a.dst[i] =
        r < a.src_rows && c < a.src_cols ? a.src[r * a.src_cols + c] : 0.0f;
  }
}

struct CopyRowsArgs {
  const u8 *src;
  u8 *dst;
  i64 rows, row_bytes, src_stride, dst_stride;
};

/// Grid-stride over every byte; rows of a split piece are short (a head's
/// columns), so bytes rather than rows are spread over the threads.
INFIR2_FN void copy_rows_body(const CopyRowsArgs &a) {
  const i64 n = a.rows * a.row_bytes;
  for (i64 i = block() * nthreads() + tid(); i < n;
       i += nblocks() * nthreads()) {
    const i64 r = i / a.row_bytes, c = i % a.row_bytes;
    a.dst[r * a.dst_stride + c] = a.src[r * a.src_stride + c];
  }
}

INFIR2_FN i64 transpose_smem() { return kTile * (kTile + 1); }
} // namespace layout
} // namespace infir2

#ifdef INFIR2_GPU
extern "C" __global__ void __launch_bounds__(infir2::layout::kThreads)
    infir2_transpose_u8(infir2::layout::TransposeArgs a) {
  infir2::layout::transpose_body(a);
}
extern "C" __global__ void __launch_bounds__(infir2::layout::kThreads)
    infir2_repack_scales(infir2::layout::RepackArgs a) {
  infir2::layout::repack_body(a);
}
extern "C" __global__ void __launch_bounds__(infir2::layout::kThreads)
    infir2_copy_rows(infir2::layout::CopyRowsArgs a) {
  infir2::layout::copy_rows_body(a);
}
#else
extern "C" void infir2_transpose_u8(const void *args, i64 grid, i64 smem) {
  infir2::layout::TransposeArgs a;
  std::memcpy(&a, args, sizeof(a));
  infir2::run_blocks(grid, smem, [&] { infir2::layout::transpose_body(a); });
}
extern "C" void infir2_repack_scales(const void *args, i64 grid, i64 smem) {
  infir2::layout::RepackArgs a;
  std::memcpy(&a, args, sizeof(a));
  infir2::run_blocks(grid, smem, [&] { infir2::layout::repack_body(a); });
}
extern "C" void infir2_copy_rows(const void *args, i64 grid, i64 smem) {
  infir2::layout::CopyRowsArgs a;
  std::memcpy(&a, args, sizeof(a));
  infir2::run_blocks(grid, smem, [&] { infir2::layout::copy_rows_body(a); });
}
#endif

#endif // INFIR2_KERNEL_LAYOUT_H_
