"""Every operation of every backend, with an input maker: the one table the
equivalence tests and the benchmarks run from.

``REGISTRY[operation][backend]`` is a callable; ``make_inputs(operation,
shape, dtype, seed)`` returns the positional arguments to call it with, the
same for every backend::

    from fastdnn.registry import CAT, REGISTRY, make_inputs

    args = make_inputs("linear_activation_forward[relu]", CAT, "float32", 0)
    A, cache = REGISTRY["linear_activation_forward[relu]"]["numba"](*args)

A :class:`Shape` describes a whole network, ``dims = (n_0, n_1, ..., n_L)``
and ``m`` examples; single-layer operations use its first layer (W of shape
(n_1, n_0), A_prev of shape (n_0, m)), so :data:`CAT` gives the cat-image
shapes (W 20 x 12288, A_prev 12288 x 209) everywhere. The training
operations run ``shape.iterations`` iterations.

Operation names are the public function names; a function with an
activation argument appears once per activation, as ``name[activation]``.
One operation is not a public function: ``first_layer_backward[relu]``, the
relu mask + dW + db of a layer whose dA_prev is never used (the first one),
as both training loops run it.
Backends are ``"numpy"`` (:mod:`fastdnn.reference`) and ``"numba"``
(:mod:`fastdnn.jit`, defaults); the training operations also have
``"numba-primal"`` (``solver="primal"``) and ``"numba-gram"``
(``solver="gram"``), and the layer operations ``"numpy-raw"``: the
course's numpy expressions without any argument check, the baseline the
kernels are timed against.
"""
import functools
from typing import NamedTuple

import numpy as np

from . import _validation
from . import jit
from . import reference

#: The backends of :data:`REGISTRY` (each operation has at least these).
BACKEND_MODULES = {"numpy": reference, "numba": jit}

ACTIVATION_NAMES = ("relu", "sigmoid")


class Shape(NamedTuple):
    """A network's layer widths ``dims = (n_0, ..., n_L)``, ``m`` examples
    and, for the training operations, a number of iterations."""
    dims: tuple
    m: int
    iterations: int = 3


#: The seed's 4-layer model on the 209 cat training images.
CAT = Shape((12288, 20, 7, 5, 1), 209, 100)

#: A small shape for smoke tests.
SMALL = Shape((6, 5, 3, 1), 7, 3)


def _quiet_predict(module):
    def predict(X, y, parameters):
        return module.predict(X, y, parameters, print_accuracy=False)
    return predict


def _first_layer_backward_raw(dA, cache):
    # The course's relu_backward and linear_backward without dA_prev = W^T dZ,
    # which the first layer never needs: relu mask + dW + db.
    (A_prev, W, b), Z = cache
    dZ = reference._relu_backward(dA, Z)
    m = A_prev.shape[1]
    dW = 1 / m * np.dot(dZ, A_prev.T)
    db = 1 / m * np.sum(dZ, axis=1, keepdims=True)
    return dW, db


def _first_layer_backward_numpy(dA, cache):
    dA, A_prev, W, b, Z = _validation.check_activation_backward(
        dA, cache, "relu", reference.ACTIVATIONS)
    return _first_layer_backward_raw(dA, ((A_prev, W, b), Z))


def _first_layer_backward_numba(dA, cache):
    # The fused kernel as the training loop runs it on the first layer.
    dA, A_prev, W, b, Z = _validation.check_activation_backward(
        dA, cache, "relu", reference.ACTIVATIONS, finite_A_prev=False)
    _, dW, db = jit._backward_checked(dA, ((A_prev, W, b), Z),
                                      jit.K.ACT_RELU, need_dA_prev=False)
    return dW, db


def _per_backend(make):
    return {name: make(module) for name, module in BACKEND_MODULES.items()}


def _build():
    reg = {}
    for name in ("sigmoid", "relu", "sigmoid_backward", "relu_backward",
                 "linear_forward", "L_model_forward", "compute_cost",
                 "linear_backward", "L_model_backward", "update_parameters"):
        reg[name] = _per_backend(lambda mod, name=name: getattr(mod, name))
    for act in ACTIVATION_NAMES:
        for name in ("linear_activation_forward",
                     "linear_activation_backward"):
            reg["%s[%s]" % (name, act)] = _per_backend(
                lambda mod, name=name, act=act: functools.partial(
                    getattr(mod, name), activation=act))
    reg["first_layer_backward[relu]"] = {
        "numpy": _first_layer_backward_numpy,
        "numba": _first_layer_backward_numba}
    # "numpy-raw": the course's expressions alone, without the argument
    # checks of the public functions: the baseline of the kernel benchmarks
    # ("numpy's W @ A + b then relu").
    reg["linear_forward"]["numpy-raw"] = reference._linear_forward
    reg["linear_backward"]["numpy-raw"] = reference._linear_backward
    for act in ACTIVATION_NAMES:
        reg["linear_activation_forward[%s]" % act]["numpy-raw"] = (
            functools.partial(reference._linear_activation_forward,
                              activation=act))
        reg["linear_activation_backward[%s]" % act]["numpy-raw"] = (
            functools.partial(reference._linear_activation_backward,
                              activation=act))
    reg["first_layer_backward[relu]"]["numpy-raw"] = _first_layer_backward_raw
    reg["predict"] = _per_backend(_quiet_predict)
    for name in ("two_layer_model", "L_layer_model"):
        reg[name] = _per_backend(lambda mod, name=name: getattr(mod, name))
        reg[name]["numba-primal"] = functools.partial(
            getattr(jit, name), solver="primal")
        reg[name]["numba-gram"] = functools.partial(
            getattr(jit, name), solver="gram")
    return reg


#: ``{operation: {backend: callable}}``.
REGISTRY = _build()


# ---------------------------------------------------------------- inputs

def _parameters(rng, dims, dtype, scale):
    # He-like weights, so that activations keep their size through the
    # layers, and small random biases (zeros would hide bias bugs).
    parameters = {}
    for l in range(1, len(dims)):
        W = rng.standard_normal((dims[l], dims[l - 1])) / np.sqrt(dims[l - 1])
        parameters["W%d" % l] = (W * scale).astype(dtype)
        parameters["b%d" % l] = (rng.standard_normal((dims[l], 1))
                                 * 0.1 * scale).astype(dtype)
    return parameters


def _labels(rng, m):
    return (rng.random_sample((1, m)) > 0.5).astype(np.float64)


def make_inputs(operation, shape, dtype="float64", seed=0, scale=1.0):
    """Positional arguments of ``REGISTRY[operation][backend]``.

    Parameters
    ----------
    operation : str
        A key of :data:`REGISTRY`.
    shape : Shape or (dims, m)
        The network; single-layer operations use its first layer, ``(n_1,
        n_0)``.
    dtype : {"float64", "float32"}
        dtype of every float array (labels are float64 0/1 and are converted
        by the functions, as a user's would be).
    seed : int
        Seed of ``np.random.RandomState``; same seed, same inputs.
    scale : float
        Multiplies the inputs and weights (values of pre-activations grow
        with it): probes small values and saturating ones.

    Returns
    -------
    tuple
    """
    if operation not in REGISTRY:
        raise ValueError("unknown operation %r; choose one of %s"
                         % (operation, ", ".join(sorted(REGISTRY))))
    if not isinstance(shape, Shape):
        shape = Shape(*shape)
    dims, m = tuple(shape.dims), shape.m
    dtype = np.dtype(dtype)
    rng = np.random.RandomState(seed)
    n0, n1 = dims[0], dims[1]

    def arr(*s):
        return (rng.standard_normal(s) * scale).astype(dtype)

    base = operation.split("[")[0]
    if base in ("sigmoid", "relu"):
        return (arr(n1, m),)
    if base in ("sigmoid_backward", "relu_backward"):
        return arr(n1, m), arr(n1, m)
    if base in ("linear_forward", "linear_activation_forward"):
        p = _parameters(rng, (n0, n1), dtype, 1.0)
        return arr(n0, m), p["W1"], p["b1"]
    if base == "L_model_forward":
        return arr(n0, m), _parameters(rng, dims, dtype, scale)
    if base == "predict":
        X = arr(n0, m)
        return X, _labels(rng, m), _parameters(rng, dims, dtype, scale)
    if base == "compute_cost":
        AL = reference.sigmoid(arr(1, m))[0]
        return AL, _labels(rng, m)
    if base in ("linear_backward", "linear_activation_backward",
                "first_layer_backward"):
        p = _parameters(rng, (n0, n1), dtype, 1.0)
        cache = (arr(n0, m), p["W1"], p["b1"])
        if base == "linear_backward":
            return arr(n1, m), cache
        return arr(n1, m), (cache, arr(n1, m))
    if base == "L_model_backward":
        X = arr(n0, m)
        parameters = _parameters(rng, dims, dtype, 1.0)
        AL, caches = reference.L_model_forward(X, parameters)
        Y = _labels(rng, m)
        if dims[-1] != 1:
            Y = np.repeat(Y, dims[-1], axis=0)
        # Keep AL away from exactly 0 and 1 (the saturated-and-wrong case
        # is refused, by both backends, and tested elsewhere).
        eps = np.finfo(dtype).eps
        return np.clip(AL, 4 * eps, 1 - 4 * eps), Y, caches
    if base == "update_parameters":
        parameters = _parameters(rng, dims, dtype, scale)
        grads = {"d" + k: arr(*P.shape) for k, P in parameters.items()}
        return parameters, grads, 0.0075
    if base in ("two_layer_model", "L_layer_model"):
        X = (rng.random_sample((n0, m)) * scale).astype(dtype)
        layers = dims if base == "L_layer_model" else dims[:2] + (1,)
        return X, _labels(rng, m), list(layers), 0.0075, shape.iterations
    raise AssertionError(operation)  # pragma: no cover
