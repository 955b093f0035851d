"""D as a density-ratio estimator: trained to convergence against a frozen G's samples, then checked for calibration.

    python scripts/fit_ratio.py --checkpoint runs/oracle-mle --output_dir runs/oracle-mle/ratio

With the logistic loss and balanced classes the Bayes-optimal logit is d(x) = log p_data(x) / p_G(x), so a
converged, calibrated D turns G's samples into the data's by importance weights exp(d(x)) (seqgan/decoding/guide.py).
G is frozen: every step draws fresh samples from it (the fake class never runs out), while the real class is
the finite training split, so D can overfit it: early stopping on the dev log-loss (dev data against a fixed
set of G's samples) picks the state kept. Calibration is then measured on held-out real data and fresh fakes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class RatioSchedule:
    max_steps: int = 2000
    batch_size: int = 64       # real sequences per step; as many fresh fakes
    learning_rate: float = 1e-4
    weight_decay: float = 0.01
    eval_every: int = 100
    patience: int = 5          # evaluations without a better dev log-loss before stopping
    temperature: float = 1.0   # G's sampling temperature: D estimates p_data / p_G,T
    seed: int = 0


def calibration(real: torch.Tensor, fake: torch.Tensor, bins: int = 15) -> dict:
    """Log-loss (nats, averaged over both classes), accuracy at logit 0, expected calibration error over `bins`
    equal-width bins of P(real), and mean exp(d) on the fakes (E_G[p_data / p_G] = 1 for an exact ratio)."""
    logits = torch.cat([real, fake]).double()
    labels = torch.cat([torch.ones_like(real), torch.zeros_like(fake)]).double()
    loss = 0.5 * (F.binary_cross_entropy_with_logits(real.double(), torch.ones_like(real).double())
                  + F.binary_cross_entropy_with_logits(fake.double(), torch.zeros_like(fake).double()))
    p = torch.sigmoid(logits)
    which = (p * bins).long().clamp(max=bins - 1)  # bin of each prediction
    ece = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            ece += inside.double().mean().item() * abs(p[inside].mean().item() - labels[inside].mean().item())
    acc = 0.5 * ((real > 0).double().mean() + (fake <= 0).double().mean()).item()
    mean_ratio = torch.exp(torch.logsumexp(fake.double(), 0) - math.log(len(fake))).item()
    return {"log_loss": loss.item(), "accuracy": acc, "ece": ece, "mean_ratio_on_fakes": mean_ratio,
            "num_real": len(real), "num_fake": len(fake)}


@torch.no_grad()
def logits_of(disc, batches) -> torch.Tensor:
    disc.eval()
    return torch.cat([disc.score(tokens=b["labels"], mask=b["mask"]).float() for b in batches])


@torch.no_grad()
def fake_batches(gen, n: int, batch_size: int, temperature: float, rng: torch.Generator) -> list[dict]:
    out = []
    for i in range(0, n, batch_size):
        s = gen.sample(num_samples=min(batch_size, n - i), temperature=temperature, rng=rng)
        out.append({"labels": s.tokens, "mask": s.mask})
    return out


def fit_ratio(gen, disc, train_batches, dev_batches: list[dict], sched: RatioSchedule, log=print) -> dict:
    """Train `disc` (in place) to separate real batches from G's samples; keeps the state with the best dev
    log-loss. `train_batches()` yields real training batches forever (dicts with labels and mask, on D's device).
    Returns the training record: dev log-loss per evaluation, the best step, the steps run."""
    gen.eval()
    dev_g = torch.Generator(device=gen.device).manual_seed(sched.seed + 1)
    dev_fake = fake_batches(gen, sum(len(b["labels"]) for b in dev_batches), 500, sched.temperature, dev_g)
    g = torch.Generator(device=gen.device).manual_seed(sched.seed)
    decay = [p for p in disc.parameters() if p.dim() > 1]  # matrices decay; biases and norms do not
    rest = [p for p in disc.parameters() if p.dim() <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": sched.weight_decay},
                             {"params": rest, "weight_decay": 0.0}],
                            lr=sched.learning_rate)
    best, best_state, best_step, since, history = math.inf, None, 0, 0, []
    step = 0
    for step, real in zip(range(1, sched.max_steps + 1), train_batches()):
        disc.train()
        with torch.no_grad():
            fake = gen.sample(num_samples=len(real["labels"]), temperature=sched.temperature, rng=g)
        d_real = disc.score(tokens=real["labels"], mask=real["mask"]).float()  # (B,)
        d_fake = disc.score(tokens=fake.tokens, mask=fake.mask).float()  # (B,)
        loss = 0.5 * (F.softplus(-d_real).mean() + F.softplus(d_fake).mean())  # balanced logistic loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(disc.parameters(), 1.0)
        opt.step()
        if step % sched.eval_every == 0 or step == sched.max_steps:
            dev = calibration(logits_of(disc, dev_batches), logits_of(disc, dev_fake))
            history.append({"step": step, "train_loss": loss.item(), **{f"dev_{k}": v for k, v in dev.items()}})
            log(f"step {step}: train log-loss {loss.item():.4f}, dev log-loss {dev['log_loss']:.4f}, "
                f"dev accuracy {dev['accuracy']:.4f}")
            if dev["log_loss"] < best:
                best, best_step, since = dev["log_loss"], step, 0
                best_state = {k: v.detach().clone() for k, v in disc.state_dict().items()}
            else:
                since += 1
                if since >= sched.patience:
                    break
    if best_state is not None:
        disc.load_state_dict(best_state)
    disc.eval()
    return {"history": history, "best_step": best_step, "best_dev_log_loss": best, "steps": step}
