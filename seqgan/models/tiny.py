"""Tiny pretrained-style models with their own trained tokenizers, saved locally: what the tests and smoke runs
use to exercise seqgan's pretrained-model paths without the network (scripts/build_tiny_model.py saves one).

    from seqgan.models.tiny import tiny_causal_lm, tiny_encoder
    path = tiny_causal_lm(root, "gpt2", lines)    # GPT-2 + byte-level BPE, model.safetensors, no pad token
    path = tiny_causal_lm(root, "llama", lines)   # Llama + SentencePiece-style BPE (<s>, </s>, <unk>), no pad token
    path = tiny_encoder(root, lines)              # BERT + WordPiece

Each tokenizer is trained on `lines` (real sentences), so it splits words into subwords as a real one does. The
weights are random: these models are for plumbing, not for quality.
"""

from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast


def _bpe(lines: list[str], kind: str, vocab_size: int) -> PreTrainedTokenizerFast:
    if kind == "gpt2":  # byte-level BPE; <|endoftext|> is BOS, EOS and UNK at once, and there is no pad token
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        specials = ["<|endoftext|>"]
        tok.train_from_iterator(lines, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                                           initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
        return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                       unk_token="<|endoftext|>")
    # Llama-style: SentencePiece-like BPE over "▁"-marked words with <unk>, <s>, </s> and no pad token
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.train_from_iterator(lines, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<unk>", "<s>", "</s>"]))
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>")


def tiny_causal_lm(root: Path, kind: str, lines: list[str], vocab_size: int = 400, width: int = 32,
                   layers: int = 2) -> Path:
    """A randomly initialised causal LM of family `kind` (gpt2 or llama) with its own BPE tokenizer, saved in
    root/tiny-<kind>."""
    if kind not in ("gpt2", "llama"):
        raise ValueError(f"family {kind!r}: choose gpt2 or llama.")
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    tok = _bpe(lines, kind, vocab_size)
    if kind == "gpt2":
        model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_positions=128, n_embd=width, n_layer=layers,
                                           n_head=2,
                                           bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id))
    else:
        model = LlamaForCausalLM(LlamaConfig(vocab_size=len(tok), hidden_size=width, intermediate_size=2 * width,
                                             num_hidden_layers=layers, num_attention_heads=2, num_key_value_heads=1,
                                             max_position_embeddings=128, bos_token_id=tok.bos_token_id,
                                             eos_token_id=tok.eos_token_id))
    path = Path(root) / f"tiny-{kind}"
    model.save_pretrained(path)  # model.safetensors
    tok.save_pretrained(path)
    return path


def tiny_encoder(root: Path, lines: list[str], vocab_size: int = 400, width: int = 32) -> Path:
    """A randomly initialised 2-layer BERT with its own WordPiece tokenizer ([CLS] ... [SEP], [PAD], [UNK])."""
    from transformers import BertConfig, BertModel

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(lines, trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]")
    model = BertModel(BertConfig(vocab_size=len(fast), hidden_size=width, num_hidden_layers=2, num_attention_heads=2,
                                 intermediate_size=2 * width, max_position_embeddings=128,
                                 pad_token_id=fast.pad_token_id))
    path = Path(root) / "tiny-bert"
    model.save_pretrained(path)
    fast.save_pretrained(path)
    return path
