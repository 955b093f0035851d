#!/usr/bin/env python
"""Check data files the way training reads them, before a long run: a summary, or every error with file:line.

    python scripts/check_data.py --task pos ../shared/data/ud_en_ewt/en_ewt-ud-*.conllu
    python scripts/check_data.py --task text my_captions.txt --max_length 48
    python scripts/check_data.py --task oracle my_samples.txt

Exit status 0 when every file reads cleanly, 1 otherwise. Sequences longer than --max_length are
reported as warnings (training truncates them) or, with --long_sequences error, as errors.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from tokenizers import pre_tokenizers
from transformers import HfArgumentParser

from seqgan.data import Problems
from tasks import get_task


@dataclass
class CheckArguments:
    task: str = field(metadata={"help": "How to read the files: pos (CoNLL-U), text (one sentence per line) or oracle."})
    max_length: int | None = field(default=None, metadata={"help": "Longest sequence training accepts (default: the task's)."})
    long_sequences: str = field(default="truncate", metadata={
        "help": "Longer sequences: 'truncate' (reported as warnings) or 'error' (reported as errors)."})


def summarise(task: str, rows: list[dict]) -> tuple[list[str], list[tuple[dict, int]]]:
    """Summary lines and (row, length) pairs in the task's own units (words, tokens + EOS, ids)."""
    if task == "pos":
        tags = Counter(t for r in rows for t in r["tags"])
        lengths = [(r, len(r["words"])) for r in rows]
        lines = [f"{len(rows)} sentences, {sum(n for _, n in lengths)} words, longest {max(n for _, n in lengths)} words",
                 "tags: " + ", ".join(f"{t} {c}" for t, c in tags.most_common())]
        return lines, lengths
    if task == "text":
        split = pre_tokenizers.Whitespace()
        toks = [[w for w, _ in split.pre_tokenize_str(r["text"].lower())] for r in rows]
        lengths = [(r, len(t) + 1) for r, t in zip(rows, toks)]  # + [EOS]
        vocab = {w for t in toks for w in t}
        return [f"{len(rows)} sentences, {sum(map(len, toks))} tokens, vocabulary {len(vocab)}, "
                f"longest {max(n for _, n in lengths)} tokens with [EOS]"], lengths
    ids = [r["text"].split() for r in rows]
    return [f"{len(rows)} sequences, {sum(map(len, ids))} tokens, {len({i for s in ids for i in s})} distinct ids"], \
        [(r, len(s)) for r, s in zip(rows, ids)]


def check_file(task_name: str, path: Path, args: CheckArguments, max_length: int) -> Problems:
    problems = Problems(collect=True)
    task = get_task(task_name)
    if not path.is_file():
        problems.add(path, None, "no such file.")
        return problems
    if task_name == "pos":
        rows = task.read_conllu(path, problems)
    elif task_name == "text":
        rows = task.read_sentences(path, problems)
    else:
        rows = task.read_token_rows(path, SimpleNamespace(seq_len=max_length, vocab_size=5000), problems)
    if rows:
        lines, lengths = summarise(task_name, rows)
        for r, n in lengths:
            if n > max_length:
                report = problems.add if args.long_sequences == "error" else problems.warn
                report(path, r["line"], f"sequence of {n} exceeds --max_length {max_length}"
                       + (" (training truncates it)." if args.long_sequences == "truncate" else "."))
        problems.summary = lines
    return problems


def main(argv: list[str] | None = None) -> int:
    args, files = HfArgumentParser(CheckArguments).parse_args_into_dataclasses(args=argv, return_remaining_strings=True)
    task = get_task(args.task)  # clear error for an unknown task
    if args.long_sequences not in ("truncate", "error"):
        raise ValueError(f"--long_sequences must be 'truncate' or 'error', got {args.long_sequences!r}.")
    unknown_flags = [f for f in files if f.startswith("--")]
    if unknown_flags or not files:
        raise SystemExit(f"check_data.py: name one or more data files (unknown options: {unknown_flags or 'none'}).")
    max_length = args.max_length or task.DEFAULTS["max_length"]
    failed = False
    for f in files:
        problems = check_file(args.task, Path(f), args, max_length)
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


if __name__ == "__main__":
    sys.exit(main())
