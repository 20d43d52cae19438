// fp8-annotate: the recipe goes on exactly the QKV, O, gate/up and down
// linears of the decoder layers; options keep layers in high precision.

// RUN: infir2-opt %s --fp8-annotate | FileCheck %s
// RUN: infir2-opt %s --fp8-annotate='bf16-first-layers=1 fp32-scales=1' | FileCheck %s --check-prefix=FIRST
// RUN: infir2-opt %s --fp8-annotate='bf16-last-layers=1 e5m2-gradients=1' | FileCheck %s --check-prefix=LAST

// CHECK: #recipe = #fp8.recipe<activation = <f8E4M3FN, 1x128, pow2_f32>, weight = <f8E4M3FN, 128x128, pow2_f32>, gradient = <f8E4M3FN, 1x128, pow2_f32>>
// CHECK-LABEL: func.func @forward
// CHECK: graph.linear %{{.*}}, %arg1, %arg2 {fp8 = #recipe}
// CHECK: graph.linear %{{.*}}, %arg3 {fp8 = #recipe}
// CHECK: graph.linear %{{.*}}, %arg4 {fp8 = #recipe}
// CHECK: graph.linear %{{.*}}, %arg5 {fp8 = #recipe}
// The LM head and a linear that is not a decoder layer's stay as they are.
// CHECK: graph.linear %{{.*}}, %arg6 :
// CHECK: graph.linear %{{.*}}, %arg7 :

// FIRST: #recipe = #fp8.recipe<activation = <f8E4M3FN, 1x128, exact_f32>, weight = <f8E4M3FN, 128x128, exact_f32>, gradient = <f8E4M3FN, 1x128, exact_f32>>
// FIRST-LABEL: func.func @forward
// FIRST: graph.linear %{{.*}}, %arg1, %arg2 :
// FIRST: graph.linear %{{.*}}, %arg3 :
// FIRST: graph.linear %{{.*}}, %arg4 {fp8 = #recipe}
// FIRST: graph.linear %{{.*}}, %arg5 {fp8 = #recipe}

// LAST: #recipe = #fp8.recipe<activation = <f8E4M3FN, 1x128, pow2_f32>, weight = <f8E4M3FN, 128x128, pow2_f32>, gradient = <f8E5M2, 1x128, pow2_f32>>
// LAST-LABEL: func.func @forward
// LAST: graph.linear %{{.*}}, %arg1, %arg2 {fp8 = #recipe}
// LAST: graph.linear %{{.*}}, %arg3 {fp8 = #recipe}
// LAST: graph.linear %{{.*}}, %arg4 :
// LAST: graph.linear %{{.*}}, %arg5 :
func.func @forward(%x: tensor<?x128xbf16> {graph.input = "x"},
                   %q0: tensor<128x128xbf16> {graph.param = "model.layers.0.self_attn.q_proj.weight"},
                   %qb0: tensor<128xbf16> {graph.param = "model.layers.0.self_attn.q_proj.bias"},
                   %d0: tensor<128x128xbf16> {graph.param = "model.layers.0.mlp.down_proj.weight"},
                   %o1: tensor<128x128xbf16> {graph.param = "model.layers.1.self_attn.o_proj.weight"},
                   %g1: tensor<128x128xbf16> {graph.param = "model.layers.1.mlp.gate_proj.weight"},
                   %head: tensor<64x128xbf16> {graph.param = "lm_head.weight"},
                   %other: tensor<128x128xbf16> {graph.param = "model.layers.1.mlp.extra.weight"})
    -> (tensor<?x64xbf16> {graph.output = "logits"}) {
  %0 = graph.linear %x, %q0, %qb0 : (tensor<?x128xbf16>, tensor<128x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  %1 = graph.linear %0, %d0 : (tensor<?x128xbf16>, tensor<128x128xbf16>) -> tensor<?x128xbf16>
  %2 = graph.linear %1, %o1 : (tensor<?x128xbf16>, tensor<128x128xbf16>) -> tensor<?x128xbf16>
  %3 = graph.linear %2, %g1 : (tensor<?x128xbf16>, tensor<128x128xbf16>) -> tensor<?x128xbf16>
  %4 = graph.linear %3, %head : (tensor<?x128xbf16>, tensor<64x128xbf16>) -> tensor<?x64xbf16>
  %5 = graph.linear %3, %other : (tensor<?x128xbf16>, tensor<128x128xbf16>) -> tensor<?x128xbf16>
  return %4 : tensor<?x64xbf16>
}
