"""The course's L-layer network in plain numpy: the ground truth.

Every function keeps the name, positional signature and return structure of
the "deep neural network, step by step" exercise, so code written against the
course imports them unchanged. The bodies are the course's own formulas,
written for reading, never tuned for speed; :mod:`fastdnn.jit` is tested
against them.

Shapes use the course's notation: ``n_l`` units in layer ``l`` (``n_0 = n_x``
input features) and ``m`` examples, one example per column.
"""
import numpy as np

from . import _validation as v
# The course's notebooks take these from the same module as the network
# ("from dnn_app_utils_v3 import *"): both backends export them.
# print_mislabeled_images imports matplotlib only when it draws.
from .data import (flatten_images, load_data, load_image,
                   print_mislabeled_images)

__all__ = [
    "sigmoid", "relu", "sigmoid_backward", "relu_backward",
    "initialize_parameters", "initialize_parameters_deep",
    "linear_forward", "linear_activation_forward", "L_model_forward",
    "compute_cost", "linear_backward", "linear_activation_backward",
    "L_model_backward", "update_parameters", "predict",
    "two_layer_model", "L_layer_model",
    "load_data", "flatten_images", "load_image", "print_mislabeled_images",
]


# ---------------------------------------------------------------- activations

def sigmoid(Z):
    """Sigmoid activation.

    Parameters
    ----------
    Z : ndarray of shape (n_l, m)
        Pre-activation.

    Returns
    -------
    A : ndarray of shape (n_l, m)
        ``1 / (1 + exp(-Z))``.
    cache : ndarray
        ``Z`` itself, for the backward pass.
    """
    Z = v.as_matrix(Z, "Z", shape_hint="(n_l, m)")
    return _sigmoid(Z), Z


def _sigmoid(Z):
    # exp of a negative number only: no overflow for any finite Z. For
    # Z >= 0 this is exactly the course's 1 / (1 + exp(-Z)).
    e = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1 / (1 + e), e / (1 + e))


def relu(Z):
    """ReLU activation ``max(0, Z)``; returns ``(A, Z)`` like :func:`sigmoid`.
    """
    Z = v.as_matrix(Z, "Z", shape_hint="(n_l, m)")
    return _relu(Z), Z


def _relu(Z):
    return np.maximum(0, Z)


def sigmoid_backward(dA, cache):
    """Backward pass of a sigmoid unit.

    Parameters
    ----------
    dA : ndarray of shape (n_l, m)
        Gradient of the cost with respect to the activation.
    cache : ndarray of shape (n_l, m)
        ``Z`` from the forward pass.

    Returns
    -------
    dZ : ndarray of shape (n_l, m)
        ``dA * s * (1 - s)`` with ``s = sigmoid(Z)``.
    """
    dA, Z = v.check_activation_grad(dA, cache)
    return _sigmoid_backward(dA, Z)


def _sigmoid_backward(dA, Z):
    s = _sigmoid(Z)
    return dA * s * (1 - s)


def relu_backward(dA, cache):
    """Backward pass of a ReLU unit: ``dA`` where ``Z > 0``, else 0.

    Shapes as in :func:`sigmoid_backward`.
    """
    dA, Z = v.check_activation_grad(dA, cache)
    return _relu_backward(dA, Z)


def _relu_backward(dA, Z):
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


#: Activations by name, each ``name: (forward, backward)`` on validated
#: arrays. The single place that says which names exist; both backends check
#: activation names against it.
ACTIVATIONS = {
    "sigmoid": (_sigmoid, _sigmoid_backward),
    "relu": (_relu, _relu_backward),
}


# ------------------------------------------------------------ initialisation

def _random_state(seed):
    if isinstance(seed, (np.random.RandomState, np.random.Generator)):
        return seed
    return np.random.RandomState(v.check_int(seed, "seed", 0, v.SEED_MAX))


def _randn(rng, *shape):
    if isinstance(rng, np.random.Generator):
        return rng.standard_normal(shape)
    return rng.randn(*shape)


def initialize_parameters(n_x, n_h, n_y, seed=1):
    """Parameters of the 2-layer network LINEAR -> RELU -> LINEAR -> SIGMOID.

    ``W = randn * 0.01`` (W1 drawn before W2) and ``b = 0``, from
    ``np.random.RandomState(seed)``: the same numbers as the course's
    ``np.random.seed(seed)`` without touching numpy's global random state.

    Returns
    -------
    parameters : dict
        ``W1`` (n_h, n_x), ``b1`` (n_h, 1), ``W2`` (n_y, n_h), ``b2`` (n_y, 1).
    """
    n_x, n_h, n_y = v.check_layer_dims([n_x, n_h, n_y], "(n_x, n_h, n_y)")
    rng = _random_state(seed)
    W1 = _randn(rng, n_h, n_x) * 0.01
    b1 = np.zeros((n_h, 1))
    W2 = _randn(rng, n_y, n_h) * 0.01
    b2 = np.zeros((n_y, 1))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def initialize_parameters_deep(layer_dims, seed=1, scale=None):
    """Parameters of an L-layer network.

    Parameters
    ----------
    layer_dims : sequence of int
        ``[n_0, n_1, ..., n_L]``.
    seed : int, RandomState or Generator
        Source of the random weights (default 1, the seed document's).
    scale : float, optional
        ``None`` gives ``W_l = randn / sqrt(n_{l-1})``, the seed document's
        choice, which trains; a finite real number > 0 gives ``randn *
        scale`` (``seed=3, scale=0.01`` reproduces the step-by-step
        notebook).

    Returns
    -------
    parameters : dict
        ``Wl`` of shape (n_l, n_{l-1}) and ``bl`` of zeros (n_l, 1).
    """
    dims = v.check_layer_dims(layer_dims)
    scale = v.check_scale(scale)
    rng = _random_state(seed)
    parameters = {}
    for l in range(1, len(dims)):
        W = _randn(rng, dims[l], dims[l - 1])
        if scale is None:
            W = W / np.sqrt(dims[l - 1])
        else:
            W = W * scale
        parameters["W" + str(l)] = W
        parameters["b" + str(l)] = np.zeros((dims[l], 1))
    return parameters


# ---------------------------------------------------------------- forward

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
    A, W, b = v.check_linear_forward(A, W, b)
    return _linear_forward(A, W, b)


def _linear_forward(A, W, b):
    Z = np.dot(W, A) + b
    return Z, (A, W, b)


def linear_activation_forward(A_prev, W, b, activation):
    """One layer, LINEAR -> ACTIVATION.

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
    A_prev, W, b = v.check_linear_forward(A_prev, W, b, "A_prev")
    return _linear_activation_forward(A_prev, W, b, activation)


def _linear_activation_forward(A_prev, W, b, activation):
    forward, _ = ACTIVATIONS[activation]
    Z, linear_cache = _linear_forward(A_prev, W, b)
    A = forward(Z)
    return A, (linear_cache, Z)


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
        Output probabilities.
    caches : list of L tuples
        Each layer's ``((A_prev, W, b), Z)``.
    """
    X, parameters = v.check_model_input(X, parameters)
    return _L_model_forward(X, parameters)


def _L_model_forward(X, parameters):
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L):
        A, cache = _linear_activation_forward(
            A, parameters["W" + str(l)], parameters["b" + str(l)], "relu")
        caches.append(cache)
    AL, cache = _linear_activation_forward(
        A, parameters["W" + str(L)], parameters["b" + str(L)], "sigmoid")
    caches.append(cache)
    return AL, caches


# ---------------------------------------------------------------- cost

def _cost_epsilon(dtype):
    # log(0) is -inf and 0 * log(0) is NaN: a probability of exactly 0 or 1
    # (a saturated sigmoid) is moved inside (0, 1) by one machine epsilon of
    # its dtype. No value the course prints comes anywhere near that.
    return np.finfo(dtype).eps


def compute_cost(AL, Y):
    """Cross-entropy cost.

    ``-(1/m) * sum(Y log(AL) + (1 - Y) log(1 - AL))``, with AL clipped to
    ``[eps, 1 - eps]`` (``eps`` the dtype's machine epsilon) so that the cost
    stays finite when a probability is exactly 0 or 1.

    Parameters
    ----------
    AL : ndarray of shape (1, m)
        Predicted probabilities.
    Y : ndarray of shape (1, m)
        Labels (0/1, or real values in [0, 1]).

    Returns
    -------
    cost : 0-d ndarray
        As the course returns it (``np.squeeze`` of a (1, 1) product), in
        AL's float dtype.
    """
    AL, Y = v.check_cost_input(AL, Y)
    return _compute_cost(AL, Y)


def _compute_cost(AL, Y):
    m = Y.shape[1]
    eps = _cost_epsilon(AL.dtype)
    AL = np.clip(AL, eps, 1 - eps)
    cost = (1. / m) * (-np.dot(Y, np.log(AL).T)
                       - np.dot(1 - Y, np.log(1 - AL).T))
    return np.squeeze(cost)


# ---------------------------------------------------------------- backward

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
    return _linear_backward(dZ, (A_prev, W, b))


def _linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = 1 / m * np.dot(dZ, A_prev.T)
    db = 1 / m * np.sum(dZ, axis=1, keepdims=True)
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def linear_activation_backward(dA, cache, activation):
    """Backward pass of one LINEAR -> ACTIVATION layer.

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
    dA, A_prev, W, b, Z = v.check_activation_backward(dA, cache,
                                                      activation,
                                                      ACTIVATIONS)
    return _linear_activation_backward(dA, ((A_prev, W, b), Z), activation)


def _linear_activation_backward(dA, cache, activation):
    _, backward = ACTIVATIONS[activation]
    linear_cache, Z = cache
    dZ = backward(dA, Z)
    return _linear_backward(dZ, linear_cache)


def _dAL(AL, Y):
    # The course's -(Y / AL - (1 - Y) / (1 - AL)), with a term whose label
    # weight is exactly 0 taken as 0 (its limit), so that a saturated but
    # correct output (AL == Y == 1) has a finite gradient.
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = np.divide(Y, AL, out=np.zeros_like(AL), where=Y != 0)
        neg = np.divide(1 - Y, 1 - AL, out=np.zeros_like(AL), where=Y != 1)
    dAL = -(pos - neg)
    if not np.isfinite(dAL).all():
        raise ValueError(
            "the cross-entropy gradient is infinite: AL is exactly 0 where Y "
            "is not 0, or exactly 1 where Y is not 1 (a saturated sigmoid); "
            "lower the learning rate")
    return dAL


def L_model_backward(AL, Y, caches):
    """Backward pass of [LINEAR -> RELU] x (L-1) -> LINEAR -> SIGMOID.

    Parameters
    ----------
    AL : ndarray of shape (1, m)
        Output of :func:`L_model_forward`.
    Y : ndarray of shape (1, m)
        Labels.
    caches : list or tuple of L caches
        From :func:`L_model_forward`.

    Returns
    -------
    grads : dict
        ``dA0 .. dA{L-1}`` (n_l, m), ``dW1 .. dWL`` and ``db1 .. dbL`` shaped
        like the parameters.
    """
    AL, Y, caches = v.check_backward_input(AL, Y, caches)
    return _L_model_backward(AL, Y, caches)


def _L_model_backward(AL, Y, caches, i=None, learning_rate=None):
    grads = {}
    L = len(caches)
    if i is None:
        dAL = _dAL(AL, Y)
    else:
        dAL = _training_dAL(AL, Y, i, learning_rate)
    dA, dW, db = _linear_activation_backward(dAL, caches[L - 1], "sigmoid")
    grads["dA" + str(L - 1)] = dA
    grads["dW" + str(L)] = dW
    grads["db" + str(L)] = db
    for l in reversed(range(L - 1)):
        dA, dW, db = _linear_activation_backward(grads["dA" + str(l + 1)],
                                                 caches[l], "relu")
        grads["dA" + str(l)] = dA
        grads["dW" + str(l + 1)] = dW
        grads["db" + str(l + 1)] = db
    return grads


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
        A new dict; the inputs are left unchanged.
    """
    new, checked, learning_rate = v.check_update_input(
        parameters, grads, learning_rate)
    return _update_parameters(new, checked, learning_rate)


def _update_parameters(parameters, grads, learning_rate):
    L = len(parameters) // 2
    new = {}
    for l in range(1, L + 1):
        new["W" + str(l)] = (parameters["W" + str(l)]
                             - learning_rate * grads["dW" + str(l)])
        new["b" + str(l)] = (parameters["b" + str(l)]
                             - learning_rate * grads["db" + str(l)])
    return new


# ---------------------------------------------------------------- predict

def _labels_row(y, m):
    y = v.as_array(y, "y")
    if y.ndim == 1 and y.shape[0] == m:
        y = y.reshape(1, m)
    if y.shape != (1, m):
        raise ValueError("y must have shape (1, m) = (1, %d) (or be a 1-D "
                         "vector of %d labels), got %s" % (m, m, y.shape))
    # A NaN label, or a label 2, would silently count as a wrong
    # prediction.
    v.check_finite(y, "y")
    v.check_binary(y, "y")
    return y


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
    return _labels_from_probas(probas, y, print_accuracy)


def _labels_from_probas(probas, y, print_accuracy):
    # Shared by every backend: only how probas is computed differs.
    m = probas.shape[1]
    p = (probas > 0.5).astype(np.float64)
    if y is not None:
        y = _labels_row(y, m)
        if print_accuracy:
            print("Accuracy: " + str(np.sum(p == y) / m))
    return p


# ---------------------------------------------------------------- training

def _record(i, num_iterations, cost, costs, print_cost, callback):
    # costs holds what the course's training loop appends, np.squeeze of
    # the (1, 1) cost: a 0-d array of the training dtype (its
    # L_layer_model_test checks that type and shape). The callback gets a
    # Python float.
    if i % 100 == 0:
        costs.append(np.array(cost).reshape(()))
    if i % 100 == 0 or i == num_iterations - 1:
        if print_cost:
            print("Cost after iteration {}: {}".format(i, np.squeeze(cost)))
        if callback is not None:
            callback(i, float(cost))


def _check_cost(cost, i, learning_rate):
    if not np.isfinite(cost):
        raise FloatingPointError(
            "training diverged: the cost is %s at iteration %d; try a smaller "
            "learning rate than %g" % (float(cost), i, learning_rate))


def _training_dAL(AL, Y, i, learning_rate):
    # A sigmoid saturated on a wrong label has an infinite gradient: that
    # run has diverged as surely as one whose cost is NaN.
    try:
        return _dAL(AL, Y)
    except ValueError:
        raise FloatingPointError(
            "training diverged: the output saturated on a wrong label at "
            "iteration %d (infinite gradient); try a smaller learning rate "
            "than %g" % (i, learning_rate)) from None


def two_layer_model(X, Y, layers_dims, learning_rate=0.0075,
                    num_iterations=3000, print_cost=False, *, callback=None,
                    seed=1):
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
        last one.
    callback : callable, optional
        ``callback(i, cost)``, called where the cost would be printed.
    seed : int, RandomState or Generator
        Seed of the initial parameters (default 1, the course's).

    Returns
    -------
    parameters : dict
    costs : list of 0-d ndarray
        The cost at every iteration ``i`` with ``i % 100 == 0``, as the
        course records it (``np.squeeze(cost)``, a 0-d array of the training
        dtype); ``float(c)`` or ``np.asarray(costs)`` give plain numbers.
    """
    X, Y, dims, learning_rate, num_iterations = v.check_training(
        X, Y, layers_dims, learning_rate, num_iterations)
    v.check_two_layer_dims(dims)
    costs = []
    parameters = initialize_parameters(*dims, seed=seed)
    parameters = {k: P.astype(X.dtype) for k, P in parameters.items()}
    for i in range(num_iterations):
        W1, b1 = parameters["W1"], parameters["b1"]
        W2, b2 = parameters["W2"], parameters["b2"]
        A1, cache1 = _linear_activation_forward(X, W1, b1, "relu")
        A2, cache2 = _linear_activation_forward(A1, W2, b2, "sigmoid")
        cost = _compute_cost(A2, Y)
        _check_cost(cost, i, learning_rate)
        dA2 = _training_dAL(A2, Y, i, learning_rate)
        dA1, dW2, db2 = _linear_activation_backward(dA2, cache2, "sigmoid")
        dA0, dW1, db1 = _linear_activation_backward(dA1, cache1, "relu")
        grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
        parameters = _update_parameters(parameters, grads, learning_rate)
        _record(i, num_iterations, cost, costs, print_cost, callback)
    return parameters, costs


def L_layer_model(X, Y, layers_dims, learning_rate=0.0075,
                  num_iterations=3000, print_cost=False, *, callback=None,
                  seed=1):
    """Train [LINEAR -> RELU] x (L-1) -> LINEAR -> SIGMOID.

    Initialised with :func:`initialize_parameters_deep` (``seed``, default
    1, and ``randn / sqrt(n_{l-1})``). Parameters and returns as
    :func:`two_layer_model`, with ``layers_dims = [n_x, n_1, ..., n_L]``.
    """
    X, Y, dims, learning_rate, num_iterations = v.check_training(
        X, Y, layers_dims, learning_rate, num_iterations)
    costs = []
    parameters = initialize_parameters_deep(dims, seed=seed)
    parameters = {k: P.astype(X.dtype) for k, P in parameters.items()}
    for i in range(num_iterations):
        AL, caches = _L_model_forward(X, parameters)
        cost = _compute_cost(AL, Y)
        _check_cost(cost, i, learning_rate)
        grads = _L_model_backward(AL, Y, caches, i, learning_rate)
        parameters = _update_parameters(parameters, grads, learning_rate)
        _record(i, num_iterations, cost, costs, print_cost, callback)
    return parameters, costs
