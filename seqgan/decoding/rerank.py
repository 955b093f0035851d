"""G + D decoding: the generator proposes tag sequences, a discriminator and G together pick one.

    rerank = Reranker.from_checkpoint("runs/pos-crf-nll", tokenizer, task, "cpu", num_candidates=8, lam=0.5)
    tags = rerank(gen, batch, greedy_tags)         # (B, T): the best of greedy + K samples

Candidates are G's greedy output plus K samples from G (a seeded generator). Each is ranked as a product of
experts, log p_G(y | x) + λ·s_D(x, y), where s_D is a CRF's score (a CRF run; for a fixed sentence it ranks tag
sequences as log p_CRF(y | x) does) or the GAN discriminator's logit (a GAN run's discriminator/). λ = inf ranks
by D alone (ties go to greedy), λ = 0 by G alone. D never has to search the space itself: G supplies candidates
that D alone could only find by Viterbi under its Markov assumption, and D judges them globally.

method="sir" samples instead (sampling-importance-resampling, as seqgan/decoding/guide.py does for text): of the K
samples (greedy is not one of G's samples), one is kept with probability ∝ exp(λ·s_D). With D's logit an estimate
of log p_data / p_G (a GAN's discriminator), that draws from p_G·exp(λ·d) as K grows; λ = 0 is G's own sampling.

The candidates and both scores of a batch are kept (`memo`): they depend on the batch and the seed only, so
scripts/evaluate.py tunes λ on dev by decoding it once per λ at the cost of one sampling pass.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Callable

import torch

from seqgan.checkpoint import load_checkpoint, load_discriminator, resolve_checkpoint

RERANK_METHODS = ("argmax", "sir")  # the best candidate, or one of G's samples drawn ∝ exp(λ·s_D)


def parse_lambdas(spec: str, flag: str = "--rerank_lambda") -> list[float]:
    """'0,0.5,inf' -> [0.0, 0.5, inf]; every λ must be >= 0 (a negative weight would prefer what D rejects)."""
    bad = ValueError(f"{flag} takes numbers >= 0 or inf, comma-separated (e.g. 0,0.5,1,inf); got {spec!r}.")
    try:
        lams = [float(x) for x in spec.split(",") if x.strip()]
    except ValueError:
        raise bad from None
    if not lams or any(not lam >= 0 for lam in lams):  # `not >=` also refuses nan
        raise bad
    return lams


@dataclass
class Reranker:
    score: Callable            # (batch, tags (B, T), mask (B, T)) -> (B,) scores
    num_candidates: int = 8
    lam: float = math.inf      # λ: candidates ranked by log p_G(y | x) + λ·s_D(x, y); inf: by s_D alone
    seed: int = 0
    source: str = ""
    method: str = "argmax"     # one of RERANK_METHODS
    memo: dict = field(default_factory=dict, repr=False)  # batch key -> (candidates, log p_G, s_D)

    @classmethod
    def from_checkpoint(cls, name: str, tokenizer, task, device, **kw) -> "Reranker":
        """The scorer of a CRF run (its CRF score) or a GAN run (its discriminator's logit)."""
        ckpt = resolve_checkpoint(name)
        if (ckpt / "discriminator").is_dir():
            disc = load_discriminator(str(ckpt)).to(device).eval()
            score = lambda batch, tags, mask: disc.score(tokens=tags, mask=mask, cond=batch)  # noqa: E731
        else:
            crf, crf_tok, _ = load_checkpoint(str(ckpt), task)
            if not hasattr(crf, "dist"):
                raise ValueError(f"{name}: neither a CRF run nor a GAN run with discriminator/; nothing to rerank "
                                 "with.")
            if crf_tok.get_vocab() != tokenizer.get_vocab():
                raise ValueError(f"{name} reads sentences with another word vocabulary than the generator; train both "
                                 "on the same data and --word_min_freq (or start the CRF from the generator's "
                                 "tokenizer).")
            crf = crf.to(device).eval()
            score = lambda batch, tags, mask: crf.dist(batch).score(tags)  # noqa: E731
        return cls(score=score, source=str(ckpt), **kw)

    def describe(self) -> dict:
        """What an evaluation records of this reranking (lam "inf": by D's score alone)."""
        return {"rerank_with": self.source, "num_candidates": self.num_candidates, "rerank_lambda": f"{self.lam:g}",
                "rerank_method": self.method, "rerank_seed": self.seed}

    @torch.no_grad()
    def candidates(self, gen, batch: dict, greedy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(candidates (C, B, T), log p_G (C, B), s_D (C, B)) with C = 1 + K, greedy first; computed once per batch."""
        key = (id(gen), self.seed, self.num_candidates, batch_key(batch))
        if key not in self.memo:
            g = torch.Generator(device=greedy.device).manual_seed(self.seed)
            mask = batch["mask"]
            cands = [greedy] + [gen.sample(batch, rng=g).tokens for _ in range(self.num_candidates)]
            cands = torch.stack([c.masked_fill(~mask, 0) for c in cands])  # (C, B, T)
            logp = torch.stack([gen.token_logprobs({**batch, "labels": c}).sum(1).float() for c in cands])  # (C, B)
            s = torch.stack([self.score(batch, c, mask).float() for c in cands])  # (C, B)
            self.memo[key] = (cands, logp, s)
        return self.memo[key]

    def __call__(self, gen, batch: dict, greedy: torch.Tensor) -> torch.Tensor:
        cands, logp, s = self.candidates(gen, batch, greedy)
        if self.method == "sir":
            best = 1 + self.resample(s[1:])  # (B,): among the K samples only
        else:
            rank = s if math.isinf(self.lam) else logp + self.lam * s if self.lam else logp  # (C, B); λ = 0 skips 0·s
            best = rank.argmax(0)  # (B,): greedy wins ties (it comes first)
        return cands[best, torch.arange(len(best), device=best.device)]  # (B, T)

    def resample(self, s: torch.Tensor) -> torch.Tensor:
        """(B,) indices into K samples with scores s (K, B), each drawn with probability ∝ exp(λ·s); λ = inf:
        argmax."""
        if math.isinf(self.lam):
            return s.argmax(0)
        g = torch.Generator(device=s.device).manual_seed(self.seed + 1)  # not the candidates' stream
        probs = torch.softmax(self.lam * s.T, dim=-1) if self.lam else torch.ones_like(s.T)  # (B, K)
        return torch.multinomial(probs, 1, generator=g)[:, 0]


def batch_key(batch: dict) -> str:
    """A digest of a batch's tensors: equal batches (the same sentences, padded alike) share candidates."""
    h = hashlib.sha1()
    for k in sorted(batch):
        v = batch[k]
        if torch.is_tensor(v):
            h.update(k.encode())
            h.update(str((v.dtype, tuple(v.shape))).encode())
            h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()
