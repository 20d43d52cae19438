// graph-merge-linears: one GEMM for linears that read the same input.

// RUN: infir2-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(graph-merge-linears))' | FileCheck %s

// q/k/v with biases: the weights and biases are concatenated, one linear
// computes all three, a split hands out the parts.
// CHECK-LABEL: func.func @qkv
// CHECK-SAME: (%[[X:.+]]: tensor<?x64xbf16>, %[[WQ:.+]]: tensor<64x64xbf16>, %[[BQ:.+]]: tensor<64xbf16>, %[[WK:.+]]: tensor<16x64xbf16>, %[[BK:.+]]: tensor<16xbf16>, %[[WV:.+]]: tensor<16x64xbf16>, %[[BV:.+]]: tensor<16xbf16>)
// CHECK: %[[W:.+]] = graph.concat %[[WQ]], %[[WK]], %[[WV]] axis 0 : (tensor<64x64xbf16>, tensor<16x64xbf16>, tensor<16x64xbf16>) -> tensor<96x64xbf16>
// CHECK: %[[B:.+]] = graph.concat %[[BQ]], %[[BK]], %[[BV]] axis 0 : (tensor<64xbf16>, tensor<16xbf16>, tensor<16xbf16>) -> tensor<96xbf16>
// CHECK: %[[Y:.+]] = graph.linear %[[X]], %[[W]], %[[B]] : (tensor<?x64xbf16>, tensor<96x64xbf16>, tensor<96xbf16>) -> tensor<?x96xbf16>
// CHECK: %[[P:.+]]:3 = graph.split %[[Y]] axis 1 sizes [64, 16, 16]
// CHECK: return %[[P]]#0, %[[P]]#1, %[[P]]#2
func.func @qkv(%x: tensor<?x64xbf16>, %wq: tensor<64x64xbf16>, %bq: tensor<64xbf16>, %wk: tensor<16x64xbf16>, %bk: tensor<16xbf16>, %wv: tensor<16x64xbf16>, %bv: tensor<16xbf16>) -> (tensor<?x64xbf16>, tensor<?x16xbf16>, tensor<?x16xbf16>) {
  %q = graph.linear %x, %wq, %bq : (tensor<?x64xbf16>, tensor<64x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  %k = graph.linear %x, %wk, %bk : (tensor<?x64xbf16>, tensor<16x64xbf16>, tensor<16xbf16>) -> tensor<?x16xbf16>
  %v = graph.linear %x, %wv, %bv : (tensor<?x64xbf16>, tensor<16x64xbf16>, tensor<16xbf16>) -> tensor<?x16xbf16>
  return %q, %k, %v : tensor<?x64xbf16>, tensor<?x16xbf16>, tensor<?x16xbf16>
}

// -----

// FP8 linears merge when every part is a multiple of the 128-row blocks
// (gate/up); a part of 64 rows would put two projections in one block, so
// those stay apart. The recipe carries over.
#r = #fp8.recipe<activation = <f8E4M3FN, 1x128, pow2_f32>, weight = <f8E4M3FN, 128x128, pow2_f32>, gradient = <f8E4M3FN, 1x128, pow2_f32>>
// CHECK-LABEL: func.func @fp8_alignment
// CHECK: %[[W:.+]] = graph.concat %{{.+}}, %{{.+}} axis 0 : (tensor<256x128xbf16>, tensor<256x128xbf16>) -> tensor<512x128xbf16>
// CHECK: graph.linear %{{.+}}, %[[W]] {fp8 = #{{.+}}} : (tensor<?x128xbf16>, tensor<512x128xbf16>) -> tensor<?x512xbf16>
// CHECK: graph.split %{{.+}} axis 1 sizes [256, 256]
// CHECK: graph.linear %{{.+}}, %{{.+}} {fp8 = #{{.+}}} : (tensor<?x128xbf16>, tensor<64x128xbf16>) -> tensor<?x64xbf16>
// CHECK: graph.linear %{{.+}}, %{{.+}} {fp8 = #{{.+}}} : (tensor<?x128xbf16>, tensor<128x128xbf16>) -> tensor<?x128xbf16>
// CHECK-NOT: graph.concat
func.func @fp8_alignment(%x: tensor<?x128xbf16>, %wg: tensor<256x128xbf16>, %wu: tensor<256x128xbf16>, %y: tensor<?x128xbf16>, %wa: tensor<64x128xbf16>, %wb: tensor<128x128xbf16>) -> (tensor<?x256xbf16>, tensor<?x256xbf16>, tensor<?x64xbf16>, tensor<?x128xbf16>) {
  %g = graph.linear %x, %wg {fp8 = #r} : (tensor<?x128xbf16>, tensor<256x128xbf16>) -> tensor<?x256xbf16>
  %u = graph.linear %x, %wu {fp8 = #r} : (tensor<?x128xbf16>, tensor<256x128xbf16>) -> tensor<?x256xbf16>
  %a = graph.linear %y, %wa {fp8 = #r} : (tensor<?x128xbf16>, tensor<64x128xbf16>) -> tensor<?x64xbf16>
  %b = graph.linear %y, %wb {fp8 = #r} : (tensor<?x128xbf16>, tensor<128x128xbf16>) -> tensor<?x128xbf16>
  return %g, %u, %a, %b : tensor<?x256xbf16>, tensor<?x256xbf16>, tensor<?x64xbf16>, tensor<?x128xbf16>
}

// -----

// Different recipes, bias presence or inputs never merge.
#r2 = #fp8.recipe<activation = <f8E4M3FN, 1x128, pow2_f32>, weight = <f8E4M3FN, 128x128, pow2_f32>, gradient = <f8E4M3FN, 1x128, pow2_f32>>
// CHECK-LABEL: func.func @apart
// CHECK-NOT: graph.concat
// CHECK-NOT: graph.split
func.func @apart(%x: tensor<?x128xbf16>, %w1: tensor<128x128xbf16>, %w2: tensor<128x128xbf16>, %b2: tensor<128xbf16>, %w3: tensor<128x128xbf16>) -> (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<?x128xbf16>) {
  %a = graph.linear %x, %w1 : (tensor<?x128xbf16>, tensor<128x128xbf16>) -> tensor<?x128xbf16>
  %b = graph.linear %x, %w2, %b2 : (tensor<?x128xbf16>, tensor<128x128xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  %c = graph.linear %x, %w3 {fp8 = #r2} : (tensor<?x128xbf16>, tensor<128x128xbf16>) -> tensor<?x128xbf16>
  return %a, %b, %c : tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<?x128xbf16>
}
