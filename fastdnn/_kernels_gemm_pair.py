"""Two independent products in one parallel region (private): a hidden
layer's backward pass, ``dW = dZ A_prev^T / m`` and ``dA_prev = W^T dZ``.

Both products read dZ and nothing the other writes, and both take
``n_l n_{l-1} m`` multiply-adds. Run one after the other, each split among
the threads, they cost two parallel regions, and on the small layers of a
mini-batch (the MNIST shape's 128 x 256 layer over 32 examples, about 2
million multiply-adds each) a product split in two is only 1.3-1.4x as
fast as on one thread: the region's start and end and the tasks' uneven
shares weigh on some 20 us of work. Here the threads are divided between
the products instead (one each on two threads), all their tasks in one
region.

Each product's tasks are the tasks of :func:`fastdnn._kernels_gemm.\
matmul_scaled_into` for the threads it is given (the register tiles, the
dot-product tiles on a transposed B read in place, or the tiles over
per-task copies of one), and a product's bits do not depend on how many
tasks it is split into: the results are those of two calls of
``matmul_scaled_into``, whatever the thread count.
"""
import numpy as np
from numba import prange

from ._kernels_common import _exact, _exact_leaf, _exact_parallel
from ._kernels_gemm import (_NR_FLOAT32, _NR_FLOAT64,
                            GEMM_PARALLEL_MIN_WORK, KIND_DOT, KIND_PACKED,
                            _dot_tiles, _packed_tiles, _share, _tasks,
                            _tiles, check_product, matmul_scaled_into,
                            packed_scratch, product_kind, splits_rows)
from ._kernels_gemm_tile import DOT_MR, DOT_NR, MR, address


@_exact_leaf
def _kind_tiles(A, C, kind):
    # (tiles, row blocks) of C in the tiles of ``kind``.
    M = A.shape[0]
    N = C.shape[1]
    if kind == KIND_DOT:
        row_blocks = (M + DOT_MR - 1) // DOT_MR
        return row_blocks * ((N + DOT_NR - 1) // DOT_NR), row_blocks
    nr = _NR_FLOAT32 if C.itemsize == 4 else _NR_FLOAT64
    row_blocks = (M + MR - 1) // MR
    return row_blocks * ((N + nr - 1) // nr), row_blocks


@_exact_leaf
def _task(A, B, C, alpha, kind, parts, by_rows, scratch, q):
    # Task q of the ``parts`` tasks of C = alpha A B, as the product of
    # its kind splits it (see fastdnn._kernels_gemm).
    M, K = A.shape
    N = C.shape[1]
    itemsize = C.itemsize
    tiles, row_blocks = _kind_tiles(A, C, kind)
    nr = _NR_FLOAT32 if itemsize == 4 else _NR_FLOAT64
    if kind == KIND_PACKED:
        _packed_tiles(alpha, A, B, C, nr, scratch, parts, by_rows, q)
    elif kind == KIND_DOT:
        _dot_tiles(alpha, itemsize, address(C), C.strides[0] // itemsize,
                   address(A), A.strides[0] // itemsize, address(B),
                   B.strides[1] // itemsize, M, N, K, q * tiles // parts,
                   (q + 1) * tiles // parts)
    else:
        rb0, rb1, t0, t1 = _share(q, parts, row_blocks, tiles // row_blocks,
                                  by_rows)
        _tiles(alpha, itemsize, nr, address(C), C.strides[0] // itemsize,
               address(A), A.strides[0] // itemsize, A.strides[1] // itemsize,
               address(B), B.strides[0] // itemsize, M, N, K, rb0, rb1, t0,
               t1)


@_exact_parallel
def _pair_parallel(A1, B1, C1, alpha1, kind1, parts1, rows1, scratch1, A2,
                   B2, C2, alpha2, kind2, parts2, rows2, scratch2):
    # The first product's tasks, then the second's, in one region.
    for q in prange(parts1 + parts2):
        if q < parts1:
            _task(A1, B1, C1, alpha1, kind1, parts1, rows1, scratch1, q)
        else:
            _task(A2, B2, C2, alpha2, kind2, parts2, rows2, scratch2,
                  q - parts1)


@_exact
def _plan(A, B, C, threads):
    # The kind of C = A B, its tasks on ``threads`` threads, whether they
    # split C by rows and their blocks of B (packed products).
    M, K = A.shape
    N = C.shape[1]
    kind = product_kind(A, B)
    tiles, _ = _kind_tiles(A, C, kind)
    parts = _tasks(threads, M, N, K, tiles)
    by_rows = splits_rows(M, N, K, C.itemsize, parts)
    if kind == KIND_PACKED:
        scratch = packed_scratch(M, N, K, C, parts, by_rows)
    else:
        scratch = np.empty((0, 0), C.dtype)
    return kind, parts, by_rows, scratch


@_exact
def matmul_pair_scaled_into(A1, B1, C1, alpha1, A2, B2, C2, alpha2,
                            threads):
    """``C1 = alpha1 A1 B1`` and ``C2 = alpha2 A2 B2``, the bits of
    :func:`fastdnn._kernels_gemm.matmul_scaled_into` on each, with the
    threads divided between the two products (half each, the first
    product's the lesser half) and all their tasks in one parallel region.
    Products of fewer multiply-adds together than
    :data:`fastdnn._kernels_gemm.GEMM_PARALLEL_MIN_WORK` run one after the
    other on the calling thread. The arrays as for ``matmul_scaled_into``;
    C1 and C2 must not overlap each other or the operands."""
    check_product(A1, B1, C1)
    check_product(A2, B2, C2)
    work = (A1.shape[0] * A1.shape[1] * B1.shape[1]
            + A2.shape[0] * A2.shape[1] * B2.shape[1])
    if threads < 2 or work < GEMM_PARALLEL_MIN_WORK:
        matmul_scaled_into(A1, B1, C1, 1, alpha1)
        matmul_scaled_into(A2, B2, C2, 1, alpha2)
        return
    first = threads // 2
    kind1, parts1, rows1, scratch1 = _plan(A1, B1, C1, first)
    kind2, parts2, rows2, scratch2 = _plan(A2, B2, C2, threads - first)
    _pair_parallel(A1, B1, C1, C1.dtype.type(alpha1), kind1, parts1, rows1,
                   scratch1, A2, B2, C2, C2.dtype.type(alpha2), kind2,
                   parts2, rows2, scratch2)
