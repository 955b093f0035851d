"""CoT, cooperative training (Lu et al., ICML 2019): G trained against a mediator M instead of a discriminator.

    accelerate launch scripts/train.py --task oracle --method cot --init_from runs/oracle-mle

M is a language model of the balanced mixture (p_data + p_G) / 2, trained by maximum likelihood on equal parts of
real sequences and fresh samples of G (`mediator_step`). G minimises the mediator's estimate of the Jensen-Shannon
divergence: along its own samples, at every step t, the exact expectation over the vocabulary

    KL(G(. | y_<t) || M(. | y_<t)) = sum_v G(v | y_<t) (log G(v | y_<t) - log M(v | y_<t))

(`cot_g_step`), with M held fixed. Summed over the steps of a sequence and averaged over G's samples this is
KL(G || M) by the chain rule, and with M the exact mixture, JSD(p_data, p_G) = (KL(p_data || M) + KL(G || M)) / 2
(`tests/test_cot.py` checks both on a model small enough to enumerate). No reward is sampled: G's gradient is the
per-step expectation's own, without REINFORCE. M starts as a copy of G (with G from an MLE run, G is already close to
p_data, so G is close to the mixture M should model) and learns at `--d_learning_rate`; the paper trains a separate,
wider M from scratch. The alternating loop, its resume and its dev selection are the GAN's (loops.alternate).
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from seqgan.parallel import global_mean
from seqgan.scoring.metrics import distinct_ids
from seqgan.training.bridges import BridgeContext, draw, entropy
from seqgan.training.gan import GanModels, guarded_step
from seqgan.training.loops import alternate
from seqgan.training.losses import mle_loss


def stepwise_kl(g_logp: torch.Tensor, m_logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per sequence, sum over its real steps of KL(G_t || M_t) from full log-distributions (B, T, V) -> (B,)."""
    p = g_logp.exp()
    # A token G never emits (a suppressed id: log-prob -inf in G and M alike) adds nothing, not 0 * (-inf + inf) = nan.
    diff = torch.where(p > 0, g_logp - m_logp, torch.zeros_like(g_logp))
    kl = (p * diff).sum(-1)  # (B, T): the exact expectation over the vocabulary at every step
    return (kl * mask).sum(1)


def mediator_step(accelerator, m: GanModels, batch: dict) -> dict:
    """M by maximum likelihood on the real batch and as many fresh samples of G: the balanced mixture."""
    with accelerator.autocast():  # --mixed_precision: sampling runs in it too (log-softmax in fp32)
        fake, _, _ = draw(m.ctx, batch)  # as many samples of G as the batch has rows
    fake_batch = {"labels": fake.tokens, "mask": fake.mask}
    m.disc.train()
    with accelerator.accumulate(m.gen, m.disc):
        with accelerator.autocast():
            nll_real = mle_loss(m.disc(batch), batch["labels"], batch["mask"])
            nll_fake = mle_loss(m.disc(fake_batch), fake.tokens, fake.mask)
            loss = (nll_real + nll_fake) / 2  # each half a token mean: equal weight to the data and to G
        ok, norm = guarded_step(accelerator, loss, m.disc, m.d_opt, m.max_grad_norm, m.guard, m.ctx.step, "mediator")
    if not ok:
        return {}
    return {"cot/mediator_loss": loss.item(), "cot/mediator_nll_real": nll_real.item(),
            "cot/mediator_nll_fake": nll_fake.item(), "cot/mediator_grad_norm": None if norm is None else float(norm)}


def cot_g_step(accelerator, m: GanModels, batch: dict) -> dict:
    """G down the mediator's per-step KL along G's own fresh samples (M fixed, in eval mode)."""
    ctx = m.ctx
    with accelerator.autocast():
        samples, _, _ = draw(ctx, batch)
    scored = {"labels": samples.tokens, "mask": samples.mask}
    with torch.no_grad(), accelerator.autocast():
        m_logp = F.log_softmax(ctx.disc(scored).float(), -1)  # (B, T, V)
    with accelerator.accumulate(m.gen, m.disc):
        with accelerator.autocast():
            g_logp = F.log_softmax(m.gen(scored).float(), -1)  # (B, T, V), with gradients
            loss = global_mean(stepwise_kl(g_logp, m_logp, samples.mask).sum(), samples.mask.sum())  # nats per token
        ok, norm = guarded_step(accelerator, loss, m.gen, m.g_opt, m.max_grad_norm, m.guard, ctx.step, "generator")
    if not ok:
        return {}
    ctx.step += 1
    if m.guard is not None:
        m.guard.good()
    return {"cot/g_kl": loss.item(), "gan/g_entropy": entropy(g_logp.detach(), samples.mask).item(),
            "gan/g_grad_norm": None if norm is None else float(norm),
            "gan/distinct_2": distinct_ids(samples.tokens, samples.mask, 2)}


def train_cot(run, raw_gen) -> None:
    """CoT's alternating algorithm over the GAN's loop: --d_pretrain_steps mediator steps, then rounds of --d_steps
    mediator steps and --g_steps G steps. The mediator is kept in the training state only (exact resume); best/ and
    last/ hold G."""
    mediator = copy.deepcopy(raw_gen)
    gargs = run.gan_args

    def context(gen, raw_mediator, rng):
        return BridgeContext(gen=gen, policy=raw_gen, disc=raw_mediator, loss=None, args=gargs, conditional=False,
                             total_steps=gargs.adv_steps * gargs.g_steps, rng=rng, accelerator=run.accelerator)
    alternate(run, raw_gen, mediator, context, (mediator_step, cot_g_step), keep_disc=False)
