"""Scan files: INI text naming a base deck, fixed deck values and the values to scan.

    [scan]                    # options (all optional except deck)
    deck = quickstart.ini     # base deck, relative to the scan file
    ranks = 2                 # MPI ranks per point
    [set]                     # deck values of every point
    run.updates = 20000
    [vary]                    # each key an axis; the points are the Cartesian product of
                              # the axes, in the order of the file, the last running fastest
    action.kappa = 0.32:0.35:0.005
    run.seed = 1 2 3
    [zip volume]              # keys that move together: one axis, equal numbers of values
    lattice.dims = 8 8 | 16 16 | 32 32
    run.thermalize = 1000 | 2000 | 4000

A value list is split at '|' when it has one, else at white space; an element a:b:step is the
range a, a + step, ... up to b inclusive, computed in decimal so that 0.32:0.35:0.005 gives
0.320, 0.325, ..., 0.350 exactly. Whether a key and its values are ones the deck accepts is
latdiff's to say (points.py runs `latdiff --check` on every point).
"""

import configparser
import decimal
import os
import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Tuple

from .errors import ScanError

# Options of [scan]: name -> (default, parser, meaning). The command line may override each.
OPTIONS = {
    "deck": (None, str, "base deck, relative to the scan file (required)"),
    "ranks": ("1", int, "MPI ranks per point"),
    "runner": ("local", str, "local (this machine) or slurm (an sbatch job array)"),
    "concurrency": ("1", int, "local: points run at once"),
    "points_per_task": ("1", int, "slurm: points run one after another by each array task"),
    "time": ("01:00:00", str, "slurm: time limit of each array task (sbatch --time)"),
    "partition": ("", str, "slurm: partition (sbatch --partition); empty: the default"),
    "account": ("", str, "slurm: account (sbatch --account); empty: none"),
    "signal_seconds": ("120", int,
                       "slurm: seconds before the time limit at which latdiff is told to "
                       "checkpoint (sbatch --signal=B:USR1@N)"),
}
RUNNERS = ("local", "slurm")
# Keys the scan sets itself for every point: each point has its own files.
RESERVED_KEYS = ("output.file", "output.checkpoint")
MAX_VALUES = 100000
DECK_KEY = re.compile(r"^[a-z_]+\.[a-z_0-9]+$")
RANGE = re.compile(r"^([-+]?[0-9.eE+-]+):([-+]?[0-9.eE+-]+):([-+]?[0-9.eE+-]+)$")


@dataclass
class Axis:
    """One scan axis: the keys that move together and their values (one tuple per step)."""
    keys: List[str]
    values: List[Tuple[str, ...]]


@dataclass
class ScanSpec:
    path: str                         # the scan file
    base_deck: str                    # absolute path of the base deck
    options: Dict[str, object]
    fixed: Dict[str, str] = field(default_factory=dict)
    axes: List[Axis] = field(default_factory=list)
    text: str = ""                    # the scan file's text, kept in the scan directory


def expand_range(text: str, where: str) -> List[str]:
    """The values of a:b:step (inclusive of b), formatted with the inputs' decimals."""
    m = RANGE.match(text)
    try:
        start, stop, step = (decimal.Decimal(g) for g in m.groups())
    except decimal.InvalidOperation:
        raise ScanError(f"{where}: bad range '{text}' (want start:stop:step, numbers)") from None
    if not step.is_finite() or not start.is_finite() or not stop.is_finite():
        raise ScanError(f"{where}: bad range '{text}' (want finite numbers)")
    if step == 0 or (stop - start) * step < 0:
        raise ScanError(f"{where}: bad range '{text}': the step must be non-zero and lead "
                        "from start to stop")
    count = int((stop - start) / step) + 1
    if count > MAX_VALUES:
        raise ScanError(f"{where}: range '{text}' has {count} values (at most {MAX_VALUES})")
    exponent = min(start.as_tuple().exponent, step.as_tuple().exponent, 0)
    quantum = decimal.Decimal(1).scaleb(exponent)
    return [str((start + i * step).quantize(quantum)) for i in range(count)]


def parse_values(text: str, where: str) -> List[str]:
    """The values of one key: '|'-separated (a value may hold spaces) or white-space-separated;
    each element may be a range a:b:step."""
    elements = text.split("|") if "|" in text else text.split()
    values: List[str] = []
    for element in (e.strip() for e in elements):
        if not element:
            raise ScanError(f"{where}: empty value in '{text}'")
        values += expand_range(element, where) if RANGE.match(element) else [element]
    if not values:
        raise ScanError(f"{where}: no values")
    return values


def _check_key(key: str, where: str) -> None:
    if not DECK_KEY.match(key):
        raise ScanError(f"{where}: '{key}' is not a deck key (want section.key, "
                        "e.g. action.kappa)")
    if key in RESERVED_KEYS:
        raise ScanError(f"{where}: {key} is set by the scan for every point "
                        "(each point writes its own files); remove it")


def resolve_options(section: Mapping[str, str], where: str,
                    overrides: Dict[str, Optional[str]]) -> Dict[str, object]:
    """The [scan] options from `section` (text values) with `overrides` applied, checked."""
    unknown = sorted(set(section) - set(OPTIONS))
    if unknown:
        raise ScanError(f"{where}[scan]: unknown option '{unknown[0]}' "
                        f"(allowed: {', '.join(OPTIONS)})")
    options: Dict[str, object] = {}
    for name, (default, kind, _) in OPTIONS.items():
        raw = overrides.get(name)
        raw = section.get(name, default) if raw is None else raw
        if raw is None:
            raise ScanError(f"{where}[scan]: {name} is required ({OPTIONS[name][2]})")
        try:
            options[name] = kind(raw.strip())
        except ValueError:
            raise ScanError(f"{where}[scan]: {name}: expected an integer, "
                            f"got '{raw}'") from None
    for name in ("ranks", "concurrency", "points_per_task", "signal_seconds"):
        if options[name] < 1:
            raise ScanError(f"{where}[scan]: {name}: must be at least 1, got {options[name]}")
    if options["runner"] not in RUNNERS:
        raise ScanError(f"{where}[scan]: runner: one of {', '.join(RUNNERS)}, "
                        f"got '{options['runner']}'")
    limit = time_limit_seconds(options["time"])
    if limit is None:
        raise ScanError(f"{where}[scan]: time: want minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or "
                        f"D-HH:MM:SS, got '{options['time']}'")
    if options["signal_seconds"] >= limit:
        raise ScanError(f"{where}[scan]: signal_seconds: {options['signal_seconds']} must be "
                        f"below the time limit ({limit} s), or every task stops at once")
    return options


def time_limit_seconds(text: str) -> Optional[int]:
    """Seconds of an sbatch --time value, None when it is not one of sbatch's formats:
    M, M:S, H:M:S, D-H, D-H:M, D-H:M:S."""
    m = re.match(r"^(?:(\d+)-)?(\d+(?::\d+){0,2})$", text.strip())
    if not m:
        return None
    parts = [int(x) for x in m.group(2).split(":")]
    if m.group(1) is None:
        units = {1: (60,), 2: (60, 1), 3: (3600, 60, 1)}[len(parts)]
    else:
        units = (3600, 60, 1)[:len(parts)]
    return int(m.group(1) or 0) * 86400 + sum(x * u for x, u in zip(parts, units))


def _is_zip(section: str) -> bool:
    return section == "zip" or section.startswith("zip ")


def read_scan_file(path: str, overrides: Optional[Dict[str, Optional[str]]] = None,
                   text: Optional[str] = None) -> ScanSpec:
    """Parses the scan file at `path` (or `text`, its saved copy, with `path` for messages and
    relative paths); `overrides` replace [scan] options. Raises ScanError."""
    where = path
    if text is None:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read(1 << 20)
        except (OSError, UnicodeDecodeError) as e:
            raise ScanError(f"{where}: cannot read the scan file ({e})") from None
    parser = configparser.ConfigParser(inline_comment_prefixes=("#",), interpolation=None,
                                       empty_lines_in_values=False, strict=True)
    parser.optionxform = str
    try:
        parser.read_string(text, source=path)
    except configparser.Error as e:
        raise ScanError(f"{where}: not a scan file: {str(e).splitlines()[0]}") from None
    sections = parser.sections()
    bad = [s for s in sections if s not in ("scan", "set", "vary") and not _is_zip(s)]
    if bad:
        raise ScanError(f"{where}: unknown section [{bad[0]}] "
                        "(allowed: [scan], [set], [vary], [zip NAME])")
    if "scan" not in sections:
        raise ScanError(f"{where}: no [scan] section (it names the base deck: deck = FILE)")
    options = resolve_options(parser["scan"], where, overrides or {})
    base = os.path.join(os.path.dirname(os.path.abspath(path)), options["deck"])
    spec = ScanSpec(path=path, base_deck=os.path.abspath(base), options=options, text=text)
    seen: Dict[str, str] = {}

    def claim(key: str, section: str) -> None:
        _check_key(key, f"{where}[{section}]")
        if key in seen:
            raise ScanError(f"{where}[{section}]: {key} is also given in [{seen[key]}]")
        seen[key] = section

    for key, value in parser["set"].items() if "set" in sections else []:
        claim(key, "set")
        spec.fixed[key] = value.strip()
    for section in (s for s in sections if s == "vary" or _is_zip(s)):  # axes in file order
        lists = {}
        for key, value in parser[section].items():
            claim(key, section)
            lists[key] = parse_values(value, f"{where}: {key}")
        if section == "vary":
            spec.axes += [Axis([k], [(v,) for v in values]) for k, values in lists.items()]
            continue
        if not lists:
            raise ScanError(f"{where}[{section}]: no keys")
        lengths = {k: len(v) for k, v in lists.items()}
        if len(set(lengths.values())) != 1:
            detail = ", ".join(f"{k} {n}" for k, n in lengths.items())
            raise ScanError(f"{where}[{section}]: zipped keys need equal numbers of values, "
                            f"got {detail}")
        keys = list(lists)
        spec.axes.append(Axis(keys, list(zip(*(lists[k] for k in keys)))))
    return spec
