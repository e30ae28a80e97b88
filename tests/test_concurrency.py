"""Every backend is safe to call from many threads at once, and a full
training run stays within a fixed memory budget."""
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import fastdnn

N_THREADS = 8
#: Peak resident memory allowed for a whole process that imports fastdnn,
#: compiles its kernels and trains the seed's 4-layer model in float64.
PEAK_MEMORY_MB = 500


def _jobs(B):
    rng = np.random.RandomState(0)
    X = rng.rand(300, 57)
    Y = (rng.rand(1, 57) > 0.5).astype(int)
    dims = [300, 20, 7, 5, 1]
    params = B.initialize_parameters_deep(dims)

    def forward_backward():
        AL, caches = B.L_model_forward(X, params)
        return B.L_model_backward(AL, Y, caches)

    def layer():
        return B.linear_activation_forward(X, params["W1"], params["b1"],
                                           "relu")[0]

    def train():
        return B.L_layer_model(X, Y, dims, 0.01, 30)[0]

    def cost():
        return B.compute_cost(B.L_model_forward(X, params)[0], Y)

    return [forward_backward, layer, train, cost]


def _flatten(result):
    if isinstance(result, dict):
        return [result[k] for k in sorted(result)]
    return [result]


@pytest.mark.parametrize("backend", sorted(fastdnn.BACKENDS))
def test_threads_give_the_serial_results(backend):
    B = fastdnn.get_backend(backend)
    jobs = _jobs(B)
    serial = [job() for job in jobs]
    with ThreadPoolExecutor(N_THREADS) as pool:
        futures = [pool.submit(jobs[i % len(jobs)])
                   for i in range(4 * N_THREADS)]
        results = [f.result() for f in futures]
    for i, result in enumerate(results):
        want = _flatten(serial[i % len(jobs)])
        for got, exp in zip(_flatten(result), want):
            np.testing.assert_array_equal(got, exp)


def _blas_limits():
    from threadpoolctl import threadpool_info
    return {(i["filepath"], i["internal_api"]): i["num_threads"]
            for i in threadpool_info() if i["user_api"] == "blas"}


@pytest.mark.parametrize("dims", [[2000, 20, 7, 1], [2000, 1]],
                         ids=["3-layer", "1-layer"])
def test_gram_runs_from_threads_are_the_serial_run_bit_for_bit(dims):
    # X^T X of this size is multi-threaded in BLAS: its rounding, and so
    # every later value, depended on the BLAS threads a run got, and the
    # process-wide one-thread limit that the solver set around it raced
    # between threads (and could leave numpy on one thread).
    pytest.importorskip("threadpoolctl")
    rng = np.random.RandomState(1)
    X = rng.rand(2000, 150)
    Y = (rng.rand(1, 150) > 0.5).astype(float)
    limits = _blas_limits()

    def train():
        return fastdnn.jit.L_layer_model(X, Y, dims, 0.01, 20,
                                         solver="gram")

    def unchanged():
        # Each library's limit as before (training may load another).
        now = _blas_limits()
        return {k: now.get(k) for k in limits} == limits

    serial = train()
    assert unchanged()
    with ThreadPoolExecutor(N_THREADS) as pool:
        results = list(pool.map(lambda _: train(), range(4 * N_THREADS)))
    assert unchanged()
    for parameters, costs in results:
        assert costs == serial[1]
        for k in serial[0]:
            np.testing.assert_array_equal(parameters[k], serial[0][k])


@pytest.mark.parametrize("layer", ["workqueue", "omp"])
def test_threads_under_every_threading_layer(layer):
    # numba's workqueue layer aborts the whole process when two threads
    # launch parallel kernels at once; fastdnn must fall back to its serial
    # kernels there instead. Run in a child, since an abort kills it.
    script = textwrap.dedent("""
        import sys
        sys.path.insert(0, %r)
        import test_concurrency as t
        t.test_threads_give_the_serial_results("numba")
        import numba
        print("layer", numba.threading_layer())
    """ % os.path.dirname(__file__))
    env = dict(os.environ, NUMBA_THREADING_LAYER=layer)
    r = subprocess.run([sys.executable, "-c", script], env=env,
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0 and "No threading layer could be loaded" in r.stderr:
        pytest.skip("numba's %s layer is not available here" % layer)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split()[-1] == layer


@pytest.mark.slow
@pytest.mark.data
@pytest.mark.skipif(not os.path.exists("/proc/self/status"),
                    reason="reads the peak from Linux's /proc")
def test_peak_memory_of_a_full_training_run(data_dir):
    # The child reports its own peak: VmHWM, the high-water mark of its
    # memory map (KiB), made new by exec. Not ru_maxrss: Linux carries the
    # parent's peak into it across the vfork + exec that starts the child
    # (this test process's size, whatever ran before it), and
    # RUSAGE_CHILDREN here would count earlier subprocesses.
    script = textwrap.dedent("""
        import fastdnn
        x, y, _, _, _ = fastdnn.load_data(%r)
        X = fastdnn.flatten_images(x)
        p, costs = fastdnn.L_layer_model(X, y, [12288, 20, 7, 5, 1], 0.0075,
                                         2500)
        assert len(costs) == 25
        with open("/proc/self/status") as f:
            print(next(line.split()[1] for line in f
                       if line.startswith("VmHWM:")))
    """ % data_dir)
    out = subprocess.run([sys.executable, "-c", script], check=True,
                         env=dict(os.environ), timeout=900,
                         capture_output=True, text=True).stdout
    peak_mb = int(out.split()[-1]) / 1024
    assert 50 < peak_mb < PEAK_MEMORY_MB, peak_mb
