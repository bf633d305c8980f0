"""latdiff-analyze on a free-field latdiff chain reproduces the exact Gaussian expectations.

Mass form, S = sum_x [1/2 sum_mu (phi_{x+mu} - phi_x)^2 + 1/2 m2 phi_x^2]: every Fourier mode
is Gaussian with <|phi~(p)|^2>/V = G(p) = 1/(phat^2 + m2). A 16 x 8 lattice, so that xi_2
must average Gpmin over the directions with L_mu = L_0 only (here mu = 0).
"""

import math

import h5py
import numpy as np
import pytest

from conftest import analyze, analyze_json, observables

M2 = 0.5
DIMS = (16, 8)
V = DIMS[0] * DIMS[1]

DECK = f"""
[lattice]
dims = {DIMS[0]} {DIMS[1]}
[action]
form = mass
m2 = {M2}
g = 0
[sampler]
type = hmc
trajectory_length = 1.0
md_steps = 10
[run]
seed = 5
thermalize = 50
updates = 12000
[output]
file = free.h5
correlators = measurement
"""


def phat2(n, length):
    return 4.0 * math.sin(math.pi * n / length) ** 2


def exact():
    p2 = np.add.outer([phat2(n, DIMS[0]) for n in range(DIMS[0])],
                      [phat2(n, DIMS[1]) for n in range(DIMS[1])])
    m2 = 1.0 / (V * M2)                           # <m^2>: the p = 0 mode
    abs_m = math.sqrt(2.0 * m2 / math.pi)         # <|m|> of a Gaussian m
    return {
        "mag": 0.0,
        "abs_mag": abs_m,
        "mag2": m2,
        "phi2": float(np.mean(1.0 / (p2 + M2))),
        "action_density": 0.5,                    # equipartition: <S> = V/2
        "chi": V * (m2 - abs_m**2),
        "chi_prime": 1.0 / M2,
        "binder": 0.0,                            # <m^4> = 3<m^2>^2
        "G0": 1.0 / M2,
        "Gpmin_0": 1.0 / (phat2(1, DIMS[0]) + M2),
        "Gpmin_1": 1.0 / (phat2(1, DIMS[1]) + M2),
        "xi2": math.sqrt(phat2(1, DIMS[0]) / M2) / (2.0 * math.sin(math.pi / DIMS[0])),
        "exp_minus_delta_h": 1.0,                 # Creutz: <exp(-dH)> = 1
    }


def test_free_field_matches_exact_values_within_four_errors(tmp_path, latdiff):
    path, _ = latdiff(tmp_path, DECK)
    doc = analyze_json(tmp_path, path)
    obs = observables(doc)
    for key, want in exact().items():
        e = obs[key]
        assert e["value"] is not None, (key, e)
        assert e["error"] > 0, (key, e)
        assert abs(e["value"] - want) < 4 * e["error"], (key, e, want)
    # The HMC chain is autocorrelated in m (the zero mode turns slowly): the errors must
    # say so, or the comparison above would be too lax a test of the error's size.
    assert obs["mag"]["tau_int"] > 1.5 * 0.5, obs["mag"]
    assert obs["mag"]["samples"] == doc["analyses"][0]["files"][0]["kept"]


def test_free_field_table_names_every_observable(tmp_path, latdiff):
    path, _ = latdiff(tmp_path, DECK, "--run.updates=2000")
    r = analyze(path)
    assert r.returncode == 0, r.stderr
    for label in ("<m>", "<|m|>", "<m^2>", "<phi^2>", "<S/V>", "chi = V(<m^2>-<|m|>^2)",
                  "chi' = V<m^2>", "U = 1-<m^4>/(3<m^2>^2)", "<G(0)>", "<G(pmin e_0)>",
                  "<G(pmin e_1)>", "xi_2", "acceptance", "<exp(-dH)>"):
        assert f"  {label} " in r.stdout, (label, r.stdout)
    assert "2000 measurements" in r.stdout


def test_block_correlator_rows_are_cut_with_their_measurements(tmp_path, latdiff):
    # Rows of 100 measurements; a cut of 250 measurements keeps the blocks that start at or
    # after measurement 250, i.e. from the fourth block (measurements 300...399) on.
    path, _ = latdiff(tmp_path, DECK, "--lattice.dims=8 8", "--run.updates=2000",
                      "--output.correlators=block", "--output.block_measurements=100")
    doc = analyze_json(tmp_path, path, "--thermalize", "250")
    obs = observables(doc)
    with h5py.File(path) as f:
        g0 = f["correlators/G0"][3:]
        gp = f["correlators/Gpmin"][3:]
    assert obs["mag"]["samples"] == 1750
    assert obs["G0"]["samples"] == g0.size == 17
    assert obs["G0"]["value"] == pytest.approx(g0.mean(), rel=1e-12)
    want = math.sqrt(g0.mean() / gp.mean() - 1.0) / (2.0 * math.sin(math.pi / 8))
    assert obs["xi2"]["value"] == pytest.approx(want, rel=1e-12)
