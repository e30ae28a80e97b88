"""Whether the host slows one of the two cores at times, and what that does
to a training on two threads against one.

    python benchmarks/core_probe.py [--case W3-float32] [--seconds 300]
                                    [--iterations 100]

On a shared virtual machine the hypervisor can give one of the guest's
cores less time than the other for seconds on end without the guest
seeing it as steal time. A parallel region then waits for the slower
core. This script repeats, for ``--seconds``, rounds of three
measurements in one process:

- the case of ``fastdnn bench --workload`` (by key: ``W3-float32``,
  ``W2-adam``, ...) trained for ``--iterations`` iterations (or passes) on
  all of numba's threads, then on one thread, then with the thread count
  chosen block by block as the training loops do by default
  (:mod:`fastdnn._threads`; the two fixed counts are run with that choice
  turned off); the same bits every time;
- the probe of ``fastdnn bench`` (:func:`fastdnn.bench.machine.core_probe`,
  also taken before each run of ``--workload``): a chain of dependent
  multiply-adds on registers alone (no memory traffic, nothing shared
  between threads), as a parallel region of two equal chains, one per
  thread, against one chain on one thread. Its ratio (two chains over one)
  is about 1.15 when both cores run at full speed, and grows with how much
  the slower one lags.

Printed: each round (time per iteration in microseconds, the probe's
ratio), then the rounds grouped by the probe's ratio, with the medians of
the three trainings' times in each group. Needs ``FASTDNN_DATA`` for the cat;
the other cases make their data.
"""
import argparse
import statistics
import time

import numba

import fastdnn  # noqa: F401  (its numba settings: the threading layer)
from fastdnn import _numba_config
from fastdnn.bench import workloads
from fastdnn.bench.machine import core_probe

#: Probe readings that bound the groups of the summary.
GROUPS = ((0.0, 1.3), (1.3, 2.0), (2.0, float("inf")))


def _per_iteration(train, iterations):
    t = time.perf_counter()
    train(iterations)
    return (time.perf_counter() - t) / iterations * 1e6


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--case", default="W3-float32")
    p.add_argument("--seconds", type=float, default=300.0)
    p.add_argument("--iterations", type=int, default=100)
    args = p.parse_args(argv)
    try:
        case = workloads.case_by_key(args.case)
    except ValueError as exc:
        p.error(str(exc))
    X, Y, _ = workloads.load_data(case.data)
    train = workloads.fastdnn_trainer(case, X, Y, case.solvers[0])
    threads = numba.get_num_threads()
    # Compile everything before the first timed round.
    train(args.iterations)
    core_probe()
    print("%s, %d iterations a round; numba %s, %d threads (%s)"
          % (case.key, args.iterations, numba.__version__, threads,
             numba.threading_layer()))
    rounds = []
    end = time.monotonic() + args.seconds
    setting = _numba_config.ADAPTIVE_THREADS
    try:
        while time.monotonic() < end:
            _numba_config.ADAPTIVE_THREADS = False
            many = _per_iteration(train, args.iterations)
            numba.set_num_threads(1)
            one = _per_iteration(train, args.iterations)
            numba.set_num_threads(threads)
            _numba_config.ADAPTIVE_THREADS = True
            chosen = _per_iteration(train, args.iterations)
            ratio = core_probe()
            rounds.append((many, one, chosen, ratio))
            print("%d threads %6.0f us/it   1 thread %6.0f   chosen %6.0f"
                  "   probe %.2f" % (threads, many, one, chosen, ratio),
                  flush=True)
    finally:
        numba.set_num_threads(threads)
        _numba_config.ADAPTIVE_THREADS = setting
    print("\nprobe ratio   rounds   median us/it: %d threads   1 thread"
          "   chosen" % threads)
    for lo, hi in GROUPS:
        group = [r for r in rounds if lo <= r[3] < hi]
        if group:
            print("[%.1f, %.1f)   %6d   %21.0f   %8.0f   %6.0f"
                  % ((lo, hi, len(group))
                     + tuple(statistics.median(r[i] for r in group)
                             for i in range(3))))


if __name__ == "__main__":
    main()
