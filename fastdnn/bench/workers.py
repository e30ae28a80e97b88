"""The worker process: the numpy reference, and numba beside it.

The numpy reference runs in a process of its own, started with or without
the OpenBLAS variables of :data:`~.machine.BLAS_ENV`
(``python -m fastdnn.bench --worker SPEC``, which prints its result as one
JSON line). The worker without them also times numba's trainings and
kernels, in turn with numpy's, so that each target's ratio is taken within
one process.
"""
import json
import os
import subprocess
import sys
import time

import numpy as np

from .machine import BLAS_ENV, _blas_info
from .problem import (DIMS, KERNELS, LEARNING_RATE, NUMBA_RUNS,
                      _kernel_args, _load_problem)
from .timing import (PAIR_PAUSE, _time_kernel_cases, _time_kernels,
                     _time_trainings)


def _numpy_worker(spec):
    """In its own process: the reference's training and numpy's kernels,
    and with ``spec["paired"]`` numba's trainings and kernels too, timed in
    turn with the reference's and numpy's (the targets' ratios are taken
    within this one process)."""
    from .. import reference
    from ..registry import REGISTRY

    X, Y, source = _load_problem(spec["data"])
    n, repeats = spec["iterations"], spec["repeats"]
    trains = {"reference": lambda k: (
        reference.L_layer_model(X, Y, DIMS, LEARNING_RATE, k), None)}
    first = {}
    if spec.get("paired"):
        for solver, dtype in NUMBA_RUNS:
            key = "%s|%s" % (solver, dtype)
            trains[key], first[key] = _numba_train(X, Y, solver, dtype)
    timed = _time_trainings(trains, n, repeats,
                            pause=PAIR_PAUSE if first else 0.0)
    seconds, times, (_, costs) = timed.pop("reference")
    out = {"blas": _blas_info(),
           "blas_env": {k: os.environ.get(k) for k in BLAS_ENV},
           "source": source, "seconds": seconds, "times": times,
           "costs": _numbers(costs), "kernels": {}}
    if first:
        out["numba"] = {key: {"seconds": sec, "times": t,
                              "costs": _numbers(r[1]),
                              "first_call": first[key]}
                        for key, (sec, t, r) in timed.items()}
    for key, op, layout, _ in KERNELS:
        for dtype in ("float64", "float32"):
            out["kernels"]["%s|%s" % (key, dtype)] = _time_kernels(
                [REGISTRY[op]["numpy-raw"]], _kernel_args(op, layout, dtype),
                max(3, repeats))[0]
    if first:
        out["paired"] = _numba_kernels(repeats)
    return out


def _numbers(costs):
    """The costs a training recorded (0-d arrays, as the course records
    them) as floats, which the worker's JSON line can carry."""
    return [float(c) for c in costs]


def _child_env():
    """``os.environ`` for a child process, with the folder that holds this
    fastdnn first on ``PYTHONPATH``, so that the child measures this same
    fastdnn (a source checkout too, not an installed copy)."""
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


def cached_child_env(cache_dir=None):
    """:func:`_child_env` with numba's on-disk cache on (whatever
    ``FASTDNN_NUMBA_CACHE`` says here), in ``cache_dir`` when given: what
    the start-up and compile-time measurements' processes run in."""
    env = _child_env()
    env.pop("FASTDNN_NUMBA_CACHE", None)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    return env


def run_json_child(args, env, what):
    """Run ``python ARGS`` with the environment ``env`` and return the JSON
    object it printed on the last line of its output; RuntimeError "the
    <what> process failed:" with the end of its stderr when it fails."""
    proc = subprocess.run([sys.executable] + list(args), env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError("the %s process failed:\n" % what
                           + proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _run_worker(spec, unset_blas_env):
    env = _child_env()
    if unset_blas_env:
        for k in BLAS_ENV:
            env.pop(k, None)
    return run_json_child(["-m", "fastdnn.bench", "--worker",
                           json.dumps(spec)], env, "numpy benchmark")


def _numba_train(X, Y, solver, dtype):
    """``(train, seconds of its first call)``: the first call (compiling or
    loading the kernels) is made here, so that no timed run includes it."""
    from .. import jit

    Xd = np.ascontiguousarray(X, dtype=dtype)

    def train(k):
        return jit.L_layer_model(Xd, Y, DIMS, LEARNING_RATE, k,
                                 solver=solver), None

    t0 = time.perf_counter()
    train(1)
    return train, time.perf_counter() - t0


def _numba_kernels(repeats):
    """numba's kernels, each paired in this process with numpy's: every
    kernel and dtype timed in each round (see :func:`_time_kernel_cases`).
    Returns ``{"key|dtype": (numba seconds, numpy seconds)}``."""
    from ..registry import REGISTRY
    cases = {}
    for key, op, layout, _ in KERNELS:
        for dtype in ("float64", "float32"):
            cases["%s|%s" % (key, dtype)] = (
                [REGISTRY[op]["numba"], REGISTRY[op]["numpy-raw"]],
                _kernel_args(op, layout, dtype))
    return {name: tuple(t) for name, t in _time_kernel_cases(
        cases, max(5, 2 * repeats), pause=PAIR_PAUSE).items()}
