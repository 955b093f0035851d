#!/usr/bin/env bash
# The peer segmenter beside seqgan's: UDPipe 1's tokenizer (ufal.udpipe; tokens, sentences and multiword tokens,
# learned from the same EWT train file, dev held out, 20 epochs as in ../shared/notes/peers.md), its words tagged by
# seqgan's pos run, on EWT test as raw text: with gold sentence breaks (one `# text` per line, UDPipe's
# tokenizer=presegmented) and as paragraphs (its own sentence splitting). Scored by seqgan.scoring.conll18 like
# evaluate.py --raw_text, into runs_dir/raw-ewt-{lines,paragraphs}-udpipe.json, which compare.py's raw-text table
# reads beside seqgan's segmenters: only the segmenter differs, the tagger is the same run.
#
#   pip install "ufal.udpipe>=1.3,<2"   # or: pip install -e ".[peers]"
#   SEQGAN_DATA_DIR=../shared/data bash experiments/udpipe_peer.sh [runs_dir]   # needs runs_dir/ewt-pos-mle
#
# experiments/segment.sh runs it before writing its pages. One job at a time: the json records wall seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-runs/segment}
D=${SEQGAN_DATA_DIR:-../shared/data}
EWT=$D/ud_en_ewt/en_ewt-ud
[[ -d $R/ewt-pos-mle ]] || { echo "$R/ewt-pos-mle: no such run; train it first (experiments/segment.sh)." >&2; exit 2; }
python -c "import ufal.udpipe" 2>/dev/null || {
  echo "ufal.udpipe is not installed: pip install \"ufal.udpipe>=1.3,<2\" (or pip install -e \".[peers]\")." >&2; exit 2; }
python - "$EWT" "$R" <<'PY'
import json
import sys
import time
from pathlib import Path

import ufal.udpipe as udpipe

from seqgan.checkpoint import write_json_atomic, write_text_atomic
from seqgan.conllu import read_treebank, treebank_text
from seqgan.scoring.conll18 import flat_scores, raw_text_scores
from seqgan.tasks.pipeline import load_part, tag_segmented

prefix, runs = sys.argv[1], Path(sys.argv[2])


def udpipe_sentences(path: str) -> udpipe.Sentences:
    """A CoNLL-U file as UDPipe's training input."""
    reader = udpipe.InputFormat.newConlluInputFormat()
    reader.setText(Path(path).read_text(encoding="utf-8"))
    out, sentence, error = udpipe.Sentences(), udpipe.Sentence(), udpipe.ProcessingError()
    while reader.nextSentence(sentence, error):
        out.append(sentence)
        sentence = udpipe.Sentence()
    if error.occurred():
        raise ValueError(f"{path}: UDPipe could not read it: {error.message}")
    return out


model_path = runs / "udpipe-tokenizer.udpipe"
if not model_path.is_file():
    error, t0 = udpipe.ProcessingError(), time.time()
    blob = udpipe.Trainer.train("morphodita_parsito", udpipe_sentences(f"{prefix}-train.conllu"),
                                udpipe_sentences(f"{prefix}-dev.conllu"), "epochs=20", "none", "none", error)
    if error.occurred():
        raise RuntimeError(f"UDPipe training failed: {error.message}")
    tmp = model_path.with_suffix(".tmp")
    tmp.write_bytes(blob)
    tmp.replace(model_path)
    print(f"trained {model_path} in {time.time() - t0:.0f} s", file=sys.stderr)
model = udpipe.Model.load(str(model_path))
tagger, tokenizer = load_part(str(runs / "ewt-pos-mle"), "pos")
gold = read_treebank(f"{prefix}-test.conllu")
for mode, tokenizer_option in (("lines", "tokenizer=presegmented"), ("paragraphs", "tokenize")):
    out = runs / f"raw-ewt-{mode}-udpipe.json"
    if out.is_file():
        continue
    text = treebank_text(gold, paragraphs=mode == "paragraphs")
    pipeline = udpipe.Pipeline(model, tokenizer_option, udpipe.Pipeline.NONE, udpipe.Pipeline.NONE, "conllu")
    error, t0 = udpipe.ProcessingError(), time.time()
    conllu = pipeline.process(text, error)
    if error.occurred():
        raise RuntimeError(f"UDPipe failed on {prefix}-test.conllu's text: {error.message}")
    conllu_path = runs / f"raw-ewt-{mode}-udpipe.conllu"
    write_text_atomic(conllu_path, conllu)
    system = read_treebank(conllu_path)
    tag_segmented(tagger, tokenizer, system)
    seconds = time.time() - t0  # UDPipe's segmenting and seqgan's tagging, not the models' loading
    result = flat_scores(raw_text_scores(gold, system))
    result.update({"gold_file": f"{prefix}-test.conllu", "input": mode, "segmenter": str(model_path),
                   "tagger": str(runs / "ewt-pos-mle"),
                   "udpipe_version": "{0.major}.{0.minor}.{0.patch}".format(udpipe.Version.current()),
                   "characters": len(text), "seconds": seconds, "sentences_per_second": len(system) / seconds})
    write_json_atomic(out, result)
    print(json.dumps({k: v for k, v in result.items() if k.endswith("_f1")}))
PY
