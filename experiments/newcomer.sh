#!/usr/bin/env bash
# README's quick start as a newcomer runs it: a fresh virtual environment, the install, then every quick-start
# command in README's order, each timed (wall seconds). Run it in a clean clone on an idle machine; it writes
# $R/times.tsv (step, seconds, command) and $R/times.md (the table README's quick start quotes), and keeps every
# command's output in $R/<step>.log. The runs land where README's commands put them (runs/pos-mle, runs/text-mle).
#
#   git clone <seqgan> /tmp/nc && cd /tmp/nc && SEQGAN_DATA_DIR=../shared/data bash experiments/newcomer.sh runs/newcomer
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-runs/newcomer}
: "${SEQGAN_DATA_DIR:?set SEQGAN_DATA_DIR to the data folder (../shared/data on the project machines)}"
export SEQGAN_DATA_DIR
D=$SEQGAN_DATA_DIR
if [[ -e runs/pos-mle || -e runs/text-mle ]]; then
  echo "runs/pos-mle or runs/text-mle exists: run this in a clean clone (it times the commands from nothing)" >&2
  exit 1
fi
mkdir -p "$R"
printf 'step\tseconds\tcommand\n' > "$R/times.tsv"
step() {  # step NAME COMMAND...: run, time, log; stop on the first failure
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  if ! bash -c "$*" > "$R/$name.log" 2>&1; then
    echo "step $name failed: $* (log: $R/$name.log)" >&2
    tail -20 "$R/$name.log" >&2
    exit 1
  fi
  t1=$(date +%s.%N)
  printf '%s\t%.0f\t%s\n' "$name" "$(echo "$t1 - $t0" | bc)" "$*" | tee -a "$R/times.tsv"
}
python3 -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
# The README's quick-start commands, in its order (README.md, "Quick start, step by step").
step install 'pip install --quiet -e . -c constraints-cpu.txt'
step train-pos 'accelerate launch scripts/train.py --task pos'
step evaluate-pos 'seqgan-evaluate --checkpoint runs/pos-mle --split dev'
grep '^# text = ' "$D/ud_en_ewt/en_ewt-ud-test.conllu" | sed 's/^# text = //' > "$R/sentences.txt"
step tag-file "seqgan-generate --checkpoint runs/pos-mle --input_file $R/sentences.txt --output_file $R/tagged.conllu"
step train-text 'accelerate launch scripts/train.py --task text'
step sample-text "seqgan-generate --checkpoint runs/text-mle --num_samples 1000 --temperature 0.9 --output_file $R/samples.txt"
step score-text "seqgan-score-text --hypotheses $R/samples.txt --references $D/coco/test_coco.txt --train $D/coco/image_coco.txt --output_file $R/scores.json"
step push-dry-run 'seqgan-push-to-hub --checkpoint runs/pos-mle --hub_model_id you/seqgan-pos-tagger --dry_run'
{
  echo "| step | wall time | command |"
  echo "|---|---|---|"
  tail -n +2 "$R/times.tsv" | while IFS=$'\t' read -r name secs cmd; do
    printf '| %s | %d min %02d s | `%s` |\n' "$name" $((secs / 60)) $((secs % 60)) "$cmd"
  done
  echo
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); commit $(git rev-parse --short HEAD)"
} > "$R/times.md"
cat "$R/times.md"
