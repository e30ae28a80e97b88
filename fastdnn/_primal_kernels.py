"""The compiled training loop of the primal solver (see
:mod:`fastdnn._primal`).

:func:`train` runs ``n`` iterations of gradient descent in one call: every
layer's forward kernel, the output and its cost, ``dZ_L = AL - Y``, every
layer's backward kernel and the update. It calls the very kernels of
:mod:`fastdnn._kernels` that the per-layer building blocks use, with the
same arguments in the same order, so a run gives the same numbers bit for
bit as those kernels called one at a time from Python; a first layer over
many inputs is the exception: its backward pass, update and next forward
product go in one pass over X (:mod:`fastdnn._primal_fused_kernels`),
whose forward product sums in an order of its own.

Layers of different widths share flat buffers: the parameters ``Wf`` and
``bf`` (layer l's W from ``woff[l]``, its b from ``boff[l]``) and the
``(n_l, m)`` blocks of the activations, pre-activations and gradients
(layer l's block from row ``roff[l]``, i.e. element ``roff[l] * m``). Each
block is handed to the kernels as a C-contiguous 2-D view of a flat buffer
(:func:`fastdnn._kernels_common.flat_view`; a row slice of a 2-D buffer
would not be typed as C-contiguous).

numba's on-disk cache: the kernels of :mod:`fastdnn._kernels` (and of
:mod:`fastdnn._kernels_output`) are compiled into :func:`train`, and the
cached :func:`train` is invalidated by a change of this file only. After
changing any kernel that :func:`train` calls, clear the cache (delete the
``__pycache__/_primal_kernels.*.nbi``/``.nbc`` files, or the matching
files in ``NUMBA_CACHE_DIR``).
"""
import numpy as np

from . import _numba_config as cfg
from ._kernels import (ACT_IDENTITY, _forward_finish, _n_chunks,
                       backward_parallel, backward_serial, forward_parallel,
                       forward_serial, output_step, update_into)
from ._kernels_backward import _dZ_db
from ._kernels_blas import (backward_blas_unchecked, first_layer_layouts,
                            forward_blas, forward_on_gemm, use_blas)
from ._kernels_gemm_dot import copy_rows
from ._primal_fused_kernels import backward_update_forward, forward_parts
# No fastmath for the loop: it computes nothing itself; every kernel it
# calls keeps its own flags.
from ._kernels_common import (_exact_loop, _exact_loop_inline,
                              _exact_parallel, flat_view)

import numba  # noqa: E402  (after _numba_config set NUMBA_CACHE_DIR)
from numba import prange  # noqa: E402

# The views are taken inline, in the caller's own code: a call would pass
# the buffer in and the view out, each with a reference count update (an
# atomic instruction), and a step of a small network takes some hundred
# views.
_inline_view = numba.njit(inline="always", **cfg.JIT_KW)


@_inline_view
def _block(buf, r0, n, m):
    """Rows ``r0:r0+n`` of the (rows, m) matrix stored flat in ``buf``, as
    a C-contiguous (n, m) view."""
    return flat_view(buf, r0 * m, n, m)


@_inline_view
def _param(buf, off, n, k):
    """The (n, k) parameter stored flat in ``buf`` from ``off``."""
    return flat_view(buf, off, n, k)


#: Work (multiply-adds) from which a hand-written forward layer whose sum
#: is too short for forward_parallel's chunks is split into row blocks on
#: threads (:func:`_forward_rows`); below it forward_serial on one thread
#: is the faster. On a Zen 5 host, two threads against one, 8 to 24
#: outputs: 0.37-0.81x at 0.23-1.15 million (float32; a parallel region
#: costs some 10 us), break-even about 2 million, 1.3-1.7x from 4
#: million (float32 and float64).
ROWS_SPLIT_MIN_WORK = 1 << 21


@_exact_parallel
def _forward_rows(W, A, b, act, Z, Aout, transposed, nparts):
    # forward_serial on nparts row blocks of W (and of b, Z, Aout) at
    # once. Every output row is computed by the same instructions as in
    # one forward_serial call (its rows are independent, in blocks of 4
    # from the first: the split points are multiples of 4), so the results
    # are forward_serial's bit for bit.
    n, K = W.shape
    m = Z.shape[1]
    step = (n // nparts + 3) // 4 * 4
    Wf = W.reshape(-1)
    bf = b.reshape(-1)
    Zf = Z.reshape(-1)
    Af = Aout.reshape(-1)
    for p in prange(nparts):
        r0 = min(n, p * step)
        r1 = n if p == nparts - 1 else min(n, r0 + step)
        if r1 > r0:
            forward_serial(Wf[r0 * K:r1 * K].reshape((r1 - r0, K)), A,
                           bf[r0:r1].reshape((r1 - r0, 1)), act,
                           Zf[r0 * m:r1 * m].reshape((r1 - r0, m)),
                           Af[r0 * m:r1 * m].reshape((r1 - r0, m)),
                           transposed)


@_exact_loop_inline
def _forward(W, A, b, act, Z, Aout, transposed, parallel, min_work,
             nthreads, wide, hand, hand_threads):
    # The choice of fastdnn._kernels.forward (forward_on_gemm), by shape,
    # layout and work size, for both loops (``wide``: None when no layer
    # goes to a GEMM, see network_uses_gemm; ``hand``: None when every
    # layer does, see network_uses_hand_kernels: numba then drops the
    # hand-written kernels below, ``hand`` None coming with ``wide`` True;
    # ``hand_threads``: None when no layer on them has ``min_work``, and
    # numba drops their parallel versions). A sum too short for
    # forward_parallel's chunks (which would then run on one thread) goes
    # to row blocks on threads from ROWS_SPLIT_MIN_WORK, the bits of
    # forward_serial either way.
    m = A.shape[0] if transposed else A.shape[1]
    n, K = W.shape
    if wide is not None:
        if hand is None or forward_on_gemm(n, K, m, transposed):
            forward_blas(W, A, b, act, Z, Aout, transposed,
                         nthreads if parallel else 1)
            return
    if hand is not None:
        work = W.size * m
        if hand_threads is not None and parallel and work >= min_work:
            if _n_chunks(K) > 1:
                forward_parallel(W, A, b, act, Z, Aout, transposed)
                return
            if nthreads > 1 and n >= 8 and work >= ROWS_SPLIT_MIN_WORK:
                _forward_rows(W, A, b, act, Z, Aout, transposed,
                              min(nthreads, n // 4))
                return
        forward_serial(W, A, b, act, Z, Aout, transposed)


@_exact_loop_inline
def _backward(dA, Z, Aout, A_prev, W, act, need_dA_prev, dZ, dW, db,
              dA_prev, transposed, parallel, min_work, nthreads, wide, hand,
              hand_threads):
    # The choice of fastdnn._kernels.backward, by shape and work size
    # (``wide``, ``hand`` and ``hand_threads`` as in _forward; the
    # toolbox's loop shares it).
    # The primal loop passes A_prev transposed only to a layer on
    # fastdnn's GEMM: the hand-written kernels read X itself.
    if wide is not None:
        if hand is None or use_blas(W.shape[0], W.shape[1], dZ.shape[1]):
            backward_blas_unchecked(dA, Z, Aout, A_prev, W, act,
                                    need_dA_prev, dZ, dW, db, dA_prev,
                                    transposed,
                                    nthreads if parallel else 1)
            return
    # No finite check of dW (the kernels' flag): the loops check the cost.
    if hand is not None:
        if (hand_threads is not None and parallel
                and W.size * dZ.shape[1] >= min_work):
            backward_parallel(dA, Z, Aout, A_prev, W, act, need_dA_prev, dZ,
                              dW, db, dA_prev, transposed, nthreads, False)
        else:
            backward_serial(dA, Z, Aout, A_prev, W, act, need_dA_prev, dZ,
                            dW, db, dA_prev, transposed, False)


@_exact_loop
def train(X, XT, Y, dims, acts, output, Wf, woff, bf, boff, Zf, Af, dAf,
          dZf, dWf, dbf, roff, lr, eps, n, costs, parallel, min_work,
          nthreads, wide, hand, hand_threads, parts, fused, fresh, dZ1):
    """Run ``n`` iterations; return how many were completed.

    ``dims`` holds n_x, n_1, ..., n_L; ``acts`` the forward activation code
    of each of the L layers (the output layer's: see
    :data:`fastdnn._primal.OUTPUT_FORWARD_ACT`), ``output`` the output
    code. ``X`` (n_x, m) and ``XT`` = X^T C-contiguous, ``Y`` (n_L, m)
    one-hot for softmax. ``lr`` and ``eps`` are scalars of the training
    dtype. ``costs[k]`` gets the cost of iteration k, before its update; at
    the first non-finite cost ``costs[k+1:n]`` is set to NaN and ``k`` is
    returned, that iteration's update not applied. ``parallel`` allows the
    parallel kernels on layers of at least ``min_work`` multiply-adds,
    ``nthreads`` being the number of threads of the backward kernel's runs.
    ``wide``, ``hand``, ``hand_threads``: True or None each, from
    :func:`fastdnn._kernels_blas.loop_flags` (the loop compiled for None
    has no GEMM, no hand-written kernels, or only their serial versions).
    ``fused``: True when the first layer runs by
    :mod:`fastdnn._primal_fused_kernels` (its chunk sums in ``parts``),
    else None (the loop is then compiled without it): each iteration
    computes the next one's first-layer product in its backward pass over
    X. ``fresh[0]``: 1 when ``parts`` holds the product of the current
    first-layer weights (left by the last call), else 0; the loop sets it
    when it computes them. ``dZ1``: the fused pass's copy of the first
    layer's dZ (:func:`fastdnn._primal_fused_kernels.dZ_buffer`).
    """
    L = dims.shape[0] - 1
    m = X.shape[1]
    nL = dims[L]
    # The hand-written kernels read X^T forward and X backward; fastdnn's
    # GEMM mostly the other way round (both without a copy; see
    # first_layer_layouts).
    x_forward, xt_dW = first_layer_layouts(dims[1], dims[0], m, wide)
    parallel0 = parallel and dims[1] * dims[0] * m >= min_work
    for k in range(n):
        for q in range(L):
            # One call site per kernel (each call site is a copy of the
            # kernel in the compiled loop).
            if q == 0 and fused is not None:
                # The chunk sums, unless the last iteration's backward
                # pass (of this call or the last one) left them.
                if fresh[0] == 0:
                    forward_parts(_param(Wf, woff[0], dims[1], dims[0]), X,
                                  parts, parallel0)
                    fresh[0] = 1
                _forward_finish(parts, _param(bf, boff[0], dims[1], 1),
                                acts[0], _block(Zf, roff[0], dims[1], m),
                                _block(Af, roff[0], dims[1], m))
                continue
            if q == 0:
                A_prev = X if x_forward else XT
            else:
                A_prev = _block(Af, roff[q - 1], dims[q], m)
            _forward(_param(Wf, woff[q], dims[q + 1], dims[q]), A_prev,
                     _param(bf, boff[q], dims[q + 1], 1), acts[q],
                     _block(Zf, roff[q], dims[q + 1], m),
                     _block(Af, roff[q], dims[q + 1], m),
                     q == 0 and not x_forward, parallel, min_work, nthreads,
                     wide, hand, hand_threads)
        # The cost and dZ_L = AL - Y for every output (the last layer is
        # then linear in the backward pass); softmax's AL too, in the same
        # fused kernel.
        cost = output_step(_block(Zf, roff[L - 1], nL, m),
                           _block(Af, roff[L - 1], nL, m), Y,
                           _block(dAf, roff[L - 1], nL, m), output, eps,
                           nthreads if parallel else 1)
        costs[k] = cost
        if not np.isfinite(cost):
            costs[k + 1:n] = np.nan
            return k
        # np.int64: typed as the codes of acts are, so the kernels called
        # with it compile once (a bare module constant is typed as its
        # literal).
        act = np.int64(ACT_IDENTITY)
        for q in range(L - 1, -1, -1):
            nout = dims[q + 1]
            W = _param(Wf, woff[q], nout, dims[q])
            dW = _param(dWf, woff[q], nout, dims[q])
            db = _param(dbf, boff[q], nout, 1)
            dA = _block(dAf, roff[q], nout, m)
            Z = _block(Zf, roff[q], nout, m)
            dZ = _block(dZf, roff[q], nout, m)
            if q > 0:
                A_prev = _block(Af, roff[q - 1], dims[q], m)
                dA_prev = _block(dAf, roff[q - 1], dims[q], m)
            else:
                # X itself; no dA_0 (dZ stands in, unwritten).
                A_prev = XT if xt_dW else X
                dA_prev = dZ
            if q == 0 and fused is not None:
                # What the backward kernel does for dZ and db, then dW, the
                # update of W and the next product.
                _dZ_db(dA, Z, _block(Af, roff[q], nout, m), act, dZ, db)
                copy_rows(dZ, dZ1)
                backward_update_forward(dZ1, X, W, dW, lr, parts, parallel0)
                continue
            # The layer's activations, as the forward pass left them.
            _backward(dA, Z, _block(Af, roff[q], nout, m), A_prev, W, act,
                      q > 0, dZ, dW, db, dA_prev, q == 0 and xt_dW,
                      parallel, min_work, nthreads, wide, hand,
                      hand_threads)
            if q > 0:
                act = acts[q - 1]
        for q in range(L):
            W = _param(Wf, woff[q], dims[q + 1], dims[q])
            if not (q == 0 and fused is not None):
                update_into(W, _param(dWf, woff[q], dims[q + 1], dims[q]),
                            lr, W)
            b = _param(bf, boff[q], dims[q + 1], 1)
            update_into(b, _param(dbf, boff[q], dims[q + 1], 1), lr, b)
    return n


def warmup(dtypes=(np.float32, np.float64)):
    """Compile :func:`train` for ``dtypes``: every variant of the loop
    (:data:`fastdnn._kernels_blas.LOOP_VARIANTS`, with and without a first
    layer run in one pass over X), each by one tiny run through the
    solver, which builds the exact argument types, its flags set to the
    variant's (each variant computes any network; only the kernels it
    picks differ)."""
    from ._kernels_blas import LOOP_VARIANTS
    from ._primal import PrimalSolver
    for dtype in dtypes:
        dt = np.dtype(dtype)
        # A tiny network and one whose first layer runs in one pass over X
        # (fuses_first_layer, on hosts with fastdnn's GEMM).
        for n_x in (2, 2048):
            X = np.ones((n_x, 3), dt)
            Y = np.full((1, 3), 0.5, dt)
            Ws = [np.full((2, n_x), 0.1, dt), np.full((1, 2), 0.1, dt)]
            bs = [np.zeros((2, 1), dt), np.zeros((1, 1), dt)]
            for variant in LOOP_VARIANTS:
                solver = PrimalSolver(X, Y, Ws, bs, 0.1)
                solver._wide, solver._hand, solver._hand_threads = variant
                solver.run(1, np.empty(1))
