"""Reading and validating latdiff output files (README "Output file (HDF5)").

Everything is read and checked at once, so the analysis never meets a half-valid file: an
InputError names the file and what is missing instead of a KeyError deep inside numpy.
"""

import os
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import numpy as np

from .errors import InputError

# Deck keys that may differ between replicas of one point (seeds, lengths, file names).
REPLICA_FREE_KEYS = ("run.seed", "run.updates", "run.resume")
REPLICA_FREE_SECTIONS = ("output",)


@dataclass
class Correlators:
    """Rows of /correlators: one per measurement, or block means of `block` measurements."""

    step: np.ndarray    # int64 [n_corr], update number of the (block's last) measurement
    g0: np.ndarray      # float64 [n_corr]
    gpmin: np.ndarray   # float64 [n_corr, d]
    block: int          # measurements per row (1 for output.correlators = measurement)


@dataclass
class RunFile:
    """One latdiff output file, read completely (row datasets as numpy arrays)."""

    path: str
    deck_text: str
    deck: Dict[str, str]          # "section.key" -> value, as written in the resolved deck
    dims: Tuple[int, ...]
    step: np.ndarray              # /observables/step
    mag: np.ndarray
    phi2: np.ndarray
    action_density: np.ndarray
    nn: Optional[np.ndarray]      # /observables/nn, (1/(dV)) sum phi_x phi_{x+mu} (not in
    #                               files of versions before it)
    accept: Optional[np.ndarray]  # /sampler/accept, every update (thermalization included)
    delta_h: Optional[np.ndarray]
    ess: Optional[np.ndarray]
    correlators: Optional[Correlators]
    thermalize: int               # run.thermalize: updates before the first measurement
    measure_every: int

    @property
    def volume(self) -> int:
        return int(np.prod(self.dims))

    @property
    def measurements(self) -> int:
        return int(self.mag.size)


def parse_deck(text: str) -> Dict[str, str]:
    """The resolved deck's INI text as {"section.key": value}; '#' starts a comment."""
    deck: Dict[str, str] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif "=" in line:
            key, value = line.split("=", 1)
            deck[f"{section}.{key.strip()}"] = value.strip()
    return deck


def point_difference(a: RunFile, b: RunFile) -> Optional[str]:
    """The first deck key in which a and b are different points, or None for one point."""
    keys = sorted(set(a.deck) | set(b.deck))
    for key in keys:
        if key in REPLICA_FREE_KEYS or key.split(".", 1)[0] in REPLICA_FREE_SECTIONS:
            continue
        if a.deck.get(key) != b.deck.get(key):
            return key
    return None


def _row_dataset(f, path: str, name: str, ndim: int = 1) -> np.ndarray:
    obj = f.get(name)
    if obj is None or not hasattr(obj, "shape"):
        raise InputError(path, f"not a complete latdiff output file: no dataset /{name}")
    if len(obj.shape) != ndim:
        raise InputError(path, f"/{name} has shape {obj.shape}, latdiff writes {ndim}D rows")
    return np.asarray(obj[()], dtype=np.int64 if name.endswith("step") else float)


def _optional(f, path: str, name: str) -> Optional[np.ndarray]:
    return _row_dataset(f, path, name) if name in f else None


def _deck_int(deck: Dict[str, str], key: str, path: str, default: int) -> int:
    value = deck.get(key)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise InputError(path, f"deck attribute: {key} = '{value}' is not an integer") from None


def _read_correlators(f, path: str, deck: Dict[str, str], d: int) -> Optional[Correlators]:
    if "correlators" not in f or "correlators/G0" not in f:
        return None
    step = _row_dataset(f, path, "correlators/step")
    g0 = _row_dataset(f, path, "correlators/G0")
    gpmin = _row_dataset(f, path, "correlators/Gpmin", ndim=2)
    if not (step.size == g0.size == gpmin.shape[0]) or gpmin.shape[1] != d:
        raise InputError(path, f"/correlators: step, G0 and Gpmin have {step.size}, {g0.size} "
                               f"and {gpmin.shape} rows; latdiff writes n, n and (n, {d})")
    block = 1
    if deck.get("output.correlators") == "block":
        block = _deck_int(deck, "output.block_measurements", path, 100)
    return Correlators(step, g0, gpmin, max(block, 1))


def read_run(path: str) -> RunFile:
    """Reads one latdiff output file; InputError when it is missing, not HDF5 or not latdiff's."""
    if not os.path.exists(path):
        raise InputError(path, "no such file")
    if not os.path.isfile(path):
        raise InputError(path, "not a regular file (give latdiff output files, *.h5)")
    import h5py  # here, so that the Gamma method alone needs numpy only

    try:
        is_hdf5 = h5py.is_hdf5(path)
    except OSError as e:
        raise InputError(path, f"cannot read: {e.strerror or e}") from None
    if not is_hdf5:
        raise InputError(path, "not an HDF5 file (give latdiff output files, *.h5)")
    try:
        with h5py.File(path, "r") as f:
            return _read_open(f, path)
    except (OSError, KeyError, RuntimeError) as e:  # h5py's errors of a damaged file
        raise InputError(path, f"cannot read as HDF5: {e}") from None


def _read_open(f, path: str) -> RunFile:
    deck_attr = f.attrs.get("deck")
    if deck_attr is None:
        raise InputError(path, "HDF5 but not latdiff output: no root attribute 'deck'")
    if isinstance(deck_attr, bytes):
        deck_attr = deck_attr.decode("utf-8", errors="replace")
    if not isinstance(deck_attr, str):
        raise InputError(path, "HDF5 but not latdiff output: root attribute 'deck' is no string")
    if "observables/mag" not in f:
        raise InputError(path, "HDF5 but not latdiff output: no dataset /observables/mag")
    dims_attr = f.attrs.get("lattice_dims")
    dims = tuple(int(x) for x in np.atleast_1d(dims_attr)) if dims_attr is not None else ()
    if not dims or min(dims) < 1:
        raise InputError(path, "not a complete latdiff output file: no root attribute "
                               "'lattice_dims' with positive extents")
    deck = parse_deck(deck_attr)
    mag = _row_dataset(f, path, "observables/mag")
    step = _row_dataset(f, path, "observables/step")
    phi2 = _row_dataset(f, path, "observables/phi2")
    action = _row_dataset(f, path, "observables/action_density")
    nn = _optional(f, path, "observables/nn")
    sizes_agree = mag.size == step.size == phi2.size == action.size
    if not sizes_agree or (nn is not None and nn.size != mag.size):
        raise InputError(path, f"/observables rows differ in length (mag {mag.size}, step "
                               f"{step.size}, phi2 {phi2.size}, action_density {action.size}"
                               f"{'' if nn is None else f', nn {nn.size}'})")
    return RunFile(
        path=path, deck_text=deck_attr, deck=deck, dims=dims, step=step, mag=mag, phi2=phi2,
        action_density=action, nn=nn, accept=_optional(f, path, "sampler/accept"),
        delta_h=_optional(f, path, "sampler/delta_h"), ess=_optional(f, path, "sampler/ess"),
        correlators=_read_correlators(f, path, deck, len(dims)),
        thermalize=_deck_int(deck, "run.thermalize", path, 0),
        measure_every=_deck_int(deck, "run.measure_every", path, 1))
