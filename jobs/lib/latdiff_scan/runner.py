"""Running scan points: each point is `jobs/mpirun-checkpointing -np R latdiff deck.ini` in
the point's directory, with its output appended to run.log and its start and exit recorded in
attempts.jsonl. run_points keeps up to `concurrency` points running; a stop signal (SIGTERM,
SIGINT, SIGHUP, SIGUSR1 — what batch systems and Ctrl-C send) is passed to every running point
as SIGUSR1, so that each checkpoints and exits with code 3, and no further point starts.
Used by `submit` on this machine and by each SLURM array task."""

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

from .errors import ScanWriteError
from .layout import PointFiles, attempt_record, read_attempts
from .point_state import DONE, RUNNING, point_status

# The repository: this file is jobs/lib/latdiff_scan/runner.py.
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
MPIRUN_CHECKPOINTING = os.path.join(ROOT, "jobs", "mpirun-checkpointing")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1)
# A child's wrapper installs its signal traps right after it starts; a signal that came
# earlier is passed on this much later.
SIGNAL_DELAY_S = 1.0
EXIT_STOPPED = 3
EXIT_NOT_STARTED = 127  # recorded when the wrapper could not be started at all


class PointRun:
    """One attempt at one point."""

    def __init__(self, files: PointFiles, latdiff: str, ranks: int):
        self.files = files
        attempt = sum(1 for r in read_attempts(files) if r["event"] == "start") + 1
        env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        env.pop("LATDIFF_TTY", None)
        # The start is recorded first, so that status never sees a started point as pending.
        attempt_record(files, "start", attempt=attempt)
        try:
            with open(files.log, "a", encoding="utf-8") as log:
                log.write(f"== attempt {attempt}, {time.strftime('%Y-%m-%d %H:%M:%S')}, "
                          f"{ranks} ranks, job {os.environ.get('SLURM_JOB_ID', '-')}\n")
                log.flush()
                self.process = subprocess.Popen(
                    [MPIRUN_CHECKPOINTING, "-np", str(ranks), "--oversubscribe", latdiff,
                     "deck.ini"], cwd=files.directory, stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, env=env)
        except OSError as e:
            attempt_record(files, "exit", code=EXIT_NOT_STARTED, stopped_by=None)
            raise ScanWriteError(f"{files.log}: cannot start the point ({e.strerror})") from None
        self.started = time.monotonic()
        self.stop_pending = False
        self.stop_signal: Optional[int] = None

    def request_stop(self, signum: int) -> None:
        """Asks a running attempt to checkpoint and stop; one that has already ended keeps
        its own exit code (a failure stays a failure)."""
        if self.process.poll() is None:
            self.stop_pending = True
            self.stop_signal = self.stop_signal or signum

    def poll(self):
        """The exit code once the attempt has ended (recorded), else None; passes on a
        requested stop once the wrapper is up."""
        if self.stop_pending and time.monotonic() - self.started >= SIGNAL_DELAY_S:
            try:
                self.process.send_signal(signal.SIGUSR1)
            except ProcessLookupError:
                pass
            self.stop_pending = False
        code = self.process.poll()
        if code is not None:
            # A stop signal that reached mpirun itself (scancel signals every process of the
            # job) makes it exit with 1 whatever the ranks did: the attempt was stopped, not
            # failed, and is recorded so.
            stopped = signal.Signals(self.stop_signal).name if self.stop_signal else None
            attempt_record(self.files, "exit", code=code, stopped_by=stopped)
        return code


@dataclass
class Outcome:
    codes: Dict[str, int]   # exit code of every point that ran
    signal: Optional[int]   # the first stop signal that came, None without one


def run_points(points: List[PointFiles], latdiff: str, ranks: int, concurrency: int,
               report: Callable[[str, str], None]) -> Outcome:
    """Runs the points that are not done or running, up to `concurrency` at once.
    report(name, message) tells of starts and ends."""
    running: List[PointRun] = []
    codes: Dict[str, int] = {}
    stopped: List[int] = []

    def on_signal(signum, _frame):
        # No output here: a print interrupted by a signal cannot be re-entered.
        stopped.append(signum)
        for r in running:
            r.request_stop(signum)

    def collect_ended() -> None:
        for r in list(running):
            code = r.poll()
            if code is not None:
                running.remove(r)
                codes[r.files.name] = code
                report(r.files.name, f"exit {code}, {point_status(r.files).state}")

    previous = {s: signal.signal(s, on_signal) for s in STOP_SIGNALS}
    told = False
    try:
        queue = list(points)
        while running or (queue and not stopped):
            if stopped and not told:
                told = True
                report("scan", f"{signal.Signals(stopped[0]).name}: stopping the running "
                       "points (each checkpoints and exits with code 3); no new point starts")
            while queue and not stopped and len(running) < concurrency:
                files = queue.pop(0)
                state = point_status(files).state
                if state in (DONE, RUNNING):
                    report(files.name, f"{state}, skipped")
                    continue
                running.append(PointRun(files, latdiff, ranks))
                if stopped:  # the signal came while it was starting
                    running[-1].request_stop(stopped[0])
                report(files.name, "started")
            collect_ended()
            time.sleep(0.1)
    except BaseException:
        # Nothing is left running unwatched: the points checkpoint and stop first.
        for r in running:
            r.request_stop(signal.SIGTERM)
        while running:
            collect_ended()
            time.sleep(0.1)
        raise
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return Outcome(codes, stopped[0] if stopped else None)
