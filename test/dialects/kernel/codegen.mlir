// The CUDA C++ the code generator writes for a kernel.fused region
// (infir2-translate --kernel-to-cuda; docs/codegen.md).

// RUN: infir2-translate --kernel-to-cuda %s | FileCheck %s

// CHECK: #include "infir2_prelude.h"
// CHECK: INFIR2_CONST float inv_freq_128_{{[0-9A-F]+}}[64] = {0x1p+0f,

// Residual add + RMSNorm + quantization in both orientations: per row, one
// loop for the sum of squares, one that writes the sum, the row-wise FP8
// data and scales and the column amax; then, per 128-row tile, the
// transposed copy from the same inputs with the stored row scalars.
// CHECK-LABEL: // add_rms_norm_quantize (row_tiles): graph.add, graph.rms_norm, fp8.quantize
// CHECK: struct [[K:add_rms_norm_quantize_[0-9a-f]+]]_args {
// CHECK-NEXT: const u16 *__restrict__ in0;
// CHECK-NEXT: const u16 *__restrict__ in1;
// CHECK-NEXT: const u16 *__restrict__ in2;
// CHECK-NEXT: u16 *__restrict__ out0;
// CHECK-NEXT: u8 *__restrict__ out1;
// CHECK-NEXT: float *__restrict__ out2;
// CHECK-NEXT: u8 *__restrict__ out3;
// CHECK-NEXT: float *__restrict__ out4;
// CHECK-NEXT: i64 rows;
// CHECK-NEXT: i64 *__restrict__ ws;
// CHECK: INFIR2_FN void [[K]]_body(const [[K]]_args &a) {
// CHECK: for (i64 tile = infir2::block(); tile < (rows + 127) / 128; tile += infir2::nblocks()) {
// CHECK: for (i64 row = r0; row < r1; ++row) {
// CHECK: for (i64 c = infir2::tid(); c < 256; c += infir2::nthreads()) {
// CHECK: const float [[X:v[0-9]+]] = infir2::round_bf16(
// CHECK: acc0 += [[X]] * [[X]];
// CHECK: rs0 = 1.0f / sqrtf(infir2::block_sum(acc0, red) / 0x1p+8f + 0x1.0c6f7ap-20f);
// CHECK: if (infir2::tid() == 0) rsm0[(row) - r0] = rs0;
// CHECK: for (i64 t = infir2::warp(); t < 2; t += infir2::nwarps()) {
// CHECK: a.out0[(row) * 256 + c] = infir2::f32_to_bf16(
// CHECK: qa1 = fmaxf(qa1, infir2::amax_of(
// CHECK: = infir2::warp_max(qa1);
// CHECK: = infir2::te_scale(am1, 0x1.cp+8f, true);
// CHECK: a.out1[(row) * 256 + c] = infir2::quantize(qv1[j], ts1, false);
// CHECK: a.out4[c * ((rows + 127) / 128) + tile] =
// CHECK: for (i64 r = r0; r < r1; ++r) {
// CHECK: rsm0[(r) - r0]
// CHECK: a.out3[c * rows + r] = infir2::quantize(
// CHECK: extern "C" __global__ void __launch_bounds__(64) [[K]]([[K]]_args a) { [[K]]_body(a); }
// CHECK: extern "C" void [[K]](const void *args, i64 grid, i64 smem) {
// CHECK: infir2::run_blocks(grid, smem, [&] { [[K]]_body(a); });
func.func @residual_norm_quantize(%x: tensor<?x256xbf16>, %r: tensor<?x256xbf16>, %w: tensor<256xbf16>) -> (tensor<?x256xbf16>, tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<256x?xf8E4M3FN>, tensor<256x?xf32>) {
  %0:5 = kernel.fused "add_rms_norm_quantize" schedule row_tiles(%x, %r, %w) : (tensor<?x256xbf16>, tensor<?x256xbf16>, tensor<256xbf16>) -> (tensor<?x256xbf16>, tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<256x?xf8E4M3FN>, tensor<256x?xf32>) {
  ^bb0(%a: tensor<?x256xbf16>, %b: tensor<?x256xbf16>, %g: tensor<256xbf16>):
    %h = graph.add %a, %b : tensor<?x256xbf16>
    %n = graph.rms_norm %h, %g {epsilon = 1.0e-06 : f64} : (tensor<?x256xbf16>, tensor<256xbf16>) -> tensor<?x256xbf16>
    %d, %s, %dt, %st = fp8.quantize %n layout 1x128 transposed 1x128 scale pow2_f32 role activation : tensor<?x256xbf16> -> tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<256x?xf8E4M3FN>, tensor<256x?xf32>
    kernel.yield %h, %d, %s, %dt, %st : tensor<?x256xbf16>, tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<256x?xf8E4M3FN>, tensor<256x?xf32>
  }
  return %0#0, %0#1, %0#2, %0#3, %0#4 : tensor<?x256xbf16>, tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<256x?xf8E4M3FN>, tensor<256x?xf32>
}

// The cross entropy forward and backward: the max, then the sum of
// exponentials (a later stage: it reads the max), then the gradient; an
// out-of-vocabulary label is reported through the workspace; the loss sum
// is a column sum finished by the last block.
// CHECK-LABEL: // cast_cross_entropy_reduce_sum_cross_entropy_grad (rows)
// CHECK: for (i64 row = infir2::block(); row < rows; row += infir2::nblocks()) {
// CHECK: acc[[M:[0-9]+]] = fmaxf(acc[[M]],
// CHECK: rs[[M]] = infir2::block_max(acc[[M]], red);
// CHECK: acc[[S:[0-9]+]] += expf({{.+}} - rs[[M]]);
// CHECK: rs[[S]] = infir2::block_sum(acc[[S]], red);
// CHECK: infir2::report_error(a.ws, 1, row,
// CHECK: logf(rs[[S]])
// CHECK: (1.0f / rs[[S]])
// CHECK: double *const parts = reinterpret_cast<double *>(a.ws + 8);
// CHECK: *last = infir2::atomic_inc(reinterpret_cast<u32 *>(a.ws + 3)) == static_cast<u32>(infir2::nblocks() - 1);
// CHECK: for (i64 b = 0; b < infir2::nblocks(); ++b) total += parts[
func.func @cross_entropy(%logits: tensor<?x512xbf16>, %labels: tensor<?xi32>, %mask: tensor<?xf32>) -> (tensor<f32>, tensor<?x512xbf16>) {
  %0:2 = kernel.fused "cast_cross_entropy_reduce_sum_cross_entropy_grad" schedule rows(%logits, %labels, %mask) : (tensor<?x512xbf16>, tensor<?xi32>, tensor<?xf32>) -> (tensor<f32>, tensor<?x512xbf16>) {
  ^bb0(%l: tensor<?x512xbf16>, %y: tensor<?xi32>, %m: tensor<?xf32>):
    %one = arith.constant dense<1.0> : tensor<f32>
    %f = graph.cast %l : tensor<?x512xbf16> to tensor<?x512xf32>
    %nll = graph.cross_entropy %f, %y, %m : (tensor<?x512xf32>, tensor<?xi32>, tensor<?xf32>) -> tensor<?xf32>
    %sum = graph.reduce_sum %nll axes [0] : tensor<?xf32> -> tensor<f32>
    %seed = graph.broadcast %one dims [] like %nll : tensor<f32>, tensor<?xf32> -> tensor<?xf32>
    %g = graph.cross_entropy_grad %seed, %f, %y, %m : (tensor<?xf32>, tensor<?x512xf32>, tensor<?xi32>, tensor<?xf32>) -> tensor<?x512xf32>
    %gb = graph.cast %g : tensor<?x512xf32> to tensor<?x512xbf16>
    kernel.yield %sum, %gb : tensor<f32>, tensor<?x512xbf16>
  }
  return %0#0, %0#1 : tensor<f32>, tensor<?x512xbf16>
}

// RoPE reads the partner element of each pair and the position of the row;
// the inverse frequencies are a table of the translation unit (above).
// CHECK-LABEL: // rope (rows): graph.rope
// CHECK: const bool [[F:f[0-9]+]] = [[D:d[0-9]+]] < 64;
// CHECK: infir2::sin_cos(
// CHECK: ([[F]] ? (
func.func @rope(%x: tensor<?x2x128xbf16>, %pos: tensor<?xi32>) -> tensor<?x2x128xbf16> {
  %0 = kernel.fused "rope" schedule rows(%x, %pos) : (tensor<?x2x128xbf16>, tensor<?xi32>) -> tensor<?x2x128xbf16> {
  ^bb0(%a: tensor<?x2x128xbf16>, %p: tensor<?xi32>):
    %r = graph.rope %a, %p {theta = 1.0e6 : f64} : (tensor<?x2x128xbf16>, tensor<?xi32>) -> tensor<?x2x128xbf16>
    kernel.yield %r : tensor<?x2x128xbf16>
  }
  return %0 : tensor<?x2x128xbf16>
}

// AdamW with the bf16 copy of the new master: one pass over the
// parameter, the arithmetic of runtime/train/optimizer.cc with the 8
// scalars read from `hyper`, each shared subexpression computed once.
// CHECK-LABEL: // adamw_cast (rows): graph.adamw, graph.cast
// CHECK: if (c < 8) {
// CHECK: const float [[CLIP:v[0-9]+]] = a.in4[(0)];
// CHECK: const float [[G:v[0-9]+]] = {{v[0-9]+}} * [[CLIP]];
// CHECK: const float [[M:v[0-9]+]] = [[M0:v[0-9]+]] + {{v[0-9]+}} * ([[G]] - [[M0]]);
// CHECK: const float [[V:v[0-9]+]] = {{v[0-9]+}} * {{v[0-9]+}} + {{v[0-9]+}} * [[G]] * [[G]];
// CHECK: const float [[D:v[0-9]+]] = sqrtf([[V]]) / {{v[0-9]+}} + {{v[0-9]+}};
// CHECK: const float [[P:v[0-9]+]] = {{v[0-9]+}} * {{v[0-9]+}} + -{{v[0-9]+}} * [[M]] / [[D]];
// CHECK-NEXT: a.out0[(row) * 8 + c] = [[P]];
// CHECK-NOT: * [[CLIP]];
// CHECK: a.out3[(row) * 8 + c] = infir2::f32_to_bf16(
func.func @adamw(%p: tensor<16x8xf32>, %g: tensor<16x8xf32>, %m: tensor<16x8xf32>, %v: tensor<16x8xf32>, %h: tensor<8xf32>) -> (tensor<16x8xf32>, tensor<16x8xf32>, tensor<16x8xf32>, tensor<16x8xbf16>) {
  %0:4 = kernel.fused "adamw_cast" schedule rows(%p, %g, %m, %v, %h) : (tensor<16x8xf32>, tensor<16x8xf32>, tensor<16x8xf32>, tensor<16x8xf32>, tensor<8xf32>) -> (tensor<16x8xf32>, tensor<16x8xf32>, tensor<16x8xf32>, tensor<16x8xbf16>) {
  ^bb0(%a: tensor<16x8xf32>, %b: tensor<16x8xf32>, %c: tensor<16x8xf32>, %d: tensor<16x8xf32>, %e: tensor<8xf32>):
    %np, %nm, %nv = graph.adamw %a, %b, %c, %d, %e : (tensor<16x8xf32>, tensor<16x8xf32>, tensor<16x8xf32>, tensor<16x8xf32>, tensor<8xf32>) -> (tensor<16x8xf32>, tensor<16x8xf32>, tensor<16x8xf32>)
    %w = graph.cast %np : tensor<16x8xf32> to tensor<16x8xbf16>
    kernel.yield %np, %nm, %nv, %w : tensor<16x8xf32>, tensor<16x8xf32>, tensor<16x8xf32>, tensor<16x8xbf16>
  }
  return %0#0, %0#1, %0#2, %0#3 : tensor<16x8xf32>, tensor<16x8xf32>, tensor<16x8xf32>, tensor<16x8xbf16>
}
