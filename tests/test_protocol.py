"""--protocol texygen (seqgan/scoring/protocols.py): Texygen's words, vocabulary and BLEU settings, so that its
published COCO rows compare like with like; the protocol is recorded in every result."""

import json

import pytest
from nltk import word_tokenize
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from conftest import load_script
from seqgan.config import DataArguments
from seqgan.hub import stage
from seqgan.scoring.protocols import texygen_scores, texygen_words
from seqgan.tasks import get_task, parse_args

TEXT_TINY = ["--task", "text", "--hidden_size", "16", "--num_layers", "1", "--num_heads", "2", "--ffn_size", "32",
             "--batch_size", "8", "--max_steps", "3", "--eval_every", "3", "--num_eval_samples", "10",
             "--num_test_samples", "12"]

# Hand-written captions with what nltk.word_tokenize splits and the regex \w+|[^\w\s]+ splits otherwise: contractions,
# possessives, hyphens, quotes, a trailing period glued to a word, repeated sentences and a one-word line.
HYPOTHESES = ["a man's dog isn't on the black-and-white couch.", "two people ride bikes down a street .",
              'a sign that says "stop" near a road', "a man's dog isn't on the black-and-white couch.",
              "a cat sitting on a toilet seat in a bathroom", "kitchen", "a plate of food with a fork and knife ,"]
REFERENCES = ["a dog is on the couch .", "two people riding bikes down the street.", "a red stop sign near a road",
              "a cat sits on a toilet in a small bathroom", "a kitchen with a stove and a sink",
              "a man's black-and-white dog can't sit still .", "a plate of food with a fork"]


def texygen_bleu(hyps: list[str], refs: list[str], n: int) -> float:
    """Texygen's Bleu.get_bleu_parallel (utils/metrics/Bleu.py), sequentially: nltk.word_tokenize each line, then the
    mean of nltk's sentence_bleu with uniform weights and method-1 smoothing. word_tokenize without Punkt's sentence
    split (preserve_line=True): these lines hold no sentence break inside, so Punkt would not split them."""
    reference = [word_tokenize(r, preserve_line=True) for r in refs]
    weight = tuple(1.0 / n for _ in range(n))
    return sum(sentence_bleu(reference, word_tokenize(h, preserve_line=True), weight,
                             smoothing_function=SmoothingFunction().method1) for h in hyps) / len(hyps)


def texygen_self_bleu(hyps: list[str], n: int) -> float:
    """Texygen's SelfBleu.get_bleu_parallel: each line against all the others (reference[:i] + reference[i+1:])."""
    reference = [word_tokenize(h, preserve_line=True) for h in hyps]
    weight = tuple(1.0 / n for _ in range(n))
    return sum(sentence_bleu(reference[:i] + reference[i + 1:], reference[i], weight,
                             smoothing_function=SmoothingFunction().method1)
                                 for i in range(len(reference))) / len(reference)


def test_texygen_bleu_equals_nltk_run_as_texygen_runs_it(tmp_path):
    hyp_file, ref_file = tmp_path / "hyps.txt", tmp_path / "refs.txt"
    hyp_file.write_text("\n".join(HYPOTHESES) + "\n")
    ref_file.write_text("\n".join(REFERENCES) + "\n")
    got = load_script("score_text").main(["--protocol", "texygen", "--hypotheses", str(hyp_file), "--references",
                                          str(ref_file), "--output_file", str(tmp_path / "s.json")])
    assert got["protocol"] == "texygen" and json.loads((tmp_path / "s.json").read_text())["protocol"] == "texygen"
    for n in (2, 3, 4, 5):
        # Its published setting (bleu_eval.py: is_fast=False): every reference; self-BLEU over every hypothesis.
        assert got["test_bleu"][str(n)] == pytest.approx(texygen_bleu(HYPOTHESES, REFERENCES, n), abs=1e-12)
        assert got["self_bleu"][str(n)] == pytest.approx(texygen_self_bleu(HYPOTHESES, n), abs=1e-12)
        # Its fast setting keeps the first sample_size references and hypotheses (500 in Texygen; 4 here).
        fast = texygen_scores(texygen_words(HYPOTHESES), texygen_words(REFERENCES), sample_size=4)
        assert fast[f"texygen_fast_bleu_{n}"] == pytest.approx(texygen_bleu(HYPOTHESES, REFERENCES[:4], n), abs=1e-12)
        assert fast[f"texygen_fast_self_bleu_{n}"] == pytest.approx(texygen_self_bleu(HYPOTHESES[:4], n), abs=1e-12)
    # Under seqgan's protocol the same files are whitespace tokens: "couch." is one word there, so BLEU differs.
    seqgan = load_script("score_text").main(["--hypotheses", str(hyp_file), "--references", str(ref_file)])
    assert seqgan["protocol"] == "seqgan" and seqgan["test_bleu"]["2"] != got["test_bleu"]["2"]


def test_under_texygen_no_test_caption_maps_to_unk(data_dir):
    data, model, *_ = parse_args(["--task", "text", "--protocol", "texygen", "--data_dir", str(data_dir)])
    text = get_task("text")
    splits = text.load_splits(data)
    tok = text.build_tokenizer(splits, model, data)
    unk = tok.unk_token_id
    for split in ("train", "dev", "test"):
        ids = tok(list(splits[split]["text"]), add_special_tokens=False)["input_ids"]
        assert not any(unk in s for s in ids), split
    # Each caption is nltk.word_tokenize of the lower-cased line, one vocabulary word per token.
    line = (data_dir / "coco" / "test_coco.txt").read_text().splitlines()[0]
    assert splits["test"][0]["text"].split() == word_tokenize(line.lower(), preserve_line=True)
    n_ids = len(tok(splits["test"][0]["text"], add_special_tokens=False)["input_ids"])
    assert n_ids == len(word_tokenize(line, preserve_line=True))
    # seqgan's protocol keeps training words seen twice: 5% of test tokens are [UNK] there (README, COCO).
    data, model, *_ = parse_args(["--task", "text", "--data_dir", str(data_dir)])
    splits = text.load_splits(data)
    tok = text.build_tokenizer(splits, model, data)
    ids = [i for s in tok(list(splits["test"]["text"]), add_special_tokens=False)["input_ids"] for i in s]
    assert 0.04 < sum(i == tok.unk_token_id for i in ids) / len(ids) < 0.07


def test_the_protocol_is_written_to_the_eval_json_and_the_model_card(data_dir, tmp_path):
    coco = (data_dir / "coco" / "image_coco.txt").read_text().splitlines()
    train, test = tmp_path / "mine.txt", tmp_path / "mine-test.txt"
    train.write_text("\n".join(coco[:120]) + "\n")
    test.write_text("\n".join(coco[120:150]) + "\n")
    files = ["--train_file", str(train), "--test_file", str(test), "--dev_size", "20"]
    res = load_script("train").main([*TEXT_TINY, *files, "--protocol", "texygen", "--output_dir", str(tmp_path / "t")])
    saved = json.loads((tmp_path / "t" / "eval_test.json").read_text())
    assert res["test/protocol"] == saved["test/protocol"] == saved["dev/protocol"] == "texygen"
    assert res["test/unk_rate"] == 0.0 and res["test/num_references"] == 30
    assert {"test/texygen_fast_bleu_5", "test/texygen_fast_self_bleu_5"} <= set(saved)
    card = (stage(str(tmp_path / "t" / "best"), tmp_path / "up", "me/x",
                  get_task("text").CARD) / "README.md").read_text()
    assert "under the `texygen` measurement protocol" in card
    # A run started from it must measure alike: its vocabulary and word split are the protocol's.
    with pytest.raises(ValueError, match="trained under --protocol texygen, this run under --protocol seqgan"):
        load_script("train").main([*TEXT_TINY, *files, "--method", "gan", "--init_from", str(tmp_path / "t"),
                                   "--output_dir", str(tmp_path / "g")])


def test_bad_protocols_stop_before_anything_runs():
    with pytest.raises(ValueError, match="--protocol 'nltk' is not a protocol; choose one of: seqgan, texygen"):
        DataArguments(task="text", protocol="nltk")
    with pytest.raises(ValueError, match="applies to --task text only"):
        parse_args(["--task", "pos", "--protocol", "texygen"])
    with pytest.raises(ValueError, match="--protocol 'x' is not a protocol"):
        load_script("score_text").main(["--protocol", "x", "--hypotheses", "h", "--references", "r"])
