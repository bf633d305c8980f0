"""Scan points: the Cartesian product of a scan's axes, a readable name for each, and its
resolved deck, which latdiff itself produces (`latdiff --check`), so that a point is valid
exactly when latdiff would run it."""

import configparser
import itertools
import math
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Dict, List

from .errors import ScanError
from .scan_file import ScanSpec


@dataclass
class Point:
    name: str                # directory and file stem: the scanned values, e.g. L16x16_kappa0.33
    values: Dict[str, str]   # scanned key -> value, in axis order

    @property
    def output(self) -> str:
        return f"{self.name}.h5"

    @property
    def checkpoint(self) -> str:
        return f"{self.name}.ckpt.h5"


def _labels(keys: List[str]) -> Dict[str, str]:
    """Short labels of the scanned keys: the key name (kappa), or section-key where two
    sections share a name."""
    short = [k.split(".", 1)[1] for k in keys]
    return {k: (s if short.count(s) == 1 else k.replace(".", "-")) for k, s in zip(keys, short)}


def _tag(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]", "_", re.sub(r"\s+", "x", value.strip()))


def _named(spec: ScanSpec, named_keys: List[str]) -> List[Point]:
    keys = [k for axis in spec.axes for k in axis.keys]
    labels = _labels(named_keys)
    points = []
    for combination in itertools.product(*(axis.values for axis in spec.axes)):
        values = dict(zip(keys, itertools.chain.from_iterable(combination)))
        name = "_".join(labels[k] + _tag(values[k]) for k in named_keys) or "point"
        points.append(Point(name, values))
    return points


def _first_clash(points: List[Point]):
    names: Dict[str, Point] = {}
    for p in points:
        if p.name in names:
            return names[p.name], p
        names[p.name] = p
    return None


def expand(spec: ScanSpec) -> List[Point]:
    """Every point of the scan, the last axis running fastest. A point is named by the first
    key of each axis (zipped keys move together), or by every scanned key where that is
    ambiguous. Raises ScanError when two points would still get the same name."""
    points = _named(spec, [axis.keys[0] for axis in spec.axes])
    if _first_clash(points):
        points = _named(spec, [k for axis in spec.axes for k in axis.keys])
    clash = _first_clash(points)
    if clash:
        raise ScanError(f"{spec.path}: points {clash[0].values} and {clash[1].values} "
                        f"get the same name '{clash[0].name}'; give distinct values")
    return points


def parse_deck_text(text: str) -> Dict[str, str]:
    """{"section.key": value} of a resolved deck."""
    parser = configparser.ConfigParser(inline_comment_prefixes=("#",), interpolation=None)
    parser.optionxform = str
    parser.read_string(text)
    return {f"{s}.{k}": v.strip() for s in parser.sections() for k, v in parser[s].items()}


def _check_point(latdiff: str, spec: ScanSpec, point: Point) -> str:
    overrides = {**spec.fixed, **point.values, "output.file": point.output,
                 "output.checkpoint": point.checkpoint}
    args = [latdiff, "--check", spec.base_deck] + [f"--{k}={v}" for k, v in overrides.items()]
    try:
        r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ScanError(f"{latdiff}: cannot run latdiff --check ({e})") from None
    if r.returncode != 0:
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()] or [f"exit {r.returncode}"]
        reason = lines[0].removeprefix("latdiff: error: ")
        raise ScanError(f"{spec.path}: point {point.name}: {reason}")
    return r.stdout


def resolve(spec: ScanSpec, points: List[Point], latdiff: str, jobs: int = 4) -> Dict[str, str]:
    """{point name: resolved deck text}, checked by latdiff (in parallel) and against the
    scan's number of ranks. Raises ScanError with the first bad point's line."""
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        decks = list(pool.map(lambda p: _check_point(latdiff, spec, p), points))
    ranks = spec.options["ranks"]
    for point, text in zip(points, decks):
        procs = parse_deck_text(text).get("lattice.procs", "").split()
        if procs and math.prod(int(n) for n in procs) != ranks:
            raise ScanError(f"{spec.path}: point {point.name}: lattice.procs = "
                            f"{' '.join(procs)} needs {math.prod(int(n) for n in procs)} "
                            f"ranks, the scan runs {ranks} (ranks = ...)")
    return {p.name: text for p, text in zip(points, decks)}
