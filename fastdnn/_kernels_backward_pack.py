"""The packing of a Fortran-ordered ``A_prev`` for the backward kernels
(private): a block of its rows, read from ``A_prev^T``, as a C-ordered
array on which a dW block computes exactly what it computes on a
C-ordered ``A_prev``."""
import numpy as np

from ._kernels_common import _inline, _line_elements, _prefetch, _serial
from ._kernels_gemm import _LANES_FLOAT32, _LANES_FLOAT64, NATIVE_GEMM
from ._kernels_gemm_tile import address
from ._kernels_gemm_transpose import transpose_block

#: Rows of A_prev^T ahead whose segments _pack_rows prefetches.
PACK_PREFETCH_ROWS = 4


@_serial
def _pack_rows(AT, k0, k1):
    # A_prev[k0:k1] as a C-ordered block, read from A_prev^T (m, n_{l-1})
    # one row segment AT[j, k0:k1] at a time (a contiguous read; about 25%
    # faster than gathering columns of a few rows at once). Each row of
    # A_prev^T lies n_{l-1} elements from the last, in another page, where
    # no hardware prefetcher follows: the segment PACK_PREFETCH_ROWS rows
    # ahead is prefetched (farther ahead, the segments of the same columns
    # of different rows fall into the same cache sets and evict each other).
    # With the native GEMM, square blocks of a vector's lanes are
    # transposed in registers (transpose_block), the edges element by
    # element: the cat's first-layer backward over the course's X, float64
    # on two Zen 5 threads, took 0.75-0.88 ms so against 0.85-1.1 element
    # by element. The dW block then runs on exactly the values, in exactly
    # the order, of a C-ordered A_prev: both layouts give the same dW.
    m, K = AT.shape
    flat = AT.reshape(-1)
    line = _line_elements(AT)
    w = k1 - k0
    buf = np.empty((w, m), dtype=AT.dtype)
    item = AT.itemsize
    size = _LANES_FLOAT32 if item == 4 else _LANES_FLOAT64
    j_full = 0
    w_full = 0
    if NATIVE_GEMM and AT.strides[1] == item:
        j_full = m - m % size
        w_full = w - w % size
    ld = AT.strides[0] // item
    zero = AT.dtype.type(0)
    for j0 in range(0, j_full, size):
        for j in range(j0, j0 + size):
            _prefetch_segment(flat, j + PACK_PREFETCH_ROWS, m, K, k0, k1,
                              line)
        for c0 in range(0, w_full, size):
            transpose_block(zero, address(AT) + (j0 * ld + k0 + c0) * item,
                            ld, address(buf) + (c0 * m + j0) * item, m)
        for j in range(j0, j0 + size):
            _copy_segment(AT, buf, j, k0, w_full, w)
    for j in range(j_full, m):
        _prefetch_segment(flat, j + PACK_PREFETCH_ROWS, m, K, k0, k1, line)
        _copy_segment(AT, buf, j, k0, 0, w)
    return buf


@_inline
def _prefetch_segment(flat, row, m, K, k0, k1, line):
    # The cache lines of AT[row, k0:k1] (AT = flat as (m, K)), if AT has
    # that row.
    if row < m:
        for c in range(k0, k1, line):
            _prefetch(flat, row * K + c)


@_inline
def _copy_segment(AT, buf, j, k0, c0, c1):
    # buf[c0:c1, j] = AT[j, k0 + c0:k0 + c1], element by element.
    src = AT[j, k0:]
    for k in range(c0, c1):
        buf[k, j] = src[k]
