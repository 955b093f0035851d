"""Your own data: CoNLL-U / text / id files with --train_file, --validation_file, --test_file; 🤗 datasets from
local JSON, CSV, Parquet and save_to_disk folders; tag sets from the training data; truthful model cards."""

import json

import pytest
from helpers import POS_TINY, TEXT_TINY

from conftest import load_script
from seqgan.config import DataArguments
from seqgan.hub import model_card
from seqgan.sources import carve_dev
from seqgan.tasks import get_task


def test_pos_trains_on_another_treebank_with_only_file_flags(afribooms, tmp_path):
    out = tmp_path / "af"
    res = load_script("train").main([*POS_TINY, "--train_file", str(afribooms["train"]), "--validation_file",
                                     str(afribooms["dev"]), "--test_file", str(afribooms["test"]), "--output_dir",
                                     str(out)])
    pos = get_task("pos")
    splits = pos.load_splits(DataArguments(task="pos", train_file=str(afribooms["train"]),
                                           validation_file=str(afribooms["dev"]), test_file=str(afribooms["test"])))
    assert [len(splits[k]) for k in ("train", "dev", "test")] == [40, 12, 15]
    cfg = json.loads((out / "best" / "generator" / "config.json").read_text())
    seen = {t for s in splits["train"]["tags"] for t in s}
    assert set(cfg["tags"]) == seen and cfg["tag_column"] == "upos"  # the tag set is the one seen in training
    assert res["test/num_words"] == sum(len(s) for s in splits["test"]["words"])
    # The card names the user's files, not EWT, and says the license is unknown unless told.
    card = model_card(json.loads((out / "args.json").read_text()), res, "me/af-tagger", pos.CARD)
    assert "my-train.conllu" in card and "license: unknown" in card
    assert "EWT" not in card and "universal_dependencies" not in card and "cc-by-sa" not in card
    args = {**json.loads((out / "args.json").read_text()), "dataset_license": "cc-by-sa-4.0"}
    assert "license: cc-by-sa-4.0" in model_card(args, res, "me/af-tagger", pos.CARD)
    # The benchmark run's card still credits EWT.
    assert "EWT" in model_card({"task": "pos"}, {}, "me/ewt", pos.CARD)


def test_xpos_tags_and_unseen_test_tags_are_reported_not_crashed_on(afribooms, tmp_path):
    test = afribooms["test"]
    lines = test.read_text(encoding="utf-8").split("\n")
    first = next(i for i, ln in enumerate(lines) if ln and ln[0].isdigit())
    cols = lines[first].split("\t")
    cols[4] = "NEVERSEEN"  # a gold XPOS tag the training data lacks
    lines[first] = "\t".join(cols)
    test.write_text("\n".join(lines), encoding="utf-8")
    res = load_script("train").main([*POS_TINY, "--tag_column", "xpos", "--train_file", str(afribooms["train"]),
                                     "--test_file", str(test), "--dev_size", "8", "--output_dir", str(tmp_path / "x")])
    cfg = json.loads((tmp_path / "x" / "best" / "generator" / "config.json").read_text())
    assert cfg["tag_column"] == "xpos" and "NOUN" not in cfg["tags"] and len(cfg["tags"]) > 17
    pos = get_task("pos")
    gold = [t for s in pos.read_conllu(test, tag_column="xpos") for t in s["tags"]]
    expected = {t: gold.count(t) for t in set(gold) - set(cfg["tags"])}
    assert res["test/unseen_gold_tags"] == expected and expected["NEVERSEEN"] == 1
    assert res["test/unseen_gold_tag_rate"] == pytest.approx(sum(expected.values()) / len(gold))
    assert res["test/nll"] > 0 and res["test/accuracy"] < 1.0


def test_a_missing_tag_column_stops_with_the_fix(tmp_path):
    f = tmp_path / "no-xpos.conllu"
    f.write_text("1\tHallo\thallo\tINTJ\t_\t_\t0\troot\t_\t_\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"no-xpos.conllu:1: no XPOS tag \(column 5 is '_'\).*--tag_column upos"):
        get_task("pos").read_conllu(f, tag_column="xpos")
    with pytest.raises(ValueError, match="--tag_column must be 'upos' or 'xpos'"):
        DataArguments(task="pos", tag_column="feats")


def test_file_flags_are_checked_before_anything_runs(tmp_path):
    with pytest.raises(ValueError, match="--validation_file/--test_file go with --train_file"):
        DataArguments(task="text", test_file="t.txt")
    with pytest.raises(ValueError, match="--train_file needs --test_file"):
        DataArguments(task="text", train_file="t.txt")
    with pytest.raises(ValueError, match="keep one"):
        DataArguments(task="text", train_file="a", test_file="b", dataset_name="json")
    with pytest.raises(FileNotFoundError, match="--train_file nope.txt: no such file"):
        get_task("text").load_splits(DataArguments(task="text", train_file="nope.txt", test_file="nope.txt"))


def test_the_carved_dev_split_is_seeded_and_disjoint():
    rows = [{"i": i} for i in range(50)]
    train, dev = carve_dev(rows, 10, seed=3, where="f")
    again = carve_dev(rows, 10, seed=3, where="f")
    other = carve_dev(rows, 10, seed=4, where="f")
    assert (train, dev) == again and dev != other[1]
    assert sorted(r["i"] for r in train + dev) == list(range(50)) and len(dev) == 10
    with pytest.raises(ValueError, match="--dev_size 50 must be between 1 and 49.*--validation_file"):
        carve_dev(rows, 50, seed=3, where="f")


def test_text_and_oracle_train_on_their_own_files(data_dir, tmp_path):
    coco = (data_dir / "coco" / "image_coco.txt").read_text().splitlines()
    train, test = tmp_path / "mine.txt", tmp_path / "mine-test.txt"
    train.write_text("\n".join(coco[:120]) + "\n")
    test.write_text("\n".join(coco[120:150]) + "\n")
    res = load_script("train").main([*TEXT_TINY, "--train_file", str(train), "--test_file", str(test), "--dev_size",
                                     "20",
                                     "--output_dir", str(tmp_path / "t")])
    assert res["test/num_references"] == 30 and res["test/num_samples"] == 10
    ids = (data_dir / "seqgan_oracle" / "real_data.txt").read_text().splitlines()
    otrain, otest = tmp_path / "ids.txt", tmp_path / "ids-test.txt"
    otrain.write_text("\n".join(ids[:100]) + "\n")
    otest.write_text("\n".join(ids[100:130]) + "\n")
    splits = get_task("oracle").load_splits(DataArguments(task="oracle", data_dir=str(data_dir),
                                                          train_file=str(otrain),
                                                          test_file=str(otest), dev_size=10))
    assert [len(splits[k]) for k in ("train", "dev", "test")] == [90, 10, 30]
    assert splits["test"][0]["text"] == ids[100]


def test_hf_datasets_from_local_json_csv_parquet_and_a_saved_folder(data_dir, tmp_path):
    from datasets import ClassLabel, Dataset, DatasetDict, Features, List, Value

    coco = (data_dir / "coco" / "image_coco.txt").read_text().splitlines()
    Dataset.from_dict({"caption": coco[:60]}).to_json(tmp_path / "tr.jsonl")
    Dataset.from_dict({"caption": coco[60:80]}).to_csv(tmp_path / "te.csv", index=False)
    Dataset.from_dict({"caption": coco[80:90]}).to_parquet(tmp_path / "dev.parquet")
    text = get_task("text")
    splits = text.load_splits(DataArguments(task="text", dataset_name="json", text_column="caption",
                                            data_files=f"train={tmp_path / 'tr.jsonl'},test={tmp_path / 'tr.jsonl'}",
                                            dev_size=10))
    assert [len(splits[k]) for k in ("train", "dev", "test")] == [50, 10, 60]
    assert splits["train"][0]["file"] == "json[train]"
    csv = text.load_splits(DataArguments(task="text", dataset_name="csv", text_column="caption",
                                         data_files=f"train={tmp_path / 'te.csv'},test={tmp_path / 'te.csv'}",
                                         dev_size=5))
    assert list(csv["test"]["text"]) == [c.strip() for c in coco[60:80]]  # stripped, as read from a text file
    pq = text.load_splits(DataArguments(task="text", dataset_name="parquet", text_column="caption",
                                        data_files=f"train={tmp_path / 'dev.parquet'},"
                                                   f"validation={tmp_path / 'dev.parquet'},"
                                                   f"test={tmp_path / 'dev.parquet'}"))
    assert len(pq["dev"]) == 10  # the dataset's own validation split: nothing carved
    folder = tmp_path / "captions"  # a folder of data files, splits named by file name, as on the Hub
    folder.mkdir()
    Dataset.from_dict({"text": coco[:40]}).to_json(folder / "train.jsonl")
    Dataset.from_dict({"text": coco[40:50]}).to_json(folder / "test.jsonl")
    local = text.load_splits(DataArguments(task="text", dataset_name=str(folder), dev_size=4))
    assert [len(local[k]) for k in ("train", "dev", "test")] == [36, 4, 10]
    with pytest.raises(ValueError, match=r"no column 'text' \(columns: caption\); pass --text_column NAME"):
        text.load_splits(DataArguments(task="text", dataset_name="json", data_files=f"train={tmp_path / 'tr.jsonl'},"
                                                                                  f"test={tmp_path / 'tr.jsonl'}"))
    # A POS dataset saved with save_to_disk, tags as a ClassLabel sequence: mapped back to their names.
    pos = get_task("pos")
    rows = pos.read_conllu(data_dir / "ud_af_afribooms" / "af_afribooms-ud-dev.conllu")[:30]
    names = sorted({t for r in rows for t in r["tags"]})
    feats = Features({"tokens": List(Value("string")), "upos": List(ClassLabel(names=names))})
    ds = Dataset.from_dict({"tokens": [r["words"] for r in rows],
                            "upos": [[names.index(t) for t in r["tags"]] for r in rows]},
                           features=feats)
    DatasetDict({"train": ds.select(range(20)), "test": ds.select(range(20, 30))}).save_to_disk(tmp_path / "af_ds")
    splits = pos.load_splits(DataArguments(task="pos", dataset_name=str(tmp_path / "af_ds"), dev_size=5))
    assert list(splits["test"]["tags"]) == [r["tags"] for r in rows[20:30]] and len(splits["dev"]) == 5
    with pytest.raises(ValueError, match="no column 'pos'.*--tags_column"):
        pos.load_splits(DataArguments(task="pos", dataset_name=str(tmp_path / "af_ds"), tags_column="pos"))
    # A Hub id offline: the error says how to use local data instead.
    with pytest.raises(ConnectionError, match="save_to_disk"):
        text.load_splits(DataArguments(task="text", dataset_name="someone/captions"))


def test_most_frequent_tag_baseline_against_a_hand_count():
    pos = get_task("pos")
    train = [{"words": ["The", "dog", "runs"], "tags": ["DET", "NOUN", "VERB"]},
             {"words": ["the", "runs", "runs"], "tags": ["DET", "NOUN", "NOUN"]}]
    test = [{"words": ["THE", "runs", "cat"], "tags": ["DET", "NOUN", "NOUN"]}]
    # the -> DET; runs -> NOUN (2 of 3); cat is unseen -> NOUN (3 of 6 overall, before DET 2 and VERB 1): all right.
    assert pos.most_frequent_tag_accuracy(train, test) == 1.0
    assert pos.most_frequent_tag_accuracy(train, [{"words": ["dog", "runs"], "tags": ["VERB", "VERB"]}]) == 0.0


def test_word_level_samples_keep_unknown_words_whole():
    from tokenizers import normalizers, pre_tokenizers

    from seqgan.vocab import build_word_tokenizer

    text = get_task("text")
    tok = build_word_tokenizer(["a dog runs .", "a cat runs ."], normalizer=normalizers.Lowercase(),
                               pre_tokenizer=pre_tokenizers.Whitespace())
    ids = [tok("a zebra runs .", add_special_tokens=False)["input_ids"]]
    assert text.sample_words(tok, ids) == [["a", "[UNK]", "runs", "."]]  # one word, not "[", "unk", "]"
