// Every fp8 verifier rule of docs/dialects/fp8-semantics.md, one per split.
// Functions are named <op>_c<N> / <attr>_r<N> after the rule they break.

// RUN: infir2-opt %s --split-input-file --verify-diagnostics

//===----------------------------------------------------------------------===//
// fp8.quantize
//===----------------------------------------------------------------------===//

func.func @quantize_c1_rank(%x: tensor<256xbf16>) {
  // expected-error @+1 {{'fp8.quantize' op (C1) input must be a 2-D tensor of f32, bf16 or f16, got 'tensor<256xbf16>'}}
  %0:2 = fp8.quantize %x layout 1x128 scale pow2_f32 : tensor<256xbf16> -> tensor<256xf8E4M3FN>, tensor<2xf32>
  return
}

// -----

func.func @quantize_c1_element(%x: tensor<4x256xf8E5M2>) {
  // expected-error @+1 {{(C1) input must be a 2-D tensor of f32, bf16 or f16, got 'tensor<4x256xf8E5M2>'}}
  %0:2 = fp8.quantize %x layout 1x128 scale pow2_f32 : tensor<4x256xf8E5M2> -> tensor<4x256xf8E4M3FN>, tensor<4x2xf32>
  return
}

// -----

func.func @quantize_c2_element(%x: tensor<4x256xbf16>) {
  // expected-error @+1 {{(C2) data element type must be f8E4M3FN or f8E5M2, got 'i8'}}
  %0:2 = fp8.quantize %x layout 1x128 scale pow2_f32 : tensor<4x256xbf16> -> tensor<4x256xi8>, tensor<4x2xf32>
  return
}

// -----

func.func @quantize_c2_shape(%x: tensor<256x300xbf16>) {
  // expected-error @+1 {{(C2) data shape 256x301 does not match input shape 256x300}}
  %0:2 = fp8.quantize %x layout 1x128 scale pow2_f32 : tensor<256x300xbf16> -> tensor<256x301xf8E4M3FN>, tensor<256x3xf32>
  return
}

// -----

func.func @quantize_c3(%x: tensor<256x300xbf16>) {
  // expected-error @+1 {{(C3) layout 64x128 is not a legal tile; legal layouts are 1x128, 128x1, 128x128, per_row and per_tensor}}
  %0:2 = fp8.quantize %x layout 64x128 scale pow2_f32 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<4x3xf32>
  return
}

// -----

func.func @quantize_c3_transposed(%x: tensor<256x300xbf16>) {
  // expected-error @+1 {{(C3) transposed layout 1x32 is not a legal tile; legal layouts are 1x128, 128x1, 128x128, per_row and per_tensor}}
  %0:4 = fp8.quantize %x layout 1x128 transposed 1x32 scale pow2_f32 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<256x3xf32>, tensor<300x256xf8E4M3FN>, tensor<300x8xf32>
  return
}

// -----

func.func @quantize_c4(%x: tensor<256x300xbf16>) {
  // expected-error @+1 {{(C4) scale element type 'f32' does not match scale rule e8m0, which stores 'f8E8M0FNU'}}
  %0:2 = fp8.quantize %x layout 128x128 scale e8m0 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<2x3xf32>
  return
}

// -----

func.func @quantize_c4_pow2_is_f32(%x: tensor<256x300xbf16>) {
  // expected-error @+1 {{(C4) scale element type 'f8E8M0FNU' does not match scale rule pow2_f32, which stores 'f32'}}
  %0:2 = fp8.quantize %x layout 128x128 scale pow2_f32 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<2x3xf8E8M0FNU>
  return
}

// -----

func.func @quantize_c4_transposed(%x: tensor<256x300xbf16>) {
  // expected-error @+1 {{(C4) transposed scale element type 'f32' does not match scale rule e8m0, which stores 'f8E8M0FNU'}}
  %0:4 = fp8.quantize %x layout 1x128 transposed 1x128 scale e8m0 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<256x3xf8E8M0FNU>, tensor<300x256xf8E4M3FN>, tensor<300x2xf32>
  return
}

// -----

func.func @quantize_c5(%x: tensor<256x300xbf16>) {
  // expected-error @+1 {{(C5) scale shape 2x2 does not match ceil-div of data shape 256x300 by tile 128x128, which is 2x3}}
  %0:2 = fp8.quantize %x layout 128x128 scale exact_f32 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<2x2xf32>
  return
}

// -----

func.func @quantize_c5_per_row(%x: tensor<256x300xbf16>) {
  // expected-error @+1 {{(C5) scale shape 256x3 does not match ceil-div of data shape 256x300 by tile 1x300, which is 256x1}}
  %0:2 = fp8.quantize %x layout per_row scale exact_f32 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<256x3xf32>
  return
}

// -----

func.func @quantize_c5_rank(%x: tensor<256x300xbf16>) {
  // expected-error @+1 {{(C5) scale must be a 2-D tensor, got rank 1}}
  %0:2 = fp8.quantize %x layout per_tensor scale exact_f32 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<1xf32>
  return
}

// -----

func.func @quantize_c5_transposed(%x: tensor<256x300xbf16>) {
  // expected-error @+1 {{(C5) transposed scale shape 300x3 does not match ceil-div of data shape 300x256 by tile 1x128, which is 300x2}}
  %0:4 = fp8.quantize %x layout 1x128 transposed 1x128 scale pow2_f32 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<256x3xf32>, tensor<300x256xf8E4M3FN>, tensor<300x3xf32>
  return
}

// -----

func.func @quantize_c6_missing_results(%x: tensor<256x300xbf16>) {
  // expected-error @+1 {{(C6) a transposed layout needs the data_t and scales_t results}}
  %0:2 = fp8.quantize %x layout 1x128 transposed 1x128 scale pow2_f32 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<256x3xf32>
  return
}

// -----

func.func @quantize_c6_missing_layout(%x: tensor<256x300xbf16>) {
  // expected-error @+1 {{(C6) data_t and scales_t need a transposed layout}}
  %0:4 = fp8.quantize %x layout 1x128 scale pow2_f32 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<256x3xf32>, tensor<300x256xf8E4M3FN>, tensor<300x2xf32>
  return
}

// -----

func.func @quantize_c6_only_data_t(%x: tensor<256x300xbf16>) {
  // expected-error @+1 {{(C6) data_t and scales_t come together; got only data_t}}
  %0:3 = "fp8.quantize"(%x) <{layout = #fp8.layout<1x128>, transposed_layout = #fp8.layout<1x128>, scale_rule = #fp8.scale_rule<pow2_f32>, resultSegmentSizes = array<i32: 1, 1, 1, 0>}> : (tensor<256x300xbf16>) -> (tensor<256x300xf8E4M3FN>, tensor<256x3xf32>, tensor<300x256xf8E4M3FN>)
  return
}

// -----

func.func @quantize_c6_element(%x: tensor<256x300xbf16>) {
  // expected-error @+1 {{(C6) transposed data element type 'f8E5M2' differs from data element type 'f8E4M3FN'}}
  %0:4 = fp8.quantize %x layout 1x128 transposed 1x128 scale pow2_f32 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<256x3xf32>, tensor<300x256xf8E5M2>, tensor<300x2xf32>
  return
}

// -----

func.func @quantize_c6_shape(%x: tensor<256x300xbf16>) {
  // expected-error @+1 {{(C6) transposed data shape 256x300 does not match the transposed input shape 300x256}}
  %0:4 = fp8.quantize %x layout 1x128 transposed 1x128 scale pow2_f32 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<256x3xf32>, tensor<256x300xf8E4M3FN>, tensor<256x3xf32>
  return
}

// -----

// Scale shapes are checked against what input and data say together: the
// data fix M = 256 although the input leaves it dynamic.
func.func @quantize_c5_joined(%x: tensor<?x300xbf16>) {
  // expected-error @+1 {{(C5) scale shape 7x3 does not match ceil-div of data shape 256x300 by tile 128x128, which is 2x3}}
  %0:2 = fp8.quantize %x layout 128x128 scale pow2_f32 : tensor<?x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<7x3xf32>
  return
}

// -----

func.func @quantize_c6_joined(%x: tensor<?x?xbf16>) {
  // expected-error @+1 {{(C6) transposed data shape 100x100 does not match the transposed input shape 300x256}}
  %0:4 = fp8.quantize %x layout 1x128 transposed 1x128 scale pow2_f32 : tensor<?x?xbf16> -> tensor<256x300xf8E4M3FN>, tensor<256x3xf32>, tensor<100x100xf8E4M3FN>, tensor<100x1xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// fp8.dequantize
//===----------------------------------------------------------------------===//

func.func @dequantize_c1(%d: tensor<4x256xbf16>, %s: tensor<4x2xf32>) {
  // expected-error @+1 {{'fp8.dequantize' op (C1) data must be a 2-D tensor of f8E4M3FN or f8E5M2, got 'tensor<4x256xbf16>'}}
  %0 = fp8.dequantize %d, %s layout 1x128 : tensor<4x256xbf16>, tensor<4x2xf32> -> tensor<4x256xbf16>
  return
}

// -----

func.func @dequantize_c2(%d: tensor<4x256xf8E4M3FN>, %s: tensor<4x2xbf16>) {
  // expected-error @+1 {{(C2) scale element type must be f32 or f8E8M0FNU, got 'bf16'}}
  %0 = fp8.dequantize %d, %s layout 1x128 : tensor<4x256xf8E4M3FN>, tensor<4x2xbf16> -> tensor<4x256xbf16>
  return
}

// -----

func.func @dequantize_c3(%d: tensor<4x256xf8E4M3FN>, %s: tensor<4x8xf32>) {
  // expected-error @+1 {{(C3) layout 1x32 is not a legal tile}}
  %0 = fp8.dequantize %d, %s layout 1x32 : tensor<4x256xf8E4M3FN>, tensor<4x8xf32> -> tensor<4x256xbf16>
  return
}

// -----

func.func @dequantize_c4(%d: tensor<512x1536xf8E4M3FN>, %s: tensor<4x11xf32>) {
  // expected-error @+1 {{(C4) scale shape 4x11 does not match ceil-div of data shape 512x1536 by tile 128x128, which is 4x12}}
  %0 = fp8.dequantize %d, %s layout 128x128 : tensor<512x1536xf8E4M3FN>, tensor<4x11xf32> -> tensor<512x1536xbf16>
  return
}

// -----

func.func @dequantize_c5_element(%d: tensor<4x256xf8E4M3FN>, %s: tensor<4x2xf32>) {
  // expected-error @+1 {{(C5) result element type must be f32, bf16 or f16, got 'f8E4M3FN'}}
  %0 = fp8.dequantize %d, %s layout 1x128 : tensor<4x256xf8E4M3FN>, tensor<4x2xf32> -> tensor<4x256xf8E4M3FN>
  return
}

// -----

func.func @dequantize_c5_shape(%d: tensor<4x256xf8E4M3FN>, %s: tensor<4x2xf32>) {
  // expected-error @+1 {{(C5) result shape 256x4 does not match data shape 4x256}}
  %0 = fp8.dequantize %d, %s layout 1x128 : tensor<4x256xf8E4M3FN>, tensor<4x2xf32> -> tensor<256x4xbf16>
  return
}

// -----

func.func @dequantize_c4_joined(%d: tensor<?x1536xf8E4M3FN>, %s: tensor<3x12xf32>) {
  // expected-error @+1 {{(C4) scale shape 3x12 does not match ceil-div of data shape 512x1536 by tile 128x128, which is 4x12}}
  %0 = fp8.dequantize %d, %s layout 128x128 : tensor<?x1536xf8E4M3FN>, tensor<3x12xf32> -> tensor<512x1536xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// fp8.scaled_matmul
//===----------------------------------------------------------------------===//

func.func @scaled_matmul_c1(%x: tensor<256x1536xbf16>, %xs: tensor<256x12xf32>, %w: tensor<256x1536xf8E4M3FN>, %ws: tensor<2x12xf32>) {
  // expected-error @+1 {{'fp8.scaled_matmul' op (C1) lhs must be a 2-D tensor of f8E4M3FN or f8E5M2, got 'tensor<256x1536xbf16>'}}
  %0 = fp8.scaled_matmul %x, %xs layout 1x128, %w, %ws layout 128x128 transposed : tensor<256x1536xbf16>, tensor<256x12xf32>, tensor<256x1536xf8E4M3FN>, tensor<2x12xf32> -> tensor<256x256xbf16>
  return
}

// -----

func.func @scaled_matmul_c1_e5m2(%x: tensor<256x1536xf8E5M2>, %xs: tensor<256x12xf32>, %w: tensor<256x1536xf8E5M2>, %ws: tensor<2x12xf32>) {
  // expected-error @+1 {{(C1) lhs and rhs are both f8E5M2; at most one operand may be f8E5M2 (cuBLASLt's FP8 GEMMs, which the CUDA backend uses, have no E5M2 x E5M2 form)}}
  %0 = fp8.scaled_matmul %x, %xs layout 1x128, %w, %ws layout 128x128 transposed : tensor<256x1536xf8E5M2>, tensor<256x12xf32>, tensor<256x1536xf8E5M2>, tensor<2x12xf32> -> tensor<256x256xbf16>
  return
}

// -----

func.func @scaled_matmul_c2(%x: tensor<256x1536xf8E4M3FN>, %xs: tensor<256x12xbf16>, %w: tensor<256x1536xf8E4M3FN>, %ws: tensor<2x12xf32>) {
  // expected-error @+1 {{(C2) lhs scale element type must be f32 or f8E8M0FNU, got 'bf16'}}
  %0 = fp8.scaled_matmul %x, %xs layout 1x128, %w, %ws layout 128x128 transposed : tensor<256x1536xf8E4M3FN>, tensor<256x12xbf16>, tensor<256x1536xf8E4M3FN>, tensor<2x12xf32> -> tensor<256x256xbf16>
  return
}

// -----

func.func @scaled_matmul_c2_mixed(%x: tensor<256x1536xf8E4M3FN>, %xs: tensor<256x12xf8E8M0FNU>, %w: tensor<256x1536xf8E4M3FN>, %ws: tensor<2x12xf32>) {
  // expected-error @+1 {{(C2) lhs scales are 'f8E8M0FNU' but rhs scales are 'f32'; both operands must use the same scale type}}
  %0 = fp8.scaled_matmul %x, %xs layout 1x128, %w, %ws layout 128x128 transposed : tensor<256x1536xf8E4M3FN>, tensor<256x12xf8E8M0FNU>, tensor<256x1536xf8E4M3FN>, tensor<2x12xf32> -> tensor<256x256xbf16>
  return
}

// -----

func.func @scaled_matmul_c3(%x: tensor<256x1536xf8E4M3FN>, %xs: tensor<256x48xf32>, %w: tensor<256x1536xf8E4M3FN>, %ws: tensor<2x12xf32>) {
  // expected-error @+1 {{(C3) lhs layout 1x32 is not a legal tile; legal layouts are 1x128, 128x1, 128x128, per_row and per_tensor}}
  %0 = fp8.scaled_matmul %x, %xs layout 1x32, %w, %ws layout 128x128 transposed : tensor<256x1536xf8E4M3FN>, tensor<256x48xf32>, tensor<256x1536xf8E4M3FN>, tensor<2x12xf32> -> tensor<256x256xbf16>
  return
}

// -----

func.func @scaled_matmul_c4(%x: tensor<256x1536xf8E4M3FN>, %xs: tensor<256x12xf32>, %w: tensor<256x1536xf8E4M3FN>, %ws: tensor<12x2xf32>) {
  // expected-error @+1 {{(C4) rhs scale shape 12x2 does not match ceil-div of data shape 256x1536 by tile 128x128, which is 2x12}}
  %0 = fp8.scaled_matmul %x, %xs layout 1x128, %w, %ws layout 128x128 transposed : tensor<256x1536xf8E4M3FN>, tensor<256x12xf32>, tensor<256x1536xf8E4M3FN>, tensor<12x2xf32> -> tensor<256x256xbf16>
  return
}

// -----

// The lhs leaves K dynamic; the rhs fixes it at 1536, so the lhs scales need
// 12 columns.
func.func @scaled_matmul_c4_joined(%x: tensor<256x?xf8E4M3FN>, %xs: tensor<256x3xf32>, %w: tensor<256x1536xf8E4M3FN>, %ws: tensor<2x12xf32>) {
  // expected-error @+1 {{(C4) lhs scale shape 256x3 does not match ceil-div of data shape 256x1536 by tile 1x128, which is 256x12}}
  %0 = fp8.scaled_matmul %x, %xs layout 1x128, %w, %ws layout 128x128 transposed : tensor<256x?xf8E4M3FN>, tensor<256x3xf32>, tensor<256x1536xf8E4M3FN>, tensor<2x12xf32> -> tensor<256x256xbf16>
  return
}

// -----

func.func @scaled_matmul_c5(%x: tensor<256x1536xf8E4M3FN>, %xs: tensor<256x12xf32>, %w: tensor<256x1536xf8E4M3FN>, %ws: tensor<2x12xf32>) {
  // expected-error @+1 {{(C5) contraction dimensions differ: lhs 256x1536 contracts dimension 1 of size 1536, rhs 256x1536 contracts dimension 0 of size 256}}
  %0 = fp8.scaled_matmul %x, %xs layout 1x128, %w, %ws layout 128x128 : tensor<256x1536xf8E4M3FN>, tensor<256x12xf32>, tensor<256x1536xf8E4M3FN>, tensor<2x12xf32> -> tensor<256x1536xbf16>
  return
}

// -----

func.func @scaled_matmul_c6_lhs(%x: tensor<256x1536xf8E4M3FN>, %xs: tensor<2x1536xf32>, %w: tensor<256x1536xf8E4M3FN>, %ws: tensor<2x12xf32>) {
  // expected-error @+1 {{(C6) lhs layout 128x1 runs along dimension 0 but lhs contracts dimension 1; 1-D tiles must run along the contraction dimension}}
  %0 = fp8.scaled_matmul %x, %xs layout 128x1, %w, %ws layout 128x128 transposed : tensor<256x1536xf8E4M3FN>, tensor<2x1536xf32>, tensor<256x1536xf8E4M3FN>, tensor<2x12xf32> -> tensor<256x256xbf16>
  return
}

// -----

func.func @scaled_matmul_c6_rhs_per_row(%x: tensor<256x1536xf8E4M3FN>, %xs: tensor<256x12xf32>, %w: tensor<1536x256xf8E4M3FN>, %ws: tensor<1536x1xf32>) {
  // expected-error @+1 {{(C6) rhs layout per_row runs along dimension 1 but rhs contracts dimension 0; 1-D tiles must run along the contraction dimension}}
  %0 = fp8.scaled_matmul %x, %xs layout 1x128, %w, %ws layout per_row : tensor<256x1536xf8E4M3FN>, tensor<256x12xf32>, tensor<1536x256xf8E4M3FN>, tensor<1536x1xf32> -> tensor<256x256xbf16>
  return
}

// -----

func.func @scaled_matmul_c7(%x: tensor<256x1536xf8E4M3FN>, %xs: tensor<2x12xf32>, %w: tensor<256x1536xf8E4M3FN>, %ws: tensor<2x12xf32>) {
  // expected-error @+1 {{(C7) both operands use 128x128 blocks; at most one operand may}}
  %0 = fp8.scaled_matmul %x, %xs layout 128x128, %w, %ws layout 128x128 transposed : tensor<256x1536xf8E4M3FN>, tensor<2x12xf32>, tensor<256x1536xf8E4M3FN>, tensor<2x12xf32> -> tensor<256x256xbf16>
  return
}

// -----

func.func @scaled_matmul_c8_element(%x: tensor<256x1536xf8E4M3FN>, %xs: tensor<256x12xf32>, %w: tensor<256x1536xf8E4M3FN>, %ws: tensor<2x12xf32>) {
  // expected-error @+1 {{(C8) result element type must be bf16 or f32, got 'f16'}}
  %0 = fp8.scaled_matmul %x, %xs layout 1x128, %w, %ws layout 128x128 transposed : tensor<256x1536xf8E4M3FN>, tensor<256x12xf32>, tensor<256x1536xf8E4M3FN>, tensor<2x12xf32> -> tensor<256x256xf16>
  return
}

// -----

func.func @scaled_matmul_c8_shape(%x: tensor<?x1536xf8E4M3FN>, %xs: tensor<?x12xf32>, %w: tensor<256x1536xf8E4M3FN>, %ws: tensor<2x12xf32>) {
  // expected-error @+1 {{(C8) result shape ?x1536 does not match [M, N] = ?x256}}
  %0 = fp8.scaled_matmul %x, %xs layout 1x128, %w, %ws layout 128x128 transposed : tensor<?x1536xf8E4M3FN>, tensor<?x12xf32>, tensor<256x1536xf8E4M3FN>, tensor<2x12xf32> -> tensor<?x1536xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

// expected-error @+1 {{(R2) quantized element type must be f8E4M3FN or f8E5M2, got 'bf16'}}
func.func @quant_r2() attributes {fp8.q = #fp8.quant<bf16, 1x128, pow2_f32>} {
  return
}

// -----

// expected-error @+1 {{(R3) layout 64x64 is not a legal tile; legal layouts are 1x128, 128x1, 128x128, per_row and per_tensor}}
func.func @quant_r3() attributes {fp8.q = #fp8.quant<f8E4M3FN, 64x64, pow2_f32>} {
  return
}

// -----

// expected-error @+1 {{(R4) weight layout 128x1 is not a recipe choice: recipes give layouts along the forward GEMM's reduction dimension and the compiler derives the column-wise copies}}
func.func @recipe_r4() attributes {fp8.r = #fp8.recipe<activation = <f8E4M3FN, 1x128, pow2_f32>, weight = <f8E4M3FN, 128x1, pow2_f32>, gradient = <f8E4M3FN, 1x128, pow2_f32>>} {
  return
}

// -----

// expected-error @+1 {{(R5) 2 roles use 128x128 blocks, at most one may: every pair of roles meets in one GEMM and a GEMM takes at most one 2-D-blocked operand}}
func.func @recipe_r5() attributes {fp8.r = #fp8.recipe<activation = <f8E4M3FN, 128x128, pow2_f32>, weight = <f8E4M3FN, 128x128, pow2_f32>, gradient = <f8E4M3FN, 1x128, pow2_f32>>} {
  return
}

// -----

// expected-error @+1 {{(R1) tile 0x128 must have positive dimensions}}
func.func @layout_r1() attributes {fp8.l = #fp8.layout<0x128>} {
  return
}

// -----

// expected-error @+1 {{(R6) 2 roles are f8E5M2, at most one may: every pair of roles meets in one GEMM and a GEMM takes at most one f8E5M2 operand}}
func.func @recipe_r6() attributes {fp8.r = #fp8.recipe<activation = <f8E5M2, 1x128, pow2_f32>, weight = <f8E4M3FN, 128x128, pow2_f32>, gradient = <f8E5M2, 1x128, pow2_f32>>} {
  return
}

// -----

// expected-error @+1 {{(R7) 1 of 3 roles use e8m0 scales; all or none may: a GEMM's two operands have scales of one type}}
func.func @recipe_r7() attributes {fp8.r = #fp8.recipe<activation = <f8E4M3FN, 1x128, e8m0>, weight = <f8E4M3FN, 128x128, pow2_f32>, gradient = <f8E4M3FN, 1x128, pow2_f32>>} {
  return
}

// -----

// expected-error @+1 {{expected a tile RxC, per_row or per_tensor}}
func.func @layout_rank() attributes {fp8.l = #fp8.layout<1x128x2>} {
  return
}

// -----

// expected-error @+1 {{unknown scale_rule 'fp32'; expected one of exact_f32, pow2_f32, e8m0}}
func.func @scale_rule_unknown() attributes {fp8.s = #fp8.scale_rule<fp32>} {
  return
}

// -----

func.func @role_unknown(%x: tensor<4x256xbf16>) {
  // expected-error @+1 {{unknown role 'bias'; expected one of activation, weight, gradient}}
  %0:2 = fp8.quantize %x layout 1x128 scale pow2_f32 role bias : tensor<4x256xbf16> -> tensor<4x256xf8E4M3FN>, tensor<4x2xf32>
  return
}

// -----

// expected-error @+1 {{unknown fp8 attribute 'tile'; expected layout, scale_rule, method, role, quant or recipe}}
func.func @attribute_unknown() attributes {fp8.t = #fp8.tile<1x128>} {
  return
}
