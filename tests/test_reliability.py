"""Reliability: exact resume after SIGKILL, the non-finite guard, malformed input, long sequences, 2-process runs."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch
from helpers import CASES, ENV, TINY_D_FLAGS, TINY_RUN, newest_phase, same_run, train_cmd
from safetensors.torch import load_file

from conftest import ROOT, load_script
from seqgan.data import DataError
from seqgan.tasks import get_task


@pytest.mark.parametrize("method, kill_in", [("gan", "mle"), ("gan", "gan"), ("cot", "gan")])
def test_sigkill_then_resume_ends_exactly_like_an_uninterrupted_run(method, kill_in, data_dir, tmp_path):
    # MLE pretraining then the adversarial (cot: cooperative) phase, with dropout: both phases, every RNG and the data
    # position matter; cot's mediator lives only in the training state.
    args = ["--method", method, "--mle_pretrain_epochs", "0.1", "--eval_every", "5", "--dropout", "0.1", "--adv_steps",
            "12",
            "--d_pretrain_steps", "6", "--gan_eval_every", "3", "--gan_log_every", "3", "--batch_size", "32",
            *(TINY_D_FLAGS if method == "gan" else [])]
    subprocess.run(train_cmd(tmp_path / "a", data_dir, *args), env=ENV, check=True, capture_output=True, timeout=600)
    proc = subprocess.Popen(train_cmd(tmp_path / "b", data_dir, *args), env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    states = tmp_path / "b" / "checkpoints"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if newest_phase(states) == kill_in:  # killed mid-phase: MLE pretraining, or the adversarial rounds
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be killed; make it longer"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = sorted(p.name for p in states.iterdir() if p.name.startswith("step-"))
    assert not (tmp_path / "b" / "eval_test.json").exists()
    subprocess.run(train_cmd(tmp_path / "b", data_dir, *args, "--resume_from_checkpoint", "latest"), env=ENV,
                   check=True,
                   capture_output=True, timeout=600)
    same_run(tmp_path / "a", tmp_path / "b")
    assert killed_at  # resumed from a real mid-run state


def test_resume_refuses_other_options_and_missing_states(data_dir, tmp_path):
    train = load_script("train")
    with pytest.raises(FileNotFoundError, match="no training state under"):
        train.main(train_cmd(tmp_path / "x", data_dir, "--resume_from_checkpoint", "latest")[2:])
    train.main(train_cmd(tmp_path / "r", data_dir, "--max_steps", "4", "--eval_every", "2")[2:])
    with pytest.raises(ValueError, match="these differ: --learning_rate"):
        train.main(train_cmd(tmp_path / "r", data_dir, "--max_steps", "4", "--eval_every", "2", "--learning_rate",
                             "0.5",
                             "--resume_from_checkpoint", "latest")[2:])
    (tmp_path / "r" / "checkpoints" / ".step-00000009.tmp").mkdir()  # a half-written state is never "latest"
    from seqgan.training.resume import find_state
    assert find_state(tmp_path / "r", "latest").name == "step-00000004"


def test_early_stopping_stops_at_the_first_spent_patience_and_resumes_as_stopped(data_dir, tmp_path):
    # A large step makes dev NLL_test (the oracle's selection metric) stall within a few evaluations.
    args = ["--max_steps", "120", "--eval_every", "3", "--early_stopping_patience", "2", "--learning_rate", "0.3",
            "--warmup_ratio", "0", "--num_eval_samples", "20"]
    train = load_script("train")
    train.main(train_cmd(tmp_path / "a", data_dir, *args)[2:])
    log = [json.loads(ln) for ln in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    dev = [(r["step"], r["dev/nll_test"]) for r in log if "dev/nll_test" in r]
    stop = [r for r in log if r.get("train/stopped_early")]
    assert len(stop) == 1 and stop[0]["step"] < 120, "the run should have stopped early; raise the learning rate"
    # Replay the rule by hand: the first evaluation 2 evaluations after the running best ends the run.
    best_step, best, expected = None, float("inf"), None
    for step, v in dev:
        if v < best:
            best_step, best = step, v
        elif (step - best_step) // 3 >= 2:
            expected = step
            break
    assert stop[0]["step"] == dev[-1][0] == expected and stop[0]["train/best_step"] == best_step
    assert json.loads((tmp_path / "a" / "best" / "trainer_state.json").read_text())["step"] == best_step
    assert json.loads((tmp_path / "a" / "eval_test.json").read_text())["best_step"] == best_step
    # Resuming from the state written at the stop trains nothing more and ends as the first run did.
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    (tmp_path / "b" / "eval_test.json").unlink()
    train.main(train_cmd(tmp_path / "b", data_dir, *args, "--resume_from_checkpoint", "latest")[2:])
    same_run(tmp_path / "a", tmp_path / "b")


def test_average_weights_saves_the_moving_average_and_resumes_it(data_dir, tmp_path):
    args = ["--max_steps", "3", "--eval_every", "3", "--save_every", "1", "--save_total_limit", "3", "--warmup_ratio",
            "0",
            "--average_weights", "--average_decay", "0.5"]
    train = load_script("train")
    train.main(train_cmd(tmp_path / "a", data_dir, *args)[2:])
    states = sorted((tmp_path / "a" / "checkpoints").iterdir())
    # the trained weights after steps 1, 2, 3
    raw = [load_file(s / "models" / "objective.safetensors") for s in states]
    prefix = "gen.model."  # the Objective holds the Generator as .gen, which holds the transformers model as .model
    # The bias-corrected average after t = 3 steps at d = 0.5: sum_s (1 - d) d^(t-s) w_s / (1 - d^t) = (w1 + 2 w2 + 4
    # w3) / 7.
    expected = {k[len(prefix):]: (raw[0][k] + 2 * raw[1][k] + 4 * raw[2][k]) / 7 for k in raw[0]}
    expected["transformer.wte.weight"] = expected["lm_head.weight"]  # tied: the state keeps one name, best/ the other
    best = load_file(tmp_path / "a" / "best" / "generator" / "model.safetensors")
    assert set(best) <= set(expected) and len(best) > 10
    assert all(torch.allclose(best[k], expected[k], atol=1e-6) for k in best)
    assert not all(torch.allclose(best[k], raw[-1][prefix + k]) for k in best), "the average should differ from w_3"
    assert json.loads((tmp_path / "a" / "eval_test.json").read_text())["average_weights"] is True
    # Resuming from step 2 restores the average with the weights: the run ends as the uninterrupted one did.
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    shutil.rmtree(states[-1].parent.parent.parent / "b" / "checkpoints" / states[-1].name)
    (tmp_path / "b" / "eval_test.json").unlink()
    train.main(train_cmd(tmp_path / "b", data_dir, *args, "--resume_from_checkpoint", "latest")[2:])
    same_run(tmp_path / "a", tmp_path / "b")


def test_nonfinite_losses_are_skipped_then_stop_the_run(data_dir, tmp_path):
    import seqgan.training.methods as methods  # where --method mle's loss is looked up

    train = load_script("train")
    calls = {"n": 0}
    real = methods.mle_objective

    def flaky(gen, batch, ctx=None):  # NaN on the 3rd and 4th batch only
        calls["n"] += 1
        loss = real(gen, batch, ctx)
        return loss * float("nan") if calls["n"] in (3, 4) else loss

    methods.mle_objective = flaky
    train.main(train_cmd(tmp_path / "ok", data_dir, "--max_steps", "6", "--eval_every", "3")[2:])
    log = [json.loads(ln) for ln in (tmp_path / "ok" / "metrics.jsonl").read_text().splitlines()]
    assert [r["guard/in_a_row"] for r in log if "guard/nonfinite" in r] == [1, 2]
    w = load_file(tmp_path / "ok" / "last" / "generator" / "model.safetensors")
    assert all(torch.isfinite(v).all() for v in w.values())

    def broken(gen, batch, ctx=None):  # NaN from the 5th batch on
        calls["n"] += 1
        loss = real(gen, batch, ctx)
        return loss * float("nan") if calls["n"] > 4 else loss

    calls["n"] = 0
    methods.mle_objective = broken
    with pytest.raises(RuntimeError, match="3 steps in a row had a non-finite training loss"):
        train.main(train_cmd(tmp_path / "bad", data_dir, "--max_steps", "20", "--eval_every", "2",
                             "--max_nonfinite_steps", "3")[2:])
    states = sorted((tmp_path / "bad" / "checkpoints").iterdir())
    good = load_file(states[-1] / "models" / "objective.safetensors")
    assert states[-1].name == "step-00000004" and all(torch.isfinite(v).all() for v in good.values())
    methods.mle_objective = real


CONLLU_OK = "1\tThe\tthe\tDET\t_\t_\t2\tdet\t_\t_\n2\tdog\tdog\tNOUN\t_\t_\t0\troot\t_\t_\n\n"
MALFORMED = {  # name: (bytes, task, expected message, line)
    "columns.conllu": (b"1\tThe\tthe\tDET\t_\t_\t2\tdet\t_\n\n", "pos", "10 tab-separated columns", 1),
    "id.conllu": (b"1\tThe\tthe\tDET\t_\t_\t2\tdet\t_\t_\n3\tdog\tdog\tNOUN\t_\t_\t0\troot\t_\t_\n\n", "pos",
                  "bad ID '3'", 2),
    "range.conllu": (b"1-x\tdon't\t_\t_\t_\t_\t_\t_\t_\t_\n\n", "pos", "bad ID '1-x'", 1),
    "upos.conllu": (b"1\tThe\tthe\tART\t_\t_\t0\troot\t_\t_\n\n", "pos", "unknown UPOS tag 'ART'", 1),
    "crlf.conllu": (CONLLU_OK.replace("\n", "\r\n").encode(), "pos", "CRLF", 1),
    "utf8.conllu": (b"1\tcaf\xe9\tcafe\tNOUN\t_\t_\t0\troot\t_\t_\n\n", "pos", "invalid UTF-8", 1),
    "empty.conllu": (b"", "pos", "no sentences found", None),
    "comments.conllu": (b"# sent_id = 1\n# text = nothing\n", "pos", "no sentences found", None),
    "blank.txt": (b"a dog\n\na cat\n", "text", "empty line", 2),
    "short.txt": (b" ".join([b"7"] * 20) + b"\n" + b"1 2 3\n", "oracle", "expected 20 token ids", 2),
    "range.txt": (b" ".join([b"7"] * 19 + [b"5000"]) + b"\n", "oracle", "expected 20 token ids", 1),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_input_is_refused_with_file_and_line(name, tmp_path, capsys):
    raw, task, needle, line = MALFORMED[name]
    f = tmp_path / name
    f.write_bytes(raw)
    where = f"{f}:{line}:" if line else f"{f}:"
    # The way training reads it: the first error, raised.
    t = get_task(task)
    with pytest.raises(DataError) as e:
        if task == "pos":
            t.read_conllu(f)
        elif task == "text":
            t.read_sentences(f)
        else:
            t.read_token_rows(f, t.OracleLSTM.random(0))
    assert str(e.value).startswith(where) and needle in str(e.value)
    # check_data.py: every error, exit status 1.
    assert load_script("check_data").main(["--task", task, str(f)]) == 1
    out = capsys.readouterr().out
    assert f"error: {where}" in out and needle in out


def test_check_data_accepts_valid_files_and_reports_all_errors(tmp_path, capsys):
    good = tmp_path / "good.conllu"
    good.write_text("1-2\tdon't\t_\t_\t_\t_\t_\t_\t_\t_\n1\tdo\tdo\tAUX\t_\t_\t0\troot\t_\t_\n2\tn't\tnot\tPART\t_\t_\t1\t"
                    "advmod\t_\t_\n2.1\tx\tx\t_\t_\t_\t_\t_\t_\t_\n\n" + CONLLU_OK)
    assert load_script("check_data").main(["--task", "pos", str(good)]) == 0
    assert "2 sentences, 4 words" in capsys.readouterr().out
    bad = tmp_path / "bad.conllu"
    bad.write_text("1\tA\ta\tXX\t_\t_\t0\troot\t_\t_\n\n1\tB\tb\tYY\t_\t_\t0\troot\t_\t_\n\n" + CONLLU_OK)
    assert load_script("check_data").main(["--task", "pos", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:1:" in out and f"{bad}:3:" in out  # both errors, not just the first


def test_long_sequences_truncated_in_training_refused_elsewhere(tmp_path, capsys):

    task, tok, gen, _ = CASES["pos"]()  # max_length 16
    from datasets import Dataset

    long = Dataset.from_list([{"sent_id": "s", "words": ["w"] * 20, "tags": ["NOUN"] * 20, "line": 7,
                               "file": "x.conllu"}])
    enc = task.encode(long, tok, gen, long="truncate")
    assert enc[0]["length"] == 16
    assert "1 sequence(s) of pos data longer than --max_length 16 were truncated" in capsys.readouterr().err
    with pytest.raises(DataError, match=r"x.conllu:7: sentence s has 20 words, more than --max_length 16"):
        task.encode(long, tok, gen)
    f = tmp_path / "long.txt"
    f.write_text(" ".join(["a"] * 60) + "\n")
    assert load_script("check_data").main(["--task", "text", str(f)]) == 0  # a warning: training truncates it
    assert "warning:" in capsys.readouterr().out
    assert load_script("check_data").main(["--task", "text", "--long_sequences", "error", str(f)]) == 1


def launch(out, data_dir, nproc, *extra, task="oracle", tiny=TINY_RUN):
    cmd = [sys.executable, "-m", "accelerate.commands.launch", *(["--multi_gpu"] if nproc > 1 else []),
           "--num_processes",
           str(nproc), "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
           str(ROOT / "scripts" / "train.py"), "--task", task, "--data_dir", str(data_dir), "--output_dir", str(out),
           *tiny, "--dropout", "0.0", *extra]
    proc = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((out / "eval_test.json").read_text())


def max_weight_diff(a, b) -> float:
    wa, wb = (load_file(d / "last" / "generator" / "model.safetensors") for d in (a, b))
    return max((wa[k] - wb[k]).abs().max().item() for k in wa)


@pytest.mark.parametrize("method", ["mle", "gan", "cot"])
def test_two_processes_match_one_process(method, data_dir, tmp_path):
    extra = ["--max_steps", "8", "--eval_every", "4", "--batch_size", "32"]
    if method in ("gan", "cot"):
        launch(tmp_path / "init", data_dir, 1, *extra)
        extra = ["--method", method, "--init_from", str(tmp_path / "init"), "--adv_steps", "6", "--d_pretrain_steps",
                 "4",
                 "--gan_eval_every", "3", "--batch_size", "32",
                 *(["--disc_dropout", "0.0", *TINY_D_FLAGS] if method == "gan" else [])]
    one = launch(tmp_path / "one", data_dir, 1, *extra)
    two = launch(tmp_path / "two", data_dir, 2, *extra)
    assert two["num_processes"] == 2 and two["test/num_tokens"] == one["test/num_tokens"] == 100 * 20
    diff = max_weight_diff(tmp_path / "one", tmp_path / "two")
    assert diff < 1e-4, f"2-process weights differ from 1-process by {diff}"
    assert abs(one["test/nll"] - two["test/nll"]) < 1e-3


def small_copy(data_dir, tmp_path, task):
    """A few dozen real sentences per split (variable lengths), so whole epochs fit in a test."""
    root = tmp_path / "data"
    if task == "pos":
        (root / "ud_en_ewt").mkdir(parents=True)
        for split, n in (("train", 61), ("dev", 9), ("test", 11)):
            text = (data_dir / "ud_en_ewt" / f"en_ewt-ud-{split}.conllu").read_text()
            (root / "ud_en_ewt" / f"en_ewt-ud-{split}.conllu").write_text("\n\n".join(text.split("\n\n")[:n]) + "\n\n")
    else:
        (root / "coco").mkdir(parents=True)
        for name, n in (("image_coco.txt", 71), ("test_coco.txt", 13)):
            lines = (data_dir / "coco" / name).read_text().splitlines()[:n]
            (root / "coco" / name).write_text("\n".join(lines) + "\n")
    return root


@pytest.mark.parametrize("task, method", [("pos", "mle"), ("text", "mle"), ("pos", "energy")])
def test_two_processes_match_one_process_with_ragged_batches(task, method, data_dir, tmp_path):
    """Variable-length sentences, a global batch of 7 split 4 + 3, and an epoch that does not divide into batches
    (61 training examples in both tasks: 8 batches of 7 and a remainder of 5 that forms a 9th batch): the global
    token mean and the sharding
    make N processes take the steps one does."""
    data = small_copy(data_dir, tmp_path, task)
    tiny = [*TINY_RUN[:8], "--char_dim", "8", "--char_filters", "8", "--dev_size", "10", "--num_eval_samples", "10",
            "--num_test_samples", "10", "--word_dropout", "0.0", "--prev_tag_dropout", "0.0"]
    extra = ["--num_train_epochs", "2", "--batch_size", "7", "--learning_rate", "3e-3", "--log_every", "1",
             "--method", method]
    one = launch(tmp_path / "one", data, 1, *extra, task=task, tiny=tiny)
    two = launch(tmp_path / "two", data, 2, *extra, task=task, tiny=tiny)
    count = "test/num_words" if task == "pos" else "test/num_tokens"
    assert two["num_processes"] == 2 and two[count] == one[count]  # every test example counted once
    diff = max_weight_diff(tmp_path / "one", tmp_path / "two")
    assert diff < 1e-4, f"2-process weights differ from 1-process by {diff}"
    logs = [[json.loads(ln) for ln in (tmp_path / d / "metrics.jsonl").read_text().splitlines()]
            for d in ("one", "two")]
    losses = [[r["train/loss"] for r in log if "train/loss" in r] for log in logs]
    assert len(losses[0]) == len(losses[1]) == 18  # 9 global batches an epoch, 2 epochs
    assert max(abs(a - b) for a, b in zip(*losses)) < 1e-4  # the same global token mean at every step
    for key in ("test/nll", "test/accuracy" if task == "pos" else "test/bleu_2"):
        assert abs(one[key] - two[key]) < 1e-3, key
