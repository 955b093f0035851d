"""The training loops of scripts/train.py: supervised (MLE, CRF losses) and adversarial, resumable and guarded.

    step, epoch, eval_gen = train_supervised(run, raw_gen, objective, num_train_epochs, weight_average(raw_gen,
    train_args))
    disc = train_gan(run, raw_gen, tokenizer)
    alternate(run, raw_gen, second, context, (second_step, gen_step), keep_disc)   # the loop of GANs and CoT

`run` (a Run) carries what every loop needs: accelerator, options, data, recorder, guard, the
state to resume from. A training state (seqgan/training/resume.py) is saved at every dev evaluation (or
every --save_every steps): weights, optimisers, schedulers, every RNG, and the position in the data,
so a run killed at any point resumes where that state was written and ends exactly as an
uninterrupted run would. A non-finite loss or gradient skips the step (logged); --max_nonfinite_steps
of them in a row stop the run with the last good state intact.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import transformers
from torch.optim.swa_utils import AveragedModel
from tqdm.auto import tqdm

from seqgan.training.bridges import BridgeContext
from seqgan.training.gan import GanModels, Guard, build_discriminator, d_step, g_step, guarded_step
from seqgan.training.losses import LOSSES
from seqgan.training.recorder import RunRecorder
from seqgan.training.resume import load_state, save_state

if TYPE_CHECKING:
    from accelerate import Accelerator

    from seqgan.config import DataArguments, GanArguments, TrainArguments
    from seqgan.data import LengthGroupedBatchSampler, ShardedBatches


@dataclass
class Run:
    accelerator: Accelerator
    train_args: TrainArguments
    gan_args: GanArguments
    data_args: DataArguments
    train_loader: ShardedBatches     # this process's share of every global training batch
    sampler: LengthGroupedBatchSampler
    rec: RunRecorder
    guard: Guard
    resume: dict | None = None      # trainer_state.json of the state to resume from
    resume_path: Path | None = None
    step_offset: int = 0            # global steps of earlier phases (state folders are numbered globally)
    extra_generators: dict = field(default_factory=dict)

    def resuming(self, *phases) -> bool:
        return self.resume is not None and self.resume["phase"] in phases

    def save(self, parts: dict, state: dict) -> None:
        state = {**state, "global_step": self.step_offset + state["phase_step"], "best": self.rec.best,
                 "best_step": self.rec.best_step, "log_bytes": self.rec.log_size()}
        save_state(self.rec.out_dir, self.accelerator, parts, state, keep=self.train_args.save_total_limit)


def start_epoch(loader, sampler, epoch: int):
    """An iterator over `epoch`'s batches. accelerate's loader resets the sampler's epoch to its own count
    of iterations when iterated, so a resumed run (a fresh loader at a later epoch) must set both."""
    if hasattr(loader, "set_epoch"):
        loader.set_epoch(epoch)
    sampler.set_epoch(epoch)
    return iter(loader)


def seek(it, n: int) -> None:
    """Take n batches from an iterator. A resumed run does this before restoring the RNG: starting a
    DataLoader iterator draws a seed from the global RNG, as the interrupted run's iterator did before
    its state was saved."""
    for _ in range(n):
        next(it)


class RealBatches:
    """Real batches across epochs with a position (epoch, batches taken) that a resumed run can restore."""

    def __init__(self, loader, sampler):
        self.loader, self.sampler, self.epoch, self.index = loader, sampler, 0, 0
        self._it = None

    def seek(self, epoch: int, index: int) -> None:
        self.epoch, self.index = epoch, index
        if index > 0:
            self._it = start_epoch(self.loader, self.sampler, epoch)
            seek(self._it, index)

    def __next__(self):
        while True:
            if self._it is None:
                self._it = start_epoch(self.loader, self.sampler, self.epoch)
            batch = next(self._it, None)
            if batch is not None:
                self.index += 1
                return batch
            self.epoch, self.index, self._it = self.epoch + 1, 0, None


def window_mean(window: list[dict]) -> dict:
    """Per-key mean of logged values over a logging window (None values skipped)."""
    keys = sorted({k for w in window for k in w if not isinstance(w[k], str)})
    return {k: sum(w[k] for w in window if w.get(k) is not None) / max(sum(w.get(k) is not None for w in window), 1)
            for k in keys}


def param_groups(model: torch.nn.Module, weight_decay: float):
    # Biases and LayerNorm gains are the 1-D parameters; decaying them only hurts.
    params = [p for p in model.parameters() if p.requires_grad]
    return [{"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]


def patience_spent(rec: RunRecorder, step: int, eval_every: int, patience: int) -> bool:
    """True when `patience` > 0 dev evaluations (every `eval_every` steps) have passed since best/ last improved.
    Counted from the steps alone, so a resumed run decides exactly as the uninterrupted one did."""
    if patience <= 0 or rec.selection is None or rec.best_step is None:
        return False
    return (step - rec.best_step) // eval_every >= patience


def weight_average(model, train_args) -> AveragedModel | None:
    """--average_weights: the bias-corrected exponential moving average of `model`'s weights after steps 1..t,
    a_t = sum_s (1 - d) d^(t-s) w_s / (1 - d^t), updated after every optimiser step (None without the flag).

    Bias-corrected (as Adam's moments are), not torch's plain EMA: that one starts from the step-1 weights and keeps
    d^(t-1) of them, 30% after 1,200 steps at d = 0.999, and nearly random weights hurt (a uniform average from step
    1 scored 89.7% UPOS on the pos CRF, against 92.9% unaveraged)."""
    if not train_args.average_weights:
        return None
    decay = train_args.average_decay

    def update(averaged: list[torch.Tensor], current: list[torch.Tensor], num_averaged) -> None:
        t = int(num_averaged) + 1  # this update's step count (the first update copies w_1: torch does that itself)
        torch._foreach_lerp_(averaged, current, (1 - decay) / (1 - decay ** t))

    return AveragedModel(model, multi_avg_fn=update)


def supervised_step(acc, model, optimizers: tuple, batch: dict, guard: Guard | None, step: int, max_grad_norm: float):
    """One step of MLE or CRF training, as train_supervised takes it and scripts/benchmark.py times it: the loss of
    `model` (the prepared Objective) on `batch`, then the guarded backward, clip and (optimizer, scheduler) step under
    gradient accumulation. Returns (stepped, loss, gradient norm)."""
    optimizer, scheduler = optimizers
    with acc.accumulate(model):
        loss = model(batch)
        ok, grad_norm = guarded_step(acc, loss, model, optimizer, max_grad_norm, guard, step, "training", scheduler)
    if ok and guard is not None:
        guard.good()
    return ok, loss, grad_norm


def train_supervised(run: Run, raw_gen, objective, num_train_epochs: float, averager=None):
    """Minimise `objective` over the training data (MLE, or a CRF loss), evaluating on dev every epoch
    (or --eval_every steps). With `averager`, the running average of the weights is what is evaluated."""
    acc, args = run.accelerator, run.train_args
    # fused: AdamW's update as one kernel over all parameters, not a loop of small tensor ops per parameter; the
    # same update (scripts/benchmark.py pos times both: ms_adamw_step, ms_adamw_step_replaced).
    optimizer = torch.optim.AdamW(param_groups(raw_gen, args.weight_decay), lr=args.learning_rate, fused=True)
    # --batch_size is the global batch (accelerate splits each batch across processes), so the
    # number of optimiser steps does not depend on how many processes run.
    steps_per_epoch = math.ceil(len(run.train_loader) / args.gradient_accumulation_steps)
    if args.min_steps and not args.max_steps and num_train_epochs * steps_per_epoch < args.min_steps:
        raised = math.ceil(args.min_steps / steps_per_epoch)  # whole epochs: every example equally often
        run.rec.write(f"{num_train_epochs:g} epochs are {math.ceil(num_train_epochs * steps_per_epoch)} steps, fewer "
                      f"than --min_steps {args.min_steps}: training {raised} epochs ({raised * steps_per_epoch} "
                      "steps).")
        num_train_epochs = raised
    total_steps = args.max_steps or math.ceil(num_train_epochs * steps_per_epoch)
    scheduler = transformers.get_scheduler(args.lr_scheduler, optimizer,
                                           num_warmup_steps=int(args.warmup_ratio * total_steps),
                                           num_training_steps=total_steps)
    # The loader is not prepared: it already yields this process's share of each global batch (seqgan/data.py).
    model, optimizer, scheduler = acc.prepare(objective, optimizer, scheduler)
    loader = run.train_loader
    eval_gen = averager.module if averager is not None else raw_gen
    parts = {"models": {"objective": model, **({"average": averager} if averager is not None else {})},
             "optimizers": {"opt": optimizer}, "schedulers": {"sched": scheduler}, "generators": run.extra_generators}
    phase = args.method if args.method in ("crf", "energy") else "mle"  # a GAN run's pretraining is an mle phase
    step, epoch, i, it, running = 0, 0, 0, None, []
    if run.resuming(phase):
        step, epoch, i = run.resume["phase_step"], run.resume["epoch"], run.resume["batch_in_epoch"]
        running = [torch.tensor(x, device=acc.device) for x in run.resume["running_loss"]]
        it = start_epoch(loader, run.sampler, epoch)
        seek(it, i)  # before the RNG is restored (see `seek`)
        load_state(run.resume_path, acc, parts)
        if run.resume.get("stopped_early"):  # the interrupted run had already stopped: nothing left to train
            total_steps = step
    elif run.resume is not None:  # the run is past this phase: the next phase's state restores the weights
        return total_steps, 0, eval_gen
    eval_every = args.eval_every or steps_per_epoch
    save_every = args.save_every or eval_every
    bar = tqdm(total=total_steps, initial=step, disable=not acc.is_main_process, desc=phase)
    model.train()
    while step < total_steps:
        if it is None:
            it, i = start_epoch(loader, run.sampler, epoch), 0
        for batch in it:
            i += 1
            ok, loss, grad_norm = supervised_step(acc, model, (optimizer, scheduler), batch, run.guard, step,
                                                  args.max_grad_norm)
            if not ok:
                continue
            running.append(loss.detach())
            if not acc.sync_gradients:
                continue
            step += 1
            bar.update(1)
            if averager is not None:
                averager.update_parameters(raw_gen)
            if step % args.log_every == 0 or step == total_steps:
                mean_loss = acc.gather(torch.stack(running).mean()[None]).mean().item()
                running = []
                bar.set_postfix(loss=f"{mean_loss:.4f}")
                run.rec.log({"step": step, "epoch": epoch, "train/loss": mean_loss,
                             "train/lr": scheduler.get_last_lr()[0],
                             "train/grad_norm": None if grad_norm is None else float(grad_norm)})
            stopped = False
            if step % eval_every == 0 or step == total_steps:
                run.rec.evaluate(step, epoch, eval_gen, phase=phase)
                stopped = patience_spent(run.rec, step, eval_every,
                                         args.early_stopping_patience) and step < total_steps
            if stopped:  # logged before the state is saved, so a resumed run's log has this line too
                run.rec.write(f"step {step}: no better dev {run.rec.selection[0]} than step {run.rec.best_step}'s for "
                              f"{args.early_stopping_patience} evaluations; stopping early (best/ is step "
                              f"{run.rec.best_step}).")
                run.rec.log({"step": step, "epoch": epoch, "train/stopped_early": True,
                             "train/best_step": run.rec.best_step})
                total_steps = step
            if stopped or step % save_every == 0 or step == total_steps:
                run.save(parts, {"phase": phase, "phase_step": step, "epoch": epoch, "batch_in_epoch": i,
                                 "running_loss": [float(x) for x in running],  # losses not yet logged
                                 "stopped_early": stopped})
            if step >= total_steps:
                break
        else:
            epoch, it = epoch + 1, None
    bar.close()
    return step, epoch, eval_gen


def train_gan(run: Run, raw_gen, tokenizer):
    """The alternating algorithm against a sequence discriminator: D pretraining, then rounds of k_D D steps and k_G
    G steps through the bridge. Returns D (saved with best/ and last/)."""
    acc, gargs = run.accelerator, run.gan_args
    cond_vocab = len(tokenizer) if raw_gen.conditional else 0  # D(x, y) reads the sentence's words
    # D reads what G writes: as many positions as G's longest output (a checkpoint's own max_length may differ
    # from this run's --max_length), plus one.
    longest = max(run.data_args.max_length, getattr(raw_gen, "max_length", 0))
    # A pretrained encoder as D starts its embeddings from the text of what it reads: G's tokens, or (pos, where G
    # emits tags) the sentence's words.
    strings = [tokenizer.decode([i]) for i in range(len(tokenizer))] if gargs.disc_name_or_path else None
    disc = build_discriminator(raw_gen.vocab_size, gargs, cond_vocab, longest + 1,
                               token_strings=None if raw_gen.conditional else strings,
                               cond_strings=strings if raw_gen.conditional else None)
    if acc.is_main_process:
        print(f"D: {sum(p.numel() for p in disc.parameters()):,} params, {type(disc.encoder).__name__} encoder, "
              f"causal={disc.config.causal}; bridge={gargs.bridge} loss={gargs.gan_loss}", file=sys.stderr)

    def context(gen, raw_disc, rng):
        return BridgeContext(gen=gen, policy=raw_gen, disc=raw_disc, loss=LOSSES[gargs.gan_loss], args=gargs,
                             conditional=raw_gen.conditional, total_steps=gargs.adv_steps * gargs.g_steps, rng=rng,
                             accelerator=acc)
    return alternate(run, raw_gen, disc, context, (d_step, g_step), keep_disc=True)


def alternate(run: Run, raw_gen, disc, context, steps: tuple, keep_disc: bool):
    """Train G against a second model (a discriminator, or CoT's mediator): `--d_pretrain_steps` steps of the second
    model alone, then `--adv_steps` rounds of `--d_steps` of its steps and `--g_steps` of G's. `steps` is the pair
    (second model's step, G's step), each (accelerator, GanModels, real batch) -> logs; `context(gen, raw_disc, rng)`
    builds the BridgeContext they read. Dev evaluations score G every `--gan_eval_every` rounds (its start included)
    and save it with the second model where `keep_disc`. Returns the unwrapped second model."""
    acc, args, gargs = run.accelerator, run.train_args, run.gan_args
    second_step, gen_step = steps
    g_opt = torch.optim.AdamW(param_groups(raw_gen, args.weight_decay), lr=gargs.g_learning_rate)
    d_opt = torch.optim.AdamW(param_groups(disc, args.weight_decay), lr=gargs.d_learning_rate)
    gen, disc, g_opt, d_opt = acc.prepare(raw_gen, disc, g_opt, d_opt)
    raw_disc = acc.unwrap_model(disc)
    saved_disc = raw_disc if keep_disc else None
    # The same sampling stream on every process: each draws the noise of the whole global batch and
    # keeps its own rows, so N processes sample exactly what one process would (seqgan/training/bridges.py).
    rng = torch.Generator(device=acc.device).manual_seed(args.seed * 1000)
    ctx = context(gen, raw_disc, rng)
    models = GanModels(gen, disc, g_opt, d_opt, ctx, args.max_grad_norm, run.guard)
    parts = {"models": {"gen": gen, "disc": disc}, "optimizers": {"g_opt": g_opt, "d_opt": d_opt},
             "generators": {"sample": rng}}
    real = RealBatches(run.train_loader, run.sampler)
    pre_done, round_done = 0, 0
    if run.resuming("d_pretrain", "gan"):
        real.seek(run.resume["real_epoch"], run.resume["real_index"])  # before the RNG is restored (see `seek`)
        st = load_state(run.resume_path, acc, parts)
        ctx.step = st["ctx_step"]
        ctx.ema = {k: torch.tensor(v, device=acc.device) for k, v in st["ema"].items()}
        pre_done = st["d_pretrain_done"]
        round_done = st["round"] if st["phase"] == "gan" else 0
    raw_gen.eval()  # no dropout: the policy that samples is the one whose log-probs are differentiated

    def state(phase, **kw):
        return {"phase": phase, "real_epoch": real.epoch, "real_index": real.index, "ctx_step": ctx.step,
                "ema": {k: float(v) for k, v in ctx.ema.items()}, **kw}

    bar = tqdm(total=gargs.d_pretrain_steps + gargs.adv_steps, initial=pre_done + round_done,
               disable=not acc.is_main_process, desc=run.train_args.method)
    window: list[dict] = []
    save_every = args.save_every or gargs.gan_eval_every
    for i in range(pre_done + 1, gargs.d_pretrain_steps + 1):
        window.append(second_step(acc, models, next(real)))
        bar.update(1)
        if i % gargs.gan_log_every == 0 or i == gargs.d_pretrain_steps:
            run.rec.log({"step": 0, "phase": "d_pretrain", "d_step": i, **window_mean(window)})
            window = []
        if i % save_every == 0 and i < gargs.d_pretrain_steps:
            run.save(parts, state("d_pretrain", phase_step=i, d_pretrain_done=i, round=0))
    if round_done == 0:
        run.rec.new_phase()
        # the starting point, a candidate for best/ like any other
        run.rec.evaluate(0, 0, raw_gen, saved_disc, phase="gan")
    for r in range(round_done + 1, gargs.adv_steps + 1):
        logs = {}
        for _ in range(gargs.d_steps):
            logs.update(second_step(acc, models, next(real)))
        raw_disc.eval()
        for _ in range(gargs.g_steps):
            logs.update(gen_step(acc, models, next(real)))
        window.append(logs)
        bar.update(1)
        saving = r % save_every == 0 or r == gargs.adv_steps
        if r % gargs.gan_log_every == 0 or saving:  # a saved state never cuts a logging window in two
            mean = window_mean(window)
            run.rec.log({"step": r, "phase": "gan", **mean})
            run.rec.check_collapse(r, mean.get("gan/distinct_2"), None)
            bar.set_postfix(d_acc=f"{mean.get('gan/d_acc', float('nan')):.2f}",
                            ent=f"{mean.get('gan/g_entropy', float('nan')):.2f}")
            window = []
        if r % gargs.gan_eval_every == 0 or r == gargs.adv_steps:
            run.rec.evaluate(r, 0, raw_gen, saved_disc, phase="gan")
        if saving:
            run.save(parts,
                     state("gan", phase_step=gargs.d_pretrain_steps + r, d_pretrain_done=gargs.d_pretrain_steps,
                           round=r))
    bar.close()
    return raw_disc
