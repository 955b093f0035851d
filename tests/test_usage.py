"""Every usage line in a script's docstring parses as written: the options exist and their values pass the
checks, so the commands a reader copies are valid (they are parsed, not run)."""

import ast
import shlex

import pytest

from conftest import ROOT, load_script
from seqgan.cli import make_parser, parse_strict
from seqgan.tasks import parse_args

PARSE = {  # script -> how its main() parses argv, without running anything
    "train": lambda m, argv: parse_args(argv),
    "evaluate": lambda m, argv: parse_strict(make_parser((m.EvalArguments, m.GuideArguments)), argv),
    "generate": lambda m, argv: parse_strict(make_parser((m.GenerateArguments, m.GuideArguments)), argv),
    "fit_ratio": lambda m, argv: parse_strict(make_parser((m.RatioArguments, m.GanArguments)), argv),
    "push_to_hub": lambda m, argv: parse_strict(make_parser(m.PushArguments), argv),
    "score_text": lambda m, argv: parse_strict(make_parser(m.ScoreArguments), argv),
    "compare": lambda m, argv: parse_strict(make_parser(m.CompareArguments), argv),
    "check_data": lambda m, argv: parse_strict(m.make_check_parser(), argv),
    "build_tiny_model": lambda m, argv: parse_strict(make_parser(m.TinyArguments), argv),
    "benchmark": lambda m, argv: m.make_parser(m.BenchmarkArguments).parse_args_into_dataclasses(
        args=argv, return_remaining_strings=True)[1],
}


def usage_lines(script: str) -> list[list[str]]:
    """The argv of each `python scripts/<script>.py ...` / `accelerate launch ... scripts/<script>.py ...` line."""
    doc = ast.get_docstring(ast.parse((ROOT / "scripts" / f"{script}.py").read_text()))
    joined = doc.replace("\\\n", " ")  # continuation lines
    out = []
    path = f"scripts/{script}.py"
    for line in joined.splitlines():
        if path not in line or not line.strip().startswith(("python", "accelerate", "echo")):
            continue  # prose
        line = line.split("#")[0].split("|")[-1].replace("[", "").replace("]", "")  # comments, pipes, optional parts
        words = shlex.split(line)
        out.append(words[words.index(path) + 1:])
    return out


@pytest.mark.parametrize("script", list(PARSE))
def test_docstring_usage_lines_parse(script):
    module = load_script(script)
    lines = usage_lines(script)
    assert lines, f"scripts/{script}.py has no usage line"
    for argv in lines:
        if argv and argv[0].endswith((".yaml", ".json")):
            continue  # a config file the reader writes
        if argv == ["--help"]:
            with pytest.raises(SystemExit) as e:
                PARSE[script](module, argv)
            assert e.value.code == 0
            continue
        result = PARSE[script](module, argv)
        if script == "benchmark":
            assert result == ["all"] or set(result) <= set(module.SECTIONS), argv
