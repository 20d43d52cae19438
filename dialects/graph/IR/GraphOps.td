//===- GraphOps.td - graph operations ----------------------*- tablegen -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_GRAPH_IR_GRAPHOPS_TD
#define INFIR2_DIALECTS_GRAPH_IR_GRAPHOPS_TD

include "dialects/graph/IR/GraphAttrs.td"
include "dialects/graph/IR/GraphDialect.td"
include "dialects/graph/IR/GraphInterfaces.td"
include "dialects/graph/IR/GraphTypes.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpBase.td"

// The fp8 recipe, constrained by C++ class rather than by including the fp8
// ODS, so the fp8 attributes and enums stay out of this dialect's records
// (and out of docs/dialects/graph.md).
def Graph_Fp8RecipeAttr : Attr<
    CPred<"::llvm::isa<::mlir::infir2::fp8::RecipeAttr>($_self)">,
    "FP8 recipe of a linear layer (#fp8.recipe)"> {
  let storageType = "::mlir::infir2::fp8::RecipeAttr";
  let returnType = "::mlir::infir2::fp8::RecipeAttr";
  let convertFromStorage = "$_self";
}

//===----------------------------------------------------------------------===//
// Transformer ops
//===----------------------------------------------------------------------===//

def Graph_EmbeddingOp : Graph_Op<"embedding", [Pure, DeclareOpInterfaceMethods<Graph_VjpOpInterface>]> {
  let summary = "Looks up rows of an embedding table";
  let description = [{
    `result[i..., :] = table[ids[i...], :]`. The table is `[V, D]`; the result
    has the shape of `ids` followed by `D` and the table's element type. Ids
    outside `[0, V)` are a runtime error.

    ```mlir
    %h = graph.embedding %table[%ids]
        : tensor<151936x1536xbf16>, tensor<?xi32> -> tensor<?x1536xbf16>
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$table, Graph_IndexTensor:$ids);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = [{
    $table `[` $ids `]` attr-dict `:` type($table) `,` type($ids) `->`
    type($result)
  }];
  let builders = [OpBuilder<(ins "::mlir::Value":$table, "::mlir::Value":$ids)>];
  let hasVerifier = 1;
}

def Graph_LinearOp : Graph_Op<"linear", [Pure, DeclareOpInterfaceMethods<Graph_VjpOpInterface>]> {
  let summary = "Affine map x * W^T + b, optionally in FP8";
  let description = [{
    `result[..., n] = sum_k input[..., k] * weight[n, k] + bias[n]`, with the
    weight in the Hugging Face `[out_features, in_features]` layout. Products
    are summed in f32 and the sum is rounded once to the result type.

    The optional `fp8` attribute holds the `#fp8.recipe` that says how the
    forward GEMM and its two gradient GEMMs are quantized; without it the
    GEMMs run in the operands' precision. What an annotated linear computes,
    written with `fp8` ops, is defined in `docs/dialects/fp8-semantics.md`
    ("graph.linear with a recipe").

    ```mlir
    %q = graph.linear %a, %wq, %bq {fp8 = #recipe}
        : (tensor<?x1536xbf16>, tensor<1536x1536xbf16>, tensor<1536xbf16>)
        -> tensor<?x1536xbf16>
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$input, Graph_FloatTensor:$weight,
                       Optional<Graph_FloatTensor>:$bias,
                       OptionalAttr<Graph_Fp8RecipeAttr>:$fp8);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = [{
    operands attr-dict `:` functional-type(operands, results)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$weight,
                   CArg<"::mlir::Value", "{}">:$bias,
                   CArg<"::mlir::infir2::fp8::RecipeAttr", "{}">:$fp8)>
  ];
  let hasVerifier = 1;
}

def Graph_MatmulOp : Graph_Op<"matmul", [Pure, DeclareOpInterfaceMethods<Graph_VjpOpInterface>]> {
  let summary = "Batched matrix product";
  let description = [{
    For operands of rank `r >= 2` with equal leading (batch) dimensions,
    `result[b..., m, n] = sum_k A[b..., m, k] * B[b..., k, n]`, where
    `A = lhs` (`[..., M, K]`, or `[..., K, M]` with `transpose_lhs`) and
    `B = rhs` (`[..., K, N]`, or `[..., N, K]` with `transpose_rhs`).
    Products are summed in f32; the result element type is the operands' or
    `f32`.

    ```mlir
    %s = graph.matmul %q, %k {transpose_rhs}
        : (tensor<12x128x64xbf16>, tensor<12x128x64xbf16>) -> tensor<12x128x128xf32>
    ```

    A gradient GEMM of a linear layer with an `#fp8.recipe` carries the
    recipe in `fp8` and which GEMM it is in `fp8_gemm` (graph-autodiff sets
    both; the operands are rank 2): `fp8-lower` quantizes its operands with
    the recipe's roles, as `docs/dialects/fp8-semantics.md` defines.

    ```mlir
    %dx = graph.matmul %dy, %w {fp8 = #recipe, fp8_gemm = #graph.fp8_gemm<dgrad>}
        : (tensor<?x256xbf16>, tensor<256x128xbf16>) -> tensor<?x128xbf16>
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$lhs, Graph_FloatTensor:$rhs,
                       UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs,
                       OptionalAttr<Graph_Fp8RecipeAttr>:$fp8,
                       OptionalAttr<Graph_Fp8GemmAttr>:$fp8_gemm);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$lhs, "::mlir::Value":$rhs,
                   "bool":$transposeLhs, "bool":$transposeRhs,
                   CArg<"::mlir::Type", "{}">:$resultElementType)>
  ];
  let hasVerifier = 1;
}

def Graph_RmsNormOp : Graph_Op<"rms_norm", [Pure, DeclareOpInterfaceMethods<Graph_VjpOpInterface>]> {
  let summary = "Root-mean-square normalization over the last dimension";
  let description = [{
    `result = x / sqrt(mean(x^2 over the last dim) + epsilon) * weight`. The
    mean, the reciprocal square root and the product with `x` are computed in
    f32 (with `epsilon` rounded to f32); that product is rounded to the input
    type before it is multiplied by `weight`, as Hugging Face's `Qwen2RMSNorm`
    does. `weight` has the size of the last dimension.

    ```mlir
    %a = graph.rms_norm %h, %w {epsilon = 1.000000e-06 : f64}
        : (tensor<?x1536xbf16>, tensor<1536xbf16>) -> tensor<?x1536xbf16>
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$input, Graph_FloatTensor:$weight,
                       F64Attr:$epsilon);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` functional-type(operands, results)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$weight,
                   "double":$epsilon)>
  ];
  let hasVerifier = 1;
}

def Graph_RopeOp : Graph_Op<"rope", [Pure, DeclareOpInterfaceMethods<Graph_VjpOpInterface>]> {
  let summary = "Rotary position embedding of query or key heads";
  let description = [{
    `input` is `[T, H, D]` (tokens, heads, head dim; `D` even) and `positions`
    is `[T]`: each token's position within its own sequence (positions restart
    at 0 for every packed sequence). For `i` in `[0, D/2)`, with
    `inv_freq[i] = theta^(-2i/D)` and `angle = positions[t] * inv_freq[i]`
    (both in f32, as Hugging Face computes them), the pair `(a, b)` of `style`
    becomes `(a cos - b sin, b cos + a sin)`. With `rotate_half` the pair is
    `(x[i], x[i + D/2])`, with `interleaved` it is `(x[2i], x[2i+1])`. All
    dimensions are rotated (rotary percent 1.0).

    ```mlir
    %qr = graph.rope %q, %pos {theta = 1.000000e+06 : f64}
        : (tensor<?x12x128xbf16>, tensor<?xi32>) -> tensor<?x12x128xbf16>
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$input, Graph_IndexTensor:$positions,
                       F64Attr:$theta,
                       DefaultValuedAttr<Graph_RopeStyleAttr,
                         "::mlir::infir2::graph::RopeStyle::RotateHalf">:$style);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $positions attr-dict `:` functional-type(operands, results)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$positions,
                   "double":$theta,
                   CArg<"RopeStyle", "RopeStyle::RotateHalf">:$style)>
  ];
  let hasVerifier = 1;
}

def Graph_AttentionOp : Graph_Op<"attention", [Pure, DeclareOpInterfaceMethods<Graph_VjpOpInterface>]> {
  let summary = "Scaled dot-product attention over packed sequences (GQA)";
  let description = [{
    `query` is `[T, Hq, D]`, `key` and `value` are `[T, Hkv, D]` with `Hq` a
    multiple of `Hkv`: query head `h` attends with key/value head
    `h / (Hq / Hkv)` (grouped-query attention). The `T` tokens hold several
    sequences packed back to back; `cu_seqlens` (`[S + 1]`, `i32`,
    non-decreasing, `cu_seqlens[0] = 0`, `cu_seqlens[S] = T`) gives their
    offsets, and a token attends only to tokens of its own sequence, and only
    to those at or before it when `causal` is set.

    For query token `t` of a sequence and allowed key tokens `j`:
    `s_j = scale * sum_d q[t, h, d] * k[j, h', d]` and
    `out[t, h, :] = sum_j softmax(s)_j * v[j, h', :]`, with the scores, the
    softmax and the weighted sum in f32 and one rounding to the result type.

    ```mlir
    %o = graph.attention %q, %k, %v, %cu {causal, scale = 0.088388347648318433 : f64}
        : (tensor<?x12x128xbf16>, tensor<?x2x128xbf16>, tensor<?x2x128xbf16>,
           tensor<?xi32>) -> tensor<?x12x128xbf16>
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$query, Graph_FloatTensor:$key,
                       Graph_FloatTensor:$value,
                       Graph_CuSeqlensTensor:$cu_seqlens,
                       F64Attr:$scale, UnitAttr:$causal);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $cu_seqlens attr-dict `:`
    functional-type(operands, results)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$query, "::mlir::Value":$key,
                   "::mlir::Value":$value, "::mlir::Value":$cuSeqlens,
                   "double":$scale, "bool":$causal)>
  ];
  let hasVerifier = 1;
}

def Graph_CrossEntropyOp : Graph_Op<"cross_entropy", [Pure, DeclareOpInterfaceMethods<Graph_VjpOpInterface>]> {
  let summary = "Masked per-token cross entropy of f32 logits";
  let description = [{
    `logits` is `[T, V]` f32, `labels` `[T]` (`i32` or `i64`), `loss_mask`
    `[T]` f32. The result is `[T]` f32:
    `loss[t] = loss_mask[t] * (logsumexp(logits[t, :]) - logits[t, labels[t]])`
    computed in f32, and `loss[t] = 0` wherever `loss_mask[t] = 0` whatever
    the label (so masked positions may hold any label, e.g. -100). A label
    outside `[0, V)` at a position with a non-zero mask is a runtime error.

    ```mlir
    %l = graph.cross_entropy %logits, %labels, %mask
        : (tensor<?x151936xf32>, tensor<?xi32>, tensor<?xf32>) -> tensor<?xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$logits, Graph_IndexTensor:$labels,
                       Graph_F32Tensor:$loss_mask);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = [{
    $logits `,` $labels `,` $loss_mask attr-dict `:`
    functional-type(operands, results)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$logits, "::mlir::Value":$labels,
                   "::mlir::Value":$lossMask)>
  ];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

class Graph_UnaryOp<string mnemonic, Type tensorType, string desc>
    : Graph_Op<mnemonic, [Pure, SameOperandsAndResultType,
                          DeclareOpInterfaceMethods<Graph_VjpOpInterface>]> {
  let description = desc;
  let arguments = (ins tensorType:$input);
  let results = (outs tensorType:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

class Graph_BinaryOp<string mnemonic, string desc>
    : Graph_Op<mnemonic, [Pure, SameOperandsAndResultType,
                          DeclareOpInterfaceMethods<Graph_VjpOpInterface>]> {
  let description = desc # [{

    Both operands and the result have one type; there is no implicit
    broadcasting (use `graph.broadcast`). Float ops round once to the element
    type; integer ops wrap (two's complement).
  }];
  let arguments = (ins Graph_NumericTensor:$lhs, Graph_NumericTensor:$rhs);
  let results = (outs Graph_NumericTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
  let hasFolder = 1;
  let hasVerifier = 1;
}

def Graph_SiluOp : Graph_UnaryOp<"silu", Graph_FloatTensor, [{
    `silu(x) = x / (1 + exp(-x))`, computed in f32.
  }]> {
  let summary = "SiLU activation";
}

def Graph_SwigluOp : Graph_Op<"swiglu", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<Graph_VjpOpInterface>]> {
  let summary = "SwiGLU gate: silu(gate) * up";
  let description = [{
    `result = silu(gate) * up` elementwise, computed in f32 with one rounding,
    the MLP activation of Qwen2 (`down(silu(gate(x)) * up(x))`).

    ```mlir
    %m = graph.swiglu %g, %u : tensor<?x8960xbf16>
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$gate, Graph_FloatTensor:$up);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Graph_AddOp : Graph_BinaryOp<"add", "`lhs + rhs` elementwise."> {
  let summary = "Elementwise addition";
}
def Graph_SubOp : Graph_BinaryOp<"sub", "`lhs - rhs` elementwise."> {
  let summary = "Elementwise subtraction";
}
def Graph_MulOp : Graph_BinaryOp<"mul", "`lhs * rhs` elementwise."> {
  let summary = "Elementwise multiplication";
}
def Graph_DivOp : Graph_BinaryOp<"div", [{
    `lhs / rhs` elementwise (integers: truncating toward zero).
  }]> {
  let summary = "Elementwise division";
}

def Graph_NegOp : Graph_UnaryOp<"neg", Graph_NumericTensor, "`-x` elementwise."> {
  let summary = "Elementwise negation";
  let hasFolder = 1;
}
def Graph_ExpOp : Graph_UnaryOp<"exp", Graph_FloatTensor, [{
    `e^x` elementwise, computed in f32.
  }]> {
  let summary = "Elementwise exponential";
}
def Graph_LogOp : Graph_UnaryOp<"log", Graph_FloatTensor, [{
    Natural logarithm elementwise, computed in f32.
  }]> {
  let summary = "Elementwise natural logarithm";
}
def Graph_RsqrtOp : Graph_UnaryOp<"rsqrt", Graph_FloatTensor, [{
    `1 / sqrt(x)` elementwise, computed in f32.
  }]> {
  let summary = "Elementwise reciprocal square root";
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

class Graph_ReduceOp<string mnemonic, string desc,
                     Type tensorType = Graph_NumericTensor,
                     list<Trait> traits = []>
    : Graph_Op<mnemonic, !listconcat([Pure], traits)> {
  let description = desc # [{

    `axes` lists the reduced dimensions in increasing order, without repeats.
    Without `keep_dims` they are removed from the result shape; with it they
    stay as size 1. The element type is kept.

    ```mlir
    %r = graph.}] # mnemonic # [{ %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
    ```
  }];
  let arguments = (ins tensorType:$input, DenseI64ArrayAttr:$axes,
                       UnitAttr:$keep_dims);
  let results = (outs tensorType:$result);
  let assemblyFormat = [{
    $input `axes` $axes (`keep_dims` $keep_dims^)? attr-dict `:` type($input)
    `->` type($result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input, "::llvm::ArrayRef<int64_t>":$axes,
                   CArg<"bool", "false">:$keepDims)>
  ];
  let hasVerifier = 1;
}

def Graph_ReduceSumOp : Graph_ReduceOp<"reduce_sum", [{
    Sum over `axes`: float inputs are accumulated in f32 and rounded once;
    integer sums wrap (two's complement) in the element type.
  }], Graph_NumericTensor,
  [DeclareOpInterfaceMethods<Graph_VjpOpInterface>]> {
  let summary = "Sum over axes";
}
def Graph_ReduceMaxOp : Graph_ReduceOp<"reduce_max", [{
    Maximum over `axes`; NaN if any reduced element is NaN.
  }]> {
  let summary = "Maximum over axes";
}
def Graph_ReduceMeanOp : Graph_ReduceOp<"reduce_mean", [{
    Mean over `axes`: the f32 sum divided by the number of reduced elements,
    rounded once. Float tensors only.
  }], Graph_FloatTensor, [DeclareOpInterfaceMethods<Graph_VjpOpInterface>]> {
  let summary = "Mean over axes";
}

//===----------------------------------------------------------------------===//
// Type and shape ops
//===----------------------------------------------------------------------===//

def Graph_CastOp : Graph_Op<"cast", [Pure, DeclareOpInterfaceMethods<Graph_VjpOpInterface>]> {
  let summary = "Converts the element type";
  let description = [{
    Converts each element to the result element type, one of `f32`, `bf16`,
    `f16`, `i1`, `i32`, `i64`: floats round to nearest even (NaN stays
    NaN); float to integer truncates toward zero and saturates at the
    integer's range (NaN gives 0); integers are signed and sign-extend or
    wrap, except `i1`, which is 0 or 1 both ways, and converts to `i1` as
    "not zero". FP8 is not a `graph.cast` target or source: use
    `fp8.quantize` and `fp8.dequantize`, which carry the scales.

    ```mlir
    %l = graph.cast %logits : tensor<?x151936xbf16> to tensor<?x151936xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::Type":$elementType)>
  ];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Graph_ReshapeOp : Graph_Op<"reshape", [Pure, DeclareOpInterfaceMethods<Graph_VjpOpInterface>]> {
  let summary = "Reinterprets the shape, keeping row-major element order";
  let description = [{
    The result holds the same elements in the same row-major order, with
    the element type of the input. At most one result dimension may be
    dynamic; its size is the element count divided by the product of the
    others. When the input shape is static, that product must divide the
    element count (and equal it when the result is static too); otherwise the
    runtime checks it.

    ```mlir
    %q3 = graph.reshape %q : tensor<?x1536xbf16> -> tensor<?x12x128xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input, "::llvm::ArrayRef<int64_t>":$shape)>
  ];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Graph_TransposeOp : Graph_Op<"transpose", [Pure, DeclareOpInterfaceMethods<Graph_VjpOpInterface>]> {
  let summary = "Permutes dimensions";
  let description = [{
    Result dimension `d` is input dimension `permutation[d]`: the element at
    input index `(i_0, ..., i_r-1)` moves to result index
    `(i_perm[0], ..., i_perm[r-1])`.

    ```mlir
    %t = graph.transpose %x perm [1, 0, 2] : tensor<4x8x16xf32> -> tensor<8x4x16xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `perm` $permutation attr-dict `:` type($input) `->` type($result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input,
                   "::llvm::ArrayRef<int64_t>":$permutation)>
  ];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Graph_BroadcastOp : Graph_Op<"broadcast", [Pure, DeclareOpInterfaceMethods<Graph_VjpOpInterface>]> {
  let summary = "Broadcasts to a larger shape";
  let description = [{
    Input dimension `i` maps to result dimension `dims[i]` (`dims` strictly
    increasing); it must have size 1 (repeated) or the result's size. Result
    dimensions not named in `dims` are new and repeat the input.

    The result's sizes are its static sizes; a dynamic result dimension
    takes its size from the optional `like` operand (a tensor of the
    result's rank whose sizes the result adopts), or, without `like`, must
    map from a dynamic input dimension, whose size it keeps (no repetition).

    ```mlir
    %b = graph.broadcast %bias dims [1] like %y
        : tensor<256xbf16>, tensor<?x256xbf16> -> tensor<?x256xbf16>
    %c = graph.broadcast %row dims [1] : tensor<256xf32> -> tensor<4x256xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$dims,
                       Optional<AnyRankedTensor>:$like);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `dims` $dims (`like` $like^)? attr-dict `:` type($input)
    (`,` type($like)^)? `->` type($result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input, "::llvm::ArrayRef<int64_t>":$dims,
                   "::mlir::Type":$resultType,
                   CArg<"::mlir::Value", "{}">:$like)>
  ];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Graph_SliceOp : Graph_Op<"slice", [Pure]> {
  let summary = "Static strided slice";
  let description = [{
    Result dimension `d` takes input indices `start[d], start[d] + stride[d],
    ...` below `limit[d]`; its size is `ceildiv(limit[d] - start[d],
    stride[d])`. Requires `0 <= start <= limit <= size` (where the size is
    static) and `stride >= 1`.

    ```mlir
    %k = graph.slice %qkv start [0, 1536] limit [4, 1792] stride [1, 1]
        : tensor<4x2048xbf16> -> tensor<4x256xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$start,
                       DenseI64ArrayAttr:$limit, DenseI64ArrayAttr:$stride);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `start` $start `limit` $limit `stride` $stride attr-dict `:`
    type($input) `->` type($result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input, "::llvm::ArrayRef<int64_t>":$start,
                   "::llvm::ArrayRef<int64_t>":$limit,
                   "::llvm::ArrayRef<int64_t>":$stride)>
  ];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Graph_ConcatOp : Graph_Op<"concat", [Pure, DeclareOpInterfaceMethods<Graph_VjpOpInterface>]> {
  let summary = "Concatenates tensors along one axis";
  let description = [{
    Inputs have one element type and rank and agree on every dimension but
    `axis`; the result's `axis` dimension is the sum of theirs.

    ```mlir
    %c = graph.concat %a, %b axis 0
        : (tensor<2x8xf32>, tensor<3x8xf32>) -> tensor<5x8xf32>
    ```
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs, I64Attr:$axis);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $inputs `axis` $axis attr-dict `:` functional-type($inputs, $result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::ValueRange":$inputs, "int64_t":$axis)>
  ];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Graph_SplitOp : Graph_Op<"split", [Pure]> {
  let summary = "Splits a tensor into consecutive pieces along one axis";
  let description = [{
    Result `i` holds the `sizes[i]` consecutive slices of `axis` that follow
    those of results `0 .. i-1`; the sizes are positive and add up to the
    input's `axis` dimension (when it is static). The inverse of
    `graph.concat`: `graph-merge-linears` splits the output of a merged GEMM
    with it, and `graph-autodiff` turns the results' gradients back into one
    by concatenation.

    ```mlir
    %q, %k, %v = graph.split %qkv axis 1 sizes [1536, 256, 256]
        : tensor<?x2048xbf16> -> tensor<?x1536xbf16>, tensor<?x256xbf16>,
          tensor<?x256xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$axis,
                       DenseI64ArrayAttr:$sizes);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    $input `axis` $axis `sizes` $sizes attr-dict `:` type($input) `->`
    type($results)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input, "int64_t":$axis,
                   "::llvm::ArrayRef<int64_t>":$sizes)>
  ];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Gradient ops (emitted by graph-autodiff through VjpOpInterface)
//===----------------------------------------------------------------------===//

def Graph_EmbeddingGradOp : Graph_Op<"embedding_grad", [Pure]> {
  let summary = "Gradient of an embedding lookup with respect to the table";
  let description = [{
    The scatter-add that undoes `graph.embedding`: for a table of
    `num_embeddings` rows, `result[v, :] = sum over i with ids[i] == v of
    grad[i, :]`, accumulated in f32 (rows no id names are 0). `grad` has the
    shape of `ids` followed by `D`; the result is `[num_embeddings, D]` f32.
    Ids outside `[0, num_embeddings)` are a runtime error.

    ```mlir
    %dtable = graph.embedding_grad %dh[%ids] {num_embeddings = 151936 : i64}
        : tensor<?x1536xbf16>, tensor<?xi32> -> tensor<151936x1536xf32>
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$grad, Graph_IndexTensor:$ids,
                       I64Attr:$num_embeddings);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = [{
    $grad `[` $ids `]` attr-dict `:` type($grad) `,` type($ids) `->`
    type($result)
  }];
  let builders = [OpBuilder<(ins "::mlir::Value":$grad, "::mlir::Value":$ids,
                                 "int64_t":$numEmbeddings)>];
  let hasVerifier = 1;
}

def Graph_RmsNormGradOp : Graph_Op<"rms_norm_grad", [Pure]> {
  let summary = "Gradients of rms_norm with respect to its input and weight";
  let description = [{
    For each row `x` (the last dimension, size `D`) with
    `r = 1 / sqrt(mean(x^2) + epsilon)`, `n = x * r` and `g = grad * weight`:
    `input_grad = r * (g - n * mean(g * n))`, rounded once to the input type,
    and `weight_grad = sum over rows of grad * n`, in f32. All arithmetic is
    f32. (The forward's rounding of `n` to the input type is not
    differentiated, as autograd does not differentiate roundings.)

    ```mlir
    %dx, %dw = graph.rms_norm_grad %dy, %x, %w {epsilon = 1.000000e-06 : f64}
        : (tensor<?x1536xbf16>, tensor<?x1536xbf16>, tensor<1536xbf16>)
        -> (tensor<?x1536xbf16>, tensor<1536xf32>)
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$grad, Graph_FloatTensor:$input,
                       Graph_FloatTensor:$weight, F64Attr:$epsilon);
  let results = (outs Graph_FloatTensor:$input_grad,
                      Graph_F32Tensor:$weight_grad);
  let assemblyFormat = [{
    $grad `,` $input `,` $weight attr-dict `:` functional-type(operands, results)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$grad, "::mlir::Value":$input,
                   "::mlir::Value":$weight, "double":$epsilon)>
  ];
  let hasVerifier = 1;
}

def Graph_RopeGradOp : Graph_Op<"rope_grad", [Pure]> {
  let summary = "Gradient of rope with respect to its input";
  let description = [{
    `graph.rope` rotates each pair by `angle`; its gradient rotates the
    gradient's pairs by `-angle`: `(a, b)` becomes
    `(a cos + b sin, b cos - a sin)`, with the same `theta`, `style`,
    positions and f32 angles as the forward op, rounded once to the
    gradient's type.

    ```mlir
    %dq = graph.rope_grad %dqr, %pos {theta = 1.000000e+06 : f64}
        : (tensor<?x12x128xbf16>, tensor<?xi32>) -> tensor<?x12x128xbf16>
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$grad, Graph_IndexTensor:$positions,
                       F64Attr:$theta,
                       DefaultValuedAttr<Graph_RopeStyleAttr,
                         "::mlir::infir2::graph::RopeStyle::RotateHalf">:$style);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $positions attr-dict `:` functional-type(operands, results)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$grad, "::mlir::Value":$positions,
                   "double":$theta, "RopeStyle":$style)>
  ];
  let hasVerifier = 1;
}

def Graph_AttentionGradOp : Graph_Op<"attention_grad", [Pure]> {
  let summary = "Gradients of attention with respect to query, key and value";
  let description = [{
    The backward of `graph.attention` (same operands, `scale`, `causal` and
    packed sequences): with `P` the attention probabilities, recomputed from
    `query` and `key`, and `dO` = `grad`:
    `value_grad = P^T dO`, `dP = dO V^T`,
    `dS = P * (dP - rowsum(dO * O))` (`O` = `P V`),
    `query_grad = scale * dS K`, `key_grad = scale * dS^T Q`.
    Key and value gradients sum over the query heads that share a key/value
    head. f32 arithmetic, one rounding to the operands' type.

    ```mlir
    %dq, %dk, %dv = graph.attention_grad %do, %q, %k, %v, %cu
        {causal, scale = 0.088388347648318433 : f64}
        : (tensor<?x12x128xbf16>, tensor<?x12x128xbf16>, tensor<?x2x128xbf16>,
           tensor<?x2x128xbf16>, tensor<?xi32>)
        -> (tensor<?x12x128xbf16>, tensor<?x2x128xbf16>, tensor<?x2x128xbf16>)
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$grad, Graph_FloatTensor:$query,
                       Graph_FloatTensor:$key, Graph_FloatTensor:$value,
                       Graph_CuSeqlensTensor:$cu_seqlens, F64Attr:$scale,
                       UnitAttr:$causal);
  let results = (outs Graph_FloatTensor:$query_grad,
                      Graph_FloatTensor:$key_grad,
                      Graph_FloatTensor:$value_grad);
  let assemblyFormat = [{
    $grad `,` $query `,` $key `,` $value `,` $cu_seqlens attr-dict `:`
    functional-type(operands, results)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$grad, "::mlir::Value":$query,
                   "::mlir::Value":$key, "::mlir::Value":$value,
                   "::mlir::Value":$cuSeqlens, "double":$scale,
                   "bool":$causal)>
  ];
  let hasVerifier = 1;
}

def Graph_CrossEntropyGradOp : Graph_Op<"cross_entropy_grad", [Pure]> {
  let summary = "Gradient of cross_entropy with respect to the logits";
  let description = [{
    `result[t, :] = grad[t] * loss_mask[t] * (softmax(logits[t, :]) -
    onehot(labels[t]))`, in f32; rows whose mask is 0 are 0 whatever their
    label. `grad` is `[T]` f32 (the gradient of each token's loss).

    ```mlir
    %dlogits = graph.cross_entropy_grad %dl, %logits, %labels, %mask
        : (tensor<?xf32>, tensor<?x151936xf32>, tensor<?xi32>, tensor<?xf32>)
        -> tensor<?x151936xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$grad, Graph_F32Tensor:$logits,
                       Graph_IndexTensor:$labels, Graph_F32Tensor:$loss_mask);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = [{
    $grad `,` $logits `,` $labels `,` $loss_mask attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Graph_SiluGradOp : Graph_Op<"silu_grad", [Pure, SameOperandsAndResultType]> {
  let summary = "Gradient of silu";
  let description = [{
    `grad * s * (1 + x * (1 - s))` with `s = sigmoid(x)`, in f32, rounded
    once.

    ```mlir
    %dx = graph.silu_grad %dy, %x : tensor<?x8960xbf16>
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$grad, Graph_FloatTensor:$input);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = "$grad `,` $input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Graph_SwigluGradOp : Graph_Op<"swiglu_grad", [Pure]> {
  let summary = "Gradients of swiglu with respect to gate and up";
  let description = [{
    For `result = silu(gate) * up`: `up_grad = grad * silu(gate)` and
    `gate_grad = grad * up * s * (1 + gate * (1 - s))` with
    `s = sigmoid(gate)`, in f32, each rounded once.

    ```mlir
    %dg, %du = graph.swiglu_grad %dy, %g, %u
        : (tensor<?x8960xbf16>, tensor<?x8960xbf16>, tensor<?x8960xbf16>)
        -> (tensor<?x8960xbf16>, tensor<?x8960xbf16>)
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$grad, Graph_FloatTensor:$gate,
                       Graph_FloatTensor:$up);
  let results = (outs Graph_FloatTensor:$gate_grad,
                      Graph_FloatTensor:$up_grad);
  let assemblyFormat = [{
    $grad `,` $gate `,` $up attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Optimizer ops
//===----------------------------------------------------------------------===//

def Graph_AdamwOp : Graph_Op<"adamw", [Pure]> {
  let summary = "One AdamW step of a parameter's f32 master weight and moments";
  let description = [{
    The per-element update of AdamW with decoupled weight decay after a
    gradient clip, as `runtime/train/optimizer.h` (and torch.optim.AdamW,
    Megatron's fused Adam) computes it, in f32. `hyper` holds the step's
    scalars, formed in f64 and rounded to f32 by the caller:
    `[clip, decay, 1 - beta1, beta2, 1 - beta2, sqrt(1 - beta2^t), eps,
    lr / (1 - beta1^t)]` (`clip` is 1 when the gradient norm is within the
    limit, `decay` is `1 - lr * weight_decay`, or 1 for parameters without
    decay). With `g = grad * clip`:

    ```
    exp_avg'    = exp_avg + (1 - beta1) * (g - exp_avg)
    exp_avg_sq' = exp_avg_sq * beta2 + (1 - beta2) * g * g
    param'      = param * decay
                  + (-step_size * exp_avg') / (sqrt(exp_avg_sq') / bc2 + eps)
    ```

    ```mlir
    %p, %m, %v = graph.adamw %param, %grad, %m0, %v0, %hyper
        : (tensor<896x896xf32>, tensor<896x896xf32>, tensor<896x896xf32>,
           tensor<896x896xf32>, tensor<8xf32>)
        -> (tensor<896x896xf32>, tensor<896x896xf32>, tensor<896x896xf32>)
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$param, Graph_F32Tensor:$grad,
                       Graph_F32Tensor:$exp_avg, Graph_F32Tensor:$exp_avg_sq,
                       Graph_F32Tensor:$hyper);
  let results = (outs Graph_F32Tensor:$new_param, Graph_F32Tensor:$new_exp_avg,
                      Graph_F32Tensor:$new_exp_avg_sq);
  let assemblyFormat = [{
    $param `,` $grad `,` $exp_avg `,` $exp_avg_sq `,` $hyper attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // INFIR2_DIALECTS_GRAPH_IR_GRAPHOPS_TD
