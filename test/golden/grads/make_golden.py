#!/usr/bin/env python3
"""Writes PyTorch autograd's gradients for the tiny Qwen2 golden checkpoints.

The reference for `infir2 grads` (graph-autodiff + the CPU gradient kernels;
test/tools/grads_golden.test): transformers' Qwen2ForCausalLM in float32
with eager attention, differentiated by torch.autograd.

For each checkpoint of test/golden/qwen2/<name>/ and its tokens.jsonl, the
loss is the mean next-token NLL over every predicted token of every
sequence (each sequence run on its own, as `infir2 grads` packs them with
attention kept inside each sequence). Writes <name>.safetensors here with:
  loss            the mean NLL (a scalar, f32)
  grad.<name>     d loss / d parameter (f32) for every parameter of the HF
                  model (a tied embedding gets the sum of both uses).

Regenerate (PyPI packages; CPU is enough):
  python3 -m pip install torch transformers safetensors
  python3 test/golden/grads/make_golden.py
"""

import json
import os

import torch
import transformers
from safetensors.torch import save_file
from transformers import Qwen2ForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "qwen2")
NAMES = ["tied_hd64_r7", "untied_hd128_r6"]


# Every ROW_STRIDE-th row of each 2-D gradient is kept (all columns, every
# tensor): a quarter of the bytes, the file stays small; grads_check reads
# the stride from the metadata and samples infir2's gradients the same way.
ROW_STRIDE = 4


def sample(g):
    return (g[::ROW_STRIDE] if g.dim() == 2 else g).contiguous()


def main():
    torch.use_deterministic_algorithms(True)
    for name in NAMES:
        d = os.path.join(MODELS, name)
        model = Qwen2ForCausalLM.from_pretrained(
            d, dtype=torch.float32, attn_implementation="eager")
        model.train(False)  # no dropout (Qwen2 has none anyway)
        with open(os.path.join(d, "tokens.jsonl")) as f:
            seqs = [json.loads(line) for line in f if line.strip()]
        total = torch.zeros((), dtype=torch.float64)
        count = 0
        for s in seqs:
            ids = torch.tensor([s])
            logits = model(ids).logits[0].float()
            logp = torch.log_softmax(logits, dim=-1)
            nll = -logp[:-1].gather(1, ids[0, 1:, None])[:, 0]
            total = total + nll.sum()
            count += len(s) - 1
        loss = (total / count).float()
        loss.backward()
        out = {"loss": loss.detach().contiguous()}
        for pname, p in model.named_parameters():
            out[f"grad.{pname}"] = sample(p.grad.detach().float())
        path = os.path.join(HERE, f"{name}.safetensors")
        save_file(out, path,
                  metadata={"generator": "test/golden/grads/make_golden.py",
                            "row_stride": str(ROW_STRIDE),
                            "torch": torch.__version__,
                            "transformers": transformers.__version__})
        print(f"wrote {path}: loss {loss.item():.6f}, {len(out) - 1} "
              f"gradients, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
