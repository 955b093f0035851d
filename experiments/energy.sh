#!/usr/bin/env bash
# POS, G + D trained together: --method energy (an energy D over whole tag sequences, the CRF's terms plus a label
# language model and a tag convolution, and an inference network G trained to output its argmax;
# seqgan/models/energy_tagger.py) against the MLE tagger, over seeds, on UD English EWT.
#  1. Dev picks --energy_ce_weight from CE_WEIGHTS (default "3 10") on the first seed: the run whose best/ (itself the
#     dev-UPOS-best state) has the highest dev UPOS wins; every candidate stays in $R/tune.
#  2. Every seed: the MLE tagger (the task's defaults) and the energy run at the chosen weight (defaults otherwise).
#  3. The first-order energy (--energy_terms none) on the first seed, at the chosen weight: Viterbi is then D's exact
#     argmax, and its eval_test.json's search_error/* measure G's search against it. Every seed: the control
#     (--energy_g_weight 0): the same inference network and D, G trained by cross-entropy alone, which tells D's
#     signal apart from G's architecture (a local classifier, not the MLE tagger's autoregressive decoder).
#  4. AfriBooms (ud_af_afribooms): every seed's MLE and energy run, in $R-af.
# Then compare.py: mean ± std over seeds and a paired bootstrap over test sentences against the MLE tagger
# (docs/results/pos-energy.md and pos-energy-af.md; the tables also in $R/compare_pos.md, $R-af/compare_pos.md), the
# same against the control (docs/results/pos-energy-control.md), and benchmark.py decode: greedy tagging words/s of the MLE tagger, the
# CRF and the energy's G, timed in one run ($R/bench_decode.json).
#
#   SEQGAN_DATA_DIR=../shared/data bash experiments/energy.sh [--seeds "42 43 44"] [runs_dir]
#   CE_WEIGHTS=10 TRAIN_OPTS="--min_steps 6000 --eval_every 200 --early_stopping_patience 5" \
#     SEQGAN_DATA_DIR=../shared/data bash experiments/energy.sh --max_train_samples 1000 runs/energy-1k
#   CE_WEIGHTS=10 SEQGAN_DATA_DIR=../shared/data bash experiments/energy.sh --afribooms_only runs/energy
#
# --afribooms_only: step 4 alone (into $R-af), at the one weight CE_WEIGHTS names (EWT's dev pick is 10: steps 1-3
# take hours on 2 cores), then its page, docs/results/pos-energy-af.md.
# --max_train_samples N: the low-resource comparison. Every run trains on the first N EWT training sentences (dev and
# test unchanged): per seed the MLE tagger, the energy run and its control, nothing else (no first-order run, no
# AfriBooms, no benchmark); the page is docs/results/pos-energy-1k.md. TRAIN_OPTS (default none) is added to every
# run: the line above is the early-stopped schedule of docs/results/pos.md's 1,000-sentence table.
#
# Runs two jobs at once, one thread each (SEQGAN_NUM_THREADS=1): on 2 cores, training times are indicative only.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS="42 43 44"
SUBSET=""
LOW=false  # --max_train_samples: the low-resource comparison, MLE, energy and control only
AF_ONLY=false  # --afribooms_only: step 4 alone
while [[ $# -gt 0 ]]; do
  case $1 in
    --seeds) SEEDS=$2; shift 2 ;;
    --max_train_samples) N=$2; SUBSET="--max_train_samples $2"; LOW=true; shift 2 ;;
    --afribooms_only) AF_ONLY=true; shift ;;
    -*) echo "unknown option $1; usage: bash experiments/energy.sh [--seeds \"42 43 44\"] [--max_train_samples N]" \
          "[--afribooms_only] [runs_dir]" >&2; exit 2 ;;
    *) R=$1; shift ;;
  esac
done
R=${R:-runs/energy}
CE_WEIGHTS=${CE_WEIGHTS-3 10}
TRAIN_OPTS=${TRAIN_OPTS-}
D=${SEQGAN_DATA_DIR:-../shared/data}
AF=$D/ud_af_afribooms/af_afribooms-ud
FIRST=${SEEDS%% *}
export SEQGAN_NUM_THREADS=1
$LOW || mkdir -p "$R-af"
train() {  # run folder, options...: skip a finished run, so the script resumes after an interruption
  local out=$1; shift
  # shellcheck disable=SC2086  # SUBSET and TRAIN_OPTS are lists of options
  [[ -f $out/eval_test.json ]] || accelerate launch --num_processes 1 scripts/train.py --output_dir "$out" \
    --overwrite_output_dir "$@" $SUBSET $TRAIN_OPTS > "$out.log" 2>&1
}
afribooms() {  # weight, then seeds: every seed's MLE and energy run on AfriBooms, two at a time, then the page
  local w=$1 s; shift
  for s in "$@"; do
    train "$R-af/pos-mle-seed$s" --task pos --seed "$s" --train_file "$AF-train.conllu" \
      --validation_file "$AF-dev.conllu" --test_file "$AF-test.conllu" & a=$!
    train "$R-af/pos-energy-seed$s" --task pos --method energy --energy_ce_weight "$w" --seed "$s" \
      --train_file "$AF-train.conllu" --validation_file "$AF-dev.conllu" --test_file "$AF-test.conllu" & b=$!
    wait "$a"; wait "$b"
  done
  python scripts/compare.py --task pos --runs_dir "$R-af" --baseline pos-mle --output_file "$R-af/compare_pos.md" \
    --page docs/results/pos-energy-af.md --title "Results: the energy tagger on AfriBooms"
}
if $AF_ONLY; then
  $LOW && { echo "--afribooms_only and --max_train_samples do not combine: run them one at a time" >&2; exit 2; }
  read -ra ws <<< "$CE_WEIGHTS"
  if (( ${#ws[@]} != 1 )); then
    echo "--afribooms_only trains at one --energy_ce_weight, and CE_WEIGHTS is '$CE_WEIGHTS': name one," \
      "e.g. CE_WEIGHTS=10 (EWT's dev pick)" >&2
    exit 2
  fi
  # shellcheck disable=SC2086  # SEEDS is a list of seeds
  afribooms "${ws[0]}" $SEEDS
  exit 0
fi
# 1. The weight, by dev UPOS on the first seed (two candidates at a time, the first seed's MLE beside them).
mkdir -p "$R/tune"
pids=()
for w in $CE_WEIGHTS; do
  train "$R/tune/pos-energy-ce$w-seed$FIRST" --task pos --method energy --energy_ce_weight "$w" --seed "$FIRST" &
  pids+=($!)
done
train "$R/pos-mle-seed$FIRST" --task pos --seed "$FIRST" & pids+=($!)
for p in "${pids[@]}"; do wait "$p"; done
read -r W < <(python - "$R/tune" "$FIRST" $CE_WEIGHTS <<'PY'
import json, sys
from pathlib import Path
tune, seed, weights = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
dev = {w: json.loads((tune / f"pos-energy-ce{w}-seed{seed}" / "eval_test.json").read_text())["dev/accuracy"]
       for w in weights}
for w, acc in dev.items():
    print(f"--energy_ce_weight {w}: best/ dev UPOS {acc:.4%}", file=sys.stderr)
print(max(dev, key=dev.get))
PY
)
echo "dev picked --energy_ce_weight $W" | tee "$R/picked_ce_weight.txt"
[[ -d $R/pos-energy-seed$FIRST ]] || cp -r "$R/tune/pos-energy-ce$W-seed$FIRST" "$R/pos-energy-seed$FIRST"
# 2 and 3. The other seeds, then the first-order energy; two jobs at a time.
jobs_=()
for s in $SEEDS; do
  [[ $s == "$FIRST" ]] && continue
  jobs_+=("$R/pos-mle-seed$s --task pos --seed $s")
  jobs_+=("$R/pos-energy-seed$s --task pos --method energy --energy_ce_weight $W --seed $s")
done
for s in $SEEDS; do
  jobs_+=("$R/pos-energy-control-seed$s --task pos --method energy --energy_g_weight 0 --energy_ce_weight $W --seed $s")
done
$LOW || jobs_+=("$R/pos-energy-first-order-seed$FIRST --task pos --method energy --energy_terms none --energy_ce_weight $W --seed $FIRST")
for ((i = 0; i < ${#jobs_[@]}; i += 2)); do
  # shellcheck disable=SC2086  # each job is a run folder and its options
  train ${jobs_[i]} & a=$!
  if ((i + 1 < ${#jobs_[@]})); then
    # shellcheck disable=SC2086
    train ${jobs_[i + 1]} & b=$!
    wait "$b"
  fi
  wait "$a"
done
if $LOW; then
  python scripts/compare.py --task pos --runs_dir "$R" --baseline pos-mle --output_file "$R/compare_pos.md" \
    --page docs/results/pos-energy-1k.md \
    --title "Results: the energy tagger (G + D trained together) on the first $N EWT training sentences"
  exit 0
fi
python scripts/compare.py --task pos --runs_dir "$R" --baseline pos-mle --output_file "$R/compare_pos.md" \
  --page docs/results/pos-energy.md --title "Results: the energy tagger (G + D trained together) on EWT"
python scripts/compare.py --task pos --runs_dir "$R" --baseline pos-energy-control --output_file \
  "$R/compare_pos_vs_control.md" --page docs/results/pos-energy-control.md \
  --title "Results: the energy tagger against its control (the same G by cross-entropy alone)"
# shellcheck disable=SC2086  # SEEDS is a list of seeds
afribooms "$W" $SEEDS
unset SEQGAN_NUM_THREADS
python scripts/benchmark.py decode --output_file "$R/bench_decode.json"
