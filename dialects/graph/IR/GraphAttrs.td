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

#endif // INFIR2_DIALECTS_GRAPH_IR_GRAPHATTRS_TD
