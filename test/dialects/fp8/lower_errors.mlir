// fp8-lower refuses what it cannot flatten.

// RUN: infir2-opt %s --pass-pipeline='builtin.module(func.func(fp8-lower))' --verify-diagnostics

#r = #fp8.recipe<activation = <f8E4M3FN, 1x128, pow2_f32>, weight = <f8E4M3FN, 128x128, pow2_f32>, gradient = <f8E4M3FN, 1x128, pow2_f32>>
func.func @two_dynamic_dims(%x: tensor<?x?x256xbf16>, %w: tensor<512x256xbf16>) -> tensor<?x?x512xbf16> {
  // expected-error @+1 {{fp8-lower: input 'tensor<?x?x256xbf16>' has more than one dynamic dimension}}
  %y = graph.linear %x, %w {fp8 = #r} : (tensor<?x?x256xbf16>, tensor<512x256xbf16>) -> tensor<?x?x512xbf16>
  return %y : tensor<?x?x512xbf16>
}
