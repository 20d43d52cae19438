//===- metrics.h - Training metrics: JSONL, TensorBoard, a plot -*- C++ -*-===//
//
// Part of infir2. The runtime half: no LLVM or MLIR headers here.
//
// Every training run writes, in its run directory:
//  * metrics.jsonl: one JSON object per optimizer step (docs/guide/sft.md
//    lists the fields);
//  * events.out.tfevents.<unix time>.<host>: the same scalars as a
//    TensorBoard event file. TensorFlow's record framing (length, masked
//    CRC-32C, payload, masked CRC-32C) and the four protobuf messages it
//    needs (Event, Summary, Summary.Value, SessionLog) are written by hand:
//    no Debian package provides CRC-32C or TensorBoard's .proto files, and
//    the encoding is a few dozen lines;
//  * loss.svg: the loss curve (and evaluation loss), redrawn at each save.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_TRAIN_METRICS_H_
#define INFIR2_RUNTIME_TRAIN_METRICS_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace infir2::train {
/// CRC-32C (Castagnoli), as TFRecord frames use it.
uint32_t crc32c(const void *data, size_t n);
/// TensorFlow's masked CRC: ((crc >> 15) | (crc << 17)) + 0xa282ead8.
uint32_t maskedCrc32c(const void *data, size_t n);

/// Appends TensorBoard scalar events to one event file.
class EventWriter {
public:
  /// Creates |dir|/events.out.tfevents.<time>.<host> and writes the
  /// file-version event. With |resumeStep| >= 0 a SessionLog START event
  /// at that step follows, so TensorBoard drops the scalars a killed run
  /// wrote after the checkpoint it was resumed from.
  static absl::StatusOr<std::unique_ptr<EventWriter>>
  create(const std::string &dir, int64_t resumeStep = -1);
  ~EventWriter();

  /// One event holding |scalars| (tag, value) at |step|.
  absl::Status
  write(int64_t step,
        const std::vector<std::pair<std::string, double>> &scalars);
  absl::Status flush();
  const std::string &path() const { return path_; }

private:
  EventWriter() = default;
  absl::Status record(const std::string &payload);
  std::FILE *file_ = nullptr;
  std::string path_;
};

/// The protobuf encoding of a TensorBoard Event (exposed for tests).
std::string
encodeScalarEvent(double wallTime, int64_t step,
                  const std::vector<std::pair<std::string, double>> &scalars);
/// Event{wall_time, file_version: "brain.Event:2"}: an event file's first.
std::string encodeFileVersionEvent(double wallTime);
/// Event{wall_time, step, session_log: {status: START}}.
std::string encodeSessionStartEvent(double wallTime, int64_t step);
/// A TFRecord frame around |payload|.
std::string frameRecord(const std::string &payload);

struct CurvePoint {
  int64_t step;
  double value;
};

/// An SVG line chart of the training loss (and, when given, the evaluation
/// loss as markers) against the step.
std::string lossCurveSvg(const std::vector<CurvePoint> &train,
                         const std::vector<CurvePoint> &eval,
                         const std::string &title);
} // namespace infir2::train

#endif // INFIR2_RUNTIME_TRAIN_METRICS_H_
