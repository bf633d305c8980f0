"""latdiff's own summary (src/app/summary.cpp) and latdiff-analyze --thermalize 0 agree.

Both run the Gamma method with the same conventions on the same rows; the C++ prints
value %.6g, error %.2g and tau_int %.3g, so the Python numbers must round to what it prints.
"""

import math
import re

import pytest

from conftest import analyze_json, observables

DECK = """
[lattice]
dims = 8 8
[action]
form = hopping
kappa = 0.3
lambda = 0.5
[sampler]
type = hmc
trajectory_length = 1.0
md_steps = 8
step = 1.5
[run]
seed = 17
start = hot
"""

# Summary label -> latdiff-analyze key.
LINES = {
    "acceptance": "acceptance",
    "<exp(-dH)>": "exp_minus_delta_h",
    "<|m|>": "abs_mag",
    "chi = V(<m2>-<|m|>2)": "chi",
    "chi' = V<m2>": "chi_prime",
    "U = 1-<m4>/(3<m2>2)": "binder",
}
LINE = re.compile(r"^  (.{22}) (\S+) \+- (\S+)  \(tau_int (\S+)\)$")


def summary_lines(stdout):
    out = {}
    for line in stdout.splitlines():
        m = LINE.match(line)
        if m and m.group(1).strip() in LINES:
            out[m.group(1).strip()] = m.group(2, 3, 4)
    return out


def rounds_to(x, printed, digits):
    """Whether x printed with %.{digits}g gives `printed` (or lies within half its last unit,
    for values on a rounding boundary)."""
    if format(x, f".{digits}g") == printed:
        return True
    p = float(printed)
    if p == 0.0:
        return x == 0.0
    unit = 10.0 ** (math.floor(math.log10(abs(p))) - digits + 1)
    return abs(x - p) <= 0.5 * unit * (1 + 1e-9)


@pytest.mark.parametrize("overrides, expected", [
    # HMC from a hot start, no run.thermalize: the transient is in the measurements.
    (["--run.updates=6000"], set(LINES)),
    # Metropolis after run.thermalize, measuring every 3rd sweep: the acceptance rows must
    # start after the thermalization, the measurements are every third update.
    (["--sampler.type=metropolis", "--run.thermalize=100", "--run.measure_every=3",
      "--run.updates=9000"], set(LINES) - {"<exp(-dH)>"}),
])
def test_summary_and_analysis_agree_to_printed_precision(tmp_path, latdiff, overrides,
                                                        expected):
    path, stdout = latdiff(tmp_path, DECK, *overrides)
    printed = summary_lines(stdout)
    assert set(printed) == expected, stdout
    doc = analyze_json(tmp_path, path, "--thermalize", "0")
    obs = observables(doc)
    n_meas = int(re.search(r"^  measurements\s+(\d+)$", stdout, re.M).group(1))
    assert doc["analyses"][0]["files"][0]["kept"] == n_meas
    for label, (value, error, tau) in printed.items():
        e = obs[LINES[label]]
        assert rounds_to(e["value"], value, 6), (label, e, value)
        assert rounds_to(e["error"], error, 2), (label, e, error)
        assert rounds_to(e["tau_int"], tau, 3), (label, e, tau)
