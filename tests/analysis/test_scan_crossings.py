"""Crossings and collapses of scan.py and collapse.py on synthetic data with a known answer:
U_L(c) = F((c - c_c) L^(1/nu)) plus Gaussian noise of known size at each simulated point.
The crossing's linearised error bar must describe its scatter (the pulls over many noise
realisations have a spread near 1), and the collapse must recover c_c and nu."""

import math

import numpy as np

from latdiff_analysis.collapse import fit_collapse, quality, series_of
from latdiff_analysis.observables import Analysis, Estimate
from latdiff_analysis.scan import ScanAnalysis, ScanPoint, find_crossings

CRITICAL, NU = 0.34, 1.0
COUPLINGS = np.round(np.arange(0.32, 0.3601, 0.005), 3)
SIZES = (8, 16, 32)


def scaling_function(x):
    return 0.6 + 0.25 * np.tanh(3.0 * x)


def synthetic_scan(rng, sigma=0.004, key="action.lambda"):
    points = []
    for size in SIZES:
        for c in COUPLINGS:
            value = scaling_function((c - CRITICAL) * size ** (1 / NU)) + rng.normal(0, sigma)
            est = Estimate("binder", "U", float(value), sigma, 0.5, 0.0, 1, 1000)
            analysis = Analysis(f"L{size}_c{c}", [], [size, size], size * size, [est], [])
            points.append(ScanPoint([analysis.name], (size, size), float(c), [], [], analysis))
    return ScanAnalysis("synthetic", key, points)


def test_crossing_error_bars_describe_the_scatter():
    rng = np.random.default_rng(2026)
    pulls = {(8, 16): [], (16, 32): []}
    for _ in range(300):
        for crossing in find_crossings(synthetic_scan(rng)):
            assert crossing.observable == "binder" and not crossing.reweighted
            pulls[crossing.sizes].append((crossing.coupling - CRITICAL) / crossing.error)
    for sizes, p in pulls.items():
        p = np.array(p)
        assert p.size >= 290, (sizes, p.size)  # one crossing per realisation, nearly always
        # Linear interpolation between points 0.005 apart biases the root a little: the
        # mean pull stays well inside the spread.
        assert abs(np.median(p)) < 0.3, (sizes, np.median(p))
        # The root is a ratio of noisy differences, so its distribution has heavier tails
        # than a Gaussian where the slope is poorly known: the bulk is what the linearised
        # error describes, 68 % of the pulls within one error bar.
        spread = np.quantile(np.abs(p), 0.6827)
        assert 0.8 < spread < 1.2, (sizes, spread)


def test_noise_free_crossing_is_exact_at_a_simulated_coupling():
    scan = synthetic_scan(np.random.default_rng(0), sigma=1e-12)
    for crossing in find_crossings(scan):
        assert abs(crossing.coupling - CRITICAL) < 1e-9, crossing
        assert math.isclose(crossing.value, 0.6, abs_tol=1e-9)


def test_collapse_recovers_the_critical_coupling_and_nu():
    rng = np.random.default_rng(7)
    scan = synthetic_scan(rng, sigma=0.003)
    data = series_of({d[0]: [(p.coupling, *p.estimate("binder")) for p in scan.of_size(d)]
                      for d in scan.sizes()})
    col = fit_collapse("binder", data, 0.345, 1.3, 0.0, ["critical", "nu"])
    assert abs(col.critical - CRITICAL) < 4 * col.errors["critical"], col
    assert abs(col.nu - NU) < 4 * col.errors["nu"], col
    assert col.errors["critical"] < 0.002 and col.errors["nu"] < 0.1, col
    # S ~ 1 for a correct collapse with correct errors (less at the optimum, which also
    # chooses which points overlap).
    assert col.quality < 2.5, col
    # A wrong nu collapses badly.
    assert quality(data, CRITICAL, 2.0, 0.0)[0] > 5 * col.quality
