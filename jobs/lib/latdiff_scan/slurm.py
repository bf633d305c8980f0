"""Scans as SLURM job arrays. `submit` packs the points to run into tasks of
points_per_task points, writes slurm/submission-K.json (task -> points) and the array script
slurm/array-K.sh, and submits it with sbatch; slurm/jobs.jsonl records every array job. Each
task runs its points one after another (runner.run_points). sbatch --signal=B:USR1@N tells the
task N seconds before its time limit (slurmctld checks limits every 30 s or so, so it comes up
to 30 s earlier): the running latdiff checkpoints and exits with code 3, and the task submits
itself again (the same script and array index, a new job id, recorded in jobs.jsonl), so that
it continues, as often as needed, until its points are done. Resubmission starts the
continuation within a second or two; a requeue would wait for the credential lifetime
(cred_expire, 120 s by default) first. A continuation that made no progress (the time limit
came before latdiff was up) is resubmitted at most MAX_STALLS times in a row. A task stopped
any other way (scancel: SIGTERM) is not continued; `submit` again runs what is left. The
scheduler's view (scontrol, no slurmdbd needed) only adds "queued" to the states read from
the files.
"""

import glob
import json
import os
import shlex
import signal
import subprocess
import time
from typing import Callable, Dict, List

from .errors import ScanError
from .layout import PointFiles, ScanDir, append_json_line, write_atomically
from .point_state import DONE, FAILED, point_status
from .scheduler import ACTIVE_STATES, array_task_states
from .runner import EXIT_STOPPED, ROOT, run_points

MAX_STALLS = 3
STALLS_VARIABLE = "LATDIFF_SCAN_STALLS"


def task_count(scan: ScanDir, points: List[PointFiles]) -> int:
    per_task = scan.options["points_per_task"]
    return (len(points) + per_task - 1) // per_task


def sbatch_options(scan: ScanDir) -> List[str]:
    """The sbatch options of every array task, given on sbatch's command line (not as #SBATCH
    lines, which break at spaces), with % of the paths escaped from SLURM's file patterns."""
    o = scan.options
    log = os.path.join(scan.root, "slurm").replace("%", "%%") + "/%A_%a.out"
    args = [f"--job-name=latdiff-scan-{os.path.basename(scan.root)}",
            f"--ntasks={o['ranks']}", f"--time={o['time']}",
            f"--signal=B:USR1@{o['signal_seconds']}", f"--output={log}",
            "--open-mode=append", "--requeue"]
    args += [f"--partition={o['partition']}"] if o["partition"] else []
    args += [f"--account={o['account']}"] if o["account"] else []
    return args


def _array_script(scan: ScanDir, submission: str, tasks: int) -> str:
    lines = ["#!/bin/bash", f"#SBATCH --array=0-{tasks - 1}",
             "# The other sbatch options are in slurm/submission-K.json (\"sbatch\"), given on",
             "# sbatch's command line."]
    run = (f"PYTHONPATH={shlex.quote(os.path.join(ROOT, 'jobs', 'lib'))} exec /usr/bin/python3 "
           "-c 'import sys; from latdiff_scan.cli import main; sys.exit(main())' "
           f"task {shlex.quote(scan.root)} {shlex.quote(submission)} "
           '"$SLURM_ARRAY_TASK_ID"')
    return "\n".join(lines + [
        "# A latdiff scan task (jobs/scan): runs this task's points of slurm/submission-K.json;",
        "# python is the batch shell itself (exec), so the B:USR1 signal reaches it.",
        run, ""])


def _sbatch(args: List[str]) -> str:
    try:
        r = subprocess.run(["sbatch", "--parsable"] + args, capture_output=True, text=True,
                           timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ScanError(f"sbatch: cannot run it ({e})") from None
    if r.returncode != 0:
        line = (r.stderr.strip().splitlines() or [f"exit {r.returncode}"])[0]
        raise ScanError(f"sbatch: {line}")
    return r.stdout.strip().split(";")[0]


def submit(scan: ScanDir, points: List[PointFiles]) -> str:
    """Submits the points as one job array and returns its job id."""
    directory = scan.slurm_dir()
    k = len(glob.glob(os.path.join(directory, "submission-*.json")))
    per_task = scan.options["points_per_task"]
    tasks = [[p.name for p in points[i:i + per_task]] for i in range(0, len(points), per_task)]
    submission = os.path.join(directory, f"submission-{k}.json")
    script = os.path.join(directory, f"array-{k}.sh")
    options = sbatch_options(scan)
    write_atomically(submission, json.dumps({"ranks": scan.options["ranks"], "tasks": tasks,
                                             "script": script, "sbatch": options},
                                            indent=1) + "\n")
    write_atomically(script, _array_script(scan, submission, len(tasks)))
    job = _sbatch(options + [script])
    _record_job(scan, job, submission)
    return job


def _record_job(scan: ScanDir, job: str, submission: str) -> None:
    append_json_line(os.path.join(scan.slurm_dir(), "jobs.jsonl"), {
        "job": job, "submission": submission, "time": time.strftime("%Y-%m-%dT%H:%M:%S")})


def queued_points(scan: ScanDir) -> Dict[str, str]:
    """{point name: 'job J_T STATE'} of the points whose array task is still in the queue or
    running, for every array job this scan directory has submitted."""
    path = os.path.join(scan.root, "slurm", "jobs.jsonl")
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return {}
    queued: Dict[str, str] = {}
    for line in lines:
        try:  # a torn last line (a kill while writing) or a lost submission file is skipped
            job = json.loads(line)
            states = array_task_states(str(job["job"]))
            if not states:
                continue
            with open(job["submission"], encoding="utf-8") as f:
                tasks = json.load(f)["tasks"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        for task, state in states.items():
            if state in ACTIVE_STATES and task < len(tasks):
                for name in tasks[task]:
                    queued[name] = f"job {job['job']}_{task} {state}"
    return queued


def run_task(scan: ScanDir, task_args: List[str], report: Callable[[str, str], None]) -> int:
    """The body of one array task: `task SCANDIR SUBMISSION TASK_ID`."""
    try:
        with open(task_args[0], encoding="utf-8") as f:
            submission = json.load(f)
        task = task_args[1]
        names = submission["tasks"][int(task)]
    except (IndexError, OSError, ValueError, KeyError, TypeError) as e:
        raise ScanError(f"task: want SCANDIR SUBMISSION.json TASK_ID of that submission "
                        f"({e})") from None
    points = [scan.point(n) for n in names]
    before = [point_status(p).updates_done for p in points]
    outcome = run_points(points, scan.latdiff, submission["ranks"], 1, report)
    after = [point_status(p) for p in points]
    unfinished = [p.name for p, s in zip(points, after) if s.state not in (DONE, FAILED)]
    if not unfinished:
        return 1 if any(s.state == FAILED for s in after) else 0
    if outcome.signal != signal.SIGUSR1:
        return EXIT_STOPPED
    stalls = int(os.environ.get(STALLS_VARIABLE, "0")) + 1 if before == [
        s.updates_done for s in after] else 0
    if stalls > MAX_STALLS:
        report("scan", f"time limit near, and {stalls} tasks in a row got no point further: "
               "not continued (give the tasks more time)")
        return EXIT_STOPPED
    job = _sbatch(submission["sbatch"] + [f"--array={task}",
                                          f"--export=ALL,{STALLS_VARIABLE}={stalls}",
                                          submission["script"]])
    _record_job(scan, job, task_args[0])
    report("scan", f"time limit near: {', '.join(unfinished)} continue in job {job}_{task}")
    return EXIT_STOPPED
