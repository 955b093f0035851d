#!/usr/bin/env bash
# The SeqGAN oracle benchmark over seeds. Per seed: G alone (MLE with the task's tuned defaults, best/ by dev
# NLL_test, early-stopped; the tuning is experiments/oracle_mle.sh), MLE's temperature curve, GAN bridges fine-tuning
# that seed's MLE, and D alone (the bigram energy model, sampled and by Viterbi). Then compare.py: mean ± std over
# seeds, each GAN row's gap to its own seed's MLE curve, and the published anchors' gaps to seqgan's MLE curve.
# Produces $R/compare_oracle.md and $R/oracle-sweep.png (the MLE curves of every seed).
#
#   SEQGAN_DATA_DIR=../shared/data bash experiments/oracle.sh [--seeds "42 43 44"] [runs_dir]
#   BRIDGES="reinforce gumbel" NO_CRF=1 bash experiments/oracle.sh --seeds "42 43 44" runs/oracle   # a subset
#   BRIDGES=cold NO_CRF=1 bash experiments/oracle.sh runs/oracle   # ColdGAN-style REINFORCE beside them
#   BRIDGES=scratch NO_CRF=1 bash experiments/oracle.sh runs/oracle   # ScratchGAN-style dense rewards beside them
#   COT=1 BRIDGES= NO_CRF=1 bash experiments/oracle.sh --seeds "42 43 44" runs/oracle   # CoT from each seed's MLE
#   BRIDGES="reinforce cold gumbel scratch" PAGE=docs/results/oracle-gans.md \
#     TITLE="Results: GANs and D alone on the SeqGAN oracle" bash experiments/oracle.sh runs/oracle   # + its page
#
# Seeds: --seed <each of --seeds> (initialisation, shuffling, dropout, sampling during training), --data_seed 1234
# (dev/test oracle samples; test samples of every model use seed 1336, 10,000 of them). Every seed's chain runs in
# the background at once, one thread each (SEQGAN_NUM_THREADS=1): on 2 cores, times are indicative only.
# PAGE and TITLE: a results page compare.py writes from the runs, with each run's provenance (default none).
set -euo pipefail
cd "$(dirname "$0")/.."
source experiments/gan_recipes.sh
parse_seeds_and_dir oracle "$@"
BRIDGES=${BRIDGES-reinforce dense gumbel st-gumbel rollout}
check_bridges
# MLE's curve reaches from below the published tuned MLE's quality (NLL_oracle 7.75) to T = 1, in steps of 0.02 above
# T = 0.9: a gap is read off the curve by linear interpolation, and near T = 1, where CoT's points fall, the curve bends
# enough that 0.1 steps put MLE 0.004-0.006 nats too high there (seed 42's CoT states; the gap errs in their favour).
TEMPS=0.5,0.6,0.7,0.8,0.9,0.92,0.94,0.96,0.98,1.0
mkdir -p "$R"
L="accelerate launch --num_processes 1"
chain() {
  local seed=$1 g="$R/oracle-mle-seed$1"
  [[ -f $g/eval_test.json ]] || $L scripts/train.py --task oracle --seed "$seed" --output_dir "$g" > "$g.log" 2>&1
  [[ -f $g/sweep_test.json ]] || python scripts/evaluate.py --checkpoint "$g" --temperatures "$TEMPS" >> "$g.log" 2>&1
  [[ -f $g/eval_test_greedy.json ]] || python scripts/evaluate.py --checkpoint "$g" --greedy >> "$g.log" 2>&1
  for b in $BRIDGES; do
    local out="$R/oracle-gan-$b-seed$seed"
    # shellcheck disable=SC2086  # option lists
    [[ -f $out/eval_test.json ]] || $L scripts/train.py --task oracle --method gan --init_from "$g" ${BRIDGE_OPTS[$b]} \
      --seed "$seed" --output_dir "$out" > "$out.log" 2>&1
  done
  if [[ -n ${COT:-} ]]; then  # CoT (seqgan/training/cot.py) from the same MLE run, and its own temperature curve
    local cot="$R/oracle-cot-seed$seed"
    [[ -f $cot/eval_test.json ]] || $L scripts/train.py --task oracle --method cot --init_from "$g" --seed "$seed" \
      --output_dir "$cot" > "$cot.log" 2>&1
    [[ -f $cot/sweep_test.json ]] || python scripts/evaluate.py --checkpoint "$cot" --temperatures "$TEMPS" >> "$cot.log" 2>&1
  fi
  if [[ -z ${NO_CRF:-} ]]; then
    local crf="$R/oracle-crf-nll-seed$seed"
    [[ -f $crf/eval_test.json ]] || $L scripts/train.py --task oracle --method crf --seed "$seed" --output_dir "$crf" > "$crf.log" 2>&1
    [[ -f $crf/eval_test_greedy.json ]] || python scripts/evaluate.py --checkpoint "$crf" --greedy >> "$crf.log" 2>&1
  fi
}
export SEQGAN_NUM_THREADS=1
for seed in $SEEDS; do chain "$seed" & done
wait
PAGE_OPTS=(); [[ -n ${PAGE:-} ]] && PAGE_OPTS=(--page "$PAGE" --title "${TITLE:-Results: the SeqGAN oracle}")
python scripts/compare.py --task oracle --runs_dir "$R" --output_file "$R/compare_oracle.md" --plot "$R/oracle-sweep.png" \
  "${PAGE_OPTS[@]}"
