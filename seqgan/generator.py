"""G: a left-to-right generator p(y | x) = prod_t p(y_t | x, y_<t) over a transformers model.

Every generator answers the same four questions, whatever the task:

    logits = gen(batch)                          # (B, T, V) teacher-forced, aligned with batch["labels"]
    out = gen.sample(batch, temperature=1.0)     # Samples: tokens (B, T), logprobs (B, T), mask (B, T)
    out = gen.sample(batch, greedy=True)         # greedy decoding
    out = gen.sample(batch, return_logits=True)  # + per-position logits (B, T, V), e.g. for Gumbel-softmax

A subclass only says how to start decoding (`start`) and how to take one step (`step`, with a
key/value cache), so sampling never re-encodes a prefix. `CausalGenerator` wraps any
`AutoModelForCausalLM`; `seqgan.tagger.TaggerGenerator` is the conditional one for POS.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import AutoModelForCausalLM, DynamicCache


@dataclass
class Samples:
    tokens: torch.Tensor    # (B, T) long, pad where mask is False
    logprobs: torch.Tensor  # (B, T) log-prob of each token under the distribution it was drawn from
    mask: torch.Tensor      # (B, T) bool, True for real tokens (an EOS counts as real)
    logits: torch.Tensor | None = None  # (B, T, V) temperature-scaled logits, with return_logits=True


class Generator(nn.Module):
    """Base class: the sampling loop shared by every generator."""

    pad_id: int
    bos_id: int
    eos_id: int | None  # None: sequences have a fixed length given by `start`

    def forward(self, batch: dict) -> torch.Tensor:
        raise NotImplementedError

    def start(self, batch: dict | None, num_samples: int | None) -> tuple[dict, torch.Tensor | None, int, int]:
        """Return (state, fixed_mask or None, batch_size, max_steps)."""
        raise NotImplementedError

    def step(self, state: dict, prev: torch.Tensor, t: int) -> torch.Tensor:
        """Logits (B, V) for position t given the previous token `prev` (B,); updates `state`."""
        raise NotImplementedError

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def sample(self, batch: dict | None = None, num_samples: int | None = None, temperature: float = 1.0,
               greedy: bool = False, generator: torch.Generator | None = None,
               return_logits: bool = False) -> Samples:
        """Draw one sequence per input (or `num_samples` unconditional ones).

        Gradients are not blocked here; wrap the call in `torch.no_grad()` when none are needed.
        """
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}; use greedy=True for argmax decoding.")
        state, fixed_mask, B, T = self.start(batch, num_samples)
        dev = self.device
        prev = torch.full((B,), self.bos_id, dtype=torch.long, device=dev)
        alive = torch.ones(B, dtype=torch.bool, device=dev)
        tokens, logps, masks, all_logits = [], [], [], []
        for t in range(T):
            logits = self.step(state, prev, t) / temperature  # (B, V)
            logp = F.log_softmax(logits.float(), dim=-1)
            if greedy:
                tok = logp.argmax(-1)
            else:
                tok = torch.multinomial(logp.exp(), 1, generator=generator).squeeze(1)  # (B,)
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
        )

    def token_logprobs(self, batch: dict, temperature: float = 1.0) -> torch.Tensor:
        """Teacher-forced log p(y_t | x, y_<t) of batch["labels"], zero at padding: (B, T).

        With `temperature`, under the tempered model that `sample(temperature=...)` draws from.
        """
        logits = self(batch)  # (B, T, V)
        labels, mask = batch["labels"], batch["mask"]
        logp = F.log_softmax(logits.float() / temperature, -1).gather(2, labels.masked_fill(~mask, 0)[..., None]).squeeze(2)  # (B, T)
        return torch.where(mask, logp, torch.zeros_like(logp))  # not logp * mask: padding may hold -inf


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

    def forward(self, batch: dict) -> torch.Tensor:
        labels, mask = batch["labels"], batch["mask"]
        bos = torch.full_like(labels[:, :1], self.bos_id)
        inputs = torch.cat([bos, labels[:, :-1].masked_fill(~mask[:, :-1], self.pad_id)], 1)  # (B, T)
        # Right padding under a causal mask never leaks into real positions; the mask only
        # keeps padded positions from attending to each other.
        attn = torch.cat([torch.ones_like(mask[:, :1]), mask[:, :-1]], 1).long()
        return self.model(input_ids=inputs, attention_mask=attn).logits + self.logit_bias  # (B, T, V)

    def start(self, batch, num_samples):
        if num_samples is None:
            if batch is None:
                raise ValueError("CausalGenerator.sample needs num_samples (or a batch to take its size from).")
            num_samples = batch["labels"].shape[0]
        ones = torch.ones(num_samples, self.max_length, dtype=torch.long, device=self.device)
        return {"cache": DynamicCache(), "attn": ones}, None, num_samples, self.max_length

    def step(self, state, prev, t):
        # Every sequence starts at [BOS] together, so nothing is padded on the left: attend to all.
        out = self.model(input_ids=prev[:, None], attention_mask=state["attn"][:, : t + 1], cache=state["cache"],
                         use_cache=True)
        state["cache"] = out.cache
        return out.logits[:, -1] + self.logit_bias  # (B, V)

    def save_pretrained(self, path, **kw):
        self.model.save_pretrained(path, **kw)

    @classmethod
    def from_pretrained(cls, path, tokenizer, max_length: int | None = None):
        """Load any causal LM; decoding rules come from its config (or `max_length`, with EOS)."""
        lm = AutoModelForCausalLM.from_pretrained(path)
        rules = getattr(lm.config, "seqgan_generator", None) or {"max_length": max_length, "fixed_length": False}
        if rules["max_length"] is None:
            raise ValueError(f"{path}: not a seqgan generator; pass max_length to decide how long samples may be.")
        if lm.config.vocab_size < len(tokenizer):
            raise ValueError(f"{path}: the tokenizer has {len(tokenizer)} entries but the model only "
                             f"{lm.config.vocab_size}; load the tokenizer saved with this checkpoint.")
        eos = None if rules["fixed_length"] else tokenizer.eos_token_id
        return cls(lm, bos_id=tokenizer.bos_token_id, pad_id=tokenizer.pad_token_id, eos_id=eos,
                   max_length=rules["max_length"], suppress_ids=rules.get("suppress_ids", ()))


def causal_lm_from_scratch(tokenizer, model_args, max_length: int, fixed_length: bool,
                           suppress_ids: list[int] = ()) -> CausalGenerator:
    """A GPT-2-style causal LM sized by `model_args`, over `tokenizer`'s vocabulary."""
    from transformers import GPT2Config, GPT2LMHeadModel

    cfg = GPT2Config(
        vocab_size=len(tokenizer), n_positions=max_length + 1, n_embd=model_args.hidden_size,
        n_layer=model_args.num_layers, n_head=model_args.num_heads, n_inner=model_args.ffn_size,
        resid_pdrop=model_args.dropout, embd_pdrop=model_args.dropout, attn_pdrop=model_args.dropout,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    eos = None if fixed_length else tokenizer.eos_token_id
    return CausalGenerator(GPT2LMHeadModel(cfg), bos_id=tokenizer.bos_token_id, pad_id=tokenizer.pad_token_id,
                           eos_id=eos, max_length=max_length, suppress_ids=suppress_ids)
