//===- GraphAttrs.td - graph attributes --------------------*- tablegen -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_GRAPH_IR_GRAPHATTRS_TD
#define INFIR2_DIALECTS_GRAPH_IR_GRAPHATTRS_TD

include "dialects/graph/IR/GraphDialect.td"
include "dialects/graph/IR/GraphEnums.td"
include "mlir/IR/AttrTypeBase.td"

// Only used in attribute dictionaries, where it reads
// `#graph.rope_style<interleaved>`.
def Graph_RopeStyleAttr : EnumAttr<Graph_Dialect, Graph_RopeStyle, "rope_style"> {
  let assemblyFormat = "`<` $value `>`";
}

// `#graph.fp8_gemm<dgrad>` on the gradient GEMMs of an FP8 linear.
def Graph_Fp8GemmAttr : EnumAttr<Graph_Dialect, Graph_Fp8Gemm, "fp8_gemm"> {
  let assemblyFormat = "`<` $value `>`";
}

#endif // INFIR2_DIALECTS_GRAPH_IR_GRAPHATTRS_TD
