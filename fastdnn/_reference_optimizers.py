"""The reference's optimizers: a table of (init_state, update) pairs and
the course's named building blocks ("Optimization Methods", Course 2 Week
2), in plain numpy.

Every optimizer keeps its state per parameter, under the gradients' keys
(``dW1, db1, ...``), as the course's ``initialize_velocity`` and
``initialize_adam`` do:

- ``"gd"``: ``P -= lr * dP`` (no state);
- ``"momentum"``: ``v = beta * v + (1 - beta) * dP``; ``P -= lr * v``;
- ``"nesterov"``: the same ``v``; ``P -= lr * (beta * v + (1 - beta) *
  dP)`` with the new ``v`` (the gradient looked ahead along the velocity);
- ``"rmsprop"``: ``s = beta2 * s + (1 - beta2) * dP**2``; ``P -= lr * dP
  / (sqrt(s) + epsilon)``;
- ``"adam"``: ``v`` as momentum with ``beta1``, ``s`` as RMSprop; ``v_c =
  v / (1 - beta1**t)``, ``s_c = s / (1 - beta2**t)``; ``P -= lr * v_c /
  (sqrt(s_c) + epsilon)``.

``t`` counts the updates from 1. The formulas keep the course's operation
order, so that the course's published values come out to the last digit.
Nothing here mutates its inputs: every update returns new dicts.
"""
import collections

import numpy as np

from . import _validation as V
from ._toolbox_options import OPTIMIZER_NAMES, _real_in
from ._validation_scalars import check_int, check_positive_real

#: An optimizer: ``init_state(parameters) -> state`` (a dict of dicts of
#: zero arrays, e.g. ``{"v": {...}, "s": {...}}``) and ``update(parameters,
#: grads, state, t, learning_rate, toolbox) -> (parameters, state)``, both
#: new. ``toolbox`` is a :class:`fastdnn._toolbox_options.Toolbox` (only its
#: beta, beta1, beta2 and epsilon are read).
Optimizer = collections.namedtuple("Optimizer", ["init_state", "update"])


def _layers(parameters):
    return len(parameters) // 2


def _zeros(parameters):
    # One zero array per parameter, under the gradient's key.
    zeros = {}
    for l in range(1, _layers(parameters) + 1):
        for key in ("W", "b"):
            zeros["d%s%d" % (key, l)] = np.zeros_like(
                parameters[key + str(l)])
    return zeros


def _pairs(parameters):
    # (parameter key, gradient/state key) in the course's order.
    for l in range(1, _layers(parameters) + 1):
        for key in ("W", "b"):
            yield key + str(l), "d%s%d" % (key, l)


# ------------------------------------------------------- the update rules

def _gd(parameters, grads, learning_rate):
    return {p: parameters[p] - learning_rate * grads[g]
            for p, g in _pairs(parameters)}


def _momentum(parameters, grads, velocity, beta, learning_rate,
              nesterov=False):
    new, new_v = {}, {}
    for p, g in _pairs(parameters):
        vel = beta * velocity[g] + (1 - beta) * grads[g]
        new_v[g] = vel
        if nesterov:
            step = beta * vel + (1 - beta) * grads[g]
        else:
            step = vel
        new[p] = parameters[p] - learning_rate * step
    return new, new_v


def _rmsprop(parameters, grads, squares, beta2, learning_rate, epsilon):
    new, new_s = {}, {}
    for p, g in _pairs(parameters):
        sq = beta2 * squares[g] + (1 - beta2) * np.power(grads[g], 2)
        new_s[g] = sq
        new[p] = parameters[p] - learning_rate * grads[g] / (np.sqrt(sq)
                                                             + epsilon)
    return new, new_s


def _adam(parameters, grads, velocity, squares, t, learning_rate, beta1,
          beta2, epsilon):
    new, new_v, new_s, v_corrected, s_corrected = {}, {}, {}, {}, {}
    for p, g in _pairs(parameters):
        new_v[g] = beta1 * velocity[g] + (1 - beta1) * grads[g]
        v_corrected[g] = new_v[g] / (1 - beta1 ** t)
        new_s[g] = beta2 * squares[g] + (1 - beta2) * np.power(grads[g], 2)
        s_corrected[g] = new_s[g] / (1 - beta2 ** t)
        new[p] = parameters[p] - learning_rate * v_corrected[g] / (
            np.sqrt(s_corrected[g]) + epsilon)
    return new, new_v, new_s, v_corrected, s_corrected


# ------------------------------------------------------------ the table

def _no_state(parameters):
    return {}


def _velocity_state(parameters):
    return {"v": _zeros(parameters)}


def _squares_state(parameters):
    return {"s": _zeros(parameters)}


def _adam_state(parameters):
    return {"v": _zeros(parameters), "s": _zeros(parameters)}


def _update_gd(parameters, grads, state, t, learning_rate, toolbox):
    return _gd(parameters, grads, learning_rate), state


def _update_momentum(parameters, grads, state, t, learning_rate, toolbox):
    new, vel = _momentum(parameters, grads, state["v"], toolbox.beta,
                         learning_rate)
    return new, {"v": vel}


def _update_nesterov(parameters, grads, state, t, learning_rate, toolbox):
    new, vel = _momentum(parameters, grads, state["v"], toolbox.beta,
                         learning_rate, nesterov=True)
    return new, {"v": vel}


def _update_rmsprop(parameters, grads, state, t, learning_rate, toolbox):
    new, sq = _rmsprop(parameters, grads, state["s"], toolbox.beta2,
                       learning_rate, toolbox.epsilon)
    return new, {"s": sq}


def _update_adam(parameters, grads, state, t, learning_rate, toolbox):
    new, vel, sq, _, _ = _adam(parameters, grads, state["v"], state["s"], t,
                               learning_rate, toolbox.beta1, toolbox.beta2,
                               toolbox.epsilon)
    return new, {"v": vel, "s": sq}


# scikit-learn's MLP rules (its SGDOptimizer and AdamOptimizer): the
# velocity holds the step itself, lr included; Adam folds its bias
# corrections into the rate and adds epsilon to the uncorrected sqrt(s).
# A Python float rate keeps float32 parameters float32.

def _update_sgd_sklearn(parameters, grads, state, t, learning_rate, toolbox,
                        nesterov=False):
    new, vel = {}, {}
    mu = toolbox.beta
    for p, g in _pairs(parameters):
        vel[g] = mu * state["v"][g] - learning_rate * grads[g]
        step = mu * vel[g] - learning_rate * grads[g] if nesterov else vel[g]
        new[p] = parameters[p] + step
    return new, {"v": vel}


def _update_nesterov_sklearn(parameters, grads, state, t, learning_rate,
                             toolbox):
    return _update_sgd_sklearn(parameters, grads, state, t, learning_rate,
                               toolbox, nesterov=True)


def _update_adam_sklearn(parameters, grads, state, t, learning_rate,
                         toolbox):
    b1, b2 = toolbox.beta1, toolbox.beta2
    rate = float(learning_rate * np.sqrt(1 - b2 ** t) / (1 - b1 ** t))
    new, vel, sq = {}, {}, {}
    for p, g in _pairs(parameters):
        vel[g] = b1 * state["v"][g] + (1 - b1) * grads[g]
        sq[g] = b2 * state["s"][g] + (1 - b2) * (grads[g] ** 2)
        denominator = np.sqrt(sq[g]) + toolbox.epsilon
        new[p] = parameters[p] + (-rate * vel[g] / denominator)
    return new, {"v": vel, "s": sq}


#: Every optimizer of :data:`fastdnn._toolbox_options.OPTIMIZER_NAMES`.
OPTIMIZERS = {
    "gd": Optimizer(_no_state, _update_gd),
    "momentum": Optimizer(_velocity_state, _update_momentum),
    "nesterov": Optimizer(_velocity_state, _update_nesterov),
    "rmsprop": Optimizer(_squares_state, _update_rmsprop),
    "adam": Optimizer(_adam_state, _update_adam),
    "sgd_sklearn": Optimizer(_velocity_state, _update_sgd_sklearn),
    "nesterov_sklearn": Optimizer(_velocity_state, _update_nesterov_sklearn),
    "adam_sklearn": Optimizer(_adam_state, _update_adam_sklearn),
}
assert tuple(OPTIMIZERS) == OPTIMIZER_NAMES


# ------------------------------------------------------------ validation

def _check_state(parameters, state, name):
    """``state`` (v or s) as a dict ``{"dW1", "db1", ...}`` of arrays
    shaped like the (checked) parameters, in their dtype."""
    if not isinstance(state, dict):
        raise TypeError("%s must be a dict {'dW1': ..., 'db1': ...}, got %s"
                        % (name, type(state).__name__))
    L = _layers(parameters)
    checked = {}
    for p, g in _pairs(parameters):
        if g not in state:
            raise ValueError("%s has no %r; it must hold dW1, db1, ..., "
                             "dW%d, db%d" % (name, g, L, L))
        P = parameters[p]
        arr = V.as_matrix(state[g], "%s[%r]" % (name, g), dtype=P.dtype,
                          shape_hint=str(P.shape))
        V.check_same_shape(arr, "%s[%r]" % (name, g), P, p)
        checked[g] = arr
    return checked


def _check_parameters(parameters):
    L, Ws, bs = V.check_parameters(parameters)
    new = {}
    for l in range(1, L + 1):
        new["W" + str(l)] = Ws[l - 1]
        new["b" + str(l)] = bs[l - 1]
    return new


def _beta(value, name):
    return _real_in(value, name, 0.0, 1.0, False, True)


# ------------------------------------------------ the course's functions

def update_parameters_with_gd(parameters, grads, learning_rate):
    """One step of gradient descent, ``W_l <- W_l - learning_rate * dW_l``
    (and likewise ``b_l``).

    Parameters
    ----------
    parameters : dict
        ``W1, b1, ..., WL, bL``.
    grads : dict
        At least ``dW1, db1, ..., dWL, dbL``, shaped like the parameters.
    learning_rate : float > 0

    Returns
    -------
    parameters : dict
        New arrays; the inputs are left unchanged.
    """
    new, checked, learning_rate = V.check_update_input(parameters, grads,
                                                       learning_rate)
    return _gd(new, checked, learning_rate)


def initialize_velocity(parameters):
    """The momentum's velocity: zeros shaped like the parameters.

    Parameters
    ----------
    parameters : dict
        ``W1, b1, ..., WL, bL``.

    Returns
    -------
    v : dict
        ``v["dW" + str(l)]`` and ``v["db" + str(l)]``, zero arrays of the
        parameters' shapes and dtype.
    """
    return _zeros(_check_parameters(parameters))


def initialize_rmsprop(parameters):
    """RMSprop's running average of squared gradients: zeros shaped like
    the parameters, under the keys ``dW1, db1, ...`` (as
    :func:`initialize_velocity`)."""
    return _zeros(_check_parameters(parameters))


def initialize_adam(parameters):
    """Adam's two running averages: zeros shaped like the parameters.

    Parameters
    ----------
    parameters : dict
        ``W1, b1, ..., WL, bL``.

    Returns
    -------
    v : dict
        The first moment (gradients), keys ``dW1, db1, ...``.
    s : dict
        The second moment (squared gradients), the same keys.
    """
    parameters = _check_parameters(parameters)
    return _zeros(parameters), _zeros(parameters)


def _momentum_input(parameters, grads, velocity, beta, learning_rate):
    new, checked, learning_rate = V.check_update_input(parameters, grads,
                                                       learning_rate)
    velocity = _check_state(new, velocity, "v")
    return new, checked, velocity, _beta(beta, "beta"), learning_rate


def update_parameters_with_momentum(parameters, grads, v, beta,
                                    learning_rate):
    """One step of gradient descent with momentum.

    ``v_dP = beta * v_dP + (1 - beta) * dP``, then ``P -= learning_rate *
    v_dP``, for every ``P`` of ``W1, b1, ..., WL, bL``.

    Parameters
    ----------
    parameters : dict
        ``W1, b1, ..., WL, bL``.
    grads : dict
        ``dW1, db1, ...``, shaped like the parameters.
    v : dict
        The velocity, keys ``dW1, db1, ...`` (see
        :func:`initialize_velocity`).
    beta : float in [0, 1)
    learning_rate : float > 0

    Returns
    -------
    parameters : dict
    v : dict
        Both new; the inputs are left unchanged.
    """
    return _momentum(*_momentum_input(parameters, grads, v, beta,
                                      learning_rate))


def update_parameters_with_nesterov(parameters, grads, v, beta,
                                    learning_rate):
    """One step of Nesterov momentum.

    ``v_dP = beta * v_dP + (1 - beta) * dP`` as
    :func:`update_parameters_with_momentum`, then ``P -= learning_rate *
    (beta * v_dP + (1 - beta) * dP)``: the step the velocity would take
    next, with the current gradient. Parameters and returns as
    :func:`update_parameters_with_momentum`.
    """
    return _momentum(*_momentum_input(parameters, grads, v, beta,
                                      learning_rate), nesterov=True)


def update_parameters_with_rmsprop(parameters, grads, s, beta2,
                                   learning_rate, epsilon=1e-8):
    """One step of RMSprop.

    ``s_dP = beta2 * s_dP + (1 - beta2) * dP**2``, then ``P -=
    learning_rate * dP / (sqrt(s_dP) + epsilon)``.

    Parameters
    ----------
    parameters, grads : dict
        As :func:`update_parameters_with_momentum`.
    s : dict
        The running average of squared gradients, keys ``dW1, db1, ...``
        (see :func:`initialize_rmsprop`).
    beta2 : float in [0, 1)
    learning_rate : float > 0
    epsilon : float > 0

    Returns
    -------
    parameters : dict
    s : dict
        Both new; the inputs are left unchanged.
    """
    new, checked, learning_rate = V.check_update_input(parameters, grads,
                                                       learning_rate)
    s = _check_state(new, s, "s")
    beta2 = _beta(beta2, "beta2")
    epsilon = check_positive_real(epsilon, "epsilon")
    return _rmsprop(new, checked, s, beta2, learning_rate, epsilon)


def update_parameters_with_adam(parameters, grads, v, s, t,
                                learning_rate=0.01, beta1=0.9, beta2=0.999,
                                epsilon=1e-8):
    """One step of Adam.

    For every ``P`` of ``W1, b1, ..., WL, bL``: ``v_dP = beta1 * v_dP + (1
    - beta1) * dP``, ``v_corrected = v_dP / (1 - beta1**t)``, ``s_dP =
    beta2 * s_dP + (1 - beta2) * dP**2``, ``s_corrected = s_dP / (1 -
    beta2**t)``, then ``P -= learning_rate * v_corrected / (sqrt(
    s_corrected) + epsilon)``.

    Parameters
    ----------
    parameters, grads : dict
        As :func:`update_parameters_with_momentum`.
    v, s : dict
        Adam's moments, keys ``dW1, db1, ...`` (see
        :func:`initialize_adam`).
    t : int >= 1
        The number of Adam steps taken, this one included (the bias
        correction's exponent).
    learning_rate : float > 0
    beta1, beta2 : float in [0, 1)
    epsilon : float > 0

    Returns
    -------
    parameters, v, s : dict
        The new parameters and moments; the inputs are left unchanged.
    v_corrected, s_corrected : dict
        The bias-corrected moments of this step.
    """
    new, checked, learning_rate = V.check_update_input(parameters, grads,
                                                       learning_rate)
    velocity = _check_state(new, v, "v")
    squares = _check_state(new, s, "s")
    t = check_int(t, "t", 1)
    beta1 = _beta(beta1, "beta1")
    beta2 = _beta(beta2, "beta2")
    epsilon = check_positive_real(epsilon, "epsilon")
    return _adam(new, checked, velocity, squares, t, learning_rate, beta1,
                 beta2, epsilon)
