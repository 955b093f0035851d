#!/usr/bin/env bash
# A task's default command, this code against a previous release's, on one machine the same day (issue 36).
# Per code: the seeds after the first run first, all at once at one thread each (their times compare nothing); then
# the first seed is timed alone with both threads (`accelerate launch scripts/train.py --task <task>`, the README's
# command for pos; wall seconds of training + test evaluation in $R/<run>.seconds), one run after the other, the
# release's first, on a machine the script itself leaves idle. With --release_runs DIR, the release's runs of the
# seeds after the first are DIR/<task>-mle-seed<k> (linked, not rerun): runs the release's code already made, whose
# provenance.json names their commit; the first seed is still timed with the release's code here. The release's code
# is `git archive`d into $R/release-code and run from there (PYTHONPATH), with its task modules where it installed
# them (seqgan/tasks). Runs are named <task>-release-seed<k> and <task>-mle-seed<k>.
# Then compare.py: each code's test figures, mean ± std over its seeds; for pos also the paired bootstrap over test
# sentences of this code's runs against the release's (--baseline pos-release). Produces $R/compare_<task>_speed.md
# and $R/timing.txt. A run whose eval_test.json exists is skipped.
#
#   SEQGAN_DATA_DIR=../shared/data bash experiments/speed.sh [--task pos] [--release 9d57569] [--seeds "42 43 44"] \
#     [--release_runs DIR] [runs_dir]
#   SEQGAN_DATA_DIR=../shared/data bash experiments/speed.sh --task oracle --seeds 42 runs/oracle-speed
set -euo pipefail
cd "$(dirname "$0")/.."
TASK=pos
RELEASE=9d57569
SEEDS="42 43 44"
RELEASE_RUNS=
while [[ $# -gt 0 ]]; do
  case $1 in
    --task) TASK=$2; shift 2 ;;
    --release) RELEASE=$2; shift 2 ;;
    --seeds) SEEDS=$2; shift 2 ;;
    --release_runs) RELEASE_RUNS=$(cd "$2" && pwd); shift 2 ;;
    -*) echo "unknown option $1; usage: bash experiments/speed.sh [--task pos|text|oracle] [--release COMMIT] [--seeds \"42 43 44\"] [--release_runs DIR] [runs_dir]" >&2
        exit 2 ;;
    *) R=$1; shift ;;
  esac
done
R=${R:-runs/$TASK-speed}
mkdir -p "$R"
R=$(cd "$R" && pwd)
# The release's runs start in its own folder: a relative data path must not change meaning there.
source experiments/release_code.sh
absolute_data_dir
HERE=$(pwd)
release_code "$R/release-code" "$RELEASE"
code_of() { [[ $1 == "$TASK-release" ]] && echo "$R/release-code" || echo "$HERE"; }
train() {  # train <name> <seed> [threads]: one run of the default command with this code
  local name=$1 seed=$2 out="$R/$1-seed$2" code
  code=$(code_of "$name")
  [[ -f $out/eval_test.json ]] && return 0
  local start end
  start=$(date +%s.%N)
  (cd "$code" && PYTHONPATH="$code" SEQGAN_NUM_THREADS=${3:-} accelerate launch --num_processes 1 scripts/train.py \
    --task "$TASK" --seed "$seed" --output_dir "$out" > "$out.log" 2>&1)
  end=$(date +%s.%N)
  python -c "print(f'{$end - $start:.1f}')" > "$out.seconds"
}
first=${SEEDS%% *}
for seed in ${SEEDS#"$first"}; do
  if [[ -n $RELEASE_RUNS ]]; then
    [[ -f $RELEASE_RUNS/$TASK-mle-seed$seed/eval_test.json ]] || { echo "--release_runs: no $RELEASE_RUNS/$TASK-mle-seed$seed/eval_test.json" >&2; exit 2; }
    ln -sfn "$RELEASE_RUNS/$TASK-mle-seed$seed" "$R/$TASK-release-seed$seed"
  else
    train "$TASK-release" "$seed" 1 &
  fi
  train "$TASK-mle" "$seed" 1 &
done
wait
for name in "$TASK-release" "$TASK-mle"; do train "$name" "$first"; done  # alone, both threads: the timed pair
{
  echo "seed $first, alone on $(nproc) cores: wall seconds of training + test evaluation"
  for name in "$TASK-release" "$TASK-mle"; do echo "$name $(cat "$R/$name-seed$first.seconds")"; done
  python -c "import sys; a, b = (float(open(f).read()) for f in sys.argv[1:]); print(f'release / this code: {a / b:.2f}x')" \
    "$R/$TASK-release-seed$first.seconds" "$R/$TASK-mle-seed$first.seconds"
} | tee "$R/timing.txt"
paired=(); [[ $TASK == pos ]] && paired=(--baseline pos-release)  # the paired test over sentences is pos's
python scripts/compare.py --task "$TASK" --runs_dir "$R" "${paired[@]}" --output_file "$R/compare_${TASK}_speed.md"
