"""The first layer's backward pass and its optimizer step in one parallel
region (private), for the training toolbox's loop.

The first layer holds most of a wide network's weights (the MNIST shape's
784 x 256 layer: 200,704 of 235,146). Its backward pass writes dW1 and
nothing after it reads W1, so its optimizer step need not wait for the
rest of the step: each task takes a block of rows at a time, computes
their dZ and db, their rows of dW = dZ A_prev^T / m on fastdnn's GEMM,
and at once the optimizer step of those rows of W1, while the block of
dW1 is still in the core's cache; then its share of the other layers'
weights. Apart, the step read dW1 back from the shared cache after the
product had written it, in a parallel region of its own.

Every element is computed by the code of the separate passes: dZ and db
row by row (:func:`fastdnn._kernels_backward._dZ_db_rows`), each element of
dW by the product's chain of fused multiply-adds whatever rows a task
takes (:mod:`fastdnn._kernels_gemm`), and the optimizer step element by
element (:func:`fastdnn._toolbox_step_kernels.update_range`). The results
are those of the separate passes, bit for bit, on any thread count. The L2
term is left out: its cost needs the chunk-ordered sum of squares of the
whole parameter vector (the loop then keeps the separate passes).

The region may run a first phase before the tasks: the second layer's
two backward products (:mod:`fastdnn._kernels_backward_two_layers`),
taken by tickets (:mod:`fastdnn._kernels_tickets`); alone, that phase is
empty.
"""
import numpy as np
from numba import prange

from ._kernels_backward import _dZ_db_rows
from ._kernels_common import (FALSE_FLAG, ONE_INT, ZERO_INT, _exact,
                              _exact_leaf, _exact_parallel)
from ._kernels_gemm import (any_layout, check_product, product_kind,
                            product_task)
from ._kernels_gemm_split import GEMM_PARALLEL_MIN_WORK, KIND_PACKED
from ._kernels_gemm_tile import DOT_MR, MR
from ._kernels_tickets import (FIRST_PHASE_DONE, NEXT_TICKET, TICKET_SLOTS,
                               fetch_add, load_acquire, spin_pause)
from ._toolbox_step_kernels import check_second_moment, update_range

#: Rows of dW a task computes before it takes their optimizer step: two
#: rows of register tiles (the block's dW, 16 x 784 float32 on AVX-512, is
#: 50 KB, in the core's L2 cache when the step reads it).
UPDATE_BLOCK_ROWS = 2 * MR

if UPDATE_BLOCK_ROWS % DOT_MR:
    raise ImportError("UPDATE_BLOCK_ROWS must hold whole dot-product tiles")


@_exact_leaf
def _rows(dA, Z, Aout, act, dZ, db, B, dW, alpha, kind, scratch, P, G, V,
          S, opt, hp, i0, i1):
    # Rows i0:i1: dZ and db, dW = alpha dZ B, then the optimizer step of
    # P (flat, dW's layout) with the gradient G (dW flat). The product's
    # operands are views of any layout, as matmul_scaled_into gives them
    # to product_task: one compilation of it.
    _dZ_db_rows(dA, Z, Aout, act, dZ, db, i0, i1)
    product_task(any_layout(dZ[i0:i1]), B, any_layout(dW[i0:i1]), alpha,
                 kind, ONE_INT, FALSE_FLAG, scratch, ZERO_INT)
    N = dW.shape[1]
    update_range(P, G, V, S, opt, hp, i0 * N, i1 * N)


@_exact_leaf
def _task(dA, Z, Aout, act, dZ, db, B, dW, alpha, kind, scratch, P, G, V,
          S, opt, hp, parts, q):
    # Task q of ``parts``: its share of the first layer's row blocks, one
    # after the other, then its share of the other layers' parameters
    # (their backward passes are done: nothing reads them any more).
    M, N = dW.shape
    blocks = (M + UPDATE_BLOCK_ROWS - 1) // UPDATE_BLOCK_ROWS
    for k in range(q * blocks // parts, (q + 1) * blocks // parts):
        i0 = k * UPDATE_BLOCK_ROWS
        _rows(dA, Z, Aout, act, dZ, db, B, dW, alpha, kind, scratch, P, G,
              V, S, opt, hp, i0, min(M, i0 + UPDATE_BLOCK_ROWS))
    first = M * N
    rest = P.shape[0] - first
    update_range(P, G, V, S, opt, hp, first + q * rest // parts,
                 first + (q + 1) * rest // parts)


@_exact_parallel
def _tasks_parallel(A1, B1, C1, alpha1, kind1, parts1, rows1, scratch1, A2,
                    B2, C2, alpha2, kind2, parts2, rows2, scratch2, dA, Z,
                    Aout, act, dZ, db, B, dW, alpha, kind, scratch, P, G, V,
                    S, opt, hp, parts, counters):
    # Worker q runs task q, after a first phase that may have no tasks
    # (parts1 = parts2 = 0): the tasks of ``C1 = alpha1 A1 B1`` and then of
    # ``C2 = alpha2 A2 B2``, taken by tickets (fastdnn._kernels_tickets),
    # all done before any worker's task starts.
    first = parts1 + parts2
    for w in prange(parts):
        while True:
            t = fetch_add(counters, NEXT_TICKET, 1)
            if t >= first:
                break
            if t < parts1:
                product_task(A1, B1, C1, alpha1, kind1, parts1, rows1,
                             scratch1, t)
            else:
                product_task(A2, B2, C2, alpha2, kind2, parts2, rows2,
                             scratch2, t - parts1)
            fetch_add(counters, FIRST_PHASE_DONE, 1)
        while load_acquire(counters, FIRST_PHASE_DONE) < first:
            spin_pause()
        # prange's index is unsigned: as int64, the one-task call's _task.
        q = np.int64(w)
        _task(dA, Z, Aout, act, dZ, db, B, dW, alpha, kind,
              scratch[q:q + 1], P, G, V, S, opt, hp, parts, q)


@_exact
def backward_update(dA, Z, Aout, R, r_is_x, act, dZ, dW, db, P, G, V, S,
                    opt, hp, threads):
    """The first layer's backward pass on fastdnn's GEMM and the weights'
    optimizer step: ``dZ = dA * g'(Z)``, ``db``, ``dW = dZ B / m`` (B is
    A_prev^T, (m, n_{l-1})), and the step of every layer's W, all in one
    parallel region.

    B is given as the C-contiguous R: X^T itself, or X, whose transposed
    view B then is (``r_is_x``). Either way B becomes a view of any layout
    (``any_layout``): one array type for both, so that the function, its
    region and its tasks compile once.

    Parameters
    ----------
    dA, Z, Aout, dZ : (n_1, m)
        As :func:`fastdnn._kernels_blas.backward_blas_unchecked`.
    R : (m, n_x) or (n_x, m), C-contiguous
        B, or B^T (X) when ``r_is_x``.
    r_is_x : bool
    act : int
        The layer's activation code.
    dW : (n_1, n_x) C-contiguous
        Receives dW; the 2-D view of G.
    db : (n_1, 1)
    P, G, V, S : 1-D (V, S may be empty; S None as update_params takes it)
        Every layer's weights flat, W1 first (its n_1 * n_x elements in
        dW's layout), their gradients (dW flat, then the other layers',
        already computed) and the optimizer's state, as
        :func:`fastdnn._toolbox_step_kernels.update_params` takes them:
        all of them take their step.
    opt : int
        ``OPT_*``.
    hp : (N_CONSTANTS,)
        The step's constants; no L2 term (``hp[1]`` must be 0).
    threads : int
        Tasks (1: on the calling thread); the results do not depend on it.
    """
    B, kind, alpha, parts, scratch = plan_update(dZ, R, r_is_x, dW, S, opt,
                                                 hp, threads)
    update_tasks(dA, Z, Aout, act, dZ, db, B, dW, alpha, kind, scratch, P,
                 G, V, S, opt, hp, parts)


@_exact
def update_tasks(dA, Z, Aout, act, dZ, db, B, dW, alpha, kind, scratch, P,
                 G, V, S, opt, hp, parts):
    """Run the tasks that :func:`plan_update` planned (``B, kind, alpha,
    parts, scratch``): in the region, with no first phase, or on the
    calling thread for one task."""
    if parts > 1:
        # No first phase: its operands any array of their type (unread).
        none = any_layout(dZ)
        _tasks_parallel(none, none, none, alpha, kind, ZERO_INT, FALSE_FLAG,
                        scratch, none, none, none, alpha, kind, ZERO_INT,
                        FALSE_FLAG, scratch, dA, Z, Aout, act, dZ, db, B, dW,
                        alpha, kind, scratch, P, G, V, S, opt, hp, parts,
                        np.zeros(TICKET_SLOTS, np.int64))
    else:
        _task(dA, Z, Aout, act, dZ, db, B, dW, alpha, kind, scratch, P, G,
              V, S, opt, hp, ONE_INT, ZERO_INT)


@_exact
def plan_update(dZ, R, r_is_x, dW, S, opt, hp, threads):
    """The checks and the tasks of :func:`backward_update` (its arguments
    of the same names): ``(B, kind, alpha, parts, scratch)``, B as the
    product reads it, its kind, 1/m, the task count and the tasks' copy
    blocks."""
    if hp[1] != 0:
        raise ValueError("backward_update: the L2 term needs the separate "
                         "update (hp[1] must be 0)")
    check_second_moment(S, opt)
    B = any_layout(R.T) if r_is_x else any_layout(R)
    # dZ and dW as views of any layout, as the products pass them: the
    # checks compile once for both.
    dZ_any = any_layout(dZ)
    check_product(dZ_any, B, any_layout(dW))
    kind = product_kind(dZ_any, B)
    M, K = dZ.shape
    N = dW.shape[1]
    alpha = dW.dtype.type(1.0 / K)
    blocks = (M + UPDATE_BLOCK_ROWS - 1) // UPDATE_BLOCK_ROWS
    parts = 1
    if threads > 1 and M * N * K >= GEMM_PARALLEL_MIN_WORK:
        parts = min(threads, blocks)
    # A transposed B that is neither read in place nor by the dot tile is
    # copied by each block's product into the task's own block.
    width = K * N if kind == KIND_PACKED else 0
    return B, kind, alpha, parts, np.empty((parts, width), dW.dtype)
