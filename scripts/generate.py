#!/usr/bin/env python
"""Use a trained model: sample sentences from a generator, or tag sentences (pos) from the command line or a file.

    python scripts/generate.py --checkpoint runs/text-mle --num_samples 20 --temperature 0.8
    python scripts/generate.py --checkpoint runs/text-mle --num_samples 10000 --output_file samples.txt
    python scripts/generate.py --checkpoint runs/text-mle --guide_with runs/ratio-text --guide_candidates 16   # G + D
    python scripts/generate.py --checkpoint runs/text-vae --interpolate "a man rides a horse ." "two dogs play ." \
        --steps 8
    python scripts/generate.py --checkpoint runs/pos-mle --sentence "I saw her duck."
    python scripts/generate.py --checkpoint runs/pos-mle --input_file sentences.txt --output_file tagged.conllu
    python scripts/generate.py --checkpoint runs/pos-mle --rerank_with runs/pos-crf-nll --rerank_lambda 0.5 \
        --sentence "I saw her duck."                       # G + D: G's candidates ranked with the CRF
    python scripts/generate.py --segmenter runs/segment/ewt-seg-mle-seed42 --checkpoint runs/segment/ewt-pos-mle \
        --input_file raw.txt --output_file raw.conllu      # raw text (paragraphs) -> sentences, tokens, tags
    cat sentences.txt | python scripts/generate.py --checkpoint runs/pos-mle --input_file - > tagged.conllu

pos: each input line is one sentence. Raw text is split into words and punctuation (seqgan.tasks.pos.WORD:
"duck." -> "duck", "."); --pretokenized splits on spaces only. The output is CoNLL-U with one block per input
line (`# sent_id` = line number, `# text`), an empty line kept as a comment-only block; a line longer than the
model's max_length is truncated (noted in a comment, with a warning) or, with --long_sequences skip, left
untagged. Sentences are tagged --batch_size at a time. Without --input_file or --sentence, stdin is read.
text/oracle: --num_samples samples; with --output_file they go one per line to that file, and the checkpoint,
temperature, seed and count to <output_file>.json beside it. Files are written whole or not at all.
--guide_with RUN samples G + D: G's samples re-weighted by RUN's density-ratio D (seqgan/decoding/guide.py, SIR or
DRS).
--interpolate A B (random-code, ae, vae and latent-gan runs): greedy decodings of --steps codes evenly spaced from
sentence A's code to B's (their posterior means), one "weight<TAB>sentence" line each.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch

from seqgan.checkpoint import load_checkpoint, read_args, resolve_checkpoint, write_json_atomic, write_text_atomic
from seqgan.cli import make_parser, parse_strict, quiet_libraries, run, use_cpu_threads
from seqgan.data import read_lines
from seqgan.decoding.guide import GuideArguments, GuidedGenerator, load_ratio
from seqgan.decoding.rerank import Reranker
from seqgan.tasks import task_of
from seqgan.tasks.pipeline import load_pipeline


@dataclass
class GenerateArguments:
    checkpoint: str = field(metadata={"help": "Run folder, checkpoint folder or Hub id."})
    num_samples: int = field(default=10, metadata={"help": "text/oracle: sentences to sample."})
    temperature: float = field(default=1.0, metadata={"help": "text/oracle: softmax temperature for sampling."})
    greedy: bool = field(default=False, metadata={"help": "text/oracle: greedy decoding instead of sampling."})
    seed: int = field(default=0, metadata={"help": "text/oracle: sampling seed; pos: --rerank_with's candidates'."})
    sentence: str | None = field(default=None, metadata={"help": "pos: one sentence to tag."})
    input_file: str | None = field(default=None,
                                   metadata={"help": "pos: sentences to tag, one per line ('-': stdin)."})
    output_file: str | None = field(default=None, metadata={
        "help": "Where to write: CoNLL-U (pos) or one sample per line (text/oracle). Default: stdout."})
    pretokenized: bool = field(default=False, metadata={"help": "pos: input words are already separated by spaces."})
    batch_size: int = field(default=64, metadata={"help": "Sentences tagged (or samples drawn) at once."})
    interpolate: list[str] | None = field(default=None, metadata={
        "nargs": 2, "help": "ae/vae/latent-gan: two sentences (oracle: id lines) whose codes to interpolate between."})
    steps: int = field(default=8, metadata={"help": "--interpolate: codes decoded, both ends included (at least 2)."})
    segmenter: str | None = field(default=None, metadata={
        "help": "Raw text: a segment run that splits --input_file into sentences, tokens and multiword-token words "
                "before the pos run (--checkpoint) tags them; writes CoNLL-U with # text, ranges and SpaceAfter=No."})
    one_sentence_per_line: bool = field(default=False, metadata={
        "help": "--segmenter: each non-empty input line is one sentence (default: paragraphs, split at blank lines, "
                "and sentences found by the segmenter)."})
    flat_tree: bool = field(default=False, metadata={
        "help": "--segmenter: write a flat dependency tree (word 1 the root) instead of HEAD _; the official CoNLL "
                "2018 evaluator needs a tree, and seqgan parses nothing, so the tree carries no information."})
    rerank_with: str | None = field(default=None, metadata={
        "help": "pos (and --segmenter's tagger): G + D tagging, the tagger's greedy tags and --num_candidates samples "
                "ranked by log p_G + λ·s_D, s_D this pos CRF run's score (or a pos GAN run's discriminator)."})
    rerank_lambda: float = field(default=float("inf"), metadata={
        "help": "--rerank_with: λ (inf: D's score alone). Pick it on dev: evaluate.py --rerank_with D --rerank_lambda "
                "0,0.25,0.5,1,2,4,inf records the pick as test/rerank_lambda."})
    num_candidates: int = field(default=8, metadata={"help": "--rerank_with: samples from G per sentence, besides "
                                                             "greedy."})
    long_sequences: str = field(default="truncate", metadata={
        "help": "pos: a line with more words than the model's max_length is 'truncate'd (with a warning) or "
                "'skip'ped."})

    def __post_init__(self):
        if self.sentence and self.input_file:
            raise ValueError("--sentence and --input_file both name the input; keep one.")
        if self.batch_size < 1 or self.num_samples < 1:
            raise ValueError("--batch_size and --num_samples must be at least 1.")
        if self.temperature <= 0:
            raise ValueError(f"--temperature must be > 0, got {self.temperature}.")
        if not self.rerank_lambda >= 0 or self.num_candidates < 0:  # `not >=` also refuses nan
            raise ValueError(f"--rerank_lambda must be >= 0 (inf: D alone) and --num_candidates >= 0; got "
                             f"{self.rerank_lambda} and {self.num_candidates}.")
        if self.interpolate is not None and self.steps < 2:
            raise ValueError(f"--steps must be at least 2 (both ends of the line), got {self.steps}.")


def read_input(args: GenerateArguments) -> list[str]:
    if args.sentence is not None:
        return [args.sentence]
    if args.input_file in (None, "-"):
        return sys.stdin.read().splitlines()
    path = Path(args.input_file)
    if not path.is_file():
        raise FileNotFoundError(f"--input_file {path}: no such file.")
    return read_lines(path)  # UTF-8 with a clear error per bad line; a byte-order mark is dropped


def write(text: str, args: GenerateArguments) -> None:
    if args.output_file:
        write_text_atomic(Path(args.output_file), text)  # the whole file or nothing
        print(f"wrote {args.output_file}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def interpolate(gen, tokenizer, sentences: list[str], steps: int) -> list[str]:
    """Greedy decodings along the line between two sentences' codes, as "weight<TAB>sentence" lines."""
    if not hasattr(gen, "interpolate") or gen.kind == "random-code":
        raise ValueError("--interpolate needs a model with an encoder (a run of --method ae, vae or latent-gan).")
    batches = []
    for text in sentences:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"][: gen.max_length - (gen.eos_id is not None)]
        if not ids:
            raise ValueError(f"--interpolate {text!r}: no tokens to encode.")
        ids = ids + ([gen.eos_id] if gen.eos_id is not None else [])
        batches.append({"labels": torch.tensor([ids], device=gen.device),
                        "mask": torch.ones(1, len(ids), dtype=torch.bool,
                                                                                             device=gen.device)})
    rows = gen.interpolate(*batches, steps)  # (steps, T)
    weights = torch.linspace(0, 1, steps).tolist()
    return [f"{w:.3f}\t" + " ".join(tokenizer.decode(r.tolist(), skip_special_tokens=True).split())
            for w, r in zip(weights, rows)]


def main(argv: list[str] | None = None) -> list[str]:
    args, guide = parse_strict(make_parser((GenerateArguments, GuideArguments)), argv)
    quiet_libraries()
    use_cpu_threads()
    if args.segmenter:  # raw text: segment run + pos run (tasks/pipeline.py)
        pipe = load_pipeline(args.segmenter, args.checkpoint, args.batch_size)
        if args.rerank_with:
            pipe = pipe.with_reranker(args.rerank_with, args.rerank_lambda, args.num_candidates, args.seed)
        sentences = pipe.tag_text("\n".join(read_input(args)), args.one_sentence_per_line)
        write(pipe.to_conllu(sentences, args.flat_tree), args)
        return [" ".join(f"{w}/{tag}" for t in s["tokens"] for w, tag in t["words"]) for s in sentences]
    ckpt = resolve_checkpoint(args.checkpoint)
    task = task_of(read_args(ckpt), ckpt)
    gen, tokenizer, _ = load_checkpoint(str(ckpt), task)
    gen.eval()
    if args.rerank_with and not gen.conditional:
        raise ValueError("--rerank_with ranks a pos tagger's candidates; for text and oracle, G + D sampling is "
                         "--guide_with.")
    if guide.guide_with and (gen.conditional or args.interpolate):
        raise ValueError("--guide_with re-weights unconditional samples (text, oracle); for pos, G + D decoding is "
                         "evaluate.py --rerank_with, and --interpolate decodes greedily.")
    with torch.no_grad():
        if gen.conditional:
            rerank = Reranker.from_checkpoint(args.rerank_with, tokenizer, task, gen.device,
                                              num_candidates=args.num_candidates, lam=args.rerank_lambda,
                                              seed=args.seed) if args.rerank_with else None
            tagged = task.tag_lines(gen, tokenizer, read_input(args), batch_size=args.batch_size,
                                    pretokenized=args.pretokenized, long=args.long_sequences,
                                    progress=args.output_file is not None, rerank=rerank)
            for t in tagged:
                if t.note:
                    print(f"warning: line {t.line}: {t.note}", file=sys.stderr)
            write(task.to_conllu(tagged, gen.model.config.tag_column), args)
            return [" ".join(f"{w}/{tag}" for w, tag in zip(t.words, t.tags)) for t in tagged]
        if args.interpolate:
            out = interpolate(gen, tokenizer, args.interpolate, args.steps)
            write("".join(line + "\n" for line in out), args)
            return out
        if args.input_file or args.sentence:
            raise ValueError(f"{task.__name__.rsplit('.', 1)[-1]} models generate unconditionally: use --num_samples, "
                             "not --input_file/--sentence.")
        if guide.guide_with:  # G + D: G's samples re-weighted by D's density ratio
            if args.greedy:
                raise ValueError("--guide_with samples G + D; drop --greedy.")
            gen = GuidedGenerator(gen, load_ratio(guide.guide_with).to(gen.device), guide, seed=args.seed).eval()
        out = task.sample_texts(gen, tokenizer, args.num_samples, args.seed, args.batch_size, args.temperature,
                                args.greedy)
    write("".join(line + "\n" for line in out), args)
    if args.output_file:
        write_json_atomic(Path(args.output_file + ".json"), {
            "checkpoint": str(ckpt), "num_samples": len(out), "temperature": args.temperature, "seed": args.seed,
            "decoding": "greedy" if args.greedy else "sample", "batch_size": args.batch_size,
            **(vars(guide) if guide.guide_with else {})})
    return out


def cli() -> None:
    """The seqgan-generate command (pyproject.toml [project.scripts]); `python scripts/generate.py` runs the same."""
    run(main)


if __name__ == "__main__":
    cli()
