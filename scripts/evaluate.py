#!/usr/bin/env python
"""Evaluate a trained generator on a split of its task; prints a table and writes JSON.

    python scripts/evaluate.py --checkpoint runs/pos-mle              # best/ of a run, test split
    python scripts/evaluate.py --checkpoint runs/oracle-mle/last --split dev --output dev.json

The task and its data options come from the checkpoint's args.json; flags given here win.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

import torch
from accelerate import Accelerator
from transformers import HfArgumentParser

from seqgan.checkpoint import load_checkpoint, read_args, resolve_checkpoint, write_json_atomic
from seqgan.config import DataArguments, quiet_libraries
from seqgan.evaluation import evaluate_split, format_table
from tasks import get_task


@dataclass
class EvalArguments:
    checkpoint: str = field(metadata={"help": "Run folder, checkpoint folder or Hub id to evaluate."})
    split: str = field(default="test", metadata={"help": "Split to evaluate: train, dev or test."})
    output: str | None = field(default=None, metadata={"help": "JSON file for the metrics (default: <run>/eval_<split>.json)."})
    data_dir: str | None = field(default=None, metadata={"help": "Data folder (default: the checkpoint's, then $SEQGAN_DATA_DIR)."})
    num_eval_samples: int | None = field(
        default=None, metadata={"help": "Generated samples (default: the run's num_test_samples on test, num_eval_samples otherwise)."})
    batch_size: int = field(default=64, metadata={"help": "Evaluation batch size."})


def main(argv: list[str] | None = None) -> dict:
    (args,) = HfArgumentParser(EvalArguments).parse_args_into_dataclasses(args=argv)
    quiet_libraries()
    ckpt = resolve_checkpoint(args.checkpoint)
    run_args = read_args(ckpt)
    data_fields = {f.name for f in fields(DataArguments)}
    data_args = DataArguments(**{k: v for k, v in run_args.items() if k in data_fields})
    if args.data_dir is not None:
        data_args.data_dir = args.data_dir
    data_args.num_eval_samples = args.num_eval_samples or (
        data_args.num_test_samples if args.split == "test" else data_args.num_eval_samples)
    task = get_task(data_args.task)
    accelerator = Accelerator(cpu=not torch.cuda.is_available())
    gen, tokenizer, _ = load_checkpoint(str(ckpt), task)
    gen = gen.to(accelerator.device)
    splits = task.load_splits(data_args)
    if args.split not in splits:
        raise ValueError(f"--split {args.split!r} does not exist; choose one of {', '.join(splits)}.")
    encoded = {k: task.encode(v, tokenizer, gen) for k, v in splits.items()}
    metrics = evaluate_split(task, gen, tokenizer, encoded, args.split, accelerator, data_args, args.batch_size)
    metrics.update({"checkpoint": str(ckpt), "task": data_args.task, "split": args.split})
    out = Path(args.output) if args.output else (ckpt.parent if ckpt.name in ("best", "last") else ckpt) / f"eval_{args.split}.json"
    if accelerator.is_main_process:
        write_json_atomic(out, metrics)
        print(format_table(metrics))
        print(f"wrote {out}", file=sys.stderr)
    return metrics


if __name__ == "__main__":
    main()
