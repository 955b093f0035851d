"""D: a sequence discriminator over a transformers encoder, judging whole outputs for plausibility.

    disc = SeqGanDiscriminator(SeqGanDiscriminatorConfig(vocab_size=V, encoder=BertConfig(...).to_dict()))
    d = disc(tokens=ids, mask=mask)               # (B,) logits: real vs generated
    d = disc(probs=soft_onehots, mask=mask)       # same, from distributions (B, T, V): gradients reach G
    d = disc(tokens=tags, mask=mask, cond=batch)  # conditional D(x, y) for pos: sentence + tag sequence
    d = causal_disc(tokens=ids, mask=mask)        # (B, T): a score for every prefix y_<=t (dense rewards)

Inputs enter through D's own embedding matrix over G's vocabulary (E: V x d), so a soft token
distribution p (B, T, V) is embedded as p @ E; that is what lets Gumbel-softmax pass gradients. The
encoder is any `AutoModel` that takes `inputs_embeds` (its own word embeddings are unused and frozen):
a BERT encoder configured from scratch by default, a GPT-2 one for the causal variant, or a
pretrained encoder loaded with `SeqGanDiscriminator.from_encoder(path, ...)`.
For pos, each position also gets the word's embedding and byte-CNN features (as in the tagger).
Saved with `save_pretrained` (config.json + model.safetensors); `import seqgan.models` registers the class.
"""

from __future__ import annotations

import sys

import torch
import torch.nn as nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel

from seqgan.models.pretrained import load_pretrained
from seqgan.models.tagger import ByteCNN


def at_least_fp32(x: torch.Tensor) -> torch.Tensor:
    """x in float32, or float64 if it already is (bf16/fp16 activations of --mixed_precision come back to fp32)."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


class SeqGanDiscriminatorConfig(PretrainedConfig):
    model_type = "seqgan_discriminator"

    def __init__(self, vocab_size: int = 4, encoder: dict | None = None, causal: bool = False,
                 cond_vocab_size: int = 0, char_dim: int = 32, char_filters: int = 64,
                 char_kernels: tuple[int, ...] = (2, 3, 4), **kwargs):
        self.vocab_size = vocab_size            # tokens judged: G's vocabulary (tags for pos)
        self.encoder = dict(encoder or {"model_type": "bert", "vocab_size": 1, "hidden_size": 64,
                                        "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 128})
        self.causal = causal                    # per-prefix scores (GPT-2-style encoder) instead of one per sequence
        self.cond_vocab_size = cond_vocab_size  # > 0: conditional D(x, y), x a sentence over this word vocabulary
        self.char_dim, self.char_filters, self.char_kernels = char_dim, char_filters, list(char_kernels)
        super().__init__(**kwargs)


class SeqGanDiscriminator(PreTrainedModel):
    config_class = SeqGanDiscriminatorConfig
    base_model_prefix = "discriminator"

    def __init__(self, config: SeqGanDiscriminatorConfig):
        super().__init__(config)
        self.encoder = AutoModel.from_config(AutoConfig.for_model(**config.encoder))
        if getattr(self.encoder, "pooler", None) is not None:
            self.encoder.pooler = None  # unused (D pools itself); DDP refuses parameters that never get a gradient
        d = self.encoder.config.hidden_size
        self.embed = nn.Embedding(config.vocab_size, d)
        if config.cond_vocab_size:
            self.word_embed = nn.Embedding(config.cond_vocab_size, d)
            self.chars = ByteCNN(config.char_dim, config.char_filters, config.char_kernels)
            self.char_proj = nn.Linear(config.char_filters * len(config.char_kernels), d)
        self.head = nn.Linear(d, 1)
        self.post_init()
        # The encoder reads our embeddings through inputs_embeds; its own table never sees a gradient.
        self.encoder.get_input_embeddings().requires_grad_(False)

    @classmethod
    def from_encoder(cls, name_or_path: str, vocab_size: int, causal: bool = False,
                     token_strings: list[str] | None = None,
                     cond_strings: list[str] | None = None, **kwargs) -> "SeqGanDiscriminator":
        """A D around a pretrained encoder (local folder or Hub id); its layers keep their weights. With the text of
        G's tokens (`token_strings`) or of the sentence's words (`cond_strings`, pos), D's embedding rows start as the
        mean of the encoder's own input embeddings of their subwords under the encoder's own tokenizer, so D reads
        G's vocabulary with what the encoder learned."""
        encoder = load_pretrained(AutoModel, name_or_path)
        cfg = SeqGanDiscriminatorConfig(vocab_size=vocab_size, encoder=encoder.config.to_dict(), causal=causal,
                                        **kwargs)
        disc = cls(cfg)
        disc.encoder.load_state_dict({k: v for k, v in encoder.state_dict().items() if not k.startswith("pooler.")})
        disc.encoder.get_input_embeddings().requires_grad_(False)
        if token_strings is not None or cond_strings is not None:
            from transformers import AutoTokenizer

            try:
                tokenizer = AutoTokenizer.from_pretrained(name_or_path)
            # an encoder saved without its tokenizer: D still runs, from random rows
            except (OSError, ValueError) as e:
                print(f"[seqgan] warning: {name_or_path} has no tokenizer ({e.__class__.__name__}), so D's embeddings "
                      "of G's tokens start random; save the encoder's tokenizer beside it to start them from its own.",
                      file=sys.stderr)
                return disc
            table = encoder.get_input_embeddings().weight.detach()
            with torch.no_grad():
                for strings, emb in ((token_strings, disc.embed), (cond_strings, getattr(disc, "word_embed", None))):
                    if strings is not None and emb is not None:
                        emb.weight[: len(strings)] = embeddings_from(table, tokenizer, strings, name_or_path)
        return disc

    @classmethod
    def from_generator(cls, gen, causal: bool = False) -> "SeqGanDiscriminator":
        """A D that starts as G's own transformer body and token embeddings (plus a fresh head): it reads G's
        vocabulary with G's features from step 0, as a residual energy model starts from its language model
        (Deng et al. 2020). G must wrap a transformers causal LM (seqgan.models.generator.CausalGenerator)."""
        lm = getattr(gen, "model", None)
        if lm is None or not hasattr(lm, "base_model") or not hasattr(lm, "get_input_embeddings"):
            raise ValueError(f"D can start from G's body only when G wraps a transformers causal LM; "
                             f"{type(gen).__name__} does not (train D from scratch instead).")
        base = lm.base_model
        disc = cls(SeqGanDiscriminatorConfig(vocab_size=gen.vocab_size, encoder=base.config.to_dict(), causal=causal))
        disc.encoder.load_state_dict(base.state_dict())
        with torch.no_grad():
            disc.embed.weight.copy_(lm.get_input_embeddings().weight[: gen.vocab_size])
        disc.encoder.get_input_embeddings().requires_grad_(False)
        return disc

    def embed_inputs(self, tokens, probs, cond, mask) -> torch.Tensor:
        if (tokens is None) == (probs is None):
            raise ValueError("pass exactly one of tokens (B, T) ids or probs (B, T, V) distributions.")
        if probs is not None:
            if probs.shape[-1] != self.config.vocab_size:
                raise ValueError(f"probs have {probs.shape[-1]} classes but this discriminator judges a vocabulary "
                                 f"of {self.config.vocab_size}.")
            x = probs.to(self.embed.weight.dtype) @ self.embed.weight  # (B, T, V) @ (V, d) -> (B, T, d)
        else:
            x = self.embed(tokens.masked_fill(~mask, 0))  # (B, T, d); padding ids may lie outside the vocabulary
        if self.config.cond_vocab_size:
            if cond is None:
                raise ValueError("this discriminator is conditional: pass cond= the batch with word_ids and char_ids.")
            x = x + self.word_embed(cond["word_ids"]) + self.char_proj(self.chars(cond["char_ids"]))
        return x

    def forward(self, tokens: torch.Tensor | None = None, probs: torch.Tensor | None = None,
                mask: torch.Tensor | None = None, cond: dict | None = None) -> torch.Tensor:
        """Logits: (B,) one per sequence, or (B, T) one per prefix for a causal D (0 at padding)."""
        if mask is None:
            ref = tokens if tokens is not None else probs[..., 0]
            mask = torch.ones(ref.shape[:2], dtype=torch.bool, device=ref.device)
        x = self.embed_inputs(tokens, probs, cond, mask)
        h = self.encoder(inputs_embeds=x, attention_mask=mask.long()).last_hidden_state  # (B, T, d)
        # Logits leave in fp32 under --mixed_precision: losses and rewards are computed from them.
        if self.config.causal:
            return at_least_fp32(self.head(h).squeeze(-1)).masked_fill(~mask, 0.0)  # (B, T)
        # (B, d): mean of real positions
        pooled = (at_least_fp32(h) * mask[..., None]).sum(1) / mask.sum(1).clamp(min=1)[:, None]
        return at_least_fp32(self.head(pooled).squeeze(-1))  # (B,)

    @torch.no_grad()
    def score_continuations(self, comp: torch.Tensor, cmask: torch.Tensor, prefix_len: int, rows: torch.Tensor,
                            cond: dict | None = None) -> torch.Tensor:
        """score() of R sequences comp (R, T) whose first prefix_len tokens are those of B shared prefixes (row r
        continues prefix rows[r], and its first prefix_len tokens equal that prefix's): a causal D encodes each
        prefix once and runs only the continuations on its key/value cache. (R,) logits; cond holds the B rows."""
        if not self.config.causal:
            raise ValueError("shared-prefix scoring needs a causal discriminator (--disc_causal).")
        P, T = prefix_len, comp.shape[1]
        first = torch.empty(int(rows.max()) + 1, dtype=torch.long, device=comp.device)
        first[rows] = torch.arange(len(rows), device=comp.device)  # some completion row of each prefix (any will do)
        prefix, pmask = comp[first, :P], cmask[first, :P]  # (B, P)

        def part(c, lo, hi, idx=None):  # the condition's per-position features for positions lo..hi-1
            if c is None:
                return None
            return {k: (v if idx is None else v[idx])[:, lo:hi] for k, v in c.items() if k in ("word_ids", "char_ids")}

        out = self.encoder(inputs_embeds=self.embed_inputs(prefix, None, part(cond, 0, P), pmask),
                           attention_mask=pmask.long(), use_cache=True)  # the B prefixes, once
        cache = out.cache
        cache.batch_select_indices(rows)  # each completion attends to its prefix's keys and values
        cont = comp[:, P:]
        x = self.embed_inputs(cont, None, part(cond, P, T, rows), cmask[:, P:])
        h = self.encoder(inputs_embeds=x, attention_mask=cmask.long(), cache=cache, use_cache=True).last_hidden_state
        h = torch.cat([out.last_hidden_state[rows], h], 1)  # (R, T, d)
        logits = at_least_fp32(self.head(h).squeeze(-1))  # (R, T): one per prefix
        last = cmask.long().sum(1).clamp(min=1) - 1
        return logits.gather(1, last[:, None]).squeeze(1)

    def score(self, tokens=None, probs=None, mask=None, cond=None) -> torch.Tensor:
        """One logit per sequence (B,): a causal D's score of the whole sequence is its last prefix's."""
        d = self(tokens=tokens, probs=probs, mask=mask, cond=cond)
        if not self.config.causal:
            return d
        last = (mask.long().sum(1).clamp(min=1) - 1 if mask is not None
                else torch.full_like(d[:, 0], d.shape[1] - 1).long())
        return d.gather(1, last[:, None]).squeeze(1)


AutoConfig.register(SeqGanDiscriminatorConfig.model_type, SeqGanDiscriminatorConfig)
AutoModel.register(SeqGanDiscriminatorConfig, SeqGanDiscriminator)


def embeddings_from(table: torch.Tensor, tokenizer, strings: list[str], name: str) -> torch.Tensor:
    """(len(strings), d): each string's mean input embedding over its subwords under an encoder's tokenizer. Stops
    when most strings are unknown to that tokenizer: such an encoder cannot read G's vocabulary."""
    unk = tokenizer.unk_token_id
    rows, unread = [], 0
    for ids in tokenizer(strings, add_special_tokens=False)["input_ids"]:
        known = [i for i in ids if i != unk and i < table.shape[0]]
        unread += not known
        rows.append(table[known].mean(0) if known else table.mean(0))
    if unread > len(strings) / 2:
        raise ValueError(f"{name} cannot read G's vocabulary: {unread} of {len(strings)} tokens are unknown to its "
                         "tokenizer (another language or alphabet?). Use an encoder for this data as "
                         "--disc_name_or_path, or none (D from scratch).")
    return torch.stack(rows)
