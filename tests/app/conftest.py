"""Shared helpers for the end-to-end tests of the latdiff program.

The binary is taken from $LATDIFF (set by ctest), else build/latdiff in the source tree;
mpirun from $MPIEXEC, else the one on PATH. Every test runs in its own tmp_path.
"""

import configparser
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
os.environ.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")

EXIT_OK, EXIT_RUNTIME, EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_BUSY = 0, 1, 2, 3, 4

# Every row dataset of an output file; /sampler/delta_h exists for hmc and mala only.
ROW_DATASETS = (
    "observables/step",
    "observables/mag",
    "observables/phi2",
    "observables/action_density",
    "sampler/accept",
    "sampler/delta_h",
    "configurations/step",
    "configurations/phi",
)


def latdiff_binary():
    default = Path(__file__).resolve().parents[2] / "build" / "latdiff"
    path = os.environ.get("LATDIFF") or str(default)
    if not os.access(path, os.X_OK):
        pytest.fail(f"latdiff binary not found at {path} (set LATDIFF)")
    return path


def mpiexec():
    return os.environ.get("MPIEXEC") or shutil.which("mpirun") or "mpirun"


def write_deck(path, sections):
    """Writes an INI deck from {section: {key: value}}; returns the path as a string."""
    lines = ["# written by tests/app"]
    for section, keys in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {v}" for k, v in keys.items()]
    Path(path).write_text("\n".join(lines) + "\n")
    return str(path)


def overrides(**keys):
    """--section.key=value arguments from section__key=value keywords."""
    return [f"--{k.replace('__', '.')}={v}" for k, v in keys.items()]


def describe(r):
    """Exit code and output of a CompletedProcess, for assertion messages."""
    return f"rc={r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"


class Latdiff:
    """Runs latdiff in a working directory, on one rank (directly, as an MPI singleton) or
    on np ranks under mpirun."""

    def __init__(self, cwd):
        self.binary = latdiff_binary()
        self.cwd = Path(cwd)

    def command(self, args, np=1):
        if np == 1:
            return [self.binary, *args]
        # -q: no mpirun banners on stderr, so that latdiff's own stderr can be checked.
        return [mpiexec(), "-q", "-np", str(np), "--oversubscribe", self.binary, *args]

    def run(self, args, np=1, timeout=300, env=None):
        """Runs to completion; env: variables added to the environment."""
        return subprocess.run(self.command(args, np), cwd=self.cwd, capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, **(env or {})})

    def start(self, args, np=1):
        """Starts latdiff in the background (stdout/stderr to files in cwd)."""
        out = open(self.cwd / "bg.stdout", "w")
        err = open(self.cwd / "bg.stderr", "w")
        proc = subprocess.Popen(self.command(args, np), cwd=self.cwd, stdout=out, stderr=err)
        out.close()
        err.close()
        return proc

    def background_output(self):
        return (self.cwd / "bg.stdout").read_text(), (self.cwd / "bg.stderr").read_text()

    def ok(self, args, np=1, timeout=300):
        """Runs and asserts exit code 0; returns the CompletedProcess."""
        r = self.run(args, np, timeout)
        assert r.returncode == EXIT_OK, describe(r)
        return r


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs mounted in tmp_path (root only); yields (path, resize)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")

    def resize(size):
        subprocess.run(["mount", "-o", f"remount,size={size}", str(mnt)], check=True)

    try:
        yield mnt, resize
    finally:
        subprocess.run(["umount", "-l", str(mnt)])


@pytest.fixture
def latdiff(tmp_path):
    return Latdiff(tmp_path)


def read_output(path):
    """{dataset: numpy array} for every row dataset present, plus "attrs"."""
    out = {}
    with h5py.File(path, "r") as f:
        for name in ROW_DATASETS:
            if name in f:
                out[name] = f[name][()]
        out["attrs"] = dict(f.attrs)
    return out


def assert_same_chain(a, b, what=""):
    """Bitwise equality of every row dataset of two outputs read with read_output."""
    names_a = sorted(k for k in a if k != "attrs")
    names_b = sorted(k for k in b if k != "attrs")
    assert names_a == names_b, f"{what}: datasets differ: {names_a} vs {names_b}"
    for name in names_a:
        x, y = a[name], b[name]
        assert x.dtype == y.dtype, f"{what}: {name} dtype {x.dtype} vs {y.dtype}"
        assert x.shape == y.shape, f"{what}: {name} shape {x.shape} vs {y.shape}"
        assert np.array_equal(x, y), (
            f"{what}: {name} differs at {np.argwhere(x != y)[:5].tolist()} "
            f"({np.count_nonzero(x != y)} of {x.size} entries)")


def read_everything(path):
    """{dataset path: numpy array} for every dataset of an HDF5 file."""
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
    return out


def assert_same_file(a, b, what=""):
    """Bitwise equality of every dataset of two files read with read_everything."""
    assert sorted(a) == sorted(b), f"{what}: datasets differ: {sorted(a)} vs {sorted(b)}"
    for name in a:
        assert a[name].shape == b[name].shape, f"{what}: {name} shape {a[name].shape} vs {b[name].shape}"
        assert np.array_equal(a[name], b[name], equal_nan=True), f"{what}: {name} differs"


def deck_attr(output_file):
    """The resolved deck stored in an output file, parsed."""
    with h5py.File(output_file, "r") as f:
        text = f.attrs["deck"]
    if isinstance(text, bytes):
        text = text.decode()
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    return parser


def checkpoint_updates(path):
    with h5py.File(path, "r") as f:
        return int(f.attrs["updates_done"])


def wait_for(predicate, timeout, proc=None, poll=0.005):
    """Polls predicate until true (returns True), the process exits or timeout (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(poll)
    return False


def stop(proc, sig, timeout=120):
    """Sends sig (if still running) and returns the exit code."""
    if proc.poll() is None:
        proc.send_signal(sig)
    return proc.wait(timeout=timeout)


def kill_job(proc):
    """SIGKILL to proc and, when it is mpirun, to its ranks, like a node failure. Returns proc's
    exit code once every process is gone."""
    children = []
    try:
        for task in Path(f"/proc/{proc.pid}/task").iterdir():
            children += [int(p) for p in (task / "children").read_text().split()]
    except OSError:
        pass
    if proc.poll() is None:
        proc.kill()  # first, so that mpirun cannot exit on its own when its ranks die
    for pid in children:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    rc = proc.wait(timeout=60)

    def gone(pid):
        try:
            return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] in ("Z", "X")
        except OSError:
            return True

    assert wait_for(lambda: all(gone(pid) for pid in children), timeout=30), "ranks still alive"
    return rc
