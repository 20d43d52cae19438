// graph-autodiff: the gradient function of a forward function.

// RUN: infir2-opt %s --split-input-file --graph-autodiff | FileCheck %s

// A linear layer with bias under a masked cross entropy: the seed, the
// cross-entropy gradient, dW = dY^T X and db = sum(dY) in f32.
// CHECK-LABEL: func.func @forward_grad
// CHECK-SAME: (%[[X:.+]]: tensor<?x8xf32> {graph.input = "x"}, %[[LABELS:.+]]: tensor<?xi32> {graph.input = "labels"}, %[[MASK:.+]]: tensor<?xf32> {graph.input = "loss_mask"}, %[[W:.+]]: tensor<16x8xf32> {graph.param = "w"}, %[[B:.+]]: tensor<16xf32> {graph.param = "b"})
// CHECK-SAME: -> (tensor<f32> {graph.output = "loss"}, tensor<f32> {graph.output = "token_count"}, tensor<16x8xf32> {graph.output = "grad.w"}, tensor<16xf32> {graph.output = "grad.b"})
// CHECK: %[[H:.+]] = graph.linear %[[X]], %[[W]], %[[B]]
// CHECK: %[[NLL:.+]] = graph.cross_entropy %[[H]], %[[LABELS]], %[[MASK]]
// CHECK: %[[LOSS:.+]] = graph.reduce_sum %[[NLL]] axes [0]
// CHECK: %[[COUNT:.+]] = graph.reduce_sum %[[MASK]] axes [0]
// CHECK: %[[ONE:.+]] = arith.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[SEED:.+]] = graph.broadcast %[[ONE]] dims [] like %[[NLL]]
// CHECK: %[[DH:.+]] = graph.cross_entropy_grad %[[SEED]], %[[H]], %[[LABELS]], %[[MASK]]
// CHECK-NOT: graph.matmul %[[DH]], %[[W]]
// CHECK: %[[DW:.+]] = graph.matmul %[[DH]], %[[X]] {transpose_lhs} : (tensor<?x16xf32>, tensor<?x8xf32>) -> tensor<16x8xf32>
// CHECK: %[[DB:.+]] = graph.reduce_sum %[[DH]] axes [0] : tensor<?x16xf32> -> tensor<16xf32>
// CHECK: return %[[LOSS]], %[[COUNT]], %[[DW]], %[[DB]]
func.func @forward(%x: tensor<?x8xf32> {graph.input = "x"}, %labels: tensor<?xi32> {graph.input = "labels"}, %mask: tensor<?xf32> {graph.input = "loss_mask"}, %w: tensor<16x8xf32> {graph.param = "w"}, %b: tensor<16xf32> {graph.param = "b"})
    -> (tensor<f32> {graph.output = "nll_sum"}, tensor<f32> {graph.output = "token_count"}) {
  %h = graph.linear %x, %w, %b : (tensor<?x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %nll = graph.cross_entropy %h, %labels, %mask : (tensor<?x16xf32>, tensor<?xi32>, tensor<?xf32>) -> tensor<?xf32>
  %loss = graph.reduce_sum %nll axes [0] : tensor<?xf32> -> tensor<f32>
  %count = graph.reduce_sum %mask axes [0] : tensor<?xf32> -> tensor<f32>
  return %loss, %count : tensor<f32>, tensor<f32>
}

// -----

// A tied bf16 table: the embedding's scatter-add and the LM head's weight
// gradient are both f32 and summed; the activations' gradients stay bf16;
// an unused parameter gets zeros.
// CHECK-LABEL: func.func @forward_grad
// CHECK-SAME: %[[IDS:[a-z0-9]+]]: tensor<?xi32> {graph.input = "token_ids"}
// CHECK-SAME: %[[T:[a-z0-9]+]]: tensor<32x8xbf16> {graph.param = "table"}
// CHECK-SAME: %[[N:[a-z0-9]+]]: tensor<8xbf16> {graph.param = "norm"}
// CHECK-SAME: -> (tensor<f32> {graph.output = "loss"}, tensor<f32> {graph.output = "token_count"}, tensor<32x8xf32> {graph.output = "grad.table"}, tensor<8xf32> {graph.output = "grad.norm"}, tensor<4x4xf32> {graph.output = "grad.unused"})
// CHECK: %[[H:.+]] = graph.embedding %[[T]][%[[IDS]]]
// CHECK: %[[A:.+]] = graph.rms_norm %[[H]], %[[N]]
// CHECK: %[[DA:.+]] = graph.matmul %{{.+}}, %[[T]] : (tensor<?x32xbf16>, tensor<32x8xbf16>) -> tensor<?x8xbf16>
// CHECK: %[[DHEAD:.+]] = graph.matmul %{{.+}}, %[[A]] {transpose_lhs} : (tensor<?x32xbf16>, tensor<?x8xbf16>) -> tensor<32x8xf32>
// CHECK: %[[DX:.+]], %[[DN:.+]] = graph.rms_norm_grad %[[DA]], %[[H]], %[[N]] {{.*}} -> (tensor<?x8xbf16>, tensor<8xf32>)
// CHECK: %[[DEMB:.+]] = graph.embedding_grad %[[DX]][%[[IDS]]] {num_embeddings = 32 : i64} : tensor<?x8xbf16>, tensor<?xi32> -> tensor<32x8xf32>
// CHECK: %[[DT:.+]] = graph.add %[[DHEAD]], %[[DEMB]] : tensor<32x8xf32>
// CHECK: %[[ZERO:.+]] = arith.constant dense<0.000000e+00> : tensor<4x4xf32>
// CHECK: return %{{.+}}, %{{.+}}, %[[DT]], %[[DN]], %[[ZERO]]
func.func @forward(%ids: tensor<?xi32> {graph.input = "token_ids"}, %labels: tensor<?xi32> {graph.input = "labels"}, %mask: tensor<?xf32> {graph.input = "loss_mask"},
                   %table: tensor<32x8xbf16> {graph.param = "table"}, %norm: tensor<8xbf16> {graph.param = "norm"}, %unused: tensor<4x4xbf16> {graph.param = "unused"})
    -> (tensor<f32> {graph.output = "nll_sum"}, tensor<f32> {graph.output = "token_count"}) {
  %h = graph.embedding %table[%ids] : tensor<32x8xbf16>, tensor<?xi32> -> tensor<?x8xbf16>
  %a = graph.rms_norm %h, %norm {epsilon = 1.0e-6 : f64} : (tensor<?x8xbf16>, tensor<8xbf16>) -> tensor<?x8xbf16>
  %logits = graph.linear %a, %table : (tensor<?x8xbf16>, tensor<32x8xbf16>) -> tensor<?x32xbf16>
  %l32 = graph.cast %logits : tensor<?x32xbf16> to tensor<?x32xf32>
  %nll = graph.cross_entropy %l32, %labels, %mask : (tensor<?x32xf32>, tensor<?xi32>, tensor<?xf32>) -> tensor<?xf32>
  %loss = graph.reduce_sum %nll axes [0] : tensor<?xf32> -> tensor<f32>
  %count = graph.reduce_sum %mask axes [0] : tensor<?xf32> -> tensor<f32>
  return %loss, %count : tensor<f32>, tensor<f32>
}

// -----

// SwiGLU, attention and RoPE, in reverse: swiglu_grad, the reshape undone,
// attention_grad, rope_grad on key and query, the heads reshaped back.
// CHECK-LABEL: func.func @forward_grad
// CHECK: %[[DG:.+]], %{{.+}} = graph.swiglu_grad
// CHECK: %[[DO:.+]] = graph.reshape %[[DG]] : tensor<?x8xf32> -> tensor<?x2x4xf32>
// CHECK: %[[DQ:.+]], %[[DK:.+]], %[[DV:.+]] = graph.attention_grad %[[DO]]
// CHECK-DAG: graph.rope_grad %[[DK]], %{{.+}} {theta = 1.000000e+04 : f64}
// CHECK-DAG: graph.rope_grad %[[DQ]], %{{.+}} {theta = 1.000000e+04 : f64}
// CHECK-DAG: graph.reshape %[[DV]] : tensor<?x1x4xf32> -> tensor<?x4xf32>
func.func @forward(%x: tensor<?x8xf32> {graph.input = "x"}, %pos: tensor<?xi32> {graph.input = "position_ids"}, %cu: tensor<?xi32> {graph.input = "cu_seqlens"},
                   %wq: tensor<8x8xf32> {graph.param = "wq"}, %wk: tensor<4x8xf32> {graph.param = "wk"}, %wv: tensor<4x8xf32> {graph.param = "wv"})
    -> (tensor<f32> {graph.output = "nll_sum"}, tensor<f32> {graph.output = "token_count"}) {
  %q = graph.linear %x, %wq : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %k = graph.linear %x, %wk : (tensor<?x8xf32>, tensor<4x8xf32>) -> tensor<?x4xf32>
  %v = graph.linear %x, %wv : (tensor<?x8xf32>, tensor<4x8xf32>) -> tensor<?x4xf32>
  %q3 = graph.reshape %q : tensor<?x8xf32> -> tensor<?x2x4xf32>
  %k3 = graph.reshape %k : tensor<?x4xf32> -> tensor<?x1x4xf32>
  %v3 = graph.reshape %v : tensor<?x4xf32> -> tensor<?x1x4xf32>
  %qr = graph.rope %q3, %pos {theta = 1.0e4 : f64} : (tensor<?x2x4xf32>, tensor<?xi32>) -> tensor<?x2x4xf32>
  %kr = graph.rope %k3, %pos {theta = 1.0e4 : f64} : (tensor<?x1x4xf32>, tensor<?xi32>) -> tensor<?x1x4xf32>
  %o = graph.attention %qr, %kr, %v3, %cu {causal, scale = 0.5 : f64} : (tensor<?x2x4xf32>, tensor<?x1x4xf32>, tensor<?x1x4xf32>, tensor<?xi32>) -> tensor<?x2x4xf32>
  %o2 = graph.reshape %o : tensor<?x2x4xf32> -> tensor<?x8xf32>
  %act = graph.swiglu %o2, %x : tensor<?x8xf32>
  %s = graph.reduce_sum %act axes [0, 1] : tensor<?x8xf32> -> tensor<f32>
  return %s, %s : tensor<f32>, tensor<f32>
}

// -----

// An FP8 linear's gradient GEMMs carry its recipe for fp8-lower: the dgrad
// dY W (of the second linear, whose input depends on a parameter) and the
// wgrads dY^T X.
// CHECK-LABEL: func.func @forward_grad
// CHECK: %[[A:.+]] = graph.linear %[[X:[a-z0-9]+]], %[[W1:[a-z0-9]+]] {fp8 = #recipe}
// CHECK: %[[H:.+]] = graph.linear %[[A]], %[[W2:[a-z0-9]+]] {fp8 = #recipe}
// CHECK: %[[DH:.+]] = graph.cross_entropy_grad
// CHECK-DAG: %[[DA:.+]] = graph.matmul %[[DH]], %[[W2]] {fp8 = #recipe, fp8_gemm = #graph.fp8_gemm<dgrad>} : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
// CHECK-DAG: graph.matmul %[[DH]], %[[A]] {fp8 = #recipe, fp8_gemm = #graph.fp8_gemm<wgrad>, transpose_lhs} : (tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<16x16xf32>
// CHECK: graph.matmul %[[DA]], %[[X]] {fp8 = #recipe, fp8_gemm = #graph.fp8_gemm<wgrad>, transpose_lhs} : (tensor<?x16xf32>, tensor<?x8xf32>) -> tensor<16x8xf32>
#r = #fp8.recipe<activation = <f8E4M3FN, 1x128, pow2_f32>, weight = <f8E4M3FN, 128x128, pow2_f32>, gradient = <f8E4M3FN, 1x128, pow2_f32>>
func.func @forward(%x: tensor<?x8xf32> {graph.input = "x"}, %labels: tensor<?xi32> {graph.input = "labels"}, %mask: tensor<?xf32> {graph.input = "loss_mask"}, %w1: tensor<16x8xf32> {graph.param = "w1"}, %w2: tensor<16x16xf32> {graph.param = "w2"})
    -> (tensor<f32> {graph.output = "nll_sum"}, tensor<f32> {graph.output = "token_count"}) {
  %a = graph.linear %x, %w1 {fp8 = #r} : (tensor<?x8xf32>, tensor<16x8xf32>) -> tensor<?x16xf32>
  %h = graph.linear %a, %w2 {fp8 = #r} : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
  %nll = graph.cross_entropy %h, %labels, %mask : (tensor<?x16xf32>, tensor<?xi32>, tensor<?xf32>) -> tensor<?xf32>
  %loss = graph.reduce_sum %nll axes [0] : tensor<?xf32> -> tensor<f32>
  %count = graph.reduce_sum %mask axes [0] : tensor<?xf32> -> tensor<f32>
  return %loss, %count : tensor<f32>, tensor<f32>
}

// -----

// A split's gradient is the concatenation of its results' gradients, with
// zeros for a result the loss does not reach.
// CHECK-LABEL: func.func @forward_grad
// CHECK: %[[Y:.+]] = graph.linear
// CHECK: %[[P:.+]]:3 = graph.split %[[Y]] axis 1 sizes [4, 4, 8]
// CHECK: %[[ZERO:.+]] = arith.constant dense<0.000000e+00> : tensor<f32>
// CHECK: %[[Z:.+]] = graph.broadcast %[[ZERO]] dims [] like %[[P]]#1 : tensor<f32>, tensor<?x4xf32> -> tensor<?x4xf32>
// CHECK: %[[DY:.+]] = graph.concat %{{.+}}, %[[Z]], %{{.+}} axis 1 : (tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
// CHECK: graph.matmul %[[DY]], %{{.+}} {transpose_lhs}
func.func @forward(%x: tensor<?x8xf32> {graph.input = "x"}, %labels: tensor<?xi32> {graph.input = "labels"}, %mask: tensor<?xf32> {graph.input = "loss_mask"}, %w: tensor<16x8xf32> {graph.param = "w"}) -> (tensor<f32> {graph.output = "nll_sum"}, tensor<f32> {graph.output = "token_count"}) {
  %y = graph.linear %x, %w : (tensor<?x8xf32>, tensor<16x8xf32>) -> tensor<?x16xf32>
  %a, %b, %c = graph.split %y axis 1 sizes [4, 4, 8] : tensor<?x16xf32> -> tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x8xf32>
  %s = graph.concat %a, %c axis 1 : (tensor<?x4xf32>, tensor<?x8xf32>) -> tensor<?x12xf32>
  %nll = graph.cross_entropy %s, %labels, %mask : (tensor<?x12xf32>, tensor<?xi32>, tensor<?xf32>) -> tensor<?xf32>
  %loss = graph.reduce_sum %nll axes [0] : tensor<?xf32> -> tensor<f32>
  %count = graph.reduce_sum %mask axes [0] : tensor<?xf32> -> tensor<f32>
  return %loss, %count : tensor<f32>, tensor<f32>
}
