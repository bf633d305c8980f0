"""jobs/scan through a real SLURM (a private single-node cluster, slurm_cluster.py): a job
array whose time limit sends the checkpoint signal and continues the task in a new job, an
scancel of one task followed by submit again, and every point's output bitwise the chain of an
uninterrupted local run. slurmctld enforces time limits every 30 s or so, so one point is made
(by calibration runs) to need about 40 s: longer than any first segment of a --time=1 task
with --signal=B:USR1@45, which therefore always ends in a continuation."""

import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import EXIT_OK, app, describe, scan, write_scan
from slurm_cluster import SlurmCluster, slurm_available

LONG_POINT_SECONDS = 40
DECK = {"lattice": {"dims": "16 16"}, "sampler": {"md_steps": "10"},
        "run": {"thermalize": "0", "measure_every": "10"},
        "output": {"checkpoint_every": "500", "save_every": "0"}}


def _updates_per_second(tmp_path):
    """One-rank HMC updates per second of DECK on this machine: from two runs of different
    lengths, so that start-up and the final checkpoint's sync do not count."""
    seconds = {}
    for updates in (3000, 15000):
        probe = tmp_path / f"probe{updates}"
        probe.mkdir()
        sections = {"lattice": {"dims": "16 16"}, "action": {"kappa": "0.3", "lambda": "0.5"},
                    "sampler": {"md_steps": "10"},
                    "run": {"updates": str(updates), "measure_every": "10"},
                    "output": {"progress_interval": "0"}}
        app.write_deck(probe / "probe.ini", sections)
        summary = app.Latdiff(probe).ok(["probe.ini"]).stdout
        found = re.search(rf"this run +{updates} updates in ([0-9.e+-]+) s", summary)
        assert found, summary
        seconds[updates] = float(found.group(1))
    return 12000 / max(seconds[15000] - seconds[3000], 1e-3)


@pytest.fixture
def cluster(tmp_path):
    ok, reason = slurm_available()
    if not ok and os.geteuid() != 0:
        pytest.skip(f"no private SLURM cluster: {reason}")
    assert ok, f"SLURM is needed (tests/run installs it): {reason}"
    with SlurmCluster(tmp_path / "cluster") as c:
        yield c


def _status(scan_dir, env):
    r = scan(["status", scan_dir, "--json"], scan_dir.parent, env=env)
    assert r.returncode in (0, 1), describe(r)
    return {p["point"]: p for p in json.loads(r.stdout)["points"]}


def _attempts(scan_dir, name):
    lines = (scan_dir / name / "attempts.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_job_array_time_limit_continuation_and_scancel(tmp_path, cluster):
    long_updates = int(LONG_POINT_SECONDS * _updates_per_second(tmp_path))
    # Tasks: [seed2, seed3] (two short points packed) and [seed1] (the long one).
    path = write_scan(tmp_path, "[scan]\ndeck = base.ini\nrunner = slurm\nranks = 1\n"
                      "time = 1\nsignal_seconds = 45\npoints_per_task = 2\n"
                      f"[zip]\nrun.seed = 2 | 3 | 1\nrun.updates = 4000 | 4000 | {long_updates}\n",
                      DECK)
    env = cluster.env()
    scan_dir = tmp_path / "scan"
    r = scan(["submit", path.name], tmp_path, env=env)
    assert r.returncode == EXIT_OK, describe(r)
    assert "submitted job array" in r.stdout and "(2 tasks)" in r.stdout, describe(r)
    assert json.loads((scan_dir / "slurm" / "submission-0.json").read_text())["tasks"] == [
        ["seed2", "seed3"], ["seed1"]]
    assert "#SBATCH --array=0-1" in (scan_dir / "slurm" / "array-0.sh").read_text()
    options = json.loads((scan_dir / "slurm" / "submission-0.json").read_text())["sbatch"]
    for option in ("--time=1", "--signal=B:USR1@45", "--ntasks=1", "--open-mode=append"):
        assert option in options, options
    first_job = json.loads((scan_dir / "slurm" / "jobs.jsonl").read_text().splitlines()[0])["job"]

    # scancel of the packed task once its first point has a checkpoint: not continued.
    cluster.wait_for(lambda: (scan_dir / "seed2" / "seed2.ckpt.h5").exists(), 60,
                     interval=0.05, what="a checkpoint of seed2")
    subprocess.run(["scancel", f"{first_job}_0"], env=env, check=True)
    # (COMPLETING, while the cancelled task's processes end, still counts as queued.)
    cluster.wait_for(lambda: _status(scan_dir, env)["seed2"]["state"] == "resumable" and
                     "queued" not in _status(scan_dir, env)["seed2"]["detail"], 60,
                     what="seed2 resumable and no longer queued after scancel")
    states = _status(scan_dir, env)
    assert (states["seed1"]["state"], states["seed3"]["state"]) == ("running", "pending")

    # submit again runs what is unfinished and not queued, seed2 and seed3, in one task.
    r = scan(["submit", "scan"], tmp_path, env=env)
    assert r.returncode == EXIT_OK, describe(r)
    assert "2 points to run, 1 done, running or queued" in r.stdout, describe(r)
    assert "(1 tasks)" in r.stdout, describe(r)

    cluster.wait_for(lambda: {s["state"] for s in _status(scan_dir, env).values()} == {"done"},
                     150, interval=1.0, what="every point done")
    # seed1 was stopped by its time limit (exit 3) and finished in a continuation job.
    attempts = _attempts(scan_dir, "seed1")
    jobs = [a["slurm_job"] for a in attempts if a["event"] == "start"]
    exits = [a["code"] for a in attempts if a["event"] == "exit"]
    assert len(set(jobs)) >= 2 and exits[0] == 3 and exits[-1] == 0, attempts
    log = "".join(p.read_text() for p in (scan_dir / "slurm").glob("*.out"))
    assert "SIGUSR1: stopping the running points" in log and "continue in job" in log, log

    for name in ("seed1", "seed2", "seed3"):
        direct = tmp_path / "direct" / name
        direct.mkdir(parents=True)
        shutil.copy(scan_dir / name / "deck.ini", direct / "deck.ini")
        app.Latdiff(direct).ok(["deck.ini"], timeout=200)
        app.assert_same_chain(app.read_output(scan_dir / name / f"{name}.h5"),
                              app.read_output(direct / f"{name}.h5"), name)
