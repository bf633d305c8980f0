"""Single-histogram reweighting (reweighting.py) against exact free-field values, in both
couplings the action is linear in. Free field: chi' = V<m^2> = G(0) exactly,
  hopping form  S = sum_x [-2 kappa sum_mu phi_x phi_{x+mu} + phi_x^2]:  G(0) = 1/(2(1 - 2 d kappa))
  mass form     S = sum_x [1/2 sum_mu (phi_{x+mu} - phi_x)^2 + 1/2 m2 phi_x^2]:  G(0) = 1/m2.
One chain at c0 is reweighted to c0 +- delta, where the exact values differ from the one at
c0 by more than five error bars: a wrong sign or factor of the weights fails, and so does an
error bar that is too small (the pulls are checked against 4 sigma)."""

import pytest

from latdiff_analysis.files import read_run
from latdiff_analysis.reweighting import action_derivative, reweight

HOPPING = """
[lattice]
dims = 8 8
[action]
form = hopping
kappa = {c0}
lambda = 0
[sampler]
md_steps = 8
[run]
seed = 11
thermalize = 100
updates = 40000
"""

MASS = """
[lattice]
dims = 8 8
[action]
form = mass
m2 = {c0}
g = 0
[sampler]
md_steps = 8
[run]
seed = 12
thermalize = 100
updates = 40000
"""

CASES = {
    "kappa": (HOPPING, "action.kappa", 0.11, 0.01, lambda k: 1 / (2 * (1 - 4 * k))),
    "m2": (MASS, "action.m2", 0.5, 0.05, lambda m2: 1 / m2),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_reweighting_reproduces_the_exact_free_field(tmp_path, latdiff, case):
    deck, key, c0, delta, exact = CASES[case]
    path, _ = latdiff(tmp_path, deck.format(c0=c0))
    run = read_run(str(path))
    at_c0 = reweight([run], [0], key, c0, c0)
    assert at_c0["ess"][0] == 1.0
    for c in (c0 - delta, c0 + delta):
        values = reweight([run], [0], key, c0, c)
        value, error = values["chi_prime"]
        assert abs(value - exact(c)) < 4 * error, (c, value, error, exact(c))
        # The test has power: the exact value moved by far more than the error bar.
        assert abs(exact(c) - exact(c0)) > 5 * error, (c, error)
        assert 0.05 < values["ess"][0] < 1.0


def test_hopping_derivative_is_the_nearest_neighbour_sum(tmp_path, latdiff):
    """dS/dkappa = -2 d V nn: checked against S/V at two couplings of one configuration
    series (the rest of S does not depend on kappa)."""
    path, _ = latdiff(tmp_path, HOPPING.format(c0=0.11).replace("lambda = 0", "lambda = 0.3"),
                      "--run.updates=50")
    run = read_run(str(path))
    ds = action_derivative(run, "action.kappa")
    lam_part = run.action_density * run.volume - 0.11 * ds
    # S(kappa') = S(kappa) + (kappa' - kappa) dS/dkappa, so S - kappa dS/dkappa is kappa-free:
    # it must equal sum [phi^2 + lambda (phi^2 - 1)^2] >= V * phi2.
    assert (lam_part >= run.volume * run.phi2 - 1e-9).all()
    assert action_derivative(run, "action.m2") is None
