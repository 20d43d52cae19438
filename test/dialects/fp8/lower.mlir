// fp8-lower: annotated linears and their gradient GEMMs become
// fp8.quantize + fp8.scaled_matmul (docs/dialects/fp8-semantics.md §6).
// Every fp8.quantize, graph.linear and graph.matmul in the output is one a
// CHECK line names (--implicit-check-not): no duplicate quantizes, no GEMM
// left behind.

// RUN: infir2-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(fp8-lower))' | FileCheck %s --implicit-check-not=fp8.quantize --implicit-check-not=graph.linear --implicit-check-not=graph.matmul

// A linear with a bias: x in 1x128 tiles, W in 128x128 blocks read
// transposed, f32 accumulation, the bias added in f32, one rounding.
// Quantizes sit right before the GEMM that reads them.
// CHECK-LABEL: func.func @linear_bias
// CHECK-SAME: (%[[X:.+]]: tensor<?x256xbf16>, %[[W:.+]]: tensor<512x256xbf16>, %[[B:.+]]: tensor<512xbf16>)
// CHECK: %[[XD:.+]], %[[XS:.+]] = fp8.quantize %[[X]] layout 1x128 scale pow2_f32 role activation : tensor<?x256xbf16> -> tensor<?x256xf8E4M3FN>, tensor<?x2xf32>
// CHECK: %[[WD:.+]], %[[WS:.+]] = fp8.quantize %[[W]] layout 128x128 scale pow2_f32 role weight : tensor<512x256xbf16> -> tensor<512x256xf8E4M3FN>, tensor<4x2xf32>
// CHECK: %[[ACC:.+]] = fp8.scaled_matmul %[[XD]], %[[XS]] layout 1x128, %[[WD]], %[[WS]] layout 128x128 transposed : {{.*}} -> tensor<?x512xf32>
// CHECK: %[[BF:.+]] = graph.cast %[[B]] : tensor<512xbf16> to tensor<512xf32>
// CHECK: %[[BB:.+]] = graph.broadcast %[[BF]] dims [1] like %[[ACC]]
// CHECK: %[[SUM:.+]] = graph.add %[[ACC]], %[[BB]] : tensor<?x512xf32>
// CHECK: %[[Y:.+]] = graph.cast %[[SUM]] : tensor<?x512xf32> to tensor<?x512xbf16>
// CHECK: return %[[Y]]
#r = #fp8.recipe<activation = <f8E4M3FN, 1x128, pow2_f32>, weight = <f8E4M3FN, 128x128, pow2_f32>, gradient = <f8E4M3FN, 1x128, pow2_f32>>

func.func @linear_bias(%x: tensor<?x256xbf16>, %w: tensor<512x256xbf16>, %b: tensor<512xbf16>) -> tensor<?x512xbf16> {
  %y = graph.linear %x, %w, %b {fp8 = #r} : (tensor<?x256xbf16>, tensor<512x256xbf16>, tensor<512xbf16>) -> tensor<?x512xbf16>
  return %y : tensor<?x512xbf16>
}

// -----

// Forward, dgrad and wgrad of one linear: x and dy are each quantized once,
// with the transposed copy (made from the bf16 tensor) that the wgrad reads
// along the tokens; W's 128x128 blocks serve forward and dgrad.
// CHECK-LABEL: func.func @forward_dgrad_wgrad
// CHECK-SAME: (%[[X:.+]]: tensor<?x256xbf16>, %[[W:.+]]: tensor<512x256xbf16>, %[[DY:.+]]: tensor<?x512xbf16>)
// CHECK: %[[XD:.+]], %[[XS:.+]], %[[XDT:.+]], %[[XST:.+]] = fp8.quantize %[[X]] layout 1x128 transposed 1x128 scale pow2_f32 role activation : tensor<?x256xbf16> -> tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<256x?xf8E4M3FN>, tensor<256x?xf32>
// CHECK: %[[WD:.+]], %[[WS:.+]] = fp8.quantize %[[W]] layout 128x128 scale pow2_f32 role weight
// CHECK: %[[Y:.+]] = fp8.scaled_matmul %[[XD]], %[[XS]] layout 1x128, %[[WD]], %[[WS]] layout 128x128 transposed : {{.*}} -> tensor<?x512xbf16>
// CHECK: %[[GD:.+]], %[[GS:.+]], %[[GDT:.+]], %[[GST:.+]] = fp8.quantize %[[DY]] layout 1x128 transposed 1x128 scale pow2_f32 role gradient : tensor<?x512xbf16> -> tensor<?x512xf8E4M3FN>, tensor<?x4xf32>, tensor<512x?xf8E4M3FN>, tensor<512x?xf32>
// CHECK: %[[DX:.+]] = fp8.scaled_matmul %[[GD]], %[[GS]] layout 1x128, %[[WD]], %[[WS]] layout 128x128 : {{.*}} -> tensor<?x256xbf16>
// CHECK: %[[DW:.+]] = fp8.scaled_matmul %[[GDT]], %[[GST]] layout 1x128, %[[XDT]], %[[XST]] layout 1x128 transposed : {{.*}} -> tensor<512x256xf32>
// CHECK: return %[[Y]], %[[DX]], %[[DW]]
#r = #fp8.recipe<activation = <f8E4M3FN, 1x128, pow2_f32>, weight = <f8E4M3FN, 128x128, pow2_f32>, gradient = <f8E4M3FN, 1x128, pow2_f32>>

func.func @forward_dgrad_wgrad(%x: tensor<?x256xbf16>, %w: tensor<512x256xbf16>, %dy: tensor<?x512xbf16>) -> (tensor<?x512xbf16>, tensor<?x256xbf16>, tensor<512x256xf32>) {
  %y = graph.linear %x, %w {fp8 = #r} : (tensor<?x256xbf16>, tensor<512x256xbf16>) -> tensor<?x512xbf16>
  %dx = graph.matmul %dy, %w {fp8 = #r, fp8_gemm = #graph.fp8_gemm<dgrad>} : (tensor<?x512xbf16>, tensor<512x256xbf16>) -> tensor<?x256xbf16>
  %dw = graph.matmul %dy, %x {fp8 = #r, fp8_gemm = #graph.fp8_gemm<wgrad>, transpose_lhs} : (tensor<?x512xbf16>, tensor<?x256xbf16>) -> tensor<512x256xf32>
  return %y, %dx, %dw : tensor<?x512xbf16>, tensor<?x256xbf16>, tensor<512x256xf32>
}

// -----

// Linears sharing a rank-3 input (q and k) share one reshape and one
// quantize; exact f32 scales; the unannotated linear stays.
// CHECK-LABEL: func.func @shared_input_rank3
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x?x256xbf16>
// CHECK: %[[FLAT:.+]] = graph.reshape %[[X]] : tensor<2x?x256xbf16> -> tensor<?x256xbf16>
// CHECK: %[[XD:.+]], %[[XS:.+]] = fp8.quantize %[[FLAT]] layout 1x128 scale exact_f32 role activation
// CHECK: fp8.quantize %{{.*}} layout 128x128 scale exact_f32 role weight
// CHECK: %[[Q:.+]] = fp8.scaled_matmul %[[XD]], %[[XS]] layout 1x128, {{.*}} -> tensor<?x256xbf16>
// CHECK: graph.reshape %[[Q]] : tensor<?x256xbf16> -> tensor<2x?x256xbf16>
// CHECK: fp8.quantize %{{.*}} layout 128x128 scale exact_f32 role weight
// CHECK: %[[K:.+]] = fp8.scaled_matmul %[[XD]], %[[XS]] layout 1x128, {{.*}} -> tensor<?x128xbf16>
// CHECK: graph.reshape %[[K]] : tensor<?x128xbf16> -> tensor<2x?x128xbf16>
// CHECK: graph.linear %[[X]], %{{.*}} : (tensor<2x?x256xbf16>, tensor<64x256xbf16>) -> tensor<2x?x64xbf16>
#r = #fp8.recipe<activation = <f8E4M3FN, 1x128, exact_f32>, weight = <f8E4M3FN, 128x128, exact_f32>, gradient = <f8E5M2, 1x128, exact_f32>>

func.func @shared_input_rank3(%x: tensor<2x?x256xbf16>, %wq: tensor<256x256xbf16>, %wk: tensor<128x256xbf16>, %plain: tensor<64x256xbf16>) -> (tensor<2x?x256xbf16>, tensor<2x?x128xbf16>, tensor<2x?x64xbf16>) {
  %q = graph.linear %x, %wq {fp8 = #r} : (tensor<2x?x256xbf16>, tensor<256x256xbf16>) -> tensor<2x?x256xbf16>
  %k = graph.linear %x, %wk {fp8 = #r} : (tensor<2x?x256xbf16>, tensor<128x256xbf16>) -> tensor<2x?x128xbf16>
  %p = graph.linear %x, %plain : (tensor<2x?x256xbf16>, tensor<64x256xbf16>) -> tensor<2x?x64xbf16>
  return %q, %k, %p : tensor<2x?x256xbf16>, tensor<2x?x128xbf16>, tensor<2x?x64xbf16>
}

// -----

// A rank-3 input read by the forward GEMM and (through graph-autodiff's own
// flattening) by the wgrad: still one quantize, with its transposed copy.
// CHECK-LABEL: func.func @rank3_with_wgrad
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x?x256xbf16>
// CHECK: %[[FLAT:.+]] = graph.reshape %[[X]] : tensor<2x?x256xbf16> -> tensor<?x256xbf16>
// CHECK: %[[XD:.+]], %[[XS:.+]], %[[XDT:.+]], %[[XST:.+]] = fp8.quantize %[[FLAT]] layout 1x128 transposed 1x128 scale pow2_f32 role activation
// CHECK: fp8.quantize %{{.*}} role weight
// CHECK: fp8.scaled_matmul %[[XD]], %[[XS]] layout 1x128
// CHECK: %[[GD:.+]], %[[GS:.+]], %[[GDT:.+]], %[[GST:.+]] = fp8.quantize %{{.*}} role gradient
// CHECK: fp8.scaled_matmul %[[GDT]], %[[GST]] layout 1x128, %[[XDT]], %[[XST]] layout 1x128 transposed : {{.*}} -> tensor<512x256xf32>
#r = #fp8.recipe<activation = <f8E4M3FN, 1x128, pow2_f32>, weight = <f8E4M3FN, 128x128, pow2_f32>, gradient = <f8E4M3FN, 1x128, pow2_f32>>

func.func @rank3_with_wgrad(%x: tensor<2x?x256xbf16>, %w: tensor<512x256xbf16>, %dy: tensor<?x512xbf16>) -> (tensor<2x?x512xbf16>, tensor<512x256xf32>) {
  %y = graph.linear %x, %w {fp8 = #r} : (tensor<2x?x256xbf16>, tensor<512x256xbf16>) -> tensor<2x?x512xbf16>
  %x2 = graph.reshape %x : tensor<2x?x256xbf16> -> tensor<?x256xbf16>
  %dw = graph.matmul %dy, %x2 {fp8 = #r, fp8_gemm = #graph.fp8_gemm<wgrad>, transpose_lhs} : (tensor<?x512xbf16>, tensor<?x256xbf16>) -> tensor<512x256xf32>
  return %y, %dw : tensor<2x?x512xbf16>, tensor<512x256xf32>
}
