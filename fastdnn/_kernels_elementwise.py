"""The activation codes and the element formulas of the numba kernels
(private): one branch per activation of the reference's table, used by every
fused kernel (forward, backward, the primal and gram loops), and the
element-wise kernels of the building blocks (activation, its backward pass,
the parameter update).

Activations are passed as small integers, so that one compiled kernel
serves every layer; numba freezes these module constants into the compiled
code.
"""

from ._kernels_by_symbol_arrays import arrays_by_symbol, matrix_at, row_at
from ._kernels_common import _exact_leaf, _exact_pinned_leaf, _inline
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

#: Weight of each activation's forward pass per element, by code, when
#: fastdnn._kernels_blas decides whether a pass is worth dealing out to
#: threads (elements x weight against ELEMENTWISE_PARALLEL_MIN). The
#: sigmoid and tanh run a polynomial and a division: their split breaks
#: even at a quarter of relu's length (benchmarks/test_blas_layer_times.py
#: times both sides, float32 and float64).
ACT_FORWARD_COST = (1, 1, 4, 4, 1)

#: Slope of leaky ReLU for negative inputs, as the reference's ``0.01 * Z``
#: (cast to the array's dtype, as numpy casts a Python float).
LEAKY_SLOPE = 0.01

# The formulas of the activations that are a comparison (and at most one
# product), inlined where they are used (_inline): by the row kernels below
# and by the row-block kernels of the forward and backward passes
# (:func:`bias_activate_simple_rows`, fastdnn._kernels_backward).


@_inline
def relu(v):
    # np.maximum(0, z) of the reference: NaN stays NaN.
    return type(v)(0) if v < 0 else v


@_inline
def leaky_relu(v):
    # np.where(Z > 0, Z, 0.01 * Z): a NaN z takes the second branch, and
    # stays NaN there.
    return v if v > 0 else type(v)(LEAKY_SLOPE) * v


@_inline
def relu_grad(d, z):
    # The reference zeroes dA where z <= 0 (a NaN z keeps dA).
    return type(d)(0) if z <= 0 else d


@_inline
def leaky_relu_grad(d, z):
    return d if z > 0 else type(d)(LEAKY_SLOPE) * d


@_exact_leaf
def is_simple(act):
    """Whether the activation ``act`` is a comparison (ReLU, leaky ReLU,
    identity): a pass of it over a short row costs less than a call, so
    the row-block kernels run it in loops of their own over the rows
    rather than with a call of the row kernel per row."""
    return act == ACT_RELU or act == ACT_LEAKY_RELU or act == ACT_IDENTITY


@_inline
def simple_activation(v, act):
    """``g(v)`` for an activation that :func:`is_simple` (inlined: the
    branch on ``act``, the same for the whole loop, is taken out of it by
    LLVM)."""
    if act == ACT_RELU:
        return relu(v)
    if act == ACT_LEAKY_RELU:
        return leaky_relu(v)
    return v


@_inline
def simple_activation_grad(d, z, act):
    """``d * g'(z)`` for an activation that :func:`is_simple`."""
    if act == ACT_RELU:
        return relu_grad(d, z)
    if act == ACT_LEAKY_RELU:
        return leaky_relu_grad(d, z)
    return d


# --------------------------------------------------------------- activations

@_exact_pinned_leaf
def _activate_row(z, a, k0, k1, act):
    """``a[k] = g(z[k])`` for k in ``[k0, k1)``, ``g`` the activation of
    code ``act``; z and a 1-D (a row of Z and of A; they may be the same).

    The one place of the numba kernels with a branch per activation of the
    reference's table. The branch is taken once per call, each branch one
    loop of arithmetic (the sigmoid and tanh of :mod:`fastdnn._kernels_math`,
    no libm call), so that LLVM vectorises every loop; a per-element
    function call would not vectorise.
    """
    if act == ACT_RELU:
        for k in range(k0, k1):
            a[k] = relu(z[k])
    elif act == ACT_SIGMOID:
        # The reference's overflow-free formula (exp of -|z| only), within
        # 1 ulp of the exact value, 3 of the reference's.
        for k in range(k0, k1):
            a[k] = sigmoid_fast(z[k])
    elif act == ACT_TANH:
        # Within 3 (float64) / 5 (float32) ulps of np.tanh.
        for k in range(k0, k1):
            a[k] = tanh_fast(z[k])
    elif act == ACT_LEAKY_RELU:
        for k in range(k0, k1):
            a[k] = leaky_relu(z[k])
    else:
        for k in range(k0, k1):
            a[k] = z[k]


@_exact_pinned_leaf
def _activation_grad_row(dA, z, out, k0, k1, act):
    """``out[k] = dA[k] * g'(z[k])`` for k in ``[k0, k1)`` (1-D rows; out may
    be dA), with the reference's operations in its order (so the same
    roundings up to the sigmoid's and tanh's few ulps); one loop per
    activation code, as :func:`activate_row`."""
    if act == ACT_RELU:
        for k in range(k0, k1):
            out[k] = relu_grad(dA[k], z[k])
    elif act == ACT_SIGMOID:
        for k in range(k0, k1):
            d = dA[k]
            s = sigmoid_fast(z[k])
            out[k] = d * s * (type(d)(1) - s)
    elif act == ACT_TANH:
        # dA * (1 - A**2), A = tanh(Z): recomputed from Z, as the
        # reference's backward receives only Z.
        for k in range(k0, k1):
            d = dA[k]
            t = tanh_fast(z[k])
            out[k] = d * (type(d)(1) - t * t)
    elif act == ACT_LEAKY_RELU:
        for k in range(k0, k1):
            out[k] = leaky_relu_grad(dA[k], z[k])
    else:
        for k in range(k0, k1):
            out[k] = dA[k]


@_exact_leaf
def _grad_reads_a(act):
    """Whether :func:`activation_grad_row_from_a` reads ``a`` for
    ``act``."""
    return act == ACT_SIGMOID or act == ACT_TANH


@_exact_pinned_leaf
def _activation_grad_row_from_a(dA, z, a, out, k0, k1, act):
    """:func:`activation_grad_row` given also ``a = g(z)`` as the forward
    pass computed it: the sigmoid's ``dA s (1 - s)`` and tanh's
    ``dA (1 - t**2)`` read ``s``/``t`` from ``a`` instead of computing
    them again (the rest of the work of a tanh layer's backward pass),
    the other activations their derivative from ``z``. ``out`` may be
    ``dA`` or ``a`` (each element is read before it is written)."""
    if act == ACT_SIGMOID:
        for k in range(k0, k1):
            d = dA[k]
            s = a[k]
            out[k] = d * s * (type(d)(1) - s)
    elif act == ACT_TANH:
        for k in range(k0, k1):
            d = dA[k]
            t = a[k]
            out[k] = d * (type(d)(1) - t * t)
    else:
        activation_grad_row(dA, z, out, k0, k1, act)


# The row kernels are compiled once per dtype and called by symbol
# (fastdnn._kernels_by_symbol_arrays): every layer kernel and training
# loop calls them, and numba would otherwise compile their code again
# inside each. Each body views the rows from k0 on and runs the kernel from
# a literal 0, as its callers do: a loop from a start numba cannot prove
# non-negative keeps its negative-index wraparound, which LLVM does not
# vectorise (a 64 x 1797 float32 tanh pass took 101 us so, 17 us from 0).

def _activate_row_at(x, z, nz, a, na, k0, k1, act):
    _activate_row(row_at(z, nz, x)[k0:], row_at(a, na, x)[k0:], 0, k1 - k0,
                  act)


def _activation_grad_row_at(x, dA, nd, z, nz, out, no, k0, k1, act):
    _activation_grad_row(row_at(dA, nd, x)[k0:], row_at(z, nz, x)[k0:],
                         row_at(out, no, x)[k0:], 0, k1 - k0, act)


def _activation_grad_row_from_a_at(x, dA, nd, z, nz, a, na, out, no, k0,
                                   k1, act):
    _activation_grad_row_from_a(row_at(dA, nd, x)[k0:], row_at(z, nz, x)[k0:],
                                row_at(a, na, x)[k0:],
                                row_at(out, no, x)[k0:], 0, k1 - k0, act)


activate_row = arrays_by_symbol(
    _activate_row, _activate_row_at, "activate_row",
    ("row", "row", "int", "int", "int"))
activation_grad_row = arrays_by_symbol(
    _activation_grad_row, _activation_grad_row_at, "activation_grad_row",
    ("row", "row", "row", "int", "int", "int"))
activation_grad_row_from_a = arrays_by_symbol(
    _activation_grad_row_from_a, _activation_grad_row_from_a_at,
    "activation_grad_row_from_a",
    ("row", "row", "row", "row", "int", "int", "int"))


@_exact_pinned_leaf
def _bias_activate_simple_rows_code(Z, b, act, Aout, i0, i1):
    """``Z[i] += b[i]`` and ``Aout[i] = g(Z[i])`` on the rows ``i0:i1``, for
    an activation that :func:`is_simple`: Z and Aout (n_l, m) (Aout may be
    Z), b (n_l, 1). The rows run in a loop of their own: a call of
    :func:`activate_row` per row cost more than the row's work over a
    mini-batch (a 256 x 32 float32 ReLU layer: 2.5-3.4 us with a call per
    row, 1.05-1.3 us so, one Zen 3 core). The same
    operations as ``Z[i] += b[i]`` then :func:`activate_row`, element by
    element."""
    m = Z.shape[1]
    for i in range(i0, i1):
        z = Z[i]
        a = Aout[i]
        bi = b[i, 0]
        for k in range(m):
            v = z[k] + bi
            z[k] = v
            a[k] = simple_activation(v, act)


def _bias_activate_simple_rows_at(x, Z, Z0, Z1, b, b0, b1, act, Aout, A0,
                                  A1, i0, i1):
    _bias_activate_simple_rows_code(
        matrix_at(Z, Z0, Z1, x), matrix_at(b, b0, b1, x), act,
        matrix_at(Aout, A0, A1, x), i0, i1)


#: Called by symbol, as the row kernels.
bias_activate_simple_rows = arrays_by_symbol(
    _bias_activate_simple_rows_code, _bias_activate_simple_rows_at,
    "bias_activate_simple_rows",
    ("matrix", "matrix", "int", "matrix", "int", "int"))


@_exact_leaf
def activation_into(Z, act, out):
    """``out = g(Z)`` element-wise, Z and out (n_l, m)."""
    n, m = Z.shape
    for i in range(n):
        activate_row(Z[i], out[i], 0, m, act)


@_exact_leaf
def activation_backward_into(dA, Z, act, out):
    """``out = dA * g'(Z)`` element-wise, all (n_l, m)."""
    n, m = Z.shape
    for i in range(n):
        activation_grad_row(dA[i], Z[i], out[i], 0, m, act)


# ---------------------------------------------------------------- update

@_exact_leaf
def update_into(P, G, lr, out):
    """``out = P - lr * G`` (no fused multiply-add: the reference's two
    roundings, bit for bit)."""
    n, m = P.shape
    for i in range(n):
        for j in range(m):
            out[i, j] = P[i, j] - lr * G[i, j]
