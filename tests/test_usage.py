"""Every usage line in a script's docstring parses as written: the options exist and their values pass the
checks, so the commands a reader copies are valid (they are parsed, not run)."""

import ast
import re
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


SCRIPT = re.compile(r"^(?:scripts/(\w+)\.py|seqgan-([\w-]+))$")


def commands(line: str) -> list[tuple[str, list[str]]]:
    """(script, argv) of each seqgan command on one shell line: `python scripts/<name>.py ...`, `accelerate launch
    ... scripts/<name>.py ...` or `seqgan-<name> ...`, each part of a `&&` / `|` chain alone, without comments,
    redirections or the [brackets] of optional parts."""
    out = []
    for part in re.split(r"&&|\|\|?|;", line.replace("[", "").replace("]", "")):
        words = shlex.split(part, comments=True)
        for k, word in enumerate(words):
            m = SCRIPT.match(word)
            if m:
                argv = words[k + 1:]
                cut = next((i for i, w in enumerate(argv) if re.match(r"[0-9]?[<>]", w)), len(argv))  # redirections
                out.append(((m.group(1) or m.group(2)).replace("-", "_"), argv[:cut]))
                break
    return out


def usage_lines(script: str) -> list[list[str]]:
    """The argv of each `python scripts/<script>.py ...` / `accelerate launch ... scripts/<script>.py ...` line."""
    doc = ast.get_docstring(ast.parse((ROOT / "scripts" / f"{script}.py").read_text()))
    joined = doc.replace("\\\n", " ")  # continuation lines
    return [argv for line in joined.splitlines() if line.strip().startswith(("python", "accelerate", "echo"))
            for name, argv in commands(line) if name == script]


@pytest.mark.parametrize("script", list(PARSE))
def test_docstring_usage_lines_parse(script):
    module = load_script(script)
    lines = usage_lines(script)
    assert lines, f"scripts/{script}.py has no usage line"
    for argv in lines:
        if argv and argv[0].endswith((".yaml", ".json")):
            continue  # a config file the reader writes
        if "--help" in argv or "--help_all" in argv:
            with pytest.raises(SystemExit) as e:
                PARSE[script](module, argv)
            assert e.value.code == 0
            continue
        result = PARSE[script](module, argv)
        if script == "benchmark":
            assert result == ["all"] or set(result) <= set(module.SECTIONS), argv


def fenced_commands(path) -> list[tuple[int, str, list[str]]]:
    """(line number, script, argv) of every seqgan command in a ```bash block of a markdown file (see `commands`),
    continuation lines joined."""
    out, block, pending = [], None, ""
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("```"):
            block = n if block is None and line.strip() in ("```bash", "```sh") else None
            continue
        if block is None:
            continue
        if line.rstrip().endswith("\\"):  # a continuation line: the command goes on below
            pending += line.rstrip()[:-1] + " "
            continue
        line, pending = pending + line, ""
        out += [(n, script, argv) for script, argv in commands(line)]
    return out


DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_command_in_readme_and_the_docs_parses(doc):
    """README's and the docs' commands name real options with valid values (parsed, not run)."""
    commands = fenced_commands(doc)
    assert commands or doc.name != "README.md"
    modules, bad = {}, []
    for line, script, argv in commands:
        if script not in PARSE:
            bad.append(f"{doc.name}:{line}: no script {script}")
            continue
        if argv and argv[0].endswith((".yaml", ".json")):
            continue  # a config file the reader writes
        module = modules.setdefault(script, load_script(script))
        try:
            if "--help" in argv or "--help_all" in argv or argv == ["-h"]:
                with pytest.raises(SystemExit):
                    PARSE[script](module, argv)
            else:
                PARSE[script](module, argv)
        except (SystemExit, ValueError, OSError) as e:
            bad.append(f"{doc.name}:{line}: {script} {' '.join(argv)}: {type(e).__name__} {e}")
    assert not bad, "\n".join(bad)


def test_every_default_command_the_benchmark_times_parses():
    """benchmark.py defaults runs each command in a subprocess after the previous ones' minutes of training: a
    command its own parser refuses (--bridge dense without --disc_causal did) must fail here, not half-way there."""
    bench = load_script("benchmark")
    commands = bench.default_commands(20)
    assert {name for name, _ in commands} >= {"pos", "text", "oracle", "sweep"}
    for name, argv in commands:
        script = argv[0].removeprefix("scripts/").removesuffix(".py")
        PARSE[script](load_script(script), [a.replace("{out}", "runs/bench") for a in argv[1:]])
