//===- Fuse.cpp - Group ops into generated kernels ------------------------===//
//
// Part of infir2.
//
//===----------------------------------------------------------------------===//

#include "dialects/fp8/IR/Fp8Ops.h"
#include "dialects/graph/IR/GraphOps.h"
#include "dialects/kernel/IR/KernelOps.h"
#include "dialects/kernel/Transforms/FusionRules.h"
#include "dialects/kernel/Transforms/Passes.h"
#include "mlir/Analysis/TopologicalSortUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::infir2::kernel {
#define GEN_PASS_DEF_KERNELFUSEPASS
#include "dialects/kernel/Transforms/Passes.h.inc"

namespace {
/// Ops that will become one kernel.
struct Group {
  /// Computing ops, each in exactly one group.
  llvm::SetVector<Operation *> members;
  /// Index maps the kernel reads through; cloned into it (the original stays
  /// for other readers).
  llvm::SetVector<Operation *> views;
  /// The rows every loop of the kernel walks (nullopt: not fixed yet).
  std::optional<int64_t> rows;
  /// Index maps this kernel writes to memory because a library op or the
  /// function's return reads them.
  llvm::SetVector<Operation *> seedViews;
  bool merged = false; ///< absorbed into another group

  bool contains(Operation *op) const {
    return members.contains(op) || views.contains(op);
  }
  bool has(OpClass cls) const {
    return llvm::any_of(members,
                        [&](Operation *op) { return classify(op) == cls; });
  }
  bool hasBlockQuantize() const {
    return llvm::any_of(members, [](Operation *op) {
      auto q = dyn_cast<fp8::QuantizeOp>(op);
      return q && q.getLayout().isBlock2D();
    });
  }
};

class Fuser {
public:
  explicit Fuser(Block &block) : block_(block) {
    int64_t i = 0;
    for (Operation &op : block)
      pos_[&op] = i++;
  }

  LogicalResult run() {
    SmallVector<Operation *> order;
    for (Operation &op : block_.without_terminator())
      order.push_back(&op);
    // Consumers first: each starts a kernel and pulls its producers in.
    for (Operation *op : llvm::reverse(order)) {
      OpClass cls = classify(op);
      if (cls == OpClass::kOther || cls == OpClass::kView || owner_.count(op) ||
          op->use_empty())
        continue;
      Group &g = newGroup();
      g.rows = iterationRows(op);
      addMember(g, op);
      grow(g);
    }
    // Index maps whose result a library op or the function's return reads
    // must be computed into memory: a kernel of their own (reshapes are
    // free on every backend and stay as they are).
    for (Operation *op : order) {
      if (classify(op) != OpClass::kView || isa<graph::ReshapeOp>(op) ||
          isa<arith::ConstantOp>(op))
        continue;
      if (!llvm::any_of(op->getResults(),
                        [&](Value r) { return readOutsideKernels(r); }))
        continue;
      Group &g = newGroup();
      g.rows = iterationRows(op);
      g.views.insert(op);
      g.seedViews.insert(op);
      grow(g);
    }
    mergeGroups();
    return materialize();
  }

private:
  /// Whether an op that no kernel computes reads |v| (through reshapes,
  /// which stay as they are): a library op or the function's return.
  bool readOutsideKernels(Value v) const {
    for (Operation *u : v.getUsers()) {
      if (owner_.count(u))
        continue;
      if (isa<graph::ReshapeOp>(u) && classify(u) == OpClass::kView) {
        if (readOutsideKernels(u->getResult(0)))
          return true;
        continue;
      }
      if (classify(u) != OpClass::kView)
        return true;
    }
    return false;
  }

  Group &newGroup() {
    groups_.push_back(std::make_unique<Group>());
    return *groups_.back();
  }

  void addMember(Group &g, Operation *op) {
    g.members.insert(op);
    owner_[op] = &g;
  }

  /// Calls |fn| on every reader of |op|'s results that is not part of |g|,
  /// looking through the index maps |g| clones (their outside readers read
  /// |op| too). With |forOutputs|, readers that get their value from one of
  /// |g|'s seed views (written to memory by the kernel) are skipped: they do
  /// not need |op|'s result.
  template <typename Fn>
  void outsideReaders(const Group &g, Operation *op, Fn fn,
                      bool forOutputs = false, bool throughSeed = false) const {
    for (Operation *u : op->getUsers()) {
      if (g.members.contains(u))
        continue;
      if (g.views.contains(u)) {
        outsideReaders(g, u, fn, forOutputs,
                       throughSeed || g.seedViews.contains(u));
        continue;
      }
      if (forOutputs && throughSeed && !owner_.count(u) && !clonedAnywhere(u))
        continue;
      fn(u);
    }
  }

  bool clonedAnywhere(Operation *view) const {
    return llvm::any_of(groups_, [&](const std::unique_ptr<Group> &g) {
      return !g->merged && g->views.contains(view);
    });
  }

  /// Whether a path of def-use edges from |start| reaches an op of |g|.
  /// Groups count as single nodes: reaching one member of a group reaches
  /// them all. (No pruning by program position: a group reached on the way
  /// may have members before |g|'s.)
  bool reaches(ArrayRef<Operation *> start, const Group &g) const {
    llvm::SmallPtrSet<Operation *, 32> seen;
    SmallVector<Operation *> stack(start.begin(), start.end());
    while (!stack.empty()) {
      Operation *op = stack.pop_back_val();
      if (!seen.insert(op).second)
        continue;
      if (g.contains(op))
        return true;
      auto it = owner_.find(op);
      if (it != owner_.end())
        for (Operation *sibling : it->second->members)
          stack.push_back(sibling);
      for (Operation *u : op->getUsers())
        stack.push_back(u);
    }
    return false;
  }

  bool rowsFit(const Group &g, Operation *op) const {
    std::optional<int64_t> r = iterationRows(op);
    return !r || !g.rows || *r == *g.rows;
  }

  /// Whether producer |p| may join |g|.
  bool canJoin(const Group &g, Operation *p) const {
    OpClass cls = classify(p);
    if (cls == OpClass::kOther || cls == OpClass::kView || owner_.count(p))
      return false;
    // A column reduction's result has no rows to fuse along, and a block
    // quantization's kernel holds nothing but elementwise producers.
    if (cls == OpClass::kColumnReduction || cls == OpClass::kQuantize)
      return false;
    if (g.hasBlockQuantize() && cls != OpClass::kElementwise)
      return false;
    SmallVector<Operation *> outside;
    outsideReaders(g, p, [&](Operation *u) { outside.push_back(u); });
    // A block-quantization kernel writes nothing but the FP8 blocks.
    if (g.hasBlockQuantize() && !outside.empty())
      return false;
    // Ops that loop over rows, and values written to memory, must walk the
    // kernel's rows; an elementwise value used only inside may be indexed
    // any way (a bias cast read through a broadcast).
    if ((cls != OpClass::kElementwise || !outside.empty()) && !rowsFit(g, p))
      return false;
    return outside.empty() || !reaches(outside, g);
  }

  /// Pulls producers into |g| until none fits.
  void grow(Group &g) {
    SmallVector<Value> work;
    auto pushOperands = [&](Operation *op) {
      for (OpOperand &use : op->getOpOperands()) {
        // A broadcast's `like` gives only a shape.
        if (isa<graph::BroadcastOp>(op) && use.getOperandNumber() == 1)
          continue;
        work.push_back(use.get());
      }
    };
    for (Operation *op : g.members)
      pushOperands(op);
    for (Operation *op : g.views)
      pushOperands(op);
    while (!work.empty()) {
      Operation *def = work.pop_back_val().getDefiningOp();
      if (!def || g.contains(def))
        continue;
      if (classify(def) == OpClass::kView) {
        g.views.insert(def);
        pushOperands(def);
        continue;
      }
      if (!canJoin(g, def))
        continue;
      if (!g.rows)
        g.rows = iterationRows(def);
      addMember(g, def);
      pushOperands(def);
    }
  }

  /// Whether group |b| reads a result of |a| (directly or through views).
  bool readsFrom(const Group &b, const Group &a) const {
    std::function<bool(Operation *)> reads = [&](Operation *op) {
      for (Operation *u : op->getUsers()) {
        if (b.contains(u))
          return true;
        if (a.views.contains(u) && reads(u))
          return true;
      }
      return false;
    };
    return llvm::any_of(a.members, reads);
  }

  bool canMerge(const Group &a, const Group &b) const {
    if (!a.rows || !b.rows || *a.rows != *b.rows)
      return false;
    if (a.hasBlockQuantize() || b.hasBlockQuantize())
      return false;
    // Column sums and FP8 data have no rows to continue along.
    bool ok = true;
    for (Operation *op : a.members) {
      OpClass cls = classify(op);
      if (cls != OpClass::kColumnReduction && cls != OpClass::kQuantize)
        continue;
      outsideReaders(a, op, [&](Operation *u) { ok &= !b.contains(u); });
    }
    if (!ok)
      return false;
    // No path between the two through other ops.
    auto escapes = [&](const Group &from, const Group &to) {
      SmallVector<Operation *> outside;
      for (Operation *op : from.members)
        outsideReaders(from, op, [&](Operation *u) {
          if (!to.contains(u))
            outside.push_back(u);
        });
      for (Operation *op : from.views)
        for (Operation *u : op->getUsers())
          if (!from.contains(u) && !to.contains(u))
            outside.push_back(u);
      return !outside.empty() && reaches(outside, to);
    };
    return !escapes(a, b) && !escapes(b, a);
  }

  void mergeGroups() {
    bool changed = true;
    while (changed) {
      changed = false;
      for (auto &a : groups_) {
        if (a->merged)
          continue;
        for (auto &b : groups_) {
          if (a == b || b->merged || !readsFrom(*b, *a) || !canMerge(*a, *b))
            continue;
          for (Operation *op : a->members) {
            b->members.insert(op);
            owner_[op] = b.get();
          }
          for (Operation *op : a->views)
            b->views.insert(op);
          for (Operation *op : a->seedViews)
            b->seedViews.insert(op);
          a->members.clear();
          a->views.clear();
          a->merged = true;
          changed = true;
          break;
        }
      }
    }
  }

  static std::string kernelName(ArrayRef<Operation *> ops) {
    std::string name;
    SmallVector<StringRef> seen;
    for (Operation *op : ops) {
      StringRef n = shortName(op);
      if (llvm::is_contained(seen, n))
        continue;
      seen.push_back(n);
      name += (name.empty() ? "" : "_") + n.str();
    }
    return name;
  }

  LogicalResult materialize() {
    OpBuilder b(block_.getParentOp()->getContext());
    llvm::SetVector<Operation *> dead;
    for (auto &gp : groups_) {
      Group &g = *gp;
      if (g.merged)
        continue;
      SmallVector<Operation *> ops(g.members.begin(), g.members.end());
      ops.append(g.views.begin(), g.views.end());
      llvm::sort(ops, [&](Operation *x, Operation *y) {
        return pos_.lookup(x) < pos_.lookup(y);
      });
      llvm::SetVector<Value> inputs;
      for (Operation *op : ops)
        for (Value v : op->getOperands()) {
          Operation *def = v.getDefiningOp();
          if (!def || !g.contains(def))
            inputs.insert(v);
        }
      // Outputs: member results (and, for a view computed on its own, the
      // view's) that something outside reads.
      SmallVector<Value> outputs;
      for (Operation *op : ops) {
        if (g.seedViews.contains(op)) {
          for (Value r : op->getResults())
            if (readOutsideKernels(r))
              outputs.push_back(r);
          continue;
        }
        if (!g.members.contains(op))
          continue;
        for (Value r : op->getResults()) {
          bool outside = llvm::any_of(r.getUsers(), [&](Operation *u) {
            if (g.members.contains(u))
              return false;
            if (g.views.contains(u)) {
              // Read again outside through the view's original.
              bool out = false;
              outsideReaders(
                  g, u, [&](Operation *) { out = true; },
                  /*forOutputs=*/true, g.seedViews.contains(u));
              return out;
            }
            return true;
          });
          if (outside)
            outputs.push_back(r);
        }
      }
      if (outputs.empty())
        continue;
      Schedule schedule = Schedule::Rows;
      for (Operation *op : g.members)
        if (auto q = dyn_cast<fp8::QuantizeOp>(op)) {
          if (q.getLayout().isBlock2D())
            schedule = Schedule::Blocks;
          else if (q.getDataT() && schedule == Schedule::Rows)
            schedule = Schedule::RowTiles;
        }
      SmallVector<Operation *> named(g.members.begin(), g.members.end());
      if (named.empty())
        named.append(g.views.begin(), g.views.end());
      llvm::sort(named, [&](Operation *x, Operation *y) {
        return pos_.lookup(x) < pos_.lookup(y);
      });
      b.setInsertionPoint(ops.front());
      SmallVector<Type> resultTypes;
      for (Value v : outputs)
        resultTypes.push_back(v.getType());
      Location loc = ops.back()->getLoc();
      auto fused = FusedOp::create(b, loc, resultTypes, kernelName(named),
                                   schedule, inputs.getArrayRef());
      Block *body = new Block();
      fused.getBody().push_back(body);
      IRMapping map;
      for (Value v : inputs)
        map.map(v, body->addArgument(v.getType(), v.getLoc()));
      OpBuilder inner = OpBuilder::atBlockEnd(body);
      for (Operation *op : ops)
        inner.clone(*op, map);
      SmallVector<Value> yielded;
      for (Value v : outputs)
        yielded.push_back(map.lookup(v));
      YieldOp::create(inner, loc, yielded);
      for (auto [v, r] : llvm::zip(outputs, fused.getResults()))
        v.replaceUsesWithIf(r, [&](OpOperand &use) {
          return use.getOwner()->getParentOp() != fused;
        });
      dead.insert(g.members.begin(), g.members.end());
      dead.insert(g.views.begin(), g.views.end());
    }
    // Members are unused now; views may still feed other kernels or
    // library ops. Erase what nothing reads, last first.
    SmallVector<Operation *> order = dead.takeVector();
    llvm::sort(order, [&](Operation *x, Operation *y) {
      return pos_.lookup(x) > pos_.lookup(y);
    });
    for (Operation *op : order)
      if (op->use_empty())
        op->erase();
    if (!sortTopologically(&block_))
      return block_.getParentOp()->emitError()
             << "kernel-fuse formed kernels that depend on each other in a "
                "cycle; please report this with the input IR";
    return success();
  }

  Block &block_;
  llvm::DenseMap<Operation *, int64_t> pos_;
  llvm::DenseMap<Operation *, Group *> owner_;
  std::vector<std::unique_ptr<Group>> groups_;
};

class KernelFusePass : public impl::KernelFusePassBase<KernelFusePass> {
public:
  using impl::KernelFusePassBase<KernelFusePass>::KernelFusePassBase;

  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (fn.isExternal())
      return;
    if (!fn.getBody().hasOneBlock()) {
      fn.emitError() << "kernel-fuse works on single-block functions";
      return signalPassFailure();
    }
    if (failed(Fuser(fn.getBody().front()).run()))
      signalPassFailure();
  }
};
} // namespace
} // namespace mlir::infir2::kernel
