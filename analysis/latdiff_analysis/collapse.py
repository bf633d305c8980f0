"""Finite-size-scaling collapse: near the critical coupling c_c an observable of size L
follows O = L^{a} F((c - c_c) L^{1/nu}), so the points of every size fall on one curve when
plotted as y = O L^{-a} against x = (c - c_c) L^{1/nu}. The Binder cumulant has a = 0; the
susceptibility a = gamma/nu.

The quality of a collapse is the measure of Houdayer and Hartmann (PRB 70 (2004) 014418):
for every point of one size inside the x range of another size, its deviation from the other
size's curve (linear interpolation between that size's two neighbouring points), squared and
divided by the sum of both variances, averaged over all such pairs: S. A perfect collapse with
correct errors gives S ~ 1. Fitted parameters minimise S; the error of each is where
N S (N the number of pairs), with the others at their optimum, rises by one.
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


def scaled(series: Series, critical: float, nu: float, exponent: float):
    size, c, y, e = series
    return (c - critical) * size ** (1.0 / nu), y * size ** (-exponent), e * size ** (-exponent)


def quality(data: Sequence[Series], critical: float, nu: float,
            exponent: float) -> Tuple[float, int]:
    """(S, N) of the collapse with these parameters; (inf, 0) without overlapping sizes."""
    curves = [scaled(s, critical, nu, exponent) for s in data]
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
    """Half width of chi2(p) <= chi2(best) + 1 around best, searched up to 100 steps out."""
    target = chi2(best) + 1.0
    sides = []
    for sign in (-1.0, 1.0):
        far = best + sign * step
        while chi2(far) < target and abs(far - best) < 100 * step:
            far = best + 2 * (far - best)
        if chi2(far) < target:
            return None
        sides.append(abs(brentq(lambda p: chi2(p) - target, best, far) - best))
    return 0.5 * sum(sides)


def fit_collapse(observable: str, data: Sequence[Series], critical: float, nu: float,
                 exponent: float, fit: Sequence[str]) -> Collapse:
    """Minimises S over the parameters named in `fit` (of "critical", "nu", "exponent"),
    starting from the given values; the others stay fixed."""
    start = {"critical": critical, "nu": nu, "exponent": exponent}
    names = list(fit)

    def params(v) -> Dict[str, float]:
        p = dict(start)
        p.update(zip(names, v))
        return p

    def s_of(v) -> float:
        p = params(v)
        if p["nu"] <= 0:
            return math.inf
        return quality(data, p["critical"], p["nu"], p["exponent"])[0]

    best = dict(start)
    if names:
        scale = np.array([max(abs(start[n]), 1e-3) * 0.05 for n in names])
        simplex = np.vstack([np.array([start[n] for n in names])] +
                            [np.array([start[n] for n in names]) + np.diag(scale)[i]
                             for i in range(len(names))])
        result = minimize(s_of, simplex[0], method="Nelder-Mead",
                          options={"initial_simplex": simplex, "xatol": 1e-9, "fatol": 1e-10,
                                   "maxiter": 4000})
        best = params(result.x)
    s_min, pairs = quality(data, best["critical"], best["nu"], best["exponent"])
    errors: Dict[str, Optional[float]] = {}
    for n in names:
        def chi2(value, n=n):
            p = dict(best, **{n: value})
            return pairs * quality(data, p["critical"], p["nu"], p["exponent"])[0] \
                if p["nu"] > 0 else math.inf
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
