// kernel-fuse: which ops one generated kernel computes.

// RUN: infir2-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kernel-fuse))' | FileCheck %s

// Residual add + RMSNorm + FP8 quantization in both orientations: one
// row_tiles kernel; the sum is also the next residual, so it is an output.
// CHECK-LABEL: func.func @residual_norm_quantize
// CHECK: %[[K:.+]]:5 = kernel.fused "add_rms_norm_quantize" schedule row_tiles
// CHECK: graph.add
// CHECK: graph.rms_norm
// CHECK: fp8.quantize {{.*}} layout 1x128 transposed 1x128
// CHECK: kernel.yield
// CHECK-NOT: kernel.fused
// CHECK: return %[[K]]#0, %[[K]]#1, %[[K]]#2, %[[K]]#3, %[[K]]#4
func.func @residual_norm_quantize(%x: tensor<?x256xbf16>, %r: tensor<?x256xbf16>, %w: tensor<256xbf16>) -> (tensor<?x256xbf16>, tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<256x?xf8E4M3FN>, tensor<256x?xf32>) {
  %h = graph.add %x, %r : tensor<?x256xbf16>
  %n = graph.rms_norm %h, %w {epsilon = 1.0e-06 : f64} : (tensor<?x256xbf16>, tensor<256xbf16>) -> tensor<?x256xbf16>
  %d, %s, %dt, %st = fp8.quantize %n layout 1x128 transposed 1x128 scale pow2_f32 role activation : tensor<?x256xbf16> -> tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<256x?xf8E4M3FN>, tensor<256x?xf32>
  return %h, %d, %s, %dt, %st : tensor<?x256xbf16>, tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<256x?xf8E4M3FN>, tensor<256x?xf32>
}

// -----

// A reduction is never computed twice: the RMSNorm read by a GEMM and by a
// later add cannot join the add's kernel (the GEMM between them would make
// a cycle), so it gets a kernel of its own and both read its output.
// CHECK-LABEL: func.func @no_duplicated_reduction
// CHECK: %[[N:.+]] = kernel.fused "rms_norm" schedule rows
// CHECK: %[[Y:.+]] = graph.linear %[[N]]
// CHECK: kernel.fused "add" schedule rows(%[[N]], %[[Y]])
// CHECK-NOT: graph.rms_norm
// CHECK: return
func.func @no_duplicated_reduction(%x: tensor<?x64xf32>, %g: tensor<64xf32>, %w: tensor<64x64xf32>) -> tensor<?x64xf32> {
  %n = graph.rms_norm %x, %g {epsilon = 1.0e-06 : f64} : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  %y = graph.linear %n, %w : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
  %z = graph.add %n, %y : tensor<?x64xf32>
  return %z : tensor<?x64xf32>
}

// -----

// The cross entropy forward and backward in one kernel: the logits are read
// (as bf16), the f32 copy never reaches memory; the loss sum is a column
// sum of the same kernel.
// CHECK-LABEL: func.func @cross_entropy
// CHECK: %[[K:.+]]:2 = kernel.fused "cast_cross_entropy_reduce_sum_cross_entropy_grad" schedule rows(%{{.+}}, %{{.+}}, %{{.+}}) : (tensor<?x512xbf16>, tensor<?xi32>, tensor<?xf32>) -> (tensor<f32>, tensor<?x512xbf16>)
// CHECK: kernel.yield %{{.+}}, %{{.+}} : tensor<f32>, tensor<?x512xbf16>
// CHECK: return %[[K]]#0, %[[K]]#1
func.func @cross_entropy(%logits: tensor<?x512xbf16>, %labels: tensor<?xi32>, %mask: tensor<?xf32>) -> (tensor<f32>, tensor<?x512xbf16>) {
  %one = arith.constant dense<1.0> : tensor<f32>
  %f = graph.cast %logits : tensor<?x512xbf16> to tensor<?x512xf32>
  %nll = graph.cross_entropy %f, %labels, %mask : (tensor<?x512xf32>, tensor<?xi32>, tensor<?xf32>) -> tensor<?xf32>
  %sum = graph.reduce_sum %nll axes [0] : tensor<?xf32> -> tensor<f32>
  %seed = graph.broadcast %one dims [] like %nll : tensor<f32>, tensor<?xf32> -> tensor<?xf32>
  %g = graph.cross_entropy_grad %seed, %f, %labels, %mask : (tensor<?xf32>, tensor<?x512xf32>, tensor<?xi32>, tensor<?xf32>) -> tensor<?x512xf32>
  %gb = graph.cast %g : tensor<?x512xf32> to tensor<?x512xbf16>
  return %sum, %gb : tensor<f32>, tensor<?x512xbf16>
}

// -----

// The fused QKV GEMM's output: bias add, RoPE of q and k and the copy of v
// (attention reads it) in one kernel that reads the GEMM output once; the
// split and the reshapes are cloned in, not computed on their own.
// CHECK-LABEL: func.func @bias_rope
// CHECK: %[[K:.+]]:3 = kernel.fused "add_cast_rope" schedule rows
// CHECK: graph.split
// CHECK: graph.rope
// CHECK: graph.rope
// CHECK: kernel.yield
// CHECK: %[[V:.+]] = graph.reshape %[[K]]#0
// CHECK: graph.attention %[[K]]#1, %[[K]]#2, %[[V]]
func.func @bias_rope(%y: tensor<?x512xf32>, %b: tensor<512xf32>, %pos: tensor<?xi32>, %cu: tensor<?xi32>) -> tensor<?x2x128xbf16> {
  %bb = graph.broadcast %b dims [1] like %y : tensor<512xf32>, tensor<?x512xf32> -> tensor<?x512xf32>
  %s = graph.add %y, %bb : tensor<?x512xf32>
  %c = graph.cast %s : tensor<?x512xf32> to tensor<?x512xbf16>
  %q, %k, %v = graph.split %c axis 1 sizes [256, 128, 128] : tensor<?x512xbf16> -> tensor<?x256xbf16>, tensor<?x128xbf16>, tensor<?x128xbf16>
  %q3 = graph.reshape %q : tensor<?x256xbf16> -> tensor<?x2x128xbf16>
  %k3 = graph.reshape %k : tensor<?x128xbf16> -> tensor<?x1x128xbf16>
  %v3 = graph.reshape %v : tensor<?x128xbf16> -> tensor<?x1x128xbf16>
  %qr = graph.rope %q3, %pos {theta = 1.0e6 : f64} : (tensor<?x2x128xbf16>, tensor<?xi32>) -> tensor<?x2x128xbf16>
  %kr = graph.rope %k3, %pos {theta = 1.0e6 : f64} : (tensor<?x1x128xbf16>, tensor<?xi32>) -> tensor<?x1x128xbf16>
  %o = graph.attention %qr, %kr, %v3, %cu {causal, scale = 0.088 : f64} : (tensor<?x2x128xbf16>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>, tensor<?xi32>) -> tensor<?x2x128xbf16>
  return %o : tensor<?x2x128xbf16>
}

// -----

// A weight quantized in 128x128 blocks: its own blocks kernel, with the
// concatenation of the merged projections read in place.
// CHECK-LABEL: func.func @weight_blocks
// CHECK: kernel.fused "quantize" schedule blocks(%{{.+}}, %{{.+}})
// CHECK: graph.concat
// CHECK: fp8.quantize {{.*}} layout 128x128
func.func @weight_blocks(%a: tensor<128x256xbf16>, %b: tensor<128x256xbf16>) -> (tensor<256x256xf8E4M3FN>, tensor<2x2xf32>) {
  %c = graph.concat %a, %b axis 0 : (tensor<128x256xbf16>, tensor<128x256xbf16>) -> tensor<256x256xbf16>
  %d, %s = fp8.quantize %c layout 128x128 scale pow2_f32 role weight : tensor<256x256xbf16> -> tensor<256x256xf8E4M3FN>, tensor<2x2xf32>
  return %d, %s : tensor<256x256xf8E4M3FN>, tensor<2x2xf32>
}

// -----

// Library ops stay outside kernels; ops over different rows do not fuse.
// CHECK-LABEL: func.func @rows_differ
// CHECK: kernel.fused "cast" schedule rows(%{{.+}}) : (tensor<64x32xbf16>)
// CHECK: graph.matmul
// CHECK: kernel.fused "silu" schedule rows(%{{.+}}) : (tensor<?x64xf32>)
func.func @rows_differ(%x: tensor<?x32xf32>, %w: tensor<64x32xbf16>) -> (tensor<64x32xf32>, tensor<?x64xf32>) {
  %wf = graph.cast %w : tensor<64x32xbf16> to tensor<64x32xf32>
  %y = graph.matmul %x, %wf {transpose_rhs} : (tensor<?x32xf32>, tensor<64x32xf32>) -> tensor<?x64xf32>
  %z = graph.silu %y : tensor<?x64xf32>
  return %wf, %z : tensor<64x32xf32>, tensor<?x64xf32>
}

// -----

// A producer whose other reader leads back into the kernel only through a
// kernel formed earlier (a group spanning past the consumer) must not join:
// the result stays acyclic (the pass fails rather than emit a cycle).
// CHECK-LABEL: func.func @no_cycle_through_groups
// CHECK: return
func.func @no_cycle_through_groups(%a: tensor<?x64xf32>, %b: tensor<?x64xf32>, %c: tensor<?x64xf32>, %d: tensor<?x64xf32>, %w: tensor<64x64xf32>, %w2: tensor<64x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  %z = graph.add %a, %b : tensor<?x64xf32>
  %p = graph.mul %c, %d : tensor<?x64xf32>
  %r = graph.add %z, %p : tensor<?x64xf32>
  %x1 = graph.matmul %p, %w : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
  %x2 = graph.matmul %x1, %w2 : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
  %y = graph.add %z, %x2 : tensor<?x64xf32>
  %l = graph.matmul %r, %w : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
  return %y, %l : tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// A block-quantization kernel writes only its FP8 blocks: a cast another op
// also reads is computed by a kernel of its own.
// CHECK-LABEL: func.func @blocks_write_only_blocks
// CHECK: %[[C:.+]] = kernel.fused "cast" schedule rows
// CHECK: kernel.fused "quantize" schedule blocks(%[[C]])
// CHECK: graph.embedding %[[C]]
func.func @blocks_write_only_blocks(%w: tensor<256x256xf32>, %ids: tensor<?xi32>) -> (tensor<256x256xf8E4M3FN>, tensor<2x2xf32>, tensor<?x256xbf16>) {
  %wb = graph.cast %w : tensor<256x256xf32> to tensor<256x256xbf16>
  %d, %s = fp8.quantize %wb layout 128x128 scale pow2_f32 role weight : tensor<256x256xbf16> -> tensor<256x256xf8E4M3FN>, tensor<2x2xf32>
  %e = graph.embedding %wb[%ids] : tensor<256x256xbf16>, tensor<?xi32> -> tensor<?x256xbf16>
  return %d, %s, %e : tensor<256x256xf8E4M3FN>, tensor<2x2xf32>, tensor<?x256xbf16>
}
