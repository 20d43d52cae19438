#!/usr/bin/env python3
"""TensorBoard's own encoding of the events infir2 writes (train_test.cc).

Serializes, with TensorBoard's protobuf classes and its TFRecord writer:
  scalar   Event{wall_time 1234.5, step 7, summary: train/loss 2.5,
           train/lr 1e-05 (simple_value)}
  version  Event{wall_time 1234.5, file_version "brain.Event:2"}
  start    Event{wall_time 1234.5, step 40, session_log{status START}}
and writes events.json with each message's bytes and its TFRecord frame
(hex), which infir2's hand-written encoder must reproduce byte for byte.

Regenerate (PyPI):
  python3 -m pip install tensorboard
  python3 test/golden/tensorboard/make_golden.py
"""

import io
import json
import os

import tensorboard
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.record_writer import RecordWriter

HERE = os.path.dirname(os.path.abspath(__file__))


def frame(payload):
    buf = io.BytesIO()
    RecordWriter(buf).write(payload)
    return buf.getvalue()


def main():
    scalar = event_pb2.Event(wall_time=1234.5, step=7, summary=summary_pb2.Summary(
        value=[summary_pb2.Summary.Value(tag="train/loss", simple_value=2.5),
               summary_pb2.Summary.Value(tag="train/lr", simple_value=1e-5)]))
    version = event_pb2.Event(wall_time=1234.5, file_version="brain.Event:2")
    start = event_pb2.Event(wall_time=1234.5, step=40,
                            session_log=event_pb2.SessionLog(
                                status=event_pb2.SessionLog.START))
    out = {"generator": "test/golden/tensorboard/make_golden.py",
           "tensorboard": tensorboard.__version__}
    for name, ev in (("scalar", scalar), ("version", version),
                     ("start", start)):
        payload = ev.SerializeToString()
        out[name] = {"payload": payload.hex(), "record": frame(payload).hex()}
    with open(os.path.join(HERE, "events.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
