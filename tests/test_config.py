"""Option parsing: task and method defaults, config files, and clear errors for bad options."""

import os
import subprocess
import sys

import pytest

from conftest import ROOT
from seqgan.tasks import parse_args


def test_task_defaults_then_flags_override():
    data, model, train, gan, crf = parse_args(["--task", "oracle"])
    assert (data.max_length, model.hidden_size, train.output_dir) == (20, 128, "runs/oracle-mle")
    data, model, train, gan, crf = parse_args(["--task", "oracle", "--hidden_size", "64", "--output_dir", "x"])
    assert (model.hidden_size, train.output_dir) == (64, "x")


def test_method_defaults_and_run_names():
    _, _, train, gan, _ = parse_args(["--task", "oracle", "--method", "gan", "--bridge", "rollout"])
    assert train.output_dir == "runs/oracle-gan-rollout" and gan.d_pretrain_steps == 200  # oracle's DEFAULTS["gan"]
    _, _, train, gan, _ = parse_args(["--task", "oracle", "--method", "gan", "--d_pretrain_steps", "7"])
    assert gan.d_pretrain_steps == 7  # flags beat method defaults
    _, _, train, _, crf = parse_args(["--task", "text", "--method", "crf"])
    assert (train.output_dir, train.batch_size, crf.bigram_smoothing) == ("runs/text-crf-nll", 950, 0.01)
    _, _, train, _, crf = parse_args(["--task", "pos", "--method", "crf", "--crf_loss", "hinge"])
    assert train.output_dir == "runs/pos-crf-hinge"


def test_yaml_config_file(tmp_path):
    f = tmp_path / "run.yaml"
    f.write_text("task: text\nnum_train_epochs: 2\nlearning_rate: 0.0005\n")
    data, model, train, _, _ = parse_args([str(f)])
    assert (data.task, train.num_train_epochs, train.learning_rate, data.max_length) == ("text", 2, 0.0005, 48)
    f.write_text("task: oracle\nmethod: gan\nbridge: gumbel\ngan_loss: rsgan\n")
    _, _, train, gan, _ = parse_args([str(f)])
    assert (train.output_dir, gan.gan_loss, gan.adv_steps) == ("runs/oracle-gan-gumbel", "rsgan", 300)


def test_unknown_option_in_file_is_named(tmp_path):
    f = tmp_path / "run.yaml"
    f.write_text("task: pos\nlearning_rte: 0.1\n")
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['learning_rte'\]"):
        parse_args([str(f)])


def test_unknown_flag_prints_one_line_with_a_suggestion_without_usage_or_traceback():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "train.py"), "--task", "pos", "--learning_rte",
                           "0.1"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "usage:" not in proc.stderr
    assert proc.stderr.startswith("train.py: error: unrecognized arguments: --learning_rte (did you mean "
                                  "--learning_rate?)")
    assert len(proc.stderr.splitlines()) == 1


def test_abbreviations_are_refused_and_help_all_lists_every_group(capsys):
    with pytest.raises(SystemExit) as e:
        parse_args(["--task", "pos", "--num_epoch", "1"])  # not silently --num_train_epochs
    assert e.value.code == 2 and "--num_epoch (did you mean --num_train_epochs?)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        parse_args(["--task", "pos", "--help_all"])
    out = " ".join(capsys.readouterr().out.split())  # help text is wrapped to the terminal
    assert e.value.code == 0
    for group in ("data:", "model (generator", "training:",
                  "adversarial and cooperative training (--method gan, latent-gan, cot):",
                  "discriminator alone (--method crf, --method hmm) and the energy D (--method energy):"):
        assert group in out
    for flag in ("--bridge", "--init_from", "--crf_loss", "--hidden_size", "--overwrite_output_dir"):
        assert flag in out
    assert "Sequences per batch in all, whatever the number of processes" in out  # --batch_size is global


def test_data_errors_print_one_line_without_traceback(tmp_path):
    bad = tmp_path / "data" / "coco"
    bad.mkdir(parents=True)
    (bad / "image_coco.txt").write_text("a dog\n\na cat\n")
    (bad / "test_coco.txt").write_text("a cat\n")
    cmd = [sys.executable, str(ROOT / "scripts" / "train.py"), "--task", "text", "--data_dir", str(tmp_path / "data"),
           "--output_dir", str(tmp_path / "run")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"error: {bad / 'image_coco.txt'}:2: empty line" in proc.stderr
    debug = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "SEQGAN_DEBUG": "1"})
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_bad_values_are_rejected():
    with pytest.raises(ValueError, match="--method 'rl' is not available"):
        parse_args(["--task", "pos", "--method", "rl"])
    with pytest.raises(ValueError, match="unknown task 'tagging'"):
        parse_args(["--task", "tagging"])
    with pytest.raises(ValueError, match="--crf_loss gen_negatives and --negatives_from CKPT go together"):
        parse_args(["--task", "pos", "--method", "crf", "--crf_loss", "gen_negatives"])
    with pytest.raises(ValueError, match="the unconditional bigram model of oracle trains by --crf_loss nll"):
        parse_args(["--task", "oracle", "--method", "crf", "--crf_loss", "hinge"])
    with pytest.raises(ValueError, match="--gumbel_beta_max must be >= 1"):
        parse_args(["--task", "oracle", "--method", "gan", "--gumbel_beta_max", "0.5"])
    with pytest.raises(ValueError, match="--average_weights averages MLE, CRF or energy training; --method gan"):
        parse_args(["--task", "oracle", "--method", "gan", "--average_weights"])
    with pytest.raises(ValueError, match=r"--average_decay must be in \(0, 1\)"):
        parse_args(["--task", "pos", "--average_weights", "--average_decay", "1"])
    with pytest.raises(ValueError, match="--sentence_encoder 'gru' is not one of transformer, lstm"):
        parse_args(["--task", "pos", "--sentence_encoder", "gru"])
    with pytest.raises(ValueError,
                       match="--sentence_encoder lstm is the from-scratch pos tagger's encoder; drop it for --task "
                             "text"):
        parse_args(["--task", "text", "--sentence_encoder", "lstm"])


def test_every_choice_tuple_of_the_options_equals_its_dict_of_functions():
    # config declares the choices without importing the code that holds the functions; each pair stays equal here.
    from seqgan import config
    from seqgan.models.crf_tagger import CRF_LOSSES
    from seqgan.models.energy_tagger import ENERGY_TERMS
    from seqgan.models.latent import LATENT_LOSSES
    from seqgan.models.tagger import SENTENCE_ENCODERS
    from seqgan.scoring.protocols import PROTOCOLS
    from seqgan.training.bridges import BASELINES, BRIDGES, GUMBEL_SCHEDULES
    from seqgan.training.losses import LOSSES
    from seqgan.training.methods import METHODS

    pairs = [(config.SENTENCE_ENCODERS, SENTENCE_ENCODERS), (config.CRF_LOSSES, CRF_LOSSES),
             (config.ENERGY_TERMS, ENERGY_TERMS),
             (config.BRIDGE_NAMES, BRIDGES), (config.GAN_LOSSES, LOSSES), (config.PROTOCOLS, PROTOCOLS),
             (config.METHODS, METHODS), (config.BASELINES, BASELINES), (config.SCHEDULES, GUMBEL_SCHEDULES)]
    for choices, functions in pairs:
        assert choices == tuple(functions)
    # The latent methods are the registry's generators from a prior and the GAN over their codes.
    assert set(config.LATENT_METHODS) == set(LATENT_LOSSES) | {"latent-gan"}


def test_importing_the_options_loads_no_training_code():
    code = "import sys, seqgan.config; print(sorted(m for m in sys.modules if m.startswith('seqgan.training')))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_task_defaults_name_real_options_and_methods():
    # One DEFAULTS and one SELECTION per task, keyed by method ("all": every method): a misspelt option or method
    # would otherwise be ignored without a word.
    from dataclasses import fields

    from seqgan.config import CONFIG_CLASSES, METHODS
    from seqgan.tasks import TASK_NAMES, get_task, selection

    options = {f.name for cls in CONFIG_CLASSES for f in fields(cls)}
    for name in TASK_NAMES:
        task = get_task(name)
        assert set(task.DEFAULTS) <= {"all", *METHODS} and "all" in task.DEFAULTS, name
        assert set(task.SELECTION) <= {"all", *METHODS} and "all" in task.SELECTION, name
        for method, values in task.DEFAULTS.items():
            assert set(values) <= options, (name, method, set(values) - options)
        for method in METHODS:  # every pick is a (metric, direction) pair or None (the last state)
            picked = selection(task, method)
            assert picked is None or (isinstance(picked[0], str) and picked[1] in ("min", "max")), (name, method)
    assert selection(get_task("text"), "gan") is None
    assert selection(get_task("oracle"), "latent-gan") == ("nll_test", "min")


def test_the_old_option_names_still_work_and_warn_with_the_new_name(tmp_path):
    # --num_epochs became the Hugging Face --num_train_epochs; the old flag and the old config-file key keep working.
    with pytest.warns(FutureWarning, match="--num_epochs is deprecated .*use --num_train_epochs"):
        train = parse_args(["--task", "pos", "--num_epochs", "3"])[2]
    assert train.num_train_epochs == 3.0
    with pytest.warns(FutureWarning, match="--num_epochs is deprecated"):
        train = parse_args(["--task", "pos", "--num_epochs=2.5"])[2]
    assert train.num_train_epochs == 2.5
    config = tmp_path / "run.yaml"
    config.write_text("task: text\nnum_epochs: 4\n")
    with pytest.warns(FutureWarning, match="--num_epochs is deprecated"):
        train = parse_args([str(config)])[2]
    assert train.num_train_epochs == 4.0
