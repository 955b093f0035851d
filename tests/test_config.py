"""Option parsing: task defaults, config files, and clear errors for bad options."""

import pytest

from seqgan.config import parse_args


def test_task_defaults_then_flags_override():
    data, model, train = parse_args(["--task", "oracle"])
    assert (data.max_length, model.hidden_size, train.output_dir) == (20, 128, "runs/oracle-mle")
    data, model, train = parse_args(["--task", "oracle", "--hidden_size", "64", "--output_dir", "x"])
    assert (model.hidden_size, train.output_dir) == (64, "x")


def test_yaml_config_file(tmp_path):
    f = tmp_path / "run.yaml"
    f.write_text("task: text\nnum_epochs: 2\nlearning_rate: 0.0005\n")
    data, model, train = parse_args([str(f)])
    assert (data.task, train.num_epochs, train.learning_rate, data.max_length) == ("text", 2, 0.0005, 48)


def test_unknown_option_in_file_is_named(tmp_path):
    f = tmp_path / "run.yaml"
    f.write_text("task: pos\nlearning_rte: 0.1\n")
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['learning_rte'\]"):
        parse_args([str(f)])


def test_unknown_flag_and_bad_values_are_rejected():
    with pytest.raises(ValueError, match="not used by the HfArgumentParser: \\['--learning_rte'"):
        parse_args(["--task", "pos", "--learning_rte", "0.1"])
    with pytest.raises(ValueError, match="--method 'gan' is not available"):
        parse_args(["--task", "pos", "--method", "gan"])
    with pytest.raises(ValueError, match="unknown task 'tagging'"):
        parse_args(["--task", "tagging"])
