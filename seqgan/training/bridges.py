"""Bridges: how D's judgement of discrete samples reaches G's parameters. Plain functions, one signature.

    loss, logs, samples = BRIDGES["reinforce"](ctx, batch)     # chosen with --bridge

- reinforce: one reward per sequence, r = -g_loss(D(y)); REINFORCE with a baseline (leave-one-out
  over the K samples of an input, a batch mean, a moving average, or none) and an entropy bonus.
  With --cold_temperature T < 1 (ColdGAN-style) it samples from q = G at T and weights each sample's
  term by the clipped importance ratio min(p_G(y) / q(y), --cold_clip).
- rollout:   SeqGAN: the reward of y_<=t is the mean reward of N Monte-Carlo completions of it
  (seqgan/training/rollout.py: one cached pass, all prefixes x rollouts batched).
- dense:     a causal D scores every prefix; per-step rewards, discounted returns (ScratchGAN).
- gumbel:    RelGAN: D reads relaxed samples softmax(beta * (log p + g)) and its gradient flows
  into G; beta follows --gumbel_schedule over the run's adversarial steps.
- st-gumbel: straight-through: D reads the hard one-hot sample, gradients use the relaxed one.

Every bridge samples without gradients and then re-scores the samples with one teacher-forced
pass (with gradients), which gives exactly the per-step distributions the samples were drawn
from; G's dropout is off during adversarial training so that this holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Callable

import torch
import torch.nn.functional as F

from seqgan.models.generator import Generator, GlobalRows, Samples
from seqgan.parallel import global_mean
from seqgan.training.losses import GanLoss
from seqgan.training.rollout import rollout_rewards

if TYPE_CHECKING:
    from accelerate import Accelerator


@dataclass(frozen=True)
class BridgeOptions:
    """The scalars the bridges read (GanArguments' fields of the same names): `BridgeOptions.of(gan_args)`."""
    bridge: str = "reinforce"
    mle_weight: float = 0.0
    samples_per_input: int = 4
    baseline: str = "rloo"
    baseline_decay: float = 0.9
    entropy_coef: float = 0.0
    cold_temperature: float = 1.0
    cold_clip: float = 5.0
    num_rollouts: int = 16
    rollout_max_rows: int = 2048
    dense_gamma: float = 0.9
    gumbel_beta_max: float = 100.0
    gumbel_schedule: str = "exp"

    @classmethod
    def of(cls, args) -> BridgeOptions:
        return args if isinstance(args, cls) else cls(**{f.name: getattr(args, f.name) for f in fields(cls)})


@dataclass
class BridgeContext:
    gen: torch.nn.Module           # G as prepared by accelerate (gradients flow through its forward)
    policy: Generator | None       # the unwrapped G: sampling and rollouts
    disc: torch.nn.Module | None   # the unwrapped D, frozen during G's step
    loss: GanLoss | None
    args: BridgeOptions            # GanArguments are accepted and narrowed to these scalars
    conditional: bool              # pos: one tag sequence per input sentence
    total_steps: int               # the run's adversarial generator steps (the Gumbel schedule's N)
    rng: torch.Generator | None = None  # the sampling stream, the same on every process
    step: int = 0                  # generator steps done so far
    ema: dict = field(default_factory=dict)  # moving-average baselines
    accelerator: Accelerator | None = None  # for multi-process runs: which rows of the global batch are ours

    def __post_init__(self):
        self.args = BridgeOptions.of(self.args)

    def global_rows(self, n_local: int, k: int = 1) -> GlobalRows | None:
        """The GlobalRows of this process's n_local * k samples within the global batch (k-major copies),
        or None in a single process (the plain random stream). Shares may differ in size by one row."""
        acc = self.accelerator
        if acc is None or acc.num_processes == 1:
            return None
        sizes = acc.gather(torch.tensor([n_local], device=acc.device)).tolist()  # every process's share
        offset, n_global = sum(sizes[: acc.process_index]), sum(sizes)
        b = torch.arange(n_local, device=acc.device) + offset
        ids = (torch.arange(k, device=acc.device)[:, None] * n_global + b[None, :]).reshape(-1)  # (k * n_local,)
        return GlobalRows(ids, k * n_global)


# ----------------------------------------------------------------------------- shared pieces

def repeat_batch(batch: dict, k: int) -> dict:
    """Each tensor's rows repeated k times, k-major: row j * B + b is copy j of input b."""
    return {key: v.repeat(k, *([1] * (v.dim() - 1))) if torch.is_tensor(v) and v.dim() > 0 else v
            for key, v in batch.items()}


@torch.no_grad()
def draw(ctx: BridgeContext, batch: dict, gumbel: bool = False, temperature: float = 1.0) -> tuple[Samples, dict, int]:
    """Samples for the G step: K per input sentence (pos) or batch-size many (unconditional).
    Returns (samples, the batch they condition on (None if unconditional), group size K)."""
    n = batch["labels"].shape[0]
    kw = dict(rng=ctx.rng, gumbel=gumbel, temperature=temperature)
    if ctx.conditional:
        k = ctx.args.samples_per_input
        cond = repeat_batch(batch, k)
        return ctx.policy.sample(cond, global_rows=ctx.global_rows(n, k), **kw), cond, k
    return ctx.policy.sample(num_samples=n, global_rows=ctx.global_rows(n), **kw), None, n


def real_tokens(samples: Samples) -> torch.Tensor:
    """Sampled ids with padding replaced by 0: a pad id may lie outside the output vocabulary (pos)."""
    return samples.tokens.masked_fill(~samples.mask, 0)


def rescore(ctx: BridgeContext, samples: Samples, cond: dict | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Teacher-forced log-probs of the sampled tokens and log-softmax (B, T), (B, T, V), with gradients."""
    scored = {**(cond or {}), "labels": samples.tokens, "mask": samples.mask}
    logp_all = F.log_softmax(ctx.gen(scored).float(), -1)  # (B, T, V)
    logp = logp_all.gather(2, real_tokens(samples)[..., None]).squeeze(2)  # (B, T)
    return torch.where(samples.mask, logp, torch.zeros_like(logp)), logp_all


def entropy(logp_all: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean per-token entropy of G's distributions at the global batch's real positions (nats)."""
    p = logp_all.exp()
    h = -(p * torch.where(p > 0, logp_all, torch.zeros_like(logp_all))).sum(-1)  # (B, T); 0 * -inf is 0
    return global_mean((h * mask).sum(), mask.sum())


@torch.no_grad()
def real_logits(ctx: BridgeContext, batch: dict, n_fake: int) -> torch.Tensor | None:
    """The real logit each of the n_fake samples is compared with (relativistic losses; None otherwise): D's
    logit of the real row the sample belongs to. Samples are k-major copies of the batch rows (pos: k samples
    of each sentence, compared with its gold tags; unconditional: one sample per real row)."""
    if not ctx.loss.relativistic:
        return None
    # (n,)
    d_real = ctx.disc.score(tokens=batch["labels"], mask=batch["mask"], cond=batch if ctx.conditional else None)
    return d_real.repeat(n_fake // d_real.shape[0])  # (n_fake,)


def apply_baseline(ctx: BridgeContext, rewards: torch.Tensor, k: int, key: str) -> torch.Tensor:
    """Advantages from rewards (N, ...) whose rows are k-major groups of size k (k copies of each input).

    Unconditional tasks form one group of all samples: across processes it is the global batch, so
    the rewards are gathered first and each process keeps its own rows' advantages."""
    acc = ctx.accelerator
    if not ctx.conditional and acc is not None and acc.num_processes > 1:
        n = rewards.shape[0]
        sizes = acc.gather(torch.tensor([n], device=rewards.device)).tolist()  # shares may differ by one row
        padded = acc.pad_across_processes(rewards, dim=1) if rewards.dim() == 2 else rewards
        padded = acc.pad_across_processes(padded, dim=0)  # (max share, ...)
        everyone = acc.gather(padded).view(len(sizes), -1, *padded.shape[1:])  # (world, max share, ...)
        everyone = torch.cat([everyone[r, :m] for r, m in enumerate(sizes)])  # (N_global, ...): the real rows
        offset = sum(sizes[: acc.process_index])
        adv = _baseline(ctx, everyone, everyone.shape[0], key)[offset: offset + n]
        return adv[:, : rewards.shape[1]] if rewards.dim() == 2 else adv
    return _baseline(ctx, rewards, k, key)


def _rloo(ctx, grouped: torch.Tensor, key: str) -> torch.Tensor:  # the mean of the other K - 1 samples of the input
    k = grouped.shape[0]
    return (grouped.sum(0, keepdim=True) - grouped) / (k - 1)


def _group_mean(ctx, grouped: torch.Tensor, key: str) -> torch.Tensor:
    return grouped.mean(0, keepdim=True)


def _ema(ctx, grouped: torch.Tensor, key: str) -> torch.Tensor:  # a moving average of past rewards, one per key
    prev = ctx.ema.get(key)
    base = torch.zeros_like(grouped) + (prev if prev is not None else grouped.mean())
    decay = ctx.args.baseline_decay
    ctx.ema[key] = grouped.mean() if prev is None else decay * prev + (1 - decay) * grouped.mean()
    return base


def _no_baseline(ctx, grouped: torch.Tensor, key: str) -> torch.Tensor:
    return torch.zeros_like(grouped)


# --baseline: (ctx, rewards grouped (K, G, ...), key) -> the baseline subtracted from each reward.
BASELINES = {"rloo": _rloo, "mean": _group_mean, "ema": _ema, "none": _no_baseline}


def _baseline(ctx: BridgeContext, rewards: torch.Tensor, k: int, key: str) -> torch.Tensor:
    grouped = rewards.view(k, -1, *rewards.shape[1:])  # (K, G, ...)
    return (grouped - BASELINES[ctx.args.baseline](ctx, grouped, key)).view_as(rewards)


def policy_gradient(ctx, samples: Samples, cond, advantages: torch.Tensor, rewards: torch.Tensor,
                    off_policy: bool = False) -> tuple[torch.Tensor, dict]:
    """REINFORCE loss -sum_t A_t log p(y_t) / #tokens (advantages (B,) or (B, T)), minus the entropy bonus.
    off_policy: the samples came from q (samples.logprobs are log q(y_t)); each row's advantages are weighted by
    min(p_G(y) / q(y), --cold_clip), which makes the expected gradient E_p's when unclipped."""
    logp, logp_all = rescore(ctx, samples, cond)
    adv = advantages if advantages.dim() == 2 else advantages[:, None]
    mask = samples.mask
    logs = {}
    if off_policy:
        ratio = ((logp.detach() - samples.logprobs) * mask).sum(1).exp()  # (B,): p_G(y) / q(y)
        w = ratio.clamp(max=ctx.args.cold_clip)
        adv = adv * w[:, None]
        logs = {"gan/is_weight_mean": w.mean().item(),
                "gan/is_clipped": (ratio > ctx.args.cold_clip).float().mean().item()}
    pg = global_mean(-(adv.detach() * logp * mask).sum(), mask.sum())  # mean over the global batch's tokens
    ent = entropy(logp_all, mask)
    loss = pg - ctx.args.entropy_coef * ent
    r = rewards[mask] if rewards.dim() == 2 else rewards
    return loss, {"gan/reward_mean": r.mean().item(), "gan/reward_std": r.std().item() if r.numel() > 1 else 0.0,
                  "gan/advantage_std": adv.expand_as(logp)[mask].std().item(), "gan/g_entropy": ent.item(),
                  "gan/pg_loss": pg.item(), **logs}


# ----------------------------------------------------------------------------- the bridges

def reinforce(ctx: BridgeContext, batch: dict):
    cold = ctx.args.cold_temperature
    samples, cond, k = draw(ctx, batch, temperature=cold)
    with torch.no_grad():
        d_fake = ctx.disc.score(tokens=samples.tokens, mask=samples.mask, cond=cond)
        rewards = -ctx.loss.g(d_fake, real_logits(ctx, batch, len(d_fake)))  # (N,)
    return policy_gradient(ctx, samples, cond, apply_baseline(ctx, rewards, k, "seq"), rewards,
                           off_policy=cold != 1.0) + (samples,)


def rollout(ctx: BridgeContext, batch: dict):
    samples, cond, k = draw(ctx, batch)
    d_real = real_logits(ctx, batch, samples.tokens.shape[0])  # (N,): one per sampled row

    def reward(d, rows):  # rows: the sampled row each completion (or the sample itself) continues
        return -ctx.loss.g(d, None if d_real is None else d_real[rows])

    def reward_fn(tokens, mask, rows):  # tokens may be cut to a length bucket's width: so is the condition
        c = {key: v[rows][:, : tokens.shape[1]] if v.dim() > 1 else v[rows]
             for key, v in cond.items() if torch.is_tensor(v) and v.dim() > 0} if cond else None
        return reward(ctx.disc.score(tokens=tokens, mask=mask, cond=c), rows)

    def prefix_reward_fn(comp, cmask, prefix_len, rows):  # a causal D encodes each shared prefix once
        return reward(ctx.disc.score_continuations(comp, cmask, prefix_len, rows, cond), rows)

    with torch.no_grad():
        n = batch["labels"].shape[0]
        q = rollout_rewards(ctx.policy, reward_fn, cond, samples.tokens, samples.mask,
                            cond["mask"] if cond else None, ctx.args.num_rollouts, ctx.rng,
                            max_rows=ctx.args.rollout_max_rows, global_rows=ctx.global_rows(n, k if cond else 1),
                            prefix_reward_fn=prefix_reward_fn if ctx.disc.config.causal else None)  # (N, T)
    return policy_gradient(ctx, samples, cond, apply_baseline(ctx, q, k, "rollout") * samples.mask, q) + (samples,)


def discounted_returns(r: torch.Tensor, mask: torch.Tensor, gamma: float) -> torch.Tensor:
    """R_t = sum_{s >= t} gamma^(s - t) r_s over real positions: (B, T) -> (B, T)."""
    out = torch.zeros_like(r)
    running = torch.zeros_like(r[:, 0])
    for t in range(r.shape[1] - 1, -1, -1):
        running = (r[:, t] + gamma * running) * mask[:, t]
        out[:, t] = running
    return out


def dense(ctx: BridgeContext, batch: dict):
    samples, cond, k = draw(ctx, batch)
    with torch.no_grad():
        d = ctx.disc(tokens=samples.tokens, mask=samples.mask, cond=cond)  # (N, T): one logit per prefix
        d_real = real_logits(ctx, batch, d.shape[0])  # (N,): every prefix of a sample against its real row
        r = -ctx.loss.g(d, None if d_real is None else d_real[:, None].expand_as(d)) * samples.mask
        ret = discounted_returns(r, samples.mask, ctx.args.dense_gamma)
    return policy_gradient(ctx, samples, cond, apply_baseline(ctx, ret, k, "dense") * samples.mask, r) + (samples,)


def gumbel_beta(args, step: int, total: int) -> float:
    """Inverse temperature beta_n of G step n = 0..N-1: constant beta_max, linear 1 -> beta_max, or
    exponential beta_max^(n/(N-1)), so the first step runs at 1 and the last at beta_max.

    N is the run's own number of adversarial generator steps (--adv_steps x --g_steps), so the schedule
    reaches beta_max at the end. RelGAN's and TextGAN-PyTorch's code fix N = 5000 whatever the run's
    length, so a 3,000-step run never gets past beta_max^0.6 (about 16 of 100 with the exponential
    schedule): figures from shorter runs were obtained at a softer relaxation than their configs name."""
    frac = min(step / max(total - 1, 1), 1.0)  # steps 0 .. N-1: the last one runs at beta_max
    return GUMBEL_SCHEDULES[args.gumbel_schedule](args.gumbel_beta_max, frac)


# --gumbel_schedule: (beta_max, fraction of the run done) -> beta.
GUMBEL_SCHEDULES = {"constant": lambda beta_max, frac: beta_max,
                    "linear": lambda beta_max, frac: 1.0 + (beta_max - 1.0) * frac,
                    "exp": lambda beta_max, frac: beta_max ** frac}


def _relaxed(ctx: BridgeContext, batch: dict, straight_through: bool):
    samples, cond, _ = draw(ctx, batch, gumbel=True)
    beta = gumbel_beta(ctx.args, ctx.step, ctx.total_steps)
    _, logp_all = rescore(ctx, samples, cond)  # (N, T, V), with gradients
    soft = F.softmax(beta * (logp_all + samples.gumbels), -1) * samples.mask[..., None]  # (N, T, V)
    if straight_through:
        hard = F.one_hot(real_tokens(samples), soft.shape[-1]).to(soft.dtype) * samples.mask[..., None]
        soft = hard - soft.detach() + soft  # forward: the sample D would see; backward: the relaxation
    d_fake = ctx.disc.score(probs=soft, mask=samples.mask, cond=cond)
    loss = ctx.loss.g(d_fake, real_logits(ctx, batch, len(d_fake))).mean()
    ent = entropy(logp_all, samples.mask)
    return loss, {"gan/beta": beta, "gan/g_entropy": ent.item(), "gan/d_fake_logit": d_fake.mean().item()}, samples


def gumbel(ctx: BridgeContext, batch: dict):
    return _relaxed(ctx, batch, straight_through=False)


def st_gumbel(ctx: BridgeContext, batch: dict):
    return _relaxed(ctx, batch, straight_through=True)


BRIDGES: dict[str, Callable] = {"reinforce": reinforce, "rollout": rollout, "dense": dense, "gumbel": gumbel,
                                "st-gumbel": st_gumbel}
