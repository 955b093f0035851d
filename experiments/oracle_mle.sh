#!/usr/bin/env bash
# The oracle's MLE baseline, tuned on dev: a small dropout/width sweep (seed 42), each run early-stopped
# on dev NLL_test (held-out oracle samples), then the dev-picked configuration is the one the task's
# defaults (tasks/oracle.py) and experiments/oracle.sh use. Writes RUNS/sweep.md (one row per config).
#
#   SEQGAN_DATA_DIR=../shared/data bash experiments/oracle_mle.sh [RUNS]      # RUNS defaults to runs/oracle-mle-sweep
#
# CONFIGS="d0.1 d0.2" runs a subset (two shells can split the list); SEQGAN_NUM_THREADS sets threads per run.
# Seeds: --seed 42, --data_seed 1234 (dev/test oracle samples). Picked by dev NLL_test only; test is reported beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-runs/oracle-mle-sweep}
declare -A ARGS=(
  [d0.0]="--dropout 0.0"
  [d0.1]="--dropout 0.1"
  [d0.2]="--dropout 0.2"
  [d0.3]="--dropout 0.3"
  [d0.2-h256]="--dropout 0.2 --hidden_size 256 --ffn_size 1024"
  [d0.2-lr5e-4]="--dropout 0.2 --learning_rate 5e-4"
)
CONFIGS=${CONFIGS:-d0.0 d0.1 d0.2 d0.3 d0.2-h256 d0.2-lr5e-4}
for c in $CONFIGS; do
  out="$RUNS/$c-seed42"
  [[ -f $out/eval_test.json ]] && continue  # done already: the sweep resumes where it stopped
  # shellcheck disable=SC2086  # ARGS values are option lists
  python scripts/train.py --task oracle --seed 42 --num_train_epochs 30 --early_stopping_patience 3 ${ARGS[$c]} \
    --output_dir "$out" --overwrite_output_dir
done
python - "$RUNS" <<'EOF'
import json, sys
from pathlib import Path
rows = []
for f in sorted(Path(sys.argv[1]).glob("*/eval_test.json")):
    r, a = json.loads(f.read_text()), json.loads((f.parent / "args.json").read_text())
    rows.append((r["dev/nll_test"], f.parent.name, r["best_step"], a["dropout"], a["hidden_size"], a["learning_rate"],
                 r["test/nll_test"], r["test/nll_oracle"], r["train_time_s"]))
lines = ["| run | dropout | width | lr | best step | dev NLL_test ↓ | test NLL_test | test NLL_oracle | train s |",
         "|---|---|---|---|---|---|---|---|---|"]
lines += [f"| {n} | {d} | {h} | {lr:g} | {s} | {dev:.4f} | {t:.4f} | {o:.3f} | {sec:.0f} |"
          for dev, n, s, d, h, lr, t, o, sec in sorted(rows)]
lines.append(f"\nPicked by dev NLL_test: {min(rows)[1]}" if rows else "\nno finished runs")
Path(sys.argv[1], "sweep.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
