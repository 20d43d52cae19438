#!/usr/bin/env python3
"""Loads `infir2 convert` outputs in Hugging Face transformers.

A developer-side check (needs torch and transformers from PyPI; CI checks
the same files byte for byte against numpy references instead):

  python3 tools/dev/check_convert_transformers.py MODEL_DIR [--work DIR]

MODEL_DIR is a BF16 Qwen2 checkpoint (e.g. an `infir2 train` checkpoint, or
test/golden/qwen2/untied_hd128_r6). The script runs
  hf-to-fp8 -> fp8-to-bf16      (exact f32 scales, and --scale pow2)
  hf-to-int4 -> int4-to-bf16    (symmetric g=--group-size, and asymmetric)
and for every round trip:
  1. Qwen2ForCausalLM.from_pretrained loads it with no missing, unexpected
     or mismatched keys, and config.json has no quantization_config;
  2. each weight equals the dequantization computed here in torch from the
     FP8 / INT4 tensors (exact), and is within half a quantization step of
     the original (FP8: 16/448 of max |w|, 16/256 with pow2 scales; INT4:
     1/15; each + bf16 rounding);
  3. its logits on random tokens are reported against the original model's
     (max |dlogit| / max |logit|; information, not a pass criterion: a
     random tiny model amplifies weight noise).
  4. transformers also loads the quantized directory itself, through its
     own readers of these formats (FineGrainedFP8Config(dequantize=True)
     for block FP8, CompressedTensorsConfig(dequantize=True) with the
     compressed-tensors package for INT4), and every weight it reads equals
     our round trip's bit for bit. transformers' FP8 reader derives the
     block from the scale grid, so this holds for weights whose sides are
     multiples of 128 (all of Qwen2.5's); others are reported, not failed.
It also checks that the FP8 output's config.json carries what vLLM / SGLang
read (quant_method, fmt, activation_scheme, weight_block_size) and the INT4
output's compressed-tensors block. Exit code 0 when every check holds.

  --make-model DIR writes a random 128-aligned Qwen2 (hidden 256,
  intermediate 512, 2 layers, bf16) to DIR first and checks that.
Needs: torch transformers safetensors accelerate compressed-tensors.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import load_file
from transformers import Qwen2ForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def tensors(d):
    out = {}
    for f in sorted(os.listdir(d)):
        if f.endswith(".safetensors"):
            out.update(load_file(os.path.join(d, f)))
    return out


def run(infir2, *args):
    subprocess.run([infir2, "convert", *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def fp8_dequant(q, s):
    rows, cols = q.shape
    big = s.float().repeat_interleave(128, 0)[:rows].repeat_interleave(128, 1)[:, :cols]
    return (q.float() * big).to(torch.bfloat16)


def int4_unpack(packed, rows, cols):
    words = packed.to(torch.int64) & 0xFFFFFFFF
    nib = torch.stack([(words >> (4 * k)) & 15 for k in range(8)], dim=-1)
    return nib.reshape(rows, -1)[:, :cols] - 8


def int4_dequant(t, base):
    rows, cols = t[base + ".weight_shape"].tolist()
    q = int4_unpack(t[base + ".weight_packed"], rows, cols)
    scale = t[base + ".weight_scale"]
    g = cols // scale.shape[1]
    zp = torch.zeros_like(q)
    if base + ".weight_zero_point" in t:
        z = t[base + ".weight_zero_point"]
        zr = int4_unpack(z.t().contiguous(), z.shape[1], rows).t()
        zp = zr.repeat_interleave(g, 1)
    w = (q - zp).to(scale.dtype) * scale.repeat_interleave(g, 1)
    return w.to(torch.bfloat16)


def logits(model_dir, ids):
    m = Qwen2ForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32,
                                         output_loading_info=True)
    model, info = m
    bad = {k: v for k, v in info.items() if v}
    assert not bad, f"{model_dir}: loading info {bad}"
    with torch.no_grad():
        return model(ids).logits


def native_weights(q_dir, name):
    """The weights transformers reads from a quantized directory."""
    from transformers import CompressedTensorsConfig, FineGrainedFP8Config
    qc = (FineGrainedFP8Config(dequantize=True) if name.startswith("fp8")
          else CompressedTensorsConfig(dequantize=True))
    model, info = Qwen2ForCausalLM.from_pretrained(
        q_dir, quantization_config=qc, torch_dtype=torch.bfloat16,
        output_loading_info=True)
    bad = {k: v for k, v in info.items() if v}
    assert not bad, f"{q_dir}: loading info {bad}"
    return model.state_dict()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--infir2", default=os.path.join(ROOT, "build/bin/infir2"))
    ap.add_argument("--work", default=None)
    ap.add_argument("--group-size", type=int, default=64)
    ap.add_argument("--make-model", action="store_true",
                    help="write a random 128-aligned Qwen2 to MODEL first")
    args = ap.parse_args()
    if args.make_model:
        from transformers import Qwen2Config
        torch.manual_seed(0)
        c = Qwen2Config(vocab_size=512, hidden_size=256, intermediate_size=512,
                        num_hidden_layers=2, num_attention_heads=2,
                        num_key_value_heads=1, tie_word_embeddings=False)
        Qwen2ForCausalLM(c).to(torch.bfloat16).save_pretrained(args.model)
    work = args.work or tempfile.mkdtemp(prefix="infir2-convert-")
    src = tensors(args.model)
    cfg = json.load(open(os.path.join(args.model, "config.json")))
    torch.manual_seed(0)
    ids = torch.randint(0, cfg["vocab_size"], (2, 32))
    ref = logits(args.model, ids)
    ok = True
    for name, quant, back in [
        ("fp8_f32", ["hf-to-fp8", "--scale", "f32"], "fp8-to-bf16"),
        ("fp8_pow2", ["hf-to-fp8", "--scale", "pow2"], "fp8-to-bf16"),
        ("int4_sym", ["hf-to-int4", "--group-size", str(args.group_size)], "int4-to-bf16"),
        ("int4_asym", ["hf-to-int4", "--group-size", str(args.group_size), "--asymmetric"], "int4-to-bf16"),
    ]:
        q_dir, b_dir = os.path.join(work, name), os.path.join(work, name + "_bf16")
        run(args.infir2, quant[0], "--input", args.model, "--output", q_dir, "--force", *quant[1:])
        run(args.infir2, back, "--input", q_dir, "--output", b_dir, "--force")
        qc = json.load(open(os.path.join(q_dir, "config.json")))["quantization_config"]
        if name.startswith("fp8"):
            assert qc["quant_method"] == "fp8" and qc["fmt"] == "e4m3"
            assert qc["activation_scheme"] == "dynamic" and qc["weight_block_size"] == [128, 128]
        else:
            assert qc["quant_method"] == "compressed-tensors" and qc["format"] == "pack-quantized"
            w = qc["config_groups"]["group_0"]["weights"]
            assert w["num_bits"] == 4 and w["group_size"] == args.group_size
        assert "quantization_config" not in json.load(open(os.path.join(b_dir, "config.json")))
        qt, bt = tensors(q_dir), tensors(b_dir)
        worst = 0.0
        for k, v in src.items():
            if k in bt and k + "_scale_inv" in qt:
                want = fp8_dequant(qt[k], qt[k + "_scale_inv"])
            elif k.endswith(".weight") and k[:-7] + ".weight_packed" in qt:
                want = int4_dequant(qt, k[:-7])
            else:
                assert torch.equal(bt[k], v), f"{name}: {k} changed"
                continue
            assert torch.equal(bt[k], want), f"{name}: {k} is not the dequantization"
            worst = max(worst, ((bt[k].float() - v.float()).abs().max() /
                                v.float().abs().max()).item())
        native = native_weights(q_dir, name)
        aligned = differ = 0
        for k, v in bt.items():
            if k not in native or v.dim() != 2:
                continue
            if v.shape[0] % 128 or v.shape[1] % 128:
                continue
            aligned += 1
            if not torch.equal(native[k].to(v.dtype), v):
                differ += 1
                print(f"{name}: transformers reads {k} differently")
        ok &= differ == 0
        print(f"{name}: transformers' own reader gives the same {aligned} "
              f"128-aligned 2-D weights as int4/fp8-to-bf16" if not differ else
              f"{name}: {differ} of {aligned} weights differ")
        out = logits(b_dir, ids)
        rel = ((out - ref).abs().max() / ref.abs().max()).item()
        print(f"{name}: transformers loads the round trip; weights = dequantized "
              f"(worst weight error {worst:.2e} of max |w|); logits within {rel:.2e}")
        # Half a step of the format at the top of a block / group, plus the
        # bf16 rounding of the result (2^-9): E4M3 steps are 32 in [256, 448],
        # so 16 / 448 of the block amax with exact scales and up to 16 / 256
        # with power-of-two scales (amax lands in (224, 448]); symmetric INT4
        # steps are amax / 7.5 (half: amax / 15), the scale itself rounded to
        # the weight dtype (2^-8 more at the clamped top).
        bound = {"fp8_f32": 16 / 448, "fp8_pow2": 16 / 256}.get(name, 1 / 15)
        bound = bound + 2**-8 + 2**-9
        if worst > bound:
            print(f"{name}: weight error {worst:.3e} exceeds {bound:.3e}")
            ok = False
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
