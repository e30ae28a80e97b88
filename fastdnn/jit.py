"""The course's L-layer network on numba kernels.

The same public functions as :mod:`fastdnn.reference`, with the same
signatures, defaults, return structures and errors, so that either module
can replace the other (a cache made by one feeds the other's backward).
Each function is a thin wrapper: it validates its input with
:mod:`fastdnn._validation` exactly as the reference does, makes the arrays
C-contiguous in one float dtype (float32 and float64 are kept, other
numeric dtypes become float64), allocates the outputs and calls a kernel of
:mod:`fastdnn._kernels`.

The training functions additionally take keyword-only ``solver=`` and
``dtype=``; see :func:`L_layer_model`.

Shapes use the course's notation: ``n_l`` units in layer ``l`` (``n_0 =
n_x``) and ``m`` examples, one per column.
"""
import numpy as np

from . import _kernels as K
from . import _validation as v
from . import reference as _ref
from ._primal import PrimalSolver
from .reference import (ACTIVATIONS, flatten_images,  # noqa: F401
                        initialize_parameters, initialize_parameters_deep,
                        load_data, load_image, print_mislabeled_images)

__all__ = list(_ref.__all__)

_ACT = {"relu": K.ACT_RELU, "sigmoid": K.ACT_SIGMOID}

#: Solver names accepted by the training functions' ``solver=``.
SOLVERS = ("auto", "primal", "gram")


def _c(x):
    # Kernels are compiled for C-contiguous arrays only: one specialisation
    # per dtype, and Fortran-ordered or strided input gives the same result.
    return np.ascontiguousarray(x)


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


# ---------------------------------------------------------------- activations

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


# ---------------------------------------------------------------- forward

def _forward(A_prev, W, b, act):
    # Z and the activation in one pass over the output.
    W, b = _c(W), _c(b)
    Z = np.empty((W.shape[0], A_prev.shape[1]), dtype=W.dtype)
    A = Z if act == K.ACT_NONE else np.empty_like(Z)
    operand, transposed = _kernel_operand(A_prev)
    K.forward(W, operand, b, act, Z, A, transposed)
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
    Z, (cache, _) = _forward(A, W, b, K.ACT_NONE)
    v.check_linear_forward_values(Z, A, W, b)
    return Z, cache


def linear_activation_forward(A_prev, W, b, activation):
    """One layer, LINEAR -> ACTIVATION, in one fused kernel.

    Parameters
    ----------
    A_prev : ndarray of shape (n_{l-1}, m)
    W : ndarray of shape (n_l, n_{l-1})
    b : ndarray of shape (n_l, 1)
    activation : {"sigmoid", "relu"}

    Returns
    -------
    A : ndarray of shape (n_l, m)
    cache : tuple
        ``((A_prev, W, b), Z)``.
    """
    v.check_activation(activation, ACTIVATIONS)
    A_prev, W, b = v.check_linear_forward(A_prev, W, b, "A_prev",
                                          finite=False)
    A, cache = _forward(A_prev, W, b, _ACT[activation])
    # Z carries any NaN or inf of the inputs: no separate pass over them.
    v.check_linear_forward_values(cache[1], A_prev, W, b, "A_prev")
    return A, cache


def _L_model_forward(X, parameters):
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L + 1):
        act = K.ACT_SIGMOID if l == L else K.ACT_RELU
        A, cache = _forward(A, parameters["W" + str(l)],
                            parameters["b" + str(l)], act)
        caches.append(cache)
    return A, caches


def L_model_forward(X, parameters):
    """Forward pass of [LINEAR -> RELU] x (L-1) -> LINEAR -> SIGMOID.

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    parameters : dict
        ``W1, b1, ..., WL, bL``.

    Returns
    -------
    AL : ndarray of shape (n_L, m)
    caches : list of L tuples
        Each layer's ``((A_prev, W, b), Z)``.
    """
    X, parameters = v.check_model_input(X, parameters)
    return _L_model_forward(X, parameters)


# ---------------------------------------------------------------- cost

def compute_cost(AL, Y):
    """Cross-entropy cost, AL clipped to ``[eps, 1 - eps]``.

    Parameters
    ----------
    AL : ndarray of shape (1, m)
    Y : ndarray of shape (1, m)

    Returns
    -------
    cost : 0-d ndarray
        In AL's float dtype, as the reference returns it.
    """
    AL, Y = v.check_cost_input(AL, Y)
    dtype = AL.dtype
    eps = _ref._cost_epsilon(dtype)
    cost = K.cost(_c(AL), _c(Y), dtype.type(eps),
                  dtype.type(1) - dtype.type(eps))
    return np.array(cost, dtype=dtype)


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
    dW_finite = K.backward(dA, Z, operand, W, act, need_dA_prev, dZ, dW, db,
                           dA_prev, transposed)
    return (dA_prev if need_dA_prev else None), dW, db, dW_finite


def _backward_checked(dA, cache, act, need_dA_prev=True):
    # _backward for callers that left A_prev's values unchecked: a NaN or
    # inf in A_prev reaches dW, which the kernel reports, and only then is
    # A_prev scanned, for check_finite's error (a finite A_prev means dW
    # overflowed, which is returned as numpy would).
    dA_prev, dW, db, dW_finite = _backward(dA, cache, act, need_dA_prev)
    if not dW_finite:
        v.check_finite(cache[0][0], "A_prev")
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
    dZ, A_prev, W, b = v.check_linear_backward(dZ, cache)
    # A linear "activation": dZ is dA.
    return _backward(dZ, ((A_prev, W, b), dZ), K.ACT_NONE)[:3]


def linear_activation_backward(dA, cache, activation):
    """Backward pass of one LINEAR -> ACTIVATION layer, in one fused kernel.

    Parameters
    ----------
    dA : ndarray of shape (n_l, m)
    cache : tuple
        ``((A_prev, W, b), Z)`` from :func:`linear_activation_forward`.
    activation : {"sigmoid", "relu"}

    Returns
    -------
    dA_prev, dW, db
        As :func:`linear_backward`.
    """
    dA, A_prev, W, b, Z = v.check_activation_backward(
        dA, cache, activation, ACTIVATIONS, finite_A_prev=False)
    return _backward_checked(dA, ((A_prev, W, b), Z), _ACT[activation])


def L_model_backward(AL, Y, caches):
    """Backward pass of [LINEAR -> RELU] x (L-1) -> LINEAR -> SIGMOID.

    Parameters
    ----------
    AL : ndarray of shape (1, m)
    Y : ndarray of shape (1, m)
    caches : list or tuple of L caches
        From :func:`L_model_forward` of either backend.

    Returns
    -------
    grads : dict
        ``dA0 .. dA{L-1}`` (n_l, m), ``dW1 .. dWL`` and ``db1 .. dbL``, in
        the reference's key order.
    """
    AL, Y, caches = v.check_backward_input(AL, Y, caches)
    # (1, m) work, and the reference's own checks and error message.
    dA = _ref._dAL(AL, Y)
    grads = {}
    L = len(caches)
    act = K.ACT_SIGMOID
    for l in range(L, 0, -1):
        dA, dW, db, _ = _backward(dA, caches[l - 1], act)
        grads["dA" + str(l - 1)] = dA
        grads["dW" + str(l)] = dW
        grads["db" + str(l)] = db
        act = K.ACT_RELU
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

def predict(X, y, parameters, print_accuracy=True):
    """Predict 0/1 labels with a trained L-layer network.

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    y : ndarray of shape (1, m), or None
        True labels; when given, the accuracy is printed as the course does.
    parameters : dict
    print_accuracy : bool
        ``False`` silences the "Accuracy: ..." line.

    Returns
    -------
    p : ndarray of shape (1, m)
        1.0 where the predicted probability is > 0.5, else 0.0.
    """
    X, parameters = v.check_model_input(X, parameters)
    probas, _ = _L_model_forward(X, parameters)
    return _ref._labels_from_probas(probas, y, print_accuracy)


# ---------------------------------------------------------------- training

def _gram_module():
    try:
        from . import _gram
    except ImportError:
        return None
    return _gram


def _solver_class(solver, n_x, m, dims):
    if not isinstance(solver, str) or solver not in SOLVERS:
        raise ValueError("solver must be one of %s, got %r"
                         % (", ".join(repr(s) for s in SOLVERS), solver))
    if solver == "primal":
        return PrimalSolver
    gram = _gram_module()
    if solver == "gram":
        if gram is None:
            raise NotImplementedError(
                "solver='gram' needs fastdnn._gram, which this installation "
                "does not have; use solver='primal'")
        return gram.GramSolver
    if gram is not None and gram.gram_pays(n_x, m, list(dims)):
        return gram.GramSolver
    return PrimalSolver


def _next_record(i, num_iterations):
    # The next iteration >= i where the reference records or prints.
    return min((i + 99) // 100 * 100, num_iterations - 1)


def _train(X, Y, dims, learning_rate, num_iterations, print_cost, callback,
           parameters, solver, dtype):
    L = len(dims) - 1
    Ws = [parameters["W" + str(l)].astype(dtype) for l in range(1, L + 1)]
    bs = [parameters["b" + str(l)].astype(dtype) for l in range(1, L + 1)]
    # X keeps its layout: each solver makes the C-contiguous copies it needs
    # (the primal solver wants X and X^T), and the course's Fortran-ordered
    # X gives X^T without a copy.
    X = np.asarray(X, dtype=dtype)
    Y = np.ascontiguousarray(Y, dtype=dtype)
    cls = _solver_class(solver, X.shape[0], X.shape[1], dims)
    state = cls(X, Y, Ws, bs, learning_rate)
    costs = []
    buf = np.empty(101, dtype=np.float64)
    i = 0
    while i < num_iterations:
        stop = _next_record(i, num_iterations)
        n = stop - i + 1
        chunk = buf[:n]
        state.run(n, chunk)
        bad = np.flatnonzero(~np.isfinite(chunk))
        if bad.size:
            _ref._check_cost(chunk[bad[0]], i + int(bad[0]), learning_rate)
        # The cost as the reference has it: a 0-d array of the training
        # dtype (which is what print shows).
        _ref._record(stop, num_iterations, np.array(chunk[-1], dtype=dtype),
                     costs, print_cost, callback)
        i = stop + 1
    Ws, bs = state.parameters()
    out = {}
    for l in range(1, L + 1):
        out["W" + str(l)] = Ws[l - 1]
        out["b" + str(l)] = bs[l - 1]
    return out, costs


def _training_dtype(X, dtype):
    if dtype is None:
        return X.dtype
    return v.check_dtype(dtype)


def two_layer_model(X, Y, layers_dims, learning_rate=0.0075,
                    num_iterations=3000, print_cost=False, *, callback=None,
                    seed=1, solver="auto", dtype=None):
    """Train LINEAR -> RELU -> LINEAR -> SIGMOID by gradient descent.

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (1, m)
    layers_dims : (n_x, n_h, n_y)
    learning_rate : float
    num_iterations : int
    print_cost : bool
        Print "Cost after iteration i: c" every 100 iterations and at the
        last one, as the training runs.
    callback : callable, optional
        ``callback(i, cost)``, called where the cost would be printed.
    seed : int, RandomState or Generator
        Seed of the initial parameters (default 1, the course's).
    solver : {"auto", "primal", "gram"}
        ``"primal"`` runs gradient descent on the weights with preallocated
        buffers; ``"gram"`` uses :mod:`fastdnn._gram` when it is installed;
        ``"auto"`` picks gram when that module says it pays for this shape,
        else primal.
    dtype : {None, "float32", "float64"}
        Training dtype; None keeps X's float dtype (float64 for other
        numeric X).

    Returns
    -------
    parameters : dict
        ``W1, b1, W2, b2`` in the training dtype.
    costs : list of float
        The cost at every iteration ``i`` with ``i % 100 == 0``.
    """
    X, Y, dims, learning_rate, num_iterations = v.check_training(
        X, Y, layers_dims, learning_rate, num_iterations)
    v.check_two_layer_dims(dims)
    dtype = _training_dtype(X, dtype)
    _solver_class(solver, X.shape[0], X.shape[1], dims)  # validate early
    parameters = initialize_parameters(*dims, seed=seed)
    return _train(X, Y, dims, learning_rate, num_iterations, print_cost,
                  callback, parameters, solver, dtype)


def L_layer_model(X, Y, layers_dims, learning_rate=0.0075,
                  num_iterations=3000, print_cost=False, *, callback=None,
                  seed=1, solver="auto", dtype=None):
    """Train [LINEAR -> RELU] x (L-1) -> LINEAR -> SIGMOID.

    Initialised with :func:`initialize_parameters_deep` (``seed``, default
    1, and ``randn / sqrt(n_{l-1})``). Parameters and returns as
    :func:`two_layer_model`, with ``layers_dims = [n_x, n_1, ..., n_L]``.
    """
    X, Y, dims, learning_rate, num_iterations = v.check_training(
        X, Y, layers_dims, learning_rate, num_iterations)
    dtype = _training_dtype(X, dtype)
    _solver_class(solver, X.shape[0], X.shape[1], dims)  # validate early
    parameters = initialize_parameters_deep(dims, seed=seed)
    return _train(X, Y, dims, learning_rate, num_iterations, print_cost,
                  callback, parameters, solver, dtype)
