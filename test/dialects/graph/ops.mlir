// Round-trip of every graph op: custom form, generic form, and print -> parse
// -> print stability.

// RUN: infir2-opt %s | infir2-opt | FileCheck %s
// RUN: infir2-opt %s --mlir-print-op-generic | infir2-opt | FileCheck %s
// RUN: infir2-opt %s --verify-roundtrip > /dev/null
// RUN: infir2-opt %s > %t.1 && infir2-opt %t.1 > %t.2 && diff %t.1 %t.2

// The recipe alias is printed first; $ keeps it across CHECK-LABELs.
// CHECK: #[[$RECIPE:.+]] = #fp8.recipe<activation = <f8E4M3FN, 1x128, pow2_f32>, weight = <f8E4M3FN, 128x128, pow2_f32>, gradient = <f8E4M3FN, 1x128, pow2_f32>>

// CHECK-LABEL: func.func @embedding
// CHECK-SAME: (%[[TABLE:.+]]: tensor<1000x64xbf16>, %[[IDS:.+]]: tensor<?xi32>, %[[IDS2:.+]]: tensor<2x3xi64>)
func.func @embedding(%table: tensor<1000x64xbf16>, %ids: tensor<?xi32>, %ids2: tensor<2x3xi64>) -> (tensor<?x64xbf16>, tensor<2x3x64xbf16>) {
  // CHECK: graph.embedding %[[TABLE]][%[[IDS]]] : tensor<1000x64xbf16>, tensor<?xi32> -> tensor<?x64xbf16>
  %0 = graph.embedding %table[%ids] : tensor<1000x64xbf16>, tensor<?xi32> -> tensor<?x64xbf16>
  // CHECK: graph.embedding %[[TABLE]][%[[IDS2]]] : tensor<1000x64xbf16>, tensor<2x3xi64> -> tensor<2x3x64xbf16>
  %1 = graph.embedding %table[%ids2] : tensor<1000x64xbf16>, tensor<2x3xi64> -> tensor<2x3x64xbf16>
  return %0, %1 : tensor<?x64xbf16>, tensor<2x3x64xbf16>
}

// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[X:.+]]: tensor<?x256xbf16>, %[[W:.+]]: tensor<128x256xbf16>, %[[B:.+]]: tensor<128xbf16>
func.func @linear(%x: tensor<?x256xbf16>, %w: tensor<128x256xbf16>, %b: tensor<128xbf16>, %x3: tensor<2x5x256xf32>, %w32: tensor<64x256xf32>) -> (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<2x5x64xf32>) {
  // CHECK: graph.linear %[[X]], %[[W]], %[[B]] : (tensor<?x256xbf16>, tensor<128x256xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  %0 = graph.linear %x, %w, %b : (tensor<?x256xbf16>, tensor<128x256xbf16>, tensor<128xbf16>) -> tensor<?x128xbf16>
  // CHECK: graph.linear %[[X]], %[[W]] {fp8 = #[[$RECIPE]]} : (tensor<?x256xbf16>, tensor<128x256xbf16>) -> tensor<?x128xbf16>
  %1 = graph.linear %x, %w {fp8 = #fp8.recipe<activation = <f8E4M3FN, 1x128, pow2_f32>, weight = <f8E4M3FN, 128x128, pow2_f32>, gradient = <f8E4M3FN, 1x128, pow2_f32>>} : (tensor<?x256xbf16>, tensor<128x256xbf16>) -> tensor<?x128xbf16>
  // CHECK: graph.linear %{{.+}}, %{{.+}} : (tensor<2x5x256xf32>, tensor<64x256xf32>) -> tensor<2x5x64xf32>
  %2 = graph.linear %x3, %w32 : (tensor<2x5x256xf32>, tensor<64x256xf32>) -> tensor<2x5x64xf32>
  return %0, %1, %2 : tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<2x5x64xf32>
}

// CHECK-LABEL: func.func @matmul
func.func @matmul(%a: tensor<12x128x64xbf16>, %b: tensor<12x64x32xbf16>, %c: tensor<4x8xf32>) -> (tensor<12x128x32xbf16>, tensor<12x128x128xf32>, tensor<8x8xf32>) {
  // CHECK: graph.matmul %{{.+}}, %{{.+}} : (tensor<12x128x64xbf16>, tensor<12x64x32xbf16>) -> tensor<12x128x32xbf16>
  %0 = graph.matmul %a, %b : (tensor<12x128x64xbf16>, tensor<12x64x32xbf16>) -> tensor<12x128x32xbf16>
  // CHECK: graph.matmul %{{.+}}, %{{.+}} {transpose_rhs} : (tensor<12x128x64xbf16>, tensor<12x128x64xbf16>) -> tensor<12x128x128xf32>
  %1 = graph.matmul %a, %a {transpose_rhs} : (tensor<12x128x64xbf16>, tensor<12x128x64xbf16>) -> tensor<12x128x128xf32>
  // CHECK: graph.matmul %{{.+}}, %{{.+}} {transpose_lhs} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<8x8xf32>
  %2 = graph.matmul %c, %c {transpose_lhs} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<8x8xf32>
  return %0, %1, %2 : tensor<12x128x32xbf16>, tensor<12x128x128xf32>, tensor<8x8xf32>
}

// CHECK-LABEL: func.func @rms_norm
func.func @rms_norm(%x: tensor<?x1536xbf16>, %w: tensor<1536xbf16>) -> tensor<?x1536xbf16> {
  // CHECK: graph.rms_norm %{{.+}}, %{{.+}} {epsilon = 9.9999999999999995E-7 : f64} : (tensor<?x1536xbf16>, tensor<1536xbf16>) -> tensor<?x1536xbf16>
  %0 = graph.rms_norm %x, %w {epsilon = 1.0e-6 : f64} : (tensor<?x1536xbf16>, tensor<1536xbf16>) -> tensor<?x1536xbf16>
  return %0 : tensor<?x1536xbf16>
}

// CHECK-LABEL: func.func @rope
func.func @rope(%q: tensor<?x12x128xbf16>, %pos: tensor<?xi32>, %pos64: tensor<?xi64>) -> (tensor<?x12x128xbf16>, tensor<?x12x128xbf16>) {
  // CHECK: graph.rope %{{.+}}, %{{.+}} {theta = 1.000000e+06 : f64} : (tensor<?x12x128xbf16>, tensor<?xi32>) -> tensor<?x12x128xbf16>
  %0 = graph.rope %q, %pos {theta = 1.0e6 : f64} : (tensor<?x12x128xbf16>, tensor<?xi32>) -> tensor<?x12x128xbf16>
  // CHECK: graph.rope %{{.+}}, %{{.+}} {style = #graph.rope_style<interleaved>, theta = 1.000000e+04 : f64} : (tensor<?x12x128xbf16>, tensor<?xi64>) -> tensor<?x12x128xbf16>
  %1 = graph.rope %q, %pos64 {theta = 1.0e4 : f64, style = #graph.rope_style<interleaved>} : (tensor<?x12x128xbf16>, tensor<?xi64>) -> tensor<?x12x128xbf16>
  return %0, %1 : tensor<?x12x128xbf16>, tensor<?x12x128xbf16>
}

// CHECK-LABEL: func.func @attention
func.func @attention(%q: tensor<?x12x128xbf16>, %k: tensor<?x2x128xbf16>, %v: tensor<?x2x128xbf16>, %cu: tensor<?xi32>, %cu3: tensor<3xi32>) -> (tensor<?x12x128xbf16>, tensor<?x12x128xbf16>) {
  // CHECK: graph.attention %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} {causal, scale = 0.088388347648318433 : f64} : (tensor<?x12x128xbf16>, tensor<?x2x128xbf16>, tensor<?x2x128xbf16>, tensor<?xi32>) -> tensor<?x12x128xbf16>
  %0 = graph.attention %q, %k, %v, %cu {causal, scale = 0.088388347648318433 : f64} : (tensor<?x12x128xbf16>, tensor<?x2x128xbf16>, tensor<?x2x128xbf16>, tensor<?xi32>) -> tensor<?x12x128xbf16>
  // CHECK: graph.attention %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} {scale = 1.250000e-01 : f64} : (tensor<?x12x128xbf16>, tensor<?x2x128xbf16>, tensor<?x2x128xbf16>, tensor<3xi32>) -> tensor<?x12x128xbf16>
  %1 = graph.attention %q, %k, %v, %cu3 {scale = 0.125 : f64} : (tensor<?x12x128xbf16>, tensor<?x2x128xbf16>, tensor<?x2x128xbf16>, tensor<3xi32>) -> tensor<?x12x128xbf16>
  return %0, %1 : tensor<?x12x128xbf16>, tensor<?x12x128xbf16>
}

// CHECK-LABEL: func.func @cross_entropy
func.func @cross_entropy(%logits: tensor<?x151936xf32>, %labels: tensor<?xi32>, %mask: tensor<?xf32>) -> tensor<?xf32> {
  // CHECK: graph.cross_entropy %{{.+}}, %{{.+}}, %{{.+}} : (tensor<?x151936xf32>, tensor<?xi32>, tensor<?xf32>) -> tensor<?xf32>
  %0 = graph.cross_entropy %logits, %labels, %mask : (tensor<?x151936xf32>, tensor<?xi32>, tensor<?xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// CHECK-LABEL: func.func @elementwise
// CHECK-SAME: (%[[A:.+]]: tensor<4x8xbf16>, %[[B:.+]]: tensor<4x8xbf16>, %[[I:.+]]: tensor<?xi32>)
func.func @elementwise(%a: tensor<4x8xbf16>, %b: tensor<4x8xbf16>, %i: tensor<?xi32>) -> (tensor<4x8xbf16>, tensor<?xi32>) {
  // CHECK: %[[SILU:.+]] = graph.silu %[[A]] : tensor<4x8xbf16>
  %0 = graph.silu %a : tensor<4x8xbf16>
  // CHECK: %[[SWIGLU:.+]] = graph.swiglu %[[SILU]], %[[B]] : tensor<4x8xbf16>
  %1 = graph.swiglu %0, %b : tensor<4x8xbf16>
  // CHECK: %[[ADD:.+]] = graph.add %[[SWIGLU]], %[[B]] : tensor<4x8xbf16>
  %2 = graph.add %1, %b : tensor<4x8xbf16>
  // CHECK: %[[SUB:.+]] = graph.sub %[[ADD]], %[[A]] : tensor<4x8xbf16>
  %3 = graph.sub %2, %a : tensor<4x8xbf16>
  // CHECK: %[[MUL:.+]] = graph.mul %[[SUB]], %[[B]] : tensor<4x8xbf16>
  %4 = graph.mul %3, %b : tensor<4x8xbf16>
  // CHECK: %[[DIV:.+]] = graph.div %[[MUL]], %[[A]] : tensor<4x8xbf16>
  %5 = graph.div %4, %a : tensor<4x8xbf16>
  // CHECK: %[[NEG:.+]] = graph.neg %[[DIV]] : tensor<4x8xbf16>
  %6 = graph.neg %5 : tensor<4x8xbf16>
  // CHECK: %[[EXP:.+]] = graph.exp %[[NEG]] : tensor<4x8xbf16>
  %7 = graph.exp %6 : tensor<4x8xbf16>
  // CHECK: %[[LOG:.+]] = graph.log %[[EXP]] : tensor<4x8xbf16>
  %8 = graph.log %7 : tensor<4x8xbf16>
  // CHECK: %[[RSQRT:.+]] = graph.rsqrt %[[LOG]] : tensor<4x8xbf16>
  %9 = graph.rsqrt %8 : tensor<4x8xbf16>
  // CHECK: graph.add %[[I]], %[[I]] : tensor<?xi32>
  %10 = graph.add %i, %i : tensor<?xi32>
  // CHECK: graph.neg %{{.+}} : tensor<?xi32>
  %11 = graph.neg %10 : tensor<?xi32>
  return %9, %11 : tensor<4x8xbf16>, tensor<?xi32>
}

// CHECK-LABEL: func.func @reductions
func.func @reductions(%x: tensor<4x8x16xf32>, %y: tensor<?x256xbf16>) -> (tensor<4x16xf32>, tensor<4x1x1xf32>, tensor<?x1xbf16>) {
  // CHECK: graph.reduce_sum %{{.+}} axes [1] : tensor<4x8x16xf32> -> tensor<4x16xf32>
  %0 = graph.reduce_sum %x axes [1] : tensor<4x8x16xf32> -> tensor<4x16xf32>
  // CHECK: graph.reduce_max %{{.+}} axes [1, 2] keep_dims : tensor<4x8x16xf32> -> tensor<4x1x1xf32>
  %1 = graph.reduce_max %x axes [1, 2] keep_dims : tensor<4x8x16xf32> -> tensor<4x1x1xf32>
  // CHECK: graph.reduce_mean %{{.+}} axes [1] keep_dims : tensor<?x256xbf16> -> tensor<?x1xbf16>
  %2 = graph.reduce_mean %y axes [1] keep_dims : tensor<?x256xbf16> -> tensor<?x1xbf16>
  return %0, %1, %2 : tensor<4x16xf32>, tensor<4x1x1xf32>, tensor<?x1xbf16>
}

// CHECK-LABEL: func.func @shape_ops
func.func @shape_ops(%x: tensor<4x2048xbf16>, %b: tensor<256xbf16>, %y: tensor<2x8xf32>, %z: tensor<3x8xf32>, %like: tensor<?x256xbf16>, %d: tensor<?x1536xbf16>) -> (tensor<4x256xbf16>, tensor<2048x4xbf16>, tensor<?x256xbf16>, tensor<5x8xf32>, tensor<4x2048xf32>, tensor<4x16x128xbf16>) {
  // CHECK: graph.slice %{{.+}} start [0, 1536] limit [4, 2048] stride [1, 2] : tensor<4x2048xbf16> -> tensor<4x256xbf16>
  %0 = graph.slice %x start [0, 1536] limit [4, 2048] stride [1, 2] : tensor<4x2048xbf16> -> tensor<4x256xbf16>
  // CHECK: graph.transpose %{{.+}} perm [1, 0] : tensor<4x2048xbf16> -> tensor<2048x4xbf16>
  %1 = graph.transpose %x perm [1, 0] : tensor<4x2048xbf16> -> tensor<2048x4xbf16>
  // CHECK: graph.broadcast %{{.+}} dims [1] like %{{.+}} : tensor<256xbf16>, tensor<?x256xbf16> -> tensor<?x256xbf16>
  %2 = graph.broadcast %b dims [1] like %like : tensor<256xbf16>, tensor<?x256xbf16> -> tensor<?x256xbf16>
  // CHECK: graph.concat %{{.+}}, %{{.+}} axis 0 : (tensor<2x8xf32>, tensor<3x8xf32>) -> tensor<5x8xf32>
  %3 = graph.concat %y, %z axis 0 : (tensor<2x8xf32>, tensor<3x8xf32>) -> tensor<5x8xf32>
  // CHECK: graph.cast %{{.+}} : tensor<4x2048xbf16> to tensor<4x2048xf32>
  %4 = graph.cast %x : tensor<4x2048xbf16> to tensor<4x2048xf32>
  // CHECK: graph.cast %{{.+}} : tensor<4x2048xbf16> to tensor<4x2048xi1>
  %c1 = graph.cast %x : tensor<4x2048xbf16> to tensor<4x2048xi1>
  // CHECK: graph.cast %{{.+}} : tensor<4x2048xi1> to tensor<4x2048xi64>
  %c2 = graph.cast %c1 : tensor<4x2048xi1> to tensor<4x2048xi64>
  // CHECK: graph.reshape %{{.+}} : tensor<4x2048xbf16> -> tensor<4x16x128xbf16>
  %5 = graph.reshape %x : tensor<4x2048xbf16> -> tensor<4x16x128xbf16>
  // CHECK: graph.broadcast %{{.+}} dims [0, 1] : tensor<?x1536xbf16> -> tensor<?x1536xbf16>
  %6 = graph.broadcast %d dims [0, 1] : tensor<?x1536xbf16> -> tensor<?x1536xbf16>
  // CHECK: graph.broadcast %{{.+}} dims [1] : tensor<256xbf16> -> tensor<3x256xbf16>
  %7 = graph.broadcast %b dims [1] : tensor<256xbf16> -> tensor<3x256xbf16>
  // CHECK: graph.reshape %{{.+}} : tensor<?x1536xbf16> -> tensor<?x12x128xbf16>
  %8 = graph.reshape %d : tensor<?x1536xbf16> -> tensor<?x12x128xbf16>
  // CHECK: graph.reshape %{{.+}} : tensor<4x2048xbf16> -> tensor<?x256xbf16>
  %9 = graph.reshape %x : tensor<4x2048xbf16> -> tensor<?x256xbf16>
  return %0, %1, %2, %3, %4, %5 : tensor<4x256xbf16>, tensor<2048x4xbf16>, tensor<?x256xbf16>, tensor<5x8xf32>, tensor<4x2048xf32>, tensor<4x16x128xbf16>
}

// Shape and cast ops move any element type, FP8 data included.
// CHECK-LABEL: func.func @shape_ops_on_fp8
func.func @shape_ops_on_fp8(%d: tensor<256x128xf8E4M3FN>) -> tensor<128x256xf8E4M3FN> {
  // CHECK: graph.transpose %{{.+}} perm [1, 0] : tensor<256x128xf8E4M3FN> -> tensor<128x256xf8E4M3FN>
  %0 = graph.transpose %d perm [1, 0] : tensor<256x128xf8E4M3FN> -> tensor<128x256xf8E4M3FN>
  return %0 : tensor<128x256xf8E4M3FN>
}

// Gradient ops.

// CHECK-LABEL: func.func @embedding_grad
func.func @embedding_grad(%dh: tensor<?x64xbf16>, %ids: tensor<?xi32>) -> tensor<1000x64xf32> {
  // CHECK: graph.embedding_grad %{{.+}}[%{{.+}}] {num_embeddings = 1000 : i64} : tensor<?x64xbf16>, tensor<?xi32> -> tensor<1000x64xf32>
  %0 = graph.embedding_grad %dh[%ids] {num_embeddings = 1000 : i64} : tensor<?x64xbf16>, tensor<?xi32> -> tensor<1000x64xf32>
  return %0 : tensor<1000x64xf32>
}

// CHECK-LABEL: func.func @rms_norm_grad
func.func @rms_norm_grad(%dy: tensor<?x64xbf16>, %x: tensor<?x64xbf16>, %w: tensor<64xbf16>) -> (tensor<?x64xbf16>, tensor<64xf32>) {
  // CHECK: graph.rms_norm_grad %{{.+}}, %{{.+}}, %{{.+}} {epsilon = 9.9999999999999995E-7 : f64} : (tensor<?x64xbf16>, tensor<?x64xbf16>, tensor<64xbf16>) -> (tensor<?x64xbf16>, tensor<64xf32>)
  %dx, %dw = graph.rms_norm_grad %dy, %x, %w {epsilon = 1.0e-6 : f64} : (tensor<?x64xbf16>, tensor<?x64xbf16>, tensor<64xbf16>) -> (tensor<?x64xbf16>, tensor<64xf32>)
  return %dx, %dw : tensor<?x64xbf16>, tensor<64xf32>
}

// CHECK-LABEL: func.func @rope_grad
func.func @rope_grad(%dy: tensor<?x4x16xf32>, %pos: tensor<?xi32>) -> tensor<?x4x16xf32> {
  // CHECK: graph.rope_grad %{{.+}}, %{{.+}} {style = #graph.rope_style<interleaved>, theta = 1.000000e+04 : f64} : (tensor<?x4x16xf32>, tensor<?xi32>) -> tensor<?x4x16xf32>
  %0 = graph.rope_grad %dy, %pos {theta = 1.0e4 : f64, style = #graph.rope_style<interleaved>} : (tensor<?x4x16xf32>, tensor<?xi32>) -> tensor<?x4x16xf32>
  return %0 : tensor<?x4x16xf32>
}

// CHECK-LABEL: func.func @attention_grad
func.func @attention_grad(%do: tensor<?x6x8xbf16>, %q: tensor<?x6x8xbf16>, %k: tensor<?x2x8xbf16>, %v: tensor<?x2x8xbf16>, %cu: tensor<?xi32>) -> (tensor<?x6x8xbf16>, tensor<?x2x8xbf16>, tensor<?x2x8xbf16>) {
  // CHECK: graph.attention_grad %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} {causal, scale = 3.500000e-01 : f64} : (tensor<?x6x8xbf16>, tensor<?x6x8xbf16>, tensor<?x2x8xbf16>, tensor<?x2x8xbf16>, tensor<?xi32>) -> (tensor<?x6x8xbf16>, tensor<?x2x8xbf16>, tensor<?x2x8xbf16>)
  %dq, %dk, %dv = graph.attention_grad %do, %q, %k, %v, %cu {causal, scale = 0.35 : f64} : (tensor<?x6x8xbf16>, tensor<?x6x8xbf16>, tensor<?x2x8xbf16>, tensor<?x2x8xbf16>, tensor<?xi32>) -> (tensor<?x6x8xbf16>, tensor<?x2x8xbf16>, tensor<?x2x8xbf16>)
  return %dq, %dk, %dv : tensor<?x6x8xbf16>, tensor<?x2x8xbf16>, tensor<?x2x8xbf16>
}

// CHECK-LABEL: func.func @cross_entropy_grad
func.func @cross_entropy_grad(%dl: tensor<?xf32>, %logits: tensor<?x100xf32>, %labels: tensor<?xi64>, %mask: tensor<?xf32>) -> tensor<?x100xf32> {
  // CHECK: graph.cross_entropy_grad %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} : (tensor<?xf32>, tensor<?x100xf32>, tensor<?xi64>, tensor<?xf32>) -> tensor<?x100xf32>
  %0 = graph.cross_entropy_grad %dl, %logits, %labels, %mask : (tensor<?xf32>, tensor<?x100xf32>, tensor<?xi64>, tensor<?xf32>) -> tensor<?x100xf32>
  return %0 : tensor<?x100xf32>
}

// CHECK-LABEL: func.func @silu_swiglu_grad
func.func @silu_swiglu_grad(%dy: tensor<?x32xbf16>, %g: tensor<?x32xbf16>, %u: tensor<?x32xbf16>) -> (tensor<?x32xbf16>, tensor<?x32xbf16>, tensor<?x32xbf16>) {
  // CHECK: graph.silu_grad %{{.+}}, %{{.+}} : tensor<?x32xbf16>
  %0 = graph.silu_grad %dy, %g : tensor<?x32xbf16>
  // CHECK: graph.swiglu_grad %{{.+}}, %{{.+}}, %{{.+}} : (tensor<?x32xbf16>, tensor<?x32xbf16>, tensor<?x32xbf16>) -> (tensor<?x32xbf16>, tensor<?x32xbf16>)
  %dg, %du = graph.swiglu_grad %dy, %g, %u : (tensor<?x32xbf16>, tensor<?x32xbf16>, tensor<?x32xbf16>) -> (tensor<?x32xbf16>, tensor<?x32xbf16>)
  return %0, %dg, %du : tensor<?x32xbf16>, tensor<?x32xbf16>, tensor<?x32xbf16>
}

// CHECK-LABEL: func.func @split
func.func @split(%x: tensor<?x2048xbf16>, %w: tensor<12x4xf32>) -> (tensor<?x1536xbf16>, tensor<?x256xbf16>, tensor<?x256xbf16>, tensor<4x4xf32>, tensor<8x4xf32>) {
  // CHECK: graph.split %{{.+}} axis 1 sizes [1536, 256, 256] : tensor<?x2048xbf16> -> tensor<?x1536xbf16>, tensor<?x256xbf16>, tensor<?x256xbf16>
  %q, %k, %v = graph.split %x axis 1 sizes [1536, 256, 256] : tensor<?x2048xbf16> -> tensor<?x1536xbf16>, tensor<?x256xbf16>, tensor<?x256xbf16>
  // CHECK: graph.split %{{.+}} axis 0 sizes [4, 8] : tensor<12x4xf32> -> tensor<4x4xf32>, tensor<8x4xf32>
  %a, %b = graph.split %w axis 0 sizes [4, 8] : tensor<12x4xf32> -> tensor<4x4xf32>, tensor<8x4xf32>
  return %q, %k, %v, %a, %b : tensor<?x1536xbf16>, tensor<?x256xbf16>, tensor<?x256xbf16>, tensor<4x4xf32>, tensor<8x4xf32>
}

// CHECK-LABEL: func.func @adamw
func.func @adamw(%p: tensor<64x32xf32>, %g: tensor<64x32xf32>, %m: tensor<64x32xf32>, %v: tensor<64x32xf32>, %h: tensor<8xf32>) -> (tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>) {
  // CHECK: graph.adamw %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} : (tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>, tensor<8xf32>) -> (tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>)
  %0:3 = graph.adamw %p, %g, %m, %v, %h : (tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>, tensor<8xf32>) -> (tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>)
  return %0#0, %0#1, %0#2 : tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>
}
