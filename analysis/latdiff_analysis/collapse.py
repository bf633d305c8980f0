"""Finite-size-scaling collapse: near the critical coupling c_c an observable of size L
follows O = L^{a} F((c - c_c) L^{1/nu}), so the points of every size fall on one curve when
plotted as y = O L^{-a} against x = (c - c_c) L^{1/nu}. The Binder cumulant has a = 0; the
susceptibility a = gamma/nu.

The quality of a collapse is the measure of Houdayer and Hartmann (PRB 70 (2004) 014418):
for every point of one size inside the x range of another size, its deviation from the other
size's curve (linear interpolation between that size's two neighbouring points), squared and
divided by the sum of both variances, averaged over all such pairs: S. A perfect collapse with
correct errors gives S ~ 1. Fitted parameters minimise S, with nu in [NU_MIN, NU_MAX] and at
least half of the starting parameters' pairs kept (else a fit could win by shrinking the
overlap). Errors: every deviation enters twice (i against j and j against i), so
chi^2 = (N/2) S / max(1, S_min), which also widens the errors of a collapse worse than its
error bars say (S_min > 1); the error of a parameter is where chi^2, minimised over the other
fitted parameters (profiled), rises by one.
"""

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from scipy.optimize import brentq, minimize

# (L, couplings, values, errors) of one size, couplings ascending.
Series = Tuple[int, np.ndarray, np.ndarray, np.ndarray]


@dataclass
class Collapse:
    observable: str
    critical: float
    nu: float
    exponent: float               # a of y = O L^{-a}
    fitted: List[str]             # the parameters fitted, of critical, nu, exponent
    errors: Dict[str, Optional[float]]   # of the fitted ones (None: not determined)
    quality: float                # S at the optimum
    pairs: int                    # N


NU_MIN, NU_MAX = 0.05, 20.0


def scaled(series: Series, critical: float, nu: float, exponent: float):
    """(x, y, error of y) of one size; inf where the powers overflow."""
    size, c, y, e = series
    with np.errstate(over="ignore", invalid="ignore"):
        x_scale = np.power(float(size), 1.0 / nu)
        y_scale = np.power(float(size), -exponent)
    return (c - critical) * x_scale, y * y_scale, e * y_scale


def quality(data: Sequence[Series], critical: float, nu: float,
            exponent: float) -> Tuple[float, int]:
    """(S, N) of the collapse with these parameters; (inf, 0) without overlapping sizes."""
    if not (NU_MIN <= nu <= NU_MAX) or not all(map(math.isfinite, (critical, exponent))):
        return math.inf, 0
    curves = [scaled(s, critical, nu, exponent) for s in data]
    if not all(np.all(np.isfinite(np.concatenate(c))) for c in curves):
        return math.inf, 0
    total, pairs = 0.0, 0
    for i, (x, y, e) in enumerate(curves):
        for j, (xo, yo, eo) in enumerate(curves):
            if i == j or xo.size < 2:
                continue
            inside = (x > xo[0]) & (x < xo[-1])
            k = np.searchsorted(xo, x[inside])
            t = (x[inside] - xo[k - 1]) / (xo[k] - xo[k - 1])
            yi = (1 - t) * yo[k - 1] + t * yo[k]
            ei2 = ((1 - t) * eo[k - 1]) ** 2 + (t * eo[k]) ** 2
            total += float(np.sum((y[inside] - yi) ** 2 / (e[inside] ** 2 + ei2)))
            pairs += int(np.count_nonzero(inside))
    return (total / pairs, pairs) if pairs else (math.inf, 0)


def _error(chi2, best: float, step: float) -> Optional[float]:
    """Half width of chi2(p) <= chi2(best) + 1 around best, searched up to 2^20 steps out;
    None where it does not rise that far."""
    target = chi2(best) + 1.0
    sides = []
    for sign in (-1.0, 1.0):
        far = best + sign * step
        while chi2(far) < target and abs(far - best) < 2 ** 20 * step:
            far = best + 2 * (far - best)
        if not chi2(far) >= target:
            return None
        sides.append(abs(brentq(lambda p: min(chi2(p), target + 1) - target, best, far) - best))
    return 0.5 * sum(sides)


def _nelder_mead(f, start: Sequence[float]) -> np.ndarray:
    start = np.asarray(start, dtype=float)
    scale = np.maximum(np.abs(start), 1e-3) * 0.05
    simplex = np.vstack([start] + [start + np.diag(scale)[i] for i in range(start.size)])
    result = minimize(f, start, method="Nelder-Mead",
                      options={"initial_simplex": simplex, "xatol": 1e-9, "fatol": 1e-10,
                               "maxiter": 4000})
    return result.x


def fit_collapse(observable: str, data: Sequence[Series], critical: float, nu: float,
                 exponent: float, fit: Sequence[str]) -> Collapse:
    """Minimises S over the parameters named in `fit` (of "critical", "nu", "exponent"),
    starting from the given values; the others stay fixed."""
    start = {"critical": critical, "nu": nu, "exponent": exponent}
    names = list(fit)
    min_pairs = max(4, quality(data, critical, nu, exponent)[1] // 2)

    def s_of(p: Dict[str, float]) -> float:
        s, pairs = quality(data, p["critical"], p["nu"], p["exponent"])
        return s if pairs >= min_pairs else math.inf

    best = dict(start)
    if names:
        best.update(zip(names, _nelder_mead(lambda v: s_of(dict(start, **dict(zip(names, v)))),
                                            [start[n] for n in names])))
    s_min, pairs = quality(data, best["critical"], best["nu"], best["exponent"])
    errors: Dict[str, Optional[float]] = {}
    if math.isfinite(s_min):
        weight = 0.5 * pairs / max(1.0, s_min)
        for n in names:
            others = [m for m in names if m != n]

            def chi2(value, n=n, others=others):
                p = dict(best, **{n: value})
                if others:
                    def profiled(v):
                        return s_of(dict(p, **dict(zip(others, v))))
                    p.update(zip(others, _nelder_mead(profiled, [best[m] for m in others])))
                return weight * s_of(p)

            errors[n] = _error(chi2, best[n], max(abs(best[n]), 1e-3) * 1e-3)
    return Collapse(observable, best["critical"], best["nu"], best["exponent"], names, errors,
                    s_min, pairs)


def series_of(points_by_size: Dict[int, List[Tuple[float, float, float]]]) -> List[Series]:
    """Series from {L: [(coupling, value, error), ...]}, points without a value left out."""
    out = []
    for size, rows in sorted(points_by_size.items()):
        rows = sorted(r for r in rows if r[1] is not None and r[2] is not None)
        if rows:
            c, y, e = (np.array(col, dtype=float) for col in zip(*rows))
            out.append((size, c, y, e))
    return out
