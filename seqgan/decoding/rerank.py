"""G + D decoding: the generator proposes tag sequences, a discriminator picks one.

    rerank = Reranker.from_checkpoint("runs/pos-crf-hinge", tokenizer, num_candidates=8)
    tags = rerank(gen, batch, greedy_tags)         # (B, T): the best of greedy + K samples under D's score

Candidates are G's greedy output plus K samples from G (a seeded generator); each is scored by
s(x, y) + weight * log p_G(y | x), where s is a CRF's score (a CRF run) or the GAN discriminator's
logit (a GAN run's discriminator/). D never has to search the space itself: G supplies candidates
that D alone could only find by Viterbi under its Markov assumption, and D judges them globally.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from seqgan.checkpoint import load_checkpoint, resolve_checkpoint
from seqgan.models.discriminator import load_discriminator


@dataclass
class Reranker:
    score: Callable            # (batch, tags (B, T), mask (B, T)) -> (B,) scores
    num_candidates: int = 8
    weight: float = 0.0        # weight of G's own log-probability in the ranking
    seed: int = 0
    source: str = ""

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
                raise ValueError(f"{name}: neither a CRF run nor a GAN run with discriminator/; nothing to rerank with.")
            if crf_tok.get_vocab() != tokenizer.get_vocab():
                raise ValueError(f"{name} reads sentences with another word vocabulary than the generator; train both on the "
                                 "same data and --word_min_freq (or start the CRF from the generator's tokenizer).")
            crf = crf.to(device).eval()
            score = lambda batch, tags, mask: crf.dist(batch).score(tags)  # noqa: E731
        return cls(score=score, source=str(ckpt), **kw)

    @torch.no_grad()
    def __call__(self, gen, batch: dict, greedy: torch.Tensor) -> torch.Tensor:
        g = torch.Generator(device=greedy.device).manual_seed(self.seed)
        mask = batch["mask"]
        cands = [greedy] + [gen.sample(batch, generator=g).tokens for _ in range(self.num_candidates)]
        scores = []
        for c in cands:
            c = c.masked_fill(~mask, 0)
            s = self.score(batch, c, mask).float()
            if self.weight:
                s = s + self.weight * gen.token_logprobs({**batch, "labels": c}).sum(1)
            scores.append(s)
        best = torch.stack(scores).argmax(0)  # (B,): greedy wins ties (it comes first)
        return torch.stack(cands)[best, torch.arange(len(best), device=best.device)]
