#!/usr/bin/env python
"""Build and save a tiny randomly initialised causal LM with its own BPE tokenizer trained on your sentences: a
stand-in for a pretrained model (GPT-2- or Llama-style) when trying seqgan's pretrained-model path offline.

    python scripts/build_tiny_model.py --family gpt2 --train_file ../shared/data/coco/image_coco.txt \
        --output_dir runs/tiny
    accelerate launch scripts/train.py --task text --generator_name_or_path runs/tiny/tiny-gpt2 --max_length 96

Writes <output_dir>/tiny-<family>/ (config.json, model.safetensors, tokenizer files).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from seqgan.cli import make_parser, parse_strict, run
from seqgan.data import read_lines
from seqgan.models.tiny import tiny_causal_lm


@dataclass
class TinyArguments:
    train_file: str = field(metadata={"help": "Sentences (one per line) to train the BPE tokenizer on."})
    output_dir: str = field(metadata={"help": "Folder to write tiny-<family>/ into."})
    family: str = field(default="gpt2", metadata={"help": "gpt2 (byte-level BPE) or llama (SentencePiece-style BPE)."})
    vocab_size: int = field(default=2000, metadata={"help": "BPE vocabulary size."})
    hidden_size: int = field(default=128, metadata={"help": "Model width."})
    num_layers: int = field(default=2, metadata={"help": "Transformer layers."})
    seed: int = field(default=0, metadata={"help": "Seed of the random initialisation."})


def main(argv: list[str] | None = None) -> Path:
    import torch

    (args,) = parse_strict(make_parser(TinyArguments), argv)
    torch.manual_seed(args.seed)
    lines = [ln for ln in read_lines(Path(args.train_file)) if ln.strip()]
    path = tiny_causal_lm(Path(args.output_dir), args.family, lines, vocab_size=args.vocab_size,
                          width=args.hidden_size,
                          layers=args.num_layers)
    print(f"wrote {path}")
    return path


def cli() -> None:
    """The seqgan-build-tiny-model command (pyproject.toml [project.scripts]); `python scripts/build_tiny_model.py`
    runs the same."""
    run(main)


if __name__ == "__main__":
    cli()
