// graph-adamw: the optimizer step and the gradient norm as functions.

// RUN: infir2-opt %s --graph-adamw | FileCheck %s

// A bf16 model with a matrix (decays) and a bias (does not): the sums of
// squares per gradient; AdamW per parameter with its scalars, the vector as
// one [1, N] row, and the bf16 copy of each new master.
// CHECK-LABEL: func.func @grad_norm
// CHECK-SAME: (%[[GW:.+]]: tensor<16x8xf32> {graph.input = "grad.w"}, %[[GB:.+]]: tensor<16xf32> {graph.input = "grad.b"})
// CHECK-SAME: -> (tensor<f32> {graph.output = "sumsq.w"}, tensor<f32> {graph.output = "sumsq.b"})
// CHECK: %[[SQ:.+]] = graph.mul %[[GW]], %[[GW]]
// CHECK: %[[ROWS:.+]] = graph.reduce_sum %[[SQ]] axes [1]
// CHECK: graph.reduce_sum %[[ROWS]] axes [0]
// CHECK: %[[B2:.+]] = graph.reshape %[[GB]] : tensor<16xf32> -> tensor<1x16xf32>

// CHECK-LABEL: func.func @optimizer_step
// CHECK-SAME: %[[W:[a-z0-9]+]]: tensor<16x8xf32> {graph.input = "master.w"}
// CHECK-SAME: {graph.input = "grad.w"}
// CHECK-SAME: {graph.input = "exp_avg.w"}
// CHECK-SAME: {graph.input = "exp_avg_sq.w"}
// CHECK-SAME: {graph.input = "master.b"}
// CHECK-SAME: %[[H:[a-z0-9]+]]: tensor<8xf32> {graph.input = "adamw.hyper"}
// CHECK-SAME: %[[HN:[a-z0-9]+]]: tensor<8xf32> {graph.input = "adamw.hyper_no_decay"}
// CHECK-SAME: {graph.output = "master.w"}
// CHECK-SAME: {graph.output = "param.w"}
// CHECK-SAME: {graph.output = "param.b"}
// CHECK: %[[P:[a-z_0-9]+]], %{{.+}}, %{{.+}} = graph.adamw %[[W]], %{{.+}}, %{{.+}}, %{{.+}}, %[[H]]
// CHECK: graph.cast %[[P]] : tensor<16x8xf32> to tensor<16x8xbf16>
// CHECK: graph.adamw %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[HN]] : {{.*}}tensor<1x16xf32>
func.func @forward(%x: tensor<?x8xbf16> {graph.input = "x"}, %w: tensor<16x8xbf16> {graph.param = "w"}, %b: tensor<16xbf16> {graph.param = "b"}) -> (tensor<?x16xbf16> {graph.output = "y"}) {
  %y = graph.linear %x, %w, %b : (tensor<?x8xbf16>, tensor<16x8xbf16>, tensor<16xbf16>) -> tensor<?x16xbf16>
  return %y : tensor<?x16xbf16>
}
