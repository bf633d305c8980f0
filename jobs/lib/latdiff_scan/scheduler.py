"""What the SLURM scheduler says about jobs, read with scontrol (no slurmdbd, so no sacct).
An unknown job (finished and purged after MinJobAge, or no scontrol here) gives nothing."""

import subprocess
from typing import Dict, List, Optional

ACTIVE_STATES = ("PENDING", "RUNNING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED",
                 "CONFIGURING", "COMPLETING", "SUSPENDED", "RESIZING", "SIGNALING", "STAGE_OUT")


def _records(job: str) -> List[Dict[str, str]]:
    try:
        r = subprocess.run(["scontrol", "show", "job", "-o", str(job)], capture_output=True,
                           text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if r.returncode != 0:
        return []
    return [dict(f.split("=", 1) for f in line.split() if "=" in f)
            for line in r.stdout.splitlines()]


def _expand_task_ids(text: str) -> List[int]:
    """ArrayTaskId of scontrol: 3, or 2-5, or 0-7%2, or 1,3-4."""
    ids = []
    for part in text.split("%")[0].split(","):
        lo, _, hi = part.partition("-")
        ids += list(range(int(lo), int(hi or lo) + 1))
    return ids


def array_task_states(job: str) -> Dict[int, str]:
    """{array task id: state} of an array job from `scontrol show job -o`; empty when the
    scheduler does not know the job (any more) or scontrol is missing."""
    states: Dict[int, str] = {}
    for fields in _records(job):
        if "ArrayTaskId" in fields and "JobState" in fields:
            for task in _expand_task_ids(fields["ArrayTaskId"]):
                states[task] = fields["JobState"]
    return states


def job_active(job: str) -> Optional[bool]:
    """Whether a job (or array task, JOB_TASK) is queued or running; None when the scheduler
    cannot say."""
    records = _records(job)
    if not records:
        return None
    return any(rec.get("JobState") in ACTIVE_STATES for rec in records)
