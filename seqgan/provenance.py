"""Where a result came from: the code's commit, the command, the machine and the wall time of a run, written beside
its results as provenance.json, and read back by scripts/compare.py's provenance table on a results page.

    commit = code_commit()                  # when the run starts
    write_json_atomic(out_dir / "provenance.json", provenance(["--task", "pos"], commit, wall_s=761.2,
    num_processes=1))
    record = read_provenance(run_folder)    # {} for a run written before seqgan recorded it
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import subprocess
import time
from pathlib import Path

import torch

import seqgan

CODE = Path(__file__).resolve().parents[1]  # the checkout seqgan runs from (an editable install's clone)


def code_commit(path: Path = CODE) -> str:
    """The short commit of the git checkout at `path`, with "+changes" when tracked files differ from it; "unknown"
    outside a git checkout (an installed wheel: its version says what it is)."""
    def git(*args) -> str:
        return subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True, timeout=20,
                              check=True).stdout.strip()
    try:
        commit = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+changes" if changed else "")


def cpu_model() -> str:
    """The CPU's model name (Linux names it in /proc/cpuinfo; elsewhere platform's answer, or "unknown")."""
    info = Path("/proc/cpuinfo")
    if info.is_file():
        found = [ln.split(":", 1)[1].strip() for ln in info.read_text().splitlines() if ln.startswith("model name")]
        if found:
            return found[0]
    return platform.processor() or "unknown"


def machine() -> str:
    """The CPU model and core count, and the GPU's name where torch sees one: what a wall time was measured on."""
    out = f"{cpu_model()}, {os.cpu_count()} cores"
    if torch.cuda.is_available():
        out += f", {torch.cuda.get_device_name(0)} x {torch.cuda.device_count()}"
    return out


def provenance(argv: list[str], commit: str, wall_s: float, num_processes: int,
               script: str = "scripts/train.py") -> dict:
    """The record of one finished run of `script` with `argv`, started from the code at `commit` (code_commit()
    when the run began: the tree may change while it runs): `wall_s` is the seconds of the process that finished it
    (for a resumed run, since it resumed), training and test evaluation."""
    return {"command": f"{script} " + shlex.join(argv), "commit": commit, "seqgan": seqgan.__version__,
            "torch": torch.__version__, "machine": machine(), "threads": torch.get_num_threads(),
            "num_processes": num_processes, "wall_time_s": round(wall_s, 1),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def read_provenance(run: Path) -> dict:
    """A run folder's provenance.json, or {} where the run predates it."""
    path = Path(run) / "provenance.json"
    return json.loads(path.read_text()) if path.is_file() else {}
