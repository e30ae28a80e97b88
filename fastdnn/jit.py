"""The course's L-layer network on numba kernels.

The same public functions as :mod:`fastdnn.reference`, with the same
signatures, defaults, return structures and errors, so that either module
can replace the other (a cache made by one feeds the other's backward).
Each function is a thin wrapper: it validates its input with
:mod:`fastdnn._validation` exactly as the reference does, makes the arrays
C-contiguous in one float dtype (float32 and float64 are kept, other
numeric dtypes become float64), allocates the outputs and calls a kernel of
:mod:`fastdnn._kernels`.

The activations and their backward passes are in
:mod:`fastdnn._jit_activations`. The training functions (in
:mod:`fastdnn._jit_training`) take the training
toolbox's keywords (``optimizer``, mini-batches, L2, dropout, decay) as the
reference's, running whole passes in compiled code, and additionally
keyword-only ``solver=`` and ``dtype=``; see :func:`L_layer_model`. The
optimizers' building blocks (``update_parameters_with_adam`` and the rest,
in :mod:`fastdnn._jit_optimizers`) run the training loop's fused update.
:data:`ACT_CODES` and :data:`OUTPUT_CODES` map the reference's activation and
output names to the kernels' integer codes.

Shapes use the course's notation: ``n_l`` units in layer ``l`` (``n_0 =
n_x``) and ``m`` examples, one per column.
"""
import numpy as np

from . import _kernels as K
from . import _validation as v
from . import reference as _ref
from ._jit_activations import (  # noqa: F401 (re-exported)
    _c, leaky_relu, leaky_relu_backward, relu, relu_backward, sigmoid,
    sigmoid_backward, softmax, tanh, tanh_backward)
from ._jit_optimizers import (  # noqa: F401 (re-exported)
    initialize_adam, initialize_rmsprop, initialize_velocity,
    update_parameters_with_adam, update_parameters_with_gd,
    update_parameters_with_momentum, update_parameters_with_nesterov,
    update_parameters_with_rmsprop)
from ._jit_training import (SOLVERS, L_layer_model,  # noqa: F401
                            two_layer_model)
# Mini-batches and learning-rate schedules: plain numpy index and scalar
# work, shared with the reference.
from ._minibatch import (random_mini_batches,  # noqa: F401 (re-exported)
                         schedule_lr_decay, update_lr)
from .reference import (ACTIVATIONS, flatten_images,  # noqa: F401
                        initialize_parameters, initialize_parameters_deep,
                        load_data, load_image, print_mislabeled_images)

__all__ = list(_ref.__all__)

#: Hidden activation names (the reference's table) -> kernel codes.
ACT_CODES = K.ACT_BY_NAME

#: Output names (the reference's table) -> kernel codes.
OUTPUT_CODES = K.OUT_BY_NAME


def _kernel_operand(A_prev):
    """``(array, transposed)`` to hand a layer kernel for ``A_prev``.

    The course's X (``images.reshape(m, -1).T``) is Fortran-ordered: its
    transpose is C-contiguous without a copy, and the kernels' transposed
    paths read it so (the forward one sums along that contiguous axis, the
    backward one packs it block by block) instead of copying 20 MB per
    call. Anything else goes to the kernels in C order.
    """
    if A_prev.flags.f_contiguous and not A_prev.flags.c_contiguous:
        return A_prev.T, True
    return _c(A_prev), False


# ---------------------------------------------------------------- forward

def _forward(A_prev, W, b, act, then_softmax=False, alias=False):
    # Z and the activation in one pass over the output; a softmax runs
    # after the kernel (it is column-wise). alias: A is Z itself (the
    # linear part alone), else its own array, as the reference's.
    W, b = _c(W), _c(b)
    Z = np.empty((W.shape[0], A_prev.shape[1]), dtype=W.dtype)
    A = Z if alias else np.empty_like(Z)
    operand, transposed = _kernel_operand(A_prev)
    K.forward(W, operand, b, act, Z, A, transposed)
    if then_softmax:
        K.softmax_into(Z, A)
    # The cache holds the caller's X itself, or the C copy the kernel read.
    return A, ((A_prev if transposed else operand, W, b), Z)


def linear_forward(A, W, b):
    """Linear part of a layer: ``Z = W A + b``.

    Parameters
    ----------
    A : ndarray of shape (n_{l-1}, m)
    W : ndarray of shape (n_l, n_{l-1})
    b : ndarray of shape (n_l, 1)

    Returns
    -------
    Z : ndarray of shape (n_l, m)
    cache : tuple
        ``(A, W, b)`` for the backward pass.
    """
    A, W, b = v.check_linear_forward(A, W, b, finite=False)
    Z, (cache, _) = _forward(A, W, b, K.ACT_NONE, alias=True)
    v.check_linear_forward_values(Z, A, W, b)
    return Z, cache


def _layer_code(activation):
    # (kernel activation code, softmax after it) of a checked layer name.
    if activation == "softmax":
        return K.ACT_IDENTITY, True
    return ACT_CODES[activation], False


def linear_activation_forward(A_prev, W, b, activation):
    """One layer, LINEAR -> ACTIVATION, in one fused kernel.

    Parameters
    ----------
    A_prev : ndarray of shape (n_{l-1}, m)
    W : ndarray of shape (n_l, n_{l-1})
    b : ndarray of shape (n_l, 1)
    activation : {"sigmoid", "relu", "tanh", "leaky_relu", "identity", \
"softmax"}

    Returns
    -------
    A : ndarray of shape (n_l, m)
    cache : tuple
        ``((A_prev, W, b), Z)``.
    """
    v.check_layer_activation(activation)
    A_prev, W, b = v.check_linear_forward(A_prev, W, b, "A_prev",
                                          finite=False)
    act, soft = _layer_code(activation)
    A, cache = _forward(A_prev, W, b, act, soft)
    # Z carries any NaN or inf of the inputs: no separate pass over them.
    v.check_linear_forward_values(cache[1], A_prev, W, b, "A_prev")
    return A, cache


#: Per output code: the output layer's forward kernel code (softmax runs
#: after the kernel).
_OUTPUT_FORWARD = {"sigmoid": (K.ACT_SIGMOID, False),
                   "softmax": (K.ACT_IDENTITY, True),
                   "identity": (K.ACT_IDENTITY, False)}


def _L_model_forward(X, parameters, acts=None, output="sigmoid"):
    caches = []
    A = X
    L = len(parameters) // 2
    if acts is None:
        acts = ("relu",) * (L - 1)
    for l in range(1, L + 1):
        if l == L:
            act, soft = _OUTPUT_FORWARD[output]
        else:
            act, soft = ACT_CODES[acts[l - 1]], False
        A, cache = _forward(A, parameters["W" + str(l)],
                            parameters["b" + str(l)], act, soft)
        caches.append(cache)
    return A, caches


def _network(parameters, activation, output):
    # The checked (hidden activation names, output name) of a network.
    return v.check_model_names(activation, output, len(parameters) // 2)


def L_model_forward(X, parameters, *, activation="relu", output="sigmoid"):
    """Forward pass of [LINEAR -> ACTIVATION] x (L-1) -> LINEAR -> OUTPUT.

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    parameters : dict
        ``W1, b1, ..., WL, bL``.
    activation : str or sequence of str
        The hidden layers' activation: one name for all, or one per hidden
        layer (``"sigmoid"``, ``"relu"``, ``"tanh"``, ``"leaky_relu"``,
        ``"identity"``).
    output : {"sigmoid", "softmax", "identity"}
        The output layer's activation.

    Returns
    -------
    AL : ndarray of shape (n_L, m)
    caches : list of L tuples
        Each layer's ``((A_prev, W, b), Z)``.
    """
    X, parameters = v.check_model_input(X, parameters)
    acts, output = _network(parameters, activation, output)
    return _L_model_forward(X, parameters, acts, output)


# ---------------------------------------------------------------- cost

def _cost(AL, Y, output):
    dtype = AL.dtype
    cost = K.output_cost(_c(AL), _c(Y), OUTPUT_CODES[output],
                         dtype.type(np.finfo(dtype).eps))
    return np.array(cost, dtype=dtype)


def compute_cost(AL, Y, *, output="sigmoid"):
    """The output's cost: cross-entropy (sigmoid, softmax; AL clipped by
    the dtype's machine epsilon) or half the mean squared error
    (identity).

    Parameters
    ----------
    AL : ndarray of shape (n_L, m)
        (1, m) for sigmoid; values in [0, 1] for sigmoid and softmax (else
        ValueError, as the reference raises).
    Y : ndarray
        sigmoid: (1, m) labels; softmax: (1, m) class indices or (C, m)
        one-hot; identity: (n_y, m) targets.
    output : {"sigmoid", "softmax", "identity"}

    Returns
    -------
    cost : 0-d ndarray
        In AL's float dtype, as the reference returns it.
    """
    AL, Y = v.check_cost_input(AL, Y, output)
    return _cost(AL, Y, output)


# ---------------------------------------------------------------- backward

def _backward(dA, cache, act, need_dA_prev=True):
    (A_prev, W, b), Z = cache
    dA, Z, W = _c(dA), _c(Z), _c(W)
    dtype = W.dtype
    dZ = np.empty_like(dA)
    dW = np.empty_like(W)
    db = np.empty((W.shape[0], 1), dtype=dtype)
    dA_prev = (np.empty(A_prev.shape, dtype=dtype) if need_dA_prev
               else np.empty((1, 1), dtype=dtype))
    operand, transposed = _kernel_operand(A_prev)
    if K._grad_reads_a(act):
        # g(Z) by the forward kernels' own code, into dZ: the backward
        # kernel reads the sigmoid's and tanh's derivative from it, as the
        # training loops do from the A they keep (the same bits).
        K.activation_into(Z, act, dZ)
    dW_finite = K.backward(dA, Z, dZ, operand, W, act, need_dA_prev, dZ, dW,
                           db, dA_prev, transposed)
    return (dA_prev if need_dA_prev else None), dW, db, dW_finite


def _backward_checked(dA, cache, act, need_dA_prev=True):
    # _backward for callers that checked the structure only
    # (check_activation_backward's finite=False): the kernel runs on the
    # values as they are (a NaN is only a value to it) and reports whether
    # W and dW are finite; then the values are checked in the reference's
    # order, W and A_prev scanned only when that flag is down. The cat's
    # W1 is 245,760 values: its own scan cost a twentieth of the layer.
    dA_prev, dW, db, finite = _backward(dA, cache, act, need_dA_prev)
    (A_prev, W, b), Z = cache
    v.check_activation_backward_values(dA, A_prev, W, b, Z, finite)
    return dA_prev, dW, db


def linear_backward(dZ, cache):
    """Linear part of a layer's backward pass.

    Parameters
    ----------
    dZ : ndarray of shape (n_l, m)
    cache : tuple
        ``(A_prev, W, b)`` from :func:`linear_forward`.

    Returns
    -------
    dA_prev : ndarray of shape (n_{l-1}, m)
        ``W^T dZ``.
    dW : ndarray of shape (n_l, n_{l-1})
        ``dZ A_prev^T / m``.
    db : ndarray of shape (n_l, 1)
        Row sums of ``dZ`` over ``m``.
    """
    dZ, A_prev, W, b = v.check_linear_backward(dZ, cache, finite=False)
    # A linear "activation": dZ is dA. The values after the kernel, as in
    # _backward_checked.
    dA_prev, dW, db, finite = _backward(dZ, ((A_prev, W, b), dZ), K.ACT_NONE)
    v.check_linear_backward_values(dZ, A_prev, W, b, finite)
    return dA_prev, dW, db


def linear_activation_backward(dA, cache, activation):
    """Backward pass of one LINEAR -> ACTIVATION layer, in one fused kernel.

    Parameters
    ----------
    dA : ndarray of shape (n_l, m)
    cache : tuple
        ``((A_prev, W, b), Z)`` from :func:`linear_activation_forward`.
    activation : {"sigmoid", "relu", "tanh", "leaky_relu", "identity"}
        ``"softmax"`` raises ValueError: its gradient is the fused output
        gradient of :func:`L_model_backward`.

    Returns
    -------
    dA_prev, dW, db
        As :func:`linear_backward`.
    """
    dA, A_prev, W, b, Z = v.check_activation_backward(
        dA, cache, activation, ACTIVATIONS, finite=False)
    return _backward_checked(dA, ((A_prev, W, b), Z), ACT_CODES[activation])


def _output_gradient(AL, Y, output):
    # (dA, activation code) that the output layer's backward kernel starts
    # from: the course's dAL and the sigmoid's backward (its numbers, with
    # the reference's own checks and error message), or the fused
    # dZ_L = AL - Y through a linear "activation".
    if output == "sigmoid":
        return _ref._dAL(AL, Y), K.ACT_SIGMOID
    AL = _c(AL)
    dZ = np.empty_like(AL)
    K.output_dZ_into(AL, _c(Y), dZ)
    return dZ, K.ACT_IDENTITY


def L_model_backward(AL, Y, caches, *, activation="relu", output="sigmoid"):
    """Backward pass of [LINEAR -> ACTIVATION] x (L-1) -> LINEAR -> OUTPUT.

    Parameters
    ----------
    AL : ndarray of shape (n_L, m)
    Y : ndarray
        Labels as :func:`compute_cost` takes them for ``output``.
    caches : list or tuple of L caches
        From :func:`L_model_forward` of either backend.
    activation, output
        As :func:`L_model_forward`. The sigmoid output's dZ_L is the
        course's ``dAL * s * (1 - s)``; the others' the fused ``AL - Y``.

    Returns
    -------
    grads : dict
        ``dA0 .. dA{L-1}`` (n_l, m), ``dW1 .. dWL`` and ``db1 .. dbL``, in
        the reference's key order.
    """
    AL, Y, caches = v.check_backward_input(AL, Y, caches, output)
    acts, output = v.check_model_names(activation, output, len(caches))
    dA, act = _output_gradient(AL, Y, output)
    grads = {}
    L = len(caches)
    for l in range(L, 0, -1):
        dA, dW, db, _ = _backward(dA, caches[l - 1], act)
        grads["dA" + str(l - 1)] = dA
        grads["dW" + str(l)] = dW
        grads["db" + str(l)] = db
        if l > 1:
            act = ACT_CODES[acts[l - 2]]
    return grads


# ---------------------------------------------------------------- update

def update_parameters(parameters, grads, learning_rate):
    """One gradient-descent step, ``W <- W - learning_rate * dW``.

    Parameters
    ----------
    parameters : dict
        ``W1, b1, ..., WL, bL``.
    grads : dict
        At least ``dW1, db1, ..., dWL, dbL``, shaped like the parameters.
    learning_rate : float

    Returns
    -------
    parameters : dict
        A new dict of new arrays; the inputs are left unchanged.
    """
    params, grads, learning_rate = v.check_update_input(
        parameters, grads, learning_rate)
    new = {}
    for key, P in params.items():
        P = _c(P)
        out = np.empty_like(P)
        K.update_into(P, _c(grads["d" + key]), P.dtype.type(learning_rate),
                      out)
        new[key] = out
    return new


# ---------------------------------------------------------------- predict

def predict(X, y, parameters, print_accuracy=True, *, activation="relu",
            output="sigmoid"):
    """Predict with a trained L-layer network.

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    y : ndarray, or None
        True labels (as :func:`compute_cost` takes them); when given, the
        score is printed as the course does.
    parameters : dict
    print_accuracy : bool
        ``False`` silences the "Accuracy: ..." (or "Mean squared error:
        ...") line.
    activation, output
        As :func:`L_model_forward`.

    Returns
    -------
    p : ndarray
        sigmoid: (1, m), 1.0 where the probability is > 0.5, else 0.0;
        softmax: (1, m) int64 class indices; identity: AL (n_y, m).
    """
    X, parameters = v.check_model_input(X, parameters)
    acts, output = _network(parameters, activation, output)
    probas, _ = _L_model_forward(X, parameters, acts, output)
    return _ref._labels_from_probas(probas, y, print_accuracy, output)
