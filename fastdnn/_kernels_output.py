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
and gradient are one fused kernel (:func:`softmax_cross_entropy`).
"""
import numpy as np

from ._kernels_common import _exact, _exact_leaf, _serial_sum_leaf
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


@_exact
def softmax_into(Z, out):
    """Column-wise softmax of Z (n, m) into out (n, m), stable.

    The reference's ``E = exp(Z - max(Z, axis=0)); E / sum(E, axis=0)``,
    the sums taken row after row as numpy's axis-0 reduction does. A NaN or
    infinite Z makes its whole column NaN, as in the reference.
    """
    n, m = Z.shape
    top = Z[0].copy()
    for i in range(1, n):
        row = Z[i]
        for j in range(m):
            z = row[j]
            # np.max propagates NaN: so does this.
            if z > top[j] or z != z:
                top[j] = z
    total = np.zeros(m, dtype=Z.dtype)
    for i in range(n):
        row = Z[i]
        orow = out[i]
        for j in range(m):
            e = exp_fast(row[j] - top[j])
            orow[j] = e
            total[j] += e
    for i in range(n):
        orow = out[i]
        for j in range(m):
            orow[j] = orow[j] / total[j]


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


@_exact
def softmax_cross_entropy(Z, Y, AL, dZ, lo):
    """The softmax output's whole step: ``AL = softmax(Z)`` (by
    :func:`softmax_into`), ``dZ = AL - Y`` and the cost ``-(1/m) * sum(Y *
    log(clip(AL, lo, 1)))``, all (C, m), Y one-hot; returns the cost.

    The cost sums row after row, as :func:`softmax_cost` does, but without
    reassociation and skipping the terms with ``y == 0``: adding their ``0
    * log(a)`` (a signed zero) leaves the sum as it is, unless ``a`` is
    NaN, which is passed on. With one-hot labels that is one ``log`` per
    column instead of C. Every loop runs along a row, on SIMD lanes of
    columns.
    """
    softmax_into(Z, AL)
    n, m = Z.shape
    one = Z.dtype.type(1)
    s = Z.dtype.type(0)
    for i in range(n):
        ai = AL[i]
        yi = Y[i]
        di = dZ[i]
        for j in range(m):
            di[j] = ai[j] - yi[j]
        for j in range(m):
            y = yi[j]
            a = ai[j]
            if y != 0 or a != a:
                if a < lo:
                    a = lo
                elif a > one:
                    a = one
                s += y * np.log(a)
    return -Z.dtype.type(1.0 / m) * s


@_exact
def output_step(Z, AL, Y, dZ, output, eps):
    """The output layer's end of the forward pass and start of the
    backward pass: the cost of the output code ``output`` and ``dZ = AL -
    Y``. For softmax, ``AL = softmax(Z)`` too, all in one kernel; for the
    others the forward kernel has already written AL (Z unused). Returns
    the cost; ``eps`` is the dtype's machine epsilon."""
    if output == OUT_SOFTMAX:
        return softmax_cross_entropy(Z, Y, AL, dZ, eps)
    cost_value = output_cost(AL, Y, output, eps)
    output_dZ_into(AL, Y, dZ)
    return cost_value
