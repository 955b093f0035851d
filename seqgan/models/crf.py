"""A linear-chain CRF as a distribution over tag sequences (in the style of pytorch-struct).

    dist = LinearChainCRF(emissions, transitions, start, end, mask)   # (B, T, C), (C, C), (C,), (C,), (B, T)
    dist.log_partition       # (B,)   forward algorithm in log space
    dist.log_prob(tags)      # (B,)   score(tags) - log Z
    dist.argmax              # (B, T) Viterbi path (-1 at padding); dist.max is its score
    dist.marginals           # (B, T, C) p(y_t = c | x) by forward-backward
    dist.sample(n, gen)      # (n, B, T) exact samples by forward-filtering backward-sampling
    dist.conditionals(prev)  # p(y_t | y_{t-1} = prev_t, x) in log space: the chain-rule factors of p(y | x)

score(y) = start[y_0] + sum_t emissions[t, y_t] + sum_{t>=1} transitions[y_{t-1}, y_t] + end[y_{L-1}].
transitions may also be per position (B, T, C, C), entry t scoring the step from t-1 into t.
The mask marks the real positions of each sequence: a prefix of length >= 1. Everything is
vectorised over the batch and runs on any device; shapes are checked with clear errors.
"""

from __future__ import annotations

from functools import cached_property

import torch


class LinearChainCRF:
    def __init__(self, emissions: torch.Tensor, transitions: torch.Tensor, start: torch.Tensor | None = None,
                 end: torch.Tensor | None = None, mask: torch.Tensor | None = None):
        if emissions.dim() != 3:
            raise ValueError(f"emissions must be (batch, length, tags), got shape {tuple(emissions.shape)}.")
        B, T, C = emissions.shape
        if T == 0:
            raise ValueError("emissions have length 0; every sequence needs at least one position.")
        if transitions.shape not in ((C, C), (B, T, C, C)):
            raise ValueError(f"transitions must be ({C}, {C}) or ({B}, {T}, {C}, {C}) for emissions "
                             f"{tuple(emissions.shape)}, got {tuple(transitions.shape)}.")
        zeros = emissions.new_zeros(C)
        start = zeros if start is None else start
        end = zeros if end is None else end
        for name, v in (("start", start), ("end", end)):
            if v.shape not in ((C,), (B, C)):
                raise ValueError(f"{name} must be ({C},) or ({B}, {C}), got {tuple(v.shape)}.")
        if mask is None:
            mask = torch.ones(B, T, dtype=torch.bool, device=emissions.device)
        if mask.shape != (B, T) or mask.dtype != torch.bool:
            raise ValueError(f"mask must be a bool tensor of shape ({B}, {T}), got {mask.dtype} {tuple(mask.shape)}.")
        lengths = mask.sum(1)
        if (lengths == 0).any():
            raise ValueError("every sequence needs at least one real position (a mask row is all False).")
        if not torch.equal(mask, torch.arange(T, device=mask.device)[None, :] < lengths[:, None]):
            raise ValueError("mask must mark a prefix of each row (real positions first, then padding).")
        self.emissions, self.mask, self.lengths = emissions, mask, lengths
        self.start, self.end = start.expand(B, C), end.expand(B, C)
        self.trans = transitions if transitions.dim() == 4 else transitions.expand(B, T, C, C)  # (B, T, C, C)
        self.B, self.T, self.C = B, T, C

    # ------------------------------------------------------------------ messages

    @cached_property
    def _alpha(self) -> torch.Tensor:
        """alpha[:, t, j] = log sum over y_0..y_t with y_t = j of the score so far (emission t included)."""
        alphas = [self.start + self.emissions[:, 0]]  # (B, C)
        for t in range(1, self.T):
            a = torch.logsumexp(alphas[-1][:, :, None] + self.trans[:, t], dim=1) + self.emissions[:, t]  # (B, C)
            alphas.append(torch.where(self.mask[:, t, None], a, alphas[-1]))  # padding carries the last real alpha
        return torch.stack(alphas, 1)  # (B, T, C)

    @cached_property
    def _beta(self) -> torch.Tensor:
        """beta[:, t, i] = log sum over y_{t+1}.. of the score after position t given y_t = i (end included)."""
        betas = [self.end]  # for t = T - 1
        for t in range(self.T - 2, -1, -1):
            # (B, C)
            b = torch.logsumexp(self.trans[:, t + 1] + (self.emissions[:, t + 1] + betas[-1])[:, None, :], dim=2)
            betas.append(torch.where(self.mask[:, t + 1, None], b, self.end))  # the last real position sees end
        return torch.stack(betas[::-1], 1)  # (B, T, C)

    @property
    def log_partition(self) -> torch.Tensor:
        last = self._alpha[torch.arange(self.B), self.lengths - 1]  # (B, C)
        return torch.logsumexp(last + self.end, dim=1)

    @property
    def marginals(self) -> torch.Tensor:
        m = (self._alpha + self._beta - self.log_partition[:, None, None]).exp()
        return m * self.mask[..., None]

    # ------------------------------------------------------------------ scores

    def score(self, tags: torch.Tensor) -> torch.Tensor:
        """Unnormalised log-score of tag sequences (B, T) (values at padding are ignored)."""
        if tags.shape != (self.B, self.T):
            raise ValueError(f"tags must be ({self.B}, {self.T}), got {tuple(tags.shape)}.")
        tags = tags.masked_fill(~self.mask, 0)
        b = torch.arange(self.B)
        s = self.start[b, tags[:, 0]] + (self.emissions.gather(2, tags[..., None]).squeeze(2) * self.mask).sum(1)
        if self.T > 1:
            # (B, T-1, C): into y_t
            tr = self.trans[:, 1:].gather(3, tags[:, 1:, None, None].expand(-1, -1, self.C, 1)).squeeze(3)
            tr = tr.gather(2, tags[:, :-1, None]).squeeze(2)  # (B, T-1): from y_{t-1}
            s = s + (tr * self.mask[:, 1:]).sum(1)
        return s + self.end[b, tags[b, self.lengths - 1]]

    def log_prob(self, tags: torch.Tensor) -> torch.Tensor:
        return self.score(tags) - self.log_partition

    def conditionals(self, prev: torch.Tensor) -> torch.Tensor:
        """log p(y_t = c | y_{t-1} = prev[:, t], x): (B, T) previous tags -> (B, T, C); prev[:, 0] is ignored.

        A linear-chain CRF is a Markov chain given x: p(y_t | y_<t, x) = exp(trans[y_{t-1}, y_t] +
        emissions[t, y_t] + beta_t(y_t) - beta_{t-1}(y_{t-1})), so these are exact chain-rule factors.
        """
        beta = self._beta
        first = self.start + self.emissions[:, 0] + beta[:, 0] - self.log_partition[:, None]  # (B, C)
        if self.T == 1:
            return first[:, None]
        prev = prev.masked_fill(~self.mask, 0)[:, :-1]  # (B, T-1): y_{t-1} for t = 1..T-1
        tr = self.trans[:, 1:].gather(2, prev[:, :, None, None].expand(-1, -1, 1, self.C)).squeeze(2)  # (B, T-1, C)
        before = beta[:, :-1].gather(2, prev[..., None])  # (B, T-1, 1)
        rest = tr + self.emissions[:, 1:] + beta[:, 1:] - before
        return torch.cat([first[:, None], rest], 1)  # (B, T, C)

    # ------------------------------------------------------------------ decoding

    @cached_property
    def _viterbi(self) -> tuple[torch.Tensor, torch.Tensor]:
        score = self.start + self.emissions[:, 0]  # (B, C)
        back = []
        for t in range(1, self.T):
            cand = score[:, :, None] + self.trans[:, t]  # (B, C_prev, C)
            best, arg = cand.max(1)  # (B, C)
            new = best + self.emissions[:, t]
            real = self.mask[:, t, None]
            score = torch.where(real, new, score)
            # padding: stay
            back.append(torch.where(real, arg, torch.arange(self.C, device=arg.device).expand_as(arg)))
        final = score + self.end
        best_score, last = final.max(1)  # (B,)
        path = [last]
        for bp in reversed(back):
            path.append(bp.gather(1, path[-1][:, None]).squeeze(1))
        tags = torch.stack(path[::-1], 1)  # (B, T)
        return tags.masked_fill(~self.mask, -1), best_score

    @property
    def argmax(self) -> torch.Tensor:
        return self._viterbi[0]

    @property
    def max(self) -> torch.Tensor:
        return self._viterbi[1]

    def sample(self, n: int, rng: torch.Generator | None = None) -> torch.Tensor:
        """n exact samples per sequence (n, B, T), -1 at padding: forward filtering, backward sampling."""
        alpha = self._alpha  # (B, T, C)
        out = torch.full((n, self.B, self.T), -1, dtype=torch.long, device=alpha.device)
        b = torch.arange(self.B, device=alpha.device)
        nxt = torch.zeros(n, self.B, dtype=torch.long, device=alpha.device)
        for t in range(self.T - 1, -1, -1):
            is_last = (self.lengths - 1 == t)  # (B,)
            # Last real position: p(y_t) ∝ alpha_t + end. Earlier: p(y_t | y_{t+1}) ∝ alpha_t + trans[t+1][:, y_{t+1}].
            into_next = (self.trans[:, min(t + 1, self.T - 1)][b[None, :], :, nxt] if t + 1 < self.T
                         else self.end[None].expand(n, -1, -1))
            logits = alpha[None, :, t] + torch.where(is_last[None, :, None], self.end[None], into_next)  # (n, B, C)
            y = torch.multinomial(torch.softmax(logits.reshape(-1, self.C).float(), -1), 1,
                                  generator=rng).view(n, self.B)
            real = self.mask[:, t][None].expand(n, -1)
            out[:, :, t] = torch.where(real, y, out[:, :, t])
            nxt = torch.where(real, y, nxt)
        return out
