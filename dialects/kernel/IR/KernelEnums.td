//===- KernelEnums.td - kernel dialect enums ---------------*- tablegen -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_KERNEL_IR_KERNELENUMS_TD
#define INFIR2_DIALECTS_KERNEL_IR_KERNELENUMS_TD

include "mlir/IR/EnumAttr.td"

def Kernel_ScheduleRows : I32EnumAttrCase<"Rows", 0, "rows">;
def Kernel_ScheduleRowTiles : I32EnumAttrCase<"RowTiles", 1, "row_tiles">;
def Kernel_ScheduleBlocks : I32EnumAttrCase<"Blocks", 2, "blocks">;

def Kernel_Schedule : I32EnumAttr<"Schedule",
    "how a kernel's thread blocks walk its rows",
    [Kernel_ScheduleRows, Kernel_ScheduleRowTiles, Kernel_ScheduleBlocks]> {
  let cppNamespace = "::mlir::infir2::kernel";
}

#endif // INFIR2_DIALECTS_KERNEL_IR_KERNELENUMS_TD
