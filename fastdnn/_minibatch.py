"""The course's mini-batches and learning-rate decays ("Optimization
Methods", Course 2 Week 2), in plain numpy, shared by both backends.

:func:`random_mini_batches` shuffles with ``RandomState(seed)``, the same
permutation as the course's ``np.random.seed(seed); np.random.permutation(
m)`` without touching numpy's global random state, and cuts it with
:func:`fastdnn._toolbox_options.batch_bounds`, the bounds the training
loops use. :func:`update_lr` and :func:`schedule_lr_decay` are the two
decays the training functions' ``decay=`` takes (any callable of the same
form works).
"""
import math

import numpy as np

from ._toolbox_options import _real_in, batch_bounds
from ._validation_arrays import as_array
from ._validation_scalars import SEED_MAX, check_int, check_positive_real


def _check_xy(X, Y):
    X = as_array(X, "X")
    if X.ndim != 2 or X.size == 0:
        raise ValueError("X must be a non-empty 2-D array of shape (n_x, m),"
                         " got shape %s" % (X.shape,))
    m = X.shape[1]
    Y = as_array(Y, "Y")
    if Y.ndim == 1 and Y.shape[0] == m:
        # The course reshapes its labels to (1, m).
        Y = Y.reshape(1, m)
    if Y.ndim != 2 or Y.shape[1] != m:
        raise ValueError("Y must have shape (n_y, %d) (one column per column "
                         "of X) or be a vector of %d labels, got shape %s"
                         % (m, m, Y.shape))
    return X, Y


def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    """Shuffle the examples and cut them into mini-batches.

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (n_y, m), or a vector of m labels
        (taken as (1, m), as the course's ``Y.reshape((1, m))``).
    mini_batch_size : int >= 1
    seed : int
        The permutation is ``RandomState(seed).permutation(m)``: the
        course's ``np.random.seed(seed); np.random.permutation(m)``;
        numpy's global random state is left alone.

    Returns
    -------
    mini_batches : list of (mini_batch_X, mini_batch_Y)
        ``floor(m / mini_batch_size)`` complete batches, then the
        remaining ``m % mini_batch_size`` examples if any, in the order of
        the permutation; X and Y keep their dtypes.
    """
    X, Y = _check_xy(X, Y)
    mini_batch_size = check_int(mini_batch_size, "mini_batch_size", 1)
    seed = check_int(seed, "seed", 0, SEED_MAX)
    m = X.shape[1]
    permutation = np.random.RandomState(seed).permutation(m)
    shuffled_X = X[:, permutation]
    shuffled_Y = Y[:, permutation]
    return [(shuffled_X[:, start:stop], shuffled_Y[:, start:stop])
            for start, stop in batch_bounds(m, mini_batch_size)]


def _check_decay(learning_rate0, epoch_num, decay_rate):
    learning_rate0 = check_positive_real(learning_rate0, "learning_rate0")
    epoch_num = check_int(epoch_num, "epoch_num", 0)
    decay_rate = _real_in(decay_rate, "decay_rate", 0.0, math.inf, False,
                          True)
    return learning_rate0, epoch_num, decay_rate


def update_lr(learning_rate0, epoch_num, decay_rate):
    """The learning rate decayed every epoch: ``learning_rate0 / (1 +
    decay_rate * epoch_num)``.

    Parameters
    ----------
    learning_rate0 : float > 0
        The initial learning rate.
    epoch_num : int >= 0
    decay_rate : float >= 0

    Returns
    -------
    learning_rate : float
    """
    learning_rate0, epoch_num, decay_rate = _check_decay(
        learning_rate0, epoch_num, decay_rate)
    return learning_rate0 / (1 + decay_rate * epoch_num)


def schedule_lr_decay(learning_rate0, epoch_num, decay_rate,
                      time_interval=1000):
    """The learning rate decayed every ``time_interval`` epochs:
    ``learning_rate0 / (1 + decay_rate * floor(epoch_num /
    time_interval))``.

    Parameters
    ----------
    learning_rate0 : float > 0
    epoch_num : int >= 0
    decay_rate : float >= 0
    time_interval : int >= 1

    Returns
    -------
    learning_rate : float
    """
    learning_rate0, epoch_num, decay_rate = _check_decay(
        learning_rate0, epoch_num, decay_rate)
    time_interval = check_int(time_interval, "time_interval", 1)
    # Integer floor division: exact for every epoch count, where
    # floor(epoch_num / time_interval) in floats could round up.
    return learning_rate0 / (1 + decay_rate * (epoch_num // time_interval))
