"""latdiff --check: validates a deck and its overrides without running anything, prints the
resolved deck once (the deck a run stores), and refuses bad input with the one line and exit
code a run would give."""

from configparser import ConfigParser

import pytest

from conftest import EXIT_BAD_INPUT, EXIT_OK, deck_attr, describe, write_deck

DECK = {"lattice": {"dims": "4 4"}, "action": {"kappa": "0.2", "lambda": "0.5"},
        "run": {"updates": "10"}, "output": {"file": "out.h5", "progress_interval": "0"}}


@pytest.mark.parametrize("ranks", [1, 2])
def test_check_prints_the_resolved_deck_and_writes_nothing(latdiff, ranks):
    deck = write_deck(latdiff.cwd / "deck.ini", DECK)
    r = latdiff.run(["--check", deck, "--action.kappa=0.25"], np=ranks)
    assert r.returncode == EXIT_OK, describe(r)
    assert r.stdout.count("[lattice]") == 1, "printed more than once"
    assert sorted(p.name for p in latdiff.cwd.iterdir()) == ["deck.ini"]
    # The same text a run stores as its resolved deck.
    latdiff.ok([deck, "--action.kappa=0.25"])
    assert deck_attr(latdiff.cwd / "out.h5")["action"]["kappa"] == "0.25"
    printed = ConfigParser(interpolation=None)
    printed.read_string(r.stdout)
    stored = deck_attr(latdiff.cwd / "out.h5")
    assert {s: dict(printed[s]) for s in printed.sections()} == \
        {s: dict(stored[s]) for s in stored.sections()}


@pytest.mark.parametrize("override, message", [
    ("--action.kappa=abc", "action.kappa: expected a real number, got 'abc'"),
    ("--sampler.typo=1", "sampler.typo"),
    ("--lattice.procs=3 1", "lattice.procs"),
])
def test_check_refuses_bad_input(latdiff, override, message):
    deck = write_deck(latdiff.cwd / "deck.ini", DECK)
    r = latdiff.run(["--check", deck, override], np=2)
    assert r.returncode == EXIT_BAD_INPUT, describe(r)
    assert r.stdout == "" and r.stderr.count("\n") == 1 and message in r.stderr, describe(r)
