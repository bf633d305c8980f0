"""One writer per output file and checkpoint, and nothing of another chain destroyed.

A second run on files in use is refused (exit 4, naming the file and the holder) while the
first finishes bitwise correct; ranks whose mpirun was killed stop promptly, and a rerun beside
them is refused or resumes exactly; a fresh chain refuses to replace another chain's output or
any file that is not latdiff's unless output.overwrite = true; a resume refuses an output file
whose kept rows are not the chain's."""

import os
import signal
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import (EXIT_BAD_INPUT, EXIT_BUSY, EXIT_OK, Latdiff, assert_same_chain,
                      assert_same_file, describe, read_everything, read_output, wait_for,
                      write_deck)



def deck(updates=8000, **run):
    return {
        "lattice": {"dims": "32 32"},
        "action": {"form": "hopping", "kappa": 0.33, "lambda": 0.5},
        "sampler": {"type": "hmc", "md_steps": 6, "trajectory_length": 0.8},
        "run": {"seed": 77, "thermalize": 100, "updates": updates, "measure_every": 2,
                "start": "hot", **run},
        "output": {"file": "sig.h5", "save_every": 250, "checkpoint_every": 200,
                   "correlators": "block", "block_measurements": 30, "coarse": "true"},
    }


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted chain, on 2 ranks."""
    d = tmp_path_factory.mktemp("reference")
    write_deck(d / "run.ini", deck())
    Latdiff(d).ok(["run.ini"], np=2)
    return read_everything(d / "sig.h5")


def rank_pids(proc):
    """The children (the ranks) of an mpirun process."""
    pids = []
    for task in Path(f"/proc/{proc.pid}/task").iterdir():
        try:
            pids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return pids


def alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_second_run_on_the_same_files_is_refused(tmp_path, reference):
    write_deck(tmp_path / "run.ini", deck())
    ld = Latdiff(tmp_path)
    first = ld.start(["run.ini"], np=2)
    assert wait_for(lambda: (tmp_path / "sig.ckpt.h5").exists(), 60, first), "no checkpoint"
    # Same deck, another seed, another checkpoint: each collides on one of the two files.
    for args in (["run.ini"], ["run.ini", "--run.seed=5"],
                 ["run.ini", "--output.checkpoint=other.ckpt.h5"]):
        r = ld.run(args, np=1, timeout=60)
        assert r.returncode == EXIT_BUSY, describe(r)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "in use by another latdiff run" in lines[0], r.stderr
        assert "sig.h5" in lines[0] and "host" in lines[0] and "pid" in lines[0], lines[0]
    with_other_output = ld.run(["run.ini", "--output.file=other.h5",
                                "--output.checkpoint=sig.ckpt.h5"], np=1, timeout=60)
    assert with_other_output.returncode == EXIT_BUSY, describe(with_other_output)
    assert "output.checkpoint" in with_other_output.stderr
    assert first.wait(timeout=300) == EXIT_OK, ld.background_output()
    assert not (tmp_path / "other.h5").exists()
    assert not (tmp_path / "sig.h5.lock").exists(), "a clean exit removes its lock files"
    assert_same_file(read_everything(tmp_path / "sig.h5"), reference, "first run")


@pytest.mark.parametrize("ranks", [2, 4])
def test_kill_of_mpirun_alone_stops_the_ranks_and_the_chain_resumes_exactly(tmp_path, reference,
                                                                           ranks):
    """kill -9 of mpirun only (Open MPI gives each rank its own process group, so they survive
    it): the ranks stop within a second, an immediate rerun is refused or resumes, and the
    chain ends bitwise equal to the uninterrupted one."""
    write_deck(tmp_path / "run.ini", deck())
    ld = Latdiff(tmp_path)
    proc = ld.start(["run.ini"], np=ranks)
    assert wait_for(lambda: (tmp_path / "sig.ckpt.h5").exists(), 60, proc), "no checkpoint"
    time.sleep(0.5)
    ranks_before = rank_pids(proc)
    assert len(ranks_before) == ranks
    proc.kill()
    proc.wait(timeout=30)
    rerun = ld.run(["run.ini"], np=2, timeout=300)
    assert rerun.returncode in (EXIT_OK, EXIT_BUSY), describe(rerun)
    if rerun.returncode == EXIT_BUSY:
        assert "in use by another latdiff run" in rerun.stderr
    assert wait_for(lambda: not any(alive(p) for p in ranks_before), 5), "orphaned ranks live on"
    ld.ok(["run.ini"], np=2)
    assert_same_file(read_everything(tmp_path / "sig.h5"), reference, "after kill of mpirun")


def test_kill_of_one_rank_and_rerun_resumes_exactly(tmp_path, reference):
    write_deck(tmp_path / "run.ini", deck())
    ld = Latdiff(tmp_path)
    proc = ld.start(["run.ini"], np=2)
    assert wait_for(lambda: (tmp_path / "sig.ckpt.h5").exists(), 60, proc), "no checkpoint"
    time.sleep(0.7)
    os.kill(rank_pids(proc)[1], signal.SIGKILL)
    assert proc.wait(timeout=60) != EXIT_OK
    ld.ok(["run.ini"], np=2)
    assert_same_file(read_everything(tmp_path / "sig.h5"), reference, "after kill of a rank")


def test_lock_file_of_a_dead_run_does_not_block(tmp_path):
    """A lock file left by a process that died (its content names a holder) is taken over."""
    write_deck(tmp_path / "run.ini", deck(updates=20))
    (tmp_path / "sig.h5.lock").write_text("host gone, pid 999999, since 2020-01-01T00:00:00Z\n")
    (tmp_path / "sig.ckpt.h5.lock").write_text("")
    Latdiff(tmp_path).ok(["run.ini"], np=2)
    assert not (tmp_path / "sig.h5.lock").exists()


def fresh(tmp_path):
    """A short chain with rows in every group: 10 measurements, 3 blocks, 4 configurations."""
    sections = deck(updates=20)
    sections["output"].update(block_measurements=3, save_every=5)
    write_deck(tmp_path / "run.ini", sections)
    return Latdiff(tmp_path)


def refused(r, *words):
    assert r.returncode == EXIT_BAD_INPUT, describe(r)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("latdiff: error: "), r.stderr
    for w in words:
        assert w in lines[0], lines[0]


@pytest.mark.parametrize("ranks", [1, 2])
def test_another_chains_output_is_not_replaced(tmp_path, ranks):
    ld = fresh(tmp_path)
    ld.ok(["run.ini", "--run.seed=99"], np=ranks)
    before = (tmp_path / "sig.h5").read_bytes()
    (tmp_path / "sig.ckpt.h5").unlink()
    refused(ld.run(["run.ini"], np=ranks), "output.file", "sig.h5", "another chain", "run.seed",
            "output.overwrite")
    refused(ld.run(["run.ini", "--run.resume=never"], np=ranks), "output.file", "run.seed")
    assert (tmp_path / "sig.h5").read_bytes() == before, "the seed-99 data was touched"
    ld.ok(["run.ini", "--run.resume=never", "--output.overwrite=true"], np=ranks)
    assert read_output(tmp_path / "sig.h5")["attrs"]["seed"] == 77


def test_another_chains_checkpoint_is_not_replaced(tmp_path):
    ld = fresh(tmp_path)
    ld.ok(["run.ini", "--run.seed=99", "--output.file=a.h5", "--output.checkpoint=c.h5"])
    before = (tmp_path / "c.h5").read_bytes()
    refused(ld.run(["run.ini", "--run.resume=never", "--output.checkpoint=c.h5"]),
            "output.checkpoint", "c.h5", "another chain")
    assert (tmp_path / "c.h5").read_bytes() == before
    assert not (tmp_path / "sig.h5").exists()


def test_files_that_are_not_latdiffs_are_not_replaced(tmp_path):
    ld = fresh(tmp_path)
    deck_text = (tmp_path / "run.ini").read_bytes()
    refused(ld.run(["run.ini", "--output.file=run.ini"]), "output.file", "run.ini",
            "not a latdiff file")
    assert (tmp_path / "run.ini").read_bytes() == deck_text
    with h5py.File(tmp_path / "foreign.h5", "w") as f:
        f["x"] = np.arange(3)
    refused(ld.run(["run.ini", "--output.file=foreign.h5"]), "foreign.h5", "not a latdiff file")
    (tmp_path / "dir.h5").mkdir()
    refused(ld.run(["run.ini", "--output.file=dir.h5"]), "dir.h5", "not a regular file")
    refused(ld.run(["run.ini", "--output.file=/dev/null", "--output.checkpoint=ck.h5"], np=2),
            "/dev/null", "not a regular file")
    assert not (tmp_path / "ck.h5").exists()


def test_the_same_chain_and_empty_files_may_be_replaced(tmp_path):
    """Rerunning the same chain regenerates it bit for bit, so its file may be replaced."""
    ld = fresh(tmp_path)
    ld.ok(["run.ini"])
    first = read_output(tmp_path / "sig.h5")
    (tmp_path / "sig.ckpt.h5").unlink()
    ld.ok(["run.ini"])
    assert_same_chain(read_output(tmp_path / "sig.h5"), first, "regenerated")
    ld.ok(["run.ini", "--run.resume=never"])
    (tmp_path / "empty.h5").write_bytes(b"")
    ld.ok(["run.ini", "--output.file=empty.h5"])


def resumable_chain(tmp_path):
    """A finished 20-update chain whose checkpoint the next run (40 updates) continues."""
    ld = fresh(tmp_path)
    ld.ok(["run.ini"])
    return ld


@pytest.mark.parametrize("tamper", ["step_zero", "duplicated_rows", "correlator_rows",
                                    "coarse_step", "config_step"])
def test_resume_refuses_rows_that_are_not_the_chains(tmp_path, tamper):
    ld = resumable_chain(tmp_path)
    with h5py.File(tmp_path / "sig.h5", "r+") as f:
        if tamper == "step_zero":
            f["observables/step"][3] = 0
        elif tamper == "duplicated_rows":
            steps = f["observables/step"]
            steps[5:] = steps[4:-1]
        elif tamper == "correlator_rows":
            f["correlators/step"].resize((2,))
        elif tamper == "coarse_step":
            f["coarse/step"][0] = 1
        else:
            f["configurations/step"][0] = 7
    before = (tmp_path / "sig.h5").read_bytes()
    refused(ld.run(["run.ini", "--run.updates=40"], np=2), "output.file", "sig.h5")
    assert (tmp_path / "sig.h5").read_bytes() == before


def test_untampered_chain_resumes(tmp_path):
    """The control of the test above: the same chain, untouched, is extended."""
    ld = resumable_chain(tmp_path)
    ld.ok(["run.ini", "--run.updates=40"], np=2)
    data = read_output(tmp_path / "sig.h5")
    assert data["sampler/accept"].shape == (140,)
    assert np.array_equal(data["observables/step"], 100 + 2 * np.arange(1, 21))


def test_files_of_an_older_version_without_the_newer_keys_are_the_same_chain(tmp_path):
    """A resolved deck written before keys were added lacks them; they count with their
    defaults, so such a file still holds the same chain (here regenerated in place)."""
    ld = fresh(tmp_path)
    ld.ok(["run.ini"])
    (tmp_path / "sig.ckpt.h5").unlink()
    with h5py.File(tmp_path / "sig.h5", "r+") as f:
        deck = f.attrs["deck"]
        old = deck.split("[diffusion]")[0] + "[run]" + deck.split("[run]")[1]
        old = "\n".join(line for line in old.splitlines() if not line.startswith("overwrite"))
        assert "diffusion" not in old and "overwrite" not in old
        f.attrs["deck"] = old
    ld.ok(["run.ini"])


def test_a_symlink_to_the_output_meets_the_same_lock(tmp_path):
    write_deck(tmp_path / "run.ini", deck())
    (tmp_path / "link.h5").symlink_to("sig.h5")
    ld = Latdiff(tmp_path)
    first = ld.start(["run.ini"], np=1)
    assert wait_for(lambda: (tmp_path / "sig.ckpt.h5").exists(), 60, first), "no checkpoint"
    r = ld.run(["run.ini", "--run.seed=78", "--output.file=link.h5",
                "--output.checkpoint=b.ckpt.h5", "--output.overwrite=true",
                "--run.resume=never"], np=1, timeout=60)
    assert r.returncode == EXIT_BUSY, describe(r)
    assert first.wait(timeout=300) == EXIT_OK, ld.background_output()


def test_removed_lock_files_stop_the_holder(tmp_path):
    write_deck(tmp_path / "run.ini", deck())
    ld = Latdiff(tmp_path)
    first = ld.start(["run.ini"], np=1)
    assert wait_for(lambda: (tmp_path / "sig.ckpt.h5").exists(), 60, first), "no checkpoint"
    (tmp_path / "sig.h5.lock").unlink()
    assert first.wait(timeout=300) == 1, ld.background_output()
    assert "was removed or replaced" in ld.background_output()[1]
    ld.ok(["run.ini"])  # the chain resumes from its last checkpoint


def test_a_changed_start_file_makes_another_chain(tmp_path):
    ld = fresh(tmp_path)
    ld.ok(["run.ini", "--output.file=init.h5"])
    ld.ok(["run.ini", "--run.start=init.h5", "--output.file=b.h5"])
    (tmp_path / "b.ckpt.h5").unlink()
    ld.ok(["run.ini", "--run.start=init.h5", "--output.file=b.h5"])  # same start: regenerated
    ld.ok(["run.ini", "--output.file=init.h5", "--run.updates=40"])  # init.h5 extended
    (tmp_path / "b.ckpt.h5").unlink()
    before = (tmp_path / "b.h5").read_bytes()
    refused(ld.run(["run.ini", "--run.start=init.h5", "--output.file=b.h5"]), "b.h5",
            "started from another configuration")
    assert (tmp_path / "b.h5").read_bytes() == before


def test_leftover_temporary_output_does_not_block(tmp_path):
    ld = fresh(tmp_path)
    (tmp_path / "sig.h5.tmp").write_bytes(b"half-written" * 100)
    ld.ok(["run.ini"])
    assert not (tmp_path / "sig.h5.tmp").exists()


def test_resume_refuses_a_missing_dataset_before_touching_the_file(tmp_path):
    ld = resumable_chain(tmp_path)
    with h5py.File(tmp_path / "sig.h5", "r+") as f:
        del f["coarse/level_1/mag"]
    before = (tmp_path / "sig.h5").read_bytes()
    refused(ld.run(["run.ini", "--run.updates=40"], np=2), "output.file",
            "/coarse/level_1/mag is missing")
    assert (tmp_path / "sig.h5").read_bytes() == before


@pytest.mark.parametrize("args,key", [(["--output.checkpoint=sig.h5.lock"], "output.checkpoint"),
                                      (["--output.file=x.ckpt.h5.tmp"], "output.file")])
def test_names_of_lock_and_temporary_files_are_refused(tmp_path, args, key):
    refused(fresh(tmp_path).run(["run.ini", *args]), key, "must not end in")
