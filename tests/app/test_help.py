"""`latdiff --help`: exit 0, every deck key listed under its [section], and the defaults it
shows are the values a run actually uses."""

import re

import pytest

from conftest import EXIT_OK, deck_attr

KEYS = [
    "lattice.dims", "lattice.procs", "model.type",
    "action.form", "action.kappa", "action.lambda", "action.m2", "action.g",
    "rbm.visible_units", "rbm.hidden_units", "rbm.visible", "rbm.hidden", "rbm.model_file",
    "rbm.weights", "rbm.visible_bias", "rbm.hidden_bias", "rbm.visible_sigma", "rbm.init_scale",
    "sampler.type", "sampler.step", "sampler.hits", "sampler.integrator",
    "sampler.trajectory_length", "sampler.md_steps", "sampler.langevin_step",
    "sampler.langevin_scheme", "sampler.fourier_acceleration", "sampler.fa_mass2",
    "sampler.interleave", "sampler.interleave_updates",
    "diffusion.process", "diffusion.levels", "diffusion.sigma_min", "diffusion.sigma_max",
    "diffusion.beta_min", "diffusion.beta_max", "diffusion.reverse_kernel", "diffusion.depth",
    "diffusion.score", "diffusion.model_file", "diffusion.prior", "diffusion.ess_block",
    "diffusion.generator", "diffusion.corrector_steps", "diffusion.snr",
    "training.files", "training.thermalize", "training.configurations", "training.save_every",
    "training.holdout", "training.draws", "training.knots", "training.block_sizes",
    "rbm_training.data", "rbm_training.dataset", "rbm_training.transform", "rbm_training.epochs",
    "rbm_training.batch_size", "rbm_training.method", "rbm_training.gibbs_steps",
    "rbm_training.chains", "rbm_training.learning_rate", "rbm_training.learning_rate_final",
    "rbm_training.schedule", "rbm_training.momentum", "rbm_training.weight_decay",
    "rbm_training.holdout", "rbm_training.record_every", "rbm_training.print_phases",
    "rbm_training.log_likelihood", "rbm_training.ais_runs", "rbm_training.ais_temperatures",
    "rbm_training.output",
    "run.seed", "run.thermalize", "run.updates", "run.measure_every", "run.start",
    "run.start_index", "run.resume",
    "output.file", "output.save_every", "output.checkpoint", "output.checkpoint_every",
    "output.correlators", "output.block_measurements", "output.coarse", "output.progress_interval",
]

ENTRY = re.compile(r"^\s+([a-z_0-9]+) =(?: (.*?))?\s+\[(.*)\]\s*$")


def help_entries(text):
    """{"section.key": (default text, allowed text)} from the help's key listing."""
    entries, section = {}, None
    for line in text.splitlines():
        header = re.match(r"^\[([a-z_]+)\]\s*$", line)
        if header:
            section = header.group(1)
            continue
        m = ENTRY.match(line)
        if m and section:
            entries[f"{section}.{m.group(1)}"] = ((m.group(2) or "").strip(), m.group(3))
    return entries


@pytest.mark.parametrize("ranks", [1, 2])
def test_help_lists_every_key(latdiff, ranks):
    r = latdiff.run(["--help"], np=ranks)
    assert r.returncode == EXIT_OK, r.stderr
    assert r.stderr.strip() == ""
    assert r.stdout.count("usage: latdiff") == 1, "help printed more than once"
    entries = help_entries(r.stdout)
    missing = [k for k in KEYS if k not in entries]
    assert not missing, f"--help does not list {missing}:\n{r.stdout}"
    for key, (_, allowed) in entries.items():
        assert allowed.strip(), f"{key}: no allowed values shown"
    assert "(required)" in entries["lattice.dims"][0]
    # Nothing is written by --help.
    assert sorted(p.name for p in latdiff.cwd.iterdir()) == []


def test_help_even_with_other_arguments(latdiff):
    r = latdiff.run(["--lattice.dims=8 8", "--help"])
    assert r.returncode == EXIT_OK, r.stderr
    assert "run.updates" in r.stdout or "updates =" in r.stdout
    assert sorted(p.name for p in latdiff.cwd.iterdir()) == []


def test_help_defaults_are_the_defaults_used(latdiff):
    """A run that sets only the required key (and a short run length) stores a resolved deck
    whose every other value is the default shown by --help."""
    entries = help_entries(latdiff.ok(["--help"]).stdout)
    latdiff.ok(["--lattice.dims=4 4", "--run.updates=2"])
    resolved = deck_attr(latdiff.cwd / entries["output.file"][0])
    for key in KEYS:
        section, name = key.split(".")
        value = resolved[section][name].strip()
        if key == "lattice.dims":
            assert value == "4 4"
        elif key == "run.updates":
            assert value == "2"
        elif key == "output.checkpoint":
            # Empty default: derived from output.file.
            assert entries[key][0] == ""
            assert value == entries["output.file"][0].removesuffix(".h5") + ".ckpt.h5"
        else:
            shown = entries[key][0]
            assert value == shown, f"{key}: help says {shown!r}, the run used {value!r}"
