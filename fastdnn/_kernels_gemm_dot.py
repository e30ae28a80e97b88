"""The dot-product path of fastdnn's GEMM (private): ``C = alpha A B`` for
a C of few rows over a long sum, B given transposed (B^T row-contiguous),
read in place by the dot-product tile of :mod:`fastdnn._kernels_gemm_tile`
(see :func:`fastdnn._kernels_gemm.matmul_scaled_into`, which chooses it).

The tile sums each element of C in its lanes over the whole sum, then
across them: an order fixed by K alone, so the results do not depend on
the thread count or on which task computes a tile. A's rows are read
fastest when each starts on a cache line: :func:`line_aligned_rows` makes
such a copy when they do not.
"""
import numpy as np

from ._kernels_by_symbol import by_symbol
from ._kernels_common import CACHE_LINE_BYTES, _exact, _exact_leaf, flat_view
from ._kernels_gemm_split import KIND_DOT, tile_count
from ._kernels_gemm_tile import DOT_MR, DOT_NR, address, dot_tile


@_exact
def line_aligned_rows(A):
    """``A`` (M, K) with contiguous rows each starting on a cache line, as
    the dot-product tile reads it fastest: ``A`` itself when its rows
    already do, else a C-ordered copy (M, K rounded up to whole lines)
    whose first K columns are A's and whose padding is never read.

    The tile loads a vector of each of its rows of A and of B^T per step;
    a vector that straddles two cache lines costs two loads. Over the cat's
    first layer (dZ 20 x 209 by A_prev 12288 x 209, rows 1672 bytes apart,
    so all but one row in eight straddle) copying dZ so took the float64
    backward kernel from 0.61-0.64 to 0.54-0.58 ms on two Zen 5 threads
    (one thread: 1.48-1.53 -> 1.09-1.14 ms); aligning A_prev's rows
    instead (a copy of 20 MB, not made) gave nothing. The values, and so
    every sum, are the same.
    """
    M, K = A.shape
    item = A.itemsize
    line = CACHE_LINE_BYTES // item
    if (address(A) % CACHE_LINE_BYTES == 0
            and (K <= 1 or A.strides[1] == item)
            and (M <= 1 or A.strides[0] % CACHE_LINE_BYTES == 0)):
        return A
    ld = (K + line - 1) // line * line
    flat = np.empty(M * ld + line, A.dtype)
    start = ((CACHE_LINE_BYTES - address(flat) % CACHE_LINE_BYTES)
             % CACHE_LINE_BYTES) // item
    # flat_view and copy_rows' element loops rather than reshape and slice
    # assignment, whose error paths compile numba's string formatting (40
    # more compilations in a mini-batch fit's cold start).
    out = flat_view(flat, start, M, ld)
    copy_rows(A, out)
    return out


@_exact_leaf
def copy_rows(src, dst):
    """``dst[:, :m] = src`` for src (n, m) and dst (n, >= m): into a copy
    made by :func:`line_aligned_rows`, or a buffer of its layout."""
    n, m = src.shape
    for i in range(n):
        for j in range(m):
            dst[i, j] = src[i, j]


def _dot_tiles_body(alpha, itemsize, c, ldc, a, lda, bt, ldb, M, N, K, t0,
                    t1):
    # Dot-product tiles t0 .. t1 - 1, numbered down C's row blocks, then
    # across its column blocks.
    row_blocks = (M + DOT_MR - 1) // DOT_MR
    for t in range(t0, t1):
        col = t // row_blocks
        i = (t - col * row_blocks) * DOT_MR
        j = col * DOT_NR
        dot_tile(alpha, c + (i * ldc + j) * itemsize, ldc,
                 a + i * lda * itemsize, lda, bt + j * ldb * itemsize, ldb,
                 K, min(DOT_MR, M - i), min(DOT_NR, N - j))


#: Compiled once per dtype, called by symbol (as _kernels_gemm's tiles).
_dot_tiles = by_symbol(_dot_tiles_body, "gemm_dot_tiles")


@_exact_leaf
def _dot_task(alpha, itemsize, c, ldc, a, lda, bt, ldb, M, N, K, parts, q):
    # Task q of ``parts``: its range of the dot-product tiles.
    tiles, _ = tile_count(M, N, KIND_DOT, itemsize)
    _dot_tiles(alpha, itemsize, c, ldc, a, lda, bt, ldb, M, N, K,
               q * tiles // parts, (q + 1) * tiles // parts)
