#!/usr/bin/python3
"""Cost per independent sample of |m| for every latdiff sampler: the README's benchmark table.

2D phi^4, hopping form, lambda = 0.5, at each kappa and L. For each (kappa, L) an HMC chain gives
the thermalised configuration that every measured chain starts from; it starts from the L/2
one tiled 2 x 2 (from a hot start at the smallest L).
Rows:

  Metropolis               sampler.step scanned
  HMC                      md_steps, then trajectory_length at that step size
  FA-HMC                   fa_mass2, md_steps, trajectory_length (Fourier acceleration)
  diffusion full path      depth 0 (independence sampler), best diffusion.levels
  diffusion depth-k        best depth k at 64 levels
  diffusion depth-k native (L = 32 only) the same with a model trained at L = 32
  mixed                    depth-k with sampler.interleave = hmc (the tuned HMC keys), best k

Trained scores (diffusion.score = trained) are trained at L = 16 at the same kappa, one model
per number of levels (VP, beta_max = 12; the default 20 needs levels > 20), their warm-up with
fixed HMC keys (trajectory_length 1, md_steps 8) saving 1000 configurations, and used
unchanged at every L (the transfer). Tuning is coordinate descent: each axis is scanned in
short pilot runs (a fifth of the budget, at least 300 updates) at the best values found so far,
and the lowest cost 2 tau_int(|m|) x time per update wins. The winner then runs for --budget seconds (at least
--min-updates, default 2000, updates). Every chain's length comes from a short probe segment that
is then extended (run.updates raised, so latdiff resumes the same chain); wall time per update
is latdiff's own "this run N updates in X s", so start-up, thermalisation and training are not
in it. Training time (warm-up HMC chain + fit, minus the process start-up) is amortised over
the measured run in the column "cost + training".

Usage (run from anywhere, with Debian's python3):

  /usr/bin/python3 tests/benchmarks/sampler_costs.py --latdiff build/latdiff --workdir /tmp/sc
  /usr/bin/python3 tests/benchmarks/sampler_costs.py --kappa 0.34 --L 16 32 --quick ...

  --latdiff PATH   the binary (default $LATDIFF); mpirun is $MPIEXEC or mpirun on PATH
  --kappa K...     default 0.34 0.3307;  --L L...  default 16 32 64;  --np N  ranks (default 1)
  --budget S       seconds per measured run (default 20; --quick: 2)
  --workdir DIR    where the runs go (default ./sampler-costs); its runs/ folders are replaced
  --quick          smoke run: small budgets, fewer candidates, shorter thermalisation
  --out FILE       Markdown table (default WORKDIR/sampler_costs.md); the JSON with every
                   pilot, final, training and thermalisation run goes next to it (.json)

Failed runs (nonzero exit) are recorded in the JSON and skipped. A chain that never moved has
tau_int = inf. Chain output files are deleted after analysis unless --keep-files.
"""

import argparse
import dataclasses
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "analysis"))
from latdiff_analysis import gamma_method  # noqa: E402

LAMBDA = 0.5
TRAIN_L = 16
NATIVE_L = 32          # the L where a natively trained model is compared with the transfer
DEPTH_LEVELS = 64
BETA_MAX = 12.0        # the default 20 needs levels > 20; 12 is input/diffusion_quickstart.ini's
MEASURED_THERMALIZE = 10
MAX_EXTENSIONS = 3     # segments after the probe of a measured chain
# Fixed keys of the training warm-up, so that a model does not depend on which L is tuned:
# 1000 configurations 10 trajectories apart (the zero mode's couplings are fitted from about
# as many independent magnetisations as the warm-up holds; 200 gave visibly worse models).
WARMUP = {"sampler.trajectory_length": 1.0, "sampler.md_steps": 8,
          "training.configurations": 1000, "training.save_every": 10}
HMC_KEYS = ("sampler.integrator", "sampler.trajectory_length", "sampler.md_steps")
THIS_RUN = re.compile(r"this run\s+(\d+) updates in ([0-9.eE+-]+) s")
# Keys shown in the table's parameter column, with their short names.
SHOWN = {"sampler.step": "step", "sampler.fa_mass2": "fa_mass2", "diffusion.levels": "levels",
         "diffusion.depth": "depth", "diffusion.model_file": "model L",
         "sampler.interleave": "+", "sampler.md_steps": "md_steps",
         "sampler.trajectory_length": "traj_len"}

PROFILES = {
    "full": dict(budget=20.0, pilot_fraction=0.2, min_updates=2000, min_pilot_updates=300,
                 probe_updates=100, thermalize=10000, max_updates=2_000_000,
                 step=[0.5, 1.0, 1.5, 2.0, 3.0], md_steps=[3, 4, 6, 8, 12],
                 traj_len=[0.25, 0.5, 1.0, 2.0, 4.0], fa_mass2=[0.003, 0.01, 0.03, 0.1, 0.3, 1.0],
                 fa_md_steps=[2, 3, 4, 6, 8], fa_traj_len=[0.5, 1.0, 1.5, 2.0, 3.0],
                 levels=[16, 64, 256], depth=[1, 2, 4, 8]),
    "quick": dict(budget=2.0, pilot_fraction=0.25, min_updates=500, min_pilot_updates=200,
                  probe_updates=50, thermalize=1000, max_updates=200_000,
                  step=[1.0, 2.0], md_steps=[4, 8], traj_len=[1.0, 2.0], fa_mass2=[0.03, 0.3],
                  fa_md_steps=[4, 8], fa_traj_len=[1.0, 2.0], levels=[16, 64], depth=[1, 2, 4]),
}


# --------------------------------------------------------------------------- running latdiff

def write_deck(path: Path, params: dict) -> None:
    """An INI deck from flat {"section.key": value}."""
    sections: dict = {}
    for key, value in params.items():
        section, name = key.split(".", 1)
        sections.setdefault(section, []).append(f"{name} = {deck_value(value)}")
    text = "".join(f"[{s}]\n" + "\n".join(lines) + "\n" for s, lines in sections.items())
    path.write_text("# written by tests/benchmarks/sampler_costs.py\n" + text)


def deck_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Latdiff:
    """Runs latdiff decks under mpirun, one directory per chain below workdir/runs."""

    def __init__(self, binary: str, mpiexec: str, nranks: int, workdir: Path, timeout: float):
        self.binary, self.mpiexec, self.nranks = binary, mpiexec, nranks
        self.runs = workdir / "runs"
        self.timeout = timeout

    def fresh_dir(self, tag: str) -> Path:
        path = self.runs / tag
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def run(self, rundir: Path, params: dict) -> dict:
        """One latdiff process; returns rc, wall time and the last "this run" line's numbers."""
        write_deck(rundir / "deck.ini", params)
        cmd = [self.mpiexec, "-q", "--oversubscribe", "-np", str(self.nranks), self.binary,
               "deck.ini"]
        t0 = time.monotonic()
        try:
            p = subprocess.run(cmd, cwd=rundir, capture_output=True, text=True,
                               timeout=self.timeout)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = -1, str(e.stdout or ""), f"timed out after {self.timeout} s"
        wall = time.monotonic() - t0
        with open(rundir / "log.txt", "a") as log:
            log.write(f"$ {' '.join(cmd)}\n{out}{err}rc={rc} wall={wall:.3f}s\n")
        found = THIS_RUN.findall(out)
        updates, seconds = (int(found[-1][0]), float(found[-1][1])) if found else (0, 0.0)
        return {"rc": rc, "wall_s": wall, "updates": updates, "seconds": seconds,
                "stderr": err.strip()[-500:]}

    def version(self) -> str:
        p = subprocess.run([self.binary, "--version"], capture_output=True, text=True)
        return p.stdout.strip() or p.stderr.strip()


# --------------------------------------------------------------------------- chain statistics

def tau_of(series: np.ndarray) -> tuple:
    """tau_int and its error; inf for a series that never changed."""
    if series.size < 2 or np.all(series == series[0]):
        return math.inf, math.nan
    r = gamma_method(series)
    return r.tau_int, r.tau_int_error


def chain_statistics(path: Path, cycle: int) -> dict:
    """Acceptance and tau_int of |m| and m^2 of a chain file (every update measured)."""
    with h5py.File(path, "r") as f:
        mag = f["observables/mag"][:]
        accept = f["sampler/accept"][MEASURED_THERMALIZE:]
    # Row k of /sampler is update k; under interleave k % cycle == 0 is sampler.type's.
    rows = np.arange(MEASURED_THERMALIZE, MEASURED_THERMALIZE + accept.size)
    primary = rows % cycle == 0
    stats = {"measurements": int(mag.size), "acceptance": mean_or_nan(accept[primary]),
             "acceptance_interleaved": mean_or_nan(accept[~primary]) if cycle > 1 else None,
             "never_moved": bool(mag.size < 2 or np.all(mag == mag[0]))}
    if not np.all(np.isfinite(mag)):
        return {**stats, "error": "non-finite magnetisation", "tau_abs_m": math.inf,
                "tau_abs_m_error": math.nan, "tau_m2": math.inf, "tau_m2_error": math.nan}
    stats["tau_abs_m"], stats["tau_abs_m_error"] = tau_of(np.abs(mag))
    stats["tau_m2"], stats["tau_m2_error"] = tau_of(mag * mag)
    abs_m = gamma_method(np.abs(mag)) if mag.size >= 2 else None
    stats["mean_abs_m"] = abs_m.value if abs_m else math.nan
    stats["error_abs_m"] = abs_m.error if abs_m else math.nan
    return stats


def mean_or_nan(x: np.ndarray) -> float:
    return float(x.mean()) if x.size else math.nan


def cost_ms(tau: float, ms_per_update: float) -> float:
    """Wall time per independent sample: 2 tau_int updates."""
    return 2.0 * tau * ms_per_update


# --------------------------------------------------------------------------- measured chains

@dataclasses.dataclass
class Context:
    runner: Latdiff
    profile: dict
    seed: int
    keep_files: bool
    records: dict = dataclasses.field(default_factory=lambda: {
        "thermalisation": [], "training": [], "pilot": [], "final": []})
    models: dict = dataclasses.field(default_factory=dict)   # (kappa, L, levels) -> path
    training_s: dict = dataclasses.field(default_factory=dict)  # model path -> seconds
    model_l: dict = dataclasses.field(default_factory=dict)  # model path -> training L
    pilot_cache: dict = dataclasses.field(default_factory=dict)
    thermalised: dict = dataclasses.field(default_factory=dict)  # (kappa, L) -> file


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def next_length(n: int, segments: list, budget: float, minimum: int, maximum: int):
    """Updates to extend the chain to so that it fills budget seconds; None when done.

    The rate comes from the latest (longest) segment: a short probe's rate carries the fixed
    cost of its checkpoint, so the chain is extended in steps.
    """
    spent = sum(s["seconds"] for s in segments)
    last = segments[-1]
    if last["rc"] != 0 or last["updates"] == 0 or (spent >= 0.8 * budget and n >= minimum):
        return None
    per_update = max(last["seconds"], 1e-6) / last["updates"]
    target = max(minimum, min(maximum, n + int((budget - spent) / per_update)))
    return target if target > n else None


def measure(ctx: Context, tag: str, params: dict, budget: float, minimum: int) -> dict:
    """A chain of about budget seconds: a probe segment, then the same chain extended."""
    rundir = ctx.runner.fresh_dir(tag)
    n = ctx.profile["probe_updates"]
    segments = [ctx.runner.run(rundir, {**params, "run.updates": n})]
    for _ in range(MAX_EXTENSIONS):
        n = next_length(n, segments, budget, minimum, ctx.profile["max_updates"])
        if n is None:
            break
        segments.append(ctx.runner.run(rundir, {**params, "run.updates": n}))
    record = {"tag": tag, "params": params, "segments": segments,
              "rc": next((s["rc"] for s in segments if s["rc"] != 0), 0)}
    if record["rc"] != 0:
        return {**record, "error": segments[-1]["stderr"], "cost_ms": math.inf}
    record.update(timing(segments))
    try:
        record.update(chain_statistics(rundir / "chain.h5", cycle_of(params)))
    except (OSError, KeyError, ValueError) as e:  # an unreadable file: report, go on
        return {**record, "rc": "unreadable", "error": str(e), "cost_ms": math.inf}
    record["cost_ms"] = cost_ms(record["tau_abs_m"], record["ms_per_update"])
    if not ctx.keep_files:
        for f in rundir.glob("*.h5"):
            f.unlink()
    return record


def timing(segments: list) -> dict:
    updates = sum(s["updates"] for s in segments)
    seconds = sum(s["seconds"] for s in segments)
    return {"updates_run": updates, "seconds": seconds,
            "ms_per_update": 1e3 * seconds / updates if updates else math.nan}


def cycle_of(params: dict) -> int:
    if params.get("sampler.interleave", "none") == "none":
        return 1
    return 1 + int(params.get("sampler.interleave_updates", 1))


def params_key(params: dict) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in params.items()))


def pilot(ctx: Context, point: "Point", row: str, params: dict) -> dict:
    """A short measured chain of one candidate, run once per parameter set."""
    key = params_key(params)
    if key not in ctx.pilot_cache:
        tag = f"{point.tag}_pilot{len(ctx.records['pilot']):03d}"
        prof = ctx.profile
        rec = measure(ctx, tag, params, prof["budget"] * prof["pilot_fraction"],
                      prof["min_pilot_updates"])
        rec.update(kappa=point.kappa, L=point.L, row=row, kind="pilot")
        ctx.records["pilot"].append(rec)
        ctx.pilot_cache[key] = rec
        log(f"  pilot {row:28s} {describe(ctx, params):40s} {summary_line(rec)}")
    return ctx.pilot_cache[key]


def summary_line(rec: dict) -> str:
    if rec["rc"] != 0:
        return f"FAILED rc={rec['rc']}: {rec.get('error', '')[:120]}"
    return (f"acc {rec['acceptance']:.3f}  tau|m| {rec['tau_abs_m']:.3g}  "
            f"{rec['ms_per_update']:.3g} ms/upd  cost {rec['cost_ms']:.3g} ms  "
            f"N {rec['measurements']}")


def selection_key(rec: dict) -> tuple:
    """Lowest cost first; among never-moving chains the highest acceptance."""
    if rec["rc"] != 0:
        return (math.inf, math.inf)
    acc = rec["acceptance"]
    return (rec["cost_ms"], -acc if math.isfinite(acc) else math.inf)


def tune(ctx: Context, point: "Point", row: str, base: dict, axes: list) -> dict:
    """Coordinate descent: each axis maps the best parameters so far to its candidates."""
    best = pilot(ctx, point, row, base) if not axes else None
    current = dict(base)
    for scan in axes:
        candidates = [{**current, **change} for change in scan(current)]
        if not candidates:
            continue
        best = min((pilot(ctx, point, row, c) for c in candidates), key=selection_key)
        current = dict(best["params"])
    return best


# --------------------------------------------------------------------------- decks and axes

@dataclasses.dataclass
class Point:
    kappa: float
    L: int
    start: str = ""

    @property
    def tag(self) -> str:
        return f"k{self.kappa}_L{self.L}"


def base_params(kappa: float, L: int, seed: int) -> dict:
    return {"lattice.dims": f"{L} {L}", "action.form": "hopping", "action.kappa": kappa,
            "action.lambda": LAMBDA, "run.seed": seed}


def chain_params(ctx: Context, point: Point, sampler: dict) -> dict:
    """A measured chain from the thermalised start, every update measured."""
    return {**base_params(point.kappa, point.L, ctx.seed), **sampler,
            "run.thermalize": MEASURED_THERMALIZE, "run.start": point.start,
            "run.measure_every": 1, "output.file": "chain.h5"}


def diffusion_keys(model: str, levels: int, depth: int) -> dict:
    return {"sampler.type": "diffusion", "diffusion.process": "vp",
            "diffusion.levels": levels, "diffusion.beta_max": BETA_MAX,
            "diffusion.score": "trained", "diffusion.model_file": model,
            "diffusion.depth": depth}


def axis(key: str, values: list):
    return lambda current: [{key: v} for v in values]


def traj_len_axis(values: list):
    """Trajectory lengths at the current step size (md_steps scaled along)."""
    def candidates(current: dict) -> list:
        dt = current["sampler.trajectory_length"] / current["sampler.md_steps"]
        return [{"sampler.trajectory_length": t, "sampler.md_steps": max(1, round(t / dt))}
                for t in values]
    return candidates


def levels_axis(ctx: Context, kappa: float, values: list):
    """Levels of the full-path sampler, each with the L = 16 model of that many levels."""
    def candidates(current: dict) -> list:
        out = []
        for n in values:
            model = trained_model(ctx, kappa, TRAIN_L, n)
            if model:
                out.append({"diffusion.levels": n, "diffusion.model_file": model})
        return out
    return candidates


def describe(ctx: Context, params: dict) -> str:
    """The tuned and distinguishing keys of a row, short."""
    parts = []
    for key, short in SHOWN.items():
        value = params.get(key)
        if value is None or (key == "sampler.interleave" and value == "none"):
            continue
        if key == "diffusion.model_file":
            value = ctx.model_l.get(value, "?")
        parts.append(f"+ {value}" if short == "+" else f"{short}={deck_value(value)}")
    return ", ".join(parts)


# --------------------------------------------------------------------------- preparation runs

def thermalise(ctx: Context, kappa: float, L: int) -> str:
    """An HMC chain whose last configuration starts every measured chain. Its start is the
    thermalised configuration of L/2 tiled 2 x 2 when this run has one, else a hot start: in
    the ordered phase that starts near equilibrium instead of coarsening from random values
    (at kappa = 0.34 the tiled 64^2 start still relaxes to |m| ~ 0.2 with large domains, the
    near-critical equilibrium there)."""
    n = ctx.profile["thermalize"]
    rundir = ctx.runner.fresh_dir(f"k{kappa}_L{L}_therm")
    start = "hot"
    smaller = ctx.thermalised.get((kappa, L // 2)) if L % 2 == 0 else None
    if smaller:
        start = tiled_start(ctx, rundir, kappa, L, smaller)
    params = {**base_params(kappa, L, ctx.seed), "sampler.type": "hmc", "run.start": start,
              "run.updates": n, "output.save_every": n, "output.file": "therm.h5"}
    rec = {"kappa": kappa, "L": L, "params": params, **ctx.runner.run(rundir, params)}
    ctx.records["thermalisation"].append(rec)
    log(f"[{kappa} L={L}] thermalised: {n} HMC trajectories from {start}, rc={rec['rc']}")
    if rec["rc"] != 0:
        return ""
    ctx.thermalised[(kappa, L)] = str(rundir / "therm.h5")
    return ctx.thermalised[(kappa, L)]


def tiled_start(ctx: Context, rundir: Path, kappa: float, L: int, smaller: str) -> str:
    """A latdiff file (one update from a hot start) whose saved field is replaced by the last
    configuration of `smaller` tiled 2 x 2; "hot" if that fails."""
    params = {**base_params(kappa, L, ctx.seed), "sampler.type": "hmc", "run.start": "hot",
              "run.updates": 1, "output.save_every": 1, "output.file": "tiled.h5"}
    if ctx.runner.run(rundir, params)["rc"] != 0:
        return "hot"
    with h5py.File(smaller, "r") as f:
        field = f["configurations/phi"][-1]
    with h5py.File(rundir / "tiled.h5", "r+") as f:
        f["configurations/phi"][-1] = np.tile(field, (2,) * field.ndim)
    return str(rundir / "tiled.h5")


def trained_model(ctx: Context, kappa: float, L: int, levels: int) -> str:
    """The model trained at (kappa, L, levels), trained on first use; "" if training failed."""
    key = (kappa, L, levels)
    if key not in ctx.models:
        ctx.models[key] = train(ctx, kappa, L, levels)
    return ctx.models[key]


def train(ctx: Context, kappa: float, L: int, levels: int) -> str:
    """Warm-up + training, timed as the run with training minus the same run without."""
    tag = f"k{kappa}_L{L}_N{levels}_train"
    rundir = ctx.runner.fresh_dir(tag)
    model = str(rundir / "score.model.h5")
    params = {**base_params(kappa, L, ctx.seed), **diffusion_keys(model, levels, 0),
              **WARMUP, "run.updates": 0, "run.start": "hot", "output.file": "train.h5"}
    trained = ctx.runner.run(rundir, params)
    frozen = ctx.runner.run(rundir, {**params, "output.file": "frozen.h5"})
    seconds = trained["wall_s"] - frozen["wall_s"] if frozen["rc"] == 0 else trained["wall_s"]
    ok = trained["rc"] == 0 and Path(model).exists()
    rec = {"kappa": kappa, "L": L, "levels": levels, "model": model, "params": params,
           "training": trained, "startup_baseline": frozen, "training_s": seconds,
           "rc": trained["rc"]}
    ctx.records["training"].append(rec)
    log(f"[{kappa}] model L={L} levels={levels}: trained in {seconds:.1f} s, rc={rec['rc']}")
    if not ok:
        return ""
    ctx.training_s[model], ctx.model_l[model] = seconds, L
    return model


# --------------------------------------------------------------------------- table rows

def final_row(ctx: Context, point: Point, name: str, params: dict, best=None) -> dict:
    """The full-length run of params; only the pilot best where that chain never moved."""
    if best is not None and not (best["rc"] == 0 and math.isfinite(best["cost_ms"])):
        rec = dict(best, kind="pilot only")
    else:
        tag = f"{point.tag}_final{len(ctx.records['final']):02d}"
        rec = measure(ctx, tag, params, ctx.profile["budget"], ctx.profile["min_updates"])
        rec.update(kappa=point.kappa, L=point.L, row=name, kind="final")
        ctx.records["final"].append(rec)
    label = "final" if rec["kind"] == "final" else "kept"  # kept: the pilot, never moved
    log(f"  {label:5s} {name:28s} {describe(ctx, params):40s} {summary_line(rec)}")
    return {"L": point.L, "kappa": point.kappa, "sampler": name,
            "parameters": describe(ctx, params), "run": rec,
            "training_s": ctx.training_s.get(params.get("diffusion.model_file"), 0.0)}


def failed_row(point: Point, name: str, why: str) -> dict:
    return {"L": point.L, "kappa": point.kappa, "sampler": name, "failed": why}


def tuned_row(ctx: Context, point: Point, name: str, sampler: dict, axes: list) -> dict:
    log(f"[{point.kappa} L={point.L}] {name}")
    best = tune(ctx, point, name, chain_params(ctx, point, sampler), axes)
    if best is None:
        return failed_row(point, name, "no candidate (training failed?)")
    return final_row(ctx, point, name, best["params"], best)


def benchmark_point(ctx: Context, kappa: float, L: int) -> list:
    """Every row of one (kappa, L)."""
    point = Point(kappa, L, thermalise(ctx, kappa, L))
    if not point.start:
        return [failed_row(point, "all", "thermalisation failed")]
    p = ctx.profile
    rows = [tuned_row(ctx, point, "Metropolis", {"sampler.type": "metropolis"},
                      [axis("sampler.step", p["step"])])]
    hmc = tuned_row(ctx, point, "HMC", {"sampler.type": "hmc", "sampler.integrator": "omelyan",
                                        "sampler.trajectory_length": 1.0},
                    [axis("sampler.md_steps", p["md_steps"]), traj_len_axis(p["traj_len"])])
    rows.append(hmc)
    rows.append(tuned_row(
        ctx, point, "FA-HMC",
        {"sampler.type": "hmc", "sampler.integrator": "omelyan", "sampler.md_steps": 6,
         "sampler.trajectory_length": 1.0, "sampler.fourier_acceleration": True},
        [axis("sampler.fa_mass2", p["fa_mass2"]), axis("sampler.md_steps", p["fa_md_steps"]),
         traj_len_axis(p["fa_traj_len"])]))
    # The levels axis supplies the model of each number of levels.
    rows.append(tuned_row(ctx, point, "diffusion full path",
                          diffusion_keys("", DEPTH_LEVELS, 0),
                          [levels_axis(ctx, kappa, p["levels"])]))
    depth = depth_row(ctx, point, "diffusion depth-k", TRAIN_L)
    rows.append(depth)
    if L == NATIVE_L and L != TRAIN_L:
        rows.append(depth_row(ctx, point, f"diffusion depth-k, native L={L} model", L))
    rows.append(mixed_row(ctx, point, depth, hmc))
    return rows


def depth_row(ctx: Context, point: Point, name: str, train_l: int) -> dict:
    model = trained_model(ctx, point.kappa, train_l, DEPTH_LEVELS)
    if not model:
        return failed_row(point, name, "training failed")
    return tuned_row(ctx, point, name, diffusion_keys(model, DEPTH_LEVELS, 1),
                     [axis("diffusion.depth", ctx.profile["depth"])])


def mixed_row(ctx: Context, point: Point, depth: dict, hmc: dict) -> dict:
    """Depth-k proposals alternating with one tuned HMC trajectory, the depth tuned again
    (HMC moves the magnetisation, so the best depth differs from the diffusion-only one)."""
    name = "mixed"
    if "run" not in depth or "run" not in hmc:
        return failed_row(point, name, "no depth-k or HMC row")
    hmc_keys = {k: v for k, v in hmc["run"]["params"].items() if k in HMC_KEYS}
    params = {**depth["run"]["params"], **hmc_keys, "sampler.interleave": "hmc",
              "sampler.interleave_updates": 1}
    log(f"[{point.kappa} L={point.L}] {name}")
    best = tune(ctx, point, name, params, [axis("diffusion.depth", ctx.profile["depth"])])
    return final_row(ctx, point, name, best["params"], best)


# --------------------------------------------------------------------------- output

def fmt(x, spec: str = ".3g") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, float) and math.isinf(x):
        return "inf"
    return format(x, spec)


def tau_cell(tau: float, err: float, n: int) -> str:
    flag = " (!)" if not math.isfinite(tau) or n < 100 * tau else ""
    if not math.isfinite(tau):
        return "inf" + flag
    return f"{fmt(tau)} ± {fmt(err, '.2g')}{flag}"


def amortised_ms(run: dict, training_s: float) -> float:
    """Cost per independent sample with the training time spread over the measured run."""
    n_indep = run["measurements"] / (2.0 * run["tau_abs_m"])
    return run["cost_ms"] + (1e3 * training_s / n_indep if n_indep > 0 else math.inf)


def table_line(row: dict, hmc_cost: float, first_of_l: bool) -> str:
    l_cell = str(row["L"]) if first_of_l else ""
    run = row.get("run")
    if run is None or run["rc"] != 0:
        why = row.get("failed") or f"failed (rc {run['rc']})"
        return f"| {l_cell} | {row['sampler']} | {row.get('parameters', '')} | {why} |" \
               + " |" * 6
    acc = fmt(run["acceptance"], ".3f")
    if run.get("acceptance_interleaved") is not None:
        acc += f" / {fmt(run['acceptance_interleaved'], '.3f')}"
    n = run["measurements"]
    trained = row["training_s"] > 0
    cells = [l_cell, row["sampler"] + (" †" if run["kind"] == "pilot only" else ""),
             row["parameters"], acc, tau_cell(run["tau_abs_m"], run["tau_abs_m_error"], n),
             tau_cell(run["tau_m2"], run["tau_m2_error"], n), fmt(run["ms_per_update"]),
             fmt(run["cost_ms"]), fmt(amortised_ms(run, row["training_s"])) if trained else "–",
             fmt(run["cost_ms"] / hmc_cost) if math.isfinite(hmc_cost) else "–"]
    return "| " + " | ".join(cells) + " |"


HEADER = ("| L | sampler | parameters | acceptance | τ_int \\|m\\| | τ_int m² | ms/update "
          "| cost \\|m\\| (ms) | cost + training (ms) | / HMC |\n"
          "|---|---|---|---|---|---|---|---|---|---|")


def hmc_cost(rows: list, L: int) -> float:
    for r in rows:
        if r["L"] == L and r["sampler"] == "HMC" and r.get("run", {}).get("rc") == 0:
            return r["run"]["cost_ms"]
    return math.inf


def markdown(rows: list, kappas: list, ctx: Context) -> str:
    blocks = []
    for kappa in kappas:
        mine = [r for r in rows if r["kappa"] == kappa]
        lines = [f"### κ = {kappa} (2D φ⁴, hopping form, λ = {LAMBDA})", "", HEADER]
        last_l = None
        for r in mine:
            lines.append(table_line(r, hmc_cost(mine, r["L"]), r["L"] != last_l))
            last_l = r["L"]
        lines += ["", footnote(ctx, kappa)]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def footnote(ctx: Context, kappa: float) -> str:
    trainings = [f"L={r['L']}, levels={r['levels']}: {r['training_s']:.1f} s"
                 for r in ctx.records["training"] if r["kappa"] == kappa and r["rc"] == 0]
    return ("cost = 2 τ_int(|m|) × time per update (per row of /sampler under interleave; "
            "acceptance diffusion / HMC); / HMC compares costs without training. "
            "(!): N < 100 τ_int, τ unreliable. †: pilot only (the chain never moved). "
            f"Training (warm-up + fit): {'; '.join(trainings) or 'none'}.")


def finite_json(x):
    """inf and nan as strings: strict JSON has neither."""
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, dict):
        return {k: finite_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [finite_json(v) for v in x]
    return x


def write_outputs(args, ctx: Context, rows: list, elapsed: float) -> None:
    table = markdown(rows, args.kappa, ctx)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table)
    audit = {"settings": {k: (str(v) if isinstance(v, Path) else v)
                          for k, v in vars(args).items()},
             "profile": ctx.profile, "latdiff_version": ctx.runner.version(),
             "elapsed_s": elapsed, "rows": rows, "runs": ctx.records}
    json_path = args.out.with_suffix(".json")
    json_path.write_text(json.dumps(finite_json(audit), indent=1, default=str))
    log(f"wrote {args.out} and {json_path} ({elapsed:.0f} s in all)")


# --------------------------------------------------------------------------- main

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--latdiff", default=os.environ.get("LATDIFF"),
                    help="latdiff binary (default $LATDIFF)")
    ap.add_argument("--kappa", type=float, nargs="+", default=[0.34, 0.3307])
    ap.add_argument("--L", type=int, nargs="+", default=[16, 32, 64])
    ap.add_argument("--np", type=int, default=1, help="MPI ranks per run")
    ap.add_argument("--workdir", type=Path, default=Path("sampler-costs"))
    ap.add_argument("--budget", type=float, help="seconds per measured run (20; quick 2)")
    ap.add_argument("--min-updates", type=int, help="least updates of a measured run")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="smoke run")
    ap.add_argument("--out", type=Path, help="Markdown table (WORKDIR/sampler_costs.md)")
    ap.add_argument("--keep-files", action="store_true", help="keep the chains' .h5 files")
    args = ap.parse_args(argv)
    if not args.latdiff or not os.access(args.latdiff, os.X_OK):
        ap.error(f"latdiff binary not found ({args.latdiff!r}): give --latdiff or set $LATDIFF")
    args.latdiff = str(Path(args.latdiff).resolve())
    args.workdir = args.workdir.resolve()
    args.out = (args.out or args.workdir / "sampler_costs.md").resolve()
    return args


def profile_of(args) -> dict:
    prof = dict(PROFILES["quick" if args.quick else "full"])
    if args.budget is not None:
        prof["budget"] = args.budget
    if args.min_updates is not None:
        prof["min_updates"] = args.min_updates
    return prof


def main(argv=None) -> int:
    args = parse_args(argv)
    for k in ("OMPI_ALLOW_RUN_AS_ROOT", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"):
        os.environ.setdefault(k, "1")
    prof = profile_of(args)
    mpiexec = os.environ.get("MPIEXEC") or shutil.which("mpirun") or "mpirun"
    # A run's time limit: generous, only there so that a hung run cannot stall the table.
    runner = Latdiff(args.latdiff, mpiexec, args.np, args.workdir, 600 + 20 * prof["budget"])
    ctx = Context(runner, prof, args.seed, args.keep_files)
    t0 = time.monotonic()
    rows = []
    for kappa in args.kappa:
        for L in args.L:
            rows += benchmark_point(ctx, kappa, L)
    write_outputs(args, ctx, rows, time.monotonic() - t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
