#!/usr/bin/env python
"""Train on a task with accelerate: a generator by maximum likelihood or adversarially against D, or the
discriminator-only structured baseline (a CRF for pos, a bigram energy model for text and oracle).

    accelerate launch scripts/train.py --task pos                      # UD English EWT tagger (MLE)
    accelerate launch scripts/train.py --task oracle                   # SeqGAN synthetic oracle (MLE)
    accelerate launch scripts/train.py --task oracle --method gan --bridge rollout --init_from runs/oracle-mle
    accelerate launch scripts/train.py --task text --method gan --bridge gumbel --gan_loss rsgan \
        --init_from runs/text-mle
    accelerate launch scripts/train.py --task pos --method crf --crf_loss hinge          # D alone: a CRF, Viterbi
    accelerate launch scripts/train.py --task pos --method hmm                           # supervised HMM (counting)
    accelerate launch scripts/train.py --task segment                  # tokens, sentences, multiword tokens (chars)
    accelerate launch scripts/train.py --task segment --method crf     # the same labels by a character CRF
    accelerate launch scripts/train.py --task text --method vae                          # G from a prior
    accelerate launch scripts/train.py --task text --method latent-gan --init_from runs/text-ae  # ARAE
    accelerate launch scripts/train.py --task pos --train_file my-train.conllu --test_file my-test.conllu   # own data
    accelerate launch scripts/train.py --task text --generator_name_or_path gpt2 --max_length 64       # pretrained
    accelerate launch scripts/train.py --task pos --encoder_name_or_path bert-base-cased --report_to tensorboard
    accelerate launch --multi_gpu --num_processes 2 scripts/train.py --task pos   # 2 CPU processes
    python scripts/train.py my_config.yaml                             # options from a file
    python scripts/train.py --task pos --help                          # the options of a pos run, its defaults
    python scripts/train.py --help_all                                 # every option, grouped

Writes best/ and last/ checkpoints (with discriminator/ for GAN runs), metrics.jsonl, eval_test.json and
provenance.json (commit, command, machine, wall time: seqgan/provenance.py) to --output_dir (layout in
seqgan/checkpoint.py); --push_to_hub --hub_model_id user/name
then pushes best/ with a model card. A folder that already holds a run is refused (--overwrite_output_dir
replaces it, --resume_from_checkpoint latest continues it), and a lock keeps two runs out of one folder.
On CPU torch uses all cores unless OMP_NUM_THREADS or SEQGAN_NUM_THREADS says otherwise (seqgan/cli.py).
A data or option error prints one line; SEQGAN_DEBUG=1 (or --debug) shows the traceback.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.utils import DataLoaderConfiguration, broadcast_object_list, set_seed

from seqgan.checkpoint import (
    claim_run_dir,
    is_seqgan_checkpoint,
    load_checkpoint,
    release_run_dir,
    resolve_checkpoint,
    write_json_atomic,
)
from seqgan.cli import args_to_dict, cpu_threads, quiet_libraries, run, warn_slow_bf16
from seqgan.config import TRACKERS, Options
from seqgan.data import LengthGroupedBatchSampler, ShardedBatches
from seqgan.hub import check_repo_id, get_token, push
from seqgan.provenance import code_commit, provenance
from seqgan.scoring.evaluation import Evaluator, encode_splits, evaluate_split, format_table
from seqgan.sources import load_task_splits
from seqgan.tasks import get_task, parse_args
from seqgan.tasks import selection as task_selection
from seqgan.training.loops import Guard, Run
from seqgan.training.methods import METHODS, Job
from seqgan.training.recorder import RunData, RunRecorder
from seqgan.training.resume import find_state


def trackers(report_to: str) -> list[str] | str | None:
    """--report_to as accelerate's log_with, after checking each named tracker is installed (the fix if not)."""
    if report_to == "none":
        return None
    if report_to == "all":
        return "all"
    names = report_to.split(",")
    for name in names:
        if importlib.util.find_spec(TRACKERS[name]) is None:
            extra = " (or pip install -e '.[tensorboard]' in the clone)" if name == "tensorboard" else ""
            raise ModuleNotFoundError(f"--report_to {name}: the {TRACKERS[name]} package is not installed; "
                                      f"pip install {TRACKERS[name]}{extra}, or drop it from --report_to.")
    return names


def make_accelerator(grad_accum: int, mixed_precision: str | None = None, report_to: str = "none",
                     out_dir: Path | None = None) -> Accelerator:
    # Without GPUs accelerate forms a process group only when told to use the CPU.
    # split_batches: --batch_size is the global batch, so the scheduler steps once per optimiser step whatever
    # the number of processes (the training loader shards itself: seqgan.data.ShardedBatches; eval loaders are
    # split by accelerate). accelerate 1.x reads this from dataloader_config.
    accelerator = Accelerator(cpu=not torch.cuda.is_available(), gradient_accumulation_steps=grad_accum,
                              mixed_precision=mixed_precision,
                              dataloader_config=DataLoaderConfiguration(split_batches=True),
                              log_with=trackers(report_to), project_dir=str(out_dir) if out_dir else None)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world != accelerator.num_processes:
        raise ValueError(f"launched as {world} processes but accelerate formed a group of "
                         f"{accelerator.num_processes}; refusing to run independent copies that would write one "
                         "output_dir. Check the launch flags.")
    warn_slow_bf16(accelerator.device.type, accelerator.mixed_precision)
    if accelerator.device.type == "cpu":
        local = int(os.environ.get("LOCAL_WORLD_SIZE", accelerator.num_processes))
        threads = cpu_threads(os.environ, len(os.sched_getaffinity(0)), local)
        if threads is not None:
            torch.set_num_threads(threads)
    return accelerator


RESUME_MAY_DIFFER = {"resume_from_checkpoint", "output_dir", "push_to_hub", "hub_model_id", "hub_private",
                     "save_total_limit",
                     "overwrite_output_dir", "report_to", "dataset_license"}  # none of these changes what is trained


def check_resume(out_dir: Path, state_dir: Path, run_args: dict) -> dict:
    """The saved trainer state, after checking that this run's options are the interrupted run's."""
    saved_args = out_dir / "args.json"
    if not saved_args.is_file():
        raise FileNotFoundError(f"{saved_args} is missing: --resume_from_checkpoint continues a run in its own "
                                "--output_dir.")
    saved = json.loads(saved_args.read_text())
    differ = sorted(k for k in run_args if k not in RESUME_MAY_DIFFER and k in saved and saved[k] != run_args[k])
    if differ:
        raise ValueError("--resume_from_checkpoint needs the interrupted run's options; these differ: " +
                         ", ".join(f"--{k} {saved.get(k)!r} (now {run_args[k]!r})" for k in differ))
    return json.loads((state_dir / "trainer_state.json").read_text())


def claim(accelerator: Accelerator, out_dir: Path, train_args) -> Path | None:
    """The main process takes the run folder (seqgan.checkpoint.claim_run_dir); every process learns the outcome,
    so a refusal stops them all instead of leaving the others waiting."""
    lock, error = None, [None]
    if accelerator.is_main_process:
        try:
            lock = claim_run_dir(out_dir, train_args.overwrite_output_dir, bool(train_args.resume_from_checkpoint))
        except FileExistsError as e:
            error = [str(e)]
    if accelerator.num_processes > 1:
        broadcast_object_list(error)
    if error[0] is not None:
        raise FileExistsError(error[0])
    return lock


def main(argv: list[str] | None = None) -> dict:
    data_args, model_args, train_args, gan_args, crf_args = parse_args(argv, doc=__doc__)
    task = get_task(data_args.task)
    accelerator = make_accelerator(train_args.gradient_accumulation_steps, train_args.mixed_precision,
                                   train_args.report_to, Path(train_args.output_dir))
    hub_token = None
    if train_args.push_to_hub:  # fail now, not after hours of training (and before the run folder is touched)
        check_repo_id(train_args.hub_model_id)
        hub_token = get_token()
    out_dir = Path(train_args.output_dir)
    lock = claim(accelerator, out_dir, train_args)
    try:
        return train(task, accelerator, out_dir, hub_token,
                     Options(data_args, model_args, train_args, gan_args, crf_args),
                     command=list(sys.argv[1:] if argv is None else argv))
    finally:
        release_run_dir(lock)


def train(task, accelerator, out_dir, hub_token, options: Options, command: list[str]) -> dict:
    data_args, model_args, train_args, gan_args, crf_args = (options.data, options.model, options.train, options.gan,
                                                             options.crf)
    quiet_libraries()
    set_seed(train_args.seed)
    run_args = args_to_dict(data_args, model_args, train_args, gan_args, crf_args)
    t0, commit = time.time(), code_commit()  # the code this run starts from (provenance.json)

    # Data, tokenizer, generator (from a checkpoint, or configured from scratch; a CRF or bigram model for crf).
    splits = load_task_splits(task, data_args)
    start = gan_args.init_from or model_args.generator_name_or_path
    negatives = None
    if crf_args.negatives_from:  # G supplies the negatives: the CRF reads sentences with G's tokenizer
        negatives, tokenizer, _ = load_checkpoint(crf_args.negatives_from, task)
        negatives = negatives.to(accelerator.device).eval()
    ckpt = str(resolve_checkpoint(start)) if start else None  # once: a Hub id is fetched here, not again below
    method = METHODS[train_args.method]
    if start and (gan_args.init_from or is_seqgan_checkpoint(ckpt)):
        gen, tokenizer, start_args = load_checkpoint(ckpt, task)
        # its vocabulary and word split are the protocol's
        if start_args.get("protocol", "seqgan") != data_args.protocol:
            raise ValueError(f"{start} was trained under --protocol {start_args.get('protocol', 'seqgan')}, this run "
                             "under "
                             f"--protocol {data_args.protocol}: pass --protocol "
                             f"{start_args.get('protocol', 'seqgan')}.")
    elif start:  # a third-party pretrained model (text: any causal LM) with its own tokenizer
        gen, tokenizer = task.pretrained_generator(ckpt, model_args, data_args)
    else:
        tokenizer = tokenizer if negatives is not None else task.build_tokenizer(splits, model_args, data_args)
        gen = method.build(task, tokenizer, options, splits["train"])
    method.check_start(gen, start)
    gen = gen.to(accelerator.device)
    encoded = encode_splits(task, splits, tokenizer, gen, data_args.long_sequences)
    sampler = LengthGroupedBatchSampler([len(x) for x in encoded["train"]["labels"]], train_args.batch_size,
                                        train_args.seed)
    if train_args.batch_size < 2 * accelerator.num_processes:
        raise ValueError(f"--batch_size {train_args.batch_size} is the global batch: with {accelerator.num_processes} "
                         f"processes it must be at least {2 * accelerator.num_processes}.")
    # Plain Python rows: Arrow row access per example would dominate small-model step time.
    train_loader = ShardedBatches(encoded["train"].to_list(), sampler, task.collator(tokenizer),
                                  accelerator.num_processes,
                                  accelerator.process_index, accelerator.device)
    selection = task_selection(task, train_args.method)
    resume_path, resume = None, None
    if train_args.resume_from_checkpoint:
        resume_path = find_state(out_dir, train_args.resume_from_checkpoint)
        resume = check_resume(out_dir, resume_path, run_args)
    collapse = (train_args.collapse_min_distinct_2, train_args.collapse_min_unique)
    rec = RunRecorder(out_dir, accelerator,
                      RunData(task, tokenizer, encoded, data_args, run_args, selection, collapse), resume)
    if accelerator.log_with:  # --report_to: the options as the run's hyperparameters (trackers take scalars)
        accelerator.init_trackers(out_dir.name, config={k: v if isinstance(v, (int, float, str, bool)) else str(v)
                                                        for k, v in run_args.items()})
    run = Run(accelerator=accelerator, train_args=train_args, gan_args=gan_args, data_args=data_args,
              train_loader=train_loader, sampler=sampler, rec=rec,
              guard=Guard(accelerator, rec, train_args.max_nonfinite_steps),
              resume=resume, resume_path=resume_path)
    if accelerator.is_main_process:
        print(f"task={data_args.task} method={train_args.method} params={sum(p.numel() for p in gen.parameters()):,} "
              f"train={len(encoded['train'])} dev={len(encoded['dev'])} test={len(encoded['test'])} "
              f"processes={accelerator.num_processes} threads={torch.get_num_threads()} start={start or 'scratch'}"
              + (f" resuming from {resume_path} ({resume['phase']}, step {resume['phase_step']})" if resume else ""),
              file=sys.stderr)

    # Training by the method's own function (seqgan/training/methods.py).
    done = method.train(Job(task, run, options, gen, tokenizer, start, encoded, negatives))
    step, epoch, gen, disc = done.step, done.epoch, done.gen, done.disc
    rec.save_last(step, epoch, gen, disc)

    # Test metrics of best/ (and of last/ for GAN runs): every process evaluates its shard; main writes.
    results = {}
    test_args = dataclasses.replace(data_args, num_eval_samples=data_args.num_test_samples)
    # When best/ is the final state (always for text GAN runs), last/ holds the same weights: reuse its figures.
    last_is_best = rec.best_step == step
    adversarial = method.family == "GAN"  # best/ (a dev pick) and last/ are both reported
    for name in (["best"] + (["last"] if adversarial and not last_is_best else [])):
        final_gen, _, _ = load_checkpoint(str(out_dir / name), task)
        final_gen = final_gen.to(accelerator.device)
        for split in ("dev", "test"):
            m = evaluate_split(Evaluator(task, tokenizer, encoded, accelerator, test_args), final_gen, split)
            results.update(m if name == "best" else {f"last/{k}": v for k, v in m.items()})
    if adversarial and last_is_best:
        results.update({f"last/{k}": v for k, v in list(results.items())})
    results.update({"checkpoint": str(out_dir / "best"), "best_step": rec.best_step, "task": data_args.task,
                    "method": train_args.method, "seed": train_args.seed, "train_time_s": time.time() - t0,
                    "num_processes": accelerator.num_processes, "start": start})
    results.update({k: run_args[k] for k in method.result_keys})  # e.g. a GAN's bridge and loss
    results["average_weights"] = train_args.average_weights
    # splits and evaluation samples (each split's sample_seed derives from it)
    results["data_seed"] = data_args.data_seed
    results["mixed_precision"] = accelerator.mixed_precision
    if accelerator.is_main_process:
        write_json_atomic(out_dir / "eval_test.json", results)
        # The commit, command, machine and wall time behind these figures (compare.py's provenance table).
        write_json_atomic(out_dir / "provenance.json", provenance(command, commit, time.time() - t0,
                                                                  accelerator.num_processes))
        rec.log({"step": step, **{k: v for k, v in results.items() if k.startswith("test/")}})
        if last_is_best and adversarial:  # the same weights: print their figures once
            print("last/ is best/ (the final state scored best, or no dev metric selects for this task):",
                  file=sys.stderr)
            print(format_table({k: v for k, v in results.items() if not k.startswith("last/")}))
        else:
            print(format_table(results))
    accelerator.end_training()  # flush and close the trackers (a no-op without --report_to)
    if accelerator.is_main_process:
        if train_args.push_to_hub:
            print(f"pushed to {train_args.hub_model_id}: " + push(str(out_dir / "best"), train_args.hub_model_id,
                                                                  task.CARD,
                                                                  private=train_args.hub_private, token=hub_token))
    return results


def cli() -> None:
    """The seqgan-train command (pyproject.toml [project.scripts]); `python scripts/train.py` runs the same."""
    run(main)


if __name__ == "__main__":
    cli()
