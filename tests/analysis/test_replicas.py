"""Wolff's replica Gamma method (gamma_method(..., replicas=lengths)) and latdiff-analyze
--replicas: known tau_int and error from AR(1) replicas, and two latdiff seeds combined."""

import numpy as np
import pytest
from scipy.signal import lfilter

from conftest import analyze_json, observables
from latdiff_analysis import gamma_method, gamma_method_derived
from latdiff_analysis.autocorrelation import replica_autocovariance


def ar1(rho, n, seed):
    """Stationary AR(1) of unit variance: x_t = rho x_{t-1} + sqrt(1 - rho^2) eta_t."""
    rng = np.random.default_rng(seed)
    eta = rng.standard_normal(n)
    c = np.sqrt(1.0 - rho * rho)
    return lfilter([c], [1.0, -rho], eta, zi=[rho * rng.standard_normal()])[0]


def exact_tau(rho):
    return (1.0 + rho) / (2.0 * (1.0 - rho))


LENGTHS = (60_000, 25_000, 15_000)


@pytest.mark.parametrize("rho", [0.0, 0.8, 0.95])
def test_ar1_replica_of_different_lengths_give_tau_and_error(rho):
    data = np.concatenate([ar1(rho, n, seed) for seed, n in enumerate(LENGTHS)])
    r = gamma_method(data, replicas=LENGTHS)
    assert abs(r.tau_int - exact_tau(rho)) < 3 * r.tau_int_error, r
    exact_error = np.sqrt(2.0 * exact_tau(rho) / data.size)
    assert r.error == pytest.approx(exact_error, rel=0.15), r
    assert r.value == pytest.approx(data.mean(), rel=1e-12)
    assert abs(r.value) < 4 * exact_error


def test_replica_autocovariance_sums_pairs_within_each_replica_only():
    rng = np.random.default_rng(4)
    parts = [rng.standard_normal(n) for n in (40, 17, 9)]
    d = np.concatenate(parts)
    max_lag = 12  # beyond the shortest replica, which then contributes nothing
    direct = []
    for t in range(max_lag + 1):
        s = sum(np.dot(p[: p.size - t], p[t:]) for p in parts if p.size > t)
        direct.append(s / sum(max(p.size - t, 0) for p in parts))
    got = replica_autocovariance(d, [p.size for p in parts], max_lag)
    np.testing.assert_allclose(got, direct, rtol=1e-10, atol=1e-13)


def test_replica_boundaries_are_not_correlated_across():
    # Two replicas, each a constant of its own sign: within a replica the fluctuation about
    # the overall mean never changes sign, so Gamma(1) = Gamma(0). Pairs across the boundary
    # would lower it.
    d = np.concatenate([np.ones(10), -np.ones(10)])
    g = replica_autocovariance(d, [10, 10], 5)
    np.testing.assert_allclose(g, np.ones(6))


def test_one_replica_is_bitwise_the_single_chain_analysis():
    x = ar1(0.7, 5001, seed=9)
    assert gamma_method(x, replicas=[x.size]) == gamma_method(x)
    f = lambda a: a[0] / (a[1] + 3.0)  # noqa: E731
    y = ar1(0.3, 5001, seed=10)
    assert (gamma_method_derived([x, y], f, replicas=[x.size])
            == gamma_method_derived([x, y], f))


def test_derived_with_replicas_propagates_linearly():
    lengths = (20_000, 8_000)
    x = np.concatenate([ar1(0.6, n, seed) for seed, n in enumerate(lengths, 20)])
    r = gamma_method(x, replicas=lengths)
    d = gamma_method_derived([x], lambda a: 3.0 * a[0] - 1.0, replicas=lengths)
    assert d.value == pytest.approx(3.0 * r.value - 1.0)
    assert d.error == pytest.approx(3.0 * r.error, rel=1e-6)
    assert d.tau_int == pytest.approx(r.tau_int, rel=1e-6)


def test_bad_replica_lengths_are_refused():
    x = np.arange(10.0)
    with pytest.raises(ValueError, match="sum to 9"):
        gamma_method(x, replicas=[5, 4])
    with pytest.raises(ValueError, match=">= 2"):
        gamma_method(x, replicas=[9, 1])
    with pytest.raises(ValueError, match="integers"):
        gamma_method(x, replicas=[5.5, 4.5])
    with pytest.raises(ValueError, match="sum to"):
        gamma_method_derived([x], lambda a: a[0], replicas=[3, 3])


DECK = """
[lattice]
dims = 8 8
[action]
form = mass
m2 = 0.5
g = 0
[sampler]
type = hmc
[run]
thermalize = 20
updates = 3000
"""


def test_two_latdiff_seeds_combined_have_a_smaller_error(tmp_path, latdiff):
    a, _ = latdiff(tmp_path, DECK, "--run.seed=1", name="a.h5")
    b, _ = latdiff(tmp_path, DECK, "--run.seed=2", "--run.updates=2000", name="b.h5")
    single = analyze_json(tmp_path, a, b)
    combined = analyze_json(tmp_path, a, b, "--replicas")
    assert len(single["analyses"]) == 2 and len(combined["analyses"]) == 1
    c = combined["analyses"][0]
    assert c["replicas"] == 2
    assert [f["measurements"] for f in c["files"]] == [3000, 2000]
    for key in ("abs_mag", "mag2", "phi2", "action_density", "chi_prime", "binder"):
        ea, eb, ec = (observables(single, 0)[key], observables(single, 1)[key],
                      observables(combined)[key])
        assert ec["error"] < min(ea["error"], eb["error"]), (key, ea, eb, ec)
        assert ec["samples"] == ea["samples"] + eb["samples"]
        # The mean over all data: the replica means weighted by their lengths.
        weighted = (ea["value"] * ea["samples"] + eb["value"] * eb["samples"]) / ec["samples"]
        if key in ("abs_mag", "mag2", "phi2", "action_density"):
            assert ec["value"] == pytest.approx(weighted, rel=1e-12)
