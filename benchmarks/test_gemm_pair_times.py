"""A hidden layer's two backward products, ``dW = dZ A_prev^T / m`` and
``dA_prev = W^T dZ``, at the layers of ``fastdnn bench``'s workloads:
in one parallel region with the threads divided between them
(:func:`fastdnn._kernels_gemm_pair.matmul_pair_scaled_into`, what the
training loops run) against one product after the other, each on all the
threads (two calls of ``matmul_scaled_into``). One group per layer and
dtype; each case first checks that both give the same bits.

    python -m pytest benchmarks/test_gemm_pair_times.py --benchmark-enable \\
        --benchmark-only
"""
import numba
import numpy as np
import pytest

from fastdnn import _numba_config as cfg
from fastdnn._kernels_gemm import matmul_scaled_into
from fastdnn._kernels_gemm_pair import matmul_pair_scaled_into

from conftest import side_by_side

#: (name, n_l, n_{l-1}, m): the layers whose backward pass has both
#: products on fastdnn's GEMM.
LAYERS = [
    ("mnist-shape-l2", 128, 256, 128),
    ("mnist-shape-32-l2", 128, 256, 32),
    ("digits-l2", 10, 64, 1797),
]

CASES, IDS = side_by_side(LAYERS, ("two regions", "one region"))


def _operands(n_l, n_prev, m, dtype):
    rng = np.random.default_rng(0)
    dZ = rng.standard_normal((n_l, m)).astype(dtype)
    A_prev = rng.standard_normal((n_prev, m)).astype(dtype)
    W = rng.standard_normal((n_l, n_prev)).astype(dtype)
    return dZ, A_prev, W, np.empty((n_l, n_prev), dtype), np.empty(
        (n_prev, m), dtype)


def _call(side, dZ, A_prev, W, dW, dA_prev):
    threads = numba.get_num_threads() if cfg.parallel_ok() else 1
    inv_m = dW.dtype.type(1.0 / dZ.shape[1])
    one = dW.dtype.type(1)
    if side == "one region":
        return lambda: matmul_pair_scaled_into(dZ, A_prev.T, dW, inv_m, W.T,
                                               dZ, dA_prev, one, threads)

    def two_regions():
        matmul_scaled_into(dZ, A_prev.T, dW, threads, inv_m)
        matmul_scaled_into(W.T, dZ, dA_prev, threads, one)
    return two_regions


@pytest.mark.parametrize(
    "layer,dtype,side", CASES, ids=IDS)
def test_backward_products(benchmark, layer, dtype, side):
    name, n_l, n_prev, m = layer
    dZ, A_prev, W, dW, dA_prev = _operands(n_l, n_prev, m, dtype)
    results = []
    for s in ("two regions", "one region"):
        _call(s, dZ, A_prev, W, dW, dA_prev)()
        results.append((dW.copy(), dA_prev.copy()))
    np.testing.assert_array_equal(results[1][0], results[0][0])
    np.testing.assert_array_equal(results[1][1], results[0][1])
    benchmark.group = "%s backward products|%s" % (name, dtype)
    benchmark.extra_info["gflops"] = 4.0 * n_l * n_prev * m / 1e9
    benchmark(_call(side, dZ, A_prev, W, dW, dA_prev))
