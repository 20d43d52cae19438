//===- attention_kernels_test.cc - The CUDA attention kernels on the host -===//
//
// Part of infir2. runtime/kernels/attention.h compiled as host C++ (the
// prelude's CPU target) against the CPU backend's attention and
// attention_grad, which the golden tests check against transformers and
// torch.autograd: packed sequences whose tiles straddle sequence
// boundaries, GQA, causal and not, f32 and bf16, head dims 64 and 128.
//
//===----------------------------------------------------------------------===//

// clang-format off
#include "runtime/kernels/prelude.h"
#include "runtime/kernels/attention.h"
// clang-format on

#include <cmath>
#include <cstring>
#include <ostream>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/cpu/kernels.h"
#include "runtime/cpu/tensor.h"
#ifdef INFIR2_TEST_CUDA_DRIVER
#include "runtime/cuda/cubin_cache.h"
#include "runtime/cuda/driver.h"
#include "runtime/kernels/prelude_text.h"
#endif

namespace infir2 {
namespace {
using cpu::Tensor;

using Entry = void (*)(const void *, i64, i64);

struct Case {
  bool bf16;
  int d;
  bool causal;
  Entry fwd, dq, dkv;
};

/// Stable test names in ctest (the entry pointers would print as bytes).
void PrintTo(const Case &c, std::ostream *os) {
  *os << (c.bf16 ? "bf16" : "f32") << " d" << c.d
      << (c.causal ? " causal" : " full");
}

uint16_t toBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
float fromBf16(uint16_t b) {
  uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

/// Random values of |n| elements in the case's dtype, as bytes and f32.
struct Buf {
  std::vector<uint16_t> b16;
  std::vector<float> f32;
  const void *data(bool bf16) const {
    return bf16 ? static_cast<const void *>(b16.data()) : f32.data();
  }
  void *data(bool bf16) {
    return bf16 ? static_cast<void *>(b16.data()) : f32.data();
  }
  Tensor tensor(bool bf16, std::vector<int64_t> shape) const {
    return Tensor::copyOf(bf16 ? DType::kBF16 : DType::kF32, std::move(shape),
                          data(bf16));
  }
  float at(bool bf16, size_t i) const {
    return bf16 ? fromBf16(b16[i]) : f32[i];
  }
};

Buf randomBuf(size_t n, std::mt19937 &rng, float range) {
  std::uniform_real_distribution<float> u(-range, range);
  Buf b;
  for (size_t i = 0; i < n; ++i) {
    const float f = u(rng);
    b.b16.push_back(toBf16(f));
    b.f32.push_back(fromBf16(b.b16.back()));
  }
  return b;
}
Buf zeroBuf(size_t n) {
  Buf b;
  b.b16.assign(n, 0);
  b.f32.assign(n, 0.0f);
  return b;
}

/// max |ours - ref| / max |ref| over a tensor.
double relError(const Buf &ours, bool bf16, const Tensor &ref) {
  const size_t n = bf16 ? ours.b16.size() : ours.f32.size();
  double err = 0, norm = 0;
  for (size_t i = 0; i < n; ++i) {
    const double r = ref.dtype() == DType::kBF16
                         ? fromBf16(ref.data<uint16_t>()[i])
                         : ref.data<float>()[i];
    err = std::max(err, std::fabs(ours.at(bf16, i) - r));
    norm = std::max(norm, std::fabs(r));
  }
  return norm > 0 ? err / norm : err;
}

class AttentionKernels : public ::testing::TestWithParam<Case> {};

/// One problem: five sequences, one of a single token; 16-row tiles
/// straddle them.
struct Problem {
  std::vector<int32_t> cu = {0, 5, 23, 24, 40, 53};
  int64_t t = 53, hq = 6, hkv = 2, d;
  float scale;
  Buf q, k, v, dout;
  explicit Problem(const Case &c) : d(c.d) {
    scale = 1.0f / std::sqrt(static_cast<float>(d));
    std::mt19937 rng(17 + d + c.causal + 2 * c.bf16);
    q = randomBuf(t * hq * d, rng, 2.0f);
    k = randomBuf(t * hkv * d, rng, 2.0f);
    v = randomBuf(t * hkv * d, rng, 1.0f);
    dout = randomBuf(t * hq * d, rng, 1.0f);
  }
  i64 tiles() const { return (t + attn::kRows - 1) / attn::kRows; }
  attn::Dims dims(bool causal, const int32_t *cuSeqlens) const {
    return {cuSeqlens, t,     hq, hkv, static_cast<i64>(cu.size() - 1),
            scale,     causal};
  }
};

struct Results {
  Buf out, dq, dk, dv;
  std::vector<float> lse, dsum;
  explicit Results(const Problem &p)
      : out(zeroBuf(p.t * p.hq * p.d)), dq(zeroBuf(p.t * p.hq * p.d)),
        dk(zeroBuf(p.t * p.hkv * p.d)), dv(zeroBuf(p.t * p.hkv * p.d)),
        lse(p.t * p.hq), dsum(p.t * p.hq) {}
};

Results runHost(const Case &c, const Problem &p) {
  Results r(p);
  const attn::Dims dims = p.dims(c.causal, p.cu.data());
  attn::FwdArgs fa = {dims,
                      p.q.data(c.bf16),
                      p.k.data(c.bf16),
                      p.v.data(c.bf16),
                      r.out.data(c.bf16),
                      r.lse.data()};
  c.fwd(&fa, p.tiles() * p.hq, attn::fwd_smem(p.d));
  attn::BwdArgs ba = {dims,
                      p.q.data(c.bf16),
                      p.k.data(c.bf16),
                      p.v.data(c.bf16),
                      r.out.data(c.bf16),
                      p.dout.data(c.bf16),
                      r.lse.data(),
                      r.dsum.data(),
                      r.dq.data(c.bf16),
                      r.dk.data(c.bf16),
                      r.dv.data(c.bf16)};
  c.dq(&ba, p.tiles() * p.hq, attn::dq_smem(p.d));
  c.dkv(&ba, p.tiles() * p.hkv, attn::dkv_smem(p.d));
  return r;
}

/// Checks |r| against the CPU backend's attention and attention_grad.
void checkAgainstCpu(const Case &c, const Problem &p, const Results &r,
                     const char *what) {
  const Tensor qt = p.q.tensor(c.bf16, {p.t, p.hq, p.d}),
               kt = p.k.tensor(c.bf16, {p.t, p.hkv, p.d}),
               vt = p.v.tensor(c.bf16, {p.t, p.hkv, p.d}),
               gt = p.dout.tensor(c.bf16, {p.t, p.hq, p.d}),
               cut = Tensor::copyOf(DType::kI32, {6}, p.cu.data());
  absl::StatusOr<Tensor> ref =
      cpu::attention(qt, kt, vt, cut, p.scale, c.causal);
  ASSERT_TRUE(ref.ok()) << ref.status();
  absl::StatusOr<std::vector<Tensor>> grads =
      cpu::attentionGrad(gt, qt, kt, vt, cut, p.scale, c.causal);
  ASSERT_TRUE(grads.ok()) << grads.status();
  // f32: the same sums in another order (online softmax, f32 dot products
  // against sgemm). bf16: both round f32 results once, so a value near a
  // rounding boundary may land one bf16 step (2^-8 relative) apart.
  const double limit = c.bf16 ? 8e-3 : 2e-5;
  const double eo = relError(r.out, c.bf16, *ref);
  const double eq = relError(r.dq, c.bf16, (*grads)[0]);
  const double ek = relError(r.dk, c.bf16, (*grads)[1]);
  const double ev = relError(r.dv, c.bf16, (*grads)[2]);
  std::printf("%s %s d=%d %s: out %.2e dq %.2e dk %.2e dv %.2e\n", what,
              c.bf16 ? "bf16" : "f32", c.d, c.causal ? "causal" : "full", eo,
              eq, ek, ev);
  EXPECT_LE(eo, limit);
  EXPECT_LE(eq, limit);
  EXPECT_LE(ek, limit);
  EXPECT_LE(ev, limit);

  // lse is the log of the softmax denominator: exp(s - lse) sums to 1.
  for (int64_t row : {0, 4, 23, 39, 52}) {
    double total = 0;
    int64_t s0 = 0, s1 = 0;
    for (size_t i = 0; i + 1 < p.cu.size(); ++i)
      if (p.cu[i] <= row && row < p.cu[i + 1])
        s0 = p.cu[i], s1 = p.cu[i + 1];
    for (int64_t j = s0; j < (c.causal ? row + 1 : s1); ++j) {
      double dot = 0;
      for (int64_t x = 0; x < p.d; ++x)
        dot += static_cast<double>(p.q.at(c.bf16, (row * p.hq + 1) * p.d + x)) *
               p.k.at(c.bf16, (j * p.hkv + 0) * p.d + x);
      total += std::exp(dot * p.scale - r.lse[row * p.hq + 1]);
    }
    EXPECT_NEAR(total, 1.0, 1e-5) << what << " row " << row;
  }
}

TEST_P(AttentionKernels, HostBuildMatchesTheCpuBackend) {
  const Problem p(GetParam());
  checkAgainstCpu(GetParam(), p, runHost(GetParam(), p), "host");
}

#ifdef INFIR2_TEST_CUDA_DRIVER
/// The same kernels compiled by NVRTC and run on the GPU.
TEST_P(AttentionKernels, GpuMatchesTheCpuBackendAndTheHostBuild) {
  const Case c = GetParam();
  absl::StatusOr<const cuda::DriverApi *> apiOr = cuda::driver();
  if (!apiOr.ok())
    GTEST_SKIP() << "no GPU here: " << apiOr.status().message();
  const cuda::DriverApi &api = **apiOr;
  absl::StatusOr<cuda::DeviceInfo> info = cuda::deviceInfo(0);
  ASSERT_TRUE(info.ok()) << info.status();
  CUdevice dev;
  CUcontext ctx;
  ASSERT_EQ(api.cuDeviceGet(&dev, 0), CUDA_SUCCESS);
  ASSERT_EQ(api.cuDevicePrimaryCtxRetain(&ctx, dev), CUDA_SUCCESS);
  ASSERT_EQ(api.cuCtxSetCurrent(ctx), CUDA_SUCCESS);
  cuda::NvrtcOptions opt;
  opt.arch = info->arch();
  opt.fmad = false;
  opt.headers = {{kernels::kPreludeName, kernels::preludeText()},
                 {kernels::kAttentionName, kernels::attentionText()}};
  absl::StatusOr<cuda::CachedCubin> cubin = cuda::compileCached(
      std::string("#include \"") + kernels::kPreludeName + "\"\n#include \"" +
          kernels::kAttentionName + "\"\n",
      "attention.cu", opt);
  ASSERT_TRUE(cubin.ok()) << cubin.status();
  CUmodule module;
  ASSERT_EQ(api.cuModuleLoadData(&module, cubin->result.cubin.data()),
            CUDA_SUCCESS);
  const std::string suffix =
      std::string(c.bf16 ? "_bf16" : "_f32") + "_d" + std::to_string(c.d);
  auto fn = [&](const char *kind, int64_t smemBytes) {
    CUfunction f = nullptr;
    EXPECT_EQ(
        api.cuModuleGetFunction(
            &f, module, (std::string("infir2_attn_") + kind + suffix).c_str()),
        CUDA_SUCCESS);
    EXPECT_EQ(api.cuFuncSetAttribute(
                  f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                  static_cast<int>(smemBytes)),
              CUDA_SUCCESS);
    return f;
  };
  const Problem p(c);
  Results r(p);
  std::vector<CUdeviceptr> owned;
  auto upload = [&](const void *host, size_t bytes) {
    CUdeviceptr ptr = 0;
    EXPECT_EQ(api.cuMemAlloc(&ptr, bytes ? bytes : 1), CUDA_SUCCESS);
    if (host) {
      EXPECT_EQ(api.cuMemcpyHtoD(ptr, host, bytes), CUDA_SUCCESS);
    }
    owned.push_back(ptr);
    return reinterpret_cast<void *>(ptr);
  };
  const size_t el = c.bf16 ? 2 : 4;
  const size_t nq = p.t * p.hq * p.d, nk = p.t * p.hkv * p.d;
  void *q = upload(p.q.data(c.bf16), nq * el);
  void *k = upload(p.k.data(c.bf16), nk * el);
  void *v = upload(p.v.data(c.bf16), nk * el);
  void *dout = upload(p.dout.data(c.bf16), nq * el);
  void *cu = upload(p.cu.data(), p.cu.size() * 4);
  void *out = upload(nullptr, nq * el), *dq = upload(nullptr, nq * el);
  void *dk = upload(nullptr, nk * el), *dv = upload(nullptr, nk * el);
  void *lse = upload(nullptr, p.t * p.hq * 4);
  void *dsum = upload(nullptr, p.t * p.hq * 4);
  const attn::Dims dims = p.dims(c.causal, static_cast<const i32 *>(cu));
  attn::FwdArgs fa = {dims, q, k, v, out, static_cast<float *>(lse)};
  attn::BwdArgs ba = {dims,
                      q,
                      k,
                      v,
                      out,
                      dout,
                      static_cast<const float *>(lse),
                      static_cast<float *>(dsum),
                      dq,
                      dk,
                      dv};
  void *fwdParams[] = {&fa};
  void *bwdParams[] = {&ba};
  auto launch = [&](CUfunction f, int64_t grid, int64_t smemBytes,
                    void **params) {
    EXPECT_EQ(api.cuLaunchKernel(
                  f, static_cast<unsigned>(grid), 1, 1, attn::kRows, 1, 1,
                  static_cast<unsigned>(smemBytes), nullptr, params, nullptr),
              CUDA_SUCCESS);
  };
  launch(fn("fwd", attn::fwd_smem(p.d)), p.tiles() * p.hq, attn::fwd_smem(p.d),
         fwdParams);
  launch(fn("dq", attn::dq_smem(p.d)), p.tiles() * p.hq, attn::dq_smem(p.d),
         bwdParams);
  launch(fn("dkv", attn::dkv_smem(p.d)), p.tiles() * p.hkv, attn::dkv_smem(p.d),
         bwdParams);
  ASSERT_EQ(api.cuCtxSynchronize(), CUDA_SUCCESS);
  auto download = [&](Buf &b, const void *src, size_t n) {
    ASSERT_EQ(api.cuMemcpyDtoH(b.data(c.bf16),
                               reinterpret_cast<CUdeviceptr>(src), n * el),
              CUDA_SUCCESS);
  };
  download(r.out, out, nq);
  download(r.dq, dq, nq);
  download(r.dk, dk, nk);
  download(r.dv, dv, nk);
  ASSERT_EQ(api.cuMemcpyDtoH(r.lse.data(), reinterpret_cast<CUdeviceptr>(lse),
                             r.lse.size() * 4),
            CUDA_SUCCESS);
  checkAgainstCpu(c, p, r, "gpu");
  // The host build runs the same arithmetic in the same order; only expf
  // and logf may differ by an ulp.
  const Results h = runHost(c, p);
  const Tensor ho = h.out.tensor(c.bf16, {p.t, p.hq, p.d});
  EXPECT_LE(relError(r.out, c.bf16, ho), c.bf16 ? 8e-3 : 1e-5);
  for (CUdeviceptr ptr : owned)
    api.cuMemFree(ptr);
  api.cuModuleUnload(module);
  api.cuDevicePrimaryCtxRelease(dev);
}
#endif

#define INFIR2_CASE(bf, tname, D, causal)                                      \
  Case {                                                                       \
    bf, D, causal, infir2_attn_fwd_##tname##_d##D,                             \
        infir2_attn_dq_##tname##_d##D, infir2_attn_dkv_##tname##_d##D          \
  }
INSTANTIATE_TEST_SUITE_P(All, AttentionKernels,
                         ::testing::Values(INFIR2_CASE(false, f32, 64, true),
                                           INFIR2_CASE(false, f32, 128, true),
                                           INFIR2_CASE(false, f32, 64, false),
                                           INFIR2_CASE(true, bf16, 64, true),
                                           INFIR2_CASE(true, bf16, 128, true),
                                           INFIR2_CASE(true, bf16, 128, false)),
                         [](const ::testing::TestParamInfo<Case> &info) {
                           return std::string(info.param.bf16 ? "Bf16"
                                                              : "F32") +
                                  "_D" + std::to_string(info.param.d) +
                                  (info.param.causal ? "_Causal" : "_Full");
                         });
} // namespace
} // namespace infir2
