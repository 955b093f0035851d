"""The SeqGAN synthetic-data oracle: a fixed random LSTM language model (Yu et al., 2017).

    oracle = OracleLSTM.from_npz("../shared/data/seqgan_oracle/target_params.npz")
    nll = oracle.nll_per_token(tokens)          # (N, 20) ids -> mean nats/token (SeqGAN's scale)
    data = oracle.sample(10000, rng=torch.Generator().manual_seed(0))

Equations (row-vector convention, as in the repository's target_lstm.py):
    i = σ(x W_i + h U_i + b_i)   f = σ(x W_f + h U_f + b_f)   o = σ(x W_og + h U_og + b_og)
    g = tanh(x W_c + h U_c + b_c)   c = f*c + i*g   h = o*tanh(c)   p(y_t) = softmax(h W_out + b_out)
with x_1 = embedding[start_token = 0], zero initial states, and x_t = embedding[y_{t-1}] after.
Everything runs in float64, the precision of the reference figures (5.7609 nats/token on real_data.txt).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

GATES = ("i", "f", "og", "c")
NAMES = ["embedding", *[f"{m}_{g}" for g in GATES for m in ("W", "U", "b")], "W_out", "b_out"]


class OracleLSTM:
    def __init__(self, params: dict[str, torch.Tensor], seq_len: int = 20, start_token: int = 0):
        self.p = {k: v.to(torch.float64) for k, v in params.items()}
        self.vocab_size, self.emb_dim = self.p["embedding"].shape
        self.hidden_dim = self.p["U_i"].shape[0]
        self.seq_len, self.start_token = seq_len, start_token
        # One (E, 4H) and one (H, 4H) matrix: all four gates in a single matmul per step.
        self.W = torch.cat([self.p[f"W_{g}"] for g in GATES], 1)
        self.U = torch.cat([self.p[f"U_{g}"] for g in GATES], 1)
        self.b = torch.cat([self.p[f"b_{g}"] for g in GATES], 0)

    @classmethod
    def from_npz(cls, path: str | Path) -> "OracleLSTM":
        with np.load(path, allow_pickle=False) as z:  # never unpickle: plain arrays only
            missing = [n for n in NAMES if n not in z.files]
            if missing:
                raise ValueError(f"{path}: not a SeqGAN oracle file, arrays {missing} are missing.")
            params = {n: torch.from_numpy(z[n].copy()) for n in NAMES}
            seq_len = int(z["seq_len"]) if "seq_len" in z.files else 20
            start = int(z["start_token"]) if "start_token" in z.files else 0
        return cls(params, seq_len=seq_len, start_token=start)

    @classmethod
    def random(cls, seed: int, vocab_size: int = 5000, emb_dim: int = 32, hidden_dim: int = 32,
               seq_len: int = 20) -> "OracleLSTM":
        """A seeded oracle of the same shape, standard-normal weights like the original draw."""
        g = torch.Generator().manual_seed(seed)
        shapes = {"embedding": (vocab_size, emb_dim), "W_out": (hidden_dim, vocab_size), "b_out": (vocab_size,)}
        for gate in GATES:
            shapes |= {f"W_{gate}": (emb_dim, hidden_dim), f"U_{gate}": (hidden_dim, hidden_dim),
                       f"b_{gate}": (hidden_dim,)}
        return cls({n: torch.randn(shapes[n], generator=g) for n in NAMES}, seq_len=seq_len)

    def _step(self, x, h, c):
        z = x @ self.W + h @ self.U + self.b  # (N, 4H)
        i, f, o, g = z.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c, h @ self.p["W_out"] + self.p["b_out"]  # logits (N, V)

    def _init(self, n):
        zeros = torch.zeros(n, self.hidden_dim, dtype=torch.float64)
        return zeros, zeros.clone(), torch.full((n,), self.start_token, dtype=torch.long)

    def log_probs(self, tokens: torch.Tensor) -> torch.Tensor:
        """Per-position log p(y_t | y_<t): (N, T) ids -> (N, T) float64."""
        tokens = torch.as_tensor(tokens, dtype=torch.long).cpu()
        if tokens.dim() != 2 or tokens.shape[1] != self.seq_len:
            raise ValueError(f"oracle scores (N, {self.seq_len}) token ids, got shape {tuple(tokens.shape)}")
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= self.vocab_size):
            raise ValueError(f"oracle token ids must be in [0, {self.vocab_size}), got [{tokens.min()}, "
                             f"{tokens.max()}]")
        h, c, prev = self._init(tokens.shape[0])
        out = []
        for t in range(self.seq_len):
            h, c, logits = self._step(self.p["embedding"][prev], h, c)
            out.append(F.log_softmax(logits, 1).gather(1, tokens[:, t:t + 1]).squeeze(1))
            prev = tokens[:, t]
        return torch.stack(out, 1)

    def nll_per_token(self, tokens: torch.Tensor, batch_size: int = 2000) -> float:
        """Mean negative log-likelihood in nats per token (SeqGAN's NLL_oracle scale)."""
        tokens = torch.as_tensor(tokens, dtype=torch.long)
        total = sum(-self.log_probs(tokens[i:i + batch_size]).sum().item() for i in range(0, len(tokens), batch_size))
        return total / max(tokens.numel(), 1)

    def sample(self, n: int, rng: torch.Generator | None = None) -> torch.Tensor:
        """Draw n sequences (n, seq_len) of token ids."""
        h, c, prev = self._init(n)
        out = []
        for _ in range(self.seq_len):
            h, c, logits = self._step(self.p["embedding"][prev], h, c)
            prev = torch.multinomial(torch.softmax(logits, 1), 1, generator=rng).squeeze(1)
            out.append(prev)
        return torch.stack(out, 1)
