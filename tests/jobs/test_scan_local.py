"""jobs/scan submit and status on this machine: every point's output is bitwise the chain of a
direct latdiff run of its resolved deck, also after a stop signal, a kill -9 of the scan alone
and of everything, followed by submit again; a failing point is reported with its error line;
a changed scan is refused."""

import json
import os
import shutil
import signal
import time
from pathlib import Path

from conftest import (EXIT_BAD_INPUT, EXIT_BUSY, EXIT_FAILED, EXIT_OK, EXIT_STOPPED, app,
                      describe, scan, start_scan, write_scan)


def _status(scan_dir):
    r = scan(["status", scan_dir, "--json"], scan_dir.parent)
    assert r.returncode in (EXIT_OK, EXIT_FAILED), describe(r)
    return {p["point"]: p for p in json.loads(r.stdout)["points"]}


def _assert_direct_runs_match(scan_dir, tmp_path):
    """Each point's output equals a one-rank run of its deck.ini in a fresh directory."""
    index = json.loads((scan_dir / "index.json").read_text())
    for point in index["points"]:
        direct = tmp_path / "direct" / point["name"]
        direct.mkdir(parents=True)
        shutil.copy(scan_dir / point["deck"], direct / "deck.ini")
        app.Latdiff(direct).ok(["deck.ini"])
        output = Path(point["output"]).name
        app.assert_same_chain(app.read_output(scan_dir / point["output"]),
                              app.read_output(direct / output), point["name"])


def test_local_scan_runs_matches_and_extends(tmp_path):
    text = ("[scan]\ndeck = base.ini\nranks = 2\nconcurrency = 2\n"
            "[vary]\naction.kappa = 0.28:0.30:0.02\n")
    path = write_scan(tmp_path, text)
    r = scan(["submit", path.name], tmp_path)
    assert r.returncode == EXIT_OK, describe(r)
    scan_dir = tmp_path / "scan"
    index = json.loads((scan_dir / "index.json").read_text())
    assert [(p["name"], p["deck"], p["output"]) for p in index["points"]] == [
        ("kappa0.28", "kappa0.28/deck.ini", "kappa0.28/kappa0.28.h5"),
        ("kappa0.30", "kappa0.30/deck.ini", "kappa0.30/kappa0.30.h5")]
    csv_lines = (scan_dir / "index.csv").read_text().splitlines()
    assert csv_lines[0] == "point,action.kappa,deck,output,checkpoint"
    assert csv_lines[1].startswith("kappa0.28,0.28,kappa0.28/deck.ini,")
    assert app.deck_attr(scan_dir / "kappa0.30" / "kappa0.30.h5")["action"]["kappa"] == "0.3"
    assert {p: s["state"] for p, s in _status(scan_dir).items()} == {
        "kappa0.28": "done", "kappa0.30": "done"}
    _assert_direct_runs_match(scan_dir, tmp_path)

    # Submitting again runs nothing; a scan extended by one value runs only the new point.
    stamp = (scan_dir / "kappa0.28" / "kappa0.28.h5").stat().st_mtime_ns
    path.write_text(text.replace("0.28:0.30:0.02", "0.28:0.32:0.02"))
    r = scan(["submit", path.name], tmp_path)
    assert r.returncode == EXIT_OK, describe(r)
    assert "1 points to run, 2 done" in r.stdout, describe(r)
    assert (scan_dir / "kappa0.28" / "kappa0.28.h5").stat().st_mtime_ns == stamp
    assert _status(scan_dir)["kappa0.32"]["state"] == "done"
    r = scan(["submit", "scan"], tmp_path)  # the directory itself
    assert r.returncode == EXIT_OK and "0 points to run" in r.stdout, describe(r)


def test_changed_scan_is_refused(tmp_path):
    path = write_scan(tmp_path, "[scan]\ndeck = base.ini\n[vary]\nrun.seed = 1 2\n")
    assert scan(["submit", path.name], tmp_path).returncode == EXIT_OK
    before = app.read_everything(tmp_path / "scan" / "seed1" / "seed1.h5")
    write_scan(tmp_path, path.read_text(), {"run": {"updates": "300"}})
    r = scan(["submit", path.name], tmp_path)
    assert r.returncode == EXIT_BAD_INPUT, describe(r)
    assert "seed1/deck.ini: the scan changed this point (run.updates = 200 there, 300 now)" \
        in r.stderr, describe(r)
    app.assert_same_file(before, app.read_everything(tmp_path / "scan" / "seed1" / "seed1.h5"))


def test_damaged_index_is_refused_with_one_line(tmp_path):
    path = write_scan(tmp_path, "[scan]\ndeck = base.ini\n[vary]\nrun.seed = 1 2\n")
    assert scan(["submit", path.name], tmp_path).returncode == EXIT_OK
    index = tmp_path / "scan" / "index.json"
    for damage in ('{"points": [{"name": "seed1"}], "options": {}, "latdiff": "", '
                   '"scanned_keys": []}', "[1, 2]", "{"):
        index.write_text(damage)
        for command in ("status", "submit"):
            r = scan([command, "scan"], tmp_path)
            assert r.returncode == EXIT_BAD_INPUT, describe(r)
            lines = r.stderr.strip().splitlines()
            assert len(lines) == 1 and "not a scan directory" in lines[0], describe(r)


def test_failed_point_is_reported_with_its_error(tmp_path):
    path = write_scan(tmp_path, "[scan]\ndeck = base.ini\n[vary]\nrun.start = cold gone.h5\n")
    r = scan(["submit", path.name], tmp_path)
    assert r.returncode == EXIT_FAILED, describe(r)
    states = _status(tmp_path / "scan")
    assert states["startcold"]["state"] == "done"
    failed = states["startgone.h5"]
    assert failed["state"] == "failed", failed
    assert failed["detail"].startswith("exit 2 (bad input): latdiff: error: run.start"), failed
    r = scan(["status", "scan"], tmp_path)
    assert r.returncode == EXIT_FAILED and "1 done, 0 running, 0 resumable, 1 failed" in r.stdout


def test_full_disk_then_submit_again(tmp_path, small_disk):
    """A disk that fills while the scan directory is written: exit 1 and one line naming the
    file, no temporary file left; with space again, submit finishes the same scan."""
    disk, resize = small_disk
    path = write_scan(tmp_path, "[scan]\ndeck = base.ini\n[vary]\nrun.seed = 1 2 3\n")
    resize("4k")  # one page: the first deck fits, the second does not
    r = scan(["submit", path, "--dir", disk / "scan"], tmp_path)
    assert r.returncode == EXIT_FAILED, describe(r)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot write (No space left on device)" in lines[0], describe(r)
    assert not [p for p in disk.rglob("*") if ".tmp" in p.name], list(disk.rglob("*"))
    resize("2m")
    r = scan(["submit", path, "--dir", disk / "scan"], tmp_path)
    assert r.returncode == EXIT_OK, describe(r)
    assert {s["state"] for s in _status(disk / "scan").values()} == {"done"}
    _assert_direct_runs_match(disk / "scan", tmp_path)


LONG = {"lattice": {"dims": "8 8"}, "run": {"updates": "100000"},
        "output": {"checkpoint_every": "5000", "save_every": "5000"}}


def _wait_for_checkpoints(scan_dir, names, proc, timeout=60):
    paths = [scan_dir / n / f"{n}.ckpt.h5" for n in names]
    assert app.wait_for(lambda: all(p.exists() for p in paths), timeout, proc, poll=0.05), \
        f"no checkpoints: {proc.poll()}"


def test_stop_signal_and_kills_then_submit_again(tmp_path):
    path = write_scan(tmp_path, "[scan]\ndeck = base.ini\nranks = 2\nconcurrency = 2\n"
                      "[vary]\nrun.seed = 1 2 3\n", LONG)
    scan_dir = tmp_path / "scan"
    # SIGTERM (a batch system's stop): every running point checkpoints, exit 3, nothing new.
    proc = start_scan(["submit", path.name], tmp_path)
    _wait_for_checkpoints(scan_dir, ["seed1", "seed2"], proc)
    # A second submit on the same directory meanwhile is refused at once.
    r = scan(["submit", "scan"], tmp_path)
    assert r.returncode == EXIT_BUSY and "another jobs/scan submit" in r.stderr, describe(r)
    time.sleep(0.5)
    assert app.stop(proc, signal.SIGTERM) == EXIT_STOPPED, proc.communicate()
    states = _status(scan_dir)
    assert [states[n]["state"] for n in ("seed1", "seed2", "seed3")] == [
        "resumable", "resumable", "pending"], states
    assert "last exit 3" in states["seed1"]["detail"]
    assert 0 < states["seed1"]["updates_done"] < 100020

    # kill -9 of jobs/scan alone: its points go on running and finish on their own.
    proc = start_scan(["submit", "scan"], tmp_path)
    # Running by its lock, not only by the live jobs/scan that started it.
    assert app.wait_for(lambda: _status(scan_dir)["seed1"]["detail"].startswith("host "), 60,
                        proc)
    proc.kill()
    proc.wait()
    assert _status(scan_dir)["seed1"]["state"] == "running"
    assert app.wait_for(lambda: _status(scan_dir)["seed1"]["state"] == "done", 120, poll=0.2)

    # kill -9 of everything (the scan, mpirun and the ranks): resumable, then finished.
    proc = start_scan(["submit", "scan"], tmp_path)
    _wait_for_checkpoints(scan_dir, ["seed3"], proc)
    _kill_tree(proc.pid)
    proc.wait()
    assert app.wait_for(lambda: _status(scan_dir)["seed3"]["state"] == "resumable", 30)
    r = scan(["submit", "scan"], tmp_path)
    assert r.returncode == EXIT_OK, describe(r)
    assert {s["state"] for s in _status(scan_dir).values()} == {"done"}
    _assert_direct_runs_match(scan_dir, tmp_path)


def _descendants(pid):
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            children += [int(child)] + _descendants(int(child))
    return children


def _kill_tree(pid):
    """SIGKILL to pid and every process below it at once, like a node failure."""
    for p in [pid] + _descendants(pid):
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
