#!/usr/bin/env python
"""Train on a task with accelerate: a generator by maximum likelihood or adversarially against D, or the
discriminator-only structured baseline (a CRF for pos, a bigram energy model for text and oracle).

    accelerate launch scripts/train.py --task pos                      # UD English EWT tagger (MLE)
    accelerate launch scripts/train.py --task oracle                   # SeqGAN synthetic oracle (MLE)
    accelerate launch scripts/train.py --task oracle --method gan --bridge rollout --init_from runs/oracle-mle
    accelerate launch scripts/train.py --task text --method gan --bridge gumbel --gan_loss rsgan --init_from runs/text-mle
    accelerate launch scripts/train.py --task pos --method crf --crf_loss hinge          # CRF baseline, Viterbi decoding
    accelerate launch --multi_gpu --num_processes 2 scripts/train.py --task pos   # 2 CPU processes
    python scripts/train.py my_config.yaml                             # options from a file

Writes best/ and last/ checkpoints (with discriminator/ for GAN runs), metrics.jsonl and
eval_test.json to --output_dir (layout in seqgan/checkpoint.py); --push_to_hub --hub_model_id user/name
then pushes best/ with a model card. `--help` lists every option.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import sys
import time
from pathlib import Path

import torch
import transformers
from accelerate import Accelerator
from torch.optim.swa_utils import AveragedModel
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from seqgan.bridges import BridgeContext
from seqgan.checkpoint import load_checkpoint, write_json_atomic
from seqgan.config import args_to_dict, parse_args, quiet_libraries
from seqgan.data import LengthGroupedBatchSampler
from seqgan.discriminator import build_discriminator
from seqgan.evaluation import evaluate_split, format_table
from seqgan.gan import GanModels, d_step, g_step
from seqgan.hub import check_repo_id, get_token, push
from seqgan.crf_tagger import CrfLossContext
from seqgan.losses import LOSSES, Objective, mle_objective
from seqgan.recorder import RunRecorder
from tasks import get_task


def make_accelerator(grad_accum: int) -> Accelerator:
    # Without GPUs accelerate forms a process group only when told to use the CPU.
    accelerator = Accelerator(cpu=not torch.cuda.is_available(), gradient_accumulation_steps=grad_accum)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world != accelerator.num_processes:
        raise RuntimeError(f"launched as {world} processes but accelerate formed a group of {accelerator.num_processes}; "
                           "refusing to run independent copies that would write one output_dir. Check the launch flags.")
    if "SEQGAN_NUM_THREADS" in os.environ:
        torch.set_num_threads(int(os.environ["SEQGAN_NUM_THREADS"]))
    elif accelerator.device.type == "cpu":
        # `accelerate launch` pins OMP_NUM_THREADS=1; on CPU share the cores among local processes instead.
        local = int(os.environ.get("LOCAL_WORLD_SIZE", accelerator.num_processes))
        torch.set_num_threads(max(1, len(os.sched_getaffinity(0)) // local))
    return accelerator


def param_groups(model: torch.nn.Module, weight_decay: float):
    # Biases and LayerNorm gains are the 1-D parameters; decaying them only hurts.
    params = [p for p in model.parameters() if p.requires_grad]
    return [{"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]


def batches_forever(loader, sampler):
    """Real batches across epochs (the sampler reshuffles each epoch)."""
    for epoch in itertools.count():
        sampler.set_epoch(epoch)
        yield from loader


def window_mean(window: list[dict]) -> dict:
    """Per-key mean of logged values over a logging window (None values skipped)."""
    keys = sorted({k for w in window for k in w})
    return {k: sum(w[k] for w in window if w.get(k) is not None) / max(sum(w.get(k) is not None for w in window), 1)
            for k in keys}


def train_supervised(accelerator, raw_gen, objective: Objective, train_loader, sampler, train_args, num_epochs: float,
                     rec: RunRecorder, averager=None):
    """Minimise `objective` over the training data (MLE, or a CRF loss), evaluating on dev every epoch
    (or --eval_every steps). With `averager`, the running average of the weights is what is evaluated."""
    optimizer = torch.optim.AdamW(param_groups(raw_gen, train_args.weight_decay), lr=train_args.learning_rate)
    batches_per_process = math.ceil(len(train_loader) / accelerator.num_processes)
    steps_per_epoch = math.ceil(batches_per_process / train_args.gradient_accumulation_steps)
    total_steps = train_args.max_steps or math.ceil(num_epochs * steps_per_epoch)
    # accelerate steps a prepared scheduler once per process per optimiser step.
    scheduler = transformers.get_scheduler(
        train_args.lr_scheduler, optimizer, num_warmup_steps=int(train_args.warmup_ratio * total_steps) * accelerator.num_processes,
        num_training_steps=total_steps * accelerator.num_processes)
    model, optimizer, loader, scheduler = accelerator.prepare(objective, optimizer, train_loader, scheduler)
    eval_every = train_args.eval_every or steps_per_epoch
    eval_gen = averager.module if averager is not None else raw_gen
    bar = tqdm(total=total_steps, disable=not accelerator.is_main_process, desc=train_args.method)
    step, epoch, running = 0, 0, []
    model.train()
    while step < total_steps:
        sampler.set_epoch(epoch)
        for batch in loader:
            with accelerator.accumulate(model):
                loss = model(batch)
                accelerator.backward(loss)
                grad_norm = None
                if accelerator.sync_gradients and train_args.max_grad_norm > 0:
                    grad_norm = accelerator.clip_grad_norm_(model.parameters(), train_args.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            running.append(loss.detach())
            if not accelerator.sync_gradients:
                continue
            step += 1
            bar.update(1)
            if averager is not None:
                averager.update_parameters(raw_gen)
            if step % train_args.log_every == 0 or step == total_steps:
                mean_loss = accelerator.gather(torch.stack(running).mean()[None]).mean().item()
                running = []
                bar.set_postfix(loss=f"{mean_loss:.4f}")
                rec.log({"step": step, "epoch": epoch, "train/loss": mean_loss, "train/lr": scheduler.get_last_lr()[0],
                         "train/grad_norm": None if grad_norm is None else float(grad_norm)})
            if step % eval_every == 0 or step == total_steps:
                rec.evaluate(step, epoch, eval_gen, phase=train_args.method)
            if step >= total_steps:
                break
        epoch += 1
    bar.close()
    return step, epoch, eval_gen


def train_gan(accelerator, raw_gen, tokenizer, train_loader, sampler, data_args, train_args, gan_args, rec: RunRecorder):
    """The alternating algorithm: D pretraining, then rounds of k_D D steps and k_G G steps."""
    cond_vocab = len(tokenizer) if raw_gen.conditional else 0  # D(x, y) reads the sentence's words
    disc = build_discriminator(raw_gen.vocab_size, gan_args, cond_vocab, data_args.max_length + 1)
    g_opt = torch.optim.AdamW(param_groups(raw_gen, train_args.weight_decay), lr=gan_args.g_learning_rate)
    d_opt = torch.optim.AdamW(param_groups(disc, train_args.weight_decay), lr=gan_args.d_learning_rate)
    gen, disc, g_opt, d_opt = accelerator.prepare(raw_gen, disc, g_opt, d_opt)
    raw_disc = accelerator.unwrap_model(disc)
    rng = torch.Generator(device=accelerator.device).manual_seed(train_args.seed * 1000 + accelerator.process_index)
    ctx = BridgeContext(gen=gen, sampler=raw_gen, disc=raw_disc, loss=LOSSES[gan_args.gan_loss], args=gan_args,
                        conditional=raw_gen.conditional, total_steps=gan_args.adv_steps * gan_args.g_steps, generator=rng)
    models = GanModels(gen, disc, g_opt, d_opt, ctx, train_args.max_grad_norm)
    real = batches_forever(accelerator.prepare(train_loader), sampler)
    raw_gen.eval()  # no dropout: the policy that samples is the one whose log-probs are differentiated
    if accelerator.is_main_process:
        print(f"D: {sum(p.numel() for p in raw_disc.parameters()):,} params, {type(raw_disc.encoder).__name__} encoder, "
              f"causal={raw_disc.config.causal}; bridge={gan_args.bridge} loss={gan_args.gan_loss}", file=sys.stderr)

    bar = tqdm(total=gan_args.d_pretrain_steps + gan_args.adv_steps, disable=not accelerator.is_main_process, desc="gan")
    window: list[dict] = []
    for i in range(1, gan_args.d_pretrain_steps + 1):
        window.append(d_step(accelerator, models, next(real)))
        bar.update(1)
        if i % gan_args.gan_log_every == 0 or i == gan_args.d_pretrain_steps:
            rec.log({"step": 0, "phase": "d_pretrain", "d_step": i, **window_mean(window)})
            window = []
    rec.new_phase()
    rec.evaluate(0, 0, raw_gen, raw_disc, phase="gan")  # the starting point, a candidate for best/ like any other
    for r in range(1, gan_args.adv_steps + 1):
        logs = {}
        for _ in range(gan_args.d_steps):
            logs.update(d_step(accelerator, models, next(real)))
        raw_disc.eval()
        for _ in range(gan_args.g_steps):
            logs.update(g_step(accelerator, models, next(real)))
        window.append(logs)
        bar.update(1)
        if r % gan_args.gan_log_every == 0 or r == gan_args.adv_steps:
            mean = window_mean(window)
            rec.log({"step": r, "phase": "gan", **mean})
            bar.set_postfix(d_acc=f"{mean.get('gan/d_acc', float('nan')):.2f}", ent=f"{mean.get('gan/g_entropy', float('nan')):.2f}")
            window = []
        if r % gan_args.gan_eval_every == 0 or r == gan_args.adv_steps:
            rec.evaluate(r, 0, raw_gen, raw_disc, phase="gan")
    bar.close()
    return raw_disc


def main(argv: list[str] | None = None) -> dict:
    data_args, model_args, train_args, gan_args, crf_args = parse_args(argv)
    task = get_task(data_args.task)
    accelerator = make_accelerator(train_args.gradient_accumulation_steps)
    quiet_libraries()
    set_seed(train_args.seed)
    out_dir = Path(train_args.output_dir)
    run_args = args_to_dict(data_args, model_args, train_args, gan_args, crf_args)
    if train_args.push_to_hub:  # fail now, not after hours of training
        check_repo_id(train_args.hub_model_id)
        hub_token = get_token()
    t0 = time.time()

    # Data, tokenizer, generator (from a checkpoint, or configured from scratch; a CRF or bigram model for crf).
    splits = task.load_splits(data_args)
    start = gan_args.init_from or model_args.generator_name_or_path
    negatives = None
    if crf_args.negatives_from:  # G supplies the negatives: the CRF reads sentences with G's tokenizer
        negatives, tokenizer, _ = load_checkpoint(crf_args.negatives_from, task)
        negatives = negatives.to(accelerator.device).eval()
    if start:
        gen, tokenizer, _ = load_checkpoint(start, task)
    else:
        tokenizer = tokenizer if negatives is not None else task.build_tokenizer(splits["train"], model_args)
        build = task.build_crf if train_args.method == "crf" else task.build_generator
        gen = build(tokenizer, model_args, data_args)
    gen = gen.to(accelerator.device)
    encoded = {k: task.encode(v, tokenizer, gen) for k, v in splits.items()}
    collate = task.collator(tokenizer)
    sampler = LengthGroupedBatchSampler([len(x) for x in encoded["train"]["labels"]], train_args.batch_size, train_args.seed)
    # Plain Python rows: Arrow row access per example would dominate small-model step time.
    train_loader = DataLoader(encoded["train"].to_list(), batch_sampler=sampler, collate_fn=collate)
    selection = getattr(task, f"{train_args.method.upper()}_SELECTION", task.SELECTION)
    rec = RunRecorder(out_dir, accelerator, task, tokenizer, encoded, data_args, run_args, selection)
    if accelerator.is_main_process:
        print(f"task={data_args.task} method={train_args.method} params={sum(p.numel() for p in gen.parameters()):,} "
              f"train={len(encoded['train'])} dev={len(encoded['dev'])} test={len(encoded['test'])} "
              f"processes={accelerator.num_processes} start={start or 'scratch'}", file=sys.stderr)

    # Training: MLE or CRF (the whole run, or G's pretraining in a GAN run without --init_from), then adversarial.
    disc, step, epoch = None, 0, 0
    if train_args.method == "crf":
        if not hasattr(gen, "structured_loss"):
            raise ValueError(f"{start} is not a CRF or bigram model; --method crf trains those (drop --generator_name_or_path).")
        ctx = CrfLossContext(negatives, crf_args.num_negatives,
                             torch.Generator(device=accelerator.device).manual_seed(train_args.seed * 1000 + accelerator.process_index))
        if hasattr(gen, "init_from_counts") and not start:  # the bigram model starts at the smoothed counts
            gen.init_from_counts(encoded["train"]["labels"], crf_args.bigram_smoothing)
        objective = Objective(gen, lambda g, b, c: g.structured_loss(b, crf_args.crf_loss, c), ctx)
        averager = AveragedModel(gen) if crf_args.crf_average else None
        step, epoch, gen = train_supervised(accelerator, gen, objective, train_loader, sampler, train_args,
                                            train_args.num_epochs, rec, averager)
    else:
        mle_epochs = train_args.num_epochs if train_args.method == "mle" else (0 if start else gan_args.mle_pretrain_epochs)
        if mle_epochs > 0 or (train_args.method == "mle" and train_args.max_steps):
            step, epoch, _ = train_supervised(accelerator, gen, Objective(gen, mle_objective), train_loader, sampler,
                                              train_args, mle_epochs, rec)
        elif train_args.method == "gan" and not start:
            raise ValueError("--method gan needs a generator to start from: --init_from an MLE run, or --mle_pretrain_epochs N.")
    if train_args.method == "gan":
        disc = train_gan(accelerator, gen, tokenizer, train_loader, sampler, data_args, train_args, gan_args, rec)
        step = gan_args.adv_steps
    rec.save_last(step, epoch, gen, disc)

    # Test metrics of best/ (and of last/ for GAN runs): every process evaluates its shard; main writes.
    results = {}
    test_args = dataclasses.replace(data_args, num_eval_samples=data_args.num_test_samples)
    for name in (["best"] + (["last"] if train_args.method == "gan" else [])):
        final_gen, _, _ = load_checkpoint(str(out_dir / name), task)
        final_gen = final_gen.to(accelerator.device)
        for split in ("dev", "test"):
            m = evaluate_split(task, final_gen, tokenizer, encoded, split, accelerator, test_args)
            results.update(m if name == "best" else {f"last/{k}": v for k, v in m.items()})
    results.update({"checkpoint": str(out_dir / "best"), "best_step": rec.best_step, "task": data_args.task,
                    "method": train_args.method, "seed": train_args.seed, "train_time_s": time.time() - t0,
                    "num_processes": accelerator.num_processes, "start": start})
    if train_args.method == "gan":
        results.update({"bridge": gan_args.bridge, "gan_loss": gan_args.gan_loss})
    if train_args.method == "crf":
        results.update({"crf_loss": crf_args.crf_loss, "crf_average": crf_args.crf_average})
    if accelerator.is_main_process:
        write_json_atomic(out_dir / "eval_test.json", results)
        rec.log({"step": step, **{k: v for k, v in results.items() if k.startswith("test/")}})
        print(format_table(results))
        if train_args.push_to_hub:
            print(f"pushed to {train_args.hub_model_id}: " + push(str(out_dir / "best"), train_args.hub_model_id,
                                                                  private=train_args.hub_private, token=hub_token))
    return results


if __name__ == "__main__":
    main()
