"""Word-level vocabularies built with `tokenizers`, saved and reloaded as `PreTrainedTokenizerFast`.

    tok = build_word_tokenizer(sentences, min_freq=2, normalizer=..., pre_tokenizer=...)
    tok.save_pretrained("runs/x/best/generator"); AutoTokenizer.from_pretrained(that folder)

Special tokens are always [PAD]=0, [BOS]=1, [EOS]=2, [UNK]=3, followed by the words by
decreasing frequency (ties alphabetical), so a vocabulary is a pure function of its data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from tokenizers import Tokenizer, models
from transformers import PreTrainedTokenizerFast

SPECIALS = ["[PAD]", "[BOS]", "[EOS]", "[UNK]"]


def build_word_tokenizer(texts: Iterable[str], min_freq: int = 1, normalizer=None, pre_tokenizer=None,
                         fixed_vocab: list[str] | None = None) -> PreTrainedTokenizerFast:
    """Build a word-level tokenizer from training `texts`.

    Each text is normalised, then split by `pre_tokenizer` (or kept whole as one word when there
    is none, as for CoNLL-U words), exactly as the finished tokenizer will do at encoding time.
    With `fixed_vocab` the words keep exactly those ids (0..n-1) and the specials follow.
    """
    if fixed_vocab is not None:
        vocab = {w: i for i, w in enumerate(fixed_vocab)}
        for s in SPECIALS:
            vocab.setdefault(s, len(vocab))
    else:
        counts = Counter()
        for text in texts:
            text = normalizer.normalize_str(text) if normalizer is not None else text
            counts.update(p
                          for p, _ in pre_tokenizer.pre_tokenize_str(text)) if pre_tokenizer else counts.update([text])
        kept = sorted((w for w, c in counts.items() if c >= min_freq and w not in SPECIALS),
                      key=lambda w: (-counts[w], w))
        vocab = {w: i for i, w in enumerate(SPECIALS + kept)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    if normalizer is not None:
        tok.normalizer = normalizer
    if pre_tokenizer is not None:
        tok.pre_tokenizer = pre_tokenizer
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", bos_token="[BOS]", eos_token="[EOS]", unk_token="[UNK]",
        model_max_length=1_000_000,
    )


def encode_words(tok: PreTrainedTokenizerFast, words: list[str]) -> list[int]:
    """One id per given word (no further splitting), via the tokenizer's normaliser."""
    enc = tok(words, is_split_into_words=True, add_special_tokens=False)
    ids, word_ids = enc["input_ids"], enc.word_ids()
    if len(ids) != len(words) or word_ids != list(range(len(words))):
        raise ValueError(f"tokenizer split words {words!r} into {len(ids)} pieces; a word-level tokenizer "
                         "without a pre-tokenizer must map each word to exactly one id.")
    return ids
