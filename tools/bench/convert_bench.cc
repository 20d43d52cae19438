//===- convert_bench.cc - `infir2 convert` against the disk's own speed ---===//
//
// Part of infir2's benchmarks (docs/benchmarks.md).
//
// Writes a synthetic Qwen2.5-7B-shaped BF16 checkpoint (random weights,
// four shards and an index, as the Hugging Face release), measuring the
// disk's sequential write speed on the way (write + fsync), then its read
// speed (the files read back with the page cache dropped), then runs
// `infir2 convert` (hf-to-fp8, fp8-to-bf16, hf-to-int4, int4-to-bf16)
// as child processes, each
// with the input evicted from the page cache, and prints a table: bytes
// read and written, seconds, the time the disk alone needs for those bytes,
// the ratio (goal <= 1.5) and the peak resident set of each run.
//
//   infir2-bench-convert --dir DIR [--layers 28] [--infir2 PATH] [--keep]
//
//===----------------------------------------------------------------------===//

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "runtime/io/safetensors.h"

namespace {
namespace fs = std::filesystem;
using infir2::DType;

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int die(const std::string &m) {
  std::fprintf(stderr, "infir2-bench-convert: %s\n", m.c_str());
  return 1;
}

/// Drops |dir|'s files from the page cache (they are clean after fsync).
void evict(const fs::path &dir) {
  for (const auto &e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file())
      continue;
    int fd = ::open(e.path().c_str(), O_RDONLY);
    if (fd < 0)
      continue;
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

int64_t dirBytes(const fs::path &dir) {
  int64_t n = 0;
  for (const auto &e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file())
      n += static_cast<int64_t>(e.file_size());
  return n;
}

struct Run {
  double seconds = 0;
  int64_t maxRssBytes = 0;
  int status = -1;
};

Run spawn(const std::vector<std::string> &argv, const std::string &log) {
  std::vector<char *> args;
  for (const std::string &a : argv)
    args.push_back(const_cast<char *>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  Run r;
  pid_t pid;
  const double t0 = now();
  if (posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ) != 0)
    return r;
  int status = 0;
  struct rusage ru;
  ::wait4(pid, &status, 0, &ru);
  r.seconds = now() - t0;
  r.maxRssBytes = static_cast<int64_t>(ru.ru_maxrss) * 1024;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  posix_spawn_file_actions_destroy(&fa);
  return r;
}
} // namespace

int main(int argc, char **argv) {
  std::string dirArg, infir2;
  int layers = 28;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--keep") {
      keep = true;
    } else if (i + 1 < argc && a == "--dir") {
      dirArg = argv[++i];
    } else if (i + 1 < argc && a == "--layers") {
      layers = std::atoi(argv[++i]);
    } else if (i + 1 < argc && a == "--infir2") {
      infir2 = argv[++i];
    } else {
      return die("usage: infir2-bench-convert --dir DIR [--layers 28] "
                 "[--infir2 PATH] [--keep]");
    }
  }
  if (dirArg.empty() || layers < 1)
    return die("--dir is required (it needs about 40 GB for 28 layers)");
  if (infir2.empty())
    infir2 = (fs::path(argv[0]).parent_path() / "infir2").string();
  const fs::path dir = fs::absolute(dirArg);
  const fs::path bf16 = dir / "bf16", fp8 = dir / "fp8", back = dir / "back";
  fs::remove_all(dir);
  fs::create_directories(bf16);

  // Qwen2.5-7B: hidden 3584, intermediate 18944, 28 heads / 4 kv heads of
  // 128, vocab 152064, untied lm_head.
  const int64_t H = 3584, I = 18944, KV = 512, V = 152064;
  struct T {
    std::string name;
    std::vector<int64_t> shape;
  };
  std::vector<T> tensors = {{"model.embed_tokens.weight", {V, H}}};
  for (int l = 0; l < layers; ++l) {
    const std::string p = absl::StrCat("model.layers.", l, ".");
    for (const T &t : std::vector<T>{{"input_layernorm.weight", {H}},
                                     {"self_attn.q_proj.weight", {H, H}},
                                     {"self_attn.q_proj.bias", {H}},
                                     {"self_attn.k_proj.weight", {KV, H}},
                                     {"self_attn.k_proj.bias", {KV}},
                                     {"self_attn.v_proj.weight", {KV, H}},
                                     {"self_attn.v_proj.bias", {KV}},
                                     {"self_attn.o_proj.weight", {H, H}},
                                     {"post_attention_layernorm.weight", {H}},
                                     {"mlp.gate_proj.weight", {I, H}},
                                     {"mlp.up_proj.weight", {I, H}},
                                     {"mlp.down_proj.weight", {H, I}}})
      tensors.push_back({p + t.name, t.shape});
  }
  tensors.push_back({"model.norm.weight", {H}});
  tensors.push_back({"lm_head.weight", {V, H}});

  // Random bf16 weights ~ N(0, 0.02), a 64 MiB pool reused cyclically.
  std::vector<uint16_t> pool(size_t{32} << 20);
  std::mt19937_64 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  for (uint16_t &b : pool) {
    float f = normal(rng);
    uint32_t u;
    std::memcpy(&u, &f, 4);
    b = static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
  }

  // Four shards of about a quarter each, as the HF release.
  int64_t total = 0;
  for (const T &t : tensors)
    total += *infir2::elementCount(t.shape) * 2;
  const int shards = 4;
  nlohmann::ordered_json weightMap = nlohmann::ordered_json::object();
  std::fprintf(stderr,
               "writing a %d-layer Qwen2.5-7B-shaped BF16 "
               "checkpoint (%.2f GB) to %s\n",
               layers, total / 1e9, bf16.c_str());
  const double w0 = now();
  size_t next = 0, poolAt = 0;
  for (int s = 0; s < shards; ++s) {
    const std::string name =
        absl::StrFormat("model-%05d-of-%05d.safetensors", s + 1, shards);
    std::vector<infir2::io::SafetensorsWriter::Entry> entries;
    int64_t bytes = 0;
    size_t first = next;
    while (next < tensors.size() &&
           (s == shards - 1 || bytes < total / shards)) {
      entries.push_back(
          {tensors[next].name, DType::kBF16, tensors[next].shape});
      bytes += *infir2::elementCount(tensors[next].shape) * 2;
      weightMap[tensors[next].name] = name;
      ++next;
    }
    auto w =
        infir2::io::SafetensorsWriter::create((bf16 / name).string(), entries);
    if (!w.ok())
      return die(std::string(w.status().message()));
    for (size_t i = first; i < next; ++i) {
      int64_t left = *infir2::elementCount(tensors[i].shape);
      while (left > 0) {
        const int64_t n =
            std::min<int64_t>(left, static_cast<int64_t>(pool.size() - poolAt));
        if (auto st = (*w)->write(pool.data() + poolAt, n * 2); !st.ok())
          return die(std::string(st.message()));
        poolAt = (poolAt + static_cast<size_t>(n)) % pool.size();
        left -= n;
      }
    }
    if (auto st = (*w)->finish(); !st.ok())
      return die(std::string(st.message()));
  }
  const double writeSeconds = now() - w0;
  {
    nlohmann::ordered_json index = {{"metadata", {{"total_size", total}}},
                                    {"weight_map", weightMap}};
    std::ofstream(bf16 / "model.safetensors.index.json") << index.dump(2);
    nlohmann::ordered_json config = {{"architectures", {"Qwen2ForCausalLM"}},
                                     {"model_type", "qwen2"},
                                     {"hidden_size", H},
                                     {"intermediate_size", I},
                                     {"num_hidden_layers", layers},
                                     {"num_attention_heads", 28},
                                     {"num_key_value_heads", 4},
                                     {"vocab_size", V},
                                     {"tie_word_embeddings", false},
                                     {"torch_dtype", "bfloat16"}};
    std::ofstream(bf16 / "config.json") << config.dump(2);
  }
  const int64_t inBytes = dirBytes(bf16);
  const double writeSpeed = inBytes / writeSeconds;

  // Read speed: every file read back from the disk.
  evict(bf16);
  std::vector<char> buf(size_t{8} << 20);
  const double r0 = now();
  for (const auto &e : fs::directory_iterator(bf16)) {
    int fd = ::open(e.path().c_str(), O_RDONLY);
    while (::read(fd, buf.data(), buf.size()) > 0) {
    }
    ::close(fd);
  }
  const double readSpeed = inBytes / (now() - r0);
  evict(bf16);

  struct Row {
    std::string what;
    int64_t read, written;
    Run run;
  };
  std::vector<Row> rows;
  auto convert = [&](const std::string &what, const fs::path &from,
                     const fs::path &to) -> bool {
    evict(from);
    std::fprintf(stderr, "infir2 convert %s ...\n", what.c_str());
    Run r = spawn({infir2, "convert", what, "--input", from.string(),
                   "--output", to.string(), "--force"},
                  (dir / (what + ".log")).string());
    if (r.status != 0) {
      die(absl::StrCat("infir2 convert ", what, " failed; see ",
                       (dir / (what + ".log")).string()));
      return false;
    }
    rows.push_back({what, dirBytes(from), dirBytes(to), r});
    evict(to);
    return true;
  };
  const fs::path int4 = dir / "int4", back4 = dir / "back4";
  if (!convert("hf-to-fp8", bf16, fp8) || !convert("fp8-to-bf16", fp8, back))
    return 1;
  fs::remove_all(back);
  if (!convert("hf-to-int4", bf16, int4) ||
      !convert("int4-to-bf16", int4, back4))
    return 1;

  int64_t largest = 0;
  for (const T &t : tensors)
    largest = std::max(largest, *infir2::elementCount(t.shape) * 2);
  std::printf("disk: sequential write %.2f GB/s (%.2f GB with fsync), read "
              "%.2f GB/s (page cache dropped)\n",
              writeSpeed / 1e9, inBytes / 1e9, readSpeed / 1e9);
  std::printf("largest tensor %.2f GB; RSS bound 2 x largest + 256 MB = %.2f "
              "GB\n\n",
              largest / 1e9, (2 * largest + (int64_t{256} << 20)) / 1e9);
  std::printf("| conversion | read GB | written GB | infir2 s | disk alone s "
              "| ratio | GB/s read | peak RSS GB |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (const Row &r : rows) {
    const double disk = r.read / readSpeed + r.written / writeSpeed;
    std::printf("| %s | %.2f | %.2f | %.1f | %.1f | %.2f | %.2f | %.2f |\n",
                r.what.c_str(), r.read / 1e9, r.written / 1e9, r.run.seconds,
                disk, r.run.seconds / disk, r.read / r.run.seconds / 1e9,
                r.run.maxRssBytes / 1e9);
  }
  if (!keep)
    fs::remove_all(dir);
  return 0;
}
