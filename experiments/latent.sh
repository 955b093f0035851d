#!/usr/bin/env bash
# G alone from a prior (random codes, autoencoder, VAE) and the GAN in code space (ARAE) on the SeqGAN oracle and
# COCO captions, plus the autoencoder decoding fresh N(0, I) codes (the lecture's test). The HMM (D alone, pos) too.
# Produces runs/compare_latent_<task>.md (compare.py over these runs only) for README's "G alone, D alone, G + D".
#
#   SEQGAN_DATA_DIR=../shared/data bash experiments/latent.sh [runs_dir]
#
# Seeds: --seed 42 (initialisation, shuffling, codes drawn in training), --data_seed 1234 (dev/test oracle samples,
# the COCO dev split); test samples seed 1336 (10,000 of them); IWAE bounds k = 10 importance samples (seed 0).
# One seed per row: a CPU budget. The two tasks run side by side, one thread each (TASKS="oracle" runs one); the
# HMMs (bigram and trigram, deterministic counts) run after them with both threads (SKIP_LATENT=1 runs only them).
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-runs/latent}
mkdir -p "$R"
L="accelerate launch --num_processes 1"
chain() {
  local task=$1
  for m in random-code ae vae; do
    $L scripts/train.py --task "$task" --method "$m" --output_dir "$R/$task-$m" > "$R/$task-$m.log" 2>&1
  done
  $L scripts/train.py --task "$task" --method latent-gan --init_from "$R/$task-ae" --output_dir "$R/$task-latent-gan" \
    > "$R/$task-latent-gan.log" 2>&1
  python scripts/evaluate.py --checkpoint "$R/$task-ae" --latent_prior standard > "$R/$task-ae-prior.log" 2>&1
  python scripts/compare.py --task "$task" --runs_dir "$R" --output "$R/compare_latent_$task.md"
}
export SEQGAN_NUM_THREADS=1
if [[ -z ${SKIP_LATENT:-} ]]; then
  for task in ${TASKS:-oracle text}; do chain "$task" & done
  wait
fi
unset SEQGAN_NUM_THREADS
$L scripts/train.py --task pos --method hmm --output_dir "$R/pos-hmm" > "$R/pos-hmm.log" 2>&1
$L scripts/train.py --task pos --method hmm --hmm_order 3 --output_dir "$R/pos-hmm-trigram" > "$R/pos-hmm-trigram.log" 2>&1
python scripts/compare.py --task pos --runs_dir "$R" --output "$R/compare_latent_pos.md"
