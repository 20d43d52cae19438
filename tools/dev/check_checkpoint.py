#!/usr/bin/env python3
"""Loads an `infir2 train` checkpoint in Hugging Face transformers and checks
that it gives the same logits as `infir2 logits` on it.

A developer-side check (needs torch and transformers from PyPI; CI runs the
same `infir2 logits` path on the checkpoint without them):

  python3 tools/dev/check_checkpoint.py runs/tiny-sft-bf16/checkpoints/step-124

1. AutoTokenizer and Qwen2ForCausalLM load the directory as saved
   (config.json, bf16 model.safetensors, generation_config.json, tokenizer);
2. the tokenizer's chat template renders a few conversations of the tiny
   dataset; `infir2 logits` runs on those token ids;
3. per sequence, max |logit - transformers logit| / max |transformers logit|
   must be <= 1e-4 in fp32 (and <= 2e-2 in bf16);
4. shows what the model learned: transformers' greedy answers to the first
   --generate GRPO prompts (arith_rl.jsonl) and how many box the label.
Exit code 0 when every check holds.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import load_file
from transformers import AutoTokenizer, Qwen2ForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--infir2", default=os.path.join(ROOT, "build/bin/infir2"))
    ap.add_argument("--data", default=os.path.join(ROOT, "recipes/tiny/data/arith_sft.jsonl"))
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--prompts", default=os.path.join(ROOT, "recipes/tiny/data/arith_rl.jsonl"))
    ap.add_argument("--generate", type=int, default=16)
    args = ap.parse_args()

    tok = AutoTokenizer.from_pretrained(args.checkpoint)
    convs = []
    with open(args.data) as f:
        for line in f:
            convs.append(json.loads(line)["messages"])
            if len(convs) == args.samples:
                break
    seqs = []
    for messages in convs:
        ids = tok.apply_chat_template(messages, tokenize=True)
        if isinstance(ids, dict) or hasattr(ids, "input_ids"):
            ids = ids["input_ids"]
        seqs.append(list(ids))

    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        tokens = os.path.join(tmp, "tokens.jsonl")
        with open(tokens, "w") as f:
            for s in seqs:
                f.write(json.dumps(s) + "\n")
        for precision, dtype, limit in (("fp32", torch.float32, 1e-4),
                                        ("bf16", torch.bfloat16, 2e-2)):
            out = os.path.join(tmp, f"{precision}.safetensors")
            subprocess.run([args.infir2, "logits", "--model", args.checkpoint,
                            "--input", tokens, "--output", out,
                            "--precision", precision], check=True)
            ours = load_file(out)
            model = Qwen2ForCausalLM.from_pretrained(
                args.checkpoint, dtype=dtype, attn_implementation="eager").eval()
            worst = 0.0
            with torch.no_grad():
                for i, s in enumerate(seqs):
                    ref = model(torch.tensor([s])).logits[0].float()
                    got = ours[f"logits.{i}"]
                    err = ((got - ref).abs().max() / ref.abs().max()).item()
                    worst = max(worst, err)
            status = "PASS" if worst <= limit else "FAIL"
            ok = ok and worst <= limit
            print(f"{precision}: {len(seqs)} sequences ({sum(map(len, seqs))} "
                  f"tokens), max |Δlogit| / max |logit| = {worst:.3e} "
                  f"(limit {limit:g}): {status}")

    # What the model learned: greedy answers (transformers) to GRPO prompts,
    # which the SFT data does not contain word for word.
    model = Qwen2ForCausalLM.from_pretrained(args.checkpoint, dtype=torch.float32).eval()
    right = 0
    with open(args.prompts) as f:
        prompts = [json.loads(line) for _, line in zip(range(args.generate), f)]
    for i, p in enumerate(prompts):
        text = tok.apply_chat_template(p["prompt"], tokenize=False,
                                       add_generation_prompt=True)
        ids = tok(text, return_tensors="pt").input_ids
        with torch.no_grad():
            gen = model.generate(ids, max_new_tokens=80, do_sample=False)
        answer = tok.decode(gen[0, ids.shape[1]:], skip_special_tokens=True)
        m = re.search(r"\\boxed\{([^}]*)\}", answer)
        right += bool(m and m.group(1).strip() == p["label"])
        if i == 0:
            print("prompt:", p["prompt"][-1]["content"])
            print("transformers greedy answer:", repr(answer))
    print(f"greedy \\boxed{{}} answers equal to the label: {right}/{len(prompts)}")
    print("check_checkpoint:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
