"""Using a trained model on files: tagging a text file into valid CoNLL-U, writing samples, scoring another test
file (out of domain), and trackers receiving the same metrics as metrics.jsonl."""

import io
import json

import pytest
from helpers import POS_TINY, TEXT_TINY, conllu_head, write_conllu

from conftest import load_script, shared_data


@pytest.fixture(scope="module")
def pos_run(tmp_path_factory):
    data = shared_data("ud_af_afribooms")
    root = tmp_path_factory.mktemp("pos")
    from seqgan.tasks import get_task

    files = {"train": conllu_head(data / "af_afribooms-ud-train.conllu", root / "train.conllu", 30)}
    short = [s for s in get_task("pos").read_conllu(data / "af_afribooms-ud-test.conllu") if len(s["words"]) <= 12]
    files["test"] = write_conllu(short[:30], root / "test.conllu")  # test sentences must fit the tiny --max_length
    out = root / "run"
    load_script("train").main([*POS_TINY, "--max_length", "12", "--long_sequences", "truncate", "--train_file",
                               str(files["train"]), "--test_file", str(files["test"]), "--dev_size", "5",
                               "--output_dir", str(out)])
    return out, files


LINES = ["Die hond blaf.", "", "Ek het (gister) 3,5 km geloop, nie?",
         " ".join(["woord"] * 20), "Dit   is  'n   toets ."]


def test_tagging_a_file_writes_one_valid_conllu_block_per_input_line(pos_run, tmp_path, capsys, monkeypatch):
    run, _ = pos_run
    (tmp_path / "in.txt").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    out = tmp_path / "tagged.conllu"
    gen_script = load_script("generate")
    from seqgan.models.tagger import TaggerGenerator

    sizes, sample = [], TaggerGenerator.sample
    monkeypatch.setattr(TaggerGenerator, "sample", lambda self, batch=None, **kw: sizes.append(batch["mask"].shape[0])
                        or sample(self, batch, **kw))
    tagged = gen_script.main(["--checkpoint", str(run), "--input_file", str(tmp_path / "in.txt"), "--output_file",
                              str(out),
                              "--batch_size", "2"])
    assert sizes == [2, 2]  # 4 non-empty lines, never more than --batch_size at once
    assert "line 4: truncated: 20 words, the model tags at most 12" in capsys.readouterr().err
    text = out.read_text(encoding="utf-8")
    blocks = [b for b in text.split("\n\n") if b.strip()]
    assert len(blocks) == len(LINES) == len(tagged)
    for n, (block, line) in enumerate(zip(blocks, LINES), start=1):
        assert block.startswith(f"# sent_id = {n}\n# text = {line.strip()}")
    assert "# empty input line" in blocks[1] and tagged[1] == ""
    assert [w.rsplit("/", 1)[0] for w in tagged[0].split()] == ["Die", "hond", "blaf", "."]  # punctuation split off
    assert [w.rsplit("/", 1)[0] for w in tagged[2].split()] == ["Ek", "het", "(", "gister", ")", "3,5", "km", "geloop",
                                                                ",",
                                                              "nie", "?"]
    assert len(tagged[3].split()) == 12
    # The output is valid CoNLL-U by the same reader training uses.
    assert load_script("check_data").main(["--task", "pos", "--eval_file", str(out), "--max_length", "12"]) == 0
    # skip leaves an over-long line untagged but keeps its block; --pretokenized splits on spaces only; stdin works.
    monkeypatch.setattr("sys.stdin", io.StringIO("duck. (really)\n" + " ".join(["w"] * 13) + "\n"))
    tagged = gen_script.main(["--checkpoint", str(run), "--input_file", "-", "--pretokenized", "--long_sequences",
                              "skip"])
    assert [w.rsplit("/", 1)[0] for w in tagged[0].split()] == ["duck.", "(really)"] and tagged[1] == ""
    assert "# skipped: 13 words" in capsys.readouterr().out





def test_evaluate_scores_another_file_out_of_domain(pos_run, data_dir, tmp_path):
    from seqgan.tasks import get_task

    run, _ = pos_run
    english = get_task("pos").read_conllu(data_dir / "ud_en_ewt" / "en_ewt-ud-dev.conllu")
    short = [s for s in english if len(s["words"]) <= 12][:25]  # the tiny model takes 12 words at most
    other = write_conllu(short, tmp_path / "english.conllu")
    res = load_script("evaluate").main(["--checkpoint", str(run), "--test_file", str(other)])
    saved = json.loads((run / "eval_file_english.json").read_text())
    assert saved["test_file"] == str(other) and saved["test/num_sentences"] == 25 == res["test/num_sentences"]
    assert saved["test/num_words"] == sum(len(s["words"]) for s in short)
    assert json.loads((run / "eval_test.json").read_text())["test/num_sentences"] == 30  # training's result untouched


def test_samples_go_to_a_file_with_their_settings(data_dir, tmp_path):
    out = tmp_path / "text"
    load_script("train").main([*TEXT_TINY, "--data_dir", str(data_dir), "--output_dir", str(out)])
    texts = load_script("generate").main(["--checkpoint", str(out), "--num_samples", "7", "--temperature", "0.7",
                                          "--seed", "3", "--output_file", str(tmp_path / "s.txt")])
    assert (tmp_path / "s.txt").read_text().splitlines() == texts and len(texts) == 7
    meta = json.loads((tmp_path / "s.txt.json").read_text())
    assert (meta["temperature"], meta["seed"], meta["num_samples"]) == (0.7, 3, 7)
    again = load_script("generate").main(["--checkpoint", str(out), "--num_samples", "7", "--temperature", "0.7",
                                          "--seed", "3"])
    assert again == texts  # the recorded seed reproduces them


def test_tensorboard_receives_what_metrics_jsonl_records(pos_run, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _, files = pos_run
    out = tmp_path / "tb"
    load_script("train").main([*POS_TINY, "--max_steps", "4", "--eval_every", "2", "--log_every", "1",
                               "--train_file", str(files["train"]), "--test_file", str(files["test"]), "--dev_size",
                               "5",
                               "--report_to", "tensorboard", "--output_dir", str(out)])
    events = sorted(out.rglob("events.out.tfevents.*"))
    assert events, list(out.rglob("*"))
    got = {}  # every event file (accelerate writes the options as hparams into a second one)
    for folder in {e.parent for e in events}:
        acc = EventAccumulator(str(folder)).Reload()
        got.update({(k, e.step): e.value for k in acc.Tags()["scalars"] for e in acc.Scalars(k)})
    logged = [json.loads(ln) for ln in (out / "metrics.jsonl").read_text().splitlines()]
    expected = {(k, r["step"]): v for r in logged for k, v in r.items()
                if k not in ("step", "time_s") and isinstance(v, (int, float)) and not isinstance(v, bool)}
    for key in [("train/loss", 1), ("train/loss", 4), ("dev/accuracy", 2), ("dev/accuracy", 4), ("test/accuracy", 4)]:
        assert got[key] == pytest.approx(expected[key], rel=1e-6), key
    assert set(expected) <= set(got)
    with pytest.raises(ValueError, match="--report_to neptune is not supported"):
        load_script("train").main([*POS_TINY, "--report_to", "neptune", "--output_dir", str(tmp_path / "n")])
