"""G + D decoding for pos: the product of experts log p_G + λ·s_D picks the best candidate, λ is tuned on dev, the
raw-text pipeline's tagger reranks the same way, and --max_train_samples trains on the first N sentences."""

import json
import math

import pytest
import torch
from datasets import Dataset
from helpers import CASES, POS_TINY

from conftest import load_script
from seqgan.checkpoint import load_checkpoint
from seqgan.config import DataArguments
from seqgan.decoding.rerank import Reranker, parse_lambdas
from seqgan.sources import load_task_splits
from seqgan.tasks import get_task
from seqgan.tasks.pipeline import RawTextTagger, load_part
from seqgan.tasks.pos import collator, encode_rows, tag_word_lists


def test_the_product_of_experts_picks_the_best_candidate_and_samples_once():
    task, tok, gen, batch = CASES["pos"]()
    noun = gen.model.config.tags.index("NOUN")
    calls = []

    def nouns(batch, tags, mask):  # a D that likes nouns: the number of NOUN tags
        return ((tags == noun) & mask).sum(1).float()

    def counted(batch, tags, mask):
        calls.append(1)
        return nouns(batch, tags, mask)

    K, seed = 6, 5
    with torch.no_grad():
        greedy = gen.sample(batch, greedy=True).tokens
        g = torch.Generator().manual_seed(seed)
        cands = [greedy] + [gen.sample(batch, rng=g).tokens for _ in range(K)]  # what G proposes, by hand
        cands = [c.masked_fill(~batch["mask"], 0) for c in cands]
        logp = [gen.token_logprobs({**batch, "labels": c}).sum(1) for c in cands]
    rerank = Reranker(score=counted, num_candidates=K, seed=seed)
    for lam in (math.inf, 0.0, 0.3, 3.0):
        rerank.lam = lam
        got = rerank(gen, batch, greedy)
        for b in range(len(greedy)):  # brute force over the candidates; the first of equals wins
            obj = [nouns(batch, c, batch["mask"])[b].item() if math.isinf(lam) else
                   logp[i][b].item() + lam * nouns(batch, c, batch["mask"])[b].item() for i, c in enumerate(cands)]
            assert torch.equal(got[b], cands[obj.index(max(obj))][b]), (lam, b, obj)
    assert len(calls) == K + 1  # D scored the K + 1 candidates once, for all four λ
    with pytest.raises(ValueError, match="numbers >= 0 or inf"):
        parse_lambdas("0,-1")
    assert parse_lambdas("0, 0.5,inf") == [0.0, 0.5, math.inf]


def test_lambda_is_tuned_on_dev_and_max_train_samples_cuts_train(afribooms, tmp_path, monkeypatch):
    files = ["--train_file", str(afribooms["train"]), "--validation_file", str(afribooms["dev"]),
             "--test_file", str(afribooms["test"]), "--max_train_samples", "30"]
    train, evaluate = load_script("train"), load_script("evaluate")
    train.main([*POS_TINY, *files, "--output_dir", str(tmp_path / "mle")])
    train.main([*POS_TINY, *files, "--method", "crf", "--output_dir", str(tmp_path / "crf")])
    args = json.loads((tmp_path / "mle" / "args.json").read_text())
    splits = load_task_splits(get_task("pos"), DataArguments(**{k: args[k] for k in ("task", "train_file",
                                                            "validation_file", "test_file", "max_train_samples")}))
    assert [len(splits[k]) for k in ("train", "dev", "test")] == [30, 12, 15]
    first = {w.lower() for s in splits["train"]["words"] for w in s if w.isalpha()}
    later = {w.lower() for s in get_task("pos").read_conllu(afribooms["train"])[30:] for w in s["words"]
             if w.isalpha()}
    vocab = set(load_checkpoint(str(tmp_path / "mle"), get_task("pos"))[1].get_vocab())
    assert first & vocab and later - first and not (later - first) & vocab  # sentences 31-40 taught no word
    from seqgan.hub import model_card
    card = model_card(args, {}, "me/af-1k", get_task("pos").CARD)
    assert "Only the first 30 training examples were used" in card

    base = ["--checkpoint", str(tmp_path / "mle"), "--rerank_with", str(tmp_path / "crf"), "--num_candidates", "3"]
    res = evaluate.main([*base, "--rerank_lambda", "0,1,inf"])
    assert (tmp_path / "mle" / "eval_test_rerank-poe.json").is_file()
    dev = res["rerank_dev"]
    assert list(dev) == ["0", "1", "inf"] and res["rerank_dev_metric"] == "dev/accuracy"
    assert res["test/rerank_lambda"] == max(dev, key=dev.get)  # the best dev accuracy, the first of equals
    # The remembered candidates decode as fresh ones do: each λ alone gives the dev accuracy the tuning saw.
    for lam in ("0", "inf"):
        one = evaluate.main([*base, "--rerank_lambda", lam, "--split", "dev", "--output_file",
                             str(tmp_path / f"dev-{lam}.json")])
        assert one["dev/accuracy"] == dev[lam]
    with pytest.raises(ValueError, match="tuned on the dev split"):
        evaluate.main([*base, "--rerank_lambda", "0,1", "--split", "dev"])

    # The raw-text pipeline's G + D tagging (tag_word_lists with a Reranker): by D alone (λ = inf) each sentence gets
    # a candidate D scores at least as high as greedy's (the CRF run), and higher where a D disagrees with G (a D
    # that likes nouns); with no samples it is greedy.
    words = [s["words"] for s in get_task("pos").read_conllu(afribooms["test"])]
    plain = RawTextTagger(None, None, *load_part(str(tmp_path / "mle"), "pos"))
    gen, tok, names = plain.tagger, plain.tagger_tokenizer, plain.tagger.model.config.tags
    batch = collator(tok)([dict(r, index=i) for i, r in enumerate(encode_rows([{"words": w} for w in words], tok,
                                                                                gen))])

    def ids(tags):  # (B, T): tag ids of one tag sequence per sentence
        out = torch.zeros_like(batch["labels"])
        for b, t in enumerate(tags):
            out[b, :len(t)] = torch.tensor([names.index(x) for x in t])
        return out

    def nouns(batch, tags, mask):
        return ((tags == names.index("NOUN")) & mask).sum(1).float()

    greedy = tag_word_lists(gen, tok, words, 64)
    no_samples = plain.with_reranker(str(tmp_path / "crf"), lam=0.0, num_candidates=0).rerank
    assert tag_word_lists(gen, tok, words, 64, no_samples) == greedy
    crf = plain.with_reranker(str(tmp_path / "crf"), lam=math.inf, num_candidates=6).rerank
    for d in (crf, Reranker(score=nouns, num_candidates=6)):
        chosen = tag_word_lists(gen, tok, words, 64, d)
        with torch.no_grad():
            gain = d.score(batch, ids(chosen), batch["mask"]) - d.score(batch, ids(greedy), batch["mask"])  # (B,)
        assert (gain >= -1e-4).all(), gain
    assert (gain > 0).any()  # the noun-loving D moved some sentence off greedy
    # generate.py --rerank_with tags a file as tag_word_lists does with the same Reranker (seed --seed): the CRF's,
    # and the noun-loving D's put in its place, which moves some tags.
    lines = tmp_path / "words.txt"
    lines.write_text("".join(" ".join(w) + "\n" for w in words))
    cmd = ["--checkpoint", str(tmp_path / "mle"), "--input_file", str(lines), "--pretokenized", "--rerank_with",
           str(tmp_path / "crf"), "--num_candidates", "6", "--seed", "3", "--output_file", str(tmp_path / "gd.conllu")]
    out = load_script("generate").main(cmd)
    want = tag_word_lists(gen, tok, words, 64, plain.with_reranker(str(tmp_path / "crf"), math.inf, 6, seed=3).rerank)
    assert out == [" ".join(f"{w}/{t}" for w, t in zip(ws, ts)) for ws, ts in zip(words, want)]
    monkeypatch.setattr(Reranker, "from_checkpoint", classmethod(lambda cls, name, *a, **kw: Reranker(nouns, **kw)))
    out = load_script("generate").main(cmd)
    want = tag_word_lists(gen, tok, words, 64, Reranker(nouns, num_candidates=6, seed=3))
    assert out == [" ".join(f"{w}/{t}" for w, t in zip(ws, ts)) for ws, ts in zip(words, want)] and want != greedy
    with pytest.raises(ValueError, match="--max_train_samples 99 is more than the 40 training examples"):
        train.main([*POS_TINY, *files[:-1], "99", "--output_dir", str(tmp_path / "x")])


def test_sir_draws_from_g_times_exp_lambda_d_on_an_enumerable_sentence():
    import itertools

    task, tok, gen, _ = CASES["pos"]()
    tags = gen.model.config.tags
    noun, n, lam = tags.index("NOUN"), 1000, 1.0
    row = task.encode(Dataset.from_list([{"sent_id": "b", "words": ["Cats", "sleep"], "tags": ["NOUN", "VERB"]}]), tok,
                      gen)[0]
    batch = task.collator(tok)([row] * n)  # n copies of one two-word sentence: n independent SIR draws

    def d(batch, y, mask):  # D likes nouns
        return ((y == noun) & mask).sum(1).float()

    with torch.no_grad():  # the exact laws over all |tags|² tag sequences, of G and of p_G(y | x)·exp(λ·d(y)) / Z
        ys = torch.tensor(list(itertools.product(range(len(tags)), repeat=2)))  # (|tags|², 2)
        one = task.collator(tok)([row] * len(ys))
        logp = gen.token_logprobs({**one, "labels": ys}).sum(1)
        nouns = d(one, ys, one["mask"]).long()
        target = torch.zeros(3).index_add_(0, nouns, torch.softmax(logp + lam * nouns, 0))  # law of the noun count
        plain = torch.zeros(3).index_add_(0, nouns, logp.exp())
        got = Reranker(score=d, num_candidates=48, lam=lam, seed=3, method="sir")(gen, batch, batch["labels"])
    freq = torch.bincount(d(batch, got, batch["mask"]).long(), minlength=3).float() / n
    tv = lambda p, q: 0.5 * (p - q).abs().sum().item()  # noqa: E731
    assert tv(freq, target) < 0.04 and tv(freq, plain) > 0.1, (freq, target, plain)
