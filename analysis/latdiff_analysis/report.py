"""The results as a readable table, JSON and CSV, and all-or-nothing writing of the files.

The three carry the same numbers; JSON and CSV at full precision (JSON null, CSV empty for an
undefined value), the table rounded like latdiff's summary (%.6g +- %.2g, tau %.3g).
"""

import csv
import io
import json
import math
import os
import tempfile
from typing import Dict, List, Sequence

from .observables import Analysis, Estimate

CSV_FIELDS = ("set", "files", "replicas", "measurements", "cuts", "kept", "observable", "label",
              "value", "error", "tau_int", "tau_int_error", "window", "samples", "note")


def _g(x, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def _cut_text(c) -> str:
    if c.rule == "given":
        return f"cut {c.cut} (--thermalize)"
    cands = "/".join(str(x) for x in c.candidates)
    flag = "" if c.converged else ", none passed"
    return f"cut {c.cut} (auto, candidates {cands}{flag})"


def format_table(analyses: Sequence[Analysis]) -> str:
    """One block per file or replica set: header lines, then one row per observable."""
    out: List[str] = []
    for a in analyses:
        kept = sum(c.kept for c in a.files)
        dims = "x".join(str(x) for x in a.dims)
        if len(a.files) == 1:
            c = a.files[0]
            out.append(f"{a.name}: lattice {dims}, {c.measurements} measurements, "
                       f"{_cut_text(c)}, {c.kept} kept")
        else:
            out.append(f"{a.name}: lattice {dims}, {len(a.files)} replicas, {kept} measurements "
                       "kept")
            out += [f"  replica {c.path}: {c.measurements} measurements, {_cut_text(c)}, "
                    f"{c.kept} kept" for c in a.files]
        out.append(f"  {'observable':<24} {'value':>12}    {'error':<8}  "
                   f"{'tau_int':>8}    error")
        for e in a.estimates:
            if e.value is None:
                out.append(f"  {e.label:<24} {'n/a':>12}    ({e.note})")
                continue
            out.append(f"  {e.label:<24} {e.value:>12.6g} +- {_g(e.error, '<8.2g')}  "
                       f"{_g(e.tau_int, '>8.3g')} +- {_g(e.tau_int_error, '<8.2g')}".rstrip())
        out += [f"  note: {n}" for n in a.notes]
        out.append("")
    return "\n".join(out)


def _finite(x):
    """x, or None where it is not a finite number (strict JSON has no NaN)."""
    return x if x is None or math.isfinite(x) else None


def _estimate_dict(e: Estimate) -> Dict:
    return {"label": e.label, "value": _finite(e.value), "error": _finite(e.error),
            "tau_int": _finite(e.tau_int), "tau_int_error": _finite(e.tau_int_error),
            "window": e.window, "samples": e.samples, "note": e.note or None}


def to_json(analyses: Sequence[Analysis]) -> str:
    """All analyses as JSON text (strict: no NaN, undefined values are null)."""
    doc = {"program": "latdiff-analyze", "format_version": 1, "analyses": [
        {"name": a.name, "lattice_dims": a.dims, "volume": a.volume,
         "replicas": len(a.files),
         "files": [{"path": c.path, "measurements": c.measurements, "cut": c.cut,
                    "kept": c.kept, "cut_rule": c.rule, "cut_converged": c.converged,
                    "cut_candidates": c.candidates or None} for c in a.files],
         "observables": {e.key: _estimate_dict(e) for e in a.estimates},
         "notes": a.notes} for a in analyses]}
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"


def to_csv(analyses: Sequence[Analysis]) -> str:
    """One row per file (or replica set) and observable; replica fields joined by ';'."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for a in analyses:
        common = {"set": a.name, "files": ";".join(c.path for c in a.files),
                  "replicas": len(a.files),
                  "measurements": sum(c.measurements for c in a.files),
                  "cuts": ";".join(str(c.cut) for c in a.files),
                  "kept": sum(c.kept for c in a.files)}
        for e in a.estimates:
            row = {k: ("" if v is None else repr(v) if isinstance(v, float) else v)
                   for k, v in _estimate_dict(e).items()}
            row["note"] = e.note
            w.writerow({**common, "observable": e.key, **row})
    return buf.getvalue()


def write_all_atomically(contents: Dict[str, str]) -> None:
    """Writes {path: text} so that each path is either untouched or complete.

    Every text goes to a temporary file next to its target first (synced); only when all are
    written are they renamed into place. On failure the temporary files are removed and the
    OSError propagates.
    """
    temps = []
    try:
        for path, text in contents.items():
            fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".",
                                       suffix=".tmp", dir=os.path.dirname(path) or ".")
            temps.append((tmp, path))
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o666 & ~_umask())
        for tmp, path in temps:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
