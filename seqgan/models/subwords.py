"""A pretrained encoder's view of a sentence of words: its own subwords, and where each word starts.

    from seqgan.models.subwords import encoder_tokenizer, load_encoder, word_pieces
    tokenizer, encoder = encoder_tokenizer("bert-base-cased"), load_encoder("bert-base-cased")   # a folder or Hub id
    sub_ids, first, kept = word_pieces(tokenizer, ["I", "saw", "her"], limit=512)

Taggers over a pretrained encoder (--encoder_name_or_path) read each word at its first subword, as BERT-style
taggers do: sub_ids are the encoder's ids with its own special tokens around them ([CLS] ... [SEP], <s> ... </s>),
first[i] is the position of word i's first subword. A word the tokenizer turns into nothing (a stray control
character) is read as the unknown token. A sentence whose subwords exceed the encoder's limit keeps its first
`kept` words (the caller decides whether that is allowed).
"""

from __future__ import annotations

import sys

from seqgan.models.pretrained import load_pretrained


def encoder_tokenizer(name_or_path: str, trust_remote_code: bool = False):
    """A pretrained encoder's own tokenizer. One without a pad token gets its unknown (or end) token as padding,
    which attention masks out, and a message says so."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
    if tokenizer.pad_token_id is None:
        fill = tokenizer.unk_token or tokenizer.eos_token
        if fill is None:
            raise ValueError(f"{name_or_path}: the tokenizer has no pad, unknown or end token to pad batches with; "
                             "set tokenizer.pad_token and save it.")
        tokenizer.pad_token = fill
        print(f"[seqgan] {name_or_path}: the tokenizer has no pad token; padding with {fill!r} (masked out).",
              file=sys.stderr)
    return tokenizer


def load_encoder(name_or_path: str, trust_remote_code: bool = False):
    """A pretrained encoder's weights (safetensors only), after checking it is one: an encoder-decoder is refused,
    a causal LM warned about (each word would only see the words before it)."""
    from transformers import AutoConfig, AutoModel
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    config = AutoConfig.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
    if getattr(config, "is_encoder_decoder", False):
        raise ValueError(f"{name_or_path} is an encoder-decoder model; --encoder_name_or_path takes an encoder such "
                         "as BERT or RoBERTa.")
    archs = getattr(config, "architectures", None) or []
    if archs and all(a in set(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.values()) for a in archs):
        print(f"[seqgan] warning: {name_or_path} is a causal LM ({', '.join(archs)}): each word will only see the "
              "words before it. A bidirectional encoder (BERT, RoBERTa) suits tagging better.", file=sys.stderr)
    return load_pretrained(AutoModel, name_or_path, trust_remote_code=trust_remote_code)


def special_ends(tokenizer) -> tuple[list[int], list[int]]:
    """The special ids the tokenizer puts before and after a sequence (e.g. [CLS] / [SEP])."""
    bare = tokenizer("a", add_special_tokens=False)["input_ids"]
    full = tokenizer("a", add_special_tokens=True)["input_ids"]
    for i in range(len(full) - len(bare) + 1):
        if full[i:i + len(bare)] == bare:
            return full[:i], full[i + len(bare):]
    return [], []


def position_limit(tokenizer, encoder_config: dict) -> int:
    """How many subwords (special tokens included) the encoder reads at most."""
    limits = [tokenizer.model_max_length] if tokenizer.model_max_length < 1_000_000 else []
    limits += [encoder_config[k] for k in ("max_position_embeddings", "n_positions") if encoder_config.get(k)]
    return min(limits) if limits else 512


def word_pieces(tokenizer, words: list[str], limit: int, ends: tuple[list[int], list[int]] | None = None
                ) -> tuple[list[int], list[int], int]:
    """(sub_ids, first, kept): the sentence's subword ids with the encoder's specials, each kept word's first
    position, and how many words fit within `limit` subwords (all of them unless the sentence is too long)."""
    start, end = ends or special_ends(tokenizer)
    pieces = tokenizer(list(words), add_special_tokens=False)["input_ids"] if words else []
    sub, first = list(start), []
    for p in pieces:
        p = p or [tokenizer.unk_token_id if tokenizer.unk_token_id is not None else tokenizer.pad_token_id]
        if len(sub) + len(p) + len(end) > limit:
            break
        first.append(len(sub))
        sub += p
    return sub + end, first, len(first)
