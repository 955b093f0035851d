#!/usr/bin/env bash
# Your own data and models, end to end, as README's "Your own data" section shows them:
#  1. the POS tagger on UD Afrikaans AfriBooms with only --train_file/--validation_file/--test_file (seeds 42 43 44,
#     one after another, 2 threads: the wall times are the runs' own), against the most-frequent-tag baseline;
#  2. a tiny GPT-2-style model with its own byte-level BPE tokenizer (built here, random weights, seed 0): 200 MLE
#     steps on COCO captions, then 20 GAN rounds with each bridge from it; test BLEU-2..5 on 2,000 samples.
# Prints and writes runs/own/table.md.
#
#   SEQGAN_DATA_DIR=../shared/data bash experiments/own_data.sh [--seeds "42 43 44"]
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS="42 43 44"
if [[ "${1:-}" == "--seeds" ]]; then SEEDS="$2"; fi
D=${SEQGAN_DATA_DIR:?set SEQGAN_DATA_DIR to the shared data folder}
AF=$D/ud_af_afribooms
R=runs/own
mkdir -p $R
export SEQGAN_NUM_THREADS=2
for seed in $SEEDS; do
  /usr/bin/time -f "%e" -o $R/af-s$seed.time python scripts/train.py --task pos --seed $seed \
    --train_file $AF/af_afribooms-ud-train.conllu --validation_file $AF/af_afribooms-ud-dev.conllu \
    --test_file $AF/af_afribooms-ud-test.conllu --output_dir $R/af-s$seed --overwrite_output_dir > $R/af-s$seed.log 2>&1
done
python scripts/build_tiny_model.py --family gpt2 --train_file $D/coco/image_coco.txt --output_dir $R --seed 0
TXT="--task text --max_length 96 --num_test_samples 2000 --overwrite_output_dir"
python scripts/train.py $TXT --generator_name_or_path $R/tiny-gpt2 --max_steps 200 --eval_every 100 \
  --output_dir $R/gpt2-mle > $R/gpt2-mle.log 2>&1
for b in reinforce gumbel st-gumbel rollout dense; do
  extra=""; [[ $b == dense ]] && extra="--disc_causal"
  python scripts/train.py $TXT --method gan --bridge $b $extra --init_from $R/gpt2-mle --adv_steps 20 --gan_eval_every 10 \
    --num_rollouts 4 --output_dir $R/gpt2-gan-$b > $R/gpt2-gan-$b.log 2>&1
done
python - "$R" "$AF" "$SEEDS" <<'PY' | tee "$R/table.md"
import json, statistics, sys
from pathlib import Path
from seqgan.tasks import get_task
R, AF, seeds = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3].split()
pos = get_task("pos")
train = pos.read_conllu(AF / "af_afribooms-ud-train.conllu")
test = pos.read_conllu(AF / "af_afribooms-ud-test.conllu")
base = pos.most_frequent_tag_accuracy(train, test)
res = [json.loads((R / f"af-s{s}" / "eval_test.json").read_text()) for s in seeds]
secs = [float((R / f"af-s{s}.time").read_text().split()[-1]) for s in seeds]
def agg(v, fmt):
    return (fmt.format(statistics.mean(v)) + (f" ± {fmt.format(statistics.stdev(v))}" if len(v) > 1 else "")
            + f" (n={len(v)})")
print("| UD Afrikaans AfriBooms, test | value |\n|---|---|")
print(f"| most-frequent-tag baseline (unknown words: most frequent tag overall) | {base:.2%} |")
print(f"| seqgan tagger, UPOS accuracy (seeds {', '.join(seeds)}) | {agg([r['test/accuracy'] * 100 for r in res], '{:.2f}')} % |")
print(f"| unknown-word accuracy | {agg([r['test/unknown_word_accuracy'] * 100 for r in res], '{:.2f}')} % |")
print(f"| sentence exact match | {agg([r['test/exact_match'] * 100 for r in res], '{:.2f}')} % |")
print(f"| wall time per run (training + evaluation) | {agg([s / 60 for s in secs], '{:.1f}')} min |")
print(f"| best/ picked by dev UPOS accuracy, at step | {', '.join(str(r['best_step']) for r in res)} |")
print("\n| tiny GPT-2 + BPE (random init), COCO test, 2,000 samples | NLL/word | BLEU-2 | BLEU-3 | BLEU-4 | BLEU-5 | self-BLEU-5 |")
print("|---|---|---|---|---|---|---|")
for name in ["gpt2-mle"] + [f"gpt2-gan-{b}" for b in ("reinforce", "gumbel", "st-gumbel", "rollout", "dense")]:
    r = json.loads((R / name / "eval_test.json").read_text())
    p = "last/test/" if name != "gpt2-mle" else "test/"
    print(f"| {name} | {r[p + 'nll_per_word']:.3f} | " + " | ".join(f"{r[p + f'bleu_{n}']:.3f}" for n in (2, 3, 4, 5))
          + f" | {r[p + 'self_bleu_5']:.3f} |")
PY
