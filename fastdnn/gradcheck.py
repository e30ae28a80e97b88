"""Gradient checking for any L-layer network of fastdnn's tables.

The course's "Gradient Checking" notebook checks a backward pass by
comparing its gradients with central differences of the cost,
``(J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)`` for every
parameter ``theta_i``, where ``theta`` is the parameters rolled into one
column (:func:`dictionary_to_vector`). This module does the same for any
number of layers, any hidden activation of
:data:`fastdnn.reference.ACTIVATIONS`, any output of
:data:`fastdnn.reference.OUTPUTS` and the L2 cost term, and adds a
directional check that needs two forward passes per direction instead of
two per parameter::

    from fastdnn import reference as R
    from fastdnn.gradcheck import gradient_check_n

    AL, caches = R.L_model_forward(X, parameters)
    grads = R.L_model_backward(AL, Y, caches)
    difference = gradient_check_n(parameters, grads, X, Y, print_msg=True)

The costs are computed in float64, from the parameters alone: the caller
supplies the analytic gradients to check. The functions live here only:
neither :mod:`fastdnn.reference` nor :mod:`fastdnn.jit` re-exports them
(the course namespace ``fastdnn.course.load("gradient_checking")`` does,
with the notebook's fixed-shape :func:`vector_to_dictionary`).

The printed lines are the notebook's text without its terminal colour
codes.
"""
import numpy as np

from . import _validation as v
from ._reference_core import _compute_cost as _reference_cost
from ._reference_core import _L_model_forward as _reference_forward
from ._reference_initializers import randn, random_state
from ._reference_outputs import OUTPUTS
from ._toolbox_options import check_toolbox

__all__ = ["dictionary_to_vector", "vector_to_dictionary",
           "gradients_to_vector", "gradient_check_n",
           "directional_gradient_check", "THRESHOLD"]

#: A difference above this is reported as a mistake (the notebook's bound).
THRESHOLD = 2e-7

_MISTAKE = "There is a mistake in the backward propagation! difference = "
_FINE = "Your backward propagation works perfectly fine! difference = "


def report(difference):
    """Print the notebook's verdict on ``difference`` (see
    :data:`THRESHOLD`)."""
    print((_MISTAKE if difference > THRESHOLD else _FINE) + str(difference))


# ------------------------------------------------------------ vectors

def _shapes(Ws, bs):
    # [(key, shape)] in the course's order W1, b1, W2, b2, ...
    shapes = []
    for l, (W, b) in enumerate(zip(Ws, bs), start=1):
        shapes += [("W%d" % l, W.shape), ("b%d" % l, b.shape)]
    return shapes


def _roll(arrays, dtype):
    return np.concatenate([np.reshape(a, (-1, 1)) for a in arrays]
                          ).astype(dtype, copy=False)


def _unroll(theta, shapes):
    # Views into theta (C order), so that a change of theta is seen by the
    # dict: the checks perturb one buffer in place.
    parameters, start = {}, 0
    for key, shape in shapes:
        stop = start + shape[0] * shape[1]
        parameters[key] = theta[start:stop].reshape(shape)
        start = stop
    return parameters


def dictionary_to_vector(parameters):
    """Roll ``W1, b1, ..., WL, bL`` into one column, as the course does.

    Parameters
    ----------
    parameters : dict
        ``W1`` .. ``WL`` of shape (n_l, n_{l-1}) and ``b1`` .. ``bL`` of
        shape (n_l, 1), any number of layers L >= 1.

    Returns
    -------
    theta : ndarray of shape (n, 1)
        Each parameter flattened in C (row-major) order, in the order W1,
        b1, W2, b2, ...; float32 if every parameter is float32, else
        float64.
    keys : list of str
        ``theta``'s parameter name per element (``"W1"`` repeated
        ``n_1 * n_0`` times, then ``"b1"`` ...), as the course returns it.

    Raises
    ------
    TypeError, ValueError
        If ``parameters`` is not such a dict of chaining 2-D arrays.
    """
    _, Ws, bs = v.check_parameters(parameters, finite=False)
    shapes = _shapes(Ws, bs)
    arrays = [a for pair in zip(Ws, bs) for a in pair]
    keys = [key for key, shape in shapes for _ in range(shape[0] * shape[1])]
    return _roll(arrays, Ws[0].dtype), keys


def _template_shapes(layer_dims):
    if isinstance(layer_dims, dict):
        _, Ws, bs = v.check_parameters(layer_dims, finite=False)
        return _shapes(Ws, bs)
    dims = v.check_layer_dims(layer_dims)
    return [(key % l, shape) for l in range(1, len(dims))
            for key, shape in (("W%d", (dims[l], dims[l - 1])),
                               ("b%d", (dims[l], 1)))]


def _column(theta, name, n=None):
    arr = v.as_array(theta, name)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    arr = v.as_matrix(arr, name, finite=False, shape_hint="(n, 1)")
    if arr.shape[1] != 1 or (n is not None and arr.shape[0] != n):
        want = "(n, 1)" if n is None else "(%d, 1) (or (%d,))" % (n, n)
        raise ValueError("%s must be a column of shape %s, got %s"
                         % (name, want, arr.shape))
    return arr


def vector_to_dictionary(theta, layer_dims):
    """Unroll a column made by :func:`dictionary_to_vector`.

    The course's ``vector_to_dictionary(theta)`` knows its one network's
    shapes; this one takes them as a second argument, so that it serves
    any network. (``fastdnn.course.load("gradient_checking")`` has the
    course's one-argument version.)

    Parameters
    ----------
    theta : array_like of shape (n, 1) or (n,)
        The parameters rolled in the order W1, b1, W2, b2, ..., each in C
        order.
    layer_dims : sequence of int, or dict
        ``[n_0, n_1, ..., n_L]``, or a parameters dict whose shapes to use
        (its values are not read).

    Returns
    -------
    parameters : dict
        ``W1, b1, ..., WL, bL``: new arrays (copies, not views of
        ``theta``) in theta's float dtype.

    Raises
    ------
    TypeError, ValueError
        For a bad ``layer_dims`` or a ``theta`` whose length is not the
        number of parameters of those layers.
    """
    shapes = _template_shapes(layer_dims)
    n = sum(shape[0] * shape[1] for _, shape in shapes)
    theta = _column(theta, "theta", n)
    return {key: value.copy()
            for key, value in _unroll(theta, shapes).items()}


def _gradient_arrays(gradients):
    # [(key, checked array)] of dW1, db1, ..., dWL, dbL; other keys (dA,
    # dZ) are ignored, as the course's gradients_to_vector does.
    if not isinstance(gradients, dict):
        raise TypeError("gradients must be a dict {'dW1': ..., 'db1': ..., "
                        "...}, got %s" % type(gradients).__name__)
    L = 0
    while "dW%d" % (L + 1) in gradients:
        L += 1
    named = []
    for l in range(1, L + 1):
        named += [("dW%d" % l, "(n_%d, n_%d)" % (l, l - 1)),
                  ("db%d" % l, "(n_%d, 1)" % l)]
    strays = sorted(k for k in gradients if isinstance(k, str)
                    and k[:2] in ("dW", "db") and k[2:].isdigit()
                    and k not in dict(named))
    missing = [k for k, _ in named if k not in gradients]
    if L == 0 or missing or strays:
        raise ValueError(
            "gradients must hold dW1, db1, ..., dWL, dbL (one pair per "
            "layer, numbered from 1); missing %s, unexpected %s"
            % (missing or (["dW1"] if L == 0 else "none"),
               strays or "none"))
    arrays = v.as_matrices([("gradients[%r]" % k, gradients[k], hint)
                            for k, hint in named], finite=False)
    for l in range(1, L + 1):
        dW, db = arrays[2 * l - 2], arrays[2 * l - 1]
        if db.shape != (dW.shape[0], 1):
            raise ValueError("gradients['db%d'] must have shape %s to match "
                             "gradients['dW%d'] %s, got %s"
                             % (l, (dW.shape[0], 1), l, dW.shape, db.shape))
    return [(k, a) for (k, _), a in zip(named, arrays)]


def gradients_to_vector(gradients):
    """Roll ``dW1, db1, ..., dWL, dbL`` into one column, as the course does.

    Parameters
    ----------
    gradients : dict
        At least ``dW1, db1, ..., dWL, dbL`` shaped like the parameters;
        other entries (``dA1``, ``dZ1`` ...) are ignored.

    Returns
    -------
    grad : ndarray of shape (n, 1)
        In the order of :func:`dictionary_to_vector`'s ``theta``.

    Raises
    ------
    TypeError, ValueError
        If the dict lacks a pair, has ``dWl``/``dbl`` beyond the layers
        numbered from 1, or holds arrays of impossible shapes.
    """
    named = _gradient_arrays(gradients)
    return _roll([a for _, a in named], named[0][1].dtype)


# ------------------------------------------------------------ the checks

def _backend_cost(backend):
    # (forward, cost) on validated float64 arrays, of the chosen backend.
    if backend is None:
        backend = "numpy"
    import fastdnn
    v.check_name(backend, "backend", fastdnn.BACKENDS)
    if backend == "numpy":
        return _reference_forward, _reference_cost
    from . import jit
    return jit._L_model_forward, jit._cost


def _check_print_msg(print_msg):
    if not isinstance(print_msg, (bool, np.bool_)):
        raise TypeError("print_msg must be True or False, got %r (%s)"
                        % (print_msg, type(print_msg).__name__))


def _problem(parameters, gradients, X, Y, epsilon, activation, output, lambd,
             backend):
    """Check a check's arguments; returns ``(theta, grad, epsilon, J)``,
    ``J(theta)`` the float64 cost at the rolled parameters ``theta``."""
    L, Ws, bs = v.check_parameters(parameters, dtype=np.float64)
    acts, output = v.check_model_names(activation, output, L)
    dims = [Ws[0].shape[1]] + [W.shape[0] for W in Ws]
    OUTPUTS[output].check_units(dims[-1], "the layer sizes of parameters %r"
                                % dims)
    named = _gradient_arrays(gradients)
    if len(named) != 2 * L:
        raise ValueError("gradients holds %d layer(s) (dW1 .. dW%d) but "
                         "parameters %d" % (len(named) // 2,
                                            len(named) // 2, L))
    for (key, G), P in zip(named, [a for pair in zip(Ws, bs) for a in pair]):
        if G.shape != P.shape:
            raise ValueError("gradients[%r] has shape %s but parameters[%r] "
                             "has shape %s; they must match"
                             % (key, G.shape, key[1:], P.shape))
    grad = _roll([a for _, a in named], np.float64)
    v.check_finite(grad, "the gradients")
    X = v.as_matrix(X, "X", dtype=np.float64, shape_hint="(n_x, m)")
    v.check_X_for_parameters(X, Ws[0])
    Y1 = OUTPUTS[output].labels(Y, (dims[-1], X.shape[1]), np.float64, "Y")
    epsilon = v.check_positive_real(epsilon, "epsilon")
    lambd = check_toolbox(lambd=lambd).lambd
    forward, cost = _backend_cost(backend)
    shapes = _shapes(Ws, bs)
    m = X.shape[1]

    def J(theta):
        params = _unroll(theta, shapes)
        AL, _ = forward(X, params, acts, output)
        value = float(cost(AL, Y1, output))
        if lambd > 0:
            # The course's L2 term, in its order: (1/m) * (lambd/2) * sum.
            total = sum(np.sum(np.square(params["W%d" % l]))
                        for l in range(1, L + 1))
            value += (1. / m) * (lambd / 2) * total
        return value

    theta = _roll([a for pair in zip(Ws, bs) for a in pair], np.float64)
    return theta, grad, epsilon, J


def _relative_difference(a, b):
    # ||a - b|| / (||a|| + ||b||); 0 when both are 0 (they agree).
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    if denominator == 0:
        return np.float64(0.0)
    return np.linalg.norm(a - b) / denominator


def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7,
                     print_msg=False, *, activation="relu", output="sigmoid",
                     lambd=0.0, backend=None):
    """Compare analytic gradients with central differences of the cost.

    For every parameter ``theta_i`` (all of W1, b1, ..., WL, bL rolled by
    :func:`dictionary_to_vector`), ``gradapprox_i = (J(theta + eps e_i) -
    J(theta - eps e_i)) / (2 eps)``; the result is the course's
    ``||grad - gradapprox|| / (||grad|| + ||gradapprox||)``. Two forward
    passes per parameter: for small networks (at the cat network's 246k
    parameters use :func:`directional_gradient_check`).

    Parameters
    ----------
    parameters : dict
        ``W1, b1, ..., WL, bL`` of the network [LINEAR -> activation] x
        (L-1) -> LINEAR -> output; left unchanged.
    gradients : dict
        The gradients to check, ``dW1, db1, ..., dWL, dbL`` shaped like the
        parameters (other entries are ignored): of the cost below with
        respect to each parameter.
    X : ndarray of shape (n_x, m)
    Y : array_like
        Labels as :func:`fastdnn.reference.compute_cost` takes them for
        ``output``.
    epsilon : float
        The step (default the course's 1e-7).
    print_msg : bool
        Print the course's verdict: "There is a mistake in the backward
        propagation! difference = ..." above :data:`THRESHOLD` (2e-7),
        else "Your backward propagation works perfectly fine! difference =
        ...".
    activation : str or sequence of str
        The hidden layers' activation(s), names of ``ACTIVATIONS``.
    output : {"sigmoid", "softmax", "identity"}
        The output layer and its cost.
    lambd : float >= 0
        With ``lambd > 0`` the cost includes the L2 term ``(1/m) *
        (lambd/2) * sum_l ||W_l||^2`` (the gradients must include its
        ``lambd/m * W_l``).
    backend : {None, "numpy", "numba"}
        Which backend's forward pass and cost compute J, in float64; None
        is the numpy reference.

    Returns
    -------
    difference : numpy.float64
        0 when both gradient vectors are 0.

    Raises
    ------
    TypeError, ValueError
        Naming the bad argument, before any cost is computed.
    """
    theta, grad, epsilon, J = _problem(parameters, gradients, X, Y, epsilon,
                                       activation, output, lambd, backend)
    _check_print_msg(print_msg)
    gradapprox = np.zeros_like(theta)
    # One buffer perturbed in place and restored: theta_i + eps is the
    # same float as the course's copy-then-add.
    for i in range(theta.shape[0]):
        original = theta[i, 0]
        theta[i, 0] = original + epsilon
        J_plus = J(theta)
        theta[i, 0] = original - epsilon
        J_minus = J(theta)
        theta[i, 0] = original
        gradapprox[i, 0] = (J_plus - J_minus) / (2 * epsilon)
    difference = _relative_difference(grad, gradapprox)
    if print_msg:
        report(difference)
    return difference


def directional_gradient_check(parameters, gradients, X, Y, n_directions=3,
                               epsilon=1e-6, seed=0, *, activation="relu",
                               output="sigmoid", lambd=0.0, backend=None,
                               print_msg=False):
    """Check gradients along a few random directions of parameter space.

    For each of ``n_directions`` unit directions ``d_k`` (standard normal
    draws over every parameter, normalised), the central difference
    ``a_k = (J(theta + eps d_k) - J(theta - eps d_k)) / (2 eps)`` is the
    directional derivative that ``b_k = grad . d_k`` should equal; the
    result is the course's difference of the two vectors, ``||b - a|| /
    (||b|| + ||a||)``: the per-parameter check of the gradient's projection
    onto the random subspace. Two forward passes per direction whatever
    the number of parameters, so it runs at the cat network's shape
    (12288-20-7-5-1, m = 209, 246k parameters) in well under a second,
    where :func:`gradient_check_n` would need half a million passes.

    The norm over all directions, rather than the worst direction's own
    relative error: a direction that happens to be nearly orthogonal to
    the gradient has a tiny ``b_k``, and its own ratio would be the cost's
    rounding noise. A wrong gradient entry shows once its error is not
    negligible next to ``||grad|| / sqrt(n_directions)``. It does not say
    which parameter is wrong; :func:`gradient_check_n` on a smaller network
    does.

    Parameters
    ----------
    parameters, gradients, X, Y
        As :func:`gradient_check_n`.
    n_directions : int >= 1
    epsilon : float
        The step along each unit direction. The default, 1e-6, keeps the
        cost's rounding (divided by the step) far below ``grad . d`` while
        the step rarely moves a ReLU's input across 0 (a kink, where a
        central difference is wrong).
    seed : int, RandomState or Generator
        Source of the directions (``RandomState(seed).randn``).
    activation, output, lambd, backend
        As :func:`gradient_check_n`.
    print_msg : bool
        Print the verdict as :func:`gradient_check_n` does (same
        :data:`THRESHOLD`).

    Returns
    -------
    difference : numpy.float64

    Raises
    ------
    TypeError, ValueError
        Naming the bad argument, before any cost is computed.
    """
    theta, grad, epsilon, J = _problem(parameters, gradients, X, Y, epsilon,
                                       activation, output, lambd, backend)
    n_directions = v.check_int(n_directions, "n_directions", 1)
    _check_print_msg(print_msg)
    rng = random_state(seed)
    exact = np.zeros(n_directions)
    approx = np.zeros(n_directions)
    for k in range(n_directions):
        d = randn(rng, theta.shape[0], 1)
        d /= np.linalg.norm(d)
        exact[k] = np.dot(grad[:, 0], d[:, 0])
        approx[k] = (J(theta + epsilon * d) - J(theta - epsilon * d)) / (
            2 * epsilon)
    difference = _relative_difference(exact, approx)
    if print_msg:
        report(difference)
    return difference
