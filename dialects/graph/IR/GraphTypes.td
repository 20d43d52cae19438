//===- GraphTypes.td - graph type constraints --------------*- tablegen -*-===//
//
// Part of infir2. The dialect has no types of its own: it works on builtin
// ranked tensors. These are the tensor constraints its ops use.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_GRAPH_IR_GRAPHTYPES_TD
#define INFIR2_DIALECTS_GRAPH_IR_GRAPHTYPES_TD

include "mlir/IR/CommonTypeConstraints.td"

/// Compute element types.
def Graph_Float : AnyTypeOf<[F32, BF16, F16]>;
/// Token ids, positions, labels, sequence offsets.
def Graph_Index : AnyTypeOf<[I32, I64]>;

def Graph_FloatTensor : RankedTensorOf<[F32, BF16, F16]>;
def Graph_IndexTensor : RankedTensorOf<[I32, I64]>;
def Graph_NumericTensor : RankedTensorOf<[F32, BF16, F16, I32, I64]>;
def Graph_F32Tensor : RankedTensorOf<[F32]>;
def Graph_CuSeqlensTensor : 1DTensorOf<[I32]>;

#endif // INFIR2_DIALECTS_GRAPH_IR_GRAPHTYPES_TD
