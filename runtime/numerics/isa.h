//===- isa.h - Which vector instructions the numerics kernels use -*- C++ -*-//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_NUMERICS_ISA_H_
#define INFIR2_RUNTIME_NUMERICS_ISA_H_

namespace infir2::numerics {
/// Kernel flavours. Every flavour produces bit-identical results; the tests
/// run each flavour the CPU supports.
enum class Isa {
  kScalar, ///< Portable C++.
  kAvx2,   ///< x86-64 AVX2 + FMA (checked at run time).
};

/// The flavour in use: kAvx2 when the CPU supports it, unless
/// INFIR2_NUMERICS_NO_SIMD=1 is set, or setIsa() chose otherwise.
Isa activeIsa();

/// Selects |isa| if the CPU supports it; returns the flavour now in use.
/// Not thread-safe with respect to running kernels (meant for tests and
/// benchmarks).
Isa setIsa(Isa isa);

/// True if the CPU can run |isa|.
bool isaSupported(Isa isa);

const char *isaName(Isa isa);
} // namespace infir2::numerics

#endif // INFIR2_RUNTIME_NUMERICS_ISA_H_
