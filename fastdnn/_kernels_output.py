"""Output-layer numba kernels of the jit backend (private): softmax, the
cost of each output and the output gradient.

Re-exported by :mod:`fastdnn._kernels`. Outputs are small integers::

    OUT_SIGMOID = 0   (binary cross-entropy)
    OUT_SOFTMAX = 1   (categorical cross-entropy)
    OUT_IDENTITY = 2  (squared error)

Every kernel takes C-contiguous arrays of one float dtype and computes in
that dtype; nothing here checks its input. Clipping uses explicit
comparisons rather than min/max so that a NaN stays NaN: a diverged run is
reported, not clipped into a finite cost.

The training loops finish the forward pass and start the backward pass
with one call, :func:`output_step`: the softmax output's activation, cost
and gradient are one fused kernel (:func:`softmax_cross_entropy`), which
works through blocks of columns and deals them out to threads over a long
batch.
"""
import numpy as np
from numba import prange

from ._kernels_by_symbol_arrays import arrays_by_symbol, matrix_at, row_at
from ._kernels_common import (ZERO_INT, _exact, _exact_leaf,
                              _exact_parallel, _exact_pinned_leaf,
                              _serial_sum_leaf)
# The softmax's exp without a libm call, so that its loops vectorise (within
# 1 ulp of the exact value; _kernels_math).
from ._kernels_math import exp_fast

OUT_SIGMOID = 0
OUT_SOFTMAX = 1
OUT_IDENTITY = 2

#: Every output code, for warm-up loops and tests.
OUT_ALL = (OUT_SIGMOID, OUT_SOFTMAX, OUT_IDENTITY)

#: Output codes by the reference's names (``fastdnn.jit.OUTPUT_CODES``).
OUT_BY_NAME = {"sigmoid": OUT_SIGMOID, "softmax": OUT_SOFTMAX,
               "identity": OUT_IDENTITY}

#: Columns per block of the fused softmax step: a block's softmax, gradient
#: and share of the cost are computed while its columns are in L1 (ten
#: classes: 10 KB a row block in float64), and the blocks are what the
#: threads share.
SOFTMAX_COLUMNS = 128
#: The fused softmax step deals its blocks out to threads from this many
#: elements (n_L m) on. Per element it takes an exp, a division and a few
#: passes, 3-7 ns on one core (the digits' 10 x 1797 output: 60-130 us a
#: step, float32-float64, on a Zen 3 host), against about 5 us for a
#: parallel region there.
SOFTMAX_PARALLEL_MIN = 1 << 13


@_exact_pinned_leaf
def _softmax_columns_code(Z, out, top, total, j0, j1):
    # Column-wise softmax of Z[:, j0:j1] into out[:, j0:j1]; top and total
    # (j1 - j0 elements) hold each column's max and sum. Every loop runs
    # along a row from 0, on SIMD lanes of columns.
    n = Z.shape[0]
    w = j1 - j0
    # The running max goes back and forth between top and total, each row
    # read from one and written whole to the other: updated in place, it
    # would be stored where it changes only, which LLVM emits as masked
    # stores, microcoded on AMD's cores (the softmax of 10 x 1797 float32
    # values: 23-24.5 us against 30-32 on one Zen 3 core).
    z = Z[0][j0:j1]
    for j in range(w):
        top[j] = z[j]
    last, new = top, total
    for i in range(1, n):
        z = Z[i][j0:j1]
        for j in range(w):
            v = z[j]
            m = last[j]
            # np.max propagates NaN: so does this.
            new[j] = v if v > m or v != v else m
        last, new = new, last
    if n % 2 == 0:  # an odd number of passes: the max is in total
        for j in range(w):
            top[j] = total[j]
    for j in range(w):
        total[j] = 0
    for i in range(n):
        z = Z[i][j0:j1]
        o = out[i][j0:j1]
        for j in range(w):
            e = exp_fast(z[j] - top[j])
            o[j] = e
            total[j] += e
    for i in range(n):
        o = out[i][j0:j1]
        for j in range(w):
            o[j] = o[j] / total[j]


def _softmax_columns_at(x, Z, Z0, Z1, out, o0, o1, top, ntop, total, ntotal,
                        j0, j1):
    _softmax_columns_code(matrix_at(Z, Z0, Z1, x), matrix_at(out, o0, o1, x),
                          row_at(top, ntop, x), row_at(total, ntotal, x), j0,
                          j1)


#: Compiled once per dtype and called by symbol: each softmax kernel and
#: training loop reaches it (fastdnn._kernels_by_symbol_arrays).
_softmax_columns = arrays_by_symbol(
    _softmax_columns_code, _softmax_columns_at, "softmax_columns",
    ("matrix", "matrix", "row", "row", "int", "int"))


@_exact
def softmax_into(Z, out):
    """Column-wise softmax of Z (n, m) into out (n, m), stable.

    The reference's ``E = exp(Z - max(Z, axis=0)); E / sum(E, axis=0)``,
    the sums taken row after row as numpy's axis-0 reduction does. A NaN or
    infinite Z makes its whole column NaN, as in the reference.
    """
    m = Z.shape[1]
    scratch = np.empty(2 * m, Z.dtype)
    _softmax_columns(Z, out, scratch[:m], scratch[m:], 0, m)


@_serial_sum_leaf
def cost(AL, Y, lo, hi):
    """Cross-entropy of AL (n, m) against Y (n, m), AL clipped to [lo, hi].

    The reference's ``(1/m) * (-Y.log(AL)^T - (1-Y).log(1-AL)^T)``, in AL's
    dtype; several rows (independent units, multi-label) are summed.
    """
    n, m = AL.shape
    one = AL.dtype.type(1)
    s_pos = AL.dtype.type(0)
    s_neg = AL.dtype.type(0)
    for i in range(n):
        for j in range(m):
            a = AL[i, j]
            if a < lo:
                a = lo
            elif a > hi:
                a = hi
            y = Y[i, j]
            s_pos += y * np.log(a)
            s_neg += (one - y) * np.log(one - a)
    return AL.dtype.type(1.0 / m) * (-s_pos - s_neg)


@_serial_sum_leaf
def softmax_cost(AL, Y, lo):
    """Categorical cross-entropy ``-(1/m) * sum(Y * log(clip(AL, lo, 1)))``
    of AL (C, m) against the one-hot Y (C, m), in AL's dtype."""
    n, m = AL.shape
    one = AL.dtype.type(1)
    s = AL.dtype.type(0)
    for i in range(n):
        for j in range(m):
            a = AL[i, j]
            if a < lo:
                a = lo
            elif a > one:
                a = one
            s += Y[i, j] * np.log(a)
    return -AL.dtype.type(1.0 / m) * s


@_serial_sum_leaf
def squared_cost(AL, Y):
    """Squared error ``(1/(2m)) * sum((AL - Y)**2)`` of AL (n, m) against Y
    (n, m), in AL's dtype."""
    n, m = AL.shape
    s = AL.dtype.type(0)
    for i in range(n):
        for j in range(m):
            d = AL[i, j] - Y[i, j]
            s += d * d
    return AL.dtype.type(1.0 / (2 * m)) * s


@_exact_leaf
def output_cost(AL, Y, output, eps):
    """The cost of the output code ``output``; ``eps`` is the dtype's
    machine epsilon (the clip of the two cross-entropies). Y is one-hot for
    softmax."""
    if output == OUT_SOFTMAX:
        return softmax_cost(AL, Y, eps)
    if output == OUT_IDENTITY:
        return squared_cost(AL, Y)
    one = AL.dtype.type(1)
    return cost(AL, Y, eps, one - eps)


@_exact_leaf
def output_dZ_into(AL, Y, dZ):
    """``dZ = AL - Y``, all (n_L, m): the gradient of every output's cost
    with respect to the output layer's Z (Y one-hot for softmax)."""
    n, m = AL.shape
    for i in range(n):
        for j in range(m):
            dZ[i, j] = AL[i, j] - Y[i, j]


@_exact_leaf
def _cross_entropy_columns(AL, Y, dZ, lo, j0, j1):
    # dZ = AL - Y on the columns j0:j1, and the sum of y log(clip(a, lo,
    # 1)) over them, row after row, without reassociation, skipping the
    # terms with y == 0: adding their 0 * log(a) (a signed zero) leaves
    # the sum as it is, unless a is NaN, which is passed on. With one-hot
    # labels that is one log per column instead of n.
    n = AL.shape[0]
    w = j1 - j0
    one = AL.dtype.type(1)
    s = AL.dtype.type(0)
    for i in range(n):
        ai = AL[i][j0:j1]
        yi = Y[i][j0:j1]
        di = dZ[i][j0:j1]
        for j in range(w):
            di[j] = ai[j] - yi[j]
        for j in range(w):
            y = yi[j]
            a = ai[j]
            if y != 0 or a != a:
                if a < lo:
                    a = lo
                elif a > one:
                    a = one
                s += y * np.log(a)
    return s


@_exact_leaf
def _softmax_blocks(Z, Y, AL, dZ, lo, top, total, partial, b0, b1):
    # The blocks b0 .. b1 - 1 of SOFTMAX_COLUMNS columns (the last one
    # shorter): softmax, gradient, and the block's share of the cost in
    # partial[b].
    m = Z.shape[1]
    for b in range(b0, b1):
        j0 = b * SOFTMAX_COLUMNS
        j1 = min(m, j0 + SOFTMAX_COLUMNS)
        _softmax_columns(Z, AL, top[j0:j1], total[j0:j1], j0, j1)
        partial[b] = _cross_entropy_columns(AL, Y, dZ, lo, j0, j1)


@_exact_parallel
def _softmax_blocks_parallel(Z, Y, AL, dZ, lo, top, total, partial, runs):
    # The blocks in ``runs`` fixed ranges, one per task.
    blocks = partial.shape[0]
    for r in prange(runs):
        _softmax_blocks(Z, Y, AL, dZ, lo, top, total, partial,
                        r * blocks // runs, (r + 1) * blocks // runs)


@_exact
def softmax_cross_entropy(Z, Y, AL, dZ, lo, threads):
    """The softmax output's whole step: ``AL = softmax(Z)`` (the bits of
    :func:`softmax_into`), ``dZ = AL - Y`` and the cost ``-(1/m) * sum(Y *
    log(clip(AL, lo, 1)))``, all (C, m), Y one-hot; returns the cost.

    The columns go in blocks of :data:`SOFTMAX_COLUMNS`, dealt out to up
    to ``threads`` threads from :data:`SOFTMAX_PARALLEL_MIN` elements on.
    Each block's share of the cost is summed row after row, without
    reassociation, skipping the terms with ``y == 0`` (one ``log`` per
    column), and the shares are added in block order: the cost is the same
    for any number of threads, and for a batch of one block it is summed
    in the order of :func:`softmax_cost` (which, reassociated, may round
    differently).
    """
    n, m = Z.shape
    blocks = (m + SOFTMAX_COLUMNS - 1) // SOFTMAX_COLUMNS
    # One allocation: each column's max and sum, each block's share.
    scratch = np.empty(2 * m + blocks, Z.dtype)
    top = scratch[:m]
    total = scratch[m:2 * m]
    partial = scratch[2 * m:]
    runs = min(threads, blocks)
    if runs > 1 and n * m >= SOFTMAX_PARALLEL_MIN:
        _softmax_blocks_parallel(Z, Y, AL, dZ, lo, top, total, partial, runs)
    else:
        _softmax_blocks(Z, Y, AL, dZ, lo, top, total, partial, ZERO_INT,
                        blocks)
    s = partial[0]
    for b in range(1, blocks):
        s += partial[b]
    return -Z.dtype.type(1.0 / m) * s


@_exact_pinned_leaf
def _cost_and_dZ_code(AL, Y, dZ, output, eps):
    # The non-softmax outputs' end of the step: the cost of the output code
    # and dZ = AL - Y.
    cost_value = output_cost(AL, Y, output, eps)
    output_dZ_into(AL, Y, dZ)
    return cost_value


def _cost_and_dZ_at(x, AL, a0, a1, Y, y0, y1, dZ, d0, d1, output, eps):
    return _cost_and_dZ_code(matrix_at(AL, a0, a1, x), matrix_at(Y, y0, y1, x),
                             matrix_at(dZ, d0, d1, x), output, eps)


#: Compiled once per dtype and called by symbol: every training loop
#: reaches it through output_step, and the three costs it may compute
#: would otherwise be compiled again inside each of them, whichever output
#: the run has (fastdnn._kernels_by_symbol_arrays).
_cost_and_dZ = arrays_by_symbol(
    _cost_and_dZ_code, _cost_and_dZ_at, "cost_and_dZ",
    ("matrix", "matrix", "matrix", "int", "float"), restype="float")


@_exact
def output_step(Z, AL, Y, dZ, output, eps, threads):
    """The output layer's end of the forward pass and start of the
    backward pass: the cost of the output code ``output`` and ``dZ = AL -
    Y``. For softmax, ``AL = softmax(Z)`` too, all in one kernel, on up to
    ``threads`` threads over a long batch (1 on a thread that may not
    launch numba's pool; the result is the same); for the others the
    forward kernel has already written AL (Z unused). Returns the cost;
    ``eps`` is the dtype's machine epsilon."""
    if output == OUT_SOFTMAX:
        return softmax_cross_entropy(Z, Y, AL, dZ, eps, threads)
    return _cost_and_dZ(AL, Y, dZ, output, eps)
