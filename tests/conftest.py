"""Shared fixtures. Tests that need the real data read $SEQGAN_DATA_DIR (CI sets it to ../shared/data).

Outside CI a real-data test skips, with the reason, when the folder is missing. In CI (CI=true, or
SEQGAN_REQUIRE_DATA=1) a missing folder fails those tests, and any skipped test fails the session:
a green CI run means every real-data test ran.
"""

import importlib.util
import os
import sys
from pathlib import Path

import pytest
from helpers import conllu_head

ROOT = Path(__file__).resolve().parents[1]
REQUIRE_DATA = os.environ.get("CI", "").lower() in ("1", "true") or bool(os.environ.get("SEQGAN_REQUIRE_DATA"))
_skipped: list[str] = []


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = os.environ.get("SEQGAN_DATA_DIR")
    if not d or not Path(d).is_dir():
        reason = f"SEQGAN_DATA_DIR={d!r} is not a folder; set it to the shared data folder (e.g. ../shared/data)"
        if REQUIRE_DATA:
            pytest.fail(f"{reason}: in CI the real-data tests must run.")
        pytest.skip(f"{reason} to run the real-data tests")
    return Path(d)


def shared_data(name: str) -> Path:
    """$SEQGAN_DATA_DIR/<name> for module-scoped fixtures (which cannot use `data_dir`): skipped outside CI when
    missing, and in CI a skip fails the session (see pytest_sessionfinish)."""
    path = Path(os.environ.get("SEQGAN_DATA_DIR", "")) / name
    if not os.environ.get("SEQGAN_DATA_DIR") or not path.exists():
        if REQUIRE_DATA:
            pytest.fail(f"{path} is missing: in CI the real-data tests must run.")
        pytest.skip(f"needs $SEQGAN_DATA_DIR/{name}")
    return path


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if REQUIRE_DATA and _skipped and exitstatus == 0:
        print(f"\nCI: {len(_skipped)} test(s) skipped, and in CI every test must run: {', '.join(_skipped)}")
        session.exitstatus = 1


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


@pytest.fixture
def afribooms(data_dir, tmp_path):
    """40 / 12 / 15 sentences of UD Afrikaans AfriBooms, as a user's own train / dev / test files."""
    src = data_dir / "ud_af_afribooms"
    return {split: conllu_head(src / f"af_afribooms-ud-{split}.conllu", tmp_path / f"my-{split}.conllu", n)
            for split, n in (("train", 40), ("dev", 12), ("test", 15))}
