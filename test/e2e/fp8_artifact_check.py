#!/usr/bin/env python3
"""Counts the GEMMs of an infir2 artifact by kind and checks them.

  fp8_artifact_check.py MANIFEST MODEL_DIR

For a Qwen2 model (MODEL_DIR/config.json) compiled with --precision fp8
--gradients: in `forward`, one FP8 GEMM per linear of each decoder layer
and the LM head in bf16 (one graph.linear); q/k/v and gate/up are one
linear each when graph-merge-linears merged them, which it does for FP8
exactly when every part's out_features is a multiple of 128; in
`forward_grad`, 3 per linear (forward, dgrad, wgrad) and the LM head's
forward + 2 gradient GEMMs in bf16; one fp8.quantize per weight, per
distinct activation (4 per layer: QKV, O, gate/up and down inputs) and per
output gradient. Every quantize that feeds a wgrad carries the transposed
copy.
"""
import json
import os
import sys

manifest, model = sys.argv[1], sys.argv[2]
c = json.load(open(os.path.join(model, "config.json")))
layers = c["num_hidden_layers"]
head_dim = c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]
qkv = [c["num_attention_heads"] * head_dim,
       c["num_key_value_heads"] * head_dim, c["num_key_value_heads"] * head_dim]
qkv_gemms = 1 if all(n % 128 == 0 for n in qkv) else 3
mlp_gemms = 1 if c["intermediate_size"] % 128 == 0 else 2
per_layer = qkv_gemms + 1 + mlp_gemms + 1
m = json.load(open(manifest))
assert m["precision"] == "fp8", m["precision"]
eps = {e["name"]: e["steps"] for e in m["entry_points"]}


def count(steps, op):
    return sum(s["op"] == op for s in steps)


def check(name, got, want):
    if got != want:
        print(f"fp8_artifact_check: {name}: {got}, expected {want}: FAIL")
        sys.exit(1)


f, g = eps["forward"], eps["forward_grad"]
check("forward fp8.scaled_matmul", count(f, "fp8.scaled_matmul"),
      per_layer * layers)
check("forward graph.linear (LM head)", count(f, "graph.linear"), 1)
check("forward fp8.quantize", count(f, "fp8.quantize"),
      per_layer * layers + 4 * layers)
check("forward_grad fp8.scaled_matmul", count(g, "fp8.scaled_matmul"),
      3 * per_layer * layers)
check("forward_grad graph.linear + matmul (LM head)",
      count(g, "graph.linear") + count(g, "graph.matmul"), 3)
quant = [s for s in g if s["op"] == "fp8.quantize"]
check("forward_grad fp8.quantize", len(quant),
      per_layer * layers + 4 * layers + per_layer * layers)
roles = {}
for s in quant:
    roles.setdefault(s["attrs"]["role"], []).append(len(s["results"]))
check("weight quantizes with a transposed copy",
      sum(n == 4 for n in roles["weight"]), 0)
check("activation quantizes with a transposed copy",
      sum(n == 4 for n in roles["activation"]), 4 * layers)
check("gradient quantizes with a transposed copy",
      sum(n == 4 for n in roles["gradient"]), per_layer * layers)
for s in quant:
    assert s["attrs"]["scale_rule"] == "pow2_f32", s["attrs"]
print(f"fp8_artifact_check: {layers} layers: forward {per_layer * layers} "
      f"FP8 GEMMs, forward_grad {3 * per_layer * layers} FP8 GEMMs, "
      f"{len(quant)} quantizes: PASS")
