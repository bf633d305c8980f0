"""Gamma-method estimates of one latdiff file, or of replicas of one point combined.

The definitions are those of latdiff's summary (src/app/summary.cpp), so that with no extra
cut the numbers agree with it: chi = V(<m^2> - <|m|>^2), chi' = V<m^2>,
U = 1 - <m^4>/(3<m^2>^2), acceptance and <exp(-dH)> over the updates after run.thermalize.
Derived quantities use gamma_method_derived (linearised error propagation); replicas enter
as Wolff's section 3.3 (gamma_method(..., replicas=lengths)).
"""

import math
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence

import numpy as np

from .autocorrelation import GammaResult, gamma_method, gamma_method_derived
from .errors import InputError
from .files import RunFile
from .thermalization import RULE, detect_cut


@dataclass
class Estimate:
    """One observable: Gamma-method result, or None fields and a note where undefined."""

    key: str                   # machine name (JSON, CSV)
    label: str                 # what the table shows
    value: Optional[float]
    error: Optional[float]
    tau_int: Optional[float]
    tau_int_error: Optional[float]
    window: Optional[int]
    samples: int               # values per series, all replicas together
    note: str = ""


@dataclass
class FileCut:
    """How much of one file's measurements is dropped, and why."""

    path: str
    measurements: int
    cut: int
    rule: str                  # "given" or RULE
    converged: bool = True     # auto: whether a candidate passed (else the cut is n/2)
    candidates: List[int] = field(default_factory=list)

    @property
    def kept(self) -> int:
        return self.measurements - self.cut


@dataclass
class Analysis:
    """Everything reported for one file or one replica set."""

    name: str
    files: List[FileCut]
    dims: List[int]
    volume: int
    estimates: List[Estimate]
    notes: List[str]


def choose_cut(run: RunFile, thermalize: Optional[int]) -> FileCut:
    """The cut of one file: thermalize measurements, or the automatic rule when None."""
    n = run.measurements
    if thermalize is None:
        if n < 2:
            raise InputError(run.path, f"{n} measurement(s): nothing to analyse (need at least "
                                       "2; run more updates)")
        det = detect_cut([run.mag**2, run.action_density])
        cut = FileCut(run.path, n, det.cut, RULE, det.converged, det.candidates)
    else:
        cut = FileCut(run.path, n, thermalize, "given")
    if cut.kept < 2:
        raise InputError(run.path, f"{n} measurement(s), {max(cut.kept, 0)} left after the "
                                   f"thermalization cut of {cut.cut}: need at least 2 (run more "
                                   "updates or lower --thermalize)")
    for name in ("mag", "phi2", "action_density", "nn"):
        if getattr(run, name) is None:  # nn: files of earlier versions
            continue
        x = getattr(run, name)[cut.cut:]
        bad = int(np.count_nonzero(~np.isfinite(x)))
        if bad:
            raise InputError(run.path, f"{bad} of {x.size} kept values of /observables/{name} "
                                       "are not finite (the field overflowed): no averages")
    return cut


def _from(key: str, label: str, r: GammaResult, samples: int) -> Estimate:
    return Estimate(key, label, r.value, r.error, r.tau_int, r.tau_int_error, r.window, samples)


def _undefined(key: str, label: str, samples: int, note: str) -> Estimate:
    return Estimate(key, label, None, None, None, None, None, samples, note)


def _primary(key: str, label: str, parts: Sequence[np.ndarray]) -> Estimate:
    data = np.concatenate(parts)
    try:
        r = gamma_method(data, replicas=[p.size for p in parts])
    except ValueError as e:
        return _undefined(key, label, data.size, str(e))
    return _from(key, label, r, data.size)


def _derived(key: str, label: str, parts: Sequence[Sequence[np.ndarray]],
             f: Callable[[np.ndarray], float], undefined: str) -> Estimate:
    """f of the means of several series; parts[k] are series k's replicas."""
    series = [np.concatenate(p) for p in parts]
    lengths = [p.size for p in parts[0]]
    try:
        with np.errstate(all="ignore"):
            r = gamma_method_derived(series, f, replicas=lengths)
    except ArithmeticError:
        return _undefined(key, label, series[0].size, undefined)
    return _from(key, label, r, series[0].size)


def _sampler_start(run: RunFile, cut: FileCut) -> int:
    """First /sampler row after the dropped measurements (row k is update k + 1)."""
    return run.thermalize if cut.cut == 0 else int(run.step[cut.cut - 1])


def _correlator_rows(run: RunFile, cut: FileCut) -> np.ndarray:
    """Rows of /correlators whose measurements all lie after the cut."""
    corr = run.correlators
    if cut.cut == 0:
        return np.ones(corr.step.size, dtype=bool)
    first = corr.step - (corr.block - 1) * run.measure_every
    return first >= run.step[cut.cut]


def _xi2(l0: int) -> Callable[[np.ndarray], float]:
    """xi_2 = sqrt(G0/Gpmin_bar - 1)/(2 sin(pi/L_0)) of means [G0, Gpmin_mu...]; NaN if G0 <."""
    def f(a: np.ndarray) -> float:
        ratio = a[0] / np.mean(a[1:]) - 1.0
        return math.sqrt(ratio) / (2.0 * math.sin(math.pi / l0)) if ratio >= 0 else math.nan
    return f


def _correlator_estimates(runs, cuts, dims, notes) -> List[Estimate]:
    missing = [r.path for r in runs if r.correlators is None]
    if missing:
        if len(missing) < len(runs):
            notes.append(f"correlators skipped: none in {', '.join(missing)}")
        return []
    if len({r.correlators.block for r in runs}) > 1:
        notes.append("correlators skipped: the replicas differ in output.correlators or "
                     "output.block_measurements")
        return []
    keep = [_correlator_rows(r, c) for r, c in zip(runs, cuts)]
    short = [r.path for r, k in zip(runs, keep) if np.count_nonzero(k) < 2]
    if short:
        notes.append(f"correlators skipped: fewer than 2 rows after the cut in {', '.join(short)}")
        return []
    g0 = [r.correlators.g0[k] for r, k in zip(runs, keep)]
    gp = [[r.correlators.gpmin[k, mu] for r, k in zip(runs, keep)] for mu in range(len(dims))]
    out = [_primary("G0", "<G(0)>", g0)]
    out += [_primary(f"Gpmin_{mu}", f"<G(pmin e_{mu})>", gp[mu]) for mu in range(len(dims))]
    same = [mu for mu in range(len(dims)) if dims[mu] == dims[0]]
    out.append(_derived("xi2", "xi_2", [g0] + [gp[mu] for mu in same], _xi2(dims[0]),
                        "not defined at these means: needs <G(0)> >= <G(pmin)> > 0"))
    return out


def _sampler_estimates(runs, cuts, notes) -> List[Estimate]:
    out = []
    if all(r.accept is not None for r in runs):
        parts = [r.accept[_sampler_start(r, c):] for r, c in zip(runs, cuts)]
        if min(p.size for p in parts) >= 2:
            out.append(_primary("acceptance", "acceptance", parts))
    if all(r.delta_h is not None for r in runs):
        parts = []
        for r, c in zip(runs, cuts):
            dh = r.delta_h[_sampler_start(r, c):]
            with np.errstate(over="ignore"):
                parts.append(np.exp(-dh[~np.isnan(dh)]))  # dH = +inf: rejected, weight 0
        if min(p.size for p in parts) >= 2:
            if all(np.all(np.isfinite(p)) for p in parts):
                out.append(_primary("exp_minus_delta_h", "<exp(-dH)>", parts))
            else:
                out.append(_undefined("exp_minus_delta_h", "<exp(-dH)>",
                                      sum(p.size for p in parts),
                                      "exp(-dH) overflows: not in equilibrium"))
    if all(r.ess is not None for r in runs):
        parts = []
        for r, c in zip(runs, cuts):
            e = r.ess[_sampler_start(r, c):]
            parts.append(e[~np.isnan(e)])
        if min(p.size for p in parts) >= 2:
            out.append(_primary("ess", "ESS / block size", parts))
    return out


def analyse(name: str, runs: Sequence[RunFile], cuts: Sequence[FileCut]) -> Analysis:
    """All estimates of one file or of one point's replicas (runs[i] cut by cuts[i])."""
    dims = list(runs[0].dims)
    v = float(runs[0].volume)
    notes = [f"{c.path}: no candidate cut passed the test, cut at n/2; the chain may not be "
             "in equilibrium" for c in cuts if not c.converged]
    m = [r.mag[c.cut:] for r, c in zip(runs, cuts)]
    if all(np.all(x == m[0][0]) for x in m):
        notes.append("m is the same in every kept measurement: the chain did not move, the "
                     "averages are those of one configuration (as latdiff's summary warns)")
    abs_m = [np.abs(x) for x in m]
    m2 = [x * x for x in m]
    m4 = [x * x for x in m2]
    est = [
        _primary("mag", "<m>", m),
        _primary("abs_mag", "<|m|>", abs_m),
        _primary("mag2", "<m^2>", m2),
        _primary("phi2", "<phi^2>", [r.phi2[c.cut:] for r, c in zip(runs, cuts)]),
        _primary("action_density", "<S/V>",
                 [r.action_density[c.cut:] for r, c in zip(runs, cuts)]),
        _derived("chi", "chi = V(<m^2>-<|m|>^2)", [abs_m, m2],
                 lambda a: v * (a[1] - a[0] * a[0]), "not defined"),
        _derived("chi_prime", "chi' = V<m^2>", [m2], lambda a: v * a[0], "not defined"),
        _derived("binder", "U = 1-<m^4>/(3<m^2>^2)", [m2, m4],
                 lambda a: 1.0 - a[1] / (3.0 * a[0] * a[0]), "not defined: m = 0 throughout"),
    ]
    est += _correlator_estimates(runs, cuts, dims, notes)
    est += _sampler_estimates(runs, cuts, notes)
    return Analysis(name, list(cuts), dims, int(v), est, notes)
