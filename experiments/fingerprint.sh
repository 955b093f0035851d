#!/usr/bin/env bash
# Fingerprints of a 30-step run of each task's default (one thread): the sha256 of best/'s generator weights and of
# its eval_test.json without the wall-time keys. A change that must not change behaviour (a refactor) leaves every
# line identical: run this before and after, on the two commits, and diff the outputs.
#
#   SEQGAN_DATA_DIR=../shared/data bash experiments/fingerprint.sh [runs_dir] > fingerprints.txt
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-runs/fingerprint}
mkdir -p "$R"
export SEQGAN_NUM_THREADS=1
for task in pos text oracle segment; do
  out="$R/$task"
  rm -rf "$out"
  python scripts/train.py --task "$task" --max_steps 30 --output_dir "$out" > "$out.log" 2>&1
  weights=$(sha256sum "$out/best/generator/model.safetensors" | cut -c1-16)
  metrics=$(python -c "import json, hashlib, sys
d = json.load(open(sys.argv[1]))
d = {k: v for k, v in d.items() if not k.endswith('time_s') and k not in ('checkpoint',)}
print(hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16], d.get('test/nll', d.get('test/accuracy')))" "$out/eval_test.json")
  echo "$task weights=$weights metrics=$metrics"
done
