"""Failures of the file system and of the inputs end the job with one line, the right exit code,
no hang, no crash and no damaged file: a full disk (on a small tmpfs; needs root), names the
file system refuses (too long, a symlink loop), output directories that do not exist, lattices
that cannot fit in memory, non-finite start fields, and stop signals sent to mpirun."""

import re
import resource
import signal
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import (EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, EXIT_RUNTIME, Latdiff,
                      assert_same_file, checkpoint_updates, describe, read_everything, wait_for,
                      write_deck)

ROOT = Path(__file__).resolve().parents[2]


def deck(**output):
    return {
        "lattice": {"dims": "8 12"},
        "action": {"form": "hopping", "kappa": 0.26, "lambda": 0.6},
        "sampler": {"type": "hmc", "md_steps": 4, "trajectory_length": 0.8},
        "run": {"seed": 5, "thermalize": 5, "updates": 20, "start": "hot"},
        "output": {"file": "out.h5", **output},
    }


def one_error_line(r, code, *words, prefix=r"latdiff: error: "):
    assert r.returncode == code, describe(r)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one stderr line:\n{r.stderr}"
    assert re.match(prefix, lines[0]), lines[0]
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


FULL_DISK = {"lattice": {"dims": "64 64"},
             "action": {"form": "hopping", "kappa": 0.3, "lambda": 0.5},
             "sampler": {"type": "metropolis", "step": 1.0},
             "run": {"seed": 9, "updates": 200},
             "output": {"file": "full.h5", "save_every": 1, "checkpoint_every": 20}}


@pytest.mark.parametrize("ranks", [1, 2, 4])
def test_full_disk_stops_with_the_reason_and_resumes_bitwise_after_space_is_freed(
        tmp_path, small_disk, ranks):
    mnt, resize = small_disk
    ref = tmp_path / "reference"
    ref.mkdir()
    write_deck(ref / "run.ini", FULL_DISK)
    Latdiff(ref).ok(["run.ini"], np=ranks)

    write_deck(tmp_path / "run.ini", FULL_DISK)
    ld = Latdiff(mnt)
    r = ld.run([str(tmp_path / "run.ini")], np=ranks, timeout=120)
    # Only the ranks that write (the MPI-IO aggregators) see the failure, so the line may come
    # from one of them, with its rank, before the job is aborted.
    line = one_error_line(r, EXIT_RUNTIME, "no space left on device",
                          prefix=r"latdiff: error( \(rank \d+\))?: ")
    assert "full" in line, line
    assert "Segmentation" not in r.stderr
    # The previous checkpoint is intact and no half-written one is left taking space.
    done = checkpoint_updates(mnt / "full.ckpt.h5")
    assert 0 < done < 200 and done % 20 == 0
    assert not (mnt / "full.ckpt.h5.tmp").exists()
    resize("64m")
    again = ld.run([str(tmp_path / "run.ini")], np=ranks, timeout=120)
    assert again.returncode == EXIT_OK, describe(again)
    assert "resumed" in again.stdout
    assert_same_file(read_everything(mnt / "full.h5"), read_everything(ref / "full.h5"),
                     f"after the full disk, np {ranks}")


@pytest.mark.parametrize("ranks", [1, 2, 4])
@pytest.mark.parametrize("case", ["long_name", "symlink_loop", "missing_checkpoint_dir",
                                  "missing_output_dir"])
def test_bad_paths_are_refused_on_every_rank_before_the_first_update(tmp_path, ranks, case):
    write_deck(tmp_path / "run.ini", deck())
    (tmp_path / "loop").symlink_to("loop")
    args, words = {
        "long_name": (["--output.file=" + "a" * 300 + ".h5"], ["output.file", "too long"]),
        "symlink_loop": (["--output.file=loop/x.h5"], ["output.file", "symbolic links"]),
        "missing_checkpoint_dir": (["--output.checkpoint=nodir/x.ckpt.h5"],
                                   ["output.checkpoint", "nodir/x.ckpt.h5"]),
        "missing_output_dir": (["--output.file=nodir/x.h5"], ["output.file", "nodir/x.h5"]),
    }[case]
    try:
        r = Latdiff(tmp_path).run(["run.ini", *args], np=ranks, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"latdiff hung on {case} at np {ranks}")
    one_error_line(r, EXIT_BAD_INPUT, *words)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loop", "run.ini"], "files were created"


@pytest.mark.parametrize("ranks", [1, 2])
def test_lattice_too_large_for_memory_is_refused_before_allocating(tmp_path, ranks):
    write_deck(tmp_path / "run.ini", deck())
    r = Latdiff(tmp_path).run(["run.ini", "--lattice.dims=100000 100000"], np=ranks, timeout=60)
    one_error_line(r, EXIT_BAD_INPUT, "lattice.dims", "GiB")
    assert not (tmp_path / "out.h5").exists()


def test_allocation_failure_names_the_lattice(tmp_path):
    """Memory that the estimate did not foresee (here an address-space limit of 400 MB) is a
    clear error too, not std::bad_alloc."""
    write_deck(tmp_path / "run.ini", deck())
    limit = 400 << 20
    r = subprocess.run([Latdiff(tmp_path).binary, "run.ini", "--lattice.dims=4096 4096"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60,
                       preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
    one_error_line(r, EXIT_BAD_INPUT, "lattice.dims", "out of memory")
    assert not (tmp_path / "out.h5").exists()


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_start_field_is_refused(tmp_path, bad):
    ld = Latdiff(tmp_path)
    write_deck(tmp_path / "run.ini", deck(save_every=5))
    ld.ok(["run.ini"])
    with h5py.File(tmp_path / "out.h5", "r+") as f:
        f["configurations/phi"][-1, 3, 4] = bad
    for ranks in (1, 2):
        r = ld.run(["run.ini", "--run.start=out.h5", "--output.file=new.h5"], np=ranks)
        one_error_line(r, EXIT_BAD_INPUT, "run.start", "non-finite")
    assert not (tmp_path / "new.h5").exists()
    ld.ok(["run.ini", "--run.start=out.h5", "--run.start_index=0", "--output.file=new.h5"])


@pytest.mark.parametrize("ranks", [2, 4])
def test_errors_met_by_every_rank_are_printed_once_without_an_abort(tmp_path, ranks):
    """A bad start file (input, exit 2) and an unstable Langevin step (runtime, exit 1)."""
    write_deck(tmp_path / "run.ini", deck())
    (tmp_path / "garbage.h5").write_bytes(b"not hdf5" * 100)
    ld = Latdiff(tmp_path)
    r = ld.run(["run.ini", "--run.start=garbage.h5"], np=ranks)
    one_error_line(r, EXIT_BAD_INPUT, "run.start", "garbage.h5")
    r = ld.run(["run.ini", "--sampler.type=langevin", "--sampler.langevin_step=5",
                "--output.file=lgv.h5"], np=ranks)
    one_error_line(r, EXIT_RUNTIME, "sampler.langevin_step")
    assert "MPI_ABORT" not in r.stderr and "(rank" not in r.stderr


LONG_RUN = {"lattice": {"dims": "32 32"},
            "action": {"form": "hopping", "kappa": 0.33, "lambda": 0.5},
            "sampler": {"type": "hmc", "md_steps": 6, "trajectory_length": 0.8},
            "run": {"seed": 3, "updates": 400000},
            "output": {"file": "sig.h5", "checkpoint_every": 100}}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_stop_signals_through_the_mpirun_wrapper_checkpoint_and_exit_3(tmp_path, sig):
    """Open MPI's mpirun cannot forward SIGTERM or SIGINT; jobs/mpirun-checkpointing turns them
    into SIGUSR1, so the job checkpoints and exits with 3, and a rerun continues the chain."""
    write_deck(tmp_path / "run.ini", LONG_RUN)
    ld = Latdiff(tmp_path)
    cmd = [str(ROOT / "jobs" / "mpirun-checkpointing"), "-q", "-np", "2", "--oversubscribe",
           ld.binary, "run.ini"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert wait_for(lambda: (tmp_path / "sig.ckpt.h5").exists(), 60, proc), "no checkpoint"
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_INTERRUPTED, f"rc={proc.returncode}\n{out}\n{err}"
    assert "stopped by signal" in out
    done = checkpoint_updates(tmp_path / "sig.ckpt.h5")
    assert 100 <= done < 400000
    with h5py.File(tmp_path / "sig.h5", "r") as f:
        assert f["sampler/accept"].shape == (done,)
    r = ld.run(["run.ini", f"--run.updates={done + 10}"], np=2)
    assert r.returncode == EXIT_OK, describe(r)
    assert checkpoint_updates(tmp_path / "sig.ckpt.h5") == done + 10
