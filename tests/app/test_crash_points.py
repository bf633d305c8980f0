"""A crash at any point of the I/O sequence loses nothing: with LATDIFF_FAULT every rank ends
with _exit(99) at a named point (after creating the output file, after truncating it on a
resume, after an append, inside a checkpoint write, between sync and rename, after the
rename); one chain is crashed at every point in turn, and the reruns end with an output file
bitwise equal to that of an uninterrupted run."""

import os

import pytest

from conftest import Latdiff, assert_same_file, describe, read_everything, write_deck

FAULT_EXIT = 99

# 70 updates; checkpoints at updates 20, 40, 60 and 70 (the end); configuration saves (each a
# flush of the buffered rows and an append of the field) at 25, 40, 55 and 70.
DECK = {
    "lattice": {"dims": "8 12"},
    "action": {"form": "hopping", "kappa": 0.26, "lambda": 0.6},
    "sampler": {"type": "hmc", "md_steps": 4, "trajectory_length": 0.8},
    "run": {"seed": 31337, "thermalize": 10, "updates": 60, "measure_every": 2, "start": "hot"},
    "output": {"file": "chain.h5", "save_every": 15, "checkpoint_every": 20,
               "correlators": "block", "block_measurements": 4, "coarse": "true"},
}

# (point, visit): each run of the sequence crashes there; the comment says what it leaves.
SEQUENCE = [
    ("after_create", 1),      # an output file without rows, no checkpoint
    ("checkpoint_write", 1),  # a half-written chain.ckpt.h5.tmp, still no checkpoint
    ("before_rename", 1),     # a complete, verified .tmp that never became the checkpoint
    ("after_rename", 1),      # the first checkpoint (update 20)
    ("after_truncate", 1),    # resumed from update 20, rows after it discarded
    ("after_append", 3),      # rows of updates 21-40 appended, the configuration of 40 not
    ("checkpoint_write", 2),  # checkpoint 40 replaced, checkpoint 60 half written
    ("before_rename", 2),     # checkpoint 60 taken, the final one (70) not renamed
    ("after_rename", 1),      # the final checkpoint written, the summary never printed
]


@pytest.mark.parametrize("ranks", [1, 2, 4])
def test_crash_at_every_point_then_rerun_is_bitwise_an_uninterrupted_run(tmp_path, ranks):
    ref_dir = tmp_path / "reference"
    ref_dir.mkdir()
    write_deck(ref_dir / "run.ini", DECK)
    Latdiff(ref_dir).ok(["run.ini"], np=ranks)
    reference = read_everything(ref_dir / "chain.h5")

    d = tmp_path / "crashed"
    d.mkdir()
    write_deck(d / "run.ini", DECK)
    ld = Latdiff(d)
    try:
        for point, visit in SEQUENCE:
            os.environ["LATDIFF_FAULT"] = f"{point}:{visit}"
            r = ld.run(["run.ini"], np=ranks, timeout=120)
            assert r.returncode == FAULT_EXIT, f"no crash at {point}:{visit}\n{describe(r)}"
    finally:
        del os.environ["LATDIFF_FAULT"]
    final = ld.ok(["run.ini"], np=ranks)
    assert "resumed from checkpoint" in final.stdout
    assert_same_file(read_everything(d / "chain.h5"), reference, f"after the crashes, np {ranks}")
