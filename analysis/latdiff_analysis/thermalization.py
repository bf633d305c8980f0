"""Automatic thermalization cut, so that a transient left by too short a run.thermalize is
found and dropped without the user inspecting every chain.

Rule (latdiff-analyze --thermalize auto): the candidate cuts are c = 0, n/32, n/16, n/8, n/4
and n/2 measurements (integer division, duplicates removed). Cut c is accepted when, for each
monitored series (m^2 and the action density), the mean of the head of what is kept, its first
eighth x[c : c + h], h = max(2, (n - c)/8), agrees with the mean of the rest x[c + h :]:
|mean_head - mean_rest| <= Z sigma, Z = 3, sigma^2 = s (1/h + 1/n_rest), the variance of the
difference were both pieces of one stationary chain. s = 2 tau_int var, the variance per
measurement with autocorrelation, is taken from the second half of the chain (N/2 err^2 of its
Gamma-method error), the part that the rule assumes in equilibrium (the cut never exceeds
n/2). A piece's own Gamma-method error is not used: a transient in it looks like a slow
fluctuation and inflates it until it hides itself. The cut is the smallest accepted
candidate; when none is accepted it is n/2 and flagged (the chain may not have reached
equilibrium at all). This is Geweke's head-against-rest diagnostic with the Gamma method's
autocorrelation-aware variance.
"""

from typing import Dict, List, NamedTuple, Sequence

import numpy as np

from .autocorrelation import gamma_method

Z_MAX = 3.0
DIVISORS = (32, 16, 8, 4, 2)
RULE = ("auto: the smallest of 0, n/32, n/16, n/8, n/4, n/2 after which the mean of the first "
        "eighth of the kept m^2 and S/V agrees with the rest within 3 errors (Gamma method)")


class Detection(NamedTuple):
    cut: int
    candidates: List[int]
    z: Dict[int, float]    # largest |z| over the monitored series at each candidate tried
    converged: bool        # False: no candidate passed, the cut is n/2


def candidates(n: int) -> List[int]:
    """Candidate cuts for a series of n measurements, ascending."""
    return sorted({0, *(n // k for k in DIVISORS)})


def reference_variance(x: np.ndarray) -> float:
    """2 tau_int var of x per measurement, from the second half of x (Gamma method)."""
    tail = x[x.size // 2:]
    if tail.size < 2:
        return 0.0
    return gamma_method(tail).error ** 2 * tail.size


def head_rest_z(x: np.ndarray, s: float) -> float:
    """|z| of the head (first eighth) of x against the rest, for variance s per measurement
    (reference_variance); 0 where x is too short to test."""
    h = max(2, x.size // 8)
    if x.size - h < 2:
        return 0.0
    diff = abs(float(np.mean(x[:h])) - float(np.mean(x[h:])))
    sigma = np.sqrt(s * (1.0 / h + 1.0 / (x.size - h)))
    if sigma == 0.0:
        return 0.0 if diff == 0.0 else np.inf
    return float(diff / sigma)


def detect_cut(series: Sequence[np.ndarray]) -> Detection:
    """The automatic cut (module docstring) for monitored series of one chain, equal lengths."""
    n = min(int(np.asarray(x).size) for x in series)
    data = [np.asarray(x, dtype=float)[:n] for x in series]
    ref = [reference_variance(x) for x in data]
    tried: Dict[int, float] = {}
    cands = candidates(n)
    for c in cands:
        z = max(head_rest_z(x[c:], s) for x, s in zip(data, ref))
        tried[c] = z
        if z <= Z_MAX:
            return Detection(c, cands, tried, True)
    return Detection(n // 2, cands, tried, False)
