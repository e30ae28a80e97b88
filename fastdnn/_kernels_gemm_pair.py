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

Each product's tasks (:func:`fastdnn._kernels_gemm.product_task`) are
those of ``matmul_scaled_into`` for the threads it is given (the register
tiles, the dot-product tiles on a transposed B read in place, or the tiles over
per-task copies of one), and a product's bits do not depend on how many
tasks it is split into: the results are those of two calls of
``matmul_scaled_into``, whatever the thread count.
"""
import numpy as np
from numba import prange

from ._kernels_common import ONE_INT, _exact, _exact_parallel
from ._kernels_gemm import (any_layout, check_product, matmul_scaled_into,
                            product_kind, product_task)
from ._kernels_gemm_split import GEMM_PARALLEL_MIN_WORK, plan_product


@_exact_parallel
def _pair_parallel(A1, B1, C1, alpha1, kind1, parts1, rows1, scratch1, A2,
                   B2, C2, alpha2, kind2, parts2, rows2, scratch2):
    # The first product's tasks, then the second's, in one region.
    for q in prange(parts1 + parts2):
        # prange's index is unsigned: as int64, product_task is the one
        # the one-task calls compile.
        task = np.int64(q)
        if task < parts1:
            product_task(A1, B1, C1, alpha1, kind1, parts1, rows1, scratch1,
                         task)
        else:
            product_task(A2, B2, C2, alpha2, kind2, parts2, rows2, scratch2,
                         task - parts1)


@_exact
def matmul_pair_scaled_into(A1, B1, C1, alpha1, A2, B2, C2, alpha2,
                            threads):
    """``C1 = alpha1 A1 B1`` and ``C2 = alpha2 A2 B2``, the bits of
    :func:`fastdnn._kernels_gemm.matmul_scaled_into` on each, with the
    threads divided between the two products (half each, the first
    product's the lesser half) and all their tasks in one parallel region.
    Products of fewer multiply-adds together than
    :data:`fastdnn._kernels_gemm_split.GEMM_PARALLEL_MIN_WORK` run one
    after the other on the calling thread. The arrays as for
    ``matmul_scaled_into``; C1 and C2 must not overlap each other or the
    operands."""
    if not check_pair(A1, B1, C1, A2, B2, C2, threads):
        # ONE_INT: the threads argument's type at every other call, so that
        # these calls reuse that compilation.
        matmul_scaled_into(A1, B1, C1, ONE_INT, alpha1)
        matmul_scaled_into(A2, B2, C2, ONE_INT, alpha2)
        return
    # Views of any layout, as matmul_scaled_into takes them: one
    # compilation of the region and its tasks for every layout.
    A1, B1, C1 = any_layout(A1), any_layout(B1), any_layout(C1)
    A2, B2, C2 = any_layout(A2), any_layout(B2), any_layout(C2)
    kind1, parts1, rows1, scratch1, kind2, parts2, rows2, scratch2 = (
        plan_pair(A1, B1, C1, A2, B2, C2, threads))
    _pair_parallel(A1, B1, C1, C1.dtype.type(alpha1), kind1, parts1, rows1,
                   scratch1, A2, B2, C2, C2.dtype.type(alpha2), kind2,
                   parts2, rows2, scratch2)


@_exact
def check_pair(A1, B1, C1, A2, B2, C2, threads):
    """Check both products' shapes (``check_product``), then say whether
    :func:`matmul_pair_scaled_into` runs ``C1 = A1 B1`` and ``C2 = A2 B2``
    in a parallel region: on two threads or more, from
    :data:`fastdnn._kernels_gemm_split.GEMM_PARALLEL_MIN_WORK`
    multiply-adds together (else one after the other on the calling
    thread)."""
    check_product(A1, B1, C1)
    check_product(A2, B2, C2)
    work = (A1.shape[0] * A1.shape[1] * B1.shape[1]
            + A2.shape[0] * A2.shape[1] * B2.shape[1])
    return threads >= 2 and work >= GEMM_PARALLEL_MIN_WORK


@_exact
def plan_pair(A1, B1, C1, A2, B2, C2, threads):
    """The tasks of :func:`matmul_pair_scaled_into`'s region: ``(kind1,
    parts1, rows1, scratch1, kind2, parts2, rows2, scratch2)``, each
    product's kind and plan (:func:`fastdnn._kernels_gemm_split.
    plan_product`), the first product on the lesser half of the threads
    (at least 2)."""
    first = threads // 2
    kind1 = product_kind(A1, B1)
    kind2 = product_kind(A2, B2)
    parts1, rows1, scratch1 = plan_product(A1, B1, C1, kind1, first)
    parts2, rows2, scratch2 = plan_product(A2, B2, C2, kind2,
                                           threads - first)
    return kind1, parts1, rows1, scratch1, kind2, parts2, rows2, scratch2
