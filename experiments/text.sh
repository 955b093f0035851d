#!/usr/bin/env bash
# COCO captions over seeds. Per seed: G alone (MLE, best/ by dev NLL), MLE's temperature curve (test) and its dev NLL
# at T = 0.9 … 1.2 (sweep_dev.json), GAN bridges fine-tuning that seed's MLE (REINFORCE; RelGAN-style Gumbel with
# RSGAN; ColdGAN-style and ScratchGAN-style, as in experiments/oracle.sh), and D alone (the bigram energy model:
# samples and its Viterbi sentence). Then compare.py: mean ± std over seeds, and each GAN and D-alone row's gaps to its
# own seed's MLE curve (BLEU-5 at equal self-BLEU-5, NLL at equal BLEU-5), with the training captions (scored by
# score_text.py) and published points as anchors. Produces $R/compare_text.md and
# $R/text-sweep.png (every seed's MLE curve, the GANs at T = 1).
#
#   SEQGAN_DATA_DIR=../shared/data bash experiments/text.sh [--seeds "42 43 44"] [runs_dir]
#   BRIDGES="reinforce cold" NO_CRF=1 bash experiments/text.sh --seeds 42 runs/text     # a subset
#   BRIDGES= NO_CRF=1 bash experiments/text.sh        # G alone: MLE, its temperature curve and greedy decoding
#   COT=1 BRIDGES= NO_CRF=1 bash experiments/text.sh --seeds "42 43 44" runs/text   # CoT from each seed's MLE
#   NOMLE=1 bash experiments/text.sh      # also the earlier GAN defaults (G learning rate 1e-4, no MLE term)
#   PROTOCOL=texygen BRIDGES=reinforce NO_CRF=1 bash experiments/text.sh --seeds "42 43 44" runs/text-texygen
#       # measured as Texygen measures (seqgan/scoring/protocols.py): MLE and SeqGAN's recipe beside its published rows
#   BRIDGES="reinforce gumbel" PAGE=docs/results/text-gans.md TITLE="Results: COCO captions, G alone, D alone and the GANs" \
#     bash experiments/text.sh --seeds "42 43 44" runs/text-gans   # the same rows, and their generated results page;
#     docs/results/text-gans.md also holds G + D at decoding: TASKS=text bash experiments/guide.sh runs/text-gans once
#     the MLE sweeps exist, then the compare.py command in the page's header again
# The GAN recipes (BRIDGES: keys of BRIDGE_OPTS) are in experiments/gan_recipes.sh, shared with oracle.sh. PAGE and
# TITLE: a results page compare.py writes from the runs, with each run's provenance (compare.py --page).
#
# Seeds: --seed <each of --seeds> (initialisation, shuffling, dropout, sampling during training), --data_seed 1234
# (the dev split carved from image_coco.txt); test samples seed 1336, 10,000 of them against all 10,000 test captions.
# Every seed's chain runs in the background at once, one thread each (SEQGAN_NUM_THREADS=1): on 2 cores, times
# are indicative only.
set -euo pipefail
cd "$(dirname "$0")/.."
source experiments/gan_recipes.sh
parse_seeds_and_dir text "$@"
BRIDGES=${BRIDGES-reinforce gumbel cold scratch}${NOMLE:+ reinforce-nomle gumbel-nomle}
check_bridges
TEMPS=0.7,0.8,0.9,1.0,1.1,1.2  # a GAN or CoT run's own curve
# MLE's curve is the yardstick every gap is read from, piecewise-linearly between its points: every 0.05, so that a
# point near T = 1 of another method is not judged against a coarse chord (CoT's T = 1 falls between MLE's 0.8 and 0.9).
MLE_TEMPS=0.7,0.75,0.8,0.85,0.9,0.95,1.0,1.05,1.1,1.2
PROTOCOL=${PROTOCOL:-seqgan}  # every run of the folder and the training captions' scores are measured under it
mkdir -p "$R"
L="accelerate launch --num_processes 1"
chain() {
  local seed=$1 g="$R/text-mle-seed$1"
  [[ -f $g/eval_test.json ]] || $L scripts/train.py --task text --protocol "$PROTOCOL" --seed "$seed" --output_dir "$g" > "$g.log" 2>&1
  [[ -f $g/sweep_test.json ]] || python scripts/evaluate.py --checkpoint "$g" --temperatures "$MLE_TEMPS" >> "$g.log" 2>&1
  # MLE's dev NLL over temperature (500 samples each: only the NLL is read): is T = 1 the temperature dev prefers?
  [[ -f $g/sweep_dev.json ]] || python scripts/evaluate.py --checkpoint "$g" --split dev --temperatures 0.9,1.0,1.1,1.2 \
    --num_eval_samples 500 --output_file "$g/sweep_dev" >> "$g.log" 2>&1
  [[ -f $g/eval_test_greedy.json ]] || python scripts/evaluate.py --checkpoint "$g" --greedy --num_eval_samples 100 >> "$g.log" 2>&1
  for b in $BRIDGES; do
    local out="$R/text-gan-$b-seed$seed"
    # shellcheck disable=SC2086  # option lists
    [[ -f $out/eval_test.json ]] || $L scripts/train.py --task text --protocol "$PROTOCOL" --method gan --init_from "$g" ${BRIDGE_OPTS[$b]} \
      --seed "$seed" --output_dir "$out" > "$out.log" 2>&1
  done
  if [[ -n ${COT:-} ]]; then  # CoT (seqgan/training/cot.py) from the same MLE run, and its own temperature curve
    local cot="$R/text-cot-seed$seed"
    [[ -f $cot/eval_test.json ]] || $L scripts/train.py --task text --protocol "$PROTOCOL" --method cot --init_from "$g" --seed "$seed" \
      --output_dir "$cot" > "$cot.log" 2>&1
    [[ -f $cot/sweep_test.json ]] || python scripts/evaluate.py --checkpoint "$cot" --temperatures "$TEMPS" >> "$cot.log" 2>&1
  fi
  if [[ -z ${NO_CRF:-} ]]; then
    local crf="$R/text-crf-nll-seed$seed"
    [[ -f $crf/eval_test.json ]] || $L scripts/train.py --task text --protocol "$PROTOCOL" --method crf --seed "$seed" --output_dir "$crf" > "$crf.log" 2>&1
    [[ -f $crf/eval_test_greedy.json ]] || python scripts/evaluate.py --checkpoint "$crf" --greedy --num_eval_samples 100 >> "$crf.log" 2>&1
  fi
}
export SEQGAN_NUM_THREADS=1
for seed in $SEEDS; do chain "$seed" & done
wait
# The training captions themselves, scored like the samples (score_text.py): where real data lies against MLE's curve.
read -r TRAIN_TXT TEST_TXT < <(python -c "from seqgan.data import resolve_data_file as f
print(f('coco/image_coco.txt'), f('coco/test_coco.txt'))")
[[ -f $R/data_train_captions.json ]] || python scripts/score_text.py --protocol "$PROTOCOL" --hypotheses "$TRAIN_TXT" --references "$TEST_TXT" \
  --output_file "$R/data_train_captions.json" > /dev/null
PAGE_OPTS=(); [[ -n ${PAGE:-} ]] && PAGE_OPTS=(--page "$PAGE" --title "${TITLE:-Results: COCO captions}")
python scripts/compare.py --task text --runs_dir "$R" --data_scores "$R/data_train_captions.json" --output_file "$R/compare_text.md" \
  --plot "$R/text-sweep.png" "${PAGE_OPTS[@]}"
