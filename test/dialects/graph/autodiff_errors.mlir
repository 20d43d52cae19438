// graph-autodiff refuses what it cannot differentiate, naming it.

// RUN: infir2-opt %s --split-input-file --graph-autodiff --verify-diagnostics

func.func @forward(%x: tensor<?x8xf32> {graph.input = "x"}, %w: tensor<16x8xf32> {graph.param = "w"})
    -> (tensor<f32> {graph.output = "nll_sum"}, tensor<f32> {graph.output = "token_count"}) {
  %h = graph.linear %x, %w : (tensor<?x8xf32>, tensor<16x8xf32>) -> tensor<?x16xf32>
  // expected-error @+1 {{'graph.reduce_max' op has no vector-Jacobian product (VjpOpInterface); graph-autodiff cannot differentiate through it}}
  %m = graph.reduce_max %h axes [0, 1] : tensor<?x16xf32> -> tensor<f32>
  return %m, %m : tensor<f32>, tensor<f32>
}

// -----

// expected-error @+1 {{graph-autodiff: @forward has no result named 'nll_sum'}}
func.func @forward(%w: tensor<4xf32> {graph.param = "w"}) -> (tensor<f32> {graph.output = "loss"}) {
  %s = graph.reduce_sum %w axes [0] : tensor<4xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// expected-error @+1 {{graph-autodiff: the loss 'nll_sum' must be a scalar tensor<f32>, not 'tensor<4xf32>'}}
func.func @forward(%w: tensor<4xf32> {graph.param = "w"}) -> (tensor<4xf32> {graph.output = "nll_sum"}) {
  return %w : tensor<4xf32>
}

// -----

// expected-error @+1 {{graph-autodiff: the loss 'nll_sum' does not depend on any parameter}}
func.func @forward(%x: tensor<4xf32> {graph.input = "x"}, %w: tensor<4xf32> {graph.param = "w"}) -> (tensor<f32> {graph.output = "nll_sum"}, tensor<f32> {graph.output = "token_count"}) {
  %s = graph.reduce_sum %x axes [0] : tensor<4xf32> -> tensor<f32>
  return %s, %s : tensor<f32>, tensor<f32>
}

// -----

// expected-error @+1 {{graph-autodiff: @forward has no result named 'token_count' to keep}}
func.func @forward(%w: tensor<4xf32> {graph.param = "w"}) -> (tensor<f32> {graph.output = "nll_sum"}) {
  %s = graph.reduce_sum %w axes [0] : tensor<4xf32> -> tensor<f32>
  return %s : tensor<f32>
}
