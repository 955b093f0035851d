#!/usr/bin/env python
"""Evaluate trained generators on a split of their task; prints a table and writes JSON.

    python scripts/evaluate.py --checkpoint runs/pos-mle              # best/ of a run, test split
    python scripts/evaluate.py --checkpoint runs/oracle-mle/last --split dev --output_file dev.json
    python scripts/evaluate.py --checkpoint runs/text-mle --checkpoint runs/text-gan \
        --temperatures 0.6,0.7,0.8,0.9,1.0,1.1,1.2,1.3                # quality-diversity sweep: CSV + PNG
    python scripts/evaluate.py --checkpoint runs/pos-mle --rerank_with runs/pos-crf-nll --num_candidates 8   # G + D
    python scripts/evaluate.py --checkpoint runs/pos-mle --rerank_with runs/pos-crf-nll \
        --rerank_lambda 0,0.25,0.5,1,2,4,inf          # G + D as a product of experts, λ tuned on dev
    python scripts/evaluate.py --checkpoint runs/pos-mle --rerank_with runs/pos-gan-reinforce \
        --rerank_method sir --rerank_lambda 1         # G + D: one of 8 samples kept ∝ exp(λ·d), d the GAN's D
    python scripts/evaluate.py --checkpoint runs/oracle-crf-nll --greedy  # Viterbi output of the bigram model
    python scripts/evaluate.py --checkpoint runs/text-ae --latent_prior standard   # an AE decoding fresh N(0, I) codes
    python scripts/evaluate.py --checkpoint runs/pos-mle --test_file my-domain.conllu   # out of domain
    python scripts/evaluate.py --raw_text ../shared/data/ud_en_ewt/en_ewt-ud-test.conllu \
        --segmenter runs/segment/ewt-seg-mle-seed42 --checkpoint runs/segment/ewt-pos-mle   # raw text
    python scripts/evaluate.py --raw_text ../shared/data/ud_en_ewt/en_ewt-ud-test.conllu \
        --segmenter runs/segment/ewt-seg-mle-seed42 --checkpoint runs/pos/pos-mle-seed42 \
        --rerank_with runs/pos/pos-crf-nll-seed42 --rerank_lambda 1   # raw text, G + D tagging (λ picked on dev)
    python scripts/evaluate.py --checkpoint runs/oracle-mle --guide_with runs/oracle-mle-ratio \
        --guide_method sir --guide_candidates 8 --guide_gamma 1.0        # G + D: sampling by D's density ratio

The task and its data options come from each checkpoint's args.json; flags given here win.
Reranked (--rerank_with) and greedy (--greedy) evaluations write eval_<split>_rerank.json (by D alone, λ = inf) or
eval_<split>_rerank-poe.json (log p_G + λ·s_D; a λ list is tuned on dev, each λ's dev score kept under rerank_dev),
eval_<split>_rerank-sir.json (--rerank_method sir) and
eval_<split>_greedy.json by default, beside eval_<split>.json; guided sampling (--guide_with, a D from
scripts/fit_ratio.py: seqgan/decoding/guide.py) writes eval_<split>_guide-<sir-K8-g1 | drs-g1>.json, and its NLL is the
residual model's p_G·exp(γd)/Z, with log Z estimated (log_z, log_z_se in the JSON). An existing result file (training's
eval_test.json among them) is never replaced unless --overwrite is given.
A sweep evaluates every checkpoint at every temperature with the same sample seed and writes
<output>.csv, <output>.json and <output>.png (with --guide_with: sweep_<split>_guide-<tag>.*, drawn beside G's own
sweep_<split>.json when it exists; text: BLEU-5 against self-BLEU-5 and against NLL_gen;
oracle: NLL_oracle against NLL_test).
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

import torch
from accelerate import Accelerator
from datasets import Dataset

from seqgan.checkpoint import (
    load_checkpoint,
    read_args,
    resolve_checkpoint,
    run_dir,
    write_json_atomic,
    write_text_atomic,
)
from seqgan.cli import OUTPUT_RENAMED, make_parser, parse_strict, quiet_libraries, run, use_cpu_threads, warn_slow_bf16
from seqgan.config import DataArguments
from seqgan.conllu import read_treebank, treebank_text
from seqgan.data import Problems
from seqgan.decoding.guide import GuideArguments, GuidedGenerator, load_ratio
from seqgan.decoding.rerank import RERANK_METHODS, Reranker, parse_lambdas
from seqgan.scoring.conll18 import flat_scores, raw_text_scores, upos_by_sentence
from seqgan.scoring.evaluation import Decoding, Evaluator, encode_splits, evaluate_split, format_table
from seqgan.scoring.plots import plot_sweep
from seqgan.sources import load_task_splits
from seqgan.tasks import selection, task_of
from seqgan.tasks.pipeline import load_pipeline


@dataclass
class EvalArguments:
    checkpoint: list[str] = field(metadata={
        "help": "Run folder, checkpoint folder or Hub id; repeat (--checkpoint A --checkpoint B) to compare in a "
                "sweep.",
        "action": "extend"})
    split: str = field(default="test", metadata={"help": "Split to evaluate: train, dev or test."})
    output_file: str | None = field(default=None, metadata={
        "help": "Output path. One checkpoint: the JSON file (default <run>/eval_<split>.json). A sweep: the prefix of "
                "<output>.csv/.json/.png (default <first run>/sweep_<split>)."})
    data_dir: str | None = field(default=None,
                                 metadata={"help": "Data folder (default: the checkpoint's, then $SEQGAN_DATA_DIR)."})
    num_eval_samples: int | None = field(
        default=None,
        metadata={"help": "Generated samples (default: the run's num_test_samples on test, num_eval_samples "
                          "otherwise)."})
    batch_size: int = field(default=64, metadata={"help": "Evaluation batch size."})
    temperatures: str | None = field(default=None, metadata={
        "help": "Comma-separated softmax temperatures, e.g. 0.6,0.8,1.0,1.2: evaluate every checkpoint at each (text, "
                "oracle)."})
    labels: str | None = field(default=None, metadata={
        "help": "Comma-separated curve labels for the checkpoints (default: each run folder's name)."})
    greedy: bool = field(default=False, metadata={
        "help": "text/oracle: decode greedily instead of sampling (for the bigram model: its Viterbi sequence)."})
    rerank_with: str | None = field(default=None, metadata={
        "help": "pos, G + D decoding: rerank greedy + --num_candidates samples of G by this CRF run's score or this "
                "GAN run's discriminator. With --raw_text it reranks the tagger's candidates, with one λ."})
    num_candidates: int = field(default=8,
                                metadata={"help": "G + D decoding: samples from G per sentence, besides greedy."})
    rerank_method: str = field(default="argmax", metadata={
        "help": "G + D decoding: argmax (the candidate ranked first) or sir (of the K samples, one drawn with "
                "probability ∝ exp(λ·s_D): sampling-importance-resampling by D's ratio)."})
    rerank_lambda: str = field(default="inf", metadata={
        "help": "G + D decoding: candidates ranked by log p_G(y | x) + λ·s_D(x, y); inf ranks by D's score alone, 0 "
                "by G's. A comma list (e.g. 0,0.25,0.5,1,2,4,inf) is tuned: each λ decodes the dev split, the task's "
                "dev selection metric (pos: UPOS accuracy) picks one, and --split is decoded with it."})
    latent_prior: str = field(default="model", metadata={
        "help": "random-code/ae/vae/latent-gan runs: decode codes from the model's own prior (model) or from N(0, I) "
                "(standard: the lecture's test of an autoencoder on fresh prior codes). Writes "
                "eval_<split>_prior.json."})
    overwrite: bool = field(default=False,
                            metadata={"help": "Replace result files that already exist (e.g. training's "
                                              "eval_test.json)."})
    test_file: str | None = field(default=None, metadata={
        "help": "Score this file instead of the run's test split (out-of-domain evaluation): CoNLL-U (pos), one "
                "sentence per line (text) or id lines (oracle). Writes <run>/eval_file_<name>.json by default."})

    raw_text: str | None = field(default=None, metadata={
        "help": "A gold CoNLL-U file: its text, as raw text, goes through --segmenter and the pos run --checkpoint, "
                "and the output is scored by the CoNLL 2018 metrics (Tokens, Sentences, Words, UPOS F1)."})
    segmenter: str | None = field(default=None, metadata={"help": "--raw_text: the segment run that splits the text."})
    paragraphs: bool = field(default=False, metadata={
        "help": "--raw_text: feed the text as paragraphs (the pipeline splits sentences); default one gold sentence "
                "per line."})
    conllu_file: str | None = field(default=None,
                                    metadata={"help": "--raw_text: also write the pipeline's CoNLL-U here."})
    flat_tree: bool = field(default=False, metadata={
        "help": "--conllu_file: write a flat dependency tree (word 1 the root) instead of HEAD _, for tools that need "
                "one, such as the official CoNLL 2018 evaluator."})

    def __post_init__(self):
        if bool(self.raw_text) != bool(self.segmenter):
            raise ValueError("--raw_text GOLD.conllu and --segmenter RUN go together (with the pos run as "
                             "--checkpoint).")
        if self.raw_text and (self.temperatures or self.greedy or self.test_file):
            raise ValueError("--raw_text runs the segment + pos pipeline; it does not combine with --temperatures, "
                             "--greedy or --test_file.")
        self.temperature_list = [float(t) for t in self.temperatures.split(",")] if self.temperatures else None
        if self.temperature_list is not None and any(t <= 0 for t in self.temperature_list):
            raise ValueError(f"--temperatures must all be > 0, got {self.temperatures}.")
        self.label_list = self.labels.split(",") if self.labels else [label_of(c) for c in self.checkpoint]
        if len(self.label_list) != len(self.checkpoint):
            raise ValueError(f"--labels names {len(self.label_list)} curves for {len(self.checkpoint)} checkpoints.")
        self.lambda_list = parse_lambdas(self.rerank_lambda)
        if self.raw_text and self.rerank_with and (len(self.lambda_list) > 1 or self.rerank_method != "argmax"):
            raise ValueError("--raw_text --rerank_with ranks the tagger's candidates with one λ, picked on dev "
                             "beforehand: run evaluate.py --checkpoint TAGGER --rerank_with D --rerank_lambda "
                             "0,0.25,0.5,1,2,4,inf and pass the test/rerank_lambda it records (--rerank_method "
                             "argmax).")
        if self.rerank_method not in RERANK_METHODS:
            raise ValueError(f"--rerank_method must be one of {', '.join(RERANK_METHODS)}, "
                             f"got {self.rerank_method!r}.")
        if len(self.lambda_list) > 1 and self.split == "dev":
            raise ValueError("--rerank_lambda with several values is tuned on the dev split; evaluate --split test.")
        if self.temperature_list is not None and (self.greedy or self.rerank_with):
            raise ValueError("--temperatures sweeps sampling; it does not combine with --greedy or --rerank_with.")
        if self.latent_prior not in ("model", "standard"):
            raise ValueError(f"--latent_prior must be model or standard, got {self.latent_prior!r}.")
        if self.test_file and self.split != "test":
            raise ValueError("--test_file replaces the test split; drop --split.")
        if self.temperature_list is None and len(self.checkpoint) > 1:
            raise ValueError("several --checkpoint values need --temperatures (a sweep); evaluate one checkpoint at a "
                             "time otherwise.")


def label_of(name: str) -> str:
    return run_dir(name).name


def check_guide(args: EvalArguments, guide: GuideArguments) -> GuideArguments | None:
    """The guide options in force (None without --guide_with), after refusing combinations that mean nothing."""
    if not guide.guide_with:
        return None
    if args.greedy or args.rerank_with or args.latent_prior != "model":
        raise ValueError("--guide_with samples G + D; it does not combine with --greedy, --rerank_with or "
                         "--latent_prior.")
    if len(args.checkpoint) > 1:
        raise ValueError("--guide_with holds a D fitted to one generator: sweep one --checkpoint at a time.")
    return guide


def prepare(name: str, args: EvalArguments, accelerator, guide: GuideArguments | None = None):
    """(checkpoint folder, task, data args, generator, tokenizer, encoded splits) for one checkpoint."""
    ckpt = resolve_checkpoint(name)
    run_args = read_args(ckpt)
    data_fields = {f.name for f in fields(DataArguments)}
    data_args = DataArguments(**{k: v for k, v in run_args.items() if k in data_fields})
    if args.data_dir is not None:
        data_args.data_dir = args.data_dir
    data_args.num_eval_samples = args.num_eval_samples or (
        data_args.num_test_samples if args.split == "test" else data_args.num_eval_samples)
    task = task_of(run_args, ckpt)
    gen, tokenizer, _ = load_checkpoint(str(ckpt), task)
    gen = gen.to(accelerator.device)
    splits = load_task_splits(task, data_args)  # the run's own splits: train feeds unknown-word and copy-rate figures
    if args.test_file:
        path = Path(args.test_file)
        if not path.is_file():
            raise FileNotFoundError(f"--test_file {path}: no such file.")
        splits["test"] = Dataset.from_list(task.read_file(path, Problems(), data_args.max_length,
                                                          data_args.tag_column))
    if args.split not in splits:
        raise ValueError(f"--split {args.split!r} does not exist; choose one of {', '.join(splits)}.")
    encoded = encode_splits(task, splits, tokenizer, gen, data_args.long_sequences)  # the splits training saw
    if guide is not None:  # G + D: G's samples re-weighted by D's density ratio
        gen = GuidedGenerator(gen, load_ratio(guide.guide_with).to(accelerator.device), guide,
                              seed=data_args.data_seed).eval()
    return ckpt, task, data_args, gen, tokenizer, encoded


def run_sweep(args: EvalArguments, accelerator, guide: GuideArguments | None) -> list[dict]:
    rows, task_name = [], None
    for name, label in zip(args.checkpoint, args.label_list):
        ckpt, task, data_args, gen, tokenizer, encoded = prepare(name, args, accelerator, guide)
        if task_name is not None and data_args.task != task_name:
            raise ValueError(f"{name} is a {data_args.task!r} checkpoint but the first one is {task_name!r}; sweep "
                             "one task at a time.")
        task_name = data_args.task
        if not task.SWEEP_AXES:
            raise ValueError(f"temperature sweeps apply to sampled outputs (text, oracle); {name} is a {task_name!r} "
                             "checkpoint.")
        if guide is not None:
            label = f"{label} + D ({guide.tag()})"
        for t in args.temperature_list:
            ev = Evaluator(task, tokenizer, encoded, accelerator, data_args, args.batch_size)
            m = evaluate_split(ev, gen, args.split, Decoding(temperature=t))
            row = {"label": label, "checkpoint": str(ckpt), "task": task_name, "temperature": t}
            row.update({k.split("/", 1)[1]: v for k, v in m.items() if isinstance(v, (int, float, str))})
            rows.append(row)
            if accelerator.is_main_process:
                x, y = task.SWEEP_AXES[0][:2]
                print(f"{label} T={t}: {x}={row[x]:.4f} {y}={row[y]:.4f}", file=sys.stderr)
    return rows, task


def tune_lambda(rerank: Reranker, args: EvalArguments, ev: Evaluator, gen):
    """(λ, record): the λ of --rerank_lambda whose decoding of the dev split scores best on the task's dev
    selection metric (the first of equals, in the order given); each dev pass reuses the candidates of the first."""
    picked_by = selection(ev.task, "mle")  # reranking decodes a supervised G: its dev metric is the MLE run's
    if picked_by is None:
        raise ValueError(f"--rerank_lambda tuning needs a dev selection metric; task {ev.data_args.task!r} has none.")
    metric, direction = picked_by
    dev = {}
    for lam in args.lambda_list:
        rerank.lam = lam
        dev[lam] = evaluate_split(ev, gen, "dev", Decoding(rerank=rerank))[f"dev/{metric}"]
        if ev.accelerator.is_main_process:
            print(f"rerank λ={lam:g}: dev {metric} {dev[lam]:.4f}", file=sys.stderr)
    pick = (max if direction == "max" else min)(dev, key=dev.get)  # dicts keep order: ties go to the earlier λ
    return pick, {"rerank_dev": {f"{lam:g}": v for lam, v in dev.items()}, "rerank_dev_metric": f"dev/{metric}"}


def refuse_overwrite(paths: list[Path], args: EvalArguments) -> None:
    existing = [str(p) for p in paths if p.exists()]
    if existing and not args.overwrite:
        raise FileExistsError(f"{', '.join(existing)} already exist(s); nothing was written. Pass --overwrite to "
                              "replace, or --output_file to write elsewhere.")


def evaluate_raw_text(args: EvalArguments) -> dict:
    """--raw_text: the segment + pos pipeline (tasks/pipeline.py) on a gold file's text, by the CoNLL 2018 metrics."""
    gold_path = Path(args.raw_text)
    if not gold_path.is_file():
        raise FileNotFoundError(f"--raw_text {gold_path}: no such file.")
    mode = "paragraphs" if args.paragraphs else "lines"
    suffix = "_rerank-poe" if args.rerank_with else ""
    out = (Path(args.output_file) if args.output_file else
           run_dir(resolve_checkpoint(args.segmenter)) / f"eval_raw_{gold_path.stem}_{mode}{suffix}.json")
    refuse_overwrite([out] + ([Path(args.conllu_file)] if args.conllu_file else []), args)
    gold = read_treebank(gold_path)
    pipe = load_pipeline(args.segmenter, args.checkpoint[0], batch_size=args.batch_size)
    if args.rerank_with:  # G + D tagging, its samples drawn with the tagger's data seed as its evaluation draws them
        seed = read_args(resolve_checkpoint(args.checkpoint[0])).get("data_seed", 1234)
        pipe = pipe.with_reranker(args.rerank_with, args.lambda_list[0], args.num_candidates, seed)
    text = treebank_text(gold, args.paragraphs)
    t0 = time.time()
    system = pipe.tag_text(text, one_sentence_per_line=not args.paragraphs)
    seconds = time.time() - t0
    result = flat_scores(raw_text_scores(gold, system))
    result["upos_by_sentence"] = upos_by_sentence(gold, system)  # compare.py's paired test of two taggings
    result.update({"gold_file": str(gold_path), "input": mode, "segmenter": args.segmenter,
                   "tagger": args.checkpoint[0], **(pipe.rerank.describe() if pipe.rerank else {}),
                   "characters": len(text), "seconds": seconds, "sentences_per_second": len(system) / seconds})
    write_json_atomic(out, result)
    if args.conllu_file:
        write_text_atomic(Path(args.conllu_file), pipe.to_conllu(system, tree=args.flat_tree))
    print(format_table({k: v for k, v in result.items() if not k.endswith(("_counts", "_by_sentence"))}))
    print(f"wrote {out}", file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> dict | list[dict]:
    args, guide = parse_strict(make_parser((EvalArguments, GuideArguments)), argv,
                               renamed=OUTPUT_RENAMED)
    guide = check_guide(args, guide)
    quiet_libraries()
    use_cpu_threads()
    if args.raw_text:
        return evaluate_raw_text(args)
    accelerator = Accelerator(cpu=not torch.cuda.is_available())
    warn_slow_bf16(accelerator.device.type, accelerator.mixed_precision)
    if args.temperature_list is not None:
        first = resolve_checkpoint(args.checkpoint[0])
        tag = f"_guide-{guide.tag()}" if guide else ""
        prefix = Path(args.output_file) if args.output_file else run_dir(first) / f"sweep_{args.split}{tag}"
        refuse_overwrite([prefix.with_suffix(x) for x in (".csv", ".json", ".png")], args)
        rows, task = run_sweep(args, accelerator, guide)
        if accelerator.is_main_process:
            columns = list(dict.fromkeys(k for r in rows for k in r))
            buf = io.StringIO()
            writer = csv.DictWriter(buf, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
            write_text_atomic(prefix.with_suffix(".csv"), buf.getvalue())
            write_json_atomic(prefix.with_suffix(".json"), {"split": args.split, "rows": rows})
            # G + D's curve is drawn beside G's own, when G's sweep of this split exists (same sample seeds).
            plain = run_dir(first) / f"sweep_{args.split}.json"
            beside = json.loads(plain.read_text())["rows"] if guide and plain.is_file() else []
            plot_sweep(beside + rows, task.SWEEP_AXES, prefix.with_suffix(".png"),
                       title=f"{rows[0]['task']}, {args.split} split")
            print(f"wrote {prefix}.csv, {prefix}.json, {prefix}.png", file=sys.stderr)
        return rows

    ckpt = resolve_checkpoint(args.checkpoint[0])
    poe = args.rerank_with and args.lambda_list != [math.inf]
    suffix = (f"_guide-{guide.tag()}" if guide else "_rerank-sir" if args.rerank_with and args.rerank_method == "sir"
              else "_rerank-poe" if poe else "_rerank" if args.rerank_with
              else "_greedy" if args.greedy
              else "_prior" if args.latent_prior != "model" else "")
    name = f"file_{Path(args.test_file).stem}" if args.test_file else args.split
    out = Path(args.output_file) if args.output_file else run_dir(ckpt) / f"eval_{name}{suffix}.json"
    refuse_overwrite([out], args)
    ckpt, task, data_args, gen, tokenizer, encoded = prepare(str(ckpt), args, accelerator, guide)  # resolved once
    ev = Evaluator(task, tokenizer, encoded, accelerator, data_args, args.batch_size)
    if args.latent_prior != "model":
        if not hasattr(gen, "prior"):
            raise ValueError(f"--latent_prior applies to generators from a prior (random-code, ae, vae, latent-gan); "
                             f"{ckpt} is not one.")
        gen.prior = args.latent_prior
    rerank, tuned = None, {}
    if args.rerank_with:
        rerank = Reranker.from_checkpoint(args.rerank_with, tokenizer, task, accelerator.device,
                                          num_candidates=args.num_candidates, lam=args.lambda_list[0],
                                          seed=data_args.data_seed, method=args.rerank_method)
        if len(args.lambda_list) > 1:
            rerank.lam, tuned = tune_lambda(rerank, args, ev, gen)
    metrics = evaluate_split(ev, gen, args.split, Decoding(greedy=args.greedy, rerank=rerank))
    metrics.update(tuned)
    metrics.update({"checkpoint": str(ckpt), "task": data_args.task, "split": args.split,
                    "data_seed": data_args.data_seed,
                    "test_file": args.test_file, "guide_with": guide and guide.guide_with})
    if accelerator.is_main_process:
        write_json_atomic(out, metrics)
        print(format_table(metrics))
        print(f"wrote {out}", file=sys.stderr)
    return metrics


def cli() -> None:
    """The seqgan-evaluate command (pyproject.toml [project.scripts]); `python scripts/evaluate.py` runs the same."""
    run(main)


if __name__ == "__main__":
    cli()
