#!/usr/bin/env python3
"""Float64 reference gradients of the tiny Qwen2 golden checkpoints with the
InfiR2 FP8 recipe on the decoder layers' linears.

The reference for `infir2 grads --precision fp8-fp32` (fp8-annotate,
graph-autodiff, fp8-lower and the CPU fp8 kernels on an f32 model):
transformers' Qwen2ForCausalLM in float64 (eager attention) whose q/k/v/o,
gate/up/down projections run this file's FP8 linear instead of nn.Linear:

  forward  y  = Q(x; 1x128) Q(W; 128x128)^T + b
  dgrad    dx = Q(dy; 1x128) Q(W; 128x128)
  wgrad    dW = Q(dy^T; 1x128) Q(x^T; 1x128)^T   (both along the tokens,
                quantized from the high-precision tensors)
  db = sum of dy over the tokens (high precision)

Q is TransformerEngine's Float8BlockScaling rule as docs/numerics.md states
it: per tile, amax in f32, s = 448 / amax in f32 (amax 0 or inf: s = 1;
overflow: FLT_MAX), s rounded down to a power of two, q = the E4M3 value
nearest to x * s (saturated to +-448), dequantized as q / s. Products and
sums are float64; the embedding, the LM head, norms, attention and the loss
stay float64 (transformers' eager attention takes its softmax in f32). The
loss is the mean next-token NLL over all sequences of tokens.jsonl, packed
into one row as infir2 packs them; the backward starts from the NLL
sum and the gradients are divided by the token count afterwards, as infir2
does. Writes <name>.fp8.safetensors here: `loss` and `grad.<name>` (f32).

Regenerate (PyPI: torch, transformers, safetensors, ml_dtypes; CPU is enough):
  python3 test/golden/grads/make_golden_fp8.py
"""

import json
import os

import ml_dtypes
import numpy as np
import torch
import transformers
from safetensors.torch import save_file
from transformers import Qwen2ForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "qwen2")
NAMES = ["tied_hd64_r7", "untied_hd128_r6"]
FP8_MAX = 448.0
COVERED = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
           "down_proj")
# FP8 rounding ties. Where x*s lies within TIE_MARGIN (about 4 f32 ulps of a
# tile's amax) of the midpoint of two E4M3 values, f32 roundoff decides the
# code, and in the backward of layer 1 one such code moves every layer-0
# gradient by up to 2e-2 (hundreds of layer-0 codes follow it). PINS gives
# these elements the code infir2's f32 arithmetic picks; only a genuine tie
# may be pinned (asserted), so a pin never hides a wrong tile or scale.
TIE_MARGIN = FP8_MAX * 2.0 ** -20
PINS = {"untied_hd128_r6": {  # (module, "dgrad", token, feature): code
    ("model.layers.1.self_attn.k_proj", "dgrad", 37, 67): -160.0,
    ("model.layers.1.self_attn.q_proj", "dgrad", 9, 31): -0.40625,
    ("model.layers.1.self_attn.q_proj", "dgrad", 2, 722): -40.0}}
ACTIVE_PINS = {}


def quantize(x, tile_rows, tile_cols, site=None):
    """x (float64 [R, C]) through FP8 and back, tile by tile (TE rule)."""
    r, c = x.shape
    out = torch.empty_like(x)
    # The tensor as the f32 activations the recipe quantizes (infir2's
    # fp8-fp32 model keeps its activations in f32).
    xn = x.detach().numpy().astype(np.float32).astype(np.float64)
    on = out.numpy()
    for i in range(0, r, tile_rows):
        for j in range(0, c, tile_cols):
            t = xn[i:i + tile_rows, j:j + tile_cols]
            amax = np.float32(np.abs(t).max()) if t.size else np.float32(0)
            if amax == 0 or not np.isfinite(amax):
                s = np.float32(1)
            else:
                with np.errstate(over="ignore"):
                    s = np.float32(FP8_MAX) / amax
                if not np.isfinite(s):
                    s = np.float32(np.finfo(np.float32).max)
                s = np.float32(2.0 ** np.floor(np.log2(np.float64(s))))
            scaled = np.clip(t * np.float64(s), -FP8_MAX, FP8_MAX)
            q = scaled.astype(ml_dtypes.float8_e4m3fn).astype(np.float64)
            for (m, kind, r0, c0), code in ACTIVE_PINS.items():
                if (m, kind) != site or not (i <= r0 < i + tile_rows and
                                             j <= c0 < j + tile_cols):
                    continue
                v = scaled[r0 - i, c0 - j]
                lo, hi = sorted((q[r0 - i, c0 - j], code))
                assert abs(v - (lo + hi) / 2) <= TIE_MARGIN and lo < v < hi, \
                    (m, kind, r0, c0, v, code)
                q[r0 - i, c0 - j] = code
            on[i:i + tile_rows, j:j + tile_cols] = q / np.float64(s)
    return out


class Fp8Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x2, w, b, name):
        ctx.save_for_backward(x2, w)
        ctx.name = name
        ctx.has_bias = b is not None
        y = quantize(x2, 1, 128) @ quantize(w, 128, 128).T
        return y + b if b is not None else y

    @staticmethod
    def backward(ctx, dy):
        x2, w = ctx.saved_tensors
        dx = quantize(dy, 1, 128, (ctx.name, "dgrad")) @ quantize(w, 128, 128)
        dw = quantize(dy.T.contiguous(), 1, 128) @ \
            quantize(x2.T.contiguous(), 1, 128).T
        db = dy.sum(0) if ctx.has_bias else None
        return dx, dw, db, None


def fp8_forward(linear, name):
    def forward(x):
        shape = x.shape
        y = Fp8Linear.apply(x.reshape(-1, shape[-1]), linear.weight,
                            linear.bias, name)
        return y.reshape(*shape[:-1], y.shape[-1])
    return forward


# Every ROW_STRIDE-th row of each 2-D gradient is kept (all columns, every
# tensor): a quarter of the bytes, the file stays small; grads_check reads
# the stride from the metadata and samples infir2's gradients the same way.
ROW_STRIDE = 4


def sample(g):
    return (g[::ROW_STRIDE] if g.dim() == 2 else g).contiguous()


def main():
    torch.use_deterministic_algorithms(True)
    for name in NAMES:
        ACTIVE_PINS.clear()
        ACTIVE_PINS.update(PINS.get(name, {}))
        d = os.path.join(MODELS, name)
        model = Qwen2ForCausalLM.from_pretrained(
            d, dtype=torch.float64, attn_implementation="eager")
        model.train(False)
        for module_name, module in model.named_modules():
            if module_name.startswith("model.layers.") and \
                    module_name.split(".")[-1] in COVERED:
                module.forward = fp8_forward(module, module_name)
        with open(os.path.join(d, "tokens.jsonl")) as f:
            seqs = [json.loads(line) for line in f if line.strip()]
        # All sequences packed into one row, as `infir2 grads` packs them:
        # positions restart per sequence and a block-diagonal causal mask
        # keeps attention inside each sequence. Packing matters here: the
        # wgrad's 1x128 tiles run along the tokens of all sequences.
        ids = torch.tensor([sum(seqs, [])])
        pos = torch.tensor([sum([list(range(len(s))) for s in seqs], [])])
        t = ids.shape[1]
        mask = torch.full((t, t), float("-inf"), dtype=torch.float64)
        start = 0
        for s in seqs:
            n = len(s)
            mask[start:start + n, start:start + n] = torch.triu(
                torch.full((n, n), float("-inf"), dtype=torch.float64), 1)
            start += n
        logp = torch.log_softmax(
            model(ids, position_ids=pos, attention_mask=mask[None, None])
            .logits[0], dim=-1)
        total = torch.zeros((), dtype=torch.float64)
        count = 0
        start = 0
        for s in seqs:
            n = len(s)
            target = ids[0, start + 1:start + n, None]
            total = total - logp[start:start + n - 1].gather(1, target)[:, 0].sum()
            count += n - 1
            start += n
        # Backward from the NLL sum, then / count: the gradients FP8 sees are
        # those of the summed loss (as in training, where the division by the
        # global token count comes after all micro-batches); scaling them by
        # a count that is not a power of two would change their FP8 rounding.
        total.backward()
        loss = total / count
        out = {"loss": loss.detach().float().contiguous()}
        for pname, p in model.named_parameters():
            out[f"grad.{pname}"] = sample((p.grad.detach() / count).float())
        path = os.path.join(HERE, f"{name}.fp8.safetensors")
        save_file(out, path,
                  metadata={"generator": "test/golden/grads/make_golden_fp8.py",
                            "row_stride": str(ROW_STRIDE),
                            "torch": torch.__version__,
                            "transformers": transformers.__version__,
                            "ml_dtypes": ml_dtypes.__version__})
        print(f"wrote {path}: loss {loss.item():.6f}, {len(out) - 1} "
              f"gradients, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
