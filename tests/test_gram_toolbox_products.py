"""The dual-form toolbox solver's one product a step,
``T = dZ1 K[batch, :]`` (fastdnn._gram_toolbox_kernels.k_product), on
the path this host takes and on both loop kernels kept for hosts without
fastdnn's GEMM: each against the float64 product of numpy, for float32 and
float64, odd shapes, a batch of one, a full batch, and the solver's
buffers (dZ1 with more rows and columns than the product reads)."""
import numpy as np
import pytest

from fastdnn import _gram_toolbox_kernels as tk

SHAPES = [  # (n1, m, mb)
    (1, 7, 1), (3, 7, 3), (5, 11, 4), (6, 14, 5), (20, 209, 64),
    (20, 209, 17), (9, 130, 33),
]
TOLERANCE = {np.float32: 1e-5, np.float64: 1e-13}


def _case(n1, m, mb, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, m + 3))
    K = (X @ X.T).astype(dtype)        # symmetric, as X^T X
    # The solver's dZ1 is a block of Db (rows of every layer, mbmax
    # columns): give it more of both than the product reads.
    Db = rng.standard_normal((n1 + 4, mb + 3)).astype(dtype)
    idx = rng.permutation(m)[:mb].astype(np.int64)
    return K, Db, idx


def _assert_product(T, Db, K, rows, n1, mb, dtype):
    want = Db[:n1, :mb].astype(np.float64) @ K[rows].astype(np.float64)
    # Rounding of a sum of mb terms, relative to the sum of their sizes.
    scale = np.abs(Db[:n1, :mb]).astype(np.float64) @ np.abs(
        K[rows]).astype(np.float64)
    err = np.abs(T.astype(np.float64) - want)
    assert np.all(err <= TOLERANCE[dtype] * scale), err.max()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n1,m,mb", SHAPES)
def test_batch_product_is_numpys(n1, m, mb, dtype):
    K, Db, idx = _case(n1, m, mb, dtype)
    Kb = np.full((mb + 2, m), np.nan, dtype)   # scratch: overwritten
    T = np.full((n1, m), np.nan, dtype)
    tk.k_product(T, Db, K, idx, n1, mb, False, Kb)
    _assert_product(T, Db, K, idx, n1, mb, dtype)
    T2 = np.full((n1, m), np.nan, dtype)
    tk._k_product_rows(T2, Db, K, idx, n1, mb)
    _assert_product(T2, Db, K, idx, n1, mb, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n1,m", sorted({(n1, m) for n1, m, _ in SHAPES}))
def test_full_batch_product_is_numpys(n1, m, dtype):
    K, Db, _ = _case(n1, m, m, dtype, seed=1)
    rows = np.arange(m)
    T = np.full((n1, m), np.nan, dtype)
    tk.k_product(T, Db, K, rows, n1, m, True, np.zeros((0, m), dtype))
    _assert_product(T, Db, K, rows, n1, m, dtype)
    T2 = np.full((n1, m), np.nan, dtype)
    tk._k_product_full(T2, Db, K, n1)
    _assert_product(T2, Db, K, rows, n1, m, dtype)


def test_batch_product_is_the_same_on_repeated_rows_and_reruns():
    # A batch that repeats a row (not drawn by the solver, but the product
    # must not depend on it) and a second call on the dirty scratch.
    K, Db, _ = _case(5, 11, 6, np.float64)
    idx = np.array([3, 3, 0, 10, 3, 7], dtype=np.int64)
    Kb = np.empty((6, 11))
    T = np.empty((5, 11))
    tk.k_product(T, Db, K, idx, 5, 6, False, Kb)
    first = T.copy()
    tk.k_product(T, Db, K, idx, 5, 6, False, Kb)
    np.testing.assert_array_equal(T, first)
    _assert_product(T, Db, K, idx, 5, 6, np.float64)
