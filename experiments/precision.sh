#!/usr/bin/env bash
# fp32 against bf16 (--mixed_precision) on the default runs: oracle MLE, REINFORCE GANs from it (3 seeds), and the
# POS tagger. Two runs at a time, one thread each (quality, not timing: speed figures come from scripts/benchmark.py).
# Prints and writes runs/precision/table.md (mean ± std over the GAN seeds).
#
#   SEQGAN_DATA_DIR=../shared/data bash experiments/precision.sh
#
# Seeds: MLE --seed 42; GAN --seed 42, 43, 44 from the seed-42 MLE of the same precision; --data_seed 1234
# everywhere (test samples of each model: seed 1336, 10,000 of them).
set -euo pipefail
cd "$(dirname "$0")/.."
export SEQGAN_NUM_THREADS=1
R=runs/precision
mkdir -p $R
T="python scripts/train.py"
pair() {  # two runs side by side: name1 args1... -- name2 args2...
  local a=() b=() seen=0
  for x in "$@"; do if [[ $x == -- ]]; then seen=1; elif ((seen)); then b+=("$x"); else a+=("$x"); fi; done
  $T "${a[@]:1}" --output_dir $R/${a[0]} > $R/${a[0]}.log 2>&1 &
  $T "${b[@]:1}" --output_dir $R/${b[0]} > $R/${b[0]}.log 2>&1 &
  wait
}
pair oracle-mle-fp32 --task oracle --mixed_precision no -- oracle-mle-bf16 --task oracle --mixed_precision bf16
pair pos-mle-fp32 --task pos --mixed_precision no -- pos-mle-bf16 --task pos --mixed_precision bf16
G="--task oracle --method gan --bridge reinforce"
for seed in 42 43 44; do
  pair oracle-gan-fp32-s$seed $G --seed $seed --init_from $R/oracle-mle-fp32 --mixed_precision no -- \
       oracle-gan-bf16-s$seed $G --seed $seed --init_from $R/oracle-mle-bf16 --mixed_precision bf16
done
python - "$R" <<'PY' | tee "$R/table.md"
import json, statistics, sys
from pathlib import Path
R = Path(sys.argv[1])
def test(run, key):
    return json.loads((R / run / "eval_test.json").read_text())[f"test/{key}"]
def agg(runs, key):
    v = [test(r, key) for r in runs]
    return f"{statistics.mean(v):.4f} ± {statistics.stdev(v):.4f} (n={len(v)})" if len(v) > 1 else f"{v[0]:.4f} (n=1)"
print("| run | fp32 | bf16 | bf16 − fp32 |\n|---|---|---|---|")
for task, metric in (("oracle-mle", "nll_oracle"), ("oracle-mle", "nll_test"), ("pos-mle", "accuracy"),
                     ("pos-mle", "exact_match")):
    a, b = test(f"{task}-fp32", metric), test(f"{task}-bf16", metric)
    print(f"| {task} {metric} (seed 42) | {a:.4f} | {b:.4f} | {b - a:+.4f} |")
for metric in ("nll_oracle", "nll_test"):
    runs = {p: [f"oracle-gan-{p}-s{s}" for s in (42, 43, 44)] for p in ("fp32", "bf16")}
    diff = statistics.mean(test(r, metric) for r in runs["bf16"]) - statistics.mean(test(r, metric) for r in runs["fp32"])
    print(f"| oracle GAN reinforce {metric} (best/ by dev NLL_oracle, seeds 42-44) | {agg(runs['fp32'], metric)} | "
          f"{agg(runs['bf16'], metric)} | {diff:+.4f} |")
PY
