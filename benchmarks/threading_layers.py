"""What numba's threading layer costs fastdnn's training, measured in
fresh processes.

    python benchmarks/threading_layers.py [--rounds N] [--layers tbb,omp]
                                          [--cases regions,W2-momentum,W2-adam]

fastdnn asks numba for TBB, its fork-safe layer (see docs/numerics.md,
"Threads"); GNU OpenMP (``omp``) launches a parallel region for less but
kills a child forked after one has run. This script trains the cases of
``fastdnn bench --workload`` (by key: ``W1-momentum``, ``W2-adam``,
``W3-float32``, ``W4-full``, ...) with ``NUMBA_THREADING_LAYER`` set to
each layer in turn, one process per layer and round, the layers
alternating so that a slow spell of the host falls on all of them; each
process times 5 epochs after a first (untimed) one and reports their
median. Printed: per case and layer, the median and range over the rounds
of those medians. Layers not installed are reported and skipped. Needs
``FASTDNN_DATA`` for the cat; the other cases make their data.

The case ``regions`` times a launch itself: an empty parallel region of
``prange(2)`` run back to back, and run after a serial stretch of about
35 us (a TBB worker has gone to sleep by then), in microseconds per
region.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

_WORKER = """
import json, sys, time
import numpy as np
import numba
from fastdnn.bench import workloads as wl
key = sys.argv[1]
case = wl.case_by_key(key)
X, Y, _ = wl.load_data(case.data)
train = wl.fastdnn_trainer(case, X, Y, case.solvers[0])
train(case.passes)
times = [train(case.passes)[2] for _ in range(5)]
print(json.dumps({"layer": numba.threading_layer(),
                  "seconds": float(np.median(times))}))
"""

_REGIONS = """
import json, time
import numpy as np
import numba
from numba import prange
import fastdnn  # noqa: F401  (its numba settings)

@numba.njit(parallel=True)
def region(x):
    for q in prange(2):
        x[q] += 1.0

@numba.njit
def stretch(x, k):
    s = 0.0
    for i in range(k):
        s += np.sqrt(s + i)
    x[0] += s * 1e-30

@numba.njit
def loop(x, n, k, launch):
    for i in range(n):
        if launch:
            region(x)
        stretch(x, k)

x = np.zeros(2)
loop(x, 10, 10, True)
loop(x, 10, 10, False)
out = {"layer": numba.threading_layer()}
for name, k in (("back to back", 0), ("after 35 us", 5000)):
    cost = []
    for _ in range(5):
        t0 = time.perf_counter(); loop(x, 2000, k, True)
        t1 = time.perf_counter(); loop(x, 2000, k, False)
        t2 = time.perf_counter()
        cost.append(((t1 - t0) - (t2 - t1)) / 2000 * 1e6)
    out[name] = float(np.median(cost))
print(json.dumps(out))
"""


def _run(layer, key):
    env = dict(os.environ, NUMBA_THREADING_LAYER=layer)
    code = _REGIONS if key == "regions" else _WORKER
    r = subprocess.run([sys.executable, "-c", code, key], env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip().splitlines()[-1:]
    return json.loads(r.stdout.strip().splitlines()[-1]), None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--layers", default="tbb,omp")
    p.add_argument("--cases", default="regions,W2-momentum,W2-adam")
    args = p.parse_args(argv)
    layers = args.layers.split(",")
    keys = args.cases.split(",")
    got = {(k, layer): [] for k in keys for layer in layers}
    for _ in range(args.rounds):
        for key in keys:
            for layer in layers:
                res, err = _run(layer, key)
                if res is None:
                    print("%s under %s failed: %s" % (key, layer, err))
                elif res["layer"] != layer:
                    print("%s: numba loaded %s, not %s" % (key, res["layer"],
                                                           layer))
                else:
                    got[key, layer].append(res)
    for (key, layer), results in got.items():
        if key == "regions":
            for name in ("back to back", "after 35 us"):
                us = [r[name] for r in results]
                if us:
                    print("region %-12s %-9s median %.2f us (%.2f - %.2f)"
                          % (name, layer, statistics.median(us), min(us),
                             max(us)))
            continue
        secs = [r["seconds"] for r in results]
        if secs:
            print("%-12s %-9s median %.3f s (%.3f - %.3f) over %d processes"
                  % (key, layer, statistics.median(secs), min(secs),
                     max(secs), len(secs)))


if __name__ == "__main__":
    main()
