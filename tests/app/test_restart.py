"""Restarts continue the same chain: a run of the full length in one go and a run that is
extended, killed (SIGKILL) or stopped (SIGTERM, SIGUSR1) and then re-run with the same deck
end with bitwise identical /observables, /sampler and /configurations."""

import random
import signal
import time

import h5py
import pytest

from conftest import (EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, Latdiff, assert_same_chain,
                      checkpoint_updates, describe, kill_job, read_output, stop, wait_for,
                      write_deck)

SAMPLERS = {
    "metropolis": {"type": "metropolis", "step": 1.4, "hits": 2},
    "hmc": {"type": "hmc", "integrator": "omelyan", "md_steps": 4, "trajectory_length": 0.8},
}


def deck(sampler, updates, dims="8 12", thermalize=10, checkpoint_every=0, save_every=15,
         measure_every=2):
    return {
        "lattice": {"dims": dims},
        "action": {"form": "hopping", "kappa": 0.26, "lambda": 0.6},
        "sampler": SAMPLERS[sampler],
        "run": {"seed": 31337, "thermalize": thermalize, "updates": updates,
                "measure_every": measure_every, "start": "hot"},
        "output": {"file": "chain.h5", "save_every": save_every,
                   "checkpoint_every": checkpoint_every},
    }


def one_go(tmp_path, sections, ranks=1):
    """The reference: the whole chain in one invocation, in its own directory."""
    d = tmp_path / "one_go"
    d.mkdir(exist_ok=True)
    write_deck(d / "run.ini", sections)
    Latdiff(d).ok(["run.ini", "--run.resume=never"], np=ranks)
    return read_output(d / "chain.h5")


def assert_complete(data, sections):
    run = sections["run"]
    total = run["thermalize"] + run["updates"]
    assert data["sampler/accept"].shape == (total,)
    assert data["observables/mag"].shape == (run["updates"] // run["measure_every"],)
    assert data["configurations/phi"].shape[0] == run["updates"] // sections["output"]["save_every"]


@pytest.mark.parametrize("sampler,ranks_first,ranks_second,first_updates", [
    ("metropolis", 1, 1, 60),
    ("hmc", 2, 2, 60),
    ("metropolis", 2, 1, 45),   # resumed on another number of ranks
    ("hmc", 1, 4, 0),           # first segment is thermalization only
])
def test_extend_chain(tmp_path, sampler, ranks_first, ranks_second, first_updates):
    """N updates, then the same deck with run.updates = 2N: the checkpoint is extended."""
    full = deck(sampler, 120)
    d = tmp_path / "split"
    d.mkdir()
    ld = Latdiff(d)
    write_deck(d / "run.ini", full)
    first = ld.ok(["run.ini", f"--run.updates={first_updates}"], np=ranks_first)
    assert "resumed" not in first.stdout
    assert checkpoint_updates(d / "chain.ckpt.h5") == 10 + first_updates
    # Keys that do not define the chain may change: checkpoint cadence, process grid.
    second_args = ["run.ini", "--output.checkpoint_every=7"]
    if ranks_second == 4:
        second_args.append("--lattice.procs=2 2")
    second = ld.ok(second_args, np=ranks_second)
    assert "resumed from checkpoint" in second.stdout
    assert f"{120 - first_updates} updates" in second.stdout
    split = read_output(d / "chain.h5")
    assert_complete(split, full)
    assert_same_chain(one_go(tmp_path, full), split, "extended chain vs one go")

    # Running a finished chain again changes nothing.
    again = ld.ok(["run.ini"], np=ranks_second)
    assert "resumed from checkpoint" in again.stdout
    assert_same_chain(split, read_output(d / "chain.h5"), "re-run of a finished chain")
    # run.resume = never starts afresh, overwriting, and gives the same chain.
    ld.ok(["run.ini", "--run.resume=never"], np=ranks_first)
    assert_same_chain(split, read_output(d / "chain.h5"), "fresh re-run with resume=never")


@pytest.mark.parametrize("sampler", ["metropolis", "hmc"])
def test_checkpoint_of_an_older_chain_format_is_refused(tmp_path, sampler):
    """A checkpoint written before the SIMD Metropolis sweep and the inline Box-Muller (no
    chain_format attribute: format 1) must not continue as if its random numbers were this
    binary's: one line naming the file and the format, exit 2, the checkpoint untouched."""
    ld = Latdiff(tmp_path)
    write_deck(tmp_path / "run.ini", deck(sampler, 60))
    ld.ok(["run.ini", "--run.updates=30"])
    ckpt = tmp_path / "chain.ckpt.h5"
    with h5py.File(ckpt, "a") as f:
        assert f.attrs["chain_format"] == 2
        del f.attrs["chain_format"]
    r = ld.run(["run.ini"])
    assert r.returncode == EXIT_BAD_INPUT, describe(r)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "chain format 1" in lines[0] and "chain.ckpt.h5" in lines[0], lines
    assert checkpoint_updates(ckpt) == 40
    with h5py.File(ckpt, "r") as f:
        assert "chain_format" not in f.attrs
    # Starting afresh as the message says works.
    ld.ok(["run.ini", "--run.resume=never", "--output.overwrite=true"])


def interrupt(tmp_path, sections, ranks, how):
    """Runs the deck in tmp_path/interrupted and stops it mid-run with `how` (a signal number
    or "kill" for SIGKILL of every process of the job) once at least one checkpoint exists.
    If the run ends before it can be stopped, retries with a run four times as long (the deck
    is updated in place). Returns (Latdiff, exit code, checkpoint updates_done)."""
    d = tmp_path / "interrupted"
    d.mkdir()
    ld = Latdiff(d)
    for attempt in range(4):
        for p in d.iterdir():
            p.unlink()
        write_deck(d / "run.ini", sections)
        ckpt = d / "chain.ckpt.h5"
        proc = ld.start(["run.ini"], np=ranks)
        if wait_for(ckpt.exists, timeout=120, proc=proc):
            # Somewhere between two checkpoints (or inside one), well before the end.
            time.sleep(random.uniform(0.0, 0.4))
            rc = kill_job(proc) if how == "kill" else stop(proc, how)
        else:
            rc = proc.wait(timeout=120)
        total = sections["run"]["thermalize"] + sections["run"]["updates"]
        if rc != EXIT_OK and ckpt.exists() and checkpoint_updates(ckpt) < total:
            return ld, rc, checkpoint_updates(ckpt)
        out, err = ld.background_output()
        assert rc == EXIT_OK, f"run failed before it was stopped: rc={rc}\n{out}\n{err}"
        sections["run"]["updates"] *= 4  # finished too early: try a longer chain
    pytest.fail("could not stop the run before it finished")


@pytest.mark.parametrize("sampler,ranks", [("metropolis", 1), ("hmc", 2), ("metropolis", 2)])
def test_resume_after_sigkill(tmp_path, sampler, ranks):
    # About 1.5 s of updates; checkpoints every 40, configurations saved every 25 (so a kill
    # often leaves rows after the last checkpoint, which the resume must truncate).
    sections = deck(sampler, 8000 if sampler == "metropolis" else 4000, dims="16 16",
                    checkpoint_every=40, save_every=25, measure_every=1)
    ld, rc, done = interrupt(tmp_path, sections, ranks, "kill")
    assert rc == -signal.SIGKILL, f"rc={rc}"
    total = sections["run"]["thermalize"] + sections["run"]["updates"]
    assert done % 40 == 0 and 0 < done < total
    r = ld.ok(["run.ini"], np=ranks)
    assert "resumed from checkpoint" in r.stdout
    data = read_output(ld.cwd / "chain.h5")
    assert_complete(data, sections)
    assert_same_chain(one_go(tmp_path, sections, ranks), data, "killed and resumed vs one go")


@pytest.mark.parametrize("sig,ranks", [(signal.SIGTERM, 1), (signal.SIGUSR1, 2)],
                         ids=["SIGTERM-np1", "SIGUSR1-np2"])
def test_resume_after_stop_signal(tmp_path, sig, ranks):
    # The first periodic checkpoint (update 500) shows the run is under way; the signal then
    # stops it at an arbitrary update with a checkpoint of its own.
    sections = deck("metropolis", 8000, dims="16 16", checkpoint_every=500, save_every=25,
                    measure_every=1)
    ld, rc, done = interrupt(tmp_path, sections, ranks, sig)
    out, err = ld.background_output()
    assert rc == EXIT_INTERRUPTED, f"rc={rc}\n{out}\n{err}"
    assert "stopped by signal" in out and "chain.ckpt.h5" in out
    assert "latdiff summary" in out
    total = sections["run"]["thermalize"] + sections["run"]["updates"]
    assert 0 < done < total
    # The stop wrote every row up to the checkpoint, and nothing beyond it.
    with h5py.File(ld.cwd / "chain.ckpt.h5", "r") as ck, h5py.File(ld.cwd / "chain.h5", "r") as f:
        assert f["sampler/accept"].shape[0] == int(ck.attrs["sampler_rows"]) == done
        assert f["observables/mag"].shape[0] == int(ck.attrs["observables_rows"])
        assert f["configurations/phi"].shape[0] == int(ck.attrs["configurations_rows"])
    r = ld.ok(["run.ini"], np=ranks)
    assert "resumed from checkpoint" in r.stdout
    assert f"{total - done} updates" in r.stdout
    data = read_output(ld.cwd / "chain.h5")
    assert_complete(data, sections)
    assert_same_chain(one_go(tmp_path, sections, ranks), data, "stopped and resumed vs one go")
