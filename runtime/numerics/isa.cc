//===- isa.cc - Which vector instructions the numerics kernels use --------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/numerics/isa.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace infir2::numerics {
namespace {
bool cpuHasAvx2() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

std::atomic<Isa> &currentIsa() {
  static std::atomic<Isa> isa{[] {
    const char *env = std::getenv("INFIR2_NUMERICS_NO_SIMD");
    bool disabled = env && std::strcmp(env, "0") != 0;
    return !disabled && cpuHasAvx2() ? Isa::kAvx2 : Isa::kScalar;
  }()};
  return isa;
}
} // namespace

bool isaSupported(Isa isa) {
  return isa == Isa::kScalar || (isa == Isa::kAvx2 && cpuHasAvx2());
}

Isa activeIsa() { return currentIsa().load(std::memory_order_relaxed); }

Isa setIsa(Isa isa) {
  if (isaSupported(isa))
    currentIsa().store(isa, std::memory_order_relaxed);
  return activeIsa();
}

const char *isaName(Isa isa) {
  switch (isa) {
  case Isa::kScalar:
    return "scalar";
  case Isa::kAvx2:
    return "avx2";
  }
  return "?";
}
} // namespace infir2::numerics
