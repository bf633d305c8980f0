"""latdiff-analyze: the command line (options, file grouping, exit codes).

Exit codes: 0 done; 1 an output file could not be written; 2 bad input (one line on stderr,
'latdiff-analyze: error: <file or option>: <what is wrong>', nothing written).
"""

import argparse
import os
import sys
import textwrap
from typing import List, Optional, Sequence

from .errors import InputError
from .files import REPLICA_FREE_KEYS, RunFile, point_difference, read_run
from .observables import Analysis, analyse, choose_cut
from .report import format_table, to_csv, to_json, write_all_atomically
from .thermalization import RULE

PROG = "latdiff-analyze"
EXIT_OK, EXIT_WRITE_FAILED, EXIT_BAD_INPUT = 0, 1, 2

DESCRIPTION = """\
Gamma-method analysis of latdiff output files: per file (or, with --replicas, per set of
replicas of one point) the value, error, tau_int and its error of <m>, <|m|>, <m^2>, <phi^2>,
<S/V>, chi = V(<m^2>-<|m|>^2), chi' = V<m^2>, the Binder cumulant U = 1-<m^4>/(3<m^2>^2),
and with /correlators <G(0)>, <G(pmin e_mu)> and xi_2; the acceptance and <exp(-dH)>."""

EPILOG = "\n".join(textwrap.fill(par, 92) for par in (
    "thermalization: measurements already exclude the deck's run.thermalize updates; "
    f"--thermalize drops N more measurements of each file. {RULE}.",
    f"replicas: files of one point (the same resolved deck except "
    f"{', '.join(REPLICA_FREE_KEYS)} and output.*), combined by Wolff's replica Gamma method; "
    "without --replicas every file is analysed on its own.",
    "exit codes: 0 done, 1 an output file could not be written, 2 bad input."))


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as the tool's one-line error."""

    def error(self, message):
        raise InputError("arguments", message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", metavar="FILE.h5", help="latdiff output files")
    p.add_argument("--thermalize", default="auto", metavar="N|auto",
                   help="measurements to drop at the start of each file, or auto (default)")
    p.add_argument("--json", metavar="OUT.json", help="write the results as JSON")
    p.add_argument("--csv", metavar="OUT.csv",
                   help="write the results as CSV, one row per file and observable")
    p.add_argument("--replicas", action="store_true",
                   help="combine all files as replicas of one point")
    return p


def parse_thermalize(text: str) -> Optional[int]:
    """None for auto, else the number of measurements; InputError for anything else."""
    if text.strip().lower() == "auto":
        return None
    t = text.strip()
    if t.isascii() and t.isdigit():
        return int(t)
    raise InputError("--thermalize", f"'{text}' is not allowed: give a number of measurements "
                                     "(an integer >= 0) or auto")


def _check_outputs(args, inputs: Sequence[str]) -> None:
    """Refuses output paths that cannot be written or would replace an input, before work."""
    seen = {}
    real_inputs = {os.path.realpath(p) for p in inputs}
    for option, path in (("--json", args.json), ("--csv", args.csv)):
        if path is None:
            continue
        real = os.path.realpath(path)
        if real in seen:
            raise InputError(option, f"'{path}' is also the {seen[real]} file: give two paths")
        seen[real] = option
        if real in real_inputs:
            raise InputError(option, f"'{path}' is an input file: give another path")
        if os.path.isdir(path):
            raise InputError(option, f"'{path}' is a directory: give a file path")
        parent = os.path.dirname(path) or "."
        if not os.path.isdir(parent):
            raise InputError(option, f"'{path}': directory '{parent}' does not exist")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise InputError(option, f"'{path}': directory '{parent}' is not writable")


def _replica_set(runs: List[RunFile]) -> None:
    """Refuses replicas that are not independent chains of one point."""
    first = runs[0]
    seen = {os.path.realpath(first.path): first.path}
    seeds = {first.deck.get("run.seed"): first.path}
    for r in runs[1:]:
        real = os.path.realpath(r.path)
        if real in seen:
            raise InputError("--replicas", f"{r.path} is given twice (as {seen[real]}): "
                                           "replicas must be distinct files")
        seen[real] = r.path
        key = point_difference(first, r)
        if key is not None:
            raise InputError("--replicas", f"{first.path} and {r.path} are different points "
                             f"({key} = '{first.deck.get(key, '')}' vs '{r.deck.get(key, '')}');"
                             f" replicas may differ only in {', '.join(REPLICA_FREE_KEYS)} and "
                             "output.*")
        seed = r.deck.get("run.seed")
        if seed in seeds:
            raise InputError("--replicas", f"{seeds[seed]} and {r.path} have the same run.seed "
                                           f"{seed}: replicas must be independent chains")
        seeds[seed] = r.path


def run(argv: Sequence[str]) -> List[Analysis]:
    """Parses argv, analyses, prints the table and writes --json/--csv; InputError if bad."""
    args = _parser().parse_args(list(argv))
    thermalize = parse_thermalize(args.thermalize)
    _check_outputs(args, args.files)
    runs = [read_run(path) for path in args.files]
    if args.replicas:
        _replica_set(runs)
        cuts = [choose_cut(r, thermalize) for r in runs]
        name = "replicas " + ", ".join(r.path for r in runs)
        analyses = [analyse(name, runs, cuts)]
    else:
        analyses = [analyse(r.path, [r], [choose_cut(r, thermalize)]) for r in runs]
    outputs = {}
    if args.json:
        outputs[args.json] = to_json(analyses)
    if args.csv:
        outputs[args.csv] = to_csv(analyses)
    try:
        write_all_atomically(outputs)
    except OSError as e:
        raise OSError(f"{' and '.join(outputs)}: cannot write: {e.strerror or e}") from None
    sys.stdout.write(format_table(analyses))
    sys.stdout.flush()
    return analyses


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The program: exit code, with errors as one line on stderr (no traceback)."""
    try:
        run(sys.argv[1:] if argv is None else argv)
    except InputError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # The reader of the table went away (| head): not an error of the analysis.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return EXIT_WRITE_FAILED
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return EXIT_OK
