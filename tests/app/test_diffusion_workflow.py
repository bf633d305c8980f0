"""diffusion.score = trained end to end: one deck warms up with HMC, trains the linear score,
writes the model file and runs the exact diffusion chain with the frozen model. The chain
reproduces an independent HMC reference on interacting phi^4; the whole workflow is bitwise the
same on 1, 2 and 4 ranks and after crashes in every stage; a resumed chain refuses a changed
model; bad model and training files get one line naming the key, exit 2, no output."""

import os
import shutil
import signal

import h5py
import numpy as np
import pytest

from conftest import (EXIT_BAD_INPUT, EXIT_BUSY, EXIT_INTERRUPTED, EXIT_RUNTIME, Latdiff,
                      assert_same_file, describe, kill_job, read_everything, wait_for,
                      write_deck)

FAULT_EXIT = 99
DIMS = (4, 4)
COUPLINGS = {"form": "hopping", "kappa": 0.25, "lambda": 0.5}


def deck(updates=4000, training=None, diffusion=None, **run):
    return {
        "lattice": {"dims": " ".join(map(str, DIMS))},
        "action": COUPLINGS,
        "sampler": {"type": "diffusion", "md_steps": 5, "trajectory_length": 1.0},
        "diffusion": {"process": "vp", "levels": 24, "beta_max": 8, "score": "trained",
                      "depth": 6, **(diffusion or {})},
        "training": {"thermalize": 50, "configurations": 120, "save_every": 2,
                     **(training or {})},
        "run": {"seed": 5, "thermalize": 20, "updates": updates, "start": "hot", **run},
        "output": {"file": "chain.h5", "checkpoint_every": 500},
    }


def binned(x, bins=40):
    """Mean and error from `bins` blocks, each far longer than the chains' tau_int."""
    means = np.array([b.mean() for b in np.array_split(np.asarray(x), bins)])
    return float(means.mean()), float(means.std(ddof=1) / np.sqrt(bins))


def run_workflow(d, np_=2, updates=4000, **kw):
    d.mkdir(exist_ok=True)
    write_deck(d / "run.ini", deck(updates, **kw))
    return Latdiff(d).ok(["run.ini"], np=np_)


def test_trained_score_chain_reproduces_hmc_on_interacting_phi4(tmp_path):
    r = run_workflow(tmp_path / "diff", updates=30000)
    assert "warm-up: HMC chain" in r.stdout and "score model: fitted on 96" in r.stdout, r.stdout
    with h5py.File(tmp_path / "diff" / "chain.model.h5") as f:
        assert f.attrs["schema"] == "latdiff score model"
        assert f["/score/kernel"].shape == (24, 9)
        assert f["/training/holdout"][:].sum() == 24
        assert np.all(np.isfinite(f["/loss/holdout"][:]))
    ref = tmp_path / "hmc"
    ref.mkdir()
    write_deck(ref / "run.ini", {
        "lattice": {"dims": "4 4"}, "action": COUPLINGS,
        "sampler": {"type": "hmc", "md_steps": 5, "trajectory_length": 1.0},
        "run": {"seed": 77, "thermalize": 200, "updates": 40000, "start": "hot"},
        "output": {"file": "hmc.h5"}})
    Latdiff(ref).ok(["run.ini"])
    diff = read_everything(tmp_path / "diff" / "chain.h5")
    hmc = read_everything(ref / "hmc.h5")
    accept = diff["sampler/accept"][20:].mean()
    assert 0.1 < accept < 1, accept
    volume = DIMS[0] * DIMS[1]
    for name, f in [("<phi^2>", lambda d: d["observables/phi2"]),
                    ("chi'", lambda d: volume * d["observables/mag"] ** 2),
                    ("<|m|>", lambda d: np.abs(d["observables/mag"]))]:
        a, da = binned(f(diff))
        b, db = binned(f(hmc))
        print(f"acceptance {accept:.3f}; {name}: diffusion {a:.4f} +- {da:.4f}, "
              f"HMC {b:.4f} +- {db:.4f}")
        assert abs(a - b) < 4 * np.hypot(da, db), (name, a, da, b, db)
        assert da < 0.04 * abs(b), (name, da)


def test_workflow_is_bitwise_the_same_on_1_2_4_ranks(tmp_path):
    results = []
    small = {"training": {"configurations": 40, "draws": 1}, "diffusion": {"levels": 12}}
    for ranks in (1, 2, 4):
        d = tmp_path / f"np{ranks}"
        run_workflow(d, np_=ranks, updates=60, **small)
        results.append({name: read_everything(d / name) for name in
                        ("chain.h5", "chain.model.h5", "chain.model.warmup.h5")})
    for other in results[1:]:
        for name in other:
            assert_same_file(other[name], results[0][name], name)


# Checkpoints (checkpoint_every 500 in both stages): the warm-up writes them at trajectories
# 500 and 290 (its end), the chain at 500, 1000, ..., so the 2nd write is the warm-up's last
# and the 4th the chain's second.
@pytest.mark.parametrize("visit", [1, 2, 4])
def test_a_crash_in_any_stage_resumes_bitwise(tmp_path, visit):
    ref = tmp_path / "ref"
    run_workflow(ref, updates=1500, training={"configurations": 120, "save_every": 4})
    d = tmp_path / "crash"
    d.mkdir()
    write_deck(d / "run.ini", deck(1500, training={"configurations": 120, "save_every": 4}))
    ld = Latdiff(d)
    os.environ["LATDIFF_FAULT"] = f"checkpoint_write:{visit}"
    try:
        crashed = ld.run(["run.ini"], np=2)
    finally:
        del os.environ["LATDIFF_FAULT"]
    assert crashed.returncode == FAULT_EXIT, describe(crashed)
    ld.ok(["run.ini"], np=2)
    for name in ("chain.h5", "chain.model.h5", "chain.model.warmup.h5"):
        assert_same_file(read_everything(d / name), read_everything(ref / name), name)


def test_kill_of_the_job_in_the_warm_up_resumes_bitwise(tmp_path):
    slow = {"configurations": 400, "save_every": 10}
    ref = tmp_path / "ref"
    run_workflow(ref, updates=200, training=slow)
    d = tmp_path / "kill"
    d.mkdir()
    write_deck(d / "run.ini", deck(200, training=slow))
    ld = Latdiff(d)
    proc = ld.start(["run.ini"], np=2)
    assert wait_for(lambda: (d / "chain.model.warmup.ckpt.h5").exists(), 60, proc)
    kill_job(proc)
    assert not (d / "chain.model.h5").exists()
    ld.ok(["run.ini"], np=2)
    for name in ("chain.h5", "chain.model.h5", "chain.model.warmup.h5"):
        assert_same_file(read_everything(d / name), read_everything(ref / name), name)


def test_a_deleted_model_retrains_bitwise_and_a_changed_one_is_refused(tmp_path):
    d = tmp_path / "run"
    run_workflow(d, updates=300)
    model = d / "chain.model.h5"
    before = read_everything(model)
    model.unlink()
    # Extending the chain retrains the same model from the kept warm-up, so it continues.
    r = Latdiff(d).ok(["run.ini", "--run.updates=600"], np=2)
    assert "resumed" in r.stdout and "score model: fitted" in r.stdout, r.stdout
    assert_same_file(read_everything(model), before, "retrained model")
    # A model trained otherwise (fewer noise draws) in its place: the chain is not continued.
    other = tmp_path / "other"
    run_workflow(other, updates=10, training={"draws": 1})
    shutil.copy(other / "chain.model.h5", model)
    r = Latdiff(d).run(["run.ini", "--run.updates=900"], np=2)
    assert r.returncode == EXIT_BAD_INPUT, describe(r)
    assert r.stderr.startswith("latdiff: error: diffusion.model_file:"), r.stderr
    assert "not the model" in r.stderr, r.stderr
    # ... nor replaced by a fresh chain.
    r = Latdiff(d).run(["run.ini", "--run.resume=never"], np=2)
    assert r.returncode == EXIT_BAD_INPUT, describe(r)
    assert "another model" in r.stderr, r.stderr


def model_of(tmp_path, name, **deck_changes):
    """A trained model file written by a short workflow with the given deck changes."""
    d = tmp_path / name
    d.mkdir()
    sections = deck(10)
    for section, values in deck_changes.items():
        sections[section] = {**sections[section], **values}
    write_deck(d / "run.ini", sections)
    Latdiff(d).ok(["run.ini"])
    return d / "chain.model.h5"


def corrupt(tmp_path):
    path = tmp_path / "corrupt.model.h5"
    shutil.copy(model_of(tmp_path, "good"), path)
    with h5py.File(path, "r+") as f:
        f["/score/cubic"][3] += 1e-6
    return path


def not_hdf5(tmp_path):
    path = tmp_path / "junk.model.h5"
    path.write_bytes(b"not an HDF5 file\n" * 10)
    return path


def hmc_deck(d, updates, save_every=0):
    """Writes d/run.ini: an HMC chain of the test couplings into d/hmc.h5, saving every
    save_every-th configuration (0: none)."""
    d.mkdir()
    write_deck(d / "run.ini", {"lattice": {"dims": "4 4"}, "action": COUPLINGS,
                               "run": {"updates": updates, "start": "hot"},
                               "output": {"file": "hmc.h5", "save_every": save_every}})
    return d / "hmc.h5"


def hmc_output(tmp_path, updates, save_every=0):
    """The output file of a finished hmc_deck chain in tmp_path/hmc."""
    path = hmc_deck(tmp_path / "hmc", updates, save_every)
    Latdiff(path.parent).ok(["run.ini"])
    return path


def output_file(tmp_path):
    return hmc_output(tmp_path, 5)


@pytest.mark.parametrize("make,expected", [
    (lambda t: model_of(t, "d1", lattice={"dims": "8"}), "trained in d = 1"),
    (lambda t: model_of(t, "ve", diffusion={"process": "ve", "sigma_max": 4}),
     "trained for process ve"),
    (lambda t: model_of(t, "levels", diffusion={"levels": 20}), "levels 20"),
    (corrupt, "corrupt score model"),
    (not_hdf5, "cannot open as HDF5"),
    (output_file, "not a latdiff score model"),
])
def test_bad_model_files_are_refused(tmp_path, make, expected):
    path = make(tmp_path)
    d = tmp_path / "run"
    d.mkdir()
    write_deck(d / "run.ini", deck(10))
    for ranks in (1, 2):
        r = Latdiff(d).run(["run.ini", f"--diffusion.model_file={path}"], np=ranks)
        assert r.returncode == EXIT_BAD_INPUT, describe(r)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1, r.stderr
        assert lines[0].startswith("latdiff: error: diffusion.model_file: "), r.stderr
        assert str(path) in lines[0] and expected in lines[0], r.stderr
    assert sorted(p.name for p in d.iterdir()) == ["run.ini"]


def test_bad_training_files_are_refused(tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    write_deck(d / "run.ini", deck(10))
    without = output_file(tmp_path)  # an HMC run that saved no configurations
    for files, expected in [(str(without), "holds no saved configurations"),
                            (str(tmp_path / "missing.h5"), "no such file"),
                            (str(not_hdf5(tmp_path)), "cannot open as HDF5")]:
        for ranks in (1, 2):
            r = Latdiff(d).run(["run.ini", f"--training.files={files}"], np=ranks)
            assert r.returncode == EXIT_BAD_INPUT, describe(r)
            lines = r.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("latdiff: error: training.files: "), \
                r.stderr
            assert expected in lines[0], r.stderr
        assert sorted(p.name for p in d.iterdir()) == ["run.ini"]


def test_training_files_from_another_run(tmp_path):
    """training.files: the configurations of an existing HMC run, no warm-up."""
    hmc = hmc_output(tmp_path, 200, save_every=2)
    r = run_workflow(tmp_path / "diff", updates=50, training={"files": str(hmc)})
    assert "warm-up" not in r.stdout
    assert "fitted on 80 configurations, 20 held out" in r.stdout, r.stdout
    with h5py.File(tmp_path / "diff" / "chain.model.h5") as f:
        assert f.attrs["training_files"] == str(hmc) + "\n"
        assert list(f["/training/step"][:3]) == [2, 4, 6]


def test_the_files_of_a_run_must_be_distinct_files(tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    write_deck(d / "run.ini", deck(10))
    for args, key, other in [
            (["--output.checkpoint=./chain.model.h5"], "diffusion.model_file",
             "output.checkpoint"),
            (["--diffusion.model_file=./chain.h5", "--output.overwrite=true"],
             "diffusion.model_file", "output.file"),
            (["--output.checkpoint=chain.model.warmup.ckpt.h5"], "diffusion.model_file",
             "output.checkpoint")]:
        r = Latdiff(d).run(["run.ini", *args], np=2)
        assert r.returncode == EXIT_BAD_INPUT, describe(r)
        assert r.stderr.startswith(f"latdiff: error: {key}"), r.stderr
        assert "is the same file as " + other in r.stderr, r.stderr
        assert sorted(p.name for p in d.iterdir()) == ["run.ini"]


def test_non_finite_training_data_is_refused(tmp_path):
    hmc = hmc_output(tmp_path, 40, save_every=2)
    with h5py.File(hmc, "r+") as f:
        f["/configurations/phi"][7, 1, 2] = np.inf
    run = tmp_path / "run"
    run.mkdir()
    write_deck(run / "run.ini", deck(10, training={"files": str(hmc)}))
    r = Latdiff(run).run(["run.ini"], np=2)
    assert r.returncode == EXIT_BAD_INPUT, describe(r)
    assert r.stderr.startswith("latdiff: error: training.files: "), r.stderr
    assert "saved configuration 7 (step 16) holds a non-finite value" in r.stderr, r.stderr
    assert sorted(p.name for p in run.iterdir()) == ["run.ini"]


def test_a_frozen_model_is_announced_and_the_warm_up_is_pure_hmc(tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    sections = deck(50)
    sections["sampler"]["interleave"] = "metropolis"
    write_deck(d / "run.ini", sections)
    Latdiff(d).ok(["run.ini"], np=2)
    with h5py.File(d / "chain.model.warmup.h5") as f:
        assert "interleave = none" in f.attrs["deck"] and "type = hmc" in f.attrs["deck"]
    # With the model present, [training] keys change nothing and the chain continues.
    r = Latdiff(d).ok(["run.ini", "--run.updates=80", "--training.knots=4"], np=2)
    assert "score model: using the frozen model 'chain.model.h5'" in r.stdout, r.stdout
    assert "resumed" in r.stdout, r.stdout


def test_a_signal_during_training_exits_3_and_the_rerun_trains_the_same_model(tmp_path):
    slow = {"configurations": 300, "save_every": 1, "draws": 16}
    ref = tmp_path / "ref"
    run_workflow(ref, np_=1, updates=20, training=slow)
    d = tmp_path / "sig"
    d.mkdir()
    write_deck(d / "run.ini", deck(20, training=slow))
    ld = Latdiff(d)
    proc = ld.start(["run.ini"])
    # The warm-up's summary is printed before the training starts.
    assert wait_for(lambda: "latdiff summary" in ld.background_output()[0], 120, proc)
    proc.send_signal(signal.SIGUSR1)
    assert proc.wait(timeout=120) == EXIT_INTERRUPTED, ld.background_output()
    out = ld.background_output()[0]
    assert "training stopped by a signal" in out, out
    assert not (d / "chain.model.h5").exists() and not (d / "chain.h5").exists()
    ld.ok(["run.ini"])
    for name in ("chain.h5", "chain.model.h5", "chain.model.warmup.h5"):
        assert_same_file(read_everything(d / name), read_everything(ref / name), name)


def test_training_files_listed_twice_or_being_written_are_refused(tmp_path):
    d = tmp_path / "hmc"
    hmc_deck(d, 400000, save_every=2)
    writer = Latdiff(d).start(["run.ini"])
    try:
        assert wait_for(lambda: (d / "hmc.h5").exists(), 60, writer)
        run = tmp_path / "run"
        run.mkdir()
        write_deck(run / "run.ini", deck(10))
        hmc = str(d / "hmc.h5")
        r = Latdiff(run).run(["run.ini", f"--training.files={hmc} {d}/./hmc.h5"], np=2)
        assert r.returncode == EXIT_BAD_INPUT, describe(r)
        assert "training.files:" in r.stderr and "listed twice" in r.stderr, r.stderr
        r = Latdiff(run).run(["run.ini", f"--training.files={hmc}"], np=2)
        assert r.returncode == EXIT_BUSY, describe(r)
        assert r.stderr.startswith("latdiff: error: training.files: "), r.stderr
        assert "in use by another latdiff run" in r.stderr, r.stderr
        assert sorted(p.name for p in run.iterdir()) == ["run.ini"]
    finally:
        kill_job(writer)


def test_a_second_job_on_the_same_output_stops_before_training(tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    write_deck(d / "run.ini", deck(400000))
    first = Latdiff(d).start(["run.ini"])
    try:
        assert wait_for(lambda: (d / "chain.h5").exists(), 120, first)
        r = Latdiff(d).run(["run.ini", "--diffusion.model_file=other.model.h5"], np=2)
        assert r.returncode == EXIT_BUSY, describe(r)
        assert r.stderr.startswith("latdiff: error: output.file: "), r.stderr
        assert not (d / "other.model.h5").exists() and not (d / "other.model.warmup.h5").exists()
    finally:
        kill_job(first)


def test_a_full_disk_at_the_model_write_leaves_nothing_and_the_rerun_writes_it(
        tmp_path, small_disk):
    """The model file on a tmpfs too small for it: one line with the reason, no model, no
    half-written .tmp and no chain output left; with space again the rerun trains the same
    model (bitwise: the same chain as a run that never lacked space)."""
    mnt, resize = small_disk
    ref = tmp_path / "ref"
    run_workflow(ref, updates=200)
    d = tmp_path / "full"
    d.mkdir()
    model = mnt / "model.h5"
    write_deck(d / "run.ini", deck(200, training={"files": str(ref / "chain.model.warmup.h5")},
                                   diffusion={"model_file": str(model)}))
    resize("8k")
    r = Latdiff(d).run(["run.ini"], np=2)
    assert r.returncode == EXIT_RUNTIME, describe(r)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "no space left on device" in lines[0].lower(), r.stderr
    assert str(model) in lines[0], r.stderr
    assert not model.exists() and not (mnt / "model.h5.tmp").exists()
    assert not (d / "chain.h5").exists()
    resize("64m")
    Latdiff(d).ok(["run.ini"], np=2)
    with h5py.File(model) as a, h5py.File(ref / "chain.model.h5") as b:
        for name in ("/score/kernel", "/score/block_quadratic", "/score/block_cubic"):
            assert np.array_equal(a[name][:], b[name][:]), name
    with h5py.File(d / "chain.h5") as a, h5py.File(ref / "chain.h5") as b:
        for name in ("/observables/mag", "/sampler/accept", "/sampler/delta_h"):
            assert np.array_equal(a[name][:], b[name][:]), name


@pytest.mark.parametrize("case", ["dangling_link", "tmp_directory", "foreign_warm_up"])
def test_a_model_path_that_cannot_take_the_model_is_refused_before_training(tmp_path, case):
    """Refused with one line naming diffusion.model_file, exit 2, before any training: a
    symbolic link to a missing file (the model would replace the link), a directory at
    <model>.tmp (where it is written first), and another chain's file at the warm-up output."""
    d = tmp_path / "run"
    d.mkdir()
    write_deck(d / "run.ini", deck(10))
    expected = {"dangling_link": "symbolic link to the missing file",
                "tmp_directory": ".tmp' is a directory",
                "foreign_warm_up": "warm-up chain of"}[case]
    if case == "dangling_link":
        (d / "chain.model.h5").symlink_to(tmp_path / "gone.h5")
    elif case == "tmp_directory":
        (d / "chain.model.h5.tmp").mkdir()
    else:
        shutil.copy(output_file(tmp_path), d / "chain.model.warmup.h5")
    before = sorted(p.name for p in d.iterdir())
    for ranks in (1, 2):
        r = Latdiff(d).run(["run.ini"], np=ranks)
        assert r.returncode == EXIT_BAD_INPUT, describe(r)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1, r.stderr
        assert lines[0].startswith("latdiff: error: diffusion.model_file: "), r.stderr
        assert expected in lines[0], r.stderr
        assert "fitted" not in r.stdout
    assert sorted(p.name for p in d.iterdir()) == before
