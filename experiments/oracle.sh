#!/usr/bin/env bash
# The SeqGAN oracle benchmark: MLE, then each bridge fine-tuning the MLE generator, then a
# temperature sweep of MLE against the GAN runs. Produces README's oracle table and plot.
#
#   SEQGAN_DATA_DIR=../shared/data bash experiments/oracle.sh          # all of it (about 1.5 h on 2 CPU cores)
#   SKIP_MLE=1 bash experiments/oracle.sh                             # reuse runs/oracle-mle
#
# Seeds: --seed 42 (training), --data_seed 1234 (dev/test oracle samples; test samples seed 1336).
set -euo pipefail
cd "$(dirname "$0")/.."
L="accelerate launch --num_processes 1"
[[ -n ${SKIP_MLE:-} ]] || $L scripts/train.py --task oracle
G="$L scripts/train.py --task oracle --method gan --init_from runs/oracle-mle"
$G --bridge reinforce
$G --bridge dense --disc_causal
$G --bridge gumbel --gan_loss rsgan
$G --bridge st-gumbel --gan_loss rsgan
# Rollouts cost ~8 decoder passes per sampled sequence: fewer, larger steps for the same CPU budget.
$G --bridge rollout --num_rollouts 8 --adv_steps 60 --gan_eval_every 5
python scripts/evaluate.py --split test --temperatures 0.7,0.8,0.85,0.9,0.95,1.0,1.1 \
  --checkpoint runs/oracle-mle --checkpoint runs/oracle-gan-reinforce --checkpoint runs/oracle-gan-dense \
  --checkpoint runs/oracle-gan-gumbel --checkpoint runs/oracle-gan-st-gumbel --checkpoint runs/oracle-gan-rollout \
  --output runs/oracle-sweep
