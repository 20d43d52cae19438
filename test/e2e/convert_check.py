#!/usr/bin/env python3
"""Checks an `infir2 convert` output directory against the golden files.

Usage: convert_check.py GOLDEN_DIR SET OUTPUT_DIR INPUT_DIR

GOLDEN_DIR is test/golden/convert (written by make_golden.py from numpy,
ml_dtypes and the PyPI safetensors package). Checks, with the standard
library only:
  - the output's tensors are exactly expected_tensors.json's SET: names,
    dtypes, shapes and the FNV-1a 64 digest of every tensor's bytes;
  - config.json's quantization_config equals expected_configs.json's SET
    (the *_to_bf16 sets: no quantization_config, torch_dtype bfloat16);
  - the input's sharding is kept: the same shard files, every tensor in the
    shard of the input tensor it comes from, an index whose weight_map and
    total_size describe the files;
  - every non-weight file of the input is copied byte for byte;
  - nothing is left next to the output (no temporary directory).
"""

import json
import os
import struct
import sys

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK = (1 << 64) - 1


def fnv1a64(data):
    h = FNV_OFFSET
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & MASK
    return "%016x" % h


def read_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    end = 0
    for name, t in header.items():
        if name == "__metadata__":
            continue
        b, e = t["data_offsets"]
        end = max(end, e)
        out[name] = (t["dtype"], t["shape"], raw[8 + n + b:8 + n + e])
    assert 8 + n + end == len(raw), f"{path}: trailing or missing bytes"
    return out


def shards_of(d):
    """{shard file: {tensor: (dtype, shape, bytes)}}, and the index or None."""
    index_path = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(index_path):
        index = json.load(open(index_path))
        files = sorted(set(index["weight_map"].values()))
    else:
        index = None
        files = ["model.safetensors"]
    return {f: read_safetensors(os.path.join(d, f)) for f in files}, index


def base_of(name):
    """The input weight an output tensor comes from."""
    for suffix in ("_scale_inv", "_packed", "_scale", "_shape", "_zero_point"):
        if name.endswith(".weight" + suffix):
            return name[: -len(suffix)]
    return name


def main():
    golden, set_name, out, inp = sys.argv[1:5]
    expected = json.load(open(os.path.join(golden, "expected_tensors.json")))
    want = expected["sets"][set_name]
    shards, index = shards_of(out)
    got = {}
    shard_of = {}
    for f, tensors in shards.items():
        for name, t in tensors.items():
            assert name not in got, f"{name} in two shards"
            got[name] = t
            shard_of[name] = f
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    assert not missing and not extra, f"missing {missing}, unexpected {extra}"
    bad = []
    for name, w in want.items():
        dtype, shape, data = got[name]
        if dtype != w["dtype"] or shape != w["shape"]:
            bad.append(f"{name}: {dtype} {shape}, expected {w['dtype']} "
                       f"{w['shape']}")
        elif fnv1a64(data) != w["fnv1a64"]:
            bad.append(f"{name}: data differs from the reference")
    assert not bad, "\n".join(bad)

    # Sharding: same files; each tensor in its input tensor's shard.
    in_shards, in_index = shards_of(inp)
    assert (index is None) == (in_index is None), "index presence differs"
    assert set(shards) == set(in_shards), \
        f"shards {sorted(shards)} != input {sorted(in_shards)}"
    in_shard_of = {n: f for f, ts in in_shards.items() for n in ts}
    for name, f in shard_of.items():
        src = base_of(name)
        if src in in_shard_of:
            assert in_shard_of[src] == f, f"{name} in {f}, input in " \
                f"{in_shard_of[src]}"
    if index is not None:
        assert index["weight_map"] == shard_of, "index weight_map"
        total = sum(len(t[2]) for t in got.values())
        assert index["metadata"]["total_size"] == total, "index total_size"

    # config.json
    cfg = json.load(open(os.path.join(out, "config.json")))
    configs = json.load(open(os.path.join(golden, "expected_configs.json")))
    if set_name.endswith("_to_bf16"):
        assert "quantization_config" not in cfg, "quantization_config kept"
        assert cfg["torch_dtype"] == "bfloat16"
    else:
        key = {"fp8_pow2_f16": "fp8_pow2", "fp8_f32_bf16": "fp8_f32"}.get(
            set_name, set_name)
        assert cfg.get("quantization_config") == configs[key], \
            f"quantization_config {json.dumps(cfg.get('quantization_config'))}"
    in_cfg = json.load(open(os.path.join(inp, "config.json")))
    for k, v in in_cfg.items():
        if k not in ("quantization_config", "torch_dtype"):
            assert cfg.get(k) == v, f"config.json {k} changed"

    # Other files, byte for byte.
    copied = 0
    for root, _, files in os.walk(inp):
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), inp)
            if rel.endswith(".safetensors") or rel in (
                    "model.safetensors.index.json", "config.json"):
                continue
            a = open(os.path.join(inp, rel), "rb").read()
            b = open(os.path.join(out, rel), "rb").read()
            assert a == b, f"{rel} not copied"
            copied += 1

    parent = os.path.dirname(os.path.abspath(out))
    left = [e for e in os.listdir(parent)
            if e.startswith("." + os.path.basename(os.path.abspath(out)))]
    assert not left, f"left behind: {left}"
    print(f"{set_name}: {len(got)} tensors match the reference "
          f"({sum(1 for w in want.values())} digests), {len(shards)} shards, "
          f"{copied} files copied")


if __name__ == "__main__":
    main()
