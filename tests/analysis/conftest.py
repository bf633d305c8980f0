"""Shared helpers of the analysis tests: latdiff-analyze runs, latdiff runs, fake output files.

latdiff comes from $LATDIFF (ctest sets it), else build-tests/ or build/ of this tree; tests
that need it are skipped when it is not there. Fake files have latdiff's layout (README "Output
file") with chosen series, for the cases that need no simulation.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
ANALYZE = ROOT / "analysis" / "latdiff-analyze"

os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")

FAKE_DECK = """# latdiff resolved deck (fake, tests/analysis)

[lattice]
dims = {dims}

[action]
form = hopping
kappa = {kappa}
lambda = 0.5

[run]
seed = {seed}
thermalize = {thermalize}
updates = {updates}
measure_every = 1
resume = auto

[output]
file = {file}
correlators = none
"""


def analyze(*args, cwd=None):
    """Runs latdiff-analyze with this interpreter; the CompletedProcess (text)."""
    return subprocess.run([sys.executable, str(ANALYZE), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def analyze_json(tmp_path, *args):
    """latdiff-analyze ... --json; the parsed document (asserts success)."""
    out = tmp_path / "analysis.json"
    r = analyze(*args, "--json", out)
    assert r.returncode == 0, r.stderr
    return json.loads(out.read_text())


def observables(doc, index=0):
    return doc["analyses"][index]["observables"]


def fake_run(path, mag, phi2=None, action=None, dims=(4, 4), kappa=0.1, seed=1,
             thermalize=0, accept=None, deck=True):
    """Writes a file with latdiff's layout holding the given series; returns its path."""
    mag = np.asarray(mag, dtype=float)
    n = mag.size
    with h5py.File(path, "w") as f:
        if deck:
            f.attrs["deck"] = FAKE_DECK.format(dims=" ".join(map(str, dims)), kappa=kappa,
                                               seed=seed, thermalize=thermalize, updates=n,
                                               file=Path(path).name)
        f.attrs["lattice_dims"] = np.asarray(dims, dtype=np.int32)
        f["observables/step"] = np.arange(thermalize + 1, thermalize + n + 1, dtype=np.int64)
        f["observables/mag"] = mag
        f["observables/phi2"] = mag**2 + 1.0 if phi2 is None else np.asarray(phi2, float)
        f["observables/action_density"] = (np.zeros(n) if action is None
                                           else np.asarray(action, float))
        acc = np.ones(thermalize + n) if accept is None else np.asarray(accept, float)
        f["sampler/accept"] = acc
    return Path(path)


def latdiff_binary():
    """$LATDIFF when set (ctest), else build-tests/latdiff or build/latdiff; None if absent."""
    env = os.environ.get("LATDIFF")
    candidates = [env] if env else [ROOT / "build-tests" / "latdiff", ROOT / "build" / "latdiff"]
    for c in candidates:
        if os.access(str(c), os.X_OK) and os.path.isfile(str(c)):
            return str(c)
    return None


@pytest.fixture
def latdiff():
    """run(dir, deck_text, *overrides, name="run.h5") -> (output path, stdout); skipped
    without latdiff. The output file is dir/name whatever the deck says."""
    binary = latdiff_binary()
    if binary is None:
        pytest.skip(f"no latdiff binary ({os.environ.get('LATDIFF') or 'build-tests/latdiff'}); "
                    "set LATDIFF")

    def run(cwd, deck, *overrides, name="run.h5"):
        deck_path = Path(cwd) / (Path(name).stem + ".ini")
        deck_path.write_text(deck)
        r = subprocess.run([binary, str(deck_path), "--output.progress_interval=0",
                            f"--output.file={name}", *overrides], cwd=cwd,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, f"latdiff failed, rc={r.returncode}\n{r.stdout}\n{r.stderr}"
        return Path(cwd) / name, r.stdout

    return run
