"""/correlators and /coarse: G(p), C(t), G(0), G(p_min), xi_2 and the block-spin levels agree
with numpy on saved configurations, block rows are means of per-measurement rows, and the
records are bitwise independent of the rank count and of restarts."""

import random
import time

import h5py
import numpy as np
import pytest

from conftest import Latdiff, kill_job, wait_for, write_deck


def deck(dims, updates, correlators="measurement", block=100, coarse="false", save_every=0,
         checkpoint_every=0, thermalize=2, seed=4242):
    return {
        "lattice": {"dims": dims},
        "action": {"form": "hopping", "kappa": 0.22, "lambda": 0.8},
        "sampler": {"type": "metropolis", "step": 1.2, "hits": 1},
        "run": {"seed": seed, "thermalize": thermalize, "updates": updates,
                "measure_every": 1, "start": "hot"},
        "output": {"file": "out.h5", "save_every": save_every,
                   "checkpoint_every": checkpoint_every, "correlators": correlators,
                   "block_measurements": block, "coarse": coarse},
    }


def run(path, sections, ranks=1, extra=()):
    path.mkdir(parents=True, exist_ok=True)
    write_deck(path / "run.ini", sections)
    Latdiff(path).ok(["run.ini", *extra], np=ranks)
    return path / "out.h5"


def records(path):
    """{name: array} of every dataset under /correlators and /coarse."""
    out = {}
    with h5py.File(path, "r") as f:
        for group in ("correlators", "coarse"):
            if group in f:
                f[group].visititems(lambda n, o, g=group: out.__setitem__(
                    f"{g}/{n}", o[()]) if isinstance(o, h5py.Dataset) else None)
    return out


def configurations(path):
    with h5py.File(path, "r") as f:
        return f["configurations/step"][()], f["configurations/phi"][()]


def power(phi):
    return np.abs(np.fft.fftn(phi)) ** 2 / phi.size


def xi2(g0, gmin, dims):
    L = dims[0]
    gp = np.mean([gmin[mu] for mu in range(len(dims)) if dims[mu] == L])
    return np.sqrt(g0 / gp - 1) / (2 * np.sin(np.pi / L))


def assert_close(a, b, rtol, what):
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = max(np.max(np.abs(b)), 1e-300)
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs {b.shape}"
    assert np.max(np.abs(a - b)) <= rtol * scale, f"{what}: {a} vs {b}"


def test_measurement_mode_matches_numpy_2d(tmp_path):
    dims = [8, 6]
    out = run(tmp_path, deck("8 6", 6, save_every=1))
    r = records(out)
    steps, phis = configurations(out)
    assert np.array_equal(r["correlators/step"], steps)
    assert r["correlators/G"].shape == (6, 8, 6)
    for i, phi in enumerate(phis):
        G = power(phi)
        assert_close(r["correlators/G"][i], G, 1e-10, "G")
        S = phi.sum(axis=1)
        C = np.array([np.dot(S, np.roll(S, -t)) for t in range(8)]) / phi.size
        assert_close(r["correlators/C"][i], C, 1e-10, "C")
        assert_close(r["correlators/G0"][i], G[0, 0], 1e-10, "G0")
        assert_close(r["correlators/Gpmin"][i], [G[1, 0], G[0, 1]], 1e-10, "Gpmin")
        # C(t) is the inverse transform of G(p_0, 0)
        assert_close(np.fft.ifft(G[:, 0]).real, C, 1e-10, "C vs G")
        expect = xi2(G[0, 0], [G[1, 0], G[0, 1]], dims)
        got = r["correlators/xi2"][i]
        assert (np.isnan(expect) and np.isnan(got)) or abs(got - expect) <= 1e-10 * abs(expect)


def test_radial_bins_3d(tmp_path):
    dims = [4, 4, 6]
    out = run(tmp_path, deck("4 4 6", 3, save_every=1))
    r = records(out)
    assert "correlators/G" not in r
    _, phis = configurations(out)
    s2 = 0
    for mu, L in enumerate(dims):
        n = np.arange(L)
        s = np.where(n <= L // 2, n, n - L)
        shape = [1, 1, 1]
        shape[mu] = L
        s2 = s2 + (s ** 2).reshape(shape)
    n2, count = np.unique(s2, return_counts=True)
    assert np.array_equal(r["correlators/radial_n2"], n2)
    assert np.array_equal(r["correlators/radial_count"], count)
    for i, phi in enumerate(phis):
        G = power(phi)
        binned = np.array([G[s2 == v].mean() for v in n2])
        assert_close(r["correlators/G_radial"][i], binned, 1e-10, "G_radial")
        assert_close(r["correlators/Gpmin"][i], [G[1, 0, 0], G[0, 1, 0], G[0, 0, 1]], 1e-10,
                     "Gpmin")
        S = phi.sum(axis=(1, 2))
        C = np.array([np.dot(S, np.roll(S, -t)) for t in range(4)]) / phi.size
        assert_close(r["correlators/C"][i], C, 1e-10, "C")


def level_observables(phi):
    d = phi.ndim
    nn = sum(np.sum(phi * np.roll(phi, -1, axis=mu)) for mu in range(d)) / (d * phi.size)
    return phi.mean(), np.mean(phi ** 2), nn


def test_coarse_levels_match_numpy(tmp_path):
    out = run(tmp_path, deck("8 8", 4, coarse="true", save_every=1))
    r = records(out)
    _, phis = configurations(out)
    with h5py.File(out, "r") as f:
        assert list(f["coarse/level_1"].attrs["dims"]) == [4, 4]
        assert list(f["coarse/level_2"].attrs["dims"]) == [2, 2]
        assert "coarse/level_3" not in f
    for i, phi in enumerate(phis):
        for level, field in ((0, phi), (1, phi.reshape(4, 2, 4, 2).mean(axis=(1, 3)))):
            m, p2, nn = level_observables(field)
            pre = f"coarse/level_{level}/"
            assert_close(r[pre + "mag"][i], m, 1e-10, pre + "mag")
            assert_close(r[pre + "phi2"][i], p2, 1e-10, pre + "phi2")
            assert_close(r[pre + "nn"][i], nn, 1e-10, pre + "nn")
            G = power(field)
            assert_close(r[pre + "G0"][i], G[0, 0], 1e-10, pre + "G0")
            assert_close(r[pre + "Gpmin"][i], [G[1, 0], G[0, 1]], 1e-10, pre + "Gpmin")


def test_block_rows_are_means(tmp_path):
    B = 4
    each = records(run(tmp_path / "each", deck("8 6", 14, coarse="true")))
    block = records(run(tmp_path / "block", deck("8 6", 14, "block", B, coarse="true")))
    nb = 14 // B
    for group in ("correlators", "coarse"):
        assert np.array_equal(block[f"{group}/step"], each[f"{group}/step"][B - 1:nb * B:B])
    for name, rows in each.items():
        if name.endswith("step") or name.endswith("xi2") or name.startswith("correlators/radial"):
            continue
        mean = rows[:nb * B].reshape(nb, B, *rows.shape[1:]).mean(axis=1)
        assert_close(block[name], mean, 1e-12, name)
    expect = [xi2(g0, gm, [8, 6]) for g0, gm in
              zip(block["correlators/G0"], block["correlators/Gpmin"])]
    np.testing.assert_allclose(block["correlators/xi2"], expect, rtol=1e-12)


def assert_bitwise(a, b, what):
    assert sorted(a) == sorted(b), what
    for name in a:
        assert a[name].dtype == b[name].dtype and a[name].shape == b[name].shape, (what, name)
        assert np.array_equal(a[name], b[name], equal_nan=a[name].dtype.kind == "f"), (what, name)


@pytest.mark.parametrize("dims,mode", [("8 8", "block"), ("4 4 8", "measurement")])
def test_rank_independence(tmp_path, dims, mode):
    sections = deck(dims, 9, mode, 2, coarse="true")
    ref = records(run(tmp_path / "np1", sections))
    for ranks in (2, 4):
        assert_bitwise(records(run(tmp_path / f"np{ranks}", sections, ranks)), ref,
                       f"{ranks} ranks")


@pytest.mark.parametrize("ranks", [1, 2])
def test_block_restart_bitwise(tmp_path, ranks):
    """Checkpoints every 5 updates, blocks of 3 measurements: the partial block is carried
    over by the checkpoint. N updates, then the same deck extended to 2N, equals one go."""
    full = deck("8 8", 40, "block", 3, coarse="true", checkpoint_every=5)
    ref = records(run(tmp_path / "one_go", full, ranks, ["--run.resume=never"]))
    split = tmp_path / "split"
    run(split, deck("8 8", 20, "block", 3, coarse="true", checkpoint_every=5), ranks)
    got = records(run(split, full, ranks))
    assert len(ref["correlators/step"]) == 40 // 3
    assert_bitwise(got, ref, "extended")


def test_block_resume_after_sigkill(tmp_path):
    """Killed (SIGKILL) between checkpoints that do not align with blocks, then resumed: the
    /correlators and /coarse records equal those of one go."""
    sections = deck("16 16", 6000, "block", 7, coarse="true", checkpoint_every=40)
    ref = records(run(tmp_path / "one_go", sections, 2, ["--run.resume=never"]))
    d = tmp_path / "killed"
    d.mkdir()
    write_deck(d / "run.ini", sections)
    ld = Latdiff(d)
    proc = ld.start(["run.ini"], np=2)
    ckpt = d / "out.ckpt.h5"
    if wait_for(ckpt.exists, timeout=120, proc=proc):
        time.sleep(random.uniform(0.0, 0.3))
        kill_job(proc)
    else:
        proc.wait(timeout=120)
    ld.ok(["run.ini"], np=2)
    assert_bitwise(records(d / "out.h5"), ref, "killed and resumed")
