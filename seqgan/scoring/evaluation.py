"""Running a task's evaluation on one split and printing the result, shared by train.py and evaluate.py.

    ev = Evaluator(task, tokenizer, encoded, accelerator, data_args)
    metrics = evaluate_split(ev, gen, "test", Decoding(temperature=0.9))   # {"test/nll": ..., ...}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import DataLoader

from seqgan.sources import training_file_splits


def eval_loader(dataset, collate, batch_size: int, accelerator) -> DataLoader:
    # Sorting by length keeps padding (wasted compute) low; order does not change any metric.
    lengths = [len(x) for x in dataset["labels"]]  # one column read, not one Arrow row per example
    order = sorted(range(len(dataset)), key=lengths.__getitem__)
    loader = DataLoader(dataset.select(order), batch_size=batch_size, collate_fn=collate)
    return accelerator.prepare(loader)


def encode_splits(task, splits, tokenizer, gen, long_sequences: str) -> dict:
    """Every split encoded for the model. Rows of the training file (train, and a dev split carved from it:
    seqgan.sources.training_file_splits) follow --long_sequences; other files' over-long sequences are refused,
    since their metrics must cover every word. scripts/check_data.py applies the same rule to the same files."""
    from_training_file = training_file_splits(splits)
    encoded = {k: task.encode(v, tokenizer, gen, long=long_sequences if k in from_training_file else "error")
               for k, v in splits.items()}
    # A negative label is a target outside the model's output vocabulary (pos: a tag it has no output for). Dev and
    # test may hold some (they are scored as errors); training on them is impossible.
    bad = next((i for i, y in enumerate(encoded["train"]["labels"]) if y and min(y) < 0),
               None) if "train" in encoded else None
    if bad is not None:
        row = splits["train"][bad]
        raise ValueError(f"{row.get('file', 'train')}:{row.get('line', bad + 1)}: a training target is outside the "
                         "model's output vocabulary (pos: a tag the starting checkpoint has no output for). Train "
                         "from scratch on this data (drop --init_from / --generator_name_or_path).")
    return encoded


SAMPLE_SEED_OFFSET = {"train": 100, "dev": 101, "test": 102}


@dataclass(frozen=True)
class Decoding:
    """How an evaluation decodes: at a sampling `temperature`, which tempers the likelihood alike (text and oracle),
    `greedy` instead of sampling (Viterbi for structured models), or by G + D reranking (`rerank`, pos)."""
    temperature: float = 1.0
    greedy: bool = False
    rerank: Any = None  # seqgan.decoding.rerank.Reranker


@dataclass
class SplitInputs:
    """What a task's `evaluate(gen, tokenizer, split, decoding)` reads of the split it scores."""
    loader: Any          # the split's batches (sorted by length; prepared by accelerate)
    accelerator: Any
    dataset: Any         # the split's encoded rows
    splits: Any          # every encoded split: train feeds unknown-word and copy-rate figures
    data_args: Any
    sample_seed: int     # generated samples are drawn from this seed


@dataclass
class Evaluator:
    """The parts every evaluation of one run shares (train.py's dev and test passes, evaluate.py's)."""
    task: Any
    tokenizer: Any
    encoded: Any         # every split, encoded (scoring.evaluation.encode_splits)
    accelerator: Any
    data_args: Any
    batch_size: int = 64


def evaluate_split(ev: Evaluator, gen, split: str, decoding: Decoding = Decoding(), loader=None) -> dict:
    """Task metrics on `split`, namespaced as "<split>/<metric>".

    Generated samples use seed data_seed + SAMPLE_SEED_OFFSET[split]: repeatable, and the test
    samples are independent of the dev samples that picked the checkpoint.
    """
    sample_seed = ev.data_args.data_seed + SAMPLE_SEED_OFFSET[split]
    loader = loader or eval_loader(ev.encoded[split], ev.task.collator(ev.tokenizer), ev.batch_size, ev.accelerator)
    inputs = SplitInputs(loader, ev.accelerator, ev.encoded[split], ev.encoded, ev.data_args, sample_seed)
    was_training = gen.training
    with torch.no_grad(), ev.accelerator.autocast():  # --mixed_precision; metrics' reductions stay in fp32
        scores = ev.task.evaluate(gen, ev.tokenizer, inputs, decoding)
    gen.train(was_training)
    return {f"{split}/{k}": v for k, v in scores.items()}


def _fmt(v) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def format_table(metrics: dict) -> str:
    """Markdown: scalar metrics, then per-tag scores as one table, then sample lists. Settings
    dicts (e.g. bleu_settings) stay in the JSON only."""
    per_tag: dict[str, dict[str, float]] = {}
    rows = []
    for k, v in metrics.items():
        parts = k.split("/")
        if len(parts) >= 3 and parts[-3] == "tag":  # "<split>/tag/<TAG>/<score>"
            per_tag.setdefault(parts[-2], {})[parts[-1]] = v
        elif not isinstance(v, (list, dict)):
            rows.append((k, _fmt(v)))
    width = max((len(k) for k, _ in rows), default=6)
    lines = [f"| {'metric':<{width}} | value |", f"|{'-' * (width + 2)}|-------|"]
    lines += [f"| {k:<{width}} | {v} |" for k, v in rows]
    if per_tag:
        cols = list(next(iter(per_tag.values())))
        lines += ["", "| tag | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
        lines += [f"| {t} | " + " | ".join(_fmt(d.get(c)) for c in cols) + " |" for t, d in per_tag.items()]
    for k, v in metrics.items():
        if isinstance(v, list) and all(isinstance(s, str) for s in v):  # samples; per-sentence counts stay in the JSON
            lines.append(f"\n{k}:")
            lines += [f"  {s}" for s in v]
    return "\n".join(lines)
