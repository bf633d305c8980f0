"""latdiff_analysis.plots on short latdiff chains: every expected PNG is written whole and only
those; groups a file lacks skip their plots; the plotted G(p), block-level and score-model data
are the file's (phat^2, the cut's row selection, <G(0)> = <G0>, schema versions 1 and 2)."""

import itertools
import os
import shutil
import subprocess

import h5py
import matplotlib.figure
import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest

from conftest import fake_run, latdiff_binary
from latdiff_analysis.errors import InputError
from latdiff_analysis.plots import (kept_rows, level_data, model_path_for, momentum_data,
                                    phat2_grid, plot_run, plot_score_model, read_score_model)
from latdiff_analysis.files import read_run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HMC = """[lattice]
dims = {dims}
[action]
form = hopping
kappa = {kappa}
lambda = 0.5
[sampler]
type = hmc
md_steps = 5
[run]
seed = 3
thermalize = 50
updates = {updates}
start = hot
[output]
correlators = {correlators}
block_measurements = 20
coarse = {coarse}
"""
DIFFUSION = """[lattice]
dims = 8 8
[action]
form = hopping
kappa = 0.25
lambda = 0.5
[sampler]
type = diffusion
md_steps = 5
[diffusion]
process = vp
levels = 8
beta_max = 6
score = trained
depth = 2
[training]
thermalize = 20
configurations = 30
save_every = 2
block_sizes = 0 2
[run]
seed = 5
thermalize = 10
updates = 200
start = hot
"""


def _latdiff(cwd, name, deck):
    binary = latdiff_binary()
    (cwd / f"{name}.ini").write_text(deck)
    r = subprocess.run([binary, f"{name}.ini", "--output.progress_interval=0",
                        f"--output.file={name}.h5"], cwd=cwd, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, f"latdiff failed, rc={r.returncode}\n{r.stdout}\n{r.stderr}"
    return cwd / f"{name}.h5"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Short chains shared by the tests: 2D block-mode correlators and coarse levels, 3D
    radial correlators per measurement, 2D without either, a trained-score diffusion chain."""
    if latdiff_binary() is None:
        pytest.skip("no latdiff binary (set LATDIFF)")
    d = tmp_path_factory.mktemp("runs")
    return {
        "2d": _latdiff(d, "sq", HMC.format(dims="8 8", kappa=0.3, updates=2000,
                                           correlators="block", coarse="true")),
        "3d": _latdiff(d, "cube", HMC.format(dims="4 4 4", kappa=0.18, updates=600,
                                             correlators="measurement", coarse="true")),
        "plain": _latdiff(d, "plain", HMC.format(dims="8 8", kappa=0.3, updates=300,
                                                 correlators="none", coarse="false")),
        "diffusion": _latdiff(d, "chain", DIFFUSION),
    }


def assert_png(path):
    """A complete PNG that matplotlib reads back as a sizeable, non-blank RGB(A) image."""
    with open(path, "rb") as f:
        assert f.read(8) == PNG_MAGIC, path
    img = matplotlib.image.imread(path)
    assert img.ndim == 3 and img.shape[0] > 300 and img.shape[1] > 500, (path, img.shape)
    assert img.shape[2] in (3, 4) and img[..., :3].std() > 0.01, path


def names(paths, prefix):
    return [os.path.basename(p)[len(prefix) + 1:-4] for p in paths]


def check_written(outdir, paths, prefix, expected):
    """The returned paths are the expected plots, valid, and all that outdir holds."""
    assert names(paths, prefix) == expected
    assert sorted(os.listdir(outdir)) == sorted(os.path.basename(p) for p in paths)
    for p in paths:
        assert os.path.dirname(p) == str(outdir)
        assert_png(p)


def test_2d_chain_gets_every_plot(runs, tmp_path):
    paths = plot_run(str(runs["2d"]), str(tmp_path), cut=30)
    check_written(tmp_path, paths, "sq",
                  ["history", "histogram_m", "acf", "G_p", "C_t", "block_levels"])
    assert plt.get_fignums() == []  # every figure closed


def test_g_p_data_2d_phat2_and_cut_rows(runs):
    """phat^2 per momentum, and only blocks wholly after the cut: with blocks of 20 and a cut
    of 30 the first two rows go (row 1 covers measurements 20..39)."""
    path = str(runs["2d"])
    with h5py.File(path) as f:
        g0 = f["correlators/G0"][:]
        g = f["correlators/G"][:]
    data = momentum_data(path, cut=30)
    assert not data.radial and data.rows == 98 and data.block == 20
    assert data.phat2.shape == (64,) and data.mean.shape == (64,)
    expect = np.array([4 * np.sin(np.pi * a / 8) ** 2 + 4 * np.sin(np.pi * b / 8) ** 2
                       for a, b in itertools.product(range(8), range(8))])
    np.testing.assert_allclose(data.phat2, expect, atol=1e-14)
    assert data.phat2[0] == 0 and data.phat2[4 * 8 + 4] == pytest.approx(8.0)
    assert data.mean[0] == pytest.approx(g0[2:].mean(), rel=1e-12)
    np.testing.assert_allclose(data.mean, g[2:].reshape(98, 64).mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(data.error, g[2:].reshape(98, 64).std(axis=0, ddof=1)
                               / np.sqrt(98), rtol=1e-12)
    full = momentum_data(path, cut=0)
    assert full.rows == 100 and full.mean[0] == pytest.approx(g0.mean(), rel=1e-12)


def test_kept_rows_per_measurement_is_the_measurements_after_the_cut(runs):
    run = read_run(str(runs["3d"]))
    with h5py.File(runs["3d"]) as f:
        step = f["correlators/step"][:]
    np.testing.assert_array_equal(step, run.step)
    for cut in (0, 1, 57):
        np.testing.assert_array_equal(kept_rows(run, step, cut), np.arange(step.size) >= cut)
    assert not kept_rows(run, step, run.measurements).any()


def test_3d_radial_bins(runs, tmp_path):
    """d >= 3: bins of G_radial at the mean phat^2 of their momenta (on 4^3 |s| = 1 gives 2,
    |s| = 2 gives 4), enumerated here independently of the module."""
    paths = plot_run(str(runs["3d"]), str(tmp_path), cut=100)
    check_written(tmp_path, paths, "cube",
                  ["history", "histogram_m", "acf", "G_p", "C_t", "block_levels"])
    data = momentum_data(str(runs["3d"]), cut=100)
    with h5py.File(runs["3d"]) as f:
        n2 = f["correlators/radial_n2"][:]
        g0 = f["correlators/G0"][:]
    sums = {}
    for s in itertools.product([-1, 0, 1, 2], repeat=3):
        k = sum(x * x for x in s)
        sums.setdefault(k, []).append(sum(2.0 if abs(x) == 1 else 4.0 * (x != 0) for x in s))
    assert data.radial and list(data.n2) == list(n2) == sorted(sums)
    np.testing.assert_allclose(data.phat2, [np.mean(sums[k]) for k in n2], rtol=1e-13)
    assert dict(zip(n2, data.phat2))[9] == pytest.approx(10.0)  # (2, 2, 1) only
    assert data.mean[0] == pytest.approx(g0[100:].mean(), rel=1e-12)
    assert data.rows == g0.size - 100


def test_block_levels_data(runs):
    """Levels 0..2 of 8x8; block averaging keeps m and lowers phi^2; level 0 is the lattice,
    its kept rows the measurements from 40 on (cut 30, blocks of 20)."""
    data = level_data(str(runs["2d"]), cut=30)
    assert list(data.level) == [0, 1, 2] and data.dims == [(8, 8), (4, 4), (2, 2)]
    assert data.rows == 98
    am = data.estimates["|m|"][:, 0]
    np.testing.assert_allclose(am, am[0], rtol=1e-10)
    phi2 = data.estimates["phi2"][:, 0]
    assert np.all(np.diff(phi2) < 0), phi2
    run = read_run(str(runs["2d"]))
    assert phi2[0] == pytest.approx(run.phi2[40:].mean(), rel=1e-12)
    assert np.all(data.estimates["phi2"][:, 1] > 0)


def test_missing_groups_skip_their_plots(runs, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    paths = plot_run(str(runs["plain"]), str(a), prefix="p")
    check_written(a, paths, "p", ["history", "histogram_m", "acf"])
    assert momentum_data(str(runs["plain"])) is None and level_data(str(runs["plain"])) is None
    # Minimal layout: no /observables/nn, /correlators, /coarse or delta_h.
    rng = np.random.default_rng(1)
    fake = fake_run(tmp_path / "fake.h5", rng.normal(size=500))
    check_written(b, plot_run(str(fake), str(b)), "fake", ["history", "histogram_m", "acf"])


def test_cut_leaving_too_little_keeps_only_the_history(runs, tmp_path):
    n = read_run(str(runs["plain"])).measurements
    paths = plot_run(str(runs["plain"]), str(tmp_path), cut=n - 1)
    check_written(tmp_path, paths, "plain", ["history"])
    with pytest.raises(InputError, match="cut"):
        plot_run(str(runs["plain"]), str(tmp_path), cut=-1)


def test_unreadable_files_raise_input_error_naming_them(runs, tmp_path):
    missing = tmp_path / "none.h5"
    with pytest.raises(InputError, match="none.h5"):
        plot_run(str(missing), str(tmp_path))
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all")
    with pytest.raises(InputError, match="junk.h5: not an HDF5"):
        plot_run(str(junk), str(tmp_path))
    with pytest.raises(InputError, match="not a latdiff score model"):
        plot_score_model(str(runs["plain"]), str(tmp_path), "x")
    with pytest.raises(InputError, match="no such directory"):
        plot_run(str(runs["plain"]), str(tmp_path / "nodir"))
    assert sorted(os.listdir(tmp_path)) == ["junk.h5"]


def test_trained_score_chain_plots_its_model(runs, tmp_path):
    paths = plot_run(str(runs["diffusion"]), str(tmp_path))
    check_written(tmp_path, paths, "chain",
                  ["history", "histogram_m", "acf", "score_couplings"])
    model = read_score_model(str(runs["diffusion"].with_suffix(".model.h5")))
    assert model.version == 2 and list(model.block_sizes) == [0, 2]
    assert model.kernel.shape == (8, 9) and model.knots[-1] == pytest.approx(8.0)
    assert set(model.block) == {"c1", "c3", "c5"} and model.block["c3"].shape == (8, 2)
    assert np.all(model.block["c1"][:, 1] == 0)  # the mass term is the zero mode's alone


def _copy(src, dst, edit):
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        edit(f)
    return str(dst)


def test_schema_versions(runs, tmp_path):
    """Version 1: no block terms, block datasets ignored as the C++ reader ignores them;
    version 2 needs them; others are refused."""
    src = runs["diffusion"].with_suffix(".model.h5")

    def v1(f):
        f.attrs["schema_version"] = 1
        for name in ("block_quadratic", "block_cubic", "block_sizes"):
            del f[f"score/{name}"]

    old = _copy(src, tmp_path / "v1.model.h5", v1)
    m = read_score_model(old)
    assert m.version == 1 and m.block_sizes.size == 0 and m.block == {}
    np.testing.assert_array_equal(m.kernel, read_score_model(str(src)).kernel)
    out = tmp_path / "out"
    out.mkdir()
    check_written(out, plot_score_model(old, str(out), "v1"), "v1", ["score_couplings"])

    def broken_v2(f):
        del f["score/block_cubic"]

    with pytest.raises(InputError, match="block_cubic"):
        read_score_model(_copy(src, tmp_path / "b.model.h5", broken_v2))

    def v3(f):
        f.attrs["schema_version"] = 3

    with pytest.raises(InputError, match="schema version 3"):
        plot_score_model(_copy(src, tmp_path / "v3.model.h5", v3), str(out), "v3")
    assert os.listdir(out) == ["v1_score_couplings.png"]


def _with_deck(src, dst, old, new):
    def edit(f):
        deck = f.attrs["deck"]
        deck = deck.decode() if isinstance(deck, bytes) else deck
        assert old in deck
        f.attrs["deck"] = deck.replace(old, new)

    return _copy(src, dst, edit)


def test_model_file_resolution(runs, tmp_path):
    src = runs["diffusion"]
    model = src.with_suffix(".model.h5")
    key = "model_file = chain.model.h5"
    assert model_path_for(read_run(str(src))) == str(model)
    # Empty model_file: output.file with .model.h5, next to the output file.
    here = src.parent
    empty = _with_deck(src, here / "copy_empty.h5", key, "model_file =")
    assert model_path_for(read_run(empty)) == str(model)
    gone = _with_deck(src, tmp_path / "gone.h5", key, "model_file = nowhere.model.h5")
    assert model_path_for(read_run(gone)) is None
    free = _with_deck(src, tmp_path / "free.h5", "score = trained", "score = free_field")
    assert model_path_for(read_run(free)) is None
    # Relative to the directory the chain ran in, output.file = sub/c.h5.
    (tmp_path / "sub").mkdir()
    shutil.copyfile(model, tmp_path / "sub" / "m.model.h5")
    moved = _with_deck(src, tmp_path / "sub" / "c.h5", key, "model_file = sub/m.model.h5")
    moved = _with_deck(moved, tmp_path / "sub" / "c2.h5", "file = chain.h5", "file = sub/c2.h5")
    assert model_path_for(read_run(moved)) == str(tmp_path / "sub" / "m.model.h5")
    os.remove(empty)


def test_an_interrupted_save_leaves_no_png(runs, tmp_path, monkeypatch):
    def failing_savefig(self, fname, *args, **kwargs):
        with open(fname, "wb") as f:
            f.write(PNG_MAGIC)  # half a PNG, then the "kill"
        raise KeyboardInterrupt

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", failing_savefig)
    with pytest.raises(KeyboardInterrupt):
        plot_run(str(runs["plain"]), str(tmp_path))
    assert os.listdir(tmp_path) == []
    assert plt.get_fignums() == []


def test_phat2_grid_1d():
    np.testing.assert_allclose(phat2_grid((4,)), [0.0, 2.0, 4.0, 2.0], atol=1e-15)
