#!/usr/bin/env bash
# The POS tagger's schedule and regularisation, measured on dev (seed 42): the earlier 6 epochs, 16 epochs, 16 epochs
# with the weights averaged (--average_weights), and on top of that word dropout 0.25 (default 0.1), a BiLSTM sentence
# encoder (--sentence_encoder lstm) in place of the Transformer, or both. The dev-picked configuration is what
# tasks/pos.py's defaults and experiments/pos.sh use. Writes RUNS/sweep.md (one row per config; test beside dev, never
# used to pick).
#
#   SEQGAN_DATA_DIR=../shared/data bash experiments/pos_mle.sh [RUNS]      # RUNS defaults to runs/pos-mle-sweep
#
# CONFIGS="e16 e16-avg" runs a subset (two shells can split the list); SEQGAN_NUM_THREADS sets threads per run.
# Seeds: --seed 42, --data_seed 1234. best/ of each run is picked by dev UPOS accuracy.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-runs/pos-mle-sweep}
# Every configuration names its encoder and word dropout, so it keeps meaning the same run whatever the defaults are.
T="--sentence_encoder transformer"
L="--sentence_encoder lstm"
declare -A ARGS=(
  [e6]="$T --word_dropout 0.1 --num_train_epochs 6 --average_weights false"
  [e16]="$T --word_dropout 0.1 --num_train_epochs 16 --average_weights false"
  [e16-avg]="$T --word_dropout 0.1 --num_train_epochs 16 --average_weights true"
  [e16-avg-wd25]="$T --word_dropout 0.25 --num_train_epochs 16 --average_weights true"
  [e16-avg-lstm]="$L --word_dropout 0.1 --num_train_epochs 16 --average_weights true"
  [e16-avg-lstm-wd25]="$L --word_dropout 0.25 --num_train_epochs 16 --average_weights true"
)
CONFIGS=${CONFIGS-e6 e16 e16-avg e16-avg-wd25 e16-avg-lstm e16-avg-lstm-wd25}  # CONFIGS= (empty) only rewrites sweep.md
for c in $CONFIGS; do
  out="$RUNS/$c-seed42"
  [[ -f $out/eval_test.json ]] && continue  # done already: the sweep resumes where it stopped
  # shellcheck disable=SC2086  # ARGS values are option lists
  python scripts/train.py --task pos --seed 42 ${ARGS[$c]} --output_dir "$out" --overwrite_output_dir
done
python - "$RUNS" <<'EOF'
import json, sys
from pathlib import Path
rows = []
for f in sorted(Path(sys.argv[1]).glob("*/eval_test.json")):
    r, a = json.loads(f.read_text()), json.loads((f.parent / "args.json").read_text())
    rows.append((r["dev/accuracy"], f.parent.name, a.get("sentence_encoder", "transformer"), a["word_dropout"],
                 r["best_step"], a["num_train_epochs"], a.get("average_weights", False), r["test/accuracy"],
                 r["test/unknown_word_accuracy"], r["train_time_s"]))
lines = ["| run | encoder | word dropout | epochs | averaged | best step | dev UPOS ↑ | test UPOS | test unknown words "
         "| train s |", "|---|---|---|---|---|---|---|---|---|---|"]
lines += [f"| {n} | {enc} | {wd:g} | {e:g} | {'yes' if avg else 'no'} | {s} | {dev:.2%} | {t:.2%} | {u:.2%} | {sec:.0f} |"
          for dev, n, enc, wd, s, e, avg, t, u, sec in sorted(rows, reverse=True)]
lines.append(f"\nPicked by dev UPOS: {max(rows)[1]}" if rows else "\nno finished runs")
Path(sys.argv[1], "sweep.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
