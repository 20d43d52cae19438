//===- Passes.td - graph dialect passes --------------------*- tablegen -*-===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_DIALECTS_GRAPH_TRANSFORMS_PASSES_TD
#define INFIR2_DIALECTS_GRAPH_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Differentiation
//===----------------------------------------------------------------------===//

def GraphAutodiffPass : Pass<"graph-autodiff", "::mlir::ModuleOp"> {
  let summary = "Builds a model's gradient function by reverse-mode autodiff";
  let description = [{
    Differentiates the function `function` (a model's forward pass, whose
    arguments carry `graph.input` or `graph.param` names and whose results
    carry `graph.output` names) and adds a function `grad-function` (default
    `<function>_grad`) with the same arguments that returns, in order:

    * the loss: the result named `loss`, a scalar `tensor<f32>` (`nll_sum`
      for the Qwen2 models: the masked token-NLL sum), named `loss`;
    * the results listed in `keep` (comma-separated `graph.output` names),
      under their names;
    * for every `graph.param` argument, in argument order, the gradient of
      the loss with respect to it as an f32 tensor of the parameter's shape,
      named `grad.<param name>`.

    The forward ops are cloned into the new function, then walked in
    reverse from the loss (seeded with 1.0): each op on the way states its
    vector-Jacobian product through `VjpOpInterface`, and gradients of a
    value used several times are summed (in f32 when the uses' gradients
    have different element types, as a tied embedding's table and LM-head
    gradients do). Only values that depend on a parameter are
    differentiated. A parameter the loss does not depend on gets zeros. An
    op without a vector-Jacobian product on the way fails the pass, naming
    the op. The forward function is kept.

    ```mlir
    // infir2-opt --graph-autodiff='function=forward loss=nll_sum keep=token_count'
    func.func @forward_grad(%ids: tensor<?xi32> {graph.input = "token_ids"}, ...,
                            %w: tensor<64x32xf32> {graph.param = "lm_head.weight"})
        -> (tensor<f32> {graph.output = "loss"},
            tensor<f32> {graph.output = "token_count"},
            tensor<64x32xf32> {graph.output = "grad.lm_head.weight"})
    ```
  }];
  let options = [
    Option<"function", "function", "std::string", /*default=*/"\"forward\"",
           "The function to differentiate">,
    Option<"loss", "loss", "std::string", /*default=*/"\"nll_sum\"",
           "The graph.output name of the scalar f32 loss">,
    Option<"keep", "keep", "std::string", /*default=*/"\"token_count\"",
           "Comma-separated graph.output names to return besides the loss">,
    Option<"gradFunction", "grad-function", "std::string", /*default=*/"\"\"",
           "The new function's name (default: <function>_grad)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::infir2::graph::GraphDialect"];
}

//===----------------------------------------------------------------------===//
// Optimizer
//===----------------------------------------------------------------------===//

def GraphAdamwPass : Pass<"graph-adamw", "::mlir::ModuleOp"> {
  let summary = "Adds the AdamW step and the gradient norm as functions";
  let description = [{
    For the `graph.param` arguments of `function`, adds two functions that
    training runs after the gradient function, so that the optimizer
    compiles into kernels like the model:

    * `@grad_norm`: for every parameter `P`, input `grad.P` (f32, the
      parameter's shape), output `sumsq.P`, the sum of its squares (a
      `tensor<f32>`); the caller adds them up for the global norm and the
      clip;
    * `@optimizer_step`: inputs `master.P`, `grad.P`, `exp_avg.P`,
      `exp_avg_sq.P` (f32) for every parameter, then `adamw.hyper` and
      `adamw.hyper_no_decay` (`tensor<8xf32>`, the step's scalars;
      `graph.adamw` lists them); outputs `master.P`, `exp_avg.P`,
      `exp_avg_sq.P` and, when the model's parameters are not f32, `param.P`:
      the new master rounded to the model's type, the weights the next step
      binds. Parameters of rank 1 and biases take `adamw.hyper_no_decay`
      (Megatron's parameter groups: no weight decay), the others
      `adamw.hyper`. A rank-1 parameter is updated as a `[1, N]` row, so a
      kernel covers it with one block.

    ```mlir
    // infir2-opt --graph-adamw
    func.func @optimizer_step(%w: tensor<64x32xf32> {graph.input = "master.w"}, ...)
    ```
  }];
  let options = [
    Option<"function", "function", "std::string", /*default=*/"\"forward\"",
           "The function whose parameters are trained">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::infir2::graph::GraphDialect"];
}

//===----------------------------------------------------------------------===//
// Graph rewrites
//===----------------------------------------------------------------------===//

def GraphMergeLinearsPass : Pass<"graph-merge-linears", "::mlir::func::FuncOp"> {
  let summary = "Merges linear layers that read the same input into one GEMM";
  let description = [{
    Linears that share their input, their weight and result element types,
    their `in_features`, whether they have a bias and their `#fp8.recipe`
    (or its absence) become one: the weights (and biases) are concatenated
    along `out_features`, one `graph.linear` computes all outputs, and a
    `graph.split` hands each former user its part. This is Megatron's fused
    QKV and gate/up projection: per decoder layer, the attention's `q_proj`,
    `k_proj`, `v_proj` and the MLP's `gate_proj`, `up_proj` each become one
    GEMM, forward and (after `graph-autodiff`) dgrad and wgrad.

    The result is the same function: each output element is the same dot
    product. With an FP8 recipe the merged weight is quantized as one
    tensor, so the pass merges FP8 linears only when every part's
    `out_features` is a multiple of `fp8-alignment` (the recipe's 128-row
    weight blocks and 128-column gradient tiles); the blocks and tiles are
    then exactly those of the separate projections. Other groups are left
    alone.

    ```mlir
    // before
    %q = graph.linear %x, %wq, %bq : ...
    %k = graph.linear %x, %wk, %bk : ...
    // after
    %w = graph.concat %wq, %wk axis 0 : ...
    %b = graph.concat %bq, %bk axis 0 : ...
    %qk = graph.linear %x, %w, %b : ...
    %q, %k = graph.split %qk axis 1 sizes [1536, 256] : ...
    ```
  }];
  let options = [
    Option<"fp8Alignment", "fp8-alignment", "int64_t", /*default=*/"128",
           "With an FP8 recipe, merge only parts whose out_features are "
           "multiples of this">,
  ];
}

#endif // INFIR2_DIALECTS_GRAPH_TRANSFORMS_PASSES_TD
