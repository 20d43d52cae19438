#!/usr/bin/env python3
"""Writes corrupted copies of the golden Qwen2 checkpoints for the CLI tests.

Each case is a model directory (config.json + safetensors) with one defect
that `infir2 logits` must reject with a specific error and a non-zero exit:

  truncated         model.safetensors cut to half its size
  header_past_eof   the 8-byte header length points past the end of the file
  overlap           two tensors' data_offsets overlap
  wrong_dtype_size  a BF16 tensor declared F32 (shape x dtype size != bytes)
  missing_shard     the index names a shard that is not there

Python standard library only (runs in CI).
usage: make_bad_checkpoints.py GOLDEN_DIR OUT_DIR
"""

import json
import os
import shutil
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8:8 + n]), blob[8 + n:]


def write(path, header, data):
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def by_offset(header):
    return sorted((k for k in header if k != "__metadata__"),
                  key=lambda k: header[k]["data_offsets"][0])


def case(out, name, src):
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    shutil.copy(os.path.join(src, "config.json"), d)
    return d


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    golden, out = sys.argv[1], sys.argv[2]
    tied = os.path.join(golden, "tied_hd64_r7")
    sharded = os.path.join(golden, "untied_hd128_r6")
    single = os.path.join(tied, "model.safetensors")
    with open(single, "rb") as f:
        blob = f.read()

    d = case(out, "truncated", tied)
    with open(os.path.join(d, "model.safetensors"), "wb") as f:
        f.write(blob[:len(blob) // 2])

    d = case(out, "header_past_eof", tied)
    with open(os.path.join(d, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(blob) + 4096) + blob[8:])

    header, data = read(single)
    names = by_offset(header)
    first, second = header[names[0]], header[names[1]]
    b, e = second["data_offsets"]
    second["data_offsets"] = [b - 2, e - 2]
    write(os.path.join(case(out, "overlap", tied), "model.safetensors"),
          header, data)

    header, data = read(single)
    victim = next(k for k in by_offset(header) if header[k]["dtype"] == "BF16")
    header[victim]["dtype"] = "F32"
    write(os.path.join(case(out, "wrong_dtype_size", tied), "model.safetensors"),
          header, data)

    d = case(out, "missing_shard", sharded)
    with open(os.path.join(sharded, "model.safetensors.index.json")) as f:
        index = json.load(f)
    shards = sorted(set(index["weight_map"].values()))
    shutil.copy(os.path.join(sharded, "model.safetensors.index.json"), d)
    for shard in shards[:-1]:
        shutil.copy(os.path.join(sharded, shard), d)
    print(f"wrote 5 corrupted checkpoints under {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
