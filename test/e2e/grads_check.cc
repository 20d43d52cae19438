//===- grads_check.cc - Compare `infir2 grads` with PyTorch autograd ------===//
//
// Part of infir2.
//
// grads_check --actual OUT.safetensors --expected EXPECTED.safetensors
//             --limit L [--loss-limit LL]
// EXPECTED comes from test/golden/grads/make_golden.py (torch.autograd on
// transformers' Qwen2). Both files must hold the same tensors: `loss` and
// `grad.<name>` for every parameter (2-D gradients: every row_stride-th row
// when the reference's metadata says so). For each tensor the relative error is
// max|actual - expected| / max|expected|; the test fails when any exceeds
// L (the acceptance: 1e-4 in fp32), or LL for `loss` when given.
// Prints every tensor's error, worst first.
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "runtime/io/safetensors.h"

int main(int argc, char **argv) {
  std::string actualPath, expectedPath;
  double limit = -1, lossLimit = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--actual")
      actualPath = argv[i + 1];
    else if (flag == "--expected")
      expectedPath = argv[i + 1];
    else if (flag == "--limit")
      limit = std::atof(argv[i + 1]);
    else if (flag == "--loss-limit")
      lossLimit = std::atof(argv[i + 1]);
  }
  if (actualPath.empty() || expectedPath.empty() || !(limit > 0)) {
    std::fprintf(stderr, "usage: grads_check --actual OUT --expected REF "
                         "--limit L [--loss-limit LL]\n");
    return 2;
  }
  auto actual = infir2::io::SafetensorsFile::open(actualPath);
  auto expected = infir2::io::SafetensorsFile::open(expectedPath);
  if (!actual.ok() || !expected.ok()) {
    std::fprintf(
        stderr, "grads_check: %s\n",
        std::string(
            (actual.ok() ? expected.status() : actual.status()).message())
            .c_str());
    return 1;
  }
  int64_t rowStride = 1;
  if (auto it = (*expected)->metadata().find("row_stride");
      it != (*expected)->metadata().end())
    rowStride = std::max<int64_t>(1, std::atoll(it->second.c_str()));
  std::set<std::string> names, actualNames;
  for (const auto &t : (*expected)->tensors())
    names.insert(t.name);
  for (const auto &t : (*actual)->tensors())
    actualNames.insert(t.name);
  bool ok = true;
  for (const std::string &n : names)
    if (!actualNames.count(n)) {
      std::printf("missing: %s\n", n.c_str());
      ok = false;
    }
  for (const std::string &n : actualNames)
    if (!names.count(n)) {
      std::printf("unexpected: %s\n", n.c_str());
      ok = false;
    }
  std::vector<std::pair<double, std::string>> errors;
  for (const std::string &n : names) {
    const infir2::io::TensorView *a = (*actual)->find(n);
    const infir2::io::TensorView *e = (*expected)->find(n);
    // Rows [0, stride, 2 stride, ...] of each 2-D gradient when the
    // reference keeps only those (to stay small; see make_golden.py).
    std::vector<int64_t> sampled = a ? a->shape : std::vector<int64_t>{};
    if (a && sampled.size() == 2)
      sampled[0] = (sampled[0] + rowStride - 1) / rowStride;
    if (!a || a->dtype != infir2::DType::kF32 ||
        e->dtype != infir2::DType::kF32 || sampled != e->shape) {
      if (a) {
        std::printf("%s: dtype or shape differs from the reference\n",
                    n.c_str());
        ok = false;
      }
      continue;
    }
    const int64_t count = e->elements();
    std::vector<float> av(count), ev(count);
    std::memcpy(ev.data(), e->data, count * sizeof(float));
    const float *src = reinterpret_cast<const float *>(a->data);
    if (sampled.size() == 2) {
      const int64_t cols = sampled[1];
      for (int64_t r = 0; r < sampled[0]; ++r)
        std::memcpy(av.data() + r * cols, src + r * rowStride * cols,
                    cols * sizeof(float));
    } else {
      std::memcpy(av.data(), src, count * sizeof(float));
    }
    double diff = 0, scale = 0;
    for (int64_t i = 0; i < count; ++i) {
      if (!std::isfinite(av[i]))
        diff = INFINITY;
      else
        diff = std::max(diff, std::fabs(double(av[i]) - ev[i]));
      scale = std::max(scale, std::fabs(double(ev[i])));
    }
    errors.push_back({scale > 0 ? diff / scale : diff, n});
  }
  std::sort(errors.rbegin(), errors.rend());
  std::printf("%-52s %12s\n", "tensor", "rel. error");
  for (const auto &[err, n] : errors) {
    const double l = n == "loss" && lossLimit > 0 ? lossLimit : limit;
    std::printf("%-52s %12.3e%s\n", n.c_str(), err,
                err <= l ? "" : "  > limit");
    ok = ok && err <= l;
  }
  std::printf("grads_check: %zu tensors, worst %.3e (limit %.0e): %s\n",
              errors.size(), errors.empty() ? 0.0 : errors.front().first, limit,
              ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
