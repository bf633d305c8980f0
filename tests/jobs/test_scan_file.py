"""Scan files: value lists and decimal ranges, Cartesian products and zipped keys, readable
point names, and every bad scan file refused by `jobs/scan plan` with one line, before any
file exists."""

import re

import pytest

from conftest import EXIT_BAD_INPUT, EXIT_OK, describe, scan, write_scan
from latdiff_scan.errors import ScanError
from latdiff_scan.points import expand
from latdiff_scan.scan_file import parse_values, read_scan_file


def test_ranges_are_exact_decimals():
    assert parse_values("0.32:0.35:0.005", "k") == [
        "0.320", "0.325", "0.330", "0.335", "0.340", "0.345", "0.350"]
    assert parse_values("1:4:1", "k") == ["1", "2", "3", "4"]
    assert parse_values("-0.1:0.1:0.1", "k") == ["-0.1", "0.0", "0.1"]
    assert parse_values("0.5:0.3:-0.1", "k") == ["0.5", "0.4", "0.3"]
    # A stop between two steps ends the range below it.
    assert parse_values("0:1:0.3", "k") == ["0.0", "0.3", "0.6", "0.9"]


def test_lists():
    assert parse_values("16 16 | 32 32|64 64", "k") == ["16 16", "32 32", "64 64"]
    assert parse_values("1 2 3", "k") == ["1", "2", "3"]
    assert parse_values("0.1 0.2:0.4:0.1", "k") == ["0.1", "0.2", "0.3", "0.4"]


@pytest.mark.parametrize("text, message", [
    ("1:0:1", "lead from start to stop"),
    ("0:1:0", "non-zero"),
    ("1..2:3:1", "bad range"),
    ("1 | | 2", "empty value"),
    ("0:1e9:1", "at most"),
])
def test_bad_values(text, message):
    with pytest.raises(ScanError, match=message):
        parse_values(text, "action.kappa")


def test_product_zip_and_names(tmp_path):
    path = write_scan(tmp_path, "[scan]\ndeck = base.ini\n"
                      "[vary]\naction.kappa = 0.30 0.31\n"
                      "[zip volume]\nlattice.dims = 4 4 | 8 8\nrun.updates = 100 | 400\n")
    points = expand(read_scan_file(str(path)))
    assert [p.name for p in points] == ["kappa0.30_dims4x4", "kappa0.30_dims8x8",
                                        "kappa0.31_dims4x4", "kappa0.31_dims8x8"]
    assert points[1].values == {"action.kappa": "0.30", "lattice.dims": "8 8",
                                "run.updates": "400"}


def test_names_use_every_key_when_the_first_is_ambiguous(tmp_path):
    path = write_scan(tmp_path, "[scan]\ndeck = base.ini\n"
                      "[zip]\nlattice.dims = 4 4 | 4 4\nrun.seed = 1 | 2\n")
    assert [p.name for p in expand(read_scan_file(str(path)))] == [
        "dims4x4_seed1", "dims4x4_seed2"]


@pytest.mark.parametrize("text, message", [
    ("[vary]\nrun.seed = 1\n", "no [scan] section"),
    ("[scan]\nranks = 1\n", "deck is required"),
    ("[scan]\ndeck = base.ini\nnodes = 2\n", "unknown option 'nodes'"),
    ("[scan]\ndeck = base.ini\nranks = two\n", "ranks: expected an integer"),
    ("[scan]\ndeck = base.ini\nrunner = pbs\n", "runner: one of local, slurm"),
    ("[scan]\ndeck = base.ini\ntime = soon\n", "time: want minutes"),
    ("[scan]\ndeck = base.ini\ntime = 1\nsignal_seconds = 60\n",
     "signal_seconds: 60 must be below the time limit (60 s)"),
    ("[scan]\ndeck = base.ini\n[sweep]\n", "unknown section [sweep]"),
    ("[scan]\ndeck = base.ini\n[vary]\nkappa = 0.1\n", "'kappa' is not a deck key"),
    ("[scan]\ndeck = base.ini\n[vary]\noutput.file = a.h5 b.h5\n", "set by the scan"),
    ("[scan]\ndeck = base.ini\n[set]\nrun.seed = 1\n[vary]\nrun.seed = 2 3\n",
     "run.seed is also given in [set]"),
    ("[scan]\ndeck = base.ini\n[zip]\nrun.seed = 1 2\nlattice.dims = 4 4 | 6 6 | 8 8\n",
     "equal numbers of values, got run.seed 2, lattice.dims 3"),
    ("[scan]\ndeck = base.ini\n[vary]\nrun.seed = 1 1\n", "get the same name"),
    ("[scan]\ndeck = base.ini\n[vary\n", "not a scan file"),
])
def test_bad_scan_files(tmp_path, text, message):
    path = write_scan(tmp_path, text)
    with pytest.raises(ScanError, match=re.escape(message)):
        expand(read_scan_file(str(path)))


def _plan(tmp_path, text, **deck):
    path = write_scan(tmp_path, text, deck)
    before = sorted(p.name for p in tmp_path.iterdir())
    r = scan(["plan", path.name], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "plan wrote files"
    return r


def test_plan_lists_every_point(tmp_path):
    r = _plan(tmp_path, "[scan]\ndeck = base.ini\nranks = 2\n"
              "[vary]\naction.kappa = 0.30:0.32:0.01\nrun.seed = 1 2\n")
    assert r.returncode == EXIT_OK, describe(r)
    assert "6 points (3 action.kappa x 2 run.seed)" in r.stdout
    for name in ("kappa0.30_seed1", "kappa0.31_seed2", "kappa0.32_seed1"):
        assert name in r.stdout


@pytest.mark.parametrize("vary, message", [
    # A value the deck refuses: latdiff's own line, with the point.
    ("action.kappa = 0.30 abc", "point kappaabc: action.kappa: expected a real number"),
    ("action.lambda = 0.5 -1", "point lambda-1: action.lambda:"),
    ("sampler.typ = hmc", "sampler.typ"),
    ("run.seed = 1 2\n[set]\nlattice.procs = 2 1",
     "lattice.procs = 2 1 needs 2 ranks, the scan runs 1"),
])
def test_plan_refuses_what_the_deck_refuses(tmp_path, vary, message):
    r = _plan(tmp_path, f"[scan]\ndeck = base.ini\n[vary]\n{vary}\n")
    assert r.returncode == EXIT_BAD_INPUT, describe(r)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jobs/scan: error: "), describe(r)
    assert message in lines[0], describe(r)


def test_plan_refuses_a_missing_base_deck(tmp_path):
    r = _plan(tmp_path, "[scan]\ndeck = nowhere.ini\n")
    assert r.returncode == EXIT_BAD_INPUT and "deck: no such file" in r.stderr, describe(r)
