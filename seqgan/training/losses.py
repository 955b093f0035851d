"""GAN losses on discriminator logits: standard (non-saturating), relativistic standard (RSGAN), hinge.

    d_loss = LOSSES["rsgan"].d(d_real, d_fake, paired=True)  # scalar, minimised by D
    g_per_sample = LOSSES["rsgan"].g(d_fake, d_real)         # per fake sample, minimised by G
    reward = -g_per_sample                                   # what a REINFORCE bridge maximises

d_real, d_fake are raw logits. RSGAN (Jolicoeur-Martineau 2019; RelGAN's choice) compares each
fake with a real: D(x_r, x_f) = sigmoid(d_r - d_f). The pairing is the caller's, never inferred from
shapes: in G's step every fake is compared with the real logit of its own row (for pos, the gold tags
of its sentence), at every position of a rollout or causal D alike; D's step pairs real i with fake i,
or (`paired=False`, per-prefix logits of a causal D) each side with the other side's mean.

`mle_loss` is the teacher-forced cross-entropy that MLE training and the GAN's optional MLE term share; its
token mean is global (seqgan/parallel.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from seqgan.parallel import global_mean


def _standard_d(d_real, d_fake, paired=True):
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()  # -log D(real) - log(1 - D(fake))


def _standard_g(d_fake, d_real=None):
    return F.softplus(-d_fake)  # non-saturating: -log D(fake)


def _rsgan_d(d_real, d_fake, paired=True):
    if paired:  # real i against fake i: -log sigmoid(d_r - d_f)
        if d_real.shape != d_fake.shape:
            raise ValueError(f"paired RSGAN needs as many real as fake logits, got {tuple(d_real.shape)} and "
                             f"{tuple(d_fake.shape)}.")
        return F.softplus(-(d_real - d_fake)).mean()
    # Unpaired (per-prefix logits of a causal D, unequal counts): each side against the other side's mean.
    return 0.5 * (F.softplus(-(d_real - d_fake.mean())).mean() + F.softplus(-(d_real.mean() - d_fake)).mean())


def _rsgan_g(d_fake, d_real=None):
    if d_real is None or d_real.shape != d_fake.shape:
        raise ValueError("the relativistic generator loss compares each fake logit with a real one: pass d_real of "
                         f"the same shape as d_fake {tuple(d_fake.shape)} (the caller decides the pairing).")
    return F.softplus(-(d_fake - d_real.detach()))  # -log sigmoid(d_f - d_r)


def _hinge_d(d_real, d_fake, paired=True):
    return F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()


def _hinge_g(d_fake, d_real=None):
    return -d_fake


@dataclass(frozen=True)
class GanLoss:
    d: Callable  # (d_real, d_fake, paired) -> scalar; paired: real i against fake i (relativistic losses only)
    g: Callable  # (d_fake, d_real) -> per-sample loss; d_real: the real logit each fake is compared with, same shape
    relativistic: bool = False


LOSSES = {
    "standard": GanLoss(_standard_d, _standard_g),
    "rsgan": GanLoss(_rsgan_d, _rsgan_g, relativistic=True),
    "hinge": GanLoss(_hinge_d, _hinge_g),
}


def mle_loss(logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the real positions of the global batch. logits (B, T, V), labels/mask (B, T)."""
    # Padding is ignored in place: selecting the real rows first (logits[mask]) would copy the (B, T, V) logits
    # forward and scatter them back into zeros backward, a quarter of a small model's step.
    total = F.cross_entropy(logits.flatten(0, 1).float(), labels.masked_fill(~mask, -100).flatten(), reduction="sum",
                            ignore_index=-100)  # (B*T, V) vs (B*T,)
    return global_mean(total, mask.sum())


@torch.no_grad()
def d_accuracy(d_real: torch.Tensor, d_fake: torch.Tensor, relativistic: bool) -> tuple[float, float]:
    """(accuracy on real, accuracy on fake). Absolute losses: the sign of the logit. Relativistic
    losses only order real against fake, so a real counts as right when it beats the mean fake logit."""
    if relativistic:
        return (d_real > d_fake.mean()).float().mean().item(), (d_fake < d_real.mean()).float().mean().item()
    return (d_real > 0).float().mean().item(), (d_fake < 0).float().mean().item()


class Objective(nn.Module):
    """A training loss as a module: forward(batch) -> scalar. accelerate prepares (and DDP wraps) this
    module, so every method's loss runs through one forward call and gradients synchronise."""

    def __init__(self, gen: nn.Module, loss_fn: Callable, ctx=None):
        super().__init__()
        self.gen, self.loss_fn, self.ctx = gen, loss_fn, ctx  # ctx is plain data (never a registered submodule)

    def forward(self, batch: dict) -> torch.Tensor:
        return self.loss_fn(self.gen, batch, self.ctx)


def mle_objective(gen, batch, ctx=None) -> torch.Tensor:
    return mle_loss(gen(batch), batch["labels"], batch["mask"])
