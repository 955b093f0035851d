""""D alone" for unconditional text: a bigram energy model, generating by exact sampling or by Viterbi.

    gen = BigramGenerator(BigramEnergyModel(BigramEnergyConfig(vocab_size=V, seq_length=20)))
    loss = -gen.model.log_prob(tokens, mask).sum() / mask.sum()      # CRF likelihood (--method crf)
    gen.sample(num_samples=100)                                      # exact samples
    gen.sample(num_samples=1, greedy=True)                           # Viterbi: the single best sequence

A discriminator that scores whole sequences can only generate by an argmax over all of them,
which is tractable under a Markov assumption. This model's energy is exactly such a score:

    s(y) = start[y_0] + sum_t u[y_t] + sum_{t>=1} A[y_{t-1}, y_t]  (+ end[y_{T-1}] at a fixed length T)

normalised globally, p(y) = exp s(y) / Z. Fixed length (oracle): every sequence has T tokens.
EOS mode (text): y ends at its first [EOS], at most max_length tokens, so sum_L over lengths is
part of Z (the length model is the chain's own chance of moving into [EOS]).
Z and the backward messages are the forward algorithm on V states, run as V x V matrix products
in scaled probability space (exp(A - max A)), so a 5,000-word vocabulary costs a few matrix-vector
products per position. Given the messages beta_t, the model is a Markov chain:
p(y_t = j | y_{t-1} = i) ∝ exp(A[i, j] + u[j] + beta_t(j)), which is how it samples exactly and
gives exact per-token likelihoods through the Generator interface.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel

from seqgan.models.generator import Generator, Samples
from seqgan.parallel import global_mean


class BigramEnergyConfig(PretrainedConfig):
    model_type = "seqgan_bigram"

    def __init__(self, vocab_size: int = 4, seq_length: int = 20, eos_id: int | None = None, bos_id: int = 1,
                 pad_id: int = 0, suppress_ids: list[int] | None = None, **kwargs):
        self.vocab_size, self.seq_length, self.eos_id = vocab_size, seq_length, eos_id  # eos_id None: fixed length
        self.bos_id, self.pad_id, self.suppress_ids = bos_id, pad_id, sorted(suppress_ids or [])
        super().__init__(**kwargs)


def _lse_matvec(x: torch.Tensor, E: torch.Tensor, a: torch.Tensor, left: bool) -> torch.Tensor:
    """log(exp(x) @ exp(A)) (left) or log(exp(A) @ exp(x)) with E = exp(A - a): (V,) -> (V,)."""
    m = x.max().clamp(min=-1e30)  # all -inf stays -inf
    p = (x - m).exp()
    return torch.log(p @ E if left else E @ p) + m + a


class BigramEnergyModel(PreTrainedModel):
    config_class = BigramEnergyConfig
    base_model_prefix = "bigram"

    def __init__(self, config: BigramEnergyConfig):
        super().__init__(config)
        V = config.vocab_size
        self.unigram = nn.Parameter(torch.zeros(V))
        self.transitions = nn.Parameter(torch.zeros(V, V))
        self.start = nn.Parameter(torch.zeros(V))
        self.end = nn.Parameter(torch.zeros(V))  # fixed-length mode only
        self._cache = None  # (parameter versions, messages) while parameters do not change
        self.post_init()

    @property
    def allowed(self) -> torch.Tensor:
        """(V,) bool, False for suppressed ids. Built from the config each time: a non-persistent buffer
        would not survive from_pretrained, which builds the model on the meta device."""
        allowed = torch.ones(self.config.vocab_size, dtype=torch.bool, device=self.unigram.device)
        allowed[self.config.suppress_ids] = False
        return allowed

    def potentials(self):
        """(start, unigram, A, a, E, end) with suppressed tokens at -inf; E = exp(A - a) for the matrix products."""
        neg = torch.tensor(float("-inf"), device=self.unigram.device)
        u = torch.where(self.allowed, self.unigram, neg)
        a = self.transitions.detach().max()
        return self.start, u, self.transitions, a, (self.transitions - a).exp(), self.end

    def _is_eos(self) -> torch.Tensor:
        V = self.config.vocab_size
        eos = torch.zeros(V, dtype=torch.bool, device=self.unigram.device)
        if self.config.eos_id is not None:
            eos[self.config.eos_id] = True
        return eos

    def messages(self):
        """(log Z, beta (T, V)): beta[t, j] = log-sum of everything after position t given y_t = j (0 for [EOS]).

        Without gradients (evaluation, sampling) the result is cached until a parameter changes."""
        if torch.is_grad_enabled():
            return self._messages()
        key = tuple(p._version for p in self.parameters()) + (self.unigram.data_ptr(),)
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, self._messages())
        return self._cache[1]

    def _messages(self):
        # log Z is a precision-sensitive reduction: never under --mixed_precision's autocast.
        with torch.autocast(self.unigram.device.type, enabled=False):
            return self._messages_fp32()

    def _messages_fp32(self):
        T, eos = self.config.seq_length, self._is_eos()
        start, u, A, a, E, end = self.potentials()
        ninf = torch.full_like(u, float("-inf"))
        if self.config.eos_id is None:
            betas = [end]
        else:  # at the last position only [EOS] can stand; after [EOS] nothing follows (log 1 = 0)
            betas = [torch.where(eos, torch.zeros_like(u), ninf)]
        for _ in range(T - 1):
            nxt = _lse_matvec(u + betas[-1], E, a, left=False)  # (V,): sum_j exp(A[i, j] + u[j] + beta[j])
            betas.append(torch.where(eos, torch.zeros_like(u), nxt))
        beta = torch.stack(betas[::-1], 0)  # (T, V)
        log_z = torch.logsumexp(start + u + beta[0], 0)
        return log_z, beta

    def score(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """s(y) of right-padded token rows (B, T) (positions after the mask are ignored)."""
        start, u, A, _, _, end = self.potentials()
        tok = tokens.masked_fill(~mask, 0)
        zero = torch.zeros((), dtype=u.dtype, device=u.device)
        s = start[tok[:, 0]] + torch.where(mask, u[tok], zero).sum(1)  # not u * mask: padding ids may score -inf
        s = s + torch.where(mask[:, 1:], A[tok[:, :-1], tok[:, 1:]], zero).sum(1)
        if self.config.eos_id is None:
            s = s + end[tok[torch.arange(len(tok)), mask.sum(1) - 1]]
        return s

    def log_prob(self, tokens, mask):
        log_z, _ = self.messages()
        return self.score(tokens, mask) - log_z

    def conditional_logits(self, prev: torch.Tensor, pos: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        """Unnormalised log p(y_pos = . | y_{pos-1} = prev): (N,) prev tokens ([BOS] at pos 0), (N,) positions ->
        (N, V)."""
        start, u, A, _, _, _ = self.potentials()
        first = (pos == 0)[:, None]
        return torch.where(first, start[None], A[prev.clamp(0, self.config.vocab_size - 1)]) + u[None] + beta[pos]

    def viterbi(self) -> torch.Tensor:
        """The highest-scoring sequence (L,), ending at its [EOS] in EOS mode."""
        T, eos_id = self.config.seq_length, self.config.eos_id
        start, u, A, _, _, end = self.potentials()
        delta, back = start + u, []
        best_end = []  # EOS mode: (score, t) of the best sequence that ends with [EOS] at position t
        for t in range(T):
            if t > 0:
                # nothing follows [EOS]
                prev = delta if eos_id is None else delta.masked_fill(self._is_eos(), float("-inf"))
                cand = prev[:, None] + A  # (V_prev, V)
                best, arg = cand.max(0)
                delta = best + u
                back.append(arg)
            if eos_id is not None:
                best_end.append(delta[eos_id])
        if eos_id is None:
            last, L = int((delta + end).argmax()), T
        else:
            L = int(torch.stack(best_end).argmax()) + 1
            last = eos_id
        path = [last]
        for bp in reversed(back[: L - 1]):
            path.append(int(bp[path[-1]]))
        return torch.tensor(path[::-1], device=self.unigram.device)


AutoConfig.register(BigramEnergyConfig.model_type, BigramEnergyConfig)
AutoModel.register(BigramEnergyConfig, BigramEnergyModel)


class BigramGenerator(Generator):
    """Generator interface over BigramEnergyModel: exact ancestral sampling from the chain its messages define."""

    def __init__(self, model: BigramEnergyModel):
        super().__init__()
        self.model = model
        cfg = model.config
        self.pad_id, self.bos_id, self.eos_id, self.max_length = cfg.pad_id, cfg.bos_id, cfg.eos_id, cfg.seq_length

    @property
    def vocab_size(self) -> int:
        return self.model.config.vocab_size

    def forward(self, batch: dict) -> torch.Tensor:
        labels, mask = batch["labels"], batch["mask"]
        B, T = labels.shape
        _, beta = self.model.messages()
        prev = torch.cat([torch.full_like(labels[:, :1], self.bos_id), labels[:, :-1].masked_fill(~mask[:, :-1], 0)],
                         1)
        pos = torch.arange(T, device=labels.device).expand(B, T)
        return self.model.conditional_logits(prev.reshape(-1), pos.reshape(-1), beta).view(B, T, -1)  # (B, T, V)

    def start(self, batch, num_samples):
        if num_samples is None:
            num_samples = batch["labels"].shape[0]
        _, beta = self.model.messages()
        return {"beta": beta}, None, num_samples, self.max_length

    def step(self, state, prev, pos, attn):
        return self.model.conditional_logits(prev, pos, state["beta"])

    def sample(self, batch=None, num_samples=None, temperature=1.0, greedy=False, rng=None,
               return_logits=False, gumbel=False, global_rows=None) -> Samples:
        if not greedy:
            return super().sample(batch, num_samples, temperature, False, rng, return_logits, gumbel, global_rows)
        # Greedy here means the global argmax (Viterbi), not step-wise argmax: the one sequence D alone prefers.
        n = num_samples if num_samples is not None else batch["labels"].shape[0]
        path = self.model.viterbi()
        tokens = path[None].expand(n, -1).clone()
        mask = torch.ones_like(tokens, dtype=torch.bool)
        lp = self.token_logprobs({"labels": tokens, "mask": mask})
        return Samples(tokens=tokens, logprobs=lp, mask=mask)

    @torch.no_grad()
    def init_from_counts(self, sequences: list[list[int]], smoothing: float) -> None:
        """Start at the add-k smoothed bigram chain of the data: A[i, j] = log p(j | i), start = log p(y_0),
        unigram = end = 0. That chain is globally normalised already (Z = 1) and is the maximum-likelihood
        homogeneous Markov chain, so CRF training starts from the counts and only refines them."""
        m = self.model
        V, allowed = self.vocab_size, m.allowed.float()
        dev = m.unigram.device
        pairs = torch.tensor([(a, b) for s in sequences for a, b in zip(s[:-1], s[1:])], dtype=torch.long, device=dev)
        counts = torch.zeros(V, V, device=dev).index_put_((pairs[:, 0], pairs[:, 1]),
                                                          torch.ones(len(pairs), device=dev),
                                                          accumulate=True)
        first = torch.bincount(torch.tensor([s[0] for s in sequences if s], device=dev), minlength=V).float()
        trans = (counts + smoothing) * allowed[None]  # (V, V): no mass on suppressed tokens
        m.transitions.copy_(torch.log(trans / trans.sum(1, keepdim=True)).nan_to_num(neginf=-1e4))
        st = (first + smoothing) * allowed
        m.start.copy_(torch.log(st / st.sum()).nan_to_num(neginf=-1e4))
        m.unigram.zero_()
        m.end.zero_()

    def structured_loss(self, batch: dict, kind: str, ctx=None) -> torch.Tensor:
        """CRF likelihood: -sum log p(y) / #tokens (the only loss for an unconditional model)."""
        if kind != "nll":
            raise ValueError(f"the bigram model trains by --crf_loss nll, not {kind!r}.")
        return global_mean(-self.model.log_prob(batch["labels"], batch["mask"]).sum(), batch["mask"].sum())

    def save_pretrained(self, path, **kw):
        self.model.save_pretrained(path, **kw)


def bigram_from_scratch(tokenizer, max_length: int, fixed_length: bool, suppress_ids: list[int]) -> BigramGenerator:
    cfg = BigramEnergyConfig(vocab_size=len(tokenizer), seq_length=max_length,
                             eos_id=None if fixed_length else tokenizer.eos_token_id, bos_id=tokenizer.bos_token_id,
                             pad_id=tokenizer.pad_token_id, suppress_ids=suppress_ids)
    return BigramGenerator(BigramEnergyModel(cfg))
