"""The supervised HMM tagger (seqgan/models/hmm.py): its estimates against hand counts, its posterior against
brute-force enumeration of every tag sequence, and a real EWT run end to end."""

import itertools
import json
import math
from collections import Counter

import pytest
import torch

from conftest import load_script
from seqgan.checkpoint import load_checkpoint
from seqgan.models.hmm import HmmTaggerGenerator, SeqGanHmmTaggerConfig, deleted_interpolation, fit_hmm
from seqgan.models.tagger import word_bytes
from seqgan.tasks import get_task
from seqgan.vocab import build_word_tokenizer, encode_words

TAGS = ["DET", "NOUN", "VERB"]
CORPUS = [("the dog runs", "DET NOUN VERB"), ("a dog barks", "DET NOUN VERB"), ("dogs run", "NOUN VERB"),
          ("the cat runs", "DET NOUN VERB"), ("run", "VERB"), ("the runs", "DET NOUN"), ("Rex barks", "NOUN VERB")]


def corpus():
    return [s.split() for s, _ in CORPUS], [t.split() for _, t in CORPUS]


def fitted(smoothing: float = 1.0, order: int = 2):
    words, tags = corpus()
    tok = build_word_tokenizer((w for s in words for w in s), min_freq=2)  # singletons go to [UNK]: the suffix model
    cfg = SeqGanHmmTaggerConfig(word_vocab_size=len(tok), tags=TAGS, word_unk_id=tok.unk_token_id, smoothing=smoothing,
                                suffix_length=3, rare_max=1, order=order)
    return fit_hmm(words, tags, TAGS, tok, cfg).double(), tok


def batch_of(tok, sentences, max_bytes=24):
    T = max(map(len, sentences))
    ids = torch.zeros(len(sentences), T, dtype=torch.long)
    chars = torch.zeros(len(sentences), T, max_bytes, dtype=torch.long)
    for b, s in enumerate(sentences):
        ids[b, : len(s)] = torch.tensor(encode_words(tok, s))
        for t, w in enumerate(s):
            wb = word_bytes(w, max_bytes)
            chars[b, t, : len(wb)] = torch.tensor(wb)
    mask = torch.arange(T)[None] < torch.tensor([len(s) for s in sentences])[:, None]
    return {"word_ids": ids, "char_ids": chars, "mask": mask}


def test_estimates_are_the_counts():
    words, tags = corpus()
    m, tok = fitted(smoothing=0.0)
    # Deleted interpolation by hand: boundary state 3; bigram (a, b) with count n goes to the better leave-one-out
    # estimate.
    ids = [[3] + [TAGS.index(t) for t in ts] + [3] for ts in tags]
    uni = {k: sum(s.count(k) for s in ids) for k in range(4)}
    big = {}
    for s in ids:
        for a, b in zip(s[:-1], s[1:]):
            big[(a, b)] = big.get((a, b), 0) + 1
    N = sum(uni.values())
    lam = [0, 0]
    for (a, b), n in big.items():
        lam[int((n - 1) / (uni[a] - 1) > (uni[b] - 1) / (N - 1))] += n
    assert deleted_interpolation(Counter(big), Counter(uni), N) == \
        pytest.approx((lam[0] / sum(lam), lam[1] / sum(lam)))
    l_u, l_b = lam[0] / sum(lam), lam[1] / sum(lam)

    def p(a, b):  # p(b | a) before the empty-sentence row fix
        return l_b * big.get((a, b), 0) / sum(v for (x, _), v in big.items() if x == a) + l_u * uni[b] / N
    z = sum(p(0, b) for b in range(4))
    assert m.log_trans[0, 1].exp().item() == pytest.approx(p(0, 1) / z)  # DET -> NOUN
    assert m.log_end[1].exp().item() == pytest.approx(p(1, 3) / sum(p(1, b) for b in range(4)))
    zs = sum(p(3, b) for b in range(3))  # from <s>: never straight to </s>
    assert m.log_start[2].exp().item() == pytest.approx(p(3, 2) / zs)
    # With no smoothing a known word's emission is the relative frequency c(w, t) / c(t).
    def count(w, t):
        return sum(1 for s, ts in zip(words, tags) for x, y in zip(s, ts) if (w is None or x == w) and y == t)
    for w, t in (("dog", "NOUN"), ("runs", "NOUN"), ("runs", "VERB"), ("the", "DET")):
        got = m.log_emit[encode_words(tok, [w])[0], TAGS.index(t)].exp().item()
        assert got == pytest.approx(count(w, t) / count(None, t)), (w, t)
    assert m.log_emit[encode_words(tok, ["dog"])[0], TAGS.index("VERB")].item() < -1e3  # never seen as VERB


def test_unknown_words_use_the_longest_suffix_with_successive_abstraction():
    m, _ = fitted()
    words, tags = corpus()  # rare words (seen once, --hmm_rare_max 1): a/DET, dogs/NOUN, cat/NOUN, Rex/NOUN
    n = Counter(w for s in words for w in s)
    rare = [(w, t) for s, ts in zip(words, tags) for w, t in zip(s, ts) if n[w] == 1]
    p_tag = torch.tensor([sum(t == x for ts in tags for t in ts) for x in TAGS], dtype=torch.float64)
    p_tag /= p_tag.sum()
    theta = float(p_tag.std())

    def dist(cap, sfx):
        c = torch.tensor([sum(1 for w, t in rare if int(w[0].isupper()) == cap and w.endswith(sfx) and t == x)
                          for x in TAGS], dtype=torch.float64)
        return c / c.sum()
    # "cats" (lower case): its longest ending seen among lower-case rare words (a, dogs, cat) is "s".
    expect = (dist(0, "s") + theta * dist(0, "")) / (1 + theta)
    assert torch.allclose(m.unknown_logp("cats").exp(), expect)
    # "Max": the capitalised table (Rex) shares the ending "x", abstracted toward that table's base distribution.
    expect = (dist(1, "x") + theta * dist(1, "")) / (1 + theta)
    assert torch.allclose(m.unknown_logp("Max").exp(), expect)
    # A suffix never seen falls back to the class's base distribution.
    assert torch.allclose(m.unknown_logp("zzz").exp(), dist(0, ""))


@pytest.mark.parametrize("order", [2, 3])
def test_posterior_equals_enumeration_of_the_joint(order):
    m, tok = fitted(order=order)
    sentences = [["the", "dog", "runs"], ["Rex", "sleeps"], ["a"], ["the", "cats", "run", "dog"]]  # unknown words too
    batch = batch_of(tok, sentences)
    em = m.emissions(batch["word_ids"], batch["char_ids"], batch["mask"])
    dist = m.crf(batch["word_ids"], batch["char_ids"], batch["mask"])
    for b, s in enumerate(sentences):
        def joint(y):  # log p(x, y) written from the HMM's definition
            v = sum(em[b, t, y[t]] for t in range(len(y)))
            if order == 2:
                v = v + m.log_start[y[0]] + sum(m.log_trans[y[t - 1], y[t]]
                                                for t in range(1, len(y))) + m.log_end[y[-1]]
            else:  # boundary index 3: <s> <s> y_0 ... y_n </s>
                ext = (3, 3, *y, 3)
                v = v + sum(m.log_trans3[ext[t], ext[t + 1], ext[t + 2]] for t in range(len(ext) - 2))
            return float(v)
        ys = list(itertools.product(range(3), repeat=len(s)))
        logp = torch.tensor([joint(y) for y in ys], dtype=torch.float64)
        assert dist.log_partition[b].item() == pytest.approx(torch.logsumexp(logp, 0).item(), abs=1e-9)  # forward
        viterbi = HmmTaggerGenerator(m).sample(batch, greedy=True).tokens  # tags (a trigram's chain runs over pairs)
        assert tuple(viterbi[b, : len(s)].tolist()) == ys[int(logp.argmax())]
        post = (logp - torch.logsumexp(logp, 0)).exp()
        # The generator's chain-rule conditionals give the same posterior probability for every sequence.
        gen = HmmTaggerGenerator(m)
        one = {k: v[b: b + 1, : len(s)] for k, v in batch.items()}
        for y, p in zip(ys, post):
            lp = gen.token_logprobs({**one, "labels": torch.tensor([y])}).sum().item()
            assert math.exp(lp) == pytest.approx(p.item(), abs=1e-9)
    if order == 3:  # the trigram table is a distribution over the next tag (or </s>) for every context
        assert torch.allclose(m.log_trans3.exp().sum(-1), torch.ones(4, 4, dtype=torch.float64))
    # Exact samples: frequencies of the 4-word sentence's posterior.
    gen = HmmTaggerGenerator(m)
    one = {k: v[3:4] for k, v in batch.items()}
    reps = {k: v.expand(4000, *v.shape[1:]) for k, v in one.items()}
    draws = gen.sample(reps, rng=torch.Generator().manual_seed(0)).tokens
    ys = list(itertools.product(range(3), repeat=4))
    logp = torch.tensor([gen.token_logprobs({**one, "labels": torch.tensor([y])}).sum().item() for y in ys])
    for y, lp in zip(ys, logp):
        p = math.exp(lp)
        if p > 0.02:
            freq = (draws == torch.tensor(y)).all(1).double().mean().item()
            assert abs(freq - p) < 5 * math.sqrt(p * (1 - p) / 4000) + 1e-3, (y, freq, p)


def test_hmm_on_ewt_end_to_end(data_dir, tmp_path):
    """--method hmm on the whole EWT training set: counting takes seconds; test UPOS is the README figure's
    neighbourhood and far above the most-frequent-tag baseline; the checkpoint reloads and tags raw text."""
    out = tmp_path / "hmm"
    res = load_script("train").main(["--task", "pos", "--method", "hmm", "--data_dir", str(data_dir), "--output_dir",
                                     str(out)])
    pos = get_task("pos")
    splits = pos.load_splits(load_script("train").parse_args(["--task", "pos", "--data_dir", str(data_dir)])[0])
    baseline = pos.most_frequent_tag_accuracy(list(splits["train"]), list(splits["test"]))
    assert res["test/accuracy"] > 0.91 and res["test/accuracy"] > baseline + 0.02
    assert res["test/nll"] < 0.5 and res["test/num_words"] == 25094
    gen, tok, args = load_checkpoint(str(out), pos)
    assert type(gen).__name__ == "HmmTaggerGenerator" and args["method"] == "hmm"
    tagged = pos.tag_lines(gen, tok, ["The dog barked at the mailman ."], pretokenized=True)
    assert tagged[0].tags == ["DET", "NOUN", "VERB", "ADP", "DET", "NOUN", "PUNCT"]
    assert json.loads((out / "best" / "generator" / "config.json").read_text())["model_type"] == "seqgan_hmm_tagger"
