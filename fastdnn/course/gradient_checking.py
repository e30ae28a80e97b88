"""The course notebook "Gradient Checking" (Course 2, Week 1).

The notebook's functions with its names, signatures, return structures and
printed lines, on fastdnn's numba backend
(``fastdnn.course.load("gradient_checking", backend="numpy")`` gives the
same namespace on the numpy one)::

    from fastdnn.course.gradient_checking import *
    cost, cache = forward_propagation_n(X, Y, parameters)
    gradients = backward_propagation_n(X, Y, cache)
    difference = gradient_check_n(parameters, gradients, X, Y, 1e-7, True)

As in the notebook:

- ``forward_propagation(x, theta)`` is ``J = theta * x``,
  ``backward_propagation(x, theta)`` its derivative ``x``, and
  ``gradient_check(x, theta)`` compares them by central differences.
- ``forward_propagation_n(X, Y, parameters)`` is LINEAR -> RELU -> LINEAR
  -> RELU -> LINEAR -> SIGMOID with the cross-entropy cost, returning
  ``(cost, cache)`` with the flat ``cache = (Z1, A1, W1, b1, Z2, A2, W2,
  b2, Z3, A3, W3, b3)``; ``backward_propagation_n(X, Y, cache)`` returns
  the notebook's ``gradients`` dict (``dZ3, dW3, db3, dA2, dZ2, dW2, db2,
  dA1, dZ1, dW1, db1``).
- ``gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7,
  print_msg=False)`` returns ``||grad - gradapprox|| / (||grad|| +
  ||gradapprox||)`` and, when asked, prints "There is a mistake in the
  backward propagation! difference = ..." above 2e-7, else "Your backward
  propagation works perfectly fine! difference = ...".
- ``dictionary_to_vector``, ``vector_to_dictionary(theta)`` (the
  notebook's shapes: W1 (5, 4), b1 (5, 1), W2 (3, 5), b2 (3, 1), W3 (1, 3),
  b3 (1, 1)) and ``gradients_to_vector``, the helpers it imports.

Where it differs:

- ``backward_propagation_n`` is correct: the notebook's version has two
  planted mistakes for its gradient check to find.
- The products, activations and cost run on the backend's functions
  (``L_model_forward``, ``compute_cost``, ``linear_backward``,
  ``relu_backward``), so the cost clips the output to ``[eps, 1 - eps]``
  (the same number unless the output is exactly 0 or 1), and bad input
  raises fastdnn's errors. They work for any number of layers (the flat
  cache holds ``Zl, Al, Wl, bl`` per layer), as do ``gradient_check_n``
  (:func:`fastdnn.gradcheck.gradient_check_n` with this backend computing
  the costs) and the two roll functions.
- The printed verdicts have no terminal colour codes.
"""
import numbers

import numpy as np

from .. import _validation as V
from .. import gradcheck as _gc
from . import _adapters

#: The notebook's title.
NOTEBOOK = "Gradient Checking"

#: The notebook's network, ``[n_x, n_1, n_2, n_y]``: vector_to_dictionary's
#: fixed shapes.
LAYER_DIMS = (4, 5, 3, 1)

#: The functions built per backend by ``_namespace``.
_BOUND = ["forward_propagation_n", "backward_propagation_n",
          "gradient_check_n"]

__all__ = ["forward_propagation", "backward_propagation", "gradient_check",
           "dictionary_to_vector", "vector_to_dictionary",
           "gradients_to_vector"] + _BOUND


def _real(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value,
                                                             numbers.Real):
        raise TypeError("%s must be a real number, got %r (%s)"
                        % (name, value, type(value).__name__))
    return value


def forward_propagation(x, theta):
    """The notebook's one-dimensional "network" ``J(theta) = theta * x``.

    Parameters
    ----------
    x : real number
        The input.
    theta : real number
        The parameter.

    Returns
    -------
    J : real number
        ``theta * x``.
    """
    return _real(theta, "theta") * _real(x, "x")


def backward_propagation(x, theta):
    """The derivative of :func:`forward_propagation` with respect to theta.

    Parameters
    ----------
    x, theta : real numbers

    Returns
    -------
    dtheta : real number
        ``x``.
    """
    _real(theta, "theta")
    return _real(x, "x")


def gradient_check(x, theta, epsilon=1e-7, print_msg=False):
    """Check :func:`backward_propagation` against central differences.

    ``gradapprox = (J(theta + epsilon) - J(theta - epsilon)) / (2 *
    epsilon)`` from :func:`forward_propagation`, compared with ``grad =
    backward_propagation(x, theta)`` by ``|grad - gradapprox| / (|grad| +
    |gradapprox|)``.

    Parameters
    ----------
    x, theta : real numbers
    epsilon : float > 0
    print_msg : bool
        Print the notebook's verdict (threshold 2e-7).

    Returns
    -------
    difference : numpy.float64
        0 when both derivatives are 0.
    """
    _real(x, "x")
    _real(theta, "theta")
    epsilon = V.check_positive_real(epsilon, "epsilon")
    _gc._check_print_msg(print_msg)
    J_plus = forward_propagation(x, theta + epsilon)
    J_minus = forward_propagation(x, theta - epsilon)
    gradapprox = (J_plus - J_minus) / (2 * epsilon)
    grad = backward_propagation(x, theta)
    difference = _gc._relative_difference(np.float64(grad),
                                          np.float64(gradapprox))
    if print_msg:
        _gc.report(difference)
    return difference


def dictionary_to_vector(parameters):
    """Roll ``W1, b1, W2, b2, W3, b3`` into one column ``theta`` (n, 1).

    Returns ``(theta, keys)``, ``keys`` the parameter name of each
    element; any number of layers (see
    :func:`fastdnn.gradcheck.dictionary_to_vector`).
    """
    return _gc.dictionary_to_vector(parameters)


def vector_to_dictionary(theta):
    """Unroll ``theta`` (47, 1) into the notebook's parameters.

    Returns
    -------
    parameters : dict
        ``W1`` (5, 4), ``b1`` (5, 1), ``W2`` (3, 5), ``b2`` (3, 1), ``W3``
        (1, 3), ``b3`` (1, 1). For other shapes use
        :func:`fastdnn.gradcheck.vector_to_dictionary`.
    """
    return _gc.vector_to_dictionary(theta, LAYER_DIMS)


def gradients_to_vector(gradients):
    """Roll ``dW1, db1, dW2, db2, dW3, db3`` into one column (other
    entries of ``gradients`` are ignored); any number of layers (see
    :func:`fastdnn.gradcheck.gradients_to_vector`)."""
    return _gc.gradients_to_vector(gradients)


def _flat_cache(cache):
    if not isinstance(cache, (tuple, list)) or not cache or len(cache) % 4:
        raise TypeError(
            "cache must be forward_propagation_n's tuple (Z1, A1, W1, b1, "
            "Z2, A2, W2, b2, ..., ZL, AL, WL, bL): 4 entries per layer, got "
            "%s" % (("a %s of %d entries" % (type(cache).__name__,
                                             len(cache)))
                    if isinstance(cache, (tuple, list))
                    else type(cache).__name__))
    return [tuple(cache[i:i + 4]) for i in range(0, len(cache), 4)]


def _sigmoid_row(AL, what):
    # One sigmoid unit: labels of another width would be broadcast.
    if AL.shape[0] != 1:
        raise ValueError("the network must end with one sigmoid unit, (1, m); "
                         "%s has shape %s" % (what, AL.shape))


def _namespace(B, backend):
    """The notebook's names bound to backend module ``B`` (named
    ``backend``)."""

    def forward_propagation_n(X, Y, parameters):
        """The notebook's network and its cost.

        LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID (any number
        of layers: RELU on every hidden one), then the cross-entropy cost.

        Parameters
        ----------
        X : ndarray of shape (n_x, m)
        Y : array_like
            m labels 0/1, (1, m) or (m,).
        parameters : dict
            ``W1, b1, W2, b2, W3, b3``.

        Returns
        -------
        cost : numpy.float64
        cache : tuple
            ``(Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)``.
        """
        AL, caches = B.L_model_forward(X, parameters)
        _sigmoid_row(AL, "A%d (W%d's rows)" % (len(caches), len(caches)))
        # The notebook's labels are a vector np.array([1, 1, 0]):
        # compute_cost takes the (1, m) row.
        Y = V.check_output_labels(Y, AL.shape, AL.dtype, "sigmoid")
        cost = B.compute_cost(AL, Y)
        cache = ()
        for l, ((_, W, b), Z) in enumerate(caches):
            A = caches[l + 1][0][0] if l + 1 < len(caches) else AL
            cache += (Z, A, W, b)
        return cost[()], cache

    def backward_propagation_n(X, Y, cache):
        """The gradients of :func:`forward_propagation_n`'s cost.

        ``dZ3 = A3 - Y``, then each layer's linear backward pass and the
        ReLUs' (``dZ = dA`` where ``A > 0``, else 0) down to ``dW1``.

        Parameters
        ----------
        X : ndarray of shape (n_x, m)
        Y : array_like
            The labels given to :func:`forward_propagation_n`.
        cache : tuple
            Its ``(Z1, A1, W1, b1, ..., Z3, A3, W3, b3)``.

        Returns
        -------
        gradients : dict
            ``dZ3, dW3, db3, dA2, dZ2, dW2, db2, dA1, dZ1, dW1, db1``, in
            that order.
        """
        layers = _flat_cache(cache)
        L = len(layers)
        AL = V.as_matrix(layers[-1][1], "cache's A%d" % L,
                         shape_hint="(1, m)")
        _sigmoid_row(AL, "the cache's A%d" % L)
        Y = V.check_output_labels(Y, AL.shape, AL.dtype, "sigmoid")
        dZ = AL - Y
        gradients = {}
        for l in range(L, 0, -1):
            _, _, W, b = layers[l - 1]
            A_prev = layers[l - 2][1] if l > 1 else X
            gradients["dZ%d" % l] = dZ
            dA_prev, gradients["dW%d" % l], gradients["db%d" % l] = (
                B.linear_backward(dZ, (A_prev, W, b)))
            if l > 1:
                gradients["dA%d" % (l - 1)] = dA_prev
                dZ = B.relu_backward(dA_prev, layers[l - 2][0])
        # The notebook's key order: dZ3, dW3, db3, dA2, dZ2, ...
        order = []
        for l in range(L, 0, -1):
            order += ["dZ%d" % l, "dW%d" % l, "db%d" % l]
            if l > 1:
                order.append("dA%d" % (l - 1))
        return {key: gradients[key] for key in order}

    def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7,
                         print_msg=False):
        """Check the notebook network's gradients by central differences.

        For every parameter, ``gradapprox_i = (J(theta + epsilon e_i) -
        J(theta - epsilon e_i)) / (2 epsilon)`` with J the cost of
        :func:`forward_propagation_n`, compared with ``grad =
        gradients_to_vector(gradients)`` by ``||grad - gradapprox|| /
        (||grad|| + ||gradapprox||)``.

        Parameters
        ----------
        parameters : dict
            ``W1, b1, W2, b2, W3, b3``.
        gradients : dict
            At least ``dW1, db1, dW2, db2, dW3, db3``.
        X : ndarray of shape (n_x, m)
        Y : array_like
            m labels 0/1.
        epsilon : float > 0
        print_msg : bool
            Print "There is a mistake in the backward propagation!
            difference = ..." above 2e-7, else "Your backward propagation
            works perfectly fine! difference = ...".

        Returns
        -------
        difference : numpy.float64
        """
        return _gc.gradient_check_n(parameters, gradients, X, Y, epsilon,
                                    print_msg, backend=backend)

    return {name: _adapters._named(fn, name, __name__)
            for name, fn in (("forward_propagation_n", forward_propagation_n),
                             ("backward_propagation_n",
                              backward_propagation_n),
                             ("gradient_check_n", gradient_check_n))}


def _bind(backend):
    import fastdnn
    names = {name: globals()[name] for name in __all__
             if name not in _BOUND}
    names.update(_namespace(fastdnn.get_backend(backend), backend))
    return names


#: The backend this module's functions run on; other backends:
#: :func:`fastdnn.course.load`.
BACKEND = "numba"
globals().update(_bind(BACKEND))
