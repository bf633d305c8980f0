"""The summary printed on success: acceptance, <|m|> and chi with '+-' errors, whose values
agree with the series in the output file, and no warning for a healthy chain."""

import math
import re

import numpy as np
import pytest

from conftest import read_output

NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:inf|nan)"


def summary_value(stdout, label):
    """(value, error) of the summary line starting with label."""
    m = re.search(rf"^\s*{re.escape(label)}\s+({NUMBER}) \+- ({NUMBER})", stdout, re.MULTILINE)
    assert m, f"no '{label} <value> +- <error>' line in the summary:\n{stdout}"
    return float(m.group(1)), float(m.group(2))


def close(printed, exact):
    """printed is exact formatted with %.6g."""
    return math.isclose(printed, exact, rel_tol=2e-5, abs_tol=1e-300)


@pytest.mark.parametrize("sampler,ranks", [("metropolis", 1), ("hmc", 2)])
def test_summary(latdiff, sampler, ranks):
    thermalize, dims = 20, (8, 12)
    r = latdiff.ok([f"--lattice.dims={dims[0]} {dims[1]}", f"--sampler.type={sampler}",
                    "--action.kappa=0.3", "--action.lambda=0.5", "--run.start=hot",
                    f"--run.thermalize={thermalize}", "--run.updates=300", "--run.seed=8",
                    "--sampler.md_steps=4", "--sampler.trajectory_length=1.5",
                    "--sampler.step=1.5"], np=ranks)
    out = r.stdout
    assert out.count("latdiff summary") == 1, "summary printed more than once"
    assert r.stderr.strip() == ""
    # A healthy chain (test_sampler_failures.py has the failing ones).
    assert "warning" not in out, out
    data = read_output(latdiff.cwd / "latdiff.h5")
    mag = data["observables/mag"]
    accept = data["sampler/accept"][thermalize:]
    volume = dims[0] * dims[1]

    acc, acc_err = summary_value(out, "acceptance")
    assert close(acc, accept.mean()), (acc, accept.mean())
    assert 0 < acc_err < 1 and math.isfinite(acc_err)
    assert 0 < acc < 1

    absm, absm_err = summary_value(out, "<|m|>")
    assert close(absm, np.abs(mag).mean()), (absm, np.abs(mag).mean())
    assert 0 < absm_err < absm

    chi, chi_err = summary_value(out, "chi = V(<m2>-<|m|>2)")
    exact_chi = volume * (np.mean(mag**2) - np.mean(np.abs(mag)) ** 2)
    assert close(chi, exact_chi), (chi, exact_chi)
    assert 0 < chi_err and math.isfinite(chi_err)

    chi_prime, _ = summary_value(out, "chi' = V<m2>")
    assert close(chi_prime, volume * np.mean(mag**2))

    m = re.search(r"^\s*measurements\s+(\d+)", out, re.MULTILINE)
    assert m and int(m.group(1)) == len(mag) == 300
    if sampler == "hmc":
        w, w_err = summary_value(out, "<exp(-dH)>")
        assert close(w, np.exp(-data["sampler/delta_h"][thermalize:]).mean())
        assert w_err > 0
    else:
        assert "<exp(-dH)>" not in out
