"""The activation codes and the element formulas of the numba kernels
(private): one branch per activation of the reference's table, used by every
fused kernel (forward, backward, the primal and gram loops), and the
element-wise kernels of the building blocks (activation, its backward pass,
the parameter update).

Activations are passed as small integers, so that one compiled kernel
serves every layer; numba freezes these module constants into the compiled
code.
"""

from ._kernels_common import _exact
from ._kernels_math import sigmoid_fast, tanh_fast

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


# --------------------------------------------------------------- activations

@_exact
def _sigmoid_scalar(z):
    # The reference's overflow-free formula (exp of -|z| only, 1 / (1 + e)
    # or e / (1 + e)) without a libm call, so that loops vectorise: within
    # 1 ulp of the exact value, 3 of the reference's (_kernels_math).
    return sigmoid_fast(z)


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
        # Vectorisable; within 2 ulps of np.tanh (_kernels_math).
        return tanh_fast(z)
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
        a = tanh_fast(z)
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


# ---------------------------------------------------------------- update

@_exact
def update_into(P, G, lr, out):
    """``out = P - lr * G`` (no fused multiply-add: the reference's two
    roundings, bit for bit)."""
    n, m = P.shape
    for i in range(n):
        for j in range(m):
            out[i, j] = P[i, j] - lr * G[i, j]
