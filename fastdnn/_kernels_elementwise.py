"""Element-wise numba kernels of the jit backend (private): the hidden
activations and their gradients, and the parameter update.

Re-exported by :mod:`fastdnn._kernels`, whose fused layer kernels call
:func:`_activate` and :func:`_activation_grad` on every element. Activations
are small integers (numba freezes these module globals at compile time), so
that one compiled kernel serves every activation of every layer::

    ACT_IDENTITY = ACT_NONE = 0, ACT_RELU = 1, ACT_SIGMOID = 2,
    ACT_TANH = 3, ACT_LEAKY_RELU = 4

Constants are built with ``type(z)(...)`` so that float32 stays float32.
Nothing here checks its input.
"""
import numpy as np

from . import _numba_config as cfg

import numba  # noqa: E402  (after _numba_config set NUMBA_CACHE_DIR)

ACT_IDENTITY = 0
#: The linear "activation" under its older name.
ACT_NONE = ACT_IDENTITY
ACT_RELU = 1
ACT_SIGMOID = 2
ACT_TANH = 3
ACT_LEAKY_RELU = 4

#: Every activation code, for warm-up loops and tests.
ACT_ALL = (ACT_IDENTITY, ACT_RELU, ACT_SIGMOID, ACT_TANH, ACT_LEAKY_RELU)

#: Activation codes by the reference's names (``fastdnn.jit.ACT_CODES``).
ACT_BY_NAME = {"sigmoid": ACT_SIGMOID, "relu": ACT_RELU, "tanh": ACT_TANH,
               "leaky_relu": ACT_LEAKY_RELU, "identity": ACT_IDENTITY}

#: Slope of leaky ReLU for negative inputs, as the reference's ``0.01 * Z``
#: (cast to the array's dtype, as numpy casts a Python float).
LEAKY_SLOPE = 0.01

_exact = numba.njit(**cfg.JIT_KW)


@_exact
def _sigmoid_scalar(z):
    # exp of a non-positive number only: no overflow for any finite z; the
    # same formula, branch for branch, as the reference's _sigmoid.
    one = type(z)(1)
    e = np.exp(-abs(z))
    if z >= 0:
        return one / (one + e)
    return e / (one + e)


@_exact
def _sigmoid_derivative(dA, z):
    s = _sigmoid_scalar(z)
    one = type(z)(1)
    return dA * s * (one - s)


@_exact
def _activate(z, act):
    """``g(z)`` for the activation code ``act``."""
    if act == ACT_RELU:
        # np.maximum(0, z) of the reference: NaN stays NaN.
        return type(z)(0) if z < 0 else z
    if act == ACT_SIGMOID:
        return _sigmoid_scalar(z)
    if act == ACT_TANH:
        return np.tanh(z)
    if act == ACT_LEAKY_RELU:
        # np.where(Z > 0, Z, 0.01 * Z): a NaN z takes the second branch,
        # and stays NaN there.
        return z if z > 0 else type(z)(LEAKY_SLOPE) * z
    return z


@_exact
def _activation_grad(dA, z, act):
    """``dA * g'(z)`` for the activation code ``act``, with the reference's
    operation order (so the same roundings)."""
    if act == ACT_RELU:
        # The reference zeroes dA where z <= 0 (a NaN z keeps dA).
        return type(dA)(0) if z <= 0 else dA
    if act == ACT_SIGMOID:
        return _sigmoid_derivative(dA, z)
    if act == ACT_TANH:
        # dA * (1 - A**2), A = tanh(Z): recomputed from Z, as the
        # reference's backward receives only Z.
        a = np.tanh(z)
        return dA * (type(dA)(1) - a * a)
    if act == ACT_LEAKY_RELU:
        return dA if z > 0 else type(dA)(LEAKY_SLOPE) * dA
    return dA


@_exact
def activation_into(Z, act, out):
    """``out = g(Z)`` element-wise, Z and out (n_l, m)."""
    n, m = Z.shape
    for i in range(n):
        for j in range(m):
            out[i, j] = _activate(Z[i, j], act)


@_exact
def activation_backward_into(dA, Z, act, out):
    """``out = dA * g'(Z)`` element-wise, all (n_l, m)."""
    n, m = Z.shape
    for i in range(n):
        for j in range(m):
            out[i, j] = _activation_grad(dA[i, j], Z[i, j], act)


@_exact
def update_into(P, G, lr, out):
    """``out = P - lr * G`` (no fused multiply-add: the reference's two
    roundings, bit for bit)."""
    n, m = P.shape
    for i in range(n):
        for j in range(m):
            out[i, j] = P[i, j] - lr * G[i, j]
