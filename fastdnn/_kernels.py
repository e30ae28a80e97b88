"""numba kernels of the jit backend (private).

Every kernel takes validated, C-contiguous float32 or float64 arrays of one
dtype and writes into output arrays allocated by its caller (the public
wrappers of :mod:`fastdnn.jit` or the solver of :mod:`fastdnn._primal`);
nothing here checks its input. Constants are built with ``dtype.type(...)``
so that float32 arrays are computed in float32 throughout (a bare ``1.0``
would promote them to float64).

Activations are passed as small integers (:data:`ACT_IDENTITY`,
:data:`ACT_RELU`, :data:`ACT_SIGMOID`, :data:`ACT_TANH`,
:data:`ACT_LEAKY_RELU`), so that one compiled kernel serves every layer;
outputs likewise (:data:`OUT_SIGMOID`, :data:`OUT_SOFTMAX`,
:data:`OUT_IDENTITY`).

The kernels are spread over several files, re-exported here:
:mod:`fastdnn._kernels_elementwise` (the codes and the element formulas),
:mod:`fastdnn._kernels_backward`, :mod:`fastdnn._kernels_output` and
:mod:`fastdnn._kernels_common` (compile flags, cache-line helpers); this
file holds the forward kernels and the dispatch between serial and
parallel. numba's cache stamp of each kernel file covers the kernel files
it imports (:mod:`fastdnn._numba_cache_stamp`).

Parallel kernels split their work into blocks whose bounds depend only on
the shapes: row blocks of ``dW`` and ``dA_prev`` (independent outputs,
dealt out to the threads in contiguous runs), and a fixed number of chunks
of the n_{l-1} axis for ``Z = W A``, whose partial sums are added in a fixed
order. Every output element is computed by the
same instructions whichever thread runs its block, so results are identical
for any thread count.
"""
import numpy as np

from . import _numba_config as cfg

import numba  # noqa: E402  (after _numba_config set NUMBA_CACHE_DIR)
from numba import prange  # noqa: E402

from ._kernels_backward import (  # noqa: E402,F401  (re-exported)
    BACKWARD_ROWS, backward_parallel, backward_serial,
    weight_gradients_t_serial)
from . import _kernels_blas as blas  # noqa: E402
from ._kernels_common import (  # noqa: E402,F401  (re-exported)
    ZERO_INT, _exact, _parallel, _serial, _serial_leaf, _serial_sum,
    _serial_sum_leaf)
from ._kernels_elementwise import (  # noqa: E402,F401  (re-exported)
    ACT_ALL, ACT_BY_NAME, ACT_IDENTITY, ACT_LEAKY_RELU, ACT_NONE, ACT_RELU,
    ACT_SIGMOID, ACT_TANH, LEAKY_SLOPE, activate_row, activation_grad_row,
    activation_grad_row_from_a, _grad_reads_a,
    activation_backward_into, activation_into, update_into)
from ._kernels_output import (  # noqa: E402,F401  (re-exported)
    OUT_ALL, OUT_BY_NAME, OUT_IDENTITY, OUT_SIGMOID, OUT_SOFTMAX,
    SOFTMAX_COLUMNS, SOFTMAX_PARALLEL_MIN, cost, output_cost, output_dZ_into,
    output_step, softmax_cost, softmax_cross_entropy, softmax_into,
    squared_cost)

#: Forward kernel blocking: columns of Z per block (the accumulators,
#: n_l x 128, stay in L1), rows of A_prev per slab (64 x m stays in L2) and
#: the number of chunks of the n_{l-1} axis that threads share (at most).
FORWARD_COLS = 128
FORWARD_ROWS = 64
FORWARD_CHUNKS = 4


# ---------------------------------------------------------------- forward

@_serial_leaf
def _forward_partial(W, A, acc, k0, k1):
    # acc = W[:, k0:k1] A[k0:k1] as row updates ("axpy") along the
    # contiguous m axis, four rows of A at a time. Rows of A come in slabs of
    # FORWARD_ROWS (which stay in L2) and the columns in blocks of
    # FORWARD_COLS (whose accumulators stay in L1), so A is read from memory
    # once. Each column gets the same additions in the same order whatever
    # the blocking, and no reassociation is needed (or allowed) here.
    n = W.shape[0]
    m = A.shape[1]
    zero = acc.dtype.type(0)
    for i in range(n):
        for j in range(m):
            acc[i, j] = zero
    for kb in range(k0, k1, FORWARD_ROWS):
        ke = min(k1, kb + FORWARD_ROWS)
        for j0 in range(0, m, FORWARD_COLS):
            j1 = min(m, j0 + FORWARD_COLS)
            width = j1 - j0
            k = kb
            while k + 4 <= ke:
                a0 = A[k, j0:j1]
                a1 = A[k + 1, j0:j1]
                a2 = A[k + 2, j0:j1]
                a3 = A[k + 3, j0:j1]
                for i in range(n):
                    w0 = W[i, k]
                    w1 = W[i, k + 1]
                    w2 = W[i, k + 2]
                    w3 = W[i, k + 3]
                    row = acc[i, j0:j1]
                    for j in range(width):
                        row[j] += (w0 * a0[j] + w1 * a1[j]) + (
                            w2 * a2[j] + w3 * a3[j])
                k += 4
            while k < ke:
                a0 = A[k, j0:j1]
                for i in range(n):
                    w0 = W[i, k]
                    row = acc[i, j0:j1]
                    for j in range(width):
                        row[j] += w0 * a0[j]
                k += 1


@_exact
def _n_chunks(K):
    # A fixed number of chunks of the n_{l-1} axis, from K alone (never
    # from the thread count): their partial sums are added in a fixed order.
    return max(1, min(FORWARD_CHUNKS, K // 1024))


@_serial_leaf
def _forward_sum_row(parts, bi, zr, i):
    # Row i of Z: the chunks' partial sums in chunk order, plus the bias.
    # parts may be wider than Z (padding of the transposed kernel).
    nck = parts.shape[0]
    for j in range(zr.shape[0]):
        z = parts[0, i, j]
        for c in range(1, nck):
            z += parts[c, i, j]
        zr[j] = z + bi


@_serial_leaf
def _forward_finish(parts, b, act, Z, Aout):
    n, m = Z.shape
    for i in range(n):
        _forward_sum_row(parts, b[i, 0], Z[i], i)
        activate_row(Z[i], Aout[i], 0, m, act)


# ------------------------------------------------- forward, transposed input

#: Slab of the n_{l-1} axis per pass of the transposed forward kernel: the
#: slab of W (n_l x 3072) and three rows of A_prev^T stay in L2.
FORWARD_T_SLAB = 3072


@numba.njit(inline="always", fastmath=cfg.FASTMATH_SUM, **cfg.JIT_KW)
def _dot_4x3(W, AT, acc, i, j, k0, k1, scale):
    # acc[i:i+4, j:j+3] += scale * (W[i:i+4, k0:k1] . AT[j:j+3, k0:k1]^T):
    # twelve independent sums along the contiguous axis, which LLVM keeps in
    # twelve SIMD registers (7 loads for 12 multiply-adds; a 4x4 block
    # spills). scale is 1 here (exact) and -lr/m in the gram solver's Z1
    # update. Rows of AT past its end are read as its last row, so that a
    # last block of 1 or 2 columns runs as a full block; its extra columns
    # land in the padding of acc, which is 3 * ceil(m / 3) wide.
    last = AT.shape[0] - 1
    w0 = W[i, k0:k1]
    w1 = W[i + 1, k0:k1]
    w2 = W[i + 2, k0:k1]
    w3 = W[i + 3, k0:k1]
    a0 = AT[j, k0:k1]
    a1 = AT[min(j + 1, last), k0:k1]
    a2 = AT[min(j + 2, last), k0:k1]
    s00 = s01 = s02 = s10 = s11 = s12 = acc.dtype.type(0)
    s20 = s21 = s22 = s30 = s31 = s32 = acc.dtype.type(0)
    for k in range(k1 - k0):
        x0 = a0[k]
        x1 = a1[k]
        x2 = a2[k]
        y = w0[k]
        s00 += y * x0
        s01 += y * x1
        s02 += y * x2
        y = w1[k]
        s10 += y * x0
        s11 += y * x1
        s12 += y * x2
        y = w2[k]
        s20 += y * x0
        s21 += y * x1
        s22 += y * x2
        y = w3[k]
        s30 += y * x0
        s31 += y * x1
        s32 += y * x2
    acc[i, j] += scale * s00
    acc[i, j + 1] += scale * s01
    acc[i, j + 2] += scale * s02
    acc[i + 1, j] += scale * s10
    acc[i + 1, j + 1] += scale * s11
    acc[i + 1, j + 2] += scale * s12
    acc[i + 2, j] += scale * s20
    acc[i + 2, j + 1] += scale * s21
    acc[i + 2, j + 2] += scale * s22
    acc[i + 3, j] += scale * s30
    acc[i + 3, j + 1] += scale * s31
    acc[i + 3, j + 2] += scale * s32


@_serial_sum_leaf
def _dot_1x3(W, AT, acc, i, j, k0, k1):
    # The rows of W left over by the 4x3 blocks (AT's rows clipped as in
    # _dot_4x3).
    last = AT.shape[0] - 1
    w0 = W[i, k0:k1]
    a0 = AT[j, k0:k1]
    a1 = AT[min(j + 1, last), k0:k1]
    a2 = AT[min(j + 2, last), k0:k1]
    s0 = s1 = s2 = acc.dtype.type(0)
    for k in range(k1 - k0):
        y = w0[k]
        s0 += y * a0[k]
        s1 += y * a1[k]
        s2 += y * a2[k]
    acc[i, j] += s0
    acc[i, j + 1] += s1
    acc[i, j + 2] += s2


@_exact
def _padded_width(m):
    """Width of the partial-sum buffers of the transposed forward kernel:
    m rounded up to whole 3-column blocks."""
    return m + (-m) % 3


@_serial_sum_leaf
def _forward_t_partial(W, AT, acc, k0, k1):
    # acc[:, :m] = W[:, k0:k1] AT[:, k0:k1]^T as dot products along the
    # contiguous n_{l-1} axis of both operands (A_prev^T is what makes that
    # axis contiguous); acc is _padded_width(m) wide. Each 3-row block of AT
    # is read from memory once per slab and then serves every row block of
    # W from L2. The blocking depends on the shapes only, so each output is
    # summed the same way whichever thread computes it.
    n = W.shape[0]
    mp = acc.shape[1]
    zero = acc.dtype.type(0)
    one = acc.dtype.type(1)
    for i in range(n):
        for j in range(mp):
            acc[i, j] = zero
    for kb in range(k0, k1, FORWARD_T_SLAB):
        ke = min(k1, kb + FORWARD_T_SLAB)
        for j in range(0, mp, 3):
            i = 0
            while i + 4 <= n:
                _dot_4x3(W, AT, acc, i, j, kb, ke, one)
                i += 4
            while i < n:
                _dot_1x3(W, AT, acc, i, j, kb, ke)
                i += 1


@_serial_leaf
def _forward_chunk(W, A, part, k0, k1, transposed):
    if transposed:
        _forward_t_partial(W, A, part, k0, k1)
    else:
        _forward_partial(W, A, part, k0, k1)


@_serial
def forward_serial(W, A, b, act, Z, Aout, transposed):
    """``Z = W A_prev + b``, ``Aout = g(Z)``; W (n_l, n_{l-1}), b (n_l, 1),
    Z and Aout (n_l, m).

    ``A`` is A_prev (n_{l-1}, m), or, when ``transposed``, A_prev^T (m,
    n_{l-1}): the C-contiguous side of a Fortran-ordered A_prev such as the
    course's ``X = images.reshape(m, -1).T``, summed along its contiguous
    axis by the faster kernel.
    """
    n, K = W.shape
    m = A.shape[0] if transposed else A.shape[1]
    nck = _n_chunks(K)
    if nck == 1 and (not transposed or _padded_width(m) == m):
        # One chunk that needs no padding: its sums go into Z itself (the
        # same additions, in place; no scratch to allocate and read back,
        # which is much of a small layer's time).
        _forward_chunk(W, A, Z, ZERO_INT, K, transposed)
        blas.bias_activate_rows(Z, b, act, Aout, ZERO_INT, n)
        return
    step = (K + nck - 1) // nck
    parts = np.empty((nck, n, _padded_width(m)), dtype=Z.dtype)
    for c in range(nck):
        _forward_chunk(W, A, parts[c], c * step, min(K, (c + 1) * step),
                       transposed)
    _forward_finish(parts, b, act, Z, Aout)


@_serial
def linear_forward_t_serial(W, AT, b, Z):
    """``Z = W A_prev + b`` from ``AT`` = A_prev^T (m, n_{l-1}): the Z of
    :func:`forward_serial` with ``transposed`` (the same chunks, sums and
    order, bit for bit), without an activation. The dual form's one-off
    ``W1 X``: this kernel compiles in a third of forward_serial's time,
    which has every activation's code and both layouts."""
    n, K = W.shape
    nck = _n_chunks(K)
    step = (K + nck - 1) // nck
    parts = np.empty((nck, n, _padded_width(AT.shape[0])), dtype=Z.dtype)
    for c in range(nck):
        _forward_t_partial(W, AT, parts[c], c * step, min(K, (c + 1) * step))
    for i in range(n):
        _forward_sum_row(parts, b[i, 0], Z[i], i)


@_parallel
def forward_parallel(W, A, b, act, Z, Aout, transposed):
    """:func:`forward_serial` with the chunks of the n_{l-1} axis spread
    over threads (each a contiguous part of A_prev)."""
    if _n_chunks(W.shape[1]) == 1:
        # Nothing to share out.
        forward_serial(W, A, b, act, Z, Aout, transposed)
        return
    n, K = W.shape
    m = A.shape[0] if transposed else A.shape[1]
    nck = _n_chunks(K)
    step = (K + nck - 1) // nck
    parts = np.empty((nck, n, _padded_width(m)), dtype=Z.dtype)
    for c in prange(nck):
        _forward_chunk(W, A, parts[c], c * step, min(K, (c + 1) * step),
                       transposed)
    _forward_finish(parts, b, act, Z, Aout)


# ---------------------------------------------------------------- dispatch

def _gemm_threads(threads):
    # Tasks for fastdnn's GEMM: numba's threads where they may run. Always
    # asks numba for its thread count, which starts its threading layer:
    # the GEMM kernels embed a parallel region, linked against that layer
    # when they are loaded from the cache.
    count = numba.get_num_threads()
    return count if threads and cfg.parallel_ok() else 1


def forward(W, A, b, act, Z, Aout, transposed=False, threads=True):
    """Run a wide layer on BLAS (:mod:`fastdnn._kernels_blas`, as the
    training loops do; and, on fastdnn's GEMM, a long sum over a C-ordered
    A_prev: :func:`fastdnn._kernels_blas.gemm_takes_c_ordered`),
    :func:`forward_parallel` on other big layers, else the serial kernel
    (identical results to the parallel one).
    ``transposed``: A is A_prev^T (see :func:`forward_serial`).
    ``threads=False`` keeps to the serial kernel, for a one-off product
    whose time does not repay the parallel kernel's compilation (seconds
    with an empty cache)."""
    m = A.shape[0] if transposed else A.shape[1]
    n, n_prev = W.shape
    if blas.forward_on_gemm(n, n_prev, m, transposed):
        blas.forward_blas(W, A, b, act, Z, Aout, transposed,
                          _gemm_threads(threads))
    elif (threads and W.size * m >= cfg.PARALLEL_MIN_WORK
            and cfg.parallel_ok()):
        forward_parallel(W, A, b, act, Z, Aout, transposed)
    else:
        forward_serial(W, A, b, act, Z, Aout, transposed)


def backward(dA, Z, Aout, A_prev, W, act, need_dA_prev, dZ, dW, db,
             dA_prev, transposed=False, threads=True):
    """Run a wide layer on BLAS, :func:`backward_parallel` on other big
    layers, else the serial kernel (identical results to the parallel
    one). ``Aout``: g(Z) (see :func:`backward_serial`); ``transposed``:
    A_prev is passed as A_prev^T; ``threads``: as in :func:`forward`.
    Returns whether every value of W and dW is finite."""
    args = (dA, Z, Aout, A_prev, W, act, need_dA_prev, dZ, dW, db, dA_prev,
            transposed)
    if blas.use_blas(W.shape[0], W.shape[1], dZ.shape[1]):
        finite, _ = blas.backward_blas(*args, _gemm_threads(threads))
    elif (threads and W.size * dZ.shape[1] >= cfg.PARALLEL_MIN_WORK
            and cfg.parallel_ok()):
        finite, _ = backward_parallel(*args, numba.get_num_threads())
    else:
        finite, _ = backward_serial(*args)
    return bool(finite)


def linear_forward_t(W, AT, b, Z):
    """``Z = W A_prev + b`` on one thread, from ``AT`` = A_prev^T: the Z of
    ``forward(W, AT, b, ACT_NONE, Z, Aout, transposed=True,
    threads=False)`` bit for bit, by a kernel without the activations' code
    (the dual form's one-off ``W1 X``, whose compilation is part of a cold
    start)."""
    if blas.use_blas(W.shape[0], W.shape[1], AT.shape[0]):
        blas.forward_blas(W, AT, b, ACT_NONE, Z, np.empty_like(Z), True,
                          _gemm_threads(False))
    else:
        linear_forward_t_serial(W, AT, b, Z)


def weight_gradients_t(dZ, AT, W, dW, db):
    """``dW = dZ A_prev^T / m`` and ``db = rowsum(dZ) / m`` on one thread,
    from ``AT`` = A_prev^T: those of ``backward(dZ, dZ, dZ, AT, W,
    ACT_NONE, False, ..., transposed=True, threads=False)`` bit for bit, by
    a kernel without the activations' code (the dual form's rebuild of
    W1). W (n_l, n_{l-1}) is read only for its shape."""
    if blas.use_blas(W.shape[0], W.shape[1], dZ.shape[1]):
        scratch = np.empty_like(dZ)
        blas.backward_blas(dZ, dZ, dZ, AT, W, ACT_NONE, False, scratch, dW,
                           db, scratch, True, _gemm_threads(False))
    else:
        weight_gradients_t_serial(dZ, AT, dW, db)


def warmup(dtypes=(np.float32, np.float64)):
    """Compile every kernel (serial and parallel) for ``dtypes``."""
    numba.get_num_threads()  # starts numba's threads (see _gemm_threads)
    for dtype in dtypes:
        dt = np.dtype(dtype)
        one = np.ones((2, 3), dt)
        W = np.ones((2, 2), dt)
        b = np.zeros((2, 1), dt)
        out = np.empty((2, 3), dt)
        out2 = np.empty((2, 3), dt)
        row = np.full((1, 3), 0.5, dt)
        for act in ACT_ALL:
            activation_into(one, act, out)
            activation_backward_into(one, one, act, out)
            activate_row(one[0], out[0], 0, 3, act)
            activation_grad_row(one[0], one[0], out[0], 0, 3, act)
            activation_grad_row_from_a(one[0], one[0], one[0], out[0], 0, 3,
                                       act)
        for kernel in (forward_serial, forward_parallel):
            kernel(W, one, b, ACT_RELU, out, out2, False)
        blas.forward_blas(W, one, b, ACT_RELU, out, out2, False, 1)
        blas.forward_blas(W, one.T.copy(), b, ACT_RELU, out, out2, True, 1)
        dW = np.empty((2, 2), dt)
        for transposed in (False, True):
            A_prev = one.T.copy() if transposed else one
            args = (one, one, one, A_prev, W, ACT_RELU, True, out, dW,
                    b.copy(), out2, transposed)
            backward_serial(*args)
            backward_parallel(*args, 2)
            blas.backward_blas(*args, 1)
        linear_forward_t_serial(W, one.T.copy(), b, out)
        weight_gradients_t_serial(one, one.T.copy(), dW, b.copy())
        eps = np.finfo(dt).eps
        for output in OUT_ALL:
            output_cost(one, one, output, dt.type(eps))
        cost(row, row, dt.type(eps), dt.type(1) - dt.type(eps))
        softmax_cost(one, one, dt.type(eps))
        squared_cost(one, one)
        output_dZ_into(one, one, out)
        softmax_into(one, out)
        for output in OUT_ALL:
            output_step(one, out, one, out2, output, dt.type(eps), 1)
        softmax_cross_entropy(one, one, out, out2, dt.type(eps), 1)
        update_into(W, W, dt.type(0.1), np.empty_like(W))
