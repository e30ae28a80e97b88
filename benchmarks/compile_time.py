"""Compile cost of the numba backend, measured in fresh processes.

    python benchmarks/compile_time.py [--repeat N] [--fit KEY ...]
                                      [--no-warmup]

Each measurement starts a new Python process with its own empty (cold) or
filled (cached) ``NUMBA_CACHE_DIR`` and times, inside it:

- ``import``: ``import fastdnn`` (numba itself included);
- ``warmup``: :func:`fastdnn.warmup`, every kernel for float32 and float64;
- ``first call``: in a separate process, one
  ``fastdnn.L_model_forward`` + ``L_model_backward`` on a tiny float64
  network, which compiles (or loads) only what that call needs;
- ``fit KEY`` (``--fit KEY``, repeatable): in a separate process, the
  first training of ``fastdnn bench``'s workload case KEY (``W1-momentum``,
  ``W1-adam``, ``W3-float32``, ``W4-full``, ...): its network, dtype,
  optimizer and batch size over 512 random examples, one pass, which
  compiles (or loads) what that run uses.

Cold = nothing cached; cached = the same directory again, as a user's next
process would find it. Medians over ``--repeat`` fresh cache directories.
"""
import argparse
import statistics
import tempfile

_WARMUP = """
import json, time
t0 = time.perf_counter()
import fastdnn
t1 = time.perf_counter()
fastdnn.warmup()
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "warmup": t2 - t1}))
"""

_FIRST_CALL = """
import json, time
import numpy as np
import fastdnn
X = np.random.RandomState(0).rand(4, 3)
p = fastdnn.initialize_parameters_deep([4, 3, 1])
t0 = time.perf_counter()
AL, caches = fastdnn.L_model_forward(X, p)
fastdnn.L_model_backward(AL, np.array([[1, 0, 1]]), caches)
print(json.dumps({"first call": time.perf_counter() - t0}))
"""


_FIRST_FIT = """
import json, sys, time
from fastdnn.bench.workloads import (case_by_key, fastdnn_trainer,
                                    random_examples)
case = case_by_key(sys.argv[1])
X, Y = random_examples(case, 512)
train = fastdnn_trainer(case, X, Y, "primal")
t0 = time.perf_counter()
train(1)
print(json.dumps({"fit " + case.key: time.perf_counter() - t0}))
"""


def _run(code, cache_dir, args=()):
    from fastdnn.bench.workers import cached_child_env, run_json_child

    return run_json_child(["-c", code] + list(args),
                          cached_child_env(cache_dir), "measuring")


def measure(repeat=3, fits=(), warmup=True):
    """``{(state, what): [seconds, ...]}`` over ``repeat`` cache dirs."""
    runs = ([(_WARMUP, ())] if warmup else []) + [(_FIRST_CALL, ())] + [
        (_FIRST_FIT, (key,)) for key in fits]
    results = {}
    for _ in range(repeat):
        for code, args in runs:
            with tempfile.TemporaryDirectory() as cache_dir:
                for state in ("cold", "cached"):
                    for what, t in _run(code, cache_dir, args).items():
                        results.setdefault((state, what), []).append(t)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fit", action="append", default=[],
                        metavar="KEY", help="time the first training of "
                        "this workload case too (repeatable)")
    parser.add_argument("--no-warmup", action="store_true",
                        help="leave out fastdnn.warmup() (minutes cold)")
    args = parser.parse_args(argv)
    results = measure(args.repeat, args.fit, not args.no_warmup)
    print("%-8s %-16s %10s   (median of %d fresh processes)"
          % ("state", "step", "seconds", args.repeat))
    for (state, what), ts in sorted(results.items()):
        print("%-8s %-16s %10.3f" % (state, what, statistics.median(ts)))


if __name__ == "__main__":
    main()
