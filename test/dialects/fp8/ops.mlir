// Round-trip of every fp8 op and attribute: custom form, generic form, and
// print -> parse -> print stability.

// RUN: infir2-opt %s | infir2-opt | FileCheck %s
// RUN: infir2-opt %s --mlir-print-op-generic | infir2-opt | FileCheck %s
// RUN: infir2-opt %s --verify-roundtrip > /dev/null
// RUN: infir2-opt %s > %t.1 && infir2-opt %t.1 > %t.2 && diff %t.1 %t.2

// Standalone forms of every attribute; recipes get an alias.
// CHECK: #[[$RECIPE:.+]] = #fp8.recipe<activation = <f8E4M3FN, 1x128, exact_f32>, weight = <f8E4M3FN, 128x128, exact_f32>, gradient = <f8E5M2, 1x128, exact_f32>>
// CHECK-LABEL: func.func @attributes
// CHECK-SAME: fp8.a = #fp8.layout<1x128>
// CHECK-SAME: fp8.b = #fp8.layout<128x1>
// CHECK-SAME: fp8.c = #fp8.layout<128x128>
// CHECK-SAME: fp8.d = #fp8.layout<per_row>
// CHECK-SAME: fp8.e = #fp8.layout<per_tensor>
// CHECK-SAME: fp8.f = #fp8.scale_rule<exact_f32>
// CHECK-SAME: fp8.g = #fp8.scale_rule<pow2_f32>
// CHECK-SAME: fp8.h = #fp8.scale_rule<e8m0>
// CHECK-SAME: fp8.i = #fp8.method<te>
// CHECK-SAME: fp8.j = #fp8.method<checkpoint>
// CHECK-SAME: fp8.k = #fp8.role<activation>
// CHECK-SAME: fp8.l = #fp8.role<weight>
// CHECK-SAME: fp8.m = #fp8.role<gradient>
// CHECK-SAME: fp8.n = #fp8.quant<f8E5M2, per_row, e8m0>
// CHECK-SAME: fp8.o = #[[$RECIPE]]
func.func @attributes() attributes {
  fp8.a = #fp8.layout<1x128>, fp8.b = #fp8.layout<128x1>,
  fp8.c = #fp8.layout<128x128>, fp8.d = #fp8.layout<per_row>,
  fp8.e = #fp8.layout<per_tensor>, fp8.f = #fp8.scale_rule<exact_f32>,
  fp8.g = #fp8.scale_rule<pow2_f32>, fp8.h = #fp8.scale_rule<e8m0>,
  fp8.i = #fp8.method<te>, fp8.j = #fp8.method<checkpoint>,
  fp8.k = #fp8.role<activation>, fp8.l = #fp8.role<weight>,
  fp8.m = #fp8.role<gradient>, fp8.n = #fp8.quant<f8E5M2, per_row, e8m0>,
  fp8.o = #fp8.recipe<activation = <f8E4M3FN, 1x128, exact_f32>, weight = <f8E4M3FN, 128x128, exact_f32>, gradient = <f8E5M2, 1x128, exact_f32>>
} {
  return
}

// CHECK-LABEL: func.func @quantize
// CHECK-SAME: (%[[X:.+]]: tensor<256x300xbf16>, %[[W:.+]]: tensor<512x1536xf32>, %[[G:.+]]: tensor<?x1536xf16>)
func.func @quantize(%x: tensor<256x300xbf16>, %w: tensor<512x1536xf32>, %g: tensor<?x1536xf16>) {
  // CHECK: fp8.quantize %[[X]] layout 1x128 scale pow2_f32 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<256x3xf32>
  %0:2 = fp8.quantize %x layout 1x128 scale pow2_f32 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<256x3xf32>
  // CHECK: fp8.quantize %[[X]] layout 128x1 scale exact_f32 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<2x300xf32>
  %1:2 = fp8.quantize %x layout 128x1 scale exact_f32 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<2x300xf32>
  // CHECK: fp8.quantize %[[X]] layout 128x128 scale e8m0 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<2x3xf8E8M0FNU>
  %2:2 = fp8.quantize %x layout 128x128 scale e8m0 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<2x3xf8E8M0FNU>
  // CHECK: fp8.quantize %[[X]] layout per_row scale exact_f32 : tensor<256x300xbf16> -> tensor<256x300xf8E5M2>, tensor<256x1xf32>
  %3:2 = fp8.quantize %x layout per_row scale exact_f32 : tensor<256x300xbf16> -> tensor<256x300xf8E5M2>, tensor<256x1xf32>
  // CHECK: fp8.quantize %[[X]] layout per_tensor scale exact_f32 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<1x1xf32>
  %4:2 = fp8.quantize %x layout per_tensor scale exact_f32 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<1x1xf32>
  // The checkpoint method and a role; the default method te is not printed.
  // CHECK: fp8.quantize %[[W]] layout 128x128 scale exact_f32 method checkpoint role weight : tensor<512x1536xf32> -> tensor<512x1536xf8E4M3FN>, tensor<4x12xf32>
  %5:2 = fp8.quantize %w layout 128x128 scale exact_f32 method checkpoint role weight : tensor<512x1536xf32> -> tensor<512x1536xf8E4M3FN>, tensor<4x12xf32>
  // CHECK: fp8.quantize %[[W]] layout 128x128 scale pow2_f32 : tensor<512x1536xf32>
  %6:2 = fp8.quantize %w layout 128x128 scale pow2_f32 method te : tensor<512x1536xf32> -> tensor<512x1536xf8E4M3FN>, tensor<4x12xf32>
  // Both orientations from one input (training's wgrad copy), dynamic tokens.
  // CHECK: fp8.quantize %[[G]] layout 1x128 transposed 1x128 scale pow2_f32 role gradient : tensor<?x1536xf16> -> tensor<?x1536xf8E4M3FN>, tensor<?x12xf32>, tensor<1536x?xf8E4M3FN>, tensor<1536x?xf32>
  %7:4 = fp8.quantize %g layout 1x128 transposed 1x128 scale pow2_f32 role gradient : tensor<?x1536xf16> -> tensor<?x1536xf8E4M3FN>, tensor<?x12xf32>, tensor<1536x?xf8E4M3FN>, tensor<1536x?xf32>
  // CHECK: fp8.quantize %[[X]] layout 1x128 transposed 128x128 scale e8m0 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<256x3xf8E8M0FNU>, tensor<300x256xf8E4M3FN>, tensor<3x2xf8E8M0FNU>
  %8:4 = fp8.quantize %x layout 1x128 transposed 128x128 scale e8m0 : tensor<256x300xbf16> -> tensor<256x300xf8E4M3FN>, tensor<256x3xf8E8M0FNU>, tensor<300x256xf8E4M3FN>, tensor<3x2xf8E8M0FNU>
  return
}

// CHECK-LABEL: func.func @dequantize
// CHECK-SAME: (%[[D:.+]]: tensor<512x1536xf8E4M3FN>, %[[S:.+]]: tensor<4x12xf32>, %[[E:.+]]: tensor<4x12xf8E8M0FNU>, %[[D5:.+]]: tensor<?x300xf8E5M2>, %[[S5:.+]]: tensor<?x3xf32>)
func.func @dequantize(%d: tensor<512x1536xf8E4M3FN>, %s: tensor<4x12xf32>, %e: tensor<4x12xf8E8M0FNU>, %d5: tensor<?x300xf8E5M2>, %s5: tensor<?x3xf32>) {
  // CHECK: fp8.dequantize %[[D]], %[[S]] layout 128x128 : tensor<512x1536xf8E4M3FN>, tensor<4x12xf32> -> tensor<512x1536xbf16>
  %0 = fp8.dequantize %d, %s layout 128x128 : tensor<512x1536xf8E4M3FN>, tensor<4x12xf32> -> tensor<512x1536xbf16>
  // CHECK: fp8.dequantize %[[D]], %[[E]] layout 128x128 : tensor<512x1536xf8E4M3FN>, tensor<4x12xf8E8M0FNU> -> tensor<512x1536xf32>
  %1 = fp8.dequantize %d, %e layout 128x128 : tensor<512x1536xf8E4M3FN>, tensor<4x12xf8E8M0FNU> -> tensor<512x1536xf32>
  // CHECK: fp8.dequantize %[[D5]], %[[S5]] layout 1x128 : tensor<?x300xf8E5M2>, tensor<?x3xf32> -> tensor<?x300xf16>
  %2 = fp8.dequantize %d5, %s5 layout 1x128 : tensor<?x300xf8E5M2>, tensor<?x3xf32> -> tensor<?x300xf16>
  return
}

// CHECK-LABEL: func.func @scaled_matmul
func.func @scaled_matmul(%x: tensor<?x1536xf8E4M3FN>, %xs: tensor<?x12xf32>,
                         %w: tensor<256x1536xf8E4M3FN>, %ws: tensor<2x12xf32>,
                         %dy: tensor<?x256xf8E5M2>, %dys: tensor<?x2xf32>,
                         %xt: tensor<1536x?xf8E4M3FN>, %xts: tensor<1536x?xf32>,
                         %dyt: tensor<256x?xf8E5M2>, %dyts: tensor<256x?xf32>,
                         %a: tensor<64x96xf8E4M3FN>, %as: tensor<1x1xf8E8M0FNU>,
                         %ar: tensor<64x1xf8E8M0FNU>) {
  // Forward y = x * W^T.
  // CHECK: fp8.scaled_matmul %{{.+}}, %{{.+}} layout 1x128, %{{.+}}, %{{.+}} layout 128x128 transposed : tensor<?x1536xf8E4M3FN>, tensor<?x12xf32>, tensor<256x1536xf8E4M3FN>, tensor<2x12xf32> -> tensor<?x256xbf16>
  %y = fp8.scaled_matmul %x, %xs layout 1x128, %w, %ws layout 128x128 transposed : tensor<?x1536xf8E4M3FN>, tensor<?x12xf32>, tensor<256x1536xf8E4M3FN>, tensor<2x12xf32> -> tensor<?x256xbf16>
  // dgrad dx = dy * W (E5M2 gradient times E4M3 weight).
  // CHECK: fp8.scaled_matmul %{{.+}}, %{{.+}} layout 1x128, %{{.+}}, %{{.+}} layout 128x128 : tensor<?x256xf8E5M2>, tensor<?x2xf32>, tensor<256x1536xf8E4M3FN>, tensor<2x12xf32> -> tensor<?x1536xbf16>
  %dx = fp8.scaled_matmul %dy, %dys layout 1x128, %w, %ws layout 128x128 : tensor<?x256xf8E5M2>, tensor<?x2xf32>, tensor<256x1536xf8E4M3FN>, tensor<2x12xf32> -> tensor<?x1536xbf16>
  // wgrad dW = dy^T * x from the transposed copies, f32 out.
  // CHECK: fp8.scaled_matmul %{{.+}}, %{{.+}} layout 1x128, %{{.+}}, %{{.+}} layout 1x128 transposed : tensor<256x?xf8E5M2>, tensor<256x?xf32>, tensor<1536x?xf8E4M3FN>, tensor<1536x?xf32> -> tensor<256x1536xf32>
  %dw = fp8.scaled_matmul %dyt, %dyts layout 1x128, %xt, %xts layout 1x128 transposed : tensor<256x?xf8E5M2>, tensor<256x?xf32>, tensor<1536x?xf8E4M3FN>, tensor<1536x?xf32> -> tensor<256x1536xf32>
  // The same wgrad reading the row-major copies: 128x1 tiles run along M.
  // CHECK: fp8.scaled_matmul %{{.+}}, %{{.+}} layout 128x1 transposed, %{{.+}}, %{{.+}} layout 128x1 : tensor<?x256xf8E5M2>, tensor<1x256xf32>, tensor<?x1536xf8E4M3FN>, tensor<1x1536xf32> -> tensor<256x1536xf32>
  %c0 = arith.constant dense<1.0> : tensor<1x256xf32>
  %c1 = arith.constant dense<1.0> : tensor<1x1536xf32>
  %dw2 = fp8.scaled_matmul %dy, %c0 layout 128x1 transposed, %x, %c1 layout 128x1 : tensor<?x256xf8E5M2>, tensor<1x256xf32>, tensor<?x1536xf8E4M3FN>, tensor<1x1536xf32> -> tensor<256x1536xf32>
  // Per-tensor and per-row scales, E8M0.
  // CHECK: fp8.scaled_matmul %{{.+}}, %{{.+}} layout per_row, %{{.+}}, %{{.+}} layout per_tensor transposed : tensor<64x96xf8E4M3FN>, tensor<64x1xf8E8M0FNU>, tensor<64x96xf8E4M3FN>, tensor<1x1xf8E8M0FNU> -> tensor<64x64xbf16>
  %z = fp8.scaled_matmul %a, %ar layout per_row, %a, %as layout per_tensor transposed : tensor<64x96xf8E4M3FN>, tensor<64x1xf8E8M0FNU>, tensor<64x96xf8E4M3FN>, tensor<1x1xf8E8M0FNU> -> tensor<64x64xbf16>
  return
}
