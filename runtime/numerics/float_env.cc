//===- float_env.cc - A known floating-point mode for numerics ------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/numerics/float_env.h"

#if defined(__x86_64__)
#include <xmmintrin.h>
#else
#include <cfenv>
#endif

namespace infir2::numerics {
namespace {
#if defined(__x86_64__)
// MXCSR: bits 0-5 are sticky exception flags, 6-15 control (DAZ, exception
// masks, rounding, FTZ). 0x1F80: all exceptions masked, nearest, no FTZ/DAZ.
constexpr uint32_t kControlMask = 0xFFC0u;
constexpr uint32_t kIeee = 0x1F80u;
#endif
} // namespace

uint32_t currentFloatControl() {
#if defined(__x86_64__)
  return _mm_getcsr();
#else
  return static_cast<uint32_t>(std::fegetround());
#endif
}

void setFloatControl(uint32_t control) {
#if defined(__x86_64__)
  _mm_setcsr(control);
#else
  std::fesetround(static_cast<int>(control));
#endif
}

ScopedFloatEnv::ScopedFloatEnv() : saved_(currentFloatControl()) {
#if defined(__x86_64__)
  changed_ = (saved_ & kControlMask) != kIeee;
  if (changed_)
    setFloatControl((saved_ & ~kControlMask) | kIeee);
#else
  changed_ = saved_ != static_cast<uint32_t>(FE_TONEAREST);
  if (changed_)
    std::fesetround(FE_TONEAREST);
#endif
}

ScopedFloatEnv::~ScopedFloatEnv() {
  if (changed_)
    setFloatControl(saved_);
}
} // namespace infir2::numerics
