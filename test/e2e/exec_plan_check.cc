//===- exec_plan_check.cc - The CUDA plan against the CPU executor --------===//
//
// Part of infir2.
//
// exec_plan_check ARTIFACT MODEL TOKENS SEQ_LEN
// Plans forward_grad of a fused training artifact for TOKENS tokens packed
// as TOKENS / SEQ_LEN sequences, runs the same entry point on the CPU with
// random token ids, and checks
//   - every step result's planned shape against the shape the CPU executor
//     produced;
//   - every planned last read against the manifest's free lists (a buffer
//     is freed after its last reader, or after its own step when unread;
//     views keep their source's memory alive longer, which the arena
//     check covers);
//   - that no two arena buffers that are live at the same step overlap, and
//     that the arena holds its peak;
//   - where a GPU exists, that the CUDA executor's outputs (run from this
//     plan) match the CPU executor's; without one it says so and skips.
// Prints "exec_plan_check: ...: PASS" or the first mismatches.
//
//===----------------------------------------------------------------------===//

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "runtime/artifact/manifest.h"
#include "runtime/cpu/executor.h"
#include "runtime/cuda/driver.h"
#include "runtime/cuda/exec_plan.h"
#include "runtime/cuda/executor.h"
#include "runtime/io/safetensors.h"

using namespace infir2;

namespace {
int fail(const std::string &m) {
  std::fprintf(stderr, "exec_plan_check: %s\n", m.c_str());
  return 1;
}

/// Element |i| of a float or i32 tensor as a double.
double value(const cpu::Tensor &t, int64_t i) {
  switch (t.dtype()) {
  case DType::kF32:
    return t.data<float>()[i];
  case DType::kBF16: {
    const uint32_t bits = static_cast<uint32_t>(t.data<uint16_t>()[i]) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  case DType::kI32:
    return t.data<int32_t>()[i];
  default:
    return 0;
  }
}

std::string shapeText(const std::vector<int64_t> &s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i)
    out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}
} // namespace

int main(int argc, char **argv) {
  if (argc != 5)
    return fail("usage: exec_plan_check ARTIFACT MODEL TOKENS SEQ_LEN");
  const int64_t tokens = std::atoll(argv[3]), seqLen = std::atoll(argv[4]);
  if (tokens <= 0 || seqLen <= 0 || tokens % seqLen)
    return fail("TOKENS must be a positive multiple of SEQ_LEN");
  absl::StatusOr<artifact::Manifest> manifest = artifact::loadManifest(argv[1]);
  if (!manifest.ok())
    return fail(std::string(manifest.status().message()));
  const artifact::EntryPoint *ep = manifest->entryPoint("forward_grad");
  if (!ep)
    return fail("no forward_grad entry point");

  // Inputs: random ids below the embedding's row count.
  int64_t vocab = 0;
  for (const artifact::Parameter &p : ep->parameters)
    if (p.name == "model.embed_tokens.weight")
      vocab = p.shape[0];
  if (vocab <= 0)
    return fail("no model.embed_tokens.weight parameter");
  std::mt19937 rng(11);
  std::vector<int32_t> ids(tokens), pos(tokens), labels(tokens), cu;
  std::vector<float> mask(tokens, 1.0f);
  for (int64_t t = 0; t < tokens; ++t) {
    ids[t] = static_cast<int32_t>(rng() % vocab);
    labels[t] = static_cast<int32_t>(rng() % vocab);
    pos[t] = static_cast<int32_t>(t % seqLen);
  }
  for (int64_t s = 0; s <= tokens / seqLen; ++s)
    cu.push_back(static_cast<int32_t>(s * seqLen));
  std::map<std::string, cpu::Tensor> inputs;
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const artifact::Binding &in : ep->inputs) {
    const std::vector<int32_t> *src = in.name == "token_ids"      ? &ids
                                      : in.name == "position_ids" ? &pos
                                      : in.name == "cu_seqlens"   ? &cu
                                      : in.name == "labels"       ? &labels
                                                                  : nullptr;
    const std::vector<int64_t> shape = {
        static_cast<int64_t>(src ? src->size() : mask.size())};
    if (src)
      inputs[in.name] = cpu::Tensor::copyOf(DType::kI32, shape, src->data());
    else if (in.name == "loss_mask")
      inputs[in.name] = cpu::Tensor::copyOf(DType::kF32, shape, mask.data());
    else
      return fail("unknown input " + in.name);
    shapes[in.name] = shape;
  }

  absl::StatusOr<cuda::ExecPlan> plan =
      cuda::planEntryPoint(*manifest, "forward_grad", shapes);
  if (!plan.ok())
    return fail(std::string(plan.status().message()));

  absl::StatusOr<std::unique_ptr<cpu::Program>> program =
      cpu::Program::create(*manifest, "forward_grad");
  if (!program.ok())
    return fail(std::string(program.status().message()));
  absl::StatusOr<std::unique_ptr<io::Checkpoint>> ckptOr =
      io::Checkpoint::open(argv[2]);
  if (!ckptOr.ok())
    return fail(std::string(ckptOr.status().message()));
  std::shared_ptr<const io::Checkpoint> ckpt = std::move(*ckptOr);
  if (absl::Status s = (*program)->bindParameters(ckpt); !s.ok())
    return fail(std::string(s.message()));
  cpu::RunProfile profile;
  profile.recordShapes = true;
  absl::StatusOr<std::map<std::string, cpu::Tensor>> cpuOut =
      (*program)->run(inputs, &profile);
  if (!cpuOut.ok())
    return fail(std::string(cpuOut.status().message()));

  int errors = 0;
  auto report = [&](const std::string &m) {
    if (++errors <= 10)
      std::fprintf(stderr, "exec_plan_check: %s\n", m.c_str());
  };
  for (const auto &[id, shape] : profile.shapes)
    if (plan->buffers[id].shape != shape)
      report("buffer %" + std::to_string(id) + ": planned " +
             shapeText(plan->buffers[id].shape) + ", the CPU made " +
             shapeText(shape));
  int64_t lifetimes = 0;
  for (size_t i = 0; i < ep->steps.size(); ++i)
    for (int64_t id : ep->steps[i].free) {
      const cuda::PlannedBuffer &b = plan->buffers[id];
      ++lifetimes;
      if (std::max(b.lastRead, b.def) != static_cast<int64_t>(i))
        report("buffer %" + std::to_string(id) + ": freed after step " +
               std::to_string(i) + " by the manifest, planned last read " +
               std::to_string(b.lastRead) + " (defined by " +
               std::to_string(b.def) + ")");
    }
  std::vector<const cuda::PlannedBuffer *> arena;
  for (const cuda::PlannedBuffer &b : plan->buffers)
    if (b.id >= 0 && b.placement == cuda::Placement::kArena)
      arena.push_back(&b);
  for (size_t x = 0; x < arena.size(); ++x)
    for (size_t y = x + 1; y < arena.size(); ++y) {
      const cuda::PlannedBuffer &a = *arena[x], &b = *arena[y];
      const int64_t aEnd = std::max(a.lastUse, a.def),
                    bEnd = std::max(b.lastUse, b.def);
      const bool together = a.def <= bEnd && b.def <= aEnd;
      const bool overlap =
          a.offset < b.offset + std::max<int64_t>(b.bytes, 1) &&
          b.offset < a.offset + std::max<int64_t>(a.bytes, 1);
      if (together && overlap)
        report("buffers %" + std::to_string(a.id) + " and %" +
               std::to_string(b.id) + " are live together and overlap");
    }
  if (plan->arenaBytes < plan->peakLiveBytes)
    report("arena smaller than its peak");

  // The same plan on the GPU, where there is one.
  // Only a missing driver or device is a skip; any other failure to set
  // the program up on a GPU is an error.
  absl::Status noGpu = cuda::driver().status();
  if (noGpu.ok())
    noGpu = cuda::deviceInfo(0).status();
  absl::StatusOr<std::unique_ptr<cuda::DeviceProgram>> gpu =
      noGpu.ok() ? cuda::DeviceProgram::create(*manifest, "forward_grad")
                 : absl::StatusOr<std::unique_ptr<cuda::DeviceProgram>>(noGpu);
  if (!noGpu.ok()) {
    std::printf("exec_plan_check: GPU run skipped: %s\n",
                std::string(noGpu.message()).c_str());
  } else if (!gpu.ok()) {
    report("GPU: " + std::string(gpu.status().message()));
  } else if (absl::Status s = (*gpu)->bindParameters(*ckpt); !s.ok()) {
    report("GPU: " + std::string(s.message()));
  } else {
    std::map<std::string, cuda::HostTensor> hostInputs;
    for (const auto &[name, t] : inputs) {
      const auto *p = static_cast<const uint8_t *>(t.raw());
      hostInputs[name] = {t.dtype(), t.shape(),
                          std::vector<uint8_t>(p, p + t.nbytes())};
    }
    cuda::DeviceTiming timing;
    absl::StatusOr<std::map<std::string, cuda::HostTensor>> out =
        (*gpu)->run(hostInputs, &timing);
    if (!out.ok()) {
      report("GPU: " + std::string(out.status().message()));
    } else {
      double worst = 0;
      for (const auto &[name, ref] : *cpuOut) {
        if (!out->count(name)) {
          report("GPU: no output " + name);
          continue;
        }
        if (ref.dtype() != DType::kF32 && ref.dtype() != DType::kBF16 &&
            ref.dtype() != DType::kI32) {
          report("output " + name + ": no comparison for its dtype");
          continue;
        }
        const cuda::HostTensor &got = out->at(name);
        const cpu::Tensor g =
            cpu::Tensor::copyOf(got.dtype, got.shape, got.bytes.data());
        double err = 0, norm = 0;
        for (int64_t i = 0; i < ref.numel(); ++i) {
          const double r = value(ref, i), v = value(g, i);
          err = std::max(err, std::fabs(r - v));
          norm = std::max(norm, std::fabs(r));
        }
        worst = std::max(worst, norm > 0 ? err / norm : err);
      }
      std::printf("exec_plan_check: GPU run %.3f ms, outputs within %.2e of "
                  "the CPU's\n",
                  timing.ms, worst);
      if (worst > 2e-2)
        report("GPU outputs differ from the CPU's by " + std::to_string(worst));
    }
  }
  std::printf("%s", cuda::formatPlan(*plan, 3).c_str());
  std::printf("exec_plan_check: %zu shapes, %lld lifetimes, %zu arena "
              "buffers: %s\n",
              profile.shapes.size(), static_cast<long long>(lifetimes),
              arena.size(), errors ? "FAIL" : "PASS");
  return errors ? 1 : 0;
}
