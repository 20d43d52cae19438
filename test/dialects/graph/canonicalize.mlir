// The graph folders, run through -canonicalize.

// RUN: infir2-opt %s --split-input-file --canonicalize | FileCheck %s

// CHECK-LABEL: func.func @cast_same_type
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>)
// CHECK-NOT: graph.cast
// CHECK: return %[[X]]
func.func @cast_same_type(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = graph.cast %x : tensor<4xf32> to tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @cast_kept
// CHECK: graph.cast %{{.+}} : tensor<4xf32> to tensor<4xbf16>
func.func @cast_kept(%x: tensor<4xf32>) -> tensor<4xbf16> {
  %0 = graph.cast %x : tensor<4xf32> to tensor<4xbf16>
  return %0 : tensor<4xbf16>
}

// -----

// CHECK-LABEL: func.func @reshape_of_reshape
// CHECK-SAME: (%[[X:.+]]: tensor<4x8xf32>)
// CHECK-NEXT: %[[R:.+]] = graph.reshape %[[X]] : tensor<4x8xf32> -> tensor<2x16xf32>
// CHECK-NEXT: return %[[R]]
func.func @reshape_of_reshape(%x: tensor<4x8xf32>) -> tensor<2x16xf32> {
  %0 = graph.reshape %x : tensor<4x8xf32> -> tensor<32xf32>
  %1 = graph.reshape %0 : tensor<32xf32> -> tensor<2x16xf32>
  return %1 : tensor<2x16xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_round_trip
// CHECK-SAME: (%[[X:.+]]: tensor<?x1536xbf16>)
// CHECK-NOT: graph.reshape
// CHECK: return %[[X]]
func.func @reshape_round_trip(%x: tensor<?x1536xbf16>) -> tensor<?x1536xbf16> {
  %0 = graph.reshape %x : tensor<?x1536xbf16> -> tensor<?x12x128xbf16>
  %1 = graph.reshape %0 : tensor<?x12x128xbf16> -> tensor<?x1536xbf16>
  return %1 : tensor<?x1536xbf16>
}

// -----

// CHECK-LABEL: func.func @transpose_identity
// CHECK-NOT: graph.transpose
func.func @transpose_identity(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = graph.transpose %x perm [0, 1] : tensor<4x8xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// CHECK-LABEL: func.func @transpose_of_transpose
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x4xf32>)
// CHECK-NEXT: %[[T:.+]] = graph.transpose %[[X]] perm [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
// CHECK-NEXT: return %[[T]]
func.func @transpose_of_transpose(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %0 = graph.transpose %x perm [1, 0, 2] : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
  %1 = graph.transpose %0 perm [2, 1, 0] : tensor<3x2x4xf32> -> tensor<4x2x3xf32>
  return %1 : tensor<4x2x3xf32>
}

// -----

// CHECK-LABEL: func.func @transpose_cancels
// CHECK-SAME: (%[[X:.+]]: tensor<4x8xf32>)
// CHECK-NOT: graph.transpose
// CHECK: return %[[X]]
func.func @transpose_cancels(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = graph.transpose %x perm [1, 0] : tensor<4x8xf32> -> tensor<8x4xf32>
  %1 = graph.transpose %0 perm [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}

// -----

// CHECK-LABEL: func.func @broadcast_identity
// CHECK-NOT: graph.broadcast
func.func @broadcast_identity(%x: tensor<4x8xf32>, %y: tensor<?x8xf32>) -> (tensor<4x8xf32>, tensor<?x8xf32>) {
  %0 = graph.broadcast %x dims [0, 1] : tensor<4x8xf32> -> tensor<4x8xf32>
  %1 = graph.broadcast %y dims [0, 1] : tensor<?x8xf32> -> tensor<?x8xf32>
  return %0, %1 : tensor<4x8xf32>, tensor<?x8xf32>
}

// -----

// With `like`, a dynamic size-1 dimension may be repeated: not an identity.
// CHECK-LABEL: func.func @broadcast_like_kept
// CHECK: graph.broadcast
func.func @broadcast_like_kept(%x: tensor<?x8xf32>, %l: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = graph.broadcast %x dims [0, 1] like %l : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// CHECK-LABEL: func.func @slice_whole
// CHECK-NOT: graph.slice
func.func @slice_whole(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = graph.slice %x start [0, 0] limit [4, 8] stride [1, 1] : tensor<4x8xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// CHECK-LABEL: func.func @concat_single
// CHECK-NOT: graph.concat
func.func @concat_single(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = graph.concat %x axis 0 : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// x + (-0.0) and x + 0 (integers) fold; x + 0.0 does not: -0.0 + 0.0 is
// +0.0, not -0.0.
// CHECK-LABEL: func.func @add_zero
// CHECK-SAME: (%[[X:.+]]: tensor<2x16xf32>, %[[I:.+]]: tensor<4xi32>)
// CHECK: %[[POS:.+]] = arith.constant dense<0.000000e+00>
// CHECK: %[[KEPT:.+]] = graph.add %[[X]], %[[POS]]
// CHECK: return %[[X]], %[[X]], %[[KEPT]], %[[I]]
func.func @add_zero(%x: tensor<2x16xf32>, %i: tensor<4xi32>) -> (tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>, tensor<4xi32>) {
  %negzero = arith.constant dense<-0.0> : tensor<2x16xf32>
  %poszero = arith.constant dense<0.0> : tensor<2x16xf32>
  %izero = arith.constant dense<0> : tensor<4xi32>
  %0 = graph.add %x, %negzero : tensor<2x16xf32>
  %1 = graph.add %negzero, %x : tensor<2x16xf32>
  %2 = graph.add %x, %poszero : tensor<2x16xf32>
  %3 = graph.add %i, %izero : tensor<4xi32>
  return %0, %1, %2, %3 : tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>, tensor<4xi32>
}

// -----

// CHECK-LABEL: func.func @add_nonzero_kept
// CHECK: graph.add
func.func @add_nonzero_kept(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = arith.constant dense<[0.0, 0.0, 1.0, 0.0]> : tensor<4xf32>
  %0 = graph.add %x, %c : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// x - 0.0 folds; x - (-0.0) does not (it is x + 0.0) and 0 - x does not
// (it is -x).
// CHECK-LABEL: func.func @sub_zero
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>)
// CHECK-DAG: %[[ZERO:.+]] = arith.constant dense<0.000000e+00>
// CHECK-DAG: %[[NEGZERO:.+]] = arith.constant dense<-0.000000e+00>
// CHECK-DAG: %[[KEPT:.+]] = graph.sub %[[X]], %[[NEGZERO]]
// CHECK-DAG: %[[NEG:.+]] = graph.sub %[[ZERO]], %[[X]]
// CHECK: return %[[X]], %[[NEG]], %[[KEPT]]
func.func @sub_zero(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %zero = arith.constant dense<0.0> : tensor<4xf32>
  %negzero = arith.constant dense<-0.0> : tensor<4xf32>
  %0 = graph.sub %x, %zero : tensor<4xf32>
  %1 = graph.sub %zero, %x : tensor<4xf32>
  %2 = graph.sub %x, %negzero : tensor<4xf32>
  return %0, %1, %2 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @mul_div_one
// CHECK-SAME: (%[[X:.+]]: tensor<4xbf16>)
// CHECK: %[[ONE:.+]] = arith.constant
// CHECK: %[[INV:.+]] = graph.div %[[ONE]], %[[X]]
// CHECK: return %[[X]], %[[X]], %[[X]], %[[INV]]
func.func @mul_div_one(%x: tensor<4xbf16>) -> (tensor<4xbf16>, tensor<4xbf16>, tensor<4xbf16>, tensor<4xbf16>) {
  %one = arith.constant dense<1.0> : tensor<4xbf16>
  %0 = graph.mul %x, %one : tensor<4xbf16>
  %1 = graph.mul %one, %x : tensor<4xbf16>
  %2 = graph.div %x, %one : tensor<4xbf16>
  %3 = graph.div %one, %x : tensor<4xbf16>
  return %0, %1, %2, %3 : tensor<4xbf16>, tensor<4xbf16>, tensor<4xbf16>, tensor<4xbf16>
}

// -----

// CHECK-LABEL: func.func @neg_neg
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>)
// CHECK-NOT: graph.neg
// CHECK: return %[[X]]
func.func @neg_neg(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = graph.neg %x : tensor<4xf32>
  %1 = graph.neg %0 : tensor<4xf32>
  return %1 : tensor<4xf32>
}
