"""Bad input to latdiff-analyze: exit 2, one line 'latdiff-analyze: error: <where>: <what>'
on stderr, no traceback, nothing on stdout and no --json/--csv file (not even a temporary)."""

import h5py
import numpy as np
import pytest

from conftest import analyze, fake_run


def series(n=200, seed=0):
    return np.random.default_rng(seed).normal(0.3, 0.1, n)


def assert_refused(tmp_path, args, where, what):
    json_out, csv_out = tmp_path / "out.json", tmp_path / "out.csv"
    before = set(tmp_path.iterdir())
    r = analyze(*args, "--json", json_out, "--csv", csv_out, cwd=tmp_path)
    assert r.returncode == 2, r
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"latdiff-analyze: error: {where}: "), r.stderr
    assert what in lines[0], r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert set(tmp_path.iterdir()) == before, "an output file was left"


def test_a_path_that_is_not_hdf5(tmp_path):
    deck = tmp_path / "deck.ini"
    deck.write_text("[lattice]\ndims = 4 4\n")
    assert_refused(tmp_path, [deck], str(deck), "not an HDF5 file")


def test_a_missing_path_and_a_directory(tmp_path):
    assert_refused(tmp_path, [tmp_path / "none.h5"], str(tmp_path / "none.h5"), "no such file")
    (tmp_path / "dir.h5").mkdir()
    assert_refused(tmp_path, [tmp_path / "dir.h5"], str(tmp_path / "dir.h5"),
                   "not a regular file")


def test_hdf5_without_deck_attribute(tmp_path):
    path = fake_run(tmp_path / "nodeck.h5", series(), deck=False)
    assert_refused(tmp_path, [path], str(path), "no root attribute 'deck'")


def test_hdf5_without_magnetisation(tmp_path):
    path = tmp_path / "nomag.h5"
    with h5py.File(path, "w") as f:
        f.attrs["deck"] = "[lattice]\ndims = 4 4\n"
        f["observables/phi2"] = np.ones(10)
    assert_refused(tmp_path, [path], str(path), "no dataset /observables/mag")


def test_an_empty_run(tmp_path):
    path = fake_run(tmp_path / "one.h5", series(1))
    assert_refused(tmp_path, [path], str(path), "need at least 2")
    path = fake_run(tmp_path / "ten.h5", series(10))
    assert_refused(tmp_path, [path, "--thermalize", "9"], str(path), "1 left after")


@pytest.mark.parametrize("value", ["abc", "-3", "1.5", "", "1e3"])
def test_a_nonsense_thermalize(tmp_path, value):
    path = fake_run(tmp_path / "ok.h5", series())
    assert_refused(tmp_path, [path, f"--thermalize={value}"], "--thermalize",
                   "an integer >= 0) or auto")


def test_replicas_of_different_points_or_the_same_seed(tmp_path):
    a = fake_run(tmp_path / "a.h5", series(seed=1), kappa=0.1, seed=1)
    b = fake_run(tmp_path / "b.h5", series(seed=2), kappa=0.2, seed=2)
    c = fake_run(tmp_path / "c.h5", series(seed=3), kappa=0.1, seed=1)
    assert_refused(tmp_path, [a, b, "--replicas"], "--replicas", "action.kappa")
    assert_refused(tmp_path, [a, c, "--replicas"], "--replicas", "same run.seed")
    assert_refused(tmp_path, [a, a, "--replicas"], "--replicas", "given twice")
    # Without --replicas different points are simply analysed one by one.
    r = analyze(a, b)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("measurements") == 2


def test_one_bad_file_among_good_ones_writes_nothing(tmp_path):
    good = fake_run(tmp_path / "good.h5", series())
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n but truncated")
    assert_refused(tmp_path, [good, bad], str(bad), "HDF5")


def test_bad_options(tmp_path):
    path = fake_run(tmp_path / "ok.h5", series())
    assert_refused(tmp_path, [path, "--frobnicate"], "arguments", "--frobnicate")
    assert_refused(tmp_path, [], "arguments", "required")
    r = analyze(path, "--json", tmp_path / "missing" / "x.json")
    assert r.returncode == 2 and r.stderr.startswith("latdiff-analyze: error: --json: ")
    assert len(r.stderr.splitlines()) == 1
    r = analyze(path, "--csv", path)
    assert r.returncode == 2 and "is an input file" in r.stderr
    assert h5py.is_hdf5(path)


def test_outputs_are_complete_when_it_succeeds(tmp_path):
    path = fake_run(tmp_path / "ok.h5", series())
    r = analyze(path, "--json", tmp_path / "o.json", "--csv", tmp_path / "o.csv")
    assert r.returncode == 0 and r.stderr == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.csv", "o.json", "ok.h5"]
