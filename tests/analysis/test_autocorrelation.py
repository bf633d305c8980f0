"""Tests of latdiff_analysis.autocorrelation against series with known autocorrelation."""

import numpy as np
import pytest

from latdiff_analysis import gamma_method, gamma_method_derived
from latdiff_analysis.autocorrelation import autocovariance

N = 200_000


def ar1(rho, n=N, seed=12345):
    """x_t = rho x_{t-1} + sqrt(1 - rho^2) eta_t from the stationary N(0, 1) start."""
    eta = np.random.default_rng(seed).standard_normal(n)
    x = np.empty(n)
    x[0] = eta[0]
    c = np.sqrt(1.0 - rho * rho)
    for t in range(1, n):
        x[t] = rho * x[t - 1] + c * eta[t]
    return x


def exact_tau(rho):
    return (1.0 + rho) / (2.0 * (1.0 - rho))


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_ar1_tau_int_within_three_stated_errors(rho):
    r = gamma_method(ar1(rho))
    assert r.tau_int_error > 0
    assert abs(r.tau_int - exact_tau(rho)) < 3 * r.tau_int_error, r


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_ar1_error_of_mean_matches_exact(rho):
    # Unit variance, so the exact error of the mean is sqrt(2 tau / N).
    r = gamma_method(ar1(rho))
    exact = np.sqrt(2.0 * exact_tau(rho) / N)
    assert r.error == pytest.approx(exact, rel=0.15)
    assert abs(r.value) < 4 * exact


def test_white_noise_has_tau_one_half_and_a_short_window():
    r = gamma_method(np.random.default_rng(7).standard_normal(50_000))
    assert r.tau_int == pytest.approx(0.5, abs=3 * r.tau_int_error)
    assert r.window < 10


def test_fft_autocovariance_equals_direct_sums():
    d = np.random.default_rng(3).standard_normal(301)
    direct = [np.dot(d[: d.size - t], d[t:]) / (d.size - t) for t in range(151)]
    np.testing.assert_allclose(autocovariance(d, 150), direct, rtol=1e-10, atol=1e-13)


def test_constant_series():
    assert tuple(gamma_method([2.5] * 10)) == (2.5, 0.0, 0.5, 0.0, 0)


def test_s_tau_zero_assumes_no_autocorrelation():
    r = gamma_method(ar1(0.9, n=20_000), s_tau=0.0)
    assert r.window == 0
    assert r.tau_int == pytest.approx(0.5, rel=1e-3)


def test_derived_linear_function_scales_error_and_keeps_tau():
    x = ar1(0.5, n=50_000)
    r, d = gamma_method(x), gamma_method_derived([x], lambda a: 3.0 * a[0] + 1.0)
    assert d.value == pytest.approx(3.0 * r.value + 1.0)
    assert d.error == pytest.approx(3.0 * r.error, rel=1e-6)
    assert d.tau_int == pytest.approx(r.tau_int, rel=1e-6)


def test_derived_ratio_of_two_series():
    # <x + 5>/<y + 5> for independent AR(1) series: linear error propagation.
    x, y = ar1(0.5, n=100_000, seed=1) + 5.0, ar1(0.5, n=100_000, seed=2) + 5.0
    r = gamma_method_derived([x, y], lambda a: a[0] / a[1])
    rx, ry = gamma_method(x), gamma_method(y)
    expected = np.hypot(rx.error / ry.value, rx.value * ry.error / ry.value**2)
    assert r.value == pytest.approx(rx.value / ry.value)
    assert r.error == pytest.approx(expected, rel=0.1)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="at least 2"):
        gamma_method([1.0])
    with pytest.raises(ValueError, match="non-finite value at index 1"):
        gamma_method([1.0, np.inf, 2.0])
    with pytest.raises(ValueError, match="s_tau"):
        gamma_method([1.0, 2.0], s_tau=-1.0)
    with pytest.raises(ValueError, match="length"):
        gamma_method_derived([[1.0, 2.0], [1.0, 2.0, 3.0]], lambda a: a[0])
    with pytest.raises(ArithmeticError):
        gamma_method_derived([[1.0, 2.0]], lambda a: np.inf)
