"""MkDocs hook: writes the CLI reference page (docs/cli.md) from the scripts' own option dataclasses at build time,
so the page cannot fall behind the code. Each script's HfArgumentParser prints its options (train.py: --help_all,
every task and method); a script in scripts/ that this page does not know fails the build.

    mkdocs build --strict        # runs this hook (mkdocs.yml: hooks)
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import sys
from pathlib import Path

MARKER = "<!-- generated: every script's options -->"
SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
FLAG = {"train": "--help_all"}  # train.py's --help shows one task's page; the reference lists every option


def script_help(name: str) -> tuple[str, str]:
    """(first docstring paragraph, the options as the script prints them) of scripts/<name>.py."""
    module = importlib.import_module(f"seqgan.scripts.{name}")
    out = io.StringIO()
    os.environ["COLUMNS"] = "110"  # argparse wraps to the terminal; a fixed width keeps the page stable
    argv0, sys.argv[0] = sys.argv[0], "seqgan-" + name.replace("_", "-")  # argparse names the program after argv[0]
    try:
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            module.main([FLAG.get(name, "--help")])
    finally:
        sys.argv[0] = argv0
    text = out.getvalue()
    if "options:" not in text and "usage:" not in text:
        raise RuntimeError(f"scripts/{name}.py --help printed no options; the CLI reference cannot be built")
    return " ".join((module.__doc__ or "").strip().split("\n\n")[0].split()), text


def reference() -> str:
    parts = []
    for path in sorted(SCRIPTS.glob("*.py")):
        if path.name.startswith("_"):
            continue
        name = path.stem
        about, text = script_help(name)
        command = "seqgan-" + name.replace("_", "-")
        parts += [f"## {command}", "", f"`{command}` is `python scripts/{path.name}`. {about}", "",
                  "```text", text.rstrip(), "```", ""]
    return "\n".join(parts)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_uri != "cli.md":
        return markdown
    if MARKER not in markdown:
        raise RuntimeError(f"docs/cli.md lost its marker {MARKER!r}; the generated reference goes there")
    return markdown.replace(MARKER, reference())
