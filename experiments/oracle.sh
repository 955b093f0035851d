#!/usr/bin/env bash
# The SeqGAN oracle benchmark: G alone (MLE), each GAN bridge fine-tuning the MLE generator, D alone
# (the bigram energy model, by sampling and by Viterbi), and a temperature sweep of them all.
# Produces README's oracle table (runs/compare_oracle.md) and plot (runs/oracle-sweep.png).
#
#   SEQGAN_DATA_DIR=../shared/data bash experiments/oracle.sh
#
# Seeds: --seed 42 (training, sampling during training), --data_seed 1234 (dev/test oracle samples;
# test samples of each model use seed 1336, 10,000 of them).
set -euo pipefail
cd "$(dirname "$0")/.."
L="accelerate launch --num_processes 1"
[[ -n ${SKIP_MLE:-} ]] || $L scripts/train.py --task oracle
G="$L scripts/train.py --task oracle --method gan --init_from runs/oracle-mle"
$G --bridge reinforce
$G --bridge dense --disc_causal
$G --bridge gumbel --gan_loss rsgan
$G --bridge st-gumbel --gan_loss rsgan
# Rollouts cost ~10 decoder steps per sampled token: fewer, richer steps for the same CPU budget.
$G --bridge rollout --num_rollouts 8 --adv_steps 60 --gan_eval_every 5
$L scripts/train.py --task oracle --method crf
python scripts/evaluate.py --checkpoint runs/oracle-crf-nll --greedy
python scripts/evaluate.py --checkpoint runs/oracle-mle --greedy
# MLE's temperature curve against the two bridges that moved NLL_oracle most (each eval: 10,000 samples).
python scripts/evaluate.py --split test --temperatures 0.8,0.85,0.9,0.95,1.0,1.1 \
  --checkpoint runs/oracle-mle --checkpoint runs/oracle-gan-reinforce --checkpoint runs/oracle-gan-gumbel \
  --output runs/oracle-sweep
python scripts/compare.py --task oracle --output runs/compare_oracle.md
