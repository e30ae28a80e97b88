"""The jit backend's optimizer building blocks (re-exported by
:mod:`fastdnn.jit`): the course's ``update_parameters_with_gd``,
``initialize_velocity``, ``update_parameters_with_momentum``,
``initialize_adam``, ``update_parameters_with_adam`` and the Nesterov and
RMSprop ones, with :mod:`fastdnn._reference_optimizers`' signatures,
checks, messages and results.

Each parameter's step is one pass of the training loop's fused update
(:func:`fastdnn._toolbox_step_kernels.update_params`: the parameter, its
gradient and the optimizer's state read and written once), on copies, so
that the inputs are left unchanged as in the reference. The formulas and
their operation order are the reference's, without fused multiply-adds:
the results are the reference's bit for bit.
"""
import numpy as np

from . import _numba_config as cfg
from . import _toolbox_step_kernels as SK
from . import _validation as V
from ._reference_optimizers import (_beta, _check_parameters, _check_state,
                                    _pairs, _zeros)
from ._validation_scalars import check_int, check_positive_real

_EMPTY = {np.dtype(np.float32): np.empty(0, np.float32),
          np.dtype(np.float64): np.empty(0, np.float64)}


def _copy(a):
    return np.array(a, order="C", copy=True)


def _fused(optimizer, parameters, grads, v, s, learning_rate, beta=0.9,
           beta1=0.9, beta2=0.999, epsilon=1e-8, t=1):
    # The new parameters and states ({} for a state the optimizer does not
    # keep), one fused kernel pass per parameter.
    opt = SK.OPT_BY_NAME[optimizer]
    new, new_v, new_s = {}, {}, {}
    parallel = cfg.parallel_ok()
    for p, g in _pairs(parameters):
        P = _copy(parameters[p])
        dtype = P.dtype
        Vg = _copy(v[g]) if v is not None else _EMPTY[dtype]
        # None: the update compiled for an optimizer without a second
        # moment holds none of RMSprop's and Adam's code.
        Sg = _copy(s[g]) if s is not None else None
        hp = np.empty(SK.N_CONSTANTS, dtype)
        SK.fill_constants(hp, learning_rate, 0.0, beta, beta1, beta2,
                          epsilon, t)
        partial = np.empty(SK.n_chunks(P.size), np.float64)
        Sflat = Sg.reshape(-1) if Sg is not None else None
        SK.update_params(P.reshape(-1),
                         np.ascontiguousarray(grads[g]).reshape(-1),
                         Vg.reshape(-1), Sflat, opt, hp, partial, parallel)
        new[p] = P
        if v is not None:
            new_v[g] = Vg
        if s is not None:
            new_s[g] = Sg
    return new, new_v, new_s


def update_parameters_with_gd(parameters, grads, learning_rate):
    """One step of gradient descent, ``W_l <- W_l - learning_rate * dW_l``
    (and likewise ``b_l``); as the reference's, on numba kernels.

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
    return _fused("gd", new, checked, None, None, learning_rate)[0]


def initialize_velocity(parameters):
    """The momentum's velocity: zeros shaped like the parameters, under
    the keys ``dW1, db1, ...``."""
    return _zeros(_check_parameters(parameters))


def initialize_rmsprop(parameters):
    """RMSprop's running average of squared gradients: zeros shaped like
    the parameters, under the keys ``dW1, db1, ...``."""
    return _zeros(_check_parameters(parameters))


def initialize_adam(parameters):
    """Adam's two running averages ``(v, s)``: zeros shaped like the
    parameters, under the keys ``dW1, db1, ...``."""
    parameters = _check_parameters(parameters)
    return _zeros(parameters), _zeros(parameters)


def _momentum(optimizer, parameters, grads, v, beta, learning_rate):
    new, checked, learning_rate = V.check_update_input(parameters, grads,
                                                       learning_rate)
    velocity = _check_state(new, v, "v")
    beta = _beta(beta, "beta")
    new, new_v, _ = _fused(optimizer, new, checked, velocity, None,
                           learning_rate, beta=beta)
    return new, new_v


def update_parameters_with_momentum(parameters, grads, v, beta,
                                    learning_rate):
    """One step of gradient descent with momentum: ``v_dP = beta * v_dP +
    (1 - beta) * dP``, ``P -= learning_rate * v_dP``.

    Parameters
    ----------
    parameters, grads : dict
        ``W1, b1, ...`` and ``dW1, db1, ...``, shaped alike.
    v : dict
        The velocity (:func:`initialize_velocity`).
    beta : float in [0, 1)
    learning_rate : float > 0

    Returns
    -------
    parameters, v : dict
        Both new; the inputs are left unchanged.
    """
    return _momentum("momentum", parameters, grads, v, beta, learning_rate)


def update_parameters_with_nesterov(parameters, grads, v, beta,
                                    learning_rate):
    """One step of Nesterov momentum: the velocity of
    :func:`update_parameters_with_momentum`, then ``P -= learning_rate *
    (beta * v_dP + (1 - beta) * dP)``. Parameters and returns as
    :func:`update_parameters_with_momentum`."""
    return _momentum("nesterov", parameters, grads, v, beta, learning_rate)


def update_parameters_with_rmsprop(parameters, grads, s, beta2,
                                   learning_rate, epsilon=1e-8):
    """One step of RMSprop: ``s_dP = beta2 * s_dP + (1 - beta2) * dP**2``,
    ``P -= learning_rate * dP / (sqrt(s_dP) + epsilon)``.

    Returns
    -------
    parameters, s : dict
        Both new; the inputs are left unchanged.
    """
    new, checked, learning_rate = V.check_update_input(parameters, grads,
                                                       learning_rate)
    s = _check_state(new, s, "s")
    beta2 = _beta(beta2, "beta2")
    epsilon = check_positive_real(epsilon, "epsilon")
    new, _, new_s = _fused("rmsprop", new, checked, None, s, learning_rate,
                           beta2=beta2, epsilon=epsilon)
    return new, new_s


def update_parameters_with_adam(parameters, grads, v, s, t,
                                learning_rate=0.01, beta1=0.9, beta2=0.999,
                                epsilon=1e-8):
    """One step of Adam (bias-corrected), as the reference's.

    Parameters
    ----------
    parameters, grads : dict
        ``W1, b1, ...`` and ``dW1, db1, ...``, shaped alike.
    v, s : dict
        Adam's moments (:func:`initialize_adam`).
    t : int >= 1
        The number of Adam steps taken, this one included.
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
    new, new_v, new_s = _fused("adam", new, checked, velocity, squares,
                               learning_rate, beta1=beta1, beta2=beta2,
                               epsilon=epsilon, t=t)
    # The corrected moments, which the fused pass does not store: the
    # reference's divisions (the same Python-float divisors).
    v_corrected = {g: new_v[g] / (1 - beta1 ** t) for g in new_v}
    s_corrected = {g: new_s[g] / (1 - beta2 ** t) for g in new_s}
    return new, new_v, new_s, v_corrected, s_corrected
