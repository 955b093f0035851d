#!/usr/bin/env bash
# fp32 against bf16 (--mixed_precision) on the default runs: oracle MLE, a REINFORCE GAN from it, and the POS tagger.
# Two runs at a time, one thread each (quality, not timing: speed figures come from scripts/benchmark.py).
# Produces runs/precision/compare_{oracle,pos}.md.
#
#   SEQGAN_DATA_DIR=../shared/data bash experiments/precision.sh
#
# Seeds: --seed 42, --data_seed 1234 (test samples of each model: seed 1336, 10,000 of them), as the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
export SEQGAN_NUM_THREADS=1
R=runs/precision
mkdir -p $R
T="python scripts/train.py"
$T --task oracle --mixed_precision no --output_dir $R/oracle-mle-fp32 > $R/oracle-mle-fp32.log 2>&1 &
$T --task oracle --mixed_precision bf16 --output_dir $R/oracle-mle-bf16 > $R/oracle-mle-bf16.log 2>&1 &
wait
$T --task pos --mixed_precision no --output_dir $R/pos-mle-fp32 > $R/pos-mle-fp32.log 2>&1 &
$T --task pos --mixed_precision bf16 --output_dir $R/pos-mle-bf16 > $R/pos-mle-bf16.log 2>&1 &
wait
G="$T --task oracle --method gan --bridge reinforce"
$G --init_from $R/oracle-mle-fp32 --mixed_precision no --output_dir $R/oracle-gan-fp32 > $R/oracle-gan-fp32.log 2>&1 &
$G --init_from $R/oracle-mle-bf16 --mixed_precision bf16 --output_dir $R/oracle-gan-bf16 > $R/oracle-gan-bf16.log 2>&1 &
wait
python scripts/compare.py --task oracle --runs_dir $R --output $R/compare_oracle.md
python scripts/compare.py --task pos --runs_dir $R --output $R/compare_pos.md
