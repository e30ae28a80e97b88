"""The matrix products of ``fastdnn bench``'s workloads: fastdnn's GEMM
(:func:`fastdnn._kernels_gemm.matmul_into`, on numba's threads) against
numpy's (OpenBLAS, on its own threads), side by side in one group per
product and dtype; each case first checks that both give the same numbers
to rounding.

The operands are laid out as the training kernels pass them: W^T as a
view for dA_prev, A_prev^T as a view for dW (the dot-product tile reads it
in place over a long batch, a copy is made over a short one), the
mini-batch's X^T as the forward pass's B. numpy gets the same views and
copies what it needs itself.

On hosts with AVX-512, or AVX2 and FMA, the training kernels use
fastdnn's GEMM (``NATIVE_GEMM``); these timings are part of what that
rests on (the other part: the epochs of ``fastdnn bench``). With
``OPENBLAS_CORETYPE`` set, numpy's OpenBLAS runs that core's kernels.
"""
import numba
import numpy as np
import pytest

from fastdnn import _numba_config as cfg
from fastdnn._kernels_gemm import matmul_into

from conftest import side_by_side

#: (name, M, K, N, A given transposed, B given transposed): C = A B.
PRODUCTS = [
    ("mnist-shape-l1-forward", 256, 784, 128, False, True),
    ("mnist-shape-l1-dW", 256, 128, 784, False, False),
    ("mnist-shape-l2-dW", 128, 128, 256, False, True),
    ("mnist-shape-l2-dA_prev", 256, 128, 128, True, False),
    ("mnist-shape-32-l1-forward", 256, 784, 32, False, True),
    ("mnist-shape-32-l1-dW", 256, 32, 784, False, False),
    ("mnist-shape-32-l2-dW", 128, 32, 256, False, True),
    ("digits-l1-forward", 64, 64, 1797, False, False),
    ("digits-l1-dW", 64, 1797, 64, False, False),
    # 10 rows: 8 in a whole tile, 2 in a short one (AVX-512).
    ("digits-l2-forward", 10, 64, 1797, False, False),
    ("digits-l2-dW", 10, 1797, 64, False, True),
    ("digits-l2-dA_prev", 64, 10, 1797, True, False),
]

CASES, IDS = side_by_side(PRODUCTS, ("numpy", "fastdnn"))


def _operands(M, K, N, a_transposed, b_transposed, dtype):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((K, M) if a_transposed else (M, K))
    B = rng.standard_normal((N, K) if b_transposed else (K, N))
    A = (A.T if a_transposed else A).astype(dtype)
    B = (B.T if b_transposed else B).astype(dtype)
    return A, B, np.empty((M, N), dtype)


def _call(side, A, B, C):
    if side == "numpy":
        return lambda: np.dot(A, B, C)
    threads = numba.get_num_threads() if cfg.parallel_ok() else 1
    return lambda: matmul_into(A, B, C, threads)


@pytest.mark.parametrize(
    "product,dtype,side", CASES, ids=IDS)
def test_product(benchmark, product, dtype, side):
    name, M, K, N, a_transposed, b_transposed = product
    A, B, C = _operands(M, K, N, a_transposed, b_transposed, dtype)
    results = []
    for s in ("numpy", "fastdnn"):
        _call(s, A, B, C)()
        results.append(C.copy())
    scale = np.abs(A).astype(np.float64) @ np.abs(B).astype(np.float64)
    tol = 4 * np.finfo(dtype).eps * K * scale
    assert np.all(np.abs(results[1] - results[0]) <= tol)
    benchmark.group = "%s|%s" % (name, dtype)
    benchmark.extra_info["gflops"] = 2.0 * M * K * N / 1e9
    benchmark(_call(side, A, B, C))
