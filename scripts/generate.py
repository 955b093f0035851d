#!/usr/bin/env python
"""Sample sentences from a generator, or tag sentences typed in (pos).

    python scripts/generate.py --checkpoint runs/text-mle --num_samples 20 --temperature 0.8
    echo "The quick brown fox jumps ." | python scripts/generate.py --checkpoint runs/pos-mle
    python scripts/generate.py --checkpoint runs/pos-mle --sentence "I saw her duck ."

For pos, input words are separated by spaces (one sentence per line on stdin).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import torch
from seqgan.checkpoint import load_checkpoint, read_args, resolve_checkpoint
from seqgan.cli import make_parser, parse_strict, run
from seqgan.config import quiet_libraries
from seqgan.tasks import task_of


@dataclass
class GenerateArguments:
    checkpoint: str = field(metadata={"help": "Run folder, checkpoint folder or Hub id."})
    num_samples: int = field(default=10, metadata={"help": "Sentences to sample (text and oracle)."})
    temperature: float = field(default=1.0, metadata={"help": "Softmax temperature for sampling."})
    greedy: bool = field(default=False, metadata={"help": "Greedy decoding instead of sampling."})
    seed: int = field(default=0, metadata={"help": "Sampling seed."})
    sentence: str | None = field(default=None, metadata={"help": "pos: a sentence to tag (else read stdin)."})


def main(argv: list[str] | None = None) -> list[str]:
    (args,) = parse_strict(make_parser(GenerateArguments), argv)
    quiet_libraries()
    ckpt = resolve_checkpoint(args.checkpoint)
    task = task_of(read_args(ckpt), ckpt)
    gen, tokenizer, _ = load_checkpoint(str(ckpt), task)
    gen.eval()
    with torch.no_grad():
        if gen.conditional:
            lines = [args.sentence] if args.sentence else sys.stdin.read().splitlines()
            out = task.tag_sentences(gen, tokenizer, lines)
        else:
            g = torch.Generator().manual_seed(args.seed)
            s = gen.sample(num_samples=args.num_samples, temperature=args.temperature, greedy=args.greedy, generator=g)
            out = [tokenizer.decode([t for t in toks[m].tolist() if t != gen.eos_id]) for toks, m in zip(s.tokens, s.mask)]
    print("\n".join(out))
    return out


if __name__ == "__main__":
    run(main)
