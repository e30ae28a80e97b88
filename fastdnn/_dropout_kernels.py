"""Inverted dropout's masks in compiled code (private): the numba twin of
:func:`fastdnn._toolbox_options.dropout_uniform`, bit for bit, and the
course's two operations with the mask, for both toolbox solvers (primal
and dual form).

Element (i, j) of layer ``layer``'s (n_rows, n_cols) draws at update
``step`` is ``splitmix64(key + (i * n_cols + j + 1) * GOLDEN) >> 11``
times 2**-53, with the stream key derived from (seed, layer, step). The
arithmetic is uint64 only: numba types a mix of int64 and uint64 as
float64, so every constant here is a ``np.uint64``.
"""
import numpy as np

from ._kernels_common import _exact, _exact_leaf

# splitmix64's constants (the values of fastdnn._toolbox_options, which a
# test compares; literal here because compiled code freezes them and the
# cache stamp covers kernel files only).
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
_S11 = np.uint64(11)
_S27 = np.uint64(27)
_S30 = np.uint64(30)
_S31 = np.uint64(31)
_ONE = np.uint64(1)
#: 2**-53.
UNIT = 1.0 / 9007199254740992.0


@_exact
def _mix64(z):
    z = (z ^ (z >> _S30)) * MIX1
    z = (z ^ (z >> _S27)) * MIX2
    return z ^ (z >> _S31)


@_exact
def dropout_key(seed, layer, step):
    """The stream key (uint64) of layer ``layer``'s mask at ``step``."""
    key = _mix64(np.uint64(seed) ^ GOLDEN)
    key = _mix64(key + np.uint64(layer))
    return _mix64(key + np.uint64(step))


@_exact
def _uniform(key, c):
    # Draw number c (from 0) of the stream: counter c + 1.
    bits = _mix64(key + (np.uint64(c) + _ONE) * GOLDEN) >> _S11
    return np.float64(bits) * UNIT


@_exact_leaf
def dropout_uniform_into(seed, layer, step, out):
    """``out`` (n_rows, n_cols) float64 = ``dropout_uniform(seed, layer,
    step, n_rows, n_cols)`` of :mod:`fastdnn._toolbox_options`."""
    key = dropout_key(seed, layer, step)
    n, m = out.shape
    for i in range(n):
        for j in range(m):
            out[i, j] = _uniform(key, i * m + j)


@_exact_leaf
def dropout_apply(A, D, seed, layer, step, keep_prob):
    """Draw layer ``layer``'s mask at ``step`` into ``D`` (1 kept, 0
    dropped, A's dtype; element (i, j) kept when its uniform is below
    ``keep_prob``, a float64) and apply it: ``A = A * D / keep_prob``, the
    course's two operations (``keep_prob`` cast to A's dtype).

    A and D are (n_l, mb) arrays of any strides: the activations of one
    layer over one batch, possibly a block of a larger buffer."""
    key = dropout_key(seed, layer, step)
    n, m = A.shape
    T = A.dtype.type
    kp = T(keep_prob)
    one = T(1)
    zero = T(0)
    for i in range(n):
        for j in range(m):
            d = one if _uniform(key, i * m + j) < keep_prob else zero
            D[i, j] = d
            A[i, j] = A[i, j] * d / kp


@_exact_leaf
def mask_apply(dA, D, keep_prob):
    """The backward pass's ``dA = dA * D / keep_prob``."""
    n, m = dA.shape
    kp = dA.dtype.type(keep_prob)
    for i in range(n):
        for j in range(m):
            dA[i, j] = dA[i, j] * D[i, j] / kp
