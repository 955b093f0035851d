#!/usr/bin/env bash
# POS tagging on UD English EWT: G alone (MLE tagger), D alone (CRF with Viterbi, four ways to get
# negatives), the GAN fine-tuning the tagger, and G + D decoding. Produces runs/compare_pos.md.
#
#   SEQGAN_DATA_DIR=../shared/data bash experiments/pos.sh
#
# Seeds: --seed 42, --data_seed 1234 (G + D candidates are sampled with seed 1234 too).
set -euo pipefail
cd "$(dirname "$0")/.."
L="accelerate launch --num_processes 1"
[[ -n ${SKIP_MLE:-} ]] || $L scripts/train.py --task pos
C="$L scripts/train.py --task pos --method crf"
$C --crf_loss nll
$C --crf_loss perceptron
$C --crf_loss perceptron --crf_average --output_dir runs/pos-crf-perceptron-avg
$C --crf_loss hinge
$C --crf_loss gen_negatives --negatives_from runs/pos-mle
G="$L scripts/train.py --task pos --method gan --init_from runs/pos-mle"
$G --bridge reinforce
$G --bridge gumbel --gan_loss rsgan
E="python scripts/evaluate.py --num_candidates 8"
$E --checkpoint runs/pos-mle --rerank_with runs/pos-crf-nll --output runs/pos-mle/eval_test_rerank_crf.json
$E --checkpoint runs/pos-mle --rerank_with runs/pos-gan-reinforce --output runs/pos-mle/eval_test_rerank_gand.json
python scripts/compare.py --task pos --output runs/compare_pos.md
