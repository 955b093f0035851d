#!/usr/bin/env bash
# Raw text in, UD out: the segment task over seeds, and the raw-text pipeline scored by the CoNLL 2018 metrics.
# Per seed on UD English EWT: G alone (the character tagger, --method mle) and D alone (the character CRF,
# --method crf), best/ by dev f1 (the mean of dev token and sentence F1 on windows). Once: the default pos tagger
# (seed 42) that the pipeline tags with. Then each segmenter + that tagger on EWT test as raw text, twice: with gold
# sentence breaks (one `# text` per line) and from the whole text as paragraphs (its own sentence splitting). On
# AfriBooms: a G segmenter per seed and one tagger (seed 42), raw text with gold sentence breaks, beside the tagger on
# gold words.
# G + D per seed: G's candidates (greedy + 8 samples) reranked by log p_G + λ·(the CRF of the same seed), λ tuned
# on dev f1 (evaluate.py --rerank_with). A timed run: the whole EWT text (train, dev, test; about 1 MB) as paragraphs,
# through the seed-42 G segmenter and the tagger (generate.py), its wall time and sentences per second in
# runs_dir/timed-1mb.json. The peer: UDPipe 1's tokenizer trained on the same file, tagged by the same run
# (experiments/udpipe_peer.sh; when ufal.udpipe is installed). Then compare.py: the segment rows (mean ± std over
# seeds, paired bootstrap over windows against G alone) and the raw-text table, as docs/results/segment.md (EWT, runs
# in runs_dir) and segment-af.md (AfriBooms, in runs_dir-af). An ablation: each EWT G segmenter with its multiword-token
# expansions' suffix habit taken out (runs_dir-nohabit), on EWT test with gold sentence breaks, the
# `ewt-seg-mle-nohabit` row, and both on EWT dev (the en_ewt-ud-dev.conllu rows): dev Words F1 decides whether the
# habit stays. Likewise each EWT G segmenter without its chunk lexicon (runs_dir-nolexicon; the training file's own
# segmentation of each whitespace-delimited chunk it holds, fitted in training and, for segmenters trained before it
# existed, here from the same file), and with the lexicon but without its habit for unseen hyphenated chunks
# (runs_dir-noprefix), on test and dev. With POS_RUNS (a folder of `CRF_LOSSES=nll BRIDGES=
# experiments/pos.sh` runs), G + D tagging too: per seed, the G segmenter with that seed's pos tagger
# (pos-mle-seedS), alone and with its candidates reranked by that seed's CRF (pos-crf-nll-seedS) at the λ pos.sh's
# dev tuning picked, on EWT test as lines and as paragraphs.
#
#   POS_RUNS=runs/pos SEQGAN_DATA_DIR=../shared/data bash experiments/segment.sh --treebanks ewt runs/segment
#
#   SEQGAN_DATA_DIR=../shared/data bash experiments/segment.sh [--seeds "42 43 44"] [--methods "mle crf"] \
#       [--treebanks "ewt af"] [runs_dir]
#
# --methods mle leaves D alone (the CRF) and the G + D rerank out: G's rows, the pipeline and the peer only.
# --treebanks af runs (and regenerates the page of) AfriBooms alone; --treebanks ewt, EWT alone.
# Runs one job at a time with both cores: a pos tagger trains for about 8 minutes, a G segmenter (20 epochs) for
# about 27 (seed 42, 4f2dc84, alone on the idle 2-core machine). Two segmenters at once, one thread each, took 43
# minutes each (seeds 42 and 44, b8faaf0); a CRF segmenter (D alone) about a third of G's time. An AfriBooms
# segmenter: 13 minutes two at once with one thread each, 8 alone with two (a4f1af7 and 0adce7e, Intel Xeon).
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS="42 43 44"
METHODS="mle crf"
TREEBANKS="ewt af"
POS_RUNS=${POS_RUNS:-}
USAGE='usage: bash experiments/segment.sh [--seeds "42 43 44"] [--methods "mle crf"] [--treebanks "ewt af"] [runs_dir]'
while [[ $# -gt 0 ]]; do
  case $1 in
    --seeds) SEEDS=$2; shift 2 ;;
    --methods) METHODS=$2; shift 2 ;;
    --treebanks) TREEBANKS=$2; shift 2 ;;
    -*) echo "unknown option $1; $USAGE" >&2; exit 2 ;;
    *) R=$1; shift ;;
  esac
done
for m in $METHODS; do  # G alone is always run: the timed run and G + D use it
  [[ $m == mle || $m == crf ]] || { echo "--methods: unknown method $m; use \"mle\" or \"mle crf\"." >&2; exit 2; }
done
[[ " $METHODS " == *" mle "* ]] || {
  echo "--methods must include mle (G alone): try --methods \"mle crf\"." >&2; exit 2; }
CRF=false; [[ " $METHODS " == *" crf "* ]] && CRF=true  # D alone (and so G + D) asked for
EWT_ON=false; AF_ON=false
for t in $TREEBANKS; do
  case $t in
    ewt) EWT_ON=true ;;
    af) AF_ON=true ;;
    *) echo "--treebanks: unknown treebank $t; use \"ewt\", \"af\" or \"ewt af\"." >&2; exit 2 ;;
  esac
done
$EWT_ON || $AF_ON || { echo "--treebanks is empty; use \"ewt af\"." >&2; exit 2; }
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
R_AF=$R-af  # its own folder: compare.py pairs rows tested on the same windows only
if $AF_ON; then  # AfriBooms first: its runs take minutes
  mkdir -p "$R_AF"
  for s in $SEEDS; do R=$R_AF train "af-seg-mle-seed$s" --task segment --seed "$s" $AF_FILES; done
  R=$R_AF train af-pos-mle --task pos --seed 42 $AF_FILES
  for s in $SEEDS; do
    R=$R_AF raw "$R_AF/af-seg-mle-seed$s" "$R_AF/af-pos-mle" "$AF-test.conllu" "raw-af-lines-mle-seed$s"
  done
  python scripts/compare.py --task segment --runs_dir "$R_AF" --output_file "$R_AF/compare_segment.md" \
    --page docs/results/segment-af.md --title "Results: raw text on UD Afrikaans AfriBooms"
fi
$EWT_ON || exit 0
train "ewt-seg-mle-seed$FIRST" --task segment --seed "$FIRST"
train ewt-pos-mle --task pos --seed 42
if $CRF; then train "ewt-seg-crf-seed$FIRST" --task segment --method crf --seed "$FIRST"; fi
for s in $SEEDS; do
  train "ewt-seg-mle-seed$s" --task segment --seed "$s"
  if $CRF; then train "ewt-seg-crf-seed$s" --task segment --method crf --seed "$s"; fi
done
for s in $SEEDS; do  # segmenters trained before the chunk lexicon (or its current form) get it as training fits it
  for m in $METHODS; do
    python - "$R/ewt-seg-$m-seed$s" "$EWT-train.conllu" <<'PY'
import json, sys
from pathlib import Path
from seqgan.conllu import read_treebank
from seqgan.segmentation import ChunkLexicon, windows
run, train = Path(sys.argv[1]), sys.argv[2]
config = run / "best" / "generator" / "config.json"
c = json.loads(config.read_text())
max_chars = json.loads((run / "args.json").read_text())["max_length"]
fitted = ChunkLexicon.fit(windows(read_treebank(train), max_chars)).to_dict()
if c.get("chunks") != fitted:
    c["chunks"] = fitted
    config.write_text(json.dumps(c, indent=2))
    print(f"{config}: chunk lexicon of {len(fitted['table'])} chunks and {len(fitted['prefixes'])} hyphen habits "
          f"from {train}")
PY
  done
done
ablation() {  # name, a Python statement on a config c: each G segmenter so changed (a copy of its best/ in
  # R-name, outside R: compare.py reads every run folder in R as a row), on EWT test and dev (dev: what keeps it)
  local name=$1 change=$2 s abl
  for s in $SEEDS; do
    abl=$R-$name/ewt-seg-mle-$name-seed$s
    [[ -f $R/raw-ewt-lines-mle-$name-seed$s.json && -f $R/raw-ewtdev-lines-mle-$name-seed$s.json ]] && continue
    python - "$R/ewt-seg-mle-seed$s" "$abl" "$change" <<'PY'
import json, shutil, sys
from pathlib import Path
from seqgan.segmentation import ChunkLexicon, MwtExpander  # noqa: F401 (the statements below use them)
run, out, change = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
shutil.rmtree(out, ignore_errors=True)
shutil.copytree(run / "best", out / "best")
shutil.copy(run / "args.json", out / "args.json")
config = out / "best" / "generator" / "config.json"
c = json.loads(config.read_text())
exec(change)
config.write_text(json.dumps(c, indent=2))
PY
    raw "$abl" "$R/ewt-pos-mle" "$EWT-test.conllu" "raw-ewt-lines-mle-$name-seed$s"
    raw "$abl" "$R/ewt-pos-mle" "$EWT-dev.conllu" "raw-ewtdev-lines-mle-$name-seed$s"
  done
}
for s in $SEEDS; do
  for m in $METHODS; do
    raw "$R/ewt-seg-$m-seed$s" "$R/ewt-pos-mle" "$EWT-test.conllu" "raw-ewt-lines-$m-seed$s"
    raw "$R/ewt-seg-$m-seed$s" "$R/ewt-pos-mle" "$EWT-test.conllu" "raw-ewt-paragraphs-$m-seed$s" --paragraphs
  done
done
for s in $SEEDS; do  # each G segmenter on dev: the figure the ablations below are weighed against
  raw "$R/ewt-seg-mle-seed$s" "$R/ewt-pos-mle" "$EWT-dev.conllu" "raw-ewtdev-lines-mle-seed$s"
done
# without the suffix habit (MwtExpander.without_suffix_habit); without the chunk lexicon (ChunkLexicon); with the
# lexicon but without its habit for unseen hyphenated chunks (ChunkLexicon.prefixes)
ablation nohabit 'c["mwt"] = MwtExpander.from_dict(c["mwt"]).without_suffix_habit().to_dict()'
ablation nolexicon 'c.pop("chunks", None)'
ablation noprefix 'c["chunks"] = ChunkLexicon.from_dict(c["chunks"]).without_prefixes().to_dict()'
for s in $SEEDS; do  # G + D: rerank G's candidates by the CRF (a λ list is tuned on dev)
  $CRF || break
  [[ -f $R/ewt-seg-mle-seed$s/eval_test_rerank-poe.json ]] || python scripts/evaluate.py --split test \
    --checkpoint "$R/ewt-seg-mle-seed$s" --rerank_with "$R/ewt-seg-crf-seed$s" --rerank_lambda 0,0.25,0.5,1,2,4,inf
done
for s in $SEEDS; do  # G + D tagging: each seed's tagger and CRF from experiments/pos.sh, λ as its dev picked it
  [[ -n $POS_RUNS ]] || break
  g=$POS_RUNS/pos-mle-seed$s crf=$POS_RUNS/pos-crf-nll-seed$s
  picked=$g/eval_test_rerank-poe_pos-crf-nll-seed$s.json  # pos.sh's rerank: λ tuned on dev UPOS (gold words)
  [[ -f $picked ]] || { echo "POS_RUNS=$POS_RUNS: no $picked; run experiments/pos.sh there first." >&2; exit 1; }
  lam=$(python -c "import json, sys; print(json.load(open(sys.argv[1]))['test/rerank_lambda'])" "$picked")
  for input in lines paragraphs; do
    opt=(); [[ $input == paragraphs ]] && opt=(--paragraphs)
    raw "$R/ewt-seg-mle-seed$s" "$g" "$EWT-test.conllu" "raw-ewt-$input-mle-tagger-seed$s" "${opt[@]}"
    raw "$R/ewt-seg-mle-seed$s" "$g" "$EWT-test.conllu" "raw-ewt-$input-mle-tagger-rerank-seed$s" "${opt[@]}" \
      --rerank_with "$crf" --rerank_lambda "$lam"
  done
done
if [[ ! -f $R/timed-1mb.json ]]; then  # the timed run: about 1 MB of raw text, tagged end to end
  python - "$EWT" "$R/timed-1mb.txt" <<'PY'
import sys
from seqgan.conllu import read_treebank, treebank_text
prefix, out = sys.argv[1], sys.argv[2]
text = "\n\n".join(treebank_text(read_treebank(f"{prefix}-{s}.conllu"), paragraphs=True).strip("\n")
                   for s in ("train", "dev", "test")) + "\n"
open(out, "w", encoding="utf-8").write(text)
PY
  start=$(date +%s.%N)
  python scripts/generate.py --segmenter "$R/ewt-seg-mle-seed$FIRST" --checkpoint "$R/ewt-pos-mle" \
    --input_file "$R/timed-1mb.txt" --output_file "$R/timed-1mb.conllu"
  end=$(date +%s.%N)
  python - "$R/timed-1mb.txt" "$R/timed-1mb.conllu" "$start" "$end" "$R/timed-1mb.json" \
    "$R/ewt-seg-mle-seed$FIRST" "$R/ewt-pos-mle" <<'PY'
import json, os, sys
text, conllu, start, end, out, segmenter, tagger = sys.argv[1:]
start, end = float(start), float(end)
lines = open(conllu, encoding="utf-8").read().splitlines()
sentences = sum(line.startswith("# sent_id") for line in lines)
words = sum(1 for line in lines if line and line[0].isdigit() and line.split("\t")[0].isdigit())
seconds = end - start  # the whole command: start-up, loading both models, segmenting, tagging, writing
row = {"input": text, "segmenter": segmenter, "tagger": tagger, "bytes": os.path.getsize(text), "characters": len(open(text, encoding="utf-8").read()), "sentences": sentences,
       "words": words, "seconds": round(seconds, 1), "sentences_per_second": round(sentences / seconds, 1),
       "threads": os.environ.get("SEQGAN_NUM_THREADS", "default"), "cpus": os.cpu_count()}
json.dump(row, open(out, "w"), indent=2)
print(json.dumps(row))
PY
fi
if python -c "import ufal.udpipe" 2>/dev/null; then  # the peer segmenter on the same text, tagged by the same run
  bash experiments/udpipe_peer.sh "$R"
else
  echo "ufal.udpipe is not installed: the UDPipe peer rows are left out (pip install -e \".[peers]\")." >&2
fi
python scripts/compare.py --task segment --runs_dir "$R" --baseline ewt-seg-mle --output_file "$R/compare_segment.md" \
  --page docs/results/segment.md --title "Results: raw text on UD English EWT (segmentation and tagging)"
