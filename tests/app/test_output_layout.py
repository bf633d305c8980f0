"""Layout and content of the HDF5 output file: root attributes, row datasets and their
lengths, saved configurations in global row-major order (checked against the observables
measured at the same step, including the action density, which depends on which sites are
neighbours), the checkpoint, the stored deck being a runnable deck, and run.start from a
saved configuration."""

import math
import re

import h5py
import numpy as np
import pytest

from conftest import assert_same_chain, deck_attr, read_output

# Sampler settings with both accepted and rejected updates.
METROPOLIS = {"type": "metropolis", "step": 1.2, "hits": 2}
HMC = {"type": "hmc", "md_steps": 3, "trajectory_length": 1.5}
MALA = {"type": "mala", "langevin_step": 0.04}

LAYOUTS = [
    # ranks, dims, procs, sampler, action
    (1, (8, 12), "", METROPOLIS, {"form": "hopping", "kappa": 0.21, "lambda": 0.7}),
    (2, (8, 12), "2 1", HMC, {"form": "mass", "m2": -0.5, "g": 1.3}),
    (2, (6, 8), "", MALA, {"form": "mass", "m2": 0.4, "g": 0.8}),
    (4, (4, 6, 8), "2 2 1", METROPOLIS, {"form": "mass", "m2": 0.3, "g": 0.4}),
    (4, (6, 4, 8), "1 2 2", {**HMC, "md_steps": 4, "trajectory_length": 1.0},
     {"form": "hopping", "kappa": 0.15, "lambda": 1.1}),
]

THERMALIZE, UPDATES, MEASURE_EVERY, SAVE_EVERY, SEED = 4, 24, 3, 6, 977


def hopping_term(phi):
    """nn = (1/(d V)) sum_{x, mu} phi_x phi_{x+mu} of one configuration."""
    return sum(phi * np.roll(phi, -1, axis=mu) for mu in range(phi.ndim)).mean() / phi.ndim


def action_density(phi, action):
    """S/V of one configuration, numpy implementation of DESIGN.md section 1."""
    axes = range(phi.ndim)
    if action["form"] == "hopping":
        k, lam = action["kappa"], action["lambda"]
        hop = sum(phi * np.roll(phi, -1, axis=mu) for mu in axes)
        s = -2 * k * hop + phi**2 + lam * (phi**2 - 1) ** 2
    else:
        m2, g = action["m2"], action["g"]
        grad = sum((np.roll(phi, -1, axis=mu) - phi) ** 2 for mu in axes)
        s = 0.5 * grad + 0.5 * m2 * phi**2 + 0.25 * g * phi**4
    return s.mean()


def run_args(dims, procs, sampler, action, output="out.h5", start="hot"):
    args = [f"--lattice.dims={' '.join(map(str, dims))}", f"--run.seed={SEED}",
            f"--run.thermalize={THERMALIZE}", f"--run.updates={UPDATES}",
            f"--run.measure_every={MEASURE_EVERY}", f"--run.start={start}",
            f"--output.file={output}", f"--output.save_every={SAVE_EVERY}"]
    if procs:
        args.append(f"--lattice.procs={procs}")
    args += [f"--sampler.{k}={v}" for k, v in sampler.items()]
    args += [f"--action.{k}={v}" for k, v in action.items()]
    return args


LAYOUT_IDS = [f"np{r}-{'x'.join(map(str, d))}-{s['type']}" for r, d, _, s, _ in LAYOUTS]


@pytest.mark.parametrize("ranks,dims,procs,sampler,action", LAYOUTS, ids=LAYOUT_IDS)
def test_output_layout(latdiff, ranks, dims, procs, sampler, action):
    latdiff.ok(run_args(dims, procs, sampler, action), np=ranks)
    path = latdiff.cwd / "out.h5"
    n_meas, n_saved = UPDATES // MEASURE_EVERY, UPDATES // SAVE_EVERY

    with h5py.File(path, "r") as f:
        a = f.attrs
        for name in ("deck", "version", "seed", "nranks", "process_grid", "start_time",
                     "lattice_dims"):
            assert name in a, f"root attribute {name} missing"
        assert int(a["seed"]) == SEED
        assert int(a["nranks"]) == ranks
        grid = [int(p) for p in np.atleast_1d(a["process_grid"])]
        assert len(grid) == len(dims) and math.prod(grid) == ranks
        assert all(L % p == 0 for L, p in zip(dims, grid))
        if procs:
            assert grid == [int(p) for p in procs.split()]
        assert [int(L) for L in np.atleast_1d(a["lattice_dims"])] == list(dims)
        start_time = a["start_time"]
        start_time = start_time.decode() if isinstance(start_time, bytes) else start_time
        iso8601 = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:?\d\d)?"
        assert re.fullmatch(iso8601, start_time), start_time
        version = a["version"]
        assert len(version.decode() if isinstance(version, bytes) else version) > 0

        for group in ("observables", "sampler", "configurations"):
            assert isinstance(f[group], h5py.Group)
        step = f["observables/step"][()]
        assert step.dtype.kind == "i" and step.dtype.itemsize == 8
        assert step.tolist() == [THERMALIZE + MEASURE_EVERY * (i + 1) for i in range(n_meas)]
        for name in ("mag", "phi2", "action_density", "nn"):
            d = f[f"observables/{name}"]
            assert d.dtype == np.float64 and d.shape == (n_meas,), f"{name}: {d.dtype} {d.shape}"
            assert np.all(np.isfinite(d[()]))
        accept = f["sampler/accept"][()]
        assert accept.dtype == np.float64 and accept.shape == (THERMALIZE + UPDATES,)
        assert np.all((accept >= 0) & (accept <= 1))
        assert 0 < accept.mean() < 1
        if sampler["type"] in ("hmc", "mala"):
            dh = f["sampler/delta_h"][()]
            assert dh.dtype == np.float64 and dh.shape == (THERMALIZE + UPDATES,)
            assert np.all(np.isfinite(dh)) and np.any(dh != 0)
        else:
            assert "sampler/delta_h" not in f, "delta_h written without an accept step"

        phi = f["configurations/phi"]
        assert phi.dtype == np.float64
        assert phi.shape == (n_saved, *dims)
        assert phi.maxshape[0] is None, "configurations/phi must be extendible"
        configs = phi[()]
        cstep = f["configurations/step"][()]
        assert cstep.tolist() == [THERMALIZE + SAVE_EVERY * (i + 1) for i in range(n_saved)]
        assert len(np.unique(configs.reshape(n_saved, -1), axis=0)) == n_saved

        mag, phi2, sden, nn = (f[f"observables/{n}"][()]
                               for n in ("mag", "phi2", "action_density", "nn"))
        for c, s in zip(configs, cstep):
            (row,) = np.nonzero(step == s)[0]
            assert np.isclose(c.mean(), mag[row], rtol=1e-12, atol=1e-15), (s, c.mean(), mag[row])
            assert np.isclose((c**2).mean(), phi2[row], rtol=1e-12), s
            assert np.isclose(hopping_term(c), nn[row], rtol=1e-11, atol=1e-13), s
            # Row-major order over the whole lattice: neighbours in the file are neighbours.
            assert np.isclose(action_density(c, action), sden[row], rtol=1e-11, atol=1e-13), (
                s, action_density(c, action), sden[row])
            if len(dims) >= 2:
                transposed = c.reshape(-1).reshape(tuple(reversed(dims))).T
                assert not np.isclose(action_density(transposed, action), sden[row], rtol=1e-9)

    # The checkpoint holds the final configuration, which here is also the last saved one.
    with h5py.File(latdiff.cwd / "out.ckpt.h5", "r") as ck:
        assert np.array_equal(ck["phi"][()], configs[-1])
        assert int(ck.attrs["updates_done"]) == THERMALIZE + UPDATES


def test_stored_deck_is_runnable(latdiff):
    """The resolved deck in the output file, run again as a deck, reproduces the chain."""
    dims, action = (8, 12), {"form": "hopping", "kappa": 0.21, "lambda": 0.7}
    latdiff.ok(run_args(dims, "", HMC, action))
    with h5py.File(latdiff.cwd / "out.h5", "r") as f:
        deck = f.attrs["deck"]
    (latdiff.cwd / "stored.ini").write_text(deck.decode() if isinstance(deck, bytes) else deck)
    latdiff.ok(["stored.ini", "--output.file=again.h5", "--output.checkpoint=again.ckpt.h5"],
               np=2)
    assert_same_chain(read_output(latdiff.cwd / "out.h5"), read_output(latdiff.cwd / "again.h5"),
                      "stored deck rerun")
    parsed = deck_attr(latdiff.cwd / "again.h5")
    assert parsed["run"]["seed"].strip() == str(SEED)


@pytest.mark.parametrize("ranks", [1, 2])
def test_start_from_saved_configuration(latdiff, ranks):
    """run.start = an output file starts from its last (or start_index-th) configuration, in
    any decomposition. A Metropolis step of 1e-300 leaves every site bitwise unchanged, so the
    configuration saved after one update is the start configuration itself."""
    dims, action = (8, 12), {"form": "hopping", "kappa": 0.21, "lambda": 0.7}
    latdiff.ok(run_args(dims, "", METROPOLIS, action, output="first.h5"), np=3 - ranks)
    first = read_output(latdiff.cwd / "first.h5")
    frozen = ["--lattice.dims=8 12", "--sampler.type=metropolis", "--sampler.step=1e-300",
              "--run.updates=1", "--output.save_every=1", "--run.start=first.h5"]

    latdiff.ok(frozen + ["--output.file=last.h5"], np=ranks)
    last = read_output(latdiff.cwd / "last.h5")
    assert np.array_equal(last["configurations/phi"][0], first["configurations/phi"][-1])
    assert last["observables/mag"][0] == first["observables/mag"][
        list(first["observables/step"]).index(first["configurations/step"][-1])]

    latdiff.ok(frozen + ["--run.start_index=0", "--output.file=zeroth.h5"], np=ranks)
    zeroth = read_output(latdiff.cwd / "zeroth.h5")
    assert np.array_equal(zeroth["configurations/phi"][0], first["configurations/phi"][0])

    # An ordinary chain from the last configuration runs and records where it started.
    latdiff.ok(run_args(dims, "", HMC, action, output="cont.h5", start="first.h5"),
               np=ranks)
    assert deck_attr(latdiff.cwd / "cont.h5")["run"]["start"].strip() == "first.h5"
    cont = read_output(latdiff.cwd / "cont.h5")
    assert cont["observables/mag"].shape == (UPDATES // MEASURE_EVERY,)
