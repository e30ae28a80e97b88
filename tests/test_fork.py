"""A process that trained with the parallel kernels can still fork: a
multiprocessing pool with the fork start method, whose workers call
fastdnn themselves, finishes (GNU OpenMP, numba's default layer on Linux,
hangs or aborts such a child)."""
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="the fork start method is Linux's")

SCRIPT = textwrap.dedent("""
    import multiprocessing
    import numpy as np
    import numba
    import fastdnn
    from fastdnn import jit

    rng = np.random.RandomState(0)
    X = rng.rand(2000, 120)
    Y = (rng.rand(1, 120) > 0.5).astype(float)

    def train(solver):
        # 2000 x 120 x 20 multiply-adds per layer pass: the parallel kernels
        return float(jit.L_layer_model(X, Y, [2000, 20, 1], 0.01, 5,
                                       solver=solver)[1][0])

    want = [train("primal"), train("gram")]
    print("layer", numba.threading_layer(), flush=True)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        got = pool.map(train, ["primal", "gram", "primal", "gram"])
    assert got == want * 2, (got, want)
    print("ok", flush=True)
""")


def _run(env):
    try:
        return subprocess.run([sys.executable, "-c", SCRIPT], env=env,
                              capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("a fork-start pool after training did not finish in "
                    "120 s (hung)")


def test_fork_after_training_finishes():
    env = dict(os.environ)
    env.pop("NUMBA_THREADING_LAYER", None)
    r = _run(env)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.split()[-1] == "ok"
    # numba's fork-safe choice: TBB when installed, else workqueue.
    assert r.stdout.split()[1] in ("tbb", "workqueue")


# A parallel (primal) training, then the threading layer numba chose.
LAYER_SCRIPT = ("import numpy as np, numba, fastdnn\n"
                "X = np.random.rand(2000, 120)\n"
                "Y = (np.random.rand(1, 120) > 0.5) * 1.0\n"
                "fastdnn.jit.L_layer_model(X, Y, [2000, 20, 1], 0.01, 2,"
                " solver='primal')\n"
                "print(numba.threading_layer())\n")


def _run_layer_script(env):
    return subprocess.run([sys.executable, "-c", LAYER_SCRIPT], env=env,
                          capture_output=True, text=True, timeout=300)


def test_an_explicit_threading_layer_is_respected():
    env = dict(os.environ, NUMBA_THREADING_LAYER="workqueue")
    for layer in ("workqueue", "omp"):
        env["NUMBA_THREADING_LAYER"] = layer
        r = _run_layer_script(env)
        if r.returncode != 0 and "No threading layer" in r.stderr:
            continue  # that layer is not installed here
        assert r.returncode == 0, r.stderr[-3000:]
        assert r.stdout.split()[-1] == layer


def test_the_tbb_wheel_gives_numba_its_tbb_layer():
    # pip's tbb wheel puts libtbb.so.12 in <prefix>/lib, off the loader's
    # path: without fastdnn loading it first, numba falls back to
    # workqueue, whose launches cost ~10x more.
    from importlib import metadata
    try:
        metadata.distribution("tbb")
    except metadata.PackageNotFoundError:
        pytest.skip("the tbb wheel is not installed")
    env = dict(os.environ)
    env.pop("NUMBA_THREADING_LAYER", None)
    r = _run_layer_script(env)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.split()[-1] == "tbb"
