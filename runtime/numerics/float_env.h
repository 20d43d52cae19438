//===- float_env.h - A known floating-point mode for numerics ---*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// Scale computations and the multiplications of block quantization are f32
// arithmetic, whose results depend on the FPU's mode: a process can run with
// flush-to-zero / denormals-are-zero (torch.set_flush_denormal, code built
// with -ffast-math) or another rounding direction. Every public numerics
// entry point holds a ScopedFloatEnv, which selects IEEE round-to-nearest-
// even with subnormals for its duration and restores the caller's mode.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_NUMERICS_FLOAT_ENV_H_
#define INFIR2_RUNTIME_NUMERICS_FLOAT_ENV_H_

#include <cstdint>

namespace infir2::numerics {
/// The caller's floating-point control state, as parallelFor hands it to its
/// worker threads.
uint32_t currentFloatControl();
void setFloatControl(uint32_t control);

/// Selects round-to-nearest-even without flush-to-zero or
/// denormals-are-zero (x86-64: MXCSR control bits 0x1F80; elsewhere the
/// rounding direction) until destroyed.
class ScopedFloatEnv {
public:
  ScopedFloatEnv();
  ~ScopedFloatEnv();
  ScopedFloatEnv(const ScopedFloatEnv &) = delete;
  ScopedFloatEnv &operator=(const ScopedFloatEnv &) = delete;

private:
  uint32_t saved_;
  bool changed_;
};
} // namespace infir2::numerics

#endif // INFIR2_RUNTIME_NUMERICS_FLOAT_ENV_H_
