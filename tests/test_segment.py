"""The segment task and the raw-text pipeline: labels per character that round-trip every treebank sentence, the CoNLL
2018 metrics against the official evaluator (udtools ships conll18_ud_eval.py as udtools.udeval), multiword-token
expansion, bad raw input, and train -> evaluate --raw_text -> generate --segmenter end to end on real treebank
files."""

import io
import json
import random

import pytest
import torch
from datasets import Dataset, DatasetDict
from helpers import TINY, conllu_head
from udtools import udeval

from conftest import load_script
from seqgan.config import DataArguments, ModelArguments
from seqgan.conllu import read_treebank, to_conllu_tokens, treebank_text
from seqgan.data import DataError
from seqgan.scoring.conll18 import raw_text_scores, upos_by_sentence
from seqgan.segmentation import LABELS, ChunkLexicon, MwtExpander, char_labels, chunks, decode, windows
from seqgan.tasks import get_task, parse_args
from seqgan.tasks.pipeline import RawTextTagger, load_pipeline, paragraphs

SEG_TINY = ["--task", "segment", "--hidden_size", "32", "--num_layers", "1", "--char_dim", "8", "--char_filters", "8",
            "--batch_size", "8", "--max_steps", "4", "--eval_every", "4", "--min_steps", "0", "--max_length", "120"]
POS_TINY_LSTM = ["--task", "pos", "--hidden_size", "32", "--num_layers", "1", "--char_dim", "8", "--char_filters", "8",
                 "--batch_size", "8", "--max_steps", "3", "--eval_every", "3", "--min_steps", "0"]


def non_space(text: str) -> str:
    return "".join(c for c in text if not c.isspace())


def official(gold: list[dict], system: list[dict]) -> dict:
    """The official evaluator's Tokens, Sentences, Words and UPOS F1 on the two treebanks written as CoNLL-U."""
    def load(sentences, name):
        return udeval.load_conllu(io.StringIO(to_conllu_tokens(sentences, tree=True)), name, {})
    ref = udeval.evaluate(load(gold, "gold"), load(system, "system"))
    return {k: (round(ref[name].f1, 12), ref[name].correct, ref[name].gold_total, ref[name].system_total)
            for k, name in (("tokens", "Tokens"), ("sentences", "Sentences"), ("words", "Words"), ("upos", "UPOS"))}


def ours(gold, system) -> dict:
    return {k: (round(v["f1"], 12), v["correct"], v["gold"],
                v["system"]) for k, v in raw_text_scores(gold, system).items()}


def sent(*tokens, text=None):
    """A sentence from tokens given as "form/UPOS", "form" + "|words/UPOS,..." for a multiword token; "~" after a
    form means SpaceAfter=No."""
    toks = []
    for spec in tokens:
        no_space = "~" in spec
        form, _, words = spec.replace("~", "").partition("|")
        if words:
            ws = [w.split("/") for w in words.split(",")]
            toks.append({"form": form, "words": ws, "space_after": not no_space})
        else:
            f, tag = form.split("/")
            toks.append({"form": f, "words": [[f, tag]], "space_after": not no_space})
    joined = "".join(t["form"] + (" " if t["space_after"] else "") for t in toks).strip()
    return {"sent_id": "x", "text": text or joined, "tokens": toks, "newpar": False}


GOLD = [sent("I/PRON", "don't|do/AUX,n't/PART", "know~/VERB", "./PUNCT"), sent("Go/VERB", "home~/ADV", "!/PUNCT")]
FIXTURES = {
    "identical": GOLD,
    "multiword token kept whole": [sent("I/PRON", "don't/VERB", "know~/VERB", "./PUNCT"), GOLD[1]],
    "multiword token split wrongly": [sent("I/PRON", "don't|don/AUX,'t/PART", "know~/VERB", "./PUNCT"), GOLD[1]],
    "system multiword token over two gold tokens": [sent("I/PRON", "don't|do/AUX,n't/PART", "know.|know/VERB,./PUNCT"),
                                                    GOLD[1]],
    "extra token": [sent("I/PRON", "do~/AUX", "n't/PART", "know~/VERB", "./PUNCT"), GOLD[1]],
    "missing token": [sent("I/PRON", "don't|do/AUX,n't/PART", "know./VERB"), sent("Go/VERB", "home!/ADV")],
    "sentences merged": [sent("I/PRON", "don't|do/AUX,n't/PART", "know~/VERB", "./PUNCT", "Go/VERB", "home~/ADV",
                              "!/PUNCT")],
    "sentence split early": [sent("I/PRON", "don't|do/AUX,n't/PART"), sent("know~/VERB", "./PUNCT", "Go/VERB"),
                             sent("home~/ADV", "!/PUNCT")],
    "wrong tags": [sent("I/PRON", "don't|do/VERB,n't/ADV", "know~/NOUN", "./PUNCT"),
                   sent("Go/NOUN", "home~/ADV", "!/X")],
}


@pytest.mark.parametrize("case", FIXTURES)
def test_the_raw_text_metrics_equal_the_official_evaluator_on_hand_made_fixtures(case):
    assert ours(GOLD, FIXTURES[case]) == official(GOLD, FIXTURES[case])


def test_the_raw_text_metrics_equal_the_official_evaluator_on_perturbed_ewt_dev(data_dir):
    """400 EWT dev sentences, re-segmented from labels with 3% of them replaced at random, multiword tokens expanded,
    random tags on both sides: every count and F1 as the official script's."""
    gold = read_treebank(data_dir / "ud_en_ewt/en_ewt-ud-dev.conllu")[:400]
    rng = random.Random(0)
    expander = MwtExpander.fit([(t["form"], [w for w, _ in t["words"]]) for s in gold for t in s["tokens"]])
    system, of_gold = [], []  # of_gold[i]: the system sentences cut from gold sentence i
    for s in gold:
        of_gold.append(len(system))
        labels = [rng.choice(LABELS) if rng.random() < 0.03 else x for x in char_labels(s["text"], s["tokens"], "dev")]
        for tokens in decode(s["text"], labels):
            system.append({"text": s["text"][tokens[0]["start"]:tokens[-1]["end"]], "sent_id": "s", "tokens": [
                {"form": t["form"], "space_after": t["space_after"], "words": [
                    [w, rng.choice(["NOUN", "VERB"])]
                        for w in (expander.expand(t["form"]) if t["mwt"] else [t["form"]])]}
                for t in tokens]})
        for t in s["tokens"]:
            for w in t["words"]:
                w[1] = rng.choice(["NOUN", "VERB"])
    mine, ref = ours(gold, system), official(gold, system)
    assert mine == ref
    assert 0.5 < mine["tokens"][0] < 0.99 and mine["upos"][1] < mine["words"][1]  # the perturbation did something
    # Per gold sentence (the paired test's unit): its words and UPOS errors are the official evaluator's on that
    # sentence alone against the system sentences cut from it.
    by = upos_by_sentence(gold, system)
    ends = of_gold[1:] + [len(system)]
    for i, (a, b) in enumerate(zip(of_gold, ends)):
        _, correct, n_gold, _ = official([gold[i]], system[a:b])["upos"]
        assert (by["words"][i], by["errors"][i]) == (n_gold, n_gold - correct), i
    assert sum(by["errors"]) == mine["upos"][2] - mine["upos"][1]


def test_text_that_lost_a_character_is_refused_not_scored():
    with pytest.raises(ValueError, match="do not spell the gold text"):
        raw_text_scores(GOLD, [sent("I/PRON", "dont/VERB", "know~/VERB", "./PUNCT"), GOLD[1]])


@pytest.mark.parametrize("treebank",
                         ["ud_en_ewt/en_ewt-ud-train.conllu", "ud_af_afribooms/af_afribooms-ud-train.conllu"])
def test_every_training_sentence_round_trips_through_its_labels(data_dir, treebank):
    """For every sentence: its gold tokens -> one label per character -> decoded tokens, which are the gold tokens
    (multiword ones flagged), and which with their SpaceAfter spell the sentence's # text."""
    sentences = read_treebank(data_dir / treebank)
    assert len(sentences) > 1000
    for s in sentences:
        (tokens,) = decode(s["text"], char_labels(s["text"], s["tokens"], s["sent_id"]))
        assert [t["form"] for t in tokens] == [s["text"][a:b] for a, b in ((t["start"], t["end"]) for t in tokens)]
        assert [non_space(t["form"]) for t in tokens] == [non_space(t["form"]) for t in s["tokens"]], s["sent_id"]
        assert [t["mwt"] for t in tokens] == [len(t["words"]) > 1 for t in s["tokens"]]
        rejoined = "".join(s["text"][t["start"]:t["end"]] + (" " if t["space_after"] else "") for t in tokens).strip()
        assert rejoined == " ".join(s["text"].split()) or non_space(rejoined) == non_space(s["text"])


def test_windows_hold_every_character_once_and_cut_a_473_character_url(data_dir):
    gold = read_treebank(data_dir / "ud_en_ewt/en_ewt-ud-test.conllu")
    rows = windows(gold, 400)
    assert max(len(r["words"]) for r in rows) == 400
    assert non_space("".join(r["text"] for r in rows)) == non_space("".join(s["text"] for s in gold))
    mwt = [m for r in rows for m in r["mwt"] if len(m["words"]) > 1]
    assert len(mwt) == sum(len(t["words"]) > 1 for s in gold for t in s["tokens"]) == 354
    assert sum(r["tags"].count("token+sentence") + r["tags"].count("mwt+sentence") for r in rows) == len(gold)


def test_multiword_tokens_expand_from_the_treebank_with_the_input_case():
    e = MwtExpander.fit([("don't", ["do", "n't"]), ("Don't", ["Do", "n't"]), ("can't", ["ca", "n't"]),
                         ("du", ["de", "le"]), ("its", ["it", "s"]), ("its", ["its"]), ("Its", ["Its"])])
    assert e.usually("DON'T") and not e.usually("its") and not e.usually("hello")   # 2 of 2; 1 of 3; never one
    assert e.expand("its") == ["it", "s"]                     # where the model says so, the multiword expansion
    assert e.expand("DON'T") == ["DO", "N'T"]                 # seen: the form itself cut where the words meet
    assert e.expand("Du") == ["De", "le"]                     # seen, words that do not spell it: capitalised alike
    assert e.expand("Wouldn't") == ["Would", "n't"]           # unseen: the suffix seen twice
    assert e.expand("hello") == ["hello"]                     # unseen, no known suffix: one word
    assert MwtExpander.from_dict(e.to_dict()).expand("Can't") == ["Ca", "n't"]


def test_an_unseen_form_follows_its_endings_habit_and_a_form_seen_as_one_word_stays_whole():
    mwt = [("john's", ["john", "'s"]), ("mary's", ["mary", "'s"]), ("it's", ["it", "'s"]), ("lets", ["let", "s"]),
           ("whats", ["what", "s"])]
    e = MwtExpander.fit(mwt + [("cd's", ["cd's"]), ("cats", ["cats"]), ("dogs", ["dogs"]), ("runs", ["runs"])])
    # brute force: of the 4 tokens ending in "'s", 3 were john + 's; of the 9 ending in "s", 2 were let/what + s
    assert e.suffix_share == {"'s": 3 / 4, "s": 2 / 9}
    assert e.usually("Nakamura's") and e.expand("Nakamura's") == ["Nakamura", "'s"]   # never seen: "'s"'s habit
    assert not e.usually("CD's")                       # seen, only as one word: the form's own habit wins
    assert not e.usually("hats") and not e.usually("'s")   # "s" is rarely a word of its own; no stem, no split
    old = {k: v for k, v in e.to_dict().items() if k != "suffix_share"}   # a checkpoint saved before the habit
    assert not MwtExpander.from_dict(old).usually("Nakamura's")
    assert MwtExpander.from_dict(e.to_dict()).usually("Nakamura's")
    ablated = e.without_suffix_habit()                  # what the fit gave before the habit: forms seen as one only
    assert not ablated.usually("Nakamura's") and not ablated.usually("CD's") and ablated.usually("John's")
    assert ablated.suffix_share == {} and ablated.share == {f: 1.0 for f, _ in mwt} and ablated.table == e.table


def test_the_suffix_habit_from_the_training_rows_equals_a_count_over_every_ewt_token(data_dir):
    """The rows keep every token the habit needs: shares fitted on EWT train's windows equal a count over all of its
    tokens (904 of its 952 tokens ending in "'s" are X + 's)."""
    gold = read_treebank(data_dir / "ud_en_ewt/en_ewt-ud-train.conllu")
    e = MwtExpander.fit([(m["form"], m["words"]) for r in windows(gold, 400) for m in r["mwt"]])
    tokens = [(t["form"].lower(), [w.lower() for w, _ in t["words"]]) for s in gold for t in s["tokens"]]
    for suffix in ("'s", "n't", "s", "na"):
        ending = [w for f, w in tokens if f.endswith(suffix) and len(f) > len(suffix)]
        split = [w for w in ending if len(w) == 2 and w[1] == suffix and w[0]]
        assert e.suffix_share[suffix] == len(split) / len(ending), suffix
    assert e.suffix_share["'s"] == 904 / 952


def test_the_chunk_lexicon_from_the_training_rows_equals_a_count_over_every_ewt_chunk(data_dir):
    """The lexicon fitted on EWT train's label windows equals a count made from its tokens directly: each run of
    tokens with SpaceAfter=No between them (a chunk), its majority segmentation (forms, multiword or not) where
    that is more than half of its occurrences."""
    gold = read_treebank(data_dir / "ud_en_ewt/en_ewt-ud-train.conllu")
    seen = {}
    for s in gold:
        run = []
        for k, t in enumerate(s["tokens"]):
            run.append((t["form"], len(t["words"]) > 1))
            if t["space_after"] or k == len(s["tokens"]) - 1:
                seen.setdefault("".join(f for f, _ in run), []).append(tuple(run))
                run = []
    expected, habits = {}, {}
    for chunk, segs in seen.items():
        best = max(set(segs), key=segs.count)
        if 2 * segs.count(best) > len(segs):
            expected[chunk] = best
        first, hyphen, second = chunk.partition("-")
        if hyphen and all(w.isalpha() for w in (first, second)):  # a word, a hyphen, a word: its first word's habit
            for seg in segs:
                way = ("whole" if seg == ((chunk, False),) else
                       "split" if seg == ((first, False), ("-", False), (second, False)) else "other")
                habits.setdefault(first.lower(), []).append(way)
    lexicon = ChunkLexicon.fit(windows(gold, 400))
    assert lexicon.prefixes == {first: way for first, ways in habits.items() for way in ("whole", "split")
                                if len(ways) >= 2 and 2 * ways.count(way) > len(ways)}
    assert lexicon.prefixes["anti"] == "whole" and lexicon.prefixes["well"] == "split"
    got = {}
    for chunk, code in lexicon.table.items():
        labels = [ChunkLexicon.LABEL[c] for c in code]
        got[chunk] = tuple((t["form"], t["mwt"]) for t in decode(chunk, labels)[0])
    assert got == expected
    assert got["Inc."] == (("Inc.", False),) and got["don't"] == (("don't", True),)
    assert got["so-called"] == (("so", False), ("-", False), ("called", False))


def test_the_chunk_lexicon_replaces_a_known_chunks_labels_and_keeps_every_character():
    def row(text, code):  # a label per character: "." inside, "t" token end, "s" token and sentence end
        return {"text": text, "tags": [{".": "inside", "t": "token", "s": "token+sentence"}[c] for c in code]}
    lexicon = ChunkLexicon.from_dict(ChunkLexicon.fit([row("Acme Inc. won", "...t....t...t"),
                                                       row("Inc. x", "...t.s"), row("Inc. x", "..tt.t")]).to_dict())
    assert lexicon.table == {"Acme": "...t", "Inc.": "...t", "won": "..t", "x": "t"}  # "Inc." 2 of 3 whole
    text = "We like Inc. Then"
    labels = row(text, ".t....t...ts....t")["tags"]  # the model's: "Inc" + "." and a sentence end at the "."
    assert [[t["form"] for t in s] for s in decode(text, labels)] == [["We", "like", "Inc", "."], ["Then"]]
    fixed = lexicon.apply(text, labels)  # "Inc." whole, the sentence end moved to its last character
    assert [[t["form"] for t in s] for s in decode(text, fixed)] == [["We", "like", "Inc."], ["Then"]]
    assert fixed[:8] == labels[:8] and fixed[12:] == labels[12:]  # unseen chunks keep the model's labels
    assert ChunkLexicon().apply(text, labels) == labels
    # an unseen hyphenated chunk follows its first word's habit; one with a first word seen once, the model
    def tokens(*chunks):  # chunks given as their tokens: the row that labels each token's end
        code = " ".join("".join("." * (len(t) - 1) + "t" for t in c) for c in chunks).replace(" ", ".")
        return row(" ".join("".join(c) for c in chunks), code)
    habit = ChunkLexicon.fit([tokens(["anti-war"], ["anti-Nazi"], ["well", "-", "off"], ["well", "-", "made"],
                                     ["ex-wife"])])
    text = "Anti-smoker well-paid ex-boss"
    labels = tokens(["Anti", "-smoker"], ["well-paid"], ["ex-", "boss"])["tags"]  # the model's
    fixed = habit.apply(text, labels)
    assert habit.prefixes == {"anti": "whole", "well": "split"}
    assert [t["form"] for t in decode(text, fixed)[0]] == ["Anti-smoker", "well", "-", "paid", "ex-", "boss"]
    assert habit.without_prefixes().apply(text, labels) == labels
    assert chunks(" a  bc\td ") == [(1, 2), (4, 6), (7, 8)]


@pytest.fixture(scope="module")
def tiny_pipeline():
    """An untrained segmenter (a character CRF: its Viterbi decodes a window in one vectorised pass, where G decodes
    character by character) and tagger: what bad input must not break does not depend on training."""
    torch.manual_seed(0)
    seg, pos = get_task("segment"), get_task("pos")
    rows = windows([sent("I/PRON", "don't|do/AUX,n't/PART", "know~/VERB", "./PUNCT") | {"file": "f", "line": 1}], 200)
    seg_data = DatasetDict({"train": Dataset.from_list(rows)})
    seg_tok = seg.build_tokenizer(seg_data, TINY)
    seg_gen = seg.build_crf(seg_tok, ModelArguments(**{**vars(TINY), "sentence_encoder": "lstm"}),
                                  DataArguments(task="segment", max_length=200), seg_data["train"])
    pos_data = DatasetDict({"train": Dataset.from_list([{"words": ["I", "know"], "tags": ["PRON", "VERB"]}])})
    pos_tok = pos.build_tokenizer(pos_data, TINY)
    pos_gen = pos.build_generator(pos_tok, TINY, DataArguments(task="pos", max_length=16), pos_data["train"])
    return RawTextTagger(seg_gen.eval(), seg_tok, pos_gen.eval(), pos_tok)


BAD_INPUT = {
    "empty and whitespace-only lines": "\n\n   \n\t\nHello there.\n \n",
    "a 10,000-character line with no punctuation": "word " * 2000,
    "one 10,000-character run with no space": "x" * 10_000,
    "mixed scripts and emoji": "Привет мир 你好世界 مرحبا 👋🏽 café naïve — ok",
    "CRLF line ends": "First line.\r\nSecond line.\r\n\r\nThird paragraph.\r\n",
    "a byte-order mark": "\ufeffHello.",
}


@pytest.mark.parametrize("case", BAD_INPUT)
@pytest.mark.parametrize("per_line", [False, True])
def test_bad_raw_input_loses_no_character_and_writes_valid_conllu(tiny_pipeline, case, per_line):
    text = BAD_INPUT[case]
    sentences = tiny_pipeline.tag_text(text, one_sentence_per_line=per_line)
    assert non_space("".join(t["form"] for s in sentences for t in s["tokens"])) == non_space(text.lstrip("\ufeff"))
    assert all(w[1] is not None and w[0] for s in sentences for t in s["tokens"] for w in t["words"])
    if per_line:
        assert len(sentences) == len([x for x in text.lstrip("\ufeff").replace("\r\n", "\n").split("\n") if x.strip()])
    if sentences:  # the official reader accepts the flat-tree output; no sentence is empty
        udeval.load_conllu(io.StringIO(tiny_pipeline.to_conllu(sentences, tree=True)), "out", {})
    assert paragraphs("   \n\n\t") == []


def test_segment_refuses_methods_it_does_not_offer():
    with pytest.raises(ValueError, match="--task segment trains a character tagger"):
        parse_args(["--task", "segment", "--method", "gan"])


def test_train_then_raw_text_evaluation_matches_the_official_evaluator_end_to_end(data_dir, tmp_path):
    """A tiny segmenter and tagger trained on AfriBooms files, evaluate.py --raw_text on 15 test sentences as
    paragraphs: its JSON figures equal the official evaluator's on the CoNLL-U it wrote (flat tree) against the gold
    file; generate.py --segmenter writes CoNLL-U of a raw file that reads back with every character; push_to_hub.py
    --tagger stages one pipeline that loads back whole."""
    src = data_dir / "ud_af_afribooms"
    files = {split: conllu_head(src / f"af_afribooms-ud-{split}.conllu", tmp_path / f"{split}.conllu", n)
             for split, n in (("train", 40), ("dev", 10), ("test", 15))}
    data = ["--train_file", str(files["train"]), "--validation_file", str(files["dev"]), "--test_file",
            str(files["test"])]
    train = load_script("train")
    seg = train.main([*SEG_TINY, *data, "--output_dir", str(tmp_path / "seg")])
    assert {"test/tokens_f1", "test/sentences_f1", "test/mwt_f1", "test/f1"} <= set(seg)
    # The chunk lexicon travels in the checkpoint's config; the pipeline segments every chunk it knows its way.
    config = json.loads((tmp_path / "seg" / "best" / "generator" / "config.json").read_text())
    lexicon = ChunkLexicon.fit(windows(read_treebank(files["train"]), 120))
    assert config["chunks"] == lexicon.to_dict() and len(lexicon.table) > 100
    train.main([*POS_TINY_LSTM, *data, "--output_dir", str(tmp_path / "pos")])
    tagged = load_pipeline(str(tmp_path / "seg"), str(tmp_path / "pos")).tag_text(
        treebank_text(read_treebank(files["dev"])), one_sentence_per_line=True)
    known = 0
    for s in tagged:  # the output's chunks: runs of tokens with no space between them
        run = []
        for k, t in enumerate(s["tokens"]):
            run.append(t["form"])
            if (t["space_after"] or k == len(s["tokens"]) - 1) and "".join(run) in lexicon.table:
                chunk = "".join(run)
                labels = [ChunkLexicon.LABEL[c] for c in lexicon.table[chunk]]
                assert run == [x["form"] for x in decode(chunk, labels)[0]], chunk
                known += 1
            run = [] if t["space_after"] else run
    assert known > 50  # 92: this 4-step model ends no token on its own (dev tokens F1 0)

    # G + D: G's candidates reranked by a CRF segmenter of the same data, λ tuned on dev; compare.py shows its row
    # beside G alone and D alone, and the timed raw-text run experiments/segment.sh records.
    train.main([*SEG_TINY, "--method", "crf", *data, "--output_dir", str(tmp_path / "seg-crf")])
    load_script("evaluate").main(["--checkpoint", str(tmp_path / "seg"), "--rerank_with", str(tmp_path / "seg-crf"),
                                  "--rerank_lambda", "0,1,inf", "--num_candidates", "2", "--split", "test"])
    rr = json.loads((tmp_path / "seg" / "eval_test_rerank-poe.json").read_text())
    assert rr["test/rerank_with"].endswith("seg-crf/best") and set(rr["rerank_dev"]) == {"0", "1", "inf"}
    assert 0 <= rr["test/tokens_f1"] <= 1
    (tmp_path / "timed-x.json").write_text(json.dumps({"input": "x.txt", "segmenter": "seg", "tagger": "pos",
                                                       "bytes": 2_000_000, "sentences": 1234, "words": 5678,
                                                       "seconds": 61.7, "sentences_per_second": 20.0}))
    table = load_script("compare").main(["--task", "segment", "--runs_dir", str(tmp_path), "--baseline", "seg"])
    assert "reranked by `seg-crf`" in table and "| x.txt · `seg` + `pos` | 2.00 | 1,234 | 5,678 | 62 s | 20 |" in table
    out = tmp_path / "seg" / "eval_raw_test_paragraphs.json"  # the default: beside the segmenter's results
    res = load_script("evaluate").main(["--raw_text", str(files["test"]), "--segmenter", str(tmp_path / "seg"),
                                        "--checkpoint", str(tmp_path / "pos"), "--paragraphs",
                                        "--conllu_file", str(tmp_path / "sys.conllu"), "--flat_tree"])
    assert json.loads(out.read_text())["tokens_f1"] == res["tokens_f1"]
    gold_ud = udeval.load_conllu_file(str(files["test"]))
    ref = udeval.evaluate(gold_ud, udeval.load_conllu_file(str(tmp_path / "sys.conllu")))
    for key, name in (("tokens", "Tokens"), ("sentences", "Sentences"), ("words", "Words"), ("upos", "UPOS")):
        assert res[f"{key}_f1"] == pytest.approx(ref[name].f1)
    # G + D tagging of the same raw text: the tagger's candidates ranked with a pos CRF at one λ (a list is refused:
    # λ is picked on dev beforehand); the segmentation is the same, only tags may move, and the scorer agrees.
    train.main([*POS_TINY_LSTM, *data, "--method", "crf", "--output_dir", str(tmp_path / "pos-crf")])
    raw = ["--raw_text", str(files["test"]), "--segmenter", str(tmp_path / "seg"), "--checkpoint",
           str(tmp_path / "pos"), "--paragraphs", "--rerank_with", str(tmp_path / "pos-crf"), "--num_candidates", "3"]
    with pytest.raises(ValueError, match="with one λ, picked on dev"):
        load_script("evaluate").main([*raw, "--rerank_lambda", "0,1"])
    gd = load_script("evaluate").main([*raw, "--rerank_lambda", "0.5", "--conllu_file", str(tmp_path / "gd.conllu"),
                                       "--flat_tree"])
    assert (tmp_path / "seg" / "eval_raw_test_paragraphs_rerank-poe.json").is_file()
    assert gd["rerank_lambda"] == "0.5" and gd["rerank_with"].endswith("pos-crf/best") and gd["num_candidates"] == 3
    assert gd["words_f1"] == res["words_f1"]
    assert gd["upos_f1"] == pytest.approx(udeval.evaluate(gold_ud, udeval.load_conllu_file(str(tmp_path /
                                                                                             "gd.conllu")))["UPOS"].f1)

    raw = tmp_path / "raw.txt"
    raw.write_text(treebank_text(read_treebank(files["test"]), paragraphs=True), encoding="utf-8")
    load_script("generate").main(["--segmenter", str(tmp_path / "seg"), "--checkpoint", str(tmp_path / "pos"),
                                  "--input_file", str(raw), "--output_file", str(tmp_path / "gen.conllu")])
    back = read_treebank(tmp_path / "gen.conllu")
    assert non_space("".join(t["form"] for s in back
                             for t in s["tokens"])) == non_space(raw.read_text(encoding="utf-8"))
    assert all(s["text"] and all(w[1] for t in s["tokens"] for w in t["words"]) for s in back)

    # One pipeline on the Hub: the segmenter with the tagger in tagger/, its card showing the raw-text figures, and
    # load_pipeline(repo) alone tags as the two runs do.
    staged = load_script("push_to_hub").main(["--checkpoint", str(tmp_path / "seg"), "--tagger", str(tmp_path / "pos"),
                                              "--hub_model_id", "you/raw", "--dry_run", "--dry_run_dir",
                                              str(tmp_path / "up")])
    assert {"tagger/generator/model.safetensors", "tagger/args.json", "eval_raw_test_paragraphs.json"} <= set(staged)
    card = (tmp_path / "up" / "README.md").read_text()
    assert f"| test.conllu | paragraphs | {100 * res['tokens_f1']:.2f} |" in card
    text = raw.read_text(encoding="utf-8")
    both = load_pipeline(str(tmp_path / "seg"), str(tmp_path / "pos"))
    assert load_pipeline(str(tmp_path / "up")).tag_text(text) == both.tag_text(text)
    with pytest.raises(ValueError, match="joins a pos run to a segment run"):
        load_script("push_to_hub").main(["--checkpoint", str(tmp_path / "pos"), "--tagger", str(tmp_path / "seg"),
                                         "--hub_model_id", "you/raw", "--dry_run", "--dry_run_dir",
                                         str(tmp_path / "x")])


def test_a_treebank_whose_tokens_do_not_spell_its_text_is_refused_naming_file_and_line(tmp_path):
    bad = tmp_path / "bad.conllu"
    bad.write_text("# text = Hello world\n1\tHello\t_\tX\t_\t_\t_\t_\t_\t_\n2\tworlds\t_\tX\t_\t_\t_\t_\t_\t_\n\n")
    with pytest.raises(DataError, match=r"bad.conllu:2: token 'worlds' does not match the sentence's # text"):
        get_task("segment").read_file(bad)
