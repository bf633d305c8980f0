"""latdiff-analyze SCANDIR on a small scan run by jobs/scan: per size the observables against
the coupling (a key zipped with the size, here run.thermalize, is not a second coupling), the
seeds of a point combined as replicas (the same numbers as --replicas on those files),
crossings and collapses in the JSON, plots of the scan and of every file, and bad requests
refused with one line."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, analyze, analyze_json, latdiff_binary

SCAN_FILE = """[scan]
deck = base.ini
concurrency = 2
[zip volume]
lattice.dims = 4 4 | 8 8
run.thermalize = 100 | 150
[vary]
action.kappa = 0.30:0.40:0.05
run.seed = 1 2
"""

BASE = """[lattice]
dims = 4 4
[action]
kappa = 0.3
lambda = 0.5
[sampler]
md_steps = 5
[run]
thermalize = 100
updates = 3000
[output]
progress_interval = 0
correlators = block
block_measurements = 50
coarse = true
"""


@pytest.fixture(scope="module")
def scan_dir(tmp_path_factory):
    binary = latdiff_binary()
    if binary is None:
        pytest.skip("no latdiff binary; set LATDIFF")
    d = tmp_path_factory.mktemp("scan")
    (d / "base.ini").write_text(BASE)
    (d / "kappa.ini").write_text(SCAN_FILE)
    r = subprocess.run([str(ROOT / "jobs" / "scan"), "submit", "kappa.ini"], cwd=d,
                       capture_output=True, text=True, timeout=300,
                       env={**os.environ, "LATDIFF": binary})
    assert r.returncode == 0, r.stdout + r.stderr
    return d / "kappa"


def test_scan_tables_replicas_and_crossings(scan_dir, tmp_path):
    doc = analyze_json(tmp_path, scan_dir, "--plots", tmp_path / "plots")
    assert doc["coupling"] == "action.kappa"
    assert sorted(doc["sizes"]) == ["4x4", "8x8"]
    for rows in doc["sizes"].values():
        assert [r["coupling"] for r in rows] == [0.3, 0.35, 0.4]
        for r in rows:
            assert len(r["points"]) == 2  # seeds 1 and 2 combined
            assert r["binder"]["error"] > 0 and r["chi"]["value"] > 0
    # The replica combination is that of --replicas on the same two files.
    files = sorted(str(p) for p in scan_dir.glob("dims8x8_kappa0.35_seed*/*.h5")
                   if not p.name.endswith("ckpt.h5"))
    single = analyze_json(tmp_path, *files, "--replicas")
    binder = single["analyses"][0]["observables"]["binder"]
    row = doc["sizes"]["8x8"][1]
    assert row["binder"]["value"] == pytest.approx(binder["value"], rel=1e-12)
    assert row["binder"]["error"] == pytest.approx(binder["error"], rel=1e-12)
    for c in doc["crossings"]:
        assert c["sizes"] == [4, 8] and 0.3 <= c["coupling"] <= 0.4 and c["error"] > 0
        assert c["reweighted"] == (c["observable"] == "binder")
    assert [c["observable"] for c in doc["collapses"]] == ["binder", "chi"]
    plots = tmp_path / "plots"
    for name in ("scan_binder.png", "scan_xi2_over_L.png", "scan_chi.png", "scan_abs_mag.png"):
        assert (plots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert len(list((plots / "points").glob("*_history.png"))) == 12


def test_table_on_stdout(scan_dir):
    r = analyze(scan_dir)
    assert r.returncode == 0, r.stderr
    assert "coupling action.kappa, sizes 4x4, 8x8, 6 points (12 files)" in r.stdout
    assert "L = 8x8" in r.stdout and "collapse of binder" in r.stdout


@pytest.mark.parametrize("args, message", [
    (["--coupling", "run.seed"], "--coupling: run.seed is not a scanned key"),
    (["--replicas"], "--replicas: not for a scan directory"),
    (["extra.h5"], "a scan directory is analysed on its own"),
    (["--nu", "0"], "--nu: '0.0' is not allowed"),
    (["--critical", "nan"], "--critical: 'nan' is not allowed"),
])
def test_bad_scan_requests(scan_dir, tmp_path, args, message):
    r = analyze(scan_dir, *args, "--json", tmp_path / "out.json")
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.count("\n") == 1 and message in r.stderr, r.stderr
    assert not (tmp_path / "out.json").exists()


def test_outputs_may_not_replace_scan_files(scan_dir):
    r = analyze(scan_dir, "--json", scan_dir / "index.json")
    assert r.returncode == 2 and "is an input file" in r.stderr, r.stderr


def test_a_damaged_point_is_left_out_with_a_note(scan_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(scan_dir, copy)
    damaged = copy / "dims4x4_kappa0.35_seed1" / "dims4x4_kappa0.35_seed1.h5"
    damaged.write_bytes(b"not hdf5")
    r = analyze(copy)
    assert r.returncode == 0, r.stderr
    assert "note: dims4x4_kappa0.35_seed1: left out" in r.stdout, r.stdout


def test_two_scanned_couplings_need_a_choice(tmp_path):
    d = tmp_path / "two"
    d.mkdir()
    (d / "index.json").write_text(json.dumps({
        "points": [], "options": {}, "latdiff": "", "scanned_keys":
        ["action.kappa", "action.lambda"]}))
    r = analyze(d)
    assert r.returncode == 2 and "name the coupling to analyse with --coupling" in r.stderr, \
        r.stderr
    r = analyze(d, "--coupling", "action.kappa")
    assert r.returncode == 2 and "scans action.lambda besides action.kappa" in r.stderr, r.stderr
