//===- attention.h - Packed causal GQA attention kernels --------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// graph.attention and graph.attention_grad for the CUDA backend, written
// against the prelude (include it first), so the same text compiles under
// NVRTC for the GPU and as host C++, where the tests compare it with the CPU
// backend's kernels. Layouts follow the graph ops: q [T, Hq, D], k and v
// [T, Hkv, D], Hq a multiple of Hkv (GQA), sequences packed along T by
// cu_seqlens (i32 [S + 1]); softmax statistics in f32.
//
// FlashAttention-2's algorithm without its tensor-core tiling: one thread
// per query (or key) row, key (or query) rows staged through shared memory
// in chunks, the online softmax in f32, the log-sum-exp kept for the
// backward pass, which recomputes the probabilities:
//   fwd:   O = softmax(scale Q K^T) V, lse = log sum exp(scale Q K^T);
//   dq:    Dsum_i = dO_i . O_i;  dS_ij = P_ij (dO_i . V_j - Dsum_i);
//          dQ_i = scale sum_j dS_ij K_j;
//   dkv:   dV_j = sum_i P_ij dO_i;  dK_j = scale sum_i dS_ij Q_i, summed
//          over the query heads of the group in f32 (no atomics, so the
//          result does not depend on the schedule).
// This is the portable reference the tensor-core kernels are checked
// against; rows of one block may belong to different sequences.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_KERNEL_ATTENTION_H_
#define INFIR2_KERNEL_ATTENTION_H_

namespace infir2 {
namespace attn {
/// Rows per block (threads per block on the GPU) and rows per staged chunk.
constexpr int kRows = 16;
constexpr int kChunk = 16;
/// Per-row state slots of one thread: a GPU thread owns one row (blocks of
/// kRows threads), the host's single thread all of them.
constexpr int kSlots = kWarp == 1 ? kRows : 1;
INFIR2_FN int slot(int r) { return r / nthreads(); }

/// The problem, shared by every kernel.
struct Dims {
  const i32 *cu_seqlens; ///< [num_seqs + 1], from 0 to t
  i64 t, hq, hkv, num_seqs;
  float scale;
  i32 causal;
};

struct FwdArgs {
  Dims dims;
  const void *q, *k, *v;
  void *out;
  float *lse; ///< [T, Hq]
};

struct BwdArgs {
  Dims dims;
  const void *q, *k, *v, *out, *dout;
  const float *lse; ///< [T, Hq] from the forward pass
  float *dsum;      ///< [T, Hq]: written by dq, read by dkv
  void *dq, *dk, *dv;
};

INFIR2_FN float load(const float *p, i64 i) { return p[i]; }
INFIR2_FN float load(const u16 *p, i64 i) { return bf16_to_f32(p[i]); }
INFIR2_FN void store(float *p, i64 i, float v) { p[i] = v; }
INFIR2_FN void store(u16 *p, i64 i, float v) { p[i] = f32_to_bf16(v); }

/// The sequence [start, end) of packed row |row| (binary search).
INFIR2_FN void sequence_of(const i32 *cu, i64 num_seqs, i64 row, i64 *start,
                           i64 *end) {
  i64 lo = 0, hi = num_seqs; // cu[lo] <= row < cu[hi]
  while (hi - lo > 1) {
    const i64 mid = (lo + hi) / 2;
    if (cu[mid] <= row)
      lo = mid;
    else
      hi = mid;
  }
  *start = cu[lo];
  *end = cu[lo + 1];
}

/// Keys row |row| attends to: [first, last].
INFIR2_FN void key_range(const i32 *cu, i64 num_seqs, i64 row, i32 causal,
                         i64 *first, i64 *last) {
  i64 s, e;
  sequence_of(cu, num_seqs, row, &s, &e);
  *first = s;
  *last = causal ? row : e - 1;
}

/// Copies |n| rows of |d| values at row stride |stride| from |src| (rows
/// from |row0|) into |dst| as f32, all threads of the block together.
template <typename T>
INFIR2_FN void stage(float *dst, const T *src, i64 row0, i64 n, i64 stride,
                     int d) {
  for (i64 e = tid(); e < n * d; e += nthreads())
    dst[e] = load(src, (row0 + e / d) * stride + e % d);
}

/// The query rows [r0, r0 + rows) and head of a fwd/dq block, and the keys
/// [kFirst, kLast] any of its rows reads.
struct QueryTile {
  i64 head, kvHead, r0, rows, kFirst, kLast;
};
INFIR2_FN QueryTile query_tile(const Dims &a) {
  QueryTile q;
  q.head = block() % a.hq;
  q.kvHead = q.head / (a.hq / a.hkv);
  q.r0 = block() / a.hq * kRows;
  q.rows = a.t - q.r0 < kRows ? a.t - q.r0 : kRows;
  i64 unused;
  key_range(a.cu_seqlens, a.num_seqs, q.r0, a.causal, &q.kFirst, &unused);
  key_range(a.cu_seqlens, a.num_seqs, q.r0 + q.rows - 1, a.causal, &unused,
            &q.kLast);
  return q;
}

template <typename T, int D>
INFIR2_FN void fwd_body(const FwdArgs &args) {
  const Dims &a = args.dims;
  const T *q = static_cast<const T *>(args.q);
  const T *k = static_cast<const T *>(args.k);
  const T *v = static_cast<const T *>(args.v);
  T *out = static_cast<T *>(args.out);
  const QueryTile qt = query_tile(a);
  const i64 head = qt.head, kvHead = qt.kvHead, r0 = qt.r0, rows = qt.rows;
  const i64 kFirst = qt.kFirst, kLast = qt.kLast;
  float *qs = reinterpret_cast<float *>(smem()); // [kRows, D]
  float *acc = qs + kRows * D;                   // [kRows, D]
  float *ks = acc + kRows * D;                   // [kChunk, D]
  float *vs = ks + kChunk * D;                   // [kChunk, D]
  stage(qs, q + head * D, r0, rows, a.hq * D, D);
  for (i64 e = tid(); e < kRows * D; e += nthreads())
    acc[e] = 0.0f;
  float m[kSlots], sum[kSlots];
  i64 first[kSlots], last[kSlots];
  for (int r = tid(); r < rows; r += nthreads()) {
    m[slot(r)] = -u2f(0x7F800000u);
    sum[slot(r)] = 0.0f;
    key_range(a.cu_seqlens, a.num_seqs, r0 + r, a.causal, &first[slot(r)],
              &last[slot(r)]);
  }
  for (i64 c0 = kFirst; c0 <= kLast; c0 += kChunk) {
    const i64 n = kLast + 1 - c0 < kChunk ? kLast + 1 - c0 : kChunk;
    sync();
    stage(ks, k + kvHead * D, c0, n, a.hkv * D, D);
    stage(vs, v + kvHead * D, c0, n, a.hkv * D, D);
    sync();
    for (int r = tid(); r < rows; r += nthreads()) {
      const float *qr = qs + r * D;
      float *ar = acc + r * D;
      for (i64 j = 0; j < n; ++j) {
        const i64 key = c0 + j;
        const int sl = slot(r);
        if (key < first[sl] || key > last[sl])
          continue;
        float dot = 0.0f;
        for (int d = 0; d < D; ++d)
          dot += qr[d] * ks[j * D + d];
        const float s = dot * a.scale;
        const float mNew = fmaxf(m[sl], s);
        const float corr = expf(m[sl] - mNew); // 0 on the first key
        const float p = expf(s - mNew);
        sum[sl] = sum[sl] * corr + p;
        for (int d = 0; d < D; ++d)
          ar[d] = ar[d] * corr + p * vs[j * D + d];
        m[sl] = mNew;
      }
    }
  }
  for (int r = tid(); r < rows; r += nthreads()) {
    const float inv = 1.0f / sum[slot(r)];
    for (int d = 0; d < D; ++d)
      store(out, ((r0 + r) * a.hq + head) * D + d, acc[r * D + d] * inv);
    args.lse[(r0 + r) * a.hq + head] = m[slot(r)] + logf(sum[slot(r)]);
  }
}

template <typename T, int D>
INFIR2_FN void dq_body(const BwdArgs &args) {
  const Dims &a = args.dims;
  const T *q = static_cast<const T *>(args.q);
  const T *k = static_cast<const T *>(args.k);
  const T *v = static_cast<const T *>(args.v);
  const T *o = static_cast<const T *>(args.out);
  const T *dout = static_cast<const T *>(args.dout);
  T *dq = static_cast<T *>(args.dq);
  const QueryTile qt = query_tile(a);
  const i64 head = qt.head, kvHead = qt.kvHead, r0 = qt.r0, rows = qt.rows;
  const i64 kFirst = qt.kFirst, kLast = qt.kLast;
  float *qs = reinterpret_cast<float *>(smem()); // [kRows, D]
  float *dos = qs + kRows * D;                   // [kRows, D]
  float *acc = dos + kRows * D;                  // [kRows, D]
  float *ks = acc + kRows * D;                   // [kChunk, D]
  float *vs = ks + kChunk * D;                   // [kChunk, D]
  stage(qs, q + head * D, r0, rows, a.hq * D, D);
  stage(dos, dout + head * D, r0, rows, a.hq * D, D);
  for (i64 e = tid(); e < kRows * D; e += nthreads())
    acc[e] = 0.0f;
  float lse[kSlots], dsum[kSlots];
  i64 first[kSlots], last[kSlots];
  sync();
  for (int r = tid(); r < rows; r += nthreads()) {
    const i64 row = r0 + r;
    const int sl = slot(r);
    key_range(a.cu_seqlens, a.num_seqs, row, a.causal, &first[sl], &last[sl]);
    lse[sl] = args.lse[row * a.hq + head];
    float s = 0.0f;
    for (int d = 0; d < D; ++d)
      s += dos[r * D + d] * load(o, (row * a.hq + head) * D + d);
    dsum[sl] = s;
    args.dsum[row * a.hq + head] = s;
  }
  for (i64 c0 = kFirst; c0 <= kLast; c0 += kChunk) {
    const i64 n = kLast + 1 - c0 < kChunk ? kLast + 1 - c0 : kChunk;
    sync();
    stage(ks, k + kvHead * D, c0, n, a.hkv * D, D);
    stage(vs, v + kvHead * D, c0, n, a.hkv * D, D);
    sync();
    for (int r = tid(); r < rows; r += nthreads()) {
      const float *qr = qs + r * D, *dor = dos + r * D;
      float *ar = acc + r * D;
      for (i64 j = 0; j < n; ++j) {
        const i64 key = c0 + j;
        const int sl = slot(r);
        if (key < first[sl] || key > last[sl])
          continue;
        float dot = 0.0f, dp = 0.0f;
        for (int d = 0; d < D; ++d) {
          dot += qr[d] * ks[j * D + d];
          dp += dor[d] * vs[j * D + d];
        }
        const float p = expf(dot * a.scale - lse[sl]);
        const float ds = p * (dp - dsum[sl]) * a.scale;
        for (int d = 0; d < D; ++d)
          ar[d] += ds * ks[j * D + d];
      }
    }
  }
  for (int r = tid(); r < rows; r += nthreads())
    for (int d = 0; d < D; ++d)
      store(dq, ((r0 + r) * a.hq + head) * D + d, acc[r * D + d]);
}

/// Runs after dq_body (which writes dsum). One block per (key tile, kv
/// head); the query heads of the group are summed in order.
template <typename T, int D>
INFIR2_FN void dkv_body(const BwdArgs &args) {
  const Dims &a = args.dims;
  const T *q = static_cast<const T *>(args.q);
  const T *k = static_cast<const T *>(args.k);
  const T *v = static_cast<const T *>(args.v);
  const T *dout = static_cast<const T *>(args.dout);
  T *dk = static_cast<T *>(args.dk);
  T *dv = static_cast<T *>(args.dv);
  const i64 kvHead = block() % a.hkv, tile = block() / a.hkv;
  const i64 group = a.hq / a.hkv;
  const i64 r0 = tile * kRows;
  const i64 rows = a.t - r0 < kRows ? a.t - r0 : kRows;
  float *ks = reinterpret_cast<float *>(smem()); // [kRows, D]
  float *vs = ks + kRows * D;                    // [kRows, D]
  float *dks = vs + kRows * D;                   // [kRows, D]
  float *dvs = dks + kRows * D;                  // [kRows, D]
  float *qs = dvs + kRows * D;                   // [kChunk, D]
  float *dos = qs + kChunk * D;                  // [kChunk, D]
  float *stats = dos + kChunk * D;               // [kChunk, 2]: lse, dsum
  stage(ks, k + kvHead * D, r0, rows, a.hkv * D, D);
  stage(vs, v + kvHead * D, r0, rows, a.hkv * D, D);
  for (i64 e = tid(); e < kRows * D; e += nthreads())
    dks[e] = dvs[e] = 0.0f;
  // Query rows that read key j: same sequence, and >= j when causal.
  i64 s0, e0, s1, e1;
  sequence_of(a.cu_seqlens, a.num_seqs, r0, &s0, &e0);
  sequence_of(a.cu_seqlens, a.num_seqs, r0 + rows - 1, &s1, &e1);
  const i64 qFirst = a.causal ? r0 : s0, qLast = e1 - 1;
  i64 seqStart[kSlots], seqEnd[kSlots];
  for (int r = tid(); r < rows; r += nthreads())
    sequence_of(a.cu_seqlens, a.num_seqs, r0 + r, &seqStart[slot(r)],
                &seqEnd[slot(r)]);
  for (i64 h = kvHead * group; h < (kvHead + 1) * group; ++h)
    for (i64 c0 = qFirst; c0 <= qLast; c0 += kChunk) {
      const i64 n = qLast + 1 - c0 < kChunk ? qLast + 1 - c0 : kChunk;
      sync();
      stage(qs, q + h * D, c0, n, a.hq * D, D);
      stage(dos, dout + h * D, c0, n, a.hq * D, D);
      for (i64 i = tid(); i < n; i += nthreads()) {
        stats[2 * i] = args.lse[(c0 + i) * a.hq + h];
        stats[2 * i + 1] = args.dsum[(c0 + i) * a.hq + h];
      }
      sync();
      for (int r = tid(); r < rows; r += nthreads()) {
        const i64 key = r0 + r;
        const float *kr = ks + r * D, *vr = vs + r * D;
        float *dkr = dks + r * D, *dvr = dvs + r * D;
        for (i64 i = 0; i < n; ++i) {
          const i64 row = c0 + i;
          if (row < seqStart[slot(r)] || row >= seqEnd[slot(r)] ||
              (a.causal && row < key))
            continue;
          float dot = 0.0f, dp = 0.0f;
          for (int d = 0; d < D; ++d) {
            dot += qs[i * D + d] * kr[d];
            dp += dos[i * D + d] * vr[d];
          }
          const float p = expf(dot * a.scale - stats[2 * i]);
          const float ds = p * (dp - stats[2 * i + 1]) * a.scale;
          for (int d = 0; d < D; ++d) {
            dvr[d] += p * dos[i * D + d];
            dkr[d] += ds * qs[i * D + d];
          }
        }
      }
    }
  for (int r = tid(); r < rows; r += nthreads())
    for (int d = 0; d < D; ++d) {
      store(dk, ((r0 + r) * a.hkv + kvHead) * D + d, dks[r * D + d]);
      store(dv, ((r0 + r) * a.hkv + kvHead) * D + d, dvs[r * D + d]);
    }
}

/// Dynamic shared memory of each kernel, in bytes.
INFIR2_FN i64 fwd_smem(int d) { return (2 * kRows + 2 * kChunk) * d * 4; }
INFIR2_FN i64 dq_smem(int d) { return (3 * kRows + 2 * kChunk) * d * 4; }
INFIR2_FN i64 dkv_smem(int d) {
  return (4 * kRows + 2 * kChunk) * d * 4 + 2 * kChunk * 4;
}
} // namespace attn
} // namespace infir2

// Entry points: infir2_attn_{fwd,dq,dkv}_{bf16,f32}_d{64,128}. Grid: fwd
// and dq ceil(T / kRows) * Hq blocks, dkv ceil(T / kRows) * Hkv; kRows
// threads per block on the GPU.
#ifdef INFIR2_GPU
#define INFIR2_ATTN_ENTRY(kind, Args, T, tname, D)                             \
  extern "C" __global__ void __launch_bounds__(infir2::attn::kRows)            \
      infir2_attn_##kind##_##tname##_d##D(infir2::attn::Args a) {              \
    infir2::attn::kind##_body<T, D>(a);                                        \
  }
#else
#define INFIR2_ATTN_ENTRY(kind, Args, T, tname, D)                             \
  extern "C" void infir2_attn_##kind##_##tname##_d##D(const void *args,        \
                                                      i64 grid, i64 smem) {    \
    infir2::attn::Args a;                                                      \
    std::memcpy(&a, args, sizeof(a));                                          \
    infir2::run_blocks(grid, smem,                                             \
                       [&] { infir2::attn::kind##_body<T, D>(a); });           \
  }
#endif
#define INFIR2_ATTN_ENTRIES(T, tname, D)                                       \
  INFIR2_ATTN_ENTRY(fwd, FwdArgs, T, tname, D)                                 \
  INFIR2_ATTN_ENTRY(dq, BwdArgs, T, tname, D)                                  \
  INFIR2_ATTN_ENTRY(dkv, BwdArgs, T, tname, D)
INFIR2_ATTN_ENTRIES(u16, bf16, 64)
INFIR2_ATTN_ENTRIES(u16, bf16, 128)
INFIR2_ATTN_ENTRIES(float, f32, 64)
INFIR2_ATTN_ENTRIES(float, f32, 128)

#endif // INFIR2_KERNEL_ATTENTION_H_
