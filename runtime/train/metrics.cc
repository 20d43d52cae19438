//===- metrics.cc - Training metrics: JSONL, TensorBoard, a plot ----------===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
//===----------------------------------------------------------------------===//

#include "runtime/train/metrics.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace infir2::train {
namespace {
const std::array<uint32_t, 256> &crcTable() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1; // reflected 0x1EDC6F41
      t[i] = c;
    }
    return t;
  }();
  return table;
}

// Protobuf wire format: key = field << 3 | wire type.
void varint(std::string &out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void key(std::string &out, int field, int wire) {
  varint(out, static_cast<uint64_t>(field) << 3 | wire);
}
template <typename T>
void fixed(std::string &out, T v) { // little-endian, as x86 stores it
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));
  out.append(bytes, sizeof(T));
}
void lengthDelimited(std::string &out, int field, const std::string &bytes) {
  key(out, field, 2);
  varint(out, bytes.size());
  out += bytes;
}

double wallTimeNow() {
  return std::chrono::duration<double>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Event fields (tensorflow/core/util/event.proto).
constexpr int kWallTime = 1, kStep = 2, kFileVersion = 3, kSummary = 5,
              kSessionLog = 7;
} // namespace

uint32_t crc32c(const void *data, size_t n) {
  const auto &table = crcTable();
  const auto *p = static_cast<const unsigned char *>(data);
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i)
    c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t maskedCrc32c(const void *data, size_t n) {
  const uint32_t c = crc32c(data, n);
  return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

std::string frameRecord(const std::string &payload) {
  std::string out;
  const uint64_t length = payload.size();
  fixed(out, length);
  fixed(out, maskedCrc32c(&length, sizeof(length)));
  out += payload;
  fixed(out, maskedCrc32c(payload.data(), payload.size()));
  return out;
}

std::string
encodeScalarEvent(double wallTime, int64_t step,
                  const std::vector<std::pair<std::string, double>> &scalars) {
  std::string summary;
  for (const auto &[tag, value] : scalars) {
    std::string v; // Summary.Value: tag = 1, simple_value = 2 (float)
    lengthDelimited(v, 1, tag);
    key(v, 2, 5);
    fixed(v, static_cast<float>(value));
    lengthDelimited(summary, 1, v); // Summary.value = 1
  }
  std::string event;
  key(event, kWallTime, 1);
  fixed(event, wallTime);
  key(event, kStep, 0);
  varint(event, static_cast<uint64_t>(step));
  lengthDelimited(event, kSummary, summary);
  return event;
}

std::string encodeFileVersionEvent(double wallTime) {
  std::string event;
  key(event, kWallTime, 1);
  fixed(event, wallTime);
  lengthDelimited(event, kFileVersion, "brain.Event:2");
  return event;
}

std::string encodeSessionStartEvent(double wallTime, int64_t step) {
  std::string log; // SessionLog.status = 1 (START)
  key(log, 1, 0);
  varint(log, 1);
  std::string event;
  key(event, kWallTime, 1);
  fixed(event, wallTime);
  key(event, kStep, 0);
  varint(event, static_cast<uint64_t>(step));
  lengthDelimited(event, kSessionLog, log);
  return event;
}

absl::StatusOr<std::unique_ptr<EventWriter>>
EventWriter::create(const std::string &dir, int64_t resumeStep) {
  char host[256] = "localhost";
  ::gethostname(host, sizeof(host) - 1);
  const double now = wallTimeNow();
  std::unique_ptr<EventWriter> w(new EventWriter());
  w->path_ = absl::StrFormat("%s/events.out.tfevents.%d.%s", dir,
                             static_cast<int64_t>(now), host);
  // A second writer in the same second (a quick resume) gets its own file.
  for (int i = 1; ::access(w->path_.c_str(), F_OK) == 0; ++i)
    w->path_ = absl::StrFormat("%s/events.out.tfevents.%d.%s.%d", dir,
                               static_cast<int64_t>(now), host, i);
  w->file_ = std::fopen(w->path_.c_str(), "wb");
  if (!w->file_)
    return absl::InternalError(
        absl::StrCat("cannot create the TensorBoard event file ", w->path_,
                     ": ", std::strerror(errno)));
  if (absl::Status s = w->record(encodeFileVersionEvent(now)); !s.ok())
    return s;
  if (resumeStep >= 0)
    if (absl::Status s = w->record(encodeSessionStartEvent(now, resumeStep));
        !s.ok())
      return s;
  if (absl::Status s = w->flush(); !s.ok())
    return s;
  return w;
}

EventWriter::~EventWriter() {
  if (file_)
    std::fclose(file_);
}

absl::Status EventWriter::record(const std::string &payload) {
  const std::string frame = frameRecord(payload);
  if (std::fwrite(frame.data(), 1, frame.size(), file_) != frame.size())
    return absl::InternalError(absl::StrCat("cannot write ", path_));
  return absl::OkStatus();
}

absl::Status
EventWriter::write(int64_t step,
                   const std::vector<std::pair<std::string, double>> &scalars) {
  return record(encodeScalarEvent(wallTimeNow(), step, scalars));
}

absl::Status EventWriter::flush() {
  if (std::fflush(file_) != 0)
    return absl::InternalError(absl::StrCat("cannot write ", path_));
  return absl::OkStatus();
}

namespace {
/// "Nice" tick values covering [lo, hi]: steps of 1, 2 or 5 x 10^k.
std::vector<double> ticks(double lo, double hi, int target) {
  std::vector<double> out;
  if (!(hi > lo))
    return {lo};
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag) {
      step = m * mag;
      break;
    }
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  return out;
}

std::string escapeXml(const std::string &s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out.push_back(c);
    }
  }
  return out;
}
} // namespace

std::string lossCurveSvg(const std::vector<CurvePoint> &train,
                         const std::vector<CurvePoint> &eval,
                         const std::string &title) {
  constexpr double W = 720, H = 420, L = 70, R = 20, T = 40, B = 50;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  bool any = false;
  for (const auto *series : {&train, &eval})
    for (const CurvePoint &p : *series) {
      if (!std::isfinite(p.value))
        continue;
      if (!any) {
        x0 = x1 = static_cast<double>(p.step);
        y0 = y1 = p.value;
        any = true;
      }
      x0 = std::min(x0, static_cast<double>(p.step));
      x1 = std::max(x1, static_cast<double>(p.step));
      y0 = std::min(y0, p.value);
      y1 = std::max(y1, p.value);
    }
  if (x1 <= x0)
    x1 = x0 + 1;
  if (y1 <= y0) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  y0 = std::max(0.0, y0 - 0.05 * (y1 - y0));
  y1 += 0.05 * (y1 - y0);
  auto px = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
  auto py = [&](double y) {
    return H - B - (y - y0) / (y1 - y0) * (H - T - B);
  };

  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
      "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" "
      "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" "
      "fill=\"white\"/>\n<text x=\"%.0f\" y=\"24\" "
      "font-size=\"15\">%s</text>\n",
      W, H, W, H, L, escapeXml(title));
  for (double v : ticks(y0, y1, 6))
    absl::StrAppendFormat(
        &svg,
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
        "stroke=\"#ddd\"/><text x=\"%.1f\" y=\"%.1f\" "
        "text-anchor=\"end\">%g</text>\n",
        L, py(v), W - R, py(v), L - 6, py(v) + 4, v);
  for (double v : ticks(x0, x1, 8))
    absl::StrAppendFormat(&svg,
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                          "y2=\"%.1f\" stroke=\"#eee\"/><text x=\"%.1f\" "
                          "y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
                          px(v), T, px(v), H - B, px(v), H - B + 16, v);
  absl::StrAppendFormat(
      &svg,
      "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" "
      "fill=\"none\" stroke=\"#444\"/>\n<text x=\"%.0f\" y=\"%.0f\" "
      "text-anchor=\"middle\">optimizer step</text>\n<text x=\"16\" "
      "y=\"%.0f\" transform=\"rotate(-90 16 %.0f)\" "
      "text-anchor=\"middle\">loss (mean token NLL)</text>\n",
      L, T, W - L - R, H - T - B, (L + W - R) / 2, H - 12, (T + H - B) / 2,
      (T + H - B) / 2);
  if (!train.empty()) {
    svg += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" "
           "points=\"";
    for (const CurvePoint &p : train)
      if (std::isfinite(p.value))
        absl::StrAppendFormat(&svg, "%.1f,%.1f ", px(p.step), py(p.value));
    svg += "\"/>\n";
  }
  for (const CurvePoint &p : eval)
    if (std::isfinite(p.value))
      absl::StrAppendFormat(&svg,
                            "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" "
                            "fill=\"#d62728\"/>\n",
                            px(p.step), py(p.value));
  absl::StrAppendFormat(
      &svg,
      "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" "
      "stroke=\"#1f77b4\" stroke-width=\"2\"/><text x=\"%.0f\" "
      "y=\"%.0f\">train loss</text>\n",
      W - R - 190, T + 14, W - R - 170, T + 14, W - R - 165, T + 18);
  if (!eval.empty())
    absl::StrAppendFormat(&svg,
                          "<circle cx=\"%.0f\" cy=\"%.0f\" r=\"3.5\" "
                          "fill=\"#d62728\"/><text x=\"%.0f\" y=\"%.0f\">"
                          "eval loss</text>\n",
                          W - R - 90, T + 14, W - R - 80, T + 18);
  svg += "</svg>\n";
  return svg;
}
} // namespace infir2::train
