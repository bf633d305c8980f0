"""A scan directory (jobs/scan) analysed as a whole: observables against the scanned coupling
for every lattice size, and the crossings of the Binder cumulant U and of xi_2/L between sizes,
which estimate the critical coupling.

Points are grouped by lattice size and coupling; points that differ only in run.seed (and
the other replica-free keys of files.py) are replicas of one point and are combined. Between
two simulated couplings of one size an observable is the interpolation, linear in the
coupling, of the estimates at both ends, each reweighted to the coupling in between
(reweighting.py) where the file allows it, else taken as simulated; its error combines the two
independent errors the same way. This curve is continuous and equals the Gamma-method
estimate at every simulated point. A crossing of sizes L1 < L2 is a root c* of
D(c) = O_L2(c) - O_L1(c) between two simulated couplings where D changes sign; its error is
linearised, sigma_c = sigma_D(c*) / |D'(c*)|, the two sizes' chains being independent.
"""

import json
import math
import os
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from scipy.optimize import brentq

from .errors import InputError
from .files import REPLICA_FREE_KEYS, RunFile, read_run
from .observables import Analysis, analyse, choose_cut
from .reweighting import REWEIGHTABLE, can_reweight, reweight

SIZE_KEY = "lattice.dims"
MIN_ESS = 0.1  # below this the reweighted curve between two points is noted as unreliable
CROSSING_OBSERVABLES = ("binder", "xi2_over_L")
TABLE_OBSERVABLES = ("abs_mag", "chi", "chi_prime", "binder", "xi2_over_L")
LABELS = {"abs_mag": "<|m|>", "chi": "chi", "chi_prime": "chi'", "binder": "U",
          "xi2_over_L": "xi_2/L"}


@dataclass
class ScanPoint:
    """The replicas of one (size, coupling) point and their analysis."""

    names: List[str]
    dims: Tuple[int, ...]
    coupling: float
    runs: List[RunFile]
    cuts: List[int]
    analysis: Analysis

    def estimate(self, key: str) -> Tuple[Optional[float], Optional[float]]:
        """(value, error) of an observable of the analysis; xi2_over_L = xi_2 / L_0."""
        wanted = "xi2" if key == "xi2_over_L" else key
        for e in self.analysis.estimates:
            if e.key == wanted and e.value is not None and math.isfinite(e.value):
                scale = self.dims[0] if key == "xi2_over_L" else 1
                return e.value / scale, e.error / scale
        return None, None


@dataclass
class Crossing:
    observable: str
    sizes: Tuple[int, int]        # L_0 of the two sizes
    coupling: float
    error: float
    value: float                  # the observable at the crossing (mean of both sizes)
    reweighted: bool


@dataclass
class ScanAnalysis:
    directory: str
    coupling_key: str
    points: List[ScanPoint]
    crossings: List[Crossing] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)

    def sizes(self) -> List[Tuple[int, ...]]:
        return sorted({p.dims for p in self.points}, key=lambda d: (int(np.prod(d)), d))

    def of_size(self, dims) -> List[ScanPoint]:
        return sorted((p for p in self.points if p.dims == dims), key=lambda p: p.coupling)


def is_scan_dir(path: str) -> bool:
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, "index.json"))


def scan_inputs(directory: str) -> List[str]:
    """The files of a scan directory that the analysis reads (what no output may replace)."""
    paths = [os.path.join(directory, "index.json")]
    try:
        with open(paths[0], encoding="utf-8") as f:
            paths += [os.path.join(directory, e["output"]) for e in json.load(f)["points"]]
    except (OSError, ValueError, KeyError, TypeError):
        pass  # read_scan reports the damaged index
    return paths


def _coupling_key(index: dict, given: Optional[str], where: str, with_size) -> str:
    scanned = [k for k in index.get("scanned_keys", []) if k != SIZE_KEY
               and k not in REPLICA_FREE_KEYS and k not in with_size]
    if given:
        if given not in scanned:
            raise InputError("--coupling", f"{given} is not a scanned key of {where} "
                                           f"(scanned: {', '.join(scanned) or 'none'})")
        return given
    if len(scanned) != 1:
        raise InputError(where, f"scans {', '.join(scanned) or 'no coupling'}: name the "
                                "coupling to analyse with --coupling KEY")
    return scanned[0]


def read_scan(directory: str, coupling: Optional[str], thermalize: Optional[int]) -> ScanAnalysis:
    """Reads and analyses every finished point of a scan directory; InputError when it is not
    one or a point's value of the coupling is not a number."""
    try:
        with open(os.path.join(directory, "index.json"), encoding="utf-8") as f:
            index = json.load(f)
        entries = index["points"]
        if not isinstance(entries, list) or not all(
                isinstance(e, dict) and isinstance(e.get("name"), str) and
                isinstance(e.get("output"), str) for e in entries):
            raise ValueError("points without name and output")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InputError(directory, f"not a scan directory (index.json: {e})") from None
    # Keys zipped with lattice.dims (e.g. run.thermalize per size) move with the size.
    with_size = {k for axis in index.get("axes", []) if SIZE_KEY in axis for k in axis}
    key = _coupling_key(index, coupling, directory, with_size)
    other = [k for k in index.get("scanned_keys", [])
             if k not in (key, SIZE_KEY) and k not in REPLICA_FREE_KEYS and k not in with_size]
    if other:
        raise InputError(directory, f"scans {', '.join(other)} besides {key}: analyse one "
                                    "value of each at a time (give its output files)")
    groups: Dict[Tuple[Tuple[int, ...], float], List[Tuple[str, RunFile]]] = {}
    notes = []
    for entry in entries:
        path = os.path.join(directory, entry["output"])
        if not os.path.exists(path):
            notes.append(f"{entry['name']}: no output yet, left out")
            continue
        try:
            run = read_run(path)
        except InputError as e:  # one damaged or just-created file does not stop the scan
            notes.append(f"{entry['name']}: left out ({e})")
            continue
        value = run.deck.get(key)
        try:
            c = float(value)
        except (TypeError, ValueError):
            raise InputError(path, f"{key} = '{value}' is not a number") from None
        groups.setdefault((run.dims, c), []).append((entry["name"], run))
    points = []
    for (dims, c), members in sorted(groups.items()):
        runs = [r for _, r in members]
        try:
            cuts = [choose_cut(r, thermalize) for r in runs]
        except InputError as e:
            notes.append(f"{members[0][0]}: left out ({e})")
            continue
        name = members[0][0] if len(members) == 1 else f"{members[0][0]} (+{len(members) - 1})"
        points.append(ScanPoint([n for n, _ in members], dims, c, runs, [x.cut for x in cuts],
                                analyse(name, runs, cuts)))
    if not points:
        raise InputError(directory, "no point has an output file yet")
    scan = ScanAnalysis(directory, key, points, notes=notes)
    scan.crossings = find_crossings(scan)
    return scan


def curve(scan: ScanAnalysis, dims, observable: str) -> Callable[[float], Tuple[float, float]]:
    """(value, error) of `observable` at any coupling between the simulated ones of a size."""
    pts = [p for p in scan.of_size(dims) if p.estimate(observable)[0] is not None]
    cs = np.array([p.coupling for p in pts])
    rw = observable != "xi2_over_L" and scan.coupling_key in REWEIGHTABLE

    def at(p: ScanPoint, c: float) -> Tuple[float, float]:
        if c == p.coupling or not (rw and can_reweight(p.runs, scan.coupling_key)):
            return p.estimate(observable)
        try:
            values = reweight(p.runs, p.cuts, scan.coupling_key, p.coupling, c, [observable])
        except (ValueError, ArithmeticError):
            f.failed.add(p.names[0])
            return p.estimate(observable)
        f.min_ess = min(f.min_ess, values["ess"][0])
        return values[observable]

    def f(c: float) -> Tuple[float, float]:
        if not (cs.size and cs[0] <= c <= cs[-1]):
            raise ValueError(f"coupling {c} outside the simulated range")
        j = int(np.searchsorted(cs, c))
        if cs[min(j, cs.size - 1)] == c:
            return pts[j].estimate(observable)
        a, b = pts[j - 1], pts[j]
        t = (c - a.coupling) / (b.coupling - a.coupling)
        (va, ea), (vb, eb) = at(a, c), at(b, c)
        return (1 - t) * va + t * vb, math.hypot((1 - t) * ea, t * eb)

    f.couplings = cs
    f.reweighted = rw and all(can_reweight(p.runs, scan.coupling_key) for p in pts)
    f.min_ess = 1.0      # smallest effective sample size of the weights used so far
    f.failed = set()     # points whose reweighting failed (their simulated value was used)
    return f


def _crossings_of(scan, observable, small, large) -> List[Crossing]:
    f1, f2 = curve(scan, small, observable), curve(scan, large, observable)
    common = sorted(set(f1.couplings.tolist()) & set(f2.couplings.tolist()))
    out = []
    diff = [f2(c)[0] - f1(c)[0] for c in common]
    for i in range(len(common) - 1):
        if diff[i] == 0 or diff[i] * diff[i + 1] > 0:
            continue
        a, b = common[i], common[i + 1]
        root = brentq(lambda c: f2(c)[0] - f1(c)[0], a, b, xtol=1e-12 * max(1.0, abs(a)))
        h = (b - a) * 1e-3
        lo, hi = max(a, root - h), min(b, root + h)
        slope = ((f2(hi)[0] - f1(hi)[0]) - (f2(lo)[0] - f1(lo)[0])) / (hi - lo)
        (v1, e1), (v2, e2) = f1(root), f2(root)
        error = math.hypot(e1, e2) / abs(slope) if slope != 0 else math.inf
        out.append(Crossing(observable, (small[0], large[0]), root, error, 0.5 * (v1 + v2),
                            f1.reweighted and f2.reweighted))
    ess = min(f1.min_ess, f2.min_ess)
    if ess < MIN_ESS:
        scan.notes.append(f"{LABELS[observable]}, L = {small[0]}/{large[0]}: reweighting "
                          f"between couplings with effective sample size down to {ess:.2g}; "
                          "simulate couplings closer together")
    for name in sorted(f1.failed | f2.failed):
        scan.notes.append(f"{name}: reweighting failed (non-finite weights); its simulated "
                          "value was used")
    return out


def find_crossings(scan: ScanAnalysis) -> List[Crossing]:
    """Crossings of every observable between each pair of consecutive sizes."""
    sizes = scan.sizes()
    out = []
    for observable in CROSSING_OBSERVABLES:
        for small, large in zip(sizes, sizes[1:]):
            found = _crossings_of(scan, observable, small, large)
            if len(found) > 1:
                scan.notes.append(f"{LABELS[observable]}: {len(found)} crossings of L = "
                                  f"{small[0]} and {large[0]}; the statistics may be too low")
            out += found
    return out


def critical_estimate(scan: ScanAnalysis, observable: str) -> Optional[Crossing]:
    """The crossing of the two largest sizes: the estimate of the critical coupling with the
    smallest corrections to scaling."""
    sizes = scan.sizes()
    if len(sizes) < 2:
        return None
    pair = (sizes[-2][0], sizes[-1][0])
    found = [c for c in scan.crossings if c.observable == observable and c.sizes == pair]
    return min(found, key=lambda c: c.error) if found else None


def table(scan: ScanAnalysis) -> Dict[str, List[dict]]:
    """{size label: [{coupling, observable: (value, error)...}]} for the report."""
    out = {}
    for dims in scan.sizes():
        rows = []
        for p in scan.of_size(dims):
            row = {"coupling": p.coupling, "points": p.names}
            row.update({k: p.estimate(k) for k in TABLE_OBSERVABLES})
            rows.append(row)
        out["x".join(map(str, dims))] = rows
    return out


def sizes_label(sizes: Sequence[Tuple[int, ...]]) -> str:
    return ", ".join("x".join(map(str, d)) for d in sizes)
