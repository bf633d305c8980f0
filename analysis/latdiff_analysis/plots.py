"""PNG plots of latdiff output files and score model files (matplotlib, Agg backend).

Contract. plot_run(path, outdir, cut=0, prefix=None) writes into the existing directory outdir
(prefix: the file's name without .h5) and returns the paths it wrote, in this order:

  <prefix>_history.png          m, phi^2 and S/V against the update number, the cut shaded
  <prefix>_histogram_m.png      density histogram of m after the cut, +-<|m|> marked
  <prefix>_acf.png              rho(t) and tau_int(t) of |m|, m^2, S/V, Gamma-method windows
  <prefix>_G_p.png              /correlators: <G(p)> and 1/<G(p)> against phat^2 (d >= 3: the
                                radial bins of /correlators/G_radial)
  <prefix>_C_t.png              /correlators/C: <C(t)>
  <prefix>_block_levels.png     /coarse: <|m|>, <phi^2>, <nn>, <G0>, <Gpmin>, xi_2 per level
  <prefix>_score_couplings.png  diffusion.score = trained and its model file exists

plot_score_model(model_path, outdir, prefix) writes <prefix>_score_couplings.png.

cut drops the first `cut` measurements (thermalization). Rows of /correlators and /coarse (one
per measurement, or block means) are kept when their whole block lies after the cut: row k is
kept when the row before it ends at or after the last dropped measurement (every row for
cut = 0). Errors of those rows are naive (standard error of the row means; in block mode the
rows are already block means); errors of /observables and of /coarse levels are the Gamma
method's (autocorrelation.gamma_method).

A plot whose data are missing (a group not written, fewer than 2 values after the cut) is
skipped; a file that cannot be read raises InputError naming it (a damaged model file found
through a chain's deck is warned about and skipped, the chain's plots are still written).
Each PNG is saved as <name>.tmp.png and renamed, so a kill leaves no partial PNG.
"""

import math
import os
import re
import warnings
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

from .autocorrelation import autocovariance, gamma_method, gamma_method_derived  # noqa: E402
from .errors import InputError  # noqa: E402
from .files import RunFile, read_run  # noqa: E402

DPI = 110
MAX_HISTORY_POINTS = 50_000  # longer histories are drawn every k-th point (said in the title)
SCORE_SCHEMA = "latdiff score model"
SCORE_VERSIONS = (1, 2)


# ----------------------------------------------------------------------------- helpers


def save_figure(fig, path: str) -> str:
    """Saves and closes fig through a temporary file, so path is complete or absent."""
    tmp = path + ".tmp.png"
    try:
        fig.savefig(tmp, dpi=DPI)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    finally:
        plt.close(fig)
    return path


def _open_h5(path: str):
    """h5py.File(path, 'r'), or InputError naming the file."""
    import h5py

    if not os.path.isfile(path):
        raise InputError(path, "no such file")
    try:
        if not h5py.is_hdf5(path):
            raise InputError(path, "not an HDF5 file")
        return h5py.File(path, "r")
    except OSError as e:
        raise InputError(path, f"cannot read as HDF5: {e}") from None


def _array(f, name: str, shape_tail: Optional[Tuple[int, ...]] = None,
           rows: Optional[int] = None) -> Optional[np.ndarray]:
    """Dataset `name` as float64, or None when absent or not of [rows, *shape_tail]."""
    obj = f.get(name)
    if obj is None or not hasattr(obj, "shape"):
        return None
    a = np.asarray(obj[()], dtype=float)
    if rows is not None and (a.ndim == 0 or a.shape[0] != rows):
        return None
    if shape_tail is not None and tuple(a.shape[1:]) != tuple(shape_tail):
        return None
    return a


def _point_label(run: RunFile) -> str:
    """'<file>: 8x8, hopping kappa=0.3 lambda=0.5, hmc' for titles."""
    deck = run.deck
    form = deck.get("action.form", "hopping")
    if form == "mass":
        couplings = f"m2={deck.get('action.m2', '?')} g={deck.get('action.g', '?')}"
    else:
        couplings = f"kappa={deck.get('action.kappa', '?')} lambda={deck.get('action.lambda', '?')}"
    sampler = deck.get("sampler.type", "?")
    dims = "x".join(map(str, run.dims))
    return f"{os.path.basename(run.path)}: {dims}, {form} {couplings}, {sampler}"


def _check_cut(run: RunFile, cut: int) -> int:
    if int(cut) != cut or cut < 0:
        raise InputError(run.path, f"cut = {cut}: must be an integer >= 0 (measurements dropped)")
    return int(cut)


def kept_rows(run: RunFile, row_step: np.ndarray, cut: int) -> np.ndarray:
    """Mask of the /correlators or /coarse rows (steps row_step) wholly after the cut.

    Row k is the mean of the measurements after row k-1's step up to row_step[k]; it is kept
    when row k-1 ends at or after the last dropped measurement (all rows for cut = 0).
    """
    row_step = np.asarray(row_step, dtype=np.int64)
    cut = _check_cut(run, cut)
    if cut == 0:
        return np.ones(row_step.size, dtype=bool)
    if cut >= run.measurements:
        return np.zeros(row_step.size, dtype=bool)
    last_dropped = run.step[cut - 1]
    keep = np.zeros(row_step.size, dtype=bool)
    keep[1:] = row_step[:-1] >= last_dropped
    return keep


def phat2_grid(dims: Sequence[int]) -> np.ndarray:
    """phat^2 = sum_mu 4 sin^2(p_mu/2), p_mu = 2 pi n_mu/L_mu, on the index grid [L_0, ...]."""
    axes = [4.0 * np.sin(np.pi * np.arange(L) / L) ** 2 for L in dims]
    grid = np.zeros(tuple(dims))
    for mu, a in enumerate(axes):
        shape = [1] * len(dims)
        shape[mu] = dims[mu]
        grid = grid + a.reshape(shape)
    return grid


def radial_bins(dims: Sequence[int]) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n2, count, mean phat^2) of the radial bins n^2 = sum s_mu^2, s_mu the signed index in
    (-L_mu/2, L_mu/2] (README /correlators/G_radial), by enumerating every momentum."""
    n2 = np.zeros(tuple(dims), dtype=np.int64)
    for mu, L in enumerate(dims):
        n = np.arange(L)
        s = np.where(n > L // 2, n - L, n)
        shape = [1] * len(dims)
        shape[mu] = L
        n2 = n2 + (s * s).reshape(shape)
    values, inverse, count = np.unique(n2.ravel(), return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=phat2_grid(dims).ravel())
    return values, count, sums / count


@dataclass
class MomentumData:
    """What _G_p.png shows: <G> per momentum (d <= 2) or radial bin (d >= 3)."""

    phat2: np.ndarray            # per point: phat^2 (bins: mean over the bin's momenta)
    mean: np.ndarray             # <G(p)> over the kept rows
    error: np.ndarray            # naive: standard error of the kept rows
    rows: int                    # rows kept after the cut
    block: int                   # measurements per row
    radial: bool                 # d >= 3: bins of /correlators/G_radial
    n2: Optional[np.ndarray]     # radial: n^2 of each bin


def _mean_rows(rows: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    n = rows.shape[0]
    return rows.mean(axis=0), rows.std(axis=0, ddof=1) / np.sqrt(n)


def _momentum_data(run: RunFile, f, cut: int) -> Optional[MomentumData]:
    corr = run.correlators
    if corr is None:
        return None
    keep = kept_rows(run, corr.step, cut)
    if keep.sum() < 2:
        return None
    n, dims = corr.step.size, run.dims
    if len(dims) <= 2:
        g = _array(f, "correlators/G", dims, rows=n)
        if g is None:
            return None
        mean, err = _mean_rows(g[keep].reshape(int(keep.sum()), -1))
        return MomentumData(phat2_grid(dims).ravel(), mean, err, int(keep.sum()), corr.block,
                            False, None)
    g = _array(f, "correlators/G_radial", rows=n)
    n2 = _array(f, "correlators/radial_n2")
    count = _array(f, "correlators/radial_count")
    if g is None or n2 is None or count is None or g.ndim != 2 or g.shape[1] != n2.size:
        return None
    values, counts, phat2 = radial_bins(dims)
    if values.size != n2.size or np.any(values != n2) or np.any(counts != count):
        warnings.warn(f"{run.path}: /correlators/radial_n2 and radial_count are not the bins "
                      f"of a {'x'.join(map(str, dims))} lattice; no G(p) plot")
        return None
    mean, err = _mean_rows(g[keep])
    return MomentumData(phat2, mean, err, int(keep.sum()), corr.block, True,
                        n2.astype(np.int64))


def momentum_data(path: str, cut: int = 0) -> Optional[MomentumData]:
    """The data of <prefix>_G_p.png for the file at path, or None without /correlators."""
    run = read_run(path)
    with _open_h5(path) as f:
        return _momentum_data(run, f, cut)


@dataclass
class LevelData:
    """What _block_levels.png shows: Gamma-method estimates per block-spin level."""

    level: np.ndarray                         # k
    dims: List[Tuple[int, ...]]               # extents of level k
    estimates: Dict[str, np.ndarray]          # name -> [levels, 2] (value, error); NaN: none
    rows: int


def _gamma(x: np.ndarray) -> Tuple[float, float]:
    try:
        r = gamma_method(x)
    except ValueError:
        return math.nan, math.nan
    return r.value, r.error


def _xi2(g0: np.ndarray, gpmin: np.ndarray, l0: int, spacing: float) -> Tuple[float, float]:
    """xi_2 = sqrt(<G0>/<Gpmin> - 1)/(2 sin(pi/L_0)) in units of the level-0 spacing."""
    def f(means):
        return spacing * np.sqrt(means[0] / means[1] - 1.0) / (2.0 * np.sin(np.pi / l0))

    try:
        with np.errstate(invalid="ignore", divide="ignore"):
            r = gamma_method_derived([g0, gpmin], f)
    except (ValueError, ArithmeticError):
        return math.nan, math.nan
    return r.value, r.error


def _level_data(run: RunFile, f, cut: int) -> Optional[LevelData]:
    coarse = f.get("coarse")
    step = _array(f, "coarse/step")
    if coarse is None or step is None or step.ndim != 1:
        return None
    keep = kept_rows(run, step.astype(np.int64), cut)
    if keep.sum() < 2:
        return None
    levels = sorted(int(m.group(1)) for m in (re.fullmatch(r"level_(\d+)", k) for k in coarse)
                    if m)
    names = ("|m|", "phi2", "nn", "G0", "Gpmin", "xi2")
    out_levels, out_dims = [], []
    est: Dict[str, List[Tuple[float, float]]] = {k: [] for k in names}
    l0_base = None
    for k in levels:
        g = coarse[f"level_{k}"]
        dims_attr = g.attrs.get("dims")
        if dims_attr is None:
            continue
        dims = tuple(int(x) for x in np.atleast_1d(dims_attr))
        if l0_base is None:
            l0_base = dims[0]
        out_levels.append(k)
        out_dims.append(dims)
        series = {}
        for name in ("mag", "phi2", "nn", "G0"):
            a = _array(f, f"coarse/level_{k}/{name}", rows=step.size)
            series[name] = a[keep] if a is not None and a.ndim == 1 else None
        gp = _array(f, f"coarse/level_{k}/Gpmin", (len(dims),), rows=step.size)
        gpbar = None
        if gp is not None:
            same = [mu for mu in range(len(dims)) if dims[mu] == dims[0]]
            gpbar = gp[keep][:, same].mean(axis=1)
        for key, a in (("|m|", None if series["mag"] is None else np.abs(series["mag"])),
                       ("phi2", series["phi2"]), ("nn", series["nn"]), ("G0", series["G0"]),
                       ("Gpmin", gpbar)):
            est[key].append(_gamma(a) if a is not None else (math.nan, math.nan))
        if series["G0"] is not None and gpbar is not None:
            est["xi2"].append(_xi2(series["G0"], gpbar, dims[0], l0_base / dims[0]))
        else:
            est["xi2"].append((math.nan, math.nan))
    if not out_levels:
        return None
    return LevelData(np.asarray(out_levels), out_dims,
                     {k: np.asarray(v, dtype=float).reshape(-1, 2) for k, v in est.items()},
                     int(keep.sum()))


def level_data(path: str, cut: int = 0) -> Optional[LevelData]:
    """The data of <prefix>_block_levels.png for the file at path, or None without /coarse."""
    run = read_run(path)
    with _open_h5(path) as f:
        return _level_data(run, f, cut)


# ----------------------------------------------------------------------------- run plots


def _plot_history(run: RunFile, cut: int, title: str, path: str) -> str:
    n = run.measurements
    stride = max(1, math.ceil(n / MAX_HISTORY_POINTS))
    sel = slice(None, None, stride)
    panels = [("m", run.mag), (r"$\phi^2$", run.phi2), ("S/V", run.action_density)]
    fig, axes = plt.subplots(len(panels), 1, sharex=True, figsize=(10, 7.5))
    for ax, (label, y) in zip(axes, panels):
        ax.plot(run.step[sel], y[sel], lw=0.5, color="C0", label=label)
        if 0 < cut:
            x_cut = run.step[min(cut, n) - 1]
            ax.axvspan(run.step[0], x_cut, color="0.85", zorder=0)
            ax.axvline(x_cut, color="C3", ls="--", lw=1,
                       label=f"cut: first {min(cut, n)} measurements dropped")
        ax.set_ylabel(label)
        ax.legend(loc="upper right", fontsize=8)
    axes[0].plot(run.step[sel], np.abs(run.mag[sel]), lw=0.5, color="C1", alpha=0.6,
                 label="|m|")
    axes[0].legend(loc="upper right", fontsize=8)
    axes[-1].set_xlabel("update number (/observables/step)")
    thin = f", every {stride}th point shown" if stride > 1 else ""
    axes[0].set_title(f"{title}\nMonte Carlo history, {n} measurements{thin}")
    fig.tight_layout()
    return save_figure(fig, path)


def _plot_histogram(run: RunFile, cut: int, title: str, path: str) -> Optional[str]:
    m = run.mag[cut:]
    if m.size < 2:
        return None
    bins = int(min(100, max(10, np.sqrt(m.size))))
    fig, ax = plt.subplots(figsize=(7, 5))
    ax.hist(m, bins=bins, density=True, color="C0", alpha=0.7, label=f"m, {m.size} measurements")
    am, dam = _gamma(np.abs(m))
    if np.isfinite(am):
        for sign in (-1, 1):
            ax.axvline(sign * am, color="C3", ls="--", lw=1.2,
                       label=rf"$\pm\langle|m|\rangle$ = $\pm${am:.4g} $\pm$ {dam:.2g}"
                       if sign > 0 else None)
    ax.set_xlabel("magnetisation m")
    ax.set_ylabel("probability density")
    ax.set_title(f"{title}\nhistogram of m after a cut of {cut} measurements")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def _plot_acf(run: RunFile, cut: int, title: str, path: str) -> Optional[str]:
    m = run.mag[cut:]
    if m.size < 4:
        return None
    series = {"|m|": np.abs(m), r"$m^2$": m * m, "S/V": run.action_density[cut:]}
    results = {}
    for label, x in series.items():
        try:
            r = gamma_method(x)
        except ValueError:
            continue
        if np.var(x) > 0:
            results[label] = r
    if not results:
        return None
    max_lag = min(m.size // 2, max(20, 3 * max(r.window for r in results.values())))
    lags = np.arange(max_lag + 1)
    fig, (ax_rho, ax_tau) = plt.subplots(1, 2, figsize=(12, 5))
    for i, (label, r) in enumerate(results.items()):
        x = series[label]
        gam = autocovariance(x - x.mean(), max_lag)
        rho = gam / gam[0]
        color = f"C{i}"
        ax_rho.plot(lags, rho, color=color,
                    label=rf"{label}: $\tau_{{int}}$ = {r.tau_int:.3g} $\pm$ "
                          rf"{r.tau_int_error:.2g}, W = {r.window}")
        ax_rho.axvline(r.window, color=color, ls="--", lw=1)
        tau_run = 0.5 + np.concatenate([[0.0], np.cumsum(rho[1:])])
        ax_tau.plot(lags, tau_run, color=color, label=label)
        ax_tau.axvline(r.window, color=color, ls="--", lw=1)
        ax_tau.errorbar([r.window], [r.tau_int], yerr=[r.tau_int_error], fmt="o", color=color,
                        ms=4, capsize=3)
    ax_rho.axhline(0.0, color="k", lw=0.6)
    ax_rho.set_xlabel("lag t (measurements)")
    ax_rho.set_ylabel(r"$\rho(t) = \Gamma(t)/\Gamma(0)$")
    ax_rho.set_title("normalised autocorrelation (dashed: Gamma-method window W)", fontsize=9)
    ax_rho.legend(fontsize=8)
    ax_tau.set_xlabel("summation window t (measurements)")
    ax_tau.set_ylabel(r"$\tau_{int}(t) = 1/2 + \sum_{t'=1}^{t} \rho(t')$")
    ax_tau.set_title(r"running $\tau_{int}$ (point: the Gamma method's $\tau_{int}$ at W)",
                     fontsize=9)
    ax_tau.legend(fontsize=8)
    fig.suptitle(f"{title}\nautocorrelations after a cut of {cut} measurements "
                 f"({m.size} kept)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def _rows_note(data_rows: int, block: int) -> str:
    per = f"block means of {block} measurements" if block > 1 else "one per measurement"
    return f"{data_rows} rows ({per}); naive errors: standard error of the rows"


def _plot_g_p(data: MomentumData, title: str, path: str) -> str:
    fig, (ax_g, ax_inv) = plt.subplots(1, 2, figsize=(12, 5))
    zero = data.phat2 == 0.0
    rest = ~zero
    what = "radial bins of /correlators/G_radial" if data.radial else "every momentum"
    for ax, y, dy, ylabel in (
            (ax_g, data.mean, data.error, r"$\langle G(p) \rangle$"),
            (ax_inv, 1.0 / data.mean, data.error / data.mean**2,
             r"$1/\langle G(p) \rangle$")):
        ax.errorbar(data.phat2[rest], y[rest], yerr=dy[rest], fmt="o", ms=3, capsize=2,
                    color="C0", label=f"p $\\neq$ 0 ({what})")
        ax.errorbar(data.phat2[zero], y[zero], yerr=dy[zero], fmt="s", ms=5, capsize=2,
                    color="C3", label="p = 0")
        ax.set_xlabel(r"$\hat p^2 = \sum_\mu 4 \sin^2(p_\mu/2)$")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)
    if np.all(data.mean > 0):
        ax_g.set_yscale("log")
    ax_g.set_title("momentum-space propagator", fontsize=9)
    ax_inv.set_title("inverse propagator (slope, intercept: Z, mass)", fontsize=9)
    fig.suptitle(f"{title}\n{_rows_note(data.rows, data.block)}", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def _plot_c_t(run: RunFile, f, cut: int, title: str, path: str) -> Optional[str]:
    corr = run.correlators
    if corr is None:
        return None
    c = _array(f, "correlators/C", (run.dims[0],), rows=corr.step.size)
    keep = kept_rows(run, corr.step, cut)
    if c is None or keep.sum() < 2:
        return None
    mean, err = _mean_rows(c[keep])
    t = np.arange(run.dims[0])
    fig, ax = plt.subplots(figsize=(7, 5))
    ax.errorbar(t, mean, yerr=err, fmt="o-", ms=4, capsize=3, lw=0.8,
                label=r"$\langle C(t) \rangle$, naive errors")
    if np.all(mean > 0):
        ax.set_yscale("log")
    ax.set_xlabel(r"time separation t (direction 0, $L_0$ = %d)" % run.dims[0])
    ax.set_ylabel(r"$C(t) = (1/V) \sum_\tau S(\tau) S(\tau + t)$")
    ax.set_title(f"{title}\ntime-slice correlator\n{_rows_note(int(keep.sum()), corr.block)}",
                 fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def _plot_levels(data: LevelData, title: str, path: str) -> str:
    k = data.level
    fig, axes = plt.subplots(1, 3, figsize=(15, 5))
    labels = {"|m|": r"$\langle|m|\rangle$", "phi2": r"$\langle\phi^2\rangle$",
              "nn": r"$\langle nn \rangle$", "G0": r"$\langle G(0) \rangle$",
              "Gpmin": r"$\langle G(p_{min}) \rangle$",
              "xi2": r"$\xi_2 \cdot L_0^{(0)}/L_0^{(k)}$"}

    def draw(ax, key, marker):
        v = data.estimates[key]
        ok = np.isfinite(v[:, 0])
        if ok.any():
            ax.errorbar(k[ok], v[ok, 0], yerr=np.nan_to_num(v[ok, 1]), fmt=marker + "-",
                        capsize=3, label=labels[key])
        return ok.any()

    for key, marker in (("|m|", "o"), ("phi2", "s"), ("nn", "^")):
        draw(axes[0], key, marker)
    axes[0].set_ylabel("level average")
    positive = True
    for key, marker in (("G0", "o"), ("Gpmin", "s")):
        draw(axes[1], key, marker)
        v = data.estimates[key][:, 0]
        positive &= bool(np.all(v[np.isfinite(v)] > 0))
    if positive:
        axes[1].set_yscale("log")
    axes[1].set_ylabel("G at the level's lowest momenta")
    if not draw(axes[2], "xi2", "o"):
        axes[2].text(0.5, 0.5, r"$\xi_2$ undefined ($G_0 \leq G_{pmin}$)", ha="center",
                     transform=axes[2].transAxes)
    axes[2].set_ylabel(r"$\xi_2$ in level-0 lattice units")
    ticks = [f"{kk}\n" + "x".join(map(str, d)) for kk, d in zip(k, data.dims)]
    for ax in axes:
        ax.set_xticks(k)
        ax.set_xticklabels(ticks, fontsize=8)
        ax.set_xlabel("block-spin level k (block size 2^k; level extents)")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.suptitle(f"{title}\nblock-spin levels (b = 2), {data.rows} rows after the cut; "
                 "Gamma-method errors", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def model_path_for(run: RunFile) -> Optional[str]:
    """The score model file of a diffusion.score = trained chain, if it exists (else None).

    diffusion.model_file, or output.file with .h5 replaced by .model.h5; a relative path is
    taken relative to the output file's directory, then to the directory the chain ran in
    (where output.file names a relative path with directories).
    """
    deck = run.deck
    if deck.get("diffusion.score") != "trained":
        return None
    out = deck.get("output.file", "") or os.path.basename(run.path)
    model = deck.get("diffusion.model_file", "")
    if not model:
        model = (out[:-3] if out.endswith(".h5") and len(out) > 3 else out) + ".model.h5"
    if os.path.isabs(model):
        return model if os.path.isfile(model) else None
    here = os.path.abspath(run.path)
    bases = [os.path.dirname(here)]
    rel_out = os.path.normpath(out)
    if not os.path.isabs(out) and here.endswith(os.sep + rel_out):
        bases.append(here[: -len(rel_out)])
    for base in bases:
        candidate = os.path.join(base, model)
        if os.path.isfile(candidate):
            return candidate
    return None


def plot_run(path: str, outdir: str, cut: int = 0, prefix: Optional[str] = None) -> List[str]:
    """Writes the plots of one latdiff output file into outdir; the paths written."""
    run = read_run(path)
    cut = _check_cut(run, cut)
    if not os.path.isdir(outdir):
        raise InputError(outdir, "no such directory (the plots' output directory must exist)")
    if prefix is None:
        base = os.path.basename(path)
        prefix = base[:-3] if base.endswith(".h5") and len(base) > 3 else base
    title = _point_label(run)

    def out(name: str) -> str:
        return os.path.join(outdir, f"{prefix}_{name}.png")

    written: List[Optional[str]] = []
    written.append(_plot_history(run, cut, title, out("history")))
    written.append(_plot_histogram(run, cut, title, out("histogram_m")))
    written.append(_plot_acf(run, cut, title, out("acf")))
    with _open_h5(path) as f:
        try:
            g = _momentum_data(run, f, cut)
            if g is not None:
                written.append(_plot_g_p(g, title, out("G_p")))
            written.append(_plot_c_t(run, f, cut, title, out("C_t")))
            levels = _level_data(run, f, cut)
        except (OSError, KeyError) as e:
            raise InputError(path, f"cannot read as HDF5: {e}") from None
    if levels is not None:
        written.append(_plot_levels(levels, title, out("block_levels")))
    model = model_path_for(run)
    if model is not None:
        try:
            written.extend(plot_score_model(model, outdir, prefix))
        except InputError as e:
            warnings.warn(f"no score model plot: {e}")
    return [w for w in written if w is not None]


# ----------------------------------------------------------------------------- score model


@dataclass
class ScoreModel:
    """The parameters of a score model file as read (README "Score model files")."""

    path: str
    version: int
    process: str
    dimension: int
    knots: np.ndarray                   # u_j = phat^2 of the knots
    kernel: np.ndarray                  # [N, knots] h_i(u_j)
    cubic: np.ndarray                   # [N] c3_i of the site field
    quintic: np.ndarray                 # [N] c5_i
    block_sizes: np.ndarray             # [S] (empty for schema version 1)
    block: Dict[str, np.ndarray]        # "c1", "c3", "c5" -> [N, S] (empty for version 1)
    abar: Optional[np.ndarray]
    sbar2: Optional[np.ndarray]
    loss_train: Optional[np.ndarray]
    loss_holdout: Optional[np.ndarray]

    @property
    def levels(self) -> int:
        return int(self.kernel.shape[0])


def _attr(f, name: str):
    v = f.attrs.get(name)
    if isinstance(v, bytes):
        v = v.decode("utf-8", errors="replace")
    return v


def read_score_model(path: str) -> ScoreModel:
    """Reads a score model file as latdiff does (schema versions 1 and 2); InputError else."""
    with _open_h5(path) as f:
        try:
            return _read_model(f, path)
        except (OSError, KeyError) as e:
            raise InputError(path, f"cannot read as HDF5: {e}") from None


def _read_model(f, path: str) -> ScoreModel:
    if _attr(f, "schema") != SCORE_SCHEMA:
        raise InputError(path, f"not a latdiff score model file (no attribute schema = "
                               f"'{SCORE_SCHEMA}')")
    version = _attr(f, "schema_version")
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise InputError(path, f"score model schema_version '{version}' is no integer") from None
    if version not in SCORE_VERSIONS:
        raise InputError(path, f"score model schema version {version}, this reads versions "
                               f"{' and '.join(map(str, SCORE_VERSIONS))}")
    if _attr(f, "score") != "linear":
        raise InputError(path, f"score model of kind '{_attr(f, 'score')}', this reads 'linear'")
    try:
        levels = int(_attr(f, "levels"))
        nk = int(_attr(f, "knots"))
        dimension = int(_attr(f, "dimension"))
    except (TypeError, ValueError):
        raise InputError(path, "corrupt score model (attributes levels, knots, dimension)") \
            from None

    def need(name, shape):
        a = _array(f, name)
        if a is None or a.shape != shape:
            got = None if a is None else a.shape
            raise InputError(path, f"corrupt score model: /{name} has shape {got}, "
                                   f"expected {shape}")
        return a

    kernel = need("score/kernel", (levels, nk))
    cubic = need("score/cubic", (levels,))
    quintic = need("score/quintic", (levels,))
    knots = _array(f, "score/knots")
    if knots is None or knots.shape != (nk,):
        knots = 4.0 * dimension * np.arange(nk) / (nk - 1)  # as the C++ writes them
    sizes = np.zeros(0, dtype=np.int64)
    block: Dict[str, np.ndarray] = {}
    if version > 1:
        s = _array(f, "score/block_sizes")
        if s is None or s.ndim != 1:
            raise InputError(path, "corrupt score model (/score/block_sizes is not 1-D)")
        sizes = s.astype(np.int64)
        for key, name in (("c1", "block_quadratic"), ("c3", "block_cubic"),
                          ("c5", "block_quintic")):
            block[key] = need(f"score/{name}", (levels, sizes.size))

    def optional(name):
        a = _array(f, name)
        return a if a is not None and a.shape == (levels,) else None

    return ScoreModel(path, version, str(_attr(f, "process")), dimension, knots, kernel, cubic,
                      quintic, sizes, block, optional("score/abar"), optional("score/sbar2"),
                      optional("loss/train"), optional("loss/holdout"))


def _noise_axis(ax, model: ScoreModel, title: str) -> None:
    """Level index below; the noise-to-signal scale sbar_i/abar_i (sigma for ve) on top."""
    ax.set_xlabel("noise level i")
    if model.sbar2 is None or not np.all(np.isfinite(model.sbar2)):
        ax.set_title(title, fontsize=9)
        return
    abar = model.abar if model.abar is not None else np.ones(model.levels)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.sqrt(model.sbar2) / abar
    top = ax.twiny()
    top.set_xlim(ax.get_xlim())
    ticks = np.unique(np.linspace(1, model.levels, min(6, model.levels)).round().astype(int))
    top.set_xticks(ticks)
    top.set_xticklabels([f"{scale[t - 1]:.2g}" for t in ticks], fontsize=8)
    top.set_xlabel(r"noise scale $\bar s_i/\bar a_i$", fontsize=8)
    ax.set_title(title, fontsize=9, pad=32)


def plot_score_model(model_path: str, outdir: str, prefix: str) -> List[str]:
    """Writes <prefix>_score_couplings.png: the fitted couplings against the noise level."""
    model = read_score_model(model_path)
    if not os.path.isdir(outdir):
        raise InputError(outdir, "no such directory (the plots' output directory must exist)")
    i = np.arange(1, model.levels + 1)
    panels: List[Callable] = []

    def kernel_vs_p(ax):
        pick = np.unique(np.linspace(0, model.levels - 1, min(8, model.levels)).round()
                         .astype(int))
        cmap = plt.get_cmap("viridis")
        for j in pick:
            ax.plot(model.knots, model.kernel[j], "o-", ms=3,
                    color=cmap(j / max(1, model.levels - 1)), label=f"i = {j + 1}")
        ax.set_xlabel(r"$\hat p^2$ (knots $u_j$)")
        ax.set_ylabel(r"$h_i(\hat p^2)$")
        ax.set_title("momentum kernel at selected levels", fontsize=9)
        if np.all(model.kernel[pick] > 0):
            ax.set_yscale("log")
        ax.legend(fontsize=7, ncol=2)

    def kernel_vs_level(ax):
        cmap = plt.get_cmap("plasma")
        umax = max(float(model.knots.max()), 1e-300)
        for j, u in enumerate(model.knots):
            ax.plot(i, model.kernel[:, j], color=cmap(0.9 * u / umax), lw=1.2,
                    label=f"u = {u:.3g}" if j in (0, model.knots.size - 1) else None)
        if model.sbar2 is not None and np.all(model.sbar2 > 0):
            ax.plot(i, 1.0 / model.sbar2, "k--", lw=1, label=r"Gaussian limit $1/\bar s_i^2$")
        lo, hi = float(np.min(model.kernel)), float(np.max(model.kernel))
        if np.all(model.kernel > 0):
            ax.set_yscale("log")
            ax.set_ylim(lo / 1.3, hi * 1.3)
        elif np.isfinite(lo) and np.isfinite(hi) and hi > lo:
            ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))  # the kernel, not 1/sbar2
        ax.set_ylabel(r"$h_i(u_j)$, every knot")
        ax.legend(fontsize=7)
        _noise_axis(ax, model, r"kernel flow (colour: knot $u_j = \hat p^2$)")

    def local(ax):
        ax.plot(i, model.cubic, "o-", ms=3, label=r"$c_3$ ($\phi^4$ term)")
        ax.plot(i, model.quintic, "s-", ms=3, label=r"$c_5$ ($\phi^6$ term)")
        ax.axhline(0.0, color="k", lw=0.6)
        ax.set_ylabel("site-field coupling")
        ax.legend(fontsize=8)
        _noise_axis(ax, model, r"local terms $c_3/4\,\phi^4 + c_5/6\,\phi^6$")

    def block_panel(key, name):
        def draw(ax):
            for s, b in enumerate(model.block_sizes):
                what = "zero mode (m)" if b == 0 else f"b = {b}"
                ax.plot(i, model.block[key][:, s], "o-", ms=3, label=what)
            ax.axhline(0.0, color="k", lw=0.6)
            ax.set_ylabel(f"block coupling ${key[0]}_{{{key[1]}}}$")
            ax.legend(fontsize=8)
            _noise_axis(ax, model, f"block terms: {name} per block size")
        return draw

    def loss(ax):
        if model.loss_train is not None:
            ax.plot(i, model.loss_train, "o-", ms=3, label="training")
        if model.loss_holdout is not None and np.any(np.isfinite(model.loss_holdout)):
            ax.plot(i, model.loss_holdout, "s--", ms=3, label="held out")
        vals = np.concatenate([a[np.isfinite(a)] for a in (model.loss_train, model.loss_holdout)
                               if a is not None])
        if vals.size and np.all(vals > 0):
            ax.set_yscale("log")
        ax.set_ylabel("denoising loss per site")
        ax.legend(fontsize=8)
        _noise_axis(ax, model, "score-matching loss")

    panels += [kernel_vs_p, kernel_vs_level, local]
    for key, name in (("c1", r"mass $c_1/2\,B^2$"), ("c3", r"$c_3/4\,B^4$"),
                      ("c5", r"$c_5/6\,B^6$")):
        a = model.block.get(key)
        if a is not None and a.size and np.any(a != 0.0):
            panels.append(block_panel(key, name))
    if model.loss_train is not None or model.loss_holdout is not None:
        panels.append(loss)
    cols = 2
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(12, 4.3 * rows), squeeze=False)
    for ax, draw in zip(axes.ravel(), panels):
        draw(ax)
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    blocks = (", block sizes " + " ".join(map(str, model.block_sizes))
              if model.block_sizes.size else ", no block terms")
    fig.suptitle(f"{os.path.basename(model_path)}: linear score, {model.process}, "
                 f"{model.levels} levels, {model.knots.size} knots, d = {model.dimension}"
                 f"{blocks} (schema {model.version})", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.25 / (4.3 * rows)))
    return [save_figure(fig, os.path.join(outdir, f"{prefix}_score_couplings.png"))]
