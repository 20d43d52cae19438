#!/usr/bin/env python3
"""The PyTorch peer of `infir2 bench`: one full training step (forward,
backward, AdamW) of transformers' Qwen2ForCausalLM on random weights.

What it runs, so that the comparison is with what users of the field run:
  - Qwen2ForCausalLM(config) from transformers, attn_implementation "sdpa"
    (FlashAttention-2 kernels inside PyTorch on Hopper), random init;
  - PyTorch's mixed precision: f32 parameters, torch.autocast(bfloat16),
    f32 gradients, torch.optim.AdamW(fused=True on CUDA) — the f32 master
    weights and moments infir2 keeps too;
  - the batch: --tokens tokens as --tokens / --seq-len sequences of
    --seq-len random token ids (InfiR2's "8k, MBS=2" row: 16,384 tokens as
    two 8,192-token sequences), causal attention within each sequence;
  - --compile wraps the model in torch.compile; if compiling fails the run
    says so and continues eagerly (the table names the mode it used).

Prints one table row per measured quantity: forward ms, backward ms,
optimizer ms, total ms per step (medians over --steps after --warmup),
peak device memory (torch.cuda.max_memory_allocated), and model TFLOP/s:

    6 * P * tokens + attention
    P          = parameters that multiply activations: the decoder layers
                 and lm_head (the embedding lookup is not a GEMM; a tied
                 lm_head counts once, as the GEMM it is)
    attention  = 6 * layers * heads * head_dim * sum_i s_i^2
                 (QK^T and PV, 2 flops per multiply-add, causal halves it,
                 x3 for forward + backward)

--json FILE writes the same numbers for docs/benchmarks.md. A developer
tool (needs PyPI torch + transformers); not run by tools/test.sh. On a
machine without a GPU --device cpu runs it (for checking the script).

usage: bench_step_torch.py --config CONFIG.json [--tokens 16384]
       [--seq-len 8192] [--layers N] [--steps 10] [--warmup 3] [--compile]
       [--device cuda|cpu] [--json FILE]
"""

import argparse
import json
import statistics
import sys
import time


def model_flops(cfg: dict, seq_lens: list) -> float:
    """The model FLOPs of one training step (see the module docstring)."""
    h = cfg["hidden_size"]
    layers = cfg["num_hidden_layers"]
    heads = cfg["num_attention_heads"]
    kv = cfg.get("num_key_value_heads", heads)
    d = cfg.get("head_dim") or h // heads
    inter = cfg["intermediate_size"]
    vocab = cfg["vocab_size"]
    per_layer = (h * heads * d + heads * d  # q_proj (+ bias)
                 + 2 * (h * kv * d + kv * d)  # k_proj, v_proj (+ biases)
                 + heads * d * h  # o_proj
                 + 3 * h * inter)  # gate, up, down
    params = layers * per_layer + vocab * h  # + lm_head
    tokens = sum(seq_lens)
    attention = 6 * layers * heads * d * sum(s * s for s in seq_lens)
    return 6 * params * tokens + attention


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--tokens", type=int, default=16384)
    ap.add_argument("--seq-len", type=int, default=8192)
    ap.add_argument("--layers", type=int, default=0,
                    help="keep the first N decoder layers (a subset that fits)")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    if args.tokens % args.seq_len:
        print(f"--tokens {args.tokens} is not a multiple of --seq-len "
              f"{args.seq_len}", file=sys.stderr)
        return 2

    import torch
    import transformers

    with open(args.config) as f:
        cfg = json.load(f)
    if args.layers:
        cfg["num_hidden_layers"] = args.layers
        cfg["max_window_layers"] = min(cfg.get("max_window_layers", 0),
                                       args.layers)
    cfg["max_position_embeddings"] = max(cfg.get("max_position_embeddings", 0),
                                         args.seq_len)
    config = transformers.Qwen2Config(**{k: v for k, v in cfg.items()
                                         if k not in ("architectures",)})
    config._attn_implementation = "sdpa"
    config.use_cache = False
    dev = torch.device(args.device)
    cuda = dev.type == "cuda"
    torch.manual_seed(0)
    model = transformers.Qwen2ForCausalLM(config).to(dev, torch.float32)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, betas=(0.9, 0.95),
                            weight_decay=0.1, fused=cuda)
    batch = args.tokens // args.seq_len
    ids = torch.randint(0, cfg["vocab_size"], (batch, args.seq_len),
                        device=dev)
    mode = "eager"
    step_model = model
    if args.compile:
        # torch.compile compiles on the first call: try one step here.
        try:
            compiled = torch.compile(model)
            with torch.autocast(dev.type, dtype=torch.bfloat16):
                compiled(input_ids=ids, labels=ids).loss.backward()
            model.zero_grad(set_to_none=True)
            step_model = compiled
            mode = "torch.compile"
        except Exception as e:  # the table says which mode ran
            model.zero_grad(set_to_none=True)
            print(f"torch.compile failed ({type(e).__name__}: {e}); "
                  "running eagerly", file=sys.stderr)

    def sync():
        if cuda:
            torch.cuda.synchronize()

    times = {"forward": [], "backward": [], "optimizer": [], "total": []}
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    for step in range(args.warmup + args.steps):
        sync()
        t0 = time.perf_counter()
        with torch.autocast(dev.type, dtype=torch.bfloat16):
            loss = step_model(input_ids=ids, labels=ids).loss
        sync()
        t1 = time.perf_counter()
        loss.backward()
        sync()
        t2 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        sync()
        t3 = time.perf_counter()
        if not torch.isfinite(loss):
            print(f"step {step}: loss is {loss.item()}", file=sys.stderr)
            return 1
        if step >= args.warmup:
            times["forward"].append((t1 - t0) * 1e3)
            times["backward"].append((t2 - t1) * 1e3)
            times["optimizer"].append((t3 - t2) * 1e3)
            times["total"].append((t3 - t0) * 1e3)
    med = {k: statistics.median(v) for k, v in times.items()}
    peak = torch.cuda.max_memory_allocated() if cuda else 0
    flops = model_flops(cfg, [args.seq_len] * batch)
    result = {
        "peer": f"torch {torch.__version__} + transformers "
                f"{transformers.__version__} ({mode}, sdpa, autocast bf16, "
                f"AdamW{' fused' if cuda else ''})",
        "device": torch.cuda.get_device_name() if cuda else "cpu",
        "config": args.config, "layers": cfg["num_hidden_layers"],
        "tokens": args.tokens, "seq_len": args.seq_len,
        "forward_ms": med["forward"], "backward_ms": med["backward"],
        "optimizer_ms": med["optimizer"], "total_ms": med["total"],
        "peak_memory_gb": peak / 1e9, "model_tflops": flops / 1e12,
        "tflops_per_s": flops / (med["total"] / 1e3) / 1e12,
        "final_loss": loss.item(),
    }
    print(f"{'peer':<12}{result['peer']}")
    print(f"{'device':<12}{result['device']}")
    print(f"{'model':<12}{args.config} ({result['layers']} layers), "
          f"{args.tokens} tokens as {batch} x {args.seq_len}")
    for k in ("forward_ms", "backward_ms", "optimizer_ms", "total_ms"):
        print(f"{k:<16}{result[k]:10.1f}")
    print(f"{'peak memory':<16}{result['peak_memory_gb']:10.2f} GB")
    print(f"{'model TFLOP':<16}{result['model_tflops']:10.2f}")
    print(f"{'TFLOP/s':<16}{result['tflops_per_s']:10.1f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
