"""Operands copied so that their rows start on cache lines, for the
dot-product tile (:func:`fastdnn._kernels_gemm_dot.line_aligned_rows`, the
backward kernels' dZ, the primal solver's fused first layer): the copy
holds the operand's values with every row on a line, an operand already
so laid out is not copied, and no result depends on where in memory the
caller's arrays lie (every offset within a cache line gives the same
bits)."""
import numba
import numpy as np
import pytest

from fastdnn import _kernels as K
from fastdnn._kernels_common import CACHE_LINE_BYTES
from fastdnn._kernels_gemm import matmul_scaled_into
from fastdnn._kernels_gemm_dot import line_aligned_rows
from fastdnn._primal_fused_kernels import dZ_buffer

DTYPES = ["float32", "float64"]

# The GEMM kernels embed a parallel region: numba's threads must be started
# before they are loaded from the cache.
numba.get_num_threads()


def _at_offset(values, offset):
    # A C-ordered copy of ``values`` starting ``offset`` elements past a
    # cache line.
    dtype = values.dtype
    line = CACHE_LINE_BYTES // dtype.itemsize
    flat = np.empty(values.size + 2 * line, dtype)
    start = (-flat.ctypes.data % CACHE_LINE_BYTES) // dtype.itemsize
    out = flat[start + offset:start + offset + values.size]
    out = out.reshape(values.shape)
    out[...] = values
    return out


def _lines(dtype):
    return CACHE_LINE_BYTES // np.dtype(dtype).itemsize


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (1, 37), (3, 209), (20, 209),
                                   (7, 16), (5, 64), (2, 3)])
def test_the_copy_holds_the_values_with_rows_on_lines(dtype, shape):
    rng = np.random.default_rng(0)
    values = rng.standard_normal(shape).astype(dtype)
    for offset in range(_lines(dtype)):
        A = _at_offset(values, offset)
        out = line_aligned_rows(A)
        assert out.ctypes.data % CACHE_LINE_BYTES == 0
        if shape[0] > 1:
            assert out.strides[0] % CACHE_LINE_BYTES == 0
        assert out.shape[0] == shape[0] and out.shape[1] >= shape[1]
        assert np.array_equal(out[:, :shape[1]], values)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rows_already_on_lines_are_not_copied(dtype):
    line = _lines(dtype)
    rng = np.random.default_rng(1)
    A = _at_offset(rng.standard_normal((6, 3 * line)).astype(dtype), 0)
    assert np.shares_memory(line_aligned_rows(A), A)
    # One element off: copied.
    B = _at_offset(rng.standard_normal((6, 3 * line)).astype(dtype), 1)
    assert not np.shares_memory(line_aligned_rows(B), B)
    # Rows on lines by their stride, with unused columns between them.
    wide = _at_offset(rng.standard_normal((6, 4 * line)).astype(dtype), 0)
    C = wide[:, :3 * line - 1]
    assert np.shares_memory(line_aligned_rows(C), C)


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_dot_tile_product_does_not_depend_on_where_A_lies(dtype):
    # 10 x 1797 by a transposed 1797 x 64: the dot-product tile (the
    # digits' output layer's dW).
    rng = np.random.default_rng(2)
    values = rng.standard_normal((10, 1797)).astype(dtype)
    B = rng.standard_normal((64, 1797)).astype(dtype).T
    results = []
    for offset in range(_lines(dtype)):
        C = np.empty((10, 64), dtype)
        matmul_scaled_into(_at_offset(values, offset), B, C, 2,
                           C.dtype.type(0.5))
        results.append(C)
    for C in results[1:]:
        assert np.array_equal(C, results[0])
    exact = 0.5 * (values.astype(np.float64) @ B.astype(np.float64))
    assert np.allclose(results[0], exact, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("threads", [False, True])
@pytest.mark.parametrize("m", [209, 64, 5])
def test_the_backward_kernel_does_not_depend_on_where_dZ_lies(
        dtype, threads, m):
    # The backward kernel copies dZ for its dW tiles; its own dZ output
    # may lie anywhere. 20 x 4099 over m examples: the dot-product tile
    # from 64 examples on (on hosts with fastdnn's GEMM), the loop below.
    rng = np.random.default_rng(3)
    n, n_prev = 20, 4099
    dA = rng.standard_normal((n, m)).astype(dtype)
    Z = rng.standard_normal((n, m)).astype(dtype)
    A_prev = rng.standard_normal((n_prev, m)).astype(dtype)
    W = rng.standard_normal((n, n_prev)).astype(dtype)
    results = []
    for offset in range(_lines(dtype)):
        dZ = _at_offset(np.zeros((n, m), dtype), offset)
        dW = np.empty((n, n_prev), dtype)
        db = np.empty((n, 1), dtype)
        K.backward(dA, Z, dZ, A_prev, W, K.ACT_RELU, False, dZ, dW, db,
                   np.empty((1, 1), dtype), False, threads)
        results.append((dZ.copy(), dW, db))
    for dZ, dW, db in results[1:]:
        assert np.array_equal(dZ, results[0][0])
        assert np.array_equal(dW, results[0][1])
        assert np.array_equal(db, results[0][2])
    dZ = dA * (Z > 0)
    exact = dZ.astype(np.float64) @ A_prev.T.astype(np.float64) / m
    assert np.allclose(results[0][1], exact, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_fused_first_layer_buffer_has_rows_on_lines(dtype):
    parts = np.empty((3, 20, 209), dtype)
    buf = dZ_buffer(parts)
    assert buf.shape[0] == 20 and buf.shape[1] >= 209
    assert buf.flags.c_contiguous
    assert buf.ctypes.data % CACHE_LINE_BYTES == 0
    assert buf.strides[0] % CACHE_LINE_BYTES == 0
    assert dZ_buffer(np.empty((0, 0, 0), dtype)).size == 0
