//===- block_quant.h - Block-scaled FP8 quantization ------------*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// Quantizes a row-major 2-D tensor [rows, cols] (f32, or bf16 bits) to FP8
// codes plus one f32 scale per tile, and back. The layouts, the two scale
// formulas and the two scale modes are those of the fp8 dialect
// (docs/dialects/fp8-semantics.md §1); docs/numerics.md explains them and
// which part of infir2 uses which.
//
// Scales are always *dequantization* multipliers (TransformerEngine's
// scale_inv, a checkpoint's weight_scale_inv): x ~= fp8ToF32(q) * scale.
// Elements convert with round-to-nearest-even and saturation to the format's
// largest finite value; NaN becomes 0x7F.
//
// Results are identical whatever the thread count, vector ISA or the
// caller's floating-point mode (float_env.h).
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_NUMERICS_BLOCK_QUANT_H_
#define INFIR2_RUNTIME_NUMERICS_BLOCK_QUANT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/numerics/float8.h"

namespace infir2::numerics {
/// Which elements share a scale (fp8 dialect's #fp8.layout).
enum class Layout : uint8_t {
  kTile1x128,   ///< 128 consecutive elements of a row (activations, gradients).
  kTile128x1,   ///< 128 consecutive elements of a column.
  kTile128x128, ///< 128 x 128 blocks (weights).
  kPerRow,      ///< one scale per row.
  kPerTensor,   ///< one scale for the tensor.
};

/// The formula from a tile's amax to its scale (fp8 dialect's #fp8.method).
enum class ScaleMethod : uint8_t {
  /// TransformerEngine Float8BlockScaling (training): s = fmax / amax in f32;
  /// amax 0 or inf -> s = 1; overflow -> FLT_MAX; scale = 1 / s;
  /// q = saturate(x * s). The amax skips NaNs (TE's fmaxf reduction).
  kTE,
  /// Block-FP8 checkpoint tools (export, rollout weights):
  /// scale = max(amax, 1e-10) / fmax in f32; amax NaN or inf -> 1;
  /// q = clamp(x / scale, +-fmax). A NaN makes the amax NaN (torch amax).
  kCheckpoint,
};

/// Whether scales are rounded to powers of two.
enum class ScaleMode : uint8_t {
  kExactF32, ///< the f32 value of the formula.
  kPow2,     ///< TE: s = 2^floor(log2 s); checkpoint: scale =
             ///< 2^ceil(log2 scale). Such scales convert to E8M0 exactly.
};

/// How to quantize one tensor.
struct QuantSpec {
  Fp8Format format = Fp8Format::kE4M3FN;
  Layout layout = Layout::kTile128x128;
  ScaleMethod method = ScaleMethod::kTE;
  ScaleMode mode = ScaleMode::kPow2;
};

/// A 2-D extent.
struct Extent {
  int64_t rows = 0;
  int64_t cols = 0;
  bool operator==(const Extent &) const = default;
};

/// The effective tile of |layout| on a [rows, cols] tensor: 1x128, 128x1,
/// 128x128, 1 x cols (per row) or rows x cols (per tensor).
Extent tileExtent(Layout layout, int64_t rows, int64_t cols);

/// The shape of the scale tensor: [ceil(rows / R), ceil(cols / C)] for the
/// effective tile R x C; per_row is [rows, 1] and per_tensor [1, 1].
Extent scaleExtent(Layout layout, int64_t rows, int64_t cols);

/// The factors of one tile. Elements are quantized as
/// saturate(x * multiplier), or saturate(x / scale) when |divide| (the
/// checkpoint formula with exact scales); |scale| is stored.
struct TileScale {
  float scale;
  float multiplier;
  bool divide;
};

/// The scale of a tile whose largest magnitude is |amax| (as the spec's
/// method takes it: NaN-skipping for kTE, NaN-propagating for kCheckpoint).
TileScale computeTileScale(float amax, const QuantSpec &spec);

/// Quantizes the row-major [rows, cols] |input| into |data| (rows * cols
/// codes) and |scales| (scaleExtent floats, row-major).
absl::Status quantize(const float *input, int64_t rows, int64_t cols,
                      const QuantSpec &spec, uint8_t *data, float *scales);
/// The same for bf16 input (bit patterns).
absl::Status quantize(const uint16_t *input, int64_t rows, int64_t cols,
                      const QuantSpec &spec, uint8_t *data, float *scales);

/// Quantizes |input| with |spec| into |data|/|scales| and its transpose
/// ([cols, rows]) with |transposedSpec| into |dataT|/|scalesT|, both from the
/// high-precision values; the result equals quantizing a transposed copy. The
/// training case (1x128 both ways) reads the input once per 128-row band.
absl::Status quantizeWithTranspose(const float *input, int64_t rows,
                                   int64_t cols, const QuantSpec &spec,
                                   const QuantSpec &transposedSpec,
                                   uint8_t *data, float *scales, uint8_t *dataT,
                                   float *scalesT);
absl::Status quantizeWithTranspose(const uint16_t *input, int64_t rows,
                                   int64_t cols, const QuantSpec &spec,
                                   const QuantSpec &transposedSpec,
                                   uint8_t *data, float *scales, uint8_t *dataT,
                                   float *scalesT);

/// out = fp8ToF32(data) * scale of the element's tile, in f32; for bf16
/// output that product is then rounded to nearest even.
absl::Status dequantize(const uint8_t *data, const float *scales, int64_t rows,
                        int64_t cols, Layout layout, Fp8Format format,
                        float *out);
absl::Status dequantize(const uint8_t *data, const float *scales, int64_t rows,
                        int64_t cols, Layout layout, Fp8Format format,
                        uint16_t *out);

/// Power-of-two scales as E8M0 bytes (scale = 2^(e - 127)). Fails, naming
/// the first offending index and value, if a scale is not a power of two in
/// [2^-127, 2^127].
absl::Status scalesToE8M0(const float *scales, int64_t n, uint8_t *out);

/// A quantized matrix that owns its buffers.
struct QuantizedMatrix {
  QuantSpec spec;
  Extent extent;     ///< [rows, cols] of the data.
  Extent scaleShape; ///< [rows, cols] of the scales.
  std::vector<uint8_t> data;
  std::vector<float> scales;
};

/// Allocating forms of quantize().
absl::StatusOr<QuantizedMatrix> quantizeMatrix(const float *input, int64_t rows,
                                               int64_t cols,
                                               const QuantSpec &spec);
absl::StatusOr<QuantizedMatrix> quantizeMatrix(const uint16_t *input,
                                               int64_t rows, int64_t cols,
                                               const QuantSpec &spec);

/// "1x128", "per_row", ... as the fp8 dialect spells them.
const char *layoutName(Layout layout);
/// "te" / "checkpoint", "exact_f32" / "pow2", "e4m3fn" / "e5m2".
const char *methodName(ScaleMethod method);
const char *modeName(ScaleMode mode);
const char *formatName(Fp8Format format);
} // namespace infir2::numerics

#endif // INFIR2_RUNTIME_NUMERICS_BLOCK_QUANT_H_
