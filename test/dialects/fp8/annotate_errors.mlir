// fp8-annotate refuses a function without Qwen2 decoder weights.

// RUN: infir2-opt %s --fp8-annotate --verify-diagnostics

// expected-error @+1 {{fp8-annotate: no linear layer of @forward has a Qwen2 decoder weight}}
func.func @forward(%x: tensor<?x128xbf16> {graph.input = "x"},
                   %w: tensor<64x128xbf16> {graph.param = "lm_head.weight"})
    -> (tensor<?x64xbf16> {graph.output = "logits"}) {
  %0 = graph.linear %x, %w : (tensor<?x128xbf16>, tensor<64x128xbf16>) -> tensor<?x64xbf16>
  return %0 : tensor<?x64xbf16>
}
