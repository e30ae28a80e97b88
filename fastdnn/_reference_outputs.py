"""Output layers by name, each fixing its loss: the reference's table.

:data:`OUTPUTS` maps a name to a namespace of functions on validated arrays
of shape ``(n_L, m)``:

- ``forward(Z) -> AL``: the output activation;
- ``cost(AL, Y1hot) -> cost``: a 0-d array of AL's dtype;
- ``dAL(AL, Y) -> dAL``: the gradient of the cost with respect to AL times
  m (the course's building-block convention);
- ``dZ(AL, Y1hot) -> dZ_L``: the fused output gradient ``AL - Y``, the same
  for every output (each loss is the matching one of its activation), exact
  and finite when the output saturates: the training loops use it;
- ``labels(Y, AL_shape, dtype, name="Y") -> Y1hot``: checks the user's
  labels and returns them as an array of ``AL_shape`` and ``dtype`` (one-hot
  for softmax); bad labels raise a ``ValueError`` naming ``name``;
- ``check_units(n_L, name)``: refuses an output layer width the loss cannot
  use;
- ``predict(AL) -> prediction`` and ``score(prediction, Y1hot) -> str``,
  the line :func:`fastdnn.reference.predict` prints;
- ``probabilities``: whether AL holds probabilities (each in [0, 1]), which
  ``compute_cost`` then requires of the AL it is given (the backward pass
  does not: the course's test case feeds it AL = randn).
"""
import types

import numpy as np

from . import _reference_activations as acts
from ._validation_arrays import (as_array, as_matrix, check_binary,
                                 shown_values)

# ------------------------------------------------------------------ helpers


def _epsilon(dtype):
    # log(0) is -inf and 0 * log(0) is NaN: a probability of exactly 0 or 1
    # (a saturated output) is moved inside (0, 1) by one machine epsilon of
    # its dtype. No value the course prints comes anywhere near that.
    return np.finfo(dtype).eps


def _row_of_m(Y, m, name):
    # m labels as a 1-D vector are taken as the (1, m) row the course uses.
    arr = as_array(Y, name)
    if arr.ndim == 1 and arr.shape[0] == m:
        arr = arr.reshape(1, m)
    return arr


def fused_dZ(AL, Y):
    """``AL - Y``: the gradient of every output's loss with respect to
    ``Z_L``, times m."""
    return AL - Y


# ------------------------------------------------------------------ sigmoid

def _sigmoid_cost(AL, Y):
    m = Y.shape[1]
    eps = _epsilon(AL.dtype)
    AL = np.clip(AL, eps, 1 - eps)
    if AL.shape[0] > 1:
        # Several independent units (multi-label): the cross-entropies
        # summed over the units, over m (scikit-learn's binary log-loss).
        cost = (1. / m) * (-np.sum(Y * np.log(AL))
                           - np.sum((1 - Y) * np.log(1 - AL)))
        return np.array(cost, dtype=AL.dtype)
    cost = (1. / m) * (-np.dot(Y, np.log(AL).T)
                       - np.dot(1 - Y, np.log(1 - AL).T))
    return np.squeeze(cost)


def _sigmoid_dAL(AL, Y):
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


def _sigmoid_labels(Y, AL_shape, dtype, name="Y"):
    m = AL_shape[1]
    Y = as_matrix(_row_of_m(Y, m, name), name, dtype=dtype,
                  shape_hint="(1, m)")
    if Y.shape != (1, m):
        raise ValueError("%s must have shape (1, m) = (1, %d) (or be a 1-D "
                         "vector of %d labels), got %s"
                         % (name, m, m, Y.shape))
    # A NaN label, or a label 2, would silently be trained towards or
    # scored against a value the sigmoid never reaches.
    check_binary(Y, name)
    return Y


def _sigmoid_units(n_L, name):
    if n_L != 1:
        raise ValueError("%s must end with 1 (one sigmoid output unit, "
                         "binary labels), got %d; use output='softmax' for "
                         "C >= 2 classes" % (name, n_L))


def _sigmoid_predict(AL):
    return (AL > 0.5).astype(np.float64)


def _accuracy_line(p, y):
    return "Accuracy: " + str(np.sum(p == y) / y.shape[1])


# ------------------------------------------------------------------ softmax

def _softmax_cost(AL, Y):
    m = Y.shape[1]
    eps = _epsilon(AL.dtype)
    cost = -(1. / m) * np.sum(Y * np.log(np.clip(AL, eps, 1)))
    return np.array(cost, dtype=AL.dtype)


def _softmax_dAL(AL, Y):
    # -Y / AL, a zero label weight taking its limit 0 (as the sigmoid's).
    # Not used by the backward pass, which goes through the fused dZ.
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.divide(Y, AL, out=np.zeros_like(AL), where=Y != 0)


def _softmax_units(n_L, name):
    if n_L < 2:
        raise ValueError("%s must end with C >= 2 (one softmax output unit "
                         "per class), got %d; use output='sigmoid' for one "
                         "unit and binary labels" % (name, n_L))


def _softmax_labels(Y, AL_shape, dtype, name="Y"):
    C, m = AL_shape
    _softmax_units(C, "the output layer (AL's rows)")
    Y = as_matrix(_row_of_m(Y, m, name), name,
                  shape_hint="(1, m) class indices or (C, m) one-hot")
    if Y.shape == (1, m):
        bad = (Y != np.floor(Y)) | (Y < 0) | (Y > C - 1)
        if bad.any():
            raise ValueError(
                "%s must hold class indices 0..%d (integers, one per "
                "example: C = %d output units), got %d other value(s) (%s)"
                % (name, C - 1, C, int(bad.sum()), shown_values(Y[bad])))
        onehot = np.zeros((C, m), dtype=dtype)
        onehot[Y[0].astype(np.intp), np.arange(m)] = 1
        return onehot
    if Y.shape == (C, m):
        ok = (((Y == 0) | (Y == 1)).all(axis=0)
              & (np.sum(Y == 1, axis=0) == 1))
        if not ok.all():
            raise ValueError(
                "%s of shape (C, m) must be one-hot: each column exactly one "
                "1 and C - 1 = %d zeros; %d column(s) are not (the first is "
                "column %d); or pass the class indices as a (1, m) row"
                % (name, C - 1, int((~ok).sum()), int(np.argmin(ok))))
        return Y.astype(dtype)
    raise ValueError(
        "%s must be a (1, m) = (1, %d) row of class indices or a (C, m) = "
        "(%d, %d) one-hot matrix (C = the output units), got shape %s"
        % (name, m, C, m, Y.shape))


def _softmax_predict(AL):
    return np.argmax(AL, axis=0).reshape(1, -1).astype(np.int64)


def _class_accuracy_line(p, Y1hot):
    y = np.argmax(Y1hot, axis=0).reshape(1, -1)
    return "Accuracy: " + str(np.sum(p == y) / y.shape[1])


# ------------------------------------------------------------------ identity

def _identity_cost(AL, Y):
    m = Y.shape[1]
    cost = (1. / (2 * m)) * np.sum((AL - Y) ** 2)
    return np.array(cost, dtype=AL.dtype)


def _identity_labels(Y, AL_shape, dtype, name="Y"):
    n_y, m = AL_shape
    arr = as_array(Y, name)
    if n_y == 1:
        arr = _row_of_m(arr, m, name)
    Y = as_matrix(arr, name, dtype=dtype, shape_hint="(n_y, m)")
    if Y.shape != (n_y, m):
        raise ValueError("%s must have shape (n_y, m) = (%d, %d), one target "
                         "per output unit and example (nothing is "
                         "broadcast), got %s" % (name, n_y, m, Y.shape))
    return Y


def _identity_units(n_L, name):
    pass  # any number >= 1 of real targets


def _identity_predict(AL):
    return AL


def _mse_line(AL, Y):
    return "Mean squared error: " + str(np.mean((AL - Y) ** 2))


#: Output layers by name (the first, ``"sigmoid"``, is the default).
OUTPUTS = {
    "sigmoid": types.SimpleNamespace(
        forward=acts.sigmoid, cost=_sigmoid_cost, dAL=_sigmoid_dAL,
        dZ=fused_dZ, labels=_sigmoid_labels, check_units=_sigmoid_units,
        predict=_sigmoid_predict, score=_accuracy_line, probabilities=True),
    "softmax": types.SimpleNamespace(
        forward=acts.softmax, cost=_softmax_cost, dAL=_softmax_dAL,
        dZ=fused_dZ, labels=_softmax_labels, check_units=_softmax_units,
        predict=_softmax_predict, score=_class_accuracy_line,
        probabilities=True),
    "identity": types.SimpleNamespace(
        forward=acts.identity, cost=_identity_cost, dAL=fused_dZ,
        dZ=fused_dZ, labels=_identity_labels, check_units=_identity_units,
        predict=_identity_predict, score=_mse_line, probabilities=False),
}
