//===- golden_check.cc - Compare `infir2 logits` with transformers --------===//
//
// Part of infir2.
//
// golden_check --actual OUT.safetensors --expected EXPECTED.safetensors
//              --precision fp32|bf16
// EXPECTED comes from test/golden/qwen2/make_golden.py (Hugging Face
// transformers). Prints the achieved error and fails above the limits of
// the acceptance:
//   fp32: max|logit - ref| <= 1e-4 * max|ref logit|; NLL sums within 1e-4
//   bf16: max|logit - ref| <= 2e-2 * max|ref logit|; NLL sums within 1%
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/io/safetensors.h"

namespace {
std::vector<float> values(const infir2::io::TensorView &t) {
  std::vector<float> v(t.elements());
  std::memcpy(v.data(), t.data, v.size() * sizeof(float));
  return v;
}

int usage() {
  std::fprintf(stderr, "usage: golden_check --actual OUT --expected REF "
                       "--precision fp32|bf16\n");
  return 2;
}
} // namespace

int main(int argc, char **argv) {
  std::string actualPath, expectedPath, precision;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--actual")
      actualPath = argv[i + 1];
    else if (flag == "--expected")
      expectedPath = argv[i + 1];
    else if (flag == "--precision")
      precision = argv[i + 1];
    else
      return usage();
  }
  if (actualPath.empty() || expectedPath.empty() ||
      (precision != "fp32" && precision != "bf16"))
    return usage();
  const double logitLimit = precision == "fp32" ? 1e-4 : 2e-2;
  const double nllLimit = precision == "fp32" ? 1e-4 : 1e-2;

  auto actual = infir2::io::SafetensorsFile::open(actualPath);
  auto expected = infir2::io::SafetensorsFile::open(expectedPath);
  if (!actual.ok() || !expected.ok()) {
    std::fprintf(
        stderr, "golden_check: %s\n",
        std::string((actual.ok() ? expected : actual).status().message())
            .c_str());
    return 1;
  }
  if ((*actual)->tensors().size() != (*expected)->tensors().size()) {
    std::fprintf(stderr, "golden_check: %zu tensors, the reference has %zu\n",
                 (*actual)->tensors().size(), (*expected)->tensors().size());
    return 1;
  }
  double maxDiff = 0, maxRef = 0, nllActual = 0, nllRef = 0;
  int logitTensors = 0;
  for (const infir2::io::TensorView &ref : (*expected)->tensors()) {
    const infir2::io::TensorView *got = (*actual)->find(ref.name);
    if (!got || got->shape != ref.shape || got->dtype != infir2::DType::kF32 ||
        ref.dtype != infir2::DType::kF32) {
      std::fprintf(stderr,
                   "golden_check: '%s' is missing or not f32 %s in %s\n",
                   ref.name.c_str(), infir2::formatShape(ref.shape).c_str(),
                   actualPath.c_str());
      return 1;
    }
    std::vector<float> a = values(*got), e = values(ref);
    for (size_t i = 0; i < a.size(); ++i)
      if (!std::isfinite(a[i])) {
        std::fprintf(stderr, "golden_check: '%s'[%zu] is %g\n",
                     ref.name.c_str(), i, a[i]);
        return 1;
      }
    if (ref.name.rfind("logits.", 0) == 0) {
      ++logitTensors;
      for (size_t i = 0; i < a.size(); ++i) {
        maxDiff = std::max(maxDiff, std::fabs(double(a[i]) - e[i]));
        maxRef = std::max(maxRef, std::fabs(double(e[i])));
      }
    } else {
      for (size_t i = 0; i < a.size(); ++i) {
        nllActual += a[i];
        nllRef += e[i];
      }
    }
  }
  if (logitTensors == 0 || maxRef == 0) {
    std::fprintf(stderr, "golden_check: the reference has no logits\n");
    return 1;
  }
  const double logitRatio = maxDiff / maxRef;
  const double nllRatio = std::fabs(nllActual - nllRef) / std::fabs(nllRef);
  const bool ok = logitRatio <= logitLimit && nllRatio <= nllLimit;
  std::printf("golden_check: %s, %d sequences: max|logit - transformers| = "
              "%.3g = %.3g x max|logit| (%.4g), limit %.0e; NLL sum %.6f vs "
              "%.6f, relative %.3g, limit %.0e: %s\n",
              precision.c_str(), logitTensors, maxDiff, logitRatio, maxRef,
              logitLimit, nllActual, nllRef, nllRatio, nllLimit,
              ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
