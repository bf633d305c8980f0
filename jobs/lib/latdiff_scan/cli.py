"""jobs/scan: the command line (plan, submit, status; the SLURM array task's own `task`).

Exit codes: 0 done (submit: every point done, or the array submitted); 1 a point failed or
a file could not be written; 2 bad input (one line on stderr naming the file or key); 3 stopped
by a signal (every running point checkpointed; submit again to continue); 4 another submit is
using the scan directory.
"""

import argparse
import json
import os
import sys
from typing import List, Optional

from . import slurm
from .errors import ScanError
from .layout import ScanDir, create, open_scan_dir, submit_lock
from .point_state import DONE, FAILED, RUNNING, STATES, point_status
from .points import expand, resolve
from .runner import ROOT, run_points
from .scan_file import OPTIONS, read_scan_file, resolve_options

PROG = "jobs/scan"
EXIT_OK, EXIT_FAILED, EXIT_STOPPED = 0, 1, 3
OPTION_FLAGS = ("ranks", "runner", "concurrency", "points_per_task", "time", "partition",
                "account", "signal_seconds")

DESCRIPTION = """\
Parameter scans of latdiff. A scan file names a base deck and per-key values (README,
"Parameter scans"); every combination is a point with its own resolved deck and files.
  plan SCANFILE             validate every point with latdiff and list them; runs nothing
  submit SCANFILE|SCANDIR   write the scan directory (or extend it) and run what is unfinished:
                            here (runner = local) or as an sbatch job array (runner = slurm)
  status SCANFILE|SCANDIR   done / running / resumable / failed / pending of every point,
                            read from its output, checkpoint and lock files"""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise ScanError(f"arguments: {message}")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description=DESCRIPTION,
                formatter_class=argparse.RawDescriptionHelpFormatter,
                epilog="exit codes: 0 done, 1 a point failed, 2 bad input, 3 stopped by a "
                       "signal (submit again to continue), 4 another submit uses the directory")
    p.add_argument("command", choices=("plan", "submit", "status", "task"))
    p.add_argument("target", metavar="SCANFILE|SCANDIR")
    p.add_argument("task_args", nargs="*", help=argparse.SUPPRESS)
    p.add_argument("--dir", help="scan directory (default: ./NAME for scan file NAME.ini)")
    p.add_argument("--latdiff", help="latdiff binary (default: $LATDIFF, else build/latdiff)")
    p.add_argument("--json", action="store_true", help="status: print JSON")
    p.add_argument("--local", dest="runner", action="store_const", const="local",
                   help="run on this machine (runner = local)")
    p.add_argument("--slurm", dest="runner", action="store_const", const="slurm",
                   help="submit an sbatch job array (runner = slurm)")
    for name in OPTION_FLAGS:
        if name != "runner":
            p.add_argument("--" + name.replace("_", "-"), dest=name, help=OPTIONS[name][2])
    return p


def _default_dir(scan_file: str) -> str:
    stem = os.path.splitext(os.path.basename(scan_file))[0]
    return os.path.abspath(stem)


def _latdiff(args) -> str:
    path = args.latdiff or os.environ.get("LATDIFF") or os.path.join(ROOT, "build", "latdiff")
    if not os.access(path, os.X_OK):
        raise ScanError(f"{path}: no latdiff binary there (--latdiff or $LATDIFF)")
    return os.path.abspath(path)


def _overrides(args) -> dict:
    return {name: getattr(args, name) for name in OPTION_FLAGS
            if getattr(args, name) is not None}


def _plan(args):
    spec = read_scan_file(args.target, _overrides(args))
    if not os.path.isfile(spec.base_deck):
        raise ScanError(f"{args.target}[scan]: deck: no such file {spec.base_deck}")
    points = expand(spec)
    decks = resolve(spec, points, _latdiff(args))
    return spec, points, decks


def _print_plan(spec, points) -> None:
    shape = " x ".join(f"{len(a.values)} {'+'.join(a.keys)}" for a in spec.axes) or "1"
    print(f"{spec.path}: {len(points)} points ({shape}), base deck {spec.base_deck}, "
          f"{spec.options['ranks']} ranks each, runner {spec.options['runner']}")
    keys = [k for a in spec.axes for k in a.keys]
    rows = [["point"] + keys] + [[p.name] + [p.values[k] for k in keys] for p in points]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def _open_target(args, write: bool) -> ScanDir:
    """The scan directory of the target: a directory as it is, or a scan file's directory
    (planned, and with `write` created or extended)."""
    if os.path.isdir(args.target):
        scan = open_scan_dir(args.target)
        if args.latdiff:
            scan.index["latdiff"] = _latdiff(args)
        saved = {k: str(v) for k, v in scan.options.items()}
        scan.index["options"] = resolve_options(saved, args.target, _overrides(args))
        return scan
    directory = args.dir or _default_dir(args.target)
    if not write:
        return open_scan_dir(directory)
    spec, points, decks = _plan(args)
    return create(directory, spec.text, spec.path, spec.options, _latdiff(args),
                  [list(a.keys) for a in spec.axes], points, decks)


def _report(name: str, message: str) -> None:
    print(f"{PROG}: {name}: {message}", flush=True)


def _submit(args) -> int:
    target_dir = os.path.isdir(args.target)
    root = args.target if target_dir else (args.dir or _default_dir(args.target))
    if target_dir:
        open_scan_dir(root)  # refused before anything is created in it
    with submit_lock(root):
        return _submit_locked(args)


def _submit_locked(args) -> int:
    scan = _open_target(args, write=True)
    scan.save_index()
    statuses = {p.name: point_status(p) for p in scan.points()}
    queued = slurm.queued_points(scan)
    todo = [p for p in scan.points()
            if statuses[p.name].state not in (DONE, RUNNING) and p.name not in queued]
    skipped = len(scan.points()) - len(todo)
    print(f"{PROG}: {scan.root}: {len(todo)} points to run, {skipped} done, running or queued")
    if not todo:
        return EXIT_OK
    if scan.options["runner"] == "slurm":
        job = slurm.submit(scan, todo)
        print(f"{PROG}: submitted job array {job} ({slurm.task_count(scan, todo)} tasks)")
        return EXIT_OK
    outcome = run_points(todo, scan.latdiff, scan.options["ranks"],
                         scan.options["concurrency"], _report)
    states = [point_status(p).state for p in todo]
    if outcome.signal is not None:
        return EXIT_STOPPED
    return EXIT_FAILED if any(s != DONE for s in states) else EXIT_OK


def _status(args) -> int:
    scan = _open_target(args, write=False)
    queued = slurm.queued_points(scan)
    rows = []
    for p in scan.points():
        s = point_status(p)
        detail = s.detail
        if p.name in queued and s.state not in (DONE, RUNNING):
            detail = "; ".join(x for x in (detail, f"queued: {queued[p.name]}") if x)
        rows.append({"point": p.name, "state": s.state, "updates_done": s.updates_done,
                     "total_updates": p.total_updates, "detail": detail,
                     "output": os.path.relpath(p.output, scan.root)})
    if args.json:
        print(json.dumps({"scan_dir": scan.root, "points": rows}, indent=1))
        return EXIT_OK
    counts = {state: sum(r["state"] == state for r in rows) for state in STATES}
    print(f"{scan.root}: " + ", ".join(f"{n} {state}" for state, n in counts.items()))
    width = max(len(r["point"]) for r in rows) if rows else 5
    for r in rows:
        done = "-" if r["updates_done"] is None else str(r["updates_done"])
        line = f"  {r['point'].ljust(width)}  {r['state']:<9}  {done:>8}/{r['total_updates']}"
        print((line + ("  " + r["detail"] if r["detail"] else "")).rstrip())
    return EXIT_FAILED if counts[FAILED] else EXIT_OK


def main(argv: Optional[List[str]] = None) -> int:
    try:
        args = _parser().parse_args(argv)
        if args.command == "plan":
            spec, points, _ = _plan(args)
            _print_plan(spec, points)
            return EXIT_OK
        if args.command == "submit":
            return _submit(args)
        if args.command == "status":
            return _status(args)
        return slurm.run_task(open_scan_dir(args.target), args.task_args, _report)
    except BrokenPipeError:
        # The reader of the table went away (| head): not an error of the scan.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except ScanError as e:  # 2 bad input, 1 a file not written, 4 busy (errors.py)
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return e.exit_code
