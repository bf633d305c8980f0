"""The scan directory: what `submit` writes and everything else reads.

    SCANDIR/scan.ini          the scan file as planned
    SCANDIR/index.json        options, latdiff binary, the scanned keys and axes (keys that
                              move together), and every point: name, scanned values, deck,
                              output and checkpoint (paths relative to SCANDIR)
    SCANDIR/index.csv         the same points as a table
    SCANDIR/NAME/deck.ini     the point's resolved deck (latdiff runs in SCANDIR/NAME)
    SCANDIR/NAME/NAME.h5      its output, NAME.ckpt.h5 its checkpoint (from the deck)
    SCANDIR/NAME/run.log      latdiff's output of every attempt, each under a header line
    SCANDIR/NAME/attempts.jsonl  one JSON line per start and per exit of an attempt
    SCANDIR/slurm/            array scripts, submissions and the tasks' logs

Every file is written whole to a temporary name and renamed, so a kill leaves the old or the
new version.
"""

import contextlib
import configparser
import csv
import fcntl
import io
import json
import os
import socket
import time
from dataclasses import dataclass
from typing import Dict, List, Optional

from .errors import ScanBusyError, ScanError, ScanWriteError
from .points import Point, parse_deck_text

INDEX = "index.json"
SUBMIT_LOCK = ".submit.lock"  # flock(2) of a running submit; not part of the scan's contents


def write_atomically(path: str, text: str) -> None:
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise ScanWriteError(f"{path}: cannot write ({e.strerror})") from None


@dataclass
class PointFiles:
    """One point's files, as absolute paths."""
    name: str
    values: Dict[str, str]
    directory: str
    deck: str
    output: str
    checkpoint: str
    total_updates: int       # run.thermalize + run.updates of its deck

    @property
    def log(self) -> str:
        return os.path.join(self.directory, "run.log")

    @property
    def attempts(self) -> str:
        return os.path.join(self.directory, "attempts.jsonl")


class ScanDir:
    """A scan directory with its index (read with open_scan_dir, written by create)."""

    def __init__(self, root: str, index: dict):
        self.root = os.path.abspath(root)
        self.index = index

    @property
    def options(self) -> dict:
        return self.index["options"]

    @property
    def latdiff(self) -> str:
        return self.index["latdiff"]

    def points(self) -> List[PointFiles]:
        return [self._files(p) for p in self.index["points"]]

    def point(self, name: str) -> PointFiles:
        for p in self.index["points"]:
            if p["name"] == name:
                return self._files(p)
        raise ScanError(f"{self.root}: no point '{name}' in {INDEX}")

    def _files(self, entry: dict) -> PointFiles:
        d = os.path.join(self.root, entry["name"])
        return PointFiles(entry["name"], entry["values"], d, os.path.join(self.root, entry["deck"]),
                          os.path.join(self.root, entry["output"]),
                          os.path.join(self.root, entry["checkpoint"]), entry["total_updates"])

    def slurm_dir(self) -> str:
        path = os.path.join(self.root, "slurm")
        os.makedirs(path, exist_ok=True)
        return path

    def save_index(self) -> None:
        write_atomically(os.path.join(self.root, INDEX), json.dumps(self.index, indent=1) + "\n")
        keys = list(self.index["scanned_keys"])
        table = io.StringIO()
        w = csv.writer(table, lineterminator="\n")
        w.writerow(["point"] + keys + ["deck", "output", "checkpoint"])
        for p in self.index["points"]:
            w.writerow([p["name"]] + [p["values"].get(k, "") for k in keys] +
                       [p["deck"], p["output"], p["checkpoint"]])
        write_atomically(os.path.join(self.root, "index.csv"), table.getvalue())


POINT_FIELDS = {"name": str, "values": dict, "deck": str, "output": str, "checkpoint": str,
                "total_updates": int}


def _check_index(index) -> None:
    """ValueError naming the first thing an index.json lacks."""
    if not isinstance(index, dict):
        raise ValueError("it is not a JSON object")
    for key, kind in (("points", list), ("options", dict), ("latdiff", str),
                      ("scanned_keys", list)):
        if not isinstance(index.get(key), kind):
            raise ValueError(f"it lacks '{key}' ({kind.__name__})")
    for entry in index["points"]:
        if not isinstance(entry, dict):
            raise ValueError("a point is not a JSON object")
        for key, kind in POINT_FIELDS.items():
            if not isinstance(entry.get(key), kind):
                raise ValueError(f"point {entry.get('name', '?')} lacks '{key}'")


def open_scan_dir(path: str) -> ScanDir:
    try:
        with open(os.path.join(path, INDEX), encoding="utf-8") as f:
            index = json.load(f)
        _check_index(index)
    except (OSError, ValueError, TypeError) as e:
        raise ScanError(f"{path}: not a scan directory (no readable {INDEX}: {e})") from None
    return ScanDir(path, index)


def _entry(point: Point, deck_text: str) -> dict:
    deck = parse_deck_text(deck_text)
    return {"name": point.name, "values": point.values,
            "deck": os.path.join(point.name, "deck.ini"),
            "output": os.path.join(point.name, deck["output.file"]),
            "checkpoint": os.path.join(point.name, deck["output.checkpoint"]),
            "total_updates": int(deck["run.thermalize"]) + int(deck["run.updates"])}


def _first_difference(old: str, new: str) -> Optional[str]:
    a, b = parse_deck_text(old), parse_deck_text(new)
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            return f"{key} = {a.get(key, '(absent)')} there, {b.get(key, '(absent)')} now"
    return None


def create(root: str, scan_text: str, scan_path: str, options: dict, latdiff: str,
           axes: List[List[str]], points: List[Point], decks: Dict[str, str]) -> ScanDir:
    """Writes (or extends) the scan directory. A point whose deck.ini exists must have the same
    resolved deck: a changed scan goes to a new directory. Raises ScanError."""
    root = os.path.abspath(root)
    existing = None
    if os.path.exists(os.path.join(root, INDEX)):
        existing = open_scan_dir(root)
    elif os.path.exists(root) and (not os.path.isdir(root) or
                                   [e for e in os.listdir(root) if e != SUBMIT_LOCK]):
        raise ScanError(f"{root}: exists and is not a scan directory (choose another --dir)")
    for p in points:
        deck_path = os.path.join(root, p.name, "deck.ini")
        if os.path.exists(deck_path):
            try:
                with open(deck_path, encoding="utf-8") as f:
                    diff = _first_difference(f.read(), decks[p.name])
            except (OSError, UnicodeDecodeError, configparser.Error) as e:
                raise ScanError(f"{deck_path}: cannot read this point's deck ({e}); remove "
                                "the point's directory or submit to another --dir") from None
            if diff:
                raise ScanError(f"{deck_path}: the scan changed this point ({diff}); "
                                "submit the changed scan to another --dir")
    entries = {e["name"]: e for e in (existing.index["points"] if existing else [])}
    entries.update({p.name: _entry(p, decks[p.name]) for p in points})
    keys = list(existing.index["scanned_keys"]) if existing else []
    keys += [k for axis in axes for k in axis if k not in keys]
    index = {"scan_file": os.path.abspath(scan_path), "latdiff": os.path.abspath(latdiff),
             "options": options, "scanned_keys": keys, "axes": axes,
             "points": list(entries.values())}
    scan = ScanDir(root, index)
    # The index first: a directory whose decks could not all be written (a full disk) is then
    # still this scan's, and submitting again writes the rest.
    try:
        os.makedirs(root, exist_ok=True)
    except OSError as e:
        raise ScanWriteError(f"{root}: cannot create the scan directory ({e.strerror})") from None
    scan.save_index()
    write_atomically(os.path.join(root, "scan.ini"), scan_text)
    for p in points:
        deck_path = os.path.join(root, p.name, "deck.ini")
        try:
            os.makedirs(os.path.dirname(deck_path), exist_ok=True)
        except OSError as e:
            raise ScanWriteError(f"{deck_path}: cannot create its directory "
                                 f"({e.strerror})") from None
        if not os.path.exists(deck_path):
            write_atomically(deck_path, decks[p.name])
    return scan


@contextlib.contextmanager
def submit_lock(root: str):
    """Holds SCANDIR/.submit.lock (creating the directory) while one submit writes the scan
    directory and starts its points; a second submit meets ScanBusyError at once."""
    try:
        os.makedirs(root, exist_ok=True)
        fd = os.open(os.path.join(root, SUBMIT_LOCK), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise ScanWriteError(f"{root}: cannot create the scan directory ({e.strerror})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ScanBusyError(f"{root}: another jobs/scan submit is using this scan "
                                "directory; run again when it has ended") from None
        yield
    finally:
        os.close(fd)


def append_json_line(path: str, record: dict) -> None:
    """Appends one JSON line and syncs it: the logs every reader of a scan trusts."""
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        raise ScanWriteError(f"{path}: cannot write ({e.strerror})") from None


def attempt_record(files: PointFiles, event: str, **fields) -> None:
    """Appends one line to the point's attempts.jsonl (start or exit of an attempt)."""
    append_json_line(files.attempts, {
        "event": event, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": socket.gethostname(), "pid": os.getpid(),
        "slurm_job": os.environ.get("SLURM_JOB_ID"), **fields})


def read_attempts(files: PointFiles) -> List[dict]:
    """The point's attempt records; a torn last line (a kill while writing) is skipped."""
    try:
        with open(files.attempts, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return []
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records
