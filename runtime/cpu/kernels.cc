//===- kernels.cc - CPU implementations of the graph ops ------------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// Built with -ffp-contract=off: a fused multiply-add would round differently
// from the references (PyTorch's eager ops round every product).
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/kernels.h"

#include <cblas.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "runtime/cpu/vmath.h"
#include "runtime/numerics/convert.h"
#include "runtime/numerics/parallel.h"

namespace infir2::cpu {
namespace {
using numerics::parallelFor;

constexpr int64_t kChunk = 4096;

absl::Status invalid(const std::string &what) {
  return absl::InvalidArgumentError(what);
}

std::string shapeOf(const Tensor &t) { return formatShape(t.shape()); }

absl::Status needFloat(const Tensor &t, const char *what) {
  if (isFloat(t.dtype()))
    return absl::OkStatus();
  return invalid(absl::StrCat(what, " has dtype ", dtypeName(t.dtype()),
                              "; expected F32, BF16 or F16"));
}

int64_t indexAt(const Tensor &t, int64_t i) {
  return t.dtype() == DType::kI64 ? t.data<int64_t>()[i]
                                  : static_cast<int64_t>(t.data<int32_t>()[i]);
}

int64_t product(const std::vector<int64_t> &shape, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t i = begin; i < end; ++i)
    n *= shape[i];
  return n;
}

std::vector<int64_t> stridesOf(const std::vector<int64_t> &shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

/// f32 view of a float tensor: the data itself, or a converted copy.
class F32 {
public:
  explicit F32(const Tensor &t) {
    if (t.dtype() == DType::kF32) {
      ptr_ = t.data<float>();
    } else {
      copy_ = toF32(t);
      ptr_ = copy_.data<float>();
    }
  }
  const float *get() const { return ptr_; }

private:
  Tensor copy_;
  const float *ptr_ = nullptr;
};

/// An f32 tensor to write results into; commit() rounds it to |out| when
/// the result type is narrower.
struct F32Out {
  F32Out(DType dtype, std::vector<int64_t> shape)
      : result(Tensor::empty(dtype, shape)),
        scratch(dtype == DType::kF32 ? result
                                     : Tensor::empty(DType::kF32, shape)) {}
  float *get() { return scratch.data<float>(); }
  Tensor commit() {
    if (result.dtype() != DType::kF32)
      storeF32(scratch.data<float>(), scratch.numel(), result, 0);
    return result;
  }
  Tensor result, scratch;
};

/// Runs |fn(begin, n)| over [0, total) in parallel chunks.
template <typename Fn>
void chunked(int64_t total, Fn fn) {
  parallelFor((total + kChunk - 1) / kChunk, 16, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      int64_t begin = c * kChunk;
      fn(begin, std::min(kChunk, total - begin));
    }
  });
}

/// Rounds |n| floats to |dtype| and back, in place.
void roundTo(DType dtype, float *v, int64_t n) {
  if (dtype == DType::kBF16) {
    for (int64_t b = 0; b < n; b += kChunk) {
      uint16_t tmp[kChunk];
      int64_t len = std::min(kChunk, n - b);
      numerics::convertF32ToBf16(v + b, tmp, len);
      numerics::convertBf16ToF32(tmp, v + b, len);
    }
  } else if (dtype == DType::kF16) {
    for (int64_t i = 0; i < n; ++i)
      v[i] = static_cast<float>(static_cast<_Float16>(v[i]));
  }
}

/// out[i...] = x[offset + sum_d i_d * strides[d]] for every index of
/// |shape| (in elements): transpose, broadcast and slice are all this.
Tensor gather(const Tensor &x, const std::vector<int64_t> &shape,
              const std::vector<int64_t> &strides, int64_t offset) {
  Tensor out = Tensor::empty(x.dtype(), shape);
  const int64_t r = static_cast<int64_t>(shape.size());
  const int64_t es = dtypeSize(x.dtype()), n = out.numel();
  std::vector<int64_t> idx(r, 0);
  int64_t src = offset;
  for (int64_t o = 0; o < n; ++o) {
    std::memcpy(out.data<uint8_t>() + o * es, x.data<uint8_t>() + src * es,
                static_cast<size_t>(es));
    // Odometer increment, keeping |src| in step.
    for (int64_t d = r - 1; d >= 0; --d) {
      src += strides[d];
      if (++idx[d] < shape[d])
        break;
      src -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}
} // namespace

bool isFloat(DType d) {
  return d == DType::kF32 || d == DType::kBF16 || d == DType::kF16;
}
bool isIndex(DType d) { return d == DType::kI32 || d == DType::kI64; }

void loadF32(const Tensor &t, int64_t begin, int64_t n, float *out) {
  switch (t.dtype()) {
  case DType::kF32:
    std::memcpy(out, t.data<float>() + begin, static_cast<size_t>(n) * 4);
    return;
  case DType::kBF16:
    numerics::convertBf16ToF32(t.data<uint16_t>() + begin, out, n);
    return;
  case DType::kF16: {
    const _Float16 *in = t.data<_Float16>() + begin;
    for (int64_t i = 0; i < n; ++i)
      out[i] = static_cast<float>(in[i]);
    return;
  }
  default:
    std::abort(); // callers check isFloat first
  }
}

void storeF32(const float *in, int64_t n, Tensor &t, int64_t begin) {
  switch (t.dtype()) {
  case DType::kF32:
    std::memcpy(t.data<float>() + begin, in, static_cast<size_t>(n) * 4);
    return;
  case DType::kBF16:
    numerics::convertF32ToBf16(in, t.data<uint16_t>() + begin, n);
    return;
  case DType::kF16: {
    _Float16 *out = t.data<_Float16>() + begin;
    for (int64_t i = 0; i < n; ++i)
      out[i] = static_cast<_Float16>(in[i]);
    return;
  }
  default:
    std::abort();
  }
}

Tensor toF32(const Tensor &t) {
  if (t.dtype() == DType::kF32)
    return t;
  Tensor out = Tensor::empty(DType::kF32, t.shape());
  chunked(t.numel(), [&](int64_t b, int64_t n) {
    loadF32(t, b, n, out.data<float>() + b);
  });
  return out;
}

absl::StatusOr<Tensor> embedding(const Tensor &table, const Tensor &ids) {
  if (table.rank() != 2 || !isIndex(ids.dtype()))
    return invalid(absl::StrCat("embedding: table ", shapeOf(table),
                                " must be [V, D] and ids i32/i64"));
  const int64_t vocab = table.dim(0), d = table.dim(1), n = ids.numel();
  const int64_t es = dtypeSize(table.dtype());
  std::vector<int64_t> shape = ids.shape();
  shape.push_back(d);
  Tensor out = Tensor::empty(table.dtype(), shape);
  for (int64_t i = 0; i < n; ++i) {
    int64_t id = indexAt(ids, i);
    if (id < 0 || id >= vocab)
      return absl::OutOfRangeError(
          absl::StrCat("embedding: token id ", id, " at position ", i,
                       " is outside the vocabulary [0, ", vocab, ")"));
    std::memcpy(out.data<uint8_t>() + i * d * es,
                table.data<uint8_t>() + id * d * es,
                static_cast<size_t>(d * es));
  }
  return out;
}

absl::StatusOr<Tensor> linear(const Tensor &x, const Tensor &w,
                              const Tensor *bias, DType outType) {
  if (absl::Status s = needFloat(x, "linear input"); !s.ok())
    return s;
  if (absl::Status s = needFloat(w, "linear weight"); !s.ok())
    return s;
  if (bias)
    if (absl::Status s = needFloat(*bias, "linear bias"); !s.ok())
      return s;
  if (x.rank() < 1 || w.rank() != 2 || x.dim(-1) != w.dim(1) ||
      (bias && (bias->rank() != 1 || bias->dim(0) != w.dim(0))))
    return invalid(absl::StrCat("linear: input ", shapeOf(x), ", weight ",
                                shapeOf(w), bias ? ", bias " : "",
                                bias ? shapeOf(*bias) : "",
                                " do not fit [..., K] x [N, K] + [N]"));
  const int64_t k = w.dim(1), n = w.dim(0);
  const int64_t m = product(x.shape(), 0, x.shape().size() - 1);
  std::vector<int64_t> shape = x.shape();
  shape.back() = n;
  F32 xs(x), ws(w);
  F32Out out(outType, shape);
  float *y = out.get();
  if (m > 0 && n > 0) {
    if (bias) {
      Tensor b = toF32(*bias);
      for (int64_t r = 0; r < m; ++r)
        std::memcpy(y + r * n, b.data<float>(), static_cast<size_t>(n) * 4);
    } else if (k == 0) {
      std::fill_n(y, m * n, 0.0f);
    }
    // An empty contraction (K = 0) sums nothing: y is the bias (or 0).
    if (k > 0)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f,
                  xs.get(), k, ws.get(), k, bias ? 1.0f : 0.0f, y, n);
  }
  return out.commit();
}

absl::StatusOr<Tensor> matmul(const Tensor &lhs, const Tensor &rhs,
                              bool transposeLhs, bool transposeRhs,
                              DType outType) {
  if (absl::Status s = needFloat(lhs, "matmul lhs"); !s.ok())
    return s;
  if (absl::Status s = needFloat(rhs, "matmul rhs"); !s.ok())
    return s;
  const int64_t r = lhs.rank();
  if (r < 2 || rhs.rank() != r ||
      !std::equal(lhs.shape().begin(), lhs.shape().end() - 2,
                  rhs.shape().begin()))
    return invalid(absl::StrCat("matmul: operands ", shapeOf(lhs), " and ",
                                shapeOf(rhs),
                                " need one rank >= 2 and equal batch dims"));
  const int64_t m = transposeLhs ? lhs.dim(-1) : lhs.dim(-2);
  const int64_t k = transposeLhs ? lhs.dim(-2) : lhs.dim(-1);
  const int64_t k2 = transposeRhs ? rhs.dim(-1) : rhs.dim(-2);
  const int64_t n = transposeRhs ? rhs.dim(-2) : rhs.dim(-1);
  if (k != k2)
    return invalid(absl::StrCat("matmul: contraction sizes ", k, " and ", k2,
                                " differ (", shapeOf(lhs), ", ", shapeOf(rhs),
                                ")"));
  const int64_t batch = product(lhs.shape(), 0, r - 2);
  std::vector<int64_t> shape(lhs.shape().begin(), lhs.shape().end() - 2);
  shape.push_back(m);
  shape.push_back(n);
  F32 a(lhs), b(rhs);
  F32Out out(outType, shape);
  if (m > 0 && n > 0) {
    for (int64_t i = 0; i < batch; ++i) {
      if (k == 0) {
        std::fill_n(out.get() + i * m * n, m * n, 0.0f);
        continue;
      }
      cblas_sgemm(CblasRowMajor, transposeLhs ? CblasTrans : CblasNoTrans,
                  transposeRhs ? CblasTrans : CblasNoTrans, m, n, k, 1.0f,
                  a.get() + i * m * k, transposeLhs ? m : k,
                  b.get() + i * k * n, transposeRhs ? k : n, 0.0f,
                  out.get() + i * m * n, n);
    }
  }
  return out.commit();
}

absl::StatusOr<Tensor> rmsNorm(const Tensor &x, const Tensor &weight,
                               double epsilon, DType outType) {
  if (absl::Status s = needFloat(x, "rms_norm input"); !s.ok())
    return s;
  if (absl::Status s = needFloat(weight, "rms_norm weight"); !s.ok())
    return s;
  if (x.rank() < 1 || weight.rank() != 1 || weight.dim(0) != x.dim(-1))
    return invalid(absl::StrCat("rms_norm: weight ", shapeOf(weight),
                                " does not match the last dim of ",
                                shapeOf(x)));
  const int64_t d = x.dim(-1), rows = d ? x.numel() / d : 0;
  const float eps = static_cast<float>(epsilon);
  Tensor w = toF32(weight);
  Tensor out = Tensor::empty(outType, x.shape());
  const bool narrow = x.dtype() != DType::kF32;
  parallelFor(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(d, 1)),
              [&](int64_t b, int64_t e) {
                std::vector<float> row(d), y(d);
                for (int64_t r = b; r < e; ++r) {
                  loadF32(x, r * d, d, row.data());
                  float acc[8] = {};
                  for (int64_t i = 0; i < d; ++i)
                    acc[i % 8] += row[i] * row[i];
                  float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) +
                              ((acc[4] + acc[5]) + (acc[6] + acc[7]));
                  float inv =
                      1.0f / std::sqrt(sum / static_cast<float>(d) + eps);
                  for (int64_t i = 0; i < d; ++i)
                    y[i] = row[i] * inv;
                  // Qwen2RMSNorm rounds the normalized row to the input type
                  // before the weight multiplies it.
                  if (narrow)
                    roundTo(x.dtype(), y.data(), d);
                  for (int64_t i = 0; i < d; ++i)
                    y[i] = w.data<float>()[i] * y[i];
                  storeF32(y.data(), d, out, r * d);
                }
              });
  return out;
}

absl::StatusOr<Tensor> rope(const Tensor &x, const Tensor &positions,
                            double theta, RopeStyle style) {
  return rotate(x, positions, theta, style, /*inverse=*/false);
}

absl::StatusOr<Tensor> ropeGrad(const Tensor &grad, const Tensor &positions,
                                double theta, RopeStyle style) {
  // The rotation is orthogonal: its gradient is the inverse rotation.
  return rotate(grad, positions, theta, style, /*inverse=*/true);
}

absl::StatusOr<Tensor> rotate(const Tensor &x, const Tensor &positions,
                              double theta, RopeStyle style, bool inverse) {
  if (absl::Status s = needFloat(x, "rope input"); !s.ok())
    return s;
  if (x.rank() != 3 || x.dim(2) % 2 != 0 || positions.rank() != 1 ||
      positions.dim(0) != x.dim(0) || !isIndex(positions.dtype()))
    return invalid(absl::StrCat("rope: input ", shapeOf(x),
                                " must be [T, H, D] with D even and positions ",
                                shapeOf(positions), " [T] i32/i64"));
  const int64_t t = x.dim(0), h = x.dim(1), d = x.dim(2), half = d / 2;
  // inv_freq as transformers computes it: f32 exponent 2i/D, f32 power.
  std::vector<float> invFreq(half);
  const float base = static_cast<float>(theta);
  for (int64_t i = 0; i < half; ++i) {
    float expo = static_cast<float>(2 * i) / static_cast<float>(d);
    invFreq[i] = 1.0f / std::pow(base, expo);
  }
  Tensor out = Tensor::empty(x.dtype(), x.shape());
  parallelFor(t, 8, [&](int64_t b, int64_t e) {
    std::vector<float> in(h * d), y(h * d), cs(half), sn(half);
    for (int64_t tok = b; tok < e; ++tok) {
      const float pos = static_cast<float>(indexAt(positions, tok));
      for (int64_t i = 0; i < half; ++i) {
        float angle = pos * invFreq[i];
        cs[i] = std::cos(angle);
        sn[i] = inverse ? -std::sin(angle) : std::sin(angle);
      }
      loadF32(x, tok * h * d, h * d, in.data());
      for (int64_t hd = 0; hd < h; ++hd) {
        const float *a = in.data() + hd * d;
        float *o = y.data() + hd * d;
        for (int64_t i = 0; i < half; ++i) {
          int64_t i0 = style == RopeStyle::kRotateHalf ? i : 2 * i;
          int64_t i1 = style == RopeStyle::kRotateHalf ? i + half : 2 * i + 1;
          float p = a[i0] * cs[i], q = a[i1] * sn[i];
          float r = a[i1] * cs[i], s = a[i0] * sn[i];
          o[i0] = p - q;
          o[i1] = r + s;
        }
      }
      storeF32(y.data(), h * d, out, tok * h * d);
    }
  });
  return out;
}

/// Softmax of |row| over its first |limit| of |keys| entries (the causal
/// window); the masked rest becomes 0.
static void softmaxRow(float *row, int64_t keys, int64_t limit) {
  const float mx = maxOf(row, limit);
  const float sum = expShifted(row, limit, mx);
  for (int64_t j = 0; j < limit; ++j)
    row[j] /= sum;
  std::fill(row + limit, row + keys, 0.0f);
}

absl::StatusOr<Tensor> attention(const Tensor &q, const Tensor &k,
                                 const Tensor &v, const Tensor &cuSeqlens,
                                 double scale, bool causal) {
  for (const Tensor *t : {&q, &k, &v})
    if (absl::Status s = needFloat(*t, "attention operand"); !s.ok())
      return s;
  if (q.rank() != 3 || k.rank() != 3 || v.shape() != k.shape() ||
      k.dim(0) != q.dim(0) || k.dim(2) != q.dim(2) || k.dim(1) == 0 ||
      q.dim(1) % k.dim(1) != 0)
    return invalid(absl::StrCat("attention: query ", shapeOf(q), ", key ",
                                shapeOf(k), ", value ", shapeOf(v),
                                " must be [T, Hq, D], [T, Hkv, D] x2 with Hq "
                                "a multiple of Hkv"));
  const int64_t t = q.dim(0), hq = q.dim(1), hkv = k.dim(1), d = q.dim(2);
  const int64_t group = hq / hkv;
  if (cuSeqlens.rank() != 1 || cuSeqlens.dtype() != DType::kI32 ||
      cuSeqlens.numel() < 1)
    return invalid(absl::StrCat("attention: cu_seqlens ", shapeOf(cuSeqlens),
                                " must be a non-empty i32 vector"));
  const int32_t *cu = cuSeqlens.data<int32_t>();
  const int64_t numSeqs = cuSeqlens.numel() - 1;
  if (cu[0] != 0 || cu[numSeqs] != t)
    return invalid(absl::StrCat("attention: cu_seqlens starts at ", cu[0],
                                " and ends at ", cu[numSeqs],
                                "; it must run from 0 to T = ", t));
  for (int64_t s = 0; s < numSeqs; ++s)
    if (cu[s + 1] < cu[s])
      return invalid(absl::StrCat("attention: cu_seqlens decreases at ", s,
                                  " (", cu[s], " > ", cu[s + 1], ")"));
  F32 qs(q), ks(k), vs(v);
  F32Out out(q.dtype(), q.shape());
  const float alpha = static_cast<float>(scale);
  // Per (sequence, query head), blocks of query rows: S = alpha Q K^T and
  // O = softmax(S) V through sgemm (alpha scales the finished dot product,
  // as transformers' eager attention does), the softmax in between. A block
  // needs the scores of its rows only: memory is O(block x T).
  constexpr int64_t kBlock = 128;
  std::vector<float> scores;
  for (int64_t s = 0; s < numSeqs; ++s) {
    const int64_t start = cu[s], len = cu[s + 1] - cu[s];
    for (int64_t head = 0; head < hq && len > 0; ++head) {
      const int64_t kvHead = head / group;
      const float *qp = qs.get() + (start * hq + head) * d;
      const float *kp = ks.get() + (start * hkv + kvHead) * d;
      const float *vp = vs.get() + (start * hkv + kvHead) * d;
      float *op = out.get() + (start * hq + head) * d;
      for (int64_t r0 = 0; r0 < len; r0 += kBlock) {
        const int64_t rows = std::min(kBlock, len - r0);
        const int64_t keys = causal ? r0 + rows : len;
        scores.resize(static_cast<size_t>(rows * keys));
        if (d > 0)
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, keys, d,
                      alpha, qp + r0 * hq * d, hq * d, kp, hkv * d, 0.0f,
                      scores.data(), keys);
        else
          std::fill(scores.begin(), scores.end(), 0.0f);
        parallelFor(rows, std::max<int64_t>(1, 32768 / keys),
                    [&](int64_t b, int64_t e) {
                      for (int64_t i = b; i < e; ++i)
                        softmaxRow(scores.data() + i * keys, keys,
                                   causal ? r0 + i + 1 : keys);
                    });
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, d, keys,
                    1.0f, scores.data(), keys, vp, hkv * d, 0.0f,
                    op + r0 * hq * d, hq * d);
      }
    }
  }
  return out.commit();
}

absl::StatusOr<Tensor> crossEntropy(const Tensor &logits, const Tensor &labels,
                                    const Tensor &mask) {
  if (logits.dtype() != DType::kF32 || logits.rank() != 2 ||
      labels.rank() != 1 || !isIndex(labels.dtype()) ||
      mask.dtype() != DType::kF32 || mask.rank() != 1 ||
      labels.dim(0) != logits.dim(0) || mask.dim(0) != logits.dim(0))
    return invalid(absl::StrCat("cross_entropy: logits ", shapeOf(logits),
                                " f32 [T, V], labels ", shapeOf(labels),
                                " [T] i32/i64, loss_mask ", shapeOf(mask),
                                " f32 [T] expected"));
  const int64_t t = logits.dim(0), vocab = logits.dim(1);
  Tensor out = Tensor::empty(DType::kF32, {t});
  const float *x = logits.data<float>(), *m = mask.data<float>();
  for (int64_t i = 0; i < t; ++i) {
    int64_t label = indexAt(labels, i);
    if (m[i] != 0.0f && (label < 0 || label >= vocab))
      return absl::OutOfRangeError(
          absl::StrCat("cross_entropy: label ", label, " at position ", i,
                       " is outside [0, ", vocab, ") and not masked"));
  }
  parallelFor(t, std::max<int64_t>(1, 65536 / std::max<int64_t>(vocab, 1)),
              [&](int64_t b, int64_t e) {
                std::vector<float> buf(static_cast<size_t>(vocab));
                for (int64_t i = b; i < e; ++i) {
                  float *o = out.data<float>() + i;
                  if (m[i] == 0.0f) {
                    *o = 0.0f;
                    continue;
                  }
                  const float *row = x + i * vocab;
                  const float mx = maxOf(row, vocab);
                  std::memcpy(buf.data(), row,
                              static_cast<size_t>(vocab) * sizeof(float));
                  const float sum = expShifted(buf.data(), vocab, mx);
                  float lse = mx + std::log(sum);
                  *o = m[i] * (lse - row[indexAt(labels, i)]);
                }
              });
  return out;
}

absl::StatusOr<Tensor> unary(UnaryKind kind, const Tensor &x) {
  if (kind == UnaryKind::kNeg && isIndex(x.dtype())) {
    Tensor out = Tensor::empty(x.dtype(), x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) {
      if (x.dtype() == DType::kI64)
        out.data<int64_t>()[i] = static_cast<int64_t>(
            0ull - static_cast<uint64_t>(x.data<int64_t>()[i]));
      else
        out.data<int32_t>()[i] = static_cast<int32_t>(
            0u - static_cast<uint32_t>(x.data<int32_t>()[i]));
    }
    return out;
  }
  if (absl::Status s = needFloat(x, "unary op input"); !s.ok())
    return s;
  Tensor out = Tensor::empty(x.dtype(), x.shape());
  chunked(x.numel(), [&](int64_t b, int64_t n) {
    float buf[kChunk];
    loadF32(x, b, n, buf);
    if (kind == UnaryKind::kSilu) {
      siluMul(buf, nullptr, buf, n);
    } else if (kind == UnaryKind::kExp) {
      expShifted(buf, n, 0.0f);
    } else {
      for (int64_t i = 0; i < n; ++i)
        buf[i] = kind == UnaryKind::kNeg   ? -buf[i]
                 : kind == UnaryKind::kLog ? std::log(buf[i])
                                           : 1.0f / std::sqrt(buf[i]);
    }
    storeF32(buf, n, out, b);
  });
  return out;
}

absl::StatusOr<Tensor> swiglu(const Tensor &gate, const Tensor &up) {
  if (absl::Status s = needFloat(gate, "swiglu gate"); !s.ok())
    return s;
  if (gate.shape() != up.shape() || gate.dtype() != up.dtype())
    return invalid(absl::StrCat("swiglu: gate ", shapeOf(gate), " and up ",
                                shapeOf(up), " differ"));
  Tensor out = Tensor::empty(gate.dtype(), gate.shape());
  chunked(gate.numel(), [&](int64_t b, int64_t n) {
    float g[kChunk], u[kChunk];
    loadF32(gate, b, n, g);
    loadF32(up, b, n, u);
    siluMul(g, u, g, n);
    storeF32(g, n, out, b);
  });
  return out;
}

namespace {
template <typename T, typename U>
absl::Status integerBinary(BinaryKind kind, const T *a, const T *b, T *o,
                           int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    U x = static_cast<U>(a[i]), y = static_cast<U>(b[i]);
    switch (kind) {
    case BinaryKind::kAdd:
      o[i] = static_cast<T>(x + y);
      break;
    case BinaryKind::kSub:
      o[i] = static_cast<T>(x - y);
      break;
    case BinaryKind::kMul:
      o[i] = static_cast<T>(x * y);
      break;
    case BinaryKind::kDiv:
      if (b[i] == 0)
        return invalid(absl::StrCat("div: integer division by zero at "
                                    "element ",
                                    i));
      // INT_MIN / -1 wraps to INT_MIN.
      o[i] =
          (b[i] == -1) ? static_cast<T>(U(0) - x) : static_cast<T>(a[i] / b[i]);
      break;
    }
  }
  return absl::OkStatus();
}
} // namespace

absl::StatusOr<Tensor> binary(BinaryKind kind, const Tensor &lhs,
                              const Tensor &rhs) {
  if (lhs.shape() != rhs.shape() || lhs.dtype() != rhs.dtype())
    return invalid(absl::StrCat("elementwise op: operands ", shapeOf(lhs), " ",
                                dtypeName(lhs.dtype()), " and ", shapeOf(rhs),
                                " ", dtypeName(rhs.dtype()), " differ"));
  Tensor out = Tensor::empty(lhs.dtype(), lhs.shape());
  if (lhs.dtype() == DType::kI32) {
    if (absl::Status s = integerBinary<int32_t, uint32_t>(
            kind, lhs.data<int32_t>(), rhs.data<int32_t>(), out.data<int32_t>(),
            lhs.numel());
        !s.ok())
      return s;
    return out;
  }
  if (lhs.dtype() == DType::kI64) {
    if (absl::Status s = integerBinary<int64_t, uint64_t>(
            kind, lhs.data<int64_t>(), rhs.data<int64_t>(), out.data<int64_t>(),
            lhs.numel());
        !s.ok())
      return s;
    return out;
  }
  if (absl::Status s = needFloat(lhs, "elementwise operand"); !s.ok())
    return s;
  chunked(lhs.numel(), [&](int64_t b, int64_t n) {
    float x[kChunk], y[kChunk];
    loadF32(lhs, b, n, x);
    loadF32(rhs, b, n, y);
    for (int64_t i = 0; i < n; ++i) {
      switch (kind) {
      case BinaryKind::kAdd:
        x[i] = x[i] + y[i];
        break;
      case BinaryKind::kSub:
        x[i] = x[i] - y[i];
        break;
      case BinaryKind::kMul:
        x[i] = x[i] * y[i];
        break;
      case BinaryKind::kDiv:
        x[i] = x[i] / y[i];
        break;
      }
    }
    storeF32(x, n, out, b);
  });
  return out;
}

absl::StatusOr<Tensor> reduce(ReduceKind kind, const Tensor &x,
                              const std::vector<int64_t> &axes, bool keepDims) {
  const int64_t r = x.rank();
  std::vector<bool> reduced(r, false);
  int64_t prev = -1;
  for (int64_t a : axes) {
    if (a <= prev || a >= r)
      return invalid(
          absl::StrCat("reduce: axes must increase and lie in [0, ", r, ")"));
    reduced[a] = true;
    prev = a;
  }
  const bool isF = isFloat(x.dtype());
  if (!isF && !isIndex(x.dtype()))
    return invalid(absl::StrCat("reduce: dtype ", dtypeName(x.dtype()),
                                " is not numeric"));
  if (kind == ReduceKind::kMean && !isF)
    return invalid("reduce_mean: float tensors only");
  std::vector<int64_t> outShape, keptShape;
  int64_t count = 1;
  for (int64_t i = 0; i < r; ++i) {
    if (reduced[i]) {
      count *= x.dim(i);
      if (keepDims)
        outShape.push_back(1);
    } else {
      outShape.push_back(x.dim(i));
    }
  }
  // Output stride of each input dimension (0 for reduced ones).
  std::vector<int64_t> outStride(r, 0);
  int64_t s = 1;
  for (int64_t i = r - 1; i >= 0; --i)
    if (!reduced[i]) {
      outStride[i] = s;
      s *= x.dim(i);
    }
  const int64_t outN = s, n = x.numel();
  std::vector<double> accF;
  std::vector<uint64_t> accI;
  std::vector<int64_t> maxI;
  if (isF)
    accF.assign(outN, kind == ReduceKind::kMax
                          ? -std::numeric_limits<double>::infinity()
                          : 0.0);
  else if (kind == ReduceKind::kMax)
    maxI.assign(outN, std::numeric_limits<int64_t>::min());
  else
    accI.assign(outN, 0);
  std::vector<int64_t> idx(r, 0);
  std::vector<float> buf(std::min<int64_t>(n, kChunk));
  for (int64_t base = 0; base < n; base += kChunk) {
    const int64_t len = std::min(kChunk, n - base);
    if (isF)
      loadF32(x, base, len, buf.data());
    for (int64_t e = 0; e < len; ++e) {
      int64_t o = 0;
      for (int64_t i = 0; i < r; ++i)
        o += idx[i] * outStride[i];
      if (isF) {
        double v = buf[e];
        if (kind == ReduceKind::kMax)
          accF[o] = (std::isnan(v) || std::isnan(accF[o]))
                        ? NAN
                        : std::max(accF[o], v);
        else
          accF[o] += v;
      } else {
        int64_t v = indexAt(x, base + e);
        if (kind == ReduceKind::kMax)
          maxI[o] = std::max(maxI[o], v);
        else
          accI[o] += static_cast<uint64_t>(v);
      }
      for (int64_t i = r - 1; i >= 0; --i) {
        if (++idx[i] < x.dim(i))
          break;
        idx[i] = 0;
      }
    }
  }
  Tensor out = Tensor::empty(x.dtype(), outShape);
  if (isF) {
    std::vector<float> f(outN);
    for (int64_t i = 0; i < outN; ++i)
      f[i] = static_cast<float>(kind == ReduceKind::kMean
                                    ? accF[i] / static_cast<double>(count)
                                    : accF[i]);
    storeF32(f.data(), outN, out, 0);
  } else {
    for (int64_t i = 0; i < outN; ++i) {
      uint64_t v =
          kind == ReduceKind::kMax ? static_cast<uint64_t>(maxI[i]) : accI[i];
      if (x.dtype() == DType::kI64)
        out.data<int64_t>()[i] = static_cast<int64_t>(v);
      else
        out.data<int32_t>()[i] = static_cast<int32_t>(static_cast<uint32_t>(v));
    }
  }
  return out;
}

absl::StatusOr<Tensor> cast(const Tensor &x, DType to) {
  const DType from = x.dtype();
  auto supported = [](DType d) {
    return isFloat(d) || isIndex(d) || d == DType::kBool;
  };
  if (!supported(from) || !supported(to))
    return invalid(absl::StrCat("cast: ", dtypeName(from), " to ",
                                dtypeName(to),
                                " is not a graph.cast (F32, BF16, F16, I32, "
                                "I64, BOOL)"));
  if (from == to)
    return x;
  const int64_t n = x.numel();
  Tensor out = Tensor::empty(to, x.shape());
  if (isFloat(from) && isFloat(to)) {
    chunked(n, [&](int64_t b, int64_t len) {
      float buf[kChunk];
      loadF32(x, b, len, buf);
      storeF32(buf, len, out, b);
    });
    return out;
  }
  // Integer and bool paths go through int64 or f32 element by element.
  auto getInt = [&](int64_t i) -> int64_t {
    if (from == DType::kBool)
      return x.data<uint8_t>()[i] != 0;
    return indexAt(x, i);
  };
  for (int64_t i = 0; i < n; ++i) {
    if (isFloat(from)) {
      float v;
      loadF32(x, i, 1, &v);
      if (to == DType::kBool) {
        out.data<uint8_t>()[i] = v != 0.0f; // NaN is not zero
        continue;
      }
      const bool wide = to == DType::kI64;
      const double lo = wide ? -9223372036854775808.0 : -2147483648.0;
      const double hi = wide ? 9223372036854775807.0 : 2147483647.0;
      int64_t iv;
      if (std::isnan(v))
        iv = 0;
      else if (v <= lo)
        iv = wide ? std::numeric_limits<int64_t>::min()
                  : std::numeric_limits<int32_t>::min();
      else if (v >= hi)
        iv = wide ? std::numeric_limits<int64_t>::max()
                  : std::numeric_limits<int32_t>::max();
      else
        iv = static_cast<int64_t>(std::trunc(v));
      if (wide)
        out.data<int64_t>()[i] = iv;
      else
        out.data<int32_t>()[i] = static_cast<int32_t>(iv);
    } else {
      int64_t v = getInt(i);
      if (isFloat(to)) {
        float f = static_cast<float>(v);
        storeF32(&f, 1, out, i);
      } else if (to == DType::kBool) {
        out.data<uint8_t>()[i] = v != 0;
      } else if (to == DType::kI64) {
        out.data<int64_t>()[i] = v;
      } else {
        out.data<int32_t>()[i] = static_cast<int32_t>(
            static_cast<uint32_t>(static_cast<uint64_t>(v)));
      }
    }
  }
  return out;
}

absl::StatusOr<Tensor> reshape(const Tensor &x, std::vector<int64_t> shape) {
  int64_t known = 1, dynamic = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (dynamic >= 0)
        return invalid("reshape: more than one dynamic dimension");
      dynamic = static_cast<int64_t>(i);
    } else {
      known *= shape[i];
    }
  }
  const int64_t n = x.numel();
  if (dynamic >= 0) {
    if (known == 0 || n % known != 0)
      return invalid(absl::StrCat("reshape: ", n, " elements of ", shapeOf(x),
                                  " do not fill ", formatShape(shape)));
    shape[dynamic] = n / known;
  } else if (known != n) {
    return invalid(absl::StrCat("reshape: ", shapeOf(x), " has ", n,
                                " elements, ", formatShape(shape), " holds ",
                                known));
  }
  return x.reshaped(std::move(shape));
}

absl::StatusOr<Tensor> transpose(const Tensor &x,
                                 const std::vector<int64_t> &perm) {
  const int64_t r = x.rank();
  std::vector<bool> seen(r, false);
  if (static_cast<int64_t>(perm.size()) != r)
    return invalid("transpose: the permutation's length is not the rank");
  for (int64_t p : perm) {
    if (p < 0 || p >= r || seen[p])
      return invalid("transpose: not a permutation");
    seen[p] = true;
  }
  std::vector<int64_t> shape(r), strides(r);
  const std::vector<int64_t> inStrides = stridesOf(x.shape());
  for (int64_t d = 0; d < r; ++d) {
    shape[d] = x.dim(perm[d]);
    strides[d] = inStrides[perm[d]];
  }
  return gather(x, shape, strides, 0);
}

absl::StatusOr<Tensor> broadcast(const Tensor &x,
                                 const std::vector<int64_t> &dims,
                                 std::vector<int64_t> shape,
                                 const Tensor *like) {
  const int64_t r = static_cast<int64_t>(shape.size());
  if (static_cast<int64_t>(dims.size()) != x.rank())
    return invalid("broadcast: dims must name one result dim per input dim");
  if (like && like->rank() != r)
    return invalid("broadcast: 'like' has another rank than the result");
  std::vector<int64_t> source(r, -1); // result dim -> input dim
  for (int64_t i = 0; i < x.rank(); ++i) {
    if (dims[i] < 0 || dims[i] >= r || (i > 0 && dims[i] <= dims[i - 1]))
      return invalid("broadcast: dims must increase within the result rank");
    source[dims[i]] = i;
  }
  for (int64_t d = 0; d < r; ++d) {
    if (shape[d] != -1)
      continue;
    if (like)
      shape[d] = like->dim(d);
    else if (source[d] >= 0)
      shape[d] = x.dim(source[d]);
    else
      return invalid("broadcast: a new dynamic dimension needs 'like'");
  }
  for (int64_t i = 0; i < x.rank(); ++i)
    if (x.dim(i) != 1 && x.dim(i) != shape[dims[i]])
      return invalid(absl::StrCat("broadcast: input ", shapeOf(x),
                                  " does not broadcast to ",
                                  formatShape(shape)));
  const std::vector<int64_t> inStrides = stridesOf(x.shape());
  std::vector<int64_t> stride(r, 0); // repeated dimensions read stride 0
  for (int64_t d = 0; d < r; ++d)
    if (source[d] >= 0 && x.dim(source[d]) != 1)
      stride[d] = inStrides[source[d]];
  return gather(x, shape, stride, 0);
}

absl::StatusOr<Tensor> slice(const Tensor &x, const std::vector<int64_t> &start,
                             const std::vector<int64_t> &limit,
                             const std::vector<int64_t> &stride) {
  const int64_t r = x.rank();
  if (static_cast<int64_t>(start.size()) != r ||
      static_cast<int64_t>(limit.size()) != r ||
      static_cast<int64_t>(stride.size()) != r)
    return invalid("slice: start, limit and stride need one entry per dim");
  std::vector<int64_t> shape(r);
  for (int64_t d = 0; d < r; ++d) {
    if (start[d] < 0 || start[d] > limit[d] || limit[d] > x.dim(d) ||
        stride[d] < 1)
      return invalid(absl::StrCat("slice: dim ", d, " [", start[d], ", ",
                                  limit[d], ") step ", stride[d],
                                  " does not fit size ", x.dim(d)));
    shape[d] = (limit[d] - start[d] + stride[d] - 1) / stride[d];
  }
  const std::vector<int64_t> inStrides = stridesOf(x.shape());
  std::vector<int64_t> strides(r);
  int64_t offset = 0;
  for (int64_t d = 0; d < r; ++d) {
    strides[d] = stride[d] * inStrides[d];
    offset += start[d] * inStrides[d];
  }
  return gather(x, shape, strides, offset);
}

absl::StatusOr<Tensor> concat(const std::vector<const Tensor *> &inputs,
                              int64_t axis) {
  if (inputs.empty())
    return invalid("concat: no inputs");
  const Tensor &first = *inputs[0];
  const int64_t r = first.rank();
  if (axis < 0 || axis >= r)
    return invalid("concat: axis outside the rank");
  std::vector<int64_t> shape = first.shape();
  shape[axis] = 0;
  for (const Tensor *t : inputs) {
    bool fits = t->rank() == r && t->dtype() == first.dtype();
    for (int64_t d = 0; fits && d < r; ++d)
      fits = d == axis || t->dim(d) == first.dim(d);
    if (!fits)
      return invalid(absl::StrCat("concat: ", shapeOf(*t), " does not match ",
                                  shapeOf(first), " off axis ", axis));
    shape[axis] += t->dim(axis);
  }
  Tensor out = Tensor::empty(first.dtype(), shape);
  const int64_t es = dtypeSize(first.dtype());
  const int64_t outer = product(shape, 0, axis);
  const int64_t inner = product(shape, axis + 1, r) * es;
  uint8_t *dst = out.data<uint8_t>();
  for (int64_t o = 0; o < outer; ++o)
    for (const Tensor *t : inputs) {
      const int64_t bytes = t->dim(axis) * inner;
      std::memcpy(dst, t->data<uint8_t>() + o * bytes,
                  static_cast<size_t>(bytes));
      dst += bytes;
    }
  return out;
}

absl::StatusOr<std::vector<Tensor>> split(const Tensor &x, int64_t axis,
                                          const std::vector<int64_t> &sizes) {
  const int64_t r = x.rank();
  if (axis < 0 || axis >= r)
    return invalid("split: axis outside the rank");
  int64_t total = 0;
  for (int64_t size : sizes)
    total += size;
  if (total != x.dim(axis))
    return invalid(absl::StrCat("split: sizes add up to ", total,
                                ", dimension ", axis, " of ", shapeOf(x),
                                " is ", x.dim(axis)));
  std::vector<Tensor> out;
  std::vector<int64_t> start(r, 0), limit = x.shape(), stride(r, 1);
  for (int64_t size : sizes) {
    limit[axis] = start[axis] + size;
    absl::StatusOr<Tensor> piece = slice(x, start, limit, stride);
    if (!piece.ok())
      return piece.status();
    out.push_back(std::move(*piece));
    start[axis] = limit[axis];
  }
  return out;
}

absl::StatusOr<Tensor> splat(DType dtype, std::vector<int64_t> shape,
                             double value) {
  for (int64_t d : shape)
    if (d < 0)
      return invalid("constant: a splat constant needs a static shape");
  Tensor out = Tensor::empty(dtype, shape);
  const int64_t n = out.numel();
  if (isFloat(dtype)) {
    std::vector<float> buf(n, static_cast<float>(value));
    storeF32(buf.data(), n, out, 0);
  } else if (dtype == DType::kI32) {
    std::fill_n(out.data<int32_t>(), n, static_cast<int32_t>(value));
  } else if (dtype == DType::kI64) {
    std::fill_n(out.data<int64_t>(), n, static_cast<int64_t>(value));
  } else if (dtype == DType::kBool) {
    std::fill_n(out.data<uint8_t>(), n, value != 0);
  } else {
    return invalid(absl::StrCat("constant: dtype ", dtypeName(dtype),
                                " is not supported"));
  }
  return out;
}
} // namespace infir2::cpu

//===----------------------------------------------------------------------===//
// Gradient ops
//===----------------------------------------------------------------------===//

namespace infir2::cpu {
absl::StatusOr<Tensor> embeddingGrad(const Tensor &grad, const Tensor &ids,
                                     int64_t numEmbeddings) {
  if (absl::Status s = needFloat(grad, "embedding_grad grad"); !s.ok())
    return s;
  if (!isIndex(ids.dtype()) || grad.rank() != ids.rank() + 1 ||
      numEmbeddings < 1)
    return invalid(absl::StrCat("embedding_grad: grad ", shapeOf(grad),
                                " must be the ids' shape ", shapeOf(ids),
                                " plus the embedding size"));
  const int64_t d = grad.dim(-1), n = ids.numel();
  Tensor out = Tensor::zeros(DType::kF32, {numEmbeddings, d});
  F32 g(grad);
  float *table = out.data<float>();
  // Tokens in order: the sum of a row's contributions is deterministic.
  for (int64_t i = 0; i < n; ++i) {
    const int64_t id = indexAt(ids, i);
    if (id < 0 || id >= numEmbeddings)
      return absl::OutOfRangeError(
          absl::StrCat("embedding_grad: token id ", id, " at position ", i,
                       " is outside the table [0, ", numEmbeddings, ")"));
    float *row = table + id * d;
    const float *src = g.get() + i * d;
    for (int64_t c = 0; c < d; ++c)
      row[c] += src[c];
  }
  return out;
}

absl::StatusOr<std::vector<Tensor>> rmsNormGrad(const Tensor &grad,
                                                const Tensor &x,
                                                const Tensor &weight,
                                                double epsilon) {
  for (const Tensor *t : {&grad, &x, &weight})
    if (absl::Status s = needFloat(*t, "rms_norm_grad operand"); !s.ok())
      return s;
  if (grad.shape() != x.shape() || x.rank() < 1 || weight.rank() != 1 ||
      weight.dim(0) != x.dim(-1))
    return invalid(absl::StrCat("rms_norm_grad: grad ", shapeOf(grad),
                                ", input ", shapeOf(x), ", weight ",
                                shapeOf(weight), " do not fit"));
  const int64_t d = x.dim(-1), rows = d ? x.numel() / d : 0;
  const float eps = static_cast<float>(epsilon);
  Tensor w = toF32(weight);
  Tensor dx = Tensor::empty(x.dtype(), x.shape());
  // Weight gradient: one partial sum per fixed chunk of rows, added in
  // chunk order (deterministic for any thread count).
  constexpr int64_t kRows = 64;
  const int64_t chunks = (rows + kRows - 1) / kRows;
  std::vector<float> partial(static_cast<size_t>(chunks * d), 0.0f);
  parallelFor(chunks, 1, [&](int64_t b, int64_t e) {
    std::vector<float> xr(d), gr(d), g(d), out(d);
    for (int64_t c = b; c < e; ++c) {
      float *dw = partial.data() + c * d;
      for (int64_t r = c * kRows; r < std::min(rows, (c + 1) * kRows); ++r) {
        loadF32(x, r * d, d, xr.data());
        loadF32(grad, r * d, d, gr.data());
        float acc[8] = {};
        for (int64_t i = 0; i < d; ++i)
          acc[i % 8] += xr[i] * xr[i];
        float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) +
                    ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        const float inv = 1.0f / std::sqrt(sum / static_cast<float>(d) + eps);
        double dot = 0;
        for (int64_t i = 0; i < d; ++i) {
          const float n = xr[i] * inv;
          g[i] = gr[i] * w.data<float>()[i];
          dot += static_cast<double>(g[i]) * n;
          dw[i] += gr[i] * n;
        }
        const float mean = static_cast<float>(dot / static_cast<double>(d));
        for (int64_t i = 0; i < d; ++i)
          out[i] = inv * (g[i] - xr[i] * inv * mean);
        storeF32(out.data(), d, dx, r * d);
      }
    }
  });
  Tensor dw = Tensor::zeros(DType::kF32, {d});
  for (int64_t c = 0; c < chunks; ++c)
    for (int64_t i = 0; i < d; ++i)
      dw.data<float>()[i] += partial[c * d + i];
  return std::vector<Tensor>{dx, dw};
}

absl::StatusOr<std::vector<Tensor>>
attentionGrad(const Tensor &grad, const Tensor &q, const Tensor &k,
              const Tensor &v, const Tensor &cuSeqlens, double scale,
              bool causal) {
  for (const Tensor *t : {&grad, &q, &k, &v})
    if (absl::Status s = needFloat(*t, "attention_grad operand"); !s.ok())
      return s;
  if (q.rank() != 3 || k.rank() != 3 || v.shape() != k.shape() ||
      grad.shape() != q.shape() || k.dim(0) != q.dim(0) ||
      k.dim(2) != q.dim(2) || k.dim(1) == 0 || q.dim(1) % k.dim(1) != 0)
    return invalid(absl::StrCat("attention_grad: grad ", shapeOf(grad),
                                ", query ", shapeOf(q), ", key ", shapeOf(k),
                                ", value ", shapeOf(v), " do not fit"));
  const int64_t t = q.dim(0), hq = q.dim(1), hkv = k.dim(1), d = q.dim(2);
  const int64_t group = hq / hkv;
  const int32_t *cu = cuSeqlens.data<int32_t>();
  const int64_t numSeqs = cuSeqlens.numel() - 1;
  if (cuSeqlens.rank() != 1 || numSeqs < 0 || cu[0] != 0 || cu[numSeqs] != t)
    return invalid(absl::StrCat("attention_grad: cu_seqlens must run from 0 "
                                "to T = ",
                                t));
  F32 qs(q), ks(k), vs(v), dos(grad);
  F32Out dq(q.dtype(), q.shape()), dk(k.dtype(), k.shape()),
      dv(v.dtype(), v.shape());
  std::fill_n(dk.get(), k.numel(), 0.0f);
  std::fill_n(dv.get(), v.numel(), 0.0f);
  const float alpha = static_cast<float>(scale);
  constexpr int64_t kBlock = 128;
  std::vector<float> p, dp, o;
  std::vector<float> rowDot;
  for (int64_t s = 0; s < numSeqs; ++s) {
    const int64_t start = cu[s], len = cu[s + 1] - cu[s];
    if (len < 0)
      return invalid("attention_grad: cu_seqlens decreases");
    for (int64_t head = 0; head < hq && len > 0; ++head) {
      const int64_t g = head / group;
      const int64_t qStride = hq * d, kvStride = hkv * d;
      const float *qp = qs.get() + (start * hq + head) * d;
      const float *kp = ks.get() + (start * hkv + g) * d;
      const float *vp = vs.get() + (start * hkv + g) * d;
      const float *dop = dos.get() + (start * hq + head) * d;
      float *dqp = dq.get() + (start * hq + head) * d;
      float *dkp = dk.get() + (start * hkv + g) * d;
      float *dvp = dv.get() + (start * hkv + g) * d;
      for (int64_t r0 = 0; r0 < len; r0 += kBlock) {
        const int64_t rows = std::min(kBlock, len - r0);
        const int64_t keys = causal ? r0 + rows : len;
        p.resize(static_cast<size_t>(rows * keys));
        dp.resize(p.size());
        o.resize(static_cast<size_t>(rows * d));
        rowDot.resize(static_cast<size_t>(rows));
        // P: the forward's probabilities, recomputed.
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, keys, d,
                    alpha, qp + r0 * qStride, qStride, kp, kvStride, 0.0f,
                    p.data(), keys);
        for (int64_t i = 0; i < rows; ++i)
          softmaxRow(p.data() + i * keys, keys, causal ? r0 + i + 1 : keys);
        // O = P V, and D_i = dO_i . O_i.
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, d, keys,
                    1.0f, p.data(), keys, vp, kvStride, 0.0f, o.data(), d);
        for (int64_t i = 0; i < rows; ++i) {
          double acc = 0;
          for (int64_t c = 0; c < d; ++c)
            acc +=
                static_cast<double>(dop[(r0 + i) * qStride + c]) * o[i * d + c];
          rowDot[i] = static_cast<float>(acc);
        }
        // dV += P^T dO; dP = dO V^T; dS = P (dP - D).
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, keys, d, rows,
                    1.0f, p.data(), keys, dop + r0 * qStride, qStride, 1.0f,
                    dvp, kvStride);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, keys, d,
                    1.0f, dop + r0 * qStride, qStride, vp, kvStride, 0.0f,
                    dp.data(), keys);
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t j = 0; j < keys; ++j)
            dp[i * keys + j] = p[i * keys + j] * (dp[i * keys + j] - rowDot[i]);
        // dQ = scale dS K; dK += scale dS^T Q.
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, d, keys,
                    alpha, dp.data(), keys, kp, kvStride, 0.0f,
                    dqp + r0 * qStride, qStride);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, keys, d, rows,
                    alpha, dp.data(), keys, qp + r0 * qStride, qStride, 1.0f,
                    dkp, kvStride);
      }
    }
  }
  return std::vector<Tensor>{dq.commit(), dk.commit(), dv.commit()};
}

absl::StatusOr<Tensor> crossEntropyGrad(const Tensor &grad,
                                        const Tensor &logits,
                                        const Tensor &labels,
                                        const Tensor &mask) {
  if (logits.dtype() != DType::kF32 || logits.rank() != 2 ||
      grad.dtype() != DType::kF32 || grad.rank() != 1 ||
      grad.dim(0) != logits.dim(0) || !isIndex(labels.dtype()) ||
      labels.rank() != 1 || labels.dim(0) != logits.dim(0) ||
      mask.dtype() != DType::kF32 || mask.rank() != 1 ||
      mask.dim(0) != logits.dim(0))
    return invalid(absl::StrCat("cross_entropy_grad: grad ", shapeOf(grad),
                                ", logits ", shapeOf(logits), ", labels ",
                                shapeOf(labels), ", loss_mask ", shapeOf(mask),
                                " do not fit"));
  const int64_t t = logits.dim(0), vocab = logits.dim(1);
  const float *m = mask.data<float>(), *g = grad.data<float>();
  for (int64_t i = 0; i < t; ++i) {
    const int64_t label = indexAt(labels, i);
    if (m[i] != 0.0f && (label < 0 || label >= vocab))
      return absl::OutOfRangeError(
          absl::StrCat("cross_entropy_grad: label ", label, " at position ", i,
                       " is outside [0, ", vocab, ") and not masked"));
  }
  Tensor out = Tensor::empty(DType::kF32, {t, vocab});
  parallelFor(t, std::max<int64_t>(1, 65536 / std::max<int64_t>(vocab, 1)),
              [&](int64_t b, int64_t e) {
                for (int64_t i = b; i < e; ++i) {
                  float *row = out.data<float>() + i * vocab;
                  const float w = g[i] * m[i];
                  if (w == 0.0f) {
                    std::fill_n(row, vocab, 0.0f);
                    continue;
                  }
                  const float *x = logits.data<float>() + i * vocab;
                  const float mx = maxOf(x, vocab);
                  std::memcpy(row, x, static_cast<size_t>(vocab) * 4);
                  const float inv = 1.0f / expShifted(row, vocab, mx);
                  for (int64_t j = 0; j < vocab; ++j)
                    row[j] = w * (row[j] * inv);
                  row[indexAt(labels, i)] -= w;
                }
              });
  return out;
}

absl::StatusOr<std::vector<Tensor>>
adamw(const Tensor &param, const Tensor &grad, const Tensor &expAvg,
      const Tensor &expAvgSq, const Tensor &hyper) {
  for (const Tensor *t : {&param, &grad, &expAvg, &expAvgSq, &hyper})
    if (t->dtype() != DType::kF32)
      return invalid("adamw: every operand is F32");
  if (grad.shape() != param.shape() || expAvg.shape() != param.shape() ||
      expAvgSq.shape() != param.shape() || hyper.numel() != 8)
    return invalid(absl::StrCat("adamw: param ", shapeOf(param), ", grad ",
                                shapeOf(grad), ", moments ", shapeOf(expAvg),
                                " ", shapeOf(expAvgSq), ", hyper ",
                                shapeOf(hyper), " do not fit"));
  // The arithmetic of runtime/train/optimizer.cc's AdamW::step.
  const float *h = hyper.data<float>();
  const float clip = h[0], decay = h[1], oneMinusB1 = h[2], beta2 = h[3],
              oneMinusB2 = h[4], bc2Sqrt = h[5], eps = h[6], stepSize = h[7];
  std::vector<Tensor> out = {Tensor::empty(DType::kF32, param.shape()),
                             Tensor::empty(DType::kF32, param.shape()),
                             Tensor::empty(DType::kF32, param.shape())};
  const float *p0 = param.data<float>(), *g0 = grad.data<float>(),
              *m0 = expAvg.data<float>(), *v0 = expAvgSq.data<float>();
  float *p = out[0].data<float>(), *m = out[1].data<float>(),
        *v = out[2].data<float>();
  chunked(param.numel(), [&](int64_t b, int64_t n) {
    for (int64_t i = b; i < b + n; ++i) {
      const float g = g0[i] * clip;
      m[i] = m0[i] + oneMinusB1 * (g - m0[i]);
      v[i] = v0[i] * beta2 + oneMinusB2 * g * g;
      const float denom = std::sqrt(v[i]) / bc2Sqrt + eps;
      p[i] = p0[i] * decay + -stepSize * m[i] / denom;
    }
  });
  return out;
}

absl::StatusOr<Tensor> siluGrad(const Tensor &grad, const Tensor &x) {
  if (absl::Status s = needFloat(x, "silu_grad input"); !s.ok())
    return s;
  if (grad.shape() != x.shape() || grad.dtype() != x.dtype())
    return invalid("silu_grad: grad and input differ");
  Tensor out = Tensor::empty(x.dtype(), x.shape());
  chunked(x.numel(), [&](int64_t b, int64_t n) {
    float gv[kChunk], xv[kChunk];
    loadF32(grad, b, n, gv);
    loadF32(x, b, n, xv);
    for (int64_t i = 0; i < n; ++i) {
      const float sg = 1.0f / (1.0f + std::exp(-xv[i]));
      gv[i] = gv[i] * sg * (1.0f + xv[i] * (1.0f - sg));
    }
    storeF32(gv, n, out, b);
  });
  return out;
}

absl::StatusOr<std::vector<Tensor>>
swigluGrad(const Tensor &grad, const Tensor &gate, const Tensor &up) {
  if (absl::Status s = needFloat(gate, "swiglu_grad gate"); !s.ok())
    return s;
  if (grad.shape() != gate.shape() || up.shape() != gate.shape() ||
      grad.dtype() != gate.dtype() || up.dtype() != gate.dtype())
    return invalid("swiglu_grad: grad, gate and up differ");
  Tensor dg = Tensor::empty(gate.dtype(), gate.shape());
  Tensor du = Tensor::empty(gate.dtype(), gate.shape());
  chunked(gate.numel(), [&](int64_t b, int64_t n) {
    float gv[kChunk], xv[kChunk], uv[kChunk];
    loadF32(grad, b, n, gv);
    loadF32(gate, b, n, xv);
    loadF32(up, b, n, uv);
    for (int64_t i = 0; i < n; ++i) {
      const float sg = 1.0f / (1.0f + std::exp(-xv[i]));
      const float silu = xv[i] * sg;
      const float dy = gv[i];
      gv[i] = dy * uv[i] * sg * (1.0f + xv[i] * (1.0f - sg));
      uv[i] = dy * silu;
    }
    storeF32(gv, n, dg, b);
    storeF32(uv, n, du, b);
  });
  return std::vector<Tensor>{dg, du};
}
} // namespace infir2::cpu
