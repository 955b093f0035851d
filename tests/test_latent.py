"""Generators from a prior (seqgan/models/latent.py) and ARAE's code-space GAN (seqgan/training/latent_gan.py): the KL
term against
torch's closed form, the IWAE bounds against the exact likelihood of an enumerable model (every output listed, the
1-D code integrated numerically), exact prior sampling, what each latent-gan step moves, exact resume, and real
runs."""

import itertools
import json
import math
import os
import signal
import subprocess
import time
from types import SimpleNamespace

import pytest
import torch
from helpers import ENV, TINY_RUN, newest_phase, same_run, train_cmd

from conftest import load_script
from seqgan.checkpoint import load_checkpoint
from seqgan.models.latent import (
    LatentGenerator,
    gaussian_kl,
    latent_from_scratch,
)
from seqgan.tasks import get_task
from seqgan.training.latent_gan import critic_step, g_step

V, T = 4, 3  # ids 0 (pad) and 1 (BOS) are never outputs: 2^3 = 8 possible sequences


def tiny(kind: str, seed: int = 0) -> LatentGenerator:
    torch.manual_seed(seed)
    args = SimpleNamespace(hidden_size=8, num_layers=1, num_heads=2, ffn_size=16, dropout=0.0, latent_size=1,
                           free_bits=0.0,
                           kl_anneal_steps=0, latent_word_dropout=0.0, iwae_samples=1, ae_proposal_scale=0.1,
                           latent_code_seed=0)
    cfg_tok = type("Tok", (), {"bos_token_id": 1, "eos_token_id": None, "pad_token_id": 0, "unk_token_id": 3,
                               "__len__": lambda self: V})()
    cfg = get_task("text").latent_config(cfg_tok, args, T, fixed_length=True, suppress_ids=[0, 1], kind=kind)
    gen = latent_from_scratch(cfg).double().eval()
    with torch.no_grad():  # a decoder that really depends on z, and a posterior that is not the prior
        gen.model.from_code.weight.mul_(30.0)
        gen.model.to_code.bias.copy_(torch.tensor([0.7, -1.0], dtype=torch.float64))
    return gen


ALL = torch.tensor(list(itertools.product([2, 3], repeat=T)))  # (8, 3): every output


def exact_log_marginal(gen: LatentGenerator, x: torch.Tensor) -> torch.Tensor:
    """log p(x) = log ∫ N(z; 0, 1) p(x | z) dz for each row of x (N, T), on a fine grid (trapezoid rule)."""
    z = torch.linspace(-9, 9, 3001, dtype=torch.float64)[:, None]  # (G, 1)
    batch = {"labels": x.repeat_interleave(len(z), 0), "mask": torch.ones(len(x) * len(z), T, dtype=torch.bool)}
    with torch.no_grad():
        lp = gen.sequence_logprob(batch, z.repeat(len(x), 1)).view(len(x), len(z))  # (N, G)
    log_prior = -0.5 * z[:, 0] ** 2 - 0.5 * math.log(2 * math.pi)
    dz = float(z[1] - z[0])
    f = (lp + log_prior).exp()
    return (torch.trapezoid(f, dx=dz, dim=1)).log()


def test_the_kl_term_is_the_closed_form():
    g = torch.Generator().manual_seed(0)
    mean, logvar = torch.randn(5, 7, generator=g, dtype=torch.float64), torch.randn(5, 7, generator=g,
                                                                                    dtype=torch.float64)
    q = torch.distributions.Normal(mean, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros_like(mean), torch.ones_like(mean))
    assert torch.allclose(gaussian_kl(mean, logvar), torch.distributions.kl_divergence(q, p))


def test_elbo_below_iwae_bounds_below_the_exact_likelihood():
    gen = tiny("vae")
    exact = exact_log_marginal(gen, ALL)
    assert exact.exp().sum().item() == pytest.approx(1.0, abs=1e-6)  # the 8 outputs carry all the mass
    R = 3000  # replicate draws per output: expectations to about 0.01 nats
    batch = {"labels": ALL.repeat_interleave(R, 0), "mask": torch.ones(8 * R, T, dtype=torch.bool)}
    with torch.no_grad():
        est = {k: gen.log_marginal(batch, k, seed=k).view(8, R) for k in (1, 4, 32)}
        mean, logvar = gen.model.encode(ALL, torch.ones(8, T, dtype=torch.bool))
        z = mean + (0.5 * logvar).exp() * torch.randn(R, *mean.shape, generator=torch.Generator().manual_seed(9),
                                                      dtype=torch.float64)  # (R, 8, 1)
        recon = torch.stack([gen.sequence_logprob({"labels": ALL, "mask": torch.ones(8, T, dtype=torch.bool)},
                                                  zi) for zi in z])
    elbo = recon.mean(0) - gaussian_kl(mean, logvar).sum(1)  # (8,): E_q log p(x | z) - KL(q || p)
    m = {k: v.mean(1) for k, v in est.items()}
    se = {k: v.std(1) / math.sqrt(R) for k, v in est.items()}
    assert torch.allclose(m[1], elbo, atol=4 * float(se[1].max()) + 0.01)  # IWAE_1 is the ELBO
    for lo, hi in ((1, 4), (4, 32)):
        assert (m[lo] <= m[hi] + 3 * (se[lo] + se[hi])).all()
    assert (m[32] <= exact + 3 * se[32]).all()
    assert (m[1] < exact - 0.05).any()  # the ELBO is really below: the test can tell the bounds apart
    assert (exact - m[32]).mean() < 0.6 * (exact - m[1]).mean()  # and more samples close much of the gap


def test_prior_samples_follow_the_exact_marginal():
    gen = tiny("vae", seed=1)
    exact = exact_log_marginal(gen, ALL).exp()
    n = 20000
    with torch.no_grad():
        out = gen.sample(num_samples=n, rng=torch.Generator().manual_seed(0))
    index = ((out.tokens - 2) * torch.tensor([4, 2, 1])).sum(1)  # (n,): which of the 8 outputs
    freq = torch.bincount(index, minlength=8).double()
    chi2 = ((freq - n * exact) ** 2 / (n * exact)).sum().item()
    assert chi2 < 7 + 6 * math.sqrt(14)  # df = 7: mean 7, sd sqrt(14)


def test_a_latent_gan_g_step_moves_g_only_and_a_critic_step_the_critic_only():
    gen = tiny("latent-gan").float()
    m = gen.model
    for p in m.parameters():
        p.requires_grad_(False)
    for part in (m.noise_to_code, m.critic):
        for p in part.parameters():
            p.requires_grad_(True)
    rng = torch.Generator().manual_seed(0)
    batch = {"labels": ALL, "mask": torch.ones(8, T, dtype=torch.bool)}

    def snapshot():
        return {k: v.detach().clone() for k, v in m.state_dict().items()}

    def moved(before):
        return {k.split(".")[0] for k, v in m.state_dict().items() if not torch.equal(v, before[k])}
    before = snapshot()
    g_step(gen, 8, torch.optim.Adam(m.noise_to_code.parameters(), lr=1e-2), rng)
    assert moved(before) == {"noise_to_code"}
    before = snapshot()
    critic_step(gen, batch, torch.optim.Adam(m.critic.parameters(), lr=1e-2), 10.0, rng, False)
    assert moved(before) == {"critic"}
    # --latent_finetune_encoder (ARAE): the critic step also trains encoder and decoder (reconstruction + critic),
    # and the AE prior's running statistics follow; G still does not move.
    ae = [m.encoder, m.to_code, m.decoder, m.from_code, m.enc_pos]
    for part in ae:
        for p in part.parameters():
            p.requires_grad_(True)
    before = snapshot()
    logs = critic_step(gen, batch, torch.optim.Adam(m.critic.parameters(), lr=1e-2), 10.0, rng, True,
                       torch.optim.Adam([p for part in ae for p in part.parameters()], lr=1e-2))
    assert {"critic", "encoder", "to_code", "decoder", "from_code", "enc_pos"} <= moved(before)
    assert "noise_to_code" not in moved(before) and "latent_gan/reconstruction" in logs


TINY_LATENT = ["--iwae_samples", "2", "--latent_size", "4", "--batch_size", "32"]


@pytest.mark.parametrize("method", ["vae", "latent-gan"])
def test_sigkill_then_resume_is_exact_for_the_latent_methods(method, data_dir, tmp_path):
    if method == "latent-gan":
        ae = tmp_path / "ae"
        subprocess.run(train_cmd(ae, data_dir, "--method", "ae", "--max_steps", "6", *TINY_LATENT), env=ENV,
                       check=True,
                       capture_output=True, timeout=600)
        args = ["--method", "latent-gan", "--init_from", str(ae), "--adv_steps", "40", "--gan_eval_every", "4",
                "--gan_log_every", "4", *TINY_LATENT]
        phase = "latent-gan"
    else:  # random codes, word dropout and the KL schedule all draw on state that must resume exactly
        args = ["--method", "vae", "--max_steps", "24", "--eval_every", "4", "--dropout", "0.1", "--kl_anneal_steps",
                "10",
                *TINY_LATENT]
        phase = "mle"
    subprocess.run(train_cmd(tmp_path / "a", data_dir, *args), env=ENV, check=True, capture_output=True, timeout=600)
    proc = subprocess.Popen(train_cmd(tmp_path / "b", data_dir, *args), env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    states = tmp_path / "b" / "checkpoints"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and newest_phase(states) != phase:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be killed; make it longer"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "b" / "eval_test.json").exists()
    subprocess.run(train_cmd(tmp_path / "b", data_dir, *args, "--resume_from_checkpoint", "latest"), env=ENV,
                   check=True,
                   capture_output=True, timeout=600)
    same_run(tmp_path / "a", tmp_path / "b")


def test_every_latent_method_trains_samples_and_reloads_on_coco(data_dir, tmp_path):
    """random-code, ae, vae, then latent-gan from the ae, on real COCO lines: the loss falls, the VAE keeps KL above
    zero with active units, the metrics name their bound, and the runs reload for sampling and interpolation."""
    train, text = load_script("train"), get_task("text")
    test = tmp_path / "test.txt"  # 200 of the 10,000 test captions: the IWAE bound costs k decoder passes per line
    test.write_text("\n".join((data_dir / "coco" / "test_coco.txt").read_text().splitlines()[:200]) + "\n")
    small = ["--task", "text", "--data_dir", str(data_dir), *TINY_RUN, "--num_layers", "1", "--max_steps", "80",
             "--eval_every", "80", "--log_every", "10", "--iwae_samples", "3", "--latent_size", "8", "--batch_size",
             "32",
             "--train_file", str(data_dir / "coco" / "image_coco.txt"), "--test_file", str(test)]
    res = {}
    for m in ("random-code", "ae", "vae"):
        res[m] = train.main([*small, "--method", m, "--output_dir", str(tmp_path / m)])
        log = [ln for ln in (tmp_path / m / "metrics.jsonl").read_text().splitlines() if "train/loss" in ln]
        first, last = (float(json.loads(ln)["train/loss"]) for ln in (log[0], log[-1]))
        assert last < first - 0.3, (m, first, last)
        assert res[m]["test/iwae_samples"] == 3 and res[m]["test/nll_bound"].startswith("IWAE upper bound")
    # 80 steps are too few to judge collapse (README's runs report it); the diagnostics must be there and sane.
    assert res["vae"]["test/kl_per_token"] > 0 and 0 <= res["vae"]["test/active_units"] <= 8
    assert 0 <= res["ae"]["test/reconstruction_token_accuracy"] <= 1 and "test/active_units" in res["ae"]
    lg = train.main([*small, "--method", "latent-gan", "--init_from", str(tmp_path / "ae"), "--adv_steps", "20",
                     "--gan_eval_every", "10", "--output_dir", str(tmp_path / "lg")])
    assert lg["method"] == "latent-gan" and lg["test/nll_bound"].endswith("proposal prior")
    gen, tok, _ = load_checkpoint(str(tmp_path / "lg"), text)
    assert isinstance(gen, LatentGenerator) and gen.kind == "latent-gan"
    lines = load_script("generate").main(["--checkpoint", str(tmp_path / "vae"), "--interpolate",
                                          "a man rides a horse .",
                                          "two dogs play in the grass .", "--steps", "5"])
    assert len(lines) == 5 and lines[0].startswith("0.000\t") and lines[-1].startswith("1.000\t")
    samples = load_script("generate").main(["--checkpoint", str(tmp_path / "ae"), "--num_samples", "4"])
    assert len(samples) == 4
    ev = load_script("evaluate").main(["--checkpoint", str(tmp_path / "ae"), "--latent_prior", "standard",
                                       "--num_eval_samples", "50", "--test_file", str(test)])
    assert ev["test/latent_prior"] == "standard" and (tmp_path / "ae" / "eval_file_test_prior.json").is_file()
    with pytest.raises(ValueError, match="--method ae"):
        train.main([*small, "--method", "latent-gan", "--init_from", str(tmp_path / "vae"), "--output_dir",
                    str(tmp_path / "x")])
    with pytest.raises(ValueError, match="latent-gan models"):
        train.main([*small, "--method", "latent-gan", "--output_dir", str(tmp_path / "y")])
