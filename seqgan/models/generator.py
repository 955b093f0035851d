"""G: a left-to-right generator p(y | x) = prod_t p(y_t | x, y_<t) over a transformers model.

Every generator answers the same questions, whatever the task:

    logits = gen(batch)                          # (B, T, V) teacher-forced, aligned with batch["labels"]
    out = gen.sample(batch, temperature=1.0)     # Samples: tokens (B, T), logprobs (B, T), mask (B, T)
    out = gen.sample(batch, greedy=True)         # greedy decoding
    out = gen.sample(batch, return_logits=True)  # + per-position logits (B, T, V)
    out = gen.sample(batch, gumbel=True)         # Gumbel-max sampling, + the noise (B, T, V) it used

Positions: the input at position p is the token before y_p ([BOS] at p = 0) and it predicts y_p.
A subclass says how to start decoding (`start`: encodes the condition, makes an empty cache) and
how to run the decoder over inputs at given positions (`step`: one new input per row, with its
own position and an attention mask over the cache; `prefill`: a whole teacher-forced sequence),
so nothing is ever re-encoded. `select_rows` repeats or drops rows of a decoding state (cache and
condition alike), which lets Monte-Carlo rollouts branch many continuations off one prefix pass
(seqgan/training/rollout.py). `CausalGenerator` wraps any `AutoModelForCausalLM`;
`seqgan.models.tagger.TaggerGenerator` is the conditional one for POS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import AutoModelForCausalLM, DynamicCache
from transformers.cache_utils import Cache, DynamicLayer

from seqgan.models.pretrained import load_pretrained


@dataclass
class Samples:
    tokens: torch.Tensor    # (B, T) long, pad where mask is False
    logprobs: torch.Tensor  # (B, T) log-prob of each token under the distribution it was drawn from
    mask: torch.Tensor      # (B, T) bool, True for real tokens (an EOS counts as real)
    logits: torch.Tensor | None = None   # (B, T, V) temperature-scaled logits, with return_logits=True
    gumbels: torch.Tensor | None = None  # (B, T, V) Gumbel noise g with tokens = argmax(logprobs + g), gumbel=True


def icdf_sample(logits: torch.Tensor, u: torch.Tensor, block: int = 64) -> torch.Tensor:
    """Tokens with P(token) = softmax(logits), drawn from uniforms u: (M, V), (M,) or (M, K) -> same shape as u.

    Two-level inverse CDF: sums of blocks of `block` probabilities locate the block holding u * total,
    then a cumulative sum inside that block locates the token. Running sums are float64: a float32
    running sum over thousands of entries drifts by ~1e-6, enough to move a CDF boundary past u when
    two implementations differ in the last bit of a logit. It also never materialises a (M, V) CDF. A
    zero-probability token (suppressed ids, block padding) is never drawn, whatever the rounding.
    """
    x = logits.to(torch.promote_types(logits.dtype, torch.float32))
    M, V = x.shape
    full = V // block * block
    p = (x - x.amax(-1, keepdim=True)).exp_()  # (M, V) unnormalised probabilities
    sums = p[:, :full].unflatten(1, (V // block, block)).sum(-1)  # (M, V // block): 64-term float32 sums, ~1e-7 exact
    if full < V:
        sums = torch.cat([sums, p[:, full:].sum(-1, keepdim=True)], 1)  # the short last block
    block_cdf = sums.double().cumsum(-1)  # (M, nb)
    nb = block_cdf.shape[1]
    vals = u.to(torch.float64)
    squeeze = vals.dim() == 1
    vals = (vals[:, None] if squeeze else vals) * block_cdf[:, -1:]  # (M, K) targets in [0, total)
    # Rounding can put a target at (or past) the end of the mass: u * total rounds up to total, or a float32
    # block sum exceeds the float64 sum of its entries. Searching would then run off the end, so every
    # search is clamped to the last block, and the last token in its block, that carries mass.
    last_block = torch.where(sums > 0, torch.arange(nb, device=x.device), -1).amax(-1, keepdim=True)  # (M, 1)
    b = torch.minimum(torch.searchsorted(block_cdf, vals, right=True), last_block)  # (M, K) block of each target
    before = torch.where(b > 0, block_cdf.gather(1, (b - 1).clamp(min=0)), torch.zeros_like(vals))  # mass before it
    K = vals.shape[1]
    cols = b[..., None] * block + torch.arange(block, device=b.device)  # (M, K, block) token ids of the block
    inner = p.gather(1, cols.clamp(max=V - 1).view(M, K * block)).view(M, K, block).masked_fill_(cols >= V, 0.0)
    j = torch.searchsorted(inner.cumsum(-1, dtype=torch.float64), (vals - before)[..., None], right=True).squeeze(-1)
    last_live = torch.where(inner > 0, torch.arange(block, device=b.device), -1).amax(-1)  # (M, K)
    idx = b * block + torch.minimum(j, last_live)
    return idx[:, 0] if squeeze else idx


class GlobalRows(NamedTuple):
    """Which rows of a global batch this process holds, in a multi-process run: `ids` (B,) index the `total` rows.
    Noise is drawn for all `total` rows from the shared seeded stream and each process keeps its own, so N processes
    draw exactly what one process would (seqgan.training.bridges.BridgeContext.global_rows builds it)."""
    ids: torch.Tensor
    total: int


def row_rand(shape: tuple, rng: torch.Generator | None, device, global_rows: GlobalRows | None = None) -> torch.Tensor:
    """Uniforms of shape (B, ...). With global_rows (GlobalRows), draw them for all `total` rows of
    the global batch and keep this process's: every process consumes the same random stream, and
    N processes draw exactly the numbers one process would."""
    if global_rows is None:
        return torch.rand(shape, generator=rng, device=device)
    ids, total = global_rows
    return torch.rand((total, *shape[1:]), generator=rng, device=device)[ids]


def gumbel_noise(shape, rng: torch.Generator | None, device, global_rows: GlobalRows | None = None) -> torch.Tensor:
    """Standard Gumbel draws -log(-log U), U ~ Uniform(0, 1), from a seeded generator."""
    u = row_rand(shape, rng, device, global_rows).clamp_(1e-20, 1.0 - 1e-7)
    return -torch.log(-torch.log(u))


class GrowableLayer(DynamicLayer):
    """A DynamicLayer that writes into a preallocated buffer (doubling when full) instead of
    concatenating a new tensor every step, keeps a prefix of rows as a view, and can overwrite a
    given slot instead of appending (`slot`): Monte-Carlo rollouts branch thousands of rows off one
    cache and would otherwise copy all of it twice per step (see seqgan/training/rollout.py)."""

    slot: int | None = None  # write the next entry here (attention ignores key order) instead of appending

    def lazy_initialization(self, key_states, value_states):
        super().lazy_initialization(key_states, value_states)
        self.length = 0
        self.kbuf = self.vbuf = None

    def _reserve(self, need: int, like_k, like_v):
        if self.kbuf is not None and need <= self.kbuf.shape[-2]:
            return
        # Exact at first (a prefill's cache stays contiguous), doubling after (appends stay amortised O(1)).
        cap = need if self.kbuf is None else max(need, 2 * self.kbuf.shape[-2])
        kb = like_k.new_empty(*like_k.shape[:-2], cap, like_k.shape[-1])  # (B, H, cap, D)
        vb = like_v.new_empty(*like_v.shape[:-2], cap, like_v.shape[-1])
        if self.length:
            kb[..., : self.length, :] = self.kbuf[..., : self.length, :]
            vb[..., : self.length, :] = self.vbuf[..., : self.length, :]
        self.kbuf, self.vbuf = kb, vb

    def update(self, key_states, value_states, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        n = key_states.shape[-2]
        if self.slot is not None:
            if n != 1 or not 0 <= self.slot < self.length:
                raise ValueError(f"slot writes take one new entry inside the cache (slot {self.slot}, length "
                                 f"{self.length}).")
            self.kbuf[..., self.slot, :] = key_states[..., 0, :]
            self.vbuf[..., self.slot, :] = value_states[..., 0, :]
        else:
            self._reserve(self.length + n, key_states, value_states)
            self.kbuf[..., self.length: self.length + n, :] = key_states
            self.vbuf[..., self.length: self.length + n, :] = value_states
            self.length += n
        self.keys, self.values = self.kbuf[..., : self.length, :], self.vbuf[..., : self.length, :]
        return self.keys, self.values

    def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
        if self.slot is not None:
            return self.length, 0  # the new entry lands inside the cache: the key length does not grow
        return super().get_mask_sizes(query_length)

    def batch_select_indices(self, indices):
        """Rows `indices` (a tensor, gathered) or a slice (a view, no copy)."""
        if self.is_initialized and self.kbuf is not None:
            self.kbuf, self.vbuf = self.kbuf[indices], self.vbuf[indices]
            self.keys, self.values = self.kbuf[..., : self.length, :], self.vbuf[..., : self.length, :]


class GrowableCache(DynamicCache):
    """DynamicCache made of GrowableLayers (one per decoder layer, created on first use)."""

    def __init__(self):
        Cache.__init__(self, layer_class_to_replicate=GrowableLayer)

    def write_slot(self, slot: int | None) -> None:
        """Make the next step overwrite cache entry `slot` in every layer (None: append again)."""
        for layer in self.layers:
            layer.slot = slot


class Generator(nn.Module):
    """Base class: the sampling loop shared by every generator."""

    pad_id: int
    bos_id: int
    eos_id: int | None  # None: sequences have a length fixed by `start` (no EOS)
    conditional: bool = False  # True: sample(batch) draws one output per input of the batch
    vocab_size: int           # size of the output distribution

    def forward(self, batch: dict) -> torch.Tensor:
        raise NotImplementedError

    def start(self, batch: dict | None, num_samples: int | None) -> tuple[dict, torch.Tensor | None, int, int]:
        """Return (state, fixed_mask (B, T) or None, batch_size, max_steps); state holds an empty cache."""
        raise NotImplementedError

    def step(self, state: dict, prev: torch.Tensor, pos: torch.Tensor, attn: torch.Tensor) -> torch.Tensor:
        """Logits (B, V) of y_pos given the previous token `prev` (B,) at positions `pos` (B,).

        `attn` (B, S + 1) marks which cached entries (and the new one, last) each row attends to.
        Appends one entry to state["cache"].
        """
        raise NotImplementedError

    def prefill(self, state: dict, tokens: torch.Tensor, mask: torch.Tensor, last_only: bool = False) -> torch.Tensor:
        """Teacher-forced logits (B, T, V) of `tokens`, filling state["cache"] with positions 0..T-1.

        last_only=True returns only the last position's logits (B, V), skipping the output layer elsewhere.
        """
        raise NotImplementedError

    def select_rows(self, state: dict, index: torch.Tensor) -> dict:
        """State for rows `index` of `state` (a (B',) tensor, or a slice to keep a prefix of rows without
        copying): the cache and any per-row condition, in place."""
        state["cache"].batch_select_indices(index)
        return state

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def sample(self, batch: dict | None = None, num_samples: int | None = None, temperature: float = 1.0,
               greedy: bool = False, rng: torch.Generator | None = None,
               return_logits: bool = False, gumbel: bool = False, global_rows: GlobalRows | None = None) -> Samples:
        """Draw one sequence per input (or `num_samples` unconditional ones).

        gumbel=True draws tokens as argmax(log-probs + Gumbel noise), an exact sample, and returns
        the noise so a relaxed sample softmax(beta * (log-probs + noise)) can be rebuilt with gradients.
        global_rows (GlobalRows) draws the noise as rows of a larger global batch (see `row_rand`).
        Gradients are not blocked here; wrap the call in `torch.no_grad()` when none are needed.
        """
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}; use greedy=True for argmax decoding.")
        state, fixed_mask, B, T = self.start(batch, num_samples)
        dev = self.device
        prev = torch.full((B,), self.bos_id, dtype=torch.long, device=dev)
        alive = torch.ones(B, dtype=torch.bool, device=dev)
        tokens, logps, masks, all_logits, noises = [], [], [], [], []
        for t in range(T):
            pos = torch.full((B,), t, dtype=torch.long, device=dev)
            # (B, V)
            logits = self.step(state, prev, pos, torch.ones(B, t + 1, dtype=torch.long, device=dev)) / temperature
            logp = F.log_softmax(logits.float(), dim=-1)
            if greedy:
                tok = logp.argmax(-1)
            elif gumbel:
                g = gumbel_noise(logp.shape, rng, dev, global_rows)  # (B, V)
                tok = (logp + g).argmax(-1)
                noises.append(g)
            else:  # exact, ~20x faster than torch.multinomial on CPU at a 5,000-word vocabulary
                tok = icdf_sample(logits, row_rand((B,), rng, dev, global_rows))  # (B,)
            lp = logp.gather(1, tok[:, None]).squeeze(1)  # (B,)
            live = fixed_mask[:, t] if fixed_mask is not None else alive
            tok = torch.where(live, tok, torch.full_like(tok, self.pad_id))
            tokens.append(tok)
            logps.append(torch.where(live, lp, torch.zeros_like(lp)))
            masks.append(live)
            if return_logits:
                all_logits.append(logits)
            if self.eos_id is not None and fixed_mask is None:
                alive = alive & (tok != self.eos_id)
                if not alive.any():
                    break
            prev = tok
        return Samples(
            tokens=torch.stack(tokens, 1), logprobs=torch.stack(logps, 1), mask=torch.stack(masks, 1),
            logits=torch.stack(all_logits, 1) if return_logits else None,
            gumbels=torch.stack(noises, 1) if gumbel else None,
        )

    def token_logprobs(self, batch: dict, temperature: float = 1.0) -> torch.Tensor:
        """Teacher-forced log p(y_t | x, y_<t) of batch["labels"], zero at padding: (B, T).

        With `temperature`, under the tempered model that `sample(temperature=...)` draws from.
        """
        logits = self(batch)  # (B, T, V)
        # A negative label is a target outside the model's vocabulary (pos: a gold tag never seen in training): it
        # gets no log-prob, and seqgan.scoring.metrics.teacher_forced_nll leaves it out of its token count.
        valid = batch["mask"] & (batch["labels"] >= 0)  # (B, T)
        labels = batch["labels"].masked_fill(~valid, 0)
        logp = F.log_softmax(logits.float() / temperature, -1).gather(2, labels[..., None]).squeeze(2)  # (B, T)
        return torch.where(valid, logp, torch.zeros_like(logp))  # not logp * mask: padding may hold -inf

    def sequence_mask(self, tokens: torch.Tensor, fixed_mask: torch.Tensor | None) -> torch.Tensor:
        """(B, T) mask of real tokens in sampled rows: the fixed mask, or everything up to the first EOS."""
        if fixed_mask is not None or self.eos_id is None:
            return fixed_mask if fixed_mask is not None else torch.ones_like(tokens, dtype=torch.bool)
        ended = (tokens == self.eos_id).long().cumsum(1)  # (B, T)
        return (ended == 0) | ((ended == 1) & (tokens == self.eos_id))


def shift_right(labels: torch.Tensor, mask: torch.Tensor, bos_id: int,
                pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Decoder inputs [BOS, y_0 .. y_{T-2}] and their attention mask for teacher forcing: (B, T) each."""
    bos = torch.full_like(labels[:, :1], bos_id)
    inputs = torch.cat([bos, labels[:, :-1].masked_fill(~mask[:, :-1], pad_id)], 1)  # (B, T)
    # Right padding under a causal mask never leaks into real positions; the mask only
    # keeps padded positions from attending to each other.
    attn = torch.cat([torch.ones_like(mask[:, :1]), mask[:, :-1]], 1).long()  # (B, T)
    return inputs, attn


class CausalGenerator(Generator):
    """Unconditional generator over any causal LM: [BOS] y_1 ... y_n [EOS] (or a fixed length, no EOS).

    batch["labels"] holds y_1..y_n (+EOS), right-padded, with batch["mask"]; inputs are the
    labels shifted right behind [BOS].
    """

    def __init__(self, lm: nn.Module, bos_id: int, pad_id: int, eos_id: int | None, max_length: int,
                 suppress_ids: list[int] = ()):
        super().__init__()
        self.model, self.bos_id, self.pad_id, self.eos_id, self.max_length = lm, bos_id, pad_id, eos_id, max_length
        # Ids that are never outputs ([PAD], [BOS], ...) get probability 0 in training and sampling
        # alike, so sampled log-probs and teacher-forced ones describe one distribution.
        bias = torch.zeros(lm.config.vocab_size)
        bias[list(suppress_ids)] = float("-inf")
        self.register_buffer("logit_bias", bias, persistent=False)
        # Recorded in config.json so `from_pretrained` rebuilds the same decoding rules.
        lm.config.seqgan_generator = {"max_length": max_length, "fixed_length": eos_id is None,
                                      "suppress_ids": sorted(int(i) for i in suppress_ids)}

    @property
    def vocab_size(self) -> int:
        return self.model.config.vocab_size

    def forward(self, batch: dict) -> torch.Tensor:
        inputs, attn = shift_right(batch["labels"], batch["mask"], self.bos_id, self.pad_id)
        return self.model(input_ids=inputs, attention_mask=attn).logits + self.logit_bias  # (B, T, V)

    def start(self, batch, num_samples):
        if num_samples is None:
            if batch is None:
                raise ValueError("CausalGenerator.sample needs num_samples (or a batch to take its size from).")
            num_samples = batch["labels"].shape[0]
        return {"cache": GrowableCache()}, None, num_samples, self.max_length

    def step(self, state, prev, pos, attn):
        out = self.model(input_ids=prev[:, None], position_ids=pos[:, None], attention_mask=attn,
                         cache=state["cache"], use_cache=True)
        state["cache"] = out.cache
        return out.logits[:, -1] + self.logit_bias  # (B, V)

    def prefill(self, state, tokens, mask, last_only=False):
        inputs, attn = shift_right(tokens, mask, self.bos_id, self.pad_id)
        out = self.model(input_ids=inputs, attention_mask=attn, cache=state["cache"], use_cache=True,
                         logits_to_keep=1 if last_only else 0)
        state["cache"] = out.cache
        logits = out.logits + self.logit_bias  # (B, T, V), or (B, 1, V) with last_only
        return logits[:, -1] if last_only else logits

    def save_pretrained(self, path, **kw):
        self.model.save_pretrained(path, **kw)

    @classmethod
    def from_pretrained(cls, path, tokenizer, max_length: int | None = None):
        """Load any causal LM; decoding rules come from its config (or `max_length`, with EOS)."""
        lm = load_pretrained(AutoModelForCausalLM, path)
        rules = getattr(lm.config, "seqgan_generator", None) or {"max_length": max_length, "fixed_length": False}
        if rules["max_length"] is None:
            raise ValueError(f"{path}: not a seqgan generator; pass max_length to decide how long samples may be.")
        if lm.config.vocab_size < len(tokenizer):
            raise ValueError(f"{path}: the tokenizer has {len(tokenizer)} entries but the model only "
                             f"{lm.config.vocab_size}; load the tokenizer saved with this checkpoint.")
        eos = None if rules["fixed_length"] else tokenizer.eos_token_id
        return cls(lm, bos_id=tokenizer.bos_token_id, pad_id=tokenizer.pad_token_id, eos_id=eos,
                   max_length=rules["max_length"], suppress_ids=rules.get("suppress_ids", ()))


def pretrained_causal_lm(path: str, max_length: int, fixed_length: bool = False, trust_remote_code: bool = False,
                         log=print) -> tuple[CausalGenerator, object]:
    """(generator, tokenizer) from any pretrained causal LM with its own tokenizer (GPT-2, Llama, ...: a local folder
    or a resolved Hub snapshot). Safetensors only; remote code only when asked.

    The tokenizer's BOS starts every sample (its EOS when it has no BOS, as GPT-2's <|endoftext|> is both) and its
    EOS ends it. A tokenizer without a pad token gets one ("<pad>", the embeddings grow by one row), and `log` says
    so. Pad and BOS are never outputs (their probability is 0); EOS is, even where it shares BOS's id.
    """
    from transformers import AutoConfig, AutoTokenizer
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    config = AutoConfig.from_pretrained(path, trust_remote_code=trust_remote_code)
    causal = set(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.values())
    archs = getattr(config, "architectures", None) or []
    # transformers' causal-LM classes, and (for a model with its own code) the naming convention they all follow
    if archs and not any(a in causal or a.endswith(("ForCausalLM", "LMHeadModel")) for a in archs):
        raise ValueError(f"{path} is a {', '.join(archs)}, not a causal language model, so it cannot generate "
                         "left to right as G. Pass a causal LM (GPT-2, Llama, ...) as --generator_name_or_path; an "
                         "encoder such as BERT can serve as D (--disc_name_or_path).")
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    lm = load_pretrained(AutoModelForCausalLM, path, trust_remote_code=trust_remote_code)
    if not fixed_length and tokenizer.eos_token_id is None:
        raise ValueError(f"{path}: the tokenizer has no EOS token, so samples could never end. Set one and save it: "
                         "tokenizer.eos_token = '...'; tokenizer.save_pretrained(path).")
    if tokenizer.pad_token_id is None:
        tokenizer.add_special_tokens({"pad_token": "<pad>"})
        log(f"[seqgan] {path}: the tokenizer has no pad token; added '<pad>' (id {tokenizer.pad_token_id}) and grew "
            "the embeddings to match. It is never generated and is saved with the checkpoint.")
    if len(tokenizer) > lm.get_input_embeddings().num_embeddings:
        lm.resize_token_embeddings(len(tokenizer))
    bos = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    if bos is None:
        raise ValueError(f"{path}: the tokenizer has neither a BOS nor an EOS token to start samples with; set one.")
    limit = getattr(lm.config, "max_position_embeddings", None) or getattr(lm.config, "n_positions", None)
    if limit is not None and max_length + 1 > limit:
        raise ValueError(f"--max_length {max_length} needs {max_length + 1} positions with BOS, but {path} has "
                         f"{limit}; lower --max_length.")
    eos = None if fixed_length else tokenizer.eos_token_id
    lm.config.bos_token_id, lm.config.pad_token_id = bos, tokenizer.pad_token_id
    if tokenizer.bos_token_id is None:  # saved with the checkpoint, so a reload starts samples the same way
        tokenizer.bos_token = tokenizer.convert_ids_to_tokens(bos)
    suppress = {tokenizer.pad_token_id, bos} - {eos}
    return CausalGenerator(lm, bos_id=bos, pad_id=tokenizer.pad_token_id, eos_id=eos, max_length=max_length,
                           suppress_ids=sorted(suppress)), tokenizer


def causal_lm_from_scratch(tokenizer, config, max_length: int, fixed_length: bool,
                           suppress_ids: list[int] = ()) -> CausalGenerator:
    """A causal LM from scratch: `config` is a transformers GPT2Config (the task sizes it: tasks/text.py
    gpt2_config), over `tokenizer`'s special ids."""
    from transformers import GPT2LMHeadModel

    eos = None if fixed_length else tokenizer.eos_token_id
    return CausalGenerator(GPT2LMHeadModel(config), bos_id=tokenizer.bos_token_id, pad_id=tokenizer.pad_token_id,
                           eos_id=eos, max_length=max_length, suppress_ids=suppress_ids)
