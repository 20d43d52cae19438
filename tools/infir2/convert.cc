//===- convert.cc - `infir2 convert` and `infir2 inspect` -----------------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// Command-line front ends of runtime/checkpoint: argument parsing, the
// progress bar, the summary and the exit codes.
//
//===----------------------------------------------------------------------===//

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/checkpoint/convert.h"
#include "runtime/checkpoint/inspect.h"
#include "tools/infir2/commands.h"

namespace infir2::runner {
namespace {
constexpr const char *kConvertUsage =
    R"(usage: infir2 convert <conversion> --input DIR --output DIR [options]

conversions:
  hf-to-fp8     BF16/F16/F32 linear weights -> block FP8 (E4M3, 128x128
                blocks, <name>_scale_inv), quantization_config for vLLM/SGLang
  fp8-to-bf16   block FP8 (weight_scale_inv) or per-tensor/per-channel FP8
                (weight_scale) -> BF16; removes quantization_config
  hf-to-int4    BF16/F16/F32 linear weights -> INT4 weight-only, round to
                nearest, compressed-tensors pack-quantized (vLLM W4A16)
  int4-to-bf16  pack-quantized INT4 -> BF16; removes quantization_config

options:
  --input DIR            Hugging Face checkpoint directory (single file or
                         index + shards; the output keeps its sharding)
  --output DIR           where to write (created through a temporary
                         directory next to it, renamed at the end)
  --force                replace an existing non-empty --output
  --threads N            worker threads (default: every core)
  --exclude REGEX        keep matching tensors unquantized (repeatable;
                         ECMAScript regex searched in the tensor name)
  hf-to-fp8:
  --scale f32|pow2       scale rule: exact f32 amax / 448 (default, as
                         DeepSeek-V3 and slime) or powers of two (exact in
                         UE8M0, as InfiR2's rollout checkpoints; adds
                         "scale_fmt": "ue8m0")
  --scale-dtype f32|bf16|f16
                         dtype of <name>_scale_inv (default f32; f16 is
                         InfiR2's bf16_cast_fp8)
  --block 128x128        block shape (only 128x128)
  hf-to-int4:
  --group-size G         columns per scale (default 128)
  --symmetric            scale = amax / 7.5, no zero point (default)
  --asymmetric           scale = (max - min) / 15 and a zero point

Embeddings, lm_head, norms and biases are never quantized. Progress goes to
stderr; the summary (tensors, bytes, GB/s, peak memory) to stdout.
)";

constexpr const char *kInspectUsage =
    R"(usage: infir2 inspect DIR|FILE [--summary]

Lists a checkpoint's tensors (name, dtype, shape, bytes, shard), totals by
dtype, config.json's quantization_config, and consistency problems (index
entries without shard or tensor, tensors missing from the index, scale
shapes that do not match their weights, FP8 tensors without scales, INT4
tensors whose shapes disagree, ue8m0 scales that are not powers of two).
Exit status: 0 no problems, 1 problems or an unreadable checkpoint.

  --summary   omit the per-tensor lines
)";

std::atomic<bool> gCancel{false};
extern "C" void onConvertSignal(int) { gCancel.store(true); }

int fail(const std::string &message, int code = 1) {
  std::fprintf(stderr, "infir2 convert: %s\n", message.c_str());
  return code;
}

std::string gb(int64_t bytes) {
  const double b = static_cast<double>(bytes);
  return b >= 1e9 ? absl::StrFormat("%.2f GB", b / 1e9)
                  : absl::StrFormat("%.1f MB", b / 1e6);
}

/// The progress bar: redrawn in place on a terminal, a line every 5 s (and
/// at the end) otherwise.
class Bar {
public:
  Bar() : tty_(isatty(2)), start_(std::chrono::steady_clock::now()) {}
  void operator()(const checkpoint::Progress &p) {
    const double s = seconds();
    const bool done = p.bytesDone == p.bytesTotal && p.bytesTotal > 0;
    if (!tty_ && !done && s - lastLine_ < 5.0)
      return;
    lastLine_ = s;
    const double frac =
        p.bytesTotal ? static_cast<double>(p.bytesDone) / p.bytesTotal : 1.0;
    const double rate = p.bytesDone / std::max(s, 1e-9);
    const double eta = rate > 0 ? (p.bytesTotal - p.bytesDone) / rate : 0;
    const int width = 30, fill = static_cast<int>(frac * width);
    std::string bar(static_cast<size_t>(fill), '#');
    bar.append(static_cast<size_t>(width - fill), '.');
    std::string name = p.tensor.size() > 48
                           ? "..." + p.tensor.substr(p.tensor.size() - 45)
                           : p.tensor;
    std::fprintf(stderr, "%s[%s] %3.0f%% %s/%s %.2f GB/s ETA %.0f s %-48s%s",
                 tty_ ? "\r" : "", bar.c_str(), 100 * frac,
                 gb(p.bytesDone).c_str(), gb(p.bytesTotal).c_str(), rate / 1e9,
                 eta, name.c_str(), tty_ ? "" : "\n");
    if (tty_ && done)
      std::fputc('\n', stderr);
    std::fflush(stderr);
  }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start_)
        .count();
  }

private:
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  double lastLine_ = -1e9;
};

bool parseInt(const std::string &v, int64_t &out) {
  char *end = nullptr;
  out = std::strtoll(v.c_str(), &end, 10);
  return !v.empty() && *end == '\0';
}
} // namespace

int runConvert(int argc, char **argv) {
  if (argc < 1 || std::string(argv[0]) == "--help" ||
      std::string(argv[0]) == "-h") {
    std::fputs(kConvertUsage, argc < 1 ? stderr : stdout);
    return argc < 1 ? 2 : 0;
  }
  const std::string what = argv[0];
  if (what != "hf-to-fp8" && what != "fp8-to-bf16" && what != "hf-to-int4" &&
      what != "int4-to-bf16")
    return fail(
        absl::StrCat("unknown conversion '", what, "'\n", kConvertUsage), 2);
  const bool fp8Options = what == "hf-to-fp8",
             int4Options = what == "hf-to-int4";
  checkpoint::ConvertOptions opt;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto only = [&](bool ok) {
      return ok ? 0 : fail(absl::StrCat(arg, " does not apply to ", what), 2);
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kConvertUsage, stdout);
      return 0;
    }
    if (arg == "--force") {
      opt.force = true;
      continue;
    }
    if (arg == "--symmetric" || arg == "--asymmetric") {
      if (int rc = only(int4Options))
        return rc;
      opt.symmetric = arg == "--symmetric";
      continue;
    }
    if (i + 1 >= argc)
      return fail(absl::StrCat("'", arg, "' needs a value\n", kConvertUsage),
                  2);
    const std::string v = argv[++i];
    int64_t n = 0;
    if (arg == "--input") {
      opt.input = v;
    } else if (arg == "--output") {
      opt.output = v;
    } else if (arg == "--exclude") {
      if (int rc = only(fp8Options || int4Options))
        return rc;
      opt.exclude.push_back(v);
    } else if (arg == "--threads") {
      if (!parseInt(v, n) || n < 1)
        return fail(absl::StrCat("--threads '", v,
                                 "' is not a positive "
                                 "integer"),
                    2);
      opt.threads = static_cast<int>(n);
    } else if (arg == "--scale") {
      if (int rc = only(fp8Options))
        return rc;
      if (v != "pow2" && v != "f32")
        return fail(absl::StrCat("--scale '", v, "': expected pow2 or f32"), 2);
      opt.scaleMode = v == "pow2" ? numerics::ScaleMode::kPow2
                                  : numerics::ScaleMode::kExactF32;
    } else if (arg == "--scale-dtype") {
      if (int rc = only(fp8Options))
        return rc;
      if (v == "f32")
        opt.scaleDtype = DType::kF32;
      else if (v == "bf16")
        opt.scaleDtype = DType::kBF16;
      else if (v == "f16")
        opt.scaleDtype = DType::kF16;
      else
        return fail(
            absl::StrCat("--scale-dtype '", v, "': expected f32, bf16 or f16"),
            2);
    } else if (arg == "--block") {
      if (int rc = only(fp8Options))
        return rc;
      const size_t x = v.find('x');
      int64_t r = 0, c = 0;
      if (x == std::string::npos || !parseInt(v.substr(0, x), r) ||
          !parseInt(v.substr(x + 1), c) || r < 1 || c < 1)
        return fail(absl::StrCat("--block '", v,
                                 "': expected ROWSxCOLS, "
                                 "e.g. 128x128"),
                    2);
      opt.blockRows = r;
      opt.blockCols = c;
    } else if (arg == "--group-size") {
      if (int rc = only(int4Options))
        return rc;
      if (!parseInt(v, n) || n < 1)
        return fail(
            absl::StrCat("--group-size '", v, "' is not a positive integer"),
            2);
      opt.groupSize = n;
    } else {
      return fail(absl::StrCat("unknown option '", arg, "'\n", kConvertUsage),
                  2);
    }
  }
  if (opt.input.empty() || opt.output.empty())
    return fail(
        absl::StrCat("--input and --output are required\n", kConvertUsage), 2);

  Bar bar;
  opt.progress = [&bar](const checkpoint::Progress &p) { bar(p); };
  opt.cancel = &gCancel;
  std::signal(SIGINT, onConvertSignal);
  std::signal(SIGTERM, onConvertSignal);

  absl::StatusOr<checkpoint::ConvertReport> r;
  if (what == "hf-to-fp8")
    r = checkpoint::convertHfToFp8(opt);
  else if (what == "fp8-to-bf16")
    r = checkpoint::convertFp8ToBf16(opt);
  else if (what == "hf-to-int4")
    r = checkpoint::convertHfToInt4(opt);
  else
    r = checkpoint::convertInt4ToBf16(opt);
  if (!r.ok())
    return fail(std::string(r.status().message()),
                r.status().code() == absl::StatusCode::kCancelled ? 130 : 1);
  for (const std::string &w : r->warnings)
    std::fprintf(stderr, "infir2 convert: warning: %s\n", w.c_str());
  const int64_t rss = checkpoint::peakRssBytes();
  const int64_t bound = 2 * r->largestTensorBytes + (int64_t{256} << 20);
  std::printf(
      "%s: %s -> %s\n"
      "  tensors: %lld in, %lld out, %lld converted; %lld shard%s, %lld other "
      "file%s copied\n"
      "  bytes: %s read, %s written in %.2f s (%.2f GB/s read)\n"
      "  peak RSS: %.0f MB (bound 2 x largest tensor %.0f MB + 256 MB = %.0f "
      "MB)\n",
      what.c_str(), opt.input.c_str(), opt.output.c_str(),
      static_cast<long long>(r->tensorsIn),
      static_cast<long long>(r->tensorsOut),
      static_cast<long long>(r->tensorsQuantized),
      static_cast<long long>(r->shards), r->shards == 1 ? "" : "s",
      static_cast<long long>(r->filesCopied), r->filesCopied == 1 ? "" : "s",
      gb(r->bytesIn).c_str(), gb(r->bytesOut).c_str(), r->seconds,
      r->bytesIn / std::max(r->seconds, 1e-9) / 1e9, rss / 1e6,
      r->largestTensorBytes / 1e6, bound / 1e6);
  return 0;
}

int runInspect(int argc, char **argv) {
  std::string path;
  bool summary = false;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kInspectUsage, stdout);
      return 0;
    }
    if (arg == "--summary") {
      summary = true;
    } else if (!arg.empty() && arg[0] == '-') {
      std::fprintf(stderr, "infir2 inspect: unknown option '%s'\n%s",
                   arg.c_str(), kInspectUsage);
      return 2;
    } else if (path.empty()) {
      path = arg;
    } else {
      std::fprintf(stderr, "infir2 inspect: one path only\n%s", kInspectUsage);
      return 2;
    }
  }
  if (path.empty()) {
    std::fputs(kInspectUsage, stderr);
    return 2;
  }
  absl::StatusOr<checkpoint::InspectReport> r = checkpoint::inspect(path);
  if (!r.ok()) {
    std::fprintf(stderr, "infir2 inspect: %s\n",
                 std::string(r.status().message()).c_str());
    return 1;
  }
  std::fputs(checkpoint::formatInspectReport(*r, !summary).c_str(), stdout);
  return r->problems.empty() ? 0 : 1;
}
} // namespace infir2::runner
