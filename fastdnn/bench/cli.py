"""The command line of ``fastdnn bench`` and ``python -m fastdnn.bench``:
its options, and writing the result's files to ``--out``."""
import argparse
import json
import os
import sys

from .charts import _plot, _plot_kernels
from .problem import QUICK_ITERATIONS
from .report import _markdown, _print_table
from .workers import _numpy_worker
from .workload_report import plot_workloads, print_workloads, \
    workload_markdown
from .workloads import WORKLOAD_NAMES


def _parser():
    p = argparse.ArgumentParser(
        prog="fastdnn bench",
        description="Benchmark the numba backend against the numpy "
                    "reference (and PyTorch / scikit-learn when installed)."
                    " Prints a table; writes bench.json, bench.md, "
                    "bench.png and bench_kernels.png to --out.")
    p.add_argument("--repeats", type=int, default=3,
                   help="timed repeats of each measurement; medians are "
                        "reported (default 3)")
    p.add_argument("--quick", action="store_true",
                   help="%d training iterations (times scaled to 2500), "
                        "smaller scaling sizes" % QUICK_ITERATIONS)
    p.add_argument("--out", default="bench-results",
                   help="folder for bench.json, bench.md and the PNG charts "
                        "(default ./bench-results)")
    p.add_argument("--data", default=None,
                   help="folder with the cat dataset (default "
                        "$FASTDNN_DATA; cat-shaped noise if not found)")
    p.add_argument("--check", action="store_true",
                   help="exit with status 1 if a target fails")
    p.add_argument("--no-peers", action="store_true",
                   help="skip PyTorch and scikit-learn")
    p.add_argument("--no-startup", action="store_true",
                   help="skip the start-up measurements")
    p.add_argument("--no-scaling", action="store_true",
                   help="skip the scaling measurements")
    p.add_argument("--workload", action="append",
                   choices=WORKLOAD_NAMES + ("all",),
                   help="train a workload with fastdnn and the peers (JAX,"
                        " PyTorch, scikit-learn when installed), timed in "
                        "turn: mnist-shape (784-256-128-10, batch 128), "
                        "mnist-shape-32 (batch 32, and the per-step "
                        "overhead), digits (64-64-10 tanh, full batch), cat"
                        " (the seed's training against the peers, and "
                        "mini-batch gram against primal; with the headline "
                        "run above), all; repeatable. Without it: the "
                        "headline run only")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--workload-worker", help=argparse.SUPPRESS)
    return p


def _workload_names(args):
    names = args.workload or []
    if "all" in names:
        return list(WORKLOAD_NAMES)
    return [n for n in WORKLOAD_NAMES if n in names]


def main(argv=None):
    """Entry point of ``fastdnn bench`` and ``python -m fastdnn.bench``.

    Returns the exit status: 0, or 1 when ``--check`` is given and a target
    (of the headline run or of a ``--workload``) fails.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    if args.worker:
        print(json.dumps(_numpy_worker(json.loads(args.worker))))
        return 0
    if args.workload_worker:
        from .workload_run import workload_worker
        print(json.dumps(workload_worker(json.loads(args.workload_worker))))
        return 0
    if args.repeats < 1:
        _parser().error("--repeats must be >= 1")
    args.argv = argv
    # The output folder first: a bad --out fails now, not after minutes.
    if not args.out or os.path.isfile(args.out):
        _parser().error("--out must name a folder for the results, got %r"
                        % args.out)
    os.makedirs(args.out, exist_ok=True)
    # run and run_workloads are looked up on the package when called, not
    # imported: code that replaces fastdnn.bench.run (the tests, to skip
    # minutes of measuring) replaces what main runs.
    package = sys.modules[__package__]
    names = _workload_names(args)
    headline = not names or "cat" in names
    res = package.run(args) if headline else {"targets": []}
    if names:
        res["workloads"] = package.run_workloads(
            names, repeats=args.repeats, quick=args.quick,
            peers=not args.no_peers, data=args.data)
    with open(os.path.join(args.out, "bench.json"), "w") as f:
        json.dump(res, f, indent=1, default=float)
    md = _markdown(res) if headline else "# fastdnn bench\n"
    if names:
        md += "\n" + workload_markdown(res["workloads"])
    with open(os.path.join(args.out, "bench.md"), "w") as f:
        f.write(md)
    written = ["bench.json", "bench.md"]
    if headline:
        _plot(res, os.path.join(args.out, "bench.png"))
        written.append("bench.png")
        if _plot_kernels(res, os.path.join(args.out, "bench_kernels.png")):
            written.append("bench_kernels.png")
    if names:
        plot_workloads(res["workloads"],
                       os.path.join(args.out, "bench_workloads.png"))
        written.append("bench_workloads.png")
    print()
    if headline:
        _print_table(res)
    if names:
        print()
        print_workloads(res["workloads"])
    print("\nwrote %s" % ", ".join(os.path.join(args.out, f)
                                   for f in written))
    failed = [t for t in res["targets"] + res.get("workloads", {}).get(
        "targets", []) if t["status"] == "FAIL"]
    if args.check and failed:
        print("FAILED targets: %s" % ", ".join(t["key"] for t in failed))
        return 1
    return 0
