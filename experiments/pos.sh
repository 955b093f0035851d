#!/usr/bin/env bash
# POS tagging on UD English EWT over seeds. Per seed: G alone (the MLE tagger with the task's defaults, best/ by dev
# UPOS), D alone (CRFs sharing its encoder, one per loss in CRF_LOSSES, Viterbi-decoded), the GAN fine-tuning that
# seed's tagger (BRIDGES) beside their control (G trained on by MLE for as many steps), and G + D: the tagger's
# greedy output + 8 samples reranked by each of that seed's CRFs (and the REINFORCE GAN's D), once by D's score
# alone and once as a product of experts, log p_G + λ·s_D with λ picked from LAMBDAS by dev UPOS; with the GAN's D
# also by SIR (1 of 8 samples drawn ∝ exp(λ·d), λ picked alike).
# Once: the HMM (counting; no seed enters it). Then compare.py: mean ± std over seeds, and a paired bootstrap over
# test sentences of every row against the MLE tagger. Produces $R/compare_pos.md.
#
#   SEQGAN_DATA_DIR=../shared/data bash experiments/pos.sh [--seeds "42 43 44"] [runs_dir]
#   CRF_LOSSES=nll BRIDGES= bash experiments/pos.sh --seeds "42 43 44" runs/pos   # MLE, the likelihood CRF, HMM
#   CRF_LOSSES=nll BRIDGES= PAGE=docs/results/pos-ewt.md TITLE="Results: POS tagging on UD English EWT" \
#     bash experiments/pos.sh runs/pos   # the same, and its generated results page (compare.py --page)
#   CRF_LOSSES=nll BRIDGES=reinforce bash experiments/pos.sh --max_train_samples 1000 runs/pos-1k   # low resource
#   CRF_LOSSES=nll BRIDGES=reinforce TRAIN_OPTS="--min_steps 6000 --eval_every 200 --early_stopping_patience 5" \
#     PAGE=docs/results/pos-1k-long.md \
#     TITLE="Results: POS tagging on the first 1,000 EWT training sentences, trained until dev stops improving" \
#     bash experiments/pos.sh --max_train_samples 1000 runs/pos-1k-long   # low resource, early-stopped on dev UPOS
#   CRF_LOSSES= BRIDGES="reinforce gumbel" bash experiments/pos.sh --seeds "42 43 44" runs/pos-gan   # the GANs, G + D by their D
#
# CRF_LOSSES (default "nll hinge perceptron"; also perceptron-avg, gen_negatives), BRIDGES (default "reinforce gumbel";
# empty: no GAN), LAMBDAS (default 0,0.25,0.5,1,2,4,inf), TRAIN_OPTS (options added to the MLE and CRF runs, e.g. a
# longer schedule; default none), PAGE and TITLE (a results page compare.py writes from the runs, with provenance).
# --max_train_samples N trains every model on the first N training sentences (dev and test unchanged). Seeds: --seed <each of --seeds> (initialisation, shuffling,
# dropout), --data_seed 1234 (G + D's candidates are sampled with seed 1234 too). Every seed's chain runs in the
# background at once, one thread each (SEQGAN_NUM_THREADS=1): on 2 cores, times are indicative only; README's
# timing of the default command is its own run.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS="42 43 44"
SUBSET=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --seeds) SEEDS=$2; shift 2 ;;
    --max_train_samples) SUBSET="--max_train_samples $2"; shift 2 ;;
    -*) echo "unknown option $1; usage: bash experiments/pos.sh [--seeds \"42 43 44\"] [--max_train_samples N] [runs_dir]" >&2
        exit 2 ;;
    *) R=$1; shift ;;
  esac
done
R=${R:-runs}
CRF_LOSSES=${CRF_LOSSES-nll hinge perceptron}
BRIDGES=${BRIDGES-reinforce gumbel}
LAMBDAS=${LAMBDAS-0,0.25,0.5,1,2,4,inf}
TRAIN_OPTS=${TRAIN_OPTS-}
declare -A CRF_OPTS=(
  [nll]="--crf_loss nll"
  [hinge]="--crf_loss hinge"
  [perceptron]="--crf_loss perceptron"
  # The averaged perceptron's neural analogue: an exponential moving average of the weights, evaluated in their place.
  [perceptron-avg]="--crf_loss perceptron --average_weights"
  [gen_negatives]="--crf_loss gen_negatives"  # G supplies D's negatives: 8 samples per sentence of --negatives_from
)
declare -A BRIDGE_OPTS=([reinforce]="--bridge reinforce" [gumbel]="--bridge gumbel --gan_loss rsgan")
mkdir -p "$R"
L="accelerate launch --num_processes 1"
# The GANs' rounds and G learning rate, read from tasks/pos.py (DEFAULTS["gan"]) for their MLE control below.
read -r ADV_STEPS G_LR < <(python -c "from seqgan.tasks import defaults; d = defaults('pos', 'gan')
print(d['adv_steps'], d['g_learning_rate'])")
rerank() {  # G + D: the MLE tagger's greedy output and 8 samples, the one D scores highest; then log p_G + λ·s_D
  local g=$1 d=$2 sir=${3:-} name
  name=$(basename "$d")
  local E=(python scripts/evaluate.py --num_candidates 8 --checkpoint "$g" --rerank_with "$d")
  [[ -f $g/eval_test_rerank_$name.json ]] || "${E[@]}" --output_file "$g/eval_test_rerank_$name.json"
  [[ -f $g/eval_test_rerank-poe_$name.json ]] || "${E[@]}" --rerank_lambda "$LAMBDAS" --output_file "$g/eval_test_rerank-poe_$name.json"
  [[ -z $sir || -f $g/eval_test_rerank-sir_$name.json ]] || "${E[@]}" --rerank_method sir --rerank_lambda "$LAMBDAS" \
    --output_file "$g/eval_test_rerank-sir_$name.json"
  return 0
}
chain() {
  local seed=$1 g="$R/pos-mle-seed$1"
  # shellcheck disable=SC2086  # $SUBSET, $TRAIN_OPTS: options and their values, or nothing
  [[ -f $g/eval_test.json ]] || $L scripts/train.py --task pos $SUBSET $TRAIN_OPTS --seed "$seed" --output_dir "$g" \
    > "$g.log" 2>&1
  for c in $CRF_LOSSES; do
    local crf="$R/pos-crf-$c-seed$seed" extra=""
    [[ $c == gen_negatives ]] && extra="--negatives_from $g"
    # shellcheck disable=SC2086  # option lists
    [[ -f $crf/eval_test.json ]] || $L scripts/train.py --task pos $SUBSET $TRAIN_OPTS --method crf ${CRF_OPTS[$c]} $extra \
      --seed "$seed" --output_dir "$crf" > "$crf.log" 2>&1
    rerank "$g" "$crf" >> "$crf.log" 2>&1
  done
  # The GANs' control: the same G trained on for the GANs' rounds by their MLE term alone (AdamW at the GANs'
  # constant G learning rate, dev checked every 50 steps), so that a GAN's gain over G can be told from more MLE.
  local more="$R/pos-mle-more-seed$seed"
  # shellcheck disable=SC2086
  [[ -z $BRIDGES || -f $more/eval_test.json ]] || $L scripts/train.py --task pos $SUBSET --generator_name_or_path "$g" \
    --max_steps "$ADV_STEPS" --min_steps 0 --learning_rate "$G_LR" --lr_scheduler constant --warmup_ratio 0 --average_weights false \
    --eval_every 50 --seed "$seed" --output_dir "$more" > "$more.log" 2>&1
  for b in $BRIDGES; do
    local out="$R/pos-gan-$b-seed$seed"
    # shellcheck disable=SC2086
    [[ -f $out/eval_test.json ]] || $L scripts/train.py --task pos $SUBSET --method gan --init_from "$g" ${BRIDGE_OPTS[$b]} \
      --seed "$seed" --output_dir "$out" > "$out.log" 2>&1
  done
  [[ " $BRIDGES " == *" reinforce "* ]] && rerank "$g" "$R/pos-gan-reinforce-seed$seed" sir >> "$g.log" 2>&1
  return 0
}
export SEQGAN_NUM_THREADS=1
pids=()
for seed in $SEEDS; do chain "$seed" & pids+=($!); done
# shellcheck disable=SC2086
[[ -f $R/pos-hmm/eval_test.json ]] || $L scripts/train.py --task pos $SUBSET --method hmm --output_dir "$R/pos-hmm" \
  > "$R/pos-hmm.log" 2>&1
for p in "${pids[@]}"; do wait "$p" || { echo "a seed's chain failed: see the logs in $R" >&2; exit 1; }; done
PAGE_OPTS=(); [[ -n ${PAGE:-} ]] && PAGE_OPTS=(--page "$PAGE" --title "${TITLE:-Results: POS tagging}")
python scripts/compare.py --task pos --runs_dir "$R" --baseline pos-mle --output_file "$R/compare_pos.md" "${PAGE_OPTS[@]}"
