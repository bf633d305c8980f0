#!/usr/bin/python3
"""Weak- and strong-scaling table of bench_scaling (issue 10) at 1, 2 and 4 MPI ranks.

Runs BUILD/tests/benchmarks/bench_scaling under mpirun once per rank count (with
--oversubscribe where the ranks outnumber the cores), keeps Google Benchmark's JSON in
--json-dir, and prints a markdown table of the medians: time per update (sweep, trajectory or
FFT pair) of the slowest rank, global site-updates per second, parallel efficiency against the
1-rank row (weak: t1 / tP; strong: t1 / (P tP)) and the per-rank copy bandwidth that
BM_ScalingCopy measured in the same run, every rank copying at once. Rows with more ranks than
cores are flagged: they measure time sharing, not scaling.

    /usr/bin/python3 tests/benchmarks/scaling_report.py build
    /usr/bin/python3 tests/benchmarks/scaling_report.py build --no-run   # re-read the JSON
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

NAME = re.compile(r"BM_Scaling(\w+)/(weak|strong)/d:(\d+)/L:(\d+)/")
KERNELS = {"Metropolis": "Metropolis sweep", "Hmc": "HMC trajectory", "Fft": "FFT pair",
           "FftPipelined": "FFT pair, pipelined"}
UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
SUPERSCRIPT = {2: "²", 3: "³"}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("build", help="build directory holding tests/benchmarks/bench_scaling")
    p.add_argument("--ranks", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--repetitions", type=int, default=3)
    p.add_argument("--filter", default="", help="--benchmark_filter regex (default: all)")
    p.add_argument("--json-dir", help="where the JSON goes (default: BUILD/scaling-json)")
    p.add_argument("--no-run", action="store_true", help="tabulate the JSON already there")
    p.add_argument("--mpirun", default="mpirun")
    return p.parse_args()


def cores():
    return len(os.sched_getaffinity(0))


def json_path(json_dir, ranks):
    return os.path.join(json_dir, f"scaling_np{ranks}.json")


def run(args, json_dir, ranks):
    bench = os.path.join(args.build, "tests", "benchmarks", "bench_scaling")
    cmd = [args.mpirun, "-np", str(ranks)]
    if ranks > cores():
        cmd.append("--oversubscribe")
    cmd += [bench, f"--benchmark_repetitions={args.repetitions}",
            "--benchmark_report_aggregates_only=true",
            f"--benchmark_out={json_path(json_dir, ranks)}", "--benchmark_out_format=json"]
    if args.filter:
        cmd.append(f"--benchmark_filter={args.filter}")
    env = dict(os.environ)
    if os.geteuid() == 0:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    print(f"running: {' '.join(cmd)}", file=sys.stderr)
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)


def medians(path):
    """{(kernel, scaling, d, L): benchmark entry} of the median aggregates in one JSON file."""
    with open(path) as f:
        data = json.load(f)
    rows = {}
    for b in data["benchmarks"]:
        m = NAME.match(b["name"])
        if m and b.get("aggregate_name") == "median":
            rows[(m[1], m[2], int(m[3]), int(m[4]))] = b
    return data["context"], rows


def dims(d, L, scaling, ranks):
    """(per-rank, global) extents: weak grows axis 0 with the ranks, strong splits it."""
    if scaling == "weak":
        return [L] * d, [ranks * L] + [L] * (d - 1)
    return [L // ranks] + [L] * (d - 1), [L] * d


def extent(e):
    if len(set(e)) == 1:
        return f"{e[0]}{SUPERSCRIPT.get(len(e), '^' + str(len(e)))}"
    return "×".join(map(str, e))


def seconds(b):
    return b["real_time"] * UNITS[b["time_unit"]]


def table(results, ncores):
    keys = sorted({k for rows in results.values() for k in rows if k[0] in KERNELS},
                  key=lambda k: (list(KERNELS).index(k[0]), k[1] == "strong", k[2], k[3]))
    out = ["| kernel | scaling | lattice per rank | global | ranks | oversubscribed "
           "| ms per update | Msite-updates/s | efficiency | copy GB/s per rank |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for kernel, scaling, d, L in keys:
        base = results.get(1, {}).get((kernel, scaling, d, L))
        for ranks in sorted(results):
            b = results[ranks].get((kernel, scaling, d, L))
            if b is None:
                continue
            local, glob = dims(d, L, scaling, ranks)
            over = f"yes ({ranks} ranks, {ncores} cores)" if b.get("oversub") else "no"
            t = seconds(b)
            eff = "–"
            if base is not None:
                ideal = seconds(base) if scaling == "weak" else seconds(base) / ranks
                eff = f"{100 * ideal / t:.0f} %"
            copy = results[ranks].get(("Copy", scaling, d, L))
            bw = f"{copy['B/s'] / 1e9:.1f}" if copy else "–"
            out.append(f"| {KERNELS[kernel]} | {scaling} | {extent(local)} | {extent(glob)} "
                       f"| {ranks} | {over} | {1e3 * t:.3g} | {b['sites/s'] / 1e6:.4g} "
                       f"| {eff} | {bw} |")
    return "\n".join(out)


def main():
    args = parse_args()
    json_dir = args.json_dir or os.path.join(args.build, "scaling-json")
    os.makedirs(json_dir, exist_ok=True)
    load = os.getloadavg()[0]
    start = time.time()
    if not args.no_run:
        for ranks in args.ranks:
            run(args, json_dir, ranks)
    results, context = {}, None
    for ranks in args.ranks:
        if os.path.exists(json_path(json_dir, ranks)):
            context, results[ranks] = medians(json_path(json_dir, ranks))
    if not results:
        sys.exit(f"scaling_report: no JSON in {json_dir}")
    first = next(iter(results[min(results)].values()))
    ncores = int(first.get("cores", cores()))
    print(f"bench_scaling, medians of {first['repetitions']} repetitions, {ncores} cores "
          f"({context['host_name']}, {context['date']})", end="")
    if not args.no_run:
        print(f"; load average {load:.2f} before, {os.getloadavg()[0]:.2f} after "
              f"{time.time() - start:.0f} s", end="")
    print(".\n")
    print(table(results, ncores))


if __name__ == "__main__":
    main()
