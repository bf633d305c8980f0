"""latdiff-analyze: the command line (options, file grouping, exit codes).

Exit codes: 0 done; 1 an output file could not be written; 2 bad input (one line on stderr,
'latdiff-analyze: error: <file or option>: <what is wrong>', nothing written).
"""

import argparse
import json
import math
import os
import sys
import textwrap
from typing import List, Optional, Sequence, Tuple

from .errors import InputError
from .files import REPLICA_FREE_KEYS, RunFile, point_difference, read_run
from .observables import Analysis, analyse, choose_cut
from .plots import plot_run
from .report import format_table, to_csv, to_json, write_all_atomically
from .collapse import NU_MAX, NU_MIN
from .scan import is_scan_dir, read_scan, scan_inputs
from .scan_plots import plot_scan
from .scan_report import collapses, format_scan, to_scan_json
from .thermalization import RULE

PROG = "latdiff-analyze"
EXIT_OK, EXIT_WRITE_FAILED, EXIT_BAD_INPUT = 0, 1, 2

DESCRIPTION = """\
Gamma-method analysis of latdiff output files, or of a scan directory of jobs/scan. Files:
per file (or, with --replicas, per set of replicas of one point) the value, error, tau_int
and its error of <m>, <|m|>, <m^2>, <phi^2>, <S/V>, chi = V(<m^2>-<|m|>^2), chi' = V<m^2>,
the Binder cumulant U = 1-<m^4>/(3<m^2>^2), and with /correlators <G(0)>, <G(pmin e_mu)> and
xi_2; the acceptance and <exp(-dH)>.
SCANDIR:the same for every point (seeds of one point combined as replicas), then per lattice
size the observables against the scanned coupling, the crossings of U and xi_2/L between
sizes (reweighted between simulated couplings where S is linear in the coupling), the
critical coupling with its error, and finite-size-scaling collapses of U and chi."""

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
    p.add_argument("files", nargs="+", metavar="FILE.h5|SCANDIR",
                   help="latdiff output files, or one scan directory")
    p.add_argument("--thermalize", default="auto", metavar="N|auto",
                   help="measurements to drop at the start of each file, or auto (default)")
    p.add_argument("--json", metavar="OUT.json", help="write the results as JSON")
    p.add_argument("--csv", metavar="OUT.csv",
                   help="write the results as CSV, one row per file and observable")
    p.add_argument("--replicas", action="store_true",
                   help="combine all files as replicas of one point")
    p.add_argument("--plots", metavar="DIR",
                   help="write PNG plots of every file (and of the scan) into DIR")
    p.add_argument("--coupling", metavar="KEY",
                   help="SCANDIR: the scanned deck key to analyse against (default: the one "
                        "scanned key besides lattice.dims and run.seed)")
    p.add_argument("--nu", type=float, help="SCANDIR: fix nu in the collapses (default: fit)")
    p.add_argument("--gamma-nu", type=float, dest="gamma_nu",
                   help="SCANDIR: fix gamma/nu in the chi collapse (default: fit)")
    p.add_argument("--critical", type=float,
                   help="SCANDIR: fix the critical coupling in the collapses (default: fit, "
                        "from the U crossing of the two largest sizes)")
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


def _check_collapse_options(args) -> None:
    for option, value, positive in (("--nu", args.nu, True), ("--gamma-nu", args.gamma_nu, False),
                                    ("--critical", args.critical, False)):
        if value is None:
            continue
        if not math.isfinite(value) or (positive and not NU_MIN <= value <= NU_MAX):
            allowed = f"a number in [{NU_MIN}, {NU_MAX}]" if positive else "a finite number"
            raise InputError(option, f"'{value}' is not allowed: give {allowed}")


def _analyse_files(args, thermalize) -> List[Analysis]:
    runs = [read_run(path) for path in args.files]
    if args.replicas:
        _replica_set(runs)
        cuts = [choose_cut(r, thermalize) for r in runs]
        name = "replicas " + ", ".join(r.path for r in runs)
        analyses = [analyse(name, runs, cuts)]
    else:
        analyses = [analyse(r.path, [r], [choose_cut(r, thermalize)]) for r in runs]
    if args.plots:
        for a in analyses:
            for c in a.files:
                plot_run(c.path, args.plots, cut=c.cut)
    return analyses


def _analyse_scan(args, thermalize) -> Tuple[List[Analysis], str, Optional[str]]:
    """Point analyses, the scan's table text and its JSON."""
    directory = args.files[0]
    if len(args.files) > 1:
        raise InputError(directory, "a scan directory is analysed on its own: give one "
                                    "SCANDIR, or output files")
    if args.replicas:
        raise InputError("--replicas", "not for a scan directory: the seeds of one point are "
                                       "combined as replicas anyway")
    scan = read_scan(directory, args.coupling, thermalize)
    found = collapses(scan, args.nu, args.gamma_nu, args.critical)
    analyses = [p.analysis for p in scan.points]
    if args.plots:
        points_dir = os.path.join(args.plots, "points")
        os.makedirs(points_dir, exist_ok=True)
        for p in scan.points:
            for run, cut in zip(p.runs, p.cuts):
                plot_run(run.path, points_dir, cut=cut)
        plot_scan(scan, found, args.plots)
    text = format_table(analyses) + format_scan(scan, found)
    data = None
    if args.json:
        data = to_scan_json(scan, found, json.loads(to_json(analyses)))
    return analyses, text, data


def run(argv: Sequence[str]) -> List[Analysis]:
    """Parses argv, analyses, prints the table and writes --json/--csv and --plots;
    InputError if bad."""
    args = _parser().parse_args(list(argv))
    thermalize = parse_thermalize(args.thermalize)
    scan_mode = any(is_scan_dir(f) for f in args.files)
    _check_collapse_options(args)
    _check_outputs(args, scan_inputs(args.files[0]) if scan_mode else args.files)
    if args.plots:
        try:
            os.makedirs(args.plots, exist_ok=True)
        except OSError as e:
            raise InputError("--plots", f"'{args.plots}': cannot create it "
                                        f"({e.strerror or e})") from None
    if scan_mode:
        analyses, text, scan_data = _analyse_scan(args, thermalize)
    else:
        analyses = _analyse_files(args, thermalize)
        text, scan_data = format_table(analyses), None
    outputs = {}
    if args.json:
        outputs[args.json] = scan_data if scan_data is not None else to_json(analyses)
    if args.csv:
        outputs[args.csv] = to_csv(analyses)
    try:
        write_all_atomically(outputs)
    except OSError as e:
        raise OSError(f"{' and '.join(outputs)}: cannot write: {e.strerror or e}") from None
    sys.stdout.write(text)
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
