#!/usr/bin/env python3
"""Counts the GEMMs of an infir2 artifact by kind and checks them.

  fp8_artifact_check.py MANIFEST LAYERS

For a Qwen2 model of LAYERS decoder layers compiled with --precision fp8
--gradients: in `forward`, 7 FP8 GEMMs per layer (q, k, v, o, gate, up,
down) and the LM head in bf16 (one graph.linear); in `forward_grad`, 3 per
linear (forward, dgrad, wgrad) and the LM head's forward + 2 gradient
GEMMs in bf16; one fp8.quantize per weight, per distinct activation
(4 per layer: QKV, O, gate/up and down inputs) and per output gradient.
Every quantize that feeds a wgrad carries the transposed copy.
"""
import json
import sys

manifest, layers = sys.argv[1], int(sys.argv[2])
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
check("forward fp8.scaled_matmul", count(f, "fp8.scaled_matmul"), 7 * layers)
check("forward graph.linear (LM head)", count(f, "graph.linear"), 1)
check("forward fp8.quantize", count(f, "fp8.quantize"), 7 * layers + 4 * layers)
check("forward_grad fp8.scaled_matmul", count(g, "fp8.scaled_matmul"),
      3 * 7 * layers)
check("forward_grad graph.linear + matmul (LM head)",
      count(g, "graph.linear") + count(g, "graph.matmul"), 3)
quant = [s for s in g if s["op"] == "fp8.quantize"]
check("forward_grad fp8.quantize", len(quant), 7 * layers + 4 * layers + 7 * layers)
roles = {}
for s in quant:
    roles.setdefault(s["attrs"]["role"], []).append(len(s["results"]))
check("weight quantizes with a transposed copy",
      sum(n == 4 for n in roles["weight"]), 0)
check("activation quantizes with a transposed copy",
      sum(n == 4 for n in roles["activation"]), 4 * layers)
check("gradient quantizes with a transposed copy",
      sum(n == 4 for n in roles["gradient"]), 7 * layers)
for s in quant:
    assert s["attrs"]["scale_rule"] == "pow2_f32", s["attrs"]
print(f"fp8_artifact_check: {layers} layers: forward {7 * layers} FP8 GEMMs, "
      f"forward_grad {21 * layers} FP8 GEMMs, {len(quant)} quantizes: PASS")
