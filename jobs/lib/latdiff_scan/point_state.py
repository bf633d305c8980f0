"""The state of a scan point, decided from its files (the scheduler's view is added by the
caller):

    done       the checkpoint records all run.thermalize + run.updates updates, and the output
               file exists
    running    latdiff holds the point's lock (flock on <output>.lock, seen in /proc/locks on
               this host; on another host, the lock file names it, the last attempt has not
               ended and its SLURM job, if any, is not known to have ended), or the last
               attempt has not ended and the jobs/scan process that started it still lives
               on this host (latdiff is starting and has no lock yet)
    failed     the last attempt ended with one of latdiff's error codes (1 runtime failure,
               2 bad input, 4 files in use), not after a stop signal; the first error line
               of its log is the detail
    resumable  started but unfinished: stopped by a signal (exit 3), killed, or its launcher
               died; a rerun continues from the checkpoint (or starts afresh without one)
    pending    never started
"""

import os
import socket
from dataclasses import dataclass
from typing import List, Optional

from .errors import ScanError
from .layout import PointFiles, read_attempts
from .scheduler import job_active

DONE, RUNNING, FAILED, RESUMABLE, PENDING = "done", "running", "failed", "resumable", "pending"
STATES = (DONE, RUNNING, RESUMABLE, FAILED, PENDING)
LATDIFF_ERRORS = {1: "runtime failure", 2: "bad input", 4: "files in use by another run"}


@dataclass
class PointStatus:
    state: str
    updates_done: Optional[int]   # from the checkpoint; None without one
    detail: str = ""


def checkpoint_updates(path: str) -> Optional[int]:
    """updates_done of a latdiff checkpoint, None when there is none or it is unreadable."""
    if not os.path.exists(path):
        return None
    try:
        import h5py
    except ImportError:
        raise ScanError("h5py is missing: jobs/scan reads checkpoints with Debian's "
                        "python3-h5py under /usr/bin/python3") from None
    try:
        with h5py.File(path, "r", locking=False) as f:
            return int(f.attrs["updates_done"])
    except (OSError, KeyError, ValueError):
        return None


def _held_locks() -> set:
    """(device, inode) of every flock(2) lock on this host (/proc/locks)."""
    held = set()
    try:
        with open("/proc/locks", encoding="ascii") as f:
            for line in f:
                fields = line.split()
                if len(fields) > 5 and fields[1] == "FLOCK":
                    major, minor, inode = fields[5].split(":")
                    held.add((os.makedev(int(major, 16), int(minor, 16)), int(inode)))
    except OSError:
        pass
    return held


def lock_holder(output: str, attempt_open: bool) -> Optional[str]:
    """The holder of the run lock of `output` as its lock file names it ('host H, pid N, since
    T'), or None. On this host the kernel's lock table decides; a lock file naming another host
    counts while the point's last attempt has not ended (a killed run leaves its lock file)."""
    lock = os.path.realpath(output) + ".lock"
    try:
        st = os.stat(lock)
        with open(lock, encoding="utf-8", errors="replace") as f:
            text = f.read(512).strip()
    except OSError:
        return None
    if (st.st_dev, st.st_ino) in _held_locks():
        return text or "this host"
    here = socket.gethostname()
    if attempt_open and text.startswith("host ") and not text.startswith(f"host {here},"):
        return text
    return None


def _alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except (TypeError, ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def first_error_line(log: str) -> str:
    """The first latdiff error line of the last attempt in a point's run.log."""
    try:
        with open(log, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return ""
    last: List[str] = []
    for line in lines:
        if line.startswith("== attempt "):
            last = []
        else:
            last.append(line)
    errors = [ln for ln in last if "error" in ln.lower()]
    return (errors or [ln for ln in last if ln.strip()] or [""])[0].strip()


def point_status(files: PointFiles) -> PointStatus:
    done = checkpoint_updates(files.checkpoint)
    attempts = read_attempts(files)
    last = attempts[-1] if attempts else None
    attempt_open = last is not None and last["event"] == "start"
    holder = lock_holder(files.output, attempt_open)
    stale = ""
    if holder and not holder.startswith(f"host {socket.gethostname()},"):
        # A lock file of another host outlives a hard-killed run (node failure, time limit):
        # the scheduler says whether that attempt's job still lives.
        if last.get("slurm_job") and job_active(last["slurm_job"]) is False:
            stale, holder = f"stale lock file ({holder})", None
    if holder:
        return PointStatus(RUNNING, done, holder)
    if attempt_open and last.get("host") == socket.gethostname() and _alive(last.get("pid")):
        return PointStatus(RUNNING, done, f"starting (jobs/scan pid {last['pid']})")
    if done is not None and done >= files.total_updates and os.path.exists(files.output):
        return PointStatus(DONE, done)
    if (last is not None and last["event"] == "exit" and last.get("code") in LATDIFF_ERRORS
            and not last.get("stopped_by")):
        code = last["code"]
        line = first_error_line(files.log)
        return PointStatus(FAILED, done, f"exit {code} ({LATDIFF_ERRORS[code]}): {line}")
    if attempts or done is not None:
        how = "no checkpoint yet" if done is None else f"{done} of {files.total_updates} updates"
        how += f", {stale}" if stale else ""
        if last is not None and last["event"] == "exit":
            how += f", last exit {last['code']}"
            how += f" after {last['stopped_by']}" if last.get("stopped_by") else ""
        return PointStatus(RESUMABLE, done, how)
    return PointStatus(PENDING, None)
