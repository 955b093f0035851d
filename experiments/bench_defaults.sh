#!/usr/bin/env bash
# Every default command and the peer-size rollout step, this code against a previous release's, in one run on an
# idle machine (issue 36): ratios, not seconds, compare the two, since this machine's speed varies between sessions.
#  1. scripts/benchmark.py defaults --baseline_ref RELEASE: the pos, text and oracle MLE runs, a GAN run per bridge
#     from the oracle run, and the temperature sweep, each capped at --steps optimiser steps (GAN: adversarial rounds
#     and D pre-training steps), its dev and test evaluation included; each command from this code, then from the
#     release's, one after the other. Writes $R/defaults.json and $R/defaults.md.
#  2. scripts/benchmark.py peer from each code (the release's `git archive`d into $R/release-code): the SeqGAN G step
#     with TextGAN-PyTorch's generator size (issue 17's configuration), fp32 and bf16, default and causal D. Writes
#     $R/peer-this.json, $R/peer-release.json and $R/peer.md (seconds per G step and release / this code).
#
#   SEQGAN_DATA_DIR=../shared/data bash experiments/bench_defaults.sh [--release a97fb7b] [--steps 20] [runs_dir]
#   SEQGAN_DATA_DIR=../shared/data bash experiments/bench_defaults.sh --commands oracle,gan-dense,sweep runs/bench-some
#       # a subset of the commands (gan-* and sweep start from the oracle run, so they need oracle)
#
# Both threads (SEQGAN_NUM_THREADS=2): run it alone, on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
RELEASE=a97fb7b  # 0.3.0
STEPS=20
COMMANDS=all
while [[ $# -gt 0 ]]; do
  case $1 in
    --release) RELEASE=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    --commands) COMMANDS=$2; shift 2 ;;
    -*) echo "unknown option $1; usage: bash experiments/bench_defaults.sh [--release COMMIT] [--steps N] [--commands LIST]" \
          "[runs_dir]" >&2
        exit 2 ;;
    *) R=$1; shift ;;
  esac
done
R=${R:-runs/bench-defaults}
mkdir -p "$R"
R=$(cd "$R" && pwd)
export SEQGAN_NUM_THREADS=2
source experiments/release_code.sh
absolute_data_dir  # the release's peer step starts in its own folder
[[ -f $R/defaults.json ]] || python scripts/benchmark.py defaults --baseline_ref "$RELEASE" --default_steps "$STEPS" \
  --default_commands "$COMMANDS" --output_file "$R/defaults.json" 2>&1 | tee "$R/defaults.log"
release_code "$R/release-code" "$RELEASE"
[[ -f $R/peer-this.json ]] || python scripts/benchmark.py peer --output_file "$R/peer-this.json" 2>&1 \
  | tee "$R/peer-this.log"
# 0.3.0's benchmark.py names its report --output (this code still accepts it, with a warning)
[[ -f $R/peer-release.json ]] || (cd "$R/release-code" && PYTHONPATH=. python scripts/benchmark.py peer \
  --output "$R/peer-release.json") 2>&1 | tee "$R/peer-release.log"
python - "$R" "$RELEASE" <<'PY' | tee "$R/peer.md"
import json, sys
from pathlib import Path
r, release = Path(sys.argv[1]), sys.argv[2]
this, base = (json.loads((r / f"peer-{c}.json").read_text())["sections"]["peer"] for c in ("this", "release"))
print(f"| peer-size rollout G step (64 x 20, 16 rollouts) | this code | {release} | {release} / this code |")
print("|---|---|---|---|")
for key in sorted(k for k in this if k.endswith("_g_step_seconds")):
    print(f"| {key.removesuffix('_g_step_seconds').replace('no_', 'fp32 ').replace('bf16_', 'bf16 ')} "
          f"| {this[key]:.2f} s | {base[key]:.2f} s | {base[key] / this[key]:.2f} |")
PY
