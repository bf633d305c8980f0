"""Progress lines (output.progress_interval): rank 0 alone prints, at the interval, the output
file, the phase, update i of n, the rate, elapsed time, ETA and the acceptance since the last
line, and a last line at the end; plain lines in a log, one line updated in place on a terminal
(a real one for a single process, LATDIFF_TTY=1 under mpirun); none with interval 0; the
interval may change when a chain is extended."""

import os
import pty
import re
import subprocess

import pytest

from conftest import Latdiff, describe, write_deck

LINE = re.compile(r"prog\.h5: (thermalization|measuring), update (\d+) of (\d+) \(([\d.]+) %\), "
                  r"([\d.e+-]+) updates/s, elapsed ([^,]+), ETA ([^,]+), acceptance ([\d.]+)")
THERMALIZE, UPDATES = 6000, 6000
UP = "\033[A\033[2K"  # cursor up, erase line


def deck(tmp_path, updates=UPDATES):
    write_deck(tmp_path / "run.ini", {
        "lattice": {"dims": "16 16"},
        "action": {"form": "hopping", "kappa": 0.25, "lambda": 0.5},
        "sampler": {"type": "hmc", "md_steps": 4, "trajectory_length": 0.5},
        "run": {"seed": 3, "thermalize": THERMALIZE, "updates": updates, "start": "hot"},
        "output": {"file": "prog.h5", "checkpoint_every": 0}})


def progress(text):
    """(phase, update, total, percent, acceptance) of every progress line in text."""
    return [(m.group(1), int(m.group(2)), int(m.group(3)), float(m.group(4)), float(m.group(8)))
            for m in LINE.finditer(text)]


def check_lines(lines, total):
    assert len(lines) >= 2, lines
    updates = [u for _, u, _, _, _ in lines]
    assert updates == sorted(set(updates)), f"not printed once each, in order: {updates}"
    assert updates[-1] == total, "no last line at the end"
    for phase, update, n, percent, acceptance in lines:
        assert n == total
        assert phase == ("thermalization" if update <= THERMALIZE else "measuring"), lines
        assert percent == pytest.approx(100 * update / total, abs=0.06)
        assert 0 < acceptance <= 1


@pytest.mark.parametrize("ranks", [1, 2])
def test_plain_lines_in_a_log_from_rank_0_alone(tmp_path, ranks):
    deck(tmp_path)
    r = Latdiff(tmp_path).ok(["run.ini", "--output.progress_interval=0.02"], np=ranks)
    assert "\033" not in r.stdout
    lines = progress(r.stdout)
    check_lines(lines, THERMALIZE + UPDATES)
    # Each is a line of its own, before the summary.
    text = [line for line in r.stdout.splitlines() if LINE.search(line)]
    assert len(text) == len(lines) and all(LINE.fullmatch(t) for t in text), r.stdout
    assert r.stdout.index("latdiff summary") > r.stdout.rindex("prog.h5: ")


def test_one_line_updated_in_place_on_a_terminal(tmp_path):
    """A single process on a pseudo-terminal: each line after the first replaces the previous
    one (cursor up, erase line)."""
    deck(tmp_path)
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(Latdiff(tmp_path).command(["run.ini",
                                                       "--output.progress_interval=0.02"]),
                            cwd=tmp_path, stdout=secondary, stderr=subprocess.PIPE)
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(primary, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    out = b"".join(chunks).decode().replace("\r\n", "\n")  # the tty's own newline mapping
    check_in_place(out[:out.index("latdiff summary")])


def check_in_place(head):
    lines = head.splitlines()
    assert len(lines) >= 2 and LINE.fullmatch(lines[0]), repr(head)
    assert all(line.startswith(UP) and LINE.fullmatch(line[len(UP):]) for line in lines[1:]), \
        repr(head)
    check_lines(progress(head), THERMALIZE + UPDATES)


def test_latdiff_tty_marks_a_terminal_under_mpirun(tmp_path):
    deck(tmp_path)
    r = Latdiff(tmp_path).run(["run.ini", "--output.progress_interval=0.02"], np=2,
                              env={"LATDIFF_TTY": "1"})
    assert r.returncode == 0, describe(r)
    check_in_place(r.stdout[:r.stdout.index("latdiff summary")])


def test_interval_0_prints_none_and_the_interval_may_change_on_resume(tmp_path):
    deck(tmp_path, updates=100)
    r = Latdiff(tmp_path).ok(["run.ini", "--output.progress_interval=0"], np=2)
    assert not progress(r.stdout), r.stdout
    deck(tmp_path)
    r = Latdiff(tmp_path).ok(["run.ini", "--output.progress_interval=0.02"], np=2)
    assert "resumed from checkpoint" in r.stdout
    lines = progress(r.stdout)
    assert lines and lines[-1][1] == THERMALIZE + UPDATES, r.stdout


TRAINING = re.compile(r"model\.h5: training, configuration (\d+) of (\d+) \(([\d.]+) %\), "
                      r"[\d.e+-]+ configurations/s, elapsed [^,]+, ETA [^,\n]+$", re.M)


def test_the_training_stage_reports_its_configurations(tmp_path):
    """The warm-up chain reports like every chain, then the fit its configurations."""
    write_deck(tmp_path / "run.ini", {
        "lattice": {"dims": "8 8"},
        "action": {"form": "hopping", "kappa": 0.25, "lambda": 0.5},
        "sampler": {"type": "diffusion", "md_steps": 5},
        "diffusion": {"levels": 64, "beta_max": 8, "score": "trained", "depth": 2,
                      "model_file": "model.h5"},
        "training": {"thermalize": 20, "configurations": 200, "save_every": 1},
        "run": {"updates": 10, "start": "hot"},
        "output": {"file": "chain.h5"}})
    r = Latdiff(tmp_path).ok(["run.ini", "--output.progress_interval=0.001"], np=2)
    lines = [(int(a), int(b)) for a, b, _ in TRAINING.findall(r.stdout)]
    assert len(lines) >= 2, r.stdout
    assert [d for d, _ in lines] == sorted({d for d, _ in lines}), lines
    assert lines[-1] == (200, 200) and all(n == 200 for _, n in lines), lines
    assert "model.warmup.h5: measuring, update" in r.stdout, r.stdout
    assert r.stdout.index("training, configuration") < r.stdout.index("score model: fitted")
