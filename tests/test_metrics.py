"""Evaluation metrics: BLEU and self-BLEU equal nltk exactly; diversity and tagging metrics on known answers."""

import json
import math
import random

import pytest
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from conftest import load_script
from seqgan.scoring.bleu import BleuReferences, corpus_bleu, self_bleu, self_bleu_scores
from seqgan.scoring.bleu import test_bleu as mean_test_bleu
from seqgan.scoring.metrics import copy_rate, diversity, tag_bigrams, tagging_scores

SMOOTH = SmoothingFunction().method1


def nltk_bleu(refs, hyp, n):
    return sentence_bleu(refs, hyp, weights=(1 / n,) * n, smoothing_function=SMOOTH)


def random_corpus(rng, n, vocab=10, max_len=9):
    words = [f"w{i}" for i in range(vocab)]
    return [[rng.choice(words) for _ in range(rng.randint(0, max_len))] for _ in range(n)]


EDGE_HYPS = [
    [],                                  # empty hypothesis: BLEU 0
    ["w1"],                              # one word: higher orders have no n-grams at all
    ["w2"] * 30,                         # longer than every reference
    ["never", "seen", "words"],          # nothing matches: BLEU 0
    ["w1", "never", "w2", "w1", "w1"],   # partial matches, repeated words clipped
]


def test_test_bleu_equals_nltk_on_random_and_edge_cases():
    rng = random.Random(0)
    refs = random_corpus(rng, 40) + [["w3", "w3"], []]  # a duplicate-word and an empty reference
    refs.append(refs[0])  # duplicate reference
    hyps = random_corpus(rng, 150) + EDGE_HYPS + [refs[0], refs[1][:3]]
    prepared = BleuReferences(refs)
    for h in hyps:
        mine = prepared.sentence_bleu(h)
        for n in (2, 3, 4, 5):
            assert abs(mine[n] - nltk_bleu(refs, h, n)) < 1e-12, (h, n)
    means = mean_test_bleu(hyps, refs)
    for n in (2, 3, 4, 5):
        assert abs(means[n] - sum(nltk_bleu(refs, h, n) for h in hyps) / len(hyps)) < 1e-12
    assert prepared.sentence_bleu([]) == {2: 0.0, 3: 0.0, 4: 0.0, 5: 0.0}


def test_self_bleu_is_leave_one_out_nltk():
    rng = random.Random(1)
    samples = random_corpus(rng, 30, vocab=6) + EDGE_HYPS
    samples += [samples[0], samples[0], ["w9", "w9", "w9"]]  # duplicates count as "other" samples; a unique length
    per = self_bleu_scores(samples)
    for i, s in enumerate(samples):
        others = samples[:i] + samples[i + 1:]
        for n in (2, 3, 4, 5):
            assert abs(per[i][n] - nltk_bleu(others, s, n)) < 1e-12, (i, n)
    means = self_bleu(samples)
    assert abs(means[3] - sum(p[3] for p in per) / len(per)) < 1e-15
    # Counting the sample among its own references (RelGAN's variant) inflates the score.
    inflated = sum(nltk_bleu(samples, s, 3) for s in samples) / len(samples)
    assert inflated > means[3]


def test_self_bleu_of_identical_samples_is_one_and_needs_two():
    assert self_bleu([["a", "b", "c", "d", "e"]] * 3)[5] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="at least two"):
        self_bleu([["a"]])


def test_corpus_bleu_reports_sacrebleu_signature():
    out = corpus_bleu(["the cat sat on the mat"], [["the cat sat on the mat"]])
    assert out["score"] == pytest.approx(100.0)
    assert "tok:13a" in out["signature"] and "nrefs:1" in out["signature"]


def test_diversity_known_answers():
    samples = [["a", "b", "a"], ["a", "b", "a"], ["c"]]
    d = diversity(samples, orders=(1, 2))
    assert d["unique_ratio"] == pytest.approx(2 / 3)
    assert d["distinct_1"] == pytest.approx(3 / 7)  # a, b, c among a b a a b a c
    assert d["distinct_2"] == pytest.approx(2 / 4)  # (a b), (b a) among four bigrams
    # unigram distribution a 4/7, b 2/7, c 1/7
    assert d["entropy_1"] == pytest.approx(-sum(p * math.log(p) for p in (4 / 7, 2 / 7, 1 / 7)))
    assert d["entropy_2"] == pytest.approx(math.log(2))
    assert copy_rate(samples, [["c"], ["a", "b"]]) == pytest.approx(1 / 3)


def test_tagging_scores_known_answers():
    gold = [["DET", "NOUN", "VERB"], ["PRON", "VERB"]]
    pred = [["DET", "VERB", "VERB"], ["PRON", "VERB"]]
    words = [["the", "zorp", "runs"], ["I", "run"]]
    train_bigrams = {b for s in [["DET", "NOUN", "VERB"], ["PRON", "VERB"]] for b in tag_bigrams(s)}
    s = tagging_scores(pred, gold, words, train_words={"the", "runs", "I", "run"}, train_bigrams=train_bigrams)
    assert s["accuracy"] == pytest.approx(4 / 5)
    assert s["unknown_word_accuracy"] == 0.0 and s["num_unknown_words"] == 1  # "zorp"
    assert s["known_word_accuracy"] == 1.0
    assert s["exact_match"] == 0.5
    assert s["tag/VERB/precision"] == pytest.approx(2 / 3) and s["tag/VERB/recall"] == 1.0
    assert s["tag/VERB/f1"] == pytest.approx(0.8)
    assert s["tag/NOUN/recall"] == 0.0 and s["tag/NOUN/f1"] == 0.0 and s["tag/NOUN/support"] == 1
    # predicted bigrams: <s> DET, DET VERB*, VERB VERB*, VERB <s>, <s> PRON, PRON VERB, VERB <s>: 2 of 7 unseen
    assert s["unseen_bigram_rate"] == pytest.approx(2 / 7)
    assert s["gold_unseen_bigram_rate"] == 0.0
    assert s["sentence_words"] == [3, 2] and s["sentence_errors"] == [1, 0]


def test_paired_bootstrap_matches_the_exact_bootstrap_distribution():
    # 5 sentences: all 5^5 equally likely resamples enumerated give the exact bootstrap distribution of the
    # accuracy difference; 20,000 random resamples must reproduce its p-value, mean and spread within MC error.
    import itertools

    import numpy as np

    from seqgan.scoring.significance import paired_bootstrap
    words, ea, eb = [12, 7, 20, 3, 9], [1, 0, 2, 1, 0], [2, 1, 5, 0, 1]
    diff = np.subtract(eb, ea)
    exact = np.array([diff[list(i)].sum() / np.take(words, i).sum() for i in itertools.product(range(5), repeat=5)])
    delta = diff.sum() / sum(words)
    p_exact = np.mean(np.abs(exact - delta) >= abs(delta) - 1e-12)
    r = paired_bootstrap(words, ea, eb, resamples=20_000, seed=1)
    assert r["delta"] == pytest.approx(delta)  # 7 fewer errors in 51 words
    se = np.sqrt(p_exact * (1 - p_exact) / 20_000)
    assert abs(r["p_value"] - p_exact) < 4 * se, (r["p_value"], p_exact)
    lo, hi = np.percentile(exact, [2.5, 97.5])
    assert np.mean(exact <= r["ci_low"]) == pytest.approx(0.025, abs=0.02)
    assert r["ci_low"] == pytest.approx(lo, abs=0.02)
    assert np.mean(exact >= r["ci_high"]) == pytest.approx(0.025, abs=0.02)
    assert r["ci_high"] == pytest.approx(hi, abs=0.02)
    same = paired_bootstrap(words, ea, ea)
    assert same["delta"] == 0.0 and same["p_value"] == 1.0 and same["ci_low"] == same["ci_high"] == 0.0
    with pytest.raises(ValueError, match="same test file"):
        paired_bootstrap(words, ea, eb[:4])


def test_score_text_script(tmp_path, capsys):
    hyps = ["a man rides a bike", "", "a dog", "a man rides a bike"]
    refs = ["a man rides a horse", "two dogs run", "a dog sleeps"]
    (tmp_path / "h.txt").write_text("\n".join(hyps) + "\n")
    (tmp_path / "r.txt").write_text("\n".join(refs))
    (tmp_path / "t.txt").write_text("a dog\nsomething else\n")
    out = load_script("score_text").main(["--hypotheses", str(tmp_path / "h.txt"), "--references",
                                          str(tmp_path / "r.txt"),
                                          "--train", str(tmp_path / "t.txt"), "--output_file",
                                          str(tmp_path / "s.json")])
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((tmp_path / "s.json").read_text()) == json.loads(json.dumps(out))
    h, r = [x.split() for x in hyps], [x.split() for x in refs]
    for n in ("2", "5"):
        assert printed["test_bleu"][n] == pytest.approx(sum(nltk_bleu(r, x, int(n)) for x in h) / 4, abs=1e-12)
    assert printed["copy_rate"] == pytest.approx(0.25) and printed["num_empty_hypotheses"] == 1
    assert printed["num_samples"] == 4 and printed["num_references"] == 3


def test_score_text_paired_reports_sacrebleu_signature(tmp_path):
    (tmp_path / "h.txt").write_text("the cat sat on the mat\na dog runs\n")
    (tmp_path / "r.txt").write_text("the cat sat on the mat\na dog runs fast\n")
    out = load_script("score_text").main(["--hypotheses", str(tmp_path / "h.txt"), "--references",
                                          str(tmp_path / "r.txt"),
                                          "--paired"])
    import sacrebleu

    ref = sacrebleu.corpus_bleu(["the cat sat on the mat", "a dog runs"],
                                [["the cat sat on the mat", "a dog runs fast"]])
    assert out["corpus_bleu"]["score"] == pytest.approx(ref.score) and "nrefs:1" in out["corpus_bleu"]["signature"]


def test_score_text_rejects_empty_reference_line(tmp_path):
    (tmp_path / "h.txt").write_text("a b\n")
    (tmp_path / "r.txt").write_text("a b\n\nc d\n")
    with pytest.raises(ValueError, match=r"r.txt:2: empty line"):
        load_script("score_text").main(["--hypotheses", str(tmp_path / "h.txt"), "--references",
                                        str(tmp_path / "r.txt")])


def test_the_old_output_flag_still_writes_and_warns(tmp_path):
    # --output became --output_file (folders are --output_dir, files --output_file); the old name keeps working.
    (tmp_path / "h.txt").write_text("a dog\n")
    (tmp_path / "r.txt").write_text("a dog sleeps\n")
    with pytest.warns(FutureWarning, match="--output is deprecated .*use --output_file"):
        out = load_script("score_text").main(["--hypotheses", str(tmp_path / "h.txt"), "--references",
                                              str(tmp_path / "r.txt"), "--output", str(tmp_path / "s.json")])
    assert json.loads((tmp_path / "s.json").read_text()) == json.loads(json.dumps(out))
