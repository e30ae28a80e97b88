"""The reference backend's activations, as plain numpy formulas.

:data:`ACTIVATIONS` is the single place that says which hidden-layer
activations exist: the argument checks of both backends take their names
from it, and the numba backend maps the same names to kernel codes. Every
function here works on arrays that are already validated (2-D, float32 or
float64, finite), shape ``(n_l, m)``, and keeps their dtype.
"""
import numpy as np

#: Slope of leaky ReLU for ``Z <= 0``.
LEAKY_SLOPE = 0.01


def sigmoid(Z):
    """``1 / (1 + exp(-Z))`` without overflow for any finite Z."""
    # exp of a negative number only. For Z >= 0 this is exactly the course's
    # 1 / (1 + exp(-Z)).
    e = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_backward(dA, Z):
    """``dA * s * (1 - s)`` with ``s = sigmoid(Z)``."""
    s = sigmoid(Z)
    return dA * s * (1 - s)


def relu(Z):
    """``max(0, Z)``."""
    return np.maximum(0, Z)


def relu_backward(dA, Z):
    """``dA`` where ``Z > 0``, else 0."""
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def tanh(Z):
    """``tanh(Z)``."""
    return np.tanh(Z)


def tanh_backward(dA, Z):
    """``dA * (1 - A**2)`` with ``A = tanh(Z)``."""
    A = np.tanh(Z)
    return dA * (1 - A ** 2)


def leaky_relu(Z):
    """``Z`` where ``Z > 0``, else ``0.01 * Z``."""
    # The slope in Z's dtype, so float32 stays float32.
    return np.where(Z > 0, Z, Z.dtype.type(LEAKY_SLOPE) * Z)


def leaky_relu_backward(dA, Z):
    """``dA`` where ``Z > 0``, else ``0.01 * dA``."""
    return np.where(Z > 0, dA, dA.dtype.type(LEAKY_SLOPE) * dA)


def identity(Z):
    """``Z`` (a copy, so that A and the cache's Z are different arrays)."""
    return np.array(Z, copy=True)


def identity_backward(dA, Z):
    """``dA`` (a copy)."""
    return np.array(dA, copy=True)


def softmax(Z):
    """Column-wise softmax, stable for any finite Z.

    ``E = exp(Z - max over rows of each column)``, ``A = E / sum(E,
    axis=0)``: the largest exponent is 0, so nothing overflows, and every
    column of A sums to 1. An output activation only (it has no
    element-wise backward pass: see :mod:`fastdnn._reference_outputs`).
    """
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


#: Hidden-layer activations by name, each ``name: (forward(Z) -> A,
#: backward(dA, Z) -> dZ)`` on validated arrays.
ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_backward),
    "relu": (relu, relu_backward),
    "tanh": (tanh, tanh_backward),
    "leaky_relu": (leaky_relu, leaky_relu_backward),
    "identity": (identity, identity_backward),
}
