"""The reference backend's computations on validated arrays.

The public functions of :mod:`fastdnn.reference` check their arguments and
call these; the training loops (:mod:`fastdnn._reference_training`) call
them directly, once the whole training call has been checked. Shapes use the
course's notation, ``(n_l, m)``. ``acts`` is a tuple of the L-1 hidden
activation names, ``output`` an output name, both already checked; the
defaults are the course's network.
"""
import numpy as np

from ._reference_activations import ACTIVATIONS, softmax
from ._reference_outputs import OUTPUTS, _epsilon, _sigmoid_dAL

#: Forward functions of every layer activation ``linear_activation_forward``
#: takes: the hidden ones and the output-only softmax.
LAYER_FORWARD = dict({name: fb[0] for name, fb in ACTIVATIONS.items()},
                     softmax=softmax)


def _cost_epsilon(dtype):
    """The clipping margin of the costs: the dtype's machine epsilon."""
    return _epsilon(dtype)


def _dAL(AL, Y):
    """The course's sigmoid output gradient; ValueError where infinite."""
    return _sigmoid_dAL(AL, Y)


def _linear_forward(A, W, b):
    Z = np.dot(W, A) + b
    return Z, (A, W, b)


def _linear_activation_forward(A_prev, W, b, activation):
    Z, linear_cache = _linear_forward(A_prev, W, b)
    A = LAYER_FORWARD[activation](Z)
    return A, (linear_cache, Z)


def _L_model_forward(X, parameters, acts=None, output="sigmoid"):
    caches = []
    A = X
    L = len(parameters) // 2
    if acts is None:
        acts = ("relu",) * (L - 1)
    for l in range(1, L):
        A, cache = _linear_activation_forward(
            A, parameters["W" + str(l)], parameters["b" + str(l)],
            acts[l - 1])
        caches.append(cache)
    Z, linear_cache = _linear_forward(A, parameters["W" + str(L)],
                                      parameters["b" + str(L)])
    AL = OUTPUTS[output].forward(Z)
    caches.append((linear_cache, Z))
    return AL, caches


def _compute_cost(AL, Y, output="sigmoid"):
    return OUTPUTS[output].cost(AL, Y)


def _linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = 1 / m * np.dot(dZ, A_prev.T)
    db = 1 / m * np.sum(dZ, axis=1, keepdims=True)
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def _linear_activation_backward(dA, cache, activation):
    _, backward = ACTIVATIONS[activation]
    linear_cache, Z = cache
    dZ = backward(dA, Z)
    return _linear_backward(dZ, linear_cache)


def _backward_from(dZL, caches, acts):
    # The layers' backward passes from the output's dZ_L down: grads keys
    # and order as the course's L_model_backward.
    grads = {}
    L = len(caches)
    dA, dW, db = _linear_backward(dZL, caches[L - 1][0])
    grads["dA" + str(L - 1)] = dA
    grads["dW" + str(L)] = dW
    grads["db" + str(L)] = db
    for l in reversed(range(L - 1)):
        dA, dW, db = _linear_activation_backward(grads["dA" + str(l + 1)],
                                                 caches[l], acts[l])
        grads["dA" + str(l)] = dA
        grads["dW" + str(l + 1)] = dW
        grads["db" + str(l + 1)] = db
    return grads


def _L_model_backward(AL, Y, caches, acts=None, output="sigmoid"):
    """The building block's backward pass: the course's numbers for the
    sigmoid output (dAL, then the sigmoid's backward), the fused ``AL - Y``
    for the others."""
    L = len(caches)
    if acts is None:
        acts = ("relu",) * (L - 1)
    if output == "sigmoid":
        dZL = ACTIVATIONS["sigmoid"][1](_dAL(AL, Y), caches[L - 1][1])
    else:
        dZL = OUTPUTS[output].dZ(AL, Y)
    return _backward_from(dZL, caches, acts)


def _L_model_backward_fused(AL, Y, caches, acts, output):
    """The training loops' backward pass: ``dZ_L = AL - Y`` for every
    output, exact and finite when the output saturates."""
    return _backward_from(OUTPUTS[output].dZ(AL, Y), caches, acts)


def _update_parameters(parameters, grads, learning_rate):
    L = len(parameters) // 2
    new = {}
    for l in range(1, L + 1):
        new["W" + str(l)] = (parameters["W" + str(l)]
                             - learning_rate * grads["dW" + str(l)])
        new["b" + str(l)] = (parameters["b" + str(l)]
                             - learning_rate * grads["db" + str(l)])
    return new


def _labels_from_probas(probas, y, print_accuracy, output="sigmoid"):
    """``predict``'s result from the output AL, shared by every backend:
    only how AL is computed differs. With labels ``y``, checks them and
    prints the output's score line (accuracy, or mean squared error)."""
    out = OUTPUTS[output]
    p = out.predict(probas)
    if y is not None:
        Y = out.labels(y, probas.shape, probas.dtype, "y")
        if print_accuracy:
            print(out.score(p, Y))
    return p
