"""Shared fixtures. Tests that need the real data read $SEQGAN_DATA_DIR (CI sets it to ../shared/data)."""

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = os.environ.get("SEQGAN_DATA_DIR")
    if not d or not Path(d).is_dir():
        pytest.skip("set SEQGAN_DATA_DIR to the shared data folder (e.g. ../shared/data) to run real-data tests")
    return Path(d)


def load_script(name: str):
    """Import scripts/<name>.py as a module (scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(f"seqgan_script_{name}", ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    # Tests never touch the network: Hub calls fail fast, downloads land in a throwaway cache.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("SEQGAN_CACHE", str(tmp_path / "cache"))
