// Every kernel.fused verifier rule, with the diagnostic it gives.

// RUN: infir2-opt %s --split-input-file --verify-diagnostics

func.func @empty_name(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'kernel.fused' op needs a non-empty name}}
  %0 = kernel.fused "" schedule rows(%x) : (tensor<4x8xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<4x8xf32>):
    kernel.yield %a : tensor<4x8xf32>
  }
  return %0 : tensor<4x8xf32>
}

// -----

func.func @argument_count(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{region has 2 arguments for 1 inputs; give one argument per input}}
  %0 = kernel.fused "k" schedule rows(%x) : (tensor<4x8xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>):
    kernel.yield %a : tensor<4x8xf32>
  }
  return %0 : tensor<4x8xf32>
}

// -----

func.func @argument_type(%x: tensor<4x8xf32>) -> tensor<4x8xbf16> {
  // expected-error @+1 {{region argument 0 has type 'tensor<4x8xbf16>' but input 0 is 'tensor<4x8xf32>'}}
  %0 = kernel.fused "k" schedule rows(%x) : (tensor<4x8xf32>) -> tensor<4x8xbf16> {
  ^bb0(%a: tensor<4x8xbf16>):
    kernel.yield %a : tensor<4x8xbf16>
  }
  return %0 : tensor<4x8xbf16>
}

// -----

func.func @yield_count(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  // expected-error @+1 {{kernel.yield returns 1 values for 2 results}}
  %0:2 = kernel.fused "k" schedule rows(%x) : (tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  ^bb0(%a: tensor<4x8xf32>):
    kernel.yield %a : tensor<4x8xf32>
  }
  return %0#0, %0#1 : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

func.func @yield_type(%x: tensor<4x8xf32>) -> tensor<4x8xbf16> {
  // expected-error @+1 {{yielded value 0 has type 'tensor<4x8xf32>' but result 0 is 'tensor<4x8xbf16>'}}
  %0 = kernel.fused "k" schedule rows(%x) : (tensor<4x8xf32>) -> tensor<4x8xbf16> {
  ^bb0(%a: tensor<4x8xf32>):
    kernel.yield %a : tensor<4x8xf32>
  }
  return %0 : tensor<4x8xbf16>
}

// -----

func.func @foreign_op(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{may only hold graph, fp8 and arith.constant ops, not 'tensor.empty'}}
  %0 = kernel.fused "k" schedule rows(%x) : (tensor<4x8xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<4x8xf32>):
    %e = tensor.empty() : tensor<4x8xf32>
    kernel.yield %e : tensor<4x8xf32>
  }
  return %0 : tensor<4x8xf32>
}

// -----

func.func @transposed_needs_row_tiles(%x: tensor<?x128xbf16>) -> (tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<128x?xf8E4M3FN>, tensor<128x?xf32>) {
  // expected-error @+1 {{quantizes with a transposed copy, whose tiles run down 128 rows: the schedule must be row_tiles, not rows}}
  %0:4 = kernel.fused "q" schedule rows(%x) : (tensor<?x128xbf16>) -> (tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<128x?xf8E4M3FN>, tensor<128x?xf32>) {
  ^bb0(%a: tensor<?x128xbf16>):
    %d, %s, %dt, %st = fp8.quantize %a layout 1x128 transposed 1x128 scale pow2_f32 : tensor<?x128xbf16> -> tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<128x?xf8E4M3FN>, tensor<128x?xf32>
    kernel.yield %d, %s, %dt, %st : tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<128x?xf8E4M3FN>, tensor<128x?xf32>
  }
  return %0#0, %0#1, %0#2, %0#3 : tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<128x?xf8E4M3FN>, tensor<128x?xf32>
}

// -----

func.func @blocks_needs_blocks(%w: tensor<128x128xbf16>) -> (tensor<128x128xf8E4M3FN>, tensor<1x1xf32>) {
  // expected-error @+1 {{quantizes 128x128 blocks: the schedule must be blocks, not rows}}
  %0:2 = kernel.fused "q" schedule rows(%w) : (tensor<128x128xbf16>) -> (tensor<128x128xf8E4M3FN>, tensor<1x1xf32>) {
  ^bb0(%a: tensor<128x128xbf16>):
    %d, %s = fp8.quantize %a layout 128x128 scale pow2_f32 : tensor<128x128xbf16> -> tensor<128x128xf8E4M3FN>, tensor<1x1xf32>
    kernel.yield %d, %s : tensor<128x128xf8E4M3FN>, tensor<1x1xf32>
  }
  return %0#0, %0#1 : tensor<128x128xf8E4M3FN>, tensor<1x1xf32>
}

// -----

func.func @row_tiles_without_transpose(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{has schedule row_tiles but no fp8.quantize with a transposed copy; use rows}}
  %0 = kernel.fused "k" schedule row_tiles(%x) : (tensor<?x8xf32>) -> tensor<?x8xf32> {
  ^bb0(%a: tensor<?x8xf32>):
    kernel.yield %a : tensor<?x8xf32>
  }
  return %0 : tensor<?x8xf32>
}

// -----

func.func @blocks_without_quantize(%x: tensor<8x8xf32>) -> tensor<8x8xf32> {
  // expected-error @+1 {{has schedule blocks but no fp8.quantize of 128x128 blocks; use rows}}
  %0 = kernel.fused "k" schedule blocks(%x) : (tensor<8x8xf32>) -> tensor<8x8xf32> {
  ^bb0(%a: tensor<8x8xf32>):
    kernel.yield %a : tensor<8x8xf32>
  }
  return %0 : tensor<8x8xf32>
}

// -----

func.func @yield_outside(%x: tensor<8x8xf32>) {
  // expected-error @+1 {{'kernel.yield' op expects parent op 'kernel.fused'}}
  kernel.yield %x : tensor<8x8xf32>
}
