"""Two products in one parallel region
(:mod:`fastdnn._kernels_gemm_pair`), as a hidden layer's backward pass runs
them: ``dW = dZ A_prev^T / m`` and ``dA_prev = W^T dZ`` give the bits of
two calls of ``matmul_scaled_into``, for each way the first product reads
B (register tiles on a contiguous B, the dot-product tile, per-task copies
of a transposed B), both dtypes, on 1 to 8 threads, above and below the
work that is split; bad arguments are refused as ``matmul_into`` refuses
them."""
import numba
import numpy as np
import pytest

from fastdnn._kernels_gemm import (DOT_MAX_ROWS, DOT_MIN_K,
                                   matmul_scaled_into, product_kind)
from fastdnn._kernels_gemm_split import (GEMM_PARALLEL_MIN_WORK, KIND_DOT,
                                         KIND_PACKED, KIND_TILES)
from fastdnn._kernels_gemm_pair import matmul_pair_scaled_into
from fastdnn._kernels_gemm_tile import MR

DTYPES = ["float32", "float64"]

# The kernels embed a parallel region: numba's threads must be started
# before they are loaded from the cache.
numba.get_num_threads()

#: (n_l, n_{l-1}, m, A_prev given transposed): the first product's kind
#: by the rules of matmul_scaled_into, and the MNIST shape's and the
#: digits' hidden layers.
LAYERS = [
    (128, 256, 32, False),                # MNIST shape, batch 32: copies
    (DOT_MAX_ROWS - 22, 64, 1797, False),  # the digits' output: dot tile
    (MR + 3, 70, DOT_MIN_K + 9, True),    # A_prev^T given: in place
    (DOT_MAX_ROWS + 5, 33, 61, False),    # odd shapes: copies
    (5, 3, 2, False),                     # below the split work
]


def _layer(n_l, n_prev, m, transposed, dtype, seed):
    rng = np.random.default_rng(seed)
    dZ = rng.standard_normal((n_l, m)).astype(dtype)
    A_prev = rng.standard_normal((n_prev, m)).astype(dtype)
    W = rng.standard_normal((n_l, n_prev)).astype(dtype)
    # The operand of dW's product: A_prev^T as a view of A_prev, or (the
    # first layer given X^T) as an array of its own.
    B = np.ascontiguousarray(A_prev.T) if transposed else A_prev.T
    return dZ, B, W


def test_the_layers_cover_every_kind_and_both_sides_of_the_split():
    kinds = set()
    small = big = False
    for n_l, n_prev, m, transposed in LAYERS:
        dZ, B, W = _layer(n_l, n_prev, m, transposed, "float64", 0)
        kinds.add(product_kind(dZ, B))
        work = 2 * n_l * n_prev * m
        small |= work < GEMM_PARALLEL_MIN_WORK
        big |= work >= GEMM_PARALLEL_MIN_WORK
    assert kinds == {KIND_TILES, KIND_DOT, KIND_PACKED}
    assert small and big


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer", LAYERS)
def test_the_pair_gives_the_bits_of_two_products(dtype, layer):
    n_l, n_prev, m, transposed = layer
    dZ, B, W = _layer(n_l, n_prev, m, transposed, dtype, seed=n_l + m)
    inv_m = np.dtype(dtype).type(1.0 / m)
    one = np.dtype(dtype).type(1)
    want_dW = np.empty((n_l, n_prev), dtype)
    want_dA = np.empty((n_prev, m), dtype)
    matmul_scaled_into(dZ, B, want_dW, 1, inv_m)
    matmul_scaled_into(W.T, dZ, want_dA, 1, one)
    for threads in (1, 2, 3, 8):
        dW = np.full((n_l, n_prev), np.nan, dtype)
        dA = np.full((n_prev, m), np.nan, dtype)
        matmul_pair_scaled_into(dZ, B, dW, inv_m, W.T, dZ, dA, one, threads)
        np.testing.assert_array_equal(dW, want_dW)
        np.testing.assert_array_equal(dA, want_dA)
    # And the products themselves, to rounding.
    tol = 8 * np.finfo(dtype).eps * max(m, n_l)
    np.testing.assert_allclose(want_dW, (dZ.astype(float) @ B) / m,
                               rtol=tol, atol=tol)
    np.testing.assert_allclose(want_dA, W.T.astype(float) @ dZ, rtol=tol,
                               atol=tol * n_l)


def test_mismatched_arguments_are_refused():
    dZ, B, W = _layer(7, 5, 6, False, "float64", 0)
    dW, dA = np.empty((7, 5)), np.empty((5, 6))
    with pytest.raises(ValueError, match="shapes"):
        matmul_pair_scaled_into(dZ, B, np.empty((7, 4)), 1.0, W.T, dZ, dA,
                                1.0, 2)
    with pytest.raises(ValueError, match="shapes"):
        matmul_pair_scaled_into(dZ, B, dW, 1.0, W.T, dZ, np.empty((5, 5)),
                                1.0, 2)
    with pytest.raises(ValueError, match="contiguous columns"):
        matmul_pair_scaled_into(dZ, B, dW, 1.0, W.T, dZ,
                                np.empty((6, 5)).T, 1.0, 2)
    with pytest.raises(TypeError, match="dtype"):
        matmul_pair_scaled_into(dZ, B, dW.astype(np.float32), 1.0, W.T, dZ,
                                dA, 1.0, 2)
