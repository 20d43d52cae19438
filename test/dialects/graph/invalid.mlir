// Every graph verifier error, one per split.

// RUN: infir2-opt %s --split-input-file --verify-diagnostics

func.func @embedding_table_rank(%t: tensor<1000xbf16>, %ids: tensor<4xi32>) {
  // expected-error @+1 {{'graph.embedding' op table must be rank 2 ([vocab, hidden]), got rank 1}}
  %0 = graph.embedding %t[%ids] : tensor<1000xbf16>, tensor<4xi32> -> tensor<4x64xbf16>
  return
}

// -----

func.func @embedding_result_shape(%t: tensor<1000x64xbf16>, %ids: tensor<4xi32>) {
  // expected-error @+1 {{result shape 4x32 does not match the expected 4x64 (the ids' shape followed by the table's hidden size, with the table's element type)}}
  %0 = graph.embedding %t[%ids] : tensor<1000x64xbf16>, tensor<4xi32> -> tensor<4x32xbf16>
  return
}

// -----

func.func @embedding_result_type(%t: tensor<1000x64xbf16>, %ids: tensor<4xi32>) {
  // expected-error @+1 {{result element type 'f32' must be 'bf16'}}
  %0 = graph.embedding %t[%ids] : tensor<1000x64xbf16>, tensor<4xi32> -> tensor<4x64xf32>
  return
}

// -----

func.func @embedding_float_ids(%t: tensor<1000x64xbf16>, %ids: tensor<4xf32>) {
  // expected-error @+1 {{operand #1 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values}}
  %0 = graph.embedding %t[%ids] : tensor<1000x64xbf16>, tensor<4xf32> -> tensor<4x64xbf16>
  return
}

// -----

func.func @linear_input_rank(%x: tensor<bf16>, %w: tensor<8x4xbf16>) {
  // expected-error @+1 {{input must have rank >= 1 ([..., in_features])}}
  %0 = graph.linear %x, %w : (tensor<bf16>, tensor<8x4xbf16>) -> tensor<8xbf16>
  return
}

// -----

func.func @linear_weight_rank(%x: tensor<2x4xbf16>, %w: tensor<4xbf16>) {
  // expected-error @+1 {{weight must be rank 2 ([out_features, in_features]), got rank 1}}
  %0 = graph.linear %x, %w : (tensor<2x4xbf16>, tensor<4xbf16>) -> tensor<2x4xbf16>
  return
}

// -----

func.func @linear_weight_type(%x: tensor<2x4xbf16>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{weight element type 'f32' differs from input element type 'bf16'}}
  %0 = graph.linear %x, %w : (tensor<2x4xbf16>, tensor<8x4xf32>) -> tensor<2x8xbf16>
  return
}

// -----

func.func @linear_in_features(%x: tensor<?x300xbf16>, %w: tensor<64x256xbf16>) {
  // expected-error @+1 {{input has 300 features (last dimension) but weight 64x256 takes 256 (weight is [out_features, in_features])}}
  %0 = graph.linear %x, %w : (tensor<?x300xbf16>, tensor<64x256xbf16>) -> tensor<?x64xbf16>
  return
}

// -----

func.func @linear_bias_shape(%x: tensor<2x4xbf16>, %w: tensor<8x4xbf16>, %b: tensor<4xbf16>) {
  // expected-error @+1 {{bias shape 4 must be [out_features] = [8]}}
  %0 = graph.linear %x, %w, %b : (tensor<2x4xbf16>, tensor<8x4xbf16>, tensor<4xbf16>) -> tensor<2x8xbf16>
  return
}

// -----

func.func @linear_bias_type(%x: tensor<2x4xbf16>, %w: tensor<8x4xbf16>, %b: tensor<8xf32>) {
  // expected-error @+1 {{bias element type 'f32' differs from input element type 'bf16'}}
  %0 = graph.linear %x, %w, %b : (tensor<2x4xbf16>, tensor<8x4xbf16>, tensor<8xf32>) -> tensor<2x8xbf16>
  return
}

// -----

func.func @linear_result_shape(%x: tensor<2x4xbf16>, %w: tensor<8x4xbf16>) {
  // expected-error @+1 {{result shape 2x4 does not match the expected 2x8 (the input's shape with out_features last)}}
  %0 = graph.linear %x, %w : (tensor<2x4xbf16>, tensor<8x4xbf16>) -> tensor<2x4xbf16>
  return
}

// -----

func.func @linear_fp8_input(%x: tensor<2x4xf8E4M3FN>, %w: tensor<8x4xf8E4M3FN>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float or bfloat16 type or 16-bit float values}}
  %0 = graph.linear %x, %w : (tensor<2x4xf8E4M3FN>, tensor<8x4xf8E4M3FN>) -> tensor<2x8xf8E4M3FN>
  return
}

// -----

func.func @linear_bad_recipe_attr(%x: tensor<2x4xbf16>, %w: tensor<8x4xbf16>) {
  // expected-error @+1 {{attribute 'fp8' failed to satisfy constraint}}
  %0 = graph.linear %x, %w {fp8 = #fp8.layout<1x128>} : (tensor<2x4xbf16>, tensor<8x4xbf16>) -> tensor<2x8xbf16>
  return
}

// -----

func.func @matmul_rank(%a: tensor<4xf32>, %b: tensor<4x8xf32>) {
  // expected-error @+1 {{operands must have one rank >= 2, got ranks 1 and 2}}
  %0 = graph.matmul %a, %b : (tensor<4xf32>, tensor<4x8xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @matmul_types(%a: tensor<4x8xf32>, %b: tensor<8x4xbf16>) {
  // expected-error @+1 {{operand element types differ: 'f32' and 'bf16'}}
  %0 = graph.matmul %a, %b : (tensor<4x8xf32>, tensor<8x4xbf16>) -> tensor<4x4xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x4x8xf32>, %b: tensor<3x8x4xf32>) {
  // expected-error @+1 {{batch dimensions differ: 2 and 3}}
  %0 = graph.matmul %a, %b : (tensor<2x4x8xf32>, tensor<3x8x4xf32>) -> tensor<2x4x4xf32>
  return
}

// -----

#r = #fp8.recipe<activation = <f8E4M3FN, 1x128, pow2_f32>, weight = <f8E4M3FN, 128x128, pow2_f32>, gradient = <f8E4M3FN, 1x128, pow2_f32>>
func.func @matmul_fp8_without_gemm(%a: tensor<4x8xbf16>, %b: tensor<8x4xbf16>) {
  // expected-error @+1 {{fp8 and fp8_gemm go together}}
  %0 = graph.matmul %a, %b {fp8 = #r} : (tensor<4x8xbf16>, tensor<8x4xbf16>) -> tensor<4x4xbf16>
  return
}

// -----

#r = #fp8.recipe<activation = <f8E4M3FN, 1x128, pow2_f32>, weight = <f8E4M3FN, 128x128, pow2_f32>, gradient = <f8E4M3FN, 1x128, pow2_f32>>
func.func @matmul_fp8_dgrad_transposed(%dy: tensor<8x4xbf16>, %w: tensor<8x16xbf16>) {
  // expected-error @+1 {{a dgrad GEMM reads dy * W (no transposes)}}
  %0 = graph.matmul %dy, %w {fp8 = #r, fp8_gemm = #graph.fp8_gemm<dgrad>, transpose_lhs} : (tensor<8x4xbf16>, tensor<8x16xbf16>) -> tensor<4x16xbf16>
  return
}

// -----

#r = #fp8.recipe<activation = <f8E4M3FN, 1x128, pow2_f32>, weight = <f8E4M3FN, 128x128, pow2_f32>, gradient = <f8E4M3FN, 1x128, pow2_f32>>
func.func @matmul_fp8_wgrad_not_transposed(%dy: tensor<4x8xbf16>, %x: tensor<8x16xbf16>) {
  // expected-error @+1 {{a wgrad GEMM reads dy^T * x (transpose_lhs only)}}
  %0 = graph.matmul %dy, %x {fp8 = #r, fp8_gemm = #graph.fp8_gemm<wgrad>} : (tensor<4x8xbf16>, tensor<8x16xbf16>) -> tensor<4x16xf32>
  return
}

// -----

#r = #fp8.recipe<activation = <f8E4M3FN, 1x128, pow2_f32>, weight = <f8E4M3FN, 128x128, pow2_f32>, gradient = <f8E4M3FN, 1x128, pow2_f32>>
func.func @matmul_fp8_f16(%dy: tensor<4x8xf16>, %w: tensor<8x16xf16>) {
  // expected-error @+1 {{an fp8 gradient GEMM produces bf16 or f32, not 'f16'}}
  %0 = graph.matmul %dy, %w {fp8 = #r, fp8_gemm = #graph.fp8_gemm<dgrad>} : (tensor<4x8xf16>, tensor<8x16xf16>) -> tensor<4x16xf16>
  return
}

// -----

#r = #fp8.recipe<activation = <f8E4M3FN, 1x128, pow2_f32>, weight = <f8E4M3FN, 128x128, pow2_f32>, gradient = <f8E4M3FN, 1x128, pow2_f32>>
func.func @matmul_fp8_rank3(%a: tensor<2x4x8xbf16>, %b: tensor<2x8x4xbf16>) {
  // expected-error @+1 {{an fp8 gradient GEMM has rank-2 operands}}
  %0 = graph.matmul %a, %b {fp8 = #r, fp8_gemm = #graph.fp8_gemm<dgrad>} : (tensor<2x4x8xbf16>, tensor<2x8x4xbf16>) -> tensor<2x4x4xbf16>
  return
}

// -----

func.func @matmul_contraction(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) {
  // expected-error @+1 {{contraction sizes differ: lhs 4x8 has K = 8, rhs 4x8 has K = 4}}
  %0 = graph.matmul %a, %b : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @matmul_result_type(%a: tensor<4x8xf32>, %b: tensor<8x4xf32>) {
  // expected-error @+1 {{result element type 'bf16' must be the operands' ('f32') or f32}}
  %0 = graph.matmul %a, %b : (tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<4x4xbf16>
  return
}

// -----

func.func @matmul_result_shape(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) {
  // expected-error @+1 {{result shape 4x8 does not match the expected 4x4 (batch dims, then M, N)}}
  %0 = graph.matmul %a, %b {transpose_rhs} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @rms_norm_rank(%x: tensor<bf16>, %w: tensor<1xbf16>) {
  // expected-error @+1 {{input must have rank >= 1}}
  %0 = graph.rms_norm %x, %w {epsilon = 1.0e-6 : f64} : (tensor<bf16>, tensor<1xbf16>) -> tensor<bf16>
  return
}

// -----

func.func @rms_norm_weight(%x: tensor<?x256xbf16>, %w: tensor<128xbf16>) {
  // expected-error @+1 {{weight shape 128 must be [256], the input's last dimension}}
  %0 = graph.rms_norm %x, %w {epsilon = 1.0e-6 : f64} : (tensor<?x256xbf16>, tensor<128xbf16>) -> tensor<?x256xbf16>
  return
}

// -----

func.func @rms_norm_weight_type(%x: tensor<?x256xbf16>, %w: tensor<256xf32>) {
  // expected-error @+1 {{weight element type 'f32' differs from input element type 'bf16'}}
  %0 = graph.rms_norm %x, %w {epsilon = 1.0e-6 : f64} : (tensor<?x256xbf16>, tensor<256xf32>) -> tensor<?x256xbf16>
  return
}

// -----

func.func @rms_norm_epsilon(%x: tensor<?x256xbf16>, %w: tensor<256xbf16>) {
  // expected-error @+1 {{epsilon -1 must be finite and non-negative}}
  %0 = graph.rms_norm %x, %w {epsilon = -1.0 : f64} : (tensor<?x256xbf16>, tensor<256xbf16>) -> tensor<?x256xbf16>
  return
}

// -----

func.func @rms_norm_result(%x: tensor<?x256xbf16>, %w: tensor<256xbf16>) {
  // expected-error @+1 {{result element type 'f32' must be 'bf16' (the input's type)}}
  %0 = graph.rms_norm %x, %w {epsilon = 1.0e-6 : f64} : (tensor<?x256xbf16>, tensor<256xbf16>) -> tensor<?x256xf32>
  return
}

// -----

func.func @rope_rank(%x: tensor<?x1536xbf16>, %p: tensor<?xi32>) {
  // expected-error @+1 {{input must be rank 3 ([tokens, heads, head_dim]), got rank 2}}
  %0 = graph.rope %x, %p {theta = 1.0e6 : f64} : (tensor<?x1536xbf16>, tensor<?xi32>) -> tensor<?x1536xbf16>
  return
}

// -----

func.func @rope_odd_head_dim(%x: tensor<?x2x63xbf16>, %p: tensor<?xi32>) {
  // expected-error @+1 {{head_dim 63 must be even (rotary pairs)}}
  %0 = graph.rope %x, %p {theta = 1.0e6 : f64} : (tensor<?x2x63xbf16>, tensor<?xi32>) -> tensor<?x2x63xbf16>
  return
}

// -----

func.func @rope_positions(%x: tensor<8x2x64xbf16>, %p: tensor<4xi32>) {
  // expected-error @+1 {{positions shape 4 must be [8], one position per token}}
  %0 = graph.rope %x, %p {theta = 1.0e6 : f64} : (tensor<8x2x64xbf16>, tensor<4xi32>) -> tensor<8x2x64xbf16>
  return
}

// -----

func.func @rope_theta(%x: tensor<8x2x64xbf16>, %p: tensor<8xi32>) {
  // expected-error @+1 {{theta 0 must be positive and finite}}
  %0 = graph.rope %x, %p {theta = 0.0 : f64} : (tensor<8x2x64xbf16>, tensor<8xi32>) -> tensor<8x2x64xbf16>
  return
}

// -----

func.func @rope_result(%x: tensor<8x2x64xbf16>, %p: tensor<8xi32>) {
  // expected-error @+1 {{result shape 8x4x32 does not match the expected 8x2x64 (the input's type)}}
  %0 = graph.rope %x, %p {theta = 1.0e6 : f64} : (tensor<8x2x64xbf16>, tensor<8xi32>) -> tensor<8x4x32xbf16>
  return
}

// -----

func.func @rope_bad_style(%x: tensor<8x2x64xbf16>, %p: tensor<8xi32>) {
  // expected-error @+2 {{expected one of [rotate_half, interleaved] for which elements of a head a rotary angle rotates together, got: neox}}
  // expected-error @+1 {{failed to parse Graph_RopeStyleAttr parameter 'value'}}
  %0 = graph.rope %x, %p {theta = 1.0e6 : f64, style = #graph.rope_style<neox>} : (tensor<8x2x64xbf16>, tensor<8xi32>) -> tensor<8x2x64xbf16>
  return
}

// -----

func.func @attention_rank(%q: tensor<8x768xbf16>, %k: tensor<8x2x64xbf16>, %cu: tensor<2xi32>) {
  // expected-error @+1 {{query must be rank 3 ([tokens, heads, head_dim]), got rank 2}}
  %0 = graph.attention %q, %k, %k, %cu {scale = 0.125 : f64} : (tensor<8x768xbf16>, tensor<8x2x64xbf16>, tensor<8x2x64xbf16>, tensor<2xi32>) -> tensor<8x768xbf16>
  return
}

// -----

func.func @attention_types(%q: tensor<8x4x64xbf16>, %k: tensor<8x2x64xf32>, %cu: tensor<2xi32>) {
  // expected-error @+1 {{query, key and value element types differ: 'bf16', 'f32', 'f32'}}
  %0 = graph.attention %q, %k, %k, %cu {scale = 0.125 : f64} : (tensor<8x4x64xbf16>, tensor<8x2x64xf32>, tensor<8x2x64xf32>, tensor<2xi32>) -> tensor<8x4x64xbf16>
  return
}

// -----

func.func @attention_kv_shapes(%q: tensor<8x4x64xbf16>, %k: tensor<8x2x64xbf16>, %v: tensor<8x1x64xbf16>, %cu: tensor<2xi32>) {
  // expected-error @+1 {{key shape 8x2x64 differs from value shape 8x1x64}}
  %0 = graph.attention %q, %k, %v, %cu {scale = 0.125 : f64} : (tensor<8x4x64xbf16>, tensor<8x2x64xbf16>, tensor<8x1x64xbf16>, tensor<2xi32>) -> tensor<8x4x64xbf16>
  return
}

// -----

func.func @attention_tokens(%q: tensor<8x4x64xbf16>, %k: tensor<6x2x64xbf16>, %cu: tensor<2xi32>) {
  // expected-error @+1 {{query has 8 tokens but key/value have 6; packed self-attention needs the same tokens}}
  %0 = graph.attention %q, %k, %k, %cu {scale = 0.125 : f64} : (tensor<8x4x64xbf16>, tensor<6x2x64xbf16>, tensor<6x2x64xbf16>, tensor<2xi32>) -> tensor<8x4x64xbf16>
  return
}

// -----

func.func @attention_head_dim(%q: tensor<8x4x64xbf16>, %k: tensor<8x2x128xbf16>, %cu: tensor<2xi32>) {
  // expected-error @+1 {{query head_dim 64 differs from key/value head_dim 128}}
  %0 = graph.attention %q, %k, %k, %cu {scale = 0.125 : f64} : (tensor<8x4x64xbf16>, tensor<8x2x128xbf16>, tensor<8x2x128xbf16>, tensor<2xi32>) -> tensor<8x4x64xbf16>
  return
}

// -----

func.func @attention_gqa(%q: tensor<?x14x64xbf16>, %k: tensor<?x4x64xbf16>, %cu: tensor<?xi32>) {
  // expected-error @+1 {{query heads 14 are not a multiple of key/value heads 4 (grouped-query attention)}}
  %0 = graph.attention %q, %k, %k, %cu {causal, scale = 0.125 : f64} : (tensor<?x14x64xbf16>, tensor<?x4x64xbf16>, tensor<?x4x64xbf16>, tensor<?xi32>) -> tensor<?x14x64xbf16>
  return
}

// -----

func.func @attention_cu_seqlens(%q: tensor<8x4x64xbf16>, %k: tensor<8x2x64xbf16>, %cu: tensor<1xi32>) {
  // expected-error @+1 {{cu_seqlens has 1 entries; it needs S + 1 >= 2 (one offset per sequence plus the total)}}
  %0 = graph.attention %q, %k, %k, %cu {scale = 0.125 : f64} : (tensor<8x4x64xbf16>, tensor<8x2x64xbf16>, tensor<8x2x64xbf16>, tensor<1xi32>) -> tensor<8x4x64xbf16>
  return
}

// -----

func.func @attention_cu_seqlens_type(%q: tensor<8x4x64xbf16>, %k: tensor<8x2x64xbf16>, %cu: tensor<2xi64>) {
  // expected-error @+1 {{operand #3 must be 1D tensor of 32-bit signless integer values}}
  %0 = graph.attention %q, %k, %k, %cu {scale = 0.125 : f64} : (tensor<8x4x64xbf16>, tensor<8x2x64xbf16>, tensor<8x2x64xbf16>, tensor<2xi64>) -> tensor<8x4x64xbf16>
  return
}

// -----

func.func @attention_scale(%q: tensor<8x4x64xbf16>, %k: tensor<8x2x64xbf16>, %cu: tensor<2xi32>) {
  // expected-error @+1 {{scale -0.125 must be positive and finite}}
  %0 = graph.attention %q, %k, %k, %cu {scale = -0.125 : f64} : (tensor<8x4x64xbf16>, tensor<8x2x64xbf16>, tensor<8x2x64xbf16>, tensor<2xi32>) -> tensor<8x4x64xbf16>
  return
}

// -----

func.func @attention_result(%q: tensor<8x4x64xbf16>, %k: tensor<8x2x64xbf16>, %cu: tensor<2xi32>) {
  // expected-error @+1 {{result shape 8x2x64 does not match the expected 8x4x64 (the query's type)}}
  %0 = graph.attention %q, %k, %k, %cu {scale = 0.125 : f64} : (tensor<8x4x64xbf16>, tensor<8x2x64xbf16>, tensor<8x2x64xbf16>, tensor<2xi32>) -> tensor<8x2x64xbf16>
  return
}

// -----

func.func @cross_entropy_logits_rank(%l: tensor<8xf32>, %y: tensor<8xi32>, %m: tensor<8xf32>) {
  // expected-error @+1 {{logits must be rank 2 ([tokens, vocab]), got rank 1}}
  %0 = graph.cross_entropy %l, %y, %m : (tensor<8xf32>, tensor<8xi32>, tensor<8xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @cross_entropy_bf16_logits(%l: tensor<8x100xbf16>, %y: tensor<8xi32>, %m: tensor<8xf32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float values}}
  %0 = graph.cross_entropy %l, %y, %m : (tensor<8x100xbf16>, tensor<8xi32>, tensor<8xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @cross_entropy_labels(%l: tensor<8x100xf32>, %y: tensor<7xi32>, %m: tensor<8xf32>) {
  // expected-error @+1 {{labels shape 7 must be [8], one per token}}
  %0 = graph.cross_entropy %l, %y, %m : (tensor<8x100xf32>, tensor<7xi32>, tensor<8xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @cross_entropy_mask(%l: tensor<?x100xf32>, %y: tensor<?xi32>, %m: tensor<?x1xf32>) {
  // expected-error @+1 {{loss_mask shape ?x1 must be [?], one per token}}
  %0 = graph.cross_entropy %l, %y, %m : (tensor<?x100xf32>, tensor<?xi32>, tensor<?x1xf32>) -> tensor<?xf32>
  return
}

// -----

func.func @cross_entropy_result(%l: tensor<8x100xf32>, %y: tensor<8xi32>, %m: tensor<8xf32>) {
  // expected-error @+1 {{result shape 8x100 does not match the expected 8 (one f32 loss per token)}}
  %0 = graph.cross_entropy %l, %y, %m : (tensor<8x100xf32>, tensor<8xi32>, tensor<8xf32>) -> tensor<8x100xf32>
  return
}

// -----

func.func @binary_types(%a: tensor<4x8xbf16>, %b: tensor<4x8xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "graph.add"(%a, %b) : (tensor<4x8xbf16>, tensor<4x8xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @binary_shapes(%a: tensor<4x8xf32>, %b: tensor<8xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "graph.mul"(%a, %b) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @exp_of_integers(%a: tensor<4xi32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float or bfloat16 type or 16-bit float values}}
  %0 = graph.exp %a : tensor<4xi32>
  return
}

// -----

func.func @reduce_axis_range(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = graph.reduce_sum %x axes [2] : tensor<4x8xf32> -> tensor<4xf32>
  return
}

// -----

func.func @reduce_axes_order(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{axes must be strictly increasing, got 1 then 0}}
  %0 = graph.reduce_max %x axes [1, 0] : tensor<4x8xf32> -> tensor<f32>
  return
}

// -----

func.func @reduce_mean_of_integers(%x: tensor<4x8xi32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float or bfloat16 type or 16-bit float values}}
  %0 = graph.reduce_mean %x axes [1] : tensor<4x8xi32> -> tensor<4xi32>
  return
}

// -----

func.func @reduce_result(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{result shape 4 does not match the expected 4x1 (reduced axes kept as size 1)}}
  %0 = graph.reduce_mean %x axes [1] keep_dims : tensor<4x8xf32> -> tensor<4xf32>
  return
}

// -----

func.func @cast_to_fp8(%x: tensor<4xf32>) {
  // expected-error @+1 {{cannot cast to 'f8E4M3FN'; FP8 values carry scales: use fp8.quantize and fp8.dequantize}}
  %0 = graph.cast %x : tensor<4xf32> to tensor<4xf8E4M3FN>
  return
}

// -----

func.func @cast_from_fp8(%x: tensor<4xf8E5M2>) {
  // expected-error @+1 {{cannot cast from 'f8E5M2'; FP8 values carry scales: use fp8.quantize and fp8.dequantize}}
  %0 = graph.cast %x : tensor<4xf8E5M2> to tensor<4xf32>
  return
}

// -----

func.func @cast_unsupported_type(%x: tensor<4xf32>) {
  // expected-error @+1 {{element type 'i8' is not one graph.cast converts (f32, bf16, f16, i1, i32, i64)}}
  %0 = graph.cast %x : tensor<4xf32> to tensor<4xi8>
  return
}

// -----

func.func @cast_shape(%x: tensor<4xf32>) {
  // expected-error @+1 {{result shape 8 differs from input shape 4; cast changes only the element type}}
  %0 = graph.cast %x : tensor<4xf32> to tensor<8xbf16>
  return
}

// -----

func.func @reshape_type(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{result element type 'bf16' differs from input element type 'f32'}}
  %0 = graph.reshape %x : tensor<4x8xf32> -> tensor<32xbf16>
  return
}

// -----

func.func @reshape_count(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{input shape 4x8 has 32 elements, which result shape 2x15 does not hold (it has 30)}}
  %0 = graph.reshape %x : tensor<4x8xf32> -> tensor<2x15xf32>
  return
}

// -----

func.func @reshape_not_divisible(%x: tensor<6xf32>) {
  // expected-error @+1 {{input shape 6 has 6 elements, which result shape ?x4 cannot hold (its static dimensions hold 4)}}
  %0 = graph.reshape %x : tensor<6xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @reshape_two_dynamic(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{result shape ?x? has 2 dynamic dimensions; at most one can be inferred from the element count}}
  %0 = graph.reshape %x : tensor<?x8xf32> -> tensor<?x?xf32>
  return
}

// -----

func.func @transpose_size(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{permutation has 3 entries but the input has rank 2}}
  %0 = graph.transpose %x perm [0, 1, 2] : tensor<4x8xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @transpose_not_permutation(%x: tensor<4x8x2xf32>) {
  // expected-error @+1 {{permutation [0, 0, 2] is not a permutation of 0..2}}
  %0 = graph.transpose %x perm [0, 0, 2] : tensor<4x8x2xf32> -> tensor<4x4x2xf32>
  return
}

// -----

func.func @transpose_result(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{result shape 4x8 does not match the expected 8x4 (the input's dimensions in permutation order)}}
  %0 = graph.transpose %x perm [1, 0] : tensor<4x8xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @broadcast_type(%x: tensor<8xf32>) {
  // expected-error @+1 {{result element type 'bf16' differs from input element type 'f32'}}
  %0 = graph.broadcast %x dims [1] : tensor<8xf32> -> tensor<4x8xbf16>
  return
}

// -----

func.func @broadcast_dims_size(%x: tensor<8xf32>) {
  // expected-error @+1 {{dims has 2 entries but the input has rank 1}}
  %0 = graph.broadcast %x dims [0, 1] : tensor<8xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @broadcast_dims_range(%x: tensor<8xf32>) {
  // expected-error @+1 {{dims entry 2 is out of range for result rank 2}}
  %0 = graph.broadcast %x dims [2] : tensor<8xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @broadcast_dims_order(%x: tensor<8x8xf32>) {
  // expected-error @+1 {{dims must be strictly increasing, got 1 then 0}}
  %0 = graph.broadcast %x dims [1, 0] : tensor<8x8xf32> -> tensor<8x8xf32>
  return
}

// -----

func.func @broadcast_size(%x: tensor<3xf32>) {
  // expected-error @+1 {{input dimension 0 of size 3 maps to result dimension 1 of size 8; it must be 1 or equal}}
  %0 = graph.broadcast %x dims [1] : tensor<3xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @broadcast_dynamic_without_like(%x: tensor<256xbf16>) {
  // expected-error @+1 {{result dimension 0 is dynamic but does not map from a dynamic input dimension; give its size with a `like` operand}}
  %0 = graph.broadcast %x dims [1] : tensor<256xbf16> -> tensor<?x256xbf16>
  return
}

// -----

func.func @broadcast_expand_dynamic_without_like(%x: tensor<1x256xbf16>) {
  // expected-error @+1 {{result dimension 0 is dynamic but does not map from a dynamic input dimension}}
  %0 = graph.broadcast %x dims [0, 1] : tensor<1x256xbf16> -> tensor<?x256xbf16>
  return
}

// -----

func.func @broadcast_like_rank(%x: tensor<256xbf16>, %l: tensor<?xbf16>) {
  // expected-error @+1 {{like operand has rank 1 but the result has rank 2}}
  %0 = graph.broadcast %x dims [1] like %l : tensor<256xbf16>, tensor<?xbf16> -> tensor<?x256xbf16>
  return
}

// -----

func.func @broadcast_like_size(%x: tensor<256xbf16>, %l: tensor<?x255xbf16>) {
  // expected-error @+1 {{like dimension 1 of size 255 differs from result dimension 1 of size 256}}
  %0 = graph.broadcast %x dims [1] like %l : tensor<256xbf16>, tensor<?x255xbf16> -> tensor<?x256xbf16>
  return
}

// -----

func.func @slice_entries(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{start, limit and stride need 2 entries each (the input rank), got 1, 2 and 2}}
  %0 = graph.slice %x start [0] limit [4, 8] stride [1, 1] : tensor<4x8xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @slice_stride(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{stride 0 of dimension 1 must be >= 1}}
  %0 = graph.slice %x start [0, 0] limit [4, 8] stride [1, 0] : tensor<4x8xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @slice_range(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{dimension 1 slice [2, 9) is not within [0, 8]}}
  %0 = graph.slice %x start [0, 2] limit [4, 9] stride [1, 1] : tensor<4x8xf32> -> tensor<4x7xf32>
  return
}

// -----

func.func @slice_result(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{result shape 4x4 does not match the expected 4x3 (ceildiv(limit - start, stride))}}
  %0 = graph.slice %x start [0, 2] limit [4, 8] stride [1, 2] : tensor<4x8xf32> -> tensor<4x4xf32>
  return
}

// -----

func.func @concat_empty() {
  // expected-error @+1 {{needs at least one input}}
  %0 = graph.concat axis 0 : () -> tensor<4xf32>
  return
}

// -----

func.func @concat_axis(%a: tensor<4xf32>) {
  // expected-error @+1 {{axis 1 is out of range for rank 1}}
  %0 = graph.concat %a, %a axis 1 : (tensor<4xf32>, tensor<4xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @concat_rank(%a: tensor<4xf32>, %b: tensor<4x1xf32>) {
  // expected-error @+1 {{input 1 ('tensor<4x1xf32>') differs in element type or rank from input 0 ('tensor<4xf32>')}}
  %0 = graph.concat %a, %b axis 0 : (tensor<4xf32>, tensor<4x1xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @concat_other_dim(%a: tensor<2x8xf32>, %b: tensor<3x7xf32>) {
  // expected-error @+1 {{input 1 shape 3x7 differs from input 0 shape 2x8 in dimension 1, which is not the concatenation axis 0}}
  %0 = graph.concat %a, %b axis 0 : (tensor<2x8xf32>, tensor<3x7xf32>) -> tensor<5x8xf32>
  return
}

// -----

func.func @concat_result(%a: tensor<2x8xf32>, %b: tensor<3x8xf32>) {
  // expected-error @+1 {{result shape 6x8 does not match the expected 5x8 (the inputs' sizes summed along the axis)}}
  %0 = graph.concat %a, %b axis 0 : (tensor<2x8xf32>, tensor<3x8xf32>) -> tensor<6x8xf32>
  return
}


// -----

// Static sizes of one dimension must agree across operands, not only with the
// result: here the key/value say 8 tokens, the result says 6.
func.func @attention_tokens_join(%q: tensor<?x4x64xbf16>, %k: tensor<8x2x64xbf16>, %cu: tensor<2xi32>) {
  // expected-error @+1 {{result shape 6x4x64 does not match the expected 8x4x64 (the query's type)}}
  %0 = graph.attention %q, %k, %k, %cu {scale = 0.125 : f64} : (tensor<?x4x64xbf16>, tensor<8x2x64xbf16>, tensor<8x2x64xbf16>, tensor<2xi32>) -> tensor<6x4x64xbf16>
  return
}

// -----

func.func @linear_bias_join(%x: tensor<4x256xbf16>, %w: tensor<?x256xbf16>, %b: tensor<8xbf16>) {
  // expected-error @+1 {{result shape 4x6 does not match the expected 4x8 (the input's shape with out_features last)}}
  %0 = graph.linear %x, %w, %b : (tensor<4x256xbf16>, tensor<?x256xbf16>, tensor<8xbf16>) -> tensor<4x6xbf16>
  return
}

// -----

func.func @rms_norm_join(%x: tensor<?x?xbf16>, %w: tensor<256xbf16>) {
  // expected-error @+1 {{result shape 4x128 does not match the expected ?x256 (the input's type)}}
  %0 = graph.rms_norm %x, %w {epsilon = 1.0e-6 : f64} : (tensor<?x?xbf16>, tensor<256xbf16>) -> tensor<4x128xbf16>
  return
}

// -----

func.func @rope_join(%x: tensor<?x2x64xbf16>, %p: tensor<8xi32>) {
  // expected-error @+1 {{result shape 5x2x64 does not match the expected 8x2x64 (the input's type)}}
  %0 = graph.rope %x, %p {theta = 1.0e6 : f64} : (tensor<?x2x64xbf16>, tensor<8xi32>) -> tensor<5x2x64xbf16>
  return
}

// -----

func.func @matmul_batch_join(%a: tensor<?x4x8xf32>, %b: tensor<3x8x4xf32>) {
  // expected-error @+1 {{result shape 5x4x4 does not match the expected 3x4x4 (batch dims, then M, N)}}
  %0 = graph.matmul %a, %b : (tensor<?x4x8xf32>, tensor<3x8x4xf32>) -> tensor<5x4x4xf32>
  return
}

// -----

func.func @cross_entropy_join(%l: tensor<?x100xf32>, %y: tensor<8xi32>, %m: tensor<?xf32>) {
  // expected-error @+1 {{result shape 5 does not match the expected 8 (one f32 loss per token)}}
  %0 = graph.cross_entropy %l, %y, %m : (tensor<?x100xf32>, tensor<8xi32>, tensor<?xf32>) -> tensor<5xf32>
  return
}

// -----

func.func @concat_join(%a: tensor<?x8xf32>, %b: tensor<4x8xf32>) {
  // expected-error @+1 {{result shape 3x16 does not match the expected 4x16 (the inputs' sizes summed along the axis)}}
  %0 = graph.concat %a, %b axis 1 : (tensor<?x8xf32>, tensor<4x8xf32>) -> tensor<3x16xf32>
  return
}

// -----

func.func @binary_operands_conflict(%a: tensor<4x8xf32>, %b: tensor<5x8xf32>) {
  // expected-error @+1 {{operand shapes 4x8 and 5x8 conflict; elementwise operands have one shape}}
  %0 = "graph.add"(%a, %b) : (tensor<4x8xf32>, tensor<5x8xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @swiglu_operands_conflict(%b: tensor<?x3xbf16>, %c: tensor<4x5xbf16>) {
  // expected-error @+1 {{operand shapes 4x5 and ?x3 conflict}}
  %0 = "graph.swiglu"(%c, %b) : (tensor<4x5xbf16>, tensor<?x3xbf16>) -> tensor<4x?xbf16>
  return
}

// -----

func.func @embedding_grad_shape(%dh: tensor<4x64xf32>, %ids: tensor<5xi32>) {
  // expected-error @+1 {{grad shape 4x64 must be the ids' shape 5 followed by the embedding size}}
  %0 = graph.embedding_grad %dh[%ids] {num_embeddings = 10 : i64} : tensor<4x64xf32>, tensor<5xi32> -> tensor<10x64xf32>
  return
}

// -----

func.func @embedding_grad_rows(%dh: tensor<4x64xf32>, %ids: tensor<4xi32>) {
  // expected-error @+1 {{num_embeddings 0 must be positive}}
  %0 = graph.embedding_grad %dh[%ids] {num_embeddings = 0 : i64} : tensor<4x64xf32>, tensor<4xi32> -> tensor<1x64xf32>
  return
}

// -----

func.func @embedding_grad_negative_rows(%dh: tensor<4x64xf32>, %ids: tensor<4xi32>) {
  // expected-error @+1 {{num_embeddings -3 must be positive}}
  %0 = graph.embedding_grad %dh[%ids] {num_embeddings = -3 : i64} : tensor<4x64xf32>, tensor<4xi32> -> tensor<1x64xf32>
  return
}

// -----

func.func @embedding_grad_result(%dh: tensor<4x64xf32>, %ids: tensor<4xi32>) {
  // expected-error @+1 {{result shape 10x32 does not match the expected 10x64 ([num_embeddings, D] f32)}}
  %0 = graph.embedding_grad %dh[%ids] {num_embeddings = 10 : i64} : tensor<4x64xf32>, tensor<4xi32> -> tensor<10x32xf32>
  return
}

// -----

func.func @rms_norm_grad_grad_shape(%dy: tensor<4x32xf32>, %x: tensor<4x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{grad shape 4x32 does not match input shape 4x64}}
  %0:2 = graph.rms_norm_grad %dy, %x, %w {epsilon = 1.0e-6 : f64} : (tensor<4x32xf32>, tensor<4x64xf32>, tensor<64xf32>) -> (tensor<4x64xf32>, tensor<64xf32>)
  return
}

// -----

func.func @rms_norm_grad_weight(%dy: tensor<4x64xf32>, %x: tensor<4x64xf32>, %w: tensor<32xf32>) {
  // expected-error @+1 {{weight shape 32 must be [64], the input's last dimension}}
  %0:2 = graph.rms_norm_grad %dy, %x, %w {epsilon = 1.0e-6 : f64} : (tensor<4x64xf32>, tensor<4x64xf32>, tensor<32xf32>) -> (tensor<4x64xf32>, tensor<32xf32>)
  return
}

// -----

func.func @rms_norm_grad_weight_type(%dy: tensor<4x64xbf16>, %x: tensor<4x64xbf16>, %w: tensor<64xf32>) {
  // expected-error @+1 {{weight element type 'f32' differs from input element type 'bf16'}}
  %0:2 = graph.rms_norm_grad %dy, %x, %w {epsilon = 1.0e-6 : f64} : (tensor<4x64xbf16>, tensor<4x64xbf16>, tensor<64xf32>) -> (tensor<4x64xbf16>, tensor<64xf32>)
  return
}

// -----

func.func @rms_norm_grad_epsilon(%dy: tensor<4x64xf32>, %x: tensor<4x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{epsilon -1 must be finite and non-negative}}
  %0:2 = graph.rms_norm_grad %dy, %x, %w {epsilon = -1.0 : f64} : (tensor<4x64xf32>, tensor<4x64xf32>, tensor<64xf32>) -> (tensor<4x64xf32>, tensor<64xf32>)
  return
}

// -----

func.func @rms_norm_grad_weight_grad(%dy: tensor<4x64xbf16>, %x: tensor<4x64xbf16>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{result #1 must be ranked tensor of 32-bit float values, but got 'tensor<64xbf16>'}}
  %0:2 = graph.rms_norm_grad %dy, %x, %w {epsilon = 1.0e-6 : f64} : (tensor<4x64xbf16>, tensor<4x64xbf16>, tensor<64xbf16>) -> (tensor<4x64xbf16>, tensor<64xbf16>)
  return
}

// -----

func.func @rope_grad_rank(%dy: tensor<4x64xf32>, %pos: tensor<4xi32>) {
  // expected-error @+1 {{grad must be rank 3 ([tokens, heads, head_dim]), got rank 2}}
  %0 = graph.rope_grad %dy, %pos {theta = 1.0e4 : f64} : (tensor<4x64xf32>, tensor<4xi32>) -> tensor<4x64xf32>
  return
}

// -----

func.func @rope_grad_odd(%dy: tensor<4x2x7xf32>, %pos: tensor<4xi32>) {
  // expected-error @+1 {{head_dim 7 must be even (rotary pairs)}}
  %0 = graph.rope_grad %dy, %pos {theta = 1.0e4 : f64} : (tensor<4x2x7xf32>, tensor<4xi32>) -> tensor<4x2x7xf32>
  return
}

// -----

func.func @rope_grad_positions(%dy: tensor<4x2x8xf32>, %pos: tensor<5xi32>) {
  // expected-error @+1 {{positions shape 5 must be [4], one position per token}}
  %0 = graph.rope_grad %dy, %pos {theta = 1.0e4 : f64} : (tensor<4x2x8xf32>, tensor<5xi32>) -> tensor<4x2x8xf32>
  return
}

// -----

func.func @rope_grad_theta(%dy: tensor<4x2x8xf32>, %pos: tensor<4xi32>) {
  // expected-error @+1 {{theta 0 must be positive and finite}}
  %0 = graph.rope_grad %dy, %pos {theta = 0.0 : f64} : (tensor<4x2x8xf32>, tensor<4xi32>) -> tensor<4x2x8xf32>
  return
}

// -----

func.func @attention_grad_rank(%do: tensor<4x48xf32>, %q: tensor<4x6x8xf32>, %k: tensor<4x2x8xf32>, %v: tensor<4x2x8xf32>, %cu: tensor<2xi32>) {
  // expected-error @+1 {{grad shape 4x48 does not match query shape 4x6x8}}
  %0:3 = graph.attention_grad %do, %q, %k, %v, %cu {scale = 0.35 : f64} : (tensor<4x48xf32>, tensor<4x6x8xf32>, tensor<4x2x8xf32>, tensor<4x2x8xf32>, tensor<2xi32>) -> (tensor<4x6x8xf32>, tensor<4x2x8xf32>, tensor<4x2x8xf32>)
  return
}

// -----

func.func @attention_grad_query_rank(%do: tensor<4x48xf32>, %q: tensor<4x48xf32>, %k: tensor<4x2x8xf32>, %v: tensor<4x2x8xf32>, %cu: tensor<2xi32>) {
  // expected-error @+1 {{query must be rank 3 ([tokens, heads, head_dim]), got rank 2}}
  %0:3 = graph.attention_grad %do, %q, %k, %v, %cu {scale = 0.35 : f64} : (tensor<4x48xf32>, tensor<4x48xf32>, tensor<4x2x8xf32>, tensor<4x2x8xf32>, tensor<2xi32>) -> (tensor<4x48xf32>, tensor<4x2x8xf32>, tensor<4x2x8xf32>)
  return
}

// -----

func.func @attention_grad_types(%do: tensor<4x6x8xf32>, %q: tensor<4x6x8xf32>, %k: tensor<4x2x8xbf16>, %v: tensor<4x2x8xbf16>, %cu: tensor<2xi32>) {
  // expected-error @+1 {{query, key and value element types differ}}
  %0:3 = graph.attention_grad %do, %q, %k, %v, %cu {scale = 0.35 : f64} : (tensor<4x6x8xf32>, tensor<4x6x8xf32>, tensor<4x2x8xbf16>, tensor<4x2x8xbf16>, tensor<2xi32>) -> (tensor<4x6x8xf32>, tensor<4x2x8xbf16>, tensor<4x2x8xbf16>)
  return
}

// -----

func.func @attention_grad_kv(%do: tensor<4x6x8xf32>, %q: tensor<4x6x8xf32>, %k: tensor<4x2x8xf32>, %v: tensor<4x3x8xf32>, %cu: tensor<2xi32>) {
  // expected-error @+1 {{key shape 4x2x8 differs from value shape 4x3x8}}
  %0:3 = graph.attention_grad %do, %q, %k, %v, %cu {scale = 0.35 : f64} : (tensor<4x6x8xf32>, tensor<4x6x8xf32>, tensor<4x2x8xf32>, tensor<4x3x8xf32>, tensor<2xi32>) -> (tensor<4x6x8xf32>, tensor<4x2x8xf32>, tensor<4x3x8xf32>)
  return
}

// -----

func.func @attention_grad_groups(%do: tensor<4x6x8xf32>, %q: tensor<4x6x8xf32>, %k: tensor<4x4x8xf32>, %v: tensor<4x4x8xf32>, %cu: tensor<2xi32>) {
  // expected-error @+1 {{query heads 6 are not a multiple of key/value heads 4}}
  %0:3 = graph.attention_grad %do, %q, %k, %v, %cu {scale = 0.35 : f64} : (tensor<4x6x8xf32>, tensor<4x6x8xf32>, tensor<4x4x8xf32>, tensor<4x4x8xf32>, tensor<2xi32>) -> (tensor<4x6x8xf32>, tensor<4x4x8xf32>, tensor<4x4x8xf32>)
  return
}

// -----

func.func @attention_grad_scale(%do: tensor<4x6x8xf32>, %q: tensor<4x6x8xf32>, %k: tensor<4x2x8xf32>, %v: tensor<4x2x8xf32>, %cu: tensor<2xi32>) {
  // expected-error @+1 {{scale -1 must be positive and finite}}
  %0:3 = graph.attention_grad %do, %q, %k, %v, %cu {scale = -1.0 : f64} : (tensor<4x6x8xf32>, tensor<4x6x8xf32>, tensor<4x2x8xf32>, tensor<4x2x8xf32>, tensor<2xi32>) -> (tensor<4x6x8xf32>, tensor<4x2x8xf32>, tensor<4x2x8xf32>)
  return
}

// -----

func.func @attention_grad_result(%do: tensor<4x6x8xf32>, %q: tensor<4x6x8xf32>, %k: tensor<4x2x8xf32>, %v: tensor<4x2x8xf32>, %cu: tensor<2xi32>) {
  // expected-error @+1 {{result shape 4x6x8 does not match the expected 4x2x8 (the key's type)}}
  %0:3 = graph.attention_grad %do, %q, %k, %v, %cu {scale = 0.35 : f64} : (tensor<4x6x8xf32>, tensor<4x6x8xf32>, tensor<4x2x8xf32>, tensor<4x2x8xf32>, tensor<2xi32>) -> (tensor<4x6x8xf32>, tensor<4x6x8xf32>, tensor<4x2x8xf32>)
  return
}

// -----

func.func @cross_entropy_grad_rank(%dl: tensor<4xf32>, %logits: tensor<400xf32>, %labels: tensor<4xi32>, %mask: tensor<4xf32>) {
  // expected-error @+1 {{logits must be rank 2 ([tokens, vocab]), got rank 1}}
  %0 = graph.cross_entropy_grad %dl, %logits, %labels, %mask : (tensor<4xf32>, tensor<400xf32>, tensor<4xi32>, tensor<4xf32>) -> tensor<400xf32>
  return
}

// -----

func.func @cross_entropy_grad_tokens(%dl: tensor<5xf32>, %logits: tensor<4x100xf32>, %labels: tensor<4xi32>, %mask: tensor<4xf32>) {
  // expected-error @+1 {{grad shape 5 must be [4], one per token}}
  %0 = graph.cross_entropy_grad %dl, %logits, %labels, %mask : (tensor<5xf32>, tensor<4x100xf32>, tensor<4xi32>, tensor<4xf32>) -> tensor<4x100xf32>
  return
}

// -----

func.func @silu_grad_shapes(%dy: tensor<4x8xf32>, %x: tensor<5x8xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "graph.silu_grad"(%dy, %x) : (tensor<4x8xf32>, tensor<5x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @swiglu_grad_shapes(%dy: tensor<4x8xf32>, %g: tensor<4x8xf32>, %u: tensor<4x9xf32>) {
  // expected-error @+1 {{up shape 4x9 does not match gate shape 4x8}}
  %0:2 = graph.swiglu_grad %dy, %g, %u : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x9xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>)
  return
}

// -----

func.func @split_axis(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0:2 = graph.split %x axis 2 sizes [4, 4] : tensor<4x8xf32> -> tensor<4x4xf32>, tensor<4x4xf32>
  return
}

// -----

func.func @split_count(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{3 sizes for 2 results; give one size per result}}
  %0:2 = graph.split %x axis 1 sizes [4, 2, 2] : tensor<4x8xf32> -> tensor<4x4xf32>, tensor<4x4xf32>
  return
}

// -----

func.func @split_size(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{size 0 of result 1 must be >= 1}}
  %0:2 = graph.split %x axis 1 sizes [8, 0] : tensor<4x8xf32> -> tensor<4x8xf32>, tensor<4x0xf32>
  return
}

// -----

func.func @split_sum(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{sizes add up to 7 but dimension 1 of the input 4x8 is 8}}
  %0:2 = graph.split %x axis 1 sizes [4, 3] : tensor<4x8xf32> -> tensor<4x4xf32>, tensor<4x3xf32>
  return
}

// -----

func.func @split_result(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{result shape ?x5 does not match the expected ?x4}}
  %0:2 = graph.split %x axis 1 sizes [4, 4] : tensor<?x8xf32> -> tensor<?x4xf32>, tensor<?x5xf32>
  return
}

// -----

func.func @adamw_shapes(%p: tensor<4x8xf32>, %g: tensor<4x9xf32>, %h: tensor<8xf32>) {
  // expected-error @+1 {{grad shape 4x9 differs from the parameter's 4x8}}
  %0:3 = graph.adamw %p, %g, %p, %p, %h : (tensor<4x8xf32>, tensor<4x9xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>)
  return
}

// -----

func.func @adamw_hyper(%p: tensor<4x8xf32>, %h: tensor<7xf32>) {
  // expected-error @+1 {{hyper must be tensor<8xf32> (clip, decay, 1 - beta1, beta2, 1 - beta2, bc2, eps, step size), got shape 7}}
  %0:3 = graph.adamw %p, %p, %p, %p, %h : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<7xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>)
  return
}

// -----

func.func @adamw_dynamic(%p: tensor<?x8xf32>, %h: tensor<8xf32>) {
  // expected-error @+1 {{parameter shape ?x8 must be static}}
  %0:3 = graph.adamw %p, %p, %p, %p, %h : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>)
  return
}

// -----

func.func @adamw_bf16(%p: tensor<4x8xbf16>, %h: tensor<8xf32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float values}}
  %0:3 = graph.adamw %p, %p, %p, %p, %h : (tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<8xf32>) -> (tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<4x8xbf16>)
  return
}
