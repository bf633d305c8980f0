"""Chains that fail are run to the end and said so: a proposal with a non-finite energy change
is rejected (delta_h = +inf in the file, the same on every decomposition) and counted in a
summary warning; a chain that never moves gets a warning naming the step-size key of its
sampler; unadjusted Langevin, which cannot reject, stops with an error naming
sampler.langevin_step."""

import math
import re

import numpy as np
import pytest

from conftest import EXIT_RUNTIME, assert_same_chain, describe, read_output

NON_FINITE = re.compile(r"^warning: (\d+) of (\d+) proposals had a non-finite energy change "
                        r"and were rejected; reduce (.+)$", re.MULTILINE)
NEVER_MOVED = re.compile(r"^warning: no proposal was accepted in (\d+) updates: the chain never "
                         r"moved and its averages are those of the start configuration; "
                         r"lower (.+)$", re.MULTILINE)
STUCK = re.compile(r"^warning: m is the same in all (\d+) measurements: the chain stopped "
                   r"moving and its averages are those of a single configuration; lower (.+)$",
                   re.MULTILINE)
HMC_STEP = "the step size sampler.trajectory_length / sampler.md_steps"

# 2D critical-region couplings of input/quickstart.ini.
QUICKSTART = ["--lattice.dims=32 32", "--action.kappa=0.34", "--action.lambda=0.5",
              "--run.thermalize=0"]


def exp_minus_delta_h(out):
    m = re.search(r"^\s*<exp\(-dH\)>\s+(\S+) \+- (\S+)", out, re.MULTILINE)
    assert m, f"no '<exp(-dH)> <value> +- <error>' line:\n{out}"
    return float(m.group(1)), float(m.group(2))


def test_hmc_huge_step_rejects_every_trajectory_on_every_decomposition(latdiff):
    args = ["--lattice.dims=8 12", "--action.kappa=0.3", "--action.lambda=0.5", "--run.start=hot",
            "--sampler.trajectory_length=1e300", "--run.updates=10"]
    outputs = []
    for np_ in (1, 2):
        r = latdiff.ok(args + [f"--output.file=np{np_}.h5"], np=np_)
        out = r.stdout
        data = read_output(latdiff.cwd / f"np{np_}.h5")
        outputs.append(data)
        assert np.all(data["sampler/accept"] == 0)
        assert np.all(data["sampler/delta_h"] == math.inf), data["sampler/delta_h"]
        assert np.all(data["observables/mag"] == data["observables/mag"][0])
        m = NON_FINITE.search(out)
        assert m and m.groups() == ("10", "10", HMC_STEP), out
        m = NEVER_MOVED.search(out)
        assert m and m.groups() == ("10", HMC_STEP), out
        # exp(-inf) = 0 for every rejected trajectory.
        assert exp_minus_delta_h(out) == (0.0, 0.0)
    assert_same_chain(outputs[0], outputs[1], "np 1 vs 2")


def test_partly_non_finite_trajectories_are_counted_and_averaged_as_zero(latdiff):
    # Leapfrog at a step where phi^4 trajectories with large momenta run away: some overflow.
    args = ["--lattice.dims=4 4", "--action.kappa=0.1", "--action.lambda=2", "--run.start=hot",
            "--sampler.integrator=leapfrog", "--sampler.md_steps=20",
            "--sampler.trajectory_length=5", "--run.updates=200"]
    outputs = []
    for np_ in (1, 2):
        r = latdiff.ok(args + [f"--output.file=np{np_}.h5"], np=np_)
        data = read_output(latdiff.cwd / f"np{np_}.h5")
        outputs.append(data)
        dh, accept = data["sampler/delta_h"], data["sampler/accept"]
        inf = np.isinf(dh)
        assert 0 < inf.sum() < len(dh) // 2, f"{inf.sum()} of {len(dh)} non-finite"
        assert not np.isnan(dh).any()
        assert np.all(dh[inf] > 0) and np.all(accept[inf] == 0)
        assert 0.2 < accept.mean() < 0.8
        m = NON_FINITE.search(r.stdout)
        assert m and m.groups() == (str(inf.sum()), "200", HMC_STEP), r.stdout
        assert not NEVER_MOVED.search(r.stdout) and not STUCK.search(r.stdout)
        w, w_err = exp_minus_delta_h(r.stdout)
        assert math.isclose(w, np.exp(-dh).mean(), rel_tol=2e-5), (w, np.exp(-dh).mean())
        assert w_err > 0
    assert_same_chain(outputs[0], outputs[1], "np 1 vs 2")


@pytest.mark.parametrize("sampler,options,key", [
    ("metropolis", ["--sampler.step=1e160"], "sampler.step"),
    # From a cold start MALA rejects every proposal at a moderate step.
    ("mala", ["--sampler.langevin_step=0.3"], "sampler.langevin_step"),
    ("mala", ["--sampler.langevin_step=0.3", "--sampler.fourier_acceleration=true"],
     "sampler.langevin_step"),
])
def test_chain_that_never_moves_is_warned_about(latdiff, sampler, options, key):
    r = latdiff.ok(QUICKSTART + [f"--sampler.type={sampler}", "--run.start=cold",
                                 "--run.updates=40", *options], np=2)
    data = read_output(latdiff.cwd / "latdiff.h5")
    assert np.all(data["sampler/accept"] == 0)
    assert np.all(data["observables/mag"] == 0)
    m = NEVER_MOVED.search(r.stdout)
    assert m and m.groups() == ("40", key), r.stdout
    assert not STUCK.search(r.stdout)
    if sampler == "mala":
        # Rejected for a large finite delta_h, not for overflow.
        assert np.all(np.isfinite(data["sampler/delta_h"]))
        assert not NON_FINITE.search(r.stdout)


def test_chain_stuck_after_its_first_update_is_warned_about(latdiff):
    # Fourier-accelerated MALA from a cold start accepts its first proposal, then none.
    r = latdiff.ok(QUICKSTART + ["--sampler.type=mala", "--run.start=cold", "--run.updates=40",
                                 "--sampler.langevin_step=0.1",
                                 "--sampler.fourier_acceleration=true"], np=2)
    data = read_output(latdiff.cwd / "latdiff.h5")
    assert data["sampler/accept"][0] == 1 and np.all(data["sampler/accept"][1:] == 0)
    m = STUCK.search(r.stdout)
    assert m and m.groups() == ("40", "sampler.langevin_step"), r.stdout
    assert not NEVER_MOVED.search(r.stdout)


def test_overflowing_exp_minus_delta_h_is_reported_not_fatal(latdiff):
    # MALA relaxing from a hot start with a strong coupling: S drops by ~1e3 in one step, so
    # exp(-delta_h) overflows a double.
    r = latdiff.ok(["--lattice.dims=64 64", "--action.kappa=0.34", "--action.lambda=20",
                    "--sampler.type=mala", "--sampler.langevin_step=0.01", "--run.start=hot",
                    "--run.updates=20"], np=2)
    dh = read_output(latdiff.cwd / "latdiff.h5")["sampler/delta_h"]
    assert dh.min() < -710
    assert re.search(r"^\s*<exp\(-dH\)>\s+inf\s+\(exp\(-dH\) overflows at min dH = ", r.stdout,
                     re.MULTILINE), r.stdout
    assert re.search(r"^\s*<\|m\|>\s+\S+ \+- ", r.stdout, re.MULTILINE), r.stdout


@pytest.mark.parametrize("options", [
    ["--sampler.langevin_step=1e300"],
    ["--sampler.langevin_step=1e300", "--sampler.fourier_acceleration=true"],
])
def test_langevin_overflow_is_an_error_naming_the_step(latdiff, options):
    r = latdiff.run(QUICKSTART + ["--sampler.type=langevin", "--run.updates=10", *options], np=2)
    assert r.returncode == EXIT_RUNTIME, describe(r)
    assert "sampler.langevin_step" in r.stderr and "non-finite" in r.stderr, describe(r)
    assert "latdiff summary" not in r.stdout
