#!/usr/bin/env bash
# End-to-end tests of `infir2 train` on the tiny SFT recipe, shrunk to a few
# steps: exact resume (bitwise), a SIGKILL in the middle of a save, SIGTERM,
# a NaN loss, and the run directory's contents.
#   train_test.sh INFIR2 SOURCE_DIR WORK_DIR SCENARIO
# Scenarios: resume-fp32, resume-bf16, resume-fp8, sigkill, sigterm, nan,
# rundir, fusion.
set -euo pipefail
infir2=$1 src=$2 work=$3 scenario=$4
recipe=$src/recipes/tiny/sft_bf16.toml
export INFIR2_CACHE_DIR=$work/cache
dir=$work/$scenario
rm -rf "$dir" && mkdir -p "$dir"

small=(--set batch.global_batch_size=8 --set train.train_steps=6
       --set eval.holdout_samples=16 --set eval.interval=3
       --set checkpoint.save_interval=2 --set checkpoint.keep_last=0
       --set train.log_interval=1)

# train OUT [args...]: runs, logs to OUT.log, returns the exit code.
train() {
  local out=$1; shift
  set +e
  "$infir2" train "$recipe" --output-dir "$out" "${small[@]}" "$@" \
    >"$out.log" 2>&1
  local rc=$?
  set -e
  return $rc
}

# same_losses A B: every step's loss, lr and grad_norm are bit-identical.
same_losses() {
  python3 - "$1/metrics.jsonl" "$2/metrics.jsonl" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert [r["step"] for r in a] == list(range(1, len(a) + 1)), "steps of A"
assert [r["step"] for r in b] == [r["step"] for r in a], \
    f"steps differ: {[r['step'] for r in b]}"
for ra, rb in zip(a, b):
    for k in ("loss", "lr", "grad_norm"):
        assert ra[k] == rb[k], f"step {ra['step']} {k}: {ra[k]!r} != {rb[k]!r}"
    assert ra.get("eval_loss") == rb.get("eval_loss"), f"step {ra['step']} eval"
print(f"{len(a)} steps, loss/lr/grad_norm/eval_loss bit-identical; "
      f"loss {a[0]['loss']:.6f} -> {a[-1]['loss']:.6f}")
PY
}

# close_losses A B TOL: every step's loss and grad_norm within TOL
# (relative), lr equal.
close_losses() {
  python3 - "$1/metrics.jsonl" "$2/metrics.jsonl" "$3" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
tol = float(sys.argv[3])
assert [r["step"] for r in a] == [r["step"] for r in b], "steps differ"
worst = 0.0
for ra, rb in zip(a, b):
    assert ra["lr"] == rb["lr"], f"step {ra['step']} lr"
    for k in ("loss", "grad_norm"):
        err = abs(ra[k] - rb[k]) / abs(ra[k])
        worst = max(worst, err)
        assert err <= tol, f"step {ra['step']} {k}: {ra[k]!r} vs {rb[k]!r}"
print(f"{len(a)} steps, loss and grad_norm within {worst:.1e} (limit {tol})")
PY
}

# close_states A B TOL: the optimizer states (masters, moments) of two
# checkpoints, max |a - b| / max |a| per tensor within TOL.
close_states() {
  python3 - "$1" "$2" "$3" <<'PY'
import json, struct, sys
def load(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__" or t["dtype"] != "F32":
            continue
        b, e = t["data_offsets"]
        data = raw[8 + n + b:8 + n + e]
        out[name] = struct.unpack(f"<{len(data) // 4}f", data)
    return out
a, b, tol = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])
assert a.keys() == b.keys() and a, "different tensors"
worst = 0.0
for name in a:
    scale = max(abs(x) for x in a[name]) or 1.0
    err = max(abs(x - y) for x, y in zip(a[name], b[name])) / scale
    worst = max(worst, err)
    assert err <= tol, f"{name}: {err:.3e} > {tol}"
print(f"{len(a)} optimizer tensors within {worst:.1e} (limit {tol})")
PY
}

fail() { echo "train_test $scenario: FAIL: $*"; exit 1; }

case $scenario in
resume-fp32|resume-bf16|resume-fp8)
  p=${scenario#resume-}
  train "$dir/straight" --set model.precision=\"$p\" ||
    fail "straight run: $(tail -3 "$dir/straight.log")"
  train "$dir/split" --set model.precision=\"$p\" --stop-after-steps 3 ||
    fail "first half: $(tail -3 "$dir/split.log")"
  grep -q "stopped after step 3/6" "$dir/split.log" || fail "no stop at 3"
  [[ -d $dir/split/checkpoints/step-3 ]] || fail "no checkpoint at step 3"
  mv "$dir/split.log" "$dir/split.first.log"
  train "$dir/split" --set model.precision=\"$p\" --resume ||
    fail "resume: $(tail -3 "$dir/split.log")"
  grep -q "resumed from .*step-3" "$dir/split.log" || fail "did not resume"
  same_losses "$dir/straight" "$dir/split"
  cmp "$dir/straight/checkpoints/step-6/model.safetensors" \
      "$dir/split/checkpoints/step-6/model.safetensors" ||
    fail "final weights differ"
  cmp "$dir/straight/checkpoints/step-6/trainer_state/optimizer.safetensors" \
      "$dir/split/checkpoints/step-6/trainer_state/optimizer.safetensors" ||
    fail "final optimizer states differ"
  ;;
sigkill)
  train "$dir/straight" --set model.precision=\"fp32\" || fail "straight run"
  # Killed (SIGKILL) inside the save of step 4: weights written, trainer
  # state not.
  rc=0
  INFIR2_FAULT_KILL_IN_SAVE=4 train "$dir/run" --set model.precision=\"fp32\" ||
    rc=$?
  [[ $rc == 137 ]] || fail "expected death by SIGKILL (137), got $rc"
  [[ -d $dir/run/checkpoints/step-2 ]] || fail "step-2 missing"
  [[ ! -e $dir/run/checkpoints/step-4 ]] || fail "a step-4 claims to be complete"
  ls -d "$dir"/run/checkpoints/step-4.tmp.* >/dev/null ||
    fail "no partial step-4 save left behind"
  train "$dir/run" --set model.precision=\"fp32\" --resume ||
    fail "resume: $(tail -3 "$dir/run.log")"
  grep -q "removed 1 incomplete checkpoint" "$dir/run.log" ||
    fail "partial save not cleaned up"
  grep -q "resumed from .*step-2" "$dir/run.log" ||
    fail "did not resume from step-2"
  same_losses "$dir/straight" "$dir/run"
  ;;
sigterm)
  "$infir2" train "$recipe" --output-dir "$dir/run" "${small[@]}" \
    --set train.train_steps=200 --set model.precision=\"fp32\" \
    >"$dir/run.log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do
    [[ -s $dir/run/metrics.jsonl ]] && break
    sleep 0.1
  done
  [[ -s $dir/run/metrics.jsonl ]] || { kill -9 $pid; fail "no step ran"; }
  kill -TERM $pid
  rc=0
  wait $pid || rc=$?
  [[ $rc == 0 ]] || fail "exit $rc after SIGTERM: $(tail -3 "$dir/run.log")"
  grep -q "stopped by signal 15 after step" "$dir/run.log" ||
    fail "no stop message"
  grep -q "continue with: infir2 train '[^']*sft_bf16.toml' --output-dir '[^']*' --set 'batch.global_batch_size=8' .* --set 'train.train_steps=200' --set 'model.precision=\"fp32\"' --resume" \
    "$dir/run.log" || fail "the continue hint lacks the overrides"
  steps=$(wc -l <"$dir/run/metrics.jsonl")
  [[ -d $dir/run/checkpoints/step-$steps ]] ||
    fail "no checkpoint at the last step ($steps)"
  "$infir2" train "$recipe" --output-dir "$dir/run" "${small[@]}" \
    --set train.train_steps=200 --set model.precision=\"fp32\" --resume \
    --stop-after-steps 1 >"$dir/resume.log" 2>&1 || fail "resume"
  [[ $(wc -l <"$dir/run/metrics.jsonl") == $((steps + 1)) ]] ||
    fail "resume did not continue at step $((steps + 1))"
  echo "stopped cleanly at step $steps, resumed at $((steps + 1))"
  ;;
nan)
  rc=0
  train "$dir/run" --set optimizer.lr=1e30 --set lr_schedule.warmup_fraction=0 \
    --set optimizer.clip_grad=0 --set checkpoint.save_interval=1 || rc=$?
  [[ $rc == 1 ]] || fail "expected exit 1, got $rc"
  grep -Eq "step 2: the (loss is (nan|inf)|gradient norm is not finite \(loss [^)]*\)); training stopped\. The last good checkpoint is [^ ]*/step-1 " \
    "$dir/run.log" || fail "no error naming the step: $(tail -2 "$dir/run.log")"
  [[ -f $dir/run/checkpoints/step-1/trainer_state/state.json ]] ||
    fail "the last good checkpoint is gone"
  [[ ! -e $dir/run/checkpoints/step-2 ]] || fail "a NaN step was saved"
  # An update that overflows the weights (lr 1e39 is inf in f32) is never
  # saved either.
  rc=0
  train "$dir/inf" --set optimizer.lr=1e39 --set lr_schedule.warmup_fraction=0 \
    --set checkpoint.save_interval=1 || rc=$?
  [[ $rc == 1 ]] || fail "inf weights: expected exit 1, got $rc"
  grep -q "step 1: the update made a master weight inf or NaN (lr 1e+39, gradient norm [0-9.]*); training stopped. No checkpoint was saved yet." \
    "$dir/inf.log" || fail "inf weights: $(tail -2 "$dir/inf.log")"
  [[ -z $(ls "$dir/inf/checkpoints") ]] || fail "inf weights were saved"
  ;;
fusion)
  # The generated kernels (forward, backward and the AdamW step) against
  # the reference kernels and the runtime's AdamW, in fp32; then a fused
  # run that stops and resumes is bit-identical to a straight fused run.
  fp32=(--set model.precision=\"fp32\")
  train "$dir/reference" "${fp32[@]}" || fail "reference run"
  train "$dir/fused" "${fp32[@]}" --set model.fusion=true ||
    fail "fused run: $(tail -3 "$dir/fused.log")"
  close_losses "$dir/reference" "$dir/fused" 1e-6
  # AdamW divides by sqrt(v): a parameter whose true gradient is zero (the
  # key bias: softmax ignores a constant added to every score) moves by
  # about lr either way on rounding noise, so the states agree to 2.3e-4
  # there, to 3.4e-6 elsewhere (the update itself is bit-exact:
  # e2e.optimizer.generated_adamw).
  close_states "$dir/reference/checkpoints/step-6/trainer_state/optimizer.safetensors" \
    "$dir/fused/checkpoints/step-6/trainer_state/optimizer.safetensors" 1e-3
  train "$dir/split" "${fp32[@]}" --set model.fusion=true --stop-after-steps 3 ||
    fail "fused first half"
  train "$dir/split" "${fp32[@]}" --set model.fusion=true --resume ||
    fail "fused resume: $(tail -3 "$dir/split.log")"
  same_losses "$dir/fused" "$dir/split"
  cmp "$dir/fused/checkpoints/step-6/trainer_state/optimizer.safetensors" \
      "$dir/split/checkpoints/step-6/trainer_state/optimizer.safetensors" ||
    fail "fused resume: final optimizer states differ"
  ;;
rundir)
  train "$dir/run" || fail "run: $(tail -3 "$dir/run.log")"
  r=$dir/run
  for f in recipe.toml metrics.jsonl loss.svg checkpoints/step-6/config.json \
           checkpoints/step-6/generation_config.json \
           checkpoints/step-6/model.safetensors \
           checkpoints/step-6/tokenizer.json \
           checkpoints/step-6/tokenizer_config.json \
           checkpoints/step-6/trainer_state/state.json \
           checkpoints/step-6/trainer_state/optimizer.safetensors; do
    [[ -s $r/$f ]] || fail "missing $f"
  done
  ls "$r"/events.out.tfevents.* >/dev/null || fail "no TensorBoard file"
  python3 - "$r" <<'PY'
import json, sys
r = sys.argv[1]
rows = [json.loads(l) for l in open(f"{r}/metrics.jsonl")]
assert len(rows) == 6, len(rows)
need = {"step", "loss", "lr", "grad_norm", "tokens", "tokens_per_s",
        "elapsed_s"}
for row in rows:
    missing = need - set(row)
    assert not missing, f"step {row.get('step')}: missing {missing}"
assert rows[0]["lr"] == 0.0, "warmup starts at lr 0"
assert [("eval_loss" in r) for r in rows] == [False, False, True, False,
                                                False, True]
assert rows[-1]["loss"] < rows[0]["loss"], "the loss did not fall"
assert "<polyline" in open(f"{r}/loss.svg").read()
cfg = json.load(open(f"{r}/checkpoints/step-6/config.json"))
assert cfg["model_type"] == "qwen2" and cfg["torch_dtype"] == "bfloat16"
print(f"6 metrics rows; loss {rows[0]['loss']:.4f} -> {rows[-1]['loss']:.4f}")
PY
  # The HF directory loads back: logits from the saved bf16 weights.
  echo "[151644, 872, 198, 17, 10, 17, 151645]" >"$dir/tokens.jsonl"
  "$infir2" logits --model "$r/checkpoints/step-6" --input "$dir/tokens.jsonl" \
    --output "$dir/logits.safetensors" --precision bf16 >"$dir/logits.log" 2>&1 ||
    fail "logits on the checkpoint: $(tail -2 "$dir/logits.log")"
  # A second run into the same directory must not overwrite it.
  rc=0
  train "$dir/run" || rc=$?
  [[ $rc == 1 ]] && grep -q "already holds checkpoints (newest: step-6); pass --resume" \
    "$dir/run.log" || fail "a second run into a used directory was not refused"
  ;;
*)
  echo "unknown scenario $scenario" >&2
  exit 2
  ;;
esac
echo "train_test $scenario: PASS"
