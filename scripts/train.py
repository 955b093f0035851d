#!/usr/bin/env python
"""Train a seqgan generator by maximum likelihood on a task, with accelerate.

    accelerate launch scripts/train.py --task pos                      # UD English EWT tagger
    accelerate launch scripts/train.py --task oracle                   # SeqGAN synthetic oracle
    accelerate launch scripts/train.py --task text --num_epochs 5      # COCO captions
    accelerate launch --multi_gpu --num_processes 2 scripts/train.py --task pos   # 2 CPU processes
    python scripts/train.py my_config.yaml                             # options from a file

Writes best/ and last/ checkpoints, metrics.jsonl and eval_test.json to --output_dir
(layout in seqgan/checkpoint.py). `--help` lists every option with its help text.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
import transformers
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from seqgan.checkpoint import load_checkpoint, save_checkpoint, write_json_atomic
from seqgan.config import args_to_dict, parse_args, quiet_libraries
from seqgan.data import LengthGroupedBatchSampler
from seqgan.evaluation import eval_loader, evaluate_split, format_table
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


def masked_ce(logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over real positions. logits (B, T, V), labels/mask (B, T)."""
    return F.cross_entropy(logits[mask].float(), labels[mask])  # (N, V) vs (N,): padding never enters


def param_groups(model: torch.nn.Module, weight_decay: float):
    # Biases and LayerNorm gains are the 1-D parameters; decaying them only hurts.
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def main(argv: list[str] | None = None) -> dict:
    data_args, model_args, train_args = parse_args(argv)
    task = get_task(data_args.task)
    accelerator = make_accelerator(train_args.gradient_accumulation_steps)
    quiet_libraries()
    set_seed(train_args.seed)
    out_dir = Path(train_args.output_dir)
    run_args = args_to_dict(data_args, model_args, train_args)

    # Data, tokenizer, generator.
    splits = task.load_splits(data_args)
    if model_args.generator_name_or_path:
        gen, tokenizer, _ = load_checkpoint(model_args.generator_name_or_path, task)
    else:
        tokenizer = task.build_tokenizer(splits["train"], model_args)
        gen = task.build_generator(tokenizer, model_args, data_args)
    encoded = {k: task.encode(v, tokenizer, gen) for k, v in splits.items()}
    collate = task.collator(tokenizer)
    sampler = LengthGroupedBatchSampler([len(x) for x in encoded["train"]["labels"]], train_args.batch_size, train_args.seed)
    # Plain Python rows: Arrow row access per example would dominate small-model step time.
    train_loader = DataLoader(encoded["train"].to_list(), batch_sampler=sampler, collate_fn=collate)

    optimizer = torch.optim.AdamW(param_groups(gen, train_args.weight_decay), lr=train_args.learning_rate)
    batches_per_process = math.ceil(len(train_loader) / accelerator.num_processes)
    steps_per_epoch = math.ceil(batches_per_process / train_args.gradient_accumulation_steps)
    total_steps = train_args.max_steps or math.ceil(train_args.num_epochs * steps_per_epoch)
    # accelerate steps a prepared scheduler once per process per optimiser step.
    scheduler = transformers.get_scheduler(
        train_args.lr_scheduler, optimizer, num_warmup_steps=int(train_args.warmup_ratio * total_steps) * accelerator.num_processes,
        num_training_steps=total_steps * accelerator.num_processes)
    gen, optimizer, train_loader, scheduler = accelerator.prepare(gen, optimizer, train_loader, scheduler)
    dev_loader = eval_loader(encoded["dev"], collate, 64, accelerator)
    raw_gen = accelerator.unwrap_model(gen)
    sel_name, sel_mode = task.SELECTION
    sel_key = f"dev/{sel_name}"

    log_path = out_dir / "metrics.jsonl"
    if accelerator.is_main_process:
        out_dir.mkdir(parents=True, exist_ok=True)
        log_path.unlink(missing_ok=True)
        write_json_atomic(out_dir / "args.json", run_args)
        n_params = sum(p.numel() for p in raw_gen.parameters())
        print(f"task={data_args.task} params={n_params:,} train={len(encoded['train'])} dev={len(encoded['dev'])} "
              f"test={len(encoded['test'])} steps={total_steps} processes={accelerator.num_processes}", file=sys.stderr)

    def log(record: dict):
        if accelerator.is_main_process:
            with open(log_path, "a") as f:
                f.write(json.dumps(record) + "\n")

    best, step, epoch, t0 = None, 0, 0, time.time()
    eval_every = train_args.eval_every or steps_per_epoch
    bar = tqdm(total=total_steps, disable=not accelerator.is_main_process, desc=f"{data_args.task} mle")
    running = []
    gen.train()
    while step < total_steps:
        sampler.set_epoch(epoch)
        for batch in train_loader:
            with accelerator.accumulate(gen):
                loss = masked_ce(gen(batch), batch["labels"], batch["mask"])
                accelerator.backward(loss)
                grad_norm = None
                if accelerator.sync_gradients and train_args.max_grad_norm > 0:
                    grad_norm = accelerator.clip_grad_norm_(gen.parameters(), train_args.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            running.append(loss.detach())
            if not accelerator.sync_gradients:
                continue
            step += 1
            bar.update(1)
            if step % train_args.log_every == 0 or step == total_steps:
                mean_loss = accelerator.gather(torch.stack(running).mean()[None]).mean().item()
                running = []
                bar.set_postfix(loss=f"{mean_loss:.4f}")
                log({"step": step, "epoch": epoch, "train/loss": mean_loss, "train/lr": scheduler.get_last_lr()[0],
                     "train/grad_norm": None if grad_norm is None else float(grad_norm), "time_s": time.time() - t0})
            if step % eval_every == 0 or step == total_steps:
                metrics = evaluate_split(task, raw_gen, tokenizer, encoded, "dev", accelerator, data_args, loader=dev_loader)
                log({"step": step, "epoch": epoch, **metrics, "time_s": time.time() - t0})
                score = metrics[sel_key]
                if best is None or (score > best if sel_mode == "max" else score < best):
                    best = score
                    if accelerator.is_main_process:
                        save_checkpoint(out_dir / "best", raw_gen, tokenizer, run_args, {"step": step, "epoch": epoch, **metrics})
                if accelerator.is_main_process:
                    bar.write(f"step {step}: " + ", ".join(f"{k}={v:.4f}" for k, v in metrics.items() if isinstance(v, float)))
                accelerator.wait_for_everyone()
            if step >= total_steps:
                break
        epoch += 1
    bar.close()
    if accelerator.is_main_process:
        save_checkpoint(out_dir / "last", raw_gen, tokenizer, run_args, {"step": step, "epoch": epoch})
    accelerator.wait_for_everyone()

    # Test metrics of the best checkpoint (every process evaluates its shard; main writes).
    best_gen, _, _ = load_checkpoint(str(out_dir / "best"), task)
    best_gen = best_gen.to(accelerator.device)
    results = {}
    test_args = dataclasses.replace(data_args, num_eval_samples=data_args.num_test_samples)
    for split in ("dev", "test"):
        results.update(evaluate_split(task, best_gen, tokenizer, encoded, split, accelerator, test_args))
    results.update({"checkpoint": str(out_dir / "best"), "task": data_args.task, "seed": train_args.seed,
                    "train_time_s": time.time() - t0, "num_processes": accelerator.num_processes})
    if accelerator.is_main_process:
        write_json_atomic(out_dir / "eval_test.json", results)
        log({"step": step, **{k: v for k, v in results.items() if k.startswith("test/")}})
        print(format_table(results))
    return results


if __name__ == "__main__":
    main()
