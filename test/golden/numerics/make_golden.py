#!/usr/bin/env python3
"""Writes the golden files of infir2's numerics tests from numpy + ml_dtypes.

The expected values come from an implementation that is not ours: numpy's
IEEE float32 arithmetic and ml_dtypes' float8_e4m3fn / float8_e5m2 /
float8_e8m0fnu conversions (round to nearest even). The scale formulas are
written here from their definitions (docs/numerics.md), independently of the
C++ code.

Files (safetensors, readable by any safetensors reader):
  block_quant_<rows>x<cols>.safetensors  inputs, scales and FP8 data of every
      (format, layout, method, mode) configuration, plus the transposed
      quantization of the training case; data of tensors with more than
      65,536 elements is stored as its 64-bit FNV-1a digest instead (any
      single-byte difference changes the digest).
  e8m0_nearest.safetensors  ml_dtypes' float -> float8_e8m0fnu for every
      bf16 bit pattern and for a fixed set of f32 patterns.

Regenerate (numpy and ml_dtypes from PyPI):
  python3 -m pip install numpy ml_dtypes
  python3 test/golden/numerics/make_golden.py
The output is deterministic (fixed seeds).
"""

import json
import math
import os
import struct
import sys

import ml_dtypes
import numpy as np

OUT_DIR = os.path.dirname(os.path.abspath(__file__))

FORMATS = {
    "e4m3fn": (ml_dtypes.float8_e4m3fn, np.float32(448.0), "F8_E4M3"),
    "e5m2": (ml_dtypes.float8_e5m2, np.float32(57344.0), "F8_E5M2"),
}
LAYOUTS = ["1x128", "128x1", "128x128", "per_row", "per_tensor"]
METHODS = ["te", "checkpoint"]
MODES = ["exact_f32", "pow2"]
FULL_DATA_LIMIT = 65536
F32_MAX = np.float32(np.finfo(np.float32).max)


# --------------------------------------------------------------------------
# The quantization, from its definition
# --------------------------------------------------------------------------


def tile_of(layout, rows, cols):
    return {
        "1x128": (1, 128),
        "128x1": (128, 1),
        "128x128": (128, 128),
        "per_row": (1, cols),
        "per_tensor": (rows, cols),
    }[layout]


def pow2_floor(s):
    """s with its mantissa bits zeroed (TransformerEngine's power-of-two mode)."""
    bits = np.array([s], dtype=np.float32).view(np.uint32)[0]
    return np.array([bits & np.uint32(0xFF800000)], dtype=np.uint32).view(np.float32)[0]


def pow2_ceil(scale):
    """2^ceil(log2 scale) for a positive normal float32, exactly."""
    m, e = math.frexp(float(scale))  # scale = m * 2^e, 0.5 <= m < 1
    return np.float32(math.ldexp(1.0, e - 1 if m == 0.5 else e))


def tile_amax(tile, method):
    """TransformerEngine reduces with fmaxf from 0, which skips NaNs; the
    checkpoint tools use torch's amax, which propagates them."""
    if tile.size == 0:
        return np.float32(0)
    magnitudes = np.abs(tile)
    if method == "te":
        return np.float32(np.max(np.where(np.isnan(magnitudes), 0, magnitudes)))
    return np.float32(np.max(magnitudes))


def tile_scale(amax, fmax, method, mode):
    """Returns (stored scale, function that maps the tile's f32 values to the
    pre-rounding f32 values)."""
    amax = np.float32(amax)
    if method == "te":
        if amax == 0 or not np.isfinite(amax):
            s = np.float32(1.0)
        else:
            with np.errstate(over="ignore"):
                s = np.float32(fmax / amax)
            if np.isinf(s):
                s = F32_MAX
        if mode == "pow2":
            s = pow2_floor(s)
        return np.float32(np.float32(1.0) / s), (lambda t: t * s)
    if not np.isfinite(amax):
        scale = np.float32(1.0)
    else:
        scale = np.float32(np.maximum(amax, np.float32(1e-10)) / fmax)
    if mode == "pow2":
        scale = pow2_ceil(scale)
    return scale, (lambda t: t / scale)


def to_fp8(values, fp8_type, fmax):
    """Saturating round-to-nearest-even conversion; NaN is encoded as 0x7F,
    the canonical NaN of cuda_fp8.h (ml_dtypes keeps the NaN's sign bit)."""
    with np.errstate(invalid="ignore"):
        clipped = np.clip(values, -fmax, fmax)
    codes = clipped.astype(fp8_type).view(np.uint8).copy()
    codes[np.isnan(values)] = 0x7F
    return codes


def quantize(x, fmt, layout, method, mode):
    fp8_type, fmax, _ = FORMATS[fmt]
    rows, cols = x.shape
    tr, tc = tile_of(layout, rows, cols)
    srows = 1 if layout == "per_tensor" else -(-rows // tr)
    scols = 1 if layout in ("per_row", "per_tensor") else -(-cols // tc)
    scales = np.zeros((srows, scols), dtype=np.float32)
    data = np.zeros((rows, cols), dtype=np.uint8)
    for i in range(srows):
        for j in range(scols):
            r0, c0 = i * tr, j * tc
            tile = x[r0:r0 + tr, c0:c0 + tc]
            amax = tile_amax(tile, method)
            scales[i, j], apply = tile_scale(amax, fmax, method, mode)
            with np.errstate(all="ignore"):
                data[r0:r0 + tr, c0:c0 + tc] = to_fp8(apply(tile).astype(np.float32),
                                                      fp8_type, fmax)
    return data, scales


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data.tobytes():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return np.frombuffer(struct.pack("<Q", h), dtype=np.uint8).copy()


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------


def normals_by_tile(rng, rows, cols, block, lo=-40, hi=40):
    """Standard normals, each block x block region scaled by its own 2^k."""
    x = rng.standard_normal((rows, cols)).astype(np.float32)
    for r in range(0, rows, block):
        for c in range(0, cols, block):
            x[r:r + block, c:c + block] *= np.float32(2.0 ** int(rng.integers(lo, hi + 1)))
    return x


def special_segments(rng, n):
    """One row of n values, 128 at a time, each segment a named case."""
    cases = [
        lambda: rng.standard_normal(128),
        lambda: rng.standard_normal(128) * 2.0 ** 30,
        lambda: rng.standard_normal(128) * 2.0 ** -30,
        lambda: np.zeros(128),                                  # all zero
        lambda: np.where(np.arange(128) == 5, np.inf, rng.standard_normal(128) * 500),
        lambda: np.where(np.arange(128) == 9, -np.inf, rng.standard_normal(128)),
        lambda: np.where(np.arange(128) == 3, np.nan, rng.standard_normal(128) * 1e3),
        lambda: rng.standard_normal(128) * 1e-41,               # f32 subnormals only
        lambda: np.full(128, 1e-45),                            # smallest subnormal
        lambda: np.array([448.0, -448.0, 448.00003, 449.0, 460.0, 464.0, 464.1,
                          480.0, 1e6, -1e30] * 12 + [0.0] * 8), # saturation
        lambda: rng.standard_normal(128) * 3e-38,               # 448/amax overflows
        lambda: np.where(np.arange(128) == 0, np.nan, 1.0),     # NaN + ones
        lambda: np.linspace(-1.0, 1.0, 128),
        lambda: np.full(128, -0.0),
        lambda: rng.standard_normal(128) * 2.0 ** 120,          # near f32 max
        lambda: np.array([57344.0, 61439.0, 61440.0, -61441.0] * 32),
        lambda: rng.uniform(-1.0, 1.0, 128) * 2.0 ** -126,
    ]
    parts = []
    for i in range(-(-n // 128)):
        parts.append(np.asarray(cases[i % len(cases)](), dtype=np.float64))
    with np.errstate(over="ignore"):
        return np.concatenate(parts)[:n].astype(np.float32)


def inputs():
    rng = np.random.default_rng(20261122)
    cases = {}
    cases["1x1"] = np.array([[1e-40]], dtype=np.float32)

    x = normals_by_tile(rng, 127, 129, 16)
    x[7, :] = 0.0                        # an all-zero row
    x[:, 128] = np.float32(2.0 ** -140)  # the 1-wide edge tiles: subnormal
    x[11, 3] = np.nan
    x[20, 100] = np.inf
    x[33, 5:20] = np.float32(448.0)
    cases["127x129"] = x

    x = normals_by_tile(rng, 128, 128, 16)
    x[64, :] = 0.0
    x[:, 31] *= np.float32(2.0 ** -100)
    cases["128x128"] = x

    cases["1x4096"] = special_segments(rng, 4096).reshape(1, 4096)

    # The realistic case: a bf16 weight with one magnitude per 128x128 block,
    # and whole blocks of zeros, inf, NaN, subnormals, saturation values.
    x = normals_by_tile(rng, 300, 1000, 128, lo=-20, hi=20)
    x[0:128, 0:128] = 0.0
    x[0:128, 128:256] = rng.standard_normal((128, 128)) * 10
    x[5, 200] = np.inf
    x[0:128, 256:384] = rng.standard_normal((128, 128))
    x[77, 300] = np.nan
    x[0:128, 384:512] = rng.standard_normal((128, 128)) * 1e-39
    x[128:256, 0:128] = np.float32(448.0) * np.sign(rng.standard_normal((128, 128)))
    x[130, 3] = 452.0
    x[128:256, 128:256] = rng.standard_normal((128, 128)) * 1e-37
    x = x.astype(ml_dtypes.bfloat16)
    cases["300x1000"] = x
    return cases


# --------------------------------------------------------------------------
# safetensors writer (the format: u64 header size, JSON header, raw data)
# --------------------------------------------------------------------------


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {}, [], 0
    for name, (dtype, array) in tensors.items():
        raw = np.ascontiguousarray(array).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)
    os.replace(tmp, path)


def metadata(extra):
    m = {"generator": "test/golden/numerics/make_golden.py",
         "numpy": np.__version__, "ml_dtypes": ml_dtypes.__version__}
    m.update(extra)
    return m


def block_quant_files():
    for shape, x in inputs().items():
        tensors = {}
        if x.dtype == ml_dtypes.bfloat16:
            tensors["input"] = ("BF16", x)
            x32 = x.astype(np.float32)
        else:
            tensors["input"] = ("F32", x)
            x32 = x
        full = x32.size <= FULL_DATA_LIMIT
        configs = [(f, l, m, d) for f in FORMATS for l in LAYOUTS
                   for m in METHODS for d in MODES]
        for fmt, layout, method, mode in configs:
            key = f"{fmt}.{layout}.{method}.{mode}"
            data, scales = quantize(x32, fmt, layout, method, mode)
            tensors[key + ".scales"] = ("F32", scales)
            if full and fmt == "e4m3fn":
                tensors[key + ".data"] = (FORMATS[fmt][2], data)
            else:
                tensors[key + ".data_fnv1a64"] = ("U8", fnv1a64(data))
        # Training's wgrad copy: the transpose quantized 1x128 (128x1 tiles of
        # the input), for both scale modes and formulas, E4M3.
        for method in METHODS:
            for mode in MODES:
                key = f"e4m3fn.1x128.{method}.{mode}.transposed"
                data, scales = quantize(np.ascontiguousarray(x32.T), "e4m3fn",
                                        "1x128", method, mode)
                tensors[key + ".scales"] = ("F32", scales)
                if full:
                    tensors[key + ".data"] = ("F8_E4M3", data)
                else:
                    tensors[key + ".data_fnv1a64"] = ("U8", fnv1a64(data))
        path = os.path.join(OUT_DIR, f"block_quant_{shape}.safetensors")
        write_safetensors(path, tensors, metadata({"shape": shape}))
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def f32_sample():
    """The f32 patterns of the E8M0 test; test code regenerates them the same
    way: every exponent with mantissas around the rounding midpoints, then a
    multiplicative-hash sweep of the 32-bit space."""
    patterns = []
    for e in range(256):
        for m in (0, 1, 0x3FFFFF, 0x400000, 0x400001, 0x5FFFFF, 0x600000, 0x7FFFFF):
            patterns.append((e << 23) | m)
    for i in range(65536):
        patterns.append((i * 0x9E3779B1 + 0x7F4A7C15) & 0xFFFFFFFF)
    return np.array(patterns, dtype=np.uint32)


def e8m0_file():
    bf16 = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(ml_dtypes.bfloat16)
    f32 = f32_sample().view(np.float32)
    with np.errstate(all="ignore"):
        out_bf16 = bf16.astype(np.float32).astype(ml_dtypes.float8_e8m0fnu).view(np.uint8)
        out_f32 = f32.astype(ml_dtypes.float8_e8m0fnu).view(np.uint8)
    path = os.path.join(OUT_DIR, "e8m0_nearest.safetensors")
    write_safetensors(path, {"bf16_all": ("U8", out_bf16),
                             "f32_sample": ("U8", out_f32)},
                      metadata({"f32_sample": "see f32_sample() in the generator"}))
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    block_quant_files()
    e8m0_file()
    sys.exit(0)
