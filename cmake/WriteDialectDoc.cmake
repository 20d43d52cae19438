# cmake -DIN=<raw tblgen doc> -DOUT=<doc> -DTD=<td path> -P WriteDialectDoc.cmake
# Prefixes the mlir-tblgen dialect doc with a do-not-edit header.
file(READ ${IN} body)
file(WRITE ${OUT}.tmp
"<!-- Generated from ${TD} by mlir-tblgen -gen-dialect-doc. Do not edit:
     regenerate with `cmake --build build --target infir2-update-docs`. -->

${body}")
file(RENAME ${OUT}.tmp ${OUT})
