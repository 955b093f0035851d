"""The two halves of the alternating GAN algorithm: a discriminator step and a generator step.

    logs = d_step(accelerator, models, batch)     # D: real batch vs fresh G samples, one optimiser step
    logs = g_step(accelerator, models, batch)     # G: D's signal through the bridge (+ lambda * MLE), D frozen

scripts/train.py --method gan runs k_D d_steps then k_G g_steps per round. Both models and both
optimisers are prepared by accelerate; sampling and D's scoring inside G's step use the
unwrapped modules, so no gradient of D is computed or synchronised there.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from seqgan.training.bridges import BRIDGES, BridgeContext
from seqgan.training.losses import d_accuracy, mle_loss
from seqgan.scoring.metrics import distinct_ids


@dataclass
class GanModels:
    gen: torch.nn.Module       # prepared generator
    disc: torch.nn.Module      # prepared discriminator
    g_opt: torch.optim.Optimizer
    d_opt: torch.optim.Optimizer
    ctx: BridgeContext         # bridge inputs: unwrapped G (sampler) and D, loss, options, step counter
    max_grad_norm: float
    guard: object = None       # seqgan.training.loops.Guard: skips non-finite steps (None: no checks)


def guarded_step(accelerator, loss, model, optimizer, max_grad_norm: float, guard, step: int, what: str,
                 scheduler=None) -> tuple[bool, float | None]:
    """Backward, clip and step, unless the loss or the gradient norm is NaN/inf on any process (then the
    step is skipped and the guard counts it). Returns (stepped, gradient norm).

    Both are checked together after the backward pass, in one cross-process check per step: a
    non-finite loss only makes gradients that are discarded with the step."""
    accelerator.backward(loss)
    norm = None
    if accelerator.sync_gradients and max_grad_norm > 0:
        norm = accelerator.clip_grad_norm_(model.parameters(), max_grad_norm)
    bad = guard.nonfinite(loss=loss, gradient=norm) if guard is not None else None
    if bad is not None:
        optimizer.zero_grad()
        guard.skip(step, f"{what} {bad}")
        return False, None
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    optimizer.zero_grad()
    return True, norm


def _sequence_logits(d: torch.Tensor, mask: torch.Tensor, causal: bool) -> torch.Tensor:
    """D's output -> logits to train on: one per sequence, or one per real prefix for a causal D (flattened)."""
    return d[mask] if causal else d


def d_step(accelerator, m: GanModels, batch: dict) -> dict:
    ctx = m.ctx
    cond = batch if ctx.conditional else None
    n = batch["labels"].shape[0]
    with torch.no_grad(), accelerator.autocast():  # --mixed_precision: sampling runs in it too (log-softmax in fp32)
        fake = ctx.sampler.sample(cond, num_samples=None if cond else n, generator=ctx.generator, rows=ctx.rows(n))
    causal = ctx.disc.config.causal
    m.disc.train()
    with accelerator.accumulate(m.gen, m.disc):
        with accelerator.autocast():
            d_real = _sequence_logits(m.disc(tokens=batch["labels"], mask=batch["mask"], cond=cond), batch["mask"], causal)
            d_fake = _sequence_logits(m.disc(tokens=fake.tokens, mask=fake.mask, cond=cond), fake.mask, causal)
            loss = ctx.loss.d(d_real, d_fake, paired=not causal)  # D's logits are fp32; per-prefix ones come unequal
        ok, norm = guarded_step(accelerator, loss, m.disc, m.d_opt, m.max_grad_norm, m.guard, ctx.step, "discriminator")
    if not ok:
        return {}
    acc_real, acc_fake = d_accuracy(d_real.detach(), d_fake.detach(), ctx.loss.relativistic)
    return {"gan/d_loss": loss.item(), "gan/d_acc_real": acc_real, "gan/d_acc_fake": acc_fake,
            "gan/d_acc": (acc_real + acc_fake) / 2, "gan/d_grad_norm": None if norm is None else float(norm)}


def g_step(accelerator, m: GanModels, batch: dict) -> dict:
    ctx = m.ctx
    bridge = BRIDGES[ctx.args.bridge]
    ctx.disc.requires_grad_(False)  # D is a fixed critic here: no gradient is computed for it
    try:
        with accelerator.accumulate(m.gen, m.disc):
            with accelerator.autocast():  # the bridge's sampling, rollouts, D scores and G's forward
                loss, logs, samples = bridge(ctx, batch)
                if ctx.args.mle_weight > 0:
                    mle = mle_loss(m.gen(batch), batch["labels"], batch["mask"])
                    loss = loss + ctx.args.mle_weight * mle
                    logs["gan/mle_loss"] = mle.item()
            ok, norm = guarded_step(accelerator, loss, m.gen, m.g_opt, m.max_grad_norm, m.guard, ctx.step, "generator")
        if not ok:  # a NaN/inf reward, loss or gradient: the step was skipped
            return {}
    finally:
        ctx.disc.requires_grad_(True)
        ctx.disc.encoder.get_input_embeddings().requires_grad_(False)  # never trained (see SeqGanDiscriminator)
    ctx.step += 1
    if m.guard is not None:
        m.guard.good()
    logs.update({"gan/g_loss": loss.item(), "gan/g_grad_norm": None if norm is None else float(norm),
                 "gan/distinct_2": distinct_ids(samples.tokens, samples.mask, 2)})
    return logs
