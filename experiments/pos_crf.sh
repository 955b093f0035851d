#!/usr/bin/env bash
# The discriminator-only CRF baselines on UD English EWT (default: 8 epochs each), and G + D decoding
# with the CRF as D. Needs runs/pos-mle (experiments/pos.sh). Rows of runs/compare_pos.md.
#
#   SEQGAN_DATA_DIR=../shared/data bash experiments/pos_crf.sh
set -euo pipefail
cd "$(dirname "$0")/.."
C="accelerate launch --num_processes 1 scripts/train.py --task pos --method crf"
$C --crf_loss nll
$C --crf_loss perceptron
$C --crf_loss perceptron --average_weights --output_dir runs/pos-crf-perceptron-avg
$C --crf_loss hinge
$C --crf_loss gen_negatives --negatives_from runs/pos-mle
python scripts/evaluate.py --num_candidates 8 --checkpoint runs/pos-mle --rerank_with runs/pos-crf-nll \
  --output runs/pos-mle/eval_test_rerank_crf.json
python scripts/evaluate.py --num_candidates 8 --checkpoint runs/pos-mle --rerank_with runs/pos-crf-gen_negatives \
  --output runs/pos-mle/eval_test_rerank_gen.json
python scripts/compare.py --task pos --output runs/compare_pos.md
