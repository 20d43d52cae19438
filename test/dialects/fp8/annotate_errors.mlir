// fp8-annotate refuses a function without Qwen2 decoder weights, and
// options that keep every layer out of FP8.

// RUN: infir2-opt %s --split-input-file --fp8-annotate='bf16-first-layers=1 bf16-last-layers=1' --verify-diagnostics

// expected-error @+1 {{fp8-annotate: no linear layer of @forward has a Qwen2 decoder weight}}
func.func @forward(%x: tensor<?x128xbf16> {graph.input = "x"},
                   %w: tensor<64x128xbf16> {graph.param = "lm_head.weight"})
    -> (tensor<?x64xbf16> {graph.output = "logits"}) {
  %0 = graph.linear %x, %w : (tensor<?x128xbf16>, tensor<64x128xbf16>) -> tensor<?x64xbf16>
  return %0 : tensor<?x64xbf16>
}

// -----

// expected-error @+1 {{fp8-annotate: bf16-first-layers=1 and bf16-last-layers=1 leave none of the 2 decoder layers in FP8}}
func.func @forward(%x: tensor<?x128xbf16> {graph.input = "x"},
                   %q0: tensor<128x128xbf16> {graph.param = "model.layers.0.self_attn.q_proj.weight"},
                   %q1: tensor<128x128xbf16> {graph.param = "model.layers.1.self_attn.q_proj.weight"})
    -> (tensor<?x128xbf16> {graph.output = "y"}) {
  %0 = graph.linear %x, %q0 : (tensor<?x128xbf16>, tensor<128x128xbf16>) -> tensor<?x128xbf16>
  %1 = graph.linear %0, %q1 : (tensor<?x128xbf16>, tensor<128x128xbf16>) -> tensor<?x128xbf16>
  return %1 : tensor<?x128xbf16>
}
