"""Data loading on the real files: counts, formats and clear errors."""

import pytest

from seqgan.config import DataArguments
from seqgan.data import DataError, LengthGroupedBatchSampler, resolve_data_file
from seqgan.tasks import get_task
from seqgan.tasks.pos import read_conllu


def test_ewt_counts(data_dir):
    splits = get_task("pos").load_splits(DataArguments(task="pos", data_dir=str(data_dir)))
    sents = {k: len(v) for k, v in splits.items()}
    words = {k: sum(len(w) for w in v["words"]) for k, v in splits.items()}
    assert sents == {"train": 12544, "dev": 2001, "test": 2077}
    assert words == {"train": 204577, "dev": 25147, "test": 25094}
    tags = {t for s in splits["train"]["tags"] for t in s}
    assert len(tags) == 17


def test_conllu_skips_multiword_and_empty_nodes(tmp_path):
    f = tmp_path / "a.conllu"
    rows = ["1-2\tdon't\t_\t_\t_\t_\t_\t_\t_\t_", "1\tdo\tdo\tAUX\t_\t_\t0\troot\t_\t_",
            "2\tn't\tnot\tPART\t_\t_\t1\tadvmod\t_\t_", "2.1\tx\tx\t_\t_\t_\t_\t_\t_\t_"]
    f.write_text("# sent_id = s1\n" + "\n".join(rows) + "\n\n")
    (s,) = read_conllu(f)
    assert s == {"sent_id": "s1", "words": ["do", "n't"], "tags": ["AUX", "PART"], "line": 2, "file": str(f)}


@pytest.mark.parametrize("body, line, needle", [
    ("1\tdog\tdog\tNOUN\t_\t_\t0\troot\t_\n", 1, "10 tab-separated columns"),
    ("1\tdog\tdog\tNOUNY\t_\t_\t0\troot\t_\t_\n", 1, "unknown UPOS tag 'NOUNY'"),
    ("# c\n1\tdog\tdog\tNOUN\t_\t_\t0\troot\t_\t_\nx\tdog\tdog\tNOUN\t_\t_\t0\troot\t_\t_\n", 3, "bad ID 'x'"),
    ("1\tdog\tdog\tNOUN\t_\t_\t0\troot\t_\t_\r\n", 1, "CRLF"),
    ("# only a comment\n", None, "no sentences"),
])
def test_malformed_conllu_names_file_and_line(tmp_path, body, line, needle):
    f = tmp_path / "bad.conllu"
    f.write_bytes(body.encode())
    with pytest.raises(DataError) as e:
        read_conllu(f)
    assert needle in str(e.value)
    assert str(e.value).startswith(f"{f}:{line}:" if line else f"{f}:")


def test_missing_data_offline_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("SEQGAN_DATA_DIR", raising=False)
    with pytest.raises(FileNotFoundError) as e:  # port 9 (discard) on loopback refuses at once
        resolve_data_file("ud_en_ewt/en_ewt-ud-dev.conllu", str(tmp_path), url="http://127.0.0.1:9/x.conllu")
    assert "--data_dir" in str(e.value) and "SEQGAN_DATA_DIR" in str(e.value)
    assert not any((tmp_path / "cache").rglob("*.part"))  # no half-written download left behind


def test_text_splits_and_empty_line_error(data_dir, tmp_path, monkeypatch):
    splits = get_task("text").load_splits(DataArguments(task="text", data_dir=str(data_dir), dev_size=500))
    assert (len(splits["train"]), len(splits["dev"]), len(splits["test"])) == (9500, 500, 10000)
    assert not set(splits["dev"]["line"]) & set(splits["train"]["line"])
    (tmp_path / "coco").mkdir()
    (tmp_path / "coco" / "image_coco.txt").write_text("a man on a bike\n\na dog\n")
    (tmp_path / "coco" / "test_coco.txt").write_text("a cat\n")
    with pytest.raises(DataError, match=r"image_coco.txt:2: empty line"):
        get_task("text").load_splits(DataArguments(task="text", data_dir=str(tmp_path), dev_size=1))


def test_unknown_task_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown task 'nope'.*pos, segment, text, oracle"):
        get_task("nope")


def test_length_grouped_sampler_is_a_seeded_permutation():
    lengths = [5, 1, 9, 3, 3, 7, 2, 8, 6, 4, 1]
    s = LengthGroupedBatchSampler(lengths, batch_size=3, seed=0)
    batches = list(s)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert batches == list(LengthGroupedBatchSampler(lengths, 3, seed=0))
    s.set_epoch(1)
    assert list(s) != batches
    assert all(len(b) <= 3 for b in batches)


@pytest.mark.parametrize("n", [5, 13, 301])
def test_a_short_remainder_joins_the_batch_before_and_every_example_is_drawn_once(n):
    # n % 3 == 1 (13, 301) or n % 4 == 1 (5): fewer than half a batch left over, which joins the last full batch.
    bs = 4 if n == 5 else 3
    lengths = [(7 * i) % 11 for i in range(n)]
    for shuffle in (True, False):
        s = LengthGroupedBatchSampler(lengths, batch_size=bs, seed=1, shuffle=shuffle)
        batches = list(s)
        assert sorted(i for b in batches for i in b) == list(range(n))  # a permutation: none dropped, none twice
        assert len(batches) == len(s) == n // bs
        assert sorted(len(b) for b in batches) == [bs] * (n // bs - 1) + [bs + n % bs]
