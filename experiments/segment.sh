#!/usr/bin/env bash
# Raw text in, UD out: the segment task over seeds, and the raw-text pipeline scored by the CoNLL 2018 metrics.
# Per seed on UD English EWT: G alone (the character tagger, --method mle) and D alone (the character CRF,
# --method crf), best/ by dev f1 (the mean of dev token and sentence F1 on windows). Once: the default pos tagger
# (seed 42) that the pipeline tags with. Then each segmenter + that tagger on EWT test as raw text, twice: with gold
# sentence breaks (one `# text` per line) and from the whole text as paragraphs (its own sentence splitting). Once on
# AfriBooms: a segmenter and a tagger of seed 42, raw text with gold sentence breaks, beside the tagger on gold words.
# Then compare.py: the segment rows (mean ± std over seeds, paired bootstrap over windows against G alone) and the
# raw-text table, as docs/results/segment.md (EWT, runs in runs_dir) and segment-af.md (AfriBooms, in runs_dir-af).
#
#   SEQGAN_DATA_DIR=../shared/data bash experiments/segment.sh [--seeds "42 43 44"] [runs_dir]
#
# Runs one job at a time with both cores (a pos tagger trains for about 13 minutes, a segmenter for about 8).
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS="42 43 44"
while [[ $# -gt 0 ]]; do
  case $1 in
    --seeds) SEEDS=$2; shift 2 ;;
    -*) echo "unknown option $1; usage: bash experiments/segment.sh [--seeds \"42 43 44\"] [runs_dir]" >&2; exit 2 ;;
    *) R=$1; shift ;;
  esac
done
R=${R:-runs/segment}
D=${SEQGAN_DATA_DIR:-../shared/data}
EWT=$D/ud_en_ewt/en_ewt-ud
AF=$D/ud_af_afribooms/af_afribooms-ud
AF_FILES="--train_file $AF-train.conllu --validation_file $AF-dev.conllu --test_file $AF-test.conllu"
mkdir -p "$R"
train() {  # name, options...: skip a finished run, so the script resumes after an interruption
  local name=$1; shift
  [[ -f $R/$name/eval_test.json ]] || python scripts/train.py --output_dir "$R/$name" --overwrite_output_dir "$@"
}
raw() {  # segmenter, tagger, gold file, name, options...: the pipeline on raw text, CoNLL 2018 scores
  local seg=$1 tagger=$2 gold=$3 name=$4; shift 4
  [[ -f $R/$name.json ]] || python scripts/evaluate.py --raw_text "$gold" --segmenter "$seg" --checkpoint "$tagger" \
    --output_file "$R/$name.json" --conllu_file "$R/$name.conllu" "$@"
}
FIRST=${SEEDS%% *}
train "ewt-seg-mle-seed$FIRST" --task segment --seed "$FIRST"
train ewt-pos-mle --task pos --seed 42
train "ewt-seg-crf-seed$FIRST" --task segment --method crf --seed "$FIRST"
R_AF=$R-af  # its own folder: compare.py pairs rows tested on the same windows only
mkdir -p "$R_AF"
R=$R_AF train af-seg-mle --task segment --seed 42 $AF_FILES
R=$R_AF train af-pos-mle --task pos --seed 42 $AF_FILES
for s in $SEEDS; do
  train "ewt-seg-mle-seed$s" --task segment --seed "$s"
  train "ewt-seg-crf-seed$s" --task segment --method crf --seed "$s"
done
for s in $SEEDS; do
  for m in mle crf; do
    raw "$R/ewt-seg-$m-seed$s" "$R/ewt-pos-mle" "$EWT-test.conllu" "raw-ewt-lines-$m-seed$s"
    raw "$R/ewt-seg-$m-seed$s" "$R/ewt-pos-mle" "$EWT-test.conllu" "raw-ewt-paragraphs-$m-seed$s" --paragraphs
  done
done
R=$R_AF raw "$R_AF/af-seg-mle" "$R_AF/af-pos-mle" "$AF-test.conllu" raw-af-lines-mle-42
python scripts/compare.py --task segment --runs_dir "$R" --baseline ewt-seg-mle --output_file "$R/compare_segment.md" \
  --page docs/results/segment.md --title "Results: raw text on UD English EWT (segmentation and tagging)"
python scripts/compare.py --task segment --runs_dir "$R_AF" --output_file "$R_AF/compare_segment.md" \
  --page docs/results/segment-af.md --title "Results: raw text on UD Afrikaans AfriBooms"
