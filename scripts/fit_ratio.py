#!/usr/bin/env python
"""Train D as a density-ratio estimator against a frozen generator's samples and report its calibration.

    python scripts/fit_ratio.py --checkpoint runs/oracle-mle --output_dir runs/oracle-mle-ratio
    python scripts/fit_ratio.py --checkpoint runs/text-mle --output_dir runs/text-mle-ratio --disc_layers 1
    python scripts/evaluate.py --checkpoint runs/oracle-mle --guide_with runs/oracle-mle-ratio   # G + D sampling

D (a from-scratch sequence discriminator configured by the GAN options --disc_*, or --disc_name_or_path)
learns to separate the task's training data from fresh samples of G (balanced classes, logistic loss), and
stops early on the dev log-loss (dev data against a fixed, seeded set of G's samples). Its logit then
estimates log p_data(x) / p_G(x) (seqgan/training/ratio.py). Writes to --output_dir:
  discriminator/   D (config.json + model.safetensors), what --guide_with loads;
  ratio.json       the generator, the options, the dev log-loss per evaluation, and calibration on held-out
                   data (the test split) against fresh samples of G: log-loss, accuracy, expected calibration
                   error and the mean of exp(d) over G's samples (1 for an exact ratio);
  provenance.json  the commit, command, machine and wall time (seqgan/provenance.py; compare.py's --page lists it).
Text and oracle tasks (unconditional G); one process.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

import torch

from seqgan.checkpoint import load_checkpoint, read_args, resolve_checkpoint, write_json_atomic
from seqgan.cli import make_parser, parse_strict, quiet_libraries, run, use_cpu_threads
from seqgan.config import DataArguments, GanArguments
from seqgan.models.discriminator import SeqGanDiscriminator
from seqgan.provenance import code_commit, provenance
from seqgan.scoring.evaluation import encode_splits
from seqgan.sources import load_task_splits
from seqgan.tasks import task_of
from seqgan.training.gan import build_discriminator
from seqgan.training.ratio import RatioSchedule, calibration, fake_batches, fit_ratio, logits_of


@dataclass
class RatioArguments:
    checkpoint: str = field(metadata={"help": "The frozen generator G: a run folder, checkpoint folder or Hub id "
                                              "(text, oracle)."})
    output_dir: str = field(metadata={"help": "Folder for discriminator/ and ratio.json (refused if it holds a ratio "
                                              "run)."})
    data_dir: str | None = field(default=None,
                                 metadata={"help": "Data folder (default: the checkpoint's, then $SEQGAN_DATA_DIR)."})
    temperature: float = field(default=1.0, metadata={"help": "G's sampling temperature: D estimates p_data / p_G,T."})
    max_steps: int = field(default=2000, metadata={"help": "Most optimiser steps."})
    batch_size: int = field(default=64, metadata={"help": "Real sequences per step (and as many fresh samples of G)."})
    learning_rate: float = field(default=1e-4, metadata={"help": "AdamW learning rate of D."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay (not on biases and norms)."})
    eval_every: int = field(default=100, metadata={"help": "Evaluate the dev log-loss every N steps."})
    patience: int = field(default=5, metadata={"help": "Stop after N evaluations without a better dev log-loss."})
    seed: int = field(default=42, metadata={"help": "Seed of D's initialisation, the batches and G's samples."})
    disc_from_generator: bool = field(default=False, metadata={
        "help": "Start D from G's own transformer body and embeddings (a fresh head; --disc_causal still applies) "
                "instead of --disc_* from scratch: D then reads the data with G's features from the first step."})
    overwrite: bool = field(default=False, metadata={"help": "Replace a ratio run already in --output_dir."})

    def __post_init__(self):
        if self.temperature <= 0:
            raise ValueError(f"--temperature must be > 0, got {self.temperature}.")
        if min(self.max_steps, self.batch_size, self.eval_every, self.patience) < 1:
            raise ValueError("--max_steps, --batch_size, --eval_every and --patience must all be >= 1.")


D_OPTIONS = {"disc_name_or_path", "disc_causal", "disc_hidden_size", "disc_layers", "disc_heads", "disc_ffn_size",
             "disc_dropout"}


def check_gan_options(gan_args: GanArguments) -> None:
    """Only D's architecture (--disc_*) applies here; any other GAN option would be silently ignored."""
    default = GanArguments()
    used = [f.name for f in fields(GanArguments) if f.name not in D_OPTIONS
            and getattr(gan_args, f.name) != getattr(default, f.name)]
    if used:
        raise ValueError(f"{', '.join('--' + u for u in used)}: fit_ratio.py reads only D's options (--disc_*) of the "
                         "GAN options; drop the others.")


def main(argv: list[str] | None = None) -> dict:
    t0, commit = time.time(), code_commit()  # the code this run starts from (provenance.json)
    parser = make_parser((RatioArguments, GanArguments))
    refused = {f.name for f in fields(GanArguments)} - D_OPTIONS
    for action in parser._actions:  # --help lists the D options alone: the other GAN options are refused below
        if action.dest in refused:
            action.help = argparse.SUPPRESS
    args, gan_args = parse_strict(parser, argv)
    check_gan_options(gan_args)
    if args.disc_from_generator and gan_args.disc_name_or_path:
        raise ValueError("--disc_from_generator and --disc_name_or_path both say where D starts; keep one.")
    quiet_libraries()
    out = Path(args.output_dir)
    if (out / "ratio.json").exists() and not args.overwrite:
        raise FileExistsError(f"{out} already holds a ratio run; pass --overwrite to replace it, or another "
                              "--output_dir.")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    use_cpu_threads()
    torch.manual_seed(args.seed)

    # G, frozen, and the splits it was trained on.
    ckpt = resolve_checkpoint(args.checkpoint)
    run_args = read_args(ckpt)
    data_args = DataArguments(**{k: v for k, v in run_args.items() if k in {f.name for f in fields(DataArguments)}})
    if args.data_dir is not None:
        data_args.data_dir = args.data_dir
    task = task_of(run_args, ckpt)
    gen, tokenizer, _ = load_checkpoint(str(ckpt), task)
    if getattr(gen, "conditional", False):
        raise ValueError(f"{ckpt} is a conditional (pos) generator; fit_ratio.py trains D for unconditional text and "
                         "oracle generators. For pos, G + D decoding is evaluate.py --rerank_with.")
    gen = gen.to(device).eval().requires_grad_(False)
    encoded = encode_splits(task, load_task_splits(task, data_args), tokenizer, gen, data_args.long_sequences)
    collate = task.collator(tokenizer)

    def batches(rows: list[dict], size: int) -> list[dict]:
        return [{k: v.to(device) for k, v in collate(rows[i:i + size]).items()} for i in range(0, len(rows), size)]

    train_rows = encoded["train"].to_list()
    shuffle = random.Random(args.seed)

    def train_batches():  # reshuffled every pass, forever
        while True:
            shuffle.shuffle(train_rows)
            for i in range(0, len(train_rows) - args.batch_size + 1, args.batch_size):
                yield {k: v.to(device) for k, v in collate(train_rows[i:i + args.batch_size]).items()}

    # D, trained to the dev log-loss's minimum.
    if args.disc_from_generator:
        # its own copy of G's weights
        disc = SeqGanDiscriminator.from_generator(gen, causal=gan_args.disc_causal).to(device)
    else:
        disc = build_discriminator(gen.vocab_size, gan_args, max_positions=max(512, gen.max_length + 1)).to(device)
    sched = RatioSchedule(**{f.name: getattr(args, f.name) for f in fields(RatioSchedule)})
    record = fit_ratio(gen, disc, train_batches, batches(encoded["dev"].to_list(), 500), sched,
                       log=lambda s: print(s, file=sys.stderr))

    # Calibration on held-out data: the test split against as many fresh samples of G (another seed).
    test = batches(encoded["test"].to_list(), 500)
    fresh = fake_batches(gen, sum(len(b["labels"]) for b in test), 500, args.temperature,
                         torch.Generator(device=device).manual_seed(args.seed + 2))
    test_cal = calibration(logits_of(disc, test), logits_of(disc, fresh))
    result = {"checkpoint": str(ckpt), "task": data_args.task, "temperature": args.temperature, "seed": args.seed,
              **{f"test/{k}": v for k, v in test_cal.items()}, **record,
              "options": {**dataclasses.asdict(args), **{k: getattr(gan_args, k) for k in sorted(D_OPTIONS)}}}
    disc.save_pretrained(out / "discriminator", safe_serialization=True)
    write_json_atomic(out / "provenance.json", provenance(argv if argv is not None else sys.argv[1:], commit,
                                                          time.time() - t0, 1, script="scripts/fit_ratio.py"))
    write_json_atomic(out / "ratio.json", result)  # last: a folder with ratio.json holds a complete run
    print(f"D picked at step {record['best_step']} (dev log-loss {record['best_dev_log_loss']:.4f}); test: log-loss "
          f"{test_cal['log_loss']:.4f}, accuracy {test_cal['accuracy']:.4f}, ECE {test_cal['ece']:.4f}, "
          f"mean exp(d) on G's samples {test_cal['mean_ratio_on_fakes']:.3f}\nwrote {out}/ratio.json", file=sys.stderr)
    return result


def cli() -> None:
    """The seqgan-fit-ratio command (pyproject.toml [project.scripts]); `python scripts/fit_ratio.py` runs the same."""
    run(main)


if __name__ == "__main__":
    cli()
