"""Bad input: exit code 2, exactly one stderr line `latdiff: error: ...` naming the key or
file, no summary, and not a byte of any file in the working directory created, changed or
removed -- neither in a fresh directory nor next to the output and checkpoint of an earlier
good run."""

import os
import shutil
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import (EXIT_BAD_INPUT, Latdiff, assert_same_chain, deck_attr, describe,
                      read_output, write_deck)

DECK = {
    "lattice": {"dims": "8 12"},
    "action": {"form": "hopping", "kappa": 0.2, "lambda": 0.5},
    "sampler": {"type": "metropolis", "step": 1.5},
    "run": {"seed": 5, "updates": 20, "start": "hot"},
    "output": {"file": "out.h5", "save_every": 10},
}


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    """A directory with run.ini and the output (out.h5, out.ckpt.h5) of a good run of it, and
    small.h5, the output of the same deck on an 8 x 8 lattice."""
    d = tmp_path_factory.mktemp("good")
    write_deck(d / "run.ini", DECK)
    ld = Latdiff(d)
    ld.ok(["run.ini"])
    ld.ok(["run.ini", "--lattice.dims=8 8", "--output.file=small.h5"])
    (d / "small.ckpt.h5").unlink()
    # Outputs of other chains under the same file name: another kappa, another lattice.
    others = (("other_kappa.h5", "--action.kappa=0.15"), ("other_dims.h5", "--lattice.dims=8 8"))
    for name, extra in others:
        other = d / "other"
        other.mkdir()
        shutil.copy(d / "run.ini", other)
        Latdiff(other).ok(["run.ini", extra])
        shutil.move(other / "out.h5", d / name)
        shutil.rmtree(other)
    return d


def snapshot(directory):
    """Every file under directory with its bytes."""
    files = sorted(p for p in Path(directory).rglob("*") if p.is_file())
    return {str(p.relative_to(directory)): p.read_bytes() for p in files}


def corrupt_garbage(d):
    (d / "out.ckpt.h5").write_bytes(b"this is not an HDF5 file\n" * 40)


def corrupt_truncated(d):
    p = d / "out.ckpt.h5"
    p.write_bytes(p.read_bytes()[:3000])


def corrupt_one_value(d):
    # A valid HDF5 file whose configuration no longer matches the stored checksum.
    with h5py.File(d / "out.ckpt.h5", "r+") as f:
        phi = f["phi"][()]
        phi[3, 5] = np.nextafter(phi[3, 5], np.inf)
        f["phi"][...] = phi


def write_junk_start(d):
    (d / "junk.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)


def remove_output(d):
    (d / "out.h5").unlink()


def output_of(name):
    """Replaces out.h5 by the output of another chain (as if another deck had written it since
    the checkpoint)."""
    def setup(d):
        shutil.copy(d / name, d / "out.h5")
    return setup


def bad_deck(text):
    def setup(d):
        (d / "bad.ini").write_text((d / "run.ini").read_text() + text)
    return setup


def deck_bytes(name, transform):
    """Writes name: the bytes of run.ini passed through transform(bytes)."""
    def setup(d):
        (d / name).write_bytes(transform((d / "run.ini").read_bytes()))
    return setup


def fifo(name):
    def setup(d):
        os.mkfifo(d / name)
    return setup


BIG_DECK = deck_bytes("big.ini", lambda b: b + b"#" * (1 << 20) + b"\n")
CR_DECK = deck_bytes("cr.ini", lambda b: b.replace(b"\n", b"\r"))
NUL_DECK = deck_bytes("nul.ini", lambda b: b.replace(b"start = hot", b"start = h\0ot"))
LATIN1_DECK = deck_bytes("latin1.ini", lambda b: b + "# café\n".encode("latin-1"))
UTF16_DECK = deck_bytes("utf16.ini", lambda b: b.decode().encode("utf-16"))


# id, ranks, arguments after nothing (the deck is named in args), substrings the error line
# must contain, setup(dir) run after the directory is prepared, and where the case applies:
# "fresh" (no earlier output), "existing" (an earlier run's out.h5 and out.ckpt.h5 present,
# with --run.resume=never so that the bad input is met on the fresh-start path), "resume"
# (earlier output present, default resume=auto: checkpoint problems).
CASES = [
    ("unknown_key_in_deck", 1, ["bad.ini"], ["run.bogus", "bad.ini"],
     bad_deck("[run]\nbogus = 1\n"), "fresh existing"),
    ("unknown_section_in_deck", 1, ["bad.ini"], ["bogus"], bad_deck("[bogus]\nx = 1\n"),
     "fresh existing"),
    ("unknown_key_on_command_line", 1, ["run.ini", "--sampler.bogus=3"], ["sampler.bogus"], None,
     "fresh existing"),
    ("misspelt_key_on_command_line", 1, ["run.ini", "--action.kapa=0.1"], ["action.kapa"], None,
     "fresh existing"),
    ("unknown_key_on_command_line_np2", 2, ["run.ini", "--run.bogus=1"], ["run.bogus"], None,
     "fresh"),
    ("wrong_type", 1, ["run.ini", "--run.updates=ten"], ["run.updates", "ten"], None,
     "fresh existing"),
    ("wrong_type_in_deck", 1, ["bad.ini"], ["sampler.hits"], bad_deck("[sampler]\nhits = 2.5\n"),
     "fresh"),
    ("negative_lambda", 1, ["run.ini", "--action.lambda=-1"], ["action.lambda"], None,
     "fresh existing"),
    ("zero_step", 1, ["run.ini", "--sampler.step=0"], ["sampler.step"], None, "fresh existing"),
    ("zero_extent", 1, ["run.ini", "--lattice.dims=0 8"], ["lattice.dims"], None,
     "fresh existing"),
    ("five_dimensions", 1, ["run.ini", "--lattice.dims=4 4 4 4 4"], ["lattice.dims"], None,
     "fresh"),
    ("unknown_sampler", 1, ["run.ini", "--sampler.type=gibbs"], ["sampler.type", "gibbs"], None,
     "fresh"),
    ("non_finite_kappa", 1, ["run.ini", "--action.kappa=nan"], ["action.kappa"], None, "fresh"),
    ("unbounded_free_field", 1, ["run.ini", "--action.lambda=0", "--action.kappa=0.3"],
     ["action.kappa"], None, "fresh"),
    ("procs_not_dividing", 2, ["run.ini", "--lattice.procs=3 1"], ["lattice.procs"], None,
     "fresh existing"),
    ("procs_product_not_ranks", 2, ["run.ini", "--lattice.dims=9 12", "--lattice.procs=3 1"],
     ["lattice.procs"], None, "fresh existing"),
    ("procs_too_many_ranks", 2, ["run.ini", "--lattice.procs=2 2"], ["lattice.procs"], None,
     "fresh"),
    ("procs_wrong_length", 1, ["run.ini", "--lattice.procs=1 1 1"], ["lattice.procs"], None,
     "fresh"),
    ("no_grid_of_4_ranks", 4, ["run.ini", "--lattice.dims=6 5"], ["lattice.procs"], None,
     "fresh existing"),
    ("missing_deck", 1, ["nonexistent.ini"], ["nonexistent.ini"], None, "fresh existing"),
    ("deck_is_a_directory", 1, ["deckdir.ini", "--lattice.dims=8 12"], ["deckdir.ini"],
     lambda d: (d / "deckdir.ini").mkdir(), "fresh existing"),
    ("missing_deck_np2", 2, ["nonexistent.ini"], ["nonexistent.ini"], None, "fresh"),
    ("deck_is_a_directory_np2", 2, ["deckdir.ini"], ["deckdir.ini", "directory"],
     lambda d: (d / "deckdir.ini").mkdir(), "fresh"),
    ("deck_is_dev_zero", 1, ["/dev/zero"], ["/dev/zero", "character device"], None,
     "fresh existing"),
    ("deck_is_dev_zero_np2", 2, ["/dev/zero"], ["/dev/zero"], None, "fresh"),
    ("deck_is_a_fifo", 1, ["fifo.ini"], ["fifo.ini", "FIFO"], fifo("fifo.ini"), "fresh existing"),
    ("deck_is_a_fifo_np2", 2, ["fifo.ini"], ["fifo.ini", "FIFO"], fifo("fifo.ini"), "fresh"),
    ("deck_over_1_mib", 1, ["big.ini"], ["big.ini", "1 MiB"], BIG_DECK, "fresh existing"),
    ("deck_over_1_mib_np2", 2, ["big.ini"], ["big.ini", "1 MiB"], BIG_DECK, "fresh"),
    ("deck_with_cr_only_line_endings", 1, ["cr.ini"], ["cr.ini", "CR only"], CR_DECK,
     "fresh existing"),
    ("deck_with_cr_only_line_endings_np2", 2, ["cr.ini"], ["cr.ini", "CR only"], CR_DECK,
     "fresh"),
    ("deck_with_nul_byte", 1, ["nul.ini"], ["nul.ini", "NUL byte", "'start = h\\x00ot'"],
     NUL_DECK, "fresh existing"),
    ("deck_with_nul_byte_np2", 2, ["nul.ini"], ["nul.ini", "NUL byte"], NUL_DECK, "fresh"),
    ("deck_not_utf8", 1, ["latin1.ini"], ["latin1.ini", "UTF-8", "'# caf\\xe9'"], LATIN1_DECK,
     "fresh existing"),
    ("deck_in_utf16", 1, ["utf16.ini"], ["utf16.ini", "NUL byte"], UTF16_DECK, "fresh"),
    ("control_character_in_deck", 1, ["ctl.ini"], ["run.start", "'h\\x1bot'"],
     deck_bytes("ctl.ini", lambda b: b.replace(b"start = hot", b"start = h\x1bot")), "fresh"),
    ("path_not_utf8_on_command_line", 1, ["run.ini", "--output.file=caf\udce9.h5"],
     ["output.file", "'caf\\xe9.h5'"], None, "fresh existing"),
    ("updates_beyond_int64", 1, ["run.ini", "--run.updates=9223372036854775807"],
     ["run.updates", "2^62"], None, "fresh existing"),
    ("updates_beyond_int64_np2", 2, ["run.ini", "--run.updates=9223372036854775807"],
     ["run.updates", "2^62"], None, "fresh"),
    ("thermalize_plus_updates_beyond_2_62", 1,
     ["run.ini", "--run.thermalize=4611686018427387904", "--run.updates=1"],
     ["run.updates", "run.thermalize + run.updates", "2^62"], None, "fresh existing"),
    ("save_every_beyond_2_62", 1, ["run.ini", "--output.save_every=9223372036854775807"],
     ["output.save_every", "2^62"], None, "fresh"),
    ("missing_start_file", 1, ["run.ini", "--run.start=missing.h5"], ["run.start", "missing.h5"], None,
     "fresh existing"),
    ("missing_start_file_np2", 2, ["run.ini", "--run.start=missing.h5"], ["run.start", "missing.h5"], None,
     "fresh existing"),
    ("start_file_not_hdf5", 1, ["run.ini", "--run.start=junk.h5"], ["run.start", "junk.h5"], write_junk_start,
     "fresh existing"),
    ("start_file_other_shape", 1, ["run.ini", "--run.start=small.h5"], ["run.start", "small.h5"], None,
     "fresh existing"),
    ("start_file_other_shape_np2", 2, ["run.ini", "--run.start=small.h5"], ["run.start", "small.h5"], None,
     "fresh existing"),
    ("start_index_out_of_range", 1,
     ["run.ini", "--lattice.dims=8 8", "--run.start=small.h5", "--run.start_index=7"],
     ["run.start", "small.h5"], None, "fresh existing"),
    ("checkpoint_garbage", 1, ["run.ini"], ["out.ckpt.h5"], corrupt_garbage, "resume"),
    ("checkpoint_garbage_np2", 2, ["run.ini"], ["out.ckpt.h5"], corrupt_garbage, "resume"),
    ("checkpoint_truncated", 1, ["run.ini"], ["out.ckpt.h5"], corrupt_truncated, "resume"),
    ("checkpoint_checksum", 1, ["run.ini"], ["out.ckpt.h5"], corrupt_one_value, "resume"),
    ("checkpoint_checksum_np2", 2, ["run.ini"], ["out.ckpt.h5"], corrupt_one_value, "resume"),
    ("checkpoint_other_kappa", 1, ["run.ini", "--action.kappa=0.21"],
     ["action.kappa", "out.ckpt.h5"], None, "resume"),
    ("checkpoint_other_kappa_np2", 2, ["run.ini", "--action.kappa=0.21"], ["action.kappa"], None,
     "resume"),
    ("checkpoint_other_seed", 1, ["run.ini", "--run.seed=6"], ["run.seed"], None, "resume"),
    ("checkpoint_other_sampler", 1, ["run.ini", "--sampler.type=hmc"], ["sampler.type"], None,
     "resume"),
    ("checkpoint_beyond_run_length", 1, ["run.ini", "--run.updates=10"], ["run.updates"], None,
     "resume"),
    ("checkpoint_without_output", 1, ["run.ini"], ["output.file"], remove_output, "resume"),
    ("output_of_another_chain", 1, ["run.ini", "--run.updates=40"], ["out.h5", "action.kappa"],
     output_of("other_kappa.h5"), "resume"),
    ("output_of_another_lattice", 1, ["run.ini", "--run.updates=40"], ["out.h5", "lattice.dims"],
     output_of("other_dims.h5"), "resume"),
    ("output_of_another_lattice_np2", 2, ["run.ini", "--run.updates=40"], ["out.h5"],
     output_of("other_dims.h5"), "resume"),
]

PARAMS = [pytest.param(c, mode, id=f"{c[0]}-{mode}") for c in CASES for mode in c[5].split()]


@pytest.mark.parametrize("case,mode", PARAMS)
def test_bad_input(case, mode, good_run, tmp_path):
    _, ranks, args, expect, setup, _ = case
    shutil.copy(good_run / "run.ini", tmp_path)
    for name in ("small.h5", "other_kappa.h5", "other_dims.h5"):
        shutil.copy(good_run / name, tmp_path)
    if mode in ("existing", "resume"):
        for name in ("out.h5", "out.ckpt.h5"):
            shutil.copy(good_run / name, tmp_path)
    if mode == "existing":
        args = args + ["--run.resume=never"]
    if setup:
        setup(tmp_path)
    before = snapshot(tmp_path)

    try:
        r = Latdiff(tmp_path).run(args, np=ranks, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("latdiff hung on bad input")

    assert r.returncode == EXIT_BAD_INPUT, describe(r)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one stderr line, got:\n{r.stderr}"
    assert lines[0].startswith("latdiff: error: "), lines[0]
    for word in expect:
        assert word in lines[0], f"error line does not name {word!r}: {lines[0]}"
    assert "summary" not in r.stdout
    after = snapshot(tmp_path)
    assert sorted(after) == sorted(before), "files created or removed"
    for name, data in before.items():
        assert after[name] == data, f"{name} was modified"


@pytest.mark.parametrize("name,ranks,transform", [
    ("bom", 1, lambda b: b"\xef\xbb\xbf" + b),
    ("crlf", 1, lambda b: b.replace(b"\n", b"\r\n")),
    ("bom_crlf_np2", 2, lambda b: b"\xef\xbb\xbf" + b.replace(b"\n", b"\r\n")),
], ids=["bom", "crlf", "bom_crlf_np2"])
def test_deck_with_bom_or_crlf_runs_like_the_plain_deck(name, ranks, transform, good_run,
                                                        tmp_path):
    (tmp_path / "run.ini").write_bytes(transform((good_run / "run.ini").read_bytes()))
    Latdiff(tmp_path).ok(["run.ini"], np=ranks, timeout=120)
    assert_same_chain(read_output(tmp_path / "out.h5"), read_output(good_run / "out.h5"), name)
    assert deck_attr(tmp_path / "out.h5") == deck_attr(good_run / "out.h5")
