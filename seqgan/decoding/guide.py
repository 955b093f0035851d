"""G + D at decoding time: sampling G's outputs re-weighted by a discriminator's density ratio, and its likelihood.

    python scripts/evaluate.py --checkpoint runs/oracle-mle --guide_with runs/oracle-ratio --guide_method sir \
        --guide_candidates 8 --guide_gamma 1.0

A discriminator trained (logistic loss, balanced classes) to tell data from G's samples has logit
d(x) ≈ log p_data(x) / p_G(x) (scripts/fit_ratio.py trains one). `GuidedGenerator` wraps G and D into the
residual energy model (Deng et al. 2020)

    p(x) = p_G,T(x) · exp(γ d(x)) / Z_T,     Z_T = E_{x ~ p_G,T}[exp(γ d(x))],

with G at temperature T. It draws from it approximately, by either
  - SIR (sampling-importance-resampling): K candidates from G, one kept with probability ∝ exp(γ d(x));
    as K grows its output's law tends to p;
  - DRS (discriminator rejection sampling, Azadi et al. 2019): each candidate accepted with probability
    min(1, exp(γ d(x) − M)), M = max γ d over a burn-in set of G's samples; exact for p where γ d ≤ M.
and scores data under p exactly up to log Z_T, which is estimated by Monte Carlo over N samples of G:
Ẑ = mean exp(γ d(x_i)) is unbiased for Z, so by Jensen E[log Ẑ] ≤ log Z: the plug-in NLL, which adds
log Ẑ, errs low (optimistic) on average. Its standard error is reported beside it (delta method).

It is a `Generator` to the rest of seqgan: the tasks' evaluation and the temperature sweep use it as they
use G. `token_logprobs` spreads each sequence's γ d(x) − log Ẑ_T evenly over its tokens, so per-token
NLLs sum to the residual model's sequence NLL.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn as nn

from seqgan.models.generator import Generator, Samples

GUIDE_METHODS = ("sir", "drs")


@dataclass
class GuideArguments:
    """Options of G + D sampling, shared by scripts/evaluate.py and scripts/generate.py."""

    _argument_group_name = "G + D sampling by D's density ratio (--guide_with)"
    guide_with: str | None = field(default=None, metadata={
        "help": "text/oracle: sample from p_G·exp(γ d)/Z with this run's D (scripts/fit_ratio.py, or a GAN run): SIR "
                "or DRS over G's samples; evaluate.py's NLL is then the residual model's (seqgan/decoding/guide.py)."})
    guide_method: str = field(default="sir",
                              metadata={"help": "sir (keep 1 of K candidates by exp(γ d)) or drs (rejection)."})
    guide_candidates: int = field(default=8,
                                  metadata={"help": "SIR: candidates per output (K); DRS: candidates per round, per "
                                                    "output."})
    guide_gamma: float = field(default=1.0,
                               metadata={"help": "Weight γ of D's logit: 0 is G itself, 1 the density-ratio "
                                                 "correction."})
    guide_z_samples: int = field(default=10000,
                                 metadata={"help": "Samples of G behind the estimate of log Z (evaluate.py's NLL)."})
    guide_burn_in: int = field(default=2000, metadata={"help": "DRS: samples of G whose largest γ d sets M."})

    def __post_init__(self):
        if self.guide_method not in GUIDE_METHODS:
            raise ValueError(f"--guide_method must be one of {', '.join(GUIDE_METHODS)}, got {self.guide_method!r}.")
        if self.guide_candidates < 1:
            raise ValueError(f"--guide_candidates must be >= 1, got {self.guide_candidates}.")
        if self.guide_z_samples < 2 or self.guide_burn_in < 1:
            raise ValueError("--guide_z_samples must be >= 2 and --guide_burn_in >= 1.")

    def tag(self) -> str:
        """A file-name tag, e.g. sir-K8-g1 or drs-g0.5."""
        g = f"g{self.guide_gamma:g}"
        return f"sir-K{self.guide_candidates}-{g}" if self.guide_method == "sir" else f"drs-{g}"


def sir_choice(log_w: torch.Tensor, rng: torch.Generator | None = None) -> torch.Tensor:
    """(n,) index of the candidate kept in each row of log-weights (n, K): probability softmax(log_w) per row."""
    u = torch.rand(log_w.shape[0], 1, generator=rng, device=log_w.device, dtype=torch.float64)  # (n, 1)
    cdf = torch.softmax(log_w.double(), -1).cumsum(-1)  # (n, K)
    return (cdf < u * cdf[:, -1:]).sum(-1).clamp(max=log_w.shape[1] - 1)  # inverse CDF: exact, seeded


def drs_accept_prob(log_w: torch.Tensor, m: float) -> torch.Tensor:
    """DRS acceptance probability min(1, exp(log_w − M)) of each candidate."""
    return torch.exp((log_w.double() - m).clamp(max=0.0))


def estimate_log_partition(log_w: torch.Tensor) -> tuple[float, float]:
    """(log Ẑ, its standard error) from log-weights γ d(x_i) of N samples of G. Ẑ = mean exp(log_w) is unbiased
    for Z; log Ẑ is biased low (Jensen). The error is the delta method's: sd(w) / (sqrt(N) mean(w))."""
    lw = log_w.double().flatten()
    n = lw.numel()
    log_z = (torch.logsumexp(lw, 0) - math.log(n)).item()
    w = torch.exp(lw - log_z)  # weights relative to their mean (mean 1): numerically safe
    return log_z, (w.std(unbiased=True) / math.sqrt(n)).item()


def concat_samples(parts: list[Samples], pad_id: int) -> Samples:
    """Rows of several Samples (their lengths may differ) as one, right-padded."""
    T = max(p.tokens.shape[1] for p in parts)

    def pad(x, value):  # (B, t) -> (B, T)
        return torch.nn.functional.pad(x, (0, T - x.shape[1]), value=value)

    return Samples(tokens=torch.cat([pad(p.tokens, pad_id) for p in parts]),
                   logprobs=torch.cat([pad(p.logprobs, 0.0) for p in parts]),
                   mask=torch.cat([pad(p.mask, False) for p in parts]))


def take_rows(s: Samples, index: torch.Tensor) -> Samples:
    return Samples(tokens=s.tokens[index], logprobs=s.logprobs[index], mask=s.mask[index])


class GuidedGenerator(Generator):
    """G's samples re-weighted by exp(γ d(x)): the residual energy model over G and D (module docstring).

    `disc` is any module with score(tokens=, mask=) -> (B,) logits, read as log density ratios.
    """

    def __init__(self, gen: Generator, disc: nn.Module, settings: GuideArguments, seed: int = 0, batch_size: int = 500,
                 max_candidates_per_sample: int = 1000):
        super().__init__()
        if getattr(gen, "conditional", False):
            raise ValueError("guided sampling (--guide_with) applies to unconditional generators (text, oracle); "
                             "for pos, G + D decoding is --rerank_with.")
        self.gen, self.disc, self.settings, self.batch_size = gen, disc, settings, batch_size
        self.seed, self.max_candidates_per_sample = seed, max_candidates_per_sample  # seed: burn-in and log Z samples
        self.bos_id, self.pad_id, self.eos_id = gen.bos_id, gen.pad_id, gen.eos_id
        self.max_length = getattr(gen, "max_length", None)
        self.log_z: dict[float, tuple[float, float]] = {}  # temperature -> (log Ẑ, standard error)
        self.drs_m: dict[float, float] = {}                 # temperature -> M
        # Candidates drawn, accepted (DRS: every accepted one, the surplus of a last round too) and outputs kept.
        self.drawn, self.accepted, self.kept, self.seconds = 0, 0, 0, 0.0

    @property
    def vocab_size(self) -> int:
        return self.gen.vocab_size

    @torch.no_grad()
    def log_weights(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """γ d(x) of each row (B,), in float64."""
        return self.settings.guide_gamma * self.disc.score(tokens=tokens, mask=mask).double()

    @torch.no_grad()
    def draw(self, n: int, temperature: float, rng: torch.Generator | None) -> tuple[Samples, torch.Tensor]:
        """n samples of G at `temperature` and their log-weights γ d(x), in batches."""
        parts, lws = [], []
        for i in range(0, n, self.batch_size):
            s = self.gen.sample(num_samples=min(self.batch_size, n - i), temperature=temperature, rng=rng)
            parts.append(s)
            lws.append(self.log_weights(s.tokens, s.mask))
        return concat_samples(parts, self.pad_id), torch.cat(lws)

    def partition(self, temperature: float) -> tuple[float, float]:
        """(log Ẑ_T, standard error), estimated once per temperature from settings.guide_z_samples seeded samples of
        G."""
        if temperature not in self.log_z:
            g = torch.Generator(device=self.device).manual_seed(self.seed + 1)
            self.log_z[temperature] = estimate_log_partition(self.draw(self.settings.guide_z_samples, temperature,
                                                                       g)[1])
        return self.log_z[temperature]

    def rejection_bound(self, temperature: float) -> float:
        """DRS's M: the largest γ d over settings.guide_burn_in seeded samples of G."""
        if temperature not in self.drs_m:
            g = torch.Generator(device=self.device).manual_seed(self.seed + 2)
            self.drs_m[temperature] = self.draw(self.settings.guide_burn_in, temperature, g)[1].max().item()
        return self.drs_m[temperature]

    @torch.no_grad()
    def sample(self, batch: dict | None = None, num_samples: int | None = None, temperature: float = 1.0,
               greedy: bool = False, rng: torch.Generator | None = None, **kw) -> Samples:
        """num_samples outputs of the guided sampler; `logprobs` are G's (the residual model has no per-token law)."""
        if greedy or kw.get("return_logits") or kw.get("gumbel"):
            raise ValueError("a guided sampler draws samples only: no greedy decoding, logits or Gumbel noise.")
        n, k, t0 = num_samples, self.settings.guide_candidates, time.time()
        if self.settings.guide_method == "sir":
            cands, lw = self.draw(n * k, temperature, rng)  # row i*K + j: candidate j of output i
            pick = sir_choice(lw.view(n, k), rng)  # (n,)
            out = take_rows(cands, torch.arange(n, device=pick.device) * k + pick)
            self.drawn, self.accepted = self.drawn + n * k, self.accepted + n
        else:
            m, kept, drawn = self.rejection_bound(temperature), [], 0
            while sum(len(p.tokens) for p in kept) < n:
                if drawn > self.max_candidates_per_sample * n:
                    raise RuntimeError(f"DRS accepted {sum(len(p.tokens) for p in kept)} of {drawn} candidates (γ = "
                                       f"{self.settings.guide_gamma}); lower --guide_gamma or use --guide_method sir.")
                cands, lw = self.draw(n * k, temperature, rng)
                u = torch.rand(lw.shape, generator=rng, device=lw.device, dtype=torch.float64)
                kept.append(take_rows(cands, (u < drs_accept_prob(lw, m)).nonzero().squeeze(1)))
                drawn += n * k
            out = concat_samples(kept, self.pad_id)
            self.accepted += len(out.tokens)
            out = take_rows(out, torch.arange(n, device=out.tokens.device))
            self.drawn += drawn
        self.kept += n
        self.seconds += time.time() - t0
        return out

    def token_logprobs(self, batch: dict, temperature: float = 1.0) -> torch.Tensor:
        """log p(x) of the residual model spread over x's tokens: G's log-probs + (γ d(x) − log Ẑ_T) / |x|. (B, T)"""
        logp = self.gen.token_logprobs(batch, temperature=temperature)  # (B, T)
        scored = batch["mask"] & (batch["labels"] >= 0)  # (B, T)
        shift = self.log_weights(batch["labels"], batch["mask"]) - self.partition(temperature)[0]  # (B,)
        per_token = shift / scored.sum(1).clamp(min=1)  # (B,)
        return torch.where(scored, logp + per_token[:, None].to(logp.dtype), torch.zeros_like(logp))

    def diagnostics(self, loader, accelerator, temperature: float = 1.0) -> dict:
        """The sampler's cost and the log Z estimate behind the NLL, with the NLL's error bar from it."""
        seqs = tokens = 0
        for batch in loader:
            scored = batch["mask"] & (batch["labels"] >= 0)
            seqs += len(scored)
            tokens += int(scored.sum())
        log_z, se = self.partition(temperature)
        s = self.settings
        out = {"guide_method": s.guide_method, "guide_candidates": s.guide_candidates, "guide_gamma": s.guide_gamma,
               "guide_z_samples": s.guide_z_samples, "log_z": log_z, "log_z_se": se,
               # the per-token NLL adds log Ẑ once per sequence: its error is log Ẑ's times sequences per token
               "nll_log_z_se": se * seqs / max(tokens, 1),
               "nll_estimate": "residual model p_G·exp(γd)/Z; log Z by Monte Carlo (biased low: the NLL errs low)",
               # SIR keeps 1 of K; DRS accepts each candidate with min(1, exp(γd − M)): this is that rate, measured.
               "guide_acceptance": self.accepted / max(self.drawn, 1),
               # What was spent: DRS draws K candidates per missing output per round, so it spends more than
               # 1 / acceptance when one round accepts more than it needs.
               "guide_candidates_per_sample": self.drawn / max(self.kept, 1),
               "guide_seconds_per_sample": self.seconds / max(self.kept, 1)}
        if s.guide_method == "drs":
            out.update({"guide_burn_in": s.guide_burn_in, "drs_m": self.rejection_bound(temperature)})
        self.drawn, self.accepted, self.kept, self.seconds = 0, 0, 0, 0.0  # a sweep's next temperature counts afresh
        return out


def load_ratio(name: str) -> nn.Module:
    """D from a density-ratio run (scripts/fit_ratio.py: discriminator/ at its top) or a GAN run's discriminator."""
    from seqgan.checkpoint import load_discriminator
    from seqgan.models.discriminator import SeqGanDiscriminator

    p = Path(name)
    if (p / "discriminator" / "config.json").is_file():
        return SeqGanDiscriminator.from_pretrained(p / "discriminator", use_safetensors=True)
    try:
        return load_discriminator(name)
    except FileNotFoundError as e:
        raise FileNotFoundError(f"--guide_with {name}: no discriminator there ({e}). Train one with "
                                "scripts/fit_ratio.py --checkpoint <G run> --output_dir <folder>.") from e
