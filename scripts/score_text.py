#!/usr/bin/env python
"""Score any generated text the way seqgan scores its own samples: BLEU, self-BLEU, diversity, copying.

    python scripts/score_text.py --hypotheses samples.txt --references ../shared/data/coco/test_coco.txt \
        [--train ../shared/data/coco/image_coco.txt] [--output_file scores.json] [--protocol texygen]

Input files hold one sentence per line (UTF-8); an empty hypothesis line is an empty sentence. Under
`--protocol seqgan` (the default) a line's words are its whitespace-separated tokens; under `--protocol texygen`
every line is tokenised by nltk.word_tokenize as Texygen scores its files, and Texygen's fast setting (500
references; self-BLEU of the first 500 hypotheses) is reported beside the full one as texygen_fast_*
(seqgan/scoring/protocols.py). The JSON names the protocol it used. Prints JSON: test_bleu {"2".."5"} (each hypothesis
against every reference, nltk
method-1 smoothing, exact), self_bleu {"2".."5"} (leave-one-out over the hypotheses), distinct_n,
entropy_n, unique_ratio, with --train copy_rate, and with --paired sacrebleu's corpus BLEU and
signature (line i of --references paired with hypothesis i). Samples of other toolkits (Texygen, RelGAN,
TextGAN-PyTorch) are thereby scored exactly like seqgan's.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from seqgan.checkpoint import write_json_atomic
from seqgan.cli import OUTPUT_RENAMED, make_parser, parse_strict, run
from seqgan.config import check_protocol
from seqgan.data import DataError, read_lines
from seqgan.scoring.bleu import corpus_bleu
from seqgan.scoring.metrics import text_metrics
from seqgan.scoring.protocols import texygen_scores, texygen_words


@dataclass
class ScoreArguments:
    hypotheses: str = field(metadata={"help": "Generated sentences, one whitespace-tokenised sentence per line."})
    references: str = field(metadata={"help": "Reference sentences (e.g. the test set), one per line."})
    train: str | None = field(default=None, metadata={"help": "Training sentences, for the copy rate (memorisation)."})
    output_file: str | None = field(default=None, metadata={"help": "Also write the JSON here (atomically)."})
    protocol: str = field(default="seqgan", metadata={
        "help": "How lines become words and which BLEU settings apply: seqgan (whitespace tokens, every reference) or "
                "texygen (nltk.word_tokenize, plus Texygen's fast 500-reference setting)."})
    max_n: int = field(default=5, metadata={"help": "Highest BLEU order: BLEU-2 .. BLEU-max_n are reported."})
    paired: bool = field(default=False, metadata={
        "help": "Line i of --references is the reference of hypothesis i: also report sacrebleu's corpus BLEU with "
                "its signature."})

    def __post_init__(self):
        check_protocol(self.protocol)
        if not 2 <= self.max_n <= 8:
            raise ValueError(f"--max_n must be between 2 and 8, got {self.max_n}.")


def read_sentences(path: str, allow_empty: bool, protocol: str = "seqgan") -> list[list[str]]:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{path}: no such file.")
    lines = read_lines(p)
    if not lines:
        raise DataError(p, None, "the file is empty; it must hold one sentence per line.")
    if not allow_empty:
        for i, line in enumerate(lines, 1):
            if not line.strip():
                raise DataError(p, i, "empty line; every reference line must hold a sentence (remove the line).")
    return texygen_words(lines) if protocol == "texygen" else [line.split() for line in lines]


def main(argv: list[str] | None = None) -> dict:
    (args,) = parse_strict(make_parser(ScoreArguments), argv, renamed=OUTPUT_RENAMED)
    hyps = read_sentences(args.hypotheses, allow_empty=True, protocol=args.protocol)
    refs = read_sentences(args.references, allow_empty=False, protocol=args.protocol)
    train = read_sentences(args.train, allow_empty=False, protocol=args.protocol) if args.train else None
    orders = tuple(range(2, args.max_n + 1))
    result = text_metrics(hyps, refs, train, orders=orders)
    if args.protocol == "texygen":
        result.update(texygen_scores(hyps, refs, orders))
    result["protocol"] = args.protocol
    if args.paired:
        if len(hyps) != len(refs):
            raise ValueError(f"--paired needs as many references as hypotheses: {len(refs)} vs {len(hyps)} lines.")
        result["corpus_bleu"] = corpus_bleu([" ".join(h) for h in hyps], [[" ".join(r) for r in refs]])
    result["files"] = {"hypotheses": args.hypotheses, "references": args.references, "train": args.train}
    result["num_empty_hypotheses"] = sum(not h for h in hyps)
    if args.output_file:
        write_json_atomic(args.output_file, result)
    json.dump(result, sys.stdout, indent=2, sort_keys=True)
    print()
    return result


def cli() -> None:
    """The seqgan-score-text command (pyproject.toml [project.scripts]); `python scripts/score_text.py` runs the
    same."""
    run(main)


if __name__ == "__main__":
    cli()
