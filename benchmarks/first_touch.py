"""What the first write to fresh memory costs on this host, at the size of
the copy a mini-batch fit makes of a C-ordered X.

    python benchmarks/first_touch.py [--mb 188] [--blocks 10]

A fit on mini-batches gathers its batches from X^T, (m, n_x) in C order:
X in Fortran order (the course's layout, or the transpose of an (m, n_x)
array) is that already; a C-ordered X is transposed into a copy first
(60,000 x 784 float32: 188 MB). On a virtual machine the hypervisor may
back the guest's memory only when it is first written, and take back what
the guest frees: a write to memory the process has not used before can
then cost far more than the copy itself.

The script times, in one process, ``--blocks`` arrays of ``--mb`` MB each
allocated and filled, then as many of numpy's transposed copies of a
C-ordered array of that size, every one kept (each on memory new to the
process); then frees them all and times the same again (on the memory
just freed). Medians, with the range.
"""
import argparse
import statistics
import time

import numpy as np


def _fill_times(n_items, blocks):
    kept, times = [], []
    for _ in range(blocks):
        t0 = time.perf_counter()
        a = np.empty(n_items, np.float32)
        a.fill(0.0)
        times.append(time.perf_counter() - t0)
        kept.append(a)
    return times, kept


def _transpose_times(X, blocks, keep=True):
    kept, times = [], []
    for _ in range(blocks):
        t0 = time.perf_counter()
        XT = np.ascontiguousarray(X.T)
        times.append(time.perf_counter() - t0)
        if keep:
            kept.append(XT)
    return times, kept


def _line(label, times):
    return "%-44s median %7.3f s  (%.3f - %.3f)" % (
        label, statistics.median(times), min(times), max(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=188.0,
                        help="MB per array (188: 60,000 x 784 float32)")
    parser.add_argument("--blocks", type=int, default=10)
    args = parser.parse_args(argv)
    n_items = int(args.mb * 1e6 / 4)
    n_x = 784
    X = np.ones((n_x, n_items // n_x), np.float32)
    # New memory first, everything kept; then all of it freed and the
    # same again on it.
    fresh, kept = _fill_times(n_items, args.blocks)
    fresh_t, kept_t = _transpose_times(X, args.blocks)
    del kept, kept_t
    reused, kept = _fill_times(n_items, args.blocks)
    del kept
    reused_t, _ = _transpose_times(X, args.blocks, keep=False)
    print(_line("allocate + fill, new memory", fresh))
    print(_line("allocate + fill, memory freed just before", reused))
    print(_line("C-ordered X -> X^T copy, new memory", fresh_t))
    print(_line("C-ordered X -> X^T copy, reused memory", reused_t))


if __name__ == "__main__":
    main()
