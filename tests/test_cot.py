"""CoT (--method cot, seqgan/training/cot.py): the divergence G minimises, against enumeration of every sequence of a
model small enough to list; the mediator and G steps on a real tiny generator; bad combinations refused."""

import itertools
import math

import pytest
import torch
from helpers import CASES

from seqgan.tasks import parse_args
from seqgan.training.bridges import BridgeContext
from seqgan.training.cot import cot_g_step, mediator_step, stepwise_kl
from seqgan.training.gan import GanModels

V, T = 3, 3  # vocabulary 3, length 3: 27 sequences, every prefix enumerable


def random_lm(seed: int) -> dict:
    """An autoregressive model as a table: prefix (tuple) -> next-token distribution (V,), float64."""
    g = torch.Generator().manual_seed(seed)
    return {prefix: torch.softmax(torch.randn(V, generator=g, dtype=torch.float64) * 1.5, 0)
            for t in range(T) for prefix in itertools.product(range(V), repeat=t)}


def seq_prob(lm: dict, x: tuple) -> float:
    return math.prod(lm[x[:t]][x[t]].item() for t in range(len(x)))


def mixture(p: dict, g: dict) -> dict:
    """The balanced mixture (P + G) / 2 as an autoregressive model:
    M(v | y_<t) = (P(y_<t v) + G(y_<t v)) / (P(y_<t) + G(y_<t))."""
    out = {}
    for prefix, _ in p.items():
        joint = torch.tensor([seq_prob(p, prefix + (v,)) + seq_prob(g, prefix + (v,)) for v in range(V)],
                             dtype=torch.float64)
        out[prefix] = joint / joint.sum()
    return out


def log_tables(lm: dict, seqs: list) -> torch.Tensor:
    """(N, T, V): log of the model's next-token distribution at every prefix of every sequence."""
    return torch.stack([torch.stack([lm[x[:t]].log() for t in range(T)]) for x in seqs])


def test_the_stepwise_kl_along_sequences_is_the_sequence_kl_and_gives_the_exact_jsd():
    p, g = random_lm(0), random_lm(1)
    m = mixture(p, g)
    seqs = list(itertools.product(range(V), repeat=T))
    P = torch.tensor([seq_prob(p, x) for x in seqs], dtype=torch.float64)
    G = torch.tensor([seq_prob(g, x) for x in seqs], dtype=torch.float64)
    M = torch.tensor([seq_prob(m, x) for x in seqs], dtype=torch.float64)
    assert torch.allclose(M, (P + G) / 2, atol=1e-12)  # the table is the mixture, sequence by sequence
    mask = torch.ones(len(seqs), T, dtype=torch.bool)
    logm = log_tables(m, seqs)
    # E over G's sequences of the per-step KLs (what CoT's G step averages over its samples) = KL(G || M).
    kl_g = (G * stepwise_kl(log_tables(g, seqs), logm, mask)).sum()
    kl_p = (P * stepwise_kl(log_tables(p, seqs), logm, mask)).sum()
    assert kl_g.item() == pytest.approx((G * (G / M).log()).sum().item(), abs=1e-12)
    assert kl_p.item() == pytest.approx((P * (P / M).log()).sum().item(), abs=1e-12)
    jsd = 0.5 * (P * (2 * P / (P + G)).log() + G * (2 * G / (P + G)).log()).sum()
    assert ((kl_p + kl_g) / 2).item() == pytest.approx(jsd.item(), abs=1e-12)
    assert 0 < jsd.item() < math.log(2)


def test_the_stepwise_kl_counts_only_real_steps():
    g, m = random_lm(2), random_lm(3)
    seqs = [(0, 1, 2), (2, 2, 0)]
    logg, logm = log_tables(g, seqs), log_tables(m, seqs)
    mask = torch.tensor([[True, True, False], [True, False, False]])  # ragged: 2 and 1 real steps
    per_step = (logg.exp() * (logg - logm)).sum(-1)  # (2, T)
    expected = torch.stack([per_step[0, :2].sum(), per_step[1, :1].sum()])
    assert torch.allclose(stepwise_kl(logg, logm, mask), expected, atol=1e-14)
    assert torch.allclose(stepwise_kl(logg, logg, mask), torch.zeros(2, dtype=torch.float64))  # M = G: no divergence
    # A token neither model can emit (log-prob -inf in both, as for suppressed ids) adds nothing and makes no nan.
    logg0, logm0 = (torch.cat([x, torch.full((2, T, 1), -math.inf, dtype=torch.float64)], -1) for x in (logg, logm))
    assert torch.allclose(stepwise_kl(logg0, logm0, mask), expected, atol=1e-14)


def tiny_models(name: str = "oracle"):
    from accelerate import Accelerator

    task, tok, gen, batch = CASES[name]()
    mediator = CASES[name]()[2]
    g_opt = torch.optim.AdamW(gen.parameters(), lr=1e-2)
    m_opt = torch.optim.AdamW(mediator.parameters(), lr=1e-2)
    ctx = BridgeContext(gen=gen, policy=gen, disc=mediator, loss=None,
                        args=parse_args(["--task", name, "--method", "cot",
                        "--mle_pretrain_epochs", "1"])[3], conditional=False, total_steps=10,
                        rng=torch.Generator().manual_seed(0))
    return Accelerator(cpu=True), GanModels(gen, mediator, g_opt, m_opt, ctx, 1.0, None), batch


def test_the_mediator_step_lowers_its_mixture_nll_and_the_g_step_lowers_g_s_kl_from_the_mediator():
    acc, models, batch = tiny_models()
    first = mediator_step(acc, models, batch)
    for _ in range(5):
        last = mediator_step(acc, models, batch)
    assert last["cot/mediator_loss"] < first["cot/mediator_loss"]
    both = first["cot/mediator_nll_real"] + first["cot/mediator_nll_fake"]
    assert first["cot/mediator_loss"] == pytest.approx(both / 2)
    models.ctx.disc.eval()
    before = {k: v.clone() for k, v in models.ctx.disc.state_dict().items()}
    logs = [cot_g_step(acc, models, batch)["cot/g_kl"] for _ in range(8)]
    assert logs[-1] < logs[0] and models.ctx.step == 8
    # G's step never moves the mediator.
    assert all(torch.equal(before[k], v) for k, v in models.ctx.disc.state_dict().items())


def test_cot_on_pos_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="--method cot trains a language model"):
        parse_args(["--task", "pos", "--method", "cot"])
