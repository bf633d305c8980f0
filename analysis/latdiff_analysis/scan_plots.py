"""PNG plots of a scan (scan.py): every observable against the coupling per lattice size, with
the curves between simulated points that the crossings are found on, the crossings marked,
and the finite-size-scaling collapses (collapse.py).

Files written into the plot directory: scan_binder.png, scan_xi2_over_L.png, scan_chi.png,
scan_abs_mag.png, collapse_binder.png, collapse_chi.png (each only where there are data).
"""

import os
from typing import List, Sequence

import numpy as np

from .collapse import Collapse, scaled, series_of
from .plots import plt, save_figure
from .scan import LABELS, ScanAnalysis, curve

CURVE_POINTS = 12  # evaluations of the curve between two simulated couplings


def _observable_plot(scan: ScanAnalysis, observable: str, outdir: str, log: bool) -> List[str]:
    fig, ax = plt.subplots(figsize=(7, 4.8))
    drawn, how = False, "interpolated"
    for dims in scan.sizes():
        pts = [p for p in scan.of_size(dims) if p.estimate(observable)[0] is not None]
        if not pts:
            continue
        c = np.array([p.coupling for p in pts])
        v, e = (np.array(x) for x in zip(*(p.estimate(observable) for p in pts)))
        bar = ax.errorbar(c, v, yerr=e, fmt="o", ms=4, capsize=2,
                          label=f"L = {'x'.join(map(str, dims))}")
        if c.size > 1:
            f = curve(scan, dims, observable)
            how = "reweighted" if f.reweighted else how
            grid = np.concatenate([np.linspace(a, b, CURVE_POINTS, endpoint=False)
                                   for a, b in zip(c, c[1:])] + [c[-1:]])
            fv, fe = (np.array(x) for x in zip(*(f(x) for x in grid)))
            ax.plot(grid, fv, "-", color=bar[0].get_color(), lw=1)
            ax.fill_between(grid, fv - fe, fv + fe, color=bar[0].get_color(), alpha=0.2, lw=0)
        drawn = True
    if not drawn:
        plt.close(fig)
        return []
    for x in (k for k in scan.crossings if k.observable == observable):
        ax.axvspan(x.coupling - x.error, x.coupling + x.error, color="grey", alpha=0.3)
        ax.axvline(x.coupling, color="grey", lw=0.8, ls="--")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(scan.coupling_key)
    ax.set_ylabel(LABELS[observable])
    ax.set_title(f"{LABELS[observable]} against {scan.coupling_key} "
                 f"({os.path.basename(os.path.normpath(scan.directory))}; lines: {how}, "
                 "bands: 1 sigma; grey: crossings)", fontsize=9)
    ax.legend()
    path = os.path.join(outdir, f"scan_{observable}.png")
    save_figure(fig, path)
    return [path]


def _collapse_plot(scan: ScanAnalysis, col: Collapse, outdir: str) -> List[str]:
    data = series_of({d[0]: [(p.coupling, *p.estimate(col.observable))
                             for p in scan.of_size(d)] for d in scan.sizes()})
    if not data:
        return []
    fig, ax = plt.subplots(figsize=(7, 4.8))
    for s in data:
        x, y, e = scaled(s, col.critical, col.nu, col.exponent)
        ax.errorbar(x, y, yerr=e, fmt="o-", ms=4, lw=0.8, capsize=2, label=f"L = {s[0]}")
    key = scan.coupling_key.split(".")[1]
    ax.set_xlabel(f"({key} - {key}_c) L^(1/nu)")
    ax.set_ylabel(LABELS[col.observable] + ("" if col.exponent == 0 else
                                            f" L^(-{col.exponent:.3g})"))
    ax.set_title(f"collapse of {LABELS[col.observable]}: {key}_c = {col.critical:.5f}, "
                 f"nu = {col.nu:.3g}, exponent {col.exponent:.3g}, S = {col.quality:.3g}",
                 fontsize=9)
    ax.legend()
    path = os.path.join(outdir, f"collapse_{col.observable}.png")
    save_figure(fig, path)
    return [path]


def plot_scan(scan: ScanAnalysis, found: Sequence[Collapse], outdir: str) -> List[str]:
    """Writes the scan's plots into outdir (which exists) and returns their paths."""
    paths = []
    for observable, log in (("binder", False), ("xi2_over_L", False), ("chi", True),
                            ("abs_mag", False)):
        paths += _observable_plot(scan, observable, outdir, log)
    for col in found:
        paths += _collapse_plot(scan, col, outdir)
    return paths
