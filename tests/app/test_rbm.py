"""RBM jobs (model.type = rbm) end to end: the seed-000 example's phases, energies and exact
log Z against brute-force sums, bitwise the same on 1, 2 and 4 ranks; Gibbs and single-flip
chains of a small lattice RBM against its exact p(v) (chi-squared, fixed seed); bad data and a
model file of another model refused with one line, nothing written."""

import itertools
import re
import shutil
import signal
from pathlib import Path

import h5py
import numpy as np
import pytest
from scipy import stats

from conftest import (EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, EXIT_RUNTIME, Latdiff, describe,
                      wait_for, write_deck)

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


def assert_same_on_ranks(tmp_path, make_deck, output, ranks):
    """The chain of make_deck(directory) is bitwise the same on 1 and `ranks` ranks."""
    runs = []
    for np_ in (1, ranks):
        d = tmp_path / f"np{np_}"
        d.mkdir()
        Latdiff(d).ok([make_deck(d)], np=np_)
        with h5py.File(d / output, "r") as f:
            runs.append([f[name][()] for name in ("observables/mag", "observables/action_density",
                                                  "sampler/accept")])
    for x, y in zip(*runs):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("ranks", [2, 4])
@pytest.mark.parametrize("sampler", ["gibbs", "flip"])
def test_chain_is_the_same_on_any_number_of_ranks(tmp_path, sampler, ranks):
    assert_same_on_ranks(tmp_path, lambda d: lattice_deck(d, sampler, 300), "chain.h5", ranks)


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


GB_W = np.array([[1.5, -1.0], [0.5, 1.0]])
GB_MU = np.array([0.2, -0.1])
GB_B = np.array([-0.5, 0.3])
GB_SIGMA = np.array([1.0, 0.8])


def gaussian_deck(tmp_path, sampler, updates):
    def words(x):
        return " ".join(map(repr, np.ravel(x)))
    # diffusion: a linear score trained on a short HMC warm-up of the same RBM.
    score = {"diffusion": {"score": "trained", "levels": 32, "beta_max": 20},
             "training": {"thermalize": 100, "configurations": 400, "save_every": 2}}
    return write_deck(tmp_path / "gb.ini", {
        **(score if sampler == "diffusion" else {}),
        "lattice": {"dims": "2"}, "model": {"type": "rbm"},
        "rbm": {"visible_units": "gaussian", "hidden": 2, "weights": words(GB_W),
                "visible_bias": words(GB_MU), "hidden_bias": words(GB_B),
                "visible_sigma": words(GB_SIGMA)},
        "sampler": {"type": sampler, "trajectory_length": 1.0, "md_steps": 8,
                    "langevin_step": 0.2},
        "run": {"seed": 5, "updates": updates, "thermalize": 100},
        "output": {"file": "gb.h5", "progress_interval": 0}})


def exact_gaussian_moments():
    """<v_i> and <v_i^2> of the Gaussian-Bernoulli RBM, summing p(v | h) = N(mu + W h, s^2)
    over h with p(h) ~ exp(b.h + sum_i [mu_i (W h)_i + (W h)_i^2 / 2] / s_i^2)."""
    hs = np.array(list(itertools.product((0, 1), repeat=2)), float)
    shift = hs @ GB_W.T  # (W h)_i for every h
    log_p = hs @ GB_B + np.sum((GB_MU * shift + shift ** 2 / 2) / GB_SIGMA ** 2, 1)
    p = np.exp(log_p - log_p.max())
    p /= p.sum()
    mean = GB_MU + shift
    return p @ mean, p @ (mean ** 2 + GB_SIGMA ** 2)


def batch_error(x, batches=50):
    means = np.array([b.mean() for b in np.array_split(x, batches)])
    return means.std(ddof=1) / np.sqrt(batches)


@pytest.mark.parametrize("sampler", ["hmc", "mala", "gibbs", "diffusion"])
def test_gaussian_rbm_chain_reproduces_exact_moments(tmp_path, sampler):
    """The shared continuous samplers act on p(v) ~ exp(-F(v)) of a Gaussian-Bernoulli RBM."""
    Latdiff(tmp_path).ok([gaussian_deck(tmp_path, sampler, 40000)])
    first, second = exact_gaussian_moments()
    with h5py.File(tmp_path / "gb.h5", "r") as f:
        mag, phi2 = f["observables/mag"][()], f["observables/phi2"][()]
    for name, series, exact in (("m", mag, first.mean()), ("phi2", phi2, second.mean())):
        err = batch_error(series)
        assert abs(series.mean() - exact) < 4 * err, \
            f"{sampler}: <{name}> = {series.mean():.5f} +- {err:.5f}, exact {exact:.5f}"


@pytest.mark.parametrize("sampler", ["hmc", "mala", "diffusion"])
def test_gaussian_rbm_chain_is_the_same_on_two_ranks(tmp_path, sampler):
    assert_same_on_ranks(tmp_path, lambda d: gaussian_deck(d, sampler, 200), "gb.h5", 2)


TRUE_W = np.random.default_rng(3).normal(0, 1.5, (6, 3))
TRUE_A = np.array([0.5, -0.5, 0.0, 0.3, -0.2, 0.1])
TRUE_B = np.array([-0.5, 0.5, 0.0])


def log_likelihood(v, w, a, b):
    """Mean exact log p(v) of binary configurations under a binary RBM."""
    states = np.array(list(itertools.product((0, 1), repeat=len(a))), float)
    log_z = np.logaddexp.reduce(states @ a + np.sum(np.logaddexp(0, b + states @ w), 1))
    return float(np.mean(v @ a + np.sum(np.logaddexp(0, b + v @ w), 1)) - log_z)


@pytest.mark.parametrize("method", ["cd", "pcd"])
def test_training_on_samples_of_a_known_rbm_raises_the_heldout_likelihood(tmp_path, method):
    """Data from the program's own Gibbs chain of a known 6 x 3 RBM; a fresh RBM trained on
    them approaches the true model's held-out log-likelihood (exact, by enumeration)."""
    words = lambda x: " ".join(map(repr, np.ravel(x)))  # noqa: E731
    lat = Latdiff(tmp_path)
    lat.ok([write_deck(tmp_path / "truth.ini", {
        "lattice": {"dims": "6"}, "model": {"type": "rbm"},
        "rbm": {"hidden": 3, "weights": words(TRUE_W), "visible_bias": words(TRUE_A),
                "hidden_bias": words(TRUE_B), "model_file": "truth.rbm.h5"},
        "sampler": {"type": "gibbs"},
        "run": {"seed": 2, "thermalize": 100, "updates": 6000, "start": "hot"},
        "output": {"file": "truth.h5", "save_every": 3, "progress_interval": 0}})])
    r = lat.ok([write_deck(tmp_path / "learn.ini", {
        "lattice": {"dims": "6"}, "model": {"type": "rbm"},
        "rbm": {"hidden": 3, "init_scale": 0.1, "model_file": "learnt.rbm.h5"},
        "rbm_training": {"data": "truth.h5", "epochs": 30, "batch_size": 20, "method": method,
                         "chains": 20, "learning_rate": 0.1, "learning_rate_final": 0.02,
                         "schedule": "linear", "holdout": 0.25, "log_likelihood": "exact"},
        "sampler": {"type": "gibbs"}, "run": {"seed": 9, "updates": 0},
        "output": {"file": "learn.h5"}})])
    with h5py.File(tmp_path / "truth.h5", "r") as f:
        data = f["configurations/phi"][()].reshape(-1, 6)
    held = data[len(data) - len(data) // 4:]
    with h5py.File(tmp_path / "learnt.rbm.training.h5", "r") as f:
        heldout = f["rbm/epochs/heldout_log_likelihood"][()]
        train = f["rbm/epochs/log_likelihood"][()]
    truth = log_likelihood(held, TRUE_W, TRUE_A, TRUE_B)
    learnt = log_likelihood(held, *read_model(tmp_path / "learnt.rbm.h5"))
    assert heldout[-1] == pytest.approx(learnt, abs=1e-9), "recorded held-out LL is not exact"
    # The initial W ~ N(0, 0.1^2) with zero biases is close to uniform, -6 log 2.
    start = log_likelihood(held, np.zeros((6, 3)), np.zeros(6), np.zeros(3))
    assert truth - heldout[-1] < 0.1 * (truth - start), (start, heldout, truth, r.stdout)
    assert np.all(np.isfinite(train))


def spin_data(tmp_path, rows=2000, L=16):
    with h5py.File(tmp_path / "spins.h5", "w") as f:
        f["data"] = np.sign(np.random.default_rng(1).normal(size=(rows, L * L)))


def training_deck(tmp_path, **rbm_training):
    return write_deck(tmp_path / "train.ini", {
        "lattice": {"dims": "16 16"}, "model": {"type": "rbm"},
        "rbm": {"visible_units": "spin", "hidden": 64},
        "rbm_training": {"data": "spins.h5", "dataset": "/data", "log_likelihood": "none",
                         **rbm_training},
        "sampler": {"type": "gibbs"}, "run": {"updates": 0},
        "output": {"file": "train.h5", "progress_interval": 0}})


@pytest.mark.parametrize("ranks", [1, 2])
def test_a_signal_stops_training_with_nothing_written_and_the_deck_restarts_it(tmp_path, ranks):
    spin_data(tmp_path)
    lat = Latdiff(tmp_path)
    deck = training_deck(tmp_path, epochs=1000)
    proc = lat.start([deck], np=ranks)
    assert wait_for(lambda: "rbm epoch 1/" in lat.background_output()[0], 120, proc), \
        lat.background_output()
    proc.send_signal(signal.SIGUSR1 if ranks > 1 else signal.SIGTERM)
    assert proc.wait(timeout=120) == EXIT_INTERRUPTED, lat.background_output()
    out, err = lat.background_output()
    assert "stopped by signal during RBM training" in out and err.strip() == "", (out, err)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert not any(name.startswith("train.rbm") for name in left), left
    lat.ok([deck, "--rbm_training.epochs=1"])
    assert (tmp_path / "train.rbm.h5").exists() and (tmp_path / "train.rbm.training.h5").exists()


def test_a_full_disk_fails_the_training_record_cleanly(tmp_path, small_disk):
    disk, _ = small_disk
    spin_data(tmp_path, rows=200)
    record = disk / "record.h5"
    r = Latdiff(tmp_path).run([training_deck(tmp_path, epochs=10, record_every=1),
                               f"--rbm_training.output={record}"])
    assert r.returncode == EXIT_RUNTIME, describe(r)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "rbm_training.output" in lines[0], r.stderr
    assert sorted(p.name for p in disk.iterdir()) == [], "a partial record was left behind"
    assert not (tmp_path / "train.rbm.h5").exists()


def test_a_training_record_of_another_deck_is_not_replaced(tmp_path):
    spin_data(tmp_path, rows=100)
    lat = Latdiff(tmp_path)
    lat.ok([training_deck(tmp_path, epochs=1)])
    record = tmp_path / "train.rbm.training.h5"
    data = record.read_bytes()
    (tmp_path / "train.rbm.h5").unlink()  # "delete it to retrain", with other settings
    r = lat.run([training_deck(tmp_path, epochs=2)])
    assert r.returncode == EXIT_BAD_INPUT, describe(r)
    assert "rbm_training.output" in r.stderr and "output.overwrite" in r.stderr, r.stderr
    assert record.read_bytes() == data and not (tmp_path / "train.rbm.h5").exists()
    # The same deck regenerates its own record bit for bit.
    lat.ok([training_deck(tmp_path, epochs=1)])
    with h5py.File(record, "r") as f:
        assert len(f["rbm/epochs/epoch"]) == 1


def test_a_training_only_deck_needs_no_sampler(tmp_path):
    r = Latdiff(tmp_path).run(["--check", "--lattice.dims=4", "--model.type=rbm",
                               "--rbm.visible=vector", "--run.updates=0"])
    assert r.returncode == EXIT_OK, describe(r)
