"""Shared helpers for the tests of jobs/scan: scan files and decks in a tmp_path, jobs/scan
run as a user runs it (with $LATDIFF set, so nothing is built), and the output comparisons of
tests/app (loaded from there, not copied)."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCAN = str(ROOT / "jobs" / "scan")
sys.path.insert(0, str(ROOT / "jobs" / "lib"))

_spec = importlib.util.spec_from_file_location("app_conftest", ROOT / "tests" / "app" /
                                               "conftest.py")
app = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(app)

small_disk = app.small_disk  # the tmpfs fixture of tests/app, for full-disk tests

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_STOPPED, EXIT_BUSY = 0, 1, 2, 3, 4

BASE_DECK = {
    "lattice": {"dims": "4 4"},
    "action": {"kappa": "0.3", "lambda": "0.5"},
    "sampler": {"type": "hmc", "md_steps": "4"},
    "run": {"thermalize": "20", "updates": "200", "seed": "5"},
    "output": {"progress_interval": "0", "save_every": "50"},
}


def write_scan(directory, scan_text, deck=None, name="scan.ini"):
    """Writes base.ini (BASE_DECK updated by `deck`) and the scan file; returns its path."""
    sections = {s: dict(keys) for s, keys in BASE_DECK.items()}
    for section, keys in (deck or {}).items():
        sections.setdefault(section, {}).update(keys)
    app.write_deck(Path(directory) / "base.ini", sections)
    path = Path(directory) / name
    path.write_text(scan_text)
    return path


def scan(args, cwd, timeout=300, env=None):
    """Runs jobs/scan ARGS in cwd; the CompletedProcess."""
    return subprocess.run([SCAN, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def start_scan(args, cwd, env=None):
    return subprocess.Popen([SCAN, *map(str, args)], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


def describe(r):
    return app.describe(r)


@pytest.fixture(autouse=True)
def latdiff_env(monkeypatch):
    monkeypatch.setenv("LATDIFF", app.latdiff_binary())
