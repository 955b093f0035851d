"""train.py --help: one page per run (its task, method and bridge), with that run's defaults; --help_all: every
option."""

import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from conftest import ROOT, load_script
from seqgan.config import CONFIG_CLASSES, METHODS, CrfArguments, GanArguments
from seqgan.tasks import TASK_NAMES, parse_args
from seqgan.usage import BRIDGE_SCOPE, SCOPE, acts_in

EVERY_OPTION = {f.name for cls in CONFIG_CLASSES for f in fields(cls)}
RUNS = [("pos", m) for m in ("mle", "gan", "crf", "hmm", "energy")] + [("segment", m) for m in ("mle", "crf")] + [
    (t, m) for t in ("text", "oracle") for m in METHODS if m not in ("hmm", "energy")]  # every run parse_args accepts


def help_page(capsys, *argv) -> list[str]:
    """What `train.py <argv> --help` prints, in-process (train.py's main() parses first, so nothing is loaded)."""
    with pytest.raises(SystemExit) as e:
        load_script("train").main([*argv, "--help"])
    assert e.value.code == 0
    return capsys.readouterr().out.splitlines()


def shown(page: list[str]) -> set[str]:
    return {ln.split()[0][2:] for ln in page if ln.startswith("  --")}


def test_the_pos_page_shows_what_a_tagger_reads_with_pos_defaults_and_three_examples(capsys):
    page = help_page(capsys, "--task", "pos")
    assert len(page) <= 100
    assert page[0].startswith("usage: ") and "--help_all" in page[0]
    assert page[2].startswith("Train on a task with accelerate")  # the script's description
    examples = page[page.index("examples:") + 1:page.index("examples:") + 4]
    assert all(ln.startswith("  accelerate launch scripts/train.py --task pos") for ln in examples)
    options = shown(page)
    assert {"sentence_encoder", "word_dropout", "train_file", "tag_column", "average_weights",
            "learning_rate"} <= options
    assert not options & {"bridge", "init_from", "latent_size", "protocol", "crf_loss", "num_test_samples",
                          "hmm_order"}
    # pos's own defaults, not the dataclasses' (which are a Transformer encoder, word dropout 0.1, 10 epochs)
    text = "\n".join(page)
    assert "  --word_dropout 0.25 " in text and "  --sentence_encoder lstm " in text
    assert "  --num_train_epochs 14.0 " in text  # --method mle's own (tasks/pos.py DEFAULTS["mle"])
    hidden = int(re.search(r"(\d+) more options: --help_all", " ".join(page)).group(1))
    assert hidden == len(EVERY_OPTION) - len(options)  # the page says how many options it leaves out


def test_the_page_follows_the_method_and_the_bridge(capsys):
    page = help_page(capsys, "--task", "text", "--method", "gan", "--bridge", "rollout")
    options = shown(page)
    assert {"bridge", "num_rollouts", "protocol", "disc_layers", "init_from"} <= options
    assert not options & {"sentence_encoder", "dense_gamma", "gumbel_beta_max", "cold_temperature", "num_train_epochs"}
    assert "--method gan" in page[page.index("examples:") + 1]  # the method's own example comes first
    assert "  --bridge rollout " in "\n".join(page)
    hmm = shown(help_page(capsys, "--task", "pos", "--method", "hmm"))
    assert {"hmm_order", "hmm_suffix_length", "train_file"} <= hmm and not hmm & {"learning_rate", "hidden_size"}


@pytest.mark.parametrize("task,method", RUNS)
def test_every_runs_page_fits_in_100_lines(capsys, task, method):
    page = help_page(capsys, "--task", task, "--method", method)
    assert len(page) <= 100, f"--task {task} --method {method} --help: {len(page)} lines"
    assert all(len(ln) <= 119 for ln in page if ln.startswith("  --"))


def test_help_all_lists_every_option(capsys):
    with pytest.raises(SystemExit) as e:
        parse_args(["--task", "pos", "--help_all"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert all(f"--{name} " in out or f"--{name}\n" in out for name in EVERY_OPTION)


def test_the_scope_names_real_options_tasks_methods_and_bridges():
    assert set(SCOPE) <= EVERY_OPTION and set(BRIDGE_SCOPE) <= EVERY_OPTION
    # A new GAN or CRF option must say where it acts, or every mle page would list it.
    assert {f.name for cls in (GanArguments, CrfArguments) for f in fields(cls)} <= set(SCOPE)
    for tasks, methods in SCOPE.values():
        assert set(tasks or ()) <= set(TASK_NAMES) and set(methods or ()) <= set(METHODS)
    assert {b for bridges in BRIDGE_SCOPE.values() for b in bridges} <= {"reinforce", "rollout", "dense", "gumbel",
                                                                        "st-gumbel"}


@pytest.mark.parametrize("argv,option", [
    (["--task", "pos", "--protocol", "texygen"], "protocol"),
    (["--task", "text", "--sentence_encoder", "lstm"], "sentence_encoder"),
    (["--task", "oracle", "--encoder_name_or_path", "bert-base-cased"], "encoder_name_or_path"),
    (["--task", "pos", "--method", "gan", "--average_weights"], "average_weights"),
    (["--task", "pos", "--init_from", "runs/x"], "init_from"),
    (["--task", "text", "--method", "vae", "--generator_name_or_path", "gpt2"], "generator_name_or_path"),
    (["--task", "pos", "--method", "hmm", "--encoder_name_or_path", "bert-base-cased"], "encoder_name_or_path"),
])
def test_an_option_a_run_refuses_is_not_on_its_page(argv, option):
    """Where parse_args refuses an option for a task or method, that run's --help must not offer it."""
    with pytest.raises(ValueError):
        parse_args(argv)
    method = argv[argv.index("--method") + 1] if "--method" in argv else "mle"
    assert not acts_in(option, argv[1], method)


def test_the_installed_command_prints_the_page():
    proc = subprocess.run([str(Path(sys.executable).parent / "seqgan-train"), "--task", "pos", "--help"],
                          capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout.startswith("usage: seqgan-train --task pos")
    assert len(proc.stdout.splitlines()) <= 100


def test_fit_ratio_help_lists_only_the_gan_options_it_reads(capsys):
    with pytest.raises(SystemExit) as e:
        load_script("fit_ratio").main(["--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0 and "--disc_layers" in out and "--disc_name_or_path" in out
    listed = set(re.findall(r"^\s+--(\w+)", out, re.M))  # the option lines, not mentions in help texts
    assert not listed & {"bridge", "adv_steps", "gan_loss", "num_rollouts", "mle_weight"}
