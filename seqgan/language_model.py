"""What the two language-model tasks (text, oracle) share: G's decoder config from the model options, loading G,
batching token ids, and drawing seeded samples. The tasks import it; it knows no task.

    python -c "from seqgan.language_model import draw_samples; help(draw_samples)"
"""

from __future__ import annotations

import torch
from transformers import GPT2Config

from seqgan.data import SequenceCollator
from seqgan.models.generator import CausalGenerator
from seqgan.models.latent import SeqGanLatentConfig


def gpt2_config(tokenizer, model_args, max_length: int) -> GPT2Config:
    """G's GPT-2-style decoder, sized by the model options once (text and oracle, the latent models' decoder too)."""
    return GPT2Config(
        vocab_size=len(tokenizer), n_positions=max_length + 1, n_embd=model_args.hidden_size,
        n_layer=model_args.num_layers, n_head=model_args.num_heads, n_inner=model_args.ffn_size,
        resid_pdrop=model_args.dropout, embd_pdrop=model_args.dropout, attn_pdrop=model_args.dropout,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )


def latent_config(tokenizer, model_args, max_length: int, fixed_length: bool, suppress_ids: list[int],
                  kind: str) -> SeqGanLatentConfig:
    """A generator from a prior (seqgan/models/latent.py) sized by the model options, with G's decoder shape."""
    return SeqGanLatentConfig(
        kind=kind, decoder=gpt2_config(tokenizer, model_args, max_length).to_dict(),
        latent_size=model_args.latent_size,
        encoder_layers=model_args.num_layers, seq_length=max_length, fixed_length=fixed_length,
        suppress_ids=suppress_ids,
        bos_id=tokenizer.bos_token_id, pad_id=tokenizer.pad_token_id, eos_id=tokenizer.eos_token_id,
        unk_id=tokenizer.unk_token_id, free_bits=model_args.free_bits, kl_anneal_steps=model_args.kl_anneal_steps,
        word_dropout=model_args.latent_word_dropout if kind in ("ae", "vae") else 0.0,
        iwae_samples=model_args.iwae_samples, ae_proposal_scale=model_args.ae_proposal_scale,
        code_seed=model_args.latent_code_seed)


def load_generator(path: str, tokenizer) -> CausalGenerator:
    return CausalGenerator.from_pretrained(path, tokenizer)


def collator(tokenizer):
    return SequenceCollator(tokenizer.pad_token_id)


@torch.no_grad()
def draw_samples(gen: CausalGenerator, n: int, seed: int, batch_size: int = 500, temperature: float = 1.0,
                 greedy: bool = False):
    """n samples (ids without [EOS]/padding) from a seeded torch.Generator; greedy=True decodes greedily
    (Viterbi for the bigram model), which for an unconditional model is one sequence n times."""
    gen.eval()
    g = torch.Generator(device=gen.device).manual_seed(seed)
    out = []
    for i in range(0, n, batch_size):
        s = gen.sample(num_samples=min(batch_size, n - i), temperature=temperature, rng=g, greedy=greedy)
        for toks, m in zip(s.tokens, s.mask):
            ids = toks[m].tolist()
            out.append(ids[:-1] if gen.eos_id is not None and ids and ids[-1] == gen.eos_id else ids)
    return out


def sample_texts(gen, tokenizer, n: int, seed: int, batch_size: int = 500, temperature: float = 1.0,
                 greedy: bool = False) -> list[str]:
    """n seeded samples as text (scripts/generate.py), decoded by the tokenizer without special tokens. Any run of
    whitespace (a byte-level BPE can emit a newline) becomes one space, so each sample stays one line."""
    return [" ".join(tokenizer.decode(ids, skip_special_tokens=True).split())
            for ids in draw_samples(gen, n, seed, batch_size=batch_size, temperature=temperature, greedy=greedy)]
