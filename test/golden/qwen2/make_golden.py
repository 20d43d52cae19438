#!/usr/bin/env python3
"""Writes tiny Qwen2 checkpoints and Hugging Face transformers' logits for them.

The reference for infir2's Qwen2.5 forward pass (tests in
test/unit/compiler/qwen2_model_test.cpp and test/tools/): transformers'
Qwen2ForCausalLM, run by PyTorch on the CPU.

For each configuration it writes, under test/golden/qwen2/<name>/:
  config.json, model.safetensors (or shards + model.safetensors.index.json)
      - a seeded random model saved with save_pretrained in bfloat16;
  tokens.jsonl   - one JSON array of token ids per line (the sequences);
  expected_fp32.safetensors, expected_bf16.safetensors
      - logits.<i> [len_i, vocab] f32 and nll.<i> [len_i - 1] f32
        (-log p(token[t+1] | tokens <= t)) of sequence i, each sequence run
        on its own, with the checkpoint loaded in float32 and in bfloat16.

Configurations (small vocab and width so the files stay small):
  tied_hd64_r7   tied embeddings, head_dim 64, 7 query heads per kv head
                 (Qwen2.5-0.5B-like), rope_theta 1e6
  untied_hd128_r6  untied embeddings, head_dim 128, 6 query heads per kv
                 head (Qwen2.5-7B/1.5B-like), rope_theta 1e4, saved in
                 shards (exercises model.safetensors.index.json)

Regenerate (PyPI packages; CPU is enough):
  python3 -m pip install torch transformers safetensors
  python3 test/golden/qwen2/make_golden.py
"""

import json
import os
import shutil

import torch
import transformers
from safetensors.torch import save_file
from transformers import Qwen2Config, Qwen2ForCausalLM

OUT = os.path.dirname(os.path.abspath(__file__))

CONFIGS = {
    "tied_hd64_r7": dict(
        vocab_size=512, hidden_size=128, intermediate_size=256,
        num_hidden_layers=2, num_attention_heads=7, num_key_value_heads=1,
        head_dim=64, tie_word_embeddings=True, rope_theta=1e6,
        rms_norm_eps=1e-6, max_position_embeddings=128),
    "untied_hd128_r6": dict(
        vocab_size=512, hidden_size=128, intermediate_size=192,
        num_hidden_layers=2, num_attention_heads=6, num_key_value_heads=1,
        head_dim=128, tie_word_embeddings=False, rope_theta=1e4,
        rms_norm_eps=1e-6, max_position_embeddings=128),
}
SHARD = {"untied_hd128_r6": "600KB"}
LENGTHS = [5, 11, 23]


def make_model(name, cfg_kwargs, seed):
    torch.manual_seed(seed)
    config = Qwen2Config(initializer_range=0.08, **cfg_kwargs)
    model = Qwen2ForCausalLM(config).eval()
    # transformers initializes biases to 0 and norm weights to 1; make them
    # random so the bias and norm paths are exercised.
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if pname.endswith(".bias"):
                p.normal_(0.0, 0.1)
            elif "norm" in pname:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
    return model


def nll_of(logits, tokens):
    logp = torch.log_softmax(logits.float(), dim=-1)
    nxt = torch.tensor(tokens[1:])
    return -logp[:-1].gather(1, nxt[:, None])[:, 0]


def main():
    for seed, (name, kwargs) in enumerate(CONFIGS.items()):
        d = os.path.join(OUT, name)
        shutil.rmtree(d, ignore_errors=True)
        model = make_model(name, kwargs, seed)
        model.to(torch.bfloat16).save_pretrained(
            d, max_shard_size=SHARD.get(name, "50MB"))
        os.remove(os.path.join(d, "generation_config.json"))

        gen = torch.Generator().manual_seed(100 + seed)
        seqs = [torch.randint(0, kwargs["vocab_size"], (n,), generator=gen).tolist()
                for n in LENGTHS]
        with open(os.path.join(d, "tokens.jsonl"), "w") as f:
            for s in seqs:
                f.write(json.dumps(s) + "\n")

        for precision, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
            m = Qwen2ForCausalLM.from_pretrained(
                d, dtype=dtype, attn_implementation="eager").eval()
            out = {}
            with torch.no_grad():
                for i, s in enumerate(seqs):
                    logits = m(torch.tensor([s])).logits[0].float()
                    out[f"logits.{i}"] = logits.contiguous()
                    out[f"nll.{i}"] = nll_of(logits, s).contiguous()
            save_file(out, os.path.join(d, f"expected_{precision}.safetensors"),
                      metadata={"generator": "test/golden/qwen2/make_golden.py",
                                "torch": torch.__version__,
                                "transformers": transformers.__version__})
        size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
        print(f"wrote {d} ({size} bytes)")


if __name__ == "__main__":
    main()
