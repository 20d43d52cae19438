//===- cuda_backend_test.cc - The CUDA backend's host side ----------------===//
//
// Part of infir2. The driver table, the cubin cache and the GEMM plans run
// on any machine; the tests that need a GPU skip with a visible message
// when the driver is missing.
//
//===----------------------------------------------------------------------===//

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/cuda/cubin_cache.h"
#include "runtime/cuda/cublaslt_gemm.h"
#include "runtime/cuda/driver.h"
#include "runtime/cuda/gemm_plan.h"
#include "runtime/kernels/prelude_text.h"
#include "runtime/numerics/float8.h"

namespace infir2::cuda {
namespace {
namespace fs = std::filesystem;

//===----------------------------------------------------------------------===//
// The driver table
//===----------------------------------------------------------------------===//

TEST(DriverTable, NamesAreTheVersionedOnesOfCudaH) {
  int count = 0;
  const char *const *names = driverSymbolNames(&count);
  std::set<std::string> all(names, names + count);
  EXPECT_EQ(all.size(), static_cast<size_t>(count));
  for (const char *want :
       {"cuMemAlloc_v2", "cuMemFree_v2", "cuStreamBeginCapture_v2",
        "cuGraphInstantiateWithFlags", "cuEventElapsedTime_v2",
        "cuDevicePrimaryCtxRelease_v2", "cuMemcpyHtoD_v2", "cuLaunchKernel"})
    EXPECT_TRUE(all.count(want)) << want;
  EXPECT_FALSE(all.count("cuMemAlloc")) << "the unversioned v1 ABI";
}

TEST(DriverTable, ResolvesEveryEntryPointFromTheToolkitStub) {
  // Every CUDA Toolkit ships the stub; this test exists only in builds
  // that found one, so a missing stub is a broken toolkit, not a skip.
  ASSERT_TRUE(fs::exists(INFIR2_CUDA_STUB_LIBCUDA))
      << "no stub driver at " << INFIR2_CUDA_STUB_LIBCUDA;
  absl::StatusOr<DriverApi> api = loadDriverApi(INFIR2_CUDA_STUB_LIBCUDA);
  ASSERT_TRUE(api.ok()) << api.status();
  EXPECT_NE(api->cuMemAlloc, nullptr);
  EXPECT_NE(api->cuGraphLaunch, nullptr);
  // The stub exports the symbols but is not a driver.
  EXPECT_EQ(api->cuInit(0), CUDA_ERROR_STUB_LIBRARY);
  const absl::Status s = checkCu(*api, CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc");
  EXPECT_NE(std::string(s.message()).find("cuMemAlloc failed"),
            std::string::npos)
      << s;
}

TEST(DriverTable, MissingLibraryIsExplained) {
  absl::StatusOr<DriverApi> api = loadDriverApi("/nonexistent/libcuda.so.1");
  ASSERT_FALSE(api.ok());
  const std::string m(api.status().message());
  EXPECT_NE(m.find("no CUDA driver: cannot load /nonexistent/libcuda.so.1"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("the CPU backend does not"), std::string::npos) << m;
}

TEST(DriverTable, ThisMachine) {
  absl::StatusOr<const DriverApi *> api = driver();
  if (!api.ok())
    GTEST_SKIP() << "no GPU here: " << api.status().message();
  absl::StatusOr<DeviceInfo> info = deviceInfo(0);
  ASSERT_TRUE(info.ok()) << info.status();
  std::printf("device 0: %s, %s, %d SMs, %.1f GiB, driver %d\n",
              info->name.c_str(), info->arch().c_str(), info->multiprocessors,
              info->totalMemory / 1073741824.0, info->driverVersion);
  EXPECT_GT(info->multiprocessors, 0);
}

//===----------------------------------------------------------------------===//
// The cubin cache
//===----------------------------------------------------------------------===//

constexpr const char *kKernel = R"cuda(
extern "C" __global__ void axpy(float a, const float *x, float *y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    y[i] = a * x[i] + y[i];
}
)cuda";

TEST(CubinCache, SecondCompileIsAHitWithTheSameBytes) {
  const fs::path dir = fs::temp_directory_path() /
                       ("infir2-cubin-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  NvrtcOptions opt;
  opt.resourceUsage = true;
  absl::StatusOr<CachedCubin> first =
      compileCached(kKernel, "axpy.cu", opt, dir.string());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->hit);
  ASSERT_TRUE(fs::exists(first->path)) << first->path;
  absl::StatusOr<CachedCubin> second =
      compileCached(kKernel, "axpy.cu", opt, dir.string());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->hit);
  EXPECT_EQ(second->result.cubin, first->result.cubin);
  ASSERT_TRUE(second->result.usage.count("axpy"));
  EXPECT_EQ(second->result.usage.at("axpy").registers,
            first->result.usage.at("axpy").registers);

  // Every input of the compilation is in the key.
  const std::string key = cubinCacheKey(kKernel, opt);
  NvrtcOptions other = opt;
  other.arch = "sm_89";
  EXPECT_NE(cubinCacheKey(kKernel, other), key);
  other = opt;
  other.fmad = false;
  EXPECT_NE(cubinCacheKey(kKernel, other), key);
  other = opt;
  other.extraOptions = {"-DX=1"};
  EXPECT_NE(cubinCacheKey(kKernel, other), key);
  other = opt;
  other.headers = {{"a.h", "int x;"}};
  EXPECT_NE(cubinCacheKey(kKernel, other), key);
  EXPECT_NE(cubinCacheKey(std::string(kKernel) + " ", opt), key);
  NvrtcOptions asDir = opt, asOption = opt;
  asDir.includeDirs = {"-DX"};
  asOption.extraOptions = {"-DX"};
  EXPECT_NE(cubinCacheKey(kKernel, asDir), cubinCacheKey(kKernel, asOption));

  // A damaged entry is compiled again and replaced.
  {
    std::ofstream(first->path, std::ios::binary) << "garbage";
  }
  absl::StatusOr<CachedCubin> third =
      compileCached(kKernel, "axpy.cu", opt, dir.string());
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_FALSE(third->hit);
  EXPECT_EQ(third->result.cubin, first->result.cubin);
  EXPECT_TRUE(compileCached(kKernel, "axpy.cu", opt, dir.string())->hit);
  fs::remove_all(dir);
}

TEST(CubinCache, CompileErrorsAreNotCached) {
  const fs::path dir = fs::temp_directory_path() /
                       ("infir2-cubin-bad-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  absl::StatusOr<CachedCubin> r =
      compileCached("this is not CUDA", "bad.cu", {}, dir.string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("bad.cu"),
            std::string::npos);
  EXPECT_TRUE(!fs::exists(dir) || fs::is_empty(dir));
  fs::remove_all(dir);
}

TEST(LibraryKernels, CompileForSm90aWithoutSpills) {
  NvrtcOptions opt;
  opt.resourceUsage = true;
  opt.fmad = false; // as the generated kernels: f32 equal to the host's
  opt.headers = {{kernels::kPreludeName, kernels::preludeText()},
                 {kernels::kAttentionName, kernels::attentionText()},
                 {kernels::kLayoutName, kernels::layoutText()},
                 {kernels::kEmbeddingName, kernels::embeddingText()}};
  std::string source;
  for (const auto &[name, text] : opt.headers)
    source += std::string("#include \"") + name + "\"\n";
  absl::StatusOr<NvrtcResult> r = compileToCubin(source, "attention.cu", opt);
  ASSERT_TRUE(r.ok()) << r.status();
  int entries = 0;
  for (const auto &[name, u] : r->usage) {
    if (name.rfind("infir2_", 0) != 0)
      continue;
    ++entries;
    std::printf("%-28s %3lld registers, %lld B stack, %lld B smem\n",
                name.c_str(), static_cast<long long>(u.registers),
                static_cast<long long>(u.stackBytes),
                static_cast<long long>(u.staticSmem));
    EXPECT_EQ(u.spillStores + u.spillLoads, 0) << name;
  }
  // {fwd, dq, dkv} x {bf16, f32} x {64, 128}, transpose, repack, copy
  // rows, {embedding, embedding_grad} x {bf16, f32}
  EXPECT_EQ(entries, 19);
}

//===----------------------------------------------------------------------===//
// GEMM plans
//===----------------------------------------------------------------------===//

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Random E4M3 values (finite) and positive scales for |d|.
HostOperand randomOperand(const GemmOperand &d, std::mt19937 &rng) {
  HostOperand op;
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(0.25f, 4.0f);
  op.values.resize(static_cast<size_t>(d.rows * d.cols));
  const bool fp8 = d.type == GemmType::kE4M3 || d.type == GemmType::kE5M2;
  for (double &v : op.values) {
    if (!fp8) {
      v = std::uniform_real_distribution<double>(-1, 1)(rng);
      continue;
    }
    float f;
    do {
      f = numerics::fp8ToF32(static_cast<uint8_t>(byte(rng)),
                             d.type == GemmType::kE4M3
                                 ? numerics::Fp8Format::kE4M3FN
                                 : numerics::Fp8Format::kE5M2);
    } while (!std::isfinite(f));
    v = f;
  }
  int64_t n = 0;
  if (d.scales == ScaleLayout::kTile1x128)
    n = d.rows * ceilDiv(d.cols, 128);
  else if (d.scales == ScaleLayout::kTile128x128)
    n = ceilDiv(d.rows, 128) * ceilDiv(d.cols, 128);
  for (int64_t i = 0; i < n; ++i)
    op.scales.push_back(scale(rng));
  return op;
}

/// Plans, emulates and compares with the op's definition.
LtPlan checkPlan(const GemmOperand &l, const GemmOperand &r, uint32_t seed) {
  std::mt19937 rng(seed);
  absl::StatusOr<LtPlan> plan = planGemm(l, r, GemmType::kBF16);
  EXPECT_TRUE(plan.ok()) << plan.status();
  if (!plan.ok())
    return {};
  const HostOperand lhs = randomOperand(l, rng), rhs = randomOperand(r, rng);
  const std::vector<double> got = emulateLtMatmul(*plan, lhs, l, rhs, r);
  const std::vector<double> want = referenceScaledMatmul(lhs, l, rhs, r);
  EXPECT_EQ(got.size(), want.size());
  double maxErr = 0, norm = 0;
  for (size_t i = 0; i < want.size() && i < got.size(); ++i) {
    maxErr = std::max(maxErr, std::fabs(got[i] - want[i]));
    norm = std::max(norm, std::fabs(want[i]));
  }
  EXPECT_GT(norm, 0);
  EXPECT_LE(maxErr, 1e-12 * norm) << plan->describe();
  return *plan;
}

GemmOperand fp8(int64_t rows, int64_t cols, ScaleLayout s, bool transposed) {
  return {rows, cols, GemmType::kE4M3, s, transposed};
}

// The three GEMMs of a linear layer as fp8-lower emits them
// (test/dialects/fp8/lower.mlir), on shapes that are not multiples of 128.
TEST(GemmPlan, ForwardIsTnWithVec128ActivationsAndBlockWeights) {
  const int64_t M = 36, K = 272, N = 200;
  const LtPlan p = checkPlan(fp8(M, K, ScaleLayout::kTile1x128, false),
                             fp8(N, K, ScaleLayout::kTile128x128, true), 1);
  EXPECT_EQ(p.m, N);
  EXPECT_EQ(p.n, M);
  EXPECT_EQ(p.k, K);
  EXPECT_TRUE(p.a.trans);
  EXPECT_FALSE(p.b.trans);
  EXPECT_FALSE(p.a.transposeCopy || p.b.transposeCopy);
  EXPECT_EQ(p.a.scaleMode, LtScaleMode::kBlk128x128);
  EXPECT_EQ(p.b.scaleMode, LtScaleMode::kVec128);
  EXPECT_EQ(p.a.scales.ld, 4); // ceil(272/128) = 3 k-blocks, padded to 4
  EXPECT_EQ(p.b.scales.ld, M); // M-major
}

TEST(GemmPlan, DgradCopiesTheBlockScaledWeightTransposed) {
  const int64_t M = 36, K = 272, N = 208;
  // dX [M, K] = dY [M, N] * W [N, K].
  const LtPlan p = checkPlan(fp8(M, N, ScaleLayout::kTile1x128, false),
                             fp8(N, K, ScaleLayout::kTile128x128, false), 2);
  EXPECT_TRUE(p.a.transposeCopy);
  EXPECT_TRUE(p.a.trans);
  EXPECT_FALSE(p.b.transposeCopy);
  EXPECT_EQ(p.m, K);
  EXPECT_EQ(p.k, N);
}

TEST(GemmPlan, WgradContractsOverTokens) {
  const int64_t M = 272, K = 264, N = 200; // 3 token blocks
  // dW [N, K] = dY^T [N, M] * X [M, K], both quantized along the tokens.
  const LtPlan p = checkPlan(fp8(N, M, ScaleLayout::kTile1x128, false),
                             fp8(K, M, ScaleLayout::kTile1x128, true), 3);
  EXPECT_EQ(p.a.scaleMode, LtScaleMode::kVec128);
  EXPECT_EQ(p.b.scaleMode, LtScaleMode::kVec128);
  EXPECT_EQ(p.k, M);
  EXPECT_FALSE(p.a.transposeCopy || p.b.transposeCopy);
}

TEST(GemmPlan, BlockScaledLhsInEitherOrientation) {
  checkPlan(fp8(256, 144, ScaleLayout::kTile128x128, false),
            fp8(40, 144, ScaleLayout::kTile1x128, true), 4);
  const LtPlan p = checkPlan(fp8(144, 256, ScaleLayout::kTile128x128, true),
                             fp8(40, 144, ScaleLayout::kTile1x128, true), 5);
  EXPECT_TRUE(p.b.transposeCopy);
}

TEST(GemmPlan, Bf16TakesEveryTranspose) {
  for (int t = 0; t < 4; ++t) {
    const bool tl = t & 1, tr = t & 2;
    GemmOperand l{tl ? 24 : 12, tl ? 12 : 24, GemmType::kBF16,
                  ScaleLayout::kNone, tl};
    GemmOperand r{tr ? 20 : 24, tr ? 24 : 20, GemmType::kBF16,
                  ScaleLayout::kNone, tr};
    const LtPlan p = checkPlan(l, r, 10 + t);
    EXPECT_EQ(p.a.trans, tr);
    EXPECT_EQ(p.b.trans, tl);
  }
}

TEST(GemmPlan, CublasLtRulesAreErrorsNamingTheFix) {
  auto err = [](GemmOperand l, GemmOperand r) {
    absl::StatusOr<LtPlan> p = planGemm(l, r, GemmType::kBF16);
    return p.ok() ? std::string("ok") : std::string(p.status().message());
  };
  using S = ScaleLayout;
  EXPECT_NE(err(fp8(32, 256, S::kTile128x128, false),
                fp8(64, 256, S::kTile128x128, true))
                .find("at most one"),
            std::string::npos);
  EXPECT_NE(err(fp8(32, 200, S::kTile1x128, false),
                fp8(64, 200, S::kTile128x128, true))
                .find("K = 200 is not a multiple of 16"),
            std::string::npos);
  EXPECT_NE(err(fp8(30, 256, S::kTile1x128, false),
                fp8(64, 256, S::kTile128x128, true))
                .find("M = 30 and N = 64 must be multiples of 4"),
            std::string::npos);
  EXPECT_NE(err(fp8(256, 32, S::kTile1x128, true),
                fp8(64, 256, S::kTile128x128, true))
                .find("tiles do not run along K"),
            std::string::npos);
  GemmOperand e5 = fp8(32, 256, S::kTile1x128, false);
  e5.type = GemmType::kE5M2;
  GemmOperand e5r = fp8(64, 256, S::kTile128x128, true);
  e5r.type = GemmType::kE5M2;
  EXPECT_NE(err(e5, e5r).find("two e5m2"), std::string::npos);
  EXPECT_NE(err(fp8(32, 256, S::kTile1x128, false),
                fp8(64, 128, S::kTile128x128, true))
                .find("disagree on K"),
            std::string::npos);
}

TEST(GemmPlan, ScaleRepackPadsWithZeros) {
  const float ours[] = {1, 2, 3, 4, 5, 6}; // [2, 3]
  const std::vector<float> blk = repackScales(ours, {2, 3, false, 4, 8});
  EXPECT_EQ(blk, (std::vector<float>{1, 2, 3, 0, 4, 5, 6, 0}));
  const std::vector<float> vec = repackScales(ours, {2, 3, true, 2, 6});
  EXPECT_EQ(vec, (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

//===----------------------------------------------------------------------===//
// On the GPU: an FP8 forward GEMM through cuBLASLt against the f64 reference
//===----------------------------------------------------------------------===//

TEST(CublasLtGpu, Fp8ForwardMatchesDequantizedF64) {
  absl::StatusOr<const DriverApi *> apiOr = driver();
  if (!apiOr.ok())
    GTEST_SKIP() << "no GPU here: " << apiOr.status().message();
  const DriverApi &api = **apiOr;
  absl::StatusOr<DeviceInfo> info = deviceInfo(0);
  ASSERT_TRUE(info.ok()) << info.status();
  if (info->major != 9)
    GTEST_SKIP() << "block-scaled FP8 GEMMs need compute capability 9.0, "
                 << info->name << " is " << info->arch();
  CUdevice dev;
  CUcontext ctx;
  ASSERT_EQ(api.cuDeviceGet(&dev, 0), CUDA_SUCCESS);
  ASSERT_EQ(api.cuDevicePrimaryCtxRetain(&ctx, dev), CUDA_SUCCESS);
  ASSERT_EQ(api.cuCtxSetCurrent(ctx), CUDA_SUCCESS);

  const int64_t M = 256, K = 384, N = 320;
  const GemmOperand l = fp8(M, K, ScaleLayout::kTile1x128, false);
  const GemmOperand r = fp8(N, K, ScaleLayout::kTile128x128, true);
  absl::StatusOr<LtPlan> plan = planGemm(l, r, GemmType::kBF16);
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::mt19937 rng(7);
  const HostOperand lhs = randomOperand(l, rng), rhs = randomOperand(r, rng);
  auto encode = [](const HostOperand &op) {
    std::vector<uint8_t> q(op.values.size());
    for (size_t i = 0; i < q.size(); ++i)
      q[i] = numerics::f32ToFp8(static_cast<float>(op.values[i]),
                                numerics::Fp8Format::kE4M3FN,
                                numerics::Saturation::kSatFinite);
    return q;
  };
  const std::vector<uint8_t> aq = encode(rhs), bq = encode(lhs);
  const std::vector<float> as = repackScales(rhs.scales.data(), plan->a.scales);
  const std::vector<float> bs = repackScales(lhs.scales.data(), plan->b.scales);
  auto upload = [&](const void *host, size_t bytes) {
    CUdeviceptr p = 0;
    EXPECT_EQ(api.cuMemAlloc(&p, bytes), CUDA_SUCCESS);
    EXPECT_EQ(api.cuMemcpyHtoD(p, host, bytes), CUDA_SUCCESS);
    return p;
  };
  LtGemmArgs args;
  args.a = upload(aq.data(), aq.size());
  args.aScales = upload(as.data(), as.size() * 4);
  args.b = upload(bq.data(), bq.size());
  args.bScales = upload(bs.data(), bs.size() * 4);
  ASSERT_EQ(api.cuMemAlloc(&args.d, M * N * 2), CUDA_SUCCESS);
  CUdeviceptr ws = 0;
  const size_t wsBytes = 32 << 20;
  ASSERT_EQ(api.cuMemAlloc(&ws, wsBytes), CUDA_SUCCESS);
  absl::StatusOr<std::unique_ptr<LtGemmRunner>> runner =
      LtGemmRunner::create(ws, wsBytes);
  ASSERT_TRUE(runner.ok()) << runner.status();
  absl::Status s = (*runner)->run(*plan, args, nullptr);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(api.cuCtxSynchronize(), CUDA_SUCCESS);
  std::vector<uint16_t> d(M * N);
  ASSERT_EQ(api.cuMemcpyDtoH(d.data(), args.d, d.size() * 2), CUDA_SUCCESS);
  const std::vector<double> want = referenceScaledMatmul(lhs, l, rhs, r);
  double err2 = 0, norm2 = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    uint32_t bits = static_cast<uint32_t>(d[i]) << 16;
    float got;
    std::memcpy(&got, &bits, 4);
    err2 += (got - want[i]) * (got - want[i]);
    norm2 += want[i] * want[i];
  }
  std::printf("FP8 GEMM %lldx%lldx%lld: |err| / |ref| = %.3g\n",
              static_cast<long long>(M), static_cast<long long>(N),
              static_cast<long long>(K), std::sqrt(err2 / norm2));
  EXPECT_LE(std::sqrt(err2 / norm2), 1e-3);
  for (CUdeviceptr p : {args.a, args.aScales, args.b, args.bScales, args.d, ws})
    api.cuMemFree(p);
  api.cuDevicePrimaryCtxRelease(dev);
}
} // namespace
} // namespace infir2::cuda
