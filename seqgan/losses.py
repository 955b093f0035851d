"""GAN losses on discriminator logits: standard (non-saturating), relativistic standard (RSGAN), hinge.

    d_loss = LOSSES["rsgan"].d(d_real, d_fake)              # scalar, minimised by D
    g_per_sample = LOSSES["rsgan"].g(d_fake, d_real)        # per fake sample, minimised by G
    reward = -g_per_sample                                  # what a REINFORCE bridge maximises

d_real, d_fake are raw logits. RSGAN (Jolicoeur-Martineau 2019; RelGAN's choice) compares each
fake with a real: D(x_r, x_f) = sigmoid(d_r - d_f). When the two sides differ in size (rollouts,
per-prefix scores of a causal D) each is compared with the other side's mean logit instead.

`mle_loss` is the teacher-forced cross-entropy that MLE training and the GAN's optional MLE term share.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F


def _real_ref(d_fake: torch.Tensor, d_real: torch.Tensor | None) -> torch.Tensor:
    """The real logit each fake is compared with: elementwise when shapes match, else the real mean."""
    if d_real is None:
        raise ValueError("the relativistic loss needs real logits in the generator step.")
    d_real = d_real.detach()
    return d_real if d_real.shape == d_fake.shape else d_real.mean()


def _standard_d(d_real, d_fake):
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()  # -log D(real) - log(1 - D(fake))


def _standard_g(d_fake, d_real=None):
    return F.softplus(-d_fake)  # non-saturating: -log D(fake)


def _rsgan_d(d_real, d_fake):
    if d_real.shape == d_fake.shape:
        return F.softplus(-(d_real - d_fake)).mean()  # -log sigmoid(d_r - d_f), pairs matched by index
    # Unequal counts (per-prefix logits of a causal D): each side against the other side's mean.
    return 0.5 * (F.softplus(-(d_real - d_fake.mean())).mean() + F.softplus(-(d_real.mean() - d_fake)).mean())


def _rsgan_g(d_fake, d_real=None):
    return F.softplus(-(d_fake - _real_ref(d_fake, d_real)))  # -log sigmoid(d_f - d_r)


def _hinge_d(d_real, d_fake):
    return F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()


def _hinge_g(d_fake, d_real=None):
    return -d_fake


@dataclass(frozen=True)
class GanLoss:
    d: Callable  # (d_real, d_fake) -> scalar
    g: Callable  # (d_fake, d_real or None) -> per-sample loss, same shape as d_fake
    relativistic: bool = False


LOSSES = {
    "standard": GanLoss(_standard_d, _standard_g),
    "rsgan": GanLoss(_rsgan_d, _rsgan_g, relativistic=True),
    "hinge": GanLoss(_hinge_d, _hinge_g),
}


def mle_loss(logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over real positions. logits (B, T, V), labels/mask (B, T)."""
    return F.cross_entropy(logits[mask].float(), labels[mask])  # (N, V) vs (N,): padding never enters


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
