"""Every operation of every backend, with an input maker: the one table the
equivalence tests and the benchmarks run from.

``REGISTRY[operation][backend]`` is a callable; ``make_inputs(operation,
shape, dtype, seed)`` returns the positional arguments to call it with, the
same for every backend::

    from fastdnn.registry import CAT, REGISTRY, make_inputs

    args = make_inputs("linear_activation_forward[tanh]", CAT, "float32", 0)
    A, cache = REGISTRY["linear_activation_forward[tanh]"]["numba"](*args)

A :class:`Shape` describes a whole network, ``dims = (n_0, n_1, ..., n_L)``
and ``m`` examples; single-layer operations use its first layer (W of shape
(n_1, n_0), A_prev of shape (n_0, m)), so :data:`CAT` gives the cat-image
shapes (W 20 x 12288, A_prev 12288 x 209) everywhere. The training
operations run ``shape.iterations`` iterations. A softmax output needs two
classes at least: a shape whose output layer has one unit gets
:data:`SOFTMAX_CLASSES` for the softmax operations.

The operations are built from the backends' tables (the reference's
``ACTIVATIONS``, ``OUTPUTS`` and ``INITIALIZERS``), so that a new entry
there is a new operation here, and in every test and benchmark that runs
from this table, without edits:

- the element-wise building blocks (``relu``, ``tanh_backward``,
  ``softmax``, ...): every activation or output with a public function in
  both backends;
- ``linear_activation_forward[a]`` for every activation and output ``a``,
  ``linear_activation_backward[a]`` for every activation;
- ``compute_cost[o]`` and ``output_gradient[o]`` for every output ``o``;
- ``L_model_forward[a,o]``, ``L_model_backward[a,o]`` and ``predict[a,o]``
  for every activation x output;
- ``L_layer_model[a,o]`` and ``two_layer_model[a,o]`` for every activation
  x output (with the function's default initializer), and
  ``L_layer_model[relu,sigmoid,i]`` / ``two_layer_model[relu,sigmoid,i]``
  for every other initializer ``i``.

The course's network (relu hidden layers, sigmoid output, the function's
default initializer) keeps the bare name: ``L_model_forward``,
``compute_cost``, ``L_layer_model``... :data:`OPERATIONS` gives each
operation's public function and network.

Two operations are not public functions: ``first_layer_backward[relu]``,
the relu mask + dW + db of a layer whose dA_prev is never used (the first
one), as both training loops run it; and ``output_gradient[o]``, the
training loops' checked ``dZ_L = AL - Y`` (Y one-hot for softmax).
Backends are ``"numpy"`` (:mod:`fastdnn.reference`) and ``"numba"``
(:mod:`fastdnn.jit`, defaults); the training operations also have
``"numba-primal"`` (``solver="primal"``) and ``"numba-gram"``
(``solver="gram"``), and the layer operations ``"numpy-raw"``: the
course's numpy expressions without any argument check, the baseline the
kernels are timed against.
"""
import functools
import inspect
from typing import NamedTuple, Optional

import numpy as np

from . import _validation
from . import jit
from . import reference
from ._reference_activations import ACTIVATIONS
from ._reference_initializers import INITIALIZERS
from ._reference_outputs import OUTPUTS

#: The backends of :data:`REGISTRY` (each operation has at least these).
BACKEND_MODULES = {"numpy": reference, "numba": jit}

#: The tables' names, sorted (hypothesis draws from these).
ACTIVATION_NAMES = tuple(sorted(ACTIVATIONS))
OUTPUT_NAMES = tuple(sorted(OUTPUTS))
INITIALIZER_NAMES = tuple(sorted(INITIALIZERS))

#: The course's network, whose operations keep the bare function name.
DEFAULT_ACTIVATION = "relu"
DEFAULT_OUTPUT = "sigmoid"

#: Output units of an output that refuses a one-unit layer (softmax) on a
#: shape with a one-unit output.
SOFTMAX_CLASSES = 3

TRAINING = ("two_layer_model", "L_layer_model")


class Operation(NamedTuple):
    """What an operation of :data:`REGISTRY` runs: the public function
    ``function`` (or the private operation's name) with these names of the
    tables (``None`` where the function takes none)."""
    function: str
    activation: Optional[str] = None
    output: Optional[str] = None
    initialization: Optional[str] = None


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


# ------------------------------------------------------------ operations

def _quiet_predict(module, **names):
    def predict(X, y, parameters):
        return module.predict(X, y, parameters, print_accuracy=False,
                              **names)
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
        dA, cache, "relu", reference.ACTIVATIONS, finite=False)
    _, dW, db = jit._backward_checked(dA, ((A_prev, W, b), Z),
                                      jit.K.ACT_RELU, need_dA_prev=False)
    return dW, db


def _output_gradient(output, backend):
    # The training loops' dZ_L = AL - Y behind compute_cost's checks (the
    # labels made one-hot for softmax): the reference's table entry, or the
    # numba kernel.
    def output_gradient(AL, Y):
        AL, Y = _validation.check_cost_input(AL, Y, output)
        if backend == "numpy":
            return OUTPUTS[output].dZ(AL, Y)
        AL = jit._c(AL)
        dZ = np.empty_like(AL)
        jit.K.output_dZ_into(AL, jit._c(Y), dZ)
        return dZ
    return output_gradient


def _per_backend(make):
    return {name: make(module) for name, module in BACKEND_MODULES.items()}


def _name(function, *names):
    return "%s[%s]" % (function, ",".join(names)) if names else function


def _network_name(function, activation, output, initialization=None):
    # The course's network keeps the bare name.
    names = (activation, output) + ((initialization,) if initialization
                                    else ())
    if names == (DEFAULT_ACTIVATION, DEFAULT_OUTPUT):
        names = ()
    return _name(function, *names)


def _default_initialization(function):
    return inspect.signature(getattr(reference, function)).parameters[
        "initialization"].default


def _elementwise_names():
    # Activations and outputs with a public building block in both backends
    # (identity has none), and their backward passes.
    names = []
    for name in sorted(set(ACTIVATIONS) | set(OUTPUTS)):
        for block in (name, name + "_backward"):
            if all(callable(getattr(mod, block, None))
                   for mod in BACKEND_MODULES.values()):
                names.append(block)
    return names


#: The element-wise building blocks, forward and backward, of the tables'
#: activations and outputs.
ELEMENTWISE = tuple(_elementwise_names())


def _build():
    reg, ops = {}, {}

    def add(op, info, backends):
        reg[op], ops[op] = backends, info

    for name in ELEMENTWISE:
        add(name, Operation(name),
            _per_backend(lambda mod, name=name: getattr(mod, name)))
    for name in ("linear_forward", "linear_backward", "update_parameters"):
        add(name, Operation(name),
            _per_backend(lambda mod, name=name: getattr(mod, name)))
    layer_forward = ACTIVATION_NAMES + tuple(
        o for o in OUTPUT_NAMES if o not in ACTIVATIONS)
    for function, names, raw in (
            ("linear_activation_forward", layer_forward,
             reference._linear_activation_forward),
            ("linear_activation_backward", ACTIVATION_NAMES,
             reference._linear_activation_backward)):
        for act in names:
            backends = _per_backend(
                lambda mod, f=function, act=act: functools.partial(
                    getattr(mod, f), activation=act))
            # "numpy-raw": the course's expressions alone, without the
            # argument checks of the public functions: the baseline of the
            # kernel benchmarks ("numpy's W @ A + b then relu").
            backends["numpy-raw"] = functools.partial(raw, activation=act)
            add(_name(function, act), Operation(function, act), backends)
    add("first_layer_backward[relu]",
        Operation("first_layer_backward", "relu"),
        {"numpy": _first_layer_backward_numpy,
         "numba": _first_layer_backward_numba,
         "numpy-raw": _first_layer_backward_raw})
    reg["linear_forward"]["numpy-raw"] = reference._linear_forward
    reg["linear_backward"]["numpy-raw"] = reference._linear_backward
    for out in OUTPUT_NAMES:
        op = _name("compute_cost", out) if out != DEFAULT_OUTPUT else (
            "compute_cost")
        add(op, Operation("compute_cost", output=out), _per_backend(
            lambda mod, out=out: functools.partial(mod.compute_cost,
                                                   output=out)))
        add(_name("output_gradient", out),
            Operation("output_gradient", output=out),
            {b: _output_gradient(out, b) for b in BACKEND_MODULES})
    for act in ACTIVATION_NAMES:
        for out in OUTPUT_NAMES:
            names = dict(activation=act, output=out)
            for function in ("L_model_forward", "L_model_backward"):
                add(_network_name(function, act, out),
                    Operation(function, act, out), _per_backend(
                        lambda mod, f=function, names=names:
                        functools.partial(getattr(mod, f), **names)))
            add(_network_name("predict", act, out),
                Operation("predict", act, out),
                _per_backend(lambda mod, names=names: _quiet_predict(
                    mod, **names)))
    for function in TRAINING:
        default = _default_initialization(function)
        networks = [(a, o, default) for a in ACTIVATION_NAMES
                    for o in OUTPUT_NAMES]
        networks += [(DEFAULT_ACTIVATION, DEFAULT_OUTPUT, i)
                     for i in INITIALIZER_NAMES if i != default]
        for act, out, init in networks:
            names = dict(activation=act, output=out, initialization=init)
            backends = _per_backend(
                lambda mod, f=function, names=names: functools.partial(
                    getattr(mod, f), **names))
            for solver in ("primal", "gram"):
                backends["numba-" + solver] = functools.partial(
                    getattr(jit, function), solver=solver, **names)
            add(_network_name(function, act, out,
                              init if init != default else None),
                Operation(function, act, out, init), backends)
    return reg, ops


#: ``{operation: {backend: callable}}``.
#: ``{operation: Operation}``: each operation's function and network.
REGISTRY, OPERATIONS = _build()


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


def output_units(output, n):
    """The output layer's width for ``output`` on a shape whose output layer
    has ``n`` units: ``n``, unless the output's table entry refuses that
    width (a one-unit softmax): then :data:`SOFTMAX_CLASSES` classes."""
    try:
        OUTPUTS[output].check_units(n, "layers_dims")
    except ValueError:
        return SOFTMAX_CLASSES
    return n


def make_labels(rng, output, units, m):
    """Valid labels of ``m`` examples for an output layer of ``units`` units.

    Parameters
    ----------
    rng : numpy.random.RandomState
    output : str
        A key of the outputs' table.
    units : int
        The output layer's width (at least 2 for softmax).
    m : int

    Returns
    -------
    Y : ndarray
        sigmoid: 0/1 float64, (1, m) (repeated to ``units`` rows when
        wider); softmax: (1, m) int64 class indices or a (units, m) float64
        one-hot matrix, drawn with even odds so that both forms are tested;
        identity: real float64 targets, (units, m). The functions convert
        them to the training dtype, as a user's labels would be. An output
        whose labels are none of these kinds needs its branch here.
    """
    if output == "softmax":
        classes = rng.randint(units, size=(1, m))
        if rng.randint(2):
            return classes.astype(np.int64)
        return (np.arange(units)[:, None] == classes).astype(np.float64)
    if output == "identity":
        return rng.standard_normal((units, m))
    Y = _labels(rng, m)
    return np.repeat(Y, units, axis=0) if units != 1 else Y


def make_inputs(operation, shape, dtype="float64", seed=0, scale=1.0):
    """Positional arguments of ``REGISTRY[operation][backend]``.

    Parameters
    ----------
    operation : str
        A key of :data:`REGISTRY`.
    shape : Shape or (dims, m)
        The network; single-layer operations use its first layer, ``(n_1,
        n_0)``; a softmax operation widens a one-unit output layer (see
        :func:`output_units`).
    dtype : {"float64", "float32"}
        dtype of every float array (labels are made by :func:`make_labels`
        and are converted by the functions, as a user's would be).
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
    info = OPERATIONS[operation]
    base = info.function
    out = info.output or DEFAULT_OUTPUT
    names = dict(activation=info.activation or DEFAULT_ACTIVATION,
                 output=out)
    m = shape.m
    dims = tuple(shape.dims[:-1]) + (output_units(out, shape.dims[-1]),)
    dtype = np.dtype(dtype)
    rng = np.random.RandomState(seed)
    n0, n1 = dims[0], dims[1]

    def arr(*s):
        return (rng.standard_normal(s) * scale).astype(dtype)

    if base in ELEMENTWISE:
        if base.endswith("_backward"):
            return arr(n1, m), arr(n1, m)
        return (arr(n1, m),)
    if base in ("linear_forward", "linear_activation_forward"):
        p = _parameters(rng, (n0, n1), dtype, 1.0)
        return arr(n0, m), p["W1"], p["b1"]
    if base == "L_model_forward":
        return arr(n0, m), _parameters(rng, dims, dtype, scale)
    if base == "predict":
        X = arr(n0, m)
        return (X, make_labels(rng, out, dims[-1], m),
                _parameters(rng, dims, dtype, scale))
    if base in ("compute_cost", "output_gradient"):
        # A valid AL: the output's own activation of random Z.
        AL = OUTPUTS[out].forward(arr(dims[-1], m))
        return AL, make_labels(rng, out, AL.shape[0], m)
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
        AL, caches = reference.L_model_forward(X, parameters, **names)
        Y = make_labels(rng, out, dims[-1], m)
        if out == "sigmoid":
            # Keep AL away from exactly 0 and 1 (the saturated-and-wrong
            # case is refused, by both backends, and tested elsewhere).
            eps = np.finfo(dtype).eps
            AL = np.clip(AL, 4 * eps, 1 - 4 * eps)
        return AL, Y, caches
    if base == "update_parameters":
        parameters = _parameters(rng, dims, dtype, scale)
        grads = {"d" + k: arr(*P.shape) for k, P in parameters.items()}
        return parameters, grads, 0.0075
    if base in TRAINING:
        X = (rng.random_sample((n0, m)) * scale).astype(dtype)
        layers = dims if base == "L_layer_model" else dims[:2] + dims[-1:]
        return (X, make_labels(rng, out, dims[-1], m), list(layers), 0.0075,
                shape.iterations)
    raise AssertionError(operation)  # pragma: no cover
