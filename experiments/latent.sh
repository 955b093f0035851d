#!/usr/bin/env bash
# G alone from a prior (random codes, autoencoder, VAE) and the GAN in code space (ARAE) on the SeqGAN oracle and
# COCO captions, plus the autoencoder decoding fresh N(0, I) codes (the lecture's test). The HMM (D alone, pos) too.
# Produces <runs_dir>/compare_latent_<task>.md (compare.py over these runs only) for docs/results/lecture-models.md;
# PAGES=PREFIX also writes each task's generated results page, PREFIX-<task>.md (compare.py --page, with provenance).
#
#   SEQGAN_DATA_DIR=../shared/data bash experiments/latent.sh [runs_dir]
#   SEEDS="42 43 44" PAGES=docs/results/latent bash experiments/latent.sh runs/latent   # the docs' pages (3 seeds)
#   SKIP_LATENT=1 PAGES=docs/results/latent bash experiments/latent.sh runs/latent-hmm   # the HMMs alone (POS page)
#
# Seeds: --seed $SEEDS (initialisation, shuffling, codes drawn in training; default 42), --data_seed 1234 (dev/test
# oracle samples, the COCO dev split); test samples seed 1336 (10,000 of them); IWAE bounds k = 10 importance samples
# (seed 0). Run folders end in -seed<k>, which compare.py aggregates into mean ± std (n). Every (task, seed) chain
# runs in the background at once, one thread each; the HMMs (bigram and trigram, deterministic counts) run after
# them with both threads (SKIP_LATENT=1 runs only them).
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-runs/latent}
mkdir -p "$R"
L="accelerate launch --num_processes 1"
chain() {
  local task=$1 s="-seed$2"
  for m in random-code ae vae; do
    $L scripts/train.py --task "$task" --method "$m" --seed "$2" --output_dir "$R/$task-$m$s" > "$R/$task-$m$s.log" 2>&1
  done
  $L scripts/train.py --task "$task" --method latent-gan --seed "$2" --init_from "$R/$task-ae$s" \
    --output_dir "$R/$task-latent-gan$s" > "$R/$task-latent-gan$s.log" 2>&1
  python scripts/evaluate.py --checkpoint "$R/$task-ae$s" --latent_prior standard > "$R/$task-ae-prior$s.log" 2>&1
}
declare -A TITLES=([oracle]="Results: generators from a prior and ARAE on the SeqGAN oracle"
                   [text]="Results: generators from a prior and ARAE on COCO captions"
                   [pos]="Results: the HMM, the generative D alone, on UD English EWT")
compare_task() {  # the task's table, and its page when PAGES is set
  local page=(); [[ -n ${PAGES:-} ]] && page=(--page "$PAGES-$1.md" --title "${TITLES[$1]}")
  python scripts/compare.py --task "$1" --runs_dir "$R" --output_file "$R/compare_latent_$1.md" "${page[@]}"
}
export SEQGAN_NUM_THREADS=1
if [[ -z ${SKIP_LATENT:-} ]]; then
  for task in ${TASKS:-oracle text}; do for seed in ${SEEDS:-42}; do chain "$task" "$seed" & done; done
  wait
  for task in ${TASKS:-oracle text}; do compare_task "$task"; done
fi
unset SEQGAN_NUM_THREADS
$L scripts/train.py --task pos --method hmm --output_dir "$R/pos-hmm" > "$R/pos-hmm.log" 2>&1
$L scripts/train.py --task pos --method hmm --hmm_order 3 --output_dir "$R/pos-hmm-trigram" > "$R/pos-hmm-trigram.log" 2>&1
compare_task pos
