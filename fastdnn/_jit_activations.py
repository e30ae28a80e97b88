"""The activations of :mod:`fastdnn.jit` and their backward passes, on the
numba kernels (re-exported there): the same signatures, returns and errors
as :mod:`fastdnn._reference_activations`' functions.

Shapes use the course's notation: ``n_l`` units in layer ``l`` and ``m``
examples, one per column.
"""
import numpy as np

from . import _kernels as K
from . import _validation as v


def _c(x):
    # Kernels are compiled for C-contiguous arrays only: one specialisation
    # per dtype, and Fortran-ordered or strided input gives the same result.
    return np.ascontiguousarray(x)


def _activation(Z, act):
    Z = _c(Z)
    A = np.empty_like(Z)
    K.activation_into(Z, act, A)
    return A, Z


def sigmoid(Z):
    """Sigmoid activation, numerically stable.

    Parameters
    ----------
    Z : ndarray of shape (n_l, m)

    Returns
    -------
    A : ndarray of shape (n_l, m)
        ``1 / (1 + exp(-Z))``.
    cache : ndarray
        ``Z``, for the backward pass.
    """
    Z = v.as_matrix(Z, "Z", shape_hint="(n_l, m)")
    return _activation(Z, K.ACT_SIGMOID)


def relu(Z):
    """ReLU activation ``max(0, Z)``; returns ``(A, Z)`` like
    :func:`sigmoid`."""
    Z = v.as_matrix(Z, "Z", shape_hint="(n_l, m)")
    return _activation(Z, K.ACT_RELU)


def tanh(Z):
    """Hyperbolic tangent activation; returns ``(A, Z)`` like
    :func:`sigmoid`."""
    Z = v.as_matrix(Z, "Z", shape_hint="(n_l, m)")
    return _activation(Z, K.ACT_TANH)


def leaky_relu(Z):
    """Leaky ReLU, ``Z`` where ``Z > 0`` else ``0.01 * Z``; returns ``(A,
    Z)`` like :func:`sigmoid`."""
    Z = v.as_matrix(Z, "Z", shape_hint="(n_l, m)")
    return _activation(Z, K.ACT_LEAKY_RELU)


def softmax(Z):
    """Column-wise softmax, stable for any finite Z (an output activation).

    Parameters
    ----------
    Z : ndarray of shape (n_L, m)

    Returns
    -------
    A : ndarray of shape (n_L, m)
        ``E / sum(E, axis=0)`` with ``E = exp(Z - max(Z, axis=0))``.
    cache : ndarray
        ``Z``.
    """
    Z = _c(v.as_matrix(Z, "Z", shape_hint="(n_l, m)"))
    A = np.empty_like(Z)
    K.softmax_into(Z, A)
    return A, Z


def _activation_backward(dA, cache, act):
    dA, Z = v.check_activation_grad(dA, cache)
    dA, Z = _c(dA), _c(Z)
    dZ = np.empty_like(dA)
    K.activation_backward_into(dA, Z, act, dZ)
    return dZ


def sigmoid_backward(dA, cache):
    """Backward pass of a sigmoid unit.

    Parameters
    ----------
    dA : ndarray of shape (n_l, m)
    cache : ndarray of shape (n_l, m)
        ``Z`` from the forward pass.

    Returns
    -------
    dZ : ndarray of shape (n_l, m)
        ``dA * s * (1 - s)`` with ``s = sigmoid(Z)``.
    """
    return _activation_backward(dA, cache, K.ACT_SIGMOID)


def relu_backward(dA, cache):
    """Backward pass of a ReLU unit: ``dA`` where ``Z > 0``, else 0.

    Shapes as in :func:`sigmoid_backward`.
    """
    return _activation_backward(dA, cache, K.ACT_RELU)


def tanh_backward(dA, cache):
    """Backward pass of a tanh unit: ``dA * (1 - A**2)`` with ``A =
    tanh(Z)``. Shapes as in :func:`sigmoid_backward`."""
    return _activation_backward(dA, cache, K.ACT_TANH)


def leaky_relu_backward(dA, cache):
    """Backward pass of a leaky ReLU unit: ``dA`` where ``Z > 0``, else
    ``0.01 * dA``. Shapes as in :func:`sigmoid_backward`."""
    return _activation_backward(dA, cache, K.ACT_LEAKY_RELU)
