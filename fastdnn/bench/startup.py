"""Start-up: a new process's time from launch to a 1-iteration training
done, with numba's cache warm and cold (compiling)."""
import tempfile
import time

from .timing import _median
from .workers import _child_env, run_json_child


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


def _startup_once(cache_dir=None):
    env = _child_env()
    env.pop("FASTDNN_NUMBA_CACHE", None)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
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
    _startup_once()  # fills the cache if it is empty
    keys = ("wall", "import", "train", "exit")
    warm = [_startup_once() for _ in range(max(3, repeats))]
    out = {"warm": {k: _median([w[k] for w in warm]) for k in keys}}
    if cold:
        with tempfile.TemporaryDirectory() as d:
            c = _startup_once(d)
        out["cold"] = c
    return out
