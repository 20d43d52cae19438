//===- fp8_kernels.cc - CPU implementations of the fp8 ops ----------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/fp8_kernels.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/cpu/kernels.h"

namespace infir2::cpu {
namespace {
absl::Status invalid(const std::string &what) {
  return absl::InvalidArgumentError(what);
}

std::string shapeOf(const Tensor &t) {
  return absl::StrCat("[", absl::StrJoin(t.shape(), "x"), "]");
}

absl::StatusOr<numerics::Fp8Format> formatOf(DType t, const char *what) {
  if (t == DType::kF8E4M3)
    return numerics::Fp8Format::kE4M3FN;
  if (t == DType::kF8E5M2)
    return numerics::Fp8Format::kE5M2;
  return invalid(absl::StrCat(what, ": FP8 data is F8_E4M3 or F8_E5M2, not ",
                              dtypeName(t)));
}

absl::Status needMatrix(const Tensor &t, const char *what) {
  if (t.rank() != 2)
    return invalid(absl::StrCat(what, ": a 2-D tensor, got ", shapeOf(t)));
  return absl::OkStatus();
}

/// Scales the CPU reads: f32 (exact_f32 and pow2_f32 rules).
absl::Status needScales(const Tensor &scales, const Tensor &data,
                        numerics::Layout layout, const char *what) {
  if (scales.dtype() != DType::kF32)
    return absl::UnimplementedError(absl::StrCat(
        what, ": ", dtypeName(scales.dtype()),
        " scales (the e8m0 rule) do not run on the CPU backend; use "
        "pow2_f32, which has the same values"));
  const numerics::Extent e =
      numerics::scaleExtent(layout, data.dim(0), data.dim(1));
  if (scales.rank() != 2 || scales.dim(0) != e.rows || scales.dim(1) != e.cols)
    return invalid(absl::StrCat(what, ": scales ", shapeOf(scales),
                                " do not tile data ", shapeOf(data), " in ",
                                numerics::layoutName(layout), " (expected [",
                                e.rows, "x", e.cols, "])"));
  return absl::OkStatus();
}
} // namespace

absl::StatusOr<numerics::Layout> parseFp8Layout(const std::string &name) {
  if (name == "1x128")
    return numerics::Layout::kTile1x128;
  if (name == "128x1")
    return numerics::Layout::kTile128x1;
  if (name == "128x128")
    return numerics::Layout::kTile128x128;
  if (name == "per_row")
    return numerics::Layout::kPerRow;
  if (name == "per_tensor")
    return numerics::Layout::kPerTensor;
  return invalid(absl::StrCat("unknown FP8 layout '", name,
                              "' (1x128, 128x1, 128x128, per_row, "
                              "per_tensor)"));
}

absl::StatusOr<std::vector<Tensor>>
fp8Quantize(const Tensor &x, DType dataType, numerics::Layout layout,
            std::optional<numerics::Layout> transposedLayout,
            numerics::ScaleMode mode, numerics::ScaleMethod method) {
  if (absl::Status s = needMatrix(x, "fp8.quantize input"); !s.ok())
    return s;
  if (x.dtype() != DType::kF32 && x.dtype() != DType::kBF16)
    return invalid(absl::StrCat("fp8.quantize: input is F32 or BF16 on the "
                                "CPU, not ",
                                dtypeName(x.dtype())));
  absl::StatusOr<numerics::Fp8Format> format =
      formatOf(dataType, "fp8.quantize");
  if (!format.ok())
    return format.status();
  const int64_t m = x.dim(0), k = x.dim(1);
  numerics::QuantSpec spec{*format, layout, method, mode};
  const numerics::Extent se = numerics::scaleExtent(layout, m, k);
  std::vector<Tensor> out;
  out.push_back(Tensor::empty(dataType, {m, k}));
  out.push_back(Tensor::empty(DType::kF32, {se.rows, se.cols}));
  absl::Status s;
  if (!transposedLayout) {
    s = x.dtype() == DType::kF32
            ? numerics::quantize(x.data<float>(), m, k, spec,
                                 out[0].data<uint8_t>(), out[1].data<float>())
            : numerics::quantize(x.data<uint16_t>(), m, k, spec,
                                 out[0].data<uint8_t>(), out[1].data<float>());
  } else {
    numerics::QuantSpec tspec = spec;
    tspec.layout = *transposedLayout;
    const numerics::Extent te = numerics::scaleExtent(*transposedLayout, k, m);
    out.push_back(Tensor::empty(dataType, {k, m}));
    out.push_back(Tensor::empty(DType::kF32, {te.rows, te.cols}));
    s = x.dtype() == DType::kF32
            ? numerics::quantizeWithTranspose(
                  x.data<float>(), m, k, spec, tspec, out[0].data<uint8_t>(),
                  out[1].data<float>(), out[2].data<uint8_t>(),
                  out[3].data<float>())
            : numerics::quantizeWithTranspose(
                  x.data<uint16_t>(), m, k, spec, tspec, out[0].data<uint8_t>(),
                  out[1].data<float>(), out[2].data<uint8_t>(),
                  out[3].data<float>());
  }
  if (!s.ok())
    return absl::Status(s.code(), absl::StrCat("fp8.quantize: ", s.message()));
  return out;
}

absl::StatusOr<Tensor> fp8Dequantize(const Tensor &data, const Tensor &scales,
                                     numerics::Layout layout, DType outType) {
  if (absl::Status s = needMatrix(data, "fp8.dequantize data"); !s.ok())
    return s;
  absl::StatusOr<numerics::Fp8Format> format =
      formatOf(data.dtype(), "fp8.dequantize");
  if (!format.ok())
    return format.status();
  if (absl::Status s = needScales(scales, data, layout, "fp8.dequantize");
      !s.ok())
    return s;
  if (outType != DType::kF32 && outType != DType::kBF16)
    return invalid(absl::StrCat("fp8.dequantize: the result is F32 or BF16 "
                                "on the CPU, not ",
                                dtypeName(outType)));
  Tensor out = Tensor::empty(outType, data.shape());
  absl::Status s =
      outType == DType::kF32
          ? numerics::dequantize(data.data<uint8_t>(), scales.data<float>(),
                                 data.dim(0), data.dim(1), layout, *format,
                                 out.data<float>())
          : numerics::dequantize(data.data<uint8_t>(), scales.data<float>(),
                                 data.dim(0), data.dim(1), layout, *format,
                                 out.data<uint16_t>());
  if (!s.ok())
    return absl::Status(s.code(),
                        absl::StrCat("fp8.dequantize: ", s.message()));
  return out;
}

absl::StatusOr<Tensor>
fp8ScaledMatmul(const Tensor &lhs, const Tensor &lhsScales,
                numerics::Layout lhsLayout, bool transposeLhs,
                const Tensor &rhs, const Tensor &rhsScales,
                numerics::Layout rhsLayout, bool transposeRhs, DType outType) {
  // With power-of-two scales every dequantized value is exact in f32, and
  // so is every product of two FP8 values (above f32's normal range): the
  // sums are the only roundings, as on tensor cores with f32 accumulation.
  absl::StatusOr<Tensor> a =
      fp8Dequantize(lhs, lhsScales, lhsLayout, DType::kF32);
  if (!a.ok())
    return absl::Status(
        a.status().code(),
        absl::StrCat("fp8.scaled_matmul lhs: ", a.status().message()));
  absl::StatusOr<Tensor> b =
      fp8Dequantize(rhs, rhsScales, rhsLayout, DType::kF32);
  if (!b.ok())
    return absl::Status(
        b.status().code(),
        absl::StrCat("fp8.scaled_matmul rhs: ", b.status().message()));
  return matmul(*a, *b, transposeLhs, transposeRhs, outType);
}
} // namespace infir2::cpu
