//===- nvrtc_compiler_test.cc - NVRTC compilation to sm_90a ---------------===//
//
// Part of infir2. Runs without a GPU: NVRTC only compiles.
//
//===----------------------------------------------------------------------===//

#include "runtime/cuda/nvrtc_compiler.h"

#include <cstdint>
#include <cstring>

#include <gtest/gtest.h>

namespace infir2::cuda {
namespace {
// A kernel in the shape generated kernels will have: FP8 and BF16 types from
// the toolkit headers, extern "C" entry point.
constexpr const char *kQuantizeKernel = R"cuda(
#include <cuda_bf16.h>
#include <cuda_fp8.h>
extern "C" __global__ void quantize_e4m3(const __nv_bfloat16 *x,
                                         __nv_fp8_e4m3 *q, float scale, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    q[i] = __nv_fp8_e4m3(__bfloat162float(x[i]) * scale);
}
)cuda";

uint16_t readU16(const std::string &bytes, size_t offset) {
  uint16_t v;
  std::memcpy(&v, bytes.data() + offset, sizeof(v));
  return v;
}

TEST(NvrtcCompiler, CompilesFp8KernelToSm90aCubin) {
  absl::StatusOr<NvrtcResult> result =
      compileToCubin(kQuantizeKernel, "quantize_e4m3.cu");
  ASSERT_TRUE(result.ok()) << result.status();
  const std::string &cubin = result->cubin;
  ASSERT_GT(cubin.size(), 64u);
  EXPECT_EQ(cubin.substr(0, 4), "\x7f"
                                "ELF");
  // ELF e_machine (offset 18) of a CUDA cubin is EM_CUDA = 190.
  EXPECT_EQ(readU16(cubin, 18), 190);
  // The entry point is in the symbol table under its extern "C" name.
  EXPECT_NE(cubin.find("quantize_e4m3"), std::string::npos);
}

TEST(NvrtcCompiler, CompileErrorNamesSourceAndLine) {
  absl::StatusOr<NvrtcResult> result = compileToCubin(
      "extern \"C\" __global__ void k() {\n  int x = undefined_name;\n}\n",
      "broken.cu");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  std::string message(result.status().message());
  EXPECT_NE(message.find("broken.cu"), std::string::npos) << message;
  EXPECT_NE(message.find("sm_90a"), std::string::npos) << message;
  EXPECT_NE(message.find("undefined_name"), std::string::npos) << message;
  EXPECT_NE(message.find("(2)"), std::string::npos) << message; // line 2
}

TEST(NvrtcCompiler, RejectsVirtualArchitecture) {
  NvrtcOptions options;
  options.arch = "compute_90a";
  absl::StatusOr<NvrtcResult> result =
      compileToCubin("__global__ void k() {}", "k.cu", options);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("not a real architecture"),
            std::string::npos)
      << result.status();
}

TEST(NvrtcCompiler, ExtraOptionsReachTheCompiler) {
  NvrtcOptions options;
  options.extraOptions = {"-DTILE=128"};
  absl::StatusOr<NvrtcResult> result = compileToCubin(
      "static_assert(TILE == 128, \"TILE\");\n"
      "extern \"C\" __global__ void k(float *p) { p[0] = TILE; }\n",
      "tile.cu", options);
  EXPECT_TRUE(result.ok()) << result.status();
}
} // namespace
} // namespace infir2::cuda
