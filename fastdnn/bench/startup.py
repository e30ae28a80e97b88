"""Start-up: a new process's time from launch to a 1-iteration training
done, with numba's cache warm and cold (compiling).

"Warm" means both caches a process reads at start-up: numba's compiled
kernels and Python's compiled modules (``__pycache__/*.pyc``). pip writes
the latter when it installs a package; a source checkout or an editable
install gets them at its first import, except under
``PYTHONDONTWRITEBYTECODE``, which would leave every later process to
compile the 52 fastdnn modules a fit imports from source (-X importtime:
about 0.03 s more on a Zen 4 host, median of six alternating imports).
The untimed run that fills numba's cache therefore writes them too.
"""
import tempfile
import time

from .timing import _median
from .workers import cached_child_env, run_json_child


_STARTUP = """
import json, os, sys, time
t0 = time.perf_counter()
import numpy as np
import fastdnn
t1 = time.perf_counter()
rng = np.random.RandomState(0)
X = rng.random_sample((12288, 209))
Y = (rng.random_sample((1, 209)) > 0.5).astype(float)
t2 = time.perf_counter()
fastdnn.get_backend("numba").L_layer_model(X, Y, [12288, 20, 7, 5, 1],
                                           0.0075, 1)
t3 = time.perf_counter()
done = time.time() - float(os.environ["FASTDNN_BENCH_LAUNCH"])
print(json.dumps({"import": t1 - t0, "train": t3 - t2, "done": done}))
"""


def _startup_once(cache_dir=None, write_bytecode=False):
    env = cached_child_env(cache_dir)
    if write_bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    t0 = time.perf_counter()
    env["FASTDNN_BENCH_LAUNCH"] = repr(time.time())
    inner = run_json_child(["-c", _STARTUP], env, "start-up")
    wall = time.perf_counter() - t0
    # "wall": from the launch of the process to the end of its training
    # (what the target asks); "exit": the rest, the interpreter's teardown
    # (its last garbage collection walks numba's many objects).
    inner["wall"] = inner.pop("done")
    inner["exit"] = wall - inner["wall"]
    return inner


def _startup(repeats, cold=True):
    # Fills numba's cache and Python's bytecode cache where they are empty.
    _startup_once(write_bytecode=True)
    keys = ("wall", "import", "train", "exit")
    warm = [_startup_once() for _ in range(max(3, repeats))]
    out = {"warm": {k: _median([w[k] for w in warm]) for k in keys}}
    if cold:
        with tempfile.TemporaryDirectory() as d:
            c = _startup_once(d)
        out["cold"] = c
    return out
