//===- optimizer_check.cc - Generated AdamW against the runtime's ---------===//
//
// Part of infir2.
//
// optimizer_check --artifact ART
// ART is a training artifact with the optimizer entry points (infir2c
// --gradients --optimizer --fusion on). For its parameters, with random
// weights, gradients and three steps, AdamW::step on the generated kernels
// (grad_norm, optimizer_step) must give the runtime's AdamW::step results:
//  - without clipping, bit for bit (masters, both moments, and the
//    model-type copies against the host's rounding of the masters);
//  - with clipping, within 1e-6 (the kernels sum the squares by rows in
//    f32 before adding them in f64, so the clip factor may differ in its
//    last bits).
//
//===----------------------------------------------------------------------===//

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

#include "runtime/artifact/manifest.h"
#include "runtime/cpu/kernels.h"
#include "runtime/train/optimizer.h"
#include "runtime/train/optimizer_kernels.h"

using namespace infir2;

namespace {
int fail(const std::string &what) {
  std::printf("optimizer_check: %s: FAIL\n", what.c_str());
  return 1;
}

cpu::Tensor randomTensor(const std::vector<int64_t> &shape, std::mt19937 &rng,
                         float scale) {
  std::normal_distribution<float> normal(0.0f, scale);
  cpu::Tensor t = cpu::Tensor::empty(DType::kF32, shape);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<float>()[i] = normal(rng);
  return t;
}

/// The largest |a - b| / max |a| over the parameters' states.
double worstState(const train::AdamW &a, const train::AdamW &b) {
  double worst = 0;
  for (const std::string &n : a.names())
    for (auto get : {&train::AdamW::master, &train::AdamW::expAvg,
                     &train::AdamW::expAvgSq}) {
      const cpu::Tensor &x = (a.*get)(n), &y = (b.*get)(n);
      double scale = 0, diff = 0;
      for (int64_t i = 0; i < x.numel(); ++i) {
        scale = std::max(scale, std::fabs(double(x.data<float>()[i])));
        diff = std::max(
            diff, std::fabs(double(x.data<float>()[i]) - y.data<float>()[i]));
      }
      worst = std::max(worst, scale > 0 ? diff / scale : diff);
    }
  return worst;
}
} // namespace

int main(int argc, char **argv) {
  if (argc != 3 || std::string(argv[1]) != "--artifact") {
    std::fprintf(stderr, "usage: optimizer_check --artifact ART\n");
    return 2;
  }
  absl::StatusOr<artifact::Manifest> m = artifact::loadManifest(argv[2]);
  if (!m.ok())
    return fail(std::string(m.status().message()));
  const artifact::EntryPoint *grad = m->entryPoint("forward_grad");
  if (!grad)
    return fail("the artifact has no forward_grad");
  for (double clip : {0.0, 0.05}) {
    absl::StatusOr<std::unique_ptr<train::ArtifactAdamW>> kernels =
        train::ArtifactAdamW::create(*m);
    if (!kernels.ok())
      return fail(std::string(kernels.status().message()));
    train::AdamWConfig config;
    config.weightDecay = 0.1;
    config.clipGrad = clip;
    train::AdamW reference(config), generated(config);
    std::mt19937 rng(11);
    for (const artifact::Parameter &p : grad->parameters) {
      cpu::Tensor init = randomTensor(p.shape, rng, 0.02f);
      if (!reference.addParameter(p.name, init).ok() ||
          !generated.addParameter(p.name, init).ok())
        return fail("addParameter " + p.name);
    }
    for (int step = 1; step <= 3; ++step) {
      std::map<std::string, cpu::Tensor> g1, g2;
      for (const artifact::Parameter &p : grad->parameters) {
        g1[p.name] = randomTensor(p.shape, rng, 0.01f);
        g2[p.name] =
            cpu::Tensor::copyOf(DType::kF32, p.shape, g1[p.name].data<float>());
      }
      const double lr = 1e-3 * step;
      absl::StatusOr<train::StepStats> a = reference.step(g1, lr);
      absl::StatusOr<train::StepStats> b =
          generated.step(g2, lr, kernels->get());
      if (!a.ok() || !b.ok())
        return fail(std::string((a.ok() ? b.status() : a.status()).message()));
      if (std::fabs(a->gradNorm - b->gradNorm) > 1e-6 * a->gradNorm)
        return fail("gradient norms " + std::to_string(a->gradNorm) + " vs " +
                    std::to_string(b->gradNorm));
    }
    const double worst = worstState(reference, generated);
    if (clip == 0.0) {
      if (worst != 0.0)
        return fail("without clipping the states differ by " +
                    std::to_string(worst));
      // The model-type copies the kernels wrote, against the host's.
      for (const auto &[name, copy] : (*kernels)->copies()) {
        absl::StatusOr<cpu::Tensor> host =
            cpu::cast(generated.master(name), copy.dtype());
        if (!host.ok() || host->nbytes() != copy.nbytes() ||
            std::memcmp(host->raw(), copy.raw(), copy.nbytes()) != 0)
          return fail("the " + std::string(dtypeName(copy.dtype())) +
                      " copy of " + name + " differs from the host's");
      }
      std::printf("optimizer_check: %zu parameters, 3 steps without "
                  "clipping: bit-identical (%zu model-type copies too)\n",
                  grad->parameters.size(), (*kernels)->copies().size());
    } else {
      if (worst > 1e-6)
        return fail("with clipping the states differ by " +
                    std::to_string(worst));
      std::printf("optimizer_check: 3 steps with clipping: states within "
                  "%.1e\n",
                  worst);
    }
  }
  std::printf("optimizer_check: PASS\n");
  return 0;
}
