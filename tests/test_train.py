"""End-to-end: short MLE runs on real data and the evaluate/generate scripts (2-process runs: test_reliability.py)."""

import json

import pytest
import torch
from accelerate.utils import set_seed

from conftest import load_script
from seqgan.checkpoint import load_checkpoint
from seqgan.tasks import get_task, parse_args

TINY = ["--hidden_size", "32", "--num_layers", "1", "--num_heads", "2", "--ffn_size", "64", "--char_dim", "8",
        "--char_filters", "16", "--dropout", "0.0", "--log_every", "5", "--learning_rate", "3e-3", "--warmup_ratio",
        "0"]


def run_train(task, out, data_dir, *extra):
    argv = ["--task", task, "--output_dir", str(out), "--data_dir", str(data_dir), *TINY, *extra]
    return argv, load_script("train").main(argv)


def initial_generator(argv):
    """The generator exactly as train.main initialised it (same seed, same construction order)."""
    data_args, model_args, train_args, _, _ = parse_args(argv)
    task = get_task(data_args.task)
    set_seed(train_args.seed)
    splits = task.load_splits(data_args)
    tok = task.build_tokenizer(splits, model_args, data_args)
    return task.build_generator(tok, model_args, data_args)


# pos: the default BiLSTM encoder at this width (16 units a direction) learns more slowly at first than the
# Transformer did: at 3e-3 its loss fell 0.35 nats in 30 steps, and its test accuracy stayed under 30% after 30
# steps at 1e-2, so it takes 60 steps at 1e-2. The default weight average would still be mostly the first steps'
# weights after 60 (tests/test_reliability.py tests the average).
SHORT = {"pos": ["--max_steps", "60", "--log_every", "10", "--batch_size", "16", "--learning_rate", "1e-2",
                "--average_weights", "false"],
         "text": ["--max_steps", "30", "--batch_size", "16", "--num_eval_samples", "20", "--num_test_samples", "20"]}


@pytest.fixture(scope="module")
def short_runs(data_dir, tmp_path_factory):
    """One short real-data run per task, shared by the tests of this module."""
    cache = {}

    def get(task):
        if task not in cache:
            out = tmp_path_factory.mktemp(f"{task}-run") / "run"
            cache[task] = (out, *run_train(task, out, data_dir, *SHORT[task]))
        return cache[task]

    return get


@pytest.mark.parametrize("task", SHORT)
def test_short_run_lowers_loss_and_moves_every_parameter(task, short_runs):
    run_dir, argv, results = short_runs(task)
    log = [json.loads(ln) for ln in (run_dir / "metrics.jsonl").read_text().splitlines()]
    losses = [r["train/loss"] for r in log if "train/loss" in r]
    assert len(losses) == 6 and losses[-1] < losses[0] - 0.5  # nats per token
    before = dict(initial_generator(argv).named_parameters())
    after, _, _ = load_checkpoint(str(run_dir / "last"), get_task(task))
    unchanged = [n for n, p in after.named_parameters() if torch.equal(p, before[n])]
    assert unchanged == []
    saved = json.loads((run_dir / "eval_test.json").read_text())
    assert saved["test/nll"] == results["test/nll"]
    if task == "pos":
        assert results["test/num_words"] == 25094 and 0.3 < results["test/accuracy"] <= 1.0
        # Per-sentence words and errors (compare.py's paired test) agree with the corpus figures.
        words, errors = results["test/sentence_words"], results["test/sentence_errors"]
        assert len(words) == results["test/num_sentences"] and sum(words) == 25094
        assert 1 - sum(errors) / sum(words) == pytest.approx(results["test/accuracy"])
    assert results["seed"] == 42 and results["data_seed"] == 1234 and results["test/sample_seed"] == 1234 + 102


def test_evaluate_and_generate_scripts(data_dir, tmp_path, capsys):
    run_train("oracle", tmp_path / "run", data_dir, "--max_steps", "10", "--dev_size", "100", "--test_size", "100",
              "--num_eval_samples", "50", "--num_test_samples", "50")
    metrics = load_script("evaluate").main(["--checkpoint", str(tmp_path / "run"), "--split", "dev"])
    assert {"dev/nll_test", "dev/nll_oracle", "dev/sample_seed"} <= set(metrics)
    assert 5.0 < metrics["dev/nll_oracle"] < 12.0  # between the oracle entropy and far worse than uniform
    assert json.loads((tmp_path / "run" / "eval_dev.json").read_text())["dev/nll_test"] == metrics["dev/nll_test"]
    lines = load_script("generate").main(["--checkpoint", str(tmp_path / "run"), "--num_samples", "3"])
    assert len(lines) == 3 and all(len(ln.split()) == 20 for ln in lines)

    # A temperature sweep: one row per temperature, T=1 equal to the plain evaluation, CSV + PNG written.
    rows = load_script("evaluate").main(["--checkpoint", str(tmp_path / "run"), "--split", "dev",
                                         "--temperatures", "0.7,1.0", "--output_file", str(tmp_path / "sweep")])
    assert [r["temperature"] for r in rows] == [0.7, 1.0]
    assert rows[1]["nll_oracle"] == metrics["dev/nll_oracle"] and rows[1]["nll_test"] == metrics["dev/nll_test"]
    assert rows[0]["nll_test"] != rows[1]["nll_test"]  # the likelihood is the tempered model's
    assert (tmp_path / "sweep.csv").read_text().count("\n") == 3
    assert (tmp_path / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_text_sweep_reports_bleu_and_diversity(short_runs, tmp_path):
    run_dir, _, results = short_runs("text")
    assert {"test/bleu_2", "test/bleu_5", "test/self_bleu_5", "test/distinct_2", "test/copy_rate"} <= set(results)
    assert results["test/num_references"] == 10000 and results["test/num_samples"] == 20
    rows = load_script("evaluate").main(["--checkpoint", str(run_dir), "--checkpoint", str(run_dir / "last"),
                                         "--labels", "best,last", "--split", "dev", "--num_eval_samples", "20",
                                         "--temperatures", "0.5,1.5", "--output_file", str(tmp_path / "sweep")])
    assert [(r["label"], r["temperature"]) for r in rows] == [("best", 0.5), ("best", 1.5), ("last", 0.5),
                                                              ("last", 1.5)]
    assert rows[0]["distinct_2"] < rows[1]["distinct_2"]  # a colder softmax samples less diverse text
    assert (tmp_path / "sweep.png").stat().st_size > 1000


def test_generate_tags_typed_sentences(short_runs):
    run_dir, _, _ = short_runs("pos")
    out = load_script("generate").main(["--checkpoint", str(run_dir), "--sentence", "The dog barks ."])
    (line,) = out
    words = [w.rsplit("/", 1) for w in line.split()]
    assert [w for w, _ in words] == ["The", "dog", "barks", "."]
    assert all(t in get_task("pos").UPOS_TAGS for _, t in words)


def test_a_run_records_its_provenance_and_compare_writes_it_on_a_results_page(short_runs, tmp_path):
    import subprocess

    from seqgan.provenance import CODE

    run_dir, argv, results = short_runs("text")
    rec = json.loads((run_dir / "provenance.json").read_text())
    assert rec["command"].split() == ["scripts/train.py", *argv]
    head = subprocess.run(["git", "-C", str(CODE), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    assert rec["commit"].split("+")[0] == (head.stdout.strip() if head.returncode == 0 else "unknown")
    assert rec["num_processes"] == 1 and 0 < rec["wall_time_s"] and "cores" in rec["machine"]
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "text-mle-seed42").symlink_to(run_dir)
    page = tmp_path / "page.md"
    load_script("compare").main(["--task", "text", "--runs_dir", str(runs), "--page", str(page), "--title", "COCO"])
    text = page.read_text()
    assert text.startswith("# COCO\n") and "`text-mle-seed42` | 42 | " + rec["commit"] in text
    assert f"`{rec['command']}`" in text and f"{results['test/nll']:.3f}" in text
