"""Generators: sampled log-probs equal teacher forcing, greedy is the argmax, checkpoints round-trip."""


import pytest
import torch
from datasets import Dataset
from helpers import CASES

from seqgan.checkpoint import load_checkpoint, save_checkpoint


@pytest.mark.parametrize("name", CASES)
def test_sampled_logprobs_equal_teacher_forcing(name):
    task, tok, gen, batch = CASES[name]()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        n = batch["labels"].shape[0] if name.startswith("pos") else 6
        pos = name.startswith("pos")
        s = gen.sample(batch if pos else None, num_samples=None if pos else n, rng=g, return_logits=True)
        scored = gen.token_logprobs({**batch, "labels": s.tokens, "mask": s.mask}) if pos else \
            gen.token_logprobs({"labels": s.tokens, "mask": s.mask})
        full = gen({**batch, "labels": s.tokens, "mask": s.mask}) if pos else gen({"labels": s.tokens, "mask": s.mask})
    assert s.tokens.shape == s.logprobs.shape == s.mask.shape
    assert s.logits.shape == (*s.tokens.shape, full.shape[-1])
    assert torch.allclose(s.logprobs, scored, atol=1e-5)
    assert torch.allclose(s.logits[s.mask], full[s.mask], atol=1e-4)  # per-position distributions agree too
    if name.startswith("pos"):
        assert torch.equal(s.mask, batch["mask"])  # one tag per word
    if name == "oracle":
        assert s.mask.all() and s.tokens.shape[1] == 20 and s.tokens.max() < 5000  # no specials, fixed length
    if name == "text":
        ends = s.tokens[torch.arange(n), s.mask.sum(1) - 1]
        assert ((ends == gen.eos_id) | (s.mask.sum(1) == gen.max_length)).all()


@pytest.mark.parametrize("name", CASES)
def test_greedy_is_stepwise_argmax(name):
    task, tok, gen, batch = CASES[name]()
    with torch.no_grad():
        pos = name.startswith("pos")
        s = gen.sample(batch if pos else None, num_samples=None if pos else 2, greedy=True, return_logits=True)
    assert torch.equal(s.tokens[s.mask], s.logits.argmax(-1)[s.mask])


@pytest.mark.parametrize("name", CASES)
def test_checkpoint_round_trip(name, tmp_path):
    task, tok, gen, batch = CASES[name]()
    save_checkpoint(tmp_path / "ckpt", gen, tok, {"task": name.split("-")[0]}, {"step": 0})
    gen2, tok2, args = load_checkpoint(str(tmp_path / "ckpt"), task)
    gen2.eval()
    assert args == {"task": name.split("-")[0]}
    assert tok2.get_vocab() == tok.get_vocab()
    assert (gen2.eos_id, gen2.bos_id, gen2.pad_id) == (gen.eos_id, gen.bos_id, gen.pad_id)
    with torch.no_grad():
        assert torch.equal(gen(batch), gen2(batch))
    files = {p.name for p in (tmp_path / "ckpt" / "generator").iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= files
    assert not [f for f in files if f.endswith((".bin", ".pt", ".pkl", ".pth"))]  # safetensors only, no pickle
    assert not list(tmp_path.glob(".ckpt*"))  # no temporary folders left


def test_tokenizer_round_trip(tmp_path):
    from transformers import AutoTokenizer

    _, tok, _, _ = CASES["text"]()
    tok.save_pretrained(tmp_path)
    tok2 = AutoTokenizer.from_pretrained(tmp_path)
    ids = tok2("a man rides a bike.", add_special_tokens=False)["input_ids"]
    assert ids == tok("a man rides a bike.", add_special_tokens=False)["input_ids"]
    assert tok2.decode(ids) == "a man rides a bike ."  # punctuation split off, words joined by spaces
    assert tok2.convert_ids_to_tokens(tok2("A zebra")["input_ids"]) == ["a", "[UNK]"]


def test_pos_unknown_words_differ_by_spelling():
    """Two unseen words share [UNK] in the word table but get different inputs from their bytes."""
    task, tok, gen, _ = CASES["pos"]()
    rows = [{"sent_id": "u", "words": ["Blorfing", "blorfs"], "tags": ["VERB", "NOUN"]}]
    batch = task.collate(list(task.encode(Dataset.from_list(rows), tok, gen)))
    assert (batch["word_ids"] == tok.unk_token_id).all()
    with torch.no_grad():
        enc = gen.model.encode(batch["word_ids"], batch["char_ids"], batch["mask"])
    assert not torch.allclose(enc[0, 0], enc[0, 1])


def test_missing_checkpoint_and_offline_hub_id_are_clear_errors(tmp_path):
    from seqgan.checkpoint import resolve_checkpoint

    with pytest.raises(FileNotFoundError, match="holds no seqgan checkpoint"):
        resolve_checkpoint(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="could not fetch 'someone/some-tagger' from the Hugging Face Hub"):
        resolve_checkpoint("someone/some-tagger")  # HF_HUB_OFFLINE=1 in tests: fails fast, no network
    with pytest.raises(FileNotFoundError, match="a local path, so the Hub was not asked"):
        resolve_checkpoint("runs/missing/run")


@pytest.mark.parametrize("encoder", ["transformer", "lstm"])
def test_pos_sentence_states_do_not_depend_on_padding(encoder):
    """A sentence padded in a batch of longer ones gets the states it gets alone (the BiLSTM's backward direction
    starts at the last word, not at the padding)."""
    task, tok, gen, batch = CASES["pos" if encoder == "transformer" else "pos-lstm"]()
    assert gen.model.config.sentence_encoder == encoder
    with torch.no_grad():
        enc = gen.model.encode(batch["word_ids"], batch["char_ids"], batch["mask"])  # (B, T, d)
        n = int(batch["mask"][1].sum())  # "Cats sleep": two words, padded to the batch's longest
        alone = gen.model.encode(batch["word_ids"][1:2, :n], batch["char_ids"][1:2, :n], batch["mask"][1:2, :n])
    assert n < batch["mask"].shape[1]
    assert torch.allclose(enc[1, :n], alone[0], atol=1e-5)


def test_the_bilstm_equals_nn_lstm_over_a_packed_batch_in_values_and_gradients():
    """The tagger's BiLSTM runs each direction over padded tensors (fused on a CPU); the reference is the packed
    nn.LSTM it replaced, with the same weights: equal outputs at real positions, zeros at padding, equal gradients."""
    from types import SimpleNamespace

    from seqgan.models.tagger import BiLstmEncoder

    torch.manual_seed(0)
    enc = BiLstmEncoder(SimpleNamespace(hidden_size=16, word_vocab_size=10, num_layers=2, dropout=0.3)).eval()
    lengths = torch.tensor([7, 3, 1, 5])
    mask = torch.arange(7)[None, :] < lengths[:, None]  # (B, T)
    x = torch.randn(4, 7, 16, requires_grad=True)
    got = enc(inputs_embeds=x, attention_mask=mask.long()).last_hidden_state  # (B, T, 16)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    ref, _ = torch.nn.utils.rnn.pad_packed_sequence(enc.lstm(packed)[0], batch_first=True, total_length=7)
    assert torch.allclose(got, ref, atol=1e-6) and not got[~mask].any()
    w = torch.randn_like(ref)
    g_got = torch.autograd.grad((got * w).sum(), [x, *enc.lstm.parameters()])
    g_ref = torch.autograd.grad((ref * w).sum(), [x, *enc.lstm.parameters()])
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(g_got, g_ref))


def test_pad_words_equals_a_copy_per_word_on_ragged_sentences():
    """tasks/pos.py's one-scatter byte padding against the per-word copy it replaced (the reference), on sentences
    of 1 to 4 words, words of 1 to 9 bytes, and a T longer than the longest sentence."""
    from tasks.pos import pad_words

    g = torch.Generator().manual_seed(0)
    sentences = [[torch.randint(1, 259, (int(n),), generator=g).tolist()
                  for n in torch.randint(1, 10, (k,), generator=g)] for k in (3, 1, 4, 2)]
    got = pad_words(sentences, T=6)  # (B, T, C)
    C = max(6, max(len(w) for s in sentences for w in s))
    ref = torch.zeros(len(sentences), 6, C, dtype=torch.long)
    for i, s in enumerate(sentences):
        for j, w in enumerate(s):
            ref[i, j, : len(w)] = torch.tensor(w)
    assert torch.equal(got, ref)


def test_the_taggers_dropout_has_dropouts_distribution_and_gradient():
    """seqgan.models.tagger.dropout draws its mask from rand_like: each unit is kept with probability 1 - p (checked on
    10^6 units, 5 standard deviations) and scaled by 1/(1 - p); its gradient is the same mask; eval is the identity.
    Every nn.Dropout of the tagger is swapped for it, and the decoder's fused GELU equals GPT-2's gelu_new."""
    from transformers.activations import NewGELUActivation

    from seqgan.models.tagger import Dropout, dropout

    torch.manual_seed(0)
    x = torch.randn(1000, 1000, requires_grad=True)
    y = dropout(x, 0.3, True)
    kept = y != 0
    n, p_keep = kept.numel(), 0.7
    assert abs(kept.float().mean().item() - p_keep) < 5 * (p_keep * (1 - p_keep) / n) ** 0.5
    assert torch.allclose(y[kept], x[kept] / 0.7)
    (g,) = torch.autograd.grad(y.sum(), x)
    assert torch.allclose(g, kept.float() / 0.7)
    assert dropout(x, 0.3, False) is x and dropout(x, 0.0, True) is x and not dropout(x, 1.0, True).any()
    _, _, gen, _ = CASES["pos-lstm"]()
    modules = list(gen.model.modules())
    assert not [m for m in modules if type(m) is torch.nn.Dropout] and any(isinstance(m, Dropout) for m in modules)
    mlp = gen.model.decoder.h[0].mlp
    z = torch.randn(64, 32) * 3
    assert torch.allclose(mlp.act(z), NewGELUActivation()(z), atol=1e-6)
