#!/usr/bin/env python
"""Check data files the way training reads them, before a long run: a summary, or every error with file:line.

    python scripts/check_data.py --task pos ../shared/data/ud_en_ewt/en_ewt-ud-train.conllu \
        --eval_file ../shared/data/ud_en_ewt/en_ewt-ud-dev.conllu ../shared/data/ud_en_ewt/en_ewt-ud-test.conllu
    python scripts/check_data.py --task text my_captions.txt --max_length 48
    python scripts/check_data.py --task oracle my_samples.txt
    python scripts/check_data.py --task pos --tag_column xpos \
        ../shared/data/ud_af_afribooms/af_afribooms-ud-train.conllu

Files named without a flag are training files; --eval_file names dev and test files. The rules are
training's own (the task's reader, and seqgan.scoring.evaluation.encode_splits for lengths): a training file's
sequences longer than --max_length are warnings (training truncates them, in train and in a dev split
carved from that file) or, with --long_sequences error, errors; in a dev or test file they are
always errors, since their metrics must cover every word. Exit status 0 when every file is clean, else 1.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from seqgan.cli import make_parser, parse_strict, run
from seqgan.data import Problems
from seqgan.tasks import get_task


@dataclass
class CheckArguments:
    task: str = field(metadata={"help": "How to read the files: pos or segment (CoNLL-U), text (one sentence per "
                                        "line) or oracle."})
    eval_file: list[str] = field(default_factory=list, metadata={
        "help": "Dev and test files (one or more): over-long sequences there are errors."})
    max_length: int | None = field(default=None,
                                   metadata={"help": "Longest sequence training accepts (default: the task's)."})
    tag_column: str = field(default="upos", metadata={"help": "pos: the tag column training reads, upos or xpos."})
    long_sequences: str = field(default="truncate", metadata={
        "help": "Over-long sequences in training files: 'truncate' (reported as warnings) or 'error' (as errors)."})


def check_file(task, path: Path, max_length: int, long_policy: str, tag_column: str = "upos") -> Problems:
    """Every problem training would meet in `path`; long_policy is what training applies to its rows."""
    problems = Problems(collect=True)
    if not path.is_file():
        problems.add(path, None, "no such file.")
        return problems
    rows = task.read_file(path, problems, max_length, tag_column)
    if rows:
        problems.summary, lengths = task.summarise(rows)
        for r, n in lengths:
            if n > max_length:
                report = problems.add if long_policy == "error" else problems.warn
                report(path, r["line"], f"sequence of {n} exceeds --max_length {max_length}"
                       + (" (training truncates it)." if long_policy == "truncate" else "; raise --max_length."))
    return problems


def make_check_parser():
    parser = make_parser(CheckArguments)
    parser.add_argument("files", nargs="*", help="Training files.")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_check_parser()
    args, positional = parse_strict(parser, argv)  # the dataclass, then the Namespace holding `files`
    task = get_task(args.task)  # clear error for an unknown task
    if args.tag_column not in ("upos", "xpos"):
        raise ValueError(f"--tag_column must be 'upos' or 'xpos' (the CoNLL-U tag columns), got {args.tag_column!r}.")
    if args.long_sequences not in ("truncate", "error"):
        raise ValueError(f"--long_sequences must be 'truncate' or 'error', got {args.long_sequences!r}.")
    files = [(f, args.long_sequences) for f in positional.files] + [(f, "error") for f in args.eval_file]
    if not files:
        parser.error("name one or more data files (training files, and dev/test files with --eval_file).")
    max_length = args.max_length or task.DEFAULTS["all"]["max_length"]
    failed = False
    for f, policy in files:
        problems = check_file(task, Path(f), max_length, policy, args.tag_column)
        for e in problems.errors:
            print(f"error: {e}")
        for w in problems.warnings:
            print(f"warning: {w}")
        if problems.errors:
            failed = True
            print(f"{f}: {len(problems.errors)} error(s)")
        else:
            print(f"{f}: ok — " + "; ".join(getattr(problems, "summary", [])))
    return 1 if failed else 0


def cli() -> None:
    """The seqgan-check-data command (pyproject.toml [project.scripts]); `python scripts/check_data.py` runs the
    same."""
    run(lambda: sys.exit(main()))


if __name__ == "__main__":
    cli()
