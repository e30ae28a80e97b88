"""A GEMM layer's forward pass at the layers of ``fastdnn bench``'s
workloads: the product, bias and activation in one parallel region, each
task on its own rows (:func:`fastdnn._kernels_forward_gemm.forward_tasks`,
what ``forward_blas`` runs where the product's tasks take whole rows)
against the product's region followed by the bias and activation pass
(``bias_activate``, as ``forward_blas`` runs it apart). One
group per layer and dtype; each case first checks that both give the same
bits.

    python -m pytest benchmarks/test_forward_gemm_times.py \\
        --benchmark-enable --benchmark-only
"""
import numba
import numpy as np
import pytest

from fastdnn import _numba_config as cfg
from fastdnn._kernels_blas import bias_activate
from fastdnn._kernels_elementwise import ACT_RELU, ACT_TANH
from fastdnn._kernels_forward_gemm import forward_tasks
from fastdnn._kernels_gemm import matmul_scaled_into

from conftest import side_by_side

#: (name, n_l, n_{l-1}, m, A_prev given as A_prev^T, activation): the
#: hidden layers the workloads run on fastdnn's GEMM (the first layer
#: over the gathered X^T, the second over C-ordered activations).
LAYERS = [
    ("mnist-shape-l1", 256, 784, 128, True, ACT_RELU),
    ("mnist-shape-l2", 128, 256, 128, False, ACT_RELU),
    ("mnist-shape-32-l1", 256, 784, 32, True, ACT_RELU),
    ("mnist-shape-32-l2", 128, 256, 32, False, ACT_RELU),
    ("digits-l2", 64, 64, 1797, False, ACT_TANH),
]

CASES, IDS = side_by_side(LAYERS, ("product then pass", "one region"))


def _operands(n_l, n_prev, m, transposed, dtype):
    rng = np.random.default_rng(0)
    W = (rng.standard_normal((n_l, n_prev)) * 0.1).astype(dtype)
    A_prev = rng.standard_normal((n_prev, m)).astype(dtype)
    # B as the loops hand it: X^T's transposed view, or A_prev itself.
    B = np.ascontiguousarray(A_prev.T).T if transposed else A_prev
    b = rng.standard_normal((n_l, 1)).astype(dtype)
    return W, B, b, np.empty((n_l, m), dtype), np.empty((n_l, m), dtype)


def _call(side, W, B, b, act, Z, Aout):
    threads = numba.get_num_threads() if cfg.parallel_ok() else 1
    if side == "one region":
        def one_region():
            if not forward_tasks(W, B, Z, b, act, Aout, threads):
                raise AssertionError("the product's tasks do not take "
                                     "whole rows here")
        return one_region

    def product_then_pass():
        matmul_scaled_into(W, B, Z, threads, Z.dtype.type(1))
        bias_activate(Z, b, act, Aout, threads)
    return product_then_pass


@pytest.mark.skipif(numba.get_num_threads() < 2 or not cfg.parallel_ok(),
                    reason="one region needs two threads")
@pytest.mark.parametrize(
    "layer,dtype,side", CASES, ids=IDS)
def test_forward_pass(benchmark, layer, dtype, side):
    name, n_l, n_prev, m, transposed, act = layer
    W, B, b, Z, Aout = _operands(n_l, n_prev, m, transposed, dtype)
    results = []
    for s in ("product then pass", "one region"):
        _call(s, W, B, b, act, Z, Aout)()
        results.append((Z.copy(), Aout.copy()))
    np.testing.assert_array_equal(results[1][0], results[0][0])
    np.testing.assert_array_equal(results[1][1], results[0][1])
    benchmark.group = "%s forward pass|%s" % (name, dtype)
    benchmark.extra_info["gflops"] = 2.0 * n_l * n_prev * m / 1e9
    benchmark(_call(side, W, B, b, act, Z, Aout))
