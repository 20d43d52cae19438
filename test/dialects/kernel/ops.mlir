// Round-trip of the kernel dialect: custom form, generic form, and print ->
// parse -> print stability.

// RUN: infir2-opt %s | infir2-opt | FileCheck %s
// RUN: infir2-opt %s --mlir-print-op-generic | infir2-opt | FileCheck %s
// RUN: infir2-opt %s --verify-roundtrip > /dev/null
// RUN: infir2-opt %s > %t.1 && infir2-opt %t.1 > %t.2 && diff %t.1 %t.2

// CHECK-LABEL: func.func @rows
// CHECK: %[[K:.+]]:2 = kernel.fused "add_rms_norm" schedule rows(%{{.+}}, %{{.+}}, %{{.+}}) : (tensor<?x64xbf16>, tensor<?x64xbf16>, tensor<64xbf16>) -> (tensor<?x64xbf16>, tensor<?x64xbf16>) {
// CHECK: ^bb0(%[[A:.+]]: tensor<?x64xbf16>, %[[B:.+]]: tensor<?x64xbf16>, %[[W:.+]]: tensor<64xbf16>):
// CHECK: %[[S:.+]] = graph.add %[[A]], %[[B]]
// CHECK: %[[N:.+]] = graph.rms_norm %[[S]], %[[W]]
// CHECK: kernel.yield %[[S]], %[[N]] : tensor<?x64xbf16>, tensor<?x64xbf16>
// CHECK: return %[[K]]#0, %[[K]]#1
func.func @rows(%x: tensor<?x64xbf16>, %r: tensor<?x64xbf16>, %w: tensor<64xbf16>) -> (tensor<?x64xbf16>, tensor<?x64xbf16>) {
  %0:2 = kernel.fused "add_rms_norm" schedule rows(%x, %r, %w) : (tensor<?x64xbf16>, tensor<?x64xbf16>, tensor<64xbf16>) -> (tensor<?x64xbf16>, tensor<?x64xbf16>) {
  ^bb0(%a: tensor<?x64xbf16>, %b: tensor<?x64xbf16>, %g: tensor<64xbf16>):
    %s = graph.add %a, %b : tensor<?x64xbf16>
    %n = graph.rms_norm %s, %g {epsilon = 1.0e-06 : f64} : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
    kernel.yield %s, %n : tensor<?x64xbf16>, tensor<?x64xbf16>
  }
  return %0#0, %0#1 : tensor<?x64xbf16>, tensor<?x64xbf16>
}

// CHECK-LABEL: func.func @row_tiles
// CHECK: kernel.fused "quantize" schedule row_tiles
// CHECK: fp8.quantize %{{.+}} layout 1x128 transposed 1x128 scale pow2_f32
func.func @row_tiles(%x: tensor<?x256xbf16>) -> (tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<256x?xf8E4M3FN>, tensor<256x?xf32>) {
  %0:4 = kernel.fused "quantize" schedule row_tiles(%x) : (tensor<?x256xbf16>) -> (tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<256x?xf8E4M3FN>, tensor<256x?xf32>) {
  ^bb0(%a: tensor<?x256xbf16>):
    %d, %s, %dt, %st = fp8.quantize %a layout 1x128 transposed 1x128 scale pow2_f32 : tensor<?x256xbf16> -> tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<256x?xf8E4M3FN>, tensor<256x?xf32>
    kernel.yield %d, %s, %dt, %st : tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<256x?xf8E4M3FN>, tensor<256x?xf32>
  }
  return %0#0, %0#1, %0#2, %0#3 : tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<256x?xf8E4M3FN>, tensor<256x?xf32>
}

// CHECK-LABEL: func.func @blocks
// CHECK: kernel.fused "concat_quantize" schedule blocks
// CHECK: graph.concat
// CHECK: fp8.quantize %{{.+}} layout 128x128 scale pow2_f32 role weight
func.func @blocks(%a: tensor<128x256xbf16>, %b: tensor<128x256xbf16>) -> (tensor<256x256xf8E4M3FN>, tensor<2x2xf32>) {
  %0:2 = kernel.fused "concat_quantize" schedule blocks(%a, %b) : (tensor<128x256xbf16>, tensor<128x256xbf16>) -> (tensor<256x256xf8E4M3FN>, tensor<2x2xf32>) {
  ^bb0(%x: tensor<128x256xbf16>, %y: tensor<128x256xbf16>):
    %c = graph.concat %x, %y axis 0 : (tensor<128x256xbf16>, tensor<128x256xbf16>) -> tensor<256x256xbf16>
    %d, %s = fp8.quantize %c layout 128x128 scale pow2_f32 role weight : tensor<256x256xbf16> -> tensor<256x256xf8E4M3FN>, tensor<2x2xf32>
    kernel.yield %d, %s : tensor<256x256xf8E4M3FN>, tensor<2x2xf32>
  }
  return %0#0, %0#1 : tensor<256x256xf8E4M3FN>, tensor<2x2xf32>
}
