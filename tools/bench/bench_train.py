#!/usr/bin/env python3
"""Benchmark: `infir2 train` against a PyTorch + transformers training loop
on the CPU, on the tiny SFT recipe (recipes/tiny/sft_bf16.toml).

Both train the same 2-layer Qwen2 (recipes/tiny/model/config.json: hidden 64,
the real 151,936-token vocabulary, tied embeddings) from a random init on
the same dataset with the same hyper-parameters (global batch 32
conversations, AdamW lr 3e-3 with 5% warmup and cosine decay to 3e-4,
betas (0.9, 0.95), clip 1.0, per-token loss over the assistant turns), with --threads threads each, one after the other:

  infir2   `infir2 train` (BF16 weights and activations, FP32 master
           weights, moments, logits and loss; packed micro-batches of up to
           4,096 tokens) for --steps steps; the artifact is compiled by an
           untimed run first;
  torch    Qwen2ForCausalLM (attn_implementation "sdpa") with FP32 weights
           under torch.autocast("cpu", bfloat16) (PyTorch's mixed precision),
           torch.optim.AdamW (foreach), one padded batch of the same 32
           conversations per step (transformers has no packed-sequence path
           on the CPU without flash-attention).

Prints a table: seconds per optimizer step and real (non-padding) tokens/s
over steps 2..N (step 1 is warm-up), peak RSS of the process, and the loss
of the first and last step. A developer tool (needs PyPI torch +
transformers); not run by tools/test.sh.

usage: bench_train.py [--infir2 build/bin/infir2] [--steps 20] [--threads 2]
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECIPE = os.path.join(ROOT, "recipes/tiny/sft_bf16.toml")

TORCH_CHILD = r"""
import json, math, random, resource, sys, time
import torch
from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM
model_dir, tok_dir, data, steps, threads, gbs, out = sys.argv[1:8]
steps, threads, gbs = int(steps), int(threads), int(gbs)
torch.set_num_threads(threads)
torch.manual_seed(42)
cfg = Qwen2Config.from_pretrained(model_dir)
model = Qwen2ForCausalLM._from_config(cfg, attn_implementation="sdpa",
                                      dtype=torch.float32)
model.train()
tok = AutoTokenizer.from_pretrained(tok_dir)
convs = [json.loads(l)["messages"] for l in open(data)]
random.Random(42).shuffle(convs)
samples = []
for m in convs[: steps * gbs]:
    full = tok.apply_chat_template(m, tokenize=False)
    prompt = tok.apply_chat_template(m[:-1], tokenize=False,
                                     add_generation_prompt=True)
    ids = tok(full).input_ids
    n = len(tok(prompt).input_ids)
    samples.append((ids, n))
decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.0},
                         {"params": no_decay, "weight_decay": 0.0}],
                        lr=3e-3, betas=(0.9, 0.95), eps=1e-8, foreach=True)
pad = tok.pad_token_id if tok.pad_token_id is not None else 0
rows = []
for step in range(steps):
    batch = samples[step * gbs:(step + 1) * gbs]
    L = max(len(ids) for ids, _ in batch)
    ids = torch.full((gbs, L), pad, dtype=torch.long)
    att = torch.zeros((gbs, L), dtype=torch.long)
    labels = torch.full((gbs, L), -100, dtype=torch.long)
    real = 0
    for i, (s, n) in enumerate(batch):
        ids[i, :len(s)] = torch.tensor(s)
        att[i, :len(s)] = 1
        labels[i, n:len(s)] = torch.tensor(s[n:])
        real += len(s)
    start = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(input_ids=ids, attention_mask=att).logits
    lg = logits[:, :-1].float().reshape(-1, logits.shape[-1])
    tgt = labels[:, 1:].reshape(-1)
    loss = torch.nn.functional.cross_entropy(lg, tgt, ignore_index=-100,
                                             reduction="sum")
    count = (tgt != -100).sum()
    (loss / count).backward()
    gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    # The recipe's schedule (Megatron's): linear warmup over 5% of the
    # steps (lr 0 at step 1), cosine from 3e-3 to 3e-4.
    w = 0.05 * steps
    if w > 0 and step <= w:
        lr = 3e-3 * step / w
    else:
        lr = 3e-4 + (3e-3 - 3e-4) * 0.5 * (1 + math.cos(math.pi * (step - w) / (steps - w)))
    for g in opt.param_groups:
        g["lr"] = lr
    opt.step()
    opt.zero_grad(set_to_none=True)
    rows.append({"step": step + 1, "loss": (loss / count).item(),
                 "seconds": time.perf_counter() - start, "real_tokens": real,
                 "padded_tokens": gbs * L})
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
json.dump({"rows": rows, "rss_mib": rss}, open(out, "w"))
"""


def infir2_run(infir2, steps, threads, work):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads),
               INFIR2_NUM_THREADS=str(threads),
               INFIR2_CACHE_DIR=os.path.join(work, "cache"))
    common = [infir2, "train", RECIPE, "--set", f"train.train_steps={steps}",
              "--set", "checkpoint.save_interval=0", "--set",
              "checkpoint.save_epoch_end=false", "--set", "eval.interval=0"]
    # Untimed: compiles the artifact and fills the token cache.
    subprocess.run(common[:3] + ["--output-dir", os.path.join(work, "warm"),
                                 "--set", "train.train_steps=1"],
                   env=env, check=True, capture_output=True)
    out = os.path.join(work, "run")
    child = ("import resource, subprocess, sys\n"
             "subprocess.run(sys.argv[1:], check=True,"
             " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss"
             " / 1024)\n")
    r = subprocess.run([sys.executable, "-c", child] + common +
                       ["--output-dir", out], env=env, check=True,
                       capture_output=True, text=True)
    rss = float(r.stdout.strip())
    rows = [json.loads(l) for l in open(os.path.join(out, "metrics.jsonl"))]
    prev = 0.0
    for row in rows:
        row["seconds"] = row["elapsed_s"] - prev
        prev = row["elapsed_s"]
    return rows, rss


def torch_run(steps, threads, work):
    out = os.path.join(work, "torch.json")
    subprocess.run([sys.executable, "-c", TORCH_CHILD,
                    os.path.join(ROOT, "recipes/tiny/model"),
                    os.path.join(ROOT, "test/data/qwen2.5-tokenizer"),
                    os.path.join(ROOT, "recipes/tiny/data/arith_sft.jsonl"),
                    str(steps), str(threads), "32", out], check=True)
    r = json.load(open(out))
    return r["rows"], r["rss_mib"]


def summary(rows):
    timed = rows[1:]
    s = sum(r["seconds"] for r in timed)
    tok = sum(r["real_tokens"] for r in timed)
    return s / len(timed), tok / s


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--infir2", default=os.path.join(ROOT, "build/bin/infir2"))
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    import torch
    import transformers
    work = tempfile.mkdtemp(prefix="infir2-bench-train-")
    try:
        results = {"infir2": infir2_run(args.infir2, args.steps, args.threads, work),
                   "torch": torch_run(args.steps, args.threads, work)}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"tiny SFT (recipes/tiny/sft_bf16.toml), {args.steps} steps of 32 "
          f"conversations, {args.threads} threads, {platform.processor() or platform.machine()}; "
          f"torch {torch.__version__}, transformers {transformers.__version__}")
    print(f"| {'implementation':<34} | s/step | real tokens/s | peak RSS MiB | "
          f"loss step 1 | loss step {args.steps} |")
    print("| --- | --- | --- | --- | --- | --- |")
    names = {"infir2": "infir2 train (bf16, packed)",
             "torch": "PyTorch autocast bf16 (padded)"}
    base = None
    for key in ("infir2", "torch"):
        rows, rss = results[key]
        sps, tps = summary(rows)
        base = base or tps
        print(f"| {names[key]:<34} | {sps:6.2f} | {tps:13.0f} | {rss:12.0f} | "
              f"{rows[0]['loss']:11.4f} | {rows[-1]['loss']:11.4f} |")
    i = summary(results["infir2"][0])[1]
    t = summary(results["torch"][0])[1]
    print(f"infir2 / PyTorch tokens/s: {i / t:.2f}x")


if __name__ == "__main__":
    main()
