"""A scan's results as a table and as JSON: per size the observables against the coupling,
the crossings between sizes, the critical-coupling estimates and the collapses."""

import json
import math
from typing import List, Optional, Sequence

from .collapse import Collapse, fit_collapse, series_of
from .scan import (CROSSING_OBSERVABLES, LABELS, TABLE_OBSERVABLES, ScanAnalysis,
                   critical_estimate, sizes_label, table)

# The Binder cumulant collapses with exponent 0; chi with gamma/nu.
COLLAPSES = (("binder", "U"), ("chi", "chi L^(-gamma/nu)"))


def _pm(v: Optional[float], e: Optional[float]) -> str:
    if v is None:
        return "-"
    return f"{v:.6g} +- {e:.2g}"


def collapses(scan: ScanAnalysis, nu: Optional[float], gamma_nu: Optional[float],
              critical: Optional[float]) -> List[Collapse]:
    """U collapse (fitting the critical coupling and nu unless given), then chi's (fitting
    gamma/nu with those). Starts from the U crossing of the two largest sizes and nu = 1."""
    if len(scan.sizes()) < 2:
        return []
    start = critical_estimate(scan, "binder")
    c0 = critical if critical is not None else (start.coupling if start else None)
    if c0 is None:
        return []
    out = []
    data = {k: series_of({d[0]: [(p.coupling, *p.estimate(k)) for p in scan.of_size(d)]
                          for d in scan.sizes()}) for k, _ in COLLAPSES}
    fit = [n for n, given in (("critical", critical), ("nu", nu)) if given is None]
    # Fits start from nu = 1 and gamma/nu = 7/4, the 2D Ising values.
    u = fit_collapse("binder", data["binder"], c0, 1.0 if nu is None else nu, 0.0, fit)
    out.append(u)
    out.append(fit_collapse("chi", data["chi"], u.critical, u.nu,
                            1.75 if gamma_nu is None else gamma_nu,
                            [] if gamma_nu is not None else ["exponent"]))
    return out


def format_scan(scan: ScanAnalysis, found: Sequence[Collapse]) -> str:
    key = scan.coupling_key.split(".", 1)[1]
    lines = [f"scan {scan.directory}: coupling {scan.coupling_key}, sizes "
             f"{sizes_label(scan.sizes())}, {len(scan.points)} points "
             f"({sum(len(p.runs) for p in scan.points)} files)"]
    for label, rows in table(scan).items():
        lines.append(f"  L = {label}")
        header = [key] + [LABELS[k] for k in TABLE_OBSERVABLES]
        cells = [[f"{r['coupling']:.6g}"] + [_pm(*r[k]) for k in TABLE_OBSERVABLES]
                 for r in rows]
        widths = [max(len(x) for x in col) for col in zip(header, *cells)]
        for row in [header] + cells:
            lines.append("    " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    if scan.crossings:
        lines.append("  crossings (between simulated points: "
                     + ("reweighted" if any(c.reweighted for c in scan.crossings) else
                        "interpolated") + ")")
        for c in scan.crossings:
            how = "reweighted" if c.reweighted else "interpolated"
            lines.append(f"    {LABELS[c.observable]:<7} L = {c.sizes[0]}/{c.sizes[1]}: "
                         f"{key} = {c.coupling:.6f} +- {c.error:.2g}  "
                         f"({LABELS[c.observable]} = {c.value:.4g}, {how})")
    for observable in CROSSING_OBSERVABLES:
        best = critical_estimate(scan, observable)
        if best:
            lines.append(f"  critical {key} from {LABELS[observable]} (L = {best.sizes[0]}/"
                         f"{best.sizes[1]}): {best.coupling:.6f} +- {best.error:.2g}")
    for col in found:
        lines.append("  " + _collapse_text(col, key))
    lines += [f"  note: {n}" for n in scan.notes]
    return "\n".join(lines) + "\n"


def _collapse_text(col: Collapse, key: str) -> str:
    def part(name, label, value):
        if name not in col.fitted:
            return f"{label} = {value:.6g} (fixed)"
        err = col.errors.get(name)
        return f"{label} = {value:.6g} +- " + (f"{err:.2g}" if err else "?")
    parts = [part("critical", f"{key}_c", col.critical), part("nu", "nu", col.nu)]
    if col.observable == "chi":
        parts.append(part("exponent", "gamma/nu", col.exponent))
    return (f"collapse of {col.observable}: {', '.join(parts)}; S = {col.quality:.3g} over "
            f"{col.pairs} pairs")


def scan_json(scan: ScanAnalysis, found: Sequence[Collapse]) -> dict:
    def pair(v):
        return {"value": v[0], "error": v[1]} if v[0] is not None else None

    return {
        "scan": scan.directory, "coupling": scan.coupling_key,
        "sizes": {label: [{"coupling": r["coupling"], "points": r["points"],
                           **{k: pair(r[k]) for k in TABLE_OBSERVABLES}} for r in rows]
                  for label, rows in table(scan).items()},
        "crossings": [{"observable": c.observable, "sizes": list(c.sizes),
                       "coupling": c.coupling, "error": c.error, "value": c.value,
                       "reweighted": c.reweighted} for c in scan.crossings],
        "critical": {o: ({"coupling": b.coupling, "error": b.error, "sizes": list(b.sizes)}
                         if b else None)
                     for o in CROSSING_OBSERVABLES for b in [critical_estimate(scan, o)]},
        "collapses": [{"observable": c.observable, "critical": c.critical, "nu": c.nu,
                       "exponent": c.exponent, "fitted": c.fitted, "errors": c.errors,
                       "quality": c.quality,
                       "pairs": c.pairs} for c in found],
        "notes": scan.notes,
    }


def to_scan_json(scan: ScanAnalysis, found: Sequence[Collapse], points: object) -> str:
    """The scan's JSON, with `points` (the point analyses' JSON) under "points"."""
    def clean(x):
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list):
            return [clean(v) for v in x]
        return x
    return json.dumps(clean({**scan_json(scan, found), "points": points}), indent=1) + "\n"
