"""The automatic thermalization cut: past most of a known transient, never beyond n/2, none
for a stationary chain; and latdiff-analyze reports and applies it."""

import numpy as np
import pytest
from scipy.signal import lfilter

from conftest import analyze_json, fake_run, observables
from latdiff_analysis import gamma_method
from latdiff_analysis.thermalization import candidates, detect_cut

N = 20_000


def noise(n=N, rho=0.5, seed=1):
    rng = np.random.default_rng(seed)
    c = np.sqrt(1.0 - rho * rho)
    return lfilter([c], [1.0, -rho], rng.standard_normal(n), zi=[rho * rng.standard_normal()])[0]


def transient(decay, amplitude, n=N):
    return amplitude * np.exp(-np.arange(n) / decay)


def test_candidates():
    assert candidates(20_000) == [0, 625, 1250, 2500, 5000, 10_000]
    assert candidates(5) == [0, 1, 2]
    assert candidates(0) == [0]


@pytest.mark.parametrize("decay", [100, 400, 1500])
@pytest.mark.parametrize("amplitude", [10.0, -4.0])
def test_cut_past_most_of_an_exponential_transient(decay, amplitude):
    # m^2-like series relaxing from far away; the action density relaxes twice as fast.
    m2 = noise(seed=2) + transient(decay, amplitude)
    action = noise(seed=3) + transient(decay / 2, -amplitude)
    det = detect_cut([m2, action])
    # Past the point where the transient has fallen to the noise (unit variance), not
    # beyond n/2.
    assert decay * np.log(abs(amplitude)) <= det.cut <= N // 2, det
    assert det.converged, det
    # What is left is unbiased within its error.
    r = gamma_method(m2[det.cut:])
    assert abs(r.value) < 4 * r.error, (det, r)


def test_a_stationary_chain_is_not_cut():
    det = detect_cut([noise(seed=4), noise(rho=0.9, seed=5)])
    assert det.cut == 0 and det.converged, det


def test_a_transient_longer_than_the_chain_is_cut_at_half_and_flagged():
    det = detect_cut([noise(seed=6) + transient(N / 4, 10.0)])
    assert det.cut == N // 2 and not det.converged, det


def test_latdiff_analyze_reports_and_applies_the_cut(tmp_path):
    n = 8000
    mag = np.sqrt(np.abs(2.0 + noise(n, seed=7) * 0.1 + transient(200, 6.0, n)))
    path = fake_run(tmp_path / "t.h5", mag, action=noise(n, seed=8))
    want = detect_cut([mag**2, noise(n, seed=8)]).cut
    assert want > 0
    doc = analyze_json(tmp_path, path)
    f = doc["analyses"][0]["files"][0]
    assert f["cut"] == want and f["kept"] == n - want and f["cut_rule"].startswith("auto")
    assert observables(doc)["mag2"]["value"] == pytest.approx(np.mean(mag[want:] ** 2))
    # A given cut replaces the rule.
    doc = analyze_json(tmp_path, path, "--thermalize", "123")
    f = doc["analyses"][0]["files"][0]
    assert (f["cut"], f["cut_rule"]) == (123, "given")
    assert observables(doc)["mag"]["value"] == pytest.approx(gamma_method(mag[123:]).value)
    assert observables(doc)["acceptance"]["samples"] == n - 123
