"""The course's L-layer network in plain numpy: the ground truth.

The network is [LINEAR -> ACTIVATION] x (L-1) -> LINEAR -> OUTPUT, by
default the course's [LINEAR -> RELU] x (L-1) -> LINEAR -> SIGMOID; the
keyword-only ``activation=`` (hidden layers), ``output=`` (last layer and its
cost) and ``initialization=`` pick other parts from the tables
:data:`ACTIVATIONS`, :data:`OUTPUTS` and :data:`INITIALIZERS`.

Every function keeps the name, positional signature and return structure of
the "deep neural network, step by step" exercise, so code written against the
course imports them unchanged. The bodies are the course's own formulas,
written for reading, never tuned for speed; :mod:`fastdnn.jit` is tested
against them.

Shapes use the course's notation: ``n_l`` units in layer ``l`` (``n_0 = n_x``
input features) and ``m`` examples, one example per column.
"""
import numpy as np

from . import _reference_activations as _acts
from . import _validation as v
from ._reference_activations import ACTIVATIONS  # noqa: F401 (re-exported)
# The computations on checked arrays; the numba backend and the tests use
# some of them under these names.
from ._reference_core import (  # noqa: F401 (re-exported)
    _compute_cost, _cost_epsilon, _dAL, _L_model_backward, _L_model_forward,
    _labels_from_probas, _linear_activation_backward,
    _linear_activation_forward, _linear_backward, _linear_forward,
    _update_parameters)
from ._minibatch import (random_mini_batches,  # noqa: F401 (re-exported)
                         schedule_lr_decay, update_lr)
from ._reference_initializers import INITIALIZERS
from ._reference_initializers import randn as _randn
from ._reference_initializers import random_state as _random_state
from ._reference_optimizers import (  # noqa: F401 (re-exported)
    OPTIMIZERS, initialize_adam, initialize_rmsprop, initialize_velocity,
    update_parameters_with_adam, update_parameters_with_gd,
    update_parameters_with_momentum, update_parameters_with_nesterov,
    update_parameters_with_rmsprop)
from ._reference_outputs import OUTPUTS  # noqa: F401 (re-exported)
from ._reference_training import (  # noqa: F401 (re-exported)
    L_layer_model, _check_cost, _record, _training_dAL, two_layer_model)
# The course's notebooks take these from the same module as the network
# ("from dnn_app_utils_v3 import *"): both backends export them.
# print_mislabeled_images imports matplotlib only when it draws.
from .data import (flatten_images, load_data, load_image,
                   print_mislabeled_images)

__all__ = [
    "sigmoid", "relu", "sigmoid_backward", "relu_backward",
    "tanh", "tanh_backward", "leaky_relu", "leaky_relu_backward", "softmax",
    "initialize_parameters", "initialize_parameters_deep",
    "linear_forward", "linear_activation_forward", "L_model_forward",
    "compute_cost", "linear_backward", "linear_activation_backward",
    "L_model_backward", "update_parameters", "predict",
    "two_layer_model", "L_layer_model",
    # The training toolbox's building blocks ("Optimization Methods").
    "update_parameters_with_gd", "initialize_velocity",
    "update_parameters_with_momentum", "update_parameters_with_nesterov",
    "initialize_rmsprop", "update_parameters_with_rmsprop",
    "initialize_adam", "update_parameters_with_adam",
    "random_mini_batches", "update_lr", "schedule_lr_decay",
    "load_data", "flatten_images", "load_image", "print_mislabeled_images",
]


# The element-wise formulas, under the names this module always had.
_sigmoid, _sigmoid_backward = _acts.sigmoid, _acts.sigmoid_backward
_relu, _relu_backward = _acts.relu, _acts.relu_backward


# ---------------------------------------------------------------- activations

def _activation(Z, forward):
    Z = v.as_matrix(Z, "Z", shape_hint="(n_l, m)")
    return forward(Z), Z


def _activation_backward(dA, cache, backward):
    dA, Z = v.check_activation_grad(dA, cache)
    return backward(dA, Z)


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
    return _activation(Z, _acts.sigmoid)


def relu(Z):
    """ReLU activation ``max(0, Z)``; returns ``(A, Z)`` like :func:`sigmoid`.
    """
    return _activation(Z, _acts.relu)


def tanh(Z):
    """Hyperbolic tangent ``tanh(Z)``; returns ``(A, Z)`` like
    :func:`sigmoid`."""
    return _activation(Z, _acts.tanh)


def leaky_relu(Z):
    """Leaky ReLU: ``Z`` where ``Z > 0``, else ``0.01 * Z``; returns ``(A,
    Z)`` like :func:`sigmoid`."""
    return _activation(Z, _acts.leaky_relu)


def softmax(Z):
    """Column-wise softmax, an output layer's activation.

    Parameters
    ----------
    Z : ndarray of shape (C, m)
        Pre-activation, one column per example.

    Returns
    -------
    A : ndarray of shape (C, m)
        ``E / sum(E, axis=0)`` with ``E = exp(Z - max(Z, axis=0))``: every
        column sums to 1, and no finite Z overflows.
    cache : ndarray
        ``Z`` itself. Its gradient is the fused ``dZ = AL - Y`` of
        :func:`L_model_backward` with ``output="softmax"``.
    """
    return _activation(Z, _acts.softmax)


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
    return _activation_backward(dA, cache, _acts.sigmoid_backward)


def relu_backward(dA, cache):
    """Backward pass of a ReLU unit: ``dA`` where ``Z > 0``, else 0.

    Shapes as in :func:`sigmoid_backward`.
    """
    return _activation_backward(dA, cache, _acts.relu_backward)


def tanh_backward(dA, cache):
    """Backward pass of a tanh unit: ``dA * (1 - A**2)``, ``A = tanh(Z)``.

    Shapes as in :func:`sigmoid_backward`.
    """
    return _activation_backward(dA, cache, _acts.tanh_backward)


def leaky_relu_backward(dA, cache):
    """Backward pass of a leaky ReLU unit: ``dA`` where ``Z > 0``, else
    ``0.01 * dA``. Shapes as in :func:`sigmoid_backward`."""
    return _activation_backward(dA, cache, _acts.leaky_relu_backward)


# ------------------------------------------------------------ initialisation

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


def initialize_parameters_deep(layer_dims, seed=1, scale=None, *,
                               initialization="xavier", activation="relu"):
    """Parameters of an L-layer network.

    Parameters
    ----------
    layer_dims : sequence of int
        ``[n_0, n_1, ..., n_L]``.
    seed : int, RandomState or Generator
        Source of the random weights (default 1, the seed document's), drawn
        in the order W1, b1, W2, b2, ...
    scale : float, optional
        A finite real number > 0 scaling the weights (see below).
    initialization : str
        - ``"xavier"`` (default): ``W_l = randn / sqrt(n_{l-1})``, the seed
          document's choice, which trains; with ``scale``, ``randn * scale``
          (``seed=3, scale=0.01`` reproduces the step-by-step notebook);
        - ``"he"``: ``randn * sqrt(2 / n_{l-1})`` (times ``scale`` if given);
        - ``"random"``: ``randn * scale``, ``scale`` 0.01 by default (the
          initialisation notebook's x10 network is ``scale=10``);
        - ``"zeros"``: every weight 0 (``scale`` ignored);
        - ``"glorot_uniform"``: scikit-learn MLP's, ``uniform(-bound,
          bound)`` with ``bound = sqrt(factor / (n_{l-1} + n_l))``, factor 2
          for a sigmoid hidden activation, else 6; biases drawn too (times
          ``scale`` if given).

        Biases are 0 except for ``"glorot_uniform"``.
    activation : str or sequence of str
        The hidden activations (one name, or L-1 names), which only
        ``"glorot_uniform"`` uses.

    Returns
    -------
    parameters : dict
        ``Wl`` of shape (n_l, n_{l-1}) and ``bl`` of shape (n_l, 1), float64.
    """
    dims = v.check_layer_dims(layer_dims)
    acts, initialization, scale = v.check_training_options(
        dims, activation, initialization, scale)
    rng = _random_state(seed)
    return INITIALIZERS[initialization](rng, dims, scale, acts)


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


def linear_activation_forward(A_prev, W, b, activation):
    """One layer, LINEAR -> ACTIVATION.

    Parameters
    ----------
    A_prev : ndarray of shape (n_{l-1}, m)
    W : ndarray of shape (n_l, n_{l-1})
    b : ndarray of shape (n_l, 1)
    activation : str
        A name of :data:`ACTIVATIONS` (``"sigmoid"``, ``"relu"``,
        ``"tanh"``, ``"leaky_relu"``, ``"identity"``) or ``"softmax"``.

    Returns
    -------
    A : ndarray of shape (n_l, m)
    cache : tuple
        ``((A_prev, W, b), Z)``.
    """
    v.check_layer_activation(activation)
    A_prev, W, b = v.check_linear_forward(A_prev, W, b, "A_prev")
    return _linear_activation_forward(A_prev, W, b, activation)


def L_model_forward(X, parameters, *, activation="relu", output="sigmoid"):
    """Forward pass of [LINEAR -> ACTIVATION] x (L-1) -> LINEAR -> OUTPUT.

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    parameters : dict
        ``W1, b1, ..., WL, bL``.
    activation : str or sequence of str
        The hidden layers' activation (default ``"relu"``), or one name per
        hidden layer (L-1 names).
    output : {"sigmoid", "softmax", "identity"}
        The output layer's activation (default ``"sigmoid"``).

    Returns
    -------
    AL : ndarray of shape (n_L, m)
        Output probabilities (sigmoid, softmax) or values (identity).
    caches : list of L tuples
        Each layer's ``((A_prev, W, b), Z)``.
    """
    X, parameters = v.check_model_input(X, parameters)
    acts, output = v.check_model_names(activation, output,
                                       len(parameters) // 2)
    return _L_model_forward(X, parameters, acts, output)


# ---------------------------------------------------------------- cost

def compute_cost(AL, Y, *, output="sigmoid"):
    """The cost of the output layer ``output``.

    - ``"sigmoid"``: cross-entropy ``-(1/m) * sum(Y log(AL) + (1 - Y)
      log(1 - AL))``;
    - ``"softmax"``: categorical cross-entropy ``-(1/m) * sum(Y log(AL))``
      with Y one-hot;
    - ``"identity"``: ``(1/(2m)) * sum((AL - Y)**2)``.

    Probabilities are clipped to ``[eps, 1 - eps]`` (``eps`` the dtype's
    machine epsilon; softmax to ``[eps, 1]``) so that the cost stays finite
    when a probability is exactly 0 or 1. A value of AL outside [0, 1] is
    no probability (logits Z passed for AL, say): sigmoid and softmax raise
    ValueError for it, where clipping would give a finite, wrong cost.

    Parameters
    ----------
    AL : ndarray of shape (n_L, m)
        Output of :func:`L_model_forward`: (1, m) for sigmoid.
    Y : ndarray
        Labels: sigmoid (1, m) (0/1, or real values in [0, 1]); softmax
        (1, m) class indices or (C, m) one-hot; identity (n_L, m).
    output : {"sigmoid", "softmax", "identity"}

    Returns
    -------
    cost : 0-d ndarray
        As the course returns it (``np.squeeze`` of a (1, 1) product), in
        AL's float dtype.
    """
    AL, Y = v.check_cost_input(AL, Y, output)
    return _compute_cost(AL, Y, output)


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


def linear_activation_backward(dA, cache, activation):
    """Backward pass of one LINEAR -> ACTIVATION layer.

    Parameters
    ----------
    dA : ndarray of shape (n_l, m)
    cache : tuple
        ``((A_prev, W, b), Z)`` from :func:`linear_activation_forward`.
    activation : str
        A name of :data:`ACTIVATIONS`. ``"softmax"`` is refused: its
        gradient is the fused ``AL - Y`` of :func:`L_model_backward`.

    Returns
    -------
    dA_prev, dW, db
        As :func:`linear_backward`.
    """
    dA, A_prev, W, b, Z = v.check_activation_backward(dA, cache,
                                                      activation,
                                                      ACTIVATIONS)
    return _linear_activation_backward(dA, ((A_prev, W, b), Z), activation)


def L_model_backward(AL, Y, caches, *, activation="relu", output="sigmoid"):
    """Backward pass of [LINEAR -> ACTIVATION] x (L-1) -> LINEAR -> OUTPUT.

    For the sigmoid output this is the course's: ``dAL = -(Y/AL - (1 -
    Y)/(1 - AL))``, then the sigmoid's backward pass. For softmax and
    identity the output's gradient is ``dZ_L = AL - Y`` directly.

    Parameters
    ----------
    AL : ndarray of shape (n_L, m)
        Output of :func:`L_model_forward`.
    Y : ndarray
        Labels as :func:`compute_cost` takes them (for sigmoid also m
        labels as a vector, the course's ``Y.reshape(AL.shape)``).
    caches : list or tuple of L caches
        From :func:`L_model_forward`.
    activation : str or sequence of str
        The hidden layers' activation(s), as given to the forward pass.
    output : {"sigmoid", "softmax", "identity"}

    Returns
    -------
    grads : dict
        ``dA0 .. dA{L-1}`` (n_l, m), ``dW1 .. dWL`` and ``db1 .. dbL`` shaped
        like the parameters.
    """
    AL, Y, caches = v.check_backward_input(AL, Y, caches, output)
    acts, output = v.check_model_names(activation, output, len(caches))
    return _L_model_backward(AL, Y, caches, acts, output)


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


# ---------------------------------------------------------------- predict

def predict(X, y, parameters, print_accuracy=True, *, activation="relu",
            output="sigmoid"):
    """Predict with a trained L-layer network.

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    y : ndarray, or None
        True labels as the training takes them; when given, the score is
        printed as the course does: "Accuracy: ..." (sigmoid, softmax) or
        "Mean squared error: ..." (identity).
    parameters : dict
    print_accuracy : bool
        ``False`` silences that line.
    activation : str or sequence of str
        The hidden layers' activation(s) the network was trained with.
    output : {"sigmoid", "softmax", "identity"}

    Returns
    -------
    p : ndarray
        sigmoid: (1, m), 1.0 where the probability is > 0.5, else 0.0;
        softmax: (1, m) int64 class indices (argmax of each column);
        identity: AL itself, (n_L, m).
    """
    X, parameters = v.check_model_input(X, parameters)
    acts, output = v.check_model_names(activation, output,
                                       len(parameters) // 2)
    probas, _ = _L_model_forward(X, parameters, acts, output)
    return _labels_from_probas(probas, y, print_accuracy, output)
