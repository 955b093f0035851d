"""G + D sampling by D's density ratio (seqgan/decoding/guide.py, seqgan/training/ratio.py, scripts/fit_ratio.py),
checked against
enumeration of a tiny generator with an exact ratio, and end to end on the real oracle data."""

import json
import math

import pytest
import torch
import torch.nn as nn

from conftest import load_script
from seqgan.decoding.guide import GuideArguments, GuidedGenerator, drs_accept_prob, estimate_log_partition
from seqgan.models.generator import Generator
from seqgan.scoring.frontier import curve_gap, interpolate
from seqgan.training.ratio import calibration

V = 3  # tokens; sequences have length 2, so there are 9 of them


class TableGenerator(Generator):
    """A first-order Markov G over V tokens, length 2, with logits table[prev] (row V is [BOS])."""

    def __init__(self, table: torch.Tensor):
        super().__init__()
        self.table = nn.Parameter(table)
        self.bos_id, self.pad_id, self.eos_id, self.max_length = V, 0, None, 2

    @property
    def vocab_size(self):
        return V

    def start(self, batch, num_samples):
        return {"cache": None}, torch.ones(num_samples, 2, dtype=torch.bool), num_samples, 2

    def step(self, state, prev, pos, attn):
        return self.table[prev]  # (B, V)

    def forward(self, batch):
        inputs = torch.cat([torch.full_like(batch["labels"][:, :1], V), batch["labels"][:, :-1]], 1)  # (B, 2)
        return self.table[inputs]  # (B, 2, V)


class ExactRatio(nn.Module):
    """D whose logit is exactly log p_target(x) − log p_G(x)."""

    def __init__(self, log_ratio: torch.Tensor):
        super().__init__()
        self.log_ratio = log_ratio  # (V, V)

    def score(self, tokens, mask):
        return self.log_ratio[tokens[:, 0], tokens[:, 1]]  # (B,)


def setup(seed=0):
    torch.manual_seed(seed)
    gen = TableGenerator(2.0 * torch.randn(V + 1, V)).eval()
    first = torch.log_softmax(gen.table[V], -1)  # (V,)
    second = torch.log_softmax(gen.table[:V], -1)  # (V, V): row = first token
    log_g = (first[:, None] + second).detach()  # (V, V): log p_G(x1, x2)
    # The target: G's law tilted by noise (density ratios within about e^±4, so SIR converges at moderate K).
    log_t = torch.log_softmax(log_g.flatten() + 1.5 * torch.randn(V * V), 0).view(V, V)
    return gen, log_g, log_t


def histogram(tokens: torch.Tensor) -> torch.Tensor:
    return torch.bincount(tokens[:, 0] * V + tokens[:, 1], minlength=V * V).double() / len(tokens)


def tv(p: torch.Tensor, q: torch.Tensor) -> float:
    return 0.5 * (p.flatten().double() - q.flatten().double()).abs().sum().item()


def test_sir_reaches_the_target_as_k_grows():
    gen, log_g, log_t = setup()
    def guided(k):
        return GuidedGenerator(gen, ExactRatio(log_t - log_g), GuideArguments(guide_method="sir", guide_candidates=k),
                               batch_size=4000)

    g = torch.Generator().manual_seed(1)
    p_t, p_g = log_t.exp(), log_g.exp()
    assert tv(p_g, p_t) > 0.2  # G alone is far from the target
    with torch.no_grad():
        k1 = histogram(guided(1).sample(num_samples=20000, rng=g).tokens)
        k64 = histogram(guided(64).sample(num_samples=20000, rng=g).tokens)
    assert tv(k1, p_g) < 0.03  # K = 1 keeps G's own law
    # SIR's law tends to the target as K grows (its bias is O(1/K)); 20,000 draws leave ~0.01 of noise.
    assert tv(k64, p_t) < 0.02


def test_drs_accepts_each_candidate_with_its_formula():
    gen, log_g, log_t = setup(1)
    gamma = 0.7
    guided = GuidedGenerator(gen, ExactRatio(log_t - log_g),
                             GuideArguments(guide_method="drs", guide_candidates=4, guide_gamma=gamma,
                                            guide_burn_in=50), batch_size=4000)
    m = guided.rejection_bound(1.0)
    lw = gamma * (log_t - log_g)  # (V, V)
    assert m <= lw.max().item() + 1e-6  # M is the largest γ d seen in the burn-in
    m = guided.drs_m[1.0] = m - 1.0  # a lower M caps the likeliest sequences' acceptance at 1: both branches run
    accept = drs_accept_prob(lw, m)  # (V, V)
    assert torch.allclose(accept, torch.minimum(torch.ones_like(lw), torch.exp(lw - m)).double())
    with torch.no_grad():
        out = guided.sample(num_samples=20000, rng=torch.Generator().manual_seed(2))
    law = log_g.exp().double() * accept
    assert tv(histogram(out.tokens), law / law.sum()) < 0.03  # accepted outputs ∝ p_G · acceptance
    diag = guided.diagnostics([], None)
    # The recorded acceptance rate is the formula's E_G[min(1, exp(γ d − M))], over every candidate judged.
    drawn = diag["guide_candidates_per_sample"] * 20000
    assert abs(diag["guide_acceptance"] - law.sum().item()) < 4 * math.sqrt(law.sum().item() / drawn)


def test_log_partition_estimate_is_unbiased_for_z_and_the_residual_likelihood_is_exact():
    gen, log_g, log_t = setup(2)
    gamma = 0.5
    d = log_t - log_g
    z = (log_g.exp() * torch.exp(gamma * d)).sum().item()  # exact, by enumeration
    flat = log_g.exp().flatten()
    g = torch.Generator().manual_seed(3)
    # 4,000 independent estimates from N = 10 samples of G each.
    idx = torch.multinomial(flat.expand(4000, -1), 10, replacement=True, generator=g)  # (4000, 10)
    lw = gamma * d.flatten()[idx]
    log_z = torch.tensor([estimate_log_partition(row)[0] for row in lw], dtype=torch.float64)
    z_hat = log_z.exp()
    assert abs(z_hat.mean().item() - z) < 4 * z_hat.std().item() / math.sqrt(len(z_hat))  # unbiased for Z
    assert log_z.mean().item() < math.log(z)  # Jensen: log Ẑ errs low
    # The reported standard error (delta method) matches the spread of log Ẑ at N = 400.
    idx = torch.multinomial(flat.expand(500, -1), 400, replacement=True, generator=g)
    est = [estimate_log_partition(gamma * d.flatten()[row]) for row in idx]
    spread = torch.tensor([e[0] for e in est]).std().item()
    assert 0.8 < sum(e[1] for e in est) / len(est) / spread < 1.25
    # With γ = 1 and an exact ratio the residual model is the target: per-token log-probs sum to log p_target.
    guided = GuidedGenerator(gen, ExactRatio(d), GuideArguments(guide_candidates=4, guide_z_samples=20000),
                             batch_size=5000)
    labels = torch.tensor([[a, b] for a in range(V) for b in range(V)])
    with torch.no_grad():
        lp = guided.token_logprobs({"labels": labels, "mask": torch.ones_like(labels, dtype=torch.bool)})
    log_z1, se = guided.partition(1.0)
    assert abs(log_z1) < 4 * se + 1e-6  # Z = 1 for the exact ratio
    assert torch.allclose(lp.sum(1).double() + log_z1, log_t.flatten().double(), atol=1e-5)


def test_frontier_gap_interpolates_the_curve():
    curve = [(10.0, 8.0), (9.0, 8.5), (8.0, 9.5)]  # (NLL_oracle, NLL_test) of MLE at three temperatures
    assert interpolate(curve, 8.5) == pytest.approx(9.0)
    assert curve_gap(curve, (8.5, 8.8), "min") == pytest.approx(0.2)  # 0.2 nats better than MLE at equal NLL_oracle
    assert curve_gap(curve, (9.5, 8.5), "min") == pytest.approx(-0.25)
    assert curve_gap(curve, (7.0, 8.0), "min") is None  # outside the swept range: no extrapolation
    assert curve_gap([(0.2, 0.1), (0.4, 0.3)], (0.3, 0.25), "max") == pytest.approx(0.05)


def test_calibration_of_a_known_classifier():
    real, fake = torch.tensor([2.0, 2.0, -1.0]), torch.tensor([-2.0, 1.0])
    c = calibration(real, fake, bins=2)
    assert c["accuracy"] == pytest.approx(0.5 * (2 / 3 + 1 / 2))
    sp = torch.nn.functional.softplus
    assert c["log_loss"] == pytest.approx(0.5 * (sp(-real).mean() + sp(fake).mean()).item())
    p = torch.sigmoid(torch.tensor([2.0, 2.0, -1.0, -2.0, 1.0]))
    hi, lo = p[[0, 1, 4]], p[[2, 3]]  # P(real) >= 0.5: 2 real of 3; below: 1 real of 2
    ece = 3 / 5 * abs(hi.mean().item() - 2 / 3) + 2 / 5 * abs(lo.mean().item() - 1 / 2)
    assert c["ece"] == pytest.approx(ece)
    assert c["mean_ratio_on_fakes"] == pytest.approx((math.exp(-2) + math.exp(1)) / 2)


def test_fit_ratio_then_guided_evaluation_on_the_oracle(data_dir, tmp_path):
    train, fit, evaluate = load_script("train"), load_script("fit_ratio"), load_script("evaluate")
    tiny = ["--hidden_size", "32", "--num_layers", "1", "--num_heads", "2", "--ffn_size", "64", "--dropout", "0.0"]
    train.main(["--task", "oracle", "--data_dir", str(data_dir), *tiny, "--dev_size", "200", "--test_size", "200",
                "--num_eval_samples", "50", "--num_test_samples", "50", "--output_dir", str(tmp_path / "g"),
                "--max_steps", "30", "--learning_rate", "3e-3"])
    d_opts = ["--disc_hidden_size", "32", "--disc_layers", "1", "--disc_heads", "2", "--disc_ffn_size", "64"]
    with pytest.raises(ValueError, match="reads only D's options"):
        fit.main(["--checkpoint", str(tmp_path / "g"), "--output_dir", str(tmp_path / "r"), "--bridge", "rollout"])
    res = fit.main(["--checkpoint", str(tmp_path / "g"), "--output_dir", str(tmp_path / "r"), *d_opts,
                    "--max_steps", "60", "--eval_every", "20", "--learning_rate", "1e-3"])
    saved = json.loads((tmp_path / "r" / "ratio.json").read_text())
    # --disc_from_generator: D starts as G's own body and embeddings, with a fresh head.
    from seqgan.checkpoint import load_checkpoint
    from seqgan.models.discriminator import SeqGanDiscriminator
    from seqgan.tasks import get_task
    gen, _, _ = load_checkpoint(str(tmp_path / "g"), get_task("oracle"))
    d = SeqGanDiscriminator.from_generator(gen)
    assert torch.equal(d.embed.weight, gen.model.get_input_embeddings().weight[: gen.vocab_size])
    body = gen.model.base_model.state_dict()
    assert all(torch.equal(v, body[k]) for k, v in d.encoder.state_dict().items())
    assert saved["best_step"] in (20, 40, 60) and len(saved["history"]) >= 1
    # A tiny G after 30 steps is easy to tell from the oracle: D beats chance on held-out data.
    assert res["test/accuracy"] > 0.6 and res["test/log_loss"] < math.log(2)
    with pytest.raises(FileExistsError, match="--overwrite"):
        fit.main(["--checkpoint", str(tmp_path / "g"), "--output_dir", str(tmp_path / "r")])
    common = ["--checkpoint", str(tmp_path / "g"), "--guide_with", str(tmp_path / "r"), "--guide_z_samples", "200",
              "--num_eval_samples", "40"]
    sir = evaluate.main([*common, "--guide_candidates", "4"])
    assert (tmp_path / "g" / "eval_test_guide-sir-K4-g1.json").is_file()
    assert sir["test/guide_acceptance"] == pytest.approx(0.25) and sir["test/num_samples"] == 40
    plain = json.loads((tmp_path / "g" / "eval_test.json").read_text())
    # The residual model's NLL differs from G's by the mean of (log Ẑ − γ d(x)) per token on the test split.
    assert sir["test/nll_test"] != pytest.approx(plain["test/nll_test"], abs=1e-6)
    drs = evaluate.main([*common, "--guide_method", "drs", "--guide_gamma", "0.5", "--guide_burn_in", "100"])
    assert 0 < drs["test/guide_acceptance"] <= 1 and drs["test/drs_m"] > 0
    with pytest.raises(ValueError, match="does not combine"):
        evaluate.main([*common, "--greedy"])
    sweep = evaluate.main([*common, "--temperatures", "0.9,1.1"])
    assert [r["temperature"] for r in sweep] == [0.9, 1.1]
    assert (tmp_path / "g" / "sweep_test_guide-sir-K8-g1.png").is_file()
    # compare.py's page: D's held-out calibration beside the guided rows, and D's run in the provenance table.
    page = tmp_path / "page.md"
    load_script("compare").main(["--task", "oracle", "--runs_dir", str(tmp_path), "--page", str(page)])
    lines = page.read_text().splitlines()
    assert (f"| `r` | {saved['test/log_loss']:.4f} | {saved['test/accuracy']:.4f} | {saved['test/ece']:.4f} | "
            f"{saved['test/mean_ratio_on_fakes']:.4f} | {saved['best_step']} |") in lines
    record = json.loads((tmp_path / "r" / "provenance.json").read_text())
    assert record["command"].startswith("scripts/fit_ratio.py --checkpoint ")
    assert any(ln.startswith("| `r` | 42 | ") and record["command"] in ln for ln in lines)
