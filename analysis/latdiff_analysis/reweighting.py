"""Single-histogram reweighting (Ferrenberg and Swendsen, PRL 61 (1988) 2635) of a chain run
at coupling c0 to a nearby coupling c, for the couplings the action is linear in:

    action.kappa (hopping form)  S = -2 kappa E + ...,  E = sum_{x,mu} phi_x phi_{x+mu} = d V nn
    action.m2 (mass form)        S = (m2 / 2) V phi2 + ...

so <O>_c = <O w>_c0 / <w>_c0 with w = exp(-(c - c0) dS/dc). Every reweighted observable is a
function of means of the series w, w|m|, w m^2, w m^4, and its error comes from the Gamma
method with linearised propagation (gamma_method_derived), autocorrelations included. The
normalised effective sample size (sum w)^2 / (n sum w^2) says how far c may be from c0: where
it is small, the few configurations that dominate make the estimate unreliable.
"""

from typing import Dict, List, Optional, Sequence

import numpy as np

from .autocorrelation import gamma_method_derived
from .files import RunFile

REWEIGHTABLE = ("action.kappa", "action.m2")
OBSERVABLES = ("abs_mag", "chi", "chi_prime", "binder")


def action_derivative(run: RunFile, key: str) -> Optional[np.ndarray]:
    """dS/dc per measurement for coupling `key`, or None when the file cannot give it."""
    form = run.deck.get("action.form", "hopping")
    if key == "action.kappa" and form == "hopping" and run.nn is not None:
        return -2.0 * len(run.dims) * run.volume * run.nn
    if key == "action.m2" and form == "mass":
        return 0.5 * run.volume * run.phi2
    return None


def can_reweight(runs: Sequence[RunFile], key: str) -> bool:
    return all(action_derivative(r, key) is not None for r in runs)


def reweight(runs: Sequence[RunFile], cuts: Sequence[int], key: str, c0: float, c: float,
             observables: Sequence[str] = OBSERVABLES) -> Dict[str, tuple]:
    """{observable: (value, error)} of `observables` (of OBSERVABLES) at coupling c from
    replicas `runs` of the point c0 (measurements after cuts[i]), plus "ess": the weights'
    normalised effective sample size. Raises ValueError when the file has no dS/dc for key."""
    slopes: List[np.ndarray] = []
    for r, cut in zip(runs, cuts):
        ds = action_derivative(r, key)
        if ds is None:
            raise ValueError(f"{r.path}: no dS/d{key} per measurement to reweight with")
        slopes.append(ds[cut:])
    exponent = -(c - c0) * np.concatenate(slopes)
    w = np.exp(exponent - exponent.max())  # the scale cancels in every ratio
    m = np.concatenate([r.mag[cut:] for r, cut in zip(runs, cuts)])
    m2 = m * m
    series = [w, w * np.abs(m), w * m2, w * m2 * m2]
    lengths = [s.size for s in slopes]
    v = float(runs[0].volume)
    functions = {
        "abs_mag": lambda a: a[1] / a[0],
        "chi": lambda a: v * (a[2] / a[0] - (a[1] / a[0]) ** 2),
        "chi_prime": lambda a: v * a[2] / a[0],
        "binder": lambda a: 1.0 - (a[3] / a[0]) / (3.0 * (a[2] / a[0]) ** 2),
    }
    out = {}
    for name in observables:
        r = gamma_method_derived(series, functions[name], replicas=lengths)
        out[name] = (r.value, r.error)
    out["ess"] = (float(w.sum() ** 2 / (w.size * np.sum(w * w))), 0.0)
    return out
