"""The SeqGAN oracle against the reference figures in ../shared/data/README.md."""

import math

import pytest
import torch

from seqgan.models.oracle import OracleLSTM


def test_oracle_scores_real_data_at_reference(data_dir):
    oracle = OracleLSTM.from_npz(data_dir / "seqgan_oracle" / "target_params.npz")
    rows = [list(map(int, ln.split()))
            for ln in (data_dir / "seqgan_oracle" / "real_data.txt").read_text().splitlines()]
    assert len(rows) == 9984
    assert oracle.nll_per_token(torch.tensor(rows)) == pytest.approx(5.7609, abs=1e-3)


def test_oracle_matches_a_plain_reference_step():
    """One step written out naively (separate gates, numpy-style) equals the batched implementation."""
    o = OracleLSTM.random(seed=3, vocab_size=11, emb_dim=4, hidden_dim=5, seq_len=3)
    p = o.p
    toks = torch.tensor([[4, 0, 10]])
    h = c = torch.zeros(1, 5, dtype=torch.float64)
    x = p["embedding"][[0]]
    expected = []
    for t in range(3):
        i = torch.sigmoid(x @ p["W_i"] + h @ p["U_i"] + p["b_i"])
        f = torch.sigmoid(x @ p["W_f"] + h @ p["U_f"] + p["b_f"])
        og = torch.sigmoid(x @ p["W_og"] + h @ p["U_og"] + p["b_og"])
        g = torch.tanh(x @ p["W_c"] + h @ p["U_c"] + p["b_c"])
        c = f * c + i * g
        h = og * torch.tanh(c)
        logits = (h @ p["W_out"] + p["b_out"])[0]
        expected.append(logits[toks[0, t]] - torch.logsumexp(logits, 0))
        x = p["embedding"][toks[0, t:t + 1]]
    assert torch.allclose(o.log_probs(toks)[0], torch.stack(expected))


def test_random_oracle_is_seeded_and_samples_score_near_entropy():
    a, b = OracleLSTM.random(seed=7), OracleLSTM.random(seed=7)
    assert all(torch.equal(a.p[k], b.p[k]) for k in a.p)
    s = a.sample(500, rng=torch.Generator().manual_seed(0))
    assert s.shape == (500, 20) and s.min() >= 0 and s.max() < 5000
    uniform = torch.randint(0, 5000, (500, 20), generator=torch.Generator().manual_seed(0))
    # Own samples are far more likely than uniform ids (log 5000 = 8.5 nats is the uniform model's NLL).
    assert a.nll_per_token(s) < a.nll_per_token(uniform) - 1.0
    assert a.nll_per_token(uniform) > math.log(5000) - 1.0


def test_oracle_rejects_bad_shapes():
    o = OracleLSTM.random(seed=0)
    with pytest.raises(ValueError, match=r"\(N, 20\)"):
        o.log_probs(torch.zeros(2, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="token ids must be in"):
        o.log_probs(torch.full((1, 20), 5000))
