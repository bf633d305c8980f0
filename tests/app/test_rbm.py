"""RBM jobs (model.type = rbm) end to end: the seed-000 example's phases, energies and exact
log Z against brute-force sums, bitwise the same on 1, 2 and 4 ranks; Gibbs and single-flip
chains of a small lattice RBM against its exact p(v) (chi-squared, fixed seed); bad data and a
model file of another model refused with one line, nothing written."""

import itertools
import re
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from scipy import stats

from conftest import EXIT_BAD_INPUT, EXIT_OK, Latdiff, describe, write_deck

REPO = Path(__file__).resolve().parents[2]
SEED_W = np.array([[2.0, -3.0, 0.0], [-1.0, 2.0, 0.0]])
SEED_A = np.array([1.0, 1.0])
SEED_B = np.array([0.0, -1.0, 2.0])


def energy(v, h, w, a, b):
    return -a @ v - b @ h - v @ w @ h


def brute_force_log_z(w, a, b):
    """log of the sum of exp(-E) over every binary (v, h)."""
    nv, nh = w.shape
    terms = [-energy(np.array(v, float), np.array(h, float), w, a, b)
             for v in itertools.product((0, 1), repeat=nv)
             for h in itertools.product((0, 1), repeat=nh)]
    return float(np.logaddexp.reduce(terms))


def read_model(path):
    with h5py.File(path, "r") as f:
        return (f["rbm/weights"][()], f["rbm/visible_bias"][()], f["rbm/hidden_bias"][()])


def seed_example(tmp_path, ranks):
    (tmp_path / "input").mkdir()
    for name in ("rbm_seed_example.ini", "rbm_seed_data.h5"):
        shutil.copy(REPO / "input" / name, tmp_path / "input")
    return Latdiff(tmp_path).ok(["input/rbm_seed_example.ini"], np=ranks)


def printed_states(text, phase):
    """The (v, h, E) lines printed under one phase heading."""
    block = text.split(f"  {phase} phase")[1].split("phase")[0]
    states = []
    for m in re.finditer(r"v = \[([^\]]*)\]  h = \[([^\]]*)\]  E = (\S+)", block):
        states.append((np.array(m.group(1).split(", "), float),
                       np.array(m.group(2).split(", "), float), float(m.group(3))))
    return states


@pytest.mark.parametrize("ranks", [1, 2, 4])
def test_seed_example_phases_energies_and_log_z(tmp_path, ranks):
    r = seed_example(tmp_path, ranks)
    out = r.stdout
    with h5py.File(tmp_path / "input/rbm_seed_data.h5", "r") as f:
        data = f["data"][()].astype(float)
    positive, negative = printed_states(out, "positive"), printed_states(out, "negative")
    assert len(positive) == len(negative) == 4, out
    # The positive phase is the data (in the epoch's random order) with sampled h.
    assert sorted(map(tuple, data)) == sorted(tuple(v) for v, _, _ in positive)
    for v, h, e in positive + negative:
        assert set(v) <= {0.0, 1.0} and set(h) <= {0.0, 1.0}
        assert e == pytest.approx(energy(v, h, SEED_W, SEED_A, SEED_B), abs=1e-12)
    initial = float(re.search(r"initial log Z = (\S+) \(exact\)", out).group(1))
    assert initial == pytest.approx(brute_force_log_z(SEED_W, SEED_A, SEED_B), abs=1e-8)
    trained = read_model(tmp_path / "rbm_seed.rbm.h5")
    final = float(re.search(r"written to .*; log Z = (\S+) \(exact\)", out).group(1))
    assert final == pytest.approx(brute_force_log_z(*trained), abs=1e-8)
    assert not np.array_equal(trained[0], SEED_W), "the training step changed nothing"
    # The training record holds what was printed.
    with h5py.File(tmp_path / "rbm_seed.rbm.training.h5", "r") as f:
        assert f.attrs["schema"] == "latdiff rbm training"
        for phase, states in (("positive", positive), ("negative", negative)):
            np.testing.assert_array_equal(f[f"rbm/{phase}/visible"][()], [v for v, _, _ in states])
            np.testing.assert_array_equal(f[f"rbm/{phase}/hidden"][()], [h for _, h, _ in states])
            np.testing.assert_allclose(f[f"rbm/{phase}/energy"][()], [e for _, _, e in states])
        ll = f["rbm/epochs/log_likelihood"][()]
    w, a, b = trained
    free = [-(a @ v) - np.sum(np.logaddexp(0, b + v @ w)) for v in data]
    assert ll[0] == pytest.approx(-np.mean(free) - final, abs=1e-9)
    if ranks > 1:
        one = tmp_path / "one"
        one.mkdir()
        single = seed_example(one, 1)
        assert single.stdout == r.stdout
        for name in ("rbm_seed.rbm.h5",):
            for x, y in zip(read_model(one / name), read_model(tmp_path / name)):
                np.testing.assert_array_equal(x, y)


RNG = np.random.default_rng(7)
LATTICE_W = RNG.normal(0, 0.8, (4, 3))
LATTICE_A = RNG.normal(0, 0.5, 4)
LATTICE_B = RNG.normal(0, 0.5, 3)


def lattice_deck(tmp_path, sampler, updates, **extra):
    sections = {
        "lattice": {"dims": "2 2"},
        "model": {"type": "rbm"},
        "rbm": {"hidden": 3, "weights": " ".join(map(repr, LATTICE_W.ravel())),
                "visible_bias": " ".join(map(repr, LATTICE_A)),
                "hidden_bias": " ".join(map(repr, LATTICE_B))},
        "sampler": {"type": sampler},
        "run": {"seed": 11, "updates": updates, "start": "hot"},
        "output": {"file": "chain.h5", "save_every": 3, "progress_interval": 0},
    }
    for key, value in extra.items():
        section, name = key.split("__")
        sections.setdefault(section, {})[name] = value
    return write_deck(tmp_path / "rbm.ini", sections)


def exact_visible_probabilities():
    """p(v) of the lattice RBM for the 16 states v (index sum_i v_i 2^(3-i), row-major)."""
    states = np.array(list(itertools.product((0, 1), repeat=4)), float)
    minus_f = states @ LATTICE_A + np.sum(np.logaddexp(0, LATTICE_B + states @ LATTICE_W), 1)
    p = np.exp(minus_f - minus_f.max())
    return p / p.sum()


@pytest.mark.parametrize("sampler", ["gibbs", "flip"])
def test_chain_reproduces_exact_visible_distribution(tmp_path, sampler):
    deck = lattice_deck(tmp_path, sampler, 30000)
    Latdiff(tmp_path).ok([deck])
    with h5py.File(tmp_path / "chain.h5", "r") as f:
        v = f["configurations/phi"][()].reshape(-1, 4)
    assert set(np.unique(v)) <= {0.0, 1.0}
    index = (v @ np.array([8, 4, 2, 1])).astype(int)
    counts = np.bincount(index, minlength=16)
    expected = exact_visible_probabilities() * len(index)
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    p_value = stats.chi2.sf(chi2, 15)
    assert p_value > 1e-3, f"chi2 = {chi2:.1f} for 15 dof (p = {p_value:.2g}): {counts}"


@pytest.mark.parametrize("ranks", [2, 4])
@pytest.mark.parametrize("sampler", ["gibbs", "flip"])
def test_chain_is_the_same_on_any_number_of_ranks(tmp_path, sampler, ranks):
    runs = []
    for np_ in (1, ranks):
        d = tmp_path / f"np{np_}"
        d.mkdir()
        Latdiff(d).ok([lattice_deck(d, sampler, 300)], np=np_)
        with h5py.File(d / "chain.h5", "r") as f:
            runs.append((f["configurations/phi"][()], f["observables/action_density"][()]))
    for x, y in zip(*runs):
        np.testing.assert_array_equal(x, y)


def bad_data(tmp_path, rows):
    with h5py.File(tmp_path / "bad.h5", "w") as f:
        f["data"] = np.asarray(rows, float)


BAD_CASES = {
    "shape": (lambda d: bad_data(d, [[1, 0, 1], [0, 1, 1]]), ["rbm_training.data", "shape"]),
    "non_binary": (lambda d: bad_data(d, [[1, 0], [0.5, 1]]), ["rbm_training.data", "0.5"]),
}


@pytest.mark.parametrize("ranks", [1, 2])
@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_training_data_is_refused(tmp_path, case, ranks):
    setup, words = BAD_CASES[case]
    setup(tmp_path)
    deck = write_deck(tmp_path / "bad.ini", {
        "lattice": {"dims": "2"}, "model": {"type": "rbm"},
        "rbm": {"visible": "vector", "hidden": 3},
        "rbm_training": {"data": "bad.h5", "dataset": "/data", "transform": "value"},
        "sampler": {"type": "gibbs"}, "run": {"updates": 0}, "output": {"file": "bad_out.h5"}})
    before = sorted(p.name for p in tmp_path.iterdir())
    r = Latdiff(tmp_path).run([deck], np=ranks, timeout=120)
    assert r.returncode == EXIT_BAD_INPUT, describe(r)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("latdiff: error: "), r.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "files created"


@pytest.mark.parametrize("ranks", [1, 2])
def test_model_file_of_another_size_is_refused(tmp_path, ranks):
    Latdiff(tmp_path).ok([lattice_deck(tmp_path, "gibbs", 0)])
    model = tmp_path / "chain.rbm.h5"
    data = model.read_bytes()
    r = Latdiff(tmp_path).run([lattice_deck(tmp_path, "gibbs", 10, rbm__hidden=4,
                                            rbm__weights="", rbm__hidden_bias="")], np=ranks)
    assert r.returncode == EXIT_BAD_INPUT, describe(r)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "rbm.model_file" in lines[0] and "3 binary hidden" in lines[0], \
        r.stderr
    assert model.read_bytes() == data
    assert not (tmp_path / "chain.h5").exists()


def test_deck_checks_parameter_shapes_and_samplers(tmp_path):
    lat = Latdiff(tmp_path)
    cases = [
        (["--rbm.weights=1 2 3"], "rbm.weights: needs n_v * n_h = 12 values (got 3)"),
        (["--sampler.type=hmc"], "sampler.type: hmc needs continuous visible units"),
        (["--rbm.visible_units=gaussian", "--sampler.type=flip"], "sampler.type: flip needs"),
        (["--model.type=phi4"], "sampler.type: gibbs samples restricted Boltzmann machines"),
    ]
    for args, message in cases:
        r = lat.run(["--check", lattice_deck(tmp_path, "gibbs", 10), *args])
        assert r.returncode == EXIT_BAD_INPUT and message in r.stderr, describe(r)
    assert lat.run(["--check", lattice_deck(tmp_path, "gibbs", 10)]).returncode == EXIT_OK
