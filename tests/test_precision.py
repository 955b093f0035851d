"""Mixed precision (--mixed_precision bf16): a training step runs for every bridge and for the CRF, master weights
and checkpoints stay fp32, and the precision-sensitive reductions (log-softmax, losses, log Z, rewards) stay fp32."""

import pytest
import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState
from helpers import CASES, chi_square_ok, make_bigram, setup, structured

from conftest import load_script
from seqgan.config import GanArguments
from seqgan.models.generator import icdf_sample
from seqgan.training.bridges import BRIDGES, rescore
from seqgan.training.gan import d_step, g_step
from seqgan.training.losses import mle_loss


@pytest.fixture
def bf16():
    """A bf16 Accelerator, as train.py --mixed_precision bf16 builds it (accelerate's state is process-wide)."""
    AcceleratorState._reset_state(reset_partial_state=True)
    yield Accelerator(cpu=True, mixed_precision="bf16")
    AcceleratorState._reset_state(reset_partial_state=True)


@pytest.mark.parametrize("bridge", list(BRIDGES))
def test_a_bf16_gan_round_runs_for_every_bridge(bridge, bf16):
    _, m, batch = setup("oracle", bridge=bridge, loss="rsgan" if "gumbel" in bridge else "standard")
    m.ctx.accelerator = bf16
    before = {n: p.detach().clone() for n, p in m.gen.named_parameters()}
    logs = {**d_step(bf16, m, batch), **g_step(bf16, m, batch)}
    assert logs["gan/g_loss"] == logs["gan/g_loss"] and "gan/d_loss" in logs  # stepped, finite
    assert all(p.dtype == torch.float32 for p in [*m.gen.parameters(), *m.disc.parameters()])  # fp32 master weights
    assert any(not torch.equal(before[n], p) for n, p in m.gen.named_parameters())


def test_a_bf16_crf_step_runs_and_log_z_stays_fp32(bf16):

    for name, kind in (("pos", "hinge"), ("pos", "nll"), ("oracle", "nll")):
        _, _, gen, batch = structured(name)
        gen.train()
        opt = torch.optim.AdamW(gen.parameters(), lr=1e-2)
        with bf16.autocast():
            loss = gen.structured_loss(batch, kind)
        assert loss.dtype == torch.float32 and torch.isfinite(loss)
        loss.backward()
        opt.step()
        assert all(p.dtype == torch.float32 and torch.isfinite(p).all() for p in gen.parameters())


def test_precision_sensitive_reductions_stay_fp32(bf16):
    task, tok, gen, batch = CASES["oracle"]()
    with bf16.autocast():
        logits = gen(batch)
        # matmuls run in bf16
        assert gen.model.lm_head(torch.zeros(1, gen.model.config.n_embd)).dtype == torch.bfloat16
        assert mle_loss(logits, batch["labels"], batch["mask"]).dtype == torch.float32
        assert gen.token_logprobs(batch).dtype == torch.float32
        s = gen.sample(num_samples=3, rng=torch.Generator().manual_seed(0))
        assert s.logprobs.dtype == torch.float32
    _, m, _ = setup("oracle")
    with bf16.autocast():
        assert m.disc.score(tokens=batch["labels"], mask=batch["mask"]).dtype == torch.float32  # D logits -> rewards
        assert rescore(m.ctx, s, None)[1].dtype == torch.float32  # the log-softmax the policy gradient uses
    bigram = make_bigram(eos=True).float()
    with torch.no_grad():
        exact, _ = bigram.messages()
        bigram._cache = None
        with bf16.autocast():
            under, _ = bigram.messages()
    assert under.dtype == torch.float32 and torch.equal(under, exact)  # log Z is never computed in bf16


def test_icdf_sample_keeps_the_distribution_of_bf16_logits():
    g = torch.Generator().manual_seed(0)
    logits = (torch.randn(1, 70, generator=g) * 2).to(torch.bfloat16)
    n = 40000
    tokens = icdf_sample(logits.expand(n, 70), torch.rand(n, generator=g))
    probs = torch.softmax(logits[0].double(), 0)  # the distribution the bf16 logits define
    ok, stat = chi_square_ok(torch.bincount(tokens, minlength=70).double(), probs)
    assert ok, f"chi-square {stat:.1f}"


def test_mixed_precision_flag_is_checked():
    from seqgan.tasks import parse_args

    assert parse_args(["--task", "oracle", "--mixed_precision", "bf16"])[2].mixed_precision == "bf16"
    with pytest.raises(ValueError, match="--mixed_precision must be no, bf16 or fp16"):
        parse_args(["--task", "oracle", "--mixed_precision", "fp8"])
    assert GanArguments().disc_causal is False  # rollouts share D's prefix work only with --disc_causal


def test_bf16_on_a_cpu_without_bf16_instructions_warns_once_with_the_measured_cost(monkeypatch, capsys):
    import seqgan.cli as cli

    # The detection reads /proc/cpuinfo's flags line: AMX and AVX-512 BF16 named, plain AVX-512 is "none".
    xeon = "processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512bw\n"
    assert cli.cpu_bf16_support(xeon) == "none"
    assert cli.cpu_bf16_support(xeon.replace("avx512bw", "avx512bw avx512_bf16 amx_bf16")) == "amx_bf16, avx512_bf16"
    assert cli.cpu_bf16_support("processor\t: 0\n") == "unknown"
    assert cli.warn_slow_bf16("cpu", "bf16", support="amx_bf16") is None
    assert cli.warn_slow_bf16("cpu", "no", support="none") is None
    assert cli.warn_slow_bf16("cuda", "bf16", "none") is None
    # train.py's accelerator on a CPU without them (detection mocked): one warning naming the set and the cost.
    monkeypatch.setattr(cli, "cpu_bf16_support", lambda cpuinfo=None: "none")
    train = load_script("train")
    AcceleratorState._reset_state(reset_partial_state=True)
    try:
        precision = train.make_accelerator(1, "bf16").mixed_precision
    finally:
        AcceleratorState._reset_state(reset_partial_state=True)
    err = capsys.readouterr().err
    assert precision == "bf16" and err.count("warning: --mixed_precision bf16") == 1
    assert "AVX512_BF16" in err and "1.7x slower" in err and "--mixed_precision no" in err
