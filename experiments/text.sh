#!/usr/bin/env bash
# COCO captions: G alone (MLE), GAN fine-tuning (REINFORCE, and RelGAN-style Gumbel with RSGAN),
# D alone (bigram energy model: samples and its Viterbi sentence), and a quality-diversity sweep.
# Produces runs/compare_text.md and runs/text-sweep.png.
#
#   SEQGAN_DATA_DIR=../shared/data bash experiments/text.sh
#
# Seeds: --seed 42, --data_seed 1234 (dev split carved from image_coco.txt; test samples seed 1336,
# 10,000 samples against all 10,000 test captions).
set -euo pipefail
cd "$(dirname "$0")/.."
L="accelerate launch --num_processes 1"
[[ -n ${SKIP_MLE:-} ]] || $L scripts/train.py --task text
G="$L scripts/train.py --task text --method gan --init_from runs/text-mle"
$G --bridge reinforce
$G --bridge gumbel --gan_loss rsgan
# The earlier defaults (G learning rate 1e-4, no MLE term): REINFORCE degrades, Gumbel collapses.
$G --bridge reinforce --g_learning_rate 1e-4 --mle_weight 0 --output_dir runs/text-gan-reinforce-nomle
$G --bridge gumbel --gan_loss rsgan --g_learning_rate 1e-4 --mle_weight 0 --output_dir runs/text-gan-gumbel-nomle
$L scripts/train.py --task text --method crf
python scripts/evaluate.py --checkpoint runs/text-crf-nll --greedy --num_eval_samples 100
python scripts/evaluate.py --checkpoint runs/text-mle --greedy --num_eval_samples 100
python scripts/evaluate.py --split test --temperatures 0.7,0.8,0.9,1.0,1.1 \
  --checkpoint runs/text-mle --checkpoint runs/text-gan-reinforce --checkpoint runs/text-gan-gumbel \
  --output runs/text-sweep
python scripts/compare.py --task text --output runs/compare_text.md
