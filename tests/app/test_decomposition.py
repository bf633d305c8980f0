"""Decomposition independence (DESIGN.md section 5): the same deck and seed on 1, 2 and 4 ranks,
and on 4 ranks with two process grids, give bitwise identical observables, sampler records,
saved configurations and checkpoints."""

import h5py
import numpy as np
import pytest

from conftest import assert_same_chain, read_output

CASES = [
    # id, sampler options, action, dims, [(ranks, procs)]
    ("metropolis-8x12", {"type": "metropolis", "step": 1.3, "hits": 2},
     {"form": "hopping", "kappa": 0.27, "lambda": 0.5}, "8 12",
     [(1, ""), (2, "2 1"), (4, "2 2"), (4, "1 4")]),
    ("hmc-8x12", {"type": "hmc", "integrator": "omelyan", "md_steps": 3, "trajectory_length": 1.5},
     {"form": "mass", "m2": -0.6, "g": 1.2}, "8 12",
     [(1, ""), (2, ""), (4, "2 2"), (4, "4 1")]),
    ("metropolis-4x4x8", {"type": "metropolis", "step": 0.9, "hits": 3},
     {"form": "mass", "m2": 0.4, "g": 0.5}, "4 4 8",
     [(1, ""), (2, "2 1 1"), (4, "1 2 2"), (4, "4 1 1")]),
    ("hmc-4x4x8",
     {"type": "hmc", "integrator": "leapfrog", "md_steps": 5, "trajectory_length": 1.0},
     {"form": "hopping", "kappa": 0.18, "lambda": 1.1}, "4 4 8",
     [(1, ""), (2, ""), (4, "1 2 2"), (4, "2 1 2")]),
    ("langevin-lm-8x12",
     {"type": "langevin", "langevin_scheme": "leimkuhler_matthews", "langevin_step": 0.05},
     {"form": "mass", "m2": 0.5, "g": 0.3}, "8 12", [(1, ""), (2, ""), (4, "2 2")]),
    ("mala-4x4x8", {"type": "mala", "langevin_step": 0.05},
     {"form": "hopping", "kappa": 0.15, "lambda": 1.0}, "4 4 8",
     [(1, ""), (2, ""), (4, "1 2 2")]),
    # Fourier acceleration: FFT lines split between ranks, momentum-space exact sums.
    ("hmc-fa-8x12",
     {"type": "hmc", "md_steps": 2, "trajectory_length": 1.2, "fourier_acceleration": "true",
      "fa_mass2": 0.2},
     {"form": "hopping", "kappa": 0.27, "lambda": 0.5}, "8 12",
     [(1, ""), (2, ""), (4, "2 2"), (4, "1 4")]),
    ("langevin-fa-4x6x8",
     {"type": "langevin", "langevin_step": 0.05, "fourier_acceleration": "true",
      "fa_mass2": 2.0},
     {"form": "mass", "m2": 0.5, "g": 0.3}, "4 6 8", [(1, ""), (2, ""), (4, "1 2 2")]),
    ("mala-fa-4x6x8",
     {"type": "mala", "langevin_step": 0.02, "fourier_acceleration": "true", "fa_mass2": 1.5},
     {"form": "hopping", "kappa": 0.15, "lambda": 1.0}, "4 6 8",
     [(1, ""), (2, ""), (4, "2 2 1")]),
    # Odd local extents (3 x 5): the checkerboard must follow global, not local, parity.
    ("metropolis-6x10-odd-local", {"type": "metropolis", "step": 1.1, "hits": 1},
     {"form": "hopping", "kappa": 0.25, "lambda": 0.8}, "6 10",
     [(1, ""), (2, "1 2"), (4, "2 2")]),
    # 4D with local extent 1 along two axes: both neighbours of a site lie on one other rank.
    ("hmc-2x4x2x4-extent1", {"type": "hmc", "md_steps": 3, "trajectory_length": 1.5},
     {"form": "hopping", "kappa": 0.09, "lambda": 0.6}, "2 4 2 4",
     [(1, ""), (4, "2 1 2 1"), (4, "1 2 1 2")]),
]


def deck_args(sampler, action, dims, procs, output):
    args = [f"--lattice.dims={dims}", "--run.seed=424242", "--run.thermalize=3",
            "--run.updates=12", "--run.measure_every=2", "--run.start=hot",
            f"--output.file={output}", "--output.save_every=4", "--output.checkpoint_every=5"]
    if procs:
        args.append(f"--lattice.procs={procs}")
    args += [f"--sampler.{k}={v}" for k, v in sampler.items()]
    args += [f"--action.{k}={v}" for k, v in action.items()]
    return args


def checkpoint(path):
    with h5py.File(path, "r") as f:
        # The checksum covers the deck text, which names the output file and process grid.
        return f["phi"][()], {k: f.attrs[k] for k in f.attrs if k not in ("deck", "checksum")}


@pytest.mark.parametrize("name,sampler,action,dims,runs", CASES, ids=[c[0] for c in CASES])
def test_same_chain_on_every_decomposition(latdiff, name, sampler, action, dims, runs):
    outputs = []
    for i, (ranks, procs) in enumerate(runs):
        out = f"run{i}.h5"
        latdiff.ok(deck_args(sampler, action, dims, procs, out), np=ranks)
        data = read_output(latdiff.cwd / out)
        attrs = data["attrs"]
        assert int(attrs["nranks"]) == ranks
        grid = [int(p) for p in np.atleast_1d(attrs["process_grid"])]
        assert np.prod(grid) == ranks
        if procs:
            assert grid == [int(p) for p in procs.split()]
        ckpt = checkpoint(latdiff.cwd / f"run{i}.ckpt.h5")
        outputs.append((f"np{ranks} grid {grid}", data, ckpt))

    ref_name, ref, (ref_phi, ref_attrs) = outputs[0]
    assert ref["configurations/phi"].shape[0] == 3
    assert ref["observables/mag"].shape == (6,)
    assert ("sampler/delta_h" in ref) == (sampler["type"] in ("hmc", "mala"))
    if sampler["type"] == "langevin":
        assert np.all(ref["sampler/accept"] == 1)
    else:
        # Both accepted and rejected updates, so that both paths are compared.
        assert 0 < ref["sampler/accept"].mean() < 1
    grids = {tuple(np.atleast_1d(d["attrs"]["process_grid"])) for _, d, _ in outputs}
    assert len(grids) == len(runs), "the runs did not use distinct process grids"
    for other_name, data, (phi, attrs) in outputs[1:]:
        assert_same_chain(ref, data, f"{ref_name} vs {other_name}")
        assert phi.dtype == ref_phi.dtype and np.array_equal(phi, ref_phi), (
            f"checkpoint /phi differs: {ref_name} vs {other_name}")
        assert attrs == ref_attrs, f"checkpoint attributes differ: {ref_name} vs {other_name}"
