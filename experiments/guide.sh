#!/usr/bin/env bash
# G + D at decoding time (seqgan/decoding/guide.py): per task and seed, G by MLE and its temperature curve, D fitted as a
# density ratio against G (scripts/fit_ratio.py), then G's samples re-weighted by D (SIR at K = 4 and 16, DRS; all
# at γ = 1 and T = 1) with the residual model's NLL. GAMMAS="0.5 2" adds SIR (K = 16) at those γ; GUIDE_SWEEP=1
# adds a G + D temperature sweep (SIR K = 4) and, unless GAMMAS is given, SIR at γ = 0.5 (K = 16).
# G_RUNS=DIR takes each seed's G from DIR/<task>-mle-seed<seed> (copied; its sweep is redone over TEMPS) instead of
# training one, e.g. the tuned MLE of experiments/oracle.sh.
# Produces $R/compare_guide_<task>.md: compare.py over these runs, with each row's gap to its seed's MLE curve, and
# D's held-out calibration (mean ± std over seeds). PAGE=FILE (one task) also writes it as a results page with each
# run's provenance, titled TITLE.
#
#   SEQGAN_DATA_DIR=../shared/data bash experiments/guide.sh [runs_dir]
#   SEEDS="42 43 44" TASKS=oracle bash experiments/guide.sh      # the defaults: a 6-epoch G (the results' history)
#   TASKS=text bash experiments/guide.sh runs/text-gans          # COCO, into text.sh's folder (docs/results/text-gans.md)
#   G_RUNS=runs/oracle GAMMAS="0.5 2" bash experiments/guide.sh runs/guide-tuned   # G + D on the tuned MLE
#   BRIDGES= NO_CRF=1 bash experiments/oracle.sh --seeds "42 43 44" runs/oracle   # the tuned MLE, then README's rows:
#   G_RUNS=runs/oracle GAMMAS="0.5 2" PAGE=docs/results/guide-oracle.md \
#     TITLE="Results: G + D at decoding time on the SeqGAN oracle" bash experiments/guide.sh runs/guide-tuned  # + page
#
# Seeds: --seed $SEEDS (G's and D's initialisation, shuffling and training samples), --data_seed 1234 (dev/test
# oracle samples, COCO's dev split); test samples seed 1336 (the task's --num_test_samples: oracle 10,000), D's
# calibration samples seed+2; log Z from 10,000 samples of G (seed data_seed+1), DRS's M from 2,000 (data_seed+2).
# G (without G_RUNS): oracle MLE for 6 epochs (dev NLL_test still falling, NLL_oracle best at the last epoch), text
# MLE with its defaults (best/ by dev NLL). Every (task, seed) chain runs in the background at once, one thread each.
# A stopped run resumes: every step whose output file exists is skipped (delete the file to redo that step).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -n ${PAGE:-} && $(wc -w <<< "${TASKS:-oracle}") -gt 1 ]]; then
  echo "PAGE writes one task's page; run guide.sh once per task (TASKS=oracle, TASKS=text)." >&2; exit 2
fi
R=${1:-runs/guide}
mkdir -p "$R"
L="accelerate launch --num_processes 1"
# MLE's curve reaches past T = 1 on both tasks: a guided sample set can be more diverse than G's own at T = 1.
declare -A TEMPS=([oracle]=0.5,0.6,0.7,0.8,0.9,1.0,1.05,1.1,1.2 [text]=0.7,0.8,0.9,1.0,1.1,1.2)
declare -A GUIDE_TEMPS=([oracle]=0.9,1.0,1.1 [text]=0.8,1.0,1.2)
declare -A G_OPTS=([oracle]="--num_train_epochs 6" [text]="")
chain() {
  local task=$1 seed=$2 g="$R/$1-mle-seed$2" d="$R/ratio-$1-seed$2"
  if [[ -n ${G_RUNS:-} && ! -e $g ]]; then  # G's own sweep is redone below over TEMPS, with the same sample seeds
    cp -r "$G_RUNS/$task-mle-seed$seed" "$g" && rm -f "$g"/sweep_test.*
  fi
  [[ -f $g/eval_test.json ]] || $L scripts/train.py --task "$task" ${G_OPTS[$task]} --seed "$seed" --output_dir "$g" > "$g.log" 2>&1
  [[ -f $g/sweep_test.json ]] || python scripts/evaluate.py --checkpoint "$g" --temperatures "${TEMPS[$task]}" >> "$g.log" 2>&1
  [[ -f $d/ratio.json ]] || python scripts/fit_ratio.py --checkpoint "$g" --output_dir "$d" --seed "$seed" > "$d.log" 2>&1
  guided sir-K4-g1 --guide_candidates 4
  guided sir-K16-g1 --guide_candidates 16
  guided drs-g1 --guide_method drs
  for gamma in ${GAMMAS:-${GUIDE_SWEEP:+0.5}}; do
    guided "sir-K16-g$gamma" --guide_candidates 16 --guide_gamma "$gamma"
  done
  if [[ -n ${GUIDE_SWEEP:-} && ! -f $g/sweep_test_guide-sir-K4-g1.json ]]; then
    python scripts/evaluate.py --checkpoint "$g" --guide_with "$d" --overwrite --guide_candidates 4 \
      --temperatures "${GUIDE_TEMPS[$task]}" >> "$d.log" 2>&1
  fi
}
# guided TAG [evaluate.py options]: one guided row of chain's $g and $d, skipped when its file exists (a stopped run
# resumes where it was).
guided() {
  local tag=$1; shift
  [[ -f $g/eval_test_guide-$tag.json ]] ||
    python scripts/evaluate.py --checkpoint "$g" --guide_with "$d" --overwrite "$@" >> "$d.log" 2>&1
}
export SEQGAN_NUM_THREADS=1
for task in ${TASKS:-oracle}; do for seed in ${SEEDS:-42 43 44}; do chain "$task" "$seed" & done; done
wait
for task in ${TASKS:-oracle}; do
  PAGE_OPTS=(); [[ -n ${PAGE:-} ]] && PAGE_OPTS=(--page "$PAGE" --title "${TITLE:-Results: G + D at decoding time}")
  python scripts/compare.py --task "$task" --runs_dir "$R" --output_file "$R/compare_guide_$task.md" "${PAGE_OPTS[@]}"
done
