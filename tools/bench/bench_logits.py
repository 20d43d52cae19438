#!/usr/bin/env python3
"""Benchmark: `infir2 logits` against Hugging Face transformers on the CPU.

Builds a random Qwen2.5-0.5B-shaped checkpoint (vocab 151936, hidden 896,
24 layers, 14 heads / 2 kv heads, head_dim 64, tied; seeded) once under
--workdir, then for each precision runs, in separate processes so that peak
memory is per implementation:

  infir2     `infir2 logits` on all sequences packed into one micro-batch
             (the artifact is compiled by a first, untimed run);
  transformers  Qwen2ForCausalLM (attn_implementation "sdpa"), one forward
             per sequence (transformers has no packed-sequence path on the
             CPU), torch.set_num_threads(--threads), under torch.no_grad().

and prints a table: forward seconds (best of --repeats), tokens/s, peak RSS
(the whole process: model load included) and the largest logit differences,
to the other implementation at the same precision and to transformers in
fp32 (the accuracy of each bf16 path). A developer tool (needs
PyPI torch + transformers + safetensors); not run by tools/test.sh.

usage: bench_logits.py [--infir2 build/bin/infir2] [--workdir /tmp/infir2-bench]
                       [--layers 24] [--lengths 512,512] [--repeats 3]
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time

HF_CHILD = r"""
import json, resource, sys, time
import torch
from transformers import Qwen2ForCausalLM
from safetensors.torch import save_file
model_dir, tokens, precision, repeats, threads, out = sys.argv[1:7]
torch.set_num_threads(int(threads))
dtype = torch.float32 if precision == "fp32" else torch.bfloat16
m = Qwen2ForCausalLM.from_pretrained(model_dir, dtype=dtype,
                                     attn_implementation="sdpa").eval()
seqs = [json.loads(l) for l in open(tokens) if l.strip()]
best = float("inf")
with torch.no_grad():
    for _ in range(int(repeats)):
        start = time.perf_counter()
        logits = [m(torch.tensor([s])).logits[0].float() for s in seqs]
        best = min(best, time.perf_counter() - start)
save_file({f"logits.{i}": l.contiguous() for i, l in enumerate(logits)}, out)
print(json.dumps({"seconds": best,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def make_model(workdir, layers):
    model_dir = os.path.join(workdir, f"qwen2.5-0.5b-shape-{layers}l")
    if os.path.exists(os.path.join(model_dir, "config.json")):
        return model_dir
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=151936, hidden_size=896, intermediate_size=4864,
        num_hidden_layers=layers, num_attention_heads=14,
        num_key_value_heads=2, max_position_embeddings=32768,
        rope_theta=1e6, rms_norm_eps=1e-6, tie_word_embeddings=True)
    model = Qwen2ForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(model_dir)
    return model_dir


def run_infir2(args, model_dir, tokens, precision, out):
    env = dict(os.environ, INFIR2_CACHE_DIR=os.path.join(args.workdir, "cache"))
    cmd = [args.infir2, "logits", "--model", model_dir, "--input", tokens,
           "--output", out, "--precision", precision]
    subprocess.run(cmd, env=env, check=True, capture_output=True)  # compile
    best, rss = float("inf"), 0
    for _ in range(args.repeats):
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        text = proc.stdout.read()
        if status != 0:
            sys.exit(f"infir2 failed: {proc.stderr.read()}")
        best = min(best, float(re.search(r"forward ([0-9.]+) s", text).group(1)))
        rss = max(rss, usage.ru_maxrss)
    return best, rss


def run_hf(args, model_dir, tokens, precision, out):
    proc = subprocess.Popen(
        [sys.executable, "-c", HF_CHILD, model_dir, tokens, precision,
         str(args.repeats), str(args.threads), out],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        sys.exit(f"transformers failed: {proc.stderr.read()}")
    result = json.loads(proc.stdout.read().strip().splitlines()[-1])
    return result["seconds"], usage.ru_maxrss


def max_diff(a_path, b_path):
    from safetensors.numpy import load_file
    import numpy as np
    a, b = load_file(a_path), load_file(b_path)
    diff = scale = 0.0
    for k in b:
        if k.startswith("logits."):
            diff = max(diff, float(np.abs(a[k] - b[k]).max()))
            scale = max(scale, float(np.abs(b[k]).max()))
    return diff, scale


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--infir2", default="build/bin/infir2")
    p.add_argument("--workdir", default="/tmp/infir2-bench")
    p.add_argument("--layers", type=int, default=24)
    p.add_argument("--lengths", default="512,512")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--precisions", default="fp32,bf16")
    args = p.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    model_dir = make_model(args.workdir, args.layers)
    lengths = [int(n) for n in args.lengths.split(",")]
    tokens = os.path.join(args.workdir, "tokens.jsonl")
    import random
    rng = random.Random(1)
    with open(tokens, "w") as f:
        for n in lengths:
            f.write(json.dumps([rng.randrange(151643) for _ in range(n)]) + "\n")
    total = sum(lengths)

    rows = []
    for precision in args.precisions.split(","):
        ours = os.path.join(args.workdir, f"infir2.{precision}.safetensors")
        theirs = os.path.join(args.workdir, f"hf.{precision}.safetensors")
        s_ours, rss_ours = run_infir2(args, model_dir, tokens, precision, ours)
        s_hf, rss_hf = run_hf(args, model_dir, tokens, precision, theirs)
        diff, scale = max_diff(ours, theirs)
        ref = os.path.join(args.workdir, "hf.fp32.safetensors")
        vs32 = lambda path: (lambda d, m: d / m)(*max_diff(path, ref)) \
            if os.path.exists(ref) else None
        rows.append((precision, "infir2 logits (packed)", s_ours, rss_ours,
                     diff / scale, vs32(ours)))
        rows.append((precision, "transformers (per sequence)", s_hf, rss_hf,
                     None, vs32(theirs)))

    print(f"# Qwen2.5-0.5B shape, {args.layers} layers, sequences {lengths} "
          f"({total} tokens), best of {args.repeats}, {args.threads} threads, "
          f"{platform.processor() or platform.machine()}")
    print("| precision | implementation | forward s | tokens/s | peak RSS MiB "
          "| max Δlogit vs transformers, same precision | max Δlogit vs "
          "transformers fp32 |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    fmt = lambda v: "" if v is None else f"{v:.2e}"
    for precision, impl, s, rss, rel, rel32 in rows:
        print(f"| {precision} | {impl} | {s:.3f} | {total / s:.0f} | "
              f"{rss / 1024:.0f} | {fmt(rel)} | {fmt(rel32)} |")
    print("(Δlogit columns: max |difference| / max |reference logit|)")


if __name__ == "__main__":
    main()
