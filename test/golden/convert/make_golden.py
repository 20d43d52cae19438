#!/usr/bin/env python3
"""Writes the golden files of `infir2 convert` (checkpoint quantization).

The expected values come from an implementation that is not ours: numpy's
IEEE float32 arithmetic, ml_dtypes' bfloat16 / float8_e4m3fn conversions and
numpy's float16 (round to nearest even), and the PyPI `safetensors` package,
which writes every safetensors file here. The rules are written from their
definitions (the DeepSeek/Qwen block-FP8 checkpoint format, 128x128 blocks
with `weight_scale_inv`; compressed-tensors 0.20.1 "pack-quantized" INT4,
round to nearest with the minmax observer, strategy "group", emulated as torch
ops on bf16/f16/f32 tensors), independently of the C++ code.

Files, under test/golden/convert/:
  input/  a tiny Qwen2-shaped Hugging Face checkpoint in two shards
      (model-0000{1,2}-of-00002.safetensors + model.safetensors.index.json;
      bf16 weights, one f16 and one f32 matrix; all-zero, single-huge-value
      and bf16-subnormal 128x128 blocks; 130-row and 200-column edges; f32
      subnormals in INT4 groups), config.json, generation_config.json,
      tokenizer_config.json, extra/README.txt (non-weight files to copy).
  fp8_foreign/  model.safetensors + config.json: FP8 weights with a
      per-tensor, a per-channel and a bf16 block scale (fp8-to-bf16 input).
  expected_tensors.json  {"sets": {set: {tensor: {"dtype", "shape",
      "fnv1a64"}}}}: the complete expected output tensor set of every
      conversion, each tensor's dtype, shape and the 64-bit FNV-1a digest of
      its raw little-endian bytes (16 lowercase hex digits).
  expected_<set>.safetensors  the tensors of that set with at most
      FULL_DATA_LIMIT elements, in full (scales, zero points, weight_shape,
      biases, norms, the INT4 k_proj/v_proj packs, every tensor of
      fp8_foreign_to_bf16). The large tensors are only digested: the full
      sets of all conversions would take ~8 MB.
  expected_configs.json  the quantization_config each conversion writes.
  README.md  (written by hand) which command produces which set.

Sets: fp8_pow2, fp8_f32 (f32 scales), fp8_pow2_f16, fp8_f32_bf16 (scales
stored f16 / bf16), fp8_{pow2,f32,f32_bf16}_to_bf16 and fp8_foreign_to_bf16
(dequantized), int4_sym_g128, int4_asym_g64 (--exclude 'o_proj|down_proj':
their 200 and 300 columns are not a multiple of the group size) and
int4_{sym_g128,asym_g64}_to_bf16. FP8 values that round to zero keep their
sign (code 0x80 for negative ones), as ml_dtypes and torch do.

`python3 make_golden.py --full DIR` also writes the complete sets, every
tensor in full, as DIR/expected_<set>.safetensors (for diagnosing a failing
test; not committed).

Regenerate (numpy, ml_dtypes and safetensors from PyPI):
  python3 -m pip install numpy ml_dtypes safetensors
  python3 test/golden/convert/make_golden.py
The output is deterministic (fixed seeds).
"""

import argparse
import glob
import json
import math
import os
import re
import shutil
import sys

import ml_dtypes
import numpy as np
import safetensors
import safetensors.numpy

OUT_DIR = os.path.dirname(os.path.abspath(__file__))
INPUT_DIR = os.path.join(OUT_DIR, "input")
FOREIGN_DIR = os.path.join(OUT_DIR, "fp8_foreign")

BF16 = np.dtype(ml_dtypes.bfloat16)
F16 = np.dtype(np.float16)
F32 = np.dtype(np.float32)
E4M3 = np.dtype(ml_dtypes.float8_e4m3fn)
DTYPES = {"BF16": BF16, "F16": F16, "F32": F32, "F8_E4M3": E4M3,
          "I32": np.dtype(np.int32), "I64": np.dtype(np.int64),
          "U8": np.dtype(np.uint8)}
NAMES = {v: k for k, v in DTYPES.items()}

FP8_MAX = np.float32(448.0)
BLOCK = 128
FULL_DATA_LIMIT = 6144
SIZE_LIMIT = 1536 * 1024      # committed files, all together
# The INT4 tests' --exclude regex: o_proj has 200 columns and down_proj 300,
# neither a multiple of the group sizes (64, 128).
INT4_EXCLUDE = "o_proj|down_proj"


# --------------------------------------------------------------------------
# safetensors through the PyPI package (its numpy loader lacks bf16/FP8, so
# files are read with safetensors.deserialize and viewed here)
# --------------------------------------------------------------------------


def save(path, tensors, metadata=None):
    arrays = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
    safetensors.numpy.save_file(arrays, path, metadata=metadata or {"format": "pt"})
    os.chmod(path, 0o644)        # the package creates its files 0600


def load(path):
    with open(path, "rb") as f:
        raw = f.read()
    out = {}
    for name, info in safetensors.deserialize(raw):
        dtype = DTYPES[info["dtype"]]
        out[name] = np.frombuffer(bytes(info["data"]), dtype=dtype).reshape(info["shape"])
    return out


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


_DIGESTS = {}


def fnv1a64(array):
    data = np.ascontiguousarray(array).tobytes()
    key = (len(data), hash(data))
    if key not in _DIGESTS:
        h = 0xCBF29CE484222325
        for b in data:
            h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
        _DIGESTS[key] = f"{h:016x}"
    return _DIGESTS[key]


def generator_info():
    """For expected_tensors.json. (The safetensors files carry only
    {"format": "pt"}: the package writes a metadata map in hash order.)"""
    return {"generator": "test/golden/convert/make_golden.py",
            "numpy": np.__version__, "ml_dtypes": ml_dtypes.__version__,
            "safetensors": safetensors.__version__}


# --------------------------------------------------------------------------
# The input checkpoint
# --------------------------------------------------------------------------

CONFIG = {
    "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",
    "hidden_size": 256, "intermediate_size": 300, "num_hidden_layers": 1,
    "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 300,
    "max_position_embeddings": 512, "rms_norm_eps": 1e-6,
    "rope_theta": 1000000.0, "tie_word_embeddings": True,
    "torch_dtype": "bfloat16", "hidden_act": "silu", "bos_token_id": 1,
    "eos_token_id": 2,
}
SHARDS = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]


def checkpoint():
    """Returns [shard 1 tensors, shard 2 tensors] (dicts in file order)."""
    rng = np.random.default_rng(20260611)

    def normal(*shape):
        return (rng.standard_normal(shape) * 0.05).astype(np.float32)

    def bf16(x):
        return np.asarray(x, dtype=np.float32).astype(BF16)

    # q_proj: block (0,0) all zero; block (0,1) one huge value (30000 is
    # 29952 in bf16); block (1,0) bf16 subnormals only; block (1,1) normal.
    q = normal(256, 256)
    q[0:128, 0:128] = 0.0
    q[17, 200] = 30000.0
    mult = rng.integers(1, 128, size=(128, 128)).astype(np.float32)
    sign = np.where(rng.random((128, 128)) < 0.5, -1.0, 1.0).astype(np.float32)
    q[128:256, 0:128] = sign * mult * np.float32(2.0 ** -133)

    # up_proj (f32): row 5, columns 0-127 are f32 subnormals (below the bf16
    # and f32 normal range) but for one 1e-3 at column 10 (so the g128 group
    # and the first g64 group are scaled by 1e-3, the second g64 group by a
    # subnormal); row 6, columns 128-255 tiny normals; two lone subnormals.
    up = normal(300, 256)
    up[5, 0:128] = (rng.standard_normal(128) * 1e-39).astype(np.float32)
    up[5, 10] = np.float32(1e-3)
    up[6, 128:256] = (rng.standard_normal(128) * 1e-30).astype(np.float32)
    up[100, 3] = np.float32(3e-40)
    up[200, 250] = np.float32(-5e-41)

    p = "model.layers.0."
    shard1 = {
        "model.embed_tokens.weight": bf16(normal(300, 256)),
        p + "input_layernorm.weight": bf16(normal(256)),
        p + "self_attn.q_proj.weight": bf16(q),
        p + "self_attn.q_proj.bias": bf16(normal(256)),
        p + "self_attn.k_proj.weight": bf16(normal(130, 256)),
        p + "self_attn.k_proj.bias": bf16(normal(130)),
        p + "self_attn.v_proj.weight": bf16(normal(130, 256)),
        p + "self_attn.v_proj.bias": bf16(normal(130)),
    }
    shard2 = {
        p + "self_attn.o_proj.weight": bf16(normal(256, 200)),
        p + "post_attention_layernorm.weight": bf16(normal(256)),
        p + "mlp.gate_proj.weight": normal(300, 256).astype(F16),
        p + "mlp.up_proj.weight": up,
        p + "mlp.down_proj.weight": bf16(normal(256, 300)),
        "model.norm.weight": bf16(normal(256)),
    }
    return [shard1, shard2]


def write_input(shards):
    os.makedirs(os.path.join(INPUT_DIR, "extra"))
    write_json(os.path.join(INPUT_DIR, "config.json"), CONFIG)
    write_json(os.path.join(INPUT_DIR, "generation_config.json"),
               {"bos_token_id": 1, "eos_token_id": 2, "do_sample": False})
    write_json(os.path.join(INPUT_DIR, "tokenizer_config.json"),
               {"model_max_length": 512, "tokenizer_class": "Qwen2Tokenizer"})
    with open(os.path.join(INPUT_DIR, "extra", "README.txt"), "w") as f:
        f.write("A non-weight file in a subfolder; converters copy it unchanged.\n")
    weight_map, total = {}, 0
    for file, tensors in zip(SHARDS, shards):
        save(os.path.join(INPUT_DIR, file), tensors)
        for name, t in tensors.items():
            weight_map[name] = file
            total += t.nbytes
    write_json(os.path.join(INPUT_DIR, "model.safetensors.index.json"),
               {"metadata": {"total_size": total},
                "weight_map": dict(sorted(weight_map.items()))})


# --------------------------------------------------------------------------
# Block FP8 (the checkpoint rule)
# --------------------------------------------------------------------------


def fp8_quantized(name, t):
    return (name.endswith(".weight") and t.ndim == 2 and t.dtype in (BF16, F16, F32)
            and not any(s in name for s in ("embed", "norm", "lm_head")))


def pow2_ceil(scale):
    """2^ceil(log2 scale) on the f32 bits: a nonzero mantissa rounds the
    exponent up."""
    bits = int(np.array([scale], dtype=np.float32).view(np.uint32)[0])
    exponent, mantissa = (bits >> 23) & 0xFF, bits & 0x7FFFFF
    assert 0 < exponent < 254 and bits >> 31 == 0, scale
    if mantissa:
        exponent += 1
    return np.array([exponent << 23], dtype=np.uint32).view(np.float32)[0]


def fp8_block_quantize(w, mode):
    """Returns (E4M3 data, f32 scales [ceil(rows/128), ceil(cols/128)])."""
    x = w.astype(np.float32)
    rows, cols = x.shape
    scales = np.zeros((-(-rows // BLOCK), -(-cols // BLOCK)), dtype=np.float32)
    data = np.zeros((rows, cols), dtype=E4M3)
    for i in range(scales.shape[0]):
        for j in range(scales.shape[1]):
            blk = x[i * BLOCK:(i + 1) * BLOCK, j * BLOCK:(j + 1) * BLOCK]
            amax = np.float32(np.max(np.abs(blk)))          # NaN propagates
            if np.isfinite(amax):
                scale = np.float32(np.maximum(amax, np.float32(1e-10)) / FP8_MAX)
            else:
                scale = np.float32(1.0)
            with np.errstate(all="ignore"):
                if mode == "pow2":
                    scale = pow2_ceil(scale)
                    v = blk * np.float32(np.float32(1.0) / scale)
                else:
                    v = blk / scale
                q = np.clip(v, -FP8_MAX, FP8_MAX).astype(E4M3)
            scales[i, j] = scale
            data[i * BLOCK:(i + 1) * BLOCK, j * BLOCK:(j + 1) * BLOCK] = q
    return data, scales


def hf_to_fp8(tensors, mode, scale_dtype):
    out = {}
    for name, t in tensors.items():
        if fp8_quantized(name, t):
            data, scales = fp8_block_quantize(t, mode)
            out[name] = data
            out[name + "_scale_inv"] = scales.astype(scale_dtype)
        else:
            out[name] = t
    return out


def expand_blocks(scales, rows, cols):
    return np.repeat(np.repeat(scales, BLOCK, axis=0), BLOCK, axis=1)[:rows, :cols]


def fp8_scale_of(tensors, name):
    """(scale tensor name, f32 scale broadcast to the weight) of FP8 `name`."""
    rows, cols = tensors[name].shape
    if name + "_scale_inv" in tensors:                       # 128x128 blocks
        s = tensors[name + "_scale_inv"].astype(np.float32)
        return name + "_scale_inv", expand_blocks(s, rows, cols)
    s = tensors[name + "_scale"].astype(np.float32)
    if s.size == 1:                                          # per tensor
        return name + "_scale", np.full((rows, cols), s.reshape(()), np.float32)
    assert s.shape == (rows, 1), s.shape                    # per channel
    return name + "_scale", np.broadcast_to(s, (rows, cols))


def fp8_to_bf16(tensors):
    out, dropped = {}, set()
    for name, t in tensors.items():
        if t.dtype == E4M3:
            scale_name, s = fp8_scale_of(tensors, name)
            dropped.add(scale_name)
            out[name] = (t.astype(np.float32) * s).astype(BF16)
    for name, t in tensors.items():
        if t.dtype != E4M3 and name not in dropped:
            out[name] = t
    return out


# --------------------------------------------------------------------------
# INT4 compressed-tensors pack-quantized
# --------------------------------------------------------------------------

EPS = {BF16: np.float32(2.0 ** -7), F16: np.float32(2.0 ** -10), F32: np.float32(2.0 ** -23)}


def in_t(dtype, a):
    """An f32 result rounded to the tensor dtype (nearest even), as f32."""
    a = np.asarray(a, dtype=np.float32)
    return a if dtype == F32 else a.astype(dtype).astype(np.float32)


def int4_quantized(name, t):
    return fp8_quantized(name, t) and re.search(INT4_EXCLUDE, name) is None


def int4_quantize(w, group, symmetric):
    """Returns (q int32 [rows, cols] in [-8, 7], scale f32 [rows, groups]
    holding dtype-T values, zp int32 [rows, groups])."""
    T = w.dtype
    x = w.astype(np.float32)
    rows, cols = x.shape
    assert cols % group == 0
    xg = x.reshape(rows, cols // group, group)
    mn = np.minimum(xg.min(axis=2), np.float32(0))
    mx = np.maximum(xg.max(axis=2), np.float32(0))
    with np.errstate(all="ignore"):
        if symmetric:
            amax = np.maximum(np.abs(mn), np.abs(mx))
            scale = in_t(T, amax / np.float32(7.5))
            zp = np.zeros(mn.shape, dtype=np.int32)
        else:
            rng = in_t(T, mx - mn)
            scale = in_t(T, rng / np.float32(15))
            zf = in_t(T, np.float32(-8) - in_t(T, mn / scale))
            zf = np.clip(zf, np.float32(-8), np.float32(7))
            zp = np.where(np.isnan(zf), np.float32(0), np.rint(zf)).astype(np.int32)
        scale = np.where(scale == 0, EPS[T], scale).astype(np.float32)
        s = in_t(T, xg / scale[:, :, None])
        if not symmetric:
            s = in_t(T, s + zp[:, :, None].astype(np.float32))
        q = np.rint(np.clip(s, np.float32(-8), np.float32(7))).astype(np.int32)
    return q.reshape(rows, cols), scale, zp


def pack_rows(q):
    """[rows, cols] ints in [-8, 7] -> int32 [rows, cols / 8], element 8j+k
    in bits 4k..4k+3 of word j, as the nibble q + 8."""
    rows, cols = q.shape
    assert cols % 8 == 0
    n = (q + 8).astype(np.uint32).reshape(rows, cols // 8, 8)
    words = np.zeros((rows, cols // 8), dtype=np.uint32)
    for k in range(8):
        words |= n[:, :, k] << np.uint32(4 * k)
    return words.view(np.int32)


def unpack_rows(words, cols):
    w = words.view(np.uint32)
    n = np.stack([(w >> np.uint32(4 * k)) & np.uint32(0xF) for k in range(8)], axis=2)
    return n.reshape(words.shape[0], -1)[:, :cols].astype(np.int32) - 8


def pack_zero_points(zp):
    """[rows, groups] ints in [-8, 7] -> int32 [ceil(rows / 8), groups],
    packed along dim 0, missing rows as nibble 0."""
    rows, groups = zp.shape
    packed_rows = -(-rows // 8)
    n = np.zeros((packed_rows * 8, groups), dtype=np.uint32)
    n[:rows] = (zp + 8).astype(np.uint32)
    n = n.reshape(packed_rows, 8, groups)
    words = np.zeros((packed_rows, groups), dtype=np.uint32)
    for k in range(8):
        words |= n[:, k, :] << np.uint32(4 * k)
    return words.view(np.int32)


def unpack_zero_points(words, rows):
    w = words.view(np.uint32)
    n = np.stack([(w >> np.uint32(4 * k)) & np.uint32(0xF) for k in range(8)], axis=1)
    return n.reshape(-1, words.shape[1])[:rows].astype(np.int32) - 8


def hf_to_int4(tensors, group, symmetric):
    out = {}
    for name, t in tensors.items():
        if int4_quantized(name, t):
            q, scale, zp = int4_quantize(t, group, symmetric)
            out[name + "_packed"] = pack_rows(q)
            out[name + "_scale"] = scale.astype(t.dtype)
            out[name + "_shape"] = np.array(t.shape, dtype=np.int64)
            if not symmetric:
                out[name + "_zero_point"] = pack_zero_points(zp)
        else:
            out[name] = t
    return out


def int4_to_bf16(tensors):
    out, dropped = {}, set()
    for name in tensors:
        if not name.endswith(".weight_packed"):
            continue
        p = name[:-len("_packed")]
        rows, cols = (int(v) for v in tensors[p + "_shape"])
        scale = tensors[p + "_scale"]
        T = scale.dtype
        group = cols // scale.shape[1]
        q = unpack_rows(tensors[name], cols)
        zp = np.zeros(scale.shape, dtype=np.int32)
        if p + "_zero_point" in tensors:
            zp = unpack_zero_points(tensors[p + "_zero_point"], rows)
            dropped.add(p + "_zero_point")
        s = np.repeat(scale.astype(np.float32), group, axis=1)
        z = np.repeat(zp, group, axis=1).astype(np.float32)
        diff = in_t(T, q.astype(np.float32) - z)
        out[p] = in_t(T, diff * s).astype(BF16)
        dropped.update({name, p + "_scale", p + "_shape"})
    for name, t in tensors.items():
        if name not in dropped:
            out[name] = t
    return out


# --------------------------------------------------------------------------
# quantization_config blocks
# --------------------------------------------------------------------------


def not_converted(tensors, quantized):
    names = [n[:-len(".weight")] for n in sorted(tensors)
             if n.endswith(".weight") and tensors[n].ndim == 2
             and not quantized(n, tensors[n])]
    return names if "lm_head" in names else names + ["lm_head"]


def configs(tensors):
    fp8_skip = not_converted(tensors, fp8_quantized)
    int4_skip = not_converted(tensors, int4_quantized)

    def fp8(pow2):
        c = {"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic",
             "weight_block_size": [BLOCK, BLOCK], "modules_to_not_convert": fp8_skip}
        if pow2:
            c["scale_fmt"] = "ue8m0"
        return c

    def int4(group, symmetric):
        weights = {"actorder": None, "block_structure": None, "dynamic": False,
                   "group_size": group, "num_bits": 4, "observer": "minmax",
                   "observer_kwargs": {}, "strategy": "group",
                   "symmetric": symmetric, "type": "int"}
        return {"config_groups": {"group_0": {
                    "format": "pack-quantized", "input_activations": None,
                    "output_activations": None, "targets": ["Linear"],
                    "weights": weights}},
                "format": "pack-quantized", "global_compression_ratio": None,
                "ignore": int4_skip, "kv_cache_scheme": None,
                "quant_method": "compressed-tensors",
                "quantization_status": "compressed"}

    return {"fp8_pow2": fp8(True), "fp8_f32": fp8(False),
            "int4_sym_g128": int4(128, True), "int4_asym_g64": int4(64, False)}


# --------------------------------------------------------------------------
# The foreign FP8 checkpoint
# --------------------------------------------------------------------------


def foreign_checkpoint():
    rng = np.random.default_rng(20260612)

    def codes(shape):
        c = rng.integers(0, 256, size=shape).astype(np.uint8)
        c[(c & 0x7F) == 0x7F] = 0x3C                       # no NaN codes
        return c.view(E4M3)

    return {
        "a.weight": codes((64, 96)),
        "a.weight_scale": np.array([0.0123456], dtype=np.float32),
        "b.weight": codes((64, 96)),
        "b.weight_scale": rng.uniform(1e-3, 2e-2, size=(64, 1)).astype(np.float32),
        "c.weight": codes((64, 96)),
        "c.weight_scale_inv": np.array([[0.0215]], dtype=np.float32).astype(BF16),
        "d.bias": (rng.standard_normal(64) * 0.05).astype(np.float32).astype(BF16),
    }


def write_foreign(tensors):
    os.makedirs(FOREIGN_DIR)
    config = dict(CONFIG)
    config["quantization_config"] = {"quant_method": "fp8", "activation_scheme": "dynamic"}
    write_json(os.path.join(FOREIGN_DIR, "config.json"), config)
    save(os.path.join(FOREIGN_DIR, "model.safetensors"), tensors)


# --------------------------------------------------------------------------
# Self-checks
# --------------------------------------------------------------------------


def check_fp8(inputs, sets):
    qname = "model.layers.0.self_attn.q_proj.weight"
    zero_f32 = np.float32(np.float32(1e-10) / FP8_MAX)
    for key, mode in (("fp8_f32", "f32"), ("fp8_pow2", "pow2")):
        data, s = sets[key][qname], sets[key][qname + "_scale_inv"]
        want = zero_f32 if mode == "f32" else np.float32(
            2.0 ** math.ceil(math.log2(float(zero_f32))))
        assert s[0, 0] == want and s[1, 0] == want, (key, s)   # zero, subnormal blocks
        assert not np.any(data[0:128, 0:128].view(np.uint8)), key
        assert np.all(data[128:256, 0:128].view(np.uint8) & 0x7F == 0), key
        huge = data[17, 200].view(np.uint8)
        assert inputs[qname][17, 200] == np.float32(29952.0)
        # f32: 29952 / (29952 / 448) = 448 (0x7E); pow2: scale 128, 234 -> 240.
        assert huge == (0x7E if mode == "f32" else 0x77), (key, hex(huge))
    assert sets["fp8_pow2"][qname + "_scale_inv"][0, 1] == np.float32(128.0)
    assert sets["fp8_pow2_f16"][qname + "_scale_inv"][0, 0] == 0   # 2^-42 in f16

    # Dequantization reproduces the inputs within the E4M3 bound.
    for key, slack in (("fp8_pow2", 0.0), ("fp8_f32", 0.0), ("fp8_f32_bf16", 2.0 ** -8)):
        for name, t in sets[key].items():
            if t.dtype != E4M3:
                continue
            x = inputs[name].astype(np.float32)
            _, s = fp8_scale_of(sets[key], name)
            f32_scale = expand_blocks(sets["fp8_" + key.split("_")[1]][name + "_scale_inv"],
                                      *x.shape)
            err = np.abs(t.astype(np.float32) * s - x)
            bound = (2.0 ** -4 + slack) * np.abs(x) + f32_scale * 2.0 ** -9
            assert np.all(err <= bound), (key, name, float(np.max(err - bound)))
            y = sets[key + "_to_bf16"][name].astype(np.float32)
            assert np.all(np.abs(y - x) <= bound * (1 + 2.0 ** -7) + 2.0 ** -8 * np.abs(x)), \
                (key, name)


def check_int4(inputs, sets):
    rng = np.random.default_rng(7)
    q = rng.integers(-8, 8, size=(13, 64)).astype(np.int32)
    assert np.array_equal(unpack_rows(pack_rows(q), 64), q)
    assert np.array_equal(unpack_zero_points(pack_zero_points(q), 13), q)
    assert pack_rows(np.array([[-8, -7, 0, 7, -8, -8, -8, 7]]))[0, 0] == np.int32(
        np.array([0xF000F810], dtype=np.uint32).view(np.int32)[0])
    for key, group, sym in (("int4_sym_g128", 128, True), ("int4_asym_g64", 64, False)):
        for name, x in inputs.items():
            if not int4_quantized(name, x):
                assert np.array_equal(sets[key][name].view(np.uint8), x.view(np.uint8))
                continue
            qq, scale, zp = int4_quantize(x, group, sym)
            assert np.array_equal(unpack_rows(sets[key][name + "_packed"], x.shape[1]), qq)
            if not sym:
                got = unpack_zero_points(sets[key][name + "_zero_point"], x.shape[0])
                assert np.array_equal(got, zp)
            # Round to nearest: within half a step (a step where the zero
            # point's rounding or the clip at 7 may cost another half), plus
            # the rounding of a subnormal scale (8 of T's smallest steps).
            s = np.repeat(scale, group, axis=1)
            x32 = x.astype(np.float32)
            y = sets[key + "_to_bf16"][name].astype(np.float32)
            err = np.abs(y - x32)
            tiny = np.float32(ml_dtypes.finfo(x.dtype).smallest_subnormal)
            bound = (s * (0.5 if sym else 1.0) * (1 + 2.0 ** -6) + 2.0 ** -7 * np.abs(x32)
                     + 8 * tiny)
            assert np.all(err <= bound), (key, name, float(np.max(err - bound)))
    # The zero block: scale eps(bf16), zero point 0; the f32 subnormal group.
    qs = sets["int4_asym_g64"]["model.layers.0.self_attn.q_proj.weight_scale"]
    assert qs[0, 0] == np.float32(2.0 ** -7)
    ups = sets["int4_asym_g64"]["model.layers.0.mlp.up_proj.weight_scale"]
    assert 0 < ups[5, 1] < np.finfo(np.float32).tiny and ups[5, 0] > 1e-5


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def clean():
    for d in (INPUT_DIR, FOREIGN_DIR):
        shutil.rmtree(d, ignore_errors=True)
    for pattern in ("expected_*.safetensors", "expected_*.json"):
        for path in glob.glob(os.path.join(OUT_DIR, pattern)):
            os.remove(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", metavar="DIR",
                        help="also write the complete expected sets to DIR")
    args = parser.parse_args()

    clean()
    shards = checkpoint()
    write_input(shards)
    foreign = foreign_checkpoint()
    write_foreign(foreign)

    # Everything below reads the files back through safetensors.
    inputs = {}
    for file in SHARDS:
        inputs.update(load(os.path.join(INPUT_DIR, file)))
    for shard in shards:
        for name, t in shard.items():
            assert inputs[name].dtype == t.dtype and inputs[name].tobytes() == t.tobytes()
    sub = inputs["model.layers.0.self_attn.q_proj.weight"][128:256, 0:128].astype(np.float32)
    assert np.all((sub != 0) & (np.abs(sub) < np.finfo(np.float32).tiny))

    sets = {
        "fp8_pow2": hf_to_fp8(inputs, "pow2", F32),
        "fp8_f32": hf_to_fp8(inputs, "f32", F32),
        "fp8_pow2_f16": hf_to_fp8(inputs, "pow2", F16),
        "fp8_f32_bf16": hf_to_fp8(inputs, "f32", BF16),
    }
    for key in ("fp8_pow2", "fp8_f32", "fp8_f32_bf16"):
        sets[key + "_to_bf16"] = fp8_to_bf16(sets[key])
    sets["fp8_foreign_to_bf16"] = fp8_to_bf16(load(os.path.join(FOREIGN_DIR, "model.safetensors")))
    sets["int4_sym_g128"] = hf_to_int4(inputs, 128, True)
    sets["int4_asym_g64"] = hf_to_int4(inputs, 64, False)
    for key in ("int4_sym_g128", "int4_asym_g64"):
        sets[key + "_to_bf16"] = int4_to_bf16(sets[key])

    check_fp8(inputs, sets)
    check_int4(inputs, sets)
    fb = sets["fp8_foreign_to_bf16"]
    assert sorted(fb) == ["a.weight", "b.weight", "c.weight", "d.bias"]
    assert np.array_equal(fb["b.weight"][3].astype(np.float32), (foreign["b.weight"][3].astype(
        np.float32) * foreign["b.weight_scale"][3, 0]).astype(BF16).astype(np.float32))

    manifest = {}
    for key, tensors in sets.items():
        manifest[key] = {name: {"dtype": NAMES[t.dtype], "shape": list(t.shape),
                                "fnv1a64": fnv1a64(t)}
                         for name, t in sorted(tensors.items())}
        small = {n: t for n, t in tensors.items() if t.size <= FULL_DATA_LIMIT}
        path = os.path.join(OUT_DIR, f"expected_{key}.safetensors")
        save(path, small)
        back = load(path)
        assert sorted(back) == sorted(small)
        for n, t in back.items():
            assert t.dtype == small[n].dtype and t.tobytes() == small[n].tobytes()
    write_json(os.path.join(OUT_DIR, "expected_tensors.json"),
               {"about": generator_info(), "full_data_limit": FULL_DATA_LIMIT,
                "sets": manifest})
    write_json(os.path.join(OUT_DIR, "expected_configs.json"), configs(inputs))

    if args.full:
        os.makedirs(args.full, exist_ok=True)
        for key, tensors in sets.items():
            save(os.path.join(args.full, f"expected_{key}.safetensors"), tensors)

    total = 0
    for root, _, files in os.walk(OUT_DIR):
        for f in files:
            if "__pycache__" not in root:
                total += os.path.getsize(os.path.join(root, f))
    for root, _, files in sorted(os.walk(OUT_DIR)):
        for f in sorted(files):
            path = os.path.join(root, f)
            print(f"{os.path.relpath(path, OUT_DIR)}: {os.path.getsize(path)} bytes")
    print(f"total {total} bytes")
    assert total < SIZE_LIMIT, total


if __name__ == "__main__":
    main()
    sys.exit(0)
