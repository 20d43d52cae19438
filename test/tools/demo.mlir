// The embedded demo of tools/demo.sh: builds IR with the C++ op builders,
// runs canonicalize and cse, and shows a verifier diagnostic.

// RUN: infir2-demo | FileCheck %s

// CHECK: built with the C++ op builders
// CHECK: #[[$RECIPE:.+]] = #fp8.recipe<activation = <f8E4M3FN, 1x128, pow2_f32>, weight = <f8E4M3FN, 128x128, pow2_f32>, gradient = <f8E4M3FN, 1x128, pow2_f32>>

// Every linear of the decoder layer carries the recipe (QKV, O, gate, up, down).
// CHECK-LABEL: func.func @qwen2_decoder_layer
// CHECK: graph.rms_norm
// CHECK-COUNT-3: graph.linear {{.+}} {fp8 = #[[$RECIPE]]}
// CHECK: graph.rope {{.+}} -> tensor<?x4x64xbf16>
// CHECK: graph.rope {{.+}} -> tensor<?x2x64xbf16>
// CHECK: graph.attention {{.+}} {causal, scale = 1.250000e-01 : f64}
// CHECK: graph.linear {{.+}} {fp8 = #[[$RECIPE]]}
// CHECK: graph.add
// CHECK: graph.rms_norm
// CHECK-COUNT-2: graph.linear {{.+}} {fp8 = #[[$RECIPE]]}
// CHECK: graph.swiglu
// CHECK: graph.linear {{.+}} {fp8 = #[[$RECIPE]]}
// CHECK: graph.add

// CHECK-LABEL: func.func @fp8_linear
// CHECK: fp8.quantize %arg0 layout 1x128 transposed 1x128 scale pow2_f32 role activation : tensor<256x1536xbf16> -> tensor<256x1536xf8E4M3FN>, tensor<256x12xf32>, tensor<1536x256xf8E4M3FN>, tensor<1536x2xf32>
// CHECK: fp8.quantize %arg1 layout 128x128 scale pow2_f32 role weight : tensor<512x1536xbf16> -> tensor<512x1536xf8E4M3FN>, tensor<4x12xf32>
// CHECK: fp8.scaled_matmul {{.+}} layout 1x128, {{.+}} layout 128x128 transposed {{.+}} -> tensor<256x512xbf16>
// CHECK: fp8.dequantize {{.+}} layout 128x128

// CHECK-LABEL: func.func @foldable
// CHECK: graph.cast
// CHECK-COUNT-2: graph.reshape
// CHECK: graph.add

// After canonicalize and cse: the cast, one reshape and the add are gone.
// CHECK: after canonicalize, cse
// CHECK-LABEL: func.func @foldable
// CHECK-NEXT: %[[R:.+]] = graph.reshape %arg0 : tensor<4x8xf32> -> tensor<2x16xf32>
// CHECK-NEXT: return %[[R]]

// CHECK: error: 'fp8.quantize' op (C5) scale shape 2x2 does not match ceil-div of data shape 256x300 by tile 128x128, which is 2x3
