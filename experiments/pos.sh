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
bash experiments/pos_crf.sh   # the CRF baselines (D alone) and G + D with the CRF
G="$L scripts/train.py --task pos --method gan --init_from runs/pos-mle"
$G --bridge reinforce
$G --bridge gumbel --gan_loss rsgan
python scripts/evaluate.py --num_candidates 8 --checkpoint runs/pos-mle --rerank_with runs/pos-gan-reinforce \
  --output runs/pos-mle/eval_test_rerank_gand.json
python scripts/compare.py --task pos --output runs/compare_pos.md
