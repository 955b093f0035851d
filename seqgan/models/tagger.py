"""The conditional POS generator: p(tags | sentence) = prod_t p(tag_t | sentence, tag_<t).

    from seqgan.models.tagger import SeqGanTagger, TaggerGenerator
    gen = TaggerGenerator(SeqGanTagger.from_pretrained("runs/pos-mle/best/generator"))

Architecture (configured from scratch by default):
- each word is embedded as  word_embedding(normalised form) + proj(byte-CNN(raw UTF-8 bytes)),
  so unknown words still get a representation from their spelling (suffixes, capitals, digits);
- a bidirectional encoder reads the sentence, so h_t sees every word: a `BertModel` (--sentence_encoder
  transformer) or a BiLSTM (--sentence_encoder lstm, the encoder of the non-pretrained taggers in the literature);
- a causal `GPT2Model` over tag positions reads  tag_embedding(tag_{t-1}) + proj(h_t),  so tag t
  is conditioned on the whole sentence and on all tags before it; decoding uses its KV cache.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from transformers import (
    AutoConfig,
    AutoModel,
    BertConfig,
    BertModel,
    GPT2Config,
    GPT2Model,
    PretrainedConfig,
    PreTrainedModel,
)
from transformers.modeling_outputs import BaseModelOutput

from seqgan.conllu import UPOS_TAGS  # noqa: F401  (the default tag set; importable from here too)
from seqgan.models.generator import Generator, GrowableCache, shift_right

BYTE_PAD, BYTE_BOW, BYTE_EOW = 0, 257, 258  # raw byte b is id b + 1
BYTE_VOCAB = 259


def word_bytes(word: str, max_bytes: int) -> list[int]:
    """Byte ids of a word with begin/end markers; long words keep their start and (longer) end."""
    b = [x + 1 for x in word.encode("utf-8")]
    if len(b) > max_bytes - 2:
        head = (max_bytes - 2) // 3
        b = b[:head] + b[len(b) - (max_bytes - 2 - head):]  # suffixes carry most POS information
    return [BYTE_BOW] + b + [BYTE_EOW]


class SeqGanTaggerConfig(PretrainedConfig):
    model_type = "seqgan_tagger"

    def __init__(self, word_vocab_size: int = 4, tags: list[str] | None = None, hidden_size: int = 256,
                 num_layers: int = 2, num_heads: int = 4, ffn_size: int = 1024, dropout: float = 0.1,
                 decoder_layers: int = 1, char_dim: int = 64, char_filters: int = 128,
                 char_kernels: tuple[int, ...] = (2, 3, 4), max_word_bytes: int = 24, max_positions: int = 256,
                 prev_tag_dropout: float = 0.1, word_dropout: float = 0.1, word_unk_id: int = 3,
                 tag_column: str = "upos", encoder_config: dict | None = None, encoder_name: str | None = None,
                 sentence_encoder: str = "transformer", **kwargs):
        """A transformers config takes each of its fields as a keyword (config.json is read back through here)."""
        self.word_vocab_size, self.tags = word_vocab_size, list(tags or UPOS_TAGS)
        self.tag_column = tag_column  # the CoNLL-U column its tags belong in: upos or xpos (scripts/generate.py)
        # A pretrained sentence encoder (--encoder_name_or_path): its config, so a checkpoint rebuilds it offline;
        # words then come from the encoder's own tokenizer, pooled at their first subword.
        self.encoder_config, self.encoder_name = encoder_config, encoder_name
        self.sentence_encoder = sentence_encoder  # a key of SENTENCE_ENCODERS (from scratch only)
        self.hidden_size, self.num_layers, self.num_heads, self.ffn_size = hidden_size, num_layers, num_heads, ffn_size
        self.dropout, self.decoder_layers = dropout, decoder_layers
        self.char_dim, self.char_filters = char_dim, char_filters
        self.char_kernels, self.max_word_bytes, self.max_positions = list(char_kernels), max_word_bytes, max_positions
        self.prev_tag_dropout, self.word_dropout, self.word_unk_id = prev_tag_dropout, word_dropout, word_unk_id
        super().__init__(**kwargs)

    @property
    def tag_pad_id(self) -> int:
        return len(self.tags)

    @property
    def tag_bos_id(self) -> int:
        return len(self.tags) + 1


class ByteCNN(nn.Module):
    """(B, T, C) byte ids -> (B, T, filters * len(kernels)) by max-pooled convolutions."""

    def __init__(self, dim: int, filters: int, kernels: list[int]):
        super().__init__()
        self.emb = nn.Embedding(BYTE_VOCAB, dim, padding_idx=BYTE_PAD)
        self.convs = nn.ModuleList(nn.Conv1d(dim, filters, k) for k in kernels)
        self.kernels = kernels

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        B, T, C = chars.shape
        # Convolve each distinct word of the batch once ("the", "." and padding recur a lot),
        # then scatter back: same values and gradients, a fraction of the work.
        flat, inverse = torch.unique(chars.reshape(B * T, C), dim=0, return_inverse=True)  # (U, C), (B*T,)
        x = self.emb(flat).transpose(1, 2)  # (U, dim, C)
        n_bytes = (flat != BYTE_PAD).sum(1)  # (U,)
        pooled = []
        for k, conv in zip(self.kernels, self.convs):
            y = conv(x)  # (U, filters, C - k + 1)
            valid = torch.arange(y.shape[2], device=y.device)[None, :] <= (n_bytes[:, None] - k)  # (U, C-k+1)
            y = y.masked_fill(~valid[:, None, :], float("-inf")).amax(2)  # (U, filters)
            pooled.append(torch.nan_to_num(torch.relu(y), neginf=0.0))  # empty (padding) words -> 0
        return torch.cat(pooled, 1)[inverse].view(B, T, -1)  # (B, T, filters * kernels)


def dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """nn.functional.dropout with its mask drawn as uniform >= p: the same distribution, from another random
    stream. On a CPU torch draws dropout's mask with bernoulli_, 0.85 ms for a (32, 18, 256) tensor against 0.32 ms
    for rand_like (docs/pos-speed.md), and the default tagger drops out seven such tensors a step."""
    if not training or p == 0:
        return x
    keep = (torch.rand_like(x) >= p).to(x.dtype).mul_(1.0 / (1.0 - p)) if p < 1 else torch.zeros_like(x)
    return x * keep


class Dropout(nn.Dropout):
    """nn.Dropout through `dropout` above (a module for the places nn.Dropout sits, GPT-2's included)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.training)


def use_fast_dropout(module: nn.Module) -> nn.Module:
    """Swap every nn.Dropout inside `module` for `Dropout` (same p, no parameters, so checkpoints load as before)."""
    for name, child in module.named_children():
        if type(child) is nn.Dropout:
            setattr(module, name, Dropout(child.p))
        else:
            use_fast_dropout(child)
    return module


def reverse_within(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """(B, T, d) -> (B, T, d): each row's first lengths[b] positions reversed, its padding left in place. Its own
    inverse."""
    T = x.shape[1]
    pos = torch.arange(T, device=x.device)[None, :]  # (1, T)
    idx = torch.where(pos < lengths[:, None], lengths[:, None] - 1 - pos, pos)  # (B, T)
    return x.gather(1, idx[..., None].expand(-1, -1, x.shape[-1]))


class BiLstmEncoder(nn.Module):
    """A BiLSTM with BertModel's calling convention (embeddings.word_embeddings; inputs_embeds, attention_mask ->
    last_hidden_state), so the taggers treat both encoders alike. Each direction has hidden_size // 2 units."""

    def __init__(self, config):
        super().__init__()
        d = config.hidden_size
        if d % 2:
            raise ValueError(f"--sentence_encoder lstm splits --hidden_size between two directions: {d} is odd.")
        self.embeddings = nn.Module()
        self.embeddings.word_embeddings = nn.Embedding(config.word_vocab_size, d, padding_idx=0)
        self.lstm = nn.LSTM(d, d // 2, num_layers=config.num_layers, bidirectional=True, batch_first=True,
                            dropout=config.dropout if config.num_layers > 1 else 0.0)
        self.dropout = Dropout(config.dropout)

    def forward(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor) -> BaseModelOutput:
        # The same function as nn.LSTM over a packed batch (the backward direction starts at each sentence's last
        # word, never in its padding), computed as each layer's two directions over padded tensors: on a CPU, torch
        # runs those as one fused oneDNN kernel, where a packed batch steps through time in Python-visible ops
        # (scripts/benchmark.py pos times both, forward and backward: ms_bilstm, ms_bilstm_replaced). Its backward
        # direction reads each sentence reversed within its length; outputs at padding are zeroed, as
        # pad_packed_sequence leaves them.
        lstm, mask = self.lstm, attention_mask.bool()
        lengths = mask.sum(1)  # (B,)
        B, H = inputs_embeds.shape[0], lstm.hidden_size
        h0 = inputs_embeds.new_zeros(1, B, H)  # (1, B, H): one layer, one direction at a time
        h = self.dropout(inputs_embeds)  # (B, T, d)
        for layer in range(lstm.num_layers):
            if layer > 0:
                h = dropout(h, lstm.dropout, self.training)  # nn.LSTM's dropout between layers
            outs = []
            for sfx, backward in ((f"_l{layer}", False), (f"_l{layer}_reverse", True)):
                weights = [getattr(lstm, f"{w}{sfx}") for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
                x = reverse_within(h, lengths) if backward else h
                y = torch.lstm(x, (h0, h0), weights, True, 1, 0.0, self.training, False, True)[0]  # (B, T, H)
                outs.append(reverse_within(y, lengths) if backward else y)
            h = torch.cat(outs, -1)  # (B, T, 2H)
        h = h * mask[..., None]  # (B, T, d): zero at padding
        return BaseModelOutput(last_hidden_state=self.dropout(h))


def transformer_encoder(config) -> nn.Module:
    return BertModel(BertConfig(
        vocab_size=config.word_vocab_size, hidden_size=config.hidden_size, num_hidden_layers=config.num_layers,
        num_attention_heads=config.num_heads, intermediate_size=config.ffn_size,
        hidden_dropout_prob=config.dropout, attention_probs_dropout_prob=config.dropout,
        max_position_embeddings=config.max_positions, type_vocab_size=1, pad_token_id=0,
    ), add_pooling_layer=False)


# --sentence_encoder: the from-scratch encoders over word table + byte CNN, by name (config -> module).
SENTENCE_ENCODERS = {"transformer": transformer_encoder, "lstm": BiLstmEncoder}


def sentence_encoder(config) -> tuple[nn.Module, ByteCNN | None, nn.Linear]:
    """The sentence encoder shared by the taggers: word table + byte CNN -> SENTENCE_ENCODERS[config.sentence_encoder],
    or a pretrained encoder over its own subwords (config.encoder_config) with a projection to hidden_size."""
    d = config.hidden_size
    if config.encoder_config:
        encoder = AutoModel.from_config(AutoConfig.for_model(**config.encoder_config))
        if getattr(encoder, "pooler", None) is not None:
            encoder.pooler = None  # unused: words are read at their first subword
        return encoder, None, nn.Linear(encoder.config.hidden_size, d)
    encoder = SENTENCE_ENCODERS[config.sentence_encoder](config)
    chars = ByteCNN(config.char_dim, config.char_filters, config.char_kernels)
    return encoder, chars, nn.Linear(config.char_filters * len(config.char_kernels), d)


def subwords(batch: dict) -> tuple | None:
    """A pretrained encoder's inputs from a collated pos batch: (sub_ids (B, S), sub_mask (B, S), first (B, T)),
    or None for a batch without them (a from-scratch tagger's)."""
    return (batch["sub_ids"], batch["sub_mask"], batch["first"]) if "sub_ids" in batch else None


def encode_sentence(model, word_ids: torch.Tensor, char_ids: torch.Tensor, mask: torch.Tensor,
                    sub: tuple | None = None) -> torch.Tensor:
    """(B, T) words, (B, T, C) bytes, (B, T) mask -> (B, T, d) states, through model.encoder/chars/char_proj.
    With a pretrained encoder, `sub` = subwords(batch) and each word is the encoder's state at its first subword."""
    if model.config.encoder_config:
        if sub is None:
            raise ValueError("this tagger reads its pretrained encoder's subwords: encode the data with its own "
                             "tokenizer (seqgan.tasks.pos.encode) so batches carry sub_ids, sub_mask and first.")
        sub_ids, sub_mask, first = sub
        h = model.encoder(input_ids=sub_ids, attention_mask=sub_mask.long()).last_hidden_state  # (B, S, d_enc)
        h = h.gather(1, first[..., None].expand(-1, -1, h.shape[-1]))  # (B, T, d_enc): each word's first subword
        return model.char_proj(h)  # (B, T, d)
    if model.training and model.config.word_dropout > 0:
        # Hiding known words behind [UNK] teaches the byte CNN to carry the word alone,
        # which is all the model has for words never seen in training.
        drop = (torch.rand(word_ids.shape, device=word_ids.device) < model.config.word_dropout) & mask
        word_ids = word_ids.masked_fill(drop, model.config.word_unk_id)
    x = model.encoder.embeddings.word_embeddings(word_ids) + model.char_proj(model.chars(char_ids))  # (B, T, d)
    return model.encoder(inputs_embeds=x, attention_mask=mask.long()).last_hidden_state  # (B, T, d)


class SeqGanTagger(PreTrainedModel):
    config_class = SeqGanTaggerConfig
    base_model_prefix = "tagger"

    def __init__(self, config: SeqGanTaggerConfig):
        super().__init__(config)
        d = config.hidden_size
        self.encoder, self.chars, self.char_proj = sentence_encoder(config)
        # gelu_pytorch_tanh: GPT-2's tanh GELU as one fused kernel, where gelu_new computes the same formula in
        # five Python-level ops (1.5 ms against 0.36 ms forward on a default batch; docs/pos-speed.md).
        self.decoder = use_fast_dropout(GPT2Model(GPT2Config(
            vocab_size=len(config.tags) + 2, n_positions=config.max_positions, n_embd=d, n_layer=config.decoder_layers,
            n_head=config.num_heads, n_inner=config.ffn_size, resid_pdrop=config.dropout, embd_pdrop=config.dropout,
            attn_pdrop=config.dropout, bos_token_id=config.tag_bos_id, eos_token_id=None,
            pad_token_id=config.tag_pad_id, activation_function="gelu_pytorch_tanh",
        )))
        self.enc_proj = nn.Linear(d, d)
        self.head = nn.Linear(d, len(config.tags))
        self.post_init()

    def encode(self, word_ids: torch.Tensor, char_ids: torch.Tensor, mask: torch.Tensor, sub=None) -> torch.Tensor:
        """(B, T) words, (B, T, C) bytes, (B, T) mask -> (B, T, d) contextual states (`sub`: see encode_sentence)."""
        return self.enc_proj(encode_sentence(self, word_ids, char_ids, mask, sub))

    def decode(self, enc: torch.Tensor, prev_tags: torch.Tensor, attention_mask=None, cache=None, position_ids=None):
        """Tag logits (B, T', n_tags) for decoder positions fed (prev tag, encoder state at that position)."""
        x = self.decoder.wte(prev_tags) + enc  # (B, T', d)
        out = self.decoder(inputs_embeds=x, attention_mask=attention_mask, cache=cache, use_cache=cache is not None,
                           position_ids=position_ids)
        return self.head(out.last_hidden_state), out.cache

    def forward(self, word_ids, char_ids, mask, labels, sub=None):
        cfg = self.config
        enc = self.encode(word_ids, char_ids, mask, sub)
        prev = torch.cat([torch.full_like(labels[:, :1], cfg.tag_bos_id), labels[:, :-1]], 1)  # (B, T)
        prev = prev.masked_fill(prev < 0, cfg.tag_pad_id)
        if self.training and cfg.prev_tag_dropout > 0:
            # Hiding some previous gold tags stops the decoder from leaning on them alone,
            # which would hurt at test time when it reads its own (imperfect) predictions.
            drop = torch.rand(prev.shape, device=prev.device) < cfg.prev_tag_dropout
            prev = prev.masked_fill(drop, cfg.tag_pad_id)
        logits, _ = self.decode(enc, prev, attention_mask=mask.long())
        return logits  # (B, T, n_tags)


AutoConfig.register(SeqGanTaggerConfig.model_type, SeqGanTaggerConfig)
AutoModel.register(SeqGanTaggerConfig, SeqGanTagger)


class TagSequenceGenerator(Generator):
    """What every POS model shares as a generator: conditional on a sentence, one tag per word."""

    conditional = True

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.pad_id, self.bos_id, self.eos_id = model.config.tag_pad_id, model.config.tag_bos_id, None

    @property
    def vocab_size(self) -> int:
        return len(self.model.config.tags)

    def save_pretrained(self, path, **kw):
        self.model.save_pretrained(path, **kw)


class TaggerGenerator(TagSequenceGenerator):
    """Generator interface over `SeqGanTagger`: one tag per word, length fixed by the sentence."""

    def forward(self, batch: dict) -> torch.Tensor:
        labels = batch["labels"].masked_fill(~batch["mask"], self.pad_id)
        # (B, T, n_tags)
        return self.model(batch["word_ids"], batch["char_ids"], batch["mask"], labels, subwords(batch))

    def start(self, batch, num_samples):
        if batch is None:
            raise ValueError("the POS generator is conditional: sample(batch) needs a batch of sentences.")
        enc = self.model.encode(batch["word_ids"], batch["char_ids"], batch["mask"], subwords(batch))  # (B, T, d)
        if num_samples is not None and num_samples != enc.shape[0]:
            raise ValueError("num_samples must equal the batch size for the POS generator; repeat the batch instead.")
        return {"enc": enc, "cache": GrowableCache()}, batch["mask"], enc.shape[0], enc.shape[1]

    def step(self, state, prev, pos, attn):
        enc = state["enc"][torch.arange(prev.shape[0], device=prev.device), pos][:, None]  # (B, 1, d)
        logits, state["cache"] = self.model.decode(enc, prev[:, None], attention_mask=attn, cache=state["cache"],
                                                   position_ids=pos[:, None])
        return logits[:, -1]  # (B, n_tags)

    def prefill(self, state, tokens, mask, last_only=False):
        inputs, attn = shift_right(tokens, mask, self.bos_id, self.pad_id)
        T = tokens.shape[1]
        logits, state["cache"] = self.model.decode(state["enc"][:, :T], inputs, attention_mask=attn,
                                                   cache=state["cache"])
        return logits[:, -1] if last_only else logits  # (B, n_tags) or (B, T, n_tags)

    def select_rows(self, state, index):
        state["cache"].batch_select_indices(index)
        state["enc"] = state["enc"][index]
        return state
